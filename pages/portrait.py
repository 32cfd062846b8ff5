import streamlit as st

from common.format import nombre
from export.maps import print_choropleth
from export.meta import ExportMeta
from methods import indicateurs as method
from query import indicateurs as indicateurs_reads
from query import synthese as synthese_reads
from query.indicateurs import JEU_LABELS
from ui import data, maps, state
from ui import portrait as ui
from ui.export import figure_downloads, table_downloads

territoire = state.territory()
version = data.version()

st.title("Portrait de territoire")
st.caption("Indicateurs socio-économiques INSEE d'un EPCI comparés à une référence, cumul d'indicateurs "
           "défavorables (méthode du SDAASP de l'Orne) et ce que les autres pages savent du territoire.")

if not data.read(indicateurs_reads.has_tables, version):
    st.error("La base ne contient pas encore les indicateurs : relancer `python -m etl build`.")
    st.stop()

catalogue = data.read(indicateurs_reads.catalogue, version).set_index("indicateur")
jeux = data.read(indicateurs_reads.jeux, version, territoire.departement)
formats = data.read(indicateurs_reads.formats, version)


def how_to_load() -> None:
    st.markdown(
        "Aucune valeur INSEE n'est inventée : pour ce département, déposer les fichiers officiels dans un "
        "dossier puis reconstruire la base :\n\n"
        "```\npython -m etl download --millesime 2015 --dest DOSSIER   # si le réseau le permet\n"
        "python -m etl build --input DOSSIER\n```")
    st.dataframe(formats[["libelle", "noms_fichiers", "alimente", "documentation", "charge"]], hide_index=True,
                 width="stretch", column_config={
                     "libelle": "Fichier officiel", "noms_fichiers": "Noms reconnus", "alimente": "Alimente",
                     "documentation": st.column_config.LinkColumn("Documentation"), "charge": "Chargé"})


if jeux.empty:
    st.warning(
        f"Aucun indicateur INSEE chargé pour les EPCI de {territoire.departement_nom} "
        f"({territoire.departement}). Seul le Tableau 1 du rapport (Orne, 2015) est embarqué.",
        icon=":material/info:",
    )
    how_to_load()
    table = None
