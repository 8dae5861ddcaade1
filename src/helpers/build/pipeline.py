"""Notebooks -> executed chapters -> book: `python -m helpers build --profile NAME`.

For each `notebooks/NN_name.py` (Jupytext percent format, in name order):

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

Each chapter's time and status, and the book build's, are recorded in the profile's store
as `execution.json` = {chapter: {seconds, status, finished}, "book_build": {...}}.
Then `jupyter-book build <book> --all -W -n --keep-going` (a full rebuild, so the warnings
of unchanged pages are reported too; any warning fails the build).

With `out_dir`, the book skeleton (everything in `book/` except `_build/`, `chapters/` and
hidden files) is copied to `out_dir`, chapters are executed into `out_dir/chapters`, and
`CDE_ARTIFACTS_DIR=out_dir/artifacts` is set for the kernels and the store, so such a
build never touches `artifacts/` or `book/chapters/`. `out_dir` must be new, empty, or
made by a previous out-dir build (it holds the marker file `OUT_DIR_MARKER`), and must
not lie inside the book source: an out-dir build never overwrites anything else.

Temp notebooks of a killed build (`_build/.papermill/NN_name.<pid>.ipynb` whose process
is gone) are removed by the next run. Without `out_dir`, a book folder or store that
cannot be written (a read-only checkout) is one PipelineError suggesting `--out-dir`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from helpers.book import bookio
from helpers.core.config import REPO_ROOT, Config, load_config

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
BOOK_DIR = REPO_ROOT / "book"
KERNEL_NAME = "cde-book"
EXECUTION_FILE = "execution.json"
CHAPTER_PATTERN = re.compile(r"^(?P<number>\d{2})_(?P<slug>[A-Za-z0-9_]+)\.py$")
# Never copied from the book skeleton into an out-dir.
_SKELETON_SKIP = {"_build", "chapters", "__pycache__", ".ipynb_checkpoints"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_CONFIG_KEYS = {f.name for f in dataclasses.fields(Config)} - {"profile", "config_path", "model",
                                                                "data"}


OUT_DIR_MARKER = ".cde-out-dir"
_TEMP_NOTEBOOK = re.compile(r"^(?P<name>.+)\.(?P<pid>\d+)\.ipynb$")


class PipelineError(RuntimeError):
    """The pipeline cannot go on; the message (one sentence, one line) says what and how to fix."""


@dataclasses.dataclass
class BuildResult:
    book_dir: Path
    chapters: dict            # chapter name -> {"seconds", "status", "finished"}
    index_html: Path | None   # None with build=False


# --- discovery and checks -----------------------------------------------------------------
def discover_chapters(notebooks_dir: Path, only: str | None = None) -> list[Path]:
    """The `NN_name.py` files of `notebooks_dir`, sorted (00_* last); `only` ("03", "3"
    or "03_compression") selects one."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise PipelineError(f"Notebook folder {notebooks_dir} does not exist; pass the folder "
                            "holding the NN_name.py chapter sources.")
    # 00_intro summarizes what the other chapters computed: it is executed last.
    found = sorted((p for p in notebooks_dir.iterdir() if p.is_file() and CHAPTER_PATTERN.match(p.name)),
                   key=lambda p: (CHAPTER_PATTERN.match(p.name)["number"] == "00", p.name))
    if not found:
        raise PipelineError(f"No chapter sources named like 01_name.py in {notebooks_dir}; "
                            "add Jupytext percent-format notebooks there.")
    if only is None:
        return found
    wanted = str(only).strip().removesuffix(".py")
    picked = [p for p in found if p.stem == wanted
              or (wanted.isdigit() and int(CHAPTER_PATTERN.match(p.name)["number"]) == int(wanted))]
    if not picked:
        raise PipelineError(f"--only {only!r} matches no chapter in {notebooks_dir}; choose one of "
                            f"{', '.join(p.stem for p in found)}.")
    return picked


def check_kernel(kernel_name: str = KERNEL_NAME) -> None:
    """Fail with a sentence if the Jupyter kernel papermill needs is not registered."""
    from jupyter_client.kernelspec import KernelSpecManager
    if kernel_name not in KernelSpecManager().find_kernel_specs():
        raise PipelineError(f"The Jupyter kernel {kernel_name!r} is not installed for {sys.executable}; "
                            "run `make venv` to register it (python -m ipykernel install "
                            f"--sys-prefix --name {kernel_name}).")


