"""CPOM / forfait global rules, each pinned on a case computed by hand."""

import pytest

from methods import cpom

# -- twelfths (seed 001 l. 31; seed 002 § 6.1 l. 255) ------------------------------------------------------

def test_ninety_percent_paid_in_twelve_equal_twelfths():
    twelfths = cpom.monthly_twelfths(120_000)
    assert twelfths == [9_000.0] * 12          # 0.9 × 120 000 / 12
    assert cpom.withheld_amount(120_000) == 12_000.0


def test_last_twelfth_takes_the_cents_so_the_year_sums_exactly():
    # 0.9 × 100 000.10 = 90 000.09 → 11 × 7 500.00 + 7 500.09
    twelfths = cpom.monthly_twelfths(100_000.10)
    assert twelfths[:11] == [7_500.0] * 11
    assert twelfths[11] == 7_500.09
    assert cpom.withheld_amount(100_000.10) == 10_000.01


# -- release of the frozen 10 % (seed 002 § 6.1 l. 255, § 6.4 l. 307) -------------------------------------

def test_total_release_pays_the_whole_frozen_ten_percent():
    assert cpom.released_amount(12_000, 1.0) == 12_000.0


def test_partial_release_pays_its_share_of_the_frozen_amount():
    assert cpom.released_amount(12_000, 0.25) == 3_000.0


def test_freeze_releases_nothing():
    assert cpom.released_amount(12_000, 0.0) == 0.0


def test_release_share_over_one_is_refused():
    with pytest.raises(ValueError):
        cpom.released_amount(12_000, 1.2)


def test_release_share_is_the_weighted_attainment_of_objectives():
    # (2 × 1 + 1 × 0.5 + 1 × 0) / 4
    assert cpom.release_share_from_objectives([2, 1, 1], [1, 0.5, 0]) == 0.625


# -- the ± 10 % band (seed 001 l. 30) ----------------------------------------------------------------------

def test_hours_at_minus_ten_percent_are_still_inside_the_band():
    band = cpom.hours_band(10_000, 9_000)
    assert band.status == "dans la bande" and band.hours_outside == 0
    assert (band.lower, band.upper) == (9_000, 11_000)


def test_hours_under_the_band_count_from_the_lower_bound():
    band = cpom.hours_band(10_000, 8_800)
    assert band.status == "sous la bande"
    assert band.hours_outside == pytest.approx(200)


def test_hours_over_the_band_count_from_the_upper_bound():
    band = cpom.hours_band(10_000, 11_500)
    assert band.status == "au-dessus de la bande"
    assert band.hours_outside == pytest.approx(500)   # 11 500 − 11 000


def test_no_regularisation_inside_the_band():
    assert cpom.band_regularisation(10_000, 9_500, 22) == 0.0
    assert cpom.band_regularisation(10_000, 10_900, 22, finance_overrun=True) == 0.0


def test_under_the_band_only_hours_beyond_the_bound_are_recovered():
    assert cpom.band_regularisation(10_000, 8_800, 22, mode="hors_bande") == -4_400.0   # 200 h × 22 €


def test_under_the_band_whole_gap_recovered_in_total_mode():
    assert cpom.band_regularisation(10_000, 8_800, 22, mode="ecart_total") == -26_400.0  # 1 200 h × 22 €


def test_over_the_band_not_financed_by_default():
    assert cpom.band_regularisation(10_000, 11_500, 22) == 0.0


def test_over_the_band_financed_when_chosen():
    assert cpom.band_regularisation(10_000, 11_500, 22, finance_overrun=True) == 11_000.0    # 500 h × 22 €
    assert cpom.band_regularisation(10_000, 11_500, 22, mode="ecart_total",
                                    finance_overrun=True) == 33_000.0                       # 1 500 h


def test_no_regularisation_mode_keeps_the_lump_sum():
    assert cpom.band_regularisation(10_000, 5_000, 22, mode="aucune") == 0.0


def test_unknown_regularisation_mode_is_refused():
    with pytest.raises(ValueError):
        cpom.band_regularisation(10_000, 5_000, 22, mode="moitié")


# -- components and gap coverage (seed 002 § 6.1 l. 245, § 6.3; seed 001 l. 32) ----------------------------

def test_gap_between_cost_price_and_reference_price_covered_on_committed_hours():
    assert cpom.gap_coverage(24.50, 22.0, 10_000) == 25_000.0
    assert cpom.gap_coverage(24.50, 22.0, 10_000, coverage_share=0.5) == 12_500.0


