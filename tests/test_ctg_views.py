"""The CTG page's shared views: built once per filters for the whole server, never mutated by the
page, cheap to re-run, and the map drawn with each class's own contours only."""

import datetime as dt
import re

import pandas as pd
import plotly.express as px
import pytest

from methods import ctg as method
from tests.conftest import assert_no_exception, run_page, screenshot, wait_for_app
from ui import ctg as view


def _square(code: str, x: float) -> dict:
    ring = [[x, 48.0], [x + 0.1, 48.0], [x + 0.1, 48.1], [x, 48.1], [x, 48.0]]
    return {"type": "Feature", "id": code, "properties": {"nom": code},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_map_gives_each_class_trace_only_its_own_contours_and_draws_the_same_map():
    geojson = {"type": "FeatureCollection", "features": [_square(c, i / 10) for i, c in
                                                         enumerate(["35001", "35002", "35003", "35004"])]}
    frame = pd.DataFrame(
        {
            "code_insee": ["35001", "35002", "35003", "35004"],
            "nom": ["A", "B", "C", "D"],
            "categorie": ["CTG", "Aucune", "CTG", "Charte MSA"],
            "conventions": ["CTG A", "", "CTG C", "Charte D"],
            "annee": ["2019", "Non couvert", "2020", "2018"],
        }
    )
    colours = {k: v for k, v in method.CATEGORIES.items() if k != "Couverture partielle"}
    hover = {"code_insee": False, "conventions": True, "categorie": True, "annee": True}
    fig = view.coverage_map(frame, geojson, "code_insee", "categorie", colours, hover, "Couverture")
    by_class = {t.name: ([f["id"] for f in t.geojson["features"]], list(t.locations)) for t in fig.data}
    assert by_class == {"CTG": (["35001", "35003"], ["35001", "35003"]), "Aucune": (["35002"], ["35002"]),
                        "Charte MSA": (["35004"], ["35004"])}
    # Everything else is what plotly express draws with the whole GeoJSON on every trace.
    center, zoom = view._map_view(geojson)
    reference = px.choropleth_map(
        frame, geojson=geojson, locations="code_insee", featureidkey="id", color="categorie",
        color_discrete_map=colours, category_orders={"categorie": list(colours)}, hover_name="nom",
        hover_data=hover, labels={"categorie": "Couverture"}, map_style="white-bg", opacity=0.9,
        center=center, zoom=zoom, height=600)
    ours = fig.to_plotly_json()
    for ours_trace, ref_trace in zip(ours["data"], reference.to_plotly_json()["data"]):
        assert ref_trace.pop("geojson") == geojson
        ours_trace.pop("geojson")
        ours_trace.pop("marker")  # outline added by coverage_map
        ref_trace.pop("marker", None)
        assert repr(ours_trace) == repr(ref_trace)


def _app(small_db_path, monkeypatch, query: dict):
    return run_page(small_db_path, monkeypatch, "pages/ctg.py", query)


def _fingerprint(obj) -> str:
    if isinstance(obj, pd.DataFrame):
        return str(pd.util.hash_pandas_object(obj.astype(str), index=True).sum()) + repr(list(obj.columns))
    if isinstance(obj, pd.Series):
        return repr(obj.to_dict())
    return repr(obj.to_plotly_json()) if hasattr(obj, "to_plotly_json") else repr(obj)


#: The page's tabs whose views the sharing test reads (only the open tab runs: each is opened by URL).
VIEW_TABS = ("Échéances", "Où aller ensuite", "Registre")


def test_only_the_open_tab_builds_its_views(small_db_path, monkeypatch):
    built = []
    original = view.gantt_figure
    monkeypatch.setattr(view, "gantt_figure", lambda *a, **k: built.append(1) or original(*a, **k))
    _app(small_db_path, monkeypatch, {"dep": "35", "date": "2021-06-30"})  # the map tab, open by default
    assert built == []
    _app(small_db_path, monkeypatch, {"dep": "35", "date": "2021-06-30", "ctg_onglet": "Échéances"})
    assert built == [1]


def test_runs_share_one_view_per_filters_and_never_mutate_it(small_db_path, monkeypatch):
    query = {"dep": "61", "date": "2020-12-31"}
    for tab in VIEW_TABS:  # the page builds every view the test reads
        _app(small_db_path, monkeypatch, {**query, "ctg_onglet": tab})
    app = _app(small_db_path, monkeypatch, query)
    from ui import data
    version, date, statuts = data.version(), dt.date(2020, 12, 31), method.COUNTED_STATUTS
    calls = []
    for owner, name in ((view, "coverage_map"), (view, "gantt_figure"), (view, "coverage_levels"),
                        (method, "reported_vs_computed"), (method, "where_next"), (method, "status_at")):
        original = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, _n=name, _f=original, **k: calls.append(_n) or _f(*a, **k))
    shared = [view.basis(version, "61"), view.status(version, "61", None, date, ("CTG",), statuts),
              view.coverage_view(version, "61", date, (), statuts, "Communes", "Type de couverture"),
              view.deadlines(version, "61", date), view.registry(version, "61", date),
              view.next_steps(version, "61", date, ("CTG",), statuts, "Population non couverte")]
    snapshot = [{k: _fingerprint(v) for k, v in vars(s).items()} if hasattr(s, "__dataclass_fields__")
                else _fingerprint(s) for s in shared]
    assert calls == [], calls  # the page built these very views: the test reads the page's objects
    app.radio(key="ctg_colour").set_value("Année de signature").run()
    app.radio(key="ctg_colour").set_value("Type de couverture").run()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    again = [view.basis(version, "61"), view.status(version, "61", None, date, ("CTG",), statuts),
             view.coverage_view(version, "61", date, (), statuts, "Communes", "Type de couverture"),
             view.deadlines(version, "61", date), view.registry(version, "61", date),
             view.next_steps(version, "61", date, ("CTG",), statuts, "Population non couverte")]
    assert all(a is b for a, b in zip(shared, again))  # the very objects: built once, shared
    assert snapshot == [{k: _fingerprint(v) for k, v in vars(s).items()} if hasattr(s, "__dataclass_fields__")
                        else _fingerprint(s) for s in again]


