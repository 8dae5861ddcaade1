"""Seed sweeps: each seed an independent experiment, run here or on a Ray cluster.

    run_sweep("smoke", parse_seeds("0-4"))                       # this machine, one by one
    run_sweep("paper", [0, 1, 2], engine="ray", address="HEAD:6379")

A seed is `load_config(profile, seed=s)`: its own config hash and store folder
(`artifacts/<profile>_<hash>/`; seed 0 of a profile whose default seed is 0 *is* the
profile's store `artifacts/<profile>/`). Per seed the sweep trains, compresses and
evaluates (`Experiment.build_all` + `evaluation.evaluate`) and then exports a small record
into the profile's store, the one the book reads::

    artifacts/<profile>/seeds/seed_<s>.json
        {"seed", "profile", "config_hash", "engine",
         "results"   (that seed's results.json, as written),
         "timings"   (its manifest's wall time per stage),
         "machine", "versions", "tf_threads"   (where and with what it was computed),
         "files"     ({models/...: sha256} of its model files)}

A seed whose record exists under its current config hash is skipped, so a killed sweep
resumes where it stopped: on this machine, inside the interrupted seed, per epoch (the
store's checkpoints); on Ray, the seeds in flight are recomputed.

The Ray engine runs one task per seed (`num_cpus` per task) in a temporary store on the
worker and sends back the bytes of the seed's store (models, JSON, manifest; no caches,
no checkpoints) with each file's sha256; the driver writes them atomically into the seed's
store here and checks each checksum. No shared file system is assumed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from helpers.core.fileio import atomic_write_bytes, atomic_write_json, sha256_bytes, sha256_file
from helpers.store.artifacts import artifacts_root

ENGINES = ("local", "ray")
MAX_SEEDS = 1000
"""A sweep names at most this many seeds (a paper seed costs about an hour of CPU)."""
RECORD_KEYS = ("seed", "config_hash", "results", "timings", "machine", "versions", "files")
# Folders of a store that a worker does not send back: rebuilt on demand (git-ignored).
_NOT_SENT = ("cache", "checkpoints")


class SweepError(ValueError):
    """A sweep that cannot run or finish as asked; the message says what to do."""


# --- seeds and records ----------------------------------------------------------------

def parse_seeds(text: str) -> list[int]:
    """"0-4" -> [0, 1, 2, 3, 4]; "0,2,5" -> [0, 2, 5]; "3" -> [3]; ranges and lists mix
    ("0-2,7"). Seeds are integers >= 0, each at most once, returned in the order given."""
    seeds: list[int] = []
    seen: set[int] = set()
    parts = str(text).replace(" ", "").split(",")
    for part in parts:
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if m and m.group(2) is not None and int(m.group(2)) < int(m.group(1)):
            raise SweepError(f"Seeds {text!r} hold the backward range {part!r}; write it "
                             f"low-high, e.g. {m.group(2)}-{m.group(1)}.")
        if not m:
            raise SweepError(f"Seeds {text!r} are not understood (at {part!r}); write a seed "
                             f"(3), a range (0-4) or a comma-separated list (0,2,5) of "
                             f"integers >= 0.")
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) is not None else low
        if len(seeds) + high - low + 1 > MAX_SEEDS:  # checked before any range is expanded
            raise SweepError(f"Seeds {text!r} name more than {MAX_SEEDS} seeds; sweep at most "
                             f"{MAX_SEEDS} at a time (e.g. 0-{MAX_SEEDS - 1}).")
        for seed in range(low, high + 1):
            if seed in seen:
                raise SweepError(f"Seeds {text!r} name seed {seed} twice; list each seed once.")
            seen.add(seed)
            seeds.append(seed)
    return seeds


def profile_store_root(profile: str) -> Path:
    """The profile's own store, where seed records go: `artifacts/<profile>/`."""
    return artifacts_root() / profile


def record_path(profile_root: Path, seed: int) -> Path:
    return Path(profile_root) / "seeds" / f"seed_{seed}.json"


