"""What the last build did with each file of its `--input` folder (table `fichiers_entree`)."""

from __future__ import annotations

import pandas as pd

from query.db import Database
from query.publication import no_people


@no_people("noms de fichiers, statut (chargé / rejeté / non lu) et motif : aucun effectif")
def fichiers_entree(db: Database) -> pd.DataFrame:
    """fichier, statut, chargeur, source, motif — empty when the base was built without --input."""
    if not db.has_table("fichiers_entree"):
        return pd.DataFrame(columns=["fichier", "statut", "chargeur", "source", "motif"])
    return db.frame("SELECT fichier, statut, chargeur, source, motif FROM fichiers_entree "
                    "ORDER BY statut <> 'non lu', fichier")
