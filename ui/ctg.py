"""CTG coverage page: cached reads (keyed by the build version), shared views, URL state, figures.

A run of the page used to cost about a second of CPU: five plotly figures (a choropleth map with the
département's contours copied once per legend class, its print version, the trajectory, the Gantt
chart) and the coverage method called again and again, on every filter change of every user. The
views below are built once per (database version, territory, date, filters) for the whole server
with `st.cache_resource` (one shared copy, not one unpickled per hit as `st.cache_data` would
give), with bounded entries so memory is bounded. Pages only read them: `st.plotly_chart` and the
deferred exports copy the figures, and no page writes into a view's frames (they derive new ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from common.format import PLOTLY_SEPARATORS, nombre, pourcentage
from common.format import date as fdate
from etl import inputs
from export.maps import print_choropleth
from methods import ctg as method
from query import ctg as q
from ui import data
from ui.figures import shares_figures
from ui.maps import geojson_bounds

#: The slider starts when CTG replaced CEJ (« à partir de 2017 », l.1053) and runs past the end of
#: the 4-year conventions so that expiries show.
SLIDER_START = dt.date(2017, 1, 31)
SLIDER_END = dt.date(2025, 12, 31)
#: Default date: the report's reference date (« au 31 décembre 2020 », l.2561, l.4552).
DEFAULT_DATE = dt.date(2020, 12, 31)
DEFAULT_INSTRUMENTS = ("CTG",)


# -- cached reads ---------------------------------------------------------------------------------

@st.cache_data(show_spinner=False)
def conventions(version: str, departement: str | None) -> pd.DataFrame:
    return q.conventions(data.database(), departement)


@st.cache_data(show_spinner=False)
def perimetre(version: str, departement: str | None) -> pd.DataFrame:
    return q.perimetre(data.database(), departement)


@st.cache_data(show_spinner=False)
def programmes(version: str, departement: str | None) -> pd.DataFrame:
    return q.programmes(data.database(), departement)


@st.cache_data(show_spinner=False)
def communes(version: str, departement: str | None) -> pd.DataFrame:
    return q.communes_population(data.database(), departement)


@st.cache_data(show_spinner=False)
def chiffres(version: str) -> pd.DataFrame:
    return q.chiffres_cites(data.database())


@st.cache_data(show_spinner=False)
def priorites(version: str, departement: str) -> pd.DataFrame:
    return q.priorites(data.database(), departement)


@st.cache_data(show_spinner=False)
def fragilite(version: str, departement: str) -> pd.DataFrame | None:
    return q.fragilite_epci(data.database(), departement)


@st.cache_data(show_spinner=False)
def chevauchements(version: str, departement: str) -> pd.DataFrame:
    return q.chevauchements(data.database(), departement)


@st.cache_data(show_spinner=False)
def restriction(version: str) -> str:
    return q.build_restriction(data.database())


@st.cache_data(show_spinner=False)
def curve(version: str, departement: str, instruments: tuple[str, ...], statuts: tuple[str, ...],
          start: dt.date, end: dt.date) -> pd.DataFrame:
    return method.compute_coverage_curve(
        communes(version, departement), conventions(version, departement), perimetre(version, departement),
        method.month_ends(start, end), instruments, "departement", statuts)


#: Territory column of `communes` for each level of `coverage_levels`.
_LEVEL_COLUMNS = {"epci": "siren_epci", "departement": "code_departement", "region": "code_region"}


@st.cache_resource(show_spinner=False, max_entries=2048)
def level_coverage(version: str, level: str, code: str | None, date: dt.date, instruments: tuple[str, ...],
                   statuts: tuple[str, ...]) -> pd.Series:
    """Coverage of one territory at a date (`level` "france": the whole base). Cached per territory,
    not per page view: the région and France rows, the costliest (every commune of the base), are
    computed once per date and filters for all the départements and EPCI that show them."""
    every = communes(version, None)
    subset = every if level == "france" else every.loc[every[_LEVEL_COLUMNS[level]] == code]
    frame = method.compute_coverage(subset, conventions(version, None), perimetre(version, None), date,
                                    instruments, level, statuts)
    return frame.iloc[0]


@st.cache_data(show_spinner=False)
def _territory_names(version: str) -> tuple[dict, dict]:
    from query import territoires
    return (territoires.departements(data.database()).set_index("code")["nom"].to_dict(),
            territoires.regions(data.database()).set_index("code")["nom"].to_dict())


@st.cache_data(show_spinner=False)
def coverage_levels(version: str, departement: str, epci: str | None, date: dt.date,
                    instruments: tuple[str, ...], statuts: tuple[str, ...]) -> pd.DataFrame:
    """Coverage of the EPCI (if chosen), the département, its région and the whole base."""
    every = communes(version, None)
    region = every.loc[every["code_departement"] == departement, "code_region"].iloc[0]
    dep_names, region_names = _territory_names(version)
    rows = []
    if epci:
        rows.append(("EPCI", every.loc[every["siren_epci"] == epci, "nom_epci"].iloc[0],
                     level_coverage(version, "epci", epci, date, instruments, statuts)))
    rows.append(("Département", dep_names.get(departement),
                 level_coverage(version, "departement", departement, date, instruments, statuts)))
    rows.append(("Région", region_names.get(region),
                 level_coverage(version, "region", region, date, instruments, statuts)))
    rows.append(("France", None, level_coverage(version, "france", None, date, instruments, statuts)))
    return pd.DataFrame([{"niveau": label, "code": r["code"], "territoire": name, "population": r["population"],
                          "population_couverte": r["population_couverte"], "taux": r["taux"],
                          "nb_communes": r["nb_communes"], "nb_communes_couvertes": r["nb_communes_couvertes"]}
                         for label, name, r in rows])


def template_csv() -> bytes:
    return inputs.ctg_template_csv()


def template_xlsx() -> bytes:
    return inputs.ctg_template_xlsx()


# -- shared views (one copy per server, never mutated by the page) -----------------------------

#: Bounds of the shared views: per département (≤ 101), per département and date (small frames and
#: figures), and maps, which carry contours (a département's communes: about 1 MB each in memory).
MAX_DEPARTEMENTS, MAX_VIEWS, MAX_MAPS = 128, 512, 64


@dataclass(frozen=True)
class Basis:
    """What the page needs of a département whatever the date and filters."""
    conventions: pd.DataFrame
    perimetre: pd.DataFrame
    communes: pd.DataFrame
    quoted: pd.DataFrame
    options: tuple[dt.date, ...]
    sources_used: str
    gaps: pd.DataFrame  # published vs computed rates (the CTG method, at each published date)
    gaps_table: pd.DataFrame  # the same, formatted for the table
    restriction: str
    fragilite: pd.DataFrame | None
    has_score: bool
    priorites: pd.DataFrame
    overlaps: pd.DataFrame
    epci_names: pd.DataFrame  # siren, nom of the EPCI touching the département


@st.cache_resource(show_spinner=False, max_entries=MAX_DEPARTEMENTS)
def basis(version: str, departement: str) -> Basis:
    conv, per = conventions(version, departement), perimetre(version, departement)
    towns, quoted = communes(version, departement), chiffres(version)
    gaps = method.reported_vs_computed(quoted, towns, conv, per, departement)
    if len(gaps):
        gaps_table = gaps.assign(
            date_reference=gaps["date_reference"].map(fdate),
            taux_publie=gaps["taux_publie"].map(lambda v: pourcentage(v, 2)),
            taux_calcule=gaps["taux_calcule"].map(pourcentage),
            ecart_points=gaps["ecart_points"].map(lambda v: nombre(v, 1)),
            taux_calcule_variante=gaps["taux_calcule_variante"].map(lambda v: "" if pd.isna(v) else pourcentage(v)))
    else:
        gaps_table = gaps
    score = fragilite(version, departement)
    return Basis(
        conventions=conv, perimetre=per, communes=towns, quoted=quoted, options=tuple(slider_options(conv)),
        sources_used=", ".join(dict.fromkeys(conv["source_nom"].dropna())) or "registre vide",
        gaps=gaps, gaps_table=gaps_table, restriction=restriction(version), fragilite=score,
        has_score=score is not None and bool(score["score_moyen"].notna().any()),
        priorites=priorites(version, departement), overlaps=chevauchements(version, departement),
        epci_names=towns[["siren_epci", "nom_epci"]].drop_duplicates().rename(
            columns={"siren_epci": "siren", "nom_epci": "nom"}))


@dataclass(frozen=True)
class Status:
    """Key figures at a date: coverage by level, conventions in force, last published rate."""
    levels: pd.DataFrame
    levels_table: pd.DataFrame
    departement: pd.Series  # the département's row of `levels`
    n_active: int
    published: pd.Series | None  # last rate published (« réalisé ») up to the date
    gap: pd.Series | None  # last published-vs-computed comparison up to the date


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
def status(version: str, departement: str, epci: str | None, date: dt.date, instruments: tuple[str, ...],
           statuts: tuple[str, ...]) -> Status:
    b = basis(version, departement)
    levels = coverage_levels(version, departement, epci, date, instruments, statuts)
    conv, quoted, gaps = b.conventions, b.quoted, b.gaps
    active = method.active_mask(conv, date, instruments, statuts) & conv["code_departement"].eq(departement)
    published = quoted.loc[(quoted["code_territoire"] == departement) & (quoted["serie"] == "taux_couverture")
                           & (quoted["nature"] == "réalisé")
                           & (pd.to_datetime(quoted["date_reference"]) <= pd.Timestamp(date))]
    relevant = gaps.loc[pd.to_datetime(gaps["date_reference"]) <= pd.Timestamp(date)] if len(gaps) else gaps
    table = levels.assign(territoire=levels["territoire"].fillna("France" if not b.restriction else "Base"),
                          taux=levels["taux"].map(pourcentage), population=levels["population"].map(nombre),
                          population_couverte=levels["population_couverte"].map(nombre))
    return Status(levels, table, levels.loc[levels["niveau"] == "Département"].iloc[0], int(active.sum()),
                  published.iloc[-1] if len(published) else None, relevant.iloc[-1] if len(relevant) else None)


@dataclass(frozen=True)
class CoverageMap:
    """The map of one date and filters; `print_figure()` builds the print version on demand."""
    frame: pd.DataFrame
    geojson: dict
    key: str
    colour: str
    colours: dict[str, str]
    legend: str
    figure: go.Figure

    def print_figure(self) -> go.Figure:
        return print_choropleth(self.frame, self.geojson, self.key, self.colour, self.legend,
                                hover_name="nom", discrete=self.colours)


@st.cache_resource(show_spinner=False, max_entries=MAX_MAPS)
@shares_figures
def coverage_view(version: str, departement: str, date: dt.date, instruments: tuple[str, ...],
                  statuts: tuple[str, ...], level: str, colouring: str) -> CoverageMap:
    """Communes (or EPCI) by type of coverage or year of first signature. The instruments only
    matter at EPCI level (the rate shown on hover): pass `()` for communes to share the entry."""
    b = basis(version, departement)
    towns, conv, per = b.communes, b.conventions, b.perimetre
    classes = method.classify_communes(towns, conv, per, date, statuts)
    if level == "Communes":
        frame = towns.merge(classes, on="code_insee")
        key, geo_level = "code_insee", "communes"
    else:
        label_instr = ", ".join(method.SHORT_LABELS[i] for i in instruments)
        frame = method.classify_epci(towns, classes).rename(columns={"siren_epci": "siren"})
        epci_cov = method.compute_coverage(towns, conv, per, date, instruments, "epci", statuts)
        frame = frame.merge(epci_cov.rename(columns={"code": "siren"}), on="siren").merge(b.epci_names, on="siren")
        frame["conventions"] = frame["taux"].map(lambda t: f"{pourcentage(t)} couverts ({label_instr})")
        key, geo_level = "siren", "epci"
    frame["annee"] = frame["annee_signature"].map(lambda y: "Non couvert" if pd.isna(y) else str(int(y)))
    if colouring == "Type de couverture":
        colour, colours, legend = "categorie", method.CATEGORIES, "Couverture"
        if level == "Communes":
            colours = {k: v for k, v in colours.items() if k != "Couverture partielle"}
    else:
        years = sorted(y for y in frame["annee"].unique() if y != "Non couvert")
        colour, colours, legend = "annee", year_colours(years), "Année de 1re signature"
    geojson = data.geojson(version, geo_level, departement)
    figure = coverage_map(frame, geojson, key, colour, colours,
                          {key: False, "conventions": True, "categorie": True, "annee": True}, legend)
    return CoverageMap(frame, geojson, key, colour, dict(colours), legend, figure)


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
@shares_figures
def trajectory(version: str, departement: str, departement_nom: str, instruments: tuple[str, ...],
               statuts: tuple[str, ...], date: dt.date) -> go.Figure:
    """Monthly computed rate over the slider's span, published figures, a line at `date`."""
    b = basis(version, departement)
    computed = curve(version, departement, instruments, statuts, b.options[0], b.options[-1])
    quoted = b.quoted
    shown = quoted.loc[quoted["code_territoire"].isin([departement, "FR"]) & (quoted["serie"] == "taux_couverture")]
    if not any(i.startswith("charte_msa") for i in instruments):
        # Recommendation n° 21 (l.1923) is about CTG *and* MSA chartes: not drawn on a CTG-only curve.
        shown = shown.loc[shown["nature"] != "recommandation"]
    label_instr = ", ".join(method.SHORT_LABELS[i] for i in instruments)
    return curve_figure(computed, shown, date, departement_nom, label_instr)


