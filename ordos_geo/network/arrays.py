"""The array form of a walk network (:class:`WalkNetwork`), its sub-networks and its ``.npz`` cache."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse
import shapely

from ordos_geo._errors import NetworkDataError

logger = logging.getLogger(__name__)

#: Layout of the cached arrays (:func:`network_arrays`); part of the cache key.
CACHE_FORMAT_VERSION = 2


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
        for); without one the graph is rebuilt from the arrays.
    attributes : dict of str to numpy.ndarray, optional
        The OSM attributes as columns (see :func:`network_arrays`), from which
        :meth:`to_networkx` builds the graph; without them (nor a factory) the
        graph has only ``x``/``y``, ``length``, ``highway`` and geometries.
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    adjacency: scipy.sparse.csr_matrix
    report: dict = field(default_factory=dict)
    graph_factory: Callable[[], nx.MultiDiGraph] | None = field(default=None, repr=False)
    attributes: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The osmnx-style graph (built once, on first use): see :meth:`to_networkx`."""
        if self.graph_factory is not None:
            return self.graph_factory()
        if self.attributes is not None:
            return _graph_from_attributes(self, self.attributes)
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
        (node, {"x": x, "y": y})
        for node, (x, y) in zip(network.node_ids.tolist(), network.node_xy.tolist(), strict=True)
    )
    ids = network.node_ids
    frame = network.edges
    rows = zip(
        ids[frame["u"].to_numpy()].tolist(),
        ids[frame["v"].to_numpy()].tolist(),
        frame["key"].tolist(),
        frame["length"].tolist(),
        frame["highway"].tolist(),
        frame.geometry.to_numpy(),
        strict=True,
    )
    graph.add_edges_from(
        (u, v, key, {"length": length, "highway": highway, "geometry": geometry})
        for u, v, key, length, highway, geometry in rows
    )
    return graph


# ---------------------------------------------------------------------------
# OSM attributes as columns (no per-edge JSON)
# ---------------------------------------------------------------------------

#: Kinds of attribute values kept in the columns, by code (anything else is kept as its text).
_KIND_STR, _KIND_INT, _KIND_FLOAT, _KIND_BOOL, _KIND_NONE = range(5)


def _encode_item(value: Any) -> tuple[int, bytes]:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return _KIND_NONE, b""
    if isinstance(value, bool):
        return _KIND_BOOL, b"1" if value else b""
    if isinstance(value, int):
        return _KIND_INT, str(value).encode()
    if isinstance(value, float):
        return _KIND_FLOAT, repr(value).encode()
    return _KIND_STR, str(value).encode("utf-8")


def _decode_item(kind: int, text: bytes) -> Any:
    if kind == _KIND_INT:
        return int(text)
    if kind == _KIND_FLOAT:
        return float(text)
    if kind == _KIND_BOOL:
        return text == b"1"
    if kind == _KIND_NONE:
        return None
    return text.decode("utf-8")


def _encode_records(records: list[dict[str, Any]], prefix: str) -> dict[str, np.ndarray]:
    """Attribute dicts as columns: per key, each record's values (a list or one value) as ragged typed text.

    ``{prefix}_keys`` names the keys; key ``i`` has ``{prefix}_{i}_offsets`` (values of record ``r`` are
    items ``offsets[r]:offsets[r + 1]``), ``_list`` (the value is a list), ``_kind`` (type of each item)
    and ``_text`` / ``_text_offsets`` (the items as UTF-8).
    """
    columns: dict[str, tuple[list[int], list[int], list[bool], list[int], list[bytes]]] = {}
    for row, record in enumerate(records):
        for key, value in record.items():  # one pass; records without attributes cost nothing
            rows, sizes, is_list, kinds, texts = columns.setdefault(key, ([], [], [], [], []))
            items = value if isinstance(value, list) else [value]
            rows.append(row)
            sizes.append(len(items))
            is_list.append(isinstance(value, list))
            for item in items:
                kind, text = _encode_item(item)
                kinds.append(kind)
                texts.append(text)
    out: dict[str, np.ndarray] = {f"{prefix}_keys": np.array(list(columns), dtype=str)}
    for i, (rows, sizes, is_list, kinds, texts) in enumerate(columns.values()):
        counts = np.zeros(len(records), dtype=np.int64)
        counts[rows] = sizes
        listed = np.zeros(len(records), dtype=bool)
        listed[rows] = is_list
        out[f"{prefix}_{i}_offsets"] = np.concatenate([[0], np.cumsum(counts)])
        out[f"{prefix}_{i}_list"] = listed
        out[f"{prefix}_{i}_kind"] = np.array(kinds, dtype=np.int8)
        out[f"{prefix}_{i}_text_offsets"] = np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)])
        out[f"{prefix}_{i}_text"] = np.frombuffer(b"".join(texts), dtype=np.uint8)
    return out


def _decode_records(arrays: dict[str, np.ndarray], prefix: str, count: int) -> list[dict[str, Any]]:
    """The attribute dicts :func:`_encode_records` stored."""
    records: list[dict[str, Any]] = [{} for _ in range(count)]
    for i, key in enumerate(arrays[f"{prefix}_keys"].tolist()):
        offsets = arrays[f"{prefix}_{i}_offsets"].tolist()
        if len(offsets) != count + 1:
            msg = f"{len(offsets) - 1} {prefix} records for {count} elements"
            raise ValueError(msg)
        is_list = arrays[f"{prefix}_{i}_list"].tolist()
        blob = arrays[f"{prefix}_{i}_text"].tobytes()
        bounds = arrays[f"{prefix}_{i}_text_offsets"].tolist()
        values = [
            _decode_item(kind, blob[a:b])
            for kind, a, b in zip(arrays[f"{prefix}_{i}_kind"].tolist(), bounds, bounds[1:], strict=False)
        ]
        for r, record in enumerate(records):
            a, b = offsets[r], offsets[r + 1]
            if is_list[r]:
                record[key] = values[a:b]
            elif b > a:
                record[key] = values[a]
    return records


