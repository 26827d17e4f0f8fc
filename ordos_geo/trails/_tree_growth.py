"""The ``network`` shape's heuristic: greedy growth of connected trees of street segments.

:class:`_TreeGrower` seeds up to ``max_trails`` trees on high-prize segments
spread apart, grows them by the addition (an adjacent segment or a short path
to a valuable one) with the best new population per unit of choice cost (lazy
CELF order), brings each to the minimum length, swaps low-value leaf segments
for better additions and closes loops when the leftover budget allows. The
planner (:mod:`ordos_geo.trails.plan`) drives it for 1..``max_trails`` trees
and several first seeds; its trees are also the warm start of the loop/route
heuristic (:mod:`ordos_geo.trails.heuristic`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse.csgraph import dijkstra

from ordos_geo.trails._free_paths import FreeGraph
from ordos_geo.trails.prize import TrailPrizeModel, _ranges, _unique


@dataclass
class _Tree:
    segments: list[int] = field(default_factory=list)
    degree: dict[int, int] = field(default_factory=dict)
    length: float = 0.0


def _segments_back(pred: dict[int, tuple[int, int]], target: int) -> list[int]:
    """The segments of the search tree's path from ``target`` back to its source, in that order.

    ``pred`` maps a node to ``(previous node, segment walked)`` as
    :meth:`_TreeGrower._tree` fills it; a source has no entry.
    """
    path = []
    node = target
    while node in pred:
        node, segment = pred[node]
        path.append(segment)
    return path


class _TreeGrower:
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
        n_nodes = int(max(su.max(initial=0), sv.max(initial=0))) + 1
        # The allowed segments' adjacency, also as a CSR graph of lengths for the C searches of _tree
        # (parallel segments side by side); a segment some trail walks has infinite weight while it is walked.
        graph = FreeGraph(su, sv, self.length, np.flatnonzero(allowed), n_nodes)
        self.inc_ptr = graph.adj_ptr.tolist()
        self.inc_seg = graph.adj_seg.tolist()
        self.inc_other = graph.adj_other.tolist()
        self.len_list = self.length.tolist()
        self.su_list, self.sv_list = su.tolist(), sv.tolist()
        self.standalone = model.segment_population
        self._top: np.ndarray | None = None
        self._graph = graph.lengths.copy()
        self._free_weight = graph.lengths.data
        self._entry_seg = graph.adj_seg
        entries = np.argsort(graph.adj_seg, kind="stable")  # each allowed segment's two entries, side by side
        self._seg_entry_ptr = np.zeros(len(self.length) + 1, dtype=np.int64)
        np.cumsum(np.bincount(graph.adj_seg, minlength=len(self.length)), out=self._seg_entry_ptr[1:])
        self._seg_entries = entries
        rows = np.repeat(np.arange(n_nodes, dtype=np.int64), np.diff(graph.adj_ptr))
        keys = rows * n_nodes + graph.adj_other
        self._key_order = np.argsort(keys, kind="stable")
        self._keys = keys[self._key_order]
        self.reset()

    # ---- state ----
    def reset(self) -> None:
        self.count = np.zeros(len(self.weight), dtype=np.int32)
        self.trail_of = np.full(len(self.length), -1, dtype=np.int64)
        self._graph.data[:] = self._free_weight
        self.trails: list[_Tree] = []

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
            self._walk(s, walked=True)
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
        self._walk(s, walked=False)
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

    def _walk(self, s: int, *, walked: bool) -> None:
        """Take segment ``s`` out of the C searches' graph while a trail walks it (or put it back)."""
        entries = self._seg_entries[self._seg_entry_ptr[s] : self._seg_entry_ptr[s + 1]]
        self._graph.data[entries] = math.inf if walked else self._free_weight[entries]

    # ---- candidates ----
    def _tree(self, sources: Iterable[int], limit: float) -> tuple[list[int], dict[int, float], dict[int, tuple]]:
        """Bounded Dijkstra over free allowed segments from ``sources`` (true lengths), in C.

        Returns the reached junctions in order of distance (the sources and
        junctions at distance 0 left out), the distance of each junction
        reached (the sources at 0) and its predecessor (junction, segment).
        Of parallel free segments the shortest is the one walked.
        """
        src = np.unique(np.fromiter(sources, dtype=np.int64))
        if src.size == 0:
            return [], {}, {}
        dist, parent, _ = dijkstra(
            self._graph, directed=True, indices=src, limit=limit, min_only=True, return_predecessors=True
        )
        reached = np.flatnonzero(parent >= 0)
        d = dist[reached]
        by_distance = np.lexsort((reached, d))
        reached, d = reached[by_distance], d[by_distance]
        up = parent[reached].astype(np.int64)
        keys = up * self._graph.shape[0] + reached
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        segment = self._entry_seg[self._key_order[lo]]
        for k in np.flatnonzero(hi - lo > 1).tolist():  # parallel segments: the shortest free one
            entries = self._key_order[lo[k] : hi[k]]
            segment[k] = self._entry_seg[entries[int(np.argmin(self._graph.data[entries]))]]
        order = reached.tolist()
        distance = dict.fromkeys(src.tolist(), 0.0)
        distance.update(zip(order, d.tolist(), strict=True))
        pred = dict(zip(order, zip(up.tolist(), segment.tolist(), strict=True), strict=True))
        return order, distance, pred

    def best_candidate(self, t: int, *, tabu: frozenset[int] = frozenset(), top: int = 5) -> tuple[float, float, list]:
        """Best (ratio, gain, segments) addition to trail ``t`` within its length allowance."""
        trail = self.trails[t]
        allowance = self.allowance(t)
        best: tuple[float, float, list[int]] = (-1.0, 0.0, [])
        if allowance <= 0:
            return best
        nodes = list(trail.degree)
        # Single segments touching the trail (including loop closers).
        touching = {
            self.inc_seg[k]
            for node in nodes
            if node + 1 < len(self.inc_ptr)
            for k in range(self.inc_ptr[node], self.inc_ptr[node + 1])
        }
        frontier = [s for s in touching if self.trail_of[s] < 0 and s not in tabu and self.len_list[s] <= allowance]
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
                path = _segments_back(pred, w)
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
        top = self._top_segments()
        if top.size == 0:
            return
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
            self.trails.append(_Tree())
            self.add(len(self.trails) - 1, [int(pool[i])])
            chosen_mid.append(mid[ok][i])

    def _top_segments(self) -> np.ndarray:
        """The 5,000 allowed segments within the budget reaching most on their own (computed once)."""
        if self._top is None:
            candidates = np.flatnonzero(self.allowed & (self.length <= self.budget))
            self._top = candidates[np.argsort(-self.standalone[candidates], kind="stable")[:5000]]
        return self._top

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
                self.add(t, _segments_back(pred, target))

    def improve(self, max_rounds: int = 40) -> None:
        """Swap a low-value leaf segment for a better addition while it helps."""
        tried: set[int] = set()
        for _ in range(max_rounds):
            leaves = self._removable_leaves(tried)
            if not leaves:
                return
            _, t, s = min(leaves)
            tried.add(s)
            before = self.value()
            self.remove(t, s)
            best_t, best = self._best_addition(tabu=frozenset({s}))
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

    def _removable_leaves(self, tried: set[int]) -> list[tuple[float, int, int]]:
        """(unique value per cost, trail, segment) of the dead-end segments a trail can lose and stay long enough."""
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
        return leaves

    def _best_addition(self, *, tabu: frozenset[int]) -> tuple[int, tuple[float, float, list[int]]]:
        """The trail and the addition (ratio, gain, segments) adding the most residents, over all trails."""
        best_t = -1
        best: tuple[float, float, list[int]] = (-1.0, 0.0, [])
        for j in range(len(self.trails)):
            cand = self.best_candidate(j, tabu=tabu)
            if cand[1] > best[1]:
                best_t, best = j, cand
        return best_t, best

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
                        path = _segments_back(pred, w)
                        gain = self.union_gain(path)
                        key = (gain, -dist[w], path)
                        if best is None or key[:2] > best[:2]:
                            best = key
                        break
                # Or a loop closer touching the trail directly is already in `order` as its end node.
            if best is not None and -best[1] <= self.allowance(t):
                self.add(t, best[2])
