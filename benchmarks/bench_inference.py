"""Ensemble inference throughput on the 10,000 MNIST test images, measured side by side:
Keras float32 members vs the same members as TFLite files in the LiteRT interpreter
(float32 reference, int8 weights = the paper's 'q8', and full int8).

Models come from `artifacts/paper` when that store is complete for these variants (its
manifest lists every file and each file matches its sha256; nothing there is written);
otherwise a smoke-sized ensemble (M=5, 640 training images) is trained into a temporary
folder. Each configuration runs once to warm up (graph tracing, interpreter set-up), then
`--repeats` timed passes, alternating configurations; throughput uses the median pass.
Accuracy is the ensemble's (mean of members) on the test set; mean |dp| is the mean
absolute difference of member probabilities from the Keras float32 members.

    .venv/bin/python benchmarks/bench_inference.py [--repeats 3] [--threads 2]
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

from helpers import compression, data  # noqa: E402
from helpers.config import load_config  # noqa: E402
from helpers.predict import TFLiteMember, keras_probabilities  # noqa: E402
from helpers.store import artifacts_root, sha256_file  # noqa: E402

TFLITE_VARIANTS = {"baseline": "TFLite float32", "q8": "TFLite int8 weights (q8)",
                   "int8full": "TFLite full int8"}


def _paper_models() -> tuple[list, dict] | None:
    """(Keras members, {variant: .tflite paths}) from artifacts/paper, read-only, or None."""
    cfg = load_config("paper")
    root = artifacts_root() / "paper"
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if manifest.get("config_hash") != cfg.hash:
        return None
    files = manifest.get("files", {})
    wanted = {v: [f"models/{v}/member_{m}.tflite" for m in range(cfg.ensemble_size)]
              for v in TFLITE_VARIANTS}
    wanted["keras"] = [f"models/baseline/member_{m}.keras" for m in range(cfg.ensemble_size)]
    for rels in wanted.values():
        for rel in rels:
            if rel not in files or not (root / rel).exists() or sha256_file(root / rel) != files[rel]:
                return None
    members = [compression.load_keras(root / rel) for rel in wanted.pop("keras")]
    return members, {v: [root / rel for rel in rels] for v, rels in wanted.items()}


def _smoke_models(tmp: Path) -> tuple[list, dict]:
    os.environ["CDE_ARTIFACTS_DIR"] = str(tmp / "artifacts")
    os.environ.setdefault("CDE_CACHE_DIR", str(tmp / "cache"))
    from helpers.experiment import Experiment
    exp = Experiment(load_config("smoke", ensemble_size=5))
    return exp.baseline(), {v: exp.tflite_paths(v) for v in TFLITE_VARIANTS}


def run(members: list, tflite: dict, source: str, repeats: int, threads: int) -> None:
    _, (x, y) = data.load_mnist()
    m = len(members)
    interpreters = {v: [TFLiteMember(p, num_threads=threads) for p in paths]
                    for v, paths in tflite.items()}
    runners = {"Keras float32": lambda: keras_probabilities(members, x)}
    for v, label in TFLITE_VARIANTS.items():
        runners[label] = (lambda its=interpreters[v]: np.stack([it(x) for it in its]))
    probs = {name: fn() for name, fn in runners.items()}  # warm-up, and the accuracies
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, fn in runners.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    ref = probs["Keras float32"]
    keras_tput = m * len(x) / statistics.median(times["Keras float32"])
    print(f"bench_inference: {source}; M={m}, {len(x)} MNIST test images, "
          f"LiteRT num_threads={threads}, batch {interpreters['q8'][0].batch_size}, "
          f"{os.cpu_count()} CPUs")
    print(f"  {'configuration':<26} {'best s':>7} {'median s':>9} {'member-images/s':>16} "
          f"{'vs Keras':>9} {'ens. acc':>9} {'mean |dp|':>10}")
    for name in runners:
        med = statistics.median(times[name])
        tput = m * len(x) / med
        acc = np.mean(probs[name].mean(0).argmax(1) == y)
        dp = np.abs(probs[name] - ref).mean()
        print(f"  {name:<26} {min(times[name]):7.3f} {med:9.3f} {tput:16.0f} {tput / keras_tput:8.2f}x {acc:9.2%} {dp:10.2e}")
    q8 = m * len(x) / statistics.median(times[TFLITE_VARIANTS["q8"]])
    print(f"  int8-weights (q8) / Keras float32 throughput: {q8 / keras_tput:.2f}x "
          f"(target: >= 1, int8 not slower)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT interpreter threads")
    args = parser.parse_args(argv)
    paper = _paper_models()
    if paper is not None:
        run(*paper, "models from artifacts/paper", args.repeats, args.threads)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        members, tflite = _smoke_models(Path(tmp))
        run(members, tflite, "artifacts/paper incomplete: smoke-sized ensemble trained now",
            args.repeats, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
