"""Choropleth maps (plotly, MapLibre with no web tiles: the map works offline)."""

from __future__ import annotations

import math

import plotly.express as px
import plotly.graph_objects as go
import shapely

from common.format import PLOTLY_SEPARATORS

#: Colour-blind-safe sequential palette (ColorBrewer YlGnBu).
SEQUENTIAL = px.colors.sequential.YlGnBu


#: Frame of a map without any feature (a filter that leaves nothing): metropolitan France.
EMPTY_BOUNDS = (-5.2, 41.3, 9.6, 51.1)


def geojson_bounds(geojson: dict) -> tuple[float, float, float, float]:
    geoms = [shapely.geometry.shape(f["geometry"]) for f in geojson["features"]]
    if not geoms:  # shapely.total_bounds([]) raises (a zero-size min), the map shows empty instead
        return EMPTY_BOUNDS
    return shapely.total_bounds(geoms)


def fit_zoom(minx: float, miny: float, maxx: float, maxy: float, width: int, height: int) -> float:
    """Web-Mercator zoom at which the bounds fit in width × height pixels (with a margin)."""
    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    lon_fraction = max(maxx - minx, 1e-4) / 360
    lat_fraction = max(merc(maxy) - merc(miny), 1e-4) / (2 * math.pi)
    zoom = min(math.log2(width / 512 / lon_fraction), math.log2(height / 512 / lat_fraction))
    return max(0.0, min(12.0, zoom - 0.15))


def choropleth(frame, geojson: dict, key: str, color: str, hover_name: str,
               hover_data: dict, labels: dict, height: int = 560,
               discrete: dict | None = None) -> go.Figure:
    """Choropleth of `frame[color]` on features whose id is `frame[key]`, framed on the features.

    `discrete` (optional) maps each class of a categorical `color` column to its colour, in legend
    order (e.g. classes of a rule, with a grey « secret » class): drawn as one trace with a stepped
    colour scale, so the GeoJSON is sent once whatever the number of classes."""
    minx, miny, maxx, maxy = geojson_bounds(geojson)
    zoom = fit_zoom(minx, miny, maxx, maxy, width=760, height=height)
    center = {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}
    if discrete:
        return _discrete_choropleth(frame, geojson, key, color, hover_name, hover_data, labels, height,
                                    discrete, center, zoom)
    fig = px.choropleth_map(
        frame, geojson=geojson, locations=key, featureidkey="id", color=color,
        hover_name=hover_name, hover_data=hover_data, labels=labels,
        color_continuous_scale=SEQUENTIAL, map_style="white-bg", opacity=0.85,
        center=center, zoom=zoom, height=height)
    fig.update_traces(marker_line_width=0.6, marker_line_color="#4a4a4a")
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=PLOTLY_SEPARATORS,
                      coloraxis_colorbar_tickformat=",.0f")
    return fig


def _discrete_choropleth(frame, geojson, key, color, hover_name, hover_data, labels, height, discrete,
                         center, zoom) -> go.Figure:
    order = list(discrete)
    n = len(order)
    codes = frame[color].map({c: i for i, c in enumerate(order)})
    scale = []
    for i, colour in enumerate(discrete.values()):
        scale += [(i / n, colour), ((i + 1) / n, colour)]
    shown = [c for c, fmt in hover_data.items() if fmt is not False and c != color]
    lines = ["<b>%{customdata[0]}</b>", f"{labels.get(color, color)} : %{{customdata[1]}}"]
    lines += [f"{labels.get(c, c)} : %{{customdata[{i + 2}]}}" for i, c in enumerate(shown)]
    custom = frame[[hover_name, color, *shown]].astype(object).where(frame[[hover_name, color, *shown]].notna(), "—")
    fig = go.Figure(go.Choroplethmap(
        geojson=geojson, locations=frame[key], featureidkey="id", z=codes, zmin=-0.5, zmax=n - 0.5,
        colorscale=scale, marker_opacity=0.85, marker_line_width=0.6, marker_line_color="#4a4a4a",
        customdata=custom.to_numpy(), hovertemplate="<br>".join(lines) + "<extra></extra>",
        colorbar={"tickvals": list(range(n)), "ticktext": order, "title": {"text": labels.get(color, color)},
                  "len": 0.6, "thickness": 14}))
    fig.update_layout(map_style="white-bg", map_center=center, map_zoom=zoom, height=height,
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=PLOTLY_SEPARATORS)
    return fig
