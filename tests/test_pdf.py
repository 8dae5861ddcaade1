"""helpers.build.pdf: the book as one PDF, printed by headless Chromium."""

from __future__ import annotations

import shutil

import pytest

from helpers.build import pdf
from helpers.build.chapters import PipelineError
from helpers.build.pipeline import BOOK_DIR

# a two-page PDF as Chromium writes one: a /Pages tree and two /Page objects
TWO_PAGES = (
    b"%PDF-1.4\n1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R] /Count 2>>\n"
    b"2 0 obj <</Type /Page>>\n3 0 obj <</Type/Page /Parent 1 0 R>>\n"
)


def test_page_count_counts_pages_not_the_page_tree():
    assert pdf.page_count(TWO_PAGES) == 2
    assert pdf.page_count(b"%PDF-1.4\n<</Type /Pages /Count 0>>") == 0


def test_no_chromium_is_one_sentence_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf, "chromium", lambda: None)
    with pytest.raises(PipelineError, match=r"No Chromium to print the book with: install it .*CDE_CHROMIUM"):
        pdf.print_pdf(tmp_path / "book.html", tmp_path / "book.pdf")


def test_a_browser_that_prints_nothing_leaves_no_pdf(tmp_path):
    (tmp_path / "book.html").write_text("<p>x</p>")
    with pytest.raises(PipelineError, match=r"Chromium \(/bin/false\) printed no PDF of .*book.html"):
        pdf.print_pdf(tmp_path / "book.html", tmp_path / "out" / "book.pdf", browser="/bin/false")
    assert list((tmp_path / "out").iterdir()) == []  # neither the PDF nor a half-written one


def test_a_book_that_was_never_built_names_the_command(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapters/00_intro\n")
    with pytest.raises(PipelineError, match=r"lacks chapters/00_intro"):
        pdf.build_singlehtml(tmp_path)


@pytest.mark.skipif(not pdf.chromium(), reason="chromium is needed to print the book (Debian: apt-get install chromium)")
def test_the_committed_book_prints_to_a_pdf_with_every_chapter(tmp_path):
    book = tmp_path / "book"
    shutil.copytree(BOOK_DIR, book, ignore=shutil.ignore_patterns("_build"))
    out = pdf.build_pdf(book)
    data = out.read_bytes()
    assert out == book / "_build" / "pdf" / "book.pdf" and data.startswith(b"%PDF")
    assert pdf.page_count(data) >= 20  # nine chapters with their tables and figures, not one screen
    page = (book / "_build" / "singlehtml" / "book.html").read_text()
    for title in ("Data and model", "Pruning and quantization", "Appendix: provenance and speed"):
        assert title in page
    assert not list(out.parent.glob(".*printing"))  # the half-written file is gone
