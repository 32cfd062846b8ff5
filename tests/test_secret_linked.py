"""Secrecy of linked tables: every table a page can produce by moving a parameter that shifts a
boundary over people (the individual score threshold, the age-band edges) is published together with
the others, so the difference of two of them is a cell too.

The attack below is the one a user can run from the page: read `query.fragilite.assessed` for every
allowed value of each swept parameter (declared on the read, `People.sweep`) and
- subtract two published counts of the same territory (people with a score between two thresholds);
- subtract two published total scores (mean × retirees) whose age edges differ by one edge (people
  of the age band between the two edges);
- subtract the published communes of an EPCI from its published total (EPCI view) under two values,
  when the same communes are masked (what the masked communes hold between the two values).
Any such difference of 1 to 10 people is a disclosed cell: the test fails and prints how many.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil

import pandas as pd
import pytest

import query
from methods import fragilite as method
from methods.secret import SECRET_THRESHOLD
from query import fragilite as q
from query.publication import People, SecrecyBreach, allowed_values

DEPARTEMENT = "35"


def _small(d) -> bool:
    return 0 < abs(d) < SECRET_THRESHOLD


def _people_reads():
    for info in pkgutil.iter_modules(query.__path__):
        if info.name in {"db", "publication"}:
            continue
        module = importlib.import_module(f"query.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and isinstance(getattr(fn, "__secrecy__", None), People):
                yield f"{info.name}.{name}", fn


#: Parameters of `@people` reads that select *which* territory or table is read, not where a boundary
#: over people falls; each is either swept (declared in `People.sweep`) or listed here with why.
NOT_BOUNDARIES = {
    "db", "departement", "siren_epci", "code", "scope", "level", "niveau", "caisses", "dimension", "by",
    "periode", "indicateur", "code_geo", "millesime", "params",
}
#: Parameters that move a boundary over something other than people.
NOT_PEOPLE = {"fragilite.assessed(action_years)": "fenêtre des actions : compte des actions, pas des personnes",
              "cfppa.communes_prioritaires(annee)": "année des actions : compte des actions, pas des personnes"}


def test_every_parameter_of_a_people_read_is_swept_or_selects_a_territory():
    unswept = []
    for name, fn in _people_reads():
        spec = fn.__secrecy__
        for param in inspect.signature(fn).parameters:
            if param not in NOT_BOUNDARIES and param not in spec.sweep \
                    and f"{name}({param})" not in NOT_PEOPLE:
                unswept.append(f"{name}({param})")
    assert unswept == []


def _read(db, level, edges=method.DEFAULT_AGE_EDGES, threshold=method.DEFAULT_SCORE_THRESHOLD):
    frame = q.assessed(db, level, 2023, edges, threshold, "departement", DEPARTEMENT)
    key = "code_insee" if level == "communes" else "siren_epci"
    if level == "communes":
        frame = frame[frame["code_departement"] == DEPARTEMENT]
    return frame.set_index(key)


def _values(frames: dict, column: str) -> pd.DataFrame:
    return pd.DataFrame({p: pd.to_numeric(f[column], errors="coerce") for p, f in frames.items()})


def _pairwise_small(values: pd.DataFrame) -> int:
    found = 0
    for a, b in itertools.combinations(values.columns, 2):
        d = (values[a] - values[b]).dropna()
        found += int(d.map(_small).sum())
    return found


def _epci_residuals(communes: dict, epci: dict, column: str, db) -> int:
    """EPCI totals minus published member communes, compared between parameter values with the same
    masked communes (EPCI entirely inside the département only, so both views hold every member)."""
    members = q._communes(db, 2023)[["code_insee", "siren_epci", "code_departement"]]
    inside = members.groupby("siren_epci")["code_departement"].agg(lambda s: set(s) == {DEPARTEMENT})
    found = 0
    residuals = {}
    for p in communes:
        c = communes[p]
        e = pd.to_numeric(epci[p][column], errors="coerce")
        for siren, rows in c.groupby("siren_epci"):
            if not inside.get(siren, False) or pd.isna(e.get(siren)):
                continue
            values = pd.to_numeric(rows[column], errors="coerce")
            masked = frozenset(values[values.isna()].index)
            if masked:
                residuals.setdefault((siren, masked), []).append(e[siren] - values.sum())
    for values in residuals.values():
        found += sum(_small(a - b) for a, b in itertools.combinations(values, 2))
    return found


def _sweep(db, parameter, read=q.assessed):
    spec = read.__secrecy__
    assert parameter in spec.sweep, f"{read.__name__} ne déclare pas le balayage de {parameter}"
    return allowed_values(spec, parameter, db)


def test_no_cell_of_1_to_10_people_recoverable_by_moving_the_score_threshold(small_db):
    thresholds = _sweep(small_db, "threshold")
    communes = {t: _read(small_db, "communes", threshold=t) for t in thresholds}
    epci = {t: _read(small_db, "epci", threshold=t) for t in thresholds}
    found = {
        "communes": _pairwise_small(_values(communes, "n_fragiles")),
        "epci": _pairwise_small(_values(epci, "n_fragiles")),
        "résidus EPCI − communes": _epci_residuals(communes, epci, "n_fragiles", small_db),
    }
    assert sum(found.values()) == 0, f"cellules de 1 à 10 personnes retrouvables (35) : {found}"


def _one_edge_apart(edge_sets):
    for a, b in itertools.combinations(edge_sets, 2):
        if sum(x != y for x, y in zip(a, b)) == 1:
            yield a, b


def test_no_age_band_of_1_to_10_people_recoverable_by_moving_the_age_edges(small_db):
    edge_sets = _sweep(small_db, "edges")
    found = {}
    for level in ("communes", "epci"):
        frames = {e: _read(small_db, level, edges=e) for e in edge_sets}
        totals = pd.DataFrame({e: pd.to_numeric(f["score_moyen"], errors="coerce")
                               * pd.to_numeric(f["n_retraites"], errors="coerce") for e, f in frames.items()})
        n = 0
        for a, b in _one_edge_apart(edge_sets):
            d = (totals[a] - totals[b]).dropna().round()
            n += int(d.map(_small).sum())
        found[level] = n
        found[f"{level} n_fragiles"] = _pairwise_small(_values(frames, "n_fragiles"))
    assert sum(found.values()) == 0, f"cellules de 1 à 10 personnes retrouvables (35) : {found}"


def test_the_attack_finds_the_cells_a_naive_publication_would_leak(small_db):
    """The attack is not blind: on the raw counts (no linked rule) it finds small cells."""
    raw = {t: q._communes(small_db, 2023, threshold=t).set_index("code_insee") for t in range(5, 9)}
    assert _pairwise_small(_values(raw, "n_fragiles")) > 0


def test_participants_are_published_one_year_at_a_time(small_db):
    """« All years » next to each year would give a masked year by subtraction: the CFPPA reads take
    one year of `annees_publiables` only, and each year's table passes the ordinary rule."""
    from query import cfppa
    years = _sweep(small_db, "annee", cfppa.actions_totaux)
    assert years and None not in years
    for read in (cfppa.actions_totaux, cfppa.actions_liste):
        with pytest.raises(SecrecyBreach, match="non publiable"):
            read(small_db, DEPARTEMENT, None)
    with pytest.raises(SecrecyBreach, match="non publiable"):
        cfppa.carte_actions(small_db, DEPARTEMENT, None, "communes")
    with pytest.raises(SecrecyBreach, match="non publiable"):
        cfppa.actions_par(small_db, DEPARTEMENT, 1999, "theme")
    for year in years:
        cfppa.carte_actions(small_db, DEPARTEMENT, year, "communes")  # checked by the layer


