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
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import time
from pathlib import Path

from helpers.core import fileio
from helpers.core.config import REPO_ROOT, Config, load_config, stage_hash_of
from helpers.core.fileio import (
    atomic_write_bytes,
    atomic_write_json,
    json_bytes,
    sha256_bytes,
    sha256_file,
)
from helpers.core.provenance import (
    library_versions,
    machine_info,
)
from helpers.store.keras_archive import normalize_keras_archive, save_keras  # noqa: F401 (re-exported)

MANIFEST = "manifest.json"
LOCK_FILE = ".manifest.lock"
BUILD_LOCK = ".build.lock"
# Which command rebuilds a derived file (names in StoreError messages).
PRODUCERS = {"histories.json": "train", "sizes.json": "train", "results.json": "evaluate",
             "seed_spread.json": "evaluate"}
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


def file_mode() -> int:
    """The mode a plain `open(path, "w")` gives a new file under the user's umask."""
    return fileio.file_mode()


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


def _short(digest) -> str:
    return f"{str(digest)[:16]}..." if digest else "nothing"


def _differences(recorded: dict, current: dict) -> list[str]:
    """Names of the inputs that differ (file paths for the `files` entry)."""
    out = []
    for key in sorted(set(recorded) | set(current)):
        a, b = recorded.get(key), current.get(key)
        if key == "files" and isinstance(a, dict) and isinstance(b, dict):
            out += [name for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
        elif a != b:
            out.append(key)
    return out


class Store:
    """Artifacts of one config. `Store(cfg)` opens (or creates) its folder.

    The folder is `artifacts/<profile>/` when `cfg` has the profile's own pruning-stage
    hash (training and compression values as defined in `_config.yml`), and
    `artifacts/<profile>_<hash>/` otherwise, so a papermill run with other training
    values never touches the published artifacts. Evaluation-only values (test_subset,
    ood_subset, bootstrap_samples) share the store; their results go to
    `evaluations/<eval_hash>/` unless they are the profile's own.

    create=False refuses (StoreError naming the command that builds it) a store that does
    not exist yet; adopt=True opens a store whose manifest was lost (see `adopt`).
    """

    def __init__(self, config: Config, root: Path | None = None, fresh: bool = False,
                 create: bool = True, adopt: bool = False):
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
            raise StoreError(f"There is no store for this configuration at {self.root}; build "
                             f"it first with `{self.command('train')}`.")
        self.root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a read-only store has no temp files of ours
            remove_stale_temp_files(self.root)
        if not adopt:
            self._check_manifest()

    # --- commands -------------------------------------------------------------------
    def command(self, verb: str) -> str:
        """The command line that runs `verb` ("train", "evaluate", "adopt") for this config."""
        return cli_command(verb, self.config)

    # --- manifest -------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @contextlib.contextmanager
    def building(self, echo=print):
        """Hold the store's build lock for a whole build: a second build of the same store
        (another process) waits here, then finds what the first one made and reuses it,
        instead of training everything twice and adding both runs' times."""
        from filelock import FileLock, Timeout
        lock = FileLock(self.root / BUILD_LOCK, mode=file_mode())
        try:
            lock.acquire(timeout=0)
        except Timeout:
            echo(f"Another build of {self.root} is running: waiting for it, then reusing what it made.",
                 flush=True)
            lock.acquire()
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def locked(self):
        """Hold the store's manifest lock (reentrant within this Store object)."""
        from filelock import FileLock
        if self._lock is None:
            # mode: filelock would force 0644, and another user of a shared store must open it
            self._lock = FileLock(self.root / LOCK_FILE, mode=file_mode())
        with self._lock:
            yield

    def _read_manifest_file(self, path: Path) -> dict:
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StoreError(f"{path} is not valid JSON ({e}); restore it (git checkout) or "
                             f"rebuild the store with `{self.command('train')} --fresh`.") from None

    def manifest(self) -> dict:
        return self._read_manifest_file(self.manifest_path)

    def _model_files(self) -> list[Path]:
        folder = self.root / "models"
        return sorted(p for p in folder.rglob("member_*") if p.is_file()) if folder.is_dir() else []

    def _new_manifest(self, **fields) -> dict:
        c = self.config
        return {"config_hash": c.hash, "profile": c.profile, "config": c.values(),
                "stage_hashes": {s: c.stage_hash(s) for s in ("training", "pruning")},
                "versions": library_versions(), "machine": machine_info(), **fields}

    def _check_manifest(self) -> None:
        m = self.manifest()
        if not m:
            if self._model_files():
                raise StoreError(
                    f"{self.root} holds model files but no {MANIFEST}, so nothing says which "
                    f"config made them or whether they are intact; rebuild the store with "
                    f"`{self.command('train')} --fresh`, or adopt the files as they are with "
                    f"`{self.command('adopt')}`.")
            with self.locked():
                if not self.manifest():
                    atomic_write_json(self.manifest_path, self._new_manifest())
            return
        legacy = "stage_hashes" not in m
        recorded = (stage_hash_of(m["config"], "pruning") if legacy and isinstance(m.get("config"), dict)
                    else m.get("stage_hashes", {}).get("pruning"))
        if recorded != self.config.hash:
            raise StoreError(
                f"{self.root} was written by config hash {recorded} but the current "
                f"config hashes to {self.config.hash}; re-run with --fresh to rebuild it "
                f"(python -m helpers build --profile {self.config.profile} --fresh), or restore "
                f"the config values that made it.")
        if legacy:
            self._migrate(m)

    def _migrate(self, m: dict) -> None:
        """A manifest of the single-hash era: record the stage hashes, and adopt
        histories.json (written with the recorded models); sizes and results, which have
        no lineage, are recomputed when next needed."""
        def edit(m):
            m.update(config_hash=self.config.hash,
                     stage_hashes={s: stage_hash_of(m["config"], s) for s in ("training", "pruning")})
            if self.path("histories.json").exists():
                files = {k: v for k, v in m.get("files", {}).items() if k.endswith(".keras")}
                m.setdefault("derived", {})["histories.json"] = {
                    "sha256": sha256_file(self.path("histories.json")), "inputs": {"files": files}}
        with contextlib.suppress(OSError):  # read-only: checked again on the next writable open
            self._edit(self.manifest_path, edit)

    def _edit(self, manifest_path: Path, change) -> dict:
        """Read, change (in place) and atomically rewrite a manifest, under the lock."""
        with self.locked():
            m = self._read_manifest_file(manifest_path)
            change(m)
            atomic_write_json(manifest_path, m)
            return m

    def update_manifest(self, **fields) -> dict:
        return self._edit(self.manifest_path, lambda m: m.update(fields))

    def add_time(self, stage: str, seconds: float) -> None:
        """Add wall time (seconds) to a stage in the manifest's `timings`; added in pieces
        (per epoch), so the completed epochs of a killed run still count."""
        def add(m):
            timings = m.setdefault("timings", {})
            timings[stage] = round(timings.get(stage, 0.0) + seconds, 2)
        self._edit(self.manifest_path, add)

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
            raise StoreError(f"{path} is missing from the store; rebuild it with "
                             f"`{self.command('train')}`.")
        actual = sha256_file(path)
        if expected is None or actual != expected:
            raise StoreError(
                f"{path} is corrupt or was not written by this pipeline (sha256 {actual[:16]}..., "
                f"manifest expects {str(expected)[:16]}...); delete it and rebuild it with "
                f"`{self.command('train')}`.")
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
            raise StoreError(f"{what} is not in the store {self.root}, and chapters never "
                             f"train, prune or convert; build it with `{self.command(verb)}`.")
        print(f"{what} not in the store {self.root}: computing it now.", flush=True)

    def lineage(self, paths, **extra) -> dict | None:
        """The inputs record of a derived file: the recorded sha256 of each of `paths` plus
        `extra` (stage hashes...); None while any of them is not recorded yet."""
        files = self.manifest().get("files", {})
        rels = [self.rel(p) for p in paths]
        if any(r not in files for r in rels):
            return None
        return {"files": {r: files[r] for r in rels}, **extra}

    # --- derived files ---------------------------------------------------------------
    def _records_path(self, name: str) -> Path:
        """Where the record of a derived file lives: the manifest, or for the git-ignored
        evaluations/<hash>/ folders their own lineage.json (the manifest stays as committed)."""
        parts = Path(name).parts
        if parts[0] == "evaluations" and len(parts) > 2:
            return self.path(*parts[:2], "lineage.json")
        return self.manifest_path

    def _record(self, name: str) -> dict | None:
        return self._read_manifest_file(self._records_path(name)).get("derived", {}).get(name)

    def results_name(self, name: str = "results.json") -> str:
        """Where the evaluation results of this config live: `name` for the profile's own
        evaluation values, `evaluations/<eval_hash>/name` for others."""
        from helpers.core.config import STAGE_KEYS
        c, d = self.config, self._default
        # every value that shapes an evaluation and not the models (shift_subset too)
        evaluation_only = [k for k in STAGE_KEYS["evaluation"] if k not in STAGE_KEYS["pruning"]]
        if all(getattr(c, k) == getattr(d, k) for k in evaluation_only):
            return name
        return f"evaluations/{c.stage_hash('evaluation')}/{name}"

    def _check_record(self, name: str, path: Path, record: dict | None) -> str | None:
        """Why a derived file cannot be trusted as it is (None: it can)."""
        if record is None:
            return ("has no recorded checksum and inputs (written by an older version or "
                    "copied in)")
        actual = sha256_file(path)
        if actual != record.get("sha256"):
            return (f"was changed after it was written (sha256 {_short(actual)}, the "
                    f"manifest records {_short(record.get('sha256'))})")
        files = self.manifest().get("files", {})
        stale = [k for k, v in record.get("inputs", {}).get("files", {}).items() if files.get(k) != v]
        if stale:
            return f"was computed from other model files than those in the store ({', '.join(stale[:3])})"
        return None

    def _load_json(self, path: Path, verb: str | None):
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            fix = (f"delete it and rebuild it with `{self.command(verb)}`" if verb
                   else "delete it (the next run writes it again)")
            raise StoreError(f"{path} is not valid JSON ({' '.join(str(e).split())}); {fix}.") from None

    def read_json(self, name: str, default=None):
        """A JSON file of the store; derived files are checked against their record first
        (StoreError naming the fix when one was edited or its models changed)."""
        path = self.path(name)
        if not path.exists():
            return default
        verb = PRODUCERS.get(Path(name).name)
        record = self._record(name)
        if record is not None or verb:
            why = self._check_record(name, path, record)
            if why:
                fix = ("restore it (git checkout) or rebuild the store with "
                       f"`{self.command('train')} --fresh`" if name == "histories.json"
                       else f"rebuild it with `{self.command(verb or 'train')}`")
                raise StoreError(f"{path} {why}; {fix}.")
        return self._load_json(path, verb)

    def read_derived(self, name: str, inputs: dict | None, *, compute: bool, verb: str | None = None):
        """A derived JSON if it is intact and was computed from `inputs`, else None (when
        `compute`: after printing why it is recomputed) or StoreError (naming the command)."""
        path = self.path(name)
        verb = verb or PRODUCERS.get(Path(name).name, "train")
        if not path.exists():
            if compute:
                return None
            raise StoreError(f"{path} is not in the store, and chapters never compute it; build it "
                             f"with `{self.command(verb)}`.")
        record = self._record(name)
        why = self._check_record(name, path, record)
        if why is None and inputs is None:
            why = "was computed from model files that are not all in the store now"
        elif why is None and record.get("inputs") != inputs:
            changed = _differences(record.get("inputs", {}), inputs)
            why = f"was computed from other inputs ({', '.join(changed[:4])} changed)"
        if why is None:
            return self._load_json(path, verb)
        if compute:
            print(f"{path} {why}: recomputing it.", flush=True)
            return None
        raise StoreError(f"{path} {why}; rebuild it with `{self.command(verb)}`.")

    def write_derived(self, name: str, obj, inputs: dict | None) -> Path:
        """Write a derived JSON atomically and record its sha256 and inputs."""
        path = self.path(name)
        data = json_bytes(obj)
        with self.locked():
            atomic_write_bytes(path, data)
            record = {"sha256": sha256_bytes(data), "inputs": inputs or {}}
            self._edit(self._records_path(name),
                       lambda m: m.setdefault("derived", {}).__setitem__(name, record))
        return path

    def update_derived(self, name: str, key: str, value, inputs: dict | None) -> None:
        """Set one key of a derived JSON (e.g. one stage's histories); the record's input
        files become the union of the old and the new ones."""
        with self.locked():
            data = self.read_json(name, {})
            record = self._record(name) or {}
            merged = {**record.get("inputs", {}), **(inputs or {})}
            merged["files"] = {**record.get("inputs", {}).get("files", {}),
                               **(inputs or {}).get("files", {})}
            data[key] = value
            self.write_derived(name, data, merged)

    def write_json(self, name: str, obj) -> Path:
        """A plain JSON without lineage (execution.json: times, not results)."""
        path = self.path(name)
        atomic_write_json(path, obj)
        return path

    def update_json(self, name: str, key: str, value) -> None:
        with self.locked():
            data = self.read_json(name, {})
            data[key] = value
            self.write_json(name, data)

    # --- caches -----------------------------------------------------------------------
    def cached_array(self, name: str, key: dict, compute):
        """`compute()` (an array), cached in cache/<name>_<digest of key>.npy with its sha256
        beside it; a truncated or changed cache is recomputed with a line saying so."""
        import numpy as np
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        path = self.path("cache", f"{name}_{digest}.npy")
        sidecar = path.with_name(path.name + ".sha256")
        if path.exists():
            expected = sidecar.read_text().strip() if sidecar.exists() else None
            actual = sha256_file(path)
            if actual == expected:
                try:
                    return np.load(path, allow_pickle=False)
                except (ValueError, OSError, EOFError) as e:
                    why = f"cannot be read ({type(e).__name__})"
            else:
                why = ("is truncated or changed (its sha256 differs from the one written beside "
                       "it)" if expected else "has no checksum beside it")
            print(f"The prediction cache {path} {why}: recomputing it.", flush=True)
        array = compute()
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        data = buf.getvalue()
        atomic_write_bytes(path, data)
        atomic_write_bytes(sidecar, (sha256_bytes(data) + "\n").encode())
        return array

    # --- adopting a store whose manifest was lost -------------------------------------
    def adopt(self, check, known_names) -> list[str]:
        """Record a new manifest for the model files present (a store whose manifest was
        lost), after `check(path)` loaded each; refuse (StoreError, nothing written) when
        the store has a manifest, no model file, a file outside `known_names` (relative
        paths the config can produce) or a file that cannot be loaded. histories.json is
        kept (it cannot be recomputed without retraining); sizes and results are not
        adopted, so they are recomputed. Returns the adopted relative paths."""
        if self.manifest_path.exists():
            raise StoreError(f"{self.root} already has a {MANIFEST}; there is nothing to adopt "
                             f"(rebuild it with `{self.command('train')} --fresh` instead).")
        paths = self._model_files()
        if not paths:
            raise StoreError(f"{self.root} holds no model files to adopt; build the store with "
                             f"`{self.command('train')}`.")
        for path in paths:
            if self.rel(path) not in known_names:
                raise StoreError(f"{path} is not a model file of this configuration, so the store "
                                 f"was not adopted; move it away or rebuild the store with "
                                 f"`{self.command('train')} --fresh`.")
            try:
                check(path)
            except StoreError:  # the check's own sentence (e.g. a file of another variant)
                raise
            except Exception as e:  # noqa: BLE001 - any loader failure refuses the file
                raise StoreError(f"{path} cannot be loaded ({type(e).__name__}), so the store "
                                 f"was not adopted; delete that file (train rebuilds it) or "
                                 f"rebuild the store with `{self.command('train')} --fresh`.") from None
        files = {self.rel(p): sha256_file(p) for p in paths}
        derived = {}
        if self.path("histories.json").exists():
            self._load_json(self.path("histories.json"), "train")  # valid JSON, or refused
            derived["histories.json"] = {
                "sha256": sha256_file(self.path("histories.json")),
                "inputs": {"files": {k: v for k, v in files.items() if k.endswith(".keras")}}}
        with self.locked():
            atomic_write_json(self.manifest_path, self._new_manifest(
                files=files, derived=derived, adopted=time.strftime("%Y-%m-%dT%H:%M:%S%z")))
        return sorted(files)
