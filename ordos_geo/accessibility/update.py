"""Incremental accessibility: an earlier result with facilities added, removed or moved, searched only from the changes.

:func:`update_accessibility` gives the result :func:`compute_accessibility`
would give for a new facility table, from the result of an earlier run on the
same cells and network:

- a facility whose ``facility_id``, ``kind``, geometry, ``area_m2`` and
  ``entrances`` are unchanged keeps its snaps, its catchment pairs and its
  service areas; the others count as removed and/or added (a moved venue is
  both);
- per kind, the nearest-facility search runs only from the added facilities
  (bounded by ``max_distance_m``), and its result is taken where it is nearer
  than the earlier nearest facility, with the same tie rule (the
  lexicographically smallest ``facility_id``) as a full run;
- a kind that lost a facility some cells had as their nearest is searched
  again from all its remaining facilities (one bounded multi-source search);
- the catchment pairs of the added facilities are found and those of the
  removed ones dropped; the E2SFCA ratio, the opportunities, the coverage
  tiers and the underserved neighbourhoods are then computed from the
  updated distances exactly as in a full run.

Distances of the cells whose nearest facility did not change are those of the
earlier run; a full run computes them again with a tie-break perturbation
that depends on the number of facilities, so they may differ from a full run
in the last bits (about 1e-12 m), and the E2SFCA sums in the order of the
floating additions. Everything else is equal.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._columns import dist_column, nearest_id_column
from ordos_geo._errors import InputDataError
from ordos_geo.accessibility.measures import _ranked_neighbourhoods, _service_area_rows, _touching_groups
from ordos_geo.accessibility.stage import (
    AccessibilityResult,
    _analysed_rows,
    _cells_table,
    _facility_table,
    _Laps,
    _validate_facilities,
)
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import SnappedPoints, snap_points
from ordos_geo.routing._index import _network_index, _NetworkIndex
from ordos_geo.routing._search import _TIE_BUDGET_M, _NearestSearch, _pairs_within
from ordos_geo.routing.snapping import _check_frame

__all__ = ["update_accessibility"]

logger = logging.getLogger(__name__)

#: Keys of ``AccessibilityResult.parameters`` an update repeats the earlier call with.
_REPLAYED = (
    "thresholds_m",
    "max_distance_m",
    "walk_speed_kmh",
    "kinds_requested",
    "service_distance_m",
    "catchment_m",
    "e2sfca_steps",
    "underserved_threshold_m",
    "public_only",
    "service_areas_by",
    "service_area_buffer_m",
    "access_spacing_m",
)


def update_accessibility(
    network: WalkNetwork,
    previous: AccessibilityResult,
    facilities: gpd.GeoDataFrame,
    *,
    progress: bool | None = None,
) -> AccessibilityResult:
    """The accessibility of the same cells with a new facility table, searching only from the facilities that changed.

    Equal to ``compute_accessibility(network, cells, facilities, ...)`` with
    the options of the earlier run (see the module notes for the last bits of
    the floating values), at a fraction of its cost when few facilities change.

    Parameters
    ----------
    network : WalkNetwork
        The network of the earlier run.
    previous : AccessibilityResult
        An earlier result of :func:`~ordos_geo.accessibility.compute_accessibility`
        on ``network`` (not one split by district: it keeps no snaps).
    facilities : geopandas.GeoDataFrame
        The new facility table, as ``compute_accessibility`` takes it, in
        ``network.crs``: the earlier facilities with rows added, removed or
        changed. Rows are matched by ``facility_id``.
    progress : bool, optional
        Show progress bars; default: only on a terminal.

    Returns
    -------
    AccessibilityResult
        As from ``compute_accessibility``; ``timings_s`` has the steps of the
        update and ``parameters`` the same options.

    Raises
    ------
    InputDataError
        When ``previous`` keeps no snaps or catchment pairs, or the facility
        table is not valid (missing columns, duplicated ids, another CRS).

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> from ordos_geo.accessibility import compute_accessibility, update_accessibility
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> before = compute_accessibility(study.network, study.cells, study.facilities)  # doctest: +SKIP
    >>> fewer = study.facilities.iloc[1:]  # close the first venue  # doctest: +SKIP
    >>> after = update_accessibility(study.network, before, fewer)  # doctest: +SKIP
    """
    _check_previous(previous)
    opts = previous.parameters
    laps = _Laps()
    _check_frame(network, facilities, "facilities")
    _validate_facilities(facilities)
    cells_snapped = previous.cells_snapped
    assert cells_snapped is not None  # checked above
    index = _network_index(network)
    fac = facilities.iloc[_analysed_rows(facilities, public_only=opts["public_only"], kinds=opts["kinds_requested"])]
    fac = fac.reset_index(drop=True)
    ids = fac["facility_id"].astype(str).to_numpy()
    kinds_requested = opts["kinds_requested"]
    kind_names = (
        sorted(fac["kind"].astype(str).unique())
        if kinds_requested is None
        else [k for k in kinds_requested if (fac["kind"] == k).any()]
    )
    kind_index = {k: i for i, k in enumerate(kind_names)}
    kind_of_fac = fac["kind"].astype(str).map(kind_index).to_numpy(dtype=np.int64)
    old_of_new = _unchanged_rows(previous.facilities, fac)
    added = np.flatnonzero(old_of_new < 0)
    new_of_old = np.full(len(previous.facilities), -1, dtype=np.int64)
    new_of_old[old_of_new[old_of_new >= 0]] = np.flatnonzero(old_of_new >= 0)
    n_removed = int((new_of_old < 0).sum())
    added_snaps = snap_points(
        network,
        fac.iloc[added],
        max_snap_distance_m=opts["max_snap_distance_m"],
        access_spacing_m=opts["access_spacing_m"],
    )
    assert previous.facilities_snapped is not None  # checked above
    dest = _merged_snaps(previous.facilities_snapped, new_of_old, added_snaps, added, len(fac))
    laps.lap("snapping")

    per_kind, unchanged = _nearest_update(
        index,
        cells_snapped,
        previous,
        new_of_old,
        dest,
        added_snaps,
        added,
        ids,
        kind_of_fac,
        kind_names,
        limit=opts["max_distance_m"],
    )
    laps.lap("nearest")
    od = _pairs_update(index, cells_snapped, previous.catchment_pairs, new_of_old, added_snaps, added, opts)
    parameters = {**opts, "kinds": list(kind_names)}
    cells = previous.cells[list(previous.cell_columns)]
    reuse = {name: previous.cells[name] for kind in unchanged for name in (dist_column(kind), nearest_id_column(kind))}
    out, _, neighbourhoods = _cells_table(
        cells,
        cells_snapped,
        fac,
        ids,
        per_kind,
        od,
        parameters,
        laps,
        reuse=reuse,
        neighbourhoods=lambda cells, mask: _neighbourhoods_update(previous, cells, mask),
    )
    areas = _service_areas_update(index, previous.service_areas, fac, ids, new_of_old, added_snaps, added, opts)
    laps.lap("service_areas")
    logger.info(
        "accessibility update: %d facilities added, %d removed (%s facilities of %d kinds)",
        len(added),
        n_removed,
        f"{len(fac):,}",
        len(kind_names),
    )
    return AccessibilityResult(
        cells=out,
        underserved=neighbourhoods,
        service_areas=areas,
        facilities=_facility_table(fac, dest),
        parameters=parameters,
        timings_s=laps.timings,
        cells_snapped=cells_snapped,
        facilities_snapped=dest,
        catchment_pairs=od,
        cell_columns=previous.cell_columns,
        nearest_rows={kind: arrays[2] for kind, arrays in per_kind.items()},
    )


def _check_previous(previous: AccessibilityResult) -> None:
    missing = [k for k in _REPLAYED if k not in previous.parameters]
    if (
        previous.cells_snapped is None
        or previous.facilities_snapped is None
        or previous.catchment_pairs is None
        or missing
        or not previous.cell_columns
        or set(previous.nearest_rows) != set(previous.parameters.get("kinds", ()))
    ):
        msg = (
            "update_accessibility: the earlier result keeps no snaps, catchment pairs or options "
            "(a run split by district, or an older result); run compute_accessibility instead"
        )
        raise InputDataError(msg)


def _supply_key(fac: gpd.GeoDataFrame) -> np.ndarray:
    """The field area each facility brings to the E2SFCA (NaN as 0)."""
    if "area_m2" not in fac.columns:
        return np.zeros(len(fac))
    area = pd.to_numeric(fac["area_m2"], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(area, nan=0.0)


def _same_geometry(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise: both missing, or both geometries with exactly the same coordinates."""
    a_missing = np.array([not isinstance(g, shapely.Geometry) or shapely.is_empty(g) for g in a], dtype=bool)
    b_missing = np.array([not isinstance(g, shapely.Geometry) or shapely.is_empty(g) for g in b], dtype=bool)
    same = a_missing & b_missing
    both = ~a_missing & ~b_missing
    if both.any():
        same[both] = shapely.equals_exact(
            np.asarray(a, dtype=object)[both], np.asarray(b, dtype=object)[both], tolerance=0.0
        )
    return same


