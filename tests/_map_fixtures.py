"""Small synthetic layers around Ordos (EPSG:4546) for the map and report tests."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry import LineString, Point, box

CRS = "EPSG:4546"
XSS_NAME = "<img src=x onerror=alert(1)>"
ORIGIN = pyproj.Transformer.from_crs(4326, CRS, always_xy=True).transform(109.78, 39.6)


@dataclass
class MapLayers:
    cells: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame
    underserved: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame


def make_layers(n_cols: int = 6, n_rows: int = 5) -> MapLayers:
    x0, y0 = ORIGIN
    size = 100.0
    rows = []
    for r in range(n_rows):
        for c in range(n_cols):
            index = r * n_cols + c
            dist_any = 150.0 * index
            rows.append(
                {
                    "cell_id": index,
                    "population": 10.0 + index,
                    "district": "Dongsheng" if c < n_cols // 2 else "Kangbashi",
                    "dist_m_any": dist_any,
                    "dist_m_multi_sport_court": dist_any + 200.0,
                    "dist_m_park": np.inf if index % 7 == 0 else dist_any + 50.0,
                    "geometry": box(x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size),
                }
            )
    rows[-1]["dist_m_any"] = np.inf  # unreachable
    cells = gpd.GeoDataFrame(rows, crs=CRS)
    width, height = n_cols * size, n_rows * size
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["c1", "c2", "f1", "p1", "t1"],
            "name": ["Court A", "Court B", XSS_NAME, "Riverside park", "Ordos trail"],
            "kind": ["multi_sport_court", "multi_sport_court", "fitness_centre", "park", "fitness_trail"],
            "area_m2": [800.0, 800.0, 1500.0, np.nan, 600.0],
            "area_source": ["input", "typical", "input", "missing", "length_x_width"],
            "open_to_public": [True, True, False, True, True],
            "capacity": [np.nan] * 5,
            "district": ["Dongsheng", "Kangbashi", "Dongsheng", "Kangbashi", "Kangbashi"],
        },
        geometry=[
            Point(x0 + 50, y0 + 50),
            Point(x0 + 450, y0 + 250),
            Point(x0 + 250, y0 + 350),
            box(x0 + 320, y0 + 20, x0 + 480, y0 + 140),
            LineString([(x0 + 10, y0 + 480), (x0 + 300, y0 + 470), (x0 + 590, y0 + 490)]),
        ],
        crs=CRS,
    )
    half = width / 2
    boundaries = gpd.GeoDataFrame(
        {
            "adcode": ["150602", "150603", "150600"],
            "name_zh": ["东胜区", "康巴什区", "鄂尔多斯市"],
            "name_en": ["Dongsheng", "Kangbashi", "Ordos"],
            "level": ["district", "district", "city"],
        },
        geometry=[
            box(x0 - 50, y0 - 50, x0 + half, y0 + height + 50),
            box(x0 + half, y0 - 50, x0 + width + 50, y0 + height + 50),
            box(x0 - 50, y0 - 50, x0 + width + 50, y0 + height + 50),
        ],
        crs=CRS,
    )
    underserved = gpd.GeoDataFrame(
        {
            "neighbourhood_id": [1, 2],
            "population": [1234.0, 56.0],
            "n_cells": [4, 1],
            "district": ["Kangbashi", XSS_NAME],
            "centroid_x": [x0 + 500, x0 + 150],
            "centroid_y": [y0 + 400, y0 + 450],
        },
        geometry=[box(x0 + 400, y0 + 300, x0 + 600, y0 + 500), box(x0 + 100, y0 + 400, x0 + 200, y0 + 500)],
        crs=CRS,
    )
    point_facilities = facilities.iloc[:3]
    service_rows = []
    for threshold in (300.0, 500.0):
        for _, row in point_facilities.iterrows():
            service_rows.append(
                {
                    "facility_id": row["facility_id"],
                    "kind": row["kind"],
                    "threshold_m": threshold,
                    "geometry": row.geometry.buffer(threshold * 0.6),
                }
            )
    service_areas = gpd.GeoDataFrame(service_rows, crs=CRS)
    return MapLayers(cells, facilities, boundaries, underserved, service_areas)


def make_scorecard() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": ["per_capita_area_2025", "fitness_circle_15min", "user_target_km"],
            "description": ["per-capita sports venue area", "population share within 1,000 m", XSS_NAME],
            "target": [3.5, 1.0, 10.0],
            "value": [2.9, 0.72, 10.4],
            "unit": ["m2_per_capita", "share", "km"],
            "met": [False, False, True],
            "gap": [0.6, 0.28, 0.0],
        }
    )


def make_indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district": ["Dongsheng", "Kangbashi", "citywide"],
            "population": [600000.0, 120000.0, 720000.0],
            "per_capita_area_m2": [2.7, 4.1, 2.93],
            "share_within_300m": [0.30, 0.45, 0.325],
            "share_within_500m": [0.52, 0.66, 0.543],
            "share_within_1000m": [0.70, 0.82, 0.72],
        }
    )
