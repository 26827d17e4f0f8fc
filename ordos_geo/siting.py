"""Site selection for new fitness facilities: candidates, rules and location models.

The stage answers "where should the new sports park, the three small fitness
centres and the three multi-sport courts go?" with

- a documented, configurable rule table per new facility type
  (:class:`SitingRule`, :data:`DEFAULT_RULES`);
- candidate sites from a user file, from vacant or green land in an OSM
  extract, and from network nodes at the centres of underserved
  neighbourhoods (``candidates_from_*``);
- maximal coverage location models in spopt's shape (:class:`MaximalCoverage`
  for one type, :class:`CombinedCoverage` for the joint plan): a core
  constructor from a sparse coverage matrix, a GeoDataFrame constructor that
  only builds that matrix from walking distances, and ``solve(method=...)``
  returning the model, exactly with HiGHS (``highspy``) or by lazy greedy;
- :func:`plan_sites`, the planner's entry point: ranked, explained shortlists
  per type, the chosen plan, greedy-vs-exact gaps, and the chosen sites as
  facility rows so indicators can be recomputed.

All geometry is in the walk network's metric CRS; distances are metres along
the walk network; populations are residents; areas are m².
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.spatial import cKDTree

from ordos_geo import _labels, settings
from ordos_geo._errors import InfeasibleError, InputDataError, SolverError
from ordos_geo._highs import new_highs
from ordos_geo.io import FACILITY_COLUMNS
from ordos_geo.network import WalkNetwork

__all__ = [
    "CANDIDATE_COLUMNS",
    "CANDIDATE_OSM_TAGS",
    "DEFAULT_MIN_SCHOOL_GROUNDS_M2",
    "DEFAULT_PLAN",
    "DEFAULT_RULES",
    "SCHOOL_OPENING",
    "SITE_TYPE_ALIASES",
    "CombinedCoverage",
    "MaximalCoverage",
    "SchoolOpeningResult",
    "SitingResult",
    "SitingRule",
    "candidates_from_file",
    "candidates_from_osm",
    "candidates_from_underserved",
    "eligible_candidates",
    "plan_school_opening",
    "plan_sites",
    "resolve_site_type",
]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SitingRule:
    """What a new facility of one type needs and what it adds.

    Attributes
    ----------
    site_type : str
        Type key (``"sports_park"``, ``"fitness_centre"``, ``"multi_sport_court"``).
    kind : str
        Facility kind the new site gets in the facilities table (one of
        :data:`ordos_geo.settings.FACILITY_KINDS`).
    min_land_area_m2 : float
        Smallest candidate land area (m², parcel area) that can host the type.
    service_distance_m : float
        Walking distance (metres along the network) within which a resident
        counts as covered by a site of this type.
    added_venue_area_m2 : float
        Venue field area (m²) the new site adds to the per-capita indicator.
    locked_kinds : tuple of str, optional
        Existing facility kinds that already serve this need (their coverage
        is locked in and never counted as new). Empty means ``(kind,)``.
    unknown_area_ok : bool, default True
        Whether a candidate with unknown land area (a network node at the
        centre of an underserved neighbourhood) may host the type. True for
        small venues that fit on a street corner or a school yard, False for
        the sports park, which needs a surveyed parcel.
    label : str, optional
        Words a planner reads ("multi-sport court"); defaults to the key.
    weight_column : str, default "population"
        Cell column the type serves: ``"population"`` (all residents) or
        ``"population_60plus"`` for the sports-health centre.
    """

    site_type: str
    kind: str
    min_land_area_m2: float
    service_distance_m: float
    added_venue_area_m2: float
    locked_kinds: tuple[str, ...] = ()
    unknown_area_ok: bool = True
    label: str = ""
    weight_column: str = "population"

    def __post_init__(self) -> None:
        if self.kind not in settings.FACILITY_KINDS:
            msg = f"SitingRule {self.site_type!r}: kind {self.kind!r} is not one of settings.FACILITY_KINDS"
            raise InputDataError(msg)
        for name in ("min_land_area_m2", "service_distance_m", "added_venue_area_m2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"SitingRule {self.site_type!r}: {name} must be a finite number >= 0, got {value!r}"
                raise InputDataError(msg)
        if self.service_distance_m <= 0:
            msg = f"SitingRule {self.site_type!r}: service_distance_m must be > 0 metres"
            raise InputDataError(msg)
        if not self.locked_kinds:
            object.__setattr__(self, "locked_kinds", (self.kind,))
        if not self.label:
            object.__setattr__(self, "label", self.site_type.replace("_", " "))


#: The default rule table. Sources, and which numbers are estimates:
#:
#: - ``sports_park``: at least 4 ha of land (``settings.SPORTS_PARK_MIN_AREA_M2``,
#:   the Ordos plan's "five ones" sports park); 1,500 m walking service distance
#:   (``settings.KIND_SERVICE_DISTANCE_M``); adds 20,000 m² of sports field area
#:   (estimate: about half of a 4 ha park as pitches, courts and tracks; the rest
#:   green space, which 体育公园 guidance keeps as the larger share). Unknown land
#:   area is not accepted: a sports park needs a surveyed parcel.
#: - ``fitness_centre`` (小型全民健身中心): at least 2,000 m² of land, 1,000 m
#:   (the 15-minute life circle of GB 50180-2018 《城市居住区规划设计标准》,
#:   whose 15-minute circle lists 体育馆(场)或全民健身中心 with a service radius of
#:   at most 1,000 m); adds 1,500 m² of hall floor (``settings.TYPICAL_AREA_M2``;
#:   the land and hall sizes are estimates for a small centre, not a standard's
#:   figure).
#: - ``multi_sport_court`` (多功能运动场): at least 800 m² of land (a 40 x 20 m
#:   court; 《城市社区体育设施建设用地指标》 sizes a basketball court with its
#:   margins at about 600 m², GB 50180-2018 puts small multi-purpose ball courts
#:   at roughly 770-1,310 m² of land: 800 m² is the estimate used), 500 m (the
#:   10-minute circle of GB 50180-2018); adds 800 m² of court.
#: - ``sports_health_centre`` (运动健康中心 with age-friendly equipment, 适老化, the
#:   plan's 体卫融合 item "打造2个运动健康中心"): serves residents aged 60+
#:   (``population_60plus``) within ``settings.DEFAULT_AGE_DISTANCE_M`` (500 m, a
#:   walk suited to older people); at least 1,500 m² of land for a hall of about
#:   1,000 m² (``settings.TYPICAL_AREA_M2``) with a forecourt (estimates, no
#:   standard gives the size); an existing sports-health centre locks its area.
DEFAULT_RULES: Final[Mapping[str, SitingRule]] = MappingProxyType(
    {
        "sports_park": SitingRule(
            "sports_park",
            "sports_park",
            min_land_area_m2=settings.SPORTS_PARK_MIN_AREA_M2,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["sports_park"],
            added_venue_area_m2=20_000.0,
            unknown_area_ok=False,
            label="sports park",
        ),
        "fitness_centre": SitingRule(
            "fitness_centre",
            "fitness_centre",
            min_land_area_m2=2_000.0,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["fitness_centre"],
            added_venue_area_m2=settings.TYPICAL_AREA_M2["fitness_centre"],
            locked_kinds=("fitness_centre", "gymnasium"),
            label="fitness centre",
        ),
        "multi_sport_court": SitingRule(
            "multi_sport_court",
            "multi_sport_court",
            min_land_area_m2=800.0,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["multi_sport_court"],
            added_venue_area_m2=settings.TYPICAL_AREA_M2["multi_sport_court"],
            label="court",
        ),
        "sports_health_centre": SitingRule(
            "sports_health_centre",
            "sports_health_centre",
            min_land_area_m2=1_500.0,
            service_distance_m=settings.DEFAULT_AGE_DISTANCE_M,
            added_venue_area_m2=settings.TYPICAL_AREA_M2["sports_health_centre"],
            label="sports-health centre",
            weight_column="population_60plus",
        ),
    }
)

#: Names accepted for a type on the command line and in ``plan``.
SITE_TYPE_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "sports_park": "sports_park",
        "fitness_centre": "fitness_centre",
        "fitness_center": "fitness_centre",
        "centre": "fitness_centre",
        "multi_sport_court": "multi_sport_court",
        "court": "multi_sport_court",
        "sports_health_centre": "sports_health_centre",
        "health_centre": "sports_health_centre",
    }
)

#: The plan's new facilities (Ordos 2024 model-city work plan, 鄂府办发〔2024〕52号):
#: 1 sports park, 3 small fitness centres, 3 multi-sport courts, 2 sports-health centres.
DEFAULT_PLAN: Final[Mapping[str, int]] = MappingProxyType(
    {"sports_park": 1, "fitness_centre": 3, "multi_sport_court": 3, "sports_health_centre": 2}
)


def resolve_site_type(name: str, rules: Mapping[str, SitingRule] = DEFAULT_RULES) -> str:
    """Return the rule key for a type name or alias (``"court"`` -> ``"multi_sport_court"``).

    Parameters
    ----------
    name : str
        A key of ``rules`` or an alias in :data:`SITE_TYPE_ALIASES`.
    rules : mapping, optional
        The rule table.

    Returns
    -------
    str
    """
    key = name.strip().lower().replace("-", "_")
    if key in rules:
        return key
    key = SITE_TYPE_ALIASES.get(key, key)
    if key not in rules:
        accepted = sorted(set(rules) | {a for a, k in SITE_TYPE_ALIASES.items() if k in rules})
        msg = f"unknown site type {name!r}; use one of {', '.join(accepted)}"
        raise InputDataError(msg)
    return key


# ---------------------------------------------------------------------------
# The optimisation engine (shared by the single-type and the combined model)
# ---------------------------------------------------------------------------


@dataclass
class _Layer:
    """One facility type inside the engine (demand aggregated, candidates eligible)."""

    key: str
    p: int
    sites: np.ndarray  # candidate positions eligible for this layer (sorted)
    cover: scipy.sparse.csr_matrix  # len(sites) x n_groups, 1.0 where site covers group
    group_weight: np.ndarray  # weight of each group (uncovered demand only)
    demand_group: np.ndarray  # per original demand: group index, -1 if not coverable / locked / zero
    capacity: np.ndarray | None  # per layer-site capacity (weight units) or None
    n_locked_demand: int = 0
    locked_weight: float = 0.0


def _as_coverage(matrix: Any, n_candidates: int | None, n_demand: int, name: str) -> scipy.sparse.csr_matrix:
    cover = scipy.sparse.csr_matrix(matrix, dtype=float)
    if cover.shape[1] != n_demand:
        msg = f"{name}: coverage has {cover.shape[1]} demand columns but demand_weights has {n_demand} entries"
        raise InputDataError(msg)
    if n_candidates is not None and cover.shape[0] != n_candidates:
        msg = f"{name}: coverage has {cover.shape[0]} candidate rows, expected {n_candidates}"
        raise InputDataError(msg)
    cover.data[:] = 1.0
    cover.eliminate_zeros()
    cover.sum_duplicates()
    cover.data[:] = 1.0
    cover.sort_indices()
    return cover


def _as_mask(values: Any, n: int, name: str) -> np.ndarray:
    """Boolean mask of length ``n`` from a mask or a list of positions."""
    if values is None:
        return np.zeros(n, dtype=bool)
    array = np.asarray(values)
    if array.dtype == bool:
        if array.shape != (n,):
            msg = f"{name}: boolean mask has shape {array.shape}, expected ({n},)"
            raise InputDataError(msg)
        return array.copy()
    mask = np.zeros(n, dtype=bool)
    positions = array.astype(np.int64).ravel()
    if positions.size and (positions.min() < 0 or positions.max() >= n):
        msg = f"{name}: positions must lie in 0..{n - 1}"
        raise InputDataError(msg)
    mask[positions] = True
    return mask


def _aggregate(
    by_row: scipy.sparse.csr_matrix, weights: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray, scipy.sparse.csr_matrix]:
    """Merge the active rows of ``by_row`` (demand x sites) that have the same set of sites (exact).

    Returns each row's group (-1 if inactive), each group's summed weight and
    the sites x groups incidence.
    """
    by_row.sort_indices()
    row_group = np.full(by_row.shape[0], -1, dtype=np.int64)
    keys: dict[bytes, int] = {}
    indptr, indices = by_row.indptr, by_row.indices
    for i in np.flatnonzero(active).tolist():
        row_group[i] = keys.setdefault(indices[indptr[i] : indptr[i + 1]].tobytes(), len(keys))
    n_groups = len(keys)
    group_weight = np.bincount(row_group[active], weights=weights[active], minlength=n_groups)
    representative = np.full(n_groups, -1, dtype=np.int64)
    active_idx = np.flatnonzero(active)
    representative[row_group[active_idx[::-1]]] = active_idx[::-1]
    rep_rows = by_row[representative] if n_groups else scipy.sparse.csr_matrix((0, by_row.shape[1]))
    group_cover = scipy.sparse.csr_matrix(rep_rows.T, dtype=float)
    group_cover.sort_indices()
    return row_group, group_weight, group_cover


def _make_layer(
    key: str,
    weights: np.ndarray,
    cover_all: scipy.sparse.csr_matrix,
    *,
    p: int,
    eligible: np.ndarray,
    locked_demand: np.ndarray,
    capacity: np.ndarray | None,
) -> _Layer:
    """Aggregate demand with identical covering sets; drop locked, zero and uncoverable demand."""
    sites = np.flatnonzero(eligible)
    by_demand = cover_all[sites].T.tocsr()
    active = (np.diff(by_demand.indptr) > 0) & (weights > 0) & ~locked_demand
    demand_group, group_weight, group_cover = _aggregate(by_demand, weights, active)
    layer_capacity = None if capacity is None else np.asarray(capacity, dtype=float)[sites]
    return _Layer(
        key=key,
        p=int(p),
        sites=sites,
        cover=group_cover,
        group_weight=group_weight,
        demand_group=demand_group,
        capacity=layer_capacity,
        n_locked_demand=int(locked_demand.sum()),
        locked_weight=float(weights[locked_demand].sum()),
    )


def _site_positions(layers: Sequence[_Layer], picks: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(layer, candidate position) -> (layer, row of the layer's cover)."""
    return [(li, int(np.searchsorted(layers[li].sites, cand))) for li, cand in picks]


