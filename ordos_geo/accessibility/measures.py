"""Accessibility measures: minutes to metres, the E2SFCA ratio, walking service areas, underserved neighbourhoods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components
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

    Examples
    --------
    >>> import networkx as nx
    >>> from ordos_geo.network import walk_network_from_graph
    >>> g = nx.MultiDiGraph(nx.path_graph(3), crs="EPSG:32649")  # nodes 0 - 1 - 2, 100 m apart
    >>> nx.set_node_attributes(g, {i: {"x": 100.0 * i, "y": 0.0} for i in g})
    >>> nx.set_edge_attributes(g, 100.0, "length")
    >>> net = walk_network_from_graph(g)
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
    return _service_area_polygons(index, triples, (d_owner, d_edge, d_off), thresholds, buffer_m, dest.n_owners)


#: Pieces of neighbourhood outlines: per (tile, first row of the piece), the piece's rows and its outline.
OutlinePieces = dict[tuple[int, int], tuple[np.ndarray, Any]]

#: Side (metres) of the square tiles a neighbourhood larger than one is dissolved in, piece by piece: an
#: update redraws the pieces whose cells changed (a plan's new trails and venues touch a few tiles of the
#: largest neighbourhoods), and merging the pieces costs about their outlines, not their cells.
_OUTLINE_TILE_M = 1_000.0


def _outline_tiles(centre: np.ndarray) -> np.ndarray:
    """Key of the square tile of side :data:`_OUTLINE_TILE_M` holding each centre (one integer)."""
    if len(centre) == 0:
        return np.empty(0, dtype=np.int64)
    tile = np.floor(centre / _OUTLINE_TILE_M).astype(np.int64)
    return tile[:, 0] * 4_000_037 + tile[:, 1]


def underserved_neighbourhoods(
    cells: gpd.GeoDataFrame,
    underserved: np.ndarray,
    *,
    centroids: np.ndarray | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Group underserved cells into neighbourhoods of touching cells, ranked by population.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Cell polygons with ``population`` (and optionally ``district``).
    underserved : numpy.ndarray
        Boolean mask of the underserved cells.
    centroids : numpy.ndarray, optional
        ``(n, 2)`` centroids of all cells (``shapely.centroid``), when already
        at hand (the snapped cells' points): a million cells take seconds.

    Returns
    -------
    neighbourhoods : geopandas.GeoDataFrame
        ``neighbourhood_id`` (1 = most populous), ``population``, ``n_cells``,
        ``district`` (holding most of its population), population-weighted
        ``centroid_x`` / ``centroid_y`` and the dissolved polygon.
    neighbourhood_of_cell : numpy.ndarray
        ``neighbourhood_id`` of each cell, 0 where the cell is not underserved.

    Examples
    --------
    >>> import shapely
    >>> boxes = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 0, 6, 1)]
    >>> people = {"population": [10.0, 20.0, 5.0], "district": ["Dongsheng"] * 3}
    >>> cells = gpd.GeoDataFrame(people, geometry=boxes, crs=4546)  # two touching cells and one apart
    >>> neighbourhoods, of_cell = underserved_neighbourhoods(cells, np.array([True, True, True]))
    >>> neighbourhoods[["neighbourhood_id", "population", "n_cells"]].values.tolist(), of_cell.tolist()
    ([[1.0, 30.0, 2.0], [2.0, 5.0, 1.0]], [1, 1, 2])
    """
    table, cell_nb, _ = _neighbourhoods_and_pieces(cells, underserved, centroids=centroids)
    return table, cell_nb


def _neighbourhoods_and_pieces(
    cells: gpd.GeoDataFrame, underserved: np.ndarray, *, centroids: np.ndarray | None = None
) -> tuple[gpd.GeoDataFrame, np.ndarray, OutlinePieces]:
    """:func:`underserved_neighbourhoods` and the pieces of their outlines (kept for an update)."""
    rows = np.flatnonzero(np.asarray(underserved, dtype=bool))
    groups = _touching_groups(cells, rows, centroids=centroids)
    table, cell_nb = _ranked_neighbourhoods(cells, [groups])
    return table, cell_nb, groups["pieces"]


#: Columns of the underserved-neighbourhood table (before the geometry).
_NEIGHBOURHOOD_COLUMNS = ["neighbourhood_id", "population", "n_cells", "district", "centroid_x", "centroid_y"]


