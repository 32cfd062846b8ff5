"""Every page as a person uses it: open by URL, reload, same view; exports download real files."""

import io
import re
import struct

import openpyxl
import pytest

from export.tables import read_csv_export
from tests.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

FLERS = "200035814"
PAGES = ["accueil", "fragilite", "cfppa", "ctg", "portrait", "aide-domicile", "a-propos"]


def _url(app_url: str, name: str, query: str) -> str:
    """The default page (accueil) lives at the root: Streamlit gives it the url path ""."""
    return f"{app_url}/{'' if name == 'accueil' else name}?{query}"


def _sidebar_state(page) -> tuple[str, str]:
    sidebar = page.get_by_test_id("stSidebarUserContent")
    return (sidebar.get_by_role("combobox", name="Département").input_value(),
            sidebar.get_by_role("combobox", name="EPCI").input_value())


@pytest.mark.parametrize("name", PAGES)
def test_page_opened_by_url_shows_the_same_view_after_reload(app_url, page, name):
    page.goto(_url(app_url, name, f"dep=61&epci={FLERS}"))
    wait_for_app(page)
    page.locator("h1").first.wait_for()
    assert_no_exception(page)
    assert page.get_by_text("Page not found").count() == 0
    before = _sidebar_state(page)
    assert before[0] == "61 — Orne" and "Flers Agglo" in before[1]
    page.reload()
    wait_for_app(page)
    page.locator("h1").first.wait_for()
    assert _sidebar_state(page) == before
    assert f"epci={FLERS}" in page.url
    screenshot(page, f"page-{name}-61-flers")


def _first_download(page, label: str):
    button = page.locator(
        "[data-testid='stDownloadButton'] button:visible", has_text=re.compile(rf"^(download|image)?\s*{label}\b")
    )
    button.first.wait_for(timeout=30_000)
    try:
        with page.expect_download(timeout=90_000) as download:
            button.first.click()
    except Exception:
        screenshot(page, f"echec-export-{label}")
        raise
    return download.value.path().read_bytes()


@pytest.mark.parametrize("name, tab", [("accueil", None), ("fragilite", None), ("cfppa", None),
                                       ("ctg", "Où aller ensuite"), ("aide-domicile", None)])
def test_each_page_table_exports_a_french_csv_and_an_xlsx(app_url, page, name, tab):
    page.goto(_url(app_url, name, "dep=35"))
    wait_for_app(page)
    page.locator("[data-testid='stDownloadButton']").first.wait_for(state="attached")
    if tab:
        page.get_by_role("tab", name=tab, exact=True).click()
        wait_for_app(page)  # only the open tab runs: opening one is a run
    csv = _first_download(page, "CSV")
    meta, table = read_csv_export(csv)
    assert meta["Titre"] and meta["Export"].startswith("Observatoire territorial") and len(table) > 0
    book = openpyxl.load_workbook(io.BytesIO(_first_download(page, "XLSX")))
    assert book.sheetnames[-1] == "Sources" and len(book.sheetnames) >= 2
    assert_no_exception(page)


def test_a_map_exports_to_png_svg_and_a_one_page_pdf(app_url, page):
    page.goto(f"{app_url}/?dep=61")
    wait_for_app(page)
    png = _first_download(page, "PNG")
    assert struct.unpack(">II", png[16:24])[0] == 2480
    assert _first_download(page, "SVG").lstrip().startswith(b"<svg")
    pdf = _first_download(page, "PDF")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1
    assert_no_exception(page)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_fiche_territoire_downloads_two_to_four_a4_pages(app_url, page):
    page.goto(f"{app_url}/?dep=61&epci={FLERS}")
    wait_for_app(page)
    with page.expect_download(timeout=90_000) as download:
        page.locator("[data-testid='stDownloadButton'] button", has_text="Fiche territoire").first.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and 2 <= _pages(pdf) <= 4


def test_home_page_prepares_the_maps_zip_of_the_departement_with_a_progress_bar(app_url, page, small_db):
    import zipfile

    from query import territoires
    n_epci = len(territoires.epci_of_departement(small_db, "61"))
    page.goto(f"{app_url}/?dep=61")
    wait_for_app(page)
    page.get_by_text("Exports par lot").first.click()
    page.get_by_role("button", name="Préparer les cartes (zip)").click()
    # a loaded machine may hold the click for a while before the zip starts: wait longer than one run
    page.locator("[data-testid='stProgress']").first.wait_for(timeout=120_000)
    button = page.locator("[data-testid='stDownloadButton'] button", has_text="Télécharger")
    button.first.wait_for(timeout=180_000)
    with page.expect_download(timeout=60_000) as download:
        button.first.click()
    names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 1 + n_epci  # the EPCI map, then each EPCI's communes
    assert {n.rsplit(".", 1)[1] for n in names} == {"png", "svg", "pdf"}
    assert_no_exception(page)
    screenshot(page, "accueil-lot-cartes")


def test_page_filters_live_in_the_url_and_reopen_the_same_view(app_url, page):
    page.goto(f"{app_url}/fragilite?dep=35&frag_level=Communes&frag_seuil=8")
    wait_for_app(page)
    page.get_by_text("Score de fragilité par commune").first.wait_for()
    assert_no_exception(page)
    page.goto(f"{app_url}/cfppa?dep=35&cfppa_unite=%25&cfppa_annee=2020")
    wait_for_app(page)
    page.get_by_role("heading", name="Financements CFPPA").wait_for()
    assert page.get_by_test_id("stMainBlockContainer").get_by_role("radio", name="%").is_checked()
    page.get_by_test_id("stMainBlockContainer").get_by_role("radio", name="€").check(force=True)
    wait_for_app(page)
    page.wait_for_function("() => !window.location.search.includes('cfppa_unite')")
    assert "cfppa_annee=2020" in page.url


def test_commune_fiche_downloads_two_to_four_a4_pages(app_url, page):
    page.goto(f"{app_url}/?dep=61&epci={FLERS}")
    wait_for_app(page)
    button = page.locator("[data-testid='stDownloadButton'] button", has_text="Athis-Val de Rouvre")
    button.first.wait_for()
    with page.expect_download(timeout=90_000) as download:
        button.first.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and 2 <= _pages(pdf) <= 4
    assert download.value.suggested_filename == "fiche-61007.pdf"
