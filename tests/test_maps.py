"""Tests of ordos_geo.maps: offline pages, GCJ-02 shift, escaping, sizes, and real Chromium rendering."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import re
import time
import zlib
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
import shapely
from _map_fixtures import CRS, ORIGIN, XSS_NAME, make_layers, make_scorecard
from shapely.geometry import LineString, Point, box

from ordos_geo import _cell_raster, _offline_assets, maps, report
from ordos_geo._errors import InputDataError
from ordos_geo.maps._layers import _feature_collection
from ordos_geo.maps._page import _CellsLayer, _FeatureLayer
from ordos_geo.maps.style import _kind_name

TO_WGS84 = pyproj.Transformer.from_crs(CRS, 4326, always_xy=True)


# ---------------------------------------------------------------------------- helpers


def _layers_of(m: folium.Map) -> list[_FeatureLayer]:
    return [child for child in m._children.values() if isinstance(child, _FeatureLayer)]


def _data_of(layer: _FeatureLayer) -> dict:
    """A layer's data as the page reads it, packed geometries turned back into GeoJSON."""
    data = json.loads(layer.data.json_text)
    for feature in data.get("features", []):
        if "p" in feature["geometry"]:
            feature["geometry"] = _geojson_of(feature["geometry"])
    return data


def _geojson_of(packed: dict) -> dict:
    """GeoJSON of a packed geometry: nested lists of [x0, y0, dx1, dy1, ...] in 1e-5 degrees, summed by numpy."""
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}

    def coordinates(part: list, level: int) -> list:
        if level > 1:
            return [coordinates(child, level - 1) for child in part]
        points = (np.cumsum(np.asarray(part, dtype=np.int64).reshape(-1, 2), axis=0) / 1e5).tolist()
        return points[0] if level == 0 else points

    return {"type": packed["type"], "coordinates": coordinates(packed["p"], depth[packed["type"]])}


def _cell_layers_of(m: folium.Map) -> list[_CellsLayer]:
    return [child for child in m._children.values() if isinstance(child, _CellsLayer)]


