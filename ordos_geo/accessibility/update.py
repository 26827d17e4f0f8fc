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
  updated distances exactly as in a full run: only the neighbourhoods that
  lose or touch a changed cell are grouped again, and of their outlines only
  the 1 km tiles whose cells changed are dissolved again (the earlier run's
  ``outlines``); a raster's cells the earlier run checked are traced from
  the corners it kept.

Distances of the cells whose nearest facility did not change are those of the
earlier run; a full run computes them again with a tie-break perturbation
that depends on the number of facilities, so they may differ from a full run
in the last bits (about 1e-12 m), and the E2SFCA sums in the order of the
floating additions. The nearest facility of any kind is chosen again only in
the cells where that of some kind changed; elsewhere it stays the earlier one
(a full run could choose the other of two venues of different kinds whose
distances differ by less than the 1 mm tie budget). Everything else is equal.

The earlier result is not copied: the columns that do not change are shared
with it (pandas copy-on-write) and those that do are replaced, so an update
costs about the cells that change, not the whole table.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._columns import ANY_KIND, covered_column, dist_column, nearest_id_column
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_network_frame
from ordos_geo.accessibility.measures import _service_area_rows
from ordos_geo.accessibility.neighbourhoods import Outlines, _ranked_neighbourhoods, _touching_groups
from ordos_geo.accessibility.stage import (
    AccessibilityResult,
    _add_e2sfca_columns,
    _analysed_rows,
    _cells_table,
    _facility_of,
    _facility_table,
    _Laps,
    _snapped_centroids,
    _validate_facilities,
)
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import (
    TIE_BUDGET_M,
    NearestSearch,
    NetworkIndex,
    SnappedPoints,
    network_index,
    pairs_within,
    snap_points,
    tie_penalties,
)

__all__ = ["nearest_venue_update", "update_accessibility"]

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
    service_areas: bool = True,
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
    service_areas : bool, default True
        Draw the service-area polygons of the added facilities, as a full
        run with the earlier options does. ``False`` leaves every polygon
        out (an empty table, ``parameters["service_areas_by"]`` is
        ``"none"``): on a small study they are most of an update's time, and
        only the coverage map of a first run draws them.

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
    check_network_frame(facilities, network.crs, what="facilities")
    _validate_facilities(facilities)
    cells_snapped = previous.cells_snapped
    assert cells_snapped is not None  # checked above
    index = network_index(network)
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

    per_kind, penalty = _nearest_update(
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
    # facilities only added (every earlier row kept in place): the earlier pairs lead the new ones
    assert previous.catchment_pairs is not None  # checked above
    first_added_pair = len(previous.catchment_pairs) if _rows_kept(new_of_old) else None
    out, neighbourhoods, outlines = _cells_update(
        previous, fac, ids, per_kind, penalty, od, parameters, laps, first_added_pair=first_added_pair
    )
    if service_areas:
        areas = _service_areas_update(index, previous.service_areas, fac, ids, added_snaps, added, opts)
    else:
        areas = previous.service_areas.iloc[:0].copy()
        parameters["service_areas_by"] = "none"
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
        nearest_rows={kind: update.group for kind, update in per_kind.items()},
        outlines=outlines,
    )


