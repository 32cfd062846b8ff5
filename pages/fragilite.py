import dataclasses

import plotly.graph_objects as go
import streamlit as st

from export.maps import print_choropleth
from export.meta import ExportMeta
from methods import fragilite as method
from ui import data, maps, state
from ui import fragilite as view
from ui.export import figure_downloads, table_downloads
from ui.format import PLOTLY_SEPARATORS, nombre, pourcentage

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
level = c1.radio("Échelle", ["epci", "communes"], horizontal=True, key="frag_level", bind="query-params",
                 format_func={"epci": "EPCI", "communes": "Communes"}.get)
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
    if years_available:
        lo, hi = years_available[0], years_available[-1]
        years = tuple(p1.slider("Années des actions", lo, hi, (lo, hi), key="frag_years")) if lo < hi else (lo, hi)
try:
    edges = method.check_edges(edges)
except ValueError as exc:
    st.error(f"{exc} — bornes par défaut utilisées.")
    edges = method.DEFAULT_AGE_EDGES
params = method.Parameters(age_edges=edges, score_threshold=threshold, reference=reference, ddof=ddof,
                           weighted=weighted, concentration_min=int(concentration),
                           actions_max_exclusive=int(actions_max))

# -- data ------------------------------------------------------------------------------------------
region = data.departements(version).set_index("code").at[territoire.departement, "code_region"]
# Reference statistics need every territory of the reference, not only those shown.
read_scope = max(scope, reference, key=["departement", "region", "france"].index)
read_code = {"departement": territoire.departement, "region": region, "france": None}[read_scope]
frame = view.assessed(version, level, millesime, edges, threshold, read_scope, read_code, years, params)
if level == "communes":
    shown = frame[frame["code_departement"] == territoire.departement]
elif scope == "departement":
    shown = frame[frame["siren_epci"].isin(data.epci_of_departement(version, territoire.departement)["siren"])]
elif scope == "region":
    shown = frame[frame["code_region"] == region]
else:
    shown = frame
shown = shown[shown["nature_epci"].isin(natures) | shown["nature_epci"].isna()]
key = "code_insee" if level == "communes" else "siren_epci"
territory_label = {"departement": f"{territoire.departement_nom} ({territoire.departement})",
                   "region": view.regions(version).get(region, region), "france": "France"}[scope]
unit = "communes" if level == "communes" else "EPCI"
Unit = "Communes" if level == "communes" else "EPCI"

# -- key figures -------------------------------------------------------------------------------------
visible = shown[~shown["secret"] & ~shown["sans_donnees"]]
refs = view.references(version)
m1, m2, m3, m4, m5 = st.columns(5)
scores = visible["score_moyen"].astype(float)
weights = visible["n_retraites"].astype(float)
m1.metric(f"{Unit} affichés", nombre(len(shown)),
          help=f"dont {nombre(int(shown['secret'].sum()))} sous secret statistique")
m2.metric("Score moyen (retraités)", nombre((scores * weights).sum() / weights.sum(), 2) if weights.sum() else "—")
m3.metric(f"{Unit} fragiles", nombre(int(visible["fragile"].astype(bool).sum())))
m4.metric(f"{Unit} prioritaires", nombre(int(visible["prioritaire"].astype(bool).sum())),
          help=f"fragile ∧ plus de {nombre(params.concentration_min)} personnes de 60 ans et + ∧ moins de "
               f"{params.actions_max_exclusive} actions")
national = refs[refs["indicateur"] == "score_moyen"]
if len(national):
    m5.metric("Référence Atlas : score national", nombre(national.iloc[0]["valeur_min"], 2),
              help=f"{national.iloc[0]['valeur_texte']} — {national.iloc[0]['source_nom']}, "
                   f"ligne {national.iloc[0]['source_line']} (cité, non recalculé)")
band = refs[(refs["indicateur"] == "classe_score_moyen") & (refs["perimetre"] == territoire.departement)]
if len(band):
    st.caption(f"Référence citée pour ce département : classe {nombre(band.iloc[0]['valeur_min'], 2)}–"
               f"{nombre(band.iloc[0]['valeur_max'], 2)} de l'Atlas (« {band.iloc[0]['valeur_texte']} », "
               f"rapport IGAS l.{band.iloc[0]['source_line']}) ; départements parmi les 17 (l.2165) ou 18 "
               "(l.3471) moins fragiles selon le passage.")

# -- map ---------------------------------------------------------------------------------------------
if not years_available:
    st.info("Aucune action de prévention chargée (tables de la CFPPA absentes ou vides) : chaque commune "
            "compte 0 action, la règle « moins de deux actions » est donc toujours vraie.", icon="ℹ️")
classes, legend = view.classes(shown, mode, only_priority)
mapped = shown.assign(
    classe=classes, nom_affiche=shown["nom"],
    retraites=shown["n_retraites"].map(nombre), score=shown["score_moyen"].map(lambda v: nombre(v, 2)),
    fragiles=shown["part_fragiles"].map(pourcentage), pop60=shown["n_60_plus"].map(nombre),
    actions=shown["n_actions"].map(nombre), criteres=view.flags_text(shown, params.actions_max_exclusive))