def _unchanged_rows(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> np.ndarray:
    """For each analysed new facility, its row in the earlier analysed table when unchanged, else -1.

    Unchanged: same ``facility_id``, ``kind``, geometry, field area and
    ``entrances`` (everything the searches and the E2SFCA read).
    """
    old_ids = pd.Index(old["facility_id"].astype(str).to_numpy())
    pos = old_ids.get_indexer(new["facility_id"].astype(str).to_numpy())
    hit = np.flatnonzero(pos >= 0)
    if len(hit) == 0:
        return pos
    o = pos[hit]
    same = old["kind"].astype(str).to_numpy()[o] == new["kind"].astype(str).to_numpy()[hit]
    same &= _same_geometry(np.asarray(old.geometry.values, dtype=object)[o], np.asarray(new.geometry.values)[hit])
    counted = np.isin(old["kind"].astype(str).to_numpy()[o], list(settings.AREA_COUNTED_KINDS))
    same &= ~counted | (_supply_key(old)[o] == _supply_key(new)[hit])
    if "entrances" in old.columns or "entrances" in new.columns:
        old_e = old["entrances"].to_numpy(dtype=object)[o] if "entrances" in old.columns else np.full(len(o), None)
        new_e = new["entrances"].to_numpy(dtype=object)[hit] if "entrances" in new.columns else np.full(len(hit), None)
        same &= _same_geometry(old_e, new_e)
    pos[hit[~same]] = -1
    return pos


def _merged_snaps(
    old: SnappedPoints, new_of_old: np.ndarray, added_snaps: SnappedPoints, added: np.ndarray, n_rows: int
) -> SnappedPoints:
    """Access points of the new table: the unchanged rows' earlier ones and the added rows' new ones."""
    kept = new_of_old[old.owner] >= 0
    owner = np.concatenate([new_of_old[old.owner[kept]], added[added_snaps.owner]]).astype(np.int64)
    order = np.argsort(owner, kind="stable")
    return SnappedPoints(
        owner=owner[order],
        edge=np.concatenate([old.edge[kept], added_snaps.edge])[order],
        offset_m=np.concatenate([old.offset_m[kept], added_snaps.offset_m])[order],
        snap_distance_m=np.concatenate([old.snap_distance_m[kept], added_snaps.snap_distance_m])[order],
        point_xy=np.concatenate([old.point_xy[kept].reshape(-1, 2), added_snaps.point_xy.reshape(-1, 2)])[order],
        n_owners=n_rows,
        network_key=old.network_key,
    )


def _nearest_update(
    index: _NetworkIndex,
    orig: SnappedPoints,
    previous: AccessibilityResult,
    new_of_old: np.ndarray,
    dest: SnappedPoints,
    added_snaps: SnappedPoints,
    added: np.ndarray,
    ids: np.ndarray,
    kind_of_fac: np.ndarray,
    kind_names: Sequence[str],
    *,
    limit: float,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], set[str]]:
    """Per kind: perturbed distance, true distance and nearest facility (row of the new table) of each cell.

    Also the kinds whose distances and nearest ids did not change. The
    perturbation is the one a full run on the new table uses (it depends on
    every facility id), so the earlier distances are re-perturbed with it.
    """
    n_cells = orig.n_owners
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable") if len(ids) else np.empty(0, np.int64)
    penalty = (rank + 1) * (_TIE_BUDGET_M / max(len(ids), 1))
    per_kind: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    unchanged: set[str] = set()
    redo: list[int] = []
    for k, kind in enumerate(kind_names):
        old_group = previous.nearest_rows.get(kind)
        if old_group is None:
            per_kind[kind] = (np.full(n_cells, np.inf), np.full(n_cells, np.inf), np.full(n_cells, -1, np.int64))
            continue
        group = np.where(old_group >= 0, new_of_old[np.maximum(old_group, 0)], -1)
        if ((old_group >= 0) & (group < 0)).any():  # some cells lost their nearest facility of this kind
            redo.append(k)
            continue
        true = previous.cells[dist_column(kind)].to_numpy(dtype=float)
        perturbed = np.where(group >= 0, true + penalty[np.maximum(group, 0)], np.inf)
        per_kind[kind] = (perturbed, true.copy(), group)
        unchanged.add(kind)
    added_kinds = sorted({int(k) for k in kind_of_fac[added]} - set(redo))
    if added_kinds:
        search = _NearestSearch(index, orig, added_snaps, added, rank, kind_of_fac, limit)
        for k in added_kinds:
            best, true, group = (np.empty(n_cells), np.empty(n_cells), np.empty(n_cells, dtype=np.int64))
            search.kind(k, best, true, group)
            old_best, old_true, old_group = per_kind[kind_names[k]]
            nearer = best < old_best
            if nearer.any():
                unchanged.discard(kind_names[k])
                old_best[nearer], old_true[nearer], old_group[nearer] = best[nearer], true[nearer], group[nearer]
    if redo:
        search = _NearestSearch(index, orig, dest, np.arange(len(ids)), rank, kind_of_fac, limit)
        for k in redo:
            arrays = (np.empty(n_cells), np.empty(n_cells), np.empty(n_cells, dtype=np.int64))
            search.kind(k, *arrays)
            per_kind[kind_names[k]] = arrays
    return {kind: per_kind[kind] for kind in kind_names}, unchanged


