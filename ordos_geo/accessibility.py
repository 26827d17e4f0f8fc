"""Walking accessibility of population cells: coverage, E2SFCA, service areas, underserved neighbourhoods.

Everything here works in the walk network's metric CRS (``WalkNetwork.crs``);
distances are metres along the walk network, from :mod:`ordos_geo.routing`
(snapping on edges, nearest facilities, pairs within a catchment). Inputs must
already be in that CRS (``gdf.to_crs(network.crs)``).

:func:`compute_accessibility` is the stage: the nearest facility of every kind,
coverage tiers, the E2SFCA ratio, underserved neighbourhoods and service areas.
With large inputs it hands work to forked child processes (see
:mod:`ordos_geo.routing._fork`): the cell centroids while the network index is
built, half of the cell snapping while the facilities are snapped, and the
per-kind nearest-facility searches while the E2SFCA catchment pairs are found;
results are identical to the single-process path.
:func:`compute_accessibility_by_district` runs it district by district on
buffered streets with the same result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from ordos_geo import settings
from ordos_geo._columns import (
    ANY_KIND,
    covered_column,
    dist_column,
    distance_to_kinds,
    nearest_id_column,
    with_scenario,
)
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork, subnetwork
from ordos_geo.routing import SnappedPoints, nearest_facility, od_distances, snap_points
from ordos_geo.routing._index import _network_index, _NetworkIndex, _unique_sorted
from ordos_geo.routing._search import _attach, _bounded_search, _check_distance, _pairs_within, _start_nearest, _triples
from ordos_geo.routing.distances import _facility_ids
from ordos_geo.routing.snapping import _check_frame, _check_snapped, _start_centroids, _start_origin_points

__all__ = [
    "DEFAULT_CATCHMENT_M",
    "DEFAULT_E2SFCA_STEPS",
    "AccessibilityResult",
    "DistrictPart",
    "SnappedPoints",
    "compute_accessibility",
    "compute_accessibility_by_district",
    "covered_column",
    "dist_column",
    "distance_to_kinds",
    "district_part_cells",
    "district_parts",
    "e2sfca",
    "minutes_to_metres",
    "nearest_facility",
    "nearest_id_column",
    "od_distances",
    "service_areas",
    "snap_points",
    "underserved_neighbourhoods",
    "with_scenario",
]

logger = logging.getLogger(__name__)

#: E2SFCA catchment (metres along the network): the 15-minute fitness circle.
DEFAULT_CATCHMENT_M: float = 1_000.0

#: Stepped E2SFCA distance weights ``(upper bound in metres, weight)``: Luo & Qi
#: (2009), "An enhanced two-step floating catchment area (E2SFCA) method for
#: measuring spatial accessibility to primary care physicians", Health & Place
#: 15(4), 1100-1107, used three travel-time zones weighted 1.00 / 0.68 / 0.22
#: from a Gaussian function; here the zones are scaled to the 1,000 m walk
#: catchment (0-300, 300-600, 600-1,000 m).
DEFAULT_E2SFCA_STEPS: tuple[tuple[float, float], ...] = ((300.0, 1.0), (600.0, 0.68), (1_000.0, 0.22))


#: Share of the kinds whose nearest search runs in the child while the parent finds the catchment pairs.
_NEAREST_CHILD_SHARE = 1.0


def minutes_to_metres(
    minutes: float | Sequence[float] | np.ndarray, *, walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH
):
    """Convert walking minutes to metres at ``walk_speed_kmh`` (4.5 km/h: 15 min = 1,125 m).

    Parameters
    ----------
    minutes : float or array-like
        Walking time in minutes.
    walk_speed_kmh : float, default 4.5
        Walking speed in km/h.

    Returns
    -------
    float or numpy.ndarray
        Distance in metres, same shape as ``minutes``.
    """
    if not walk_speed_kmh > 0:
        msg = f"walk_speed_kmh must be positive, got {walk_speed_kmh!r}"
        raise InputDataError(msg)
    metres_per_minute = walk_speed_kmh * 1000.0 / 60.0
    if np.isscalar(minutes):
        return float(cast(float, minutes)) * metres_per_minute
    return np.asarray(minutes, dtype=float) * metres_per_minute


# --------------------------------------------------------------------------------------------------
# E2SFCA, service areas, underserved neighbourhoods
# --------------------------------------------------------------------------------------------------


def _step_weights(distance: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    bounds = np.array([s[0] for s in steps], dtype=float)
    weights = np.array([s[1] for s in steps] + [0.0], dtype=float)
    return weights[np.searchsorted(bounds, distance, side="left")]


def e2sfca(
    od: pd.DataFrame,
    population: np.ndarray,
    supply: np.ndarray,
    *,
    steps: Sequence[tuple[float, float]] = DEFAULT_E2SFCA_STEPS,
) -> np.ndarray:
    """Enhanced two-step floating catchment ratio of supply per resident.

    Step 1, for each facility ``j``: ``R_j = S_j / sum_k P_k W(d_kj)`` over the
    cells ``k`` in its catchment. Step 2, for each cell ``i``:
    ``A_i = sum_j R_j W(d_ij)``. ``W`` is the stepped weight of
    ``steps`` (zero beyond the last bound, which is the catchment).

    Parameters
    ----------
    od : pandas.DataFrame
        ``origin`` (cell position), ``destination`` (facility position),
        ``distance_m`` as returned by :func:`od_distances`.
    population : numpy.ndarray
        Residents of each cell (origin positions).
    supply : numpy.ndarray
        Supply of each facility, e.g. venue field area in m² (destination positions).
    steps : sequence of (upper bound m, weight)
        Increasing distance bounds and their weights.

    Returns
    -------
    numpy.ndarray
        Supply per resident reachable from each cell (m² per person for areas);
        0 where no facility is within the catchment.
    """
    population = np.asarray(population, dtype=float)
    supply = np.nan_to_num(np.asarray(supply, dtype=float), nan=0.0)
    origin = od["origin"].to_numpy()
    dest = od["destination"].to_numpy()
    weight = _step_weights(od["distance_m"].to_numpy(), steps)
    demand = np.bincount(dest, weights=population[origin] * weight, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, supply / demand, 0.0)
    return np.bincount(origin, weights=ratio[dest] * weight, minlength=len(population))


def _substrings(geoms: np.ndarray, geom_length: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised line substrings between ``start`` and ``end`` (geometry units from the line start)."""
    if len(geoms) == 0:
        return np.empty(0, dtype=object)
    coords, line = shapely.get_coordinates(geoms, return_index=True)
    seg = np.zeros(len(coords))
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = line[1:] == line[:-1]
    step = np.hypot(*(coords[1:] - coords[:-1]).T)
    seg[1:] = np.where(same[1:], step, 0.0)
    cum = np.cumsum(seg)
    first_of_line = np.concatenate([[0], np.flatnonzero(~same[1:]) + 1])
    cum -= np.repeat(cum[first_of_line], np.bincount(line, minlength=len(geoms)))
    inner = (cum > start[line]) & (cum < end[line])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, np.clip(start, 0, geom_length)))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, np.clip(end, 0, geom_length)))
    ids = np.concatenate([np.arange(len(geoms)), line[inner], np.arange(len(geoms))])
    pos = np.concatenate([np.full(len(geoms), -1.0), cum[inner], np.full(len(geoms), np.inf)])
    xy = np.concatenate([p0, coords[inner], p1])
    order = np.lexsort((pos, ids))
    return np.asarray(shapely.linestrings(xy[order], indices=ids[order]), dtype=object)


