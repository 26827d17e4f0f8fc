"""The walk graph: clean (largest component, lengths, simplify), project, read GraphML, download."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import shapely

from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import InputDataError, NetworkDataError
from ordos_geo._validate import check_input_file
from ordos_geo.network._build import _graph_from_segments, _metric_crs, _no_edges, _segments_from_osm_data
from ordos_geo.network._osm import (
    _PBF_SUFFIXES,
    _XML_SUFFIXES,
    _data_from_overpass,
    _OsmData,
    _read_osm_file,
)
from ordos_geo.network.rules import overpass_walk_query

logger = logging.getLogger(__name__)


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

    Examples
    --------
    >>> g = nx.MultiDiGraph(nx.path_graph(4), crs="EPSG:4326")  # a street of 4 nodes, both ways
    >>> nx.set_node_attributes(g, {i: {"x": 109.78 + 0.001 * i, "y": 39.6} for i in g})
    >>> g.add_node(9, x=109.9, y=39.7)  # an island
    >>> clean, report = clean_walk_graph(g)
    >>> clean.number_of_nodes(), report["components_dropped"], report["nodes_dropped"]
    (2, 1, 1)
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

    Examples
    --------
    >>> import tempfile
    >>> osm = Path(tempfile.mkdtemp()) / "street.osm"
    >>> nodes = '<node id="1" lat="39.60" lon="109.78"/><node id="2" lat="39.60" lon="109.79"/>'
    >>> way = '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
    >>> _ = osm.write_text(f'<osm version="0.6">{nodes}{way}</osm>')
    >>> graph, report = graph_from_osm_file(osm)
    >>> graph.number_of_edges(), report["ways_walkable"], graph.graph["crs"]
    (2, 1, 'epsg:4326')
    """
    file = check_input_file(path, what="walk network", suffixes=_XML_SUFFIXES + _PBF_SUFFIXES)
    segments, counts = _segments_from_osm_data(_read_osm_file(file), name=file.name)
    if counts["ways_walkable"] == 0 or len(segments.u) == 0:
        _no_edges(counts, str(file))
    return clean_walk_graph(_graph_from_segments(segments), simplify=simplify, report={"source": str(file), **counts})


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

    Examples
    --------
    >>> g = nx.MultiDiGraph(nx.path_graph(2), crs="EPSG:4326")
    >>> nx.set_node_attributes(g, {0: {"x": 109.78, "y": 39.6}, 1: {"x": 109.79, "y": 39.6}})
    >>> project_network(g).graph["crs"]  # CGCS2000 / 3-degree Gauss-Kruger CM 111E
    'EPSG:4546'
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
    report: dict[str, Any] = {
        "source": str(path),
        "ways_total": None,
        "ways_walkable": None,
        "ways_repaired": 0,
        "ways_unusable": 0,
        "node_refs_missing": 0,
    }
    if graph.number_of_edges() == 0:
        msg = f"{path}: the saved graph has no edges; save a walk network with streets"
        raise NetworkDataError(msg)
    _check_graphml_coordinates(graph, path)
    try:
        crs = pyproj.CRS.from_user_input(graph.graph.get("crs", 4326))
    except pyproj.exceptions.CRSError as error:
        msg = (
            f"{path}: the graph's crs attribute {graph.graph.get('crs')!r} is not a CRS; "
            "set it to an EPSG code such as epsg:4326 before saving"
        )
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
                msg = (
                    f"{path}: node {node} has no usable {axis} coordinate ({value!r}); a walk network needs x/y "
                    "(longitude/latitude, or metres with the graph's crs) on every node: save it with "
                    "osmnx.save_graphml from an osmnx graph"
                )
                raise InputDataError(msg)


def _online_data(source: Any, *, kind: str) -> tuple[_OsmData, str]:
    """The Overpass data of a polygon or geocoded place name, and its label; connection errors say what to do."""
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
            msg = (
                f"{label}: cannot reach OpenStreetMap (Overpass/Nominatim) ({error}); check the connection, "
                "or give an extract file (.osm, .osm.pbf) instead"
            )
            raise NetworkDataError(msg) from error
    try:
        return _overpass_data(polygon), label
    except OSError as error:  # requests' errors are OSErrors
        msg = (
            f"{label}: cannot get the walk network from Overpass {ox.settings.overpass_url} ({error}); check the "
            "connection, or give an extract file (.osm, .osm.pbf) instead"
        )
        raise NetworkDataError(msg) from error


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
    segments, counts = _segments_from_osm_data(_overpass_data(polygon), name=label)
    if len(segments.u) == 0:
        raise NetworkDataError(_no_walkable_ways_there(label))
    return _graph_from_segments(segments), {"source": f"overpass:{label}", **counts}


def _no_walkable_ways_there(label: str) -> str:
    return f"{label}: OpenStreetMap has no walkable ways there; check the area or its boundary"


def _overpass_data(polygon: shapely.Polygon | shapely.MultiPolygon) -> _OsmData:
    """The walkable ways inside ``polygon`` (by :func:`overpass_walk_query`), through osmnx's Overpass client."""
    from collections import OrderedDict

    from osmnx import _overpass

    responses = [_overpass._overpass_request(OrderedDict(data=query)) for query in overpass_walk_query(polygon)]
    return _data_from_overpass(responses)
