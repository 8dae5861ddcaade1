"""Tests for helpers.store.artifacts: atomic writes, the config-hash guard, checksums, fresh stores
and where a store lives."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from helpers.core import fileio
from helpers.core.config import load_config
from helpers.store import artifacts as S
from helpers.store.artifacts import Store, StoreError
from helpers.store.manifest import BUILD_LOCK, LOCK_FILE


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------ atomic writes
def test_atomic_write_bytes_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "a.bin"
    fileio.atomic_write_bytes(path, b"one")
    fileio.atomic_write_bytes(path, b"two")
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

    monkeypatch.setattr(os, "fdopen", HalfWriter)
    with pytest.raises(OSError, match="No space left on device"):
        fileio.atomic_write_bytes(path, b"new content " * 100)
    assert len(seen) == 1 and seen[0].name.startswith(".a.bin.")  # there was a temp file
    assert not seen[0].exists()
    assert path.read_bytes() == b"old"
    assert _files(tmp_path) == ["a.bin"]
    monkeypatch.undo()
    with pytest.raises(TypeError):
        fileio.atomic_write_bytes(path, "not bytes")
    assert path.read_bytes() == b"old"
    assert _files(tmp_path) == ["a.bin"]


def test_atomic_write_json_failing_at_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    fileio.atomic_write_json(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}

    def failing_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="rename failed"):
        fileio.atomic_write_json(path, {"new": True})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert _files(tmp_path) == ["r.json"]


def test_atomic_path_commits_on_success_and_cleans_up_on_error(tmp_path):
    path = tmp_path / "w.npy"
    with fileio.atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and tmp != path
        np.save(tmp, np.arange(3))
        assert not path.exists()
    np.testing.assert_array_equal(np.load(path), [0, 1, 2])
    with pytest.raises(KeyboardInterrupt):
        with fileio.atomic_path(path) as tmp:
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
    assert sorted(p.name for p in artifacts_dir.iterdir()) == sorted(["smoke", f"smoke_{changed.hash}"])


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
        f"smoke --fresh), or restore the config values that made it."
    )
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
    assert _files(root) == [LOCK_FILE, "manifest.json"]  # the lock file is git-ignored
    assert st.manifest()["config_hash"] == cfg.hash


def test_verified_accepts_recorded_files_and_rejects_truncated_ones(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    path = st.model_path("baseline", 0, ".keras")
    assert path == tmp_path / "s" / "models" / "baseline" / "member_0.keras"
    fileio.atomic_write_bytes(path, os.urandom(4096))
    assert not st.has_files([path])
    with pytest.raises(StoreError, match="manifest expects None"):
        st.verified(path)  # written, but never recorded
    st.record_files([path])
    assert st.has_files([path])
    assert st.verified(path) == path
    assert st.manifest()["files"] == {"models/baseline/member_0.keras": fileio.sha256_file(path)}
    with open(path, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(StoreError) as err:
        st.verified(path)
    message = str(err.value)
    assert message.startswith(f"{path} is corrupt or was not written by this pipeline (sha256 ")
    assert f"manifest expects {st.manifest()['files']['models/baseline/member_0.keras'][:16]}..." in message
    assert message.endswith("delete it and rebuild it with `python -m helpers train --profile smoke`.")


def test_a_swapped_model_file_is_never_a_complete_store(tmp_path):
    """Another variant's file in place of a recorded one: has_files and the record's
    checksums fail on the file's own sha256, naming it (not the manifest entry)."""
    st = Store(load_config("smoke"), root=tmp_path / "s")
    a, b = st.model_path("s50_q8", 0, ".tflite"), st.model_path("s95_q8", 0, ".tflite")
    fileio.atomic_write_bytes(a, b"fifty")
    fileio.atomic_write_bytes(b, b"ninety-five")
    st.record_files([a, b])
    assert st.has_files([a, b])
    assert st.verified_checksums() == {
        "models/s50_q8/member_0.tflite": fileio.sha256_file(a),
        "models/s95_q8/member_0.tflite": fileio.sha256_file(b),
    }
    fileio.atomic_write_bytes(a, b.read_bytes())  # the 95 % member copied over the 50 % one
    with pytest.raises(StoreError, match=f"{a} is corrupt or was not written by this pipeline"):
        st.has_files([a])
    with pytest.raises(StoreError, match=f"{a} is corrupt or was not written by this pipeline"):
        st.verified_checksums()


