"""Accessibility stage: distances on hand-built graphs with known answers and a networkx reference."""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from ordos_geo import accessibility as acc
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork, walk_network_from_graph

CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 4_400_000.0


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def make_network(nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int, bool]]) -> WalkNetwork:
    """osmnx-style projected MultiDiGraph: straight edges, length = Euclidean; oneway=True adds one direction."""
    graph = nx.MultiDiGraph(crs=CRS)
    for node, (x, y) in nodes.items():
        graph.add_node(node, x=X0 + x, y=Y0 + y)
    for a, b, oneway in edges:
        length = math.dist(nodes[a], nodes[b])
        graph.add_edge(a, b, length=length, highway="footway")
        if not oneway:
            graph.add_edge(b, a, length=length, highway="footway")
    return walk_network_from_graph(graph)


def points(xy, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in xy], crs=CRS)


def facilities(xy, ids, kinds=None, **columns) -> gpd.GeoDataFrame:
    kinds = kinds or ["park"] * len(ids)
    return points(xy, facility_id=list(ids), kind=list(kinds), **columns)


def square_cells(centres, size=20.0, population=None) -> gpd.GeoDataFrame:
    population = population or [100.0] * len(centres)
    geoms = [
        shapely.box(X0 + x - size / 2, Y0 + y - size / 2, X0 + x + size / 2, Y0 + y + size / 2) for x, y in centres
    ]
    return gpd.GeoDataFrame({"cell_id": np.arange(len(centres)), "population": population}, geometry=geoms, crs=CRS)


@pytest.fixture
def footbridge() -> WalkNetwork:
    # 1 -> 2 is a one-way footbridge (100 m); the way back is the detour 2 - 3 - 1 (2 x 206.155 m).
    return make_network({1: (0, 0), 2: (100, 0), 3: (50, 200)}, [(1, 2, True), (1, 3, False), (3, 2, False)])


DETOUR = 2 * math.hypot(50, 200)


# --------------------------------------------------------------------------------------------------
# snapping
# --------------------------------------------------------------------------------------------------


def test_snap_mid_segment_offset_and_snap_distance():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    snapped = acc.snap_points(network, points([(30, 12)]))
    assert len(snapped) == 1
    edge = network.edges.iloc[snapped.edge[0]]
    offset_from_node1 = snapped.offset_m[0] if edge["u"] == 0 else edge["length"] - snapped.offset_m[0]
    assert offset_from_node1 == pytest.approx(30.0)
    assert snapped.snap_distance_m[0] == pytest.approx(12.0)


def test_cell_at_30_percent_of_edge_distances_along_edge():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = points([(30, 5)])
    assert acc.nearest_facility(network, cells, facilities([(100, 0)], ["b"]))["distance_m"].iloc[0] == pytest.approx(
        70
    )
    assert acc.nearest_facility(network, cells, facilities([(0, 0)], ["a"]))["distance_m"].iloc[0] == pytest.approx(30)
    # a facility on the same edge, measured directly along it (not via a node)
    assert acc.nearest_facility(network, cells, facilities([(55, -3)], ["c"]))["distance_m"].iloc[0] == pytest.approx(
        25
    )


def test_two_way_street_is_snapped_once_and_deterministically():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    a = acc.snap_points(network, points([(40, 1), (40, -1)]))
    # both directed edges share a geometry: the same (lowest-index) edge is chosen for both points
    assert a.edge[0] == a.edge[1] == 0


