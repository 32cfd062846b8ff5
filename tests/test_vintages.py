"""Several millésimes of one indicator coexist; an evolution is computed only within one definition."""

from pathlib import Path

import pandas as pd
import pytest

from etl import build
from etl.insee import filosofi as insee_filosofi
from etl.insee import loader as insee
from methods.indicateurs import compare_vintages
from query import indicateurs as q
from query.db import Database
from ui import portrait

OFFICIELS = Path(__file__).resolve().parent / "fixtures" / "officiels"
F1, F2 = insee_filosofi.FILOSOFI_1, insee_filosofi.FILOSOFI_2


def _values(*rows):
    return pd.DataFrame(rows, columns=["indicateur", "millesime", "valeur", "definition"])


def test_evolution_within_one_definition_is_the_difference():
    out = compare_vintages(_values(("revenu_median_uc", 2021, 20050.0, F2), ("revenu_median_uc", 2023, 21100.0, F2)),
                           2021, 2023).iloc[0]
    assert out["comparable"] and out["evolution"] == 1050.0 and out["note"] == F2


def test_no_evolution_across_filosofi_1_and_2_and_the_change_is_said():
    out = compare_vintages(_values(("revenu_median_uc", 2015, 19000.0, F1), ("revenu_median_uc", 2023, 21100.0, F2)),
                           2015, 2023).iloc[0]
    assert not out["comparable"] and out["evolution"] is None
    assert out["note"].startswith("définition changée : Filosofi 1") and "Filosofi 2" in out["note"]


def test_a_year_holding_both_definitions_uses_the_one_shared_with_the_other_year():
    values = _values(("taux_pauvrete", 2021, 15.0, F1), ("taux_pauvrete", 2021, 15.6, F2),
                     ("taux_pauvrete", 2023, 15.2, F2))
    out = compare_vintages(values, 2021, 2023).iloc[0]
    assert out["valeur_debut"] == 15.6 and out["evolution"] == pytest.approx(-0.4)


def test_indicators_without_a_definition_compare_and_a_missing_year_says_so():
    values = _values(("population", 2016, 100.0, None), ("population", 2022, 110.0, None),
                     ("part_75_plus", 2022, 9.0, None), ("taux_chomage", 2019, 8.0, None))
    out = compare_vintages(values, 2016, 2022).set_index("indicateur")
    assert "taux_chomage" not in out.index  # neither year: not part of this comparison
    assert out.at["population", "evolution"] == 10.0
    assert out.at["part_75_plus", "note"] == "pas de valeur en 2016" and not out.at["part_75_plus", "comparable"]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("vintages") / "v.duckdb"
    build.build(path, ["61"], input_dir=OFFICIELS, steps=[*build.REFERENCE_STEPS, *insee.STEPS])
    return Database(path)


def test_the_epci_keeps_every_vintage_with_its_definition(database):
    known = q.vintages(database, "246100663", "epci")
    median = known[known["indicateur"] == "revenu_median_uc"][["millesime", "valeur", "definition"]]
    assert [tuple(r) for r in median.itertuples(index=False)] == [
        (2015, 19727.3, F1), (2021, 20050.0, F2), (2023, 21100.0, F2)]


def test_portrait_table_shows_the_evolution_and_the_broken_series(database):
    known = q.vintages(database, "246100663", "epci")
    same = portrait.evolution_table(known, 2021, 2023).set_index("Indicateur")
    assert same.at["Revenu médian disponible par unité de consommation", "Évolution"] == "+1\u202f050,0\u202f€"
    broken = portrait.evolution_table(known, 2015, 2023).set_index("Indicateur")
    row = broken.loc["Revenu médian disponible par unité de consommation"]
    assert row["Évolution"] == "—" and row["Note"].startswith("définition changée")



def test_the_portrait_default_is_the_latest_millesime_of_each_indicator(database):
    jeux = q.jeux(database, "61")
    assert (jeux.iloc[0]["jeu"], jeux.iloc[0]["millesime"]) == ("insee", q.LATEST)
    values = q.epci_values(database, "61", "insee", q.LATEST)
    alencon = values[values["code_geo"] == "246100663"].set_index("indicateur")["valeur"]
    assert alencon["revenu_median_uc"] == 21100.0          # Filosofi 2023
    assert alencon["population"] == 25700.4                # RP 2022, next to it
    refs = q.references(database, "61", "insee", q.LATEST)
    france = next(r for r in refs if r.code_geo == "FR")  # Melodi publishes France (FR)
    assert q.reference_values(database, france, "insee", q.LATEST)["revenu_median_uc"] == 23160.0
    assert {"revenu_median_uc", "part_75_plus"} <= set(q.available_indicators(database, "61", "insee", q.LATEST))
    assert portrait.millesime_label(q.LATEST) == "dernier millésime de chaque indicateur"