def _reachable_segments(
    index: _NetworkIndex,
    group: np.ndarray,
    node: np.ndarray,
    dist: np.ndarray,
    same_group: np.ndarray,
    same_edge: np.ndarray,
    same_offset: np.ndarray,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Parts of snapping edges from which a group is reachable within ``threshold``: ``(group, linestring)``.

    ``dist`` is the distance from ``node`` to the group (walking towards it).
    """
    n = index.n_nodes
    within = dist <= threshold
    group, node, dist = group[within], node[within], dist[within]
    snap_edges = index.snap_edges
    two_way = index.twin[snap_edges] >= 0
    parts_g, parts_e, parts_a, parts_b = [], [], [], []
    # via v (always): a >= L - (t - D[v])
    for end_node, allowed, tail in (
        (index.v[snap_edges], np.ones(len(snap_edges), bool), True),
        (index.u[snap_edges], two_way, False),
    ):
        edges_here = snap_edges[allowed]
        nodes_here = end_node[allowed]
        order = np.argsort(nodes_here, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(nodes_here, minlength=n))])
        starts = ptr[node]
        counts = ptr[node + 1] - starts
        total = int(counts.sum())
        if total == 0:
            continue
        idx = order[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)]
        e = edges_here[idx]
        remaining = threshold - np.repeat(dist, counts)
        length = index.length[e]
        if tail:
            a, b = np.maximum(length - remaining, 0.0), length
        else:
            a, b = np.zeros(total), np.minimum(remaining, length)
        parts_g.append(np.repeat(group, counts))
        parts_e.append(e)
        parts_a.append(a)
        parts_b.append(b)
    if len(same_group):
        two = index.twin[same_edge] >= 0
        length = index.length[same_edge]
        parts_g.append(same_group)
        parts_e.append(same_edge)
        parts_a.append(np.maximum(same_offset - threshold, 0.0))
        parts_b.append(np.where(two, np.minimum(same_offset + threshold, length), same_offset))
    if not parts_g:
        return np.empty(0, np.int64), np.empty(0, dtype=object)
    g = np.concatenate(parts_g)
    e = np.concatenate(parts_e)
    a = np.concatenate(parts_a)
    b = np.concatenate(parts_b)
    scale = np.where(index.length[e] > 0, index.geom_length[e] / np.maximum(index.length[e], 1e-12), 0.0)
    full = (a <= 1e-9) & (b >= index.length[e] - 1e-9)
    # a whole edge once per group; drop its partial pieces
    n_edges = len(index.length)
    full_keys = _unique_sorted(g[full] * n_edges + e[full])
    key = g * n_edges + e
    if len(full_keys):
        slot = np.minimum(np.searchsorted(full_keys, key), len(full_keys) - 1)
        covered = full_keys[slot] == key
    else:
        covered = np.zeros(len(key), dtype=bool)
    first_full = np.zeros(len(key), dtype=bool)
    if full.any():
        full_pos = np.flatnonzero(full)
        _, first = np.unique(key[full_pos], return_index=True)
        first_full[full_pos[first]] = True
    keep = first_full | (~full & ~covered)
    g, e, a, b, scale, full = g[keep], e[keep], a[keep], b[keep], scale[keep], full[keep]
    lines = np.empty(len(e), dtype=object)
    lines[full] = index.geoms[e[full]]
    part = ~full & (b > a)
    lines[part] = _substrings(
        index.geoms[e[part]], index.geom_length[e[part]], a[part] * scale[part], b[part] * scale[part]
    )
    ok = full | part
    return g[ok], lines[ok]


def _service_area_polygons(
    index: _NetworkIndex,
    triples: tuple[np.ndarray, np.ndarray, np.ndarray],
    same: tuple[np.ndarray, np.ndarray, np.ndarray],
    thresholds: Sequence[float],
    buffer_m: float,
    n_groups: int,
) -> list[tuple[int, float, BaseGeometry]]:
    out = []
    for threshold in sorted(thresholds):
        g, lines = _reachable_segments(index, *triples, *same, threshold)
        if len(g) == 0:
            continue
        order = np.argsort(g, kind="stable")
        g, lines = g[order], lines[order]
        # buffering each piece and dissolving is far faster in GEOS than buffering crossing linework at once
        bands = shapely.buffer(lines, buffer_m, quad_segs=4)
        starts = np.flatnonzero(np.concatenate([[True], g[1:] != g[:-1]]))
        ends = np.append(starts[1:], len(g))
        for start, end in zip(starts, ends, strict=True):
            out.append((int(g[start]), float(threshold), shapely.union_all(bands[start:end])))
    return out


def service_areas(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    buffer_m: float = 50.0,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
) -> gpd.GeoDataFrame:
    """Walking service areas: the street segments from which each facility is within each threshold.

    Reachable segments (partial edges cut at the remaining distance) are
    buffered by ``buffer_m``; never a convex hull, so land across a river
    without a bridge stays outside.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; ``facilities`` must be in ``network.crs``.
    facilities : geopandas.GeoDataFrame
        With ``facility_id`` and ``kind``.
    thresholds_m : sequence of float, default (300, 500, 1000)
        Walking distances in metres.
    buffer_m : float, default 50
        Half-width of the band around reachable streets (metres).
    max_snap_distance_m : float, default 300
        Facilities farther from every street get no service area.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.

    Returns
    -------
    geopandas.GeoDataFrame
        ``facility_id``, ``kind``, ``threshold_m``, polygon geometry; one row
        per reachable facility and threshold, in ``network.crs``.
    """
    ids = _facility_ids(facilities)
    thresholds = [_check_distance(t, "thresholds_m") for t in thresholds_m]
    index = _network_index(network)
    dest = snap_points(network, facilities, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    rows = _service_area_rows(index, dest, thresholds, buffer_m, progress=progress)
    kinds = facilities["kind"].astype(str).to_numpy() if "kind" in facilities.columns else np.full(len(ids), "")
    return gpd.GeoDataFrame(
        {
            "facility_id": [ids[g] for g, _, _ in rows],
            "kind": [kinds[g] for g, _, _ in rows],
            "threshold_m": np.array([t for _, t, _ in rows], dtype=float),
        },
        geometry=[p for _, _, p in rows],
        crs=network.crs,
    )


def _service_area_rows(index, dest: SnappedPoints, thresholds, buffer_m, *, progress=None):
    ok = dest.reachable
    d_owner, d_edge, d_off = dest.owner[ok], dest.edge[ok], dest.offset_m[ok]
    if len(d_owner) == 0:
        return []
    pos, node, cost = _attach(index, d_edge, d_off, "entry")
    triples = _triples(
        _bounded_search(
            index,
            index.backward,
            d_owner[pos],
            node,
            cost,
            dest.point_xy[ok],
            d_owner,
            max(thresholds),
            progress=progress,
            desc="service areas",
        )
    )
    return _service_area_polygons(index, triples, (d_owner, d_edge, d_off), thresholds, buffer_m, dest.n_owners)


def underserved_neighbourhoods(
    cells: gpd.GeoDataFrame,
    underserved: np.ndarray,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Group underserved cells into neighbourhoods of touching cells, ranked by population.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Cell polygons with ``population`` (and optionally ``district``).
    underserved : numpy.ndarray
        Boolean mask of the underserved cells.

    Returns
    -------
    neighbourhoods : geopandas.GeoDataFrame
        ``neighbourhood_id`` (1 = most populous), ``population``, ``n_cells``,
        ``district`` (holding most of its population), population-weighted
        ``centroid_x`` / ``centroid_y`` and the dissolved polygon.
    neighbourhood_of_cell : numpy.ndarray
        ``neighbourhood_id`` of each cell, 0 where the cell is not underserved.
    """
    mask = np.asarray(underserved, dtype=bool)
    cell_nb = np.zeros(len(cells), dtype=np.int64)
    columns = ["neighbourhood_id", "population", "n_cells", "district", "centroid_x", "centroid_y"]
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=cells.crs)
        return empty, cell_nb
    geoms = np.asarray(cells.geometry.values, dtype=object)[rows]
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    graph = scipy.sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(len(rows), len(rows)))
    _, label = connected_components(graph, directed=False)
    population = cells["population"].to_numpy(dtype=float)[rows]
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    n_lab = int(label.max()) + 1
    pop = np.bincount(label, weights=population, minlength=n_lab)
    count = np.bincount(label, minlength=n_lab)
    safe = np.where(pop > 0, pop, 1.0)
    cx = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 0], minlength=n_lab) / safe, 0.0)
    cy = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 1], minlength=n_lab) / safe, 0.0)
    if pop.sum() == 0 or np.any(pop == 0):
        plain_x = np.bincount(label, weights=centre[:, 0], minlength=n_lab) / count
        plain_y = np.bincount(label, weights=centre[:, 1], minlength=n_lab) / count
        cx = np.where(pop > 0, cx, plain_x)
        cy = np.where(pop > 0, cy, plain_y)
    if "district" in cells.columns:
        frame = pd.DataFrame({"label": label, "district": cells["district"].to_numpy()[rows], "pop": population})
        by = frame.dropna(subset=["district"]).groupby(["label", "district"], as_index=False)["pop"].sum()
        by = by.sort_values(["label", "pop", "district"], ascending=[True, False, True]).drop_duplicates("label")
        district = pd.Series(by["district"].to_numpy(), index=by["label"].to_numpy()).reindex(range(n_lab)).to_numpy()
    else:
        district = np.full(n_lab, None, dtype=object)
    order = np.argsort(label, kind="stable")
    splits = np.flatnonzero(np.diff(label[order])) + 1
    polygons = [shapely.union_all(geoms[chunk]) for chunk in np.split(order, splits)]
    rank = np.lexsort((cx, -pop))  # most populous first, position as a stable tie-break
    ids = np.empty(n_lab, dtype=np.int64)
    ids[rank] = np.arange(1, n_lab + 1)
    cell_nb[rows] = ids[label]
    table = gpd.GeoDataFrame(
        {
            "neighbourhood_id": ids[rank],
            "population": pop[rank],
            "n_cells": count[rank],
            "district": district[rank],
            "centroid_x": cx[rank],
            "centroid_y": cy[rank],
        },
        geometry=[polygons[i] for i in rank],
        crs=cells.crs,
    )
    return table, cell_nb