def read_seed_record(path: Path) -> dict:
    """One seed record, checked: valid JSON, every key of RECORD_KEYS, seed as in its name."""
    path = Path(path)
    fix = ("delete it and re-run the sweep for that seed to recompute it "
           "(python -m helpers sweep --profile PROFILE --seeds N)")
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SweepError(f"Seed record {path} is not valid JSON ({e}); {fix}.") from None
    missing = [k for k in RECORD_KEYS if not isinstance(record, dict) or k not in record]
    if missing:
        raise SweepError(f"Seed record {path} lacks {', '.join(missing)}; {fix}.")
    if path.stem != f"seed_{record['seed']}":
        raise SweepError(f"Seed record {path} holds seed {record['seed']!r}, not the seed its "
                         f"name says; {fix}.")
    return record


def load_seed_records(profile_store_root: Path) -> list[dict]:
    """Every seed record under `<profile store>/seeds/`, sorted by seed ([] when none)."""
    folder = Path(profile_store_root) / "seeds"
    if not folder.is_dir():
        return []
    records = [read_seed_record(p) for p in folder.glob("seed_*.json")]
    return sorted(records, key=lambda r: r["seed"])


def _recorded(profile_root: Path, seed: int, config_hash: str) -> bool:
    """A record of this config whose results come from the current evaluation code."""
    from helpers.core.config import EVALUATION_VERSION
    path = record_path(profile_root, seed)
    if not path.exists():
        return False
    record = read_seed_record(path)
    return (record["config_hash"] == config_hash
            and record["results"].get("evaluation_version") == EVALUATION_VERSION)


def make_record(exp, engine: str) -> dict:
    """The record of a seed's built and evaluated experiment (read from its store)."""
    manifest = exp.store.manifest()
    results = json.loads(exp.store.path("results.json").read_text())
    return {"seed": exp.config.seed, "profile": exp.config.profile,
            "config_hash": exp.config.hash, "engine": engine, "results": results,
            "timings": manifest.get("timings", {}), "machine": manifest.get("machine"),
            "versions": manifest.get("versions"), "tf_threads": _tf_threads(),
            "files": exp.store.verified_checksums("models/")}  # each file's own sha256, checked


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


# --- engines ----------------------------------------------------------------------------

def run_sweep(profile: str, seeds, engine: str = "local", address: str | None = None,
              num_cpus_per_task: int = 2, on_seed_done=None) -> dict:
    """Run every seed of `seeds` not yet recorded; return {seed: summary}.

    A summary is {"seed", "status", "wall_s", "record" (path), "config_hash"} and, on Ray,
    "host". The status is "skipped" (recorded before), "computed", or, on Ray, "exported"
    (this machine's store of the seed was complete: recorded from it, nothing sent to Ray).
    `on_seed_done(summary)` is called as each seed finishes (skipped ones first). `address`
    is a Ray cluster address (None: a local Ray instance with this machine's CPUs, unless
    the caller started Ray already); it is an error with the local engine.
    """
    from helpers.core.config import load_config

    if engine not in ENGINES:
        raise SweepError(f"Sweep engine {engine!r} is unknown; use one of {', '.join(ENGINES)}.")
    if engine == "local" and address is not None:
        raise SweepError(f"A Ray address ({address}) was given with the local engine; add "
                         f"--engine ray to run on that cluster, or drop --address.")
    if isinstance(num_cpus_per_task, bool) or not isinstance(num_cpus_per_task, int) \
            or num_cpus_per_task < 1:
        raise SweepError(f"CPUs per task {num_cpus_per_task!r} is invalid; give an integer >= 1.")
    seeds = list(seeds)
    if not seeds:
        raise SweepError("The sweep was given no seeds; pass e.g. --seeds 0-4.")
    hashes = {s: load_config(profile, seed=s).hash for s in seeds}  # bad profile fails here
    root = profile_store_root(profile)
    done = on_seed_done or (lambda summary: None)
    summaries = {}
    todo = []
    for seed in seeds:
        if _recorded(root, seed, hashes[seed]):
            summaries[seed] = _summary(seed, "skipped", 0.0, root, hashes[seed])
            done(summaries[seed])
        else:
            todo.append(seed)
    if engine == "local":
        for seed in todo:
            start = time.perf_counter()
            _, record = compute_seed(profile, seed, "local")
            atomic_write_json(record_path(root, seed), record)
            summaries[seed] = _summary(seed, "computed", time.perf_counter() - start, root,
                                       hashes[seed])
            done(summaries[seed])
    elif todo:
        _ray_sweep(profile, todo, hashes, root, address, num_cpus_per_task, summaries, done)
    return {s: summaries[s] for s in seeds}


