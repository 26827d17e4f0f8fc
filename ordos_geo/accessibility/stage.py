"""The accessibility stage: :func:`compute_accessibility` in named steps and its :class:`AccessibilityResult`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._columns import (
    ANY_KIND,
    covered_column,
    dist_column,
    nearest_id_column,
)
from ordos_geo._errors import InputDataError
from ordos_geo._options import resolve_options
from ordos_geo._validate import check_distance, check_facility_ids, check_network_frame
from ordos_geo.accessibility.measures import (
    DEFAULT_CATCHMENT_M,
    DEFAULT_E2SFCA_STEPS,
    _service_area_frame,
    e2sfca,
    minutes_to_metres,
)
from ordos_geo.accessibility.neighbourhoods import Outlines, _neighbourhoods_and_outlines
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import (
    NetworkIndex,
    SnappedPoints,
    check_snapped,
    network_index,
    pairs_within,
    snap_origins_and_destinations,
    start_nearest,
)

if TYPE_CHECKING:
    from ordos_geo.config import StudyConfig

logger = logging.getLogger(__name__)

#: Share of the kinds whose nearest search runs in the child while the parent finds the catchment pairs.
_NEAREST_CHILD_SHARE = 1.0

#: Largest network (nodes) on which ``service_areas_by="auto"`` draws a service area per facility. Each
#: polygon dissolves the buffered streets within reach of one facility, so their cost grows with venues x
#: reach, not with the city: on a 100k-node city with 669 venues they took 97 s against 6 s for the rest
#: of the stage. The cells' distance classes show the same tiers at any size.
SERVICE_AREAS_AUTO_MAX_NODES = 20_000


@dataclass(frozen=True, eq=False)
class AccessibilityResult:
    """Outputs of :func:`compute_accessibility`, all in the network CRS.

    Attributes
    ----------
    cells : geopandas.GeoDataFrame
        The input cells plus ``snap_distance_m``, ``reachable``, ``dist_m_any``,
        ``nearest_id_any``, ``dist_m_<kind>`` / ``nearest_id_<kind>`` per kind
        present, ``walk_min_any``, ``covered_<t>m`` per threshold,
        ``covered_service``, ``e2sfca_m2_per_capita``,
        ``opportunities_<catchment>m``, ``underserved`` and ``neighbourhood_id``.
    underserved : geopandas.GeoDataFrame
        Neighbourhoods of touching underserved cells, ranked by population.
    service_areas : geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``threshold_m``, polygon.
    facilities : geopandas.GeoDataFrame
        The facilities analysed with ``n_access_points``, ``snap_distance_m``
        and ``reachable``.
    parameters : dict
        The parameters used.
    timings_s : dict
        Wall-clock seconds per step (``snapping``, ``nearest``,
        ``coverage_e2sfca``, ``underserved``, ``service_areas``; they add up
        to the whole call). On large networks the nearest-facility searches
        run in a forked child process at the same time as the catchment pairs
        (``catchment_pairs``, part of ``coverage_e2sfca``); ``nearest`` is then
        the time spent waiting for them and ``nearest_child`` the child's own
        time (0 when everything ran in this process).
    cells_snapped : SnappedPoints or None
        The cells snapped at their centroids (one access point per cell, rows
        of ``cells``): pass it as ``cells_snapped`` to the next run on the same
        cells and network, or as ``origins_snapped`` to
        :func:`~ordos_geo.routing.od_distances` /
        :func:`~ordos_geo.routing.nearest_facility`, to skip snapping them
        again. ``None`` after a run split by district.
    facilities_snapped : SnappedPoints or None
        The access points of the analysed facilities (rows of ``facilities``).
    catchment_pairs : pandas.DataFrame or None
        ``origin`` (row of ``cells``), ``destination`` (row of
        ``facilities``) and ``distance_m`` of every pair within
        ``catchment_m``, from which the E2SFCA ratio and the opportunities
        come. ``None`` after a run split by district.
    cell_columns : tuple of str
        The columns of the input cells (the first columns of ``cells``).
    nearest_rows : mapping
        Per kind, the row of ``facilities`` nearest to each cell (-1 where
        none is within ``max_distance_m``): ``nearest_id_<kind>`` as positions.
    scenario_venues : mapping
        Filled by :func:`ordos_geo.pipeline.compute_accessibility`: per
        scenario (``evenings``, ``winter``) the venues it adds to the analysed
        ones and each cell's walking metres to the nearest of them, as
        ``(facilities, distance_m)``; an update redoes the scenario columns
        from them.
    outlines : Outlines
        What an update reuses of the neighbourhoods' outlines: the pieces the
        larger ones were dissolved from, tile by tile (an update redraws only
        the pieces whose cells changed), or the underserved cells checked to
        be a raster's pixels (an update reads their corners from it).

    The searches and snaps kept here let :func:`~ordos_geo.accessibility.update_accessibility`
    add, remove or move facilities without searching from the others again.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = compute_accessibility(study.network, study.cells, study.facilities)  # doctest: +SKIP
    >>> acc.cells.crs == study.network.crs, list(acc.service_areas.columns)  # doctest: +SKIP
    (True, ['facility_id', 'kind', 'threshold_m', 'geometry'])
    """

    cells: gpd.GeoDataFrame
    underserved: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    cells_snapped: SnappedPoints | None = None
    facilities_snapped: SnappedPoints | None = None
    catchment_pairs: pd.DataFrame | None = None
    cell_columns: tuple[str, ...] = ()
    nearest_rows: Mapping[str, np.ndarray] = field(default_factory=dict)
    scenario_venues: Mapping[str, tuple[gpd.GeoDataFrame, np.ndarray]] = field(default_factory=dict)
    outlines: Outlines = field(default_factory=Outlines, repr=False)


def _validate_facilities(facilities: gpd.GeoDataFrame) -> None:
    for column in ("facility_id", "kind"):
        if column not in facilities.columns:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    check_facility_ids(facilities)


def _validate_cells(cells: gpd.GeoDataFrame) -> None:
    if "population" not in cells.columns:
        msg = "population cells: column `population` is missing; read cells with ordos_geo.io.read_population"
        raise InputDataError(msg)
    pop = pd.to_numeric(cells["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop < 0))
    if len(bad):
        rows = ", ".join(str(r) for r in bad[:5])
        msg = (
            f"population cells: column `population` has {len(bad)} missing or negative values (rows {rows}); "
            "fix or drop them"
        )
        raise InputDataError(msg)


class _Laps:
    """Wall-clock seconds of named steps, each from the end of the one before."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._clock = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self._clock
        self._clock = now