def _unpack(spec: dict, width: int, height: int, grids: dict | None = None) -> np.ndarray:
    """Decode a packed grid independently of the page's loop: un-zigzag, a 2-D prefix sum, plus its base grid."""
    raw = np.frombuffer(zlib.decompress(base64.b64decode(spec["data"])), dtype=np.uint8)
    planes = raw.reshape(spec["bytes"], height, width).astype(np.int64)
    z = sum(planes[k] << (8 * k) for k in range(spec["bytes"]))
    r = np.where(z % 2 == 0, z // 2, -(z + 1) // 2)
    if spec["predict"]:
        r = r.cumsum(axis=0).cumsum(axis=1)
    if "base" in spec:
        assert grids is not None, "a grid stored as a difference needs the page's other grids"
        r = r + _unpack(grids[spec["base"]], width, height, grids)
    return r % (1 << (8 * spec["bytes"]))


def _metres(codes: np.ndarray, data: dict) -> np.ndarray:
    """Distances (m) of stored codes, by the page's table written out by hand (inf = unreachable)."""
    assert data["distance"] == {"limits": [500, 1000, 2000], "steps": [10, 25, 50, 100]}
    codes = np.asarray(codes, dtype=float)
    # codes 0-50 step 10 m, 51-70 step 25 m from 500 m, 71-90 step 50 m from 1,000 m, then 100 m from 2,000 m
    out = np.select(
        [codes <= 50, codes <= 70, codes <= 90],
        [codes * 10, 500 + (codes - 50) * 25, 1000 + (codes - 70) * 50],
        2000 + (codes - 90) * 100,
    )
    return np.where(codes == data["unreachable"], np.inf, out)


def _rounded_up(distance: np.ndarray) -> np.ndarray:
    """Distances rounded up to the page's steps, by a closed form (10 m to 500 m, 25 m to 1 km, 50 m to 2 km, 100 m)."""
    distance = np.asarray(distance, dtype=float)
    lower = np.select([distance <= 500, distance <= 1000, distance <= 2000], [0, 500, 1000], 2000)
    step = np.select([distance <= 500, distance <= 1000, distance <= 2000], [10, 25, 50], 100)
    return lower + np.ceil((distance - lower) / step) * step


def _distance_class(distance: np.ndarray) -> np.ndarray:
    """Class of each distance by hand: number of breaks (300, 500, 1,000, 2,000 m) it exceeds; 4 if unreachable."""
    distance = np.asarray(distance, dtype=float)
    return np.where(np.isfinite(distance), sum((distance > b).astype(int) for b in (300, 500, 1000, 2000)), 4)


TO_MERCATOR = pyproj.Transformer.from_crs(CRS, 3857, always_xy=True)


def _cell_pixels(cells: gpd.GeoDataFrame, data: dict) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each cell's centroid in the page's image (EPSG:3857 through pyproj, not the module)."""
    centroids = cells.geometry.centroid
    x, y = TO_MERCATOR.transform(centroids.x.to_numpy(), centroids.y.to_numpy())
    col = np.floor((np.asarray(x) - data["x0"]) / data["pw"]).astype(int)
    row = np.floor((data["y0"] - np.asarray(y)) / data["ph"]).astype(int)
    return row, col


def _layer_named(m: folium.Map, fragment: str) -> _FeatureLayer:
    found = [layer for layer in _layers_of(m) if fragment in layer.layer_name]
    assert len(found) == 1, [layer.layer_name for layer in _layers_of(m)]
    return found[0]


def _feature_with(data: dict, text: str) -> dict:
    hits = [f for f in data["features"] if text in json.dumps(f["properties"], ensure_ascii=False)]
    assert len(hits) == 1
    return hits[0]


@pytest.fixture(scope="module")
def layers():
    return make_layers()


@pytest.fixture(scope="module")
def site_inputs(layers):
    x0, y0 = ORIGIN
    candidates = gpd.GeoDataFrame(
        {
            "rank": [2, 1, 3],
            "candidate_id": ["k2", "k1", "k3"],
            "name": [XSS_NAME, "North lot", "School yard"],
            "newly_covered_population": [300.0, 840.0, 12.0],
            "delta_per_capita_area_city_m2": [0.0011, 0.0011, 0.0011],
            "reason": ["covers 300 residents", "covers 840 residents now 1.4 km from any court", "little gain"],
        },
        geometry=[Point(x0 + 500, y0 + 450), Point(x0 + 100, y0 + 300), Point(x0 + 300, y0 + 200)],
        crs=CRS,
    )
    chosen = candidates.iloc[:2].assign(site_type="multi_sport_court")
    after = layers.cells.assign(dist_m_any=layers.cells["dist_m_any"] * 0.5)
    return candidates, chosen, after


@pytest.fixture(scope="module")
def trail_inputs(layers):
    x0, y0 = ORIGIN
    planned = gpd.GeoDataFrame(
        {"trail_id": [1], "length_m": [608.3], "name": [XSS_NAME]},
        geometry=[LineString([(x0, y0), (x0 + 600, y0 + 100)])],
        crs=CRS,
    )
    checked = gpd.GeoDataFrame(
        {"trail_id": ["p1"]}, geometry=[LineString([(x0, y0 + 500), (x0 + 600, y0 + 400)])], crs=CRS
    )
    underserved = layers.underserved.assign(reached=[True, False])
    return planned, checked, underserved


_STYLE_FIELDS = {f.name for f in dataclasses.fields(maps.MapStyle)}


def _coverage(layers, **kwargs):
    style = {"basemap": "none"} | {key: kwargs.pop(key) for key in list(kwargs) if key in _STYLE_FIELDS}
    options = {
        "boundaries": layers.boundaries,
        "service_areas": layers.service_areas,
        "underserved": layers.underserved,
    }
    options.update(kwargs)
    return maps.coverage_map(layers.cells, layers.facilities, style=maps.MapStyle(**style), **options)


# ---------------------------------------------------------------------------- offline pages


def test_every_page_is_self_contained(layers, site_inputs, trail_inputs):
    candidates, chosen, after = site_inputs
    planned, checked, underserved = trail_inputs
    pages = {
        "coverage": _coverage(layers, basemap="osm"),
        "sites": maps.sites_map({"multi_sport_court": candidates}, chosen, layers.cells, after),
        "trails": maps.trails_map(planned, checked, underserved=underserved, style=maps.MapStyle(basemap="amap")),
    }
    for name, m in pages.items():
        page = maps.render_html(m)
        assert _offline_assets.external_resources(page) == [], name
        assert re.search(r"<script[^>]*\bsrc=", page) is None, name
        assert re.search(r"<link[^>]*\bhref=", page) is None, name
        assert "L.version" not in page  # sanity: the library itself is there, not a loader
        assert 't.version="1.9.3"' in page
        # The lead's writer renders the root directly: same page.
        assert _offline_assets.external_resources(m.get_root().render()) == []
    index = maps.index_page({"coverage": "coverage.html"}, make_scorecard())
    assert _offline_assets.external_resources(index) == []


def test_external_resource_check_catches_default_folium():
    page = folium.Map(location=[39.6, 109.78]).get_root().render()
    found = _offline_assets.external_resources(page)
    assert any("leaflet" in tag for tag in found)
    assert any("bootstrap" in tag for tag in found)


def test_render_html_makes_a_plain_folium_map_offline():
    m = folium.Map(location=[39.6, 109.78], tiles=None)
    folium.CircleMarker([39.6, 109.78], radius=5).add_to(m)
    page = maps.render_html(m)
    assert _offline_assets.external_resources(page) == []
    assert page.count(_offline_assets.leaflet_js()[:200]) == 1  # inlined once even if rendered twice
    assert maps.render_html(m).count(_offline_assets.leaflet_js()[:200]) == 1


def test_font_awesome_icons_are_refused():
    m = folium.Map(location=[39.6, 109.78], tiles=None)
    folium.Marker([39.6, 109.78], icon=folium.Icon(icon="star")).add_to(m)
    with pytest.raises(InputDataError, match=r"folium\.Icon"):
        maps.render_html(m)


def test_leaflet_css_images_are_inlined():
    css = _offline_assets.leaflet_css()
    assert "url(images/" not in css
    assert css.count("data:image/png;base64,") == 3


# ---------------------------------------------------------------------------- content


def test_coverage_layers_and_counts(layers):
    m = _coverage(layers)
    by_name = {layer.layer_name: layer for layer in _layers_of(m)}
    base = _cell_layers_of(m)
    assert not any(not layer.overlay for layer in by_name.values())
    # any + one per dist_m_<kind> column (park, multi_sport_court), sharing one data copy
    assert len(base) == 3
    assert len({id(layer.data) for layer in base}) == 1
    assert [layer.show for layer in base] == [True, False, False]
    assert all(layer.n_features == 30 for layer in base)
    counts = {kind: _layer_named(m, f"{_kind_name(kind, 'zh')} (").n_features for kind in ("park",)}
    assert counts == {"park": 1}
    assert _layer_named(m, "多功能运动场 (2)").n_features == 2
    assert _layer_named(m, "服务不足片区").n_features == 2
    assert _layer_named(m, "行政区界").n_features == 2  # the city outline is left out
    tiers = [layer for layer in by_name.values() if "服务范围" in layer.layer_name]
    assert [layer.n_features for layer in tiers] == [1, 1]  # merged per tier
    assert not any(layer.show for layer in tiers)


def test_the_pockets_left_after_the_plan_are_a_second_hidden_outline_layer(layers):
    left = layers.underserved.iloc[[1]].assign(population=[37.0], neighbourhood_id=[1])
    m = _coverage(layers, underserved_after=left)
    before, after = _layer_named(m, "服务不足片区"), _layer_named(m, "规划实施后仍服务不足的片区")
    assert (before.n_features, before.show) == (2, True)
    assert (after.n_features, after.show) == (1, False)  # the map opens on the study as it is
    assert "规划实施后仍服务不足的片区" in maps.render_html(m)  # the legend names it
    data = _data_of(after)
    assert data is _data_of(before) or data == _data_of(before)  # one data variable for both layers
    shared = [f["properties"] for f in data["features"] if f["properties"]["_in"] == 3]
    assert len(shared) == 1 and len(data["features"]) == 2  # the outline left as it is is written once
    assert "37" in shared[0]["_tip1"] and "37" not in shared[0]["_tip"]  # each layer's own tooltip
    english = _coverage(layers, underserved_after=left, language="en")
    assert _layer_named(english, "Still underserved after the plan").n_features == 1
    assert "Still underserved after the plan" not in maps.render_html(_coverage(layers))  # no layer without one


def test_trail_popups_name_shapes_as_the_report_does(trail_inputs):
    planned, _, underserved = trail_inputs
    shaped = planned.assign(shape=["loop"], bound_shape=["network"])
    for language, loop, network in (("zh", "环线（闭合）", "树状网络"), ("en", "loop", "network")):
        m = maps.trails_map(shaped, None, underserved=underserved, style=maps.MapStyle(language=language))
        name = "规划步道 (1)" if language == "zh" else "Planned trails (1)"
        popup = _data_of(_layer_named(m, name))["features"][0]["properties"]["_pop"]
        assert f"<td>{loop}</td>" in popup and f"<td>{network}</td>" in popup
        assert language == "en" or ("loop" not in popup and "network" not in popup)
        assert report.value_label("loop", "shape", language) == loop  # the report's own word


def test_kinds_option_limits_layers(layers):
    m = _coverage(layers, kinds=["park"])
    names = [layer.layer_name for layer in _layers_of(m) + _cell_layers_of(m)]
    assert not any("多功能运动场" in name for name in names)
    assert sum("公园" in name for name in names) == 2  # distance layer + facility layer


def test_cells_are_one_pixel_each_with_their_numbers(layers):
    m = _coverage(layers)
    data = _data_of(_cell_layers_of(m)[0])
    cells = layers.cells
    row, col = _cell_pixels(cells, data)
    width, height = data["width"], data["height"]
    # 6 x 5 cells of 100 m: one pixel each (the EPSG:4546 grid is turned about 1 degree against Mercator,
    # so the image may be a pixel wider or taller), all pixels distinct.
    assert (width, height) in {(6, 5), (7, 5), (6, 6), (7, 6)}
    assert len(set(zip(row, col, strict=True))) == 30
    population = _unpack(data["grids"]["population"], width, height)
    assert population[row, col].tolist() == [round(p) + 1 for p in cells["population"]]
    assert (population > 0).sum() == 30  # 0 = no cell
    grids = data["grids"]
    distance = _metres(_unpack(grids["dist_any"], width, height, grids)[row, col], data)
    # cells i = 0..28 are 150 i m away, the last is unreachable; 2,250 m is shown rounded up to 2,300 m
    assert distance.tolist() == _rounded_up(cells["dist_m_any"]).tolist()
    assert distance[[14, 15]].tolist() == [2100, 2300]
    parks = _metres(_unpack(grids["dist_park"], width, height, grids)[row, col], data)
    assert parks.tolist() == _rounded_up(cells["dist_m_park"]).tolist()
    districts = _unpack(data["grids"]["district"], width, height)[row, col]
    zh = {"Dongsheng": "东胜区", "Kangbashi": "康巴什区"}  # district names in the map's language (zh)
    assert [data["districts"][d - 1] for d in districts] == [zh[d] for d in cells["district"]]
    assert "png" not in data  # the page colours the cells from the distance grids


def test_cell_distances_round_up_to_their_step_and_keep_their_class(layers):
    """A hand-built column of distances: what the page decodes is the distance rounded up to the stated step."""
    cells = layers.cells.copy()
    hand = [0.0, 3.2, 300.0, 300.01, 499.5, 500.0, 512.0, 999.0, 1000.0, 1000.4, 1234.0, 1999.99, 2000.0, 2000.2]
    hand += [2345.0, 4999.0, np.inf, np.nan, -1.0]
    shown = [0, 10, 300, 310, 500, 500, 525, 1000, 1000, 1050, 1250, 2000, 2000, 2100, 2400, 5000, np.inf, np.inf, 0]
    cells["dist_m_any"] = hand + [np.inf] * (len(cells) - len(hand))
    data = _data_of(_cell_layers_of(maps.coverage_map(cells, layers.facilities, style=maps.MapStyle()))[0])
    row, col = _cell_pixels(cells, data)
    decoded = _metres(_unpack(data["grids"]["dist_any"], data["width"], data["height"])[row, col], data)
    assert decoded[: len(hand)].tolist() == shown
    # never shorter, at most one step longer (10 m within 500 m ... 100 m beyond 2 km), same colour class
    distance = np.clip(np.where(np.isnan(hand), np.inf, hand), 0, None)
    finite = np.isfinite(distance)
    step = np.select([distance <= 500, distance <= 1000, distance <= 2000], [10, 25, 50], 100)
    error = decoded[: len(hand)][finite] - distance[finite]
    assert (error >= 0).all() and (error < step[finite]).all()
    assert _distance_class(decoded[: len(hand)]).tolist() == _distance_class(distance).tolist()


def test_scenario_grid_is_stored_as_its_difference_from_any_venue(layers):
    """An evenings column equal to any venue's but in two cells costs a few bytes and decodes to its own values."""
    cells = layers.cells.assign(dist_m_evenings=layers.cells["dist_m_any"])
    cells.loc[[3, 11], "dist_m_evenings"] = [2_345.0, np.inf]
    data = _data_of(_cell_layers_of(maps.coverage_map(cells, layers.facilities, style=maps.MapStyle()))[0])
    grids = data["grids"]
    assert grids["dist_evenings"]["base"] == "dist_any"
    assert len(grids["dist_evenings"]["data"]) < len(grids["dist_any"]["data"])
    row, col = _cell_pixels(cells, data)
    evenings = _metres(_unpack(grids["dist_evenings"], data["width"], data["height"], grids)[row, col], data)
    expected = _rounded_up(cells["dist_m_evenings"])
    assert expected[3] == 2_400  # rounded up to 100 m beyond 2 km
    assert evenings.tolist() == expected.tolist()


def test_packed_geometries_give_back_the_rounded_coordinates():
    """Every geometry type, holes and parts included, unpacks to its GeoJSON coordinates (5 decimals)."""
    square = box(109.7, 39.6, 109.71, 39.61).difference(box(109.702, 39.602, 109.703, 39.603))
    shapes = [
        Point(109.78123, 39.60012),
        LineString([(109.7, 39.6), (109.70081, 39.60062), (109.69, 39.61)]),
        square,
        shapely.MultiPolygon([square, box(109.8, 39.7, 109.80081, 39.70062)]),
        shapely.MultiLineString([[(109.7, 39.6), (109.71, 39.6)], [(109.72, 39.61), (109.72, 39.62)]]),
        shapely.MultiPoint([(109.7, 39.6), (109.69999, 39.60001)]),
        shapely.GeometryCollection([Point(109.7, 39.6)]),
    ]
    text = _feature_collection(np.array(shapes, dtype=object), [{} for _ in shapes])
    data = json.loads(text)
    assert all("p" in f["geometry"] for f in data["features"][:-1])  # a collection stays GeoJSON
    for feature, shape in zip(data["features"], shapes, strict=True):
        got = _geojson_of(feature["geometry"]) if "p" in feature["geometry"] else feature["geometry"]
        assert got == json.loads(shapely.to_geojson(shape))
    # an outline along 100 m cell edges (as underserved neighbourhoods are): the steps are short numbers
    steps = shapely.union_all(
        [box(109.7 + i * 0.00117, 39.6 + i * 0.0009, 109.7 + (i + 2) * 0.00117, 39.61) for i in range(200)]
    )
    steps = shapely.set_precision(steps, 1e-5)
    packed = _feature_collection(np.array([steps], dtype=object), [{}])
    assert len(packed) < 0.35 * len(shapely.to_geojson(steps))
    assert _geojson_of(json.loads(packed)["features"][0]["geometry"]) == json.loads(shapely.to_geojson(steps))


def test_pack_grid_round_trip_and_size():
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:300, 0:400]
    smooth = (np.hypot(xx - 150, yy - 80) * 13).astype(np.uint16)  # a distance field, 13 m per pixel
    noisy = rng.integers(0, 60_000, size=(300, 400)).astype(np.uint16)
    for grid, predict in ((smooth, True), (noisy, False), (noisy.astype(np.uint32) * 70_000, True)):
        spec = {"data": _cell_raster.pack_grid(grid, predict=predict), "bytes": grid.dtype.itemsize, "predict": predict}
        assert np.array_equal(_unpack(spec, 400, 300), grid)
    # less a base grid: the page adds the base back, modulo 2 ** 16
    spec = {"data": _cell_raster.pack_grid(noisy, base=smooth), "bytes": 2, "predict": True, "base": "smooth"}
    base = {"data": _cell_raster.pack_grid(smooth), "bytes": 2, "predict": True}
    assert np.array_equal(_unpack(spec, 400, 300, {"smooth": base}), noisy)
    # The prediction is what makes a smooth field small: under 1 byte a cell here, vs 2 raw.
    assert len(_cell_raster.pack_grid(smooth)) < 0.5 * len(_cell_raster.pack_grid(smooth, predict=False))


