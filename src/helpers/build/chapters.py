"""One chapter notebook, from source to executed chapter: discover the chapter sources
`notebooks/NN_name.py` (Jupytext percent format), then for each:

1. `jupytext.read` it; its cell tagged `parameters` must declare every parameter passed
   (always `profile`, plus any `-p NAME VALUE`), checked with `papermill.inspect_notebook`;
2. `papermill.execute_notebook` it on the `cde-book` kernel into a temp file under
   `<book>/_build/.papermill/`, with the working directory set to `<book>/chapters/`
   (the folder the executed notebook lives in, as when a reader opens it in Jupyter;
   notebooks should still not rely on the working directory: use `helpers.core.config.REPO_ROOT`
   and the store);
3. post-process it (`helpers.book.bookio`) and rename the file to `<book>/chapters/NN_name.ipynb`:
   code cells are folded (`hide-input`) except the parameters and setup cells
   (`remove-cell`, checked before anything runs); a first, hidden cell installs the
   project when `helpers` is not importable (Colab, a download; the repository is
   `repository.url` of `<book>/_config.yml`); the injected-parameters cell is tagged
   `remove-cell`; cell ids are stable, execution times are dropped (they go to the store's
   execution.json), TensorFlow log lines and machine paths are removed from the outputs.
   The kernels run with TensorFlow's C++ logging off and without a GPU, and draw figures
   as SVG. A failing cell never overwrites the previous executed chapter: the failed
   notebook goes to `<book>/_build/failed/NN_name.ipynb` and the pipeline stops with one
   `PipelineError` sentence naming the chapter, the cell and the error.

Also `PipelineError`, which every step of the build raises, and the small helpers the
build's messages and records share (one_line, rel_path, set_environ, utc_now).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from helpers.book import bookio
from helpers.core.config import REPO_ROOT, Config

KERNEL_NAME = "cde-book"
CHAPTER_PATTERN = re.compile(r"^(?P<number>\d{2})_(?P<slug>[A-Za-z0-9_]+)\.py$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CONFIG_KEYS = {f.name for f in dataclasses.fields(Config)} - {"profile", "config_path", "model", "data"}


class PipelineError(RuntimeError):
    """The pipeline cannot go on; the message (one sentence, one line) says what and how to fix."""


# --- discovery and checks -----------------------------------------------------------------
def discover_chapters(notebooks_dir: Path, only: str | None = None) -> list[Path]:
    """The `NN_name.py` files of `notebooks_dir`, sorted (00_* last); `only` ("03", "3"
    or "03_compression") selects one."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise PipelineError(
            f"Notebook folder {notebooks_dir} does not exist; pass the folder holding the NN_name.py chapter sources."
        )
    # 00_intro summarizes what the other chapters computed: it is executed last.
    found = sorted(
        (p for p in notebooks_dir.iterdir() if p.is_file() and CHAPTER_PATTERN.match(p.name)),
        key=lambda p: (CHAPTER_PATTERN.match(p.name)["number"] == "00", p.name),
    )
    if not found:
        raise PipelineError(
            f"No chapter sources named like 01_name.py in {notebooks_dir}; add Jupytext percent-format notebooks there."
        )
    if only is None:
        return found
    wanted = str(only).strip().removesuffix(".py")
    picked = [
        p for p in found if p.stem == wanted or (wanted.isdigit() and int(CHAPTER_PATTERN.match(p.name)["number"]) == int(wanted))
    ]
    if not picked:
        raise PipelineError(
            f"--only {only!r} matches no chapter in {notebooks_dir}; choose one of {', '.join(p.stem for p in found)}."
        )
    return picked


def check_kernel(kernel_name: str = KERNEL_NAME) -> None:
    """Fail with a sentence if the Jupyter kernel papermill needs is not registered."""
    from jupyter_client.kernelspec import KernelSpecManager

    if kernel_name not in KernelSpecManager().find_kernel_specs():
        raise PipelineError(
            f"The Jupyter kernel {kernel_name!r} is not installed for {sys.executable}; "
            "run `make venv` to register it (python -m ipykernel install "
            f"--sys-prefix --name {kernel_name})."
        )


def read_chapter(path: Path, kernel_name: str = KERNEL_NAME):
    """Read a Jupytext percent-format source into a NotebookNode bound to `kernel_name`."""
    import jupytext

    try:
        nb = jupytext.read(path, fmt="py:percent")
    except Exception as e:  # noqa: BLE001 - any parse failure becomes one sentence
        raise PipelineError(
            f"{path} could not be read as a Jupytext percent-format notebook "
            f"({type(e).__name__}: {one_line(e)}); fix its `# %%` cells."
        ) from None
    nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": "Python (cde-book)", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    try:
        bookio.apply_cell_convention(nb, str(path))
    except bookio.CellConventionError as e:
        raise PipelineError(str(e)) from None
    return nb