def _coverage_thresholds(
    thresholds_m: Sequence[float] | None, thresholds_min: Sequence[float] | None, walk_speed_kmh: float
) -> list[float]:
    """Coverage tiers in metres, from metres or from walking minutes."""
    if thresholds_min is not None:
        thresholds = [
            float(t) for t in np.atleast_1d(minutes_to_metres(list(thresholds_min), walk_speed_kmh=walk_speed_kmh))
        ]
    else:
        thresholds = [float(t) for t in (thresholds_m or ())]
    return [check_distance(t, name="thresholds_m") for t in thresholds]


def _analysed_rows(facilities: gpd.GeoDataFrame, *, public_only: bool, kinds: Sequence[str] | None) -> np.ndarray:
    """Positions of the facilities analysed: open to the public (when asked) and of the kinds asked for."""
    keep = np.ones(len(facilities), dtype=bool)
    if public_only and "open_to_public" in facilities.columns:
        closed = ~facilities["open_to_public"].fillna(True).astype(bool).to_numpy()
        if closed.any():
            logger.info("accessibility: leaving out %d facilities not open to the public", int(closed.sum()))
            keep &= ~closed
    if kinds is not None:
        keep &= facilities["kind"].isin(list(kinds)).to_numpy()
    return np.flatnonzero(keep)


