"""Cached reads for the « Portrait de territoire » page (keyed by the build version)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from methods import indicateurs as method
from query import indicateurs
from ui.data import database


@st.cache_data(show_spinner=False)
def tableau_epci(db_version: str, departement: str, jeu: str, millesime: int, reference, selection: tuple):
    return indicateurs.tableau_epci(database(), departement, jeu, millesime, reference, selection)


@st.cache_data(show_spinner=False)
def communes_of_epci(db_version: str, siren: str, millesime: int, selection: tuple):
    return indicateurs.communes_of_epci(database(), siren, millesime, selection)


@st.cache_data(show_spinner=False)
def vintages(db_version: str, siren: str):
    return indicateurs.vintages(database(), siren, "epci")


def format_valeur(value, unite: str, decimales) -> str:
    """`15,1 %`, `19 088,7 €`, `100,8` (French formats, the catalogue's precision)."""
    from common.format import NBSP, nombre
    decimales = 1 if decimales is None else int(decimales)
    text = nombre(value, decimales)
    if text == "—":
        return text
    if unite == "%":
        return f"{text}{NBSP}%"
    if unite == "%/an":
        return f"{text}{NBSP}%/an"
    if unite in ("€", "€/hab."):
        return f"{text}{NBSP}{unite}"
    return text


def format_ecart(value, unite: str, decimales) -> str:
    """A signed gap: `+1,2 pt`, `−1 476,9 €`."""
    from common.format import NBSP, nombre
    decimales = 1 if decimales is None else int(decimales)
    text = nombre(abs(value), decimales)
    if text == "—":
        return text
    sign = "+" if value > 0 else ("-" if value < 0 else "±")  # ASCII minus: st.metric reads it
    suffix = {"%": f"{NBSP}pt", "%/an": f"{NBSP}pt", "€": f"{NBSP}€", "€/hab.": f"{NBSP}€"}.get(unite, "")
    return f"{sign}{text}{suffix}"


def evolution_table(known, debut: int, fin: int):
    """The evolution of each indicator between two millésimes, formatted for the page and its exports."""
    compared = method.compare_vintages(known, debut, fin)
    meta = known.drop_duplicates("indicateur").set_index("indicateur")
    rows = []
    for r in compared.itertuples():
        unite, dec = meta.at[r.indicateur, "unite"], meta.at[r.indicateur, "decimales"]
        rows.append({"Indicateur": meta.at[r.indicateur, "libelle"],
                     str(debut): format_valeur(r.valeur_debut, unite, dec),
                     str(fin): format_valeur(r.valeur_fin, unite, dec),
                     "Évolution": format_ecart(r.evolution, unite, dec) if r.comparable else "—",
                     "Note": r.note})
    return pd.DataFrame(rows, columns=["Indicateur", str(debut), str(fin), "Évolution", "Note"])


def millesime_label(millesime: int) -> str:
    """`2015`, or « dernier de chaque indicateur » for `query.indicateurs.LATEST`."""
    return "dernier millésime de chaque indicateur" if millesime == indicateurs.LATEST else str(millesime)


def comparable_default(known: pd.DataFrame, fin: int, earlier: list[int]) -> int:
    """Index in `earlier` of the latest millésime sharing a comparable indicator with `fin` (else 0)."""
    for index, year in enumerate(earlier):
        if method.compare_vintages(known, year, fin)["comparable"].any():
            return index
    return 0
