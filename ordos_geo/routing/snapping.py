"""Snapping: the access points of points, polygons and lines projected onto walk-network edges.

Everything works in the walk network's metric CRS (``WalkNetwork.crs``); inputs
must already be in that CRS (``gdf.to_crs(network.crs)``).

Points are projected onto the nearest street *segment* (not the nearest node),
and the distance from the snap point is counted along the edge, so a cell in the
middle of a long block is not given false zero-distance access to a node. The
straight-line leg from a point to its snap point is **not** part of any network
distance; it is reported separately as ``snap_distance_m``. A point farther than
``max_snap_distance_m`` from every street is unreachable (distance ``inf``).

How each geometry is reached:

- points: the point itself;
- population cells (origins): the cell centroid;
- polygon facilities (parks, sports parks): their boundary. Access points are
  the exterior sampled every ``access_spacing_m`` (default 50 m, so at most 25 m
  along the fence from any gate), plus every point where a street crosses the
  boundary, plus the boundary point nearest to each nearby street. When the
  facility table has an ``entrances`` column (Point / MultiPoint geometries) the
  given entrances replace the boundary for that row;
- lines (fitness trails): points sampled every ``access_spacing_m`` plus both ends.

A facility is as near as its nearest access point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_network_frame
from ordos_geo.network import WalkNetwork
from ordos_geo.routing._fork import _can_fork, _Forked
from ordos_geo.routing.index import NetworkIndex, network_index

#: Origins from which their snapping runs in a forked child while the facilities are snapped.
_FORK_MIN_POINTS = 50_000


@dataclass(frozen=True)
class SnappedPoints:
    """Access points of a GeoDataFrame snapped onto walk-network edges.

    One row per access point (a polygon gives several, a point one).

    Attributes
    ----------
    owner : numpy.ndarray
        Row position in the input frame of each access point (int64).
    edge : numpy.ndarray
        Index into ``network.edges`` of the edge snapped to; ``-1`` when the
        point is farther than ``max_snap_distance_m`` from every edge.
    offset_m : numpy.ndarray
        Metres along the edge from its ``u`` end (the fraction along the
        geometry times the edge ``length``); NaN when unreachable.
    snap_distance_m : numpy.ndarray
        Straight-line metres from the access point to its snap point (to the
        nearest edge even when too far). Not included in network distances.
    point_xy : numpy.ndarray
        ``(n, 2)`` coordinates of the access points in the network CRS.
    n_owners : int
        Number of rows of the input frame.
    network_key : str or None
        Fingerprint of the network snapped to (``None`` when unknown), checked
        when the snaps are passed to a distance function instead of snapping again.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> snapped = snap_points(net, homes)
    >>> snapped.offset_m.tolist(), snapped.snap_distance_m.tolist(), snapped.owner_reachable().tolist()
    ([10.0, 90.0], [5.0, 5.0], [True, True])
    """

    owner: np.ndarray
    edge: np.ndarray
    offset_m: np.ndarray
    snap_distance_m: np.ndarray
    point_xy: np.ndarray
    n_owners: int
    network_key: str | None = field(default=None, compare=False)

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def reachable(self) -> np.ndarray:
        """Boolean mask of access points within the snapping distance."""
        return self.edge >= 0

    @property
    def one_point_each(self) -> bool:
        """Whether every input row has exactly one access point, in row order (point ``i`` is row ``i``'s)."""
        return len(self.owner) == self.n_owners and np.array_equal(self.owner, np.arange(self.n_owners))

    def owner_snap_distance_m(self) -> np.ndarray:
        """Smallest snap distance of each input row (``inf`` for rows without access points)."""
        out = np.full(self.n_owners, np.inf)
        np.minimum.at(out, self.owner, self.snap_distance_m)
        return out

    def owner_reachable(self) -> np.ndarray:
        """Whether each input row has at least one reachable access point."""
        out = np.zeros(self.n_owners, dtype=bool)
        out[self.owner[self.reachable]] = True
        return out

    def take(self, rows: np.ndarray) -> SnappedPoints:
        """The access points of the input rows ``rows`` (ascending positions), renumbered ``0 .. len(rows) - 1``.

        Equal to snapping only those rows: each row's access points do not depend on the other rows.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if self.one_point_each:  # point i is row i's: the rows' points, in their order
            points, owner = rows, np.arange(len(rows), dtype=np.int64)
        else:
            renumber = np.full(self.n_owners, -1, dtype=np.int64)
            renumber[rows] = np.arange(len(rows))
            new_owner = renumber[self.owner]
            points = new_owner >= 0  # the points of the rows taken, in their order
            owner = new_owner[points]
        return SnappedPoints(
            owner=owner,
            edge=self.edge[points],
            offset_m=self.offset_m[points],
            snap_distance_m=self.snap_distance_m[points],
            point_xy=self.point_xy[points],
            n_owners=len(rows),
            network_key=self.network_key,
        )


def _sample_lines(lines: np.ndarray, owners: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_m`` along each line, both ends included."""
    lengths = shapely.length(lines)
    counts = np.maximum(np.ceil(lengths / spacing_m).astype(np.int64), 1) + 1
    line_of = np.repeat(np.arange(len(lines)), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(counts.sum()) - np.repeat(starts, counts)
    fraction = k / np.repeat(counts - 1, counts)
    points = shapely.line_interpolate_point(lines[line_of], fraction, normalized=True)
    return shapely.get_coordinates(points), owners[line_of]


def _access_points(
    index: NetworkIndex,
    geoms: np.ndarray,
    *,
    polygon_access: str,
    spacing_m: float,
    entrances: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates ``(k, 2)`` and owner row of every access point."""
    type_ids = shapely.get_type_id(geoms)
    is_polygon = np.isin(type_ids, (3, 6))
    is_line = np.isin(type_ids, (1, 2, 5))
    rows = np.arange(len(geoms))
    xy_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []

    use_entrances = np.zeros(len(geoms), dtype=bool)
    if entrances is not None:
        ent = np.asarray(entrances, dtype=object)
        valid = np.array([isinstance(g, shapely.Geometry) and not shapely.is_empty(g) for g in ent])
        use_entrances = valid
        if valid.any():
            parts, part_owner = shapely.get_parts(ent[valid], return_index=True)
            coords, coord_index = shapely.get_coordinates(parts, return_index=True)
            xy_parts.append(coords)
            owner_parts.append(rows[valid][part_owner[coord_index]])

    centroid_rows = ~use_entrances & (~(is_polygon | is_line) | (polygon_access == "centroid"))
    point_like = centroid_rows & np.isin(type_ids, (0, 4))
    if point_like.any():
        parts, part_owner = shapely.get_parts(geoms[point_like], return_index=True)
        xy_parts.append(shapely.get_coordinates(parts))
        owner_parts.append(rows[point_like][part_owner])
    other_centroid = centroid_rows & ~np.isin(type_ids, (0, 4))
    if other_centroid.any():
        xy_parts.append(shapely.get_coordinates(shapely.centroid(geoms[other_centroid])))
        owner_parts.append(rows[other_centroid])

    boundary_rows = ~use_entrances & ~centroid_rows & is_polygon
    if boundary_rows.any():
        polys, poly_owner = shapely.get_parts(geoms[boundary_rows], return_index=True)
        owner_of_poly = rows[boundary_rows][poly_owner]
        rings = shapely.get_exterior_ring(polys)
        coords, owners = _sample_lines(rings, owner_of_poly, spacing_m)
        xy_parts.append(coords)
        owner_parts.append(owners)
        # streets near the boundary (within one spacing): their crossings (gates) and nearest boundary points
        boxes = np.asarray(shapely.bounds(rings)) + np.array([-1.0, -1.0, 1.0, 1.0]) * spacing_m
        ring_idx, near_edge = index.segments.edges_near_boxes(boxes)
        if len(ring_idx):
            near_lines = index.lines(near_edge)
            close = shapely.dwithin(rings[ring_idx], near_lines, spacing_m)
            ring_idx, near_lines = ring_idx[close], near_lines[close]
            crossing = shapely.intersection(rings[ring_idx], near_lines)
            c_coords, c_index = shapely.get_coordinates(crossing, return_index=True)
            xy_parts.append(c_coords)
            owner_parts.append(owner_of_poly[ring_idx[c_index]])
            nearest = shapely.shortest_line(rings[ring_idx], near_lines)
            xy_parts.append(shapely.get_coordinates(shapely.get_point(nearest, 0)))
            owner_parts.append(owner_of_poly[ring_idx])

    line_rows = ~use_entrances & ~centroid_rows & is_line
    if line_rows.any():
        lines, line_owner = shapely.get_parts(geoms[line_rows], return_index=True)
        coords, owners = _sample_lines(lines, rows[line_rows][line_owner], spacing_m)
        xy_parts.append(coords)
        owner_parts.append(owners)

    if not xy_parts:
        return np.empty((0, 2)), np.empty(0, dtype=np.int64)
    if len(owner_parts) == 1 and len(owner_parts[0]) == len(geoms) and np.all(np.diff(owner_parts[0]) > 0):
        return xy_parts[0][:, :2], owner_parts[0].astype(np.int64)  # one point per row, in order
    xy = np.concatenate(xy_parts)[:, :2]
    owner = np.concatenate(owner_parts).astype(np.int64)
    order = np.lexsort((xy[:, 1], xy[:, 0], owner))
    xy, owner = xy[order], owner[order]
    keep = np.ones(len(owner), dtype=bool)
    keep[1:] = (owner[1:] != owner[:-1]) | np.any(np.abs(np.diff(xy, axis=0)) > 1e-6, axis=1)
    return xy[keep], owner[keep]


def _snap_xy(
    index: NetworkIndex, xy: np.ndarray, max_snap_distance_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edge, offset (m from u, in edge-length units) and snap distance of each coordinate."""
    n = len(xy)
    edge = np.full(n, -1, dtype=np.int64)
    offset = np.full(n, np.nan)
    snap = np.full(n, np.inf)
    if n == 0:
        return edge, offset, snap
    grid = index.segments
    seg, t, dist = grid.nearest(np.asarray(xy, dtype=float), max_snap_distance_m)
    hit = np.flatnonzero(seg >= 0)
    if len(hit):
        s = seg[hit]
        e = grid.edge[s]
        along = grid.before[s] + t[hit] * np.hypot(*(grid.b[s] - grid.a[s]).T)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(index.geom_length[e] > 0, along / index.geom_length[e], 0.0)
        edge[hit] = e
        snap[hit] = dist[hit]
        offset[hit] = np.clip(fraction, 0.0, 1.0) * index.length[e]
    far = np.flatnonzero(edge < 0)
    if len(far):
        # report how far the unreachable points are (slow path, few points)
        (src2, _hit2), dist2 = index.tree.query_nearest(shapely.points(xy[far]), return_distance=True)
        snap[far[src2]] = dist2
    return edge, offset, snap


def _simple_origins(origins: gpd.GeoDataFrame) -> bool:
    """Many polygon origins without entrances: one centroid access point each, so the output size is known."""
    if len(origins) < _FORK_MIN_POINTS or "entrances" in origins.columns:
        return False
    return bool(np.isin(shapely.get_type_id(np.asarray(origins.geometry.values, dtype=object)), (3, 6)).all())


def _start_centroids(origins: gpd.GeoDataFrame) -> _Forked | None:
    """Centroids of many polygon origins, computed in a forked child (``None`` when not worthwhile)."""
    if not (_simple_origins(origins) and _can_fork()):
        return None
    geoms = np.asarray(origins.geometry.values, dtype=object)

    def fill(xy: np.ndarray) -> None:
        xy[:] = shapely.get_coordinates(shapely.centroid(geoms))[:, :2]

    return _Forked([((len(geoms), 2), np.float64)], fill, background=True)


def _start_origin_points(
    network: WalkNetwork, origins: gpd.GeoDataFrame, max_snap_distance_m: float, *, centroids: _Forked | None
) -> Callable[[], SnappedPoints]:
    """Snap the origins at their centroids, half of them in a forked child; call the result to get them all.

    Used for many polygon origins without entrances (``centroids`` from
    :func:`_start_centroids`); otherwise the origins are snapped here by
    :func:`snap_points` when the returned function is called.
    """
    if centroids is None:
        return lambda: _origin_points(network, origins, max_snap_distance_m)
    check_network_frame(origins, network.crs, what="snap_points input")
    index = network_index(network)
    _ = index.segments  # build the shared index before forking
    try:
        (xy,) = centroids.result()
    except BaseException:
        centroids.cancel()
        raise
    n = len(xy)
    half = n // 2

    def fill(edge: np.ndarray, offset: np.ndarray, snap: np.ndarray) -> None:
        edge[:], offset[:], snap[:] = _snap_xy(index, xy[:half], max_snap_distance_m)

    job = _Forked([((half,), np.int64), ((half,), np.float64), ((half,), np.float64)], fill, background=True)

    def result() -> SnappedPoints:
        try:
            rest = _snap_xy(index, xy[half:], max_snap_distance_m)
            first = job.result()
        except BaseException:
            job.cancel()
            raise
        edge, offset, snap = (np.concatenate([a, b]) for a, b in zip(first, rest, strict=True))
        owner = np.arange(n, dtype=np.int64)
        return SnappedPoints(
            owner=owner,
            edge=edge,
            offset_m=offset,
            snap_distance_m=snap,
            point_xy=xy,
            n_owners=n,
            network_key=index.key,
        )

    result.cancel = job.cancel  # type: ignore[attr-defined]
    return result


def snap_points(
    network: WalkNetwork,
    gdf: gpd.GeoDataFrame,
    *,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    polygon_access: Literal["boundary", "centroid"] = "boundary",
    access_spacing_m: float = 50.0,
    entrances_column: str | None = "entrances",
) -> SnappedPoints:
    """Snap the access points of ``gdf`` onto the nearest walk-network edges.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (metric CRS).
    gdf : geopandas.GeoDataFrame
        Points, polygons or lines in ``network.crs``.
    max_snap_distance_m : float, default 300
        Access points farther than this (metres, straight line) from every
        edge are unreachable (``edge == -1``).
    polygon_access : {"boundary", "centroid"}, default "boundary"
        Reach polygons at their boundary (facilities) or at their centroid
        (population cells). Lines are always sampled along their length.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    entrances_column : str or None, default "entrances"
        Column of Point / MultiPoint entrance geometries; where present and
        non-empty they replace the boundary access points of that row.

    Returns
    -------
    SnappedPoints
        One row per access point.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> park = gpd.GeoDataFrame(geometry=[shapely.box(40.0, 10.0, 60.0, 30.0)], crs=net.crs)
    >>> snapped = snap_points(net, park, access_spacing_m=20.0)  # the fence, sampled every 20 m
    >>> len(snapped), float(snapped.snap_distance_m.min())
    (4, 10.0)
    """
    check_network_frame(gdf, network.crs, what="snap_points input")
    if not access_spacing_m > 0:
        msg = f"access_spacing_m must be positive, got {access_spacing_m!r}"
        raise InputDataError(msg)
    index = network_index(network)
    entrances = None
    if entrances_column is not None and entrances_column in gdf.columns:
        entrances = gdf[entrances_column].to_numpy(dtype=object)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    xy, owner = _access_points(
        index,
        geoms,
        polygon_access=polygon_access,
        spacing_m=access_spacing_m,
        entrances=entrances,
    )
    edge, offset, snap = _snap_xy(index, xy, max_snap_distance_m)
    return SnappedPoints(
        owner=owner,
        edge=edge,
        offset_m=offset,
        snap_distance_m=snap,
        point_xy=xy,
        n_owners=len(gdf),
        network_key=index.key,
    )


def _origin_points(network: WalkNetwork, origins: gpd.GeoDataFrame, max_snap_distance_m: float) -> SnappedPoints:
    return snap_points(network, origins, max_snap_distance_m=max_snap_distance_m, polygon_access="centroid")


def check_snapped(network: WalkNetwork, gdf: gpd.GeoDataFrame, snapped: SnappedPoints, *, what: str) -> SnappedPoints:
    """Check that ``snapped`` snaps the rows of ``gdf`` on ``network``, so a stage can use it instead of snapping again.

    Parameters
    ----------
    network : WalkNetwork
        The walk network the distances are measured on.
    gdf : geopandas.GeoDataFrame
        The frame the snaps are of, in ``network.crs``.
    snapped : SnappedPoints
        Snaps given by the caller (from :func:`snap_points` or an earlier result).
    what : str
        The frame's name for the message (``"population cells"``).

    Returns
    -------
    SnappedPoints
        ``snapped`` itself.

    Raises
    ------
    InputDataError
        When ``gdf`` fails :func:`~ordos_geo._validate.check_network_frame`,
        ``snapped`` is no :class:`SnappedPoints`, or it snaps another number
        of rows or another network (one line saying which).

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> snapped = snap_points(net, homes, polygon_access="centroid")
    >>> check_snapped(net, homes, snapped, what="homes") is snapped
    True
    """
    check_network_frame(gdf, network.crs, what=what)
    if not isinstance(snapped, SnappedPoints):
        msg = f"{what}: the snapped points given are a {type(snapped).__name__}, not SnappedPoints"
        raise InputDataError(msg)
    other_network = snapped.network_key is not None and snapped.network_key != network_index(network).key
    if snapped.n_owners != len(gdf) or other_network:
        where = "another walk network" if other_network else "this walk network"
        msg = (
            f"{what}: the snapped points given do not match: they snap {snapped.n_owners:,} rows on {where}, "
            f"the frame has {len(gdf):,} rows; pass the snaps of these rows on this network "
            "(snap_points(network, frame), or the result of the run that used them) or none"
        )
        raise InputDataError(msg)
    return snapped


def _snapped_origins(
    network: WalkNetwork, origins: gpd.GeoDataFrame, max_snap_distance_m: float, given: SnappedPoints | None
) -> SnappedPoints:
    """The origins snapped at their centroids: ``given`` once checked, else snapped here."""
    if given is not None:
        return check_snapped(network, origins, given, what="origins")
    return _origin_points(network, origins, max_snap_distance_m)


def _snapped_destinations(
    network: WalkNetwork,
    destinations: gpd.GeoDataFrame,
    max_snap_distance_m: float,
    access_spacing_m: float,
    given: SnappedPoints | None,
    what: str,
) -> SnappedPoints:
    """The destinations snapped at their access points: ``given`` once checked, else snapped here."""
    if given is not None:
        return check_snapped(network, destinations, given, what=what)
    return snap_points(
        network, destinations, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m
    )


def snap_origins_and_destinations(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    access_spacing_m: float = 50.0,
    origins_snapped: SnappedPoints | None = None,
    destinations_snapped: SnappedPoints | None = None,
) -> tuple[SnappedPoints, SnappedPoints]:
    """Snap origins at their centroids and destinations at their access points, in parallel where it pays.

    The same snaps as ``snap_points(network, origins, polygon_access="centroid")``
    and ``snap_points(network, destinations)``. With many polygon origins (no
    entrances) the centroids are computed in a forked child while the network
    index is built here, then half of the origins are snapped in a child while
    the destinations and the other half are snapped here.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (metric CRS); both frames must be in ``network.crs``.
    origins : geopandas.GeoDataFrame
        Where walks start (population cells), reached at their centroids.
    destinations : geopandas.GeoDataFrame
        Where walks end (facilities), reached at their access points.
    max_snap_distance_m : float, default 300
        Access points farther than this (metres) from every edge are unreachable.
    access_spacing_m : float, default 50
        Spacing of access points along polygon boundaries and lines.
    origins_snapped, destinations_snapped : SnappedPoints, optional
        Snaps already made (checked by the caller, see :func:`check_snapped`):
        used as they are.

    Returns
    -------
    tuple of SnappedPoints
        ``(origins, destinations)``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([100.0], [-20.0]), crs=net.crs)
    >>> origins, destinations = snap_origins_and_destinations(net, homes, halls)
    >>> origins.n_owners, destinations.offset_m.tolist()
    (2, [100.0])
    """

    def destination_points() -> SnappedPoints:
        if destinations_snapped is not None:
            return destinations_snapped
        return snap_points(
            network, destinations, max_snap_distance_m=max_snap_distance_m, access_spacing_m=access_spacing_m
        )

    if origins_snapped is not None:
        return origins_snapped, destination_points()
    centroids = _start_centroids(origins)
    origin_points = None
    try:
        origin_points = _start_origin_points(network, origins, max_snap_distance_m, centroids=centroids)
        dest = destination_points()
        orig = origin_points()
    except BaseException:
        if centroids is not None:
            centroids.cancel()
        getattr(origin_points, "cancel", lambda: None)()
        raise
    return orig, dest


def points_near_network(network: WalkNetwork, xy: np.ndarray, *, max_distance_m: float) -> np.ndarray:
    """Whether each point lies within ``max_distance_m`` (straight line) of an edge of the network.

    The same test as snapping (``snap_points(...).reachable`` of the points),
    on the straight pieces of the edges hashed in the network index's grid: no
    LineString is built.

    Parameters
    ----------
    network : WalkNetwork
        The walk network (metric CRS).
    xy : numpy.ndarray
        ``(n, 2)`` coordinates in ``network.crs``.
    max_distance_m : float
        Largest distance (metres) to the nearest edge.

    Returns
    -------
    numpy.ndarray
        Boolean mask of the points within ``max_distance_m`` of an edge.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> points_near_network(net, np.array([[50.0, 20.0], [50.0, 400.0]]), max_distance_m=300.0).tolist()
    [True, False]
    """
    return network_index(network).segments.nearest(np.asarray(xy, dtype=float), max_distance_m)[0] >= 0
