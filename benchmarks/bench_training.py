"""Fused vs sequential deep-ensemble training throughput (samples/s), measured side by side.

M = 5 members of the paper's CNN, batch 32, Adam, on a fixed slice of real MNIST (the
first 9,600 training images: 300 steps per epoch). Each mode first runs a short warm-up
(graph tracing, not timed), then `--repeats` timed epochs, alternating fused and
sequential so that machine load hits both alike. Reported per mode: the best and the
median wall-clock epoch (the best is the least disturbed by other load on a shared
machine) and the process CPU seconds per epoch (robust to stolen time, but blind to the
parallelism across cores that fused mode gains).

Both modes run the engine's own pieces (helpers.engine.models.fuse / compile_for_training,
helpers.engine.ensemble.epoch_dataset): sequential mode is M one-member graphs trained one
after another, fused mode one M-member graph. Throughput counts member-samples: one
epoch of M members is M x 9,600 samples in either mode.

By default the engine's settings are measured (TensorFlow's default thread pools), then
the same benchmark is re-run in a child process with one intra-op thread
(`--intra-op-threads 1`): fused mode then runs its M member branches in parallel on the
inter-op pool instead of splitting each small op across cores. Thread counts are
process-wide and change float summation order, hence the trained bits (not the math),
so that setting is reported here, not applied by the engine.

    .venv/bin/python benchmarks/bench_training.py [--n 9600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


from helpers.core.config import load_config  # noqa: E402
from helpers.data import loaders as data
from helpers.engine import ensemble, models  # noqa: E402

WARMUP_BATCHES = 20


class Trainer:
    """One compiled graph (M members or one) and the datasets of its members."""

    def __init__(self, cfg, x, y, member_ids, steps_per_execution=1):
        self.seeds = [cfg.member_seed(m) for m in member_ids]
        members = [models.build_member(cfg, s, prefix=f"m{m}_") for m, s in zip(member_ids, self.seeds)]
        self.model = models.fuse(members)
        models.compile_for_training(self.model, cfg, steps_per_execution=steps_per_execution)
        self.cfg, self.x, self.y = cfg, x, y

    def dataset(self, epoch):
        return ensemble.epoch_dataset(
            self.x, self.y, self.seeds, ensemble.TRAIN_STREAM, epoch, self.cfg.batch_size, self.model.output_names
        )

    def warm_up(self):
        self.model.fit(self.dataset(0).take(WARMUP_BATCHES), epochs=1, verbose=0)

    def epoch(self, epoch) -> tuple[float, float]:
        """(wall seconds, process CPU seconds) of one training epoch."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.model.fit(self.dataset(epoch), epochs=1, verbose=0)
        return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=9600, help="training images (first n)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per mode")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument(
        "--steps-per-execution", type=int, default=1, help="Keras steps_per_execution for both modes (1 = the engine's setting)"
    )
    parser.add_argument(
        "--intra-op-threads", type=int, default=0, help="TensorFlow intra-op threads (0 = TensorFlow's default, the engine's)"
    )
    parser.add_argument("--no-compare", action="store_true", help="do not re-run with --intra-op-threads 1 afterwards")
    args = parser.parse_args(argv)
    if args.intra_op_threads:  # before TensorFlow's runtime starts (no op has run yet)
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)

    cfg = load_config("paper", ensemble_size=args.members, validation_split=0.0)
    (x_all, y_all), _ = data.load_mnist()
    x, y = x_all[: args.n], y_all[: args.n]
    ensemble.enable_determinism(cfg.seed)
    ids = list(range(cfg.ensemble_size))

    fused = Trainer(cfg, x, y, ids, args.steps_per_execution)
    sequential = [Trainer(cfg, x, y, [m], args.steps_per_execution) for m in ids]
    fused.warm_up()
    for t in sequential:
        t.warm_up()

    wall = {"fused": [], "sequential": []}
    cpu = {"fused": [], "sequential": []}
    for r in range(args.repeats):
        w, c = fused.epoch(r + 1)
        wall["fused"].append(w)
        cpu["fused"].append(c)
        per_member = [t.epoch(r + 1) for t in sequential]
        wall["sequential"].append(sum(w for w, _ in per_member))
        cpu["sequential"].append(sum(c for _, c in per_member))

    samples = cfg.ensemble_size * len(x)
    best = {mode: samples / min(ts) for mode, ts in wall.items()}
    median = {mode: samples / statistics.median(ts) for mode, ts in wall.items()}
    per_cpu = {mode: samples / statistics.median(ts) for mode, ts in cpu.items()}
    print(
        f"bench_training: M={cfg.ensemble_size}, batch {cfg.batch_size}, {len(x)} MNIST images "
        f"({-(-len(x) // cfg.batch_size)} steps/epoch), steps_per_execution="
        f"{args.steps_per_execution}, intra-op threads {args.intra_op_threads or 'default'}, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for mode in ("sequential", "fused"):
        ts = ", ".join(f"{t:.1f}" for t in wall[mode])
        print(
            f"  {mode:<10} wall s/epoch [{ts}]  best {best[mode]:6.0f}, median {median[mode]:6.0f}"
            f" member-samples/s; CPU {statistics.median(cpu[mode]):5.1f} s/epoch"
            f" -> {per_cpu[mode]:5.0f} member-samples per CPU-s"
        )
    print(
        f"  fused / sequential throughput: {best['fused'] / best['sequential']:.2f}x best wall, "
        f"{median['fused'] / median['sequential']:.2f}x median wall, "
        f"{per_cpu['fused'] / per_cpu['sequential']:.2f}x per CPU-second (target >= 1.6x)"
    )
    if not args.intra_op_threads and not args.no_compare:
        sys.stdout.flush()
        cmd = [
            sys.executable,
            __file__,
            "--n",
            str(args.n),
            "--repeats",
            str(args.repeats),
            "--members",
            str(args.members),
            "--steps-per-execution",
            str(args.steps_per_execution),
            "--intra-op-threads",
            "1",
            "--no-compare",
        ]
        return subprocess.call(cmd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
