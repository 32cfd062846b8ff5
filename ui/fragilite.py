"""Cached reads and view assembly for the fragility page (keyed by the build version and every
parameter: a filter change already seen is served from the cache).

The views (territories shown, key figures, map, histogram, ranked table) are built once per
(database version, territory, filters) for the whole server with `st.cache_resource`: one shared
copy, not one unpickled per hit as `st.cache_data` would give, with bounded entries. The page only
reads them: `st.plotly_chart` and the deferred exports copy the figures, the page derives new
frames and never writes into a view's. The print map is built only when an export is clicked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from common.format import PLOTLY_SEPARATORS, nombre, pourcentage
from export.maps import print_choropleth
from methods import fragilite as method
from query import fragilite as q
from query import territoires as territoires_reads
from ui import data, maps
from ui.figures import shares_figures

SECRET = "secret (< 11 retraités)"
NO_DATA = "pas de données"
NOT_PRIORITY = "non prioritaire"
PRIORITY = "prioritaire"
#: Colour-blind-safe classes (ColorBrewer YlOrRd for the rule, YlGnBu-like for quantiles), greys
#: for secret and missing.
RULE_COLOURS = dict(zip(method.RULE_CLASSES, ("#ffffcc", "#fd8d3c", "#bd0026")))
QUANTILE_PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#2c7fb8", "#253494")
GREYS = {SECRET: "#9e9e9e", NO_DATA: "#e0e0e0"}


@st.cache_data(show_spinner=False)
def millesimes(version: str) -> list[int]:
    return q.millesimes(data.database())


@st.cache_data(show_spinner=False)
def has_detail(version: str, millesime: int) -> bool:
    return q.has_detail(data.database(), millesime)


@st.cache_data(show_spinner=False)
def action_years(version: str) -> list[int]:
    return q.action_years(data.database())


@st.cache_data(show_spinner=False)
def sources(version: str) -> pd.DataFrame:
    return pd.concat([q.sources(data.database()), q.action_sources(data.database())], ignore_index=True)


@st.cache_data(show_spinner=False)
def references(version: str) -> pd.DataFrame:
    return q.references(data.database())


@st.cache_data(show_spinner=False)
def regions(version: str) -> dict[str, str]:
    return q.regions(data.database())


@st.cache_data(show_spinner=False, max_entries=64)
def assessed(version: str, level: str, millesime: int, edges: tuple, threshold: int, scope: str,
             code: str | None, years: tuple | None, params: method.Parameters) -> pd.DataFrame:
    """Territories of the reference scope with scores, reference statistics and flags, as the query
    layer publishes them (secret rows keep their code and name only)."""
    return q.assessed(data.database(), level, millesime, edges, threshold, scope, code, years, params)


def classes(frame: pd.DataFrame, mode: str, only_priority: bool) -> tuple[pd.Series, dict[str, str]]:
    """Map class per row and the legend (class → colour), secret and missing in grey."""
    score = pd.to_numeric(frame["score_moyen"], errors="coerce")
    if only_priority:
        cls = np.where(frame["prioritaire"].fillna(False).astype(bool), PRIORITY, NOT_PRIORITY).astype(object)
        legend = {PRIORITY: "#bd0026", NOT_PRIORITY: "#f7f7f7"}
    elif mode == "regle":
        cls = method.rule_classes(score, frame["ref_moyenne"].to_numpy(dtype=float),
                                  frame["ref_seuil"].to_numpy(dtype=float))
        legend = dict(RULE_COLOURS)
    else:
        cls, labels = method.quantile_classes(score, 5)
        legend = dict(zip(labels, QUANTILE_PALETTE[-len(labels):] if len(labels) < 5 else QUANTILE_PALETTE))
    cls = pd.Series(cls, index=frame.index, dtype=object)
    cls[frame["secret"]] = SECRET
    cls[frame["sans_donnees"]] = NO_DATA
    legend.update(GREYS)
    return cls, legend


def flags_text(frame: pd.DataFrame, actions_max: int) -> pd.Series:
    parts = [("fragile", "fragile"), ("concentration", "> seuil 60 ans et +"),
             ("moins_de_n_actions", f"< {actions_max} actions"), ("prioritaire", "PRIORITAIRE")]
    def row_text(row):
        if row["secret"]:
            return "secret statistique"
        return " · ".join(label for col, label in parts if row[col] is True or row[col] == 1) or "—"
    return frame.apply(row_text, axis=1)


# -- shared views (one copy per server, never mutated by the page) -----------------------------

SCOPES = ["departement", "region", "france"]
#: Bounds of the shared views: selections and tables are frames (France: about 1 250 EPCI rows);
#: maps carry contours (France's EPCI: about 6 MB in memory each).
MAX_VIEWS, MAX_MAPS = 128, 32


@st.cache_resource(show_spinner=False, max_entries=16)
def contours(version: str, level: str, departement: str | None) -> dict:
    """One shared copy of a GeoJSON (plotly copies what it draws; the print map reads this one)."""
    return data.geojson(version, level, departement)


@dataclass(frozen=True)
class Selection:
    """The territories shown for a territory and filters, their key figures and histogram."""
    shown: pd.DataFrame
    visible: pd.DataFrame  # shown, neither secret nor without data
    key: str  # code column: code_insee or siren_epci
    region: str
    territory_label: str
    n_secret: int
    score_moyen: float | None  # mean score of the retirees (weighted), None without retirees
    n_fragiles: int
    n_prioritaires: int
    histogram: go.Figure
    hist_note: str


def _scope_code(scope: str, departement: str, region: str) -> str | None:
    return {"departement": departement, "region": region, "france": None}[scope]


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
def selection(version: str, departement: str, departement_nom: str, level: str, scope: str,
              natures: tuple[str, ...], millesime: int, years: tuple | None,
              params: method.Parameters) -> Selection:
    region = data.read(territoires_reads.departements, version).set_index("code").at[departement, "code_region"]
    # Reference statistics need every territory of the reference, not only those shown.
    read_scope = max(scope, params.reference, key=SCOPES.index)
    frame = assessed(version, level, millesime, params.age_edges, params.score_threshold, read_scope,
                     _scope_code(read_scope, departement, region), years, params)
    if level == "communes":
        shown = frame[frame["code_departement"] == departement]
    elif scope == "departement":
        shown = frame[
            frame["siren_epci"].isin(data.read(territoires_reads.epci_of_departement, version, departement)["siren"])
        ]
    elif scope == "region":
        shown = frame[frame["code_region"] == region]
    else:
        shown = frame
    shown = shown[shown["nature_epci"].isin(list(natures)) | shown["nature_epci"].isna()]
    territory_label = {"departement": f"{departement_nom} ({departement})",
                       "region": regions(version).get(region, region), "france": "France"}[scope]
    visible = shown[~shown["secret"] & ~shown["sans_donnees"]]
    scores = visible["score_moyen"].astype(float)
    weights = visible["n_retraites"].astype(float)
    unit = "communes" if level == "communes" else "EPCI"
    histogram, hist_note = _histogram(visible, unit, params)
    return Selection(
        shown=shown, visible=visible, key="code_insee" if level == "communes" else "siren_epci", region=region,
        territory_label=territory_label, n_secret=int(shown["secret"].sum()),
        score_moyen=float((scores * weights).sum() / weights.sum()) if weights.sum() else None,
        n_fragiles=int(visible["fragile"].astype(bool).sum()),
        n_prioritaires=int(visible["prioritaire"].astype(bool).sum()),
        histogram=histogram, hist_note=hist_note)


def _histogram(visible: pd.DataFrame, unit: str, params: method.Parameters) -> tuple[go.Figure, str]:
    """Distribution of the scores shown, with the reference's mean and threshold when single."""
    histogram = go.Figure(go.Histogram(x=visible["score_moyen"].astype(float), nbinsx=40,
                                       marker_color="#2c7fb8", name=unit))
    ref_values = visible[["ref_moyenne", "ref_seuil"]].drop_duplicates()
    if len(ref_values) == 1:
        mean, limit = ref_values.iloc[0]
        histogram.add_vline(x=mean, line_dash="dash", line_color="#333333",
                            annotation_text=f"moyenne {nombre(mean, 2)}", annotation_position="top left")
        histogram.add_vline(x=limit, line_color="#bd0026",
                            annotation_text=f"moyenne + ½ σ = {nombre(limit, 2)}", annotation_position="top right")
        hist_note = (f"Lignes : moyenne et seuil de fragilité de la référence "
                     f"({method.REFERENCE_LEVELS[params.reference]}, {unit} d'au moins "
                     f"{params.min_retraites_reference} retraités).")
    else:
        hist_note = (f"Plusieurs références ({len(ref_values)}) dans le périmètre : seuils non tracés, "
                     "voir le tableau (colonne « seuil »).")
    histogram.update_layout(separators=PLOTLY_SEPARATORS, height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                            xaxis_title="Score moyen des retraités", yaxis_title=f"Nombre de {unit}",
                            showlegend=False)
    return histogram, hist_note


