"""The "Financements CFPPA" page's cached reads (keyed by the database version) and its figures.

Figures are built from small aggregated frames; every chart's data frame is returned alongside so
the page can offer it for download.

Building the figures (seven plotly charts, a choropleth map and its print version) is the dearest
part of a run of this page: about 0.6 s of CPU, paid on every filter change by every user. The views
below (`repartition`, `evolution`, `comparaison`, `carte`, `themes`) build each tab's figures and
tables ONCE per (database version, territory, filters) for the whole server with
`st.cache_resource` — one shared copy, not unpickled on every hit as `st.cache_data` would — and the
page only reads them (`st.plotly_chart` and the deferred exports copy the figures; nothing mutates a
returned frame or figure). Entries are bounded so memory is. Frames the page reads on every run are
cached the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from common.format import PLOTLY_SEPARATORS, nombre, pourcentage
from common.palettes import OKABE_ITO
from export.maps import print_choropleth
from methods import cfppa as method
from methods.secret import SECRET_THRESHOLD
from query import cfppa as cfppa_reads
from query import cfppa as q
from ui import data, maps
from ui.data import database
from ui.figures import shares_figures

CATEGORY_COLOURS = dict(zip(("CNSA", "Département", "ARS", "OSS", "Collectivités", "Autres",
                             "Autres financeurs (non ventilés)"), OKABE_ITO))
AXIS_ORDER = [f"{a} – {label}" for a, label in enumerate(
    ("Aides techniques", "Forfait autonomie", "Prévention des SAAD", "Prévention des SPASAD",
     "Proches aidants", "Actions collectives"), start=1)]
AXIS_COLOURS = dict(zip(AXIS_ORDER, OKABE_ITO))

#: Bounds of the shared caches: frames per département (101 fit), charts per (département, year,
#: unit[, comparison]) and maps (a communes map carries its contours twice: screen and print).
MAX_FRAMES, MAX_CHARTS, MAX_MAPS = 256, 512, 48


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def financements(db_version: str, departement: str | None) -> pd.DataFrame:
    frame = q.financements(database(), departement)
    frame["axe_libelle"] = frame["axe"].astype(str) + " – " + frame["libelle_axe"]
    return frame


@st.cache_data(show_spinner=False)
def carte_actions(db_version: str, departement: str, annee: int | None, niveau: str) -> tuple[pd.DataFrame, str]:
    """Actions per commune or EPCI with rates per 1,000 (secrecy applied by the query layer).
    Returns (frame, denominator label)."""
    frame = q.carte_actions(database(), departement, annee, niveau)
    return frame, frame.attrs["denominateur"]


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A map/table frame as it may leave the application: secret participants are already empty;
    places without any action get an empty participants cell too (0 is not a count of people to
    protect, but the export guard refuses any count under the threshold), and the flag column goes."""
    out = frame.drop(columns=[c for c in ("secret",) if c in frame])
    if "participants" in out:
        people = pd.to_numeric(out["participants"], errors="coerce")
        out["participants"] = out["participants"].astype("object").where(people.fillna(0) > 0, None)
    return out


# -- figures -----------------------------------------------------------------------------------

def _layout(fig: go.Figure, height: int = 420) -> go.Figure:
    fig.update_layout(separators=PLOTLY_SEPARATORS, height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"title": None, "orientation": "h", "y": -0.15}, font={"size": 13})
    return fig


def value_column(unite: str) -> tuple[str, str, str]:
    """(column, axis label, hover format) for the € / % toggle."""
    if unite == "%":
        return "part_pct", "Part du total (%)", ":.1f"
    return "montant", "Montant engagé (€)", ":,.0f"


