"""Tests of the trails stage: prize model, planner, exact solver, bound and checker.

Every expected value comes from hand arithmetic, networkx, or brute force over
all edge subsets of a tiny graph.
"""

from __future__ import annotations

import collections
import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from ordos_geo import io, trails
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork, walk_network_from_graph
from ordos_geo.trails import _solvers, bound
from ordos_geo.trails.bound import _DiscSums, _TubeCap, disc_bound, frontier_bound

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_000_000.0


def _graph(nodes: dict[int, tuple[float, float]], edges: list[tuple], *, two_way: bool = True) -> nx.MultiDiGraph:
    """Osmnx-style graph from local coordinates (metres) and (u, v[, length[, highway]]) edges."""
    graph = nx.MultiDiGraph(crs=CRS)
    for n, (x, y) in nodes.items():
        graph.add_node(n, x=X0 + x, y=Y0 + y)
    for e in edges:
        u, v = e[0], e[1]
        straight = float(np.hypot(nodes[u][0] - nodes[v][0], nodes[u][1] - nodes[v][1]))
        length = e[2] if len(e) > 2 and e[2] is not None else straight
        highway = e[3] if len(e) > 3 else "residential"
        graph.add_edge(u, v, length=length, highway=highway)
        if two_way:
            graph.add_edge(v, u, length=length, highway=highway)
    return graph


def _grid(nx_: int, ny_: int, spacing: float = 100.0) -> tuple[dict, list]:
    nodes = {i * ny_ + j: (i * spacing, j * spacing) for i in range(nx_) for j in range(ny_)}
    edges = []
    for i in range(nx_):
        for j in range(ny_):
            if i + 1 < nx_:
                edges.append((i * ny_ + j, (i + 1) * ny_ + j))
            if j + 1 < ny_:
                edges.append((i * ny_ + j, i * ny_ + j + 1))
    return nodes, edges


def _perturbed_grid(rng: np.random.Generator, nx_: int, ny_: int, *, drop: float = 0.1) -> WalkNetwork:
    nodes, edges = _grid(nx_, ny_)
    nodes = {n: (x + rng.uniform(-25, 25), y + rng.uniform(-25, 25)) for n, (x, y) in nodes.items()}
    kept = [e for e in edges if rng.random() > drop]
    # Lengths at least the straight line (curvy streets), as in real data.
    lengths = [float(np.hypot(*(np.subtract(nodes[u], nodes[v])))) * rng.uniform(1.0, 1.3) for u, v in kept]
    return walk_network_from_graph(_graph(nodes, [(u, v, ln) for (u, v), ln in zip(kept, lengths, strict=True)]))


def _cells(xy, population, *, underserved=None, size: float = 10.0, **columns) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float)
    boxes = shapely.box(
        X0 + xy[:, 0] - size / 2, Y0 + xy[:, 1] - size / 2, X0 + xy[:, 0] + size / 2, Y0 + xy[:, 1] + size / 2
    )
    data = {"cell_id": np.arange(len(xy)), "population": np.asarray(population, dtype=float)}
    data["under"] = np.ones(len(xy), dtype=bool) if underserved is None else np.asarray(underserved, dtype=bool)
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=boxes, crs=CRS)


def _segment_graph(model: trails.TrailPrizeModel, segments) -> nx.MultiGraph:
    graph = nx.MultiGraph()
    for s in segments:
        graph.add_edge(int(model.segment_u[s]), int(model.segment_v[s]), key=int(s))
    return graph


def _brute_force(model, allowed_ids, *, budget, min_len, max_trails) -> float:
    """Best deduplicated population over every edge subset that obeys the trail rules."""
    best = 0.0
    ids = list(allowed_ids)
    for r in range(1, len(ids) + 1):
        for subset in itertools.combinations(ids, r):
            length = model.segment_length[list(subset)].sum()
            if length > budget + 1e-9:
                continue
            graph = _segment_graph(model, subset)
            comps = list(nx.connected_components(graph))
            if len(comps) > max_trails:
                continue
            comp_len = [sum(model.segment_length[k] for _, _, k in graph.subgraph(c).edges(keys=True)) for c in comps]
            if min(comp_len) < min_len - 1e-9:
                continue
            best = max(best, model.population_reached(subset))
    return best


# ------------------------------------------------------------------------------------------------ prize model


def test_directed_edges_pair_into_segments():
    nodes, edges = _grid(3, 2)
    graph = _graph(nodes, edges)
    graph.add_edge(0, 5, length=300.0, highway="footway")  # one-way diagonal: a segment on its own
    network = walk_network_from_graph(graph)
    model = trails.build_prize_model(network, _cells([[50, 0]], [1]), underserved_column="under")
    assert network.n_edges == 2 * len(edges) + 1
    assert model.n_segments == len(edges) + 1
    # Both directions of every street map to the same segment.
    e = network.edges
    for s in range(model.n_segments):
        members = np.flatnonzero(model.segment_of_edge == s)
        assert len(members) in (1, 2)
        assert {frozenset((e.u[m], e.v[m])) for m in members} == {frozenset((model.segment_u[s], model.segment_v[s]))}


def test_prize_model_matches_networkx_reference():
    rng = np.random.default_rng(7)
    network = _perturbed_grid(rng, 6, 6, drop=0.15)
    xy = rng.uniform(-20, 520, size=(60, 2))
    cells = _cells(xy, rng.integers(1, 50, 60), underserved=rng.random(60) < 0.7)
    reach_m = 230.0
    model = trails.build_prize_model(network, cells, reach_m=reach_m, underserved_column="under")

    # Independent reference: brute-force nearest edge, splice the snap point into an undirected
    # networkx graph, bounded Dijkstra; a segment is reached when an end node is within reach
    # or the cell sits on it.
    base = nx.Graph()
    for s in range(model.n_segments):
        base.add_edge(int(model.segment_u[s]), int(model.segment_v[s]), weight=float(model.segment_length[s]))
    seg_geoms = network.edges.geometry.to_numpy()[model.segment_edge]
    expected = np.zeros((model.n_segments, len(model.cell_positions)), dtype=bool)
    for j, pos in enumerate(model.cell_positions):
        point = cells.geometry.iloc[pos].centroid
        distances = shapely.distance(seg_geoms, point)
        s = int(np.argmin(distances))
        if distances[s] > 300:
            continue
        geom = seg_geoms[s]
        frac = geom.project(point) / geom.length
        a, b, length = int(model.segment_u[s]), int(model.segment_v[s]), float(model.segment_length[s])
        graph = base.copy()
        graph.add_edge("cell", a, weight=frac * length)
        graph.add_edge("cell", b, weight=(1 - frac) * length)
        dist = nx.single_source_dijkstra_path_length(graph, "cell", cutoff=reach_m, weight="weight")
        for t in range(model.n_segments):
            if t == s or int(model.segment_u[t]) in dist or int(model.segment_v[t]) in dist:
                expected[t, j] = True
    assert model.reach.shape == expected.shape
    assert np.array_equal(model.reach.toarray(), expected)
    assert model.total_population == pytest.approx(cells.loc[cells["under"], "population"].sum())


def test_underserved_from_dist_m_any():
    cells = _cells([[0, 0], [1, 1], [2, 2], [3, 3]], [1, 1, 1, 1])
    cells["dist_m_any"] = [500.0, 1000.0, 1000.5, np.inf]
    assert trails.underserved_mask(cells).tolist() == [False, False, True, True]
    with pytest.raises(InputDataError, match="dist_m_any"):
        trails.underserved_mask(cells.drop(columns="dist_m_any"))


# ------------------------------------------------------------------------------------------------ planner


def _ladder(n: int = 31, spacing: float = 100.0, rung: float = 100.0) -> tuple[WalkNetwork, dict]:
    """Two rails (y=0 nodes 0..n-1, y=rung nodes n..2n-1) joined by rungs."""
    nodes = {i: (i * spacing, 0.0) for i in range(n)} | {n + i: (i * spacing, rung) for i in range(n)}
    edges = [(i, i + 1) for i in range(n - 1)] + [(n + i, n + i + 1) for i in range(n - 1)]
    edges += [(i, n + i) for i in range(n)]
    return walk_network_from_graph(_graph(nodes, edges)), nodes


def test_planner_finds_the_obvious_best_kilometre_on_a_ladder():
    network, _ = _ladder()
    # 100 residents at the middle of each bottom-rail block from x=1000 to 2000, 5 on every
    # top-rail block; reach 30 m, so each cell reaches only the segment it sits on.
    heavy = [[1050 + 100 * k, 0] for k in range(10)]
    light = [[50 + 100 * k, 100] for k in range(30)]
    cells = _cells(heavy + light, [100] * 10 + [5] * 30)
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=1000,
        min_trail_m=1000,
        max_trails=1,
        reach_m=30,
        underserved_column="under",
        shape="network",
    )
    assert plan.population_reached == pytest.approx(1000.0)  # hand count: 10 x 100
    assert len(plan.trails) == 1
    edges = network.edges.iloc[plan.segments[0]]
    xs = sorted({(min(a, b), max(a, b)) for a, b in zip(edges.u, edges.v, strict=True)})
    assert xs == [(i, i + 1) for i in range(10, 20)]
    assert plan.trails["length_m"].iloc[0] == pytest.approx(1000.0)
    assert not plan.trails["is_loop"].iloc[0]
    assert plan.upper_bound >= plan.population_reached
    assert plan.gap >= 0


def test_planner_grows_when_residents_per_metre_are_below_one():
    # Same ladder, 100x sparser population: a growth step gains 0.01-1 residents per metre.
    network, _ = _ladder()
    heavy = [[1050 + 100 * k, 0] for k in range(10)]
    light = [[50 + 100 * k, 100] for k in range(30)]
    cells = _cells(heavy + light, [1.0] * 10 + [0.05] * 30)
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=1000,
        min_trail_m=1000,
        max_trails=1,
        reach_m=30,
        underserved_column="under",
        shape="network",
    )
    assert plan.population_reached == pytest.approx(10.0)
    assert plan.total_length_m == pytest.approx(1000.0)


