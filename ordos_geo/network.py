"""Walk networks: load, clean, project, cache, and an array form for fast paths.

The stage exchanges a :class:`WalkNetwork`: the projected osmnx-style
``MultiDiGraph`` plus the arrays the compiled shortest-path engine needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse
import shapely

from ordos_geo._errors import NetworkDataError

__all__ = ["WalkNetwork", "walk_network_from_graph"]

logger = logging.getLogger(__name__)


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
    for (a, b, _k, data), ui, vi in zip(rows, u, v, strict=True):
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
