"""Blocks of the « Gérer les données » page: drop and check files, publish, withdraw, journal, rollback.

The checks are `etl.staging.check_upload` (the « Vérifier un fichier » ones); publishing and rolling
back run `python -m etl publish` / `rollback` in a separate process (`etl.publish.start_background`),
never in the script thread; this module only reads the journal and shows progress.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import streamlit as st

from common.config import default_db_path
from common.format import nombre
from common.store import BASCULE, EN_COURS, Store, served_version
from etl import inputs
from query import journal

_FOLLOW = "_gerer_suivi"  # journal row count when the manager started an operation


def store() -> Store:
    return Store().ensure()


def check(uploaded) -> inputs.Report:
    """The report of one dropped file, computed once per file and database (kept in the session)."""
    key = ("gerer", uploaded.file_id, uploaded.name, uploaded.size, str(default_db_path().resolve()))
    cache = st.session_state.setdefault("_gerer_rapports", {})
    if key not in cache:
        with st.spinner(f"Vérification de {uploaded.name}…"):
            cache[key] = inputs.check_upload(uploaded.getvalue(), uploaded.name, default_db_path())
    return cache[key]


def check_together(files: list[tuple[str, bytes]]) -> inputs.Report:
    """The dropped files checked as one lot with the published files (once per set of files)."""
    key = ("ensemble", tuple((n, len(d), hash(d)) for n, d in files), str(default_db_path().resolve()))
    cache = st.session_state.setdefault("_gerer_rapports", {})
    if key not in cache:
        space = store()
        names = []
        for name, data in files:
            report = inputs.check_upload(data, name, default_db_path())
            names.append((inputs.build_name(report.kind, report.file_name, data) if report.kind else name, data))
        with st.spinner("Vérification des fichiers ensemble…"):
            cache[key] = inputs.check_together(space, default_db_path(), names,
                                                inputs.served_manifest(space, default_db_path()))
    return cache[key]


def show_report(report: inputs.Report, key: str) -> None:
    kind = report.kind.label if report.kind else "type non reconnu"
    if report.accepted:
        st.success(f"**{report.file_name}** — {kind} : accepté.", icon=":material/check_circle:")
    else:
        st.error(f"**{report.file_name}** — {kind} : refusé, {nombre(len(report.problems))} problème(s) à "
                 "corriger avant de publier.", icon=":material/error:")
    frame = report.frame()
    errors = frame[frame["gravite"] == inputs.ERREUR].drop(columns="gravite")
    if len(errors):
        st.dataframe(errors.astype("object").where(errors.notna(), ""), hide_index=True, width="stretch",
                     key=f"{key}_problemes")
    for message in report.warnings:
        st.markdown(f"- ⚠ {message}")
    if report.preview and not report.problems:
        st.table(pd.DataFrame(report.preview, columns=["Élément", "Valeur"]).set_index("Élément"))
    st.download_button("Rapport (CSV)", report.csv_bytes(), file_name=f"verification_{report.file_name}.csv",
                       mime="text/csv", on_click="ignore", key=f"{key}_csv", icon=":material/download:")
    if report.sha256:
        st.caption(f"SHA-256 : `{report.sha256}`")


def _start(operation) -> None:
    space = store()
    if space.busy():
        st.error("Une publication est déjà en cours : attendre qu'elle se termine (voir ci-dessus), puis "
                 "recommencer.", icon=":material/hourglass_top:")
        return
    st.session_state[_FOLLOW] = len(space.rows())
    operation(space)
    st.rerun()


@st.fragment(run_every=1.0)
def progress_panel() -> None:
    """The operation under way (anyone's), then the outcome of the one this manager started."""
    space = store()
    frame = journal.publications(space)
    last = frame.iloc[0] if len(frame) else None
    under_way = last is not None and last["statut"] in (EN_COURS, BASCULE)
    running = space.busy() or under_way
    if running:
        st.session_state["_gerer_occupe"] = True
    elif st.session_state.pop("_gerer_occupe", False):
        st.rerun()  # someone's publication just ended: the whole page (buttons, files, journal) follows
    if under_way:
        done, total = _fraction(last["progression"])
        st.progress(
            done / total if total else 0.0,
            text=f"Publication n° {last['id']} en cours ({last['qui']}) : {last['progression'] or 'démarrage…'}",
        )
        return
    if running:
        st.progress(0.0, text="Publication en cours : démarrage…")
        return
    if last is None:
        return
    started = st.session_state.get(_FOLLOW)
    if started is None:
        return
    mine = frame[frame["id"] > started]
    if mine.empty:
        return
    row = mine.iloc[0]
    if row["statut"] == "réussie":
        st.success(f"N° {row['id']} ({row['action']}) réussie en {nombre(row['duree_s'] or 0, 1)} s — "
                   f"{row['chiffres_cles'] or 'aucun chiffre clé ne bouge'}. Les lecteurs voient la nouvelle "
                   "base à leur prochaine action.", icon=":material/check_circle:")
    else:
        st.error(f"N° {row['id']} ({row['action']}) {row['statut']} : base servie inchangée.\n\n{row['rapport']}",
                 icon=":material/error:")
    if st.session_state.get("_gerer_vu") != row["id"]:
        st.session_state["_gerer_vu"] = row["id"]
        st.rerun()  # the whole page (files, journal) follows the new database


def french_dates(published: pd.DataFrame) -> pd.DataFrame:
    """The published files as shown: French dates and column names."""
    return published.assign(publie_le=pd.to_datetime(published["publie_le"]).dt.strftime("%d/%m/%Y %H:%M")).rename(
        columns={"publie_par": "publié par", "publie_le": "publié le", "nom_d_origine": "nom d'origine"})


def _fraction(progress: str) -> tuple[int, int]:
    match = re.match(r"(\d+)/(\d+)", progress or "")
    return (int(match[1]), int(match[2])) if match else (0, 0)


def publish_section(user: str) -> None:
    published = journal.published_inputs(default_db_path())
    uploads = st.file_uploader(
        f"Fichiers à publier ({', '.join(inputs.ALLOWED_SUFFIXES)} ; {inputs.MAX_UPLOAD_BYTES // 2**20} Mo au "
        "plus chacun)", type=[s.lstrip(".") for s in inputs.ALLOWED_SUFFIXES], accept_multiple_files=True,
        max_upload_size=inputs.MAX_UPLOAD_BYTES // 2**20, key="gerer_fichiers",
        help="Chaque fichier est contrôlé comme dans « Vérifier un fichier » ; rien n'est publié avant « Publier ».")
    files, refused, pending = [], 0, []
    for i, uploaded in enumerate(uploads or []):
        report = check(uploaded)
        with st.expander(report.file_name, expanded=True,
                         icon=":material/check_circle:" if report.accepted else ":material/block:"):
            show_report(report, f"gerer_{i}")
            name = uploaded.name
            if report.kind is not None:
                same = [r.fichier for r in published.itertuples() if r.type == report.kind.key]
                choice = st.selectbox("Ce fichier", ["s'ajoute aux fichiers publiés", *[f"remplace {n}" for n in same]],
                                      key=f"gerer_remplace_{uploaded.file_id}")
                if choice.startswith("remplace "):
                    name = choice.removeprefix("remplace ")
        if report.accepted:
            files.append((name, uploaded.getvalue()))
        elif report.kind is not None and not report.refused_before_reading:
            pending.append((name, uploaded.getvalue(), report))
        else:
            refused += 1
    if pending:  # files that only make sense together: checked as one lot with the published ones
        together = check_together([(n, d) for n, d, _ in pending] + files)
        if together.accepted:
            st.success("Vérifiés ensemble (avec les fichiers publiés qu'ils accompagnent), ces fichiers sont "
                       "acceptés : " + ", ".join(r.file_name for _, _, r in pending) + ".", icon=":material/done_all:")
            files += [(n, d) for n, d, _ in pending]
        else:
            show_report(together, "gerer_ensemble")
            refused += len(pending)
    busy = store().busy()
    if busy:
        st.warning("Une publication est en cours : « Publier » est possible quand elle est terminée.",
                   icon=":material/hourglass_top:")
    if refused:
        st.caption(f"{refused} fichier(s) refusé(s) : les retirer ou les corriger pour publier.")
    if st.button("Publier", type="primary", icon=":material/publish:", disabled=busy or not files or bool(refused),
                 key="gerer_publier"):
        _start(lambda space: inputs.start_background(default_db_path(), files, [], user, space))


def published_section(user: str) -> None:
    published = journal.published_inputs(default_db_path())
    if published.empty:
        st.info("Aucun fichier publié depuis l'interface : la base servie est construite sur les données "
                "embarquées.", icon=":material/info:")
        return
    st.dataframe(french_dates(published), hide_index=True, width="stretch")
    names = st.multiselect("Retirer des fichiers publiés", published["fichier"].tolist(), key="gerer_retirer",
                           placeholder="Choisir un ou plusieurs fichiers")
    if st.button("Retirer et republier", icon=":material/delete:", disabled=not names or store().busy(),
                 key="gerer_retirer_bouton"):
        _start(lambda space: inputs.start_background(default_db_path(), [], names, user, space))


JOURNAL_COLUMNS = {"id": "N°", "debut": "Début", "qui": "Qui", "action": "Action", "statut": "Résultat",
                   "mode": "Construction", "fichiers_ajoutes": "Ajoutés", "fichiers_remplaces": "Remplacés",
                   "fichiers_retires": "Retirés", "duree_s": "Durée (s)", "chiffres_cles": "Chiffres clés",
                   "lignes_avant_apres": "Lignes avant → après", "version": "Version", "rapport": "Rapport"}


def journal_section(user: str) -> None:
    space = store()
    frame = journal.publications(space)
    if frame.empty:
        st.info("Le journal est vide : aucune publication encore.", icon=":material/info:")
        return
    served = served_version(space, default_db_path())
    shown = frame[list(JOURNAL_COLUMNS)].assign(
        debut=pd.to_datetime(frame["debut"]).dt.strftime("%d/%m/%Y %H:%M:%S")).rename(columns=JOURNAL_COLUMNS)
    st.dataframe(shown, hide_index=True, width="stretch", key="gerer_journal")
    st.download_button(
        "Journal (CSV)",
        journal.journal_csv(frame),
        file_name=f"journal_publications_{dt.date.today():%Y%m%d}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="gerer_journal_csv",
    )
    kept = frame[frame["version_conservee"] & frame["statut"].eq("réussie") & frame["version"].ne(served)]
    kept = kept.drop_duplicates("version")
    st.caption(f"Base servie : version {served if served is not None else '— (construite hors publication)'}.")
    if kept.empty:
        return
    labels = {int(r.version): f"version {int(r.version)} — n° {r.id} du {pd.Timestamp(r.debut):%d/%m/%Y %H:%M} "
                              f"({r.action} par {r.qui})"
              for r in kept.itertuples()}
    version = st.selectbox("Version conservée", list(labels), format_func=labels.get, key="gerer_version")
    if st.button("Revenir à cette version", icon=":material/history:", disabled=space.busy(), key="gerer_retour"):
        _start(lambda s: inputs.start_background_rollback(default_db_path(), version, user, s))
