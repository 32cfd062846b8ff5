"""docs/schema.md is generated from the built database's COMMENT ON (etl/dictionary.sql): it fails
when the page and the database disagree, or when a table of the build has no description."""

from pathlib import Path

import duckdb

from etl import dictionary

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "schema.md"


def test_docs_match_the_built_database(small_db_path):
    with duckdb.connect(str(small_db_path), read_only=True) as con:
        rendered = dictionary.render(con)
    assert DOCS.read_text(encoding="utf-8") == rendered, (
        "docs/schema.md differs from the database: run `python -m etl schema --docs docs/schema.md` "
        "on a fresh build (`python -m etl build --departements 35,61`)"
    )


def test_every_table_of_the_build_is_described(small_db_path):
    with duckdb.connect(str(small_db_path), read_only=True) as con:
        assert dictionary.undocumented(con) == []
        described = {t for k, t, c, _ in dictionary.statements() if k == "TABLE"}
        tables = {
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal"
            ).fetchall()
        }
    assert described == tables, "etl/dictionary.sql describes tables the build does not create, or misses some"


def test_a_comment_on_a_missing_column_fails_the_build(tmp_path):
    con = duckdb.connect()
    con.execute("CREATE TABLE sources (source TEXT)")
    try:
        dictionary.apply(con)
    except duckdb.Error as exc:
        assert "name" in str(exc) or "column" in str(exc).lower()
    else:
        raise AssertionError("a COMMENT ON COLUMN for a column the table lacks must raise")


def test_an_incremental_publication_keeps_the_descriptions(small_db_path, tmp_path):
    """`etl.publish.build_incremental` drops and re-creates a family's tables: their COMMENT ON
    come back (the page stays true for a database managed by publications)."""
    from etl import ctg, publish

    inputs = tmp_path / "entrees"
    inputs.mkdir()
    target = tmp_path / "publiee.duckdb"
    publish.build_incremental(small_db_path, target, [ctg], inputs, ["35", "61"])
    with duckdb.connect(str(target), read_only=True) as con:
        assert dictionary.undocumented(con) == []
        assert dictionary.render(con) == DOCS.read_text(encoding="utf-8")
