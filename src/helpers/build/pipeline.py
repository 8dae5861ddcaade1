"""Notebooks -> executed chapters -> book: `python -m helpers build --profile NAME`.

Every `notebooks/NN_name.py` (Jupytext percent format, in name order, 00_* last) is read
and checked before any runs, then each is executed into `<book>/chapters/NN_name.ipynb`
(helpers.build.chapters: its parameters, papermill, the post-processing). A failing cell
never overwrites the previous executed chapter: the pipeline stops with one
`PipelineError` sentence naming the chapter, the cell and the error.

Each chapter's time and status, and the book build's, are recorded in the profile's store
as `execution.json` = {chapter: {seconds, status, finished}, "book_build": {...}}.
Then `jupyter-book build <book> --all -W -n --keep-going` (a full rebuild, so the warnings
of unchanged pages are reported too; any warning fails the build).

With `out_dir`, the book is built in a copy outside the book source, with its own
artifacts (helpers.build.outdir); without it, a book folder or store that cannot be
written (a read-only checkout) is one PipelineError suggesting `--out-dir`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from helpers.build.chapters import (
    KERNEL_NAME,
    PipelineError,
    check_executed,
    check_kernel,
    check_parameters,
    config_overrides,
    discover_chapters,
    execute_chapter,
    one_line,
    read_chapter,
    rel_path,
    set_environ,
    utc_now,
)
from helpers.build.outdir import (
    check_writable,
    copy_skeleton,
    prepare_out_dir,
    remove_stale_temp_notebooks,
    seed_out_dir_store,
)
from helpers.core.config import REPO_ROOT, Config, load_config

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BOOK_DIR = REPO_ROOT / "book"
EXECUTION_FILE = "execution.json"


@dataclasses.dataclass
class BuildResult:
    book_dir: Path
    chapters: dict  # chapter name -> {"seconds", "status", "finished"}
    index_html: Path | None  # None with build=False


def _record(cfg: Config, entries: dict) -> None:
    """Merge `entries` into the store's execution.json; PipelineError if the store refuses."""
    from helpers.store.artifacts import Store, StoreError

    try:
        store = Store(cfg)
        data = store.read_json(EXECUTION_FILE, {})
        data.update(entries)
        store.write_json(EXECUTION_FILE, data)
    except (StoreError, OSError, ValueError) as e:
        raise PipelineError(f"Could not record execution times in the store: {one_line(e)}") from None


# --- the book -----------------------------------------------------------------------------
def toc_files(book_dir: Path) -> list[str]:
    """The document names listed in `_toc.yml` (root, chapters, sections)."""
    import yaml

    toc = yaml.safe_load((book_dir / "_toc.yml").read_text()) or {}
    names = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    names.append(str(node[key]))
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return names


def check_toc(book_dir: Path) -> None:
    """Fail when a page of `_toc.yml` has no source (e.g. a chapter never executed)."""
    book_dir = Path(book_dir)
    if not (book_dir / "_toc.yml").exists():
        raise PipelineError(f"{book_dir / '_toc.yml'} is missing; restore the book skeleton.")
    missing = [
        n
        for n in toc_files(book_dir)
        if not any((book_dir / f"{n}{ext}").exists() or (book_dir / n).exists() for ext in (".md", ".ipynb", ".rst"))
    ]
    if missing:
        raise PipelineError(
            f"The book in {book_dir} lacks {', '.join(missing)} listed in _toc.yml; "
            "execute those chapters first (run without --only, or build with --no-build)."
        )


def rebuild_command(profile: str, book_dir: Path, number: str, parameters: dict | None = None) -> str:
    """The command line that executes chapter `number` ("03") of `profile` into `book_dir`."""
    import json
    import shlex

    parts = ["python", "-m", "helpers", "build", "--profile", profile, "--only", number]
    book_dir = Path(book_dir).resolve()
    if book_dir == BOOK_DIR.resolve():
        parts += [] if profile == "paper" and not parameters else ["--into-book"]
    elif book_dir != (REPO_ROOT / "build" / profile).resolve() or (profile == "paper" and not parameters):
        parts += ["--out-dir", rel_path(book_dir)]
    for name, value in (parameters or {}).items():
        parts += ["-p", name, json.dumps(value)]
    return shlex.join(parts)


