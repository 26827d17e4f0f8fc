"""Walk networks: load, clean, project, cache, and an array form for fast paths.

The stage exchanges a :class:`WalkNetwork`: the projected osmnx-style
``MultiDiGraph`` plus the arrays the compiled shortest-path engine needs.

:func:`load_walk_network` reads a raw OSM extract (``.osm``, ``.osm.bz2``,
``.osm.gz``, ``.osm.pbf``), a saved ``.graphml``, or downloads from Overpass
(:func:`walk_graph_from_polygon`: a WGS-84 polygon, or a place name osmnx
geocodes), then

1. keeps the **walkable ways** by the walking rule below (the same rule for XML,
   PBF and Overpass: :func:`overpass_walk_query` asks Overpass for exactly
   the ways :func:`walk_rule` keeps), and reports per rule what it kept and
   dropped, and what it keeps or drops beyond osmnx's ``walk`` filter;
2. **repairs clipped ways**: an extract cut at a bounding box keeps ways whose
   node references point outside it; those references are dropped and each
   remaining run of consecutive nodes (at least two) is kept as its own piece;
3. keeps the **largest weakly connected component**, as osmnx does
   (``retain_all=False``), and reports what it dropped;
4. **simplifies** the topology with ``osmnx.simplify_graph`` (edge ``length``
   in metres, great-circle, summed along merged segments);
5. **projects** to a metric CRS (:func:`ordos_geo._crs.metric_crs_for`: a
   CGCS2000 3-degree Gauss-Krüger zone in China, the UTM zone elsewhere);
6. **caches** the projected network as arrays (one uncompressed ``.npz``:
   node ids and coordinates, edge ends, lengths, geometries as ragged
   coordinate arrays, the OSM attributes as JSON lines) in
   ``data/processed/networks/``, keyed by the SHA-256 of the input bytes and
   the options. Reading the cache builds no networkx graph:
   :meth:`WalkNetwork.to_networkx` rebuilds the osmnx-style graph from it on
   request (same nodes, edges, keys and attributes, in the same order), for
   ``osmnx.save_graphml`` or any networkx algorithm.

The walking rule
----------------
Access is decided by the first row that matches (:data:`WALK_ACCESS_RULES`);
the shape rows then say how a kept way is walked.

=====================================================  ===============  =====================
OSM tags                                               walking          reason in the report
=====================================================  ===============  =====================
no ``highway`` tag                                     no               ``not_a_street``
``highway=motorway|motorway_link`` (even ``foot=yes``)  no               ``motorway``
``highway=abandoned|construction|no|planned|``         no               ``not_built``
``proposed|razed``
``foot=no``                                            no               ``foot_no``
``foot=yes|designated|permissive``                     yes              ``foot_permitted``
``access=no|private`` (no foot permission)             no               ``access_private``
``service=private`` (no foot permission)               no               ``service_private``
``highway=cycleway|bus_guideway|platform|raceway|``    no               ``no_pedestrians``
``rest_area|services`` (no foot permission)
any other ``highway``                                  yes              ``street``
``area=yes`` on ``highway=pedestrian|footway|path``,   across the area  ``pedestrian_area``
a closed ``highway=pedestrian`` way (unless
``area=no``), a ``type=multipolygon`` relation with
one of those highways
``area=yes`` on any other highway                      no               ``area_not_pedestrian``
``sidewalk[:both|:left|:right]=separate``              yes, unless      ``sidewalk_separate``
                                                       sidewalks run    (kept) /
                                                       alongside        ``sidewalk_separate_
                                                                        alongside`` (dropped)
``oneway:foot=yes`` / ``-1``                           one way only
``oneway=*`` (any highway)                             both ways
=====================================================  ===============  =====================

Differences from osmnx's ``walk`` filter, on purpose: a foot permission
overrides ``access=private``, ``service=private`` and the cycleway/platform
exclusions (shared foot and cycle paths); ``access=no`` is excluded like
``private``; pedestrian areas (squares, 广场) are walkable *across*: their
outline, plus a straight link between every two points where other walkable
ways meet the outline, where that link stays inside the area (holes of
multipolygons included); ``sidewalk=separate`` roads stay walkable when no
``footway=sidewalk`` way runs within :data:`SEPARATE_SIDEWALK_SEARCH_M` metres
along at least half of them (an extract without the sidewalks would otherwise
lose the street); ``oneway=yes`` never binds walkers (it is for vehicles or
cyclists), only ``oneway:foot`` does. One-way edges make the largest component
the largest *weakly* connected one (as osmnx); the report counts the nodes
outside its largest strongly connected part (``nodes_not_strongly_connected``).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import logging
import math
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from itertools import groupby, pairwise
from pathlib import Path
from typing import IO, Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse
import shapely
from tqdm.auto import tqdm

from ordos_geo import io, settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, InputDataError, MissingDependencyError, NetworkDataError
from ordos_geo._optional import import_pyrosm
from ordos_geo._validate import check_input_file

__all__ = [
    "CACHE_FORMAT_VERSION",
    "NETWORK_SUFFIXES",
    "WALK_ACCESS_RULES",
    "WALK_DEFINITION_VERSION",
    "WalkNetwork",
    "clean_walk_graph",
    "graph_from_osm_file",
    "in_osmnx_walk",
    "is_walkable",
    "load_walk_network",
    "network_arrays",
    "overpass_walk_filters",
    "overpass_walk_query",
    "project_network",
    "subnetwork",
    "walk_graph_from_polygon",
    "walk_network_from_arrays",
    "walk_network_from_graph",
    "walk_rule",
]

logger = logging.getLogger(__name__)

#: File endings :func:`load_walk_network` reads.
NETWORK_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.pbf", ".pbf", ".graphml")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")

#: Version of the walk definition and cleaning rules; part of the cache key, so
#: bump it whenever the rules below change.
WALK_DEFINITION_VERSION = "2"

#: Layout of the cached arrays (:func:`network_arrays`); part of the cache key.
CACHE_FORMAT_VERSION = 1

#: The walking rule's access rows, in order; the first row whose tag matches decides
#: (see the module docstring's table). Each row: ``(reason, key, values, walkable)``;
#: ``values`` is a ``|``-separated list matched against the whole tag value, ``None``
#: means "the key is absent". A way no row matches is walkable (``reason`` ``"street"``).
WALK_ACCESS_RULES: tuple[tuple[str, str, str | None, bool], ...] = (
    ("not_a_street", "highway", None, False),
    ("motorway", "highway", "motorway|motorway_link", False),
    ("not_built", "highway", "abandoned|construction|no|planned|proposed|razed", False),
    ("foot_no", "foot", "no", False),
    ("foot_permitted", "foot", "yes|designated|permissive", True),
    ("access_private", "access", "no|private", False),
    ("service_private", "service", "private", False),
    ("no_pedestrians", "highway", "bus_guideway|cycleway|platform|raceway|rest_area|services", False),
)
#: Highways whose ``area=yes`` ways (and multipolygons) are pedestrian areas.
PEDESTRIAN_AREA_HIGHWAYS: tuple[str, ...] = ("pedestrian", "footway", "path")
#: Keys whose value ``separate`` says the road's sidewalk is mapped as its own way.
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
#: A ``sidewalk=separate`` road is dropped when mapped sidewalks (``footway=sidewalk``)
#: run within this many metres of it along at least half its length.
SEPARATE_SIDEWALK_SEARCH_M = 25.0

_YES = frozenset({"yes", "true", "1"})
_REVERSE = frozenset({"-1", "reverse"})

#: osmnx 2.1's ``walk`` Overpass filter (for the report's comparison), used if osmnx's private helper moves.
_OSMNX_WALK_FILTER_FALLBACK = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
    'platform|proposed|raceway|razed|rest_area|services"]'
    '["foot"!~"no"]["service"!~"private"]'
    '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
    '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
)
_FILTER_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~|=)"(?P<value>[^"]*)")?\]')

#: OSM way tags kept as edge attributes (osmnx's list plus the foot-related ones).
_EXTRA_WAY_TAGS = ("foot", "footway", "sidewalk", "surface", "lit", "oneway:foot")


def _matches(tags: dict[str, str], key: str, values: str | None) -> bool:
    value = tags.get(key)
    if values is None:
        return value is None
    return value is not None and value in values.split("|")


def walk_rule(tags: dict[str, str], *, closed: bool = False) -> tuple[str, str]:
    """Apply the walking rule to one OSM way (or multipolygon) and say why.

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.
    closed : bool
        Whether the way is closed (first node = last node); a closed
        ``highway=pedestrian`` way is a pedestrian area unless ``area=no``.

    Returns
    -------
    verdict : str
        ``"line"`` (walkable both ways along the way, or one way with
        ``oneway:foot``), ``"area"`` (a pedestrian area: walkable across),
        ``"sidewalk_separate"`` (walkable unless mapped sidewalks run alongside)
        or ``"drop"``.
    reason : str
        The rule that decided: a reason of :data:`WALK_ACCESS_RULES`, ``"street"``,
        ``"pedestrian_area"``, ``"area_not_pedestrian"`` or ``"sidewalk_separate"``.

    Examples
    --------
    >>> walk_rule({"highway": "cycleway", "foot": "designated"})
    ('line', 'foot_permitted')
    >>> walk_rule({"highway": "pedestrian", "area": "yes"})
    ('area', 'pedestrian_area')
    >>> walk_rule({"highway": "service", "access": "private"})
    ('drop', 'access_private')
    """
    reason = "street"
    for rule, key, values, walkable in WALK_ACCESS_RULES:
        if _matches(tags, key, values):
            if not walkable:
                return "drop", rule
            reason = rule
            break
    highway = tags.get("highway")
    area = tags.get("area")
    if (area == "yes" and highway in PEDESTRIAN_AREA_HIGHWAYS) or (closed and highway == "pedestrian"
                                                                 and area != "no"):
        return "area", "pedestrian_area"
    if area == "yes":
        return "drop", "area_not_pedestrian"
    if any(tags.get(key) == "separate" for key in _SIDEWALK_KEYS):
        return "sidewalk_separate", "sidewalk_separate"
    return "line", reason


def is_walkable(tags: dict[str, str], *, closed: bool = False) -> bool:
    """Whether the walking rule keeps an OSM way with these tags.

    ``sidewalk=separate`` roads count as walkable here; the loader drops them
    only where mapped sidewalks run alongside (see :func:`walk_rule`).

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.
    closed : bool
        Whether the way is closed.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "footway"}), is_walkable({"highway": "motorway", "foot": "yes"})
    (True, False)
    >>> is_walkable({"building": "yes"}), is_walkable({"highway": "cycleway", "foot": "yes"})
    (False, True)
    """
    return walk_rule(tags, closed=closed)[0] != "drop"


def _overpass_values(values: str) -> str:
    return "^(" + values + ")$"


def overpass_walk_filters() -> list[str]:
    """The Overpass way filters of the walking rule (their union is the walk network).

    Built from :data:`WALK_ACCESS_RULES` and :data:`PEDESTRIAN_AREA_HIGHWAYS`:
    one filter per way a row can admit (a foot permission, or no row at all),
    each with every earlier excluding row negated, once for lines
    (``area`` not ``yes``) and once for pedestrian areas. A way matches one of
    them exactly when :func:`is_walkable` keeps it (closed ``highway=pedestrian``
    ways are lines here; the loader makes them areas).

    Returns
    -------
    list of str
        Filters such as ``["highway"]["highway"!~"^(motorway|motorway_link)$"]...``.

    Examples
    --------
    >>> len(overpass_walk_filters())
    4
    """
    access: list[str] = []
    negated: list[str] = []
    for _rule, key, values, walkable in WALK_ACCESS_RULES:
        clause = f'["{key}"]' if values is None else f'["{key}"~"{_overpass_values(values)}"]'
        if walkable:
            access.append("".join(negated) + clause)
        negated.append(f'["{key}"]' if values is None else f'["{key}"!~"{_overpass_values(values)}"]')
    access.append("".join(negated))
    areas = _overpass_values("|".join(PEDESTRIAN_AREA_HIGHWAYS))
    shapes = ('["area"!~"^yes$"]', f'["area"="yes"]["highway"~"{areas}"]')
    return [a + s for a in access for s in shapes]


def overpass_walk_query(polygon: shapely.Polygon | shapely.MultiPolygon) -> list[str]:
    """The Overpass QL queries that download the walk network inside a polygon.

    One query per piece osmnx would split the polygon into
    (``osmnx.settings.max_query_area_size``): the ways of
    :func:`overpass_walk_filters`, the pedestrian multipolygons, and their nodes
    and member ways.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        The area in WGS-84 (longitude, latitude).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import shapely
    >>> query = overpass_walk_query(shapely.box(109.77, 39.59, 109.80, 39.62))[0]
    >>> 'way["highway"]' in query and 'relation["type"="multipolygon"]' in query
    True
    """
    from osmnx import _overpass

    areas = _overpass_values("|".join(PEDESTRIAN_AREA_HIGHWAYS))
    relation_access = [f[: f.index('["area"')] for f in overpass_walk_filters()[::2]]
    queries = []
    for coords in _overpass._make_overpass_polygon_coord_strs(polygon):
        poly = f"(poly:{coords!r})"
        parts = [f"way{f}{poly};" for f in overpass_walk_filters()]
        parts += [f'relation["type"="multipolygon"]{a}["highway"~"{areas}"]{poly};' for a in relation_access]
        queries.append(f"{_overpass._make_overpass_settings()};({''.join(parts)});(._;>;);out;")
    return queries


def _pedestrian_direction(tags: dict[str, str]) -> tuple[bool, bool]:
    """Return ``(one_way, reversed)`` for walkers: only ``oneway:foot`` binds them."""
    foot = tags.get("oneway:foot")
    if foot in _YES:
        return True, False
    if foot in _REVERSE:
        return True, True
    return False, False


def _osmnx_walk_rules() -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    try:
        from osmnx._overpass import _get_network_filter

        text = _get_network_filter("walk")
    except (ImportError, AttributeError, ValueError):  # pragma: no cover - osmnx moved its helper
        text = _OSMNX_WALK_FILTER_FALLBACK
    return [(m["key"], m["op"], re.compile(m["value"]) if m["value"] is not None else None)
            for m in _FILTER_CLAUSE.finditer(text)]


def _overpass_filter_matches(rules: list[tuple[str, str | None, re.Pattern[str] | None]],
                             tags: dict[str, str]) -> bool:
    """Evaluate parsed Overpass clauses with Overpass semantics (unanchored regex, ``=`` exact)."""
    for key, op, pattern in rules:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "=":
            if value != pattern.pattern:  # type: ignore[union-attr]
                return False
        elif op == "~":
            if value is None or not pattern.search(value):  # type: ignore[union-attr]
                return False
        elif value is not None and pattern.search(value):  # type: ignore[union-attr]
            return False
    return True


_OSMNX_WALK_RULES = _osmnx_walk_rules()


def in_osmnx_walk(tags: dict[str, str]) -> bool:
    """Whether osmnx's own ``walk`` filter keeps a way (for the cleaning report's comparison).

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_osmnx_walk({"highway": "cycleway", "foot": "designated"})
    False
    """
    return _overpass_filter_matches(_OSMNX_WALK_RULES, tags)


# ---------------------------------------------------------------------------
# Reading raw OSM
# ---------------------------------------------------------------------------


@dataclass
class _OsmData:
    """Nodes and ways of an OSM extract (only what the walk graph needs)."""

    lon: dict[int, float] = field(default_factory=dict)
    lat: dict[int, float] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    #: multipolygon relations with a ``highway`` tag: (id, [(member way id, role)], tags)
    relations: list[tuple[int, list[tuple[int, str]], dict[str, str]]] = field(default_factory=list)
    #: multipolygons already assembled (PBF): (id, polygon in lon/lat, tags)
    polygons: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)


def _open_xml(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def _read_osm_xml(path: Path) -> _OsmData:
    """Stream an OSM XML file (plain, bz2 or gzip) into nodes and ways."""
    import osmnx as ox

    useful_node_tags = set(ox.settings.useful_tags_node)
    data = _OsmData()
    try:
        with _open_xml(path) as file:
            for _event, element in ET.iterparse(file, events=("end",)):
                kind = element.tag
                if kind == "node":
                    if element.get("action") != "delete":
                        node_id = int(element.get("id"))
                        data.lon[node_id] = float(element.get("lon"))
                        data.lat[node_id] = float(element.get("lat"))
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        useful = {k: v for k, v in tags.items() if k in useful_node_tags}
                        if useful:
                            data.node_tags[node_id] = useful
                    element.clear()
                elif kind == "way":
                    if element.get("action") != "delete":
                        refs = [int(nd.get("ref")) for nd in element.iter("nd")]
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        data.ways.append((int(element.get("id")), refs, tags))
                    element.clear()
                elif kind == "relation":
                    tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                    if element.get("action") != "delete" and tags.get("type") == "multipolygon" and "highway" in tags:
                        members = [(int(m.get("ref")), m.get("role") or "outer")
                                   for m in element.iter("member") if m.get("type") == "way"]
                        data.relations.append((int(element.get("id")), members, tags))
                    element.clear()
    except ET.ParseError as error:
        msg = f"{path}: not valid OSM XML ({error}); re-export the extract (JOSM, Overpass or osmium) and retry"
        raise InputDataError(msg) from error
    except (OSError, EOFError, TypeError, ValueError) as error:
        msg = f"{path}: cannot read this OSM XML file ({error}); check it is complete and not corrupted"
        raise InputDataError(msg) from error
    return data


_PYROSM_NON_TAG_COLUMNS = frozenset(
    {"id", "nodes", "timestamp", "version", "changeset", "tags", "osm_type", "geometry", "visible", "lon", "lat"}
)


def _row_tags(record: dict[str, Any], tag_columns: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    extra = record.get("tags")
    if isinstance(extra, str) and extra:
        try:
            tags.update({str(k): str(v) for k, v in json.loads(extra).items()})
        except (ValueError, AttributeError):
            pass
    elif isinstance(extra, dict):
        tags.update({str(k): str(v) for k, v in extra.items()})
    for column in tag_columns:
        value = record.get(column)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        tags[column] = str(value)
    return tags


def _read_osm_pbf(path: Path) -> _OsmData:
    """Read the highway ways of a PBF extract with pyrosm, keeping each way's node ids.

    pyrosm gives the ways with their ordered node ids (``keep_node_info``) and
    geometry; node coordinates come from complete way geometries and from
    pyrosm's network nodes, so the nodes missing from a clipped extract stay
    missing and are repaired like in XML.
    """
    pyrosm = import_pyrosm()
    try:
        osm = pyrosm.OSM(str(path), keep_node_info=True, progress=False)
        ways = osm.get_data_by_custom_criteria(
            custom_filter={"highway": True}, keep_nodes=False, keep_ways=True, keep_relations=False
        )
    except TypeError as error:  # pragma: no cover - old pyrosm without keep_node_info / progress
        msg = f"{path}: this pyrosm is too old to read way node ids; pip install 'pyrosm>=0.25'"
        raise MissingDependencyError(msg) from error
    except Exception as error:
        msg = f"{path}: cannot read this PBF extract ({error}); check it is a complete .osm.pbf file"
        raise InputDataError(msg) from error
    data = _OsmData()
    if ways is None or len(ways) == 0:
        return data
    if "nodes" not in ways.columns:  # pragma: no cover - old pyrosm
        msg = f"{path}: this pyrosm does not return way node ids; pip install 'pyrosm>=0.25'"
        raise MissingDependencyError(msg)
    tag_columns = [c for c in ways.columns if c not in _PYROSM_NON_TAG_COLUMNS]
    for record, geometry in zip(
        ways.drop(columns="geometry").to_dict("records"), ways.geometry.array, strict=True
    ):
        refs = [int(n) for n in record["nodes"]]
        data.ways.append((int(record["id"]), refs, _row_tags(record, tag_columns)))
        if geometry is None:
            continue
        ring = geometry.exterior if geometry.geom_type == "Polygon" else geometry
        if ring.geom_type not in ("LineString", "LinearRing"):
            continue
        coords = shapely.get_coordinates(ring)
        if len(coords) == len(refs):  # complete way: its coordinates are its nodes'
            for node_id, (x, y) in zip(refs, coords.tolist(), strict=True):
                data.lon[node_id] = x
                data.lat[node_id] = y
    _read_pbf_multipolygons(osm, data)
    # nodes of clipped ways that are present in the file
    try:
        network_nodes, _ = osm.get_network(network_type="all", nodes=True)
    except Exception:
        network_nodes = None
    if network_nodes is not None and len(network_nodes):
        for node_id, x, y in zip(
            network_nodes["id"].to_numpy(np.int64).tolist(),
            network_nodes["lon"].to_numpy(float).tolist(),
            network_nodes["lat"].to_numpy(float).tolist(),
            strict=True,
        ):
            data.lon.setdefault(node_id, x)
            data.lat.setdefault(node_id, y)
        node_ids = network_nodes["id"].tolist()
        for column in ("highway", "junction", "railway", "ref"):
            if column in network_nodes.columns:
                for node_id, value in zip(node_ids, network_nodes[column].tolist(), strict=True):
                    if isinstance(value, str):
                        data.node_tags.setdefault(int(node_id), {})[column] = value
    return data


def _read_pbf_multipolygons(osm: Any, data: _OsmData) -> None:
    """Add the pedestrian multipolygons of a PBF extract (pyrosm assembles their polygons)."""
    try:
        frame = osm.get_data_by_custom_criteria(
            custom_filter={"highway": list(PEDESTRIAN_AREA_HIGHWAYS)}, keep_nodes=False, keep_ways=False,
            keep_relations=True,
        )
    except Exception:  # pragma: no cover - pyrosm finds no relation at all
        return
    if frame is None or len(frame) == 0:
        return
    tag_columns = [c for c in frame.columns if c not in _PYROSM_NON_TAG_COLUMNS]
    for record, geometry in zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry.array,
                                strict=True):
        if record.get("osm_type") != "relation" or geometry is None or geometry.is_empty:
            continue
        if geometry.geom_type in ("Polygon", "MultiPolygon"):
            data.polygons.append((int(record["id"]), geometry, _row_tags(record, tag_columns)))


# ---------------------------------------------------------------------------
# Building and cleaning the graph
# ---------------------------------------------------------------------------


def _split_at_missing(refs: list[int], present: dict[int, float]) -> list[list[int]]:
    """Cut a way's node list at references to absent nodes; keep runs of >= 2 nodes."""
    pieces = []
    for is_present, run in groupby(refs, key=lambda n: n in present):
        if is_present:
            nodes = [n for n, _ in groupby(run)]  # drop consecutive duplicates like osmnx
            if len(nodes) >= 2:
                pieces.append(nodes)
    return pieces


