"""Print maps (PNG 300 dpi, SVG, PDF) drawn by matplotlib + geopandas in a metric projection.

Why not plotly/kaleido for maps: a print map needs a projected territory (Lambert-93 in
metropolitan France, the local UTM systems overseas) framed on its bounds, a scale bar in metres,
labels that avoid each other (text extents known before drawing the next one), a legend laid out
next to the map and text kept as text in SVG/PDF. matplotlib does all of it in-process: no browser
to start (a cold PNG in about a second instead of Chromium's start), and `svg.fonttype = none`
keeps every name searchable in the SVG. Charts keep plotly/kaleido (`export.figures`).

A `PrintMap` is a cheap description (the frame and GeoJSON the page already holds): nothing is
drawn until `render` is called, i.e. when an export button is clicked.
"""

from __future__ import annotations

import dataclasses
import io
import math
import textwrap
import threading
import warnings
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from common.format import nombre  # noqa: E402
from export.meta import ExportMeta  # noqa: E402
from geo.shapes import METRIC_CRS, WGS84, zone_of  # noqa: E402
from query import territoires  # noqa: E402

#: A4 width at 300 dpi: 2480 px.
WIDTH_IN, DPI = 2480 / 300, 300
FONT = "DejaVu Sans"
#: ColorBrewer sequential classes (colour-blind safe, monotonic lightness: readable in greyscale).
BREWER = {
    "YlGnBu": {3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
               4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
               5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
               6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
               7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
               8: ["#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"]},
    "YlOrRd": {3: ["#ffeda0", "#feb24c", "#f03b20"],
               4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
               5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
               6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
               7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
               8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"]},
}
SECRET_COLOUR, NO_DATA_COLOUR = "#7f7f7f", "#ffffff"
NEIGHBOUR_FILL, NEIGHBOUR_EDGE = "#f3f3f3", "#ffffff"
#: Number of quantile classes of a continuous variable.
N_CLASSES = 5
#: On commune maps: the chef-lieu and up to this many of the most populated communes are named.
N_COMMUNE_LABELS = 12

warnings.filterwarnings("ignore", message="Ignoring fixed . limits")  # aspect "datalim" widens the frame
_lock = threading.Lock()  # pyplot's figure manager is not thread-safe (Streamlit runs sessions in threads)


@dataclass
class PrintMap:
    """What a print choropleth shows. `discrete` maps class → colour in legend order (a class
    named like « secret » or « pas de données » gets its own hatched entry); otherwise `color` is
    numeric and cut into `bins` (default: quantiles) coloured by the ColorBrewer `palette`."""
    frame: pd.DataFrame
    geojson: dict
    key: str
    color: str
    label: str
    name: str | None = "nom"
    discrete: dict | None = None
    departement: str | None = None
    level: str | None = None
    bins: list[float] | None = None
    palette: str = "YlGnBu"
    points: pd.DataFrame | None = None  # columns latitude, longitude: drawn as dots
    points_label: str = ""
    unit: str = ""
    highlight: str | None = None  # code of one feature outlined in bold (the commune of a fiche)

    def __post_init__(self):
        if self.level is None:
            self.level = "communes" if self.key == "code_insee" else "epci"
        if self.departement is None and "code_departement" in self.frame and len(self.frame):
            self.departement = str(self.frame["code_departement"].mode().iloc[0])

    @property
    def unit_names(self) -> tuple[str, str]:
        return ("commune", "communes") if self.level == "communes" else ("EPCI", "EPCI")


@dataclass
class Classes:
    labels: list[str]
    colours: list[str]
    counts: list[int]
    of_feature: dict[str, int]  # feature id → class index (-1 no data, -2 secret)
    hatches: list[str | None] = field(default_factory=list)


def _is_secret_label(text: str) -> bool:
    return "secret" in text.lower()


def _is_no_data_label(text: str) -> bool:
    low = text.lower()
    return "pas de donn" in low or "sans donn" in low or "non renseign" in low


def classify(spec: PrintMap) -> Classes:
    ids = spec.frame[spec.key].astype(str).tolist()
    secret = (spec.frame["secret"].fillna(False).astype(bool).tolist() if "secret" in spec.frame
              else [False] * len(ids))
    if spec.discrete:
        order = list(spec.discrete)
        index = {c: i for i, c in enumerate(order)}
        values = spec.frame[spec.color].tolist()
        of = {i: index.get(v, -1) for i, v in zip(ids, values)}
        counts = [sum(1 for v in of.values() if v == k) for k in range(len(order))]
        hatches = ["////" if _is_secret_label(c) else ("...." if _is_no_data_label(c) else None) for c in order]
        labels, colours = list(order), list(spec.discrete.values())
        missing = sum(1 for v in of.values() if v == -1)
        if missing:
            labels.append("Pas de données")
            colours.append(NO_DATA_COLOUR)
            hatches.append("....")
            counts.append(missing)
            of = {k: (len(labels) - 1 if v == -1 else v) for k, v in of.items()}
        return Classes(labels, colours, counts, of, hatches)
    values = pd.to_numeric(spec.frame[spec.color], errors="coerce").astype(float)
    # a cell is secret when the query layer masked its value (`secret` flags the row, whose other
    # columns — e.g. a number of actions beside masked participants — may still be published)
    secret = [bool(s) and math.isnan(v) for s, v in zip(secret, values)]
    known = values[~values.isna()]
    breaks = _breaks(known, spec.bins)
    integer = bool(len(known)) and bool(np.allclose(known, np.round(known))) and spec.bins is not None \
        and all(float(b).is_integer() for b in spec.bins) and len(breaks) == len(spec.bins)
    if integer:  # one class per value (e.g. a cumul 0..n of indicators)
        labels = [nombre(b) for b in breaks]
    else:
        labels = [_interval(breaks[i], breaks[i + 1], i == 0, values) for i in range(len(breaks) - 1)]
    k = len(labels)
    colours = _palette(spec.palette, k)
    of: dict[str, int] = {}
    for code, value, hidden in zip(ids, values, secret):
        if hidden:
            of[code] = -2
        elif math.isnan(value):
            of[code] = -1
        elif integer:
            of[code] = int(np.argmin([abs(value - b) for b in breaks]))
        else:
            of[code] = int(min(k - 1, max(0, np.searchsorted(breaks[1:-1], value, side="right"))))
    counts = [sum(1 for v in of.values() if v == c) for c in range(k)]
    hatches: list[str | None] = [None] * k
    for code, label, colour, hatch in ((-2, "Secret statistique", SECRET_COLOUR, "////"),
                                       (-1, "Pas de données", NO_DATA_COLOUR, "....")):
        n = sum(1 for v in of.values() if v == code)
        if n:
            labels.append(label)
            colours.append(colour)
            hatches.append(hatch)
            counts.append(n)
            position = len(labels) - 1
            of = {key: (position if v == code else v) for key, v in of.items()}
    return Classes(labels, colours, counts, of, hatches)


def _breaks(known: pd.Series, bins) -> list[float]:
    if bins is not None:
        return [float(b) for b in bins]
    if known.empty:
        return [0.0, 1.0]
    distinct = np.unique(known)
    if len(distinct) <= N_CLASSES:
        edges = list(distinct) + [distinct[-1]]
        return [float(e) for e in edges] if len(distinct) > 1 else [float(distinct[0]), float(distinct[0])]
    quantiles = np.quantile(known, np.linspace(0, 1, N_CLASSES + 1))
    edges = [float(quantiles[0])] + [_round(q) for q in quantiles[1:-1]] + [float(quantiles[-1])]
    out = [edges[0]]
    for e in edges[1:]:
        if e > out[-1]:
            out.append(e)
    return out if len(out) > 1 else [edges[0], edges[-1]]


def _round(value: float) -> float:
    """Two significant digits: class breaks a reader can quote."""
    if value == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return round(value, digits)


def _decimals(values) -> int:
    if len(values) and np.allclose(values, np.round(values)):  # counts: 1, not 1,00
        return 0
    span = float(np.nanmax(values) - np.nanmin(values)) if len(values) else 0
    return 0 if span >= 20 else (1 if span >= 2 else 2)


def _interval(low: float, high: float, first: bool, values: pd.Series) -> str:
    d = _decimals(values.dropna().to_numpy()) if values.notna().any() else 0
    if low == high:
        return nombre(low, d)
    return f"{'de ' if first else 'plus de '}{nombre(low, d)} à {nombre(high, d)}"


def _palette(name: str, k: int) -> list[str]:
    table = BREWER.get(name, BREWER["YlGnBu"])
    if k in table:
        return list(table[k])
    if k < 3:
        return {0: [], 1: [table[3][1]], 2: [table[3][0], table[3][2]]}[k]
    cmap = matplotlib.colormaps["viridis_r"]
    return [matplotlib.colors.to_hex(cmap(i / max(1, k - 1))) for i in range(k)]


# -- geometry -----------------------------------------------------------------------------------------

def _crs(departement: str | None) -> str:
    return METRIC_CRS[zone_of(departement or "")]


def _features(geojson: dict, crs: str) -> gpd.GeoSeries:
    ids = [str(f["id"]) for f in geojson["features"]]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in geojson["features"]]
    return gpd.GeoSeries(geoms, index=ids, crs=WGS84).to_crs(crs)


