"""The network index: per-``WalkNetwork`` arrays, graphs and grids every walking-distance search uses.

Built once per network and cached (weakly) on it: edge ends and lengths, the
reverse twin of each two-way edge, the forward and transposed adjacency, the
straight segments of the snapping edges hashed into a square grid, and node
grids for the tiled bounded searches.
"""

from __future__ import annotations

import hashlib
import math
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.ndimage
import scipy.sparse
import shapely

from ordos_geo._xy import xy_bounds
from ordos_geo.network import WalkNetwork
from ordos_geo.network.arrays import ragged_take

#: Grids of at most this many cells keep a dense cell -> segments pointer (8 bytes a cell).
_DENSE_GRID_CELLS = 1 << 24
#: Segment-grid cell side as a multiple of the mean spacing of the segments.
_GRID_CELL_FACTOR = 0.6
_INDEX_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


#: Largest bucket side (metres) of the grid :meth:`NetworkIndex.nodes_near` marks nodes in.
_NEAR_GRID_M = 256.0


def _unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted unique values (sort-based; faster than hashing for the integer keys used here)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


@dataclass(eq=False)
class NetworkIndex:
    """Arrays, graphs and grids of one :class:`~ordos_geo.network.WalkNetwork` that every search uses.

    Get it with :func:`network_index` (built once per network, cached); it is
    read-only for its users. Edges are the network's directed edges in order.

    Attributes
    ----------
    n_nodes : int
        Number of nodes.
    u, v : numpy.ndarray
        Start and end node of each edge (int64).
    length : numpy.ndarray
        Walking length of each edge (metres; the costs of the searches).
    geom_length : numpy.ndarray
        Length of each edge's geometry (metres), for positions along it.
    twin : numpy.ndarray
        The reverse edge with the same geometry (a two-way street), ``-1`` when one-way.
    snap_edges : numpy.ndarray
        The edges points are snapped to (one of each two-way pair).
    coords, offsets : numpy.ndarray
        Edge geometries as a ragged array: edge ``e`` runs through ``coords[offsets[e]:offsets[e + 1]]``.
    forward, backward : scipy.sparse.csr_matrix
        Adjacency (node to node, edge lengths) and its transpose (walks reversed).
    node_xy : numpy.ndarray
        ``(n_nodes, 2)`` node coordinates in the network CRS.
    reach_ratio : float
        Lower bound of network length / straight-line distance over the edges,
        so a walk of ``d`` metres stays within ``d / reach_ratio`` of its start.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> index = network_index(net)
    >>> index.n_nodes, index.length.tolist(), index.twin.tolist()  # two two-way streets
    (3, [100.0, 100.0, 100.0, 100.0], [1, 0, 3, 2])
    """

    n_nodes: int
    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    geom_length: np.ndarray
    twin: np.ndarray  # index of the reverse edge with the same geometry, -1 if one-way
    snap_edges: np.ndarray  # edges snapped to (one per two-way pair)
    coords: np.ndarray  # edge geometries as a ragged array: edge e runs through coords[offsets[e]:offsets[e + 1]]
    offsets: np.ndarray
    forward: scipy.sparse.csr_matrix
    backward: scipy.sparse.csr_matrix  # transposed adjacency (walks reversed)
    node_xy: np.ndarray
    reach_ratio: float  # lower bound of network length / straight-line distance
    _node_grid: dict = field(default_factory=dict)
    _tree: shapely.STRtree | None = None
    _segments: _SegmentGrid | None = None
    _key: str | None = None

    def lines(self, edges: np.ndarray) -> np.ndarray:
        """The LineStrings of some edges, built from the coordinate arrays."""
        offsets, coords = ragged_take(self.offsets, self.coords, np.asarray(edges, dtype=np.int64))
        return shapely.from_ragged_array(shapely.GeometryType.LINESTRING, coords, (offsets,))

    @property
    def key(self) -> str:
        """Fingerprint of the network (node count, edge ends and lengths) that snaps made on it carry."""
        if self._key is None:
            digest = hashlib.blake2b(np.int64(self.n_nodes).tobytes(), digest_size=16)
            for values in (self.u, self.v, self.length):
                digest.update(np.ascontiguousarray(values).tobytes())
            self._key = digest.hexdigest()
        return self._key

    @property
    def tree(self) -> shapely.STRtree:
        """STRtree of the snapping edges (built on first use)."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.lines(self.snap_edges))
        return self._tree

    def nodes_near(self, nodes: np.ndarray, reach: float) -> np.ndarray:
        """Boolean mask of the nodes within ``reach`` metres (at least) of one of ``nodes`` in a straight line.

        The nodes are bucketed in a square grid of side at most ``reach / 4``,
        a power of two up to :data:`_NEAR_GRID_M` (so searches of different
        reaches share one grid, built once) and not finer than about four
        buckets a node (a short reach on a large network would otherwise
        take a grid of hundreds of millions of buckets); the buckets of ``nodes`` are
        dilated by ``reach`` and every node in them is marked: a superset of
        the nodes within ``reach``, read off each node's bucket (no sort).
        With ``reach = d / reach_ratio`` it holds every node of every walk of
        at most ``d`` metres from ``nodes``.
        """
        if len(nodes) == 0:
            return np.zeros(self.n_nodes, dtype=bool)
        low, high = self._node_bounds()
        finest = math.sqrt(float((high[0] - low[0]) * (high[1] - low[1])) / (4.0 * self.n_nodes))
        cell_m = min(_NEAR_GRID_M, 2.0 ** math.floor(math.log2(max(reach / 4.0, finest, 1.0))))
        bucket, shape = self._node_buckets(cell_m)
        marked = np.zeros(shape[0] * shape[1], dtype=bool)
        marked[bucket[np.asarray(nodes, dtype=np.int64)]] = True
        r = math.ceil(reach / cell_m)
        # a square: row, then column
        marked = scipy.ndimage.maximum_filter(marked.reshape(shape), size=2 * r + 1, mode="constant").ravel()
        return marked[bucket]

    def _node_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The smallest and largest node coordinates, ``(x, y)`` each (kept: the grids start from them)."""
        if "bounds" not in self._node_grid:
            self._node_grid["bounds"] = xy_bounds(self.node_xy)
        return self._node_grid["bounds"]

    def _node_buckets(self, cell_m: float) -> tuple[np.ndarray, tuple[int, int]]:
        """Bucket of each node in a square grid of side ``cell_m`` (``x * ny + y``), and the grid's ``(nx, ny)``."""
        key = ("buckets", round(cell_m, 3))
        if key not in self._node_grid:
            cells = np.floor((self.node_xy - self._node_bounds()[0]) / cell_m).astype(np.int64)
            shape = (int(cells[:, 0].max(initial=0)) + 1, int(cells[:, 1].max(initial=0)) + 1)
            self._node_grid[key] = (cells[:, 0] * shape[1] + cells[:, 1], shape)
        return self._node_grid[key]

    @property
    def segments(self) -> _SegmentGrid:
        """Straight segments of the snapping edges hashed into a square grid (built on first use)."""
        if self._segments is None:
            self._segments = _SegmentGrid.build(
                *ragged_take(self.offsets, self.coords, self.snap_edges), self.snap_edges
            )
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
    def build(cls, offsets: np.ndarray, coords: np.ndarray, edge_ids: np.ndarray) -> _SegmentGrid:
        line = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
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
        (a_low, a_high), (b_low, b_high) = xy_bounds(a), xy_bounds(b)
        lo = np.minimum(a_low, b_low) - 1.0
        hi = np.maximum(a_high, b_high) + 1.0
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


