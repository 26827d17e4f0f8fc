"""Synthetic walk networks, population cells and facilities for benchmarks (shared by all benchmark scripts).

The network is a perturbed square grid (default 80 m blocks, nodes moved up to
+-15 m, 5 % of links missing, 5 % of blocks crossed by a diagonal footway,
1 % of links one-way), built straight into a :class:`ordos_geo.network.WalkNetwork`
from arrays: building a networkx graph of a million nodes alone would take
longer than the whole accessibility stage. :func:`to_networkx` gives the
osmnx-style graph for the baselines that need one.

Usage::

    from benchmarks._synthetic import synthetic_study
    network, cells, facilities = synthetic_study(100_000, seed=0)
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import scipy.sparse
import shapely

from ordos_geo.network import WalkNetwork

__all__ = [
    "BENCH_KINDS",
    "TYPICAL_AREA_M2",
    "synthetic_cells",
    "synthetic_facilities",
    "synthetic_study",
    "synthetic_walk_network",
    "to_networkx",
    "walk_network_from_arrays",
]

CRS = "EPSG:32650"
X0, Y0 = 300_000.0, 4_300_000.0

#: Ten facility kinds and their share of the facilities.
BENCH_KINDS: dict[str, float] = {
    "fitness_path": 0.30,
    "multi_sport_court": 0.15,
    "playground": 0.12,
    "park": 0.10,
    "school_venue": 0.10,
    "pitch": 0.08,
    "fitness_centre": 0.06,
    "sports_park": 0.04,
    "swimming_pool": 0.03,
    "gymnasium": 0.02,
}

#: Venue area (m²) given to each synthetic facility of a kind.
TYPICAL_AREA_M2: dict[str, float] = {
    "fitness_path": 200.0,
    "multi_sport_court": 800.0,
    "playground": 0.0,
    "park": 0.0,
    "school_venue": 8000.0,
    "pitch": 7140.0,
    "fitness_centre": 1500.0,
    "sports_park": 48_400.0,
    "swimming_pool": 1250.0,
    "gymnasium": 3000.0,
}


def walk_network_from_arrays(
    node_xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray | None = None,
    *,
    crs: str | pyproj.CRS = CRS,
    highway: np.ndarray | None = None,
    geometry: np.ndarray | None = None,
    graph: nx.MultiDiGraph | None = None,
) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from node and directed-edge arrays, without networkx.

    Parameters
    ----------
    node_xy : numpy.ndarray
        ``(n, 2)`` node coordinates in ``crs`` (metres).
    u, v : numpy.ndarray
        Node indices of each directed edge (a two-way street is two rows).
    length : numpy.ndarray, optional
        Edge lengths in metres; default the geometry lengths.
    crs : str or pyproj.CRS
        A projected CRS.
    highway : numpy.ndarray, optional
        Highway tag per edge; default ``"footway"``.
    geometry : numpy.ndarray, optional
        LineStrings oriented u -> v; default straight lines.
    graph : networkx.MultiDiGraph, optional
        Graph to attach; default one rebuilt from the arrays when asked for.

    Returns
    -------
    WalkNetwork
    """
    node_xy = np.asarray(node_xy, dtype=float)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    if geometry is None:
        coords = np.stack([node_xy[u], node_xy[v]], axis=1)
        geometry = shapely.linestrings(coords)
    if length is None:
        length = shapely.length(geometry)
    length = np.asarray(length, dtype=float)
    crs = pyproj.CRS.from_user_input(crs)
    n = len(node_xy)
    edges = gpd.GeoDataFrame(
        {
            "u": u,
            "v": v,
            "key": np.zeros(len(u), dtype=np.int64),
            "length": length,
            "highway": highway if highway is not None else np.full(len(u), "footway", dtype=object),
        },
        geometry=geometry,
        crs=crs,
    )
    order = np.lexsort((-length, v, u))
    uu, vv, ll = u[order], v[order], length[order]
    last = np.ones(len(uu), dtype=bool)
    last[:-1] = (uu[1:] != uu[:-1]) | (vv[1:] != vv[:-1])
    adjacency = scipy.sparse.csr_matrix((np.maximum(ll[last], 1e-9), (uu[last], vv[last])), shape=(n, n))
    return WalkNetwork(
        graph_factory=None if graph is None else (lambda: graph),
        crs=crs,
        node_ids=np.arange(n, dtype=np.int64),
        node_xy=node_xy,
        edges=edges,
        adjacency=adjacency,
        report={"synthetic": True},
    )


