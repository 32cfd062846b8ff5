"""Cached reads, figures and export helpers for the "Aide à domicile" page (keyed by the database version).

Building the page's plotly figures (funnel, bars, lines, the SAAD map and its print version) and the
template workbooks is the dearest part of a run: about 0.5 s of CPU, paid on every filter change by
every user. The views below build each block's figures and tables ONCE per (database version,
territory, filters) — or per simulator inputs — for the whole server with `st.cache_resource`: one
shared copy, not unpickled on every hit as `st.cache_data` would. The page only reads them
(`st.plotly_chart` and the deferred exports copy the figures; nothing mutates a returned frame or
figure). Entries are bounded so memory is.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from common.format import PLOTLY_SEPARATORS, nombre, pourcentage
from common.palettes import OKABE_ITO
from etl.inputs import AIDE_DOMICILE_TEMPLATES as TEMPLATES
from export.maps import print_choropleth
from methods import cpom, paniers, saad
from query import aide_domicile as aide_domicile_reads
from query import aide_domicile as q
from query import territoires as territoires_reads
from ui import data, maps
from ui.data import database, geojson
from ui.figures import shares_figures

#: Bounds of the shared caches: per (département, EPCI[, exercise]) views, SAAD maps (contours of a
#: département's EPCI, screen and print), simulator results (one per set of inputs).
MAX_VIEWS, MAX_MAPS, MAX_SIMULATIONS = 256, 64, 256


@st.cache_data(show_spinner=False)
def source_labels(db_version: str, keys: tuple[str, ...]) -> pd.DataFrame:
    return q.source_labels(database(), list(keys))


# -- exports -------------------------------------------------------------------------------------------------

def csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV for French spreadsheets: UTF-8 with BOM, `;` separator, decimal comma."""
    return frame.to_csv(sep=";", index=False, decimal=",").encode("utf-8-sig")


def xlsx_bytes(frame: pd.DataFrame, sheet: str = "données") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


#: Which sources feed the tables of each tab (by the export key's prefix).
TAB_SOURCES = {
    "exp_paniers": ("paniers-cnav-2015", "paniers-saisie"),
    "exp_cpom": ("cpom-besancon", "forfait-global-2012"),
    "exp_saad": ("unccas-misap-2016", "saad-simule", "saad-saisie"),
}
TAB_TERRITORY = {"exp_paniers": "Caisses engagées dans l'expérimentation CNAV",
                 "exp_cpom": "Simulation d'un SAAD (paramètres saisis)"}


@st.cache_resource(show_spinner=False, max_entries=64)
def _tab_sources(db_version: str, prefix: str | None) -> tuple[tuple[str, ...], bool]:
    """(source lines of the export header, simulated?) of the tab whose export keys start with `prefix`."""
    table = data.read(territoires_reads.sources, db_version, shared=True)
    used = table[table["source"].isin(TAB_SOURCES.get(prefix, ()))]
    return (tuple(f"{n} ({v})" if v else n for n, v in zip(used["name"], used["vintage"])),
            bool((used["nature"] == "simulated").any()))


def _meta(key: str, title: str):
    """Header block of an export of this page: the tab's sources, simulated flag, territory."""
    from export.meta import ExportMeta
    from ui import data

    prefix = next((p for p in TAB_SOURCES if key.startswith(p)), None)
    lines, simulated = _tab_sources(data.version(), prefix)
    territory = TAB_TERRITORY.get(prefix) or st.session_state["territoire"].label
    return ExportMeta(title=title[:1].upper() + title[1:], territory=territory, sources=lines,
                      simulated=simulated)


def export_buttons(frame: pd.DataFrame, name: str, key: str, label: str = "") -> None:
    """CSV (UTF-8 BOM, `;`) and XLSX of a table exactly as shown (secret cells empty), with the
    shared header block: title, territory, sources of the tab, simulated flag, date."""
    from ui.export import table_downloads
    table_downloads(frame, _meta(key, label or name.replace("_", " ")), key)


def chart_exports(figure, key: str, title: str) -> None:
    """PNG / SVG / PDF of a chart of this page, with the same header block."""
    from ui.export import figure_downloads
    figure_downloads(figure, _meta(f"exp_{key}", title), f"exp_{key}_fig")


