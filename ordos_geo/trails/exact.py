"""Exact trail solvers (HiGHS MILPs), whose dual bounds give small plans their gap.

- :func:`_solve_network_exact`: the ``network`` shape (connected trees), a
  single-commodity length flow from at most ``max_trails`` roots.
- :func:`solve_exact`: loops and routes, a MILP (HiGHS) over segment,
  junction and cell variables with degree equations; connectivity is not written up front but
  added lazily, as in the branch-and-cut of Fischetti, Salazar and Toth (1998):
  after each solve the components of the integer solution are checked and a
  violated generalised subtour-elimination cut (a component without a root
  junction for loops, a cycle for routes) or a minimum-length cut (a component
  shorter than ``min_len``) is added, until none is violated. The solver's dual
  bound of the last solve bounds the true optimum, because every added cut is
  valid.

Optimality gap
--------------
On small instances (at most :data:`EXACT_MAX_SEGMENTS` allowed segments)
``method="auto"`` also solves an exact MILP with HiGHS and the gap is the
solver's (for the ``network`` shape a single-commodity length flow from at
most ``max_trails`` roots, so every trail is connected and at least
``min_trail_m`` long). On large ones the bound comes from
:mod:`ordos_geo.trails.bound` (the frontier and disc bounds).
"""

from __future__ import annotations

import math
import time
from typing import Any

import networkx as nx
import numpy as np

from ordos_geo import _labels
from ordos_geo._errors import MissingDependencyError, SolverError
from ordos_geo._highs import new_highs
from ordos_geo.trails._orienteering import _EPS, RouteProblem, RouteSolution, _components, _trail_ends, _walk_order
from ordos_geo.trails.prize import TrailPrizeModel

__all__ = ["EXACT_MAX_SEGMENTS", "solve_exact"]

#: Largest number of candidate segments solved exactly by ``method="auto"``.
EXACT_MAX_SEGMENTS: int = 30


#: A constraint row: columns, coefficients, lower and upper bound.
_Row = tuple[list[int], list[float], float, float]


def _add_rows(h: Any, rows: list[_Row]) -> None:
    """Add constraint rows to a HiGHS model (one sparse block)."""
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


def _run(h: Any, highspy: Any) -> tuple[Any, str]:
    """Run HiGHS; the model status and its text (a :class:`SolverError` unless optimal or out of time)."""
    h.run()
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        named = {"status": status_text, "status_zh": _labels.solver_status(status_text, "zh")}
        raise SolverError(_labels.Note("trail_solver_status", **named))
    return status, status_text


# --------------------------------------------------------------------------------------------------
# Network shape: MILP with a length flow from the roots
# --------------------------------------------------------------------------------------------------


def _solve_network_exact(
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
    rows: list[_Row] = []
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
    _add_rows(h, rows)
    integer = np.concatenate([np.arange(x0, x0 + n_s), np.arange(r0, r0 + n_v)]).astype(np.int32)
    h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    status, status_text = _run(h, highspy)
    info = h.getInfo()
    if info.primal_solution_status == 0:  # no feasible point found in time
        return [], 0.0, float(info.mip_dual_bound), status_text
    x = np.asarray(h.getSolution().col_value)[x0 : x0 + n_s]
    chosen = segs[x > 0.5].tolist()
    objective = model.population_reached(chosen)
    dual = float(info.mip_dual_bound) if status != highspy.HighsModelStatus.kOptimal else objective
    return chosen, objective, max(dual, objective), status_text


# --------------------------------------------------------------------------------------------------
# Loops and routes: MILP with lazily added subtour-elimination and minimum-length cuts
# --------------------------------------------------------------------------------------------------


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
    import highspy

    segs = np.flatnonzero(problem.usable())
    if len(segs) == 0:
        return RouteSolution([], 0.0, 0.0, "empty")
    milp = _RouteMilp(problem, segs)
    n_col = milp.n_col
    h = new_highs()
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.addCols(
        n_col,
        milp.objective(),
        np.zeros(n_col),
        np.ones(n_col),
        0,
        np.zeros(0, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0),
    )
    _add_rows(h, milp.rows())
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    deadline = time.monotonic() + float(time_limit_s)
    for _ in range(50):  # root cutting planes on the LP relaxation: the bound respects the shape
        h.setOptionValue("time_limit", max(deadline - time.monotonic(), 0.01))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        lp_cuts = milp.separate(np.asarray(h.getSolution().col_value))
        if not lp_cuts:
            break
        _add_rows(h, lp_cuts)
    integer = np.concatenate([np.arange(milp.x0, milp.y0), np.arange(milp.r0, n_col)]).astype(np.int32)
    h.changeColsIntegrality(len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8))
    if warm_start:
        h.setSolution(_solution(highspy, milp.start(warm_start)))
    return _solve_with_lazy_cuts(h, highspy, milp, warm_start, deadline)


