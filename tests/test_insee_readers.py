"""Readers of the official INSEE formats, on fixtures written in the exact official layouts
(`tests/fixtures/insee/make_fixtures.py`)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from etl.errors import InputRejected
from etl.insee import cog as insee_cog
from etl.insee import epci as insee_epci
from etl.insee import filosofi as insee_filosofi
from etl.insee import loader as insee
from etl.insee import petite_enfance as insee_petite_enfance
from etl.insee import rp as insee_rp

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "insee"


def _value(frame, code, indicateur, column="numerateur"):
    return frame[(frame["code_geo"] == code) & (frame["indicateur"] == indicateur)][column].iloc[0]


def test_rp_2015_xls_in_zip_with_five_title_rows():
    counts = insee_rp.read_struct_pop(FIXTURES / "base-cc-evol-struct-pop-2015.zip")
    assert set(counts["millesime"]) == {2015}
    assert _value(counts, "61096", "indice_vieillissement") == 900
    assert _value(counts, "61096", "indice_vieillissement", "denominateur") == 600
    assert _value(counts, "61096", "variation_population", "denominateur") == 3100  # P10_POP
    assert _value(counts, "61096", "variation_population", "annee_debut") == 2010
    assert _value(counts, "61096", "part_ouvriers") == 400
    assert counts["code_geo"].map(type).eq(str).all()


def test_rp_2019_semicolon_csv_builds_60_plus_and_65_plus_from_bands():
    counts = insee_rp.read_struct_pop(FIXTURES / "base-cc-evol-struct-pop-2019.csv")
    assert set(counts["millesime"]) == {2019}
    # 60+ = 6074 + 7589 + 90P ; 65+ = H65P + F65P ; 0-19 = H0019 + F0019 ; previous census 2013.
    assert _value(counts, "61096", "part_60_plus") == 520 + 380 + 40
    assert _value(counts, "61096", "part_75_plus") == 380 + 40
    assert _value(counts, "61096", "indice_vieillissement") == 600 + 640
    assert _value(counts, "61096", "indice_vieillissement", "denominateur") == 410 + 390
    assert _value(counts, "61096", "variation_population", "annee_debut") == 2013


def test_rp_emploi_precarious_jobs_are_cdd_interim_aided_and_apprentices():
    counts = insee_rp.read_emploi(FIXTURES / "base-cc-emploi-pop-active-2015.zip")
    assert _value(counts, "61001", "part_emploi_precaire") == 900 + 300 + 200 + 100
    assert _value(counts, "61001", "part_emploi_precaire", "denominateur") == 8500
    assert _value(counts, "61001", "taux_chomage") == 2200


def test_filosofi_base_cc_reads_com_and_epci_sheets_and_skips_secret_cells():
    values = insee_filosofi.read_base_cc(FIXTURES / "base-cc-filosofi-2015.xls")
    assert set(values["niveau"]) == {"commune", "epci"}
    epci = values[(values["code_geo"] == "200068443")].set_index("indicateur")["valeur"]
    assert epci["revenu_median_uc"] == 19100 and epci["taux_pauvrete"] == 14.0
    assert "61483" not in set(values["code_geo"])  # empty (secret) cells: no row, no zero


def test_filosofi_disp_suppressed_s_and_blank_cells():
    values = insee_filosofi.read_disp(FIXTURES / "FILO2019_DISP_COM.csv")
    assert set(values["millesime"]) == {2019}
    assert "61483" not in set(values["code_geo"])  # `s` everywhere
    alencon = values[values["code_geo"] == "61001"].set_index("indicateur")["valeur"]
    assert alencon["revenu_median_uc"] == 18100 and "taux_pauvrete" not in alencon  # blank TP6019
    epci = insee_filosofi.read_disp(FIXTURES / "FILO2019_DISP_EPCI.csv")
    assert set(epci["niveau"]) == {"epci"}


def test_cog_lower_case_headers_before_2022_and_upper_case_after():
    old = insee_cog.read_communes(FIXTURES / "commune_2021.csv")
    new = insee_cog.read_communes(FIXTURES / "commune_2023.csv")
    assert old["code_insee"].tolist() == ["61096", "61001"]  # COMD row dropped
    assert "61135" not in set(new["code_insee"]) and "97411" in set(new["code_insee"])
    assert new.set_index("code_insee").at["97411", "code_departement"] == "974"


def test_merged_commune_is_remapped_through_mvtcommune_and_counts_summed():
    events = insee_cog.read_mouvements(FIXTURES / "v_mvt_commune_2023.csv")
    remap = insee_cog.Remapping.from_mouvements(events)
    assert remap.target == {"61135": "61096"}
    counts = insee_rp.read_struct_pop(FIXTURES / "base-cc-evol-struct-pop-2015.zip")
    remapped = counts.assign(code_geo=remap.apply(counts["code_geo"]))
    summed = remapped.groupby(["code_geo", "indicateur"])["numerateur"].sum()
    assert summed[("61096", "population")] == pytest.approx(3000.5 + 999.5)
    assert "61135" not in set(remapped["code_geo"])
    assert "61135 → 61096" in remap.report({"61135"})[0]


def test_mvtcommune_chains_and_reports_splits():
    events = pd.DataFrame(
        {
            "mod": ["32", "32", "21", "21"],
            "date_eff": pd.to_datetime(["2016-01-01", "2019-01-01", "2020-01-01", "2020-01-01"]),
            "typecom_av": "COM",
            "com_av": ["01001", "01002", "01003", "01003"],
            "typecom_ap": "COM",
            "com_ap": ["01002", "01004", "01003", "01005"],
        }
    )
    remap = insee_cog.Remapping.from_mouvements(events)
    assert remap.target == {"01001": "01004", "01002": "01004"}
    assert remap.splits == {"01003": ["01003", "01005"]}
    assert any("rétablie" in m for m in remap.report({"01003"}))


def test_epci_composition_xlsx_headers_on_row_six():
    epci, composition = insee_epci.read(FIXTURES / "Intercommunalite-Metropole_au_01-01-2017.xlsx")
    assert epci.set_index("siren").at["200068443", "nature"] == "CC"
    assert composition.set_index("code_insee").at["61483", "siren_epci"] == "200068443"
    assert insee_epci.vintage(FIXTURES / "Intercommunalite-Metropole_au_01-01-2017.xlsx") == 2017


def test_childcare_coverage_is_recomputed_from_places_and_children():
    values = insee_petite_enfance.read_couverture(FIXTURES / "txcouv_pe_epci_2019.csv")
    row = values.set_index("code_geo").loc["200068443"]
    assert row["niveau"] == "epci" and row["valeur"] == pytest.approx(100 * 300 / 700)


def test_financial_templates_read_french_numbers_and_national_row():
    pf = insee_petite_enfance.read_potentiel(FIXTURES / "potentiel_financier_2019.csv").set_index("code_geo")
    assert pf.at["200068443", "valeur"] == pytest.approx(5_000_000 / 6_000)
    assert pf.at["FR", "niveau"] == "france"
    rev = insee_petite_enfance.read_revenu(FIXTURES / "revenu_fiscal_2019.csv").set_index("code_geo")
    assert rev.at["FR", "valeur"] == pytest.approx(27_000)


def test_file_picked_by_official_name_pattern():
    names = {p.name for p in insee_rp.STRUCT_POP.find(FIXTURES)}
    assert names == {"base-cc-evol-struct-pop-2015.zip", "base-cc-evol-struct-pop-2019.csv"}
    assert insee_cog.MOUVEMENTS.find(FIXTURES)[0].name == "v_mvt_commune_2023.csv"


def test_bad_numbers_are_rejected_with_file_row_and_column(tmp_path):
    text = (FIXTURES / "base-cc-evol-struct-pop-2019.csv").read_text().replace("61001;25800", "61001;vingt")
    path = tmp_path / "base-cc-evol-struct-pop-2019.csv"
    path.write_text(text)
    with pytest.raises(InputRejected) as exc:
        insee_rp.read_struct_pop(path)
    problem = exc.value.problems[0]
    assert (problem.row, problem.column, problem.value) == (3, "P19_POP", "vingt")


def test_bad_commune_code_is_rejected(tmp_path):
    path = tmp_path / "FILO2019_DISP_COM.csv"
    shutil.copy(FIXTURES / "FILO2019_DISP_COM.csv", path)
    path.write_text(path.read_text().replace("61096;", "6X096;"))
    with pytest.raises(InputRejected, match="code commune"):
        insee_filosofi.read_disp(path)


def test_tableau1_mapping_covers_every_printed_territory():
    values, published = insee.read_tableau1()
    assert values["code_geo"].nunique() == 19 and len(published) == 16
    assert set(values["ligne_source"]) == set(range(4220, 4239))
    assert (values["source"] == insee.SOURCE_TABLEAU1.source).all()



def test_older_cafdata_tauxcouv_file_gives_the_commune_rate_as_published(tmp_path):
    from etl.insee import petite_enfance as insee_petite_enfance
    path = tmp_path / "TAUXCOUV2021.csv"
    path.write_text("NUM_COM;NOM_COM;tauxcouv_com;tauxcouv_epci;tauxcouv_dep;tauxcouv_reg;tauxcouv_fe\n"
                    "61001;Alençon;63,5;61,4;58,7;60,2;59,4\n", encoding="cp1252")
    assert insee_petite_enfance.COUVERTURE.matches(path.name)
    out = insee_petite_enfance.read_couverture(path)
    assert out[["code_geo", "niveau", "millesime", "valeur"]].values.tolist() == [["61001", "commune", 2021, 63.5]]



def test_data_caf_fr_region_export_gives_regions_not_departements(tmp_path):
    from etl.insee import petite_enfance as insee_petite_enfance
    path = tmp_path / "txcouv_pe_reg.csv"
    path.write_text("annee;numregi;nomregi;txcouv_reg;txcouv_eaje_reg\n2022;28;Normandie;60,2;27,0\n"
                    "2022;53;Bretagne;68.9;33,1\n", encoding="utf-8")
    out = insee_petite_enfance.read_couverture(path)
    assert out[["code_geo", "niveau", "valeur"]].values.tolist() == [["28", "region", 60.2], ["53", "region", 68.9]]


def test_data_caf_fr_label_header_variants_are_recognised(tmp_path):
    from etl.insee import petite_enfance as insee_petite_enfance
    path = tmp_path / "txcouv_pe_com.csv"
    path.write_text("Année;Numéro de commune;Nom Commune;Numéro EPCI;Taux de couverture global\n"
                    "2023;61001;Alençon;246100663;63,5\n", encoding="utf-8")
    out = insee_petite_enfance.read_couverture(path)
    assert out[["code_geo", "niveau", "millesime", "valeur"]].values.tolist() == [["61001", "commune", 2023, 63.5]]
