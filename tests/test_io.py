"""Readers: facilities, population, boundaries, OSM features; bad inputs; raw inputs untouched."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import Affine, from_origin

from ordos_geo import _osm_tags, io, settings
from ordos_geo._errors import ConfigError, InputDataError, InputFileNotFoundError, OutputError

# Dongsheng, Ordos
LON0, LAT0 = 109.98, 39.82


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def facility_frame(**overrides) -> gpd.GeoDataFrame:
    data = {
        "name": ["东胜体育场 Dongsheng Stadium", "Court A", "Fitness path 1"],
        "kind": ["stadium", "multi_sport_court", "fitness_path"],
        "area_m2": [21000.0, 800.0, 210.0],
        "open_to_public": ["yes", "no", "是"],
        "district": ["Dongsheng", "Dongsheng", None],
    }
    data.update(overrides)
    points = gpd.points_from_xy([LON0, LON0 + 0.01, LON0 + 0.02], [LAT0, LAT0 + 0.01, LAT0 + 0.02])
    return gpd.GeoDataFrame(data, geometry=points, crs=4326)


@pytest.fixture
def study_area() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"adcode": ["150602"]}, geometry=[shapely.box(109.8, 39.7, 110.2, 40.0)], crs=4326)


# --- facilities: formats -----------------------------------------------------------------------------


def test_geojson_full_schema(tmp_path: Path) -> None:
    path = tmp_path / "facilities.geojson"
    facility_frame(facility_id=["S1", "S2", "S3"], capacity=[40000, None, 20]).to_file(path, driver="GeoJSON")
    out = io.read_facilities(path)
    assert tuple(out.columns) == io.FACILITY_COLUMNS
    assert out.crs.to_epsg() == 4326
    assert out["facility_id"].tolist() == ["S1", "S2", "S3"]
    assert out["kind"].tolist() == ["stadium", "multi_sport_court", "fitness_path"]
    assert out["area_m2"].tolist() == [21000.0, 800.0, 210.0]
    assert out["area_source"].tolist() == ["input"] * 3
    assert out["open_to_public"].tolist() == [True, False, True]
    assert out["open_to_public"].dtype == bool
    np.testing.assert_array_equal(out["capacity"].to_numpy(), [40000.0, np.nan, 20.0])
    assert out["district"].tolist() == ["Dongsheng", "Dongsheng", None]
    assert out.geometry.x.tolist() == pytest.approx([LON0, LON0 + 0.01, LON0 + 0.02])


@pytest.mark.parametrize(
    ("lon_name", "lat_name"),
    [("lon", "lat"), ("lng", "lat"), ("Longitude", "Latitude"), ("经度", "纬度"), ("x", "y")],
)
def test_csv_lon_lat_columns_detected(tmp_path: Path, lon_name: str, lat_name: str) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,kind,area_m2,{lon_name},{lat_name}
Court,multi_sport_court,600,{LON0},{LAT0}
""",
    )
    out = io.read_facilities(path)
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == pytest.approx((LON0, LAT0))
    assert out["facility_id"].tolist() == ["F0001"]
    assert out["open_to_public"].tolist() == [True]  # default when the column is absent


def test_explicit_lon_lat_columns_and_amap_location(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,kind,area_m2,E,N
Court,multi_sport_court,600,{LON0},{LAT0}
""",
    )
    out = io.read_facilities(path, lon_column="E", lat_column="N")
    assert out.geometry.x.iloc[0] == pytest.approx(LON0)
    with pytest.raises(InputDataError, match=r"missing column `east`; columns found: `name`, `kind`, `area_m2`, `E`"):
        io.read_facilities(path, lon_column="east", lat_column="N")
    amap = write_csv(
        tmp_path / "amap.csv",
        f"""
name,kind,area_m2,location,adname
Court,multi_sport_court,600,"{LON0},{LAT0}",东胜区
""",
    )
    out = io.read_facilities(amap)
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == pytest.approx((LON0, LAT0))
    assert out["district"].tolist() == ["东胜区"]


def test_gcj02_csv_is_shifted_back_to_wgs84(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "amap.csv",
        f"""
name,kind,area_m2,lon,lat
Court,multi_sport_court,600,{LON0},{LAT0}
Pitch,pitch,7000,{LON0 + 0.05},{LAT0 - 0.05}
""",
    )
    raw = io.read_facilities(path)
    gcj = io.read_facilities(path, coordinate_system="gcj02")
    shift = gcj.geometry.x.to_numpy() - raw.geometry.x.to_numpy()
    # Amap's offset near Dongsheng is about 0.005-0.006 degrees of longitude (WGS-84 lies west of GCJ-02)
    assert np.all((shift < -0.004) & (shift > -0.007))
    # independent check: prcoords' forward WGS-84 -> GCJ-02 gives back the raw numbers
    for x, y, rx, ry in zip(gcj.geometry.x, gcj.geometry.y, raw.geometry.x, raw.geometry.y, strict=True):
        forward = prcoords.wgs_gcj(prcoords.Coords(y, x))
        assert (forward.lon, forward.lat) == pytest.approx((rx, ry), abs=1e-7)
    bd = io.read_facilities(path, coordinate_system="bd09")
    assert np.all(bd.geometry.x.to_numpy() - raw.geometry.x.to_numpy() < -0.01)  # BD-09 adds a further offset


def test_excel_and_geopackage_and_shapefile(tmp_path: Path) -> None:
    frame = facility_frame()
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table["lon"], table["lat"] = frame.geometry.x, frame.geometry.y
    xlsx = tmp_path / "f.xlsx"
    table.to_excel(xlsx, index=False)
    gpkg = tmp_path / "f.gpkg"
    frame.to_crs(4546).to_file(gpkg, layer="venues", driver="GPKG")  # projected CRS: converted back to degrees
    shp = tmp_path / "f.shp"
    frame.rename(columns={"open_to_public": "open"}).to_file(shp)
    for path, kwargs in ((xlsx, {}), (gpkg, {"layer": "venues"}), (shp, {})):
        out = io.read_facilities(path, **kwargs)
        assert out["kind"].tolist() == ["stadium", "multi_sport_court", "fitness_path"], path.name
        assert out["open_to_public"].tolist() == [True, False, True], path.name
        assert out.geometry.x.to_numpy() == pytest.approx(frame.geometry.x.to_numpy(), abs=1e-9), path.name


def test_geopackage_with_several_layers_needs_layer(tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    facility_frame().to_file(path, layer="venues", driver="GPKG")
    facility_frame().to_file(path, layer="schools", driver="GPKG")
    with pytest.raises(
        InputDataError, match=r"city\.gpkg: holds 2 layers \(venues, schools\); choose one with the layer option"
    ):
        io.read_facilities(path)
    assert len(io.read_facilities(path, layer="schools")) == 3


def test_sample_amap_csv_is_gcj02() -> None:
    path = settings.DEFAULT_AMAP_SAMPLE
    if not path.exists():
        pytest.skip(f"{path} not generated yet")
    raw = io.read_facilities(path)
    wgs = io.read_facilities(path, coordinate_system="gcj02")
    shift = wgs.geometry.x.to_numpy() - raw.geometry.x.to_numpy()
    assert np.all((shift < -0.004) & (shift > -0.007))  # ~0.005-0.006 degrees west near Ordos


def test_open_to_public_values(tmp_path: Path) -> None:
    values = ["yes", "no", "1", "0", "true", "FALSE", "是", "否", ""]
    rows = "\n".join(f"S{i},school_venue,8000,{LON0},{LAT0},{v}" for i, v in enumerate(values))
    path = write_csv(tmp_path / "f.csv", "name,kind,area_m2,lon,lat,open_to_public\n" + rows)
    out = io.read_facilities(path)
    assert out["open_to_public"].tolist() == [True, False, True, False, True, False, True, False, True]
    bad = write_csv(
        tmp_path / "bad.csv",
        f"""
name,kind,area_m2,lon,lat,open_to_public
School 1,school_venue,8000,{LON0},{LAT0},maybe
""",
    )
    with pytest.raises(InputDataError, match=r"`open_to_public` has values that are not yes/no \(row 2 \(School 1\)\)"):
        io.read_facilities(bad)


def test_missing_area_policies(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,kind,area_m2,lon,lat
Court,multi_sport_court,,{LON0},{LAT0}
Pitch,pitch,7000,{LON0},{LAT0}
School,school_venue,,{LON0},{LAT0}
""",
    )
    with caplog.at_level(logging.WARNING, logger="ordos_geo.io"):
        typical = io.read_facilities(path)
    assert "2 facilities have no area (rows 2 (Court), 4 (School))" in caplog.text
    assert typical["area_m2"].tolist() == [
        settings.TYPICAL_AREA_M2["multi_sport_court"],
        7000.0,
        settings.TYPICAL_AREA_M2["school_venue"],
    ]
    assert typical["area_source"].tolist() == ["typical", "input", "typical"]
    excluded = io.read_facilities(path, area_policy="exclude")
    assert np.isnan(excluded["area_m2"].to_numpy()[[0, 2]]).all()
    assert excluded["area_m2"].iloc[1] == 7000.0
    assert excluded["area_source"].tolist() == ["missing", "input", "missing"]
    with pytest.raises(ConfigError, match="area_policy='drop' is not known"):
        io.read_facilities(path, area_policy="drop")


def test_fitness_trail_area_is_length_times_width_and_polygons_kept(tmp_path: Path) -> None:
    trail = shapely.LineString([(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.01, LAT0 + 0.005)])
    park = shapely.box(LON0, LAT0, LON0 + 0.002, LAT0 + 0.002)
    frame = gpd.GeoDataFrame(
        {"name": ["River trail", "Park"], "kind": ["fitness_trail", "park"], "area_m2": [None, 5000.0]},
        geometry=[trail, park],
        crs=4326,
    )
    path = tmp_path / "trail.geojson"
    frame.to_file(path, driver="GeoJSON")
    out = io.read_facilities(path, trail_width_m=3.0)
    geodesic_m = pyproj.Geod(ellps="GRS80").geometry_length(trail)  # independent of the projection used
    assert out["area_m2"].iloc[0] == pytest.approx(geodesic_m * 3.0, rel=1e-3)
    assert out["area_source"].tolist() == ["length_x_width", "input"]
    assert out.geometry.iloc[1].equals(park)  # polygons keep their polygon
    assert out.geom_type.tolist() == ["LineString", "Polygon"]