@dataclass(frozen=True)
class Deadlines:
    figure: go.Figure
    soon: pd.DataFrame  # conventions ending within 12 months of the date


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
@shares_figures
def deadlines(version: str, departement: str, date: dt.date) -> Deadlines:
    b = basis(version, departement)
    conv = b.conventions
    own = conv.loc[conv["code_departement"] == departement]
    soon = conv.loc[(conv["code_departement"] == departement) & conv["statut"].isin(method.COUNTED_STATUTS)
                    & pd.to_datetime(conv["date_fin"]).between(pd.Timestamp(date),
                                                               pd.Timestamp(date) + pd.DateOffset(months=12))]
    columns = ["intitule", "instrument", "date_debut", "date_fin", "fin_par_defaut", "population"]
    return Deadlines(gantt_figure(own, date, b.options[-1]), soon[columns])


@dataclass(frozen=True)
class NextSteps:
    ranking: pd.DataFrame
    export: pd.DataFrame  # the ranking with rounded rates
    score_sources: tuple[str, ...]  # names of the fragility score's sources (none without a score)
    simulated: bool  # the fragility score is simulated


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
def next_steps(version: str, departement: str, date: dt.date, instruments: tuple[str, ...],
               statuts: tuple[str, ...], sort: str) -> NextSteps:
    """EPCI not fully covered at `date`, by uncovered population or fragility score."""
    b = basis(version, departement)
    epci_cov = method.compute_coverage(b.communes, b.conventions, b.perimetre, date, instruments, "epci", statuts)
    ranking = method.where_next(epci_cov, b.epci_names, b.fragilite if b.has_score else None, b.priorites,
                                "fragilite" if sort == "Score de fragilité" else "population")
    names = tuple(b.fragilite["source_nom"].dropna().unique()) if b.has_score else ()
    simulated = b.has_score and "simulated" in set(b.fragilite["source_nature"].dropna())
    return NextSteps(ranking, ranking.assign(taux=ranking["taux"].round(4)), names, simulated)