def _from_wkb(values, index, crs: str) -> gpd.GeoSeries:
    geoms = [None if v is None else shapely.from_wkb(bytes(v)) for v in values]
    return gpd.GeoSeries(geoms, index=list(index), crs=WGS84).to_crs(crs)


def _nice_length(metres: float) -> float:
    """Largest 1, 2, 5 × 10^k not above `metres`."""
    exponent = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * exponent <= metres:
            return step * exponent
    return exponent


def convergence_deg(crs: str, lon: float, lat: float) -> float:
    """Angle between grid north and true north at (lon, lat) (Lambert-93: up to ~4° in Brittany)."""
    from pyproj import CRS, Proj
    return float(Proj(CRS(crs)).get_factors(lon, lat).meridian_convergence)


# -- layout -------------------------------------------------------------------------------------------

def wrap(text: str, width_in: float, size_pt: float) -> list[str]:
    """Lines of `text` at word boundaries for a box `width_in` wide (DejaVu Sans ≈ 0.55 em/char)."""
    chars = max(10, int(width_in * 72 / (size_pt * 0.58)))
    return textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=False)


SIMULATED_WARNING = "DONNÉES SIMULÉES — méthode réelle, valeurs non réelles"


def header_lines(meta: ExportMeta) -> tuple[str, str]:
    """(subtitle, footer) texts shared by print maps and charts: territory, millésime and filters
    above; sources, the simulated warning and the date below."""
    subtitle = meta.territory + "".join(f" · {k} : {v}" for k, v in meta.filters)
    parts = ["Sources : " + " ; ".join(meta.sources)]
    if meta.simulated:
        parts.append(SIMULATED_WARNING)
    parts.append(f"Observatoire territorial, export du {meta.exported_on:%d/%m/%Y}")
    return subtitle, " · ".join(parts)