def _marginals(layers: Sequence[_Layer], picks: Sequence[tuple[int, int]]) -> tuple[float, list[np.ndarray]]:
    """Value of an uncapacitated set of picks and every site's marginal gain with respect to it."""
    value = 0.0
    gains = []
    chosen = _site_positions(layers, picks)
    for li, layer in enumerate(layers):
        counts = np.zeros(len(layer.group_weight))
        for lj, local in chosen:
            if lj == li:
                counts[layer.cover.indices[layer.cover.indptr[local] : layer.cover.indptr[local + 1]]] += 1
        value += float(layer.group_weight[counts > 0].sum())
        gains.append(np.asarray(layer.cover @ np.where(counts > 0, 0.0, layer.group_weight), dtype=float).ravel())
    return value, gains


def _top_sum(values: np.ndarray, k: int) -> float:
    if k <= 0 or len(values) == 0:
        return 0.0
    k = min(k, len(values))
    return float(np.partition(values, len(values) - k)[len(values) - k :].sum())


def _reduce_layers(
    layers: Sequence[_Layer], lower_bound: float, reference_sets: Sequence[Sequence[tuple[int, int]]] = ()
) -> list[_Layer]:
    """Drop sites that cannot be in any solution better than ``lower_bound`` (an exact reduction).

    For any set S, monotone submodular coverage gives
    ``f(S*) <= f(S) + sum of the marginal gains over S* of its sites w.r.t. S``;
    so a solution using site j for type t is worth at most ``f(S) + gain_j +
    the best p_t - 1 other gains of t + the best p_u gains of every other type
    u``. Sites whose bound (the least over the reference sets S, always
    including the empty set, i.e. standalone coverage) is below a known
    feasible value are in no optimal solution; the demand only they cover
    leaves the model too. With capacities only the empty set is used (the
    standalone value is capped by the capacity).
    """
    capacitated = any(layer.capacity is not None for layer in layers)
    references: list[Sequence[tuple[int, int]]] = [[]]
    if not capacitated:
        references.extend(reference_sets)
    bounds = [np.full(len(layer.sites), np.inf) for layer in layers]
    for reference in references:
        if capacitated:
            value = 0.0
            gains = [
                np.minimum(np.asarray(layer.cover @ layer.group_weight).ravel(), layer.capacity)
                if layer.capacity is not None
                else np.asarray(layer.cover @ layer.group_weight).ravel()
                for layer in layers
            ]
        else:
            value, gains = _marginals(layers, reference)
        tops = [(_top_sum(g, layer.p), _top_sum(g, layer.p - 1)) for layer, g in zip(layers, gains, strict=True)]
        total_top = sum(top for top, _ in tops)
        for li, (layer, g) in enumerate(zip(layers, gains, strict=True)):
            top_p, top_p1 = tops[li]
            kth = np.sort(g)[::-1][layer.p - 2] if 2 <= layer.p <= len(g) else math.inf
            others = np.where(g >= kth, top_p - g, top_p1)
            bounds[li] = np.minimum(bounds[li], value + g + others + (total_top - top_p))
    reduced = []
    tolerance = 1e-9 * max(1.0, abs(lower_bound))
    for layer, bound in zip(layers, bounds, strict=True):
        keep = bound >= lower_bound - tolerance
        if keep.all() or keep.sum() < layer.p:
            reduced.append(layer)
            continue
        by_group = layer.cover[np.flatnonzero(keep)].T.tocsr()
        active = np.diff(by_group.indptr) > 0
        new_group, group_weight, group_cover = _aggregate(by_group, layer.group_weight, active)
        inside = layer.demand_group >= 0
        demand_group = np.full(len(layer.demand_group), -1, dtype=np.int64)
        demand_group[inside] = new_group[layer.demand_group[inside]]
        reduced.append(
            replace(
                layer,
                sites=layer.sites[keep],
                cover=group_cover,
                group_weight=group_weight,
                demand_group=demand_group,
                capacity=None if layer.capacity is None else layer.capacity[keep],
            )
        )
    return reduced


def _local_search(
    layers: Sequence[_Layer],
    picks: Sequence[tuple[int, int]],
    costs: np.ndarray | None,
    budget: float | None,
    n_candidates: int,
    *,
    max_rounds: int = 200,
) -> tuple[list[tuple[int, int]], float]:
    """Best-improvement 1-swap local search from ``picks`` (uncapacitated); returns picks and value.

    Each round evaluates, for every chosen site, all replacements of its type
    with one sparse product; the best strictly improving swap that keeps one
    new facility per site and the budget is made; ties go to the lower
    position. Used to warm-start and to tighten the reduction of the MILP.
    """
    chosen = _site_positions(layers, picks)
    counts = [np.zeros(len(layer.group_weight)) for layer in layers]
    for li, local in chosen:
        cover = layers[li].cover
        counts[li][cover.indices[cover.indptr[local] : cover.indptr[local + 1]]] += 1
    used = np.zeros(n_candidates, dtype=bool)
    used[[cand for _, cand in picks]] = True
    spent = 0.0 if costs is None else float(sum(costs[cand] for _, cand in picks))
    value = sum(float(layer.group_weight[c > 0].sum()) for layer, c in zip(layers, counts, strict=True))
    for _ in range(max_rounds):
        best = None
        best_delta = 1e-9 * max(1.0, value)
        for index, (li, local) in enumerate(chosen):
            layer = layers[li]
            rows = layer.cover.indices[layer.cover.indptr[local] : layer.cover.indptr[local + 1]]
            only = rows[counts[li][rows] == 1]
            loss = float(layer.group_weight[only].sum())
            free = np.where(counts[li] > 0, 0.0, layer.group_weight)
            free[only] = layer.group_weight[only]
            delta = np.asarray(layer.cover @ free, dtype=float).ravel() - loss
            delta[used[layer.sites]] = -np.inf
            if costs is not None and budget is not None:
                over = spent - costs[layer.sites[local]] + costs[layer.sites] > budget + 1e-9
                delta[over] = -np.inf
            k = int(np.argmax(delta))
            if delta[k] > best_delta:
                best, best_delta = (index, k), float(delta[k])
        if best is None:
            break
        index, k = best
        li, local = chosen[index]
        layer = layers[li]
        counts[li][layer.cover.indices[layer.cover.indptr[local] : layer.cover.indptr[local + 1]]] -= 1
        counts[li][layer.cover.indices[layer.cover.indptr[k] : layer.cover.indptr[k + 1]]] += 1
        used[layer.sites[local]] = False
        used[layer.sites[k]] = True
        if costs is not None:
            spent += float(costs[layer.sites[k]] - costs[layer.sites[local]])
        chosen[index] = (li, k)
        value += best_delta
    return [(li, int(layers[li].sites[local])) for li, local in chosen], value


@dataclass
class _GreedyOutcome:
    picks: list[tuple[int, int, float]]  # (layer, candidate position, marginal gain) in pick order
    objective: float
    upper_bound: float  # valid bound on the optimum (inf when unknown)


def _greedy(
    layers: Sequence[_Layer],
    costs: np.ndarray | None,
    budget: float | None,
    n_candidates: int,
    minimums: Sequence[tuple[np.ndarray, int]] = (),
) -> _GreedyOutcome:
    """Lazy greedy over (layer, site) pairs.

    Ties in marginal gain go to the larger standalone gain (what the site
    covers on its own), then to the lower candidate position, then layer order.
    With ``minimums`` (disjoint candidate groups, each needing at least so many
    chosen sites) a pick is deferred while taking it would leave too few picks
    for the groups still short, as with the budget.

    Marginal gains only shrink as sites are added (coverage is submodular; the
    capacitated gain ``min(cap, uncovered weight)`` also only shrinks), so a
    stale heap entry is an upper bound and a fresh entry on top is the true
    maximum (Minoux's accelerated greedy).
    """
    remaining = [layer.group_weight.astype(float).copy() for layer in layers]
    quota = [layer.p for layer in layers]
    site_used = np.zeros(n_candidates, dtype=bool)
    budget_left = math.inf if budget is None else float(budget)
    cost = np.zeros(n_candidates) if costs is None else costs

    def gain(li: int, local: int) -> float:
        layer = layers[li]
        start, end = layer.cover.indptr[local], layer.cover.indptr[local + 1]
        total = float(remaining[li][layer.cover.indices[start:end]].sum())
        if layer.capacity is not None:
            return min(total, float(layer.capacity[local]))
        return total

    heap: list[tuple[float, float, int, int, int]] = []  # (-gain, -standalone gain, candidate, layer, local)
    stored = []
    standalone = []
    for li, layer in enumerate(layers):
        values = np.array([gain(li, k) for k in range(len(layer.sites))], dtype=float)
        stored.append(values)
        standalone.append(values.copy())
        heap.extend((-values[k], -values[k], int(layer.sites[k]), li, k) for k in range(len(layer.sites)))
    heapq.heapify(heap)
    fresh_round = [np.zeros(len(layer.sites), dtype=np.int64) for layer in layers]

    uncapacitated = all(layer.capacity is None for layer in layers)

    def online_bound(objective: float) -> float:
        # f(S*) <= f(S) + sum over layers of the p largest marginal gains w.r.t. S (stale gains are upper bounds).
        if not uncapacitated:
            return math.inf
        extra = 0.0
        for li, layer in enumerate(layers):
            values = stored[li]
            k = min(layer.p, len(values))
            if k:
                extra += float(np.sort(values)[-k:].sum())
        return objective + extra

    group_left = [int(need) for _, need in minimums]

    def starves_groups(cand: int) -> bool:
        short = sum(max(0, need - int(mask[cand])) for (mask, _), need in zip(minimums, group_left, strict=True))
        return short > sum(quota) - 1

    objective = 0.0
    bound = online_bound(0.0)
    picks: list[tuple[int, int, float]] = []
    round_no = 0
    deferred: list[tuple[float, float, int, int, int]] = []
    while sum(quota) > 0 and heap:
        neg, neg_alone, cand, li, local = heapq.heappop(heap)
        if quota[li] == 0 or site_used[cand]:
            continue
        if fresh_round[li][local] != round_no:
            value = gain(li, local)
            stored[li][local] = value
            fresh_round[li][local] = round_no
            heapq.heappush(heap, (-value, neg_alone, cand, li, local))
            continue
        if cost[cand] + _budget_reserve(layers, quota, li, site_used, cand, cost) > budget_left + 1e-9 or (
            minimums and starves_groups(cand)
        ):
            deferred.append((neg, neg_alone, cand, li, local))
            continue
        # Accept.
        value = -neg
        layer = layers[li]
        start, end = layer.cover.indptr[local], layer.cover.indptr[local + 1]
        groups = layer.cover.indices[start:end]
        if layer.capacity is None:
            remaining[li][groups] = 0.0
        else:
            total = float(remaining[li][groups].sum())
            if total > 0:
                remaining[li][groups] *= 1.0 - min(1.0, value / total)
        objective += value
        picks.append((li, cand, value))
        stored[li][local] = 0.0
        quota[li] -= 1
        site_used[cand] = True
        budget_left -= float(cost[cand])
        group_left = [need - int(mask[cand]) for (mask, _), need in zip(minimums, group_left, strict=True)]
        round_no += 1
        for entry in deferred:
            heapq.heappush(heap, entry)
        deferred.clear()
        bound = min(bound, online_bound(objective))
    if sum(quota) > 0:
        short = ", ".join(f"{layers[i].key}: {q} more" for i, q in enumerate(quota) if q)
        why = (
            "the budget"
            if budget is not None
            else "the group minimums" if minimums else "too few distinct candidate sites"
        )
        msg = f"greedy could not place every site ({short}): {why} does not allow it; try method='exact' or relax it"
        raise InfeasibleError(msg)
    return _GreedyOutcome(picks=picks, objective=objective, upper_bound=max(bound, objective))


