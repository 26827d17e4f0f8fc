"""The run flow: stage groups written as soon as each stage ends, skipped parts recorded, whole output sets."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from ordos_geo import _labels, cli, maps, pipeline
from ordos_geo._errors import InfeasibleError, OutputError, SolverError
from ordos_geo.config import sample_config


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "ordos_geo.cli", *args], capture_output=True, text=True, cwd=cwd, check=False, env=env
    )


@pytest.fixture(scope="module")
def results():
    """The sample with a sports park no parcel can host (1 km² minimum) beside one court, and trails."""
    config = dataclasses.replace(
        sample_config().with_overrides(
            siting_plan={"sports_park": 1, "multi_sport_court": 1},
            siting_min_land_area_m2={"sports_park": 1e6},
        ),
        proposed_trails=None,
    )
    return pipeline.analyse_study(pipeline.load_study(config), stages=("accessibility", "siting", "trails"))


@pytest.mark.slow
def test_a_type_no_candidate_can_host_is_skipped_and_the_rest_is_planned(results):
    (skip,) = results.skipped
    assert (skip["stage"], skip["part"]) == ("siting", "sports_park")
    assert "no candidate can host a sports park" in skip["reason"]
    assert "[siting] min_land_area_m2" in skip["fix"]
    assert list(results.siting.chosen["kind"]) == ["multi_sport_court"]
    assert results.before_after is not None  # the after-plan stage still ran
    # --strict turns the skipped part into a failure (exit 2), naming it
    assert cli._report_written(results, strict=False) == 0
    assert cli._report_written(results, strict=True) == 2


@pytest.mark.slow
def test_groups_written_and_a_later_run_replaces_the_whole_set(results, tmp_path):
    config = results.study.config.with_overrides(out=tmp_path)
    first = dataclasses.replace(results, study=dataclasses.replace(results.study, config=config), written={})
    pipeline.write_results(first, maps=False)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["state"] == "complete"
    assert summary["run"]["stages"] == ["accessibility", "siting", "trails", "after_plan"]
    assert summary["skipped"][0]["part"] == "sports_park"
    listed = set(summary["run"]["files"]["tables"])
    assert listed == {p.name for p in tmp_path.iterdir()}  # every file listed, nothing else, no leftovers
    assert {"sites.gpkg", "sites_multi_sport_court.csv", "trails.gpkg"} <= listed
    # a second run without siting into the same folder: no table of the first run is left beside it
    second = dataclasses.replace(first, siting=None, school_opening=None, written={})  # siting also opens schools
    pipeline.write_results(second, maps=False)
    names = {p.name for p in tmp_path.iterdir()}
    assert not {n for n in names if n.startswith("sites")}
    assert {"accessibility.gpkg", "trails.gpkg", "summary.json"} <= names


@pytest.mark.slow
def test_a_late_failure_keeps_the_earlier_groups_and_notes_where_it_stopped(results, tmp_path, monkeypatch):
    config = results.study.config.with_overrides(out=tmp_path)
    run = dataclasses.replace(results, study=dataclasses.replace(results.study, config=config), written={})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(maps, "coverage_map", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.write_results(run, maps=True)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["state"] == "stopped"
    assert summary["run"]["stopped_after"] == "after_plan"
    assert summary["run"]["reason"] == "已中断（Ctrl-C）"  # in the study's language, as the notes
    names = {p.name for p in tmp_path.iterdir()}
    assert {"accessibility.gpkg", "sites.gpkg", "trails.gpkg", "before_after.csv"} <= names
    assert not names & {"coverage.html", "index.html", "report.html", "charts"}  # no part of the maps group
    assert not [n for n in names if n.startswith(".")]  # staging and lock removed


@pytest.mark.slow
def test_a_map_with_nothing_to_show_is_skipped_and_reported(results, tmp_path):
    config = results.study.config.with_overrides(out=tmp_path, language="en")
    plan = dataclasses.replace(results.trail_plan, trails=results.trail_plan.trails.iloc[:0])
    run = dataclasses.replace(
        results, study=dataclasses.replace(results.study, config=config), trail_plan=plan, written={}, skipped=[]
    )
    pipeline.write_results(run, maps=True)
    assert not (tmp_path / "trails.html").exists()
    assert (tmp_path / "coverage.html").exists() and (tmp_path / "report.html").exists()
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert [(s["stage"], s["part"]) for s in summary["skipped"]] == [("maps", "trails.html")]
    assert summary["run"]["state"] == "complete"
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "> Warnings and skipped parts: maps: skipped trails.html: no trail was planned" in report


@pytest.mark.slow
def test_a_chinese_report_and_summary_say_the_notes_in_chinese(results, tmp_path):
    config = results.study.config.with_overrides(out=tmp_path, language="zh")
    run = dataclasses.replace(
        results, study=dataclasses.replace(results.study, config=config), written={}, skipped=list(results.skipped)
    )
    pipeline.write_results(run, maps=True)
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    # the sports park no parcel can host (see the fixture), and the residents beyond every street
    assert "> 提示与未完成部分: 选址：未完成 体育公园：没有候选用地能容纳体育公园（sports_park）：" in report
    assert "的居民（6,886 个有人口格网中的 7 个）距 walk_network.osm 的任何街道都超过 300 米" in report
    assert "no candidate can host" not in report and "of residents" not in report and "skipped" not in report
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    (skip,) = summary["skipped"]
    assert skip["reason"].startswith("没有候选用地能容纳体育公园（sports_park）：")
    assert skip["fix"].startswith("请提供更大的地块，或降低最小面积（研究文件中的 [siting] min_land_area_m2")
    (warning,) = summary["warnings"]
    assert "按不可达计" in warning and "residents" not in warning
    # the terminal's line and the results in memory stay English
    assert str(results.skipped[0]["reason"]).startswith("no candidate can host a sports park (sports_park)")


def _solver_failures():
    """Real errors of the siting and trail solvers: greedy short of sites, group minimums, HiGHS statuses."""
    import highspy
    import numpy as np
    import scipy.sparse

    from ordos_geo.siting import CombinedCoverage, MaximalCoverage
    from ordos_geo.trails import exact

    weights = np.array([10.0, 1.0, 1.0])
    cover = {
        "sports_park": scipy.sparse.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool)),
        "fitness_centre": scipy.sparse.csr_matrix(np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)),
    }
    p = {"sports_park": 1, "fitness_centre": 1}
    failures = []
    # the sports park takes site 0, the only one a fitness centre may use
    model = CombinedCoverage.from_coverages(
        weights, cover, p=p, eligible={"sports_park": [0, 1], "fitness_centre": [0]}
    )
    with pytest.raises(InfeasibleError) as caught:
        model.solve("greedy")
    failures.append(("siting", "fitness_centre", caught.value))
    with pytest.raises(InfeasibleError) as caught:
        CombinedCoverage.from_coverages(weights, cover, p=p, minimums=[(np.array([True, False]), 2)])
    failures.append(("siting", "school_opening", caught.value))
    rng = np.random.default_rng(2)
    with pytest.raises(SolverError) as caught:
        MaximalCoverage.from_coverage(rng.random(200), rng.random((30, 200)) < 0.1, p=5).solve("exact", time_limit_s=0)
    failures.append(("siting", "multi_sport_court", caught.value))
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.addVar(0.0, 1.0)
    h.addRow(-highspy.kHighsInf, -1.0, 1, np.array([0], dtype=np.int32), np.array([1.0]))  # x <= -1: infeasible
    with pytest.raises(SolverError) as caught:
        exact._run(h, highspy)
    failures.append(("trails", "trail plan", caught.value))
    return failures


@pytest.mark.slow
def test_a_chinese_run_says_solver_and_map_failures_in_chinese(results, tmp_path, monkeypatch):
    config = results.study.config.with_overrides(out=tmp_path, language="zh")
    run = dataclasses.replace(results, study=dataclasses.replace(results.study, config=config), written={}, skipped=[])
    for stage, part, error in _solver_failures():
        pipeline.stages.record_skipped_part(run, stage, part, error)
    real_trails_map = maps.trails_map
    # the trails map is drawn with nothing to show: its own check fails and the map is skipped, not the run
    monkeypatch.setattr(maps, "trails_map", lambda planned, checked, **kw: real_trails_map(None, None, **kw))
    pipeline.write_results(run, maps=True)
    said = [
        "贪心法未能放下全部选址（全民健身中心（fitness_centre）还差 1 处）：受不同候选用地数量限制",
        "minimums[0]：该组要求至少 2 处选址，但只有 1 处符合条件的候选用地；请降低该组的最少数量",
        "HiGHS 求解中止（状态：达到时间限制，已找到的最好目标值",
        "步道精确求解器（HiGHS）结束，状态：无可行解；请改用 method='heuristic'",
        "trails_map：请给出 planned 和/或 checked 步道（两者均为空）",
    ]
    english = ["greedy could not", "sites required in a group", "HiGHS stopped", "Time limit", "finished with status"]
    english += ["Infeasible", "give `planned`", "does not allow", "lower it"]
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    summary = (tmp_path / "summary.json").read_text(encoding="utf-8")
    for text in (report, summary):
        assert all(chinese in text for chinese in said)
        assert not [words for words in english if words in text]
    skipped = json.loads(summary)["skipped"]
    assert [(s["stage"], s["part"]) for s in skipped][-1] == ("maps", "trails.html")
    assert [s["fix"] for s in skipped][:2] == [
        "请改用 method='exact'（[siting] method）或放宽条件",
        "请降低该组的最少数量",
    ]
    # the terminal's line stays English
    assert str(run.skipped[0]["reason"]).startswith("greedy could not place every site (fitness_centre: 1 more)")
    # why each site ranks where it does: Chinese in the map's popups and the workbook
    sites_page = (tmp_path / "sites.html").read_text(encoding="utf-8")
    workbook = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=_labels.text("zh")["sheet_sites"])
    reasons = workbook[_labels.column("reason", "zh")]
    assert reasons.str.startswith("覆盖东胜区").any() and not reasons.str.contains("residents").any()
    assert "目前到最近的多功能运动场平均" in sites_page and "from any court" not in sites_page
    names = workbook[_labels.column("name", "zh")]  # land without an OSM name: named by its land type
    assert names.str.contains("（OSM way").any() and not names.str.contains(r"\(OSM way").any()


@pytest.mark.slow
def test_a_full_disk_leaves_the_previous_set_and_one_line(results, tmp_path):
    config = results.study.config.with_overrides(out=tmp_path)
    run = dataclasses.replace(results, study=dataclasses.replace(results.study, config=config), written={})
    pipeline.write_results(run, maps=False)
    before = {p.name: _sha(p) for p in tmp_path.iterdir()}
    # a file-size limit makes every write past 64 kB fail as on a full disk (EFBIG)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        with pytest.raises(OutputError) as caught:
            pipeline.write_results(dataclasses.replace(run, written={}), maps=False)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert "accessibility.gpkg" in str(caught.value) and "\n" not in str(caught.value)
    assert {p.name: _sha(p) for p in tmp_path.iterdir()} == before


def test_stage_lines_with_elapsed_time(caplog):
    with caplog.at_level(logging.INFO, logger="ordos_geo.progress"), pipeline.run._stage("accessibility"):
        time.sleep(0.05)
    assert caplog.messages[0] == "accessibility ..."
    assert caplog.messages[1].startswith("accessibility done in ") and caplog.messages[1].endswith(" s")
    assert float(caplog.messages[1].split()[3]) >= 0.05


def test_progress_lines_only_on_a_terminal(monkeypatch):
    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    handlers = cli._configure_logging(0)
    # warnings are held for the end of the command; progress lines go to the terminal
    assert [owner.name for owner, _ in handlers] == ["ordos_geo", "ordos_geo.progress"]
    assert isinstance(handlers[0][1], cli._HeldWarnings)
    for owner, handler in handlers:
        owner.removeHandler(handler)
    monkeypatch.undo()
    quiet = cli._configure_logging(0)  # pytest's captured stderr is not a terminal: no progress lines
    assert [(owner.name, type(handler)) for owner, handler in quiet] == [("ordos_geo", cli._HeldWarnings)]
    for owner, handler in quiet:
        owner.removeHandler(handler)


def test_inputs_are_never_outputs(tmp_path, monkeypatch, capsys):
    drawn = tmp_path / "trails.gpkg"
    drawn.write_bytes(b"a planner's drawn trails")
    before = _sha(drawn)
    result = _run_cli("trails", "check", "trails.gpkg", "--out", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"{tmp_path}: the output folder holds the input [inputs] proposed_trails (trails.gpkg)" in result.stderr
    assert _sha(drawn) == before
    # a candidates file named like the siting output, in the output folder
    parcels = tmp_path / "sites.gpkg"
    parcels.write_bytes(b"parcels")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "--candidates", "sites.gpkg", "--out", str(tmp_path)]) == 2
    assert "the output folder holds the input [inputs] candidates (sites.gpkg)" in capsys.readouterr().err
    assert parcels.read_bytes() == b"parcels"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites.gpkg", "trails.gpkg"]  # nothing else written


def test_an_output_folder_beside_the_raw_inputs_is_refused(capsys):
    from ordos_geo import settings

    raw = settings.SAMPLE_DIR.resolve()
    before = sorted(p.name for p in raw.iterdir())
    assert cli.main(["run", "--out", str(raw), "--no-maps"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert f"{raw}: the output folder holds the input [inputs] network (walk_network.osm)" in stderr
    assert "choose another --out" in stderr
    assert sorted(p.name for p in raw.iterdir()) == before  # nothing written beside the raw inputs


def test_output_and_config_paths_that_cannot_work_are_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    for args, expected in [
        (("run", "--out", "afile"), "the output folder is a file"),
        (("run", "--out", "afile/sub"), "cannot write the output folder (Not a directory)"),
        (("run", "--config", "."), "is a folder, not a study file"),
        (("run", "--name", "..", "--max-distance-m", "200"), "--name (command-line flag) must be a plain folder"),
        (("run", "--thresholds-m", "1000", "--max-distance-m", "200"), "--max-distance-m (command-line flag)"),
    ]:
        assert cli.main(list(args)) == 2, args
        stderr = capsys.readouterr().err
        assert stderr.count("\n") == 1 and expected in stderr, (args, stderr)


@pytest.mark.slow
def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "ordos_geo.cli", "run", "--out", "out"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lock = tmp_path / "out" / ".ordos-geo.lock"
    deadline = time.monotonic() + 120
    while not lock.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("ordos-geo: interrupted")
    out = tmp_path / "out"  # gone if interrupted before the first group, else finished groups only
    assert not out.exists() or not [p.name for p in out.iterdir() if p.name.startswith(".")]


def _points(path, xy, population):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"population": population}, geometry=shapely.points(xy), crs=4326)
    frame.to_file(path, driver="GeoJSON")
    return path


def _user_study(tmp_path, **overrides):
    """The sample's network and facilities with a user's own population and no boundaries."""
    return dataclasses.replace(sample_config(), boundaries=None, proposed_trails=None, synthetic=False, **overrides)


def test_a_network_of_another_city_is_refused(tmp_path):
    from ordos_geo._errors import NetworkDataError

    # residents in Baotou, 100 km from the sample network's streets in Dongsheng
    people = _points(tmp_path / "people.geojson", [(109.84, 40.66), (109.85, 40.66), (109.84, 40.67)], [100, 200, 50])
    with pytest.raises(NetworkDataError) as caught:
        pipeline.load_study(_user_study(tmp_path, population=people))
    text = str(caught.value)
    assert text.startswith("100.0% of residents (3 of 3 populated cells) are farther than 300 m")
    assert "does not cover the population (above 50%)" in text and "\n" not in text


def test_residents_off_the_network_and_facilities_elsewhere_are_reported_and_left_out(tmp_path):
    import pandas as pd

    # 300 residents beside the streets of Dongsheng, 100 in Baotou (20 % off the network)
    xy = [(109.957702, 39.829887), (109.951495, 39.825508), (109.84, 40.66)]
    people = _points(tmp_path / "people.geojson", xy, [250, 150, 100])
    venues = tmp_path / "venues.csv"
    pd.DataFrame(
        {
            "name": ["Here", "Beijing Workers' Stadium"],
            "kind": ["pitch", "stadium"],
            "lon": [109.95, 116.45],
            "lat": [39.82, 39.93],
            "area_m2": [1000, 60000],
        }
    ).to_csv(venues, index=False)
    config = _user_study(tmp_path, population=people)
    config = dataclasses.replace(config, facilities=(*config.facilities, type(config.facilities[0])(venues)))
    study = pipeline.load_study(config)
    off, outside = study.warnings
    assert off.startswith("20.0% of residents (1 of 3 populated cells) are farther than 300 m")
    assert "venues.csv: 1 facilities outside the walk network's extent are left out" in outside
    assert outside.endswith("left out: Beijing Workers' Stadium")
    assert "Beijing Workers' Stadium" not in set(study.facilities["name"])
    assert "Here" in set(study.facilities["name"])


def test_boundaries_in_gcj02_are_read_onto_the_wgs84_districts(tmp_path):
    import numpy as np
    import shapely

    from ordos_geo import io
    from ordos_geo._crs import wgs84_to_gcj02

    # the sample's districts as an Amap/DataV export holds them (GCJ-02), named so in the study
    amap = io.read_boundaries(sample_config().boundaries)
    amap.geometry = shapely.transform(amap.geometry.array, lambda xy: np.column_stack(wgs84_to_gcj02(*xy.T)))
    amap.to_file(tmp_path / "districts_amap.geojson", driver="GeoJSON")
    config = sample_config().with_overrides(boundaries=tmp_path / "districts_amap.geojson")
    wgs84 = pipeline.load_study(sample_config()).boundaries
    shifted = pipeline.load_study(config).boundaries
    read = pipeline.load_study(config.with_overrides(boundaries_coordinates="gcj02")).boundaries
    assert shifted.geometry.hausdorff_distance(wgs84.geometry).min() > 300  # metres, in the network's CRS
    assert read.geometry.hausdorff_distance(wgs84.geometry).max() < 1.0


def test_a_study_is_the_whole_city_only_with_every_district_and_residents_in_each():
    import geopandas as gpd
    import shapely

    from ordos_geo import io
    from ordos_geo.pipeline.study import Study

    boundaries = io.read_boundaries(sample_config().boundaries)  # the city and its nine banners and districts
    districts = boundaries.loc[boundaries["level"] == "district", "name_en"].tolist()
    assert len(districts) == 9

    def study(bounds, populated):
        cells = gpd.GeoDataFrame(
            {"district": districts, "population": [100.0 if d in populated else 0.0 for d in districts]},
            geometry=shapely.points([(0, 0)] * len(districts)),
        )
        return Study(config=None, network=None, cells=cells, facilities=None, boundaries=bounds)

    assert study(boundaries, districts).whole_city
    assert not study(boundaries, ["Dongsheng", "Kangbashi"]).whole_city  # the sample: parts of two
    assert not study(boundaries[boundaries["name_en"] != "Uxin"], districts).whole_city
    assert not study(None, districts).whole_city


def test_facilities_just_outside_the_districts_are_counted_in_the_nearest(tmp_path):
    import geopandas as gpd
    import pandas as pd
    import shapely

    from ordos_geo import io, settings

    # the two districts the sample covers, and venues 20 m and 1 km outside them (south of central Dongsheng)
    sample = io.read_boundaries(sample_config().boundaries)
    districts = sample[sample["name_en"].isin(["Dongsheng", "Kangbashi"])]
    districts.to_file(tmp_path / "districts.geojson", driver="GeoJSON")
    metric = districts.to_crs(4546).union_all()
    centre = gpd.GeoSeries([shapely.Point(109.99, 39.82)], crs=4326).to_crs(4546).iloc[0]
    rings = [shapely.buffer(metric, d).exterior for d in (20, 1000)]
    points = gpd.GeoSeries([ring.interpolate(ring.project(centre)) for ring in rings], crs=4546).to_crs(4326)
    pd.DataFrame(
        {"name": ["Across the line", "Far away"], "kind": "pitch", "lon": points.x, "lat": points.y, "area_m2": 900}
    ).to_csv(tmp_path / "venues.csv", index=False)
    config = sample_config().with_overrides(boundaries=tmp_path / "districts.geojson")
    config = dataclasses.replace(
        config, facilities=(*config.facilities, type(config.facilities[0])(tmp_path / "venues.csv"))
    )
    study = pipeline.load_study(config)
    facilities = study.facilities.set_index("name")
    assert facilities.loc["Across the line", "district"] == "Dongsheng"
    assert "Far away" not in facilities.index
    assert settings.FACILITY_BOUNDARY_TOLERANCE_M == 200
    near = [w for w in study.warnings if "within 200 m" in w]
    assert near == [
        "facilities.geojson, facilities_amap_gcj02.csv, venues.csv: 1 facilities lie outside the districts but within "
        "200 m of one and are counted in the nearest: Across the line (20 m) (settings.FACILITY_BOUNDARY_TOLERANCE_M)"
    ]
    assert any(
        w.endswith("1 facilities outside the study area (boundaries) are left out: Far away") for w in study.warnings
    )


def test_implausible_residents_per_hectare_are_refused(tmp_path):
    from ordos_geo._errors import InputDataError

    people = _points(tmp_path / "people.geojson", [(109.957702, 39.829887), (109.951495, 39.825508)], [120, 1e30])
    with pytest.raises(InputDataError, match=r"people\.geojson: 1 populated cells hold more than 5,000 residents per"):
        pipeline.load_study(_user_study(tmp_path, population=people))


def _older_grid(folder, name, change):
    """A GeoTIFF of residents aged 60+ built by hand from the grid study's population raster."""
    import rasterio

    from ordos_geo import io

    with rasterio.open(folder / "pop.tif") as source:
        people, profile = source.read(1), source.profile
    older, transform = change(people.astype("float64"), profile["transform"])
    profile = {"crs": profile["crs"], "transform": transform, "nodata": profile["nodata"]}
    return io.write_raster(older.astype("float32"), profile, folder / name)