geo_level = "communes" if level == "communes" else "epci"
geo_dep = territoire.departement if scope == "departement" else None
geojson = data.geojson(version, geo_level, geo_dep)
if scope == "region":
    ids = set(mapped[key])
    geojson = {**geojson, "features": [f for f in geojson["features"] if f["id"] in ids]}
rule_note = ("classes de la règle : moyenne et moyenne + ½ écart type des " + unit + " de la référence ("
             + method.REFERENCE_LEVELS[reference] + ")") if mode == "regle" else "classes : quintiles des scores affichés"
st.subheader(f"Score de fragilité par {'commune' if level == 'communes' else 'EPCI'} — {territory_label}")
figure = maps.choropleth(
    mapped, geojson, key=key, color="classe", hover_name="nom_affiche",
    hover_data={key: False, "classe": True, "retraites": True, "score": True, "fragiles": True,
                "pop60": True, "actions": True, "criteres": True},
    labels={"classe": "Classe", "retraites": "Retraités", "score": "Score moyen",
            "fragiles": f"Part score ≥ {threshold}", "pop60": "60 ans et +", "actions": "Actions de prévention",
            "criteres": "Critères"}, discrete=legend)
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
figure_downloads(figure, chart_meta, "frag_map_export", print_figure=print_choropleth(
    mapped, geojson, key, "classe", "Classe", "nom_affiche", discrete=legend))

# -- distribution ------------------------------------------------------------------------------------
st.subheader(f"Distribution des scores ({unit})")
histogram = go.Figure(go.Histogram(x=visible["score_moyen"].astype(float), nbinsx=40,
                                   marker_color="#2c7fb8", name=unit))
ref_values = visible[["ref_moyenne", "ref_seuil"]].drop_duplicates()
if len(ref_values) == 1:
    mean, limit = ref_values.iloc[0]
    histogram.add_vline(x=mean, line_dash="dash", line_color="#333333",
                        annotation_text=f"moyenne {nombre(mean, 2)}", annotation_position="top left")
    histogram.add_vline(x=limit, line_color="#bd0026",
                        annotation_text=f"moyenne + ½ σ = {nombre(limit, 2)}", annotation_position="top right")
    hist_note = (f"Lignes : moyenne et seuil de fragilité de la référence ({method.REFERENCE_LEVELS[reference]}, "
                 f"{unit} d'au moins {params.min_retraites_reference} retraités).")
else:
    hist_note = (f"Plusieurs références ({len(ref_values)}) dans le périmètre : seuils non tracés, "
                 "voir le tableau (colonne « seuil »).")
histogram.update_layout(separators=PLOTLY_SEPARATORS, height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                        xaxis_title="Score moyen des retraités", yaxis_title=f"Nombre de {unit}", showlegend=False)
st.plotly_chart(histogram, width="stretch", key="frag_hist")
figure_downloads(histogram, dataclasses.replace(chart_meta, title=f"Distribution des scores de fragilité ({unit})"),
                 "frag_hist_export")
st.caption(f"{hist_note} {Unit} sous secret exclus. Sources : {source_names}.")

# -- ranked table ------------------------------------------------------------------------------------
epcis = data.epci_of_departement(version, territoire.departement)
epci_names = dict(zip(epcis["siren"], epcis["nom"]))
choice = st.selectbox("Détailler un EPCI (communes du département)", ["", *epcis["siren"]],
                      index=(1 + list(epcis["siren"]).index(territoire.epci)) if territoire.epci in epci_names else 0,
                      format_func=lambda s: "— tous —" if not s else epci_names[s], key="frag_epci")
if choice:
    commune_scope = max("departement", reference, key=["departement", "region", "france"].index)
    commune_code = {"departement": territoire.departement, "region": region, "france": None}[commune_scope]
    table_frame = view.assessed(version, "communes", millesime, edges, threshold, commune_scope,
                                commune_code, years, params)
    table_frame = table_frame[table_frame["siren_epci"] == choice]
    table_unit, table_label = "communes", epci_names[choice]
else:
    table_frame, table_unit, table_label = shown, unit, territory_label
if only_priority:
    table_frame = table_frame[table_frame["prioritaire"].fillna(False).astype(bool)]
published = table_frame[~table_frame["secret"] & ~table_frame["sans_donnees"]].copy()
published = published.sort_values("score_moyen", ascending=False, key=lambda s: s.astype(float))
published.insert(0, "rang", range(1, len(published) + 1))
code_col = "code_insee" if table_unit == "communes" else "siren_epci"
columns = {"rang": "Rang", code_col: "Code", "nom": "Nom", "n_retraites": "Retraités",
           "score_moyen": "Score moyen", "part_fragiles": f"Part score ≥ {threshold}",
           "part_reversion": "Part réversion", "part_exo_csg": "Part exonérés CSG", "n_60_plus": "60 ans et +",
           "n_actions": "Actions de prévention", "ref_seuil": "Seuil (moy. + ½ σ)", "fragile": "Fragile",
           "concentration": "Concentration", "moins_de_n_actions": f"< {params.actions_max_exclusive} actions",
           "prioritaire": "Prioritaire"}