def test_osm_tagged_file_is_mapped_with_a_warning(tmp_path: Path) -> None:
    rows = [
        ("pitch", "soccer", None, None),
        ("pitch", "basketball", None, None),
        ("sports_centre", None, None, "yes"),
        ("sports_centre", None, None, None),
        ("stadium", None, None, None),
        ("swimming_pool", None, None, None),
        ("fitness_station", None, None, None),
        ("park", None, None, None),
        ("playground", None, None, None),
        (None, None, "school", None),
        ("picnic_table", None, None, None),  # not an exercise place: dropped
        ("bird_hide", None, None, None),  # no rule: kept as "other", warned
    ]
    frame = gpd.GeoDataFrame(
        {
            "name": [f"feature {i}" for i in range(len(rows))],
            "leisure": [r[0] for r in rows],
            "sport": [r[1] for r in rows],
            "amenity": [r[2] for r in rows],
            "building": [r[3] for r in rows],
        },
        geometry=gpd.points_from_xy([LON0] * len(rows), [LAT0] * len(rows)),
        crs=4326,
    )
    path = tmp_path / "osm.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.warns(UserWarning, match=r"1 features have OSM tags no rule maps.*row 12 \(feature 11\)"):
        out = io.read_facilities(path)
    assert out["kind"].tolist() == [
        "pitch",
        "multi_sport_court",
        "gymnasium",
        "fitness_centre",
        "stadium",
        "swimming_pool",
        "fitness_path",
        "park",
        "playground",
        "school_venue",
        "other",
    ]
    assert "feature 10" not in out["name"].tolist()
    assert out["facility_id"].tolist() == [f"F{i:04d}" for i in range(1, 12)]


@pytest.mark.parametrize(
    ("tags", "geometry_type", "kind"),
    [
        ({"leisure": "sports_centre", "sport": "swimming"}, "Polygon", "swimming_pool"),
        ({"leisure": "track"}, "LineString", "fitness_trail"),
        ({"leisure": "track"}, "Polygon", "pitch"),
        ({"leisure": "park", "name": "康巴什体育公园"}, "Polygon", "sports_park"),
        ({"amenity": "gym"}, "Point", "fitness_centre"),
        ({"leisure": "ice_rink"}, "Point", "other"),
        ({"amenity": "parking"}, "Polygon", None),
        ({"leisure": "pitch", "sport": "table_tennis;basketball"}, "Point", "multi_sport_court"),
    ],
)
def test_osm_tag_table(tags: dict, geometry_type: str, kind: str | None) -> None:
    assert _osm_tags.kind_from_osm_tags(tags, geometry_type=geometry_type) == kind
    if kind is not None:
        assert kind in settings.FACILITY_KINDS


# --- facilities: bad input ---------------------------------------------------------------------------


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match=r"nope\.csv: facility file not found; check the path"):
        io.read_facilities(tmp_path / "nope.csv")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputDataError, match=r"empty\.csv: facility file is empty \(0 bytes\)"):
        io.read_facilities(empty)
    header_only = write_csv(tmp_path / "header.csv", "name,kind,lon,lat")
    with pytest.raises(InputDataError, match="the table has a header but no rows"):
        io.read_facilities(header_only)
    empty_layer = tmp_path / "empty.geojson"
    empty_layer.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"empty\.geojson: the facility layer has no features"):
        io.read_facilities(empty_layer)
    with pytest.raises(InputDataError, match=r"unsupported facility file type; use one of \.geojson"):
        io.read_facilities(write_csv(tmp_path / "f.docx", "x"))


def test_missing_kind_column(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,area_m2,lon,lat
Court,600,{LON0},{LAT0}
""",
    )
    expected = r"f\.csv: missing column `kind`; columns found: `name`, `area_m2`, `lon`, `lat`"
    with pytest.raises(InputDataError, match=expected):
        io.read_facilities(path)


def test_missing_coordinate_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        """
name,kind,area_m2,address
Court,multi_sport_court,600,Tianjiao Road
""",
    )
    with pytest.raises(InputDataError, match=r"f\.csv: no coordinate columns.*columns found: `name`, `kind`"):
        io.read_facilities(path)


def test_unknown_kind(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,kind,area_m2,lon,lat
Court,multi_sport_court,600,{LON0},{LAT0}
Hall,basketball_hall,900,{LON0},{LAT0}
Ice,ice rink,900,{LON0},{LAT0}
""",
    )
    with pytest.raises(InputDataError) as info:
        io.read_facilities(path)
    message = str(info.value)
    assert "column `kind` has unknown kinds 'basketball_hall', 'ice rink' (rows 3 (Hall), 4 (Ice))" in message
    assert "valid kinds: " + ", ".join(settings.FACILITY_KINDS) in message
    spelled = write_csv(tmp_path / "s.csv", f"name,kind,area_m2,lon,lat\nCourt, Multi-sport court ,600,{LON0},{LAT0}\n")
    assert io.read_facilities(spelled)["kind"].tolist() == ["multi_sport_court"]
    empty = write_csv(tmp_path / "e.csv", f"name,kind,area_m2,lon,lat\nCourt,,600,{LON0},{LAT0}\n")
    with pytest.raises(InputDataError, match=r"e\.csv: column `kind` is empty in row 2 \(Court\); give each row"):
        io.read_facilities(empty)


def test_swapped_lon_lat(tmp_path: Path, study_area: gpd.GeoDataFrame) -> None:
    obvious = write_csv(
        tmp_path / "swapped.csv",
        f"""
name,kind,area_m2,lon,lat
Court,multi_sport_court,600,{LAT0},{LON0}
""",
    )
    swapped = r"look swapped: latitude beyond ±90° .*row 2 \(Court\).*swap the lon_column and lat_column options"
    with pytest.raises(InputDataError, match=swapped):
        io.read_facilities(obvious)
    # a vector layer written (lat, lon): refused as out of range, the message says swapped
    layer = tmp_path / "latlon.geojson"
    facility_frame().assign(geometry=gpd.points_from_xy([LAT0] * 3, [LON0] * 3)).to_file(layer)
    with pytest.raises(InputDataError, match=r"latlon\.geojson: 3 features out of range .*look swapped"):
        io.read_facilities(layer)
    # swapped points of a study area west of 90 E (both orders are valid degrees): the study area catches
    # them and the message suggests the swap because swapped they fall inside
    path = write_csv(
        tmp_path / "g.csv",
        """
name,kind,area_m2,lon,lat
Good,pitch,7000,45.2,43.1
Swapped,multi_sport_court,600,43.2,45.1
""",
    )
    west = gpd.GeoDataFrame(geometry=[shapely.box(45.0, 43.0, 45.5, 43.5)], crs=4326)
    expected = r"1 of 2 facilities outside the study area .*row 3 \(Swapped\).*look swapped"
    with pytest.raises(InputDataError, match=expected):
        io.read_facilities(path, study_area=west)


def test_points_outside_study_area_not_swapped(tmp_path: Path, study_area: gpd.GeoDataFrame) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        """
name,kind,area_m2,lon,lat
Beijing,pitch,7000,116.4,39.9
""",
    )
    expected = r"1 of 1 facilities outside the study area .*row 2 \(Beijing\); check the coord"
    with pytest.raises(InputDataError, match=expected):
        io.read_facilities(path, study_area=study_area)


def test_facilities_just_outside_the_study_area_are_kept_farther_ones_refused(tmp_path: Path) -> None:
    area = shapely.box(109.90, 39.80, 110.00, 39.90)
    geod = pyproj.Geod(ellps="WGS84")
    (lon_near, lon_far), (lat_near, lat_far), _ = geod.fwd([109.95, 109.95], [39.90, 39.90], [0, 0], [150, 300])
    rows = f"name,kind,lon,lat\nIn,pitch,109.95,39.85\nAcross the line,pitch,{lon_near},{lat_near}\n"
    near = write_csv(tmp_path / "near.csv", rows)
    assert settings.FACILITY_BOUNDARY_TOLERANCE_M == 200
    assert io.read_facilities(near, study_area=area)["name"].tolist() == ["In", "Across the line"]
    far = write_csv(tmp_path / "far.csv", rows + f"Too far,pitch,{lon_far},{lat_far}\n")
    with pytest.raises(
        InputDataError, match=r"far\.csv: 1 of 3 facilities outside the study area .*: row 4 \(Too far\)"
    ):
        io.read_facilities(far, study_area=area)


def test_crs_less_layer(tmp_path: Path) -> None:
    shp = tmp_path / "venues.shp"
    facility_frame().rename(columns={"open_to_public": "open"}).to_file(shp)
    shp.with_suffix(".prj").unlink()
    with pytest.raises(InputDataError, match=r"venues\.shp: the facility layer has no CRS.*set it.*\.prj"):
        io.read_facilities(shp)


