"""The committed numbers, re-derived by this checkout's code from committed files only.

1. Seed 0: the committed model files of artifacts/paper/ evaluated again (no cached
   prediction: the copy holds only what git holds), the new results.json against the
   committed one.
2. Seed N (default 5): re-opened from its committed weights pack in a store that holds no
   model file (restored, converted, every .tflite checked against its record's sha256),
   evaluated, its new record's results against the committed record's.

Both run in a temporary copy of the committed artifacts (``git archive HEAD artifacts``),
never in the checkout's. Prints the largest difference over every number, every
structural difference, and each stage's wall seconds with the CPU they were measured on.

    .venv/bin/python benchmarks/reproduce.py [--seed 5] [--skip-seed-0 | --only-seed-0] [--tolerance 1e-12]

Exit status 1 when any number differs by more than the tolerance.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from helpers.core.compare import compare
from helpers.core.provenance import machine_info

ROOT = Path(__file__).resolve().parents[1]
# Not results: each run's own wall clock (it differs by design), and the reader's names of
# the ensembles (the vocabulary's wording, helpers.core.variants.label, not a number).
NOT_RESULTS = ("timings", "label")


def committed_artifacts(into: Path) -> Path:
    """The artifacts folder as committed at HEAD, unpacked under ``into``."""
    tar = subprocess.run(["git", "archive", "HEAD", "artifacts"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(into, filter="data")
    return into / "artifacts"


def run_helpers(artifacts: Path, *args: str) -> float:
    """Run ``python -m helpers ARGS`` against the copy; its wall seconds."""
    env = {**os.environ, "CDE_ARTIFACTS_DIR": str(artifacts)}
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "helpers", *args], cwd=ROOT, env=env, check=True)
    return time.monotonic() - start


def report(what: str, committed: dict, recomputed: dict, tolerance: float) -> bool:
    c = compare(committed, recomputed, ignore=NOT_RESULTS)
    ok = c.within(tolerance)
    print(
        f"  {what}: {c.numbers} numbers, largest |difference| {c.max_abs:.3g}"
        + (f" (at {c.worst})" if c.worst else "")
        + f", {len(c.structural)} structural differences -> {'same' if ok else 'DIFFERENT'} at {tolerance:g}"
    )
    for line in c.structural[:10]:
        print(f"    {line}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=5, help="a seed with a committed weights pack")
    ap.add_argument("--skip-seed-0", action="store_true")
    ap.add_argument("--only-seed-0", action="store_true", help="do not re-open a seed from its pack")
    ap.add_argument("--tolerance", type=float, default=1e-12)
    args = ap.parse_args(argv)
    machine = machine_info()
    print(f"reproduce: {machine.get('cpu_model')}, TF threads {machine.get('tf_threads')}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="cde-reproduce-") as tmp:
        art = committed_artifacts(Path(tmp))
        paper = art / "paper"
        if not args.skip_seed_0:
            committed = json.loads((paper / "results.json").read_text())
            seconds = run_helpers(art, "evaluate", "--profile", "paper", "--force")
            ok &= report(
                "seed 0 results.json from the committed models",
                committed,
                json.loads((paper / "results.json").read_text()),
                args.tolerance,
            )
            print(f"    evaluation: {seconds / 60:.1f} min wall (process start included)")
        if args.only_seed_0:
            return 0 if ok else 1
        record = paper / "seeds" / f"seed_{args.seed}.json"
        committed = json.loads(record.read_text())
        seconds = run_helpers(art, "evaluate", "--profile", "paper", "--seeds", str(args.seed))
        new = json.loads(record.read_text())
        ok &= report(
            f"seed {args.seed}'s record re-opened from its weights pack", committed["results"], new["results"], args.tolerance
        )
        t = new["timings"]
        print(
            f"    re-opening {t['reopening'] / 60:.1f} min (restore, convert, check), evaluation "
            f"{t['evaluation'] / 60:.1f} min, {seconds / 60:.1f} min wall in all"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
