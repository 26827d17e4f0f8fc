"""The loop/route heuristic's search state and moves: trails, junction owners, cell reach counts.

:class:`_Search` holds the trails of one loop or route plan over a
:class:`~ordos_geo.trails._orienteering.RouteProblem` and the moves of the local
search in the spirit of EA4OP (Kobeaga, Merino and Lozano 2018, *EJOR* 269):
the *add* move replaces one stretch of a trail by a detour through unused
junctions (a path found by a bounded Dijkstra, once on the choice cost and once
on a prize-discounted length; a move searches from all its sources at once, in
C on a local sub-graph: :mod:`ordos_geo.trails._free_paths`), the *drop* move
replaces a stretch by a shorter path (the street-graph version of 2-opt: two
junctions of the trail are joined another way), routes also grow and shrink at
their ends, and a perturbation removes a random stretch.
:func:`ordos_geo.trails.heuristic.solve_heuristic` starts the trails and runs
the search.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from ordos_geo.trails._free_paths import FreeGraph, FreePaths
from ordos_geo.trails._orienteering import _EPS, RouteProblem
from ordos_geo.trails.prize import _ranges


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
        self.indices = problem.reach.indices
        self._ptr = self.indptr.tolist()  # sliced one segment at a time
        self.weight = problem.weight
        self.len = problem.seg_len.tolist()
        self.cost = problem.cost.tolist()
        self.su, self.sv = problem.seg_u.tolist(), problem.seg_v.tolist()
        ids = np.flatnonzero(problem.usable() & (problem.seg_u != problem.seg_v))
        n_nodes = int(max(problem.seg_u.max(initial=0), problem.seg_v.max(initial=0))) + 1
        #: The usable graph the moves' many-source searches run on (in C).
        self.graph = FreeGraph(problem.seg_u, problem.seg_v, problem.seg_len, ids, n_nodes)
        self.adj_ptr = self.graph.adj_ptr.tolist()
        self.adj_seg = self.graph.adj_seg.tolist()
        self.adj_other = self.graph.adj_other.tolist()
        #: Population each segment reaches on its own (an upper bound of its marginal gain).
        self.standalone = np.asarray(problem.reach @ self.weight, dtype=float)
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
        ptr, ind = self._ptr, self.indices
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
        # Cells sorted with their side in the lowest bit: one sort, no inverse index.
        key = np.sort(np.concatenate([out.astype(np.int64) * 2, inn.astype(np.int64) * 2 + 1]))
        cell = key >> 1
        heads = np.flatnonzero(np.concatenate([[True], cell[1:] != cell[:-1]]))
        n_in = np.add.reduceat(key & 1, heads)
        n_out = np.diff(np.append(heads, key.size)) - n_in
        uniq = cell[heads]
        old = self.count[uniq]
        new = old + n_in - n_out
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
        self,
        source: int,
        limit: float,
        weight: list[float] | np.ndarray | None,
        targets: set[int],
        *,
        settle: bool = False,
    ) -> tuple[dict[int, float], dict[int, tuple[int, int]], dict[int, float]]:
        """Bounded Dijkstra from ``source`` through free junctions and unused segments.

        Junctions of ``targets`` are reached but not expanded; junctions of
        trails not in ``targets`` are never entered. Returns search distance (``weight``),
        predecessor (junction, segment) and true length of each reached junction.
        With ``settle``, the search stops once every target is settled: the
        paths to the targets are final then (use only those). The one-source
        searches that stop early use it; the moves search from many sources
        at once with :meth:`paths`.
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

    def paths(
        self, sources: list[int], limit: float, weights: list[np.ndarray | None], targets: set[int]
    ) -> list[FreePaths]:
        """Least-weight paths from each source through free junctions to ``targets`` (see :class:`FreeGraph`)."""
        return self.graph.search(sources, limit, weights, targets, owner=self.owner, used=self.used)

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
    def _loop_candidates(self, t: int, weights: list[np.ndarray | None]) -> list[tuple]:
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
        positions = self._sources(n)
        found = self.paths([tr.nodes[i] for i in positions], limit, weights, targets)
        gains: dict[tuple[int, ...], float] = {}  # many paths come twice (both ways, both weightings)
        for k, i in enumerate(positions):
            src = tr.nodes[i]
            for paths in found:
                for tgt, node in paths.sink.items():
                    plen = float(paths.true[k, node])
                    if tgt == src or plen == math.inf:
                        continue
                    j = index[tgt]
                    arcs = []
                    for a, b in ((i, j), (j, i)):  # remove the arc a -> b, keep b -> a
                        rlen, runi = arc(a, b)
                        if rlen > self.detour_m + plen:  # local moves only: no wholesale shortcuts
                            continue
                        dlen = plen - rlen
                        if dlen > max(allowance, -2e-6) + 1e-6:
                            continue
                        arcs.append((a, b, runi, dlen))
                    if not arcs:  # a path no move can use is not walked back nor priced
                        continue
                    pnodes, psegs = paths.path(k, node)
                    est_add = self.path_gain(psegs, gains)
                    for a, b, runi, dlen in arcs:
                        cands.append((est_add - runi, dlen, (t, a, b, pnodes, psegs)))
        return cands

    def _build_loop(self, t: int, a: int, b: int, pnodes: list[int], psegs: list[int]) -> tuple[list, list, list, list]:
        """Removed, added, new junctions and segments when arc ``a -> b`` is replaced by ``pnodes``/``psegs``."""
        tr = self.trails[t]
        n = len(tr.nodes)
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

    def _route_candidates(self, t: int, weights: list[np.ndarray | None], marg: np.ndarray) -> list[tuple]:
        """Candidate moves on route ``t``: replace a stretch, extend or trim an end."""
        tr = self.trails[t]
        n = len(tr.nodes)
        allowance = self.allowance(t)
        index = {node: k for k, node in enumerate(tr.nodes)}
        targets = set(tr.nodes)
        uniq = self.unique_values(tr.segs)
        cum_len = np.concatenate([[0.0], np.cumsum([self.len[s] for s in tr.segs])]).tolist()
        cum_uni = np.concatenate([[0.0], np.cumsum(uniq)]).tolist()
        cands: list[tuple[float, float, tuple[int, int, tuple[list[int], list[int]] | None, int]]] = []
        limit = min(self.detour_m, max(allowance, 0.0) + tr.length)
        positions = self._sources(n, ends=True)
        found = self.paths([tr.nodes[i] for i in positions], limit, weights, targets)
        gains: dict[tuple[int, ...], float] = {}  # many paths come twice (both ways, both weightings)
        for k, i in enumerate(positions):
            src = tr.nodes[i]
            is_end = i in (0, n - 1)
            for paths in found:
                true = paths.true[k]
                reached = [node for tgt, node in paths.sink.items() if tgt != src and true[node] < math.inf]
                if is_end:
                    # Extensions: the free junctions whose path adds most per metre (segment marginals summed
                    # down the search tree, an overestimate used only to pick which ones to price exactly).
                    free = paths.reached(k)
                    free = free[free < paths.n_free]
                    rough = paths.along(marg)[k, free]
                    order = np.lexsort((true[free], -rough / np.maximum(true[free], 1.0)))
                    reached += free[order[: self.max_sources]].tolist()
                for node in reached:
                    tgt = int(paths.junction[node])
                    if node >= paths.n_free:
                        j = index[tgt]
                        lo, hi = min(i, j), max(i, j)
                        rlen, runi = cum_len[hi] - cum_len[lo], cum_uni[hi] - cum_uni[lo]
                    else:
                        rlen = runi = 0.0
                    dlen = float(true[node]) - rlen
                    if dlen > max(allowance, -2e-6) + 1e-6:
                        continue
                    path = paths.path(k, node)
                    est_add = self.path_gain(path[1], gains)
                    cands.append((est_add - runi, dlen, (t, i, path, tgt)))
        if n > 2:  # trim an end
            cands.append((-uniq[0], -self.len[tr.segs[0]], (t, -1, None, 0)))
            cands.append((-uniq[-1], -self.len[tr.segs[-1]], (t, -1, None, n - 1)))
        return cands

    def _build_route(
        self, t: int, i: int, path: tuple[list[int], list[int]] | None, tgt: int
    ) -> tuple[list, list, list, list]:
        """Removed, added, new junctions and segments of a route move (trim, stretch or end).

        ``path`` (junctions and segments from position ``i`` to junction
        ``tgt``) is None for a trim of the end at position ``tgt``.
        """
        tr = self.trails[t]
        if path is None:  # trim end at position tgt
            if tgt == 0:
                return [tr.segs[0]], [], tr.nodes[1:], tr.segs[1:]
            return [tr.segs[-1]], [], tr.nodes[:-1], tr.segs[:-1]
        pnodes, psegs = path
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

    def path_gain(self, segs: list[int], known: dict[tuple[int, ...], float] | None = None) -> float:
        """Population the segments add together (cells nobody reaches yet, counted once).

        ``known`` holds the gains of paths priced before on the same state
        (keyed by the segments in either direction); the gain is taken from
        and added to it.
        """
        if known is not None and segs:
            key = tuple(segs) if segs[0] <= segs[-1] else tuple(segs[::-1])
            if key not in known:
                known[key] = self.path_gain(segs)
            return known[key]
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
    def _key(gain: float, dlen: float, *, need: float, room_to_shrink: bool, over: bool = False) -> tuple | None:
        """Preference of a move: improving and shorter, best ratio, same reach shorter, fill up to min length.

        Over budget, only shortening moves count, least population lost per metre first.
        A trail ``need`` metres short of ``min_len`` fills up with the move that
        brings it closest to ``min_len`` (then the shortest such move): one
        move where streets are long, not hundreds where they are 15 m pieces.
        """
        if over:
            return (4, gain / -dlen, -dlen) if dlen < -_EPS else None
        if gain > _EPS and dlen <= _EPS:
            return (3, gain, -dlen)
        if gain > _EPS:
            return (2, gain / max(dlen, 1.0), -dlen)
        if gain >= -_EPS and dlen < -_EPS and room_to_shrink:
            return (1, -dlen, 0.0)
        if need > 0 and gain >= -_EPS and dlen > _EPS:
            return (0, min(dlen, need), -dlen)
        return None

    def improve(self, t: int, *, fill: bool = True, max_moves: int = 400, n_exact: int = 40) -> None:
        """Local search on trail ``t``: take the best move while one helps (then reach ``min_len``).

        Candidates are ranked by their estimated gain; the ``n_exact`` best are
        evaluated exactly (the union of cells reached) and the best of those taken.
        """
        for _ in range(max_moves):
            tr = self.trails[t]
            marg, prize = self._prize_weights(t)
            weights: list[np.ndarray | None] = [self.p.cost, prize]
            cands = self._loop_candidates(t, weights) if self.loop else self._route_candidates(t, weights, marg)
            need = self.p.min_len - tr.length if fill and tr.length < self.p.min_len - 1e-6 else 0.0
            over = self.allowance(t) < -1e-6
            ranked = []
            for est, dlen, args in cands:
                room = tr.length + dlen >= self.p.min_len - 1e-6
                key = self._key(est, dlen, need=need, room_to_shrink=room, over=over)
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
                key = self._key(gain, dlen, need=need, room_to_shrink=room, over=over)
                if key is not None and (best_key is None or key > best_key):
                    best, best_key = (nodes, segs), key
            if best is None:
                return
            self.set_trail(t, best[0], best[1])

    def _prize_weights(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Marginal population of nearby free segments (0 elsewhere), and lengths discounted by it."""
        density = max(self.value() / max(self.total_length(), 1.0), 1e-6)
        ids = self._nearby(t)
        seg_len = self.p.seg_len
        w = seg_len.astype(float)
        marg = np.zeros(len(seg_len))
        if ids.size:
            marg[ids] = self.marginals(ids)
            w[ids] = seg_len[ids] / (1.0 + marg[ids] / (density * np.maximum(seg_len[ids], 1.0)))
        return marg, w

    def _nearby(self, t: int) -> np.ndarray:
        """Segments of the shortest-path trees within half a move's reach of every twelfth junction of trail ``t``."""
        tr = self.trails[t]
        limit = min(self.detour_m, max(self.allowance(t), 0.0) + tr.length)
        (paths,) = self.paths(tr.nodes[:: max(1, len(tr.nodes) // 12)], limit / 2, [None], set())
        return np.unique(paths.seg[paths.seg >= 0])

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
