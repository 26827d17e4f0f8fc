"""The planner's entry point: :func:`plan_sites`, ranked and explained shortlists and the chosen plan."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ordos_geo import _labels, settings
from ordos_geo._columns import ANY_KIND, distance_to_kinds
from ordos_geo._errors import InfeasibleError
from ordos_geo.io import FACILITY_COLUMNS
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import SnappedPoints
from ordos_geo.siting._distances import (
    _capacities,
    _check_eligible,
    _cost_array,
    _nearest_same_kind,
    _prepare,
    _Prepared,
    _to_network_crs,
)
from ordos_geo.siting._engine import _greedy, _Layer
from ordos_geo.siting.base import _gap_row
from ordos_geo.siting.candidates import candidates_from_file, candidates_from_osm, candidates_from_underserved
from ordos_geo.siting.coverage import CombinedCoverage
from ordos_geo.siting.rules import DEFAULT_PLAN, DEFAULT_RULES, SitingRule, _plan_counts

__all__ = ["SitingResult", "plan_sites"]

logger = logging.getLogger(__name__)


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
        ``newly_covered_in_plan`` (a chosen site's ``newly_covered_population``
        of ``chosen``: the residents it adds in plan order; NaN when not chosen),
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

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> boxes = [shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)]
    >>> people = {"population": [50.0, 80.0], "district": ["Dongsheng"] * 2, "dist_m_any": [1500.0, 1500.0]}
    >>> cells = gpd.GeoDataFrame(people, geometry=boxes, crs=net.crs)
    >>> lots = gpd.GeoDataFrame({"candidate_id": ["west", "east"], "area_m2": [1000.0, 1000.0]},
    ...                         geometry=gpd.points_from_xy([10.0, 190.0], [-5.0, -5.0]), crs=net.crs)
    >>> result = plan_sites(net, cells, None, candidates=lots, plan={"court": 1})
    >>> list(result.ranked), result.chosen[["candidate_id", "site_type"]].values.tolist()
    (['multi_sport_court'], [['west', 'multi_sport_court']])
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
) -> _labels.Note:
    """Why a site ranks where it does, as a note to say in the study's language."""
    site = {"site": rule.label, "site_zh": _labels.kind(rule.kind, "zh")}
    who = _labels.Note("who_60plus" if rule.weight_column == "population_60plus" else "who_residents")
    district_said = {"district": district, "district_zh": _labels.district(district, "zh")}
    if not district:
        district_said = {"district": _labels.Note("the_study_area"), "district_zh": _labels.Note("the_study_area")}
    if population <= 0:
        service = f"{rule.service_distance_m:,.0f}"
        return _labels.Note("site_nothing_new", who=who, service=service, area=f"{area_m2:,.0f}", **district_said)
    where = district_said["district"]
    if district:
        said_direction = {
            "direction": f"{direction} " if direction else "",
            "direction_zh": _labels.DIRECTIONS["zh"].get(direction, ""),
        }
        where = _labels.Note("site_where", **said_direction, **district_said)
    if not math.isfinite(distance_m):
        far = _labels.Note("site_none_within", distance=_format_km(settings.DEFAULT_MAX_DISTANCE_M), **site)
    else:
        far = _labels.Note("site_now_from", distance=_format_km(distance_m), **site)
    return _labels.Note("site_covers", population=f"{population:,.0f}", who=who, where=where, far=far)


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
    language: str,
) -> gpd.GeoDataFrame:
    ranking = _greedy([replace(layer, p=len(layer.sites))], None, None, prepared.candidates.shape[0])
    order = [cand for _, cand, _ in ranking.picks]
    if shortlist is not None:
        keep = set(order[:shortlist]) | in_plan
        order = [cand for cand in order if cand in keep]
    cells = prepared.cells
    weights = prepared.type_weights[key]
    indptr, cell_of, dist_of = _site_cells(prepared.pairs, len(prepared.candidates))
    any_now = distance_to_kinds(cells, [ANY_KIND])
    kind_now = distance_to_kinds(cells, rule.locked_kinds)
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
        reason = _reason(rule, newly, district or "", direction, mean_distance, rule.added_venue_area_m2)
        row["reason"] = _labels.said(reason, language)
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


