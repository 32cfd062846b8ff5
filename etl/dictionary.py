"""The data dictionary: `COMMENT ON` statements (etl/dictionary.sql) run by every build, and the
Markdown page generated from the built database (`python -m etl schema --docs docs/schema.md`).

One source of truth: the descriptions live in the SQL file, the build writes them into the database
(`duckdb_tables().comment`, `duckdb_columns().comment`, also readable from users' SQL), and
docs/schema.md is rendered from the database, never edited by hand (tests/test_schema_docs.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SQL_PATH = Path(__file__).with_name("dictionary.sql")
_STATEMENT = re.compile(r"^COMMENT ON (TABLE|COLUMN) (\w+)(?:\.(\w+))? IS '((?:[^']|'')*)';$", re.M)
_SECTION = re.compile(r"^-- ## (.+)$", re.M)

HEADER = """# Schéma de la base (contrat)

<!-- Généré par `python -m etl schema --docs docs/schema.md` depuis la base construite (COMMENT ON de
etl/dictionary.sql) : ne pas modifier à la main ; tests/test_schema_docs.py échoue s'ils divergent. -->

Les noms de tables et de colonnes ci-dessous sont un contrat : on peut interroger la base avec son
propre SQL (`duckdb data/observatoire.duckdb`) et y lire les mêmes descriptions
(`SELECT table_name, comment FROM duckdb_tables()`, `duckdb_columns()`). Les codes sont toujours du
texte (`'01001'`, `'2A004'`, SIREN `'200039022'`). Les géométries sont en WKB (EPSG:4326) : `geometry`
est le contour du paquet, `geometry_simple` la variante simplifiée en couverture (frontières partagées
conservées ; tolérances 150 m communes, 1 km EPCI, 1,5 km départements, 2,5 km régions, en Lambert-93
ou dans le système UTM local outre-mer). Une table est renommée seulement avec une note de migration.
"""


@dataclass
class Section:
    title: str
    tables: list[str] = field(default_factory=list)


def statements(text: str | None = None) -> list[tuple[str, str, str | None, str]]:
    """(kind, table, column, comment) for every statement of the SQL file, in order."""
    text = SQL_PATH.read_text(encoding="utf-8") if text is None else text
    return [(k, t, c or None, v.replace("''", "'")) for k, t, c, v in _STATEMENT.findall(text)]


def sections(text: str | None = None) -> list[Section]:
    text = SQL_PATH.read_text(encoding="utf-8") if text is None else text
    out: list[Section] = []
    for line in text.splitlines():
        if m := _SECTION.match(line):
            out.append(Section(m.group(1)))
        elif (m := _STATEMENT.match(line)) and m.group(1) == "TABLE":
            out[-1].tables.append(m.group(2))
    return out


def apply(con: duckdb.DuckDBPyConnection) -> int:
    """Write the comments of the tables this build created (a partial build skips the others); a
    comment on a column the table does not have raises, so the dictionary cannot drift silently."""
    present = {
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal"
        ).fetchall()
    }
    text = SQL_PATH.read_text(encoding="utf-8")
    written = 0
    for line in text.splitlines():
        m = _STATEMENT.match(line)
        if m and m.group(2) in present:
            con.execute(line)
            written += 1
    return written


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render(con: duckdb.DuckDBPyConnection) -> str:
    """docs/schema.md from a built database: every table, every column with its type and comment."""
    tables = dict(
        con.execute(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal"
        ).fetchall()
    )
    columns: dict[str, list[tuple[str, str, str | None]]] = {}
    for t, c, typ, comment in con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND NOT internal ORDER BY table_name, column_index"
    ).fetchall():
        columns.setdefault(t, []).append((c, typ, comment))
    listed = [t for s in sections() for t in s.tables]
    groups = [(s.title, [t for t in s.tables if t in tables]) for s in sections()]
    others = sorted(set(tables) - set(listed))
    if others:
        groups.append(("Tables sans description (à ajouter dans etl/dictionary.sql)", others))
    lines = [HEADER, "## Tables", ""]
    for title, names in groups:
        lines.append(f"- {title} : " + ", ".join(f"[`{t}`](#{t})" for t in names))
    lines.append("")
    for title, names in groups:
        lines += [f"## {title}", ""]
        for t in names:
            lines += [
                f"### `{t}`",
                "",
                tables[t] or "*(sans description)*",
                "",
                "| colonne | type | sens |",
                "|---|---|---|",
            ]
            lines += [f"| `{c}` | {typ} | {_cell(comment)} |" for c, typ, comment in columns[t]]
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def undocumented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables of the database without a description."""
    return [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal "
            "AND coalesce(comment, '') = '' ORDER BY 1"
        ).fetchall()
    ]


def write_docs(db_path: Path, target: Path) -> bool:
    """Rewrite `target` from the database at `db_path`; True if it changed."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        text = render(con)
    finally:
        con.close()
    old = target.read_text(encoding="utf-8") if target.exists() else None
    if old != text:
        target.write_text(text, encoding="utf-8")
    return old != text
