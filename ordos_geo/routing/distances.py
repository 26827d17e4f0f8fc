"""Public walking-distance functions: origin-destination pairs, nearest facility, node-to-node reach."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._columns import ANY_KIND
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.routing._index import _network_index
from ordos_geo.routing._search import _check_distance, _nearest_core, _pairs_within
from ordos_geo.routing.snapping import _origin_points, snap_points

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

    Returns
    -------
    pandas.DataFrame
        Long table ``origin``, ``destination`` (row positions in the input
        frames), ``distance_m``, sorted by origin then destination.
    """
    limit = _check_distance(max_distance_m, "max_distance_m")
    orig = _origin_points(network, origins, max_snap_distance_m)
    dest = snap_points(
        network, destinations, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m
    )
    index = _network_index(network)
    table = _pairs_within(index, orig, dest, limit, progress=progress)
    logger.info("od distances: %s pairs within %s m", f"{len(table):,}", f"{limit:,.0f}")
    return table


def _facility_ids(facilities: gpd.GeoDataFrame, what: str = "facilities") -> np.ndarray:
    if "facility_id" not in facilities.columns:
        msg = f"{what}: column `facility_id` is missing; give each facility a unique id"
        raise InputDataError(msg)
    ids = facilities["facility_id"].astype(str).to_numpy()
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        examples = ", ".join(sorted(set(ids[dup]))[:5])
        msg = f"{what}: column `facility_id` has {dup.sum()} duplicated values ({examples}); ids must be unique"
        raise InputDataError(msg)
    return ids


def nearest_facility(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
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

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``distance_m`` (metres along the network, the
        snap legs excluded; ``inf`` when none within the cap) and
        ``facility_id`` (``None`` when none). Ties go to the lexicographically
        smallest ``facility_id``.
    """
    limit = _check_distance(max_distance_m, "max_distance_m")
    ids = _facility_ids(facilities)
    orig = _origin_points(network, origins, max_snap_distance_m)
    dest = snap_points(network, facilities, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m)
    index = _network_index(network)
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    result = _nearest_core(
        index,
        orig,
        dest,
        np.arange(len(facilities)),
        rank,
        np.zeros(len(facilities), dtype=np.int64),
        [ANY_KIND],
        limit,
        progress=False,
    )
    _, true, group = result[ANY_KIND]
    facility = np.where(group >= 0, ids[np.maximum(group, 0)], None) if len(ids) else np.full(len(origins), None)
    return pd.DataFrame({"distance_m": true, "facility_id": facility}, index=origins.index)
