"""Population of a fetched area: the source chosen, whole-country grids downloaded once and cut to the boundary.

A source is a WorldPop product (:data:`WORLDPOP_URLS`), an ``https://`` URL of
a GeoTIFF, or a local raster or vector table. Downloads go through
:func:`ordos_geo.io.download_file` into the shared downloads folder (reused by
later fetches, tried mirror after mirror, checked to open as a GeoTIFF); the
grid is cut to the boundary and written as ``population.tif``; WorldPop's age
and sex grids of residents aged 60+ (:data:`WORLDPOP_60PLUS_URLS`) are summed
on the same cells. The total is compared with the 2020 census when the
boundaries carry it.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
import shapely

from ordos_geo import io, settings
from ordos_geo._errors import ConfigError, FetchError, InputDataError

__all__ = ["WORLDPOP_60PLUS_URLS", "WORLDPOP_URLS"]

logger = logging.getLogger(__name__)

_WORLDPOP = "https://data.worldpop.org/GIS/Population/"
#: Population source name -> URLs tried in order.
WORLDPOP_URLS: dict[str, tuple[str, ...]] = {
    "worldpop": (
        _WORLDPOP + "Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif",
        _WORLDPOP + "Global_2000_2020_Constrained/2020/maxar_v1/CHN/chn_ppp_2020_constrained.tif",
    ),
    "worldpop_unconstrained": (_WORLDPOP + "Global_2000_2020/2020/CHN/chn_ppp_2020.tif",),
}

_WORLDPOP_AGES = "https://data.worldpop.org/GIS/AgeSex_structures/Global_2000_2020_Constrained/2020/"
#: WorldPop's 2020 age and sex structures (constrained, people per 100 m cell, on the grid of the
#: constrained total) of women (``f``) and men (``m``) aged 60-64, 65-69, 70-74, 75-79 and 80+:
#: group -> URLs tried in order. Public download scripts name the country folder directly
#: (``2020/CHN/``); the BSGM and maxar_v1 folders of the constrained total follow as mirrors.
#: Their sum is the ``population_60plus.tif`` of a fetched area.
WORLDPOP_60PLUS_URLS: dict[str, tuple[str, ...]] = {
    f"{sex}_{age}": tuple(
        f"{_WORLDPOP_AGES}{folder}CHN/chn_{sex}_{age}_2020_constrained.tif" for folder in ("", "BSGM/", "maxar_v1/")
    )
    for sex in ("f", "m")
    for age in (60, 65, 70, 75, 80)
}

_WORLDPOP_LICENCE = "CC BY 4.0, WorldPop (www.worldpop.org), University of Southampton, doi:10.5258/SOTON/WP00645"
_RASTER_SUFFIXES = (".tif", ".tiff")


def _population_urls(source: str) -> tuple[str, ...] | None:
    """URLs to download, or None for a local file."""
    if source in WORLDPOP_URLS:
        return WORLDPOP_URLS[source]
    if source.startswith(("https://", "http://")):
        return (source,)
    if Path(source).is_file():
        return None
    msg = (
        f"--population {source!r}: not a file, a URL or a known source; use 'worldpop', "
        "'worldpop_unconstrained', 'none', an https:// URL of a GeoTIFF, or the path of a local raster or table"
    )
    raise ConfigError(msg)


def _check_geotiff(crs: int | None) -> Any:
    """A check of a downloaded file: it opens as a GeoTIFF, in EPSG:``crs`` when ``crs`` is given."""

    def check(path: Path) -> None:
        import rasterio

        try:
            with rasterio.open(path) as dataset:
                found = dataset.crs
        except rasterio.errors.RasterioIOError as error:
            head = path.read_bytes()[:60]
            msg = (
                f"the downloaded file is not a GeoTIFF (it starts {head!r}; a proxy or login page?); download it "
                f"in a browser, put it in {path.parent} as {path.name.removesuffix('.part')} and run fetch again"
            )
            raise FetchError(msg) from error
        if found is None or (crs is not None and found.to_epsg() != crs):
            msg = f"the downloaded GeoTIFF has CRS {found}, not EPSG:{crs}; check the URL"
            raise FetchError(msg)

    return check


def _download_first(
    urls: tuple[str, ...],
    folder: Path,
    *,
    crs: int | None,
    what: str = "population",
    instead: str = "pass --population with a local raster, a URL or 'none'",
) -> tuple[Path, str]:
    """The first of ``urls`` already in ``folder`` or downloaded there, and its URL; all failing is one error."""
    errors = []
    for url in urls:
        target = folder / url.rsplit("/", 1)[-1]
        if target.is_file() and target.stat().st_size > 0:
            logger.info("fetch: reusing %s", target)
            return target, url
        try:
            logger.info("fetch: downloading %s into %s", url, folder)
            path = io.download_file(
                url,
                target,
                check=_check_geotiff(crs),
                retries=settings.DOWNLOAD_RETRIES,
                backoff_s=settings.DOWNLOAD_BACKOFF_S,
            )
        except requests.RequestException as error:  # try the next mirror, report all
            errors.append(f"{url}: {type(error).__name__}: {error}")
        else:
            return path, url
    msg = (
        f"{what} download failed: {'; '.join(errors)}; download the file in a browser into {folder} "
        f"(kept there under its published name), or {instead}"
    )
    raise FetchError(msg)


def _clip_grid(source: Path, boundary: shapely.Geometry) -> tuple[np.ndarray, dict[str, Any]]:
    """A grid cut to ``boundary`` (cells outside it nodata) and its raster profile (crs, transform, nodata)."""
    import rasterio
    import rasterio.mask

    with rasterio.open(source) as dataset:
        if dataset.crs is None:
            msg = f"{source}: the population raster has no CRS; set it (e.g. gdal_edit.py -a_srs EPSG:4326)"
            raise InputDataError(msg)
        shape = gpd.GeoSeries([boundary], crs=4326).to_crs(dataset.crs).iloc[0]
        nodata = dataset.nodata if dataset.nodata is not None else -99999.0
        try:
            clipped, transform = rasterio.mask.mask(dataset, [shape], crop=True, nodata=nodata, filled=True)
        except ValueError as error:
            msg = f"{source}: the population grid does not cover the area ({error}); choose another source"
            raise InputDataError(msg) from error
        return clipped, {"crs": dataset.crs, "transform": transform, "nodata": nodata}


def _valid_cells(band: np.ndarray, nodata: float) -> tuple[np.ndarray, np.ndarray]:
    """The band as floats and the mask of its cells holding a value."""
    values = band.astype(float)
    return values, (values != nodata) & np.isfinite(values)


def _clip_population(source: Path, boundary: shapely.Geometry, target: Path) -> dict[str, Any]:
    """Write the grid cut to ``boundary`` as ``target``; return its cell count and total population."""
    clipped, profile = _clip_grid(source, boundary)
    io.write_raster(clipped, profile, target)
    values, valid = _valid_cells(clipped[0], profile["nodata"])
    return {"cells": int(valid.sum()), "population_total": float(values[valid].sum())}


def _population_60plus(boundary: shapely.Geometry, staging: Path, downloads: Path) -> dict[str, Any]:
    """Sum the age and sex grids of :data:`WORLDPOP_60PLUS_URLS` for ``boundary`` into ``population_60plus.tif``.

    The grids are downloaded (or reused) like the total and cut the same way;
    each must land on the cells of ``population.tif`` already in ``staging``.
    Returns the provenance entry.
    """
    import rasterio

    with rasterio.open(staging / "population.tif") as total_grid:
        shape, transform = (total_grid.height, total_grid.width), total_grid.transform
    older = np.zeros(shape)
    seen = np.zeros(shape, dtype=bool)
    urls: list[str] = []
    profile: dict[str, Any] = {}
    for group, mirrors in WORLDPOP_60PLUS_URLS.items():
        path, url = _download_first(
            mirrors,
            downloads,
            crs=4326,
            what=f"WorldPop age grid {group}",
            instead="fetch without the age grids (--no-ages)",
        )
        clipped, profile = _clip_grid(path, boundary)
        if clipped.shape[1:] != shape or not profile["transform"].almost_equals(transform):
            msg = (
                f"{path.name}: the age grid does not line up with population.tif (cells {clipped.shape[1:]} at "
                f"{tuple(profile['transform'])[:6]}, not {shape} at {tuple(transform)[:6]}); download it again "
                "or fetch without the age grids (--no-ages)"
            )
            raise FetchError(msg)
        values, valid = _valid_cells(clipped[0], profile["nodata"])
        older += np.where(valid, values, 0.0)
        seen |= valid
        urls.append(url)
    grid = np.where(seen, older, profile["nodata"]).astype(np.float32)
    io.write_raster(grid[None, :, :], profile, staging / "population_60plus.tif")
    return {
        "file": "population_60plus.tif",
        "urls": urls,
        "year": 2020,
        "resolution": "3 arc-seconds (~100 m)",
        "product": "WorldPop age and sex structures, constrained: women and men aged 60-64 ... 80+, summed",
        "units": "people per cell",
        "licence": _WORLDPOP_LICENCE,
        "cells": int(seen.sum()),
        "population_60plus_total": float(older[seen].sum()),
    }


def _population(source: str, boundary: shapely.Geometry, staging: Path, downloads: Path) -> tuple[str, dict[str, Any]]:
    """Write the population of ``boundary`` into ``staging``; return its file name and provenance."""
    urls = _population_urls(source)
    if urls is None:
        path = Path(source)
        info: dict[str, Any] = {"path": str(path.resolve())}
        if not path.name.lower().endswith(_RASTER_SUFFIXES):
            cells = io.read_population(path, study_area=boundary)
            io.write_geojson(cells, staging / "population.geojson")
            return "population.geojson", {
                **info,
                "cells": len(cells),
                "population_total": float(cells["population"].sum()),
            }
    else:
        path, url = _download_first(urls, downloads, crs=4326 if source in WORLDPOP_URLS else None)
        info = {"url": url, "product": source}
        if source in WORLDPOP_URLS:
            info |= {"year": 2020, "resolution": "3 arc-seconds (~100 m)", "licence": _WORLDPOP_LICENCE}
    return "population.tif", {
        **info,
        "units": "people per cell",
        **_clip_population(path, boundary, staging / "population.tif"),
    }


def _compare_with_census(stats: dict[str, Any], census: float | None, *, area: str) -> None:
    """Add the census figure and ratio to ``stats``; warn when they differ by more than the documented ratio."""
    if census is None or not census > 0:
        return
    ratio = stats["population_total"] / census
    limit = settings.POPULATION_CENSUS_RATIO_WARN
    stats |= {"census_2020": census, "ratio_to_census": round(ratio, 4)}
    if not 1 / limit <= ratio <= limit:
        warnings.warn(
            f"{area}: the fetched population totals {stats['population_total']:,.0f}, {ratio:.2f} x the 2020 census "
            f"({census:,.0f}), outside 1/{limit:g}..{limit:g}; check the source and the boundary before using it "
            "(or pass --population with a better grid)",
            UserWarning,
            stacklevel=3,
        )


def _census(boundaries: gpd.GeoDataFrame | str | os.PathLike[str], adcode: str) -> float | None:
    """The 2020 census population of ``adcode`` in the boundaries' ``population_2020`` column, if any."""
    frame = boundaries if isinstance(boundaries, gpd.GeoDataFrame) else io.read_vector(boundaries, what="boundaries")
    if "population_2020" not in frame or "adcode" not in frame:
        return None
    values = pd.to_numeric(frame.loc[frame["adcode"].astype(str) == adcode, "population_2020"], errors="coerce")
    return float(values.iloc[0]) if len(values) and np.isfinite(values.iloc[0]) else None