if table_unit == "communes":
    columns = {**columns, "nom_epci": "EPCI"}
export = published[list(columns)].rename(columns=columns)
for col in ("Retraités", "60 ans et +", "Actions de prévention"):
    export[col] = export[col].astype("Int64")
for col in ("Score moyen", "Seuil (moy. + ½ σ)"):
    export[col] = export[col].astype(float).round(3)
for col in (f"Part score ≥ {threshold}", "Part réversion", "Part exonérés CSG"):
    export[col] = (export[col].astype(float) * 100).round(1)
for col in ("Fragile", "Concentration", f"< {params.actions_max_exclusive} actions", "Prioritaire"):
    export[col] = export[col].map({True: "oui", False: "non"})
n_secret = int(table_frame["secret"].sum())
st.subheader(f"Classement — {table_label} ({nombre(len(export))} {table_unit}"
             + (f", {nombre(n_secret)} sous secret non listés" if n_secret else "") + ")")
st.dataframe(export, hide_index=True, width="stretch", height=420, column_config={
    c: st.column_config.NumberColumn(c + (" (%)" if c.startswith("Part") else ""), format="localized")
    for c in export.columns if c not in ("Code", "Nom", "EPCI", "Rang")})
meta = ExportMeta(
    title=f"Fragilité des retraités ({table_unit})", territory=table_label,
    sources=tuple(f"{r['name']} ({r['vintage'] or 's.d.'})" for _, r in sources.iterrows()),
    filters=(("Millésime", str(millesime)), ("Bornes d'âge", ", ".join(map(str, edges))),
             ("Seuil individuel", str(threshold)), ("Référence", method.REFERENCE_LEVELS[reference]),
             ("Natures d'EPCI", ", ".join(natures)), ("Seulement prioritaires", "oui" if only_priority else "non")),
    simulated=bool(len(simulated)), count_columns=("Retraités",))
table_downloads(export, meta, "frag-table")
st.caption(f"Parts en % des retraités ; cellules de 1 à 10 personnes masquées. Sources : {source_names}.")

# -- method note ---------------------------------------------------------------------------------------
with st.expander("Note de méthode", expanded=False):
    e1, e2, e3 = edges
    years_text = f"actions des années {years[0]} à {years[1]}" if years else "aucune action chargée"
    st.markdown(f"""
**Score individuel** (Observatoire des situations de fragilité, rapport IGAS 2020-098R, notes 113/184/233,
l.1661, 3475, 5348) : `score = points d'âge (1 à 4) + {method.POINTS_REVERSION} × réversion + {method.POINTS_EXO_CSG} × exonération de CSG`
(de 1 à 11 ; plus il est élevé, plus la situation est fragile).

- Points d'âge en vigueur : 1 avant {e1} ans, 2 de {e1} à {e2 - 1} ans, 3 de {e2} à {e3 - 1} ans, 4 à {e3} ans et plus.
  **Hypothèse** : les tranches d'âge ne figurent pas dans le rapport (Atlas national des situations de
  fragilité) ; défaut {", ".join(map(str, method.DEFAULT_AGE_EDGES))} (tranches décennales).
- **Score d'un territoire** = moyenne des scores individuels de ses retraités ; part « fragile » = part des
  retraités de score ≥ {threshold} (**hypothèse**, paramètre).
- **Commune (ou EPCI) fragile** (note 127, l.2228) : score ≥ moyenne + {nombre(params.sd_factor, 1)} écart type des
  {unit} de la référence ({method.REFERENCE_LEVELS[reference]}) ; égalité = fragile ; écart type
  {"d'échantillon (n − 1)" if ddof else "de population (n)"}, moyenne {"pondérée par les retraités" if weighted else "simple des territoires"} ;
  territoires de moins de {params.min_retraites_reference} retraités exclus du calcul.
- **Concentration** (l.2230) : plus de {nombre(params.concentration_min)} personnes de 60 ans et plus.
- **Couverture** (Schéma 8, l.3496) : moins de {params.actions_max_exclusive} actions collectives de prévention
  dans la commune (tables de la CFPPA, {years_text}).
- **Prioritaire** = fragile ∧ concentration ∧ couverture insuffisante. La règle est celle de la CFPPA
  d'Ille-et-Vilaine, pas une norme nationale.
- **Secret statistique** : territoires de moins de 11 retraités grisés et exclus des exports (avec, si un
  seul l'est dans un EPCI, la plus petite autre commune) ; les totaux d'EPCI les incluent.
- Référence citée : score national moyen 3,34 (Atlas, l.2173), non recalculé.
""")
    st.dataframe(sources, hide_index=True, width="stretch", column_config={
        "source": "Clé", "name": "Source", "publisher": "Éditeur", "vintage": "Millésime", "nature": "Nature",
        "reference": "Référence"})
