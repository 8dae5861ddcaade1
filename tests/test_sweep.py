"""helpers.stages.sweep, .records and .ray_sweep: seed parsing, seed records, the sweep's
control flow (stand-in seeds), the driver's side of the Ray engine on hand-made replies, and,
on the real smoke profile, the local engine and the Ray engine (a local Ray instance,
ray.init(num_cpus=2)) on two seeds, the Ray sweep killed with SIGKILL after its first seed and
resumed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, needs_real_data, real_data_dir
from helpers.core import fileio
from helpers.core.config import load_config
from helpers.core.fileio import sha256_file
from helpers.stages import ray_sweep as RS
from helpers.stages import records as R
from helpers.stages import sweep as S
from helpers.stages.evaluation import EVALUATION_VERSION

SMOKE_SEEDS = [0, 1]
# Both engines run TensorFlow with 2 threads, as the Ray engine does with 2 CPUs per task:
# weights are bit-reproducible only with the same thread count.
THREADS_ENV = {"TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "2"}


# --- parse_seeds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seeds",
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("0,2,5", [0, 2, 5]),
        ("3", [3]),
        ("7", [7]),
        ("0-2,7", [0, 1, 2, 7]),
        (" 5, 1 ", [5, 1]),
        ("4-4", [4]),
        ("10-12", [10, 11, 12]),
    ],
)
def test_parse_seeds(text, seeds):
    assert S.parse_seeds(text) == seeds


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "",
            r"Seeds '' are not understood \(at ''\); write a seed \(3\), a range \(0-4\) or a "
            r"comma-separated list \(0,2,5\) of integers >= 0\.",
        ),
        ("a", r"Seeds 'a' are not understood \(at 'a'\)"),
        ("-1", r"Seeds '-1' are not understood \(at '-1'\)"),
        ("1,,2", r"Seeds '1,,2' are not understood \(at ''\)"),
        ("0-", r"Seeds '0-' are not understood \(at '0-'\)"),
        ("1.5", r"Seeds '1.5' are not understood \(at '1.5'\)"),
        ("4-2", r"Seeds '4-2' hold the backward range '4-2'; write it low-high, e.g. 2-4\."),
        ("0-2,1", r"Seeds '0-2,1' name seed 1 twice; list each seed once\."),
    ],
)
def test_parse_seeds_rejects_bad_text_in_one_sentence(text, message):
    with pytest.raises(ValueError, match=message):
        S.parse_seeds(text)


# --- records ----------------------------------------------------------------------------


def _record(seed: int, config_hash: str = "h", accuracy: float = 0.9) -> dict:
    return {
        "seed": seed,
        "profile": "smoke",
        "config_hash": config_hash,
        "engine": "local",
        "results": {
            "seed": seed,
            "evaluation_version": EVALUATION_VERSION,
            "variants": {"baseline": {"mnist": {"accuracy": accuracy}}},
        },
        "timings": {"training": 1.0},
        "machine": {"cpu_count": 2},
        "versions": {},
        "tf_threads": None,
        "files": {"models/baseline/member_0.tflite": "ab"},
    }


def test_parse_seeds_refuses_a_huge_range_at_once():
    # refused from the range's two ends, before any seed of it is listed
    with pytest.raises(R.SweepError, match=r"Seeds '0-100000' name more than 1000 seeds"):
        S.parse_seeds("0-100000")
    with pytest.raises(R.SweepError, match=r"Seeds '0-10,20-1009' name more than 1000 seeds"):
        S.parse_seeds("0-10,20-1009")
    assert len(S.parse_seeds("0-999")) == 1000


def test_load_seed_records_sorted_by_seed(tmp_path):
    assert R.load_seed_records(tmp_path) == []
    for seed in (10, 2, 0):
        fileio.atomic_write_json(R.record_path(tmp_path, seed), _record(seed, accuracy=seed / 100))
    (tmp_path / "seeds" / "notes.txt").write_text("not a record")
    records = R.load_seed_records(tmp_path)
    assert [r["seed"] for r in records] == [0, 2, 10]
    assert records[1]["results"]["variants"]["baseline"]["mnist"]["accuracy"] == 0.02


def test_corrupt_seed_record_is_named(tmp_path):
    fileio.atomic_write_json(R.record_path(tmp_path, 0), _record(0))
    bad = R.record_path(tmp_path, 3)
    bad.write_text('{"seed": 3, "config')
    with pytest.raises(
        ValueError,
        match=rf"Seed record {bad} is not valid JSON \(.*\); delete it "
        r"and re-run the sweep for that seed to recompute it "
        r"\(python -m helpers sweep --profile PROFILE --seeds N\)\.",
    ):
        R.load_seed_records(tmp_path)
    fileio.atomic_write_json(bad, {k: v for k, v in _record(3).items() if k not in ("timings", "files")})
    with pytest.raises(ValueError, match=rf"Seed record {bad} lacks timings, files; delete it"):
        R.load_seed_records(tmp_path)
    fileio.atomic_write_json(bad, _record(4))
    with pytest.raises(ValueError, match=rf"Seed record {bad} holds seed 4, not the seed its name"):
        R.load_seed_records(tmp_path)


# --- run_sweep's control flow, with stand-in seeds ----------------------------------------


@pytest.fixture
def fake_compute(artifacts_dir, monkeypatch):
    """compute_seed replaced by a stand-in that records its calls (no training)."""
    calls = []

    def compute(profile, seed, engine="local"):
        calls.append(seed)
        return None, _record(seed, load_config(profile, seed=seed).hash, accuracy=0.5 + seed / 10)

    monkeypatch.setattr(R, "compute_seed", compute)
    return calls


def test_sweep_records_each_seed_and_skips_recorded_ones(artifacts_dir, fake_compute):
    done = []
    out = S.run_sweep("smoke", [2, 0], on_seed_done=done.append)
    assert fake_compute == [2, 0]
    assert [d["seed"] for d in done] == [2, 0] and list(out) == [2, 0]
    assert {d["status"] for d in done} == {"computed"}
    root = artifacts_dir / "smoke"
    assert out[2]["record"] == str(root / "seeds" / "seed_2.json")
    assert out[2]["config_hash"] == load_config("smoke", seed=2).hash
    assert [r["results"]["variants"]["baseline"]["mnist"]["accuracy"] for r in R.load_seed_records(root)] == [0.5, 0.7]
    # again, with one more seed: only the new one is computed
    out = S.run_sweep("smoke", [0, 1, 2])
    assert fake_compute == [2, 0, 1]
    assert [out[s]["status"] for s in (0, 1, 2)] == ["skipped", "computed", "skipped"]


def test_sweep_recomputes_a_seed_recorded_under_another_config(artifacts_dir, fake_compute):
    fileio.atomic_write_json(R.record_path(artifacts_dir / "smoke", 1), _record(1, "stale"))
    out = S.run_sweep("smoke", [1])
    assert fake_compute == [1] and out[1]["status"] == "computed"
    assert R.load_seed_records(artifacts_dir / "smoke")[0]["config_hash"] == load_config("smoke", seed=1).hash


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"engine": "dask"}, r"Sweep engine 'dask' is unknown; use one of local, ray\."),
        (
            {"address": "head:6379"},
            r"A Ray address \(head:6379\) was given with the local engine; "
            r"add --engine ray to run on that cluster, or drop --address\.",
        ),
        ({"num_cpus_per_task": 0}, r"CPUs per task 0 is invalid; give an integer >= 1\."),
        ({"seeds": []}, r"The sweep was given no seeds; pass e\.g\. --seeds 0-4\."),
        ({"profile": "huge"}, r"Profile 'huge' is not defined in"),
    ],
)
def test_sweep_rejects_bad_arguments(artifacts_dir, fake_compute, kwargs, message):
    args = {"profile": "smoke", "seeds": [0], **kwargs}
    with pytest.raises(ValueError, match=message):
        S.run_sweep(args.pop("profile"), args.pop("seeds"), **args)
    assert fake_compute == []


def test_cli_prints_one_error_line(artifacts_dir, capsys):
    from helpers.build.cli import main

    assert main(["sweep", "--profile", "smoke", "--seeds", "3-1"]) == 1
    assert capsys.readouterr().err == ("error: Seeds '3-1' hold the backward range '3-1'; write it low-high, e.g. 1-3.\n")


# --- the driver's side of the Ray engine, on hand-made replies ------------------------------


def _reply(seed: int, files: dict) -> dict:
    manifest = {
        "config_hash": load_config("smoke", seed=seed).hash,
        "machine": {"cpu_count": 64},
        "timings": {"training": 3.0},
        "files": {rel: hashlib.sha256(b).hexdigest() for rel, b in files.items()},
    }
    files = {**files, "manifest.json": json.dumps(manifest).encode()}
    return {
        "seed": seed,
        "host": "node-a",
        "wall_s": 1.0,
        "record": _record(seed),
        "files": files,
        "sha256": {rel: hashlib.sha256(b).hexdigest() for rel, b in files.items()},
    }


def test_received_files_land_in_the_seed_store_with_checksums(artifacts_dir):
    files = {"models/baseline/member_0.tflite": b"\x00tflite", "results.json": b'{"a": 1}'}
    root = RS.receive_seed("smoke", _reply(1, files))
    assert root == artifacts_dir / f"smoke_{load_config('smoke', seed=1).hash}"
    assert (root / "models" / "baseline" / "member_0.tflite").read_bytes() == b"\x00tflite"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["machine"] == {"cpu_count": 64} and manifest["timings"] == {"training": 3.0}
    assert manifest["files"] == {rel: hashlib.sha256(b).hexdigest() for rel, b in files.items()}
    assert "versions" in manifest  # kept from the store the driver opened


def test_a_file_damaged_in_transit_is_refused(artifacts_dir):
    reply = _reply(1, {"models/baseline/member_0.tflite": b"\x00tflite"})
    reply["files"]["models/baseline/member_0.tflite"] = b"\x00tflitX"
    path = artifacts_dir / f"smoke_{load_config('smoke', seed=1).hash}" / "models" / "baseline" / "member_0.tflite"
    with pytest.raises(
        ValueError,
        match=rf"{path} arrived from the Ray worker with sha256 "
        r"[0-9a-f]{16}\.\.\. but the worker sent [0-9a-f]{16}\.\.\.; "
        r"re-run the sweep to fetch seed 1 again\.",
    ):
        RS.receive_seed("smoke", reply)


def test_worker_refuses_a_config_that_hashes_differently(artifacts_dir):
    with pytest.raises(
        ValueError,
        match=r"Seed 2 of profile 'smoke' hashes to [0-9a-f]{16} on "
        r"Ray node .* but to 0123 on the driver; install the same "
        r"commit of the repository \(and _config.yml\) on every node\.",
    ):
        RS.seed_on_worker("smoke", 2, "0123")


class FakeRay:
    """Stands in for the ray module: tasks run at once, in order, in this process."""

    class exceptions:
        class RayError(Exception):
            pass

    class TaskError(exceptions.RayError):
        def __init__(self, cause):
            super().__init__(f"task failed\n{cause!r}")
            self.cause = cause

    class Ref:  # an object ref: hashable, holds the task's outcome
        def __init__(self, kind, value):
            self.kind, self.value = kind, value

    def __init__(self):
        self.calls = []

    def is_initialized(self):
        return False

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))

    def shutdown(self):
        self.calls.append(("shutdown",))

    def remote(self, **resources):
        fake = self

        class Task:
            def __init__(self, fn, options=None):
                self.fn, self.opts = fn, options

            def options(self, **options):
                fake.calls.append(("options", resources, options))
                return Task(self.fn, options)

            def remote(self, *args):
                try:
                    return FakeRay.Ref("ok", self.fn(*args))
                except Exception as e:
                    return FakeRay.Ref("error", fake.TaskError(e))

        return Task

    def wait(self, refs, num_returns=1):
        return refs[:1], refs[1:]

    def get(self, ref):
        if ref.kind == "error":
            raise ref.value
        return ref.value


def test_ray_engine_records_the_seeds_that_succeed_and_names_those_that_fail(artifacts_dir, monkeypatch):
    fake = FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setenv("CDE_DATA_DIR", "/data/mnist")

    def worker(profile, seed, expected_hash):
        if seed == 1:
            raise RuntimeError("out of memory\nsecond line")
        reply = _reply(seed, {"models/baseline/member_0.tflite": b"m%d" % seed})
        return {**reply, "record": _record(seed, expected_hash)}

    monkeypatch.setattr(RS, "seed_on_worker", worker)
    # the fake replies carry no real models to pack (packing on Ray is tested on the smoke sweep)
    monkeypatch.setattr(R, "with_weights", lambda profile, seed, record: record)
    done = []
    with pytest.raises(
        ValueError,
        match=r"^1 seed\(s\) failed on Ray \(seed 1: RuntimeError: out "
        r"of memory\); the others are recorded, and re-running the "
        r"sweep retries only these\.$",
    ):
        S.run_sweep("smoke", [0, 1, 2], engine="ray", num_cpus_per_task=3, on_seed_done=done.append)
    assert [(d["seed"], d["status"], d["host"]) for d in done] == [(0, "computed", "node-a"), (2, "computed", "node-a")]
    assert [r["seed"] for r in R.load_seed_records(artifacts_dir / "smoke")] == [0, 2]
    assert fake.calls[0] == ("init", {"num_cpus": max(os.cpu_count(), 3), "include_dashboard": False, "log_to_driver": False})
    assert fake.calls[1] == (
        "options",
        {"num_cpus": 3, "max_retries": 0},
        {
            "runtime_env": {
                "env_vars": {"TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "3", "CDE_DATA_DIR": "/data/mnist"}
            }
        },
    )
    assert fake.calls[-1] == ("shutdown",)
    stored = artifacts_dir / f"smoke_{load_config('smoke', seed=2).hash}" / "models" / "baseline"
    assert (stored / "member_0.tflite").read_bytes() == b"m2"


# --- the engines on the real smoke profile ---------------------------------------------------


def _env(artifacts: Path, cache: Path) -> dict:
    return {
        **os.environ,
        **THREADS_ENV,
        "CDE_ARTIFACTS_DIR": str(artifacts),
        "CDE_CACHE_DIR": str(cache),
        "CDE_DATA_DIR": str(real_data_dir()),
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }


def _model_checksums(store: Path) -> dict:
    """{models/...: sha256} of every model file in a store folder, from the files themselves."""
    return {p.relative_to(store).as_posix(): sha256_file(p) for p in sorted((store / "models").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The smoke profile's seeds 0 and 1 swept by the local engine (a fresh process, 2
    TensorFlow threads); returns the artifacts folder and the command's output."""
    tmp = tmp_path_factory.mktemp("local_sweep")
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "sweep", "--profile", "smoke", "--seeds", "0-1"],
        env=_env(tmp / "artifacts", tmp / "cache"),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "artifacts", proc.stdout