def test_planner_prefers_a_loop_when_the_loop_is_the_prize():
    network, _ = _ladder(n=12)
    # Residents on the four sides of the block between x=500 and x=600.
    cells = _cells([[550, 0], [550, 100], [500, 50], [600, 50], [150, 0]], [50, 50, 50, 50, 10])
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=400,
        min_trail_m=400,
        max_trails=1,
        reach_m=20,
        underserved_column="under",
        shape="network",
    )
    assert plan.population_reached == pytest.approx(200.0)
    assert bool(plan.trails["is_loop"].iloc[0])
    assert plan.trails["n_segments"].iloc[0] == 4
    assert plan.trails["area_m2"].iloc[0] == pytest.approx(400 * 2.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_heuristic_exact_and_brute_force_agree_on_tiny_graphs(seed):
    rng = np.random.default_rng(seed)
    network = _perturbed_grid(rng, 3, 3, drop=0.0)  # 12 segments
    xy = rng.uniform(-20, 220, size=(25, 2))
    cells = _cells(xy, rng.integers(1, 100, 25))
    budget = float(rng.choice([250.0, 400.0, 550.0]))
    max_trails = int(rng.integers(1, 3))
    min_len = float(rng.choice([0.0, 150.0]))
    model = trails.build_prize_model(network, cells, reach_m=90, underserved_column="under")
    assert model.n_segments == 12
    best = _brute_force(model, range(12), budget=budget, min_len=min_len, max_trails=max_trails)
    kwargs = dict(budget_m=budget, min_trail_m=min_len, max_trails=max_trails, prize_model=model, shape="network")
    exact = trails.plan_trails(network, cells, method="exact", time_limit_s=600.0, **kwargs)
    heuristic = trails.plan_trails(network, cells, method="heuristic", **kwargs)
    assert exact.population_reached == pytest.approx(best)
    assert exact.upper_bound == pytest.approx(best)
    assert exact.gap == pytest.approx(0.0, abs=1e-9)
    # The heuristic's bound (no MILP) is a true upper bound, and the heuristic is close.
    assert heuristic.upper_bound >= best - 1e-6
    assert heuristic.population_reached <= best + 1e-6
    assert heuristic.population_reached >= 0.8 * best
    for plan in (exact, heuristic):
        assert plan.total_length_m <= budget + 1e-6
        assert len(plan.trails) <= max_trails


@pytest.mark.parametrize("seed", range(5))
def test_budget_connectivity_and_trail_rules_hold_on_random_graphs(seed):
    rng = np.random.default_rng(100 + seed)
    network = _perturbed_grid(rng, 9, 9, drop=0.12)
    n = 150
    cells = _cells(rng.uniform(-50, 850, size=(n, 2)), rng.integers(1, 80, n), underserved=rng.random(n) < 0.6)
    budget = float(rng.uniform(300, 2500))
    max_trails = int(rng.integers(1, 4))
    min_len = float(rng.choice([0.0, 200.0, 400.0]))
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=budget,
        min_trail_m=min_len,
        max_trails=max_trails,
        reach_m=float(rng.choice([150.0, 300.0])),
        underserved_column="under",
        method="heuristic",
        shape="network",
    )
    model = plan.prize_model
    assert plan.total_length_m <= budget + 1e-6
    assert len(plan.trails) <= max_trails
    assert plan.upper_bound >= plan.population_reached - 1e-9
    assert 0 <= plan.gap <= 1
    all_segments = np.concatenate(plan.segment_ids) if plan.segment_ids else np.zeros(0, int)
    assert len(set(all_segments.tolist())) == len(all_segments)  # trails do not share segments
    assert plan.population_reached == pytest.approx(model.population_reached(all_segments))
    for ids, row in zip(plan.segment_ids, plan.trails.itertuples(), strict=True):
        assert nx.is_connected(_segment_graph(model, ids))
        assert row.length_m == pytest.approx(model.segment_length[ids].sum())
        assert row.length_m >= min(min_len, budget) - 1e-6
    # Trails are separate components: no node shared between two trails.
    node_sets = [set(model.segment_u[ids]) | set(model.segment_v[ids]) for ids in plan.segment_ids]
    for a, b in itertools.combinations(node_sets, 2):
        assert not a & b


def test_forbidden_highways_and_user_excluded_edges_are_never_used():
    network, _ = _ladder(n=12)
    graph = network.graph.copy()
    for u, v, data in graph.edges(data=True):
        if {u, v} == {5, 6}:
            data["highway"] = "motorway"
    network = walk_network_from_graph(graph)
    cells = _cells([[550, 0], [650, 0], [750, 0]], [100, 100, 100])
    excluded = np.flatnonzero(
        ((network.edges.u == 6) & (network.edges.v == 7)) | ((network.edges.u == 7) & (network.edges.v == 6))
    )
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=600,
        min_trail_m=0,
        max_trails=1,
        reach_m=20,
        underserved_column="under",
        forbidden_edges=excluded,
        method="heuristic",
        shape="network",
    )
    used = network.edges.iloc[np.concatenate(plan.segments)]
    pairs = {frozenset((a, b)) for a, b in zip(used.u, used.v, strict=True)}
    assert frozenset((5, 6)) not in pairs
    assert frozenset((6, 7)) not in pairs
    assert plan.population_reached == pytest.approx(100.0)  # only the block 7-8 is still usable


@pytest.mark.parametrize("shape", ["network", "route"])
def test_preferred_footways_win_ties(shape):
    # A residential street and a footway of equal length meet at node 1, where the only
    # residents live: both reach them, and the footway is chosen (cost x 0.8).
    nodes = {0: (0, 0), 1: (300, 0), 2: (600, 0)}
    graph = _graph(nodes, [(0, 1, None, "residential"), (1, 2, None, "footway")])
    network = walk_network_from_graph(graph)
    cells = _cells([[300, 0]], [10])
    for method in ("heuristic", "auto"):
        plan = trails.plan_trails(
            network,
            cells,
            budget_m=300,
            min_trail_m=0,
            reach_m=10,
            underserved_column="under",
            method=method,
            shape=shape,
        )
        assert plan.population_reached == pytest.approx(10.0)
        assert network.edges.highway.iloc[plan.segments[0]].tolist() == ["footway"]


@pytest.mark.parametrize("shape", ["network", "route"])
def test_green_land_is_preferred_and_lines_to_avoid_are_excluded(shape):
    # Two residential streets of equal length meet at node 1, where the residents live.
    nodes = {0: (0, 0), 1: (300, 0), 2: (600, 0)}
    network = walk_network_from_graph(_graph(nodes, [(0, 1), (1, 2)]))
    cells = _cells([[300, 0]], [10])
    park = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 320, Y0 - 50, X0 + 650, Y0 + 50)], crs=CRS).to_crs(4326)
    kwargs = dict(budget_m=300, min_trail_m=0, reach_m=10, underserved_column="under", method="heuristic", shape=shape)
    plan = trails.plan_trails(network, cells, green_land=park, **kwargs)
    edge = network.edges.iloc[plan.segments[0][0]]
    assert {edge.u, edge.v} == {1, 2}  # through the park
    avoid = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 + 300, Y0), (X0 + 600, Y0)])], crs=CRS)
    plan = trails.plan_trails(network, cells, green_land=park, forbidden_edges=avoid, **kwargs)
    edge = network.edges.iloc[plan.segments[0][0]]
    assert {edge.u, edge.v} == {0, 1}


def test_as_facilities_follows_the_facilities_schema():
    network, _ = _ladder(n=12)
    cells = _cells([[550, 0], [650, 0]], [100, 100])
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=500,
        min_trail_m=0,
        reach_m=20,
        underserved_column="under",
        method="heuristic",
        shape="network",
    )
    facilities = plan.as_facilities()
    assert tuple(facilities.columns) == io.FACILITY_COLUMNS
    assert facilities["facility_id"].tolist() == [f"T{i + 1}" for i in range(len(plan.trails))]
    assert (facilities["kind"] == "fitness_trail").all()
    assert facilities["area_m2"].tolist() == pytest.approx((plan.trails["length_m"] * 2.0).tolist())
    assert (facilities["area_source"] == "length_x_width").all()
    assert facilities["open_to_public"].all()
    assert facilities.crs == network.crs


def test_planner_rejects_bad_input():
    network, _ = _ladder(n=5)
    cells = _cells([[50, 0]], [1])
    with pytest.raises(InputDataError, match="to_crs"):
        trails.plan_trails(network, cells.to_crs(4326), underserved_column="under")
    with pytest.raises(InputDataError, match="dist_m_any"):
        trails.plan_trails(network, cells)
    with pytest.raises(InputDataError, match="budget_m"):
        trails.plan_trails(network, cells, underserved_column="under", budget_m=0)
    holed = _cells([[50, 0], [150, 0], [250, 0]], [1, 2, 3])
    holed.loc[1, "geometry"] = shapely.Polygon()
    holed.loc[2, "geometry"] = None
    with pytest.raises(InputDataError, match=r"cells: 2 rows have missing or empty geometry \(rows 1, 2\)"):
        trails.plan_trails(network, holed, underserved_column="under")