def footer_blocks(meta: ExportMeta, width_in: float, size: float) -> list[tuple[str, bool]]:
    """Footer lines (text, is_warning): the simulated warning on its own line(s), in red."""
    sources = "Sources : " + " ; ".join(meta.sources) + f" · Observatoire territorial, export du " \
        f"{meta.exported_on:%d/%m/%Y}"
    lines = [(line, False) for line in wrap(sources, width_in, size)]
    if meta.simulated:
        lines = [(line, True) for line in wrap(SIMULATED_WARNING, width_in, size)] + lines
    return lines


#: Natures of EPCI shortened on the map, as departmental schemas write them.
NATURE_ABBREVIATIONS = (("Communauté de communes", "CC"), ("Communauté d'agglomération", "CA"),
                        ("Communauté urbaine", "CU"), ("Métropole", "Métropole"))


def short_name(name: str) -> str:
    for long, short in NATURE_ABBREVIATIONS:
        if name.startswith(long + " ") and long != short:
            return short + name[len(long):]
    return name


@dataclass
class Drawn:
    """Where things landed (figure inches), for tests and the fiche's own layout."""
    map_box: tuple[float, float, float, float]
    territory_box: tuple[float, float, float, float]
    labels: list[str]
    keyed: list[str]


def figure(spec: PrintMap, meta: ExportMeta | None, db=None, width_in: float = WIDTH_IN,
           max_map_height_in: float = 7.6):
    """The matplotlib figure of a print map (with its header/footer block when `meta` is given)."""
    plt.rcParams.update({"font.family": FONT, "svg.fonttype": "none", "pdf.fonttype": 42,
                         "hatch.linewidth": 0.5, "hatch.color": "#555555"})
    if spec.departement is None and db is not None:  # e.g. an EPCI frame without its département
        spec = dataclasses.replace(spec, departement=territoires.main_departement(
            db, spec.level, spec.frame[spec.key].astype(str).tolist()))
    crs = _crs(spec.departement)
    every = _features(spec.geojson, crs)
    # features the frame does not describe (e.g. an EPCI filtered out by nature) are surroundings,
    # as on the screen map, which leaves them out
    listed = set(spec.frame[spec.key].astype(str))
    shapes_, unlisted = every[every.index.isin(listed)], every[~every.index.isin(listed)]
    if shapes_.empty:
        shapes_, unlisted = every, every.iloc[:0]
    classes = classify(spec)
    context = _context(db, spec.departement, crs)
    minx, miny, maxx, maxy = shapes_.total_bounds
    dx, dy = maxx - minx, maxy - miny
    margin = 0.03 * max(dx, dy)
    minx, maxx, miny, maxy = minx - margin, maxx + margin, miny - margin, maxy + margin
    dx, dy = maxx - minx, maxy - miny

    pad, legend_w, gap = 0.3, 2.25, 0.15
    map_w = width_in - 2 * pad - legend_w - gap
    map_h = min(max_map_height_in, max(3.0, map_w * dy / dx))
    if map_h == max_map_height_in:  # tall territory: narrow the frame rather than leave it empty
        map_w = min(map_w, map_h * dx / dy)
    title_lines = subtitle_lines = footer_lines = []
    if meta is not None:
        subtitle, footer = header_lines(meta)
        title_lines = wrap(meta.title, width_in - 2 * pad, 13)
        subtitle_lines = wrap(subtitle, width_in - 2 * pad, 8.5)
        footer_lines = footer_blocks(meta, width_in - 2 * pad, 6.5)
    header_h = (0.25 + 0.24 * len(title_lines) + 0.17 * len(subtitle_lines) + 0.1) if meta else 0.1
    footer_h = (0.15 + 0.13 * len(footer_lines) + 0.1) if meta else 0.1
    height_in = header_h + map_h + footer_h
    fig = plt.figure(figsize=(width_in, height_in), dpi=DPI)
    fig.patch.set_facecolor("white")
    y = height_in - 0.25
    for line in title_lines:
        fig.text(pad / width_in, y / height_in, line, fontsize=13, fontweight="bold", va="top", color="#1a1a1a")
        y -= 0.24
    for line in subtitle_lines:
        fig.text(pad / width_in, y / height_in, line, fontsize=8.5, va="top", color="#333333")
        y -= 0.17
    y = footer_h - 0.15
    for line, warning in footer_lines:
        fig.text(pad / width_in, y / height_in, line, fontsize=6.5, va="top", gid="footer",
                 color="#b00020" if warning else "#444444", fontweight="bold" if warning else "normal")
        y -= 0.13

    box = (pad, footer_h, map_w, map_h)
    ax = fig.add_axes([box[0] / width_in, box[1] / height_in, box[2] / width_in, box[3] / height_in])
    ax.set_gid("carte")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor="white", edgecolor="#bbbbbb",
                           linewidth=0.6, zorder=0, gid="cadre"))
    frame_box = shapely.box(minx - dx, miny - dy, maxx + dx, maxy + dy)
    if context is not None:
        others = context["departements"]
        others = others[others.intersects(frame_box)]
        if len(others):
            others.plot(ax=ax, color=NEIGHBOUR_FILL, edgecolor="#bdbdbd", linewidth=0.6, zorder=1)
        towns = context["communes"]
        if spec.level == "communes":
            around = towns[~towns.index.isin(shapes_.index) & towns.intersects(frame_box)]
            if len(around):
                around.plot(ax=ax, color=NEIGHBOUR_FILL, edgecolor=NEIGHBOUR_EDGE, linewidth=0.3, zorder=1)
    if len(unlisted):
        unlisted.plot(ax=ax, color=NEIGHBOUR_FILL, edgecolor="#bdbdbd", linewidth=0.5, zorder=1)
    colours = [classes.colours[classes.of_feature.get(i, -1)] if classes.of_feature.get(i, -1) >= 0
               else NO_DATA_COLOUR for i in shapes_.index]
    hatches = [classes.hatches[classes.of_feature[i]] if classes.of_feature.get(i, -1) >= 0 else "...."
               for i in shapes_.index]
    mapped = gpd.GeoDataFrame({"colour": colours, "hatch": hatches}, geometry=shapes_.values,
                              index=shapes_.index, crs=crs)
    edge = 0.35 if spec.level == "communes" else 0.6
    for hatch, part in mapped.groupby(mapped["hatch"].fillna(""), sort=False):
        part.plot(ax=ax, color=part["colour"].tolist(), edgecolor="#4a4a4a", linewidth=edge,
                  hatch=hatch or None, zorder=2, gid="territoire")
    outline = context["outline"] if context is not None else None
    if context is not None and spec.level == "communes" and len(context["communes"]):
        # at commune scale the département's own simplified contour (1.5 km) would cut through
        # communes: its outline is the union of its communes' (150 m) contours instead
        outline = shapely.union_all(list(context["communes"].geometry.dropna().values))
    if outline is not None:
        gpd.GeoSeries([outline], crs=crs).boundary.plot(ax=ax, color="#222222", linewidth=1.3,
                                                                    zorder=4, gid="departement")
    if spec.highlight and spec.highlight in shapes_.index:
        gpd.GeoSeries([shapes_[spec.highlight]], crs=crs).boundary.plot(ax=ax, color="#0072B2", linewidth=2.2,
                                                                         zorder=5)
    if spec.points is not None and len(spec.points):
        pts = gpd.GeoSeries(gpd.points_from_xy(spec.points["longitude"], spec.points["latitude"]),
                            crs=WGS84).to_crs(crs)
        ax.scatter(pts.x, pts.y, s=14, color="#D55E00", edgecolor="white", linewidth=0.5, zorder=5)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    furniture = _scale_bar(ax, x0, x1, y0, y1) + _north_arrow(ax, crs, shapes_, x0, x1, y0, y1)
    fig.canvas.draw()  # text extents are known from here on (label placement)
    renderer = fig.canvas.get_renderer()
    reserved = [a.get_window_extent(renderer).expanded(1.1, 1.3) for a in furniture]
    names = dict(zip(spec.frame[spec.key].astype(str), spec.frame[spec.name].astype(str))) if spec.name \
        and spec.name in spec.frame else {}
    if spec.level == "communes":
        labels, keyed = _commune_labels(ax, renderer, spec, shapes_, names, context, reserved), []
    else:
        labels, keyed = _epci_labels(ax, renderer, shapes_, names, reserved)
    if context is not None:
        _neighbour_names(ax, renderer, context, shapes_, (x0, y0, x1, y1))

    legend_box = (pad + map_w + gap, footer_h, width_in - 2 * pad - map_w - gap, map_h)
    lax = fig.add_axes([legend_box[0] / width_in, legend_box[1] / height_in, legend_box[2] / width_in,
                        legend_box[3] / height_in])
    lax.set_axis_off()
    lax.set_xlim(0, legend_box[2])
    lax.set_ylim(0, legend_box[3])
    _legend(lax, spec, classes, legend_box, keyed, context is not None, spec.points is not None)

    bounds = shapes_.total_bounds
    to_in = ax.transData + fig.dpi_scale_trans.inverted()
    (tx0, ty0), (tx1, ty1) = to_in.transform([(bounds[0], bounds[1]), (bounds[2], bounds[3])])
    (ax0, ay0), (ax1, ay1) = (ax.transAxes + fig.dpi_scale_trans.inverted()).transform([(0, 0), (1, 1)])
    fig._drawn = Drawn((ax0, ay0, ax1, ay1), (tx0, ty0, tx1, ty1), labels, keyed)
    return fig


