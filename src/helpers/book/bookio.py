"""From an executed notebook to a chapter a reader can open and git can keep unchanged.

`helpers.build.chapters` calls these on every chapter (pure functions on nbformat notebooks):

- `apply_cell_convention(nb, where)` before execution: code cells are folded, not removed.
  Only the `parameters` cell and the setup cell right after it may be tagged
  `remove-cell`; every other code cell is tagged `hide-input` (added when a cell has no
  display tag) so the reader can open it. `remove-input` or `hide-cell`, or `remove-cell`
  anywhere else, is an error naming the cells.
- `install_cell(url, branch)`: the first cell of every chapter (hidden in the book). When
  `helpers` is not importable (Colab, a download), it clones the repository and installs
  its pinned requirements; the data loaders then download the datasets on first use.
- `finalize(nb, name, replacements)` after execution: stable cell ids, no execution
  timestamps or durations, no TensorFlow/absl/CUDA log lines, no machine paths, and
  pandas Styler ids that do not change from run to run. Rebuilding with unchanged
  inputs then gives byte-identical chapters.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable, Mapping

from helpers.core import fmt

REMOVE_CELL = "remove-cell"
HIDE_INPUT = "hide-input"
PARAMETERS = "parameters"
INJECTED = "injected-parameters"
INSTALL_TAG = "install-cell"
# Tags that hide a whole code cell or its input from the reader: not allowed (see module doc).
_HIDING_TAGS = ("remove-input", "hide-cell")

# Kept from papermill's notebook metadata: what ran, with which parameters. Its times,
# duration and environment are per run; they go to the store's execution.json instead.
PAPERMILL_KEEP = ("default_parameters", "parameters", "input_path", "output_path", "version")

# Log and progress lines of the libraries, never meant for a reader. TensorFlow's C++ core
# (absl/glog format) writes to stderr, e.g.
# "I0000 00:00:1795846126.786631   24848 port.cc:153] oneDNN custom operations are on..."
# "E0000 00:00:1795846128.682859   24848 cuda_platform.cc:52] failed call to cuInit: ...",
# the older "2024-01-01 10:00:00.123456: I tensorflow/core/...cc:123] ..." form, and the
# absl preamble. TF_CPP_MIN_LOG_LEVEL=3 in the kernel silences most of them at the source,
# but not those logged while TensorFlow loads, before absl logging is initialised (TF 2.21:
# "cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used."
# with its preamble): these patterns remove what is left.
LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d{2}:\d{2}:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"
    r"|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+: [IWEF] [\w./-]+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    # the second line of cpu_feature_guard's message
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
    # TensorFlow's Python loggers below ERROR ("INFO:tensorflow:Assets written to: /tmp/tmp.../assets",
    # "WARNING:tensorflow:5 out of the last 5 calls to ... triggered tf.function retracing")
    r"|(?:INFO|WARNING):(?:tensorflow|absl):"
    # what the TFLite converter and interpreter print from C++
    r"|INFO: Created TensorFlow Lite \w+ delegate for \w+\."
    r"|fully_quantize: \d+, inference_type: \d+, input_inference_type: \w+, output_inference_type: \w+"
    # a tqdm progress bar ("Decoding x.tar.gz:  42%|####  | 7920/18726 [00:04<00:03, 2786.22png/s]")
    r"|.*\d+%\|.*\| *[\d.]+[kMGT]?/[\d.?]+[kMGT]? \[)"
)
# Library warnings that say nothing to a reader of the book (with the source line Python
# prints under a warning): tqdm's "use ipywidgets" hint.
NOISE_WARNINGS = ("TqdmWarning: IProgress not found",)
# pandas Styler's default table id: "T_" + 5 random hex digits (uuid4().hex[:5]).
_STYLER_ID = re.compile(r'<table id="T_([0-9a-f]{5})"')
_SVG_DATE = re.compile(r"\s*<dc:date>[^<]*</dc:date>")
# an object's default repr, "<pandas.io.formats.style.Styler at 0x7fdf1ea1a050>": the
# address changes with every run and tells the reader nothing
_MEMORY_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+(?=>)")
_BINARY_MIME = ("image/png", "image/jpeg", "image/gif")


class CellConventionError(ValueError):
    """A chapter breaks the code-cell convention; the message says which cells and the fix."""


def _tags(cell) -> list:
    return cell.setdefault("metadata", {}).setdefault("tags", [])


def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            line = " ".join(line.split())
            return line if len(line) <= 60 else line[:57] + "..."
    return "(empty cell)"


def _cells_phrase(cells: list[tuple[int, str]]) -> str:
    items = [f"{i} ({text!r})" for i, text in cells]
    return ("cell " if len(items) == 1 else "cells ") + fmt.and_list(items)


# --- before execution: the code-cell convention -------------------------------------------
def apply_cell_convention(nb, where: str = "the notebook") -> list[int]:
    """Tag `nb`'s code cells by the book's convention (in place); return the indices of the
    cells that got `hide-input`. Raises CellConventionError naming the offending cells
    (numbered from 1 among all cells, as in the source file) and the fix."""
    code = [(i, c) for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"]
    params = next((i for i, c in code if PARAMETERS in _tags(c)), None)
    # the setup cell: the first code cell after the parameters cell
    setup = next((i for i, c in code if params is not None and i > params), None)
    removed, hidden, added = [], [], []
    for i, cell in code:
        tags = _tags(cell)
        if i == params or INJECTED in tags or INSTALL_TAG in tags:
            if REMOVE_CELL not in tags:
                tags.append(REMOVE_CELL)
            continue
        if i == setup and REMOVE_CELL in tags:
            continue
        if REMOVE_CELL in tags:
            removed.append((i + 1, _first_line(cell.get("source", ""))))
        elif any(t in tags for t in _HIDING_TAGS):
            hidden.append((i + 1, _first_line(cell.get("source", ""))))
        elif HIDE_INPUT not in tags:
            tags.append(HIDE_INPUT)
            added.append(i)
    problems = []
    if removed:
        problems.append(f"{_cells_phrase(removed)} tagged remove-cell")
    if hidden:
        problems.append(f"{_cells_phrase(hidden)} tagged {' or '.join(_HIDING_TAGS)}")
    if problems:
        raise CellConventionError(
            f"{where} hides code from the reader: {'; '.join(problems)}; only the parameters "
            "cell and the setup cell right after it may be tagged remove-cell, every other "
            "code cell is folded with hide-input (or left untagged, which adds hide-input)."
        )
    return added


# --- the install cell ---------------------------------------------------------------------
def repository_from_config(book_config: Path) -> tuple[str, str]:
    """(url, branch) from `repository:` in the book's `_config.yml` (the one place that names
    the repository); ValueError naming the file when the url is missing."""
    import yaml

    data = yaml.safe_load(Path(book_config).read_text(encoding="utf-8")) or {}
    repo = data.get("repository") or {}
    url = str(repo.get("url") or "").strip().rstrip("/")
    if not url:
        raise ValueError(
            f"{book_config} has no repository.url; set it to the repository's "
            "https address (the install cell and the launch buttons use it)."
        )
    return url, str(repo.get("branch") or "main")


INSTALL_SOURCE = """\
# Opened outside a clone of the repository (Colab, a downloaded notebook)? This cell
# fetches the project and installs what a chapter needs (requirements-runtime.txt: no
# book builder, test suite or Ray), once. The datasets are then
# downloaded on first use (or read from $CDE_DATA_DIR when it is set).
import importlib.util
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up messages
if importlib.util.find_spec("helpers") is None:
    repository, branch = {url!r}, {branch!r}
    clone = os.path.abspath(repository.rsplit("/", 1)[-1].removesuffix(".git"))
    if not os.path.isdir(clone):
        subprocess.run(["git", "clone", "--depth", "1", "--branch", branch, repository, clone],
                       check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", "requirements-runtime.txt"],
                   cwd=clone, check=True)
    sys.path.insert(0, os.path.join(clone, "src"))  # the editable install counts after a restart
