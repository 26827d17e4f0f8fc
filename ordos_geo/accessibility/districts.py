"""The accessibility stage split by district: parts on buffered streets, run anywhere, merged to the same result."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_distance, check_network_frame
from ordos_geo.accessibility.measures import DEFAULT_CATCHMENT_M
from ordos_geo.accessibility.neighbourhoods import underserved_neighbourhoods
from ordos_geo.accessibility.stage import (
    AccessibilityOptions,
    AccessibilityResult,
    _with_options,
    compute_accessibility,
)
from ordos_geo.network import WalkNetwork, subnetwork

logger = logging.getLogger(__name__)


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

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"], "kind": ["gymnasium"]}, crs=net.crs,
    ...                          geometry=gpd.points_from_xy([0.0], [-5.0]))
    >>> part = district_parts(net, cells.assign(district=["Dongsheng", "Kangbashi"]), halls)[0]
    >>> part.district, len(part.cells), part.network.n_edges
    ('Dongsheng', 2, 4)
    """

    district: str
    network: WalkNetwork
    cells: gpd.GeoDataFrame
    own: np.ndarray
    facilities: gpd.GeoDataFrame
    options: dict = field(default_factory=dict)


def _written_out(options: dict[str, Any]) -> dict[str, Any]:
    """``options=AccessibilityOptions(...)`` written out as its keywords (the split needs the distances)."""
    given = options.get("options")
    if given is None:
        return dict(options)
    rest = {k: v for k, v in options.items() if k != "options"}
    default = AccessibilityOptions().keywords()
    return rest | _with_options(given, {k: rest.get(k, v) for k, v in default.items()})


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

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"], "kind": ["gymnasium"]}, crs=net.crs,
    ...                          geometry=gpd.points_from_xy([0.0], [-5.0]))
    >>> parts = district_parts(net, cells.assign(district=["Dongsheng", "Kangbashi"]), halls)
    >>> [(part.district, part.own.tolist()) for part in parts]
    [('Dongsheng', [True, False]), ('Kangbashi', [False, True])]
    """
    if by not in cells.columns:
        msg = f"population cells: column `{by}` is missing; assign districts (pipeline.assign_districts) to split"
        raise InputDataError(msg)
    options = _written_out(options)
    limit = check_distance(options.get("max_distance_m", settings.DEFAULT_MAX_DISTANCE_M), name="max_distance_m")
    snap = check_distance(options.get("max_snap_distance_m", settings.DEFAULT_MAX_SNAP_DISTANCE_M), name="snap")
    catchment = check_distance(options.get("catchment_m", DEFAULT_CATCHMENT_M), name="catchment_m")
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
    """Accessibility of one part's own cells (a picklable task for a process pool or a Dask cluster).

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> cells = gpd.GeoDataFrame({"population": [50.0, 80.0]}, crs=net.crs,
    ...                          geometry=[shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)])
    >>> halls = gpd.GeoDataFrame({"facility_id": ["gym"], "kind": ["gymnasium"]}, crs=net.crs,
    ...                          geometry=gpd.points_from_xy([0.0], [-5.0]))
    >>> parts = district_parts(net, cells.assign(district=["Dongsheng", "Kangbashi"]), halls)
    >>> district_part_cells(parts[1])["dist_m_any"].tolist()  # Kangbashi's one cell
    [190.0]
    """
    result = compute_accessibility(
        part.network, part.cells, part.facilities, **{**part.options, "service_areas_by": "none"}
    )
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
    check_network_frame(cells, network.crs, what="population cells")
    options = _written_out(options)
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
