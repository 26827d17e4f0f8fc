"""The coverage models: :class:`MaximalCoverage` (one type) and :class:`CombinedCoverage` (the joint plan)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import scipy.sparse

from ordos_geo import settings
from ordos_geo._errors import InfeasibleError, InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.siting._distances import _capacity_array, _cost_array, _no_eligible_error, _prepare
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
from ordos_geo.siting.rules import DEFAULT_PLAN, DEFAULT_RULES, SitingRule, resolve_site_type

__all__ = ["CombinedCoverage", "MaximalCoverage"]

logger = logging.getLogger(__name__)


class CombinedCoverage:
    r"""Maximal coverage of still-uncovered demand for one or several facility types, jointly.

    For each type :math:`t` with its own coverage radius, choose exactly
    :math:`p_t` sites among the candidates eligible for :math:`t`:

    .. math::

        \max \sum_t \sum_i w_i\, y_{ti}
        \quad\text{s.t.}\quad y_{ti} \le \sum_{j \in N_t(i)} x_{tj},\;
        \sum_j x_{tj} = p_t,\; \sum_t x_{tj} \le 1,\; \sum_{t,j} c_j x_{tj} \le B,\;
        x \in \{0,1\},\; 0 \le y \le 1

    where :math:`N_t(i)` are the eligible candidates within type :math:`t`'s
    service distance of demand point :math:`i`. Demand already covered by an
    existing facility of a relevant kind (``locked_coverage``) has weight 0
    (its coverage is never counted as new) and is dropped from the model,
    and demand points with the same covering set are aggregated (exact).

    Why a per-type sum and not "any new venue within its radius": a court
    500 m away does not replace a fitness centre 1 km away, so each type
    answers its own gap. Without shared sites or budget the joint model is
    exactly the per-type models; it matters when the same parcel is the best
    site for two types (one new facility per site) or the budget is shared.

    Capacity (optional, per type): ``z_{tjg}`` is the share of demand group
    :math:`g` assigned to site :math:`j`; :math:`\sum_j z_{tjg} \le 1`,
    :math:`z_{tjg} \le x_{tj}` and :math:`\sum_g w_g z_{tjg} \le cap_j x_{tj}`;
    the objective counts assigned demand. Assignment may split a cell's
    population between sites (cells are aggregates of residents).

    Use :meth:`from_coverages` (core) or :meth:`from_geodataframe`, then
    :meth:`solve`.

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

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_coverages(
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
    ) -> CombinedCoverage:
        """Build the model from one sparse coverage matrix per type (the core constructor).

        Parameters
        ----------
        demand_weights : array-like of float, shape (n_demand,)
            Residents per demand point (>= 0).
        coverages : mapping of str to sparse matrix, each (n_candidates, n_demand)
            Per type, nonzero where the candidate covers the demand point
            (within the type's service distance). All types share the
            candidate index space.
        p : mapping of str to int
            Sites to choose per type (exactly).
        eligible : mapping of str to bool mask or positions, optional
            Candidates allowed per type (land-area rules); default all.
        locked_coverage : mapping of str to bool mask or positions, optional
            Per type, demand already covered by existing facilities: weight 0,
            never counted as new.
        locked_candidates : bool mask or positions, optional
            Candidates that are existing facilities: never chosen, and their
            coverage (per type) is added to ``locked_coverage``.
        capacity : mapping of str to float or array (n_candidates,), optional
            Demand (residents) a site of that type can serve.
        budget : float, optional
            Upper bound on the summed ``costs`` of all chosen sites.
        costs : array-like of float, shape (n_candidates,), optional
            Cost of building on each candidate (required with ``budget``).
        excluded : mapping of str to str, optional
            Per type, a sentence saying which rule excluded which candidates,
            quoted in errors.
        weights : mapping of str to array-like, optional
            Per type, demand weights replacing ``demand_weights`` for that type
            (e.g. residents aged 60+ for a sports-health centre); same length.
        minimums : sequence of (bool mask or positions, int), optional
            Disjoint groups of candidates, each with the least number of sites
            (over all types) to choose in it, e.g. school venues to open per
            district: ``sum_{j in G} x_j >= k_G``.

        Returns
        -------
        CombinedCoverage
        """
        type_weights = dict(weights or {})
        weights = np.asarray(demand_weights, dtype=float).ravel()
        if weights.size == 0:
            msg = "demand_weights is empty: no populated demand points to cover"
            raise InfeasibleError(msg)
        if not np.all(np.isfinite(weights)) or (weights < 0).any():
            bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))[:5].tolist()
            msg = f"demand_weights has negative or non-finite values (positions {bad}); weights are residents >= 0"
            raise InputDataError(msg)
        if not coverages:
            msg = "coverages is empty: give at least one facility type"
            raise InputDataError(msg)
        covers = {}
        n_candidates = None
        for key, matrix in coverages.items():
            covers[key] = _as_coverage(matrix, n_candidates, len(weights), f"coverage[{key!r}]")
            n_candidates = covers[key].shape[0]
        assert n_candidates is not None
        if n_candidates == 0:
            msg = "there are no candidate sites; give candidates (a file, OSM land or underserved neighbourhoods)"
            raise InfeasibleError(msg)
        missing = set(covers) - set(p)
        if missing:
            msg = f"p has no entry for {sorted(missing)}; give the number of sites for every type"
            raise InputDataError(msg)
        cost_array = None
        if costs is not None:
            cost_array = np.asarray(costs, dtype=float).ravel()
            if cost_array.shape != (n_candidates,):
                msg = f"costs has {cost_array.size} entries, expected one per candidate ({n_candidates})"
                raise InputDataError(msg)
            if not np.all(np.isfinite(cost_array)) or (cost_array < 0).any():
                msg = "costs must be finite and >= 0 (fill unknown costs before passing a budget)"
                raise InputDataError(msg)
        locked_sites = _as_mask(locked_candidates, n_candidates, "locked_candidates")
        layers = []
        for key, cover in covers.items():
            allowed = np.ones(n_candidates, dtype=bool)
            if eligible is not None and key in eligible and eligible[key] is not None:
                allowed = _as_mask(eligible[key], n_candidates, f"eligible[{key!r}]")
            locked = _as_mask((locked_coverage or {}).get(key), len(weights), f"locked_coverage[{key!r}]")
            if locked_sites.any():
                locked |= np.asarray(cover[np.flatnonzero(locked_sites)].sum(axis=0)).ravel() > 0
            allowed &= ~locked_sites
            cap = None
            if capacity is not None and key in capacity and capacity[key] is not None:
                cap = np.broadcast_to(np.asarray(capacity[key], dtype=float), (n_candidates,)).copy()
                if not np.all(np.isfinite(cap)) or (cap < 0).any():
                    msg = f"capacity[{key!r}] must be finite and >= 0 residents per site"
                    raise InputDataError(msg)
            layer_weights = weights
            if key in type_weights:
                layer_weights = np.asarray(type_weights[key], dtype=float).ravel()
                if layer_weights.shape != weights.shape or not np.all(np.isfinite(layer_weights)):
                    msg = f"weights[{key!r}] must hold one finite weight per demand point ({len(weights)})"
                    raise InputDataError(msg)
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
        groups = [
            (_as_mask(mask, n_candidates, f"minimums[{k}]"), int(need)) for k, (mask, need) in enumerate(minimums or ())
        ]
        overlap = np.sum([mask for mask, _ in groups], axis=0) if groups else np.zeros(1)
        if (overlap > 1).any():
            msg = "minimums: the candidate groups overlap; give disjoint groups (e.g. one per district)"
            raise InputDataError(msg)
        model = cls(
            layers,
            demand_weights=weights,
            n_candidates=n_candidates,
            costs=cost_array,
            budget=budget,
            excluded=notes,
            minimums=groups,
        )
        model.coverages = covers
        return model

    @classmethod
    def from_geodataframe(
        cls,
        network: WalkNetwork,
        cells: gpd.GeoDataFrame,
        candidates: gpd.GeoDataFrame,
        *,
        plan: Mapping[str, int] = DEFAULT_PLAN,
        rules: Mapping[str, SitingRule] = DEFAULT_RULES,
        existing: gpd.GeoDataFrame | None = None,
        weight_column: str = "population",
        budget: float | None = None,
        cost_column: str = "cost",
        capacity: Mapping[str, float | str | None] | None = None,
        max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    ) -> CombinedCoverage:
        """Build the joint model from walking distances (only builds the coverage matrices).

        Parameters
        ----------
        network : WalkNetwork
            The walk network; every frame is projected to its metric CRS.
        cells : geopandas.GeoDataFrame
            Demand cells (polygons or points) with ``weight_column`` (residents).
        candidates : geopandas.GeoDataFrame
            Candidate sites (``candidates_from_*``), with ``area_m2`` for the
            land-area rules and ``cost_column`` when a budget is given.
        plan : mapping of str to int, default :data:`DEFAULT_PLAN`
            Sites per type (keys or aliases of ``rules``); types with 0 are skipped.
        rules : mapping of str to SitingRule, default :data:`DEFAULT_RULES`
            Rule per type: land area, service distance, locked kinds.
        existing : geopandas.GeoDataFrame, optional
            Existing facilities (``kind``, optional ``open_to_public``,
            ``facility_id``): those of a rule's ``locked_kinds`` lock the demand
            within its service distance; candidates whose ``candidate_id`` equals a
            ``facility_id`` are never chosen.
        weight_column : str, default "population"
            Residents per cell.
        budget : float, optional
            Upper bound on the summed ``cost_column`` of all chosen sites.
        cost_column : str, default "cost"
            Candidate cost column (used with ``budget``).
        capacity : mapping of str to float or column name, optional
            Residents a site of that type can serve.
        max_snap_distance_m : float
            Cells, candidates and facilities farther than this from a street are
            unreachable.

        Returns
        -------
        CombinedCoverage
            With ``candidates`` and ``cells`` (network CRS) attached.
        """
        types = {resolve_site_type(k, rules): int(v) for k, v in plan.items() if int(v) > 0}
        if not types:
            msg = "plan asks for no sites (every count is 0); give at least one type with p >= 1"
            raise InputDataError(msg)
        return _from_geodataframe_combined(
            cls,
            network,
            cells,
            candidates,
            rules={k: rules[k] for k in types},
            p=types,
            existing=existing,
            weight_column=weight_column,
            budget=budget,
            cost_column=cost_column,
            capacity=capacity,
            max_snap_distance_m=max_snap_distance_m,
        )

    # -- solving --------------------------------------------------------------------------------

    def solve(
        self,
        method: str = "exact",
        *,
        time_limit_s: float | None = 600.0,
        mip_rel_gap: float = 0.0,
        lp_bound: bool = False,
        reduce: bool = True,
    ) -> CombinedCoverage:
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
        CombinedCoverage

        Raises
        ------
        SolverError
            HiGHS ended with a status other than optimal (named in the message).
        InfeasibleError
            No solution meets the budget / site rules.
        """
        if method not in ("exact", "greedy"):
            msg = f"method must be 'exact' or 'greedy', got {method!r}"
            raise InputDataError(msg)
        self.method = method
        started = time.perf_counter()
        greedy: _GreedyOutcome | None
        try:
            greedy = _greedy(self.layers, self.costs, self.budget, self.n_candidates, self.minimums)
        except InfeasibleError:
            if method == "greedy":
                raise
            greedy = None
        self.greedy_seconds = time.perf_counter() - started
        if greedy is not None:
            self.greedy_objective = greedy.objective
        references: list[list[tuple[int, int]]] = []
        if greedy is not None:
            greedy_picks = [(li, cand) for li, cand, _ in greedy.picks]
            references = [greedy_picks[:k] for k in range(1, len(greedy_picks) + 1)]
        if method == "greedy":
            assert greedy is not None
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
            ordered = greedy.picks
        else:
            warm_start, lower = None, None
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
            picks = outcome.picks
            ordered = _order_picks(self.layers, picks)
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
        logger.info(
            "siting: %s solved %s (%s), newly covered %s, greedy %s",
            ", ".join(f"{layer.key} p={layer.p}" for layer in self.layers),
            method,
            self.status,
            f"{self.objective_value:,.1f}",
            f"{self.greedy_objective:,.1f}",
        )
        return self

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


class MaximalCoverage(CombinedCoverage):
    r"""Maximal covering location problem (MCLP) for one facility type.

    Choose exactly ``p`` of the eligible candidates to maximise the demand
    newly covered within the service distance; demand already covered by
    existing (locked) facilities counts 0:

    .. math::

        \max \sum_i w_i y_i \quad\text{s.t.}\quad y_i \le \sum_{j \in N_i} x_j,\;
        \sum_j x_j = p,\; \sum_j c_j x_j \le B,\; x_j \in \{0,1\},\; 0 \le y_i \le 1

    spopt's ``MCLP`` has the same objective; here the coverage matrix is
    sparse, HiGHS is called directly, locked facilities are existing sites
    whose coverage is removed from the objective (not sites forced into the
    ``p``), and a budget and capacities are supported (see
    :class:`CombinedCoverage` for the capacitated form).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(self.layers) != 1:
            msg = "MaximalCoverage takes exactly one facility type; use CombinedCoverage for several"
            raise InputDataError(msg)

    @property
    def site_type(self) -> str:
        """The single type key."""
        return self.layers[0].key

    @property
    def selected_sites(self) -> np.ndarray:
        """Chosen candidate positions in decreasing marginal gain (after ``solve``)."""
        return self.selected.get(self.site_type, np.zeros(0, dtype=np.int64))

    @property
    def covered_share(self) -> np.ndarray:
        """Share (0..1) of each demand point newly covered (after ``solve``)."""
        return self.covered.get(self.site_type, np.zeros(len(self.demand_weights)))

    @classmethod
    def from_coverage(  # type: ignore[override]
        cls,
        demand_weights: Any,
        coverage: Any,
        *,
        p: int,
        eligible: Any = None,
        locked_coverage: Any = None,
        locked_candidates: Any = None,
        capacity: float | Any | None = None,
        budget: float | None = None,
        costs: Any = None,
        site_type: str = "sites",
        excluded: str = "",
    ) -> MaximalCoverage:
        """Build the model from a sparse coverage matrix (the core constructor).

        Parameters
        ----------
        demand_weights : array-like of float, shape (n_demand,)
            Residents per demand point.
        coverage : sparse matrix, shape (n_candidates, n_demand)
            Nonzero (True) where the candidate covers the demand point.
        p : int
            Number of sites to choose.
        eligible : bool mask or positions, optional
            Candidates allowed (e.g. large enough); default all.
        locked_coverage : bool mask or positions over demand, optional
            Demand already covered by existing facilities (weight 0).
        locked_candidates : bool mask or positions over candidates, optional
            Candidates that are existing facilities: never chosen, their
            coverage locked.
        capacity : float or array (n_candidates,), optional
            Residents a site can serve.
        budget : float, optional
            Upper bound on the summed ``costs`` of the chosen sites.
        costs : array-like (n_candidates,), optional
            Cost of each candidate.
        site_type : str, default "sites"
            Name used in messages and results.
        excluded : str, optional
            Which rule excluded which candidates (quoted in errors).

        Returns
        -------
        MaximalCoverage
        """
        built = CombinedCoverage.from_coverages(
            demand_weights,
            {site_type: coverage},
            p={site_type: p},
            eligible={site_type: eligible},
            locked_coverage={site_type: locked_coverage},
            locked_candidates=locked_candidates,
            capacity={site_type: capacity},
            budget=budget,
            costs=costs,
            excluded={site_type: excluded} if excluded else None,
        )
        model = cls(
            built.layers,
            demand_weights=built.demand_weights,
            n_candidates=built.n_candidates,
            costs=built.costs,
            budget=built.budget,
            excluded=built.excluded,
        )
        model.coverages = built.coverages
        return model

    @classmethod
    def from_geodataframe(  # type: ignore[override]
        cls,
        network: WalkNetwork,
        cells: gpd.GeoDataFrame,
        candidates: gpd.GeoDataFrame,
        *,
        service_distance_m: float,
        p: int,
        existing: gpd.GeoDataFrame | None = None,
        existing_kinds: Sequence[str] | None = None,
        min_land_area_m2: float = 0.0,
        unknown_area_ok: bool = True,
        weight_column: str = "population",
        budget: float | None = None,
        cost_column: str = "cost",
        capacity: float | str | None = None,
        max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
        site_type: str = "sites",
    ) -> MaximalCoverage:
        """Build a single-type MCLP from walking distances (only builds the coverage matrix).

        Parameters
        ----------
        network : WalkNetwork
            The walk network; every frame is projected to its metric CRS.
        cells : geopandas.GeoDataFrame
            Demand cells (polygons or points) with ``weight_column`` (residents).
            Residents walk from the cell centroid.
        candidates : geopandas.GeoDataFrame
            Candidate sites (points or parcels; parcels are reached from their
            boundary access points) with ``area_m2`` (NaN = unknown).
        service_distance_m : float
            A cell is covered by a site within this walking distance (metres).
        p : int
            Sites to choose.
        existing : geopandas.GeoDataFrame, optional
            Existing facilities; all of them (or those of ``existing_kinds``) lock
            the cells within ``service_distance_m``.
        existing_kinds : sequence of str, optional
            Facility kinds of ``existing`` that lock coverage (default all).
        min_land_area_m2 : float, default 0
            Candidates with less land are not eligible.
        unknown_area_ok : bool, default True
            Whether candidates of unknown land area are eligible.
        weight_column, budget, cost_column, capacity, max_snap_distance_m
            As in :meth:`CombinedCoverage.from_geodataframe`; ``capacity`` is a
            number or a candidate column.
        site_type : str, default "sites"
            Name in messages and results.

        Returns
        -------
        MaximalCoverage
            With ``candidates`` and ``cells`` (network CRS) attached.
        """
        kinds = tuple(existing_kinds) if existing_kinds is not None else None
        if kinds is None and existing is not None and "kind" in existing:
            kinds = tuple(sorted(set(existing["kind"].astype(str))))
        rule = SitingRule(
            site_type,
            "other",
            min_land_area_m2=float(min_land_area_m2),
            service_distance_m=float(service_distance_m),
            added_venue_area_m2=0.0,
            locked_kinds=kinds or ("other",),
            unknown_area_ok=unknown_area_ok,
        )
        if kinds is None and existing is not None:
            existing = existing.assign(kind="other")
        return _from_geodataframe_combined(
            cls,
            network,
            cells,
            candidates,
            rules={site_type: rule},
            p={site_type: int(p)},
            existing=existing,
            weight_column=weight_column,
            budget=budget,
            cost_column=cost_column,
            capacity={site_type: capacity},
            max_snap_distance_m=max_snap_distance_m,
        )


