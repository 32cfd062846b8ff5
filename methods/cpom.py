"""CPOM and negotiated global lump sum (forfait global négocié) of one SAAD: the simulator's rules.

Every rule is a pure function citing the paragraph and line of its source:

- seed 001 = `001_d667daa4a5772995.txt`, CCAS de Besançon: experience of a CPOM in home help (Doubs, ADF);
- seed 002 = `002_8e4f476eb48fbe32.txt`, Annex 2 of the 2012 order: experimentation of a negotiated global
  lump sum for SAAD under a CPOM (JO n° 220 of 21/09/2012, text 4).

Amounts are euros, rounded to the cent where money is paid (twelfths, release). Where the sources leave a
parameter blank (the bands on non-presence time and structure costs, "entre ...... % et ...... %") the
simulator asks for it; it never invents the negotiated value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

DOC_001 = "001_d667daa4a5772995.txt"
DOC_002 = "002_8e4f476eb48fbe32.txt"
DOC_LABEL = {
    DOC_001: "CCAS de Besançon, expérience de CPOM (Doubs, ADF)",
    DOC_002: "Cahier des charges du forfait global négocié (annexe 2, JO n° 220 du 21/09/2012)",
}


@dataclass(frozen=True)
class Rule:
    """A rule of the simulator and where it is written."""

    key: str
    title: str
    document: str
    paragraph: str
    line: int
    quote: str

    @property
    def citation(self) -> str:
        return f"{DOC_LABEL[self.document]}, {self.paragraph}, l. {self.line}"


RULES: dict[str, Rule] = {r.key: r for r in [
    Rule("engagement_heures", "Engagement sur un volume d'heures annuel, à ± 10 %", DOC_001,
         "« Le CPOM, comment ça marche ? »", 30,
         "L'engagement partagé sur la base de la réalisation d'un nombre d'heures annuel (+ ou – 10 %)"),
    Rule("douziemes", "Paiement par douzièmes", DOC_001, "« Le CPOM, comment ça marche ? »", 31,
         "Un paiement par douzième"),
    Rule("versement_90", "90 % du forfait annuel versé mensuellement", DOC_002, "§ 6.1", 255,
         "Il fait l'objet de versements mensuels pour 90 % de son montant annuel."),
    Rule("gel_10", "10 % gelés, libérés en totalité ou en partie après le dialogue de gestion", DOC_002,
         "§ 6.1", 255,
         "Les 10 % restants, gelés en début d'exercice budgétaires, seront libérés en totalité ou en partie "
         "dès l'issue du (des) dialogue (s) de gestion en fonction de la réalisation des objectifs "
         "quantitatifs et qualitatifs fixés dans le cadre du CPOM."),
    Rule("conclusion_dialogue", "Conclusion du dialogue de gestion : gel ou libération des 10 %", DOC_002,
         "§ 6.4", 307,
         "le gel ou la « libéralisation » totale ou partielle des 10 % du budget global de l'année "
         "précédente qui n'a pas été versé"),
    Rule("calendrier_dialogue", "Dialogue de gestion au plus tard au 1er trimestre N+1", DOC_002, "§ 6.4", 291,
         "Le dialogue de gestion est réalisé a minima annuellement et au plus tard dès le début du premier "
         "trimestre de l'exercice budgétaire suivant celui auquel il se rapporte."),
    Rule("composantes", "Trois composantes du forfait global : forfait négocié APA/PCH (l. 247), CFS des missions "
         "d'intérêt général et de prévention (l. 249), gestion déléguée des aides techniques (l. 251)",
         DOC_002, "§ 6.1", 245,
         "Le forfait global négocié d'un SAAD peut être composé de trois sources de financement"),
    Rule("cfs", "Compensations financières spécifiques (CFS)", DOC_002, "§ 6.3", 275,
         "Les missions d'intérêt général et de prévention du SAAD qui représentent des obligations de services "
         "publics au regard de la législation communautaire sont financées par le biais de compensations "
         "financières spécifiques."),
    Rule("differentiel", "Le département couvre l'écart prix de revient / prix de référence", DOC_001,
         "« Le CPOM, comment ça marche ? »", 32,
         "Un dialogue de gestion annuel : le département couvre le différentiel entre prix de revient et prix "
         "de référence en contrepartie d'engagement d'intérêt général"),
    Rule("plafond_apa", "Pas de dérapage des crédits APA au-delà de 10 %", DOC_001, "« Les avantages »", 56,
         "une anticipation de la dépense (pas de dérapage des crédits APA au delà de 10%)"),
    Rule("redeploiement", "Heures non réalisées redéployées plutôt que remboursées", DOC_002, "§ 1.2", 55,
         "Ils pourront en effet redéployer les heures non réalisées auprès d'usagers [...] au lieu de "
         "rembourser ces heures au conseil départemental."),
    Rule("avenant", "Écarts traités par avenant au CPOM", DOC_002, "§ 6.4", 311,
         "la conclusion d'un avenant modifiant les objectifs et les moyens prévus initialement au CPOM."),
    Rule("non_presence", "Temps de non-présence directe : fourchette en % de 1 607 h (voir aussi § 4.2, l. 171)",
         DOC_002, "§ 6.2", 267,
         "Ces temps sont compris dans une fourchette de...... % et...... % des 1 607 heures de la durée légale "
         "de travail"),
    Rule("frais_structure", "Dépenses de structure : fourchette en % des dépenses brutes", DOC_002, "§ 6.2", 269,
         "le total des dépenses de structures (G1 + G3 + dépenses de personnels autres qu'aides à domicile, "
         "auxiliaires de vies sociale et aides médico-psychologique) est compris entre...... % et...... % des "
         "dépenses brutes totales du SAAD."),
    Rule("forfait_usager",
         "Forfait utilisateur : le plan d'aide signé, quelles que soient les heures réalisées (l. 35-37)",
         DOC_001, "« Le CPOM, comment ça marche ? »", 35,
         "Etabli sur la base du plan d'aide signé par les 3 parties — Quel que soit le nombre d'heure réalisées "
         "— L'utilisateur ne paye que le ticket modérateur"),
    Rule("participation_forfaitisee", "Participation de l'usager forfaitisée", DOC_002, "§ 1.1", 41,
         "La participation financière de l'usager est forfaitisée. [...] ne varient plus en fonction des "
         "différents prix de revient horaires des différents services."),
    Rule("option_7_1", "Option 7.1 : participation de droit commun (art. R. 232-11 CASF)", DOC_002, "§ 7.1", 325,
         "Les modalités de participation demeurent inchangées par rapport à la réglementation en vigueur."),
    Rule("option_7_2", "Option 7.2 : participation sur le plan d'aide accepté", DOC_002, "§ 7.2", 329,
         "le montant du plan d'aide (A) devient le montant de la fraction du plan d'aide acceptée par le "
         "bénéficiaire et non plus du montant du plan d'aide utilisé."),
    Rule("option_7_3", "Option 7.3 : participation sur les seules ressources (GIR 1 à 3, voire 4)", DOC_002,
         "§ 7.3", 335,
         "Il n'est pris en compte dans la formule que du revenu mensuel de la personne ainsi que de la "
         "majoration pour aide constante d'une tierce personne et non plus du montant de la fraction du plan "
         "d'aide utilisé par le bénéficiaire."),
]}

#: Share of the annual lump sum paid in monthly instalments (seed 002 § 6.1, l. 255).
MONTHLY_SHARE = 0.90
#: Share frozen at the start of the year, released after the dialogue de gestion (seed 002 § 6.1, l. 255).
WITHHELD_SHARE = 0.10
#: Instalments per year: "un paiement par douzième" (seed 001, l. 31).
MONTHS = 12
#: Tolerance on the committed annual hours: "+ ou – 10 %" (seed 001, l. 30).
HOURS_BAND = 0.10
#: Legal annual working time, base of the non-presence band (seed 002 § 4.2 l. 171, § 6.2 l. 267).
LEGAL_ANNUAL_HOURS = 1607

# -- APA participation (art. R. 232-11 CASF) ------------------------------------------------------------------
# The formula is not printed in the seeds: it is the regulation § 7.1 (l. 323) points to. Two wordings:
# - « règle en vigueur » (décret 2016-210 du 26 février 2016, article modifié par le décret 2019-613):
#   I 1° no participation while monthly resources R ≤ 0,725 S (S = majoration pour tierce personne);
#   I 2° for 0,725 S < R ≤ 2,67 S, P = 90 % × x × [A1 + A2 × (40 % + 60 % x) + A3 × (20 % + 80 % x)]
#   with x = (R − 0,725 S) / (1,945 S) and A1, A2, A3 the fractions of the accepted plan A up to
#   0,317 S, from 0,317 S to 0,498 S, and above 0,498 S; T = P / A; I 3° T = 90 % above 2,67 S.
#   (Thresholds and fractions: Légifrance, art. R. 232-11 version of 22 June 2019; the formula itself is
#   an image in the JO of 28/02/2016, coefficients as transcribed by OpenFisca-France, apa.py.)
# - « règle de l'expérimentation (2012) », the wording the 2012 specifications were written against:
#   nil under 0,67 S, 90 % above 2,67 S, linear in between, whatever the plan.
#: The rules a result can use; keys are shown with every result.
APA_RULES = {"2016": "art. R. 232-11 CASF en vigueur (décret 2016-210, modifié en 2019)",
             "2012": "règle de l'expérimentation (2012)"}
DEFAULT_APA_RULE = "2016"
#: Income (in MTP) under which the beneficiary pays nothing: 0,725 (in force), 0,67 (2012).
APA_LOW_MTP = 0.725
APA_LOW_MTP_2012 = 0.67
#: Income (in MTP) above which the beneficiary pays the maximum share (both wordings).
APA_HIGH_MTP = 2.67
#: Maximum share of the plan paid by the beneficiary (both wordings).
APA_MAX_SHARE = 0.90
#: Upper bounds of the plan fractions A1 and A2, in MTP (rule in force).
APA_FRACTION_1_MTP = 0.317
APA_FRACTION_2_MTP = 0.498
#: Reduced rate of A2 and A3 at the lowest resources: 40 % and 20 % of the A1 rate, rising to 100 % at 2,67 S.
APA_FRACTION_2_FLOOR = 0.40
APA_FRACTION_3_FLOOR = 0.20

REGULARISATION_MODES = {
    "aucune": "aucune régularisation (forfait acquis, heures redéployées — § 1.2 l. 55)",
    "hors_bande": "régularisation des seules heures au-delà de la borne de ± 10 %",
    "ecart_total": "régularisation de tout l'écart au volume engagé quand la bande est franchie",
}


def _cents(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- the lump sum ------------------------------------------------------------------------------------------

def forfait_apa_pch(planned_hours: float, financed_rate: float) -> float:
    """APA/PCH component: committed annual hours × financed hourly rate (seed 002 § 6.1 l. 247, seed 001 l. 30)."""
    if planned_hours < 0 or financed_rate < 0:
        raise ValueError("heures et tarif doivent être positifs")
    return float(_cents(planned_hours * financed_rate))


def gap_coverage(cost_price: float, reference_price: float, hours: float, coverage_share: float = 1.0) -> float:
    """Département's coverage of the gap between cost price and reference price, as a CFS for the
    general-interest commitments (seed 001 l. 32; seed 002 § 6.3 l. 275). Nil when the cost price is
    at or under the reference price."""
    if not 0 <= coverage_share <= 1:
        raise ValueError("la part couverte doit être entre 0 et 1")
    return float(_cents(max(0.0, cost_price - reference_price) * hours * coverage_share))


def forfait_global(apa_pch: float, cfs: float = 0.0, gestion_deleguee: float = 0.0) -> float:
    """The three components of the negotiated global lump sum (seed 002 § 6.1 l. 245-251)."""
    if min(apa_pch, cfs, gestion_deleguee) < 0:
        raise ValueError("composantes négatives")
    return float(_cents(apa_pch + cfs + gestion_deleguee))


def monthly_twelfths(annual_amount: float, monthly_share: float = MONTHLY_SHARE) -> list[float]:
    """The twelve monthly instalments: `monthly_share` of the annual amount paid by twelfths
    (seed 001 l. 31; seed 002 § 6.1 l. 255). Cents: the first eleven are the twelfth rounded down to the
    cent, the twelfth instalment takes the remainder so that the year sums exactly."""
    total = _cents(annual_amount * monthly_share)
    cents = int(total * 100)
    base = cents // MONTHS
    return [base / 100] * (MONTHS - 1) + [(cents - base * (MONTHS - 1)) / 100]


def withheld_amount(annual_amount: float, monthly_share: float = MONTHLY_SHARE) -> float:
    """The part frozen at the start of the year: what the twelfths do not pay (seed 002 § 6.1 l. 255)."""
    return float(_cents(annual_amount) - _cents(sum(monthly_twelfths(annual_amount, monthly_share))))


def release_share_from_objectives(weights: list[float], attainments: list[float]) -> float:
    """Share of the frozen 10 % to release: weighted attainment of the CPOM objectives, each in [0, 1]
    ("en fonction de la réalisation des objectifs quantitatifs et qualitatifs", seed 002 § 6.1 l. 255)."""
    if len(weights) != len(attainments) or not weights:
        raise ValueError("autant de poids que de taux d'atteinte")
    if any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("poids positifs, de somme non nulle")
    if any(not 0 <= a <= 1 for a in attainments):
        raise ValueError("taux d'atteinte entre 0 et 1")
    return sum(w * a for w, a in zip(weights, attainments)) / sum(weights)


def released_amount(withheld: float, release_share: float) -> float:
    """What the dialogue de gestion releases: all (1), part, or nothing (0) of the frozen amount
    (seed 002 § 6.1 l. 255 and § 6.4 l. 307)."""
    if not 0 <= release_share <= 1:
        raise ValueError("la part libérée doit être entre 0 et 1")
    return float(_cents(withheld * release_share))


# -- the ± 10 % band on hours ------------------------------------------------------------------------------

@dataclass(frozen=True)
class HoursBand:
    planned: float
    realised: float
    lower: float
    upper: float
    status: str           # "dans la bande", "sous la bande", "au-dessus de la bande"
    hours_outside: float  # hours beyond the crossed bound (0 inside the band)

    @property
    def realisation_rate(self) -> float:
        return self.realised / self.planned if self.planned else float("nan")


def hours_band(planned: float, realised: float, band: float = HOURS_BAND) -> HoursBand:
    """Where the realised annual hours stand against the committed volume ± `band` (seed 001 l. 30).
    The bounds are inclusive: exactly −10 % or +10 % is still inside the band."""
    lower, upper = planned * (1 - band), planned * (1 + band)
    eps = 1e-9 * max(1.0, planned)
    if realised < lower - eps:
        return HoursBand(planned, realised, lower, upper, "sous la bande", lower - realised)
    if realised > upper + eps:
        return HoursBand(planned, realised, lower, upper, "au-dessus de la bande", realised - upper)
    return HoursBand(planned, realised, lower, upper, "dans la bande", 0.0)


def band_regularisation(planned: float, realised: float, rate: float, band: float = HOURS_BAND,
                        mode: str = "hors_bande", finance_overrun: bool = False) -> float:
    """Year-end adjustment of the APA/PCH lump sum for hours outside the band (negative = recovered from
    the SAAD). Inside the band the lump sum is due in full (seed 001 l. 30 and l. 36; unrealised hours are
    redeployed, seed 002 § 1.2 l. 55). Outside, the sources leave the consequence to the dialogue de gestion
    and an amendment (seed 002 § 6.4 l. 293-311), hence `mode`:

    - "aucune": nothing is adjusted;
    - "hors_bande": only the hours beyond the crossed bound are adjusted;
    - "ecart_total": the whole gap to the committed volume is adjusted.

    Hours above the band are paid only with `finance_overrun` — by default the département's spending does
    not drift beyond the lump sum ("pas de dérapage des crédits APA au delà de 10 %", seed 001 l. 56).
    """
    if mode not in REGULARISATION_MODES:
        raise ValueError(f"mode inconnu : {mode!r}")
    position = hours_band(planned, realised, band)
    if mode == "aucune" or position.status == "dans la bande":
        return 0.0
    hours = position.hours_outside if mode == "hors_bande" else abs(realised - planned)
    if position.status == "sous la bande":
        return float(-_cents(hours * rate))
    return float(_cents(hours * rate)) if finance_overrun else 0.0


# -- the double frame: non-presence time and structure costs (seed 002 § 6.2) ------------------------------

def productive_hours_per_etp(non_presence_share: float, legal_hours: float = LEGAL_ANNUAL_HOURS) -> float:
    """Hours in the user's presence per full-time worker: 1 607 h less the non-presence share
    (seed 002 § 4.2 l. 171, § 6.2 l. 267)."""
    if not 0 <= non_presence_share < 1:
        raise ValueError("part de non-présence entre 0 et 1 (exclu)")
    return legal_hours * (1 - non_presence_share)


def etp_needed(hours: float, non_presence_share: float) -> float:
    """ETP of home helpers needed for `hours` of intervention (seed 002 § 4.2 l. 171)."""
    return hours / productive_hours_per_etp(non_presence_share)


def structure_cost_share(structure_costs: float, gross_expenses: float) -> float:
    """Structure costs (G1 + G3 + staff other than home helpers) as a share of gross expenses
    (seed 002 § 4.3 l. 181, § 6.2 l. 269)."""
    if gross_expenses <= 0:
        raise ValueError("dépenses brutes nulles")
    return structure_costs / gross_expenses


def within_bounds(value: float, low: float | None, high: float | None) -> bool | None:
    """True inside [low, high] (inclusive); None when the CPOM has not set the bounds (left blank in
    seed 002 § 6.2 l. 267 and l. 269)."""
    if low is None or high is None:
        return None
    return low - 1e-12 <= value <= high + 1e-12


def cost_price_from_components(cost_per_paid_hour: float, non_presence_share: float,
                               structure_share: float) -> float:
    """Hourly cost price implied by the two framed ratios: a paid hour of a home helper costs
    `cost_per_paid_hour`; only (1 − non-presence) of paid hours are spent with users (seed 002 § 6.2 l. 267),
    and structure costs are `structure_share` of gross expenses (l. 269), so
    cost price = cost per paid hour / (1 − non-presence) / (1 − structure share)."""
    if not 0 <= structure_share < 1:
        raise ValueError("part des frais de structure entre 0 et 1 (exclu)")
    return cost_per_paid_hour * LEGAL_ANNUAL_HOURS / productive_hours_per_etp(non_presence_share) \
        / (1 - structure_share)


# -- user participation (seed 002 § 7) ---------------------------------------------------------------------

def _check_apa(monthly_income: float, mtp: float, rule: str) -> None:
    if mtp <= 0 or monthly_income < 0:
        raise ValueError("revenu positif et MTP strictement positive")
    if rule not in APA_RULES:
        raise ValueError(f"règle de participation inconnue : {rule} (attendu : {', '.join(APA_RULES)})")


def apa_plan_fractions(accepted_plan: float, mtp: float) -> tuple[float, float, float]:
    """A1, A2, A3: the parts of the accepted plan up to 0,317 S, from 0,317 S to 0,498 S, above 0,498 S."""
    a = max(float(accepted_plan), 0.0)
    s1, s2 = APA_FRACTION_1_MTP * mtp, APA_FRACTION_2_MTP * mtp
    return min(a, s1), min(max(a - s1, 0.0), s2 - s1), max(a - s2, 0.0)


def apa_participation_amount(accepted_plan: float, monthly_income: float, mtp: float,
                             rule: str = DEFAULT_APA_RULE) -> float:
    """P, the beneficiary's participation on the accepted plan A (€/month, unrounded), art. R. 232-11."""
    _check_apa(monthly_income, mtp, rule)
    a = max(float(accepted_plan), 0.0)
    if rule == "2012":
        low = APA_LOW_MTP_2012 * mtp
        if monthly_income <= low:
            return 0.0
        if monthly_income >= APA_HIGH_MTP * mtp:
            return APA_MAX_SHARE * a
        return APA_MAX_SHARE * (monthly_income - low) / ((APA_HIGH_MTP - APA_LOW_MTP_2012) * mtp) * a
    if monthly_income <= APA_LOW_MTP * mtp:
        return 0.0
    if monthly_income > APA_HIGH_MTP * mtp:
        return APA_MAX_SHARE * a
    x = (monthly_income - APA_LOW_MTP * mtp) / ((APA_HIGH_MTP - APA_LOW_MTP) * mtp)
    a1, a2, a3 = apa_plan_fractions(a, mtp)
    return APA_MAX_SHARE * x * (a1 + a2 * (APA_FRACTION_2_FLOOR + (1 - APA_FRACTION_2_FLOOR) * x)
                                + a3 * (APA_FRACTION_3_FLOOR + (1 - APA_FRACTION_3_FLOOR) * x))


