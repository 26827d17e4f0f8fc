"""The sample's tables: facilities (WGS-84 and the Amap GCJ-02 export), proposed trails, planner targets."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from ordos_geo import _crs, settings
from ordos_geo.sample._scene import Scene


def facilities_frame(scene: Scene, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = scene.frame
    geoms = [frame.to_lonlat_geom(f.geom) for f in scene.facilities]
    gdf = gpd.GeoDataFrame(
        {
            "facility_id": [f"F{k + 1:03d}" for k in range(len(scene.facilities))],
            "name": [f.name for f in scene.facilities],
            "kind": [f.kind for f in scene.facilities],
            "area_m2": [np.nan if f.area_m2 is None else float(f.area_m2) for f in scene.facilities],
            "open_to_public": [bool(f.open_to_public) for f in scene.facilities],
            "capacity": [np.nan if f.capacity is None else float(f.capacity) for f in scene.facilities],
            "public_access": [f.public_access if f.open_to_public else "closed" for f in scene.facilities],
            "open_hours": [f.open_hours for f in scene.facilities],
            "provenance": [f.provenance for f in scene.facilities],
        },
        geometry=geoms,
        crs=4326,
    )
    gdf.insert(6, "district", _district_of(gdf.geometry, boundaries))
    return gdf


def _district_of(geoms: gpd.GeoSeries, boundaries: gpd.GeoDataFrame) -> list[str | None]:
    reps = geoms.representative_point()
    out: list[str | None] = [None] * len(geoms)
    for _, row in boundaries[boundaries["level"] == "district"].iterrows():
        inside = reps.within(row.geometry).to_numpy()
        for k in np.flatnonzero(inside):
            out[k] = row["name_en"]
    return out


def amap_table(scene: Scene, boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    pts = [scene.frame.to_lonlat_geom(f.geom) for f in scene.amap]
    lon = np.array([p.x for p in pts])
    lat = np.array([p.y for p in pts])
    glon, glat = _crs.wgs84_to_gcj02(lon, lat)
    districts = _district_of(gpd.GeoSeries(pts, crs=4326), boundaries)
    return pd.DataFrame(
        {
            "name": [f.name for f in scene.amap],
            "type": [f.provenance for f in scene.amap],
            "lon": [f"{v:.6f}" for v in glon],
            "lat": [f"{v:.6f}" for v in glat],
            "kind": [f.kind for f in scene.amap],
            "area_m2": ["" if f.area_m2 is None else f"{f.area_m2:.0f}" for f in scene.amap],
            "district": districts,
        }
    )


def proposed_trails(scene: Scene, kang: dict[str, Any], dong: dict[str, Any]) -> gpd.GeoDataFrame:
    """Three proposed fitness trails drawn by a planner: two follow streets, one cuts across a block."""
    dx, dy = dong["origin"]
    d_row = next(y for y, _ in dong["ys"] if y > dy + 1_900)
    d_col = next(x for x, _ in dong["xs"] if x > dx + 1_000)
    d_west = next(x for x, _ in dong["xs"] if x > dx - 2_400)
    kx, ky = kang["origin"]
    k_col = next(x for x, _ in kang["xs"] if kx - 2_700 < x < kx - 1_950)
    k_row_a = next(y for y, _ in kang["ys"] if y > ky - 300)
    k_row_b = next(y for y, _ in kang["ys"] if y > ky + 1_900)
    k_east = next(x for x, _ in kang["xs"] if x > kx + 1_000)
    e_cols = [x for x, _ in kang["xs"] if kx + 2_000 <= x <= kx + 3_000]
    e_rows = [y for y, _ in kang["ys"] if ky + 700 <= y <= ky + 1_600]
    lines = [
        (
            "北城健身步道 North Dongsheng trail",
            LineString([(d_west, d_row), (d_col, d_row), (d_col, dy + 2_600)]),
        ),
        (
            "西区健身步道 West Kangbashi trail",
            LineString([(k_col, k_row_a), (k_col, k_row_b), (kx - 1_000, k_row_b)]),
        ),
        (
            "东区穿越步道 East Kangbashi shortcut (crosses a block off the streets)",
            LineString([(k_east, e_rows[0]), (e_cols[0], e_rows[0]), (e_cols[1], e_rows[1]), (e_cols[1], e_rows[2])]),
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "trail_id": [f"T{k + 1}" for k in range(len(lines))],
            "name": [name for name, _ in lines],
            "status": ["proposed (synthetic)"] * len(lines),
        },
        geometry=[scene.frame.to_lonlat_geom(line) for _, line in lines],
        crs=4326,
    )


def counted_venue_area_m2(scene: Scene, *, fill_missing: bool) -> float:
    """Venue area (m²) of both facility lists under the study's rules, for the README's calibration line.

    Kinds in ``settings.AREA_COUNTED_KINDS``; closed school venues left out;
    fitness trails as length (metric frame, EPSG:4546) x ``settings.DEFAULT_TRAIL_WIDTH_M``;
    rows without an area at their kind's ``settings.TYPICAL_AREA_M2`` when
    ``fill_missing`` (the study's default ``area_policy="typical"``), else 0.
    """
    total = 0.0
    for f in [*scene.facilities, *scene.amap]:
        if f.kind not in settings.AREA_COUNTED_KINDS or (f.kind == "school_venue" and not f.open_to_public):
            continue
        if f.kind == "fitness_trail" and f.area_m2 is None:
            total += f.geom.length * settings.DEFAULT_TRAIL_WIDTH_M
        elif f.area_m2 is not None:
            total += f.area_m2
        elif fill_missing:
            total += settings.TYPICAL_AREA_M2[f.kind]
    return total


def planner_targets() -> pd.DataFrame:
    """The plan's non-spatial figures for the two sample districts: invented, labelled as such."""
    source = "synthetic sample (合成样例): invented figure, not an official statistic"
    rows = [
        ("Dongsheng", "sports_instructors_per_1000", 3.1),
        ("Dongsheng", "regular_exercise_share", "40.2%"),
        ("Dongsheng", "public_venues_open_share", "95%"),
        ("Kangbashi", "sports_instructors_per_1000", 3.6),
        ("Kangbashi", "regular_exercise_share", "37.5%"),
        ("Kangbashi", "public_venues_open_share", "100%"),
    ]
    return pd.DataFrame(
        [{"district": d, "indicator": k, "value": v, "year": 2024, "source": source} for d, k, v in rows]
    )
