"""The « Portrait de territoire » page in headless Chromium, on the reference (35 + 61) and the
embedded Tableau 1 (its own database: the page must not depend on other topics' tables)."""

import pytest

from etl import build
from etl.insee import loader as insee
from export.tables import read_csv_export
from tests.conftest import ARTIFACTS, assert_no_exception, metric_table, screenshot, start_app, wait_for_app

pytestmark = pytest.mark.browser

ANDAINE = "200068443"


@pytest.fixture(scope="module")
def portrait_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("portrait") / "portrait.duckdb"
    build.build(path, ["35", "61"], steps=[*build.REFERENCE_STEPS, *insee.STEPS])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc, url = start_app(path)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_portrait_of_an_orne_epci_shows_cumul_rank_and_nine_epci(portrait_url, page):
    page.goto(f"{portrait_url}/?dep=61")  # a first session lets the server learn the navigation
    wait_for_app(page)
    page.goto(f"{portrait_url}/portrait?dep=61&epci={ANDAINE}")
    wait_for_app(page)
    page.get_by_text("Portrait de territoire", exact=True).first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert_no_exception(page)
    metrics = metric_table(page, ["Indicateurs défavorables", "Rang dans Orne"])
    assert metrics["Indicateurs défavorables"] == "5 / 7"
    assert metrics["Rang dans Orne"] == "10e sur 16"
    assert page.get_by_text("9 EPCI sur 16 cumulent 6 ou 7 indicateurs défavorables").count() == 1
    assert page.get_by_text("cités par le rapport IGAS 2020-098R").count() == 1
    screenshot(page, "portrait-61-andaine-passais")


def test_portrait_export_is_a_french_csv_of_the_epci_table(portrait_url, page):
    page.goto(f"{portrait_url}/portrait?dep=61&epci={ANDAINE}")
    wait_for_app(page)
    with page.expect_download() as info:
        page.locator("[data-testid='stDownloadButton'] button", has_text="CSV").first.click()
    data = open(info.value.path(), "rb").read()
    meta, table = read_csv_export(data)
    assert meta["Territoire"] == "Orne (61)" and meta["Filtre — référence"] == "France métropolitaine"
    assert len(table) == 16 and list(table.columns[:3]) == ["EPCI", "Nom dans la source", "SIREN"]
    text = data.decode("utf-8-sig")
    assert "19020,7" in text and "CC Andaine - Passais" in text  # printed name kept, French decimals


def test_departement_without_data_says_which_files_to_load(portrait_url, page):
    page.goto(f"{portrait_url}/portrait?dep=35")
    wait_for_app(page)
    page.get_by_text("Aucun indicateur INSEE chargé").first.wait_for()
    page.locator("code").filter(has_text="--input DOSSIER").first.wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    screenshot(page, "portrait-35-sans-donnees")
    assert_no_exception(page)