def apa_participation_rate(monthly_income: float, mtp: float, accepted_plan: float | None = None,
                           rule: str = DEFAULT_APA_RULE) -> float:
    """T, the share of the plan paid by the beneficiary (art. R. 232-11 CASF): under the rule in force
    T = P / A depends on the accepted plan A (the rate of its first fraction when A is 0 or not
    given); under the 2012 rule it depends on resources only."""
    _check_apa(monthly_income, mtp, rule)
    plan = accepted_plan if accepted_plan else min(1.0, APA_FRACTION_1_MTP * mtp)  # inside A1
    return apa_participation_amount(plan, monthly_income, mtp, rule) / plan


def participation_7_1(used_plan_amount: float, monthly_income: float, mtp: float,
                      accepted_plan_amount: float | None = None, rule: str = DEFAULT_APA_RULE) -> float:
    """Option 7.1: ordinary rule — the rate of the accepted plan applied to the part of the plan
    actually used (realised hours) (seed 002 § 7.1 l. 323-325; art. R. 232-11 I « fraction du plan
    d'aide qu'il utilise »). Without an accepted plan, the used plan stands for it."""
    plan = used_plan_amount if accepted_plan_amount is None else accepted_plan_amount
    return float(_cents(apa_participation_rate(monthly_income, mtp, plan, rule) * used_plan_amount))