def _generate_candidates(
    network: WalkNetwork,
    osm_features: gpd.GeoDataFrame | None,
    underserved: gpd.GeoDataFrame | None,
    language: str,
) -> gpd.GeoDataFrame:
    parts = []
    if osm_features is not None:
        osm = candidates_from_osm(osm_features, language=language)
        parts.append(_to_network_crs(osm, network, "OSM features"))
    if underserved is not None:
        parts.append(candidates_from_underserved(network, underserved, language=language))
    parts = [part for part in parts if len(part)]
    if not parts:
        raise InfeasibleError(_labels.Note("no_candidates_generated"))
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
    method: str = settings.DEFAULT_SITING_METHOD,
    budget: float | None = None,
    osm_features: gpd.GeoDataFrame | None = None,
    underserved: gpd.GeoDataFrame | None = None,
    capacity: Mapping[str, float | str | None] | None = None,
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    shortlist: int | None = 25,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    time_limit_s: float | None = settings.DEFAULT_SITING_TIME_LIMIT_S,
    cells_snapped: SnappedPoints | None = None,
    language: str = "en",
) -> SitingResult:
    """Rank candidate sites per type and choose the joint plan.

    Parameters
    ----------
    network : WalkNetwork
        The walk network; all frames are projected to its metric CRS.
    cells : geopandas.GeoDataFrame
        ``AccessibilityResult.cells``: ``population``, ``district``,
        ``dist_m_any`` and ``dist_m_<kind>`` (walking metres; used for the
        tiers, the reasons and the demand existing facilities already cover:
        a locked kind without its column is searched along the network),
        cell geometry.
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
    cells_snapped : ordos_geo.routing.SnappedPoints, optional
        ``cells`` already snapped on ``network`` with ``max_snap_distance_m``
        (``AccessibilityResult.cells_snapped``): the walks from the cells start
        there instead of snapping the cells again (the same result).
    language : {"en", "zh"}
        Language of the ``reason`` column (``"zh"``: 覆盖东胜区南部 19,945 名居民，...).

    Returns
    -------
    SitingResult

    Raises
    ------
    InfeasibleError
        No candidates, none large enough for a type (the message names the
        rule, how many it excluded and the largest area seen), p larger than
        the eligible candidates, or a budget that cannot pay for the plan.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> boxes = [shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)]
    >>> people = {"population": [50.0, 80.0], "district": ["Dongsheng"] * 2, "dist_m_any": [1500.0, 1500.0]}
    >>> cells = gpd.GeoDataFrame(people, geometry=boxes, crs=net.crs)
    >>> lots = gpd.GeoDataFrame({"candidate_id": ["west", "east"], "area_m2": [1000.0, 1000.0]},
    ...                         geometry=gpd.points_from_xy([10.0, 190.0], [-5.0, -5.0]), crs=net.crs)
    >>> result = plan_sites(net, cells, None, candidates=lots, plan={"court": 1})  # one court within 500 m
    >>> result.ranked["multi_sport_court"][["rank", "candidate_id", "newly_covered_population"]]
       rank candidate_id  newly_covered_population
    0     1         west                     130.0
    1     2         east                       0.0
    """
    language = _labels.check_language(language, where="plan_sites")
    types = _plan_counts(DEFAULT_PLAN if plan is None else plan, rules)
    used_rules = {key: rules[key] for key in types}
    candidates = _plan_candidates(network, candidates, osm_features, underserved, language)
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
        cells_snapped=cells_snapped,
    )
    _check_eligible(prepared, used_rules)
    options = _ModelOptions(
        types, _capacities(prepared, capacity, used_rules), budget, _cost_array(prepared.candidates, "cost", budget)
    )
    gaps, model = _solve_plan(prepared, options, method=method, time_limit_s=time_limit_s)
    site_district = _site_districts(prepared)
    ranked: dict[str, gpd.GeoDataFrame] = {}
    chosen_rows: list[dict[str, Any]] = []
    for li, (key, rule) in enumerate(used_rules.items()):
        # distances from each candidate to the nearest existing facility of its type's kind
        same_kind = _nearest_same_kind(network, prepared.candidates, facilities, rule.kind, max_snap_distance_m)
        ranked[key] = _ranked_table(
            key,
            rule,
            model.layers[li],
            prepared,
            in_plan=set(model.selected[key].tolist()),
            thresholds_m=thresholds_m,
            distance_same_kind=same_kind,
            site_district=site_district,
            shortlist=shortlist,
            language=language,
        )
        chosen_rows += _chosen_rows(key, rule, model, site_district, same_kind, method)
    chosen = _chosen_frame(chosen_rows, prepared.candidates)
    for key, table in ranked.items():
        # a chosen site's residents as the plan counts them (sites.gpkg, the report): its rank's greedy
        # figure above counts the higher-ranked sites, which the plan may not build
        in_plan = chosen.loc[chosen["site_type"] == key].set_index("candidate_id")["newly_covered_population"]
        newly = table["candidate_id"].map(in_plan).where(table["in_plan"].astype(bool)).astype(float)
        table.insert(table.columns.get_loc("in_plan") + 1, "newly_covered_in_plan", newly)
        # a chosen site whose rank adds nobody (a higher-ranked site the plan does not build covers its residents)
        # says what it brings in the plan, not "nothing new"
        shared = (table["newly_covered_population"] <= 0) & (newly > 0)
        table.loc[shared, "reason"] = [
            _labels.said(_labels.Note("site_covers_in_plan", population=f"{n:,.0f}"), language) for n in newly[shared]
        ]
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
        new_facilities=_as_facilities(chosen),
        candidates=_annotated_candidates(prepared, used_rules),
        model=model,
        rules=dict(used_rules),
    )


