"""The networkx route the array loader replaced, kept here ONLY as the tests' reference.

``reference_network`` builds the walk network of an OSM extract the way ordos_geo did before the
array loader: pyosmium (PBF) or the XML reader into dicts, the walking rule way by way, an
osmnx-style ``MultiDiGraph`` edge by edge (the walking rule's ways, pedestrian areas and their
links, the one-way rule), then osmnx's ``largest_component``, ``add_edge_lengths``,
``simplify_graph`` and ``project_graph``, then the array form of that graph.
"""

from __future__ import annotations

from itertools import groupby, pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx as ox
import shapely

from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork, clean_walk_graph, project_network, walk_network_from_graph
from ordos_geo.network._osm import (
    _PBF_SUFFIXES,
    _area_links,
    _check_node_coordinates,
    _multipolygon,
    _OsmElements,
    _polygon_rings,
    _polygonal,
    _read_osm_xml,
    _sidewalks_alongside,
    _Way,
)
from ordos_geo.network.rules import _EXTRA_WAY_TAGS, _pedestrian_direction, in_osmnx_walk, walk_rule


def reference_graph_from_osm_data(data: _OsmElements, *, name: str) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """The unsimplified, unprojected osmnx-style walk graph, built edge by edge in networkx."""
    ids = np.fromiter(data.lon.keys(), dtype=np.int64, count=len(data.lon))
    lon = np.fromiter(data.lon.values(), dtype=float, count=len(data.lon))
    lat = np.fromiter((data.lat[i] for i in data.lon), dtype=float, count=len(data.lon))
    _check_node_coordinates(ids, lon, lat, name=name)
    keep_tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS, "area"]))
    graph = nx.MultiDiGraph(crs="epsg:4326", created_with=f"ordos_geo / OSMnx {ox.__version__}", name=name)
    lines, areas, members, counts = walkable_ways(data)

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
    graph, counts = reference_graph_from_osm_data(reference_read(path), name=path.name)
    graph, report = clean_walk_graph(graph, report={"source": str(path), **counts})
    projected = project_network(graph, crs=crs)
    return walk_network_from_graph(projected, report=report)


def reference_read(path: Path) -> _OsmElements:
    """The extract as the loader read it before pyrosm's arrays: pyosmium for PBF, the XML reader otherwise."""
    return read_osm_pbf_pyosmium(path) if path.name.lower().endswith(_PBF_SUFFIXES) else _read_osm_xml(path)


def read_osm_pbf_pyosmium(path: Path) -> _OsmElements:
    """Stream a PBF extract with pyosmium into the same nodes, ways and relations the XML reader keeps.

    Three passes over the file, each reading one kind of object: the
    multipolygon relations with a ``highway`` tag (their member ways are
    needed to assemble them), the ``highway`` ways and those members, then
    only the nodes those ways use. Nothing else is held in memory, so a whole
    district's extract with its buildings costs what its streets cost.
    """
    import osmium

    useful_node_tags = set(ox.settings.useful_tags_node)
    data = _OsmElements()
    try:
        members: set[int] = set()
        for relation in osmium.FileProcessor(str(path), osmium.osm.RELATION):
            tags = dict(relation.tags)
            if tags.get("type") == "multipolygon" and "highway" in tags:
                kept = [(int(m.ref), m.role or "outer") for m in relation.members if m.type == "w"]
                data.relations.append((int(relation.id), kept, tags))
                members.update(ref for ref, _ in kept)
        needed: set[int] = set()
        ways_seen = 0
        for way in osmium.FileProcessor(str(path), osmium.osm.WAY):
            ways_seen += 1
            if "highway" in way.tags or way.id in members:
                refs = [int(n.ref) for n in way.nodes]
                data.ways.append((int(way.id), refs, dict(way.tags)))
                needed.update(refs)
        nodes = osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(osmium.filter.IdFilter(needed))
        for node in nodes:  # libosmium skips the nodes no kept way uses
            node_id = node.id
            location = node.location
            valid = location.valid()
            data.lon[node_id] = location.lon if valid else float("nan")
            data.lat[node_id] = location.lat if valid else float("nan")
            if len(node.tags):
                useful = {tag.k: tag.v for tag in node.tags if tag.k in useful_node_tags}
                if useful:
                    data.node_tags[node_id] = useful
    except RuntimeError as error:  # libosmium's errors: not a PBF, truncated, bad compression
        msg = f"{path}: cannot read this PBF extract ({error}); check it is a complete .osm.pbf file"
        raise InputDataError(msg) from error
    data.ways_seen = ways_seen
    return data


def split_at_missing(refs: list[int], present: dict[int, float]) -> list[list[int]]:
    """Cut a way's node list at references to absent nodes; keep runs of >= 2 nodes."""
    pieces = []
    for is_present, run in groupby(refs, key=lambda n: n in present):
        if is_present:
            nodes = [n for n, _ in groupby(run)]  # drop consecutive duplicates like osmnx
            if len(nodes) >= 2:
                pieces.append(nodes)
    return pieces


