"""Routing engine: snapping and walking distances on hand-built graphs with known answers and a networkx reference."""

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
from _hand_graphs import CRS, X0, Y0, facilities, make_network, points, random_grid

from ordos_geo import routing
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.routing._fork import _can_fork, _Forked


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
    snapped = routing.snap_points(network, points([(30, 12)]))
    assert len(snapped) == 1
    edge = network.edges.iloc[snapped.edge[0]]
    offset_from_node1 = snapped.offset_m[0] if edge["u"] == 0 else edge["length"] - snapped.offset_m[0]
    assert offset_from_node1 == pytest.approx(30.0)
    assert snapped.snap_distance_m[0] == pytest.approx(12.0)


def test_cell_at_30_percent_of_edge_distances_along_edge():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = points([(30, 5)])

    def to(xy, facility_id):
        return routing.nearest_facility(network, cells, facilities([xy], [facility_id]))["distance_m"].iloc[0]

    assert to((100, 0), "b") == pytest.approx(70)
    assert to((0, 0), "a") == pytest.approx(30)
    # a facility on the same edge, measured directly along it (not via a node)
    assert to((55, -3), "c") == pytest.approx(25)


def test_two_way_street_is_snapped_once_and_deterministically():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    a = routing.snap_points(network, points([(40, 1), (40, -1)]))
    # both directed edges share a geometry: the same (lowest-index) edge is chosen for both points
    assert a.edge[0] == a.edge[1] == 0


# --------------------------------------------------------------------------------------------------
# distances with known answers
# --------------------------------------------------------------------------------------------------


def test_one_way_footbridge(footbridge):
    cells = points([(10, 0), (90, 0)])
    east = facilities([(90, 0)], ["east"])
    west = facilities([(10, 0)], ["west"])
    to_east = routing.nearest_facility(footbridge, cells, east)["distance_m"].to_numpy()
    to_west = routing.nearest_facility(footbridge, cells, west)["distance_m"].to_numpy()
    assert to_east == pytest.approx([80.0, 0.0])  # along the bridge
    assert to_west == pytest.approx([0.0, 10 + DETOUR + 10])  # against it: round the detour
    od = routing.od_distances(footbridge, cells, pd.concat([east, west], ignore_index=True), max_distance_m=1_000)
    table = {(o, d): x for o, d, x in od.itertuples(index=False)}
    assert table[(0, 0)] == pytest.approx(80.0)
    assert table[(1, 1)] == pytest.approx(20 + DETOUR)
    # reversing origins and destinations reverses the walk
    back = routing.od_distances(footbridge, west, cells, max_distance_m=1_000)
    assert back.set_index("destination")["distance_m"].to_dict() == pytest.approx({0: 0.0, 1: 80.0})


def test_one_way_footbridge_with_cap(footbridge):
    cells = points([(90, 0)])
    west = facilities([(10, 0)], ["west"])
    assert np.isinf(routing.nearest_facility(footbridge, cells, west, max_distance_m=400)["distance_m"].iloc[0])
    od = routing.od_distances(footbridge, cells, west, max_distance_m=400)
    assert od.empty


def test_unreachable_component_is_inf():
    network = make_network({1: (0, 0), 2: (100, 0), 3: (0, 250), 4: (100, 250)}, [(1, 2, False), (3, 4, False)])
    cells = points([(50, 0), (50, 250)])
    fac = facilities([(50, 250)], ["island"])
    result = routing.nearest_facility(network, cells, fac)
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
    result = routing.nearest_facility(network, points([(0, 5), (1000, 5), (450, -5)]), park)
    # nearest gate on the fence: x = 400 from the west, x = 500 from the east, straight across from the middle
    assert result["distance_m"].tolist() == pytest.approx([400.0, 500.0, 0.0])


def test_polygon_entrances_replace_boundary():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    park = gpd.GeoDataFrame(
        {"facility_id": ["p"], "kind": ["park"], "entrances": [shapely.Point(X0 + 480, Y0 + 20)]},
        geometry=[shapely.box(X0 + 400, Y0 + 20, X0 + 500, Y0 + 120)],
        crs=CRS,
    )
    result = routing.nearest_facility(network, points([(0, 5)]), park)
    assert result["distance_m"].iloc[0] == pytest.approx(480.0)


def test_trail_line_reached_anywhere_along_it():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    trail = gpd.GeoDataFrame(
        {"facility_id": ["t"], "kind": ["fitness_trail"]},
        geometry=[shapely.LineString([(X0 + 300, Y0 + 10), (X0 + 700, Y0 + 10)])],
        crs=CRS,
    )
    result = routing.nearest_facility(network, points([(0, 0), (500, 0), (900, 0)]), trail)
    assert result["distance_m"].tolist() == pytest.approx([300.0, 0.0, 200.0])