def test_no_coverage_when_cost_price_under_reference_price():
    assert cpom.gap_coverage(20.0, 22.0, 10_000) == 0.0


def test_forfait_global_adds_its_three_components():
    assert cpom.forfait_global(220_000, 25_000, 5_000) == 250_000.0


# -- the double frame (seed 002 § 6.2 l. 267, l. 269) ------------------------------------------------------

def test_non_presence_share_is_taken_from_1607_hours():
    assert cpom.productive_hours_per_etp(0.2) == pytest.approx(1_285.6)
    assert cpom.etp_needed(12_856, 0.2) == pytest.approx(10.0)


def test_structure_share_of_gross_expenses_and_bounds():
    share = cpom.structure_cost_share(150_000, 1_000_000)
    assert share == 0.15
    assert cpom.within_bounds(share, 0.10, 0.15) is True
    assert cpom.within_bounds(share, 0.05, 0.12) is False
    assert cpom.within_bounds(share, None, None) is None     # bounds left blank in the source


def test_cost_price_from_paid_hour_cost_and_the_two_framed_shares():
    assert cpom.cost_price_from_components(16.0, 0.2, 0.2) == pytest.approx(25.0)   # 16 / 0.8 / 0.8


# -- user participation (seed 002 § 7.1–7.3) ---------------------------------------------------------------

# Rule in force (art. R. 232-11 CASF, décret 2016-210 modifié 2019), hand-computed from the text with
# S = 1 000 € and R = 1 670 €: x = (1 670 − 725) / 1 945 = 0,485861…; fractions of a plan A: A1 up to
# 317 €, A2 from 317 to 498 € (181 €), A3 above 498 €;
# P = 90 % · x · [A1 + A2 · (0,4 + 0,6 x) + A3 · (0,2 + 0,8 x)].
X = (1_670 - 725) / 1_945


def test_rule_in_force_no_participation_up_to_0725_mtp():
    assert cpom.apa_participation_amount(880, 725, 1_000) == 0.0
    assert cpom.apa_participation_amount(880, 700, 1_000) == 0.0
    assert cpom.apa_participation_amount(880, 700, 1_000, rule="2012") > 0  # the 2012 rule charges 0,67 S+


def test_rule_in_force_ninety_percent_from_267_mtp():
    assert cpom.apa_participation_amount(880, 2_670, 1_000) == pytest.approx(792.0)   # x = 1: 0,9 × A
    assert cpom.apa_participation_rate(3_000, 1_000, 880) == pytest.approx(0.9)


def test_rule_in_force_plan_inside_the_first_fraction_pays_the_full_reduced_rate():
    assert cpom.apa_participation_amount(300, 1_670, 1_000) == pytest.approx(0.9 * X * 300)
    assert round(cpom.apa_participation_amount(300, 1_670, 1_000), 2) == 131.18


def test_rule_in_force_splits_the_plan_into_three_fractions():
    expected = 0.9 * X * (317 + 181 * (0.4 + 0.6 * X) + 382 * (0.2 + 0.8 * X))   # A = 880 €
    assert cpom.apa_plan_fractions(880, 1_000) == pytest.approx((317, 181, 382))
    assert cpom.apa_participation_amount(880, 1_670, 1_000) == pytest.approx(expected)
    assert cpom.participation_7_2(880, 1_670, 1_000) == 291.68


def test_rule_in_force_option_7_1_applies_the_accepted_plan_rate_to_the_plan_used():
    rate = 291.68154 / 880                                                   # T = P / A of the accepted plan
    assert cpom.participation_7_1(660, 1_670, 1_000, accepted_plan_amount=880) == round(rate * 660, 2) == 218.76


def test_rule_in_force_option_7_3_on_the_reference_amount():
    assert cpom.participation_7_3(1_670, 1_000, 500, gir=2) == 193.86        # A1 317, A2 181, A3 2


# 2012 experimentation rule: nil under 0,67 S, 90 % above 2,67 S, 90 % × (R − 0,67 S) / (2 S) between.

def test_2012_rule_no_participation_under_067_mtp():
    assert cpom.apa_participation_rate(600, 1_000, rule="2012") == 0.0


def test_2012_rule_ninety_percent_over_267_mtp():
    assert cpom.apa_participation_rate(3_000, 1_000, rule="2012") == 0.9