def _context(db, departement: str | None, crs: str):
    if db is None or not departement:
        return None
    raw = territoires.print_context(db, departement)
    deps = raw["departements"]
    towns = raw["communes"]
    outline = None
    if raw["outline"] is not None:
        outline = gpd.GeoSeries([shapely.from_wkb(bytes(raw["outline"]))], crs=WGS84).to_crs(crs).iloc[0]
    return {
        "outline": outline,
        "chef_lieu": raw["chef_lieu"],
        "departements": gpd.GeoDataFrame(
            deps[["code", "nom"]].set_index("code"),
            geometry=_from_wkb(deps["geometry_simple"], deps["code"], crs).values, crs=crs).dropna(),
        "communes": gpd.GeoDataFrame(
            towns[["code_insee", "nom", "population"]].set_index("code_insee"),
            geometry=_from_wkb(towns["geometry_simple"], towns["code_insee"], crs).values, crs=crs),
    }


def _scale_bar(ax, x0, x1, y0, y1) -> list:
    """A two-segment scale bar in the lower left corner (a metric projection: lengths are true)."""
    length = _nice_length((x1 - x0) / 5)
    left, base = x0 + 0.03 * (x1 - x0), y0 + 0.035 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    half = length / 2
    km = length / 1000
    return [
        ax.add_patch(Rectangle((left, base), half, h, facecolor="#222222", edgecolor="#222222", lw=0.5, zorder=6)),
        ax.add_patch(Rectangle((left + half, base), half, h, facecolor="white", edgecolor="#222222", lw=0.5,
                               zorder=6)),
        ax.text(left + length, base + 2.2 * h, f"{nombre(km, 0 if km >= 1 else 1)} km", ha="center",
                va="bottom", fontsize=6.5, zorder=6, bbox=_halo()),
        ax.text(left, base + 2.2 * h, "0", ha="center", va="bottom", fontsize=6.5, zorder=6, bbox=_halo()),
    ]


