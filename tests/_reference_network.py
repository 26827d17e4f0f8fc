"""The networkx route the array loader replaced, kept here ONLY as the tests' reference.

``reference_network`` builds the walk network of an OSM extract the way ordos_geo did before the
array loader: an osmnx-style ``MultiDiGraph`` edge by edge (the walking rule's ways, pedestrian
areas and their links, the one-way rule), then osmnx's ``largest_component``, ``add_edge_lengths``,
``simplify_graph`` and ``project_graph``, then the array form of that graph.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox

from ordos_geo.network import WalkNetwork, clean_walk_graph, project_network, walk_network_from_graph
from ordos_geo.network._osm import (
    _area_links,
    _check_node_coordinates,
    _OsmData,
    _read_osm_file,
    _walkable_ways,
)
from ordos_geo.network.rules import _EXTRA_WAY_TAGS, _pedestrian_direction


def reference_graph_from_osm_data(data: _OsmData, *, name: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """The unsimplified, unprojected osmnx-style walk graph, built edge by edge in networkx."""
    _check_node_coordinates(data, name=name)
    keep_tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS, "area"]))
    graph = nx.MultiDiGraph(crs="epsg:4326", created_with=f"ordos_geo / OSMnx {ox.__version__}", name=name)
    lines, areas, members, counts = _walkable_ways(data)

    def add(nodes: list[int], attrs: dict[str, Any], *, both: bool = True) -> None:
        for node in nodes:
            if node not in graph:
                graph.add_node(node, y=data.lat[node], x=data.lon[node], **data.node_tags.get(node, {}))
        pairs = list(pairwise(nodes))
        graph.add_edges_from(pairs, **attrs, reversed=False)
        if both:
            graph.add_edges_from([(v, u) for u, v in pairs], **attrs, reversed=True)

    for way in lines:
        one_way, reverse = _pedestrian_direction(way.tags)
        attrs = {"osmid": way.osm_id, **{k: way.tags[k] for k in keep_tags if k in way.tags}, "oneway": one_way}
        for piece in way.pieces:
            add(piece[::-1] if reverse else piece, attrs, both=not one_way)
    links = 0
    for area in areas:
        attrs = {
            "osmid": area.osm_id,
            **{k: area.tags[k] for k in keep_tags if k in area.tags},
            "area": "yes",
            "oneway": False,
        }
        for ring in area.rings:
            add(ring, attrs)
        meeting = [n for n in dict.fromkeys(n for ring in area.rings for n in ring) if members.get(n, 0) >= 2]
        for a, b in _area_links(area, meeting, data):
            add([a, b], {**attrs, "area_link": True})
            links += 1
    ways_total = len(data.ways) if data.ways_seen is None else data.ways_seen
    counts.update(
        ways_total=ways_total,
        multipolygons_total=len(data.relations),
        pedestrian_areas=len(areas),
        pedestrian_area_links=links,
    )
    return graph, counts


def reference_network(path: Path, *, crs: Any = None) -> WalkNetwork:
    """The projected walk network of an OSM extract by the networkx/osmnx route."""
    graph, counts = reference_graph_from_osm_data(_read_osm_file(path), name=path.name)
    graph, report = clean_walk_graph(graph, report={"source": str(path), **counts})
    projected = project_network(graph, crs=crs)
    return walk_network_from_graph(projected, report=report)
