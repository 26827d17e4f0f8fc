"""what_if against a full re-run with the changed facility table: same indicators, scorecard and distances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _grid_study import LAT0, LON0, STEP, write_grid_study

from ordos_geo import pipeline
from ordos_geo._errors import InputDataError
from ordos_geo.config import StudyConfig
from ordos_geo.what_if import what_if


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A 12 x 12 street grid with two districts, eight venues and two new courts sited (an after-plan stage)."""
    folder = tmp_path_factory.mktemp("what_if")
    config = StudyConfig.from_toml(write_grid_study(folder, name="wi", n=12, n_facilities=8, seed=7, siting=True))
    out = pipeline.analyse_study(pipeline.load_study(config, use_cache=False), stages=("accessibility", "siting"))
    assert out.accessibility_after is not None
    return out


def _full_rerun(results, facilities):
    """Accessibility, indicators and scorecard of a full run on ``facilities``."""
    acc = pipeline.compute_accessibility(results.study, facilities=facilities)
    return acc, pipeline.study_indicators(results.study, acc.cells, facilities)


def _assert_like_a_full_run(results, change, base_cells):
    acc, ind = _full_rerun(results, change.facilities)
    pd.testing.assert_frame_equal(change.indicators_after, ind, check_exact=False, rtol=1e-12)
    for column in [c for c in acc.cells.columns if c.startswith(("dist_m_", "covered_", "nearest_id_"))]:
        a, b = change.accessibility.cells[column].to_numpy(), acc.cells[column].to_numpy()
        if column.startswith("dist_m_"):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=0, atol=1e-9)
        else:
            assert a.tolist() == b.tolist(), column
    moved = np.zeros(len(acc.cells), dtype=bool)
    for column in {c for c in [*base_cells.columns, *acc.cells.columns] if c.startswith("dist_m_")}:
        a = base_cells[column].to_numpy(float) if column in base_cells else np.inf
        b = acc.cells[column].to_numpy(float) if column in acc.cells else np.inf
        moved |= ~np.isclose(a, b, rtol=0, atol=1e-6)
    assert sorted(change.cells["cell_id"]) == sorted(acc.cells.loc[moved, "cell_id"])


def test_the_after_plan_and_a_what_if_draw_no_service_areas(results):
    """No map shows service areas after the plan or of a what-if (most of a small study's update): none drawn."""
    assert len(results.accessibility.service_areas) > 0
    assert results.accessibility_after.service_areas.empty
    assert results.accessibility_after.parameters["service_areas_by"] == "none"
    change = what_if(results, remove=[results.study.facilities["facility_id"].iloc[0]], base="existing")
    assert change.accessibility.service_areas.empty


def test_adding_a_court_where_the_walk_is_longest(results):
    cells = results.accessibility_after.cells
    far = cells.geometry.centroid.to_crs(4326).iloc[int(cells["dist_m_any"].to_numpy().argmax())]
    change = what_if(results, add=[{"kind": "multi_sport_court", "lon": far.x, "lat": far.y, "name": "Court X"}])
    assert change.base == "plan"
    assert "Court X" in set(change.facilities["name"])
    added = change.facilities[change.facilities["name"] == "Court X"].iloc[0]
    assert added["area_m2"] == pytest.approx(800.0) and added["district"] in {"West", "East"}
    _assert_like_a_full_run(results, change, cells)
    assert len(change.cells) > 0
    after, before = change.cells["dist_m_any_after"], change.cells["dist_m_any_before"]
    assert (after <= before).all() and (after < before).sum() >= 5
    card = change.scorecard.set_index("key")
    assert card.loc["new_multi_sport_courts", "value"] == card.loc["new_multi_sport_courts", "value_before"] + 1
    assert change.indicators["change"].ne(0).all()
    assert "venue_area_m2" in set(change.indicators["indicator"])


def test_closing_and_moving_venues_like_a_full_run(results):
    cells = results.accessibility_after.cells
    planned = results.siting.new_facilities["facility_id"].iloc[0]
    existing = cells["nearest_id_any"][cells["nearest_id_any"].isin(set(results.study.facilities["facility_id"]))]
    busiest = existing.value_counts().index[0]
    row = results.facilities_after.set_index("facility_id").loc[planned]
    moved = {"facility_id": planned, "kind": row["kind"], "x": row.geometry.x + 300.0, "y": row.geometry.y}
    change = results.what_if(add=[moved], remove=[busiest, planned])
    assert busiest not in set(change.facilities["facility_id"])
    _assert_like_a_full_run(results, change, cells)
    assert change.cells["nearest_id_any_before"].eq(busiest).any()
    # moving a planned court keeps its count; closing an existing venue changes no build target
    card = change.scorecard.set_index("key")
    assert card.loc["new_multi_sport_courts", "value"] == card.loc["new_multi_sport_courts", "value_before"]


def test_what_if_on_the_existing_venues(results):
    closed = results.study.facilities["facility_id"].iloc[0]
    change = what_if(results, remove=[closed], base="existing")
    assert change.base == "existing"
    _assert_like_a_full_run(results, change, results.accessibility.cells)
    assert len(change.facilities) == len(results.study.facilities) - 1


