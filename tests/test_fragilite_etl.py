"""Loading fragility inputs: individual extracts (CSV, Parquet), the Observatoire's commune file,
60+ population, the simulated default, and rejection of bad files with every problem listed."""

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from etl import fragilite as f
from etl.build import BuildContext
from etl.errors import InputRejected

FIXTURES = Path(__file__).parent / "fixtures" / "fragilite"


@pytest.fixture
def ref_con(small_db_path, tmp_path):
    """A writable copy of the small build without the fragility tables (reference kept)."""
    path = tmp_path / "ref.duckdb"
    shutil.copy(small_db_path, path)
    con = duckdb.connect(str(path))
    for table in f.DDL:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute("DELETE FROM sources WHERE source LIKE 'fragilite%' OR source = ?", [f.QUOTED.source])
    yield con
    con.close()


def run(con, input_dir, departements=("35", "61")):
    ctx = BuildContext(con, list(departements), input_dir, dt.datetime(2024, 1, 1))
    f.step_fragilite(ctx)
    return ctx


def commune(con, code, millesime):
    return con.execute("SELECT * FROM fragilite_communes WHERE code_insee = ? AND millesime = ?",
                       [code, millesime]).df().iloc[0]


def test_csv_extract_aggregates_to_hand_computed_commune_scores(ref_con):
    ctx = run(ref_con, FIXTURES / "extrait")
    acigne = commune(ref_con, "35001", 2022)
    # scores 1, 5, 7, 11 → mean 6; two réversion, two exempt, two at or above 7
    assert (acigne["n_retraites"], acigne["n_reversion"], acigne["n_exo_csg"], acigne["n_fragiles"]) == (4, 2, 2, 2)
    assert acigne["score_moyen"] == pytest.approx(6.0)
    assert (acigne["n_age_60_64"], acigne["n_age_65_69"], acigne["n_age_70_74"], acigne["n_age_85_89"],
            acigne["n_age_90_94"]) == (0, 1, 1, 1, 1)
    rennes = commune(ref_con, "35238", 2022)
    assert rennes["score_moyen"] == pytest.approx((1 + 6 + 4) / 3) and rennes["n_age_moins_60"] == 1
    # the old code 35011 (Baillé) is counted in today's commune 35292; 1001 (01001) is outside the build
    baille = commune(ref_con, "35292", 2022)
    assert baille["n_retraites"] == 2 and baille["score_moyen"] == pytest.approx(4.0)
    messages = " ".join(m for _, m in ctx.warnings)
    assert "35011 → 35292" in messages and "1 retraités de communes hors des départements" in messages


def test_census_60_plus_columns_are_summed_and_tagged_real(ref_con):
    run(ref_con, FIXTURES / "extrait")
    acigne = commune(ref_con, "35001", 2022)
    assert acigne["n_60_plus"] == round(801.4 + 450.2 + 60.1) and acigne["source_60_plus"] == f.POP60.source
    baille = commune(ref_con, "35292", 2022)
    assert baille["source_60_plus"] == f.POP60_SIMULATED.source  # not in the census file: estimated
    natures = dict(ref_con.execute("SELECT source, nature FROM sources").fetchall())
    assert natures["fragilite-extrait-2022"] == "real" and natures[f.POP60.source] == "real"
    assert natures[f.POP60_SIMULATED.source] == "simulated"
    assert ref_con.execute("SELECT vintage FROM sources WHERE source = ?", [f.POP60.source]).fetchone()[0] == "2020"


