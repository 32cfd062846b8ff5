"""The fragility page as a person sees it (headless Chromium), and its server time once cached."""

import statistics
import time

import pytest

from tests.conftest import ARTIFACTS, assert_no_exception, screenshot, start_app, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def timed_app(small_db_path):
    """The app with server-side run timings recorded (ui.bootstrap.timed_run)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    timings = ARTIFACTS / "fragilite-timings.tsv"
    timings.unlink(missing_ok=True)
    proc, url = start_app(small_db_path, {"OBSERVATOIRE_TIMINGS": str(timings),
                                          "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"})
    yield url, timings
    proc.terminate()
    proc.wait(timeout=10)


def open_page(page, url, query="dep=35"):
    """Home first: a server whose first session opened /fragilite keeps Streamlit's legacy pages/
    routing (no app.py navigation) until some session runs app.py."""
    page.goto(f"{url}/?{query}")
    page.wait_for_selector("h1", timeout=120_000)
    page.goto(f"{url}/fragilite?{query}")
    page.get_by_text("Fragilité des retraités", exact=True).first.wait_for(timeout=120_000)
    wait_for_app(page, 60_000)


def _runs(timings):
    if not timings.exists():
        return []
    return [float(line.split("\t")[1]) for line in timings.read_text().splitlines()
            if line.startswith("fragilite\t")]


def test_fragilite_page_opens_directly_on_a_fresh_server(timed_app, page):
    url, _ = timed_app
    page.goto(f"{url}/fragilite?dep=35")  # first session: Streamlit's legacy pages/ routing
    page.get_by_text("Fragilité des retraités", exact=True).first.wait_for(timeout=120_000)
    wait_for_app(page, 120_000)
    assert_no_exception(page)


def test_fragilite_page_renders_map_histogram_and_table_for_ille_et_vilaine(timed_app, page):
    url, _ = timed_app
    open_page(page, url)
    page.get_by_text("Données simulées — méthode réelle").first.wait_for()
    # communes by default: the priority rule is written for communes (l.2228-2232, Schéma 8)
    page.get_by_text("Score de fragilité par commune — Ille-et-Vilaine (35)").wait_for()
    page.get_by_text("Actions de prévention comptées").first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    screenshot(page, "fragilite-35-communes-carte")
    page.locator(".st-key-frag_level").get_by_text("EPCI", exact=True).click()
    wait_for_app(page, 60_000)
    page.get_by_text("Score de fragilité par EPCI — Ille-et-Vilaine (35)").wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_text("Distribution des scores (EPCI)").scroll_into_view_if_needed()
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    page.get_by_text("écrite pour les communes").first.wait_for()
    screenshot(page, "fragilite-35-epci")
    page.get_by_text("Note de méthode").click()
    page.get_by_text("Hypothèse").first.wait_for()
    assert_no_exception(page)
    screenshot(page, "fragilite-35-epci-note")


def test_fragilite_page_renders_all_france_at_epci_level(timed_app, page):
    url, _ = timed_app
    open_page(page, url, "dep=61")
    page.locator(".st-key-frag_level").get_by_text("EPCI", exact=True).click()
    wait_for_app(page, 60_000)
    page.get_by_label("Périmètre").click()
    page.get_by_role("option", name="France entière").click()
    wait_for_app(page, 60_000)
    page.get_by_text("Score de fragilité par EPCI — France").wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    assert_no_exception(page)
    screenshot(page, "fragilite-france-epci")


def test_fragilite_table_exports_csv_without_secret_communes(timed_app, page):
    from export.tables import read_csv_export

    url, _ = timed_app
    open_page(page, url)
    page.get_by_text("Communes", exact=True).first.click()
    wait_for_app(page, 60_000)
    with page.expect_download(timeout=60_000) as download:
        page.locator("[data-testid='stDownloadButton'] button", has_text="CSV").first.click()
    raw = download.value.path().read_bytes()
    assert raw.startswith("\ufeff".encode())
    meta, body = read_csv_export(raw)
    assert meta["Avertissement"].startswith("données simulées")
    retirees = body["Retraités"].astype(int)
    assert len(body) > 300 and (retirees >= 11).all()
    assert body["Rang"].tolist()[:3] == ["1", "2", "3"]
    assert_no_exception(page)


def test_filter_change_reruns_the_page_once_and_records_its_server_time(timed_app, page):
    """Each key press on the slider reaches the server as one run of the page; the server time of the
    cached changes is written to an artifact (speed itself is the load benchmark's business: a timed
    assertion on a shared machine would only measure the neighbours)."""
    url, timings = timed_app
    open_page(page, url)
    slider = page.get_by_role("slider", name="Seuil de score individuel « fragile »")
    durations = []
    for round_ in range(3):
        for key in ("ArrowRight", "ArrowLeft"):  # 7 → 8 → 7: both cached after the first round
            before = len(_runs(timings))
            slider.focus()
            page.keyboard.press(key)
            deadline = time.time() + 60
            while len(_runs(timings)) == before and time.time() < deadline:
                time.sleep(0.1)
            wait_for_app(page, 60_000)
            assert len(_runs(timings)) == before + 1
            if round_ > 0:
                durations.append(_runs(timings)[-1])
    assert_no_exception(page)
    (ARTIFACTS / "fragilite-filter-change.txt").write_text(
        f"server time of a cached filter change (s): median {statistics.median(durations):.3f}, all {durations}\n")
