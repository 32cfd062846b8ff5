"""Cached reads and export helpers for the "Aide à domicile" page (keyed by the database version)."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from query import aide_domicile as q
from ui.data import database

#: Colour-blind-safe qualitative palette (Okabe & Ito, 2008).
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@st.cache_data(show_spinner=False)
def paniers_bilan(db_version: str) -> pd.DataFrame:
    return q.paniers_bilan(database())


@st.cache_data(show_spinner=False)
def paniers_caisses(db_version: str) -> list[str]:
    return q.paniers_caisses(database())


@st.cache_data(show_spinner=False)
def paniers_source(db_version: str) -> tuple[str | None, str | None]:
    return q.paniers_source(database())


@st.cache_data(show_spinner=False)
def paniers_mensuel(db_version: str, caisses: tuple[str, ...]) -> pd.DataFrame:
    return q.paniers_mensuel(database(), caisses)


@st.cache_data(show_spinner=False)
def paniers_tableau(db_version: str, caisses: tuple[str, ...]) -> pd.DataFrame:
    return q.paniers_tableau(database(), caisses)


@st.cache_data(show_spinner=False)
def paniers_repartition(db_version: str, caisses: tuple[str, ...], dimension: str) -> pd.DataFrame:
    return q.paniers_repartition(database(), caisses, dimension)


@st.cache_data(show_spinner=False)
def paniers_reperes(db_version: str) -> pd.DataFrame:
    return q.paniers_reperes(database())


@st.cache_data(show_spinner=False)
def cpom_regles(db_version: str) -> pd.DataFrame:
    return q.cpom_regles(database())


@st.cache_data(show_spinner=False)
def saad_catalogue(db_version: str) -> pd.DataFrame:
    return q.saad_catalogue(database())


@st.cache_data(show_spinner=False)
def saad_reperes(db_version: str) -> pd.DataFrame:
    return q.saad_reperes(database())


@st.cache_data(show_spinner=False)
def saad_services(db_version: str, departement: str, siren_epci: str | None) -> pd.DataFrame:
    return q.saad_services(database(), departement, siren_epci)


@st.cache_data(show_spinner=False)
def saad_periodes(db_version: str, departement: str, periodicite: str | None) -> list[str]:
    return q.saad_periodes(database(), departement, periodicite)


@st.cache_data(show_spinner=False)
def saad_valeurs(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_valeurs(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_recettes(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_recettes_par_financeur(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_prix(db_version: str, departement: str, siren_epci: str | None, periode: str) -> pd.DataFrame:
    return q.saad_prix_de_revient(database(), departement, siren_epci, periode)


@st.cache_data(show_spinner=False)
def saad_serie(db_version: str, departement: str, siren_epci: str | None, indicateur: int) -> pd.DataFrame:
    return q.saad_serie(database(), departement, siren_epci, indicateur)


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


def _meta(key: str, title: str):
    """Header block of an export of this page: the tab's sources, simulated flag, territory."""
    from export.meta import ExportMeta
    from ui import data

    prefix = next((p for p in TAB_SOURCES if key.startswith(p)), None)
    sources = data.sources(data.version())
    used = sources[sources["source"].isin(TAB_SOURCES.get(prefix, ()))]
    territory = TAB_TERRITORY.get(prefix) or st.session_state["territoire"].label
    return ExportMeta(title=title[:1].upper() + title[1:], territory=territory,
                      sources=tuple(f"{n} ({v})" if v else n for n, v in zip(used["name"], used["vintage"])),
                      simulated=bool((used["nature"] == "simulated").any()))


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
    from ui.format import nombre
    out = frame.copy()
    for column in columns:
        out[column] = [("secret" if pd.isna(v) else nombre(v)) for v in out[column]]
    return out


def source_caption(labels: pd.DataFrame, keys: list[str], extra: str = "") -> str:
    shown = labels[labels["source"].isin(keys)]
    parts = [f"{r.name} ({r.publisher}{', ' + r.vintage if r.vintage else ''})" for r in shown.itertuples()]
    return "Source : " + " ; ".join(parts) + (f". {extra}" if extra else "")
