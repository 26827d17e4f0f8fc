"""Population cells as a Web-Mercator raster for the maps: one pixel per cell, compact value grids.

A map of a whole district has hundreds of thousands of populated cells; one
GeoJSON polygon per cell makes a page of hundreds of megabytes that no browser
opens. :func:`cell_raster` places every cell on one pixel of a grid aligned
with Web Mercator (the projection Leaflet draws in, so an ``L.imageOverlay``
lines up exactly), with the pixel size of the cells:

- the pixel of a cell is the one its centroid falls in; where the cell grid is
  rotated or scaled against Mercator (a UTM grid away from its central
  meridian, a degree grid far from the equator) two centroids can meet in one
  pixel: the second goes to the free pixel nearest to its centroid (at most
  three pixels away), so on a regular grid every cell keeps a pixel of its own
  and is drawn within about one cell of its true place;
- :func:`distance_codes` quantises walking distances to small integer codes,
  rounded up to steps that grow with the distance (10 m near, 100 m far), so
  that a grid costs a few bits a cell and a code keeps its distance class;
- :func:`pack_grid` writes the numbers (population, district, distance codes)
  as whole-grid integer arrays, optionally less a base grid (a scenario less
  the distances it varies), each predicted from its left, upper and upper-left
  neighbours (PNG's "gradient" idea), split into byte planes and deflated.
  The page inflates a grid with the browser's ``DecompressionStream`` when it
  first draws a layer (colouring each pixel by its distance class) or reads
  a clicked cell.

Nothing here knows about folium; :mod:`ordos_geo.maps` embeds the results.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy.spatial import cKDTree

from ordos_geo._crs import wgs84_to_gcj02

__all__ = ["DIST_UNREACHABLE", "CellRaster", "cell_raster", "distance_codes", "pack_grid"]

#: Radius of the spherical Web Mercator (EPSG:3857), metres.
_R = 6_378_137.0
#: Most pixels a cell image may have (about 160 MB of RGBA in the browser); coarser above.
_MAX_PIXELS = 40_000_000
#: Cells whose size is estimated (a sample keeps large grids fast).
_SIZE_SAMPLE = 4_000
#: Pixels are this much smaller than the smallest cells, so a grid turned against Mercator finds room.
_PIXEL_MARGIN = 0.99
#: zlib level of the value grids: level 6 takes three times as long for grids 2 % smaller.
_GRID_LEVEL = 4
#: Stored value of an unreachable or missing distance (uint16).
DIST_UNREACHABLE = 65_535


@dataclass(frozen=True)
class CellRaster:
    """Where each cell sits on the map image.

    Attributes
    ----------
    width, height : int
        Image size in pixels.
    x0, y0 : float
        Web-Mercator metres (EPSG:3857) of the image's top-left corner.
    pixel_w, pixel_h : float
        Pixel size in Web-Mercator metres.
    pixel : numpy.ndarray
        Flat pixel index (``row * width + col``) of each cell, ``-1`` for a
        cell that found no free pixel (only where cells are denser than the grid).
    hole, hole_source : numpy.ndarray
        Pixels with no cell of their own whose centre lies inside a cell (gaps
        left where cells are a little larger than pixels), and the pixel of
        that cell, which they repeat.
    """

    width: int
    height: int
    x0: float
    y0: float
    pixel_w: float
    pixel_h: float
    pixel: np.ndarray
    hole: np.ndarray
    hole_source: np.ndarray

    @property
    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` of the image, degrees (Leaflet's order)."""
        west, north = _from_mercator(np.array([self.x0]), np.array([self.y0]))
        east, south = _from_mercator(
            np.array([self.x0 + self.width * self.pixel_w]), np.array([self.y0 - self.height * self.pixel_h])
        )
        return [[float(south[0]), float(west[0])], [float(north[0]), float(east[0])]]

    def grid(self, values: np.ndarray, *, fill: int, dtype: type) -> np.ndarray:
        """A ``(height, width)`` array of ``values`` (one per cell) at their pixels, ``fill`` elsewhere."""
        out: np.ndarray = np.full(self.width * self.height, fill, dtype=dtype)
        placed = self.pixel >= 0
        out[self.pixel[placed]] = np.asarray(values)[placed]
        out[self.hole] = out[self.hole_source]
        return out.reshape(self.height, self.width)


