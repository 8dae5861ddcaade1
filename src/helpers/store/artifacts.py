"""The artifact store: the only channel between notebooks, under `artifacts/<profile>/`.

Layout (paths relative to the store root)::

    manifest.json                 config hash (pruning stage) and values, stage hashes,
                                  library versions, data digests, wall time per stage,
                                  `files`: sha256 of every model file,
                                  `derived`: {file: {sha256, inputs}} of every derived JSON
    models/<variant>/member_<i>.keras|.tflite
    histories.json                {"train": {member: {loss, accuracy, val_loss, val_accuracy}},
                                   "prune": {variant: {member: {...}}}}   (lists per epoch)
    sizes.json                    {variant: {container, zipped_bytes, member_zipped_bytes,
                                   raw_bytes, lower_bound_bytes, compression_ratio, ...}}
    results.json                  the profile's own evaluation (schema: helpers.stages.evaluation)
    evaluations/<eval_hash>/      git-ignored: results.json of other evaluation values
                                  (test_subset, ...), with its own lineage.json
    cache/                        git-ignored: predictions/<variant>_<dataset>_<key>.npy,
                                  each with a .sha256 beside it
    checkpoints/                  git-ignored: resumable training state

Variant names say sparsity and quantization: ``baseline`` (float32), ``q8`` (0 % sparsity,
int8 weights), ``s50_float`` (50 % sparsity, float32), ``s50_q8`` (50 %, int8 weights,
the paper's method), ``s50_int8full`` (50 %, full-integer int8 weights and activations).

results.json is helpers.stages.evaluation's output; its schema is stated there (module doc).

Trust rules:

- Every model file is verified against the sha256 in the manifest before it is used.
- Every derived JSON records its own sha256 and its inputs (the checksums of the model
  files and the stage hash it came from); a file edited by hand, or computed from other
  inputs, is recomputed with a printed line saying why where computing is allowed, and
  is otherwise a one-sentence StoreError naming the command that rebuilds it.
- Prediction caches are keyed by the checksums of their model files and the data subset,
  so a changed model or another subset never reads a stale cache.
- A store whose manifest is lost is refused (StoreError) until it is rebuilt (--fresh)
  or re-adopted (`python -m helpers adopt`), never silently retrained.
- Manifest updates hold a file lock (filelock) and every write is atomic (temp file in
  the same folder + os.replace), so concurrent writers lose nothing and a killed run
  leaves no half-written file; its temp files are removed by the next open.
- Files get the user's umask (as a plain `open` would), so a shared cache stays readable.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import time
from pathlib import Path

from helpers.core.config import REPO_ROOT, Config, load_config
from helpers.core.fileio import atomic_write_json, sha256_file
from helpers.store.derived import DerivedFilesMixin
from helpers.store.manifest import MANIFEST, ManifestMixin

# Temp files of atomic_write_bytes / atomic_path: `.<name>.<pid>.<8 random>.tmp` and
# `.<name>.<pid>.tmp.<ext>`; the pid says whether their writer is still alive.
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)\.(?:tmp\.\w+|\w{8}\.tmp)$")


class StoreError(ValueError):
    """A store that cannot be used as it is (stale, corrupt); the message says how to fix it."""


def artifacts_root() -> Path:
    """`CDE_ARTIFACTS_DIR` if set (used by `make smoke` and the tests), else `artifacts/`.

    Always absolute: a relative value is taken from the repository root (as CDE_DATA_DIR in
    CI), never from the working directory, which differs between the CLI and the chapter
    kernels (they run in book/chapters).
    """
    env = os.environ.get("CDE_ARTIFACTS_DIR")
    path = Path(env).expanduser() if env else REPO_ROOT / "artifacts"
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the temp files of atomic writers that died (killed runs) below `folder`."""
    removed = []
    for path in Path(folder).rglob(".*"):
        match = _TEMP_NAME.match(path.name)
        if match and path.is_file() and not _alive(int(match["pid"])):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def cli_command(verb: str, config: Config) -> str:
    """The command line that runs `verb` (train, evaluate, adopt) for `config`: the profile
    plus a `-p NAME VALUE` for every value that differs from the profile's own."""
    default = load_config(config.profile, config.config_path).values()
    parts = ["python", "-m", "helpers", verb, "--profile", config.profile]
    for key, value in config.values().items():
        if key not in ("profile", "config_path") and value != default[key]:
            parts += ["-p", key, json.dumps(value)]
    return shlex.join(parts)


