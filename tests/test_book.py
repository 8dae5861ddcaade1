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
* every page of `_toc.yml` listed in the navigation sidebar of the root page.

CDE_BOOK_TEST_NOTEBOOKS=DIR builds the book from other chapter sources (e.g. stand-ins
while the chapters are written). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from helpers.config import REPO_ROOT
from helpers.pipeline import toc_files

pytestmark = pytest.mark.slow

LABELS = {"table1": "table", "table2": "table", "fig1": "img", "fig2": "img"}
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
BUILD_TIMEOUT_S = 3600


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the smoke book once; return its folder (html in _build/html)."""
    if not os.environ.get("CDE_DATA_DIR"):
        pytest.skip("CDE_DATA_DIR is not set: the end-to-end book build needs the real MNIST "
                    "and NotMNIST files (e.g. CDE_DATA_DIR=../shared/data make test).")
    out = tmp_path_factory.mktemp("smoke_book")
    cmd = [sys.executable, "-m", "helpers", "build", "--profile", "smoke", "--out-dir", str(out),
           "--no-progress"]
    if os.environ.get("CDE_BOOK_TEST_NOTEBOOKS"):
        cmd += ["--notebooks", os.environ["CDE_BOOK_TEST_NOTEBOOKS"]]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S)
    if proc.returncode != 0:
        pytest.fail(f"`{' '.join(cmd[1:])}` failed (exit {proc.returncode}):\n"
                    f"{proc.stderr[-4000:]}\n--- stdout (tail) ---\n{proc.stdout[-3000:]}",
                    pytrace=False)
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
        for label, kind in LABELS.items():
            for element in doc.find_all(id=label):
                where[label].append((name, element))
    for label, kind in LABELS.items():
        assert len(where[label]) == 1, (
            f"label {label!r} should mark exactly one element in the book, found "
            f"{[n for n, _ in where[label]]} (MyST `:name: {label}` or `({label})=`)")
        name, element = where[label][0]
        item = labelled(element, kind)
        assert item is not None, (f"the element labelled {label!r} in {name}.html holds no "
                                  f"<{kind}>: {str(element)[:300]}")
        if kind == "img":
            src = item["src"]
            assert src.startswith("data:image") or (pages[name].parent / src).resolve().exists(), (
                f"image of {label!r} in {name}.html points to a missing file {src}")

    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        doc = soup(path)
        # glue: unresolved keys leave warnings/markers; a figure glued without the inline
        # backend renders as its repr instead of an image
        for marker in ("<Figure size", "<matplotlib.", "<Axes:"):
            assert marker not in doc.get_text(), (
                f"{name}.html shows {marker!r}: a figure was glued as text; glue a figure "
                "with the inline backend (do not call matplotlib.use('Agg') in a notebook)")
        prose = soup(path)
        for code in prose.select("pre, code, .cell_input"):
            code.decompose()
        for needle in ("{glue", "{numref}", "{ref}", "{doc}", "{cite"):
            assert needle not in prose.get_text(), f"{name}.html shows an unparsed role {needle!r}"
        assert not doc.select(".system-message, .problematic"), (
            f"{name}.html has docutils problem markers: "
            f"{[str(e)[:200] for e in doc.select('.system-message, .problematic')]}")
        assert "not found in glue data" not in text and "Glue reference" not in text
        outputs = " ".join(e.get_text() for e in doc.select(".cell_output, .output"))
        assert "Traceback" not in outputs, f"{name}.html shows a Python traceback in an output"
        assert "ipythontb" not in text and not doc.select(".output.traceback"), (
            f"{name}.html renders an error output")

    # the executed notebooks themselves carry no error output
    for nb_path in sorted((book / "chapters").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{nb_path.name} has error outputs: {errors[0].get('ename')}"

    # every chapter in the navigation sidebar of the root page
    nav = soup(root_page(html)).select_one("nav.bd-docs-nav")
    assert nav is not None, "no navigation sidebar (nav.bd-docs-nav) on the root page"
    root = toc_files(book)[0]
    # Sidebar links are relative to the root page (chapters/00_intro.html).
    hrefs = {posixpath.normpath(posixpath.join(posixpath.dirname(root), a["href"].split("#")[0]))
             for a in nav.find_all("a", href=True) if a["href"].split("#")[0]}
    for page in toc_files(book)[1:]:
        assert f"{page}.html" in hrefs, f"{page} is not in the sidebar of {root}.html"


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


@pytest.mark.browser
def test_pages_render_in_headless_chromium(book, server):
    chromium, driver_path = _browser_paths()
    if not chromium or not driver_path:
        pytest.skip("chromium and chromedriver are needed for the browser test "
                    "(Debian: apt-get install chromium chromium-driver).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile_dir = tempfile.mkdtemp(prefix="cde-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                 f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    seen = {}
    try:
        for page in toc_files(book):
            driver.get(f"{server}/{page}.html")
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.readyState") == "complete")
            # wait for lazy images, then require every one to have decoded
            WebDriverWait(driver, 30).until(lambda d: d.execute_script(
                "return Array.from(document.images).every(i => i.complete)"))
            broken = driver.execute_script(
                "return Array.from(document.images).filter(i => !(i.naturalWidth > 0))"
                ".map(i => i.getAttribute('src'))")
            assert not broken, f"{page}: images that did not load: {broken}"
            assert driver.find_element(By.CSS_SELECTOR, "nav.bd-docs-nav").is_displayed() or \
                driver.get_window_size()["width"] < 960
            name = page.replace("/", "_")
            driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
            for label, kind in LABELS.items():
                elements = driver.find_elements(By.ID, label)
                if not elements:
                    continue
                element = elements[0]
                driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
                items = element.find_elements(By.TAG_NAME, kind) or element.find_elements(
                    By.XPATH, f"following-sibling::*[position() <= {NEAR}]"
                              f"[not(self::section)]/descendant-or-self::{kind}")
                assert items, f"{page}: #{label} holds no <{kind}> in the rendered page"
                item = items[0]
                size = item.size
                assert item.is_displayed() and size["width"] > 0 and size["height"] > 0, (
                    f"{page}: <{kind}> of #{label} is not displayed (size {size})")
                if kind == "img":
                    assert driver.execute_script("return arguments[0].naturalWidth", item) > 0
                inside = bool(element.find_elements(By.TAG_NAME, kind))
                (element if inside else item).screenshot(str(SCREENSHOTS / f"{label}.png"))
                seen[label] = page
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)
    assert set(seen) == set(LABELS), f"labels not found in any page: {set(LABELS) - set(seen)}"