def _cells_update(
    previous: AccessibilityResult,
    fac: gpd.GeoDataFrame,
    ids: np.ndarray,
    per_kind: dict[str, _KindUpdate],
    penalty: np.ndarray,
    od: pd.DataFrame,
    parameters: dict,
    laps: _Laps,
    *,
    first_added_pair: int | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Outlines]:
    """The cells with every output column, the underserved neighbourhoods and their outlines, from the earlier cells.

    The earlier table is taken without copying it (copy-on-write): a column
    that changes is replaced by a copy with its changed cells rewritten (the
    nearest facility of any kind only in the cells where a kind changed), the
    others (the input cells, their snaps, the kinds that did not change) are
    shared. The E2SFCA ratio and the opportunities are computed again from
    the catchment pairs, as in a full run; when facilities were only added
    (the pairs from ``first_added_pair`` on are theirs), from the added pairs
    onto the earlier figures, which gives the same sums.
    """
    prev = previous.cells
    neighbourhoods = functools.partial(_neighbourhoods_update, previous)
    kinds = list(parameters["kinds"])
    old_kinds = list(previous.parameters["kinds"])
    if not old_kinds or not set(old_kinds) <= set(kinds):
        # a kind goes: its columns go, and the cells that had it as their nearest of any kind choose again
        # among all kinds; or there was no facility (no nearest-id column to update): the table is built as a
        # full run builds it
        assert previous.cells_snapped is not None
        arrays = {kind: (u.perturbed(penalty), u.true, u.group) for kind, u in per_kind.items()}
        reuse = {
            name: prev[name]
            for kind, u in per_kind.items()
            if len(u.rows) == 0 and kind in old_kinds
            for name in (dist_column(kind), nearest_id_column(kind))
        }
        cells = prev[list(previous.cell_columns)]
        out, _, table, outlines = _cells_table(
            cells,
            previous.cells_snapped,
            fac,
            ids,
            arrays,
            od,
            parameters,
            laps,
            reuse=reuse,
            neighbourhoods=neighbourhoods,
        )
        return out, table, outlines
    # the accessibility columns end at neighbourhood_id; a pipeline's scenario columns follow and are redone
    out = prev[list(prev.columns[: prev.columns.get_loc("neighbourhood_id") + 1])]
    new_kinds = [kind for kind in kinds if kind not in old_kinds]
    changed = [kind for kind in kinds if len(per_kind[kind].rows) or kind in new_kinds]
    for kind in changed:
        u = per_kind[kind]
        out[dist_column(kind)] = u.true
        out[nearest_id_column(kind)] = _facility_of(ids, u.group)
    if new_kinds:  # the per-kind columns in the order of the kinds, as a full run writes them
        out = out[_kind_ordered_columns(list(out.columns), kinds)]
    touched = np.zeros(len(out), dtype=bool)
    for kind in changed:
        touched[per_kind[kind].rows] = True
    rows = np.flatnonzero(touched)
    _any_update(out, per_kind, kinds, rows, ids, penalty, parameters)
    _add_e2sfca_columns(
        out,
        fac,
        od,
        e2sfca_steps=parameters["e2sfca_steps"],
        catchment=parameters["catchment_m"],
        first_added_pair=first_added_pair,
    )
    laps.lap("coverage_e2sfca")
    underserved_mask = ~(out[dist_column(ANY_KIND)].to_numpy(dtype=float) <= parameters["underserved_threshold_m"])
    out["underserved"] = underserved_mask
    table, cell_nb, outlines = neighbourhoods(out, underserved_mask)
    out["neighbourhood_id"] = cell_nb
    laps.lap("underserved")
    return out, table, outlines


def _kind_ordered_columns(columns: list[str], kinds: Sequence[str]) -> list[str]:
    """``columns`` with the per-kind distance and nearest-id pairs moved after the any-kind pair, in ``kinds`` order."""
    per_kind = [name for kind in kinds for name in (dist_column(kind), nearest_id_column(kind))]
    moved = set(per_kind)
    others = [name for name in columns if name not in moved]
    at = others.index(nearest_id_column(ANY_KIND)) + 1
    return others[:at] + per_kind + others[at:]


def _ids_replaced(column: pd.Series, rows: np.ndarray, ids: np.ndarray, group: np.ndarray) -> Any:
    """The ``nearest_id`` column with the cells ``rows`` set to the ids of the facility rows ``group`` (a copy).

    One ``take`` from the column and the new ids: writing into a copy of an
    Arrow-backed string column rewrites it once per call and is slower.
    """
    values = column.array
    both = type(values)._concat_same_type([values, _facility_of(ids, group)])
    index = np.arange(len(values))
    index[rows] = len(values) + np.arange(len(rows))
    return both.take(index)