def _touching_groups(
    cells: gpd.GeoDataFrame,
    rows: np.ndarray,
    *,
    centroids: np.ndarray | None = None,
    outline_pieces: OutlinePieces | None = None,
) -> dict[str, Any]:
    """Groups of touching cells among ``rows`` (ascending): the columns of their table, their rows and first row.

    ``centroids`` are those of all cells, when at hand. ``outline_pieces``
    are the pieces of an earlier run's outlines (:func:`_dissolve`), reused
    where a group keeps exactly the same cells in a tile; ``"pieces"`` holds
    this call's.

    Groups are numbered by their first row, as :func:`scipy.sparse.csgraph.connected_components`
    numbers them; each figure sums its cells in row order.
    """
    if len(rows) == 0:
        empty = np.empty(0)
        return {
            "population": empty,
            "n_cells": np.empty(0, np.int64),
            "district": np.empty(0, dtype=object),
            "centroid_x": empty,
            "centroid_y": empty,
            "geometry": np.empty(0, dtype=object),
            "first_row": np.empty(0, np.int64),
            "rows": rows,
            "label": np.empty(0, np.int64),
            "pieces": {},
        }
    geoms = np.asarray(cells.geometry.values, dtype=object)[rows]
    label = _touching_labels(geoms)
    population = cells["population"].to_numpy(dtype=float)[rows]
    centre = shapely.get_coordinates(shapely.centroid(geoms)) if centroids is None else centroids[rows]
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
        district_of_rows = cells["district"].iloc[rows].to_numpy()  # the rows only: an Arrow column converts slowly
        frame = pd.DataFrame({"label": label, "district": district_of_rows, "pop": population})
        by = frame.dropna(subset=["district"]).groupby(["label", "district"], as_index=False)["pop"].sum()
        by = by.sort_values(["label", "pop", "district"], ascending=[True, False, True]).drop_duplicates("label")
        district = pd.Series(by["district"].to_numpy(), index=by["label"].to_numpy()).reindex(range(n_lab)).to_numpy()
    else:
        district = np.full(n_lab, None, dtype=object)
    order = np.argsort(label, kind="stable")
    splits = np.flatnonzero(np.diff(label[order])) + 1
    chunks = np.split(order, splits)
    tile = _outline_tiles(centre)
    polygons, pieces = _dissolve(geoms, chunks, rows=rows, tile=tile, reuse=outline_pieces)
    return {
        "population": pop,
        "n_cells": count,
        "district": district,
        "centroid_x": cx,
        "centroid_y": cy,
        "geometry": polygons,
        "first_row": np.array([rows[chunk[0]] for chunk in chunks], dtype=np.int64),
        "rows": rows,
        "label": label,
        "pieces": pieces,
    }


def _touching_labels(geoms: np.ndarray) -> np.ndarray:
    """Label of the group of touching (intersecting) geometries of each of ``geoms``, numbered by first member.

    Geometries sharing a vertex touch: they are joined through their vertices
    (hashed coordinates), which settles the cells of a grid at once. Only pairs
    whose bounding boxes overlap and that are still apart afterwards are tested
    exactly (``shapely.intersects``): cells touching away from their vertices
    (a corner on the side of a larger cell) or points. Of two groups that
    touch, one is not the largest: only members outside the largest group
    are looked up in the tree.
    """
    n = len(geoms)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    vertex, _ = pd.factorize(coords[:, 0] + 1j * coords[:, 1])
    heads, tails = [owner], [n + vertex]
    n_nodes = n + int(vertex.max(initial=-1)) + 1
    label = _components(heads, tails, n_nodes)[:n]
    # two groups that touch have a pair of touching members, one of them outside the largest group: only the
    # members outside it are looked up (each pair once)
    largest = int(np.argmax(np.bincount(label)))
    outside = np.flatnonzero(label != largest)
    found, b = shapely.STRtree(geoms).query(geoms[outside])
    a = outside[found]
    apart = (label[a] != label[b]) & ((a < b) | (label[b] == largest))
    a, b = a[apart], b[apart]
    touch = shapely.intersects(geoms[a], geoms[b])
    if touch.any():
        label = _components([*heads, a[touch]], [*tails, b[touch]], n_nodes)[:n]
    # numbered by each group's first member (as connected_components numbers a graph of the members alone)
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    number = np.empty(len(first), dtype=np.int64)
    number[np.argsort(first, kind="stable")] = np.arange(len(first))
    return number[inverse]


def _components(heads: list[np.ndarray], tails: list[np.ndarray], n_nodes: int) -> np.ndarray:
    """Connected-component label of each of ``n_nodes`` nodes of the undirected graph of edges ``heads -> tails``."""
    head = np.concatenate(heads)
    graph = scipy.sparse.csr_matrix(
        (np.ones(len(head), dtype=np.int8), (head, np.concatenate(tails))), shape=(n_nodes, n_nodes)
    )
    return connected_components(graph, directed=False)[1]


