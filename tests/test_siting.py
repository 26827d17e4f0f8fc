"""Siting: exact MCLP vs brute force, greedy gaps, locks, budget, capacity, errors, network coverage."""

from __future__ import annotations

import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import shapely

from ordos_geo import _labels, io, siting
from ordos_geo._errors import InfeasibleError, InputDataError, SolverError
from ordos_geo.network import walk_network_from_graph
from ordos_geo.siting import CombinedCoverage, MaximalCoverage, SitingRule

CRS = "EPSG:32649"  # UTM 49N, the zone of Ordos
X0, Y0 = 500_000.0, 4_400_000.0


# ---------------------------------------------------------------------------
# helpers: brute force references
# ---------------------------------------------------------------------------


def brute_force(weights, dense, p, *, allowed=None, costs=None, budget=None, locked=None):
    """Best newly covered weight over all p-subsets (independent reference)."""
    n = dense.shape[0]
    allowed = range(n) if allowed is None else allowed
    w = np.where(locked, 0.0, weights) if locked is not None else weights
    best, best_sets = -1.0, []
    for combo in itertools.combinations(allowed, p):
        if budget is not None and sum(costs[j] for j in combo) > budget + 1e-9:
            continue
        value = float(w[dense[list(combo)].any(axis=0)].sum())
        if value > best + 1e-9:
            best, best_sets = value, [combo]
        elif abs(value - best) <= 1e-9:
            best_sets.append(combo)
    return best, best_sets


def random_instance(seed, n_cand=8, n_demand=25, density=0.25):
    rng = np.random.default_rng(seed)
    dense = rng.random((n_cand, n_demand)) < density
    weights = rng.integers(1, 50, n_demand).astype(float)
    return weights, dense


# ---------------------------------------------------------------------------
# exact == brute force; greedy gaps
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_exact_equals_brute_force_and_greedy_gap_is_reported(seed, p):
    weights, dense = random_instance(seed)
    best, best_sets = brute_force(weights, dense, p)
    exact = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=p).solve("exact")
    assert exact.objective_value == pytest.approx(best)
    assert tuple(sorted(exact.selected_sites.tolist())) in best_sets
    assert exact.status == "Optimal"
    # the greedy run inside exact: its value is a real p-subset value, below the optimum
    assert exact.greedy_objective <= best + 1e-9
    assert exact.gap_abs == pytest.approx(best - exact.greedy_objective)
    assert exact.gap_abs >= 0
    greedy = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=p).solve("greedy")
    chosen = greedy.selected_sites.tolist()
    assert len(set(chosen)) == p
    assert greedy.objective_value == pytest.approx(weights[dense[chosen].any(axis=0)].sum())
    assert greedy.objective_value == pytest.approx(exact.greedy_objective)
    assert greedy.upper_bound >= best - 1e-9  # the online bound is a valid bound
    # marginal gains add up to the objective
    assert exact.marginal_gains["sites"].sum() == pytest.approx(best)


def test_greedy_strictly_suboptimal_and_exact_finds_optimum():
    # demand a=3, b=3, c=2, d=2; candidate 0 covers {a, b}, 1 covers {a, c}, 2 covers {b, d}
    weights = np.array([3.0, 3.0, 2.0, 2.0])
    dense = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], dtype=bool)
    model = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=2).solve("exact")
    assert sorted(model.selected_sites.tolist()) == [1, 2]
    assert model.objective_value == pytest.approx(10.0)  # 3 + 2 + 3 + 2
    assert model.greedy_objective == pytest.approx(8.0)  # greedy takes 0 (6), then 1 or 2 (+2)
    assert model.gap_abs == pytest.approx(2.0)
    assert model.gap_rel == pytest.approx(0.2)
    greedy = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=2).solve("greedy", lp_bound=True)
    assert greedy.selected_sites.tolist() == [0, 1]  # tie between 1 and 2 goes to the lower position
    assert greedy.lp_bound >= 10.0 - 1e-9
    assert greedy.upper_bound >= 10.0 - 1e-9


@pytest.mark.parametrize("method", ["greedy", "exact"])
def test_solved_values_are_python_floats_whichever_the_method(method):
    """objective_value and the other values read the same type after greedy and exact (greedy's were numpy)."""
    weights = np.array([3.0, 3.0, 2.0, 2.0])
    dense = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], dtype=bool)
    model = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=2).solve(method)
    values = {
        "objective_value": model.objective_value,
        "greedy_objective": model.greedy_objective,
        "upper_bound": model.upper_bound,
        **{f"gain {site}": gain for _, site, gain in model.pick_order},
    }
    if method == "exact":
        values |= {"exact_objective": model.exact_objective, "gap_abs": model.gap_abs, "gap_rel": model.gap_rel}
    assert {name: type(value) for name, value in values.items()} == dict.fromkeys(values, float)
    assert model.objective_value == (10.0 if method == "exact" else 8.0)  # 3 + 2 + 3 + 2, greedy 6 + 2


def test_deterministic_tie_breaking():
    # four identical candidates and two identical pairs: ties everywhere
    dense = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]], dtype=bool)
    weights = np.ones(4)
    runs = [
        MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=2).solve(m).selected_sites.tolist()
        for m in ("greedy", "greedy", "exact", "exact")
    ]
    assert runs[0] == runs[1] == [0, 2]
    assert runs[2] == runs[3]
    assert sorted(runs[2]) in ([0, 2], [0, 3], [1, 2], [1, 3])


# ---------------------------------------------------------------------------
# locked facilities, budget, capacity
# ---------------------------------------------------------------------------


def test_locked_candidates_are_never_chosen_and_their_coverage_is_not_new():
    weights, dense = random_instance(3, n_cand=7, n_demand=20, density=0.35)
    standalone = (dense * weights).sum(axis=1)
    best_site = int(np.argmax(standalone))  # the most attractive site is an existing facility
    locked_demand = dense[best_site]
    others = [j for j in range(7) if j != best_site]
    best, _ = brute_force(weights, dense, 2, allowed=others, locked=locked_demand)
    for method in ("exact", "greedy"):
        model = MaximalCoverage.from_coverage(
            weights, scipy.sparse.csr_matrix(dense), p=2, locked_candidates=[best_site]
        ).solve(method)
        assert best_site not in model.selected_sites.tolist()
        value = weights[dense[model.selected_sites].any(axis=0) & ~locked_demand].sum()
        assert model.objective_value == pytest.approx(value)
        assert not model.covered_share[locked_demand].any()
    assert model.layers[0].locked_weight == pytest.approx(weights[locked_demand].sum())
    exact = MaximalCoverage.from_coverage(weights, scipy.sparse.csr_matrix(dense), p=2, locked_candidates=[best_site])
    assert exact.solve("exact").objective_value == pytest.approx(best)


