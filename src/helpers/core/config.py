"""The experiment configuration: `_config.yml` + a profile + flat overrides -> a frozen Config.

    cfg = load_config("smoke", epochs=2)
    cfg.epochs, cfg.sparsities, cfg.hash

Every value that shapes a result is validated here, once, so that later code can trust
it. Errors are one `ValueError` sentence naming the key, the value, what is allowed and
the file.

Each stage is keyed only by the values that shape it (`cfg.stage_hash(stage)`, see
`STAGE_KEYS`): training, then pruning (training's keys plus the compression values),
then evaluation (pruning's plus the evaluation-only values and
`EVALUATION_VERSION`, defined here). `cfg.hash` is the pruning-stage hash: it names
the store, so changing an evaluation-only value (test_subset, ...) reuses the trained
and compressed models. The profile's name is never part of a hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from helpers.core.datasets import check_data_section

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG_PATH = REPO_ROOT / "_config.yml"

# The values that shape each stage; a stage's key also covers every earlier stage.
# `data` (MNIST in, NotMNIST out) is fixed by the code and cannot be overridden.
EVALUATION_VERSION = 4
"""Bumped whenever helpers.stages.evaluation's numbers change meaning; results of another version
are stale. Kept here, in the bottom layer, because the evaluation stage's hash includes it
(helpers.stages.evaluation re-exports it)."""

STAGE_KEYS = {
    "training": (
        "model",
        "ensemble_size",
        "epochs",
        "optimizer",
        "learning_rate",
        "batch_size",
        "validation_split",
        "seed",
        "train_subset",
        "subset_seed",
    ),
}
STAGE_KEYS["pruning"] = STAGE_KEYS["training"] + (
    "retrain_epochs",
    "sparsities",
    "pruning_frequency",
    "quantization_bits",
    "representative_samples",
)
STAGE_KEYS["evaluation"] = STAGE_KEYS["pruning"] + ("test_subset", "ood_subset", "shift_subset", "bootstrap_samples")
# The frontier's models (clustered, PQAT, 2:4, students) are made from the pruning stage's
# members; its numbers also depend on the evaluation values (helpers.stages.frontier).
STAGE_KEYS["frontier"] = STAGE_KEYS["evaluation"] + ("frontier_sources", "cluster_count", "collab_epochs", "student_width")
FRONTIER_VERSION = 1
"""Bumped whenever helpers.stages.frontier's models or numbers change meaning (in its stage hash)."""
# helpers.data.loaders.MNIST_SIZES["train"] (not imported: config must stay light; a test checks).
MNIST_TRAIN_IMAGES = 60_000
# Config fields that are not `defaults` keys of _config.yml.
_NOT_DEFAULTS = ("profile", "config_path", "model", "data")


@dataclasses.dataclass(frozen=True)
class Config:
    """One validated experiment configuration (see `_config.yml` for each value's source)."""

    profile: str
    config_path: str
    model: dict
    data: dict
    ensemble_size: int
    epochs: int
    retrain_epochs: int
    optimizer: str
    learning_rate: float
    batch_size: int
    validation_split: float
    sparsities: tuple
    quantization_bits: int
    pruning_frequency: int
    representative_samples: int
    seed: int
    train_subset: int | None
    test_subset: int | None
    ood_subset: int | None
    shift_subset: int | None
    subset_seed: int
    bootstrap_samples: int
    frontier_sources: tuple
    cluster_count: int
    collab_epochs: int
    student_width: float

    @property
    def frontier_sparsities(self) -> tuple:
        """The frontier_sources that are among the sparsities (the frontier never prunes anew)."""
        return tuple(s for s in self.frontier_sources if s in self.sparsities)

    @property
    def hash(self) -> str:
        """The pruning-stage hash (names the store): trained and compressed models."""
        return self.stage_hash("pruning")

    def stage_hash(self, stage: str) -> str:
        """sha256 (hex, first 16 chars) of the values that shape `stage` ("training",
        "pruning" or "evaluation"), stable across runs and profile names."""
        return stage_hash_of(self.values(), stage)

    def values(self) -> dict:
        """All fields as a plain, JSON-serializable dict."""
        out = dataclasses.asdict(self)
        out["sparsities"] = list(self.sparsities)
        out["frontier_sources"] = list(self.frontier_sources)
        return out

    def member_seed(self, member: int) -> int:
        """Seed of ensemble member `member` (initialization and shuffling)."""
        return self.seed * 1000 + member