def _check_node_coordinates(data: _OsmData, *, name: str) -> None:
    """Refuse OSM nodes whose coordinates are not degrees (``lat="999"``, NaN)."""
    ids = np.fromiter(data.lon.keys(), dtype=np.int64, count=len(data.lon))
    lon = np.fromiter(data.lon.values(), dtype=float, count=len(data.lon))
    lat = np.fromiter((data.lat[i] for i in data.lon), dtype=float, count=len(data.lon))
    bad = np.flatnonzero(~((np.abs(lon) <= 180) & (np.abs(lat) <= 90)))
    if bad.size:
        shown = ", ".join(f"node {ids[i]} (lon {lon[i]:g}, lat {lat[i]:g})" for i in bad[:3])
        msg = (
            f"{name}: {bad.size} OSM nodes have coordinates outside longitude ±180° / latitude ±90° ({shown}); "
            "the extract is damaged: export it again"
        )
        raise NetworkDataError(msg)


def _local_metres(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Equirectangular metres around ``origin`` (good to well under 1 % over a few kilometres)."""
    scale = 111_320.0 * np.cos(np.radians(origin[1]))
    return np.column_stack([(lon - origin[0]) * scale, (lat - origin[1]) * 110_574.0])


@dataclass
class _Way:
    """A way (or multipolygon) the walking rule keeps, before it becomes edges."""

    osm_id: int
    pieces: list[list[int]]
    tags: dict[str, str]
    rings: list[list[int]] = field(default_factory=list)  # pedestrian areas: closed node rings
    polygon: Any = None  # pedestrian areas: the area in lon/lat


def _piece_lines(pieces: list[list[int]], data: _OsmData, origin: tuple[float, float]) -> list[shapely.LineString]:
    lines = []
    for piece in pieces:
        lon = np.array([data.lon[n] for n in piece])
        lat = np.array([data.lat[n] for n in piece])
        lines.append(shapely.LineString(_local_metres(lon, lat, origin)))
    return lines


def _sidewalks_alongside(roads: list[_Way], lines: list[_Way], data: _OsmData) -> list[bool]:
    """Whether mapped sidewalks (``footway=sidewalk``) run along each ``sidewalk=separate`` road.

    A road has them when the sidewalk ways within :data:`SEPARATE_SIDEWALK_SEARCH_M`
    metres of it are, inside that band, at least half as long as the road.
    """
    if not roads:
        return []
    first = roads[0].pieces[0][0]
    origin = (data.lon[first], data.lat[first])
    sidewalks = [line for way in lines if way.tags.get("footway") == "sidewalk"
                 for line in _piece_lines(way.pieces, data, origin)]
    tree = shapely.STRtree(sidewalks)
    answers = []
    for road in roads:
        road_lines = _piece_lines(road.pieces, data, origin)
        band = shapely.union_all([line.buffer(SEPARATE_SIDEWALK_SEARCH_M) for line in road_lines])
        near = tree.query(band)
        alongside = sum(sidewalks[i].intersection(band).length for i in near.tolist())
        answers.append(alongside >= 0.5 * sum(line.length for line in road_lines))
    return answers


def _multipolygon(members: list[tuple[int, str]], way_refs: dict[int, list[int]], data: _OsmData) -> Any:
    """Assemble a multipolygon relation from its member ways (outer minus inner), or ``None``."""
    rings: dict[str, list[shapely.LineString]] = {"outer": [], "inner": []}
    for way_id, role in members:
        refs = [n for n in way_refs.get(way_id, []) if n in data.lon]
        if len(refs) >= 2:
            rings["inner" if role == "inner" else "outer"].append(
                shapely.LineString([(data.lon[n], data.lat[n]) for n in refs]))
    outer = shapely.union_all(list(shapely.polygonize(rings["outer"]).geoms)) if rings["outer"] else None
    if outer is None or outer.is_empty:
        return None
    if rings["inner"]:
        outer = outer.difference(shapely.union_all(list(shapely.polygonize(rings["inner"]).geoms)))
    return outer if not outer.is_empty else None


def _polygonal(polygon: Any) -> Any:
    """The polygonal part of a possibly self-touching ring (``shapely.make_valid``), or ``None``."""
    if not polygon.is_valid:
        fixed = shapely.make_valid(polygon)
        parts = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
        polygon = shapely.union_all(parts) if parts else shapely.Polygon()
    return polygon if polygon.geom_type in ("Polygon", "MultiPolygon") and polygon.area > 0 else None


def _polygon_rings(polygon: Any, lookup: dict[tuple[float, float], int], data: _OsmData) -> list[list[int]]:
    """Node rings of a lon/lat polygon: known nodes by coordinate, new (negative) ids for the others."""
    rings = []
    for part in getattr(polygon, "geoms", [polygon]):
        for ring in [part.exterior, *part.interiors]:
            ids = []
            for lon, lat in ring.coords:
                node = lookup.get((lon, lat))
                if node is None:
                    node = -(len(data.lon) + 1)
                    while node in data.lon:
                        node -= 1
                    data.lon[node], data.lat[node] = lon, lat
                    lookup[(lon, lat)] = node
                ids.append(node)
            rings.append([n for n, _ in groupby(ids)])
    return rings


def _area_links(area: _Way, meeting: list[int], data: _OsmData) -> list[tuple[int, int]]:
    """Straight links between an area's meeting points that stay inside the area."""
    inside = area.polygon.buffer(1e-7)  # ~1 cm of rounding tolerance in degrees
    shapely.prepare(inside)
    on_outline = {frozenset(pair) for ring in area.rings for pair in pairwise(ring)}
    links = []
    for i, a in enumerate(meeting):
        for b in meeting[i + 1:]:
            if frozenset((a, b)) in on_outline:
                continue
            segment = shapely.LineString([(data.lon[a], data.lat[a]), (data.lon[b], data.lat[b])])
            if inside.covers(segment):
                links.append((a, b))
    return links


def _classify_ways(data: _OsmData) -> tuple[list[_Way], list[_Way], list[_Way], dict[str, Any]]:
    """Apply the walking rule to every way and multipolygon: lines, areas, sidewalk=separate roads, counts."""
    lines: list[_Way] = []
    areas: list[_Way] = []
    roads: list[_Way] = []
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}
    beyond: dict[str, int] = {}
    osmnx_only: dict[str, int] = {}
    counts: dict[str, Any] = {"ways_walkable": 0, "multipolygons_walkable": 0, "ways_osmnx_walk": 0, "ways_repaired": 0,
              "ways_unusable": 0, "node_refs_missing": 0}
    polygons: list[tuple[int, Any, dict[str, str]]] = list(data.polygons)
    if data.relations:
        way_refs = {way_id: refs for way_id, refs, _ in data.ways}
        for rel_id, members, tags in data.relations:
            polygons.append((rel_id, _multipolygon(members, way_refs, data), tags))

    def tally(verdict: str, reason: str, tags: dict[str, str], *, way: bool = True) -> None:
        osmnx = way and in_osmnx_walk(tags)  # osmnx's walk network never holds relations
        counts["ways_osmnx_walk"] += osmnx
        label = f"{'' if way else 'multipolygon '}highway={tags.get('highway')} {reason}"
        if verdict == "drop":
            dropped[reason] = dropped.get(reason, 0) + 1
            if osmnx:
                osmnx_only[label] = osmnx_only.get(label, 0) + 1
        else:
            kept[reason] = kept.get(reason, 0) + 1
            if not osmnx:
                beyond[label] = beyond.get(label, 0) + 1

    for way_id, refs, tags in data.ways:
        if "highway" not in tags:
            continue
        closed = len(refs) >= 4 and refs[0] == refs[-1]
        verdict, reason = walk_rule(tags, closed=closed)
        tally(verdict, reason, tags)
        if verdict == "drop":
            continue
        counts["ways_walkable"] += 1
        missing = sum(1 for n in refs if n not in data.lon)
        if missing:
            counts["node_refs_missing"] += missing
            pieces = _split_at_missing(refs, data.lon)
        else:
            nodes = [n for n, _ in groupby(refs)]
            pieces = [nodes] if len(nodes) >= 2 else []
        if not pieces:
            counts["ways_unusable"] += 1
            continue
        if missing:
            counts["ways_repaired"] += 1
        way = _Way(way_id, pieces, tags)
        if verdict == "area" and not missing and len(pieces[0]) >= 4:
            polygon = _polygonal(shapely.Polygon([(data.lon[n], data.lat[n]) for n in pieces[0]]))
            if polygon is not None:
                way.rings, way.polygon = [pieces[0]], polygon
                areas.append(way)
                continue
        (roads if verdict == "sidewalk_separate" else lines).append(way)
    lookup = {(data.lon[n], data.lat[n]): n for way in lines + areas + roads for piece in way.pieces for n in piece}
    if data.relations:
        for _way_id, refs, _ in data.ways:
            lookup.update({(data.lon[n], data.lat[n]): n for n in refs if n in data.lon})
    for rel_id, polygon, tags in polygons:
        verdict, reason = walk_rule({**tags, "area": tags.get("area", "yes")})
        tally(verdict, reason, tags, way=False)
        if verdict == "drop":
            continue
        counts["multipolygons_walkable"] += 1
        if polygon is None:
            counts["ways_unusable"] += 1
            continue
        rings = _polygon_rings(polygon, lookup, data)
        areas.append(_Way(rel_id, rings, tags, rings=rings, polygon=polygon))
    counts["walk_rule"] = {"kept": dict(sorted(kept.items())), "dropped": dict(sorted(dropped.items()))}
    counts["kept_beyond_osmnx_walk"] = dict(sorted(beyond.items()))
    counts["dropped_from_osmnx_walk"] = dict(sorted(osmnx_only.items()))
    return lines, areas, roads, counts