def _nearest_and_pairs(
    index: NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    ids: np.ndarray,
    kind_of_fac: np.ndarray,
    kind_names: Sequence[str],
    limit: float,
    catchment: float,
    *,
    progress: bool | None,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], pd.DataFrame, float, float]:
    """Per-kind nearest facilities and the catchment pairs: ``(per_kind, od, child seconds, pairs seconds)``.

    The per-kind nearest searches run (partly) in a forked child while this
    process finds the catchment pairs.
    """
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable") if len(ids) else np.empty(0, np.int64)
    job = start_nearest(
        index,
        orig,
        dest,
        np.arange(len(ids)),
        rank,
        kind_of_fac,
        kind_names,
        limit,
        child_share=_NEAREST_CHILD_SHARE,
        progress=progress,
    )
    try:
        pairs_clock = time.perf_counter()
        od = pairs_within(index, orig, dest, catchment, progress=progress, sort=False)
        pairs_s = time.perf_counter() - pairs_clock
        per_kind = job.result()
    except BaseException:
        job.cancel()
        raise
    return per_kind, od, job.child_s, pairs_s


def _facility_of(ids: np.ndarray, group: np.ndarray) -> Any:
    """The ``facility_id`` of each group, missing where there is none (-1), as a string array.

    Taken from the ids as an array (not built from Python strings): on 800k cells this is milliseconds.
    """
    dtype = pd.Series(np.array(["id"], dtype=object)).dtype  # what a column of Python strings becomes
    return pd.array(np.asarray(ids, dtype=object), dtype=dtype).take(group, allow_fill=True)


def _add_nearest_columns(
    out: gpd.GeoDataFrame,
    per_kind: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    kind_names: Sequence[str],
    ids: np.ndarray,
    *,
    thresholds: Sequence[float],
    service: Mapping[str, float],
    catchment: float,
    walk_speed_kmh: float,
    reuse: Mapping[str, pd.Series] | None = None,
) -> np.ndarray:
    """Add the nearest-facility, walking-minute and coverage columns to ``out``; return the distance to any kind.

    ``reuse`` holds per-kind columns known to be unchanged (an update), taken as they are.
    """
    reuse = reuse or {}
    n_cells = len(out)
    best_any = np.full(n_cells, np.inf)
    true_any = np.full(n_cells, np.inf)
    group_any = np.full(n_cells, -1, dtype=np.int64)
    covered_service = np.zeros(n_cells, dtype=bool)
    kind_columns: dict[str, Any] = {}
    for kind in kind_names:
        perturbed, true, group = per_kind[kind]
        # the origin points are the cells, one each, in order
        kind_columns[dist_column(kind)] = reuse.get(dist_column(kind), true)
        name = nearest_id_column(kind)
        kind_columns[name] = reuse[name] if name in reuse else _facility_of(ids, group)
        better = perturbed < best_any
        best_any[better], true_any[better], group_any[better] = perturbed[better], true[better], group[better]
        covered_service |= true <= service.get(kind, catchment)
    out[dist_column(ANY_KIND)] = true_any
    nearest_any = _facility_of(ids, group_any) if len(ids) else None
    out[nearest_id_column(ANY_KIND)] = nearest_any
    for name, values in kind_columns.items():
        out[name] = values
    out["walk_min_any"] = true_any / (walk_speed_kmh * 1000.0 / 60.0)
    for t in thresholds:
        out[covered_column(t)] = true_any <= t
    out["covered_service"] = covered_service
    return true_any


