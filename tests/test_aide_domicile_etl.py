"""Aide à domicile inputs: template readers, validation (every problem listed, file rejected whole),
quoted defaults, simulated SAAD, and the secrecy / aggregation methods used by the page."""

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from etl import aide_domicile as ad
from etl import build
from etl.errors import InputRejected
from methods import paniers, saad, secret

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "aide_domicile"
STEPS = [*build.REFERENCE_STEPS, *ad.STEPS]


def problems_of(exc: InputRejected) -> list[tuple]:
    return [(p.row, p.column) for p in exc.problems]


# -- readers ------------------------------------------------------------------------------------------------

def test_paniers_suivi_template_with_bom_and_french_months_reads():
    frame = ad.read_paniers_suivi(FIXTURES / "valide" / "paniers_suivi_2024.csv")
    assert len(frame) == 6
    assert frame.loc[2, "mois"] == dt.date(2024, 3, 1)          # "03/2024"
    assert frame["paniers_accordes"].sum() == 152
    assert set(frame["type_valeur"]) == {"mensuel"}


def test_paniers_suivi_lists_every_problem_with_row_and_column():
    with pytest.raises(InputRejected) as info:
        ad.read_paniers_suivi(FIXTURES / "erreurs" / "paniers_suivi_erreurs.csv")
    found = problems_of(info.value)
    assert (2, "mois") in found                 # 2024-13
    assert (3, "demandes_recues") in found      # -3
    assert (5, "caisse") in found               # empty caisse
    assert (6, "paniers_accordes") in found     # 8,5 baskets
    assert (4, None) in found                   # second CARSAT Bretagne 2024-02
    assert len(found) == 5


