"""« Aide à domicile », tab « Simulateur CPOM / forfait global »: rendered by pages/aide-domicile.py."""

import pandas as pd
import streamlit as st

from common.format import nombre, pourcentage
from methods import cpom
from query import aide_domicile as aide_domicile_reads
from ui import aide_domicile as ad
from ui import data
from ui.aide_domicile_common import cite, euros


def render(version: str, territoire, labels) -> None:
    st.markdown("Simulation d'une année d'un SAAD sous CPOM avec forfait global négocié, comparée à la "
                "facturation horaire des heures réalisées au même tarif. Chaque règle cite son paragraphe.")
    c1, c2, c3 = st.columns(3)
    planned = c1.number_input("Heures annuelles engagées", 1000.0, 2_000_000.0, 18_000.0, 500.0, format="%.0f",
                              key="cpom_heures", bind="query-params", help=cite("engagement_heures"))
    rate = c2.number_input("Tarif horaire financé (prix de référence, €)", 5.0, 60.0, 20.0, 0.1, format="%.2f",
                           key="cpom_tarif", bind="query-params")
    cost_price = c3.number_input(
        "Prix de revient horaire du SAAD (€)",
        5.0,
        80.0,
        21.40,
        0.1,
        format="%.2f",
        key="cpom_prix",
        bind="query-params",
        help="Repère UNCCAS-MISAP 2014 : 16,30 € à 21,76 € (l. 218-220).",
    )
    c1, c2, c3 = st.columns(3)
    coverage = c1.slider("Part du différentiel couverte par le département", 0, 100, 100, 5, format="%d %%",
                         key="cpom_couverture", bind="query-params", help=cite("differentiel")) / 100
    cfs_other = c2.number_input("Autres CFS : prévention, intérêt général (€/an)", 0.0, 1e8, 0.0, 1000.0,
                                format="%.0f", key="cpom_cfs", bind="query-params", help=cite("cfs"))
    delegated = c3.number_input("Gestion déléguée des aides techniques (€/an)", 0.0, 1e8, 0.0, 1000.0,
                                format="%.0f", key="cpom_gestion", bind="query-params", help=cite("composantes"))

    with st.expander("Heures réalisées par mois", expanded=False, icon=":material/calendar_month:"):
        default_month = round(planned * 0.95 / 12)
        months = pd.DataFrame({"mois": [f"{m:02d}" for m in range(1, 13)], "heures": [float(default_month)] * 12})
        edited = st.data_editor(months, hide_index=True, disabled=["mois"], width="stretch",
                                key=f"cpom_mois_{int(planned)}",
                                column_config={"mois": "Mois", "heures": st.column_config.NumberColumn(
                                    "Heures réalisées", min_value=0.0, step=10.0, format="%.0f")})
        st.caption("Par défaut 95 % du volume engagé, réparti en douze mois égaux.")
    realised = edited["heures"].fillna(0).astype(float).tolist()

    st.markdown("**Dialogue de gestion**")
    c1, c2, c3 = st.columns(3)
    mode = c1.selectbox("Régularisation hors bande", list(cpom.REGULARISATION_MODES),
                        format_func=cpom.REGULARISATION_MODES.get, index=1, key="cpom_mode", bind="query-params",
                        help=cite("avenant"))
    overrun = c2.checkbox(
        "Financer les heures au-delà de + 10 %",
        value=False,
        key="cpom_depassement",
        bind="query-params",
        help=cite("plafond_apa"),
    )
    release_mode = c3.radio("Part des 10 % libérée", ["selon les objectifs", "saisie directe"], horizontal=True,
                            key="cpom_liberation_mode", bind="query-params", help=cite("gel_10"))
    if release_mode == "saisie directe":
        release_share = (
            st.slider("Part libérée", 0, 100, 100, 5, format="%d %%", key="cpom_liberation", bind="query-params") / 100
        )
    else:
        objectives = pd.DataFrame({
            "objectif": ["Activité réalisée / prévisionnelle (§ 6.4 l. 295)",
                         "Absentéisme, bilans sociaux (§ 6.4 l. 301)",
                         "Professionnalisation (§ 6.4 l. 303)",
                         "Objectifs « qualité » du CPOM (§ 1.1 l. 21)"],
            "poids": [2.0, 1.0, 1.0, 1.0], "atteinte": [100.0, 100.0, 50.0, 100.0]})
        objectives = st.data_editor(objectives, hide_index=True, width="stretch", disabled=["objectif"],
                                    key="cpom_objectifs", column_config={
                                        "objectif": "Objectif du CPOM",
                                        "poids": st.column_config.NumberColumn("Poids", min_value=0.0),
                                        "atteinte": st.column_config.NumberColumn(
                                            "Atteinte (%)", min_value=0.0, max_value=100.0)})
        try:
            release_share = cpom.release_share_from_objectives(
                objectives["poids"].fillna(0).tolist(), (objectives["atteinte"].fillna(0) / 100).tolist())
        except ValueError as exc:
            st.error(f"Objectifs : {exc}")
            release_share = 0.0
        st.caption(f"Part libérée = moyenne des atteintes pondérée par les poids : {pourcentage(release_share)}.")

    simulation = ad.simulation_cpom(planned, rate, cost_price, tuple(realised), coverage, cfs_other, delegated,
                                    release_share, mode, overrun)
    result = simulation.result
    s = result.summary
    band = result.band

    st.markdown("**Résultats**")
    m = st.columns(4)
    m[0].metric("Forfait global annuel", euros(s["forfait_global"]))
    m[1].metric("Douzième mensuel (90 %)", euros(s["douzieme"], 2))
    m[2].metric("Gelé en début d'exercice (10 %)", euros(s["montant_gele"], 2))
    m[3].metric("Libéré après dialogue de gestion", euros(s["montant_libere"], 2))
    m = st.columns(4)
    m[0].metric("Heures réalisées / engagées", pourcentage(band.realisation_rate),
                delta=band.status, delta_color="off" if band.status == "dans la bande" else "inverse")
    m[1].metric("Régularisation hors bande", euros(s["regularisation"], 2))
    m[2].metric("Total versé sous CPOM", euros(s["total_verse_cpom"]),
                delta=f"{euros(s['ecart_depense_financeur'])} vs facturation horaire", delta_color="off")
    m[3].metric("Facturation horaire (heures × tarif)", euros(s["total_facturation_horaire"]))
    if band.status == "dans la bande":
        st.success(f"Heures réalisées ({nombre(band.realised)} h) dans la bande de ± 10 % "
                   f"[{nombre(band.lower)} h ; {nombre(band.upper)} h] : le forfait est acquis, les heures non "
                   f"réalisées sont redéployées. {cite('engagement_heures')} ; {cite('redeploiement')}.",
                   icon=":material/check_circle:")
    else:
        st.warning(f"Heures réalisées ({nombre(band.realised)} h) {band.status} de ± 10 % "
                   f"[{nombre(band.lower)} h ; {nombre(band.upper)} h] : {nombre(band.hours_outside)} h hors "
                   f"bande, à traiter au dialogue de gestion ({cpom.REGULARISATION_MODES[mode]}). "
                   f"{cite('engagement_heures')} ; {cite('avenant')}.", icon=":material/warning:")

    fig = simulation.fig
    st.plotly_chart(fig, width="stretch", key="cpom_cumul")
    ad.chart_exports(fig, "cpom_cumul", "CPOM / forfait global : versements cumulés et facturation horaire")
    st.caption(f"Règles : {cite('douziemes')} ; {cite('versement_90')} ; {cite('gel_10')} ; "
               f"{cite('calendrier_dialogue')}.")
    components = simulation.composantes
    st.dataframe(components, hide_index=True, width="stretch", height=560, column_config={
        "poste": "Poste", "montant": st.column_config.NumberColumn("Montant (€)", format="%.2f")})
    st.caption("Résultats : recettes − coût des heures réalisées au prix de revient ; les autres CFS et la "
               "gestion déléguée sont supposées compenser exactement leurs coûts (sans surcompensation, "
               "§ 6.3 l. 287). Montants tous payeurs confondus (part départementale et ticket modérateur).")
    ad.export_buttons(components, "cpom_synthese", "exp_cpom_synthese", "synthèse")
    ad.export_buttons(result.monthly, "cpom_versements_mensuels", "exp_cpom_mensuel", "versements mensuels")

    st.markdown("**Double encadrement du forfait (§ 6.2)** — les fourchettes sont laissées en blanc dans le "
                "cahier des charges : saisir celles du CPOM.")
    c1, c2, c3, c4 = st.columns(4)
    non_presence = c1.number_input("Non-présence directe (% de 1 607 h)", 0.0, 60.0, 15.0, 0.5,
                                   key="cpom_np", bind="query-params", help=cite("non_presence")) / 100
    np_low = c2.number_input("Borne basse (%)", 0.0, 60.0, value=None, key="cpom_np_bas", bind="query-params")
    np_high = c2.number_input("Borne haute (%)", 0.0, 60.0, value=None, key="cpom_np_haut", bind="query-params")
    structure = c3.number_input("Frais de structure (% des dépenses brutes)", 0.0, 60.0, 12.0, 0.5,
                                key="cpom_structure", bind="query-params", help=cite("frais_structure")) / 100
    st_low = c4.number_input("Borne basse (%) ", 0.0, 60.0, value=None, key="cpom_st_bas", bind="query-params")
    st_high = c4.number_input("Borne haute (%) ", 0.0, 60.0, value=None, key="cpom_st_haut", bind="query-params")
    frame_checks = []
    for label, value, low, high, key in [("Non-présence directe", non_presence, np_low, np_high, "non_presence"),
                                         ("Frais de structure", structure, st_low, st_high, "frais_structure")]:
        inside = cpom.within_bounds(value, None if low is None else low / 100, None if high is None else high / 100)
        verdict = {None: "fourchette non saisie", True: "dans la fourchette", False: "hors fourchette"}[inside]
        frame_checks.append((label, pourcentage(value), verdict, cite(key)))
    etp = cpom.etp_needed(planned, non_presence)
    st.dataframe(pd.DataFrame(frame_checks, columns=["ratio", "valeur", "contrôle", "règle (source)"]),
                 hide_index=True, width="stretch")
    paid_hour = st.number_input(
        "Coût chargé d'une heure rémunérée d'intervenant (€), pour reconstituer le prix de revient",
        5.0,
        60.0,
        16.0,
        0.1,
        format="%.2f",
        key="cpom_cout_heure",
        bind="query-params",
    )
    rebuilt = cpom.cost_price_from_components(paid_hour, non_presence, structure)
    st.caption(f"{nombre(cpom.productive_hours_per_etp(non_presence))} h de présence directe par ETP "
               f"(1 607 h × (1 − {pourcentage(non_presence)})) : {nombre(etp, 1)} ETP d'intervenants pour "
               f"{nombre(planned)} h. Prix de revient reconstitué : {euros(rebuilt, 2)} / h "
               f"(coût de l'heure rémunérée ÷ (1 − non-présence) ÷ (1 − frais de structure)), contre "
               f"{euros(cost_price, 2)} saisi. Repère UNCCAS-MISAP : 840 h d'intervention par ETP (l. 206).")

    st.markdown("**Participation d'un bénéficiaire de l'APA selon l'option retenue (§ 7)**")
    c1, c2, c3, c4 = st.columns(4)
    gir = c1.selectbox("GIR", [1, 2, 3, 4], index=2, key="cpom_gir", bind="query-params")
    include_gir4 = c1.checkbox("Option 7.3 ouverte au GIR 4", value=False, key="cpom_gir4", bind="query-params")
    income = c2.number_input(
        "Revenu mensuel (€)", 0.0, 20_000.0, 1_600.0, 50.0, format="%.0f", key="cpom_revenu", bind="query-params"
    )
    mtp = c2.number_input(
        "MTP en vigueur (€/mois)",
        100.0,
        5_000.0,
        1_100.0,
        1.0,
        format="%.2f",
        key="cpom_mtp",
        bind="query-params",
        help="Majoration pour tierce personne : montant réglementaire à saisir (non fourni par "
        "les sources ; valeur par défaut indicative).",
    )
    plan_hours = c3.number_input(
        "Plan d'aide accepté (h/mois)", 0.0, 300.0, 30.0, 1.0, key="cpom_plan", bind="query-params"
    )
    used_hours = c3.number_input(
        "Heures réalisées ce mois (h)", 0.0, 300.0, 24.0, 1.0, key="cpom_realisees", bind="query-params"
    )
    reference_amount = c4.number_input("Montant de référence de l'option 7.3 (€/mois)", 0.0, 5_000.0, 500.0, 10.0,
                                       key="cpom_reference", bind="query-params",
                                       help="La source ne dit pas à quel montant s'applique le taux en 7.3 : base "
                                            "forfaitaire fixée dans le CPOM (§ 7, l. 321).")
    apa_rule = c4.radio("Règle de participation (art. R. 232-11 CASF)", list(cpom.APA_RULES), key="cpom_regle_apa",
                        bind="query-params", format_func=lambda r: {"2016": "en vigueur (2016, modifiée 2019)",
                                                                     "2012": "règle de l'expérimentation (2012)"}[r])
    vue = ad.participation(plan_hours, used_hours, rate, income, mtp, reference_amount, gir, include_gir4, apa_rule)
    options = vue.options
    col_chart, col_table = st.columns([2, 3])
    with col_chart:
        fig = vue.fig
        st.plotly_chart(fig, width="stretch", key="cpom_participation")
        ad.chart_exports(fig, "cpom_participation", "Participation de l'usager selon l'option (7.1 à 7.3) — "
                         + cpom.APA_RULES[apa_rule])
    with col_table:
        st.dataframe(vue.affiche, hide_index=True,
                     width="stretch", column_config={
                         "option": "Option", "regle": "Règle", "base": st.column_config.NumberColumn(
                             "Base (€/mois)", format="%.2f"),
                         "taux": st.column_config.NumberColumn("Taux", format="percent"),
                         "participation": "Participation (€/mois)", "regle_participation": "Règle appliquée",
                         "citation": "Source"})
        if apa_rule == "2016":
            rule_text = (f"**{cpom.APA_RULES['2016']}** : nulle jusqu'à {nombre(cpom.APA_LOW_MTP, 3)} MTP de revenu ; "
                         f"entre {nombre(cpom.APA_LOW_MTP, 3)} et {nombre(cpom.APA_HIGH_MTP, 2)} MTP, le plan est "
                         f"découpé en fractions (jusqu'à {nombre(cpom.APA_FRACTION_1_MTP, 3)} MTP, jusqu'à "
                         f"{nombre(cpom.APA_FRACTION_2_MTP, 3)} MTP, au-delà) aux taux réduits de 100 %, 40 % à 100 % "
                         f"et 20 % à 100 % du taux de base selon le revenu ; {pourcentage(cpom.APA_MAX_SHARE, 0)} "
                         f"au-delà de {nombre(cpom.APA_HIGH_MTP, 2)} MTP")
        else:
            rule_text = (f"**{cpom.APA_RULES['2012']}** (version du CASF à laquelle renvoie le § 7.1) : nulle sous "
                         f"{nombre(cpom.APA_LOW_MTP_2012, 2)} MTP de revenu, {pourcentage(cpom.APA_MAX_SHARE, 0)} du "
                         f"plan au-delà de {nombre(cpom.APA_HIGH_MTP, 2)} MTP, linéaire entre les deux")
        st.caption(f"Taux de participation — {rule_text} (formule non reproduite dans les sources). "
                   f"{cite('forfait_usager')} ; {cite('participation_forfaitisee')}.")
    ad.export_buttons(options, "cpom_participation_usager", "exp_cpom_participation")

    with st.expander("Toutes les règles du simulateur et leur source", icon=":material/gavel:"):
        rules = data.read(aide_domicile_reads.cpom_regles, version)
        st.dataframe(rules[["titre", "paragraphe", "source_line", "citation", "source_nom"]], hide_index=True,
                     width="stretch", column_config={
                         "titre": "Règle", "paragraphe": "Paragraphe",
                         "source_line": st.column_config.NumberColumn("Ligne", format="%d"),
                         "citation": "Texte", "source_nom": "Document"})
        st.caption("Le § 7 du cahier des charges renvoie par erreur aux « modalités (6.1) … (6.2 et 6.3) » (l. 315 "
                   "et 337) : il s'agit des options 7.1 à 7.3.")
        ad.export_buttons(rules, "cpom_regles", "exp_cpom_regles")
