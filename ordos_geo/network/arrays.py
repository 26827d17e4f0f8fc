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
import pandas as pd
import pyproj
import scipy.sparse
import shapely

from ordos_geo._errors import NetworkDataError

logger = logging.getLogger(__name__)

#: Layout of the cached arrays (:func:`network_arrays`); part of the cache key.
CACHE_FORMAT_VERSION = 3


@dataclass(frozen=True, eq=False, init=False)
class WalkNetwork:
    """A projected walk network in array form, with its edge table and osmnx-style graph on request.

    Edge geometries are kept as coordinate arrays (shapely's ragged array
    layout); their LineStrings are built only when asked for: all of them by
    :attr:`edges`, some by :meth:`edge_lines`.

    Parameters
    ----------
    crs : pyproj.CRS
        The metric CRS of every coordinate here.
    node_ids : numpy.ndarray
        Graph node id of each node index ``0..n-1``.
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates in ``crs``.
    edges : geopandas.GeoDataFrame, optional
        The edge table with its geometries (see :attr:`edges`); or give
        ``edge_table``, ``edge_coords`` and ``edge_offsets`` instead.
    adjacency : scipy.sparse.csr_matrix
        ``(n, n)`` directed adjacency with the shortest parallel edge's length.
    report : dict, optional
        What cleaning did (ways kept/dropped, components dropped, nodes dropped).
    graph_factory : callable, optional
        Builds the graph of :meth:`to_networkx` (the first time it is asked
        for); without one the graph is rebuilt from the arrays.
    attributes : dict of str to numpy.ndarray, optional
        The OSM attributes as columns (see :func:`network_arrays`), from which
        :meth:`to_networkx` builds the graph; without them (nor a factory) the
        graph has only ``x``/``y``, ``length``, ``highway`` and geometries.
    edge_table : pandas.DataFrame, optional
        The edges without geometry (see :attr:`edge_table`).
    edge_coords, edge_offsets : numpy.ndarray, optional
        The edge geometries: edge ``e`` runs through
        ``edge_coords[edge_offsets[e]:edge_offsets[e + 1]]``, from ``u`` to ``v``.

    Attributes
    ----------
    edge_table : pandas.DataFrame
        One row per directed edge, positional index ``0..m-1``: ``u``, ``v``
        (node indices), ``key``, ``length`` (metres) and ``highway``.
    edge_coords : numpy.ndarray
        ``(k, 2)`` coordinates of all edge geometries, edge after edge.
    edge_offsets : numpy.ndarray
        ``(m + 1,)`` start of each edge's coordinates in ``edge_coords``.

    Examples
    --------
    >>> g = nx.MultiDiGraph(nx.path_graph(3), crs="EPSG:32649")  # nodes 0 - 1 - 2, 100 m apart
    >>> nx.set_node_attributes(g, {i: {"x": 100.0 * i, "y": 0.0} for i in g})
    >>> nx.set_edge_attributes(g, 100.0, "length")
    >>> net = walk_network_from_graph(g)
    >>> net.n_nodes, net.n_edges, net.edge_table["u"].tolist(), net.edge_table["v"].tolist()
    (3, 4, [0, 1, 1, 2], [1, 0, 2, 1])
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    edge_table: pd.DataFrame
    edge_coords: np.ndarray
    edge_offsets: np.ndarray
    adjacency: scipy.sparse.csr_matrix
    report: dict = field(default_factory=dict)
    graph_factory: Callable[[], nx.MultiDiGraph] | None = field(default=None, repr=False)
    attributes: dict[str, np.ndarray] | None = field(default=None, repr=False)

    def __init__(
        self,
        *,
        crs: pyproj.CRS,
        node_ids: np.ndarray,
        node_xy: np.ndarray,
        adjacency: scipy.sparse.csr_matrix,
        edges: gpd.GeoDataFrame | None = None,
        edge_table: pd.DataFrame | None = None,
        edge_coords: np.ndarray | None = None,
        edge_offsets: np.ndarray | None = None,
        report: dict | None = None,
        graph_factory: Callable[[], nx.MultiDiGraph] | None = None,
        attributes: dict[str, np.ndarray] | None = None,
    ) -> None:
        if edges is not None:
            geometry_type, edge_coords, (edge_offsets,) = shapely.to_ragged_array(edges.geometry.to_numpy())
            if len(edges) and geometry_type != shapely.GeometryType.LINESTRING:
                msg = f"network edges are {geometry_type.name}, not LineStrings"
                raise NetworkDataError(msg)
            edge_table = pd.DataFrame(edges.drop(columns=edges.geometry.name))
            self.__dict__["edges"] = edges  # the cached property's value: the table given
        if edge_table is None or edge_coords is None or edge_offsets is None:
            msg = "WalkNetwork: give `edges` (a GeoDataFrame) or `edge_table`, `edge_coords` and `edge_offsets`"
            raise TypeError(msg)
        values = {
            "crs": crs,
            "node_ids": node_ids,
            "node_xy": node_xy,
            "edge_table": edge_table,
            "edge_coords": np.asarray(edge_coords, dtype=float)[:, :2],
            "edge_offsets": np.asarray(edge_offsets, dtype=np.int64),
            "adjacency": adjacency,
            "report": {} if report is None else report,
            "graph_factory": graph_factory,
            "attributes": attributes,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @cached_property
    def edges(self) -> gpd.GeoDataFrame:
        """The edge table with each edge's ``geometry``, a LineString from ``u`` to ``v`` (built once, on first use).

        One row per directed edge, positional index ``0..m-1``: ``u``, ``v``
        (node indices), ``key``, ``length`` (metres), ``highway`` and
        ``geometry``. Building every LineString of a large network takes
        seconds: :attr:`edge_table` and :meth:`edge_lines` are cheaper.
        """
        return gpd.GeoDataFrame(self.edge_table, geometry=self.edge_lines(), crs=self.crs)

    def edge_lines(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The LineStrings of some edges (default: all), built from the coordinate arrays.

        Parameters
        ----------
        rows : numpy.ndarray, optional
            Edge positions (any order, repeats allowed).

        Returns
        -------
        numpy.ndarray
            Object array of shapely LineStrings, one per row, oriented from ``u`` to ``v``.
        """
        built = self.__dict__.get("edges")
        if built is not None:
            lines = built.geometry.to_numpy()
            return lines if rows is None else lines[np.asarray(rows, dtype=np.int64)]
        offsets, coords = self.edge_offsets, self.edge_coords
        if rows is not None:
            offsets, coords = ragged_take(offsets, coords, np.asarray(rows, dtype=np.int64))
        return shapely.from_ragged_array(shapely.GeometryType.LINESTRING, coords, (offsets,))

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
        return len(self.edge_offsets) - 1


