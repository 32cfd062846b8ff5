"""The fragility method on hand-computed cases: score formula, mean + ½ SD rule, concentration,
coverage, priority, and statistical secrecy of what the page shows."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from methods import fragilite as m


def test_individual_score_adds_age_points_three_for_reversion_four_for_csg():
    age = [65, 72, 85, 92]
    reversion = [False, True, False, True]
    exo = [False, False, True, True]
    assert m.individual_score(age, reversion, exo).tolist() == [1, 5, 7, 11]


def test_age_points_step_at_each_band_edge():
    assert m.age_points([69, 70, 79, 80, 89, 90, 104]).tolist() == [1, 2, 2, 3, 3, 4, 4]
    assert m.age_points([74, 75, 85, 95], (75, 85, 95)).tolist() == [1, 2, 3, 4]


def test_score_ranges_from_one_to_eleven():
    assert (m.SCORE_MIN, m.SCORE_MAX) == (1, 11)


def test_sql_score_is_the_python_score():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"age": rng.integers(55, 100, 500), "rev": rng.random(500) < 0.3,
                          "exo": rng.random(500) < 0.2})
    con = duckdb.connect()
    con.register("t", frame)
    for edges in (m.DEFAULT_AGE_EDGES, (65, 75, 85)):
        sql = con.execute(f"SELECT {m.score_sql('age', 'rev', 'exo', edges)} FROM t").fetchnumpy()
        expected = m.individual_score(frame["age"], frame["rev"], frame["exo"], edges)
        assert list(sql.values())[0].tolist() == expected.tolist()


def test_score_from_band_counts_is_exact_for_other_edges():
    age = np.array([58, 61, 66, 72, 77, 83, 88, 91, 97, 74])
    rev = np.array([1, 0, 0, 1, 0, 1, 0, 1, 1, 0])
    exo = np.array([0, 1, 0, 0, 1, 0, 0, 1, 0, 0])
    bands = m.age_band_start(age)
    counts = {start: (bands == start).sum() for start in m.AGE_BAND_STARTS}
    for edges in ((70, 80, 90), (65, 75, 85), (60, 80, 95)):
        expected = m.individual_score(age, rev, exo, edges).mean()
        assert m.score_from_counts(counts, rev.sum(), exo.sum(), len(age), edges) == pytest.approx(expected)


def test_band_edges_must_be_three_increasing_multiples_of_five():
    with pytest.raises(ValueError):
        m.check_edges((80, 70, 90))
    with pytest.raises(ValueError):
        m.check_edges((70, 72, 90))
    assert m.check_edges([65, 75, 85]) == (65, 75, 85)


def test_commune_at_threshold_is_fragile():
    # mean 2.25, sample SD 1.5 → threshold 2.25 + 0.75 = 3.0 exactly
    scores = pd.Series([1.0, 1.0, 3.0, 4.0])
    ref = m.reference_statistics(scores)
    assert (ref.mean, ref.sd, ref.threshold) == (2.25, 1.5, 3.0)
    assert m.is_fragile(scores, ref.threshold).tolist() == [False, False, True, True]


def test_threshold_uses_population_sd_when_asked():
    ref = m.reference_statistics([1.0, 1.0, 3.0, 4.0], ddof=0)
    assert ref.sd == pytest.approx(np.sqrt(1.6875))


def test_reference_leaves_out_communes_under_eleven_retirees():
    ref = m.reference_statistics([2.0, 4.0, 11.0], [100, 100, 10])
    assert (ref.mean, ref.n_territories) == (3.0, 2)


def test_weighted_reference_mean_is_the_retirees_mean():
    ref = m.reference_statistics([2.0, 4.0], [300, 100], weighted=True)
    assert ref.mean == pytest.approx(2.5)


def test_concentration_needs_strictly_more_than_200_people_aged_60_plus():
    assert m.is_concentrated([199, 200, 201, None]).tolist() == [False, False, True, False]


def test_fewer_than_two_actions_counts_missing_as_zero():
    assert m.is_under_covered([0, 1, 2, None]).tolist() == [True, True, False, True]


def test_priority_needs_fragile_and_concentration_and_fewer_than_two_actions():
    fragile = [True, True, True, False]
    n60 = [201, 150, 500, 900]
    actions = [1, 0, 2, 0]
    assert m.priority(fragile, n60, actions).tolist() == [True, False, False, False]
    assert m.priority(fragile, n60, actions, concentration_min=100, actions_max_exclusive=3).tolist() \
        == [True, True, True, False]


def test_each_departement_is_its_own_reference():
    frame = pd.DataFrame({
        "dep": ["35"] * 4 + ["61"] * 4,
        "score_moyen": [1.0, 1.0, 3.0, 4.0, 3.0, 3.0, 5.0, 6.0],
        "n_retraites": [50] * 8, "n_60_plus": [300, 300, 150, 300, 300, 300, 300, 300],
        "n_actions": [0, 0, 0, 5, 0, 0, 1, 0]})
    out = m.assess(frame, "dep")
    assert out["ref_seuil"].tolist() == [3.0] * 4 + [5.0] * 4
    assert out["fragile"].tolist() == [False, False, True, True, False, False, True, True]
    # 35: 3.0 is fragile but has only 150 aged 60+; 4.0 has 5 actions. 61: both fragile ones qualify.
    assert out["prioritaire"].tolist() == [False] * 6 + [True, True]


def test_assess_applies_the_tested_priority_rule(monkeypatch):
    """`assess` calls `priority` (tested above) instead of re-implementing the conjunction."""
    frame = pd.DataFrame({"dep": ["35"] * 3, "score_moyen": [1.0, 2.0, 9.0], "n_retraites": [50] * 3,
                          "n_60_plus": [300] * 3, "n_actions": [0] * 3})
    calls = []

    def spy(fragile, n_60_plus, n_actions, concentration_min, actions_max_exclusive):
        calls.append((concentration_min, actions_max_exclusive))
        return np.array([True, False, True])

    monkeypatch.setattr(m, "priority", spy)
    out = m.assess(frame, "dep", m.Parameters(concentration_min=100, actions_max_exclusive=3))
    assert calls == [(100, 3)] and out["prioritaire"].tolist() == [True, False, True]


def test_rule_classes_split_at_mean_and_threshold():
    classes = m.rule_classes([2.0, 2.25, 2.9, 3.0, None], 2.25, 3.0)
    assert classes.tolist() == [m.RULE_CLASSES[0], m.RULE_CLASSES[1], m.RULE_CLASSES[1], m.RULE_CLASSES[2], None]


def test_quantile_classes_have_the_requested_number_of_classes():
    classes, labels = m.quantile_classes(np.arange(1, 11, dtype=float), 5)
    assert len(labels) == 5 and pd.Series(classes).value_counts().tolist() == [2] * 5



def test_quantile_classes_whose_edges_print_alike_merge_instead_of_failing():
    # Quantile edges 4.001 … 4.004 all print « 4,00 »: pandas refuses duplicate labels (a page error
    # met under load); they are one edge, every known score is classed, the labels are distinct.
    scores = [1.0, 4.001, 4.002, 4.003, 4.004, 6.0, 9.0, None]
    classes, labels = m.quantile_classes(scores, 5)
    assert len(labels) == len(set(labels)) == 3
    assert all(c in labels for c in classes[:7]) and classes[7] is None
    assert classes[0] == labels[0] and classes[6] == labels[-1] and classes[1] == classes[4]

# -- secrecy of what the page shows --------------------------------------------------------------

def _communes(n_retraites, siren=("E1",) * 4):
    n = len(n_retraites)
    return pd.DataFrame({
        "code_insee": [f"3500{i}" for i in range(n)], "nom": list("ABCDEFG"[:n]),
        "siren_epci": list(siren)[:n], "n_retraites": n_retraites,
        "n_reversion": [12] * n, "n_exo_csg": [5] * n, "n_fragiles": [0] * n,
        "score_moyen": [3.0] * n, "n_60_plus": [300] * n,
        "part_reversion": [0.1] * n, "part_exo_csg": [0.05] * n, "part_fragiles": [0.0] * n,
        "fragile": [True] * n, "concentration": [True] * n, "moins_de_n_actions": [True] * n,
        "prioritaire": [True] * n})


def protect(frame, group):
    """The secrecy the query layer applies to `query.fragilite.assessed` (group: the EPCI)."""
    from query.fragilite import assessed
    assert assessed.__secrecy__.group == (group,)
    return assessed.__secrecy__.apply(frame)


def test_commune_under_eleven_retirees_is_secret_with_every_value_hidden():
    out = protect(_communes([10, 100, 200, 300], siren=("E1", "E2", "E3", "E4")), group="siren_epci")
    assert out["secret"].tolist() == [True, False, False, False]
    row = out.iloc[0]
    assert all(row[c] is None for c in ("n_retraites", "score_moyen", "fragile", "prioritaire", "part_fragiles"))


def test_single_secret_commune_of_an_epci_masks_the_next_smallest():
    out = protect(_communes([10, 100, 200, 300]), group="siren_epci")
    assert out["secret"].tolist() == [True, True, False, False]


def test_subcounts_of_one_to_ten_people_are_masked_with_their_share():
    out = protect(_communes([100, 100], siren=("E1", "E2")), group="siren_epci")
    assert out["n_exo_csg"].isna().all() and out["part_exo_csg"].isna().all()
    assert out["n_reversion"].tolist() == [12, 12]
    assert out["n_fragiles"].tolist() == [0, 0]  # nobody is not a small cell


# -- prevention actions (CFPPA tables) through the query layer ------------------------------------

@pytest.fixture
def action_db(tmp_path):
    """A hand-made database: 3 communes, fragility rows, and the CFPPA action tables."""
    from query.db import Database
    path = tmp_path / "actions.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE communes (code_insee TEXT, nom TEXT, code_departement TEXT, code_region TEXT, "
                "siren_epci TEXT, population BIGINT)")
    con.execute("INSERT INTO communes VALUES ('35001','A','35','53','E1',1000), ('35002','B','35','53','E1',2000), "
                "('35003','C','35','53','E2',500)")
    con.execute("CREATE TABLE epci (siren TEXT, nom TEXT, nature TEXT, code_departement TEXT, population BIGINT)")
    con.execute("INSERT INTO epci VALUES ('E1','EPCI 1','CC','35',3000), ('E2','EPCI 2','CA','35',500)")
    con.execute("CREATE TABLE epci_departements (siren TEXT, code_departement TEXT)")
    con.execute("INSERT INTO epci_departements VALUES ('E1','35'), ('E2','35')")
    con.execute("CREATE TABLE departements (code TEXT, nom TEXT, code_region TEXT)")
    con.execute("INSERT INTO departements VALUES ('35','Ille-et-Vilaine','53')")
    con.execute("CREATE TABLE fragilite_communes (code_insee TEXT, millesime INTEGER, n_retraites BIGINT, "
                "n_reversion BIGINT, n_exo_csg BIGINT, score_moyen DOUBLE, n_fragiles BIGINT, n_60_plus BIGINT, "
                "source_60_plus TEXT, seuil_fragile INTEGER, source TEXT)")
    con.execute("INSERT INTO fragilite_communes VALUES ('35001',2023,100,10,10,3.0,20,300,'p',7,'s'), "
                "('35002',2023,300,30,30,4.0,60,400,'p',7,'s'), ('35003',2023,50,5,5,2.0,5,100,'p',7,'s')")
    con.execute("CREATE TABLE fragilite_communes_detail (code_insee TEXT, millesime INTEGER, age_min INTEGER, "
                "reversion BOOLEAN, exo_csg BOOLEAN, n_retraites BIGINT, source TEXT)")
    con.close()
    return path, Database(path)


def _add_actions(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE actions_prevention (action_id TEXT, annee INTEGER, axe INTEGER, theme TEXT, "
                "porteur TEXT, participants INTEGER, source TEXT)")
    con.execute("INSERT INTO actions_prevention VALUES ('a1',2020,6,'t','p',10,'x'), ('a2',2021,6,'t','p',10,'x'), "
                "('a3',2021,6,'t','p',10,'x')")
    con.execute("CREATE TABLE actions_prevention_communes (action_id TEXT, code_insee TEXT)")
    # a1 in two communes; a2 and a3 in 35001 → 35001: 3 actions, 35002: 1, 35003: none
    con.execute("INSERT INTO actions_prevention_communes VALUES ('a1','35001'), ('a1','35002'), "
                "('a2','35001'), ('a3','35001')")
    con.close()


def test_communes_without_action_tables_count_zero_actions(action_db):
    from query import fragilite as q
    _, db = action_db
    frame = q._communes(db, 2023, code="35")
    assert frame["n_actions"].tolist() == [0, 0, 0]


def test_actions_are_counted_per_commune_with_a_left_join(action_db):
    from query import fragilite as q
    path, db = action_db
    _add_actions(path)
    frame = q._communes(db, 2023, code="35").set_index("code_insee")
    assert frame["n_actions"].to_dict() == {"35001": 3, "35002": 1, "35003": 0}
    only_2020 = q._communes(db, 2023, code="35", action_years=(2020, 2020)).set_index("code_insee")
    assert only_2020["n_actions"].to_dict() == {"35001": 1, "35002": 1, "35003": 0}
    epci = q._epci(db, 2023, code="35").set_index("siren_epci")
    assert epci["n_actions"].to_dict() == {"E1": 3, "E2": 0}  # a1 counted once for E1
    assert epci.loc["E1", "score_moyen"] == pytest.approx((3.0 * 100 + 4.0 * 300) / 400)


def test_priority_rule_on_the_hand_made_database(action_db):
    from query import fragilite as q
    path, db = action_db
    _add_actions(path)
    frame = m.assess(q._communes(db, 2023, code="35"), "code_departement")
    # scores 3, 4, 2: mean 3, SD 1 → threshold 3.5: only 35002 is fragile (400 aged 60+, 1 action).
    assert frame["fragile"].tolist() == [False, True, False]
    assert frame["prioritaire"].tolist() == [False, True, False]


def test_action_window_defaults_to_the_millesime_year_or_the_latest_before_it():
    assert m.default_action_window([2018, 2019, 2020], 2019) == (2019, 2019)
    assert m.default_action_window([2018, 2019, 2020], 2023) == (2020, 2020)
    assert m.default_action_window([2024, 2025], 2023) == (2025, 2025)  # every year later: latest
    assert m.default_action_window([2018, 2019, 2020], 2023, span=2) == (2019, 2020)
    assert m.default_action_window([], 2023) is None