def check_executed(path: Path, rebuild: str) -> None:
    """Fail with one sentence naming an executed chapter that nbformat cannot read or that is
    not a valid notebook (a truncated or hand-edited file), and `rebuild`, the command that
    executes it again, before Sphinx sees it."""
    import nbformat
    import nbformat.reader

    try:  # nbformat's reader, then its validator (nbformat.read would also log the problem)
        with open(path, encoding="utf-8") as f:
            nbformat.validate(nbformat.reader.read(f))
    except Exception as e:  # noqa: BLE001 - unreadable JSON or an invalid notebook alike
        e = e.__cause__ if isinstance(e.__cause__, ValueError) else e  # the JSON error, not the file's text
        first = next((line for line in str(e).splitlines() if line.strip()), "")
        raise PipelineError(
            f"The executed chapter {rel_path(path)} is not a valid notebook "
            f"({type(e).__name__}: {one_line(first, 160)}), truncated or edited after it was "
            f"written; execute it again with `{rebuild}`."
        ) from None


OVERRIDES = "overrides"
"""The chapters' one parameter for config values: a mapping of any config keys."""


def chapter_parameters(declared, parameters: dict) -> dict:
    """The papermill parameters of one chapter: `profile` and any other declared name as
    given, every config key not declared by name gathered into the `overrides` mapping."""
    out = {k: v for k, v in parameters.items() if k in declared}
    rest = {k: v for k, v in parameters.items() if k not in declared and k in _CONFIG_KEYS}
    if rest:
        out[OVERRIDES] = {**(parameters.get(OVERRIDES) or {}), **rest}
    return out


def config_overrides(parameters: dict) -> dict:
    """The config keys among `parameters` (they select the store)."""
    return {k: v for k, v in parameters.items() if k in _CONFIG_KEYS}


def check_parameters(nb, path: Path, parameters: dict) -> dict:
    """Fail unless `nb` has a cell tagged `parameters` that declares every key of
    `parameters` (every config key counts as declared when it declares `overrides`);
    return the declared parameters (papermill.inspect_notebook)."""
    import papermill

    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise PipelineError(
            f"{path} has no cell tagged `parameters`; add one "
            '(`# %% tags=["parameters"]`) that assigns at least `profile = "paper"`.'
        )
    declared = papermill.inspect_notebook(nb)
    # A chapter that declares `overrides` takes every config key through it (chapter_parameters).
    routed = _CONFIG_KEYS if OVERRIDES in declared else set()
    unknown = sorted(set(parameters) - set(declared) - routed)
    if unknown:
        raise PipelineError(
            f"Parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"{'are' if len(unknown) > 1 else 'is'} not declared in the `parameters` cell of {path} "
            f"(it declares: {', '.join(declared) or 'nothing'}); add "
            f"{'them' if len(unknown) > 1 else 'it'} there or drop the -p option."
        )
    return declared


