"""The store's derived files: JSON computed from the model files, each recorded with its
sha256 and inputs (lineage) and checked against that record on read, plain JSON without
lineage, and the prediction cache (arrays with a sha256 beside them).

`DerivedFilesMixin` is mixed into helpers.store.artifacts.Store (which supplies path and
command, and through helpers.store.manifest the manifest, its lock and edits); it raises the store's `StoreError` as
`self.StoreError`, since helpers.store.artifacts imports this module and not the other way round.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from helpers.core.fileio import (
    atomic_write_bytes,
    atomic_write_json,
    json_bytes,
    sha256_bytes,
    sha256_file,
)

# Which command rebuilds a derived file (names in StoreError messages).
PRODUCERS = {"histories.json": "train", "sizes.json": "train", "results.json": "evaluate", "seed_spread.json": "evaluate"}


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


class DerivedFilesMixin:
    """The derived-file and cache methods of helpers.store.artifacts.Store."""

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
            return "has no recorded checksum and inputs (written by an older version or copied in)"
        actual = sha256_file(path)
        if actual != record.get("sha256"):
            return (
                f"was changed after it was written (sha256 {_short(actual)}, the manifest records {_short(record.get('sha256'))})"
            )
        files = self.manifest().get("files", {})
        stale = [k for k, v in record.get("inputs", {}).get("files", {}).items() if files.get(k) != v]
        if stale:
            return f"was computed from other model files than those in the store ({', '.join(stale[:3])})"
        return None

    def _load_json(self, path: Path, verb: str | None):
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            fix = f"delete it and rebuild it with `{self.command(verb)}`" if verb else "delete it (the next run writes it again)"
            raise self.StoreError(f"{path} is not valid JSON ({' '.join(str(e).split())}); {fix}.") from None

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
                fix = (
                    f"restore it (git checkout) or rebuild the store with `{self.command('train')} --fresh`"
                    if name == "histories.json"
                    else f"rebuild it with `{self.command(verb or 'train')}`"
                )
                raise self.StoreError(f"{path} {why}; {fix}.")
        return self._load_json(path, verb)

    def read_derived(self, name: str, inputs: dict | None, *, compute: bool, verb: str | None = None):
        """A derived JSON if it is intact and was computed from `inputs`, else None (when
        `compute`: after printing why it is recomputed) or StoreError (naming the command)."""
        path = self.path(name)
        verb = verb or PRODUCERS.get(Path(name).name, "train")
        if not path.exists():
            if compute:
                return None
            raise self.StoreError(
                f"{path} is not in the store, and chapters never compute it; build it with `{self.command(verb)}`."
            )
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
        raise self.StoreError(f"{path} {why}; rebuild it with `{self.command(verb)}`.")

    def write_derived(self, name: str, obj, inputs: dict | None) -> Path:
        """Write a derived JSON atomically and record its sha256 and inputs."""
        path = self.path(name)
        data = json_bytes(obj)
        with self.locked():
            atomic_write_bytes(path, data)
            record = {"sha256": sha256_bytes(data), "inputs": inputs or {}}
            self._edit(self._records_path(name), lambda m: m.setdefault("derived", {}).__setitem__(name, record))
        return path

    def update_derived(self, name: str, key: str, value, inputs: dict | None) -> None:
        """Set one key of a derived JSON (e.g. one stage's histories); the record's input
        files become the union of the old and the new ones."""
        with self.locked():
            data = self.read_json(name, {})
            record = self._record(name) or {}
            merged = {**record.get("inputs", {}), **(inputs or {})}
            merged["files"] = {**record.get("inputs", {}).get("files", {}), **(inputs or {}).get("files", {})}
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
                why = (
                    "is truncated or changed (its sha256 differs from the one written beside it)"
                    if expected
                    else "has no checksum beside it"
                )
            print(f"The prediction cache {path} {why}: recomputing it.", flush=True)
        array = compute()
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        data = buf.getvalue()
        atomic_write_bytes(path, data)
        atomic_write_bytes(sidecar, (sha256_bytes(data) + "\n").encode())
        return array
