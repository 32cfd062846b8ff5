"""The CTG coverage page in headless Chromium: Ille-et-Vilaine and the Orne, slider moved."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def _open(page, url: str) -> None:
    """Open a deep link. The app's home page is visited first: on a freshly started server Streamlit
    resolves the very first URL before `st.navigation` has run (pages-directory mode)."""
    page.goto(url.split("/ctg")[0] + "/?dep=35")
    page.get_by_role("link", name="Couverture CTG").wait_for(timeout=60_000)  # st.navigation has run
    wait_for_app(page)
    page.goto(url)
    wait_for_app(page)
    page.locator("[data-testid='stMetricValue']").first.wait_for()


def _expect_metric(page, index: int, expected: str) -> None:
    """The `index`-th metric reads `expected`, awaited: a rerun redraws the metrics one by one, and a
    read right after it can see a metric of the previous state."""
    expect(page.locator("[data-testid='stMetricValue']").nth(index)).to_have_text(expected, timeout=120_000)


def _move_slider(page, presses: int, key: str) -> None:
    """Press an arrow key on the « Au » slider, one month at a time: each step reruns the app and
    rewrites `?date=` in the URL, which the next step waits for."""
    thumb = page.locator("[data-testid='stSlider'] input[type='range']").first
    for _ in range(presses):
        before = page.url
        thumb.focus()
        page.keyboard.press(key)
        page.wait_for_function("u => window.location.href !== u", arg=before, timeout=30_000)
        if key in ("Home", "End"):
            break
    wait_for_app(page)


def test_ille_et_vilaine_replays_the_roll_out_with_the_slider(app_url, page):
    _open(page, f"{app_url}/ctg?dep=35&date=2020-12-31")
    page.get_by_role("heading", name="Couverture CTG").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    assert_no_exception(page)
    _expect_metric(page, 0, "17,3\u202f%")          # 11 named CTG, end 2020 (published 17,40 %)
    _expect_metric(page, 2, "11")
    screenshot(page, "ctg-35-2020-12")
    _move_slider(page, 12, "ArrowLeft")               # back to December 2019
    assert "date=2019-12-31" in page.url
    _expect_metric(page, 0, "11,7\u202f%")
    page.get_by_text("Registre incomplet ou daté autrement").wait_for()
    assert page.get_by_text(re.compile("Liffré-Cormier")).count() >= 1
    assert_no_exception(page)
    screenshot(page, "ctg-35-2019-12")
    page.get_by_role("tab", name="Trajectoire").click()
    page.get_by_text("Taux publié et taux calculé").wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "ctg-35-trajectoire")
    page.get_by_role("tab", name="Où aller ensuite").click()
    page.get_by_text("Classer par").wait_for()
    page.wait_for_timeout(800)
    assert_no_exception(page)
    screenshot(page, "ctg-35-ou-aller")


def test_orne_shows_the_gap_with_unnamed_ctg_and_the_slider_moves(app_url, page):
    _open(page, f"{app_url}/ctg?dep=61&date=2020-12-31")
    page.locator(".js-plotly-plot").first.wait_for()
    _expect_metric(page, 0, "9,2\u202f%")
    _expect_metric(page, 3, "62,98 %")
    page.get_by_text(re.compile("ne sont pas comptées")).first.wait_for()
    _move_slider(page, 1, "End")                      # December 2025: the CTG de L'Aigle has expired
    assert "date=2025-12-31" in page.url
    _expect_metric(page, 0, "0,0\u202f%")
    assert_no_exception(page)
    screenshot(page, "ctg-61-2025-12")
    page.get_by_role("tab", name="Échéances").click()
    wait_for_app(page)
    screenshot(page, "ctg-61-echeances")
    page.reload()
    wait_for_app(page)
    assert "date=2025-12-31" in page.url
    _expect_metric(page, 0, "0,0\u202f%")
    assert_no_exception(page)
