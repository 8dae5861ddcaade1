"""Seed records: computing one seed of a sweep and the small record it exports into the
profile's store, the one the book reads::

    artifacts/<profile>/seeds/seed_<s>.json
        {"seed", "profile", "config_hash", "engine",
         "results"   (that seed's results.json, as written),
         "timings"   (its manifest's wall time per stage),
         "machine", "versions", "tf_threads"   (where and with what it was computed),
         "files"     ({models/...: sha256} of its model files)}

plus the seed's weights and per-image packs, named with their sha256 ("weights",
"per_image"). Reading a record checks it; the sweep (helpers.stages.sweep) skips a seed
whose record holds its current config hash.

Every record is written with `write_record`, which also enters its sha256 into the records
index `seeds/index.json` ({"seed_<s>.json": sha256}); the aggregate refuses a record that
is not in the index or differs from it (`index_problem`). `write_index` indexes the records
as they are (a store from before the index; `weights` calls it when the index is missing).
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.fileio import atomic_write_bytes, atomic_write_json, json_bytes, sha256_bytes, sha256_file
from helpers.store.artifacts import artifacts_root

INDEX = "index.json"
RECORD_KEYS = ("seed", "config_hash", "results", "timings", "machine", "versions", "files")


class SweepError(ValueError):
    """A sweep that cannot run or finish as asked; the message says what to do."""


def profile_store_root(profile: str) -> Path:
    """The profile's own store, where seed records go: `artifacts/<profile>/`."""
    return artifacts_root() / profile


def record_path(profile_root: Path, seed: int) -> Path:
    return Path(profile_root) / "seeds" / f"seed_{seed}.json"


def index_path(profile_root: Path) -> Path:
    return Path(profile_root) / "seeds" / INDEX


def read_index(profile_root: Path) -> dict | None:
    """The records index {"seed_<s>.json": sha256}; None when there is none."""
    path = index_path(profile_root)
    if not path.exists():
        return None
    try:
        index = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        index = None
    if not isinstance(index, dict) or not all(isinstance(v, str) for v in index.values()):
        raise SweepError(
            f"The records index {path} is not a JSON object of sha256 values; restore it "
            f"(git checkout), or delete it and index the records as they are with "
            f"`python -m helpers weights --profile {Path(profile_root).name} --seeds 0`."
        )
    return index


def write_index(profile_root: Path) -> Path:
    """Index every seed record of the store as it is now (each file's sha256)."""
    folder = Path(profile_root) / "seeds"
    index = {p.name: sha256_file(p) for p in sorted(folder.glob("seed_*.json"))}
    atomic_write_json(index_path(profile_root), index)
    return index_path(profile_root)


def ensure_index(profile_root: Path) -> None:
    """Write the records index when the store has records but no index yet."""
    if read_index(profile_root) is None and any((Path(profile_root) / "seeds").glob("seed_*.json")):
        write_index(profile_root)


def write_record(profile_root: Path, seed: int, record: dict) -> Path:
    """Write a seed record atomically and enter its sha256 into the records index (a store
    without an index first gets one of the records it holds)."""
    path = record_path(profile_root, seed)
    data = json_bytes(record)
    ensure_index(profile_root)
    atomic_write_bytes(path, data)
    atomic_write_json(index_path(profile_root), {**(read_index(profile_root) or {}), path.name: sha256_bytes(data)})
    return path


def _git_restore(path: Path) -> str:
    """ "restore it with `git checkout -- <path>`, or " for a file of the repository, else ""."""
    from helpers.core.config import REPO_ROOT

    try:
        return f"restore it with `git checkout -- {Path(path).resolve().relative_to(REPO_ROOT).as_posix()}`, or "
    except ValueError:
        return ""


def index_problem(path: Path, index: dict | None, profile: str) -> str | None:
    """The sentence refusing a seed record that is not in the records index or differs from
    its sha256 there (its file name, the index and the fix); None when it matches."""
    path = Path(path)
    name, seed = f"seeds/{path.name}", path.stem.split("_")[-1]
    if index is None:
        return (
            f"{name} cannot be verified: seeds/{INDEX} does not exist beside it (records "
            f"written before the index?); {_git_restore(index_path(path.parent.parent))}index "
            f"the records as they are with `python -m helpers weights --profile {profile} --seeds {seed}`."
        )
    try:
        has_weights = bool(json.loads(path.read_text()).get("weights"))
    except (ValueError, AttributeError):
        has_weights = False
    recompute = (
        f"re-evaluate it with `python -m helpers evaluate --profile {profile} --seeds {seed}`"
        if has_weights
        else f"delete it and re-run its seed with `python -m helpers sweep --profile {profile} --seeds {seed}`"
    )
    if path.name not in index:
        return f"{name} is not in seeds/{INDEX} (copied in or written by hand?); {recompute}."
    if sha256_file(path) == index[path.name]:
        return None
    return f"{name} does not match its sha256 in seeds/{INDEX} (edited after it was written?); {_git_restore(path)}{recompute}."


