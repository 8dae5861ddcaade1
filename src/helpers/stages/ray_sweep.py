"""The Ray engine of a seed sweep: one Ray task per seed (`num_cpus` per task) computes the
seed in a temporary store on the worker and sends back the bytes of the seed's store
(models, JSON, manifest; no caches, no checkpoints) with each file's sha256; the driver
writes them atomically into the seed's store here and checks each checksum. No shared file
system is assumed. Seeds whose store here is already complete are exported without Ray.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from helpers.core.fileio import atomic_write_bytes, atomic_write_json, sha256_bytes, sha256_file
from helpers.stages import records
from helpers.stages.records import SweepError, seed_summary

# Folders of a store that a worker does not send back: rebuilt on demand (git-ignored).
_NOT_SENT = ("cache", "checkpoints")


def _store_files(root: Path) -> dict[str, bytes]:
    """{relative path: bytes} of a store's files, less caches, checkpoints and temp files."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] not in _NOT_SENT and not any(part.startswith(".") for part in rel.parts):
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
        raise SweepError(
            f"Seed {seed} of profile {profile!r} hashes to {actual} on Ray node "
            f"{platform.node()} but to {expected_hash} on the driver; install the "
            f"same commit of the repository (and _config.yml) on every node."
        )
    tmp = tempfile.mkdtemp(prefix=f"cde-sweep-{profile}-{seed}-")
    previous = os.environ.get("CDE_ARTIFACTS_DIR")
    os.environ["CDE_ARTIFACTS_DIR"] = tmp  # read at each Store(); the worker process is reused
    try:
        start = time.perf_counter()
        exp, record = records.compute_seed(profile, seed, "ray")
        files = _store_files(exp.store.root)
        return {
            "seed": seed,
            "host": platform.node(),
            "wall_s": time.perf_counter() - start,
            "record": record,
            "files": files,
            "sha256": {rel: sha256_bytes(data) for rel, data in files.items()},
        }
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
    return (
        results.get("config_hash") == config_hash
        and results.get("evaluation_version") == EVALUATION_VERSION
        and bool(models)
        and all((root / rel).is_file() and sha256_file(root / rel) == sha for rel, sha in models.items())
    )


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
            raise SweepError(
                f"{path} arrived from the Ray worker with sha256 {actual[:16]}... "
                f"but the worker sent {reply['sha256'][rel][:16]}...; re-run the "
                f"sweep to fetch seed {reply['seed']} again."
            )
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
        raise SweepError(
            f"The Ray address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, the address `ray start --head` prints)."
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise SweepError(
            f"Nothing answered at the Ray address {address} within {timeout:g} s "
            f"({type(e).__name__}: {e}); start the head there with `ray start --head "
            f"--port {port}`, or pass the address it prints."
        ) from None


def sweep_on_ray(profile, seeds, hashes, root, address, num_cpus_per_task, summaries, done):
    """Run `seeds` (not yet recorded) on Ray, one task each, recording each as it arrives
    into `summaries` and calling `done(summary)`; SweepError naming the seeds that failed."""
    try:
        import ray
    except ImportError:
        raise SweepError(
            "The Ray engine needs the ray package; install the pinned requirements (pip install -r requirements.txt)."
        ) from None
    if address is not None:
        check_ray_address(address)  # before any work: ray.init would retry for minutes
    failures = []
    remote_seeds = []
    for seed in seeds:  # seeds already complete in this machine's store: just export
        if _complete_here(profile, seed, hashes[seed]):
            start = time.perf_counter()
            _, record = records.compute_seed(profile, seed, "local")
            records.write_record(root, seed, record)
            summaries[seed] = seed_summary(seed, "exported", time.perf_counter() - start, root, hashes[seed], host="driver")
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
            records.write_record(root, seed, records.with_weights(profile, seed, reply["record"]))
            summaries[seed] = seed_summary(
                seed,
                "computed",
                reply["wall_s"],
                root,
                hashes[seed],
                host=reply["host"],
                elapsed_s=round(time.perf_counter() - start, 2),
            )
            done(summaries[seed])
    finally:
        if started_here:
            ray.shutdown()
    if failures:
        raise SweepError(
            f"{len(failures)} seed(s) failed on Ray ({'; '.join(failures)}); the "
            f"others are recorded, and re-running the sweep retries only these."
        )