def _add_e2sfca_columns(
    out: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    od: pd.DataFrame,
    *,
    e2sfca_steps: Sequence[tuple[float, float]],
    catchment: float,
    first_added_pair: int | None = None,
) -> None:
    """Add the E2SFCA ratio (field area of the counted kinds per resident) and the opportunities in the catchment.

    ``first_added_pair``: the pairs from this row on are those of facilities
    added to the ones of the pairs before it, whose figures ``out`` already
    holds (an update that only adds facilities): only the added pairs are
    summed, onto those figures, with the same result as summing all pairs.
    """
    area = (
        pd.to_numeric(fac["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in fac.columns
        else np.zeros(len(fac))
    )
    counted = fac["kind"].isin(settings.AREA_COUNTED_KINDS).to_numpy()
    supply = np.where(counted, np.nan_to_num(area, nan=0.0), 0.0)
    population = out["population"].to_numpy(dtype=float)
    ratio_column, opportunities_column = "e2sfca_m2_per_capita", f"opportunities_{round(catchment)}m"
    if first_added_pair is None:
        out[ratio_column] = e2sfca(od, population, supply, steps=e2sfca_steps)
        out[opportunities_column] = np.bincount(od["origin"].to_numpy(), minlength=len(out))
        return
    added = od.iloc[first_added_pair:]
    earlier = out[ratio_column].to_numpy(dtype=float)
    out[ratio_column] = e2sfca(added, population, supply, steps=e2sfca_steps, earlier=earlier)
    opportunities = out[opportunities_column].to_numpy(dtype=np.int64)
    out[opportunities_column] = opportunities + np.bincount(added["origin"].to_numpy(), minlength=len(out))


def _snapped_centroids(cells: gpd.GeoDataFrame, orig: SnappedPoints) -> np.ndarray | None:
    """The cells' centroids as snapped (one point each, in order), or ``None`` when they were snapped otherwise.

    Cells without ``entrances`` are snapped at their centroids: the
    neighbourhoods reuse those points instead of computing them again.
    """
    one_each = "entrances" not in cells.columns and orig.one_point_each and orig.n_owners == len(cells)
    return orig.point_xy if one_each else None


def _cells_table(
    cells: gpd.GeoDataFrame,
    orig: SnappedPoints,
    fac: gpd.GeoDataFrame,
    ids: np.ndarray,
    per_kind: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    od: pd.DataFrame,
    parameters: Mapping[str, Any],
    laps: _Laps,
    *,
    reuse: Mapping[str, pd.Series] | None = None,
    neighbourhoods: Callable[[gpd.GeoDataFrame, np.ndarray], tuple[gpd.GeoDataFrame, np.ndarray, Outlines]]
    | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray, gpd.GeoDataFrame, Outlines]:
    """The cells with every output column, the distance to any kind, the underserved neighbourhoods, their outlines.

    From the per-kind nearest facilities and the catchment pairs; the laps
    ``coverage_e2sfca`` and ``underserved`` are taken. An update passes the
    per-kind columns it keeps (``reuse``) and its own ``neighbourhoods``
    (default :func:`~ordos_geo.accessibility.underserved_neighbourhoods`).
    """
    out = cells.copy()
    out["snap_distance_m"] = orig.owner_snap_distance_m()
    out["reachable"] = orig.owner_reachable()
    catchment = parameters["catchment_m"]
    true_any = _add_nearest_columns(
        out,
        per_kind,
        parameters["kinds"],
        ids,
        thresholds=parameters["thresholds_m"],
        service=parameters["service_distance_m"],
        catchment=catchment,
        walk_speed_kmh=parameters["walk_speed_kmh"],
        reuse=reuse,
    )
    _add_e2sfca_columns(out, fac, od, e2sfca_steps=parameters["e2sfca_steps"], catchment=catchment)
    laps.lap("coverage_e2sfca")
    underserved_mask = ~(true_any <= parameters["underserved_threshold_m"])
    out["underserved"] = underserved_mask
    if neighbourhoods is None:
        centroids = _snapped_centroids(out, orig)
        table, cell_nb, outlines = _neighbourhoods_and_outlines(out, underserved_mask, centroids=centroids)
    else:
        table, cell_nb, outlines = neighbourhoods(out, underserved_mask)
    out["neighbourhood_id"] = cell_nb
    laps.lap("underserved")
    return out, true_any, table, outlines


def _facility_service_areas(
    network: WalkNetwork,
    index: NetworkIndex,
    dest: SnappedPoints,
    fac: gpd.GeoDataFrame,
    ids: np.ndarray,
    thresholds: Sequence[float],
    *,
    service_areas_by: str,
    buffer_m: float,
    progress: bool | None,
) -> gpd.GeoDataFrame:
    """One service-area polygon per facility and threshold (none when ``service_areas_by`` is ``"none"``)."""
    if service_areas_by == "facility" and thresholds:
        kinds = fac["kind"].astype(str).to_numpy()
        return _service_area_frame(index, dest, ids, kinds, thresholds, buffer_m, network.crs, progress=progress)
    return gpd.GeoDataFrame({"facility_id": [], "kind": [], "threshold_m": []}, geometry=[], crs=network.crs)


def _service_areas_by(how: str, network: WalkNetwork) -> Literal["facility", "none"]:
    """``"facility"`` or ``"none"``: ``"auto"`` resolved by the size of the network."""
    if how == "auto":
        if network.n_nodes <= SERVICE_AREAS_AUTO_MAX_NODES:
            return "facility"
        logger.info(
            "accessibility: no service-area polygons on a network of %s nodes (more than %s; they would take "
            "longer than the rest of the stage); draw some with ordos_geo.accessibility.service_areas",
            f"{network.n_nodes:,}",
            f"{SERVICE_AREAS_AUTO_MAX_NODES:,}",
        )
        return "none"
    if how not in ("facility", "none"):
        msg = f"service_areas_by must be 'facility', 'none' or 'auto', got {how!r}"
        raise InputDataError(msg)
    return "facility" if how == "facility" else "none"


def _facility_table(fac: gpd.GeoDataFrame, dest: SnappedPoints) -> gpd.GeoDataFrame:
    """The analysed facilities with ``n_access_points``, ``snap_distance_m`` and ``reachable``."""
    fac_out = fac.copy()
    fac_out["n_access_points"] = np.bincount(dest.owner[dest.reachable], minlength=len(fac))
    fac_out["snap_distance_m"] = dest.owner_snap_distance_m()
    fac_out["reachable"] = dest.owner_reachable()
    return fac_out


@dataclass(frozen=True)
class AccessibilityOptions:
    """The options of :func:`compute_accessibility` that a study's ``[accessibility]`` section sets.

    Pass one as ``options=`` instead of the four keywords of the same names;
    :meth:`from_config` reads a study's configuration. Defaults come from
    :mod:`ordos_geo.settings`.

    Attributes
    ----------
    thresholds_m : tuple of float
        Coverage tiers in metres.
    max_distance_m : float
        Cap of the nearest-facility search (metres).
    walk_speed_kmh : float
        Walking speed for minutes.
    max_snap_distance_m : float
        Cells or facilities farther from every street are unreachable (metres).

    Examples
    --------
    >>> AccessibilityOptions(thresholds_m=(300, 1000)).max_distance_m
    5000.0
    """

    thresholds_m: tuple[float, ...] = tuple(settings.DEFAULT_COVERAGE_THRESHOLDS_M)
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M
    walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M

    @classmethod
    def from_config(cls, config: StudyConfig) -> AccessibilityOptions:
        """The ``[accessibility]`` section of a study configuration.

        Parameters
        ----------
        config : ordos_geo.config.StudyConfig

        Returns
        -------
        AccessibilityOptions
        """
        return cls(
            thresholds_m=tuple(config.thresholds_m),
            max_distance_m=config.max_distance_m,
            walk_speed_kmh=config.walk_speed_kmh,
            max_snap_distance_m=config.max_snap_distance_m,
        )

    def keywords(self) -> dict[str, Any]:
        """The options as the keywords of :func:`compute_accessibility`."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _with_options(options: AccessibilityOptions | None, given: Mapping[str, Any]) -> dict[str, Any]:
    """The four keywords, from ``options`` when given (then the keywords must be left at their defaults)."""
    return resolve_options("compute_accessibility", options, AccessibilityOptions(**given)).keywords()


def compute_accessibility(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] | None = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    thresholds_min: Sequence[float] | None = None,
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M,
    walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    kinds: Sequence[str] | None = None,
    service_distance_m: Mapping[str, float] | None = None,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    e2sfca_steps: Sequence[tuple[float, float]] = DEFAULT_E2SFCA_STEPS,
    underserved_threshold_m: float = DEFAULT_CATCHMENT_M,
    public_only: bool = True,
    service_areas_by: Literal["facility", "none", "auto"] = "facility",
    service_area_buffer_m: float = 50.0,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
    cells_snapped: SnappedPoints | None = None,
    facilities_snapped: SnappedPoints | None = None,
    options: AccessibilityOptions | None = None,
) -> AccessibilityResult:
    """Walking accessibility of every populated cell to the fitness facilities.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; ``cells`` and ``facilities`` must be in ``network.crs``.
    cells : geopandas.GeoDataFrame
        Population cells (``cell_id``, ``population``, polygon; optionally
        ``district``), reached at their centroid.
    facilities : geopandas.GeoDataFrame
        Facilities as read by ``io.read_facilities`` (``facility_id``, ``kind``,
        ``area_m2``, ``open_to_public``, geometry).
    thresholds_m : sequence of float, default (300, 500, 1000)
        Coverage tiers in metres (``covered_<t>m`` columns).
    thresholds_min : sequence of float, optional
        Coverage tiers in walking minutes instead; converted at ``walk_speed_kmh``.
    max_distance_m : float, default 5000
        Cap of the nearest-facility search (farther: ``inf``).
    walk_speed_kmh : float, default 4.5
        Walking speed for minutes (``walk_min_any``).
    max_snap_distance_m : float, default 300
        Cells or facilities farther from every street are unreachable.
    kinds : sequence of str, optional
        Facility kinds to analyse; default all kinds present.
    service_distance_m : mapping, optional
        Walking service distance per kind for ``covered_service``; default
        ``settings.KIND_SERVICE_DISTANCE_M``.
    catchment_m : float, default 1000
        Catchment of the E2SFCA and of the cumulative opportunities.
    e2sfca_steps : sequence of (upper bound m, weight)
        Stepped weights, default :data:`DEFAULT_E2SFCA_STEPS` (Luo & Qi 2009).
    underserved_threshold_m : float, default 1000
        Cells farther than this from any facility (or unreachable) are
        underserved (outside the 15-minute fitness circle).
    public_only : bool, default True
        Leave out facilities with ``open_to_public`` False (closed school
        venues): residents cannot use them.
    service_areas_by : {"facility", "none", "auto"}, default "facility"
        One service-area polygon per facility and threshold, or none;
        ``"auto"``: per facility on networks of at most
        :data:`SERVICE_AREAS_AUTO_MAX_NODES` nodes, none on larger ones (one
        log line says so; :func:`~ordos_geo.accessibility.service_areas`
        draws them for chosen facilities).
    service_area_buffer_m : float, default 50
        Band around reachable streets forming the service area.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show progress bars; default: only on a terminal.
    cells_snapped : SnappedPoints, optional
        ``cells`` already snapped on ``network`` at their centroids with this
        ``max_snap_distance_m`` (``cells_snapped`` of an earlier result), so
        they are not snapped again; the same result as without it.
    facilities_snapped : SnappedPoints, optional
        ``facilities`` (every row, before ``public_only`` / ``kinds`` leave
        some out) already snapped on ``network`` with this
        ``max_snap_distance_m`` and ``access_spacing_m``.

    options : AccessibilityOptions, optional
        ``thresholds_m``, ``max_distance_m``, ``walk_speed_kmh`` and
        ``max_snap_distance_m`` in one object (a study's ``[accessibility]``
        section, :meth:`AccessibilityOptions.from_config`); those keywords
        must then be left at their defaults.

    Returns
    -------
    AccessibilityResult

    Raises
    ------
    InputDataError
        Also when ``cells_snapped`` or ``facilities_snapped`` do not belong to
        the frame (another number of rows) or to ``network``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"], "kind": ["gymnasium"]}, crs=net.crs,
    ...                          geometry=gpd.points_from_xy([0.0], [-5.0]))
    >>> acc = compute_accessibility(net, cells, halls)
    >>> acc.cells["dist_m_any"].tolist(), acc.cells["covered_300m"].tolist(), acc.cells["nearest_id_gymnasium"].tolist()
    ([10.0, 190.0], [True, True], ['gym', 'gym'])
    """
    resolved = _with_options(
        options,
        {
            "thresholds_m": thresholds_m,
            "max_distance_m": max_distance_m,
            "walk_speed_kmh": walk_speed_kmh,
            "max_snap_distance_m": max_snap_distance_m,
        },
    )
    thresholds_m = resolved["thresholds_m"]
    max_distance_m = resolved["max_distance_m"]
    walk_speed_kmh = resolved["walk_speed_kmh"]
    max_snap_distance_m = resolved["max_snap_distance_m"]
    laps = _Laps()
    check_network_frame(cells, network.crs, what="population cells")
    check_network_frame(facilities, network.crs, what="facilities")
    _validate_cells(cells)
    _validate_facilities(facilities)
    thresholds = _coverage_thresholds(thresholds_m, thresholds_min, walk_speed_kmh)
    service_areas_by = _service_areas_by(service_areas_by, network)
    limit = check_distance(max_distance_m, name="max_distance_m")
    catchment = check_distance(catchment_m, name="catchment_m")
    service = dict(settings.KIND_SERVICE_DISTANCE_M if service_distance_m is None else service_distance_m)
    analysed = _analysed_rows(facilities, public_only=public_only, kinds=kinds)
    fac = facilities.iloc[analysed].reset_index(drop=True)
    ids = fac["facility_id"].astype(str).to_numpy()
    kind_names = (
        sorted(fac["kind"].astype(str).unique()) if kinds is None else [k for k in kinds if (fac["kind"] == k).any()]
    )
    kind_index = {k: i for i, k in enumerate(kind_names)}
    kind_of_fac = fac["kind"].astype(str).map(kind_index).to_numpy(dtype=np.int64)

    if cells_snapped is not None:
        cells_snapped = check_snapped(network, cells, cells_snapped, what="population cells")
    if facilities_snapped is not None:
        facilities_snapped = check_snapped(network, facilities, facilities_snapped, what="facilities").take(analysed)
    orig, dest = snap_origins_and_destinations(
        network,
        cells,
        fac,
        max_snap_distance_m=max_snap_distance_m,
        access_spacing_m=access_spacing_m,
        origins_snapped=cells_snapped,
        destinations_snapped=facilities_snapped,
    )
    index = network_index(network)
    laps.lap("snapping")
    per_kind, od, child_s, pairs_s = _nearest_and_pairs(
        index, orig, dest, ids, kind_of_fac, kind_names, limit, catchment, progress=progress
    )
    laps.timings["nearest_child"] = child_s
    laps.timings["catchment_pairs"] = pairs_s
    laps.lap("nearest")
    parameters = {
        "thresholds_m": thresholds,
        "max_distance_m": limit,
        "walk_speed_kmh": walk_speed_kmh,
        "max_snap_distance_m": max_snap_distance_m,
        "kinds": list(kind_names),
        "catchment_m": catchment,
        "e2sfca_steps": [tuple(s) for s in e2sfca_steps],
        "underserved_threshold_m": underserved_threshold_m,
        "public_only": public_only,
        # the rest of the call, so that update_accessibility can repeat it
        "kinds_requested": None if kinds is None else [str(k) for k in kinds],
        "service_distance_m": service,
        "service_areas_by": service_areas_by,
        "service_area_buffer_m": service_area_buffer_m,
        "access_spacing_m": access_spacing_m,
    }
    out, true_any, neighbourhoods, outlines = _cells_table(cells, orig, fac, ids, per_kind, od, parameters, laps)
    # the catchment pairs were found while the child searched: count them under coverage_e2sfca
    laps.timings["nearest"] -= pairs_s
    laps.timings["coverage_e2sfca"] += pairs_s
    areas = _facility_service_areas(
        network,
        index,
        dest,
        fac,
        ids,
        thresholds,
        service_areas_by=service_areas_by,
        buffer_m=service_area_buffer_m,
        progress=progress,
    )
    laps.lap("service_areas")
    fac_out = _facility_table(fac, dest)
    population = cells["population"].to_numpy(dtype=float)
    logger.info(
        "accessibility: %s cells (%s beyond %.0f m of a street), %s facilities of %d kinds (%s unreachable), "
        "%.1f%% of residents within %.0f m",
        f"{len(cells):,}",
        f"{int((~out['reachable']).sum()):,}",
        max_snap_distance_m,
        f"{len(fac):,}",
        len(kind_names),
        f"{int((~fac_out['reachable']).sum()):,}",
        100.0 * population[true_any <= underserved_threshold_m].sum() / max(population.sum(), 1e-12),
        underserved_threshold_m,
    )
    return AccessibilityResult(
        cells=out,
        underserved=neighbourhoods,
        service_areas=areas,
        facilities=fac_out,
        parameters=parameters,
        timings_s=laps.timings,
        cells_snapped=orig,
        facilities_snapped=dest,
        catchment_pairs=od,
        cell_columns=tuple(cells.columns),
        nearest_rows={kind: arrays[2] for kind, arrays in per_kind.items()},
        outlines=outlines,
    )