def _budget_reserve(
    layers: Sequence[_Layer], quota: list[int], li: int, site_used: np.ndarray, cand: int, cost: np.ndarray
) -> float:
    """Cheapest cost of filling the other remaining quotas if ``cand`` is taken (overlaps ignored)."""
    if not cost.any():
        return 0.0
    reserve = 0.0
    for lj, layer in enumerate(layers):
        need = quota[lj] - (1 if lj == li else 0)
        if need <= 0:
            continue
        free = layer.sites[~site_used[layer.sites] & (layer.sites != cand)]
        reserve += float(np.sort(cost[free])[:need].sum())
    return reserve


@dataclass
class _MilpOutcome:
    picks: list[tuple[int, int]]  # (layer, candidate position)
    objective: float
    dual_bound: float
    status: str
    seconds: float


def _build_lp(
    layers: Sequence[_Layer],
    costs: np.ndarray | None,
    budget: float | None,
    *,
    integer: bool,
    minimums: Sequence[tuple[np.ndarray, int]] = (),
) -> tuple[Any, list[np.ndarray]]:
    """Rowwise HighsLp of the (combined) MCLP; returns the LP and each layer's x column offsets."""
    import highspy

    col_cost: list[np.ndarray] = []
    col_upper: list[np.ndarray] = []
    row_lower: list[np.ndarray] = []
    row_upper: list[np.ndarray] = []
    x_columns: list[np.ndarray] = []
    n_cols = 0
    triplets_r: list[np.ndarray] = []
    triplets_c: list[np.ndarray] = []
    triplets_v: list[np.ndarray] = []
    n_rows = 0

    def add_rows(matrix: scipy.sparse.spmatrix, col_offset_map: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        nonlocal n_rows
        coo = scipy.sparse.coo_matrix(matrix)
        triplets_r.append(coo.row.astype(np.int64) + n_rows)
        triplets_c.append(col_offset_map[coo.col])
        triplets_v.append(coo.data.astype(float))
        row_lower.append(lower)
        row_upper.append(upper)
        n_rows += matrix.shape[0]

    for layer in layers:
        n_sites = len(layer.sites)
        n_groups = len(layer.group_weight)
        x_cols = np.arange(n_cols, n_cols + n_sites)
        x_columns.append(x_cols)
        col_cost.append(np.zeros(n_sites))
        col_upper.append(np.ones(n_sites))
        n_cols += n_sites
        if layer.capacity is None:
            y_cols = np.arange(n_cols, n_cols + n_groups)
            col_cost.append(layer.group_weight)
            col_upper.append(np.ones(n_groups))
            n_cols += n_groups
            # y_g - sum_{j covers g} x_j <= 0
            matrix = scipy.sparse.hstack([-layer.cover.T, scipy.sparse.identity(n_groups)]).tocsr()
            add_rows(matrix, np.concatenate([x_cols, y_cols]), np.full(n_groups, -np.inf), np.zeros(n_groups))
        else:
            # z_jg for every (site, group) pair of the cover: share of group g served by site j.
            cover = layer.cover.tocoo()
            n_pairs = cover.nnz
            z_cols = np.arange(n_cols, n_cols + n_pairs)
            col_cost.append(layer.group_weight[cover.col])
            col_upper.append(np.ones(n_pairs))
            n_cols += n_pairs
            pair = np.arange(n_pairs)
            # sum_j z_jg <= 1
            served = scipy.sparse.csr_matrix((np.ones(n_pairs), (cover.col, pair)), shape=(n_groups, n_pairs))
            add_rows(served, z_cols, np.full(n_groups, -np.inf), np.ones(n_groups))
            # z_jg - x_j <= 0
            link = scipy.sparse.hstack(
                [
                    scipy.sparse.csr_matrix((-np.ones(n_pairs), (pair, cover.row)), shape=(n_pairs, n_sites)),
                    scipy.sparse.identity(n_pairs),
                ]
            )
            add_rows(link, np.concatenate([x_cols, z_cols]), np.full(n_pairs, -np.inf), np.zeros(n_pairs))
            # sum_g w_g z_jg - cap_j x_j <= 0
            load = scipy.sparse.hstack(
                [
                    scipy.sparse.diags(-layer.capacity),
                    scipy.sparse.csr_matrix(
                        (layer.group_weight[cover.col], (cover.row, pair)), shape=(n_sites, n_pairs)
                    ),
                ]
            )
            add_rows(load, np.concatenate([x_cols, z_cols]), np.full(n_sites, -np.inf), np.zeros(n_sites))
        # sum_j x_j = p
        add_rows(scipy.sparse.csr_matrix(np.ones((1, n_sites))), x_cols, np.array([layer.p]), np.array([layer.p]))

    # One new facility per candidate site across types.
    site_layers: dict[int, list[int]] = {}
    for layer, x_cols in zip(layers, x_columns, strict=True):
        for site, col in zip(layer.sites.tolist(), x_cols.tolist(), strict=True):
            site_layers.setdefault(site, []).append(col)
    shared = [cols for cols in site_layers.values() if len(cols) > 1]
    if shared:
        rows = np.repeat(np.arange(len(shared)), [len(c) for c in shared])
        cols = np.concatenate([np.asarray(c) for c in shared])
        matrix = scipy.sparse.csr_matrix(
            (np.ones(len(cols)), (rows, np.arange(len(cols)))), shape=(len(shared), len(cols))
        )
        add_rows(matrix, cols, np.full(len(shared), -np.inf), np.ones(len(shared)))
    if budget is not None and costs is not None:
        all_x = np.concatenate(x_columns)
        site_cost = np.concatenate([costs[layer.sites] for layer in layers])
        add_rows(scipy.sparse.csr_matrix(site_cost[None, :]), all_x, np.array([-np.inf]), np.array([float(budget)]))
    for mask, need in minimums:
        # sum of the x of the group's sites (over every type) >= need
        cols = np.concatenate([x_cols[mask[layer.sites]] for layer, x_cols in zip(layers, x_columns, strict=True)])
        add_rows(scipy.sparse.csr_matrix(np.ones((1, len(cols)))), cols, np.array([float(need)]), np.array([np.inf]))

    matrix = scipy.sparse.csr_matrix(
        (np.concatenate(triplets_v), (np.concatenate(triplets_r), np.concatenate(triplets_c))), shape=(n_rows, n_cols)
    )
    matrix.sum_duplicates()
    matrix.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = np.concatenate(col_cost).astype(float)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.concatenate(col_upper).astype(float)
    lp.row_lower_ = np.concatenate(row_lower).astype(float)
    lp.row_upper_ = np.concatenate(row_upper).astype(float)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    if integer:
        integrality = [highspy.HighsVarType.kContinuous] * n_cols
        for x_cols in x_columns:
            for col in x_cols.tolist():
                integrality[col] = highspy.HighsVarType.kInteger
        lp.integrality_ = integrality
    return lp, x_columns


def _solve_lp(
    layers: Sequence[_Layer],
    costs: np.ndarray | None,
    budget: float | None,
    *,
    integer: bool,
    time_limit_s: float | None,
    mip_rel_gap: float,
    warm_start: Sequence[tuple[int, int]] | None = None,
    lower_bound: float | None = None,
    reference_sets: Sequence[Sequence[tuple[int, int]]] | None = None,
    minimums: Sequence[tuple[np.ndarray, int]] = (),
) -> _MilpOutcome:
    import highspy

    started = time.perf_counter()
    if lower_bound is not None:
        before = sum(len(layer.sites) for layer in layers)
        layers = _reduce_layers(layers, lower_bound, reference_sets or ())
        logger.debug("siting: bound reduction kept %s of %s sites", sum(len(layer.sites) for layer in layers), before)
    lp, x_columns = _build_lp(layers, costs, budget, integer=integer, minimums=minimums)
    highs = new_highs()
    highs.setOptionValue("random_seed", 0)
    if integer:
        highs.setOptionValue("mip_rel_gap", float(mip_rel_gap))
        highs.setOptionValue("mip_abs_gap", 1e-7)
    if time_limit_s is not None:
        highs.setOptionValue("time_limit", float(time_limit_s))
    status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the siting model (passModel returned an error); this is a bug, please report it"
        raise SolverError(msg)
    if integer and warm_start:
        chosen = set(warm_start)
        index, value = [], []
        for li, (layer, x_cols) in enumerate(zip(layers, x_columns, strict=True)):
            for site, col in zip(layer.sites.tolist(), x_cols.tolist(), strict=True):
                index.append(col)
                value.append(1.0 if (li, site) in chosen else 0.0)
        highs.setSolution(len(index), np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float))
    highs.run()
    model_status = highs.getModelStatus()
    status_name = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    if model_status == highspy.HighsModelStatus.kInfeasible:
        msg = (
            f"HiGHS: the siting model is infeasible (status {status_name!r}): the budget, the one-facility-per-site "
            "rule or the number of eligible candidates cannot give every type its p sites; raise the budget, add "
            "candidates or lower p"
        )
        raise InfeasibleError(msg)
    if model_status != highspy.HighsModelStatus.kOptimal:
        best = info.objective_function_value if integer else float("nan")
        msg = (
            f"HiGHS stopped with status {status_name!r} (best objective found {best:,.1f}); "
            "raise time_limit_s or use method='greedy'"
        )
        raise SolverError(msg)
    values = np.asarray(highs.getSolution().col_value)
    picks = []
    if integer:
        for li, (layer, x_cols) in enumerate(zip(layers, x_columns, strict=True)):
            for site in layer.sites[values[x_cols] > 0.5].tolist():
                picks.append((li, int(site)))
    objective = float(info.objective_function_value)
    dual_bound = float(info.mip_dual_bound) if integer else objective
    return _MilpOutcome(
        picks=picks,
        objective=objective,
        dual_bound=dual_bound,
        status=status_name,
        seconds=time.perf_counter() - started,
    )