def test_cell_raster_gives_every_cell_its_own_pixel_on_a_turned_grid():
    """A 150 x 120 grid of 100 m cells in UTM 50N far from its central meridian (turned 1.6 degrees)."""
    n_cols, n_rows = 150, 120
    xs, ys = np.meshgrid(np.arange(n_cols) * 100.0 + 300_000, np.arange(n_rows) * 100.0 + 4_300_000)
    xs, ys = xs.ravel(), ys.ravel()
    cells = gpd.GeoDataFrame(geometry=shapely.box(xs, ys, xs + 100, ys + 100), crs="EPSG:32650")
    raster = _cell_raster.cell_raster(cells)
    assert (raster.pixel >= 0).all()
    assert len(np.unique(raster.pixel)) == len(cells)
    # Pixels are the cells' size on the ground (Mercator stretches by 1 / cos(latitude)).
    lat = pyproj.Transformer.from_crs("EPSG:32650", 4326, always_xy=True).transform(307_500, 4_306_000)[1]
    assert raster.pixel_w * np.cos(np.radians(lat)) == pytest.approx(100, rel=0.02)
    # Each cell's pixel is within 1.5 pixels of its centroid.
    to_mercator = pyproj.Transformer.from_crs("EPSG:32650", 3857, always_xy=True)
    x, y = (np.asarray(v) for v in to_mercator.transform(xs + 50, ys + 50))
    row, col = np.divmod(raster.pixel, raster.width)
    dx = (raster.x0 + (col + 0.5) * raster.pixel_w - np.asarray(x)) / raster.pixel_w
    dy = (raster.y0 - (row + 0.5) * raster.pixel_h - np.asarray(y)) / raster.pixel_h
    assert np.hypot(dx, dy).max() < 1.5
    # No speckle: pixels are a little smaller than cells, and those left over repeat the cell they lie in ...
    drawn = raster.grid(np.ones(len(cells), np.uint8), fill=0, dtype=np.uint8)
    h, w = drawn.shape
    assert (drawn[h // 10 : -h // 10, w // 10 : -w // 10] == 1).all()
    # ... while a cell without people stays a gap.
    gap = 60 * n_cols + 75
    holed = _cell_raster.cell_raster(cells.drop(index=[gap]))
    col = int((x[gap] - holed.x0) // holed.pixel_w)
    row = int((holed.y0 - y[gap]) // holed.pixel_h)
    assert holed.grid(np.ones(len(cells) - 1, np.uint8), fill=0, dtype=np.uint8)[row, col] == 0
    # Points instead of polygons: the pixel is the spacing of the points.
    points = cells.assign(geometry=cells.geometry.centroid)
    assert _cell_raster.cell_raster(points).pixel_w == pytest.approx(raster.pixel_w, rel=0.02)


def test_cell_centroids_are_shapelys():
    """The numpy centroids of the raster (grid cells at once) equal shapely's, for every kind of cell."""
    shapes = [
        box(300_000, 4_300_000, 300_100, 4_300_100),
        shapely.affinity.rotate(box(0, 0, 100, 60), 33, origin=(0, 0)),  # turned rectangle
        shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)]),  # L-shape: centroid off its bounds' middle
        shapely.Polygon([(0, 0), (4, 0), (1, 3)]),  # triangle
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),  # with a hole
        shapely.MultiPolygon([box(0, 0, 1, 1), box(5, 5, 7, 7)]),
        shapely.Polygon([(0, 0), (1, 1), (2, 2), (0, 0)]),  # no area
        Point(7, 8),
    ]
    geometries = np.array(shapes * 3, dtype=object)
    coords, index = shapely.get_coordinates(geometries, return_index=True)
    counts = np.bincount(index, minlength=len(geometries))
    got = _cell_raster._centroids(geometries, coords, counts)
    assert got == pytest.approx(shapely.get_coordinates(shapely.centroid(geometries)), abs=1e-9)
    # L-shape by hand: two rectangles, 3 x 1 at (1.5, 0.5) and 1 x 2 at (0.5, 2)
    assert got[2] == pytest.approx([(3 * 1.5 + 2 * 0.5) / 5, (3 * 0.5 + 2 * 2) / 5])