def stage_hash_of(values: dict, stage: str) -> str:
    """`Config.stage_hash` of a plain dict of config values (e.g. a manifest's `config`)."""
    if stage not in STAGE_KEYS:
        raise ValueError(f"Stage {stage!r} is unknown; use one of {', '.join(STAGE_KEYS)}.")
    keyed = {k: values.get(k) for k in STAGE_KEYS[stage]}
    # Normalized as load_config does, so a manifest's values hash like the Config.
    for key in ("learning_rate", "validation_split"):
        if isinstance(keyed[key], (int, float)):
            keyed[key] = float(keyed[key])
    for key in ("sparsities", "frontier_sources"):
        if isinstance(keyed.get(key), (list, tuple)):
            keyed[key] = [float(x) for x in keyed[key]]
    if isinstance(keyed.get("student_width"), (int, float)):
        keyed["student_width"] = float(keyed["student_width"])
    if stage in ("evaluation", "frontier"):
        keyed["evaluation_version"] = EVALUATION_VERSION
    if stage == "frontier":
        keyed["frontier_version"] = FRONTIER_VERSION
    return _digest(keyed)


def _digest(values: dict) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fail(path, key, value, allowed) -> None:
    raise ValueError(
        f"Config value {key}={value!r} is invalid: {allowed} (from {path}; fix it there, in the profile or in the override)."
    )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_int(path, key, value, minimum, nullable=False):
    if value is None and nullable:
        return
    if not _is_int(value) or value < minimum:
        suffix = " or null" if nullable else ""
        _fail(path, key, value, f"it must be an integer >= {minimum}{suffix}")