def network_index(network: WalkNetwork) -> NetworkIndex:
    """The index of ``network``, built on first use and cached (weakly) on the network.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (metric CRS).

    Returns
    -------
    NetworkIndex
        The same object on every call for the same network.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> index = network_index(net)
    >>> network_index(net) is index, index.snap_edges.tolist()
    (True, [0, 2])
    """
    cached = _INDEX_CACHE.get(network)
    if cached is not None:
        return cached
    edges = network.edge_table
    u = np.asarray(edges["u"], dtype=np.int64)
    v = np.asarray(edges["v"], dtype=np.int64)
    length = np.asarray(edges["length"], dtype=float)
    coords, offsets = network.edge_coords, network.edge_offsets
    geom_length = _line_lengths(coords, offsets)
    twin = _find_twins(u, v, length, coords, offsets)
    snap_mask = (twin < 0) | (np.arange(len(u)) < twin)
    snap_edges = np.flatnonzero(snap_mask)
    forward = network.adjacency.tocsr()
    backward = forward.T.tocsr()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = length / geom_length
    ratio = ratio[(geom_length > 1.0) & np.isfinite(ratio)]
    reach_ratio = float(np.clip(ratio.min(), 0.1, 1.0)) if len(ratio) else 1.0
    index = NetworkIndex(
        n_nodes=network.n_nodes,
        u=u,
        v=v,
        length=length,
        geom_length=geom_length,
        twin=twin,
        snap_edges=snap_edges,
        coords=coords,
        offsets=offsets,
        forward=forward,
        backward=backward,
        node_xy=np.asarray(network.node_xy, dtype=float),
        reach_ratio=reach_ratio,
    )
    _INDEX_CACHE[network] = index
    return index


