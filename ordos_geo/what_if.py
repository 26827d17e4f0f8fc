"""What-if: the indicators and scorecard after a planner adds, moves or closes venues, in about a second.

:func:`what_if` takes the results of a run and a change (venues to add, ids to
remove; moving a venue is both), updates the accessibility incrementally
(:func:`ordos_geo.pipeline.update_accessibility`: searches run only from the
venues that changed) and recomputes the indicators and the scorecard from it.
The numbers are those a full run with the changed facility table gives.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import indicators, settings
from ordos_geo._columns import dist_column, nearest_id_column
from ordos_geo._errors import InputDataError
from ordos_geo.io import find_name_column, venue_columns
from ordos_geo.pipeline import (
    StudyResults,
    assign_districts,
    before_after_table,
    nearest_district_within,
    study_indicators,
    update_accessibility,
)
from ordos_geo.pipeline.stages import new_facility_counts
from ordos_geo.routing import snap_points

__all__ = ["WhatIf", "what_if"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class WhatIf:
    """What a change to the venues does: the outputs of :func:`what_if`.

    Attributes
    ----------
    indicators : pandas.DataFrame
        The indicators that changed, one row per district and figure:
        ``district``, ``indicator``, ``before``, ``after``, ``change``.
    scorecard : pandas.DataFrame
        The plan's scorecard after the change (as :func:`ordos_geo.indicators.scorecard`),
        with ``value_before`` and ``met_before`` beside ``value`` and ``met``.
    cells : geopandas.GeoDataFrame
        The cells whose walking distance to any venue (or to a venue of some
        kind, or in a scenario) changed: ``cell_id``, ``district``,
        ``population``, ``dist_m_any_before``, ``dist_m_any_after``,
        ``nearest_id_any_before``, ``nearest_id_any_after`` and their polygon.
    indicators_after : pandas.DataFrame
        Every indicator after the change (:func:`ordos_geo.indicators.compute_indicators`).
    facilities : geopandas.GeoDataFrame
        The facility table after the change.
    accessibility : ordos_geo.accessibility.AccessibilityResult
        The accessibility after the change (without service-area polygons:
        no map shows them).
    base : str
        ``"plan"`` (the change was made to the plan's venues) or ``"existing"``.
    timings_s : dict
        Seconds spent updating the accessibility and the indicators.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> results = pipeline.analyse_study(pipeline.load_study())  # doctest: +SKIP
    >>> change = what_if(results, remove=["F012"])  # close one venue of the plan's set  # doctest: +SKIP
    >>> change.base, list(change.indicators.columns)  # doctest: +SKIP
    ('plan', ['district', 'indicator', 'before', 'after', 'change'])
    """

    indicators: pd.DataFrame
    scorecard: pd.DataFrame
    cells: gpd.GeoDataFrame
    indicators_after: pd.DataFrame
    facilities: gpd.GeoDataFrame
    accessibility: Any
    base: str
    timings_s: dict[str, float] = field(default_factory=dict)


def what_if(
    results: StudyResults,
    *,
    add: gpd.GeoDataFrame | pd.DataFrame | Iterable[Mapping[str, Any]] | None = None,
    remove: Sequence[str] = (),
    base: Literal["plan", "existing"] | None = None,
) -> WhatIf:
    """The indicators and scorecard after adding, moving or closing venues, without a full run.

    Parameters
    ----------
    results : StudyResults
        A run with the accessibility stage (:func:`ordos_geo.pipeline.run_study`
        or :func:`~ordos_geo.pipeline.analyse_study`).
    add : GeoDataFrame, DataFrame or list of dict, optional
        New venues: ``kind`` (one of ``settings.FACILITY_KINDS``) and where,
        either a geometry (a GeoDataFrame in any CRS) or ``lon`` / ``lat``
        (WGS-84 degrees) or ``x`` / ``y`` (metres in the network CRS);
        optionally ``name``, ``area_m2`` (field area in m²; default the
        typical area of the kind, ``settings.TYPICAL_AREA_M2``) and
        ``facility_id`` (default ``what_if_1``, ``what_if_2``, ...). They are
        open to the public all day.
    remove : sequence of str, optional
        ``facility_id`` of the venues to close. To move a venue, remove its id
        and add it again (same ``facility_id``) at the new place.
    base : {"plan", "existing"}, optional
        Change the venues after the plan (the new sites, opened school venues
        and trails of ``results``) or the existing ones; default the plan when
        the run has an after-plan stage.

    Returns
    -------
    WhatIf

    Raises
    ------
    InputDataError
        One line for an unknown kind, an unknown id to remove, an id that is
        already taken, a venue off the walk network or a run without the
        accessibility stage.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> results = pipeline.analyse_study(pipeline.load_study())  # doctest: +SKIP
    >>> change = what_if(  # doctest: +SKIP
    ...     results,
    ...     add=[{"kind": "multi_sport_court", "lon": 109.99, "lat": 39.83, "name": "New court"}],
    ...     remove=["F012"],
    ... )
    >>> change.indicators  # doctest: +SKIP
    >>> change.scorecard[["key", "value_before", "value", "met"]]  # doctest: +SKIP
    """
    study = results.study
    if results.accessibility is None:
        msg = "what_if: the run has no accessibility results; run the accessibility stage first (analyse_study)"
        raise InputDataError(msg)
    base = base or ("plan" if results.accessibility_after is not None else "existing")
    if base == "plan":
        if results.accessibility_after is None or results.facilities_after is None:
            msg = "what_if: base='plan' needs a run with the after-plan stage; pass base='existing'"
            raise InputDataError(msg)
        facilities, before, ind_before = results.facilities_after, results.accessibility_after, results.indicators_after
        counts = new_facility_counts(results)
        card_before = results.scorecard_after
    elif base == "existing":
        facilities, before, ind_before = study.facilities, results.accessibility, results.indicators
        counts, card_before = {}, results.scorecard
    else:
        msg = f"what_if: base must be 'plan' or 'existing', got {base!r}"
        raise InputDataError(msg)
    assert ind_before is not None and card_before is not None
    clock = time.perf_counter()
    removed = _removed_rows(facilities, remove)
    added = _new_venues(results, add, facilities, removed)
    kept = facilities.drop(index=facilities.index[removed])
    new = gpd.GeoDataFrame(pd.concat([kept, added], ignore_index=True), geometry="geometry", crs=facilities.crs)
    accessibility = update_accessibility(study, before, new, service_areas=False)  # no map shows them
    access_s = time.perf_counter() - clock
    ind_after = study_indicators(study, accessibility.cells, new)
    counts = _changed_counts(counts, study.facilities, facilities.iloc[removed], added)
    card = indicators.scorecard(ind_after, new, new_counts=counts, planner_values=study.planner_targets)
    card = card.assign(value_before=card_before["value"].to_numpy(), met_before=card_before["met"].to_numpy())
    table = before_after_table(ind_before, ind_after)
    changed = ~np.isclose(
        table["before"].to_numpy(dtype=float), table["after"].to_numpy(dtype=float), rtol=0, atol=1e-12, equal_nan=True
    )
    timings = {"accessibility": access_s, "indicators": time.perf_counter() - clock - access_s}
    logger.info(
        "what if: %d venues added, %d removed; %d indicators changed (%.2f s)",
        len(added),
        len(removed),
        int(changed.sum()),
        sum(timings.values()),
    )
    return WhatIf(
        indicators=table[changed].reset_index(drop=True),
        scorecard=card,
        cells=_changed_cells(before.cells, accessibility.cells),
        indicators_after=ind_after,
        facilities=new,
        accessibility=accessibility,
        base=base,
        timings_s=timings,
    )


def _removed_rows(facilities: gpd.GeoDataFrame, remove: Sequence[str]) -> np.ndarray:
    """Positions of the venues to close; one line naming the ids that are not there."""
    if isinstance(remove, str):
        remove = [remove]
    wanted = [str(i) for i in remove]
    ids = facilities["facility_id"].astype(str)
    unknown = sorted(set(wanted) - set(ids))
    if unknown:
        shown = ", ".join(repr(i) for i in unknown[:5])
        msg = f"what_if: remove: no venue has facility_id {shown}; the ids are in the facilities' facility_id column"
        raise InputDataError(msg)
    return np.flatnonzero(ids.isin(wanted).to_numpy())


def _as_frame(add: Any, crs: Any) -> gpd.GeoDataFrame:
    """The venues to add as a GeoDataFrame in ``crs`` (from a GeoDataFrame, lon/lat or x/y; a dict is one venue)."""
    if isinstance(add, gpd.GeoDataFrame):
        if add.crs is None:
            msg = "what_if: add has no CRS; set it (add.set_crs(4326) for lon/lat degrees)"
            raise InputDataError(msg)
        return add.to_crs(crs).reset_index(drop=True)
    if isinstance(add, Mapping):
        add = [add]
    table = add if isinstance(add, pd.DataFrame) else pd.DataFrame(list(add))
    if table.empty:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    # headers, kinds and areas as in a facility table (经度/lng, 名称, 体育公园, "1,200㎡")
    table = venue_columns(table, name="what_if: add")
    lon, lat = ("lon", "lat") if {"lon", "lat"} <= set(table.columns) else (None, None)
    if lon is not None and lat is not None:
        xy = np.column_stack([_degrees(table, lon), _degrees(table, lat)])
        _check_degrees(table, xy, (lon, lat))
        points = gpd.points_from_xy(xy[:, 0], xy[:, 1], crs=4326)
        return gpd.GeoDataFrame(table.drop(columns=[lon, lat]), geometry=points).to_crs(crs)
    if {"x", "y"} <= set(table.columns):
        points = gpd.points_from_xy(table["x"], table["y"], crs=crs)
        return gpd.GeoDataFrame(table.drop(columns=["x", "y"]), geometry=points)
    found = ", ".join(f"`{c}`" for c in table.columns)
    msg = (
        "what_if: add: give each venue lon and lat (WGS-84 degrees), x and y (network CRS metres) or a geometry; "
        f"columns found: {found}"
    )
    raise InputDataError(msg)


def _venue(table: pd.DataFrame, i: int) -> str:
    """``"venue 2 (新球场)"``: the row at position ``i`` of an ``add`` table, 1-based, with its name or id."""
    column = find_name_column(table.columns, also=("facility_id",))
    name = None if column is None else table[column].iloc[i]
    shown = f"what_if_{i + 1}" if name is None or pd.isna(name) else str(name)
    return f"venue {i + 1} ({shown})"


def _degrees(table: pd.DataFrame, column: str) -> np.ndarray:
    """A lon or lat column as numbers; one line naming the first venue without a number."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        given = table[column].iloc[bad[0]]
        said = "empty" if pd.isna(given) else f"{given!r}, not a number"
        msg = f"what_if: add: {_venue(table, bad[0])} has no coordinates (`{column}` {said}); give lon/lat degrees"
        raise InputDataError(msg)
    return values


def _check_degrees(table: pd.DataFrame, xy: np.ndarray, columns: tuple[str, str]) -> None:
    """One line for a latitude beyond ±90° or a longitude beyond ±180° (saying when they look swapped)."""
    bad = np.flatnonzero((np.abs(xy[:, 1]) > 90) | (np.abs(xy[:, 0]) > 180))
    if bad.size:
        lon, lat = xy[bad[0]]
        what = f"latitude {lat:g} is beyond ±90°" if abs(lat) > 90 else f"longitude {lon:g} is beyond ±180°"
        swapped = abs(lat) > 90 and abs(lat) <= 180 and abs(lon) <= 90
        fix = "longitude and latitude look swapped" if swapped else "give WGS-84 degrees"
        msg = f"what_if: add: {_venue(table, bad[0])}: {what}; {fix} (`{columns[0]}`, `{columns[1]}`)"
        raise InputDataError(msg)


def _new_venues(results: StudyResults, add: Any, facilities: gpd.GeoDataFrame, removed: np.ndarray) -> gpd.GeoDataFrame:
    """The venues to add in the facility schema, on the network, with their district."""
    study = results.study
    columns = list(facilities.columns)
    if add is None:
        return facilities.iloc[:0]
    frame = _as_frame(add, study.network.crs)
    if frame.empty:
        return facilities.iloc[:0]
    if "kind" not in frame.columns:
        msg = f"what_if: add: each venue needs a kind, one of {', '.join(settings.FACILITY_KINDS)}"
        raise InputDataError(msg)
    if isinstance(add, gpd.GeoDataFrame):  # a table's kinds and areas are read in _as_frame
        frame = gpd.GeoDataFrame(venue_columns(frame, name="what_if: add"), geometry=frame.geometry.name, crs=frame.crs)
    kinds = frame["kind"]
    if "facility_id" not in frame.columns:
        frame["facility_id"] = [f"what_if_{i + 1}" for i in range(len(frame))]
    frame["facility_id"] = frame["facility_id"].astype(str)
    repeated = sorted(set(frame.loc[frame["facility_id"].duplicated(), "facility_id"]))
    if repeated:
        msg = f"what_if: add: facility_id {repeated[0]!r} is given to several new venues; give each its own id"
        raise InputDataError(msg)
    taken = set(facilities["facility_id"].astype(str)) - set(facilities["facility_id"].astype(str).iloc[removed])
    clash = sorted(set(frame["facility_id"]) & taken)
    if clash:
        msg = f"what_if: add: facility_id {clash[0]!r} is already taken; give the new venue another id (or remove it)"
        raise InputDataError(msg)
    frame["name"] = (
        frame["name"].where(frame["name"].notna(), frame["facility_id"]) if "name" in frame else frame["facility_id"]
    )
    area = frame["area_m2"].astype(float) if "area_m2" in frame.columns else pd.Series(np.nan, frame.index)
    frame["area_source"] = np.where(area.isna(), "typical", "input")
    frame["area_m2"] = area.fillna(kinds.map(settings.TYPICAL_AREA_M2)).astype(float)
    frame["open_to_public"] = True
    frame["public_access"] = "full"
    _check_on_network(results, frame)
    frame = _with_districts(frame, study.boundaries)
    return gpd.GeoDataFrame(frame.reindex(columns=columns), geometry="geometry", crs=study.network.crs)


def _with_districts(frame: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The new venues' districts: the one holding each, or the nearest within the facilities' tolerance.

    As when a study's facilities are loaded (``settings.FACILITY_BOUNDARY_TOLERANCE_M``); a venue
    farther outside every district is one line (it would serve no one the study counts).
    """
    frame = assign_districts(frame, boundaries)
    if boundaries is None:
        return frame
    tolerance = settings.FACILITY_BOUNDARY_TOLERANCE_M
    frame, _, _ = nearest_district_within(frame, boundaries, max_distance_m=tolerance)
    outside = np.flatnonzero(frame["district"].isna().to_numpy())
    if len(outside):
        msg = (
            f"what_if: add: venue {frame['name'].iloc[outside[0]]!r} lies more than {tolerance:g} m outside the "
            "study's districts; place it inside the study area"
        )
        raise InputDataError(msg)
    return frame


def _check_on_network(results: StudyResults, frame: gpd.GeoDataFrame) -> None:
    """One line for a venue farther than ``max_snap_distance_m`` from every street."""
    study = results.study
    limit = study.config.max_snap_distance_m
    snaps = snap_points(study.network, frame, max_snap_distance_m=limit)
    off = np.flatnonzero(~snaps.owner_reachable())
    if len(off):
        i = off[0]
        far = snaps.owner_snap_distance_m()[i]
        msg = (
            f"what_if: add: venue {frame['name'].iloc[i]!r} is {far:,.0f} m from the nearest street of the walk "
            f"network (more than max_snap_distance_m = {limit:,.0f} m); place it on the network"
        )
        raise InputDataError(msg)


def _changed_counts(
    counts: Mapping[str, float],
    existing: gpd.GeoDataFrame,
    removed: gpd.GeoDataFrame,
    added: gpd.GeoDataFrame,
) -> dict[str, float]:
    """The build targets' values after the change: new venues added, planned ones removed."""
    out = dict(counts)
    existing_ids = existing["facility_id"].astype(str).to_numpy(dtype=object)
    planned = removed[~np.isin(removed["facility_id"].astype(str).to_numpy(dtype=object), existing_ids)]
    for frame, sign in ((added, 1.0), (planned, -1.0)):
        kinds = frame["kind"].astype(str)
        for kind, key in settings.NEW_COUNT_TARGETS.items():
            n = float((kinds == kind).sum())
            if n:
                out[key] = out.get(key, 0.0) + sign * n
        trails = frame[kinds == "fitness_trail"]
        if len(trails):
            km = float(trails.geometry.length.sum()) / 1000.0
            out["new_fitness_trails_km"] = max(out.get("new_fitness_trails_km", 0.0) + sign * km, 0.0)
    return out


def _changed_cells(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The cells whose distance to any venue, to a kind or in a scenario changed (by more than a micrometre)."""
    columns = sorted(
        {c for c in before.columns if c.startswith(dist_column(""))}
        | {c for c in after.columns if c.startswith(dist_column(""))}
    )
    changed = np.zeros(len(after), dtype=bool)
    for column in columns:
        a = before[column].to_numpy(dtype=float) if column in before else np.full(len(after), math.inf)
        b = after[column].to_numpy(dtype=float) if column in after else np.full(len(after), math.inf)
        if a is b or (a.__array_interface__ == b.__array_interface__):
            continue  # the update kept the column as it was (shared, not copied)
        with np.errstate(invalid="ignore"):
            changed |= np.abs(a - b) > 1e-6  # inf - inf is NaN: unchanged
    any_d, any_id = dist_column("any"), nearest_id_column("any")
    keep = [c for c in ("cell_id", "district", "population") if c in after.columns]
    out = after.loc[changed, keep].copy()
    out["dist_m_any_before"] = before.loc[changed, any_d].to_numpy()
    out["dist_m_any_after"] = after.loc[changed, any_d].to_numpy()
    out["nearest_id_any_before"] = before.loc[changed, any_id].to_numpy()
    out["nearest_id_any_after"] = after.loc[changed, any_id].to_numpy()
    return gpd.GeoDataFrame(out, geometry=after.geometry[changed].to_numpy(), crs=after.crs)
