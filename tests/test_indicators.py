"""Indicators: per-capita area, coverage shares, five ones and scorecard against hand arithmetic."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo.indicators import (
    CITYWIDE,
    cell_districts,
    compute_indicators,
    five_ones,
    scorecard,
    scorecard_before_after,
    venue_area_m2,
)

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0


def _point(x, y):
    return shapely.Point(X0 + x, Y0 + y)


@pytest.fixture
def boundaries() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "adcode": ["1", "2", "0"],
            "name_zh": ["甲", "乙", "市"],
            "name_en": ["A", "B", "City"],
            "level": ["district", "district", "city"],
        },
        geometry=[
            shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
            shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
            shapely.box(X0, Y0, X0 + 2000, Y0 + 1000),
        ],
        crs=CRS,
    )


@pytest.fixture
def cells() -> gpd.GeoDataFrame:
    # two cells in A (100 + 300 people), two in B (200 + 400)
    return gpd.GeoDataFrame(
        {
            "cell_id": [1, 2, 3, 4],
            "population": [100.0, 300.0, 200.0, 400.0],
            "district": ["A", "A", "B", "B"],
            "covered_300m": [True, False, False, False],
            "covered_500m": [True, True, False, False],
            "covered_1000m": [True, True, True, False],
            "covered_service": [True, False, True, False],
        },
        geometry=[shapely.box(X0 + x, Y0, X0 + x + 100, Y0 + 100) for x in (100, 300, 1100, 1300)],
        crs=CRS,
    )


@pytest.fixture
def facilities() -> gpd.GeoDataFrame:
    rows = [
        # id, kind, area, open, district, geometry
        ("f1", "stadium", 20_000.0, True, "A", _point(100, 100)),
        ("f2", "park", 50_000.0, True, "A", _point(200, 100)),  # parks are not venue area
        ("f3", "school_venue", 8_000.0, True, "A", _point(300, 100)),
        ("f4", "school_venue", 6_000.0, False, "B", _point(1100, 100)),  # closed: not counted
        ("f5", "fitness_trail", np.nan, True, "B", shapely.LineString([(X0 + 1100, Y0 + 500), (X0 + 1600, Y0 + 500)])),
        ("f6", "multi_sport_court", 800.0, True, None, _point(1500, 500)),  # placed in B by the boundaries
        ("f7", "school_venue", 2_000.0, True, "B", _point(1700, 100)),
        ("f8", "fitness_centre", np.nan, True, "A", _point(500, 500)),  # area unknown
    ]
    return gpd.GeoDataFrame(
        {
            "facility_id": [r[0] for r in rows],
            "name": [f"name {r[0]}" for r in rows],
            "kind": [r[1] for r in rows],
            "area_m2": [r[2] for r in rows],
            "open_to_public": [r[3] for r in rows],
            "district": [r[4] for r in rows],
        },
        geometry=[r[5] for r in rows],
        crs=CRS,
    )


def test_venue_area_rules(facilities):
    area = venue_area_m2(facilities, trail_width_m=2.0)
    assert area.tolist() == pytest.approx([20_000.0, 0.0, 8_000.0, 0.0, 1_000.0, 800.0, 2_000.0, 0.0])


def test_indicators_by_hand(cells, facilities, boundaries):
    table = compute_indicators(cells, facilities, boundaries=boundaries).set_index("district")
    assert table.index.tolist() == ["A", "B", CITYWIDE]
    assert table["population"].tolist() == [400.0, 600.0, 1000.0]
    # A: stadium 20,000 + open school 8,000; B: trail 500 m x 2 m + court 800 + open school 2,000
    assert table["venue_area_m2"].tolist() == pytest.approx([28_000.0, 3_800.0, 31_800.0])
    assert table["per_capita_area_m2"].tolist() == pytest.approx([70.0, 3_800.0 / 600.0, 31.8])
    assert table["open_school_share"].tolist() == pytest.approx([1.0, 0.5, 2.0 / 3.0])
    assert table["share_within_300m"].tolist() == pytest.approx([0.25, 0.0, 0.1])
    assert table["share_within_500m"].tolist() == pytest.approx([1.0, 0.0, 0.4])
    assert table["share_within_1000m"].tolist() == pytest.approx([1.0, 200.0 / 600.0, 0.6])
    assert table["share_covered_service"].tolist() == pytest.approx([0.25, 200.0 / 600.0, 0.3])
    assert table["n_school_venue"].tolist() == [1, 2, 3]
    assert table["n_multi_sport_court"].tolist() == [0, 1, 1]
    assert table["n_facilities"].tolist() == [4, 4, 8]
    assert table["n_missing_area"].tolist() == [1, 0, 1]
    for kind in settings.FACILITY_KINDS:
        assert f"n_{kind}" in table.columns


def test_indicators_from_grouped_cells_equal_the_masked_sums_to_the_last_bit(facilities, boundaries):
    """Cells grouped once (``cell_districts``, shared by a study's runs) give each figure as ``values[mask].sum()``."""
    rng = np.random.default_rng(7)
    n = 3_000
    district = rng.choice(np.array(["B", "A", None], dtype=object), n)  # interleaved, some outside every district
    population = rng.gamma(2.0, 30.0, n)
    covered = rng.random(n) < 0.3
    underserved = rng.random(n) < 0.2
    cells = gpd.GeoDataFrame(
        {
            "population": population,
            "district": district,
            "covered_300m": covered,
            "underserved": underserved,
            "population_60plus": population * 0.25,
            "dist_m_park": rng.uniform(0.0, 1_000.0, n),
        }
    )
    more = pd.concat([boundaries, boundaries.iloc[[0]].assign(name_en="C")], ignore_index=True)  # C: no cells
    groups = cell_districts(cells)
    table = compute_indicators(cells, facilities, more, thresholds_m=(300,), districts=groups)
    pd.testing.assert_frame_equal(
        table, compute_indicators(cells, facilities, more, thresholds_m=(300,)), check_exact=True
    )
    table = table.set_index("district")
    assert table.index.tolist() == ["A", "B", "C", CITYWIDE]
    for name, cell in [("A", district == "A"), ("B", district == "B"), (CITYWIDE, np.ones(n, bool))]:
        people = population[cell].sum()
        assert table.loc[name, "population"] == people  # exactly, not approximately
        assert table.loc[name, "share_within_300m"] == population[cell & covered].sum() / people
        assert table.loc[name, "population_underserved"] == population[cell & underserved].sum()
        near = cell & (cells["dist_m_park"].to_numpy() <= 500.0)
        assert (
            table.loc[name, "share_60plus_within_500m"]
            == (population * 0.25)[near].sum() / (population * 0.25)[cell].sum()
        )
    assert table.loc["C", "population"] == 0.0 and table.loc["C", "population_underserved"] == 0.0
    assert math.isnan(table.loc["C", "share_within_300m"]) and math.isnan(table.loc["C", "share_60plus_within_500m"])
    with pytest.raises(InputDataError, match="cell_districts"):
        compute_indicators(cells.iloc[1:], facilities, districts=groups)


def test_indicators_without_boundaries_unplaced_facility_only_citywide(cells, facilities):
    table = compute_indicators(cells, facilities).set_index("district")
    assert table.loc["B", "venue_area_m2"] == pytest.approx(3_000.0)  # the court has no district
    assert table.loc[CITYWIDE, "venue_area_m2"] == pytest.approx(31_800.0)


def test_negative_area_is_a_clear_error(cells, facilities):
    facilities.loc[2, "area_m2"] = -5.0
    with pytest.raises(InputDataError, match="area_m2"):
        compute_indicators(cells, facilities)


def _five_ones_facilities(include_big_park=True):
    rows = [
        ("stadium", "City stadium", 20_000.0, _point(0, 0)),
        ("gymnasium", "City gym", 3_000.0, _point(10, 0)),
        ("swimming_pool", "Pool", 1_250.0, _point(20, 0)),
        ("fitness_centre", "Small centre", 1_500.0, _point(30, 0)),
        ("fitness_centre", "Big centre", 2_500.0, _point(40, 0)),
        ("sports_park", "Little park", 30_000.0, _point(50, 0)),
    ]
    if include_big_park:
        # 250 x 200 m = 5 ha, area from the polygon
        rows.append(("sports_park", "Big park", np.nan, shapely.box(X0, Y0 + 100, X0 + 250, Y0 + 300)))
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"x{i}" for i in range(len(rows))],
            "kind": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "area_m2": [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=CRS,
    )