def _evaluate(layers: Sequence[_Layer], picks: Sequence[tuple[int, int]]) -> tuple[float, list[float]]:
    """Objective of a set of (layer, candidate) picks and each pick's marginal gain in the given order.

    With capacities the value is the greedy's proportional assignment, a lower
    bound on the best assignment of the same sites.
    """
    outcome_gains = []
    remaining = [layer.group_weight.astype(float).copy() for layer in layers]
    position = [{int(s): k for k, s in enumerate(layer.sites.tolist())} for layer in layers]
    for li, cand in picks:
        layer = layers[li]
        local = position[li][cand]
        start, end = layer.cover.indptr[local], layer.cover.indptr[local + 1]
        groups = layer.cover.indices[start:end]
        total = float(remaining[li][groups].sum())
        if layer.capacity is None:
            value = total
            remaining[li][groups] = 0.0
        else:
            value = min(total, float(layer.capacity[local]))
            if total > 0:
                remaining[li][groups] *= 1.0 - min(1.0, value / total)
        outcome_gains.append(value)
    return float(sum(outcome_gains)), outcome_gains


def _order_picks(layers: Sequence[_Layer], picks: Sequence[tuple[int, int]]) -> list[tuple[int, int, float]]:
    """Order a chosen set by greedy marginal gain within it (largest first, ties by position), with gains."""
    left = sorted(picks, key=lambda pick: (pick[1], pick[0]))
    ordered: list[tuple[int, int]] = []
    while left:
        best, best_value = None, -math.inf
        base, _ = _evaluate(layers, ordered)
        for pick in left:
            value, _ = _evaluate(layers, [*ordered, pick])
            if value - base > best_value + 1e-12:
                best, best_value = pick, value - base
        ordered.append(best)
        left.remove(best)
    _, gains = _evaluate(layers, ordered)
    return [(li, cand, g) for (li, cand), g in zip(ordered, gains, strict=True)]


def _check_counts(layers: Sequence[_Layer], n_candidates: int, excluded: Mapping[str, str] | None = None) -> None:
    for layer in layers:
        if layer.p < 1:
            msg = f"{layer.key}: p must be at least 1, got {layer.p}"
            raise InputDataError(msg)
        if layer.p > len(layer.sites):
            why = (excluded or {}).get(layer.key, "")
            why = f" ({why})" if why else ""
            msg = (
                f"{layer.key}: p={layer.p} sites requested but only {len(layer.sites)} of {n_candidates} candidates "
                f"are eligible{why}; add candidates, relax the rule or lower p"
            )
            raise InfeasibleError(msg)
    union = set()
    for layer in layers:
        union.update(layer.sites.tolist())
    total = sum(layer.p for layer in layers)
    if total > len(union):
        msg = (
            f"the plan needs {total} sites but only {len(union)} distinct candidates are eligible for any type "
            "(one new facility per site); add candidates or lower p"
        )
        raise InfeasibleError(msg)


def _check_minimums(layers: Sequence[_Layer], minimums: Sequence[tuple[np.ndarray, int]]) -> None:
    eligible = np.zeros(len(minimums[0][0]) if minimums else 0, dtype=bool)
    for layer in layers:
        eligible[layer.sites[layer.sites < len(eligible)]] = True
    for k, (mask, need) in enumerate(minimums):
        have = int((mask & eligible).sum())
        if need > have:
            msg = f"minimums[{k}]: {need} sites required in a group with only {have} eligible candidates; lower it"
            raise InfeasibleError(msg)
    total = sum(layer.p for layer in layers)
    if sum(need for _, need in minimums) > total:
        msg = f"the group minimums add up to more than the {total} sites to choose; raise p or lower them"
        raise InfeasibleError(msg)


def _check_budget(layers: Sequence[_Layer], costs: np.ndarray | None, budget: float | None) -> None:
    if budget is None:
        return
    if costs is None:
        msg = "budget given without costs; pass costs (one per candidate, same unit as the budget)"
        raise InputDataError(msg)
    cheapest = 0.0
    for layer in layers:
        cheapest += float(np.sort(costs[layer.sites])[: layer.p].sum())
    if cheapest > budget + 1e-9:
        msg = (
            f"budget {budget:,.2f} cannot pay for the plan: the cheapest eligible sites alone cost {cheapest:,.2f} "
            f"({', '.join(f'{layer.key}: {layer.p}' for layer in layers)}); raise the budget or lower p"
        )
        raise InfeasibleError(msg)


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


# ---------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------

#: Candidate columns every ``candidates_from_*`` returns, in order.
CANDIDATE_COLUMNS: Final[tuple[str, ...]] = (
    "candidate_id",
    "name",
    "source",
    "land_type",
    "area_m2",
    "cost",
    "capacity",
)

#: OSM tags to read for generated candidates (``io.read_osm_features(path, CANDIDATE_OSM_TAGS)``):
#: vacant or green land, parks (kept when they carry no ``sport``), school grounds.
CANDIDATE_OSM_TAGS: Final[Mapping[str, list[str]]] = MappingProxyType(
    {
        "landuse": ["grass", "brownfield", "greenfield"],
        "leisure": ["park"],
        "amenity": ["school"],
    }
)

#: School grounds smaller than this (m²) are not offered as candidates.
DEFAULT_MIN_SCHOOL_GROUNDS_M2: Final[float] = 10_000.0


def _require_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None:
        msg = f"{what} has no CRS; set it (e.g. gdf.set_crs(4326)) before siting"
        raise InputDataError(msg)