def _any_update(
    out: gpd.GeoDataFrame,
    per_kind: dict[str, _KindUpdate],
    kinds: Sequence[str],
    rows: np.ndarray,
    ids: np.ndarray,
    penalty: np.ndarray,
    parameters: dict,
) -> None:
    """Rewrite the nearest facility of any kind, the walking minutes and the coverage in the cells ``rows``.

    As a full run: the kind with the smallest perturbed distance, the first
    kind on a tie. The other cells keep theirs (the penalties of a full run on
    the new table are other numbers, but no earlier nearest facility changed
    there, so the order they give is the same).
    """
    if not len(rows):
        return
    best = np.full(len(rows), np.inf)
    true_any = np.full(len(rows), np.inf)
    group_any = np.full(len(rows), -1, dtype=np.int64)
    service = np.zeros(len(rows), dtype=bool)
    catchment = parameters["catchment_m"]
    for kind in kinds:
        u = per_kind[kind]
        perturbed, true = u.perturbed(penalty, rows), u.true[rows]
        better = perturbed < best
        best[better], true_any[better], group_any[better] = perturbed[better], true[better], u.group[rows][better]
        service |= true <= parameters["service_distance_m"].get(kind, catchment)
    speed = parameters["walk_speed_kmh"] * 1000.0 / 60.0
    replaced = {
        dist_column(ANY_KIND): true_any,
        "walk_min_any": true_any / speed,
        **{covered_column(t): true_any <= t for t in parameters["thresholds_m"]},
        "covered_service": service,
    }
    for name, values in replaced.items():
        column = out[name].to_numpy(copy=True)
        column[rows] = values
        out[name] = column
    out[nearest_id_column(ANY_KIND)] = _ids_replaced(out[nearest_id_column(ANY_KIND)], rows, ids, group_any)


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
    a_missing, b_missing = _missing_geometry(a), _missing_geometry(b)
    same = a_missing & b_missing
    both = ~a_missing & ~b_missing
    if both.any():
        same[both] = shapely.equals_exact(
            np.asarray(a, dtype=object)[both], np.asarray(b, dtype=object)[both], tolerance=0.0
        )
    return same


def _missing_geometry(values: np.ndarray) -> np.ndarray:
    """Element-wise: not a geometry, or an empty one."""
    values = np.asarray(values, dtype=object)
    is_geometry = np.array([isinstance(g, shapely.Geometry) for g in values], dtype=bool)
    missing = ~is_geometry
    missing[is_geometry] = shapely.is_empty(values[is_geometry])
    return missing


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