def with_secret(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Display copy: counts in French format, masked cells written "secret" (exports keep them empty)."""
    out = frame.copy()
    for column in columns:
        out[column] = [("secret" if pd.isna(v) else nombre(v)) for v in out[column]]
    return out


#: Rows of each source, per `sources()` frame (shared, read-only): a dozen captions per run were a
#: dozen pandas filters; now dict lookups. Keyed by the frame's id, the frame kept alive.
_CAPTION_ROWS: dict[int, tuple[pd.DataFrame, dict[str, list]]] = {}


def _caption_rows(labels: pd.DataFrame) -> dict[str, list]:
    hit = _CAPTION_ROWS.get(id(labels))
    if hit is None or hit[0] is not labels:
        rows: dict[str, list] = {}
        for r in labels.itertuples():
            rows.setdefault(r.source, []).append(r)
        if len(_CAPTION_ROWS) >= 16:
            _CAPTION_ROWS.clear()
        hit = _CAPTION_ROWS[id(labels)] = (labels, rows)
    return hit[1]


def source_caption(labels: pd.DataFrame, keys: list[str], extra: str = "") -> str:
    """« Source : name (publisher, vintage) ; … » for the `keys` among `labels`, in the table's order."""
    parts = [f"{r.name} ({r.publisher}{', ' + r.vintage if r.vintage else ''})"
             for source, rows in _caption_rows(labels).items() if source in keys for r in rows]
    return "Source : " + " ; ".join(parts) + (f". {extra}" if extra else "")


# -- figures and views, built once per (version, territory, filters) for the whole server --------

def layout(fig: go.Figure, height: int = 380) -> go.Figure:
    fig.update_layout(separators=PLOTLY_SEPARATORS, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def cite(key: str) -> str:
    rule = cpom.RULES[key]
    return f"{rule.title} — {rule.citation}"


@st.cache_resource(show_spinner=False)
def template_files(name: str) -> tuple[bytes, bytes]:
    """(CSV, XLSX) of an input template: fixed by the code, built once per server."""
    frame = TEMPLATES[name].frame()
    return csv_bytes(frame), xlsx_bytes(frame, name)


@st.cache_resource(show_spinner=False)
def template_columns(name: str) -> pd.DataFrame:
    template = TEMPLATES[name]
    return pd.DataFrame({"colonne": list(template.columns), "contenu": list(template.columns.values())})


class Bilan(NamedTuple):
    quoted: pd.DataFrame
    rates: dict | None
    fig_funnel: go.Figure | None
    fig_territoires: go.Figure | None
    engagement: pd.DataFrame
    familles: pd.DataFrame
    export: pd.DataFrame
    caisses: list[str]
    monthly_source: str | None
    detail_source: str | None


@st.cache_resource(show_spinner=False, max_entries=16)
@shares_figures
def bilan(db_version: str) -> Bilan:
    """The CNAV experiment's interim review (30 June 2015): funnel, territories, quoted figures."""
    quoted, reperes = (
        data.read(aide_domicile_reads.paniers_bilan, db_version),
        data.read(aide_domicile_reads.paniers_reperes, db_version),
    )
    rates = fig_funnel = fig_terr = None
    if len(quoted):
        row = quoted.iloc[0]
        rates = paniers.funnel_rates(row["demandes_recues"], row["evaluations_commandees"], row["paniers_accordes"])
        fig_funnel = go.Figure(go.Funnel(
            y=list(paniers.ETAPES.values()),
            x=[row["demandes_recues"], row["evaluations_commandees"], row["paniers_accordes"]],
            textinfo="value+percent initial", marker={"color": OKABE_ITO[:3]}))
        fig_funnel.update_layout(title="Demandes → évaluations → paniers, cumul des 12 caisses")
        layout(fig_funnel, 330)
        terr = reperes[reperes["theme"] == "territoires de l'expérimentation"]
        fig_terr = px.bar(terr, x="modalite", y="valeur", text="valeur", color="modalite",
                          color_discrete_sequence=OKABE_ITO,
                          labels={"modalite": "Type de territoire", "valeur": "% des territoires"})
        fig_terr.update_traces(texttemplate="%{y:.0f} %", showlegend=False)
        fig_terr.update_layout(title="Territoires sélectionnés par les caisses")
        layout(fig_terr, 330)
    engagement = reperes[reperes["theme"] == "caisses engagées"][["modalite", "periode", "valeur", "source_line"]]
    families = reperes[reperes["theme"] == "familles de services"][["ordre", "modalite", "source_line"]]
    export = pd.concat([quoted.drop(columns=["source_nom", "nature", "vintage", "secret"]).assign(theme="entonnoir"),
                        reperes], ignore_index=True)
    monthly_source, detail_source = data.read(aide_domicile_reads.paniers_source, db_version)
    return Bilan(
        quoted,
        rates,
        fig_funnel,
        fig_terr,
        engagement,
        families,
        export,
        data.read(aide_domicile_reads.paniers_caisses, db_version),
        monthly_source,
        detail_source,
    )


class SuiviPaniers(NamedTuple):
    fig: go.Figure
    affiche: pd.DataFrame  # counts in French format, masked cells written "secret"
    export: pd.DataFrame


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
@shares_figures
def suivi_paniers(db_version: str, caisses: tuple[str, ...]) -> SuiviPaniers:
    """Monthly follow-up of the chosen funds: chart of the masked monthly totals and the table."""
    per_month_masked = data.read(aide_domicile_reads.paniers_mensuel, db_version, caisses)
    long = per_month_masked.melt(id_vars=["mois"], value_vars=list(paniers.ETAPES), var_name="etape",
                                 value_name="nombre").dropna(subset=["nombre"])
    long["etape"] = long["etape"].map(paniers.ETAPES)
    fig = px.line(long, x="mois", y="nombre", color="etape", markers=True, color_discrete_sequence=OKABE_ITO,
                  labels={"mois": "Mois", "nombre": "Nombre", "etape": "Étape"})
    fig.update_xaxes(dtick="M1", tickformat="%m/%Y")
    layout(fig)
    table = data.read(aide_domicile_reads.paniers_tableau, db_version, caisses)
    table["mois"] = pd.to_datetime(table["mois"]).dt.strftime("%m/%Y")
    export = table.drop(columns="secret")
    return SuiviPaniers(fig, with_secret(export, list(paniers.ETAPES)), export)


class RepartitionPaniers(NamedTuple):
    fig: go.Figure
    affiche: pd.DataFrame
    export: pd.DataFrame


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
@shares_figures
def repartition_paniers(db_version: str, caisses: tuple[str, ...], dimension: str, title: str) -> RepartitionPaniers:
    """Baskets granted by level, family or type of territory (modalities under 11 masked)."""
    part = data.read(aide_domicile_reads.paniers_repartition, db_version, caisses, dimension)
    fig = px.bar(part.dropna(subset=["nb_paniers"]), x="nb_paniers", y=dimension, orientation="h",
                 color_discrete_sequence=OKABE_ITO[:1], labels={"nb_paniers": "Paniers accordés", dimension: ""})
    fig.update_layout(title=title)
    layout(fig, 320)
    export = part.drop(columns="secret")
    shown = with_secret(export, ["nb_paniers"])
    shown["part"] = [("secret" if pd.isna(v) else pourcentage(v)) for v in shown["part"]]
    return RepartitionPaniers(fig, shown, export)


class SimulationCpom(NamedTuple):
    result: cpom.CpomResult
    fig: go.Figure
    composantes: pd.DataFrame


@st.cache_resource(show_spinner=False, max_entries=MAX_SIMULATIONS)
@shares_figures
def simulation_cpom(planned: float, rate: float, cost_price: float, realised: tuple[float, ...], coverage: float,
                    cfs_other: float, delegated: float, release_share: float, mode: str,
                    overrun: bool) -> SimulationCpom:
    """One year of a SAAD under a CPOM with a negotiated global package (methods.cpom), its cumulated
    payments against hourly billing and the breakdown of the package, each line citing its rule."""
    inputs = cpom.CpomInputs(planned_hours=planned, financed_rate=rate, cost_price=cost_price,
                             realised_by_month=list(realised), coverage_share=coverage, cfs_other=cfs_other,
                             gestion_deleguee=delegated, release_share=release_share, regularisation_mode=mode,
                             finance_overrun=overrun)
    result = cpom.simulate_year(inputs)
    s, monthly = result.summary, result.monthly
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=monthly["mois"], y=monthly["cumul_cpom"], name="CPOM (versements cumulés)",
                             mode="lines+markers", line={"color": OKABE_ITO[0], "width": 3}))
    fig.add_trace(go.Scatter(x=monthly["mois"], y=monthly["cumul_horaire"], name="Facturation horaire (cumul)",
                             mode="lines+markers", line={"color": OKABE_ITO[1], "dash": "dash"}))
    fig.update_layout(title="Trésorerie du SAAD : versements cumulés", yaxis_title="€",
                      xaxis_title="Mois de l'exercice, puis dialogue de gestion")
    fig.update_xaxes(type="category")
    layout(fig, 400)
    components = pd.DataFrame([
        ("Forfait APA/PCH (heures engagées × tarif)", s["forfait_apa_pch"], cite("composantes")),
        ("CFS : couverture du différentiel prix de revient / tarif", s["cfs_differentiel"], cite("differentiel")),
        ("CFS : autres missions", s["cfs_autres"], cite("cfs")),
        ("Gestion déléguée des aides techniques", s["gestion_deleguee"], cite("composantes")),
        ("Forfait global", s["forfait_global"], cite("composantes")),
        ("Versé en douzièmes (90 %)", s["total_douziemes"], cite("versement_90")),
        ("Gelé (10 %)", s["montant_gele"], cite("gel_10")),
        ("Libéré", s["montant_libere"], cite("conclusion_dialogue")),
        ("Non libéré", s["montant_non_libere"], cite("conclusion_dialogue")),
        ("Régularisation hors bande", s["regularisation"], cite("avenant")),
        ("Total versé sous CPOM", s["total_verse_cpom"], ""),
        ("Facturation horaire des heures réalisées", s["total_facturation_horaire"], ""),
        ("Coût des heures réalisées (prix de revient)", s["cout_heures_realisees"], ""),
        ("Résultat du SAAD sous CPOM", s["resultat_cpom"], ""),
        ("Résultat du SAAD en facturation horaire", s["resultat_horaire"], ""),
    ], columns=["poste", "montant", "règle (source)"])
    return SimulationCpom(result, fig, components)