def test_trail_options_plan_as_the_keywords_and_mirror_the_config():
    import dataclasses

    from ordos_geo.config import StudyConfig, sample_config

    rng = np.random.default_rng(3)
    network = _perturbed_grid(rng, 6, 6)
    cells = _cells(rng.uniform(0, 500, size=(40, 2)), rng.integers(1, 50, size=40))
    keywords = dict(budget_m=800.0, min_trail_m=200.0, max_trails=2, reach_m=150.0, width_m=3.0, shape="route")
    options = trails.TrailOptions(**keywords)
    by_options = trails.plan_trails(network, cells, underserved_column="under", options=options)
    by_keywords = trails.plan_trails(network, cells, underserved_column="under", **keywords)
    assert [a.tolist() for a in by_options.segment_ids] == [a.tolist() for a in by_keywords.segment_ids]
    assert by_options.population_reached == by_keywords.population_reached > 0
    assert by_options.width_m == 3.0 and by_options.shape == "route"
    with pytest.raises(InputDataError, match="budget_m given both in options= and as keywords"):
        trails.plan_trails(network, cells, underserved_column="under", options=options, budget_m=900)
    with pytest.raises(InputDataError, match="shape must be one of"):
        trails.TrailOptions(shape="star")  # type: ignore[arg-type]
    # The [trails] section: same defaults, and from_config reads every key.
    mirror = {
        "budget_m": "trail_budget_m",
        "min_trail_m": "min_trail_m",
        "max_trails": "max_trails",
        "reach_m": "trail_reach_m",
        "width_m": "trail_width_m",
        "shape": "trail_shape",
        "max_spur_m": "trail_max_spur_m",
    }
    config_fields = {f.name: f for f in dataclasses.fields(StudyConfig)}
    for option in dataclasses.fields(trails.TrailOptions):
        assert config_fields[mirror[option.name]].default == option.default, option.name
    config = sample_config().with_overrides(trail_budget_m=7_000.0, trail_shape="network", trail_max_spur_m=50.0)
    from_config = trails.TrailOptions.from_config(config)
    assert {name: getattr(from_config, name) for name in mirror} == {
        name: getattr(config, key) for name, key in mirror.items()
    }


def test_prize_model_from_the_cells_snaps_equals_snapping_again():
    from ordos_geo.routing import snap_points

    rng = np.random.default_rng(5)
    network = _perturbed_grid(rng, 6, 6)
    cells = _cells(rng.uniform(-80, 580, size=(60, 2)), rng.integers(0, 50, size=60))
    cells["under"] = rng.random(60) < 0.7
    snapped = snap_points(network, cells, max_snap_distance_m=300.0, polygon_access="centroid")
    for limit in (300.0, 40.0):  # the limit of the snaps, and a shorter one applied to them
        again = trails.build_prize_model(
            network, cells, reach_m=150, underserved_column="under", max_snap_distance_m=limit
        )
        given = trails.build_prize_model(
            network, cells, reach_m=150, underserved_column="under", max_snap_distance_m=limit, cells_snapped=snapped
        )
        assert (given.cell_segment == again.cell_segment).all()
        assert (given.reach != again.reach).nnz == 0
        assert np.array_equal(given.node_population, again.node_population)
    assert (again.cell_segment == -1).any() and (again.cell_segment >= 0).any()
    plan = trails.plan_trails(
        network, cells, underserved_column="under", budget_m=600, min_trail_m=200, reach_m=150, cells_snapped=snapped
    )
    expected = trails.plan_trails(
        network, cells, underserved_column="under", budget_m=600, min_trail_m=200, reach_m=150
    )
    assert [a.tolist() for a in plan.segment_ids] == [a.tolist() for a in expected.segment_ids]
    with pytest.raises(InputDataError, match="one access point per cell"):
        trails.build_prize_model(network, cells.iloc[:10], underserved_column="under", cells_snapped=snapped)


# ------------------------------------------------------------------------------------------------ checker


@pytest.fixture
def checked_grid():
    nodes, edges = _grid(5, 5)  # 0..400 m square, 100 m blocks
    network = walk_network_from_graph(_graph(nodes, edges))
    # Hand distances with reach 150 m to the trail along y=0 from x=0 to x=200:
    # A on the trail; B 60 m up x=300 (160 m to node (200,0)); C 50 m from (200,0);
    # D 40 m above (100,100) = 140 m to (100,0); E far; F not underserved; G 160 m.
    xy = [[50, 0], [300, 60], [250, 0], [100, 140], [400, 400], [10, 300], [0, 160]]
    cells = _cells(
        xy,
        [10, 20, 30, 40, 50, 60, 70],
        underserved=[True, True, True, True, True, False, True],
        district=["West", "East", "East", "West", "East", "West", "West"],
        existing_reached=[False, False, False, False, True, False, False],
    )
    hoods = gpd.GeoDataFrame(
        {"neighbourhood_id": [1, 2], "population": [150.0, 70.0], "district": ["West", "East"]},
        geometry=[
            shapely.box(X0 - 50, Y0 - 50, X0 + 260, Y0 + 260),
            shapely.box(X0 + 260, Y0 - 50, X0 + 450, Y0 + 450),
        ],
        crs=CRS,
    )
    line = shapely.LineString([(X0 - 250, Y0), (X0, Y0), (X0 + 100, Y0), (X0 + 200, Y0)])
    proposed = gpd.GeoDataFrame({"name": ["river walk"]}, geometry=[line], crs=CRS).to_crs(4326)
    return network, cells, hoods, proposed


def test_check_trails_counts_the_population_a_hand_count_gives(checked_grid):
    network, cells, hoods, proposed = checked_grid
    check = trails.check_trails(network, cells, proposed, reach_m=150, neighbourhoods=hoods, underserved_column="under")
    assert check.population_reached_before == pytest.approx(50.0)  # E, by an existing trail
    assert check.population_reached_after == pytest.approx(50.0 + 10 + 30 + 40)  # + A, C, D
    report = check.report.set_index(["level", "district"], drop=False)
    hood = check.report[check.report.level == "neighbourhood"].set_index("neighbourhood_id")
    assert hood.loc[1, "underserved_population"] == pytest.approx(10 + 30 + 40 + 70)
    assert hood.loc[1, "reached_after"] == pytest.approx(80.0)
    assert hood.loc[1, "share_after"] == pytest.approx(80 / 150)
    assert hood.loc[1, "trail_length_m"] == pytest.approx(250.0, abs=0.5)  # from x=-50 to 200 inside the box
    assert not hood.loc[1, "missed"]
    assert hood.loc[2, "underserved_population"] == pytest.approx(20 + 50)
    assert hood.loc[2, "added"] == pytest.approx(0.0)
    assert hood.loc[2, "missed"]
    district = check.report[check.report.level == "district"].set_index("district")
    assert district.loc["West", "underserved_population"] == pytest.approx(120.0)
    assert district.loc["West", "added"] == pytest.approx(50.0)
    assert district.loc["East", "reached_before"] == pytest.approx(50.0)
    assert district.loc["East", "reached_after"] == pytest.approx(80.0)
    total = report.iloc[-1]
    assert total["level"] == "total"
    assert total["underserved_population"] == pytest.approx(220.0)
    # 450 m drawn, of which 200 m lie off the network and are not credited: 250 m x 2 m wide
    assert total["trail_length_m"] == pytest.approx(250.0, abs=0.5)
    assert total["added_area_m2"] == pytest.approx(500.0, abs=1.0)
    assert check.lines["credited_length_m"].iloc[0] == pytest.approx(250.0, abs=0.5)
    # Off-network: the line beyond 50 m west of the grid, 200 m.
    assert check.off_network["length_m"].sum() == pytest.approx(200.0, abs=0.5)
    assert sorted(check.matched["length_m"].tolist()) == [100.0, 100.0]
    assert check.lines["n_pieces"].tolist() == [1]
    assert check.lines["matched_length_m"].iloc[0] == pytest.approx(200.0)


def test_a_trail_wholly_off_the_network_is_an_error(checked_grid):
    network, cells, _, _ = checked_grid
    far = shapely.LineString([(X0 - 2000, Y0), (X0 - 1000, Y0)])  # 1 km west, beyond the 300 m snap distance
    with pytest.raises(InputDataError, match=r"proposed trail 1 \(1,000 m\) lies wholly off the walk network"):
        trails.check_trails(network, cells, gpd.GeoDataFrame(geometry=[far], crs=CRS), underserved_column="under")


def test_trails_are_named_in_messages_and_a_zero_length_trail_is_not_called_off_the_network(checked_grid, caplog):
    network, cells, _, _ = checked_grid
    on = shapely.LineString([(X0, Y0), (X0 + 100, Y0)])
    far = shapely.LineString([(X0 - 2000, Y0), (X0 - 1000, Y0)])
    dot = shapely.LineString([(X0 + 100, Y0), (X0 + 100, Y0)])  # on a street, but one point drawn twice
    named = gpd.GeoDataFrame({"名称": ["河滨步道", "远郊步道"]}, geometry=[on, far], crs=CRS)
    with pytest.raises(InputDataError, match=r"^proposed trail 2 \(远郊步道, 1,000 m\) lies wholly off the walk"):
        trails.check_trails(network, cells, named, underserved_column="under")
    zero = gpd.GeoDataFrame({"name": ["river walk", "gate"]}, geometry=[on, dot], crs=CRS)
    with pytest.raises(
        InputDataError,
        match=r"^proposed trail 2 \(gate\) has no length: its points all lie at one place; draw it with at least "
        r"two distinct points, or drop it$",
    ):
        trails.check_trails(network, cells, zero, underserved_column="under")
    broken = shapely.MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0 + 300, Y0 + 400), (X0 + 400, Y0 + 400)]])
    two = gpd.GeoDataFrame({"name": ["river walk", "two blocks"]}, geometry=[on, broken], crs=CRS)
    with caplog.at_level("WARNING", logger="ordos_geo.trails.check"):
        trails.check_trails(network, cells, two, underserved_column="under")
    assert "proposed trail 2 (two blocks) is broken into 2 pieces on the walk network" in caplog.messages