# --------------------------------------------------------------------------------------------------
# the stage
# --------------------------------------------------------------------------------------------------


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
    """

    cells: gpd.GeoDataFrame
    underserved: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    cells_snapped: SnappedPoints | None = None
    facilities_snapped: SnappedPoints | None = None


def _validate_facilities(facilities: gpd.GeoDataFrame) -> None:
    for column in ("facility_id", "kind"):
        if column not in facilities.columns:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    _facility_ids(facilities)


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
    return [_check_distance(t, "thresholds_m") for t in thresholds]


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


def _snap_inputs(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    *,
    max_snap_distance_m: float,
    access_spacing_m: float,
    cells_snapped: SnappedPoints | None,
    facilities_snapped: SnappedPoints | None,
) -> tuple[_NetworkIndex, SnappedPoints, SnappedPoints]:
    """The network index, the snapped cells and the snapped facilities ``fac`` (given snaps are used as they are).

    With many cells the centroids are computed in a forked child while the
    network index is built here, then half of the cells are snapped in a child
    while the facilities and the other half are snapped here.
    """

    def facility_points() -> SnappedPoints:
        if facilities_snapped is not None:
            return facilities_snapped
        return snap_points(network, fac, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)

    if cells_snapped is not None:
        return _network_index(network), cells_snapped, facility_points()
    centroids = _start_centroids(cells)
    cell_points = None
    try:
        index = _network_index(network)
        cell_points = _start_origin_points(network, cells, max_snap_distance_m, centroids=centroids)
        dest = facility_points()
        orig = cell_points()
    except BaseException:
        if centroids is not None:
            centroids.cancel()
        getattr(cell_points, "cancel", lambda: None)()
        raise
    return index, orig, dest


def _nearest_and_pairs(
    index: _NetworkIndex,
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
    job = _start_nearest(
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
        od = _pairs_within(index, orig, dest, catchment, progress=progress, sort=False)
        pairs_s = time.perf_counter() - pairs_clock
        per_kind = job.result()
    except BaseException:
        job.cancel()
        raise
    return per_kind, od, job.child_s, pairs_s


def _facility_of(ids: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The ``facility_id`` of each group, ``None`` where there is none (-1)."""
    return np.where(group >= 0, ids[np.maximum(group, 0)], np.array(None, dtype=object))


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
) -> np.ndarray:
    """Add the nearest-facility, walking-minute and coverage columns to ``out``; return the distance to any kind."""
    n_cells = len(out)
    best_any = np.full(n_cells, np.inf)
    true_any = np.full(n_cells, np.inf)
    group_any = np.full(n_cells, -1, dtype=np.int64)
    covered_service = np.zeros(n_cells, dtype=bool)
    kind_columns: dict[str, np.ndarray] = {}
    for kind in kind_names:
        perturbed, true, group = per_kind[kind]
        # the origin points are the cells, one each, in order
        kind_columns[dist_column(kind)] = true
        kind_columns[nearest_id_column(kind)] = _facility_of(ids, group)
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
) -> None:
    """Add the E2SFCA ratio (field area of the counted kinds per resident) and the opportunities in the catchment."""
    area = (
        pd.to_numeric(fac["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in fac.columns
        else np.zeros(len(fac))
    )
    counted = fac["kind"].isin(settings.AREA_COUNTED_KINDS).to_numpy()
    supply = np.where(counted, np.nan_to_num(area, nan=0.0), 0.0)
    population = out["population"].to_numpy(dtype=float)
    out["e2sfca_m2_per_capita"] = e2sfca(od, population, supply, steps=e2sfca_steps)
    out[f"opportunities_{round(catchment)}m"] = np.bincount(od["origin"].to_numpy(), minlength=len(out))


def _facility_service_areas(
    network: WalkNetwork,
    index: _NetworkIndex,
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
        rows = _service_area_rows(index, dest, thresholds, buffer_m, progress=progress)
        kinds_arr = fac["kind"].astype(str).to_numpy()
        return gpd.GeoDataFrame(
            {
                "facility_id": [ids[g] for g, _, _ in rows],
                "kind": [kinds_arr[g] for g, _, _ in rows],
                "threshold_m": np.array([t for _, t, _ in rows], dtype=float),
            },
            geometry=[p for _, _, p in rows],
            crs=network.crs,
        )
    return gpd.GeoDataFrame({"facility_id": [], "kind": [], "threshold_m": []}, geometry=[], crs=network.crs)


def _facility_table(fac: gpd.GeoDataFrame, dest: SnappedPoints) -> gpd.GeoDataFrame:
    """The analysed facilities with ``n_access_points``, ``snap_distance_m`` and ``reachable``."""
    fac_out = fac.copy()
    fac_out["n_access_points"] = np.bincount(dest.owner[dest.reachable], minlength=len(fac))
    fac_out["snap_distance_m"] = dest.owner_snap_distance_m()
    fac_out["reachable"] = dest.owner_reachable()
    return fac_out


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
    service_areas_by: Literal["facility", "none"] = "facility",
    service_area_buffer_m: float = 50.0,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
    cells_snapped: SnappedPoints | None = None,
    facilities_snapped: SnappedPoints | None = None,
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
    service_areas_by : {"facility", "none"}, default "facility"
        One service-area polygon per facility and threshold, or none.
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

    Returns
    -------
    AccessibilityResult

    Raises
    ------
    InputDataError
        Also when ``cells_snapped`` or ``facilities_snapped`` do not belong to
        the frame (another number of rows) or to ``network``.
    """
    laps = _Laps()
    _check_frame(network, cells, "population cells")
    _check_frame(network, facilities, "facilities")
    _validate_cells(cells)
    _validate_facilities(facilities)
    thresholds = _coverage_thresholds(thresholds_m, thresholds_min, walk_speed_kmh)
    limit = _check_distance(max_distance_m, "max_distance_m")
    catchment = _check_distance(catchment_m, "catchment_m")
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
        cells_snapped = _check_snapped(network, cells, cells_snapped, "population cells")
    if facilities_snapped is not None:
        facilities_snapped = _check_snapped(network, facilities, facilities_snapped, "facilities").take(analysed)
    index, orig, dest = _snap_inputs(
        network,
        cells,
        fac,
        max_snap_distance_m=max_snap_distance_m,
        access_spacing_m=access_spacing_m,
        cells_snapped=cells_snapped,
        facilities_snapped=facilities_snapped,
    )
    laps.lap("snapping")
    per_kind, od, child_s, pairs_s = _nearest_and_pairs(
        index, orig, dest, ids, kind_of_fac, kind_names, limit, catchment, progress=progress
    )
    laps.timings["nearest_child"] = child_s
    laps.timings["catchment_pairs"] = pairs_s
    laps.lap("nearest")
    out = cells.copy()
    out["snap_distance_m"] = orig.owner_snap_distance_m()
    out["reachable"] = orig.owner_reachable()
    true_any = _add_nearest_columns(
        out,
        per_kind,
        kind_names,
        ids,
        thresholds=thresholds,
        service=service,
        catchment=catchment,
        walk_speed_kmh=walk_speed_kmh,
    )
    _add_e2sfca_columns(out, fac, od, e2sfca_steps=e2sfca_steps, catchment=catchment)
    laps.lap("coverage_e2sfca")
    # the catchment pairs were found while the child searched: count them under coverage_e2sfca
    laps.timings["nearest"] -= pairs_s
    laps.timings["coverage_e2sfca"] += pairs_s
    underserved_mask = ~(true_any <= underserved_threshold_m)
    out["underserved"] = underserved_mask
    neighbourhoods, cell_nb = underserved_neighbourhoods(out, underserved_mask)
    out["neighbourhood_id"] = cell_nb
    laps.lap("underserved")
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
    }
    return AccessibilityResult(
        cells=out,
        underserved=neighbourhoods,
        service_areas=areas,
        facilities=fac_out,
        parameters=parameters,
        timings_s=laps.timings,
        cells_snapped=orig,
        facilities_snapped=dest,
    )


# --------------------------------------------------------------------------------------------------
# the stage, split by district
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DistrictPart:
    """One district's share of a split accessibility run (see :func:`compute_accessibility_by_district`).

    Attributes
    ----------
    district : str
        The value of the grouping column (``"(none)"`` for cells without one).
    network : WalkNetwork
        The streets within ``reach_m`` of the district's cells.
    cells : geopandas.GeoDataFrame
        The district's cells and, around them, the cells E2SFCA needs (within ``context_m``).
    own : numpy.ndarray
        Which rows of ``cells`` belong to the district.
    facilities : geopandas.GeoDataFrame
        The facilities touching the network's area.
    options : dict
        Keyword arguments of :func:`compute_accessibility`.
    """

    district: str
    network: WalkNetwork
    cells: gpd.GeoDataFrame
    own: np.ndarray
    facilities: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)


def district_parts(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "district",
    **options,
) -> list[DistrictPart]:
    """Split an accessibility run into one part per district, each on the streets it can need.

    Around the convex hull of a district's cell centroids the part keeps every
    street within ``reach_m = max(max_distance_m + 3 s, 3 c + 5 s) + 1`` (``s``
    the snap distance, ``c`` the E2SFCA catchment): a walk from the district's
    cells capped at ``max_distance_m`` never leaves it, every cell and access
    point snaps to the segment it snaps to in the whole network, and an access
    point whose true segment is outside snaps (if at all) beyond every capped
    walk. The cells within ``2 c + 2 s`` come along so the E2SFCA demand of
    every facility the district reaches is complete. So each part's results
    for its own cells equal the whole run's.

    Parameters
    ----------
    network, cells, facilities
        As for :func:`compute_accessibility`.
    by : str
        Column of ``cells`` naming the district.
    **options
        Keyword arguments of :func:`compute_accessibility` (``max_distance_m``,
        ``max_snap_distance_m``, ``catchment_m``, ...).

    Returns
    -------
    list of DistrictPart
        Ordered by district name, then the cells without one.
    """
    if by not in cells.columns:
        msg = f"population cells: column `{by}` is missing; assign districts (pipeline.assign_districts) to split"
        raise InputDataError(msg)
    limit = _check_distance(options.get("max_distance_m", settings.DEFAULT_MAX_DISTANCE_M), "max_distance_m")
    snap = _check_distance(options.get("max_snap_distance_m", settings.DEFAULT_MAX_SNAP_DISTANCE_M), "snap")
    catchment = _check_distance(options.get("catchment_m", DEFAULT_CATCHMENT_M), "catchment_m")
    reach = max(limit + 3 * snap, 3 * catchment + 5 * snap) + 1.0
    context = 2 * catchment + 2 * snap
    centroids = np.asarray(shapely.centroid(np.asarray(cells.geometry.values, dtype=object)), dtype=object)
    label = cells[by].astype(object).where(cells[by].notna(), "(none)").astype(str).to_numpy()
    edge_index = network.edges.sindex
    facility_index = facilities.sindex
    parts = []
    for district in sorted(set(label) - {"(none)"}) + (["(none)"] if (label == "(none)").any() else []):
        own = label == district
        hull = shapely.convex_hull(shapely.multipoints(centroids[own]))
        near = shapely.intersects(shapely.buffer(hull, context), centroids) | own
        area = shapely.buffer(hull, reach)
        rows = np.flatnonzero(near)
        parts.append(
            DistrictPart(
                district=district,
                network=subnetwork(network, edge_index.query(area, predicate="intersects")),
                cells=cells.iloc[rows],
                own=own[rows],
                facilities=facilities.iloc[np.sort(facility_index.query(area, predicate="intersects"))],
                options=dict(options),
            )
        )
    return parts


def district_part_cells(part: DistrictPart) -> gpd.GeoDataFrame:
    """Accessibility of one part's own cells (a picklable task for a process pool or a Dask cluster)."""
    result = compute_accessibility(part.network, part.cells, part.facilities, **part.options, service_areas_by="none")
    return result.cells[part.own]


def compute_accessibility_by_district(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    by: str = "district",
    map_parts: Callable[[Callable, list], Iterable] = map,
    **options,
) -> AccessibilityResult:
    """:func:`compute_accessibility` district by district on buffered streets, merged: the same result.

    Each district's cells are computed on the streets around them
    (:func:`district_parts`), so no walk is cut at a district line; the parts
    can run anywhere ``map_parts`` sends them (a Dask cluster, a process pool).
    The merged cells, with the underserved neighbourhoods formed again across
    district lines, equal those of one run on the whole network (floating
    sums of E2SFCA up to rounding); service areas and the facility table come
    from the whole network.

    Parameters
    ----------
    network, cells, facilities
        As for :func:`compute_accessibility`.
    by : str
        Column of ``cells`` naming the district.
    map_parts : callable
        ``map``-like: ``map_parts(district_part_cells, parts)`` yields each
        part's cells in order. Default: the built-in ``map`` (here, one by one).
    **options
        Keyword arguments of :func:`compute_accessibility`.

    Returns
    -------
    AccessibilityResult
        ``parameters`` adds ``split_by`` and ``parts``; ``timings_s`` adds ``parts``.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> result = compute_accessibility_by_district(study.network, study.cells, study.facilities)  # doctest: +SKIP
    """
    _check_frame(network, cells, "population cells")
    clock = time.perf_counter()
    parts = district_parts(network, cells, facilities, by=by, **options)
    frames = list(map_parts(district_part_cells, parts))
    parts_s = time.perf_counter() - clock
    whole = compute_accessibility(network, cells.iloc[:0], facilities, **options)  # service areas, facility table
    # a part without any facility of a kind near it has no column for that kind: unreachable there
    absent = {c: np.inf if c.startswith("dist_m_") else None for c in whole.cells.columns}
    merged = pd.concat(
        [f.assign(**{c: v for c, v in absent.items() if c not in f.columns}) for f in frames if len(f)] or [whole.cells]
    ).reindex(cells.index)
    merged = gpd.GeoDataFrame(merged[list(whole.cells.columns)], geometry=cells.geometry.name, crs=cells.crs)
    neighbourhoods, cell_nb = underserved_neighbourhoods(merged, merged["underserved"].to_numpy(dtype=bool))
    merged["neighbourhood_id"] = cell_nb
    logger.info("accessibility: %d district parts merged, %s cells", len(parts), f"{len(merged):,}")
    return AccessibilityResult(
        cells=merged,
        underserved=neighbourhoods,
        service_areas=whole.service_areas,
        facilities=whole.facilities,
        parameters={**whole.parameters, "split_by": by, "parts": [p.district for p in parts]},
        timings_s={**whole.timings_s, "parts": parts_s},
    )
