"""The loop/route heuristic: GRASP starts followed by an iterated local search.

:func:`solve_heuristic` starts one to ``max_trails`` trails (on spread-out
high-prize seed segments, from the trees of the ``network`` plan, or, for
loops, on the rectangles whose reach band holds most residents: see
:mod:`ordos_geo.trails._band_starts`), improves
them with the moves of :class:`~ordos_geo.trails._loop_search._Search` (add,
drop, 2-opt-style stretch replacement, end moves), then perturbs a random
stretch and searches again a few times, keeping the best plan found. The
``network`` shape's own heuristic is :mod:`ordos_geo.trails._tree_growth`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ordos_geo.trails._band_starts import _BandRaster, start_band_loops, street_direction
from ordos_geo.trails._loop_search import _Search
from ordos_geo.trails._orienteering import _EPS, RouteProblem, RouteSolution, _components

__all__ = ["solve_heuristic"]

#: Candidates priced in the first batch when seeds are chosen (then four times more, until the choice is final).
_SEED_BATCH = 4096


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
    cell_xy: np.ndarray | None = None,
    reach_m: float = 500.0,
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
    cell_xy : numpy.ndarray, optional
        ``(n_cells, 2)`` positions of the prize cells (metres). Loops then
        also start on the rectangles whose reach band holds most residents
        (:mod:`ordos_geo.trails._band_starts`), one to ``max_trails`` of them.
    reach_m : float
        Reach of a trail (metres), the width of those bands on each side.

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
    if search.loop and cell_xy is not None and len(cell_xy):
        band_value, band_snap = _band_plans(search, node_xy, np.asarray(cell_xy, dtype=float), reach_m, n_kicks)
        if band_value > best_value + _EPS:
            best_value, best_snap = band_value, band_snap
    search.restore(best_snap)
    if max_spur_m > 0:
        for t in range(len(search.trails)):
            search.add_spurs(t, max_spur_m)
    trails = [list(t.segs) + list(t.spurs) for t in search.trails]
    return RouteSolution(trails, search.value(), math.inf, "heuristic")


def _band_plans(
    search: _Search, node_xy: np.ndarray, cell_xy: np.ndarray, reach_m: float, n_kicks: int
) -> tuple[float, list[tuple[list[int], list[int], list[int]]]]:
    """The plan of loops started on reach bands, searched; its value and snapshot (``-1`` if none starts).

    One to ``max_trails`` loops are started; only the start reaching most
    residents is searched (on the benchmark cities the best start stays the
    best after the search, and the search is most of the time).
    """
    raster = _BandRaster(search, cell_xy, reach_m, street_direction(search, node_xy))
    best_start, best_snap = -1.0, []
    for k in range(1, search.p.max_trails + 1):
        if k > 1 and k * search.p.min_len > search.p.budget + 1e-9:
            break
        if start_band_loops(search, raster, node_xy, k) and search.value() > best_start + _EPS:
            best_start, best_snap = search.value(), search.snapshot()
    if not best_snap:
        return -1.0, []
    search.restore(best_snap)
    return _search_with_kicks(search, n_kicks)


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