def participation_7_2(accepted_plan_amount: float, monthly_income: float, mtp: float,
                      rule: str = DEFAULT_APA_RULE) -> float:
    """Option 7.2: same formula, A = the accepted plan, whatever is realised (seed 002 § 7.2 l. 329;
    seed 001 l. 35-37 "quel que soit le nombre d'heure réalisées")."""
    return float(_cents(apa_participation_amount(accepted_plan_amount, monthly_income, mtp, rule)))


def participation_7_3(monthly_income: float, mtp: float, reference_amount: float, gir: int,
                      include_gir4: bool = False, rule: str = DEFAULT_APA_RULE) -> float | None:
    """Option 7.3: resources only, for GIR 1-3 (and GIR 4 if the département chooses so) (seed 002 § 7.3
    l. 333-335). The seed does not say which amount the rate applies to, so `reference_amount` is the
    département's flat base written in the CPOM (§ 7 l. 321), taken as the plan A of the formula.
    None when the GIR is not eligible (the ordinary rule then applies)."""
    if gir not in (1, 2, 3, 4) or (gir == 4 and not include_gir4):
        return None
    return float(_cents(apa_participation_amount(reference_amount, monthly_income, mtp, rule)))


def participation_options(plan_hours: float, realised_hours: float, rate: float, monthly_income: float,
                          mtp: float, reference_amount: float, gir: int, include_gir4: bool = False,
                          rule: str = DEFAULT_APA_RULE) -> pd.DataFrame:
    """Monthly ticket modérateur of one beneficiary under each option, with its citation and the
    participation rule used (`regle_participation`)."""
    accepted, used = plan_hours * rate, realised_hours * rate
    rows = [
        ("7.1", RULES["option_7_1"], used, participation_7_1(used, monthly_income, mtp, accepted, rule),
         apa_participation_rate(monthly_income, mtp, accepted, rule)),
        ("7.2", RULES["option_7_2"], accepted, participation_7_2(accepted, monthly_income, mtp, rule),
         apa_participation_rate(monthly_income, mtp, accepted, rule)),
        ("7.3", RULES["option_7_3"], reference_amount,
         participation_7_3(monthly_income, mtp, reference_amount, gir, include_gir4, rule),
         apa_participation_rate(monthly_income, mtp, reference_amount, rule)),
    ]
    return pd.DataFrame([{"option": o, "regle": r.title, "base": round(b, 2), "participation": p,
                          "taux": t, "citation": r.citation, "regle_participation": APA_RULES[rule]}
                         for o, r, b, p, t in rows])