def test_population_60plus_grid_is_read_cell_by_cell_before_the_census_split(tmp_path):
    import geopandas as gpd
    import numpy as np
    from _grid_study import write_grid_study
    from rasterio.transform import Affine

    from ordos_geo._errors import InputDataError
    from ordos_geo.config import StudyConfig

    config = StudyConfig.from_toml(write_grid_study(tmp_path, name="older", n=6, seed=4))
    districts = gpd.read_file(tmp_path / "districts.geojson").assign(share_60plus=0.5)  # the census split: 50 %
    districts.to_file(tmp_path / "districts.geojson", driver="GeoJSON")

    def quarter_but_first(people, transform):  # a quarter of each cell's residents, none in the first populated cell
        older = np.where(people > 0, people / 4, 0.0)
        older.flat[np.flatnonzero(people > 0)[0]] = 0.0
        return older, transform

    path = _older_grid(tmp_path, "older.tif", quarter_but_first)
    with_grid = pipeline.load_study(config.with_overrides(population_60plus=path), use_cache=False)
    cells = with_grid.cells
    first = cells["cell_id"].min()  # row * width + col: the first populated cell in reading order
    expected = np.where(cells["cell_id"] == first, 0.0, cells["population"] / 4)
    assert cells["population_60plus"].to_numpy() == pytest.approx(expected)
    # without the grid the boundaries' census share splits the residents
    census = pipeline.load_study(config, use_cache=False)
    split = census.cells
    assert split["population_60plus"].to_numpy() == pytest.approx(split["population"].to_numpy() * 0.5)
    # the report's 60+ section says where the figures came from
    assert pipeline.outputs._older_residents_key(with_grid) == "older_residents_grid"
    assert pipeline.outputs._older_residents_key(census) == "older_residents"
    for language in ("zh", "en"):
        assert (
            "grid" in _labels.TEXT[language]["older_residents_grid"]
            or "栅格" in _labels.TEXT[language]["older_residents_grid"]
        )

    def shifted(people, transform):  # the same values half a cell to the east: no cell lines up
        return people / 4, transform * Affine.translation(0.5, 0)

    with pytest.raises(
        InputDataError,
        match=r"population_60plus older_shifted\.tif: \d+ cells lie elsewhere with "
        r"the \d+ population cells; give residents aged 60\+ on the same grid",
    ):
        pipeline.load_study(
            config.with_overrides(population_60plus=_older_grid(tmp_path, "older_shifted.tif", shifted)),
            use_cache=False,
        )

    def one_too_many(people, transform):  # the first populated cell: one more resident aged 60+ than residents
        older = np.where(people > 0, people / 4, 0.0)
        older.flat[np.flatnonzero(people > 0)[0]] = people.flat[np.flatnonzero(people > 0)[0]] + 1
        return older, transform

    with pytest.raises(
        InputDataError,
        match=rf"older_over\.tif: 1 cells hold more residents aged 60\+ than "
        rf"residents, first cell ids {first} ",
    ):
        pipeline.load_study(
            config.with_overrides(population_60plus=_older_grid(tmp_path, "older_over.tif", one_too_many)),
            use_cache=False,
        )


