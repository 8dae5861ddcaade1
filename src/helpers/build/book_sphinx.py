"""Sphinx extension of the book (listed in book/_config.yml `sphinx.extra_extensions`).

1. Author-year citations and bibliography labels that agree. `bibtex_reference_style:
   author_year_round` is sphinxcontrib-bibtex's `author_year` with round brackets:
   "Lakshminarayanan et al. (2017)", "(Lakshminarayanan et al., 2017)". pybtex's label
   styles are only `alpha` ([LPB17]) and `number` ([1]); the label style `author_year`
   writes "Lakshminarayanan et al., 2017" by the same rules (one name, "A and B", or
   "A et al."), and the formatting style `author_year` (`bibtex_default_style`) is
   pybtex's `unsrt` with that label and entries sorted by author, year, title.

2. `{glued-table}`: a glued output (a pandas Styler or DataFrame as HTML) with a caption,
   numbered as a *table* by `numfig` and referable with `{numref}`. MyST's `{table}`
   directive only accepts a Markdown table as its body, and `{glue:figure}` would number
   a table as a figure. Same options and body as `{glue:figure}`:

       ```{glued-table} table2
       :name: table2

       The caption, with {glue:text}`n_test` glued text if needed.
       ```

3. One search field (the sidebar's), and the build date and commit in every page's footer ("Built 2026-12-02 from commit
   0647dab"), appended to `html.extra_footer`; SOURCE_DATE_EPOCH, where set, is the date
   (the reproducible-builds convention), and a checkout with uncommitted changes says so.

4. plotly.js for the interactive figures (helpers.book.interactive), loaded once per page
   from `_static/plotly.min.js`: the pinned plotly package's own copy, written into the
   built site (not into git), so the book needs no CDN and works offline.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from docutils import nodes

LABEL_STYLE = "author_year"
FORMAT_STYLE = "author_year"
REFERENCE_STYLE = "author_year_round"


# --- author-year bibliography labels ------------------------------------------------------
def _label_names(persons) -> str:
    """'A', 'A and B' or 'A et al.': the names part of an author-year label."""
    from pybtex.plugin import find_plugin

    last = find_plugin("pybtex.style.names", "last")()
    names = [last.format(p).format().render_as("text") for p in persons]
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def author_year_label(entry) -> str:
    """'Lakshminarayanan et al., 2017' for a pybtex entry (editor, then title, when it
    has no author; 'n.d.' when it has no year)."""
    from pybtex.richtext import Text

    persons = entry.persons.get("author") or entry.persons.get("editor")
    who = _label_names(persons) if persons else Text.from_latex(entry.fields.get("title", entry.key)).render_as("text")
    year = entry.fields.get("year", "n.d.")
    return f"{who}, {year}"


def _make_styles():
    from pybtex.style.formatting.unsrt import Style as UnsrtStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabelStyle(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            labels = [author_year_label(e) for e in sorted_entries]
            total = {label: labels.count(label) for label in labels}
            seen: dict[str, int] = {}
            for label in labels:
                # works of the same authors and year: 2017a, 2017b (as in author-year styles)
                seen[label] = seen.get(label, 0) + 1
                yield label if total[label] == 1 else f"{label}{chr(ord('a') + seen[label] - 1)}"

    class AuthorYearStyle(UnsrtStyle):
        default_label_style = LABEL_STYLE
        default_sorting_style = "author_year_title"

    return AuthorYearLabelStyle, AuthorYearStyle


def register_pybtex_styles() -> None:
    """Register the `author_year` label and formatting styles with pybtex (idempotent)."""
    import pybtex.plugin

    label_style, format_style = _make_styles()
    for group, name, cls in (
        ("pybtex.style.labels", LABEL_STYLE, label_style),
        ("pybtex.style.formatting", FORMAT_STYLE, format_style),
    ):
        try:
            pybtex.plugin.find_plugin(group, name)
        except pybtex.plugin.PluginNotFound:
            pybtex.plugin.register_plugin(group, name, cls)


def register_reference_style() -> None:
    """Register sphinxcontrib-bibtex's `author_year` with round brackets (idempotent)."""
    import dataclasses

    import sphinxcontrib.bibtex.plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def round_brackets() -> BracketStyle:
        return BracketStyle(left="(", right=")")

    @dataclasses.dataclass
    class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
        bracket_textual: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_author: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_label: BracketStyle = dataclasses.field(default_factory=round_brackets)
        bracket_year: BracketStyle = dataclasses.field(default_factory=round_brackets)

    sphinxcontrib.bibtex.plugin.register_plugin(
        "sphinxcontrib.bibtex.style.referencing", REFERENCE_STYLE, RoundAuthorYearReferenceStyle
    )


# --- numbered glued tables ----------------------------------------------------------------
class glued_table(nodes.figure):
    """A glued output with a caption, numbered as a table (rendered like a figure)."""


def _visit_glued_table(self, node):
    self.visit_figure(node)


def _depart_glued_table(self, node):
    self.depart_figure(node)


def _make_directive():
    from myst_nb.ext.glue.directives import PasteFigureDirective

    class GluedTableDirective(PasteFigureDirective):
        def run(self):
            result = super().run()
            for node in result:
                if type(node) is nodes.figure:
                    # Re-class in place: the label that `add_name` registered keeps
                    # pointing at this very node, now numbered as a table.
                    node.__class__ = glued_table
                    node["classes"].append("glued-table")
            return result

    return GluedTableDirective


# --- build date and commit in the footer -------------------------------------------------
def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_stamp(root: Path, environ=os.environ) -> str:
    """'Built 2026-12-02 from commit 0647dab', '... (with uncommitted changes)', or
    'Built 2026-12-02' outside a git checkout."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else dt.datetime.now(dt.UTC)
    stamp = f"Built {when:%Y-%m-%d}"
    commit = _git(root, "rev-parse", "--short=7", "HEAD")
    if commit:
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
        stamp += f" from commit <code>{commit}</code>" + (" (with uncommitted changes)" if dirty else "")
    return stamp + "."


def _theme_options(app, config) -> None:
    options = dict(config.html_theme_options or {})
    # pydata-sphinx-theme's persistent search button in its top bar is a second search field
    # beside sphinx-book-theme's in the sidebar (executablebooks/sphinx-book-theme#986)
    options.setdefault("navbar_persistent", [])
    options["extra_footer"] = " ".join(filter(None, [options.get("extra_footer", ""), build_stamp(Path(app.srcdir))]))
    config.html_theme_options = options


# --- plotly.js, from the pinned package --------------------------------------------------
PLOTLY_JS = "plotly.min.js"


def plotly_js_source() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


def _copy_plotly_js(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plotly_js_source(), static / PLOTLY_JS)


def setup(app):
    app.connect("config-inited", _theme_options)
    app.add_js_file(PLOTLY_JS)
    app.connect("build-finished", _copy_plotly_js)
    register_pybtex_styles()
    register_reference_style()
    app.add_enumerable_node(glued_table, "table", html=(_visit_glued_table, _depart_glued_table))
    app.add_directive("glued-table", _make_directive())
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
