"""The coverage models: :class:`MaximalCoverage` (one type) and :class:`CombinedCoverage` (the joint plan)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.siting._distances import _capacities, _check_eligible, _cost_array, _prepare
from ordos_geo.siting.base import CoverageModel
from ordos_geo.siting.rules import DEFAULT_PLAN, DEFAULT_RULES, SitingRule, _plan_counts

__all__ = ["CombinedCoverage", "MaximalCoverage"]

M = TypeVar("M", bound=CoverageModel)

logger = logging.getLogger(__name__)


class CombinedCoverage(CoverageModel):
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

    The solved values are the attributes of :class:`~ordos_geo.siting.base.CoverageModel`.

    Examples
    --------
    >>> import scipy.sparse
    >>> covers = scipy.sparse.csr_matrix([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]])  # 3 candidates x 4 demand points
    >>> model = CombinedCoverage.from_coverages([10.0, 20.0, 30.0, 40.0], {"court": covers, "centre": covers},
    ...                                         p={"court": 1, "centre": 1}).solve()
    >>> {key: sites.tolist() for key, sites in model.selected.items()}, model.objective_value  # one site each
    ({'court': [2], 'centre': [1]}, 90.0)
    """

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
        return cls._from_matrices(
            demand_weights,
            coverages,
            p=p,
            eligible=eligible,
            locked_coverage=locked_coverage,
            locked_candidates=locked_candidates,
            capacity=capacity,
            budget=budget,
            costs=costs,
            excluded=excluded,
            weights=weights,
            minimums=minimums,
        )

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
        types = _plan_counts(plan, rules)
        return _from_geodataframe(
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


class MaximalCoverage(CoverageModel):
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

    Examples
    --------
    >>> import scipy.sparse
    >>> covers = scipy.sparse.csr_matrix([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]])  # 3 candidates x 4 demand points
    >>> model = MaximalCoverage.from_coverage([10.0, 20.0, 30.0, 40.0], covers, p=2).solve()
    >>> model.selected_sites.tolist(), model.objective_value, model.gap_abs
    ([1, 2], 90.0, 0.0)
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
    def from_coverage(
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
        return cls._from_matrices(
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

    @classmethod
    def from_geodataframe(
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
        return _from_geodataframe(
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


def _from_geodataframe(
    cls: type[M],
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
) -> M:
    """Build a model of class ``cls`` from walking distances: the coverage matrices, locked demand, eligibility."""
    prepared = _prepare(
        network,
        cells,
        candidates,
        rules=rules,
        existing=existing,
        weight_column=weight_column,
        max_snap_distance_m=max_snap_distance_m,
    )
    _check_eligible(prepared, rules)
    capacities = _capacities(prepared, capacity, rules)
    model = cls._from_matrices(
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
    model.candidates = prepared.candidates
    model.cells = prepared.cells
    return model