def _pairs_update(
    index: _NetworkIndex,
    orig: SnappedPoints,
    old_od: pd.DataFrame | None,
    new_of_old: np.ndarray,
    added_snaps: SnappedPoints,
    added: np.ndarray,
    opts: dict,
) -> pd.DataFrame:
    """The catchment pairs of the new table: the unchanged facilities' earlier ones and the added ones' new ones."""
    assert old_od is not None
    origin = old_od["origin"].to_numpy()
    destination = new_of_old[old_od["destination"].to_numpy()]
    distance = old_od["distance_m"].to_numpy()
    keep = destination >= 0
    if not keep.all():
        origin, destination, distance = origin[keep], destination[keep], distance[keep]
    if len(added):
        new = _pairs_within(index, orig, added_snaps, opts["catchment_m"], sort=False)
        origin = np.concatenate([origin, new["origin"].to_numpy()])
        destination = np.concatenate([destination, added[new["destination"].to_numpy()]])
        distance = np.concatenate([distance, new["distance_m"].to_numpy()])
    return pd.DataFrame(
        {
            "origin": origin.astype(np.int64, copy=False),
            "destination": destination.astype(np.int64, copy=False),
            "distance_m": distance.astype(float, copy=False),
        },
        copy=False,
    )


def _service_areas_update(
    index: _NetworkIndex,
    old_areas: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    ids: np.ndarray,
    new_of_old: np.ndarray,
    added_snaps: SnappedPoints,
    added: np.ndarray,
    opts: dict,
) -> gpd.GeoDataFrame:
    """The service areas of the new table, in a full run's order: by threshold, then by facility row."""
    thresholds = opts["thresholds_m"]
    if opts["service_areas_by"] != "facility" or not thresholds:
        return old_areas.iloc[:0].copy()
    old_ids = pd.Index(np.asarray(ids))
    row = old_ids.get_indexer(old_areas["facility_id"].astype(str).to_numpy())
    kept_new = np.isin(np.arange(len(ids)), added, invert=True)
    keep = (row >= 0) & kept_new[np.maximum(row, 0)]
    kinds = fac["kind"].astype(str).to_numpy()
    new_rows = _service_area_rows(index, added_snaps, thresholds, opts["service_area_buffer_m"])
    rows_new = [added[g] for g, _, _ in new_rows]
    frame = pd.DataFrame(
        {
            "facility_id": np.concatenate([old_areas["facility_id"].to_numpy(dtype=object)[keep], ids[rows_new]]),
            "kind": np.concatenate([old_areas["kind"].to_numpy(dtype=object)[keep], kinds[rows_new]]),
            "threshold_m": np.concatenate(
                [old_areas["threshold_m"].to_numpy(dtype=float)[keep], np.array([t for _, t, _ in new_rows], float)]
            ),
            "_row": np.concatenate([row[keep], np.asarray(rows_new, dtype=np.int64)]),
        }
    )
    geometry = np.concatenate(
        [np.asarray(old_areas.geometry.values, dtype=object)[keep], np.array([p for _, _, p in new_rows], dtype=object)]
    )
    order = np.lexsort((frame["_row"].to_numpy(), frame["threshold_m"].to_numpy()))
    frame = frame.iloc[order].drop(columns="_row").reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=list(geometry[order]), crs=old_areas.crs)


