"""Fitness trails (健身步道): plan new trails through underserved areas and check proposed ones.

The stage answers two planning questions on the walk network:

- *Where should the budget of trail (default 10 km) go?* :func:`plan_trails`
  chooses connected sets of street segments, within a length budget, that bring
  the most underserved residents within a walking reach (default 500 m) of a
  trail: a budgeted maximal-covering / prize-collecting tree problem, solved by a
  greedy growth heuristic with local improvement, an exact MILP (HiGHS) on small
  instances, and a data-dependent upper bound on large ones so the gap is known.
- *Does a trail someone drew reach them?* :func:`check_trails` snaps proposed
  lines to the network and reports, per underserved neighbourhood and district,
  the population reached before and after.

Reach rule (shared by planning and checking)
--------------------------------------------
A population cell is represented by its centroid snapped to the nearest walk
edge (``max_snap_distance_m``; the snap distance itself is not walked). The cell
*reaches* a street segment when it can walk, along the network, to one of the
segment's two end nodes within ``reach_m``, or when it sits on the segment
itself. Any point of a segment is reached through one of its ends (or from
the segment itself), so "some point of the segment is within ``reach_m``" and
"an end node is within ``reach_m``" are the same thing; the only approximations
are the centroid snap and walking from the snap point to the ends of its edge
in both directions. Distances come from a bounded Dijkstra
(:func:`scipy.sparse.csgraph.dijkstra`, ``limit=reach_m``) run tile by tile on
local subgraphs, and the reach is stored as a sparse ``segments x cells``
matrix (:class:`TrailPrizeModel`).

Optimality gap
--------------
On small instances (at most :data:`EXACT_MAX_SEGMENTS` allowed segments)
``method="auto"`` also solves an exact MILP with HiGHS (single-commodity
length flow from at most ``max_trails`` roots, so every trail is connected and
at least ``min_trail_m`` long) and the gap is the solver's. On large ones the
bound is the "frontier" bound of :func:`_upper_bound`: each segment of a
connected trail adds at most the residents that reach it but not the node it
shares with an earlier segment, and a fractional knapsack of those gains over
the budget bounds the total. It is valid but loose when the population is
noisy at the cell level (the knapsack picks the luckiest streets anywhere), so
a large-instance gap is an upper estimate of the true one.

All geometry is in the network's metric CRS (``WalkNetwork.crs``); lengths in
metres, areas in m².
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from ordos_geo import settings
from ordos_geo.trails import heuristic as _orienteering
from ordos_geo._errors import InputDataError, MissingDependencyError, SolverError
from ordos_geo._highs import new_highs
from ordos_geo.accessibility import snap_points
from ordos_geo.network import WalkNetwork

__all__ = [
    "DEFAULT_FORBIDDEN_HIGHWAYS",
    "DEFAULT_PREFERRED_HIGHWAYS",
    "EXACT_MAX_SEGMENTS",
    "MAJOR_ROAD_HIGHWAYS",
    "SHAPE_COLUMNS",
    "TRAIL_SHAPES",
    "TrailCheck",
    "TrailPlan",
    "TrailPrizeModel",
    "build_prize_model",
    "check_trails",
    "plan_trails",
    "trail_report",
    "underserved_mask",
]

logger = logging.getLogger(__name__)

#: Highway tags a trail may never use.
DEFAULT_FORBIDDEN_HIGHWAYS: tuple[str, ...] = ("motorway", "motorway_link", "trunk", "trunk_link")
#: Highway tags a planner prefers for trails (their cost is discounted when choosing).
DEFAULT_PREFERRED_HIGHWAYS: tuple[str, ...] = ("footway", "path", "pedestrian", "track", "cycleway")
#: Cells farther than this walk from any facility are underserved (the 15-minute circle).
UNDERSERVED_DISTANCE_M: float = 1_000.0
#: Largest number of candidate segments solved exactly by ``method="auto"``.
EXACT_MAX_SEGMENTS: int = 30
#: Spacing of the sample points a proposed line is cut into for snapping (metres).
CHECK_SAMPLE_SPACING_M: float = 20.0
#: Trail shapes: a closed circuit, an open path, or a connected tree (any connected set of streets).
TRAIL_SHAPES: tuple[str, ...] = settings.TRAIL_SHAPES
#: Highway tags whose crossing a trail check counts (busy streets a walker has to cross).
MAJOR_ROAD_HIGHWAYS: tuple[str, ...] = ("primary", "primary_link", "secondary", "secondary_link")
#: Columns describing a trail's shape, in the plan's trails table and the check's lines table.
SHAPE_COLUMNS: tuple[str, ...] = (
    "closed_line",
    "n_breaks",
    "n_spurs",
    "spur_length_m",
    "walked_twice_m",
    "major_road_crossings",
)

_TINY_COST = 1e-3


# --------------------------------------------------------------------------------------------------
# Undirected segments and the prize model
# --------------------------------------------------------------------------------------------------


def _pair_directed_edges(edges: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Group directed edges into undirected street segments.

    The two directions of a street (``u->v`` and ``v->u`` of equal length, to
    0.1 m) form one segment; a one-way edge is a segment on its own.

    Returns
    -------
    segment_of_edge : numpy.ndarray
        ``(m,)`` segment id of every directed edge.
    representative_edge : numpy.ndarray
        ``(n_segments,)`` the first directed edge of each segment.
    """
    u = edges["u"].to_numpy(dtype=np.int64)
    v = edges["v"].to_numpy(dtype=np.int64)
    length_dm = np.round(edges["length"].to_numpy(dtype=float) * 10).astype(np.int64)
    low, high = np.minimum(u, v), np.maximum(u, v)
    keys = np.stack([low, high, length_dm], axis=1)
    _, first, segment_of_edge = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    segment_of_edge = segment_of_edge.ravel()
    # Number segments in order of their first edge, so segment ids follow the edge table.
    order = np.argsort(first, kind="stable")
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    return renumber[segment_of_edge], first[order]


