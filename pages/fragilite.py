import dataclasses
from pathlib import Path

import streamlit as st

from common.format import SECRET_LEGEND, nombre, with_secret_marks
from export.meta import ExportMeta
from methods import fragilite as method
from query import territoires as territoires_reads
from ui import data, state
from ui import fragilite as view
from ui.export import figure_downloads, table_downloads

METHOD_NOTE = Path(__file__).with_name("notes") / "fragilite_methode.md"

territoire = state.territory()
version = data.version()

st.title("Fragilité des retraités")
st.caption("Score de l'Observatoire des situations de fragilité (inter-régimes) par commune et EPCI ; "
           "communes fragiles, concentrations de 60 ans et plus et couverture par les actions de "
           "prévention (règles de la CFPPA d'Ille-et-Vilaine, rapport IGAS 2020-098R).")

millesimes = view.millesimes(version)
if not millesimes:
    st.info("Aucune donnée de fragilité dans la base : déposer un extrait `fragilite_individus_AAAA` "
            "ou un fichier `fragilite_communes_AAAA` dans le dossier d'entrée et reconstruire.")
    st.stop()
sources = view.sources(version)
simulated = sources[sources["nature"] == "simulated"]
if len(simulated):
    st.warning("**Données simulées — méthode réelle.** " + " ; ".join(simulated["name"]), icon="⚠️")

# -- filters ---------------------------------------------------------------------------------------
c1, c2, c3, c4 = st.columns(4)
level = c1.radio("Échelle", ["communes", "epci"], horizontal=True, key="frag_level", bind="query-params",
                 format_func={"epci": "EPCI", "communes": "Communes"}.get,
                 help="La règle de priorité est écrite pour les communes (note 127 l.2228, l.2230, Schéma 8) : "
                      "échelle par défaut.")
scopes = ["departement"] if level == "communes" else ["departement", "region", "france"]
scope = c2.selectbox("Périmètre", scopes, key="frag_scope", bind="query-params", format_func=lambda s: {
    "departement": f"{territoire.departement_nom} ({territoire.departement})",
    "region": "Région du département", "france": "France entière"}[s])
reference = c3.selectbox("Référence moyenne + ½ σ", list(method.REFERENCE_LEVELS), key="frag_ref", bind="query-params",
                         format_func=method.REFERENCE_LEVELS.get)
mode = c4.radio("Classes de la carte", ["regle", "quantiles"], horizontal=True, key="frag_mode", bind="query-params",
                format_func={"regle": "moyenne + ½ σ", "quantiles": "quintiles"}.get)
c5, c6, c7, c8 = st.columns(4)
natures = c5.multiselect("Nature d'EPCI", ["ME", "CU", "CA", "CC"], default=["ME", "CU", "CA", "CC"],
                         key="frag_natures", bind="query-params")
threshold = c6.slider("Seuil de score individuel « fragile »", method.SCORE_MIN, method.SCORE_MAX,
                      method.DEFAULT_SCORE_THRESHOLD, key="frag_seuil", bind="query-params",
                      help="Part des retraités dont le score est au moins égal à ce seuil (hypothèse : 7).")
millesime = c7.selectbox("Millésime", millesimes, key="frag_millesime", bind="query-params")
only_priority = c8.toggle("Seulement les prioritaires", key="frag_prio", bind="query-params")

detail = view.has_detail(version, millesime)
years_available = view.action_years(version)
with st.expander("Paramètres de la méthode", expanded=False):
    p1, p2, p3 = st.columns(3)
    edges = tuple(p1.select_slider(
        f"Bornes d'âge (points {i + 2})", method.ALLOWED_EDGES, value=method.DEFAULT_AGE_EDGES[i],
        key=f"frag_edge{i}", disabled=not detail) for i in range(3))
    concentration = p2.number_input("Concentration : plus de N personnes de 60 ans et +", 0, 100_000,
                                    method.CONCENTRATION_MIN_60_PLUS, step=50, key="frag_conc")
    actions_max = p2.number_input("Couverture : moins de N actions de prévention", 1, 50,
                                  method.ACTIONS_MAX_EXCLUSIVE, key="frag_actions")
    ddof = p3.radio("Écart type", [1, 0], key="frag_ddof", bind="query-params", horizontal=True,
                    format_func={1: "échantillon (n − 1)", 0: "population (n)"}.get)
    weighted = p3.toggle("Moyenne pondérée par les retraités", key="frag_weighted", bind="query-params")
    years = None
    window = method.default_action_window(years_available, millesime)
    if years_available:
        lo, hi = years_available[0], years_available[-1]
        years = tuple(p1.slider("Années des actions comptées", lo, hi, window, key="frag_years",
                                help=f"Hypothèse : {method.ACTION_WINDOW_YEARS} an, celle du millésime de fragilité "
                                     "ou la dernière année d'actions antérieure (Schéma 8 ne dit pas sur quelle "
                                     "période compter).")) if lo < hi else (lo, hi)
