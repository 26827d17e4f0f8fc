"""Segment rules: which streets a trail may never use, and which it prefers when choosing.

Forbidden segments (motorways and trunks, exclusion lines, an edge mask) are
left out of every solver; preferences (footways and paths, streets inside green
land, per-edge weights) lower the *choice* cost of a segment, never the length
the budget counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.trails.prize import TrailPrizeModel

__all__ = ["DEFAULT_FORBIDDEN_HIGHWAYS", "DEFAULT_PREFERRED_HIGHWAYS"]

#: Highway tags a trail may never use.
DEFAULT_FORBIDDEN_HIGHWAYS: tuple[str, ...] = ("motorway", "motorway_link", "trunk", "trunk_link")
#: Highway tags a planner prefers for trails (their cost is discounted when choosing).
DEFAULT_PREFERRED_HIGHWAYS: tuple[str, ...] = ("footway", "path", "pedestrian", "track", "cycleway")

_TINY_COST = 1e-3


def _edge_midpoints(network: WalkNetwork) -> np.ndarray:
    return shapely.line_interpolate_point(network.edge_lines(), 0.5, normalized=True)


def _forbidden_segments(
    network: WalkNetwork,
    model: TrailPrizeModel,
    forbidden_edges: Any,
    forbidden_highways: Sequence[str],
    *,
    avoid_tolerance_m: float = 10.0,
) -> np.ndarray:
    """Boolean mask over segments that a trail may not use."""
    edges = network.edge_table
    highway = edges["highway"].astype("string").fillna("")
    bad_edge = highway.isin(list(forbidden_highways)).to_numpy().copy()
    if forbidden_edges is not None:
        if isinstance(forbidden_edges, gpd.GeoDataFrame | gpd.GeoSeries):
            if forbidden_edges.crs is None:
                msg = "forbidden_edges: the GeoDataFrame of lines to avoid has no CRS; set it (e.g. EPSG:4326)"
                raise InputDataError(msg)
            lines = forbidden_edges.to_crs(network.crs).geometry.to_numpy()
            tree = shapely.STRtree(lines)
            hit, _ = tree.query(_edge_midpoints(network), predicate="dwithin", distance=avoid_tolerance_m)
            bad_edge[np.unique(hit)] = True
        else:
            array = np.asarray(forbidden_edges)
            if array.dtype == bool:
                if array.shape != (len(edges),):
                    msg = (
                        f"forbidden_edges: boolean mask has shape {array.shape}, expected ({len(edges)},) "
                        "(one value per row of network.edges)"
                    )
                    raise InputDataError(msg)
                bad_edge |= array
            elif array.size:
                idx = array.astype(np.int64).ravel()
                if idx.min() < 0 or idx.max() >= len(edges):
                    msg = f"forbidden_edges: edge indices must lie in 0..{len(edges) - 1} (rows of network.edges)"
                    raise InputDataError(msg)
                bad_edge[idx] = True
    forbidden = np.zeros(model.n_segments, dtype=bool)
    np.logical_or.at(forbidden, model.segment_of_edge, bad_edge)
    return forbidden


def _choice_costs(
    network: WalkNetwork,
    model: TrailPrizeModel,
    *,
    edge_weights: Any,
    preferred_highways: Sequence[str],
    preference_factor: float,
    green_land: gpd.GeoDataFrame | None,
) -> np.ndarray:
    """Cost used to *choose* segments (true length x preferences); the budget uses true length."""
    edges = network.edge_table
    factor = np.ones(len(edges))
    highway = edges["highway"].astype("string").fillna("")
    preferred = highway.isin(list(preferred_highways)).to_numpy().copy()
    if green_land is not None and len(green_land):
        if green_land.crs is None:
            msg = "green_land: the polygons have no CRS; set it (e.g. EPSG:4326)"
            raise InputDataError(msg)
        polygons = green_land.to_crs(network.crs).geometry.to_numpy()
        tree = shapely.STRtree(polygons)
        hit, _ = tree.query(_edge_midpoints(network), predicate="within")
        preferred[np.unique(hit)] = True
    factor[preferred] = preference_factor
    if edge_weights is not None:
        weights = (
            edges[edge_weights].to_numpy(dtype=float)
            if isinstance(edge_weights, str)
            else np.asarray(edge_weights, dtype=float)
        )
        if weights.shape != (len(edges),) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
            msg = (
                f"edge_weights: expected {len(edges)} positive finite multipliers (one per row of network.edges), "
                f"got shape {weights.shape}"
            )
            raise InputDataError(msg)
        factor = factor * weights
    seg_factor = np.full(model.n_segments, np.inf)
    np.minimum.at(seg_factor, model.segment_of_edge, factor)
    return np.maximum(model.segment_length * seg_factor, _TINY_COST)
