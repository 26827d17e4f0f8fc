"""Coordinate systems: China's offset datums and the metric CRS of a study.

Amap (Gaode) exports use GCJ-02 and Baidu exports BD-09; both are deliberate
offsets of WGS-84 of a few hundred metres. They are undone with ``prcoords``
(public domain, the iterative "bored" inverses, precise to about 1e-9 degrees).
Distances are computed in a projected CRS: a CGCS2000 3-degree Gauss-Krüger
zone (EPSG:4534-4554, central meridians 75°E-135°E) for data in China, the UTM
zone elsewhere.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import prcoords
import pyproj
import shapely

from ordos_geo._errors import InputDataError
from ordos_geo.settings import COORDINATE_SYSTEMS, CoordinateSystem

__all__ = [
    "CoordinateSystem",
    "bd09_to_wgs84",
    "convert_to_wgs84",
    "gcj02_to_wgs84",
    "metric_crs_for",
    "wgs84_to_gcj02",
]

#: Rough bounding box of mainland China, where CGCS2000 zones are used.
_CHINA_BBOX = (73.0, 18.0, 135.5, 54.0)
#: EPSG code of "CGCS2000 / 3-degree Gauss-Kruger CM 75E"; +1 per 3 degrees east.
_CGCS2000_GK3_FIRST_EPSG = 4534
_CGCS2000_GK3_FIRST_CM = 75


def _transform_points(lon: np.ndarray, lat: np.ndarray, func) -> tuple[np.ndarray, np.ndarray]:
    out_lon = np.empty_like(lon, dtype=float)
    out_lat = np.empty_like(lat, dtype=float)
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        converted = func(prcoords.Coords(y, x))
        out_lat[i] = converted.lat
        out_lon[i] = converted.lon
    return out_lon, out_lat


def _make_converter(func):
    def convert(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _transform_points(np.asarray(lon, float), np.asarray(lat, float), func)

    return convert


#: Vectorised converters on longitude/latitude arrays (degrees).
gcj02_to_wgs84 = _make_converter(prcoords.gcj_wgs_bored)
bd09_to_wgs84 = _make_converter(prcoords.bd_wgs_bored)
wgs84_to_gcj02 = _make_converter(prcoords.wgs_gcj)

_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def _apply_to_geometries(geoms: np.ndarray, converter) -> np.ndarray:
    def transform(coords: np.ndarray) -> np.ndarray:
        lon, lat = converter(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, transform)


def convert_to_wgs84(gdf: gpd.GeoDataFrame, *, source: CoordinateSystem, name: str = "input") -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` in WGS-84, undoing a GCJ-02 or BD-09 offset.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Geometries in geographic degrees. Its CRS must be geographic (or unset,
        which is read as degrees of ``source``).
    source : {"wgs84", "gcj02", "bd09"}
        The datum the coordinates are really in. Amap exports are ``gcj02``,
        Baidu exports ``bd09``.
    name : str
        Name of the input, used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows, geometry in EPSG:4326.
    """
    if source not in COORDINATE_SYSTEMS:
        msg = f"{name}: unknown coordinate system {source!r}; use one of 'wgs84', 'gcj02' (Amap), 'bd09' (Baidu)"
        raise InputDataError(msg)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        if source != "wgs84":
            msg = (
                f"{name}: {source} coordinates must be longitude/latitude degrees, "
                f"but the layer is in the projected CRS {gdf.crs.to_string()}; export it in degrees"
            )
            raise InputDataError(msg)
        return gdf.to_crs(4326)
    out = gdf.copy()
    if source != "wgs84":
        out.geometry = gpd.GeoSeries(_apply_to_geometries(out.geometry.values, _TO_WGS84[source]), index=out.index)
    return out.set_crs(4326, allow_override=True)


def metric_crs_for(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pyproj.CRS:
    """Choose a metric CRS for the data's extent.

    Inside China this is the CGCS2000 3-degree Gauss-Krüger zone whose central
    meridian is nearest the data's centre (Ordos, ~109.8°E: EPSG:4546, CM 111°E);
    elsewhere the UTM zone of the centre (WGS-84).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame or geopandas.GeoSeries
        Data with a CRS.

    Returns
    -------
    pyproj.CRS
    """
    if gdf.crs is None:
        msg = "cannot choose a metric CRS for a layer without a CRS; set one with .set_crs(...)"
        raise InputDataError(msg)
    lon_min, lat_min, lon_max, lat_max = gdf.to_crs(4326).total_bounds
    lon, lat = (lon_min + lon_max) / 2, (lat_min + lat_max) / 2
    x0, y0, x1, y1 = _CHINA_BBOX
    if x0 <= lon <= x1 and y0 <= lat <= y1:
        zone = round((lon - _CGCS2000_GK3_FIRST_CM) / 3.0)
        return pyproj.CRS.from_epsg(_CGCS2000_GK3_FIRST_EPSG + zone)
    utm = int((lon + 180) // 6) + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + utm)