class _RouteMilp:
    """Columns, rows and cuts of the loop/route MILP of :func:`solve_exact` over the usable segments ``segs``.

    Column blocks: ``x`` (segments) from :attr:`x0`, ``z`` (junctions) from
    :attr:`z0`, ``y`` (classes of cells reached by the same segments) from
    :attr:`y0`, ``r`` (roots of loops, ends of routes) from :attr:`r0`.
    """

    def __init__(self, problem: RouteProblem, segs: np.ndarray) -> None:
        self.problem = problem
        self.loop = problem.shape == "loop"
        self.segs = segs
        self.n_s = n_s = len(segs)
        seg_u, seg_v = problem.seg_u, problem.seg_v
        nodes = np.unique(np.concatenate([seg_u[segs], seg_v[segs]]))
        self.pos = pos = {int(v): i for i, v in enumerate(nodes.tolist())}
        self.n_v = n_v = len(nodes)
        # Cells reached by the same set of segments form one class (one y column, summed weight).
        sub = problem.reach[segs].tocsc()
        classes: dict[tuple[int, ...], float] = {}
        for c in np.flatnonzero(np.diff(sub.indptr) > 0).tolist():
            key = tuple(sub.indices[sub.indptr[c] : sub.indptr[c + 1]].tolist())
            classes[key] = classes.get(key, 0.0) + float(problem.weight[c])
        self.classes = classes
        self.class_keys = list(classes)
        n_c = len(self.class_keys)
        self.x0, self.z0, self.y0, self.r0 = 0, n_s, n_s + n_v, n_s + n_v + n_c
        self.n_col = self.r0 + n_v
        self.coef = 2.0 if self.loop else 1.0
        self.seg_col = {int(s): k for k, s in enumerate(segs.tolist())}
        # Segments touching each junction set, for the cuts.
        self.node_segs: list[list[int]] = [[] for _ in range(n_v)]
        for k, s in enumerate(segs.tolist()):
            self.node_segs[pos[int(seg_u[s])]].append(k)
            if seg_u[s] != seg_v[s]:
                self.node_segs[pos[int(seg_v[s])]].append(k)

    def objective(self) -> np.ndarray:
        """Population of each column: the weight of a class of cells on ``y``, 0 elsewhere."""
        obj = np.zeros(self.n_col)
        obj[self.y0 : self.r0] = [self.classes[k] for k in self.class_keys]
        return obj

    def rows(self) -> list[_Row]:
        """Degree, root, budget, trail-count and cell rows."""
        problem, pos, x0, z0, y0, r0 = self.problem, self.pos, self.x0, self.z0, self.y0, self.r0
        seg_u, seg_v = problem.seg_u, problem.seg_v
        lengths = problem.seg_len[self.segs].astype(float)
        inc: list[list[tuple[int, float]]] = [[] for _ in range(self.n_v)]  # node -> (x column, coefficient)
        for k, s in enumerate(self.segs.tolist()):
            a, b = pos[int(seg_u[s])], pos[int(seg_v[s])]
            if a == b:
                inc[a].append((x0 + k, 2.0))
            else:
                inc[a].append((x0 + k, 1.0))
                inc[b].append((x0 + k, 1.0))
        rows: list[_Row] = []
        inf = math.inf
        for i in range(self.n_v):
            idx = [c for c, _ in inc[i]] + [z0 + i]
            val = [w for _, w in inc[i]] + [-2.0]
            if self.loop:
                rows.append((idx, val, 0.0, 0.0))
            else:
                rows.append(([*idx, r0 + i], [*val, 1.0], 0.0, 0.0))
            rows.append(([r0 + i, z0 + i], [1.0, -1.0], -inf, 0.0))
        rows.append((list(range(x0, x0 + self.n_s)), lengths.tolist(), -inf, float(problem.budget)))
        max_roots = float(problem.max_trails * (1 if self.loop else 2))
        rows.append((list(range(r0, r0 + self.n_v)), [1.0] * self.n_v, -inf, max_roots))
        for j, key in enumerate(self.class_keys):
            rows.append(([y0 + j] + [x0 + k for k in key], [1.0] + [-1.0] * len(key), -inf, 0.0))
        return rows

    def subtour_cut(self, members: frozenset[int] | set[int], i: int) -> _Row:
        """``x(delta(S)) + coef * r(S) >= 2 z_i`` for the junction set ``S = members``."""
        pos, segs, seg_u, seg_v = self.pos, self.segs, self.problem.seg_u, self.problem.seg_v
        crossing = sorted(
            {k for m in members for k in self.node_segs[m]}
            - {
                k
                for k in range(self.n_s)
                if pos[int(seg_u[segs[k]])] in members and pos[int(seg_v[segs[k]])] in members
            }
        )
        idx = [self.x0 + k for k in crossing] + [self.r0 + m for m in members] + [self.z0 + i]
        val = [1.0] * len(crossing) + [self.coef] * len(members) + [-2.0]
        return (idx, val, 0.0, math.inf)

    def separate(self, col: np.ndarray) -> list[_Row]:
        """Subtour cuts violated by a fractional point: a minimum cut between each junction and the roots."""
        x0, z0, y0, r0 = self.x0, self.z0, self.y0, self.r0
        graph = nx.DiGraph()
        for k, s in enumerate(self.segs.tolist()):
            a, b = self.pos[int(self.problem.seg_u[s])], self.pos[int(self.problem.seg_v[s])]
            if a != b and col[x0 + k] > 1e-9:
                for p, q in ((a, b), (b, a)):
                    old = graph.get_edge_data(p, q, {"capacity": 0.0})["capacity"]
                    graph.add_edge(p, q, capacity=old + float(col[x0 + k]))
        for i in range(self.n_v):
            if col[r0 + i] > 1e-9:
                graph.add_edge(i, "roots", capacity=self.coef * float(col[r0 + i]))
        found: list[_Row] = []
        seen: set[frozenset[int]] = set()
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
                found.append(self.subtour_cut(members, i))
            if len(found) >= 40:
                break
        return found

    def cuts_for(self, chosen: list[int], col: np.ndarray) -> list[_Row]:
        """Subtour and minimum-length cuts violated by the integer solution ``col`` (segments ``chosen``)."""
        problem, pos, x0, r0 = self.problem, self.pos, self.x0, self.r0
        seg_u, seg_v = problem.seg_u, problem.seg_v
        found: list[_Row] = []
        for comp in _components(seg_u, seg_v, chosen):
            members = {pos[int(seg_u[s])] for s in comp} | {pos[int(seg_v[s])] for s in comp}
            touching = {k for i in members for k in self.node_segs[i]}
            inside = {self.seg_col[s] for s in comp}
            marks = sum(col[r0 + i] for i in members)
            if (self.loop and marks < 0.5) or (not self.loop and marks < 1.5):
                found.extend(self.subtour_cut(members, i) for i in members)
            if float(problem.seg_len[comp].sum()) < problem.min_len - 1e-6:
                others = sorted(touching - inside)
                idx = [x0 + k for k in sorted(inside)] + [x0 + k for k in others]
                val = [1.0] * len(inside) + [-1.0] * len(others)
                found.append((idx, val, -math.inf, float(len(inside) - 1)))
        return found

    def start(self, warm_start: list[list[int]]) -> np.ndarray:
        """The column values of feasible trails (a warm start)."""
        seg_u, seg_v, pos, seg_col = self.problem.seg_u, self.problem.seg_v, self.pos, self.seg_col
        start = np.zeros(self.n_col)
        for trail in warm_start:
            for s in trail:
                start[self.x0 + seg_col[int(s)]] = 1.0
                for node in (int(seg_u[s]), int(seg_v[s])):
                    start[self.z0 + pos[node]] = 1.0
            ends = _trail_ends(seg_u, seg_v, trail)
            for node in ends if not self.loop else [int(seg_u[trail[0]])]:
                start[self.r0 + pos[node]] = 1.0
        chosen_cols = [seg_col[int(s)] for t in warm_start for s in t]
        for j, key in enumerate(self.class_keys):
            start[self.y0 + j] = 1.0 if set(key) & set(chosen_cols) else 0.0
        return start


