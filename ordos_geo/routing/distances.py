"""Public walking-distance functions: origin-destination pairs, nearest facility, node-to-node reach."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_distance, check_facility_ids
from ordos_geo.network import WalkNetwork
from ordos_geo.routing.index import _unique_sorted, network_index
from ordos_geo.routing.search import NearestSearch, _node_search, pairs_within
from ordos_geo.routing.snapping import SnappedPoints, _snapped_destinations, _snapped_origins

logger = logging.getLogger(__name__)


def od_distances(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    progress: bool | None = None,
    origins_snapped: SnappedPoints | None = None,
    destinations_snapped: SnappedPoints | None = None,
) -> pd.DataFrame:
    """Walking distances of all origin-destination pairs within ``max_distance_m``.

    Origins are reached at their centroid; destinations at their access points
    (boundary of polygons, samples along lines); the distance to a destination
    is the shortest over its access points. The snap legs are excluded.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; the frames must be in ``network.crs``.
    origins, destinations : geopandas.GeoDataFrame
        Where walks start and end.
    max_distance_m : float
        Only pairs within this network distance (metres) are returned.
    max_snap_distance_m : float, default 300
        Farther rows are unreachable and appear in no pair.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    progress : bool, optional
        Show a progress bar; default: only on a terminal.
    origins_snapped : SnappedPoints, optional
        ``origins`` already snapped on ``network`` at their centroids with this
        ``max_snap_distance_m`` (``snap_points(network, origins,
        polygon_access="centroid")``, or ``cells_snapped`` of an accessibility
        result), so they are not snapped again: the same result.
    destinations_snapped : SnappedPoints, optional
        ``destinations`` already snapped on ``network`` with this
        ``max_snap_distance_m`` and ``access_spacing_m``.

    Returns
    -------
    pandas.DataFrame
        Long table ``origin``, ``destination`` (row positions in the input
        frames), ``distance_m``, sorted by origin then destination.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0, 200.0], [-5.0, -5.0]), crs=net.crs)
    >>> od_distances(net, homes, halls, max_distance_m=150.0)  # each home's far hall is 190 m away
       origin  destination  distance_m
    0       0            0        10.0
    1       1            1        10.0
    """
    limit = check_distance(max_distance_m, name="max_distance_m")
    orig = _snapped_origins(network, origins, max_snap_distance_m, origins_snapped)
    dest = _snapped_destinations(
        network, destinations, max_snap_distance_m, access_spacing_m, destinations_snapped, "destinations"
    )
    index = network_index(network)
    table = pairs_within(index, orig, dest, limit, progress=progress)
    logger.info("od distances: %s pairs within %s m", f"{len(table):,}", f"{limit:,.0f}")
    return table


def nearest_facility(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    origins_snapped: SnappedPoints | None = None,
    facilities_snapped: SnappedPoints | None = None,
) -> pd.DataFrame:
    """Walking distance from each origin to its nearest facility.

    Parameters
    ----------
    network : WalkNetwork
        Walk network; the frames must be in ``network.crs``.
    origins : geopandas.GeoDataFrame
        Where walks start (polygons at their centroid).
    facilities : geopandas.GeoDataFrame
        With a unique ``facility_id``; reached at their access points.
    max_distance_m : float, default 5000
        Farther facilities are ignored (distance ``inf``).
    max_snap_distance_m : float, default 300
        Origins or access points farther from every street are unreachable.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    origins_snapped : SnappedPoints, optional
        ``origins`` already snapped on ``network`` at their centroids with this
        ``max_snap_distance_m`` (as for :func:`od_distances`): not snapped again.
    facilities_snapped : SnappedPoints, optional
        ``facilities`` already snapped on ``network`` with this
        ``max_snap_distance_m`` and ``access_spacing_m``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``distance_m`` (metres along the network, the
        snap legs excluded; ``inf`` when none within the cap) and
        ``facility_id`` (``None`` when none). Ties go to the lexicographically
        smallest ``facility_id``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"]}, geometry=gpd.points_from_xy([0.0], [-5.0]), crs=net.crs)
    >>> nearest_facility(net, homes, halls)
       distance_m facility_id
    0        10.0         gym
    1       190.0         gym
    """
    limit = check_distance(max_distance_m, name="max_distance_m")
    ids = check_facility_ids(facilities)
    orig = _snapped_origins(network, origins, max_snap_distance_m, origins_snapped)
    dest = _snapped_destinations(
        network, facilities, max_snap_distance_m, access_spacing_m, facilities_snapped, "facilities"
    )
    index = network_index(network)
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    search = NearestSearch(
        index, orig, dest, np.arange(len(facilities)), rank, np.zeros(len(facilities), dtype=np.int64), limit
    )
    true = np.empty(orig.n_owners)
    group: np.ndarray = np.empty(orig.n_owners, dtype=np.int64)
    search.kind(0, np.empty(orig.n_owners), true, group)  # one kind, searched here (no child process)
    facility = np.where(group >= 0, ids[np.maximum(group, 0)], None) if len(ids) else np.full(len(origins), None)
    return pd.DataFrame({"distance_m": true, "facility_id": facility}, index=origins.index)


def node_distances_within(
    network: WalkNetwork,
    sources: np.ndarray | Sequence[int],
    limit_m: float,
    *,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walking distances from each source node to every node within ``limit_m``, as CSR-style arrays.

    Walks start at the source node and follow the edges' directions (one-way
    edges stay one-way). The searches run tile by tile on the sub-network
    within the Euclidean reach of each tile of sources, so memory stays
    bounded by the tile size; the distances are those of one Dijkstra on the
    whole network.

    Parameters
    ----------
    network : WalkNetwork
        Walk network.
    sources : array-like of int
        Source node positions (``0 .. network.n_nodes - 1``); repeats are searched once.
    limit_m : float
        Largest distance returned (metres along the network; a node at exactly
        ``limit_m`` is included).
    progress : bool, optional
        Show a progress bar; default: only on a terminal.

    Returns
    -------
    indptr : numpy.ndarray
        ``(n_nodes + 1,)`` int64: the targets of node ``i`` are
        ``targets[indptr[i]:indptr[i + 1]]`` (empty when ``i`` is not a source).
    targets : numpy.ndarray
        int64 node positions, ascending within each source; a source reaches itself at 0.
    distances : numpy.ndarray
        float64 metres along the network, aligned with ``targets``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> indptr, targets, distances = node_distances_within(net, [0], 150.0)
    >>> targets.tolist(), distances.tolist()
    ([0, 1], [0.0, 100.0])
    """
    limit = check_distance(limit_m, name="limit_m")
    index = network_index(network)
    n = index.n_nodes
    wanted = np.asarray(sources, dtype=np.int64).ravel()
    bad = wanted[(wanted < 0) | (wanted >= n)]
    if len(bad):
        msg = f"sources: {len(bad)} are not node positions of the network (0 to {n - 1}), e.g. {int(bad[0])}"
        raise InputDataError(msg)
    unique = _unique_sorted(wanted)
    src_parts, tgt_parts, dist_parts = [], [], []
    for positions, nodes, dist in _node_search(index, unique, limit, progress=progress):
        r, c = np.nonzero(np.isfinite(dist))
        src_parts.append(unique[positions[r]])
        tgt_parts.append(nodes[c])
        dist_parts.append(dist[r, c])
    src = np.concatenate(src_parts) if src_parts else np.zeros(0, dtype=np.int64)
    tgt = np.concatenate(tgt_parts) if tgt_parts else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(dist_parts) if dist_parts else np.zeros(0)
    order = np.lexsort((tgt, src))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, tgt[order].astype(np.int64), dst[order].astype(np.float64)
