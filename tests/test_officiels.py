"""The files publishers ship today (tests/fixtures/officiels, written by its make_fixtures.py in the
publishers' exact layouts): exact values loaded, secrecy counted, and every file of the folder ends the
build loaded, rejected or not read — never ignored in silence."""

import shutil
import zipfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import build, contract, programmes
from etl.errors import InputRejected
from etl.insee import loader as insee
from query import ctg as ctg_query
from query import synthese
from query.db import Database

OFFICIELS = Path(__file__).resolve().parent / "fixtures" / "officiels"
STEPS = [*build.REFERENCE_STEPS, *insee.STEPS, *programmes.STEPS]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("officiels") / "officiels.duckdb"
    result = build.build(path, ["35", "61"], input_dir=OFFICIELS, steps=STEPS)
    con = duckdb.connect(str(path), read_only=True)
    yield con, result
    con.close()


@pytest.fixture(scope="module")
def database(built):
    return Database(built[1].db_path)


def _value(con, indicateur, niveau, code, millesime, source_prefix):
    rows = con.execute("SELECT valeur FROM indicateurs WHERE indicateur = ? AND niveau = ? AND code_geo = ? "
                       "AND millesime = ? AND source LIKE ?",
                       [indicateur, niveau, code, millesime, f"{source_prefix}%"]).fetchall()
    assert len(rows) <= 1
    return rows[0][0] if rows else None


def test_filosofi_melodi_2023_values_are_loaded_as_published(built):
    con, _ = built
    assert _value(con, "revenu_median_uc", "commune", "61001", 2023, "insee-filosofi-melodi") == 19850
    assert _value(con, "taux_pauvrete", "commune", "61001", 2023, "insee-filosofi-melodi") == 18.3
    assert _value(con, "revenu_d1_uc", "commune", "61001", 2023, "insee-filosofi-melodi") == 11200
    assert _value(con, "revenu_d9_uc", "commune", "61001", 2023, "insee-filosofi-melodi") == 35400
    assert _value(con, "indice_gini", "commune", "61001", 2023, "insee-filosofi-melodi") == 0.285
    assert _value(con, "revenu_median_uc", "epci", "246100663", 2023, "insee-filosofi-melodi") == 21100
    assert _value(con, "revenu_median_uc", "departement", "61", 2023, "insee-filosofi-melodi") == 21430
    assert _value(con, "revenu_median_uc", "region", "28", 2023, "insee-filosofi-melodi") == 22480
    assert _value(con, "revenu_median_uc", "france", "FR", 2023, "insee-filosofi-melodi") == 23160


def test_formats_table_marks_today_layouts_as_loaded(built):
    con, _ = built
    charged = dict(con.execute("SELECT format, charge FROM indicateurs_formats").fetchall())
    assert charged["insee-filosofi-melodi"] and charged["cafdata-couverture-pe"] and charged["insee-rp-struct-pop"]
    assert not charged["insee-filosofi-disp"]


def test_confidential_melodi_cells_give_no_row_and_are_counted(built):
    con, result = built
    assert con.execute("SELECT count(*) FROM indicateurs WHERE code_geo = '61483' "
                       "AND source LIKE 'insee-filosofi%'").fetchone()[0] == 0
    messages = [m for _, m in result.warnings if m.startswith("FILOSOFI_CC_csv.zip")]
    assert any("2 valeur(s) sous secret statistique (CONF_STATUS = C)" in m for m in messages)
    assert any("1 ligne(s) d'autres niveaux" in m for m in messages)      # the ARM row
    assert any("1 ligne(s) d'autres mesures" in m for m in messages)      # IR_D9_D1_SL


def test_a_median_of_a_merged_commune_is_dropped_through_the_2025_cog_events(built):
    con, result = built
    assert con.execute("SELECT count(*) FROM indicateurs WHERE code_geo IN ('61135', '61096') "
                       "AND source LIKE 'insee-filosofi%'").fetchone()[0] == 0
    assert any(m == "FILOSOFI_CC_csv.zip : 1 valeur(s) de communes fusionnées ignorées (une médiane ou un taux de "
               "pauvreté ne s'additionne pas)" for _, m in result.warnings)


