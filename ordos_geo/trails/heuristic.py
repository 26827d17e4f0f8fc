"""Loop and route trails: an orienteering problem with coverage prizes on the street graph.

A *loop* is a simple cycle of street segments (it brings the walker back to the
start, no segment and no junction walked twice); a *route* is a simple path.
Up to ``max_trails`` node-disjoint trails share one length budget, each is at
least ``min_len`` long, and the objective is the population of the cells
reached by any chosen segment (a resident counts once, whichever segment
reaches them). It is the orienteering problem (Vansteenwegen, Souffriau and Van
Oudheusden 2011, *EJOR* 209) with two twists taken from the arc-routing side of
the family: prizes sit on cells reached by segments, not on the vertices, and
the cover is a union, not a sum.

Two solvers share :class:`RouteProblem` (a cost-matrix-style core: arrays, no
geometry):

- :func:`solve_exact`: a MILP (HiGHS) over segment, junction and cell
  variables with degree equations; connectivity is not written up front but
  added lazily, as in the branch-and-cut of Fischetti, Salazar and Toth (1998):
  after each solve the components of the integer solution are checked and a
  violated generalised subtour-elimination cut (a component without a root
  junction for loops, a cycle for routes) or a minimum-length cut (a component
  shorter than ``min_len``) is added, until none is violated. The solver's dual
  bound of the last solve bounds the true optimum, because every added cut is
  valid.
- :func:`solve_heuristic`: GRASP starts followed by an iterated local search in
  the spirit of EA4OP (Kobeaga, Merino and Lozano 2018, *EJOR* 269): the
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
from dataclasses import dataclass, field
from typing import Literal

import networkx as nx
import numpy as np
import scipy.sparse

from ordos_geo._errors import SolverError
from ordos_geo._highs import new_highs

__all__ = ["RouteProblem", "RouteSolution", "Shape", "solve_exact", "solve_heuristic"]

Shape = Literal["loop", "route"]

_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class RouteProblem:
    """A loop/route orienteering instance over undirected street segments.

    Attributes
    ----------
    reach : scipy.sparse.csr_matrix
        ``(n_segments, n_cells)`` boolean: segment ``s`` reaches cell ``c``.
    weight : numpy.ndarray
        ``(n_cells,)`` population of each cell (the prize, counted once).
    seg_u, seg_v : numpy.ndarray
        End junctions of each segment.
    seg_len : numpy.ndarray
        True length of each segment (metres; what the budget counts).
    cost : numpy.ndarray
        Cost used to *choose* segments (length x preferences); ties and
        detours prefer cheap segments, the budget never sees it.
    allowed : numpy.ndarray
        Boolean mask of the segments a trail may use.
    shape : {"loop", "route"}
    budget : float
        Total length of all trails (metres).
    min_len : float
        Minimum length of each trail (metres).
    max_trails : int
        Maximum number of trails.
    """

    reach: scipy.sparse.csr_matrix
    weight: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_len: np.ndarray
    cost: np.ndarray
    allowed: np.ndarray
    shape: Shape
    budget: float
    min_len: float
    max_trails: int

    def value(self, segments: list[int] | np.ndarray) -> float:
        """Population reached by the union of ``segments``."""
        ids = np.asarray(segments, dtype=np.int64)
        if ids.size == 0:
            return 0.0
        cells = np.unique(self.reach[ids].indices)
        return float(self.weight[cells].sum())

    def usable(self) -> np.ndarray:
        """Allowed segments a trail of this shape can use (routes skip self-loops)."""
        ok = self.allowed.copy()
        if self.shape == "route":
            ok &= self.seg_u != self.seg_v
        return ok


@dataclass
class RouteSolution:
    """Trails found by a solver.

    Attributes
    ----------
    trails : list of list of int
        Per trail, its segments in walking order.
    value : float
        Population reached by all trails.
    bound : float
        Upper bound on the optimum (``inf`` when the solver proves none).
    status : str
        Solver status text.
    """

    trails: list[list[int]]
    value: float
    bound: float = math.inf
    status: str = ""


# --------------------------------------------------------------------------------------------------
# Exact: MILP with lazily added subtour-elimination and minimum-length cuts
# --------------------------------------------------------------------------------------------------


def _components(seg_u: np.ndarray, seg_v: np.ndarray, segments: list[int]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s in segments:
        a, b = find(int(seg_u[s])), find(int(seg_v[s]))
        if a != b:
            parent[a] = b
    groups: dict[int, list[int]] = {}
    for s in segments:
        groups.setdefault(find(int(seg_u[s])), []).append(int(s))
    return list(groups.values())


def _walk_order(seg_u: np.ndarray, seg_v: np.ndarray, segments: list[int]) -> list[int]:
    """Segments of a simple cycle or path in walking order (from an end of a path)."""
    if len(segments) <= 1:
        return list(segments)
    at: dict[int, list[int]] = {}
    for s in segments:
        at.setdefault(int(seg_u[s]), []).append(s)
        at.setdefault(int(seg_v[s]), []).append(s)
    ends = [n for n, ss in at.items() if len(ss) == 1]
    node = ends[0] if ends else int(seg_u[segments[0]])
    order: list[int] = []
    used: set[int] = set()
    while True:
        nxt = [s for s in at[node] if s not in used]
        if not nxt:
            break
        s = nxt[0]
        used.add(s)
        order.append(s)
        node = int(seg_v[s]) if int(seg_u[s]) == node else int(seg_u[s])
    return order


def solve_exact(
    problem: RouteProblem,
    *,
    time_limit_s: float = 20.0,
    warm_start: list[list[int]] | None = None,
) -> RouteSolution:
    """Solve a loop/route instance exactly (HiGHS MILP, connectivity cuts added lazily).

    Variables: ``x_s`` (segment used), ``z_v`` (junction visited), ``y_c``
    (cell reached, one per class of cells reached by the same segments),
    ``r_v`` (loop: junction roots a trail) or ``t_v`` (route: junction ends a
    trail). Rows: degree ``sum x(delta(v)) = 2 z_v`` (loop) or ``2 z_v - t_v``
    (route), budget, ``y_c <= sum of x over the segments reaching c``, at most
    ``max_trails`` roots (two ends per route). Cuts added when an integer
    solution violates them, for a component with junctions ``S``:
    ``x(delta(S)) + 2 r(S) >= 2 z_v`` (loop) or ``x(delta(S)) + t(S) >= 2 z_v``
    (route) for ``v`` in ``S``, and ``sum_{s in C} x_s - x(touching C) <= |C| - 1``
    for a component ``C`` shorter than ``min_len``.

    Parameters
    ----------
    problem : RouteProblem
    time_limit_s : float
        Wall time for all solves together; on timeout the incumbent and the
        last dual bound are returned.
    warm_start : list of list of int, optional
        Feasible trails (e.g. the heuristic's) used as the first incumbent.

    Returns
    -------
    RouteSolution
        ``bound`` is the solver's dual bound (equal to ``value`` when proven optimal).
    """
    import time

    import highspy

    loop = problem.shape == "loop"
    segs = np.flatnonzero(problem.usable())
    n_s = len(segs)
    if n_s == 0:
        return RouteSolution([], 0.0, 0.0, "empty")
    seg_u, seg_v = problem.seg_u, problem.seg_v
    nodes = np.unique(np.concatenate([seg_u[segs], seg_v[segs]]))
    pos = {int(v): i for i, v in enumerate(nodes.tolist())}
    n_v = len(nodes)
    # Cells reached by the same set of segments form one class (one y column, summed weight).
    sub = problem.reach[segs].tocsc()
    classes: dict[tuple[int, ...], float] = {}
    for c in np.flatnonzero(np.diff(sub.indptr) > 0).tolist():
        key = tuple(sub.indices[sub.indptr[c] : sub.indptr[c + 1]].tolist())
        classes[key] = classes.get(key, 0.0) + float(problem.weight[c])
    class_keys = list(classes)
    n_c = len(class_keys)
    x0, z0, y0, r0 = 0, n_s, n_s + n_v, n_s + n_v + n_c
    n_col = r0 + n_v
    obj = np.zeros(n_col)
    obj[y0:r0] = [classes[k] for k in class_keys]
    lengths = problem.seg_len[segs].astype(float)
    inc: list[list[tuple[int, float]]] = [[] for _ in range(n_v)]  # node -> (x column, coefficient)
    for k, s in enumerate(segs.tolist()):
        a, b = pos[int(seg_u[s])], pos[int(seg_v[s])]
        if a == b:
            inc[a].append((x0 + k, 2.0))
        else:
            inc[a].append((x0 + k, 1.0))
            inc[b].append((x0 + k, 1.0))
    rows: list[tuple[list[int], list[float], float, float]] = []
    inf = math.inf
    for i in range(n_v):
        idx = [c for c, _ in inc[i]] + [z0 + i]
        val = [w for _, w in inc[i]] + [-2.0]
        if loop:
            rows.append((idx, val, 0.0, 0.0))
        else:
            rows.append(([*idx, r0 + i], [*val, 1.0], 0.0, 0.0))
        rows.append(([r0 + i, z0 + i], [1.0, -1.0], -inf, 0.0))
    rows.append((list(range(x0, x0 + n_s)), lengths.tolist(), -inf, float(problem.budget)))
    rows.append((list(range(r0, r0 + n_v)), [1.0] * n_v, -inf, float(problem.max_trails * (1 if loop else 2))))
    for j, key in enumerate(class_keys):
        rows.append(([y0 + j] + [x0 + k for k in key], [1.0] + [-1.0] * len(key), -inf, 0.0))

    h = new_highs()
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.addCols(n_col, obj, np.zeros(n_col), np.ones(n_col), 0, np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))

    def add_rows(new: list[tuple[list[int], list[float], float, float]]) -> None:
        starts = np.cumsum([0] + [len(r[0]) for r in new[:-1]]).astype(np.int32)
        index = np.concatenate([np.asarray(r[0], dtype=np.int32) for r in new])
        value = np.concatenate([np.asarray(r[1], dtype=float) for r in new])
        h.addRows(
            len(new), np.array([r[2] for r in new]), np.array([r[3] for r in new]), len(index), starts, index, value
        )

    add_rows(rows)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    coef = 2.0 if loop else 1.0
    seg_col = {int(s): k for k, s in enumerate(segs.tolist())}
    # Segments touching each junction set, for the cuts.
    node_segs: list[list[int]] = [[] for _ in range(n_v)]
    for k, s in enumerate(segs.tolist()):
        node_segs[pos[int(seg_u[s])]].append(k)
        if seg_u[s] != seg_v[s]:
            node_segs[pos[int(seg_v[s])]].append(k)

    def separate(col: np.ndarray) -> list[tuple[list[int], list[float], float, float]]:
        """Subtour cuts violated by a fractional point: a minimum cut between each junction and the roots."""
        graph = nx.DiGraph()
        for k, s in enumerate(segs.tolist()):
            a, b = pos[int(seg_u[s])], pos[int(seg_v[s])]
            if a != b and col[x0 + k] > 1e-9:
                for p, q in ((a, b), (b, a)):
                    old = graph.get_edge_data(p, q, {"capacity": 0.0})["capacity"]
                    graph.add_edge(p, q, capacity=old + float(col[x0 + k]))
        for i in range(n_v):
            if col[r0 + i] > 1e-9:
                graph.add_edge(i, "roots", capacity=coef * float(col[r0 + i]))
        found, seen = [], set()
        for i in np.argsort(-col[z0:y0]).tolist():
            if col[z0 + i] < 1e-3 or i not in graph:
                continue
            if "roots" not in graph:
                cut, (side, _) = 0.0, (set(nx.node_connected_component(graph.to_undirected(), i)), None)
            else:
                cut, (side, _) = nx.minimum_cut(graph, i, "roots")
            if cut < 2.0 * col[z0 + i] - 1e-4:
                members = frozenset(x for x in side if x != "roots")
                if members in seen:
                    continue
                seen.add(members)
                found.append(_subtour_cut(members, i))
            if len(found) >= 40:
                break
        return found

    def _subtour_cut(members: frozenset[int] | set[int], i: int) -> tuple[list[int], list[float], float, float]:
        crossing = sorted(
            {k for m in members for k in node_segs[m]}
            - {k for k in range(n_s) if pos[int(seg_u[segs[k]])] in members and pos[int(seg_v[segs[k]])] in members}
        )
        idx = [x0 + k for k in crossing] + [r0 + m for m in members] + [z0 + i]
        val = [1.0] * len(crossing) + [coef] * len(members) + [-2.0]
        return (idx, val, 0.0, inf)

    deadline = time.monotonic() + float(time_limit_s)
    for _ in range(50):  # root cutting planes on the LP relaxation: the bound respects the shape
        h.setOptionValue("time_limit", max(deadline - time.monotonic(), 0.01))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        lp_cuts = separate(np.asarray(h.getSolution().col_value))
        if not lp_cuts:
            break
        add_rows(lp_cuts)
    integer = np.concatenate([np.arange(x0, y0), np.arange(r0, n_col)]).astype(np.int32)
    h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8))

    def cuts_for(chosen: list[int], col: np.ndarray) -> list[tuple[list[int], list[float], float, float]]:
        found = []
        for comp in _components(seg_u, seg_v, chosen):
            members = {pos[int(seg_u[s])] for s in comp} | {pos[int(seg_v[s])] for s in comp}
            touching = {k for i in members for k in node_segs[i]}
            inside = {seg_col[s] for s in comp}
            marks = sum(col[r0 + i] for i in members)
            if (loop and marks < 0.5) or (not loop and marks < 1.5):
                found.extend(_subtour_cut(members, i) for i in members)
            if float(problem.seg_len[comp].sum()) < problem.min_len - 1e-6:
                others = sorted(touching - inside)
                idx = [x0 + k for k in sorted(inside)] + [x0 + k for k in others]
                val = [1.0] * len(inside) + [-1.0] * len(others)
                found.append((idx, val, -inf, float(len(inside) - 1)))
        return found

    if warm_start:
        start = np.zeros(n_col)
        for trail in warm_start:
            for s in trail:
                start[x0 + seg_col[int(s)]] = 1.0
                for node in (int(seg_u[s]), int(seg_v[s])):
                    start[z0 + pos[node]] = 1.0
            ends = _trail_ends(seg_u, seg_v, trail)
            for node in ends if not loop else [int(seg_u[trail[0]])]:
                start[r0 + pos[node]] = 1.0
        chosen_cols = [seg_col[int(s)] for t in warm_start for s in t]
        for j, key in enumerate(class_keys):
            start[y0 + j] = 1.0 if set(key) & set(chosen_cols) else 0.0
        h.setSolution(_solution(highspy, start))

    best: list[list[int]] = [list(t) for t in warm_start] if warm_start else []
    best_value = problem.value([s for t in best for s in t])
    bound = inf
    status_text = "not solved"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            status_text = "time limit"
            break
        h.setOptionValue("time_limit", float(left))
        h.run()
        status = h.getModelStatus()
        status_text = h.modelStatusToString(status)
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            msg = f"exact trail solver (HiGHS) finished with status {status_text!r}"
            raise SolverError(msg)
        info = h.getInfo()
        bound = min(bound, float(info.mip_dual_bound))
        if info.primal_solution_status == 0:
            break
        col = np.asarray(h.getSolution().col_value)
        chosen = segs[col[x0:z0] > 0.5].tolist()
        new_cuts = cuts_for(chosen, col)
        if not new_cuts:
            trails = [_walk_order(seg_u, seg_v, c) for c in _components(seg_u, seg_v, chosen)]
            value = problem.value(chosen)
            if value > best_value + _EPS or not best:
                best, best_value = trails, value
            if status == highspy.HighsModelStatus.kOptimal:
                bound = best_value
            break
        if status != highspy.HighsModelStatus.kOptimal:
            break
        add_rows(new_cuts)
    return RouteSolution(best, best_value, max(bound, best_value), status_text)


def _solution(highspy: object, values: np.ndarray) -> object:
    sol = highspy.HighsSolution()  # type: ignore[attr-defined]
    sol.col_value = values.tolist()
    return sol


def _trail_ends(seg_u: np.ndarray, seg_v: np.ndarray, trail: list[int]) -> list[int]:
    degree: dict[int, int] = {}
    for s in trail:
        for node in (int(seg_u[s]), int(seg_v[s])):
            degree[node] = degree.get(node, 0) + 1
    return [n for n, d in degree.items() if d == 1]


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
        self.used = np.zeros(len(self.len), dtype=bool)
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
        starts = self.indptr[segs]
        counts = self.indptr[segs + 1] - starts
        rep = np.repeat(np.arange(len(segs)), counts)
        flat = (
            np.concatenate(
                [self.indices[a:b] for a, b in zip(starts.tolist(), (starts + counts).tolist(), strict=True)]
            )
            if len(segs)
            else np.zeros(0, np.int64)
        )
        return np.bincount(rep, weights=self.weight[flat] * (self.count[flat] == 0), minlength=len(segs))

    def _touch(self, segs: list[int], sign: int) -> None:
        cells = self.cells(segs)
        np.add.at(self.count, cells, sign)
        self.used[segs] = sign > 0

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
        self, source: int, limit: float, weight: list[float] | None, targets: set[int]
    ) -> tuple[dict[int, float], dict[int, tuple[int, int]], dict[int, float]]:
        """Bounded Dijkstra from ``source`` through free junctions and unused segments.

        Junctions of ``targets`` are reached but not expanded; junctions of
        trails not in ``targets`` are never entered. Returns search distance (``weight``),
        predecessor (junction, segment) and true length of each reached junction.
        """
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
            _, pred, _true = self.dijkstra(b, limit, self.cost, {a})
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

        def farthest(src: int) -> tuple[int, dict[int, tuple[int, int]]]:
            dist, pred, heap = {src: 0.0}, {}, [(0.0, src)]
            while heap:
                d, node = heapq.heappop(heap)
                if d > dist[node]:
                    continue
                for s, m in at[node]:
                    if d + self.len[s] < dist.get(m, math.inf):
                        dist[m], pred[m] = d + self.len[s], (node, s)
                        heapq.heappush(heap, (dist[m], m))
            return max(dist, key=dist.__getitem__), pred

        a, _ = farthest(self.su[tree[0]])
        b, pred = farthest(a)
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
                _, back, true = self.dijkstra(spine_nodes[0], room, weight, set(spine_nodes))
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
                _, pred, true = self.dijkstra(src, limit, w, targets)
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
        cands = []
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
            self.used[removed] = True  # not back the same way
            try:
                _, pred, _ = self.dijkstra(tr.nodes[i], self.detour_m, self.cost, {tr.nodes[j]})
            finally:
                self.used[removed] = False
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
    gains = search.marginals(candidates)
    order = np.lexsort((np.asarray(search.cost)[candidates], -gains))
    chosen: list[int] = []
    for i in order.tolist():
        if gains[i] <= 0 or len(chosen) >= k:
            break
        s = int(candidates[i])
        mid = (xy[search.su[s]] + xy[search.sv[s]]) / 2
        if all(np.hypot(*(mid - (xy[search.su[c]] + xy[search.sv[c]]) / 2)) >= spread_m for c in chosen):
            chosen.append(s)
    return chosen


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
    firsts: list[tuple[str, object]] = [
        ("seed", s) for s in _spread_seeds(search, first_pool, node_xy, spread_m / 2, max(n_starts, 1))
    ]
    if warm_start:
        firsts += [
            ("seed", s) for s in _spread_seeds(search, usable, node_xy, spread_m / 2, 1) if ("seed", s) not in firsts
        ]
        firsts = [("tree", c) for c in _components(problem.seg_u, problem.seg_v, list(warm_start))] + firsts
    for k in range(1, problem.max_trails + 1):
        if k > 1 and k * problem.min_len > problem.budget + 1e-9:
            break
        for first in firsts if k == 1 else firsts[:2]:
            search.reset()
            ok = True
            for j in range(k):
                search.reserve = k - 1 - j  # leave room for the trails still to come
                started = None
                if j == 0 and first[0] == "tree":
                    started = search.start_from_tree(first[1])
                else:
                    seeds = [first[1]] if j == 0 else _spread_seeds(search, usable, node_xy, spread_m, 1 + j)
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
            if not ok or not search.trails:
                continue
            for t in range(len(search.trails)):
                search.improve(t)
            _drop_short(search)
            value = search.value()
            snap = search.snapshot()
            local_best, local_snap = value, snap
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
            if local_best > best_value + _EPS:
                best_value, best_snap = local_best, local_snap
    search.restore(best_snap)
    if max_spur_m > 0:
        for t in range(len(search.trails)):
            search.add_spurs(t, max_spur_m)
    trails = [list(t.segs) + list(t.spurs) for t in search.trails]
    return RouteSolution(trails, search.value(), math.inf, "heuristic")


def _drop_short(search: _Search) -> None:
    for t in range(len(search.trails) - 1, -1, -1):
        if search.trails[t].length < search.p.min_len - 1e-6 or search.total_length() > search.p.budget + 1e-6:
            search.drop_trail(t)