else:
    choices = list(zip(jeux["jeu"], jeux["millesime"]))
    left, middle, right = st.columns([2, 2, 3])
    jeu, millesime = left.selectbox(
        "Jeu de données", choices, format_func=lambda c: f"{JEU_LABELS.get(c[0], c[0])} — {ui.millesime_label(c[1])}",
        key="portrait_jeu", bind="query-params",
        help="Par défaut, le dernier millésime de chaque indicateur (ex. RP 2022 et Filosofi 2023) ; "
             "ou un millésime précis.")
    refs = data.read(indicateurs_reads.references, version, territoire.departement, jeu, millesime)
    if not refs:
        st.warning("Ce jeu de données ne contient aucune valeur de référence (France, région, département).")
        st.stop()
    reference = middle.selectbox(
        "Référence", refs, format_func=lambda r: r.libelle, key="portrait_reference", bind="query-params"
    )
    available = data.read(indicateurs_reads.available_indicators, version, territoire.departement, jeu, millesime)
    default = [i for i in method.TABLEAU1 if i in available]
    selection = tuple(
        right.multiselect(
            "Indicateurs du cumul",
            available,
            default=default,
            format_func=lambda i: catalogue.at[i, "libelle"],
            key="portrait_ind",
            bind="query-params",
        )
        or default
    )
    table = ui.tableau_epci(version, territoire.departement, jeu, millesime, reference, selection)
    sources = data.read(indicateurs_reads.sources_of, version, jeu, millesime)
    source_caption = " ; ".join(f"{r.name}" + (f" ({r.reference})" if r.nature == "quoted-from-report" else "")
                                for r in sources.itertuples())
    if (sources["nature"] == "quoted-from-report").any():
        st.info("Chiffres **cités par le rapport IGAS 2020-098R** (Tableau 1 du SDAASP de l'Orne, lignes "
                "4215-4246), INSEE RP 2015 et Filosofi 2015, sur les périmètres d'EPCI du 1er janvier 2017. "
                "Chaque nom imprimé est rattaché au SIREN de l'EPCI (deux EPCI ont été renommés depuis).",
                icon=":material/description:")
    n = len(selection)
    ref_values = data.read(indicateurs_reads.reference_values, version, reference, jeu, millesime)

    # -- the chosen EPCI ---------------------------------------------------------------------------
    row = table[table["code_geo"] == territoire.epci] if territoire.epci else table.iloc[0:0]
    if territoire.epci and row.empty:
        st.warning(f"Pas de valeur pour {territoire.epci_nom} dans ce jeu de données.")
    if not row.empty:
        r = row.iloc[0]
        st.subheader(f"{r['nom']} — comparé à : {reference.libelle}")
        c1, c2, c3 = st.columns(3)
        c1.metric("Indicateurs défavorables", f"{nombre(r['cumul'])} / {r['nb_compares']}")
        c2.metric(
            f"Rang dans {territoire.departement_nom}",
            f"{nombre(r['rang'])}{'er' if r['rang'] == 1 else 'e'} sur {len(table)}",
            help="Rang par cumul décroissant ; les EPCI à égalité partagent le même rang.",
        )
        if "cumul_publie" in r and r["cumul_publie"] == r["cumul_publie"]:
            c3.metric("Cumul imprimé dans le rapport", nombre(r["cumul_publie"]))
        columns = st.columns(4)
        for k, ind in enumerate(selection):
            unite, dec, sens = catalogue.at[ind, "unite"], catalogue.at[ind, "decimales"], catalogue.at[ind, "sens"]
            value, ref = r.get(ind), ref_values.get(ind)
            defav = r.get(f"defav_{ind}") == 1
            gap = None if value is None or ref is None or value != value or ref != ref else round(value - ref, int(dec))
            columns[k % 4].metric(
                (":red[■ défavorable] · " if defav else "") + catalogue.at[ind, "libelle"],
                ui.format_valeur(value, unite, dec),
                delta=None if gap is None else f"{ui.format_ecart(gap, unite, dec)} vs réf.",
                delta_color="off" if not gap else ("inverse" if sens == method.HAUSSE_DEFAVORABLE else "normal"),
                help=f"Référence ({reference.libelle}) : {ui.format_valeur(ref, unite, dec)}. "
                     + ("Défavorable : strictement moins bon que la référence." if defav else
                        "Non défavorable (égalité comprise)."))
    elif not territoire.epci:
        st.info("Choisir un EPCI dans la barre latérale pour afficher son portrait.", icon=":material/arrow_back:")

    # -- the département ---------------------------------------------------------------------------
    many = int((table["cumul"] >= n - 1).sum())
    st.subheader(f"Les EPCI de {territoire.departement_nom} ({territoire.departement})")
    statement = (f"**{nombre(many)} EPCI sur {nombre(len(table))} cumulent {n - 1} ou {n} indicateurs "
                 f"défavorables** (référence : {reference.libelle}).")
    if jeu == "sdaasp" and n == 7 and reference.code_geo == "FRM":
        statement += (" Le rapport écrit « Neuf EPCI sur quinze cumulent six ou sept indicateurs de fragilité » "
                      "(l.4240) : le Tableau 1 compte 16 EPCI, dont la CC Maine Saosnois, siégeant dans la Sarthe.")
    st.markdown(statement)

    geojson = data.geojson(version, "epci", territoire.departement)
    shown = table.assign(cumul_carte=table["cumul"].astype(float))
    figure = maps.choropleth(
        shown, geojson, key="code_geo", color="cumul_carte", hover_name="nom",
        hover_data={"code_geo": False, "cumul_carte": True, "rang": True},
        labels={"cumul_carte": "Indicateurs défavorables", "rang": "Rang"}, height=480)
    figure.update_coloraxes(cmin=0, cmax=n, colorbar_title_text=f"Cumul (0–{n})",
                            colorscale=maps.px.colors.sequential.YlOrRd)
    st.plotly_chart(figure, width="stretch", key="carte_cumul")
    print_map = print_choropleth(shown, geojson, "code_geo", "cumul_carte",
                                 f"Indicateurs défavorables cumulés (0 à {n})", "nom", bins=list(range(n + 1)),
                                 palette="YlOrRd", departement=territoire.departement, level="epci")
    figure_downloads(figure, ExportMeta(
        title="Cumul d'indicateurs défavorables par EPCI", sources=(source_caption,),
        territory=f"{territoire.departement_nom} ({territoire.departement})",
        filters=(("référence", reference.libelle), ("millésime", ui.millesime_label(millesime)))),
        "portrait-carte", print_figure=print_map)
    st.caption(f"Source : {source_caption}. EPCI sans valeur dans ce jeu : non coloriés.")

    display = table[["nom", "libelle_geo", "code_geo", *selection, "cumul", "rang"]
                    + (["cumul_publie"] if "cumul_publie" in table else [])].copy()
    flags = table[[f"defav_{i}" for i in selection]].to_numpy()

    def highlight(frame):
        styles = frame.astype(str).map(lambda _: "")
        for j, ind in enumerate(selection):
            styles[ind] = ["background-color: #fdd0a2; font-weight: 600" if f == 1 else "" for f in flags[:, j]]
        return styles

    formats_cols = {i: (lambda v, i=i: ui.format_valeur(v, catalogue.at[i, "unite"], catalogue.at[i, "decimales"]))
                    for i in selection}
    styled = display.style.apply(highlight, axis=None).format(formats_cols, na_rep="—")
    config = {
        "nom": "EPCI",
        "libelle_geo": "Nom dans la source",
        "code_geo": "SIREN",
        "cumul": f"Cumul /{n}",
        "rang": "Rang",
        "cumul_publie": "Cumul imprimé",
        **{i: catalogue.at[i, "libelle"] for i in selection},
    }
    st.dataframe(styled, hide_index=True, width="stretch", column_config=config, key="tableau_epci")
    ref_line = " ; ".join(
        f"{catalogue.at[i, 'libelle']} : "
        f"{ui.format_valeur(ref_values.get(i), catalogue.at[i, 'unite'], catalogue.at[i, 'decimales'])}"
        for i in selection
    )
    st.caption(f"Valeurs de référence ({reference.libelle}) — {ref_line}. Cases orangées : indicateur défavorable. "
               f"Source : {source_caption}.")
    export = display.rename(columns=config)
    table_downloads(export, ExportMeta(
        title="Cumul d'indicateurs défavorables des EPCI", sources=(source_caption,),
        territory=f"{territoire.departement_nom} ({territoire.departement})",
        filters=(("référence", reference.libelle), ("millésime", ui.millesime_label(millesime)),
                 ("indicateurs", ", ".join(catalogue.at[i, "libelle"] for i in selection)))),
        "portrait-tableau")

    with st.expander("Méthode"):
        st.markdown(
            "- **Cumul d'indicateurs défavorables** (SDAASP de l'Orne, Tableau 1, rapport l.4215-4246) : un "
            "indicateur est défavorable si sa valeur est *strictement* moins bonne que la référence, dans le sens "
            "propre à l'indicateur (variation de population, revenu médian : plus bas = défavorable ; "
            "vieillissement, pauvreté, chômage, précarité, ouvriers : plus haut = défavorable). Une égalité "
            "n'est pas défavorable ; la comparaison se fait à la précision publiée.\n"
            "- **Référence** : France métropolitaine par défaut (choix du SDAASP), ou la région, ou le département.\n"
            "- **Agrégation** : les comptes communaux sont additionnés, les taux recalculés (numérateurs et "
            "dénominateurs sommés) ; la médiane du niveau de vie et le taux de pauvreté viennent du niveau "
            "publié par l'INSEE, jamais des communes.")