def _segment_data(records: list[dict[str, Any]], record: int, reverse: int, length: float) -> dict[str, Any]:
    data = dict(records[record])
    if reverse >= 0:
        data["reversed"] = bool(reverse)
    if length == length:  # not NaN
        data["length"] = length
    return data


def _merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One simplified edge's attributes from its segments', as ``osmnx.simplify_graph`` merges them."""
    if len(parts) == 1:
        return parts[0]
    merged: dict[str, list[Any]] = {}
    for data in parts:
        for attr, value in data.items():
            merged.setdefault(attr, []).append(value)
    result: dict[str, Any] = {}
    for attr, values in merged.items():
        if attr in ("length", "travel_time"):
            result[attr] = sum(values)
        elif len(set(values)) == 1:
            result[attr] = values[0]
        else:
            result[attr] = list(set(values))
    return result


def _edge_records(attributes: dict[str, np.ndarray], n_edges: int) -> list[dict[str, Any]]:
    """Every edge's osmnx attributes (without geometry) from the segment columns."""
    records = _decode_records(attributes, "record", int(attributes["record_count"]))
    offsets = attributes["seg_offsets"].tolist()
    if len(offsets) != n_edges + 1:
        msg = f"{len(offsets) - 1} segment lists for {n_edges} edges"
        raise ValueError(msg)
    parts = [
        _segment_data(records, r, rev, ln)
        for r, rev, ln in zip(
            attributes["seg_record"].tolist(),
            attributes["seg_reverse"].tolist(),
            attributes["seg_length"].tolist(),
            strict=True,
        )
    ]
    return [_merged(parts[a:b]) for a, b in itertools.pairwise(offsets)]


def _attributes_from_graph(graph: nx.MultiDiGraph) -> dict[str, np.ndarray]:
    """The attribute columns of an osmnx-style graph: one record per edge, each its own segment."""
    edge_data = [data for _, _, data in graph.edges(data=True)]
    records = [{k: v for k, v in data.items() if k != "geometry"} for data in edge_data]
    nodes = [{k: v for k, v in data.items() if k not in ("x", "y")} for _, data in graph.nodes(data=True)]
    m = len(records)
    return {
        "graph_attrs": _json_bytes(graph.graph),
        **_encode_records(nodes, "node"),
        **_encode_records(records, "record"),
        "record_count": np.array(m),
        "seg_offsets": np.arange(m + 1, dtype=np.int64),
        "seg_record": np.arange(m, dtype=np.int64),
        "seg_reverse": np.full(m, -1, dtype=np.int8),
        "seg_length": np.full(m, np.nan),
        "has_geometry": np.array([data.get("geometry") is not None for data in edge_data], dtype=bool),
    }


def _graph_from_attributes(network: WalkNetwork, attributes: dict[str, np.ndarray]) -> nx.MultiDiGraph:
    """The osmnx-style graph of an array network: same nodes, edges, keys and attributes, same order."""
    graph = nx.MultiDiGraph(**json.loads(attributes["graph_attrs"].tobytes().decode("utf-8")))
    node_data = _decode_records(attributes, "node", network.n_nodes)
    rows = zip(network.node_ids.tolist(), network.node_xy.tolist(), node_data, strict=True)
    graph.add_nodes_from((node, {**data, "x": x, "y": y}) for node, (x, y), data in rows)
    edge_data = _edge_records(attributes, network.n_edges)
    geoms = network.edges.geometry.to_numpy()
    for i in np.flatnonzero(attributes["has_geometry"]).tolist():
        edge_data[i]["geometry"] = geoms[i]
    ids = network.node_ids
    u = ids[network.edges["u"].to_numpy()].tolist()
    v = ids[network.edges["v"].to_numpy()].tolist()
    graph.add_edges_from(zip(u, v, network.edges["key"].tolist(), edge_data, strict=True))
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


def _json_bytes(record: dict[str, Any]) -> np.ndarray:
    """One small JSON document as a ``uint8`` array (npz keeps it without pickling)."""
    text = json.dumps(record, default=_json_default, ensure_ascii=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


#: The arrays of :func:`network_arrays` that hold the geometry and routing part (the rest are attributes).
_CORE_ARRAYS = frozenset(
    {"format", "crs", "node_ids", "node_xy", "u", "v", "key", "length", "highway_codes", "highway_names"}
    | {"coords", "offsets"}
)


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
        ``crs`` (WKT) and ``format``; and the OSM attributes as columns:
        ``graph_attrs`` (one JSON document), the node attributes
        (``node_*``), the attribute records of the ways (``record_*``), each
        edge's segments (``seg_offsets``, ``seg_record``, ``seg_reverse``,
        ``seg_length``: a simplified edge merges its segments' attributes as
        ``osmnx.simplify_graph`` does) and ``has_geometry`` (which edges have a
        ``geometry`` attribute in :meth:`WalkNetwork.to_networkx`).

    Examples
    --------
    >>> net = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm")  # doctest: +SKIP
    >>> walk_network_from_arrays(network_arrays(net)).n_edges == net.n_edges  # doctest: +SKIP
    True
    """
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
    attributes = network.attributes if network.attributes is not None else _attributes_from_graph(network.graph)
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
        **attributes,
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
        attributes={k: value for k, value in arrays.items() if k not in _CORE_ARRAYS},
    )
    logger.info("network: %s nodes, %s directed edges (from arrays)", f"{n:,}", f"{len(edges):,}")
    return network