def _ragged_rows(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the entries of ``rows`` of a ragged array (``offsets``), and each entry's row number."""
    sizes = offsets[rows + 1] - offsets[rows]
    owner = np.repeat(np.arange(len(rows)), sizes)
    starts = np.repeat(offsets[rows] - (np.cumsum(sizes) - sizes), sizes)
    return starts + np.arange(len(owner)), owner


def ragged_take(offsets: np.ndarray, values: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``rows`` of a ragged array (row ``i`` is ``values[offsets[i]:offsets[i + 1]]``), as a new ragged array.

    The layout of :attr:`WalkNetwork.edge_coords` / :attr:`WalkNetwork.edge_offsets`
    and of :func:`shapely.to_ragged_array`.

    Parameters
    ----------
    offsets : numpy.ndarray
        ``(n_rows + 1,)`` int64 start of each row in ``values``, then the end.
    values : numpy.ndarray
        The entries of all rows (``(k, 2)`` coordinates are taken bit for bit).
    rows : numpy.ndarray
        int64 row positions to take, in the order wanted (repeats allowed).

    Returns
    -------
    offsets : numpy.ndarray
        ``(len(rows) + 1,)`` int64 offsets of the rows taken.
    values : numpy.ndarray
        Their entries, row after row.

    Examples
    --------
    >>> offsets, values = ragged_take(np.array([0, 2, 3, 6]), np.arange(6), np.array([2, 0]))
    >>> offsets.tolist(), values.tolist()
    ([0, 3, 5], [3, 4, 5, 0, 1])
    """
    at, _ = _ragged_rows(offsets, rows)
    new_offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(offsets[rows + 1] - offsets[rows], out=new_offsets[1:])
    return new_offsets, _take_xy(values, at)


def _as_points(xy: np.ndarray) -> np.ndarray:
    """``(k, 2)`` float coordinates viewed as ``k`` complex numbers (the same bytes; no arithmetic)."""
    return np.ascontiguousarray(xy, dtype=np.float64).view(np.complex128).ravel()


def _take_xy(xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``xy[rows]`` for ``(k, 2)`` coordinates, bit for bit, a few times faster than numpy's row gather."""
    if xy.ndim != 2 or xy.shape[1] != 2 or xy.dtype != np.float64:
        return xy[rows]
    return _as_points(xy)[rows].view(np.float64).reshape(-1, 2)


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

    Examples
    --------
    >>> g = nx.MultiDiGraph(nx.path_graph(3), crs="EPSG:32649")  # nodes 0 - 1 - 2, 100 m apart
    >>> nx.set_node_attributes(g, {i: {"x": 100.0 * i, "y": 0.0} for i in g})
    >>> nx.set_edge_attributes(g, 100.0, "length")
    >>> net = walk_network_from_graph(g)
    >>> net.n_nodes, net.n_edges, net.crs.to_epsg()
    (3, 4, 32649)
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
    code = np.asarray(u, dtype=np.int64) * n + np.asarray(v, dtype=np.int64)
    order = np.argsort(code, kind="stable")
    code = code[order]
    head = np.ones(len(code), dtype=bool)
    head[1:] = code[1:] != code[:-1]
    starts = np.flatnonzero(head)
    shortest = length[order]
    if len(starts) < len(code):  # parallel edges: the shortest of each
        shortest = np.minimum.reduceat(shortest, starts)
    # A zero-length edge is an explicit zero: the matrix is built from its arrays, which keeps it, and
    # csgraph's searches take an explicit zero as an edge of length 0.
    weights = shortest
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(code[starts] // n, minlength=n), out=indptr[1:])
    return scipy.sparse.csr_matrix((weights, code[starts] % n, indptr), shape=(n, n))


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
    part = network.edge_table.iloc[keep]
    old_u, old_v = part["u"].to_numpy(dtype=np.int64), part["v"].to_numpy(dtype=np.int64)
    nodes = np.unique(np.concatenate([old_u, old_v]))
    new_of = np.full(network.n_nodes, -1, dtype=np.int64)
    new_of[nodes] = np.arange(len(nodes))
    u, v = new_of[old_u], new_of[old_v]
    table = part.assign(u=u, v=v).reset_index(drop=True)
    offsets, coords = ragged_take(network.edge_offsets, network.edge_coords, keep)
    ids = network.node_ids
    edge_keys = list(zip(ids[old_u].tolist(), ids[old_v].tolist(), part["key"].tolist(), strict=True))
    report = {**network.report, "subnetwork_of": {"nodes": network.n_nodes, "edges": network.n_edges}}
    return WalkNetwork(
        graph_factory=partial(_edge_subgraph, network, edge_keys),
        crs=network.crs,
        node_ids=ids[nodes],
        node_xy=network.node_xy[nodes],
        edge_table=table,
        edge_coords=coords,
        edge_offsets=offsets,
        adjacency=_adjacency(u, v, table["length"].to_numpy(dtype=float), len(nodes)),
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
    frame = network.edge_table
    rows = zip(
        ids[frame["u"].to_numpy()].tolist(),
        ids[frame["v"].to_numpy()].tolist(),
        frame["key"].tolist(),
        frame["length"].tolist(),
        frame["highway"].tolist(),
        network.edge_lines(),
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
    and ``_text`` / ``_text_offsets`` (the items as UTF-8). A key whose values are all plain ``str``, ``int``
    or ``bool`` is encoded in one go (pyarrow); others value by value.
    """
    keys = list(dict.fromkeys(key for record in records for key in record))  # first appearance, as stored
    out: dict[str, np.ndarray] = {f"{prefix}_keys": np.array(keys, dtype=str)}
    for i, key in enumerate(keys):
        column = _encode_plain_column(records, key)
        if column is None:
            column = _encode_column(records, key)
        counts, listed, kinds, text_offsets, text = column
        out[f"{prefix}_{i}_offsets"] = np.concatenate([[0], np.cumsum(counts)])
        out[f"{prefix}_{i}_list"] = listed
        out[f"{prefix}_{i}_kind"] = kinds
        out[f"{prefix}_{i}_text_offsets"] = text_offsets
        out[f"{prefix}_{i}_text"] = text
    return out


_Column = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _encode_shared_records(
    ids: np.ndarray, shared: list[dict[str, Any]], shared_of: np.ndarray, prefix: str, *, id_key: str = "osmid"
) -> dict[str, np.ndarray]:
    """:func:`_encode_records` of records ``{id_key: ids[r], **shared[shared_of[r]]}``, without building them.

    Ways with the same tags share one attribute dict: each dict is encoded once
    and its columns are repeated for the records holding it, so the arrays are
    the same as :func:`_encode_records` makes from the records, value for value.
    """
    if len(ids) == 0:
        return _encode_records([], prefix)
    _, first_use = np.unique(shared_of, return_index=True)
    used = shared_of[np.sort(first_use)]  # the dicts in the order the records first show them (key order)
    position = np.zeros(len(shared), dtype=np.int64)
    position[used] = np.arange(len(used))
    row_of = position[shared_of]
    columns = _encode_records([shared[i] for i in used.tolist()], prefix)
    keys = columns[f"{prefix}_keys"].tolist()
    out: dict[str, np.ndarray] = {f"{prefix}_keys": np.array([id_key, *keys], dtype=str)}
    encoded = _encode_plain_values(ids.tolist())
    if encoded is None:  # pragma: no cover - OSM ids are integers
        msg = f"{prefix} ids are not all integers"
        raise TypeError(msg)
    out[f"{prefix}_0_offsets"] = np.arange(len(ids) + 1, dtype=np.int64)
    out[f"{prefix}_0_list"] = np.zeros(len(ids), dtype=bool)
    out[f"{prefix}_0_kind"], out[f"{prefix}_0_text_offsets"], out[f"{prefix}_0_text"] = encoded
    for i in range(len(keys)):
        offsets = columns[f"{prefix}_{i}_offsets"]
        out[f"{prefix}_{i + 1}_offsets"], items = ragged_take(offsets, np.arange(offsets[-1]), row_of)
        out[f"{prefix}_{i + 1}_list"] = columns[f"{prefix}_{i}_list"][row_of]
        out[f"{prefix}_{i + 1}_kind"] = columns[f"{prefix}_{i}_kind"][items]
        text_offsets, text = ragged_take(columns[f"{prefix}_{i}_text_offsets"], columns[f"{prefix}_{i}_text"], items)
        out[f"{prefix}_{i + 1}_text_offsets"], out[f"{prefix}_{i + 1}_text"] = text_offsets, text
    return out


def _encode_plain_column(records: list[dict[str, Any]], key: str) -> _Column | None:
    """One key's column when its values are all ``str``, all ``int`` or all ``bool`` (else ``None``)."""
    present = np.fromiter((key in record for record in records), dtype=bool, count=len(records))
    encoded = _encode_plain_values([record[key] for record in records if key in record])
    if encoded is None:
        return None
    return (present.astype(np.int64), np.zeros(len(records), dtype=bool), *encoded)


def _encode_plain_values(values: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Item kinds, text offsets and text of values all ``str``, all ``int`` or all ``bool`` (else ``None``)."""
    import pyarrow as pa

    types = set(map(type, values))
    try:
        if types == {str}:
            kind, strings = _KIND_STR, pa.array(values, type=pa.string())
        elif types == {int}:
            kind, strings = _KIND_INT, pa.array(values, type=pa.int64()).cast(pa.string())
        elif types == {bool}:
            kind, strings = _KIND_BOOL, pa.array(["1" if value else "" for value in values], type=pa.string())
        else:
            return None
    except (pa.ArrowException, OverflowError, UnicodeEncodeError):
        return None
    _, offset_buffer, data_buffer = strings.buffers()
    text_offsets = np.frombuffer(offset_buffer, dtype=np.int32)[: len(values) + 1].astype(np.int64)
    text = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    text = text[: text_offsets[-1]].copy()
    return np.full(len(values), kind, dtype=np.int8), text_offsets, text


def _encode_column(records: list[dict[str, Any]], key: str) -> _Column:
    """One key's column, value by value (any values: lists, mixed types, numpy scalars)."""
    counts = np.zeros(len(records), dtype=np.int64)
    listed = np.zeros(len(records), dtype=bool)
    kinds: list[int] = []
    texts: list[bytes] = []
    for row, record in enumerate(records):
        if key not in record:
            continue
        value = record[key]
        items = value if isinstance(value, list) else [value]
        counts[row] = len(items)
        listed[row] = isinstance(value, list)
        for item in items:
            kind, text = _encode_item(item)
            kinds.append(kind)
            texts.append(text)
    text_offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts], dtype=np.int64)])
    return counts, listed, np.array(kinds, dtype=np.int8), text_offsets, np.frombuffer(b"".join(texts), dtype=np.uint8)


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
    curved = np.flatnonzero(attributes["has_geometry"])
    for i, line in zip(curved.tolist(), network.edge_lines(curved), strict=True):
        edge_data[i]["geometry"] = line
    ids = network.node_ids
    table = network.edge_table
    u = ids[table["u"].to_numpy()].tolist()
    v = ids[table["v"].to_numpy()].tolist()
    graph.add_edges_from(zip(u, v, table["key"].tolist(), edge_data, strict=True))
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
    | {"coords", "offsets", "curved", "curved_inner", "inner_coords"}
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
    edges = network.edge_table
    highway = edges["highway"]
    codes, names = pd.factorize(highway.where(highway.isna(), highway.astype(str)), sort=True)
    attributes = network.attributes if network.attributes is not None else _attributes_from_graph(network.graph)
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    arrays = {
        "format": np.array(CACHE_FORMAT_VERSION),
        "crs": np.array(network.crs.to_wkt()),
        "node_ids": network.node_ids.astype(np.int64),
        "node_xy": network.node_xy.astype(float),
        "u": u,
        "v": v,
        "key": edges["key"].to_numpy(dtype=np.int64),
        "length": edges["length"].to_numpy(dtype=float),
        "highway_codes": codes.astype(np.int32),
        "highway_names": np.asarray(names, dtype=str),
        **_geometry_arrays(
            network.edge_coords, network.edge_offsets, _take_xy(network.node_xy, u), _take_xy(network.node_xy, v)
        ),
        **attributes,
    }
    # indices fit in 32 bits: half the bytes to write, read and checksum (read back as int64)
    return {k: _narrow(a) if k in _WIDE_INTEGERS else a for k, a in arrays.items()}


#: Integer arrays of :func:`network_arrays` stored in 32 bits when they fit, read back as int64.
_WIDE_INTEGERS = frozenset({"u", "v", "key", "seg_offsets", "seg_record", "curved"})


def _narrow(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.int64 and (len(values) == 0 or (values.min() >= -(2**31) and values.max() < 2**31)):
        return values.astype(np.int32)
    return values


def _geometry_arrays(coords: np.ndarray, offsets: np.ndarray, start: np.ndarray, end: np.ndarray) -> dict:
    """The edge geometries to store: only the inner points when every line starts and ends on its nodes' xy.

    ``curved`` (edges with inner points), ``curved_inner`` (how many) and ``inner_coords``;
    or, when some line's end is not exactly its node's position, ``coords`` and ``offsets`` whole.
    """
    first, last = offsets[:-1], offsets[1:] - 1
    exact = len(coords) == 0 or (
        np.array_equal(_take_xy(coords, first).view(np.int64), start.view(np.int64))
        and np.array_equal(_take_xy(coords, last).view(np.int64), end.view(np.int64))
    )
    if not exact:
        return {"coords": coords, "offsets": offsets}
    inner = np.ones(len(coords), dtype=bool)
    inner[first] = False
    inner[last] = False
    sizes = np.diff(offsets)
    curved = np.flatnonzero(sizes > 2)
    return {"curved": curved, "curved_inner": (sizes[curved] - 2).astype(np.int64), "inner_coords": coords[inner]}


def _geometry_from_arrays(arrays: dict[str, np.ndarray], start: np.ndarray, end: np.ndarray) -> tuple:
    """``(coords, offsets)`` of the edge geometries :func:`_geometry_arrays` stored."""
    if "coords" in arrays:
        return np.asarray(arrays["coords"], dtype=float), np.asarray(arrays["offsets"], dtype=np.int64)
    sizes = np.full(len(start), 2, dtype=np.int64)
    sizes[arrays["curved"]] += arrays["curved_inner"]
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    points = np.empty(offsets[-1], dtype=np.complex128)  # one (x, y) pair per item: faster to scatter
    points[offsets[:-1]] = _as_points(start)
    points[offsets[1:] - 1] = _as_points(end)
    counts = np.asarray(arrays["curved_inner"], dtype=np.int64)
    first_inner = np.repeat(offsets[:-1][arrays["curved"]] + 1 - (np.cumsum(counts) - counts), counts)
    points[first_inner + np.arange(len(first_inner))] = _as_points(arrays["inner_coords"])
    return points.view(np.float64).reshape(-1, 2), offsets


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

    Examples
    --------
    >>> g = nx.MultiDiGraph(nx.path_graph(3), crs="EPSG:32649")  # nodes 0 - 1 - 2, 100 m apart
    >>> nx.set_node_attributes(g, {i: {"x": 100.0 * i, "y": 0.0} for i in g})
    >>> nx.set_edge_attributes(g, 100.0, "length")
    >>> net = walk_network_from_arrays(network_arrays(walk_network_from_graph(g)))
    >>> net.n_edges, float(net.edge_table["length"].sum())
    (4, 400.0)
    """
    if int(arrays["format"]) != CACHE_FORMAT_VERSION:
        msg = f"array format {int(arrays['format'])}, expected {CACHE_FORMAT_VERSION}"
        raise ValueError(msg)
    crs = pyproj.CRS.from_wkt(str(arrays["crs"]))
    u = arrays["u"].astype(np.int64)
    v = arrays["v"].astype(np.int64)
    length = arrays["length"]
    node_xy = arrays["node_xy"]
    coords, offsets = _geometry_from_arrays(arrays, _take_xy(node_xy, u), _take_xy(node_xy, v))
    highway = pd.array(arrays["highway_names"].tolist(), dtype="str").take(arrays["highway_codes"], allow_fill=True)
    edges = pd.DataFrame({"u": u, "v": v, "key": arrays["key"].astype(np.int64), "length": length, "highway": highway})
    n = len(arrays["node_ids"])
    network = WalkNetwork(
        crs=crs,
        node_ids=arrays["node_ids"],
        node_xy=node_xy,
        edge_table=edges,
        edge_coords=coords,
        edge_offsets=offsets,
        adjacency=_adjacency(u, v, length, n),
        report=dict(report or {}),
        attributes={
            k: value.astype(np.int64) if k in _WIDE_INTEGERS else value
            for k, value in arrays.items()
            if k not in _CORE_ARRAYS
        },
    )
    logger.info("network: %s nodes, %s directed edges (from arrays)", f"{n:,}", f"{len(edges):,}")
    return network
