"""The book as one PDF: Jupyter Book's single-page HTML (the `singlehtml` builder, from the
executed chapters already in the book; nothing is executed) printed by headless Chromium
with the book's print stylesheet (`@media print` in book/_static/book.css: no navigation or
folded code, tables shrunk to the page and wrapped in their cells, never cut).

    pdf = build_pdf(Path("book"))        # python -m helpers pdf -> book/_build/pdf/book.pdf

Why not Jupyter Book's own PDF builders: `pdfhtml` fetches a Chromium of its own through
pyppeteer on first use (a download, and an unpinned browser), and `pdflatex` needs a TeX
installation and drops the glued HTML tables, which are most of the book's numbers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from helpers.build.chapters import PipelineError
from helpers.build.pipeline import JUPYTER_BOOK, check_toc, toc_files
from helpers.core.fileio import atomic_write_bytes

PRINT_TIMEOUT_S = 300


def chromium() -> str | None:
    """$CDE_CHROMIUM, else Debian's chromium (or chromium-browser, google-chrome) on PATH."""
    if os.environ.get("CDE_CHROMIUM"):
        return os.environ["CDE_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def build_singlehtml(book_dir: Path) -> Path:
    """The whole book as one HTML page at the builder's root (so its `_static/` and
    `_images/` links resolve); returns its path."""
    book_dir = Path(book_dir).resolve()
    check_toc(book_dir)
    cmd = [*JUPYTER_BOOK, "build", str(book_dir), "--builder", "singlehtml"]
    done = subprocess.run(cmd, cwd=book_dir, capture_output=True, text=True)
    out = book_dir / "_build" / "singlehtml"
    # the root document is written under its own name (chapters/00_intro.html) with links
    # relative to the builder's root; the redirect index.html points at it
    page = out / f"{toc_files(book_dir)[0]}.html"
    if done.returncode != 0 or not page.exists():
        tail = " | ".join(line for line in done.stdout.splitlines()[-5:] if line.strip())
        raise PipelineError(
            f"jupyter-book's single-page build of {book_dir} failed (exit {done.returncode}): {tail}; "
            f"build the HTML book first (`python -m helpers build`), then run `python -m helpers pdf` again."
        )
    whole = out / "book.html"
    whole.write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    return whole


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF (its /Type /Page objects)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def print_pdf(html: Path, pdf: Path, browser: str | None = None) -> Path:
    """Print `html` to `pdf` with headless Chromium (written whole or not at all)."""
    browser = browser or chromium()
    if not browser:
        raise PipelineError(
            "No Chromium to print the book with: install it (Debian: `apt-get install chromium`) "
            "or point CDE_CHROMIUM at a Chromium or Chrome binary, then run `python -m helpers pdf` again."
        )
    pdf.parent.mkdir(parents=True, exist_ok=True)
    tmp = pdf.with_name(f".{pdf.name}.printing")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
        "--virtual-time-budget=10000",
        f"--print-to-pdf={tmp}",
        Path(html).resolve().as_uri(),
    ]
    try:
        subprocess.run(cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S)
        data = tmp.read_bytes() if tmp.exists() else b""
    except subprocess.TimeoutExpired:
        data = b""
    finally:
        tmp.unlink(missing_ok=True)
    if not data.startswith(b"%PDF") or page_count(data) == 0:
        raise PipelineError(
            f"Chromium ({browser}) printed no PDF of {html}; print it by hand to see why: {' '.join(cmd[:-2])} {cmd[-1]}"
        )
    atomic_write_bytes(pdf, data)
    return pdf


def build_pdf(book_dir: Path, browser: str | None = None) -> Path:
    """book_dir/_build/pdf/book.pdf from the book's executed chapters."""
    book_dir = Path(book_dir).resolve()
    return print_pdf(build_singlehtml(book_dir), book_dir / "_build" / "pdf" / "book.pdf", browser)
