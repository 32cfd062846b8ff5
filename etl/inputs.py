"""The one public door from the interface (`pages/`, `ui/`) into `etl` (tests/test_layers.py).

What a page may ask of the writer side, and nothing else: the templates a user downloads, the upload
check of « Vérifier un fichier », the publication of « Gérer les données », the local managers'
accounts, and the first build on the embedded default data. Everything else of `etl` is internal.
"""

from __future__ import annotations

from etl import accounts  # local managers' accounts (sign-in page): users, verify, AccountLocked…
from etl.aide_domicile import TEMPLATES as AIDE_DOMICILE_TEMPLATES
from etl.build import all_steps, build
from etl.cfppa import REPORT_FILE as CFPPA_REPORT_FILE
from etl.cfppa import SOURCE_QUOTED as CFPPA_SOURCE_QUOTED
from etl.cfppa import template_csv_zip as cfppa_template_csv_zip
from etl.cfppa import template_xlsx as cfppa_template_xlsx
from etl.ctg import template_csv as ctg_template_csv
from etl.ctg import template_xlsx as ctg_template_xlsx
from etl.publish import build_name, check_together, served_manifest, start_background, start_background_rollback
from etl.staging import (
    ALLOWED_SUFFIXES,
    ERREUR,
    KINDS,
    MAX_UPLOAD_BYTES,
    Report,
    Template,  # the downloadable template (contract.Template)
    check_upload,
    official_formats,
    templates,
)

__all__ = [
    "accounts",
    "AIDE_DOMICILE_TEMPLATES",
    "all_steps",
    "build",
    "CFPPA_REPORT_FILE",
    "CFPPA_SOURCE_QUOTED",
    "cfppa_template_csv_zip",
    "cfppa_template_xlsx",
    "ctg_template_csv",
    "ctg_template_xlsx",
    "build_name",
    "check_together",
    "served_manifest",
    "start_background",
    "start_background_rollback",
    "ALLOWED_SUFFIXES",
    "ERREUR",
    "KINDS",
    "MAX_UPLOAD_BYTES",
    "Report",
    "check_upload",
    "official_formats",
    "templates",
    "Template",
]