def test_cell_raster_is_made_once_for_the_same_cells():
    """The coverage and sites maps of one run draw the same cells: the frame is reused, never for other cells."""
    xs, ys = np.meshgrid(np.arange(40) * 100.0 + 300_000, np.arange(30) * 100.0 + 4_300_000)
    cells = gpd.GeoDataFrame(
        {"population": np.ones(xs.size)},
        geometry=shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + 100, ys.ravel() + 100),
        crs=CRS,
    )
    first = _cell_raster.cell_raster(cells)
    assert _cell_raster.cell_raster(cells.assign(population=2.0).copy()) is first
    assert _cell_raster.cell_raster(cells, gcj02=True) is not first
    moved = cells.copy()
    moved.loc[7, "geometry"] = shapely.affinity.translate(cells.geometry[7], xoff=50)
    again = _cell_raster.cell_raster(moved)
    assert again is not first
    _cell_raster._LAST_RASTER.clear()
    fresh = _cell_raster.cell_raster(moved)
    assert fresh is not again
    assert np.array_equal(fresh.pixel, again.pixel)
    assert (fresh.x0, fresh.y0, fresh.width, fresh.height) == (again.x0, again.y0, again.width, again.height)
    assert _cell_raster.cell_raster(cells.set_crs("EPSG:32649", allow_override=True)) is not first


def test_page_data_is_not_read_as_a_template(layers):
    """Names in the page's data are written as they are: no Jinja expression in them is evaluated."""
    facilities = layers.facilities.copy()
    facilities.loc[0, "name"] = "{{ 7 * 6 }} {% if true %}court{% endif %}"
    page = maps.render_html(maps.coverage_map(layers.cells, facilities, style=maps.MapStyle(basemap="none")))
    assert "{{ 7 * 6 }} {% if true %}court{% endif %}" in page