def check_executed_chapters(book_dir: Path, profile: str = "paper", parameters: dict | None = None) -> None:
    """Every executed chapter (.ipynb) of `_toc.yml` read and validated with nbformat; a
    truncated one is a PipelineError naming it and the command that executes it again."""
    for name in toc_files(book_dir):
        path = Path(book_dir) / f"{name}.ipynb"
        if path.is_file():
            check_executed(path, rebuild_command(profile, book_dir, path.stem.split("_")[0], parameters))


# jupyter-book's command line, run by this interpreter (its venv's jupyter-book, whatever PATH holds)
JUPYTER_BOOK = (
    sys.executable,
    "-c",
    "import sys; from jupyter_book.cli.main import main; sys.argv[0] = 'jupyter-book'; main()",
)


def build_book(book_dir: Path, *, echo: bool = True, profile: str = "paper", parameters: dict | None = None) -> Path:
    """`jupyter-book build book_dir --all -W -n --keep-going`; return the index.html path.

    Every executed chapter is checked first (check_executed_chapters). The build log is
    kept in `book_dir/_build/jupyter-book.log`; on failure the PipelineError lists the
    warnings (each a page and a reason).
    """
    book_dir = Path(book_dir).resolve()
    check_toc(book_dir)
    check_executed_chapters(book_dir, profile, parameters)
    cmd = [
        *JUPYTER_BOOK,
        "build",
        str(book_dir),
        "--all",
        "-W",
        "-n",
        "--keep-going",
    ]
    log_path = book_dir / "_build" / "jupyter-book.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, cwd=book_dir) as proc:
        for line in proc.stdout:
            lines.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    log_path.write_text("".join(lines))
    index = book_dir / "_build" / "html" / "index.html"
    if rc != 0 or not index.exists():
        problems = [
            one_line(line, 400) for line in lines if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Exception|Error:", line)
        ]
        shown = problems[:20]
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        detail = (": " + " | ".join(shown) + more) if shown else ""
        raise PipelineError(
            f"jupyter-book build of {rel_path(book_dir)} failed (exit {rc}; warnings are "
            f"errors here){detail}; full log in {rel_path(log_path)}."
        )
    return index


