"""End to end: the whole book on the smoke profile, checked as HTML and in a real browser.

One module-scoped fixture runs, as a user would,

    python -m helpers build --profile smoke --out-dir <tmp> --no-progress

(real data from CDE_DATA_DIR; skipped with a message when it is unset) and both tests read
that one build. Contract with the chapter notebooks:

* labels `table1`, `table2`: the element with that id holds a <table>, or one of the
  next 3 sibling elements does (`(table1)=` above a caption paragraph and a `{glue}` of a
  DataFrame, or a `{glue:figure}` with `:name: table1`); `fig1`, `fig2`: the same with an
  <img> (a `{glue:figure}` with `:name: fig1` of a figure glued as an image);
* no glued figure rendered as text (`<Figure size ...>`: a figure glued without the inline
  backend), no unresolved glue or docutils problem markers, no "Traceback" in any output;
* every page of `_toc.yml` listed in the navigation sidebar of the root page;
* code a reader can open: every code cell tagged `hide-input` in a chapter is a folded
  toggle on its page; every chapter page links to the repository and launches the
  chapter's notebook on Colab and Binder (the repository of book/_config.yml).

In headless Chromium, at 1400 px and at 400 px wide, every page: fits the window (no
sideways scrolling), loads every image, shows no raw `{glue`, `{cite}` or `Traceback`;
tables are not hidden under the page's Contents panel, and at 1400 px none is cut by its
box; words never break inside table cells; glued text is not bold; one search field; and with the dark theme every
table cell's text has a contrast ratio of at least 4.5 with its background (WCAG AA).

CDE_BOOK_TEST_NOTEBOOKS=DIR builds the book from other chapter sources (e.g. stand-ins
while the chapters are written); CDE_BOOK_TEST_BUILT=DIR checks a book already built
there (its `_build/html`) instead of building one. Screenshots go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from helpers.book.bookio import HIDE_INPUT, repository_from_config
from helpers.build.pipeline import toc_files
from helpers.core.config import REPO_ROOT

pytestmark = pytest.mark.slow

LABELS = {
    "table1": "table",
    "table2-accuracy": "table",
    "table2-size": "table",
    "fig1": "img",
    "fig2": "img",
    "memory-budget": "img",
    "claims-table": "table",
}
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
BUILD_TIMEOUT_S = 3600


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the smoke book once; return its folder (html in _build/html)."""
    if os.environ.get("CDE_BOOK_TEST_BUILT"):
        return Path(os.environ["CDE_BOOK_TEST_BUILT"]).resolve()
    if not os.environ.get("CDE_DATA_DIR"):
        pytest.skip(
            "CDE_DATA_DIR is not set: the end-to-end book build needs the real MNIST "
            "and NotMNIST files (e.g. CDE_DATA_DIR=../shared/data make test)."
        )
    out = tmp_path_factory.mktemp("smoke_book")
    cmd = [sys.executable, "-m", "helpers", "build", "--profile", "smoke", "--out-dir", str(out), "--no-progress"]
    if os.environ.get("CDE_BOOK_TEST_NOTEBOOKS"):
        cmd += ["--notebooks", os.environ["CDE_BOOK_TEST_NOTEBOOKS"]]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd[1:])}` failed (exit {proc.returncode}):\n"
            f"{proc.stderr[-4000:]}\n--- stdout (tail) ---\n{proc.stdout[-3000:]}",
            pytrace=False,
        )
    html = out / "_build" / "html"
    assert (html / "index.html").exists(), proc.stdout[-3000:]
    assert str((html / "index.html").resolve()) in proc.stdout  # the CLI prints where it is
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def root_page(html: Path) -> Path:
    """index.html, or the page its meta refresh points to (jupyter-book writes a redirect)."""
    index = soup(html / "index.html")
    refresh = index.find("meta", attrs={"http-equiv": "Refresh"})
    if refresh:
        return html / refresh["content"].split("url=", 1)[1].strip()
    return html / "index.html"


NEAR = 3  # a label may sit on a caption paragraph: look this many siblings ahead


def labelled(element, kind: str):
    """The <table>/<img> that an element with a label id holds, or, when the label sits on
    a caption paragraph or an empty target (`(table1)=` above the caption), the first one
    in the next NEAR sibling elements (not past a new section)."""
    found = element.find(kind)
    sibling = element
    for _ in range(NEAR):
        if found is not None:
            break
        sibling = sibling.find_next_sibling()
        if sibling is None or sibling.name == "section":
            break
        found = sibling if sibling.name == kind else sibling.find(kind)
    return found


def test_html_has_the_papers_tables_and_figures_and_no_broken_output(book):
    html = book / "_build" / "html"
    pages = {p: html / f"{p}.html" for p in toc_files(book)}
    missing = [p for p, path in pages.items() if not path.exists()]
    assert not missing, f"pages of _toc.yml without HTML: {missing}"

    # Table 1, Table 2, Figure 1, Figure 2 under their labels, exactly once in the book
    where = {label: [] for label in LABELS}
    for name, path in pages.items():
        doc = soup(path)
        for label in LABELS:
            for element in doc.find_all(id=label):
                where[label].append((name, element))
    for label, kind in LABELS.items():
        assert len(where[label]) == 1, (
            f"label {label!r} should mark exactly one element in the book, found "
            f"{[n for n, _ in where[label]]} (MyST `:name: {label}` or `({label})=`)"
        )
        name, element = where[label][0]
        item = labelled(element, kind)
        assert item is not None, f"the element labelled {label!r} in {name}.html holds no <{kind}>: {str(element)[:300]}"
        if kind == "img":
            src = item["src"]
            assert src.startswith("data:image") or (pages[name].parent / src).resolve().exists(), (
                f"image of {label!r} in {name}.html points to a missing file {src}"
            )

    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        doc = soup(path)
        # glue: unresolved keys leave warnings/markers; a figure glued without the inline
        # backend renders as its repr instead of an image
        for marker in ("<Figure size", "<matplotlib.", "<Axes:"):
            assert marker not in doc.get_text(), (
                f"{name}.html shows {marker!r}: a figure was glued as text; glue a figure "
                "with the inline backend (do not call matplotlib.use('Agg') in a notebook)"
            )
        prose = soup(path)
        for code in prose.select("pre, code, .cell_input"):
            code.decompose()
        for needle in ("{glue", "{numref}", "{ref}", "{doc}", "{cite"):
            assert needle not in prose.get_text(), f"{name}.html shows an unparsed role {needle!r}"
        # Markdown inside text glued with {glue:text} is shown raw
        assert "`" not in prose.get_text(), (
            f"{name}.html shows a raw backtick: glued text must not carry Markdown "
            f"({prose.get_text()[max(0, prose.get_text().find('`') - 80) :][:160]!r})"
        )
        assert not doc.select(".system-message, .problematic"), (
            f"{name}.html has docutils problem markers: {[str(e)[:200] for e in doc.select('.system-message, .problematic')]}"
        )
        assert "not found in glue data" not in text and "Glue reference" not in text
        outputs = " ".join(e.get_text() for e in doc.select(".cell_output, .output"))
        assert "Traceback" not in outputs, f"{name}.html shows a Python traceback in an output"
        assert "ipythontb" not in text and not doc.select(".output.traceback"), f"{name}.html renders an error output"

    # the executed notebooks themselves carry no error output
    for nb_path in sorted((book / "chapters").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{nb_path.name} has error outputs: {errors[0].get('ename')}"

    # code a reader can open: folded code cells and launch links on every chapter page
    url, branch = repository_from_config(book / "_config.yml")
    repo_path = url.split("://", 1)[1].split("/", 1)[1]  # owner/name
    for nb_path in sorted((book / "chapters").glob("*.ipynb")):
        name = f"chapters/{nb_path.stem}"
        if name not in pages:
            continue
        nb = nbformat.read(nb_path, as_version=4)
        folded = sum(HIDE_INPUT in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")
        doc = soup(pages[name])
        toggles = doc.select(f".cell.tag_{HIDE_INPUT} details")
        assert len(toggles) == folded, (
            f"{name}.html shows {len(toggles)} folded code cells, its notebook tags {folded} hide-input"
        )
        links = [a["href"] for a in doc.find_all("a", href=True)]
        notebook = f"{branch}/book/{name}.ipynb"
        for what, wanted in (
            ("the repository button", url),
            ("the Colab launch link", f"https://colab.research.google.com/github/{repo_path}/blob/{notebook}"),
            ("the Binder launch link", f"https://mybinder.org/v2/gh/{repo_path}/{branch}?urlpath="),
        ):
            assert any(h == wanted or h.startswith(wanted) for h in links), f"{name}.html lacks {what} ({wanted}...)"

    # every chapter in the navigation sidebar of the root page
    nav = soup(root_page(html)).select_one("nav.bd-docs-nav")
    assert nav is not None, "no navigation sidebar (nav.bd-docs-nav) on the root page"
    root = toc_files(book)[0]
    # Sidebar links are relative to the root page (chapters/00_intro.html).
    hrefs = {
        posixpath.normpath(posixpath.join(posixpath.dirname(root), a["href"].split("#")[0]))
        for a in nav.find_all("a", href=True)
        if a["href"].split("#")[0]
    }
    for page in toc_files(book)[1:]:
        assert f"{page}.html" in hrefs, f"{page} is not in the sidebar of {root}.html"
    # the chapters numbered in the sidebar (1. ... 8.), the glossary and references not
    entries = [" ".join(a.get_text().split()) for a in nav.find_all("a", href=True)]
    chapters = [e for e in entries if e[:1].isdigit()]
    assert [e.split(".")[0] for e in chapters] == [str(i) for i in range(1, len(chapters) + 1)] and len(chapters) >= 8
    assert "Glossary" in entries and "References" in entries


def test_every_chapter_opens_with_its_key_findings_in_sentences(book):
    """Each numbered chapter starts with a "Key findings" box: computed sentences (glued),
    each ending with a full stop, none a bare number."""
    html = book / "_build" / "html"
    for page in toc_files(book)[1:]:
        if not page.startswith("chapters/"):
            continue
        box = soup(html / f"{page}.html").select_one(".admonition.key-findings")
        assert box is not None, f"{page} has no Key findings box"
        items = [" ".join(li.get_text(" ").split()) for li in box.select("li")]
        assert items, f"{page}: its Key findings box is empty"
        for item in items:
            assert len(item.split()) >= 6 and item.rstrip(" )").endswith("."), f"{page}: not a sentence: {item!r}"


HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _last_visible_block(section):
    """The last block a reader sees in a section, out of its direct children other than
    headings, nested sections, code cells (folded) and empty label targets; None when the
    section holds nothing else."""
    blocks = [
        child
        for child in section.find_all(recursive=False)
        if child.name not in (*HEADINGS, "section")
        and not (child.name == "div" and "cell" in (child.get("class") or []))
        and not (child.name == "span" and not child.get_text(strip=True))  # an empty label target
    ]
    return blocks[-1] if blocks else None


def test_every_section_of_a_chapter_ends_on_a_sentence(book):
    """Each section of chapters 1-8 ends on a paragraph (its finding), or on a box of
    paragraphs, never on a bare table, figure, dropdown or list."""
    html = book / "_build" / "html"
    pages = [p for p in toc_files(book) if re.fullmatch(r"chapters/0[1-8]_\w+", p)]
    assert len(pages) == 8, pages
    problems = []
    for page in pages:
        for section in soup(html / f"{page}.html").select("article section"):
            heading = section.find(HEADINGS)
            title = " ".join(heading.get_text(" ").replace("#", "").split()) if heading else section.get("id")
            last = _last_visible_block(section)
            if last is None:
                continue  # a section made of nested sections only
            ends_on_text = last.name == "p" or (
                last.name == "div" and "admonition" in (last.get("class") or []) and last.find("p") is not None
            )
            if not ends_on_text:
                problems.append(f"{page} '{title}' ends on <{last.name} class={' '.join(last.get('class') or [])}>")
    assert not problems, "sections that end on no sentence:\n" + "\n".join(problems)


# --- a real browser -------------------------------------------------------------------
def _browser_paths():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    for path in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if os.path.exists(path):
            if path.endswith("chromium"):
                chromium = chromium or path
            else:
                driver = driver or path
    return chromium, driver


@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(_QuietHandler, directory=str(book / "_build" / "html"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


WIDTHS = (1400, 400)
RAW_MARKERS = ("{glue", "{cite}", "{cite:", "{numref}", "Traceback")
MIN_CONTRAST = 4.5

# document.documentElement.scrollWidth vs the window, with the elements sticking out
_OVERFLOW_JS = """
const width = window.innerWidth, doc = document.documentElement.scrollWidth;
const out = [];
if (doc > width) {
  for (const e of document.querySelectorAll('.bd-article *')) {
    const r = e.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) {
      let clipped = false;
      for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
        const o = getComputedStyle(a).overflowX;
        if (o !== 'visible' && a.getBoundingClientRect().right <= width + 1) { clipped = true; break; }
      }
      if (!clipped) out.push([Math.round(r.right), e.tagName.toLowerCase() + '.' + [...e.classList].join('.')]);
    }
  }
}
out.sort((a, b) => b[0] - a[0]);
return [doc, width, out.slice(0, 3).map(([right, what]) => what + ' right=' + right)];
"""

# WCAG contrast of every visible table cell's text with the background it is drawn on
_CONTRAST_JS = """
const rgba = s => { const m = (s.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number);
                    return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
const over = (top, base) => ({r: top.r * top.a + base.r * (1 - top.a),
                              g: top.g * top.a + base.g * (1 - top.a),
                              b: top.b * top.a + base.b * (1 - top.a), a: 1});
const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                   return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const background = el => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
  }
  let base = {r: 255, g: 255, b: 255, a: 1};
  for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
  return base;
};
const worst = [];
let cells = 0;
for (const cell of document.querySelectorAll('.bd-article td, .bd-article th')) {
  if (!cell.offsetParent || !cell.innerText.trim()) continue;
  cells += 1;
  const bg = background(cell), fg = over(rgba(getComputedStyle(cell).color), bg);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  if (ratio < arguments[0]) worst.push([Math.round(ratio * 100) / 100, cell.innerText.trim().slice(0, 30),
                                        getComputedStyle(cell).color, JSON.stringify(bg)]);
}
return [cells, worst.slice(0, 5)];
"""

# tables whose visible part reaches under the page's Contents panel (secondary sidebar)
_UNDER_SIDEBAR_JS = """
const side = document.querySelector('.bd-sidebar-secondary');
if (!side || getComputedStyle(side).display === 'none' || side.getBoundingClientRect().width === 0) return [];
const left = side.getBoundingClientRect().left, out = [];
for (const t of document.querySelectorAll('.bd-article table')) {
  let right = t.getBoundingClientRect().right;
  for (let a = t.parentElement; a; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') right = Math.min(right, a.getBoundingClientRect().right);
  }
  if (t.offsetParent && right > left + 1)
    out.push((t.id || t.className || 'table') + ' right=' + Math.round(right) + ' panel=' + Math.round(left));
}
return out;
"""


# what a reader sees wrong in tables and text, at any width: a table cut by its box at a
# desktop width (arguments[0]: check it), words broken inside table cells, glued text in bold,
# more than one search field
_READING_JS = """
const out = [];
const visible = e => e.offsetParent !== null && e.getBoundingClientRect().width > 0;
for (const t of document.querySelectorAll('.bd-article table')) {  // a box that scrolls shows it
  if (!visible(t)) continue;
  for (let a = t.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') {
      if (a.scrollWidth > a.clientWidth + 1 && !getComputedStyle(a).backgroundImage.includes('gradient'))
        out.push('a table scrolls in a box with no cue that it does: ' + (t.innerText || '').trim().slice(0, 40));
      break;
    }
  }
}
if (arguments[0]) {
  for (const t of document.querySelectorAll('.bd-article table')) {
    if (!visible(t)) continue;
    for (let a = t.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') {
        if (a.scrollWidth > a.clientWidth + 1)
          out.push('a table is cut by its box (' + a.scrollWidth + ' px in ' + a.clientWidth + ' px): '
                   + (t.innerText || '').trim().slice(0, 40).replace(/\\s+/g, ' '));
        break;
      }
    }
  }
}
for (const c of document.querySelectorAll('.bd-article td, .bd-article th, .bd-article td *, .bd-article th *')) {
  const s = getComputedStyle(c);
  if (s.overflowWrap === 'anywhere' || s.wordBreak === 'break-all') {
    out.push('words break anywhere inside table cells (' + c.tagName.toLowerCase() + ')'); break;
  }
}
for (const g of document.querySelectorAll('.bd-article span.pasted-text')) {
  if (visible(g) && !g.closest('strong, b, th, h1, h2, h3, h4, .caption') && Number(getComputedStyle(g).fontWeight) > 500) {
    out.push('glued text is bold: ' + g.innerText.slice(0, 30)); break;
  }
}
const searches = [...document.querySelectorAll('input[type=search], .search-button-field, .search-button')].filter(visible);
if (searches.length > 1) out.push(searches.length + ' search fields are shown');
return out;
"""


# every interactive (Plotly) figure drew its plot, opened in its dropdown, at page width
_PLOTLY_JS = """
const out = [];
const done = arguments[arguments.length - 1];
for (const d of document.querySelectorAll('.bd-article details')) d.open = true;
setTimeout(() => {  // the dropdowns' toggle events lay the figures out again (figures.js)
  for (const g of document.querySelectorAll('.bd-article div.plotly-graph-div')) {
    if (typeof Plotly === 'undefined') { out.push('plotly.js did not load'); break; }
    const svg = g.querySelector('svg.main-svg');
    const box = g.parentElement.getBoundingClientRect();
    if (!svg) { out.push('interactive figure ' + g.id + ' drew nothing'); continue; }
    const wide = Math.round(svg.getBoundingClientRect().width);
    if (svg && wide > box.width + 1)
      out.push('interactive figure ' + g.id + ' is ' + wide + ' px wide in a ' + Math.round(box.width) + ' px box');
  }
  for (const d of document.querySelectorAll('.bd-article details')) d.open = false;
  done(out);
}, 500);
"""


def _chromium_driver():
    chromium, driver_path = _browser_paths()
    if not chromium or not driver_path:
        pytest.skip(
            "chromium and chromedriver are needed for the browser test (Debian: apt-get install chromium chromium-driver)."
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile_dir = tempfile.mkdtemp(prefix="cde-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        "--hide-scrollbars",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    return driver, profile_dir


def _load(driver, url: str, width: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    # an exact viewport (a window's outer size differs from its inner width)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": width, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
    )
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    # scroll through the page so lazy images load, then require every one to have decoded
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete)"))
    driver.execute_script("window.scrollTo(0, 0);")


def page_problems(driver, url: str, page: str, width: int) -> list[str]:
    """What is wrong with one page at one window width (empty when nothing is)."""
    problems = []
    _load(driver, url, width)
    where = f"{page} at {width} px"
    doc, inner, culprits = driver.execute_script(_OVERFLOW_JS)
    if inner != width:
        problems.append(f"{where}: the window is {inner} px wide, not {width}")
    if doc > inner:
        problems.append(f"{where}: the page is {doc} px wide and scrolls sideways (sticking out: {culprits})")
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.getAttribute('src'))"
    )
    if broken:
        problems.append(f"{where}: images that did not load: {broken}")
    text = driver.execute_script("const m = document.querySelector('main') || document.body; return m.innerText;")
    raw = [m for m in RAW_MARKERS if m in text]
    if raw:
        problems.append(f"{where}: the page shows raw {raw}")
    problems += [f"{where}: {p}" for p in driver.execute_script(_READING_JS, width >= 1200)]
    problems += [f"{where}: {p}" for p in driver.execute_async_script(_PLOTLY_JS)]
    if width >= 1200:
        under = driver.execute_script(_UNDER_SIDEBAR_JS)
        if under:
            problems.append(f"{where}: tables reach under the Contents panel: {under}")
    # dark theme: what the theme toggle sets (pydata-sphinx-theme)
    driver.execute_script("document.documentElement.dataset.theme = 'dark';document.documentElement.dataset.mode = 'dark';")
    cells, low = driver.execute_script(_CONTRAST_JS, MIN_CONTRAST)
    if low:
        problems.append(
            f"{where}, dark theme: table cells below contrast {MIN_CONTRAST} (ratio, text, colour, background): {low}"
        )
    name = page.replace("/", "_")
    driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}-dark.png"))
    driver.execute_script("document.documentElement.dataset.theme = 'light';document.documentElement.dataset.mode = 'light';")
    driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    return problems


def browser_problems(driver, base_url: str, pages: list[str]) -> list[str]:
    problems = []
    for width in WIDTHS:
        for page in pages:
            problems += page_problems(driver, f"{base_url}/{page}.html", page, width)
    return problems


@pytest.mark.browser
def test_pages_render_in_headless_chromium(book, server):
    from selenium.webdriver.common.by import By

    driver, profile_dir = _chromium_driver()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen = {}
    try:
        problems = browser_problems(driver, server, toc_files(book))
        # the paper's tables and figures under their labels, displayed
        _load(driver, f"{server}/{toc_files(book)[0]}.html", 1400)
        for page in toc_files(book):
            _load(driver, f"{server}/{page}.html", 1400)
            for label, kind in LABELS.items():
                elements = driver.find_elements(By.ID, label)
                if not elements:
                    continue
                element = elements[0]
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
                items = element.find_elements(By.TAG_NAME, kind) or element.find_elements(
                    By.XPATH, f"following-sibling::*[position() <= {NEAR}][not(self::section)]/descendant-or-self::{kind}"
                )
                assert items, f"{page}: #{label} holds no <{kind}> in the rendered page"
                item = items[0]
                size = item.size
                assert item.is_displayed() and size["width"] > 0 and size["height"] > 0, (
                    f"{page}: <{kind}> of #{label} is not displayed (size {size})"
                )
                if kind == "img":
                    assert driver.execute_script("return arguments[0].naturalWidth", item) > 0
                inside = bool(element.find_elements(By.TAG_NAME, kind))
                (element if inside else item).screenshot(str(SCREENSHOTS / f"{label}.png"))
                seen[label] = page
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)
    assert not problems, "\n".join(problems)
    assert set(seen) == set(LABELS), f"labels not found in any page: {set(LABELS) - set(seen)}"