if "google.colab" in sys.modules:  # Colab shows MyST roles as typed (Binder renders them)
    print("In the text, {{glue:text}}`name` marks a computed value: the cell that computes it prints 'name: value'.")
"""


def install_cell(url: str, branch: str = "main"):
    """The first code cell of every chapter, tagged remove-cell (see INSTALL_SOURCE)."""
    import nbformat

    cell = nbformat.v4.new_code_cell(INSTALL_SOURCE.format(url=url, branch=branch))
    cell.metadata["tags"] = [INSTALL_TAG, REMOVE_CELL]
    return cell


# --- after execution: reproducible, clean chapters ----------------------------------------
def stable_cell_ids(nb, name: str) -> None:
    """Cell ids from the chapter name and the cell's position: '05_ood-007' (nbformat allows
    1-64 characters of [A-Za-z0-9_-]); the same notebook always gets the same ids."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", name)[:56] or "cell"
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stem}-{i:03d}"


def strip_execution_times(nb) -> None:
    """Drop per-run times: each cell's `execution` and `papermill` metadata, and papermill's
    notebook metadata except PAPERMILL_KEEP (parameters, paths, papermill version)."""
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        meta.pop("execution", None)
        meta.pop("papermill", None)
    papermill = nb.metadata.get("papermill")
    if isinstance(papermill, dict):
        for key in list(papermill):
            if key not in PAPERMILL_KEEP:
                del papermill[key]


def clean_stream_text(text: str) -> str:
    """Remove LOG_LINE lines (TensorFlow/absl/TFLite logs, progress bars) and NOISE_WARNINGS
    (with the indented source line Python prints under a warning) from a stream's text."""
    out, skip_source = [], False
    for line in text.splitlines(keepends=True):
        if skip_source and line.startswith("  "):
            skip_source = False
            continue
        skip_source = False
        if LOG_LINE.match(line) or line == "\r":
            continue
        if any(w in line for w in NOISE_WARNINGS):
            skip_source = True
            continue
        out.append(line)
    return "".join(out)