def bars(frame: pd.DataFrame, x: str, colour: str, unite: str, colours: dict, orientation: str = "v",
         labels: dict | None = None, order: dict | None = None) -> go.Figure:
    """Stacked bars of `frame` by `x`, one trace per `colour` value (in `order[colour]`, then in
    order of appearance, as plotly express orders them), hover giving the amount and the share.

    Built with graph_objects, not `px.bar`: a view missing from the shared cache builds three such
    charts, and plotly express spent most of a cold CFPPA run reshaping the frame."""
    column, axis_label, _ = value_column(unite)
    labels = {column: axis_label, **(labels or {})}
    order = order or {}
    present = list(dict.fromkeys(frame[colour]))
    wanted = order.get(colour, [])
    groups = [g for g in wanted if g in present] + [g for g in present if g not in wanted]
    vertical = orientation == "v"
    category = "x" if vertical else "y"
    fig = go.Figure()
    for group in groups:
        part = frame[frame[colour] == group]
        categories, values = part[x].tolist(), part[column].tolist()
        hover = (f"{labels.get(colour, colour)}={group}<br>{labels.get(x, x)}=%{{{category}}}<br>"
                 "montant=%{customdata[0]:,.2f}<br>part_pct=%{customdata[1]:.1f}<extra></extra>")
        fig.add_trace(go.Bar(
            x=categories if vertical else values, y=values if vertical else categories, name=str(group),
            legendgroup=str(group), orientation=orientation, marker_color=colours.get(group),
            customdata=part[["montant", "part_pct"]].to_numpy(), hovertemplate=hover))
    axis_of_categories = {"title": {"text": labels.get(x, x)}}
    if x in order:
        axis_of_categories.update(categoryorder="array", categoryarray=list(order[x]))
    axis_of_values = {"title": {"text": axis_label}}
    fig.update_layout(barmode="relative", legend={"title": {"text": labels.get(colour, colour)}},
                      xaxis=axis_of_categories if vertical else axis_of_values,
                      yaxis=axis_of_values if vertical else axis_of_categories)
    return _layout(fig)


def treemap(frame: pd.DataFrame) -> go.Figure:
    """Financer category → financer → axis, sized by the committed amount; each box in its
    category's colour, the root in grey.

    The hierarchy is summed here (ids `Tous financeurs/<catégorie>/<financeur>/<axe>`, as plotly
    express writes them): `px.treemap` took about 0.28 s of CPU to reshape the frame, most of a
    cold CFPPA run."""
    root = "Tous financeurs"
    path = ["categorie_financeur", "libelle_financeur", "axe_libelle"]
    ids, labels, parents = [root], [root], [""]
    values, colours = [float(frame["montant"].sum())], ["#dddddd"]
    for depth in range(1, len(path) + 1):
        sums = frame.groupby(path[:depth], sort=False)["montant"].sum()
        for key, value in sums.items():
            key = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            ids.append("/".join((root, *key)))
            labels.append(key[-1])
            parents.append("/".join((root, *key[:-1])))
            values.append(float(value))
            colours.append(CATEGORY_COLOURS.get(key[0], "#dddddd"))
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
        marker={"colors": colours}, texttemplate="%{label}<br>%{value:,.0f} €<br>%{percentRoot:.1%}",
        hovertemplate="%{label}<br>%{value:,.2f} €<br>%{percentRoot:.1%} du total<extra></extra>"))
    return _layout(fig, 520)


def secret_note() -> str:
    return (f"Secret statistique : les effectifs de participants de 1 à {SECRET_THRESHOLD - 1} personnes ne "
            "sont ni affichés ni exportés à l'échelle de la commune, de l'EPCI ou de l'action.")


# -- views: each tab's figures and tables, built once per (version, territory, filters) ----------

class Repartition(NamedTuple):
    financeurs: pd.DataFrame  # financer × axis (with the `ordre` of financers)
    financeurs_export: pd.DataFrame
    fig_financeurs: go.Figure
    axes: pd.DataFrame
    fig_axes: go.Figure
    arbre: pd.DataFrame
    fig_arbre: go.Figure


class Evolution(NamedTuple):
    par_annee: pd.DataFrame
    fig: go.Figure
    taux: pd.DataFrame  # engagement rate (committed / planned) per year


class Comparaison(NamedTuple):
    territoires: list[str]
    notes: list[str]
    parts: pd.DataFrame
    fig: go.Figure


class Carte(NamedTuple):
    shown: pd.DataFrame
    export: pd.DataFrame
    fig: go.Figure
    print_fig: go.Figure
    denominateur: str
    prioritaires: int | None  # communes drawn with an orange outline; None without the overlay


class Themes(NamedTuple):
    themes: pd.DataFrame
    export: pd.DataFrame
    fig: go.Figure


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def lignes_annee(db_version: str, departement: str, annee: int) -> pd.DataFrame:
    """The département's financing lines of one year."""
    lines = financements(db_version, departement)
    return lines[lines["annee"] == annee]


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def parts(db_version: str, departement: str, annee: int) -> method.Shares:
    return method.compute_shares(lignes_annee(db_version, departement, annee))


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def reference(db_version: str, annee: int) -> dict[str, dict]:
    """National reference figures of the year (or the closest earlier one)."""
    return method.pick_reference(data.read(cfppa_reads.reference_nationale, db_version, shared=True), annee)