def test_five_ones():
    table = five_ones(_five_ones_facilities()).set_index("item")
    assert table.index.tolist() == list(settings.CITY_LEVEL_FIVE_ONES)
    assert table["present"].all()
    assert table.loc["large_fitness_centre", "names"] == "Big centre"
    assert table.loc["sports_park", "names"] == "Big park"
    missing = five_ones(_five_ones_facilities(include_big_park=False)).set_index("item")
    assert not missing.loc["sports_park", "present"]
    assert missing["present"].sum() == 4


def test_five_ones_sports_park_is_measured_by_land_not_field_area():
    facilities = _five_ones_facilities(include_big_park=False)
    # a 250 x 200 m park (5 ha of land) whose sports fields cover only 2.8 ha
    big_land = shapely.box(X0, Y0, X0 + 250, Y0 + 200)
    facilities.loc[len(facilities)] = ["x9", "sports_park", "Field-area park", 28_000.0, big_land]
    # a 150 x 200 m park (3 ha of land) with an inflated field area does not qualify
    small_land = shapely.box(X0, Y0, X0 + 150, Y0 + 200)
    facilities.loc[len(facilities)] = ["x10", "sports_park", "Small land", 45_000.0, small_land]
    table = five_ones(facilities).set_index("item")
    assert table.loc["sports_park", "names"] == "Field-area park"
    # the same answer from degrees: the polygon is measured in a metric CRS
    assert five_ones(facilities.to_crs(4326)).set_index("item").loc["sports_park", "names"] == "Field-area park"


