"""What the three tabs of « Aide à domicile » share: the simulated-data banner, euros, the templates expander."""

import streamlit as st

from common.format import nombre
from etl.inputs import AIDE_DOMICILE_TEMPLATES as TEMPLATES
from ui import aide_domicile as ad

SIMULATED_BANNER = "Données simulées — méthode réelle : {what}. Les valeurs sont inventées, ne pas les citer."


def euros(value, decimals: int = 0) -> str:
    return f"{nombre(value, decimals)}\u202f€"


cite = ad.cite


def templates(names: list[str], key: str) -> None:
    with st.expander("Modèles de fichiers à remplir (CSV et XLSX)", icon=":material/description:"):
        for name in names:
            template = TEMPLATES[name]
            st.markdown(f"**{template.title}** — fichier `{name}*.csv` ou `.xlsx` dans le dossier passé à "
                        "`python -m etl build --input DOSSIER`")
            st.dataframe(ad.template_columns(name), hide_index=True, width="stretch")
            csv, xlsx = ad.template_files(name)
            left, right, _ = st.columns([1, 1, 4])
            left.download_button("Modèle CSV", csv, f"{name}.csv", "text/csv",
                                 key=f"{key}_{name}_csv", icon=":material/download:")
            right.download_button("Modèle XLSX", xlsx, f"{name}.xlsx",
                                  key=f"{key}_{name}_xlsx", icon=":material/download:")