def test_display_coordinates_are_wgs84(layers):
    m = _coverage(layers)
    court = _feature_with(_data_of(_layer_named(m, "多功能运动场 (2)")), "Court A")
    lon, lat = TO_WGS84.transform(ORIGIN[0] + 50, ORIGIN[1] + 50)
    assert court["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=6e-6)


def test_amap_basemap_shifts_every_overlay_to_gcj02(layers):
    plain = _coverage(layers, basemap="osm")
    shifted = _coverage(layers, basemap="amap")
    page = maps.render_html(shifted)
    assert "autonavi.com/appmaptile" in page
    lon, lat = TO_WGS84.transform(ORIGIN[0] + 50, ORIGIN[1] + 50)
    expected = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    court = _feature_with(_data_of(_layer_named(shifted, "多功能运动场 (2)")), "Court A")
    assert court["geometry"]["coordinates"] == pytest.approx([expected.lon, expected.lat], abs=6e-6)
    # The offset near Ordos is a few hundred metres, and every layer moved by it.
    for plain_layer, shifted_layer in zip(_layers_of(plain), _layers_of(shifted), strict=True):
        assert plain_layer.layer_name == shifted_layer.layer_name
        a = shapely.from_geojson(json.dumps(_data_of(plain_layer)))
        b = shapely.from_geojson(json.dumps(_data_of(shifted_layer)))
        da = np.array(shapely.bounds(shapely.union_all(a)))
        db = np.array(shapely.bounds(shapely.union_all(b)))
        dx = (db[0] - da[0]) * 111_320 * np.cos(np.radians(39.6))
        dy = (db[1] - da[1]) * 110_574
        assert 200 < np.hypot(dx, dy) < 900, plain_layer.layer_name
    amap = maps.MapStyle(basemap="amap")
    sites_layer = _layers_of(maps.trails_map(make_layers().facilities.iloc[[4]], style=amap))[0]
    assert sites_layer.n_features == 1


def test_tianditu_needs_a_key(layers, caplog):
    with caplog.at_level(logging.WARNING, logger="ordos_geo.maps"):
        page = maps.render_html(_coverage(layers, basemap="tianditu"))
    assert "tianditu_key" in caplog.text
    assert "tile.openstreetmap.org" in page and "tianditu.gov.cn" not in page
    page = maps.render_html(_coverage(layers, basemap="tianditu", tianditu_key="abc123"))
    assert "tianditu.gov.cn/vec_w" in page and "tk=abc123" in page and "tianditu.gov.cn/cva_w" in page


def test_no_basemap_has_no_tiles(layers):
    page = maps.render_html(_coverage(layers, basemap="none"))
    assert "L.tileLayer" not in page


def test_names_are_escaped(layers):
    m = _coverage(layers)
    page = maps.render_html(m)
    assert XSS_NAME not in page
    assert "onerror=alert(1)\\u0026gt;" in page  # escaped, then JSON-escaped
    facility = _feature_with(_data_of(_layer_named(m, "全民健身中心")), "onerror")
    assert facility["properties"]["_tip"] == "&lt;img src=x onerror=alert(1)&gt;"
    assert "<b>&lt;img src=x onerror=alert(1)&gt;</b>" in facility["properties"]["_pop"]
    neighbourhood = _feature_with(_data_of(_layer_named(m, "服务不足片区")), "onerror")
    assert "&lt;img src=x onerror=alert(1)&gt;" in neighbourhood["properties"]["_tip"]


def test_title_and_caption_are_escaped(layers):
    page = maps.render_html(_coverage(layers, title="</script><b>x", sources="<i>src</i>"))
    assert "</script><b>x" not in page
    assert "<title>&lt;/script&gt;&lt;b&gt;x</title>" in page
    assert "<i>src</i>" not in page


def test_labels_follow_language(layers):
    zh = maps.render_html(_coverage(layers, language="zh"))
    en = maps.render_html(_coverage(layers, language="en"))
    assert "步行距离" in zh and "Walk to the nearest venue" not in zh
    assert "Walk to the nearest venue" in en and "步行距离" not in en
    assert "合成样例" in zh and "synthetic" not in zh.replace("synthetic=", "")
    assert "synthetic sample (合成样例)" in en
    assert "synthetic sample" not in maps.render_html(_coverage(layers, synthetic=False, language="en"))
    with pytest.raises(InputDataError, match="language"):
        _coverage(layers, language="fr")


def test_legend_gives_metres_and_minutes_at_walk_speed(layers):
    m = _coverage(layers, walk_speed_kmh=6.0, language="en")  # 100 m per minute
    page = maps.render_html(m)
    assert "300–500 m · 3–5 min" in page
    assert "1,000–2,000 m · 10–20 min" in page
    default = maps.render_html(_coverage(layers, language="en"))  # 75 m per minute
    assert "300–500 m · 4–6.7 min" in default
    # the legend says how a clicked cell's distance is rounded
    note = "rounded up to 10 m within 500 m, 25 m within 1,000 m, 50 m within 2,000 m, 100 m beyond"
    assert note in default
    assert "距离向上取整：500 m 内取 10 m、1,000 m 内取 25 m、2,000 m 内取 50 m、更远取 100 m" in maps.render_html(
        _coverage(layers)
    )


def test_geometry_is_simplified_and_rounded(layers):
    x0, y0 = ORIGIN
    round_park = layers.facilities.iloc[[3]].copy()
    round_park.geometry = [Point(x0 + 300, y0 + 300).buffer(200, resolution=256)]  # 1,024 vertices
    m = maps.coverage_map(layers.cells, round_park, style=maps.MapStyle(basemap="none"))
    data = _data_of(_layer_named(m, "公园 (1)"))
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) < 100
    decimals = max(len(str(v).split(".")[1]) for xy in ring for v in xy)
    assert decimals <= 5
    # Simplified at 5 m (+ about 1 m of rounding): the outline stays within 6 m of the original.
    shown = gpd.GeoSeries([shapely.Polygon(ring)], crs=4326).to_crs(CRS).iloc[0]
    assert shapely.hausdorff_distance(shown.exterior, round_park.geometry.iloc[0].exterior) < 6.0


def test_bad_inputs_raise_clear_errors(layers):
    with pytest.raises(InputDataError, match="dist_m_any"):
        maps.coverage_map(layers.cells.drop(columns="dist_m_any"), layers.facilities)
    with pytest.raises(InputDataError, match="no CRS"):
        maps.coverage_map(layers.cells.set_crs(None, allow_override=True), layers.facilities)
    with pytest.raises(InputDataError, match="basemap"):
        maps.coverage_map(layers.cells, layers.facilities, style=maps.MapStyle(basemap="google"))
    with pytest.raises(InputDataError, match="planned"):
        maps.trails_map(None, None)


def test_sites_map_layers_and_popups(layers, site_inputs):
    candidates, chosen, after = site_inputs
    style = maps.MapStyle(language="en", basemap="none")
    m = maps.sites_map({"multi_sport_court": candidates}, chosen, layers.cells, after, style=style)
    cand_layer = _layer_named(m, "Candidates")
    data = _data_of(cand_layer)
    ranks = [f["properties"]["_tip"].split()[0] for f in data["features"]]
    assert ranks == ["#1", "#2", "#3"]  # sorted by rank
    popup = _feature_with(data, "North lot")["properties"]["_pop"]
    assert "840" in popup and "+0.0011" in popup and "1.4 km from any court" in popup
    assert _layer_named(m, "Chosen plan").n_features == 2
    base = [layer.layer_name for layer in _cell_layers_of(m)]
    assert base == ["Coverage before · any venue", "Coverage after · any venue"]
    assert [layer.show for layer in _cell_layers_of(m)] == [False, True]  # "after" shown first
    before, after = (_data_of(layer) for layer in _cell_layers_of(m))
    row, col = _cell_pixels(layers.cells, after)
    expected = _rounded_up(layers.cells["dist_m_any"].to_numpy() / 2)  # 75 m x cell index
    assert expected[[1, 15, 27]].tolist() == [80, 1150, 2100]
    got = _metres(_unpack(after["grids"]["dist_any"], after["width"], after["height"])[row, col], after)
    assert got.tolist() == expected.tolist()
    assert before["grids"]["dist_any"] != after["grids"]["dist_any"]
    # siting's chosen frame has plan_order instead of rank
    chosen_plan = chosen.drop(columns="rank").assign(plan_order=[2, 1])
    m = maps.sites_map({}, chosen_plan, layers.cells, style=maps.MapStyle(language="en", basemap="none"))
    tips = [f["properties"]["_pop"] for f in _data_of(_layer_named(m, "Chosen plan"))["features"]]
    assert "North lot" in tips[0] and "<th>Rank</th><td>1</td>" in tips[0]
    top = maps.sites_map({"multi_sport_court": candidates}, {"multi_sport_court": chosen}, layers.cells, top_n=2)
    assert _layer_named(top, "候选点").n_features == 2


