"""Trail heuristics: greedy growth of connected trees, and GRASP with iterated local search for loops and routes.

- :class:`_Planner` (the ``network`` shape): greedy growth of up to
  ``max_trails`` connected trees by the best new population per metre, leaf
  swaps and loop closing.
- :func:`solve_heuristic` (loops and routes): GRASP starts followed by an
  iterated local search in the spirit of EA4OP (Kobeaga, Merino and Lozano 2018, *EJOR* 269): the
  *add* move replaces one stretch of a trail by a detour through unused
  junctions (a path found by a bounded Dijkstra, once on true length and once on
  a prize-discounted length), the *drop* move replaces a stretch by a shorter
  path (the street-graph version of 2-opt: two junctions of the trail are
  joined another way), routes also grow and shrink at their ends, and a
  perturbation removes a random stretch before the search starts again. The
  best solution found is kept.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ordos_geo.trails._orienteering import _EPS, RouteProblem, RouteSolution, _components
from ordos_geo.trails.prize import TrailPrizeModel, _ranges, _unique

__all__ = ["solve_heuristic"]

#: Candidates priced in the first batch when seeds are chosen (then four times more, until the choice is final).
_SEED_BATCH = 4096


# --------------------------------------------------------------------------------------------------
# Network shape: greedy growth of connected trees
# --------------------------------------------------------------------------------------------------


@dataclass
class _Tree:
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
        self._top: np.ndarray | None = None
        self.reset()

    # ---- state ----
    def reset(self) -> None:
        self.count = np.zeros(len(self.weight), dtype=np.int32)
        self.trail_of = np.full(len(self.length), -1, dtype=np.int64)
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


# --------------------------------------------------------------------------------------------------
# Heuristic: GRASP starts + iterated local search (add / drop / end moves, perturbation)
# --------------------------------------------------------------------------------------------------


@dataclass
class _Trail:
    nodes: list[int]  # loop: n_0..n_{m-1} (closing back to n_0); route: n_0..n_m
    segs: list[int]  # segs[i] joins nodes[i] and nodes[i + 1] (cyclically for loops)
    length: float = 0.0
    spurs: list[int] = field(default_factory=list)


class _Search:
    """Mutable state of the local search: trails, junction owners and cell reach counts."""

    def __init__(self, problem: RouteProblem, *, detour_m: float, seed: int) -> None:
        self.p = problem
        self.loop = problem.shape == "loop"
        self.indptr = problem.reach.indptr.astype(np.int64)
        self.indices = problem.reach.indices.astype(np.int64)
        self.weight = problem.weight
        self.len = problem.seg_len.tolist()
        self.cost = problem.cost.tolist()
        self.su, self.sv = problem.seg_u.tolist(), problem.seg_v.tolist()
        usable = problem.usable()
        ids = np.flatnonzero(usable & (problem.seg_u != problem.seg_v))
        n_nodes = int(max(problem.seg_u.max(initial=0), problem.seg_v.max(initial=0))) + 1
        nodes = np.concatenate([problem.seg_u[ids], problem.seg_v[ids]])
        order = np.argsort(nodes, kind="stable")
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(nodes, minlength=n_nodes), out=ptr[1:])
        self.adj_ptr = ptr.tolist()
        self.adj_seg = np.concatenate([ids, ids])[order].tolist()
        self.adj_other = np.concatenate([problem.seg_v[ids], problem.seg_u[ids]])[order].tolist()
        self.self_loops = np.flatnonzero(usable & (problem.seg_u == problem.seg_v))
        #: Population each segment reaches on its own (an upper bound of its marginal gain).
        rows = np.repeat(np.arange(len(self.len)), np.diff(self.indptr))
        self.standalone = np.bincount(rows, weights=self.weight[self.indices], minlength=len(self.len))
        self.detour_m = float(detour_m)
        self.max_sources = 8
        self.turn = 0
        self.rng = np.random.default_rng(seed)
        self.n_nodes = n_nodes
        self.reset()

    # ---- state ----
    def reset(self) -> None:
        self.count = np.zeros(len(self.weight), dtype=np.int32)
        self.owner = [-1] * self.n_nodes
        self.used = [False] * len(self.len)  # a list: read once per edge in the searches
        self.trails: list[_Trail] = []
        self.reserve = 0  # trails still to be started, each kept min_len of budget

    def cells(self, segs: list[int]) -> np.ndarray:
        if not segs:
            return np.zeros(0, dtype=np.int64)
        ptr, ind = self.indptr, self.indices
        return np.concatenate([ind[ptr[s] : ptr[s + 1]] for s in segs])

    def value(self) -> float:
        return float(self.weight[self.count > 0].sum())

    def total_length(self) -> float:
        return sum(t.length + sum(self.len[s] for s in t.spurs) for t in self.trails)

    def delta(self, removed: list[int], added: list[int]) -> float:
        """Change of the population reached if ``removed`` segments go and ``added`` ones come."""
        out, inn = self.cells(removed), self.cells(added)
        if out.size + inn.size == 0:
            return 0.0
        touched = np.concatenate([out, inn])
        uniq, inv = np.unique(touched, return_inverse=True)
        change = np.bincount(inv, weights=np.concatenate([-np.ones(out.size), np.ones(inn.size)]), minlength=len(uniq))
        old = self.count[uniq]
        new = old + change
        return float((self.weight[uniq] * ((new > 0).astype(float) - (old > 0))).sum())

    def marginals(self, segs: np.ndarray) -> np.ndarray:
        """Population each segment would add on its own (cells nobody reaches yet)."""
        segs = np.asarray(segs, dtype=np.int64)
        starts = self.indptr[segs]
        counts = self.indptr[segs + 1] - starts
        rep = np.repeat(np.arange(len(segs)), counts)
        flat = self.indices[_ranges(starts, counts)]
        return np.bincount(rep, weights=self.weight[flat] * (self.count[flat] == 0), minlength=len(segs))

    def _touch(self, segs: list[int], sign: int) -> None:
        cells = self.cells(segs)
        np.add.at(self.count, cells, sign)
        flag = sign > 0
        used = self.used
        for s in segs:
            used[s] = flag

    def set_trail(self, t: int, nodes: list[int], segs: list[int]) -> None:
        """Replace trail ``t`` (``t == len(trails)`` appends one) by the given junctions and segments."""
        if t < len(self.trails):
            old = self.trails[t]
            self._touch(old.segs, -1)
            for n in old.nodes:
                self.owner[n] = -1
        else:
            self.trails.append(_Trail([], []))
        self._touch(segs, +1)
        for n in nodes:
            self.owner[n] = t
        self.trails[t] = _Trail(list(nodes), list(segs), float(sum(self.len[s] for s in segs)))

    def drop_trail(self, t: int) -> None:
        old = self.trails.pop(t)
        self._touch(old.segs + old.spurs, -1)
        for n in old.nodes:
            self.owner[n] = -1
        for s in old.spurs:
            for n in (self.su[s], self.sv[s]):
                self.owner[n] = -1
        for j in range(t, len(self.trails)):
            for n in self.trails[j].nodes:
                self.owner[n] = j

    def allowance(self, t: int) -> float:
        """Length trail ``t`` may still add (others keep at least ``min_len`` each)."""
        others = sum(max(self.p.min_len, x.length) for j, x in enumerate(self.trails) if j != t)
        spurs = sum(self.len[s] for x in self.trails for s in x.spurs)
        return self.p.budget - others - spurs - self.trails[t].length - self.reserve * self.p.min_len

    # ---- paths through free junctions ----
    def dijkstra(
        self, source: int, limit: float, weight: list[float] | None, targets: set[int], *, settle: bool = False
    ) -> tuple[dict[int, float], dict[int, tuple[int, int]], dict[int, float]]:
        """Bounded Dijkstra from ``source`` through free junctions and unused segments.

        Junctions of ``targets`` are reached but not expanded; junctions of
        trails not in ``targets`` are never entered. Returns search distance (``weight``),
        predecessor (junction, segment) and true length of each reached junction.
        With ``settle``, the search stops once every target is settled: the
        paths to the targets are final then (use only those).
        """
        left = len(targets - {source}) if settle else -1
        dist = {source: 0.0}
        true = {source: 0.0}
        pred: dict[int, tuple[int, int]] = {}
        heap = [(0.0, source)]
        owner, used, ptr, aseg, aoth, length = (
            self.owner,
            self.used,
            self.adj_ptr,
            self.adj_seg,
            self.adj_other,
            self.len,
        )
        w = weight if weight is not None else length
        while heap:
            d, node = heapq.heappop(heap)
            if d > dist[node]:
                continue
            if node != source and node in targets:
                left -= 1
                if left == 0:
                    break
                continue
            if node + 1 >= len(ptr):
                continue
            tl = true[node]
            for k in range(ptr[node], ptr[node + 1]):
                s = aseg[k]
                if used[s]:
                    continue
                m = aoth[k]
                if owner[m] >= 0 and m not in targets:
                    continue
                nt = tl + length[s]
                if nt > limit:
                    continue
                nd = d + w[s]
                if nd < dist.get(m, math.inf) - 1e-12:
                    dist[m] = nd
                    true[m] = nt
                    pred[m] = (node, s)
                    heapq.heappush(heap, (nd, m))
        return dist, pred, true

    @staticmethod
    def path_to(pred: dict[int, tuple[int, int]], target: int) -> tuple[list[int], list[int]]:
        nodes, segs = [target], []
        node = target
        while node in pred:
            node, s = pred[node]
            segs.append(s)
            nodes.append(node)
        nodes.reverse()
        segs.reverse()
        return nodes, segs

    # ---- construction ----
    def start_trail(self, seg: int) -> tuple[list[int], list[int]] | None:
        """The shortest loop through ``seg`` (loop) or ``seg`` alone (route), on free junctions."""
        a, b = self.su[seg], self.sv[seg]
        if self.owner[a] >= 0 or self.owner[b] >= 0 or self.used[seg]:
            return None
        if not self.loop:
            return [a, b], [seg]
        if a == b:
            return [a], [seg]
        self.used[seg] = True
        try:
            others = sum(max(self.p.min_len, x.length) for x in self.trails) + self.reserve * self.p.min_len
            limit = max(self.p.budget - others - self.len[seg], 0.0)
            _, pred, _true = self.dijkstra(b, limit, self.cost, {a}, settle=True)
        finally:
            self.used[seg] = False
        if a not in pred:
            return None
        nodes, segs = self.path_to(pred, a)  # b ... a
        return [a, *nodes[:-1]], [seg, *segs]

    def start_from_tree(self, tree: list[int]) -> tuple[list[int], list[int]] | None:
        """A trail from a connected plan of today's shape: its spine, closed by a prize-seeking way back for loops.

        The spine is the longest path of the plan (two farthest-junction
        searches); a loop runs along the spine from one end and returns to it
        through free junctions, preferring streets that add residents; the turn
        point is the one giving the most residents within the budget.
        """
        tree = [s for s in tree if self.su[s] != self.sv[s] and not self.used[s]]
        if not tree:
            return None
        at: dict[int, list[tuple[int, int]]] = {}
        for s in tree:
            at.setdefault(self.su[s], []).append((s, self.sv[s]))
            at.setdefault(self.sv[s], []).append((s, self.su[s]))
        if any(self.owner[n] >= 0 for n in at):
            return None
        a, _ = self._farthest(at, self.len, self.su[tree[0]])
        b, pred = self._farthest(at, self.len, a)
        nodes, segs = self.path_to(pred, b)  # a ... b
        if not self.loop:
            return nodes, segs
        t = len(self.trails)
        room = self.p.budget - sum(max(self.p.min_len, x.length) for x in self.trails) - self.reserve * self.p.min_len
        best: tuple[float, list[int], list[int]] | None = None
        for spine_nodes, spine_segs in ((nodes, segs), (nodes[::-1], segs[::-1])):
            # Close the spine from its start back to each of its junctions, keep the best loop within budget.
            self.set_trail(t, spine_nodes, spine_segs)
            try:
                _, weight = self._prize_weights(t)
                _, back, true = self.dijkstra(spine_nodes[0], room, weight, set(spine_nodes), settle=True)
                cum = np.concatenate([[0.0], np.cumsum([self.len[x] for x in spine_segs])]).tolist()
                for p, x in enumerate(spine_nodes[1:], start=1):
                    if x not in back or cum[p] + true[x] > room + 1e-6:
                        continue
                    bnodes, bsegs = self.path_to(back, x)  # start ... x
                    if len(bsegs) == 1 and p == 1 and bsegs[0] == spine_segs[0]:
                        continue
                    value = self.delta(spine_segs[p:], bsegs)
                    if best is None or value > best[0]:
                        best = (value, spine_nodes[: p + 1] + bnodes[::-1][1:-1], spine_segs[:p] + bsegs[::-1])
            finally:
                self.drop_trail(t)
        return None if best is None else (best[1], best[2])

    @staticmethod
    def _farthest(
        at: dict[int, list[tuple[int, int]]], length: list[float], src: int
    ) -> tuple[int, dict[int, tuple[int, int]]]:
        """The junction of a tree (``at``: junction -> (segment, other end)) farthest from ``src``, and the paths."""
        dist, pred, heap = {src: 0.0}, {}, [(0.0, src)]
        while heap:
            d, node = heapq.heappop(heap)
            if d > dist[node]:
                continue
            for s, m in at[node]:
                if d + length[s] < dist.get(m, math.inf):
                    dist[m], pred[m] = d + length[s], (node, s)
                    heapq.heappush(heap, (dist[m], m))
        return max(dist, key=dist.__getitem__), pred

    # ---- moves ----
    def _loop_candidates(self, t: int, weights: list[list[float]], marg: dict[int, float]) -> list[tuple]:
        """Candidate moves on loop ``t``: (estimated gain, delta length, removed, added, nodes, segs builder).

        A path ``P`` from junction ``i`` to junction ``j`` of the loop through
        free junctions replaces either arc between them; the estimate is the
        population ``P`` adds on its own minus what the removed arc alone reaches.
        """
        tr = self.trails[t]
        n = len(tr.nodes)
        allowance = self.allowance(t)
        index = {node: k for k, node in enumerate(tr.nodes)}
        targets = set(tr.nodes)
        seg_len = [self.len[s] for s in tr.segs]
        uniq = self.unique_values(tr.segs)
        cum_len = np.concatenate([[0.0], np.cumsum(seg_len)]).tolist()
        cum_uni = np.concatenate([[0.0], np.cumsum(uniq)]).tolist()

        def arc(a: int, b: int) -> tuple[float, float]:  # segments at positions a, a+1, ..., b-1 (cyclic)
            if a <= b:
                return cum_len[b] - cum_len[a], cum_uni[b] - cum_uni[a]
            return cum_len[n] - cum_len[a] + cum_len[b], cum_uni[n] - cum_uni[a] + cum_uni[b]

        cands = []
        limit = min(self.detour_m, max(allowance, 0.0) + tr.length)
        for i in self._sources(n):
            src = tr.nodes[i]
            for w in weights:
                _, pred, true = self.dijkstra(src, limit, w, targets, settle=True)
                for tgt in targets:
                    if tgt == src or tgt not in pred:
                        continue
                    j = index[tgt]
                    psegs = self.path_to(pred, tgt)[1]
                    plen = true[tgt]
                    est_add = self.path_gain(psegs)
                    for a, b in ((i, j), (j, i)):  # remove the arc a -> b, keep b -> a
                        rlen, runi = arc(a, b)
                        if rlen > self.detour_m + plen:  # local moves only: no wholesale shortcuts
                            continue
                        dlen = plen - rlen
                        if dlen > max(allowance, -2e-6) + 1e-6:
                            continue
                        cands.append((est_add - runi, dlen, (t, a, b, pred, tgt, src)))
        return cands

    def _build_loop(self, t: int, a: int, b: int, pred: dict, tgt: int, src: int) -> tuple[list, list, list, list]:
        """Removed segments, added segments, new junctions and segments when arc ``a -> b`` is replaced."""
        tr = self.trails[t]
        n = len(tr.nodes)
        pnodes, psegs = self.path_to(pred, tgt)  # src ... tgt
        span = (a - b) % n  # kept arc b -> a
        keep_pos = [(b + k) % n for k in range(span + 1)]
        keep_nodes = [tr.nodes[x] for x in keep_pos]
        keep_segs = [tr.segs[x] for x in keep_pos[:-1]]
        kept = set(keep_segs)
        removed = [x for x in tr.segs if x not in kept]
        # The kept arc ends at nodes[a]; walk the path from there back to nodes[b].
        if pnodes[0] != keep_nodes[-1]:
            pnodes, psegs = pnodes[::-1], psegs[::-1]
        return removed, psegs, keep_nodes + pnodes[1:-1], keep_segs + psegs

    def _route_candidates(self, t: int, weights: list[list[float]], marg: dict[int, float]) -> list[tuple]:
        """Candidate moves on route ``t``: replace a stretch, extend or trim an end."""
        tr = self.trails[t]
        n = len(tr.nodes)
        allowance = self.allowance(t)
        index = {node: k for k, node in enumerate(tr.nodes)}
        targets = set(tr.nodes)
        uniq = self.unique_values(tr.segs)
        cum_len = np.concatenate([[0.0], np.cumsum([self.len[s] for s in tr.segs])]).tolist()
        cum_uni = np.concatenate([[0.0], np.cumsum(uniq)]).tolist()
        cands: list[tuple[float, float, tuple[int, int, dict[int, tuple[int, int]] | None, int]]] = []
        limit = min(self.detour_m, max(allowance, 0.0) + tr.length)
        for i in self._sources(n, ends=True):
            src = tr.nodes[i]
            is_end = i in (0, n - 1)
            for w in weights:
                _, pred, true = self.dijkstra(src, limit, w, targets)
                reached = [x for x in pred if x in targets]
                if is_end:
                    # Extensions: the free junctions whose path adds most per metre (segment marginals summed
                    # down the search tree, an overestimate used only to pick which ones to price exactly).
                    free = [x for x in pred if x not in targets]
                    rough: dict[int, float] = {src: 0.0}
                    for x in sorted(free, key=true.__getitem__):
                        parent, s = pred[x]
                        rough[x] = rough.get(parent, 0.0) + marg.get(s, 0.0)
                    free.sort(key=lambda x: rough[x] / max(true[x], 1.0), reverse=True)
                    reached += free[: self.max_sources]
                for tgt in reached:
                    if tgt in targets:
                        j = index[tgt]
                        lo, hi = min(i, j), max(i, j)
                        rlen, runi = cum_len[hi] - cum_len[lo], cum_uni[hi] - cum_uni[lo]
                    else:
                        rlen = runi = 0.0
                    dlen = true[tgt] - rlen
                    if dlen > max(allowance, -2e-6) + 1e-6:
                        continue
                    psegs = self.path_to(pred, tgt)[1]
                    est_add = self.path_gain(psegs)
                    cands.append((est_add - runi, dlen, (t, i, pred, tgt)))
        if n > 2:  # trim an end
            cands.append((-uniq[0], -self.len[tr.segs[0]], (t, -1, None, 0)))
            cands.append((-uniq[-1], -self.len[tr.segs[-1]], (t, -1, None, n - 1)))
        return cands

    def _build_route(self, t: int, i: int, pred: dict | None, tgt: int) -> tuple[list, list, list, list]:
        tr = self.trails[t]
        n = len(tr.nodes)
        if pred is None:  # trim end at position tgt
            if tgt == 0:
                return [tr.segs[0]], [], tr.nodes[1:], tr.segs[1:]
            return [tr.segs[-1]], [], tr.nodes[:-1], tr.segs[:-1]
        pnodes, psegs = self.path_to(pred, tgt)
        if tgt in set(tr.nodes):
            j = tr.nodes.index(tgt)
            lo, hi = min(i, j), max(i, j)
            if i > j:
                pnodes, psegs = pnodes[::-1], psegs[::-1]
            return (
                tr.segs[lo:hi],
                psegs,
                tr.nodes[:lo] + pnodes + tr.nodes[hi + 1 :],
                tr.segs[:lo] + psegs + tr.segs[hi:],
            )
        if i == 0:
            return [], psegs, pnodes[::-1] + tr.nodes[1:], psegs[::-1] + tr.segs
        del n
        return [], psegs, tr.nodes[:-1] + pnodes, tr.segs + psegs

    def _sources(self, n: int, *, ends: bool = False) -> list[int]:
        """Positions searched from in one move: all on short trails, else an evenly spread rotating subset."""
        if n <= self.max_sources:
            return list(range(n))
        self.turn += 1
        step = n / self.max_sources
        picks = {int((k * step + self.turn * 0.37 * step) % n) for k in range(self.max_sources)}
        if ends:
            picks |= {0, n - 1}
        return sorted(picks)

    def path_gain(self, segs: list[int]) -> float:
        """Population the segments add together (cells nobody reaches yet, counted once)."""
        cells = self.cells(segs)
        if cells.size == 0:
            return 0.0
        cells = np.sort(cells[self.count[cells] == 0])
        if cells.size == 0:
            return 0.0
        keep = np.ones(cells.size, dtype=bool)
        keep[1:] = cells[1:] != cells[:-1]
        return float(self.weight[cells[keep]].sum())

    def unique_values(self, segs: list[int]) -> list[float]:
        """Population only each segment reaches (cells the trails reach exactly once)."""
        out = []
        for s in segs:
            cells = self.indices[self.indptr[s] : self.indptr[s + 1]]
            out.append(float((self.weight[cells] * (self.count[cells] == 1)).sum()))
        return out

    @staticmethod
    def _key(gain: float, dlen: float, *, short: bool, room_to_shrink: bool, over: bool = False) -> tuple | None:
        """Preference of a move: improving and shorter, best ratio, same reach shorter, fill up to min length.

        Over budget, only shortening moves count, least population lost per metre first.
        """
        if over:
            return (4, gain / -dlen, -dlen) if dlen < -_EPS else None
        if gain > _EPS and dlen <= _EPS:
            return (3, gain, -dlen)
        if gain > _EPS:
            return (2, gain / max(dlen, 1.0), -dlen)
        if gain >= -_EPS and dlen < -_EPS and room_to_shrink:
            return (1, -dlen, 0.0)
        if short and gain >= -_EPS and dlen > _EPS:
            return (0, -dlen, 0.0)
        return None

    def improve(self, t: int, *, fill: bool = True, max_moves: int = 400, n_exact: int = 40) -> None:
        """Local search on trail ``t``: take the best move while one helps (then reach ``min_len``).

        Candidates are ranked by their estimated gain; the ``n_exact`` best are
        evaluated exactly (the union of cells reached) and the best of those taken.
        """
        for _ in range(max_moves):
            tr = self.trails[t]
            marg, prize = self._prize_weights(t)
            weights = [self.cost, prize]
            cands = self._loop_candidates(t, weights, marg) if self.loop else self._route_candidates(t, weights, marg)
            short = fill and tr.length < self.p.min_len - 1e-6
            over = self.allowance(t) < -1e-6
            ranked = []
            for est, dlen, args in cands:
                room = tr.length + dlen >= self.p.min_len - 1e-6
                key = self._key(est, dlen, short=short, room_to_shrink=room, over=over)
                if key is not None or est > -_EPS:
                    ranked.append((key or (-1, 0.0, 0.0), est, dlen, args))
            ranked.sort(key=lambda r: (r[0], r[1]), reverse=True)
            best, best_key = None, None
            seen: set[tuple[int, ...]] = set()
            for _key, _est, dlen, args in ranked[:n_exact]:
                removed, added, nodes, segs = self._build_loop(*args) if self.loop else self._build_route(*args)
                sig = tuple(sorted(segs))
                if sig in seen or not segs:
                    continue
                seen.add(sig)
                gain = self.delta(removed, added)
                room = tr.length + dlen >= self.p.min_len - 1e-6
                key = self._key(gain, dlen, short=short, room_to_shrink=room, over=over)
                if key is not None and (best_key is None or key > best_key):
                    best, best_key = (nodes, segs), key
            if best is None:
                return
            self.set_trail(t, best[0], best[1])

    def _prize_weights(self, t: int) -> tuple[dict[int, float], list[float]]:
        """Marginal population of nearby free segments, and lengths discounted by it (detours seek prizes)."""
        density = max(self.value() / max(self.total_length(), 1.0), 1e-6)
        ids = self._nearby(t)
        w = list(self.len)
        marg: dict[int, float] = {}
        if ids.size:
            gain = self.marginals(ids)
            factor = 1.0 / (1.0 + gain / (density * np.maximum(self.p.seg_len[ids], 1.0)))
            for s, g, f in zip(ids.tolist(), gain.tolist(), factor.tolist(), strict=True):
                w[s] = self.len[s] * f
                marg[s] = g
        return marg, w

    def _nearby(self, t: int) -> np.ndarray:
        tr = self.trails[t]
        seen: set[int] = set()
        limit = min(self.detour_m, max(self.allowance(t), 0.0) + tr.length)
        for src in tr.nodes[:: max(1, len(tr.nodes) // 12)]:
            _, pred, _ = self.dijkstra(src, limit / 2, None, set())
            seen.update(s for _, s in pred.values())
        return np.asarray(sorted(seen), dtype=np.int64)

    def perturb(self, t: int) -> bool:
        """Replace a random stretch of trail ``t`` by the shortest other way round (a shake)."""
        tr = self.trails[t]
        n = len(tr.nodes)
        if n < 4:
            return False
        i = int(self.rng.integers(n))
        span = int(self.rng.integers(2, max(3, n // 3)))
        j = (i + span) % n if self.loop else min(i + span, n - 1)
        if self.loop:
            keep = [(j + k) % n for k in range((i - j) % n + 1)]  # j ... i
            keep_nodes = [tr.nodes[x] for x in keep]
            keep_segs = [tr.segs[x] for x in keep[:-1]]
            removed = [s for s in tr.segs if s not in set(keep_segs)]
            self.set_trail(t, keep_nodes, keep_segs)
            for s in removed:  # not back the same way
                self.used[s] = True
            try:
                _, pred, _ = self.dijkstra(tr.nodes[i], self.detour_m, self.cost, {tr.nodes[j]}, settle=True)
            finally:
                for s in removed:
                    self.used[s] = False
            if tr.nodes[j] not in pred:
                self.set_trail(t, tr.nodes, tr.segs)
                return False
            pnodes, psegs = self.path_to(pred, tr.nodes[j])  # i ... j
            self.set_trail(t, keep_nodes + pnodes[1:-1], keep_segs + psegs)
            if self.allowance(t) < -1e-6:
                self.set_trail(t, tr.nodes, tr.segs)
                return False
        else:
            lo, hi = (i, j) if i < j else (j, i)
            if lo == 0:
                self.set_trail(t, tr.nodes[hi:], tr.segs[hi:])
            elif hi == n - 1:
                self.set_trail(t, tr.nodes[: lo + 1], tr.segs[:lo])
            else:
                self.set_trail(t, tr.nodes[: hi + 1], tr.segs[:hi])
        return True

    def add_spurs(self, t: int, max_spur_m: float) -> None:
        """Hang short dead-end spurs (at most ``max_spur_m`` each) where they add residents."""
        while True:
            tr = self.trails[t]
            allowance = self.allowance(t)
            limit = min(max_spur_m, allowance)
            if limit <= 0:
                return
            best = None
            for src in tr.nodes:
                _, pred, true = self.dijkstra(src, limit, None, set())
                for tgt in pred:
                    _, psegs = self.path_to(pred, tgt)
                    gain = self.delta([], psegs)
                    if gain > _EPS:
                        key = gain / max(true[tgt], 1.0)
                        if best is None or key > best[0]:
                            best = (key, psegs)
            if best is None:
                return
            for s in best[1]:
                tr.spurs.append(s)
                for node in (self.su[s], self.sv[s]):
                    if self.owner[node] < 0:
                        self.owner[node] = t
            self._touch(best[1], +1)

    def snapshot(self) -> list[tuple[list[int], list[int], list[int]]]:
        return [(list(t.nodes), list(t.segs), list(t.spurs)) for t in self.trails]

    def restore(self, snap: list[tuple[list[int], list[int], list[int]]]) -> None:
        self.reset()
        for k, (nodes, segs, spurs) in enumerate(snap):
            self.set_trail(k, nodes, segs)
            if spurs:
                self.trails[k].spurs = list(spurs)
                self._touch(spurs, +1)
                for s in spurs:
                    for node in (self.su[s], self.sv[s]):
                        if self.owner[node] < 0:
                            self.owner[node] = k


def _spread_seeds(search: _Search, candidates: np.ndarray, xy: np.ndarray, spread_m: float, k: int) -> list[int]:
    """Up to ``k`` candidates at least ``spread_m`` apart, most new residents first (then cheapest).

    A segment adds at most what it reaches on its own, so only the candidates
    reaching most on their own are priced (in growing batches, original order
    kept): the scan is final once every candidate left out reaches, on its own,
    less than the last seed it had to look at.
    """
    candidates = np.asarray(candidates, dtype=np.int64)
    standalone = search.standalone[candidates]
    by_standalone = np.argsort(-standalone, kind="stable")
    size = min(len(candidates), _SEED_BATCH)
    while True:
        picked = np.sort(by_standalone[:size])  # positions in `candidates`, original order
        left_out = float(standalone[by_standalone[size]]) if size < len(candidates) else -math.inf
        chosen, last_gain = _scan_seeds(search, candidates[picked], xy, spread_m, k)
        if size == len(candidates) or (len(chosen) >= k and last_gain > left_out):
            return chosen
        size = min(len(candidates), 4 * size)


def _scan_seeds(
    search: _Search, candidates: np.ndarray, xy: np.ndarray, spread_m: float, k: int
) -> tuple[list[int], float]:
    """The seeds of :func:`_spread_seeds` among ``candidates``, and the gain of the last one chosen."""
    gains = search.marginals(candidates)
    order = np.lexsort((np.asarray(search.cost)[candidates], -gains))
    chosen: list[int] = []
    last_gain = -math.inf
    for i in order.tolist():
        if gains[i] <= 0 or len(chosen) >= k:
            break
        s = int(candidates[i])
        mid = (xy[search.su[s]] + xy[search.sv[s]]) / 2
        if all(np.hypot(*(mid - (xy[search.su[c]] + xy[search.sv[c]]) / 2)) >= spread_m for c in chosen):
            chosen.append(s)
            last_gain = float(gains[i])
    return chosen, last_gain


def solve_heuristic(
    problem: RouteProblem,
    node_xy: np.ndarray,
    *,
    warm_start: list[int] | None = None,
    n_starts: int = 3,
    n_kicks: int = 3,
    spread_m: float = 1_000.0,
    detour_m: float = 1_500.0,
    max_spur_m: float = 0.0,
    seed: int = 0,
) -> RouteSolution:
    """Plan loops or routes with GRASP starts and an iterated local search.

    Parameters
    ----------
    problem : RouteProblem
    node_xy : numpy.ndarray
        ``(n_nodes, 2)`` junction coordinates (metres), to spread seeds apart.
    warm_start : list of int, optional
        Segments of an existing plan (today's connected trees): its most
        valuable segments seed the first trail.
    n_starts : int
        Seeds tried for the first trail of a one-trail plan (plans of more
        trails start from the network plan's spine and the best seed only).
    n_kicks : int
        Perturbations (random stretch removed, search restarted) per plan.
    spread_m : float
        Seeds of different trails are at least this far apart.
    detour_m : float
        Longest path a single move inserts (metres).
    max_spur_m : float
        Longest dead-end spur added after the search (0: none).
    seed : int
        Random seed of the perturbations (the result is deterministic).

    Returns
    -------
    RouteSolution
        ``bound`` is ``inf`` (a heuristic proves none).
    """
    search = _Search(problem, detour_m=detour_m, seed=seed)
    usable = np.flatnonzero(problem.usable())
    if usable.size == 0:
        return RouteSolution([], 0.0)
    first_pool = np.asarray(sorted(set(warm_start or [])) or usable.tolist(), dtype=np.int64)
    first_pool = first_pool[problem.usable()[first_pool]]
    best_value, best_snap = -1.0, []
    trees: list[list[int]] = []
    firsts: list[tuple[str, Any]] = [
        ("seed", s) for s in _spread_seeds(search, first_pool, node_xy, spread_m / 2, max(n_starts, 1))
    ]
    if warm_start:
        firsts += [
            ("seed", s) for s in _spread_seeds(search, usable, node_xy, spread_m / 2, 1) if ("seed", s) not in firsts
        ]
        trees = _components(problem.seg_u, problem.seg_v, list(warm_start))
        firsts = [("tree", c) for c in trees] + firsts
        trees.sort(key=lambda c: -float(problem.seg_len[c].sum()))
    for k in range(1, problem.max_trails + 1):
        if k > 1 and k * problem.min_len > problem.budget + 1e-9:
            break
        starts = firsts if k == 1 else firsts[:2]
        if k > 1 and warm_start and len(trees) > 1:
            starts = [*starts, ("trees", trees)]
        for first in starts:
            # The start from all the network plan's trees runs on its own random stream, so the others
            # search exactly as without it.
            state = search.rng.bit_generator.state if first[0] == "trees" else None
            if _start_trails(search, first, k, usable, node_xy, spread_m):
                local_best, local_snap = _search_with_kicks(search, n_kicks)
                if local_best > best_value + _EPS:
                    best_value, best_snap = local_best, local_snap
            if state is not None:
                search.rng.bit_generator.state = state
    search.restore(best_snap)
    if max_spur_m > 0:
        for t in range(len(search.trails)):
            search.add_spurs(t, max_spur_m)
    trails = [list(t.segs) + list(t.spurs) for t in search.trails]
    return RouteSolution(trails, search.value(), math.inf, "heuristic")


def _start_trails(
    search: _Search, first: tuple[str, Any], k: int, usable: np.ndarray, node_xy: np.ndarray, spread_m: float
) -> bool:
    """Start ``k`` trails, the first from ``first`` (a seed segment or a tree), each improved as it starts.

    ``first`` may also be ``("trees", trees)``: trail ``j`` starts from the
    ``j``-th tree of the network plan (a seed when it has fewer trees or one
    cannot start).

    Returns whether the search has trails to improve.
    """
    search.reset()
    ok = True
    for j in range(k):
        search.reserve = k - 1 - j  # leave room for the trails still to come
        started = None
        if j == 0 and first[0] == "tree":
            started = search.start_from_tree(first[1])
        elif first[0] == "trees" and j < len(first[1]):  # trail j from the network plan's j-th tree
            started = search.start_from_tree(first[1][j])
        if started is None and not (j == 0 and first[0] == "tree"):
            seeds = (
                [first[1]] if j == 0 and first[0] == "seed" else _spread_seeds(search, usable, node_xy, spread_m, 1 + j)
            )
            for s in seeds:
                started = search.start_trail(s)
                if started is not None:
                    break
        if started is None:
            ok = j > 0
            break
        search.set_trail(len(search.trails), *started)
        search.improve(len(search.trails) - 1)
    search.reserve = 0
    return ok and bool(search.trails)


def _search_with_kicks(search: _Search, n_kicks: int) -> tuple[float, list[tuple[list[int], list[int], list[int]]]]:
    """Improve every trail, then ``n_kicks`` times perturb one and improve again; the best value and its snapshot."""
    for t in range(len(search.trails)):
        search.improve(t)
    _drop_short(search)
    local_best, local_snap = search.value(), search.snapshot()
    for _ in range(n_kicks):
        if not search.trails:
            break
        t = int(search.rng.integers(len(search.trails)))
        if not search.perturb(t):
            continue
        for u in range(len(search.trails)):
            search.improve(u)
        _drop_short(search)
        value = search.value()
        if value > local_best + _EPS:
            local_best, local_snap = value, search.snapshot()
        else:
            search.restore(local_snap)
    return local_best, local_snap


def _drop_short(search: _Search) -> None:
    for t in range(len(search.trails) - 1, -1, -1):
        if search.trails[t].length < search.p.min_len - 1e-6 or search.total_length() > search.p.budget + 1e-6:
            search.drop_trail(t)