def test_more_baskets_than_evaluations_for_a_caisse_is_rejected(tmp_path):
    path = tmp_path / "paniers_suivi.csv"
    path.write_text("caisse;mois;demandes_recues;evaluations_commandees;paniers_accordes\n"
                    "CARSAT Sud-Est;2024-01;50;20;30\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        ad.read_paniers_suivi(path)
    assert info.value.problems[0].column == "paniers_accordes"
    assert "CARSAT Sud-Est" in str(info.value)


def test_paniers_detail_xlsx_matches_families_without_accents():
    frame = ad.read_paniers_detail(FIXTURES / "valide" / "paniers_detail_2024.xlsx")
    assert frame.loc[0, "famille"] == "Aide à la vie quotidienne"
    assert frame.loc[0, "type_territoire"] == "rural"
    assert frame["nb_paniers"].sum() == 86


def test_paniers_detail_unknown_family_is_rejected(tmp_path):
    path = tmp_path / "paniers_detail.csv"
    path.write_text("caisse;mois;niveau;famille;type_territoire;nb_paniers\n"
                    "CARSAT Bretagne;2024-01;niveau 1;Jardinage;périurbain;12\n", encoding="utf-8")
    with pytest.raises(InputRejected) as info:
        ad.read_paniers_detail(path)
    assert problems_of(info.value) == [(2, "famille"), (2, "type_territoire")]


def _resolver(code):
    return {"35115": "35115", "35238": "35238", "61001": "61001", "61003": "61167", "75056": "75056"}.get(code)


def test_saad_services_cp1252_comma_file_reads_and_remaps_old_commune():
    frame = ad.read_saad_services(FIXTURES / "valide" / "saad_services.csv", _resolver)
    assert frame.loc[0, "nom"] == "SAAD du CCAS de Fougères"
    assert frame.loc[0, "latitude"] == pytest.approx(48.3525)
    assert frame.loc[2, "statut"] == "associatif"
    assert frame.loc[3, "code_commune"] == "61167"              # Anceins, commune déléguée → Gouffern
    assert frame["code_commune"].map(type).eq(str).all()


def test_saad_services_problems_all_listed():
    with pytest.raises(InputRejected) as info:
        ad.read_saad_services(FIXTURES / "erreurs" / "saad_services.csv", _resolver)
    assert sorted(problems_of(info.value), key=str) == sorted(
        [(2, "code_commune"), (3, "statut"), (3, "longitude")], key=str)


def test_saad_indicateurs_validated_against_the_catalogue():
    cat = ad.catalogue()
    with pytest.raises(InputRejected) as info:
        ad.read_saad_indicateurs(FIXTURES / "erreurs" / "saad_indicateurs.csv", cat, {"350000001"})
    found = problems_of(info.value)
    assert (2, "indicateur") in found           # 31 is not an indicator
    assert (3, "ventilation") in found          # "Département" is not a financer of indicator 25
    assert (4, "valeur") in found               # absenteeism 140 %
    assert (5, "periode") in found              # 2024-T5
    assert (6, "valeur") in found               # 12,5 beneficiaries
    assert (7, "service_id") in found           # unknown service
    assert len(found) == 6


def test_saad_indicateurs_periods_and_ventilations_normalised():
    frame = ad.read_saad_indicateurs(FIXTURES / "valide" / "saad_indicateurs.csv", ad.catalogue(), None)
    carsat = frame[(frame["indicateur"] == 25) & (frame["valeur"] == 45000)].iloc[0]
    assert carsat["ventilation"] == "CARSAT"                    # "carsat" in the file
    march = frame[frame["periode"] == "2024-03"].iloc[0]
    assert (march["periodicite"], march["periode_debut"]) == ("M", dt.date(2024, 3, 1))


@pytest.mark.parametrize("text, expected", [
    ("2024", ("2024", "A", dt.date(2024, 1, 1))), ("2024-s2", ("2024-S2", "S", dt.date(2024, 7, 1))),
    ("2024-T3", ("2024-T3", "T", dt.date(2024, 7, 1))), ("2024-W02", ("2024-W02", "H", dt.date(2024, 1, 8)))])
def test_period_formats_carry_their_periodicity(text, expected):
    assert ad.parse_periode(text) == expected


@pytest.mark.parametrize("name", list(ad.TEMPLATES))
def test_template_example_rows_pass_their_own_reader(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    ad.TEMPLATES[name].frame().to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    readers = {"paniers_suivi": ad.read_paniers_suivi, "paniers_detail": ad.read_paniers_detail,
               "saad_services": lambda p: ad.read_saad_services(p, lambda c: c),
               "saad_indicateurs": lambda p: ad.read_saad_indicateurs(p, ad.catalogue(), None)}
    assert len(readers[name](path)) == len(ad.TEMPLATES[name].example)


def test_catalogue_has_the_30_indicators_with_their_lines():
    cat = ad.catalogue()
    assert cat["indicateur"].tolist() == list(range(1, 31))
    lines = (ad.SEEDS / ad.SEED_003).read_text(encoding="utf-8").splitlines()
    for row in cat.itertuples():
        assert lines[row.source_line - 1].startswith(f"{row.indicateur}"), row.indicateur
    assert cat.set_index("indicateur").at[27, "periodicite"] == "A"
    assert cat.set_index("indicateur").at[25, "periodicite"] == "M-T-A"


# -- builds -------------------------------------------------------------------------------------------------

def test_default_build_quotes_the_interim_report_figures(small_db):
    row = small_db.rows("SELECT demandes_recues, evaluations_commandees, paniers_accordes, source_line, "
                        "s.nature FROM paniers_suivi JOIN sources s USING (source) WHERE type_valeur = 'cumul'")
    assert row == [(3285, 2543, 852, 103, "quoted-from-report")]
    shares = dict(small_db.rows("SELECT modalite, valeur FROM paniers_reperes "
                                "WHERE theme = 'territoires de l''expérimentation'"))
    assert shares == {"urbain": 41.0, "rural": 41.0, "mixte": 18.0}
    assert small_db.scalar("SELECT count(*) FROM saad_indicateurs_catalogue") == 30
    assert small_db.scalar("SELECT count(*) FROM cpom_regles WHERE source_line > 0") >= 18


def test_default_build_simulates_one_saad_per_epci_tagged_simulated(small_db):
    assert small_db.scalar("SELECT nature FROM sources WHERE source = 'saad-simule'") == "simulated"
    n_services = small_db.scalar("SELECT count(*) FROM saad_services")
    n_epci = small_db.scalar("SELECT count(DISTINCT siren_epci) FROM communes WHERE siren_epci IS NOT NULL")
    assert n_services == n_epci
    low, high = small_db.rows("SELECT min(valeur), max(valeur) FROM saad_indicateurs "
                              "WHERE indicateur = 27 AND ventilation = 'prix de revient'")[0]
    assert 18 <= low and high <= 35          # plausible 2024 hourly cost (assumption), not a quoted range
    assert small_db.scalar("SELECT count(*) FROM saad_services WHERE latitude IS NULL") == 0


def test_build_with_input_files_loads_them_as_real(tmp_path):
    result = build.build(tmp_path / "in.duckdb", ["35", "61"], input_dir=FIXTURES / "valide", steps=STEPS)
    import duckdb
    con = duckdb.connect(str(result.db_path), read_only=True)
    natures = dict(con.execute("SELECT source, nature FROM sources").fetchall())
    assert natures["paniers-saisie"] == "real" and natures["saad-saisie"] == "real"
    assert "saad-simule" not in natures                         # files replace the simulation
    assert con.execute("SELECT count(*) FROM paniers_suivi WHERE type_valeur = 'mensuel'").fetchone()[0] == 6
    assert con.execute("SELECT count(*) FROM paniers_attribues").fetchone()[0] == 4
    services = con.execute("SELECT service_id, code_commune, localisation FROM saad_services "
                           "ORDER BY 1").fetchall()
    assert [s[0] for s in services] == ["350000001", "350000002", "610000001", "610000002"]  # Paris dropped
    assert services[0][2] == "coordonnées" and services[1][2] == "centre de la commune"
    assert services[3][1] == "61167"
    assert con.execute("SELECT count(*) FROM saad_indicateurs WHERE service_id = '750000001'").fetchone()[0] == 0
    warnings = " ".join(m for _, m in result.warnings)
    assert "hors des départements construits" in warnings and "61003 → 61167" in warnings
    assert "ne somme pas" in warnings                           # Bretagne 2024-02: 38 vs 38 ok, Normandie 02-03
    con.close()


def test_rejected_input_leaves_database_unchanged(tmp_path):
    target = tmp_path / "base.duckdb"
    build.build(target, ["61"], steps=STEPS)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(InputRejected) as info:
        build.build(target, ["61"], input_dir=FIXTURES / "erreurs", steps=STEPS)
    assert len(info.value.problems) == 5
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_indicators_without_services_file_are_rejected(tmp_path):
    with pytest.raises(InputRejected, match="saad_services"):
        build.build(tmp_path / "x.duckdb", ["61"], input_dir=FIXTURES / "indicateurs_seuls", steps=STEPS)


# -- methods used by the page -------------------------------------------------------------------------------

def test_funnel_rates_of_the_interim_report():
    rates = paniers.funnel_rates(3285, 2543, 852)
    assert rates["evaluation_par_demande"] == pytest.approx(0.7741, abs=1e-4)
    assert rates["panier_par_evaluation"] == pytest.approx(0.3350, abs=1e-4)


def test_funnel_cells_under_eleven_masked_with_secondary_secrecy():
    frame = pd.DataFrame({"caisse": ["A", "B", "C"], "mois": ["2024-01"] * 3,
                          "demandes_recues": [120, 25, 30], "evaluations_commandees": [95, 18, 22],
                          "paniers_accordes": [40, 8, 12]})
    masked = paniers.mask_funnel(frame)
    assert masked["paniers_accordes"].tolist() == [40, None, None]   # 8 < 11, then 12 by secondary secrecy
    assert masked["demandes_recues"].tolist() == [120, 25, 30]
    secret.assert_no_small_cells(masked, "paniers_accordes")


def test_breakdown_masks_small_modalities_and_a_sibling():
    detail = pd.DataFrame({"famille": ["a", "b", "c"], "nb_paniers": [40, 8, 15]})
    out = paniers.breakdown(detail, "famille")
    assert out.set_index("famille")["nb_paniers"].to_dict() == {"a": 40, "c": None, "b": None}


def test_gir_classes_under_eleven_masked_with_their_smallest_sibling():
    values = pd.DataFrame({"service_id": ["s"] * 4, "indicateur": [5, 6, 6, 6], "compte_personnes": [True] * 4,
                           "ventilation": ["", "GIR 1-2", "GIR 3-4", "GIR 5-6"], "valeur": [140, 8, 90, 42]})
    out = saad.mask_people(values)
    assert out["valeur"].isna().tolist() == [False, True, False, True]


def test_cost_gap_weighted_by_hours():
    frame = pd.DataFrame({"service_id": ["a", "b", "c"], "territoire": ["T", "T", "U"],
                          "prix_de_revient": [22.0, 19.0, 20.0], "taux_finance": [20.0, 20.0, None],
                          "heures": [1000.0, 3000.0, 500.0]})
    out = saad.weighted_cost_gap(frame).set_index("territoire")
    # (22 × 1000 + 19 × 3000) / 4000 = 19.75 ; rate 20 ; gap −0.25 ; yearly 2 000 − 3 000
    assert out.at["T", "prix_de_revient"] == pytest.approx(19.75)
    assert out.at["T", "ecart_horaire"] == pytest.approx(-0.25)
    assert out.at["T", "ecart_annuel"] == pytest.approx(-1000)
    assert "U" not in out.index and out.attrs["services_incomplets"] == 1


def test_revenue_split_shares_sum_to_one_per_territory():
    frame = pd.DataFrame({"territoire": ["T", "T", "U"], "financeur": ["CD — APA", "CARSAT", "CD — APA"],
                          "recettes": [300.0, 100.0, 100.0]})
    out = saad.revenue_split(frame)
    assert out[out["territoire"] == "T"].set_index("financeur")["part"].to_dict() == {"CD — APA": 0.75,
                                                                                     "CARSAT": 0.25}
    assert out[out["territoire"] == "Ensemble"]["recettes"].sum() == 500


def test_monthly_people_series_masks_small_months_sum_and_mean():
    serie = pd.DataFrame({"periode": ["2024-01", "2024-02"], "somme": [9.0, 40.0], "moyenne": [9.0, 20.0]})
    out = saad.mask_series(serie, counts_people=True)
    assert out["somme"].isna().tolist() == [True, False] and out["moyenne"].isna().tolist() == [True, False]
    assert saad.mask_series(serie, counts_people=False).equals(serie)


def test_service_table_knows_which_cells_the_secret_masked():
    from methods import saad as saad_method
    values = pd.DataFrame({
        "service_id": ["A", "A", "B", "B"], "nom": ["SAAD A", "SAAD A", "SAAD B", "SAAD B"], "epci": "E",
        "indicateur": [5, 4, 5, 4], "libelle": ["Bénéficiaires", "Heures", "Bénéficiaires", "Heures"],
        "unite": ["personnes", "heures", "personnes", "heures"], "ventilation": "",
        "compte_personnes": [True, False, True, False], "valeur": [7.0, 900.0, 40.0, 5.0]})
    masked = saad_method.mask_people(values)
    flags = saad_method.service_secret_cells(masked)
    wide = saad_method.service_table(masked)
    column = [c for c in wide.columns if c.startswith("5.")][0]
    assert flags[column].tolist() == [True, False]            # 7 beneficiaries masked; 40 published
    assert pd.isna(wide.loc[0, column]) and wide.loc[1, column] == 40
    hours = [c for c in wide.columns if c.startswith("4.")][0]
    assert flags[hours].tolist() == [False, False]            # 5 hours is not a count of people