def _haversine_m(a, b) -> float:
    """Great-circle metres (osmnx's edge lengths: earth radius 6,371,009 m)."""
    import numpy as np

    (lon1, lat1), (lon2, lat2) = np.radians(a), np.radians(b)
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * 6_371_009 * np.arcsin(np.sqrt(h)))


@pytest.mark.parametrize(
    ("indoor", "access", "nearer"),
    [
        ("yes", "after_school", True),  # an indoor school hall open in the evenings and at weekends serves in winter
        ("是", "full", True),
        ("no", "full", False),  # an outdoor ground does not
        ("", "full", False),  # unknown: not counted
        ("yes", "closed", False),  # an indoor hall closed to the public does not
        (None, "full", False),  # a table without the column: as before
    ],
)
def test_indoor_school_venues_count_in_winter(tmp_path, indoor, access, nearer):
    import dataclasses

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from _grid_study import LAT0, LON0, STEP, write_grid_study

    from ordos_geo.config import FacilitySource, StudyConfig

    config = StudyConfig.from_toml(write_grid_study(tmp_path, name="winter", n=6, seed=2))
    # 100 residents on the crossing (0, 2); a gymnasium 5 blocks east on the same street, a school hall 2 blocks east
    lat = LAT0 + 2 * STEP
    street = [(LON0 + k * STEP, lat) for k in range(6)]
    people = gpd.GeoDataFrame({"population": [100.0]}, geometry=[shapely.Point(street[0])], crs=4326)
    people.to_file(tmp_path / "people.geojson", driver="GeoJSON")
    venues = pd.DataFrame(
        {
            "name": ["Hall", "School hall"],
            "kind": ["gymnasium", "school_venue"],
            "lon": [street[5][0], street[2][0]],
            "lat": [lat, lat],
            "area_m2": [1200.0, 800.0],
            "public_access": ["full", access],
            "indoor": ["yes", indoor],
        }
    )
    if indoor is None:
        venues = venues.drop(columns="indoor")
    venues.to_csv(tmp_path / "venues.csv", index=False)
    config = dataclasses.replace(
        config.with_overrides(population=tmp_path / "people.geojson"),
        facilities=(FacilitySource(tmp_path / "venues.csv"),),
    )
    study = pipeline.load_study(config, use_cache=False)
    cells = pipeline.compute_accessibility(study).cells

    blocks = [_haversine_m(street[k], street[k + 1]) for k in range(5)]
    to_gymnasium, to_school = sum(blocks), sum(blocks[:2])  # by hand: along the street, block by block
    assert cells["dist_m_gymnasium"].iloc[0] == pytest.approx(to_gymnasium, abs=0.01)
    expected = to_school if nearer else to_gymnasium
    assert cells["dist_m_winter"].iloc[0] == pytest.approx(expected, abs=0.01)
    assert cells["covered_500m_winter"].iloc[0] == (expected <= 500)  # 2 blocks ~171 m, 5 blocks ~427 m
    assert cells["covered_300m_winter"].iloc[0] == nearer
    if nearer:  # the hall brings winter distance down by three blocks
        assert to_gymnasium - cells["dist_m_winter"].iloc[0] == pytest.approx(sum(blocks[2:]), abs=0.01)
    # the all-day figures do not change: the winter scenario only
    assert np.isfinite(cells["dist_m_any"].iloc[0])