def test_the_score_threshold_outside_its_allowed_values_is_refused(small_db):
    with pytest.raises(SecrecyBreach, match="non publiable"):
        q.assessed(small_db, "communes", 2023, method.DEFAULT_AGE_EDGES, 12, "departement", DEPARTEMENT)


def test_the_served_fragility_page_leaks_no_cell_when_the_threshold_slider_moves(small_db_path, monkeypatch):
    """The same attack on what the page shows: for every slider value, the ranked table's share
    « score ≥ T » times the retirees gives n_fragiles exactly for communes under 1 000 retirees (the
    share is printed to 0,1 %); two thresholds must never isolate 1 to 10 people."""
    from tests.conftest import run_page
    counts = {}
    for t in _sweep(None, "threshold"):
        app = run_page(small_db_path, monkeypatch, "pages/fragilite.py",
                       {"dep": "35", "frag_level": "communes", "frag_seuil": str(t)})
        table = app.dataframe[0].value.set_index("Code")
        share = pd.to_numeric(table[f"Part score ≥ {t}"].astype(str).str.replace(",", ".")
                              .str.replace("\u202f", ""), errors="coerce")
        n = pd.to_numeric(table["Retraités"], errors="coerce")
        counts[t] = (share / 100 * n).round().where(n < 1000)
    found = _pairwise_small(pd.DataFrame(counts))
    assert found == 0, f"{found} différences de 1 à 10 personnes lisibles sur la page"


def test_the_home_help_series_is_published_monthly_only(small_db):
    from query import aide_domicile as ad
    ad.saad_serie(small_db, DEPARTEMENT, None, 5)
    with pytest.raises(SecrecyBreach, match="non publiable"):
        ad.saad_serie(small_db, DEPARTEMENT, None, 5, "T")
