import pandas as pd
import streamlit as st

from common.format import SECRET_LEGEND, SECRET_MARK, nombre, pourcentage
from etl.inputs import AIDE_DOMICILE_TEMPLATES as TEMPLATES
from methods import cpom, paniers, saad
from query import aide_domicile as aide_domicile_reads
from query import territoires as territoires_reads
from ui import aide_domicile as ad
from ui import data, state

# Figures, method results and tables come built once per (territory, filters) and shared by every
# session (ui.aide_domicile): this page reads them and never mutates them.
territoire = state.territory()
version = data.version()
labels = data.read(territoires_reads.sources, version, shared=True)
SIMULATED_BANNER = "Données simulées — méthode réelle : {what}. Les valeurs sont inventées, ne pas les citer."


def euros(value, decimals: int = 0) -> str:
    return f"{nombre(value, decimals)}\u202f€"


cite = ad.cite


def templates(names: list[str], key: str) -> None:
    with st.expander("Modèles de fichiers à remplir (CSV et XLSX)", icon=":material/description:"):
        for name in names:
            template = TEMPLATES[name]
            st.markdown(f"**{template.title}** — fichier `{name}*.csv` ou `.xlsx` dans le dossier passé à "
                        "`python -m etl build --input DOSSIER`")
            st.dataframe(ad.template_columns(name), hide_index=True, width="stretch")
            csv, xlsx = ad.template_files(name)
            left, right, _ = st.columns([1, 1, 4])
            left.download_button("Modèle CSV", csv, f"{name}.csv", "text/csv",
                                 key=f"{key}_{name}_csv", icon=":material/download:")
            right.download_button("Modèle XLSX", xlsx, f"{name}.xlsx",
                                  key=f"{key}_{name}_xlsx", icon=":material/download:")


st.title("Aide à domicile")
st.caption("Paniers de services des caisses de retraite, CPOM et forfait global négocié des services d'aide "
           "et d'accompagnement à domicile (SAAD), indicateurs clés de pilotage d'un SAAD.")

tab_paniers, tab_cpom, tab_saad = st.tabs(
    ["Suivi des paniers de services", "Simulateur CPOM / forfait global", "Indicateurs SAAD"])