def test_check_reports_disconnected_pieces(checked_grid):
    network, cells, _, _ = checked_grid
    lines = shapely.MultiLineString([[(X0, Y0), (X0 + 100, Y0)], [(X0 + 300, Y0 + 400), (X0 + 400, Y0 + 400)]])
    proposed = gpd.GeoDataFrame(geometry=[lines], crs=CRS)
    check = trails.check_trails(network, cells, proposed, reach_m=150, underserved_column="under")
    assert check.lines["n_pieces"].tolist() == [2]
    assert check.off_network.empty
    assert set(check.matched["piece"]) == {0, 1}
    # A (own segment), D (40 + 100 m), C (50 + 100 m = exactly the reach) and E (existing, and on
    # the far piece); no neighbourhoods -> district + total rows.
    assert check.population_reached_after == pytest.approx(10 + 40 + 30 + 50)
    assert check.report["level"].tolist() == ["district", "district", "total"]


def test_check_of_a_plan_agrees_with_the_plan(checked_grid):
    network, cells, hoods, _ = checked_grid
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=300,
        min_trail_m=0,
        max_trails=1,
        reach_m=150,
        underserved_column="under",
        shape="network",
    )
    proposed = plan.trails[["trail_id", "geometry"]]
    check = trails.check_trails(
        network, cells, proposed, reach_m=150, underserved_column="under", prize_model=plan.prize_model
    )
    assert plan.population_reached > 0
    assert set(check.segment_ids.tolist()) == set(np.concatenate(plan.segment_ids).tolist())
    planned = trails.trail_report(plan, cells, neighbourhoods=hoods)
    checked = trails.trail_report(check, cells, neighbourhoods=hoods)
    pd.testing.assert_series_equal(planned["reached_after"], checked["reached_after"])
    assert planned.iloc[-1]["trail_length_m"] == pytest.approx(plan.total_length_m)
    assert check.population_reached_after == pytest.approx(planned.iloc[-1]["reached_after"])


def test_check_rejects_lines_without_crs_and_points(checked_grid):
    network, cells, _, proposed = checked_grid
    with pytest.raises(InputDataError, match="no CRS"):
        trails.check_trails(network, cells, proposed.set_crs(None, allow_override=True), underserved_column="under")
    points = gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=CRS)
    with pytest.raises(InputDataError, match="LineStrings"):
        trails.check_trails(network, cells, points, underserved_column="under")


def test_existing_trails_from_the_accessibility_columns(checked_grid):
    network, cells, _, proposed = checked_grid
    cells = cells.drop(columns="existing_reached")
    cells["dist_m_fitness_trail"] = [np.inf, 480.0, np.inf, 520.0, np.inf, np.inf, np.inf]
    check = trails.check_trails(network, cells, proposed, reach_m=150, underserved_column="under")
    # Nobody is within 150 m of an existing trail (B is 480 m away).
    assert check.population_reached_before == pytest.approx(0.0)
    check = trails.check_trails(network, cells, proposed, reach_m=500, underserved_column="under")
    assert check.population_reached_before == pytest.approx(20.0)  # B at 480 m <= 500 m


def test_plan_is_empty_when_nobody_is_underserved(monkeypatch):
    network, _ = _ladder(n=6)
    cells = _cells([[50, 0], [150, 0]], [1, 2], underserved=[False, False])

    def no_search(*args, **kwargs):
        raise AssertionError("searched for trails though no plan can reach anyone")

    # the bound is 0: no solver runs (on a city's streets the vain search took minutes)
    for solver in ("_TreeGrower", "solve_heuristic", "solve_exact", "_solve_network_exact"):
        monkeypatch.setattr(_solvers, solver, no_search)
    plan = trails.plan_trails(network, cells, underserved_column="under")
    assert len(plan.trails) == 0
    assert plan.population_reached == 0 and plan.gap == 0
    assert len(plan.as_facilities()) == 0
    assert trails.trail_report(plan, cells)["level"].tolist() == ["total"]


# ------------------------------------------------------------------------------------------------ loops and routes


def _segment_of_pair(model: trails.TrailPrizeModel) -> dict[frozenset, int]:
    pairs = zip(model.segment_u.tolist(), model.segment_v.tolist(), strict=True)
    return {frozenset(pair): s for s, pair in enumerate(pairs)}


def _all_loops(model: trails.TrailPrizeModel) -> list[tuple[frozenset, list[int]]]:
    """Every simple cycle of the segment graph (networkx), as (junctions, segments)."""
    pair = _segment_of_pair(model)
    graph = nx.Graph([(int(u), int(v)) for u, v in zip(model.segment_u, model.segment_v, strict=False)])
    out = []
    for cycle in nx.simple_cycles(graph):
        segs = [pair[frozenset((a, b))] for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=False)]
        out.append((frozenset(cycle), segs))
    return out


def _all_routes(model: trails.TrailPrizeModel) -> list[tuple[frozenset, list[int]]]:
    """Every simple path of the segment graph (networkx), as (junctions, segments)."""
    pair = _segment_of_pair(model)
    graph = nx.Graph([(int(u), int(v)) for u, v in zip(model.segment_u, model.segment_v, strict=False)])
    out = []
    nodes = sorted(graph)
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            for path in nx.all_simple_paths(graph, a, b):
                out.append((frozenset(path), [pair[frozenset((p, q))] for p, q in itertools.pairwise(path)]))
    return out


def _brute_force_shape(model, trails_found, *, budget, min_len, max_trails) -> float:
    """Best population over every set of at most ``max_trails`` junction-disjoint loops/routes within the rules."""
    ok = [(n, s) for n, s in trails_found if min_len - 1e-9 <= model.segment_length[s].sum() <= budget + 1e-9]
    best = max((model.population_reached(s) for _, s in ok), default=0.0)
    if max_trails >= 2:
        for (na, sa), (nb, sb) in itertools.combinations(ok, 2):
            if not na & nb and model.segment_length[sa + sb].sum() <= budget + 1e-9:
                best = max(best, model.population_reached(sa + sb))
    return best


def _random_instance(seed: int, nx_: int, ny_: int, n_cells: int):
    rng = np.random.default_rng(seed)
    network = _perturbed_grid(rng, nx_, ny_, drop=0.0)
    cells = _cells(rng.uniform(-30, 100 * max(nx_, ny_), size=(n_cells, 2)), rng.integers(1, 100, n_cells))
    model = trails.build_prize_model(network, cells, reach_m=90, underserved_column="under")
    return rng, network, cells, model


@pytest.mark.parametrize(("shape", "seed"), [("loop", 0), ("loop", 1), ("loop", 2), ("route", 3), ("route", 4)])
def test_exact_loops_and_routes_equal_brute_force(shape, seed):
    # 4 x 4 grid: 24 segments for loops; 3 x 4 grid: 17 segments for routes (paths are many more).
    rng, network, cells, model = _random_instance(seed, 4, 4 if shape == "loop" else 3, 30)
    total = model.segment_length.sum()
    budget = float(rng.uniform(0.25, 0.5) * total)
    max_trails = 1 + seed % 2
    min_len = float(rng.choice([0.0, 300.0]))
    found = _all_loops(model) if shape == "loop" else _all_routes(model)
    best = _brute_force_shape(model, found, budget=budget, min_len=min_len, max_trails=max_trails)
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=budget,
        min_trail_m=min_len,
        max_trails=max_trails,
        prize_model=model,
        method="exact",
        shape=shape,
        time_limit_s=600.0,  # a proof, not a race: the default 20 s ran out on a loaded CI machine
    )
    assert plan.population_reached == pytest.approx(best)
    assert plan.upper_bound == pytest.approx(best)  # proven optimal: the MILP's bound, for this shape
    assert plan.bound_shape == shape
    assert plan.total_length_m <= budget + 1e-6
    for row, ids in zip(plan.trails.itertuples(), plan.segment_ids, strict=True):
        graph = _segment_graph(model, ids)
        degrees = sorted(d for _, d in graph.degree())
        if shape == "loop":
            assert row.closed_line and degrees == [2] * len(degrees)
            assert row.geometry.geom_type == "LineString" and row.geometry.is_closed
        else:
            assert degrees == [1, 1] + [2] * (len(degrees) - 2) and nx.is_connected(graph)
            assert row.geometry.geom_type == "LineString" and not row.geometry.is_closed
        assert row.n_spurs == 0 and row.walked_twice_m == 0


@pytest.mark.parametrize(("shape", "seed"), [("loop", 10), ("loop", 11), ("route", 12)])
def test_heuristic_is_within_15_percent_of_exact_on_50_segment_grids(shape, seed):
    # 5 x 6 grid, 49 segments, 30 cells: the exact MILP proves its optimum in seconds here.
    rng, network, cells, model = _random_instance(seed, 5, 6, 30)
    budget = float(rng.uniform(0.2, 0.35) * model.segment_length.sum())
    kwargs = dict(budget_m=budget, min_trail_m=200.0, max_trails=2, prize_model=model, shape=shape)
    exact = trails.plan_trails(network, cells, method="exact", time_limit_s=120, **kwargs)
    heuristic = trails.plan_trails(network, cells, method="heuristic", **kwargs)
    assert exact.gap == pytest.approx(0.0, abs=1e-9)
    assert heuristic.population_reached <= exact.population_reached + 1e-6
    assert heuristic.population_reached >= 0.85 * exact.population_reached
    # The heuristic's own bound (no MILP): the frontier or disc bound, for loops perhaps the loop disc bound.
    assert heuristic.bound_shape in ({"network", "loop"} if shape == "loop" else {"network"})
    assert heuristic.upper_bound >= exact.population_reached - 1e-6


