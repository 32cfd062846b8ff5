"""The fragility page's shared views: built once per filters for the whole server, never mutated by
the page; the print map built only when an export asks for it."""

import pandas as pd

from methods import fragilite as method
from tests.conftest import run_page
from ui import fragilite as view


def _app(small_db_path, monkeypatch, query: dict):
    return run_page(small_db_path, monkeypatch, "pages/fragilite.py", query)


def _fingerprint(obj) -> str:
    if isinstance(obj, pd.DataFrame):
        return str(pd.util.hash_pandas_object(obj.astype(str), index=True).sum()) + repr(list(obj.columns))
    return repr(obj.to_plotly_json()) if hasattr(obj, "to_plotly_json") else repr(obj)


def _views(version: str, params: method.Parameters):
    common = (version, "35", "Ille-et-Vilaine", "communes", "departement", ("ME", "CU", "CA", "CC"),
              view.millesimes(version)[0], _years(version, view.millesimes(version)[0]), params)
    return [view.selection(*common), view.carte(*common, "regle", False), view.classement(*common, False, "", "")]


def _years(version: str, millesime: int):
    """The page's default action window for the millésime."""
    return method.default_action_window(view.action_years(version), millesime)


def _count_builds(monkeypatch) -> list[str]:
    """Names of the view builders' inner steps called from now on (a cache hit calls none)."""
    calls = []
    for name in ("flags_text", "_histogram", "assessed"):
        original = getattr(view, name)
        monkeypatch.setattr(view, name, lambda *a, _n=name, _f=original, **k: calls.append(_n) or _f(*a, **k))
    return calls


def test_runs_share_one_view_per_filters_and_never_mutate_it(small_db_path, monkeypatch):
    app = _app(small_db_path, monkeypatch, {"dep": "35"})
    app.radio(key="frag_level").set_value("communes").run()
    from ui import data
    version, params = data.version(), method.Parameters()
    builds = _count_builds(monkeypatch)
    shared = _views(version, params)
    assert builds == [], builds  # the page built these very views: the test reads the page's objects
    snapshot = [{k: _fingerprint(v) for k, v in vars(s).items()} for s in shared]
    app.radio(key="frag_mode").set_value("quantiles").run()   # other views, same selection
    app.toggle(key="frag_prio").set_value(True).run()
    app.toggle(key="frag_prio").set_value(False).run()
    app.radio(key="frag_mode").set_value("regle").run()
    assert not app.exception, [e.value for e in app.exception]
    again = _views(version, params)
    assert all(a is b for a, b in zip(shared, again))  # the very objects: built once, shared
    assert snapshot == [{k: _fingerprint(v) for k, v in vars(s).items()} for s in again]


def test_print_map_is_built_on_demand_with_every_territory_shown(small_db_path, monkeypatch):
    _app(small_db_path, monkeypatch, {"dep": "35"})
    from ui import data
    version = data.version()
    carte = _views(version, method.Parameters())[1]
    printed = carte.print_figure()
    assert printed is not carte.print_figure()  # rebuilt per export, never kept
    assert sorted(printed.frame[printed.key]) == sorted(carte.mapped["code_insee"])
    assert set(printed.frame[printed.color]) <= set(carte.legend)
