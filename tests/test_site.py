"""The course website (make site) in a real browser: headless Chromium, Debian's package and its driver (issue 24).

`make test-site` runs this file with CREDIT_SITE_REQUIRED=1: a missing browser, driver or built site is then a
failure, not a skip (CI runs it so). Elsewhere (make test) it is skipped when Chromium, its driver, selenium or the
built site (build/site, `make site`) is missing.

The oracle for "no exercise answer on a reader's page" is solutions/ itself: the text of every solution block and
solution-tagged cell, less what the reader's notebook (chapters/) also holds. The same probe must find those texts
on the worked-answers pages, so a probe that finds nothing cannot pass unnoticed.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from make_chapters import BEGIN, END, SOLUTION_TAG  # noqa: E402
from notebooks import CHAPTERS, read, solution_notebooks  # noqa: E402

SITE = ROOT / "build" / "site"
ARTIFACTS = ROOT / "build" / "site-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
REQUIRED = os.environ.get("CREDIT_SITE_REQUIRED", "") not in ("", "0")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1800"]
NAMES = [path.stem for path in solution_notebooks()]
RAW_MATH = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[")
MIN_PROBE = 25  # shorter lines (`return s_a, s_b`) can appear in any notebook


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if not (Path(CHROMEDRIVER).exists() or shutil.which(CHROMEDRIVER)):
        return f"no chromedriver at {CHROMEDRIVER} (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (make install)"
    if not (SITE / "index.html").exists():
        return f"no built site in {SITE.relative_to(ROOT)} (make site)"
    return None


_why = _missing()
if _why:
    if REQUIRED:
        raise RuntimeError(f"the browser test cannot run: {_why}")
    pytest.skip(_why, allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reads the browser's log, not the server's
        pass


@pytest.fixture(scope="module")
def base_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def open_page(browser, url: str, math: bool = False) -> list[dict]:
    """Load a page, wait for MathJax to finish (``math``: it must be there), return the console's SEVERE entries."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(url)
    WebDriverWait(browser, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
    done = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done('no MathJax'); return; }"
        "MathJax.startup.promise.then(() => done('typeset'), (e) => done('MathJax failed: ' + e));")
    assert done == "typeset" or (done == "no MathJax" and not math), f"{url}: {done}"
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def page_text(browser) -> str:
    """The article's text as a reader sees it, without code and outputs' preformatted text."""
    return browser.execute_script(
        "const main = document.querySelector('article') || document.body;"
        "const copy = main.cloneNode(true);"
        "copy.querySelectorAll('pre, code, mjx-container, script, style').forEach(e => e.remove());"
        "return copy.innerText;")


def full_text(browser) -> str:
    return browser.execute_script("return (document.querySelector('article') || document.body).textContent;")


def normalise(text: str) -> str:
    """Whitespace collapsed, and Sphinx's smart quotes back to straight ones."""
    text = text.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}))
    return re.sub(r"\s+", " ", text).strip()


def solution_texts(name: str) -> list[str]:
    """Lines of the worked answers of solutions/NAME that the reader's notebook does not hold anywhere."""
    chapter = read(CHAPTERS / f"{name}.ipynb")
    reader = normalise(" ".join(cell.source for cell in chapter.cells))
    probes = []
    for cell in read(ROOT / "solutions" / f"{name}.ipynb").cells:
        tagged = SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])
        inside = False
        for line in cell.source.splitlines():
            if cell.cell_type == "code" and BEGIN.match(line):
                inside = True
                continue
            if cell.cell_type == "code" and END.match(line):
                inside = False
                continue
            if not (inside or tagged):
                continue
            if cell.cell_type == "markdown":  # prose runs between the markup: $...$, `...`, *...*
                pieces = re.split(r"\$[^$]*\$|`[^`]*`|[*_\[\]()#|>]", line)
            else:
                pieces = [line]
            for piece in map(normalise, pieces):
                if len(piece) >= MIN_PROBE and piece not in reader:
                    probes.append(piece)
    return probes


def test_the_site_has_one_reader_page_and_one_answers_page_per_notebook():
    assert NAMES, "no notebooks in solutions/"
    stale = "build/site is not the site of solutions/: rebuild it (make site)"
    assert sorted(p.stem for p in (SITE / "chapters").glob("*.html")) == NAMES, stale
    assert sorted(p.stem for p in (SITE / "answers").glob("*.html")) == NAMES, stale


