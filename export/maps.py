"""Print maps: `go.Choropleth` on the territory's own GeoJSON (SVG rendering, no tiles)."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go

from ui.maps import SEQUENTIAL


def print_choropleth(frame, geojson: dict, key: str, color: str, label: str,
                     hover_name: str | None = None, discrete: dict | None = None) -> go.Figure:
    """A choropleth framed on its features; `discrete` maps category → colour for categorical maps."""
    if discrete:
        fig = px.choropleth(frame, geojson=geojson, locations=key, featureidkey="id", color=color,
                            color_discrete_map=discrete, hover_name=hover_name, labels={color: label},
                            fitbounds="locations")
    else:
        fig = px.choropleth(frame, geojson=geojson, locations=key, featureidkey="id", color=color,
                            color_continuous_scale=SEQUENTIAL, hover_name=hover_name,
                            labels={color: label}, fitbounds="locations")
        fig.update_layout(coloraxis_colorbar_tickformat=",.0f")  # 50 000, not 50k (French separators)
    fig.update_geos(visible=False, projection_type="mercator")
    fig.update_traces(marker_line_width=0.5, marker_line_color="#4a4a4a")
    return fig