def test_the_build_command_prints_every_input_file_and_its_fate(tmp_path, capsys):
    from etl.__main__ import main as cli
    assert cli(["build", "--db", str(tmp_path / "cli.duckdb"), "--departements", "61",
                "--input", str(OFFICIELS)]) == 0
    err = capsys.readouterr().err
    assert "Fichiers du dossier d'entrée" in err
    for name in ("FILOSOFI_CC_csv.zip", "txcouv_pe_nat.csv", "petites_villes_de_demain.csv"):
        assert name in err


def test_two_filosofi_vintages_coexist_each_with_its_source(built):
    con, _ = built
    rows = con.execute("SELECT millesime, valeur, source FROM indicateurs WHERE indicateur = 'revenu_median_uc' "
                       "AND code_geo = '61001' AND niveau = 'commune' ORDER BY millesime").fetchall()
    assert rows == [(2021, 18540.0, "insee-filosofi-melodi-2021"), (2023, 19850.0, "insee-filosofi-melodi-2023")]
    vintages = dict(con.execute("SELECT source, vintage FROM sources WHERE source LIKE 'insee-filosofi-melodi%'")
                    .fetchall())
    assert vintages == {"insee-filosofi-melodi-2021": "2021", "insee-filosofi-melodi-2023": "2023"}


def test_census_2022_upper_case_csv_in_zip_keeps_weighted_decimals(built):
    con, _ = built
    assert _value(con, "population", "commune", "61001", 2022, "insee-rp-struct-pop") == 25700.4
    # 75 and over at commune level = POP7589 + POP90P
    assert _value(con, "part_75_plus", "commune", "61001", 2022, "insee-rp-struct-pop") == \
        pytest.approx(100 * (2900.3 + 600.2) / 25700.4)
    # variation from the earlier census of the file (P16_POP), 6 years
    assert _value(con, "variation_population", "commune", "35238", 2022, "insee-rp-struct-pop") == \
        pytest.approx(100 * ((227800.5 / 216800) ** (1 / 6) - 1))


def test_cog_2025_files_are_recorded_as_sources(built):
    con, _ = built
    names = dict(con.execute("SELECT source, file_name FROM sources WHERE source LIKE 'insee-cog%'").fetchall())
    assert names == {"insee-cog-communes-2025": "v_commune_2025.csv",
                     "insee-cog-mvtcommune-2025": "v_mvt_commune_2025.csv"}


def test_data_caf_fr_exports_field_names_labels_decimal_commas_and_placeholders(built):
    con, result = built
    assert _value(con, "taux_couverture_accueil", "epci", "246100663", 2022, "cafdata") == 61.4
    assert _value(con, "taux_couverture_accueil", "epci", "243500139", 2022, "cafdata") == 72.8
    assert _value(con, "taux_couverture_accueil", "departement", "61", 2022, "cafdata") == 58.7  # label header
    assert _value(con, "taux_couverture_accueil", "departement", "35", 2022, "cafdata") == 68.1
    assert any("txcouv_pe_epci.csv : 1 ligne(s) au code provisoire" in m for _, m in result.warnings)


def test_caf_allocataires_are_loaded_as_published_rounded_to_five(built):
    con, result = built
    assert _value(con, "foyers_allocataires_caf", "commune", "61001", 2023, "cnaf-allocataires") == 6415
    assert _value(con, "personnes_couvertes_caf", "commune", "35238", 2023, "cnaf-allocataires") == 118905
    assert _value(con, "foyers_rsa_caf", "commune", "61483", 2023, "cnaf-allocataires") is None  # masked cell
    assert _value(con, "foyers_prime_activite_caf", "commune", "61483", 2023, "cnaf-allocataires") == 55
    # a département is the sum of the published commune values (nothing unrounded)
    assert _value(con, "foyers_allocataires_caf", "departement", "61", 2023, "cnaf-allocataires") == 6415 + 245
    assert any("s_ben_com_f.csv : 1 ligne(s) de foyers non localisés" in m for _, m in result.warnings)
    # a published count of 5 households stays in the database, as published…
    assert _value(con, "foyers_af_caf", "commune", "61483", 2023, "cnaf-allocataires") == 5
    unit, calcul = con.execute("SELECT unite, calcul FROM indicateurs_catalogue "
                               "WHERE indicateur = 'foyers_allocataires_caf'").fetchone()
    assert (unit, calcul) == ("foyers", "somme")


