"""`make serve`: two Streamlit workers behind the real Caddy proxy, driven by headless Chromium.

The proxy and the workers are started on loopback ports by the test (serving/cluster.py). A browser
must get the pages through the proxy, its websocket must work (every rerun goes over it), and it must
stay on the worker that holds its session: the CSV it downloads lives in that worker's memory only.
"""

from __future__ import annotations

import gzip
import re
import shutil
import urllib.request

import pytest

from export.tables import read_csv_export
from serving.cluster import WORKER_HEADER, Cluster, free_ports, wait_healthy
from tests.conftest import ARTIFACTS, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cluster(small_db_path):
    if shutil.which("caddy") is None:
        pytest.fail("caddy is missing: `make test` installs it (apt-get install caddy)")
    port, *workers = free_ports(3)
    with Cluster(workers=2, port=port, address="127.0.0.1", worker_ports=workers,
                 env={"OBSERVATOIRE_DB": str(small_db_path)}, log_dir=ARTIFACTS / "serving",
                 access_log=True) as running:
        yield running


def _browse(browser):
    """A new browser (own cookies) that records which worker answered each HTTP response and
    what went over its websockets."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                  locale="fr-FR")
    page = context.new_page()
    page.errors, page.answered_by, page.ws_log = [], [], []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("response", lambda r: page.answered_by.append(r.headers.get(WORKER_HEADER.lower())))

    def on_websocket(ws):
        page.ws_log.append(ws.url)
        ws.on("framereceived", lambda _: page.ws_log.append("received"))
    page.on("websocket", on_websocket)
    return context, page


def _csv_download(page) -> bytes:
    button = page.locator(
        "[data-testid='stDownloadButton'] button:visible", has_text=re.compile(r"^(download)?\s*CSV\b")
    )
    button.first.wait_for(timeout=30_000)
    with page.expect_download(timeout=90_000) as download:
        button.first.click()
    return download.value.path().read_bytes()


def test_a_browser_works_through_the_proxy_and_stays_on_its_worker(cluster, browser):
    context, page = _browse(browser)
    try:
        page.goto(f"{cluster.url}/?dep=35")
        page.get_by_role("link", name="Couverture CTG").wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_exception(page)
        assert any(url.endswith("/_stcore/stream") for url in page.ws_log), page.ws_log
        assert page.ws_log.count("received") > 0                  # the run came back over the websocket
        meta, table = read_csv_export(_csv_download(page))           # served from the worker's memory
        assert meta["Titre"] and len(table) > 0
        page.get_by_role("link", name="Couverture CTG").click()      # a page switch: over the websocket
        page.get_by_role("heading", name="Couverture CTG").wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_exception(page)
        screenshot(page, "serving-ctg-35")
        answered = {w for w in page.answered_by if w}
        assert len(answered) == 1, f"one browser was served by several workers: {answered}"
        assert answered <= {w.upstream for w in cluster.pool}
        cookies = {c["name"] for c in context.cookies()}
        assert "observatoire_worker" in cookies
    finally:
        context.close()


def _get(url: str, encoding: str) -> tuple[dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=30) as response:
        return {k.lower(): v for k, v in response.headers.items()}, response.read()


def test_the_proxy_serves_streamlit_bundles_gzipped_and_compresses_the_page(cluster):
    """A first visit downloads about 9 MB of JavaScript that Streamlit sends uncompressed. The proxy
    serves those bundles from disk, gzipped once at start (the bytes a browser decodes are the
    worker's own, still cached for a year), and compresses what it relays (the page itself)."""
    html_headers, html = _get(f"{cluster.url}/", "zstd, gzip")
    assert html_headers.get("content-encoding") == "zstd"         # relayed: compressed on the fly
    _, html = _get(f"{cluster.url}/", "identity")
    bundles = re.findall(rb'(?:src|href)="\.?/?(static/[^"]+\.(?:js|css))"', html)
    assert bundles, html[:500]
    sizes = []
    for bundle in (b.decode() for b in bundles):
        raw_headers, raw = _get(f"{cluster.pool[0].url}/{bundle}", "gzip")
        assert "content-encoding" not in raw_headers               # the worker alone: uncompressed
        headers, body = _get(f"{cluster.url}/{bundle}", "zstd, gzip")
        assert headers.get("content-encoding") == "gzip", bundle
        assert gzip.decompress(body) == raw, bundle
        sizes.append((len(body), len(raw)))
        assert "immutable" in headers.get("cache-control", "")
        assert headers.get(WORKER_HEADER.lower()) is None            # no worker was asked
        plain_headers, plain = _get(f"{cluster.url}/{bundle}", "identity")
        assert "content-encoding" not in plain_headers and plain == raw
    assert sum(b for b, _ in sizes) < 0.4 * sum(r for _, r in sizes), sizes


def test_new_browsers_are_spread_over_the_workers(cluster, browser):
    seen = set()
    for _ in range(16):                       # random choice for a new browser: 2^-15 to miss one
        context, page = _browse(browser)
        try:
            page.goto(f"{cluster.url}/_stcore/health")
            seen |= {w for w in page.answered_by if w}
        finally:
            context.close()
        if len(seen) == 2:
            break
    assert seen == {w.upstream for w in cluster.pool}


def test_a_browser_whose_worker_stopped_is_served_by_another(cluster, browser):
    context, page = _browse(browser)
    try:
        page.goto(f"{cluster.url}/?dep=61")
        wait_for_app(page)
        first = next(w for w in page.answered_by if w)
        pinned = context.cookies()
    finally:
        context.close()
    worker = next(w for w in cluster.pool if w.upstream == first)
    worker.process.terminate()
    worker.process.wait(timeout=20)
    # The same browser comes back (its cookie names the stopped worker; a fresh cache, so every
    # response is a real one): the proxy's retry and health checks send it to the other worker.
    context, page = _browse(browser)
    try:
        context.add_cookies(pinned)
        page.goto(f"{cluster.url}/?dep=61")
        wait_for_app(page)
        page.locator("h1").first.wait_for()
        assert_no_exception(page)
        assert {w for w in page.answered_by if w} == {w.upstream for w in cluster.pool} - {first}
    finally:
        context.close()
        cluster.restart_dead_workers()
        wait_healthy(worker.url + "/_stcore/health", 120, worker.process)
