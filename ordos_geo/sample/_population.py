"""The synthetic population raster (3 arc-seconds, persons per cell) and its GeoTIFF writer."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.ops

from ordos_geo.sample._scene import Scene
from ordos_geo.sample.facts import CELL_DEG, DISTRICTS, NODATA, core_population


def population_grid(
    scene: Scene, boundaries: gpd.GeoDataFrame
) -> tuple[np.ndarray, tuple[float, float], dict[str, int]]:
    """Integer persons per 3-arcsecond cell; returns (array, (west, north), totals)."""
    frame = scene.frame
    block_polys = [b.poly for b in scene.blocks]
    xs, ys = [], []
    for poly in block_polys:
        x0, y0, x1, y1 = poly.bounds
        xs += [x0, x1]
        ys += [y0, y1]
    for x, y, _ in scene.hamlet_cells:
        xs.append(x)
        ys.append(y)
    lon, lat = frame.lonlat_arrays(np.array(xs), np.array(ys))
    col0 = math.floor(lon.min() / CELL_DEG) - 8
    col1 = math.ceil(lon.max() / CELL_DEG) + 8
    row0 = math.floor(lat.min() / CELL_DEG) - 8
    row1 = math.ceil(lat.max() / CELL_DEG) + 8
    width, height = col1 - col0, row1 - row0
    west, north = col0 * CELL_DEG, row1 * CELL_DEG
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    c_lon = west + (cols + 0.5) * CELL_DEG
    c_lat = north - (rows + 0.5) * CELL_DEG
    cx, cy = frame.xy_arrays(c_lon.ravel(), c_lat.ravel())
    pts: np.ndarray = np.asarray(shapely.points(cx, cy))
    weight = np.zeros(pts.shape[0])
    known = np.zeros(pts.shape[0], dtype=bool)  # inside a core (0 where not residential) -> not nodata
    tree = shapely.STRtree(block_polys)
    pt_idx, blk_idx = tree.query(pts, predicate="within")
    order = np.lexsort((blk_idx, pt_idx))
    pt_idx, blk_idx = pt_idx[order], blk_idx[order]
    first = np.unique(pt_idx, return_index=True)[1]
    pt_idx, blk_idx = pt_idx[first], blk_idx[first]
    known[pt_idx] = True
    dens = np.array([b.density if b.use == "residential" else 0.0 for b in scene.blocks])
    weight[pt_idx] = dens[blk_idx]
    # core extents (streets, squares): known land, zero population
    for core in ("Kangbashi", "Dongsheng"):
        hull = shapely.union_all([b.poly for b in scene.blocks if b.core == core]).buffer(150.0)
        shapely.prepare(hull)
        known |= shapely.contains(hull, pts)
    for geom in scene.excluded:
        shapely.prepare(geom)
        weight[shapely.contains(geom, pts)] = 0.0
    # the hamlet: a few populated cells far from the main network
    for x, y, w in scene.hamlet_cells:
        k = int(np.argmin((cx - x) ** 2 + (cy - y) ** 2))
        weight[k] = w / 100.0
        known[k] = True
    # district of each cell centre by the (committed) real boundaries
    populated = np.flatnonzero(weight > 0)
    cells_ll = shapely.points(c_lon.ravel()[populated], c_lat.ravel()[populated])
    district = np.full(pts.shape[0], "", dtype=object)
    for _, row in boundaries[boundaries["level"] == "district"].iterrows():
        unit = row.geometry
        shapely.prepare(unit)
        district[populated[shapely.contains(unit, cells_ll)]] = row["name_en"]
    people = np.zeros(pts.shape[0])
    totals = {}
    for unit in DISTRICTS:
        if unit.name_en not in ("Dongsheng", "Kangbashi"):
            continue
        sel = np.flatnonzero((district == unit.name_en) & (weight > 0))
        people[sel] = _largest_remainder(weight[sel], core_population(unit))
        totals[unit.name_en] = int(people[sel].sum())
    stray = (weight > 0) & ~np.isin(district, ["Dongsheng", "Kangbashi"])
    people[stray] = 0.0
    grid = np.where(known, people, NODATA).astype(np.float32).reshape(height, width)
    return grid, (west, north), totals


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` persons in proportion to ``weights`` into integers (Hamilton method)."""
    share = weights / weights.sum() * total
    base = np.floor(share)
    left = int(total - base.sum())
    order = np.lexsort((np.arange(len(share)), -(share - base)))
    base[order[:left]] += 1
    return base


def set_densities(scene: Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
    for b in scene.blocks:
        c = b.poly.centroid
        ox, oy = (kang if b.core == "Kangbashi" else dong)["origin"]
        r2 = (c.x - ox) ** 2 + (c.y - oy) ** 2
        trend = 0.55 + 0.9 * math.exp(-r2 / (2 * 2_600.0**2))
        b.density = float(rng.uniform(0.55, 1.45)) * trend


def write_geotiff(grid: np.ndarray, west: float, north: float) -> Callable[[Path], None]:
    """A writer for ``io.write_with``: tiled DEFLATE GeoTIFF, no side-car files, no timestamps."""
    import rasterio
    from rasterio.transform import from_origin

    def writer(path: Path) -> None:
        profile = {
            "driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1, "dtype": "float32",
            "crs": "EPSG:4326", "transform": from_origin(west, north, CELL_DEG, CELL_DEG), "nodata": NODATA,
            "compress": "deflate", "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256,
        }  # fmt: skip
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, "w", **profile) as dst:
            dst.write(grid, 1)
            dst.set_band_description(1, "population (persons per cell, synthetic)")

    return writer
