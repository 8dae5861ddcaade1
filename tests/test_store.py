"""Tests for helpers.store: atomic writes, the config-hash guard, checksums, fresh stores
and where a store lives."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from helpers import store as S
from helpers.config import load_config
from helpers.store import Store, StoreError


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------ atomic writes
def test_atomic_write_bytes_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "a.bin"
    S.atomic_write_bytes(path, b"one")
    S.atomic_write_bytes(path, b"two")
    assert path.read_bytes() == b"two"
    assert _files(path.parent) == ["a.bin"]


def test_atomic_write_bytes_failing_mid_way_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    real_fdopen, seen = os.fdopen, []

    class HalfWriter:  # writes half the data to the temp file, then the disk is full
        def __init__(self, fd, mode):
            self.f = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            seen.extend(p for p in tmp_path.iterdir() if p.name != "a.bin")
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(S.os, "fdopen", HalfWriter)
    with pytest.raises(OSError, match="No space left on device"):
        S.atomic_write_bytes(path, b"new content " * 100)
    assert len(seen) == 1 and seen[0].name.startswith(".a.bin.")  # there was a temp file
    assert not seen[0].exists()
    assert path.read_bytes() == b"old"
    assert _files(tmp_path) == ["a.bin"]
    monkeypatch.undo()
    with pytest.raises(TypeError):
        S.atomic_write_bytes(path, "not bytes")
    assert path.read_bytes() == b"old"
    assert _files(tmp_path) == ["a.bin"]


def test_atomic_write_json_failing_at_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    S.atomic_write_json(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(S.os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        S.atomic_write_json(path, {"new": True})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert _files(tmp_path) == ["r.json"]


def test_atomic_path_commits_on_success_and_cleans_up_on_error(tmp_path):
    path = tmp_path / "w.npy"
    with S.atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp != path
        np.save(tmp, np.arange(3))
        assert not path.exists()
    np.testing.assert_array_equal(np.load(path), [0, 1, 2])
    with pytest.raises(KeyboardInterrupt):
        with S.atomic_path(path) as tmp:
            tmp.write_bytes(b"half a file")
            raise KeyboardInterrupt
    np.testing.assert_array_equal(np.load(path), [0, 1, 2])
    assert _files(tmp_path) == ["w.npy"]


# ------------------------------------------------------------------------------ the store
def test_store_location_default_and_overridden(artifacts_dir):
    smoke = Store(load_config("smoke"))
    assert smoke.root == artifacts_dir / "smoke"
    changed = load_config("smoke", seed=3)
    other = Store(changed)
    assert other.root == artifacts_dir / f"smoke_{changed.hash}"
    assert changed.hash != load_config("smoke").hash
    # an override equal to the profile's own value changes nothing
    assert Store(load_config("smoke", epochs=1)).root == artifacts_dir / "smoke"
    assert sorted(p.name for p in artifacts_dir.iterdir()) == sorted(
        ["smoke", f"smoke_{changed.hash}"])


def test_new_store_writes_a_manifest(tmp_path):
    cfg = load_config("smoke")
    st = Store(cfg, root=tmp_path / "s")
    m = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert m["config_hash"] == cfg.hash and m["profile"] == "smoke"
    assert m["config"]["sparsities"] == [0.5, 0.95]
    assert m["versions"]["tensorflow"] and m["versions"]["numpy"] == np.__version__
    assert st.manifest() == m


def test_store_of_another_config_is_refused(tmp_path):
    root = tmp_path / "s"
    written = load_config("smoke")
    Store(written, root=root)
    current = load_config("smoke", epochs=2)
    with pytest.raises(StoreError) as err:
        Store(current, root=root)
    assert str(err.value) == (
        f"{root} was written by config hash {written.hash} but the current config hashes to "
        f"{current.hash}; re-run with --fresh to rebuild it (python -m helpers build --profile "
        f"smoke --fresh), or restore the config values that made it.")
    assert isinstance(err.value, ValueError)
    # the refused store is left as it was
    assert json.loads((root / "manifest.json").read_text())["config_hash"] == written.hash
    # values that do not shape results (bootstrap_samples) do not change the hash
    Store(load_config("smoke", bootstrap_samples=7), root=root)


def test_corrupt_manifest_is_a_store_error(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    (root / "manifest.json").write_text('{"config_hash": ')
    with pytest.raises(StoreError, match=f"{root / 'manifest.json'} is not valid JSON"):
        Store(load_config("smoke"), root=root)


def test_fresh_wipes_the_store(tmp_path):
    root = tmp_path / "s"
    Store(load_config("smoke"), root=root)
    (root / "models").mkdir()
    (root / "models" / "stale.keras").write_bytes(b"x")
    cfg = load_config("smoke", epochs=2)
    st = Store(cfg, root=root, fresh=True)  # fresh also accepts another config
    assert _files(root) == [S.LOCK_FILE, "manifest.json"]  # the lock file is git-ignored
    assert st.manifest()["config_hash"] == cfg.hash


def test_verified_accepts_recorded_files_and_rejects_truncated_ones(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    path = st.model_path("baseline", 0, ".keras")
    assert path == tmp_path / "s" / "models" / "baseline" / "member_0.keras"
    S.atomic_write_bytes(path, os.urandom(4096))
    assert not st.has_files([path])
    with pytest.raises(StoreError, match="manifest expects None"):
        st.verified(path)  # written, but never recorded
    st.record_files([path])
    assert st.has_files([path])
    assert st.verified(path) == path
    assert st.manifest()["files"] == {"models/baseline/member_0.keras": S.sha256_file(path)}
    with open(path, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(StoreError) as err:
        st.verified(path)
    message = str(err.value)
    assert message.startswith(f"{path} is corrupt or was not written by this pipeline (sha256 ")
    assert f"manifest expects {st.manifest()['files']['models/baseline/member_0.keras'][:16]}..." in message
    assert message.endswith("delete it and re-run the pipeline, or re-run with --fresh.")


def test_verified_names_a_missing_file(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    path = st.model_path("q8", 1, ".tflite")
    S.atomic_write_bytes(path, b"abc")
    st.record_files([path])
    path.unlink()
    assert not st.has_files([path])
    with pytest.raises(StoreError, match=f"{path} is missing from the store; re-run the pipeline "
                                         "to rebuild it \\(python -m helpers build --profile "
                                         "smoke\\)\\."):
        st.verified(path)


def test_json_helpers_and_timings(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    assert st.read_json("sizes.json") is None and st.read_json("sizes.json", {}) == {}
    st.update_json("execution.json", "01_data", {"seconds": 1.0})
    st.update_json("execution.json", "02_training", {"seconds": 2.0})
    assert st.read_json("execution.json") == {"01_data": {"seconds": 1.0},
                                              "02_training": {"seconds": 2.0}}
    st.update_derived("histories.json", "train", [[{"loss": 1.0}]], {"files": {}})
    st.update_derived("histories.json", "prune_s50_float", [], {"files": {}})
    assert st.read_json("histories.json") == {"train": [[{"loss": 1.0}]], "prune_s50_float": []}
    st.add_time("training", 1.5)
    st.add_time("training", 2.25)  # pieces add up (epochs of a resumed run)
    tick = st.stage_clock("pruning")
    tick()
    timings = st.manifest()["timings"]
    assert timings["training"] == 3.75 and set(timings) == {"training", "pruning"}
    assert 0 <= timings["pruning"] < 1
    assert st.manifest()["config_hash"] == st.config.hash  # updates keep the rest