def _north_arrow(ax, crs, shapes_, x0, x1, y0, y1) -> list:
    """Grid north differs from true north in a conic projection: the arrow points to true north."""
    centre = gpd.GeoSeries([shapely.box(*shapes_.total_bounds).centroid], crs=crs).to_crs(WGS84).iloc[0]
    angle = math.radians(convergence_deg(crs, centre.x, centre.y))
    cx, cy = x1 - 0.05 * (x1 - x0), y1 - 0.11 * (y1 - y0)
    length = 0.06 * (y1 - y0)
    dxn, dyn = -math.sin(angle) * length, math.cos(angle) * length
    arrow = ax.annotate("", xy=(cx + dxn, cy + dyn), xytext=(cx, cy), zorder=6,
                        arrowprops={"arrowstyle": "-|>", "color": "#222222", "lw": 1.0})
    north = ax.text(cx + dxn * 1.25, cy + dyn * 1.25, "N", ha="center", va="bottom", fontsize=8,
                    fontweight="bold", zorder=6, bbox=_halo())
    return [arrow, north]


def _free(box, placed, axbox) -> bool:
    if box.x0 < axbox.x0 or box.x1 > axbox.x1 or box.y0 < axbox.y0 or box.y1 > axbox.y1:
        return False
    return not any(box.overlaps(other) for other in placed)