class _KindUpdate:
    """The nearest facility of one kind after the change: true distance and row of the new table per cell.

    ``rows`` are the cells whose distance or nearest facility may differ from
    the earlier run (for a kind the earlier run did not have: the cells it
    reaches, the others have none as before).
    """

    def __init__(self, true: np.ndarray, group: np.ndarray, rows: np.ndarray) -> None:
        self.true = true
        self.group = group
        self.rows = rows

    def perturbed(self, penalty: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Distance plus the tie-break penalty of the nearest facility (``inf`` where there is none)."""
        group = self.group[rows]
        return np.where(group >= 0, self.true[rows] + penalty[np.maximum(group, 0)], np.inf)


def _nearest_update(
    index: NetworkIndex,
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
) -> tuple[dict[str, _KindUpdate], np.ndarray]:
    """Per kind the nearest facilities after the change, and the tie-break penalty of each facility.

    The penalty is the one a full run on the new table uses (it depends on
    every facility id). A kind keeps the earlier distances (shared, not
    copied) and changes them only in the cells an added facility is nearer
    to and in those that lost their nearest facility (:class:`_ChangeSearch`).
    """
    n_cells = orig.n_owners
    rank = _id_rank(ids)
    penalty = tie_penalties(rank)
    remap = np.append(new_of_old, -1)  # earlier row -> new row; -1 (no facility) stays -1
    same_rows = _rows_kept(new_of_old)  # facilities only added: rows kept
    gone_kinds = set(previous.facilities["kind"].astype(str).to_numpy()[new_of_old < 0].tolist())
    search = _ChangeSearch(index, orig, dest, added_snaps, added, rank, kind_of_fac, limit)
    per_kind: dict[str, _KindUpdate] = {}
    for k, kind in enumerate(kind_names):
        old_group = previous.nearest_rows.get(kind)
        lost = np.empty(0, np.int64)
        if old_group is None:  # a kind the earlier run did not have: its facilities are all added
            # no cell had one: the cells it reaches are those that change
            old = _KindUpdate(np.full(n_cells, np.inf), np.full(n_cells, -1, np.int64), np.empty(0, np.int64))
        else:
            true = previous.cells[dist_column(kind)].to_numpy(dtype=float)
            old = _KindUpdate(true, old_group if same_rows else remap[old_group], np.empty(0, np.int64))
            if kind in gone_kinds:
                lost = np.flatnonzero((old.group < 0) & (old_group >= 0))
        per_kind[kind] = search.update(k, old, lost, penalty)
    return per_kind, penalty


def _rows_kept(new_of_old: np.ndarray) -> bool:
    """Whether every earlier facility row is the same row of the new table (facilities only added, or none)."""
    return bool(np.array_equal(new_of_old, np.arange(len(new_of_old))))


def _id_rank(ids: np.ndarray) -> np.ndarray:
    """Rank of each facility id in sorted order: a full run's tie rule (the smallest id wins)."""
    return np.argsort(np.argsort(ids, kind="stable"), kind="stable") if len(ids) else np.empty(0, np.int64)


def _street_ends(index: NetworkIndex, points: SnappedPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the reachable ``points`` and the two end nodes of their streets."""
    ok = np.flatnonzero(points.reachable)
    edge = points.edge[ok]
    return ok, index.u[edge], index.v[edge]


def _rows_near(
    index: NetworkIndex,
    points: SnappedPoints,
    near: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Input rows of ``points`` with a reachable point on a street with an end in the node mask ``near``.

    ``ends`` are the points' :func:`_street_ends`, when at hand.
    """
    ok, u, v = _street_ends(index, points) if ends is None else ends
    keep = np.zeros(points.n_owners, dtype=bool)
    keep[points.owner[ok[near[u] | near[v]]]] = True
    return np.flatnonzero(keep)


class _ChangeSearch:
    """Nearest-facility searches of one change: from the added facilities, and for the cells that lost theirs.

    Each runs on the cells and from the facilities it can concern only: a
    walk of at most ``limit`` between a cell and a facility runs between the
    ends of their streets, so these ends are within ``limit / reach_ratio``
    of each other in a straight line. An added facility can only be nearer
    to cells with a street end that near to one of its streets' ends, and a
    cell that lost its nearest facility can only find another that near. The
    distances are those of a search over every cell (the same Dijkstra, the
    same tie rule).
    """

    def __init__(
        self,
        index: NetworkIndex,
        orig: SnappedPoints,
        dest: SnappedPoints,
        added_snaps: SnappedPoints,
        added: np.ndarray,
        rank: np.ndarray,
        kind_of_fac: np.ndarray,
        limit: float,
    ) -> None:
        self.index, self.orig, self.dest = index, orig, dest
        self.added_snaps, self.added = added_snaps, added
        self.rank, self.kind_of_fac, self.limit = rank, kind_of_fac, limit
        self.reach = limit / index.reach_ratio + 2.0
        self._cell_ends: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._from_added: tuple[np.ndarray, NearestSearch | None] | None = None

    def update(self, k: int, old: _KindUpdate, lost: np.ndarray, penalty: np.ndarray) -> _KindUpdate:
        """Kind ``k`` after the change, from ``old`` (rows of the new table; the cells ``lost`` lost theirs).

        The cells an added facility of the kind is nearer to (with the tie
        rule of ``penalty``) take it; the cells ``lost`` are searched again
        from every facility of the kind near them.
        """
        rows, search = self.from_added()
        if search is not None and (self.kind_of_fac[self.added] == k).any():
            best, true, group = np.full(len(rows), np.inf), np.full(len(rows), np.inf), np.full(len(rows), -1)
            search.kind(k, best, true, group)
            nearer = best < old.perturbed(penalty, rows)
            if nearer.any():
                old = _with_cells(old, rows[nearer], true[nearer], group[nearer])
        if len(lost):
            facilities = self.rows_near(self.dest, self.orig.take(lost))
            facilities = facilities[self.kind_of_fac[facilities] == k]
            _, true, group = self.search(lost, self.dest.take(facilities), facilities, k)
            old = _with_cells(old, lost, true, group)
        return old

    def from_added(self) -> tuple[np.ndarray, NearestSearch | None]:
        """The cells near an added facility and one search from all added facilities, each kind on demand.

        One search serves every kind (:meth:`NearestSearch.kind` starts from
        the kind's facilities only): the network is copied once, not per
        kind. A cell near an added facility of another kind only is beyond
        the cap of this kind's, so it finds none.
        """
        if self._from_added is None:
            rows = self.rows_near(self.orig, self.added_snaps)
            search = None
            if len(rows) and self.added_snaps.n_owners:
                cells = self.orig.take(rows)
                search = NearestSearch(
                    self.index, cells, self.added_snaps, self.added, self.rank, self.kind_of_fac, self.limit
                )
            self._from_added = (rows, search)
        return self._from_added

    def rows_near(self, points: SnappedPoints, near: SnappedPoints) -> np.ndarray:
        """Input rows of ``points`` with a street end within the cap's straight-line reach of one of ``near``'s."""
        _, u, v = self._ends(near)
        mask = self.index.nodes_near(np.concatenate([u, v]), self.reach)
        return _rows_near(self.index, points, mask, self._ends(points))

    def _ends(self, points: SnappedPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`_street_ends` of ``points``, kept for the cells (every search reads them)."""
        if points is not self.orig:
            return _street_ends(self.index, points)
        if self._cell_ends is None:
            self._cell_ends = _street_ends(self.index, points)
        return self._cell_ends

    def search(
        self, rows: np.ndarray, points: SnappedPoints, groups: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Perturbed distance, true distance and nearest facility of the cells ``rows`` among ``points``.

        ``groups`` gives the facility row of each input row of ``points``.
        """
        n = len(rows)
        best, true, group = np.full(n, np.inf), np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        if n and points.n_owners:
            cells = self.orig.take(rows)
            search = NearestSearch(self.index, cells, points, groups, self.rank, self.kind_of_fac, self.limit)
            search.kind(k, best, true, group)
        return best, true, group


def nearest_venue_update(
    network: WalkNetwork,
    cells_snapped: SnappedPoints,
    earlier: gpd.GeoDataFrame,
    earlier_distance: np.ndarray,
    venues: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    max_snap_distance_m: float,
    access_spacing_m: float = 50.0,
) -> np.ndarray:
    """Walking metres from each cell to the nearest of ``venues``, from those to an earlier set of venues.

    Equal to the ``distance_m`` of :func:`~ordos_geo.routing.nearest_facility`
    on ``venues`` (the distances of cells that keep their venue are the
    earlier ones), searching only from the venues added (or moved) and, when
    some are gone, for the cells that may have walked to one of them: those
    whose earlier distance the gone venues reach (a search from them),
    searched again from the venues near them. Venues are matched by
    ``facility_id`` as in :func:`update_accessibility`.

    Parameters
    ----------
    network : WalkNetwork
    cells_snapped : SnappedPoints
        The cells snapped at their centroids (``cells_snapped`` of an
        :class:`~ordos_geo.accessibility.AccessibilityResult`).
    earlier, venues : geopandas.GeoDataFrame
        The earlier and the new venues (``facility_id``, ``kind``, geometry), in ``network.crs``.
    earlier_distance : numpy.ndarray
        Each cell's walking metres to the nearest of ``earlier`` (``inf``: none within ``max_distance_m``).
    max_distance_m, max_snap_distance_m, access_spacing_m : float
        As for :func:`~ordos_geo.routing.nearest_facility`.

    Returns
    -------
    numpy.ndarray
        Walking metres per cell (``inf`` where no venue is within ``max_distance_m``);
        ``earlier_distance`` itself when nothing changed.

    Examples
    --------
    >>> before = nearest_facility(network, cells, halls)["distance_m"].to_numpy()  # doctest: +SKIP
    >>> limits = dict(max_distance_m=5000.0, max_snap_distance_m=300.0)
    >>> after = nearest_venue_update(network, snapped, halls, before, halls.iloc[1:], **limits)  # doctest: +SKIP
    """
    old_of_new = _unchanged_rows(earlier, venues)
    added = np.flatnonzero(old_of_new < 0)
    gone = np.setdiff1d(np.arange(len(earlier)), old_of_new[old_of_new >= 0])
    if not len(added) and not len(gone):
        return earlier_distance
    if venues.empty:
        return np.full(cells_snapped.n_owners, np.inf)
    index = network_index(network)
    ids = venues["facility_id"].astype(str).to_numpy()
    dest = snap_points(network, venues, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    kinds = np.zeros(len(venues), dtype=np.int64)
    search = _ChangeSearch(index, cells_snapped, dest, dest.take(added), added, _id_rank(ids), kinds, max_distance_m)
    distance = earlier_distance.copy()
    lost = np.empty(0, dtype=np.int64)
    if len(gone):  # the cells the gone venues reach no farther than their earlier venue (ties included)
        gone_snaps = snap_points(
            network, earlier.iloc[gone], max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m
        )
        rows = search.rows_near(cells_snapped, gone_snaps)
        _, gone_m, _ = search.search(rows, gone_snaps, np.zeros(len(gone), dtype=np.int64), 0)
        lost = rows[np.isfinite(gone_m) & (gone_m <= earlier_distance[rows] + 2 * TIE_BUDGET_M)]
    if len(added):
        rows = search.rows_near(cells_snapped, search.added_snaps)
        _, true, _ = search.search(rows, search.added_snaps, added, 0)
        distance[rows] = np.minimum(distance[rows], true)
    if len(lost):
        near = search.rows_near(dest, cells_snapped.take(lost))
        distance[lost] = search.search(lost, dest.take(near), near, 0)[1]
    return distance


def _with_cells(old: _KindUpdate, rows: np.ndarray, true: np.ndarray, group: np.ndarray) -> _KindUpdate:
    """``old`` with the cells ``rows`` set, in copies of its arrays (the earlier result's are shared)."""
    new_true, new_group = old.true.copy(), old.group.copy()
    new_true[rows], new_group[rows] = true, group
    changed = np.zeros(len(new_true), dtype=bool)  # a mask: np.union1d sorts (or hashes) both arrays again
    changed[old.rows] = True
    changed[rows] = True
    return _KindUpdate(new_true, new_group, np.flatnonzero(changed))


def _pairs_update(
    index: NetworkIndex,
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
    destination = old_od["destination"].to_numpy()
    distance = old_od["distance_m"].to_numpy()
    if not _rows_kept(new_of_old):
        destination = new_of_old[destination]
        keep = destination >= 0
        origin, destination, distance = origin[keep], destination[keep], distance[keep]
    if len(added):
        near = _near_origins(index, orig, added_snaps, opts["catchment_m"])
        if near is None:
            new = pairs_within(index, orig, added_snaps, opts["catchment_m"], sort=False)
        else:  # the same pairs in the same order, from the cells that can be within reach only
            new = pairs_within(index, orig.take(near), added_snaps, opts["catchment_m"], sort=False)
            new["origin"] = near[new["origin"].to_numpy()]
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


#: Most added facilities for which :func:`_near_origins` picks the cells near each of them.
_NEAR_MAX_FACILITIES = 32


def _near_origins(index: NetworkIndex, orig: SnappedPoints, added: SnappedPoints, limit: float) -> np.ndarray | None:
    """Rows of the cells that can be within ``limit`` of an added facility (``None``: take them all).

    A walk of at most ``limit`` stays within ``limit / reach_ratio`` of its
    start in a straight line (the search's own tiles rest on this), so a cell
    pairs with a facility only when an end of its street is that near to an
    end of one of the facility's streets. Only for cells with one
    access point each and a few added facilities, and when the cells left
    still outnumber the facilities (the search then runs the same way round
    and gives the same pairs in the same order).
    """
    ok, u, v = _street_ends(index, added)
    owners = np.unique(added.owner[ok])
    if not orig.one_point_each or len(owners) > _NEAR_MAX_FACILITIES:
        return None
    rows = _rows_near(index, orig, index.nodes_near(np.concatenate([u, v]), limit / index.reach_ratio + 2.0))
    return rows if len(rows) >= len(owners) else None


def _service_areas_update(
    index: NetworkIndex,
    old_areas: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    ids: np.ndarray,
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
) -> tuple[gpd.GeoDataFrame, np.ndarray, Outlines]:
    """The underserved neighbourhoods for a new mask, each cell's id and what a next update reuses of the outlines.

    Only groups that lose or touch a changed cell are redone, and of their
    outlines only the tiles whose cells changed (the earlier pieces); a
    raster's cells that the earlier run checked are not checked again.
    """
    old_mask = previous.cells["underserved"].to_numpy(dtype=bool)
    old_nb = previous.cells["neighbourhood_id"].to_numpy(dtype=np.int64)
    old_table = previous.underserved
    if np.array_equal(mask, old_mask):
        return old_table.copy(), old_nb.copy(), previous.outlines
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
    assert previous.cells_snapped is not None  # an update needs them
    fresh = _touching_groups(
        cells,
        np.flatnonzero(region),
        centroids=_snapped_centroids(cells, previous.cells_snapped),
        outlines=previous.outlines,
    )
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
    table, cell_nb = _ranked_neighbourhoods(cells, [kept, fresh], kept=(old_of_cells, kept_ids))
    # a piece's first row keeps its group: the kept groups' pieces stay, the redone ones' are fresh
    pieces = {key: piece for key, piece in previous.outlines.pieces.items() if old_of_cells[key[1]] > 0}
    pieces.update(fresh["pieces"])
    # the earlier check holds for its cells; a fresh one (cells it did not have) only for the fresh cells
    return table, cell_nb, Outlines(pieces, fresh["grid"] if fresh["grid"] is not None else previous.outlines.grid)