def test_indoor_column_with_a_bad_value_is_one_line(tmp_path):
    import pandas as pd

    from ordos_geo import io
    from ordos_geo._errors import InputDataError

    pd.DataFrame(
        {
            "name": ["Hall", "School hall"],
            "kind": ["gymnasium", "school_venue"],
            "lon": [109.9, 109.901],
            "lat": [39.8, 39.8],
            "indoor": ["yes", "maybe"],
        }
    ).to_csv(tmp_path / "venues.csv", index=False)
    with pytest.raises(InputDataError) as caught:
        io.read_facilities(tmp_path / "venues.csv")
    text = str(caught.value)
    assert text.startswith("venues.csv: column `indoor` has values that are not yes/no (row 3 (School hall)); ")
    assert "\n" not in text and text.endswith("(empty means unknown)")
    # the Chinese column name and values; empty and 未知 are unknown
    table = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d", "e"],
            "kind": ["school_venue"] * 5,
            "lon": [109.9] * 5,
            "lat": [39.8] * 5,
            "室内": ["是", "否", None, "未知", "1"],
        }
    )
    table.to_csv(tmp_path / "schools.csv", index=False)
    assert io.read_facilities(tmp_path / "schools.csv")["indoor"].tolist() == [True, False, None, None, True]
    # a table without the column has none (the sample's tables, read as before)
    table.drop(columns="室内").to_csv(tmp_path / "plain.csv", index=False)
    assert "indoor" not in io.read_facilities(tmp_path / "plain.csv").columns