def test_crs_mismatch_is_a_clear_error():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    with pytest.raises(InputDataError, match="to_crs"):
        routing.snap_points(network, points([(1, 1)]).to_crs(4326))


def test_duplicate_facility_ids_rejected():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    with pytest.raises(InputDataError, match="facility_id"):
        routing.nearest_facility(network, points([(1, 1)]), facilities([(0, 0), (50, 0)], ["x", "x"]))


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
    ours = routing.nearest_facility(network, origins, fac, max_distance_m=max_distance)
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
    od = routing.od_distances(network, origins, fac, max_distance_m=max_distance / 3)
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


def test_random_grid_matches_networkx_reference():
    rng = np.random.default_rng(7)
    network = random_grid(rng)
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


def test_failed_child_work_is_redone_in_this_process(caplog):
    parent = os.getpid()

    def fill(out: np.ndarray) -> None:
        if os.getpid() != parent:
            raise RuntimeError("child dies")
        out[:] = np.arange(5)

    job = _Forked([((5,), np.int64)], fill, background=True)
    (out,) = job.result()
    assert out.tolist() == [0, 1, 2, 3, 4]
    if _can_fork():
        assert "child process failed" in caplog.text


# --------------------------------------------------------------------------------------------------
# node-to-node distances within a limit
# --------------------------------------------------------------------------------------------------


def _reach(network: WalkNetwork, indptr, targets, distances, node: int) -> dict[int, float]:
    """Reach of the node with OSM id ``node`` as ``{OSM id: metres}``."""
    position = {int(osm): p for p, osm in enumerate(network.node_ids)}[node]
    span = slice(indptr[position], indptr[position + 1])
    return {int(network.node_ids[t]): float(d) for t, d in zip(targets[span], distances[span], strict=True)}


def test_node_distances_within_known_graph(footbridge):
    position = {int(osm): p for p, osm in enumerate(footbridge.node_ids)}
    arrays = routing.node_distances_within(footbridge, [position[1], position[2], position[1]], 300.0)
    assert len(arrays[0]) == footbridge.n_nodes + 1
    # along the one-way bridge 1 -> 2 (100 m) and up to 3 (206.155 m)
    assert _reach(footbridge, *arrays, 1) == pytest.approx({1: 0.0, 2: 100.0, 3: DETOUR / 2})
    # against the bridge the way back to 1 is the 412 m detour: beyond the limit
    assert _reach(footbridge, *arrays, 2) == pytest.approx({2: 0.0, 3: DETOUR / 2})
    assert _reach(footbridge, *arrays, 3) == {}  # not a source
    longer = routing.node_distances_within(footbridge, [position[2]], 500.0)
    assert _reach(footbridge, *longer, 2) == pytest.approx({2: 0.0, 3: DETOUR / 2, 1: DETOUR})
    empty = routing.node_distances_within(footbridge, [], 300.0)
    assert empty[0].tolist() == [0] * (footbridge.n_nodes + 1) and len(empty[1]) == len(empty[2]) == 0
    with pytest.raises(InputDataError, match="node positions"):
        routing.node_distances_within(footbridge, [footbridge.n_nodes], 300.0)
    with pytest.raises(InputDataError, match="limit_m"):
        routing.node_distances_within(footbridge, [0], 0.0)


def test_node_distances_within_matches_networkx_and_scipy():
    from scipy.sparse.csgraph import dijkstra

    rng = np.random.default_rng(5)
    network = random_grid(rng, size=16)
    sources = rng.choice(network.n_nodes, 60, replace=False)
    limit = 437.0
    indptr, targets, distances = routing.node_distances_within(network, sources, limit)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(network.n_nodes))
    for u, v, length in network.edges[["u", "v", "length"]].itertuples(index=False):
        if not graph.has_edge(u, v) or graph[u][v]["weight"] > length:
            graph.add_edge(int(u), int(v), weight=float(length))
    whole = dijkstra(network.adjacency, directed=True, indices=np.sort(sources), limit=limit)
    n_pairs = 0
    for node in range(network.n_nodes):
        span = slice(indptr[node], indptr[node + 1])
        got = dict(zip(targets[span].tolist(), distances[span].tolist(), strict=True))
        if node not in sources:
            assert not got
            continue
        assert targets[span].tolist() == sorted(got)  # ascending targets
        expected = nx.single_source_dijkstra_path_length(graph, node, cutoff=limit)
        assert set(got) == set(expected)
        assert max(abs(got[t] - expected[t]) for t in got) < 1e-6
        # the tiled search gives scipy's distances on the whole network
        row = whole[int(np.searchsorted(np.sort(sources), node))]
        assert np.flatnonzero(np.isfinite(row)).tolist() == targets[span].tolist()
        assert np.array_equal(row[targets[span]], distances[span])
        n_pairs += len(got)
    assert n_pairs > 600


