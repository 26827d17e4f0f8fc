"""Property-based fuzzing of the input boundary: facility and population readers and the study file.

Every generated input ends in one of two ways: a valid result, or one :class:`OrdosGeoError` line (the CLI's
exit 2). Never another exception (a library traceback), and never a changed input file.
"""

from __future__ import annotations

import hashlib
import json
import math
import string
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordos_geo import io
from ordos_geo import settings as ordos_settings
from ordos_geo._errors import OrdosGeoError
from ordos_geo.config import StudyConfig

pytestmark = pytest.mark.filterwarnings("ignore")  # library warnings are not the property under test

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LON0, LAT0 = 109.98, 39.82

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from([0, -1, 1e30, 1e308, -0.0, 180.5, 91, LON0, LAT0]),
)
texts = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "nan", "inf", "1e999", "是", "yes", "--", ",,"]))
cell_values = st.one_of(numbers.map(repr), texts, st.sampled_from(list(ordos_settings.FACILITY_KINDS)))


def _check_one_line(error: OrdosGeoError) -> None:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text


def _read_safely(path: Path, reader) -> object | None:
    """Call ``reader(path)``: an OrdosGeoError is an accepted outcome; the input must not change."""
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = None
    try:
        result = reader(path)
    except OrdosGeoError as error:
        _check_one_line(error)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the input file was modified"
    return result


def _fresh(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix="ordos-fuzz-")) / name


@st.composite
def facility_tables(draw) -> str:
    columns = draw(
        st.lists(
            st.sampled_from(
                [
                    "name",
                    "kind",
                    "lon",
                    "lat",
                    "area_m2",
                    "open_to_public",
                    "capacity",
                    "facility_id",
                    "location",
                    "district",
                    "经度",
                    "纬度",
                ]
            ),
            min_size=0,
            max_size=7,
            unique=True,
        )
    )
    rows = draw(st.lists(st.lists(cell_values, min_size=len(columns), max_size=len(columns)), max_size=6))
    quote = lambda v: '"' + v.replace('"', '""') + '"'  # noqa: E731
    return "\n".join([",".join(columns), *(",".join(quote(v) for v in row) for row in rows)]) + "\n"


def _valid_facilities(frame) -> None:
    assert list(frame.columns) == list(io.FACILITY_COLUMNS)
    assert frame.crs.to_epsg() == 4326 and len(frame) > 0
    assert frame["facility_id"].is_unique
    assert frame["kind"].isin(ordos_settings.FACILITY_KINDS).all()
    area = frame["area_m2"].to_numpy(float)
    assert not (area[np.isfinite(area)] < 0).any() and not np.isinf(area).any()
    assert (area[np.isfinite(area)] <= ordos_settings.MAX_VENUE_AREA_M2).all()
    xy = np.array([(g.representative_point().x, g.representative_point().y) for g in frame.geometry])
    assert np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()


@FUZZ
@given(table=facility_tables(), coordinate_system=st.sampled_from(["wgs84", "gcj02", "bd09"]))
def test_facility_tables_give_a_valid_frame_or_one_line(table, coordinate_system):
    path = _fresh("venues.csv")
    path.write_text(table, encoding="utf-8")
    frame = _read_safely(path, lambda p: io.read_facilities(p, coordinate_system=coordinate_system))
    if frame is not None:
        _valid_facilities(frame)


@st.composite
def geojson_features(draw, *, properties) -> bytes:
    def feature():
        coords = st.lists(numbers, min_size=0, max_size=3)
        geometry = st.one_of(
            st.none(),
            st.builds(lambda c: {"type": "Point", "coordinates": c}, coords),
            st.builds(lambda c: {"type": "LineString", "coordinates": [c, c]}, coords),
            st.sampled_from(
                [
                    {
                        "type": "Polygon",
                        "coordinates": [[[LON0, LAT0], [LON0 + 0.001, LAT0], [LON0, LAT0 + 0.001], [LON0, LAT0]]],
                    }
                ]
            ),
        )
        return st.fixed_dictionaries({"type": st.just("Feature"), "geometry": geometry, "properties": properties})

    features = draw(st.lists(feature(), max_size=5))
    text = json.dumps({"type": "FeatureCollection", "features": features}, allow_nan=True)
    if draw(st.booleans()):  # sometimes damage the bytes too
        cut = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:cut] + draw(st.text(alphabet=string.printable, max_size=5))
    return text.encode("utf-8")


facility_properties = st.dictionaries(
    st.sampled_from(["name", "kind", "area_m2", "open_to_public", "capacity", "facility_id"]),
    st.one_of(numbers, texts, st.sampled_from(list(ordos_settings.FACILITY_KINDS)), st.none()),
)