def test_negative_and_non_numeric_area(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
name,kind,area_m2,lon,lat
A,pitch,7000,{LON0},{LAT0}
B,pitch,-5,{LON0},{LAT0}
C,pitch,300,{LON0},{LAT0}
D,pitch,-1,{LON0},{LAT0}
""",
    )
    with pytest.raises(
        InputDataError,
        match=r"f\.csv: column `area_m2` has 2 negative values \(rows 3 \(B\), 5 \(D\)\); areas are venue field areas",
    ):
        io.read_facilities(path)
    text = write_csv(tmp_path / "t.csv", f"name,kind,area_m2,lon,lat\nA,pitch,big,{LON0},{LAT0}\n")
    with pytest.raises(InputDataError, match=r"column `area_m2` has non-numeric values \(row 2 \(A\)\)"):
        io.read_facilities(text)
    infinite = write_csv(tmp_path / "i.csv", f"name,kind,area_m2,lon,lat\nA,pitch,inf,{LON0},{LAT0}\n")
    with pytest.raises(InputDataError, match=r"column `area_m2` has 1 infinite value \(row 2 \(A\)\)"):
        io.read_facilities(infinite)


def test_duplicate_ids_and_missing_coordinates(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "f.csv",
        f"""
id,name,kind,area_m2,lon,lat
7,A,pitch,7000,{LON0},{LAT0}
7,B,pitch,7000,{LON0},{LAT0}
""",
    )
    with pytest.raises(InputDataError, match=r"column `id` must be unique but 7 repeat \(rows 2 \(A\), 3 \(B\)\)"):
        io.read_facilities(path)
    hole = write_csv(tmp_path / "h.csv", f"name,kind,area_m2,lon,lat\nA,pitch,7000,,{LAT0}\n")
    with pytest.raises(InputDataError, match=r"1 missing or non-numeric coordinates \(row 2 \(A\)\)"):
        io.read_facilities(hole)


# --- population ----------------------------------------------------------------------------------------


def write_raster(path: Path, array: np.ndarray, *, crs=4326, transform=None, nodata=-99999.0) -> Path:
    transform = transform or from_origin(LON0, LAT0, 1 / 1200, 1 / 1200)  # 3 arc-seconds like WorldPop
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=array.shape[0],
        width=array.shape[1],
        count=1,
        dtype=array.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dataset:
        dataset.write(array, 1)
    return path


def test_population_raster_cells(tmp_path: Path) -> None:
    array = np.array([[5.0, 0.0, -99999.0], [12.5, -99999.0, 3.0]], dtype="float32")
    path = write_raster(tmp_path / "pop.tif", array)
    cells = io.read_population(path)
    assert cells.crs.to_epsg() == 4326
    assert cells["cell_id"].tolist() == [0, 3, 5]  # row * width + col of the populated, valid cells
    assert cells["population"].tolist() == [5.0, 12.5, 3.0]
    assert cells["population"].sum() == pytest.approx(20.5)
    step = 1 / 1200
    # cell (row 1, col 2): x from LON0 + 2 steps, y from LAT0 - 2 steps to LAT0 - 1 step
    assert cells.geometry.iloc[2].bounds == pytest.approx(
        (LON0 + 2 * step, LAT0 - 2 * step, LON0 + 3 * step, LAT0 - step)
    )
    assert cells["cell_id"].is_unique


def test_population_raster_in_projected_crs(tmp_path: Path) -> None:
    array = np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
    path = write_raster(tmp_path / "utm.tif", array, crs=32649, transform=from_origin(500_000, 4_400_000, 100, 100))
    cells = io.read_population(path)
    assert cells.crs.to_epsg() == 4326
    back = cells.to_crs(32649)
    assert back.area.to_numpy() == pytest.approx([10_000.0] * 4, rel=1e-6)  # 100 m x 100 m cells
    assert back.geometry.iloc[3].bounds == pytest.approx((500_100, 4_399_800, 500_200, 4_399_900), abs=1e-3)


def test_population_raster_cells_made_in_the_asked_crs(tmp_path: Path) -> None:
    """crs=: each cell corner is computed once and projected; same cells as reading in WGS-84 and projecting."""
    rng = np.random.default_rng(5)
    array = np.where(rng.random((40, 60)) < 0.7, rng.uniform(1, 50, (40, 60)), 0.0).astype("float32")
    array[3, :] = -99999.0
    turned = Affine(1 / 1200, 1 / 12000, LON0, 1 / 15000, -1 / 1200, LAT0)  # a rotated, sheared grid
    for transform in (None, turned):
        path = write_raster(tmp_path / "grid.tif", array, transform=transform)
        wgs84 = io.read_population(path)
        utm = io.read_population(path, crs=32649)
        assert utm.crs.to_epsg() == 32649
        assert utm["cell_id"].tolist() == wgs84["cell_id"].tolist()
        assert utm["population"].tolist() == wgs84["population"].tolist()
        expected = shapely.get_coordinates(wgs84.to_crs(32649).geometry.to_numpy())
        assert shapely.get_coordinates(utm.geometry.to_numpy()) == pytest.approx(expected, abs=1e-6)
        assert (shapely.get_num_coordinates(utm.geometry.to_numpy()) == 5).all()
        # neighbouring cells share their corners exactly: the grid has no slivers or overlaps
        assert utm.geometry.union_all().area == pytest.approx(utm.area.sum(), rel=1e-9)
    # the study area is applied to the cell centres as before
    area = gpd.GeoDataFrame(geometry=[shapely.box(LON0, LAT0 - 10 / 1200, LON0 + 10 / 1200, LAT0)], crs=4326)
    inside = io.read_population(path, study_area=area, crs=32649)
    assert inside["cell_id"].tolist() == io.read_population(path, study_area=area)["cell_id"].tolist()


def test_population_nan_nodata_and_study_area(tmp_path: Path) -> None:
    array = np.full((4, 4), np.nan, dtype="float32")
    array[0, 0], array[3, 3] = 10.0, 20.0
    path = write_raster(tmp_path / "nan.tif", array, nodata=np.nan)
    cells = io.read_population(path)
    assert cells["cell_id"].tolist() == [0, 15]
    step = 1 / 1200
    corner = shapely.box(LON0 + 2.5 * step, LAT0 - 4 * step, LON0 + 4 * step, LAT0 - 2.5 * step)
    area = gpd.GeoDataFrame(geometry=[corner], crs=4326)
    inside = io.read_population(path, study_area=area)
    assert inside["cell_id"].tolist() == [15]  # global ids survive the windowed read


def test_population_bad_rasters(tmp_path: Path) -> None:
    negative = np.array([[1.0, -2.0], [-3.0, 4.0]], dtype="float32")
    with pytest.raises(
        InputDataError,
        match=r"neg\.tif: 2 negative population values that are not nodata, first at \(row 0, col 1\), "
        r"\(row 1, col 0\)",
    ):
        io.read_population(write_raster(tmp_path / "neg.tif", negative))
    infinite = np.array([[1.0, np.inf]], dtype="float32")
    with pytest.raises(InputDataError, match=r"1 non-finite population values .*\(row 0, col 1\)"):
        io.read_population(write_raster(tmp_path / "inf.tif", infinite))
    all_nodata = np.full((3, 3), -99999.0, dtype="float32")
    with pytest.raises(InputDataError, match=r"nodata\.tif: no populated cells: 0 valid cells"):
        io.read_population(write_raster(tmp_path / "nodata.tif", all_nodata))
    zeros = np.zeros((2, 2), dtype="float32")
    with pytest.raises(InputDataError, match=r"zeros\.tif: no populated cells: 4 valid cells, none above 0"):
        io.read_population(write_raster(tmp_path / "zeros.tif", zeros))
    no_crs = tmp_path / "nocrs.tif"
    with rasterio.open(
        no_crs,
        "w",
        driver="GTiff",
        height=1,
        width=1,
        count=1,
        dtype="float32",
        transform=from_origin(LON0, LAT0, 1 / 1200, 1 / 1200),
    ) as dataset:
        dataset.write(np.ones((1, 1), dtype="float32"), 1)
    with pytest.raises(InputDataError, match=r"nocrs\.tif: the raster has no CRS; set it"):
        io.read_population(no_crs)


def test_population_points(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"cell_id": [10, 11, 12], "population": [100.0, 0.0, 50.0]},
        geometry=gpd.points_from_xy([LON0, LON0 + 0.01, LON0 + 0.02], [LAT0] * 3),
        crs=4326,
    )
    path = tmp_path / "pop.gpkg"
    frame.to_file(path, driver="GPKG")
    cells = io.read_population(path)
    assert cells["cell_id"].tolist() == [10, 12]  # unpopulated points dropped
    assert cells["population"].tolist() == [100.0, 50.0]
    assert cells.geom_type.unique().tolist() == ["Point"]
    expected = r"pop\.gpkg: missing column `people`; columns found: `cell_id`, `population`"
    with pytest.raises(InputDataError, match=expected):
        io.read_population(path, population_column="people")
    frame.assign(population=[1.0, -1.0, 2.0]).to_file(tmp_path / "neg.gpkg", driver="GPKG")
    with pytest.raises(InputDataError, match=r"column `population` has 1 negative value \(row 2\)"):
        io.read_population(tmp_path / "neg.gpkg")


def test_population_points_csv_and_gcj02_xlsx(tmp_path: Path, study_area: gpd.GeoDataFrame) -> None:
    truth = [(LON0, LAT0), (LON0 + 0.01, LAT0 + 0.005), (LON0 + 0.02, LAT0 - 0.004)]
    counts = [1200, 0, 875]
    rows = "\n".join(f"小区{i},{lon},{lat},{n}" for i, ((lon, lat), n) in enumerate(zip(truth, counts, strict=True)))
    path = write_csv(tmp_path / "pop.csv", "name,lon,lat,population\n" + rows + "\nfar,111.5,39.0,40")
    cells = io.read_population(path, study_area=study_area)
    assert cells.attrs == {"population_form": "points", "outside_study_area": 40.0}
    assert cells["population"].tolist() == [1200.0, 875.0]  # the empty point is dropped, the total kept
    assert cells.geometry.x.tolist() == pytest.approx([LON0, LON0 + 0.02])
    # an Amap (GCJ-02) table in Excel, columns 经度/纬度/人口: back on the WGS-84 truth within 0.5 m
    gcj = [prcoords.wgs_gcj((lat, lon)) for lon, lat in truth]
    table = pd.DataFrame(
        {"名称": ["A", "B", "C"], "经度": [p[1] for p in gcj], "纬度": [p[0] for p in gcj], "人口": counts}
    )
    xlsx = tmp_path / "pop_gcj02.xlsx"
    table.to_excel(xlsx, index=False)
    cells = io.read_population(xlsx, coordinate_system="gcj02", population_column="人口")
    to_metres = pyproj.Geod(ellps="WGS84")
    for point, (lon, lat) in zip(cells.geometry, [truth[0], truth[2]], strict=True):
        assert to_metres.inv(point.x, point.y, lon, lat)[2] < 0.5
    assert cells["population"].sum() == 2075.0


def test_population_points_bad_inputs(tmp_path: Path) -> None:
    no_count = write_csv(tmp_path / "nocount.csv", "name,lon,lat,households\nA,109.98,39.82,300\n")
    with pytest.raises(
        InputDataError,
        match=r"^nocount\.csv: missing column `population`; columns found: `name`, "
        r"`lon`, `lat`, `households`; name the count column with "
        r"--population-column",
    ):
        io.read_population(no_count)
    negative = write_csv(tmp_path / "neg.csv", "name,lon,lat,population\nA,109.98,39.82,300\nB,109.99,39.82,-4\n")
    with pytest.raises(InputDataError, match=r"neg\.csv: column `population` has 1 negative value \(row 3 \(B\)\)"):
        io.read_population(negative)


# Community polygons on the 100 m grid of CGCS2000 GK CM 111E (EPSG:4546), drawn in metres, stored in WGS-84.
X0, Y0 = 402_000.0, 4_408_000.0


def _community_file(tmp_path: Path, polygons: list, counts: list, *, name: str = "communities.geojson") -> Path:
    frame = gpd.GeoDataFrame(
        {"name": [f"社区{i}" for i in range(len(polygons))], "population": counts}, geometry=polygons, crs=4546
    ).to_crs(4326)
    path = tmp_path / name
    frame.to_file(path, driver="GeoJSON")
    return path


def _by_cell(cells: gpd.GeoDataFrame) -> dict[tuple[int, int], float]:
    """Population per grid cell (column, row counted from X0, Y0), from the cells' own geometry."""
    centres = cells.to_crs(4546).geometry.centroid
    cols = np.floor((centres.x.to_numpy() - X0) / 100).astype(int)
    rows = np.floor((centres.y.to_numpy() - Y0) / 100).astype(int)
    return {(c, r): p for c, r, p in zip(cols.tolist(), rows.tolist(), cells["population"].tolist(), strict=True)}


def test_population_polygons_spread_over_residential_land(tmp_path: Path) -> None:
    # community A: 300 m x 200 m, 600 people; community B: 200 m x 100 m east of it, 50 people, no housing
    a = shapely.box(X0, Y0, X0 + 300, Y0 + 200)
    b = shapely.box(X0 + 300, Y0, X0 + 500, Y0 + 100)
    path = _community_file(tmp_path, [a, b], [600, 50])
    residential = gpd.GeoDataFrame(
        {"landuse": ["residential", "residential", "residential", None], "building": [None, None, None, "apartments"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 100, Y0 + 100),  # fills cell (0, 0): 10,000 m²
            shapely.box(X0 + 200, Y0 + 100, X0 + 300, Y0 + 200),  # fills cell (2, 1): 10,000 m²
            shapely.box(X0 + 150, Y0, X0 + 250, Y0 + 50),  # 2,500 m² in cell (1, 0), 2,500 m² in cell (2, 0)
            shapely.box(X0 + 10, Y0 + 10, X0 + 60, Y0 + 60),  # a block of flats on residential land: no double count
        ],
        crs=4546,
    ).to_crs(4326)
    cells = io.read_population(path, residential=residential, grid_crs=4546)
    assert cells.attrs == {"population_form": "polygons", "population_polygons": 2, "polygons_without_residential": 1}
    # A: 25,000 m² of housing -> 600 * (10,000, 10,000, 2,500, 2,500) / 25,000; B: evenly over its two cells
    expected = {(0, 0): 240.0, (2, 1): 240.0, (1, 0): 60.0, (2, 0): 60.0, (3, 0): 25.0, (4, 0): 25.0}
    got = _by_cell(cells)
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected, abs=1e-6)
    assert cells.to_crs(4546).area.to_numpy() == pytest.approx(10_000.0)  # whole 100 m cells
    # without any residential land: evenly by area, each total kept
    even = _by_cell(io.read_population(path, grid_crs=4546))
    assert even == pytest.approx({(c, r): 100.0 for c in range(3) for r in range(2)} | {(3, 0): 25.0, (4, 0): 25.0})


