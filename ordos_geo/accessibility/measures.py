"""Accessibility measures: minutes to metres, the E2SFCA ratio, walking service areas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_distance, check_facility_ids
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import NetworkIndex, SnappedPoints, network_index, node_distances_to_points, snap_points

#: E2SFCA catchment (metres along the network): the 15-minute fitness circle.
DEFAULT_CATCHMENT_M: float = 1_000.0

#: Stepped E2SFCA distance weights ``(upper bound in metres, weight)``: Luo & Qi
#: (2009), "An enhanced two-step floating catchment area (E2SFCA) method for
#: measuring spatial accessibility to primary care physicians", Health & Place
#: 15(4), 1100-1107, used three travel-time zones weighted 1.00 / 0.68 / 0.22
#: from a Gaussian function; here the zones are scaled to the 1,000 m walk
#: catchment (0-300, 300-600, 600-1,000 m).
DEFAULT_E2SFCA_STEPS: tuple[tuple[float, float], ...] = ((300.0, 1.0), (600.0, 0.68), (1_000.0, 0.22))


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

    Examples
    --------
    >>> minutes_to_metres(15), minutes_to_metres([5, 10], walk_speed_kmh=6.0).tolist()
    (1125.0, [500.0, 1000.0])
    """
    if not walk_speed_kmh > 0:
        msg = f"walk_speed_kmh must be positive, got {walk_speed_kmh!r}"
        raise InputDataError(msg)
    metres_per_minute = walk_speed_kmh * 1000.0 / 60.0
    if np.isscalar(minutes):
        return float(cast(float, minutes)) * metres_per_minute
    return np.asarray(minutes, dtype=float) * metres_per_minute


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
    earlier: np.ndarray | None = None,
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
    earlier : numpy.ndarray, optional
        The ratios of the cells from pairs of other facilities, which ``od``
        follows (facilities added to those of an earlier call): each cell's
        sum goes on from its earlier value, pair by pair, so the result is
        that of one call on the earlier pairs followed by ``od``, to the
        last bit.

    Returns
    -------
    numpy.ndarray
        Supply per resident reachable from each cell (m² per person for areas);
        0 where no facility is within the catchment.

    Examples
    --------
    >>> od = pd.DataFrame({"origin": [0, 1], "destination": [0, 0], "distance_m": [200.0, 800.0]})
    >>> ratio = e2sfca(od, np.array([100.0, 100.0]), np.array([1000.0]))  # 1,000 m² shared, weights 1 and 0.22
    >>> ratio.round(2).tolist()
    [8.2, 1.8]
    """
    population = np.asarray(population, dtype=float)
    supply = np.nan_to_num(np.asarray(supply, dtype=float), nan=0.0)
    origin = od["origin"].to_numpy()
    dest = od["destination"].to_numpy()
    weight = _step_weights(od["distance_m"].to_numpy(), steps)
    demand = np.bincount(dest, weights=population[origin] * weight, minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, supply / demand, 0.0)
    if earlier is None:
        return np.bincount(origin, weights=ratio[dest] * weight, minlength=len(population))
    out = np.array(earlier, dtype=float)
    np.add.at(out, origin, ratio[dest] * weight)  # in pair order, as one bincount over both sets of pairs adds
    return out


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
    index: NetworkIndex,
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
    full_keys = np.unique(g[full] * n_edges + e[full])
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
    lines[full] = index.lines(e[full])
    part = ~full & (b > a)
    lines[part] = _substrings(
        index.lines(e[part]), index.geom_length[e[part]], a[part] * scale[part], b[part] * scale[part]
    )
    ok = full | part
    return g[ok], lines[ok]


def _service_area_polygons(
    index: NetworkIndex,
    triples: tuple[np.ndarray, np.ndarray, np.ndarray],
    same: tuple[np.ndarray, np.ndarray, np.ndarray],
    thresholds: Sequence[float],
    buffer_m: float,
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

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"], "kind": ["gymnasium"]}, crs=net.crs,
    ...                          geometry=gpd.points_from_xy([0.0], [-5.0]))
    >>> areas = service_areas(net, halls, thresholds_m=(100.0, 300.0))  # the streets within reach, buffered 50 m
    >>> areas["threshold_m"].tolist(), areas.geometry.bounds["maxx"].tolist()
    ([100.0, 300.0], [150.0, 250.0])
    """
    ids = check_facility_ids(facilities)
    thresholds = [check_distance(t, name="thresholds_m") for t in thresholds_m]
    index = network_index(network)
    dest = snap_points(network, facilities, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    kinds = facilities["kind"].astype(str).to_numpy() if "kind" in facilities.columns else np.full(len(ids), "")
    return _service_area_frame(index, dest, ids, kinds, thresholds, buffer_m, network.crs, progress=progress)


def _service_area_frame(
    index: NetworkIndex,
    dest: SnappedPoints,
    ids: np.ndarray,
    kinds: np.ndarray,
    thresholds: Sequence[float],
    buffer_m: float,
    crs: Any,
    *,
    progress: bool | None = None,
) -> gpd.GeoDataFrame:
    """Service areas of the snapped facilities ``dest``: ``facility_id``, ``kind``, ``threshold_m``, polygon."""
    rows = _service_area_rows(index, dest, thresholds, buffer_m, progress=progress)
    return gpd.GeoDataFrame(
        {
            "facility_id": [ids[g] for g, _, _ in rows],
            "kind": [kinds[g] for g, _, _ in rows],
            "threshold_m": np.array([t for _, t, _ in rows], dtype=float),
        },
        geometry=[p for _, _, p in rows],
        crs=crs,
    )


def _service_area_rows(index, dest: SnappedPoints, thresholds, buffer_m, *, progress=None):
    ok = dest.reachable
    d_owner, d_edge, d_off = dest.owner[ok], dest.edge[ok], dest.offset_m[ok]
    if len(d_owner) == 0:
        return []
    triples = node_distances_to_points(index, dest, max(thresholds), progress=progress, desc="service areas")
    return _service_area_polygons(index, triples, (d_owner, d_edge, d_off), thresholds, buffer_m)