@needs_real_data
@pytest.mark.slow
def test_local_engine_records_two_different_seeds(local_sweep):
    artifacts, stdout = local_sweep
    root = artifacts / "smoke"
    # one line per seed (the store's own "computing it now" lines come first)
    lines = [line for line in stdout.strip().splitlines() if line.startswith("seed ")]
    assert [line.split(":")[0] for line in lines] == ["seed 0", "seed 1"]
    assert all(" done in " in line and line.endswith(".json") for line in lines)
    records = R.load_seed_records(root)
    assert [r["seed"] for r in records] == SMOKE_SEEDS
    for record in records:
        cfg = load_config("smoke", seed=record["seed"])
        store = root if record["seed"] == 0 else artifacts / f"smoke_{cfg.hash}"
        assert record["config_hash"] == cfg.hash and record["engine"] == "local"
        assert record["results"] == json.loads((store / "results.json").read_text())
        manifest = json.loads((store / "manifest.json").read_text())
        assert record["timings"] == manifest["timings"] and set(record["timings"]) >= {"training"}
        assert record["machine"] == manifest["machine"] and record["tf_threads"] == 2
        assert record["files"] == _model_checksums(store)
    a, b = (r["results"]["variants"]["baseline"]["mnist"] for r in records)
    assert a["nll"] != b["nll"]  # independent seeds: other weights, other numbers