@pytest.mark.parametrize("name", NAMES)
def test_a_reader_page_loads_typesets_shows_its_figures_and_no_answer(browser, base_url, name):
    has_math = any(cell.cell_type == "markdown" and "$" in cell.source for cell in read(CHAPTERS / f"{name}.ipynb").cells)
    errors = open_page(browser, f"{base_url}/chapters/{name}.html", math=has_math)
    assert errors == [], f"console errors on chapters/{name}.html: {errors}"
    typeset = browser.execute_script("return document.querySelectorAll('mjx-container').length")
    if has_math:
        assert typeset > 0, f"chapters/{name}.html: its mathematics was not typeset"
    raw = RAW_MATH.findall(page_text(browser))
    assert raw == [], f"chapters/{name}.html: raw mathematics left in the text: {raw[:5]}"
    images = browser.execute_script(
        "return Array.from(document.querySelectorAll('article img'), i => [i.src, i.complete, i.naturalWidth]);")
    broken = [src for src, complete, width in images if not (complete and width > 0)]
    assert broken == [], f"chapters/{name}.html: figures that did not load: {broken}"
    expected = sum(1 for cell in read(ROOT / "solutions" / f"{name}.ipynb").cells
                   if cell.cell_type == "code" and SOLUTION_TAG not in cell.get("metadata", {}).get("tags", [])
                   and not any(BEGIN.match(line) for line in cell.source.splitlines())
                   for output in cell.get("outputs", []) if "image/png" in output.get("data", {}))
    assert len(images) >= expected, f"chapters/{name}.html: {len(images)} figures, the notebook has {expected}"
    text = normalise(full_text(browser))
    shown = [probe for probe in solution_texts(name) if probe in text]
    assert shown == [], f"chapters/{name}.html shows worked answers: {shown[:3]}"


@pytest.mark.parametrize("name", NAMES)
def test_the_answers_page_shows_the_worked_answers(browser, base_url, name):
    errors = open_page(browser, f"{base_url}/answers/{name}.html")
    assert errors == [], f"console errors on answers/{name}.html: {errors}"
    text = normalise(full_text(browser))
    probes = solution_texts(name)
    assert probes, f"solutions/{name}.ipynb: no worked answer to look for"
    missing = [probe for probe in probes if probe not in text]
    # markdown answers render their inline markup, so a few pieces may read differently; code is verbatim
    assert len(missing) <= len(probes) // 4, f"answers/{name}.html lacks its worked answers: {missing[:3]}"


def test_the_search_finds_shapley(browser, base_url):
    open_page(browser, f"{base_url}/search.html?q=Shapley")
    results = WebDriverWait(browser, 60).until(
        lambda d: d.execute_script("return document.querySelectorAll('#search-results li, ul.search li').length"))
    assert results > 0
    linked = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results li a, ul.search li a'), a => a.href).join(' ')")
    assert "/chapters/" in linked, "the search finds no notebook page for 'Shapley'"


def test_the_api_page_documents_every_public_module(browser, base_url):
    sys.path.insert(0, str(ROOT / "tools"))
    from build_site import public_modules

    errors = open_page(browser, f"{base_url}/creditlib.html")
    assert errors == []
    text = full_text(browser)
    for module in public_modules():
        assert (SITE / "api" / f"{module}.html").exists(), module
        assert module in text, f"creditlib.html does not list {module}"


def test_screenshot_of_a_page_with_an_equation_and_a_figure(browser, base_url):
    """The artefact: the first reader page with a figure and typeset mathematics in one screen."""
    for name in NAMES:
        open_page(browser, f"{base_url}/chapters/{name}.html")
        found = browser.execute_script(  # a figure with typeset mathematics less than 900 px above it
            "const maths = Array.from(document.querySelectorAll('article mjx-container'));"
            "for (const img of document.querySelectorAll('article img')) {"
            "  const bottom = img.getBoundingClientRect().bottom + window.scrollY;"
            "  const math = maths.find(m => { const top = m.getBoundingClientRect().top + window.scrollY;"
            "                                 return top < bottom && bottom - top < 900; });"
            "  if (math) { window.scrollTo(0, math.getBoundingClientRect().top + window.scrollY - 80); return true; }"
            "}"
            "return false;")
        if found:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            target = ARTIFACTS / f"{name}.png"
            assert browser.save_screenshot(str(target))
            assert target.stat().st_size > 10_000
            return
    pytest.fail("no reader page has a figure and typeset mathematics in one screen")