def test_2012_rule_rate_linear_between_the_thresholds_whatever_the_plan():
    assert cpom.apa_participation_rate(1_670, 1_000, rule="2012") == pytest.approx(0.45)  # 0.9 × 1000 / 2000
    assert cpom.apa_participation_rate(1_670, 1_000, 880, rule="2012") == pytest.approx(0.45)


def test_2012_rule_options_7_1_and_7_2():
    assert cpom.participation_7_1(30 * 22, 1_670, 1_000, rule="2012") == 297.0
    assert cpom.participation_7_2(40 * 22, 1_670, 1_000, rule="2012") == 396.0
    assert cpom.participation_7_3(1_670, 1_000, 500, gir=2, rule="2012") == 225.0


def test_unknown_participation_rule_is_refused():
    with pytest.raises(ValueError, match="règle de participation inconnue"):
        cpom.apa_participation_rate(1_670, 1_000, rule="2001")


def test_option_7_3_gir4_only_when_the_departement_includes_it():
    assert cpom.participation_7_3(1_670, 1_000, 500, gir=4) is None
    assert cpom.participation_7_3(1_670, 1_000, 500, gir=4, include_gir4=True) == 193.86
    assert cpom.participation_7_3(1_670, 1_000, 500, gir=5, include_gir4=True) is None


def test_participation_table_lists_each_option_with_its_paragraph_and_rule():
    table = cpom.participation_options(40, 30, 22, 1_670, 1_000, 500, gir=2)
    assert table["option"].tolist() == ["7.1", "7.2", "7.3"]
    assert table["participation"].tolist() == [218.76, 291.68, 193.86]
    assert table["citation"].str.contains("§ 7.").all()
    assert set(table["regle_participation"]) == {cpom.APA_RULES["2016"]}
    old = cpom.participation_options(40, 30, 22, 1_670, 1_000, 500, gir=2, rule="2012")
    assert old["participation"].tolist() == [297.0, 396.0, 225.0]
    assert set(old["regle_participation"]) == {"règle de l'expérimentation (2012)"}


# -- a whole year -----------------------------------------------------------------------------------------

def test_year_with_hours_on_target_and_half_release():
    inputs = cpom.CpomInputs(planned_hours=12_000, financed_rate=20, cost_price=22,
                             realised_by_month=[1_000] * 12, release_share=0.5)
    result = cpom.simulate_year(inputs)
    s = result.summary
    assert s["forfait_apa_pch"] == 240_000 and s["cfs_differentiel"] == 24_000   # 2 € × 12 000 h
    assert s["forfait_global"] == 264_000 and s["douzieme"] == 19_800           # 0.9 × 264 000 / 12
    assert s["montant_gele"] == 26_400 and s["montant_libere"] == 13_200
    assert s["total_verse_cpom"] == 250_800                                     # 237 600 + 13 200
    assert s["total_facturation_horaire"] == 240_000
    assert s["resultat_cpom"] == -13_200 and s["resultat_horaire"] == -24_000
    assert result.monthly["cumul_cpom"].iloc[-1] == 250_800
    assert len(result.monthly) == 13


def test_year_under_the_band_recovers_hours_beyond_the_bound():
    inputs = cpom.CpomInputs(planned_hours=12_000, financed_rate=20, cost_price=20,
                             realised_by_month=[850] * 12, release_share=1.0)   # 10 200 h < 10 800
    s = cpom.simulate_year(inputs).summary
    assert s["regularisation"] == -12_000.0                                     # 600 h × 20 €
    assert s["total_verse_cpom"] == 240_000 - 12_000


def _rule_lines(rule):
    from pathlib import Path
    seeds = Path(__file__).resolve().parent.parent / "data" / "aide_domicile" / "sources"
    return (seeds / rule.document).read_text(encoding="utf-8").splitlines()


def test_every_rule_quote_starts_on_the_line_it_cites():
    from tests.citations import quote_on_line
    wrong = [(r.key, r.line) for r in cpom.RULES.values() if not quote_on_line(_rule_lines(r), r.line, r.quote)]
    assert wrong == []


def test_the_citation_check_fails_on_shifted_lines():
    from tests.citations import quote_on_line
    for rule in cpom.RULES.values():
        lines = _rule_lines(rule)
        for shift in (-3, -2, -1, 1, 2, 3):
            assert not quote_on_line(lines, rule.line + shift, rule.quote), (rule.key, shift)
