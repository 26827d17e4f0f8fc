"""The analysis stages of a run: accessibility, siting, school opening, trails and the after-plan run."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels, indicators, io, settings
from ordos_geo._errors import InfeasibleError, InputDataError, SolverError
from ordos_geo.config import StudyConfig
from ordos_geo.indicators import CITYWIDE
from ordos_geo.pipeline.scenarios import compute_accessibility, update_accessibility
from ordos_geo.pipeline.study import Study, StudyResults, assign_districts

logger = logging.getLogger(__name__)


#: OSM tags of the green land trails prefer to run through or along.
GREEN_LAND_TAGS: dict[str, list[str]] = {
    "leisure": ["park", "garden", "nature_reserve"],
    "landuse": ["grass", "greenfield", "meadow", "forest", "recreation_ground", "village_green"],
}


def citywide_indicators(indicators: pd.DataFrame | None) -> dict[str, Any]:
    """The citywide row of the indicators as plain Python values, for summary.json (empty without one)."""
    if indicators is None:
        return {}
    row = indicators.loc[indicators["district"] == CITYWIDE]
    if row.empty:
        return {}
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].to_dict().items()}


def plan_summary(results: StudyResults) -> dict[str, Any]:
    """The plan's new sites and trails and whom they reach, as the report and maps give them, for summary.json.

    ``sites``: per site type the number chosen and the residents they newly cover (the sum of the chosen
    sites' ``newly_covered_population``); ``trails``: the number of planned trails, their length (km) and
    the underserved residents they reach together (each once: :attr:`~ordos_geo.trails.TrailPlan.population_reached`).
    """
    out: dict[str, Any] = {}
    if results.siting is not None:
        chosen = results.siting.chosen
        out["sites"] = {
            str(site_type): {
                "n": len(group),
                "newly_covered_population": float(group["newly_covered_population"].sum()),
            }
            for site_type, group in chosen.groupby("site_type", sort=False)
        }
    plan = results.trail_plan
    if plan is not None:
        out["trails"] = {
            "n": len(plan.trails),
            "length_km": float(plan.trails["length_m"].sum()) / 1000.0 if len(plan.trails) else 0.0,
            "underserved_reached": float(plan.population_reached),
        }
    return out


def outside_reach_shares(cells: gpd.GeoDataFrame) -> dict[str, float]:
    """People in cells farther than ``max_snap_distance_m`` from every street (no walking distance at all)."""
    total = float(cells["population"].sum())
    outside = float(cells.loc[~cells["reachable"].astype(bool), "population"].sum())
    return {
        "outside_network_reach": round(outside, 1),
        "outside_network_reach_share": round(outside / total, 4) if total > 0 else 0.0,
    }


def run_accessibility_stage(results: StudyResults, map_parts: Callable | None, *, service_areas: bool = True) -> None:
    """Compute accessibility, the indicators and the scorecard of the study as it is.

    ``service_areas=False`` leaves out the service-area polygons (drawn only for the coverage map).
    """
    study = results.study
    results.accessibility = compute_accessibility(study, map_parts=map_parts, service_areas=service_areas)
    results.indicators = study_indicators(study, results.accessibility.cells, study.facilities)
    results.scorecard = indicators.scorecard(results.indicators, study.facilities, planner_values=study.planner_targets)


def study_indicators(study: Study, cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plan indicators of a study's cells and venues, with the study's tiers, trail width and age distance.

    Parameters
    ----------
    study : Study
    cells : geopandas.GeoDataFrame
        The study's cells with the accessibility columns (``AccessibilityResult.cells``);
        their districts are those of ``study.cell_districts``.
    facilities : geopandas.GeoDataFrame
        Every venue.

    Returns
    -------
    pandas.DataFrame
        As :func:`ordos_geo.indicators.compute_indicators`.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> table = study_indicators(study, acc.cells, study.facilities)  # doctest: +SKIP
    >>> citywide = table.iloc[-1]  # a row per district, then the total  # doctest: +SKIP
    >>> citywide["district"], round(citywide["population"])  # doctest: +SKIP
    ('citywide', 207912)
    """
    cfg = study.config
    return indicators.compute_indicators(
        cells,
        facilities,
        boundaries=study.boundaries,
        thresholds_m=cfg.thresholds_m,
        trail_width_m=cfg.trail_width_m,
        age_distance_m=cfg.age_distance_m,
        districts=study.cell_districts,
    )


def run_siting_stage(results: StudyResults) -> None:
    """Rank sites for each new facility type and choose the schools to open, recording what cannot be sited."""
    from ordos_geo import siting

    study = results.study
    plan = dict(study.config.siting_plan)
    # school opening has no count: its size is the fewest venues reaching the plan's open share
    if plan.pop(siting.SCHOOL_OPENING, 1) > 0:
        _run_school_opening(results)
    if plan.get("sports_health_centre", 0) > 0 and "population_60plus" not in results.accessibility.cells:
        logger.warning(
            "siting: no residents aged 60+ (give the boundaries a share_60plus column); "
            "sports-health centres are not sited"
        )
        plan["sports_health_centre"] = 0
    if not any(count > 0 for count in plan.values()):
        return
    candidates = None
    if study.config.candidates is not None:
        read = io.read_candidates(
            study.config.candidates,
            layer=study.config.layers.get("candidates"),
            coordinate_system=study.config.candidates_coordinates,
        )
        candidates = siting.candidates_from_file(read.to_crs(study.network.crs), what=study.config.candidates.name)
    osm_features = None
    if candidates is None and study.config.candidate_land is not None:
        # OSM land polygons fetched beside a GraphML network (`ordos-geo fetch`)
        osm_features = io.read_vector(study.config.candidate_land, what="candidate land").to_crs(study.network.crs)
    elif candidates is None and not study.config.network.name.lower().endswith(".graphml"):
        osm_features = io.read_osm_features(study.config.network, siting.CANDIDATE_OSM_TAGS)
        osm_features = osm_features.to_crs(study.network.crs)
    plan = {k: v for k, v in plan.items() if v > 0}
    while plan:
        try:
            results.siting = siting.plan_sites(
                study.network,
                results.accessibility.cells,
                study.facilities,
                candidates=candidates,
                osm_features=osm_features,
                underserved=results.accessibility.underserved,
                plan=plan,
                rules=siting_rules(study.config),
                method=study.config.siting_method,
                budget=study.config.siting_budget,
                thresholds_m=study.config.thresholds_m,
                max_snap_distance_m=study.config.max_snap_distance_m,
                cells_snapped=results.accessibility.cells_snapped,
                language=study.config.language,
            )
            return
        except (InfeasibleError, SolverError) as error:
            part = getattr(error, "part", None)
            if part in plan and len(plan) > 1:
                record_skipped_part(results, "siting", part, error)  # plan the other types without it
                del plan[part]
                continue
            record_skipped_part(results, "siting", "+".join(plan), error)
            return


def siting_rules(config: StudyConfig) -> Mapping[str, Any]:
    """The siting rules of a study: the defaults with the study's keys applied.

    ``[siting] min_land_area_m2`` per type; ``[accessibility] age_distance_m``
    as the sports-health centre's service distance; with ``[siting] objective =
    "winter"`` a fitness centre counts only residents with no indoor venue of
    ``[accessibility] winter_kinds`` within its 1,000 m (its coverage is locked
    by every indoor venue, not only by fitness centres and gymnasiums).

    Parameters
    ----------
    config : StudyConfig

    Returns
    -------
    mapping of str to ordos_geo.siting.SitingRule

    Examples
    --------
    >>> from ordos_geo.config import sample_config
    >>> config = sample_config().with_overrides(siting_min_land_area_m2={"multi_sport_court": 600.0})
    >>> rules = siting_rules(config)
    >>> sorted(rules), rules["multi_sport_court"].min_land_area_m2
    (['fitness_centre', 'multi_sport_court', 'sports_health_centre', 'sports_park'], 600.0)
    """
    from ordos_geo import siting

    rules = dict(siting.DEFAULT_RULES)
    for site_type, area in config.siting_min_land_area_m2.items():
        rules[site_type] = dataclasses.replace(rules[site_type], min_land_area_m2=area)
    rules["sports_health_centre"] = dataclasses.replace(
        rules["sports_health_centre"], service_distance_m=config.age_distance_m
    )
    if config.siting_objective == "winter":
        # new fitness centres serve residents with no indoor venue within reach in winter
        rules["fitness_centre"] = dataclasses.replace(rules["fitness_centre"], locked_kinds=config.winter_kinds)
    return rules


def _run_school_opening(results: StudyResults) -> None:
    from ordos_geo import siting
    from ordos_geo.settings import PLAN_TARGETS

    study = results.study
    schools = study.facilities[study.facilities["kind"] == "school_venue"]
    if schools.empty or schools["open_to_public"].isna().any() or schools["open_to_public"].astype(bool).all():
        # nothing to open, or whether schools open is unknown (OSM schools): no plan on a guess
        return
    target = next(t.target for t in PLAN_TARGETS if t.key == "open_school_share")
    results.school_opening = siting.plan_school_opening(
        study.network,
        results.accessibility.cells,
        study.facilities,
        target_share=target,
        distance_column="dist_m_evenings",
        thresholds_m=study.config.thresholds_m,
        method=study.config.siting_method,
        language=study.config.language,
        max_snap_distance_m=study.config.max_snap_distance_m,
        cells_snapped=results.accessibility.cells_snapped,
    )
    results.summary["school_opening"] = results.school_opening.districts.to_dict("records")


def run_trails_stage(results: StudyResults) -> None:
    """Plan the fitness trails and check the drawn ones, recording what cannot be done."""
    from ordos_geo import trails

    study = results.study
    cfg = study.config
    acc = results.accessibility
    green_land = None
    if not cfg.network.name.lower().endswith(".graphml"):
        # Trails prefer paths through parks and green land read from the same extract.
        green_land = io.read_osm_features(cfg.network, GREEN_LAND_TAGS)
        green_land = green_land[green_land.geom_type.isin(["Polygon", "MultiPolygon"])]
    forbidden = study.trail_exclusions
    try:
        results.trail_plan = trails.plan_trails(
            study.network,
            acc.cells,
            green_land=green_land if green_land is not None and len(green_land) else None,
            forbidden_edges=forbidden,
            max_snap_distance_m=cfg.max_snap_distance_m,
            options=trails.TrailOptions.from_config(cfg),
            cells_snapped=acc.cells_snapped,
        )
    except (InfeasibleError, SolverError) as error:
        record_skipped_part(results, "trails", "trail plan", error)
        return
    if results.trail_plan.trails.empty:
        record_skipped_part(
            results,
            "trails",
            "trail plan",
            _labels.Note("no_trail_planned"),
        )
    results.trail_plan_report = trails.trail_report(results.trail_plan, acc.cells, neighbourhoods=acc.underserved)
    if study.proposed_trails is not None:
        try:
            results.trail_check = trails.check_trails(
                study.network,
                acc.cells,
                study.proposed_trails,
                reach_m=cfg.trail_reach_m,
                neighbourhoods=acc.underserved,
                width_m=cfg.trail_width_m,
                prize_model=results.trail_plan.prize_model,
            )
        except InputDataError as error:  # a drawn line that cannot be checked: name the file it is in
            file = cfg.proposed_trails.name if cfg.proposed_trails is not None else "proposed trails"
            raise InputDataError(_labels.Note("in_file", file=file, text=_labels.note_of(error))) from error


def planned_facilities(results: StudyResults) -> gpd.GeoDataFrame:
    """The study's existing facilities plus the chosen new sites, opened school venues and planned trails.

    Parameters
    ----------
    results : StudyResults
        After the siting and/or trails stages.

    Returns
    -------
    geopandas.GeoDataFrame
        Facilities schema, in the network CRS.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> results = pipeline.analyse_study(pipeline.load_study())  # doctest: +SKIP
    >>> after = planned_facilities(results)  # doctest: +SKIP
    >>> len(after) > len(results.study.facilities), after.crs == results.study.network.crs  # doctest: +SKIP
    (True, True)
    """
    return _planned_facilities(results)[0]


def _planned_facilities(results: StudyResults) -> tuple[gpd.GeoDataFrame, int]:
    """:func:`planned_facilities`, and how many of its last rows are the planned trails."""
    study = results.study
    existing = study.facilities
    if results.school_opening is not None and not results.school_opening.opened.empty:
        opened = existing["facility_id"].isin(set(results.school_opening.opened["facility_id"]))
        existing = existing.copy()
        existing.loc[opened, "open_to_public"] = True
        existing.loc[opened, "public_access"] = "after_school"
    frames = [existing]
    if results.siting is not None and not results.siting.new_facilities.empty:
        frames.append(results.siting.new_facilities.to_crs(study.network.crs))
    n_trails = 0
    if results.trail_plan is not None and not results.trail_plan.trails.empty:
        frames.append(results.trail_plan.as_facilities().to_crs(study.network.crs))
        n_trails = len(frames[-1])
    combined = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=study.network.crs), n_trails