class Participation(NamedTuple):
    options: pd.DataFrame
    fig: go.Figure
    affiche: pd.DataFrame


@st.cache_resource(show_spinner=False, max_entries=MAX_SIMULATIONS)
@shares_figures
def participation(plan_hours: float, used_hours: float, rate: float, income: float, mtp: float,
                  reference_amount: float, gir: int, include_gir4: bool,
                  rule: str = cpom.DEFAULT_APA_RULE) -> Participation:
    """An APA beneficiary's co-payment under options 7.1 to 7.3 of the specifications, under `rule`."""
    options = cpom.participation_options(plan_hours, used_hours, rate, income, mtp, reference_amount, gir,
                                         include_gir4, rule)
    fig = px.bar(options.dropna(subset=["participation"]), x="option", y="participation", text="participation",
                 color="option", color_discrete_sequence=OKABE_ITO,
                 labels={"option": "Option", "participation": "Ticket modérateur (€/mois)"})
    fig.update_traces(texttemplate="%{y:,.2f} €", showlegend=False)
    layout(fig, 320)
    shown = options.assign(participation=options["participation"].astype(object).where(
        options["participation"].notna(), "non éligible (droit commun)"))
    return Participation(options, fig, shown[["option", "regle", "base", "taux", "participation", "regle_participation",
                                              "citation"]])