REGISTRY_COLUMNS = ["convention_id", "intitule", "instrument", "statut", "statut_au", "date_signature",
                    "precision_signature", "date_debut", "date_fin", "fin_par_defaut", "nb_communes", "population",
                    "signataires", "source_line", "reference", "notes", "source"]


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
def registry(version: str, departement: str, date: dt.date) -> pd.DataFrame:
    """The registry with each convention's status at `date`, labels in French."""
    conv = basis(version, departement).conventions
    return conv.assign(statut_au=method.status_at(conv, date), instrument=conv["instrument"].map(method.SHORT_LABELS),
                       statut=conv["statut"].map(method.STATUTS))[REGISTRY_COLUMNS]


# -- URL state ------------------------------------------------------------------------------------

def _parse_date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None


def sync_from_url(options: list[dt.date]) -> None:
    """Initialise the date and instruments from `?date=2020-12-31&instr=CTG,charte_msa_familles`
    (validated: an unknown value falls back to the default). A date is snapped to its month end."""
    raw = st.query_params.get("date")
    if "ctg_date" not in st.session_state or (raw is not None and raw != st.session_state.get("_ctg_date_url")):
        wanted = _parse_date(raw) or DEFAULT_DATE
        later = [o for o in options if o >= wanted]
        st.session_state["ctg_date"] = later[0] if later else options[-1]
        st.session_state["_ctg_date_url"] = raw
    raw_instr = st.query_params.get("instr")
    if "ctg_instr" not in st.session_state or (raw_instr is not None
                                               and raw_instr != st.session_state.get("_ctg_instr_url")):
        chosen = [i for i in (raw_instr or "").split(",") if i in method.INSTRUMENTS]
        st.session_state["ctg_instr"] = chosen or list(DEFAULT_INSTRUMENTS)
        st.session_state["_ctg_instr_url"] = raw_instr


