"""Coverage by territorial conventions on hand-made registries (methods/ctg.py).

Territory: département 01 = communes c1 (100 hab.), c2 (200) in EPCI e1 and c3 (300) in EPCI e2;
département 02 = c4 (400) in EPCI e3; all in région r1. Hand-computed expectations.
"""

import datetime as dt

import pandas as pd
import pytest

from methods import ctg as m

COMMUNES = pd.DataFrame({
    "code_insee": ["c1", "c2", "c3", "c4"], "nom": ["Un", "Deux", "Trois", "Quatre"],
    "population": [100, 200, 300, 400], "siren_epci": ["e1", "e1", "e2", "e3"],
    "nom_epci": ["E1", "E1", "E2", "E3"], "code_departement": ["01", "01", "01", "02"],
    "code_region": ["r1"] * 4,
})


def registry(*rows):
    """rows: (id, instrument, communes, start, end, statut[, signature])."""
    conv, per = [], []
    for row in rows:
        cid, instrument, codes, start, end, statut = row[:6]
        signature = row[6] if len(row) > 6 else start
        conv.append(
            {
                "convention_id": cid,
                "instrument": instrument,
                "code_departement": "01",
                "intitule": f"Convention {cid}",
                "date_signature": pd.Timestamp(signature) if signature else pd.NaT,
                "date_debut": pd.Timestamp(start) if start else pd.NaT,
                "date_fin": pd.Timestamp(end) if end else pd.NaT,
                "statut": statut,
            }
        )
        per += [{"convention_id": cid, "code_insee": c} for c in codes]
    return pd.DataFrame(conv), pd.DataFrame(per)


def dep_rate(conv, per, date, instruments=("CTG",), **kw):
    out = m.compute_coverage(COMMUNES, conv, per, date, instruments, "departement", **kw).set_index("code")
    return out.loc["01", "population_couverte"], out.loc["01", "taux"]


def test_overlapping_conventions_count_each_commune_once():
    conv, per = registry(("A", "CTG", ["c1", "c2"], "2019-01-01", "2022-12-31", "signee"),
                         ("B", "CTG", ["c2"], "2020-01-01", "2023-12-31", "signee"))
    covered, rate = dep_rate(conv, per, "2020-06-30")
    assert covered == 300  # c2 counted once
    assert rate == pytest.approx(300 / 600)


def test_ctg_and_charte_on_same_commune_count_once_when_both_instruments_chosen():
    conv, per = registry(("A", "CTG", ["c1"], "2019-01-01", None, "signee"),
                         ("M", "charte_msa_familles", ["c1", "c3"], "2019-01-01", None, "signee"))
    assert dep_rate(conv, per, "2020-01-01", ("CTG", "charte_msa_familles"))[0] == 400
    assert dep_rate(conv, per, "2020-01-01", ("CTG",))[0] == 100
    assert dep_rate(conv, per, "2020-01-01", ("charte_msa_familles",))[0] == 400


def test_communal_ctg_inside_an_epci_covers_only_its_commune():
    conv, per = registry(("B", "CTG", ["c2"], "2020-01-01", "2023-12-31", "signee"))
    epci = m.compute_coverage(COMMUNES, conv, per, "2021-01-01", level="epci").set_index("code")
    assert epci.loc["e1", "population_couverte"] == 200
    assert epci.loc["e1", "taux"] == pytest.approx(200 / 300)
    assert epci.loc["e1", "nb_communes_couvertes"] == 1
    assert epci.loc["e2", "taux"] == 0


def test_expired_convention_is_not_counted_and_end_date_is_inclusive():
    conv, per = registry(("A", "CTG", ["c1", "c2"], "2019-01-01", "2022-12-31", "signee"),
                         ("B", "CTG", ["c3"], "2019-01-01", "2020-12-31", "echue"))
    assert dep_rate(conv, per, "2022-12-31")[0] == 300      # A's last day, B expired
    assert dep_rate(conv, per, "2020-12-31")[0] == 600      # B's last day, expired status still counted then
    assert dep_rate(conv, per, "2023-01-01")[0] == 0


def test_convention_counts_from_its_start_only():
    conv, per = registry(("A", "CTG", ["c3"], "2020-09-30", None, "signee"))
    assert dep_rate(conv, per, "2020-09-29")[0] == 0
    assert dep_rate(conv, per, "2020-09-30")[0] == 300


def test_convention_in_preparation_covers_nobody_unless_asked():
    conv, per = registry(("P", "CTG", ["c1"], "2020-02-20", None, "en_preparation"),
                         ("V", "CTG", ["c2"], None, None, "envisagee"))
    assert dep_rate(conv, per, "2021-01-01")[0] == 0
    assert dep_rate(conv, per, "2021-01-01", statuts=("signee", "echue", "en_preparation"))[0] == 100


def test_communes_outside_the_territory_are_ignored():
    conv, per = registry(("A", "CTG", ["c3", "c4"], "2019-01-01", None, "signee"))
    assert dep_rate(conv, per, "2020-01-01")[0] == 300
    france = m.compute_coverage(COMMUNES, conv, per, "2020-01-01", level="france").iloc[0]
    assert (france["population_couverte"], france["population"]) == (700, 1000)
    region = m.compute_coverage(COMMUNES, conv, per, "2020-01-01", level="region").iloc[0]
    assert region["taux"] == pytest.approx(0.7)


