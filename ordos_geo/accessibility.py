"""Walking accessibility: snapping on edges, nearest facilities, coverage, catchments.

Everything here works in the walk network's metric CRS (``WalkNetwork.crs``);
distances are metres along the walk network. Inputs must already be in that CRS
(``gdf.to_crs(network.crs)``).

Snapping
--------
Points are projected onto the nearest street *segment* (not the nearest node),
and the distance from the snap point is counted along the edge, so a cell in the
middle of a long block is not given false zero-distance access to a node. The
straight-line leg from a point to its snap point is **not** part of any network
distance; it is reported separately as ``snap_distance_m``. A point farther than
``max_snap_distance_m`` from every street is unreachable (distance ``inf``).

How each geometry is reached:

- points: the point itself;
- population cells (origins): the cell centroid;
- polygon facilities (parks, sports parks): their boundary. Access points are
  the exterior sampled every ``access_spacing_m`` (default 50 m, so at most 25 m
  along the fence from any gate), plus every point where a street crosses the
  boundary, plus the boundary point nearest to each nearby street. When the
  facility table has an ``entrances`` column (Point / MultiPoint geometries) the
  given entrances replace the boundary for that row;
- lines (fitness trails): points sampled every ``access_spacing_m`` plus both ends.

A facility is as near as its nearest access point.

Shortest paths
--------------
Distances come from the compiled Dijkstra of :mod:`scipy.sparse.csgraph`. Each
facility becomes one virtual node joined to the two ends of the edge of each of
its access points, with the exact partial-edge costs: a point at offset ``b`` on
the directed edge ``u -> v`` of length ``L`` is entered from ``u`` at cost
``b`` and from ``v`` at cost ``L - b`` only if the reverse edge ``v -> u``
exists (one-way footbridges stay one-way); an origin at offset ``a`` leaves
towards ``v`` at ``L - a`` and towards ``u`` at ``a`` only if the reverse edge
exists. Pairs on the same street segment are measured directly along it. The
nearest facility of each kind is one multi-source search on the transposed
graph (``min_only=True``). Ties are broken in favour of the lexicographically
smallest ``facility_id``.

Many-to-many distances (:func:`od_distances`) run bounded searches tile by
tile: sources are grouped into square tiles and each search runs on the
sub-network within the Euclidean reach of the tile (network distance is never
shorter than the straight line), so memory stays bounded by the tile size, never
``n_sources x n_nodes``.

Large inputs
------------
scipy's Dijkstra and the numpy / shapely calls hold the GIL, so threads do not
help. On POSIX, :func:`compute_accessibility` with large inputs (at least
``_FORK_MIN_POINTS`` cells, ``_FORK_MIN_WORK`` node searches) hands work to
``fork``-ed child processes that share the inputs copy-on-write and write their
results into shared memory: the cell centroids while the network index is
built, half of the cell snapping while the facilities are snapped, and the
per-kind nearest-facility searches while the E2SFCA catchment pairs are found.
The children run the same functions as the single-process path, so results are
identical; without ``fork`` (Windows), with other threads running (tqdm's idle
monitor thread excepted), or if a child fails, the work is done in the calling
process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import mmap
import os
import signal
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from tqdm.auto import tqdm
from tqdm.std import TMonitor

from ordos_geo import settings
from ordos_geo._columns import (
    ANY_KIND,
    covered_column,
    dist_column,
    distance_to_kinds,
    nearest_id_column,
    with_scenario,
)
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork, subnetwork

__all__ = [
    "DEFAULT_CATCHMENT_M",
    "DEFAULT_E2SFCA_STEPS",
    "AccessibilityResult",
    "DistrictPart",
    "SnappedPoints",
    "compute_accessibility",
    "compute_accessibility_by_district",
    "covered_column",
    "dist_column",
    "distance_to_kinds",
    "district_part_cells",
    "district_parts",
    "e2sfca",
    "minutes_to_metres",
    "nearest_facility",
    "nearest_id_column",
    "od_distances",
    "service_areas",
    "snap_points",
    "underserved_neighbourhoods",
    "with_scenario",
]

logger = logging.getLogger(__name__)

#: E2SFCA catchment (metres along the network): the 15-minute fitness circle.
DEFAULT_CATCHMENT_M: float = 1_000.0

#: Stepped E2SFCA distance weights ``(upper bound in metres, weight)``: Luo & Qi
#: (2009), "An enhanced two-step floating catchment area (E2SFCA) method for
#: measuring spatial accessibility to primary care physicians", Health & Place
#: 15(4), 1100-1107, used three travel-time zones weighted 1.00 / 0.68 / 0.22
#: from a Gaussian function; here the zones are scaled to the 1,000 m walk
#: catchment (0-300, 300-600, 600-1,000 m).
DEFAULT_E2SFCA_STEPS: tuple[tuple[float, float], ...] = ((300.0, 1.0), (600.0, 0.68), (1_000.0, 0.22))


#: Total tie-break perturbation (metres) spread over facility ranks; removed again from reported distances.
_TIE_BUDGET_M = 1e-3
#: Grids of at most this many cells keep a dense cell -> segments pointer (8 bytes a cell).
_DENSE_GRID_CELLS = 1 << 24
#: Segment-grid cell side as a multiple of the mean spacing of the segments.
_GRID_CELL_FACTOR = 0.6
#: Dense distance entries per Dijkstra call (rows x sub-network nodes), about 128 MB of float64.
_DENSE_BUDGET = 1 << 24
#: Node searches (nodes x kinds) from which the per-kind nearest searches are split over a forked child process.
_FORK_MIN_WORK = 500_000
#: Share of the kinds whose nearest search runs in the child while the parent finds the catchment pairs.
_NEAREST_CHILD_SHARE = 1.0
#: Origins from which their snapping runs in a forked child while the facilities are snapped.
_FORK_MIN_POINTS = 50_000


def minutes_to_metres(
    minutes: float | Sequence[float] | np.ndarray, *, walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH
):
    """Convert walking minutes to metres at ``walk_speed_kmh`` (4.5 km/h: 15 min = 1,125 m).

    Parameters
    ----------
    minutes : float or array-like
        Walking time in minutes.
    walk_speed_kmh : float, default 4.5
        Walking speed in km/h.

    Returns
    -------
    float or numpy.ndarray
        Distance in metres, same shape as ``minutes``.
    """
    if not walk_speed_kmh > 0:
        msg = f"walk_speed_kmh must be positive, got {walk_speed_kmh!r}"
        raise InputDataError(msg)
    metres_per_minute = walk_speed_kmh * 1000.0 / 60.0
    if np.isscalar(minutes):
        return float(minutes) * metres_per_minute
    return np.asarray(minutes, dtype=float) * metres_per_minute


# --------------------------------------------------------------------------------------------------
# network index (cached per WalkNetwork)
# --------------------------------------------------------------------------------------------------


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted unique values (sort-based; faster than hashing for the integer keys used here)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


@dataclass(eq=False)
class _NetworkIndex:
    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    geom_length: np.ndarray
    twin: np.ndarray  # index of the reverse edge with the same geometry, -1 if one-way
    snap_edges: np.ndarray  # edges snapped to (one per two-way pair)
    geoms: np.ndarray
    forward: scipy.sparse.csr_matrix
    backward: scipy.sparse.csr_matrix  # transposed adjacency (walks reversed)
    node_xy: np.ndarray
    reach_ratio: float  # lower bound of network length / straight-line distance
    _node_grid: dict = field(default_factory=dict)
    _tree: shapely.STRtree | None = None
    _segments: _SegmentGrid | None = None

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree of the snapping edges (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.geoms[self.snap_edges])
        return self._tree

    @property
    def segments(self) -> _SegmentGrid:
        """Straight segments of the snapping edges hashed into a square grid (built on first use)."""
        if self._segments is None:
            self._segments = _SegmentGrid.build(self.geoms[self.snap_edges], self.snap_edges)
        return self._segments


@dataclass(eq=False)
class _SegmentGrid:
    """Straight segments of the snapping edges, registered in every grid cell they cross.

    A point's nearest segment within ``r`` cells (Chebyshev) is found among the
    segments registered in the ``(2r+1)^2`` cells around it; a best distance
    ``<= r * cell_m`` is exact.
    """

    a: np.ndarray  # (k, 2) segment starts
    b: np.ndarray  # (k, 2) segment ends
    edge: np.ndarray  # edge index of each segment
    before: np.ndarray  # geometry length of the edge before the segment
    cell_m: float
    origin: np.ndarray
    n_cols: int
    n_rows: int
    cell_keys: np.ndarray | None  # sorted occupied cell keys; None when cell_ptr is dense over all cells
    cell_ptr: np.ndarray
    cell_segments: np.ndarray

    @classmethod
    def build(cls, geoms: np.ndarray, edge_ids: np.ndarray) -> _SegmentGrid:
        coords, line = shapely.get_coordinates(geoms, return_index=True)
        same = line[1:] == line[:-1]
        a = coords[:-1][same]
        b = coords[1:][same]
        seg_line = line[:-1][same]
        seg_len = np.hypot(*(b - a).T)
        cum = np.cumsum(seg_len)
        first = np.ones(len(seg_line), dtype=bool)
        first[1:] = seg_line[1:] != seg_line[:-1]
        start_cum = (cum - seg_len)[first]
        before = cum - seg_len - start_cum[np.cumsum(first) - 1]
        lo = np.minimum(a, b).min(axis=0) - 1.0
        hi = np.maximum(a, b).max(axis=0) + 1.0
        area = float(np.prod(hi - lo))
        cell_m = float(np.clip(_GRID_CELL_FACTOR * math.sqrt(area / max(len(a), 1)), 5.0, 250.0))
        n_cols = int((hi[0] - lo[0]) // cell_m) + 1
        n_rows = int((hi[1] - lo[1]) // cell_m) + 1
        # cut segments into pieces no longer than a cell so long diagonals register in few cells
        pieces = np.maximum(np.ceil(seg_len / cell_m).astype(np.int64), 1)
        seg_of_piece = np.repeat(np.arange(len(a)), pieces)
        k = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0 = (k / pieces[seg_of_piece])[:, None]
        t1 = ((k + 1) / pieces[seg_of_piece])[:, None]
        d = (b - a)[seg_of_piece]
        p0 = a[seg_of_piece] + t0 * d
        p1 = a[seg_of_piece] + t1 * d
        c0 = np.floor((np.minimum(p0, p1) - lo) / cell_m).astype(np.int64)
        c1 = np.floor((np.maximum(p0, p1) - lo) / cell_m).astype(np.int64)
        keys = []
        segs = []
        for dx in (0, 1):
            for dy in (0, 1):
                cx = c0[:, 0] + dx
                cy = c0[:, 1] + dy
                ok = (cx <= c1[:, 0]) & (cy <= c1[:, 1])
                keys.append(cx[ok] * n_rows + cy[ok])
                segs.append(seg_of_piece[ok])
        key = np.concatenate(keys)
        seg = np.concatenate(segs)
        combined = _unique_sorted(key * len(a) + seg)  # sorted by cell, then segment
        key, seg = combined // len(a), combined % len(a)
        if n_cols * n_rows <= _DENSE_GRID_CELLS:
            cell_keys = None
            cell_ptr = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_cols * n_rows))])
        else:
            head = np.ones(len(key), dtype=bool)
            head[1:] = key[1:] != key[:-1]
            starts = np.flatnonzero(head)
            cell_keys = key[starts]
            cell_ptr = np.append(starts, len(key))
        return cls(
            a=a,
            b=b,
            edge=np.asarray(edge_ids)[seg_line],
            before=before,
            cell_m=cell_m,
            origin=lo,
            n_cols=n_cols,
            n_rows=n_rows,
            cell_keys=cell_keys,
            cell_ptr=cell_ptr,
            cell_segments=seg,
        )

    def candidates(self, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segments registered in cells ``(cx, cy)``: ``(query position, segment)``, grouped by query."""
        ok = (cx >= 0) & (cy >= 0) & (cx < self.n_cols) & (cy < self.n_rows)
        key = np.where(ok, cx * self.n_rows + cy, 0)
        if self.cell_keys is None:
            slot = key
            found = ok
        else:
            slot = np.minimum(np.searchsorted(self.cell_keys, key), len(self.cell_keys) - 1)
            found = ok & (self.cell_keys[slot] == key)
        starts = np.where(found, self.cell_ptr[slot], 0)
        counts = np.where(found, self.cell_ptr[slot + 1] - starts, 0)
        total = int(counts.sum())
        query = np.repeat(np.arange(len(cx)), counts)
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return query, self.cell_segments[idx]

    def nearest(self, xy: np.ndarray, max_distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment of each point within ``max_distance``: ``(segment or -1, t along it, distance)``.

        Among equidistant segments the one of the lowest edge index (then segment) wins.
        """
        n = len(xy)
        best_seg = np.full(n, -1, dtype=np.int64)
        best_t = np.zeros(n)
        best_d = np.full(n, np.inf)
        cell = np.floor((xy - self.origin) / self.cell_m).astype(np.int64)
        pending = np.arange(n)
        r = 1
        while len(pending):
            offsets = np.arange(-r, r + 1)
            dx = np.repeat(offsets, len(offsets))
            dy = np.tile(offsets, len(offsets))
            chunk = max(1_000, 4_000_000 // len(dx))
            still = []
            for start in range(0, len(pending), chunk):
                pts = pending[start : start + chunk]
                cx = (cell[pts, 0][:, None] + dx[None, :]).ravel()
                cy = (cell[pts, 1][:, None] + dy[None, :]).ravel()
                query, seg = self.candidates(cx, cy)
                owner = query // len(dx)  # position in pts; candidates come grouped by owner
                px = xy[pts, 0][owner]
                py = xy[pts, 1][owner]
                ax, ay = self.a[seg, 0], self.a[seg, 1]
                abx, aby = self.b[seg, 0] - ax, self.b[seg, 1] - ay
                ab2 = abx * abx + aby * aby
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = ((px - ax) * abx + (py - ay) * aby) / ab2
                t = np.clip(np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 1.0)
                d = np.hypot(ax + t * abx - px, ay + t * aby - py)
                counts = np.bincount(owner, minlength=len(pts))
                has = counts > 0
                starts = (np.cumsum(counts) - counts)[has]
                d_min = np.full(len(pts), np.inf)
                d_min[has] = np.minimum.reduceat(d, starts)
                # ties: the lowest edge index, then segment
                composite = np.where(d == d_min[owner], self.edge[seg] * len(self.a) + seg, np.iinfo(np.int64).max)
                c_min = np.full(len(pts), np.iinfo(np.int64).max)
                c_min[has] = np.minimum.reduceat(composite, starts)
                winner = np.flatnonzero(composite == c_min[owner])
                head = np.ones(len(winner), dtype=bool)
                head[1:] = owner[winner[1:]] != owner[winner[:-1]]
                win = winner[head]
                wp = pts[owner[win]]
                best_seg[wp], best_t[wp], best_d[wp] = seg[win], t[win], d[win]
                exact = has & (best_d[pts] <= r * self.cell_m)
                still.append(pts[~exact])
            pending = np.concatenate(still) if still else np.empty(0, np.int64)
            if r * self.cell_m >= max_distance:
                break
            r *= 2
        too_far = best_d > max_distance
        best_seg[too_far] = -1
        return best_seg, best_t, best_d

    def edges_near_boxes(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unique ``(box position, edge)`` pairs of edges with a segment registered in a cell a box overlaps."""
        c0 = np.floor((boxes[:, :2] - self.origin) / self.cell_m).astype(np.int64)
        c1 = np.floor((boxes[:, 2:] - self.origin) / self.cell_m).astype(np.int64)
        c0 = np.clip(c0, 0, [self.n_cols - 1, self.n_rows - 1])
        c1 = np.clip(c1, 0, [self.n_cols - 1, self.n_rows - 1])
        w = c1[:, 0] - c0[:, 0] + 1
        h = c1[:, 1] - c0[:, 1] + 1
        count = w * h
        box = np.repeat(np.arange(len(boxes)), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        cx = c0[box, 0] + k // h[box]
        cy = c0[box, 1] + k % h[box]
        query, seg = self.candidates(cx, cy)
        pairs = _unique_sorted(box[query] * (int(self.edge.max()) + 1) + self.edge[seg])
        return pairs // (int(self.edge.max()) + 1), pairs % (int(self.edge.max()) + 1)


_INDEX_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _network_index(network: WalkNetwork) -> _NetworkIndex:
    cached = _INDEX_CACHE.get(network)
    if cached is not None:
        return cached
    edges = network.edges
    u = np.asarray(edges["u"], dtype=np.int64)
    v = np.asarray(edges["v"], dtype=np.int64)
    length = np.asarray(edges["length"], dtype=float)
    geoms = np.asarray(edges.geometry.values, dtype=object)
    geom_length = shapely.length(geoms)
    twin = _find_twins(u, v, length, geoms)
    snap_mask = (twin < 0) | (np.arange(len(u)) < twin)
    snap_edges = np.flatnonzero(snap_mask)
    forward = network.adjacency.tocsr()
    backward = forward.T.tocsr()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = length / geom_length
    ratio = ratio[(geom_length > 1.0) & np.isfinite(ratio)]
    reach_ratio = float(np.clip(ratio.min(), 0.1, 1.0)) if len(ratio) else 1.0
    index = _NetworkIndex(
        n_nodes=network.n_nodes,
        u=u,
        v=v,
        length=length,
        geom_length=geom_length,
        twin=twin,
        snap_edges=snap_edges,
        geoms=geoms,
        forward=forward,
        backward=backward,
        node_xy=np.asarray(network.node_xy, dtype=float),
        reach_ratio=reach_ratio,
    )
    _INDEX_CACHE[network] = index
    return index


def _reversed_equal(first: np.ndarray, second: np.ndarray, *, tolerance: float) -> np.ndarray:
    """Whether each line of ``second`` is the corresponding line of ``first`` reversed (coordinate-wise)."""
    n1 = shapely.get_num_coordinates(first)
    n2 = shapely.get_num_coordinates(second)
    c1 = shapely.get_coordinates(first)
    c2 = shapely.get_coordinates(second)
    start1 = np.cumsum(n1) - n1
    start2 = np.cumsum(n2) - n2
    same_count = n1 == n2
    counts = np.where(same_count, n1, 0)
    pair = np.repeat(np.arange(len(first)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    p1 = c1[start1[pair] + k]
    p2 = c2[start2[pair] + (n2[pair] - 1 - k)]
    bad = np.abs(p1 - p2).max(axis=1) > tolerance
    ok = same_count.copy()
    ok[pair[bad]] = False
    return ok


def _find_twins(u: np.ndarray, v: np.ndarray, length: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Pair each directed edge with its reverse (same geometry reversed), -1 when one-way."""
    twin = np.full(len(u), -1, dtype=np.int64)
    forward = np.flatnonzero(u < v)
    backward = np.flatnonzero(u > v)
    if len(forward) == 0 or len(backward) == 0:
        return twin
    rounded = np.round(length, 3)
    n = int(max(u.max(), v.max())) + 1
    # unordered node pair of each candidate edge; most pairs have one edge each way (fast path, numpy)
    f_key = u[forward] * n + v[forward]
    b_key = v[backward] * n + u[backward]
    f_unique = _count_of(f_key) == 1
    b_unique = _count_of(b_key) == 1
    b_order = np.argsort(b_key)
    b_sorted = b_key[b_order]
    slot = np.minimum(np.searchsorted(b_sorted, f_key), len(b_sorted) - 1)
    found = b_sorted[slot] == f_key
    j_all = backward[b_order[slot]]
    b_unique_at = b_unique[b_order[slot]]
    simple = found & f_unique & b_unique_at
    i = forward[simple]
    j = j_all[simple]
    keep = rounded[i] == rounded[j]
    i, j = i[keep], j[keep]
    same = _reversed_equal(geoms[i], geoms[j], tolerance=0.01)
    twin[i[same]] = j[same]
    twin[j[same]] = i[same]
    # node pairs with parallel edges: match them by (pair, rounded length), first come first served
    f_rest = forward[~f_unique]
    b_rest = backward[~b_unique]
    f_rest = np.concatenate([f_rest, forward[found & f_unique & ~b_unique_at]])
    f_rest = np.sort(f_rest)
    b_in_rest = np.isin(b_key, u[f_rest] * n + v[f_rest]) | ~b_unique
    b_rest = backward[b_in_rest]
    if len(f_rest) == 0 or len(b_rest) == 0:
        return twin
    key_f = pd.DataFrame({"a": u[f_rest], "b": v[f_rest], "l": rounded[f_rest], "i": f_rest})
    key_b = pd.DataFrame({"a": v[b_rest], "b": u[b_rest], "l": rounded[b_rest], "j": b_rest})
    pairs = key_f.merge(key_b, on=["a", "b", "l"], how="inner")
    if pairs.empty:
        return twin
    pi = pairs["i"].to_numpy()
    pj = pairs["j"].to_numpy()
    same = _reversed_equal(geoms[pi], geoms[pj], tolerance=0.01)
    pairs = pairs[same].drop_duplicates("i").drop_duplicates("j")
    twin[pairs["i"].to_numpy()] = pairs["j"].to_numpy()
    twin[pairs["j"].to_numpy()] = pairs["i"].to_numpy()
    return twin


def _count_of(values: np.ndarray) -> np.ndarray:
    """How often each value occurs in ``values`` (per element)."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    head = np.ones(len(values), dtype=bool)
    head[1:] = sorted_values[1:] != sorted_values[:-1]
    run = np.cumsum(head) - 1
    sizes = np.bincount(run)
    counts = np.empty(len(values), dtype=np.int64)
    counts[order] = sizes[run]
    return counts


# --------------------------------------------------------------------------------------------------
# snapping
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnappedPoints:
    """Access points of a GeoDataFrame snapped onto walk-network edges.

    One row per access point (a polygon gives several, a point one).

    Attributes
    ----------
    owner : numpy.ndarray
        Row position in the input frame of each access point (int64).
    edge : numpy.ndarray
        Index into ``network.edges`` of the edge snapped to; ``-1`` when the
        point is farther than ``max_snap_distance_m`` from every edge.
    offset_m : numpy.ndarray
        Metres along the edge from its ``u`` end (the fraction along the
        geometry times the edge ``length``); NaN when unreachable.
    snap_distance_m : numpy.ndarray
        Straight-line metres from the access point to its snap point (to the
        nearest edge even when too far). Not included in network distances.
    point_xy : numpy.ndarray
        ``(n, 2)`` coordinates of the access points in the network CRS.
    n_owners : int
        Number of rows of the input frame.
    """

    owner: np.ndarray
    edge: np.ndarray
    offset_m: np.ndarray
    snap_distance_m: np.ndarray
    point_xy: np.ndarray
    n_owners: int

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def reachable(self) -> np.ndarray:
        """Boolean mask of access points within the snapping distance."""
        return self.edge >= 0

    def owner_snap_distance_m(self) -> np.ndarray:
        """Smallest snap distance of each input row (``inf`` for rows without access points)."""
        out = np.full(self.n_owners, np.inf)
        np.minimum.at(out, self.owner, self.snap_distance_m)
        return out

    def owner_reachable(self) -> np.ndarray:
        """Whether each input row has at least one reachable access point."""
        out = np.zeros(self.n_owners, dtype=bool)
        out[self.owner[self.reachable]] = True
        return out


def _check_frame(network: WalkNetwork, gdf: gpd.GeoDataFrame, what: str) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise InputDataError(msg)
    if gdf.crs is None:
        msg = f"{what}: has no CRS; set it (gdf.set_crs) and project it to the network CRS with gdf.to_crs(network.crs)"
        raise InputDataError(msg)
    if pyproj.CRS.from_user_input(gdf.crs) != network.crs:
        msg = (
            f"{what}: CRS {gdf.crs.to_string()} differs from the walk network's {network.crs.to_string()}; "
            "project it first with gdf.to_crs(network.crs)"
        )
        raise InputDataError(msg)
    geoms = gdf.geometry.values
    bad = np.flatnonzero(shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms)))
    if len(bad):
        rows = ", ".join(str(r) for r in bad[:5])
        msg = f"{what}: {len(bad)} rows have missing or empty geometry (rows {rows}); drop or fix them"
        raise InputDataError(msg)


def _sample_lines(lines: np.ndarray, owners: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` along each line, both ends included."""
    lengths = shapely.length(lines)
    counts = np.maximum(np.ceil(lengths / spacing_m).astype(np.int64), 1) + 1
    line_of = np.repeat(np.arange(len(lines)), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(counts.sum()) - np.repeat(starts, counts)
    fraction = k / np.repeat(counts - 1, counts)
    points = shapely.line_interpolate_point(lines[line_of], fraction, normalized=True)
    return shapely.get_coordinates(points), owners[line_of]


def _access_points(
    index: _NetworkIndex,
    geoms: np.ndarray,
    *,
    polygon_access: str,
    spacing_m: float,
    max_snap_distance_m: float,
    entrances: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(k, 2)`` and owner row of every access point."""
    type_ids = shapely.get_type_id(geoms)
    is_polygon = np.isin(type_ids, (3, 6))
    is_line = np.isin(type_ids, (1, 2, 5))
    rows = np.arange(len(geoms))
    xy_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []

    use_entrances = np.zeros(len(geoms), dtype=bool)
    if entrances is not None:
        ent = np.asarray(entrances, dtype=object)
        valid = np.array([isinstance(g, shapely.Geometry) and not g.is_empty for g in ent])
        use_entrances = valid
        if valid.any():
            parts, part_owner = shapely.get_parts(ent[valid], return_index=True)
            coords, coord_index = shapely.get_coordinates(parts, return_index=True)
            xy_parts.append(coords)
            owner_parts.append(rows[valid][part_owner[coord_index]])

    centroid_rows = ~use_entrances & (~(is_polygon | is_line) | (polygon_access == "centroid"))
    point_like = centroid_rows & np.isin(type_ids, (0, 4))
    if point_like.any():
        parts, part_owner = shapely.get_parts(geoms[point_like], return_index=True)
        xy_parts.append(shapely.get_coordinates(parts))
        owner_parts.append(rows[point_like][part_owner])
    other_centroid = centroid_rows & ~np.isin(type_ids, (0, 4))
    if other_centroid.any():
        xy_parts.append(shapely.get_coordinates(shapely.centroid(geoms[other_centroid])))
        owner_parts.append(rows[other_centroid])

    boundary_rows = ~use_entrances & ~centroid_rows & is_polygon
    if boundary_rows.any():
        polys, poly_owner = shapely.get_parts(geoms[boundary_rows], return_index=True)
        owner_of_poly = rows[boundary_rows][poly_owner]
        rings = shapely.get_exterior_ring(polys)
        coords, owners = _sample_lines(rings, owner_of_poly, spacing_m)
        xy_parts.append(coords)
        owner_parts.append(owners)
        # streets near the boundary (within one spacing): their crossings (gates) and nearest boundary points
        boxes = np.asarray(shapely.bounds(rings)) + np.array([-1.0, -1.0, 1.0, 1.0]) * spacing_m
        ring_idx, near_edge = index.segments.edges_near_boxes(boxes)
        if len(ring_idx):
            close = shapely.dwithin(rings[ring_idx], index.geoms[near_edge], spacing_m)
            ring_idx, near_edge = ring_idx[close], near_edge[close]
            crossing = shapely.intersection(rings[ring_idx], index.geoms[near_edge])
            c_coords, c_index = shapely.get_coordinates(crossing, return_index=True)
            xy_parts.append(c_coords)
            owner_parts.append(owner_of_poly[ring_idx[c_index]])
            nearest = shapely.shortest_line(rings[ring_idx], index.geoms[near_edge])
            xy_parts.append(shapely.get_coordinates(shapely.get_point(nearest, 0)))
            owner_parts.append(owner_of_poly[ring_idx])

    line_rows = ~use_entrances & ~centroid_rows & is_line
    if line_rows.any():
        lines, line_owner = shapely.get_parts(geoms[line_rows], return_index=True)
        coords, owners = _sample_lines(lines, rows[line_rows][line_owner], spacing_m)
        xy_parts.append(coords)
        owner_parts.append(owners)

    if not xy_parts:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    if len(owner_parts) == 1 and len(owner_parts[0]) == len(geoms) and np.all(np.diff(owner_parts[0]) > 0):
        return xy_parts[0][:, :2], owner_parts[0].astype(np.int64)  # one point per row, in order
    xy = np.concatenate(xy_parts)[:, :2]
    owner = np.concatenate(owner_parts).astype(np.int64)
    order = np.lexsort((xy[:, 1], xy[:, 0], owner))
    xy, owner = xy[order], owner[order]
    keep = np.ones(len(owner), dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | np.any(np.abs(np.diff(xy, axis=0)) > 1e-6, axis=1)
    return xy[keep], owner[keep]


def _snap_xy(
    index: _NetworkIndex, xy: np.ndarray, max_snap_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge, offset (m from u, in edge-length units) and snap distance of each coordinate."""
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    snap = np.full(n, np.inf)
    if n == 0:
        return edge, offset, snap
    grid = index.segments
    seg, t, dist = grid.nearest(np.asarray(xy, dtype=float), max_snap_distance_m)
    hit = np.flatnonzero(seg >= 0)
    if len(hit):
        s = seg[hit]
        e = grid.edge[s]
        along = grid.before[s] + t[hit] * np.hypot(*(grid.b[s] - grid.a[s]).T)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(index.geom_length[e] > 0, along / index.geom_length[e], 0.0)
        edge[hit] = e
        snap[hit] = dist[hit]
        offset[hit] = np.clip(fraction, 0.0, 1.0) * index.length[e]
    far = np.flatnonzero(edge < 0)
    if len(far):
        # report how far the unreachable points are (slow path, few points)
        (src2, _hit2), dist2 = index.tree.query_nearest(shapely.points(xy[far]), return_distance=True)
        snap[far[src2]] = dist2
    return edge, offset, snap


def _simple_origins(origins: gpd.GeoDataFrame) -> bool:
    """Many polygon origins without entrances: one centroid access point each, so the output size is known."""
    if len(origins) < _FORK_MIN_POINTS or "entrances" in origins.columns:
        return False
    return bool(np.isin(shapely.get_type_id(np.asarray(origins.geometry.values, dtype=object)), (3, 6)).all())


def _start_centroids(origins: gpd.GeoDataFrame) -> _Forked | None:
    """Centroids of many polygon origins, computed in a forked child (``None`` when not worthwhile)."""
    if not (_simple_origins(origins) and _can_fork()):
        return None
    geoms = np.asarray(origins.geometry.values, dtype=object)

    def fill(xy: np.ndarray) -> None:
        xy[:] = shapely.get_coordinates(shapely.centroid(geoms))[:, :2]

    return _Forked([((len(geoms), 2), np.float64)], fill, background=True)


def _start_origin_points(
    network: WalkNetwork, origins: gpd.GeoDataFrame, max_snap_distance_m: float, *, centroids: _Forked | None
) -> Callable[[], SnappedPoints]:
    """Snap the origins at their centroids, half of them in a forked child; call the result to get them all.

    Used for many polygon origins without entrances (``centroids`` from
    :func:`_start_centroids`); otherwise the origins are snapped here by
    :func:`snap_points` when the returned function is called.
    """
    if centroids is None:
        return lambda: _origin_points(network, origins, max_snap_distance_m)
    _check_frame(network, origins, "snap_points input")
    index = _network_index(network)
    _ = index.segments  # build the shared index before forking
    try:
        (xy,) = centroids.result()
    except BaseException:
        centroids.cancel()
        raise
    n = len(xy)
    half = n // 2

    def fill(edge: np.ndarray, offset: np.ndarray, snap: np.ndarray) -> None:
        edge[:], offset[:], snap[:] = _snap_xy(index, xy[:half], max_snap_distance_m)

    job = _Forked([((half,), np.int64), ((half,), np.float64), ((half,), np.float64)], fill, background=True)

    def result() -> SnappedPoints:
        try:
            rest = _snap_xy(index, xy[half:], max_snap_distance_m)
            first = job.result()
        except BaseException:
            job.cancel()
            raise
        edge, offset, snap = (np.concatenate([a, b]) for a, b in zip(first, rest, strict=True))
        owner = np.arange(n, dtype=np.int64)
        return SnappedPoints(owner=owner, edge=edge, offset_m=offset, snap_distance_m=snap, point_xy=xy, n_owners=n)

    result.cancel = job.cancel  # type: ignore[attr-defined]
    return result


def snap_points(
    network: WalkNetwork,
    gdf: gpd.GeoDataFrame,
    *,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    polygon_access: Literal["boundary", "centroid"] = "boundary",
    access_spacing_m: float = 50.0,
    entrances_column: str | None = "entrances",
) -> SnappedPoints:
    """Snap the access points of ``gdf`` onto the nearest walk-network edges.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (metric CRS).
    gdf : geopandas.GeoDataFrame
        Points, polygons or lines in ``network.crs``.
    max_snap_distance_m : float, default 300
        Access points farther than this (metres, straight line) from every
        edge are unreachable (``edge == -1``).
    polygon_access : {"boundary", "centroid"}, default "boundary"
        Reach polygons at their boundary (facilities) or at their centroid
        (population cells). Lines are always sampled along their length.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    entrances_column : str or None, default "entrances"
        Column of Point / MultiPoint entrance geometries; where present and
        non-empty they replace the boundary access points of that row.

    Returns
    -------
    SnappedPoints
        One row per access point.
    """
    _check_frame(network, gdf, "snap_points input")
    if not access_spacing_m > 0:
        msg = f"access_spacing_m must be positive, got {access_spacing_m!r}"
        raise InputDataError(msg)
    index = _network_index(network)
    entrances = None
    if entrances_column is not None and entrances_column in gdf.columns:
        entrances = gdf[entrances_column].to_numpy(dtype=object)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    xy, owner = _access_points(
        index,
        geoms,
        polygon_access=polygon_access,
        spacing_m=access_spacing_m,
        max_snap_distance_m=max_snap_distance_m,
        entrances=entrances,
    )
    edge, offset, snap = _snap_xy(index, xy, max_snap_distance_m)
    return SnappedPoints(owner=owner, edge=edge, offset_m=offset, snap_distance_m=snap, point_xy=xy, n_owners=len(gdf))


# --------------------------------------------------------------------------------------------------
# shortest-path core
# --------------------------------------------------------------------------------------------------


def _attach(index: _NetworkIndex, edge: np.ndarray, offset: np.ndarray, how: str) -> tuple[np.ndarray, ...]:
    """Node links of points on edges: ``(point position, node, cost)``.

    ``how="exit"``: walking from the point to the node; ``how="entry"``: from the node to the point.
    """
    positions = np.arange(len(edge))
    has_twin = index.twin[edge] >= 0
    length = index.length[edge]
    if how == "exit":
        always = (positions, index.v[edge], length - offset)
        sometimes = (positions[has_twin], index.u[edge][has_twin], offset[has_twin])
    else:
        always = (positions, index.u[edge], offset)
        sometimes = (positions[has_twin], index.v[edge][has_twin], (length - offset)[has_twin])
    pos = np.concatenate([always[0], sometimes[0]])
    node = np.concatenate([always[1], sometimes[1]])
    cost = np.maximum(np.concatenate([always[2], sometimes[2]]), 0.0)
    return pos, node, cost


def _same_edge_pairs(
    index: _NetworkIndex, orig_edge: np.ndarray, orig_offset: np.ndarray, dest_edge: np.ndarray, dest_offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct along-edge distances between origin and destination points on the same edge."""
    marked = np.zeros(len(index.length), dtype=np.int8)
    marked[dest_edge] = 1
    o = np.flatnonzero(marked[orig_edge])
    if len(o) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    marked[:] = 0
    marked[orig_edge[o]] = 1
    d = np.flatnonzero(marked[dest_edge])
    pairs = pd.DataFrame({"e": orig_edge[o], "o": o}).merge(pd.DataFrame({"e": dest_edge[d], "d": d}), on="e")
    po = pairs["o"].to_numpy()
    pd_ = pairs["d"].to_numpy()
    a = orig_offset[po]
    b = dest_offset[pd_]
    two_way = index.twin[pairs["e"].to_numpy()] >= 0
    cost = np.where(b >= a, b - a, np.where(two_way, a - b, np.inf))
    ok = np.isfinite(cost)
    return po[ok], pd_[ok], cost[ok]


def _augmented(graph: scipy.sparse.csr_matrix, group: np.ndarray, node: np.ndarray, cost: np.ndarray, n_groups: int):
    """Append ``n_groups`` virtual source rows (``group -> node`` at ``cost``, minimum of duplicates)."""
    n = graph.shape[0]
    order = np.lexsort((cost, node, group))
    group, node, cost = group[order], node[order], cost[order]
    first = np.ones(len(group), dtype=bool)
    first[1:] = (group[1:] != group[:-1]) | (node[1:] != node[:-1])
    group, node, cost = group[first], node[first], np.maximum(cost[first], 1e-9)
    counts = np.bincount(group, minlength=n_groups)
    indptr = np.concatenate([graph.indptr.astype(np.int64), graph.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([graph.indices.astype(np.int64), node])
    data = np.concatenate([graph.data, cost])
    size = n + n_groups
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(size, size))


def _check_distance(value: float, name: str) -> float:
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        msg = f"{name} must be a positive finite number of metres, got {value!r}"
        raise InputDataError(msg)
    return value


def _origin_points(network: WalkNetwork, origins: gpd.GeoDataFrame, max_snap_distance_m: float) -> SnappedPoints:
    return snap_points(network, origins, max_snap_distance_m=max_snap_distance_m, polygon_access="centroid")


class _NearestSearch:
    """Per-kind multi-source searches from the facilities towards every origin (see :func:`_start_nearest`).

    Groups are facilities; ``group_rank`` orders them for the tie rule.
    """

    def __init__(
        self,
        index: _NetworkIndex,
        orig: SnappedPoints,
        dest: SnappedPoints,
        dest_group_of_owner: np.ndarray,
        group_rank: np.ndarray,
        kinds_of_group: np.ndarray,
        max_distance_m: float,
    ) -> None:
        n_groups = len(group_rank)
        self.n_groups = n_groups
        self.max_distance_m = max_distance_m
        self.kinds_of_group = kinds_of_group
        delta = _TIE_BUDGET_M / max(n_groups, 1)
        self.penalty = (group_rank + 1) * delta
        ok = dest.reachable
        d_owner = dest.owner[ok]
        d_group = dest_group_of_owner[d_owner]
        d_edge = dest.edge[ok]
        d_off = dest.offset_m[ok]
        pos, node, cost = _attach(index, d_edge, d_off, "entry")
        grp = d_group[pos]
        self.present = np.zeros(max(n_groups, 1), dtype=bool)
        self.present[grp] = True
        self.graph = _augmented(index.backward, grp, node, cost + self.penalty[grp], n_groups)
        self.n = index.n_nodes

        self.orig = orig
        self.o_ok = np.flatnonzero(orig.reachable)
        o_edge = orig.edge[self.o_ok]
        self.o_off = orig.offset_m[self.o_ok]
        self.o_len = index.length[o_edge]
        self.o_v = index.v[o_edge]
        self.o_u = index.u[o_edge]
        self.o_two_way = index.twin[o_edge] >= 0
        self.one_point_each = len(orig.owner) == orig.n_owners and np.array_equal(orig.owner, np.arange(orig.n_owners))
        s_o, s_d, s_cost = _same_edge_pairs(index, o_edge, self.o_off, d_edge, d_off)
        self.s_o = s_o
        self.s_group = d_group[s_d]
        self.s_cost = s_cost + self.penalty[self.s_group]

    def kind(self, k: int, out_best: np.ndarray, out_true: np.ndarray, out_group: np.ndarray) -> None:
        """Fill perturbed distance, true distance and nearest group of each origin owner for kind ``k``."""
        n, o_ok, orig = self.n, self.o_ok, self.orig
        sources = np.flatnonzero((self.kinds_of_group == k) & self.present[: len(self.kinds_of_group)])
        best = np.full(len(o_ok), np.inf)
        best_group = np.full(len(o_ok), -1, dtype=np.int64)
        if len(sources):
            dist, _pred, src = dijkstra(
                self.graph,
                directed=True,
                indices=n + sources,
                min_only=True,
                limit=self.max_distance_m + 2 * _TIE_BUDGET_M,
                return_predecessors=True,
            )
            # leave towards v (always) or towards u (two-way streets only)
            via_v = (self.o_len - self.o_off) + dist[self.o_v]
            via_u = np.where(self.o_two_way, self.o_off + dist[self.o_u], np.inf)
            use_u = via_u < via_v
            best = np.where(use_u, via_u, via_v)
            best_src = np.where(use_u, src[self.o_u], src[self.o_v])
            best_group = np.where(np.isfinite(best) & (best_src >= 0), best_src - n, -1)
            best[best_group < 0] = np.inf
            sel = self.kinds_of_group[self.s_group] == k
            _reduce_min(best, best_group, self.s_o[sel], self.s_cost[sel], self.s_group[sel])
        # one row per origin owner: the best of its points
        full_best = np.full(orig.n_owners, np.inf)
        full_group = np.full(orig.n_owners, -1, dtype=np.int64)
        if self.one_point_each:
            full_best[o_ok], full_group[o_ok] = best, best_group
        else:
            _reduce_min(full_best, full_group, orig.owner[o_ok], best, best_group)
        chosen_penalty = self.penalty[np.maximum(full_group, 0)] if self.n_groups else np.zeros(orig.n_owners)
        full_true = np.where(full_group >= 0, full_best - chosen_penalty, np.inf)
        too_far = ~(full_true <= self.max_distance_m)
        full_true[too_far] = np.inf
        full_best[too_far] = np.inf
        full_group[too_far] = -1
        out_best[:] = full_best
        out_true[:] = np.maximum(full_true, 0.0)
        out_group[:] = full_group


def _can_fork() -> bool:
    """Whether work can go to a forked child.

    Needs POSIX ``fork`` and no other threads that a fork could strand while
    they hold a lock the child needs; tqdm's monitor thread only sleeps and
    the children never touch tqdm, so it is allowed.
    """
    if not hasattr(os, "fork"):
        return False
    current = threading.current_thread()
    return current is threading.main_thread() and all(
        isinstance(thread, TMonitor) for thread in threading.enumerate() if thread is not current
    )


class _Forked:
    """Fill fixed-size arrays with ``fill(*arrays)`` in a forked child process, or here.

    scipy's Dijkstra and most numpy / shapely calls used here hold the GIL, so
    threads do not overlap; a ``fork``-ed child shares the inputs copy-on-write
    and writes its results into anonymous shared memory while this process
    does other work. When ``fork`` is unavailable, other threads run,
    ``background`` is false or the child fails, :meth:`result` runs ``fill``
    here with the same code, so results are identical either way.
    """

    def __init__(
        self, specs: Sequence[tuple[tuple[int, ...], type]], fill: Callable[..., None], *, background: bool
    ) -> None:
        self.fill = fill
        self.pid = 0
        self.child_s = 0.0
        sizes = [int(np.prod(shape)) for shape, _dtype in specs]
        if background and _can_fork():
            self._buffer = mmap.mmap(-1, 8 * (sum(sizes) + 1))  # MAP_SHARED | MAP_ANONYMOUS: inherited by the child
            flat = np.frombuffer(self._buffer, dtype=np.float64)
            self.arrays = []
            at = 0
            for (shape, dtype), size in zip(specs, sizes, strict=True):
                self.arrays.append(flat[at : at + size].view(dtype).reshape(shape))
                at += size
            self._elapsed = flat[at : at + 1]
            self.pid = self._fork()
        else:
            self.arrays = [np.empty(shape, dtype=dtype) for shape, dtype in specs]
        self.done = False

    def _fork(self) -> int:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork with other threads; _can_fork allows only tqdm's idle monitor thread
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # child: fill the shared arrays, then leave without running any cleanup of the parent's state
            code = 1
            try:
                clock = time.perf_counter()
                self.fill(*self.arrays)
                self._elapsed[0] = time.perf_counter() - clock
                code = 0
            finally:
                os._exit(code)
        return pid

    def cancel(self) -> None:
        """Stop the child process (when the caller fails)."""
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0

    def result(self) -> list[np.ndarray]:
        """The filled arrays, waiting for the child if there is one."""
        if self.pid:
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
            if os.waitstatus_to_exitcode(status) == 0:
                self.child_s = float(self._elapsed[0])
                self.done = True
            else:
                logger.warning("accessibility: a child process failed; doing its work in this process")
        if not self.done:
            self.fill(*self.arrays)
            self.done = True
        return self.arrays  # views keep the shared mapping alive as long as they are used


class _NearestJob:
    """Nearest-facility searches of several kinds, the first ``n_child`` kinds possibly in a forked child.

    On a large network (``nodes x n_child >= _FORK_MIN_WORK``) the kinds
    ``[0, n_child)`` run in a child process (:class:`_Forked`) while the
    caller does other work; the other kinds run here in :meth:`result`.
    """

    def __init__(self, search: _NearestSearch, kind_names: Sequence[str], n_child: int, *, progress=None) -> None:
        self.search = search
        self.kind_names = list(kind_names)
        self.progress = progress
        n_kinds = len(self.kind_names)
        n_owners = search.orig.n_owners
        self.n_child = min(n_child, n_kinds) if search.n * n_child >= _FORK_MIN_WORK and n_owners > 0 else 0
        shape = (self.n_child, n_owners)

        def fill(best: np.ndarray, true: np.ndarray, group: np.ndarray) -> None:
            for k in range(self.n_child):
                search.kind(k, best[k], true[k], group[k])

        self.child = _Forked(
            [(shape, np.float64), (shape, np.float64), (shape, np.int64)], fill, background=self.n_child > 0
        )

    @property
    def child_s(self) -> float:
        """Seconds the child process spent (0 when everything ran here)."""
        return self.child.child_s

    def cancel(self) -> None:
        """Stop the child process (when the caller fails)."""
        self.child.cancel()

    def result(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per kind name: perturbed distance, true distance and nearest group of each origin owner."""
        out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        n_owners = self.search.orig.n_owners
        todo = range(self.n_child, len(self.kind_names))
        disable = None if self.progress is None else not self.progress
        for k in tqdm(todo, desc="nearest facility", unit="kind", disable=disable):
            arrays = (np.empty(n_owners), np.empty(n_owners), np.empty(n_owners, dtype=np.int64))
            self.search.kind(k, *arrays)
            out[self.kind_names[k]] = arrays
        best, true, group = self.child.result()
        for k in range(self.n_child):
            out[self.kind_names[k]] = (best[k], true[k], group[k])
        return {kind: out[kind] for kind in self.kind_names}


def _start_nearest(
    index: _NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    dest_group_of_owner: np.ndarray,
    group_rank: np.ndarray,
    kinds_of_group: np.ndarray,
    kind_names: Sequence[str],
    max_distance_m: float,
    *,
    child_share: float = 0.5,
    progress: bool | None = None,
) -> _NearestJob:
    """Start the per-kind nearest-facility searches; ``child_share`` of the kinds may run in a child process."""
    search = _NearestSearch(index, orig, dest, dest_group_of_owner, group_rank, kinds_of_group, max_distance_m)
    n_child = round(child_share * len(kind_names))
    return _NearestJob(search, kind_names, n_child, progress=progress)


def _nearest_core(
    index: _NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    dest_group_of_owner: np.ndarray,
    group_rank: np.ndarray,
    kinds_of_group: np.ndarray,
    kind_names: Sequence[str],
    max_distance_m: float,
    *,
    progress: bool | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per kind: perturbed distance, true distance and nearest group of each origin owner.

    Groups are facilities; ``group_rank`` orders them for the tie rule.
    """
    job = _start_nearest(
        index,
        orig,
        dest,
        dest_group_of_owner,
        group_rank,
        kinds_of_group,
        kind_names,
        max_distance_m,
        progress=progress,
    )
    try:
        return job.result()
    except BaseException:
        job.cancel()
        raise


def _reduce_min(best: np.ndarray, best_group: np.ndarray, pos: np.ndarray, cand: np.ndarray, cand_group: np.ndarray):
    """In place: ``best[pos] = min(best[pos], cand)`` keeping the group of the minimum (smaller group on ties)."""
    if len(pos) == 0:
        return
    order = np.lexsort((cand_group, cand, pos))
    pos, cand, cand_group = pos[order], cand[order], cand_group[order]
    first = np.ones(len(pos), dtype=bool)
    first[1:] = pos[1:] != pos[:-1]
    pos, cand, cand_group = pos[first], cand[first], cand_group[first]
    better = cand < best[pos]
    best[pos[better]] = cand[better]
    best_group[pos[better]] = cand_group[better]


def _node_grid(index: _NetworkIndex, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Nodes bucketed into a square grid: ``(order, bucket_ptr, origin, nx, ny)``."""
    key = round(cell_m, 3)
    if key in index._node_grid:
        return index._node_grid[key]
    xy = index.node_xy
    origin = xy.min(axis=0)
    cx = np.floor((xy[:, 0] - origin[0]) / cell_m).astype(np.int64)
    cy = np.floor((xy[:, 1] - origin[1]) / cell_m).astype(np.int64)
    nx_, ny_ = int(cx.max()) + 1, int(cy.max()) + 1
    bucket = cx * ny_ + cy
    order = np.argsort(bucket, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=nx_ * ny_))])
    grid = (order, ptr, origin, nx_, ny_)
    index._node_grid[key] = grid
    return grid


def _nodes_in_box(index: _NetworkIndex, grid, cell_m: float, box: np.ndarray) -> np.ndarray:
    order, ptr, origin, nx_, ny_ = grid
    x0 = max(int(np.floor((box[0] - origin[0]) / cell_m)), 0)
    y0 = max(int(np.floor((box[1] - origin[1]) / cell_m)), 0)
    x1 = min(int(np.floor((box[2] - origin[0]) / cell_m)), nx_ - 1)
    y1 = min(int(np.floor((box[3] - origin[1]) / cell_m)), ny_ - 1)
    if x1 < x0 or y1 < y0:
        return np.empty(0, dtype=np.int64)
    buckets = (np.arange(x0, x1 + 1)[:, None] * ny_ + np.arange(y0, y1 + 1)[None, :]).ravel()
    starts, ends = ptr[buckets], ptr[buckets + 1]
    counts = ends - starts
    if counts.sum() == 0:
        return np.empty(0, dtype=np.int64)
    idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    nodes = order[idx]
    xy = index.node_xy[nodes]
    inside = (xy[:, 0] >= box[0]) & (xy[:, 0] <= box[2]) & (xy[:, 1] >= box[1]) & (xy[:, 1] <= box[3])
    return np.sort(nodes[inside])


def _subgraph(graph: scipy.sparse.csr_matrix, nodes: np.ndarray, local_of: np.ndarray) -> scipy.sparse.csr_matrix:
    """Sub-matrix of ``graph`` on ``nodes`` (``local_of`` maps global -> local, -1 outside)."""
    starts = graph.indptr[nodes]
    counts = graph.indptr[nodes + 1] - starts
    total = int(counts.sum())
    idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
    cols = local_of[graph.indices[idx]]
    rows = np.repeat(np.arange(len(nodes)), counts)
    keep = cols >= 0
    return scipy.sparse.csr_matrix((graph.data[idx][keep], (rows[keep], cols[keep])), shape=(len(nodes), len(nodes)))


def _bounded_search(
    index: _NetworkIndex,
    graph: scipy.sparse.csr_matrix,
    src_group: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_xy: np.ndarray,
    src_xy_group: np.ndarray,
    limit: float,
    *,
    progress: bool | None = None,
    desc: str = "network search",
) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(groups, nodes, distances, local_of)`` tile by tile, a chunk of groups at a time.

    ``distances`` is dense ``(len(groups), len(nodes))`` (``inf`` beyond
    ``limit``); ``local_of`` maps global node -> column (-1 outside) and is
    valid until the next item.

    Each group is a virtual source linked to ``src_node`` at ``src_cost``; the
    search for a tile runs on the nodes within the Euclidean reach of its
    sources (network distance >= straight-line distance x ``reach_ratio``).
    """
    if len(src_group) == 0:
        return
    reach = limit / index.reach_ratio + 1.0
    tile_m = max(4.0 * limit, 1_000.0)  # larger tiles: fewer sub-networks, each reused by more sources
    n_groups = int(src_group.max()) + 1
    # group bounding boxes from their access points and their linked nodes
    gx = np.concatenate([src_xy[:, 0], index.node_xy[src_node, 0]])
    gy = np.concatenate([src_xy[:, 1], index.node_xy[src_node, 1]])
    gg = np.concatenate([src_xy_group, src_group])
    box = np.empty((n_groups, 4))
    box[:, 0] = box[:, 1] = np.inf
    box[:, 2] = box[:, 3] = -np.inf
    np.minimum.at(box[:, 0], gg, gx)
    np.minimum.at(box[:, 1], gg, gy)
    np.maximum.at(box[:, 2], gg, gx)
    np.maximum.at(box[:, 3], gg, gy)
    present = np.flatnonzero(np.isfinite(box[:, 0]) & np.isin(np.arange(n_groups), src_group))
    centre = (box[present, :2] + box[present, 2:]) / 2.0
    tile = np.floor(centre / tile_m).astype(np.int64)
    tile_key = tile[:, 0] * 10_000_019 + tile[:, 1]
    order = np.argsort(tile_key, kind="stable")
    present, tile_key = present[order], tile_key[order]
    splits = np.flatnonzero(np.diff(tile_key)) + 1
    tiles = np.split(present, splits)

    grid = _node_grid(index, tile_m)
    local_of = np.full(index.n_nodes + 1, -1, dtype=np.int64)  # the last entry stays -1 (no node)
    link_order = np.argsort(src_group, kind="stable")
    link_ptr = np.concatenate([[0], np.cumsum(np.bincount(src_group, minlength=n_groups))])
    for groups in tqdm(tiles, desc=desc, unit="tile", disable=None if progress is None else not progress):
        tile_box = np.array(
            [
                box[groups, 0].min() - reach,
                box[groups, 1].min() - reach,
                box[groups, 2].max() + reach,
                box[groups, 3].max() + reach,
            ]
        )
        nodes = _nodes_in_box(index, grid, tile_m, tile_box)
        if len(nodes) == 0:
            continue
        local_of[nodes] = np.arange(len(nodes))
        sub = _subgraph(graph, nodes, local_of)
        starts = link_ptr[groups]
        counts = link_ptr[groups + 1] - starts
        li = link_order[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
        local_group = np.repeat(np.arange(len(groups)), counts)
        lnode = local_of[src_node[li]]
        keep = lnode >= 0
        aug = _augmented(sub, local_group[keep], lnode[keep], src_cost[li][keep], len(groups))
        n_local = len(nodes)
        rows_per_call = max(1, min(len(groups), _DENSE_BUDGET // max(n_local + len(groups), 1)))
        for start in range(0, len(groups), rows_per_call):
            chunk = np.arange(start, min(start + rows_per_call, len(groups)))
            dist = dijkstra(aug, directed=True, indices=n_local + chunk, limit=limit)[:, :n_local]
            yield groups[chunk], nodes, dist, local_of
        local_of[nodes] = -1


def _triples(search: Iterable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the finite entries of a :func:`_bounded_search` as ``(group, node, distance)``."""
    parts = []
    for groups, nodes, dist, _local_of in search:
        r, c = np.nonzero(np.isfinite(dist))
        parts.append((groups[r], nodes[c], dist[r, c]))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


def _links(index: _NetworkIndex, edge: np.ndarray, offset: np.ndarray, how: str):
    """Both node links of each point: ``(node1, cost1, node2, cost2)``, ``node2 = -1`` on one-way edges."""
    length = index.length[edge]
    two_way = index.twin[edge] >= 0
    if how == "exit":
        node1, cost1 = index.v[edge], length - offset
        node2, cost2 = np.where(two_way, index.u[edge], -1), offset
    else:
        node1, cost1 = index.u[edge], offset
        node2, cost2 = np.where(two_way, index.v[edge], -1), length - offset
    return node1, np.maximum(cost1, 0.0), node2, np.maximum(cost2, 0.0)


def _pairs_within(
    index: _NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    limit: float,
    *,
    progress: bool | None = None,
    sort: bool = True,
) -> pd.DataFrame:
    """Origin owner, destination owner and network distance of all pairs within ``limit``."""
    o_ok = np.flatnonzero(orig.reachable)
    d_ok = np.flatnonzero(dest.reachable)
    empty = pd.DataFrame({"origin": np.empty(0, np.int64), "destination": np.empty(0, np.int64), "distance_m": []})
    if len(o_ok) == 0 or len(d_ok) == 0:
        return empty
    o_owner, o_edge, o_off = orig.owner[o_ok], orig.edge[o_ok], orig.offset_m[o_ok]
    d_owner, d_edge, d_off = dest.owner[d_ok], dest.edge[d_ok], dest.offset_m[d_ok]
    n_dest_groups = int((np.bincount(d_owner) > 0).sum())
    n_orig_groups = int((np.bincount(o_owner) > 0).sum())
    backwards = n_dest_groups <= n_orig_groups
    if backwards:
        # search backwards from destinations (entering them), then leave each origin point
        pos, node, cost = _attach(index, d_edge, d_off, "entry")
        src_group, graph = d_owner[pos], index.backward
        src_xy, src_xy_group = dest.point_xy[d_ok], d_owner
        t_owner = o_owner
        node1, cost1, node2, cost2 = _links(index, o_edge, o_off, "exit")
    else:
        pos, node, cost = _attach(index, o_edge, o_off, "exit")
        src_group, graph = o_owner[pos], index.forward
        src_xy, src_xy_group = orig.point_xy[o_ok], o_owner
        t_owner = d_owner
        node1, cost1, node2, cost2 = _links(index, d_edge, d_off, "entry")
    n_targets = (orig.n_owners if backwards else dest.n_owners) + 1
    unique_owner = len(t_owner) < 2 or bool(np.all(np.diff(t_owner) > 0))
    # node -> target point links, sorted by node; each link knows the point's other link (node n_nodes: none)
    has2 = node2 >= 0
    first_of = np.flatnonzero(has2)
    link_node = np.concatenate([node1, node2[has2]])
    link_point = np.concatenate([np.arange(len(node1)), first_of])
    link_cost = np.concatenate([cost1, cost2[has2]])
    other_node = np.concatenate([np.where(has2, node2, index.n_nodes), node1[has2]])
    other_cost = np.concatenate([cost2, cost1[has2]])
    is_first = np.concatenate([np.ones(len(node1), dtype=bool), np.zeros(len(first_of), dtype=bool)])
    link_order = np.argsort(link_node, kind="stable")
    link_ptr = np.concatenate([[0], np.cumsum(np.bincount(link_node, minlength=index.n_nodes))])
    link_point, link_cost = link_point[link_order], link_cost[link_order]
    other_node, other_cost, is_first = other_node[link_order], other_cost[link_order], is_first[link_order]

    groups_out: list[np.ndarray] = []
    owners_out: list[np.ndarray] = []
    dist_out: list[np.ndarray] = []
    search = _bounded_search(index, graph, src_group, node, cost, src_xy, src_xy_group, limit, progress=progress)
    for groups, nodes, dist, local_of in search:
        r, c = np.nonzero(dist <= limit)
        node_hit = nodes[c]
        starts = link_ptr[node_hit]
        counts = link_ptr[node_hit + 1] - starts
        total = int(counts.sum())
        if total == 0:
            continue
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        row = np.repeat(r, counts)
        via_this = np.repeat(dist[r, c], counts) + link_cost[idx]
        other_col = local_of[other_node[idx]]  # local_of[n_nodes] == -1
        via_other = np.where(other_col >= 0, dist[row, other_col], np.inf) + other_cost[idx]
        # each (row, point) once: from its first link, or from the second when the first is not reached
        emit = is_first[idx] | ~np.isfinite(via_other)
        cand = np.minimum(via_this, via_other)
        emit &= cand <= limit
        groups_out.append(groups[row[emit]])
        owners_out.append(t_owner[link_point[idx[emit]]])
        dist_out.append(cand[emit])
    group = np.concatenate(groups_out) if groups_out else np.empty(0, np.int64)
    owner = np.concatenate(owners_out) if owners_out else np.empty(0, np.int64)
    dist_all = np.concatenate(dist_out) if dist_out else np.empty(0)
    key = group.astype(np.int64) * n_targets + owner
    # direct along-edge pairs; and several points per owner: keep the minimum per pair
    s_o, s_d, s_cost = _same_edge_pairs(index, o_edge, o_off, d_edge, d_off)
    keep = s_cost <= limit
    if backwards:
        s_key = d_owner[s_d[keep]] * n_targets + o_owner[s_o[keep]]
    else:
        s_key = o_owner[s_o[keep]] * n_targets + d_owner[s_d[keep]]
    s_cost = s_cost[keep]
    if not unique_owner or len(s_key):
        if unique_owner:
            s_sorted = np.sort(s_key)
            slot = np.minimum(np.searchsorted(s_sorted, key), len(s_sorted) - 1)
            touched = s_sorted[slot] == key
            rest_key, rest_cost = key[~touched], dist_all[~touched]
            key, dist_all = np.concatenate([key[touched], s_key]), np.concatenate([dist_all[touched], s_cost])
        else:
            rest_key, rest_cost = np.empty(0, np.int64), np.empty(0)
            key, dist_all = np.concatenate([key, s_key]), np.concatenate([dist_all, s_cost])
        order = np.lexsort((dist_all, key))
        key, dist_all = key[order], dist_all[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        key = np.concatenate([rest_key, key[first]])
        dist_all = np.concatenate([rest_cost, dist_all[first]])
    a, b = key // n_targets, key % n_targets
    origin, destination = (b, a) if backwards else (a, b)
    if not sort:
        return pd.DataFrame({"origin": origin, "destination": destination, "distance_m": dist_all})
    order = np.argsort(origin * (dest.n_owners + 1) + destination, kind="stable")
    return pd.DataFrame(
        {
            "origin": origin[order].astype(np.int64),
            "destination": destination[order].astype(np.int64),
            "distance_m": dist_all[order],
        }
    )


# --------------------------------------------------------------------------------------------------
# public distance functions
# --------------------------------------------------------------------------------------------------


def od_distances(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Walking distances of all origin-destination pairs within ``max_distance_m``.

    Origins are reached at their centroid; destinations at their access points
    (boundary of polygons, samples along lines); the distance to a destination
    is the shortest over its access points. The snap legs are excluded.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; the frames must be in ``network.crs``.
    origins, destinations : geopandas.GeoDataFrame
        Where walks start and end.
    max_distance_m : float
        Only pairs within this network distance (metres) are returned.
    max_snap_distance_m : float, default 300
        Farther rows are unreachable and appear in no pair.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.

    Returns
    -------
    pandas.DataFrame
        Long table ``origin``, ``destination`` (row positions in the input
        frames), ``distance_m``, sorted by origin then destination.
    """
    limit = _check_distance(max_distance_m, "max_distance_m")
    orig = _origin_points(network, origins, max_snap_distance_m)
    dest = snap_points(
        network, destinations, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m
    )
    index = _network_index(network)
    table = _pairs_within(index, orig, dest, limit, progress=progress)
    logger.info("od distances: %s pairs within %s m", f"{len(table):,}", f"{limit:,.0f}")
    return table


def _facility_ids(facilities: gpd.GeoDataFrame, what: str = "facilities") -> np.ndarray:
    if "facility_id" not in facilities.columns:
        msg = f"{what}: column `facility_id` is missing; give each facility a unique id"
        raise InputDataError(msg)
    ids = facilities["facility_id"].astype(str).to_numpy()
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        examples = ", ".join(sorted(set(ids[dup]))[:5])
        msg = f"{what}: column `facility_id` has {dup.sum()} duplicated values ({examples}); ids must be unique"
        raise InputDataError(msg)
    return ids


def nearest_facility(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
) -> pd.DataFrame:
    """Walking distance from each origin to its nearest facility.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; the frames must be in ``network.crs``.
    origins : geopandas.GeoDataFrame
        Where walks start (polygons at their centroid).
    facilities : geopandas.GeoDataFrame
        With a unique ``facility_id``; reached at their access points.
    max_distance_m : float, default 5000
        Farther facilities are ignored (distance ``inf``).
    max_snap_distance_m : float, default 300
        Origins or access points farther from every street are unreachable.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``distance_m`` (metres along the network, the
        snap legs excluded; ``inf`` when none within the cap) and
        ``facility_id`` (``None`` when none). Ties go to the lexicographically
        smallest ``facility_id``.
    """
    limit = _check_distance(max_distance_m, "max_distance_m")
    ids = _facility_ids(facilities)
    orig = _origin_points(network, origins, max_snap_distance_m)
    dest = snap_points(network, facilities, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    index = _network_index(network)
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    result = _nearest_core(
        index,
        orig,
        dest,
        np.arange(len(facilities)),
        rank,
        np.zeros(len(facilities), dtype=np.int64),
        [ANY_KIND],
        limit,
        progress=False,
    )
    _, true, group = result[ANY_KIND]
    facility = np.where(group >= 0, ids[np.maximum(group, 0)], None) if len(ids) else np.full(len(origins), None)
    return pd.DataFrame({"distance_m": true, "facility_id": facility}, index=origins.index)


# --------------------------------------------------------------------------------------------------
# E2SFCA, service areas, underserved neighbourhoods
# --------------------------------------------------------------------------------------------------


def _step_weights(distance: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    bounds = np.array([s[0] for s in steps], dtype=float)
    weights = np.array([s[1] for s in steps] + [0.0], dtype=float)
    return weights[np.searchsorted(bounds, distance, side="left")]


def e2sfca(
    od: pd.DataFrame,
    population: np.ndarray,
    supply: np.ndarray,
    *,
    steps: Sequence[tuple[float, float]] = DEFAULT_E2SFCA_STEPS,
) -> np.ndarray:
    """Enhanced two-step floating catchment ratio of supply per resident.

    Step 1, for each facility ``j``: ``R_j = S_j / sum_k P_k W(d_kj)`` over the
    cells ``k`` in its catchment. Step 2, for each cell ``i``:
    ``A_i = sum_j R_j W(d_ij)``. ``W`` is the stepped weight of
    ``steps`` (zero beyond the last bound, which is the catchment).

    Parameters
    ----------
    od : pandas.DataFrame
        ``origin`` (cell position), ``destination`` (facility position),
        ``distance_m`` as returned by :func:`od_distances`.
    population : numpy.ndarray
        Residents of each cell (origin positions).
    supply : numpy.ndarray
        Supply of each facility, e.g. venue field area in m² (destination positions).
    steps : sequence of (upper bound m, weight)
        Increasing distance bounds and their weights.

    Returns
    -------
    numpy.ndarray
        Supply per resident reachable from each cell (m² per person for areas);
        0 where no facility is within the catchment.
    """
    population = np.asarray(population, dtype=float)
    supply = np.nan_to_num(np.asarray(supply, dtype=float), nan=0.0)
    origin = od["origin"].to_numpy()
    dest = od["destination"].to_numpy()
    weight = _step_weights(od["distance_m"].to_numpy(), steps)
    demand = np.bincount(dest, weights=population[origin] * weight, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, supply / demand, 0.0)
    return np.bincount(origin, weights=ratio[dest] * weight, minlength=len(population))


def _substrings(geoms: np.ndarray, geom_length: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised line substrings between ``start`` and ``end`` (geometry units from the line start)."""
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    coords, line = shapely.get_coordinates(geoms, return_index=True)
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = line[1:] == line[:-1]
    step = np.hypot(*(coords[1:] - coords[:-1]).T)
    seg[1:] = np.where(same[1:], step, 0.0)
    cum = np.cumsum(seg)
    first_of_line = np.concatenate([[0], np.flatnonzero(~same[1:]) + 1])
    cum -= np.repeat(cum[first_of_line], np.bincount(line, minlength=len(geoms)))
    inner = (cum > start[line]) & (cum < end[line])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, np.clip(start, 0, geom_length)))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, np.clip(end, 0, geom_length)))
    ids = np.concatenate([np.arange(len(geoms)), line[inner], np.arange(len(geoms))])
    pos = np.concatenate([np.full(len(geoms), -1.0), cum[inner], np.full(len(geoms), np.inf)])
    xy = np.concatenate([p0, coords[inner], p1])
    order = np.lexsort((pos, ids))
    return shapely.linestrings(xy[order], indices=ids[order])


def _reachable_segments(
    index: _NetworkIndex,
    group: np.ndarray,
    node: np.ndarray,
    dist: np.ndarray,
    same_group: np.ndarray,
    same_edge: np.ndarray,
    same_offset: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Parts of snapping edges from which a group is reachable within ``threshold``: ``(group, linestring)``.

    ``dist`` is the distance from ``node`` to the group (walking towards it).
    """
    n = index.n_nodes
    within = dist <= threshold
    group, node, dist = group[within], node[within], dist[within]
    snap_edges = index.snap_edges
    two_way = index.twin[snap_edges] >= 0
    parts_g, parts_e, parts_a, parts_b = [], [], [], []
    # via v (always): a >= L - (t - D[v])
    for end_node, allowed, tail in (
        (index.v[snap_edges], np.ones(len(snap_edges), bool), True),
        (index.u[snap_edges], two_way, False),
    ):
        edges_here = snap_edges[allowed]
        nodes_here = end_node[allowed]
        order = np.argsort(nodes_here, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(nodes_here, minlength=n))])
        starts = ptr[node]
        counts = ptr[node + 1] - starts
        total = int(counts.sum())
        if total == 0:
            continue
        idx = order[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)]
        e = edges_here[idx]
        remaining = threshold - np.repeat(dist, counts)
        length = index.length[e]
        if tail:
            a, b = np.maximum(length - remaining, 0.0), length
        else:
            a, b = np.zeros(total), np.minimum(remaining, length)
        parts_g.append(np.repeat(group, counts))
        parts_e.append(e)
        parts_a.append(a)
        parts_b.append(b)
    if len(same_group):
        two = index.twin[same_edge] >= 0
        length = index.length[same_edge]
        parts_g.append(same_group)
        parts_e.append(same_edge)
        parts_a.append(np.maximum(same_offset - threshold, 0.0))
        parts_b.append(np.where(two, np.minimum(same_offset + threshold, length), same_offset))
    if not parts_g:
        return np.empty(0, np.int64), np.empty(0, dtype=object)
    g = np.concatenate(parts_g)
    e = np.concatenate(parts_e)
    a = np.concatenate(parts_a)
    b = np.concatenate(parts_b)
    scale = np.where(index.length[e] > 0, index.geom_length[e] / np.maximum(index.length[e], 1e-12), 0.0)
    full = (a <= 1e-9) & (b >= index.length[e] - 1e-9)
    # a whole edge once per group; drop its partial pieces
    n_edges = len(index.length)
    full_keys = _unique_sorted(g[full] * n_edges + e[full])
    key = g * n_edges + e
    if len(full_keys):
        slot = np.minimum(np.searchsorted(full_keys, key), len(full_keys) - 1)
        covered = full_keys[slot] == key
    else:
        covered = np.zeros(len(key), dtype=bool)
    first_full = np.zeros(len(key), dtype=bool)
    if full.any():
        full_pos = np.flatnonzero(full)
        _, first = np.unique(key[full_pos], return_index=True)
        first_full[full_pos[first]] = True
    keep = first_full | (~full & ~covered)
    g, e, a, b, scale, full = g[keep], e[keep], a[keep], b[keep], scale[keep], full[keep]
    lines = np.empty(len(e), dtype=object)
    lines[full] = index.geoms[e[full]]
    part = ~full & (b > a)
    lines[part] = _substrings(
        index.geoms[e[part]], index.geom_length[e[part]], a[part] * scale[part], b[part] * scale[part]
    )
    ok = full | part
    return g[ok], lines[ok]


def _service_area_polygons(
    index: _NetworkIndex,
    triples: tuple[np.ndarray, np.ndarray, np.ndarray],
    same: tuple[np.ndarray, np.ndarray, np.ndarray],
    thresholds: Sequence[float],
    buffer_m: float,
    n_groups: int,
) -> list[tuple[int, float, shapely.Geometry]]:
    out = []
    for threshold in sorted(thresholds):
        g, lines = _reachable_segments(index, *triples, *same, threshold)
        if len(g) == 0:
            continue
        order = np.argsort(g, kind="stable")
        g, lines = g[order], lines[order]
        # buffering each piece and dissolving is far faster in GEOS than buffering crossing linework at once
        bands = shapely.buffer(lines, buffer_m, quad_segs=4)
        starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
        ends = np.append(starts[1:], len(g))
        for start, end in zip(starts, ends, strict=True):
            out.append((int(g[start]), float(threshold), shapely.union_all(bands[start:end])))
    return out


def service_areas(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    buffer_m: float = 50.0,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
) -> gpd.GeoDataFrame:
    """Walking service areas: the street segments from which each facility is within each threshold.

    Reachable segments (partial edges cut at the remaining distance) are
    buffered by ``buffer_m``; never a convex hull, so land across a river
    without a bridge stays outside.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; ``facilities`` must be in ``network.crs``.
    facilities : geopandas.GeoDataFrame
        With ``facility_id`` and ``kind``.
    thresholds_m : sequence of float, default (300, 500, 1000)
        Walking distances in metres.
    buffer_m : float, default 50
        Half-width of the band around reachable streets (metres).
    max_snap_distance_m : float, default 300
        Facilities farther from every street get no service area.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``threshold_m``, polygon geometry; one row
        per reachable facility and threshold, in ``network.crs``.
    """
    ids = _facility_ids(facilities)
    thresholds = [_check_distance(t, "thresholds_m") for t in thresholds_m]
    index = _network_index(network)
    dest = snap_points(network, facilities, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    rows = _service_area_rows(index, dest, thresholds, buffer_m, progress=progress)
    kinds = facilities["kind"].astype(str).to_numpy() if "kind" in facilities.columns else np.full(len(ids), "")
    return gpd.GeoDataFrame(
        {
            "facility_id": [ids[g] for g, _, _ in rows],
            "kind": [kinds[g] for g, _, _ in rows],
            "threshold_m": np.array([t for _, t, _ in rows], dtype=float),
        },
        geometry=[p for _, _, p in rows],
        crs=network.crs,
    )


def _service_area_rows(index, dest: SnappedPoints, thresholds, buffer_m, *, progress=None):
    ok = dest.reachable
    d_owner, d_edge, d_off = dest.owner[ok], dest.edge[ok], dest.offset_m[ok]
    if len(d_owner) == 0:
        return []
    pos, node, cost = _attach(index, d_edge, d_off, "entry")
    triples = _triples(
        _bounded_search(
            index,
            index.backward,
            d_owner[pos],
            node,
            cost,
            dest.point_xy[ok],
            d_owner,
            max(thresholds),
            progress=progress,
            desc="service areas",
        )
    )
    return _service_area_polygons(index, triples, (d_owner, d_edge, d_off), thresholds, buffer_m, dest.n_owners)


def underserved_neighbourhoods(
    cells: gpd.GeoDataFrame,
    underserved: np.ndarray,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Group underserved cells into neighbourhoods of touching cells, ranked by population.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Cell polygons with ``population`` (and optionally ``district``).
    underserved : numpy.ndarray
        Boolean mask of the underserved cells.

    Returns
    -------
    neighbourhoods : geopandas.GeoDataFrame
        ``neighbourhood_id`` (1 = most populous), ``population``, ``n_cells``,
        ``district`` (holding most of its population), population-weighted
        ``centroid_x`` / ``centroid_y`` and the dissolved polygon.
    neighbourhood_of_cell : numpy.ndarray
        ``neighbourhood_id`` of each cell, 0 where the cell is not underserved.
    """
    mask = np.asarray(underserved, dtype=bool)
    cell_nb = np.zeros(len(cells), dtype=np.int64)
    columns = ["neighbourhood_id", "population", "n_cells", "district", "centroid_x", "centroid_y"]
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=cells.crs)
        return empty, cell_nb
    geoms = np.asarray(cells.geometry.values, dtype=object)[rows]
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    graph = scipy.sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(len(rows), len(rows)))
    _, label = connected_components(graph, directed=False)
    population = cells["population"].to_numpy(dtype=float)[rows]
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    n_lab = int(label.max()) + 1
    pop = np.bincount(label, weights=population, minlength=n_lab)
    count = np.bincount(label, minlength=n_lab)
    safe = np.where(pop > 0, pop, 1.0)
    cx = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 0], minlength=n_lab) / safe, 0.0)
    cy = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 1], minlength=n_lab) / safe, 0.0)
    if pop.sum() == 0 or np.any(pop == 0):
        plain_x = np.bincount(label, weights=centre[:, 0], minlength=n_lab) / count
        plain_y = np.bincount(label, weights=centre[:, 1], minlength=n_lab) / count
        cx = np.where(pop > 0, cx, plain_x)
        cy = np.where(pop > 0, cy, plain_y)
    if "district" in cells.columns:
        frame = pd.DataFrame({"label": label, "district": cells["district"].to_numpy()[rows], "pop": population})
        by = frame.dropna(subset=["district"]).groupby(["label", "district"], as_index=False)["pop"].sum()
        by = by.sort_values(["label", "pop", "district"], ascending=[True, False, True]).drop_duplicates("label")
        district = pd.Series(by["district"].to_numpy(), index=by["label"].to_numpy()).reindex(range(n_lab)).to_numpy()
    else:
        district = np.full(n_lab, None, dtype=object)
    order = np.argsort(label, kind="stable")
    splits = np.flatnonzero(np.diff(label[order])) + 1
    polygons = [shapely.union_all(geoms[chunk]) for chunk in np.split(order, splits)]
    rank = np.lexsort((cx, -pop))  # most populous first, position as a stable tie-break
    ids = np.empty(n_lab, dtype=np.int64)
    ids[rank] = np.arange(1, n_lab + 1)
    cell_nb[rows] = ids[label]
    table = gpd.GeoDataFrame(
        {
            "neighbourhood_id": ids[rank],
            "population": pop[rank],
            "n_cells": count[rank],
            "district": district[rank],
            "centroid_x": cx[rank],
            "centroid_y": cy[rank],
        },
        geometry=[polygons[i] for i in rank],
        crs=cells.crs,
    )
    return table, cell_nb


# --------------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class AccessibilityResult:
    """Outputs of :func:`compute_accessibility`, all in the network CRS.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        The input cells plus ``snap_distance_m``, ``reachable``, ``dist_m_any``,
        ``nearest_id_any``, ``dist_m_<kind>`` / ``nearest_id_<kind>`` per kind
        present, ``walk_min_any``, ``covered_<t>m`` per threshold,
        ``covered_service``, ``e2sfca_m2_per_capita``,
        ``opportunities_<catchment>m``, ``underserved`` and ``neighbourhood_id``.
    underserved : geopandas.GeoDataFrame
        Neighbourhoods of touching underserved cells, ranked by population.
    service_areas : geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``threshold_m``, polygon.
    facilities : geopandas.GeoDataFrame
        The facilities analysed with ``n_access_points``, ``snap_distance_m``
        and ``reachable``.
    parameters : dict
        The parameters used.
    timings_s : dict
        Wall-clock seconds per step (``snapping``, ``nearest``,
        ``coverage_e2sfca``, ``underserved``, ``service_areas``; they add up
        to the whole call). On large networks the nearest-facility searches
        run in a forked child process at the same time as the catchment pairs
        (``catchment_pairs``, part of ``coverage_e2sfca``); ``nearest`` is then
        the time spent waiting for them and ``nearest_child`` the child's own
        time (0 when everything ran in this process).
    """

    cells: gpd.GeoDataFrame
    underserved: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)


def _validate_facilities(facilities: gpd.GeoDataFrame) -> None:
    for column in ("facility_id", "kind"):
        if column not in facilities.columns:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    _facility_ids(facilities)


def _validate_cells(cells: gpd.GeoDataFrame) -> None:
    if "population" not in cells.columns:
        msg = "population cells: column `population` is missing; read cells with ordos_geo.io.read_population"
        raise InputDataError(msg)
    pop = pd.to_numeric(cells["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop < 0))
    if len(bad):
        rows = ", ".join(str(r) for r in bad[:5])
        msg = (
            f"population cells: column `population` has {len(bad)} missing or negative values (rows {rows}); "
            "fix or drop them"
        )
        raise InputDataError(msg)


def compute_accessibility(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] | None = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    thresholds_min: Sequence[float] | None = None,
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M,
    walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    kinds: Sequence[str] | None = None,
    service_distance_m: Mapping[str, float] | None = None,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    e2sfca_steps: Sequence[tuple[float, float]] = DEFAULT_E2SFCA_STEPS,
    underserved_threshold_m: float = DEFAULT_CATCHMENT_M,
    public_only: bool = True,
    service_areas_by: Literal["facility", "none"] = "facility",
    service_area_buffer_m: float = 50.0,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
) -> AccessibilityResult:
    """Walking accessibility of every populated cell to the fitness facilities.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; ``cells`` and ``facilities`` must be in ``network.crs``.
    cells : geopandas.GeoDataFrame
        Population cells (``cell_id``, ``population``, polygon; optionally
        ``district``), reached at their centroid.
    facilities : geopandas.GeoDataFrame
        Facilities as read by ``io.read_facilities`` (``facility_id``, ``kind``,
        ``area_m2``, ``open_to_public``, geometry).
    thresholds_m : sequence of float, default (300, 500, 1000)
        Coverage tiers in metres (``covered_<t>m`` columns).
    thresholds_min : sequence of float, optional
        Coverage tiers in walking minutes instead; converted at ``walk_speed_kmh``.
    max_distance_m : float, default 5000
        Cap of the nearest-facility search (farther: ``inf``).
    walk_speed_kmh : float, default 4.5
        Walking speed for minutes (``walk_min_any``).
    max_snap_distance_m : float, default 300
        Cells or facilities farther from every street are unreachable.
    kinds : sequence of str, optional
        Facility kinds to analyse; default all kinds present.
    service_distance_m : mapping, optional
        Walking service distance per kind for ``covered_service``; default
        ``settings.KIND_SERVICE_DISTANCE_M``.
    catchment_m : float, default 1000
        Catchment of the E2SFCA and of the cumulative opportunities.
    e2sfca_steps : sequence of (upper bound m, weight)
        Stepped weights, default :data:`DEFAULT_E2SFCA_STEPS` (Luo & Qi 2009).
    underserved_threshold_m : float, default 1000
        Cells farther than this from any facility (or unreachable) are
        underserved (outside the 15-minute fitness circle).
    public_only : bool, default True
        Leave out facilities with ``open_to_public`` False (closed school
        venues): residents cannot use them.
    service_areas_by : {"facility", "none"}, default "facility"
        One service-area polygon per facility and threshold, or none.
    service_area_buffer_m : float, default 50
        Band around reachable streets forming the service area.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show progress bars; default: only on a terminal.

    Returns
    -------
    AccessibilityResult
    """
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    _check_frame(network, cells, "population cells")
    _check_frame(network, facilities, "facilities")
    _validate_cells(cells)
    _validate_facilities(facilities)
    if thresholds_min is not None:
        thresholds = [
            float(t) for t in np.atleast_1d(minutes_to_metres(list(thresholds_min), walk_speed_kmh=walk_speed_kmh))
        ]
    else:
        thresholds = [float(t) for t in (thresholds_m or ())]
    thresholds = [_check_distance(t, "thresholds_m") for t in thresholds]
    limit = _check_distance(max_distance_m, "max_distance_m")
    catchment = _check_distance(catchment_m, "catchment_m")
    service = dict(settings.KIND_SERVICE_DISTANCE_M if service_distance_m is None else service_distance_m)
    fac = facilities
    if public_only and "open_to_public" in fac.columns:
        closed = ~fac["open_to_public"].fillna(True).astype(bool).to_numpy()
        if closed.any():
            logger.info("accessibility: leaving out %d facilities not open to the public", int(closed.sum()))
            fac = fac[~closed]
    if kinds is not None:
        fac = fac[fac["kind"].isin(list(kinds))]
    fac = fac.reset_index(drop=True)
    ids = fac["facility_id"].astype(str).to_numpy()
    kind_names = (
        sorted(fac["kind"].astype(str).unique()) if kinds is None else [k for k in kinds if (fac["kind"] == k).any()]
    )
    kind_index = {k: i for i, k in enumerate(kind_names)}
    kind_of_fac = fac["kind"].astype(str).map(kind_index).to_numpy(dtype=np.int64)

    # large inputs: the cell centroids are computed in a forked child while the network index is built here,
    # then half of the cells are snapped in a child while the facilities and the other half are snapped here
    centroids = _start_centroids(cells)
    cell_points = None
    try:
        index = _network_index(network)
        cell_points = _start_origin_points(network, cells, max_snap_distance_m, centroids=centroids)
        dest = snap_points(network, fac, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
        orig = cell_points()
    except BaseException:
        if centroids is not None:
            centroids.cancel()
        getattr(cell_points, "cancel", lambda: None)()
        raise
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable") if len(ids) else np.empty(0, np.int64)
    lap("snapping")
    # the per-kind nearest searches run (partly) in a forked child while this process finds the catchment pairs
    job = _start_nearest(
        index,
        orig,
        dest,
        np.arange(len(fac)),
        rank,
        kind_of_fac,
        kind_names,
        limit,
        child_share=_NEAREST_CHILD_SHARE,
        progress=progress,
    )
    try:
        pairs_clock = time.perf_counter()
        od = _pairs_within(index, orig, dest, catchment, progress=progress, sort=False)
        pairs_s = time.perf_counter() - pairs_clock
        per_kind = job.result()
    except BaseException:
        job.cancel()
        raise
    timings["nearest_child"] = job.child_s
    timings["catchment_pairs"] = pairs_s
    lap("nearest")
    out = cells.copy()
    snap = orig.owner_snap_distance_m()
    out["snap_distance_m"] = snap
    out["reachable"] = orig.owner_reachable()
    n_cells = len(cells)
    best_any = np.full(n_cells, np.inf)
    true_any = np.full(n_cells, np.inf)
    group_any = np.full(n_cells, -1, dtype=np.int64)
    covered_service = np.zeros(n_cells, dtype=bool)
    kind_columns: dict[str, np.ndarray] = {}
    for kind in kind_names:
        perturbed, true, group = per_kind[kind]
        # the origin points are the cells, one each, in order
        kind_columns[dist_column(kind)] = true
        kind_columns[nearest_id_column(kind)] = np.where(group >= 0, ids[np.maximum(group, 0)], None)
        better = perturbed < best_any
        best_any[better], true_any[better], group_any[better] = perturbed[better], true[better], group[better]
        covered_service |= true <= service.get(kind, catchment)
    out[dist_column(ANY_KIND)] = true_any
    nearest_any = np.where(group_any >= 0, ids[np.maximum(group_any, 0)], None) if len(ids) else None
    out[nearest_id_column(ANY_KIND)] = nearest_any
    for name, values in kind_columns.items():
        out[name] = values
    out["walk_min_any"] = true_any / (walk_speed_kmh * 1000.0 / 60.0)
    for t in thresholds:
        out[covered_column(t)] = true_any <= t
    out["covered_service"] = covered_service

    area = (
        pd.to_numeric(fac["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in fac.columns
        else np.zeros(len(fac))
    )
    counted = fac["kind"].isin(settings.AREA_COUNTED_KINDS).to_numpy()
    supply = np.where(counted, np.nan_to_num(area, nan=0.0), 0.0)
    population = cells["population"].to_numpy(dtype=float)
    out["e2sfca_m2_per_capita"] = e2sfca(od, population, supply, steps=e2sfca_steps)
    out[f"opportunities_{round(catchment)}m"] = np.bincount(od["origin"].to_numpy(), minlength=n_cells)

    lap("coverage_e2sfca")
    # the catchment pairs were found while the child searched: count them under coverage_e2sfca
    timings["nearest"] -= pairs_s
    timings["coverage_e2sfca"] += pairs_s
    underserved_mask = ~(true_any <= underserved_threshold_m)
    out["underserved"] = underserved_mask
    neighbourhoods, cell_nb = underserved_neighbourhoods(out, underserved_mask)
    out["neighbourhood_id"] = cell_nb
    lap("underserved")

    if service_areas_by == "facility" and thresholds:
        rows = _service_area_rows(index, dest, thresholds, service_area_buffer_m, progress=progress)
        kinds_arr = fac["kind"].astype(str).to_numpy()
        areas = gpd.GeoDataFrame(
            {
                "facility_id": [ids[g] for g, _, _ in rows],
                "kind": [kinds_arr[g] for g, _, _ in rows],
                "threshold_m": np.array([t for _, t, _ in rows], dtype=float),
            },
            geometry=[p for _, _, p in rows],
            crs=network.crs,
        )
    else:
        areas = gpd.GeoDataFrame({"facility_id": [], "kind": [], "threshold_m": []}, geometry=[], crs=network.crs)

    lap("service_areas")
    fac_out = fac.copy()
    fac_out["n_access_points"] = np.bincount(dest.owner[dest.reachable], minlength=len(fac))
    fac_out["snap_distance_m"] = dest.owner_snap_distance_m()
    fac_out["reachable"] = dest.owner_reachable()
    n_unreachable_cells = int((~out["reachable"]).sum())
    n_unreachable_fac = int((~fac_out["reachable"]).sum())
    logger.info(
        "accessibility: %s cells (%s beyond %.0f m of a street), %s facilities of %d kinds (%s unreachable), "
        "%.1f%% of residents within %.0f m",
        f"{n_cells:,}",
        f"{n_unreachable_cells:,}",
        max_snap_distance_m,
        f"{len(fac):,}",
        len(kind_names),
        f"{n_unreachable_fac:,}",
        100.0 * population[true_any <= underserved_threshold_m].sum() / max(population.sum(), 1e-12),
        underserved_threshold_m,
    )
    parameters = {
        "thresholds_m": thresholds,
        "max_distance_m": limit,
        "walk_speed_kmh": walk_speed_kmh,
        "max_snap_distance_m": max_snap_distance_m,
        "kinds": list(kind_names),
        "catchment_m": catchment,
        "e2sfca_steps": [tuple(s) for s in e2sfca_steps],
        "underserved_threshold_m": underserved_threshold_m,
        "public_only": public_only,
    }
    return AccessibilityResult(
        cells=out,
        underserved=neighbourhoods,
        service_areas=areas,
        facilities=fac_out,
        parameters=parameters,
        timings_s=timings,
    )


# --------------------------------------------------------------------------------------------------
# the stage, split by district
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DistrictPart:
    """One district's share of a split accessibility run (see :func:`compute_accessibility_by_district`).

    Attributes
    ----------
    district : str
        The value of the grouping column (``"(none)"`` for cells without one).
    network : WalkNetwork
        The streets within ``reach_m`` of the district's cells.
    cells : geopandas.GeoDataFrame
        The district's cells and, around them, the cells E2SFCA needs (within ``context_m``).
    own : numpy.ndarray
        Which rows of ``cells`` belong to the district.
    facilities : geopandas.GeoDataFrame
        The facilities touching the network's area.
    options : dict
        Keyword arguments of :func:`compute_accessibility`.
    """

    district: str
    network: WalkNetwork
    cells: gpd.GeoDataFrame
    own: np.ndarray
    facilities: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)


def district_parts(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "district",
    **options,
) -> list[DistrictPart]:
    """Split an accessibility run into one part per district, each on the streets it can need.

    Around the convex hull of a district's cell centroids the part keeps every
    street within ``reach_m = max(max_distance_m + 3 s, 3 c + 5 s) + 1`` (``s``
    the snap distance, ``c`` the E2SFCA catchment): a walk from the district's
    cells capped at ``max_distance_m`` never leaves it, every cell and access
    point snaps to the segment it snaps to in the whole network, and an access
    point whose true segment is outside snaps (if at all) beyond every capped
    walk. The cells within ``2 c + 2 s`` come along so the E2SFCA demand of
    every facility the district reaches is complete. So each part's results
    for its own cells equal the whole run's.

    Parameters
    ----------
    network, cells, facilities
        As for :func:`compute_accessibility`.
    by : str
        Column of ``cells`` naming the district.
    **options
        Keyword arguments of :func:`compute_accessibility` (``max_distance_m``,
        ``max_snap_distance_m``, ``catchment_m``, ...).

    Returns
    -------
    list of DistrictPart
        Ordered by district name, then the cells without one.
    """
    if by not in cells.columns:
        msg = f"population cells: column `{by}` is missing; assign districts (pipeline.assign_districts) to split"
        raise InputDataError(msg)
    limit = _check_distance(options.get("max_distance_m", settings.DEFAULT_MAX_DISTANCE_M), "max_distance_m")
    snap = _check_distance(options.get("max_snap_distance_m", settings.DEFAULT_MAX_SNAP_DISTANCE_M), "snap")
    catchment = _check_distance(options.get("catchment_m", DEFAULT_CATCHMENT_M), "catchment_m")
    reach = max(limit + 3 * snap, 3 * catchment + 5 * snap) + 1.0
    context = 2 * catchment + 2 * snap
    centroids = np.asarray(shapely.centroid(np.asarray(cells.geometry.values, dtype=object)), dtype=object)
    label = cells[by].astype(object).where(cells[by].notna(), "(none)").astype(str).to_numpy()
    edge_index = network.edges.sindex
    facility_index = facilities.sindex
    parts = []
    for district in sorted(set(label) - {"(none)"}) + (["(none)"] if (label == "(none)").any() else []):
        own = label == district
        hull = shapely.convex_hull(shapely.multipoints(centroids[own]))
        near = shapely.intersects(shapely.buffer(hull, context), centroids) | own
        area = shapely.buffer(hull, reach)
        rows = np.flatnonzero(near)
        parts.append(
            DistrictPart(
                district=district,
                network=subnetwork(network, edge_index.query(area, predicate="intersects")),
                cells=cells.iloc[rows],
                own=own[rows],
                facilities=facilities.iloc[np.sort(facility_index.query(area, predicate="intersects"))],
                options=dict(options),
            )
        )
    return parts


def district_part_cells(part: DistrictPart) -> gpd.GeoDataFrame:
    """Accessibility of one part's own cells (a picklable task for a process pool or a Dask cluster)."""
    result = compute_accessibility(part.network, part.cells, part.facilities, **part.options, service_areas_by="none")
    return result.cells[part.own]


def compute_accessibility_by_district(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "district",
    map_parts: Callable[[Callable, list], Iterable] = map,
    **options,
) -> AccessibilityResult:
    """:func:`compute_accessibility` district by district on buffered streets, merged: the same result.

    Each district's cells are computed on the streets around them
    (:func:`district_parts`), so no walk is cut at a district line; the parts
    can run anywhere ``map_parts`` sends them (a Dask cluster, a process pool).
    The merged cells, with the underserved neighbourhoods formed again across
    district lines, equal those of one run on the whole network (floating
    sums of E2SFCA up to rounding); service areas and the facility table come
    from the whole network.

    Parameters
    ----------
    network, cells, facilities
        As for :func:`compute_accessibility`.
    by : str
        Column of ``cells`` naming the district.
    map_parts : callable
        ``map``-like: ``map_parts(district_part_cells, parts)`` yields each
        part's cells in order. Default: the built-in ``map`` (here, one by one).
    **options
        Keyword arguments of :func:`compute_accessibility`.

    Returns
    -------
    AccessibilityResult
        ``parameters`` adds ``split_by`` and ``parts``; ``timings_s`` adds ``parts``.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> result = compute_accessibility_by_district(study.network, study.cells, study.facilities)  # doctest: +SKIP
    """
    _check_frame(network, cells, "population cells")
    clock = time.perf_counter()
    parts = district_parts(network, cells, facilities, by=by, **options)
    frames = list(map_parts(district_part_cells, parts))
    parts_s = time.perf_counter() - clock
    whole = compute_accessibility(network, cells.iloc[:0], facilities, **options)  # service areas, facility table
    # a part without any facility of a kind near it has no column for that kind: unreachable there
    absent = {c: np.inf if c.startswith("dist_m_") else None for c in whole.cells.columns}
    merged = pd.concat(
        [f.assign(**{c: v for c, v in absent.items() if c not in f.columns}) for f in frames if len(f)]
        or [whole.cells]
    ).reindex(cells.index)
    merged = gpd.GeoDataFrame(merged[list(whole.cells.columns)], geometry=cells.geometry.name, crs=cells.crs)
    neighbourhoods, cell_nb = underserved_neighbourhoods(merged, merged["underserved"].to_numpy(dtype=bool))
    merged["neighbourhood_id"] = cell_nb
    logger.info("accessibility: %d district parts merged, %s cells", len(parts), f"{len(merged):,}")
    return AccessibilityResult(
        cells=merged,
        underserved=neighbourhoods,
        service_areas=whole.service_areas,
        facilities=whole.facilities,
        parameters={**whole.parameters, "split_by": by, "parts": [p.district for p in parts]},
        timings_s={**whole.timings_s, "parts": parts_s},
    )