def synthetic_walk_network(
    n_nodes: int,
    *,
    seed: int = 0,
    spacing_m: float = 80.0,
    jitter_m: float = 15.0,
    missing_share: float = 0.05,
    diagonal_share: float = 0.05,
    oneway_share: float = 0.01,
) -> WalkNetwork:
    """A perturbed grid walk network of about ``n_nodes`` nodes (see the module docstring)."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_nodes))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    node_xy = np.column_stack(
        [
            X0 + ii.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, side * side),
            Y0 + jj.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, side * side),
        ]
    )
    idx = ii * side + jj
    a = [idx[:-1, :].ravel(), idx[:, :-1].ravel()]
    b = [idx[1:, :].ravel(), idx[:, 1:].ravel()]
    diag = rng.random((side - 1) * (side - 1)) < diagonal_share
    a.append(idx[:-1, :-1].ravel()[diag])
    b.append(idx[1:, 1:].ravel()[diag])
    a = np.concatenate(a)
    b = np.concatenate(b)
    keep = rng.random(len(a)) >= missing_share
    a, b = a[keep], b[keep]
    oneway = rng.random(len(a)) < oneway_share
    highway = np.where(np.arange(len(a)) >= len(a) - int(diag.sum()), "footway", "residential").astype(object)
    u = np.concatenate([a, b[~oneway]])
    v = np.concatenate([b, a[~oneway]])
    highway = np.concatenate([highway, highway[~oneway]])
    return walk_network_from_arrays(node_xy, u, v, crs=CRS, highway=highway)


def synthetic_cells(network: WalkNetwork, *, cells_per_node: float = 2.0, seed: int = 1) -> gpd.GeoDataFrame:
    """Square population cells covering the network's extent, ``cells_per_node`` per node."""
    rng = np.random.default_rng(seed)
    lo = network.node_xy.min(axis=0)
    hi = network.node_xy.max(axis=0)
    area = float(np.prod(hi - lo))
    size = math.sqrt(area / (cells_per_node * network.n_nodes))
    nx_, ny_ = int((hi[0] - lo[0]) // size), int((hi[1] - lo[1]) // size)
    gx, gy = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    x0 = lo[0] + gx.ravel() * size
    y0 = lo[1] + gy.ravel() * size
    geoms = shapely.box(x0, y0, x0 + size, y0 + size)
    population = np.round(rng.lognormal(3.0, 1.0, len(geoms)), 1) + 0.1
    districts = np.array(["north", "south"])[(gy.ravel() < ny_ // 2).astype(int)]
    return gpd.GeoDataFrame(
        {"cell_id": np.arange(len(geoms)), "population": population, "district": districts},
        geometry=geoms,
        crs=network.crs,
    )


def synthetic_facilities(network: WalkNetwork, n_facilities: int, *, seed: int = 2) -> gpd.GeoDataFrame:
    """Facilities of the ten :data:`BENCH_KINDS`: points, with parks and sports parks as polygons."""
    rng = np.random.default_rng(seed)
    lo = network.node_xy.min(axis=0)
    hi = network.node_xy.max(axis=0)
    kinds = rng.choice(list(BENCH_KINDS), size=n_facilities, p=list(BENCH_KINDS.values()))
    xy = rng.uniform(lo, hi, size=(n_facilities, 2))
    geoms = shapely.points(xy)
    polygon = np.isin(kinds, ["park", "sports_park"])
    half = np.where(kinds == "sports_park", 110.0, 60.0)
    geoms[polygon] = shapely.box(
        xy[polygon, 0] - half[polygon],
        xy[polygon, 1] - half[polygon],
        xy[polygon, 0] + half[polygon],
        xy[polygon, 1] + half[polygon],
    )
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"F{i:07d}" for i in range(n_facilities)],
            "name": [f"facility {i}" for i in range(n_facilities)],
            "kind": kinds,
            "area_m2": [TYPICAL_AREA_M2[k] for k in kinds],
            "area_source": "typical",
            "open_to_public": ~((kinds == "school_venue") & (rng.random(n_facilities) < 0.4)),
            "capacity": np.nan,
            "district": None,
        },
        geometry=geoms,
        crs=network.crs,
    )


def synthetic_study(
    n_nodes: int, *, seed: int = 0, cells_per_node: float = 2.0, cells_per_facility: float = 100.0
) -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Network, cells (about ``cells_per_node`` per node) and facilities (one per ``cells_per_facility`` cells)."""
    network = synthetic_walk_network(n_nodes, seed=seed)
    cells = synthetic_cells(network, cells_per_node=cells_per_node, seed=seed + 1)
    facilities = synthetic_facilities(network, max(10, round(len(cells) / cells_per_facility)), seed=seed + 2)
    return network, cells, facilities


def to_networkx(network: WalkNetwork) -> nx.MultiDiGraph:
    """The osmnx-style MultiDiGraph of a network built from arrays (node ids = indices)."""
    graph = nx.MultiDiGraph(crs=network.crs)
    xy = network.node_xy
    graph.add_nodes_from((i, {"x": float(xy[i, 0]), "y": float(xy[i, 1])}) for i in range(network.n_nodes))
    edges = network.edges
    graph.add_edges_from(
        (int(a), int(b), 0, {"length": float(w)})
        for a, b, w in zip(edges["u"].to_numpy(), edges["v"].to_numpy(), edges["length"].to_numpy(), strict=True)
    )
    return graph