def test_verified_names_a_missing_file(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    path = st.model_path("q8", 1, ".tflite")
    fileio.atomic_write_bytes(path, b"abc")
    st.record_files([path])
    path.unlink()
    assert not st.has_files([path])
    with pytest.raises(
        StoreError, match=f"{path} is missing from the store; rebuild it with `python -m helpers train --profile smoke`\\.$"
    ):
        st.verified(path)


def test_json_helpers_and_timings(tmp_path):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    assert st.read_json("sizes.json") is None and st.read_json("sizes.json", {}) == {}
    st.update_json("execution.json", "01_data", {"seconds": 1.0})
    st.update_json("execution.json", "02_training", {"seconds": 2.0})
    assert st.read_json("execution.json") == {"01_data": {"seconds": 1.0}, "02_training": {"seconds": 2.0}}
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


# ------------------------------------------------------------------------- lineage, caches
def test_a_manifest_of_the_single_hash_era_is_migrated(tmp_path):
    cfg = load_config("smoke")
    root = tmp_path / "s"
    root.mkdir()
    fileio.atomic_write_bytes(root / "models" / "baseline" / "member_0.keras", b"weights")
    (root / "histories.json").write_text('{"train": []}')
    legacy = {
        "config_hash": "0123456789abcdef",
        "config": cfg.values(),
        "files": {"models/baseline/member_0.keras": fileio.sha256_file(root / "models" / "baseline" / "member_0.keras")},
    }
    (root / "manifest.json").write_text(json.dumps(legacy))
    st = Store(cfg, root=root)
    m = st.manifest()
    assert m["config_hash"] == cfg.hash
    assert m["stage_hashes"] == {"training": cfg.stage_hash("training"), "pruning": cfg.hash}
    assert m["derived"]["histories.json"]["inputs"] == {"files": legacy["files"]}
    assert st.read_json("histories.json") == {"train": []}
    # a legacy store of other training values is refused, as before
    legacy["config"] = load_config("smoke", epochs=3).values()
    (root / "manifest.json").write_text(json.dumps(legacy))
    with pytest.raises(StoreError, match="was written by config hash "):
        Store(cfg, root=root)


def test_derived_files_round_trip_and_say_why_they_are_recomputed(tmp_path, capsys):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    model = st.model_path("q8", 0, ".tflite")
    fileio.atomic_write_bytes(model, b"model")
    assert st.lineage([model], stage="x") is None  # not recorded yet
    st.record_files([model])
    inputs = st.lineage([model], stage="x")
    assert inputs == {"files": {"models/q8/member_0.tflite": fileio.sha256_file(model)}, "stage": "x"}
    st.write_derived("sizes.json", {"q8": 1}, inputs)
    assert st.read_derived("sizes.json", inputs, compute=False) == {"q8": 1}
    assert st.manifest()["derived"]["sizes.json"] == {"sha256": fileio.sha256_file(st.path("sizes.json")), "inputs": inputs}

    other = {**inputs, "stage": "y"}
    assert st.read_derived("sizes.json", other, compute=True) is None
    assert capsys.readouterr().out == (
        f"{st.path('sizes.json')} was computed from other inputs (stage changed): recomputing it.\n"
    )
    with pytest.raises(StoreError) as err:
        st.read_derived("sizes.json", other, compute=False)
    assert str(err.value) == (
        f"{st.path('sizes.json')} was computed from other inputs (stage "
        "changed); rebuild it with `python -m helpers train --profile smoke`."
    )
    with pytest.raises(
        StoreError,
        match=r"results.json is not in the store, and chapters never "
        r"compute it; build it with `python -m helpers evaluate "
        r"--profile smoke`\.$",
    ):
        st.read_derived("results.json", inputs, compute=False)
    assert st.read_derived("results.json", inputs, compute=True) is None


def test_prediction_caches_are_keyed_and_checked(tmp_path, capsys):
    st = Store(load_config("smoke"), root=tmp_path / "s")
    calls = []

    def compute(value):
        calls.append(value)
        return np.full((2, 3), value, np.float32)

    a = st.cached_array("predictions/q8_mnist_test", {"subset": 300}, lambda: compute(1))
    b = st.cached_array("predictions/q8_mnist_test", {"subset": 100}, lambda: compute(2))
    again = st.cached_array("predictions/q8_mnist_test", {"subset": 300}, lambda: compute(3))
    assert calls == [1, 2] and (a == 1).all() and (b == 2).all() and (again == 1).all()
    names = sorted(p.name for p in st.path("cache", "predictions").iterdir())
    assert len(names) == 4 and sum(n.endswith(".npy.sha256") for n in names) == 2
    assert capsys.readouterr().out == ""


def test_cli_command_names_the_values_that_differ_from_the_profile():
    cfg = load_config("smoke", sparsities=[0.5], test_subset=100, seed=0)
    assert S.cli_command("evaluate", cfg) == (
        "python -m helpers evaluate --profile smoke -p sparsities '[0.5]' -p test_subset 100"
    )
    assert S.cli_command("train", load_config("paper")) == "python -m helpers train --profile paper"


def test_chapters_neither_create_stores_nor_compute(artifacts_dir, capsys):
    cfg = load_config("smoke", seed=4)
    with pytest.raises(StoreError) as err:
        Store(cfg, create=False)
    root = artifacts_dir / f"smoke_{cfg.hash}"
    assert str(err.value) == (
        f"There is no store for this configuration at {root}; build it first "
        "with `python -m helpers train --profile smoke -p seed 4`."
    )
    assert not root.exists()
    st = Store(cfg)
    paths = [st.model_path("baseline", m, ".keras") for m in range(2)]
    with pytest.raises(StoreError) as err:
        st.require(paths, "train", compute=False)
    assert str(err.value) == (
        f"models/baseline/member_0.keras and 1 more is not in the store {root}, and chapters never "
        "train, prune or convert; build it with `python -m helpers train --profile smoke -p seed 4`."
    )
    st.require(paths, "train", compute=True)
    assert capsys.readouterr().out == (f"models/baseline/member_0.keras and 1 more not in the store {root}: computing it now.\n")


def test_results_of_other_evaluation_values_live_in_their_own_folder(artifacts_dir):
    assert Store(load_config("smoke")).results_name() == "results.json"
    cfg = load_config("smoke", ood_subset=50)
    st = Store(cfg)
    assert st.root == artifacts_dir / "smoke"
    assert st.results_name() == f"evaluations/{cfg.stage_hash('evaluation')}/results.json"
    st.write_derived(st.results_name(), {"variants": {}}, {"files": {}})
    assert "derived" not in st.manifest()  # the committed manifest is left alone
    assert st.read_derived(st.results_name(), {"files": {}}, compute=False) == {"variants": {}}


@pytest.mark.parametrize(
    "key, value", [("shift_subset", 50), ("test_subset", 150), ("bootstrap_samples", 100), ("ood_subset", 20)]
)
def test_no_evaluation_only_value_reaches_the_profile_results(artifacts_dir, key, value):
    # every evaluation-only key of config.STAGE_KEYS, shift_subset included (it once was not)
    cfg = load_config("smoke", **{key: value})
    assert Store(cfg).results_name() == f"evaluations/{cfg.stage_hash('evaluation')}/results.json"
    # another seed's own store keeps its own results.json
    assert Store(load_config("smoke", seed=3)).results_name() == "results.json"


def test_adopt_refuses_what_it_cannot_vouch_for(tmp_path):
    cfg = load_config("smoke")
    root = tmp_path / "s"
    Store(cfg, root=root)
    with pytest.raises(StoreError, match="already has a manifest.json; there is nothing to adopt"):
        Store(cfg, root=root, adopt=True).adopt(lambda p: None, set())
    (root / "manifest.json").unlink()
    with pytest.raises(StoreError, match="holds no model files to adopt"):
        Store(cfg, root=root, adopt=True).adopt(lambda p: None, set())
    fileio.atomic_write_bytes(root / "models" / "s30_q8" / "member_0.tflite", b"x")
    with pytest.raises(
        StoreError,
        match=r"s30_q8/member_0.tflite is not a model file of this "
        r"configuration, so the store was not adopted",
    ):
        Store(cfg, root=root, adopt=True).adopt(lambda p: None, {"models/q8/member_0.tflite"})
    assert not (root / "manifest.json").exists()
    adopted = Store(cfg, root=root, adopt=True).adopt(lambda p: None, {"models/s30_q8/member_0.tflite"})
    assert adopted == ["models/s30_q8/member_0.tflite"]
    assert Store(cfg, root=root).has_files([root / "models" / "s30_q8" / "member_0.tflite"])


def test_machine_info_names_the_cpu_and_its_simd_features(monkeypatch, tmp_path):
    """Stage times compare only on the same CPU: the manifest records its model and flags."""
    from helpers.core import provenance as st

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu fma avx avx2\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n"
    )
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(cpuinfo if path == "/proc/cpuinfo" else path, *a, **k))
    info = st.machine_info()
    assert info["cpu_model"] == "AMD EPYC"
    assert info["cpu_features"] == {
        "fma": True,
        "avx2": True,
        "avx512f": False,
        "avx512_vnni": False,
        "avx_vnni": False,
        "amx_int8": False,
    }
    monkeypatch.setattr("builtins.open", lambda *a, **k: (_ for _ in ()).throw(OSError("none")))
    assert st.cpu_model() is None and st.cpu_features() == {}