def test_every_file_of_the_official_folder_is_loaded_rejected_or_not_read(built):
    con, result = built
    on_disk = sorted(p.name for p in OFFICIELS.iterdir())
    assert sorted(f.file for f in result.files) == on_disk
    assert all(f.status in contract.STATUSES for f in result.files)
    table = dict(con.execute("SELECT fichier, statut FROM fichiers_entree").fetchall())
    assert sorted(table) == on_disk
    assert table["FILOSOFI_CC_csv.zip"] == table["base-cc-filosofi-2021-geo2025_csv.zip"] == "chargé"
    assert table["txcouv_pe_epci.csv"] == table["txcouv_pe_dep.csv"] == table["v_commune_2025.csv"] == "chargé"
    assert table["s_ben_com_f.csv"] == table["petites_villes_de_demain.csv"] == "chargé"
    assert table["action_coeur_de_ville.csv"] == "chargé"
    assert table["txcouv_pe_nat.csv"] == table["lisez-moi.txt"] == "non lu"


def test_an_official_looking_file_in_an_unknown_layout_says_found_and_expected_columns(built):
    con, result = built
    warnings = [m for step, m in result.warnings if step == "fichiers d'entrée"]
    national = next(m for m in warnings if m.startswith("txcouv_pe_nat.csv"))
    assert "Cnaf data.caf.fr" in national
    assert "colonnes trouvées : annee, txcouv_nat" in national
    assert "txcouv_epci" in national  # what is expected
    readme = next(m for m in warnings if m.startswith("lisez-moi.txt"))
    assert "nom non reconnu" in readme and "filosofi_cc_csv" in readme and "txcouv_pe_epci*" in readme
    stored = {r[0] for r in con.execute("SELECT message FROM build_warnings WHERE step = 'fichiers d''entrée'")
              .fetchall()}
    assert national in stored