def test_scorecard(cells, facilities, boundaries):
    table = compute_indicators(cells, facilities, boundaries=boundaries)
    card = scorecard(
        table,
        _five_ones_facilities(include_big_park=False),
        new_counts={"new_sports_parks": 1, "new_fitness_trails_km": 4.5, "new_sports_health_centres": 2},
    ).set_index("key")
    # every target of the plan, then the non-spatial ones (listed even though no figure was entered)
    assert card.index.tolist() == [t.key for t in (*settings.PLAN_TARGETS, *settings.PLANNER_TARGETS)]
    # the 15-minute circle at each walk: 100 of 1,000 residents within 300 m, 400 within 500 m; the plans give
    # the 300 / 500 m tiers no figure, so they show their share with no target (not "not met" against 100 %)
    assert card.loc["fitness_circle_300m", "value"] == pytest.approx(0.1)
    assert card.loc["fitness_circle_500m", "value"] == pytest.approx(0.4)
    for tier in ("fitness_circle_300m", "fitness_circle_500m"):
        row = card.loc[tier]
        assert (row["status"], bool(row["met"]), math.isnan(row["target"]), math.isnan(row["gap"])) == (
            "no_target",
            False,
            True,
            True,
        ), tier
    assert card.loc["new_sports_health_centres", "target"] == 2
    assert card.loc["new_sports_health_centres", "status"] == "met"
    for target in settings.PLANNER_TARGETS:
        row = card.loc[target.key]
        assert math.isnan(row["value"]) and not row["met"] and row["status"] == "not_computed", target.key
    assert card.loc["per_capita_area_2025", "status"] == "met"
    assert card.loc["per_capita_area_2025", "value"] == pytest.approx(31.8)
    assert bool(card.loc["per_capita_area_2025", "met"])
    assert card.loc["per_capita_area_2025", "gap"] == 0.0
    assert card.loc["open_school_share", "value"] == pytest.approx(2 / 3)
    assert bool(card.loc["open_school_share", "met"])
    assert card.loc["fitness_circle_15min", "value"] == pytest.approx(0.6)
    assert not card.loc["fitness_circle_15min", "met"]
    assert card.loc["fitness_circle_15min", "gap"] == pytest.approx(0.4)
    assert bool(card.loc["new_sports_parks", "met"])
    assert card.loc["new_fitness_centres", "value"] == 0
    assert card.loc["new_fitness_centres", "gap"] == 3
    assert card.loc["new_fitness_trails_km", "gap"] == pytest.approx(5.5)
    assert card.loc["five_ones", "value"] == 4
    assert card.loc["five_ones", "gap"] == 1
    # district B alone misses the per-capita target
    b = scorecard(table, district="B").set_index("key")
    assert b.loc["per_capita_area_2024", "value"] == pytest.approx(3_800.0 / 600.0)
    assert math.isnan(b.loc["five_ones", "value"])
    assert not b.loc["five_ones", "met"]
    assert b.loc["five_ones", "status"] == "unknown"
    # a walk the study did not measure (thresholds_m without 1,000) is unknown, not "not met"
    no_1000 = scorecard(table.drop(columns="share_within_1000m")).set_index("key")
    assert no_1000.loc["fitness_circle_15min", "status"] == "unknown"
    assert math.isnan(no_1000.loc["fitness_circle_15min", "value"])
    no_300 = scorecard(table.drop(columns="share_within_300m")).set_index("key")
    assert no_300.loc["fitness_circle_300m", "status"] == "no_target"
    assert math.isnan(no_300.loc["fitness_circle_300m", "value"])
    assert card["met"].dtype == bool
    with pytest.raises(InputDataError, match="district"):
        scorecard(table, district="nowhere")