if years:
    span = str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"
    st.caption(f"Actions de prévention comptées : **{span}** (millésime de fragilité {millesime})"
               + ("" if years == window else " — fenêtre modifiée dans « Paramètres de la méthode »") + ".")
if level == "epci":
    st.caption("La règle de priorité (fragile ∧ plus de 200 personnes de 60 ans et + ∧ moins de 2 actions) est "
               "écrite pour les communes ; appliquée aux totaux d'un EPCI elle ne se déclenche presque jamais "
               "(tout EPCI dépasse 200 personnes de 60 ans et +). Voir l'échelle « Communes ».")
try:
    edges = method.check_edges(edges)
except ValueError as exc:
    st.error(f"{exc} — bornes par défaut utilisées.")
    edges = method.DEFAULT_AGE_EDGES
params = method.Parameters(age_edges=edges, score_threshold=threshold, reference=reference, ddof=ddof,
                           weighted=weighted, concentration_min=int(concentration),
                           actions_max_exclusive=int(actions_max))

if edges != method.DEFAULT_AGE_EDGES or threshold != method.DEFAULT_SCORE_THRESHOLD:
    st.caption("Secret des tableaux liés : hors paramètres par défaut, un effectif n'est publié que si sa "
               "différence avec ceux des autres réglages est nulle ou d'au moins 11 personnes (sinon, les "
               "communes de tout l'EPCI sont masquées) ; avec d'autres bornes d'âge, la part « score ≥ seuil » "
               "n'est pas publiée et un score seulement si chaque tranche d'âge quinquennale compte 0 ou au "
               "moins 11 retraités.")

# -- data ------------------------------------------------------------------------------------------
# Every view below is shared by the whole server (ui/fragilite.py): this page only reads them.
natures = tuple(natures)
common = (version, territoire.departement, territoire.departement_nom, level, scope, natures, millesime, years,
          params)
selection = view.selection(*common)
shown, visible, key = selection.shown, selection.visible, selection.key
territory_label = selection.territory_label
unit = "communes" if level == "communes" else "EPCI"
Unit = "Communes" if level == "communes" else "EPCI"

# -- key figures -------------------------------------------------------------------------------------
refs = view.references(version)
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric(f"{Unit} affichés", nombre(len(shown)),
          help=f"dont {nombre(selection.n_secret)} sous secret statistique")
m2.metric("Score moyen (retraités)", nombre(selection.score_moyen, 2) if selection.score_moyen is not None else "—")
m3.metric(f"{Unit} fragiles", nombre(selection.n_fragiles))
m4.metric(f"{Unit} prioritaires", nombre(selection.n_prioritaires),
          help=f"fragile ∧ plus de {nombre(params.concentration_min)} personnes de 60 ans et + ∧ moins de "
               f"{params.actions_max_exclusive} actions")
national = refs[refs["indicateur"] == "score_moyen"]
band = refs[(refs["indicateur"] == "classe_score_moyen") & (refs["perimetre"] == territoire.departement)]
# A quoted figure is never set beside a simulated score, as if one validated the other.
if len(national) and not len(simulated):
    m5.metric("Référence Atlas : score national", nombre(national.iloc[0]["valeur_min"], 2),
              help=f"{national.iloc[0]['valeur_texte']} — {national.iloc[0]['source_nom']}, "
                   f"ligne {national.iloc[0]['source_line']} (cité, non recalculé)")
if len(band) and not len(simulated):
    st.caption(f"Référence citée pour ce département : classe {nombre(band.iloc[0]['valeur_min'], 2)}–"
               f"{nombre(band.iloc[0]['valeur_max'], 2)} de l'Atlas (« {band.iloc[0]['valeur_texte']} », "
               f"rapport IGAS l.{band.iloc[0]['source_line']}) ; départements parmi les 17 (l.2165) ou 18 "
               "(l.3471) moins fragiles selon le passage.")

# -- map ---------------------------------------------------------------------------------------------
if not years_available:
    st.info("Aucune action de prévention chargée (tables de la CFPPA absentes ou vides) : chaque commune "
            "compte 0 action, la règle « moins de deux actions » est donc toujours vraie.", icon="ℹ️")
carte = view.carte(*common, mode, only_priority)
rule_note = carte.rule_note
st.subheader(f"Score de fragilité par {'commune' if level == 'communes' else 'EPCI'} — {territory_label}")
figure = carte.figure
st.plotly_chart(figure, width="stretch", key="frag_map")
source_names = "; ".join(f"{r['name']} ({r['vintage'] or 's.d.'})" for _, r in sources.iterrows())
st.caption(f"{rule_note.capitalize()}. Gris foncé : secret statistique (< 11 retraités) ; gris clair : "
           f"pas de données. Sources : {source_names}.")