def test_population_polygons_off_the_grid_keep_their_totals(tmp_path: Path) -> None:
    # a street (街道) polygon not aligned to the grid, a triangle: its count is kept to the person
    street = shapely.Polygon([(X0 + 37, Y0 + 11), (X0 + 912, Y0 + 140), (X0 + 300, Y0 + 777)])
    path = _community_file(tmp_path, [street, shapely.box(X0 - 250, Y0, X0 - 30, Y0 + 95)], [45_678, 321])
    cells = io.read_population(path, grid_crs=4546)
    assert cells["population"].sum() == pytest.approx(45_678 + 321, rel=1e-12)
    metric = cells.to_crs(4546)
    in_street = metric.geometry.centroid.x.to_numpy() > X0
    assert cells.loc[in_street, "population"].sum() == pytest.approx(45_678, rel=1e-12)
    # evenly: each cell holds the count times the share of the triangle's area inside the cell
    cell = metric.geometry.iloc[int(np.argmax(in_street))]
    share = street.intersection(cell).area / street.area
    assert cells.loc[int(np.argmax(in_street)), "population"] == pytest.approx(45_678 * share, rel=1e-6)


def test_population_polygons_bad_inputs(tmp_path: Path, study_area: gpd.GeoDataFrame) -> None:
    far = gpd.GeoSeries([shapely.box(111.5, 39.0, 111.52, 39.02)], crs=4326).to_crs(4546).iloc[0]
    inside = shapely.box(X0, Y0, X0 + 300, Y0 + 200)
    outside = _community_file(tmp_path, [inside, far], [10, 20], name="outside.geojson")
    with pytest.raises(
        InputDataError,
        match=r"^outside\.geojson: 1 of 2 population polygons lie outside the study "
        r"area \(row 2 \(社区1\)\); drop them, or check",
    ):
        io.read_population(outside, study_area=study_area, grid_crs=4546)
    negative = _community_file(tmp_path, [inside], [-5], name="negative.geojson")
    with pytest.raises(
        InputDataError,
        match=r"negative\.geojson: column `population` has 1 negative value "
        r"\(row 1 \(社区0\)\)",
    ):
        io.read_population(negative, grid_crs=4546)
    no_count = tmp_path / "nocount.geojson"
    gpd.read_file(negative).drop(columns="population").to_file(no_count, driver="GeoJSON")
    with pytest.raises(InputDataError, match=r"^nocount\.geojson: missing column `population`"):
        io.read_population(no_count, grid_crs=4546)


def test_sample_population_matches_rasterio_sum() -> None:
    path = settings.SAMPLE_DIR / "population.tif"
    if not path.exists():
        pytest.skip(f"{path} not generated yet")
    cells = io.read_population(path)
    with rasterio.open(path) as dataset:
        values = dataset.read(1, masked=True).astype(float)
        width = dataset.width
    positive = values.filled(0) > 0
    assert len(cells) == int(positive.sum())
    assert cells["population"].sum() == pytest.approx(float(values.filled(0)[positive].sum()))
    rows, cols = np.nonzero(positive)
    assert sorted(cells["cell_id"]) == sorted((rows * width + cols).tolist())


# --- boundaries ----------------------------------------------------------------------------------------


def test_read_boundaries_fills_names_and_levels(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"adcode": [150600, 150602], "name": ["鄂尔多斯市", "东胜区"]},
        geometry=[shapely.box(107, 37, 111, 40), shapely.box(109.5, 39.6, 110.3, 40.0)],
        crs=4326,
    ).to_crs(4546)
    path = tmp_path / "b.gpkg"
    frame.to_file(path, driver="GPKG")
    out = io.read_boundaries(path)
    assert out["adcode"].tolist() == ["150600", "150602"]
    assert out["name_zh"].tolist() == ["鄂尔多斯市", "东胜区"]
    assert out["name_en"].tolist() == ["鄂尔多斯市", "东胜区"]  # no English names: the Chinese ones
    assert out["level"].tolist() == ["city", "district"]
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[1].bounds == pytest.approx((109.5, 39.6, 110.3, 40.0), abs=1e-6)
    points = tmp_path / "p.geojson"
    gpd.GeoDataFrame({"adcode": ["1"]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(points)
    with pytest.raises(InputDataError, match=r"p\.geojson: boundaries must be polygons; row 1 are Point"):
        io.read_boundaries(points)


def test_boundaries_exported_in_gcj02_read_back_onto_wgs84(tmp_path: Path) -> None:
    from ordos_geo._crs import wgs84_to_gcj02

    # Dongsheng's real boundary, shifted into GCJ-02 as an Amap/DataV export holds it
    sample = io.read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    original = sample.loc[sample["adcode"] == "150602"].reset_index(drop=True)
    amap = original.copy()
    amap.geometry = shapely.transform(original.geometry.array, lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T)))
    path = tmp_path / "districts_amap.geojson"
    amap.to_file(path, driver="GeoJSON")
    geod = pyproj.Geod(ellps="WGS84")

    def largest_gap_m(frame: gpd.GeoDataFrame) -> float:
        got = shapely.get_coordinates(frame.geometry.array)
        want = shapely.get_coordinates(original.geometry.array)
        return float(geod.inv(got[:, 0], got[:, 1], want[:, 0], want[:, 1])[2].max())

    assert largest_gap_m(io.read_boundaries(path)) > 300  # taken as WGS-84: hundreds of metres off
    assert largest_gap_m(io.read_boundaries(path, coordinate_system="gcj02")) < 1.0
    with pytest.raises(InputDataError) as caught:
        io.read_boundaries(path, coordinate_system="gcj")
    assert str(caught.value) == (
        "districts_amap.geojson: unknown coordinate system 'gcj'; use one of 'wgs84', 'gcj02' (Amap), 'bd09' (Baidu)"
    )