def test_scorecard_before_after_sets_each_target_beside_its_value_after_the_plan(cells, facilities, boundaries):
    table = compute_indicators(cells, facilities, boundaries=boundaries)
    today = scorecard(table, facilities)
    after_cells = cells.assign(covered_300m=True, covered_500m=True, covered_1000m=True)  # all within 300 m
    after = scorecard(
        compute_indicators(after_cells, facilities, boundaries=boundaries),
        facilities,
        new_counts={"new_fitness_centres": 3, "new_sports_health_centres": 1},
    )
    both = scorecard_before_after(today, after).set_index("key")
    assert both.index.tolist() == today["key"].tolist()
    assert both.loc["fitness_circle_300m", "value"] == pytest.approx(0.1)
    assert both.loc["fitness_circle_300m", "value_after"] == pytest.approx(1.0)
    assert (both.loc["fitness_circle_300m", "status"], both.loc["fitness_circle_300m", "status_after"]) == (
        "no_target",
        "no_target",
    )
    assert (both.loc["fitness_circle_15min", "status"], both.loc["fitness_circle_15min", "status_after"]) == (
        "not_met",
        "met",
    )
    assert both.loc["new_fitness_centres", "value"] == 0 and both.loc["new_fitness_centres", "status_after"] == "met"
    assert both.loc["new_sports_health_centres", "value_after"] == 1
    assert both.loc["new_sports_health_centres", "status_after"] == "not_met"
    assert both.loc["regular_exercise_share", "status_after"] == "not_computed"


def test_indicators_from_accessibility_result(facilities, boundaries):
    # end to end with the accessibility stage: one street through both districts
    import networkx as nx

    from ordos_geo.accessibility import compute_accessibility
    from ordos_geo.network import walk_network_from_graph

    graph = nx.MultiDiGraph(crs=CRS)
    graph.add_node(1, x=X0, y=Y0 + 100)
    graph.add_node(2, x=X0 + 2000, y=Y0 + 100)
    for a, b in ((1, 2), (2, 1)):
        graph.add_edge(a, b, length=2000.0, highway="footway")
    network = walk_network_from_graph(graph)
    cells = gpd.GeoDataFrame(
        {"cell_id": [1, 2], "population": [10.0, 30.0], "district": ["A", "B"]},
        geometry=[
            shapely.box(X0 + 90, Y0 + 90, X0 + 110, Y0 + 110),
            shapely.box(X0 + 1890, Y0 + 90, X0 + 1910, Y0 + 110),
        ],
        crs=CRS,
    )
    result = compute_accessibility(network, cells, facilities, service_areas_by="none")
    table = compute_indicators(result.cells, facilities, boundaries=boundaries).set_index("district")
    # cell 1 (x=100) is 0 m from the stadium; cell 2 (x=1900) is 200 m from the open school at x=1700
    assert result.cells["dist_m_any"].tolist() == pytest.approx([0.0, 200.0])
    assert table.loc[CITYWIDE, "share_within_300m"] == pytest.approx(1.0)
    assert isinstance(table, pd.DataFrame)