# --------------------------------------------------------------------------------------------------
# snaps passed in instead of snapping again
# --------------------------------------------------------------------------------------------------


def test_passing_snaps_to_distance_functions_gives_identical_results():
    rng = np.random.default_rng(9)
    network = random_grid(rng)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    origins = gpd.GeoDataFrame(geometry=shapely.points(rng.uniform(lo, hi, size=(120, 2))), crs=network.crs)
    fac_xy = rng.uniform(lo, hi, size=(12, 2))
    geoms = list(shapely.points(fac_xy))
    geoms[0] = shapely.box(*fac_xy[0], *(fac_xy[0] + 90))  # a park reached at its boundary
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(12)], "kind": "park"}, geometry=geoms, crs=network.crs
    )
    o_snap = routing.snap_points(network, origins, polygon_access="centroid")
    f_snap = routing.snap_points(network, fac)
    plain = routing.nearest_facility(network, origins, fac)
    given = routing.nearest_facility(network, origins, fac, origins_snapped=o_snap, facilities_snapped=f_snap)
    pd.testing.assert_frame_equal(given, plain, check_exact=True)
    assert np.isfinite(plain["distance_m"]).sum() > 60
    od = routing.od_distances(network, origins, fac, max_distance_m=600.0)
    od_given = routing.od_distances(
        network, origins, fac, max_distance_m=600.0, origins_snapped=o_snap, destinations_snapped=f_snap
    )
    pd.testing.assert_frame_equal(od_given, od, check_exact=True)
    assert len(od) > 50
    # one clear error when a snap belongs to other rows or another network
    with pytest.raises(InputDataError, match="origins: the snapped points given do not match: they snap 12 rows"):
        routing.nearest_facility(network, origins, fac, origins_snapped=f_snap)
    elsewhere = routing.snap_points(random_grid(np.random.default_rng(10)), fac)
    with pytest.raises(InputDataError, match=r"destinations: .* on another walk network, the frame has 12 rows"):
        routing.od_distances(network, origins, fac, max_distance_m=600.0, destinations_snapped=elsewhere)
    with pytest.raises(InputDataError, match="not SnappedPoints"):
        routing.nearest_facility(network, origins, fac, facilities_snapped=fac)


# --------------------------------------------------------------------------------------------------
# the engine's public pieces the analyses use (routing.search, routing.snapping)
# --------------------------------------------------------------------------------------------------


def test_node_distances_to_points_match_networkx_reference():
    rng = np.random.default_rng(11)
    network = random_grid(rng)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    fac_xy = rng.uniform(lo, hi, size=(30, 2))
    geoms = list(shapely.points(fac_xy))
    geoms[0] = shapely.box(*fac_xy[0], *(fac_xy[0] + 120))  # a park: several access points, the nearest counts
    fac = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(30)]}, geometry=geoms, crs=network.crs)
    snapped = routing.snap_points(network, fac)
    index = routing.network_index(network)
    assert (np.bincount(snapped.owner) > 1).any()
    assert (index.twin[snapped.edge[snapped.reachable]] < 0).sum() >= 2  # points on one-way edges too
    limit = 500.0
    row, node, dist = routing.node_distances_to_points(index, snapped, limit)
    got = {(int(r), int(n)): float(d) for r, n, d in zip(row, node, dist, strict=True)}
    # reference: the access points inserted into a networkx graph, walks towards them (reversed graph)
    ok = np.flatnonzero(snapped.reachable)
    points = [(("p", int(i)), int(snapped.edge[i]), float(snapped.offset_m[i])) for i in ok]
    rev = _reference_graph(network, points).reverse(copy=True)
    expected = {}
    for owner in range(len(fac)):
        sources = [("p", int(i)) for i in ok if snapped.owner[i] == owner]
        reach = nx.multi_source_dijkstra_path_length(rev, sources, cutoff=limit) if sources else {}
        expected.update({(owner, key[1]): d for key, d in reach.items() if key[0] == "n"})
    near_limit = {k for k, d in {**got, **expected}.items() if abs(d - limit) < 1e-6}
    assert set(got) ^ set(expected) <= near_limit
    assert len(expected) > 1000
    assert max(abs(got[k] - expected[k]) for k in set(got) & set(expected)) < 1e-6


