"""The solver engine of the coverage models: aggregated layers, lazy greedy, local search and HiGHS.

numpy, scipy and HiGHS only: no geopandas, no walking distances.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse

from ordos_geo import _labels
from ordos_geo._errors import InfeasibleError, InputDataError, SolverError
from ordos_geo._highs import new_highs

logger = logging.getLogger(__name__)


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
        return _online_bound(layers, stored, objective) if uncapacitated else math.inf

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
        value = float(-neg)  # the heap holds numpy floats; the model's values are Python floats
        _take(layers[li], remaining[li], local, value)
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
        raise _short_of_sites(layers, quota, budget=budget, minimums=bool(minimums))
    return _GreedyOutcome(picks=picks, objective=objective, upper_bound=float(max(bound, objective)))


def _online_bound(layers: Sequence[_Layer], stored: Sequence[np.ndarray], objective: float) -> float:
    """Minoux's online bound of an uncapacitated greedy solution worth ``objective``.

    f(S*) <= f(S) + sum over layers of the p largest marginal gains w.r.t. S
    (the stored, possibly stale, gains are upper bounds).
    """
    extra = 0.0
    for li, layer in enumerate(layers):
        values = stored[li]
        k = min(layer.p, len(values))
        if k:
            extra += float(np.sort(values)[-k:].sum())
    return objective + extra


def _take(layer: _Layer, remaining: np.ndarray, local: int, value: float) -> None:
    """Remove what the accepted site ``local`` covers (or, with a capacity, serves) from ``remaining``."""
    start, end = layer.cover.indptr[local], layer.cover.indptr[local + 1]
    groups = layer.cover.indices[start:end]
    if layer.capacity is None:
        remaining[groups] = 0.0
    else:
        total = float(remaining[groups].sum())
        if total > 0:
            remaining[groups] *= 1.0 - min(1.0, value / total)


def _short_of_sites(
    layers: Sequence[_Layer], quota: Sequence[int], *, budget: float | None, minimums: bool
) -> InfeasibleError:
    """The error when the greedy cannot place every site, naming what stopped it."""
    short = tuple(
        _labels.Note("more_sites", site=layers[i].key, site_zh=_site_zh(layers[i].key), n=q)
        for i, q in enumerate(quota)
        if q
    )
    why = "why_budget" if budget is not None else "why_minimums" if minimums else "why_distinct"
    return InfeasibleError(_labels.Note("greedy_short", short=short, why=_labels.Note(why)))


def _site_zh(key: str) -> str:
    """A site type by its Chinese name and key (``体育公园（sports_park）``); a model's own layer key as it is."""
    return f"{_labels.kind(key, 'zh')}（{key}）" if key in _labels.KINDS["zh"] else key


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
        raise SolverError(_labels.Note("siting_model_rejected"))
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
    named = {"status": status_name, "status_zh": _labels.solver_status(status_name, "zh")}  # for the notes
    if model_status == highspy.HighsModelStatus.kInfeasible:
        raise InfeasibleError(_labels.Note("siting_infeasible", **named))
    if model_status != highspy.HighsModelStatus.kOptimal:
        best = info.objective_function_value if integer else float("nan")
        raise SolverError(_labels.Note("siting_solver_stopped", best=f"{best:,.1f}", **named))
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
        assert best is not None  # every value beats -inf
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
            msg = _labels.Note(
                "too_few_eligible",
                key=layer.key,
                site_zh=_site_zh(layer.key),
                p=layer.p,
                n_eligible=len(layer.sites),
                n=n_candidates,
                why=_labels.Note("in_brackets", text=why) if why else "",
            )
            raise InfeasibleError(msg)
    union = set()
    for layer in layers:
        union.update(layer.sites.tolist())
    total = sum(layer.p for layer in layers)
    if total > len(union):
        msg = _labels.Note("too_few_distinct", total=total, n_eligible=len(union))
        raise InfeasibleError(msg)


def _check_minimums(layers: Sequence[_Layer], minimums: Sequence[tuple[np.ndarray, int]]) -> None:
    eligible = np.zeros(len(minimums[0][0]) if minimums else 0, dtype=bool)
    for layer in layers:
        eligible[layer.sites[layer.sites < len(eligible)]] = True
    for k, (mask, need) in enumerate(minimums):
        have = int((mask & eligible).sum())
        if need > have:
            raise InfeasibleError(_labels.Note("minimum_too_high", k=k, need=need, have=have))
    total = sum(layer.p for layer in layers)
    if sum(need for _, need in minimums) > total:
        raise InfeasibleError(_labels.Note("minimums_exceed_p", total=total))


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
        msg = _labels.Note(
            "budget_too_small",
            budget=f"{budget:,.2f}",
            cheapest=f"{cheapest:,.2f}",
            plan=", ".join(f"{layer.key}: {layer.p}" for layer in layers),
        )
        raise InfeasibleError(msg)