def _union_of_coverage(parts: np.ndarray) -> Any:
    """The union of polygons that cover the plane without overlapping (cells, or pieces of a group), valid.

    Cells of a grid form a polygonal coverage (no overlaps, shared sides with
    the same corners), which :func:`shapely.coverage_union_all` dissolves many
    times faster than the general union; a lone valid polygon is its own union.
    GEOS raises on overlapping input: such parts take the general
    :func:`shapely.union_all`. A coverage union can also come out invalid:
    cells that meet only at a corner give a ring that touches itself, and sides
    that do not match keep pieces apart. Its parts cover exactly the input, so
    the general union of those few parts is the union of the input, several
    times faster than the union of every cell (byte-identical once normalised
    on the 400k benchmark city's 358 such groups).
    """
    if len(parts) == 1 and shapely.is_valid(parts[0]):
        return parts[0]
    try:
        merged = shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)
    if not shapely.is_valid(merged):
        return shapely.union_all(shapely.get_parts(merged))  # the general union: valid
    return merged


def _dissolve(
    geoms: np.ndarray,
    chunks: list[np.ndarray],
    *,
    rows: np.ndarray,
    tile: np.ndarray,
    reuse: OutlinePieces | None = None,
) -> tuple[np.ndarray, OutlinePieces]:
    """The union of each group ``chunks`` (positions in ``geoms``) of touching cells, and the pieces it was made of.

    A group within one tile (``tile``: key per position) is dissolved at once
    (:func:`_union_of_coverage`); a larger one tile by tile, then its pieces
    together. A piece whose cells (``rows``: cell row per position) are those
    of a piece in ``reuse`` is taken from there: an update redraws only the
    tiles where a group's cells changed. Groups of points (cells given as
    points) take the general :func:`shapely.union_all`. Every outline is
    normalised (:func:`shapely.normalize`), so it does not depend on the
    method: a union of pieces is the union of their cells.
    """
    reuse = reuse or {}
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    merged = np.empty(len(chunks), dtype=object)
    pieces: OutlinePieces = {}
    for k, chunk in enumerate(chunks):
        if not polygonal[chunk].all():
            merged[k] = shapely.union_all(geoms[chunk])
            continue
        in_order = chunk[np.argsort(tile[chunk], kind="stable")]
        splits = np.flatnonzero(np.diff(tile[in_order])) + 1
        if len(splits) == 0:
            merged[k] = _union_of_coverage(geoms[chunk])
            continue
        outlines = []
        for piece in np.split(in_order, splits):
            key = (int(tile[piece[0]]), int(rows[piece[0]]))
            earlier = reuse.get(key)
            if earlier is not None and np.array_equal(earlier[0], rows[piece]):
                outline = earlier[1]
            else:
                outline = _union_of_coverage(geoms[piece])
            pieces[key] = (rows[piece], outline)
            outlines.append(outline)
        merged[k] = _union_of_coverage(np.array(outlines, dtype=object))
    return shapely.normalize(merged), pieces


def _ranked_neighbourhoods(
    cells: gpd.GeoDataFrame, parts: list[dict[str, Any]], kept: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The neighbourhood table and each cell's id from groups of touching cells (:func:`_touching_groups`).

    Groups are ranked by population, then by ``centroid_x``, then by their
    first row. ``kept`` gives, for groups taken over from an earlier table
    (the first part), each cell's old id and the old id of each group.
    """
    cell_nb = np.zeros(len(cells), dtype=np.int64)
    names = ["population", "n_cells", "district", "centroid_x", "centroid_y", "geometry", "first_row"]
    merged = {name: np.concatenate([part[name] for part in parts]) for name in names}
    if len(merged["first_row"]) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in _NEIGHBOURHOOD_COLUMNS}, geometry=[], crs=cells.crs)
        return empty, cell_nb
    by_first = np.argsort(merged["first_row"], kind="stable")
    merged = {name: values[by_first] for name, values in merged.items()}
    pop, cx = merged["population"], merged["centroid_x"]
    rank = np.lexsort((cx, -pop))  # most populous first, first row as a stable tie-break
    ids = np.empty(len(pop), dtype=np.int64)
    ids[rank] = np.arange(1, len(pop) + 1)
    id_of_group = np.empty(len(pop), dtype=np.int64)
    id_of_group[by_first] = ids
    start = 0
    if kept is not None:
        old_ids_of_cells, old_ids = kept
        n_kept = len(old_ids)
        lookup = np.zeros(int(old_ids.max(initial=0)) + 1, dtype=np.int64)
        lookup[old_ids] = id_of_group[:n_kept]
        on = old_ids_of_cells > 0
        cell_nb[on] = lookup[old_ids_of_cells[on]]
        start = n_kept
    for part in parts[1 if kept is not None else 0 :]:
        n = len(part["first_row"])
        cell_nb[part["rows"]] = id_of_group[start : start + n][part["label"]]
        start += n
    table = gpd.GeoDataFrame(
        {
            "neighbourhood_id": ids[rank],
            "population": pop[rank],
            "n_cells": merged["n_cells"][rank],
            "district": merged["district"][rank],
            "centroid_x": cx[rank],
            "centroid_y": merged["centroid_y"][rank],
        },
        geometry=list(merged["geometry"][rank]),
        crs=cells.crs,
    )
    return table, cell_nb
