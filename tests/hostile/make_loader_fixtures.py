"""Writes the per-loader hostile files of tests/hostile/<loader>/<case>/ (run once; the files are
committed). Each case folder is one `--input` folder: the loader's file in its documented format,
with the one defect the case is about. Bytes matter here (Latin-1, no-break spaces, a cut last
line), hence a script rather than hand-edited files. Cases:

- latin1: Windows-1252/Latin-1, `;` separators, decimal commas — must load, values exact;
- zero: codes that lost their leading zero (`1004` for Ambérieu-en-Bugey 01004) — restored;
- ambigu: 61254, a commune « rétablie » into two communes (tests/hostile/communes) — rejected;
- fusion: 61022 and 61430, merged since (COG mouvements) — remapped, warning listing them;
- doublon: a line given twice — rejected (every loader's rule: one line per key);
- tronque: a download cut in the middle of the last line — rejected;
- inconnue: 35999, no such commune — rejected;
- nombres: a thousands separator (no-break space) and a percent sign in a number.

`python tests/hostile/make_loader_fixtures.py` rewrites them.
"""

from pathlib import Path

HERE = Path(__file__).parent

NBSP, NNBSP = "\u00a0", "\u202f"

FRAGILITE = "code_insee;n_retraites;n_reversion;n_exo_csg;score_moyen\n"
CTG = "identifiant;instrument;code_departement;intitule;signataires;siren_epci;communes;date_signature;" \
      "date_debut;date_fin;statut;notes;reference\n"
SAAD = "service_id;nom;statut;adresse;code_commune;latitude;longitude\n"

