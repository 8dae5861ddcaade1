"""Command line: `python -m helpers train|evaluate|aggregate|weights|frontier|adopt|sweep|build --profile NAME` (see --help).

Every command turns the project's own errors (a bad config value, a store or data file
that cannot be used, a failing chapter, a folder that cannot be written) into one
`error: ...` line on stderr and exit status 1; set CDE_TRACEBACK=1 to see the traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path

_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def _config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="paper", help="experiment profile of _config.yml (paper, quick, smoke)")
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="override one config value (YAML value, e.g. -p seed 1)",
    )


def _seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--seeds", required=True, help="e.g. 0-4, 0,2,5 or 3")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train, prune and quantize (no notebooks, no book)")
    _config_options(train)
    train.add_argument("--fresh", action="store_true", help="ignore and replace stored artifacts")
    train.add_argument("--verbose", type=int, default=2)

    evaluate = sub.add_parser(
        "evaluate",
        help="compute results.json from a trained store",
        description="Compute results.json from the models of a trained store (never trains "
        "it: run `train` first); with other evaluation values (e.g. -p test_subset "
        "2000) the results go to the store's evaluations/<hash>/ folder. With --seeds, "
        "every listed seed of the sweep is evaluated again from its committed weights "
        "(artifacts/<profile>/weights/), rebuilt without training, and its record rewritten.",
    )
    _config_options(evaluate)
    evaluate.add_argument(
        "--seeds",
        help="re-evaluate these recorded seeds from their committed "
        "weights (e.g. 0-14); seeds without weights are named and skipped",
    )
    evaluate.add_argument(
        "--force",
        action="store_true",
        help="evaluate again even if results.json is "
        "current (e.g. after the verdict rules' margins changed); the models are reused",
    )

    weights = sub.add_parser(
        "weights",
        help="pack the trained members and per-image losses of recorded seeds for committing",
        description="Write artifacts/<profile>/weights/seed_<s>.weights.zip (every trained member, "
        "pruned kernels as non-zeros) and per_image/seed_<s>.per_image.zip (every "
        "MNIST test image's correctness, NLL and Brier score per variant) for every "
        "listed seed whose store is on this machine, and name both with their sha256 "
        "in the seed's record. A seed whose store is gone but whose record names a "
        "weights pack is re-opened from it to write its per-image pack.",
    )
    _seed_options(weights)

    frontier = sub.add_parser("frontier", help="new compressions, students and calibration per recorded seed (chapter 7)")
    frontier.description = "Per seed with weights: clustered, PQAT, 2:4 and distilled variants, raw and calibrated numbers."
    _seed_options(frontier)
    frontier.add_argument("--force", action="store_true", help="compute the numbers again even if the record has current ones")

    aggregate = sub.add_parser(
        "aggregate",
        help="summarize every seed record of a profile into summary.json",
        description="Read and verify every seed record of the profile's store (and its own "
        "results.json), then write summary.json: seed means, SDs and t-intervals, "
        "paired differences, the verdicts of rules v1 and v2 with their statistics, "
        "and the lineage (each record's sha256). Never trains or evaluates.",
    )
    _config_options(aggregate)

    adopt = sub.add_parser(
        "adopt",
        help="re-record the lost manifest of a store from the model files present",
        description="Record a new manifest.json for a store whose manifest was lost, after "
        "loading every model file; refuses if one cannot be loaded. sizes.json and "
        "results.json are recomputed by the next train / evaluate.",
    )
    _config_options(adopt)

    build = sub.add_parser(
        "build",
        help="execute the chapter notebooks with papermill, then build the book",
        description="Execute notebooks/NN_name.py with papermill into <book>/chapters/NN_name.ipynb "
        "(re-using artifacts already in the store), then run "
        "`jupyter-book build <book> --all -W -n --keep-going` (warnings are errors).",
    )
    build.add_argument("--profile", default="paper", help="profile (paper, quick, smoke): the notebooks' `profile`")
    build.add_argument("--only", metavar="NN", help="execute only this chapter (e.g. 03)")
    build.add_argument("--fresh", action="store_true", help="wipe the profile's store first, so everything is recomputed")
    build.add_argument("--no-build", dest="build", action="store_false", help="execute the chapters but do not run jupyter-book")
    build.add_argument(
        "--out-dir",
        metavar="DIR",
        help="build a copy of the book in DIR (chapters "
        "in DIR/chapters, artifacts in DIR/artifacts); book/ and artifacts/ are "
        "left untouched. DIR must be empty or a previous --out-dir build. Default: "
        "book/ for the paper profile as configured, build/<profile>/ for any other "
        "profile or with -p values (the committed book is never overwritten by them)",
    )
    build.add_argument("--into-book", action="store_true", help="build a non-paper profile (or -p values) into book/ itself")
    build.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="extra papermill parameter (YAML value, e.g. -p epochs 2); every executed chapter must declare it",
    )
    build.add_argument("--notebooks", metavar="DIR", help="folder of the NN_name.py chapter sources (default: notebooks/)")
    build.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar, no jupyter-book log")

    pdf = sub.add_parser(
        "pdf",
        help="print the built book to one PDF (headless Chromium)",
        description="Print the book's executed chapters as one PDF (Jupyter Book's single-page "
        "HTML, printed by headless Chromium with the book's print stylesheet) into "
        "<book>/_build/pdf/book.pdf. Nothing is executed: build the book first.",
    )
    pdf.add_argument("--book", default=None, help="the book folder (default: book/, the committed book)")

    sweep = sub.add_parser(
        "sweep",
        help="train, compress and evaluate several seeds, each its own experiment",
        description="Run each seed of a profile (its own store) and record it in "
        "artifacts/<profile>/seeds/seed_<s>.json; recorded seeds are skipped, so "
        "a killed sweep resumes. --engine ray runs one Ray task per seed.",
    )
    _seed_options(sweep)
    sweep.add_argument("--engine", choices=("local", "ray"), default="local", help="local: seed after seed; ray: task per seed")
    sweep.add_argument("--address", help="Ray cluster address (HEAD:6379); default: a local Ray instance on this machine's CPUs")
    sweep.add_argument("--cpus-per-task", type=int, default=2, help="CPUs per Ray task")
    sweep.add_argument("--frontier", action="store_true", help="then each seed's weights pack and frontier (as those commands)")
    return parser


def _pdf(args) -> None:
    from helpers.build.pdf import build_pdf
    from helpers.build.pipeline import BOOK_DIR

    path = build_pdf(Path(args.book) if args.book else BOOK_DIR)
    print(f"the book as a PDF: {path}")


def _sweep(args) -> None:
    from helpers.stages.sweep import parse_seeds, run_sweep

    def report(summary):
        where = f" on {summary['host']}" if "host" in summary else ""
        what = {
            "skipped": "skipped (already recorded)",
            "exported": f"recorded from this machine's complete store in {summary['wall_s']:.1f} s",
        }.get(summary["status"], f"done in {summary['wall_s']:.1f} s{where}")
        print(f"seed {summary['seed']}: {what} -> {summary['record']}", flush=True)

    run_sweep(
        args.profile,
        parse_seeds(args.seeds),
        engine=args.engine,
        address=args.address,
        num_cpus_per_task=args.cpus_per_task,
        on_seed_done=report,
    )
    if args.frontier:
        from helpers.stages.frontier_sweep import frontier_after_sweep

        frontier_after_sweep(args.profile, parse_seeds(args.seeds))


def _config(args):
    from helpers.build.pipeline import parameters_from_pairs
    from helpers.core.config import NULL, load_config

    # `-p test_subset null` sets the key to null (a None override would mean "the profile's value")
    values = {k: NULL if v is None else v for k, v in parameters_from_pairs(args.parameter).items()}
    return load_config(args.profile, **values)


def _train(args) -> None:
    from helpers.stages.experiment import Experiment

    exp = Experiment(_config(args), fresh=args.fresh, verbose=args.verbose)
    exp.build_all()
    print(f"artifacts in {exp.store.root}")


def _weights(args) -> None:
    from helpers.stages.reopen import export_weights
    from helpers.stages.sweep import parse_seeds

    for seed, what in export_weights(args.profile, parse_seeds(args.seeds)).items():
        print(f"seed {seed}: {what}")


def _frontier(args) -> None:
    from helpers.stages.frontier_sweep import run_frontier
    from helpers.stages.sweep import parse_seeds

    run_frontier(args.profile, parse_seeds(args.seeds), force=args.force)


def _evaluate(args) -> None:
    if args.seeds is not None:
        from helpers.stages.reopen import reevaluate
        from helpers.stages.sweep import parse_seeds

        if args.parameter:
            raise ValueError(
                "evaluate --seeds re-evaluates the profile's recorded seeds as they were "
                "run; drop the -p values, or evaluate one store without --seeds."
            )
        reevaluate(args.profile, parse_seeds(args.seeds))
        return
    from helpers.stages import evaluation
    from helpers.stages.experiment import Experiment
    from helpers.store.artifacts import Store, StoreError

    cfg = _config(args)
    store = Store(cfg, create=False)
    exp = Experiment(cfg, store=store)
    missing = [p for p in exp.model_files() if not store.has_files([p])]
    if missing:
        raise StoreError(
            f"{store.rel(missing[0])} is not in the store {store.root} and evaluate "
            f"never trains; build the models first with `{store.command('train')}`."
        )
    evaluation.evaluate(exp, force=args.force)
    print(f"results in {store.path(store.results_name())}")


def _aggregate(args) -> None:
    from helpers.stages.aggregate import aggregate

    aggregate(_config(args))


def _adopt(args) -> None:
    from helpers.engine import compression
    from helpers.engine.member_check import check_member
    from helpers.engine.predict import TFLiteMember
    from helpers.stages.experiment import Experiment
    from helpers.store.artifacts import Store, StoreError

    cfg = _config(args)
    store = Store(cfg, adopt=True)
    exp = Experiment(cfg, store=store)

    def check(path):
        compression.load_keras(path) if path.suffix == ".keras" else TFLiteMember(path)
        try:  # it loads; now its sparsity and quantization must match its folder's variant name
            check_member(path, path.parent.name, f"{store.command('train')} --fresh")
        except ValueError as e:
            raise StoreError(f"{e} Nothing was adopted.") from None

    adopted = store.adopt(check, {store.rel(p) for p in exp.model_files()})
    print(
        f"adopted {len(adopted)} model files into {store.manifest_path}; sizes.json and "
        f"results.json are recomputed by `{store.command('train')}` and "
        f"`{store.command('evaluate')}`."
    )


def _build(args) -> int:
    from helpers.build.chapters import PipelineError
    from helpers.build.pipeline import parameters_from_pairs, run

    parameters = parameters_from_pairs(args.parameter)
    nulls = [k for k, v in parameters.items() if v is None]
    if nulls:  # a chapter parameter left at None means "the profile's value": null cannot pass
        raise PipelineError(
            f"-p {nulls[0]} null cannot reach the chapters (their None means the "
            f"profile's value); set {nulls[0]}: null in a profile of _config.yml "
            f"and build with --profile."
        )
    out_dir = args.out_dir
    if out_dir is None and not args.into_book and (args.profile != "paper" or parameters):
        from helpers.core.config import REPO_ROOT

        out_dir = str(REPO_ROOT / "build" / args.profile)  # the committed book stays as it is
    try:
        run(
            args.profile,
            parameters=parameters,
            only=args.only,
            fresh=args.fresh,
            build=args.build,
            out_dir=out_dir,
            notebooks_dir=args.notebooks,
            progress_bar=args.progress,
        )
    except KeyboardInterrupt:
        print(
            "error: interrupted; executed chapters already written are kept, the interrupted one was not written.",
            file=sys.stderr,
        )
        return 130
    return 0


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _os_error(e: OSError, command: str) -> str:
    where = f"{e.filename}: " if e.filename else ""
    text = f"{where}{e.strerror or e}"
    if command == "build" and e.errno in _READ_ONLY:
        return (
            f"{text} (a read-only checkout?); build a copy of the book elsewhere with "
            f"--out-dir DIR (e.g. python -m helpers build --out-dir /tmp/book)."
        )
    if e.errno in _READ_ONLY:
        return f"{text}; {_permission_fix(e.filename)}"
    return f"{text}."


def _permission_fix(filename) -> str:
    """The advice for a file that cannot be read or written, by where it lies."""
    from pathlib import Path

    from helpers.data.files import cache_dir
    from helpers.store.artifacts import artifacts_root

    path = Path(filename).resolve() if filename else None
    data = os.environ.get("CDE_DATA_DIR")
    if path is not None and data and Path(data).resolve() in (path, *path.parents):
        return (
            "the data folder CDE_DATA_DIR points at cannot be read there; make it readable "
            "or point CDE_DATA_DIR at a readable copy of the data files."
        )
    if path is not None and cache_dir() in (path, *path.parents):
        return "the data cache cannot be written; point CDE_CACHE_DIR at a folder you can write to."
    if path is None or artifacts_root() in (path, *path.parents):
        return "point CDE_ARTIFACTS_DIR at a folder you can write to."
    return "check that file's permissions."


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command in ("train", "evaluate", "aggregate", "adopt", "weights", "frontier", "sweep", "build"):
        from helpers.core.quiet import import_tensorflow

        import_tensorflow()  # its oneDNN / CUDA / absl start-up lines go to a log, not the terminal
    from helpers.build.chapters import PipelineError
    from helpers.data.files import DataError
    from helpers.store.artifacts import artifacts_root

    if os.environ.get("CDE_ARTIFACTS_DIR"):
        # Resolved once, here: the chapter kernels run in another working directory.
        os.environ["CDE_ARTIFACTS_DIR"] = str(artifacts_root())
    commands = {
        "train": _train,
        "evaluate": _evaluate,
        "aggregate": _aggregate,
        "adopt": _adopt,
        "build": _build,
        "weights": _weights,
        "frontier": _frontier,
        "sweep": _sweep,
        "pdf": _pdf,
    }
    try:
        return commands[args.command](args) or 0
    except KeyboardInterrupt:
        print("error: interrupted; what was completed is kept (a re-run resumes).", file=sys.stderr)
        return 130
    except (ValueError, DataError, PipelineError, OSError) as e:  # StoreError is a ValueError
        if os.environ.get("CDE_TRACEBACK"):
            raise
        message = _os_error(e, args.command) if isinstance(e, OSError) else _one_line(e)
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