def _from_geodataframe_combined(
    cls: type,
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rules: Mapping[str, SitingRule],
    p: Mapping[str, int],
    existing: gpd.GeoDataFrame | None,
    weight_column: str,
    budget: float | None,
    cost_column: str,
    capacity: Mapping[str, float | str | None] | None,
    max_snap_distance_m: float,
) -> Any:
    prepared = _prepare(
        network,
        cells,
        candidates,
        rules=rules,
        existing=existing,
        weight_column=weight_column,
        max_snap_distance_m=max_snap_distance_m,
    )
    for key, rule in rules.items():
        if not prepared.eligible[key].any():
            raise _no_eligible_error(key, rule, prepared.candidates, prepared.excluded[key])
    capacities = {key: _capacity_array(prepared.candidates, (capacity or {}).get(key)) for key in rules}
    model = CombinedCoverage.from_coverages(
        prepared.weights,
        prepared.coverages,
        weights=prepared.type_weights,
        p=p,
        eligible=prepared.eligible,
        locked_coverage=prepared.locked,
        locked_candidates=prepared.locked_candidates,
        capacity=capacities,
        budget=budget,
        costs=_cost_array(prepared.candidates, cost_column, budget),
        excluded=prepared.excluded,
    )
    built = cls(
        model.layers,
        demand_weights=model.demand_weights,
        n_candidates=model.n_candidates,
        costs=model.costs,
        budget=model.budget,
        excluded=model.excluded,
    )
    built.coverages = model.coverages
    built.candidates = prepared.candidates
    built.cells = prepared.cells
    return built