def test_trails_map_band_and_reached(trail_inputs):
    planned, checked, underserved = trail_inputs
    x0, y0 = ORIGIN
    off = gpd.GeoDataFrame(
        {"trail_id": ["T1"], "length_m": [80.0]}, geometry=[LineString([(x0, y0), (x0 + 80, y0)])], crs=CRS
    )
    m = maps.trails_map(
        planned,
        checked,
        underserved=underserved,
        off_network=off,
        reach_m=300.0,
        style=maps.MapStyle(basemap="none", language="en"),
    )
    assert _layer_named(m, "Parts off the walk network (1)").n_features == 1
    assert _layer_named(m, "reached (1)").n_features == 1
    assert _layer_named(m, "missed (1)").n_features == 1
    band = _data_of(_layer_named(m, "Reach band · Planned"))
    shape = shapely.from_geojson(json.dumps(band["features"][0]["geometry"]))
    shown = gpd.GeoSeries([shape], crs=4326).to_crs(CRS).iloc[0]
    exact = planned.geometry.iloc[0].buffer(300.0, quad_segs=64)  # the stadium-shaped 300 m band
    # within 10 m display simplification + 1.4 m arc sag (8 segments per quarter) + 1 m rounding
    assert shapely.hausdorff_distance(shown.exterior, exact.exterior) < 12.5
    assert shown.area == pytest.approx(2 * 300 * planned.length.iloc[0] + np.pi * 300**2, rel=0.025)
    popup = _data_of(_layer_named(m, "Planned trails (1)"))["features"][0]["properties"]["_pop"]
    assert "<td>608</td>" in popup and "&lt;img" in popup  # metres whole, as the report writes them


def test_index_page(layers):
    page = maps.index_page({"Coverage": "coverage.html", "Sites <b>": "sites.html"}, make_scorecard(), language="en")
    assert '<a href="coverage.html">Coverage</a>' in page
    assert "Sites &lt;b&gt;" in page
    assert XSS_NAME not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<tr class=") == 3 and "✓ met" in page and "✗ not met" in page
    with pytest.raises(InputDataError, match="relative path"):
        maps.index_page({"x": "javascript:alert(1)"}, make_scorecard())


def test_city_scale_page_stays_small():
    """40,000 cells of 100 m, four kinds: the page costs a few bytes a cell (the module docstring's estimate)."""
    from scipy.spatial import cKDTree

    x0, y0 = ORIGIN
    n = 200
    xs, ys = np.meshgrid(np.arange(n) * 100.0 + x0, np.arange(n) * 100.0 + y0)
    xs, ys = xs.ravel(), ys.ravel()
    rng = np.random.default_rng(0)
    columns = {"population": rng.gamma(2.0, 20.0, n * n)}
    for kind in ("any", "park", "pitch", "multi_sport_court"):
        venues = rng.uniform([x0, y0], [x0 + n * 100, y0 + n * 100], size=(40, 2))
        # walking distance: 1.3 x the straight line, plus up to 40 m of snapping noise
        distance = cKDTree(venues).query(np.column_stack([xs + 50, ys + 50]))[0] * 1.3
        columns[f"dist_m_{kind}"] = distance + rng.uniform(0, 40, n * n)
    cells = gpd.GeoDataFrame(columns, geometry=shapely.box(xs, ys, xs + 100, ys + 100), crs=CRS)
    facilities = gpd.GeoDataFrame(
        {"kind": ["park"] * 50, "name": [f"p{i}" for i in range(50)]},
        geometry=shapely.points(rng.uniform(x0, x0 + 20_000, 50), rng.uniform(y0, y0 + 20_000, 50)),
        crs=CRS,
    )
    start = time.perf_counter()
    page = maps.render_html(maps.coverage_map(cells, facilities, style=maps.MapStyle(basemap="none")))
    elapsed = time.perf_counter() - start
    per_cell = (len(page.encode("utf-8")) - 300_000) / len(cells)  # less the inline libraries (about 290 kB)
    assert per_cell < 8.0  # the module docstring's size estimate relies on this
    assert elapsed < 20


# ---------------------------------------------------------------------------- real browser

browser_mark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    from _browser import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped")
    pytest.importorskip("websocket", reason="websocket-client is not installed; browser tests skipped")
    with Browser(executable) as instance:
        yield instance


@pytest.fixture(scope="module")
def pages(tmp_path_factory, layers, site_inputs, trail_inputs) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    candidates, chosen, after = site_inputs
    planned, checked, underserved = trail_inputs
    built = {
        "coverage": _coverage(layers),
        "coverage_osm": _coverage(layers, basemap="osm", language="en"),
        "sites": maps.sites_map(
            {"multi_sport_court": candidates}, chosen, layers.cells, after, style=maps.MapStyle(basemap="none")
        ),
        "trails": maps.trails_map(
            planned,
            checked,
            underserved=underserved,
            boundaries=layers.boundaries,
            style=maps.MapStyle(basemap="amap"),
        ),
    }
    out = {}
    for name, m in built.items():
        out[name] = folder / f"{name}.html"
        out[name].write_text(maps.render_html(m), encoding="utf-8")
    far = layers.facilities.iloc[[2]].assign(name="far venue").translate(30_000, 20_000)
    county = gpd.GeoDataFrame(
        {"name_zh": ["东胜区"], "name_en": ["Dongsheng"], "level": ["district"]},
        geometry=[box(ORIGIN[0] - 40_000, ORIGIN[1] - 40_000, ORIGIN[0] + 40_000, ORIGIN[1] + 40_000)],
        crs=CRS,
    )
    rng = np.random.default_rng(5)
    crowd = gpd.GeoDataFrame(
        {"kind": ["multi_sport_court"] * 300, "name": [f"court {i}" for i in range(300)]},
        geometry=shapely.points(
            rng.uniform(ORIGIN[0], ORIGIN[0] + 600, 300), rng.uniform(ORIGIN[1], ORIGIN[1] + 500, 300)
        ),
        crs=CRS,
    )
    built["coverage_far"] = maps.coverage_map(
        layers.cells,
        gpd.GeoDataFrame(pd.concat([layers.facilities, far]), crs=CRS),
        boundaries=county,
        style=maps.MapStyle(basemap="none"),
    )
    built["coverage_crowd"] = maps.coverage_map(layers.cells, crowd, style=maps.MapStyle(basemap="none", language="en"))
    for name in ("coverage_far", "coverage_crowd"):
        out[name] = folder / f"{name}.html"
        out[name].write_text(maps.render_html(built[name]), encoding="utf-8")
    out["index"] = folder / "index.html"
    out["index"].write_text(maps.index_page({"coverage": "coverage.html"}, make_scorecard()), encoding="utf-8")
    out["default_folium"] = folder / "default_folium.html"
    out["default_folium"].write_text(folium.Map(location=[39.6, 109.78]).get_root().render(), encoding="utf-8")
    out["unsafe"] = folder / "unsafe.html"
    out["unsafe"].write_text(f"<!DOCTYPE html><html><body><div>{XSS_NAME}</div></body></html>", encoding="utf-8")
    return out


COUNT_JS = """({
  container: document.querySelectorAll('.leaflet-container').length,
  layerControl: document.querySelectorAll('.leaflet-control-layers').length,
  legend: document.querySelectorAll('.ordos-legend').length,
  caption: document.querySelectorAll('.ordos-caption').length,
  title: (document.querySelector('.ordos-title') || {}).textContent || '',
  scale: document.querySelectorAll('.leaflet-control-scale').length,
  paths: document.querySelectorAll('path.leaflet-interactive').length,
  markers: document.querySelectorAll('.leaflet-marker-icon').length,
  cellImages: document.querySelectorAll('img.ordos-cells').length
})"""

MAP_JS = "window[Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)]"

# The shown cell image once the page has coloured it (data-drawn): [width, height, r, g, b, a, r, g, b, a, ...].
IMAGE_JS = """new Promise(resolve => {
  const read = () => {
    const img = document.querySelector('img.ordos-cells[data-drawn]');
    if (!img) { setTimeout(read, 20); return; }
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const g = canvas.getContext('2d');
    g.drawImage(img, 0, 0);
    resolve([canvas.width, canvas.height].concat(Array.from(g.getImageData(0, 0, canvas.width, canvas.height).data)));
  };
  read();
})"""