def test_near_network_matches_the_distance_to_every_street():
    """Points within the snap distance of a street: a node without edges does not count, 300 m is within 300 m."""
    import geopandas as gpd
    import numpy as np
    import scipy.sparse
    import shapely

    from ordos_geo.network import WalkNetwork

    node_xy = np.array([[0.0, 0.0], [1000.0, 0.0], [5000.0, 5000.0]])  # node 2 has no edge
    line = shapely.LineString(node_xy[:2])
    edges = gpd.GeoDataFrame(
        {"u": [0, 1], "v": [1, 0], "key": 0, "length": 1000.0}, geometry=[line, line.reverse()], crs="EPSG:32649"
    )
    adjacency = scipy.sparse.csr_matrix(([1000.0, 1000.0], ([0, 1], [1, 0])), shape=(3, 3))
    network = WalkNetwork(crs=edges.crs, node_ids=np.arange(3), node_xy=node_xy, edges=edges, adjacency=adjacency)
    xy = [(500, 290), (0, 299), (5000, 5100), (500, 301), (1300, 0), (-200, -200), (2000, 2000)]
    points = shapely.points(xy)
    expected = shapely.distance(points, line) <= 300
    assert expected.tolist() == [True, True, False, False, True, True, False]
    assert pipeline.study._near_network(network, points, 300.0).tolist() == expected.tolist()


