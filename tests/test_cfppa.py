"""CFPPA: shares and splits (hand-computed), financer/axis normalisation, the readers and every
validation error on hand-made files, the simulated default, and builds with user files."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl import build, cfppa
from etl.checks import table_checksums
from etl.communes_map import CommuneResolver
from etl.errors import InputRejected
from methods import cfppa as method

FIXTURES = Path(__file__).parent / "fixtures" / "cfppa"
VALID = FIXTURES / "valide"


# -- methods -----------------------------------------------------------------------------------

def test_allocate_cents_gives_leftover_cents_to_largest_remainders():
    assert method.allocate_cents(100, [1, 1, 1]).tolist() == [34, 33, 33]
    assert method.allocate_cents(1000, [0.5, 0.25, 0.25]).tolist() == [500, 250, 250]
    assert method.allocate_cents(7, [0, 3, 4]).tolist() == [0, 3, 4]
    assert method.allocate_cents(10, [1, 2]).tolist() == [3, 7]  # 3.33 / 6.67 → the .67 gets the cent


def test_allocate_cents_grouped_sums_to_each_group_total():
    groups = pd.Series(["a", "a", "a", "b", "b"])
    totals = pd.Series([100, 100, 100, 5, 5])
    cents = method.allocate_cents_grouped(groups, totals, pd.Series([1, 1, 1, 1, 0]))
    assert cents.tolist() == [34, 33, 33, 5, 0]


def _lines():
    return pd.DataFrame({
        "annee": [2021] * 5,
        "financeur": ["CNSA_AAP", "CNSA_FA", "CARSAT", "MSA", "CD"],
        "categorie_financeur": ["CNSA", "CNSA", "OSS", "OSS", "Département"],
        "axe": [6, 2, 6, 1, 1],
        "montant_prevu": [100.0, 50.0, 30.0, None, 25.0],
        "montant_engage": [80.10, 40.0, 20.0, 10.0, 20.0],
    })


def test_oss_share_is_the_sum_of_the_oss_category_financers():
    # (20 + 10) / (80.10 + 40 + 20 + 10 + 20) = 30 / 170.10
    assert method.oss_share(_lines()) == pytest.approx(30 / 170.10)
    assert method.cnsa_share(_lines()) == pytest.approx(120.10 / 170.10)


def test_oss_share_follows_the_category_not_the_financer_name():
    lines = _lines()
    lines.loc[lines["financeur"] == "CD", "categorie_financeur"] = "OSS"
    assert method.oss_share(lines) == pytest.approx(50 / 170.10)


def test_engagement_rate_uses_lines_where_both_amounts_are_known():
    # MSA has no planned amount: (80.10 + 40 + 20 + 20) / (100 + 50 + 30 + 25)
    assert method.engagement_rate(_lines()) == pytest.approx(160.10 / 205)


def test_split_sums_equal_the_total_to_the_cent_and_percentages_to_100():
    lines = pd.DataFrame({"categorie_financeur": ["A", "B", "C"] * 3,
                          "montant_engage": [0.01, 0.01, 0.01, 1 / 3, 1 / 3, 1 / 3, 10.0, 20.0, 30.01]})
    out = method.split(lines, ["categorie_financeur"])
    assert round(out["montant"].sum(), 2) == round(lines["montant_engage"].round(2).sum(), 2) == 61.03
    assert round(out["part_pct"].sum(), 6) == 100.0
    assert out["part"].sum() == pytest.approx(1.0)


def test_split_within_groups_sums_to_100_per_group():
    lines = pd.concat([_lines(), _lines().assign(annee=2022, montant_engage=[1.0, 1.0, 1.0, 0.0, 0.0])])
    out = method.split(lines, ["categorie_financeur"], within=["annee"])
    assert out.groupby("annee")["part_pct"].sum().round(6).tolist() == [100.0, 100.0]
    per_year = out.groupby("annee")["montant"].sum().round(2)
    assert per_year.tolist() == [170.10, 3.0]


def test_percentages_summing_to_100_with_three_thirds():
    assert method.percentages_summing_to_100([1, 1, 1]).tolist() == [33.4, 33.3, 33.3]


def test_compare_with_reference_is_in_points():
    assert method.compare_with_reference(0.09, 0.17) == pytest.approx(-8.0)
    assert method.compare_with_reference(None, 0.17) is None


def test_pick_reference_takes_the_latest_year_and_prefers_the_cnsa_summary_to_the_quote():
    ref = pd.DataFrame({"annee": [2019, 2019, 2021], "indicateur": ["part_oss", "part_oss", "part_oss"],
                        "valeur": [0.17, 0.125, 0.2], "nature": ["quoted-from-report", "real", "real"],
                        "ligne_source": [690, None, None]})
    assert method.pick_reference(ref, 2019)["part_oss"]["valeur"] == 0.125
    assert method.pick_reference(ref, 2020)["part_oss"]["valeur"] == 0.125  # 2019 carried forward
    assert method.pick_reference(ref, 2021)["part_oss"]["valeur"] == 0.2
    assert method.pick_reference(ref[ref["nature"] != "real"], 2020)["part_oss"]["valeur"] == 0.17


def test_france_rebuilt_from_quoted_figures_adds_up_to_203_million():
    ref = {r[1]: {"valeur": r[3], "annee": r[0]} for r in cfppa.QUOTED_REFERENCE if r[0] == 2019}
    france = method.france_from_reference(ref)
    assert france["montant_engage"].tolist() == [130_000_000.0, 34_510_000.0, 38_490_000.0]


# -- nomenclature ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, code", [
    ("CARSAT", "CARSAT"), ("Carsat Bretagne", "CARSAT"), ("MSA Portes de Bretagne", "MSA"),
    ("Conseil départemental d'Ille-et-Vilaine", "CD"), ("Agirc-Arrco", "AGIRC_ARRCO"),
    ("CNSA – concours forfait autonomie", "CNSA_FA"), ("cnsa_aap", "CNSA_AAP"),
    ("Communes et EPCI", "COMMUNES"), ("Mutualité Française Bretagne", "MUTUALITE"), ("ARS Normandie", "ARS"),
])
def test_financer_names_resolve_to_the_normalised_list(text, code):
    assert cfppa.resolve_financeur(text) == code


def test_unknown_financer_gets_the_closest_known_one_suggested():
    assert cfppa.resolve_financeur("CARSTA") is None
    assert "CARSAT" in cfppa.closest_financeur("CARSTA")
    assert "code CNSA_" in cfppa.closest_financeur("CNSA")  # ambiguous: one of the two concours


@pytest.mark.parametrize("text, axis", [("6", 6), ("6.0", 6), ("Axe 2", 2), ("axe 5 - aidants", 5), ("1°", 1)])
def test_axis_accepts_the_ways_people_write_it(text, axis):
    assert cfppa.parse_axe(text) == axis


@pytest.mark.parametrize("text", ["0", "7", "1.5", "six", "", "66"])
def test_axis_outside_one_to_six_is_rejected(text):
    with pytest.raises(ValueError):
        cfppa.parse_axe(text)


def test_six_official_axes_of_article_l233_1():
    assert list(cfppa.AXES) == [1, 2, 3, 4, 5, 6]
    assert cfppa.AXES[2][1] == "L'attribution du forfait autonomie"
    assert [a[2] for a in cfppa.AXES.values()] == [696, 698, 700, 702, 705, 707]


# -- readers and validation --------------------------------------------------------------------

@pytest.fixture(scope="module")
def ref(small_db_path):
    con = duckdb.connect(str(small_db_path), read_only=True)
    from etl import reference
    built = {r[0] for r in con.execute("SELECT code FROM departements").fetchall()}
    yield cfppa.Reference(set(reference._read("departements")["code"]), built,
                          dict(con.execute("SELECT code_insee, code_departement FROM communes").fetchall()),
                          CommuneResolver(con))
    con.close()


def _copy_valid(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in VALID.iterdir():
        shutil.copy(path, folder / path.name)
    return folder


def _load(folder: Path, ref) -> cfppa.UserData:
    warnings: list[str] = []
    return cfppa.read_user_cfppa(cfppa.find_input_files(folder), ref, warnings)


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8-sig")


def test_valid_csv_set_loads_with_french_amounts_and_remapped_commune(tmp_path, ref):
    user = _load(_copy_valid(tmp_path), ref)
    fin = user.financements.set_index("financeur")
    assert len(fin) == 4  # the Total row is a control, not a line
    assert fin.at["CNSA_AAP", "montant_engage"] == 1_000_000.00
    assert fin.at["CARSAT", "montant_engage"] == 120_000.50
    assert fin.at["CARSAT", "axe"] == 6
    assert fin.at["MSA", "montant_prevu"] is None
    assert fin.at["CD", "categorie_financeur"] == "Département"
    assert method.oss_share(user.financements) == pytest.approx(150_000.50 / 1_330_000.50)
    # 35341 Tremblay is now part of 35004 Val-Couesnon
    assert sorted(user.action_communes["code_insee"]) == ["35004", "35115", "35238"]
    assert user.actions.set_index("action_id").at["A1", "theme"] == "Santé globale – bien vieillir"


BAD_CASES = [
    # (file, old, new, column, expected fragment)
    ("cfppa_financements.csv", "Carsat Bretagne", "CARSTA", "financeur", "CARSAT"),
    ("cfppa_financements.csv", "Axe 6", "7", "axe", "un axe de 1 à 6"),
    ("cfppa_financements.csv", "120 000,50", "-120 000,50", "montant_engage", "positif ou nul"),
    ("cfppa_financements.csv", "200 000;180 000", "200 000;cent quatre-vingt mille", "montant_engage",
     "montant en euros"),
    ("cfppa_financements.csv", "35;2021;MSA", "35;2021;Carsat Bretagne;6;;30 000;;\r\n35;2021;MSA", None,
     "doublon"),
    ("cfppa_financements.csv", "1 330 000,50 €", "1 330 000,00 €", "montant_engage",
     "le total ne correspond pas au détail"),
    ("cfppa_financements.csv", "35;2021;Conseil", "99;2021;Conseil", "code_departement", "département"),
    ("cfppa_actions.csv", "A2;35;2021;6", "A2;35;2021;9", "axe", "un axe de 1 à 6"),
    ("cfppa_actions.csv", "12 000,00", "12 500,00", "montant_total", "somme des montants de ses financeurs"),
    ("cfppa_actions.csv", ";8;", ";huit;", "participants", "nombre entier"),
    ("cfppa_actions_communes.csv", "A2;35238", "A2;35999", "code_insee", "commune existante"),
    ("cfppa_actions_communes.csv", "A2;35238", "A9;35238", "action_id", "identifiant d'une action"),
    ("cfppa_actions_financeurs.csv", "A1;CARSAT;2 000", "A1;CARSAT;2 000\r\nA1;Carsat Bretagne;1", None,
     "doublon"),
    ("cfppa_actions_financeurs.csv", "A2;CNSA_AAP;5 000", "A2;CNSA_AAP;5 000\r\nA2;CD;10", "montant",
     "les actions dépassent la ligne de financement"),
]


@pytest.mark.parametrize("file, old, new, column, expected", BAD_CASES,
                         ids=[f"{c[0].split('.')[0]}-{c[3] or 'doublon'}-{i}" for i, c in enumerate(BAD_CASES)])
def test_each_validation_error_is_reported_with_file_row_and_column(tmp_path, ref, file, old, new, column,
                                                                    expected):
    folder = _copy_valid(tmp_path)
    _rewrite(folder / file, old, new)
    with pytest.raises(InputRejected) as exc:
        _load(folder, ref)
    problems = exc.value.problems
    assert any(expected in p.expected and p.file == file and (column is None or p.column == column)
               and p.row is not None for p in problems), [str(p) for p in problems]


def test_a_file_with_several_errors_reports_all_of_them(tmp_path, ref):
    folder = _copy_valid(tmp_path)
    _rewrite(folder / "cfppa_financements.csv", "Carsat Bretagne;Axe 6;150 000;120 000,50",
             "Carsta Bretagne;8;150 000;-3")
    _rewrite(folder / "cfppa_actions_communes.csv", "A2;35238", "A2;35999")
    with pytest.raises(InputRejected) as exc:
        _load(folder, ref)
    columns = {p.column for p in exc.value.problems}
    assert {"financeur", "axe", "montant_engage", "code_insee"} <= columns
    assert "CARSAT" in str(exc.value)


def test_missing_required_column_is_named(tmp_path, ref):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cfppa_financements.csv").write_text("code_departement;annee;financeur;montant_engage\n35;2021;CD;1\n")
    with pytest.raises(InputRejected) as exc:
        _load(folder, ref)
    assert [p.column for p in exc.value.problems] == ["axe"]


def test_unrecognised_cfppa_file_name_is_rejected(tmp_path, ref):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "cfppa_budget.csv").write_text("a;b\n1;2\n")
    with pytest.raises(InputRejected, match="nom de fichier reconnu"):
        _load(folder, ref)


def test_cnsa_national_summary_gives_the_reference_shares():
    summary = cfppa.read_cnsa_summary(FIXTURES / "cnsa" / "cnsa_synthese_2019.csv")
    reference = cfppa.national_reference_from_summary(summary, "cnsa-fichier:x").set_index("indicateur")
    assert reference.at["total_financements", "valeur"] == 200_000_000
    assert reference.at["part_cnsa", "valeur"] == pytest.approx(0.65)
    assert reference.at["part_oss", "valeur"] == pytest.approx(0.125)
    assert reference.at["taux_engagement_cnsa", "valeur"] == pytest.approx(130 / 160)


def test_cnsa_summary_with_unknown_financer_is_rejected(tmp_path):
    path = tmp_path / "cnsa_synthese_2019.csv"
    path.write_text((FIXTURES / "cnsa" / "cnsa_synthese_2019.csv").read_text().replace("2019;MSA", "2019;MAS"))
    with pytest.raises(InputRejected, match="MSA"):
        cfppa.read_cnsa_summary(path)


# -- templates ---------------------------------------------------------------------------------

def _fill_template(template: bytes, path: Path) -> None:
    """What a user does: open the downloaded template, type rows under the headers, save."""
    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(template))
    for sheet in cfppa.TEMPLATE_SHEETS:
        source = pd.read_csv(VALID / f"cfppa_{sheet}.csv", sep=";", dtype=str, keep_default_na=False,
                             encoding="utf-8-sig")
        assert list(source.columns) == [c.value for c in book[sheet][1]]
        for row in source.itertuples(index=False):
            book[sheet].append([int(v) if v.isdigit() and len(v) <= 4 and v != "" else v for v in row])
    book.save(path)


def test_template_xlsx_round_trip_export_fill_load(tmp_path, ref):
    folder = tmp_path / "in"
    folder.mkdir()
    _fill_template(cfppa.template_xlsx(), folder / "cfppa_35_2021.xlsx")
    user = _load(folder, ref)
    assert len(user.financements) == 4 and len(user.actions) == 2 and len(user.action_financeurs) == 3
    assert round(sum(user.financements["montant_engage"]), 2) == 1_330_000.50
    assert set(user.action_communes["code_insee"]) == {"35004", "35115", "35238"}


def test_template_csv_zip_round_trip(tmp_path, ref):
    import zipfile
    folder = tmp_path / "in"
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(cfppa.template_csv_zip())) as archive:
        names = archive.namelist()
        assert {"cfppa_financements.csv", "cfppa_actions.csv", "cfppa_actions_communes.csv",
                "cfppa_actions_financeurs.csv", "cnsa_synthese.csv", "LISEZ-MOI.txt"} <= set(names)
        for table in cfppa.TEMPLATE_SHEETS:
            header = archive.read(f"cfppa_{table}.csv").decode("utf-8-sig")
            body = (VALID / f"cfppa_{table}.csv").read_text(encoding="utf-8-sig").split("\n", 1)[1]
            (folder / f"cfppa_{table}.csv").write_text(header + body, encoding="utf-8")
    user = _load(folder, ref)
    assert len(user.financements) == 4 and len(user.actions) == 2


# -- embedded default --------------------------------------------------------------------------

def test_simulated_financing_follows_per_inhabitant_assumptions_not_the_report():
    """A département's 2019 lines are its population × 2.5 € split by the assumed shares, within the
    ± 25 % (× ± 6 %) noise — hand-computed for Ille-et-Vilaine, whatever the national total gives."""
    populations = cfppa.france_populations()
    lines = cfppa.simulate_financements(populations, {"35"})
    y2019 = lines[lines["annee"] == 2019]
    cnsa = y2019.loc[y2019["categorie_financeur"] == "CNSA", "montant_engage"].sum()
    expected = populations["35"] * 2.5 * 0.60
    assert expected * 0.70 <= cnsa <= expected * 1.33
    national = cfppa.simulate_financements(populations, set(populations.index))
    total_2019 = national.loc[national["annee"] == 2019, "montant_engage"].sum()
    assert round(total_2019) != 203_000_000  # no longer forced onto the quoted total (l.711)
    rate = y2019["montant_engage"].sum() / y2019["montant_prevu"].sum()
    assert 0.84 < rate < 0.93


def test_simulated_actions_name_no_real_operator(small_db):
    carriers = {r[0] for r in small_db.rows("SELECT DISTINCT porteur FROM actions_prevention "
                                             "WHERE source = 'cfppa-simule'")}
    assert carriers and not any(name in c for c in carriers for name in
                                ("PBVB", "Pour bien vieillir", "ASEPT", "Agirc", "Mutualité française"))


def test_simulated_departement_does_not_depend_on_which_departements_are_built():
    populations = cfppa.france_populations()
    alone = cfppa.simulate_financements(populations, {"35"})
    both = cfppa.simulate_financements(populations, {"35", "61"})
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  both[both["code_departement"] == "35"].reset_index(drop=True))


def test_action_financer_amounts_add_up_to_financing_lines_to_the_cent(small_db):
    gaps = small_db.scalar(
        """SELECT count(*) FROM cfppa_financements f
           LEFT JOIN (SELECT a.code_departement, a.annee, a.axe, x.financeur, sum(x.montant) AS m
                      FROM actions_prevention_financeurs x JOIN actions_prevention a USING (action_id)
                      GROUP BY ALL) s USING (code_departement, annee, axe, financeur)
           WHERE f.axe IN (4, 5, 6) AND s.m IS DISTINCT FROM f.montant_engage""")
    assert gaps == 0


def test_every_built_departement_has_actions_in_its_own_communes(small_db):
    rows = small_db.rows(
        """SELECT a.code_departement, count(DISTINCT a.action_id),
                  count(*) FILTER (WHERE c.code_departement IS DISTINCT FROM a.code_departement)
           FROM actions_prevention a JOIN actions_prevention_communes l USING (action_id)
           LEFT JOIN communes c USING (code_insee) GROUP BY 1 ORDER BY 1""")
    assert [r[0] for r in rows] == ["35", "61"]
    assert all(r[1] > 100 and r[2] == 0 for r in rows)
    orphans = small_db.scalar("SELECT count(*) FROM actions_prevention a WHERE NOT EXISTS "
                              "(SELECT 1 FROM actions_prevention_communes l WHERE l.action_id = a.action_id)")
    assert orphans == 0


def test_quoted_figures_are_loaded_with_their_report_line(small_db):
    facts = small_db.frame("SELECT c.*, s.nature FROM cfppa_chiffres_cites c JOIN sources s USING (source)")
    assert len(facts) == 61 and facts["ligne_source"].notna().all()
    assert set(facts["nature"]) == {"quoted-from-report"}
    ref = small_db.frame("SELECT * FROM cfppa_reference_nationale").set_index(["annee", "indicateur"])
    assert ref.at[(2019, "total_financements"), "valeur"] == 203e6
    assert ref.at[(2019, "part_oss"), "ligne_source"] == 690
    assert ref.at[(2018, "taux_engagement_cnsa"), "valeur"] == 0.753


def test_every_cfppa_table_row_has_a_known_source(small_db):
    for table in cfppa.DDL:
        unknown = small_db.scalar(f'SELECT count(*) FROM "{table}" WHERE source NOT IN (SELECT source FROM sources)')
        assert unknown == 0, table
    assert small_db.scalar("SELECT nature FROM sources WHERE source = 'cfppa-simule'") == "simulated"


# -- builds with user files --------------------------------------------------------------------

CFPPA_ONLY = [*build.REFERENCE_STEPS, *cfppa.STEPS]


def test_user_files_replace_the_simulation_of_their_departement(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _fill_template(cfppa.template_xlsx(), folder / "cfppa_35.xlsx")
    shutil.copy(FIXTURES / "cnsa" / "cnsa_synthese_2019.csv", folder)
    db = tmp_path / "user.duckdb"
    result = build.build(db, ["35", "61"], folder, steps=CFPPA_ONLY)
    con = duckdb.connect(str(db), read_only=True)
    by_dep = dict(con.execute("SELECT code_departement, string_agg(DISTINCT source, ',') FROM cfppa_financements "
                              "GROUP BY 1").fetchall())
    assert by_dep == {"35": "cfppa-fichier:cfppa_35.xlsx", "61": "cfppa-simule"}
    assert con.execute("SELECT count(*) FROM actions_prevention WHERE code_departement = '35'").fetchone()[0] == 2
    assert con.execute("SELECT nature, row_count FROM sources WHERE source = 'cfppa-fichier:cfppa_35.xlsx'"
                       ).fetchone() == ("real", 4 + 2 + 3 + 3)
    part_oss = con.execute("SELECT valeur FROM cfppa_reference_nationale WHERE indicateur = 'part_oss' "
                           "AND source LIKE 'cnsa-fichier:%'").fetchone()[0]
    assert part_oss == pytest.approx(0.125)
    assert any("35341 → 35004" in message for _, message in result.warnings)
    con.close()


def test_rejected_file_leaves_database_unchanged(tmp_path, small_db_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(small_db_path, db)
    with duckdb.connect(str(db), read_only=True) as con:
        before = table_checksums(con)
    folder = _copy_valid(tmp_path / "in")
    _rewrite(folder / "cfppa_financements.csv", "Carsat Bretagne", "Carsat Bretagne;;")  # shifts columns
    _rewrite(folder / "cfppa_actions_financeurs.csv", "A1;CARSAT;2 000", "A1;CARSAT;-2 000")
    with pytest.raises(InputRejected) as exc:
        build.build(db, ["35", "61"], folder)
    assert len(exc.value.problems) >= 2
    with duckdb.connect(str(db), read_only=True) as con:
        assert table_checksums(con) == before


def test_map_export_never_carries_participants_under_eleven():
    from export.meta import ExportMeta
    from export.tables import read_csv_export, to_csv
    from methods.secret import mask
    from ui.cfppa import export_frame
    frame = pd.DataFrame({"code_insee": ["35001", "35002", "35003"], "nb_actions": [0, 1, 3],
                          "participants": pd.Series([0, 8, 45], dtype="object")})
    masked = mask(frame[frame["participants"] > 0], "participants")
    frame.loc[frame["participants"] > 0, "participants"] = masked["participants"].to_numpy()
    _, table = read_csv_export(to_csv(export_frame(frame), ExportMeta("t", "35", ("s",),
                                                                      count_columns=("participants",))))
    assert table["participants"].tolist() == ["", "", "45"]