def write_url(date: dt.date, instruments: list[str]) -> None:
    st.query_params["date"] = date.isoformat()
    st.query_params["instr"] = ",".join(instruments)
    st.session_state["_ctg_date_url"] = date.isoformat()
    st.session_state["_ctg_instr_url"] = ",".join(instruments)


def slider_options(conv: pd.DataFrame) -> list[dt.date]:
    counted = conv.loc[conv["statut"].isin(method.COUNTED_STATUTS) & conv["instrument"].ne("autre")]
    start = min([SLIDER_START, *pd.to_datetime(counted["date_debut"]).dropna().dt.date])
    end = max([SLIDER_END, *pd.to_datetime(counted["date_fin"]).dropna().dt.date])
    return [d.date() for d in method.month_ends(start, end)]


_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def month_label(value: dt.date) -> str:
    return f"{_MONTHS[value.month - 1]} {value.year}"


# -- figures --------------------------------------------------------------------------------------

def _map_view(geojson: dict) -> tuple[dict, float]:
    import math
    minx, miny, maxx, maxy = geojson_bounds(geojson)
    span = max(maxx - minx, (maxy - miny) * 1.4, 1e-3)
    return {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}, max(0.0, min(11.0, 9.2 - 1.44 * math.log2(span)))


def year_colours(years: list[str]) -> dict[str, str]:
    """Signature years on a colour-blind-safe sequential scale (older = darker), grey for none."""
    shades = px.colors.sample_colorscale("YlGnBu", [0.95 - 0.7 * i / max(1, len(years) - 1) for i in range(len(years))])
    return {**dict(zip(years, shades)), "Non couvert": method.CATEGORIES["Aucune"]}


