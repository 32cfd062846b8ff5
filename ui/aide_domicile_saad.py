"""« Aide à domicile », tab « Indicateurs clés SAAD (UNCCAS-MISAP) »: rendered by pages/aide-domicile.py."""

import streamlit as st

from common.format import SECRET_LEGEND, SECRET_MARK, nombre
from methods import saad
from query import aide_domicile as aide_domicile_reads
from ui import aide_domicile as ad
from ui import data
from ui.aide_domicile_common import SIMULATED_BANNER, euros, templates


def render(version: str, territoire, labels) -> None:
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
