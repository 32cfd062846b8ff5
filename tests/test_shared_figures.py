"""ui/figures.py: a shared figure gives Streamlit the same dict as a plain one, computed once."""

import copy

import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio

from ui.figures import SharedFigure, shared


def _figure() -> go.Figure:
    return px.bar(x=["a", "b"], y=[1, 2], title="t")


def test_shared_figure_serialises_like_the_plain_figure_every_time():
    plain, view = _figure(), shared(_figure())
    assert isinstance(view, SharedFigure)
    expected = pio.to_json(plain.to_dict(), validate=False)
    assert pio.to_json(view.to_dict(), validate=False) == expected
    first = view.to_dict()
    first["data"][0].pop("uid", None)       # what plotly.io does to the dict it gets
    first["data"][0]["name"] = "changed"
    assert pio.to_json(view.to_dict(), validate=False) == expected
    assert view.to_dict()["layout"] is first["layout"]   # computed once, not deep-copied each run


def test_figures_inside_a_view_are_shared_and_a_deep_copy_is_a_plain_modifiable_figure():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class View:
        figure: go.Figure
        others: tuple

    view = shared(View(_figure(), (_figure(), "text")))
    assert isinstance(view.figure, SharedFigure) and isinstance(view.others[0], SharedFigure)
    copied = copy.deepcopy(view.figure)
    assert type(copied) is go.Figure
    copied.update_layout(title="autre")
    assert view.figure.to_dict()["layout"]["title"]["text"] == "t"


def test_a_map_whose_filters_leave_no_feature_is_drawn_empty_not_an_exception():
    """Found by the load benchmark: the fragility map on a région with a filter that keeps nothing."""
    import pandas as pd

    from ui import maps
    frame = pd.DataFrame({"code": pd.Series([], dtype="object"), "classe": pd.Series([], dtype="object")})
    figure = maps.choropleth(frame, {"type": "FeatureCollection", "features": []}, "code", "classe", "code",
                             {}, {}, discrete={"Fragile": "#d55e00", "Autre": "#cccccc"})
    assert figure.layout.map.center.lon == (maps.EMPTY_BOUNDS[0] + maps.EMPTY_BOUNDS[2]) / 2