def _melodi_zip(path: Path, text: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("DS_FILOSOFI_CC_2023_data.csv", ("\ufeff" + text).encode("utf-8"))


def test_a_bad_melodi_value_rejects_the_build_and_names_every_file(tmp_path):
    folder = tmp_path / "input"
    shutil.copytree(OFFICIELS, folder)
    _melodi_zip(folder / "FILOSOFI_CC_csv.zip",
                "GEO;GEO_OBJECT;FILOSOFI_MEASURE;UNIT_MEASURE;UNIT_MULT;CONF_STATUS;OBS_STATUS;TIME_PERIOD;OBS_VALUE\n"
                "61001;COM;MED_SL;EUR_YR;0;F;A;2023;19850\n"
                "61096;COM;MED_SL;EUR_YR;0;F;A;2023;n/a\n")
    db = tmp_path / "rejected.duckdb"
    with pytest.raises(InputRejected) as caught:
        build.build(db, ["61"], input_dir=folder, steps=STEPS)
    problem = caught.value.problems[0]
    assert (problem.file, problem.row, problem.column, problem.value) == ("FILOSOFI_CC_csv.zip", 3, "OBS_VALUE", "n/a")
    outcomes = {f.file: f.status for f in caught.value.files}
    assert outcomes["FILOSOFI_CC_csv.zip"] == contract.REJECTED
    assert set(outcomes) == {p.name for p in folder.iterdir()}
    assert not db.exists()


def test_a_melodi_file_without_its_measure_column_lists_columns_found_and_expected(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    _melodi_zip(folder / "FILOSOFI_CC_csv.zip", "GEO;GEO_OBJECT;TIME_PERIOD;OBS_VALUE\n61001;COM;2023;19850\n")
    with pytest.raises(InputRejected) as caught:
        build.build(tmp_path / "x.duckdb", ["61"], input_dir=folder, steps=STEPS)
    problem = caught.value.problems[0]
    assert problem.column == "FILOSOFI_MEASURE"
    assert problem.value == ["GEO", "GEO_OBJECT", "TIME_PERIOD", "OBS_VALUE"]
    assert "GEO;GEO_OBJECT;FILOSOFI_MEASURE;UNIT_MEASURE" in problem.expected


def test_programme_lists_load_both_date_formats_and_today_codes(built):
    con, _ = built
    rows = con.execute("SELECT programme, code_insee, code_insee_publie, identifiant, date_signature "
                       "FROM programmes_territoriaux ORDER BY programme, code_insee").fetchall()
    assert [(p, c, pub, i, d.isoformat()) for p, c, pub, i, d in rows] == [
        ("ACV", "61001", "61001", "ACV-61-001", "2018-09-28"),   # DD-MM-YYYY
        ("PVD", "35012", "35012", "PVD-35-003", "2021-04-02"),   # DD/MM/YYYY (2026 format)
        ("PVD", "61096", "61135", "PVD-61-020", "2021-06-30"),   # ISO; Couterne → Rives d'Andaine
        ("PVD", "61483", "61483", "PVD-61-012", "2021-03-15")]


def test_programme_communes_outside_the_build_are_counted_not_rejected(built):
    _, result = built
    assert ("programmes territoriaux", "petites_villes_de_demain.csv : 1 commune(s) hors des départements construits "
            "(ou du référentiel), ignorée(s)") in result.warnings


def test_a_wide_file_under_the_melodi_name_is_rejected_with_its_real_header(tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    with zipfile.ZipFile(folder / "base-cc-filosofi-2021-geo2025_csv.zip", "w") as archive:
        archive.writestr(
            "base-cc-filosofi-2021-geo2025.csv",
            "CODGEO;LIBGEO;NBMENFISC21;MED21;TP6021\n61001;Alençon;12600;18100;19\n",
        )
    with pytest.raises(InputRejected) as caught:
        build.build(tmp_path / "x.duckdb", ["61"], input_dir=folder, steps=STEPS)
    problem = caught.value.problems[0]
    assert problem.value == ["CODGEO", "LIBGEO", "NBMENFISC21", "MED21", "TP6021"]
    assert problem.column == "GEO" and "GEO;GEO_OBJECT;FILOSOFI_MEASURE" in problem.expected


def test_programmes_are_shown_next_to_conventions_on_the_portrait_and_the_ctg_page(database):
    alencon = synthese.commune_sections(database, "61001")
    titles = [s.title for s in alencon]
    assert "Programmes territoriaux (Petites villes de demain, Action cœur de ville)" in titles
    section = next(s for s in alencon if s.title.startswith("Programmes"))
    assert section.lines == ["Action cœur de ville — Alençon (61001), convention signée le 28/09/2018"]
    page = ctg_query.programmes(database, "61")
    assert sorted(page["code_insee"]) == ["61001", "61096", "61483"]


def test_small_published_caf_counts_are_masked_by_the_query_layer(database):
    from query import indicateurs as q
    values = q.vintages(database, "61483", "commune").set_index("indicateur")
    assert pd.isna(values.at["foyers_af_caf", "valeur"])           # 5 households: secret on every page
    assert values.at["foyers_prime_activite_caf", "valeur"] == 55  # above the threshold: as published
    assert "foyers_allocataires_caf" not in q.available_indicators(database, "61", "insee", 2023)


def test_check_page_lists_the_last_builds_input_files_with_their_fate(tmp_path, monkeypatch):
    from tests.conftest import run_page
    db = tmp_path / "page.duckdb"
    build.build(db, ["61"], input_dir=OFFICIELS)  # every step: the app needs every table
    app = run_page(db, monkeypatch, "pages/verifier.py", {"dep": "61"})
    labels = [e.label for e in app.expander]
    summary = next(label for label in labels if label.startswith("Dernière construction"))
    n_files = len(list(OFFICIELS.iterdir()))
    assert summary == f"Dernière construction : {n_files} fichier(s) du dossier d'entrée, 3 non lu(s)"
    shown = next(d.value for d in app.dataframe if "motif" in d.value.columns)
    assert set(shown.loc[shown["statut"] == "non lu", "fichier"]) == {"lisez-moi.txt", "make_fixtures.py",
                                                                      "txcouv_pe_nat.csv"}