# --- the whole pipeline -------------------------------------------------------------------
def run(
    profile: str = "paper",
    *,
    parameters: dict | None = None,
    only: str | None = None,
    fresh: bool = False,
    build: bool = True,
    out_dir: str | os.PathLike | None = None,
    stages: bool = True,
    notebooks_dir: str | os.PathLike | None = None,
    book_source: str | os.PathLike | None = None,
    kernel_name: str = KERNEL_NAME,
    progress_bar: bool = True,
    echo=print,
) -> BuildResult:
    """Execute the chapters for `profile` and build the book (see the module docstring).

    parameters: extra papermill parameters (each must be declared by every chapter run);
        those that are config keys also select the store (artifacts/<profile>_<hash>).
    only: run one chapter ("03"); fresh: wipe the profile's store first; stages: first
    run the computing stages the chapters read (train, re-train, convert, evaluate; each
    reuses what the store holds), since chapters never compute;
    build: run jupyter-book after the chapters; out_dir: build a copy of the book there
    (artifacts in out_dir/artifacts); notebooks_dir / book_source: where the chapter
    sources and the book skeleton are (default notebooks/ and book/).
    """
    echo = echo or (lambda *a, **k: None)
    notebooks_dir = Path(notebooks_dir or NOTEBOOKS_DIR).resolve()
    book_source = Path(book_source or BOOK_DIR).resolve()
    params = {"profile": profile, **(parameters or {})}
    if not book_source.is_dir():
        raise PipelineError(f"Book folder {book_source} does not exist; restore book/ from the repository.")
    chapters = discover_chapters(notebooks_dir, only)
    check_kernel(kernel_name)
    # Read and check every selected chapter before running any: fail in seconds, not hours.
    notebooks = []
    for path in chapters:
        nb = read_chapter(path, kernel_name)
        check_parameters(nb, path, params)
        notebooks.append((path, nb))

    if out_dir is not None:
        book_dir = Path(out_dir).resolve()
        prepare_out_dir(book_dir, book_source)
        copy_skeleton(book_source, book_dir)
        artifacts_env = str(book_dir / "artifacts")
        seeded = seed_out_dir_store(profile, book_dir / "artifacts")
        if seeded:
            echo(f"--out-dir: started from a copy of the store {rel_path(seeded)} (nothing is re-trained that it holds)")
    else:
        book_dir = book_source
        artifacts_env = None
        from helpers.store.artifacts import artifacts_root

        check_writable([book_dir / "_build", book_dir / "chapters", artifacts_root()])
    removed = remove_stale_temp_notebooks(book_dir)
    if removed:
        echo(f"removed {len(removed)} temp notebook(s) left by a killed build: {', '.join(p.name for p in removed)}")

    from helpers.store.artifacts import Store, StoreError

    with set_environ(CDE_ARTIFACTS_DIR=artifacts_env):
        try:
            cfg = load_config(profile, **config_overrides(params))
        except ValueError as e:
            raise PipelineError(one_line(e, 600)) from None
        if fresh:
            try:
                store = Store(cfg, fresh=True)
            except (StoreError, OSError) as e:
                raise PipelineError(one_line(e, 600)) from None
            echo(f"--fresh: wiped the store {rel_path(store.root)}")
        if stages:
            prepare_results(cfg, echo)
        results = {}
        for i, (path, nb) in enumerate(notebooks, 1):
            echo(f"[{i}/{len(notebooks)}] {path.stem} (profile {profile})")
            try:
                results[path.stem] = execute_chapter(
                    path, book_dir, params, kernel_name=kernel_name, progress_bar=progress_bar, nb=nb
                )
            except PipelineError as e:
                if getattr(e, "record", None):
                    with contextlib.suppress(PipelineError):
                        _record(cfg, {path.stem: e.record})
                raise
            _record(cfg, {path.stem: results[path.stem]})
            echo(
                f"      {results[path.stem]['status']} in {results[path.stem]['seconds']:.1f} s "
                f"-> {rel_path(book_dir / 'chapters' / (path.stem + '.ipynb'))}"
            )
        index = None
        if build:
            echo(f"building the book in {rel_path(book_dir)} (jupyter-book, warnings are errors)")
            start = time.perf_counter()
            try:
                index = build_book(book_dir, echo=progress_bar, profile=profile, parameters=parameters)
            except PipelineError:
                with contextlib.suppress(PipelineError):
                    _record(
                        cfg,
                        {
                            "book_build": {
                                "seconds": round(time.perf_counter() - start, 2),
                                "status": "failed",
                                "finished": utc_now(),
                            }
                        },
                    )
                raise
            _record(
                cfg,
                {"book_build": {"seconds": round(time.perf_counter() - start, 2), "status": "completed", "finished": utc_now()}},
            )
            echo(f"book: {index}")
    return BuildResult(book_dir=book_dir, chapters=results, index_html=index)


def prepare_results(cfg: Config, echo=print) -> None:
    """Build what the chapters read, here in the pipeline (chapters never compute): the
    models (`train`), encodings.json and results.json (`evaluate`), summary.json
    (`aggregate`, every seed of the store); each reuses what the store holds."""
    from helpers.stages import evaluation
    from helpers.stages.aggregate import aggregate
    from helpers.stages.experiment import Experiment
    from helpers.stages.frontier_sweep import store_frontier
    from helpers.store.artifacts import StoreError

    try:
        exp = Experiment(cfg)
        exp.build_all()
        exp.encodings()
        results = evaluation.evaluate(exp)
        recorded = (exp.store.root / "seeds" / f"seed_{cfg.seed}.json").exists()
        # the frontier of a store without a record of its seed (the smoke book); recorded seeds
        # get theirs from the frontier command, written into their records
        frontier = None if recorded else store_frontier(exp, results)
        aggregate(cfg, results, echo=lambda *_: None, frontier=frontier)
    except (StoreError, ValueError, OSError) as e:
        raise PipelineError(one_line(e, 600)) from None
    echo(f"store {rel_path(exp.store.root)}: models, results.json and summary.json ready")


def parse_parameter(name: str, value: str) -> tuple[str, Any]:
    """`-p NAME VALUE` as papermill reads it: YAML scalars (3 -> int, 0.5 -> float,
    null -> None, [0.5, 0.9] -> list), anything else a string."""
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if not isinstance(parsed, (str, int, float, bool, list, type(None))):
        parsed = value
    return name, parsed


def parameters_from_pairs(pairs: Iterable[Iterable[str]] | None) -> dict:
    out = {}
    for name, value in pairs or []:
        if name == "profile":
            raise PipelineError("Pass the profile with --profile, not -p profile.")
        key, val = parse_parameter(name, value)
        out[key] = val
    return out