def test_sample_boundaries() -> None:
    path = settings.SAMPLE_DIR / "boundaries.geojson"
    if not path.exists():
        pytest.skip(f"{path} not generated yet")
    out = io.read_boundaries(path)
    assert set(out["adcode"]) >= {"150602", "150603"}
    assert out.loc[out["adcode"] == "150602", "name_zh"].item() == "东胜区"
    assert out.loc[out["adcode"] == "150600", "level"].item() == "city"


# --- OSM features ----------------------------------------------------------------------------------------


def test_osm_features_from_xml(shared_data: Path) -> None:
    features = io.read_osm_features(shared_data / "west_oakland.osm.bz2", {"leisure": True, "amenity": True})
    # Counted by hand in the XML: 4 nodes and 7 ways carry a leisure or amenity tag (no relation does).
    assert len(features) == 11
    assert features["osm_type"].value_counts().to_dict() == {"way": 7, "node": 4}
    assert set(features.loc[features["leisure"].notna(), "leisure"]) == {"park", "playground"}
    assert features.crs.to_epsg() == 4326
    # and they map to facility kinds
    mapped = [_osm_tags.kind_from_osm_tags(r) for r in features[["leisure", "amenity"]].to_dict("records")]
    assert mapped.count("park") == 1 and mapped.count("playground") == 1 and mapped.count("school_venue") == 1


def test_osm_features_from_pbf(helsinki_pbf: Path) -> None:
    features = io.read_osm_features(helsinki_pbf, {"leisure": ["pitch", "sports_centre"]})
    assert len(features) > 0
    assert set(features["leisure"]) <= {"pitch", "sports_centre"}
    assert features.crs.to_epsg() == 4326
    lon, lat = features.geometry.representative_point().x, features.geometry.representative_point().y
    assert lon.between(24.8, 25.1).all() and lat.between(60.1, 60.3).all()


def test_osm_features_nothing_matches(shared_data: Path) -> None:
    features = io.read_osm_features(shared_data / "munich_small.osm", {"leisure": "stadium"})
    assert len(features) == 0 and "leisure" in features.columns


# --- raw inputs are never modified ------------------------------------------------------------------------


def test_readers_do_not_modify_inputs(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "f.csv", f"name,kind,lon,lat\nCourt,multi_sport_court,{LON0},{LAT0}\n")
    geojson = tmp_path / "f.geojson"
    facility_frame().to_file(geojson, driver="GeoJSON")
    tif = write_raster(tmp_path / "p.tif", np.array([[1.0, 2.0]], dtype="float32"))
    paths = [csv, geojson, tif]
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}
    listing = sorted(tmp_path.iterdir())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        io.read_facilities(csv, coordinate_system="gcj02")
        io.read_facilities(geojson)
        io.read_population(tif)
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths}
    assert after == before
    assert sorted(tmp_path.iterdir()) == listing  # no side files (.aux.xml, caches) either


# --- candidates and lines --------------------------------------------------------------------------------


def test_read_lines_and_candidates(tmp_path: Path) -> None:
    trail = shapely.LineString([(LON0, LAT0), (LON0 + 0.01, LAT0)])
    lines = tmp_path / "trails.gpkg"
    gpd.GeoDataFrame({"name": ["River trail"]}, geometry=[trail], crs=4326).to_crs(4546).to_file(lines)
    out = io.read_lines(lines)
    assert out.crs.to_epsg() == 4326
    assert shapely.get_coordinates(out.geometry.iloc[0]) == pytest.approx(shapely.get_coordinates(trail), abs=1e-9)
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["Site"]}, geometry=[shapely.Point(LON0, LAT0)], crs=4326).to_file(points)
    with pytest.raises(
        InputDataError,
        match=r"points\.geojson: trail lines must be LineString / MultiLineString / Polygon / MultiPolygon; "
        r"row 1 \(Site\) are Point",
    ):
        io.read_lines(points)
    sites = write_csv(tmp_path / "sites.csv", f"name,area_m2,lon,lat\nVacant lot,12000,{LON0},{LAT0}\n")
    candidates = io.read_candidates(sites, coordinate_system="gcj02")
    assert candidates["name"].tolist() == ["Vacant lot"]
    assert -0.007 < candidates.geometry.x.iloc[0] - LON0 < -0.004


def test_a_trail_drawn_as_a_polygon_is_read_as_its_outline(tmp_path: Path, caplog) -> None:
    ring = [(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.01, LAT0 + 0.01), (LON0, LAT0)]
    drawn = tmp_path / "loops.geojson"
    gpd.GeoDataFrame(
        {"name": ["环湖步道", "river"]},
        geometry=[shapely.Polygon(ring), shapely.LineString(ring[:2])],
        crs=4326,
    ).to_file(drawn)
    with caplog.at_level("WARNING", logger="ordos_geo.io.vectors"):
        lines = io.read_lines(drawn)
    assert lines.geom_type.tolist() == ["LineString", "LineString"]
    assert shapely.get_coordinates(lines.geometry.iloc[0]) == pytest.approx(np.array(ring), abs=1e-9)
    assert caplog.messages == [
        "loops.geojson: 1 trails drawn as polygons (row 1 (环湖步道)) are read as their outlines, loops; "
        "draw trails as lines"
    ]


def test_trails_given_as_a_table_of_vertices_in_gcj02(tmp_path: Path) -> None:
    """Planners keep trails as rows of points: 步道编号, 序号, 经度, 纬度 (Amap, GCJ-02), rows in any order."""
    from ordos_geo._crs import wgs84_to_gcj02

    a = [(LON0, LAT0), (LON0 + 0.01, LAT0), (LON0 + 0.01, LAT0 + 0.01)]
    b = [(LON0, LAT0 + 0.02), (LON0 + 0.02, LAT0 + 0.02)]
    lon, lat = wgs84_to_gcj02(np.array(a + b)[:, 0], np.array(a + b)[:, 1])
    keys = [("T1", "北环", 1), ("T1", "北环", 2), ("T1", "北环", 3), ("T2", "南环", 1), ("T2", "南环", 2)]
    rows = [(*key, x, y) for key, x, y in zip(keys, lon, lat, strict=True)]
    rows = [rows[2], rows[3], rows[0], rows[4], rows[1]]  # sorted by the 序号 column, not by row
    table = pd.DataFrame(rows, columns=["步道编号", "名称", "序号", "经度", "纬度"])
    table.to_excel(tmp_path / "步道.xlsx", index=False)
    lines = io.read_lines(tmp_path / "步道.xlsx", coordinate_system="gcj02")
    assert lines["步道编号"].tolist() == ["T1", "T2"] and lines["名称"].tolist() == ["北环", "南环"]
    assert shapely.get_coordinates(lines.geometry.iloc[0]) == pytest.approx(np.array(a), abs=1e-6)
    assert shapely.get_coordinates(lines.geometry.iloc[1]) == pytest.approx(np.array(b), abs=1e-6)
    table.drop(columns="步道编号").to_csv(tmp_path / "points.csv", index=False)
    with pytest.raises(InputDataError, match=r"^points\.csv: trail lines must be .* needs a `trail_id` \(步道编号\)"):
        io.read_lines(tmp_path / "points.csv")
    # the ids and names a check of them keeps (trails.gpkg, the report, the map)
    assert io.trail_labels(lines).values.tolist() == [["T1", "北环"], ["T2", "南环"]]


def test_a_table_of_vertices_keeps_only_the_columns_of_whole_trails(tmp_path: Path, caplog) -> None:
    """序号, 经度, 纬度 and a per-vertex elevation say nothing of a line; the id, name and a name given once stay."""
    table = pd.DataFrame(
        {
            "trail_id": ["T1", "T1", "T1", "T2", "T2"],
            "name": ["北环", "北环", "北环", "南环", "南环"],
            "管理单位": ["东胜区", None, None, "康巴什区", "康巴什区"],  # written on T1's first vertex only
            "宽度": [2.0, 2.0, 2.0, 3.0, 3.0],
            "序号": [1, 2, 3, 1, 2],
            "经度": [LON0, LON0 + 0.01, LON0 + 0.01, LON0, LON0],  # T2 runs north: its longitude is constant
            "纬度": [LAT0, LAT0, LAT0 + 0.01, LAT0 + 0.02, LAT0 + 0.03],
            "高程": [1300.0, 1302.0, 1301.0, 1299.0, 1299.0],
        }
    )
    table.to_csv(tmp_path / "trail_points.csv", index=False)
    with caplog.at_level("INFO", logger="ordos_geo.io.vectors"):
        lines = io.read_lines(tmp_path / "trail_points.csv")
    assert lines.drop(columns="geometry").to_dict("list") == {
        "trail_id": ["T1", "T2"],
        "name": ["北环", "南环"],
        "管理单位": ["东胜区", "康巴什区"],
        "宽度": ["2.0", "3.0"],  # a CSV's columns are read as text
    }
    assert [len(line.coords) for line in lines.geometry] == [3, 2]
    assert "per-vertex columns left out: 序号, 经度, 纬度, 高程" in caplog.text


def test_trail_labels_number_trails_without_ids_and_refuse_missing_or_repeated_ids() -> None:
    geometry = [shapely.LineString([(0, 0), (1, 0)])] * 3
    unnamed = gpd.GeoDataFrame({"status": ["a", "b", "c"]}, geometry=geometry, crs=4326)
    assert io.trail_labels(unnamed).to_dict("list") == {"trail_id": [1, 2, 3]}  # numbered from 1, no name column
    numbered = gpd.GeoDataFrame(
        {"line_id": [7.0, 8.0, 9.0], "步道名称": ["甲", "乙", "丙"]}, geometry=geometry, crs=4326
    )
    assert io.trail_labels(numbered).to_dict("list") == {"trail_id": ["7", "8", "9"], "name": ["甲", "乙", "丙"]}
    repeated = unnamed.assign(trail_id=["T1", "T2", "T1"])
    with pytest.raises(InputDataError, match=r"^d\.geojson: column `trail_id` gives the id 'T1' to rows 1, 3; give"):
        io.trail_labels(repeated, name="d.geojson")
    empty = unnamed.assign(步道编号=["T1", None, " "])
    with pytest.raises(
        InputDataError, match=r"^d\.geojson: column `步道编号` is empty in rows 2, 3; give each trail an"
    ):
        io.trail_labels(empty, name="d.geojson")