@dataclass(frozen=True)
class Carte:
    """The map of a selection; `print_figure()` builds the print version (export) on demand."""
    mapped: pd.DataFrame
    geojson: dict
    key: str
    legend: dict[str, str]
    figure: go.Figure
    rule_note: str

    def print_figure(self) -> go.Figure:
        return print_choropleth(self.mapped, self.geojson, self.key, "classe", "Classe", "nom_affiche",
                                discrete=self.legend)


@st.cache_resource(show_spinner=False, max_entries=MAX_MAPS)
@shares_figures
def carte(version: str, departement: str, departement_nom: str, level: str, scope: str,
          natures: tuple[str, ...], millesime: int, years: tuple | None, params: method.Parameters,
          mode: str, only_priority: bool) -> Carte:
    sel = selection(version, departement, departement_nom, level, scope, natures, millesime, years, params)
    shown, key = sel.shown, sel.key
    cls, legend = classes(shown, mode, only_priority)
    mapped = shown.assign(
        classe=cls, nom_affiche=shown["nom"],
        retraites=shown["n_retraites"].map(nombre), score=shown["score_moyen"].map(lambda v: nombre(v, 2)),
        fragiles=shown["part_fragiles"].map(pourcentage), pop60=shown["n_60_plus"].map(nombre),
        actions=shown["n_actions"].map(nombre), criteres=flags_text(shown, params.actions_max_exclusive))
    geojson = contours(version, "communes" if level == "communes" else "epci",
                       departement if scope == "departement" else None)
    if scope == "region":
        ids = set(mapped[key])
        geojson = {**geojson, "features": [f for f in geojson["features"] if f["id"] in ids]}
    unit = "communes" if level == "communes" else "EPCI"
    rule_note = ("classes de la règle : moyenne et moyenne + ½ écart type des " + unit + " de la référence ("
                 + method.REFERENCE_LEVELS[params.reference] + ")") if mode == "regle" \
        else "classes : quintiles des scores affichés"
    figure = maps.choropleth(
        mapped, geojson, key=key, color="classe", hover_name="nom_affiche",
        hover_data={key: False, "classe": True, "retraites": True, "score": True, "fragiles": True,
                    "pop60": True, "actions": True, "criteres": True},
        labels={"classe": "Classe", "retraites": "Retraités", "score": "Score moyen",
                "fragiles": f"Part score ≥ {params.score_threshold}", "pop60": "60 ans et +",
                "actions": "Actions de prévention", "criteres": "Critères"}, discrete=legend)
    return Carte(mapped, geojson, key, legend, figure, rule_note)


