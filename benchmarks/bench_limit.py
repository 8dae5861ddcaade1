"""The engine against this machine's own limit: GEMM peak vs achieved training FLOP/s.

In one run, on one machine:
1. float32 GEMM throughput, a large square matmul (2048², best of --repeats) in NumPy
   (OpenBLAS) and in TensorFlow: the practical peak of this CPU;
2. the engine's training epoch (M fused members, the paper's batch size) and its
   re-training epoch (every sparsity plus the control in one fused graph, tfmot masks),
   both on the first --n MNIST training images; achieved FLOP/s from helpers.engine.flops;
3. achieved / peak for each, and re-training / training cost per member-image;
4. the training epoch again with --steps-per-execution batches per graph call;
   training and re-training under TensorFlow's default thread pools and under intra-op 1,
   inter-op 2 (TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=2), each in a fresh
   process, with whether the weights agree bit for bit;
5. the framework's own ceiling on this network: each conv layer's kernels timed alone
   (forward, gradient w.r.t. the kernel, gradient w.r.t. the input) at the paper's batch
   size, and a training step written in raw TensorFlow (M separate members, Adam, data
   already in tensors, one tf.function call per step: no Keras fit loop, no tf.data); the engine / raw ratio says how much the
   engine itself costs, the kernels' ratios how far TensorFlow's convolutions are from GEMM
   peak, and "needed" the GFLOP/s a 25-minute paper run would require.

Results merge into benchmarks/results.json under "limit" (machine, versions, ratios).

    .venv/bin/python benchmarks/bench_limit.py [--n 6400] [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from helpers.core.config import load_config  # noqa: E402
from helpers.core.fileio import atomic_write_json
from helpers.core.provenance import THREAD_VARIABLES, library_versions, machine_info
from helpers.core.variants import CONTROL
from helpers.data import loaders as data  # noqa: E402
from helpers.engine import compression, ensemble, flops, models

RESULTS = Path(__file__).with_name("results.json")


def gemm_gflops(n: int, repeats: int) -> dict:
    import tensorflow as tf

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    out = {}
    for name, fn in (("numpy", lambda: a @ b), ("tensorflow", lambda: tf.linalg.matmul(ta, tb).numpy())):
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


def _best_seconds(fn, repeats: int, calls: int) -> float:
    fn()  # trace
    return min(_timed(lambda: [fn() for _ in range(calls)]) for _ in range(repeats)) / calls


def conv_kernel_gflops(cfg, batch: int, repeats: int) -> list[dict]:
    """GFLOP/s of each conv layer's three kernels alone, on random tensors of the layer's shapes."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    out = []
    conv_macs = [macs for kind, macs in flops.layer_macs(cfg) if kind == "conv2d"]
    for index, (layer, macs) in enumerate(zip(flops.conv_layers(cfg), conv_macs)):
        (h, w, c), k, f = layer["input"], layer["kernel_size"], layer["filters"]
        x = tf.constant(rng.random((batch, h, w, c), dtype=np.float32))
        kernel = tf.constant(rng.random((k, k, c, f), dtype=np.float32))
        dy = tf.constant(rng.random((batch, h - k + 1, w - k + 1, f), dtype=np.float32))
        kernels = {
            "forward": tf.function(lambda: tf.nn.conv2d(x, kernel, 1, "VALID")),
            "kernel gradient": tf.function(
                lambda: tf.raw_ops.Conv2DBackpropFilter(
                    input=x, filter_sizes=kernel.shape, out_backprop=dy, strides=[1, 1, 1, 1], padding="VALID"
                )
            ),
            "input gradient": tf.function(
                lambda: tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=x.shape, filter=kernel, out_backprop=dy, strides=[1, 1, 1, 1], padding="VALID"
                )
            ),
        }
        layer_flops = 2 * batch * macs  # each of the three kernels does one forward's multiply-adds
        for name, fn in kernels.items():
            seconds = _best_seconds(fn, repeats, calls=20)
            out.append(
                {
                    "layer": f"conv{index + 1}",
                    "kernel": name,
                    "gflops": layer_flops / seconds / 1e9,
                    "needed_in_training": not (index == 0 and name == "input gradient"),
                }
            )
    return out


