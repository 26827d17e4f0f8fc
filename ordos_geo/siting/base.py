"""The base of the coverage models: validated layers from coverage matrices, ``solve`` and the solved values.

:class:`~ordos_geo.siting.MaximalCoverage` and
:class:`~ordos_geo.siting.CombinedCoverage` are siblings over
:class:`CoverageModel`, the way spopt's location models share
``spopt.locate.base``: each keeps its own constructors, both solve alike.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Self

import geopandas as gpd
import numpy as np
import scipy.sparse

from ordos_geo import _labels, settings
from ordos_geo._errors import InfeasibleError, InputDataError
from ordos_geo.siting._engine import (
    _as_coverage,
    _as_mask,
    _check_budget,
    _check_counts,
    _check_minimums,
    _greedy,
    _GreedyOutcome,
    _Layer,
    _local_search,
    _make_layer,
    _marginals,
    _order_picks,
    _solve_lp,
)

__all__ = ["CoverageModel"]

logger = logging.getLogger(__name__)

Picks = list[tuple[int, int]]
Ordered = list[tuple[int, int, float]]


def _demand_array(demand_weights: Any) -> np.ndarray:
    weights = np.asarray(demand_weights, dtype=float).ravel()
    if weights.size == 0:
        raise InfeasibleError(_labels.Note("no_demand"))
    if not np.all(np.isfinite(weights)) or (weights < 0).any():
        bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))[:5].tolist()
        msg = f"demand_weights has negative or non-finite values (positions {bad}); weights are residents >= 0"
        raise InputDataError(msg)
    return weights


def _coverage_matrices(coverages: Mapping[str, Any], n_demand: int) -> tuple[dict[str, scipy.sparse.csr_matrix], int]:
    """The coverage matrices as CSR, checked to share one candidate index space; and its size."""
    if not coverages:
        msg = "coverages is empty: give at least one facility type"
        raise InputDataError(msg)
    covers = {}
    n_candidates = None
    for key, matrix in coverages.items():
        covers[key] = _as_coverage(matrix, n_candidates, n_demand, f"coverage[{key!r}]")
        n_candidates = covers[key].shape[0]
    assert n_candidates is not None
    if n_candidates == 0:
        raise InfeasibleError(_labels.Note("no_candidates"))
    return covers, n_candidates


def _cost_vector(costs: Any, n_candidates: int) -> np.ndarray | None:
    if costs is None:
        return None
    cost_array = np.asarray(costs, dtype=float).ravel()
    if cost_array.shape != (n_candidates,):
        msg = f"costs has {cost_array.size} entries, expected one per candidate ({n_candidates})"
        raise InputDataError(msg)
    if not np.all(np.isfinite(cost_array)) or (cost_array < 0).any():
        msg = "costs must be finite and >= 0 (fill unknown costs before passing a budget)"
        raise InputDataError(msg)
    return cost_array


def _capacity_vector(key: str, capacity: Mapping[str, Any] | None, n_candidates: int) -> np.ndarray | None:
    if capacity is None or key not in capacity or capacity[key] is None:
        return None
    cap = np.broadcast_to(np.asarray(capacity[key], dtype=float), (n_candidates,)).copy()
    if not np.all(np.isfinite(cap)) or (cap < 0).any():
        msg = f"capacity[{key!r}] must be finite and >= 0 residents per site"
        raise InputDataError(msg)
    return cap


def _layer_weights(key: str, type_weights: Mapping[str, Any], weights: np.ndarray) -> np.ndarray:
    if key not in type_weights:
        return weights
    layer_weights = np.asarray(type_weights[key], dtype=float).ravel()
    if layer_weights.shape != weights.shape or not np.all(np.isfinite(layer_weights)):
        msg = f"weights[{key!r}] must hold one finite weight per demand point ({len(weights)})"
        raise InputDataError(msg)
    return layer_weights


def _minimum_groups(minimums: Sequence[tuple[Any, int]] | None, n_candidates: int) -> list[tuple[np.ndarray, int]]:
    groups = [
        (_as_mask(mask, n_candidates, f"minimums[{k}]"), int(need)) for k, (mask, need) in enumerate(minimums or ())
    ]
    overlap = np.sum([mask for mask, _ in groups], axis=0) if groups else np.zeros(1)
    if (overlap > 1).any():
        msg = "minimums: the candidate groups overlap; give disjoint groups (e.g. one per district)"
        raise InputDataError(msg)
    return groups


def _gap_row(instance: str, model: CoverageModel, n_demand: int) -> dict[str, Any]:
    """One row of the greedy-vs-exact table of a solved model."""
    return {
        "instance": instance,
        "p": sum(layer.p for layer in model.layers),
        "n_eligible_candidates": len(set().union(*[set(layer.sites.tolist()) for layer in model.layers])),
        "n_demand": n_demand,
        "n_demand_groups": sum(len(layer.group_weight) for layer in model.layers),
        "exact_objective": model.exact_objective,
        "greedy_objective": model.greedy_objective,
        "gap_abs": model.gap_abs,
        "gap_rel": model.gap_rel,
        "upper_bound": model.upper_bound,
        "lp_bound": model.lp_bound,
        "exact_seconds": model.exact_seconds,
        "greedy_seconds": model.greedy_seconds,
    }


class CoverageModel:
    """Maximal coverage of still-uncovered demand over aggregated layers, one per facility type.

    The shared base of :class:`~ordos_geo.siting.MaximalCoverage` and
    :class:`~ordos_geo.siting.CombinedCoverage`: the validated model layers,
    :meth:`solve` and the values it sets. Build a model with a subclass's
    constructors.

    Attributes
    ----------
    layers : list
        One aggregated model layer per type (eligible sites, demand groups).
    coverages : dict of str to scipy.sparse.csr_matrix
        The coverage matrices given (candidates x demand), per type.
    selected : dict of str to numpy.ndarray
        Chosen candidate positions per type, in decreasing marginal gain.
    objective_value : float
        Newly covered demand (sum over types) of the returned solution.
    exact_objective, greedy_objective : float
        Objective of each method (NaN when that method was not run).
    gap_abs, gap_rel : float
        Greedy's optimality gap against exact (``exact - greedy`` and that over
        ``exact``); NaN when exact was not solved.
    upper_bound : float
        A proven bound on the optimum (the MILP's value when solved exactly,
        else the lazy-greedy online bound or the LP relaxation).
    covered : dict of str to numpy.ndarray
        Per type, the share (0..1) of each demand point newly covered.

    ``selected`` and the values are set by :meth:`solve`.

    Examples
    --------
    >>> from ordos_geo.siting import MaximalCoverage
    >>> covers = scipy.sparse.csr_matrix([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]])  # 3 candidates x 4 demand points
    >>> model = MaximalCoverage.from_coverage([10.0, 20.0, 30.0, 40.0], covers, p=1).solve("greedy")
    >>> model.selected["sites"].tolist(), model.objective_value, model.covered["sites"].tolist()
    ([1], 50.0, [0.0, 1.0, 1.0, 0.0])
    """

    def __init__(
        self,
        layers: Sequence[_Layer],
        *,
        demand_weights: np.ndarray,
        n_candidates: int,
        costs: np.ndarray | None,
        budget: float | None,
        excluded: Mapping[str, str] | None = None,
        minimums: Sequence[tuple[np.ndarray, int]] = (),
    ) -> None:
        self.layers = list(layers)
        self.minimums = [(np.asarray(mask, dtype=bool), int(need)) for mask, need in minimums if int(need) > 0]
        self.demand_weights = demand_weights
        self.n_candidates = n_candidates
        self.costs = costs
        self.budget = budget
        self.excluded = dict(excluded or {})
        self.method: str | None = None
        self.status: str | None = None
        self.selected: dict[str, np.ndarray] = {}
        self.marginal_gains: dict[str, np.ndarray] = {}
        self.pick_order: list[tuple[str, int, float]] = []
        self.objective_value = math.nan
        self.exact_objective = math.nan
        self.greedy_objective = math.nan
        self.upper_bound = math.nan
        self.lp_bound = math.nan
        self.gap_abs = math.nan
        self.gap_rel = math.nan
        self.exact_seconds = math.nan
        self.greedy_seconds = math.nan
        self.covered: dict[str, np.ndarray] = {}
        self.coverages: dict[str, scipy.sparse.csr_matrix] = {}
        self.candidates: gpd.GeoDataFrame | None = None
        self.cells: gpd.GeoDataFrame | None = None
        _check_counts(self.layers, n_candidates, self.excluded)
        _check_minimums(self.layers, self.minimums)
        _check_budget(self.layers, costs, budget)

    @classmethod
    def _from_matrices(
        cls,
        demand_weights: Any,
        coverages: Mapping[str, Any],
        *,
        p: Mapping[str, int],
        eligible: Mapping[str, Any] | None = None,
        locked_coverage: Mapping[str, Any] | None = None,
        locked_candidates: Any = None,
        capacity: Mapping[str, Any] | None = None,
        budget: float | None = None,
        costs: Any = None,
        excluded: Mapping[str, str] | None = None,
        weights: Mapping[str, Any] | None = None,
        minimums: Sequence[tuple[Any, int]] | None = None,
    ) -> Self:
        """Check the inputs and build the layers; the parameters are those of ``CombinedCoverage.from_coverages``."""
        demand = _demand_array(demand_weights)
        covers, n_candidates = _coverage_matrices(coverages, len(demand))
        missing = set(covers) - set(p)
        if missing:
            msg = f"p has no entry for {sorted(missing)}; give the number of sites for every type"
            raise InputDataError(msg)
        cost_array = _cost_vector(costs, n_candidates)
        locked_sites = _as_mask(locked_candidates, n_candidates, "locked_candidates")
        layers = []
        for key, cover in covers.items():
            allowed = np.ones(n_candidates, dtype=bool)
            if eligible is not None and key in eligible and eligible[key] is not None:
                allowed = _as_mask(eligible[key], n_candidates, f"eligible[{key!r}]")
            locked = _as_mask((locked_coverage or {}).get(key), len(demand), f"locked_coverage[{key!r}]")
            if locked_sites.any():
                locked |= np.asarray(cover[np.flatnonzero(locked_sites)].sum(axis=0)).ravel() > 0
            allowed &= ~locked_sites
            cap = _capacity_vector(key, capacity, n_candidates)
            layer_weights = _layer_weights(key, weights or {}, demand)
            layers.append(
                _make_layer(
                    key, layer_weights, cover, p=int(p[key]), eligible=allowed, locked_demand=locked, capacity=cap
                )
            )
        notes = dict(excluded or {})
        if locked_sites.any():
            for key in covers:
                notes[key] = "; ".join(
                    filter(None, [notes.get(key, ""), f"{int(locked_sites.sum())} locked as existing"])
                )
        model = cls(
            layers,
            demand_weights=demand,
            n_candidates=n_candidates,
            costs=cost_array,
            budget=budget,
            excluded=notes,
            minimums=_minimum_groups(minimums, n_candidates),
        )
        model.coverages = covers
        return model

    # -- solving --------------------------------------------------------------------------------

    def solve(
        self,
        method: str = settings.DEFAULT_SITING_METHOD,
        *,
        time_limit_s: float | None = settings.DEFAULT_SITING_TIME_LIMIT_S,
        mip_rel_gap: float = 0.0,
        lp_bound: bool = False,
        reduce: bool = True,
    ) -> Self:
        """Solve the model; returns ``self``.

        Parameters
        ----------
        method : {"exact", "greedy"}
            ``"exact"``: MILP with HiGHS, warm-started with the greedy
            solution; greedy's gap is reported against it. ``"greedy"``: lazy
            greedy only, with a proven upper bound (the online bound of
            submodular maximisation, or the LP relaxation when ``lp_bound`` or
            capacities are set).
        time_limit_s : float, optional
            HiGHS time limit (seconds); reaching it raises :class:`SolverError`.
        mip_rel_gap : float, default 0.0
            HiGHS relative MIP gap; 0 proves optimality.
        lp_bound : bool, default False
            With ``method="greedy"``, also solve the LP relaxation for a bound.
        reduce : bool, default True
            Before the MILP/LP, drop the sites whose standalone-coverage bound
            is below the greedy value (exact: they are in no optimal solution;
            see ``_reduce_layers``). False solves the full model.

        Returns
        -------
        CoverageModel
            The model itself (its subclass).

        Raises
        ------
        SolverError
            HiGHS ended with a status other than optimal (named in the message).
        InfeasibleError
            No solution meets the budget / site rules.
        """
        if method not in settings.SITING_METHODS:
            msg = f"method must be {' or '.join(map(repr, settings.SITING_METHODS))}, got {method!r}"
            raise InputDataError(msg)
        self.method = method
        greedy = self._run_greedy(raise_infeasible=method == "greedy")
        references: list[Picks] = []
        if greedy is not None:
            greedy_picks = [(li, cand) for li, cand, _ in greedy.picks]
            references = [greedy_picks[:k] for k in range(1, len(greedy_picks) + 1)]
        if method == "greedy":
            assert greedy is not None
            picks, ordered = self._keep_greedy(
                greedy, references, time_limit_s=time_limit_s, lp_bound=lp_bound, reduce=reduce
            )
        else:
            picks, ordered = self._solve_exact(
                greedy, references, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap, reduce=reduce
            )
        self._record(picks, ordered)
        logger.info(
            "siting: %s solved %s (%s), newly covered %s, greedy %s",
            ", ".join(f"{layer.key} p={layer.p}" for layer in self.layers),
            method,
            self.status,
            f"{self.objective_value:,.1f}",
            f"{self.greedy_objective:,.1f}",
        )
        return self

    def _run_greedy(self, *, raise_infeasible: bool) -> _GreedyOutcome | None:
        """The lazy greedy solution (None when it finds none and ``raise_infeasible`` is false)."""
        started = time.perf_counter()
        greedy: _GreedyOutcome | None
        try:
            greedy = _greedy(self.layers, self.costs, self.budget, self.n_candidates, self.minimums)
        except InfeasibleError:
            if raise_infeasible:
                raise
            greedy = None
        self.greedy_seconds = time.perf_counter() - started
        if greedy is not None:
            self.greedy_objective = greedy.objective
        return greedy

    def _keep_greedy(
        self,
        greedy: _GreedyOutcome,
        references: list[Picks],
        *,
        time_limit_s: float | None,
        lp_bound: bool,
        reduce: bool,
    ) -> tuple[Picks, Ordered]:
        """Keep the greedy solution, with its online bound or the LP relaxation's."""
        picks = [(li, cand) for li, cand, _ in greedy.picks]
        bound = greedy.upper_bound
        if lp_bound or not math.isfinite(bound):
            relaxed = _solve_lp(
                self.layers,
                self.costs,
                self.budget,
                integer=False,
                time_limit_s=time_limit_s,
                mip_rel_gap=0.0,
                lower_bound=greedy.objective if reduce else None,
                reference_sets=references,
                minimums=self.minimums,
            )
            self.lp_bound = relaxed.objective
            bound = min(bound, relaxed.objective)
        self.upper_bound = bound
        self.status = "greedy"
        self.objective_value = greedy.objective
        return picks, list(greedy.picks)

    def _solve_exact(
        self,
        greedy: _GreedyOutcome | None,
        references: list[Picks],
        *,
        time_limit_s: float | None,
        mip_rel_gap: float,
        reduce: bool,
    ) -> tuple[Picks, Ordered]:
        """Solve the MILP, warm-started with the greedy solution improved by local search."""
        warm_start: Picks | None = None
        lower: float | None = None
        if greedy is not None:
            warm_start, lower = references[-1], greedy.objective
            if all(layer.capacity is None for layer in self.layers) and not self.minimums:
                improved, _ = _local_search(self.layers, warm_start, self.costs, self.budget, self.n_candidates)
                value, _ = _marginals(self.layers, improved)
                references.append(improved)
                if value > lower:
                    warm_start, lower = improved, value
        outcome = _solve_lp(
            self.layers,
            self.costs,
            self.budget,
            integer=True,
            time_limit_s=time_limit_s,
            mip_rel_gap=mip_rel_gap,
            warm_start=warm_start,
            lower_bound=lower if reduce else None,
            reference_sets=references,
            minimums=self.minimums,
        )
        self.exact_seconds = outcome.seconds
        self.status = outcome.status
        self.exact_objective = outcome.objective
        self.objective_value = outcome.objective
        self.upper_bound = outcome.dual_bound
        if greedy is not None:
            self.gap_abs = max(0.0, outcome.objective - greedy.objective)
            self.gap_rel = self.gap_abs / outcome.objective if outcome.objective > 0 else 0.0
        return outcome.picks, _order_picks(self.layers, outcome.picks)

    def _record(self, picks: Sequence[tuple[int, int]], ordered: Sequence[tuple[int, int, float]]) -> None:
        """Set ``selected``, ``marginal_gains``, ``pick_order`` and ``covered`` from the kept solution."""
        self.pick_order = [(self.layers[li].key, cand, gain) for li, cand, gain in ordered]
        self.selected = {
            layer.key: np.array([cand for li, cand, _ in ordered if li == k], dtype=np.int64)
            for k, layer in enumerate(self.layers)
        }
        self.marginal_gains = {
            layer.key: np.array([g for li, _, g in ordered if li == k], dtype=float)
            for k, layer in enumerate(self.layers)
        }
        self.covered = self._covered_shares(picks)

    def _covered_shares(self, picks: Sequence[tuple[int, int]]) -> dict[str, np.ndarray]:
        shares = {}
        for li, layer in enumerate(self.layers):
            chosen = [cand for lj, cand in picks if lj == li]
            local = np.searchsorted(layer.sites, chosen)
            group_hit = np.zeros(len(layer.group_weight), dtype=bool)
            if len(local):
                group_hit[np.unique(layer.cover[local].indices)] = True
            share = np.zeros(len(self.demand_weights))
            inside = layer.demand_group >= 0
            share[inside] = group_hit[layer.demand_group[inside]]
            shares[layer.key] = share
        return shares
