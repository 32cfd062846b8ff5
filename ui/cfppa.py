"""The "Financements CFPPA" page's cached reads (keyed by the database version) and its figures.

Figures are built from small aggregated frames; every chart's data frame is returned alongside so
the page can offer it for download.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from methods.secret import SECRET_THRESHOLD
from query import cfppa as q
from ui.data import database
from ui.format import PLOTLY_SEPARATORS

#: Colour-blind-safe qualitative palette (Okabe & Ito, 2008).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
CATEGORY_COLOURS = dict(zip(("CNSA", "Département", "ARS", "OSS", "Collectivités", "Autres",
                             "Autres financeurs (non ventilés)"), OKABE_ITO))
AXIS_ORDER = [f"{a} – {label}" for a, label in enumerate(
    ("Aides techniques", "Forfait autonomie", "Prévention des SAAD", "Prévention des SPASAD",
     "Proches aidants", "Actions collectives"), start=1)]
AXIS_COLOURS = dict(zip(AXIS_ORDER, OKABE_ITO))


@st.cache_data(show_spinner=False)
def annees(db_version: str) -> list[int]:
    return q.annees(database())


@st.cache_data(show_spinner=False)
def departements(db_version: str) -> pd.DataFrame:
    return q.departements_avec_donnees(database())


@st.cache_data(show_spinner=False)
def financements(db_version: str, departement: str | None) -> pd.DataFrame:
    frame = q.financements(database(), departement)
    frame["axe_libelle"] = frame["axe"].astype(str) + " – " + frame["libelle_axe"]
    return frame


@st.cache_data(show_spinner=False)
def reference_nationale(db_version: str) -> pd.DataFrame:
    return q.reference_nationale(database())


@st.cache_data(show_spinner=False)
def national_financements(db_version: str, annee: int) -> pd.DataFrame:
    return q.national_financements(database(), annee)


@st.cache_data(show_spinner=False)
def chiffres_cites(db_version: str) -> pd.DataFrame:
    return q.chiffres_cites(database())


@st.cache_data(show_spinner=False)
def actions_totaux(db_version: str, departement: str, annee: int | None, siren_epci: str | None) -> dict:
    return q.actions_totaux(database(), departement, annee, siren_epci)


@st.cache_data(show_spinner=False)
def actions_par(db_version: str, departement: str, annee: int | None, by: str, siren_epci: str | None):
    return q.actions_par(database(), departement, annee, by, siren_epci)


@st.cache_data(show_spinner=False)
def actions_liste(db_version: str, departement: str, annee: int | None, siren_epci: str | None):
    return q.actions_liste(database(), departement, annee, siren_epci)


@st.cache_data(show_spinner=False)
def sources(db_version: str, departement: str | None) -> pd.DataFrame:
    return q.sources_cfppa(database(), departement)


@st.cache_data(show_spinner=False)
def source(db_version: str, key: str) -> dict | None:
    return q.source(database(), key)


@st.cache_data(show_spinner=False)
def carte_actions(db_version: str, departement: str, annee: int | None, niveau: str) -> tuple[pd.DataFrame, str]:
    """Actions per commune or EPCI with rates per 1,000 (secrecy applied by the query layer).
    Returns (frame, denominator label)."""
    frame = q.carte_actions(database(), departement, annee, niveau)
    return frame, frame.attrs["denominateur"]


@st.cache_data(show_spinner=False)
def communes_prioritaires(db_version: str, departement: str, annee: int | None) -> pd.DataFrame | None:
    """Priority communes of the fragility method for the year's actions; None without fragility data."""
    return q.communes_prioritaires(database(), departement, annee)


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
    column, axis_label, fmt = value_column(unite)
    kwargs = {"x": x, "y": column} if orientation == "v" else {"y": x, "x": column}
    fig = px.bar(frame, color=colour, orientation=orientation, color_discrete_map=colours,
                 category_orders=order or {}, labels={column: axis_label, **(labels or {})},
                 hover_data={"montant": ":,.2f", "part_pct": ":.1f"}, **kwargs)
    return _layout(fig)


def treemap(frame: pd.DataFrame) -> go.Figure:
    """Financer category → financer → axis, sized by the committed amount."""
    fig = px.treemap(frame, path=[px.Constant("Tous financeurs"), "categorie_financeur", "libelle_financeur",
                                  "axe_libelle"], values="montant", color="categorie_financeur",
                     color_discrete_map={**CATEGORY_COLOURS, "(?)": "#dddddd"})
    fig.update_traces(texttemplate="%{label}<br>%{value:,.0f} €<br>%{percentRoot:.1%}",
                      hovertemplate="%{label}<br>%{value:,.2f} €<br>%{percentRoot:.1%} du total<extra></extra>")
    return _layout(fig, 520)


def secret_note() -> str:
    return (f"Secret statistique : les effectifs de participants de 1 à {SECRET_THRESHOLD - 1} personnes ne "
            "sont ni affichés ni exportés à l'échelle de la commune, de l'EPCI ou de l'action.")