def test_print_map_is_built_on_demand_with_the_screen_map_classes(small_db_path, monkeypatch):
    _app(small_db_path, monkeypatch, {"dep": "35"})
    from ui import data
    coverage = view.coverage_view(data.version(), "35", dt.date(2020, 12, 31), (), method.COUNTED_STATUTS,
                                  "Communes", "Type de couverture")
    printed = coverage.print_figure()
    assert printed is not coverage.print_figure()  # rebuilt per export, never kept
    assert set(printed.frame[printed.color]) <= set(printed.discrete)  # the screen map's classes
    assert {t.name for t in coverage.figure.data} <= set(printed.discrete)  # legend in the screen's terms
    assert sorted(printed.frame[printed.key]) == sorted(coverage.frame["code_insee"])


@pytest.mark.browser
def test_ctg_map_exports_an_svg_built_on_click(app_url, page):
    page.goto(f"{app_url}/?dep=35")
    page.get_by_role("link", name="Couverture CTG").wait_for(timeout=60_000)
    wait_for_app(page)
    page.goto(f"{app_url}/ctg?dep=35&date=2020-12-31")
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    button = page.locator("[data-testid='stDownloadButton'] button:visible",
                          has_text=re.compile(r"^(download|image)?\s*SVG\b")).first
    button.wait_for(timeout=30_000)
    with page.expect_download(timeout=90_000) as download:
        button.click()
    svg = download.value.path().read_bytes()
    assert svg.lstrip().startswith(b"<svg") and "Couverture".encode() in svg
    assert_no_exception(page)
    screenshot(page, "ctg-views-35")