def _graph_from_osm_data(data: _OsmData, *, name: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Build the unsimplified, unprojected osmnx-style walk graph and the way counts."""
    import osmnx as ox

    _check_node_coordinates(data, name=name)
    keep_tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS, "area"]))
    graph = nx.MultiDiGraph(crs="epsg:4326", created_with=f"ordos_geo / OSMnx {ox.__version__}", name=name)
    lines, areas, roads, counts = _classify_ways(data)
    alongside = _sidewalks_alongside(roads, lines, data)
    counts["walk_rule"]["dropped"]["sidewalk_separate_alongside"] = sum(alongside)
    counts["walk_rule"]["kept"]["sidewalk_separate"] = len(roads) - sum(alongside)
    counts["ways_walkable"] -= sum(alongside)
    lines = lines + [road for road, has in zip(roads, alongside, strict=True) if not has]
    members: dict[int, int] = {}
    for way in lines + areas:
        for node in {n for piece in way.pieces for n in piece}:
            members[node] = members.get(node, 0) + 1

    def add(nodes: list[int], attrs: dict[str, Any], *, both: bool = True) -> None:
        for node in nodes:
            if node not in graph:
                graph.add_node(node, y=data.lat[node], x=data.lon[node], **data.node_tags.get(node, {}))
        pairs = list(pairwise(nodes))
        graph.add_edges_from(pairs, **attrs, reversed=False)
        if both:
            graph.add_edges_from([(v, u) for u, v in pairs], **attrs, reversed=True)

    for way in tqdm(lines, desc=f"{name}: walkable ways", unit="way", disable=None, leave=False):
        one_way, reverse = _pedestrian_direction(way.tags)
        attrs = {"osmid": way.osm_id, **{k: way.tags[k] for k in keep_tags if k in way.tags}, "oneway": one_way}
        for piece in way.pieces:
            add(piece[::-1] if reverse else piece, attrs, both=not one_way)
    links = 0
    for area in areas:
        attrs = {"osmid": area.osm_id, **{k: area.tags[k] for k in keep_tags if k in area.tags}, "area": "yes",
                 "oneway": False}
        for ring in area.rings:
            add(ring, attrs)
        meeting = [n for n in dict.fromkeys(n for ring in area.rings for n in ring) if members.get(n, 0) >= 2]
        for a, b in _area_links(area, meeting, data):
            add([a, b], {**attrs, "area_link": True})
            links += 1
    counts.update(ways_total=len(data.ways), multipolygons_total=len(data.polygons) + len(data.relations),
                  pedestrian_areas=len(areas), pedestrian_area_links=links)
    return graph, counts


def clean_walk_graph(
    graph: nx.MultiDiGraph, *, simplify: bool = True, report: dict[str, Any] | None = None
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Keep the largest weakly connected component, add lengths, simplify.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Unprojected (EPSG:4326) osmnx-style graph. Not modified.
    simplify : bool
        Run ``osmnx.simplify_graph`` unless the graph says it is simplified.
    report : dict, optional
        Report to extend.

    Returns
    -------
    graph : networkx.MultiDiGraph
        The cleaned graph.
    report : dict
        ``report`` plus ``components_total``, ``components_dropped``,
        ``nodes_dropped``, ``edges_dropped`` (directed edges, before
        simplification), ``nodes_not_strongly_connected``, ``nodes`` and
        ``edges`` (after simplification).
    """
    import osmnx as ox

    report = dict(report or {})
    if graph.number_of_edges() == 0:
        msg = f"{report.get('source', 'walk network')}: no walkable edges; see the cleaning report {report}"
        raise NetworkDataError(msg)
    n_components = nx.number_weakly_connected_components(graph)
    largest = ox.truncate.largest_component(graph, strongly=False) if n_components > 1 else graph.copy()
    report.update(
        components_total=n_components,
        components_dropped=n_components - 1,
        nodes_dropped=graph.number_of_nodes() - largest.number_of_nodes(),
        edges_dropped=graph.number_of_edges() - largest.number_of_edges(),
    )
    if any("length" not in d for _, _, d in largest.edges(data=True)):
        if pyproj.CRS.from_user_input(largest.graph.get("crs", 4326)).is_geographic:
            largest = ox.distance.add_edge_lengths(largest)  # great-circle metres
        else:
            _add_projected_lengths(largest)  # planar metres in the graph's CRS
    if simplify and not largest.graph.get("simplified", False):
        largest = ox.simplify_graph(largest)
    strongly = max((len(c) for c in nx.strongly_connected_components(largest)), default=0)
    report.update(
        nodes_not_strongly_connected=largest.number_of_nodes() - strongly,
        nodes=largest.number_of_nodes(),
        edges=largest.number_of_edges(),
    )
    return largest, report


def graph_from_osm_file(path: str | os.PathLike[str], *, simplify: bool = True) -> tuple[nx.MultiDiGraph, dict]:
    """Read the walk graph of a raw OSM extract (XML or PBF), unprojected.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.xml`` or ``.osm.pbf`` file.
    simplify : bool
        Simplify topology with ``osmnx.simplify_graph``.

    Returns
    -------
    graph : networkx.MultiDiGraph
        osmnx-style graph in EPSG:4326, largest weakly connected component,
        edge ``length`` in metres.
    report : dict
        ``ways_total`` (all ways in the file), ``ways_walkable``,
        ``ways_repaired`` (clipped ways kept in pieces), ``ways_unusable``
        (walkable ways with fewer than two nodes present), ``node_refs_missing``,
        and the component counts of :func:`clean_walk_graph`.

    Raises
    ------
    NetworkDataError
        No walkable way in the file, or nothing left after repair.
    """
    file = check_input_file(path, what="walk network", suffixes=_XML_SUFFIXES + _PBF_SUFFIXES)
    data = _read_osm_pbf(file) if file.name.lower().endswith(_PBF_SUFFIXES) else _read_osm_xml(file)
    if not data.ways:
        msg = f"{file}: no OSM ways in this file; give an OSM extract with streets and footpaths of the study area"
        raise NetworkDataError(msg)
    graph, counts = _graph_from_osm_data(data, name=file.name)
    report: dict[str, Any] = {"source": str(file), **counts}
    if counts["ways_walkable"] == 0:
        msg = (
            f"{file}: none of its {counts['ways_total']} ways is walkable (walking rule: a `highway` tag that "
            "is not motorway/cycleway/construction..., not access=private or foot=no without foot=yes); "
            "the extract may hold only buildings or land use: export the streets and paths too"
        )
        raise NetworkDataError(msg)
    if graph.number_of_edges() == 0:
        msg = (
            f"{file}: its {counts['ways_walkable']} walkable ways have no two consecutive nodes inside the "
            "extract, so no street segment remains; export a larger area with complete ways"
        )
        raise NetworkDataError(msg)
    graph, report = clean_walk_graph(graph, simplify=simplify, report=report)
    logger.info(
        "%s: %s of %s ways walkable, %s clipped ways repaired, %s components dropped (%s nodes)",
        file.name, report["ways_walkable"], report["ways_total"], report["ways_repaired"],
        report["components_dropped"], report["nodes_dropped"],
    )
    return graph, report


def project_network(graph: nx.MultiDiGraph, *, crs: Any = None) -> nx.MultiDiGraph:
    """Project an osmnx-style graph to a metric CRS.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Graph with ``graph.graph["crs"]`` and node ``x``/``y``.
    crs : pyproj.CRS, str or int, optional
        Target CRS (metres). Default: :func:`ordos_geo._crs.metric_crs_for` over
        the nodes (CGCS2000 Gauss-Krüger zone in China, UTM elsewhere).

    Returns
    -------
    networkx.MultiDiGraph
        A projected copy (node ``x``/``y``, edge ``geometry`` in ``crs``;
        lengths unchanged). Returned as is if already in ``crs``.
    """
    import osmnx as ox

    source = pyproj.CRS.from_user_input(graph.graph.get("crs", 4326))
    if crs is None:
        if not source.is_geographic:
            return graph
        xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
        target = metric_crs_for(gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=source))
    else:
        target = _metric_crs(crs)
    if source == target:
        return graph
    projected = ox.project_graph(graph, to_crs=target)
    projected.graph["crs"] = target.to_string()
    return projected


