"""The store's manifest: reading and checking it, the build and manifest locks, its locked
atomic edits and the stage clocks that add wall time to it.

`ManifestMixin` is mixed into helpers.store.artifacts.Store (which supplies root, config,
command, path and rel); it raises the store's `StoreError` as `self.StoreError`, since
helpers.store.artifacts imports this module and not the other way round.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

from helpers.core import fileio
from helpers.core.config import stage_hash_of
from helpers.core.fileio import atomic_write_json, sha256_file
from helpers.core.provenance import (
    library_versions,
    machine_info,
)

MANIFEST = "manifest.json"
LOCK_FILE = ".manifest.lock"
BUILD_LOCK = ".build.lock"


class ManifestMixin:
    """The manifest methods of helpers.store.artifacts.Store."""

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @contextlib.contextmanager
    def building(self, echo=print):
        """Hold the store's build lock for a whole build: a second build of the same store
        (another process) waits here, then finds what the first one made and reuses it,
        instead of training everything twice and adding both runs' times."""
        from filelock import FileLock, Timeout

        lock = FileLock(self.root / BUILD_LOCK, mode=fileio.file_mode())
        try:
            lock.acquire(timeout=0)
        except Timeout:
            echo(f"Another build of {self.root} is running: waiting for it, then reusing what it made.", flush=True)
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
            self._lock = FileLock(self.root / LOCK_FILE, mode=fileio.file_mode())
        with self._lock:
            yield

    def _read_manifest_file(self, path: Path) -> dict:
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise self.StoreError(
                f"{path} is not valid JSON ({e}); restore it (git checkout) or "
                f"rebuild the store with `{self.command('train')} --fresh`."
            ) from None

    def manifest(self) -> dict:
        return self._read_manifest_file(self.manifest_path)

    def _model_files(self) -> list[Path]:
        folder = self.root / "models"
        return sorted(p for p in folder.rglob("member_*") if p.is_file()) if folder.is_dir() else []

    def _new_manifest(self, **fields) -> dict:
        c = self.config
        return {
            "config_hash": c.hash,
            "profile": c.profile,
            "config": c.values(),
            "stage_hashes": {s: c.stage_hash(s) for s in ("training", "pruning")},
            "versions": library_versions(),
            "machine": machine_info(),
            **fields,
        }

    def _check_manifest(self) -> None:
        m = self.manifest()
        if not m:
            if self._model_files():
                raise self.StoreError(
                    f"{self.root} holds model files but no {MANIFEST}, so nothing says which "
                    f"config made them or whether they are intact; rebuild the store with "
                    f"`{self.command('train')} --fresh`, or adopt the files as they are with "
                    f"`{self.command('adopt')}`."
                )
            with self.locked():
                if not self.manifest():
                    atomic_write_json(self.manifest_path, self._new_manifest())
            return
        legacy = "stage_hashes" not in m
        recorded = (
            stage_hash_of(m["config"], "pruning")
            if legacy and isinstance(m.get("config"), dict)
            else m.get("stage_hashes", {}).get("pruning")
        )
        if recorded != self.config.hash:
            raise self.StoreError(
                f"{self.root} was written by config hash {recorded} but the current "
                f"config hashes to {self.config.hash}; re-run with --fresh to rebuild it "
                f"(python -m helpers build --profile {self.config.profile} --fresh), or restore "
                f"the config values that made it."
            )
        if legacy:
            self._migrate(m)

    def _migrate(self, m: dict) -> None:
        """A manifest of the single-hash era: record the stage hashes, and adopt
        histories.json (written with the recorded models); sizes and results, which have
        no lineage, are recomputed when next needed."""

        def edit(m):
            m.update(
                config_hash=self.config.hash, stage_hashes={s: stage_hash_of(m["config"], s) for s in ("training", "pruning")}
            )
            if self.path("histories.json").exists():
                files = {k: v for k, v in m.get("files", {}).items() if k.endswith(".keras")}
                m.setdefault("derived", {})["histories.json"] = {
                    "sha256": sha256_file(self.path("histories.json")),
                    "inputs": {"files": files},
                }

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
