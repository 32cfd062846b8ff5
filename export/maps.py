"""Print maps: a `PrintMap` description of the choropleth, drawn by `export.printmap` (matplotlib,
Lambert-93) only when an export is asked for."""

from __future__ import annotations

from export.printmap import PrintMap


def print_choropleth(frame, geojson: dict, key: str, color: str, label: str,
                     hover_name: str | None = None, discrete: dict | None = None, **options) -> PrintMap:
    """A print choropleth of `frame[color]` on the features `frame[key]`; `discrete` maps category →
    colour (legend order) for categorical maps. `options`: departement, level, bins, palette, unit,
    points (latitude/longitude frame), points_label — see `PrintMap`."""
    return PrintMap(frame, geojson, key, color, label, name=hover_name, discrete=discrete, **options)