# == Paniers de services ==================================================================================
with tab_paniers:
    bilan = ad.bilan(version)
    quoted, caisses = bilan.quoted, bilan.caisses
    monthly_source, detail_source = bilan.monthly_source, bilan.detail_source

    st.subheader("Bilan intermédiaire de l'expérimentation CNAV (30 juin 2015)")
    if len(quoted):
        rates = bilan.rates
        col_funnel, col_terr = st.columns([3, 2])
        with col_funnel:
            fig = bilan.fig_funnel
            st.plotly_chart(fig, width="stretch", key="paniers_funnel_2015")
            ad.chart_exports(
                fig, "paniers_funnel_2015", "Paniers de services : demandes, évaluations, paniers accordés (30/06/2015)"
            )
            st.caption(
                f"{pourcentage(rates['evaluation_par_demande'])} des demandes ont donné lieu à une évaluation, "
                f"{pourcentage(rates['panier_par_evaluation'])} des évaluations à un panier — « des dossiers pour "
                "lesquels des évaluations ont été commandées restent en cours d'instruction » (l. 113). "
                + ad.source_caption(labels, ["paniers-cnav-2015"], "Lignes 103, 107 et 111."))
        with col_terr:
            fig = bilan.fig_territoires
            st.plotly_chart(fig, width="stretch", key="paniers_territoires_2015")
            ad.chart_exports(fig, "paniers_territoires_2015", "Paniers de services par type de territoire (2015)")
            st.caption("Part des territoires (non des paniers) retenus par les caisses engagées. "
                       + ad.source_caption(labels, ["paniers-cnav-2015"], "Lignes 123, 129 et 136."))
    engagement, families = bilan.engagement, bilan.familles
    col_a, col_b = st.columns(2)
    with col_a:
        st.markdown("**Engagement des caisses**")
        st.dataframe(engagement, hide_index=True, width="stretch", column_config={
            "modalite": "Caisse(s)", "periode": "Date", "valeur": st.column_config.NumberColumn("Nombre"),
            "source_line": st.column_config.NumberColumn("Ligne", format="%d")})
    with col_b:
        st.markdown("**Les cinq familles de services** (cahier des charges, l. 238-244)")
        st.dataframe(families, hide_index=True, width="stretch", column_config={
            "ordre": "n°", "modalite": "Famille", "source_line": st.column_config.NumberColumn("Ligne", format="%d")})
    st.caption("La répartition des paniers par niveau (l. 138) et celle des prestataires pivots par statut "
               "(associations, entreprises, CCAS, l. 144-158) sont des graphiques sans données dans le texte du "
               "rapport : elles s'affichent ici dès qu'un fichier de suivi les fournit.")
    ad.export_buttons(bilan.export, "paniers_bilan_2015", "exp_paniers_2015", "bilan 2015")

    st.subheader("Suivi mensuel par caisse")
    if not caisses:
        st.info("Aucun fichier de suivi mensuel chargé : remplir le modèle `paniers_suivi` (et `paniers_detail` "
                "pour les niveaux, familles et types de territoire), puis reconstruire la base avec "
                "`python -m etl build --input DOSSIER`.", icon=":material/upload_file:")
    else:
        chosen = tuple(st.multiselect("Caisses", caisses, default=caisses, key="paniers_caisses",
                                      bind="query-params"))
        suivi = ad.suivi_paniers(version, chosen)
        fig = suivi.fig
        st.plotly_chart(fig, width="stretch", key="paniers_mensuel")
        ad.chart_exports(fig, "paniers_mensuel", "Paniers de services : suivi mensuel par caisse")
        st.caption(ad.source_caption(labels, [monthly_source], "Mois sous 11 personnes masqués (secret statistique)."))
        st.dataframe(suivi.affiche, hide_index=True,
                     width="stretch", column_config={"caisse": "Caisse", "mois": "Mois", **paniers.ETAPES})
        st.caption("Cellules de moins de 11 personnes masquées, et la plus petite cellule voisine du même mois "
                   "(secret secondaire).")
        ad.export_buttons(suivi.export, "paniers_suivi_mensuel", "exp_paniers_mensuel",
                          "suivi mensuel")
        if detail_source:
            cols = st.columns(3)
            for col, (dimension, title) in zip(cols, [("niveau", "Par niveau"), ("famille", "Par famille"),
                                                       ("type_territoire", "Par type de territoire")]):
                vue = ad.repartition_paniers(version, chosen, dimension, title)
                col.plotly_chart(vue.fig, width="stretch", key=f"paniers_{dimension}")
                shown_part = vue.affiche
                col.dataframe(shown_part, hide_index=True, width="stretch",
                              column_config={dimension: title.removeprefix("Par ").capitalize(),
                                             "nb_paniers": "Paniers", "part": "Part"})
                with col:
                    ad.export_buttons(vue.export, f"paniers_{dimension}",
                                      f"exp_paniers_{dimension}")
            st.caption(ad.source_caption(labels, [detail_source],
                                         "Modalités de moins de 11 paniers masquées."))
    templates(["paniers_suivi", "paniers_detail"], "tpl_paniers")

# == Simulateur CPOM ======================================================================================
with tab_cpom:
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