@pytest.mark.parametrize("distance", [12.0, 30.0])
def test_near_network_on_a_random_grid_matches_brute_force(distance):
    """Squares, k-d tree and lines together give the distance test of every point to every street."""
    import numpy as np
    import shapely
    from _hand_graphs import X0, Y0, random_grid

    rng = np.random.default_rng(3)
    network = random_grid(rng)
    lines = network.edges.geometry.to_numpy()
    xy = np.column_stack([rng.uniform(X0 - 200, X0 + 1300, 4000), rng.uniform(Y0 - 200, Y0 + 1300, 4000)])
    points = shapely.points(xy)
    expected = shapely.distance(points[:, None], lines[None, :]).min(axis=1) <= distance
    assert 0.1 < expected.mean() < 0.9
    assert pipeline.study._near_network(network, points, distance).tolist() == expected.tolist()


def test_assign_districts_matches_a_spatial_join():
    """Strictly inside a district gets its name (a shared border or the outside none); given districts stay."""
    import geopandas as gpd
    import numpy as np
    import shapely

    boundaries = gpd.GeoDataFrame(
        {"name_en": ["A", "B", "City"], "level": ["district", "district", "city"]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10), shapely.box(0, 0, 20, 10)],
        crs="EPSG:32649",
    )
    rng = np.random.default_rng(5)
    xy = np.vstack([rng.uniform(-5, 25, (300, 2)), [[10, 5], [0, 0], [10, 10], [5, 10], [15, 5], [3, 3]]])
    features = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=boundaries.crs)
    joined = gpd.sjoin(features, boundaries.iloc[:2], how="left", predicate="within")["name_en"]
    expected = [v if isinstance(v, str) else None for v in joined.reindex(features.index)]
    assert expected[-6:] == [None, None, None, None, "B", "A"]
    assert pipeline.assign_districts(features, boundaries)["district"].tolist() == expected
    given = features.assign(district=[" ", "Z"] + [None] * (len(features) - 2))
    assigned = pipeline.assign_districts(given, boundaries)["district"].tolist()
    assert assigned[:2] == [expected[0], "Z"] and assigned[2:] == expected[2:]
    points = shapely.point_on_surface(given.geometry.to_numpy())  # at hand (the cells'): the same districts
    assert pipeline.assign_districts(given, boundaries, points=points)["district"].tolist() == assigned


