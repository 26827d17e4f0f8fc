"""Walk networks: walk filter, clipped-way repair, components, projection, cache, real extracts."""

from __future__ import annotations

import bz2
import hashlib
import itertools
import json
import logging
import math
import re
import socket
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pyproj
import pytest
import requests
import scipy.sparse.csgraph
import shapely

from ordos_geo import settings
from ordos_geo._errors import ConfigError, InputDataError, InputFileNotFoundError, NetworkDataError
from ordos_geo.network import (
    WalkNetwork,
    graph_from_osm_file,
    in_osmnx_walk,
    is_walkable,
    load_walk_network,
    network_arrays,
    overpass_walk_filters,
    overpass_walk_query,
    project_network,
    walk_network_from_arrays,
    walk_network_from_graph,
    walk_rule,
)

EARTH_RADIUS_M = 6_371_009.0  # the radius osmnx's great_circle uses


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance written out by hand (independent of osmnx)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def osm_xml(
    nodes: dict[int, tuple[float, float]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    relations: list | None = None,
) -> str:
    """Write a small OSM XML document (nodes: id -> (lon, lat); relations: (id, [(way, role)], tags))."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="ordos_geo tests">']
    for node_id, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{node_id}" lat="{lat:.7f}" lon="{lon:.7f}" version="1"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    for rel_id, members, tags in relations or []:
        lines.append(f'  <relation id="{rel_id}" version="1">')
        lines += [f'    <member type="way" ref="{ref}" role="{role}"/>' for ref, role in members]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </relation>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


# A hand-built extract in Dongsheng (~110.0 E, 39.8 N):
#
#   14 <-(one-way footway)- 4          building 10-11-12-13 (ignored)
#                           |          motorway 1-9 (not walkable)
#   1 ----- 2 ----- 3 ----- 5 ..(99 missing: way clipped at the extract edge)
#   (residential 1-2-3; footway 2-4; footway 3-5-99 repaired to 3-5)
#   7 ----- 8   detached footway: dropped as a separate component
LON0, LAT0 = 110.0, 39.8
D = 0.001  # degrees between grid nodes
NODES = {
    1: (LON0, LAT0),
    2: (LON0 + D, LAT0),
    3: (LON0 + 2 * D, LAT0),
    5: (LON0 + 3 * D, LAT0),
    4: (LON0 + D, LAT0 + D),
    14: (LON0 + D, LAT0 + 2 * D),
    7: (LON0 + 10 * D, LAT0 + 10 * D),
    8: (LON0 + 11 * D, LAT0 + 10 * D),
    9: (LON0 - D, LAT0),
    10: (LON0 + 2 * D, LAT0 + D),
    11: (LON0 + 3 * D, LAT0 + D),
    12: (LON0 + 3 * D, LAT0 + 1.5 * D),
    13: (LON0 + 2 * D, LAT0 + 1.5 * D),
}
WAYS = [
    (101, [1, 2, 3], {"highway": "residential", "name": "Tianjiao Road"}),
    (102, [2, 4], {"highway": "footway"}),
    (103, [10, 11, 12, 13, 10], {"building": "yes"}),
    (104, [3, 5, 99], {"highway": "footway"}),
    (105, [7, 8], {"highway": "footway"}),
    (106, [9, 1], {"highway": "motorway"}),
    (107, [4, 14], {"highway": "footway", "oneway:foot": "yes", "bridge": "yes"}),
]


@pytest.fixture
def toy_osm(tmp_path: Path) -> Path:
    path = tmp_path / "toy.osm"
    path.write_text(osm_xml(NODES, WAYS), encoding="utf-8")
    return path


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


# --- the walking rule, tag by tag ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "verdict", "reason", "osmnx"),
    [
        ({"highway": "footway"}, "line", "street", True),
        ({"highway": "residential"}, "line", "street", True),
        ({"highway": "trunk"}, "line", "street", True),  # as osmnx: trunk roads have sidewalks
        ({"highway": "motorway"}, "drop", "motorway", False),
        ({"highway": "motorway_link", "foot": "yes"}, "drop", "motorway", False),  # never, even with foot=yes
        ({"highway": "construction", "foot": "yes"}, "drop", "not_built", False),
        ({"highway": "cycleway"}, "drop", "no_pedestrians", False),
        ({"highway": "cycleway", "foot": "designated"}, "line", "foot_permitted", False),
        ({"highway": "cycleway", "foot": "yes"}, "line", "foot_permitted", False),
        ({"highway": "platform", "foot": "permissive"}, "line", "foot_permitted", False),
        ({"highway": "footway", "access": "private"}, "drop", "access_private", False),
        ({"highway": "service", "access": "no"}, "drop", "access_private", True),  # osmnx keeps access=no
        ({"highway": "service", "access": "private", "foot": "yes"}, "line", "foot_permitted", False),
        ({"highway": "service", "service": "private"}, "drop", "service_private", False),
        ({"highway": "residential", "foot": "no"}, "drop", "foot_no", False),
        ({"highway": "pedestrian", "area": "yes"}, "area", "pedestrian_area", False),
        ({"highway": "footway", "area": "yes"}, "area", "pedestrian_area", False),
        ({"highway": "pedestrian", "area": "yes", "access": "private"}, "drop", "access_private", False),
        ({"highway": "service", "area": "yes"}, "drop", "area_not_pedestrian", False),
        ({"highway": "primary", "sidewalk": "separate"}, "sidewalk_separate", "sidewalk_separate", False),
        ({"highway": "primary", "sidewalk:left": "separate"}, "sidewalk_separate", "sidewalk_separate", False),
        ({"building": "yes"}, "drop", "not_a_street", False),
        ({"waterway": "river"}, "drop", "not_a_street", False),
    ],
)
def test_walk_rule_tag_by_tag(tags: dict[str, str], verdict: str, reason: str, osmnx: bool) -> None:
    assert walk_rule(tags) == (verdict, reason)
    assert is_walkable(tags) is (verdict != "drop")
    assert in_osmnx_walk(tags) is osmnx  # osmnx's own filter, for the report's comparison
    if osmnx:
        assert ox._overpass._get_network_filter("walk").startswith('["highway"]')


def test_osmnx_settings_and_walk_filter_without_importing_osmnx() -> None:
    # the loader reads osmnx's useful tags and walk filter without importing osmnx (seconds at start-up): its
    # copies must be osmnx's, and once osmnx is imported, the user's setting is read
    from ordos_geo.network.rules import _OSMNX_USEFUL_TAGS, _OSMNX_WALK_FILTER_FALLBACK, _useful_tags

    assert _OSMNX_WALK_FILTER_FALLBACK == ox._overpass._get_network_filter("walk")  # the report's comparison
    assert _OSMNX_USEFUL_TAGS["node"] == tuple(ox.settings.useful_tags_node)
    assert _OSMNX_USEFUL_TAGS["way"] == tuple(ox.settings.useful_tags_way)
    before = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = ["highway", "surface"]
    try:
        assert _useful_tags("way") == ("highway", "surface")
    finally:
        ox.settings.useful_tags_way = before


def test_importing_the_network_package_does_not_import_osmnx() -> None:
    import subprocess
    import sys

    code = "import sys, ordos_geo.network, ordos_geo.network.rules; print('osmnx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_building_a_network_from_osm_does_not_import_osmnx() -> None:
    """osmnx (and the matplotlib it loads) costs seconds of every run; the array build copies what it needs."""
    import subprocess
    import sys

    code = (
        "import sys; from ordos_geo import settings; from ordos_geo.network import load_walk_network; "
        "network = load_walk_network(settings.SAMPLE_DIR / 'walk_network.osm', cache_dir=None); "
        "print(len(network.edge_table) > 0, 'osmnx' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "False"]


def test_reading_a_pbf_does_not_import_pyrosms_unused_pandana_probe() -> None:
    """pyrosm probes pandana (which imports scikit-learn, seconds); the reader skips it and pandana still imports."""
    import subprocess
    import sys

    code = (
        "import sys; from ordos_geo._optional import import_pyrosm; import_pyrosm(); "
        "import pyrosm.utils._compat as probes; "
        "print(probes.HAS_PANDANA, 'pandana' in sys.modules, 'sklearn' in sys.modules); "
        "import pandana; print(pandana.__name__)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "False", "pandana"]


def test_great_circle_lengths_are_osmnx_bit_for_bit() -> None:
    import osmnx as ox

    from ordos_geo.network._build import _great_circle_lengths

    rng = np.random.default_rng(7)
    n = 5000
    lat = rng.uniform(-89.9, 89.9, n)
    lon = rng.uniform(-180, 180, n)
    lat[:50] = 39.6  # same point: length 0
    lon[:50] = 109.8
    u, v = rng.integers(0, n, 20000), rng.integers(0, n, 20000)
    segments = types.SimpleNamespace(u=u, v=v, lat=lat, lon=lon)
    expected = np.asarray(ox.distance.great_circle(lat[u], lon[u], lat[v], lon[v]))
    got = _great_circle_lengths(segments)  # type: ignore[arg-type]
    assert np.array_equal(got, expected)


def test_closed_pedestrian_way_is_an_area_unless_area_no() -> None:
    assert walk_rule({"highway": "pedestrian"}, closed=True) == ("area", "pedestrian_area")
    assert walk_rule({"highway": "pedestrian", "area": "no"}, closed=True) == ("line", "street")
    assert walk_rule({"highway": "footway"}, closed=True) == ("line", "street")  # a loop path, not an area


def _overpass_matches(filter_text: str, tags: dict[str, str]) -> bool:
    """Overpass semantics written out independently: ["k"], ["k"="v"], ["k"~"re"], ["k"!~"re"]."""
    for key, op, value in re.findall(r'\["([^"]+)"(?:(=|!~|~)"([^"]*)")?\]', filter_text):
        present = tags.get(key)
        if op == "" and present is None:
            return False
        if op == "=" and present != value:
            return False
        if op == "~" and (present is None or re.search(value, present) is None):
            return False
        if op == "!~" and present is not None and re.search(value, present) is not None:
            return False
    return True


def test_overpass_filters_ask_for_exactly_the_walkable_ways() -> None:
    values = {
        "highway": [
            None,
            "footway",
            "residential",
            "cycleway",
            "motorway",
            "motorway_link",
            "construction",
            "pedestrian",
            "service",
            "platform",
            "path",
        ],
        "foot": [None, "yes", "designated", "permissive", "no"],
        "access": [None, "private", "no", "yes"],
        "area": [None, "yes"],
        "service": [None, "private"],
    }
    checked = 0
    for combo in itertools.product(*values.values()):
        tags = {k: v for k, v in zip(values, combo, strict=True) if v is not None}
        asked = any(_overpass_matches(f, tags) for f in overpass_walk_filters())
        assert asked is is_walkable(tags), tags
        checked += 1
    assert checked == 11 * 5 * 4 * 2 * 2
    query = overpass_walk_query(shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01))
    assert len(query) == 1 and query[0].count("way[") == 4
    assert 'relation["type"="multipolygon"]' in query[0] and query[0].endswith("(._;>;);out;")


# --- each rule on a hand-built extract, with the walking distance it must give -------------------


def _distance(
    tmp_path: Path, nodes: dict, ways: list, source: int, target: int, relations: list | None = None
) -> float:
    path = tmp_path / f"rule_{len(list(tmp_path.iterdir()))}.osm"
    path.write_text(osm_xml(nodes, ways, relations), encoding="utf-8")
    graph, _ = graph_from_osm_file(path, simplify=False)
    return nx.shortest_path_length(graph, source, target, weight="length")


def _h(nodes: dict, *ids: int) -> float:
    """Great-circle length of the polyline through these nodes, by hand."""
    return sum(haversine_m(*nodes[a], *nodes[b]) for a, b in itertools.pairwise(ids))


# A short way 1-2 under test, and a residential detour 1-3-4-2 (north of it) that is always there.
DETOUR_NODES = {1: (LON0, LAT0), 2: (LON0 + 2 * D, LAT0), 3: (LON0, LAT0 + D), 4: (LON0 + 2 * D, LAT0 + D)}
DETOUR = (201, [1, 3, 4, 2], {"highway": "residential"})


@pytest.mark.parametrize(
    ("tags", "walks_it"),
    [
        ({"highway": "cycleway", "foot": "designated"}, True),
        ({"highway": "cycleway", "foot": "yes"}, True),
        ({"highway": "cycleway"}, False),
        ({"highway": "motorway", "foot": "yes"}, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True),
        ({"highway": "service", "access": "private"}, False),
        ({"highway": "service", "access": "no"}, False),
        ({"highway": "residential", "foot": "no"}, False),
        ({"highway": "residential", "oneway": "yes"}, True),
    ],
)
def test_rule_gives_the_walking_distance(tmp_path: Path, tags: dict[str, str], walks_it: bool) -> None:
    nodes = DETOUR_NODES
    expected = _h(nodes, 1, 2) if walks_it else _h(nodes, 1, 3, 4, 2)
    ways = [DETOUR, (202, [1, 2], tags)]
    assert _distance(tmp_path, nodes, ways, 1, 2) == pytest.approx(expected, rel=1e-9)
    assert _distance(tmp_path, nodes, ways, 2, 1) == pytest.approx(expected, rel=1e-9)


def test_oneway_binds_walkers_only_with_oneway_foot(tmp_path: Path) -> None:
    nodes = DETOUR_NODES
    for tags, back_direct in [
        ({"highway": "footway", "oneway": "yes"}, True),  # cyclists' one-way: walkers still go both ways
        ({"highway": "footway", "oneway:foot": "yes"}, False),
        ({"highway": "primary", "oneway:foot": "-1"}, True),  # walkers only from 2 to 1
    ]:
        ways = [DETOUR, (202, [1, 2], tags)]
        forward = _distance(tmp_path, nodes, ways, 1, 2)
        back = _distance(tmp_path, nodes, ways, 2, 1)
        reverse = tags.get("oneway:foot") == "-1"
        assert forward == pytest.approx(_h(nodes, 1, 3, 4, 2) if reverse else _h(nodes, 1, 2))
        assert back == pytest.approx(_h(nodes, 1, 2) if back_direct else _h(nodes, 1, 3, 4, 2))


def test_sidewalk_separate_road_kept_unless_sidewalks_run_alongside(tmp_path: Path) -> None:
    nodes = {**DETOUR_NODES, 5: (LON0, LAT0 - 0.0001), 6: (LON0 + 2 * D, LAT0 - 0.0001)}  # 11 m south
    road = (202, [1, 2], {"highway": "primary", "sidewalk": "separate"})
    # no sidewalk mapped: the road stays walkable
    assert _distance(tmp_path, nodes, [DETOUR, road], 1, 2) == pytest.approx(_h(nodes, 1, 2))
    # a mapped sidewalk 11 m away along the whole road: walkers use it, the road is dropped
    sidewalk = [(203, [1, 5, 6, 2], {"highway": "footway", "footway": "sidewalk"})]
    assert _distance(tmp_path, nodes, [DETOUR, road, *sidewalk], 1, 2) == pytest.approx(_h(nodes, 1, 5, 6, 2))


def test_pedestrian_area_is_walkable_across(tmp_path: Path) -> None:
    # a 2D x 2D square (ring 10-11-15-12-13-14), footways reaching the middle of its west and east sides
    nodes = {
        10: (LON0, LAT0),
        11: (LON0 + 2 * D, LAT0),
        15: (LON0 + 2 * D, LAT0 + D),
        12: (LON0 + 2 * D, LAT0 + 2 * D),
        13: (LON0, LAT0 + 2 * D),
        14: (LON0, LAT0 + D),
        20: (LON0 - D, LAT0 + D),
        21: (LON0 + 3 * D, LAT0 + D),
    }
    ways = [
        (301, [10, 11, 15, 12, 13, 14, 10], {"highway": "pedestrian", "area": "yes", "place": "square"}),
        (302, [20, 14], {"highway": "footway"}),
        (303, [15, 21], {"highway": "footway"}),
    ]
    # straight across the square from 14 to 15
    assert _distance(tmp_path, nodes, ways, 20, 21) == pytest.approx(_h(nodes, 20, 14, 15, 21), rel=1e-9)
    # as a plain closed way (area=no) only the outline is walkable
    ways[0] = (301, ways[0][1], {"highway": "pedestrian", "area": "no"})
    round_outline = min(_h(nodes, 20, 14, 10, 11, 15, 21), _h(nodes, 20, 14, 13, 12, 15, 21))  # north is shorter
    assert _distance(tmp_path, nodes, ways, 20, 21) == pytest.approx(round_outline, rel=1e-9)


def test_pedestrian_area_link_must_stay_inside(tmp_path: Path) -> None:
    # an L-shaped closed highway=pedestrian (no area tag): the straight line from 31 to 35 leaves the L
    nodes = {
        30: (LON0, LAT0),
        31: (LON0 + 2 * D, LAT0 + 0.5 * D),
        32: (LON0 + 2 * D, LAT0 + D),
        33: (LON0 + D, LAT0 + D),
        34: (LON0 + D, LAT0 + 2 * D),
        35: (LON0 + 0.5 * D, LAT0 + 2 * D),
        36: (LON0, LAT0 + 2 * D),
        37: (LON0 + 2 * D, LAT0),
        40: (LON0 + 3 * D, LAT0 + 0.5 * D),
        41: (LON0 + 0.5 * D, LAT0 + 3 * D),
    }
    ways = [
        (311, [30, 37, 31, 32, 33, 34, 35, 36, 30], {"highway": "pedestrian"}),
        (312, [40, 31], {"highway": "footway"}),
        (313, [35, 41], {"highway": "footway"}),
    ]
    along_the_inner_corner = _h(nodes, 40, 31, 32, 33, 34, 35, 41)
    assert _distance(tmp_path, nodes, ways, 40, 41) == pytest.approx(along_the_inner_corner, rel=1e-9)


def test_pedestrian_multipolygon_with_a_hole(tmp_path: Path) -> None:
    # outer 4D x 2D (way 401), a hole in the middle (way 402); walkers reach the west and east middles
    nodes = {
        50: (LON0, LAT0),
        51: (LON0 + 4 * D, LAT0),
        52: (LON0 + 4 * D, LAT0 + D),
        53: (LON0 + 4 * D, LAT0 + 2 * D),
        54: (LON0, LAT0 + 2 * D),
        55: (LON0, LAT0 + D),
        60: (LON0 + 1.5 * D, LAT0 + 0.5 * D),
        61: (LON0 + 2.5 * D, LAT0 + 0.5 * D),
        62: (LON0 + 2.5 * D, LAT0 + 1.5 * D),
        63: (LON0 + 1.5 * D, LAT0 + 1.5 * D),
        70: (LON0 - D, LAT0 + D),
        71: (LON0 + 5 * D, LAT0 + D),
        56: (LON0 + 2 * D, LAT0),
        72: (LON0 + 2 * D, LAT0 - D),
    }
    ways = [
        (401, [50, 51, 52, 53, 54, 55, 50], {}),
        (402, [60, 61, 62, 63, 60], {}),
        (403, [70, 55], {"highway": "footway"}),
        (404, [52, 71], {"highway": "footway"}),
    ]
    relation = (901, [(401, "outer"), (402, "inner")], {"type": "multipolygon", "highway": "pedestrian"})
    # the straight line 55-52 crosses the hole: round the outline instead
    round_outline = min(_h(nodes, 70, 55, 50, 51, 52, 71), _h(nodes, 70, 55, 54, 53, 52, 71))
    assert _distance(tmp_path, nodes, ways, 70, 71, [relation]) == pytest.approx(round_outline, rel=1e-9)
    # a third way meeting the south side at 56: links 55-56 and 56-52 pass south of the hole
    ways[0] = (401, [50, 56, 51, 52, 53, 54, 55, 50], {})
    ways.append((405, [56, 72], {"highway": "footway"}))
    assert _distance(tmp_path, nodes, ways, 70, 71, [relation]) == pytest.approx(
        _h(nodes, 70, 55, 56, 52, 71), rel=1e-9
    )


# --- a hand-built extract with known answers -----------------------------------------------------


def test_toy_extract_cleaning_report_and_topology(toy_osm: Path) -> None:
    graph, report = graph_from_osm_file(toy_osm)
    assert report["ways_total"] == 7
    assert report["ways_walkable"] == 5  # 101, 102, 104, 105, 107; not the building nor the motorway
    assert report["ways_repaired"] == 1  # 104 lost its reference to the missing node 99
    assert report["node_refs_missing"] == 1
    assert report["components_dropped"] == 1  # the detached footway 7-8
    assert report["nodes_dropped"] == 2
    assert report["edges_dropped"] == 2  # 7->8 and 8->7
    # After simplification: 3 is interstitial (2-3-5 merge), 4 is not (the one-way footbridge starts there).
    assert sorted(graph.nodes) == [1, 2, 4, 5, 14]
    assert not any(n in graph for n in (7, 8, 9, 10, 11, 12, 13, 99))
    edges = sorted((u, v) for u, v, _ in graph.edges(keys=True))
    assert edges == [(1, 2), (2, 1), (2, 4), (2, 5), (4, 2), (4, 14), (5, 2)]  # 4 -> 14 one way only
    expected_25 = haversine_m(*NODES[2], *NODES[3]) + haversine_m(*NODES[3], *NODES[5])
    assert graph.edges[2, 5, 0]["length"] == pytest.approx(expected_25, rel=1e-6)
    assert graph.edges[1, 2, 0]["length"] == pytest.approx(haversine_m(*NODES[1], *NODES[2]), rel=1e-6)
    assert graph.edges[4, 14, 0]["oneway"] is True
    assert graph.edges[1, 2, 0]["oneway"] is False


def test_toy_network_projected_to_cgcs2000_gk_zone(toy_osm: Path, cache_dir: Path) -> None:
    network = load_walk_network(toy_osm, cache_dir=cache_dir)
    assert isinstance(network, WalkNetwork)
    # 110.0 E is nearest the 111 E central meridian: CGCS2000 / 3-degree Gauss-Kruger CM 111E.
    assert network.crs.to_epsg() == 4546
    assert network.report["crs"] == "EPSG:4546"
    assert network.n_nodes == 5
    assert network.n_edges == 7
    # projected node coordinates equal pyproj's transform of the raw degrees
    to_gk = pyproj.Transformer.from_crs(4326, 4546, always_xy=True)
    i = int(np.flatnonzero(network.node_ids == 5)[0])
    assert network.node_xy[i] == pytest.approx(to_gk.transform(*NODES[5]), abs=1e-3)
    # the merged edge 2 -> 5 runs from node 2's end to node 5's end, through node 3
    row = network.edges[(network.node_ids[network.edges["u"]] == 2) & (network.node_ids[network.edges["v"]] == 5)]
    geometry = row.geometry.iloc[0]
    assert shapely.get_coordinates(geometry)[0] == pytest.approx(to_gk.transform(*NODES[2]), abs=1e-3)
    assert shapely.get_coordinates(geometry)[-1] == pytest.approx(to_gk.transform(*NODES[5]), abs=1e-3)
    # its length (great circle on osmnx's sphere) agrees with the planar length in the GK zone to 0.5 %:
    # east-west at 39.8 N the ellipsoid's prime-vertical radius (~6,387 km) exceeds the sphere's by 0.26 %
    assert row["length"].iloc[0] == pytest.approx(geometry.length, rel=5e-3)


def test_crs_override_and_bad_crs(toy_osm: Path, cache_dir: Path) -> None:
    network = load_walk_network(toy_osm, crs=32649, cache_dir=cache_dir)
    assert network.crs.to_epsg() == 32649
    with pytest.raises(ConfigError, match="not a projected CRS in metres"):
        load_walk_network(toy_osm, crs=4326, cache_dir=cache_dir)


# --- bad inputs ------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileNotFoundError, match=r"nowhere\.osm: walk network file not found"):
        load_walk_network(tmp_path / "nowhere.osm", cache_dir=None)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.osm"
    path.write_bytes(b"")
    with pytest.raises(InputDataError, match=r"empty\.osm: walk network file is empty \(0 bytes\)"):
        load_walk_network(path, cache_dir=None)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "streets.shp"
    path.write_bytes(b"x")
    with pytest.raises(InputDataError, match=r"unsupported walk network file type; use one of \.osm"):
        load_walk_network(path, cache_dir=None)


def test_only_buildings_is_not_a_walk_network(tmp_path: Path) -> None:
    path = tmp_path / "buildings.osm"
    path.write_text(osm_xml({k: NODES[k] for k in (10, 11, 12, 13)}, [WAYS[2]]), encoding="utf-8")
    with pytest.raises(NetworkDataError, match=r"buildings\.osm: none of its 1 ways is walkable"):
        load_walk_network(path, cache_dir=None)


def test_walkable_ways_all_outside_the_extract(tmp_path: Path) -> None:
    path = tmp_path / "clipped.osm"
    path.write_text(osm_xml({1: NODES[1]}, [(1, [1, 98, 99], {"highway": "footway"})]), encoding="utf-8")
    with pytest.raises(NetworkDataError, match="no two consecutive nodes inside the extract"):
        load_walk_network(path, cache_dir=None)


def test_no_ways_at_all(tmp_path: Path) -> None:
    path = tmp_path / "nodes.osm"
    path.write_text(osm_xml({1: NODES[1]}, []), encoding="utf-8")
    with pytest.raises(NetworkDataError, match=r"nodes\.osm: no OSM ways in this file"):
        load_walk_network(path, cache_dir=None)


def test_malformed_xml(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text('<osm version="0.6"><node id="1" lat="1" lon="1"></osm>', encoding="utf-8")
    with pytest.raises(InputDataError, match=r"broken\.osm: not valid OSM XML"):
        load_walk_network(path, cache_dir=None)


def test_geographic_graph_is_refused_by_the_array_form() -> None:
    graph = nx.MultiDiGraph(crs="epsg:4326")
    graph.add_node(1, x=110.0, y=39.8)
    graph.add_node(2, x=110.001, y=39.8)
    graph.add_edge(1, 2, length=85.0)
    with pytest.raises(NetworkDataError, match="geographic degrees; project it first"):
        walk_network_from_graph(graph)


# --- cache -----------------------------------------------------------------------------------------


def test_cache_hit_then_miss_on_changed_input(toy_osm: Path, cache_dir: Path) -> None:
    before = hashlib.sha256(toy_osm.read_bytes()).hexdigest()
    mtime_before = toy_osm.stat().st_mtime_ns
    first = load_walk_network(toy_osm, cache_dir=cache_dir)
    assert first.report["cache"] == "miss"
    cached = Path(first.report["cache_path"])
    assert cached.parent == cache_dir and cached.suffix == ".npz"
    written_at = cached.stat().st_mtime_ns
    second = load_walk_network(toy_osm, cache_dir=cache_dir)
    assert second.report["cache"] == "hit"
    assert cached.stat().st_mtime_ns == written_at  # read, not rewritten
    assert (second.n_nodes, second.n_edges) == (first.n_nodes, first.n_edges)
    np.testing.assert_allclose(np.sort(second.edges["length"]), np.sort(first.edges["length"]))
    assert second.report["components_dropped"] == 1  # the report travels with the cache
    # the raw input is never modified
    assert hashlib.sha256(toy_osm.read_bytes()).hexdigest() == before
    assert toy_osm.stat().st_mtime_ns == mtime_before
    # another projection is another cache entry
    assert load_walk_network(toy_osm, crs=32649, cache_dir=cache_dir).report["cache"] == "miss"
    # a changed input misses the cache
    toy_osm.write_text(toy_osm.read_text(encoding="utf-8").replace("Tianjiao Road", "Ordos Street"), encoding="utf-8")
    changed = load_walk_network(toy_osm, cache_dir=cache_dir)
    assert changed.report["cache"] == "miss"
    assert changed.report["cache_path"] != first.report["cache_path"]
    # use_cache=False rebuilds
    assert load_walk_network(toy_osm, cache_dir=cache_dir, use_cache=False).report["cache"] == "miss"
    assert load_walk_network(toy_osm, cache_dir=None).report["cache"] == "off"


def _assert_same_network(cached, fresh) -> None:
    """Arrays, edge table and the osmnx-style graph (order, keys, attributes, geometry) are identical."""
    np.testing.assert_array_equal(cached.node_ids, fresh.node_ids)
    np.testing.assert_array_equal(cached.node_xy, fresh.node_xy)
    assert cached.crs == fresh.crs
    assert (cached.adjacency != fresh.adjacency).nnz == 0
    pd.testing.assert_frame_equal(
        pd.DataFrame(cached.edges.drop(columns="geometry")), pd.DataFrame(fresh.edges.drop(columns="geometry"))
    )
    assert cached.edges.geometry.geom_equals_exact(fresh.edges.geometry, tolerance=0).all()
    graph, expected = cached.to_networkx(), fresh.to_networkx()
    assert graph.graph == expected.graph
    assert list(graph.nodes(data=True)) == list(expected.nodes(data=True))
    rows, expected_rows = list(graph.edges(keys=True, data=True)), list(expected.edges(keys=True, data=True))
    assert len(rows) == len(expected_rows)
    for (a, b, key, data), (ea, eb, ekey, edata) in zip(rows, expected_rows, strict=True):
        assert (a, b, key) == (ea, eb, ekey)
        assert data.keys() == edata.keys()
        for name, value in data.items():
            if name == "geometry":
                assert value.equals_exact(edata[name], tolerance=0)
            else:
                assert value == edata[name], (a, b, key, name)


def extract_path(source: str, request: pytest.FixtureRequest) -> Path:
    """The OSM extract a test runs on: ``sample``, ``helsinki_pbf`` or a file of the real fixtures folder."""
    if source == "sample":
        return settings.SAMPLE_DIR / "walk_network.osm"
    if source == "helsinki_pbf":
        return request.getfixturevalue("helsinki_pbf")
    return request.getfixturevalue("shared_data") / source


@pytest.mark.parametrize("source", ["sample", "munich_small.osm", "west_oakland.osm.bz2", "helsinki_pbf"])
def test_the_array_cache_gives_back_the_same_network(source: str, cache_dir: Path, request) -> None:
    path = extract_path(source, request)
    fresh = load_walk_network(path, cache_dir=cache_dir)
    cached = load_walk_network(path, cache_dir=cache_dir)
    assert (fresh.report["cache"], cached.report["cache"]) == ("miss", "hit")
    assert "graph" not in vars(cached)  # reading the cache builds no networkx graph until one is asked for
    _assert_same_network(cached, fresh)
    # the same through the arrays in memory, and shortest paths agree with networkx on the rebuilt graph
    _assert_same_network(walk_network_from_arrays(network_arrays(fresh)), fresh)
    graph = cached.to_networkx()
    source_node = int(cached.node_ids[0])
    expected = nx.single_source_dijkstra_path_length(graph, source_node, weight="length")
    got = scipy.sparse.csgraph.dijkstra(cached.adjacency, indices=0)
    position = {node: i for i, node in enumerate(cached.node_ids.tolist())}
    for node, metres in expected.items():
        assert got[position[node]] == pytest.approx(metres, rel=1e-12, abs=1e-6)


def test_graphml_source_round_trip(toy_osm: Path, tmp_path: Path) -> None:
    graph, _ = graph_from_osm_file(toy_osm)
    saved = tmp_path / "toy.graphml"
    ox.save_graphml(graph, saved)
    network = load_walk_network(saved, cache_dir=None)
    assert (network.n_nodes, network.n_edges) == (5, 7)
    assert network.crs.to_epsg() == 4546
    # an already projected GraphML stays in its CRS
    projected = tmp_path / "toy_projected.graphml"
    ox.save_graphml(project_network(graph, crs=32649), projected)
    assert load_walk_network(projected, cache_dir=None).crs.to_epsg() == 32649


def test_projected_graphml_without_lengths_gets_planar_lengths(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(crs="EPSG:4546")
    graph.add_node(1, x=500_000.0, y=4_400_000.0)
    graph.add_node(2, x=500_300.0, y=4_400_400.0)  # a 3-4-5 triangle: 500 m from node 1
    graph.add_node(3, x=500_300.0, y=4_400_000.0)  # 400 m below node 2
    graph.add_edges_from([(1, 2), (2, 1), (2, 3), (3, 2)])
    path = tmp_path / "planned.graphml"
    ox.save_graphml(graph, path)
    network = load_walk_network(path, cache_dir=None)
    lengths = {
        (int(network.node_ids[u]), int(network.node_ids[v])): length
        for u, v, length in network.edges[["u", "v", "length"]].itertuples(index=False)
    }
    assert lengths == pytest.approx({(1, 2): 500.0, (2, 1): 500.0, (2, 3): 400.0, (3, 2): 400.0})
    assert network.adjacency[0, 1] == pytest.approx(500.0)


def overpass_json(nodes: dict, ways: list) -> str:
    """What Overpass answers with ``out;`` for these nodes and ways."""
    elements = [{"type": "node", "id": n, "lon": lon, "lat": lat} for n, (lon, lat) in nodes.items()]
    elements += [{"type": "way", "id": w, "nodes": refs, "tags": tags} for w, refs, tags in ways]
    return json.dumps({"version": 0.6, "elements": elements})


@pytest.fixture
def overpass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Overpass at the HTTP layer (``responses``); osmnx's own client sends the queries, no pause, no cache."""
    import responses

    monkeypatch.setattr(socket, "gethostbyname", lambda host: "192.0.2.10")  # osmnx pins the server's address
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_online_polygon_downloads_the_rule_query(toy_osm: Path, overpass) -> None:
    import urllib.parse

    url = ox.settings.overpass_url.rstrip("/") + "/interpreter"
    overpass.post(url, body=overpass_json(NODES, WAYS), content_type="application/json")
    area = shapely.box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.01, LAT0 + 0.01)
    network = load_walk_network(area, cache_dir=None)
    (call,) = overpass.calls
    assert urllib.parse.parse_qs(call.request.body)["data"] == overpass_walk_query(area)
    from_file = load_walk_network(toy_osm, cache_dir=None)
    assert (network.n_nodes, network.n_edges) == (from_file.n_nodes, from_file.n_edges) == (5, 7)
    assert network.report["source"] == "overpass:polygon"
    assert network.report["ways_walkable"] == from_file.report["ways_walkable"] == 5
    overpass.replace("POST", url, body=requests.ConnectionError("reset by peer"))
    with pytest.raises(NetworkDataError, match=r"polygon: cannot get the walk network from Overpass .*reset by peer"):
        load_walk_network(area, cache_dir=None)