# --- helpers ------------------------------------------------------------------------------
def one_line(text: Any, limit: int = 300) -> str:
    text = " ".join(_ANSI.sub("", str(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return one_line(line.strip(), 80)
    return "(empty cell)"


def rel_path(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter messages)."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextlib.contextmanager
def set_environ(**values: str | None):
    """Set environment variables for the block (inherited by kernels and subprocesses)."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --- one chapter --------------------------------------------------------------------------
def execute_chapter(
    source: Path, book_dir: Path, parameters: dict, *, kernel_name: str = KERNEL_NAME, progress_bar: bool = True, nb=None
) -> dict:
    """Execute one chapter source into `book_dir/chapters/<stem>.ipynb` (atomically).

    Returns {"seconds", "status", "finished"}. Raises PipelineError (one line) when a cell
    fails or the kernel dies; then the previous `chapters/<stem>.ipynb` is left as it was.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source, book_dir = Path(source), Path(book_dir)
    name = source.stem
    if nb is None:
        nb = read_chapter(source, kernel_name)
    parameters = chapter_parameters(check_parameters(nb, source, parameters), parameters)
    chapters_dir = book_dir / "chapters"
    work_dir = book_dir / "_build" / ".papermill"
    failed_dir = book_dir / "_build" / "failed"
    for d in (chapters_dir, work_dir):
        d.mkdir(parents=True, exist_ok=True)
    target = chapters_dir / f"{name}.ipynb"
    tmp = work_dir / f"{name}.{os.getpid()}.ipynb"
    nb = _with_install_cell(nb, book_dir)
    param_index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", []))
    start = time.perf_counter()
    try:
        with set_environ(**bookio.kernel_environment()):
            papermill.execute_notebook(
                nb,
                str(tmp),
                parameters=parameters,
                kernel_name=kernel_name,
                language="python",
                progress_bar=progress_bar,
                cwd=str(chapters_dir.resolve()),
                extra_arguments=KERNEL_ARGUMENTS,
            )
    except PapermillExecutionError as e:
        seconds = round(time.perf_counter() - start, 2)
        failed_dir.mkdir(parents=True, exist_ok=True)
        failed = failed_dir / f"{name}.ipynb"
        kept = ""
        if tmp.exists():
            os.replace(tmp, failed)
            kept = f"the executed notebook with the traceback is {rel_path(failed)}; "
        # papermill counts the install cell (first) and the injected-parameters cell
        # (after the parameters cell); report the cell as numbered (from 1) in the source.
        if e.cell_index == 0:
            where = "the install cell"
        elif e.cell_index == param_index + 1:
            where = "the injected-parameters cell"
        else:
            src_index = e.cell_index - 1 - (e.cell_index > param_index + 1)
            where = f"cell {src_index + 1} ({_first_line(e.source)!r})"
        error = f"{e.ename}: {one_line(e.evalue)}" if e.evalue else e.ename
        err = PipelineError(
            f"Chapter {name} failed in {where} of {rel_path(source)}: {error}; {kept}{rel_path(target)} was left unchanged."
        )
        err.record = {"seconds": seconds, "status": "failed", "finished": utc_now()}
        raise err from None
    except Exception as e:  # noqa: BLE001 - dead kernel, timeout, kernel start failure...
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        err = PipelineError(
            f"Chapter {name} ({rel_path(source)}) could not be executed: "
            f"{type(e).__name__}: {one_line(e) or 'no message'}; "
            f"{rel_path(target)} was left unchanged."
        )
        err.record = {"seconds": round(time.perf_counter() - start, 2), "status": "failed", "finished": utc_now()}
        raise err from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    try:
        out = nbformat.read(tmp, as_version=4)
        meta = out.metadata.setdefault("papermill", {})
        seconds = meta.get("duration")
        if not isinstance(seconds, (int, float)):
            seconds = time.perf_counter() - start
        status = "failed" if meta.get("exception") else "completed"
        postprocess_chapter(out, source, target, book_dir)
        nbformat.write(out, tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return {"seconds": round(float(seconds), 2), "status": status, "finished": utc_now()}


# Kernel options: the kernel app's own log (plain-TCP notice, shutdown chatter) is noise
# (cell errors reach papermill); figures are drawn as SVG, which the book prefers (sharp
# at any width, see book/_config.yml nb_mime_priority_overrides).
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL", "--InlineBackend.figure_formats=svg"]


def _with_install_cell(nb, book_dir: Path):
    """A copy of `nb` with the install cell first (repository from `book_dir/_config.yml`)."""
    import copy

    config = Path(book_dir) / "_config.yml"
    try:
        url, branch = bookio.repository_from_config(config)
    except FileNotFoundError:
        raise PipelineError(
            f"{rel_path(config)} is missing; the book skeleton needs it (its "
            "repository.url goes into each chapter's install cell)."
        ) from None
    except ValueError as e:
        raise PipelineError(str(e)) from None
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if bookio.INSTALL_TAG not in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(0, bookio.install_cell(url, branch))
    return nb


def postprocess_chapter(nb, source: Path, target: Path, book_dir: Path) -> None:
    """Make an executed chapter publishable and reproducible, in place: the injected
    parameters hidden, paths portable, then `bookio.finalize` (stable ids, no times, no
    TensorFlow log lines or machine paths in outputs)."""
    for cell in nb.cells:
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if bookio.INJECTED in tags and bookio.REMOVE_CELL not in tags:
            tags.append(bookio.REMOVE_CELL)
    meta = nb.metadata.setdefault("papermill", {})
    # Paths of the temp files (or of this machine) mean nothing to a reader.
    meta["input_path"] = bookio.portable_path(source, (REPO_ROOT, ""))
    meta["output_path"] = bookio.portable_path(target, (REPO_ROOT, ""), (book_dir, ""))
    bookio.finalize(nb, Path(source).stem, bookio.machine_paths(book_dir, REPO_ROOT))