# == Indicateurs SAAD =====================================================================================
with tab_saad:
    services = data.read(
        aide_domicile_reads.saad_services, version, territoire.departement, territoire.epci, shared=True
    )
    catalogue = data.read(aide_domicile_reads.saad_catalogue, version)
    saad_sources = sorted(services["source"].unique()) if len(services) else []
    if (services.get("nature") == "simulated").any():
        st.warning(SIMULATED_BANNER.format(
            what="un SAAD de CCAS fictif par EPCI, au chef-lieu le plus peuplé, valeurs tirées dans les "
                 "fourchettes du profil type UNCCAS-MISAP 2016"), icon=":material/science:")
    st.subheader(f"SAAD — {territoire.label}")
    periods = data.read(aide_domicile_reads.saad_periodes, version, territoire.departement, "A")
    if services.empty or not periods:
        st.info("Aucun service ni indicateur pour ce territoire : remplir les modèles `saad_services` et "
                "`saad_indicateurs` ci-dessous.", icon=":material/upload_file:")
    else:
        periode = st.selectbox("Exercice", periods, key="saad_periode", bind="query-params")
        exercice = ad.saad_exercice(version, territoire.departement, territoire.epci, periode)
        m = st.columns(4)
        m[0].metric("Services", nombre(len(services)))
        if exercice.ensemble is not None:
            o = exercice.ensemble
            m[1].metric("Heures d'intervention", nombre(o["heures"]))
            m[2].metric("Prix de revient horaire moyen", euros(o["prix_de_revient"], 2),
                        delta=f"{euros(o['ecart_horaire'], 2)} / h vs taux financé", delta_color="inverse")
            m[3].metric("Écart annuel à couvrir", euros(o["ecart_annuel"]))

        st.markdown("**Implantation des services et écart horaire par EPCI**")
        has_gap, legend = exercice.ecart_connu, exercice.legende
        st.plotly_chart(exercice.fig_carte, width="stretch", key="saad_carte")
        ad.chart_exports(exercice.print_carte, "saad_carte",
                         f"SAAD : {legend.lower()} par EPCI et implantation des services")
        st.caption((f"Couleur : {legend.lower()} — prix de revient moyen − taux financé, pondérés par les heures "
                    "(indicateur 27, l. 1104). " if has_gap else
                    "Couleur : nombre de services (indicateur 27 non renseigné pour l'écart horaire). ")
                   + "Points : services, à leurs coordonnées ou, à défaut, en un point de leur commune. "
                   + ad.source_caption(labels, saad_sources))

        st.markdown("**Recettes de l'activité par financeur** (indicateur 25, l. 1100)")
        recettes, fig = exercice.recettes, exercice.fig_recettes
        st.plotly_chart(fig, width="stretch", key="saad_recettes")
        ad.chart_exports(fig, "saad_recettes", "SAAD : recettes de l'activité par financeur")
        st.caption(ad.source_caption(labels, saad_sources, f"Exercice {periode}."))
        ad.export_buttons(recettes, f"saad_recettes_financeurs_{periode}", "exp_saad_recettes")

        st.markdown("**Prix de revient horaire et taux financé par service** (indicateur 27, l. 1104)")
        if exercice.fig_prix is None:
            st.info("Indicateur 27 (prix de revient horaire, taux financé) non renseigné pour ce territoire.")
        else:
            fig = exercice.fig_prix
            st.plotly_chart(fig, width="stretch", key="saad_prix")
            ad.chart_exports(fig, "saad_prix", "SAAD : prix de revient horaire et tarif financé")
            simulated_saad = bool((services.get("nature") == "simulated").any())
            st.caption(("Services simulés : le repère UNCCAS-MISAP (prix de revient 2014 de 16,30 € à 21,76 €, "
                        "l. 218-220) n'est pas tracé à côté de valeurs inventées. " if simulated_saad else
                        "Bande grise : prix de revient 2014 des SAAD équilibrés étudiés par l'UNCCAS-MISAP, "
                        "16,30 € à 21,76 € (l. 218-220). ") + ad.source_caption(labels, saad_sources))
            gap_table = exercice.ecarts
            st.dataframe(gap_table, hide_index=True, width="stretch", column_config={
                "territoire": "Territoire", "services": "Services",
                "heures": st.column_config.NumberColumn("Heures", format="%.0f"),
                "prix_de_revient": st.column_config.NumberColumn("Prix de revient (€/h)", format="%.2f"),
                "taux_finance": st.column_config.NumberColumn("Taux financé (€/h)", format="%.2f"),
                "ecart_horaire": st.column_config.NumberColumn("Écart (€/h)", format="%.2f"),
                "ecart_annuel": st.column_config.NumberColumn("Écart annuel (€)", format="%.0f")})
            if gap_table.attrs.get("services_incomplets"):
                st.caption(f"{gap_table.attrs['services_incomplets']} service(s) sans prix de revient, taux ou "
                           "heures, hors de ces moyennes.")
            ad.export_buttons(gap_table, f"saad_prix_de_revient_{periode}", "exp_saad_prix")

        serie_options = {4: "Heures d'intervention (somme)", 5: "Bénéficiaires (somme)",
                         16: "Taux d'absentéisme (moyenne des services, %)"}
        indicateur = st.radio("Suivi mensuel", list(serie_options), format_func=serie_options.get,
                              horizontal=True, key="saad_serie", bind="query-params")
        serie, fig = ad.saad_serie_vue(version, territoire.departement, territoire.epci, indicateur,
                                       serie_options[indicateur])
        if fig is not None:
            st.plotly_chart(fig, width="stretch", key="saad_serie_chart")
            ad.chart_exports(fig, "saad_serie_chart", "SAAD : série mensuelle de l'indicateur")
            st.caption(f"Périodicité de suivi recommandée : "
                       f"{catalogue.set_index('indicateur').at[indicateur, 'periodicite']} (l. 1034). "
                       + ad.source_caption(labels, saad_sources))
            ad.export_buttons(serie, f"saad_serie_{indicateur}", "exp_saad_serie")
        else:
            st.info("Pas de suivi mensuel de cet indicateur pour ce territoire.")

        st.markdown("**Tableau de bord par service** (30 indicateurs clés)")
        wide = exercice.valeurs
        masked = saad.service_secret_cells(
            data.read(aide_domicile_reads.saad_valeurs, version, territoire.departement, territoire.epci, periode)
        )
        shown = wide.astype(object).copy()
        if len(masked) == len(wide):
            for column in wide.columns[3:]:
                if column in masked:
                    shown[column] = wide[column].astype(object).where(~masked[column].to_numpy(), SECRET_MARK)
        st.dataframe(shown, hide_index=True, width="stretch")
        st.caption("Effectifs de personnes (bénéficiaires, GIR, dossiers en attente, intervenants) de moins de 11 "
                   "masqués, et la plus petite classe GIR voisine (secret secondaire). " + SECRET_LEGEND + " "
                   + ad.source_caption(labels, saad_sources, f"Exercice {periode}."))
        ad.export_buttons(wide, f"saad_tableau_de_bord_{periode}", "exp_saad_wide")

    with st.expander("Les 30 indicateurs clés UNCCAS-MISAP et leur périodicité", icon=":material/checklist:"):
        st.dataframe(catalogue, hide_index=True, width="stretch", column_config={
            "indicateur": "n°", "famille": "Famille", "libelle": "Indicateur", "periodicite": "Périodicité",
            "unite": "Unité", "ventilations": "Ventilations du modèle", "compte_personnes": "Compte des personnes",
            "source_line": st.column_config.NumberColumn("Ligne", format="%d")})
        st.caption("Périodicité minimale : H hebdomadaire, M mensuel, T trimestriel, A annuel (l. 1034) ; la lettre "
                   "S, employée sans être définie, est lue comme semestrielle. Ventilations reprises de l'annexe 1 "
                   "(GIR l. 1396, financeurs l. 1486-1502). "
                   + ad.source_caption(labels, ["unccas-misap-2016"]))
        ad.export_buttons(catalogue, "saad_indicateurs_catalogue", "exp_saad_catalogue")
    templates(["saad_services", "saad_indicateurs"], "tpl_saad")