def classify_ways(data: _OsmElements) -> tuple[list[_Way], list[_Way], list[_Way], dict[str, Any]]:  # noqa: C901 - the reference, as it was
    """Apply the walking rule to every way and multipolygon: lines, areas, sidewalk=separate roads, counts."""
    lines: list[_Way] = []
    areas: list[_Way] = []
    roads: list[_Way] = []
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}
    beyond: dict[str, int] = {}
    osmnx_only: dict[str, int] = {}
    counts: dict[str, Any] = {
        "ways_walkable": 0,
        "multipolygons_walkable": 0,
        "ways_osmnx_walk": 0,
        "ways_repaired": 0,
        "ways_unusable": 0,
        "node_refs_missing": 0,
    }
    polygons: list[tuple[int, Any, dict[str, str]]] = []
    if data.relations:
        way_refs = {way_id: refs for way_id, refs, _ in data.ways}
        for rel_id, members, tags in data.relations:
            polygons.append((rel_id, _multipolygon(members, way_refs, data), tags))

    def tally(verdict: str, reason: str, tags: dict[str, str], *, way: bool = True) -> None:
        osmnx = way and in_osmnx_walk(tags)  # osmnx's walk network never holds relations
        counts["ways_osmnx_walk"] += osmnx
        label = f"{'' if way else 'multipolygon '}highway={tags.get('highway')} {reason}"
        if verdict == "drop":
            dropped[reason] = dropped.get(reason, 0) + 1
            if osmnx:
                osmnx_only[label] = osmnx_only.get(label, 0) + 1
        else:
            kept[reason] = kept.get(reason, 0) + 1
            if not osmnx:
                beyond[label] = beyond.get(label, 0) + 1

    for way_id, refs, tags in data.ways:
        if "highway" not in tags:
            continue
        closed = len(refs) >= 4 and refs[0] == refs[-1]
        verdict, reason = walk_rule(tags, closed=closed)
        tally(verdict, reason, tags)
        if verdict == "drop":
            continue
        counts["ways_walkable"] += 1
        missing = sum(1 for n in refs if n not in data.lon)
        if missing:
            counts["node_refs_missing"] += missing
            pieces = split_at_missing(refs, data.lon)
        else:
            nodes = [n for n, _ in groupby(refs)]
            pieces = [nodes] if len(nodes) >= 2 else []
        if not pieces:
            counts["ways_unusable"] += 1
            continue
        if missing:
            counts["ways_repaired"] += 1
        way = _Way(way_id, pieces, tags)
        if verdict == "area" and not missing and len(pieces[0]) >= 4:
            polygon = _polygonal(shapely.Polygon([(data.lon[n], data.lat[n]) for n in pieces[0]]))
            if polygon is not None:
                way.rings, way.polygon = [pieces[0]], polygon
                areas.append(way)
                continue
        (roads if verdict == "sidewalk_separate" else lines).append(way)
    lookup: dict[tuple[float, float], int] = {}  # node by coordinates, for the multipolygons' rings only
    if polygons:
        lookup = {(data.lon[n], data.lat[n]): n for way in lines + areas + roads for piece in way.pieces for n in piece}
        for _way_id, refs, _ in data.ways:
            lookup.update({(data.lon[n], data.lat[n]): n for n in refs if n in data.lon})
    for rel_id, polygon, tags in polygons:
        verdict, reason = walk_rule({**tags, "area": tags.get("area", "yes")})
        tally(verdict, reason, tags, way=False)
        if verdict == "drop":
            continue
        counts["multipolygons_walkable"] += 1
        if polygon is None:
            counts["ways_unusable"] += 1
            continue
        rings = _polygon_rings(polygon, lookup, data)
        areas.append(_Way(rel_id, rings, tags, rings=rings, polygon=polygon))
    counts["walk_rule"] = {"kept": dict(sorted(kept.items())), "dropped": dict(sorted(dropped.items()))}
    counts["kept_beyond_osmnx_walk"] = dict(sorted(beyond.items()))
    counts["dropped_from_osmnx_walk"] = dict(sorted(osmnx_only.items()))
    return lines, areas, roads, counts


def walkable_ways(data: _OsmElements) -> tuple[list[_Way], list[_Way], dict[int, int], dict[str, Any]]:
    """The walking rule's lines and pedestrian areas, how many of them use each node, and the way counts.

    ``sidewalk=separate`` roads are lines unless mapped sidewalks run alongside them.
    """
    lines, areas, roads, counts = classify_ways(data)
    alongside = _sidewalks_alongside(roads, lines, data)
    counts["walk_rule"]["dropped"]["sidewalk_separate_alongside"] = sum(alongside)
    counts["walk_rule"]["kept"]["sidewalk_separate"] = len(roads) - sum(alongside)
    counts["ways_walkable"] -= sum(alongside)
    lines = lines + [road for road, has in zip(roads, alongside, strict=True) if not has]
    members: dict[int, int] = {}
    for way in lines + areas:
        for node in {n for piece in way.pieces for n in piece}:
            members[node] = members.get(node, 0) + 1
    return lines, areas, members, counts