# -- the whole year: CPOM versus hourly billing ------------------------------------------------------------

@dataclass
class CpomInputs:
    planned_hours: float                 # annual commitment
    financed_rate: float                 # reference price per hour (€)
    cost_price: float                    # SAAD's hourly cost price (€)
    realised_by_month: list[float]       # 12 monthly realised hours
    coverage_share: float = 1.0          # share of the cost-price gap covered as a CFS
    cfs_other: float = 0.0               # other CFS: prevention, general-interest missions (€/year)
    gestion_deleguee: float = 0.0        # delegated management of technical aids (€/year)
    release_share: float = 1.0           # part of the frozen 10 % released after the dialogue de gestion
    band: float = HOURS_BAND
    regularisation_mode: str = "hors_bande"
    finance_overrun: bool = False

    def __post_init__(self) -> None:
        if len(self.realised_by_month) != MONTHS:
            raise ValueError("12 mois d'heures réalisées attendus")
        if any(h < 0 for h in self.realised_by_month):
            raise ValueError("heures réalisées négatives")


@dataclass(frozen=True)
class CpomResult:
    monthly: pd.DataFrame    # one row per month + the settlement after the dialogue de gestion
    summary: dict[str, float]
    band: HoursBand


SETTLEMENT_LABEL = "Dialogue de gestion (T1 N+1)"