@pytest.mark.parametrize("shape", ["loop", "route"])
def test_loops_and_routes_obey_the_rules_on_random_graphs(shape):
    rng = np.random.default_rng(7)
    network = _perturbed_grid(rng, 9, 9, drop=0.12)
    n = 150
    cells = _cells(rng.uniform(-50, 850, size=(n, 2)), rng.integers(1, 80, n), underserved=rng.random(n) < 0.6)
    excluded = np.flatnonzero(network.edges.u.to_numpy() % 7 == 0)  # every edge leaving some junctions
    plan = trails.plan_trails(
        network,
        cells,
        budget_m=2500,
        min_trail_m=400,
        max_trails=3,
        reach_m=150,
        underserved_column="under",
        forbidden_edges=excluded,
        method="heuristic",
        shape=shape,
    )
    model = plan.prize_model
    assert plan.total_length_m <= 2500 + 1e-6
    assert len(plan.trails) >= 1
    forbidden = set(model.segment_of_edge[excluded].tolist())
    node_sets = []
    for ids, row in zip(plan.segment_ids, plan.trails.itertuples(), strict=True):
        assert not forbidden & set(ids.tolist())
        assert row.length_m >= 400 - 1e-6
        graph = _segment_graph(model, ids)
        assert nx.is_connected(graph)
        degrees = [d for _, d in graph.degree()]
        assert max(degrees) == 2 and (min(degrees) == 2) == (shape == "loop")
        assert row.closed_line == (shape == "loop")
        node_sets.append(set(graph))
    for a, b in itertools.combinations(node_sets, 2):
        assert not a & b
    all_segments = np.concatenate(plan.segment_ids)
    assert plan.population_reached == pytest.approx(model.population_reached(all_segments))
    # The yardstick is the network shape with the same budget and rules.
    network_plan = trails.plan_trails(
        network,
        cells,
        budget_m=2500,
        min_trail_m=400,
        max_trails=3,
        reach_m=150,
        underserved_column="under",
        forbidden_edges=excluded,
        method="heuristic",
        shape="network",
        prize_model=model,
    )
    assert plan.network_population_reached == pytest.approx(network_plan.population_reached)
    assert plan.trails["share_of_network_shape"].iloc[0] == pytest.approx(
        plan.population_reached / network_plan.population_reached
    )


def test_spurs_reach_a_pocket_a_loop_cannot():
    # A 1 km block loop and a 150 m dead-end street north of its corner, with residents at its end.
    nodes = {0: (0, 0), 1: (250, 0), 2: (250, 250), 3: (0, 250), 4: (250, 400)}
    network = walk_network_from_graph(_graph(nodes, [(0, 1), (1, 2), (2, 3), (3, 0), (2, 4)]))
    cells = _cells([[125, 0], [250, 125], [125, 250], [0, 125], [250, 400]], [10, 10, 10, 10, 50])
    kwargs = dict(budget_m=1200, min_trail_m=0, max_trails=1, reach_m=20, underserved_column="under")
    loop = trails.plan_trails(network, cells, shape="loop", **kwargs)
    assert loop.population_reached == pytest.approx(40.0)
    spurred = trails.plan_trails(network, cells, shape="loop", max_spur_m=200, **kwargs)
    assert spurred.population_reached == pytest.approx(90.0)
    row = spurred.trails.iloc[0]
    assert row.length_m == pytest.approx(1150.0)
    assert (row.n_spurs, row.spur_length_m, row.walked_twice_m) == (1, pytest.approx(150.0), pytest.approx(150.0))
    assert not row.closed_line and row.is_loop
    short = trails.plan_trails(network, cells, shape="loop", max_spur_m=100, **kwargs)
    assert short.population_reached == pytest.approx(40.0)