def test_locked_coverage_mask_counts_zero():
    weights = np.array([100.0, 1.0, 1.0])
    dense = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)
    model = MaximalCoverage.from_coverage(weights, dense, p=1, locked_coverage=np.array([True, False, False]))
    model.solve("exact")
    assert model.selected_sites.tolist() == [1]
    assert model.objective_value == pytest.approx(2.0)


def test_budget_respected_and_equals_brute_force():
    weights, dense = random_instance(5, n_cand=8, n_demand=30, density=0.3)
    costs = np.array([5.0, 1.0, 2.0, 7.0, 3.0, 1.0, 4.0, 2.0])
    budget = 6.0
    best, _ = brute_force(weights, dense, 3, costs=costs, budget=budget)
    for method in ("exact", "greedy"):
        model = MaximalCoverage.from_coverage(weights, dense, p=3, budget=budget, costs=costs).solve(method)
        assert costs[model.selected_sites].sum() <= budget + 1e-9
        assert len(model.selected_sites) == 3
        if method == "exact":
            assert model.objective_value == pytest.approx(best)
        else:
            assert model.objective_value <= best + 1e-9


def test_budget_too_small_raises_with_cheapest_cost():
    weights, dense = random_instance(5, n_cand=4, n_demand=10)
    costs = np.array([5.0, 4.0, 3.0, 6.0])
    with pytest.raises(InfeasibleError, match=r"cheapest eligible sites alone cost 7\.00") as caught:
        MaximalCoverage.from_coverage(weights, dense, p=2, budget=6.0, costs=costs)
    # said in Chinese in a zh report
    assert _labels.said(caught.value, "zh") == (
        "预算 6.00 不足以实施方案：最便宜的符合条件用地合计已需 7.00（sites: 2）；请提高预算或减少数量"
    )


def test_capacity_respected_exact_beats_greedy():
    # three demand points of 10; site 0 covers all with capacity 15, site 1 covers d0 (cap 100), site 2 d2 (cap 4)
    weights = np.array([10.0, 10.0, 10.0])
    dense = np.array([[1, 1, 1], [1, 0, 0], [0, 0, 1]], dtype=bool)
    capacity = np.array([15.0, 100.0, 4.0])
    one = MaximalCoverage.from_coverage(weights, dense, p=1, capacity=capacity).solve("exact")
    assert one.selected_sites.tolist() == [0]
    assert one.objective_value == pytest.approx(15.0)  # capped, not 30
    two = MaximalCoverage.from_coverage(weights, dense, p=2, capacity=capacity).solve("exact")
    # {0,1}: site 1 serves d0 (10), site 0 serves 15 of d1+d2 -> 25; {0,2}: 4 + 15 = 19; {1,2}: 14
    assert sorted(two.selected_sites.tolist()) == [0, 1]
    assert two.objective_value == pytest.approx(25.0)
    assert two.objective_value <= capacity[two.selected_sites].sum() + 1e-9
    # greedy takes site 0 first and spreads its 15 over all three points, leaving only 5 for site 1
    assert two.greedy_objective == pytest.approx(20.0)
    assert two.gap_abs == pytest.approx(5.0)
    greedy = MaximalCoverage.from_coverage(weights, dense, p=2, capacity=capacity).solve("greedy")
    assert greedy.upper_bound >= 25.0 - 1e-9  # LP bound used with capacities


# ---------------------------------------------------------------------------
# combined plan
# ---------------------------------------------------------------------------


def test_combined_plan_one_facility_per_site_equals_brute_force():
    rng = np.random.default_rng(11)
    n_cand, n_demand = 6, 20
    weights = rng.integers(1, 30, n_demand).astype(float)
    small = rng.random((n_cand, n_demand)) < 0.2  # court radius
    large = small | (rng.random((n_cand, n_demand)) < 0.3)  # centre radius covers more
    p = {"court": 2, "centre": 2}
    model = CombinedCoverage.from_coverages(weights, {"court": small, "centre": large}, p=p).solve("exact")
    best = -1.0
    for courts in itertools.combinations(range(n_cand), 2):
        rest = [j for j in range(n_cand) if j not in courts]
        for centres in itertools.combinations(rest, 2):
            value = weights[small[list(courts)].any(axis=0)].sum() + weights[large[list(centres)].any(axis=0)].sum()
            best = max(best, value)
    assert model.objective_value == pytest.approx(best)
    chosen = model.selected["court"].tolist() + model.selected["centre"].tolist()
    assert len(set(chosen)) == 4  # no site hosts two new facilities
    assert model.greedy_objective <= best + 1e-9
    assert model.upper_bound >= best - 1e-9


def test_p_larger_than_eligible_candidates_raises():
    weights, dense = random_instance(1, n_cand=5, n_demand=10)
    eligible = np.array([True, True, False, True, False])
    with pytest.raises(
        InfeasibleError, match=r"p=4 sites requested but only 3 of 5 candidates are eligible \(2 small\)"
    ) as caught:
        MaximalCoverage.from_coverage(weights, dense, p=4, eligible=eligible, excluded="2 small")
    assert _labels.said(caught.value, "zh").startswith(
        "sites：需要 4 处选址，但 5 处候选用地中只有 3 处符合条件（2 small）"
    )
    with pytest.raises(InfeasibleError, match="needs 5 sites but only 4 distinct candidates") as caught:
        CombinedCoverage.from_coverages(weights, {"a": dense[:4], "b": dense[:4]}, p={"a": 3, "b": 2})
    assert _labels.said(caught.value, "zh").startswith("方案需要 5 处选址，但符合任一类型条件的候选用地只有 4 处")