@st.cache_resource(show_spinner=False, max_entries=MAX_CHARTS)
@shares_figures
def repartition(db_version: str, departement: str, annee: int, unite: str) -> Repartition:
    lines = lignes_annee(db_version, departement, annee)
    by_financer = method.split(lines, ["categorie_financeur", "libelle_financeur", "ordre", "axe_libelle"])
    by_financer = by_financer.sort_values(["ordre", "axe_libelle"])
    fig = bars(by_financer, "libelle_financeur", "axe_libelle", unite, AXIS_COLOURS, orientation="h",
               labels={"libelle_financeur": "Financeur", "axe_libelle": "Axe"},
               order={"axe_libelle": AXIS_ORDER,
                      "libelle_financeur": list(dict.fromkeys(by_financer["libelle_financeur"]))})
    by_axis = method.split(lines, ["axe_libelle", "categorie_financeur"])
    fig_axis = bars(by_axis, "axe_libelle", "categorie_financeur", unite, CATEGORY_COLOURS, orientation="h",
                    labels={"axe_libelle": "", "categorie_financeur": "Catégorie"}, order={"axe_libelle": AXIS_ORDER})
    tree = method.split(lines, ["categorie_financeur", "libelle_financeur", "axe_libelle"])
    return Repartition(by_financer, by_financer.drop(columns="ordre").rename(columns={"montant": "montant_engage_eur"}),
                       fig, by_axis, fig_axis, tree, treemap(tree))


@st.cache_resource(show_spinner=False, max_entries=MAX_CHARTS)
@shares_figures
def evolution(db_version: str, departement: str, unite: str) -> Evolution:
    lines_all = financements(db_version, departement)
    by_year = method.split(lines_all, ["categorie_financeur"], within=["annee"])
    by_year["annee"] = by_year["annee"].astype(str)
    fig = bars(by_year, "annee", "categorie_financeur", unite, CATEGORY_COLOURS,
               labels={"annee": "Année", "categorie_financeur": "Catégorie"})
    rates = (lines_all.groupby("annee").apply(method.engagement_rate, include_groups=False)
             .rename("taux_engagement").reset_index())
    return Evolution(by_year, fig, rates)


@st.cache_resource(show_spinner=False, max_entries=MAX_CHARTS)
@shares_figures
def comparaison(db_version: str, departement: str, dep_label: str, annee: int, unite: str, comparer: str,
                igas_line: str) -> Comparaison:
    """The département's split by financer category beside France (CNSA synthesis, else the IGAS
    report's figures) and all départements of the base, or beside another département."""
    frames = {dep_label: lignes_annee(db_version, departement, annee)[["categorie_financeur", "montant_engage"]]}
    notes = []
    if comparer == "France":
        national = data.read(cfppa_reads.national_financements, db_version, annee)
        if len(national):
            frames[f"France {annee} (synthèse CNSA)"] = national[["categorie_financeur", "montant_engage"]]
            notes.append(f"France : {national['source'].iloc[0]}")
        ref = reference(db_version, annee)
        rebuilt = method.france_from_reference(ref)
        if rebuilt is not None and not len(national):
            year_ref = ref["total_financements"]["annee"]
            frames[f"France {year_ref} (rapport IGAS)"] = rebuilt
            notes.append(f"France {year_ref} : {igas_line}, l.690 et l.711 (CNSA 130 M€ sur 203 M€, OSS ≈ 17 % ; "
                         "autres financeurs non ventilés par le rapport)")
        everything = financements(db_version, None)
        base = everything[everything["annee"] == annee]
        n_deps = int(data.read(cfppa_reads.departements_avec_donnees, db_version, shared=True).shape[0])
        if n_deps > 1:
            frames[f"Départements de la base ({n_deps})"] = base[["categorie_financeur", "montant_engage"]]
    else:
        other = financements(db_version, comparer)
        name = departement_noms(db_version)[comparer]
        frames[f"{name} ({comparer})"] = other.loc[other["annee"] == annee, ["categorie_financeur", "montant_engage"]]
    stacked = pd.concat([f.assign(territoire=k) for k, f in frames.items()], ignore_index=True)
    split = method.split(stacked, ["categorie_financeur"], within=["territoire"])
    fig = bars(split, "territoire", "categorie_financeur", unite, CATEGORY_COLOURS, orientation="h",
               labels={"territoire": "", "categorie_financeur": "Catégorie"}, order={"territoire": list(frames)})
    return Comparaison(list(frames), notes, split, fig)


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def departement_noms(db_version: str) -> dict[str, str]:
    """Code → name of the départements holding CFPPA data."""
    deps = data.read(cfppa_reads.departements_avec_donnees, db_version, shared=True)
    return dict(zip(deps["code"], deps["nom"]))