def test_online_place_name_and_no_walkable_ways(monkeypatch: pytest.MonkeyPatch, overpass) -> None:
    places = []

    def geocode(query):
        places.append(query)
        return gpd.GeoDataFrame(geometry=[shapely.box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.01, LAT0 + 0.01)], crs=4326)

    monkeypatch.setattr(ox, "geocode_to_gdf", geocode)
    url = ox.settings.overpass_url.rstrip("/") + "/interpreter"
    overpass.post(url, body=overpass_json(NODES, WAYS), content_type="application/json")
    network = load_walk_network("Dongsheng District, Ordos, China", cache_dir=None)
    assert places == ["Dongsheng District, Ordos, China"]
    assert network.n_edges == 7
    only_buildings = [(103, [10, 11, 12, 13, 10], {"building": "yes"})]
    overpass.replace("POST", url, body=overpass_json(NODES, only_buildings), content_type="application/json")
    with pytest.raises(NetworkDataError, match=r"^Kangbashi: OpenStreetMap has no walkable ways there"):
        load_walk_network("Kangbashi", cache_dir=None)
    # a path-like string is never taken for a place name
    with pytest.raises(InputFileNotFoundError, match="walk network file not found"):
        load_walk_network("data/raw/kangbashi", cache_dir=None)


# --- real extracts ---------------------------------------------------------------------------------