def _line_lengths(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Length of each line of a ragged array, summed left to right as GEOS does (same value as ``shapely.length``)."""
    step = coords[1:] - coords[:-1]
    piece = np.sqrt(step[:, 0] * step[:, 0] + step[:, 1] * step[:, 1])
    sizes = np.diff(offsets) - 1
    order = np.argsort(-sizes, kind="stable")  # longest first: the lines still summing are a prefix
    starts = offsets[:-1][order]
    ranked = sizes[order]
    total = np.zeros(len(order))
    for k in range(int(ranked.max(initial=0))):
        active = int(np.searchsorted(-ranked, -k, side="left"))  # lines with more than k pieces
        total[:active] += piece[starts[:active] + k]
    lengths = np.empty(len(order))
    lengths[order] = total
    return lengths


def _reversed_equal(
    coords: np.ndarray, offsets: np.ndarray, first: np.ndarray, second: np.ndarray, *, tolerance: float
) -> np.ndarray:
    """Whether each line ``second`` is the corresponding line ``first`` reversed (coordinate-wise)."""
    n1 = offsets[first + 1] - offsets[first]
    n2 = offsets[second + 1] - offsets[second]
    start1 = offsets[first]
    start2 = offsets[second]
    same_count = n1 == n2
    counts = np.where(same_count, n1, 0)
    pair = np.repeat(np.arange(len(first)), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    p1 = coords[start1[pair] + k]
    p2 = coords[start2[pair] + (n2[pair] - 1 - k)]
    bad = np.abs(p1 - p2).max(axis=1) > tolerance
    ok = same_count.copy()
    ok[pair[bad]] = False
    return ok


def _find_twins(
    u: np.ndarray, v: np.ndarray, length: np.ndarray, coords: np.ndarray, offsets: np.ndarray
) -> np.ndarray:
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
    same = _reversed_equal(coords, offsets, i, j, tolerance=0.01)
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
    same = _reversed_equal(coords, offsets, pi, pj, tolerance=0.01)
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


def _node_grid(index: NetworkIndex, cell_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Nodes bucketed into a square grid: ``(order, bucket_ptr, origin, nx, ny)``."""
    key = round(cell_m, 3)
    if key in index._node_grid:
        return index._node_grid[key]
    bucket, (nx_, ny_) = index._node_buckets(cell_m)
    order = np.argsort(bucket, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(bucket, minlength=nx_ * ny_))])
    grid = (order, ptr, index._node_bounds()[0], nx_, ny_)
    index._node_grid[key] = grid
    return grid


def _nodes_in_box(index: NetworkIndex, grid, cell_m: float, box: np.ndarray) -> np.ndarray:
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