@st.cache_resource(show_spinner=False, max_entries=MAX_MAPS)
@shares_figures
def carte(db_version: str, departement: str, annee: int, niveau: str, indicateur: str, label: str,
          siren_epci: str | None, overlay: bool) -> Carte:
    """Map of the actions per commune or EPCI (screen and print versions), restricted to the EPCI's
    communes when one is selected; `overlay` outlines the priority communes of the fragility method."""
    frame, denominator = carte_actions(db_version, departement, annee, niveau)
    key = frame.attrs.get("key", "code_insee" if niveau == "communes" else "siren")
    shown = frame.copy()
    if siren_epci and niveau == "communes":
        shown = shown[shown["siren_epci"] == siren_epci]
    shown[indicateur] = pd.to_numeric(shown[indicateur], errors="coerce")
    geojson = data.geojson(db_version, niveau, departement, siren_epci if niveau == "communes" else None)
    fig = maps.choropleth(
        shown, geojson, key=key, color=indicateur, hover_name="nom",
        hover_data={key: False, "nb_actions": True, "participants": True, "denominateur": ":,.0f"},
        labels={indicateur: label, "nb_actions": "Actions", "participants": "Participants",
                "denominateur": "Dénominateur"})
    priority = (
        data.read(cfppa_reads.communes_prioritaires, db_version, departement, annee, shared=True)
        if niveau == "communes"
        else None
    )
    flagged_count = None
    if overlay and priority is not None:
        flags = priority["prioritaire"].fillna(False).astype(bool)
        flagged, flagged_count = priority[flags], int(flags.sum())
        if len(flagged):
            fig.add_trace(px.choropleth_map(
                flagged, geojson=geojson, locations="code_insee", featureidkey="id",
                color_discrete_sequence=["rgba(0,0,0,0)"], hover_name="nom").data[0].update(
                marker_line_width=3, marker_line_color="#D55E00", name="Commune prioritaire", showlegend=True,
                showscale=False))
    printed = print_choropleth(shown, geojson, key, indicateur, label, "nom", departement=departement)
    return Carte(shown, export_frame(shown), fig, printed, denominator, flagged_count)


@st.cache_resource(show_spinner=False, max_entries=MAX_CHARTS)
@shares_figures
def themes(db_version: str, departement: str, annee: int, siren_epci: str | None) -> Themes:
    frame = data.read(cfppa_reads.actions_par, db_version, departement, annee, "theme", siren_epci)
    fig = px.bar(frame, y="theme", x="nb_actions", orientation="h", color_discrete_sequence=[OKABE_ITO[0]],
                 labels={"theme": "Thème", "nb_actions": "Actions"})
    fig.update_yaxes(categoryorder="total ascending")
    return Themes(frame, export_frame(frame), _layout(fig, 380))


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def liste_affichee(db_version: str, departement: str, annee: int, siren_epci: str | None) -> pd.DataFrame:
    """The year's actions as shown and exported (participants under the threshold already empty)."""
    return data.read(cfppa_reads.actions_liste, db_version, departement, annee, siren_epci, shared=True).drop(
        columns=["secret"]
    )


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def reperes_affiches(db_version: str) -> pd.DataFrame:
    """The quoted national reference figures with their values in French format."""
    ref_all = data.read(cfppa_reads.reference_nationale, db_version, shared=True)
    return ref_all.assign(valeur=[pourcentage(v) if u == "part" else f"{nombre(v)} €"
                                  for v, u in zip(ref_all["valeur"], ref_all["unite"])])


@st.cache_resource(show_spinner=False, max_entries=MAX_FRAMES)
def chiffres_cites_affiches(db_version: str) -> pd.DataFrame:
    return data.read(cfppa_reads.chiffres_cites, db_version)[
        [
            "ligne_source",
            "perimetre",
            "annee",
            "indicateur",
            "citation",
            "financeur",
            "axe",
            "qualificatif",
            "montant_eur",
            "part_pct",
            "autre_valeur",
            "autre_unite",
            "fichier_source",
            "source",
        ]
    ]