def _metric_areas(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Polygon areas in m² (computed in a metric CRS when the frame is geographic); NaN for points/lines."""
    from ordos_geo._crs import metric_crs_for

    geoms = gdf.geometry
    if gdf.crs is not None and gdf.crs.is_geographic:
        geoms = geoms.to_crs(metric_crs_for(gdf))
    areas = geoms.area.to_numpy(dtype=float)
    is_polygon = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    return np.where(is_polygon, areas, np.nan)


def _finish_candidates(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for column in CANDIDATE_COLUMNS:
        if column not in frame:
            frame[column] = np.nan if column in ("area_m2", "cost", "capacity") else None
    extra = [c for c in frame.columns if c not in CANDIDATE_COLUMNS and c != frame.geometry.name]
    frame = frame[[*CANDIDATE_COLUMNS, *extra, frame.geometry.name]]
    return frame.reset_index(drop=True)


def candidates_from_file(gdf: gpd.GeoDataFrame, *, what: str = "candidates") -> gpd.GeoDataFrame:
    """Candidate sites from a user table of points or parcels.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Points or (Multi)Polygons with a CRS. Optional columns: ``candidate_id``
        (default ``"cand_<row>"``), ``name``, ``area_m2`` (land area, m²; for
        parcels without it the polygon area is computed in a metric CRS; points
        without it have unknown area), ``cost`` (any currency, >= 0),
        ``land_type`` and ``capacity`` (residents).
    what : str, default "candidates"
        Name of the input in error messages (e.g. the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`CANDIDATE_COLUMNS` + other input columns + geometry, same CRS,
        ``source == "file"``.
    """
    _require_crs(gdf, what)
    if len(gdf) == 0:
        msg = f"{what} is empty: give at least one candidate site or leave it out to generate candidates"
        raise InfeasibleError(msg)
    types = gdf.geometry.geom_type
    bad = ~types.isin(["Point", "Polygon", "MultiPolygon"]) | gdf.geometry.is_empty.to_numpy()
    if bad.any():
        from ordos_geo._validate import describe_rows

        rows = describe_rows((np.flatnonzero(bad.to_numpy()) + 1).tolist())
        msg = f"{what}: geometry must be Point or (Multi)Polygon; {rows} are {sorted(set(types[bad].astype(str)))}"
        raise InputDataError(msg)
    frame = gpd.GeoDataFrame(gdf.copy(), geometry=gdf.geometry.name, crs=gdf.crs)
    if "candidate_id" in frame:
        ids = frame["candidate_id"].astype(str)
        if ids.duplicated().any():
            dup = sorted(set(ids[ids.duplicated()]))[:5]
            msg = f"{what}: column `candidate_id` has duplicates ({', '.join(dup)}); ids must be unique"
            raise InputDataError(msg)
        frame["candidate_id"] = ids
    else:
        frame["candidate_id"] = [f"cand_{i + 1}" for i in range(len(frame))]
    computed = _metric_areas(frame)
    if "area_m2" in frame:
        given = pd.to_numeric(frame["area_m2"], errors="coerce").to_numpy(dtype=float)
        negative = np.flatnonzero(given < 0)
        if negative.size:
            rows = (negative + 1).tolist()[:10]
            msg = f"{what}: column `area_m2` has {negative.size} negative values (rows {rows}); land areas are m² >= 0"
            raise InputDataError(msg)
        frame["area_m2"] = np.where(np.isnan(given), computed, given)
    else:
        frame["area_m2"] = computed
    for column in ("cost", "capacity"):
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            if (values < 0).any():
                msg = f"{what}: column `{column}` has negative values; fix them or drop the column"
                raise InputDataError(msg)
            frame[column] = values
    if "name" not in frame:
        frame["name"] = frame["candidate_id"]
    frame["name"] = frame["name"].where(frame["name"].notna(), frame["candidate_id"]).astype(str)
    if "land_type" not in frame:
        frame["land_type"] = "parcel"
    frame["source"] = "file"
    logger.info("siting: %s candidates from %s", f"{len(frame):,}", what)
    return _finish_candidates(frame)


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key in features:
        return features[key].astype("object").where(features[key].notna(), None)
    return pd.Series([None] * len(features), index=features.index, dtype="object")


def candidates_from_osm(
    features: gpd.GeoDataFrame, *, min_school_grounds_m2: float = DEFAULT_MIN_SCHOOL_GROUNDS_M2
) -> gpd.GeoDataFrame:
    """Candidate sites on vacant or green land in an OSM extract.

    Kept (polygons only; points and lines have no land area):

    - ``landuse`` in ``grass``, ``brownfield``, ``greenfield`` (vacant or
      green land);
    - ``leisure=park`` without a ``sport`` tag (a park with no sports yet);
    - ``amenity=school`` grounds of at least ``min_school_grounds_m2``
      (opening school venues to the public is part of the plan).

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        OSM features with one column per tag (``landuse``, ``leisure``,
        ``amenity``, ``sport``, ``name``; missing columns mean the tag is
        absent), e.g. from ``io.read_osm_features(path, CANDIDATE_OSM_TAGS)``.
        Any CRS; areas are computed in metres.
    min_school_grounds_m2 : float, default 10,000
        Smallest school grounds offered (m²).

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates (:data:`CANDIDATE_COLUMNS`), ``source == "osm"``, sorted by
        ``candidate_id`` (``osm_<type><id>``, e.g. ``osm_way123``, or ``osm_row<i>``), same CRS as
        ``features``.
    """
    _require_crs(features, "OSM features")
    if len(features) == 0:
        return _finish_candidates(gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=features.crs))
    landuse, leisure, amenity, sport = (_tag(features, k) for k in ("landuse", "leisure", "amenity", "sport"))
    is_polygon = features.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area = _metric_areas(features)
    vacant = landuse.isin(["grass", "brownfield", "greenfield"]).to_numpy()
    no_sport = sport.isna() | (sport.astype(str).str.strip() == "")
    park = ((leisure == "park") & no_sport).to_numpy()
    school = ((amenity == "school").to_numpy()) & (np.nan_to_num(area) >= min_school_grounds_m2)
    keep = is_polygon & (vacant | park | school)
    land_type = np.where(vacant, landuse.to_numpy(dtype=object), np.where(park, "park", "school_grounds"))
    if "osm_id" in features:
        kinds = _tag(features, "osm_type").fillna("").astype(str).to_numpy()
        osm_ids = np.array(
            [f"{k}{i}" for k, i in zip(kinds, features["osm_id"].astype(str), strict=True)], dtype=object
        )
    elif "osmid" in features:
        osm_ids = features["osmid"].astype(str).to_numpy()
    elif features.index.nlevels > 1:
        osm_ids = np.array(["".join(map(str, idx)) for idx in features.index], dtype=object)
    else:
        osm_ids = np.array([f"row{i}" for i in range(len(features))], dtype=object)
    names = _tag(features, "name").to_numpy(dtype=object)
    frame = gpd.GeoDataFrame(
        {
            "candidate_id": [f"osm_{i}" for i in osm_ids[keep]],
            "name": [
                n if n else f"{t.replace('_', ' ')} (OSM {i})"
                for n, t, i in zip(names[keep], land_type[keep], osm_ids[keep], strict=True)
            ],
            "source": "osm",
            "land_type": land_type[keep],
            "area_m2": area[keep],
            "cost": np.nan,
            "capacity": np.nan,
        },
        geometry=features.geometry.to_numpy()[keep],
        crs=features.crs,
    )
    frame = frame.drop_duplicates("candidate_id").sort_values("candidate_id", kind="stable")
    logger.info(
        "siting: %s OSM candidates (%s vacant/green, %s parks, %s school grounds) of %s features",
        f"{len(frame):,}",
        int((keep & vacant).sum()),
        int((keep & park & ~vacant).sum()),
        int((keep & school & ~vacant & ~park).sum()),
        f"{len(features):,}",
    )
    return _finish_candidates(frame)


def candidates_from_underserved(network: WalkNetwork, underserved: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidate sites at the network node nearest each underserved neighbourhood's centre.

    The land available there is unknown: ``area_m2`` is NaN, which the rules
    accept for courts and fitness centres (small venues fit on a corner plot or
    a school yard; the planner checks the land) but not for the sports park
    (:attr:`SitingRule.unknown_area_ok`).

    Parameters
    ----------
    network : WalkNetwork
        The walk network (its metric CRS).
    underserved : geopandas.GeoDataFrame
        ``AccessibilityResult.underserved``: ``neighbourhood_id``, ``population``,
        ``district`` and polygon geometry; ``centroid_x``/``centroid_y`` (network
        CRS) when present, else the polygon centroids.

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates (:data:`CANDIDATE_COLUMNS`) in the network CRS, one per
        distinct node, ``source == "underserved"``.
    """
    if len(underserved) == 0:
        return _finish_candidates(gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=network.crs))
    _require_crs(underserved, "underserved neighbourhoods")
    frame = underserved.to_crs(network.crs) if not underserved.crs.equals(network.crs) else underserved
    if {"centroid_x", "centroid_y"} <= set(frame.columns) and frame.crs.equals(underserved.crs):
        xy = frame[["centroid_x", "centroid_y"]].to_numpy(dtype=float)
    else:
        centres = frame.geometry.centroid
        xy = np.column_stack([centres.x, centres.y])
    _, node = cKDTree(network.node_xy).query(xy)
    ids = (
        frame["neighbourhood_id"].astype(str).to_numpy()
        if "neighbourhood_id" in frame
        else np.arange(len(frame)).astype(str)
    )
    population = frame["population"].to_numpy(dtype=float) if "population" in frame else np.full(len(frame), np.nan)
    district = frame["district"].to_numpy(dtype=object) if "district" in frame else np.full(len(frame), None)
    table = pd.DataFrame({"node": node, "nid": ids, "population": population, "district": district})
    table = table.sort_values(["node", "population"], ascending=[True, False], kind="stable").drop_duplicates("node")
    out = gpd.GeoDataFrame(
        {
            "candidate_id": [f"underserved_{n}" for n in table["nid"]],
            "name": [
                f"street node at underserved neighbourhood {n}" + (f" ({d})" if isinstance(d, str) and d else "")
                for n, d in zip(table["nid"], table["district"], strict=True)
            ],
            "source": "underserved",
            "land_type": "unknown",
            "area_m2": np.nan,
            "cost": np.nan,
            "capacity": np.nan,
            "network_node": network.node_ids[table["node"].to_numpy()],
        },
        geometry=shapely.points(network.node_xy[table["node"].to_numpy()]),
        crs=network.crs,
    )
    out = out.sort_values("candidate_id", kind="stable")
    logger.info("siting: %s candidates at underserved neighbourhood centres", f"{len(out):,}")
    return _finish_candidates(out)


def eligible_candidates(candidates: gpd.GeoDataFrame, rule: SitingRule) -> tuple[np.ndarray, str]:
    """Which candidates a rule allows by land area, and a sentence saying what it excluded.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidates with ``area_m2`` (NaN = unknown).
    rule : SitingRule
        The type's rule.

    Returns
    -------
    mask : numpy.ndarray of bool
        True where the candidate's land is large enough (or unknown and the
        rule accepts unknown areas).
    explanation : str
        E.g. ``"37 smaller than 40,000 m² (largest 31,250 m²), 15 with unknown area"``.
    """
    area = (
        pd.to_numeric(candidates["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in candidates
        else np.full(len(candidates), np.nan)
    )
    unknown = np.isnan(area)
    large = ~unknown & (area >= rule.min_land_area_m2)
    mask = large | (unknown & rule.unknown_area_ok)
    parts = []
    small = ~unknown & ~large
    if small.any():
        parts.append(
            f"{int(small.sum())} smaller than {rule.min_land_area_m2:,.0f} m² "
            f"(largest of those {np.nanmax(area[small]):,.0f} m²)"
        )
    if unknown.any() and not rule.unknown_area_ok:
        parts.append(f"{int(unknown.sum())} with unknown land area (not accepted for {rule.site_type})")
    return mask, ", ".join(parts)


# ---------------------------------------------------------------------------
# From GeoDataFrames: walking distances -> coverage matrices
# ---------------------------------------------------------------------------


def _accessibility() -> Any:
    from ordos_geo import accessibility

    return accessibility


def _to_network_crs(gdf: gpd.GeoDataFrame, network: WalkNetwork, what: str) -> gpd.GeoDataFrame:
    _require_crs(gdf, what)
    if gdf.crs.equals(network.crs):
        return gdf
    return gdf.to_crs(network.crs)


def _cell_points(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cells as points (polygon centroids in the metric CRS); residents walk from there."""
    geometry = cells.geometry
    if not geometry.geom_type.eq("Point").all():
        geometry = geometry.centroid
    return gpd.GeoDataFrame({"cell": np.arange(len(cells))}, geometry=geometry.to_numpy(), crs=cells.crs)


def _pairs(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    max_snap_distance_m: float,
) -> pd.DataFrame:
    """Walking distances origin -> destination within ``max_distance_m``, one row per pair (minimum)."""
    if len(origins) == 0 or len(destinations) == 0:
        return pd.DataFrame({"origin": [], "destination": [], "distance_m": []}).astype(
            {"origin": np.int64, "destination": np.int64, "distance_m": float}
        )
    table = _accessibility().od_distances(
        network, origins, destinations, max_distance_m=max_distance_m, max_snap_distance_m=max_snap_distance_m
    )
    table = table[["origin", "destination", "distance_m"]]
    table = table[np.isfinite(table["distance_m"]) & (table["distance_m"] <= max_distance_m)]
    table = table.groupby(["origin", "destination"], as_index=False, sort=True)["distance_m"].min()
    return table.astype({"origin": np.int64, "destination": np.int64, "distance_m": float})


def _coverage_from_pairs(pairs: pd.DataFrame, n_sites: int, n_cells: int, radius_m: float) -> scipy.sparse.csr_matrix:
    near = pairs[pairs["distance_m"] <= radius_m]
    return scipy.sparse.csr_matrix(
        (np.ones(len(near)), (near["destination"].to_numpy(), near["origin"].to_numpy())), shape=(n_sites, n_cells)
    )


def _reachable(network: WalkNetwork, sites: gpd.GeoDataFrame, max_snap_distance_m: float) -> np.ndarray:
    """True where at least one access point of the site snaps to the network."""
    if len(sites) == 0:
        return np.zeros(0, dtype=bool)
    snapped = _accessibility().snap_points(network, sites, max_snap_distance_m=max_snap_distance_m)
    owner = np.asarray(snapped.owner)
    edge = np.asarray(snapped.edge)
    reachable = np.zeros(len(sites), dtype=bool)
    reachable[owner[edge >= 0]] = True
    return reachable


def _locked_demand(
    network: WalkNetwork,
    cell_points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    kinds: Sequence[str] | None,
    radius_m: float,
    max_snap_distance_m: float,
) -> tuple[np.ndarray, int]:
    """Cells within ``radius_m`` of an existing (open) facility of one of ``kinds``; and how many facilities."""
    locked = np.zeros(len(cell_points), dtype=bool)
    if facilities is None or len(facilities) == 0:
        return locked, 0
    subset = facilities
    if kinds is not None and "kind" in subset:
        subset = subset[subset["kind"].isin(list(kinds))]
    if "open_to_public" in subset:
        subset = subset[subset["open_to_public"].fillna(True).astype(bool)]
    if len(subset) == 0:
        return locked, 0
    table = _pairs(network, cell_points, subset, max_distance_m=radius_m, max_snap_distance_m=max_snap_distance_m)
    locked[table["origin"].to_numpy()] = True
    return locked, len(subset)


def _weights(cells: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column not in cells:
        msg = f"cells: column `{column}` is missing; cells need residents per cell (from io.read_population)"
        raise InputDataError(msg)
    weights = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        msg = (
            f"cells: column `{column}` has {int(bad.sum())} missing, negative or infinite values; "
            "fix or drop those cells"
        )
        raise InputDataError(msg)
    return weights


def _cost_array(candidates: gpd.GeoDataFrame, column: str, budget: float | None) -> np.ndarray | None:
    if budget is None:
        return None
    if column not in candidates:
        msg = f"candidates: a budget was given but there is no `{column}` column; add the cost of each site"
        raise InputDataError(msg)
    costs = pd.to_numeric(candidates[column], errors="coerce").to_numpy(dtype=float)
    missing = np.flatnonzero(~np.isfinite(costs))
    if missing.size:
        ids = (
            candidates["candidate_id"].astype(str).to_numpy()[missing[:5]]
            if "candidate_id" in candidates
            else missing[:5]
        )
        msg = (
            f"candidates: column `{column}` has {missing.size} missing values (e.g. {', '.join(map(str, ids))}); "
            "fill them or drop the budget"
        )
        raise InputDataError(msg)
    return costs


def _capacity_array(candidates: gpd.GeoDataFrame, capacity: float | str | None) -> np.ndarray | None:
    if capacity is None:
        return None
    if isinstance(capacity, str):
        if capacity not in candidates:
            msg = f"candidates: capacity column `{capacity}` is missing"
            raise InputDataError(msg)
        values = pd.to_numeric(candidates[capacity], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            msg = f"candidates: capacity column `{capacity}` has missing values; fill them (residents per site)"
            raise InputDataError(msg)
        return values
    return np.full(len(candidates), float(capacity))


@dataclass
class _Prepared:
    cells: gpd.GeoDataFrame
    cell_points: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    weights: np.ndarray
    pairs: pd.DataFrame  # origin = cell position, destination = candidate position
    reachable: np.ndarray
    type_weights: dict[str, np.ndarray] = field(default_factory=dict)
    coverages: dict[str, scipy.sparse.csr_matrix] = field(default_factory=dict)
    locked: dict[str, np.ndarray] = field(default_factory=dict)
    eligible: dict[str, np.ndarray] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    locked_candidates: np.ndarray | None = None


def _prepare(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rules: Mapping[str, SitingRule],
    existing: gpd.GeoDataFrame | None,
    weight_column: str,
    max_snap_distance_m: float,
    extra_radius_m: float = 0.0,
) -> _Prepared:
    if len(cells) == 0:
        msg = "cells is empty: no populated cells to cover; check the population raster covers the study area"
        raise InfeasibleError(msg)
    if len(candidates) == 0:
        msg = "there are no candidate sites; pass candidates or OSM features / underserved neighbourhoods"
        raise InfeasibleError(msg)
    cells = _to_network_crs(cells, network, "cells")
    candidates = _to_network_crs(candidates, network, "candidates")
    if existing is not None:
        existing = _to_network_crs(existing, network, "facilities")
    weights = _weights(cells, weight_column)
    cell_points = _cell_points(cells)
    radius = max([rule.service_distance_m for rule in rules.values()] + [extra_radius_m])
    pairs = _pairs(network, cell_points, candidates, max_distance_m=radius, max_snap_distance_m=max_snap_distance_m)
    reachable = _reachable(network, candidates, max_snap_distance_m)
    prepared = _Prepared(cells, cell_points, candidates, weights, pairs, reachable)
    if existing is not None and "facility_id" in existing and "candidate_id" in candidates:
        same = candidates["candidate_id"].astype(str).isin(set(existing["facility_id"].astype(str))).to_numpy()
        prepared.locked_candidates = same
    for key, rule in rules.items():
        prepared.type_weights[key] = (
            weights if rule.weight_column == weight_column else _weights(cells, rule.weight_column)
        )
        prepared.coverages[key] = _coverage_from_pairs(pairs, len(candidates), len(cells), rule.service_distance_m)
        prepared.locked[key], n_existing = _locked_demand(
            network, cell_points, existing, rule.locked_kinds, rule.service_distance_m, max_snap_distance_m
        )
        by_area, note = eligible_candidates(candidates, rule)
        eligible = by_area & reachable
        notes = [note] if note else []
        unreachable = by_area & ~reachable
        if unreachable.any():
            notes.append(f"{int(unreachable.sum())} farther than {max_snap_distance_m:,.0f} m from the walk network")
        prepared.eligible[key] = eligible
        prepared.excluded[key] = ", ".join(notes)
        logger.info(
            "siting: %s: %s of %s candidates eligible; %s existing %s lock %s residents",
            key,
            int(eligible.sum()),
            len(candidates),
            n_existing,
            "/".join(rule.locked_kinds),
            f"{prepared.type_weights[key][prepared.locked[key]].sum():,.0f}",
        )
    return prepared


def _no_eligible_error(key: str, rule: SitingRule, candidates: gpd.GeoDataFrame, note: str) -> InfeasibleError:
    msg = (
        f"no candidate can host a {rule.label} ({key}): of {len(candidates)} candidates, {note or 'none qualify'}; "
        f"the rule needs at least {rule.min_land_area_m2:,.0f} m² of land"
        + ("" if rule.unknown_area_ok else " (unknown land area is not accepted)")
        + "; give larger parcels or lower the minimum ([siting] min_land_area_m2 in the study file, "
        "or SitingRule.min_land_area_m2 in Python)"
    )
    return InfeasibleError(msg, part=key)


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


# ---------------------------------------------------------------------------
# The planner's entry point
# ---------------------------------------------------------------------------


@dataclass
class SitingResult:
    """What :func:`plan_sites` returns (all geometry in the network's metric CRS).

    Attributes
    ----------
    ranked : dict of str to geopandas.GeoDataFrame
        Per type, the shortlist in incremental (greedy) order: ``rank``,
        ``candidate_id``, ``name``, ``served`` (the cell column the type
        serves: ``population``, or ``population_60plus`` for the sports-health
        centre), ``newly_covered_population`` (those residents within the
        type's service distance, not served by an existing facility of the
        type's locked kinds nor by a higher-ranked site),
        ``standalone_covered_population`` (the same, ignoring higher ranks),
        ``newly_within_<t>m`` (residents newly within ``t`` m of any venue, per
        tier, in rank order), ``delta_per_capita_area_city_m2`` and
        ``delta_per_capita_area_district_m2`` (added venue area over the
        population), ``district``, ``distance_to_nearest_same_kind_m`` (walking,
        ``inf`` beyond ``settings.DEFAULT_MAX_DISTANCE_M``), ``in_plan``,
        ``reason``, candidate attributes and ``geometry``.
    chosen : geopandas.GeoDataFrame
        The chosen plan, all types (``site_type``, ``plan_order``,
        ``newly_covered_population`` within its type in plan order, ...).
    gaps : pandas.DataFrame
        Greedy vs exact per instance (each type alone, and ``"combined"``).
    new_facilities : geopandas.GeoDataFrame
        The chosen sites as facilities-schema rows (``facility_id`` ``new_*``,
        ``kind``, ``area_m2`` = the rule's added venue area, ``area_source`` =
        ``"typical"``), to recompute indicators after.
    candidates : geopandas.GeoDataFrame
        Every candidate with ``eligible_<type>`` columns.
    model : CombinedCoverage
        The solved joint model.
    rules : dict of str to SitingRule
        The rules used.
    """

    ranked: dict[str, gpd.GeoDataFrame]
    chosen: gpd.GeoDataFrame
    gaps: pd.DataFrame
    new_facilities: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    model: CombinedCoverage
    rules: dict[str, SitingRule]


_COMPASS: Final[tuple[str, ...]] = (
    "east",
    "north-east",
    "north",
    "north-west",
    "west",
    "south-west",
    "south",
    "south-east",
)


def _direction(xy: np.ndarray, points: np.ndarray, weights: np.ndarray) -> str:
    """Where ``xy`` lies in a population (points, weights): "north", "central", ..."""
    if len(points) == 0 or weights.sum() <= 0:
        return ""
    centre = np.average(points, axis=0, weights=weights)
    spread = math.sqrt(float(np.average(((points - centre) ** 2).sum(axis=1), weights=weights)))
    offset = xy - centre
    if spread == 0 or math.hypot(*offset) < 0.35 * spread:
        return "central"
    angle = math.degrees(math.atan2(offset[1], offset[0])) % 360.0
    return _COMPASS[int(((angle + 22.5) % 360.0) // 45.0)]


def _format_km(metres: float) -> str:
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:,.0f} m"


def _reason(
    rule: SitingRule, population: float, district: str, direction: str, distance_m: float, area_m2: float
) -> str:
    where = f"{direction} {district}".strip() if district else "the study area"
    who = "residents aged 60+" if rule.weight_column == "population_60plus" else "residents"
    if population <= 0:
        return (
            f"no new {who} within {rule.service_distance_m:,.0f} m (already served or covered by a higher-ranked "
            f"site); adds {area_m2:,.0f} m² of venue area in {district or 'the study area'}"
        )
    if not math.isfinite(distance_m):
        far = f"with no {rule.label} within {_format_km(settings.DEFAULT_MAX_DISTANCE_M)}"
    else:
        far = f"now {_format_km(distance_m)} from any {rule.label}"
    return f"covers {population:,.0f} {who} of {where} {far}"


def _site_cells(pairs: pd.DataFrame, n_sites: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR-like grouping of the (cell, site, distance) pairs by site."""
    ordered = pairs.sort_values(["destination", "origin"], kind="stable")
    counts = np.bincount(ordered["destination"].to_numpy(), minlength=n_sites)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return indptr, ordered["origin"].to_numpy(), ordered["distance_m"].to_numpy()


def _ranked_table(
    key: str,
    rule: SitingRule,
    layer: _Layer,
    prepared: _Prepared,
    *,
    in_plan: set[int],
    thresholds_m: Sequence[float],
    distance_same_kind: np.ndarray,
    site_district: np.ndarray,
    shortlist: int | None,
) -> gpd.GeoDataFrame:
    ranking = _greedy([replace(layer, p=len(layer.sites))], None, None, prepared.candidates.shape[0])
    order = [cand for _, cand, _ in ranking.picks]
    if shortlist is not None:
        keep = set(order[:shortlist]) | in_plan
        order = [cand for cand in order if cand in keep]
    cells = prepared.cells
    weights = prepared.type_weights[key]
    indptr, cell_of, dist_of = _site_cells(prepared.pairs, len(prepared.candidates))
    any_now = _accessibility().distance_to_kinds(cells, ["any"])
    kind_now = _accessibility().distance_to_kinds(cells, rule.locked_kinds)
    locked = prepared.locked[key]
    covered = np.zeros(len(cells), dtype=bool)
    tier_done = {t: any_now <= t for t in thresholds_m}
    residents = prepared.weights  # per-capita area is over all residents, whoever the type serves
    city_population = float(residents.sum())
    district_population = (
        pd.Series(residents).groupby(cells["district"].to_numpy()).sum()
        if "district" in cells
        else pd.Series(dtype=float)
    )
    xy = np.column_stack([prepared.cell_points.geometry.x, prepared.cell_points.geometry.y])
    site_points = prepared.candidates.geometry.representative_point()
    rows = []
    for rank, cand in enumerate(order, start=1):
        cells_here = cell_of[indptr[cand] : indptr[cand + 1]]
        dists = dist_of[indptr[cand] : indptr[cand + 1]]
        within = cells_here[dists <= rule.service_distance_m]
        fresh = within[~locked[within]]
        standalone = float(weights[fresh].sum())
        fresh = fresh[~covered[fresh]]
        covered[fresh] = True
        newly = float(weights[fresh].sum())
        row: dict[str, Any] = {"rank": rank, "candidate_index": cand}
        row["newly_covered_population"] = newly
        row["standalone_covered_population"] = standalone
        for t in thresholds_m:
            near = cells_here[dists <= t]
            near = near[~tier_done[t][near]]
            tier_done[t][near] = True
            row[f"newly_within_{int(t)}m"] = float(weights[near].sum())
        district = site_district[cand]
        row["district"] = district
        row["delta_per_capita_area_city_m2"] = rule.added_venue_area_m2 / city_population if city_population else 0.0
        district_pop = float(district_population.get(district, 0.0)) if district is not None else 0.0
        row["delta_per_capita_area_district_m2"] = rule.added_venue_area_m2 / district_pop if district_pop else np.nan
        row["distance_to_nearest_same_kind_m"] = float(distance_same_kind[cand])
        row["in_plan"] = cand in in_plan
        if newly > 0:
            finite = np.isfinite(kind_now[fresh])
            share_far = float(weights[fresh][~finite].sum()) / newly
            mean_distance = (
                float(np.average(kind_now[fresh][finite], weights=weights[fresh][finite]))
                if finite.any() and share_far < 0.5
                else np.inf
            )
        else:
            mean_distance = np.inf
        if district is not None and "district" in cells:
            in_district = (cells["district"] == district).to_numpy()
            direction = _direction(
                np.array([site_points.iloc[cand].x, site_points.iloc[cand].y]), xy[in_district], weights[in_district]
            )
        else:
            direction = ""
        row["reason"] = _reason(rule, newly, district or "", direction, mean_distance, rule.added_venue_area_m2)
        rows.append(row)
    table = pd.DataFrame(rows)
    base = prepared.candidates.iloc[table["candidate_index"].to_numpy() if len(table) else []].reset_index(drop=True)
    front = ["rank", "candidate_id", "name", "site_type", "kind"]
    table = table.drop(columns="candidate_index")
    table.insert(1, "candidate_id", base["candidate_id"].to_numpy())
    table.insert(2, "name", base["name"].to_numpy())
    table.insert(3, "site_type", key)
    table.insert(4, "kind", rule.kind)
    table.insert(5, "served", rule.weight_column)
    extra = [c for c in ("source", "land_type", "area_m2", "cost") if c in base]
    for column in extra:
        table[column] = base[column].to_numpy()
    columns = front + [c for c in table.columns if c not in front]
    return gpd.GeoDataFrame(table[columns], geometry=base.geometry.to_numpy(), crs=prepared.candidates.crs)


def _gap_row(instance: str, model: CombinedCoverage, n_demand: int) -> dict[str, Any]:
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


def _generate_candidates(
    network: WalkNetwork, osm_features: gpd.GeoDataFrame | None, underserved: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    parts = []
    if osm_features is not None:
        parts.append(_to_network_crs(candidates_from_osm(osm_features), network, "OSM features"))
    if underserved is not None:
        parts.append(candidates_from_underserved(network, underserved))
    parts = [part for part in parts if len(part)]
    if not parts:
        msg = (
            "no candidate sites: pass `candidates` (points or parcels), or `osm_features` with vacant/green land "
            "and `underserved` neighbourhoods to generate them"
        )
        raise InfeasibleError(msg)
    frame = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=network.crs)


def plan_sites(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    plan: Mapping[str, int] | None = None,
    rules: Mapping[str, SitingRule] = DEFAULT_RULES,
    method: str = "exact",
    budget: float | None = None,
    osm_features: gpd.GeoDataFrame | None = None,
    underserved: gpd.GeoDataFrame | None = None,
    capacity: Mapping[str, float | str | None] | None = None,
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    shortlist: int | None = 25,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    time_limit_s: float | None = 600.0,
) -> SitingResult:
    """Rank candidate sites per type and choose the joint plan.

    Parameters
    ----------
    network : WalkNetwork
        The walk network; all frames are projected to its metric CRS.
    cells : geopandas.GeoDataFrame
        ``AccessibilityResult.cells``: ``population``, ``district``,
        ``dist_m_any`` and ``dist_m_<kind>`` (walking metres; used for the
        tiers and the reasons), cell geometry.
    facilities : geopandas.GeoDataFrame or None
        Existing facilities (facilities schema); those of a rule's
        ``locked_kinds`` lock their coverage; same-kind distances use ``kind``.
    candidates : geopandas.GeoDataFrame, optional
        Candidate sites (a user file: see :func:`candidates_from_file`). When
        absent, candidates are generated from ``osm_features`` and
        ``underserved``.
    plan : mapping of str to int, optional
        Sites per type (keys or aliases: ``"sports_park"``, ``"fitness_centre"``,
        ``"court"``); default :data:`DEFAULT_PLAN`; 0 skips a type.
    rules : mapping of str to SitingRule, default :data:`DEFAULT_RULES`
        The rule table.
    method : {"exact", "greedy"}
        How the joint plan and each type are solved (see
        :meth:`CombinedCoverage.solve`); with ``"greedy"`` the LP relaxation is
        also solved, for the bound in ``gaps``.
    budget : float, optional
        Upper bound on the summed candidate ``cost`` of the joint plan.
    osm_features : geopandas.GeoDataFrame, optional
        OSM features for :func:`candidates_from_osm`.
    underserved : geopandas.GeoDataFrame, optional
        ``AccessibilityResult.underserved`` for :func:`candidates_from_underserved`.
    capacity : mapping of str to float or column name, optional
        Residents a site of a type can serve.
    thresholds_m : sequence of float
        Tiers of the ``newly_within_<t>m`` columns (metres).
    shortlist : int or None, default 25
        Rows per ranked table (chosen sites are always kept); None keeps all.
    max_snap_distance_m : float
        Farther than this from a street is unreachable.
    time_limit_s : float, optional
        HiGHS time limit per model.

    Returns
    -------
    SitingResult

    Raises
    ------
    InfeasibleError
        No candidates, none large enough for a type (the message names the
        rule, how many it excluded and the largest area seen), p larger than
        the eligible candidates, or a budget that cannot pay for the plan.
    """
    plan = DEFAULT_PLAN if plan is None else plan
    types = {resolve_site_type(k, rules): int(v) for k, v in plan.items() if int(v) > 0}
    if not types:
        msg = "plan asks for no sites (every count is 0); give at least one type with p >= 1"
        raise InputDataError(msg)
    used_rules = {key: rules[key] for key in types}
    if candidates is None:
        candidates = _generate_candidates(network, osm_features, underserved)
    elif "source" not in candidates or "candidate_id" not in candidates:
        candidates = candidates_from_file(candidates)
    candidates = _to_network_crs(candidates, network, "candidates").reset_index(drop=True)
    if facilities is not None:
        facilities = _to_network_crs(facilities, network, "facilities")
    prepared = _prepare(
        network,
        cells,
        candidates,
        rules=used_rules,
        existing=facilities,
        weight_column="population",
        max_snap_distance_m=max_snap_distance_m,
        extra_radius_m=max(thresholds_m, default=0.0),
    )
    for key, rule in used_rules.items():
        if not prepared.eligible[key].any():
            raise _no_eligible_error(key, rule, prepared.candidates, prepared.excluded[key])
    capacities = {key: _capacity_array(prepared.candidates, (capacity or {}).get(key)) for key in used_rules}
    costs = _cost_array(prepared.candidates, "cost", budget)

    def build(keys: Sequence[str], with_budget: bool) -> CombinedCoverage:
        return CombinedCoverage.from_coverages(
            prepared.weights,
            {k: prepared.coverages[k] for k in keys},
            weights={k: prepared.type_weights[k] for k in keys},
            p={k: types[k] for k in keys},
            eligible={k: prepared.eligible[k] for k in keys},
            locked_coverage={k: prepared.locked[k] for k in keys},
            locked_candidates=prepared.locked_candidates,
            capacity={k: capacities[k] for k in keys},
            budget=budget if with_budget else None,
            costs=costs if with_budget else None,
            excluded={k: prepared.excluded[k] for k in keys},
        )

    n_cells = len(prepared.cells)
    gap_rows = []
    for key in types:
        single = build([key], with_budget=False).solve(method, time_limit_s=time_limit_s, lp_bound=True)
        gap_rows.append(_gap_row(key, single, n_cells))
    model = build(list(types), with_budget=True).solve(method, time_limit_s=time_limit_s, lp_bound=True)
    gap_rows.append(_gap_row("combined", model, n_cells))
    gaps = pd.DataFrame(gap_rows)

    # Distances from each candidate to the nearest existing facility of its type's kind.
    site_district = _site_districts(prepared)
    ranked: dict[str, gpd.GeoDataFrame] = {}
    chosen_rows = []
    for li, (key, rule) in enumerate(used_rules.items()):
        same_kind = _nearest_same_kind(network, prepared.candidates, facilities, rule.kind, max_snap_distance_m)
        in_plan = set(model.selected[key].tolist())
        ranked[key] = _ranked_table(
            key,
            rule,
            model.layers[li],
            prepared,
            in_plan=in_plan,
            thresholds_m=thresholds_m,
            distance_same_kind=same_kind,
            site_district=site_district,
            shortlist=shortlist,
        )
        for order, (cand, gain) in enumerate(zip(model.selected[key], model.marginal_gains[key], strict=True), 1):
            chosen_rows.append(
                {
                    "site_type": key,
                    "plan_order": order,
                    "candidate_index": int(cand),
                    "kind": rule.kind,
                    "newly_covered_population": float(gain),
                    "served": rule.weight_column,
                    "added_venue_area_m2": rule.added_venue_area_m2,
                    "district": site_district[cand],
                    "distance_to_nearest_same_kind_m": float(same_kind[cand]),
                    "method": method,
                }
            )
    chosen = _chosen_frame(chosen_rows, prepared.candidates)
    new_facilities = _as_facilities(chosen)
    annotated = prepared.candidates.copy()
    for key in used_rules:
        annotated[f"eligible_{key}"] = prepared.eligible[key]
    annotated["reachable"] = prepared.reachable
    logger.info(
        "siting: chose %s sites (%s), newly covered %s residents (%s)",
        len(chosen),
        ", ".join(f"{k} {v}" for k, v in types.items()),
        f"{model.objective_value:,.0f}",
        method,
    )
    return SitingResult(
        ranked=ranked,
        chosen=chosen,
        gaps=gaps,
        new_facilities=new_facilities,
        candidates=annotated,
        model=model,
        rules=dict(used_rules),
    )


def _site_districts(prepared: _Prepared) -> np.ndarray:
    """District of each candidate: the district of the nearest cell centre."""
    n = len(prepared.candidates)
    if "district" not in prepared.cells or n == 0:
        return np.full(n, None, dtype=object)
    xy = np.column_stack([prepared.cell_points.geometry.x, prepared.cell_points.geometry.y])
    points = prepared.candidates.geometry.representative_point()
    _, nearest = cKDTree(xy).query(np.column_stack([points.x, points.y]))
    return prepared.cells["district"].to_numpy(dtype=object)[nearest]


def _nearest_same_kind(
    network: WalkNetwork,
    candidates: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    kind: str,
    max_snap_distance_m: float,
) -> np.ndarray:
    if facilities is None or "kind" not in facilities:
        return np.full(len(candidates), np.inf)
    same = facilities[facilities["kind"] == kind]
    if len(same) == 0:
        return np.full(len(candidates), np.inf)
    table = _accessibility().nearest_facility(
        network,
        candidates,
        same,
        max_distance_m=settings.DEFAULT_MAX_DISTANCE_M,
        max_snap_distance_m=max_snap_distance_m,
    )
    return table["distance_m"].to_numpy(dtype=float)


def _chosen_frame(rows: list[dict[str, Any]], candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    table = pd.DataFrame(rows)
    if len(table) == 0:
        return gpd.GeoDataFrame({"site_type": []}, geometry=[], crs=candidates.crs)
    base = candidates.iloc[table["candidate_index"].to_numpy()].reset_index(drop=True)
    table = table.drop(columns="candidate_index")
    for position, column in enumerate(("candidate_id", "name")):
        table.insert(2 + position, column, base[column].to_numpy())
    for column in ("source", "land_type", "area_m2", "cost", "capacity"):
        if column in base:
            table[column] = base[column].to_numpy()
    return gpd.GeoDataFrame(table, geometry=base.geometry.to_numpy(), crs=candidates.crs)


def _as_facilities(chosen: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Chosen sites as facilities-schema rows (to recompute indicators with the plan built)."""
    if len(chosen) == 0:
        columns = [c for c in FACILITY_COLUMNS if c != "geometry"]
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=chosen.crs)
    frame = gpd.GeoDataFrame(
        {
            "facility_id": [f"new_{t}_{k}" for t, k in zip(chosen["site_type"], chosen["plan_order"], strict=True)],
            "name": chosen["name"].astype(str).to_numpy(),
            "kind": chosen["kind"].to_numpy(),
            "area_m2": chosen["added_venue_area_m2"].to_numpy(dtype=float),
            "area_source": "typical",
            "open_to_public": True,
            "capacity": chosen["capacity"].to_numpy(dtype=float) if "capacity" in chosen else np.nan,
            "district": chosen["district"].to_numpy(dtype=object),
            "public_access": "full",
            "open_hours": pd.Series([None] * len(chosen), dtype=object).to_numpy(),
        },
        geometry=chosen.geometry.to_numpy(),
        crs=chosen.crs,
    )
    return frame


# ---------------------------------------------------------------------------
# Which closed school venues to open first (学校体育场馆开放)
# ---------------------------------------------------------------------------

#: Site type key of school opening in tables, gaps and the CLI.
SCHOOL_OPENING: Final[str] = "school_opening"


@dataclass
class SchoolOpeningResult:
    """What :func:`plan_school_opening` returns (geometry in the network's metric CRS).

    Attributes
    ----------
    ranked : geopandas.GeoDataFrame
        Every closed school venue, the chosen ones first (in plan order), then
        the rest by residents newly within the service distance: ``rank``,
        ``facility_id``, ``name``, ``district``, ``in_plan``, ``plan_order``,
        ``newly_covered_in_plan`` (marginal residents in plan order),
        ``newly_within_<t>m`` (residents newly within ``t`` m of any open venue
        if this one alone opened), ``area_m2``, ``delta_per_capita_area_city_m2``,
        ``delta_per_capita_area_district_m2``, ``district_open_share_before``,
        ``district_open_share_after`` (this one alone opened), ``reason``.
    opened : geopandas.GeoDataFrame
        The chosen venues as facilities rows, now open (``open_to_public``
        true, ``public_access`` ``"after_school"`` unless already given).
    districts : pandas.DataFrame
        Per district and ``"citywide"``: ``n_school_venues``, ``n_open_before``,
        ``open_share_before``, ``required`` (fewest openings reaching the target),
        ``opened``, ``open_share_after``.
    gaps : pandas.DataFrame
        Greedy vs exact (one row, instance ``"school_opening"``; empty when
        nothing has to open).
    target_share : float
        The share the plan asks for.
    """

    ranked: gpd.GeoDataFrame
    opened: gpd.GeoDataFrame
    districts: pd.DataFrame
    gaps: pd.DataFrame
    target_share: float


def _required_openings(n_total: int, n_open: int, target_share: float) -> int:
    """Fewest venues to open so that open / total reaches ``target_share``."""
    return max(0, math.ceil(target_share * n_total - 1e-9) - n_open)


_OPENING_REASON: Final[Mapping[str, str]] = MappingProxyType(
    {
        "en": "{plan}: opens {area} m² of venue in {district} (its school venues open {before:.0%} -> {after:.0%}); "
        "{people} residents newly within {distance} m of an open venue",
        "zh": "{plan}：在{district}新增开放场地 {area} 平方米（该区学校体育场馆开放率 {before:.0%} → {after:.0%}）；"
        "{distance} 米内新增覆盖 {people} 人",
    }
)
_OPENING_PLAN_WORDS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"en": ("in the plan", "not in the plan"), "zh": ("列入开放方案", "未列入方案")}
)


def plan_school_opening(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    target_share: float = 0.6,
    service_distance_m: float = settings.KIND_SERVICE_DISTANCE_M["school_venue"],
    distance_column: str = "dist_m_any",
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    method: str = "exact",
    language: str = "en",
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    time_limit_s: float | None = 600.0,
) -> SchoolOpeningResult:
    """Choose which closed school venues to open first to reach the plan's open share.

    The number to open is the smallest that reaches ``target_share``
    citywide and in every district below it: ``K = max(k_city, sum_d k_d)``
    with ``k = ceil(target x venues) - open``. Among the sets of ``K`` closed
    venues with at least ``k_d`` in each district, the model maximises the
    residents newly within ``service_distance_m`` of any open venue (a
    maximal coverage model with per-district minimums, solved exactly with
    HiGHS; the lazy greedy's gap is reported).

    Parameters
    ----------
    network : WalkNetwork
        The walk network; frames are projected to its metric CRS.
    cells : geopandas.GeoDataFrame
        ``AccessibilityResult.cells``: ``population``, ``district`` and
        ``distance_column``.
    facilities : geopandas.GeoDataFrame
        The facilities table (``kind``, ``open_to_public``, ``district``,
        ``area_m2``, ``facility_id``, ``name``); school venues are those of
        kind ``school_venue``; ``after_school`` venues count as open.
    target_share : float, default 0.6
        Share of school venues open to the public the plan asks for
        (学校体育场馆向社会开放占比不低于60%).
    service_distance_m : float, default 500
        Walking distance within which an opened venue covers a resident.
    distance_column : str, default "dist_m_any"
        Cell column with the walking metres to the nearest open venue now
        (``"dist_m_evenings"`` in a study: school venues open after school
        hours count, and so will the ones opened).
    thresholds_m : sequence of float
        Tiers of the ``newly_within_<t>m`` columns.
    method : {"exact", "greedy"}
        How the set is chosen (see :meth:`CombinedCoverage.solve`).
    language : {"en", "zh"}
        Language of the ``reason`` column.
    max_snap_distance_m : float
        Farther than this from a street is unreachable.
    time_limit_s : float, optional
        HiGHS time limit.

    Returns
    -------
    SchoolOpeningResult

    Example
    -------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> result = plan_school_opening(study.network, acc.cells, study.facilities)  # doctest: +SKIP
    >>> result.districts[["district", "required", "opened", "open_share_after"]]  # doctest: +SKIP
    """
    if not 0 < target_share <= 1:
        msg = f"target_share must lie in (0, 1], got {target_share!r}"
        raise InputDataError(msg)
    if language not in _OPENING_REASON:
        msg = f"language must be one of {', '.join(_OPENING_REASON)}, got {language!r}"
        raise InputDataError(msg)
    for column in ("kind", "facility_id"):
        if column not in facilities:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    if distance_column not in cells:
        msg = (
            f"cells: column `{distance_column}` is missing; pass AccessibilityResult.cells "
            "(run compute_accessibility)"
        )
        raise InputDataError(msg)
    facilities = _to_network_crs(facilities, network, "facilities")
    cells = _to_network_crs(cells, network, "cells")
    schools = facilities[facilities["kind"] == "school_venue"].reset_index(drop=True)
    if "open_to_public" in schools and schools["open_to_public"].isna().any():
        msg = (
            f"facilities: {int(schools['open_to_public'].isna().sum())} school venues have `open_to_public` unknown; "
            "fill it from the education bureau's list of open schools before choosing which to open"
        )
        raise InputDataError(msg)
    is_open = schools["open_to_public"].fillna(False).astype(bool).to_numpy() if "open_to_public" in schools else (
        np.ones(len(schools), dtype=bool)
    )
    district = (
        schools["district"].astype(object).where(schools["district"].notna(), None).to_numpy()
        if "district" in schools
        else np.full(len(schools), None, dtype=object)
    )
    closed = schools.loc[~is_open].reset_index(drop=True)
    closed_district = district[~is_open]
    # how many to open, citywide and per district below the target
    rows = []
    for name in sorted({d for d in district if d is not None}, key=str):
        here = district == name
        n, n_open = int(here.sum()), int((here & is_open).sum())
        need = min(_required_openings(n, n_open, target_share), int((here & ~is_open).sum()))
        rows.append({"district": name, "n_school_venues": n, "n_open_before": n_open, "required": need})
    need_city = min(_required_openings(len(schools), int(is_open.sum()), target_share), len(closed))
    total = min(max(need_city, sum(r["required"] for r in rows)), len(closed))
    city = {"district": "citywide", "n_school_venues": len(schools), "n_open_before": int(is_open.sum())}
    rows.append({**city, "required": total})
    weights = _weights(cells, "population")
    cell_points = _cell_points(cells)
    radius = max([service_distance_m, *thresholds_m])
    pairs = _pairs(network, cell_points, closed, max_distance_m=radius, max_snap_distance_m=max_snap_distance_m)
    any_now = pd.to_numeric(cells[distance_column], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
    cover = _coverage_from_pairs(pairs, len(closed), len(cells), service_distance_m)

    chosen: list[int] = []
    gains: list[float] = []
    gap_rows = []
    if total > 0:
        minimums = [(closed_district == r["district"], r["required"]) for r in rows[:-1] if r["required"] > 0]
        model = CombinedCoverage.from_coverages(
            weights,
            {SCHOOL_OPENING: cover},
            p={SCHOOL_OPENING: total},
            locked_coverage={SCHOOL_OPENING: any_now <= service_distance_m},
            minimums=minimums,
        ).solve(method, time_limit_s=time_limit_s, lp_bound=True)
        chosen = model.selected[SCHOOL_OPENING].tolist()
        gains = model.marginal_gains[SCHOOL_OPENING].tolist()
        gap_rows.append(_gap_row(SCHOOL_OPENING, model, len(cells)))
    opened_by_district = pd.Series(closed_district[chosen] if chosen else [], dtype=object).value_counts()
    for row in rows:
        opened = len(chosen) if row["district"] == "citywide" else int(opened_by_district.get(row["district"], 0))
        row["opened"] = opened
        row["open_share_before"] = _fraction(row["n_open_before"], row["n_school_venues"])
        row["open_share_after"] = _fraction(row["n_open_before"] + opened, row["n_school_venues"])
    districts = pd.DataFrame(rows)[
        ["district", "n_school_venues", "n_open_before", "open_share_before", "required", "opened", "open_share_after"]
    ]
    ranked = _opening_table(
        closed,
        closed_district,
        cells,
        weights,
        pairs,
        any_now,
        chosen=chosen,
        gains=gains,
        districts=districts,
        thresholds_m=thresholds_m,
        service_distance_m=service_distance_m,
        language=language,
    )
    opened = closed.iloc[chosen].copy()
    opened["open_to_public"] = True
    if "public_access" in opened:
        opened["public_access"] = "after_school"
    logger.info(
        "siting: school opening: %s of %s closed school venues to open (target %.0f%%), newly covering %s residents",
        len(chosen),
        len(closed),
        100 * target_share,
        f"{sum(gains):,.0f}",
    )
    return SchoolOpeningResult(
        ranked=ranked,
        opened=gpd.GeoDataFrame(opened.reset_index(drop=True), geometry="geometry", crs=facilities.crs),
        districts=districts,
        gaps=pd.DataFrame(gap_rows),
        target_share=float(target_share),
    )


def _fraction(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else math.nan


def _opening_table(
    closed: gpd.GeoDataFrame,
    closed_district: np.ndarray,
    cells: gpd.GeoDataFrame,
    weights: np.ndarray,
    pairs: pd.DataFrame,
    any_now: np.ndarray,
    *,
    chosen: Sequence[int],
    gains: Sequence[float],
    districts: pd.DataFrame,
    thresholds_m: Sequence[float],
    service_distance_m: float,
    language: str,
) -> gpd.GeoDataFrame:
    """One row per closed school venue: what opening it alone gives, and whether the plan opens it."""
    n = len(closed)
    origin = pairs["origin"].to_numpy()
    destination = pairs["destination"].to_numpy()
    distance = pairs["distance_m"].to_numpy()
    table = pd.DataFrame(
        {
            "facility_id": closed["facility_id"].astype(str).to_numpy(),
            "name": closed["name"].astype(str).to_numpy() if "name" in closed else "",
            "district": closed_district,
        }
    )
    plan_order = {cand: k for k, cand in enumerate(chosen, start=1)}
    table["in_plan"] = [k in plan_order for k in range(n)]
    table["plan_order"] = pd.array([plan_order.get(k) for k in range(n)], dtype="Int64")
    marginal = dict(zip(chosen, gains, strict=True))
    table["newly_covered_in_plan"] = [marginal.get(k, 0.0) for k in range(n)]
    for t in [*thresholds_m, service_distance_m]:
        fresh = (distance <= t) & (any_now[origin] > t)
        table[f"newly_within_{round(float(t))}m"] = np.bincount(
            destination[fresh], weights=weights[origin[fresh]], minlength=n
        )
    area = (
        pd.to_numeric(closed["area_m2"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if "area_m2" in closed
        else np.zeros(n)
    )
    table["area_m2"] = area
    city_population = float(weights.sum())
    by_district = (
        pd.Series(weights).groupby(cells["district"].to_numpy()).sum() if "district" in cells else pd.Series()
    )
    table["delta_per_capita_area_city_m2"] = area / city_population if city_population else np.nan
    district_population = np.array([float(by_district.get(d, 0.0)) if d is not None else 0.0 for d in closed_district])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_district = np.where(district_population > 0, area / district_population, np.nan)
    table["delta_per_capita_area_district_m2"] = per_district
    counts = districts.set_index("district")
    before = [counts.at[d, "open_share_before"] if d in counts.index else np.nan for d in closed_district]
    after = [
        _fraction(counts.at[d, "n_open_before"] + 1, counts.at[d, "n_school_venues"]) if d in counts.index else np.nan
        for d in closed_district
    ]
    table["district_open_share_before"] = before
    table["district_open_share_after"] = after
    covered = f"newly_within_{round(float(service_distance_m))}m"
    words = _OPENING_PLAN_WORDS[language]
    table["reason"] = [
        _OPENING_REASON[language].format(
            plan=words[0] if row.in_plan else words[1],
            area=f"{row.area_m2:,.0f}",
            district=_labels.district(row.district, language) if row.district else "-",
            before=np.nan_to_num(row.district_open_share_before),
            after=np.nan_to_num(row.district_open_share_after),
            people=f"{getattr(row, covered):,.0f}",
            distance=f"{service_distance_m:,.0f}",
        )
        for row in table.itertuples()
    ]
    key = np.where(table["in_plan"], table["plan_order"].fillna(0).astype(float), np.inf)
    order = np.lexsort((table["facility_id"].to_numpy(), -table["area_m2"].to_numpy(), -table[covered].to_numpy(), key))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, n + 1))
    return gpd.GeoDataFrame(table, geometry=closed.geometry.to_numpy()[order], crs=closed.crs)
