"""Zipped ensemble sizes per sparsity: how close zip gets to the information-theoretic
lower bound, and the ensemble compression ratio next to the paper's 4x / 5x / 8x.

Reads `artifacts/<profile>/sizes.json` (written by helpers.stages.experiment.Experiment.sizes).
When that profile has no sizes yet, `--compute` builds them through Experiment (for the
paper profile that means training, about an hour); otherwise the smoke profile is built
in a temporary folder and reported instead, clearly labelled.

    .venv/bin/python benchmarks/bench_sizes.py [--profile paper] [--compute]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from helpers.core.config import load_config  # noqa: E402
from helpers.core.paper import COMPRESSED  # noqa: E402
from helpers.store.artifacts import artifacts_root  # noqa: E402


def _stored_sizes(profile: str) -> tuple[dict | None, str]:
    """sizes.json of the profile's published store if it matches the current config."""
    root = artifacts_root() / profile
    path, manifest = root / "sizes.json", root / "manifest.json"
    if not path.exists() or not manifest.exists():
        return None, f"{path} does not exist yet"
    stored_hash = json.loads(manifest.read_text()).get("config_hash")
    if stored_hash != load_config(profile).hash:
        return None, f"{root} was written by another config (hash {stored_hash})"
    return json.loads(path.read_text()), str(path)


def _computed_sizes(profile: str) -> dict:
    from helpers.stages.experiment import Experiment

    return Experiment(load_config(profile)).sizes()


def report(sizes: dict, source: str) -> None:
    kb = 1000.0
    base = sizes["baseline"]
    keras_base = base.get("keras_zipped_bytes")
    sparsities = sorted({v["sparsity"] for v in sizes.values()})
    print(f"bench_sizes: {source}")
    print(
        f"  float32 baseline ensemble: {base['zipped_bytes'] / kb:.1f} kB zipped .tflite"
        + (f", {keras_base / kb:.1f} kB zipped .keras" if keras_base else "")
    )
    print("  sparsity  variant        zipped kB  bound kB  zip/bound   ratio  ratio(.keras)  paper")
    for s in sparsities:
        name = "q8" if s == 0 else f"s{round(s * 100)}_q8"
        for variant in (name, name.replace("q8", "int8full") if s else "int8full"):
            if variant not in sizes:
                continue
            v = sizes[variant]
            bound = v.get("lower_bound_bytes")
            claim = COMPRESSED.get(variant)
            paper = (
                f"{claim.compression_ratio:.0f}x"
                if claim and not math.isnan(claim.compression_ratio)
                else ("n/a" if claim else "")
            )
            vs_keras = f"{keras_base / v['zipped_bytes']:.2f}x" if keras_base else "-"
            print(
                f"  {s:7.0%}   {variant:<13} {v['zipped_bytes'] / kb:9.1f} "
                f"{bound / kb if bound else float('nan'):9.1f} "
                f"{v['zipped_bytes'] / bound if bound else float('nan'):9.2f}  "
                f"{v['compression_ratio']:6.2f}x {vs_keras:>13}  {paper:>5}"
            )
    print(
        "  zip/bound: zipped size over the lower bound (mask entropy + int8 value entropy +"
        " 32 bits per bias/scale); ratio: float32 .tflite ensemble / variant;"
        " ratio(.keras): zipped .keras baseline / variant."
    )


def report_encodings(profile: str) -> None:
    """The store's encodings.json (helpers.engine.encodings, built with the book), when present."""
    from helpers.book.report import encodings_table

    path = artifacts_root() / profile / "encodings.json"
    if not path.exists():
        print(f"  encodings: {path} does not exist yet (make book builds it)")
        return
    enc = json.loads(path.read_text())
    print(f"bench_sizes: encodings of profile {profile!r}, read from {path}")
    print(encodings_table(enc.get("data", enc)).to_string())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--compute", action="store_true", help="build the profile's sizes through Experiment if they are missing")
    args = parser.parse_args(argv)
    sizes, where = _stored_sizes(args.profile)
    if sizes is not None:
        report(sizes, f"profile {args.profile!r}, read from {where}")
        report_encodings(args.profile)
    elif args.compute:
        report(_computed_sizes(args.profile), f"profile {args.profile!r}, computed now")
    else:
        print(
            f"bench_sizes: {where}; reporting the smoke profile built in a temporary folder "
            f"instead (pass --compute to build {args.profile!r})."
        )
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["CDE_ARTIFACTS_DIR"] = str(Path(tmp) / "artifacts")
            os.environ.setdefault("CDE_CACHE_DIR", str(Path(tmp) / "cache"))
            report(_computed_sizes("smoke"), "profile 'smoke' (M=2, 640 images), computed now")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
