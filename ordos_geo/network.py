"""Walk networks: load, clean, project, cache, and an array form for fast paths.

The stage exchanges a :class:`WalkNetwork`: the projected osmnx-style
``MultiDiGraph`` plus the arrays the compiled shortest-path engine needs.

:func:`load_walk_network` reads a raw OSM extract (``.osm``, ``.osm.bz2``,
``.osm.gz``, ``.osm.pbf``), a saved ``.graphml``, or downloads through osmnx (a
WGS-84 polygon or a place name), then

1. keeps the **walkable ways** only, by osmnx's own ``walk`` definition
   (``osmnx._overpass._get_network_filter("walk")``, evaluated here tag by tag
   on the file's ways, so a file gives the same network Overpass would);
2. **repairs clipped ways**: an extract cut at a bounding box keeps ways whose
   node references point outside it; those references are dropped and each
   remaining run of consecutive nodes (at least two) is kept as its own piece;
3. keeps the **largest weakly connected component**, as osmnx does
   (``retain_all=False``), and reports what it dropped;
4. **simplifies** the topology with ``osmnx.simplify_graph`` (edge ``length``
   in metres, great-circle, summed along merged segments);
5. **projects** to a metric CRS (:func:`ordos_geo._crs.metric_crs_for`: a
   CGCS2000 3-degree Gauss-Krüger zone in China, the UTM zone elsewhere);
6. **caches** the projected graph as GraphML in ``data/processed/networks/``,
   keyed by the SHA-256 of the input bytes and the options.

Walking direction: as in osmnx's ``walk`` network every way is walkable both
ways, except where pedestrians are explicitly one-way (``oneway:foot=yes`` or
``oneway=yes`` on a foot-only way: footway, path, pedestrian, steps, corridor);
those become a single directed edge. The largest component is therefore the
largest *weakly* connected one (as osmnx); the report counts the nodes outside
its largest strongly connected part (``nodes_not_strongly_connected``).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import logging
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse
import shapely
from tqdm.auto import tqdm

from ordos_geo import settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, InputDataError, MissingDependencyError, NetworkDataError
from ordos_geo._validate import check_input_file

__all__ = [
    "NETWORK_SUFFIXES",
    "WALK_DEFINITION_VERSION",
    "WalkNetwork",
    "clean_walk_graph",
    "graph_from_osm_file",
    "is_walkable",
    "load_walk_network",
    "project_network",
    "walk_network_from_graph",
]

logger = logging.getLogger(__name__)

#: File endings :func:`load_walk_network` reads.
NETWORK_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.pbf", ".pbf", ".graphml")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")

#: Version of the walk definition and cleaning rules; part of the cache key, so
#: bump it whenever the rules below change.
WALK_DEFINITION_VERSION = "1"

#: osmnx 2.1's ``walk`` Overpass filter, used if osmnx's private helper moves.
_OSMNX_WALK_FILTER_FALLBACK = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
    'platform|proposed|raceway|razed|rest_area|services"]'
    '["foot"!~"no"]["service"!~"private"]'
    '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
    '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
)
_FILTER_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~)"(?P<value>[^"]*)")?\]')

#: Highways only pedestrians (and maybe cyclists) use: ``oneway=*`` binds walkers there.
_FOOT_ONLY_HIGHWAYS = frozenset({"footway", "path", "pedestrian", "steps", "corridor"})
_YES = frozenset({"yes", "true", "1"})
_NO = frozenset({"no", "false", "0"})
_REVERSE = frozenset({"-1", "reverse"})

#: OSM way tags kept as edge attributes (osmnx's list plus the foot-related ones).
_EXTRA_WAY_TAGS = ("foot", "footway", "sidewalk", "surface", "lit", "oneway:foot")


def _walk_filter_text() -> str:
    try:
        from osmnx._overpass import _get_network_filter

        return _get_network_filter("walk")
    except (ImportError, AttributeError, ValueError):  # pragma: no cover - osmnx moved its helper
        return _OSMNX_WALK_FILTER_FALLBACK


def _walk_filter_rules() -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    text = _walk_filter_text()
    rules = []
    for match in _FILTER_CLAUSE.finditer(text):
        value = match["value"]
        rules.append((match["key"], match["op"], re.compile(value) if value is not None else None))
    if not rules:  # pragma: no cover - defensive
        msg = f"cannot parse osmnx's walk filter {text!r}"
        raise RuntimeError(msg)
    return rules


_WALK_RULES = _walk_filter_rules()


def is_walkable(tags: dict[str, str]) -> bool:
    """Whether an OSM way with these tags belongs to osmnx's ``walk`` network.

    Evaluates osmnx's Overpass filter for ``network_type="walk"`` clause by
    clause, with Overpass semantics: ``["k"]`` needs the key; ``["k"!~"re"]``
    passes when the key is absent or its value does not contain a match of the
    (unanchored, case-sensitive) regular expression.

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "footway"}), is_walkable({"highway": "motorway"})
    (True, False)
    >>> is_walkable({"building": "yes"}), is_walkable({"highway": "service", "access": "private"})
    (False, False)
    """
    for key, op, pattern in _WALK_RULES:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "~":
            if value is None or not pattern.search(value):  # type: ignore[union-attr]
                return False
        elif value is not None and pattern.search(value):  # type: ignore[union-attr]
            return False
    return True


def _pedestrian_direction(tags: dict[str, str]) -> tuple[bool, bool]:
    """Return ``(one_way, reversed)`` for walkers on a way with these tags."""
    foot = tags.get("oneway:foot")
    if foot is not None:
        if foot in _YES:
            return True, False
        if foot in _REVERSE:
            return True, True
        return False, False
    if tags.get("highway") in _FOOT_ONLY_HIGHWAYS:
        oneway = tags.get("oneway")
        if oneway in _YES:
            return True, False
        if oneway in _REVERSE:
            return True, True
    return False, False


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


def _open_xml(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
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
                        node_id = int(element.get("id"))  # type: ignore[arg-type]
                        data.lon[node_id] = float(element.get("lon"))  # type: ignore[arg-type]
                        data.lat[node_id] = float(element.get("lat"))  # type: ignore[arg-type]
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        useful = {k: v for k, v in tags.items() if k in useful_node_tags}
                        if useful:
                            data.node_tags[node_id] = useful  # type: ignore[assignment]
                    element.clear()
                elif kind == "way":
                    if element.get("action") != "delete":
                        refs = [int(nd.get("ref")) for nd in element.iter("nd")]  # type: ignore[arg-type]
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        data.ways.append((int(element.get("id")), refs, tags))  # type: ignore[arg-type]
                    element.clear()
                elif kind == "relation":
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


def _import_pyrosm():
    try:
        import pyrosm
    except ImportError as error:  # pragma: no cover - pyrosm is a dependency
        msg = "reading .osm.pbf files needs pyrosm: pip install 'pyrosm>=0.25'"
        raise MissingDependencyError(msg) from error
    return pyrosm


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
    pyrosm = _import_pyrosm()
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


def _graph_from_osm_data(data: _OsmData, *, name: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Build the unsimplified, unprojected osmnx-style walk graph and the way counts."""
    import osmnx as ox

    keep_tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS]))
    graph = nx.MultiDiGraph(crs="epsg:4326", created_with=f"ordos_geo / OSMnx {ox.__version__}", name=name)
    ways_walkable = ways_repaired = ways_unusable = refs_missing = 0
    for way_id, refs, tags in tqdm(data.ways, desc=f"{name}: walkable ways", unit="way", disable=None, leave=False):
        if not is_walkable(tags):
            continue
        ways_walkable += 1
        missing = sum(1 for n in refs if n not in data.lon)
        if missing:
            refs_missing += missing
            pieces = _split_at_missing(refs, data.lon)
        else:
            nodes = [n for n, _ in groupby(refs)]
            pieces = [nodes] if len(nodes) >= 2 else []
        if not pieces:
            ways_unusable += 1
            continue
        if missing:
            ways_repaired += 1
        one_way, reverse = _pedestrian_direction(tags)
        attrs = {"osmid": way_id, **{k: tags[k] for k in keep_tags if k in tags}, "oneway": one_way}
        for piece in pieces:
            nodes = piece[::-1] if reverse else piece
            for node in nodes:
                if node not in graph:
                    graph.add_node(node, y=data.lat[node], x=data.lon[node], **data.node_tags.get(node, {}))
            pairs = list(pairwise(nodes))
            graph.add_edges_from(pairs, **attrs, reversed=False)
            if not one_way:
                graph.add_edges_from([(v, u) for u, v in pairs], **attrs, reversed=True)
    counts = {
        "ways_total": len(data.ways),
        "ways_walkable": ways_walkable,
        "ways_repaired": ways_repaired,
        "ways_unusable": ways_unusable,
        "node_refs_missing": refs_missing,
    }
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
            f"{file}: none of its {counts['ways_total']} ways is walkable (osmnx walk definition: a `highway` "
            "tag that is not motorway/cycleway/construction..., not access=private, foot=no or area=yes); "
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


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_key(content_digest: str, crs: Any) -> str:
    options = {
        "content": content_digest,
        "crs": None if crs is None else _metric_crs(crs).to_string(),
        "walk_definition": WALK_DEFINITION_VERSION,
        "walk_filter": _walk_filter_text(),
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
        latitude) or a place name for ``osmnx.graph_from_polygon`` /
        ``osmnx.graph_from_place`` with ``network_type="walk"``.
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
    import osmnx as ox

    kind, label, path = _source_label(source)
    if path is not None:
        path = check_input_file(path, what="walk network", suffixes=NETWORK_SUFFIXES)
        digest = _sha256_file(path)
    elif kind == "polygon":
        digest = hashlib.sha256(shapely.to_wkb(source, hex=False)).hexdigest()
    else:
        digest = hashlib.sha256(f"place:{source}".encode()).hexdigest()
    key = _cache_key(digest, crs)
    cache_path = report_path = None
    if cache_dir is not None:
        stem = _safe_name(name or _strip_suffixes(label))
        cache_path = Path(cache_dir) / f"{stem}-{key[:16]}.graphml"
        report_path = cache_path.with_suffix(".report.json")
        if use_cache and cache_path.is_file() and report_path.is_file():
            logger.info("network: reading cached %s", cache_path)
            graph = ox.load_graphml(cache_path)
            report = json.loads(report_path.read_text(encoding="utf-8"))
            report.update(cache="hit", cache_path=str(cache_path))
            return walk_network_from_graph(graph, report=report)

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
        from ordos_geo import io

        io.write_graphml(projected, cache_path)
        io.write_json(report, report_path)
        network.report.update(cache="miss", cache_path=str(cache_path))
    else:
        network.report.update(cache="off", cache_path=None)
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
        msg = f"{path}: cannot read this GraphML ({error}); save it with osmnx.save_graphml"
        raise InputDataError(msg) from error
    report: dict[str, Any] = {"source": str(path), "ways_total": None, "ways_walkable": None, "ways_repaired": 0,
                              "ways_unusable": 0, "node_refs_missing": 0}
    if graph.number_of_edges() == 0:
        msg = f"{path}: the saved graph has no edges; save a walk network with streets"
        raise NetworkDataError(msg)
    crs = pyproj.CRS.from_user_input(graph.graph.get("crs", 4326))
    return clean_walk_graph(graph, simplify=crs.is_geographic, report=report)