def _halo() -> dict:
    """A light box behind names: path-effect halos would turn SVG/PDF text into outlines."""
    return {"boxstyle": "round,pad=0.12", "facecolor": "white", "alpha": 0.72, "edgecolor": "none"}


def _inner_points(shape, around, n: int = 6) -> list:
    """Other spots inside `shape` for a name, nearest to its representative point first."""
    x0, y0, x1, y1 = shape.bounds
    grid = [shapely.Point(x0 + (x1 - x0) * i / 6, y0 + (y1 - y0) * j / 6) for i in range(1, 6) for j in range(1, 6)]
    inside = [p for p in grid if shape.contains(p)]
    return sorted(inside, key=around.distance)[:n]


def _epci_labels(ax, renderer, shapes_, names, reserved=()) -> tuple[list[str], list[str]]:
    """Every EPCI is named: on the map where the name fits without overlap, otherwise by a number
    on the map and the full name in the legend's key."""
    placed, labels, keyed = list(reserved), [], []
    axbox = ax.get_window_extent(renderer)
    order = shapes_.area.sort_values(ascending=False).index
    for code in order:
        name = short_name(names.get(code, code))
        shape = shapes_[code]
        point = shape.representative_point()
        done = False
        for size, width in ((6.5, 16), (5.6, 14), (5.0, 12)):
            text = "\n".join(textwrap.wrap(name, width, break_long_words=False, break_on_hyphens=False))
            for spot in [point, *_inner_points(shape, point)]:
                artist = ax.text(spot.x, spot.y, text, ha="center", va="center", fontsize=size,
                                 color="#111111", zorder=7, linespacing=1.0, bbox=_halo())
                box = artist.get_window_extent(renderer).expanded(1.04, 1.1)
                if _free(box, placed, axbox):
                    placed.append(box)
                    labels.append(name)
                    done = True
                    break
                artist.remove()
            if done:
                break
        if not done:
            keyed.append(name)
            artist = ax.text(point.x, point.y, str(len(keyed)), ha="center", va="center", fontsize=6,
                             fontweight="bold", zorder=8, bbox=_halo())
            placed.append(artist.get_window_extent(renderer))
    return labels, keyed