def run_after_plan_stage(results: StudyResults, map_parts: Callable | None) -> None:
    """Recompute accessibility and indicators with the planned sites and trails added."""
    study = results.study
    planned, n_trails = _planned_facilities(results)
    after = assign_districts(planned, study.boundaries)
    results.facilities_after = after
    previous = results.accessibility
    if previous.cells_snapped is not None and previous.catchment_pairs is not None:
        # the same cells on the same network: search only from the new sites, trails and opened venues; no map
        # draws the service areas after the plan: not drawn
        results.accessibility_after = update_accessibility(study, previous, after, service_areas=False)
    else:  # split by district: no snaps kept
        results.accessibility_after = compute_accessibility(
            study, facilities=after, map_parts=map_parts, service_areas=False
        )
    results.indicators_after = study_indicators(study, results.accessibility_after.cells, after)
    new_counts = new_facility_counts(results)
    results.scorecard_after = indicators.scorecard(
        results.indicators_after, after, new_counts=new_counts, planner_values=study.planner_targets
    )
    results.before_after = before_after_table(results.indicators, results.indicators_after)
    # the planned trails with their districts: the last rows of the facilities after the plan
    trails = after.iloc[len(after) - n_trails :] if n_trails else None
    levers = indicators.lever_areas(
        study.facilities,
        sites=results.siting.chosen if results.siting is not None else None,
        trails=trails,
        trail_width_m=study.config.trail_width_m,
        opened=results.school_opening.opened["facility_id"].tolist() if results.school_opening is not None else (),
    )
    results.area_gap = indicators.area_gap(results.indicators, levers)