def test_parquet_extract_gives_the_same_aggregates_as_csv(ref_con, tmp_path):
    folder = tmp_path / "parquet"
    folder.mkdir()
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT code_insee::VARCHAR AS code_insee, age::UTINYINT AS age,
                         lower(reversion) IN ('oui', '1') AS reversion, lower(exo_csg) IN ('oui', '1') AS exo_csg
                  FROM read_csv('{FIXTURES / "extrait" / "fragilite_individus_2022.csv"}', all_varchar=true))
                  TO '{folder / "fragilite_individus_2022.parquet"}' (FORMAT parquet)""")
    run(ref_con, folder)
    parquet = ref_con.execute("SELECT code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen "
                              "FROM fragilite_communes ORDER BY 1").fetchall()
    for table in f.DDL:
        ref_con.execute(f"DROP TABLE {table}")
    ref_con.execute("DELETE FROM sources WHERE source LIKE 'fragilite%' OR source = ?", [f.QUOTED.source])
    run(ref_con, FIXTURES / "extrait")
    csv = ref_con.execute("SELECT code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen "
                          "FROM fragilite_communes ORDER BY 1").fetchall()
    assert parquet == csv and len(csv) == 3


def test_birth_year_gives_the_age_reached_in_the_millesime(ref_con, tmp_path):
    (tmp_path / "fragilite_individus_2022.csv").write_text(
        "code_insee,annee_naissance,reversion,exo_csg\n35001,1952,0,0\n35001,1932,1,1\n", encoding="utf-8")
    run(ref_con, tmp_path)
    acigne = commune(ref_con, "35001", 2022)
    assert acigne["score_moyen"] == pytest.approx((2 + 11) / 2)  # 70 → 2 points; 90 → 4 + 3 + 4


def test_extract_with_errors_is_rejected_with_every_problem(ref_con):
    with pytest.raises(InputRejected) as rejected:
        run(ref_con, FIXTURES / "extrait_errone")
    text = str(rejected.value)
    assert "ligne 3, colonne « age » : valeur 'abc'" in text
    assert "ligne 4, colonne « reversion » : valeur 'peut-être'" in text
    assert "ligne 6, colonne « exo_csg » : valeur '2'" in text
    assert "ligne 5, colonne « code_insee » : valeur '35999'" in text
    assert len(rejected.value.problems) == 4


def test_extract_without_required_columns_is_rejected(ref_con, tmp_path):
    (tmp_path / "fragilite_individus_2022.csv").write_text("commune;age\n35001;70\n", encoding="utf-8")
    with pytest.raises(InputRejected) as rejected:
        run(ref_con, tmp_path)
    assert {p.column for p in rejected.value.problems} == {"code_insee", "reversion", "exo_csg"}


def test_aggregate_file_loads_secret_cells_as_unknown_and_merges_old_codes(ref_con):
    run(ref_con, FIXTURES / "agrege")
    acigne = commune(ref_con, "35001", 2021)
    assert (acigne["n_retraites"], acigne["score_moyen"], acigne["n_60_plus"]) == (1200, 3.2, 1400)
    assert acigne["source_60_plus"] == "fragilite-agrege-2021"
    secret = commune(ref_con, "35002", 2021)
    assert secret[["n_retraites", "score_moyen"]].isna().all()
    assert commune(ref_con, "35292", 2021)["n_retraites"] == 10  # Baillé (35011) → Saint-Marc-le-Blanc
    rennes_metropole = ref_con.execute(
        "SELECT n_retraites, score_moyen FROM fragilite_epci WHERE siren_epci = '243500139'").fetchone()
    assert rennes_metropole == (41200, pytest.approx((1200 * 3.2 + 40000 * 3.05) / 41200))


def test_aggregate_file_with_errors_is_rejected_with_every_problem(ref_con):
    with pytest.raises(InputRejected) as rejected:
        run(ref_con, FIXTURES / "agrege_errone")
    found = {(p.row, p.column) for p in rejected.value.problems}
    assert found == {(2, "n_reversion"), (3, "score_moyen"), (4, "code_insee"), (5, "code_insee")}


def test_epci_and_departement_rows_are_sums_of_their_communes(small_db):
    check = small_db.frame("""
        SELECT e.siren_epci, e.n_retraites, sum(c.n_retraites) AS s, e.score_moyen,
               sum(c.score_moyen * c.n_retraites) / sum(c.n_retraites) AS m
        FROM fragilite_epci e JOIN communes k ON k.siren_epci = e.siren_epci
        JOIN fragilite_communes c ON c.code_insee = k.code_insee AND c.millesime = e.millesime
        GROUP BY e.siren_epci, e.n_retraites, e.score_moyen""")
    assert len(check) > 30
    assert (check["n_retraites"] == check["s"]).all()
    assert (check["score_moyen"] - check["m"]).abs().max() < 1e-9


def test_default_build_is_simulated_tagged_and_keeps_the_quoted_figures_apart(small_db):
    natures = dict(small_db.rows("SELECT source, nature FROM sources"))
    assert natures[f.SIMULATED.source] == "simulated"
    assert natures[f.QUOTED.source] == "quoted-from-report"
    quoted = small_db.rows("SELECT valeur_min, source_line FROM fragilite_references WHERE indicateur = 'score_moyen'")
    assert quoted == [(3.34, 2173)]
    assert small_db.scalar("SELECT count(*) FROM fragilite_communes WHERE source_60_plus IS NULL") == 0


def test_simulation_is_plausible_on_its_own_without_a_departement_effect(small_db):
    """Orders of magnitude written from generic national figures (INSEE: ≈ 27 % aged 60+; about a
    quarter of retirees CSG-exempt; DREES ≈ 4.4 M réversion beneficiaries of ≈ 17 M retirees), and no
    invented geography: Ille-et-Vilaine and the Orne differ only by their communes' sizes."""
    shares = small_db.frame(
        """SELECT c.code_departement AS dep, sum(f.n_exo_csg) / sum(f.n_retraites) AS exo,
                  sum(f.n_reversion) / sum(f.n_retraites) AS rev, sum(f.n_60_plus) / sum(c.population) AS p60
           FROM fragilite_communes f JOIN communes c USING (code_insee)
           WHERE c.code_departement IN ('35', '61') GROUP BY 1""").set_index("dep")
    assert shares["exo"].between(0.15, 0.35).all() and shares["rev"].between(0.12, 0.32).all()
    assert shares["p60"].between(0.20, 0.34).all()
    assert shares.at["61", "exo"] / shares.at["35", "exo"] < 1.3