def _neighbour_names(ax, renderer, context, shapes_, frame) -> None:
    """Names of the neighbouring départements, in grey italics, where their visible part is empty
    of the mapped territory and of other names."""
    x0, y0, x1, y1 = frame
    inner = shapely.box(x0 + 0.02 * (x1 - x0), y0 + 0.1 * (y1 - y0), x1 - 0.02 * (x1 - x0), y1 - 0.1 * (y1 - y0))
    mapped = shapely.union_all(list(shapes_.values))
    axbox = ax.get_window_extent(renderer)
    placed = [t.get_window_extent(renderer) for t in ax.texts]
    for _code, row in context["departements"].iterrows():
        visible = row.geometry.intersection(inner).difference(mapped)
        if visible.is_empty or visible.area < 0.02 * inner.area:
            continue
        point = visible.representative_point()
        artist = ax.text(point.x, point.y, f"{row['nom']}", ha="center", va="center", fontsize=7.5,
                         style="italic", color="#6f6f6f", zorder=3)
        box = artist.get_window_extent(renderer)
        if _free(box, placed, axbox):
            placed.append(box)
        else:
            artist.remove()


def _commune_labels(ax, renderer, spec, shapes_, names, context, reserved=()) -> list[str]:
    """The chef-lieu of the département (when on the map) and the most populated communes, each
    dropped when it would overlap a name already placed."""
    populations = {}
    if "population" in spec.frame:
        populations = dict(zip(spec.frame[spec.key].astype(str), pd.to_numeric(spec.frame["population"],
                                                                               errors="coerce")))
    elif context is not None:
        populations = context["communes"]["population"].to_dict()
    ranked = sorted(shapes_.index, key=lambda c: -(populations.get(c) or 0))
    chef = context["chef_lieu"] if context is not None else None
    candidates = ([chef] if chef in shapes_.index else []) + [c for c in ranked if c != chef]
    placed, labels = list(reserved), []
    axbox = ax.get_window_extent(renderer)
    for code in candidates[: N_COMMUNE_LABELS * 2]:
        if len(labels) >= N_COMMUNE_LABELS:
            break
        point = shapes_[code].representative_point()
        is_chef = code == chef
        artist = ax.text(point.x, point.y, "  " + names.get(code, code), ha="left", va="center",
                         fontsize=7 if is_chef else 6, fontweight="bold" if is_chef else "normal",
                         zorder=7, bbox=_halo())
        box = artist.get_window_extent(renderer)
        if _free(box, placed, axbox):
            ax.scatter([point.x], [point.y], s=10 if is_chef else 5, color="#111111", zorder=7,
                             marker="s" if is_chef else "o")
            placed.append(box)
            labels.append(names.get(code, code))
        else:
            artist.remove()
    return labels