def read_chapter(path: Path, kernel_name: str = KERNEL_NAME):
    """Read a Jupytext percent-format source into a NotebookNode bound to `kernel_name`."""
    import jupytext
    try:
        nb = jupytext.read(path, fmt="py:percent")
    except Exception as e:  # noqa: BLE001 - any parse failure becomes one sentence
        raise PipelineError(f"{path} could not be read as a Jupytext percent-format notebook "
                            f"({type(e).__name__}: {_one_line(e)}); fix its `# %%` cells.") from None
    nb.metadata["kernelspec"] = {"name": kernel_name, "display_name": "Python (cde-book)",
                                 "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    try:
        bookio.apply_cell_convention(nb, str(path))
    except bookio.CellConventionError as e:
        raise PipelineError(str(e)) from None
    return nb


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


def check_parameters(nb, path: Path, parameters: dict) -> dict:
    """Fail unless `nb` has a cell tagged `parameters` that declares every key of
    `parameters` (every config key counts as declared when it declares `overrides`);
    return the declared parameters (papermill.inspect_notebook)."""
    import papermill
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise PipelineError(f"{path} has no cell tagged `parameters`; add one "
                            "(`# %% tags=[\"parameters\"]`) that assigns at least `profile = \"paper\"`.")
    declared = papermill.inspect_notebook(nb)
    # A chapter that declares `overrides` takes every config key through it (chapter_parameters).
    routed = _CONFIG_KEYS if OVERRIDES in declared else set()
    unknown = sorted(set(parameters) - set(declared) - routed)
    if unknown:
        raise PipelineError(
            f"Parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"{'are' if len(unknown) > 1 else 'is'} not declared in the `parameters` cell of {path} "
            f"(it declares: {', '.join(declared) or 'nothing'}); add "
            f"{'them' if len(unknown) > 1 else 'it'} there or drop the -p option.")
    return declared


# --- helpers ------------------------------------------------------------------------------
def _one_line(text: Any, limit: int = 300) -> str:
    text = " ".join(_ANSI.sub("", str(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return _one_line(line.strip(), 80)
    return "(empty cell)"


def _rel(path: Path) -> str:
    """A path relative to the working directory when it is below it (shorter messages)."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextlib.contextmanager
def _environ(**values: str | None):
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


def copy_skeleton(source: Path, dest: Path) -> list[Path]:
    """Copy the book skeleton (config, toc, pages, bib, static files) from `source` to `dest`."""
    source, dest = Path(source).resolve(), Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    if source == dest:
        return []
    copied = []
    for entry in sorted(source.iterdir()):
        if entry.name in _SKELETON_SKIP or entry.name.startswith("."):
            continue
        target = dest / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".*", "__pycache__"))
        else:
            shutil.copy2(entry, target)
        copied.append(target)
    return copied


def prepare_out_dir(out_dir: Path, book_source: Path) -> None:
    """Make `out_dir` an out-dir build folder (with its marker), or refuse (PipelineError,
    nothing written): a folder inside the book source, or a non-empty folder that a
    previous out-dir build did not make (it could be a checkout: never overwrite it)."""
    out_dir, book_source = Path(out_dir).resolve(), Path(book_source).resolve()
    if out_dir == book_source or book_source in out_dir.parents:
        raise PipelineError(f"--out-dir {out_dir} is inside the book source {book_source}; "
                            "choose a folder outside it (e.g. --out-dir /tmp/book).")
    if out_dir.exists() and not out_dir.is_dir():
        raise PipelineError(f"--out-dir {out_dir} is a file, not a folder; choose a new or "
                            "empty folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / OUT_DIR_MARKER).is_file():
        raise PipelineError(
            f"--out-dir {out_dir} is not empty and was not made by a previous --out-dir build "
            f"(it has no {OUT_DIR_MARKER} file), so nothing was written to it; choose a new or "
            "empty folder.")
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / OUT_DIR_MARKER
    if not marker.exists():
        marker.write_text("Made by `python -m helpers build --out-dir`; a later out-dir build "
                          "may overwrite this folder.\n")


def seed_out_dir_store(profile: str, artifacts: Path) -> Path | None:
    """Copy the profile's own store (artifacts/<profile>/, e.g. the committed paper run) into
    an out-dir build's artifacts when it has none yet, so a copy of the book starts from
    what exists instead of training it again; returns the store copied, or None. Caches
    and checkpoints are not copied (rebuilt on demand)."""
    from helpers.store.artifacts import artifacts_root
    source, target = artifacts_root() / profile, Path(artifacts) / profile
    if target.exists() or not (source / "manifest.json").is_file() or source.resolve() == target.resolve():
        return None
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("cache", "checkpoints", ".*.lock"))
    return source


def check_writable(folders: Iterable[Path]) -> None:
    """PipelineError suggesting --out-dir when one of `folders` cannot be written."""
    import tempfile
    for folder in folders:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as e:
            raise PipelineError(
                f"{folder} cannot be written ({e.strerror or e}), as in a read-only checkout; "
                "build a copy of the book elsewhere with --out-dir DIR (e.g. python -m "
                "helpers build --out-dir /tmp/book).") from None


def remove_stale_temp_notebooks(book_dir: Path) -> list[Path]:
    """Remove `_build/.papermill/<name>.<pid>.ipynb` files whose build process is gone."""
    from helpers.store.artifacts import _alive
    work_dir = Path(book_dir) / "_build" / ".papermill"
    removed = []
    for path in sorted(work_dir.glob("*.ipynb")) if work_dir.is_dir() else []:
        match = _TEMP_NOTEBOOK.match(path.name)
        if match and not _alive(int(match["pid"])):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def _config_overrides(parameters: dict) -> dict:
    return {k: v for k, v in parameters.items() if k in _CONFIG_KEYS}


def _record(cfg: Config, entries: dict) -> None:
    """Merge `entries` into the store's execution.json; PipelineError if the store refuses."""
    from helpers.store.artifacts import Store, StoreError
    try:
        store = Store(cfg)
        data = store.read_json(EXECUTION_FILE, {})
        data.update(entries)
        store.write_json(EXECUTION_FILE, data)
    except (StoreError, OSError, ValueError) as e:
        raise PipelineError(f"Could not record execution times in the store: {_one_line(e)}") from None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --- one chapter --------------------------------------------------------------------------
def execute_chapter(source: Path, book_dir: Path, parameters: dict, *,
                    kernel_name: str = KERNEL_NAME, progress_bar: bool = True,
                    nb=None) -> dict:
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
    param_index = next(i for i, c in enumerate(nb.cells)
                       if "parameters" in c.get("metadata", {}).get("tags", []))
    start = time.perf_counter()
    try:
        with _environ(**bookio.kernel_environment()):
            papermill.execute_notebook(nb, str(tmp), parameters=parameters, kernel_name=kernel_name,
                                       language="python", progress_bar=progress_bar,
                                       cwd=str(chapters_dir.resolve()),
                                       extra_arguments=KERNEL_ARGUMENTS)
    except PapermillExecutionError as e:
        seconds = round(time.perf_counter() - start, 2)
        failed_dir.mkdir(parents=True, exist_ok=True)
        failed = failed_dir / f"{name}.ipynb"
        kept = ""
        if tmp.exists():
            os.replace(tmp, failed)
            kept = f"the executed notebook with the traceback is {_rel(failed)}; "
        # papermill counts the install cell (first) and the injected-parameters cell
        # (after the parameters cell); report the cell as numbered (from 1) in the source.
        if e.cell_index == 0:
            where = "the install cell"
        elif e.cell_index == param_index + 1:
            where = "the injected-parameters cell"
        else:
            src_index = e.cell_index - 1 - (e.cell_index > param_index + 1)
            where = f"cell {src_index + 1} ({_first_line(e.source)!r})"
        error = f"{e.ename}: {_one_line(e.evalue)}" if e.evalue else e.ename
        err = PipelineError(
            f"Chapter {name} failed in {where} of {_rel(source)}: {error}; {kept}"
            f"{_rel(target)} was left unchanged.")
        err.record = {"seconds": seconds, "status": "failed", "finished": _now()}
        raise err from None
    except Exception as e:  # noqa: BLE001 - dead kernel, timeout, kernel start failure...
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        err = PipelineError(f"Chapter {name} ({_rel(source)}) could not be executed: "
                            f"{type(e).__name__}: {_one_line(e) or 'no message'}; "
                            f"{_rel(target)} was left unchanged.")
        err.record = {"seconds": round(time.perf_counter() - start, 2), "status": "failed",
                      "finished": _now()}
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
    return {"seconds": round(float(seconds), 2), "status": status, "finished": _now()}


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
        raise PipelineError(f"{_rel(config)} is missing; the book skeleton needs it (its "
                            "repository.url goes into each chapter's install cell).") from None
    except ValueError as e:
        raise PipelineError(str(e)) from None
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if bookio.INSTALL_TAG not in c.get("metadata", {}).get("tags", [])]
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
    missing = [n for n in toc_files(book_dir)
               if not any((book_dir / f"{n}{ext}").exists() or (book_dir / n).exists()
                          for ext in (".md", ".ipynb", ".rst"))]
    if missing:
        raise PipelineError(f"The book in {book_dir} lacks {', '.join(missing)} listed in _toc.yml; "
                            "execute those chapters first (run without --only, or build with --no-build).")


def build_book(book_dir: Path, *, echo: bool = True) -> Path:
    """`jupyter-book build book_dir --all -W -n --keep-going`; return the index.html path.

    The build log is kept in `book_dir/_build/jupyter-book.log`; on failure the
    PipelineError lists the warnings (each a page and a reason).
    """
    book_dir = Path(book_dir).resolve()
    check_toc(book_dir)
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; "
           "sys.argv[0] = 'jupyter-book'; main()",
           "build", str(book_dir), "--all", "-W", "-n", "--keep-going"]
    log_path = book_dir / "_build" / "jupyter-book.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1, cwd=book_dir) as proc:
        for line in proc.stdout:
            lines.append(line)
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
        rc = proc.wait()
    log_path.write_text("".join(lines))
    index = book_dir / "_build" / "html" / "index.html"
    if rc != 0 or not index.exists():
        problems = [_one_line(line, 400) for line in lines
                    if re.search(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Exception|Error:", line)]
        shown = problems[:20]
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        detail = (": " + " | ".join(shown) + more) if shown else ""
        raise PipelineError(f"jupyter-book build of {_rel(book_dir)} failed (exit {rc}; warnings are "
                            f"errors here){detail}; full log in {_rel(log_path)}.")
    return index


# --- the whole pipeline -------------------------------------------------------------------
def run(profile: str = "paper", *, parameters: dict | None = None, only: str | None = None,
        fresh: bool = False, build: bool = True, out_dir: str | os.PathLike | None = None,
        stages: bool = True,
        notebooks_dir: str | os.PathLike | None = None,
        book_source: str | os.PathLike | None = None, kernel_name: str = KERNEL_NAME,
        progress_bar: bool = True, echo=print) -> BuildResult:
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
            echo(f"--out-dir: started from a copy of the store {_rel(seeded)} (nothing is re-trained "
                 f"that it holds)")
    else:
        book_dir = book_source
        artifacts_env = None
        from helpers.store.artifacts import artifacts_root
        check_writable([book_dir / "_build", book_dir / "chapters", artifacts_root()])
    removed = remove_stale_temp_notebooks(book_dir)
    if removed:
        echo(f"removed {len(removed)} temp notebook(s) left by a killed build: "
             f"{', '.join(p.name for p in removed)}")

    from helpers.store.artifacts import Store, StoreError
    with _environ(CDE_ARTIFACTS_DIR=artifacts_env):
        try:
            cfg = load_config(profile, **_config_overrides(params))
        except ValueError as e:
            raise PipelineError(_one_line(e, 600)) from None
        if fresh:
            try:
                store = Store(cfg, fresh=True)
            except (StoreError, OSError) as e:
                raise PipelineError(_one_line(e, 600)) from None
            echo(f"--fresh: wiped the store {_rel(store.root)}")
        if stages:
            prepare_results(cfg, echo)
        results = {}
        for i, (path, nb) in enumerate(notebooks, 1):
            echo(f"[{i}/{len(notebooks)}] {path.stem} (profile {profile})")
            try:
                results[path.stem] = execute_chapter(path, book_dir, params, kernel_name=kernel_name,
                                                     progress_bar=progress_bar, nb=nb)
            except PipelineError as e:
                if getattr(e, "record", None):
                    with contextlib.suppress(PipelineError):
                        _record(cfg, {path.stem: e.record})
                raise
            _record(cfg, {path.stem: results[path.stem]})
            echo(f"      {results[path.stem]['status']} in {results[path.stem]['seconds']:.1f} s "
                 f"-> {_rel(book_dir / 'chapters' / (path.stem + '.ipynb'))}")
        index = None
        if build:
            echo(f"building the book in {_rel(book_dir)} (jupyter-book, warnings are errors)")
            start = time.perf_counter()
            try:
                index = build_book(book_dir, echo=progress_bar)
            except PipelineError:
                with contextlib.suppress(PipelineError):
                    _record(cfg, {"book_build": {"seconds": round(time.perf_counter() - start, 2),
                                                 "status": "failed", "finished": _now()}})
                raise
            _record(cfg, {"book_build": {"seconds": round(time.perf_counter() - start, 2),
                                         "status": "completed", "finished": _now()}})
            echo(f"book: {index}")
    return BuildResult(book_dir=book_dir, chapters=results, index_html=index)


def prepare_results(cfg: Config, echo=print) -> None:
    """Build what the chapters read, here in the pipeline (chapters never compute): the
    models (`train`), encodings.json and results.json (`evaluate`), summary.json
    (`aggregate`, every seed of the store); each reuses what the store holds."""
    from helpers.stages import evaluation
    from helpers.stages.aggregate import aggregate
    from helpers.stages.experiment import Experiment
    from helpers.store.artifacts import StoreError
    try:
        exp = Experiment(cfg)
        exp.build_all()
        exp.encodings()
        results = evaluation.evaluate(exp)
        aggregate(cfg, results, echo=lambda *_: None)
    except (StoreError, ValueError, OSError) as e:
        raise PipelineError(_one_line(e, 600)) from None
    echo(f"store {_rel(exp.store.root)}: models, results.json and summary.json ready")


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
