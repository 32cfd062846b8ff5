"""Widgets of the « Vérifier un fichier » page: kind picker, the check (kept per session), the report,
the templates. The check itself is `etl.staging.check_upload` (tested without Streamlit)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from common.config import default_db_path
from common.format import nombre
from etl import inputs
from query import fichiers as fichiers_reads
from ui import data

AUTO = "auto"
FAMILY_LABELS = {"cfppa": "CFPPA", "fragilite": "Fragilité", "ctg": "CTG", "aide_domicile": "Aide à domicile",
                 "insee": "INSEE et partenaires", "programmes": "Programmes ANCT", "lot": "Lot"}
#: Up to this many problems are shown as a plain table; beyond, as a scrollable grid.
TABLE_ROWS = 200
COLUMN_LABELS = {"gravite": "Gravité", "fichier": "Fichier", "ligne": "Ligne", "colonne": "Colonne",
                 "valeur": "Valeur lue", "attendu": "Attendu"}


def kind_options() -> dict[str, str]:
    """Selectbox options: automatic detection first, then every kind the loaders accept."""
    return {AUTO: "Détecter d'après le nom et l'en-tête du fichier",
            **{k.key: k.label for k in inputs.KINDS.values()}}


def upload_size_mo() -> int:
    return inputs.MAX_UPLOAD_BYTES // 2**20


def check(uploaded, kind: str, millesime: int, db_version: str) -> inputs.Report:
    """The report of an uploaded file, computed once per file, options and database version (kept in
    the session: a download click or a rerun does not stage the file again)."""
    key = (uploaded.file_id, uploaded.name, uploaded.size, kind, millesime, db_version)
    cached = st.session_state.get("verifier_report")
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner("Vérification du fichier…"):
        report = inputs.check_upload(uploaded.getvalue(), uploaded.name, default_db_path(),
                                      None if kind == AUTO else kind, millesime)
    st.session_state["verifier_report"] = (key, report)
    return report


def show_report(report: inputs.Report) -> None:
    kind = report.kind.label if report.kind else "non reconnu"
    how = {"choix": "choisi", "nom du fichier": "reconnu d'après le nom du fichier",
           "en-tête": "reconnu d'après l'en-tête", "archive zip": "archive zip"}.get(report.detected_by, "")
    if report.accepted:
        st.success(f"**{report.file_name}** serait accepté par la construction — {kind}"
                   + (f" ({how})" if how else "") + ".", icon=":material/check_circle:")
    elif report.refused_before_reading:
        st.error(f"**{report.file_name}** est refusé avant lecture (taille, nom ou type de fichier).",
                 icon=":material/block:")
    else:
        st.error(f"**{report.file_name}** serait rejeté en entier par la construction — {kind}"
                 + (f" ({how})" if how else "") + f" : {nombre(len(report.problems))} problème(s) à corriger.",
                 icon=":material/error:")
    left, middle, right, last = st.columns(4)
    left.metric("Problèmes", nombre(len(report.problems)))
    middle.metric("Avertissements", nombre(len(report.warnings)))
    right.metric("Taille", f"{nombre(report.size / 1024, 1)} Kio")
    last.metric("Type", FAMILY_LABELS.get(report.kind.family, "—") if report.kind else "—")

    frame = report.frame()
    errors = frame[frame["gravite"] == inputs.ERREUR]
    if len(errors):
        st.subheader("Problèmes (le fichier est rejeté en entier)")
        shown = errors.drop(columns="gravite").astype("object")
        shown = shown.where(shown.notna(), "").rename(columns=COLUMN_LABELS)
        if len(shown) <= TABLE_ROWS:  # a plain table: readable, printable, selectable
            st.table(shown.set_index("Fichier"))
        else:
            st.dataframe(shown, hide_index=True, width="stretch", key="verifier_problemes")
        st.caption("Ligne : numéro de ligne tel que le tableur l'affiche (en-tête = ligne 1). "
                   "Corriger chaque ligne puis vérifier à nouveau.")
    if report.warnings:
        st.subheader("Avertissements (n'empêchent pas le chargement)")
        for message in report.warnings:
            st.markdown(f"- {message}")
    if report.preview and not report.problems:
        st.subheader("Ce qui serait chargé")
        st.table(pd.DataFrame(report.preview, columns=["Élément", "Valeur"]).set_index("Élément"))
    st.download_button(
        "Rapport de vérification (CSV)", report.csv_bytes(),
        file_name=f"verification_{report.file_name.rsplit('.', 1)[0]}_{dt.date.today():%Y%m%d}.csv",
        mime="text/csv", icon=":material/download:", on_click="ignore", key="verifier_rapport_csv",
        help="Une ligne par problème puis par avertissement ; séparateur « ; », UTF-8 avec BOM")
    if report.sha256:
        st.caption(f"Empreinte SHA-256 du fichier vérifié : `{report.sha256}`")


def last_build_section(db_version: str) -> None:
    """Every file of the last build's --input: loaded, or not read and why (nothing ignored in silence)."""
    files = data.read(fichiers_reads.fichiers_entree, db_version)
    if files.empty:
        return
    not_read = int((files["statut"] == "non lu").sum())
    with st.expander(f"Dernière construction : {nombre(len(files))} fichier(s) du dossier d'entrée, "
                     f"{nombre(not_read)} non lu(s)", icon=":material/folder_open:", expanded=bool(not_read)):
        st.dataframe(files, hide_index=True, width="stretch", key="verifier_fichiers_entree", column_config={
            "fichier": "Fichier", "statut": "Statut", "chargeur": "Chargeur", "source": "Source",
            "motif": st.column_config.TextColumn("Motif", width="large")})


def templates_section() -> None:
    by_family: dict[str, list[inputs.Template]] = {}
    for template in inputs.templates():
        by_family.setdefault(template.family, []).append(template)
    for family, items in by_family.items():
        with st.expander(f"Modèles — {family}", icon=":material/description:"):
            for i, template in enumerate(items):
                st.download_button(template.title, template.content, file_name=template.file_name,
                                   mime=template.mime, icon=":material/download:", on_click="ignore",
                                   key=f"modele_{family}_{i}")
    with st.expander("Fichiers officiels INSEE et partenaires (lus dans leur format d'origine)",
                     icon=":material/public:"):
        st.dataframe(inputs.official_formats(), hide_index=True, width="stretch",
                     column_config={"documentation": st.column_config.LinkColumn("documentation")})
