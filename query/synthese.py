"""What each page of the observatory knows about one EPCI, in a few sourced lines: fragility,
CTG / MSA chartes, CFPPA prevention actions. Used by the portrait page and the fiche territoire.

Each part returns None when its tables are not in the database. Counts of people under the
secrecy threshold are never written out.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from common.fiche import Section
from common.format import nombre, pourcentage
from methods.secret import SECRET_THRESHOLD
from query import fragilite as fragility_query
from query.cfppa import annees_publiables
from query.db import Database
from query.publication import composed, no_people, people

STATUTS = {"signee": "signée", "echue": "échue", "en_preparation": "en préparation", "envisagee": "envisagée"}
INSTRUMENTS = {"CTG": "CTG", "CEJ": "CEJ", "charte_msa_familles": "charte MSA familles",
               "charte_msa_aines": "charte MSA aînés", "autre": "autre convention"}


def _source_labels(db: Database, keys) -> tuple[list[str], bool]:
    keys = sorted({k for value in keys if value for k in str(value).split(",")})
    rows = db.rows("SELECT name, vintage, nature FROM sources WHERE list_contains(?, source) ORDER BY name",
                   [keys])
    labels = [f"{name} ({vintage})" if vintage else name for name, vintage, _ in rows]
    return labels, any(nature == "simulated" for _, _, nature in rows)


def _people(n) -> str:
    return "secret (moins de 11)" if n is not None and 0 < n < SECRET_THRESHOLD else nombre(n)


#: Per level of `query.fragilite.assessed`: how to find the territory's département, and its key.
_FRAGILITY_LEVELS = {
    "epci": ("SELECT code_departement FROM epci WHERE siren = ?", "siren_epci"),
    "communes": ("SELECT code_departement FROM communes WHERE code_insee = ?", "code_insee"),
}


def _assessed_row(db: Database, level: str, code: str):
    """(latest millésime, the territories of its département as published, the territory's row), or
    None without fragility data for it."""
    if not db.has_table("fragilite_communes"):
        return None
    dep_sql, key = _FRAGILITY_LEVELS[level]
    years = fragility_query.millesimes(db)
    dep = db.scalar(dep_sql, [code])
    if not years or dep is None:
        return None
    frame = fragility_query.assessed(db, level, max(years), code=dep,
                                     action_years=fragility_query.default_action_years(db, max(years)))
    row = frame[frame[key] == code]
    if row.empty or row["sans_donnees"].all():
        return None
    return max(years), dep, frame, row.iloc[0]


def _window_text(window) -> str:
    if not window:
        return ""
    return f" en {window[0]}" if window[0] == window[1] else f" de {window[0]} à {window[1]}"


@composed
def fragility(db: Database, siren: str) -> Section | None:
    found = _assessed_row(db, "epci", siren)
    if found is None or found[3]["secret"]:
        return None
    year, dep, epcis, row = found
    ranked = epcis.dropna(subset=["score_moyen"]).sort_values("score_moyen", ascending=False)
    rank = ranked["siren_epci"].tolist().index(siren) + 1
    communes = fragility_query.assessed(db, "communes", year, code=dep,
                                        action_years=fragility_query.default_action_years(db, year))
    members = communes[(communes["siren_epci"] == siren) & ~communes["secret"] & ~communes["sans_donnees"]]
    members = members.assign(fragile=members["fragile"].astype(bool), prioritaire=members["prioritaire"].astype(bool))
    lines = [
        f"Score moyen {nombre(row['score_moyen'], 2)} pour {_people(row['n_retraites'])} retraités "
        f"({rank}e sur {len(ranked)} EPCI du département, du plus fragile au moins fragile) ; "
        + (
            "EPCI fragile (≥ moyenne + ½ écart-type des EPCI du département)."
            if row["fragile"]
            else "sous le seuil de fragilité (moyenne + ½ écart-type des EPCI du département)."
        ),
        f"{int(members['fragile'].sum())} commune(s) fragile(s) dont {int(members['prioritaire'].sum())} "
        "prioritaire(s) (fragile, plus de 200 personnes de 60 ans et plus, moins de 2 actions de prévention"
        f"{_window_text(fragility_query.default_action_years(db, year))})"
        + (
            " : " + ", ".join(members.loc[members["prioritaire"], "nom"].head(8))
            if members["prioritaire"].any()
            else ""
        )
        + ".",
    ]
    labels, simulated = _source_labels(db, [row["source"], row.get("source_60_plus")])
    return Section(f"Fragilité des retraités ({year})", lines, simulated, labels)


@composed
def conventions(db: Database, siren: str, on: dt.date | None = None) -> Section | None:
    if not db.has_table("conventions_perimetre"):
        return None
    if on is None:
        # The registry knows conventions up to its last signature: coverage "today" would only show
        # the absence of renewals. Default to the end of the registry's last year.
        last = db.scalar("SELECT max(date_debut) FROM conventions_territoriales WHERE statut = 'signee'")
        on = min(dt.date.today(), dt.date(last.year, 12, 31)) if last else dt.date.today()
    rows = db.rows(
        """SELECT t.instrument, t.intitule, t.date_debut, t.date_fin, t.statut, t.source,
                  sum(c.population) AS population
           FROM conventions_territoriales t JOIN conventions_perimetre p USING (convention_id)
           JOIN communes c ON c.code_insee = p.code_insee
           WHERE c.siren_epci = ? GROUP BY ALL ORDER BY t.date_debut NULLS LAST""", [siren])
    population = db.scalar("SELECT population FROM epci WHERE siren = ?", [siren]) or 0
    active = [r for r in rows if r[4] == "signee" and (r[2] is None or r[2] <= on) and (r[3] is None or r[3] >= on)]
    covered = db.scalar(
        """SELECT sum(c.population) FROM communes c WHERE c.siren_epci = ? AND c.code_insee IN (
               SELECT p.code_insee FROM conventions_perimetre p JOIN conventions_territoriales t USING (convention_id)
               WHERE t.instrument = 'CTG' AND t.statut = 'signee' AND (t.date_debut IS NULL OR t.date_debut <= ?)
                 AND (t.date_fin IS NULL OR t.date_fin >= ?))""", [siren, on, on]) or 0
    lines = [f"Population couverte par une CTG au {on:%d/%m/%Y} (fin de la dernière année du registre) : "
             f"{pourcentage(covered / population if population else None)} ({nombre(covered)} hab.)."]
    for instrument, title, start, end, status, _, _ in rows:
        when = f"{start:%m/%Y}" if start else "date inconnue"
        until = f" → {end:%m/%Y}" if end else ""
        state = "en cours" if (instrument, title, start, end, status) in [r[:5] for r in active] \
            else STATUTS.get(status, status)
        lines.append(f"{INSTRUMENTS.get(instrument, instrument)} — {title} ({when}{until}, {state})")
    if not rows:
        lines.append("Aucune convention connue du registre chargé (le registre embarqué ne contient que "
                     "les conventions nommées par le rapport IGAS).")
    labels, simulated = _source_labels(db, [r[5] for r in rows])
    return Section("Conventions territoriales (CTG, chartes MSA)", lines, simulated, labels)


#: Communes whose actions are counted, per scope (fixed SQL; the code is a parameter).
_ACTION_COMMUNES = {"epci": "SELECT code_insee FROM communes WHERE siren_epci = ?", "commune": "SELECT ?"}


def _actions_of(db: Database, scope: str, code: str):
    """(year, actions, participants, sources, top themes) of the latest year's prevention actions
    held in the scope's communes, or None without CFPPA actions."""
    if not db.has_table("actions_prevention_communes"):
        return None
    year = db.scalar("SELECT max(annee) FROM actions_prevention")
    if year is None:
        return None
    where = (f"annee = ? AND action_id IN (SELECT action_id FROM actions_prevention_communes "
             f"WHERE code_insee IN ({_ACTION_COMMUNES[scope]}))")
    n, participants, sources = db.rows(
        f"SELECT count(*), sum(participants), string_agg(DISTINCT source, ',') FROM actions_prevention "
        f"WHERE {where}", [year, code])[0]
    themes = db.rows(f"SELECT theme, count(*) FROM actions_prevention WHERE {where} "
                     "GROUP BY 1 ORDER BY 2 DESC LIMIT 4", [year, code])
    return year, n, participants, sources, themes


@composed
def prevention_actions(db: Database, siren: str) -> Section | None:
    found = _actions_of(db, "epci", siren)
    if found is None:
        return None
    year, n, participants, sources, themes = found
    lines = [f"{nombre(n)} action(s) collective(s) de prévention en {year} dans les communes de l'EPCI, "
             f"{_people(participants)} participants.",
             "Thèmes principaux : " + (", ".join(f"{t} ({c})" for t, c in themes) or "—") + "."]
    labels, simulated = _source_labels(db, [sources])
    return Section(f"Actions de prévention CFPPA ({year})", lines, simulated, labels)


PROGRAMMES = {"PVD": "Petites villes de demain", "ACV": "Action cœur de ville"}


def _programme_lines(rows) -> list[str]:
    return [f"{PROGRAMMES.get(p, p)} — {nom or code} ({code}), "
            + (f"convention signée le {signed:%d/%m/%Y}" if signed else "date de signature non publiée")
            for p, code, nom, signed, _ in rows]


@composed
def programmes(db: Database, siren: str) -> Section | None:
    """Communes of the EPCI in the ANCT programmes (PVD, ACV), next to the conventions."""
    if not db.has_table("programmes_territoriaux"):
        return None
    rows = db.rows("""SELECT p.programme, p.code_insee, c.nom, p.date_signature, p.source
                      FROM programmes_territoriaux p JOIN communes c USING (code_insee)
                      WHERE c.siren_epci = ? ORDER BY p.programme, c.nom""", [siren])
    if not rows:
        return None
    labels, simulated = _source_labels(db, [r[4] for r in rows])
    return Section("Programmes territoriaux (Petites villes de demain, Action cœur de ville)",
                   _programme_lines(rows), simulated, labels)


@composed
def sections(db: Database, siren: str) -> list[Section]:
    return [s for s in (fragility(db, siren), conventions(db, siren), programmes(db, siren),
                        prevention_actions(db, siren)) if s]


# -- one commune -------------------------------------------------------------------------------------

@composed
def commune_fragility(db: Database, code: str) -> Section | None:
    found = _assessed_row(db, "communes", code)
    if found is None:
        return None
    year, _, _, row = found
    labels, simulated = _source_labels(db, [row["source"], row.get("source_60_plus")])
    if row["secret"]:
        lines = ["Score couvert par le secret statistique (moins de 11 retraités, ou commune masquée avec "
                 "une autre pour que le total de l'EPCI ne la révèle pas)."]
    else:
        yes = {True: "oui", False: "non"}
        lines = [f"Score moyen {nombre(row['score_moyen'], 2)} pour {_people(row['n_retraites'])} retraités ; "
                 f"seuil de fragilité du département {nombre(row['ref_seuil'], 2)} (moyenne + ½ écart-type).",
                 f"Fragile : {yes[bool(row['fragile'])]} ; plus de 200 personnes de 60 ans et plus : "
                 f"{yes[bool(row['concentration'])]} ; actions de prévention"
                 f"{_window_text(fragility_query.default_action_years(db, year))} : "
                 f"{nombre(row['n_actions'])} ; "
                 f"commune prioritaire : {yes[bool(row['prioritaire'])]}."]
    return Section(f"Fragilité des retraités ({year})", lines, simulated, labels)


@composed
def commune_conventions(db: Database, code: str) -> Section | None:
    if not db.has_table("conventions_perimetre"):
        return None
    rows = db.rows(
        """SELECT t.instrument, t.intitule, t.date_debut, t.date_fin, t.statut, t.source
           FROM conventions_territoriales t JOIN conventions_perimetre p USING (convention_id)
           WHERE p.code_insee = ? ORDER BY t.date_debut NULLS LAST""", [code])
    lines = [f"{INSTRUMENTS.get(i, i)} — {title} ({f'{start:%m/%Y}' if start else 'date inconnue'}"
             f"{f' → {end:%m/%Y}' if end else ''}, {STATUTS.get(status, status)})"
             for i, title, start, end, status, _ in rows]
    if not lines:
        lines = ["Aucune convention connue du registre chargé pour cette commune."]
    labels, simulated = _source_labels(db, [r[5] for r in rows])
    return Section("Conventions territoriales (CTG, chartes MSA)", lines, simulated, labels)


@composed
def commune_actions(db: Database, code: str) -> Section | None:
    found = _actions_of(db, "commune", code)
    if found is None:
        return None
    year, n, participants, sources, _ = found
    labels, simulated = _source_labels(db, [sources])
    return Section(f"Actions de prévention CFPPA ({year})",
                   [f"{nombre(n)} action(s) collective(s) tenue(s) dans la commune en {year}, "
                    f"{_people(participants)} participants (toutes communes de ces actions)."],
                   simulated, labels)


@composed
def commune_programmes(db: Database, code: str) -> Section | None:
    if not db.has_table("programmes_territoriaux"):
        return None
    rows = db.rows("""SELECT p.programme, p.code_insee, c.nom, p.date_signature, p.source
                      FROM programmes_territoriaux p JOIN communes c USING (code_insee)
                      WHERE p.code_insee = ? ORDER BY p.programme""", [code])
    if not rows:
        return None
    labels, simulated = _source_labels(db, [r[4] for r in rows])
    return Section("Programmes territoriaux (Petites villes de demain, Action cœur de ville)",
                   _programme_lines(rows), simulated, labels)


@composed
def commune_sections(db: Database, code: str) -> list[Section]:
    parts = (commune_fragility(db, code), commune_conventions(db, code), commune_programmes(db, code),
             commune_actions(db, code))
    return [s for s in parts if s]


@no_people("date de situation du registre des conventions")
def registry_date(db: Database) -> dt.date | None:
    """End of the registry's last year of signatures (coverage "today" would only show the absence
    of renewals), or None without a registry."""
    if not db.has_table("conventions_territoriales"):
        return None
    last = db.scalar("SELECT max(date_debut) FROM conventions_territoriales WHERE statut = 'signee'")
    return min(dt.date.today(), dt.date(last.year, 12, 31)) if last else None


@no_people("conventions signées entre institutions : dates et intitulés, aucun effectif")
def convention_rows(db: Database, scope: str, code: str) -> pd.DataFrame:
    """Conventions touching the EPCI's communes (`scope` "epci") or one commune ("commune") for the
    fiche's timeline: label, start, end, state (« en cours » at the end of the registry's last year)."""
    if not db.has_table("conventions_perimetre"):
        return pd.DataFrame(columns=["label", "start", "end", "state"])
    where = "c.siren_epci = ?" if scope == "epci" else "c.code_insee = ?"
    rows = db.rows(
        f"""SELECT DISTINCT t.instrument, t.intitule, t.date_debut, t.date_fin, t.statut
            FROM conventions_territoriales t JOIN conventions_perimetre p USING (convention_id)
            JOIN communes c ON c.code_insee = p.code_insee WHERE {where}
            ORDER BY t.date_debut NULLS LAST""", [code])
    on = registry_date(db) or dt.date.today()
    out = []
    for instrument, title, start, end, status in rows:
        current = status == "signee" and (start is None or start <= on) and (end is None or end >= on)
        state = "en cours" if current else STATUTS.get(status, status)
        out.append((f"{INSTRUMENTS.get(instrument, instrument)} — {title} ({state})", start, end, state))
    return pd.DataFrame(out, columns=["label", "start", "end", "state"])


@people("participants", group="*", sweep={"year": annees_publiables})
def actions_by_theme(db: Database, scope: str, code: str, year: int) -> pd.DataFrame:
    """Actions of `year` held in the EPCI's communes (`scope` "epci") or in one commune ("commune"),
    by theme: theme, nb_actions, participants (secrecy applied by the layer)."""
    return db.frame(
        f"""SELECT theme, count(*) AS nb_actions, sum(participants) AS participants FROM actions_prevention
            WHERE annee = ? AND action_id IN (SELECT action_id FROM actions_prevention_communes
                                               WHERE code_insee IN ({_ACTION_COMMUNES[scope]}))
            GROUP BY 1 ORDER BY 2 DESC""", [year, code])
