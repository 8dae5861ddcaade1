"""The engine against this machine's own limit: GEMM peak vs achieved training FLOP/s.

In one run, on one machine:
1. float32 GEMM throughput, a large square matmul (2048², best of --repeats) in NumPy
   (OpenBLAS) and in TensorFlow: the practical peak of this CPU;
2. the engine's training epoch (M fused members, the paper's batch size) and its
   re-training epoch (every sparsity plus the control in one fused graph, tfmot masks),
   both on the first --n MNIST training images; achieved FLOP/s from helpers.flops;
3. achieved / peak for each, and re-training / training cost per member-image;
4. the training epoch again with --steps-per-execution batches per graph call.

Results merge into benchmarks/results.json under "limit" (machine, versions, ratios).

    .venv/bin/python benchmarks/bench_limit.py [--n 6400] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from helpers import compression, data, ensemble, flops, models  # noqa: E402
from helpers.config import load_config  # noqa: E402
from helpers.store import atomic_write_json, library_versions, machine_info  # noqa: E402

RESULTS = Path(__file__).with_name("results.json")


def gemm_gflops(n: int, repeats: int) -> dict:
    import tensorflow as tf
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    out = {}
    for name, fn in (("numpy", lambda: a @ b),
                     ("tensorflow", lambda: tf.linalg.matmul(ta, tb).numpy())):
        if name == "tensorflow":
            ta, tb = tf.constant(a), tf.constant(b)
        fn()
        best = min(_timed(fn) for _ in range(repeats))
        out[name] = 2 * n**3 / best / 1e9
    return out


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def epoch_seconds(cfg, x, y, retrain: bool, steps_per_execution: int = 1) -> tuple[float, int]:
    """(wall seconds of the second epoch, member-images per epoch): the first epoch carries
    graph tracing, so the time between the first and second epoch-end callbacks is kept."""
    stamps = []

    def tick(*_):
        stamps.append(time.perf_counter())

    if retrain:
        c = load_config("paper", validation_split=0.0, retrain_epochs=2)
        members = [models.build_member(c, c.member_seed(m), prefix=f"m{m}_") for m in range(c.ensemble_size)]
        targets = [compression.CONTROL, *c.sparsities]
        compression.prune_all(c, members, x, y, targets, on_epoch=tick)
        return stamps[1] - stamps[0], len(x) * c.ensemble_size * len(targets)
    c = load_config("paper", validation_split=0.0, epochs=2)
    ensemble.train_ensemble(c, x, y, on_epoch=tick, steps_per_execution=steps_per_execution)
    return stamps[1] - stamps[0], len(x) * c.ensemble_size


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6400, help="training images (first n)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gemm", type=int, default=2048)
    parser.add_argument("--steps-per-execution", type=int, default=16,
                        help="batches per graph call for the second training measurement")
    args = parser.parse_args(argv)
    cfg = load_config("paper", validation_split=0.0)
    (x_all, y_all), _ = data.load_mnist()
    x, y = x_all[: args.n], y_all[: args.n]
    ensemble.enable_determinism(0)
    peak = gemm_gflops(args.gemm, args.repeats)
    per_image = flops.training_flops_per_image(cfg)
    out = {"gemm_gflops": peak, "flops_per_training_image": per_image}
    for stage, retrain in (("training", False), ("retraining", True)):
        seconds, member_images = epoch_seconds(cfg, x, y, retrain)
        achieved = per_image * member_images / seconds / 1e9
        out[stage] = {"epoch_seconds": seconds, "member_images": member_images, "gflops": achieved,
                      "of_numpy_peak": achieved / peak["numpy"], "of_tensorflow_peak": achieved / peak["tensorflow"]}
    spe_seconds, _ = epoch_seconds(cfg, x, y, False, args.steps_per_execution)
    out["training_steps_per_execution"] = {
        "steps_per_execution": args.steps_per_execution, "epoch_seconds": spe_seconds,
        "speedup": out["training"]["epoch_seconds"] / spe_seconds}
    out["retraining_cost_per_member_image"] = (
        (out["retraining"]["epoch_seconds"] / out["retraining"]["member_images"])
        / (out["training"]["epoch_seconds"] / out["training"]["member_images"]))
    print(f"bench_limit: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, {args.n} images")
    print(f"  GEMM {args.gemm}²: NumPy {peak['numpy']:.0f} GFLOP/s, TensorFlow {peak['tensorflow']:.0f} GFLOP/s")
    for stage in ("training", "retraining"):
        s = out[stage]
        print(f"  {stage:<10} {s['gflops']:5.1f} GFLOP/s = {s['of_numpy_peak']:.0%} of NumPy's GEMM, "
              f"{s['of_tensorflow_peak']:.0%} of TensorFlow's ({s['epoch_seconds']:.1f} s/epoch)")
    print(f"  re-training / training cost per member-image: {out['retraining_cost_per_member_image']:.2f}x")
    spe = out["training_steps_per_execution"]
    print(f"  training with steps_per_execution={spe['steps_per_execution']}: {spe['epoch_seconds']:.1f} s/epoch, "
          f"{spe['speedup']:.2f}x the engine's epoch")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("ratios", {})["limit"] = {
        "training of NumPy GEMM peak": out["training"]["of_numpy_peak"],
        "training of TensorFlow GEMM peak": out["training"]["of_tensorflow_peak"],
        "re-training of NumPy GEMM peak": out["retraining"]["of_numpy_peak"],
        "re-training / training per member-image": out["retraining_cost_per_member_image"],
        f"training speed-up, steps_per_execution={args.steps_per_execution}": out["training_steps_per_execution"]["speedup"]}
    results["limit"] = out
    results["machine"], results["versions"] = machine_info(), library_versions()
    results["load_average"] = os.getloadavg()[0]
    atomic_write_json(RESULTS, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