def test_candidates_with_chinese_headers_and_areas_with_units(tmp_path: Path) -> None:
    """A bureau's candidate sheet: 编号 / 名称 / 用地面积 with units; an empty area stays unknown."""
    sites = write_csv(
        tmp_path / "候选地块.csv",
        f"编号,名称,用地面积,经度,纬度\nC1,北区空地,1.2万平方米,{LON0},{LAT0}\nC2,河滨绿地,3亩,{LON0},{LAT0}\n"
        f"C3,旧厂房,,{LON0},{LAT0}\n",
    )
    candidates = io.read_candidates(sites)
    assert candidates["candidate_id"].tolist() == ["C1", "C2", "C3"]
    assert candidates["name"].tolist() == ["北区空地", "河滨绿地", "旧厂房"]
    assert candidates["area_m2"].iloc[:2].tolist() == pytest.approx([12_000.0, 2_000.0])
    assert np.isnan(candidates["area_m2"].iloc[2])
    bad = write_csv(tmp_path / "bad.csv", f"名称,用地面积,经度,纬度\n空地,2km²,{LON0},{LAT0}\n")
    with pytest.raises(InputDataError, match=r"^bad\.csv: column `area_m2` has non-numeric values \(row 2 \(空地\)\)"):
        io.read_candidates(bad)


def test_candidate_costs_and_capacities_with_units_are_read_in_yuan_and_people(tmp_path: Path) -> None:
    """造价 in 万元 or 亿元 and 服务人口 with 人 are numbers (they silently became empty); other text is one line."""
    sites = write_csv(
        tmp_path / "候选.csv",
        f'编号,名称,造价,服务人口,经度,纬度\nC1,北区,50万元,"1,200人",{LON0},{LAT0}\n'
        f"C2,南区,0.12亿元,800,{LON0},{LAT0}\nC3,西区,,,{LON0},{LAT0}\n",
    )
    candidates = io.read_candidates(sites)
    assert candidates["cost"].iloc[:2].tolist() == pytest.approx([500_000.0, 12_000_000.0])
    assert candidates["capacity"].iloc[:2].tolist() == pytest.approx([1_200.0, 800.0])
    assert np.isnan(candidates["cost"].iloc[2]) and np.isnan(candidates["capacity"].iloc[2])
    bad = write_csv(tmp_path / "bad.csv", f"名称,造价,经度,纬度\n北区,五十万,{LON0},{LAT0}\n")
    with pytest.raises(InputDataError, match=r"^bad\.csv: column `cost` has non-numeric values \(row 2 \(北区\)\)"):
        io.read_candidates(bad)


def test_trails_recorded_as_gps_tracks_are_read_from_the_gpx_file(tmp_path: Path) -> None:
    """A GPS recording (.gpx) gives its track (or route) as the trail, in WGS-84; waypoints alone are one line."""
    track = [(LON0, LAT0), (LON0 + 0.002, LAT0), (LON0 + 0.002, LAT0 + 0.001)]
    points = "".join(f'<trkpt lat="{lat}" lon="{lon}"><ele>1300</ele></trkpt>' for lon, lat in track)
    head = '<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
    waypoint = f'<wpt lat="{LAT0}" lon="{LON0}"><name>起点</name></wpt>'
    gpx = tmp_path / "河滨步道.gpx"
    gpx.write_text(f"{head}{waypoint}<trk><name>河滨步道</name><trkseg>{points}</trkseg></trk></gpx>", encoding="utf-8")
    lines = io.read_lines(gpx)
    assert len(lines) == 1 and lines["name"].tolist() == ["河滨步道"] and lines.crs.to_epsg() == 4326
    np.testing.assert_allclose(shapely.get_coordinates(lines.geometry.iloc[0]), np.array(track))
    route = tmp_path / "route.gpx"
    route_points = "".join(f'<rtept lat="{lat}" lon="{lon}"/>' for lon, lat in track)
    route.write_text(f"{head}<rte><name>r</name>{route_points}</rte></gpx>", encoding="utf-8")
    np.testing.assert_allclose(shapely.get_coordinates(io.read_lines(route).geometry.iloc[0]), np.array(track))
    only_waypoints = tmp_path / "wpt.gpx"
    only_waypoints.write_text(f"{head}{waypoint}</gpx>", encoding="utf-8")
    with pytest.raises(InputDataError, match=r"wpt\.gpx: the GPS file has no track or route"):
        io.read_lines(only_waypoints)


def test_osm_features_accept_tuple_tags(shared_data: Path) -> None:
    from types import MappingProxyType

    tags = MappingProxyType({"leisure": ("park", "playground"), "amenity": ("school",)})
    features = io.read_osm_features(shared_data / "west_oakland.osm.bz2", tags)
    assert sorted(features["leisure"].dropna()) == ["park", "playground"]
    assert features["amenity"].dropna().tolist() == ["school"]


def test_write_excel_reads_back_with_numbers_formats_widths_and_frozen_header(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    table = pd.DataFrame({"旗区": ["东胜区", "全市"], "人口": [172_273.0, np.nan], "比例": [0.5, float("inf")]})
    path = io.write_excel(
        {"分区指标": table, "a/b:c": table.head(1)},
        tmp_path / "tables.xlsx",
        number_formats={"分区指标": {"比例": "0.0%"}},
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["分区指标", "a_b_c"]
    sheet = book["分区指标"]
    assert [c.value for c in sheet[1]] == ["旗区", "人口", "比例"]
    assert [c.value for c in sheet[2]] == ["东胜区", 172_273, 0.5]
    assert isinstance(sheet["B2"].value, float | int) and sheet["C2"].number_format == "0.0%"
    assert sheet["B3"].value is None and sheet["C3"].value is None  # NaN and inf are blank, not text
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    # "东胜区" is 3 CJK characters = 6 units, plus 2; "172,273.00" is 10 + 2
    assert sheet.column_dimensions["A"].width == 8 and sheet.column_dimensions["B"].width == 12
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


# --- facilities: public access of school venues -------------------------------------------------------


def test_public_access_levels_and_open_hours(tmp_path: Path) -> None:
    path = tmp_path / "facilities.geojson"
    facility_frame(
        open_to_public=[None, None, None],
        public_access=["课后开放", "closed", None],
        open_hours=["18:00-21:00 工作日", None, "全天"],
    ).to_file(path, driver="GeoJSON")
    out = io.read_facilities(path)
    assert out["public_access"].tolist() == ["after_school", "closed", "full"]
    assert out["open_to_public"].tolist() == [True, False, True]
    assert out["open_hours"].tolist() == ["18:00-21:00 工作日", None, "全天"]
    # without the column the level follows open_to_public
    plain = tmp_path / "plain.geojson"
    facility_frame().to_file(plain, driver="GeoJSON")
    assert io.read_facilities(plain)["public_access"].tolist() == ["full", "closed", "full"]


@pytest.mark.parametrize(
    ("access", "match"),
    [
        (["sometimes", "full", "full"], "unknown access levels.*Dongsheng Stadium.*full, after_school, closed"),
        (["closed", "closed", "full"], "disagree.*Dongsheng Stadium"),
    ],
)
def test_bad_public_access_one_line(tmp_path: Path, access, match) -> None:
    path = tmp_path / "facilities.geojson"
    facility_frame(public_access=access).to_file(path, driver="GeoJSON")
    with pytest.raises(InputDataError, match=match) as info:
        io.read_facilities(path)
    assert "\n" not in str(info.value)
    assert "facilities.geojson" in str(info.value)


# --- planner targets (non-spatial figures) --------------------------------------------------------------


def test_planner_targets_read_shares_percent_and_citywide(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "targets.csv",
        """
district,indicator,value,year,source
东胜区,regular_exercise_share,38.5%,2024,survey
全市,sports_instructors_per_1000,3.5,2024,
Kangbashi,public_venues_open_share,0.9,2023,bureau
""",
    )
    table = io.read_planner_targets(path, districts=["东胜区", "Kangbashi"])
    assert table["district"].tolist() == ["东胜区", "citywide", "Kangbashi"]
    assert table["value"].tolist() == pytest.approx([0.385, 3.5, 0.9])
    assert table["year"].tolist() == [2024, 2024, 2023]
    assert table["source"].tolist() == ["survey", "", "bureau"]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("Dongsheng,sports_instructors,3.4,2024,x", r"unknown values \[.sports_instructors.\].*row 2.*use one of"),
        ("Atlantis,regular_exercise_share,0.4,2024,x", r"unknown districts \['Atlantis'\].*Dongsheng"),
        ("Dongsheng,regular_exercise_share,many,2024,x", "`value` has non-numeric values.*row 2"),
        ("Dongsheng,regular_exercise_share,38.5,2024,x", "shares outside 0-100 %.*38.5%"),
        ("Dongsheng,regular_exercise_share,0.4,soon,x", "`year` has non-numeric values"),
    ],
)
def test_bad_planner_target_rows_one_line(tmp_path: Path, row: str, match: str) -> None:
    path = write_csv(tmp_path / "targets.csv", "district,indicator,value,year,source\n" + row)
    with pytest.raises(InputDataError, match=match) as info:
        io.read_planner_targets(path, districts=["Dongsheng"])
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("targets.csv")