def _legend(lax, spec: PrintMap, classes: Classes, box, keyed, context: bool, points: bool) -> None:
    width, height = box[2], box[3]
    y = height - 0.05
    for line in wrap(spec.label + (f" ({spec.unit})" if spec.unit else ""), width, 8):
        lax.text(0, y, line, fontsize=8, fontweight="bold", va="top")
        y -= 0.16
    singular, plural = spec.unit_names
    y -= 0.06
    for label, colour, count, hatch in zip(classes.labels, classes.colours, classes.counts, classes.hatches):
        if hatch and not count:  # an empty « secret » or « pas de données » entry says nothing
            continue
        lax.add_patch(Rectangle((0, y - 0.13), 0.28, 0.13, facecolor=colour, edgecolor="#4a4a4a", lw=0.5,
                                hatch=hatch))
        text = f"{label} ({nombre(count)} {singular if count == 1 else plural})"
        lines = wrap(text, width - 0.38, 6.8)
        for i, line in enumerate(lines):
            lax.text(0.36, y - 0.065 - 0.13 * i, line, fontsize=6.8, va="center")
        y -= 0.2 + 0.13 * (len(lines) - 1)
    y -= 0.05
    if context:
        lax.add_patch(Rectangle((0, y - 0.13), 0.28, 0.13, facecolor=NEIGHBOUR_FILL, edgecolor="#bdbdbd", lw=0.5))
        lax.text(0.36, y - 0.065, "Territoires voisins", fontsize=6.8, va="center")
        y -= 0.2
        lax.plot([0, 0.28], [y - 0.065, y - 0.065], color="#222222", lw=1.3)
        lax.text(0.36, y - 0.065, "Limite du département", fontsize=6.8, va="center")
        y -= 0.2
    if points:
        lax.scatter([0.14], [y - 0.065], s=14, color="#D55E00", edgecolor="white", linewidth=0.5)
        lax.text(0.36, y - 0.065, spec.points_label or "Points", fontsize=6.8, va="center")
        y -= 0.2
    if spec.level == "epci":
        for line in wrap("CC : communauté de communes ; CA : communauté d'agglomération ; "
                         "CU : communauté urbaine", width, 6):
            lax.text(0, y, line, fontsize=6, va="top", color="#444444")
            y -= 0.11
        y -= 0.04
    if keyed:
        y -= 0.05
        lax.text(0, y, "Numéros sur la carte", fontsize=7, fontweight="bold", va="top")
        y -= 0.15
        size = 6 if len(keyed) < 15 else 5.2
        for i, name in enumerate(keyed, start=1):
            for j, line in enumerate(wrap(f"{i}. {name}", width, size)):
                lax.text(0.08 if j else 0, y, line, fontsize=size, va="top")
                y -= size / 72 * 1.25


def _metadata(meta: ExportMeta, fmt: str) -> dict:
    return {"png": {"Software": "Observatoire territorial"}, "svg": {"Creator": "Observatoire territorial"},
            "pdf": {"Title": meta.title, "Subject": _alt(meta), "Creator": "Observatoire territorial"}}[fmt]


def render_formats(spec: PrintMap, meta: ExportMeta, formats, db=None, **kwargs) -> dict[str, bytes]:
    """The print map drawn once and saved in each format: PNG (2480 px wide, 300 dpi), SVG, PDF."""
    with _lock:
        fig = figure(spec, meta, db, **kwargs)
        try:
            out = {}
            for fmt in formats:
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, dpi=DPI, metadata=_metadata(meta, fmt), facecolor="white")
                data = buffer.getvalue()
                # a bare <svg> root (no XML prolog/DOCTYPE), as the chart exports: pastes into any editor
                out[fmt] = data[data.index(b"<svg"):] if fmt == "svg" else data
            return out
        finally:
            plt.close(fig)


def render(spec: PrintMap, meta: ExportMeta, fmt: str, db=None, **kwargs) -> bytes:
    """The print map in one format."""
    return render_formats(spec, meta, (fmt,), db, **kwargs)[fmt]


def png_for_fiche(spec: PrintMap, db, width_in: float, max_height_in: float) -> tuple[bytes, float]:
    """(PNG, height/width) of the map alone with its legend, for the fiche territoire."""
    with _lock:
        fig = figure(spec, None, db, width_in=width_in, max_map_height_in=max_height_in)
        try:
            out = io.BytesIO()
            fig.savefig(out, format="png", dpi=200, facecolor="white")
            w, h = fig.get_size_inches()
            return out.getvalue(), h / w
        finally:
            plt.close(fig)


def _alt(meta: ExportMeta) -> str:
    subtitle, footer = header_lines(meta)
    return f"{meta.title} — {subtitle}. {footer}"