def _reference_counts(path: Path, tmp_path: Path) -> tuple[int, int]:
    """osmnx's own builder on the extract with non-walkable ways removed by a hand-written rule."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rb") as file:
        root = ET.parse(file).getroot()
    for way in root.findall("way"):
        tags = {t.get("k"): t.get("v") for t in way.findall("tag")}
        walkable = (
            "highway" in tags
            and tags["highway"] not in ("cycleway", "motorway", "construction", "proposed")
            and tags.get("access") != "private"
            and tags.get("area") != "yes"
            and tags.get("foot") != "no"
            and tags.get("service") != "private"
        )
        if not walkable:
            root.remove(way)
    for relation in root.findall("relation"):
        root.remove(relation)
    root.set("generator", "test")
    cleaned = tmp_path / "reference.osm"
    ET.ElementTree(root).write(cleaned, encoding="utf-8", xml_declaration=True)
    graph = ox.graph_from_xml(cleaned, bidirectional=True, retain_all=False, simplify=True)
    return graph.number_of_nodes(), graph.number_of_edges()


def test_west_oakland_real_extract(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "west_oakland.osm.bz2"
    network = load_walk_network(path, cache_dir=None)
    # 45 nodes / 118 directed edges, pinned from the first run and confirmed by osmnx.graph_from_xml
    # (bidirectional, largest weak component, simplified) on the same file with the non-walkable ways
    # (23 buildings, landuse, the cycleway, access=private service roads) removed by hand:
    assert (network.n_nodes, network.n_edges) == (45, 118)
    assert _reference_counts(path, tmp_path) == (45, 118)
    report = network.report
    assert report["ways_total"] == 66 and report["ways_walkable"] == 29
    assert report["ways_repaired"] == 0  # this extract has complete ways (osmnx keeps its test files whole)
    assert report["components_dropped"] == 2 and report["nodes_dropped"] == 8
    assert network.crs.to_epsg() == 32610  # UTM 10N for -122.3 E
    assert nx.is_weakly_connected(network.graph)


def test_munich_real_extract(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "munich_small.osm"
    network = load_walk_network(path, cache_dir=None)
    # 6 nodes / 10 edges, confirmed by osmnx.graph_from_xml on the hand-filtered file (11 ways are
    # access=private service roads, 33 buildings); 2 residential ways were already cut down to a single
    # node by the extract tool and cannot be kept (ways_unusable).
    assert (network.n_nodes, network.n_edges) == (6, 10)
    assert _reference_counts(path, tmp_path) == (6, 10)
    assert network.report["ways_total"] == 56 and network.report["ways_walkable"] == 8
    assert network.report["ways_unusable"] == 2
    assert network.crs.to_epsg() == 32632  # UTM 32N for 10.07 E


@pytest.fixture(scope="module")
def helsinki_network(helsinki_pbf: Path) -> WalkNetwork:
    return load_walk_network(helsinki_pbf, cache_dir=None)


@pytest.fixture(scope="module")
def helsinki_osmium(helsinki_pbf: Path) -> dict:
    """One pyosmium read of the Helsinki extract, shared by the helpers below: node ids, ways, relations."""
    import osmium

    nodes: set[int] = set()
    ways: dict[int, tuple[list[int], dict[str, str]]] = {}
    relations: list[tuple[dict[str, str], list[int]]] = []
    for item in osmium.FileProcessor(str(helsinki_pbf)):
        if item.is_node():
            nodes.add(item.id)
        elif item.is_way():
            ways[item.id] = ([n.ref for n in item.nodes], dict(item.tags))
        elif item.is_relation():
            relations.append((dict(item.tags), [m.ref for m in item.members if m.type == "w"]))
    return {"nodes": nodes, "ways": ways, "relations": relations}


def _osmium_ways(read: dict) -> tuple[pd.DataFrame, int]:
    """The file's highway ways straight from pyosmium (tags, node ids, whether every node is in the file)."""
    nodes = read["nodes"]
    rows = [
        {
            **{k: tags.get(k) for k in ("highway", "foot", "area", "access", "service", "sidewalk")},
            "tags": tags,
            "nodes": refs,
            "whole": all(r in nodes for r in refs),
        }
        for refs, tags in read["ways"].values()
        if "highway" in tags
    ]
    return pd.DataFrame(rows), len(read["ways"])


