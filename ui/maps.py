"""Choropleth maps (plotly, MapLibre with no web tiles: the map works offline)."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import shapely

from ui.format import PLOTLY_SEPARATORS

#: Colour-blind-safe sequential palette (ColorBrewer YlGnBu).
SEQUENTIAL = px.colors.sequential.YlGnBu


def _bounds(geojson: dict) -> tuple[float, float, float, float]:
    geoms = [shapely.geometry.shape(f["geometry"]) for f in geojson["features"]]
    return shapely.total_bounds(geoms)


def choropleth(frame, geojson: dict, key: str, color: str, hover_name: str,
               hover_data: dict, labels: dict, height: int = 560) -> go.Figure:
    """Choropleth of `frame[color]` on features whose id is `frame[key]`, framed on the features."""
    minx, miny, maxx, maxy = _bounds(geojson)
    span = max(maxx - minx, (maxy - miny) * 1.4, 1e-3)
    zoom = max(0.0, min(11.0, 9.2 - 1.44 * __import__("math").log2(span)))
    fig = px.choropleth_map(
        frame, geojson=geojson, locations=key, featureidkey="id", color=color,
        hover_name=hover_name, hover_data=hover_data, labels=labels,
        color_continuous_scale=SEQUENTIAL, map_style="white-bg", opacity=0.85,
        center={"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}, zoom=zoom, height=height)
    fig.update_traces(marker_line_width=0.6, marker_line_color="#4a4a4a")
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=PLOTLY_SEPARATORS)
    return fig