def test_boundaries_keep_the_share_of_residents_aged_60_plus(tmp_path: Path) -> None:
    path = tmp_path / "b.geojson"
    frame = gpd.GeoDataFrame(
        {"adcode": ["150602", "150603"], "name_zh": ["东胜区", "康巴什区"], "share_60plus": [0.1158, 0.0878]},
        geometry=[shapely.box(109.9, 39.8, 110.0, 39.9), shapely.box(109.7, 39.5, 109.8, 39.6)],
        crs=4326,
    )
    frame.to_file(path, driver="GeoJSON")
    assert io.read_boundaries(path)["share_60plus"].tolist() == pytest.approx([0.1158, 0.0878])
    frame.assign(share_60plus=[11.58, 0.0878]).to_file(path, driver="GeoJSON")
    message = r"b\.geojson: column `share_60plus` has values outside 0-1.*东胜区.*0\.1158"
    with pytest.raises(InputDataError, match=message):
        io.read_boundaries(path)


# ---------------------------------------------------------------------------
# Output sets: whole groups, the previous run's files replaced, inputs never written, one run at a time
# ---------------------------------------------------------------------------


def _output_set(folder, *, inputs=None, planned=("a.csv", "b.csv", "summary.json")):
    return io.OutputSet({"tables": folder}, inputs=inputs or {}, planned={"tables": list(planned)})


def _group(outputs, names, text):
    for name in names:
        io.write_text(text, outputs.staged("tables") / name)
    io.write_json({"run": {"files": outputs.files_with_staged()}}, outputs.staged("tables") / "summary.json")


def test_output_set_groups_appear_whole_and_replace_the_previous_run(tmp_path):
    out = tmp_path / "out"
    with _output_set(out) as outputs:
        _group(outputs, ["a.csv", "b.csv"], "first\n")
        assert not (out / "a.csv").exists()  # staged, not yet in place
        outputs.commit("one")
        assert (out / "a.csv").read_text() == (out / "b.csv").read_text() == "first\n"
    (out / "notes.txt").write_text("mine")  # a user's own file in the folder
    with _output_set(out) as outputs:
        _group(outputs, ["c.csv"], "second\n")
        outputs.commit("one")
    # the first run's a/b are gone (listed in its summary.json), the user's file is untouched
    assert sorted(p.name for p in out.iterdir()) == ["c.csv", "notes.txt", "summary.json"]
    assert json.loads((out / "summary.json").read_text())["run"]["files"] == {"tables": ["c.csv", "summary.json"]}


def test_output_set_interrupted_before_a_commit_leaves_the_previous_set(tmp_path):
    out = tmp_path / "out"
    with _output_set(out) as outputs:
        _group(outputs, ["a.csv"], "first\n")
        outputs.commit("one")
    with pytest.raises(KeyboardInterrupt), _output_set(out) as outputs:
        _group(outputs, ["a.csv", "b.csv"], "second\n")
        raise KeyboardInterrupt
    assert (out / "a.csv").read_text() == "first\n"
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "summary.json"]  # no staging, no lock left


def test_output_set_refuses_to_replace_an_input(tmp_path):
    drawn = tmp_path / "trails.gpkg"
    drawn.write_bytes(b"user's drawing")
    # its folder is refused as a whole: outputs are never written beside raw inputs
    with pytest.raises(
        OutputError, match=r"the output folder holds the input \[inputs\] proposed_trails \(trails\.gpkg\)"
    ):
        _output_set(tmp_path, inputs={"proposed_trails": drawn}, planned=["a.csv"]).__enter__()
    # an input reachable under an output's name through another folder (a link) is not replaced either
    link = tmp_path / "link"
    link.mkdir()
    (link / "trails.gpkg").symlink_to(drawn)
    with pytest.raises(OutputError, match="is also an output"):
        _output_set(link, inputs={"proposed_trails": drawn}, planned=["trails.gpkg"]).__enter__()
    assert drawn.read_bytes() == b"user's drawing"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # refused before any lock or staging


def test_output_folder_that_is_a_file_or_cannot_be_created(tmp_path):
    a_file = tmp_path / "results"
    a_file.write_text("x")
    with pytest.raises(OutputError, match=r"results: the output folder is a file; give --out a folder"):
        io.check_output_folder(a_file)
    with pytest.raises(OutputError, match=r"cannot write the output folder \(Not a directory\)"):
        io.check_output_folder(a_file / "sub")


def test_a_second_run_into_a_held_folder_refuses_and_a_stale_lock_is_taken_over(tmp_path):
    import os
    import socket
    import subprocess

    with _output_set(tmp_path), pytest.raises(OutputError, match=r"another ordos-geo run \(pid \d+ on .*\) is writing"):
        _output_set(tmp_path).__enter__()
    # a lock left by a run that has ended (its process is gone) does not block the next run
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock = tmp_path / ".ordos-geo.lock"
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": 0}))
    with _output_set(tmp_path):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_an_implausible_venue_area_is_refused(tmp_path):
    path = tmp_path / "venues.csv"
    path.write_text(f"name,kind,lon,lat,area_m2\nA,stadium,{LON0},{LAT0},1e308\nB,pitch,{LON0},{LAT0},800\n")
    with pytest.raises(InputDataError, match=r"`area_m2` has 1 implausibly large \(above 10,000,000\) value \(row 2 "):
        io.read_facilities(path)


def test_a_shapefile_without_its_companion_files_names_them(tmp_path):
    venues = gpd.GeoDataFrame({"name": ["A"], "kind": ["park"]}, geometry=[shapely.Point(109.98, 39.83)], crs=4326)
    venues.to_file(tmp_path / "venues.shp")
    (tmp_path / "venues.shx").unlink()
    (tmp_path / "venues.dbf").unlink()
    with pytest.raises(InputDataError) as error:
        io.read_facilities(tmp_path / "venues.shp")
    message = str(error.value)
    assert "venues.shx and venues.dbf are not there" in message and "GeoPackage" in message
    assert "SHAPE_RESTORE_SHX" not in message


def test_boundaries_without_a_code_column_say_what_to_add(tmp_path):
    path = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"label": ["x"]}, geometry=[shapely.box(109, 39, 110, 40)], crs=4326).to_file(path)
    with pytest.raises(InputDataError, match=r"missing column `adcode`; columns found: `label`; add a column `adcode`"):
        io.read_boundaries(path)


def test_a_group_cut_by_a_hard_kill_is_completed_then_replaced_by_the_next_run(tmp_path):
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    script = f"""
import os, sys, time
from pathlib import Path
from ordos_geo import io
import ordos_geo.io.writers as writers

real = os.replace
def slow_replace(src, dst):
    real(src, dst)
    if ".ordos-geo-staging" in str(src):
        print("moved", Path(dst).name, flush=True)
        time.sleep(60)  # killed here, after the first file of the group is in place
with io.OutputSet({{"tables": Path({str(out)!r})}}, inputs={{}}, planned={{"tables": ["a.csv", "b.csv"]}}) as outputs:
    io.write_text("old a\\n", outputs.staged("tables") / "a.csv")
    outputs.commit("first")
    io.write_text("b\\n", outputs.staged("tables") / "b.csv")
    io.write_text("new a\\n", outputs.staged("tables") / "a.csv")
    writers.os.replace = slow_replace
    outputs.commit("second")
"""
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout.readline().startswith("moved")
        child.send_signal(signal.SIGKILL)
        child.wait()
    # half a group is in place and the journal says which group it was
    assert (out / ".ordos-geo-commit.json").is_file()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["a.csv"]
    assert (out / "a.csv").read_text() == "new a\n" and (out / ".ordos-geo-staging" / "b.csv").is_file()
    # the next run into the folder first completes that group, then clears it with the earlier files
    with io.OutputSet({"tables": out}, inputs={}, planned={"tables": ["c.csv"]}) as outputs:
        assert (out / "a.csv").read_text() == "new a\n" and (out / "b.csv").read_text() == "b\n"
        assert not (out / ".ordos-geo-commit.json").exists()
        io.write_text("c\n", outputs.staged("tables") / "c.csv")
        outputs.commit("only")
    assert sorted(p.name for p in out.iterdir()) == ["c.csv"]


def test_invalid_population_polygons_are_repaired_with_a_warning(tmp_path, caplog):
    # a bow-tie ring (it crosses itself at its centre): two triangles of 0.005 x 0.01 / 4 degrees² each
    bowtie = shapely.Polygon([(109.98, 39.83), (109.99, 39.84), (109.99, 39.83), (109.98, 39.84), (109.98, 39.83)])
    square = shapely.box(110.0, 39.83, 110.01, 39.84)
    path = tmp_path / "communities.geojson"
    gpd.GeoDataFrame({"name": ["bow", "ok"], "population": [100, 50]}, geometry=[bowtie, square], crs=4326).to_file(
        path
    )
    assert not bowtie.is_valid
    with caplog.at_level(logging.WARNING, logger="ordos_geo"):
        frame = io.read_vector(path, what="population")
    assert "1 invalid polygons" in caplog.text and "bow" in caplog.text and "make_valid" in caplog.text
    repaired = frame.geometry.iloc[0]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon" and len(repaired.geoms) == 2
    assert repaired.area == pytest.approx(2 * 0.01 * 0.005 / 2)  # two triangles: base 0.01°, height 0.005°
    assert frame.geometry.iloc[1].equals(square)  # valid features untouched


def test_a_device_is_not_called_a_folder(tmp_path):
    with pytest.raises(InputDataError, match="found a device or pipe"):
        io.read_facilities("/dev/null")