def test_lever_areas_and_gap_by_hand():
    from ordos_geo.indicators import area_gap, lever_areas

    point = shapely.Point(X0, Y0)
    existing = gpd.GeoDataFrame(
        {
            "kind": ["school_venue", "school_venue", "school_venue", "fitness_centre", "multi_sport_court"],
            "area_m2": [5_000.0, 7_000.0, 9_000.0, 2_500.0, 900.0],
            "open_to_public": [False, True, False, True, True],
            "district": ["A", "A", "B", "A", "B"],
        },
        geometry=[point] * 5,
        crs=CRS,
    )
    sites = pd.DataFrame(
        {
            "kind": ["fitness_centre", "multi_sport_court", "sports_park"],
            "district": ["A", "B", "A"],
            "added_venue_area_m2": [1_500.0, 800.0, 20_000.0],
            # parcels: the court's parcel (850 m²) caps it below the largest court (900 m²)
            "area_m2": [10_000.0, 850.0, 60_000.0],
        }
    )
    trails = gpd.GeoDataFrame(
        {"kind": ["fitness_trail"], "area_m2": [np.nan], "district": ["B"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 1_000, Y0)])],
        crs=CRS,
    )
    levers = lever_areas(existing, sites=sites, trails=trails, trail_width_m=2.0)
    assert levers["open_schools"] == {"A": 5_000.0, "B": 9_000.0}
    assert levers["new_sites"] == {"A": 21_500.0, "B": 800.0}
    assert levers["trails"] == {"B": 2_000.0}
    # centre: largest existing 2,500 - 1,500; court: min(900, 850) - 800; park: no existing park -> 0
    assert levers["larger_sites"] == {"A": 1_000.0, "B": 50.0}

    indicators = pd.DataFrame(
        {
            "district": ["A", "B", CITYWIDE],
            "population": [10_000.0, 2_000.0, 12_000.0],
            "venue_area_m2": [20_000.0, 10_000.0, 30_000.0],
        }
    )
    target = settings.PlanTarget("t", "per-capita", 3.4, "m2_per_capita", 2024, "plan")
    gap = area_gap(indicators, levers, targets=[target]).set_index(["district", "lever"])
    # A: 34,000 required, 14,000 missing; new sites 21,500 close it alone
    assert gap.loc[("A", "new_sites"), "missing_area_m2"] == pytest.approx(14_000.0)
    assert gap.loc[("A", "new_sites"), "share_of_gap"] == pytest.approx(21_500 / 14_000)
    assert gap.loc[("A", "new_sites"), "missing_after_m2"] == 0.0
    # B: 6,800 required < 10,000: nothing missing, shares undefined
    assert gap.loc[("B", "trails"), "missing_area_m2"] == 0.0
    assert math.isnan(gap.loc[("B", "trails"), "share_of_gap"])
    # citywide: 40,800 - 30,000 = 10,800 missing; levers in order: sites 22,300 close it
    city = gap.loc[CITYWIDE]
    assert city.loc["new_sites", "missing_area_m2"] == pytest.approx(10_800.0)
    assert city["area_added_m2"].to_dict() == pytest.approx(
        {
            "new_sites": 22_300.0,
            "trails": 2_000.0,
            "opened_schools": 0.0,
            "open_schools": 14_000.0,
            "larger_sites": 1_050.0,
        }
    )
    assert city["missing_after_m2"].tolist() == [0.0, 0.0, 0.0, 0.0, 0.0]
    # a larger target leaves a remainder after each lever, cumulatively
    big = settings.PlanTarget("t", "per-capita", 6.0, "m2_per_capita", 2025, "plan")
    city = area_gap(indicators, levers, targets=[big]).set_index(["district", "lever"]).loc[CITYWIDE]
    missing = 72_000.0 - 30_000.0
    expected = np.maximum(missing - np.cumsum([22_300.0, 2_000.0, 0.0, 14_000.0, 1_050.0]), 0)
    assert city["missing_after_m2"].to_numpy() == pytest.approx(expected)


