"""Geometry operations used by the ETL (dissolve, coverage simplification) and by the maps (GeoJSON).

Geometries are stored in DuckDB as WKB (EPSG:4326). Simplification runs once, in the ETL, as a
coverage in a metric CRS per zone (Lambert-93 for metropolitan France, the local UTM/RGAF systems
overseas) so that neighbours keep sharing the same border: no slivers, no gaps.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WGS84 = "EPSG:4326"

#: Metric CRS per zone; the key is the département code (metropolitan France: "metro").
METRIC_CRS = {
    "metro": "EPSG:2154",  # RGF93 / Lambert-93
    "971": "EPSG:5490",    # RGAF09 / UTM 20N (Guadeloupe)
    "972": "EPSG:5490",    # RGAF09 / UTM 20N (Martinique)
    "973": "EPSG:2972",    # RGFG95 / UTM 22N (Guyane)
    "974": "EPSG:2975",    # RGR92 / UTM 40S (La Réunion)
    "976": "EPSG:4471",    # RGM04 / UTM 38S (Mayotte)
}

#: Default tolerances (metres) of the simplified map variant per level. Chosen so that the EPCI
#: GeoJSON of all France stays under 2 MB and one département's under 200 KB (see `python -m bench reference`).
TOLERANCE_M = {"communes": 150.0, "epci": 1000.0, "departements": 1500.0, "regions": 2500.0}

#: Decimal places kept in GeoJSON coordinates (4 ≈ 11 m: finer than the simplification).
GEOJSON_DECIMALS = 4


def zone_of(code_departement: str) -> str:
    return code_departement if code_departement.startswith("97") else "metro"


def from_ewkb_hex(values: pd.Series) -> np.ndarray:
    """Shapely geometries from EWKB hex text; empty or `\\N` become None."""
    out = np.full(len(values), None, dtype=object)
    present = ~values.isin(["", "\\N"]).to_numpy() & values.notna().to_numpy()
    out[present] = shapely.from_wkb(values[present].to_numpy())
    return out


def repair(geoms: np.ndarray) -> np.ndarray:
    """Valid polygonal geometries (drop lines/points that make_valid can leave behind)."""
    fixed = shapely.make_valid(geoms)
    return np.array([_polygonal(g) for g in fixed], dtype=object)


def _polygonal(geom):
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def dissolve(geoms: np.ndarray, keys: np.ndarray) -> pd.Series:
    """Union of geometries per key (order of first appearance), as a Series indexed by key."""
    frame = gpd.GeoDataFrame({"key": keys}, geometry=list(geoms), crs=WGS84)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    merged = frame.dissolve(by="key", sort=False)
    return pd.Series(merged.geometry.values, index=merged.index)


def simplify_coverage(geoms: pd.Series, zones: pd.Series, tolerance_m: float) -> pd.Series:
    """Topology-preserving simplification of a coverage, zone by zone in a metric CRS.

    The packaged contours are already generalised and not a clean coverage: repair, explode to
    polygons and dissolve back per key before GEOS accepts the coverage simplification.
    """
    result = pd.Series([None] * len(geoms), index=geoms.index, dtype=object)
    for zone, keys in geoms.groupby(zones.reindex(geoms.index)).groups.items():
        part = gpd.GeoSeries(geoms.loc[keys].values, index=keys, crs=WGS84)
        part = part[part.notna() & ~part.is_empty]
        if part.empty:
            continue
        metric = part.to_crs(METRIC_CRS[zone])
        metric = gpd.GeoSeries(repair(metric.values), index=metric.index, crs=metric.crs)
        exploded = metric.explode(index_parts=False)
        exploded = exploded[exploded.area > 1.0]  # drop zero-area slivers left by make_valid
        clean = gpd.GeoSeries(repair(exploded.values), index=exploded.index, crs=metric.crs)
        clean = clean.groupby(level=0).agg(lambda s: shapely.union_all(list(s)))
        clean = gpd.GeoSeries(clean.values, index=clean.index, crs=metric.crs)
        simple = shapely.coverage_simplify(clean.values, tolerance_m, simplify_boundary=True)
        simple = gpd.GeoSeries(repair(np.asarray(simple, dtype=object)), index=clean.index, crs=metric.crs)
        result.loc[simple.index] = simple.to_crs(WGS84).values
    return result


def to_wkb(geoms) -> list[bytes | None]:
    return [None if g is None or g.is_empty else shapely.to_wkb(g) for g in geoms]


def feature_collection(codes, wkbs, properties: list[dict] | None = None,
                       decimals: int = GEOJSON_DECIMALS) -> dict:
    """GeoJSON FeatureCollection with the territory code as feature `id` (string)."""
    features = []
    for i, (code, wkb) in enumerate(zip(codes, wkbs)):
        if wkb is None:
            continue
        geom = shapely.set_precision(shapely.from_wkb(bytes(wkb)), 10 ** -decimals, mode="pointwise")
        if geom.is_empty:
            continue
        features.append({
            "type": "Feature",
            "id": str(code),
            "properties": properties[i] if properties else {},
            "geometry": json.loads(shapely.to_geojson(geom)),
        })
    return {"type": "FeatureCollection", "features": features}