def scrub_paths(text: str, replacements: Iterable[tuple[str, str]]) -> str:
    """Replace machine paths (longest first) by their stand-ins, e.g. the site-packages
    folder by '<site-packages>'."""
    for path, stand_in in sorted(replacements, key=lambda r: -len(r[0])):
        if path:
            # whole path components only: /root must not turn /rootfs into ~fs
            text = re.sub(re.escape(path) + r"(?=[/\\\s'\":,;)\]]|$)", lambda _, s=stand_in: s, text)
    return text


def machine_paths(book_dir: Path | None = None, repo_root: Path | None = None) -> list[tuple[str, str]]:
    """The paths of this machine that outputs may show, with what replaces them."""
    import site
    import sys
    import sysconfig

    out = []
    for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"], site.getusersitepackages()}:
        out.append((str(Path(p)), "<site-packages>"))
    out.append((str(Path(sys.prefix)), "<python>"))
    if sys.base_prefix != sys.prefix:
        out.append((str(Path(sys.base_prefix)), "<python>"))
    if book_dir is not None:
        out.append((str(Path(book_dir).resolve()), "<book>"))
    if repo_root is not None:
        out.append((str(Path(repo_root).resolve()), "<repo>"))
    out.append((str(Path.home()), "~"))
    return [(p, s) for p, s in out if p not in ("", "/", ".")]


def _stable_styler_ids(html: str, seed: str) -> str:
    for k, uuid in enumerate(dict.fromkeys(_STYLER_ID.findall(html))):
        stable = hashlib.sha1(f"{seed}-{k}".encode()).hexdigest()[:8]
        html = re.sub(rf"\bT_{uuid}(?=[_\"\s{{.,:>])", f"T_{stable}", html)
    return html


def _join(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def clean_outputs(nb, replacements: Iterable[tuple[str, str]] = ()) -> None:
    """In every output: drop TF/absl log lines and noise warnings from streams (and streams
    left empty), replace machine paths, drop memory addresses from reprs, give pandas
    Styler tables stable ids, and drop the date from SVG metadata."""
    replacements = list(replacements)
    for ci, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for oi, output in enumerate(cell.get("outputs", [])):
            kind = output.get("output_type")
            if kind == "stream":
                text = _MEMORY_ADDRESS.sub("", scrub_paths(clean_stream_text(_join(output.get("text", ""))), replacements))
                if not text.strip():
                    continue
                output["text"] = text
            elif kind == "error":
                output["traceback"] = [scrub_paths(t, replacements) for t in output.get("traceback", [])]
                output["evalue"] = scrub_paths(output.get("evalue", ""), replacements)
            elif "data" in output:
                data = output["data"]
                for mime, value in list(data.items()):
                    if any(mime.endswith(b) for b in _BINARY_MIME) or not isinstance(value, (str, list)):
                        continue
                    text = _MEMORY_ADDRESS.sub("", scrub_paths(_join(value), replacements))
                    if "html" in mime:
                        text = _stable_styler_ids(text, f"{cell.get('id', ci)}-{oi}")
                    if mime.endswith("svg+xml"):
                        text = _SVG_DATE.sub("", text)
                    data[mime] = text
            kept.append(output)
        cell["outputs"] = kept


def finalize(nb, name: str, replacements: Iterable[tuple[str, str]] = ()) -> None:
    """All after-execution steps, in place: stable ids, no times, clean outputs."""
    stable_cell_ids(nb, name)
    strip_execution_times(nb)
    clean_outputs(nb, replacements)


def portable_path(path: Path, *roots: tuple[Path, str]) -> str:
    """`path` relative to the first root that holds it, with that root's prefix
    ('notebooks/01_x.py', 'chapters/01_x.ipynb'), else its bare name (never a machine path)."""
    path = Path(path).resolve()
    for root, prefix in roots:
        try:
            rel = path.relative_to(Path(root).resolve())
        except ValueError:
            continue
        return str(Path(prefix) / rel) if prefix else str(rel)
    return path.name


def kernel_environment() -> Mapping[str, str]:
    """Environment for the chapter kernels: TensorFlow's C++ logging off (its start-up lines
    are printed before Python can configure logging), no GPU (CPU results are the same
    on every machine; a failed cuInit is also a log line), and no progress bars (their
    rates differ from run to run; nobody watches a papermill kernel). BOOK_BUILD tells the
    chapters that the book shows their glued outputs (helpers.book.chapter displays them too
    when a reader runs a chapter in Jupyter, Colab or Binder)."""
    return {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "TQDM_DISABLE": "1", BOOK_BUILD: "1"}


BOOK_BUILD = "CDE_BOOK_BUILD"
"""Set to "1" in the kernels of a book build."""