class Store(ManifestMixin, DerivedFilesMixin):
    """Artifacts of one config. `Store(cfg)` opens (or creates) its folder.

    The folder is `artifacts/<profile>/` when `cfg` has the profile's own pruning-stage
    hash (training and compression values as defined in `_config.yml`), and
    `artifacts/<profile>_<hash>/` otherwise, so a papermill run with other training
    values never touches the published artifacts. Evaluation-only values (test_subset,
    ood_subset, bootstrap_samples) share the store; their results go to
    `evaluations/<eval_hash>/` unless they are the profile's own.

    create=False refuses (StoreError naming the command that builds it) a store that does
    not exist yet; adopt=True opens a store whose manifest was lost (see `adopt`).
    The manifest's methods are helpers.store.manifest's, those of derived files and caches
    helpers.store.derived's.
    """

    StoreError = StoreError  # raised by the mixins' methods, which cannot import this module

    def __init__(self, config: Config, root: Path | None = None, fresh: bool = False, create: bool = True, adopt: bool = False):
        self.config = config
        self._default = load_config(config.profile, config.config_path)
        if root is None:
            same = self._default.hash == config.hash
            root = artifacts_root() / (config.profile if same else f"{config.profile}_{config.hash}")
        self.root = Path(root).expanduser().resolve()
        self._lock = None
        if fresh and self.root.exists():
            shutil.rmtree(self.root)
        if not create and not (self.root / MANIFEST).exists() and not self._model_files():
            raise StoreError(
                f"There is no store for this configuration at {self.root}; build it first with `{self.command('train')}`."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a read-only store has no temp files of ours
            remove_stale_temp_files(self.root)
        if not adopt:
            self._check_manifest()

    # --- commands -------------------------------------------------------------------
    def command(self, verb: str) -> str:
        """The command line that runs `verb` ("train", "evaluate", "adopt") for this config."""
        return cli_command(verb, self.config)

    # --- files ----------------------------------------------------------------------
    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def rel(self, path: Path) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()

    def model_path(self, variant: str, member: int, suffix: str) -> Path:
        return self.path("models", variant, f"member_{member}{suffix}")

    def record_files(self, paths) -> None:
        """Remember each file's sha256 so a later read can detect truncation or corruption."""

        def record(m):
            files = m.setdefault("files", {})
            for path in paths:
                files[self.rel(path)] = sha256_file(path)

        self._edit(self.manifest_path, record)

    def verified(self, path: Path) -> Path:
        """Return `path` after checking it against the sha256 recorded when it was written."""
        path = Path(path)
        expected = self.manifest().get("files", {}).get(self.rel(path))
        if not path.exists():
            raise StoreError(f"{path} is missing from the store; rebuild it with `{self.command('train')}`.")
        actual = sha256_file(path)
        if expected is None or actual != expected:
            raise StoreError(
                f"{path} is corrupt or was not written by this pipeline (sha256 {actual[:16]}..., "
                f"manifest expects {str(expected)[:16]}...); delete it and rebuild it with "
                f"`{self.command('train')}`."
            )
        return path

    def has_files(self, paths) -> bool:
        """Whether every one of `paths` is recorded and on disk, each verified against its
        recorded sha256 (a swapped or damaged file is a StoreError naming it, never a
        complete store)."""
        files = self.manifest().get("files", {})
        if not all(self.rel(p) in files and Path(p).exists() for p in paths):
            return False
        for p in paths:
            if self._sha256(Path(p)) != files[self.rel(p)]:
                self.verified(p)  # raises: corrupt or not written by this pipeline
        return True

    def verified_checksums(self, prefix: str = "models/") -> dict:
        """{relative path: sha256} of the recorded files under `prefix`, each file's own
        checksum checked against the manifest's (StoreError on the first that differs)."""
        files = self.manifest().get("files", {})
        rels = sorted(r for r in files if r.startswith(prefix))
        for rel in rels:
            self.verified(self.root / rel)
        return {rel: files[rel] for rel in rels}

    def _sha256(self, path: Path) -> str:
        """sha256 of a file, remembered while its size, mtime and inode stay the same."""
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        memo = self.__dict__.setdefault("_sha_memo", {})
        if key not in memo:
            memo[key] = sha256_file(path)
        return memo[key]

    def require(self, paths, verb: str, compute: bool) -> None:
        """Before computing the missing `paths`: refuse (StoreError naming the command) when
        computing is not allowed, else print a line saying what is computed and why."""
        missing = [p for p in paths if not self.has_files([p])]
        if not missing:
            return
        what = self.rel(missing[0]) + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
        if not compute:
            raise StoreError(
                f"{what} is not in the store {self.root}, and chapters never "
                f"train, prune or convert; build it with `{self.command(verb)}`."
            )
        print(f"{what} not in the store {self.root}: computing it now.", flush=True)

    def lineage(self, paths, **extra) -> dict | None:
        """The inputs record of a derived file: the recorded sha256 of each of `paths` plus
        `extra` (stage hashes...); None while any of them is not recorded yet."""
        files = self.manifest().get("files", {})
        rels = [self.rel(p) for p in paths]
        if any(r not in files for r in rels):
            return None
        return {"files": {r: files[r] for r in rels}, **extra}

    # --- adopting a store whose manifest was lost -------------------------------------
    def adopt(self, check, known_names) -> list[str]:
        """Record a new manifest for the model files present (a store whose manifest was
        lost), after `check(path)` loaded each; refuse (StoreError, nothing written) when
        the store has a manifest, no model file, a file outside `known_names` (relative
        paths the config can produce) or a file that cannot be loaded. histories.json is
        kept (it cannot be recomputed without retraining); sizes and results are not
        adopted, so they are recomputed. Returns the adopted relative paths."""
        if self.manifest_path.exists():
            raise StoreError(
                f"{self.root} already has a {MANIFEST}; there is nothing to adopt "
                f"(rebuild it with `{self.command('train')} --fresh` instead)."
            )
        paths = self._model_files()
        if not paths:
            raise StoreError(f"{self.root} holds no model files to adopt; build the store with `{self.command('train')}`.")
        for path in paths:
            if self.rel(path) not in known_names:
                raise StoreError(
                    f"{path} is not a model file of this configuration, so the store "
                    f"was not adopted; move it away or rebuild the store with "
                    f"`{self.command('train')} --fresh`."
                )
            try:
                check(path)
            except StoreError:  # the check's own sentence (e.g. a file of another variant)
                raise
            except Exception as e:  # noqa: BLE001 - any loader failure refuses the file
                raise StoreError(
                    f"{path} cannot be loaded ({type(e).__name__}), so the store "
                    f"was not adopted; delete that file (train rebuilds it) or "
                    f"rebuild the store with `{self.command('train')} --fresh`."
                ) from None
        files = {self.rel(p): sha256_file(p) for p in paths}
        derived = {}
        if self.path("histories.json").exists():
            self._load_json(self.path("histories.json"), "train")  # valid JSON, or refused
            derived["histories.json"] = {
                "sha256": sha256_file(self.path("histories.json")),
                "inputs": {"files": {k: v for k, v in files.items() if k.endswith(".keras")}},
            }
        with self.locked():
            atomic_write_json(
                self.manifest_path, self._new_manifest(files=files, derived=derived, adopted=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
            )
        return sorted(files)