def test_node_distances_to_points_read_zero_at_a_node_on_an_access_point():
    """A node on an access point is 0 m away (it read 1e-9); every other distance is networkx's, exactly."""
    network = make_network(  # node 4 sits on node 1, joined by a zero-length edge
        {0: (0, 0), 1: (100, 0), 2: (200, 0), 3: (200, 150), 4: (100, 0)},
        [(0, 1, False), (1, 2, False), (2, 3, True), (1, 4, False)],
    )
    # facility 0 stands on node 1; facility 1 is 60 m up the one-way edge 2 -> 3
    snapped = routing.snap_points(network, facilities([(100, 0), (200, 60)], ["on_node", "mid_edge"]))
    row, node, dist = routing.node_distances_to_points(routing.network_index(network), snapped, 1_000.0)
    got = {(int(r), int(n)): float(d) for r, n, d in zip(row, node, dist, strict=True)}
    ok = np.flatnonzero(snapped.reachable)
    points = [(("p", int(i)), int(snapped.edge[i]), float(snapped.offset_m[i])) for i in ok]
    rev = _reference_graph(network, points).reverse(copy=True)
    expected = {}
    for i in ok:
        reach = nx.single_source_dijkstra_path_length(rev, ("p", int(i)), cutoff=1_000.0)
        expected.update({(int(snapped.owner[i]), key[1]): d for key, d in reach.items() if key[0] == "n"})
    assert got == expected
    assert got[(0, 1)] == got[(0, 4)] == 0.0
    assert {key: d for key, d in got.items() if key[0] == 1} == {
        (1, 2): 60.0,
        (1, 1): 160.0,
        (1, 4): 160.0,
        (1, 0): 260.0,
    }


def test_points_near_network_matches_shapely_distance():
    rng = np.random.default_rng(12)
    network = random_grid(rng)
    lo, hi = network.node_xy.min(axis=0) - 150, network.node_xy.max(axis=0) + 150
    xy = rng.uniform(lo, hi, size=(400, 2))
    to_street = shapely.distance(shapely.points(xy)[:, None], network.edge_lines()[None, :]).min(axis=1)
    for distance in (5.0, 40.0, 120.0):
        near = routing.points_near_network(network, xy, max_distance_m=distance)
        sure = np.abs(to_street - distance) > 1e-9
        assert np.array_equal(near[sure], (to_street <= distance)[sure])
        assert 0 < near.sum() < len(xy)


def test_snap_origins_and_destinations_in_child_processes_equal_snap_points(monkeypatch):
    rng = np.random.default_rng(13)
    network = random_grid(rng)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    corners = rng.uniform(lo, hi, size=(60, 2))
    cells = gpd.GeoDataFrame(geometry=shapely.box(*corners.T, *(corners + 30).T), crs=network.crs)
    fac = gpd.GeoDataFrame(
        {"facility_id": [f"f{i}" for i in range(5)]},
        geometry=shapely.points(rng.uniform(lo, hi, (5, 2))),
        crs=network.crs,
    )
    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    monkeypatch.setattr(routing.snapping, "_FORK_MIN_POINTS", 0)  # take the forked path on a small input
    orig, dest = routing.snap_origins_and_destinations(network, cells, fac, max_snap_distance_m=200.0)
    if _can_fork():
        assert len(forks) == 2  # the centroids, then half of the origins' snapping
    plain_orig = routing.snap_points(network, cells, max_snap_distance_m=200.0, polygon_access="centroid")
    plain_dest = routing.snap_points(network, fac, max_snap_distance_m=200.0)
    for got, plain in ((orig, plain_orig), (dest, plain_dest)):
        for name in ("owner", "edge", "offset_m", "snap_distance_m", "point_xy"):
            np.testing.assert_array_equal(getattr(got, name), getattr(plain, name))
        assert (got.n_owners, got.network_key) == (plain.n_owners, plain.network_key)
    assert orig.reachable.sum() > 40


def test_nodes_near_marks_every_node_within_reach():
    index = routing.network_index(random_grid(np.random.default_rng(2), size=12))
    xy = index.node_xy
    for seeds, reach in (([0], 150.0), ([5, 77, 140], 95.0), ([30], 2_000.0)):
        near = index.nodes_near(np.array(seeds), reach)
        gap = np.abs(xy[:, None, :] - xy[seeds][None, :, :]).max(axis=2).min(axis=1)  # Chebyshev metres
        assert near[gap <= reach].all() and near[seeds].all()
        assert not near[gap > 3 * reach].any()