def _solve_with_lazy_cuts(
    h: Any, highspy: Any, milp: _RouteMilp, warm_start: list[list[int]] | None, deadline: float
) -> RouteSolution:
    """Solve, add the cuts the integer solution violates, and solve again until none is violated or time is up."""
    problem, segs = milp.problem, milp.segs
    seg_u, seg_v = problem.seg_u, problem.seg_v
    best: list[list[int]] = [list(t) for t in warm_start] if warm_start else []
    best_value = problem.value([s for t in best for s in t])
    bound = math.inf
    status_text = "not solved"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            status_text = "time limit"
            break
        h.setOptionValue("time_limit", float(left))
        status, status_text = _run(h, highspy)
        info = h.getInfo()
        bound = min(bound, float(info.mip_dual_bound))
        if info.primal_solution_status == 0:
            break
        col = np.asarray(h.getSolution().col_value)
        chosen = segs[col[milp.x0 : milp.z0] > 0.5].tolist()
        new_cuts = milp.cuts_for(chosen, col)
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
        _add_rows(h, new_cuts)
    return RouteSolution(best, best_value, max(bound, best_value), status_text)


def _solution(highspy: object, values: np.ndarray) -> object:
    sol = highspy.HighsSolution()  # type: ignore[attr-defined]
    sol.col_value = values.tolist()
    return sol