def _summary(seed, status, wall_s, root, config_hash, **extra) -> dict:
    return {"seed": seed, "status": status, "wall_s": round(wall_s, 2),
            "record": str(record_path(root, seed)), "config_hash": config_hash, **extra}


def _store_files(root: Path) -> dict[str, bytes]:
    """{relative path: bytes} of a store's files, less caches, checkpoints and temp files."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if (path.is_file() and rel.parts[0] not in _NOT_SENT
                and not any(part.startswith(".") for part in rel.parts)):
            out[rel.as_posix()] = path.read_bytes()
    return out


def seed_on_worker(profile: str, seed: int, expected_hash: str) -> dict:
    """What a Ray task runs: one seed in a temporary store on the worker, sent back whole.

    Returns {"seed", "host", "wall_s", "record", "files": {rel: bytes},
    "sha256": {rel: hex}}. The temporary store is removed before returning."""
    import platform

    from helpers.core.config import load_config

    actual = load_config(profile, seed=seed).hash
    if actual != expected_hash:
        raise SweepError(f"Seed {seed} of profile {profile!r} hashes to {actual} on Ray node "
                         f"{platform.node()} but to {expected_hash} on the driver; install the "
                         f"same commit of the repository (and _config.yml) on every node.")
    tmp = tempfile.mkdtemp(prefix=f"cde-sweep-{profile}-{seed}-")
    previous = os.environ.get("CDE_ARTIFACTS_DIR")
    os.environ["CDE_ARTIFACTS_DIR"] = tmp  # read at each Store(); the worker process is reused
    try:
        start = time.perf_counter()
        exp, record = compute_seed(profile, seed, "ray")
        files = _store_files(exp.store.root)
        return {"seed": seed, "host": platform.node(), "wall_s": time.perf_counter() - start,
                "record": record, "files": files,
                "sha256": {rel: sha256_bytes(data) for rel, data in files.items()}}
    finally:
        if previous is None:
            os.environ.pop("CDE_ARTIFACTS_DIR", None)
        else:
            os.environ["CDE_ARTIFACTS_DIR"] = previous
        shutil.rmtree(tmp, ignore_errors=True)


def _complete_here(profile: str, seed: int, config_hash: str) -> bool:
    """Whether this machine's store of the seed already holds evaluated results of the
    current config with every recorded model file intact: exporting its record then needs
    no training, and sending the seed to Ray would replace models that are already here."""
    from helpers.core.config import EVALUATION_VERSION, load_config
    from helpers.stages.experiment import Experiment

    root = Experiment(load_config(profile, seed=seed)).store.root
    try:
        results = json.loads((root / "results.json").read_text())
        files = json.loads((root / "manifest.json").read_text()).get("files", {})
    except (FileNotFoundError, json.JSONDecodeError):
        return False
    models = {rel: sha for rel, sha in files.items() if rel.startswith("models/")}
    return (results.get("config_hash") == config_hash
            and results.get("evaluation_version") == EVALUATION_VERSION
            and bool(models)
            and all((root / rel).is_file() and sha256_file(root / rel) == sha
                    for rel, sha in models.items()))


def receive_seed(profile: str, reply: dict) -> Path:
    """Write a worker's reply into the seed's store on this machine; return the store root.

    Every file is written atomically and its sha256, computed again from the written
    file, must equal the worker's; the worker's manifest is merged over the local one
    (its files' checksums added), and the now stale prediction cache is removed.
    """
    from helpers.core.config import load_config
    from helpers.stages.experiment import Experiment

    store = Experiment(load_config(profile, seed=reply["seed"])).store
    written = []
    for rel, data in sorted(reply["files"].items()):
        if rel == "manifest.json":
            continue
        path = store.path(*rel.split("/"))
        atomic_write_bytes(path, data)
        actual = sha256_file(path)
        if actual != reply["sha256"][rel]:
            raise SweepError(f"{path} arrived from the Ray worker with sha256 {actual[:16]}... "
                             f"but the worker sent {reply['sha256'][rel][:16]}...; re-run the "
                             f"sweep to fetch seed {reply['seed']} again.")
        written.append(path)
    sent = json.loads(reply["files"]["manifest.json"])
    here = store.manifest()
    merged = {**here, **sent, "files": {**here.get("files", {}), **sent.get("files", {})}}
    atomic_write_json(store.path("manifest.json"), merged)
    store.record_files(written)
    shutil.rmtree(store.path("cache"), ignore_errors=True)  # predictions of replaced models
    return store.root


RAY_ANSWER_SECONDS = 5.0
"""How long a Ray head may take to accept a connection before the sweep gives up."""


def check_ray_address(address: str, timeout: float = RAY_ANSWER_SECONDS) -> None:
    """Fail in one sentence, within `timeout` seconds, when a Ray address is malformed or
    nothing answers there (ray.init itself retries for minutes). 'auto' and ray:// client
    addresses are left to Ray."""
    import socket
    if address == "auto" or address.startswith("ray://"):
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SweepError(f"The Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, the "
                         f"address `ray start --head` prints).")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise SweepError(f"Nothing answered at the Ray address {address} within {timeout:g} s "
                         f"({type(e).__name__}: {e}); start the head there with `ray start --head "
                         f"--port {port}`, or pass the address it prints.") from None


def _ray_sweep(profile, seeds, hashes, root, address, num_cpus_per_task, summaries, done):
    try:
        import ray
    except ImportError:
        raise SweepError("The Ray engine needs the ray package; install the pinned "
                         "requirements (pip install -r requirements.txt).") from None
    if address is not None:
        check_ray_address(address)  # before any work: ray.init would retry for minutes
    failures = []
    remote_seeds = []
    for seed in seeds:  # seeds already complete in this machine's store: just export
        if _complete_here(profile, seed, hashes[seed]):
            start = time.perf_counter()
            _, record = compute_seed(profile, seed, "local")
            atomic_write_json(record_path(root, seed), record)
            summaries[seed] = _summary(seed, "exported", time.perf_counter() - start, root,
                                       hashes[seed], host="driver")
            done(summaries[seed])
        else:
            remote_seeds.append(seed)
    if not remote_seeds:
        return
    # TensorFlow would start one thread per core of the node: keep each task to the CPUs
    # Ray reserved for it, which also makes its numbers independent of the node's size.
    threads = str(num_cpus_per_task)
    env = {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads}
    if os.environ.get("CDE_DATA_DIR"):
        env["CDE_DATA_DIR"] = os.environ["CDE_DATA_DIR"]
    started_here = not ray.is_initialized()
    if started_here:
        options = {"include_dashboard": False, "log_to_driver": False}
        if address is None:
            ray.init(num_cpus=max(os.cpu_count() or 1, num_cpus_per_task), **options)
        else:
            ray.init(address=address, **options)
    try:
        task = ray.remote(num_cpus=num_cpus_per_task, max_retries=0)(seed_on_worker)
        task = task.options(runtime_env={"env_vars": env})
        start = time.perf_counter()
        pending = {task.remote(profile, s, hashes[s]): s for s in remote_seeds}
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            seed = pending.pop(ref)
            try:
                reply = ray.get(ref)
            except ray.exceptions.RayError as e:
                cause = getattr(e, "cause", None) or e
                first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
                failures.append(f"seed {seed}: {type(cause).__name__}: {first}")
                continue
            receive_seed(profile, reply)
            # the record is written once, complete: a kill between two writes would leave a
            # record without its weights, and a recorded seed is never computed again
            atomic_write_json(record_path(root, seed), with_weights(profile, seed, reply["record"]))
            summaries[seed] = _summary(seed, "computed", reply["wall_s"], root, hashes[seed],
                                       host=reply["host"],
                                       elapsed_s=round(time.perf_counter() - start, 2))
            done(summaries[seed])
    finally:
        if started_here:
            ray.shutdown()
    if failures:
        raise SweepError(f"{len(failures)} seed(s) failed on Ray ({'; '.join(failures)}); the "
                         f"others are recorded, and re-running the sweep retries only these.")