def _complete_walkable_multipolygons(read: dict) -> int:
    nodes, ways = read["nodes"], read["ways"]
    complete = 0
    for tags, members in read["relations"]:
        if tags.get("type") != "multipolygon" or "highway" not in tags:
            continue
        if walk_rule({**tags, "area": tags.get("area", "yes")})[0] == "drop":
            continue
        complete += all(m in ways and all(n in nodes for n in ways[m][0]) for m in members)
    return complete


def test_helsinki_pbf_real_extract(helsinki_network: WalkNetwork, helsinki_osmium: dict) -> None:
    network = helsinki_network
    report = network.report
    ways, total = _osmium_ways(helsinki_osmium)
    assert report["ways_total"] == total  # every way in the file, as for XML
    # The extract is clipped at its bounding box: walkable highway ways naming nodes absent from the file
    clipped = sum(
        not whole and is_walkable({k: v for k, v in tags.items() if isinstance(v, str)})
        for tags, whole in zip(ways["tags"], ways["whole"], strict=True)
    )
    assert clipped > 0
    assert report["ways_repaired"] + report["ways_unusable"] >= clipped
    assert network.crs.to_epsg() == 32635  # UTM 35N for 24.94 E
    assert nx.is_weakly_connected(network.graph)
    assert network.edges["length"].min() >= 0
    # lengths (great circle, spherical) agree with planar UTM geometry lengths within 0.5 % in total
    assert network.edges["length"].sum() == pytest.approx(network.edges.length.sum(), rel=5e-3)


