"""The artifact store: the only channel between notebooks, under `artifacts/<profile>/`.

Layout (paths relative to the store root)::

    manifest.json                 config hash and values, library versions, data digests,
                                  sha256 of every committed file, wall time per stage
    models/<variant>/member_<i>.keras|.tflite
    histories.json                {"train": {member: {loss, accuracy, val_loss, val_accuracy}},
                                   "prune": {variant: {member: {...}}}}   (lists per epoch)
    sizes.json                    {variant: {container, zipped_bytes, member_zipped_bytes,
                                   raw_bytes, lower_bound_bytes, compression_ratio, ...}}
    results.json                  see RESULTS_SCHEMA below
    cache/                        git-ignored: predictions/<variant>_<dataset>.npy
    checkpoints/                  git-ignored: resumable training state

Variant names say sparsity and quantization: ``baseline`` (float32), ``q8`` (0 % sparsity,
int8 weights), ``s50_float`` (50 % sparsity, float32), ``s50_q8`` (50 %, int8 weights,
the paper's method), ``s50_int8full`` (50 %, full-integer int8 weights and activations).

RESULTS_SCHEMA (results.json)::

    {"profile", "config_hash",
     "variants": {variant: {
         "label", "sparsity", "quantization" ("float32"|"int8"|"int8full"), "members",
         "mnist":    {"accuracy", "accuracy_low", "accuracy_high",
                      "accuracy_diff", "accuracy_diff_low", "accuracy_diff_high",  # vs baseline
                      "nll", "brier", "ece", "conf_frac_090"},
         "notmnist": {"mean_entropy", "mean_entropy_low", "mean_entropy_high",
                      "mean_disagreement", "mean_disagreement_low", "mean_disagreement_high",
                      "conf_frac_090", "auroc", "aupr", "fpr_at_95_tpr"},
         "zipped_bytes", "compression_ratio"}}}

Every write is atomic (temp file in the same folder + os.replace), so a killed run never
leaves a half-written file. A store written under another config hash is never reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .config import REPO_ROOT, Config, load_config


class StoreError(ValueError):
    """A store that cannot be used as it is (stale, corrupt); the message says how to fix it."""


def artifacts_root() -> Path:
    """`CDE_ARTIFACTS_DIR` if set (used by `make smoke` and the tests), else `artifacts/`."""
    return Path(os.environ.get("CDE_ARTIFACTS_DIR") or REPO_ROOT / "artifacts")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temp path beside `path`; on success rename it into place, else remove it.
    For writers that insist on a file name (Keras, numpy)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def machine_info() -> dict:
    """Where artifacts were made: weights are bit-reproducible only with the same thread count."""
    import platform
    return {"cpu_count": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version()}


def library_versions() -> dict:
    import importlib.metadata as md
    names = ["tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert",
             "numpy", "scikit-learn", "scipy", "pandas"]
    out = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


class Store:
    """Artifacts of one config. `Store(cfg)` opens (or creates) its folder.

    The folder is `artifacts/<profile>/` when `cfg` is the profile as defined in
    `_config.yml`, and `artifacts/<profile>_<hash>/` when overrides changed it, so a
    papermill run with other parameters never touches the published artifacts.
    """

    def __init__(self, config: Config, root: Path | None = None, fresh: bool = False):
        self.config = config
        if root is None:
            base = artifacts_root()
            default = load_config(config.profile, config.config_path)
            name = config.profile if default.hash == config.hash else f"{config.profile}_{config.hash}"
            root = base / name
        self.root = Path(root)
        if fresh and self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._check_manifest()

    # --- manifest -------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> dict:
        if not self.manifest_path.exists():
            return {}
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise StoreError(f"{self.manifest_path} is not valid JSON ({e}); delete the folder "
                             f"{self.root} or re-run with --fresh to rebuild it.") from None

    def _check_manifest(self) -> None:
        m = self.manifest()
        if m and m.get("config_hash") != self.config.hash:
            raise StoreError(
                f"{self.root} was written by config hash {m.get('config_hash')} but the current "
                f"config hashes to {self.config.hash}; re-run with --fresh to rebuild it "
                f"(python -m helpers build --profile {self.config.profile} --fresh), or restore "
                f"the config values that made it.")
        if not m:
            self.update_manifest(config_hash=self.config.hash, profile=self.config.profile,
                                 config=self.config.values(), versions=library_versions(),
                                 machine=machine_info())

    def update_manifest(self, **fields) -> dict:
        m = self.manifest()
        m.update(fields)
        atomic_write_json(self.manifest_path, m)
        return m

    def add_time(self, stage: str, seconds: float) -> None:
        """Add wall time (seconds) to a stage in the manifest's `timings`; added in pieces
        (per epoch), so the completed epochs of a killed run still count."""
        timings = self.manifest().get("timings", {})
        timings[stage] = round(timings.get(stage, 0.0) + seconds, 2)
        self.update_manifest(timings=timings)

    def stage_clock(self, stage: str):
        """A callable that adds the time since its previous call (or creation) to `stage`."""
        last = [time.perf_counter()]

        def tick(*_):
            now = time.perf_counter()
            self.add_time(stage, now - last[0])
            last[0] = now
        return tick

    # --- files ----------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def model_path(self, variant: str, member: int, suffix: str) -> Path:
        return self.path("models", variant, f"member_{member}{suffix}")

    def record_files(self, paths) -> None:
        """Remember each file's sha256 so a later read can detect truncation or corruption."""
        files = self.manifest().get("files", {})
        for path in paths:
            files[str(Path(path).relative_to(self.root))] = sha256_file(path)
        self.update_manifest(files=files)

    def verified(self, path: Path) -> Path:
        """Return `path` after checking it against the sha256 recorded when it was written."""
        path = Path(path)
        rel = str(path.relative_to(self.root))
        expected = self.manifest().get("files", {}).get(rel)
        if not path.exists():
            raise StoreError(f"{path} is missing from the store; re-run the pipeline to rebuild "
                             f"it (python -m helpers build --profile {self.config.profile}).")
        actual = sha256_file(path)
        if expected is None or actual != expected:
            raise StoreError(
                f"{path} is corrupt or was not written by this pipeline (sha256 {actual[:16]}..., "
                f"manifest expects {str(expected)[:16]}...); delete it and re-run the pipeline, "
                f"or re-run with --fresh.")
        return path

    def has_files(self, paths) -> bool:
        files = self.manifest().get("files", {})
        return all(str(Path(p).relative_to(self.root)) in files and Path(p).exists() for p in paths)

    def read_json(self, name: str, default=None):
        path = self.path(name)
        if not path.exists():
            return default
        return json.loads(path.read_text())

    def write_json(self, name: str, obj) -> Path:
        path = self.path(name)
        atomic_write_json(path, obj)
        return path

    def update_json(self, name: str, key: str, value) -> None:
        data = self.read_json(name, {})
        data[key] = value
        self.write_json(name, data)