def new_facility_counts(results: StudyResults) -> dict[str, float]:
    """How many sites of each build target the plan adds (``settings.NEW_COUNT_TARGETS``), and its trail kilometres."""
    counts: dict[str, float] = {}
    if results.siting is not None:
        kinds = results.siting.new_facilities["kind"].value_counts()
        for kind, key in settings.NEW_COUNT_TARGETS.items():
            counts[key] = float(kinds.get(kind, 0))
    if results.trail_plan is not None:
        counts["new_fitness_trails_km"] = float(results.trail_plan.trails["length_m"].sum() / 1000.0)
    return counts


def before_after_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side indicators before and after the plan, one row per district and figure.

    Parameters
    ----------
    before, after : pandas.DataFrame
        Outputs of :func:`ordos_geo.indicators.compute_indicators`.

    Returns
    -------
    pandas.DataFrame
        ``district``, ``indicator``, ``before``, ``after``, ``change``.

    Examples
    --------
    >>> before = pd.DataFrame({"district": ["citywide"], "population": [1000.0], "per_capita_area_m2": [2.9]})
    >>> after = before.assign(per_capita_area_m2=[3.2])
    >>> before_after_table(before, after)
       district           indicator  before  after  change
    0  citywide  per_capita_area_m2     2.9    3.2     0.3
    """
    kept = ("venue_area_m2", "per_capita_area_m2", "population_underserved")
    figures = [c for c in before.columns if c in kept or c.startswith("share_")]
    b = before.set_index("district")[figures]
    a = after.set_index("district")[figures].reindex(b.index)
    # long: the figures of each district in turn, as DataFrame.stack gives them
    table = pd.DataFrame(
        {
            "district": b.index.repeat(len(figures)),
            "indicator": b.columns[np.tile(np.arange(len(figures)), len(b))],
            "before": b.to_numpy().ravel(),
            "after": a.to_numpy().ravel(),
        }
    )
    table["change"] = table["after"] - table["before"]
    return table


def record_skipped_part(results: StudyResults, stage: str, part: str, reason: str | Exception) -> None:
    """Record a part a stage could not do: one warning line, and an entry for summary.json and the report.

    The entry's ``reason`` is the error's :class:`~ordos_geo._labels.Note` when it was raised with one
    (English as text, said in the study's language by :func:`skipped_for_readers`).
    """
    why = _labels.note_of(reason)
    results.skipped.append({"stage": stage, "part": part, "reason": why, "fix": _fix(why)})
    logger.warning("%s", _labels.skipped_note(stage, part, why))


def skipped_for_readers(entry: Mapping[str, str], language: str) -> dict[str, str]:
    """A skipped part's entry with its reason and fix in ``language`` (summary.json)."""
    why = _labels.said(entry["reason"], language)
    return {**entry, "reason": why, "fix": _fix(why)}


def _fix(reason: str) -> str:
    """The fix a reason ends with (its last clause after ``; `` or ``；``), or ``""``."""
    clauses = re.split(r"; |；", reason)
    return clauses[-1] if len(clauses) > 1 else ""