def test_a_pbf_gives_the_network_of_the_same_data_as_xml(
    helsinki_network: WalkNetwork, helsinki_pbf: Path, tmp_path: Path
) -> None:
    import osmium

    xml = tmp_path / "helsinki.osm"
    with osmium.SimpleWriter(str(xml)) as writer:  # the same objects, written as OSM XML
        for item in osmium.FileProcessor(str(helsinki_pbf)):
            writer.add(item)
    from_xml = load_walk_network(xml, cache_dir=None)
    from_xml.graph.graph["name"] = helsinki_network.graph.graph["name"]
    _assert_same_network(helsinki_network, from_xml)
    ignore = ("source", "input_sha256")
    assert {k: v for k, v in helsinki_network.report.items() if k not in ignore} == {
        k: v for k, v in from_xml.report.items() if k not in ignore
    }


def test_helsinki_cleaning_report_says_what_the_rule_kept_beyond_osmnx(
    helsinki_network: WalkNetwork, helsinki_osmium: dict
) -> None:
    report = helsinki_network.report
    # independent counts over pyosmium's own reading of the file's highway ways
    ways, _ = _osmium_ways(helsinki_osmium)
    col = {c: ways[c] for c in ("highway", "foot", "area", "access")}
    shared_paths = int(((col["highway"] == "cycleway") & col["foot"].isin(["yes", "designated"])).sum())
    squares = int(((col["highway"] == "pedestrian") & (col["area"] == "yes")).sum())
    footway_areas = int(((col["highway"] == "footway") & (col["area"] == "yes")).sum())
    private_foot = int((col["access"].isin(["private", "no"]) & col["foot"].isin(["yes", "designated"])).sum())
    assert min(shared_paths, squares, footway_areas) > 0 and private_foot == 0  # this wheel's extract
    beyond = report["kept_beyond_osmnx_walk"]
    assert beyond["highway=cycleway foot_permitted"] == shared_paths
    assert beyond["highway=pedestrian pedestrian_area"] == squares
    assert beyond["highway=footway pedestrian_area"] == footway_areas
    assert "highway=service foot_permitted" not in beyond
    # kept = osmnx's walk ways + what the rule adds - what it drops (access=no), way by way
    way_gain = sum(n for label, n in beyond.items() if not label.startswith("multipolygon"))
    assert report["ways_walkable"] == report["ways_osmnx_walk"] + way_gain - sum(
        report["dropped_from_osmnx_walk"].values()
    )
    assert sum(report["walk_rule"]["kept"].values()) == report["ways_walkable"] + report["multipolygons_walkable"]
    assert report["walk_rule"]["dropped"]["no_pedestrians"] > 0 and report["walk_rule"]["dropped"]["foot_no"] > 0
    # every pedestrian area way (area=yes, or a closed highway=pedestrian) the extract holds whole (all its
    # nodes are in the file) and every pedestrian multipolygon became an area with links across it; clipped
    # ones keep their outline pieces only
    closed = ways["nodes"].map(lambda refs: len(refs) >= 4 and refs[0] == refs[-1])
    is_area = (
        (col["highway"].isin(["pedestrian", "footway"]) & (col["area"] == "yes"))
        | ((col["highway"] == "pedestrian") & (col["area"] != "no") & closed)
    ).to_numpy()
    whole = int(ways["whole"][is_area].sum())
    assert whole < squares + footway_areas
    # walkable pedestrian multipolygons whose member ways are all in the file, whole: each becomes an area;
    # a clipped one becomes one only when its members that are present still close a ring
    complete = _complete_walkable_multipolygons(helsinki_osmium)
    assert 0 < complete < report["multipolygons_walkable"]
    assert whole + complete <= report["pedestrian_areas"] <= whole + report["multipolygons_walkable"]
    assert report["pedestrian_area_links"] > report["pedestrian_areas"]
    assert report["ways_osmnx_walk"] / report["ways_walkable"] < 0.96  # the rule keeps over 4 % more ways