@pytest.mark.parametrize(
    "intra, inter, expected",
    [
        (None, None, {"intra_op": 0, "inter_op": 0}),
        ("", None, {"intra_op": 0, "inter_op": 0}),
        ("1", "2", {"intra_op": 1, "inter_op": 2}),
        (" 2 ", None, {"intra_op": 2, "inter_op": 0}),
    ],
)
def test_thread_setting_is_tensorflows_own_variables_and_is_recorded(monkeypatch, intra, inter, expected):
    from helpers.core import provenance as st

    for name, value in (("TF_NUM_INTRAOP_THREADS", intra), ("TF_NUM_INTEROP_THREADS", inter)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert st.tf_thread_setting() == expected
    assert st.machine_info()["tf_threads"] == expected


@pytest.mark.parametrize("text", ["one", "-1", "1,2", "1.5"])
def test_bad_thread_count_fails_before_training_and_says_how_to_write_it(monkeypatch, text):
    from helpers.engine import ensemble

    monkeypatch.setenv("TF_NUM_INTEROP_THREADS", text)
    with pytest.raises(
        ValueError,
        match=r"^TF_NUM_INTEROP_THREADS=.* is not a thread count; set it to a "
        r"whole number \(e\.g\. TF_NUM_INTEROP_THREADS=2\), or unset it",
    ):
        ensemble.enable_determinism(0)


def test_a_second_build_of_one_store_waits_for_the_first(tmp_path):
    import subprocess
    import sys

    st = Store(load_config("smoke"), root=tmp_path / "s")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom filelock import FileLock\nlock = FileLock(sys.argv[1])\n"
            "lock.acquire()\nprint('held', flush=True)\nsys.stdin.readline()",
            str(st.root / BUILD_LOCK),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    said = []

    def echo(text, **_):
        said.append(text)
        holder.stdin.write("\n")  # the first build finishes while the second waits
        holder.stdin.flush()

    with st.building(echo=echo):
        pass
    holder.wait(timeout=60)
    assert said == [f"Another build of {st.root} is running: waiting for it, then reusing what it made."]
    with st.building(echo=said.append):  # free now: no waiting, no line
        pass
    assert len(said) == 1