chart_meta = ExportMeta(
    title=f"Score de fragilité des retraités par {'commune' if level == 'communes' else 'EPCI'}",
    territory=territory_label,
    sources=tuple(f"{r['name']} ({r['vintage'] or 's.d.'})" for _, r in sources.iterrows()),
    filters=(("Millésime", str(millesime)), ("Référence", method.REFERENCE_LEVELS[reference]),
             ("Classes", rule_note)),
    simulated=bool(len(simulated)))
figure_downloads(figure, chart_meta, "frag_map_export", print_figure=carte.print_figure)  # built on click

# -- distribution ------------------------------------------------------------------------------------
st.subheader(f"Distribution des scores ({unit})")
histogram = selection.histogram
st.plotly_chart(histogram, width="stretch", key="frag_hist")
figure_downloads(histogram, dataclasses.replace(chart_meta, title=f"Distribution des scores de fragilité ({unit})"),
                 "frag_hist_export")
st.caption(f"{selection.hist_note} {Unit} sous secret exclus. Sources : {source_names}.")

# -- ranked table ------------------------------------------------------------------------------------
epcis = data.read(territoires_reads.epci_of_departement, version, territoire.departement)
epci_names = dict(zip(epcis["siren"], epcis["nom"]))
choice = st.selectbox("Détailler un EPCI (communes du département)", ["", *epcis["siren"]],
                      index=(1 + list(epcis["siren"]).index(territoire.epci)) if territoire.epci in epci_names else 0,
                      format_func=lambda s: "— tous —" if not s else epci_names[s], key="frag_epci")
ranked = view.classement(*common, only_priority, choice, epci_names.get(choice, ""))
export, n_secret, table_unit, table_label = ranked.export, ranked.n_secret, ranked.unit, ranked.label
st.subheader(f"Classement — {table_label} ({nombre(len(export))} {table_unit}"
             + (f", {nombre(n_secret)} sous secret non listés" if n_secret else "") + ")")
masked_columns = [c for c in export.columns if c.startswith("Part") or c == "60 ans et +"]
shown_table = with_secret_marks(export, [c for c in masked_columns if c != "60 ans et +"], decimals=1)
shown_table = with_secret_marks(shown_table, ["60 ans et +"])
st.dataframe(shown_table, hide_index=True, width="stretch", height=420, column_config={
    c: (c + " (%)" if c.startswith("Part") else c) if c in masked_columns
    else st.column_config.NumberColumn(c, format="localized")
    for c in export.columns if c not in ("Code", "Nom", "EPCI", "Rang")})
meta = ExportMeta(
    title=f"Fragilité des retraités ({table_unit})", territory=table_label,
    sources=tuple(f"{r['name']} ({r['vintage'] or 's.d.'})" for _, r in sources.iterrows()),
    filters=(("Millésime", str(millesime)), ("Bornes d'âge", ", ".join(map(str, edges))),
             ("Seuil individuel", str(threshold)), ("Référence", method.REFERENCE_LEVELS[reference]),
             ("Natures d'EPCI", ", ".join(natures)), ("Seulement prioritaires", "oui" if only_priority else "non")),
    simulated=bool(len(simulated)), count_columns=("Retraités",))
table_downloads(export, meta, "frag-table")
st.caption(f"Parts en % des retraités. {SECRET_LEGEND} Sources : {source_names}.")

# -- method note: prose in pages/notes/fragilite_methode.md, parameters filled in here --------------------
with st.expander("Note de méthode", expanded=False):
    e1, e2, e3 = edges
    years_text = (f"année {years[0]}" if years and years[0] == years[1] else
                  f"années {years[0]} à {years[1]}" if years else "aucune action chargée")
    simulated_note = (" ; sans rapport avec les données simulées affichées, construites sur des hypothèses "
                      "génériques sans calage") if len(simulated) else ""
    st.markdown(METHOD_NOTE.read_text(encoding="utf-8").format(
        points_reversion=method.POINTS_REVERSION,
        points_exo_csg=method.POINTS_EXO_CSG,
        e1=e1,
        e2_fin=e2 - 1,
        e2=e2,
        e3_fin=e3 - 1,
        e3=e3,
        bornes_defaut=", ".join(map(str, method.DEFAULT_AGE_EDGES)),
        seuil=threshold,
        facteur_ecart_type=nombre(params.sd_factor, 1),
        unite=unit,
        reference=method.REFERENCE_LEVELS[reference],
        ecart_type="d'échantillon (n − 1)" if ddof else "de population (n)",
        moyenne="pondérée par les retraités" if weighted else "simple des territoires",
        min_retraites=params.min_retraites_reference,
        concentration_min=nombre(params.concentration_min),
        actions_max=params.actions_max_exclusive,
        annees=years_text,
        fenetre=method.ACTION_WINDOW_YEARS,
        millesime=millesime,
        note_simulee=simulated_note,
    ))

    st.dataframe(sources, hide_index=True, width="stretch", column_config={
        "source": "Clé", "name": "Source", "publisher": "Éditeur", "vintage": "Millésime", "nature": "Nature",
        "reference": "Référence"})