if not jeux.empty:
    with st.expander("Fichiers officiels reconnus"):
        how_to_load()

# -- vintages: the latest by default, evolution between two of the same definition ---------------------
if territoire.epci:
    known = ui.vintages(version, territoire.epci)
    years = sorted(set(known["millesime"]), reverse=True)
    if len(years) >= 2:
        st.subheader("Évolution entre deux millésimes")
        a, b = st.columns(2)
        fin = a.selectbox("Millésime", years, index=0, key="portrait_fin", bind="query-params",
                          help="Le plus récent par défaut.")
        earlier = [y for y in years if y != fin]
        debut = b.selectbox("Comparé à", earlier, index=ui.comparable_default(known, fin, earlier),
                            key="portrait_debut", bind="query-params",
                            help="Par défaut, le millésime le plus récent comparable (même indicateur, même "
                                 "définition).")
        evolution = ui.evolution_table(known, int(debut), int(fin))
        st.dataframe(evolution, hide_index=True, width="stretch", key="portrait_evolution")
        st.caption("Évolution calculée seulement entre deux valeurs de même définition : entre Filosofi 1 "
                   "(jusqu'aux revenus 2020) et Filosofi 2 (revenus 2021 en géographie 2025 et suivants) la série "
                   "est rompue et l'écart n'est pas calculé. Sources : " + " ; ".join(sorted(set(known["source"]))))
        table_downloads(evolution, ExportMeta(f"Évolution {debut} → {fin}", territoire.label,
                                              tuple(sorted(set(known["source"])))), "portrait-evolution")

