"""Reads of the publication journal, and the key figures a publication compares before → after.

The key figures are computed by the same declared reads and methods as the pages (coverage from
`query.ctg` and `methods.ctg`), so the journal never shows a figure the pages would not.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pandas as pd

from common.store import BASCULE, EN_COURS, Store, served_version
from methods import ctg as ctg_method
from query import ctg as ctg_reads
from query import fragilite as fragilite_reads
from query.db import Database
from query.publication import composed, no_people

#: Date of the CTG coverage compared in the journal: the report's reference date (« au 31 décembre
#: 2020 », l.2561, l.4552), the CTG page's default date (ui/ctg.py `DEFAULT_DATE`).
COVERAGE_DATE = dt.date(2020, 12, 31)

KEY_FIGURES = ("populations couvertes (INSEE, publiques), nombres de conventions et d'EPCI : "
               "aucun effectif de personnes")
JOURNAL = ("journal des publications : fichiers, dates, auteurs, comptes de lignes par table et chiffres "
           "clés issus des lectures déclarées de query/")


def _pct(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + " %"


@composed
def key_figures(db: Database) -> list[dict]:
    """[{indicateur, territoire, valeur, texte}] of one database: CTG coverage of each département at
    `COVERAGE_DATE`, conventions loaded, EPCI carrying official INSEE indicators, mean fragility score
    of each département (the page's `@people` read: masked, « secret », under the threshold)."""
    figures: list[dict] = []
    tables = set(db.tables())
    if {"fragilite_departements", "fragilite_communes"} <= tables:
        years = fragilite_reads.millesimes(db)
        if years:
            scores = fragilite_reads.departements(db, years[0])
            for row in scores.itertuples():
                score = None if pd.isna(row.score_moyen) else round(float(row.score_moyen), 2)
                figures.append(
                    {
                        "indicateur": f"score de fragilité moyen {years[0]}",
                        "territoire": row.code_departement,
                        "valeur": score,
                        "texte": "secret" if score is None else f"{score:.2f}".replace(".", ","),
                    }
                )
    if {"conventions_territoriales", "conventions_perimetre", "communes"} <= tables:
        coverage = ctg_method.compute_coverage(ctg_reads.communes_population(db), ctg_reads.conventions(db),
                                               ctg_reads.perimetre(db), COVERAGE_DATE, ("CTG",), "departement")
        for row in coverage.itertuples():
            if pd.notna(row.taux):
                figures.append({"indicateur": "couverture CTG", "territoire": row.code,
                                "valeur": round(float(row.taux), 4), "texte": _pct(float(row.taux))})
        n = db.scalar("SELECT count(*) FROM conventions_territoriales")
        figures.append({"indicateur": "conventions territoriales", "territoire": "base", "valeur": n,
                        "texte": f"{n}"})
    if "indicateurs" in tables:
        n = db.scalar("SELECT count(DISTINCT code_geo) FROM indicateurs WHERE niveau = 'epci' AND jeu = 'insee'")
        figures.append({"indicateur": "EPCI avec indicateurs INSEE", "territoire": "base", "valeur": n,
                        "texte": f"{n}"})
    return figures


@no_people("comparaison de deux résultats de key_figures, déjà déclarés")
def moved(before: list[dict], after: list[dict]) -> list[dict]:
    """The figures whose value changed, « couverture CTG 33 : 0,0 % → 23,4 % »."""
    old = {(f["indicateur"], f["territoire"]): f for f in before}
    new = {(f["indicateur"], f["territoire"]): f for f in after}
    out = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a and b and a["valeur"] == b["valeur"]:
            continue
        where = "" if key[1] == "base" else f" {key[1]}"
        text = f"{key[0]}{where} : {a['texte'] if a else '—'} → {b['texte'] if b else '—'}"
        out.append({"indicateur": key[0], "territoire": key[1], "avant": a and a["valeur"],
                    "apres": b and b["valeur"], "texte": text})
    return out


def _alive(pid) -> bool:
    return bool(pid) and Path(f"/proc/{int(pid)}").exists()


def _status(row: dict, busy: bool) -> str:
    if row["status"] in (EN_COURS, BASCULE) and not (busy and _alive(row.get("pid"))):
        return "interrompue"
    return row["status"]


def _names(items) -> str:
    return ", ".join(f"{i['name']}" for i in items or [])


@no_people(JOURNAL)
def publications(store: Store | None = None) -> pd.DataFrame:
    """One row per journal entry, newest first, as the « Journal » page and its CSV show it."""
    store = store or Store()
    busy = store.busy()
    rows = []
    for r in store.rows():
        counts = r.get("row_counts") or {}
        changed = [f"{t} : {a if a is not None else '—'} → {b if b is not None else '—'}"
                   for t, (a, b) in sorted(counts.items()) if a != b]
        rows.append({
            "id": r["id"], "debut": r["started_at"], "fin": r["finished_at"], "qui": r["who"],
            "action": r["action"], "statut": _status(r, busy), "mode": r.get("mode") or "",
            "fichiers_ajoutes": _names(r.get("files_added")),
            "fichiers_remplaces": _names(r.get("files_replaced")),
            "fichiers_retires": _names(r.get("files_withdrawn")),
            "empreintes": ", ".join(f"{i['name']}={i['sha256']}" for i in
                                    (r.get("files_added") or []) + (r.get("files_replaced") or [])),
            "duree_s": r.get("duration_s"), "version": r.get("version"), "retour_a": r.get("rollback_of"),
            "lignes_avant_apres": " ; ".join(changed),
            "chiffres_cles": " ; ".join(f["texte"] for f in r.get("key_figures") or []),
            "etapes": ", ".join(r.get("steps") or []), "rapport": r.get("report") or "",
            "progression": r.get("progress") or "",
            "version_conservee": bool(r.get("version")) and store.version_path(r["version"]).exists(),
        })
    frame = pd.DataFrame(rows, columns=[
        "id", "debut", "fin", "qui", "action", "statut", "mode", "fichiers_ajoutes", "fichiers_remplaces",
        "fichiers_retires", "empreintes", "duree_s", "version", "retour_a", "lignes_avant_apres",
        "chiffres_cles", "etapes", "rapport", "progression", "version_conservee"])
    return frame.iloc[::-1].reset_index(drop=True)


@no_people(JOURNAL)
def journal_csv(frame: pd.DataFrame) -> bytes:
    """French CSV (`;`, UTF-8 with BOM), cells a spreadsheet would run as formulas neutralised."""
    safe = frame.astype("object").where(frame.notna(), "").map(
        lambda c: "'" + str(c) if str(c)[:1] in ("=", "+", "@", "-", "\t", "\r") else c)
    buffer = io.StringIO()
    safe.to_csv(buffer, sep=";", index=False, lineterminator="\r\n")
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@no_people(JOURNAL)
def published_inputs(db_path: Path, store: Store | None = None) -> pd.DataFrame:
    """The files the served database was built from: name, who published it, when, SHA-256."""
    store = store or Store()
    version = served_version(store, Path(db_path))
    columns = ["fichier", "type", "publie_par", "publie_le", "sha256", "nom_d_origine"]
    if version is None:
        return pd.DataFrame(columns=columns)
    rows = [r for r in store.rows(where="version = ? AND status = 'réussie'", params=[version])]
    manifest = (rows[-1].get("manifest") if rows else None) or {}
    return pd.DataFrame([{"fichier": name, "type": m.get("kind"), "publie_par": m.get("who"),
                          "publie_le": m.get("at"), "sha256": m.get("sha256"),
                          "nom_d_origine": m.get("original")} for name, m in sorted(manifest.items())],
                        columns=columns)


@no_people(JOURNAL)
def current_manifest(db_path: Path, store: Store | None = None) -> dict:
    frame = published_inputs(db_path, store)
    return {r.fichier: r.type for r in frame.itertuples()}
