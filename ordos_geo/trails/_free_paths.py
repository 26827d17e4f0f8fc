"""Least-cost paths through free junctions, many sources at once, on a local sub-graph in C.

The local search of :mod:`ordos_geo.trails._loop_search` asks, per move, for
the paths from a few junctions of a trail through junctions no trail holds
and segments no trail walks, to the trail's own junctions (reached, never
passed through), within a true length. :class:`FreeGraph` answers that with
one :func:`scipy.sparse.csgraph.dijkstra` for all sources on a sub-graph cut
for the question: the junctions within the true length of a source on the
whole street graph (a superset of those the paths can reach), minus the held
junctions and walked segments, with each target junction turned into a sink
(edges in, none out) and each held source into a separate start (edges out,
none in), so that no search passes through a target or through another
source's trail junction.

A path is the least-``weight`` path of that sub-graph; it is kept when its
true length (the sum of the segment lengths along it, which differs from the
weight when the weight is not the length) is within the limit.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import dijkstra

from ordos_geo.trails.prize import _ranges

#: Smallest edge weight handed to the C search (zero-weight edges stay edges in every SciPy version).
_TINY = 1e-9


@dataclass(frozen=True, eq=False)
class FreePaths:
    """The search trees of one :meth:`FreeGraph.search`, one row per source.

    Attributes
    ----------
    junction : numpy.ndarray
        ``(n_local,)`` street junction of each local node (targets and held
        sources appear twice: as sink and as start).
    n_free : int
        Local nodes ``0 .. n_free - 1`` are the free junctions (passed through).
    sink : dict of int to int
        Local node of each target junction (its sink).
    start : numpy.ndarray
        ``(n_sources,)`` local node each search starts from.
    pred : numpy.ndarray
        ``(n_sources, n_local)`` predecessor local node in the search tree, -1
        at the source and where not reached within the limit.
    seg : numpy.ndarray
        ``(n_sources, n_local)`` segment joining each node to its predecessor (-1: none).
    true : numpy.ndarray
        ``(n_sources, n_local)`` true length of the tree path (metres), ``inf``
        where not reached within the limit.
    """

    junction: np.ndarray
    n_free: int
    sink: dict[int, int]
    start: np.ndarray
    pred: np.ndarray
    seg: np.ndarray
    true: np.ndarray
    _rows: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict, init=False, repr=False)
    _junctions: list[int] = field(default_factory=list, init=False, repr=False)

    def reached(self, k: int) -> np.ndarray:
        """Local nodes source ``k`` reaches within the limit (itself excluded)."""
        return np.flatnonzero(self.pred[k] >= 0)

    def path(self, k: int, node: int) -> tuple[list[int], list[int]]:
        """Junctions and segments of the tree path from source ``k`` to local ``node`` (source first)."""
        if k not in self._rows:  # Python lists: a path is walked one step at a time
            self._rows[k] = (self.pred[k].tolist(), self.seg[k].tolist())
        if not self._junctions:
            self._junctions.extend(self.junction.tolist())
        pred, seg = self._rows[k]
        junction = self._junctions
        nodes, segs = [junction[node]], []
        while pred[node] >= 0:
            segs.append(seg[node])
            node = pred[node]
            nodes.append(junction[node])
        nodes.reverse()
        segs.reverse()
        return nodes, segs

    def along(self, values: np.ndarray) -> np.ndarray:
        """``(n_sources, n_local)`` sum of per-segment ``values`` along each tree path (0 at the sources)."""
        return _along_tree(self.pred, np.where(self.seg >= 0, values[np.maximum(self.seg, 0)], 0.0))


class FreeGraph:
    """The usable street segments as arrays, from which each search cuts its local sub-graph.

    Parameters
    ----------
    seg_u, seg_v : numpy.ndarray
        End junctions of every segment.
    seg_len : numpy.ndarray
        True length of every segment (metres).
    usable : numpy.ndarray
        Ids of the segments the searches may walk (the loop search leaves self-loops out).
    n_nodes : int
        Number of junctions.
    """

    def __init__(
        self, seg_u: np.ndarray, seg_v: np.ndarray, seg_len: np.ndarray, usable: np.ndarray, n_nodes: int
    ) -> None:
        self.seg_len = np.asarray(seg_len, dtype=float)
        self.n_nodes = int(n_nodes)
        ids = np.asarray(usable, dtype=np.int64)
        ends = np.concatenate([seg_u[ids], seg_v[ids]]).astype(np.int64)
        order = np.argsort(ends, kind="stable")
        self.adj_ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=n_nodes), out=self.adj_ptr[1:])
        self.adj_seg = np.concatenate([ids, ids])[order]
        self.adj_other = np.concatenate([seg_v[ids], seg_u[ids]]).astype(np.int64)[order]
        # Parallel segments stay side by side: the C search relaxes every entry.
        data = np.maximum(self.seg_len[self.adj_seg], _TINY)
        self.lengths = scipy.sparse.csr_matrix((data, self.adj_other, self.adj_ptr), shape=(n_nodes, n_nodes))
        self._local = np.full(n_nodes, -1, dtype=np.int64)  # scratch: local node entered at each junction

    def search(
        self,
        sources: Sequence[int],
        limit: float,
        weights: Sequence[np.ndarray | None],
        targets: set[int],
        *,
        owner: Sequence[int],
        used: Sequence[bool],
    ) -> list[FreePaths]:
        """Least-weight paths from every source through free junctions and unused segments, once per weighting.

        Parameters
        ----------
        sources : sequence of int
            Junctions the searches start from (each searched on its own).
        limit : float
            Longest true length of a path (metres).
        weights : sequence of numpy.ndarray or None
            Per-segment weights the paths minimise (``None``: the true length).
        targets : set of int
            Junctions reached but not passed through (they may be held).
        owner : sequence of int
            Trail holding each junction (-1: free); held junctions other than
            the targets and sources are never entered.
        used : sequence of bool
            Whether a trail walks each segment; those are never walked.

        Returns
        -------
        list of FreePaths
            One per weighting, in order.
        """
        srcs = np.asarray(sources, dtype=np.int64)
        near = dijkstra(self.lengths, directed=True, indices=srcs, limit=limit + 1e-6, min_only=True)
        region = np.flatnonzero(np.isfinite(near))
        held = _gather(owner, region) >= 0
        tgt = np.fromiter(targets, dtype=np.int64, count=len(targets))
        is_tgt = np.isin(region, tgt)
        mid = region[~held & ~is_tgt]  # entered and passed through
        sinks = region[is_tgt]  # entered only
        held_src = (_gather(owner, srcs) >= 0) | np.isin(srcs, tgt)
        starts = srcs[held_src]  # held or target sources: left only
        n_mid, n_in = len(mid), len(sinks)
        n_local = n_mid + n_in + len(starts)
        junction = np.concatenate([mid, sinks, starts])
        local = self._local
        local[mid] = np.arange(n_mid)
        local[sinks] = n_mid + np.arange(n_in)
        start = local[srcs]  # a free source starts from its own node, a held one from its start
        start[held_src] = n_mid + n_in + np.arange(len(starts))
        out_nodes = np.concatenate([mid, starts])
        out_local = np.concatenate([np.arange(n_mid), n_mid + n_in + np.arange(len(starts))])
        first = self.adj_ptr[out_nodes]
        count = self.adj_ptr[out_nodes + 1] - first
        pos = _ranges(first, count)
        rows = np.repeat(out_local, count)
        cols = local[self.adj_other[pos]]
        segs = self.adj_seg[pos]
        local[mid] = -1
        local[sinks] = -1
        keep = cols >= 0
        rows, cols, segs = rows[keep], cols[keep], segs[keep]
        keep = ~_gather(used, segs).astype(bool)
        rows, cols, segs = rows[keep], cols[keep], segs[keep]
        sink = dict(zip(sinks.tolist(), range(n_mid, n_mid + n_in), strict=True))
        found = []
        for weight in weights:
            weight = self.seg_len if weight is None else np.asarray(weight, dtype=float)
            graph, edge_seg = _csr(rows, cols, segs, weight, n_local)
            # A path within the limit weighs at most the limit times the largest weight per metre of its segments.
            ratio = weight[edge_seg] / np.maximum(self.seg_len[edge_seg], _TINY)
            bound = (limit + 1e-6) * float(ratio.max(initial=0.0)) * (1 + 1e-9)
            _, pred = dijkstra(graph, directed=True, indices=start, return_predecessors=True, limit=bound)
            pred = pred.astype(np.int64)
            pred[pred < 0] = -1
            seg = np.full(pred.shape, -1, dtype=np.int64)
            has = pred >= 0
            key = pred[has] * n_local + np.nonzero(has)[1]
            seg[has] = edge_seg[np.searchsorted(_keys(graph), key)]
            true = _along_tree(pred, np.where(has, self.seg_len[np.maximum(seg, 0)], 0.0))
            far = true > limit + 1e-6
            true[far | (~has)] = np.inf
            true[np.arange(len(start)), start] = 0.0
            pred[far] = -1
            seg[far] = -1
            found.append(FreePaths(junction, n_mid, sink, start, pred, seg, true))
        return found


def _keys(graph: scipy.sparse.csr_matrix) -> np.ndarray:
    """``row * n + column`` of every entry of a CSR matrix with sorted indices (ascending)."""
    n = graph.shape[0]
    return np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.indptr)) * n + graph.indices


def _csr(
    rows: np.ndarray, cols: np.ndarray, segs: np.ndarray, weight: np.ndarray, n: int
) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """A CSR graph of the lightest of parallel edges, and the segment of each of its entries.

    ``rows`` come in ascending order; entries are sorted by ``(row, column)``.
    """
    data = np.maximum(np.asarray(weight, dtype=float)[segs], _TINY)
    order = np.argsort(rows * n + cols, kind="stable")  # runs of one row: quick for a stable sort
    rows, cols, segs, data = rows[order], cols[order], segs[order], data[order]
    twin = np.flatnonzero((rows[1:] == rows[:-1]) & (cols[1:] == cols[:-1]))
    if twin.size:  # parallel segments: keep the lightest (rare, so sorted on their own)
        group = np.unique(np.concatenate([twin, twin + 1]))
        by_weight = group[np.lexsort((data[group], cols[group], rows[group]))]
        lighter = np.ones(len(by_weight), dtype=bool)
        lighter[1:] = (rows[by_weight[1:]] != rows[by_weight[:-1]]) | (cols[by_weight[1:]] != cols[by_weight[:-1]])
        drop = np.zeros(len(rows), dtype=bool)
        drop[group] = True
        drop[by_weight[lighter]] = False
        rows, cols, segs, data = rows[~drop], cols[~drop], segs[~drop], data[~drop]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    graph = scipy.sparse.csr_matrix((data, cols, indptr), shape=(n, n))
    graph.has_sorted_indices = True
    return graph, segs


def _along_tree(pred: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Sum of ``step`` (each node's edge to its predecessor) from every node up to its tree's root.

    Pointer jumping: each pass adds the sum of the ancestor the pointer holds
    and moves the pointer to that ancestor's, so ``log2(depth)`` passes.
    """
    rows, n = pred.shape
    offset = (np.arange(rows, dtype=np.int64) * n)[:, None]
    up = np.where(pred >= 0, pred + offset, -1).ravel()
    total = step.astype(float).ravel().copy()
    live = np.flatnonzero(up >= 0)
    while live.size:
        parent = up[live]
        total[live] += total[parent]
        up[live] = up[parent]
        live = live[up[live] >= 0]
    return total.reshape(rows, n)


def _gather(values: Sequence[int] | Sequence[bool], at: np.ndarray) -> np.ndarray:
    """``values[at]`` for a Python list (the search state lives in lists, read per edge by the Python searches)."""
    if at.size == 0:
        return np.zeros(0, dtype=np.int64)
    if at.size == 1:
        return np.asarray([values[int(at[0])]], dtype=np.int64)
    return np.asarray(operator.itemgetter(*at.tolist())(values), dtype=np.int64)
