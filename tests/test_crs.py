"""China's offset datums (GCJ-02, BD-09) and the choice of a metric CRS.

The reference forward transforms below are the published GCJ-02 / BD-09
formulas, written out independently of ``prcoords`` (which ``ordos_geo._crs``
wraps), so the tests compare the package against a second implementation.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, Polygon

from ordos_geo import _crs
from ordos_geo._errors import InputDataError

# WGS-84 lon/lat: Dongsheng gov, Genghis Khan Square, Beijing Tiananmen, Shanghai Bund, Kunming, Harbin
WGS_POINTS = np.array(
    [
        (109.9633, 39.8225),
        (109.785, 39.604),
        (116.3975, 39.9087),
        (121.4906, 31.2397),
        (102.7123, 25.0406),
        (126.6424, 45.7567),
    ]
)

_A = 6378245.0
_EE = 0.00669342162296594323


def _delta_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def reference_wgs_to_gcj(lon: float, lat: float) -> tuple[float, float]:
    """The published GCJ-02 forward transform (Krasovsky 1940 ellipsoid)."""
    dlat = _delta_lat(lon - 105.0, lat - 35.0)
    dlon = _delta_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def reference_gcj_to_bd(lon: float, lat: float) -> tuple[float, float]:
    """The published BD-09 forward transform from GCJ-02."""
    x_pi = math.pi * 3000.0 / 180.0
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * x_pi)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * x_pi)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _forward(points: np.ndarray, func) -> np.ndarray:
    return np.array([func(lon, lat) for lon, lat in points])


def test_wgs84_to_gcj02_matches_the_published_formula():
    lon, lat = _crs.wgs84_to_gcj02(WGS_POINTS[:, 0], WGS_POINTS[:, 1])
    expected = _forward(WGS_POINTS, reference_wgs_to_gcj)
    np.testing.assert_allclose(lon, expected[:, 0], atol=1e-9, rtol=0)
    np.testing.assert_allclose(lat, expected[:, 1], atol=1e-9, rtol=0)


def test_gcj02_round_trip_within_1e6_degrees():
    gcj = _forward(WGS_POINTS, reference_wgs_to_gcj)
    lon, lat = _crs.gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
    np.testing.assert_allclose(lon, WGS_POINTS[:, 0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(lat, WGS_POINTS[:, 1], atol=1e-6, rtol=0)
    # and through the package's own forward transform
    lon2, lat2 = _crs.gcj02_to_wgs84(*_crs.wgs84_to_gcj02(WGS_POINTS[:, 0], WGS_POINTS[:, 1]))
    np.testing.assert_allclose(np.column_stack([lon2, lat2]), WGS_POINTS, atol=1e-6, rtol=0)


def test_bd09_round_trip_within_1e6_degrees():
    gcj = _forward(WGS_POINTS, reference_wgs_to_gcj)
    bd = _forward(gcj, reference_gcj_to_bd)
    # BD-09 sits a further ~0.0065 deg east and ~0.006 deg north of GCJ-02
    assert np.all(bd[:, 0] - gcj[:, 0] > 0.004)
    lon, lat = _crs.bd09_to_wgs84(bd[:, 0], bd[:, 1])
    np.testing.assert_allclose(np.column_stack([lon, lat]), WGS_POINTS, atol=1e-6, rtol=0)


def test_gcj02_shift_near_dongsheng_is_about_half_a_hundredth_degree_east():
    lon_wgs, lat_wgs = 109.9633, 39.8225
    gcj_lon, gcj_lat = _crs.wgs84_to_gcj02(np.array([lon_wgs]), np.array([lat_wgs]))
    shift = gcj_lon[0] - lon_wgs
    assert 0.004 < shift < 0.007  # Amap coordinates lie east of the truth here
    assert abs(gcj_lat[0] - lat_wgs) < 0.003
    back_lon, _ = _crs.gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert back_lon[0] < gcj_lon[0]  # undoing the offset moves points west


def test_convert_to_wgs84_moves_every_vertex_and_keeps_the_input():
    ring = [(109.95, 39.81), (109.97, 39.81), (109.97, 39.83), (109.95, 39.83)]
    gcj_ring = [reference_wgs_to_gcj(*c) for c in ring]
    gcj_point = reference_wgs_to_gcj(109.948156, 39.832502)
    gdf = gpd.GeoDataFrame({"name": ["block", "stadium"]}, geometry=[Polygon(gcj_ring), Point(gcj_point)], crs=4326)
    before = gdf.copy()
    out = _crs.convert_to_wgs84(gdf, source="gcj02")
    assert out.crs.to_epsg() == 4326
    np.testing.assert_allclose(np.asarray(out.geometry.iloc[0].exterior.coords)[:-1], ring, atol=1e-6, rtol=0)
    assert out.geometry.iloc[1].x == pytest.approx(109.948156, abs=1e-6)
    assert out.geometry.iloc[1].y == pytest.approx(39.832502, abs=1e-6)
    assert gdf.geometry.equals(before.geometry)  # input untouched
    assert list(out["name"]) == ["block", "stadium"]


def test_convert_to_wgs84_without_crs_reads_degrees_of_the_source():
    gcj = reference_wgs_to_gcj(109.785, 39.604)
    out = _crs.convert_to_wgs84(gpd.GeoDataFrame(geometry=[Point(gcj)]), source="gcj02")
    assert out.crs.to_epsg() == 4326
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx((109.785, 39.604), abs=1e-6)


def test_convert_to_wgs84_reprojects_a_projected_wgs84_layer():
    projected = gpd.GeoDataFrame(geometry=[Point(109.785, 39.604)], crs=4326).to_crs(4546)
    out = _crs.convert_to_wgs84(projected, source="wgs84")
    assert out.crs.to_epsg() == 4326
    assert (out.geometry.iloc[0].x, out.geometry.iloc[0].y) == pytest.approx((109.785, 39.604), abs=1e-7)


def test_convert_to_wgs84_rejects_gcj02_in_a_projected_crs():
    projected = gpd.GeoDataFrame(geometry=[Point(500_000.0, 4_400_000.0)], crs=4546)
    with pytest.raises(InputDataError, match=r"facilities\.csv: gcj02 coordinates must be longitude/latitude"):
        _crs.convert_to_wgs84(projected, source="gcj02", name="facilities.csv")


def test_convert_to_wgs84_rejects_an_unknown_source_name():
    gdf = gpd.GeoDataFrame(geometry=[Point(109.9, 39.8)], crs=4326)
    with pytest.raises(InputDataError, match=r"unknown coordinate system 'gcj'.*'gcj02' \(Amap\)"):
        _crs.convert_to_wgs84(gdf, source="gcj")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lon", "lat", "epsg", "name_part"),
    [
        (109.85, 39.70, 4546, "CM 111E"),  # Ordos: CGCS2000 3-degree Gauss-Kruger
        (87.6, 43.8, 4538, "CM 87E"),  # Urumqi
        (24.94, 60.17, 32635, "UTM zone 35N"),  # Helsinki
        (-122.27, 37.80, 32610, "UTM zone 10N"),  # Oakland
        (151.21, -33.87, 32756, "UTM zone 56S"),  # Sydney
    ],
)
def test_metric_crs_for_picks_the_zone_of_the_data(lon, lat, epsg, name_part):
    gdf = gpd.GeoDataFrame(geometry=[Point(lon - 0.05, lat - 0.05), Point(lon + 0.05, lat + 0.05)], crs=4326)
    crs = _crs.metric_crs_for(gdf)
    assert crs.to_epsg() == epsg
    assert name_part in crs.name
    assert crs.is_projected


def test_metric_crs_for_ordos_from_projected_input():
    gdf = gpd.GeoDataFrame(geometry=[Point(109.785, 39.604)], crs=4326).to_crs(3857)
    assert _crs.metric_crs_for(gdf.geometry).to_epsg() == 4546


def test_metric_crs_for_needs_a_crs():
    with pytest.raises(InputDataError, match=r"without a CRS.*set_crs"):
        _crs.metric_crs_for(gpd.GeoDataFrame(geometry=[Point(109.8, 39.7)]))