def test_service_areas_are_drawn_only_when_a_map_shows_them(tmp_path, monkeypatch):
    """Without the maps stage the service-area polygons (most of the stage on a dense extract) are not drawn."""
    from _grid_study import write_grid_study

    import ordos_geo.accessibility.stage as stage

    study = write_grid_study(tmp_path / "grid", name="grid_areas", n=8, n_facilities=3)
    drawn = []
    frame = stage._service_area_frame
    monkeypatch.setattr(stage, "_service_area_frame", lambda *a, **k: drawn.append(1) or frame(*a, **k))
    lean = pipeline.run_study(study, stages=("accessibility",))
    assert drawn == [] and lean.accessibility.service_areas.empty
    full = pipeline.run_study(study, stages=("accessibility", "maps"))
    areas = full.accessibility.service_areas
    assert drawn == [1] and len(areas) == 3 * len(lean.study.config.thresholds_m)
    # the cells are the same either way
    pd.testing.assert_frame_equal(
        pd.DataFrame(full.accessibility.cells.drop(columns="geometry")),
        pd.DataFrame(lean.accessibility.cells.drop(columns="geometry")),
    )


def test_a_studys_cell_districts_follow_the_cells_it_holds():
    """The grouping is made once for the study's cells, and again when another table is assigned."""
    import geopandas as gpd
    import shapely

    from ordos_geo.pipeline.study import Study

    def cells(districts):
        return gpd.GeoDataFrame(
            {"district": districts, "population": 1.0}, geometry=shapely.points([(0, 0)] * len(districts))
        )

    study = Study(config=None, network=None, cells=cells(["a", "b", "a"]), facilities=None, boundaries=None)
    first = study.cell_districts
    assert study.cell_districts is first and first.names == ["a", "b"] and first.codes.tolist() == [0, 1, 0]
    study.cells = cells(["c", "c", "d"])
    assert study.cell_districts.names == ["c", "d"] and study.cell_districts.codes.tolist() == [0, 0, 1]