# --- the embedded sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_osm() -> Path:
    path = settings.SAMPLE_DIR / "walk_network.osm"
    if not path.exists():
        pytest.skip(f"the embedded sample {path} has not been generated yet (run `ordos-geo sample`)")
    return path


def test_sample_network(sample_osm: Path, tmp_path: Path) -> None:
    network = load_walk_network(sample_osm, cache_dir=tmp_path)
    report = network.report
    assert network.crs.to_epsg() == 4546  # Ordos: CGCS2000 GK CM 111E
    # independent reading of the sample XML: buildings / land use ignored, clipped ways counted
    root = ET.parse(sample_osm).getroot()
    node_ids = {int(n.get("id")) for n in root.iter("node")}
    not_walkable_ids, clipped = set(), 0
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        refs = [int(nd.get("ref")) for nd in way.iter("nd")]
        if "highway" not in tags or tags.get("highway") in ("motorway", "cycleway"):
            not_walkable_ids.add(int(way.get("id")))
        elif any(r not in node_ids for r in refs):
            clipped += 1
    assert not_walkable_ids  # the sample carries buildings / landuse / water
    assert report["ways_total"] == len(root.findall("way"))
    assert report["ways_total"] - report["ways_walkable"] >= len(not_walkable_ids)
    edge_osmids = set()
    for _, _, osmid in network.graph.edges(data="osmid"):
        edge_osmids.update(osmid if isinstance(osmid, list) else [osmid])
    assert not edge_osmids & not_walkable_ids  # no building or land-use outline became a street
    assert clipped >= 1 and report["ways_repaired"] + report["ways_unusable"] == clipped  # clipped ways repaired
    assert report["components_dropped"] >= 1 and report["nodes_dropped"] >= 2  # the detached component
    assert nx.is_weakly_connected(network.graph)
    assert all(is_walkable({"highway": h}) for h in network.edges["highway"].dropna())