def _validate(path, v: dict) -> None:
    for key in (
        "ensemble_size",
        "epochs",
        "retrain_epochs",
        "batch_size",
        "pruning_frequency",
        "representative_samples",
        "bootstrap_samples",
        "collab_epochs",
    ):
        _check_int(path, key, v[key], 1)
    _check_int(path, "cluster_count", v["cluster_count"], 2)
    width = v["student_width"]
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width <= 1:
        _fail(path, "student_width", width, "it must be a number in (0, 1]")
    for key in ("train_subset", "test_subset", "ood_subset", "shift_subset"):
        _check_int(path, key, v[key], 1, nullable=True)
    for key in ("seed", "subset_seed"):
        _check_int(path, key, v[key], 0)
    lr = v["learning_rate"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 1:
        _fail(path, "learning_rate", lr, "it must be a number in (0, 1)")
    vs = v["validation_split"]
    if isinstance(vs, bool) or not isinstance(vs, (int, float)) or not 0 <= vs < 1:
        _fail(path, "validation_split", vs, "it must be a number in [0, 1)")
    n_train = v["train_subset"] or MNIST_TRAIN_IMAGES
    if int(n_train * (1.0 - vs)) < 1:  # Keras semantics: the last fraction is held out
        _fail(
            path,
            "validation_split",
            vs,
            f"with {n_train} training images (train_subset={v['train_subset']!r}) it leaves no "
            "image to train on; lower validation_split or raise train_subset",
        )
    if v["optimizer"] != "adam":
        _fail(path, "optimizer", v["optimizer"], "only 'adam' (the paper's optimizer) is implemented")
    if v["quantization_bits"] != 8:
        _fail(path, "quantization_bits", v["quantization_bits"], "only 8-bit quantization is implemented")
    sp = v["sparsities"]
    if not isinstance(sp, (list, tuple)) or len(sp) == 0:
        _fail(path, "sparsities", sp, "it must be a non-empty list of numbers in (0, 1)")
    for s in sp:
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 < s < 1:
            _fail(path, "sparsities", sp, f"every sparsity must be a number in (0, 1), and {s!r} is not")
    if len(set(sp)) != len(sp):
        _fail(path, "sparsities", sp, "sparsities must not repeat")
    fs = v["frontier_sources"]
    if not isinstance(fs, (list, tuple)) or any(
        isinstance(s, bool) or not isinstance(s, (int, float)) or not 0 < s < 1 for s in fs
    ):
        _fail(path, "frontier_sources", fs, "it must be a list of sparsities in (0, 1) (those not in `sparsities` are skipped)")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a mapping with a repeated key (PyYAML keeps the last)."""

    def compose_node(self, parent, index):
        # An alias (*name) can repeat an anchored node exponentially ("billion laughs"):
        # the experiment's config has no use for one, so it is refused before it expands.
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"an alias (*{self.peek_event().anchor}) on line {mark.line + 1}; write the "
                "value out instead (aliases are not allowed here)",
                mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} appears twice (line {seen[key] + 1} and line "
                    f"{key_node.start_mark.line + 1}); keep one of them",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path) -> dict:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"Experiment config file {path} does not exist; run from the repository or pass config_path= pointing at _config.yml."
        ) from None
    except UnicodeDecodeError as e:
        line = Path(path).read_bytes()[: e.start].count(b"\n") + 1
        raise ValueError(
            f"Experiment config file {path} is not UTF-8 text (byte {e.start} on line "
            f"{line} cannot be decoded); save it as UTF-8."
        ) from None
    except OSError as e:
        raise ValueError(f"Experiment config file {path} cannot be read ({e.strerror}).") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as e:
        raise ValueError(f"Experiment config file {path} is not valid: {e.problem}.") from None
    except yaml.YAMLError as e:
        raise ValueError(f"Experiment config file {path} is not valid YAML ({' '.join(str(e).split())}).") from None
    for section in ("model", "data", "defaults", "profiles"):
        if not isinstance(raw, dict) or not isinstance(raw.get(section), dict):
            raise ValueError(
                f"Experiment config file {path} lacks the mapping '{section}:'; restore it from the repository's _config.yml."
            )
    check_data_section(raw["data"], str(path))  # against the dataset registry
    expected = {f.name for f in dataclasses.fields(Config)} - set(_NOT_DEFAULTS)
    missing = sorted(expected - set(raw["defaults"]))
    extra = sorted(set(map(str, raw["defaults"])) - expected)
    if missing or extra:
        problems = ([f"lacks {', '.join(missing)}"] if missing else []) + ([f"has unknown {', '.join(extra)}"] if extra else [])
        raise ValueError(
            f"The `defaults:` mapping of {path} {' and '.join(problems)}; it must define exactly {', '.join(sorted(expected))}."
        )
    for name, profile in raw["profiles"].items():
        if profile is not None and not isinstance(profile, dict):
            kind = {"int": "number", "float": "number", "str": "string", "bool": "boolean"}.get(
                type(profile).__name__, type(profile).__name__
            )
            raise ValueError(
                f"Profile {name!r} in {path} is a {kind}, not a "
                f"mapping of config keys; write it as `{name}: {{epochs: 3}}` or "
                f"`{name}: {{}}`."
            )
    return raw


def profiles(config_path: str | os.PathLike | None = None) -> list[str]:
    """Names of the profiles defined in the config file."""
    return list(_read_yaml(Path(config_path or DEFAULT_CONFIG_PATH))["profiles"])


class _Null:
    """An override that sets a key to null (None itself means "the profile's value")."""

    def __repr__(self) -> str:
        return "null"


NULL = _Null()
"""Pass as an override value to set a nullable key (test_subset, ...) to null, as the command
line's `-p test_subset null` does."""

_FLOAT_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


def _yaml12_number(value):
    """'1e-3' as 0.001: YAML 1.2 (and papermill's parameters) read it as a number, PyYAML's
    YAML 1.1 as a string; any other value as it is."""
    return float(value) if isinstance(value, str) and _FLOAT_TEXT.match(value.strip()) else value


def load_config(profile: str = "paper", config_path: str | os.PathLike | None = None, **overrides: Any) -> Config:
    """Read `_config.yml`, apply `profile`, then flat `overrides`; validate; freeze.

    Overrides whose value is None are ignored, so papermill parameters left at None
    mean "the profile's value"; NULL sets a key to null. Numbers in exponent notation
    written as text ('1e-3') are read as numbers, as YAML 1.2 reads them. Raises ValueError
    (one sentence) on an unknown profile, an unknown key or an invalid value.
    """
    path = Path(config_path or DEFAULT_CONFIG_PATH)
    raw = _read_yaml(path)
    if profile not in raw["profiles"]:
        raise ValueError(f"Profile {profile!r} is not defined in {path}; choose one of {', '.join(raw['profiles'])}.")
    values = dict(raw["defaults"])
    allowed = sorted(values)
    layers = [
        ("profile " + repr(profile), raw["profiles"][profile] or {}),
        ("overrides", {k: v for k, v in overrides.items() if v is not None}),
    ]
    for where, mapping in layers:
        for key, value in mapping.items():
            if key not in values:
                raise ValueError(
                    f"Unknown config key {key!r} in {where} (value {value!r}); "
                    f"allowed keys are {', '.join(allowed)} (defined in {path})."
                )
            values[key] = None if value is NULL else _yaml12_number(value)
    if isinstance(values["sparsities"], (list, tuple)):
        values["sparsities"] = [_yaml12_number(x) for x in values["sparsities"]]
    if isinstance(values["frontier_sources"], (list, tuple)):
        values["frontier_sources"] = [_yaml12_number(x) for x in values["frontier_sources"]]
    _validate(path, values)
    values["sparsities"] = tuple(float(s) for s in values["sparsities"])
    values["frontier_sources"] = tuple(float(s) for s in values["frontier_sources"])
    values["student_width"] = float(values["student_width"])
    values["learning_rate"] = float(values["learning_rate"])
    values["validation_split"] = float(values["validation_split"])
    return Config(profile=profile, config_path=str(path), model=raw["model"], data=raw["data"], **values)