def test_max_snap_distance_makes_cell_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = square_cells([(50, 400), (50, 100)])
    fac = facilities([(50, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    out = result.cells
    assert out["snap_distance_m"].tolist() == pytest.approx([400.0, 100.0])
    assert out["reachable"].tolist() == [False, True]
    assert math.isinf(out["dist_m_any"].iloc[0])
    assert pd.isna(out["nearest_id_any"].iloc[0])
    assert out["dist_m_any"].iloc[1] == pytest.approx(0.0)
    nearest = acc.nearest_facility(network, cells, fac, max_snap_distance_m=50.0)
    assert np.isinf(nearest["distance_m"]).all()


def test_far_facility_is_reported_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    fac = facilities([(50, 0), (50, 350)], ["near", "far"], area_m2=[1.0, 1.0], open_to_public=[True, True])
    result = acc.compute_accessibility(network, square_cells([(0, 0)]), fac, service_areas_by="none")
    assert result.facilities.set_index("facility_id")["reachable"].to_dict() == {"near": True, "far": False}
    assert result.facilities.set_index("facility_id")["snap_distance_m"]["far"] == pytest.approx(350.0)


# --------------------------------------------------------------------------------------------------
# distances with known answers
# --------------------------------------------------------------------------------------------------


def test_one_way_footbridge(footbridge):
    cells = points([(10, 0), (90, 0)])
    east = facilities([(90, 0)], ["east"])
    west = facilities([(10, 0)], ["west"])
    to_east = acc.nearest_facility(footbridge, cells, east)["distance_m"].to_numpy()
    to_west = acc.nearest_facility(footbridge, cells, west)["distance_m"].to_numpy()
    assert to_east == pytest.approx([80.0, 0.0])  # along the bridge
    assert to_west == pytest.approx([0.0, 10 + DETOUR + 10])  # against it: round the detour
    od = acc.od_distances(footbridge, cells, pd.concat([east, west], ignore_index=True), max_distance_m=1_000)
    table = {(o, d): x for o, d, x in od.itertuples(index=False)}
    assert table[(0, 0)] == pytest.approx(80.0)
    assert table[(1, 1)] == pytest.approx(20 + DETOUR)
    # reversing origins and destinations reverses the walk
    back = acc.od_distances(footbridge, west, cells, max_distance_m=1_000)
    assert back.set_index("destination")["distance_m"].to_dict() == pytest.approx({0: 0.0, 1: 80.0})


def test_one_way_footbridge_with_cap(footbridge):
    cells = points([(90, 0)])
    west = facilities([(10, 0)], ["west"])
    assert np.isinf(acc.nearest_facility(footbridge, cells, west, max_distance_m=400)["distance_m"].iloc[0])
    od = acc.od_distances(footbridge, cells, west, max_distance_m=400)
    assert od.empty


def test_equal_distance_tie_goes_to_smallest_facility_id():
    network = make_network({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2, False), (2, 3, False)])
    cells = points([(100, 3)])
    for ids in (["b", "a"], ["a", "b"]):
        fac = facilities([(20, 0), (180, 0)], ids)
        result = acc.nearest_facility(network, cells, fac)
        assert result["facility_id"].iloc[0] == "a"
        assert result["distance_m"].iloc[0] == pytest.approx(80.0)
    # the tie rule holds across kinds too
    fac = facilities([(20, 0), (180, 0)], ["z1", "k9"], kinds=["park", "pitch"], area_m2=[0.0, 0.0])
    res = acc.compute_accessibility(network, square_cells([(100, 3)]), fac, service_areas_by="none").cells
    assert res["nearest_id_any"].iloc[0] == "k9"
    assert res["dist_m_park"].iloc[0] == pytest.approx(80.0)


def test_unreachable_component_is_inf():
    network = make_network({1: (0, 0), 2: (100, 0), 3: (0, 250), 4: (100, 250)}, [(1, 2, False), (3, 4, False)])
    cells = points([(50, 0), (50, 250)])
    fac = facilities([(50, 250)], ["island"])
    result = acc.nearest_facility(network, cells, fac)
    assert math.isinf(result["distance_m"].iloc[0])
    assert pd.isna(result["facility_id"].iloc[0])
    assert result["distance_m"].iloc[1] == pytest.approx(0.0)
    assert result["facility_id"].iloc[1] == "island"


def test_polygon_park_reached_at_boundary_not_centroid():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    park = gpd.GeoDataFrame(
        {"facility_id": ["p"], "kind": ["park"]},
        geometry=[shapely.box(X0 + 400, Y0 + 20, X0 + 500, Y0 + 120)],
        crs=CRS,
    )
    result = acc.nearest_facility(network, points([(0, 5), (1000, 5), (450, -5)]), park)
    # nearest gate on the fence: x = 400 from the west, x = 500 from the east, straight across from the middle
    assert result["distance_m"].tolist() == pytest.approx([400.0, 500.0, 0.0])


def test_polygon_entrances_replace_boundary():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    park = gpd.GeoDataFrame(
        {"facility_id": ["p"], "kind": ["park"], "entrances": [shapely.Point(X0 + 480, Y0 + 20)]},
        geometry=[shapely.box(X0 + 400, Y0 + 20, X0 + 500, Y0 + 120)],
        crs=CRS,
    )
    result = acc.nearest_facility(network, points([(0, 5)]), park)
    assert result["distance_m"].iloc[0] == pytest.approx(480.0)


def test_trail_line_reached_anywhere_along_it():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    trail = gpd.GeoDataFrame(
        {"facility_id": ["t"], "kind": ["fitness_trail"]},
        geometry=[shapely.LineString([(X0 + 300, Y0 + 10), (X0 + 700, Y0 + 10)])],
        crs=CRS,
    )
    result = acc.nearest_facility(network, points([(0, 0), (500, 0), (900, 0)]), trail)
    assert result["distance_m"].tolist() == pytest.approx([300.0, 0.0, 200.0])


def test_crs_mismatch_is_a_clear_error():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    with pytest.raises(InputDataError, match="to_crs"):
        acc.snap_points(network, points([(1, 1)]).to_crs(4326))


def test_duplicate_facility_ids_rejected():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    with pytest.raises(InputDataError, match="facility_id"):
        acc.nearest_facility(network, points([(1, 1)]), facilities([(0, 0), (50, 0)], ["x", "x"]))


# --------------------------------------------------------------------------------------------------
# coverage, E2SFCA, service areas, underserved
# --------------------------------------------------------------------------------------------------


def test_minutes_to_metres():
    assert acc.minutes_to_metres(15) == pytest.approx(1125.0)
    assert acc.minutes_to_metres([4, 8], walk_speed_kmh=6.0).tolist() == pytest.approx([400.0, 800.0])
    assert acc.covered_column(1000.0) == "covered_1000m"
    assert acc.dist_column("park") == "dist_m_park"


def test_coverage_tiers_service_and_e2sfca_by_hand():
    # street 0..2000 m; a court (800 m²) at x=0, a fitness centre (1,500 m²) at x=1000
    network = make_network({1: (0, 0), 2: (1000, 0), 3: (2000, 0)}, [(1, 2, False), (2, 3, False)])
    fac = facilities(
        [(0, 0), (1000, 0)],
        ["court", "centre"],
        kinds=["multi_sport_court", "fitness_centre"],
        area_m2=[800.0, 1500.0],
        open_to_public=[True, True],
    )
    cells = square_cells([(200, 0), (450, 0), (1700, 0)], population=[100.0, 200.0, 50.0])
    out = acc.compute_accessibility(network, cells, fac, thresholds_min=[4, 8], service_areas_by="none").cells
    assert out["dist_m_multi_sport_court"].tolist() == pytest.approx([200.0, 450.0, 1700.0])
    assert out["dist_m_fitness_centre"].tolist() == pytest.approx([800.0, 550.0, 700.0])
    assert out["dist_m_any"].tolist() == pytest.approx([200.0, 450.0, 700.0])
    assert out["nearest_id_any"].tolist() == ["court", "court", "centre"]
    # 4 and 8 minutes at 4.5 km/h = 300 and 600 m
    assert out["covered_300m"].tolist() == [True, False, False]
    assert out["covered_600m"].tolist() == [True, True, False]
    # service distances: court 500 m, fitness centre 1,000 m
    assert out["covered_service"].tolist() == [True, True, True]
    # E2SFCA by hand, steps 0-300 1.0, 300-600 0.68, 600-1000 0.22
    r_court = 800.0 / (100 * 1.0 + 200 * 0.68)
    r_centre = 1500.0 / (100 * 0.22 + 200 * 0.68 + 50 * 0.22)
    expected = [r_court * 1.0 + r_centre * 0.22, r_court * 0.68 + r_centre * 0.68, r_centre * 0.22]
    assert out["e2sfca_m2_per_capita"].tolist() == pytest.approx(expected)
    # every m² of reachable supply is shared out exactly once
    assert (out["e2sfca_m2_per_capita"] * out["population"]).sum() == pytest.approx(2300.0)
    assert out["opportunities_1000m"].tolist() == [2, 2, 1]


def test_closed_school_venue_left_out():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    fac = facilities(
        [(100, 0), (600, 0)],
        ["school", "pitch"],
        kinds=["school_venue", "pitch"],
        area_m2=[5000.0, 1000.0],
        open_to_public=[False, True],
    )
    out = acc.compute_accessibility(network, square_cells([(100, 0)]), fac, service_areas_by="none").cells
    assert out["nearest_id_any"].iloc[0] == "pitch"
    assert "dist_m_school_venue" not in out.columns
    assert out["e2sfca_m2_per_capita"].iloc[0] == pytest.approx(1000.0 / 100.0)


def test_service_area_follows_streets_not_hull():
    # two streets 150 m apart joined only at the west end (x=0): a "river" between them
    network = make_network(
        {1: (0, 0), 2: (1000, 0), 3: (0, 150), 4: (1000, 150)}, [(1, 2, False), (3, 4, False), (1, 3, False)]
    )
    fac = facilities([(500, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    areas = acc.service_areas(network, fac, thresholds_m=[300, 700], buffer_m=50)
    assert sorted(areas["threshold_m"]) == [300.0, 700.0]
    small = areas.loc[areas["threshold_m"] == 300, "geometry"].iloc[0]
    big = areas.loc[areas["threshold_m"] == 700, "geometry"].iloc[0]

    def inside(poly, x, y):
        return poly.contains(shapely.Point(X0 + x, Y0 + y))

    # 300 m: street from x=200 to x=800, plus the 50 m band
    assert inside(small, 210, 0) and inside(small, 790, 0) and inside(small, 240, 45)
    assert not inside(small, 140, 0) and not inside(small, 860, 0)
    # 700 m: west end reached (500 m), up the link (150 m) and 50 m along the far street only
    assert inside(big, 0, 100) and inside(big, 40, 150)
    assert not inside(big, 500, 150)  # straight across the river is 150 m away but 1,150 m by foot
    assert big.area < 2 * (1000 + 200) * 100


def test_underserved_neighbourhoods_grouping_and_rank():
    network = make_network({1: (0, 0), 2: (3000, 0)}, [(1, 2, False)])
    fac = facilities([(0, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    centres = [(100, 0), (1500, 0), (1520, 0), (1540, 0), (2500, 0)]
    cells = square_cells(centres, size=20.0, population=[10.0, 5.0, 5.0, 5.0, 40.0])
    cells["district"] = ["A", "A", "B", "B", "C"]
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    nb = result.underserved
    # two neighbourhoods: the three touching cells (15 people) and the lone cell at 2,500 m (40)
    assert nb["population"].tolist() == [40.0, 15.0]
    assert nb["n_cells"].tolist() == [1, 3]
    assert nb["neighbourhood_id"].tolist() == [1, 2]
    assert nb["district"].tolist() == ["C", "B"]
    assert nb["centroid_x"].iloc[1] == pytest.approx(X0 + 1520.0)
    assert nb.geometry.iloc[1].area == pytest.approx(3 * 400.0)
    assert result.cells["neighbourhood_id"].tolist() == [0, 2, 2, 2, 1]


# --------------------------------------------------------------------------------------------------
# independent networkx reference
# --------------------------------------------------------------------------------------------------


def _reference_graph(network: WalkNetwork, snapped: list[tuple[str, int, float]]):
    """networkx DiGraph with every snapped point inserted as a node (written independently of the module).

    ``snapped``: (point name, edge index, offset from that edge's u in edge-length metres).
    """
    edges = network.edges
    graph = nx.DiGraph()
    by_pair: dict[tuple[int, int], list] = {}
    for name, e, offset in snapped:
        by_pair.setdefault((int(edges["u"].iloc[e]), int(edges["v"].iloc[e])), []).append((offset, name, e))
    for e, row in enumerate(edges.itertuples()):
        u, v, length = int(row.u), int(row.v), float(row.length)
        chain = [(0.0, ("n", u))]
        for offset, name, _e in by_pair.get((u, v), []):
            if abs(float(edges["length"].iloc[_e]) - length) < 1e-6 and _e == e:
                chain.append((offset, name))
        # points snapped to the reverse edge with the same geometry also lie on this one
        for offset, name, _e in by_pair.get((v, u), []):
            other = edges.iloc[_e]
            if abs(float(other["length"]) - length) < 1e-6 and other.geometry.equals_exact(
                row.geometry.reverse(), 0.01
            ):
                chain.append((length - offset, name))
        chain.append((length, ("n", v)))
        chain.sort(key=lambda t: t[0])
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            w = o2 - o1
            if not graph.has_edge(a, b) or graph[a][b]["weight"] > w:
                graph.add_edge(a, b, weight=w)
    return graph


def _brute_force_snap(network: WalkNetwork, xy: np.ndarray, max_snap: float):
    """Nearest edge by brute force over every edge; offset as fraction x length."""
    geoms = network.edges.geometry.values
    lengths = network.edges["length"].to_numpy()
    out = []
    for x, y in xy:
        p = shapely.Point(x, y)
        d = shapely.distance(geoms, p)
        e = int(np.argmin(d))
        if d[e] > max_snap:
            out.append(None)
            continue
        frac = geoms[e].project(p, normalized=True)
        out.append((e, frac * lengths[e]))
    return out


def _check_against_networkx(network, origin_xy, fac_xy, max_distance, rng):
    ids = [f"f{i:03d}" for i in rng.permutation(len(fac_xy))]
    fac = gpd.GeoDataFrame({"facility_id": ids, "kind": "park"}, geometry=shapely.points(fac_xy), crs=network.crs)
    origins = gpd.GeoDataFrame(
        {"population": np.ones(len(origin_xy))}, geometry=shapely.points(origin_xy), crs=network.crs
    )
    ours = acc.nearest_facility(network, origins, fac, max_distance_m=max_distance)
    o_snap = _brute_force_snap(network, origin_xy, 300.0)
    f_snap = _brute_force_snap(network, fac_xy, 300.0)
    snapped = [(("o", i), s[0], s[1]) for i, s in enumerate(o_snap) if s]
    snapped += [(("f", i), s[0], s[1]) for i, s in enumerate(f_snap) if s]
    graph = _reference_graph(network, snapped)
    rev = graph.reverse(copy=True)
    sources = [("f", i) for i, s in enumerate(f_snap) if s]
    reference = nx.multi_source_dijkstra_path_length(rev, sources, cutoff=max_distance)
    expected = np.array([reference.get(("o", i), np.inf) if s else np.inf for i, s in enumerate(o_snap)])
    got = ours["distance_m"].to_numpy()
    finite = np.isfinite(expected)
    assert np.array_equal(finite, np.isfinite(got))
    assert np.abs(got[finite] - expected[finite]).max(initial=0.0) < 1.0
    # the reported facility really is at that distance
    for i in np.flatnonzero(finite)[:10]:
        j = ids.index(ours["facility_id"].iloc[i])
        d = nx.single_source_dijkstra_path_length(rev, ("f", j), cutoff=max_distance).get(("o", i), np.inf)
        assert d == pytest.approx(expected[i], abs=1.0)
    # od_distances agrees with the same reference for all pairs
    od = acc.od_distances(network, origins, fac, max_distance_m=max_distance / 3)
    exp_pairs = {}
    for j, s in enumerate(f_snap):
        if s is None:
            continue
        dist = nx.single_source_dijkstra_path_length(rev, ("f", j), cutoff=max_distance / 3)
        for i, so in enumerate(o_snap):
            if so is not None and ("o", i) in dist:
                exp_pairs[(i, j)] = dist[("o", i)]
    got_pairs = {(o, d): x for o, d, x in od.itertuples(index=False)}
    near_edge = {k for k, v in exp_pairs.items() if abs(v - max_distance / 3) < 1e-6}
    assert set(got_pairs) ^ set(exp_pairs) <= near_edge
    common = set(got_pairs) & set(exp_pairs)
    assert max(abs(got_pairs[k] - exp_pairs[k]) for k in common) < 1.0
    return finite.sum()


def _random_grid(rng, size=14, spacing=80.0) -> WalkNetwork:
    graph = nx.MultiDiGraph(crs=CRS)
    node = lambda i, j: i * size + j  # noqa: E731
    for i in range(size):
        for j in range(size):
            graph.add_node(
                node(i, j), x=X0 + i * spacing + rng.uniform(-20, 20), y=Y0 + j * spacing + rng.uniform(-20, 20)
            )
    pairs = [((i, j), (i + 1, j)) for i in range(size - 1) for j in range(size)]
    pairs += [((i, j), (i, j + 1)) for i in range(size) for j in range(size - 1)]
    pairs += [((i, j), (i + 1, j + 1)) for i in range(size - 1) for j in range(size - 1) if rng.random() < 0.15]
    for a, b in pairs:
        if rng.random() < 0.1:
            continue  # missing link
        na, nb = node(*a), node(*b)
        pa = (graph.nodes[na]["x"], graph.nodes[na]["y"])
        pb = (graph.nodes[nb]["x"], graph.nodes[nb]["y"])
        mid = ((pa[0] + pb[0]) / 2 + rng.uniform(-8, 8), (pa[1] + pb[1]) / 2 + rng.uniform(-8, 8))
        geom = shapely.LineString([pa, mid, pb])
        graph.add_edge(na, nb, length=geom.length, geometry=geom, highway="footway")
        if rng.random() < 0.9:  # one in ten is one-way
            graph.add_edge(nb, na, length=geom.length, geometry=geom.reverse(), highway="footway")
    return walk_network_from_graph(graph)


def test_random_grid_matches_networkx_reference():
    rng = np.random.default_rng(7)
    network = _random_grid(rng)
    lo, hi = network.node_xy.min(axis=0) - 100, network.node_xy.max(axis=0) + 100
    origin_xy = rng.uniform(lo, hi, size=(150, 2))
    fac_xy = rng.uniform(lo, hi, size=(12, 2))
    n_finite = _check_against_networkx(network, origin_xy, fac_xy, 1500.0, rng)
    assert n_finite > 50


def _helsinki_network(path: Path) -> WalkNetwork:
    from ordos_geo.network import load_walk_network

    return load_walk_network(path, cache_dir=None)


@pytest.mark.slow
def test_helsinki_matches_networkx_reference(helsinki_pbf):
    network = _helsinki_network(helsinki_pbf)
    rng = np.random.default_rng(11)
    xy = network.node_xy
    lo, hi = np.percentile(xy, 10, axis=0), np.percentile(xy, 90, axis=0)
    origin_xy = rng.uniform(lo, hi, size=(250, 2))
    fac_xy = rng.uniform(lo, hi, size=(25, 2))
    n_finite = _check_against_networkx(network, origin_xy, fac_xy, 3000.0, rng)
    assert n_finite > 150


# --------------------------------------------------------------------------------------------------
# the embedded sample
# --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sample_matches_networkx_reference():
    from ordos_geo import settings
    from ordos_geo.network import load_walk_network

    network = load_walk_network(settings.SAMPLE_DIR / "walk_network.osm", cache_dir=None)
    rng = np.random.default_rng(3)
    xy = network.node_xy
    # origins and facilities in both towns (Kangbashi south-west, Dongsheng north-east) and between them
    origin_xy = xy[rng.choice(len(xy), 300, replace=False)] + rng.uniform(-60, 60, size=(300, 2))
    fac_xy = xy[rng.choice(len(xy), 20, replace=False)] + rng.uniform(-60, 60, size=(20, 2))
    n_finite = _check_against_networkx(network, origin_xy, fac_xy, 5000.0, rng)
    assert n_finite > 200


def test_sample_accessibility_runs_and_is_consistent():
    pipeline = pytest.importorskip("ordos_geo.pipeline")
    from ordos_geo import settings

    if not (settings.SAMPLE_DIR / "walk_network.osm").exists():
        pytest.skip("embedded sample data/raw/sample/ not generated yet")
    if not hasattr(pipeline, "load_study"):
        pytest.skip("pipeline.load_study not available yet")
    from ordos_geo._errors import InputFileNotFoundError

    try:
        study = pipeline.load_study()
    except InputFileNotFoundError as error:
        pytest.skip(f"embedded sample incomplete: {error}")
    network = study.network
    cells = study.cells.to_crs(network.crs)
    fac = study.facilities.to_crs(network.crs)
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    out = result.cells
    assert len(out) == len(cells)
    # distance to any kind is the minimum over the kinds
    kind_cols = [c for c in out.columns if c.startswith("dist_m_") and c != "dist_m_any"]
    assert np.allclose(out[kind_cols].min(axis=1), out["dist_m_any"])
    # spot-check against nearest_facility on a subset
    sub = out.sample(min(50, len(out)), random_state=1)
    public = fac[fac["open_to_public"].fillna(True).astype(bool)]
    check = acc.nearest_facility(network, cells.loc[sub.index], public)
    assert np.allclose(check["distance_m"].to_numpy(), sub["dist_m_any"].to_numpy(), atol=1.0)


def test_no_facilities_everything_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = square_cells([(10, 0), (90, 0)])
    none = facilities([(50, 0)], ["a"]).iloc[:0]
    assert np.isinf(acc.nearest_facility(network, cells, none)["distance_m"]).all()
    assert acc.od_distances(network, cells, none, max_distance_m=100).empty
    result = acc.compute_accessibility(network, cells, none)
    assert result.cells["underserved"].all()
    assert result.underserved["population"].sum() == pytest.approx(200.0)


# --------------------------------------------------------------------------------------------------
# large-network path: work in forked child processes gives exactly the single-process result
# --------------------------------------------------------------------------------------------------


def _grid_study(rng) -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    network = _random_grid(rng, size=16)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    centres = rng.uniform(lo, hi, size=(400, 2))
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(len(centres)), "population": rng.uniform(10, 500, len(centres))},
        geometry=shapely.box(centres[:, 0] - 25, centres[:, 1] - 25, centres[:, 0] + 25, centres[:, 1] + 25),
        crs=CRS,
    )
    fac_xy = rng.uniform(lo, hi, size=(18, 2))
    geoms = list(shapely.points(fac_xy))
    geoms[0] = shapely.box(*(fac_xy[0] - 60), *(fac_xy[0] + 60))  # a park reached at its boundary
    fac = gpd.GeoDataFrame(
        {
            "facility_id": [f"f{i:02d}" for i in rng.permutation(len(fac_xy))],
            "kind": ["park", "fitness_path", "ball_court"] * 6,
            "area_m2": rng.uniform(100, 2000, len(fac_xy)),
        },
        geometry=geoms,
        crs=CRS,
    )
    return network, cells, fac


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_children_give_identical_results(monkeypatch):
    network, cells, fac = _grid_study(np.random.default_rng(11))
    inline = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    assert inline.timings_s["nearest_child"] == 0.0  # small input: everything in this process

    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(acc.os, "fork", counting_fork)
    monkeypatch.setattr(acc, "_FORK_MIN_WORK", 0)
    monkeypatch.setattr(acc, "_FORK_MIN_POINTS", 0)
    forked = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    assert len(forks) == 3  # cell centroids, half of the cell snapping, the per-kind nearest searches
    assert forked.timings_s["nearest_child"] > 0.0
    pd.testing.assert_frame_equal(forked.cells, inline.cells, check_exact=True)
    assert np.isfinite(inline.cells["dist_m_any"]).sum() > 300  # the comparison covers real distances


def test_failed_child_work_is_redone_in_this_process(caplog):
    parent = os.getpid()

    def fill(out: np.ndarray) -> None:
        if os.getpid() != parent:
            raise RuntimeError("child dies")
        out[:] = np.arange(5)

    job = acc._Forked([((5,), np.int64)], fill, background=True)
    (out,) = job.result()
    assert out.tolist() == [0, 1, 2, 3, 4]
    if acc._can_fork():
        assert "child process failed" in caplog.text