def test_sample_square_is_a_pedestrian_area(sample_osm: Path) -> None:
    root = ET.parse(sample_osm).getroot()
    lonlat = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    ways = [
        ([int(nd.get("ref")) for nd in w.iter("nd")], {t.get("k"): t.get("v") for t in w.iter("tag")})
        for w in root.iter("way")
    ]
    (ring,) = [refs for refs, tags in ways if tags.get("name") == "成吉思汗广场"]
    others = {
        n for refs, tags in ways if refs is not ring and "highway" in tags and tags.get("foot") != "no" for n in refs
    }
    meeting = [n for n in dict.fromkeys(ring) if n in others]
    assert len(meeting) >= 4  # the axis and the streets reach the square's outline
    # the two meeting points farthest apart: the square is convex (a rectangle), so the link between them is
    # inside it, and the walk between them is the straight line (no walk can be shorter)
    a, b = max(itertools.combinations(meeting, 2), key=lambda p: haversine_m(*lonlat[p[0]], *lonlat[p[1]]))
    graph, report = graph_from_osm_file(sample_osm, simplify=False)
    assert report["pedestrian_areas"] == 1 and report["walk_rule"]["kept"]["pedestrian_area"] == 1
    straight = haversine_m(*lonlat[a], *lonlat[b])
    assert straight > 500
    assert nx.shortest_path_length(graph, a, b, weight="length") == pytest.approx(straight, rel=1e-9)


