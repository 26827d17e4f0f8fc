"""A walk network small enough to check by hand: the street of the docstring Examples."""

from __future__ import annotations

import networkx as nx

from ordos_geo.network import WalkNetwork, walk_network_from_graph

__all__ = ["tiny_street"]


def tiny_street() -> WalkNetwork:
    """One straight two-way street of three nodes, ``0 - 1 - 2``, 100 m apart along y = 0 (EPSG:32649).

    The network the docstring Examples run on, as ``networkx.path_graph`` is
    networkx's: distances along it can be checked by hand. It is built the way
    a network of your own is built from a networkx graph, with
    :func:`ordos_geo.network.walk_network_from_graph`.

    Returns
    -------
    WalkNetwork
        Nodes 0, 1 and 2 at x = 0, 100 and 200 m (y = 0), joined by two 100 m
        streets walkable both ways (four directed edges).

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()
    >>> net.n_nodes, net.n_edges, net.node_xy.tolist(), net.crs.to_epsg()
    (3, 4, [[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]], 32649)
    """
    graph = nx.MultiDiGraph(nx.path_graph(3), crs="EPSG:32649")
    nx.set_node_attributes(graph, {i: {"x": 100.0 * i, "y": 0.0} for i in graph})
    nx.set_edge_attributes(graph, 100.0, "length")
    return walk_network_from_graph(graph)