def _amap_workbook(path: Path, *, second_sheet_rows: bool = False) -> Path:
    """A workbook as a bureau keeps an Amap export: a notes sheet, a merged title row, units, a district merged
    over its venues, empty rows and a total row under the table."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["本表由高德地图导出，坐标为 GCJ-02"])
    venues = book.create_sheet("体育场馆")
    venues.append(["鄂尔多斯市体育场馆清单（2024年）"])
    venues.merge_cells("A1:F1")
    venues.append(["名称", "kind", "经度", "纬度", "面积", "区县"])
    venues.append(["东胜体育场", "stadium", LON0, LAT0, "21,000㎡", "东胜区"])
    venues.append(["全民健身中心", "fitness_centre", str(LON0 + 0.01), str(LAT0), "1.2万平方米", None])
    venues.append(["社区球场", "multi_sport_court", LON0, LAT0 + 0.01, "3亩", "康巴什区"])
    venues.merge_cells("F3:F4")  # 东胜区 covers the first two venues
    venues.append([None] * 6)
    venues.append(["合计", None, None, None, "35,000㎡", None])
    if second_sheet_rows:
        other = book.create_sheet("学校")
        other.append(["名称", "kind", "lng", "lat"])
        other.append(["第一中学", "school_venue", LON0, LAT0])
    book.save(path)
    return path


def test_excel_export_with_title_row_merged_cells_units_and_total_row(tmp_path: Path) -> None:
    out = io.read_facilities(_amap_workbook(tmp_path / "场馆 清单.xlsx"))
    assert out["name"].tolist() == ["东胜体育场", "全民健身中心", "社区球场"]
    assert out["area_m2"].tolist() == pytest.approx([21_000.0, 12_000.0, 3 * 10_000 / 15])
    assert out["district"].tolist() == ["东胜区", "东胜区", "康巴什区"]
    assert out.geometry.x.tolist() == pytest.approx([LON0, LON0 + 0.01, LON0])


def test_rows_are_named_by_the_row_number_excel_shows(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["鄂尔多斯市体育场馆清单（2024年）"])  # row 1: a title
    sheet.append(["制表：体育局"])  # row 2: a note
    sheet.append(["名称", "kind", "经度", "纬度", "面积"])  # row 3: the header
    sheet.append(["东胜体育场", "stadium", LON0, LAT0, "21,000㎡"])  # row 4
    sheet.append([None] * 5)  # row 5: empty
    sheet.append(["社区球场", "multi_sport_court", LON0, LAT0, "很大"])  # row 6: what Excel shows
    sheet.append(["合计", None, None, None, "21,000㎡"])  # row 7: a total, left out
    book.save(tmp_path / "venues.xlsx")
    with pytest.raises(
        InputDataError, match=r"venues\.xlsx: column `面积` has non-numeric values \(row 6 \(社区球场\)\)"
    ):
        io.read_facilities(tmp_path / "venues.xlsx")
    # a CSV counts its header line too (row 1), as Excel shows it when opened there
    csv = write_csv(
        tmp_path / "venues.csv", f"名称,kind,经度,纬度,面积\n体育场,stadium,{LON0},{LAT0},1\n球场,pitch,{LON0},,2"
    )
    with pytest.raises(InputDataError, match=r"1 missing or non-numeric coordinates \(row 3 \(球场\)\)"):
        io.read_facilities(csv)


def test_csv_with_title_lines_above_the_header(tmp_path: Path) -> None:
    text = (
        "鄂尔多斯市体育场馆清单（2024年）,,,,\n"  # line 1: a title, as Excel saves a merged title row
        "\n"  # line 2: empty
        "名称,kind,经度,纬度,面积\n"  # line 3: the header
        f'东胜体育场,stadium,{LON0},{LAT0},"21,000㎡"\n'
        f"社区球场,multi_sport_court,{LON0 + 0.01},{LAT0},800\n"
    )
    path = tmp_path / "venues.csv"
    path.write_bytes(text.encode("gb18030"))  # saved by a Chinese Excel
    out = io.read_facilities(path)
    assert out["name"].tolist() == ["东胜体育场", "社区球场"]
    assert out["area_m2"].tolist() == pytest.approx([21_000.0, 800.0])
    assert out.geometry.x.tolist() == pytest.approx([LON0, LON0 + 0.01])
    # rows named by their line: the title, the empty line and the header counted
    semicolons = text.replace('"21,000㎡"', "21000㎡").replace(",800", ",很大").replace(",", ";")
    path.write_bytes(semicolons.encode("gb18030"))
    with pytest.raises(
        InputDataError, match=r"venues\.csv: column `面积` has non-numeric values \(row 5 \(社区球场\)\)"
    ):
        io.read_facilities(path)


def test_excel_with_several_sheets_of_venues_names_them_and_reads_the_chosen_one(tmp_path: Path) -> None:
    path = _amap_workbook(tmp_path / "book.xlsx", second_sheet_rows=True)
    with pytest.raises(
        InputDataError,
        match=r"book\.xlsx: has 2 sheets with rows \(体育场馆, 学校\); choose one: .*; to read them all \(a sheet per "
        r'district\), list the file once per sheet: extra_facilities = \[\{ path = "book\.xlsx", layer = "学校" \}\]',
    ):
        io.read_facilities(path)
    assert io.read_facilities(path, layer="学校")["kind"].tolist() == ["school_venue"]
    with pytest.raises(InputDataError, match=r"has no sheet 'venues' \(sheets: 说明, 体育场馆, 学校\)"):
        io.read_facilities(path, layer="venues")


@pytest.mark.parametrize(
    ("cell", "area"),
    [("1,200㎡", 1200.0), ("1200 m2", 1200.0), ("0.5公顷", 5000.0), ("1，200平米", 1200.0), (" 800 ", 800.0)],
)
def test_area_with_a_unit_is_read_in_square_metres(tmp_path: Path, cell: str, area: float) -> None:
    path = write_csv(tmp_path / "f.csv", f'name,kind,lon,lat,area_m2\nA,park,{LON0},{LAT0},"{cell}"')
    assert io.read_facilities(path)["area_m2"].tolist() == pytest.approx([area])


def test_area_in_another_unit_is_an_error_naming_the_units(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", f"name,kind,lon,lat,area_m2\nA,park,{LON0},{LAT0},2km²")
    with pytest.raises(
        InputDataError,
        match=r"column `area_m2` has non-numeric values \(row 2 \(A\)\); give numbers or numbers with a unit \(㎡",
    ):
        io.read_facilities(path)


def test_points_inside_the_study_area_match_the_point_geometry_test() -> None:
    """The raster reader tests cell centres on coordinates; it keeps the points the STRtree test on geometries keeps."""
    from ordos_geo.io.vectors import _inside_any, _xy_inside_any

    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]])
    islands = shapely.MultiPolygon([shapely.box(20, 0, 22, 2), shapely.box(30, 30, 31, 31)])
    parts = np.array([holed, islands], dtype=object)
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-2, 33, 4000), [0, 10, 5, 4, 21, 22, 30.5, 15]])  # corners, hole, edges
    y = np.concatenate([rng.uniform(-2, 33, 4000), [0, 5, 5, 5, 1, 2, 31, 5]])
    expected = _inside_any(parts, shapely.points(x, y))
    assert _xy_inside_any(parts, x, y).tolist() == expected.tolist()
    assert expected[-8:].tolist() == [True, True, False, True, True, True, True, False]  # boundaries count
    assert 0 < expected.sum() < len(x)


def test_kinds_in_chinese_and_amap_type_paths(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "amap.csv",
        "名称,类型,经度,纬度\n"
        f"园,体育公园,{LON0},{LAT0}\n"
        f"路径,健身路径,{LON0},{LAT0}\n"
        f"球场,体育休闲服务;运动场馆;篮球场馆,{LON0},{LAT0}\n"
        f"馆,体育休闲服务;运动场馆;综合体育馆,{LON0},{LAT0}\n"
        f"台球,体育休闲服务;运动场馆;台球厅,{LON0},{LAT0}\n",
    )
    with pytest.warns(UserWarning, match=r"amap\.csv: 1 rows have Amap/Baidu types .*\(台球厅; row 6 \(台球\)\)"):
        out = io.read_facilities(path)
    assert out["kind"].tolist() == ["sports_park", "fitness_path", "multi_sport_court", "gymnasium", "other"]


def test_unknown_chinese_kind_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", f"名称,类型,经度,纬度\n馆,冰球馆,{LON0},{LAT0}")
    with pytest.raises(InputDataError, match=r"f\.csv: column `类型` has unknown kinds '冰球馆' \(row 2 \(馆\)\)"):
        io.read_facilities(path)


def test_a_raster_filled_without_declaring_nodata_is_told_the_value(tmp_path: Path) -> None:
    fill = np.finfo("float32").min  # what ArcGIS writes in empty cells
    array = np.array([[5.0, fill], [fill, 2.0]], dtype="float32")
    path = write_raster(tmp_path / "ghsl.tif", array, nodata=None)
    with pytest.raises(
        InputDataError,
        match=r"ghsl\.tif: 2 negative population values that are not nodata, first at \(row 0, col 1\), \(row 1, "
        r"col 0\); the raster declares no nodata value and these cells all hold -3\.40282347e\+38: declare it, "
        r"e\.g\. `gdal_edit\.py -a_nodata -3\.40282347e\+38 ghsl\.tif`",
    ):
        io.read_population(path)
    with rasterio.open(path, "r+") as dataset:  # the fix the message gives, as gdal_edit.py does it
        dataset.nodata = -3.40282347e38
    assert io.read_population(path)["population"].tolist() == [5.0, 2.0]


def test_population_points_all_outside_the_study_area_name_both_extents(tmp_path: Path) -> None:
    """A study of Helsinki left with the sample's Ordos boundaries: the message shows where each lies."""
    path = write_csv(tmp_path / "hel.csv", "lon,lat,population\n24.94,60.17,50\n24.96,60.16,20\n24.95,60.165,0")
    area = gpd.GeoDataFrame(geometry=[shapely.box(109.9, 39.7, 110.0, 39.9)], crs=4326)
    with pytest.raises(
        InputDataError,
        match=r"hel\.csv: all 2 populated points \(lon 24\.940\.\.24\.960, lat 60\.160\.\.60\.170\) lie outside the "
        r"study area \(lon 109\.900\.\.110\.000, lat 39\.700\.\.39\.900\); give the boundaries of the same place",
    ):
        io.read_population(path, study_area=area)