def raw_step_gflops(cfg, x, y, repeats: int) -> float:
    """GFLOP/s of a training step written directly in TensorFlow: the same M members, loss
    and Adam as the engine, batches already in one tensor, one tf.function call per step."""
    import tensorflow as tf
    import tf_keras as keras

    m_count, batch = cfg.ensemble_size, cfg.batch_size
    steps = len(x) // batch
    rng = np.random.default_rng(0)
    order = np.stack([rng.permutation(len(x))[: steps * batch] for _ in range(m_count)], axis=1)
    xs = tf.constant(x[order].reshape(steps, batch, m_count, *x.shape[1:]))
    ys = tf.constant(y[order].reshape(steps, batch, m_count))
    members = [models.build_member(cfg, cfg.member_seed(m), prefix=f"m{m}_") for m in range(m_count)]
    weights = [v for member in members for v in member.trainable_variables]
    optimizer = keras.optimizers.Adam(cfg.learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()

    @tf.function
    def step(i):
        with tf.GradientTape() as tape:
            loss = tf.add_n([loss_fn(ys[i][:, m], member(xs[i][:, m], training=True)) for m, member in enumerate(members)])
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))

    def epoch():
        for i in range(steps):
            step(tf.constant(i))

    seconds = _best_seconds(epoch, repeats=max(1, repeats // 2), calls=1)
    return flops.training_flops_per_image(cfg) * steps * batch * m_count / seconds / 1e9


def epoch_seconds(cfg, x, y, retrain: bool, steps_per_execution: int = 1, epochs: int = 3) -> tuple[float, int, str]:
    """(mean wall seconds of epochs 2..`epochs`, member-images per epoch, sha256 of the
    resulting weights). The first epoch carries graph tracing and is left out; the mean of
    the rest, not the best, because TensorFlow's default pools use one core for some epochs
    and both for others, and a reader's run meets both."""
    stamps = []

    def tick(*_):
        stamps.append(time.perf_counter())

    if retrain:
        c = load_config("paper", validation_split=0.0, retrain_epochs=epochs)
        members = [models.build_member(c, c.member_seed(m), prefix=f"m{m}_") for m in range(c.ensemble_size)]
        targets = [CONTROL, *c.sparsities]
        pruned, _ = compression.prune_all(c, members, x, y, targets, on_epoch=tick)
        trained = [m for target in targets for m in pruned[target]]
        member_images = len(x) * c.ensemble_size * len(targets)
    else:
        c = load_config("paper", validation_split=0.0, epochs=epochs)
        trained, _ = ensemble.train_ensemble(c, x, y, on_epoch=tick, steps_per_execution=steps_per_execution)
        member_images = len(x) * c.ensemble_size
    digest = hashlib.sha256(b"".join(w.tobytes() for m in trained for w in m.get_weights())).hexdigest()
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1), member_images, digest


THREAD_SETTINGS = {"default": {}, "intra 1, inter 2": {"intra_op": 1, "inter_op": 2}}


def thread_settings_compared(n: int) -> dict:
    """Training and re-training epochs under each of THREAD_SETTINGS, each in a fresh
    process (TensorFlow sizes its pools when it starts), and whether the weights agree bit
    for bit with the default's."""
    out = {}
    for name, setting in THREAD_SETTINGS.items():
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES.values()}
        env.update({THREAD_VARIABLES[pool]: str(count) for pool, count in setting.items()})
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        child = subprocess.run(
            [sys.executable, __file__, "--thread-child", "--n", str(n)], env=env, capture_output=True, text=True, check=True
        )
        out[name] = json.loads(child.stdout.strip().splitlines()[-1])
    base = out["default"]
    for r in out.values():
        r["training_speedup"] = base["training_seconds"] / r["training_seconds"]
        r["retraining_speedup"] = base["retraining_seconds"] / r["retraining_seconds"]
        r["weights_identical_to_default"] = (
            r["training_digest"] == base["training_digest"] and r["retraining_digest"] == base["retraining_digest"]
        )
    return out


