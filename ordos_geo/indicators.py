"""Plan indicators per district and citywide, the "five ones" checklist and the target scorecard.

Definitions
-----------
- **Venue area** (体育场地面积): the sum of ``area_m2`` of facilities whose kind
  is in ``settings.AREA_COUNTED_KINDS`` (parks and playgrounds are left out);
  school venues count only when ``open_to_public`` (not when unknown); fitness trails count as
  length x width (``area_m2`` from the reader, or ``trail_width_m`` x the
  line's length when missing). Missing areas count as 0 and are reported in
  ``n_missing_area``.
- **Per-capita area**: venue area / resident population of the cells.
- **Open-school share**: open school venues / all school venues; unknown (NaN)
  when any school venue's ``open_to_public`` is unknown (``None``, e.g. schools
  from OpenStreetMap): it needs the education bureau's own list.
- **Coverage shares**: population in cells with ``covered_<t>m`` (walk network
  distance to the nearest facility of any kind within ``t`` metres, from
  :func:`ordos_geo.accessibility.compute_accessibility`) / population.
- **Scenario shares** ``share_within_<t>m_<scenario>``: the same with the
  ``covered_<t>m_<scenario>`` columns of a scenario's venue set (``evenings``:
  with the school venues open after school hours; ``winter``: indoor venues
  only, ``settings.WINTER_KINDS``), when the cells have them.
- **Older residents** ``share_60plus_within_<d>m``: residents aged 60+
  (``population_60plus``) within ``d`` metres (500 m by default) of a venue
  suited to them (``settings.AGE_FRIENDLY_KINDS``: fitness paths, parks,
  sports-health centres, gymnasiums) / residents aged 60+.
- Facilities are assigned to districts by their ``district`` column or, when
  it is missing, by the district boundary containing their representative
  point. The citywide row counts every facility and cell.
- **Gap to target** (:func:`area_gap`): venue area missing for a per-capita
  target, ``max(target x population - venue area, 0)``, and the area each lever
  of :func:`lever_areas` adds (new sites, trails, opening closed school venues,
  larger sites).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._columns import covered_column, distance_to_kinds
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import InputDataError

__all__ = [
    "CITYWIDE",
    "LARGE_FITNESS_CENTRE_MIN_AREA_M2",
    "LEVERS",
    "CellDistricts",
    "area_gap",
    "cell_districts",
    "compute_indicators",
    "five_ones",
    "lever_areas",
    "planner_scorecard",
    "scorecard",
    "scorecard_before_after",
    "venue_area_m2",
]

logger = logging.getLogger(__name__)

#: Name of the row that aggregates the whole study area.
CITYWIDE: str = "citywide"

#: Floor area that makes a fitness centre the city-level "large fitness centre"
#: (全民健身中心) of the five ones. Only ``fitness_centre`` rows qualify (a
#: gymnasium is its own item of the five ones, so it is not counted twice).
LARGE_FITNESS_CENTRE_MIN_AREA_M2: float = 2_000.0


def _share(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else math.nan


def venue_area_m2(facilities: gpd.GeoDataFrame, *, trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M) -> pd.Series:
    """Counted sports venue field area of each facility (m²), indexed like ``facilities``.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        With ``kind``, ``area_m2`` and ``open_to_public``.
    trail_width_m : float, default 2
        Width turning a fitness trail's length into area where ``area_m2`` is missing.

    Returns
    -------
    pandas.Series
        0 for kinds not counted (parks, playgrounds), closed school venues and
        missing areas.

    Examples
    --------
    >>> venues = gpd.GeoDataFrame({"kind": ["gymnasium", "park", "school_venue"], "area_m2": [3000.0, 50000.0, 800.0],
    ...                            "open_to_public": [True, True, False]})
    >>> venue_area_m2(venues).tolist()  # parks and closed school venues count 0
    [3000.0, 0.0, 0.0]
    """
    for column in ("kind",):
        if column not in facilities.columns:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    kind = facilities["kind"].astype(str).to_numpy()
    area = (
        pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype=float, copy=True)
        if "area_m2" in facilities.columns
        else np.full(len(facilities), np.nan)
    )
    trail_missing = (kind == "fitness_trail") & np.isnan(area)
    if trail_missing.any() and facilities.crs is not None:
        trails = facilities.loc[trail_missing]
        lines = trails.geometry if not trails.crs.is_geographic else trails.to_crs(metric_crs_for(trails)).geometry
        is_line = np.isin(shapely.get_type_id(np.asarray(lines.values)), (1, 2, 5))
        area[trail_missing] = np.where(is_line, lines.length.to_numpy() * trail_width_m, np.nan)
    negative = area < 0
    if negative.any():
        rows = ", ".join(str(r) for r in np.flatnonzero(negative)[:5])
        msg = (
            f"facilities: column `area_m2` has {int(negative.sum())} negative values (rows {rows}); "
            "areas are field areas in m², fix or drop those rows"
        )
        raise InputDataError(msg)
    counted = np.isin(kind, list(settings.AREA_COUNTED_KINDS)) & ~np.isnan(area)
    if "open_to_public" in facilities.columns:  # school venues count when open to the public
        counted &= (kind != "school_venue") | facilities["open_to_public"].fillna(False).astype(bool).to_numpy()
    name = "area_m2" if "area_m2" in facilities.columns else None
    return pd.Series(np.where(counted, area, 0.0), index=facilities.index, name=name)


def _facility_districts(facilities: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> pd.Series:
    district = (
        facilities["district"].astype(object).where(facilities["district"].notna(), None)
        if "district" in facilities.columns
        else pd.Series(None, index=facilities.index, dtype=object)
    )
    missing = district.isna()
    if missing.any() and boundaries is not None and len(facilities):
        bounds = _district_boundaries(boundaries)
        if facilities.crs is None:
            msg = "facilities: no CRS; cannot place facilities in district boundaries (set it with gdf.set_crs)"
            raise InputDataError(msg)
        bounds = bounds.to_crs(facilities.crs)
        points = facilities.loc[missing].geometry.representative_point()
        joined = gpd.sjoin(
            gpd.GeoDataFrame(geometry=points, crs=facilities.crs), bounds[["name_en", "geometry"]], predicate="within"
        )
        joined = joined[~joined.index.duplicated(keep="first")]
        district.loc[joined.index] = joined["name_en"].to_numpy()
    return district


def _district_boundaries(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "name_en" not in boundaries.columns:
        msg = "boundaries: column `name_en` is missing; read boundaries with ordos_geo.io.read_boundaries"
        raise InputDataError(msg)
    if "level" in boundaries.columns:
        boundaries = boundaries[boundaries["level"] == "district"]
    return boundaries


@dataclass(frozen=True)
class CellDistricts:
    """The cells' districts as integer codes, grouped once for the per-district sums of :func:`compute_indicators`.

    Built by :func:`cell_districts`; a study's cells keep their districts, so
    its first and after-plan runs (and what-if changes) share one.

    Attributes
    ----------
    names : list
        The districts holding cells, in order of first appearance: code ``i`` is ``names[i]``.
    codes : numpy.ndarray
        Each cell's district code (-1: no district).
    order : numpy.ndarray
        Cell positions sorted by code, stably: each district's cells in their own order.
    starts : numpy.ndarray
        Where the cells of code ``i`` start in ``order`` (``len(names) + 1`` entries, the last ``len(order)``).

    Examples
    --------
    >>> districts = cell_districts(pd.DataFrame({"district": ["Dongsheng", "Kangbashi", "Dongsheng"]}))
    >>> isinstance(districts, CellDistricts), districts.names, districts.codes.tolist()
    (True, ['Dongsheng', 'Kangbashi'], [0, 1, 0])
    """

    names: list[Any]
    codes: np.ndarray
    order: np.ndarray
    starts: np.ndarray


def cell_districts(cells: pd.DataFrame) -> CellDistricts:
    """Group the cells by their ``district`` column, for :func:`compute_indicators` (``districts=``).

    Parameters
    ----------
    cells : pandas.DataFrame
        Population cells with ``district`` (missing or null: no district).

    Returns
    -------
    CellDistricts

    Examples
    --------
    >>> groups = cell_districts(pd.DataFrame({"district": ["Dongsheng", None, "Kangbashi", "Dongsheng"]}))
    >>> groups.names, groups.codes.tolist(), groups.order.tolist(), groups.starts.tolist()
    (['Dongsheng', 'Kangbashi'], [0, -1, 1, 0], [1, 0, 3, 2], [1, 3, 4])
    """
    if "district" in cells.columns:
        codes, uniques = pd.factorize(cells["district"])
        names = list(uniques)
    else:
        codes, names = np.full(len(cells), -1, dtype=np.intp), []
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(names) + 1), side="left")
    return CellDistricts(names=names, codes=codes, order=order, starts=starts)


def _district_sums(
    values: np.ndarray, masks: Mapping[str, np.ndarray | None], groups: CellDistricts
) -> dict[str, list[float]]:
    """Sums of ``values`` where each mask holds (everywhere for None): per district code, citywide, then 0.0.

    Each district's values are summed in the cells' order, as ``values[in_district & mask].sum()`` would:
    the same numbers to the last bit, without a pass over every cell per district and mask. The last
    entry (0.0) is that of a district without cells.
    """
    ordered = values[groups.order]
    bounds = list(zip(groups.starts[:-1].tolist(), groups.starts[1:].tolist(), strict=True))
    out = {}
    for key, mask in masks.items():
        kept = None if mask is None else mask[groups.order]
        totals = [
            float(ordered[start:stop].sum() if kept is None else ordered[start:stop][kept[start:stop]].sum())
            for start, stop in bounds
        ]
        totals.append(float(values.sum() if mask is None else values[mask].sum()))
        out[key] = [*totals, 0.0]
    return out


def _cell_figures(
    cells: pd.DataFrame,
    population: np.ndarray,
    districts: CellDistricts,
    *,
    thresholds_m: Sequence[float],
    age_distance_m: float,
    age_friendly_kinds: Sequence[str],
) -> tuple[list[float], dict[str, list[float]], dict[str, list[float]]]:
    """The cells' figures of :func:`compute_indicators` per district code, then citywide, then a district without cells.

    Returns the residents, the coverage figures (``share_within_<t>m``, ``share_covered_service``,
    ``population_underserved``) and the later ones (the scenarios' shares and the older residents').
    """

    def flags(column: str) -> np.ndarray:
        return cells[column].fillna(False).astype(bool).to_numpy()

    covered = {
        column.replace("covered_", "share_within_"): flags(column) if column in cells.columns else None
        for column in [covered_column(t) for t in thresholds_m]
    }
    covered["share_covered_service"] = flags("covered_service") if "covered_service" in cells.columns else None
    scenarios = {
        f"share_within_{round(float(t))}m_{scenario}": flags(covered_column(t, scenario))
        for scenario in ("evenings", "winter")
        for t in thresholds_m
        if covered_column(t, scenario) in cells.columns
    }
    masks = {"": None, **{column: mask for column, mask in covered.items() if mask is not None}, **scenarios}
    if "underserved" in cells.columns:  # the residents outside the 15-minute circle (the underserved neighbourhoods')
        masks["population_underserved"] = flags("underserved")
    people = _district_sums(population, masks, districts)
    pop = people[""]

    def shares(column: str) -> list[float]:
        return [_share(part, whole) for part, whole in zip(people[column], pop, strict=True)]

    coverage = {
        column: shares(column) if mask is not None else [math.nan] * len(pop) for column, mask in covered.items()
    }
    if "population_underserved" in masks:
        coverage["population_underserved"] = people["population_underserved"]
    later = {column: shares(column) for column in scenarios}
    if "population_60plus" in cells.columns:
        older = pd.to_numeric(cells["population_60plus"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        near = distance_to_kinds(cells, age_friendly_kinds) <= age_distance_m
        aged = _district_sums(older, {"": None, "near": near}, districts)
        later["population_60plus"] = aged[""]
        later[f"share_60plus_within_{round(float(age_distance_m))}m"] = [
            _share(part, whole) for part, whole in zip(aged["near"], aged[""], strict=True)
        ]
    return pop, coverage, later


def compute_indicators(
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    age_distance_m: float = settings.DEFAULT_AGE_DISTANCE_M,
    age_friendly_kinds: Sequence[str] = settings.AGE_FRIENDLY_KINDS,
    districts: CellDistricts | None = None,
) -> pd.DataFrame:
    """Plan indicators per district and citywide.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Population cells with ``population``, ``district`` and the
        ``covered_<t>m`` / ``covered_service`` columns of
        :func:`ordos_geo.accessibility.compute_accessibility` (coverage
        columns that are missing give NaN shares).
    facilities : geopandas.GeoDataFrame
        All facilities (``kind``, ``area_m2``, ``open_to_public``, optional
        ``district``), including closed school venues.
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries (``name_en``, ``level``) to place facilities that
        have no ``district``, and to list districts without cells.
    thresholds_m : sequence of float, default (300, 500, 1000)
        Coverage tiers reported as ``share_within_<t>m``.
    trail_width_m : float, default 2
        Width of fitness trails whose ``area_m2`` is missing.
    age_distance_m : float, default 500
        Walk suited to residents aged 60+ (``share_60plus_within_<d>m``).
    age_friendly_kinds : sequence of str, default settings.AGE_FRIENDLY_KINDS
        Venues suited to them (their ``dist_m_<kind>`` columns are used).
    districts : CellDistricts, optional
        ``cell_districts(cells)``, when at hand: the cells of a study keep
        their districts, so its runs group them once
        (``Study.cell_districts``); grouped here otherwise.

    Returns
    -------
    pandas.DataFrame
        One row per district, then a ``"citywide"`` row: ``district``,
        ``population``, ``venue_area_m2``, ``per_capita_area_m2`` (m² per
        resident), ``n_school_venues``, ``n_school_venues_open``,
        ``n_school_venues_open_unknown``, ``open_school_share``, ``share_within_<t>m`` per tier,
        ``share_covered_service``, ``n_facilities``, ``n_<kind>`` for every
        kind of ``settings.FACILITY_KINDS``, ``n_missing_area``; then, when the
        cells have them, ``share_within_<t>m_<scenario>`` per scenario and
        tier, ``population_60plus`` and ``share_60plus_within_<d>m``; when the
        cells have ``underserved``, ``population_underserved`` (the residents
        outside the 15-minute circle, whom the underserved neighbourhoods hold).

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"population": [600.0, 400.0], "district": ["Dongsheng", "Dongsheng"],
    ...                           "covered_300m": [True, False], "covered_1000m": [True, True]})
    >>> venues = gpd.GeoDataFrame({"kind": ["gymnasium"], "area_m2": [3000.0], "district": ["Dongsheng"]})
    >>> table = compute_indicators(cells, venues, thresholds_m=(300, 1000))
    >>> table[["district", "population", "per_capita_area_m2", "share_within_300m"]]
        district  population  per_capita_area_m2  share_within_300m
    0  Dongsheng      1000.0                 3.0                0.6
    1   citywide      1000.0                 3.0                0.6
    """
    if "population" not in cells.columns:
        msg = "population cells: column `population` is missing; read cells with ordos_geo.io.read_population"
        raise InputDataError(msg)
    population = pd.to_numeric(cells["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    # districts as integer codes grouped once: comparing 800k strings per district is the slow part otherwise
    if districts is None:
        districts = cell_districts(cells)
    elif len(districts.codes) != len(cells):
        msg = (
            f"compute_indicators: `districts` groups {len(districts.codes)} cells, not {len(cells)}; "
            "pass cell_districts(cells)"
        )
        raise InputDataError(msg)
    code_of = {name: i for i, name in enumerate(districts.names)}
    fac_district = _facility_districts(facilities, boundaries).to_numpy()
    area = venue_area_m2(facilities, trail_width_m=trail_width_m).to_numpy(dtype=float)
    kind = facilities["kind"].astype(str).to_numpy()
    open_ = (
        facilities["open_to_public"].fillna(False).astype(bool).to_numpy()
        if "open_to_public" in facilities.columns
        else np.ones(len(facilities), dtype=bool)
    )
    # open_to_public None: not known (OSM schools); the share is then unknown, not a guess
    unknown_open = (
        facilities["open_to_public"].isna().to_numpy()
        if "open_to_public" in facilities.columns
        else np.zeros(len(facilities), dtype=bool)
    )
    raw_area = (
        pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in facilities.columns
        else np.full(len(facilities), np.nan)
    )
    missing_area = np.isin(kind, list(settings.AREA_COUNTED_KINDS)) & np.isnan(raw_area) & (kind != "fitness_trail")

    pop, coverage, later = _cell_figures(
        cells,
        population,
        districts,
        thresholds_m=thresholds_m,
        age_distance_m=age_distance_m,
        age_friendly_kinds=age_friendly_kinds,
    )
    names = set(code_of) | {d for d in fac_district if d is not None}
    if boundaries is not None:
        names |= set(_district_boundaries(boundaries)["name_en"].dropna().astype(str))
    rows = []
    for name in [*sorted(names, key=str), CITYWIDE]:
        # the cells' figures: the district's code, then citywide, then a district without cells
        slot = len(districts.names) if name == CITYWIDE else code_of.get(name, len(districts.names) + 1)
        fmask = np.ones(len(facilities), bool) if name == CITYWIDE else fac_district == name
        venue = float(area[fmask].sum())
        school = fmask & (kind == "school_venue")
        row = {
            "district": name,
            "population": pop[slot],
            "venue_area_m2": venue,
            "per_capita_area_m2": _share(venue, pop[slot]),
            "n_school_venues": int(school.sum()),
            "n_school_venues_open": int((school & open_).sum()),
            "n_school_venues_open_unknown": int((school & unknown_open).sum()),
            "open_school_share": math.nan
            if (school & unknown_open).any()
            else _share(float((school & open_).sum()), float(school.sum())),
        }
        row.update({column: values[slot] for column, values in coverage.items()})
        row["n_facilities"] = int(fmask.sum())
        for k in settings.FACILITY_KINDS:
            row[f"n_{k}"] = int((fmask & (kind == k)).sum())
        row["n_missing_area"] = int((fmask & missing_area).sum())
        row.update({column: values[slot] for column, values in later.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    city = table.iloc[-1]
    logger.info(
        "indicators: %d districts; citywide %.2f m² per resident, %s residents",
        len(table) - 1,
        city["per_capita_area_m2"],
        f"{city['population']:,.0f}",
    )
    return table


def five_ones(facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """The city-level "five ones" checklist (一场一馆一池一中心一公园).

    Items and rules: ``stadium`` (any stadium), ``gymnasium`` (any gymnasium),
    ``swimming_hall`` (any swimming pool), ``large_fitness_centre`` (a
    ``fitness_centre`` of at least :data:`LARGE_FITNESS_CENTRE_MIN_AREA_M2`),
    ``sports_park`` (a sports park of at least
    ``settings.SPORTS_PARK_MIN_AREA_M2``, 4 ha, of *land*: the polygon's own
    area when the park is mapped as a polygon, since ``area_m2`` holds only its
    sports field area; ``area_m2`` for a park given as a point).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        With ``kind``, ``name``, ``area_m2``.

    Returns
    -------
    pandas.DataFrame
        ``item``, ``kinds``, ``rule``, ``present`` (bool), ``n``, ``names``
        (``"; "``-joined names of the qualifying facilities).

    Examples
    --------
    >>> hall = {"facility_id": ["a"], "name": ["东胜体育馆"], "kind": ["gymnasium"], "area_m2": [3000.0]}
    >>> venues = gpd.GeoDataFrame(hall, geometry=gpd.points_from_xy([109.96], [39.82]), crs=4326)
    >>> five_ones(venues)[["item", "present", "n"]].head(3)
                item  present  n
    0        stadium    False  0
    1      gymnasium     True  1
    2  swimming_hall    False  0
    """
    # numpy arrays: five items over a city's venues, where pandas' per-call overhead is most of the time
    kind = facilities["kind"].astype(str).to_numpy()
    area = (
        pd.to_numeric(facilities["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in facilities.columns
        else np.full(len(facilities), np.nan)
    )
    land_area = area
    if facilities.crs is not None and len(facilities):
        polygon = np.isin(shapely.get_type_id(np.asarray(facilities.geometry.values)), (3, 6))
        metric = (
            facilities.geometry
            if not facilities.crs.is_geographic
            else facilities.geometry.to_crs(metric_crs_for(facilities))
        )
        polygon_area = shapely.area(np.asarray(metric.values))
        area = np.where(np.isnan(area) & polygon, polygon_area, area)
        land_area = np.where(polygon, polygon_area, land_area)
    names = (
        facilities["name"].astype(str)
        if "name" in facilities.columns
        else facilities.get("facility_id", pd.Series(facilities.index.astype(str), index=facilities.index)).astype(str)
    ).to_numpy()
    min_area = {
        "large_fitness_centre": LARGE_FITNESS_CENTRE_MIN_AREA_M2,
        "sports_park": settings.SPORTS_PARK_MIN_AREA_M2,
    }
    rows = []
    for item, kinds in settings.CITY_LEVEL_FIVE_ONES.items():
        mask = np.isin(kind, kinds)
        rule = f"kind in {', '.join(kinds)}"
        if item == "sports_park":
            mask &= land_area >= min_area[item]
            rule += f" and land area (polygon, else area_m2) >= {min_area[item]:,.0f} m²"
        elif item in min_area:
            mask &= area >= min_area[item]
            rule += f" and area_m2 >= {min_area[item]:,.0f}"
        chosen = sorted(names[mask])
        rows.append(
            {
                "item": item,
                "kinds": ", ".join(kinds),
                "rule": rule,
                "present": bool(mask.any()),
                "n": int(mask.sum()),
                "names": "; ".join(chosen),
            }
        )
    return pd.DataFrame(rows)


def scorecard(
    indicators: pd.DataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    *,
    targets: Sequence[settings.PlanTarget] = settings.PLAN_TARGETS,
    new_counts: Mapping[str, float] | None = None,
    district: str = CITYWIDE,
    planner_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Score the plan's targets: met or not, and the gap in the target's own unit.

    Parameters
    ----------
    indicators : pandas.DataFrame
        Output of :func:`compute_indicators`.
    facilities : geopandas.GeoDataFrame, optional
        For the ``five_ones`` target (value NaN without it).
    targets : sequence of settings.PlanTarget, default settings.PLAN_TARGETS
        The targets.
    new_counts : mapping, optional
        Values of the build targets (keys ``new_*``, e.g. the number of new
        sports parks a siting plan proposes, km of new trails); default 0.
    district : str, default "citywide"
        Which row of ``indicators`` to score.
        When ``indicators`` has ``share_within_1000m_winter`` (the winter
        scenario), a row ``winter_indoor_1000m`` follows the plan's targets:
        not an official target, shown for comparison.
    planner_values : pandas.DataFrame, optional
        The non-spatial figures a planner entered
        (:func:`ordos_geo.io.read_planner_targets`). The non-spatial targets
        (``settings.PLANNER_TARGETS``) follow the others, each with the value
        of :func:`planner_scorecard` for ``district``; a target without a
        figure is listed with status ``not_computed`` (this tool does not
        compute it), never left out.

    Returns
    -------
    pandas.DataFrame
        ``key``, ``description``, ``year``, ``source``, ``target``, ``value``,
        ``unit``, ``met`` (bool), ``gap`` (``max(target - value, 0)``; NaN
        when the value or the target is unknown), ``status``
        (``settings.SCORECARD_STATUSES``: ``met``, ``not_met``, ``unknown``
        when the study cannot measure it, ``not_computed`` for a non-spatial
        target without a figure, ``no_target`` for a measure the plans give no
        figure for: the 300 / 500 m tiers of the 15-minute circle, whose
        shares are shown as values).

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"population": [600.0, 400.0], "district": ["Dongsheng", "Dongsheng"],
    ...                           "covered_1000m": [True, True]})
    >>> venues = gpd.GeoDataFrame({"kind": ["gymnasium"], "area_m2": [3000.0], "district": ["Dongsheng"]})
    >>> card = scorecard(compute_indicators(cells, venues))
    >>> card.set_index("key").loc[["per_capita_area_2024", "fitness_circle_15min"], ["target", "value", "status"]]
                          target  value   status
    key
    per_capita_area_2024     3.4    3.0  not_met
    fitness_circle_15min     1.0    1.0      met
    """
    row = indicators.loc[indicators["district"] == district]
    if row.empty:
        msg = f"indicators: no row for district {district!r}; choose one of {indicators['district'].tolist()}"
        raise InputDataError(msg)
    row = row.iloc[0]
    new_counts = dict(new_counts or {})
    n_five = float(five_ones(facilities)["present"].sum()) if facilities is not None else math.nan

    def value_of(target: settings.PlanTarget) -> float:
        key = target.key
        if key.startswith("new_"):
            return float(new_counts.get(key, 0.0))
        if key == "five_ones":
            return n_five
        if target.unit == "m2_per_capita":
            return float(row.get("per_capita_area_m2", math.nan))
        if key == "open_school_share":
            return float(row.get("open_school_share", math.nan))
        if key in settings.FITNESS_CIRCLE_TARGETS_M:
            return float(row.get(f"share_within_{settings.FITNESS_CIRCLE_TARGETS_M[key]}m", math.nan))
        logger.warning("scorecard: no rule to measure target %r; its value is left unknown", key)
        return math.nan

    records = [_scored(target, value_of(target)) for target in targets]
    winter = row.get("share_within_1000m_winter", math.nan)
    if not math.isnan(float(winter)):
        # not a plan target: the 15-minute circle again, with the indoor venues that serve in winter only
        winter_row = settings.PlanTarget(
            "winter_indoor_1000m",
            "population share within a 1,000 m walk of an indoor venue in winter (not official)",
            1.0,
            "share",
            2025,
            settings.WINTER_NOTE,
        )
        records.append(_scored(winter_row, float(winter)))
    entered = pd.DataFrame(columns=["key", "value"])
    if planner_values is not None:
        entered = planner_scorecard(planner_values, indicators)
        entered = entered[(entered["district"] == district) & entered["value"].notna()]
    given = dict(zip(entered["key"], entered["value"], strict=True))
    for target in settings.PLANNER_TARGETS:
        records.append(_scored(target, float(given.get(target.key, math.nan)), status="not_computed"))
    return pd.DataFrame(records)


