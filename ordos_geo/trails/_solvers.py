"""The solvers :func:`~ordos_geo.trails.plan_trails` runs, and the best plan and bound they find.

The ``network`` shape's greedy tree growth (:mod:`._tree_growth`) always runs
(it is the yardstick of loops and routes, and their warm start); its exact MILP
(:mod:`.exact`) runs on small instances; for loops and routes the orienteering
heuristic (:mod:`.heuristic`) and, on small instances, their exact MILP follow.
:class:`_Solutions` keeps the plan reaching most residents and the tightest
proven upper bound; :func:`_kept_trails` returns its trails long enough to keep.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ordos_geo.network import WalkNetwork
from ordos_geo.trails import _orienteering
from ordos_geo.trails._tree_growth import _TreeGrower
from ordos_geo.trails.exact import EXACT_MAX_SEGMENTS, _solve_network_exact, solve_exact
from ordos_geo.trails.heuristic import solve_heuristic
from ordos_geo.trails.prize import TrailPrizeModel
from ordos_geo.trails.shape import _components

if TYPE_CHECKING:
    from ordos_geo.trails.plan import TrailOptions

logger = logging.getLogger(__name__)


def _long_enough(model: TrailPrizeModel, segments: Sequence[int], min_len: float) -> bool:
    """Whether the segments add up to ``min_len`` metres (less a micrometre of rounding)."""
    return float(model.segment_length[list(segments)].sum()) >= min_len - 1e-6


@dataclass
class _Solutions:
    """The best plan found so far by the solvers :func:`~ordos_geo.trails.plan_trails` runs, and the bound on any plan.

    ``pieces`` holds the trails of a loop/route solver (``None`` while the best
    plan is the ``network`` shape's ``segments``).
    """

    upper: float
    value: float = -1.0
    segments: list[int] = field(default_factory=list)
    pieces: list[list[int]] | None = None
    kept: str = "heuristic"
    network_value: float = 0.0
    bound_shape: str = "network"


def _run_solvers(
    network: WalkNetwork,
    model: TrailPrizeModel,
    allowed: np.ndarray,
    cost: np.ndarray,
    opts: TrailOptions,
    *,
    upper: float,
    bound_shape: str,
    method: str,
    n_starts: int,
    time_limit_s: float,
    cell_xy: np.ndarray | None = None,
) -> _Solutions:
    """Run the solvers ``opts.shape`` and ``method`` call for; the best plan found and the tightest bound.

    ``upper`` and ``bound_shape`` are the bound proven before solving
    (:func:`ordos_geo.trails.bound.upper_bound`); an exact MILP may tighten it.
    ``cell_xy`` (the prize cells' positions) lets loops also start on the
    rectangles whose reach band holds most residents.
    """
    search = _Solutions(upper=upper, bound_shape=bound_shape)
    if upper <= 0:
        # No plan can reach anyone (no underserved resident within reach_m of an allowed street): the
        # search would only walk the whole network in vain (minutes on a city's streets).
        search.value = 0.0
        return search
    if method in ("auto", "heuristic") or opts.shape != "network":
        _network_heuristic(search, network, model, allowed, cost, opts, n_starts=n_starts)
    run_exact = method == "exact" or (method == "auto" and int(allowed.sum()) <= EXACT_MAX_SEGMENTS)
    if run_exact and opts.shape == "network":
        _network_exact(search, model, allowed, opts, time_limit_s=time_limit_s)
    search.network_value = max(search.value, 0.0)
    if opts.shape != "network":
        problem = _orienteering.RouteProblem(
            reach=model.reach,
            weight=model.population,
            seg_u=model.segment_u,
            seg_v=model.segment_v,
            seg_len=model.segment_length,
            cost=cost,
            allowed=allowed,
            shape=opts.shape,
            budget=float(opts.budget_m),
            min_len=opts.min_length_m,
            max_trails=int(opts.max_trails),
        )
        _route_solvers(
            search,
            problem,
            network,
            model,
            opts,
            run_exact=run_exact,
            method=method,
            n_starts=n_starts,
            time_limit_s=time_limit_s,
            cell_xy=cell_xy,
        )
    return search


def _network_heuristic(
    search: _Solutions,
    network: WalkNetwork,
    model: TrailPrizeModel,
    allowed: np.ndarray,
    cost: np.ndarray,
    opts: TrailOptions,
    *,
    n_starts: int,
) -> None:
    """The ``network`` heuristic for 1..``max_trails`` trails, the first seeded on each of ``n_starts`` segments."""
    min_len = opts.min_length_m
    planner = _TreeGrower(model, allowed, cost, budget_m=opts.budget_m, min_trail_m=min_len, jump_m=model.reach_m)
    # Multi-start: the first trail starts on each of the n_starts best spread-out segments.
    planner.reset()
    planner.seed(max(int(n_starts), 1), 2 * model.reach_m, network.node_xy)
    firsts: list[int | None] = [t.segments[0] for t in planner.trails] or [None]
    for k, first in itertools.product(range(1, opts.max_trails + 1), firsts):
        if k > 1 and k * min_len > opts.budget_m + 1e-9:
            break
        planner.reset()
        planner.seed(k, 2 * model.reach_m, network.node_xy, first=first)
        planner.grow()
        planner.improve()
        planner.close_loops()
        segments = [s for t in planner.trails for s in t.segments]
        segments = [s for c in _components(model, segments) if _long_enough(model, c, min_len) for s in c]
        value = model.population_reached(segments)
        logger.debug("trail heuristic with %d seeds: %.0f residents", k, value)
        if value > search.value + 1e-9 or (abs(value - search.value) <= 1e-9 and len(segments) < len(search.segments)):
            search.value, search.segments = value, segments


def _network_exact(
    search: _Solutions, model: TrailPrizeModel, allowed: np.ndarray, opts: TrailOptions, *, time_limit_s: float
) -> None:
    """The exact MILP of the ``network`` shape; its plan is kept when it reaches more residents."""
    chosen, objective, dual, status = _solve_network_exact(
        model,
        allowed,
        budget_m=opts.budget_m,
        min_trail_m=opts.min_length_m,
        max_trails=opts.max_trails,
        time_limit_s=time_limit_s,
    )
    logger.info("exact trail MILP: %s, %.0f residents, bound %.0f", status, objective, dual)
    search.upper = min(search.upper, dual)
    if objective > search.value + 1e-9:
        search.value, search.segments, search.kept = objective, chosen, "exact"


def _route_solvers(
    search: _Solutions,
    problem: _orienteering.RouteProblem,
    network: WalkNetwork,
    model: TrailPrizeModel,
    opts: TrailOptions,
    *,
    run_exact: bool,
    method: str,
    n_starts: int,
    time_limit_s: float,
    cell_xy: np.ndarray | None = None,
) -> None:
    """Loops or routes: the orienteering heuristic from the ``network`` plan, and the exact MILP on small instances."""
    shape = opts.shape
    found = solve_heuristic(
        problem,
        network.node_xy,
        warm_start=search.segments,
        n_starts=n_starts,
        spread_m=2 * model.reach_m,
        max_spur_m=float(opts.max_spur_m),
        cell_xy=cell_xy,
        reach_m=model.reach_m,
    )
    search.value, search.pieces, search.kept = found.value, found.trails, "heuristic"
    logger.info("trail %s heuristic: %.0f residents (network shape: %.0f)", shape, found.value, search.network_value)
    if run_exact:
        exact = solve_exact(
            problem, time_limit_s=time_limit_s, warm_start=[p for p in found.trails] if opts.max_spur_m == 0 else None
        )
        logger.info("exact %s MILP: %s, %.0f residents, bound %.0f", shape, exact.status, exact.value, exact.bound)
        if opts.max_spur_m == 0:  # the MILP has no spurs: its bound holds for this shape only without them
            search.upper, search.bound_shape = min(search.upper, exact.bound), shape
        if exact.value > search.value + 1e-9 or (method == "exact" and exact.value >= search.value - 1e-9):
            search.value, search.pieces, search.kept = exact.value, exact.trails, "exact"
    search.segments = [s for p in search.pieces for s in p]


def _kept_trails(search: _Solutions, model: TrailPrizeModel, min_len: float) -> list[list[int]]:
    """The trails of the best plan at least ``min_len`` long, most residents first (an empty plan if none helps)."""
    search.value = max(search.value, 0.0)
    if search.value <= 0:
        logger.warning("trails: no underserved resident can be reached by a trail; the plan is empty")
        search.segments = []
        search.pieces = []
    search.upper = max(search.upper, search.value)
    trails = []
    for comp in search.pieces if search.pieces is not None else _components(model, search.segments):
        if not _long_enough(model, comp, min_len):
            logger.warning(
                "trails: dropped a %.0f m trail that cannot reach min_trail_m=%.0f m on allowed streets",
                model.segment_length[comp].sum(),
                min_len,
            )
            continue
        trails.append(comp)
    if sum(len(c) for c in trails) != len(search.segments):
        search.value = model.population_reached([s for c in trails for s in c])
    trails.sort(key=lambda c: -model.population_reached(c))
    return trails