def test_empty_inputs_raise():
    with pytest.raises(InfeasibleError, match="demand_weights is empty"):
        MaximalCoverage.from_coverage(np.zeros(0), scipy.sparse.csr_matrix((3, 0)), p=1)
    with pytest.raises(InfeasibleError, match="no candidate sites"):
        MaximalCoverage.from_coverage(np.ones(3), scipy.sparse.csr_matrix((0, 3)), p=1)
    with pytest.raises(InputDataError, match="method must be"):
        MaximalCoverage.from_coverage(np.ones(2), np.eye(2, dtype=bool), p=1).solve("magic")


def test_solver_status_other_than_optimal_raises_solver_error():
    weights, dense = random_instance(2, n_cand=30, n_demand=200, density=0.1)
    model = MaximalCoverage.from_coverage(weights, dense, p=5)
    with pytest.raises(SolverError, match="HiGHS stopped with status 'Time limit reached'"):
        model.solve("exact", time_limit_s=0.0)


# ---------------------------------------------------------------------------
# rules and candidates
# ---------------------------------------------------------------------------


def test_rule_table_and_aliases():
    rules = siting.DEFAULT_RULES
    assert rules["sports_park"].min_land_area_m2 == 40_000.0
    assert rules["sports_park"].service_distance_m == 1_500.0
    assert not rules["sports_park"].unknown_area_ok
    assert rules["multi_sport_court"].service_distance_m == 500.0
    assert rules["fitness_centre"].service_distance_m == 1_000.0
    assert siting.resolve_site_type("court") == "multi_sport_court"
    assert siting.resolve_site_type("fitness_centre") == "fitness_centre"
    with pytest.raises(InputDataError, match="unknown site type 'pool'"):
        siting.resolve_site_type("pool")
    with pytest.raises(InputDataError, match="kind 'arena' is not one of"):
        SitingRule("x", "arena", min_land_area_m2=1, service_distance_m=1, added_venue_area_m2=1)


def _square(x, y, side):
    return shapely.box(x, y, x + side, y + side)


def test_candidates_from_file_computes_parcel_area_in_metres():
    parcels = gpd.GeoDataFrame(
        {"name": ["a", None], "cost": [1.0, 2.0]},
        geometry=[_square(X0, Y0, 100.0), shapely.Point(X0, Y0)],
        crs=CRS,
    ).to_crs(4326)
    cands = siting.candidates_from_file(parcels)
    assert cands["candidate_id"].tolist() == ["cand_1", "cand_2"]
    assert cands["name"].tolist() == ["a", "cand_2"]
    assert cands.loc[0, "area_m2"] == pytest.approx(10_000.0, rel=2e-3)
    assert np.isnan(cands.loc[1, "area_m2"])  # a point has unknown land area
    mask, note = siting.eligible_candidates(cands, siting.DEFAULT_RULES["sports_park"])
    assert mask.tolist() == [False, False]
    assert note.startswith("1 smaller than 40,000 m² (largest of those 10,0")
    assert "1 with unknown land area" in note
    mask, _ = siting.eligible_candidates(cands, siting.DEFAULT_RULES["multi_sport_court"])
    assert mask.tolist() == [True, True]


def test_candidates_from_a_geodataframe_read_units_as_a_file_and_name_an_unreadable_value():
    sites = gpd.GeoDataFrame(
        {
            "编号": ["C1", "C2", "C3"],
            "名称": ["北区空地", "河滨绿地", "南湖地块"],
            "造价": ["50万元", "0.12亿元", 800_000],
            "服务人口": ["1,200人", "3万人", None],
            "用地面积": ["1.2万平方米", "3亩", ""],
        },
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 100, Y0), shapely.Point(X0 + 200, Y0)],
        crs=CRS,
    )
    cands = siting.candidates_from_file(sites, what="sites")
    assert cands["candidate_id"].tolist() == ["C1", "C2", "C3"]
    assert cands["cost"].tolist() == [500_000.0, 12_000_000.0, 800_000.0]  # yuan
    assert cands["capacity"].tolist()[:2] == [1_200.0, 30_000.0] and np.isnan(cands["capacity"].iloc[2])
    assert cands["area_m2"].tolist()[:2] == pytest.approx([12_000.0, 3 * 10_000 / 15]) and np.isnan(cands["area_m2"][2])
    # the same table from a file is read the same (one parser)
    from_file = io.candidate_columns(pd.DataFrame(sites.drop(columns="geometry")), name="sites")
    assert from_file["cost"].tolist() == cands["cost"].tolist()
    unreadable = sites.assign(造价=["50万元", "about 50万", "60万元"])
    with pytest.raises(
        InputDataError, match=r"^sites: column `cost` has non-numeric values \(row 2 \(河滨绿地\)\); give numbers or "
    ):
        siting.candidates_from_file(unreadable, what="sites")


def test_candidates_from_osm_keeps_vacant_green_parks_without_sport_and_large_schools():
    geoms = [
        _square(X0, Y0, 50),  # grass -> kept
        _square(X0 + 100, Y0, 50),  # park with sport -> dropped
        _square(X0 + 200, Y0, 50),  # park, no sport -> kept
        _square(X0 + 300, Y0, 50),  # small school (2,500 m²) -> dropped
        _square(X0 + 400, Y0, 150),  # large school (22,500 m²) -> kept
        _square(X0 + 600, Y0, 50),  # residential -> dropped
        shapely.Point(X0 + 700, Y0),  # a brownfield point: no area -> dropped
    ]
    features = gpd.GeoDataFrame(
        {
            "osmid": [1, 2, 3, 4, 5, 6, 7],
            "landuse": ["grass", None, None, None, None, "residential", "brownfield"],
            "leisure": [None, "park", "park", None, None, None, None],
            "sport": [None, "basketball", None, None, None, None, None],
            "amenity": [None, None, None, "school", "school", None, None],
            "name": [None, "Sports Park", "Quiet Park", "Small School", "Big School", None, None],
        },
        geometry=geoms,
        crs=CRS,
    )
    cands = siting.candidates_from_osm(features)
    assert cands["candidate_id"].tolist() == ["osm_1", "osm_3", "osm_5"]
    assert cands["land_type"].tolist() == ["grass", "park", "school_grounds"]
    assert cands["area_m2"].tolist() == pytest.approx([2_500.0, 2_500.0, 22_500.0])
    assert (cands["source"] == "osm").all()
    # land without an OSM name is named by its type and OSM id, in the study's language
    assert cands["name"].tolist() == ["grass (OSM 1)", "Quiet Park", "Big School"]
    zh = siting.candidates_from_osm(features.assign(name=None), language="zh")
    assert zh["name"].tolist() == ["草地（OSM 1）", "公园（OSM 3）", "学校用地（OSM 5）"]