@FUZZ
@given(data=st.one_of(geojson_features(properties=facility_properties), st.binary(max_size=200)))
def test_facility_geojson_gives_a_valid_frame_or_one_line(data):
    path = _fresh("venues.geojson")
    path.write_bytes(data)
    frame = _read_safely(path, io.read_facilities)
    if frame is not None:
        _valid_facilities(frame)


population_properties = st.dictionaries(
    st.sampled_from(["population", "cell_id", "pop"]), st.one_of(numbers, texts, st.none())
)


def _valid_cells(cells) -> None:
    assert cells.crs.to_epsg() == 4326 and len(cells) > 0
    assert cells["cell_id"].is_unique
    population = cells["population"].to_numpy(float)
    assert np.isfinite(population).all() and (population > 0).all()


@FUZZ
@given(data=st.one_of(geojson_features(properties=population_properties), st.binary(max_size=200)))
def test_population_vectors_give_valid_cells_or_one_line(data):
    path = _fresh("people.geojson")
    path.write_bytes(data)
    cells = _read_safely(path, io.read_population)
    if cells is not None:
        _valid_cells(cells)


@FUZZ
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=4, max_size=4),
    nodata=st.one_of(st.none(), st.sampled_from([-1.0, 0.0, -3.4e38, math.nan])),
    damage=st.one_of(st.none(), st.integers(min_value=0, max_value=2000)),
)
def test_population_rasters_give_valid_cells_or_one_line(values, nodata, damage):
    import rasterio
    from rasterio.transform import from_origin

    path = _fresh("people.tif")
    profile = {
        "driver": "GTiff",
        "height": 2,
        "width": 2,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(LON0, LAT0, 0.001, 0.001),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.array(values, dtype="float32").reshape(1, 2, 2))
    if damage is not None:  # a truncated or corrupt file
        data = path.read_bytes()
        path.write_bytes(data[: min(damage, len(data) - 1)])
    cells = _read_safely(path, io.read_population)
    if cells is not None:
        _valid_cells(cells)


keys = st.sampled_from(
    [
        "name",
        "language",
        "synthetic",
        "network",
        "population",
        "facilities",
        "thresholds_m",
        "max_distance_m",
        "walk_speed_kmh",
        "max_snap_distance_m",
        "area_policy",
        "enabled",
        "method",
        "budget",
        "plan",
        "budget_m",
        "min_trail_m",
        "max_trails",
        "reach_m",
        "width_m",
        "out",
        "layers",
        "treshold_m",
        "extra_facilities",
    ]
)
toml_scalars = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: "nan" if math.isnan(f) else ("inf" if f == math.inf else "-inf" if f == -math.inf else repr(f))
    ),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(alphabet=string.ascii_letters + "./_- 中", max_size=8).map(json.dumps),
)
toml_values = st.one_of(
    toml_scalars,
    st.lists(toml_scalars, max_size=4).map(lambda v: "[" + ", ".join(v) + "]"),
    st.dictionaries(st.sampled_from(["sports_park", "facilities", "path", "x"]), toml_scalars, max_size=2).map(
        lambda d: "{ " + ", ".join(f"{k} = {v}" for k, v in d.items()) + " }"
    ),
)


@st.composite
def study_files(draw) -> str:
    lines = ["[inputs]", 'network = "a.osm"', 'population = "p.tif"', 'facilities = "f.geojson"']
    for section in draw(
        st.lists(
            st.sampled_from(["study", "inputs", "accessibility", "siting", "trails", "output", "acessibility"]),
            max_size=4,
            unique=True,
        )
    ):
        if section != "inputs":
            lines.append(f"[{section}]")
        for key, value in draw(st.dictionaries(keys, toml_values, max_size=3)).items():
            if section == "inputs" and key in ("network", "population", "facilities"):
                continue
            lines.append(f"{key} = {value}")
    text = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        text += draw(st.text(max_size=20))
    return text


@FUZZ
@given(text=study_files())
def test_study_files_give_a_valid_config_or_one_line(text):
    path = _fresh("study.toml")
    path.write_text(text, encoding="utf-8")
    config = _read_safely(path, StudyConfig.from_toml)
    if config is not None:
        assert config.thresholds_m == tuple(sorted(set(config.thresholds_m))) and config.thresholds_m[0] > 0
        assert config.max_distance_m >= config.thresholds_m[-1]
        assert config.name not in (".", "..") and "/" not in config.name and "\\" not in config.name
        for value in (config.walk_speed_kmh, config.max_snap_distance_m, config.trail_budget_m, config.trail_width_m):
            assert math.isfinite(value) and value > 0
        assert all(isinstance(v, int) and v >= 0 for v in config.siting_plan.values())
        assert isinstance(config.siting_enabled, bool) and isinstance(config.trails_enabled, bool)