def _thread_child(n: int) -> None:
    (x_all, y_all), _ = data.load_mnist()
    x, y = x_all[:n], y_all[:n]
    ensemble.enable_determinism(0)
    cfg = load_config("paper", validation_split=0.0)
    train_s, _, train_digest = epoch_seconds(cfg, x, y, False, epochs=4)
    retrain_s, _, retrain_digest = epoch_seconds(cfg, x, y, True, epochs=3)
    print(
        json.dumps(
            {
                "training_seconds": train_s,
                "retraining_seconds": retrain_s,
                "training_digest": train_digest,
                "retraining_digest": retrain_digest,
            }
        )
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6400, help="training images (first n)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gemm", type=int, default=2048)
    parser.add_argument(
        "--steps-per-execution", type=int, default=16, help="batches per graph call for the second training measurement"
    )
    parser.add_argument("--threads-n", type=int, default=3200, help="training images for the thread-setting comparison")
    parser.add_argument("--thread-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.thread_child:
        _thread_child(args.n)
        return 0
    cfg = load_config("paper", validation_split=0.0)
    (x_all, y_all), _ = data.load_mnist()
    x, y = x_all[: args.n], y_all[: args.n]
    ensemble.enable_determinism(0)
    peak = gemm_gflops(args.gemm, args.repeats)
    per_image = flops.training_flops_per_image(cfg)
    out = {"gemm_gflops": peak, "flops_per_training_image": per_image}
    for stage, retrain in (("training", False), ("retraining", True)):
        seconds, member_images, _ = epoch_seconds(cfg, x, y, retrain)
        achieved = per_image * member_images / seconds / 1e9
        out[stage] = {
            "epoch_seconds": seconds,
            "member_images": member_images,
            "gflops": achieved,
            "of_numpy_peak": achieved / peak["numpy"],
            "of_tensorflow_peak": achieved / peak["tensorflow"],
        }
    out["conv_kernels"] = conv_kernel_gflops(cfg, cfg.batch_size, args.repeats)
    raw = raw_step_gflops(cfg, x, y, args.repeats)
    needed = flops.run_flops(cfg, 54_000) / (25 * 60) / 1e9
    out["raw_tensorflow_step"] = {
        "gflops": raw,
        "of_numpy_peak": raw / peak["numpy"],
        "engine_of_raw": out["training"]["gflops"] / raw,
    }
    out["needed_for_25_min"] = {"gflops": needed, "of_numpy_peak": needed / peak["numpy"], "of_raw_step": needed / raw}
    spe_seconds, _, _ = epoch_seconds(cfg, x, y, False, args.steps_per_execution)
    out["thread_settings"] = thread_settings_compared(args.threads_n)
    out["training_steps_per_execution"] = {
        "steps_per_execution": args.steps_per_execution,
        "epoch_seconds": spe_seconds,
        "speedup": out["training"]["epoch_seconds"] / spe_seconds,
    }
    out["retraining_cost_per_member_image"] = (out["retraining"]["epoch_seconds"] / out["retraining"]["member_images"]) / (
        out["training"]["epoch_seconds"] / out["training"]["member_images"]
    )
    print(f"bench_limit: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, {args.n} images")
    print(f"  GEMM {args.gemm}²: NumPy {peak['numpy']:.0f} GFLOP/s, TensorFlow {peak['tensorflow']:.0f} GFLOP/s")
    for stage in ("training", "retraining"):
        s = out[stage]
        print(
            f"  {stage:<10} {s['gflops']:5.1f} GFLOP/s = {s['of_numpy_peak']:.0%} of NumPy's GEMM, "
            f"{s['of_tensorflow_peak']:.0%} of TensorFlow's ({s['epoch_seconds']:.1f} s/epoch)"
        )
    for k in out["conv_kernels"]:
        print(
            f"  {k['layer']} {k['kernel']:<16} {k['gflops']:5.1f} GFLOP/s = {k['gflops'] / peak['numpy']:.0%} of NumPy's GEMM"
            + ("" if k["needed_in_training"] else " (not needed: the image needs no gradient)")
        )
    r, n = out["raw_tensorflow_step"], out["needed_for_25_min"]
    print(
        f"  raw TensorFlow step {r['gflops']:5.1f} GFLOP/s = {r['of_numpy_peak']:.0%} of NumPy's GEMM; "
        f"the engine runs at {r['engine_of_raw']:.2f}x its speed"
    )
    print(
        f"  a 25-minute paper run (training, 4 sparsities and the control) needs {n['gflops']:.0f} GFLOP/s "
        f"= {n['of_numpy_peak']:.0%} of NumPy's GEMM = {n['of_raw_step']:.1f}x the raw step"
    )
    print(f"  re-training / training cost per member-image: {out['retraining_cost_per_member_image']:.2f}x")
    spe = out["training_steps_per_execution"]
    print(
        f"  training with steps_per_execution={spe['steps_per_execution']}: {spe['epoch_seconds']:.1f} s/epoch, "
        f"{spe['speedup']:.2f}x the engine's epoch"
    )
    for name, r in out["thread_settings"].items():
        print(
            f"  threads {name:<16} training {r['training_speedup']:.2f}x, re-training "
            f"{r['retraining_speedup']:.2f}x the default; weights "
            + ("identical" if r["weights_identical_to_default"] else "differ from the default's")
        )
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("ratios", {})["limit"] = {
        "training of NumPy GEMM peak": out["training"]["of_numpy_peak"],
        "training of TensorFlow GEMM peak": out["training"]["of_tensorflow_peak"],
        "re-training of NumPy GEMM peak": out["retraining"]["of_numpy_peak"],
        "re-training / training per member-image": out["retraining_cost_per_member_image"],
        f"training speed-up, steps_per_execution={args.steps_per_execution}": out["training_steps_per_execution"]["speedup"],
        "raw TensorFlow step of NumPy GEMM peak": out["raw_tensorflow_step"]["of_numpy_peak"],
        "engine / raw TensorFlow step speed": out["raw_tensorflow_step"]["engine_of_raw"],
        "fastest conv kernel of NumPy GEMM peak": max(k["gflops"] for k in out["conv_kernels"]) / peak["numpy"],
        "training speed-up, threads intra 1, inter 2": out["thread_settings"]["intra 1, inter 2"]["training_speedup"],
        "re-training speed-up, threads intra 1, inter 2": out["thread_settings"]["intra 1, inter 2"]["retraining_speedup"],
        "threads intra 1, inter 2: weights identical to the default's": out["thread_settings"]["intra 1, inter 2"][
            "weights_identical_to_default"
        ],
        "25-minute paper run: needed / raw step GFLOP/s": out["needed_for_25_min"]["of_raw_step"],
    }
    results["limit"] = out
    results["machine"], results["versions"] = machine_info(), library_versions()
    results["load_average"] = os.getloadavg()[0]
    atomic_write_json(RESULTS, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