# ---------------------------------------------------------------------------
# the walk network: coverage known by hand
# ---------------------------------------------------------------------------


def path_network(n_nodes=16, step=100.0):
    """A straight two-way street along x: nodes every 100 m from X0."""
    graph = nx.MultiDiGraph(crs=CRS)
    for i in range(n_nodes):
        graph.add_node(i, x=X0 + i * step, y=Y0)
    for i in range(n_nodes - 1):
        graph.add_edge(i, i + 1, length=step)
        graph.add_edge(i + 1, i, length=step)
    return walk_network_from_graph(graph)


@pytest.fixture(scope="module")
def network():
    return path_network()


def line_cells(xs, population, **columns):
    return gpd.GeoDataFrame(
        {"cell_id": range(len(xs)), "population": np.asarray(population, dtype=float), **columns},
        geometry=[shapely.Point(X0 + x, Y0) for x in xs],
        crs=CRS,
    )


def line_candidates(xs, areas):
    return siting.candidates_from_file(
        gpd.GeoDataFrame({"area_m2": areas}, geometry=[shapely.Point(X0 + x, Y0) for x in xs], crs=CRS)
    )


def test_from_geodataframe_coverage_matches_hand_distances(network):
    cells = line_cells([50, 250, 450, 650, 850], [10, 20, 30, 40, 50])
    cands = line_candidates([0, 500, 1000], [1_000.0, 1_000.0, 1_000.0])
    model = MaximalCoverage.from_geodataframe(network, cells, cands, service_distance_m=300.0, p=1)
    # along the street: x=0 reaches 50, 250; x=500 reaches 250, 450, 650; x=1000 reaches 850 (650 is 350 m)
    expected = np.array([[1, 1, 0, 0, 0], [0, 1, 1, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    assert (model.coverages["sites"].toarray() > 0).tolist() == expected.tolist()
    assert model.solve("exact").selected_sites.tolist() == [1]
    assert model.objective_value == pytest.approx(90.0)
    two = MaximalCoverage.from_geodataframe(network, cells, cands, service_distance_m=300.0, p=2).solve("exact")
    assert sorted(two.selected_sites.tolist()) == [1, 2]
    assert two.objective_value == pytest.approx(140.0)
    # an existing facility at x=1000 serves 850: x=1000 adds nothing new, the best pair is {0, 500}
    existing = gpd.GeoDataFrame(
        {"facility_id": ["f1"], "kind": ["multi_sport_court"]}, geometry=[shapely.Point(X0 + 1000, Y0)], crs=CRS
    )
    locked = MaximalCoverage.from_geodataframe(
        network, cells, cands, service_distance_m=300.0, p=2, existing=existing
    ).solve("exact")
    assert sorted(locked.selected_sites.tolist()) == [0, 1]
    assert locked.objective_value == pytest.approx(100.0)
    # land-area rule: x=500 is too small for 5,000 m² -> the exact plan for p=1 is x=1000 (50)
    sized = line_candidates([0, 500, 1000], [6_000.0, 1_000.0, 6_000.0])
    ruled = MaximalCoverage.from_geodataframe(
        network, cells, sized, service_distance_m=300.0, p=1, min_land_area_m2=5_000.0
    ).solve("exact")
    assert ruled.selected_sites.tolist() == [2]


def street_with_a_court() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Seven cells along the street (10..70 residents at x = 50..1250) and one existing court at x=0."""
    xs = [50, 250, 450, 650, 850, 1050, 1250]
    population = [10, 20, 30, 40, 50, 60, 70]
    # one existing court at x=0: current walking distances along the street are the x values
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["court0"],
            "name": ["old court"],
            "kind": ["multi_sport_court"],
            "area_m2": [800.0],
            "open_to_public": [True],
        },
        geometry=[shapely.Point(X0, Y0)],
        crs=CRS,
    )
    cells = line_cells(
        xs,
        population,
        district=["Dongsheng"] * 7,
        dist_m_any=np.array(xs, dtype=float),
        dist_m_multi_sport_court=np.array(xs, dtype=float),
    )
    return facilities, cells


def test_plan_sites_ranked_table_on_a_street(network):
    facilities, cells = street_with_a_court()
    cands = line_candidates([0, 500, 1000], [900.0, 900.0, 900.0])
    result = siting.plan_sites(network, cells, facilities, candidates=cands, plan={"court": 1})
    table = result.ranked["multi_sport_court"]
    assert table["candidate_id"].tolist() == ["cand_3", "cand_2", "cand_1"]
    # court radius 500 m; the old court locks 50, 250, 450
    # x=1000 covers 650, 850, 1050, 1250 -> 220; x=500 then adds nothing (standalone 650 + 850 = 90)
    assert table["newly_covered_population"].tolist() == pytest.approx([220.0, 0.0, 0.0])
    assert table["standalone_covered_population"].tolist() == pytest.approx([220.0, 90.0, 0.0])
    # tiers vs dist_m_any: x=1000 brings 850/1050/1250 within 300 m, 650..1250 within 500, 1050/1250 within 1 km
    assert table["newly_within_300m"].tolist() == pytest.approx([180.0, 70.0, 0.0])
    assert table["newly_within_500m"].tolist() == pytest.approx([220.0, 0.0, 0.0])
    assert table["newly_within_1000m"].tolist() == pytest.approx([130.0, 0.0, 0.0])
    assert table["delta_per_capita_area_city_m2"].tolist() == pytest.approx([800 / 280] * 3)
    assert table["distance_to_nearest_same_kind_m"].tolist() == pytest.approx([1000.0, 500.0, 0.0], abs=1e-6)
    # mean current distance of the newly covered: (40*650 + 50*850 + 60*1050 + 70*1250) / 220 = 995 m
    assert table["reason"].iloc[0] == "covers 220 residents of east Dongsheng now 995 m on average from any court"
    assert table["reason"].iloc[1] == (
        "no new residents within 500 m (already served or covered by a higher-ranked site); adds 800 m² of venue "
        "area in Dongsheng"
    )
    # a Chinese study's reasons are Chinese (sites.html, the workbook), the figures the same
    zh = siting.plan_sites(network, cells, facilities, candidates=cands, plan={"court": 1}, language="zh")
    assert zh.ranked["multi_sport_court"]["reason"].tolist()[:2] == [
        "覆盖东胜区东部 220 名居民，他们目前到最近的多功能运动场平均 995 m",
        "500 m 内没有新增居民（已有设施服务或已被排名更靠前的选址覆盖）；在东胜区新增场地面积 800 m²",
    ]
    assert table["in_plan"].tolist() == [True, False, False]
    chosen = result.chosen
    assert chosen["candidate_id"].tolist() == ["cand_3"]
    assert chosen["newly_covered_population"].tolist() == pytest.approx([220.0])
    new = result.new_facilities
    assert new["facility_id"].tolist() == ["new_multi_sport_court_1"]
    assert new["kind"].tolist() == ["multi_sport_court"]
    assert new["area_m2"].tolist() == [800.0]
    gaps = result.gaps.set_index("instance")
    assert gaps.loc["combined", "exact_objective"] == pytest.approx(220.0)
    assert gaps.loc["multi_sport_court", "gap_abs"] == pytest.approx(0.0)


def test_a_chosen_site_whose_rank_adds_nobody_says_what_it_brings_in_the_plan(network):
    # the street of test_plan_sites_ranked_table_on_a_street; x=1000 is out of the budget, so the plan builds x=500
    facilities, cells = street_with_a_court()
    cands = siting.candidates_from_file(
        gpd.GeoDataFrame(
            {"area_m2": [900.0] * 3, "cost": [10.0, 10.0, 100.0]},
            geometry=[shapely.Point(X0 + x, Y0) for x in (0, 500, 1000)],
            crs=CRS,
        )
    )
    for language, said in (("en", "covers 90 new residents in the plan"), ("zh", "在规划方案中新覆盖 90 名居民")):
        result = siting.plan_sites(
            network, cells, facilities, candidates=cands, plan={"court": 1}, budget=50.0, language=language
        )
        table = result.ranked["multi_sport_court"].set_index("candidate_id")
        assert result.chosen["candidate_id"].tolist() == ["cand_2"]
        # its rank comes after x=1000, which takes its 650 and 850 (40 + 50): nothing new there, 90 in the plan
        assert table.loc["cand_2", "newly_covered_population"] == 0.0
        assert table.loc["cand_2", "newly_covered_in_plan"] == pytest.approx(90.0)
        assert table.loc["cand_2", "reason"].startswith(said)
        assert table.loc["cand_3", "reason"].startswith("covers 220" if language == "en" else "覆盖东胜区东部 220")


def test_candidates_far_from_every_street_are_named_in_a_warning(network, caplog):
    cells = line_cells([50, 650], [10, 20])
    sites = gpd.GeoDataFrame(
        {"name": ["lot A", "lot in another city"], "area_m2": [900.0, 900.0]},
        geometry=[shapely.Point(X0 + 600, Y0), shapely.Point(X0 + 600, Y0 + 5000)],
        crs=CRS,
    )
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=CRS)
    with caplog.at_level("WARNING", logger="ordos_geo.siting"):
        result = siting.plan_sites(
            network, cells, empty, candidates=siting.candidates_from_file(sites), plan={"court": 1}
        )
    assert result.chosen["name"].tolist() == ["lot A"]
    assert caplog.messages == [
        "siting: 1 of 2 candidate sites lie farther than 300 m from every street and cannot be chosen "
        "(cand_2 (lot in another city)); check their coordinates and datum (candidates_coordinates)"
    ]


def test_plan_sites_reads_locked_demand_from_dist_columns_and_takes_cell_snaps(network):
    """Demand already covered comes from ``dist_m_<kind>``; without the column it is searched: the same plan."""
    from ordos_geo.routing import snap_points

    xs = [50, 250, 450, 650, 850, 1050, 1250]
    population = [10, 20, 30, 40, 50, 60, 70]
    facilities = gpd.GeoDataFrame(
        {"facility_id": ["court0"], "kind": ["multi_sport_court"], "area_m2": [800.0], "open_to_public": [True]},
        geometry=[shapely.Point(X0, Y0)],
        crs=CRS,
    )
    cands = line_candidates([0, 500, 1000], [900.0, 900.0, 900.0])
    columns = {"dist_m_any": np.array(xs, dtype=float), "dist_m_multi_sport_court": np.array(xs, dtype=float)}
    searched = siting.plan_sites(network, line_cells(xs, population), facilities, candidates=cands, plan={"court": 1})
    cells = line_cells(xs, population, **columns)
    read = siting.plan_sites(network, cells, facilities, candidates=cands, plan={"court": 1})
    snapped = siting.plan_sites(
        network,
        cells,
        facilities,
        candidates=cands,
        plan={"court": 1},
        cells_snapped=snap_points(network, cells, polygon_access="centroid"),
    )
    for result in (searched, read, snapped):
        # the old court at x=0 locks 50, 250, 450 (within 500 m); x=1000 then covers 650..1250
        assert result.chosen["candidate_id"].tolist() == ["cand_3"]
        assert result.chosen["newly_covered_population"].tolist() == pytest.approx([220.0])
    for column in ("newly_covered_population", "standalone_covered_population", "newly_within_500m"):
        assert read.ranked["multi_sport_court"][column].tolist() == snapped.ranked["multi_sport_court"][column].tolist()
    # the column is what is read: one that says every cell is beside a court leaves nothing to cover
    beside = line_cells(xs, population, **{**columns, "dist_m_multi_sport_court": np.zeros(len(xs))})
    locked = siting.plan_sites(network, beside, facilities, candidates=cands, plan={"court": 1})
    assert locked.chosen["newly_covered_population"].tolist() == pytest.approx([0.0])


def test_plan_sites_no_candidate_large_enough(network):
    cells = line_cells([50, 250], [10, 20], district=["Dongsheng"] * 2)
    cands = line_candidates([0, 500, 900], [30_000.0, 12_000.0, np.nan])
    with pytest.raises(InfeasibleError) as info:
        siting.plan_sites(network, cells, None, candidates=cands, plan={"sports_park": 1})
    message = str(info.value)
    assert "no candidate can host a sports park" in message
    assert "2 smaller than 40,000 m² (largest of those 30,000 m²)" in message
    assert "1 with unknown land area" in message


def test_plan_sites_combined_respects_budget_and_reports_gaps(network):
    xs = np.arange(50, 1500, 100)
    cells = line_cells(xs, np.arange(1, len(xs) + 1) * 10.0, district=["Dongsheng"] * len(xs))
    cands = line_candidates([0, 300, 600, 900, 1200, 1500], [3_000.0] * 6)
    cands["cost"] = [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    result = siting.plan_sites(
        network, cells, None, candidates=cands, plan={"fitness_centre": 1, "court": 2}, budget=5.0
    )
    assert result.chosen["cost"].sum() <= 5.0
    assert result.chosen["candidate_id"].is_unique
    assert len(result.chosen) == 3
    assert set(result.gaps["instance"]) == {"fitness_centre", "multi_sport_court", "combined"}
    assert (result.gaps["gap_abs"] >= 0).all()
    assert (result.gaps["upper_bound"] >= result.gaps["exact_objective"] - 1e-6).all()
    greedy = siting.plan_sites(
        network, cells, None, candidates=cands, plan={"fitness_centre": 1, "court": 2}, budget=5.0, method="greedy"
    )
    combined = greedy.gaps.set_index("instance").loc["combined"]
    assert np.isnan(combined["exact_objective"])
    assert combined["upper_bound"] >= result.gaps.set_index("instance").loc["combined", "exact_objective"] - 1e-6


def test_candidates_from_underserved_snap_to_nearest_node(network):
    underserved = gpd.GeoDataFrame(
        {"neighbourhood_id": [7, 8, 9], "population": [100.0, 50.0, 80.0], "district": ["Dongsheng"] * 3},
        geometry=[_square(X0 + 180, Y0 - 20, 40), _square(X0 + 200, Y0 - 30, 30), _square(X0 + 1020, Y0 + 10, 40)],
        crs=CRS,
    )
    cands = siting.candidates_from_underserved(network, underserved)
    # centres x=200 (node 2), x=215 (node 2 again: one candidate), x=1040 (node 10)
    assert sorted(cands["network_node"].tolist()) == [2, 10]
    assert cands["candidate_id"].tolist() == ["underserved_7", "underserved_9"]
    assert np.isnan(cands["area_m2"]).all()
    assert cands.geometry.x.tolist() == pytest.approx([X0 + 200, X0 + 1000])
    assert cands["name"].iloc[0] == "street node at underserved neighbourhood 7 (Dongsheng)"
    zh = siting.candidates_from_underserved(network, underserved, language="zh")
    assert zh["name"].tolist() == ["服务不足片区 7 的街道节点（东胜区）", "服务不足片区 9 的街道节点（东胜区）"]


def test_chosen_sites_as_facilities_schema(network):
    cells = line_cells([50, 250, 450], [10, 20, 30], district=["Dongsheng"] * 3)
    cands = line_candidates([0, 400], [900.0, 900.0])
    result = siting.plan_sites(network, cells, None, candidates=cands, plan={"court": 1})
    new = result.new_facilities
    assert tuple(new.columns) == io.FACILITY_COLUMNS
    assert (new["public_access"] == "full").all()
    assert isinstance(new, gpd.GeoDataFrame)
    assert pd.api.types.is_bool_dtype(new["open_to_public"])


@pytest.mark.parametrize("seed", range(4))
def test_bound_reduction_does_not_change_the_optimum(seed):
    # clustered weights: a few heavy demand points many sites overlap on
    rng = np.random.default_rng(100 + seed)
    n_cand, n_demand = 40, 300
    points = rng.uniform(0, 10, (n_demand, 2))
    sites = rng.uniform(0, 10, (n_cand, 2))
    dense = np.linalg.norm(points[None, :, :] - sites[:, None, :], axis=2) < 1.5
    weights = rng.lognormal(2.0, 1.0, n_demand) * (1 + 10 * np.exp(-((points - 5) ** 2).sum(axis=1) / 4))
    full = MaximalCoverage.from_coverage(weights, dense, p=4).solve("exact", reduce=False)
    reduced = MaximalCoverage.from_coverage(weights, dense, p=4).solve("exact", reduce=True)
    assert reduced.objective_value == pytest.approx(full.objective_value, rel=1e-9)
    value = weights[dense[reduced.selected_sites].any(axis=0)].sum()
    assert reduced.objective_value == pytest.approx(value, rel=1e-9)
    assert reduced.greedy_objective <= reduced.objective_value + 1e-9


@pytest.mark.slow
def test_plan_sites_smoke_on_the_embedded_sample():
    from ordos_geo import io, pipeline, settings

    if not (settings.SAMPLE_DIR / "walk_network.osm").exists():
        pytest.skip("embedded sample not generated")
    study = pipeline.load_study()
    features = io.read_osm_features(study.config.network, siting.CANDIDATE_OSM_TAGS).to_crs(study.network.crs)
    result = siting.plan_sites(study.network, study.cells, study.facilities, osm_features=features)
    chosen = result.chosen
    assert chosen["site_type"].value_counts().to_dict() == {
        "multi_sport_court": 3,
        "fitness_centre": 3,
        "sports_health_centre": 2,
        "sports_park": 1,
    }
    assert chosen["candidate_id"].is_unique
    park = chosen[chosen["site_type"] == "sports_park"]
    assert (park["area_m2"] >= settings.SPORTS_PARK_MIN_AREA_M2).all()
    gaps = result.gaps.set_index("instance")
    assert (gaps["exact_objective"] >= gaps["greedy_objective"] - 1e-6).all()
    # the combined plan's value is the sum of its chosen sites' newly covered residents
    assert chosen["newly_covered_population"].sum() == pytest.approx(gaps.loc["combined", "exact_objective"])
    for key, table in result.ranked.items():
        assert table["rank"].tolist() == list(range(1, len(table) + 1))
        assert table["reason"].str.len().gt(0).all(), key


def test_exact_solve_after_trails_milp_in_the_same_process():
    """HiGHS sizes one global thread pool on first solve; siting after the trails MILP must still solve."""
    import subprocess
    import sys

    code = """
import networkx as nx
import numpy as np
import scipy.sparse
from ordos_geo import siting, trails
from ordos_geo.network import walk_network_from_graph
import geopandas as gpd, shapely

g = nx.MultiDiGraph(crs="EPSG:32650")
for i in range(4):
    g.add_node(i, x=500000.0 + 100 * i, y=4400000.0)
for i in range(3):
    for a, b in ((i, i + 1), (i + 1, i)):
        g.add_edge(a, b, length=100.0, highway="footway")
net = walk_network_from_graph(g)
cells = gpd.GeoDataFrame({"population": [10.0, 20.0], "dist_m_any": [np.inf, np.inf]},
                         geometry=[shapely.Point(500050, 4400010), shapely.Point(500250, 4400010)], crs="EPSG:32650")
plan = trails.plan_trails(net, cells, budget_m=300, min_trail_m=100, max_trails=1, method="exact", shape="route")
assert plan.method.startswith("exact"), plan.method
coverage = scipy.sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool))
model = siting.MaximalCoverage.from_coverage(np.array([5.0, 1.0, 7.0]), coverage, p=1).solve("exact")
print(model.objective_value)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert float(out.stdout.strip().splitlines()[-1]) == 8.0


_EXACT_SOLVE = """
import numpy as np
import scipy.sparse
from ordos_geo.siting import MaximalCoverage

def exact_solve():
    coverage = scipy.sparse.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool))
    return MaximalCoverage.from_coverage(np.array([5.0, 1.0, 7.0]), coverage, p=1).solve("exact")
"""


def _child_env():
    import os
    from pathlib import Path

    import ordos_geo

    root = str(Path(ordos_geo.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def test_no_highs_banner_under_redirect_stdout(capfd):
    """A fresh process's first HiGHS instance (the one that prints the banner) inside redirect_stdout.

    HiGHS writes its banner to descriptor 1 with C printf; the child inherits this test's
    descriptor 1, which capfd reads.
    """
    import subprocess
    import sys

    code = (
        _EXACT_SOLVE
        + """
import contextlib, io, sys
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    model = exact_solve()
sys.stderr.write(f"objective={model.objective_value} captured={buf.getvalue()!r}")
"""
    )
    done = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, env=_child_env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == "objective=8.0 captured=''"
    assert capfd.readouterr().out == ""


def test_no_highs_banner_under_pytest_capfd(tmp_path):
    """A fresh pytest whose only test solves exactly under capfd reads nothing on descriptor 1."""
    import subprocess
    import sys

    (tmp_path / "test_banner.py").write_text(
        _EXACT_SOLVE
        + """

def test_exact_solve_prints_nothing(capfd):
    model = exact_solve()
    out, _ = capfd.readouterr()
    assert (out, model.objective_value) == ("", 8.0)
""",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_banner.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_child_env(),
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout


# ---------------------------------------------------------------------------
# group minimums (school venues to open per district)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_group_minimums_exact_equals_brute_force(seed):
    weights, dense = random_instance(seed, n_cand=9, n_demand=30)
    groups = [np.arange(9) < 4, (np.arange(9) >= 4) & (np.arange(9) < 7)]
    needs = [1, 2]
    minimums = list(zip(groups, needs, strict=True))
    p = 4
    best = -1.0
    for combo in itertools.combinations(range(9), p):
        picked = np.zeros(9, dtype=bool)
        picked[list(combo)] = True
        if all((picked & g).sum() >= k for g, k in zip(groups, needs, strict=True)):
            best = max(best, float(weights[dense[list(combo)].any(axis=0)].sum()))
    model = CombinedCoverage.from_coverages(
        weights, {"school": scipy.sparse.csr_matrix(dense)}, p={"school": p}, minimums=minimums
    )
    exact = model.solve("exact")
    chosen = exact.selected["school"]
    assert exact.objective_value == pytest.approx(best)
    for group, need in zip(groups, needs, strict=True):
        assert group[chosen].sum() >= need
    greedy = CombinedCoverage.from_coverages(
        weights, {"school": scipy.sparse.csr_matrix(dense)}, p={"school": p}, minimums=minimums
    ).solve("greedy")
    picks = greedy.selected["school"]
    assert len(set(picks.tolist())) == p
    for group, need in zip(groups, needs, strict=True):
        assert group[picks].sum() >= need
    assert greedy.objective_value == pytest.approx(weights[dense[picks].any(axis=0)].sum())
    assert greedy.objective_value <= best + 1e-9
    assert exact.gap_abs == pytest.approx(best - exact.greedy_objective)


def test_group_minimums_that_cannot_be_met_raise():
    weights, dense = random_instance(0, n_cand=5)
    group = np.array([True, True, False, False, False])
    with pytest.raises(InfeasibleError, match="only 2 eligible"):
        CombinedCoverage.from_coverages(
            weights, {"s": scipy.sparse.csr_matrix(dense)}, p={"s": 3}, minimums=[(group, 3)]
        )
    with pytest.raises(InputDataError, match="overlap"):
        CombinedCoverage.from_coverages(
            weights, {"s": scipy.sparse.csr_matrix(dense)}, p={"s": 3}, minimums=[(group, 1), (group, 1)]
        )


def _schools_on_a_street():
    """One open school venue at x=0 (district A), closed ones at 200, 700 (A) and 900, 1200, 1500 (B)."""
    xs = [0, 200, 700, 900, 1200, 1500]
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"S{k}" for k in range(1, 7)],
            "name": [f"school {k}" for k in range(1, 7)],
            "kind": ["school_venue"] * 6,
            "area_m2": [8000.0, 4000.0, 6000.0, 10000.0, 5000.0, 7000.0],
            "open_to_public": [True, False, False, False, False, False],
            "public_access": ["after_school", "closed", "closed", "closed", "closed", "closed"],
            "district": ["A", "A", "A", "B", "B", "B"],
        },
        geometry=[shapely.Point(X0 + x, Y0) for x in xs],
        crs=CRS,
    )


def test_plan_school_opening_smallest_set_per_district_and_brute_force(network):
    cell_x = [50, 250, 450, 650, 850, 1050, 1250, 1450]
    population = [10, 20, 30, 40, 50, 60, 70, 80]
    # the only open venue is at x=0: the nearest open venue is x metres away along the street
    cells = line_cells(cell_x, population, district=["A"] * 4 + ["B"] * 4, dist_m_any=np.array(cell_x, dtype=float))
    schools = _schools_on_a_street()
    result = siting.plan_school_opening(network, cells, schools, target_share=0.6)
    # A: 3 venues, 1 open -> ceil(1.8) - 1 = 1; B: 3 venues, 0 open -> ceil(1.8) = 2; city: ceil(3.6) - 1 = 3
    table = result.districts.set_index("district")
    assert table["required"].to_dict() == {"A": 1, "B": 2, "citywide": 3}
    assert table["opened"].to_dict() == {"A": 1, "B": 2, "citywide": 3}
    assert table.loc["citywide", "open_share_after"] == pytest.approx(4 / 6)
    assert table.loc["A", "open_share_before"] == pytest.approx(1 / 3)
    # brute force over every 3-set with >= 1 in A and >= 2 in B: residents newly within 500 m
    closed_x = {"S2": 200, "S3": 700, "S4": 900, "S5": 1200, "S6": 1500}
    district = {"S2": "A", "S3": "A", "S4": "B", "S5": "B", "S6": "B"}
    best, best_sets = -1.0, []
    for combo in itertools.combinations(closed_x, 3):
        if sum(district[c] == "A" for c in combo) < 1 or sum(district[c] == "B" for c in combo) < 2:
            continue
        value = sum(
            pop
            for x, pop in zip(cell_x, population, strict=True)
            if x > 500 and any(abs(x - closed_x[c]) <= 500 for c in combo)
        )
        if value > best:
            best, best_sets = value, [set(combo)]
        elif value == best:
            best_sets.append(set(combo))
    opened = set(result.opened["facility_id"])
    assert opened in best_sets
    assert result.ranked.loc[result.ranked["in_plan"], "newly_covered_in_plan"].sum() == pytest.approx(best)
    assert result.gaps.loc[0, "exact_objective"] == pytest.approx(best)
    assert result.opened["open_to_public"].all()
    assert (result.opened["public_access"] == "after_school").all()
    # every closed venue is ranked, the plan first; tiers by hand for S2 (x=200):
    # within 300 m: cells 50, 250, 450, of which only 450 is farther than 300 m from x=0 now -> 30
    ranked = result.ranked.set_index("facility_id")
    assert len(ranked) == 5
    assert result.ranked["in_plan"].tolist() == [True, True, True, False, False]
    assert ranked.loc["S2", "newly_within_300m"] == pytest.approx(30.0)
    # within 1,000 m of x=200 and now farther than 1,000 m from x=0: cell 1050 (850 m away) -> 60
    assert ranked.loc["S2", "newly_within_1000m"] == pytest.approx(60.0)
    assert ranked.loc["S4", "delta_per_capita_area_city_m2"] == pytest.approx(10000.0 / 360.0)
    assert ranked.loc["S4", "delta_per_capita_area_district_m2"] == pytest.approx(10000.0 / 260.0)
    assert ranked.loc["S4", "district_open_share_after"] == pytest.approx(1 / 3)
    zh = siting.plan_school_opening(network, cells, schools, language="zh")
    assert zh.ranked["reason"].iloc[0].startswith("列入开放方案")
    assert zh.ranked["reason"].iloc[-1].startswith("未列入方案")


def test_plan_school_opening_nothing_to_open_when_the_target_is_met(network):
    cells = line_cells([50, 650], [10, 20], district=["A", "B"], dist_m_any=np.array([50.0, 650.0]))
    schools = _schools_on_a_street()
    result = siting.plan_school_opening(network, cells, schools, target_share=1 / 6)
    assert result.districts.set_index("district")["required"].to_dict() == {"A": 0, "B": 1, "citywide": 1}
    low = siting.plan_school_opening(network, cells, schools.assign(district="A"), target_share=1 / 6)
    assert low.opened.empty and low.gaps.empty
    assert len(low.ranked) == 5 and not low.ranked["in_plan"].any()


def test_sports_health_centre_serves_residents_aged_60_plus(network):
    # residents and residents aged 60+ are spread differently along the street
    xs = [50, 250, 450, 650, 850, 1050, 1250]
    cells = line_cells(
        xs,
        [100, 100, 100, 100, 100, 100, 100],
        population_60plus=[5.0, 5.0, 5.0, 5.0, 30.0, 40.0, 30.0],
        district=["Dongsheng"] * 7,
        dist_m_any=np.full(7, np.inf),
    )
    cands = line_candidates([0, 500, 1000], [2_000.0, 2_000.0, 1_000.0])
    result = siting.plan_sites(network, cells, None, candidates=cands, plan={"sports_health_centre": 1})
    table = result.ranked["sports_health_centre"]
    # 500 m walk: x=0 reaches 50, 250, 450 (15 aged 60+); x=500 reaches 50..850 (50); x=1000 (100) is too small
    assert table["candidate_id"].tolist() == ["cand_2", "cand_1"]
    assert table["newly_covered_population"].tolist() == pytest.approx([50.0, 0.0])
    assert table["standalone_covered_population"].tolist() == pytest.approx([50.0, 15.0])
    assert (table["served"] == "population_60plus").all()
    # per-capita area is still over all 700 residents
    assert table["delta_per_capita_area_city_m2"].iloc[0] == pytest.approx(1_000.0 / 700.0)
    assert table["reason"].iloc[0].startswith("covers 50 residents aged 60+")
    assert _labels.said(
        siting.planner._reason(siting.DEFAULT_RULES["sports_health_centre"], 50, "", "", np.inf, 1), "zh"
    ) == ("覆盖研究区 50 名 60 岁及以上居民，5.0 km 内没有运动健康中心")
    # with the parcel large enough, x=1000 reaches 650..1250 (105) and wins
    big = line_candidates([0, 500, 1000], [2_000.0, 2_000.0, 2_000.0])
    chosen = siting.plan_sites(network, cells, None, candidates=big, plan={"sports_health_centre": 1}).chosen
    assert chosen["candidate_id"].tolist() == ["cand_3"]
    assert chosen["newly_covered_population"].tolist() == pytest.approx([105.0])
    with pytest.raises(InputDataError, match="population_60plus"):
        siting.plan_sites(
            network, cells.drop(columns="population_60plus"), None, candidates=big, plan={"sports_health_centre": 1}
        )