def _red_cells(browser, cells: gpd.GeoDataFrame, data: dict) -> int:
    """How many cells the browser paints in the last (red) class, read at each cell's own pixel."""
    values = browser.evaluate(IMAGE_JS, await_promise=True)
    width, height = values[:2]
    rgba = np.asarray(values[2:], dtype=int).reshape(height, width, 4)
    row, col = _cell_pixels(cells, data)
    return int((rgba[row, col] == [0xD7, 0x30, 0x27, 255]).all(axis=1).sum())


def _click_at(browser, lat: float, lon: float) -> str:
    """Click the mouse at a place on the map; return the text of the open popup ('' if none)."""
    x, y = browser.evaluate(
        f"(() => {{ const p = {MAP_JS}.latLngToContainerPoint([{lat}, {lon}]); return [p.x, p.y]; }})()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
    browser.evaluate("new Promise(r => setTimeout(r, 300))", await_promise=True)
    return browser.evaluate("(document.querySelector('.leaflet-popup-content') || {}).textContent || ''")


def _cell_latlon(cells: gpd.GeoDataFrame, index: int) -> tuple[float, float]:
    centre = cells.geometry.iloc[index].centroid
    lon, lat = TO_WGS84.transform(centre.x, centre.y)
    return lat, lon


def _view_holds_cells(browser, cells: gpd.GeoDataFrame) -> tuple[bool, float]:
    """Whether the first view holds every cell, and the view's area over the cells' bounding box."""
    south, west, north, east = browser.evaluate(
        f"(() => {{ const b = {MAP_JS}.getBounds(); "
        "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()"
    )
    west_c, south_c, east_c, north_c = cells.to_crs(4326).total_bounds
    holds = west <= west_c and east >= east_c and south <= south_c and north >= north_c
    return holds, (east - west) * (north - south) / ((east_c - west_c) * (north_c - south_c))


def _assert_clean(report, allowed_hosts=()):
    assert report.exceptions == []
    assert report.console_errors == []
    assert report.dialogs == []
    for entry in report.log_errors:  # only basemap tiles may fail (no network here)
        assert any(host in entry.get("url", "") for host in allowed_hosts), entry


@browser_mark
def test_browser_coverage_page_draws_offline(browser, pages, layers, tmp_path):
    report = browser.open(pages["coverage"])
    _assert_clean(report)
    counts = browser.evaluate(COUNT_JS)
    # 2 district outlines + 2 neighbourhoods + park polygon + trail line; 3 point facilities; the cells are one image.
    assert counts["paths"] == 6
    assert counts["markers"] == 3
    assert counts["cellImages"] == 1
    assert counts["container"] == counts["layerControl"] == counts["legend"] == counts["caption"] == 1
    assert counts["scale"] == 1
    assert counts["title"] == "就近健身：步行可达性"
    # dist_m_any = 150 m x cell index (last cell unreachable): > 2,000 m from index 14 on -> 16 red cells.
    m = _coverage(layers)
    assert _red_cells(browser, layers.cells, _data_of(_cell_layers_of(m)[0])) == 16
    # the page unpacks each packed geometry to the coordinates numpy gives back (see _geojson_of)
    in_page = browser.evaluate(
        "Object.keys(window).filter(k => k.startsWith('ordos_data') && window[k].features)"
        ".map(k => window[k].features.map(f => f.geometry))"
    )
    page = pages["coverage"].read_text(encoding="utf-8")
    expected = [
        [_geojson_of(f["geometry"]) if "p" in f["geometry"] else f["geometry"] for f in data["features"]]
        for data in map(json.loads, re.findall(r"\nvar ordos_data_\w+ = (\{.*\});\n", page))
        if "features" in data
    ]
    assert in_page == expected and sum(map(len, expected)) == 11
    shot = browser.screenshot(tmp_path / "coverage.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@browser_mark
def test_browser_switching_distance_layer(browser, pages, layers):
    browser.open(pages["coverage"])
    clicked = browser.evaluate(
        """(() => { const inputs = document.querySelectorAll('.leaflet-control-layers-base input');
        inputs[1].click();
        return document.querySelectorAll('.leaflet-control-layers-base label')[1].textContent; })()"""
    )
    assert "公园" in clicked
    counts = browser.evaluate(COUNT_JS)
    assert counts["paths"] == 6 and counts["cellImages"] == 1
    # park distance = 150 i + 50 (i % 7 == 0 unreachable): > 2,000 m for i >= 14, plus i = 0 and 7 -> 18.
    data = _data_of(_cell_layers_of(_coverage(layers))[0])
    assert _red_cells(browser, layers.cells, data) == 18
    # A click now gives the distance to the nearest park: cell 8 is 150 x 8 + 50 = 1,250 m away.
    text = _click_at(browser, *_cell_latlon(layers.cells, 8))
    assert "18" in text and "1250 m" in text and "16.7" in text and "公园" in text
    assert "不可达" in _click_at(browser, *_cell_latlon(layers.cells, 7))  # no park reachable
    browser.evaluate("document.querySelectorAll('.leaflet-control-layers-base input')[3].click()")
    counts = browser.evaluate(COUNT_JS)
    assert counts["paths"] == 6 and counts["cellImages"] == 0  # cells hidden


@browser_mark
def test_browser_xss_name_shows_as_text(browser, pages, tmp_path):
    report = browser.open(pages["coverage"])
    opened = browser.evaluate(
        """(() => { const name = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
        const map = window[name]; let n = 0;
        map.eachLayer(l => {
          if (l.getPopup && l.getPopup() && String(l.getPopup().getContent()).includes('onerror')) {
            l.openPopup(); n++; }
        });
        map.eachLayer(l => {
          if (l.getTooltip && l.getTooltip() && String(l.getTooltip().getContent()).includes('onerror')) {
            l.openTooltip(); n++; }
        });
        return n; })()"""
    )
    assert opened == 3  # facility popup + facility tooltip + neighbourhood tooltip
    browser.evaluate("new Promise(r => setTimeout(r, 200))", await_promise=True)
    texts = browser.evaluate(
        """({popup: (document.querySelector('.leaflet-popup-content') || {}).textContent || '',
            tooltips: Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent),
            images: document.querySelectorAll('img[src="x"]').length})"""
    )
    assert XSS_NAME in texts["popup"]
    assert sum(XSS_NAME in t for t in texts["tooltips"]) == 2
    assert texts["images"] == 0
    assert report.dialogs == [] and report.exceptions == []
    browser.screenshot(tmp_path / "xss.png")


@browser_mark
def test_browser_detects_unsafe_and_cdn_pages(browser, pages):
    """The checks above can fail: raw markup does open a dialog, a default folium page breaks offline."""
    report = browser.open(pages["unsafe"])
    assert report.dialogs == ["1"]
    report = browser.open(pages["default_folium"])
    assert any("L is not defined" in text for text in report.exceptions)
    assert browser.evaluate("document.querySelectorAll('.leaflet-container').length") == 0


@browser_mark
def test_browser_osm_page_reads_without_tiles(browser, pages):
    report = browser.open(pages["coverage_osm"])
    _assert_clean(report, allowed_hosts=("tile.openstreetmap.org",))
    counts = browser.evaluate(COUNT_JS)
    assert counts["paths"] == 6 and counts["markers"] == 3 and counts["legend"] == 1 and counts["cellImages"] == 1
    assert counts["title"] == "Nearby fitness: walking access"


@browser_mark
def test_browser_sites_and_trails_pages(browser, pages, layers, tmp_path):
    report = browser.open(pages["sites"])
    _assert_clean(report)
    counts = browser.evaluate(COUNT_JS)
    assert counts["paths"] == 0 and counts["cellImages"] == 1  # cells after (boundaries not given)
    assert counts["markers"] == 5  # 3 ranked candidates + 2 chosen
    assert counts["legend"] == 1 and counts["layerControl"] == 1
    holds, ratio = _view_holds_cells(browser, layers.cells)
    assert holds and ratio < 12
    # After the plan the distances are halved: cell 9 is 150 x 9 / 2 = 675 m from a venue (on the 25 m grid),
    # cell 17 is 1,275 m, shown rounded up to 50 m.
    text = _click_at(browser, *_cell_latlon(layers.cells, 9))
    assert "19" in text and "675 m · 9.0" in text
    browser.evaluate("document.querySelector('.leaflet-popup-close-button').click()")  # it covers cell 17
    assert "1300 m · 17.3" in _click_at(browser, *_cell_latlon(layers.cells, 17))
    browser.screenshot(tmp_path / "sites.png")
    report = browser.open(pages["trails"])
    _assert_clean(report, allowed_hosts=("autonavi.com",))
    counts = browser.evaluate(COUNT_JS)
    # 2 reach bands + 2 trails + reached + missed + 2 district outlines
    assert counts["paths"] == 8 and counts["markers"] == 0
    browser.screenshot(tmp_path / "trails.png")


@browser_mark
def test_browser_first_view_fits_the_populated_area(browser, pages, layers, tmp_path):
    """A venue 36 km away and a county-sized outline do not pull the first view off the city."""
    report = browser.open(pages["coverage_far"])
    _assert_clean(report)
    holds, ratio = _view_holds_cells(browser, layers.cells)
    assert holds
    assert ratio < 12  # 600 m x 500 m of cells in a 1280 x 860 window; the county would be > 10,000 times larger
    browser.screenshot(tmp_path / "far.png")


@browser_mark
def test_browser_click_on_a_cell_shows_its_numbers(browser, pages, layers):
    report = browser.open(pages["coverage"])
    text = _click_at(browser, *_cell_latlon(layers.cells, 7))
    # cell 7: 17 people, Dongsheng, 150 x 7 = 1,050 m to the nearest venue, 14.0 minutes at 4.5 km/h
    assert "人口17" in text and "东胜区" in text and "1050 m · 14.0 分钟" in text
    text = _click_at(browser, *_cell_latlon(layers.cells, 29))  # the unreachable cell, Kangbashi
    assert "人口39" in text and "康巴什区" in text and "不可达" in text
    browser.evaluate("document.querySelector('.leaflet-popup-close-button').click()")
    south_west = layers.cells.geometry.iloc[0].bounds
    lon, lat = TO_WGS84.transform(south_west[0] - 150, south_west[1] - 150)  # outside every cell
    assert _click_at(browser, lat, lon) == ""
    # A facility's own popup wins over the cell under it.
    x, y = browser.evaluate(
        "(() => { const r = document.querySelector('.leaflet-marker-icon').getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
    )
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
    browser.evaluate("new Promise(r => setTimeout(r, 300))", await_promise=True)
    popup = browser.evaluate("document.querySelector('.leaflet-popup-content').textContent")
    assert "人口" not in popup and "类型" in popup
    _assert_clean(browser.report)
    assert report.exceptions == []


@browser_mark
def test_browser_crowded_markers_are_clustered(browser, pages):
    report = browser.open(pages["coverage_crowd"])
    _assert_clean(report)
    shown = browser.evaluate(
        """({markers: document.querySelectorAll('.leaflet-marker-icon:not(.ordos-cluster)').length,
            clusters: Array.from(document.querySelectorAll('.ordos-cluster')).map(c => Number(c.textContent))})"""
    )
    # 300 courts in 600 m x 500 m: drawn as a few numbered circles that add up to all of them.
    assert len(shown["clusters"]) >= 1
    assert shown["markers"] + len(shown["clusters"]) < 100
    assert shown["markers"] + sum(shown["clusters"]) == 300


@browser_mark
def test_browser_index_page(browser, pages):
    report = browser.open(pages["index"])
    _assert_clean(report)
    info = browser.evaluate(
        """({rows: document.querySelectorAll('table tbody tr').length,
            links: Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href')),
            text: document.body.textContent})"""
    )
    assert info["rows"] == 3 and info["links"] == ["coverage.html"]
    assert XSS_NAME in info["text"]


def test_fixture_cells_grid_is_as_documented(layers):
    """Guard the hand counts used in the browser tests."""
    cells = layers.cells
    assert len(cells) == 30
    any_red = int((~np.isfinite(cells["dist_m_any"]) | (cells["dist_m_any"] > 2000)).sum())
    park_red = int((~np.isfinite(cells["dist_m_park"]) | (cells["dist_m_park"] > 2000)).sum())
    assert (any_red, park_red) == (16, 18)
    assert box(*cells.total_bounds).area == pytest.approx(600 * 500)


def test_district_names_follow_language(layers):
    zh = maps.render_html(_coverage(layers, language="zh"))
    en = maps.render_html(_coverage(layers, language="en"))
    # cell popups (the page's district list), facility popups and underserved tooltips name districts by the label table
    assert _data_of(_cell_layers_of(_coverage(layers, language="zh"))[0])["districts"] == ["东胜区", "康巴什区"]
    assert _data_of(_cell_layers_of(_coverage(layers, language="en"))[0])["districts"] == ["Dongsheng", "Kangbashi"]
    assert "Dongsheng" not in zh and "东胜区" not in en
    # a district the label table does not know is shown as given, never as markup
    assert XSS_NAME not in zh


def test_trail_popups_have_headers_in_language():
    planned = gpd.GeoDataFrame(
        {"trail_id": [1], "length_m": [608.3], "kind": ["fitness_trail"], "district": ["Kangbashi"]},
        geometry=[shapely.LineString([(ORIGIN[0], ORIGIN[1]), (ORIGIN[0] + 600, ORIGIN[1])])],
        crs=CRS,
    )
    page = maps.render_html(maps.trails_map(planned, style=maps.MapStyle(basemap="none", language="zh")))
    for text in ("步道编号", "长度 (m)", "健身步道", "康巴什区"):
        assert text in page, text
    assert "length_m" not in page.replace('"length_m"', "")


def test_sites_map_draws_the_school_venues_to_open(layers, site_inputs):
    candidates, _, _ = site_inputs
    venues = candidates.rename(columns={"candidate_id": "facility_id"}).assign(
        in_plan=[True, True, False], newly_covered_in_plan=[300.0, 840.0, 0.0]
    )
    style = maps.MapStyle(language="zh", basemap="none")
    m = maps.sites_map({}, None, layers.cells, school_opening=venues, style=style)
    chosen = _layer_named(m, "选定方案: 待开放学校场馆")
    assert chosen.n_features == 2
    assert _layer_named(m, "候选点: 待开放学校场馆").n_features == 1
    popups = [f["properties"]["_pop"] for f in _data_of(chosen)["features"]]
    assert any("840" in p and "k1" in p for p in popups)