def test_a_damaged_cache_is_rebuilt_with_a_warning(toy_osm: Path, cache_dir: Path, caplog) -> None:
    first = load_walk_network(toy_osm, cache_dir=cache_dir)
    cached = Path(first.report["cache_path"])
    whole = cached.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole.replace(b"Tianjiao", b"Tianjiaa")):
        cached.write_bytes(damaged)  # truncated, then altered in a way that still parses
        with caplog.at_level(logging.WARNING, logger="ordos_geo.network"):
            again = load_walk_network(toy_osm, cache_dir=cache_dir)
        assert again.report["cache"] == "miss"
        assert "is damaged (its checksum does not match); rebuilding it" in caplog.text
        assert (again.n_nodes, again.n_edges) == (first.n_nodes, first.n_edges)
        assert load_walk_network(toy_osm, cache_dir=cache_dir).report["cache"] == "hit"  # the rebuilt cache is good
        caplog.clear()


def test_osm_nodes_outside_degrees_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.osm"
    path.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="999" lon="109.9"/>'
        '<node id="2" lat="39.8" lon="109.91"/><way id="3"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="footway"/></way></osm>',
        encoding="utf-8",
    )
    with pytest.raises(NetworkDataError, match=r"bad\.osm: 1 OSM nodes have coordinates outside .*lat 999\)"):
        load_walk_network(path, cache_dir=None)


@pytest.mark.parametrize(
    ("node_data", "expected"),
    [
        ("", "node 1 has no usable x coordinate (None)"),
        ('<data key="x">abc</data><data key="y">40.0</data>', "node 1 has no usable x coordinate ('abc')"),
        ('<data key="x">110.0</data><data key="y">nan</data>', "node 1 has no usable y coordinate"),
    ],
)
def test_graphml_without_usable_coordinates_gets_one_line(tmp_path: Path, node_data: str, expected: str) -> None:
    path = tmp_path / "drawn.graphml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<key id="x" for="node" attr.name="x" attr.type="string"/>'
        '<key id="y" for="node" attr.name="y" attr.type="string"/>'
        '<key id="d0" for="edge" attr.name="length" attr.type="string"/>'
        '<key id="g0" for="graph" attr.name="crs" attr.type="string"/>'
        f'<graph edgedefault="directed"><data key="g0">epsg:4326</data><node id="1">{node_data}</node>'
        '<node id="2"><data key="x">110.0</data><data key="y">40.0</data></node>'
        '<edge source="1" target="2" id="0"><data key="d0">10</data></edge></graph></graphml>',
        encoding="utf-8",
    )
    with pytest.raises(InputDataError) as error:
        load_walk_network(path, cache_dir=None)
    message = str(error.value)
    assert message.startswith(f"{path}: {expected}") and "\n" not in message
    assert "osmnx.save_graphml" in message
