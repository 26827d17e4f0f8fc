"""The public loader: one call from a file, polygon or place to a cached :class:`WalkNetwork`."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from ordos_geo import io, settings
from ordos_geo._validate import check_input_file
from ordos_geo.network._build import _metric_crs, network_from_osm_data
from ordos_geo.network._osm import NETWORK_SUFFIXES, _read_osm_file
from ordos_geo.network.arrays import (
    CACHE_FORMAT_VERSION,
    WalkNetwork,
    _save_arrays,
    network_arrays,
    walk_network_from_arrays,
    walk_network_from_graph,
)
from ordos_geo.network.graph import (
    _add_projected_lengths,
    _graph_from_graphml,
    _no_walkable_ways_there,
    _online_data,
    project_network,
)
from ordos_geo.network.rules import WALK_DEFINITION_VERSION, overpass_walk_filters

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# Cache and the public loader
# ---------------------------------------------------------------------------


def _cache_key(content_digest: str, crs: Any) -> str:
    options = {
        "content": content_digest,
        "crs": None if crs is None else _metric_crs(crs).to_string(),
        "walk_definition": WALK_DEFINITION_VERSION,
        "cache_format": CACHE_FORMAT_VERSION,
        "walk_filter": overpass_walk_filters(),
    }
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()


def _strip_suffixes(file_name: str) -> str:
    for suffix in sorted(NETWORK_SUFFIXES, key=len, reverse=True):
        if file_name.lower().endswith(suffix):
            return file_name[: -len(suffix)]
    return file_name


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:60] or "network"


def _source_label(source: Any) -> tuple[str, str, Path | None]:
    """Return ``(kind, label, path)`` of a network source."""
    if isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        return "polygon", "polygon", None
    if (
        isinstance(source, str)
        and not source.lower().endswith(NETWORK_SUFFIXES)
        and not any(sep in source for sep in ("/", "\\"))
        and not Path(source).exists()
    ):
        return "place", source, None
    path = Path(source)
    return "file", path.name, path


def load_walk_network(
    source: str | os.PathLike[str] | shapely.Polygon | shapely.MultiPolygon,
    *,
    crs: Any = None,
    cache_dir: str | os.PathLike[str] | None = settings.DATA_PROCESSED_DIR / "networks",
    use_cache: bool = True,
    name: str | None = None,
) -> WalkNetwork:
    """Load, clean and project a walk network, with a cache of its arrays (one ``.npz``).

    Parameters
    ----------
    source : path, shapely Polygon/MultiPolygon or str
        An OSM extract (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``), a
        saved ``.graphml``; or, online, a polygon in WGS-84 (longitude,
        latitude) or a place name (geocoded with ``osmnx.geocode_to_gdf``)
        whose walk network :func:`walk_graph_from_polygon` downloads.
    crs : pyproj.CRS, str or int, optional
        Metric CRS to project to. Default: chosen from the data
        (:func:`ordos_geo._crs.metric_crs_for`; Ordos: EPSG:4546).
    cache_dir : str or os.PathLike, optional
        Folder of the network cache; ``None`` disables caching.
    use_cache : bool
        Read a cached result when present (the cache is written either way).
    name : str, optional
        Name used in the cache file names (default: the file name).

    Returns
    -------
    WalkNetwork
        Projected network; ``report`` says what cleaning did (see
        :func:`graph_from_osm_file`) plus ``crs``, ``cache`` (``"hit"``,
        ``"miss"`` or ``"off"``) and ``cache_path``.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputDataError
        Empty file, unsupported file type, unreadable file.
    NetworkDataError
        No walkable ways, or no edges after cleaning.

    Examples
    --------
    >>> from ordos_geo import settings
    >>> net = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm")  # doctest: +SKIP
    >>> net.crs.to_epsg()  # doctest: +SKIP
    4546
    """
    kind, label, path = _source_label(source)
    if path is not None:
        path = check_input_file(path, what="walk network", suffixes=NETWORK_SUFFIXES)
        digest = io.sha256_file(path)
    elif isinstance(source, shapely.Polygon | shapely.MultiPolygon):
        digest = hashlib.sha256(bytes(shapely.to_wkb(source, hex=False))).hexdigest()
    else:
        digest = hashlib.sha256(f"place:{source}".encode()).hexdigest()
    key = _cache_key(digest, crs)
    cache_path = report_path = None
    if cache_dir is not None:
        stem = _safe_name(name or _strip_suffixes(label))
        cache_path = Path(cache_dir) / f"{stem}-{key[:16]}.npz"
        report_path = cache_path.with_suffix(".report.json")
        if use_cache and cache_path.is_file() and report_path.is_file():
            cached = _read_cache(cache_path, report_path)
            if cached is not None:
                return cached

    if kind == "file" and path is not None and path.name.lower().endswith(".graphml"):
        network = _network_from_graphml(path, crs=crs)
    elif kind == "file" and path is not None:
        network = network_from_osm_data(_read_osm_file(path), name=path.name, source=str(path), crs=crs)
    else:
        data, label = _online_data(source, kind=kind)
        no_edges = _no_walkable_ways_there(label)
        network = network_from_osm_data(data, name=label, source=f"overpass:{label}", crs=crs, no_edges=no_edges)
    network.report.update(input_sha256=digest)
    if cache_path is not None and report_path is not None:
        arrays = network_arrays(network)
        io.write_with(lambda tmp: _save_arrays(arrays, tmp), cache_path)
        # the checksum is checked on every read: a truncated or altered cache is rebuilt, never trusted
        io.write_json(network.report | {"cache_sha256": io.sha256_file(cache_path)}, report_path)
        network.report.update(cache="miss", cache_path=str(cache_path))
    else:
        network.report.update(cache="off", cache_path=None)
    return network


def _network_from_graphml(path: Path, *, crs: Any) -> WalkNetwork:
    """A saved osmnx graph: cleaned and projected by osmnx (the graph is the input here)."""
    graph, report = _graph_from_graphml(path)
    projected = project_network(graph, crs=crs)
    report.update(crs=pyproj.CRS.from_user_input(projected.graph["crs"]).to_string())
    if any("length" not in d for _, _, d in projected.edges(data=True)):
        _add_projected_lengths(projected)
    return walk_network_from_graph(projected, report=report)


def _read_cache(cache_path: Path, report_path: Path) -> WalkNetwork | None:
    """The cached network if its checksum matches and it reads; else ``None`` (with a warning) to rebuild it."""
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        expected = report.pop("cache_sha256", None)
        content = cache_path.read_bytes()  # read once: checked, then unpacked from memory
        if expected != hashlib.sha256(content).hexdigest():
            msg = "its checksum does not match" if expected else "it has no checksum"
            raise ValueError(msg)
        logger.info("network: reading cached %s", cache_path)
        with np.load(BytesIO(content), allow_pickle=False) as stored:
            network = walk_network_from_arrays(dict(stored), report=report)
    except Exception as error:  # a damaged cache of any kind is rebuilt from the source
        logger.warning("network: the cache %s is damaged (%s); rebuilding it from the source", cache_path.name, error)
        return None
    network.report.update(cache="hit", cache_path=str(cache_path))
    return network