def test_curve_equals_pointwise_coverage():
    conv, per = registry(("A", "CTG", ["c1"], "2019-03-31", "2020-03-30", "signee"),
                         ("B", "CTG", ["c3"], "2019-12-31", None, "signee"))
    dates = m.month_ends("2019-01-01", "2020-06-30")
    curve = m.compute_coverage_curve(COMMUNES, conv, per, dates, level="departement")
    curve = curve.loc[curve["code"] == "01"].set_index("date")["population_couverte"]
    for date in dates:
        assert curve.loc[date] == dep_rate(conv, per, date)[0]
    assert curve.loc[pd.Timestamp("2019-02-28")] == 0
    assert curve.loc[pd.Timestamp("2019-12-31")] == 400
    assert curve.loc[pd.Timestamp("2020-03-31")] == 300


def test_default_end_of_a_ctg_is_four_years_minus_one_day():
    assert m.default_end(dt.date(2019, 9, 30), "CTG") == dt.date(2023, 9, 29)
    assert m.default_end(dt.date(2020, 2, 29), "CTG") == dt.date(2024, 2, 28)
    assert m.default_end(dt.date(2019, 9, 30), "charte_msa_familles") is None


def test_status_at_a_date():
    conv, _ = registry(("A", "CTG", [], "2019-01-01", "2022-12-31", "signee"),
                       ("P", "CTG", [], None, None, "en_preparation"))
    assert m.status_at(conv, "2018-06-30").tolist() == ["à venir", "en préparation"]
    assert m.status_at(conv, "2020-06-30").tolist() == ["active", "en préparation"]
    assert m.status_at(conv, "2023-01-01").tolist() == ["échue", "en préparation"]


def test_commune_categories_and_partial_epci():
    conv, per = registry(("A", "CTG", ["c1", "c2"], "2018-12-31", None, "signee"),
                         ("M", "charte_msa_aines", ["c2"], "2019-12-31", None, "signee"),
                         ("J", "CEJ", ["c3"], "2016-01-01", "2021-12-31", "signee"))
    classes = m.classify_communes(COMMUNES, conv, per, "2020-01-01").set_index("code_insee")
    assert classes["categorie"].to_dict() == {"c1": "CTG", "c2": "CTG et charte MSA", "c3": "CEJ seul",
                                              "c4": "Aucune"}
    assert classes.loc["c2", "annee_signature"] == 2018
    epci = m.classify_epci(COMMUNES, classes.reset_index()).set_index("siren_epci")
    assert epci["categorie"].to_dict() == {"e1": "Couverture partielle", "e2": "CEJ seul", "e3": "Aucune"}


def test_where_next_ranks_uncovered_epci_by_uncovered_population():
    conv, per = registry(("B", "CTG", ["c2"], "2020-01-01", None, "signee"),
                         ("C", "CTG", ["c4"], "2020-01-01", None, "signee"))
    cov = m.compute_coverage(COMMUNES, conv, per, "2021-01-01", level="epci")
    names = pd.DataFrame({"siren": ["e1", "e2", "e3"], "nom": ["E1", "E2", "E3"]})
    ranked = m.where_next(cov, names)
    assert ranked["siren"].tolist() == ["e2", "e1"]            # e3 fully covered: not listed
    assert ranked["population_non_couverte"].tolist() == [300, 100]
    assert ranked["situation"].tolist() == ["non couvert", "partiellement couvert"]
    fragility = pd.DataFrame({"siren_epci": ["e1", "e2"], "score_moyen": [3.4, 2.9]})
    priorities = pd.DataFrame({"siren_epci": ["e1"], "critere": ["Prioritaire MSA"], "source_line": [2239]})
    by_score = m.where_next(cov, names, fragility, priorities, tri="fragilite")
    assert by_score["siren"].tolist() == ["e1", "e2"]
    assert by_score.loc[0, "priorites"] == "Prioritaire MSA (l.2239)"


def test_variant_date_moves_start_and_end_together():
    conv, per = registry(("L", "CTG", ["c3"], "2020-09-30", "2024-09-29", "signee"))
    conv["date_signature_variante"] = pd.Timestamp("2019-12-31")
    moved = m.with_variant_dates(conv).iloc[0]
    assert moved["date_debut"] == pd.Timestamp("2019-12-31")
    assert moved["date_fin"] == pd.Timestamp("2024-09-29") - (pd.Timestamp("2020-09-30") - pd.Timestamp("2019-12-31"))


def _quoted(rows):
    return pd.DataFrame(rows, columns=["code_territoire", "serie", "nature", "periode", "date_reference", "valeur",
                                       "valeur_imprimee", "indicateur", "source_line"])


def test_gap_with_unnamed_conventions_is_explained_not_filled():
    conv, per = registry(("A", "CTG", ["c1"], "2018-12-31", None, "signee"))
    quoted = _quoted([
        ("01", "taux_couverture", "réalisé", "2020", dt.date(2020, 12, 31), 60.0, "60 %", "taux", 10),
        ("01", "nombre_ctg", "réalisé", "31/12/2020", dt.date(2020, 12, 31), 3, "3", "nombre de CTG", 11),
        ("01", "taux_couverture", "réalisé", "2019", dt.date(2019, 12, 31), 16.8, "16,8 %", "taux", 12),
    ])
    out = m.reported_vs_computed(quoted, COMMUNES, conv, per, "01").set_index("periode")
    assert out.loc["2020", "taux_calcule"] == pytest.approx(100 / 600)
    assert out.loc["2020", "ecart_points"] == pytest.approx(60 - 100 / 6)
    assert out.loc["2020", "nb_ctg_registre"] == 1 and out.loc["2020", "nb_ctg_publie"] == 3
    assert "ne sont pas comptées" in out.loc["2020", "explication"]
    assert out.loc["2019", "explication"].startswith("Écart de")  # 16,8 vs 16,67: under half a point