def simulate_year(inputs: CpomInputs) -> CpomResult:
    """One year of a SAAD under the CPOM (twelfths of 90 %, 10 % frozen then released, band regularisation)
    next to hourly billing of the realised hours at the same financed rate."""
    realised = sum(inputs.realised_by_month)
    apa = forfait_apa_pch(inputs.planned_hours, inputs.financed_rate)
    cfs_gap = gap_coverage(inputs.cost_price, inputs.financed_rate, inputs.planned_hours, inputs.coverage_share)
    total = forfait_global(apa, cfs_gap + inputs.cfs_other, inputs.gestion_deleguee)
    twelfths = monthly_twelfths(total)
    withheld = withheld_amount(total)
    released = released_amount(withheld, inputs.release_share)
    position = hours_band(inputs.planned_hours, realised, inputs.band)
    regularisation = band_regularisation(inputs.planned_hours, realised, inputs.financed_rate, inputs.band,
                                         inputs.regularisation_mode, inputs.finance_overrun)
    hourly = [float(_cents(h * inputs.financed_rate)) for h in inputs.realised_by_month]
    months = [f"{m:02d}" for m in range(1, MONTHS + 1)]
    monthly = pd.DataFrame({
        "mois": months + [SETTLEMENT_LABEL],
        "heures_realisees": list(inputs.realised_by_month) + [0.0],
        "versement_cpom": twelfths + [float(_cents(released + regularisation))],
        "facturation_horaire": hourly + [0.0],
    })
    monthly["heures_cumulees"] = monthly["heures_realisees"].cumsum()
    monthly["cumul_cpom"] = monthly["versement_cpom"].cumsum().round(2)
    monthly["cumul_horaire"] = monthly["facturation_horaire"].cumsum().round(2)
    paid_cpom = float(_cents(sum(twelfths) + released + regularisation))
    paid_hourly = float(_cents(sum(hourly)))
    cost = float(_cents(realised * inputs.cost_price))
    other_missions = inputs.cfs_other + inputs.gestion_deleguee  # compensated at cost (no overcompensation)
    summary = {
        "heures_engagees": inputs.planned_hours, "heures_realisees": realised,
        "forfait_apa_pch": apa, "cfs_differentiel": cfs_gap, "cfs_autres": inputs.cfs_other,
        "gestion_deleguee": inputs.gestion_deleguee, "forfait_global": total,
        "douzieme": twelfths[0], "total_douziemes": float(_cents(sum(twelfths))),
        "montant_gele": withheld, "montant_libere": released,
        "montant_non_libere": float(_cents(withheld - released)), "regularisation": regularisation,
        "total_verse_cpom": paid_cpom, "total_facturation_horaire": paid_hourly,
        "cout_heures_realisees": cost,
        "resultat_cpom": float(_cents(paid_cpom - cost - other_missions)),
        "resultat_horaire": float(_cents(paid_hourly - cost)),
        "ecart_depense_financeur": float(_cents(paid_cpom - paid_hourly)),
    }
    return CpomResult(monthly, summary, position)
