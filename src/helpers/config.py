"""The experiment configuration: `_config.yml` + a profile + flat overrides -> a frozen Config.

    cfg = load_config("smoke", epochs=2)
    cfg.epochs, cfg.sparsities, cfg.hash

Every value that shapes a result is validated here, once, so that later code can trust
it. Errors are one `ValueError` sentence naming the key, the value, what is allowed and
the file. `cfg.hash` is a stable digest of the result-shaping values (not of the profile
name), used by the store to decide whether artifacts may be reused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG_PATH = REPO_ROOT / "_config.yml"

# Keys whose values do not change any trained weight or metric: left out of the hash.
_NOT_HASHED = {"profile", "config_path", "bootstrap_samples", "shift_subset"}


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

    @property
    def hash(self) -> str:
        """sha256 (hex, first 16 chars) of the result-shaping values, stable across runs."""
        return _digest({k: v for k, v in self.values().items() if k not in _NOT_HASHED})

    def values(self) -> dict:
        """All fields as a plain, JSON-serializable dict."""
        out = dataclasses.asdict(self)
        out["sparsities"] = list(self.sparsities)
        return out

    def member_seed(self, member: int) -> int:
        """Seed of ensemble member `member` (initialization and shuffling)."""
        return self.seed * 1000 + member


def _digest(values: dict) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fail(path, key, value, allowed) -> None:
    raise ValueError(
        f"Config value {key}={value!r} is invalid: {allowed} (from {path}; "
        f"fix it there, in the profile or in the override)."
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
    for key in ("ensemble_size", "epochs", "retrain_epochs", "batch_size",
                "pruning_frequency", "representative_samples", "bootstrap_samples"):
        _check_int(path, key, v[key], 1)
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


def _read_yaml(path: Path) -> dict:
    try:
        with open(path) as f:
            raw = yaml.safe_load(f)
    except FileNotFoundError:
        raise ValueError(f"Experiment config file {path} does not exist; run from the repository "
                         "or pass config_path= pointing at _config.yml.") from None
    except yaml.YAMLError as e:
        raise ValueError(f"Experiment config file {path} is not valid YAML ({e}).") from None
    for section in ("model", "data", "defaults", "profiles"):
        if not isinstance(raw, dict) or not isinstance(raw.get(section), dict):
            raise ValueError(f"Experiment config file {path} lacks the mapping '{section}:'; "
                             "restore it from the repository's _config.yml.")
    return raw


def profiles(config_path: str | os.PathLike | None = None) -> list[str]:
    """Names of the profiles defined in the config file."""
    return list(_read_yaml(Path(config_path or DEFAULT_CONFIG_PATH))["profiles"])


def load_config(profile: str = "paper", config_path: str | os.PathLike | None = None,
                **overrides: Any) -> Config:
    """Read `_config.yml`, apply `profile`, then flat `overrides`; validate; freeze.

    Overrides whose value is None are ignored, so papermill parameters left at None
    mean "the profile's value". Raises ValueError (one sentence) on an unknown profile,
    an unknown key or an invalid value.
    """
    path = Path(config_path or DEFAULT_CONFIG_PATH)
    raw = _read_yaml(path)
    if profile not in raw["profiles"]:
        raise ValueError(f"Profile {profile!r} is not defined in {path}; choose one of "
                         f"{', '.join(raw['profiles'])}.")
    values = dict(raw["defaults"])
    allowed = sorted(values)
    layers = [("profile " + repr(profile), raw["profiles"][profile] or {}),
              ("overrides", {k: v for k, v in overrides.items() if v is not None})]
    for where, mapping in layers:
        for key, value in mapping.items():
            if key not in values:
                raise ValueError(f"Unknown config key {key!r} in {where} (value {value!r}); "
                                 f"allowed keys are {', '.join(allowed)} (defined in {path}).")
            values[key] = value
    _validate(path, values)
    values["sparsities"] = tuple(float(s) for s in values["sparsities"])
    values["learning_rate"] = float(values["learning_rate"])
    values["validation_split"] = float(values["validation_split"])
    return Config(profile=profile, config_path=str(path), model=raw["model"], data=raw["data"],
                  **values)