def _metric_crs(crs: Any) -> pyproj.CRS:
    try:
        target = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as error:
        msg = f"crs={crs!r} is not a CRS pyproj understands; give an EPSG code such as 4546 or 32650"
        raise ConfigError(msg) from error
    unit = target.axis_info[0].unit_name if target.axis_info else ""
    if target.is_geographic or unit not in ("metre", "meter"):
        msg = f"crs={crs!r} is not a projected CRS in metres; give e.g. 4546 (CGCS2000 GK CM 111E) or a UTM zone"
        raise ConfigError(msg)
    return target


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
    """Load, clean and project a walk network, with a GraphML cache.

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
        Folder of the GraphML cache; ``None`` disables caching.
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

    if kind == "file":
        assert path is not None
        if path.name.lower().endswith(".graphml"):
            graph, report = _graph_from_graphml(path)
        else:
            graph, report = graph_from_osm_file(path)
    else:
        graph, report = _graph_online(source, kind=kind)
    projected = project_network(graph, crs=crs)
    report.update(crs=pyproj.CRS.from_user_input(projected.graph["crs"]).to_string(), input_sha256=digest)
    if any("length" not in d for _, _, d in projected.edges(data=True)):
        _add_projected_lengths(projected)
    network = walk_network_from_graph(projected, report=report)
    if cache_path is not None and report_path is not None:
        arrays = network_arrays(network)
        io.write_with(lambda tmp: _save_arrays(arrays, tmp), cache_path)
        # the checksum is checked on every read: a truncated or altered cache is rebuilt, never trusted
        io.write_json(report | {"cache_sha256": io.sha256_file(cache_path)}, report_path)
        network.report.update(cache="miss", cache_path=str(cache_path))
    else:
        network.report.update(cache="off", cache_path=None)
    return network


def _read_cache(cache_path: Path, report_path: Path) -> WalkNetwork | None:
    """The cached network if its checksum matches and it reads; else ``None`` (with a warning) to rebuild it."""
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
        expected = report.pop("cache_sha256", None)
        if expected != io.sha256_file(cache_path):
            msg = "its checksum does not match" if expected else "it has no checksum"
            raise ValueError(msg)
        logger.info("network: reading cached %s", cache_path)
        with np.load(cache_path, allow_pickle=False) as stored:
            network = walk_network_from_arrays(dict(stored), report=report)
    except Exception as error:  # a damaged cache of any kind is rebuilt from the source
        logger.warning("network: the cache %s is damaged (%s); rebuilding it from the source", cache_path.name, error)
        return None
    network.report.update(cache="hit", cache_path=str(cache_path))
    return network


def _add_projected_lengths(graph: nx.MultiDiGraph) -> None:
    for u, v, data in graph.edges(data=True):
        if "length" not in data:
            geometry = data.get("geometry")
            if geometry is None:
                a, b = graph.nodes[u], graph.nodes[v]
                data["length"] = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
            else:
                data["length"] = float(geometry.length)


def _graph_from_graphml(path: Path) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    import osmnx as ox

    try:
        graph = ox.load_graphml(path)
    except Exception as error:
        try:  # osmnx stops at the first value it cannot convert: name the node when it is a coordinate
            _check_graphml_coordinates(nx.read_graphml(path), path)
        except InputDataError as named:
            raise named from error
        except Exception:  # not even plain GraphML: the message below says so
            pass
        msg = f"{path}: cannot read this GraphML ({error}); save it with osmnx.save_graphml"
        raise InputDataError(msg) from error
    report: dict[str, Any] = {"source": str(path), "ways_total": None, "ways_walkable": None, "ways_repaired": 0,
                              "ways_unusable": 0, "node_refs_missing": 0}
    if graph.number_of_edges() == 0:
        msg = f"{path}: the saved graph has no edges; save a walk network with streets"
        raise NetworkDataError(msg)
    _check_graphml_coordinates(graph, path)
    try:
        crs = pyproj.CRS.from_user_input(graph.graph.get("crs", 4326))
    except pyproj.exceptions.CRSError as error:
        msg = (f"{path}: the graph's crs attribute {graph.graph.get('crs')!r} is not a CRS; "
               "set it to an EPSG code such as epsg:4326 before saving")
        raise InputDataError(msg) from error
    return clean_walk_graph(graph, simplify=crs.is_geographic, report=report)


def _check_graphml_coordinates(graph: nx.MultiDiGraph, path: Path) -> None:
    """Every node needs numeric, finite ``x`` and ``y``; say which node does not, in one line."""
    for node, data in graph.nodes(data=True):
        for axis in ("x", "y"):
            value = data.get(axis)
            try:
                finite = value is not None and math.isfinite(float(value))
            except (TypeError, ValueError):
                finite = False
            if not finite:
                msg = (f"{path}: node {node} has no usable {axis} coordinate ({value!r}); a walk network needs x/y "
                       "(longitude/latitude, or metres with the graph's crs) on every node: save it with "
                       "osmnx.save_graphml from an osmnx graph")
                raise InputDataError(msg)


def _graph_online(source: Any, *, kind: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    import osmnx as ox

    label = "polygon" if kind == "polygon" else str(source)
    if kind == "polygon":
        polygon = source
    else:
        try:
            polygon = ox.geocode_to_gdf(source).union_all()
        except (ox._errors.InsufficientResponseError, ValueError, TypeError) as error:
            msg = f"{label}: Nominatim does not know this place ({error}); check the place name"
            raise NetworkDataError(msg) from error
        except OSError as error:  # requests' ConnectionError and timeouts are OSErrors
            msg = (f"{label}: cannot reach OpenStreetMap (Overpass/Nominatim) ({error}); check the connection, "
                   "or give an extract file (.osm, .osm.pbf) instead")
            raise NetworkDataError(msg) from error
    try:
        graph, report = walk_graph_from_polygon(polygon, label=label)
    except OSError as error:  # requests' errors are OSErrors
        msg = (f"{label}: cannot get the walk network from Overpass {ox.settings.overpass_url} ({error}); check the "
               "connection, or give an extract file (.osm, .osm.pbf) instead")
        raise NetworkDataError(msg) from error
    return clean_walk_graph(graph, report=report)


def _data_from_overpass(responses: list[dict[str, Any]]) -> _OsmData:
    """Nodes, ways and multipolygon relations of Overpass JSON responses."""
    data = _OsmData()
    seen_ways: set[int] = set()
    seen_relations: set[int] = set()
    for response in responses:
        for element in response.get("elements", []):
            kind, osm_id, tags = element.get("type"), int(element["id"]), element.get("tags") or {}
            if kind == "node":
                data.lon[osm_id], data.lat[osm_id] = float(element["lon"]), float(element["lat"])
                useful = {k: v for k, v in tags.items() if k in ("highway", "junction", "railway", "ref")}
                if useful:
                    data.node_tags[osm_id] = useful
            elif kind == "way" and osm_id not in seen_ways:
                seen_ways.add(osm_id)
                data.ways.append((osm_id, [int(n) for n in element.get("nodes", [])], dict(tags)))
            elif kind == "relation" and osm_id not in seen_relations and tags.get("type") == "multipolygon":
                seen_relations.add(osm_id)
                members = [(int(m["ref"]), m.get("role") or "outer") for m in element.get("members", [])
                           if m.get("type") == "way"]
                data.relations.append((osm_id, members, dict(tags)))
    return data


def walk_graph_from_polygon(
    polygon: shapely.Polygon | shapely.MultiPolygon, *, label: str = "polygon"
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Download the walk network inside a polygon from Overpass, by the walking rule.

    Sends :func:`overpass_walk_query` through osmnx's Overpass client (so
    ``osmnx.settings``: server, timeout, pause, cache, apply) and builds the
    graph exactly as from a file (pedestrian areas, sidewalk check, one-way
    rule); nothing is cleaned or simplified yet.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        The area in WGS-84 (longitude, latitude).
    label : str
        Name of the area in messages.

    Returns
    -------
    graph : networkx.MultiDiGraph
        Unsimplified osmnx-style graph in EPSG:4326, all components, edge
        ``length`` in metres (great circle).
    report : dict
        The way counts of the walking rule (as :func:`graph_from_osm_file`).

    Raises
    ------
    NetworkDataError
        No walkable way there.
    requests.RequestException
        Overpass could not be reached or failed (the caller says what to do).

    Examples
    --------
    >>> import shapely
    >>> graph, report = walk_graph_from_polygon(shapely.box(109.77, 39.59, 109.80, 39.62))  # doctest: +SKIP
    """
    from collections import OrderedDict

    import osmnx as ox
    from osmnx import _overpass

    responses = [_overpass._overpass_request(OrderedDict(data=query)) for query in overpass_walk_query(polygon)]
    graph, counts = _graph_from_osm_data(_data_from_overpass(responses), name=label)
    if graph.number_of_edges() == 0:
        msg = f"{label}: OpenStreetMap has no walkable ways there; check the area or its boundary"
        raise NetworkDataError(msg)
    return ox.distance.add_edge_lengths(graph), {"source": f"overpass:{label}", **counts}


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A projected walk network in array form, with its osmnx-style graph on request.

    Attributes
    ----------
    crs : pyproj.CRS
        The metric CRS of every coordinate here.
    node_ids : numpy.ndarray
        Graph node id of each node index ``0..n-1``.
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates in ``crs``.
    edges : geopandas.GeoDataFrame
        One row per directed edge, positional index ``0..m-1``: ``u``, ``v``
        (node indices), ``key``, ``length`` (metres), ``highway`` and a
        ``geometry`` LineString oriented from ``u`` to ``v``.
    adjacency : scipy.sparse.csr_matrix
        ``(n, n)`` directed adjacency with the shortest parallel edge's length.
    report : dict
        What cleaning did (ways kept/dropped, components dropped, nodes dropped).
    graph_factory : callable, optional
        Builds the graph of :meth:`to_networkx` (the first time it is asked
        for); without one the graph is rebuilt from the arrays alone.
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    adjacency: scipy.sparse.csr_matrix
    report: dict = field(default_factory=dict)
    graph_factory: Callable[[], nx.MultiDiGraph] | None = field(default=None, repr=False)

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The osmnx-style graph (built once, on first use): see :meth:`to_networkx`."""
        if self.graph_factory is not None:
            return self.graph_factory()
        return _graph_from_edges(self)

    def to_networkx(self) -> nx.MultiDiGraph:
        """The network as an osmnx-compatible ``MultiDiGraph`` in :attr:`crs`.

        Nodes carry ``x``, ``y`` and their OSM attributes; edges carry ``length``
        (metres), ``osmid``, ``highway``, ... and, where curved, ``geometry``.
        A two-way street is two directed edges; a one-way footbridge is one.
        The graph is built on the first call and shared afterwards: copy it
        before changing it.

        Returns
        -------
        networkx.MultiDiGraph

        Examples
        --------
        >>> from ordos_geo import settings
        >>> net = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm")  # doctest: +SKIP
        >>> net.to_networkx().number_of_edges() == net.n_edges  # doctest: +SKIP
        True
        """
        return self.graph

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.edges)


def walk_network_from_graph(graph: nx.MultiDiGraph, *, report: dict | None = None) -> WalkNetwork:
    """Build the array form of a projected osmnx-style graph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Graph with ``graph.graph["crs"]`` a projected CRS, node ``x``/``y`` and
        edge ``length`` in metres. Edges without ``geometry`` are straight.
    report : dict, optional
        Cleaning report to attach.

    Returns
    -------
    WalkNetwork
    """
    if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
        msg = "walk network is empty: no walkable ways were found; check the extract covers the study area"
        raise NetworkDataError(msg)
    crs = pyproj.CRS.from_user_input(graph.graph.get("crs", 4326))
    if crs.is_geographic:
        msg = "walk network is in geographic degrees; project it first (ordos_geo.network.project_network)"
        raise NetworkDataError(msg)
    node_ids = np.fromiter(graph.nodes, dtype=np.int64, count=graph.number_of_nodes())
    position = {node: i for i, node in enumerate(node_ids.tolist())}
    node_xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
    rows = list(graph.edges(keys=True, data=True))
    u = np.array([position[r[0]] for r in rows], dtype=np.int64)
    v = np.array([position[r[1]] for r in rows], dtype=np.int64)
    length = np.array([float(r[3]["length"]) for r in rows], dtype=float)
    geoms = []
    for (_a, _b, _k, data), ui, vi in zip(rows, u, v, strict=True):
        geom = data.get("geometry")
        if geom is None:
            geom = shapely.LineString([node_xy[ui], node_xy[vi]])
        geoms.append(geom)
    highway = [r[3].get("highway") for r in rows]
    highway = [h[0] if isinstance(h, list) else h for h in highway]
    edges = gpd.GeoDataFrame(
        {"u": u, "v": v, "key": [r[2] for r in rows], "length": length, "highway": highway},
        geometry=geoms,
        crs=crs,
    )
    n = len(node_ids)
    logger.info("network: %s nodes, %s directed edges", f"{n:,}", f"{len(edges):,}")
    return WalkNetwork(
        graph_factory=partial(_same, graph),
        crs=crs,
        node_ids=node_ids,
        node_xy=node_xy,
        edges=edges,
        adjacency=_adjacency(u, v, length, n),
        report=dict(report or {}),
    )


def _adjacency(u: np.ndarray, v: np.ndarray, length: np.ndarray, n: int) -> scipy.sparse.csr_matrix:
    """``(n, n)`` directed adjacency holding the shortest of parallel edges."""
    # Sort by length descending so the last write (the minimum) wins when duplicates are summed away below.
    order = np.lexsort((-length, v, u))
    uu, vv, ll = u[order], v[order], length[order]
    last = np.ones(len(uu), dtype=bool)
    last[:-1] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
    # Zero-length edges would vanish from a sparse matrix; keep them as a tiny positive length.
    weights = np.maximum(ll[last], 1e-9)
    return scipy.sparse.csr_matrix((weights, (uu[last], vv[last])), shape=(n, n))


def subnetwork(network: WalkNetwork, edges: np.ndarray) -> WalkNetwork:
    """The network restricted to some of its edges, with the nodes they use.

    Nodes and edges keep their relative order, so ties (equally near
    segments, equally long paths) are broken as in the whole network.

    Parameters
    ----------
    network : WalkNetwork
    edges : numpy.ndarray
        Positions of the edges to keep (any order, repeats allowed).

    Returns
    -------
    WalkNetwork
        Same CRS; ``graph`` is an independent copy of the kept part; ``report``
        adds ``subnetwork_of`` (the whole network's node and edge counts).

    Examples
    --------
    >>> net = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm")  # doctest: +SKIP
    >>> subnetwork(net, np.arange(10)).n_edges  # doctest: +SKIP
    10
    """
    keep = np.unique(np.asarray(edges, dtype=np.int64))
    if len(keep) == 0:
        msg = "subnetwork: no edges to keep; the part of the study area has no walkable street"
        raise NetworkDataError(msg)
    part = network.edges.iloc[keep]
    old_u, old_v = part["u"].to_numpy(dtype=np.int64), part["v"].to_numpy(dtype=np.int64)
    nodes = np.unique(np.concatenate([old_u, old_v]))
    new_of = np.full(network.n_nodes, -1, dtype=np.int64)
    new_of[nodes] = np.arange(len(nodes))
    u, v = new_of[old_u], new_of[old_v]
    frame = part.assign(u=u, v=v).reset_index(drop=True)
    ids = network.node_ids
    edge_keys = list(zip(ids[old_u].tolist(), ids[old_v].tolist(), part["key"].tolist(), strict=True))
    report = {**network.report, "subnetwork_of": {"nodes": network.n_nodes, "edges": network.n_edges}}
    return WalkNetwork(
        graph_factory=partial(_edge_subgraph, network, edge_keys),
        crs=network.crs,
        node_ids=ids[nodes],
        node_xy=network.node_xy[nodes],
        edges=gpd.GeoDataFrame(frame, geometry=frame.geometry.name, crs=network.crs),
        adjacency=_adjacency(u, v, frame["length"].to_numpy(dtype=float), len(nodes)),
        report=report,
    )


def _same(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    return graph


def _edge_subgraph(network: WalkNetwork, edge_keys: list[tuple[int, int, Any]]) -> nx.MultiDiGraph:
    return network.graph.edge_subgraph(edge_keys).copy()


def _graph_from_edges(network: WalkNetwork) -> nx.MultiDiGraph:
    """A graph from the arrays alone (no OSM attributes): nodes ``x``/``y``, edges ``length``/``highway``/geometry."""
    graph = nx.MultiDiGraph(crs=network.crs.to_string())
    graph.add_nodes_from(
        (node, {"x": x, "y": y}) for node, (x, y) in zip(network.node_ids.tolist(), network.node_xy.tolist(),
                                                       strict=True)
    )
    ids = network.node_ids
    frame = network.edges
    rows = zip(ids[frame["u"].to_numpy()].tolist(), ids[frame["v"].to_numpy()].tolist(), frame["key"].tolist(),
               frame["length"].tolist(), frame["highway"].tolist(), frame.geometry.to_numpy(), strict=True)
    graph.add_edges_from((u, v, key, {"length": length, "highway": highway, "geometry": geometry})
                         for u, v, key, length, highway, geometry in rows)
    return graph


# ---------------------------------------------------------------------------
# The array cache: one .npz per network, no GraphML on the way
# ---------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def _json_lines(records: list[dict[str, Any]]) -> np.ndarray:
    """JSON lines as one ``uint8`` array (npz keeps it without pickling)."""
    text = "\n".join(json.dumps(record, default=_json_default, ensure_ascii=False) for record in records)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _from_json_lines(data: np.ndarray, count: int) -> list[dict[str, Any]]:
    if count == 0:
        return []
    lines = data.tobytes().decode("utf-8").split("\n")
    if len(lines) != count:
        msg = f"{len(lines)} attribute records for {count} elements"
        raise ValueError(msg)
    return [json.loads(line) for line in lines]


def network_arrays(network: WalkNetwork) -> dict[str, np.ndarray]:
    """Everything in a :class:`WalkNetwork` as plain numpy arrays (what the cache stores).

    Parameters
    ----------
    network : WalkNetwork

    Returns
    -------
    dict of str to numpy.ndarray
        ``node_ids``, ``node_xy``, ``u``, ``v``, ``key``, ``length``,
        ``highway_codes`` / ``highway_names`` (``-1``: none), the edge
        geometries as ``coords`` / ``offsets`` (:func:`shapely.to_ragged_array`),
        ``has_geometry`` (which edges had a curved geometry in the graph),
        the graph, node and edge attributes as JSON (``graph_attrs``,
        ``node_attrs``, ``edge_attrs``), ``crs`` (WKT) and ``format``.

    Examples
    --------
    >>> net = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm")  # doctest: +SKIP
    >>> walk_network_from_arrays(network_arrays(net)).n_edges == net.n_edges  # doctest: +SKIP
    True
    """
    graph = network.graph
    edges = network.edges
    highway = edges["highway"].to_numpy(dtype=object)
    present = np.array([h is not None and h == h for h in highway], dtype=bool)
    names, codes = np.unique(highway[present].astype(str), return_inverse=True)
    highway_codes = np.full(len(edges), -1, dtype=np.int32)
    highway_codes[present] = codes
    geometry_type, coords, offsets = shapely.to_ragged_array(edges.geometry.to_numpy())
    if geometry_type != shapely.GeometryType.LINESTRING:
        msg = f"network edges are {geometry_type.name}, not LineStrings"
        raise NetworkDataError(msg)
    edge_data = [data for _, _, data in graph.edges(data=True)]
    node_data = [{k: v for k, v in data.items() if k not in ("x", "y")} for _, data in graph.nodes(data=True)]
    return {
        "format": np.array(CACHE_FORMAT_VERSION),
        "crs": np.array(network.crs.to_wkt()),
        "node_ids": network.node_ids.astype(np.int64),
        "node_xy": network.node_xy.astype(float),
        "u": edges["u"].to_numpy(dtype=np.int64),
        "v": edges["v"].to_numpy(dtype=np.int64),
        "key": edges["key"].to_numpy(dtype=np.int64),
        "length": edges["length"].to_numpy(dtype=float),
        "highway_codes": highway_codes,
        "highway_names": names.astype(str),
        "coords": coords,
        "offsets": offsets[0],
        "has_geometry": np.array([data.get("geometry") is not None for data in edge_data], dtype=bool),
        "graph_attrs": _json_lines([graph.graph]),
        "node_attrs": _json_lines(node_data),
        "edge_attrs": _json_lines([{k: v for k, v in d.items() if k != "geometry"} for d in edge_data]),
    }


def _save_arrays(arrays: dict[str, np.ndarray], path: Path) -> None:
    save: Callable[..., None] = np.savez  # numpy's stub types **arrays as its allow_pickle flag
    with path.open("wb") as file:
        save(file, **arrays)


def walk_network_from_arrays(arrays: dict[str, np.ndarray], *, report: dict | None = None) -> WalkNetwork:
    """Rebuild a :class:`WalkNetwork` from :func:`network_arrays` without building a graph.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        As returned by :func:`network_arrays` (or read from a cache ``.npz``).
    report : dict, optional
        Cleaning report to attach.

    Returns
    -------
    WalkNetwork
        Equal arrays and edge table; :meth:`WalkNetwork.to_networkx` rebuilds
        the same graph, attributes included, when asked.
    """
    if int(arrays["format"]) != CACHE_FORMAT_VERSION:
        msg = f"array format {int(arrays['format'])}, expected {CACHE_FORMAT_VERSION}"
        raise ValueError(msg)
    crs = pyproj.CRS.from_wkt(str(arrays["crs"]))
    u, v, length = arrays["u"], arrays["v"], arrays["length"]
    geoms = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, arrays["coords"], (arrays["offsets"],))
    codes = arrays["highway_codes"]
    names = arrays["highway_names"].astype(object)
    highway = np.full(len(codes), None, dtype=object)
    highway[codes >= 0] = names[codes[codes >= 0]]
    edges = gpd.GeoDataFrame(
        {"u": u, "v": v, "key": arrays["key"], "length": length, "highway": highway}, geometry=geoms, crs=crs
    )
    n = len(arrays["node_ids"])
    network = WalkNetwork(
        crs=crs,
        node_ids=arrays["node_ids"],
        node_xy=arrays["node_xy"],
        edges=edges,
        adjacency=_adjacency(u, v, length, n),
        report=dict(report or {}),
        graph_factory=partial(_graph_from_arrays, arrays, geoms),
    )
    logger.info("network: %s nodes, %s directed edges (from arrays)", f"{n:,}", f"{len(edges):,}")
    return network


def _graph_from_arrays(arrays: dict[str, np.ndarray], geoms: np.ndarray) -> nx.MultiDiGraph:
    """The osmnx-style graph the arrays were taken from: same nodes, edges, keys and attributes, same order."""
    node_ids = arrays["node_ids"]
    graph = nx.MultiDiGraph(**_from_json_lines(arrays["graph_attrs"], 1)[0])
    node_data = _from_json_lines(arrays["node_attrs"], len(node_ids))
    for node, (x, y), data in zip(node_ids.tolist(), arrays["node_xy"].tolist(), node_data, strict=True):
        graph.add_node(node, **data, x=x, y=y)
    edge_data = _from_json_lines(arrays["edge_attrs"], len(arrays["u"]))
    u, v = node_ids[arrays["u"]].tolist(), node_ids[arrays["v"]].tolist()
    for i, (a, b, key, data) in enumerate(zip(u, v, arrays["key"].tolist(), edge_data, strict=True)):
        if arrays["has_geometry"][i]:
            data["geometry"] = geoms[i]
        graph.add_edge(a, b, key=key, **data)
    return graph