def _graph_online(source: Any, *, kind: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    import osmnx as ox

    label = "polygon" if kind == "polygon" else str(source)
    try:
        if kind == "polygon":
            graph = ox.graph_from_polygon(source, network_type="walk", retain_all=True, simplify=False)
        else:
            graph = ox.graph_from_place(source, network_type="walk", retain_all=True, simplify=False)
    except (ox._errors.InsufficientResponseError, ValueError, TypeError) as error:
        msg = f"{label}: OpenStreetMap returned no walkable ways ({error}); check the area or place name"
        raise NetworkDataError(msg) from error
    except OSError as error:  # requests' ConnectionError and timeouts are OSErrors
        msg = (f"{label}: cannot reach OpenStreetMap (Overpass/Nominatim) ({error}); check the connection, or "
               "give an extract file (.osm, .osm.pbf) instead")
        raise NetworkDataError(msg) from error
    report: dict[str, Any] = {"source": f"osmnx:{label}", "ways_total": None, "ways_walkable": None,
                              "ways_repaired": 0, "ways_unusable": 0, "node_refs_missing": 0}
    return clean_walk_graph(graph, report=report)



@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """A projected walk network and its array form.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        osmnx-style graph in a metric CRS (``graph.graph["crs"]``): nodes carry
        ``x``, ``y``; edges carry ``length`` (metres) and, where curved,
        ``geometry``. A two-way street is two directed edges; a one-way
        footbridge is one.
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
    """

    graph: nx.MultiDiGraph
    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    adjacency: scipy.sparse.csr_matrix
    report: dict = field(default_factory=dict)

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
    # Keep the shortest of parallel edges: sort by length descending so the
    # last write (the minimum) wins when duplicates are summed away below.
    order = np.lexsort((-length, v, u))
    uu, vv, ll = u[order], v[order], length[order]
    last = np.ones(len(uu), dtype=bool)
    last[:-1] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
    # Zero-length edges would vanish from a sparse matrix; keep them as a tiny positive length.
    weights = np.maximum(ll[last], 1e-9)
    adjacency = scipy.sparse.csr_matrix((weights, (uu[last], vv[last])), shape=(n, n))
    logger.info("network: %s nodes, %s directed edges", f"{n:,}", f"{len(edges):,}")
    return WalkNetwork(
        graph=graph,
        crs=crs,
        node_ids=node_ids,
        node_xy=node_xy,
        edges=edges,
        adjacency=adjacency,
        report=dict(report or {}),
    )
