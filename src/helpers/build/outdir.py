"""The folders a build writes: an out-dir build's copy of the book and its store, the
temp notebooks a killed build left, and the check that the book folder can be written.

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
import re
import shutil
from pathlib import Path
from typing import Iterable

from helpers.build.chapters import PipelineError

# Never copied from the book skeleton into an out-dir.
_SKELETON_SKIP = {"_build", "chapters", "__pycache__", ".ipynb_checkpoints"}
OUT_DIR_MARKER = ".cde-out-dir"
_TEMP_NOTEBOOK = re.compile(r"^(?P<name>.+)\.(?P<pid>\d+)\.ipynb$")


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
            shutil.copytree(entry, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*", "__pycache__"))
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
        raise PipelineError(
            f"--out-dir {out_dir} is inside the book source {book_source}; choose a folder outside it (e.g. --out-dir /tmp/book)."
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise PipelineError(f"--out-dir {out_dir} is a file, not a folder; choose a new or empty folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / OUT_DIR_MARKER).is_file():
        raise PipelineError(
            f"--out-dir {out_dir} is not empty and was not made by a previous --out-dir build "
            f"(it has no {OUT_DIR_MARKER} file), so nothing was written to it; choose a new or "
            "empty folder."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / OUT_DIR_MARKER
    if not marker.exists():
        marker.write_text("Made by `python -m helpers build --out-dir`; a later out-dir build may overwrite this folder.\n")


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
                "helpers build --out-dir /tmp/book)."
            ) from None


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