def test_planner_targets_scored_per_district_and_weighted_citywide():
    from ordos_geo.indicators import planner_scorecard

    table = pd.DataFrame({"district": ["A", "B", CITYWIDE], "population": [100.0, 300.0, 400.0]})
    entered = pd.DataFrame(
        {
            "district": ["A", "B", "A", "A"],
            "indicator": ["sports_instructors_per_1000"] * 2 + ["regular_exercise_share"] * 2,
            "value": [3.0, 4.0, 0.30, 0.40],
            "year": [2024, 2024, 2023, 2024],
            "source": ["survey"] * 4,
        }
    )
    scored = planner_scorecard(entered, table).set_index(["district", "key"])
    # A: 3.0 against 3.4 -> gap 0.4; citywide (100 * 3.0 + 300 * 4.0) / 400 = 3.75, met
    assert scored.loc[("A", "sports_instructors_per_1000"), "gap"] == pytest.approx(0.4)
    assert not scored.loc[("A", "sports_instructors_per_1000"), "met"]
    assert scored.loc[(CITYWIDE, "sports_instructors_per_1000"), "value"] == pytest.approx(3.75)
    assert scored.loc[(CITYWIDE, "sports_instructors_per_1000"), "met"]
    # the latest year counts: A's 2024 share 0.40 >= 0.385
    assert scored.loc[("A", "regular_exercise_share"), "value"] == pytest.approx(0.40)
    assert scored.loc[("A", "regular_exercise_share"), "value_source"] == "survey"
    assert scored.loc[("A", "regular_exercise_share"), "value_year"] == 2024
    # nobody entered the open-venue share: unknown citywide, no gap
    assert math.isnan(scored.loc[(CITYWIDE, "public_venues_open_share"), "value"])
    # a citywide row given by the planner wins over the weighted mean
    own = pd.concat(
        [
            entered,
            pd.DataFrame(
                [
                    {
                        "district": CITYWIDE,
                        "indicator": "sports_instructors_per_1000",
                        "value": 3.2,
                        "year": 2024,
                        "source": "city bureau",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    scored = planner_scorecard(own, table).set_index(["district", "key"])
    assert scored.loc[(CITYWIDE, "sports_instructors_per_1000"), "gap"] == pytest.approx(0.2)


def test_scorecard_appends_the_planner_targets(cells, facilities, boundaries):
    table = compute_indicators(cells, facilities, boundaries)
    entered = pd.DataFrame(
        {
            "district": [CITYWIDE],
            "indicator": ["public_venues_open_share"],
            "value": [0.9],
            "year": [2024],
            "source": ["x"],
        }
    )
    card = scorecard(table, facilities, planner_values=entered)
    assert card["key"].tolist()[: len(settings.PLAN_TARGETS)] == [t.key for t in settings.PLAN_TARGETS]
    assert card["key"].tolist()[len(settings.PLAN_TARGETS) :] == [t.key for t in settings.PLANNER_TARGETS]
    row = card.set_index("key").loc["public_venues_open_share"]
    assert row["gap"] == pytest.approx(0.1)
    assert row["target"] == 1.0


def test_scenarios_and_older_residents_by_hand(cells, facilities, boundaries):
    from ordos_geo.accessibility import with_scenario

    # winter: only the cell at x=100 (A, 100 people) and x=1100 (B, 200) have an indoor venue within 500 m
    winter = with_scenario(cells, "winter", np.array([200.0, 900.0, 450.0, 2000.0]), thresholds_m=(500, 1000))
    older = winter.assign(
        population_60plus=[10.0, 30.0, 40.0, 40.0],
        dist_m_park=[100.0, 700.0, np.inf, np.inf],
        dist_m_fitness_path=[np.inf, np.inf, 600.0, 300.0],
        dist_m_stadium=[0.0, 0.0, 0.0, 0.0],  # not a venue suited to older residents
    )
    table = compute_indicators(older, facilities, boundaries, thresholds_m=(500, 1000)).set_index("district")
    assert table.loc["A", "share_within_500m_winter"] == pytest.approx(100 / 400)
    assert table.loc["B", "share_within_1000m_winter"] == pytest.approx(200 / 600)
    assert table.loc[CITYWIDE, "share_within_1000m_winter"] == pytest.approx(600 / 1000)
    # 60+ within 500 m of a park / fitness path: A 10 of 40, B 40 of 80, city 50 of 120
    assert table.loc["A", "share_60plus_within_500m"] == pytest.approx(10 / 40)
    assert table.loc["B", "share_60plus_within_500m"] == pytest.approx(40 / 80)
    assert table.loc[CITYWIDE, "share_60plus_within_500m"] == pytest.approx(50 / 120)
    assert table.loc[CITYWIDE, "population_60plus"] == pytest.approx(120.0)
    wider = compute_indicators(older, facilities, boundaries, age_distance_m=700).set_index("district")
    assert wider.loc["A", "share_60plus_within_700m"] == pytest.approx(1.0)
    # the winter row of the scorecard: not a plan target, the 1,000 m share with indoor venues only
    card = scorecard(compute_indicators(older, facilities, boundaries), facilities).set_index("key")
    assert card.loc["winter_indoor_1000m", "value"] == pytest.approx(0.6)
    assert card.loc["winter_indoor_1000m", "gap"] == pytest.approx(0.4)
    assert card.loc["winter_indoor_1000m", "source"] == settings.WINTER_NOTE