def _plan_candidates(
    network: WalkNetwork,
    candidates: gpd.GeoDataFrame | None,
    osm_features: gpd.GeoDataFrame | None,
    underserved: gpd.GeoDataFrame | None,
    language: str,
) -> gpd.GeoDataFrame:
    """The candidates given (through :func:`candidates_from_file` unless they have its schema) or generated."""
    if candidates is None:
        candidates = _generate_candidates(network, osm_features, underserved, language)
    elif "source" not in candidates or "candidate_id" not in candidates:
        candidates = candidates_from_file(candidates)
    return _to_network_crs(candidates, network, "candidates").reset_index(drop=True)


@dataclass
class _ModelOptions:
    """What every model of one plan shares: sites per type, capacities, the budget and the site costs."""

    p: dict[str, int]
    capacities: dict[str, np.ndarray | None]
    budget: float | None
    costs: np.ndarray | None


def _build_model(
    prepared: _Prepared, options: _ModelOptions, keys: Sequence[str], *, with_budget: bool
) -> CombinedCoverage:
    """The model of the types ``keys`` (one type alone, or the joint plan with the budget)."""
    return CombinedCoverage.from_coverages(
        prepared.weights,
        {k: prepared.coverages[k] for k in keys},
        weights={k: prepared.type_weights[k] for k in keys},
        p={k: options.p[k] for k in keys},
        eligible={k: prepared.eligible[k] for k in keys},
        locked_coverage={k: prepared.locked[k] for k in keys},
        locked_candidates=prepared.locked_candidates,
        capacity={k: options.capacities[k] for k in keys},
        budget=options.budget if with_budget else None,
        costs=options.costs if with_budget else None,
        excluded={k: prepared.excluded[k] for k in keys},
    )


def _solve_plan(
    prepared: _Prepared, options: _ModelOptions, *, method: str, time_limit_s: float | None
) -> tuple[pd.DataFrame, CombinedCoverage]:
    """Solve each type alone (for the gaps table) and the joint plan; the gaps and the solved joint model."""
    n_cells = len(prepared.cells)
    gap_rows = []
    for key in options.p:
        single = _build_model(prepared, options, [key], with_budget=False)
        single.solve(method, time_limit_s=time_limit_s, lp_bound=True)
        gap_rows.append(_gap_row(key, single, n_cells))
    model = _build_model(prepared, options, list(options.p), with_budget=True)
    model.solve(method, time_limit_s=time_limit_s, lp_bound=True)
    gap_rows.append(_gap_row("combined", model, n_cells))
    return pd.DataFrame(gap_rows), model


def _chosen_rows(
    key: str,
    rule: SitingRule,
    model: CombinedCoverage,
    site_district: np.ndarray,
    same_kind: np.ndarray,
    method: str,
) -> list[dict[str, Any]]:
    """The chosen sites of one type, in plan order, as rows of :attr:`SitingResult.chosen`."""
    rows = []
    for order, (cand, gain) in enumerate(zip(model.selected[key], model.marginal_gains[key], strict=True), 1):
        rows.append(
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
    return rows


def _annotated_candidates(prepared: _Prepared, rules: Mapping[str, SitingRule]) -> gpd.GeoDataFrame:
    """Every candidate with its ``eligible_<type>`` columns and ``reachable``."""
    annotated = prepared.candidates.copy()
    for key in rules:
        annotated[f"eligible_{key}"] = prepared.eligible[key]
    annotated["reachable"] = prepared.reachable
    return annotated


def _site_districts(prepared: _Prepared) -> np.ndarray:
    """District of each candidate: the district of the nearest cell centre."""
    n = len(prepared.candidates)
    if "district" not in prepared.cells or n == 0:
        return np.full(n, None, dtype=object)
    xy = np.column_stack([prepared.cell_points.geometry.x, prepared.cell_points.geometry.y])
    points = prepared.candidates.geometry.representative_point()
    _, nearest = cKDTree(xy).query(np.column_stack([points.x, points.y]))
    return prepared.cells["district"].to_numpy(dtype=object)[nearest]


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