@pytest.mark.parametrize(
    ("add", "remove", "message"),
    [
        ([{"kind": "spaceship", "lon": LON0, "lat": LAT0}], (), "unknown kind 'spaceship'"),
        (None, ["nope"], "no venue has facility_id 'nope'"),
        ([{"kind": "park", "lon": LON0 + 0.2, "lat": LAT0}], (), "from the nearest street"),
        ([{"kind": "park", "lon": LON0, "lat": LAT0, "facility_id": "wi-f1"}], (), "'wi-f1' is already taken"),
        (
            [{"kind": "park", "lon": LON0, "lat": LAT0, "facility_id": "n1"}] * 2,
            (),
            r"facility_id 'n1' is given to several new venues; give each its own id$",
        ),
        ([{"kind": "park", "where": "here"}], (), r"give each venue lon and lat.*; columns found: `kind`, `where`$"),
        ([{"kind": "park", "lon": LAT0, "lat": LON0}], (), r"venue 1 \(what_if_1\): latitude 109.9 is beyond ±90°"),
        ([{"kind": "park", "lon": None, "lat": LAT0}], (), r"venue 1 \(what_if_1\) has no coordinates \(`lon` empty"),
        ([{"kind": "park", "lon": LON0, "lat": LAT0, "area_m2": "big"}], (), r"column `area_m2` has non-numeric"),
        ([{"kind": "park", "lon": LON0, "lat": LAT0, "area_m2": -5}], (), r"add: `area_m2` is negative \(row 1"),
    ],
)
def test_mistakes_are_one_clear_line(results, add, remove, message):
    with pytest.raises(InputDataError, match=message) as caught:
        what_if(results, add=add, remove=remove)
    assert "\n" not in str(caught.value)


def test_venues_given_as_planners_write_them(results):
    """Chinese kinds, Amap type paths, 经度/纬度 columns, areas with units, one venue as a dict, nothing to add."""
    lon, lat = LON0 + 3 * STEP, LAT0 + 3 * STEP
    table = pd.DataFrame(
        {
            "名称": ["新体育公园", "新球场"],
            "kind": ["体育公园", "体育休闲服务;运动场馆;篮球场馆"],
            "经度": [lon, lon + STEP],
            "纬度": [lat, lat],
            "area_m2": ["1.2万平方米", "1,200㎡"],
        }
    )
    change = what_if(results, add=table, base="existing")
    added = change.facilities[change.facilities["facility_id"].str.startswith("what_if_")]
    assert added["kind"].tolist() == ["sports_park", "multi_sport_court"]
    assert added["area_m2"].tolist() == [12_000.0, 1_200.0]
    assert added["name"].tolist() == ["新体育公园", "新球场"]
    one = what_if(results, add={"kind": "park", "lon": lon, "lat": lat}, base="existing")
    assert len(one.facilities) == len(results.study.facilities) + 1
    nothing = what_if(results, add=[], base="existing")
    assert nothing.indicators.empty and len(nothing.facilities) == len(results.study.facilities)


def test_a_run_without_accessibility_is_refused(results):
    empty = pipeline.StudyResults(study=results.study)
    with pytest.raises(InputDataError, match="run the accessibility stage first"):
        what_if(empty, add=[{"kind": "park", "lon": LON0 + STEP, "lat": LAT0}])


def test_moving_a_venue_to_the_other_district_changes_both_districts_like_a_full_run(results):
    facilities = results.facilities_after
    counted = facilities["kind"].isin(["multi_sport_court", "pitch", "gymnasium"]) & facilities["area_m2"].gt(0)
    west = facilities[counted & facilities["district"].eq("West")].iloc[0]
    east = facilities[facilities["district"].eq("East")].iloc[0]
    moved = {"facility_id": west["facility_id"], "kind": west["kind"], "area_m2": west["area_m2"]}
    moved |= {"x": east.geometry.centroid.x + 30.0, "y": east.geometry.centroid.y}
    change = what_if(results, add=[moved], remove=[west["facility_id"]])
    assert change.facilities.set_index("facility_id").loc[west["facility_id"], "district"] == "East"
    _assert_like_a_full_run(results, change, results.accessibility_after.cells)
    area = change.indicators[change.indicators["indicator"].eq("venue_area_m2")].set_index("district")["change"]
    assert area["West"] == pytest.approx(-west["area_m2"]) and area["East"] == pytest.approx(west["area_m2"])
    assert "citywide" not in area.index  # the city's venue area is the same


def test_a_venue_just_outside_the_districts_counts_in_the_nearest_one(results):
    """As for a study's facilities: within 200 m of a district it is that district's; farther, one line."""
    near = {"kind": "park", "lon": LON0 - 2.5 * STEP, "lat": LAT0 + 3 * STEP, "name": "河对岸公园"}  # ~128 m outside
    change = what_if(results, add=[near], base="existing")
    assert change.facilities.loc[change.facilities["name"] == "河对岸公园", "district"].tolist() == ["West"]
    far = {**near, "lon": LON0 - 3.4 * STEP, "name": "远处公园"}  # ~205 m outside, ~290 m from the street
    with pytest.raises(InputDataError, match=r"venue '远处公园' lies more than 200 m outside the study's districts"):
        what_if(results, add=[far], base="existing")
