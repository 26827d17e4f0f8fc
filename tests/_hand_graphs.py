"""Hand-built walk networks and frames with known geometry, shared by the routing and accessibility tests."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from ordos_geo.network import WalkNetwork, walk_network_from_graph

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0


def make_network(nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int, bool]]) -> WalkNetwork:
    """osmnx-style projected MultiDiGraph: straight edges, length = Euclidean; oneway=True adds one direction."""
    graph = nx.MultiDiGraph(crs=CRS)
    for node, (x, y) in nodes.items():
        graph.add_node(node, x=X0 + x, y=Y0 + y)
    for a, b, oneway in edges:
        length = math.dist(nodes[a], nodes[b])
        graph.add_edge(a, b, length=length, highway="footway")
        if not oneway:
            graph.add_edge(b, a, length=length, highway="footway")
    return walk_network_from_graph(graph)


def points(xy, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def facilities(xy, ids, kinds=None, **columns) -> gpd.GeoDataFrame:
    kinds = kinds or ["park"] * len(ids)
    return points(xy, facility_id=list(ids), kind=list(kinds), **columns)


def square_cells(centres, size=20.0, population=None) -> gpd.GeoDataFrame:
    population = population or [100.0] * len(centres)
    geoms = [
        shapely.box(X0 + x - size / 2, Y0 + y - size / 2, X0 + x + size / 2, Y0 + y + size / 2) for x, y in centres
    ]
    return gpd.GeoDataFrame({"cell_id": np.arange(len(centres)), "population": population}, geometry=geoms, crs=CRS)


def random_grid(rng, size=14, spacing=80.0) -> WalkNetwork:
    graph = nx.MultiDiGraph(crs=CRS)
    node = lambda i, j: i * size + j  # noqa: E731
    for i in range(size):
        for j in range(size):
            graph.add_node(
                node(i, j), x=X0 + i * spacing + rng.uniform(-20, 20), y=Y0 + j * spacing + rng.uniform(-20, 20)
            )
    pairs = [((i, j), (i + 1, j)) for i in range(size - 1) for j in range(size)]
    pairs += [((i, j), (i, j + 1)) for i in range(size) for j in range(size - 1)]
    pairs += [((i, j), (i + 1, j + 1)) for i in range(size - 1) for j in range(size - 1) if rng.random() < 0.15]
    for a, b in pairs:
        if rng.random() < 0.1:
            continue  # missing link
        na, nb = node(*a), node(*b)
        pa = (graph.nodes[na]["x"], graph.nodes[na]["y"])
        pb = (graph.nodes[nb]["x"], graph.nodes[nb]["y"])
        mid = ((pa[0] + pb[0]) / 2 + rng.uniform(-8, 8), (pa[1] + pb[1]) / 2 + rng.uniform(-8, 8))
        geom = shapely.LineString([pa, mid, pb])
        graph.add_edge(na, nb, length=geom.length, geometry=geom, highway="footway")
        if rng.random() < 0.9:  # one in ten is one-way
            graph.add_edge(nb, na, length=geom.length, geometry=geom.reverse(), highway="footway")
    return walk_network_from_graph(graph)


def grid_study(
    rng, *, size: int = 16, n_cells: int = 400, cell_m: float = 50.0, n_facilities: int = 18
) -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A :func:`random_grid` with square cells and facilities of three kinds placed at random (the first a park)."""
    network = random_grid(rng, size=size)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    centres = rng.uniform(lo, hi, size=(n_cells, 2))
    half = cell_m / 2
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(len(centres)), "population": rng.uniform(10, 500, len(centres))},
        geometry=shapely.box(centres[:, 0] - half, centres[:, 1] - half, centres[:, 0] + half, centres[:, 1] + half),
        crs=CRS,
    )
    fac_xy = rng.uniform(lo, hi, size=(n_facilities, 2))
    geoms = list(shapely.points(fac_xy))
    geoms[0] = shapely.box(*(fac_xy[0] - 60), *(fac_xy[0] + 60))  # a park reached at its boundary
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i:02d}" for i in rng.permutation(len(fac_xy))],
            "kind": (["park", "fitness_path", "ball_court"] * n_facilities)[:n_facilities],
            "area_m2": rng.uniform(100, 2000, len(fac_xy)),
        },
        geometry=geoms,
        crs=CRS,
    )
    return network, cells, fac
