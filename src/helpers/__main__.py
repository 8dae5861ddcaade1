"""Command line: `python -m helpers train|build|sweep --profile NAME [...]` (see --help)."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, prune and quantize (no notebooks, no book)")
    train.add_argument("--profile", default="paper")
    train.add_argument("--fresh", action="store_true", help="ignore and replace stored artifacts")
    train.add_argument("--verbose", type=int, default=2)

    build = sub.add_parser(
        "build", help="execute the chapter notebooks with papermill, then build the book",
        description="Execute notebooks/NN_name.py with papermill into <book>/chapters/NN_name.ipynb "
                    "(re-using artifacts already in the store), then run "
                    "`jupyter-book build <book> --all -W -n --keep-going` (warnings are errors).")
    build.add_argument("--profile", default="paper", help="experiment profile of _config.yml "
                       "(paper, quick, smoke); injected as the notebooks' `profile` parameter")
    build.add_argument("--only", metavar="NN", help="execute only this chapter (e.g. 03)")
    build.add_argument("--fresh", action="store_true",
                       help="wipe the profile's store first, so everything is recomputed")
    build.add_argument("--no-build", dest="build", action="store_false",
                       help="execute the chapters but do not run jupyter-book")
    build.add_argument("--out-dir", metavar="DIR", help="build a copy of the book in DIR (chapters "
                       "in DIR/chapters, artifacts in DIR/artifacts); book/ and artifacts/ are "
                       "left untouched")
    build.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="extra papermill parameter (YAML value, e.g. -p epochs 2); every "
                            "executed chapter must declare it")
    build.add_argument("--notebooks", metavar="DIR", help="folder of the NN_name.py chapter "
                       "sources (default: notebooks/)")
    build.add_argument("--no-progress", dest="progress", action="store_false",
                       help="no per-cell progress bar and no jupyter-book log on the terminal")
    sweep = sub.add_parser(
        "sweep", help="train, compress and evaluate several seeds, each its own experiment",
        description="Run each seed of a profile (its own store) and record it in "
                    "artifacts/<profile>/seeds/seed_<s>.json; recorded seeds are skipped, so "
                    "a killed sweep resumes. --engine ray runs one Ray task per seed.")
    sweep.add_argument("--profile", default="paper")
    sweep.add_argument("--seeds", required=True, help="e.g. 0-4, 0,2,5 or 3")
    sweep.add_argument("--engine", choices=("local", "ray"), default="local",
                       help="local: one seed after another on this machine (default); "
                            "ray: one task per seed on a Ray cluster")
    sweep.add_argument("--address", help="Ray cluster address (HEAD:6379); default: a local "
                       "Ray instance on this machine's CPUs")
    sweep.add_argument("--cpus-per-task", type=int, default=2, help="CPUs per Ray task")
    args = parser.parse_args(argv)
    if args.command == "train":
        from .config import load_config
        from .experiment import Experiment
        exp = Experiment(load_config(args.profile), fresh=args.fresh, verbose=args.verbose)
        exp.build_all()
        print(f"artifacts in {exp.store.root}")
    elif args.command == "build":
        from .pipeline import PipelineError, parameters_from_pairs, run
        try:
            run(args.profile, parameters=parameters_from_pairs(args.parameter), only=args.only,
                fresh=args.fresh, build=args.build, out_dir=args.out_dir,
                notebooks_dir=args.notebooks, progress_bar=args.progress)
        except PipelineError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("error: interrupted; executed chapters already written are kept, the "
                  "interrupted one was not written.", file=sys.stderr)
            return 130
    elif args.command == "sweep":
        from .sweep import parse_seeds, run_sweep

        def report(summary):
            where = f" on {summary['host']}" if "host" in summary else ""
            what = {"skipped": "skipped (already recorded)",
                    "exported": f"recorded from this machine's complete store in "
                                f"{summary['wall_s']:.1f} s"}.get(
                summary["status"], f"done in {summary['wall_s']:.1f} s{where}")
            print(f"seed {summary['seed']}: {what} -> {summary['record']}", flush=True)
        try:
            run_sweep(args.profile, parse_seeds(args.seeds), engine=args.engine,
                      address=args.address, num_cpus_per_task=args.cpus_per_task,
                      on_seed_done=report)
        except ValueError as e:  # SweepError, StoreError and config errors: one sentence
            print(f"error: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