def _neighbourhoods_update(
    previous: AccessibilityResult, cells: gpd.GeoDataFrame, mask: np.ndarray
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The underserved neighbourhoods for a new mask: only groups that lose or touch a changed cell are redone."""
    old_mask = previous.cells["underserved"].to_numpy(dtype=bool)
    old_nb = previous.cells["neighbourhood_id"].to_numpy(dtype=np.int64)
    old_table = previous.underserved
    if np.array_equal(mask, old_mask):
        return old_table.copy(), old_nb.copy()
    geoms = np.asarray(cells.geometry.values, dtype=object)
    affected = set(np.unique(old_nb[old_mask & ~mask]).tolist())
    gained = np.flatnonzero(mask & ~old_mask)
    if len(gained):
        still = np.flatnonzero(old_mask & mask)
        hit, _ = shapely.STRtree(geoms[gained]).query(geoms[still], predicate="intersects")
        affected |= set(np.unique(old_nb[still[hit]]).tolist())
    affected.discard(0)
    redone = np.array(sorted(affected), dtype=np.int64)
    region = mask & (np.isin(old_nb, redone) | ~old_mask)
    fresh = _touching_groups(cells, np.flatnonzero(region))
    keep = old_table[~old_table["neighbourhood_id"].isin(redone)]
    kept_ids = keep["neighbourhood_id"].to_numpy(dtype=np.int64)
    on = np.flatnonzero(old_nb > 0)
    first = np.full(int(old_nb.max(initial=0)) + 1, len(cells), dtype=np.int64)
    np.minimum.at(first, old_nb[on], on)
    kept = {
        "population": keep["population"].to_numpy(dtype=float),
        "n_cells": keep["n_cells"].to_numpy(dtype=np.int64),
        "district": keep["district"].to_numpy(dtype=object),
        "centroid_x": keep["centroid_x"].to_numpy(dtype=float),
        "centroid_y": keep["centroid_y"].to_numpy(dtype=float),
        "geometry": np.asarray(keep.geometry.values, dtype=object),
        "first_row": first[kept_ids],
    }
    old_of_cells = np.where(np.isin(old_nb, kept_ids), old_nb, 0)
    return _ranked_neighbourhoods(cells, [kept, fresh], kept=(old_of_cells, kept_ids))
