"""Small synthetic studies on disk: a street grid (.osm), a population GeoTIFF, facilities, two districts.

Used by the batch tests and ``benchmarks/bench_batch.py``. Everything is seeded, so a study
written twice is byte-identical. Coordinates are WGS-84 degrees near Dongsheng (109.9 E, 39.8 N).
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from rasterio.transform import from_origin

from ordos_geo import io, settings

LON0, LAT0 = 109.90, 39.80
STEP = 0.001  # degrees between grid nodes: about 85 m east-west, 111 m north-south

#: The embedded sample as a study file (what ``ordos-geo run`` runs by default), absolute paths.
SAMPLE_TOML = f"""[study]
name = "ordos_sample"
synthetic = true

[inputs]
network = "{settings.SAMPLE_DIR / "walk_network.osm"}"
population = "{settings.SAMPLE_DIR / "population.tif"}"
facilities = "{settings.SAMPLE_DIR / "facilities.geojson"}"
extra_facilities = [{{ path = "{settings.SAMPLE_DIR / "facilities_amap_gcj02.csv"}", coordinates = "gcj02" }}]
boundaries = "{settings.SAMPLE_DIR / "boundaries.geojson"}"
proposed_trails = "{settings.SAMPLE_DIR / "proposed_trails.geojson"}"
"""

_KINDS = ("fitness_path", "multi_sport_court", "park", "pitch", "gymnasium", "school_venue")


def write_grid_study(
    folder: Path,
    *,
    name: str,
    n: int = 12,
    n_facilities: int = 6,
    seed: int = 0,
    siting: bool = False,
    bad_area: bool = False,
    toml_path: Path | None = None,
) -> Path:
    """Write an ``n`` x ``n`` street-grid study into ``folder`` and return its study TOML.

    ``bad_area`` gives one facility a negative ``area_m2`` (an input error naming the file and column).
    The TOML goes to ``toml_path`` (default ``folder/study.toml``), its paths relative to it.
    """
    folder = Path(folder)
    toml_path = Path(toml_path) if toml_path is not None else folder / "study.toml"
    rel = Path(os.path.relpath(folder, toml_path.parent)).as_posix()
    rng = np.random.default_rng(seed)
    lon = LON0 + STEP * np.arange(n)
    lat = LAT0 + STEP * np.arange(n)
    node_id = np.arange(1, n * n + 1).reshape(n, n)  # [row = lat, col = lon]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="ordos_geo tests">']
    for i in range(n):
        for j in range(n):
            lines.append(f'  <node id="{node_id[i, j]}" lat="{lat[i]:.7f}" lon="{lon[j]:.7f}"/>')
    way = 1
    for i in range(n):  # east-west streets
        refs = "".join(f'<nd ref="{node_id[i, j]}"/>' for j in range(n))
        lines.append(f'  <way id="{way}">{refs}<tag k="highway" v="residential"/></way>')
        way += 1
    for j in range(n):  # north-south footways
        refs = "".join(f'<nd ref="{node_id[i, j]}"/>' for i in range(n))
        lines.append(f'  <way id="{way}">{refs}<tag k="highway" v="footway"/></way>')
        way += 1
    lines.append("</osm>")
    io.write_text("\n".join(lines) + "\n", folder / "walk.osm")

    # population: one cell per grid square, 0-60 people, some empty
    rows = cols = n - 1
    people = rng.integers(0, 61, size=(rows, cols)).astype("float32")
    people[rng.random((rows, cols)) < 0.2] = 0.0
    transform = from_origin(LON0, LAT0 + STEP * (n - 1), STEP, STEP)
    io.write_raster(people[::-1], {"crs": "EPSG:4326", "transform": transform, "nodata": -1.0}, folder / "pop.tif")

    # facilities on grid nodes (none on the same node)
    picks = rng.choice(n * n, size=n_facilities, replace=False)
    points = [shapely.Point(lon[p % n], lat[p // n]) for p in picks]
    kinds = [_KINDS[k % len(_KINDS)] for k in range(n_facilities)]
    area = rng.integers(200, 3000, size=n_facilities).astype(float)
    if bad_area:
        area[0] = -5.0
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"{name}-f{k}" for k in range(n_facilities)],
            "name": [f"{name} venue {k}" for k in range(n_facilities)],
            "kind": kinds,
            "area_m2": area,
            "open_to_public": [True] * n_facilities,
        },
        geometry=points,
        crs=4326,
    )
    io.write_geojson(facilities, folder / "facilities.geojson")

    candidates = ""
    if siting:  # six vacant parcels (points with a land area) for two new multi-sport courts
        spots = rng.choice(n * n, size=6, replace=False)
        sites = gpd.GeoDataFrame(
            {
                "candidate_id": [f"c{k}" for k in range(6)],
                "name": [f"{name} parcel {k}" for k in range(6)],
                "area_m2": rng.integers(800, 5000, size=6).astype(float),
                "cost": rng.integers(1, 10, size=6).astype(float) * 1e5,
                "land_type": ["vacant"] * 6,
            },
            geometry=[shapely.Point(lon[p % n] + STEP / 3, lat[p // n] + STEP / 4) for p in spots],
            crs=4326,
        )
        io.write_geojson(sites, folder / "candidates.geojson")
        candidates = f'candidates = "{rel}/candidates.geojson"\n'

    # two districts: the west and east halves of the grid (with a margin around it)
    mid = LON0 + STEP * (n - 1) / 2
    south, north = LAT0 - STEP, LAT0 + STEP * n
    boundaries = gpd.GeoDataFrame(
        {
            "adcode": ["150691", "150692"],
            "name_zh": ["西区", "东区"],
            "name_en": ["West", "East"],
            "level": ["district", "district"],
        },
        geometry=[shapely.box(LON0 - STEP, south, mid, north), shapely.box(mid, south, LON0 + STEP * n, north)],
        crs=4326,
    )
    io.write_geojson(boundaries, folder / "districts.geojson")

    toml = f"""[study]
name = "{name}"
language = "en"

[inputs]
network = "{rel}/walk.osm"
population = "{rel}/pop.tif"
facilities = "{rel}/facilities.geojson"
boundaries = "{rel}/districts.geojson"
{candidates}
[siting]
enabled = {"true" if siting else "false"}
plan = {{ multi_sport_court = 2 }}

[trails]
enabled = false
"""
    return io.write_text(toml, toml_path)