@dataclass(frozen=True)
class Classement:
    """The ranked table (secret territories left out) as shown and exported."""
    export: pd.DataFrame
    n_secret: int
    unit: str
    label: str


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
def classement(version: str, departement: str, departement_nom: str, level: str, scope: str,
               natures: tuple[str, ...], millesime: int, years: tuple | None, params: method.Parameters,
               only_priority: bool, epci: str, epci_nom: str) -> Classement:
    """Territories of the selection ranked by score, or the communes of `epci` (in the
    département) when one is chosen."""
    if epci:
        sel_region = selection(version, departement, departement_nom, level, scope, natures, millesime, years,
                               params).region
        commune_scope = max("departement", params.reference, key=SCOPES.index)
        frame = assessed(version, "communes", millesime, params.age_edges, params.score_threshold, commune_scope,
                         _scope_code(commune_scope, departement, sel_region), years, params)
        frame = frame[frame["siren_epci"] == epci]
        unit, label = "communes", epci_nom
    else:
        sel = selection(version, departement, departement_nom, level, scope, natures, millesime, years, params)
        frame = sel.shown
        unit, label = ("communes" if level == "communes" else "EPCI"), sel.territory_label
    if only_priority:
        frame = frame[frame["prioritaire"].fillna(False).astype(bool)]
    published = frame[~frame["secret"] & ~frame["sans_donnees"]].copy()
    published = published.sort_values("score_moyen", ascending=False, key=lambda s: s.astype(float))
    published.insert(0, "rang", range(1, len(published) + 1))
    threshold, actions_max = params.score_threshold, params.actions_max_exclusive
    code_col = "code_insee" if unit == "communes" else "siren_epci"
    columns = {"rang": "Rang", code_col: "Code", "nom": "Nom", "n_retraites": "Retraités",
               "score_moyen": "Score moyen", "part_fragiles": f"Part score ≥ {threshold}",
               "part_reversion": "Part réversion", "part_exo_csg": "Part exonérés CSG", "n_60_plus": "60 ans et +",
               "n_actions": "Actions de prévention", "ref_seuil": "Seuil (moy. + ½ σ)", "fragile": "Fragile",
               "concentration": "Concentration", "moins_de_n_actions": f"< {actions_max} actions",
               "prioritaire": "Prioritaire"}
    if unit == "communes":
        columns = {**columns, "nom_epci": "EPCI"}
    export = published[list(columns)].rename(columns=columns)
    for col in ("Retraités", "60 ans et +", "Actions de prévention"):
        export[col] = export[col].astype("Int64")
    for col in ("Score moyen", "Seuil (moy. + ½ σ)"):
        export[col] = export[col].astype(float).round(3)
    for col in (f"Part score ≥ {threshold}", "Part réversion", "Part exonérés CSG"):
        export[col] = (export[col].astype(float) * 100).round(1)
    for col in ("Fragile", "Concentration", f"< {actions_max} actions", "Prioritaire"):
        export[col] = export[col].map({True: "oui", False: "non"})
    return Classement(export, int(frame["secret"].sum()), unit, label)