def read_seed_record(path: Path) -> dict:
    """One seed record, checked: valid JSON, every key of RECORD_KEYS, seed as in its name."""
    path = Path(path)
    fix = "delete it and re-run the sweep for that seed to recompute it (python -m helpers sweep --profile PROFILE --seeds N)"
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SweepError(f"Seed record {path} is not valid JSON ({e}); {fix}.") from None
    missing = [k for k in RECORD_KEYS if not isinstance(record, dict) or k not in record]
    if missing:
        raise SweepError(f"Seed record {path} lacks {', '.join(missing)}; {fix}.")
    if path.stem != f"seed_{record['seed']}":
        raise SweepError(f"Seed record {path} holds seed {record['seed']!r}, not the seed its name says; {fix}.")
    return record


def load_seed_records(profile_store_root: Path) -> list[dict]:
    """Every seed record under `<profile store>/seeds/`, sorted by seed ([] when none)."""
    folder = Path(profile_store_root) / "seeds"
    if not folder.is_dir():
        return []
    records = [read_seed_record(p) for p in folder.glob("seed_*.json")]
    return sorted(records, key=lambda r: r["seed"])


def make_record(exp, engine: str) -> dict:
    """The record of a seed's built and evaluated experiment (read from its store)."""
    manifest = exp.store.manifest()
    results = json.loads(exp.store.path("results.json").read_text())
    return {
        "seed": exp.config.seed,
        "profile": exp.config.profile,
        "config_hash": exp.config.hash,
        "engine": engine,
        "results": results,
        "timings": manifest.get("timings", {}),
        "machine": manifest.get("machine"),
        "versions": manifest.get("versions"),
        "tf_threads": _tf_threads(),
        "files": exp.store.verified_checksums("models/"),
    }  # each file's own sha256, checked


def _tf_threads() -> int | None:
    """TensorFlow's intra-op thread count when set by TF_NUM_INTRAOP_THREADS (the Ray engine
    sets it to the task's CPUs); None: TensorFlow's default, one per core of `machine`."""
    from helpers.core.provenance import tf_thread_setting

    return tf_thread_setting()["intra_op"] or None


def _write_weights(exp, record: dict) -> dict:
    """Pack the seed's trained members into `artifacts/<profile>/weights/seed_<s>.weights.zip`
    and its per-image losses into `per_image/seed_<s>.per_image.zip`, and name both packs
    with their sha256 in the record ("weights", "per_image")."""
    from helpers.engine.weights import write_pack

    root = profile_store_root(exp.config.profile)
    path = write_pack(exp, root)
    return with_per_image(exp, {**record, "weights": {path.relative_to(root).as_posix(): sha256_file(path)}})


def with_per_image(exp, record: dict) -> dict:
    """The record with the seed's per-image losses (helpers.stages.per_image) written from the
    experiment's store and named in it ("per_image")."""
    from helpers.stages.per_image import write_pack

    root = profile_store_root(exp.config.profile)
    path = write_pack(exp, root)
    return {**record, "per_image": {path.relative_to(root).as_posix(): sha256_file(path)}}


def with_weights(profile: str, seed: int, record: dict) -> dict:
    """The record with the seed's weights pack written from its store here and named in it
    (StoreError when the store is not complete on this machine)."""
    from helpers.core.config import load_config
    from helpers.stages.experiment import Experiment
    from helpers.store.artifacts import Store

    cfg = load_config(profile, seed=seed)
    return _write_weights(Experiment(cfg, store=Store(cfg, create=False), compute=False), record)


def compute_seed(profile: str, seed: int, engine: str = "local"):
    """Build and evaluate one seed in its store under the current artifacts root; returns
    (experiment, record). Resumes from whatever that store already holds."""
    from helpers.core.config import load_config
    from helpers.stages import evaluation
    from helpers.stages.experiment import Experiment

    exp = Experiment(load_config(profile, seed=seed))
    exp.build_all()
    evaluation.evaluate(exp)
    record = make_record(exp, engine)
    # On a Ray worker the profile store is a temporary one: the driver packs the weights
    # from the store files it receives (with_weights).
    return exp, (record if engine == "ray" else _write_weights(exp, record))


def seed_summary(seed, status, wall_s, root, config_hash, **extra) -> dict:
    """What a sweep reports of one finished seed (helpers.stages.sweep.run_sweep)."""
    return {
        "seed": seed,
        "status": status,
        "wall_s": round(wall_s, 2),
        "record": str(record_path(root, seed)),
        "config_hash": config_hash,
        **extra,
    }