def test_simulation_has_no_target_taken_from_the_report():
    import inspect
    text = inspect.getsource(f.simulation_parameters) + inspect.getsource(f._commune_profiles)
    assert "3.34" not in text and "2.98" not in text and "calibrat" not in text
    assert not hasattr(f, "NATIONAL_MEAN_TARGET") and not hasattr(f, "DEPARTEMENT_TARGETS")


def test_simulated_extract_is_deterministic(small_db):
    communes = small_db.frame("SELECT code_insee, code_departement, population FROM communes")
    a = f.simulation_parameters(communes)
    b = f.simulation_parameters(communes)
    assert a.equals(b)
    con = duckdb.connect()
    f.register_simulation(con, a)
    first = con.execute("SELECT sum(hash(code_insee, age, reversion, exo_csg)) FROM _frag_simulated").fetchone()
    second = con.execute("SELECT sum(hash(code_insee, age, reversion, exo_csg)) FROM _frag_simulated").fetchone()
    assert first == second
    n = con.execute("SELECT count(*) FROM _frag_simulated").fetchone()[0]
    assert n == a["n_retraites"].sum()


def test_restricted_build_simulates_the_same_communes_as_the_national_one(small_db):
    small = small_db.frame("SELECT code_insee, code_departement, population FROM communes")
    national = f.simulation_parameters(f.national_communes()).set_index("code_insee")
    local = f.simulation_parameters(small).set_index("code_insee")
    columns = ["n_retraites", "exo_factor", "rev_factor", "c1", "c8"]
    assert local[columns].equals(national.loc[local.index, columns])


def test_individual_rows_never_enter_the_database(small_db):
    tables = small_db.tables()
    assert not [t for t in tables if "individu" in t]
    assert small_db.scalar("SELECT min(n_retraites) FROM fragilite_communes_detail") >= 1


def test_rejected_file_leaves_database_unchanged(tmp_path):
    from etl import build
    db = tmp_path / "obs.duckdb"
    build.build(db, ["35"])
    before = db.stat().st_mtime_ns
    with pytest.raises(InputRejected):
        build.build(db, ["35"], input_dir=FIXTURES / "agrege_errone")
    assert db.stat().st_mtime_ns == before
    assert duckdb.connect(str(db), read_only=True).execute(
        "SELECT count(*) FROM sources WHERE source = ?", [f.SIMULATED.source]).fetchone()[0] == 1


def test_cells_equal_a_row_by_row_count_of_every_band_and_flag_pair(ref_con, tmp_path):
    """The scan groups by (commune, band) and counts réversion, CSG and both: the four cells it
    derives per band must be the counts a plain pandas groupby of the rows gives."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    rows = 5_000
    frame = pd.DataFrame({
        "code_insee": rng.choice(["35001", "35238", "61001", "61006"], rows),
        "age": rng.integers(50, 105, rows),
        "reversion": rng.random(rows) < 0.3,
        "exo_csg": rng.random(rows) < 0.2,
    })
    frame.loc[:40, ["reversion", "exo_csg"]] = True  # both flags, in every band of the first rows
    frame.to_parquet(tmp_path / "fragilite_individus_2022.parquet")
    run(ref_con, tmp_path)
    band = np.where(frame["age"] < 60, 0, np.where(frame["age"] >= 95, 95, frame["age"] // 5 * 5))
    expected = (frame.assign(age_min=band).groupby(["code_insee", "age_min", "reversion", "exo_csg"]).size()
                .rename("n").reset_index())
    got = ref_con.execute("SELECT code_insee, age_min, reversion, exo_csg, n_retraites AS n "
                          "FROM fragilite_communes_detail WHERE millesime = 2022 ORDER BY ALL").df()
    expected = expected.sort_values(["code_insee", "age_min", "reversion", "exo_csg"]).reset_index(drop=True)
    assert len(got) == len(expected) and (got["n"] > 0).all()
    pd.testing.assert_frame_equal(got.astype({"age_min": "int64", "n": "int64"}),
                                  expected.astype({"age_min": "int64", "n": "int64"}), check_dtype=False)