# -- CNAF early-childhood priority --------------------------------------------------------------------
if territoire.epci:
    st.subheader("Priorité petite enfance (règle CNAF)")
    cited = " ; ".join(f"{nombre(v, 1)} ({where})" for v, where in method.COUVERTURES_NATIONALES_CITEES)
    p1, p2 = st.columns(2)
    seuil = p1.number_input(
        "Seuil de couverture (places pour 100 enfants)",
        min_value=0.0,
        max_value=100.0,
        value=method.SEUIL_COUVERTURE_PETITE_ENFANCE,
        step=1.0,
        key="portrait_seuil",
        bind="query-params",
        help="Rapport l.2244 : « inférieur à 54 places pour 100 enfants », présenté comme la moyenne nationale.",
    )
    minimum = p2.radio("Agrégation des trois critères : prioritaire si au moins", [1, 2, 3],
                       index=[1, 2, 3].index(method.CRITERES_MINIMUM_DEFAUT), horizontal=True,
                       key="portrait_criteres", bind="query-params",
                       format_func=lambda k: f"{k} critère{'s' if k > 1 else ''}",
                       help="Le rapport dit « l'agrégation des trois critères » (l.2251, 4192) sans dire comment ; "
                            "hypothèse par défaut : 2 sur 3.")
    st.caption(f"Couverture « moyenne nationale » citée, trois valeurs qui ne concordent pas : {cited}. Le rapport "
               "note que toutes les intercommunalités d'Ille-et-Vilaine dépassent 54 places (l.2251) et que "
               "l'agrégation des trois critères identifie pourtant des territoires prioritaires : les critères ne "
               "sont donc pas exigés ensemble ; le mode d'agrégation n'est pas précisé (hypothèse affichée).")
    priorite = data.read(indicateurs_reads.petite_enfance, version, territoire.epci, seuil, int(minimum))
    if priorite is None:
        st.info("Critères non renseignés : charger le taux de couverture Cafdata (`txcouv_pe_epci*.csv`), le "
                "potentiel financier DGCL (`potentiel_financier_20XX.csv`) et le revenu fiscal DGFiP "
                "(`revenu_fiscal_20XX.csv`) — voir « Fichiers officiels reconnus ».")
    else:
        labels = {True: "✅ oui", False: "❌ non", None: "— inconnu"}
        crit = priorite.criteres
        st.table({
            "Critère": [f"Couverture < {nombre(seuil, 0)} places pour 100 enfants",
                        "Potentiel financier par habitant < moyenne nationale",
                        "Revenu fiscal de référence moyen par foyer < moyenne nationale (le critère CNAF "
                        "cite le revenu net moyen déclaré)"],
            "Territoire": [nombre(priorite.couverture, 1), nombre(priorite.potentiel_financier),
                           nombre(priorite.revenu_moyen)],
            "Référence": [nombre(seuil, 0), nombre(priorite.potentiel_financier_national),
                          nombre(priorite.revenu_moyen_national)],
            "Rempli": [labels[crit["couverture"]], labels[crit["potentiel_financier"]], labels[crit["revenu_moyen"]]]})
        st.markdown(
            f"**Territoire prioritaire petite enfance : {labels[priorite.prioritaire]}** "
            f"({priorite.n_criteres} critère(s) rempli(s) sur 3 ; règle : au moins {priorite.criteres_minimum}, "
            "hypothèse — agrégation non précisée par le rapport, l.2251 et l.4192)."
        )

    # -- other pages ------------------------------------------------------------------------------------
    st.subheader("Ce que les autres pages savent de ce territoire")
    sections = data.read(synthese_reads.sections, version, territoire.epci)
    for section in sections:
        st.markdown(f"**{section.title}**" + (" — :red[données simulées, méthode réelle]" if section.simulated else ""))
        st.markdown("\n".join(f"- {line}" for line in section.lines))
        st.caption("Source : " + " ; ".join(section.sources))
    if not sections:
        st.caption("Aucune information de fragilité, de CTG ou d'actions CFPPA sur cet EPCI dans la base.")