CASES = {
    # -- fragilite: commune aggregates (fragilite_communes_AAAA.csv) ----------------------------------
    "fragilite/latin1/fragilite_communes_2023.csv": (
        "cp1252",
        "CODGEO;libellé;nb_retraites;nb_reversion;nb_exo_csg;score_fragilite\n"
        "35001;Acigné;1 200;300;150;3,20\n"
        "35238;Rennes;40 000;8 000;6 000;3,05\n"
        "61001;Alençon;7 513;1 502;1 127;3,41\n"),
    "fragilite/zero/fragilite_communes_2023.csv": ("utf-8", FRAGILITE + "1004;2500;400;300;3,1\n1001;120;20;10;2,9\n"),
    "fragilite/ambigu/fragilite_communes_2023.csv": ("utf-8", FRAGILITE + "35001;1200;300;150;3,2\n61254;300;40;30;3,0\n"),
    "fragilite/fusion/fragilite_communes_2023.csv": (
        "utf-8", FRAGILITE + "61022;100;10;10;2,5\n61430;200;20;20;2,6\n61483;1000;100;100;2,8\n"),
    "fragilite/doublon/fragilite_communes_2023.csv": (
        "utf-8", FRAGILITE + "35001;1200;300;150;3,2\n35238;40000;8000;6000;3,05\n35001;1200;300;150;3,2\n"),
    "fragilite/tronque/fragilite_communes_2023.csv": (
        "utf-8", FRAGILITE + "35001;1200;300;150;3,2\n35238;40000;80"),
    "fragilite/inconnue/fragilite_communes_2023.csv": ("utf-8", FRAGILITE + "35001;1200;300;150;3,2\n35999;50;5;5;2,0\n"),
    "fragilite/nombres/fragilite_communes_2023.csv": (
        "utf-8", FRAGILITE + f"35238;40{NBSP}000;8{NNBSP}000;6 000;3,05\n"),
    "fragilite/pourcent/fragilite_communes_2023.csv": (
        "utf-8", FRAGILITE + "35001;1200;25 %;150;3,2\n"),
    # the individual extract (fragilite_individus_AAAA.csv): merged communes, a split commune
    "fragilite/extrait_fusion/fragilite_individus_2023.csv": (
        "utf-8", "code_insee;age;reversion;exo_csg\n61430;70;oui;non\n61483;82;non;oui\n61022;64;non;non\n"),
    "fragilite/extrait_ambigu/fragilite_individus_2023.csv": (
        "utf-8", "code_insee;age;reversion;exo_csg\n61001;70;oui;non\n61001;71;oui;non\n61254;82;non;oui\n"),

    # -- ctg: registry of territorial conventions (ctg*.csv | conventions_territoriales*.csv) ----------
    "ctg/latin1/conventions_territoriales_2024.csv": (
        "cp1252",
        CTG + "35-CTG-ACIGNE;Convention territoriale globale;35;CTG communale d'Acigné;CAF|Acigné;;35001;"
              "15/03/2020;;;signée;accents : é è à ç;délibération n° 12\n"
              "61-CEJ-ALENCON;Contrat enfance jeunesse;61;CEJ d'Alençon;CAF|Alençon;;61001;2016;01/01/2016;"
              "31/12/2019;échue;;\n"),
    "ctg/zero/ctg_registre.csv": (
        "utf-8", CTG + "01-CTG-AMBERIEU;CTG;1;CTG d'Ambérieu-en-Bugey;CAF|Ambérieu;;1004|1001;2021-06;;;signée;;\n"),
    "ctg/ambigu/ctg_registre.csv": (
        "utf-8", CTG + "61-CTG-A;CTG;61;CTG A;CAF;;61001;2021-06;;;signée;;\n"
                       "61-CTG-B;CTG;61;CTG B;CAF;;61096|61254;2021-06;;;signée;;\n"),
    "ctg/fusion/ctg_registre.csv": (
        "utf-8", CTG + "61-CTG-DOMFRONT;CTG;61;CTG Domfront et Bagnoles;CAF;;61022|61430;2021-06;;;signée;;\n"),
    "ctg/doublon/ctg_registre.csv": (
        "utf-8", CTG + "61-CTG-A;CTG;61;CTG A;CAF;;61001;2021-06;;;signée;;\n"
                       "61-CTG-A;CTG;61;CTG A;CAF;;61001;2021-06;;;signée;;\n"),
    "ctg/tronque/ctg_registre.csv": (
        "utf-8", CTG + "61-CTG-A;CTG;61;CTG A;CAF;;61001;2021-06;;;signée;;\n61-CTG-B;CTG;61;CTG B;CA"),
    "ctg/inconnue/ctg_registre.csv": ("utf-8", CTG + "35-CTG-X;CTG;35;CTG X;CAF;;35999;2021-06;;;signée;;\n"),
    "ctg/nombres/ctg_registre.csv": (
        "utf-8", CTG + f"35-CTG-COUESNON;CTG;35;CTG Couesnon;CAF;200{NBSP}070{NBSP}688;;44197;;;signée;;\n"),

    # -- aide_domicile: SAAD services (saad_services*) and indicators (saad_indicateurs*) --------------
    "aide_domicile/latin1/saad_services.csv": (
        "cp1252",
        SAAD + "350000001;SAAD du CCAS de Fougères;CCAS/CIAS;1 place Aristide Briand;35115;48,3525;-1,1986\n"
               "610000001;Service d'aide à domicile d'Alençon;associatif;;61001;;\n"),
    "aide_domicile/zero/saad_services.csv": ("utf-8", SAAD + "010000001;SAAD d'Ambérieu;associatif;;1004;;\n"),
    "aide_domicile/ambigu/saad_services.csv": (
        "utf-8", SAAD + "610000001;SAAD A;associatif;;61001;;\n610000002;SAAD B;associatif;;61254;;\n"),
    "aide_domicile/fusion/saad_services.csv": (
        "utf-8", SAAD + "610000001;SAAD de Domfront;associatif;;61022;;\n610000002;SAAD de Bagnoles;entreprise;;61430;;\n"),
    "aide_domicile/doublon/saad_services.csv": (
        "utf-8", SAAD + "610000001;SAAD A;associatif;;61001;;\n610000001;SAAD A;associatif;;61001;;\n"),
    "aide_domicile/tronque/saad_services.csv": (
        "utf-8", SAAD + "610000001;SAAD A;associatif;;61001;;\n610000002;SAAD B;asso"),
    "aide_domicile/inconnue/saad_services.csv": ("utf-8", SAAD + "350000001;SAAD X;associatif;;35999;;\n"),
    "aide_domicile/nombres/saad_services.csv": ("utf-8", SAAD + "350000001;SAAD de Rennes;CCAS/CIAS;;35238;;\n"),
    "aide_domicile/nombres/saad_indicateurs.csv": (
        "utf-8", "service_id;periode;indicateur;ventilation;valeur\n"
                 f"350000001;2024;4;;18{NBSP}500,5\n"
                 "350000001;2024-03;8;;87,5 %\n"
                 "350000001;2024;5;;1 240\n"),
}


def main() -> None:
    for name, (encoding, text) in CASES.items():
        path = HERE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(encoding))


if __name__ == "__main__":
    main()
