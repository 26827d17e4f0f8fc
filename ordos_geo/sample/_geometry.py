"""Geometry helpers of the generator: the local metric frame and line/point/polygon pickers."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pyproj
import shapely
import shapely.ops
from shapely.geometry import LineString, Point, Polygon

from ordos_geo.sample.facts import WORK_CRS


class Frame:
    """Local metric frame: offsets in metres from an origin, in EPSG:4546."""

    def __init__(self, origin_lonlat: tuple[float, float]) -> None:
        self._to_xy = pyproj.Transformer.from_crs(4326, WORK_CRS, always_xy=True)
        self._to_ll = pyproj.Transformer.from_crs(WORK_CRS, 4326, always_xy=True)
        x0, y0 = self._to_xy.transform(*origin_lonlat)
        self.x0, self.y0 = float(x0), float(y0)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._to_xy.transform(lon, lat)
        return float(x) - self.x0, float(y) - self.y0

    def lonlat_arrays(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self._to_ll.transform(np.asarray(x, float) + self.x0, np.asarray(y, float) + self.y0)
        return np.asarray(lon), np.asarray(lat)

    def xy_arrays(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x) - self.x0, np.asarray(y) - self.y0

    def to_lonlat_geom(self, geom: Any) -> Any:
        def transform(coords: np.ndarray) -> np.ndarray:
            lon, lat = self.lonlat_arrays(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, transform)

    def to_xy_geom(self, geom: Any) -> Any:
        def transform(coords: np.ndarray) -> np.ndarray:
            x, y = self.xy_arrays(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, transform)


def lines_of(geom: Any) -> list[LineString]:
    """The LineStrings inside any geometry, longest first (ties by coordinates)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    parts = [g for g in getattr(geom, "geoms", []) for g in lines_of(g)]
    return sorted(parts, key=lambda g: (-round(g.length, 3), g.coords[0]))


def points_of(geom: Any) -> list[tuple[float, float]]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Point):
        return [(geom.x, geom.y)]
    if isinstance(geom, LineString):  # touching collinear pieces: keep the ends
        return [cast("tuple[float, float]", geom.coords[0]), cast("tuple[float, float]", geom.coords[-1])]
    return [p for g in getattr(geom, "geoms", []) for p in points_of(g)]


def southern_part(ring: LineString, window: Polygon) -> LineString:
    """Part of a boundary ring inside ``window``, merged, oriented west to east."""
    merged = shapely.line_merge(ring.intersection(window))
    line = lines_of(merged)[0]
    if line.coords[0][0] > line.coords[-1][0]:
        line = line.reverse()
    return line


def polys_of(geom: Any) -> list[Polygon]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in polys_of(g)]