def _scored(target: settings.PlanTarget, value: float, *, status: str = "unknown") -> dict[str, Any]:
    """One scorecard row: ``target`` against ``value``; ``status`` is the one an unknown value gets.

    A target without a figure (``settings.NO_TARGET``) gives its value with status ``no_target``.
    """
    known = not math.isnan(value)
    if math.isnan(target.target):
        known, status = False, "no_target"
    met = bool(known and value >= target.target - 1e-12)
    return {
        "key": target.key,
        "description": target.description,
        "year": target.year,
        "source": target.source,
        "target": float(target.target),
        "value": value,
        "unit": target.unit,
        "met": met,
        "gap": max(float(target.target) - value, 0.0) if known else math.nan,
        "status": ("met" if met else "not_met") if known else status,
    }


def scorecard_before_after(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per target: today's value and status beside the ones after the plan.

    Parameters
    ----------
    before, after : pandas.DataFrame
        :func:`scorecard` of the study as it is and with the plan built
        (same targets; a target missing from ``after`` has no value after).

    Returns
    -------
    pandas.DataFrame
        ``key``, ``description``, ``year``, ``source``, ``target``, ``unit``,
        ``value``, ``status`` (today), ``value_after``, ``status_after``,
        ``gap_after``, ``met_after``; the values are those of the two
        scorecards, not computed again.

    Examples
    --------
    >>> import pandas as pd
    >>> from ordos_geo import indicators
    >>> today = indicators.scorecard(pd.DataFrame({"district": ["citywide"], "per_capita_area_m2": [3.0]}))
    >>> after = indicators.scorecard(pd.DataFrame({"district": ["citywide"], "per_capita_area_m2": [3.6]}))
    >>> row = indicators.scorecard_before_after(today, after).set_index("key").loc["per_capita_area_2024"]
    >>> (float(row["value"]), row["status"], float(row["value_after"]), row["status_after"])
    (3.0, 'not_met', 3.6, 'met')
    """
    shown = ["key", "description", "year", "source", "target", "unit", "value", "status"]
    later = after.set_index("key")[["value", "status", "gap", "met"]]
    later = later.rename(columns=lambda c: f"{c}_after")
    table = before[shown].join(later, on="key")
    table["status_after"] = table["status_after"].fillna("unknown")
    table["met_after"] = table["met_after"].fillna(False).astype(bool)
    return table


def planner_scorecard(planner_values: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    """Score the non-spatial targets a planner entered, per district and citywide.

    For each district and indicator the latest year's value is scored against
    ``settings.PLANNER_TARGETS`` (``year`` is the target's year; ``value_year``
    and ``value_source`` say where the value comes from). The citywide value is the planner's own
    ``citywide`` row when given, else the mean of the district values weighted
    by the districts' residents in ``indicators`` (the source then says so).

    Parameters
    ----------
    planner_values : pandas.DataFrame
        From :func:`ordos_geo.io.read_planner_targets`.
    indicators : pandas.DataFrame
        From :func:`compute_indicators` (``district``, ``population``).

    Returns
    -------
    pandas.DataFrame
        ``district``, ``key``, ``description``, ``year``, ``source``,
        ``value_year``, ``value_source``, ``target``, ``value``, ``unit``,
        ``met``, ``gap``; one row per
        district with a value and per target citywide (value NaN when no
        district gave one).

    Examples
    --------
    >>> values = pd.DataFrame({"district": ["Dongsheng"], "indicator": ["sports_instructors_per_1000"],
    ...                        "year": [2024], "value": [2.9], "source": ["体育局"]})  # read_planner_targets' table
    >>> today = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [1000.0, 1000.0]})
    >>> planner_scorecard(values, today)[["district", "key", "target", "value", "met"]].head(2)
        district                          key  target  value    met
    0  Dongsheng  sports_instructors_per_1000     3.4    2.9  False
    1   citywide  sports_instructors_per_1000     3.4    2.9  False
    """
    latest = planner_values.sort_values("year", kind="stable").groupby(["district", "indicator"]).tail(1)
    population = indicators.set_index("district")["population"].astype(float)
    rows = []
    for target in settings.PLANNER_TARGETS:
        given = latest[latest["indicator"] == target.key]
        districts = given[given["district"] != CITYWIDE]
        city = given[given["district"] == CITYWIDE]
        for district, value, year, source in districts[["district", "value", "year", "source"]].itertuples(index=False):
            rows.append((district, target, float(value), int(year), str(source)))
        if len(city):
            rows.append(
                (CITYWIDE, target, float(city["value"].iloc[0]), int(city["year"].iloc[0]), str(city["source"].iloc[0]))
            )
        else:
            weights = districts["district"].map(population).fillna(0.0).to_numpy(dtype=float)
            value = float(np.average(districts["value"], weights=weights)) if weights.sum() > 0 else math.nan
            year = int(districts["year"].max()) if len(districts) else target.year
            source = "mean of the district values weighted by residents" if len(districts) else ""
            rows.append((CITYWIDE, target, value, year, source))
    records = []
    for district, target, value, year, source in rows:
        known = not math.isnan(value)
        records.append(
            {
                "district": district,
                "key": target.key,
                "description": target.description,
                "year": target.year,
                "source": target.source,
                "value_year": year,
                "value_source": source,
                "target": float(target.target),
                "value": value,
                "unit": target.unit,
                "met": bool(known and value >= target.target - 1e-12),
                "gap": max(float(target.target) - value, 0.0) if known else math.nan,
            }
        )
    return pd.DataFrame(records)


#: The levers that close the venue-area gap, in the order :func:`area_gap` applies them: the plan's
#: new sites and trails, then opening the closed school venues, then building the new sites larger.
LEVERS: tuple[str, ...] = ("new_sites", "trails", "opened_schools", "open_schools", "larger_sites")


def _by_district(values: np.ndarray, district: np.ndarray) -> dict[str | None, float]:
    totals: dict[str | None, float] = {}
    for name, value in zip(district, values.astype(float, copy=False), strict=True):
        key = None if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
        totals[key] = totals.get(key, 0.0) + (0.0 if math.isnan(value) else float(value))
    return totals


def lever_areas(
    facilities: gpd.GeoDataFrame,
    *,
    sites: pd.DataFrame | None = None,
    trails: gpd.GeoDataFrame | None = None,
    trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    opened: Sequence[str] = (),
) -> dict[str, dict[str | None, float]]:
    """Venue area (m²) each lever of the plan adds, per district.

    Levers (keys of :data:`LEVERS`):

    - ``new_sites``: the chosen sites' ``added_venue_area_m2``;
    - ``trails``: the planned trails' area (``area_m2``, else length x ``trail_width_m``);
    - ``opened_schools``: ``area_m2`` of the closed school venues the plan opens
      (``opened``, their ``facility_id``; :func:`ordos_geo.siting.plan_school_opening`);
    - ``open_schools``: ``area_m2`` of the other school venues not open to the
      public today (they count once opened; see :func:`venue_area_m2`);
    - ``larger_sites``: each chosen site built as large as the largest existing
      facility of its kind in the study (local precedent), but no larger than its
      parcel (``area_m2`` of the site, when known): that size minus
      ``added_venue_area_m2``, at least 0 (0 for a kind with no existing facility).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Existing facilities (``kind``, ``area_m2``, ``open_to_public``, ``district``).
    sites : pandas.DataFrame, optional
        Chosen sites (``kind``, ``district``, ``added_venue_area_m2``, optional
        ``area_m2`` of the parcel), e.g. ``SitingResult.chosen``.
    trails : geopandas.GeoDataFrame, optional
        Planned trails as facilities (``kind`` ``fitness_trail``, ``district``),
        e.g. ``TrailPlan.as_facilities()`` with districts assigned.
    trail_width_m : float, default 2
        Width of trails without ``area_m2``.
    opened : sequence of str, optional
        ``facility_id`` of the school venues the plan opens.

    Returns
    -------
    dict
        Lever -> {district (None = outside every district): m²}.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point
    >>> schools = gpd.GeoDataFrame({"kind": ["school_venue"], "area_m2": [8000.0], "open_to_public": [False],
    ...                             "district": ["Dongsheng"]}, geometry=[Point(0, 0)], crs=4546)
    >>> lever_areas(schools)["open_schools"]
    {'Dongsheng': 8000.0}
    """
    # numpy arrays: a few masks over a city's venues, where pandas' per-call overhead is most of the time
    district = (
        facilities["district"].to_numpy(dtype=object)
        if "district" in facilities.columns
        else np.full(len(facilities), None, dtype=object)
    )
    closed = (facilities["kind"].astype(str).to_numpy() == "school_venue") & ~(
        facilities["open_to_public"].fillna(False).astype(bool).to_numpy()
        if "open_to_public" in facilities.columns
        else np.ones(len(facilities), dtype=bool)
    )
    area = pd.to_numeric(facilities.get("area_m2", pd.Series(np.nan, index=facilities.index)), errors="coerce")
    levers: dict[str, dict[str | None, float]] = {lever: {} for lever in LEVERS}
    chosen = (
        facilities["facility_id"].astype(str).isin({str(i) for i in opened}).to_numpy()
        if "facility_id" in facilities.columns
        else np.zeros(len(facilities), dtype=bool)
    )
    values = area.to_numpy(dtype=float)
    levers["opened_schools"] = _by_district(values[closed & chosen], district[closed & chosen])
    levers["open_schools"] = _by_district(values[closed & ~chosen], district[closed & ~chosen])
    if sites is not None and len(sites):
        site_district = sites["district"].to_numpy(dtype=object)
        added = pd.to_numeric(sites["added_venue_area_m2"], errors="coerce")
        levers["new_sites"] = _by_district(added.to_numpy(dtype=float), site_district)
        largest = area.groupby(facilities["kind"].astype(str)).max()
        size = sites["kind"].astype(str).map(largest).astype(float)
        if "area_m2" in sites.columns:
            # a parcel caps the size; np.fmin keeps the size where the parcel is unknown (NaN stays NaN
            # only when there is no precedent of the kind, which gives 0 below)
            size = size.where(size.isna(), np.fmin(size, pd.to_numeric(sites["area_m2"], errors="coerce")))
        levers["larger_sites"] = _by_district((size - added).clip(lower=0).fillna(0.0).to_numpy(), site_district)
    if trails is not None and len(trails):
        trail_area = venue_area_m2(trails, trail_width_m=trail_width_m).to_numpy()
        levers["trails"] = _by_district(trail_area, trails["district"].to_numpy(dtype=object))
    return levers


def area_gap(
    indicators: pd.DataFrame,
    levers: Mapping[str, Mapping[str | None, float]],
    *,
    targets: Sequence[settings.PlanTarget] = settings.PLAN_TARGETS,
) -> pd.DataFrame:
    """Venue area still missing for the per-capita area targets, and what each lever closes.

    For every district (and citywide) and every target in m² per resident:
    ``required = target x population``; ``missing = max(required - venue area, 0)``
    today. The levers are applied in the order of ``levers``; each row gives the
    lever's area, its share of today's gap (``area / missing``; above 1 when the
    lever alone closes it; NaN when nothing is missing) and the area still missing
    after it and the levers before it. The citywide row counts every lever's area,
    also outside the districts; the districts' gaps do not add up to the citywide
    gap, since a district above the target does not fill another's gap.

    Parameters
    ----------
    indicators : pandas.DataFrame
        Today's indicators (:func:`compute_indicators`): ``district``,
        ``population``, ``venue_area_m2``.
    levers : mapping
        Lever -> {district: m²} (:func:`lever_areas`).
    targets : sequence of settings.PlanTarget
        Targets whose unit is ``"m2_per_capita"`` are used.

    Returns
    -------
    pandas.DataFrame
        One row per district, target and lever: ``district``, ``year``,
        ``target_m2_per_capita``, ``population``, ``venue_area_m2``,
        ``required_area_m2``, ``missing_area_m2``, ``lever``, ``area_added_m2``,
        ``share_of_gap``, ``missing_after_m2``.

    Examples
    --------
    >>> today = pd.DataFrame({"district": ["Dongsheng"], "population": [1000.0], "venue_area_m2": [3000.0]})
    >>> gap = area_gap(today, {"new_sites": {"Dongsheng": 300.0}})  # 3.4 and 3.5 m² per resident
    >>> gap[["year", "missing_area_m2", "area_added_m2", "missing_after_m2"]]
       year  missing_area_m2  area_added_m2  missing_after_m2
    0  2024            400.0          300.0             100.0
    1  2025            500.0          300.0             200.0
    """
    per_capita = [t for t in targets if t.unit == "m2_per_capita"]
    rows = []
    for _, row in indicators.iterrows():
        name = str(row["district"])
        population = float(row["population"])
        venue = float(row["venue_area_m2"])
        for target in per_capita:
            required = float(target.target) * population
            missing = max(required - venue, 0.0)
            remaining = missing
            for lever, by_district in levers.items():
                added = float(sum(by_district.values())) if name == CITYWIDE else float(by_district.get(name, 0.0))
                remaining = max(remaining - added, 0.0)
                rows.append(
                    {
                        "district": name,
                        "year": int(target.year),
                        "target_m2_per_capita": float(target.target),
                        "population": population,
                        "venue_area_m2": venue,
                        "required_area_m2": required,
                        "missing_area_m2": missing,
                        "lever": lever,
                        "area_added_m2": added,
                        "share_of_gap": added / missing if missing > 0 else math.nan,
                        "missing_after_m2": remaining,
                    }
                )
    return pd.DataFrame(rows)
