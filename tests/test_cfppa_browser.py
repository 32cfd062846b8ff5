"""The "Financements CFPPA" page in headless Chromium: default (simulated) data, and a user file
placed in the `--input` folder."""

from __future__ import annotations

import shutil

import pytest

from common.format import nombre
from etl import build, cfppa
from tests.conftest import (
    ARTIFACTS,
    assert_no_exception,
    metric_table,
    metric_values,
    screenshot,
    start_app,
    wait_for_app,
)
from tests.test_cfppa import FIXTURES, _fill_template

pytestmark = pytest.mark.browser


def _goto(page, url: str) -> None:
    """Open the page and wait for its title. The home page is opened first: on a fresh server, a
    deep link as the very first request stays blank (Streamlit resolves it before `st.navigation`
    has run once)."""
    root, _, query = url.partition("?")
    page.goto(root.rsplit("/", 1)[0] + "/?" + query)
    page.locator("h1").first.wait_for(timeout=120_000)
    page.goto(url)
    page.get_by_role("heading", name="Financements CFPPA").wait_for(timeout=120_000)
    wait_for_app(page, 120_000)


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    wait_for_app(page)  # only the open tab runs: opening one is a run


def test_cfppa_page_renders_default_data_with_simulated_banner_and_quoted_figures(app_url, page):
    _goto(page, f"{app_url}/cfppa?dep=35")
    page.get_by_text("Données simulées — méthode réelle").first.wait_for()
    assert_no_exception(page)
    page.get_by_text("Participants", exact=True).first.wait_for()
    labels = list(metric_table(page, ["Montant engagé", "Participants"]))
    assert labels[:5] == ["Montant engagé", "Part CNSA", "Part OSS", "Actions de prévention", "Participants"]
    page.locator(".js-plotly-plot").first.wait_for()
    # simulated shares are never set against the quoted national figures (no « pt vs France 2019 »)
    assert page.locator("[data-testid='stMetricDelta']").count() == 0
    screenshot(page, "cfppa-35-defaut")
    page.get_by_text("%", exact=True).first.click()
    wait_for_app(page)
    _open_tab(page, "Carte des actions")
    page.locator(".js-plotly-plot .choroplethmap, .js-plotly-plot canvas").first.wait_for(timeout=20_000)
    screenshot(page, "cfppa-35-carte")
    _open_tab(page, "Chiffres cités")
    page.get_by_text("numéros de ligne ci-dessus", exact=False).first.wait_for()
    assert page.get_by_text("l.709", exact=False).count() >= 1
    assert_no_exception(page)
    screenshot(page, "cfppa-35-chiffres-cites")


def test_only_the_open_tab_is_drawn_and_the_link_reopens_it(app_url, page):
    """A run draws one tab: the map of the « Carte des actions » tab is not built until it is opened,
    and the opened tab is kept in the URL, so a link shared in a meeting reopens it."""
    _goto(page, f"{app_url}/cfppa?dep=35")
    page.get_by_text("Par financeur et par axe", exact=False).first.wait_for()
    assert page.get_by_text("Superposer les communes prioritaires").count() == 0
    assert page.get_by_text("Repères nationaux cités").count() == 0
    _open_tab(page, "Carte des actions")
    page.get_by_text("Superposer les communes prioritaires").wait_for()
    assert "cfppa_onglet=Carte" in page.url
    page.reload()
    wait_for_app(page)
    page.get_by_text("Superposer les communes prioritaires").wait_for()
    assert page.get_by_role("tab", name="Carte des actions", exact=True).get_attribute("aria-selected") == "true"
    assert_no_exception(page)


def test_chart_data_downloads_as_csv_with_bom_and_semicolons(app_url, page):
    _goto(page, f"{app_url}/cfppa?dep=61")
    with page.expect_download() as info:
        page.locator("[data-testid='stDownloadButton'] button:visible").filter(has_text="CSV").first.click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and b";" in data
    assert "DONNÉES SIMULÉES".lower() in data.decode("utf-8-sig").lower() or \
        "données simulées" in data.decode("utf-8-sig")
    assert_no_exception(page)


def test_cfppa_page_renders_a_user_file_from_the_input_folder(tmp_path, browser):
    folder = tmp_path / "in"
    folder.mkdir()
    _fill_template(cfppa.template_xlsx(), folder / "cfppa_35_2021.xlsx")
    shutil.copy(FIXTURES / "cnsa" / "cnsa_synthese_2019.csv", folder)
    db = tmp_path / "user.duckdb"
    build.build(db, ["35", "61"], input_dir=folder)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_app(db)
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        _goto(page, f"{url}/cfppa?dep=35")
        assert_no_exception(page)
        assert page.get_by_text("Données simulées — méthode réelle").count() == 0
        metrics = metric_values(page, [f"{nombre(1_330_000.50)} €"], at_least=5)
        assert metrics[0] == f"{nombre(1_330_000.50)} €"  # engaged in 2021, whole euros
        assert metrics[3] == "2"                          # two actions
        assert metrics[4] == "22"                         # 14 + 8 participants
        screenshot(page, "cfppa-35-fichier-utilisateur")
        _open_tab(page, "Actions")
        # action A2 has 8 participants: secret at the action level
        cell = page.get_by_text("Tablettes et démarches en ligne").first
        cell.wait_for(state="attached")
        row = cell.get_attribute("id").rsplit("-", 1)[1]
        participants = page.locator(f"#glide-cell-6-{row}").inner_text()
        assert participants.strip() == "secret"              # 8 participants: under the threshold
        # the year's total (22) is published: A1's 14 would give A2's 8 away, so it is masked too
        assert page.locator("#glide-cell-6-0").inner_text().strip() == "secret"
        screenshot(page, "cfppa-35-fichier-utilisateur-actions")
        _goto(page, f"{url}/cfppa?dep=61")
        page.get_by_text("Données simulées — méthode réelle").first.wait_for()
        assert_no_exception(page)
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
