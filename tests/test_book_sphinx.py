"""helpers.build.book_sphinx: author-year labels, and numbered glued tables in a tiny real book."""

from __future__ import annotations

import subprocess
import textwrap

from bs4 import BeautifulSoup
from pybtex.database import parse_string

from helpers.build import book_sphinx
from helpers.build.pipeline import BOOK_DIR, run

BIB = r"""
@article{one, author = {LeCun, Yann}, title = {A}, year = {1998}}
@article{two, author = {Zhu, Michael and Gupta, Suyog}, title = {B}, year = {2017}}
@article{three, author = {Guo, Chuan and Pleiss, Geoff and Sun, Yu}, title = {C}, year = {2017}}
@misc{corp, author = {{TensorFlow Authors}}, title = {D}, year = {2019}}
@misc{anon, title = {{notMNIST} dataset}}
@article{von, author = {van der Maaten, Laurens}, title = {E}, year = {2008}}
"""


def test_author_year_labels_follow_the_citation_rules():
    entries = parse_string(BIB, "bibtex").entries
    assert {k: book_sphinx.author_year_label(e) for k, e in entries.items()} == {
        "one": "LeCun, 1998",
        "two": "Zhu and Gupta, 2017",
        "three": "Guo et al., 2017",
        "corp": "TensorFlow Authors, 2019",
        "anon": "notMNIST dataset, n.d.",
        "von": "van der Maaten, 2008",
    }


def test_same_authors_and_year_get_letters():
    import pybtex.plugin

    book_sphinx.register_pybtex_styles()
    entries = parse_string(
        r"""
        @article{a, author = {Guo, Chuan and Pleiss, Geoff and Sun, Yu}, title = {A}, year = {2017}}
        @article{b, author = {Guo, Chuan and Other, Anne and Third, Bo}, title = {B}, year = {2017}}
        """,
        "bibtex",
    ).entries
    style = pybtex.plugin.find_plugin("pybtex.style.labels", book_sphinx.LABEL_STYLE)()
    assert list(style.format_labels(entries.values())) == ["Guo et al., 2017a", "Guo et al., 2017b"]


def test_glued_tables_and_figures_are_numbered_and_citations_are_author_year(tmp_path):
    """The patterns the chapters use, built with the book's own _config.yml (-W)."""
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (skeleton / "_config.yml").write_text((BOOK_DIR / "_config.yml").read_text())
    (skeleton / "references.bib").write_text((BOOK_DIR / "references.bib").read_text())
    (skeleton / "references.md").write_text((BOOK_DIR / "references.md").read_text())
    (skeleton / "_toc.yml").write_text("format: jb-book\nroot: chapters/01_demo\nchapters:\n  - file: references\n")
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    (nbs / "01_demo.py").write_text(
        textwrap.dedent("""\
        # %% [markdown]
        # # Demo
        #
        # {numref}`demo-fig`, {numref}`demo-md` and {numref}`Table %s <demo-styler>`;
        # {cite:t}`paper`, {cite:p}`lakshminarayanan2017`.

        # %% tags=["parameters", "remove-cell"]
        profile = "paper"

        # %% tags=["remove-cell"]
        import matplotlib.pyplot as plt
        import pandas as pd
        from IPython.display import Markdown
        from myst_nb import glue

        # %%
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1])
        glue("demo_fig", fig, display=False)
        plt.close(fig)
        frame = pd.DataFrame({"variant": ["a", "b"], "accuracy": [0.5, 0.25]})
        glue("demo_md", Markdown(frame.to_markdown(index=False)), display=False)
        glue("demo_styler", frame.style.format(precision=2), display=False)

        # %% [markdown]
        # ```{glue:figure} demo_fig
        # :name: demo-fig
        #
        # A glued figure.
        # ```
        #
        # ````{table} A glued Markdown table.
        # :name: demo-md
        #
        # ```{glue:md} demo_md
        # :format: myst
        # ```
        # ````
        #
        # ```{glued-table} demo_styler
        # :name: demo-styler
        #
        # A glued pandas Styler.
        # ```
        """)
    )
    result = run(
        "smoke", stages=False, notebooks_dir=nbs, out_dir=tmp_path / "out", book_source=skeleton, progress_bar=False, echo=None
    )
    html = tmp_path / "out" / "_build" / "html"
    page = BeautifulSoup((html / "chapters" / "01_demo.html").read_text(), "html.parser")
    assert result.index_html.exists()
    refs = [a.get_text() for a in page.select("a.reference.internal span.std-numref")]
    assert refs == ["Figure 1", "Table 1", "Table 2"]
    numbers = {e.find_parent(id=True)["id"]: e.get_text().strip() for e in page.select(".caption-number")}
    assert numbers == {"demo-fig": "Figure 1", "demo-md": "Table 1", "demo-styler": "Table 2"}
    assert page.select_one("#demo-styler table") is not None  # the Styler's HTML table
    assert page.select_one("#demo-fig img")["src"].endswith(".svg")
    text = " ".join(page.select_one("article").get_text(" ").split())
    assert "Dorjsembe et al. ( 2021 )" in text and "( Lakshminarayanan et al. , 2017 )" in text
    refs_page = BeautifulSoup((html / "references.html").read_text(), "html.parser")
    labels = [e.get_text().strip("[] \n") for e in refs_page.select("div.citation span.label")]
    assert "Dorjsembe et al., 2021" in labels and "Lakshminarayanan et al., 2017" in labels
    # plotly.js once per page, from the pinned package, in the built site
    assert [s["src"].split("?")[0] for s in page.select("script[src$='plotly.min.js'], script[src*='plotly.min.js?']")] == [
        "../_static/plotly.min.js"
    ]
    assert (html / "_static" / "plotly.min.js").read_bytes() == book_sphinx.plotly_js_source().read_bytes()
    footer = " ".join(" ".join(f.get_text(" ") for f in page.select("footer")).split())
    assert "Built " in footer and "python -m helpers build" in footer  # the stamp beside _config.yml's footer


def test_the_footer_stamp_names_the_date_and_the_commit(tmp_path):
    env = {"SOURCE_DATE_EPOCH": "1796169600"}  # 2026-12-02 00:00 UTC
    assert book_sphinx.build_stamp(tmp_path, env) == "Built 2026-12-02."  # not a git checkout
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "a.txt").write_text("a")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "a"], check=True)
    sha = subprocess.run([*git, "rev-parse", "--short=7", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert book_sphinx.build_stamp(tmp_path, env) == f"Built 2026-12-02 from commit <code>{sha}</code>."
    (tmp_path / "a.txt").write_text("b")
    assert book_sphinx.build_stamp(tmp_path, env).endswith("(with uncommitted changes).")
