"""Ensemble inference in one runtime: is the compressed ensemble faster than the float one?

Every configuration runs in the same LiteRT interpreter, on the same MNIST test images,
with the same thread count, side by side in one run:

- formats: float32 (the reference), int8 weights with float activations (the paper's
  'q8', dynamic-range "hybrid" kernels) and full int8 (int8 weights and activations);
- packaging: M interpreters, one per member file (what the store holds), or all M
  members converted into one graph (one invoke per batch);
- kernels: LiteRT's default XNNPACK delegate, or its built-in kernels without it (the
  difference shows which formats XNNPACK actually runs).

Keras float32 is timed too, for the ratio the book used to quote. Each configuration
runs once to warm up, then `--repeats` timed passes, alternating configurations;
throughput uses the median pass. The headline is the best int8 configuration against
the float32 ensemble of member files with XNNPACK (the same runtime, the same threads).

Models come from `artifacts/paper` when that store is complete (verified by sha256,
nothing written there); otherwise a smoke-sized ensemble (M=5) is trained into a
temporary folder and reported as such. Results merge into benchmarks/results.json under
"inference" (this run) and "inference_by_cpu" (one record per CPU kind, kept across runs).

    .venv/bin/python benchmarks/bench_inference.py [--repeats 3] [--threads 2] [--images 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from helpers.book.bench_records import add_inference  # noqa: E402
from helpers.core.config import load_config  # noqa: E402
from helpers.core.fileio import atomic_write_json, sha256_file
from helpers.core.provenance import cpu_features, library_versions, machine_info
from helpers.data import loaders as data  # noqa: E402
from helpers.engine import compression
from helpers.engine.predict import TFLiteMember, keras_probabilities  # noqa: E402
from helpers.store.artifacts import artifacts_root

RESULTS = Path(__file__).with_name("results.json")
FORMATS = {"baseline": ("float32", "float32"), "q8": ("int8", "int8 weights (q8)"), "int8full": ("int8full", "full int8")}
REFERENCE = "float32, member files, XNNPACK"


def _paper_models() -> tuple[list, dict, np.ndarray] | None:
    """(Keras members, {variant: .tflite paths}, representative images) from
    artifacts/paper, read-only, or None when that store is incomplete."""
    cfg = load_config("paper")
    root = artifacts_root() / "paper"
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if manifest.get("config_hash") != cfg.hash:
        return None
    files = manifest.get("files", {})
    wanted = {v: [f"models/{v}/member_{m}.tflite" for m in range(cfg.ensemble_size)] for v in FORMATS}
    wanted["keras"] = [f"models/baseline/member_{m}.keras" for m in range(cfg.ensemble_size)]
    for rels in wanted.values():
        for rel in rels:
            if rel not in files or not (root / rel).exists() or sha256_file(root / rel) != files[rel]:
                return None
    members = [compression.load_keras(root / rel) for rel in wanted.pop("keras")]
    (x_train, _), _ = data.load_mnist()
    rep = compression.representative_images(cfg, x_train)
    return members, {v: [root / rel for rel in rels] for v, rels in wanted.items()}, rep


def _smoke_models(tmp: Path) -> tuple[list, dict, np.ndarray]:
    os.environ["CDE_ARTIFACTS_DIR"] = str(tmp / "artifacts")
    os.environ.setdefault("CDE_CACHE_DIR", str(tmp / "cache"))
    from helpers.stages.experiment import Experiment

    exp = Experiment(load_config("smoke", ensemble_size=5))
    rep = compression.representative_images(exp.config, exp.train_data[0])
    return exp.baseline(), {v: exp.tflite_paths(v) for v in FORMATS}, rep


def runners(members: list, tflite: dict, rep: np.ndarray, threads: int) -> dict:
    """{configuration name: callable x -> (M, n, K) probabilities}."""
    out = {"Keras float32": lambda x: keras_probabilities(members, x)}
    graphs = {v: compression.ensemble_to_tflite(members, mode, rep) for v, (mode, _) in FORMATS.items()}
    for xnnpack in (True, False):
        kernels = "XNNPACK" if xnnpack else "built-in kernels"
        for v, (_, label) in FORMATS.items():
            its = [TFLiteMember(p, num_threads=threads, xnnpack=xnnpack) for p in tflite[v]]
            out[f"{label}, member files, {kernels}"] = lambda x, its=its: np.stack([it(x) for it in its])
            one = TFLiteMember(graphs[v], num_threads=threads, xnnpack=xnnpack)
            out[f"{label}, one graph, {kernels}"] = lambda x, one=one: one(x).transpose(1, 0, 2)
    return out


def measure(configs: dict, x: np.ndarray, y: np.ndarray, repeats: int) -> dict:
    probs = {name: fn(x) for name, fn in configs.items()}  # warm-up, and the accuracies
    times = {name: [] for name in configs}
    for _ in range(repeats):
        for name, fn in configs.items():
            start = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - start)
    ref_probs = probs["Keras float32"]
    m = len(ref_probs)
    out = {}
    for name in configs:
        median = statistics.median(times[name])
        out[name] = {
            "median_s": median,
            "best_s": min(times[name]),
            "member_images_per_s": m * len(x) / median,
            "accuracy": float(np.mean(probs[name].mean(0).argmax(1) == y)),
            "mean_abs_dp_vs_keras": float(np.abs(probs[name] - ref_probs).mean()),
        }
    ref = out[REFERENCE]["member_images_per_s"]
    for entry in out.values():
        entry["vs_tflite_float32"] = entry["member_images_per_s"] / ref
    return out


def report(result: dict, source: str, threads: int, n: int) -> None:
    print(
        f"bench_inference: {source}; {n} MNIST test images, LiteRT num_threads={threads}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  {'configuration':<44} {'median s':>9} {'member-img/s':>13} {'vs TFLite f32':>14} "
        f"{'ens. acc':>9} {'|dp| vs Keras':>14}"
    )
    for name, r in result.items():
        print(
            f"  {name:<44} {r['median_s']:9.3f} {r['member_images_per_s']:13.0f} "
            f"{r['vs_tflite_float32']:13.2f}x {r['accuracy']:9.2%} {r['mean_abs_dp_vs_keras']:14.2e}"
        )


def headline(result: dict) -> dict:
    int8 = {k: v for k, v in result.items() if "int8" in k}
    best = max(int8, key=lambda k: int8[k]["vs_tflite_float32"])
    q8 = "int8 weights (q8), member files, XNNPACK"
    return {
        "best int8 configuration": best,
        "best int8 / TFLite float32 (same runtime)": int8[best]["vs_tflite_float32"],
        "q8 member files / TFLite float32 (same runtime)": result[q8]["vs_tflite_float32"],
        "q8 member files / Keras float32": (result[q8]["member_images_per_s"] / result["Keras float32"]["member_images_per_s"]),
        "goal (best int8 / TFLite float32)": 1.5,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT interpreter threads")
    parser.add_argument("--images", type=int, default=5000, help="first n MNIST test images")
    args = parser.parse_args(argv)
    _, (x, y) = data.load_mnist()
    x, y = x[: args.images], y[: args.images]
    with tempfile.TemporaryDirectory() as tmp:
        models = _paper_models()
        source = "models from artifacts/paper"
        if models is None:
            models = _smoke_models(Path(tmp))
            source = "artifacts/paper incomplete: smoke-sized ensemble (M=5) trained now"
        result = measure(runners(*models, args.threads), x, y, args.repeats)
    report(result, source, args.threads, len(x))
    top = headline(result)
    for k, v in top.items():
        print(f"  {k}: {v if isinstance(v, str) else f'{v:.2f}x'}")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("ratios", {})["inference"] = {k: v for k, v in top.items() if k != "goal (best int8 / TFLite float32)"}
    record = {
        "source": source,
        "threads": args.threads,
        "images": len(x),
        "load_average": os.getloadavg()[0],
        "cpu_features": cpu_features(),
        "date": time.strftime("%Y-%m-%d"),
        "configurations": result,
    }
    # one record per CPU kind (helpers.book.bench_records): another CPU adds a row, never replaces one
    results = add_inference(results, record, machine_info())
    results["machine"], results["versions"] = machine_info(), library_versions()
    atomic_write_json(RESULTS, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