def test_check_reports_shape_breaks_spurs_and_major_road_crossings():
    # A 3 x 3 block grid (200 m blocks, wider than twice the match tolerance); the street at x = 200 is primary.
    nodes, edges = _grid(4, 4, spacing=200.0)
    edges = [(u, v, None, "primary" if u // 4 == v // 4 == 1 else "residential") for u, v in edges]
    network = walk_network_from_graph(_graph(nodes, edges))
    cells = _cells([[50, 50]], [10])

    def line(*points):
        return shapely.LineString([(X0 + 2 * x, Y0 + 2 * y) for x, y in points])

    proposed = gpd.GeoDataFrame(
        geometry=[
            line((0, 0), (300, 0), (300, 100), (0, 100), (0, 0)),  # a loop meeting the primary street twice
            line((0, 200), (300, 200), (300, 300)),  # a route crossing it once
            shapely.MultiLineString(  # a comb: a spine, one 200 m spur, and a piece apart
                [line((0, 300), (300, 300)), line((200, 300), (200, 200)), line((0, 0), (0, 100))]
            ),
        ],
        crs=CRS,
    )
    check = trails.check_trails(network, cells, proposed, reach_m=50, underserved_column="under")
    rows = check.lines.set_index("trail_id")  # numbered from 1: the input has no ids
    # Hand counts.
    assert rows.loc[1, "closed_line"] and rows.loc[1, "is_loop"]
    assert rows.loc[1, "major_road_crossings"] == 2
    assert (rows.loc[1, "n_breaks"], rows.loc[1, "n_spurs"], rows.loc[1, "walked_twice_m"]) == (0, 0, 0.0)
    assert not rows.loc[2, "closed_line"] and not rows.loc[2, "is_loop"]
    assert rows.loc[2, "major_road_crossings"] == 1
    assert (rows.loc[2, "n_breaks"], rows.loc[2, "n_spurs"], rows.loc[2, "walked_twice_m"]) == (0, 0, 0.0)
    comb = rows.loc[3]
    assert not comb.closed_line
    assert (comb.n_breaks, comb.n_spurs, comb.major_road_crossings) == (1, 1, 1)
    assert comb.spur_length_m == pytest.approx(200.0)
    # The same lines a micrometre off (a GCJ-02 round trip, another export): the same crossings, not fewer.
    shifted = proposed.set_geometry(proposed.geometry.translate(1e-6, -1e-6))
    again = trails.check_trails(network, cells, shifted, reach_m=50, underserved_column="under")
    assert again.lines["major_road_crossings"].tolist() == check.lines["major_road_crossings"].tolist() == [2, 1, 1]
    assert comb.walked_twice_m == pytest.approx(200.0)


# ------------------------------------------------------------------------------------------------ bounds


def _brute_force_small(model, *, budget, max_trails) -> float:
    """Best population over every set of segments within budget forming at most ``max_trails`` components."""
    ids = np.flatnonzero(model.segment_length <= budget + 1e-9).tolist()
    r_max = int(budget // model.segment_length.min())
    best = 0.0
    for r in range(1, r_max + 1):
        for subset in itertools.combinations(ids, r):
            if model.segment_length[list(subset)].sum() > budget + 1e-9:
                continue
            if nx.number_connected_components(_segment_graph(model, subset)) <= max_trails:
                best = max(best, model.population_reached(subset))
    return best


def _cell_xy(cells: gpd.GeoDataFrame, model: trails.TrailPrizeModel) -> np.ndarray:
    """Centroids of the prize cells (the points the tube-area cap uses, as plan_trails passes them)."""
    return shapely.get_coordinates(cells.geometry.centroid.to_numpy()[model.cell_positions])


def _strip(seed: int, nx_: int, ny_: int):
    """A long perturbed grid with residents all along it: a short trail can only serve one end."""
    rng = np.random.default_rng(seed)
    network = _perturbed_grid(rng, nx_, ny_, drop=0.0)
    n = 12 * nx_
    xy = np.column_stack([rng.uniform(-30, 100 * nx_ - 70, n), rng.uniform(-30, 100 * ny_ - 70, n)])
    cells = _cells(xy, rng.integers(1, 100, n))
    return network, cells, trails.build_prize_model(network, cells, reach_m=90, underserved_column="under")


@pytest.mark.parametrize(
    ("seed", "columns", "budget", "max_trails", "min_len"),
    [(0, 10, 450.0, 1, 0.0), (1, 10, 700.0, 1, 0.0), (3, 14, 1000.0, 2, 400.0)],
)
def test_the_loop_disc_bound_holds_for_every_set_of_loops_and_binds(seed, columns, budget, max_trails, min_len):
    network, cells, model = _strip(seed, columns, 3)
    graph = nx.Graph([(int(u), int(v)) for u, v in zip(model.segment_u, model.segment_v, strict=True)])
    pair = _segment_of_pair(model)
    found = []
    for cycle in nx.simple_cycles(graph, length_bound=int(budget // model.segment_length.min())):
        segs = [pair[frozenset((a, b))] for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True)]
        found.append((frozenset(cycle), segs))
    best = _brute_force_shape(model, found, budget=budget, min_len=min_len, max_trails=max_trails)
    allowed = np.ones(model.n_segments, dtype=bool)
    kwargs = dict(budget_m=budget, max_trails=max_trails)
    cell_xy = _cell_xy(cells, model)
    loops = disc_bound(model, allowed, network.node_xy, loop=True, min_len_m=min_len, cell_xy=cell_xy, **kwargs)
    frontier = frontier_bound(model, allowed, **kwargs)
    assert best > 0
    assert loops >= best - 1e-6
    # The disc is what binds here: the frontier bound ignores that one short loop serves one end of the strip.
    assert loops < frontier
    plan = trails.plan_trails(
        network, cells, shape="loop", min_trail_m=min_len, prize_model=model, method="heuristic", **kwargs
    )
    assert plan.upper_bound == pytest.approx(loops) and plan.bound_shape == "loop"
    assert best - 1e-6 <= plan.upper_bound and plan.population_reached <= best + 1e-6


@pytest.mark.parametrize(
    ("seed", "budget", "max_trails", "binds"), [(4, 320.0, 1, True), (6, 420.0, 1, True), (6, 420.0, 2, False)]
)
def test_the_connected_disc_bound_holds_for_every_plan_of_connected_trails(seed, budget, max_trails, binds):
    # A 2 x 10 ladder: brute force over every segment set within budget with at most max_trails components.
    network, cells, model = _strip(seed, 10, 2)
    best = _brute_force_small(model, budget=budget, max_trails=max_trails)
    allowed = np.ones(model.n_segments, dtype=bool)
    kwargs = dict(budget_m=budget, max_trails=max_trails)
    connected = disc_bound(model, allowed, network.node_xy, loop=False, cell_xy=_cell_xy(cells, model), **kwargs)
    assert best > 0
    assert connected >= best - 1e-6
    assert (connected < frontier_bound(model, allowed, **kwargs)) == binds
    for shape in ("route", "network"):
        plan = trails.plan_trails(
            network, cells, shape=shape, min_trail_m=0, prize_model=model, method="heuristic", **kwargs
        )
        assert plan.upper_bound >= best - 1e-6 and plan.bound_shape == "network"
        assert plan.population_reached <= best + 1e-6


def _loop_search(model: trails.TrailPrizeModel, cost: np.ndarray, *, budget: float, max_trails: int):
    """The loop heuristic's search state on every segment of ``model`` (no trail yet)."""
    from ordos_geo.trails import heuristic
    from ordos_geo.trails._orienteering import RouteProblem

    problem = RouteProblem(
        reach=model.reach,
        weight=model.population,
        seg_u=model.segment_u,
        seg_v=model.segment_v,
        seg_len=model.segment_length,
        cost=cost,
        allowed=np.ones(model.n_segments, dtype=bool),
        shape="loop",
        budget=budget,
        min_len=0.0,
        max_trails=max_trails,
    )
    return heuristic._Search(problem, detour_m=1_000.0, seed=0)


def _random_loop_search(rng, size: int, n_cells: int, span: float, *, budget: float, max_trails: int):
    """A loop search over a perturbed ``size`` x ``size`` grid with random cells (reach 120 m); and its network."""
    network = _perturbed_grid(rng, size, size, drop=0.05)
    cells = _cells(rng.uniform(-30, span, size=(n_cells, 2)), rng.integers(1, 100, n_cells))
    model = trails.build_prize_model(network, cells, reach_m=120, underserved_column="under")
    return _loop_search(model, model.segment_length.copy(), budget=budget, max_trails=max_trails), network


def test_seeds_priced_in_batches_equal_the_scan_of_every_candidate(monkeypatch):
    # Batches of 3 candidates (of ~130) make the batched choice stop early or grow; it must equal the full scan.
    from ordos_geo.trails import heuristic

    search, network = _random_loop_search(np.random.default_rng(7), 8, 120, 750, budget=2_000.0, max_trails=3)
    problem = search.p
    candidates = np.flatnonzero(problem.usable())
    search.set_trail(0, *search.start_trail(int(candidates[0])))  # some cells reached: marginals < standalone
    monkeypatch.setattr(heuristic, "_SEED_BATCH", 3)
    for spread, k in [(0.0, 1), (150.0, 3), (300.0, 5), (10_000.0, 4)]:
        expected, _ = heuristic._scan_seeds(search, candidates, network.node_xy, spread, k)
        assert heuristic._spread_seeds(search, candidates, network.node_xy, spread, k) == expected
        assert len(expected) >= 1


def test_a_search_stopped_once_its_targets_are_settled_finds_the_same_paths_to_them():
    rng = np.random.default_rng(3)
    network = _perturbed_grid(rng, 7, 7, drop=0.1)
    cells = _cells(rng.uniform(-30, 650, size=(60, 2)), rng.integers(1, 100, 60))
    model = trails.build_prize_model(network, cells, reach_m=120, underserved_column="under")
    cost = model.segment_length * rng.uniform(0.5, 1.0, model.n_segments)
    search = _loop_search(model, cost, budget=3_000.0, max_trails=1)
    search.set_trail(0, *search.start_trail(int(np.argmax(model.segment_population))))
    nodes = search.trails[0].nodes
    n_nodes = network.n_nodes
    for source in range(n_nodes):
        for targets in [set(nodes), {nodes[0]}, {int(rng.integers(n_nodes))}]:
            full = search.dijkstra(source, 900.0, search.cost, targets)
            settled = search.dijkstra(source, 900.0, search.cost, targets, settle=True)
            for t in targets - {source}:
                assert (t in full[1]) == (t in settled[1])
                if t in full[1]:
                    assert search.path_to(full[1], t) == search.path_to(settled[1], t)
                    assert settled[2][t] == full[2][t]


def test_directed_edges_pair_into_the_same_segments_as_a_row_unique():
    from ordos_geo.trails.prize import _pair_directed_edges

    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 500):
        u, v = rng.integers(0, n // 3 + 2, n), rng.integers(0, n // 3 + 2, n)
        length = rng.choice([10.0, 10.04, 12.3, 80.0], n)
        segment_of_edge, first_edge = _pair_directed_edges(pd.DataFrame({"u": u, "v": v, "length": length}))
        keys = [(min(a, b), max(a, b), round(x * 10)) for a, b, x in zip(u, v, length, strict=True)]
        # Reference: one segment per distinct key, numbered in order of the key's first edge.
        firsts = {}
        for i, key in enumerate(keys):
            firsts.setdefault(key, i)
        ids = {key: j for j, key in enumerate(sorted(firsts, key=firsts.__getitem__))}
        assert segment_of_edge.tolist() == [ids[key] for key in keys]
        assert first_edge.tolist() == sorted(firsts.values())


@pytest.mark.parametrize(("ell", "binds"), [(100.0, True), (400.0, False)])
def test_the_tube_cap_of_a_uniform_raster_is_its_hand_count(ell, binds):
    # One resident on every 10 m pixel of a 600 m square, each within 50 m of any trail reaching them.
    g = np.arange(60) * 10.0 + 5.0
    points = np.array([(x, y) for x in g for y in g])
    rasters = _DiscSums(points, 200.0)
    cap = _TubeCap(rasters, points, np.ones(len(points)), np.full(len(points), 50.0), stretch=1.0)
    assert rasters.pixel == 10.0
    # Band radius: 50 m + one pixel of smoothing + a pixel diagonal; at most k pixels fit in the band.
    band = 50.0 + 10.0 + 10.0 * np.sqrt(2.0)
    k = int((np.pi * band**2 + 2.0 * band * ell) // 100.0)
    # Pixels in the disc of radius rho + band around the centre pixel (all hold one resident after smoothing).
    off = np.arange(-20, 21)
    in_disc = int((np.hypot(*np.meshgrid(off, off)) * 10.0 <= 30.0 + band + 1e-9).sum())
    assert (k < in_disc) == binds
    assert cap.at(30, 30, rho=30.0, ell=ell) == pytest.approx(min(k, in_disc))
    # The threshold form (one transform per density level) gives the same: 1 is a level, the interior's value.
    assert cap.everywhere(rho=30.0, ell=ell)[30, 30] == pytest.approx(min(k, in_disc))


@pytest.mark.parametrize("seed", range(3))
def test_a_connected_trail_reaches_within_its_band_whose_area_the_lemma_caps(seed):
    # The two facts the tube-area cap rests on, checked with shapely on a perturbed grid at UTM coordinates:
    # every cell lies within its tube radius of the chord of each segment reaching it (float32 round-off
    # included), and a connected set of chords of length L has an r-neighbourhood of area <= pi r^2 + 2 r L.
    rng = np.random.default_rng(seed)
    network = _perturbed_grid(rng, 6, 5)
    xy = rng.uniform(-50, 550, (300, 2))
    cells = _cells(xy, rng.integers(1, 50, len(xy)))
    model = trails.build_prize_model(network, cells, reach_m=120, underserved_column="under")
    ids = np.arange(model.n_segments)
    anchor, radius, _, point, tube = bound._anchors(model, ids, network.node_xy, _cell_xy(cells, model))
    reached = np.flatnonzero(np.diff(model.reach.tocsc().indptr) > 0)
    chords = shapely.linestrings(np.stack([network.node_xy[model.segment_u], network.node_xy[model.segment_v]], axis=1))
    for k, c in enumerate(reached):
        segs = model.reach[:, c].nonzero()[0]
        to_chord = shapely.distance(shapely.points(point[k]), chords[segs])
        to_end = np.minimum(
            np.hypot(*(network.node_xy[model.segment_u[segs]] - anchor[k]).T),
            np.hypot(*(network.node_xy[model.segment_v[segs]] - anchor[k]).T),
        )
        assert to_chord.max() <= tube[k] <= to_chord.max() + 0.06
        assert to_end.max() <= radius[k] <= to_end.max() + 0.06
    graph = nx.Graph()
    graph.add_edges_from((int(u), int(v)) for u, v in zip(model.segment_u, model.segment_v, strict=True))
    pair = _segment_of_pair(model)
    for _ in range(20):  # random trees and walks grown from a random node
        nodes = [int(rng.choice(list(graph.nodes)))]
        segs = []
        for _ in range(int(rng.integers(1, 15))):
            u = int(rng.choice(nodes))
            v = int(rng.choice(list(graph.neighbors(u))))
            if pair[frozenset((u, v))] not in segs:
                segs.append(pair[frozenset((u, v))])
                nodes.append(v)
        lines = shapely.union_all(chords[segs])
        length = float(shapely.length(chords[segs]).sum())
        for r in (30.0, 120.0):
            assert shapely.area(shapely.buffer(lines, r, quad_segs=64)) <= np.pi * r**2 + 2 * r * length + 1e-6


def _greedy_route(model: trails.TrailPrizeModel, start: int, budget: float) -> list[int]:
    """A path from ``start`` that always takes the next segment adding the most residents (within budget)."""
    ends = collections.defaultdict(list)
    for k, (u, v) in enumerate(zip(model.segment_u.tolist(), model.segment_v.tolist(), strict=True)):
        ends[u].append((k, v))
        ends[v].append((k, u))
    route, seen, at, used = [], {start}, start, 0.0
    while True:
        options = [(k, v) for k, v in ends[at] if v not in seen and used + model.segment_length[k] <= budget]
        if not options:
            return route
        k, at = max(options, key=lambda kv: model.population_reached([*route, kv[0]]))
        route.append(k)
        seen.add(at)
        used += model.segment_length[k]


def test_the_tube_cap_binds_where_everyone_is_underserved_and_holds_for_greedy_routes(monkeypatch):
    # A 3,000-node synthetic city, every resident underserved: a 2 km route's disc holds far more than its band.
    from benchmarks._synthetic import synthetic_cells, synthetic_walk_network

    network = synthetic_walk_network(3000, seed=0)
    cells = synthetic_cells(network, cells_per_node=2.0, seed=1)
    cells["under"] = True
    model = trails.build_prize_model(network, cells, reach_m=300, underserved_column="under")
    allowed = np.ones(model.n_segments, dtype=bool)
    kwargs = dict(budget_m=2000.0, max_trails=1, loop=False, cell_xy=_cell_xy(cells, model))
    monkeypatch.setattr(bound, "_RASTER_SIDE", 250)  # any raster gives a valid bound; a coarser one is faster
    capped = disc_bound(model, allowed, network.node_xy, **kwargs)
    monkeypatch.setattr(bound._TubeCap, "best", lambda self, values, rho, ell, refresh: float(np.max(values)))
    uncapped = disc_bound(model, allowed, network.node_xy, **kwargs)
    assert capped < 0.95 * uncapped
    # Greedy routes from the best-reached junctions: each is a feasible trail, so the bound is above it.
    for start in np.argsort(-model.node_population)[:5].tolist():
        route = _greedy_route(model, start, 2000.0)
        assert model.segment_length[route].sum() <= 2000.0
        assert 0 < model.population_reached(route) <= capped


# ------------------------------------------------------------------------------------------------ band starts


def _loop_problem(model: trails.TrailPrizeModel, *, budget: float, max_trails: int = 1, min_len: float = 0.0):
    from ordos_geo.trails._orienteering import RouteProblem

    return RouteProblem(
        reach=model.reach,
        weight=model.population,
        seg_u=model.segment_u,
        seg_v=model.segment_v,
        seg_len=model.segment_length,
        cost=model.segment_length.copy(),
        allowed=np.ones(model.n_segments, dtype=bool),
        shape="loop",
        budget=budget,
        min_len=min_len,
        max_trails=max_trails,
    )


@pytest.mark.parametrize("degrees", [0.0, 30.0, -20.0])
def test_street_direction_is_the_grids_angle(degrees):
    from ordos_geo.trails._band_starts import street_direction
    from ordos_geo.trails._loop_search import _Search

    nodes, edges = _grid(6, 5)
    theta = np.radians(degrees)
    cos, sin = np.cos(theta), np.sin(theta)
    turned = {n: (x * cos - y * sin, x * sin + y * cos) for n, (x, y) in nodes.items()}
    network = walk_network_from_graph(_graph(turned, edges))
    model = trails.build_prize_model(network, _cells([[50.0, 0.0]], [1.0]), reach_m=100, underserved_column="under")
    search = _Search(_loop_problem(model, budget=1_000.0), detour_m=500.0, seed=0)
    assert street_direction(search, network.node_xy) == pytest.approx(theta, abs=1e-9)


def test_band_sums_equal_a_count_of_the_cells_in_each_band():
    from ordos_geo.trails._band_starts import _BandRaster
    from ordos_geo.trails._loop_search import _Search

    rng = np.random.default_rng(5)
    network = walk_network_from_graph(_graph(*_grid(8, 8)))
    xy = rng.uniform(0, 700, size=(300, 2))
    cells = _cells(xy, rng.integers(1, 50, 300))
    model = trails.build_prize_model(network, cells, reach_m=100, underserved_column="under")
    search = _Search(_loop_problem(model, budget=1_600.0), detour_m=500.0, seed=0)
    cell_xy = network.node_xy[0] + xy[model.cell_positions]  # the network's coordinates (X0, Y0 at node 0)
    raster = _BandRaster(search, cell_xy, 100.0, 0.0)
    weight = raster.weight
    table = raster.table(weight)
    rp = 10  # reach in pixels (10 m)
    for a_px, b_px in [(20, 20), (35, 5), (12, 28)]:
        band = raster.boxes(table, b_px + rp, a_px + rp)
        if a_px > rp and b_px > rp:
            band = band - raster.boxes(table, b_px - rp, a_px - rp)
        for row, col in rng.integers(0, min(raster.shape), size=(20, 2)):
            dr, dc = np.abs(raster.row - row), np.abs(raster.col - col)
            outer = (dr <= b_px + rp) & (dc <= a_px + rp)
            inner = (dr <= b_px - rp) & (dc <= a_px - rp) if a_px > rp and b_px > rp else np.zeros(len(dr), bool)
            assert band[row, col] == pytest.approx(weight[outer & ~inner].sum())
    # The best rectangle of a perimeter is the band holding most: no centre and aspect on the raster holds more.
    value, a, b, _ = raster.best_rectangles(weight, 1_600.0, n=1, spread=200.0)[0]
    assert a + b == pytest.approx(400.0)
    for a_px in range(4, 37, 5):
        b_px = 40 - a_px
        band = raster.boxes(table, b_px + rp, a_px + rp)
        if a_px > rp and b_px > rp:
            band = band - raster.boxes(table, b_px - rp, a_px - rp)
        assert band.max() <= value + 1e-9


def test_a_band_start_traces_the_ring_of_underserved_residents():
    # Residents only along the sides of a 1,200 x 800 m rectangle of a 100 m grid; a 4 km loop can reach them
    # all only by walking exactly that rectangle.
    from ordos_geo.trails._band_starts import _BandRaster, start_band_loops
    from ordos_geo.trails._loop_search import _Search
    from ordos_geo.trails.heuristic import solve_heuristic

    nodes, edges = _grid(21, 15)
    network = walk_network_from_graph(_graph(nodes, edges))
    x0, y0, x1, y1 = 400.0, 300.0, 1_600.0, 1_100.0
    ring = [(x, y0) for x in np.arange(x0, x1, 100.0)] + [(x1, y) for y in np.arange(y0, y1, 100.0)]
    ring += [(x, y1) for x in np.arange(x1, x0, -100.0)] + [(x0, y) for y in np.arange(y1, y0, -100.0)]
    xy = np.asarray(ring)  # at the ring's junctions
    population = np.arange(1, len(xy) + 1, dtype=float)
    model = trails.build_prize_model(network, _cells(xy, population), reach_m=30, underserved_column="under")
    problem = _loop_problem(model, budget=4_000.0)
    cell_xy = network.node_xy[0] + xy[model.cell_positions]
    search = _Search(problem, detour_m=1_500.0, seed=0)
    raster = _BandRaster(search, cell_xy, 30.0, 0.0)
    assert start_band_loops(search, raster, network.node_xy, 1)
    (loop,) = search.trails

    def on_ring(p: np.ndarray) -> bool:
        x, y = p - network.node_xy[0]
        side_x = (abs(x - x0) < 1 or abs(x - x1) < 1) and y0 - 1 <= y <= y1 + 1
        side_y = (abs(y - y0) < 1 or abs(y - y1) < 1) and x0 - 1 <= x <= x1 + 1
        return side_x or side_y

    ends = network.node_xy[model.segment_u], network.node_xy[model.segment_v]
    ring_segments = {s for s in range(model.n_segments) if on_ring(ends[0][s]) and on_ring(ends[1][s])}
    assert len(ring_segments) == 40
    assert set(loop.segs) == ring_segments and len(loop.nodes) == 40
    assert search.value() == pytest.approx(population.sum())
    found = solve_heuristic(problem, network.node_xy, cell_xy=cell_xy, reach_m=30.0)
    assert found.value == pytest.approx(population.sum())


def test_a_short_loop_fills_up_to_min_length_in_a_few_moves_on_short_streets():
    # 10 m blocks (as the crossings and sidewalks of a real extract): a loop 960 m short of min_trail_m fills up
    # with the move that brings it closest, not with the smallest detour each time (each move is a dozen searches;
    # taking the smallest, this loop took 48 moves, and a central Helsinki plan 270 s instead of 14 s).
    from ordos_geo.trails._loop_search import _Search

    network = walk_network_from_graph(_graph(*_grid(40, 40, spacing=10.0)))
    model = trails.build_prize_model(network, _cells([[200.0, 200.0]], [50.0]), reach_m=30, underserved_column="under")
    search = _Search(_loop_problem(model, budget=2_000.0, min_len=1_000.0), detour_m=1_500.0, seed=0)
    seed = int(np.argmax(model.segment_population))
    search.set_trail(0, *search.start_trail(seed))
    assert search.trails[0].length == pytest.approx(40.0)
    moves = []
    set_trail = search.set_trail
    search.set_trail = lambda t, nodes, segs: (moves.append(len(segs)), set_trail(t, nodes, segs))  # type: ignore[method-assign]
    search.improve(0)
    assert 1_000.0 - 1e-6 <= search.trails[0].length <= 2_000.0 + 1e-6
    assert search.value() == pytest.approx(50.0)
    assert len(moves) <= 20
    assert moves == sorted(moves)  # every move lengthens the loop


def _reference_free_paths(seg_u, seg_v, seg_len, weight, usable, owner, used, source, targets):
    """Least-weight paths from ``source`` by networkx: held junctions other than targets closed, targets sinks."""

    def passable(x: int) -> bool:
        return owner[x] < 0 and x not in targets

    graph = nx.DiGraph()
    for s in usable:
        if used[s]:
            continue
        for x, y in ((int(seg_u[s]), int(seg_v[s])), (int(seg_v[s]), int(seg_u[s]))):
            tail = "source" if x == source else (x if passable(x) else None)
            head = ("sink", y) if y in targets else (y if passable(y) and y != source else None)
            if tail is None or head is None:
                continue
            if not graph.has_edge(tail, head) or graph[tail][head]["w"] > weight[s]:
                graph.add_edge(tail, head, w=float(weight[s]), seg=int(s))
    if "source" not in graph:
        return {}
    dist, paths = nx.single_source_dijkstra(graph, "source", weight="w")
    found = {}
    for head, path in paths.items():
        if head == "source":
            continue
        segs = [graph[a][b]["seg"] for a, b in itertools.pairwise(path)]
        y = head[1] if isinstance(head, tuple) else head
        found[(y, isinstance(head, tuple))] = (dist[head], float(seg_len[segs].sum()), segs)
    return found


@pytest.mark.parametrize("scale", [(0.2, 1.0), (1.0, 1.0), (1.0, 2.5)])
def test_free_paths_equal_a_networkx_search_with_held_junctions_walked_segments_and_a_length_limit(scale):
    # Random street graph with parallel segments; trail 0 holds the targets, trail 1 holds junctions never
    # entered, some segments are walked. Weights below, equal to and above the length: the least-weight path
    # is kept only when its true length is within the limit.
    from ordos_geo.trails._free_paths import FreeGraph

    rng = np.random.default_rng(11)
    n = 40
    u = rng.integers(0, n, 110)
    v = (u + rng.integers(1, 6, 110)) % n
    u, v = np.concatenate([u, u[:10]]), np.concatenate([v, v[:10]])  # ten parallel pairs
    seg_len = rng.uniform(10.0, 100.0, len(u))
    usable = np.flatnonzero(u != v)
    owner = [-1] * n
    targets = {int(x) for x in rng.choice(n, 8, replace=False)}
    for x in targets:
        owner[x] = 0
    for x in rng.choice(sorted(set(range(n)) - targets), 5, replace=False):
        owner[int(x)] = 1
    used = (rng.random(len(u)) < 0.15).tolist()
    free = [x for x in range(n) if owner[x] < 0]
    sources = sorted(targets)[:3] + free[:2] + [next(x for x in range(n) if owner[x] == 1)]
    graph = FreeGraph(u, v, seg_len, usable, n)
    limit = 160.0
    weights = [seg_len * rng.uniform(*scale, len(u)), None]
    checked = too_long = 0
    for weight, paths in zip(
        weights, graph.search(sources, limit, weights, targets, owner=owner, used=used), strict=True
    ):
        w = seg_len if weight is None else weight
        for k, source in enumerate(sources):
            expected = _reference_free_paths(u, v, seg_len, w, usable, owner, used, source, targets)
            got = {}
            for node in paths.reached(k).tolist():
                nodes, segs = paths.path(k, node)
                assert nodes[0] == source and nodes[-1] == paths.junction[node]
                assert paths.true[k, node] == pytest.approx(seg_len[segs].sum())
                got[(nodes[-1], bool(node >= paths.n_free))] = (float(w[segs].sum()), seg_len[segs].sum(), segs)
            for key, (dist, length, segs) in expected.items():
                if length > limit:
                    too_long += 1
                    assert key not in got
                    continue
                checked += 1
                assert got[key][0] == pytest.approx(dist)
                assert got[key][2] == segs
            assert set(got) <= set(expected)
            along = paths.along(np.asarray(w, dtype=float))[k]
            for (y, is_sink), (dist, _, _) in got.items():
                node = paths.sink[y] if is_sink else int(np.flatnonzero(paths.junction[: paths.n_free] == y)[0])
                assert along[node] == pytest.approx(dist)
    assert checked > 20 and too_long > 5


def test_move_deltas_and_path_gains_equal_the_value_of_the_segments_after_the_move():
    rng = np.random.default_rng(8)
    search, _ = _random_loop_search(rng, 7, 80, 650, budget=3_000.0, max_trails=1)
    problem = search.p
    n_segments = len(problem.seg_len)
    search.set_trail(0, *search.start_trail(int(np.argmax(search.standalone))))
    segs = search.trails[0].segs
    before = problem.value(segs)
    known: dict[tuple[int, ...], float] = {}
    for _ in range(60):
        removed = [int(s) for s in rng.choice(segs, int(rng.integers(0, len(segs) + 1)), replace=False)]
        added = [int(s) for s in rng.integers(0, n_segments, int(rng.integers(0, 6)))]
        after = [s for s in segs if s not in removed] + added
        assert search.delta(removed, added) == pytest.approx(problem.value(after) - before)
        fresh = [s for s in added if s not in segs] or [int(rng.integers(n_segments))]
        expected = problem.value(segs + fresh) - before
        assert search.path_gain(fresh) == pytest.approx(expected)
        assert search.path_gain(fresh, known) == pytest.approx(expected)
        assert search.path_gain(fresh[::-1], known) == pytest.approx(expected)  # the same path the other way


def test_free_paths_on_a_hand_built_graph_keep_the_least_weight_path_only_within_the_limit():
    # 0-1-2 is 200 m (weight 200), 0-3-2 is 300 m but weighs 60, 0-1-4-2 is 160 m through junction 4 held by
    # another trail; junction 2 is the target (held by the searching trail, like junction 0, the source).
    from ordos_geo.trails._free_paths import FreeGraph

    u, v = np.array([0, 1, 0, 3, 1, 4]), np.array([1, 2, 3, 2, 4, 2])
    length = np.array([100.0, 100.0, 150.0, 150.0, 50.0, 10.0])
    cheap = np.array([100.0, 100.0, 30.0, 30.0, 50.0, 10.0])
    graph = FreeGraph(u, v, length, np.arange(6), 5)
    owner = [0, -1, 0, -1, 1]
    used = [False] * 6

    def reach(limit: float, weight: np.ndarray | None, walked: list[bool]) -> tuple[list[int], float] | None:
        (paths,) = graph.search([0], limit, [weight], {0, 2}, owner=owner, used=walked)
        node = paths.sink[2]
        return (paths.path(0, node)[1], float(paths.true[0, node])) if paths.pred[0, node] >= 0 else None

    assert reach(350.0, None, used) == ([0, 1], 200.0)  # not through held junction 4 (160 m)
    assert reach(350.0, cheap, used) == ([2, 3], 300.0)  # the cheaper way, 300 m long
    assert reach(250.0, cheap, used) is None  # its least-weight path is too long
    assert reach(350.0, None, [False, True, False, False, False, False]) == ([2, 3], 300.0)  # 1-2 walked
    assert reach(199.0, None, used) is None


def test_tree_growths_search_equals_networkx_around_walked_and_parallel_segments():
    from ordos_geo.trails._tree_growth import _Tree, _TreeGrower

    rng = np.random.default_rng(21)
    nodes, edges = _grid(7, 6)
    nodes = {n: (x + rng.uniform(-20, 20), y + rng.uniform(-20, 20)) for n, (x, y) in nodes.items()}
    edges = [(u, v, float(np.hypot(*np.subtract(nodes[u], nodes[v]))) * rng.uniform(1.0, 1.3)) for u, v in edges]
    edges += [(u, v, length * rng.uniform(0.7, 1.5)) for u, v, length in edges[::6]]  # parallel streets
    network = walk_network_from_graph(_graph(nodes, edges))
    model = trails.build_prize_model(network, _cells([[250.0, 250.0]], [10.0]), reach_m=100, underserved_column="under")
    grower = _TreeGrower(
        model,
        np.ones(model.n_segments, dtype=bool),
        model.segment_length,
        budget_m=2_000.0,
        min_trail_m=0.0,
        jump_m=400,
    )
    walked = [int(s) for s in rng.choice(model.n_segments, 12, replace=False)]
    grower.trails.append(_Tree())
    grower.add(0, walked)
    grower.remove(0, walked[0])  # back in the graph
    walked = walked[1:]

    def reference(sources: list[int], limit: float) -> dict[int, float]:
        graph = nx.MultiGraph()
        graph.add_nodes_from(range(network.n_nodes))
        for s in set(range(model.n_segments)) - set(walked):
            graph.add_edge(int(model.segment_u[s]), int(model.segment_v[s]), length=float(model.segment_length[s]))
        return nx.multi_source_dijkstra_path_length(graph, set(sources), cutoff=limit, weight="length")

    checked = 0
    for sources, limit in [([0], 350.0), (list(grower.trails[0].degree), 400.0), ([5, 17, 30], 1e9)]:
        order, dist, pred = grower._tree(sources, limit)
        expected = reference(sources, limit)
        assert set(order) == set(expected) - set(sources)
        assert [dist[n] for n in order] == sorted(dist[n] for n in order)  # nearest first
        for n in order:
            assert dist[n] == pytest.approx(expected[n], abs=1e-6)
            parent, s = pred[n]
            assert {int(model.segment_u[s]), int(model.segment_v[s])} == {parent, n} and s not in walked
            assert dist[n] == pytest.approx(dist[parent] + model.segment_length[s], abs=1e-6)
            checked += 1
    assert checked > 60


def test_the_band_raster_of_a_whole_prefecture_stays_within_its_pixel_cap():
    from ordos_geo.trails import _band_starts
    from ordos_geo.trails._loop_search import _Search

    rng = np.random.default_rng(8)
    network = walk_network_from_graph(_graph(*_grid(8, 8)))
    cells = _cells(rng.uniform(0, 700, size=(300, 2)), rng.integers(1, 50, 300))
    model = trails.build_prize_model(network, cells, reach_m=500, underserved_column="under")
    search = _Search(_loop_problem(model, budget=10_000.0), detour_m=1_500.0, seed=0)
    spread = rng.uniform(0, 300_000, size=(len(model.population), 2))  # cells across 300 km, as Ordos is
    raster = _band_starts._BandRaster(search, spread, 500.0, 0.0)
    rows, cols = raster.shape
    assert rows * cols <= _band_starts._MAX_PIXELS + rows + cols + 1
    assert raster.px == pytest.approx(np.sqrt((300_000 + 2_000) ** 2 / _band_starts._MAX_PIXELS), rel=0.01)
    # Every cell lands in the raster and the band sums hold all of them in one big enough box.
    assert raster.row.min() >= 0 and raster.row.max() < rows and raster.col.max() < cols
    assert raster.boxes(raster.table(raster.weight), rows, cols).max() == pytest.approx(raster.weight.sum())
    small = _band_starts._BandRaster(search, spread / 1_000, 500.0, 0.0)  # 300 m across: reach / 10 pixels
    assert small.px == pytest.approx(50.0)
