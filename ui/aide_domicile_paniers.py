"""« Aide à domicile », tab « Suivi des paniers de services (CNAV, seed 000) »: rendered by pages/aide-domicile.py."""

import streamlit as st

from common.format import pourcentage
from methods import paniers
from ui import aide_domicile as ad
from ui.aide_domicile_common import templates


def render(version: str, territoire, labels) -> None:
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
