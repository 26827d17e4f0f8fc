"""The prize model: which underserved residents each street segment of the walk network reaches.

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
in both directions. Distances come from the routing engine's bounded search
(:func:`ordos_geo.routing.node_distances_within`, within ``reach_m``), and the
reach is stored as a sparse ``segments x cells`` matrix
(:class:`TrailPrizeModel`).

All geometry is in the network's metric CRS (``WalkNetwork.crs``); lengths in
metres, areas in m².
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely

from ordos_geo import settings
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_network_frame
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import SnappedPoints, node_distances_within, snap_points

__all__ = ["UNDERSERVED_DISTANCE_M", "TrailPrizeModel", "build_prize_model", "underserved_mask"]

logger = logging.getLogger(__name__)

#: Cells farther than this walk from any facility are underserved (the 15-minute circle).
UNDERSERVED_DISTANCE_M: float = 1_000.0
#: Walk metres from a cell to the nearest facility of any kind (written by accessibility).
_DIST_ANY = dist_column(ANY_KIND)


def _pair_directed_edges(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
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
    # Group equal (low, high, length) keys: a stable lexsort, what np.unique(axis=0) does, minus its slow row view.
    by_key = np.lexsort((length_dm, high, low))
    low, high, length_dm = low[by_key], high[by_key], length_dm[by_key]
    new = np.ones(len(by_key), dtype=bool)
    new[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1]) | (length_dm[1:] != length_dm[:-1])
    segment_of_edge = np.empty(len(by_key), dtype=np.int64)
    segment_of_edge[by_key] = np.cumsum(new) - 1
    first = by_key[new]  # the first edge of each key (the sort is stable)
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

    Examples
    --------
    >>> cells = pd.DataFrame({"dist_m_any": [400.0, 1500.0, np.inf]})
    >>> underserved_mask(cells).tolist()  # beyond 1,000 m or unreachable
    [False, True, True]
    """
    if underserved_column is not None:
        if underserved_column not in cells.columns:
            msg = (
                f"cells: column `{underserved_column}` (underserved_column) is missing; pass the name of a boolean "
                f"column marking underserved cells, or None to use `{_DIST_ANY}`"
            )
            raise InputDataError(msg)
        values = cells[underserved_column]
        if values.isna().any():
            msg = f"cells: column `{underserved_column}` has missing values; fill them with True/False"
            raise InputDataError(msg)
        return values.to_numpy(dtype=bool)
    if _DIST_ANY not in cells.columns:
        msg = (
            f"cells: column `{_DIST_ANY}` is missing, so underserved cells are unknown; run "
            "ordos_geo.accessibility.compute_accessibility first and pass its `.cells`, or pass "
            "underserved_column='<boolean column>'"
        )
        raise InputDataError(msg)
    dist = cells[_DIST_ANY].to_numpy(dtype=float)
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


def _snap_to_edges(
    network: WalkNetwork, points: np.ndarray, *, max_snap_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Snap ``(k, 2)`` points to the nearest directed edge with :func:`ordos_geo.routing.snap_points`.

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


def _given_snaps(
    snapped: SnappedPoints, positions: np.ndarray, *, n_cells: int, max_snap_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Edge and offset of the cells at ``positions`` from snaps made before (one access point per cell).

    Snaps farther than ``max_snap_distance_m`` reach nothing (``edge = -1``),
    as if the cells had been snapped here with that limit.
    """
    owner = np.asarray(snapped.owner, dtype=np.int64)
    if snapped.n_owners != n_cells or len(owner) != n_cells or np.any(owner != np.arange(n_cells)):
        msg = (
            f"cells_snapped: expected one access point per cell for the {n_cells} cells (their centroids, as in "
            f"AccessibilityResult.cells_snapped), got {len(owner)} access points of {snapped.n_owners} rows; "
            "pass the snaps of these cells or None"
        )
        raise InputDataError(msg)
    edge = np.asarray(snapped.edge, dtype=np.int64)[positions]
    distance = np.asarray(snapped.snap_distance_m, dtype=float)[positions]
    edge = np.where(distance <= max_snap_distance_m, edge, -1)
    offset = np.nan_to_num(np.asarray(snapped.offset_m, dtype=float)[positions])
    return edge, offset


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

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0], "dist_m_any": [400.0, 1500.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> model = build_prize_model(net, cells, reach_m=50.0)
    >>> model.total_population, model.population_reached([0]), model.population_reached([1])
    (80.0, 0.0, 80.0)
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
    check_network_frame(cells, network.crs, what="cells")  # its CRS, and no missing or empty geometry
    population = cells["population"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(population) | (population < 0))
    if bad.size:
        msg = f"cells: column `population` has {bad.size} negative or non-finite values; fix or drop those cells"
        raise InputDataError(msg)


def build_prize_model(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    *,
    reach_m: float = settings.DEFAULT_TRAIL_REACH_M,
    underserved_column: str | None = None,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    chunk_cells: int = 20_000,
    cells_snapped: SnappedPoints | None = None,
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
    cells_snapped : SnappedPoints, optional
        The cells' snaps onto the network made before, one access point per
        cell at its centroid (``AccessibilityResult.cells_snapped``); the cells
        are then not snapped again. Snaps farther than ``max_snap_distance_m``
        reach nothing.

    Returns
    -------
    TrailPrizeModel

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0], "dist_m_any": [400.0, 1500.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> model = build_prize_model(net, cells, reach_m=50.0)  # the second cell is underserved
    >>> model.n_segments, model.cell_positions.tolist(), model.segment_population.tolist()
    (2, [1], [0.0, 80.0])
    """
    if reach_m <= 0:
        msg = f"reach_m must be positive (metres of walk to a trail), got {reach_m}"
        raise InputDataError(msg)
    _check_cells(network, cells)
    underserved = underserved_mask(cells, underserved_column=underserved_column)
    segment_of_edge, segment_edge = _pair_directed_edges(network.edge_table)
    edges_u = network.edge_table["u"].to_numpy(dtype=np.int64)
    edges_v = network.edge_table["v"].to_numpy(dtype=np.int64)
    edges_len = network.edge_table["length"].to_numpy(dtype=float)
    seg_u, seg_v, seg_len = edges_u[segment_edge], edges_v[segment_edge], edges_len[segment_edge]
    n_seg = len(segment_edge)

    positions = np.flatnonzero(underserved & (cells["population"].to_numpy(dtype=float) > 0))
    population = cells["population"].to_numpy(dtype=float)[positions]
    if cells_snapped is not None:
        edge, offset = _given_snaps(
            cells_snapped, positions, n_cells=len(cells), max_snap_distance_m=max_snap_distance_m
        )
    elif len(positions):
        centroids = shapely.get_coordinates(cells.geometry.iloc[positions].centroid.to_numpy())
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

    indptr, targets, distances = node_distances_within(network, ends, reach_m)
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