def underserved_mask(cells: pd.DataFrame, *, underserved_column: str | None = None) -> np.ndarray:
    """Return which population cells are underserved.

    Parameters
    ----------
    cells : pandas.DataFrame
        Population cells; with ``dist_m_any`` (walk metres to the nearest
        facility of any kind, as written by
        :func:`ordos_geo.accessibility.compute_accessibility`) unless
        ``underserved_column`` is given.
    underserved_column : str, optional
        Name of a boolean column marking the underserved cells directly.

    Returns
    -------
    numpy.ndarray
        Boolean array aligned with the rows of ``cells``: ``dist_m_any`` above
        1,000 m, missing or infinite (unreachable), or the given column.
    """
    if underserved_column is not None:
        if underserved_column not in cells.columns:
            msg = (
                f"cells: column `{underserved_column}` (underserved_column) is missing; pass the name of a boolean "
                "column marking underserved cells, or None to use `dist_m_any`"
            )
            raise InputDataError(msg)
        values = cells[underserved_column]
        if values.isna().any():
            msg = f"cells: column `{underserved_column}` has missing values; fill them with True/False"
            raise InputDataError(msg)
        return values.to_numpy(dtype=bool)
    if "dist_m_any" not in cells.columns:
        msg = (
            "cells: column `dist_m_any` is missing, so underserved cells are unknown; run "
            "ordos_geo.accessibility.compute_accessibility first and pass its `.cells`, or pass "
            "underserved_column='<boolean column>'"
        )
        raise InputDataError(msg)
    dist = cells["dist_m_any"].to_numpy(dtype=float)
    return ~(np.isfinite(dist) & (dist <= UNDERSERVED_DISTANCE_M))


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted unique values (a sort and a mask: faster than ``np.unique``'s hashing here)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for every pair, vectorised (a cumulative-sum trick)."""
    keep = counts > 0
    starts, counts = starts[keep].astype(np.int64), counts[keep].astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    steps = np.ones(total, dtype=np.int64)
    steps[0] = starts[0]
    heads = np.cumsum(counts)[:-1]
    steps[heads] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(steps)


def _bounded_distances(
    adjacency: scipy.sparse.csr_matrix,
    node_xy: np.ndarray,
    sources: np.ndarray,
    limit_m: float,
    *,
    tile_factor: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (source, target, distance) with a walk distance within ``limit_m``.

    Runs :func:`scipy.sparse.csgraph.dijkstra` with ``limit`` on local subgraphs:
    sources are grouped into square tiles of side ``limit_m`` and each tile's
    search is run on the nodes of its 3 x 3 tile neighbourhood. A path no longer
    than ``limit_m`` never leaves that neighbourhood, because an edge is at
    least as long as the straight line between its ends.

    Returns
    -------
    indptr, targets, distances : numpy.ndarray
        CSR-style arrays over all ``n`` nodes: the targets of node ``i`` are
        ``targets[indptr[i]:indptr[i + 1]]`` (empty for non-sources).
    """
    n = adjacency.shape[0]
    sources = np.unique(np.asarray(sources, dtype=np.int64))
    if sources.size == 0:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    tile = max(float(limit_m) * tile_factor, 1.0)
    reach_tiles = math.ceil(1.0 / tile_factor)
    origin = node_xy.min(axis=0)
    tij = np.floor((node_xy - origin) / tile).astype(np.int64) + reach_tiles + 1
    width = int(tij[:, 0].max()) + 2 * reach_tiles + 2
    key = tij[:, 1] * width + tij[:, 0]
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    local = np.full(n, -1, dtype=np.int64)
    src_keys = key[sources]
    src_order = np.argsort(src_keys, kind="stable")
    sources, src_keys = sources[src_order], src_keys[src_order]
    tiles, tile_start = np.unique(src_keys, return_index=True)
    tile_end = np.append(tile_start[1:], len(sources))
    span = range(-reach_tiles, reach_tiles + 1)
    neighbour_offsets = np.array([dy * width + dx for dy in span for dx in span], dtype=np.int64)
    out_src, out_tgt, out_dist = [], [], []
    for tile_key, a, b in tqdm(
        zip(tiles.tolist(), tile_start.tolist(), tile_end.tolist(), strict=True),
        total=len(tiles),
        desc="trail reach",
        disable=None if len(tiles) > 200 else True,
        leave=False,
    ):
        wanted = tile_key + neighbour_offsets
        lo = np.searchsorted(sorted_key, wanted, side="left")
        hi = np.searchsorted(sorted_key, wanted, side="right")
        cand = order[_ranges(lo, hi - lo)]
        local[cand] = np.arange(len(cand))
        tile_sources = sources[a:b]
        sub = adjacency[cand][:, cand]
        dist = dijkstra(sub, directed=True, indices=local[tile_sources], limit=limit_m)
        local[cand] = -1
        rows, cols = np.nonzero(np.isfinite(dist))
        out_src.append(tile_sources[rows])
        out_tgt.append(cand[cols])
        out_dist.append(dist[rows, cols])
    src = np.concatenate(out_src) if out_src else np.zeros(0, dtype=np.int64)
    tgt = np.concatenate(out_tgt) if out_tgt else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(out_dist) if out_dist else np.zeros(0, dtype=float)
    sort = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, tgt[sort], dst[sort]


def _snap_to_edges(
    network: WalkNetwork, points: np.ndarray, *, max_snap_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap ``(k, 2)`` points to the nearest directed edge with :func:`ordos_geo.accessibility.snap_points`.

    Returns
    -------
    edge, offset_m, snap_distance_m : numpy.ndarray
        One value per point; ``edge = -1`` where no edge is within ``max_snap_distance_m``.
    """
    gdf = gpd.GeoDataFrame(geometry=shapely.points(points), crs=network.crs)
    snapped = snap_points(network, gdf, max_snap_distance_m=max_snap_distance_m)
    owner = np.asarray(snapped.owner, dtype=np.int64)
    if len(owner) != len(points) or np.any(owner != np.arange(len(points))):  # one access point per point
        msg = "internal: snap_points returned more than one access point per point"
        raise RuntimeError(msg)
    edge = np.asarray(snapped.edge, dtype=np.int64)
    offset = np.nan_to_num(np.asarray(snapped.offset_m, dtype=float))
    return edge, offset, np.asarray(snapped.snap_distance_m, dtype=float)


@dataclass(frozen=True, eq=False)
class TrailPrizeModel:
    """Which underserved cells each street segment reaches.

    Attributes
    ----------
    reach : scipy.sparse.csr_matrix
        ``(n_segments, n_prize_cells)`` boolean: cell ``j`` can walk to some
        point of segment ``i`` within ``reach_m`` (see the module docstring).
    population : numpy.ndarray
        ``(n_prize_cells,)`` population of each underserved cell (the prize).
    cell_positions : numpy.ndarray
        Row position in the input ``cells`` of each prize cell.
    cell_segment : numpy.ndarray
        Segment each prize cell is snapped to (-1 if farther than the snap limit).
    segment_u, segment_v : numpy.ndarray
        End node indices of each segment.
    segment_length : numpy.ndarray
        Length of each segment (metres).
    segment_edge : numpy.ndarray
        A representative directed edge (index into ``network.edges``) per segment.
    segment_of_edge : numpy.ndarray
        Segment of every directed edge.
    node_population : numpy.ndarray
        ``(n_nodes,)`` underserved population within ``reach_m`` of each node
        (used by the upper bound).
    segment_population : numpy.ndarray
        ``(n_segments,)`` underserved population each segment reaches on its own.
    reach_m : float
        Walk reach used (metres).
    n_cells : int
        Number of rows of the input ``cells``.
    """

    reach: scipy.sparse.csr_matrix
    population: np.ndarray
    cell_positions: np.ndarray
    cell_segment: np.ndarray
    segment_u: np.ndarray
    segment_v: np.ndarray
    segment_length: np.ndarray
    segment_edge: np.ndarray
    segment_of_edge: np.ndarray
    node_population: np.ndarray
    segment_population: np.ndarray
    reach_m: float
    n_cells: int

    @property
    def n_segments(self) -> int:
        """Number of undirected segments."""
        return len(self.segment_length)

    @property
    def total_population(self) -> float:
        """Total underserved population (reachable by the network or not)."""
        return float(self.population.sum())

    def reached_cells(self, segment_ids: Iterable[int]) -> np.ndarray:
        """Prize-cell positions reached by any of ``segment_ids`` (sorted, unique)."""
        ids = np.asarray(list(segment_ids), dtype=np.int64)
        if ids.size == 0:
            return np.zeros(0, dtype=np.int64)
        indptr, indices = self.reach.indptr, self.reach.indices
        flat = _ranges(indptr[ids].astype(np.int64), (indptr[ids + 1] - indptr[ids]).astype(np.int64))
        return _unique(indices[flat])

    def population_reached(self, segment_ids: Iterable[int]) -> float:
        """Underserved population reached by the union of ``segment_ids`` (deduplicated)."""
        return float(self.population[self.reached_cells(segment_ids)].sum())


def _row_sums(matrix: scipy.sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """``matrix @ weights`` for a boolean CSR matrix, without a float copy of the matrix."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    return np.bincount(rows, weights=weights[matrix.indices], minlength=matrix.shape[0])


def _check_cells(network: WalkNetwork, cells: gpd.GeoDataFrame) -> None:
    if not isinstance(cells, gpd.GeoDataFrame):
        msg = "cells: expected a GeoDataFrame of population cells (ordos_geo.io.read_population)"
        raise InputDataError(msg)
    if "population" not in cells.columns:
        msg = "cells: column `population` is missing; pass the population cells from ordos_geo.io.read_population"
        raise InputDataError(msg)
    if cells.crs is None or not network.crs.equals(cells.crs):
        msg = (
            f"cells: CRS {cells.crs} differs from the network CRS {network.crs.to_string()}; "
            "project them first with cells.to_crs(network.crs)"
        )
        raise InputDataError(msg)
    population = cells["population"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(population) | (population < 0))
    if bad.size:
        msg = f"cells: column `population` has {bad.size} negative or non-finite values; fix or drop those cells"
        raise InputDataError(msg)


def build_prize_model(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    *,
    reach_m: float = 500.0,
    underserved_column: str | None = None,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    chunk_cells: int = 20_000,
) -> TrailPrizeModel:
    """Compute which underserved cells each street segment reaches.

    Parameters
    ----------
    network : WalkNetwork
        Projected walk network.
    cells : geopandas.GeoDataFrame
        Population cells in ``network.crs`` with ``population`` and either
        ``dist_m_any`` or ``underserved_column`` (see :func:`underserved_mask`).
    reach_m : float
        Walk distance from a cell to a trail (metres along the network).
    underserved_column : str, optional
        Boolean column marking underserved cells; default uses ``dist_m_any``.
    max_snap_distance_m : float
        Cells whose centroid is farther than this from every edge reach nothing.
    chunk_cells : int
        Cells processed at once (bounds memory).

    Returns
    -------
    TrailPrizeModel
    """
    if reach_m <= 0:
        msg = f"reach_m must be positive (metres of walk to a trail), got {reach_m}"
        raise InputDataError(msg)
    _check_cells(network, cells)
    underserved = underserved_mask(cells, underserved_column=underserved_column)
    segment_of_edge, segment_edge = _pair_directed_edges(network.edges)
    edges_u = network.edges["u"].to_numpy(dtype=np.int64)
    edges_v = network.edges["v"].to_numpy(dtype=np.int64)
    edges_len = network.edges["length"].to_numpy(dtype=float)
    seg_u, seg_v, seg_len = edges_u[segment_edge], edges_v[segment_edge], edges_len[segment_edge]
    n_seg = len(segment_edge)

    positions = np.flatnonzero(underserved & (cells["population"].to_numpy(dtype=float) > 0))
    population = cells["population"].to_numpy(dtype=float)[positions]
    centroids = shapely.get_coordinates(cells.geometry.iloc[positions].centroid.to_numpy())
    if len(positions):
        edge, offset, _dist = _snap_to_edges(network, centroids, max_snap_distance_m=max_snap_distance_m)
    else:
        edge, offset = np.zeros(0, dtype=np.int64), np.zeros(0)
    snapped = edge >= 0
    cell_segment = np.where(snapped, segment_of_edge[np.maximum(edge, 0)], -1)
    ok = np.flatnonzero(snapped)
    e = edge[ok]
    off = np.clip(offset[ok], 0.0, edges_len[e])
    # Both ends of a cell's edge side by side, so a chunk holds both ends of its cells.
    ends = np.column_stack([edges_u[e], edges_v[e]]).ravel()
    access = np.column_stack([off, edges_len[e] - off]).ravel()
    owner = np.repeat(ok, 2)
    keep = access <= reach_m
    ends, access, owner = ends[keep], access[keep], owner[keep]

    indptr, targets, distances = _bounded_distances(network.adjacency, network.node_xy, ends, reach_m)
    n_prize = len(positions)
    n_nodes = network.n_nodes
    # cells x nodes: which nodes each cell walks to within reach (COO -> CSR sums duplicates: "or").
    blocks = []
    step = 2 * max(int(chunk_cells), 1)
    for start in range(0, len(ends), step):
        sl = slice(start, start + step)
        c_end, c_access, c_owner = ends[sl], access[sl], owner[sl]
        starts, counts = indptr[c_end], indptr[c_end + 1] - indptr[c_end]
        flat = _ranges(starts, counts)
        rep = np.repeat(np.arange(len(c_end)), counts)
        within = c_access[rep] + distances[flat] <= reach_m + 1e-9
        blocks.append(
            scipy.sparse.csr_matrix(
                (np.ones(int(within.sum()), dtype=bool), (c_owner[rep[within]], targets[flat[within]])),
                shape=(n_prize, n_nodes),
            )
        )
    cell_node = (
        scipy.sparse.csr_matrix(sum(blocks[1:], blocks[0]))
        if blocks
        else scipy.sparse.csr_matrix((n_prize, n_nodes), dtype=bool)
    )
    node_cell = cell_node.T.tocsr()
    node_population = np.asarray(node_cell.astype(np.float64) @ population).ravel()
    # segments x nodes incidence; reach = incidence @ node_cell (a sparse product: union over both ends),
    # plus the segment each cell sits on.
    incidence = scipy.sparse.csr_matrix(
        (np.ones(2 * n_seg, dtype=bool), (np.tile(np.arange(n_seg), 2), np.concatenate([seg_u, seg_v]))),
        shape=(n_seg, n_nodes),
    )
    own = ok[cell_segment[ok] >= 0]
    reach = scipy.sparse.csr_matrix((np.ones(len(own), dtype=bool), (cell_segment[own], own)), shape=(n_seg, n_prize))
    reach = scipy.sparse.csr_matrix(reach + incidence @ node_cell)
    reach.sort_indices()
    logger.info(
        "trail prize model: %s segments, %s underserved cells (population %s), %s reach pairs within %s m",
        f"{n_seg:,}",
        f"{n_prize:,}",
        f"{population.sum():,.0f}",
        f"{reach.nnz:,}",
        f"{reach_m:g}",
    )
    return TrailPrizeModel(
        reach=reach,
        population=population,
        cell_positions=positions,
        cell_segment=cell_segment,
        segment_u=seg_u,
        segment_v=seg_v,
        segment_length=seg_len,
        segment_edge=segment_edge,
        segment_of_edge=segment_of_edge,
        node_population=node_population,
        segment_population=_row_sums(reach, population),
        reach_m=float(reach_m),
        n_cells=len(cells),
    )


# --------------------------------------------------------------------------------------------------
# Segment rules: forbidden edges, preferences
# --------------------------------------------------------------------------------------------------


def _edge_midpoints(edges: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.line_interpolate_point(edges.geometry.to_numpy(), 0.5, normalized=True)


def _forbidden_segments(
    network: WalkNetwork,
    model: TrailPrizeModel,
    forbidden_edges: Any,
    forbidden_highways: Sequence[str],
    *,
    avoid_tolerance_m: float = 10.0,
) -> np.ndarray:
    """Boolean mask over segments that a trail may not use."""
    edges = network.edges
    highway = edges["highway"].astype("string").fillna("")
    bad_edge = highway.isin(list(forbidden_highways)).to_numpy().copy()
    if forbidden_edges is not None:
        if isinstance(forbidden_edges, gpd.GeoDataFrame | gpd.GeoSeries):
            if forbidden_edges.crs is None:
                msg = "forbidden_edges: the GeoDataFrame of lines to avoid has no CRS; set it (e.g. EPSG:4326)"
                raise InputDataError(msg)
            lines = forbidden_edges.to_crs(network.crs).geometry.to_numpy()
            tree = shapely.STRtree(lines)
            hit, _ = tree.query(_edge_midpoints(edges), predicate="dwithin", distance=avoid_tolerance_m)
            bad_edge[np.unique(hit)] = True
        else:
            array = np.asarray(forbidden_edges)
            if array.dtype == bool:
                if array.shape != (len(edges),):
                    msg = (
                        f"forbidden_edges: boolean mask has shape {array.shape}, expected ({len(edges)},) "
                        "(one value per row of network.edges)"
                    )
                    raise InputDataError(msg)
                bad_edge |= array
            elif array.size:
                idx = array.astype(np.int64).ravel()
                if idx.min() < 0 or idx.max() >= len(edges):
                    msg = f"forbidden_edges: edge indices must lie in 0..{len(edges) - 1} (rows of network.edges)"
                    raise InputDataError(msg)
                bad_edge[idx] = True
    forbidden = np.zeros(model.n_segments, dtype=bool)
    np.logical_or.at(forbidden, model.segment_of_edge, bad_edge)
    return forbidden


def _choice_costs(
    network: WalkNetwork,
    model: TrailPrizeModel,
    *,
    edge_weights: Any,
    preferred_highways: Sequence[str],
    preference_factor: float,
    green_land: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """Cost used to *choose* segments (true length x preferences); the budget uses true length."""
    edges = network.edges
    factor = np.ones(len(edges))
    highway = edges["highway"].astype("string").fillna("")
    preferred = highway.isin(list(preferred_highways)).to_numpy().copy()
    if green_land is not None and len(green_land):
        if green_land.crs is None:
            msg = "green_land: the polygons have no CRS; set it (e.g. EPSG:4326)"
            raise InputDataError(msg)
        polygons = green_land.to_crs(network.crs).geometry.to_numpy()
        tree = shapely.STRtree(polygons)
        hit, _ = tree.query(_edge_midpoints(edges), predicate="within")
        preferred[np.unique(hit)] = True
    factor[preferred] = preference_factor
    if edge_weights is not None:
        weights = (
            edges[edge_weights].to_numpy(dtype=float)
            if isinstance(edge_weights, str)
            else np.asarray(edge_weights, dtype=float)
        )
        if weights.shape != (len(edges),) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            msg = (
                f"edge_weights: expected {len(edges)} positive finite multipliers (one per row of network.edges), "
                f"got shape {weights.shape}"
            )
            raise InputDataError(msg)
        factor = factor * weights
    seg_factor = np.full(model.n_segments, np.inf)
    np.minimum.at(seg_factor, model.segment_of_edge, factor)
    return np.maximum(model.segment_length * seg_factor, _TINY_COST)


# --------------------------------------------------------------------------------------------------
# Heuristic
# --------------------------------------------------------------------------------------------------


@dataclass
class _Trail:
    segments: list[int] = field(default_factory=list)
    degree: dict[int, int] = field(default_factory=dict)
    length: float = 0.0


class _Planner:
    """Greedy growth of up to ``max_trails`` connected trails, then local improvement."""

    def __init__(
        self,
        model: TrailPrizeModel,
        allowed: np.ndarray,
        cost: np.ndarray,
        *,
        budget_m: float,
        min_trail_m: float,
        jump_m: float,
    ) -> None:
        self.model = model
        self.indptr = model.reach.indptr.astype(np.int64)
        self.indices = model.reach.indices.astype(np.int64)
        self.weight = model.population
        self.length = model.segment_length
        self.cost = cost
        self.allowed = allowed
        self.budget = float(budget_m)
        self.min_len = float(min_trail_m)
        self.jump_m = float(jump_m)
        su, sv = model.segment_u, model.segment_v
        ids = np.flatnonzero(allowed)
        nodes = np.concatenate([su[ids], sv[ids]])
        segs = np.concatenate([ids, ids])
        other = np.concatenate([sv[ids], su[ids]])
        order = np.argsort(nodes, kind="stable")
        n_nodes = int(max(su.max(initial=0), sv.max(initial=0))) + 1
        indptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(nodes, minlength=n_nodes), out=indptr[1:])
        self.inc_ptr = indptr.tolist()
        self.inc_seg = segs[order].tolist()
        self.inc_other = other[order].tolist()
        self.len_list = self.length.tolist()
        self.su_list, self.sv_list = su.tolist(), sv.tolist()
        self.standalone = model.segment_population
        self.reset()

    # ---- state ----
    def reset(self) -> None:
        self.count = np.zeros(len(self.weight), dtype=np.int32)
        self.trail_of = np.full(len(self.length), -1, dtype=np.int64)
        self.trails: list[_Trail] = []

    def rows(self, segs: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        segs = np.asarray(segs, dtype=np.int64)
        starts = self.indptr[segs]
        counts = self.indptr[segs + 1] - starts
        return np.repeat(np.arange(len(segs)), counts), self.indices[_ranges(starts, counts)]

    def marginals(self, segs: Sequence[int] | np.ndarray) -> np.ndarray:
        rep, cells = self.rows(segs)
        values = self.weight[cells] * (self.count[cells] == 0)
        return np.bincount(rep, weights=values, minlength=len(segs))

    def union_gain(self, segs: Sequence[int]) -> float:
        _, cells = self.rows(segs)
        cells = _unique(cells)
        return float((self.weight[cells] * (self.count[cells] == 0)).sum())

    def unique_value(self, seg: int) -> float:
        _, cells = self.rows([seg])
        return float((self.weight[cells] * (self.count[cells] == 1)).sum())

    def value(self) -> float:
        return float(self.weight[self.count > 0].sum())

    def total_length(self) -> float:
        return float(sum(t.length for t in self.trails))

    def add(self, t: int, segs: Sequence[int]) -> None:
        trail = self.trails[t]
        for s in segs:
            if self.trail_of[s] >= 0:
                continue
            self.trail_of[s] = t
            trail.segments.append(int(s))
            trail.length += self.len_list[s]
            for node in (self.su_list[s], self.sv_list[s]):
                trail.degree[node] = trail.degree.get(node, 0) + 1
            _, cells = self.rows([s])
            np.add.at(self.count, cells, 1)

    def remove(self, t: int, s: int) -> None:
        trail = self.trails[t]
        trail.segments.remove(s)
        trail.length -= self.len_list[s]
        self.trail_of[s] = -1
        for node in (self.su_list[s], self.sv_list[s]):
            trail.degree[node] -= 1
            if trail.degree[node] == 0:
                del trail.degree[node]
        _, cells = self.rows([s])
        np.subtract.at(self.count, cells, 1)

    def deficit(self, t: int) -> float:
        return max(0.0, self.min_len - self.trails[t].length)

    def allowance(self, t: int) -> float:
        others = sum(self.deficit(j) for j in range(len(self.trails)) if j != t)
        return self.budget - self.total_length() - others

    # ---- candidates ----
    def _tree(self, sources: Iterable[int], limit: float) -> tuple[list[int], dict[int, float], dict[int, tuple]]:
        """Bounded Dijkstra over free allowed segments from the trail's nodes (true lengths)."""
        dist: dict[int, float] = {}
        pred: dict[int, tuple[int, int]] = {}
        heap = []
        for node in sources:
            dist[node] = 0.0
            heap.append((0.0, node))
        heapq.heapify(heap)
        order: list[int] = []
        inc_ptr, inc_seg, inc_other, length, trail_of = (
            self.inc_ptr,
            self.inc_seg,
            self.inc_other,
            self.len_list,
            self.trail_of,
        )
        while heap:
            d, node = heapq.heappop(heap)
            if d > dist[node]:
                continue
            if d > 0:
                order.append(node)
            if node + 1 >= len(inc_ptr):
                continue
            for k in range(inc_ptr[node], inc_ptr[node + 1]):
                s = inc_seg[k]
                if trail_of[s] >= 0:
                    continue
                nd = d + length[s]
                m = inc_other[k]
                if nd <= limit and nd < dist.get(m, math.inf):
                    dist[m] = nd
                    pred[m] = (node, s)
                    heapq.heappush(heap, (nd, m))
        return order, dist, pred

    def best_candidate(self, t: int, *, tabu: frozenset[int] = frozenset(), top: int = 5) -> tuple[float, float, list]:
        """Best (ratio, gain, segments) addition to trail ``t`` within its length allowance."""
        trail = self.trails[t]
        allowance = self.allowance(t)
        best = (-1.0, 0.0, [])
        if allowance <= 0:
            return best
        nodes = list(trail.degree)
        # Single segments touching the trail (including loop closers).
        frontier = {
            self.inc_seg[k]
            for node in nodes
            if node + 1 < len(self.inc_ptr)
            for k in range(self.inc_ptr[node], self.inc_ptr[node + 1])
        }
        frontier = [s for s in frontier if self.trail_of[s] < 0 and s not in tabu and self.len_list[s] <= allowance]
        if frontier:
            gains = self.marginals(frontier)
            ratios = gains / self.cost[frontier]
            i = int(np.argmax(ratios))
            best = (float(ratios[i]), float(gains[i]), [frontier[i]])
        # Short paths to farther segments.
        order, _dist, pred = self._tree(nodes, min(self.jump_m, allowance))
        if len(order) > 1:
            tree_segs = np.array([pred[w][1] for w in order], dtype=np.int64)
            seg_gain = self.marginals(tree_segs)
            est: dict[int, float] = {}
            cost: dict[int, float] = {}
            hops: dict[int, int] = {}
            for w, s, g in zip(order, tree_segs.tolist(), seg_gain.tolist(), strict=True):
                parent = pred[w][0]
                est[w] = est.get(parent, 0.0) + (0.0 if s in tabu else g)
                cost[w] = cost.get(parent, 0.0) + float(self.cost[s])
                hops[w] = hops.get(parent, 0) + 1
            multi = [w for w in order if hops[w] > 1 and est[w] > 0]
            multi.sort(key=lambda w: est[w] / cost[w], reverse=True)
            for w in multi[:top]:
                path = []
                node = w
                while node in pred:
                    node, s = pred[node]
                    path.append(s)
                if any(s in tabu for s in path):
                    continue
                gain = self.union_gain(path)
                ratio = gain / cost[w]
                if ratio > best[0]:
                    best = (ratio, gain, path[::-1])
        return best

    # ---- phases ----
    def seed(self, k: int, spread_m: float, node_xy: np.ndarray, *, first: int | None = None) -> None:
        """Start ``k`` trails on high-prize segments at least ``spread_m`` apart (the first one given)."""
        candidates = np.flatnonzero(self.allowed & (self.length <= self.budget))
        if candidates.size == 0:
            return
        top = candidates[np.argsort(-self.standalone[candidates], kind="stable")[:5000]]
        mid = 0.5 * (node_xy[self.model.segment_u[top]] + node_xy[self.model.segment_v[top]])
        chosen_mid: list[np.ndarray] = []
        for _ in range(k):
            if self.allowance_for_new() < min(self.min_len, self.budget) - 1e-9 and self.trails:
                break
            ok = np.ones(len(top), dtype=bool)
            for c in chosen_mid:
                ok &= np.hypot(*(mid - c).T) >= spread_m
            ok &= self.trail_of[top] < 0
            ok &= self.length[top] <= self.allowance_for_new()
            if not ok.any():
                break
            pool = top[ok]
            g = self.marginals(pool)
            i = int(np.lexsort((self.cost[pool], -g))[0])  # most residents, then cheapest (preferred) segment
            if first is not None and not self.trails and np.any(pool == first):
                i = int(np.flatnonzero(pool == first)[0])
            if g[i] <= 0 and self.trails:
                break
            self.trails.append(_Trail())
            self.add(len(self.trails) - 1, [int(pool[i])])
            chosen_mid.append(mid[ok][i])

    def allowance_for_new(self) -> float:
        return self.budget - self.total_length() - sum(self.deficit(j) for j in range(len(self.trails)))

    def grow(self, *, tabu: frozenset[int] = frozenset()) -> None:
        """Add the best gain-per-cost addition over all trails until nothing helps (lazy CELF order)."""
        bound = [math.inf] * len(self.trails)
        cache: list[tuple | None] = [None] * len(self.trails)
        while self.trails:
            t = int(np.argmax(bound))
            if bound[t] <= 0:
                break
            ratio, gain, path = self.best_candidate(t, tabu=tabu)
            bound[t], cache[t] = ratio, (ratio, gain, path)
            if ratio <= 0 or gain <= 0:
                bound[t] = 0.0
                continue
            others = [b for j, b in enumerate(bound) if j != t]
            if not others or ratio >= max(others):
                self.add(t, path)
                bound = [math.inf if b > 0 else b for b in bound]
                bound[t] = math.inf
        self.fill_deficits()

    def fill_deficits(self) -> None:
        """Bring every trail to the minimum length with the cheapest additions (no prize left to gain)."""
        for t in range(len(self.trails)):
            while self.deficit(t) > 0:
                allowance = self.allowance(t)
                order, dist, pred = self._tree(list(self.trails[t].degree), allowance)
                if not order:
                    break
                # The nearest node at least the deficit away, else the farthest reachable.
                need = self.deficit(t)
                target = next((w for w in order if dist[w] >= need), order[-1])
                path = []
                node = target
                while node in pred:
                    node, s = pred[node]
                    path.append(s)
                self.add(t, path)

    def improve(self, max_rounds: int = 40) -> None:
        """Swap a low-value leaf segment for a better addition while it helps."""
        tried: set[int] = set()
        for _ in range(max_rounds):
            leaves = []
            for t, trail in enumerate(self.trails):
                if len(trail.segments) < 2:
                    continue
                for s in trail.segments:
                    if s in tried:
                        continue
                    a, b = self.su_list[s], self.sv_list[s]
                    if a != b and (trail.degree[a] == 1 or trail.degree[b] == 1):
                        if trail.length - self.len_list[s] >= self.min_len - 1e-9:
                            leaves.append((self.unique_value(s) / self.cost[s], t, s))
            if not leaves:
                return
            _, t, s = min(leaves)
            tried.add(s)
            before = self.value()
            self.remove(t, s)
            best_t, best = -1, (-1.0, 0.0, [])
            for j in range(len(self.trails)):
                cand = self.best_candidate(j, tabu=frozenset({s}))
                if cand[1] > best[1]:
                    best_t, best = j, cand
            if best_t >= 0 and best[1] > 0:
                self.add(best_t, best[2])
            if self.value() > before + 1e-9:
                tried.clear()
                self.grow()
            else:
                if best_t >= 0 and best[1] > 0:
                    for x in best[2]:
                        self.remove(best_t, x)
                self.add(t, [s])

    def close_loops(self) -> None:
        """Close a trail into a loop with a short connecting path when the leftover budget allows."""
        for t, trail in enumerate(self.trails):
            if len(trail.segments) < 2:
                continue
            leaves = [node for node, deg in trail.degree.items() if deg == 1]
            best: tuple[float, float, list[int]] | None = None
            limit = min(self.allowance(t), max(self.model.reach_m, 0.3 * trail.length))
            if limit <= 0:
                continue
            for leaf in leaves:
                order, dist, pred = self._tree([leaf], limit)
                # First trail node reached (other than the leaf) through free segments.
                for w in order:
                    if w in trail.degree:
                        path = []
                        node = w
                        while node in pred:
                            node, s = pred[node]
                            path.append(s)
                        gain = self.union_gain(path)
                        key = (gain, -dist[w], path)
                        if best is None or key[:2] > best[:2]:
                            best = key
                        break
                # Or a loop closer touching the trail directly is already in `order` as its end node.
            if best is not None and -best[1] <= self.allowance(t):
                self.add(t, best[2])


def _components(model: TrailPrizeModel, segments: Sequence[int]) -> list[list[int]]:
    """Connected components (lists of segment ids) of a set of segments."""
    return _orienteering._components(model.segment_u, model.segment_v, list(segments))


def _long_enough(model: TrailPrizeModel, segments: Sequence[int], min_len: float) -> bool:
    return float(model.segment_length[list(segments)].sum()) >= min_len - 1e-6


def _knapsack_bound(gains: np.ndarray, lengths: np.ndarray, budget: float) -> float:
    """Fractional knapsack: most gain fitting in ``budget`` metres when segments may be split."""
    keep = gains > 0
    gains, lengths = gains[keep], np.maximum(lengths[keep], 1e-9)
    order = np.argsort(-gains / lengths, kind="stable")
    gains, lengths = gains[order], lengths[order]
    cum = np.cumsum(lengths)
    full = cum <= budget
    total = float(gains[full].sum())
    k = int(full.sum())
    if k < len(gains):
        left = budget - (cum[k - 1] if k else 0.0)
        total += float(gains[k] * left / lengths[k])
    return total


def _upper_bound(model: TrailPrizeModel, allowed: np.ndarray, *, budget_m: float, max_trails: int) -> float:
    """Upper bound on the population any plan within the rules reaches ("frontier" bound).

    Order the segments of a connected trail so that each one after the first
    touches an earlier one (its parent) at a shared node ``a``. Every cell that
    reaches ``a`` reaches both segments, so the cells a segment ``t`` adds are at
    most ``gain(t) = f(t) - min(W(u_t), W(v_t))``, where ``f(t)`` is the
    population ``t`` reaches and ``W(a)`` the population reaching node ``a``.
    Hence ``f(trail) <= f(s_1) - gain(s_1) + sum_i gain(s_i)``; summing over at
    most ``max_trails`` trails and relaxing the choice of segments to a
    fractional knapsack of ``gain`` over the budget gives the bound. It never
    exceeds the population the allowed segments can reach at all.
    """
    ids = np.flatnonzero(allowed)
    if ids.size == 0:
        return 0.0
    standalone = model.segment_population[ids]
    base = np.minimum(model.node_population[model.segment_u[ids]], model.node_population[model.segment_v[ids]])
    gain = np.maximum(standalone - base, 0.0)
    first = float(np.max(standalone - gain))
    bound = max_trails * first + _knapsack_bound(gain, model.segment_length[ids], budget_m)
    reachable_cells = np.zeros(len(model.population), dtype=bool)
    reachable_cells[(model.reach if ids.size == model.n_segments else model.reach[ids]).indices] = True
    return float(min(bound, model.population[reachable_cells].sum()))


# --------------------------------------------------------------------------------------------------
# Exact MILP (HiGHS)
# --------------------------------------------------------------------------------------------------


def _solve_exact(
    model: TrailPrizeModel,
    allowed: np.ndarray,
    *,
    budget_m: float,
    min_trail_m: float,
    max_trails: int,
    time_limit_s: float,
) -> tuple[list[int], float, float, str]:
    """Exact budgeted connected coverage with at most ``max_trails`` components.

    Variables: ``x_s`` (segment chosen), ``y_c`` (cell reached), ``r_v`` (node
    roots a trail), ``F_v`` (length flow leaving a root) and, per segment end,
    flows ``p`` (node -> segment) and ``q`` (segment -> node). Each chosen segment
    consumes its length of flow, flow runs only on chosen segments and starts at
    roots, so every component holds a root: at most ``max_trails`` components,
    each at least ``min_trail_m`` long, total length within ``budget_m``.

    Returns
    -------
    segments, objective, dual_bound, status
    """
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        msg = "the exact trail solver needs highspy; install it with `pip install highspy`"
        raise MissingDependencyError(msg) from exc
    segs = np.flatnonzero(allowed)
    n_s = len(segs)
    if n_s == 0:
        return [], 0.0, 0.0, "empty"
    sub = model.reach[segs].tocsc()
    cell_has = np.flatnonzero(np.diff(sub.indptr) > 0)
    n_c = len(cell_has)
    ends = np.unique(np.concatenate([model.segment_u[segs], model.segment_v[segs]]))
    node_pos = {int(v): i for i, v in enumerate(ends.tolist())}
    n_v = len(ends)
    seg_ends = []
    for s in segs.tolist():
        a, b = int(model.segment_u[s]), int(model.segment_v[s])
        seg_ends.append([a] if a == b else [a, b])
    n_flow = sum(2 * len(e) for e in seg_ends)
    big = float(budget_m)
    lengths = np.maximum(model.segment_length[segs], 1e-6)
    # Column layout.
    x0, y0, r0, f0, p0 = 0, n_s, n_s + n_c, n_s + n_c + n_v, n_s + n_c + 2 * n_v
    n_col = p0 + n_flow
    cost = np.zeros(n_col)
    cost[y0 : y0 + n_c] = model.population[cell_has]
    lower = np.zeros(n_col)
    upper = np.ones(n_col)
    upper[f0 : f0 + n_v] = big
    upper[p0:] = big
    rows: list[tuple[list[int], list[float], float, float]] = []
    inf = math.inf
    # y_c <= sum of x over segments reaching c
    for j, c in enumerate(cell_has.tolist()):
        lo, hi = sub.indptr[c], sub.indptr[c + 1]
        idx = [y0 + j] + [x0 + int(i) for i in sub.indices[lo:hi]]
        rows.append((idx, [1.0] + [-1.0] * (hi - lo), -inf, 0.0))
    rows.append((list(range(x0, x0 + n_s)), lengths.tolist(), -inf, float(budget_m)))
    rows.append((list(range(r0, r0 + n_v)), [1.0] * n_v, -inf, float(max_trails)))
    for i in range(n_v):
        rows.append(([f0 + i, r0 + i], [1.0, -big], -inf, 0.0))
        rows.append(([f0 + i, r0 + i], [1.0, -float(min_trail_m)], 0.0, inf))
    node_in: list[list[int]] = [[] for _ in range(n_v)]  # q columns (into node)
    node_out: list[list[int]] = [[] for _ in range(n_v)]  # p columns (out of node)
    col = p0
    for k, e in enumerate(seg_ends):
        p_cols, q_cols = [], []
        for node in e:
            p_cols.append(col)
            q_cols.append(col + 1)
            node_out[node_pos[node]].append(col)
            node_in[node_pos[node]].append(col + 1)
            rows.append(([col, x0 + k], [1.0, -big], -inf, 0.0))
            rows.append(([col + 1, x0 + k], [1.0, -big], -inf, 0.0))
            col += 2
        rows.append((p_cols + q_cols + [x0 + k], [1.0] * len(p_cols) + [-1.0] * len(q_cols) + [-lengths[k]], 0.0, 0.0))
    for i in range(n_v):
        idx = [f0 + i, *node_in[i], *node_out[i]]
        val = [1.0] + [1.0] * len(node_in[i]) + [-1.0] * len(node_out[i])
        rows.append((idx, val, 0.0, 0.0))

    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.addCols(n_col, cost, lower, upper, 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
    starts = np.cumsum([0] + [len(r[0]) for r in rows[:-1]]).astype(np.int32)
    index = np.concatenate([np.asarray(r[0], dtype=np.int32) for r in rows])
    value = np.concatenate([np.asarray(r[1], dtype=float) for r in rows])
    h.addRows(
        len(rows),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        len(index),
        starts,
        index,
        value,
    )
    integer = np.concatenate([np.arange(x0, x0 + n_s), np.arange(r0, r0 + n_v)]).astype(np.int32)
    h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.run()
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        msg = f"exact trail solver (HiGHS) finished with status {status_text!r}"
        raise SolverError(msg)
    info = h.getInfo()
    if info.primal_solution_status == 0:  # no feasible point found in time
        return [], 0.0, float(info.mip_dual_bound), status_text
    x = np.asarray(h.getSolution().col_value)[x0 : x0 + n_s]
    chosen = segs[x > 0.5].tolist()
    objective = model.population_reached(chosen)
    dual = float(info.mip_dual_bound) if status != highspy.HighsModelStatus.kOptimal else objective
    return chosen, objective, max(dual, objective), status_text


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


def _merged_geometry(network: WalkNetwork, model: TrailPrizeModel, segments: Sequence[int]) -> shapely.Geometry:
    geoms = network.edges.geometry.to_numpy()[model.segment_edge[np.asarray(segments, dtype=np.int64)]]
    return shapely.line_merge(shapely.union_all(geoms))


def _trail_is_loop(model: TrailPrizeModel, segments: Sequence[int]) -> bool:
    nodes = set(model.segment_u[segments].tolist()) | set(model.segment_v[segments].tolist())
    return len(segments) >= len(nodes)


def _piece_shape(model: TrailPrizeModel, piece: Sequence[int]) -> tuple[bool, int, float, float]:
    """Shape of one connected piece of street segments.

    Returns
    -------
    closed, n_spurs, spur_length_m, walked_twice_m
        ``closed``: every junction has two segments of the piece (one simple
        circuit, merges into one closed line). Spurs are the dead-end
        branches: what remains after peeling dead ends off a piece that holds a
        circuit, or what lies off the longest path of a tree. ``walked_twice_m``
        is the length a walker covers twice to walk every segment once: a
        closed walk back to the start for a piece with a circuit, an open walk
        for a tree (pairs of odd junctions joined greedily by the shortest way
        inside the piece, an upper estimate of the Chinese-postman repeat).
    """
    seg_u, seg_v, length = model.segment_u, model.segment_v, model.segment_length
    degree: dict[int, int] = {}
    at: dict[int, list[int]] = {}
    for s in piece:
        for node in (int(seg_u[s]), int(seg_v[s])):
            degree[node] = degree.get(node, 0) + 1
            at.setdefault(node, []).append(int(s))
    closed = all(d == 2 for d in degree.values())
    # Peel dead ends: what is left is the circuit part (empty for a tree).
    left = dict(degree)
    alive = set(int(s) for s in piece)
    stack = [n for n, d in left.items() if d == 1]
    while stack:
        node = stack.pop()
        if left[node] != 1:
            continue
        for s in at[node]:
            if s in alive:
                alive.discard(s)
                other = int(seg_v[s]) if int(seg_u[s]) == node else int(seg_u[s])
                left[node] -= 1
                left[other] -= 1
                if left[other] == 1:
                    stack.append(other)
                break
    dead_ends = [n for n, d in degree.items() if d == 1]
    total = float(length[list(piece)].sum())
    nodes = sorted(degree)
    index = {n: i for i, n in enumerate(nodes)}
    graph = scipy.sparse.csr_matrix(
        (
            np.concatenate([length[list(piece)], length[list(piece)]]),
            (
                np.array([index[int(seg_u[s])] for s in piece] + [index[int(seg_v[s])] for s in piece]),
                np.array([index[int(seg_v[s])] for s in piece] + [index[int(seg_u[s])] for s in piece]),
            ),
        ),
        shape=(len(nodes), len(nodes)),
    )
    odd = [index[n] for n, d in degree.items() if d % 2]
    dist = dijkstra(graph, directed=False, indices=odd) if odd else np.zeros((0, len(nodes)))
    if alive:
        spur_length = max(total - float(length[sorted(alive)].sum()), 0.0)
        n_spurs = len(dead_ends)
        unmatched = list(range(len(odd)))
    else:
        ends = dijkstra(graph, directed=False, indices=[0])[0]
        far = int(np.argmax(np.where(np.isfinite(ends), ends, -1)))
        from_far = dijkstra(graph, directed=False, indices=[far])[0]
        spine = float(np.max(np.where(np.isfinite(from_far), from_far, -1)))
        spur_length = max(total - spine, 0.0)
        n_spurs = max(len(dead_ends) - 2, 0)
        # An open walk may start and end at the two farthest odd junctions.
        pair = np.unravel_index(np.argmax(dist[:, odd]), (len(odd), len(odd))) if len(odd) >= 2 else ()
        unmatched = [i for i in range(len(odd)) if i not in set(pair)]
    twice = 0.0
    while len(unmatched) >= 2:
        i = unmatched.pop(0)
        j = min(unmatched, key=lambda k: dist[i, odd[k]])
        unmatched.remove(j)
        twice += float(dist[i, odd[j]])
    return closed, n_spurs, spur_length, twice


def _major_road_crossings(
    network: WalkNetwork, model: TrailPrizeModel, line: shapely.Geometry, own_segments: Sequence[int]
) -> int:
    """Places where ``line`` crosses or meets a primary/secondary street it does not follow (20 m apart)."""
    highway = network.edges["highway"].astype("string").fillna("")
    major = np.flatnonzero(highway.isin(list(MAJOR_ROAD_HIGHWAYS)).to_numpy())
    if major.size == 0 or line is None or line.is_empty:
        return 0
    own = (
        set(np.asarray(model.segment_edge[list(own_segments)], dtype=np.int64).tolist()) if len(own_segments) else set()
    )
    own_seg = set(int(s) for s in own_segments)
    major = np.asarray([e for e in major.tolist() if e not in own and int(model.segment_of_edge[e]) not in own_seg])
    if major.size == 0:
        return 0
    geoms = network.edges.geometry.to_numpy()[major]
    hit = shapely.STRtree(geoms).query(line, predicate="intersects")
    if hit.size == 0:
        return 0
    points = shapely.get_coordinates(shapely.intersection(line, shapely.union_all(geoms[hit])))
    if len(points) == 0:
        return 0
    groups = shapely.get_parts(shapely.union_all(shapely.buffer(shapely.points(points), 10.0)))
    return len(groups)


def _shape_row(
    network: WalkNetwork, model: TrailPrizeModel, segments: Sequence[int], line: shapely.Geometry | None
) -> dict[str, Any]:
    """The :data:`SHAPE_COLUMNS` of one trail (its matched or planned segments and its line)."""
    pieces = _components(model, list(segments))
    shapes = [_piece_shape(model, p) for p in pieces]
    return {
        "closed_line": len(pieces) == 1 and shapes[0][0],
        "n_breaks": max(len(pieces) - 1, 0),
        "n_spurs": int(sum(x[1] for x in shapes)),
        "spur_length_m": float(sum(x[2] for x in shapes)),
        "walked_twice_m": float(sum(x[3] for x in shapes)),
        "major_road_crossings": _major_road_crossings(network, model, line, segments) if line is not None else 0,
    }


@dataclass(eq=False)
class TrailPlan:
    """Planned fitness trails.

    Attributes
    ----------
    trails : geopandas.GeoDataFrame
        One row per trail: ``trail_id``, ``length_m``, ``population_reached``
        (underserved residents within reach of this trail), ``n_segments``,
        ``is_loop`` (holds a circuit), ``area_m2`` (length x width), ``kind``
        (``"fitness_trail"``), ``shape``, the :data:`SHAPE_COLUMNS`
        (``closed_line``: merges into one closed line; ``n_breaks``,
        ``n_spurs``, ``spur_length_m``, ``walked_twice_m``,
        ``major_road_crossings``); and, the same on every row, the plan's
        ``network_shape_reached`` (what the ``network`` shape reaches with the
        same budget), ``share_of_network_shape``, ``upper_bound``, ``gap`` and
        ``bound_shape`` (see below); merged (Multi)LineString geometry in the
        network CRS.
    segments : list of numpy.ndarray
        Per trail, indices into ``network.edges`` (one directed edge per street segment).
    segment_ids : list of numpy.ndarray
        Per trail, segment ids of :attr:`prize_model`.
    population_reached : float
        Underserved residents within reach of any trail (deduplicated).
    upper_bound : float
        Upper bound on what any plan within the rules could reach.
    gap : float
        ``(upper_bound - population_reached) / upper_bound`` (0 when optimal).
    method : str
        ``"heuristic"`` or ``"exact"`` (which solution was kept).
    budget_m, width_m : float
        Length budget and trail width used.
    prize_model : TrailPrizeModel
        The reach model (reuse it in :func:`check_trails`).
    shape : str
        ``"loop"``, ``"route"`` or ``"network"``.
    network_population_reached : float
        What the ``"network"`` shape (connected trees) reaches with the same
        budget and rules: the yardstick a loop or route plan is compared with.
    bound_shape : str
        Which problem :attr:`upper_bound` is proven for: ``shape`` itself (the
        exact MILP's bound), or ``"network"`` (the frontier bound of any
        connected plan, which also holds for loops and routes but ignores
        their shape).
    """

    trails: gpd.GeoDataFrame
    segments: list[np.ndarray]
    segment_ids: list[np.ndarray]
    population_reached: float
    upper_bound: float
    gap: float
    method: str
    budget_m: float
    width_m: float
    prize_model: TrailPrizeModel
    shape: str = "network"
    network_population_reached: float = math.nan
    bound_shape: str = "network"

    @property
    def total_length_m(self) -> float:
        """Total length of all trails (metres)."""
        return float(self.trails["length_m"].sum()) if len(self.trails) else 0.0

    @property
    def share_of_network(self) -> float:
        """``population_reached / network_population_reached`` (NaN when the yardstick reaches nobody)."""
        ref = self.network_population_reached
        return float(self.population_reached / ref) if ref and ref > 0 else math.nan

    def as_facilities(self) -> gpd.GeoDataFrame:
        """The trails as rows of the facilities table (kind ``fitness_trail``).

        Returns
        -------
        geopandas.GeoDataFrame
            ``facility_id`` (``"T1"``, ...), ``name``, ``kind``, ``area_m2``
            (length x width), ``area_source`` (``"length_x_width"``),
            ``open_to_public``, ``capacity`` (NaN), ``district`` (None),
            ``public_access`` (``"full"``), ``open_hours`` (None), geometry
            in the network CRS; ready to append to the facilities before
            re-running accessibility.
        """
        t = self.trails
        return gpd.GeoDataFrame(
            {
                "facility_id": [f"T{i}" for i in t["trail_id"]],
                "name": [
                    f"Planned fitness trail T{i} ({m / 1000:.1f} km)"
                    for i, m in zip(t["trail_id"], t["length_m"], strict=True)
                ],
                "kind": "fitness_trail",
                "area_m2": t["area_m2"].to_numpy(dtype=float),
                "area_source": "length_x_width",
                "open_to_public": True,
                "capacity": np.nan,
                "district": pd.Series([None] * len(t), dtype=object),
                "public_access": "full",
                "open_hours": pd.Series([None] * len(t), dtype=object),
            },
            geometry=t.geometry.to_numpy(),
            crs=t.crs,
        )


def plan_trails(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    *,
    budget_m: float = 10_000.0,
    min_trail_m: float = 1_000.0,
    max_trails: int = 3,
    reach_m: float = 500.0,
    underserved_column: str | None = None,
    edge_weights: str | np.ndarray | Sequence[float] | None = None,
    forbidden_edges: Any = None,
    forbidden_highways: Sequence[str] = DEFAULT_FORBIDDEN_HIGHWAYS,
    preferred_highways: Sequence[str] = DEFAULT_PREFERRED_HIGHWAYS,
    preference_factor: float = 0.8,
    green_land: gpd.GeoDataFrame | None = None,
    width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    method: Literal["auto", "heuristic", "exact"] = "auto",
    time_limit_s: float = 20.0,
    n_starts: int = 3,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    prize_model: TrailPrizeModel | None = None,
    shape: Literal["loop", "route", "network"] = "loop",
    max_spur_m: float = 0.0,
) -> TrailPlan:
    """Plan fitness trails that bring the most underserved residents within reach.

    Chooses up to ``max_trails`` trails, each at least ``min_trail_m`` long,
    with a total length within ``budget_m``, that maximise the underserved
    population (deduplicated) within ``reach_m`` walk of a trail. The trail's
    ``shape`` is part of the problem:

    - ``"loop"`` (default): each trail is a closed circuit along the walk
      network, no street and no junction walked twice; it merges into one
      closed line.
    - ``"route"``: each trail is an open path, nothing walked twice.
    - ``"network"``: each trail is any connected set of streets (a tree with
      spurs, sometimes closing a loop): the widest reach, but a comb nobody
      walks end to end.

    ``max_spur_m > 0`` lets loops and routes hang dead-end access spurs of at
    most that length when they add residents (the spurs count in the budget).

    The ``network`` heuristic seeds trails on the best segments (spread at
    least ``2 x reach_m`` apart), grows them by the addition - an adjacent
    segment or a short path to a valuable segment - with the best new
    population per metre, swaps low-value leaf segments for better ones, and
    closes loops when the leftover budget allows; it is run for
    1..``max_trails`` trails and ``n_starts`` first seeds. Loops and routes are
    an orienteering problem with coverage prizes (see
    :mod:`ordos_geo._orienteering`): GRASP starts, one of them from the spine of
    the ``network`` plan, then an iterated local search with add, drop and
    2-opt-style stretch replacements; small instances are also solved exactly
    (MILP with lazily added subtour cuts). The ``network`` plan is always
    computed too, and :attr:`TrailPlan.network_population_reached` reports it.

    Parameters
    ----------
    network : WalkNetwork
        Projected walk network.
    cells : geopandas.GeoDataFrame
        Population cells in ``network.crs``: ``population`` and ``dist_m_any``
        (from accessibility) or ``underserved_column``.
    budget_m : float
        Total trail length allowed (metres of street, true length).
    min_trail_m : float
        Minimum length of each trail (metres; capped at the budget).
    max_trails : int
        Maximum number of separate trails.
    reach_m : float
        Walk distance from a residence to a trail that counts as reached.
    underserved_column : str, optional
        Boolean column marking underserved cells (default: ``dist_m_any`` > 1 km or unreachable).
    edge_weights : str or array-like, optional
        Per directed edge multiplier (or a column of ``network.edges``) of the
        cost used to choose segments; the budget always uses true length.
    forbidden_edges : array-like of int, boolean mask or GeoDataFrame, optional
        Edges a trail may not use: indices into ``network.edges``, a mask over
        them, or lines to avoid (edges whose midpoint is within 10 m).
    forbidden_highways : sequence of str
        Highway tags never used (motorways and trunks).
    preferred_highways : sequence of str
        Highway tags preferred: their choice cost is multiplied by ``preference_factor``.
    preference_factor : float
        Cost multiplier for preferred edges and edges inside ``green_land``.
    green_land : geopandas.GeoDataFrame, optional
        Park / green polygons; edges whose midpoint lies inside are preferred.
    width_m : float
        Trail width for the venue area (m).
    method : {"auto", "heuristic", "exact"}
        ``"auto"`` runs the heuristic and, when at most
        :data:`EXACT_MAX_SEGMENTS` (30) segments are allowed, also the exact
        MILP (HiGHS), keeping the better plan;
        ``"exact"`` always solves the MILP (small instances only).
    time_limit_s : float
        Time limit of the MILP (seconds); on timeout the best solution and the
        solver's bound are used.
    n_starts : int
        Multi-start: the heuristic is run with the first trail seeded on each of
        the ``n_starts`` best spread-out segments (for each trail count).
    max_snap_distance_m : float
        Cells farther than this from the network reach nothing.
    prize_model : TrailPrizeModel, optional
        Reuse a model from :func:`build_prize_model` (its ``reach_m`` wins).
    shape : {"loop", "route", "network"}
        Shape of each trail (see above).
    max_spur_m : float
        Longest dead-end spur a loop or route may hang (metres; 0: none).

    Returns
    -------
    TrailPlan

    Examples
    --------
    >>> from ordos_geo import pipeline, trails
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> plan = trails.plan_trails(study.network, acc.cells, budget_m=10_000)  # doctest: +SKIP
    >>> bool(plan.trails["closed_line"].all())  # doctest: +SKIP
    True

    Raises
    ------
    InputDataError
        Bad inputs (CRS mismatch, missing columns, non-positive budget).
    SolverError
        The MILP ended without a usable status.
    """
    if budget_m <= 0 or min_trail_m < 0 or max_trails < 1:
        msg = (
            f"plan_trails: budget_m must be > 0, min_trail_m >= 0 and max_trails >= 1 "
            f"(got {budget_m}, {min_trail_m}, {max_trails})"
        )
        raise InputDataError(msg)
    if not 0 < preference_factor <= 1:
        msg = f"plan_trails: preference_factor must lie in (0, 1], got {preference_factor}"
        raise InputDataError(msg)
    if shape not in TRAIL_SHAPES:
        msg = f"plan_trails: shape must be one of {', '.join(TRAIL_SHAPES)}, got {shape!r}"
        raise InputDataError(msg)
    if not max_spur_m >= 0:
        msg = f"plan_trails: max_spur_m must be >= 0 metres, got {max_spur_m}"
        raise InputDataError(msg)
    if prize_model is None:
        prize_model = build_prize_model(
            network,
            cells,
            reach_m=reach_m,
            underserved_column=underserved_column,
            max_snap_distance_m=max_snap_distance_m,
        )
    model = prize_model
    min_len = min(float(min_trail_m), float(budget_m))
    forbidden = _forbidden_segments(network, model, forbidden_edges, forbidden_highways)
    allowed = ~forbidden
    cost = _choice_costs(
        network,
        model,
        edge_weights=edge_weights,
        preferred_highways=preferred_highways,
        preference_factor=preference_factor,
        green_land=green_land,
    )
    planner = _Planner(model, allowed, cost, budget_m=budget_m, min_trail_m=min_len, jump_m=model.reach_m)

    best_segments: list[int] = []
    best_value = -1.0
    kept = "heuristic"
    if method in ("auto", "heuristic") or shape != "network":
        # Multi-start: the first trail starts on each of the n_starts best spread-out segments.
        planner.reset()
        planner.seed(max(int(n_starts), 1), 2 * model.reach_m, network.node_xy)
        firsts = [t.segments[0] for t in planner.trails] or [None]
        for k, first in itertools.product(range(1, max_trails + 1), firsts):
            if k > 1 and k * min_len > budget_m + 1e-9:
                break
            planner.reset()
            planner.seed(k, 2 * model.reach_m, network.node_xy, first=first)
            planner.grow()
            planner.improve()
            planner.close_loops()
            segments = [s for t in planner.trails for s in t.segments]
            segments = [s for c in _components(model, segments) if _long_enough(model, c, min_len) for s in c]
            value = model.population_reached(segments)
            logger.debug("trail heuristic with %d seeds: %.0f residents", k, value)
            if value > best_value + 1e-9 or (abs(value - best_value) <= 1e-9 and len(segments) < len(best_segments)):
                best_value, best_segments = value, segments
    upper = _upper_bound(model, allowed, budget_m=budget_m, max_trails=max_trails)
    n_allowed = int(allowed.sum())
    run_exact = method == "exact" or (method == "auto" and n_allowed <= EXACT_MAX_SEGMENTS)
    if run_exact and shape == "network":
        chosen, objective, dual, status = _solve_exact(
            model, allowed, budget_m=budget_m, min_trail_m=min_len, max_trails=max_trails, time_limit_s=time_limit_s
        )
        logger.info("exact trail MILP: %s, %.0f residents, bound %.0f", status, objective, dual)
        upper = min(upper, dual)
        if objective > best_value + 1e-9:
            best_value, best_segments, kept = objective, chosen, "exact"
    network_value = max(best_value, 0.0)
    bound_shape = "network"
    pieces: list[list[int]] | None = None
    if shape != "network":
        problem = _orienteering.RouteProblem(
            reach=model.reach,
            weight=model.population,
            seg_u=model.segment_u,
            seg_v=model.segment_v,
            seg_len=model.segment_length,
            cost=cost,
            allowed=allowed,
            shape=shape,
            budget=float(budget_m),
            min_len=min_len,
            max_trails=int(max_trails),
        )
        found = _orienteering.solve_heuristic(
            problem,
            network.node_xy,
            warm_start=best_segments,
            n_starts=n_starts,
            spread_m=2 * model.reach_m,
            max_spur_m=float(max_spur_m),
        )
        best_value, pieces, kept = found.value, found.trails, "heuristic"
        logger.info("trail %s heuristic: %.0f residents (network shape: %.0f)", shape, found.value, network_value)
        if run_exact:
            exact = _orienteering.solve_exact(
                problem, time_limit_s=time_limit_s, warm_start=[p for p in found.trails] if max_spur_m == 0 else None
            )
            logger.info("exact %s MILP: %s, %.0f residents, bound %.0f", shape, exact.status, exact.value, exact.bound)
            if max_spur_m == 0:  # the MILP has no spurs: its bound holds for this shape only without them
                upper, bound_shape = min(upper, exact.bound), shape
            if exact.value > best_value + 1e-9 or (method == "exact" and exact.value >= best_value - 1e-9):
                best_value, pieces, kept = exact.value, exact.trails, "exact"
        best_segments = [s for p in pieces for s in p]
    best_value = max(best_value, 0.0)
    if best_value <= 0:
        logger.warning("trails: no underserved resident can be reached by a trail; the plan is empty")
        best_segments = []
        pieces = []
    upper = max(upper, best_value)

    trails = []
    for comp in pieces if pieces is not None else _components(model, best_segments):
        if not _long_enough(model, comp, min_len):
            logger.warning(
                "trails: dropped a %.0f m trail that cannot reach min_trail_m=%.0f m on allowed streets",
                model.segment_length[comp].sum(),
                min_len,
            )
            continue
        trails.append(comp)
    if sum(len(c) for c in trails) != len(best_segments):
        best_value = model.population_reached([s for c in trails for s in c])
    trails.sort(key=lambda c: -model.population_reached(c))
    rows = []
    for i, comp in enumerate(trails, start=1):
        length = float(model.segment_length[comp].sum())
        geometry = _merged_geometry(network, model, comp)
        rows.append(
            {
                "trail_id": i,
                "length_m": length,
                "population_reached": model.population_reached(comp),
                "n_segments": len(comp),
                "is_loop": _trail_is_loop(model, comp),
                "area_m2": length * width_m,
                "kind": "fitness_trail",
                "shape": shape,
                **_shape_row(network, model, comp, geometry),
                "geometry": geometry,
            }
        )
    columns = [
        "trail_id",
        "length_m",
        "population_reached",
        "n_segments",
        "is_loop",
        "area_m2",
        "kind",
        "shape",
        *SHAPE_COLUMNS,
        "geometry",
    ]
    table = gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry", crs=network.crs)
    table = table.astype(
        {
            "trail_id": int,
            "length_m": float,
            "population_reached": float,
            "n_segments": int,
            "shape": str,
            "n_breaks": int,
            "n_spurs": int,
            "spur_length_m": float,
            "walked_twice_m": float,
            "major_road_crossings": int,
        }
    )
    table["is_loop"] = table["is_loop"].astype(bool)
    table["closed_line"] = table["closed_line"].astype(bool)
    gap = (upper - best_value) / upper if upper > 0 else 0.0
    # The plan-level yardstick and bound, on every row so the report, map popups and GeoPackage show them.
    network_value = network_value if shape != "network" else best_value
    table.insert(len(table.columns) - 1, "network_shape_reached", float(network_value))
    table.insert(
        len(table.columns) - 1, "share_of_network_shape", best_value / network_value if network_value > 0 else np.nan
    )
    table.insert(len(table.columns) - 1, "upper_bound", float(upper))
    table.insert(len(table.columns) - 1, "gap", float(max(gap, 0.0)))
    table.insert(len(table.columns) - 1, "bound_shape", bound_shape)
    logger.info(
        "trails: %d %s(s) planned, %.0f m of %.0f m budget, %.0f underserved residents reached "
        "(bound %.0f, gap %.1f%%)",
        len(table),
        shape,
        table["length_m"].sum() if len(table) else 0.0,
        budget_m,
        best_value,
        upper,
        100 * gap,
    )
    return TrailPlan(
        trails=table,
        segments=[model.segment_edge[np.asarray(c, dtype=np.int64)] for c in trails],
        segment_ids=[np.asarray(sorted(c), dtype=np.int64) for c in trails],
        population_reached=float(best_value),
        upper_bound=float(upper),
        gap=float(max(gap, 0.0)),
        method=kept,
        budget_m=float(budget_m),
        width_m=float(width_m),
        prize_model=model,
        shape=shape,
        network_population_reached=float(network_value),
        bound_shape=bound_shape,
    )


# --------------------------------------------------------------------------------------------------
# Checking proposed trails
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class TrailCheck:
    """The check of proposed trail lines against the network.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per underserved neighbourhood, per district and a total row
        (see :func:`trail_report`).
    lines : geopandas.GeoDataFrame
        One row per proposed line: ``line`` (row position), ``length_m`` (drawn),
        ``matched_length_m``, ``off_network_length_m``, ``credited_length_m``
        (drawn length less the part off the network), ``n_pieces`` (connected
        pieces of matched network), ``population_reached``, ``is_loop`` (the
        matched streets hold a circuit), the :data:`SHAPE_COLUMNS` of the
        matched streets (``closed_line``, ``n_breaks`` = pieces - 1,
        ``n_spurs`` and ``spur_length_m`` of dead-end spurs,
        ``walked_twice_m``, ``major_road_crossings`` of primary/secondary
        streets by the drawn line), geometry (as drawn, in the network CRS).
    matched : geopandas.GeoDataFrame
        Matched street segments: ``line``, ``segment``, ``edge`` (index into
        ``network.edges``), ``piece`` (connected piece id), ``length_m``, geometry.
    off_network : geopandas.GeoDataFrame
        Parts of the proposed lines farther than ``max_snap_distance_m`` from
        every street: ``line``, ``length_m``, geometry.
    segment_ids : numpy.ndarray
        Matched segment ids of :attr:`prize_model`.
    population_reached_before, population_reached_after : float
        Underserved residents reached before (existing trails) and after.
    total_length_m : float
        Credited length of all proposed lines: drawn length less the parts
        off the network (those add no trail area).
    width_m : float
        Trail width for the venue area (m).
    prize_model : TrailPrizeModel
        The reach model used (same rule as the planner).
    """

    report: pd.DataFrame
    lines: gpd.GeoDataFrame
    matched: gpd.GeoDataFrame
    off_network: gpd.GeoDataFrame
    segment_ids: np.ndarray
    population_reached_before: float
    population_reached_after: float
    total_length_m: float
    width_m: float
    prize_model: TrailPrizeModel


def _sample_line(line: shapely.Geometry, spacing: float) -> np.ndarray:
    """Points every ``spacing`` metres along each part of a (Multi)LineString, ends included."""
    points = []
    for part in shapely.get_parts(line):
        n = max(math.ceil(part.length / spacing), 1)
        distances = np.linspace(0.0, part.length, n + 1)
        points.append(shapely.get_coordinates(shapely.line_interpolate_point(part, distances)))
    return np.concatenate(points) if points else np.zeros((0, 2))


def check_trails(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    reach_m: float = 500.0,
    max_snap_distance_m: float = 50.0,
    match_tolerance_m: float = 25.0,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    underserved_column: str | None = None,
    existing_reached_column: str = "existing_reached",
    width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    prize_model: TrailPrizeModel | None = None,
) -> TrailCheck:
    """Snap proposed trail lines to the network and report whom they reach.

    Each line is sampled every 20 m; samples farther than
    ``max_snap_distance_m`` from every street are off-network, and the exact
    off-network parts (the line outside a ``max_snap_distance_m`` buffer of the
    nearby streets) are reported with their length. A street segment is matched
    when at least half of its length lies within ``match_tolerance_m`` of the
    line; matched segments form connected pieces (more than one piece per line
    means the trail is broken on the network). Population reached uses the same
    reach rule as :func:`plan_trails`.

    Parameters
    ----------
    network : WalkNetwork
        Projected walk network.
    cells : geopandas.GeoDataFrame
        Population cells in ``network.crs`` (``population``, ``dist_m_any`` or
        ``underserved_column``, optionally ``district`` and a boolean
        ``existing_reached_column`` for residents existing trails already reach).
    proposed : geopandas.GeoDataFrame
        Proposed trail (Multi)LineStrings in any CRS (projected to ``network.crs``).
    reach_m : float
        Walk distance from a residence to a trail (metres).
    max_snap_distance_m : float
        Parts of the lines farther than this from the network are off-network.
    match_tolerance_m : float
        Distance within which a street counts as followed by the line.
    neighbourhoods : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``AccessibilityResult.underserved``:
        ``neighbourhood_id``, ``population``, ``district``, polygon geometry).
    underserved_column : str, optional
        Boolean column marking underserved cells.
    existing_reached_column : str
        Boolean column of ``cells`` marking residents existing trails reach;
        when absent, ``dist_m_fitness_trail <= reach_m`` if that column exists,
        else nobody.
    width_m : float
        Trail width for the added venue area (m).
    prize_model : TrailPrizeModel, optional
        Reuse a model (for example ``plan.prize_model``); its ``reach_m`` wins.

    Returns
    -------
    TrailCheck
    """
    if not isinstance(proposed, gpd.GeoDataFrame | gpd.GeoSeries) or len(proposed) == 0:
        msg = "proposed trails: expected a non-empty GeoDataFrame of LineStrings"
        raise InputDataError(msg)
    if proposed.crs is None:
        msg = "proposed trails: the lines have no CRS; set it (e.g. gdf.set_crs('EPSG:4326'))"
        raise InputDataError(msg)
    lines_geom = proposed.to_crs(network.crs).geometry.to_numpy()
    kinds = shapely.get_type_id(lines_geom)
    bad = np.flatnonzero(~np.isin(kinds, [1, 5]))  # LineString, MultiLineString
    if bad.size:
        msg = (
            f"proposed trails: {bad.size} geometries are not (Multi)LineStrings (rows "
            f"{', '.join(map(str, bad[:10].tolist()))}); draw trails as lines"
        )
        raise InputDataError(msg)
    if prize_model is None:
        prize_model = build_prize_model(network, cells, reach_m=reach_m, underserved_column=underserved_column)
    model = prize_model
    edge_geoms = network.edges.geometry.to_numpy()
    seg_geoms = edge_geoms[model.segment_edge]
    tree = shapely.STRtree(seg_geoms)

    line_rows, matched_rows, off_rows = [], [], []
    all_segments: set[int] = set()
    for i, line in enumerate(lines_geom):
        samples = shapely.points(_sample_line(line, CHECK_SAMPLE_SPACING_M))
        near, _ = tree.query_nearest(samples, max_distance=max_snap_distance_m, all_matches=False)
        # Exact off-network part: the line outside the snap buffer of nearby streets.
        nearby = tree.query(line, predicate="dwithin", distance=max_snap_distance_m)
        if len(near) < len(samples) or nearby.size == 0:
            covered = shapely.union_all(shapely.buffer(seg_geoms[nearby], max_snap_distance_m)) if nearby.size else None
            off = line if covered is None else shapely.difference(line, covered)
        else:
            off = shapely.LineString()
        off_len = float(shapely.length(off))
        if off_len > 1e-6:
            off_rows.append(
                {
                    "line": i,
                    "length_m": off_len,
                    "geometry": shapely.line_merge(off) if off.geom_type == "MultiLineString" else off,
                }
            )
        # Matched segments: at least half their length within match_tolerance of the line.
        cand = tree.query(line, predicate="dwithin", distance=match_tolerance_m)
        matched: list[int] = []
        if cand.size:
            band = shapely.buffer(line, match_tolerance_m)
            inside = shapely.length(shapely.intersection(seg_geoms[cand], band))
            full = np.maximum(shapely.length(seg_geoms[cand]), 1e-9)
            matched = cand[inside >= 0.5 * full - 1e-6].tolist()
        pieces = _components(model, matched)
        for p, piece in enumerate(pieces):
            for s in piece:
                matched_rows.append(
                    {
                        "line": i,
                        "segment": int(s),
                        "edge": int(model.segment_edge[s]),
                        "piece": p,
                        "length_m": float(model.segment_length[s]),
                        "geometry": seg_geoms[s],
                    }
                )
        all_segments.update(matched)
        line_rows.append(
            {
                "line": i,
                "length_m": float(shapely.length(line)),
                "matched_length_m": float(model.segment_length[matched].sum()) if matched else 0.0,
                "off_network_length_m": off_len,
                "credited_length_m": max(float(shapely.length(line)) - off_len, 0.0),
                "n_pieces": len(pieces),
                "population_reached": model.population_reached(matched),
                "is_loop": bool(matched) and _trail_is_loop(model, matched),
                **_shape_row(network, model, matched, line),
                "geometry": line,
            }
        )
        if not matched and off_len >= float(shapely.length(line)) - 1.0:
            msg = (
                f"proposed trail {i + 1} ({shapely.length(line):,.0f} m) lies wholly off the walk network, farther "
                f"than {max_snap_distance_m:g} m from every street; check its coordinates and datum "
                "(--proposed-trails-coordinates) or draw it along walkable streets"
            )
            raise InputDataError(msg)
        if len(pieces) > 1:
            logger.warning("proposed trail %d is broken into %d pieces on the walk network", i, len(pieces))
        if off_len > 1:
            logger.warning("proposed trail %d: %.0f m lie off the walk network", i, off_len)
    crs = network.crs
    lines = gpd.GeoDataFrame(pd.DataFrame(line_rows), geometry="geometry", crs=crs)
    matched_gdf = gpd.GeoDataFrame(
        pd.DataFrame(matched_rows, columns=["line", "segment", "edge", "piece", "length_m", "geometry"]),
        geometry="geometry",
        crs=crs,
    )
    off_gdf = gpd.GeoDataFrame(
        pd.DataFrame(off_rows, columns=["line", "length_m", "geometry"]), geometry="geometry", crs=crs
    )
    segment_ids = np.asarray(sorted(all_segments), dtype=np.int64)
    total_length = float(lines["credited_length_m"].sum())  # parts off the network are not credited
    report = _report_table(
        model,
        cells,
        segment_ids,
        neighbourhoods=neighbourhoods,
        trail_geometry=shapely.union_all(lines_geom),
        total_length_m=total_length,
        width_m=width_m,
        existing_reached_column=existing_reached_column,
    )
    total = report.iloc[-1]
    return TrailCheck(
        report=report,
        lines=lines,
        matched=matched_gdf,
        off_network=off_gdf,
        segment_ids=segment_ids,
        population_reached_before=float(total["reached_before"]),
        population_reached_after=float(total["reached_after"]),
        total_length_m=total_length,
        width_m=float(width_m),
        prize_model=model,
    )


REPORT_COLUMNS: tuple[str, ...] = (
    "level",
    "neighbourhood_id",
    "district",
    "underserved_population",
    "reached_before",
    "reached_after",
    "added",
    "share_before",
    "share_after",
    "trail_length_m",
    "added_area_m2",
    "missed",
)


def _report_table(
    model: TrailPrizeModel,
    cells: gpd.GeoDataFrame,
    segment_ids: np.ndarray,
    *,
    neighbourhoods: gpd.GeoDataFrame | None,
    trail_geometry: shapely.Geometry | None,
    total_length_m: float,
    width_m: float,
    existing_reached_column: str,
) -> pd.DataFrame:
    if len(cells) != model.n_cells:
        msg = (
            f"cells: {len(cells)} rows, but the trail prize model was built on {model.n_cells}; "
            "pass the same cells the plan or check used"
        )
        raise InputDataError(msg)
    positions = model.cell_positions
    population = model.population
    after = np.zeros(len(positions), dtype=bool)
    after[model.reached_cells(segment_ids)] = True
    if existing_reached_column in cells.columns:
        before = cells[existing_reached_column].to_numpy(dtype=bool)[positions]
    elif "dist_m_fitness_trail" in cells.columns:  # existing trails, from the accessibility stage
        before = cells["dist_m_fitness_trail"].to_numpy(dtype=float)[positions] <= model.reach_m
    else:
        before = np.zeros(len(positions), dtype=bool)
    after |= before
    if "district" in cells.columns:
        district = cells["district"].to_numpy(dtype=object)[positions]
    else:
        district = np.full(len(positions), None, dtype=object)
    frame = pd.DataFrame({"population": population, "before": before * population, "after": after * population})
    rows = []
    if neighbourhoods is not None and len(neighbourhoods):
        if "neighbourhood_id" not in neighbourhoods.columns:
            msg = "neighbourhoods: column `neighbourhood_id` is missing; pass AccessibilityResult.underserved"
            raise InputDataError(msg)
        hood = neighbourhoods.to_crs(cells.crs) if neighbourhoods.crs is not None else neighbourhoods
        centroids = cells.geometry.iloc[positions].centroid.to_numpy()
        tree = shapely.STRtree(hood.geometry.to_numpy())
        pts, polys = tree.query(centroids, predicate="within")
        owner = np.full(len(positions), -1, dtype=np.int64)
        owner[pts] = polys
        frame["hood"] = owner
        sums = frame[frame["hood"] >= 0].groupby("hood")[["population", "before", "after"]].sum()
        hood_district = (
            hood["district"].to_numpy(dtype=object) if "district" in hood.columns else np.full(len(hood), None)
        )
        lengths = (
            shapely.length(shapely.intersection(hood.geometry.to_numpy(), trail_geometry))
            if trail_geometry is not None
            else np.zeros(len(hood))
        )
        for j in range(len(hood)):
            pop, bef, aft = sums.loc[j].tolist() if j in sums.index else [0.0, 0.0, 0.0]
            rows.append(
                {
                    "level": "neighbourhood",
                    "neighbourhood_id": hood["neighbourhood_id"].iloc[j],
                    "district": hood_district[j],
                    "underserved_population": pop,
                    "reached_before": bef,
                    "reached_after": aft,
                    "trail_length_m": float(lengths[j]),
                }
            )
        # Cells outside any polygon take the district of the cells table.
    frame["district"] = pd.Series(district, dtype=object).fillna("unknown").to_numpy()
    for name, group in frame.groupby("district", sort=True):
        rows.append(
            {
                "level": "district",
                "neighbourhood_id": None,
                "district": name,
                "underserved_population": group["population"].sum(),
                "reached_before": group["before"].sum(),
                "reached_after": group["after"].sum(),
                "trail_length_m": np.nan,
            }
        )
    rows.append(
        {
            "level": "total",
            "neighbourhood_id": None,
            "district": None,
            "underserved_population": frame["population"].sum(),
            "reached_before": frame["before"].sum(),
            "reached_after": frame["after"].sum(),
            "trail_length_m": total_length_m,
        }
    )
    table = pd.DataFrame(rows)
    table["neighbourhood_id"] = pd.Series([r["neighbourhood_id"] for r in rows], dtype=object)
    table["added"] = table["reached_after"] - table["reached_before"]
    with np.errstate(invalid="ignore", divide="ignore"):
        pop = table["underserved_population"].to_numpy(dtype=float)
        table["share_before"] = np.where(pop > 0, table["reached_before"] / np.where(pop > 0, pop, 1), np.nan)
        table["share_after"] = np.where(pop > 0, table["reached_after"] / np.where(pop > 0, pop, 1), np.nan)
    table["added_area_m2"] = table["trail_length_m"] * width_m
    table["missed"] = (table["added"] <= 0) & (table["underserved_population"] > 0)
    return table[list(REPORT_COLUMNS)].reset_index(drop=True)


def trail_report(
    result: TrailPlan | TrailCheck,
    cells: gpd.GeoDataFrame,
    *,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    existing_reached_column: str = "existing_reached",
) -> pd.DataFrame:
    """Report whom planned or checked trails reach, per neighbourhood, district and in total.

    Parameters
    ----------
    result : TrailPlan or TrailCheck
        Output of :func:`plan_trails` or :func:`check_trails`.
    cells : geopandas.GeoDataFrame
        The same population cells the result was computed on.
    neighbourhoods : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``AccessibilityResult.underserved``).
    existing_reached_column : str
        Boolean column of ``cells`` marking residents existing trails already
        reach; when absent, ``dist_m_fitness_trail <= reach_m`` (from the
        accessibility stage) is used if present, else nobody.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``"neighbourhood"`` / ``"district"`` / ``"total"``),
        ``neighbourhood_id``, ``district``, ``underserved_population``,
        ``reached_before``, ``reached_after``, ``added``, ``share_before``,
        ``share_after``, ``trail_length_m`` (trail length inside the
        neighbourhood; total length on the total row; NaN on district rows),
        ``added_area_m2`` (length x width) and ``missed`` (no resident added).
    """
    if isinstance(result, TrailPlan):
        segment_ids = np.concatenate(result.segment_ids) if result.segment_ids else np.zeros(0, dtype=np.int64)
        geometry = shapely.union_all(result.trails.geometry.to_numpy()) if len(result.trails) else None
        total = result.total_length_m
    else:
        segment_ids = result.segment_ids
        geometry = shapely.union_all(result.lines.geometry.to_numpy())
        total = result.total_length_m
    return _report_table(
        result.prize_model,
        cells,
        segment_ids,
        neighbourhoods=neighbourhoods,
        trail_geometry=geometry,
        total_length_m=total,
        width_m=result.width_m,
        existing_reached_column=existing_reached_column,
    )