def _to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.clip(lat, -85.05112878, 85.05112878)
    return _R * np.radians(lon), _R * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _from_mercator(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.degrees(x / _R), np.degrees(2 * np.arctan(np.exp(y / _R)) - np.pi / 2)


def _mercator_xy(xy: np.ndarray, crs: pyproj.CRS, *, gcj02: bool) -> np.ndarray:
    """``(n, 2)`` coordinates in ``crs`` to Web-Mercator metres (through GCJ-02 if asked)."""
    lon, lat = pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if gcj02:
        lon, lat = wgs84_to_gcj02(lon, lat)
    return np.column_stack(_to_mercator(np.asarray(lon), np.asarray(lat)))


def _cell_and_pixel_size(cells: gpd.GeoDataFrame, xy: np.ndarray, *, gcj02: bool) -> tuple[float, float, float]:
    """Typical cell width and height and the pixel scale (Mercator metres; from areas and bounds, or point spacing).

    Returns ``(cell_w, cell_h, shrink)``: a pixel is ``shrink`` times the
    typical cell, so that it is no larger than the smallest cells (Mercator
    grows cells poleward) and no cell lacks a pixel.
    """
    step = max(1, len(cells) // _SIZE_SAMPLE)
    sample = cells.geometry.to_numpy()[::step]
    polygonal = shapely.get_type_id(sample) >= 3
    if polygonal.mean() > 0.5:
        parts = shapely.transform(sample[polygonal], lambda c: _mercator_xy(c, cells.crs, gcj02=gcj02))
        bounds = shapely.bounds(parts)
        ratio = float(np.median((bounds[:, 2] - bounds[:, 0]) / np.maximum(bounds[:, 3] - bounds[:, 1], 1e-9)))
        areas = shapely.area(parts)
        typical, smallest = float(np.median(areas)), float(np.percentile(areas, 1))
        if smallest > 0 and np.isfinite(ratio) and ratio > 0:
            shrink = float(np.sqrt(smallest / typical)) * _PIXEL_MARGIN
            return float(np.sqrt(typical * ratio)), float(np.sqrt(typical / ratio)), shrink
    if len(xy) < 2:
        return 100.0, 100.0, 1.0
    distance = cKDTree(xy).query(xy[::step], k=2)[0][:, 1]
    typical = float(np.median(distance))
    if typical <= 0:
        return 100.0, 100.0, 1.0
    return typical, typical, float(np.percentile(distance, 1)) / typical * _PIXEL_MARGIN


def _centroids(geometries: np.ndarray, coords: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``(n, 2)`` centroids of the cells from all their coordinates and the number of coordinates of each.

    Polygons without holes (every cell of a grid) take the shoelace formula
    over their ring, relative to its first corner as GEOS does, in numpy at
    once; points are their own centroid; other shapes go to ``shapely.centroid``.
    """
    n = len(geometries)
    centroids = np.full((n, 2), np.nan)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    type_id = shapely.get_type_id(geometries)
    point = np.flatnonzero((type_id == 0) & (counts == 1))
    centroids[point] = coords[first[point]]
    ring = (type_id == 3) & (shapely.get_num_interior_rings(geometries) == 0) & (counts >= 4)
    for size in np.unique(counts[ring]):  # a few sizes at most: grids give rings of 5 corners
        chosen = np.flatnonzero(ring & (counts == size))
        if len(chosen) == n and len(coords) == n * size:
            corners = coords.reshape(n, size, 2)
        else:
            corners = coords[first[chosen][:, None] + np.arange(size)]
        origin = corners[:, 0, :]
        relative = corners - origin[:, None, :]
        x0, y0, x1, y1 = relative[:, :-1, 0], relative[:, :-1, 1], relative[:, 1:, 0], relative[:, 1:, 1]
        cross = x0 * y1 - x1 * y0
        area6 = 3.0 * cross.sum(axis=1)
        good = area6 != 0
        centroids[chosen[good], 0] = ((x0 + x1) * cross).sum(axis=1)[good] / area6[good] + origin[good, 0]
        centroids[chosen[good], 1] = ((y0 + y1) * cross).sum(axis=1)[good] / area6[good] + origin[good, 1]
    other = np.flatnonzero(np.isnan(centroids[:, 0]))
    if len(other):
        centroids[other] = shapely.get_coordinates(shapely.centroid(geometries[other]))
    return centroids


#: The last image frame made (key: CRS, GCJ-02 flag, digest of the cells' coordinates): the coverage and
#: sites maps of one run draw the same cells, before and after the plan.
_LAST_RASTER: dict[tuple[str, bool, bytes], CellRaster] = {}


def cell_raster(cells: gpd.GeoDataFrame, *, gcj02: bool = False) -> CellRaster:
    """Give every cell one pixel of a Web-Mercator image with the cells' own size.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Populated cells (polygons of a grid, or points) in any CRS, at least one.
    gcj02 : bool
        Shift to GCJ-02 first (for the Amap basemap).

    Returns
    -------
    CellRaster
        The image frame and each cell's pixel.
    """
    geometries = cells.geometry.to_numpy()
    coords, index = shapely.get_coordinates(geometries, return_index=True)
    counts = np.bincount(index, minlength=len(geometries))
    digest = hashlib.blake2b(np.ascontiguousarray(coords).data, digest_size=16)
    digest.update(counts.data)
    key = (cells.crs.to_wkt(), gcj02, digest.digest())
    if key in _LAST_RASTER:
        return _LAST_RASTER[key]
    raster = _place(cells, _centroids(geometries, coords, counts), gcj02=gcj02)
    _LAST_RASTER.clear()
    _LAST_RASTER[key] = raster
    return raster


def _place(cells: gpd.GeoDataFrame, centroids: np.ndarray, *, gcj02: bool) -> CellRaster:
    """The image frame of :func:`cell_raster` and each cell's pixel (centroids in the cells' CRS)."""
    xy = _mercator_xy(centroids, cells.crs, gcj02=gcj02)
    x, y = xy[:, 0], xy[:, 1]
    cell_w, cell_h, shrink = _cell_and_pixel_size(cells, xy, gcj02=gcj02)
    pixel_w, pixel_h = cell_w * shrink, cell_h * shrink
    x0, y0 = float(x.min()) - pixel_w / 2, float(y.max()) + pixel_h / 2
    width = int((x.max() - x0) // pixel_w) + 1
    height = int((y0 - y.min()) // pixel_h) + 1
    if width * height > _MAX_PIXELS:  # a sparse prefecture: coarser pixels, several cells may share one
        factor = float(np.sqrt(width * height / _MAX_PIXELS))
        pixel_w, pixel_h = pixel_w * factor, pixel_h * factor
        x0, y0 = float(x.min()) - pixel_w / 2, float(y.max()) + pixel_h / 2
        width = int((x.max() - x0) // pixel_w) + 1
        height = int((y0 - y.min()) // pixel_h) + 1
    col = np.minimum(((x - x0) // pixel_w).astype(np.int64), width - 1)
    row = np.minimum(((y0 - y) // pixel_h).astype(np.int64), height - 1)
    pixel = row * width + col
    fx, fy = (x - x0) / pixel_w, (y0 - y) / pixel_h
    _resolve_collisions(pixel, fx, fy, width, height)
    # Half a cell in pixels, 5 % more for grids turned against Mercator (a square turned 2 degrees reaches 3 % further).
    half_w, half_h = 0.525 * cell_w / pixel_w, 0.525 * cell_h / pixel_h
    hole, hole_source = _holes(pixel, fx, fy, width, height, half_w=half_w, half_h=half_h)
    return CellRaster(width, height, x0, y0, pixel_w, pixel_h, pixel, hole, hole_source)


def _holes(
    pixel: np.ndarray, fx: np.ndarray, fy: np.ndarray, width: int, height: int, *, half_w: float, half_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Empty pixels whose centre lies inside a cell (pixels being a little smaller than cells), and that cell's pixel.

    ``fx``, ``fy`` are the cell centroids in pixel units; ``half_w``, ``half_h``
    half a typical cell in pixels. A pixel next to the populated area whose
    nearest cell centroid is more than half a cell away stays empty (a real gap).
    """
    placed = np.flatnonzero(pixel >= 0)
    taken = np.zeros((height + 2, width + 2), dtype=bool)
    rows, cols = np.divmod(pixel[placed], width)
    taken[rows + 1, cols + 1] = True
    beside = taken[1:-1, :-2] | taken[1:-1, 2:] | taken[:-2, 1:-1] | taken[2:, 1:-1]
    hole_rows, hole_cols = np.nonzero(~taken[1:-1, 1:-1] & beside)
    if len(hole_rows) == 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    centres = np.column_stack([hole_cols + 0.5, hole_rows + 0.5])
    _, nearest = cKDTree(np.column_stack([fx[placed], fy[placed]])).query(centres)
    inside = (np.abs(fx[placed][nearest] - centres[:, 0]) <= half_w) & (
        np.abs(fy[placed][nearest] - centres[:, 1]) <= half_h
    )
    return (hole_rows * width + hole_cols)[inside], pixel[placed][nearest][inside]


def _resolve_collisions(pixel: np.ndarray, fx: np.ndarray, fy: np.ndarray, width: int, height: int) -> None:
    """Move the second and later cells of a pixel to the nearest free pixel at most three steps away (in place)."""
    order = np.argsort(pixel, kind="stable")
    sorted_pixel = pixel[order]
    duplicate = np.zeros(len(pixel), dtype=bool)
    duplicate[order[1:]] = sorted_pixel[1:] == sorted_pixel[:-1]
    if not duplicate.any():
        return
    taken = np.zeros(width * height, dtype=bool)
    taken[pixel[~duplicate]] = True
    offsets = np.array([(dr, dc) for dr in range(-3, 4) for dc in range(-3, 4) if dr or dc])
    for i in np.flatnonzero(duplicate):
        row, col = divmod(int(pixel[i]), width)
        rows, cols = row + offsets[:, 0], col + offsets[:, 1]
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        rows, cols = rows[inside], cols[inside]
        free = ~taken[rows * width + cols]
        if not free.any():
            pixel[i] = -1
            continue
        rows, cols = rows[free], cols[free]
        best = np.argmin((rows + 0.5 - fy[i]) ** 2 + (cols + 0.5 - fx[i]) ** 2)
        pixel[i] = rows[best] * width + cols[best]
        taken[pixel[i]] = True


def distance_codes(distance: np.ndarray, limits: Sequence[float], steps: Sequence[float]) -> np.ndarray:
    """Walking distances as ``uint16`` codes, rounded up to a step that grows with the distance.

    Distances up to ``limits[0]`` are rounded up to ``steps[0]``, from there up
    to ``limits[1]`` to ``steps[1]``, and so on; beyond the last limit to
    ``steps[-1]``. Code 0 is 0 m and each step adds one; a distance is never
    shown shorter than it is, and a code lies in the same class as its
    distance for every class break on its step grid (300 m on a 10 m grid,
    2,000 m on a 50 m grid). ``inf``, NaN and distances past the largest code
    become :data:`DIST_UNREACHABLE`.

    Parameters
    ----------
    distance : numpy.ndarray
        Metres (``inf`` or NaN = unreachable; negative read as 0).
    limits : sequence of float
        Increasing upper ends (m) of the pieces but the last.
    steps : sequence of float
        Step (m) of each piece, one more than ``limits``.

    Returns
    -------
    numpy.ndarray
        ``uint16`` codes.

    Examples
    --------
    >>> distance_codes(np.array([0.0, 4.0, 300.0, 301.0, 612.0, np.inf]), (500,), (10, 25)).tolist()
    [0, 1, 30, 31, 55, 65535]
    """
    distance = np.clip(np.asarray(distance, dtype=float), 0, None)
    finite = np.isfinite(distance)
    codes = np.zeros(distance.shape)
    lower, start = 0.0, 0.0
    for upper, step in zip([*limits, np.inf], steps, strict=True):
        piece = finite & (distance > lower) & (distance <= upper)
        codes[piece] = start + np.ceil((distance[piece] - lower) / step)
        start += (upper - lower) / step
        lower = upper
    codes[~finite | (codes >= DIST_UNREACHABLE)] = DIST_UNREACHABLE
    return codes.astype(np.uint16)


def pack_grid(grid: np.ndarray, *, predict: bool = True, base: np.ndarray | None = None) -> str:
    """Deflate a ``(height, width)`` grid of unsigned integers for the page (base64).

    With a ``base`` grid, the values less the base (modulo the integer width)
    are packed instead. Each value is replaced by its difference from ``left + up - upper_left``
    (modulo the integer width, read as signed and zigzag-coded: 0, -1, 1, -2,
    ... become 0, 1, 2, 3, ...), the differences are split into byte planes
    (lowest first, each ``height * width`` bytes) and deflated (zlib). The page
    reverses this in one pass (``ordos.unpack``).

    Parameters
    ----------
    grid : numpy.ndarray
        ``uint8``, ``uint16`` or ``uint32`` values.
    predict : bool
        Code the differences from the neighbours (smooth grids such as
        distances); False codes the values themselves (noisy grids such as
        population, where differences only add noise).
    base : numpy.ndarray, optional
        A grid of the same shape and type that the page adds back (modulo
        the integer width): a scenario's distance codes less those to any
        venue are zero wherever the scenario changes nothing.

    Returns
    -------
    str
        Base64 of the zlib stream.
    """
    grid = np.asarray(grid)
    unsigned = grid.dtype
    if unsigned not in (np.uint8, np.uint16, np.uint32):
        msg = f"pack_grid: expected uint8, uint16 or uint32 values, got {grid.dtype}"
        raise ValueError(msg)
    if base is not None:
        grid = grid - np.asarray(base, dtype=unsigned)  # wraps modulo the integer width, as the page's sum does
    residual = grid.copy()  # unsigned arithmetic wraps modulo the integer width, as the page's decoder does
    if predict:
        residual[:, 1:] -= grid[:, :-1]
        residual[1:, :] -= grid[:-1, :]
        residual[1:, 1:] += grid[:-1, :-1]
    # zigzag: small negative differences become small odd numbers, so the high byte planes stay zero
    signed = residual.view(np.dtype(f"i{unsigned.itemsize}"))
    zigzag = (signed << 1) ^ (signed >> (8 * unsigned.itemsize - 1))
    planes = zigzag.astype(unsigned.newbyteorder("<"), copy=False).view(np.uint8).reshape(-1, unsigned.itemsize)
    return base64.b64encode(zlib.compress(np.ascontiguousarray(planes.T).tobytes(), _GRID_LEVEL)).decode("ascii")