class SaadExercice(NamedTuple):
    ensemble: pd.Series | None  # the territory's hour-weighted figures ("Ensemble" row)
    fig_carte: go.Figure
    print_carte: go.Figure
    legende: str
    ecart_connu: bool  # map coloured by the hourly gap (else by the number of services)
    recettes: pd.DataFrame
    fig_recettes: go.Figure
    fig_prix: go.Figure | None  # None when indicator 27 is not filled in
    ecarts: pd.DataFrame
    valeurs: pd.DataFrame  # the per-service dashboard (30 key indicators), secrecy applied


@st.cache_resource(show_spinner=False, max_entries=MAX_MAPS)
@shares_figures
def saad_exercice(db_version: str, departement: str, siren_epci: str | None, periode: str) -> SaadExercice:
    """Everything of the SAAD tab that depends on the exercise: key figures, map of the services and of
    the hourly gap per EPCI (screen and print), revenue by financer, cost price per service."""
    services = data.read(aide_domicile_reads.saad_services, db_version, departement, siren_epci, shared=True)
    prix = data.read(aide_domicile_reads.saad_prix_de_revient, db_version, departement, siren_epci, periode)
    by_epci = saad.weighted_cost_gap(prix, by="siren_epci")
    overall = by_epci[by_epci["territoire"] == "Ensemble"]

    epcis = data.read(territoires_reads.epci_of_departement, db_version, departement)
    gaps = by_epci[by_epci["territoire"] != "Ensemble"].rename(columns={"territoire": "siren"})
    counts = services.groupby("siren_epci").size().rename("nb_services").reset_index()
    carte = epcis.merge(gaps, on="siren", how="left").merge(
        counts.rename(columns={"siren_epci": "siren"}), on="siren", how="left")
    carte["nb_services"] = carte["nb_services"].fillna(0)
    has_gap = bool(carte["ecart_horaire"].notna().any())
    colour, legend = ("ecart_horaire", "Écart €/h") if has_gap else ("nb_services", "Services")
    contours = geojson(db_version, "epci", departement)
    fig = maps.choropleth(carte, contours, key="siren", color=colour, hover_name="nom",
                          hover_data={"siren": False, "ecart_horaire": ":.2f", "nb_services": True},
                          labels={"ecart_horaire": "Écart €/h", "nb_services": "Services"}, height=520)
    fig.add_trace(go.Scattermap(
        lat=services["latitude"], lon=services["longitude"], mode="markers", name="Services",
        text=services["nom"] + "<br>" + services["commune"].fillna("") + " — " + services["localisation"],
        hoverinfo="text", marker={"size": 11, "color": "#D55E00"}))
    fig.update_layout(showlegend=False)
    print_map = print_choropleth(carte, contours, "siren", colour, legend, "nom", departement=departement,
                                 points=services[["latitude", "longitude"]].dropna(),
                                 points_label="Services d'aide à domicile")  # drawn on export only

    recettes = saad.revenue_split(
        data.read(aide_domicile_reads.saad_recettes_par_financeur, db_version, departement, siren_epci, periode)
    )
    fig_recettes = px.bar(recettes, x="part", y="territoire", color="financeur", orientation="h",
                          color_discrete_sequence=OKABE_ITO, custom_data=["recettes"],
                          labels={"part": "Part des recettes", "territoire": "", "financeur": "Financeur"})
    fig_recettes.update_traces(hovertemplate="%{y} — %{fullData.name}<br>%{x:.1%} ; %{customdata[0]:,.0f} €")
    fig_recettes.update_xaxes(tickformat=".0%")
    layout(fig_recettes, 140 + 26 * recettes["territoire"].nunique())

    reperes = data.read(aide_domicile_reads.saad_reperes, db_version)
    band = reperes[reperes["source_line"] == 218].iloc[0]
    priced = prix.dropna(subset=["prix_de_revient", "taux_finance"], how="all")
    fig_prix = None
    if not priced.empty:
        long = priced.melt(id_vars=["nom"], value_vars=["prix_de_revient", "taux_finance"], var_name="mesure",
                           value_name="euros").replace({"prix_de_revient": "Prix de revient",
                                                        "taux_finance": "Taux financé"})
        fig_prix = px.bar(long, y="nom", x="euros", color="mesure", barmode="group", orientation="h",
                          color_discrete_sequence=OKABE_ITO, labels={"nom": "", "euros": "€ / heure", "mesure": ""})
        if not (services.get("nature") == "simulated").any():  # a quoted band never frames simulated prices
            fig_prix.add_vrect(x0=band["valeur_min"], x1=band["valeur_max"], fillcolor="#999999", opacity=0.2,
                               line_width=0, annotation_text="prix de revient UNCCAS 2014",
                               annotation_position="top left")
        fig_prix.update_yaxes(autorange="reversed")
        layout(fig_prix, 160 + 34 * len(priced))
    wide = saad.service_table(data.read(aide_domicile_reads.saad_valeurs, db_version, departement, siren_epci, periode))
    return SaadExercice(overall.iloc[0] if len(overall) else None, fig, print_map, legend, has_gap, recettes,
                        fig_recettes, fig_prix, saad.weighted_cost_gap(prix), wide)


class SaadSerie(NamedTuple):
    serie: pd.DataFrame
    fig: go.Figure | None


@st.cache_resource(show_spinner=False, max_entries=MAX_VIEWS)
@shares_figures
def saad_serie_vue(db_version: str, departement: str, siren_epci: str | None, indicateur: int,
                   libelle: str) -> SaadSerie:
    """Monthly series of a SAAD indicator over the territory (sum, or mean of the services for a rate)."""
    serie = data.read(aide_domicile_reads.saad_serie, db_version, departement, siren_epci, indicateur)
    if not len(serie):
        return SaadSerie(serie, None)
    measure = "moyenne" if indicateur == 16 else "somme"
    fig = px.line(serie, x="periode_debut", y=measure, markers=True, color_discrete_sequence=OKABE_ITO,
                  labels={"periode_debut": "Mois", measure: libelle})
    return SaadSerie(serie, layout(fig, 320))