def coverage_map(frame: pd.DataFrame, geojson: dict, key: str, colour: str, colours: dict[str, str],
                 hover: dict, label: str) -> go.Figure:
    center, zoom = _map_view(geojson)
    fig = px.choropleth_map(
        frame, locations=key, featureidkey="id", color=colour,
        color_discrete_map=colours, category_orders={colour: list(colours)}, hover_name="nom",
        hover_data=hover, labels={colour: label}, map_style="white-bg", opacity=0.9,
        center=center, zoom=zoom, height=600)
    # One trace per class, each given only its own features (px would give each the whole GeoJSON):
    # the same map for a fraction of the copies and bytes, on screen and on every rerun.
    by_id = {f["id"]: f for f in geojson["features"]}
    outline = {k: v for k, v in geojson.items() if k != "features"}
    for trace in fig.data:
        trace.geojson = {**outline, "features": [by_id[i] for i in trace.locations if i in by_id]}
    fig.update_traces(marker_line_width=0.5, marker_line_color="#4a4a4a")
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, separators=PLOTLY_SEPARATORS,
                      legend={"title": label, "yanchor": "top", "y": 0.99, "x": 0.01,
                              "bgcolor": "rgba(255,255,255,0.85)"})
    return fig


#: Marker per nature of a quoted figure.
_MARKERS = {"réalisé": ("circle", "Taux publié (réalisé)"), "objectif": ("diamond-open", "Objectif"),
            "projection": ("triangle-up-open", "Projection"),
            "recommandation": ("star-open", "Recommandation du rapport (CTG et chartes MSA)")}