@needs_real_data
@pytest.mark.slow
def test_local_engine_skips_recorded_seeds_without_training(local_sweep, monkeypatch):
    artifacts, _ = local_sweep
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(artifacts))
    before = {p: p.read_bytes() for p in (artifacts / "smoke" / "seeds").iterdir()}

    def no_training(*args, **kwargs):
        raise AssertionError("a recorded seed was computed again")

    monkeypatch.setattr(R, "compute_seed", no_training)
    out = S.run_sweep("smoke", SMOKE_SEEDS)
    assert [out[s]["status"] for s in SMOKE_SEEDS] == ["skipped", "skipped"]
    assert {p: p.read_bytes() for p in before} == before


RAY_SWEEP = """
import json, sys, ray
from helpers.stages.sweep import run_sweep
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
try:
    out = run_sweep("smoke", [0, 1], engine="ray", num_cpus_per_task=2,
                    on_seed_done=lambda s: print(json.dumps(s), flush=True))
finally:
    ray.shutdown()
"""


def _processes_in_session(sid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return pids


@needs_real_data
@pytest.mark.slow
def test_ray_engine_killed_and_resumed_matches_the_local_engine(local_sweep, tmp_path):
    """A local Ray instance with 2 CPUs and 2 CPUs per task runs the seeds one after the
    other; the driver is killed (SIGKILL) once seed 0 is recorded, then run again."""
    artifacts, cache = tmp_path / "artifacts", tmp_path / "cache"
    env = _env(artifacts, cache)
    record_0 = R.record_path(artifacts / "smoke", 0)
    record_1 = R.record_path(artifacts / "smoke", 1)
    worker_tmp = set(Path(tempfile.gettempdir()).glob("cde-sweep-smoke-*"))
    # its own session, so that the Ray processes it starts can be ended with it
    proc = subprocess.Popen(
        [sys.executable, "-c", RAY_SWEEP],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 1200
        while not record_0.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert record_0.exists(), f"seed 0 was not recorded (exit status {proc.poll()})"
        proc.kill()  # SIGKILL: no clean-up code of the sweep runs
        proc.wait(timeout=60)
    finally:
        proc.kill()
        time.sleep(5)  # Ray's own processes notice their driver is gone
        for pid in _processes_in_session(proc.pid):  # whatever of Ray's is left
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert not record_1.exists()  # seed 1 was in flight (or not started) and is lost
    kept = record_0.read_bytes(), record_0.stat().st_mtime_ns
    for folder in set(Path(tempfile.gettempdir()).glob("cde-sweep-smoke-*")) - worker_tmp:
        shutil.rmtree(folder, ignore_errors=True)  # the killed task's store: its finally never ran

    rerun = subprocess.run([sys.executable, "-c", RAY_SWEEP], env=env, capture_output=True, text=True, timeout=1800)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summaries = [json.loads(line) for line in rerun.stdout.splitlines() if line.startswith("{")]
    assert [(s["seed"], s["status"]) for s in summaries] == [(0, "skipped"), (1, "computed")]
    assert (record_0.read_bytes(), record_0.stat().st_mtime_ns) == kept  # not recomputed

    local = {r["seed"]: r for r in R.load_seed_records(local_sweep[0] / "smoke")}
    for record in R.load_seed_records(artifacts / "smoke"):
        seed = record["seed"]
        cfg = load_config("smoke", seed=seed)
        store = artifacts / ("smoke" if seed == 0 else f"smoke_{cfg.hash}")
        assert record["engine"] == "ray" and record["tf_threads"] == 2
        # the models and JSON files arrived in the driver's store, checksums recorded
        manifest = json.loads((store / "manifest.json").read_text())
        sent = [
            p
            for p in store.rglob("*")
            if p.is_file()
            and p.name != "manifest.json"
            and not p.name.startswith(".")  # the driver's own lock file
            # seeds/, weights/ and per_image/ belong to the profile (seed 0's store is the profile's)
            and p.relative_to(store).parts[0] not in ("seeds", "weights", "per_image", "cache", "checkpoints")
        ]
        assert {"results.json", "sizes.json", "histories.json"} <= {p.name for p in sent}
        # the driver packed the weights of the seed it received, named in the record
        ((pack, sha),) = record["weights"].items()
        assert pack == f"weights/seed_{seed}.weights.zip" and sha256_file(artifacts / "smoke" / pack) == sha
        ((pack, sha),) = record["per_image"].items()  # and its per-image losses
        assert pack == f"per_image/seed_{seed}.per_image.zip" and sha256_file(artifacts / "smoke" / pack) == sha
        assert sha == local[seed]["per_image"][pack]  # the same losses as the local engine's
        for path in sent:
            assert manifest["files"][path.relative_to(store).as_posix()] == sha256_file(path)
        assert record["files"] == _model_checksums(store)
        # the same numbers as the local engine; the TFLite files are byte-identical too
        # (a .keras file holds its save time, so only those differ)
        assert record["results"] == local[seed]["results"]
        tflite = {rel: sha for rel, sha in record["files"].items() if rel.endswith(".tflite")}
        assert len(tflite) >= 2 * len(load_config("smoke").sparsities) * 2
        assert tflite == {rel: sha for rel, sha in local[seed]["files"].items() if rel.endswith(".tflite")}


@needs_real_data
@pytest.mark.slow
def test_ray_engine_exports_seeds_already_complete_here_without_ray(local_sweep, tmp_path, monkeypatch):
    """Seeds whose store on the driver is complete (e.g. the committed paper seed 0) are
    recorded from it: nothing is sent to Ray, and the models here are kept."""
    import ray

    artifacts = tmp_path / "artifacts"
    shutil.copytree(local_sweep[0], artifacts)
    shutil.rmtree(artifacts / "smoke" / "seeds")
    monkeypatch.setenv("CDE_ARTIFACTS_DIR", str(artifacts))

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started for seeds complete on the driver")

    monkeypatch.setattr(ray, "init", no_ray)
    out = S.run_sweep("smoke", SMOKE_SEEDS, engine="ray")
    assert [(out[s]["status"], out[s]["host"]) for s in SMOKE_SEEDS] == [("exported", "driver")] * 2
    local = R.load_seed_records(local_sweep[0] / "smoke")
    exported = R.load_seed_records(artifacts / "smoke")
    assert [r["results"] for r in exported] == [r["results"] for r in local]
    assert [r["files"] for r in exported] == [r["files"] for r in local]


def test_a_ray_address_that_does_not_answer_fails_within_seconds():
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a free port: nothing listens there
    with pytest.raises(
        R.SweepError,
        match=rf"Nothing answered at the Ray address 127.0.0.1:{port} within 5 s "
        rf"\(ConnectionRefusedError.*`ray start --head --port {port}`",
    ):
        RS.check_ray_address(f"127.0.0.1:{port}")
    with pytest.raises(R.SweepError, match=r"The Ray address 'HEAD' is not HOST:PORT"):
        RS.check_ray_address("HEAD")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        RS.check_ray_address(f"127.0.0.1:{server.getsockname()[1]}")  # something answers: no error
    finally:
        server.close()
    RS.check_ray_address("auto")


def test_sweep_with_frontier_gives_the_same_seeds_their_frontier(monkeypatch, capsys):
    """`sweep --frontier` writes the swept seeds' weights packs, then their frontier, after the sweep."""
    from helpers.build.cli import main
    from helpers.stages import frontier_sweep, reopen

    calls = []
    monkeypatch.setattr(reopen, "export_weights", lambda profile, seeds: calls.append(("weights", profile, list(seeds))) or {})
    monkeypatch.setattr(S, "run_sweep", lambda profile, seeds, **kw: calls.append(("sweep", profile, list(seeds))))
    monkeypatch.setattr(frontier_sweep, "run_frontier", lambda profile, seeds: calls.append(("frontier", profile, list(seeds))))
    assert main(["sweep", "--profile", "smoke", "--seeds", "0,2-3", "--frontier"]) == 0
    assert calls == [("sweep", "smoke", [0, 2, 3]), ("weights", "smoke", [0, 2, 3]), ("frontier", "smoke", [0, 2, 3])]
    calls.clear()
    assert main(["sweep", "--profile", "smoke", "--seeds", "1"]) == 0
    assert calls == [("sweep", "smoke", [1])]