def curve_figure(curve_frame: pd.DataFrame, quoted: pd.DataFrame, date: dt.date, departement_nom: str,
                 instruments_label: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=curve_frame["date"], y=curve_frame["taux"] * 100, mode="lines", line={"color": "#0072B2", "width": 3},
        name=f"Taux calculé sur le registre ({instruments_label})",
        hovertemplate="%{x|%d/%m/%Y} : %{y:.1f} %<extra>calculé</extra>"))
    palette = {"réalisé": "#D55E00", "objectif": "#009E73", "projection": "#CC79A7", "recommandation": "#56B4E9"}
    for nature, (symbol, label) in _MARKERS.items():
        rows = quoted.loc[quoted["nature"] == nature]
        if rows.empty:
            continue
        text = rows["territoire"] + " — " + rows["valeur_imprimee"] + " (" + rows["periode"] + ", l." \
            + rows["source_line"].astype(str) + ")"
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(rows["date_reference"]), y=rows["valeur"], mode="markers+text", name=label,
            marker={"symbol": symbol, "size": 13, "color": palette[nature], "line": {"width": 2}},
            text=rows["valeur_imprimee"], textposition="middle right", textfont={"size": 11},
            hovertext=text, hovertemplate="%{hovertext}<extra></extra>"))
    fig.add_vline(x=pd.Timestamp(date).timestamp() * 1000, line_dash="dot", line_color="#444",
                  annotation_text=f"au {fdate(date)}", annotation_position="top left")
    fig.update_layout(
        height=460, separators=PLOTLY_SEPARATORS, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis={"title": f"Population couverte — {departement_nom} (%)", "range": [0, 105], "ticksuffix": " %"},
        xaxis={"title": None}, legend={"orientation": "h", "y": -0.12}, hovermode="closest")
    return fig


_INSTRUMENT_COLOURS = {"CTG": "#0072B2", "charte_msa_familles": "#E69F00", "charte_msa_aines": "#D55E00",
                       "CEJ": "#F0E442", "autre": "#999999"}


def gantt_figure(conv: pd.DataFrame, date: dt.date, horizon: dt.date) -> go.Figure:
    """One bar per dated convention, from start to end; an unknown end runs to `horizon`, hatched."""
    frame = conv.loc[pd.to_datetime(conv["date_debut"]).notna()].copy()
    frame["debut"] = pd.to_datetime(frame["date_debut"])
    frame["fin_connue"] = pd.to_datetime(frame["date_fin"]).notna()
    frame["fin"] = pd.to_datetime(frame["date_fin"]).fillna(pd.Timestamp(horizon))
    frame["instrument_label"] = frame["instrument"].map(method.SHORT_LABELS)
    frame["échéance"] = [fdate(f) if known else "inconnue" for f, known in zip(frame["fin"], frame["fin_connue"])]
    frame["statut_label"] = frame["statut"].map(method.STATUTS)
    frame["ligne"] = frame["source_line"].map(lambda v: "" if pd.isna(v) else f"l.{int(v)}")
    frame = frame.sort_values(["debut", "intitule"])
    fig = px.timeline(
        frame, x_start="debut", x_end="fin", y="intitule", color="instrument",
        color_discrete_map=_INSTRUMENT_COLOURS, pattern_shape="fin_connue",
        pattern_shape_map={True: "", False: "/"},
        hover_data={"instrument": False, "instrument_label": True, "statut_label": True, "échéance": True,
                    "population": ":,.0f", "ligne": True, "fin_connue": False, "debut": "|%d/%m/%Y",
                    "fin": False, "intitule": False},
        labels={"instrument_label": "Instrument", "statut_label": "Statut", "population": "Population",
                "ligne": "Source", "debut": "Début", "instrument": "Instrument", "fin_connue": "Échéance connue"},
        height=max(260, 34 * len(frame) + 120))
    fig.for_each_trace(lambda t: t.update(name=_trace_name(t.name)))
    fig.update_yaxes(autorange="reversed", title=None)
    fig.add_vline(x=pd.Timestamp(date).timestamp() * 1000, line_dash="dot", line_color="#444",
                  annotation_text=f"au {fdate(date)}", annotation_position="top right")
    fig.update_layout(separators=PLOTLY_SEPARATORS, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.15, "title": None}, xaxis={"title": None})
    return fig


def _trace_name(name: str) -> str:
    instrument, _, known = name.partition(", ")
    label = method.SHORT_LABELS.get(instrument, instrument)
    return label if known in ("True", "") else f"{label} (échéance inconnue)"


def source_caption(names: list[str]) -> str:
    return "Source : " + " ; ".join(dict.fromkeys(n for n in names if n))


def people(value) -> str:
    return nombre(value)
