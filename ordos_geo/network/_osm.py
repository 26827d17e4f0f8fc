"""Raw OSM (XML, bz2/gzip, PBF, Overpass JSON) to the unsimplified osmnx-style walk graph."""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import shapely

from ordos_geo._errors import InputDataError, NetworkDataError
from ordos_geo._optional import import_optional
from ordos_geo._validate import polygonal_part
from ordos_geo.network.rules import (
    SEPARATE_SIDEWALK_SEARCH_M,
    _useful_tags,
    in_osmnx_walk,
    walk_rule,
)

NETWORK_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.pbf", ".pbf", ".graphml")
_XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")

# ---------------------------------------------------------------------------
# Reading raw OSM
# ---------------------------------------------------------------------------


@dataclass
class _OsmData:
    """Nodes and ways of an OSM extract (only what the walk graph needs)."""

    lon: dict[int, float] = field(default_factory=dict)
    lat: dict[int, float] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    #: multipolygon relations with a ``highway`` tag: (id, [(member way id, role)], tags)
    relations: list[tuple[int, list[tuple[int, str]], dict[str, str]]] = field(default_factory=list)
    #: ways in the file when the reader kept only the ones the walk graph needs (``None``: ``len(ways)``)
    ways_seen: int | None = None


def _open_xml(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def _read_osm_xml(path: Path) -> _OsmData:
    """Stream an OSM XML file (plain, bz2 or gzip) into nodes and ways."""
    useful_node_tags = set(_useful_tags("node"))
    data = _OsmData()
    try:
        with _open_xml(path) as file:
            for _event, element in ET.iterparse(file, events=("end",)):
                kind = element.tag
                if kind == "node":
                    if element.get("action") != "delete":
                        node_id = int(element.get("id"))
                        data.lon[node_id] = float(element.get("lon"))
                        data.lat[node_id] = float(element.get("lat"))
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        useful = {k: v for k, v in tags.items() if k in useful_node_tags}
                        if useful:
                            data.node_tags[node_id] = useful
                    element.clear()
                elif kind == "way":
                    if element.get("action") != "delete":
                        refs = [int(nd.get("ref")) for nd in element.iter("nd")]
                        tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                        data.ways.append((int(element.get("id")), refs, tags))
                    element.clear()
                elif kind == "relation":
                    tags = {t.get("k"): t.get("v") for t in element.iter("tag")}
                    if element.get("action") != "delete" and tags.get("type") == "multipolygon" and "highway" in tags:
                        members = [
                            (int(m.get("ref")), m.get("role") or "outer")
                            for m in element.iter("member")
                            if m.get("type") == "way"
                        ]
                        data.relations.append((int(element.get("id")), members, tags))
                    element.clear()
    except ET.ParseError as error:
        msg = f"{path}: not valid OSM XML ({error}); re-export the extract (JOSM, Overpass or osmium) and retry"
        raise InputDataError(msg) from error
    except (OSError, EOFError, TypeError, ValueError) as error:
        msg = f"{path}: cannot read this OSM XML file ({error}); check it is complete and not corrupted"
        raise InputDataError(msg) from error
    return data


def _read_osm_pbf(path: Path) -> _OsmData:
    """Stream a PBF extract with pyosmium into the same nodes, ways and relations the XML reader keeps.

    Three passes over the file, each reading one kind of object: the
    multipolygon relations with a ``highway`` tag (their member ways are
    needed to assemble them), the ``highway`` ways and those members, then
    only the nodes those ways use. Nothing else is held in memory, so a whole
    district's extract with its buildings costs what its streets cost.
    """
    osmium = import_optional("osmium", purpose="reading .osm.pbf files", requirement="osmium>=4.0")
    useful_node_tags = set(_useful_tags("node"))
    data = _OsmData()
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


def _read_osm_file(file: Path) -> _OsmData:
    """The nodes, ways and relations of an OSM extract the walk network needs (XML or PBF)."""
    data = _read_osm_pbf(file) if file.name.lower().endswith(_PBF_SUFFIXES) else _read_osm_xml(file)
    if not data.ways:
        msg = f"{file}: no OSM ways in this file; give an OSM extract with streets and footpaths of the study area"
        raise NetworkDataError(msg)
    return data


# ---------------------------------------------------------------------------
# Building and cleaning the graph
# ---------------------------------------------------------------------------


def _split_at_missing(refs: list[int], present: dict[int, float]) -> list[list[int]]:
    """Cut a way's node list at references to absent nodes; keep runs of >= 2 nodes."""
    pieces = []
    for is_present, run in groupby(refs, key=lambda n: n in present):
        if is_present:
            nodes = [n for n, _ in groupby(run)]  # drop consecutive duplicates like osmnx
            if len(nodes) >= 2:
                pieces.append(nodes)
    return pieces


def _check_node_coordinates(data: _OsmData, *, name: str) -> None:
    """Refuse OSM nodes whose coordinates are not degrees (``lat="999"``, NaN)."""
    ids = np.fromiter(data.lon.keys(), dtype=np.int64, count=len(data.lon))
    lon = np.fromiter(data.lon.values(), dtype=float, count=len(data.lon))
    lat = np.fromiter((data.lat[i] for i in data.lon), dtype=float, count=len(data.lon))
    bad = np.flatnonzero(~((np.abs(lon) <= 180) & (np.abs(lat) <= 90)))
    if bad.size:
        shown = ", ".join(f"node {ids[i]} (lon {lon[i]:g}, lat {lat[i]:g})" for i in bad[:3])
        msg = (
            f"{name}: {bad.size} OSM nodes have coordinates outside longitude ±180° / latitude ±90° ({shown}); "
            "the extract is damaged: export it again"
        )
        raise NetworkDataError(msg)


def _local_metres(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float]) -> np.ndarray:
    """Equirectangular metres around ``origin`` (good to well under 1 % over a few kilometres)."""
    scale = 111_320.0 * np.cos(np.radians(origin[1]))
    return np.column_stack([(lon - origin[0]) * scale, (lat - origin[1]) * 110_574.0])


@dataclass
class _Way:
    """A way (or multipolygon) the walking rule keeps, before it becomes edges."""

    osm_id: int
    pieces: list[list[int]]
    tags: dict[str, str]
    rings: list[list[int]] = field(default_factory=list)  # pedestrian areas: closed node rings
    polygon: Any = None  # pedestrian areas: the area in lon/lat


def _piece_lines(pieces: list[list[int]], data: _OsmData, origin: tuple[float, float]) -> list[shapely.LineString]:
    lines = []
    for piece in pieces:
        lon = np.array([data.lon[n] for n in piece])
        lat = np.array([data.lat[n] for n in piece])
        lines.append(shapely.LineString(_local_metres(lon, lat, origin)))
    return lines


def _sidewalks_alongside(roads: list[_Way], lines: list[_Way], data: _OsmData) -> list[bool]:
    """Whether mapped sidewalks (``footway=sidewalk``) run along each ``sidewalk=separate`` road.

    A road has them when the sidewalk ways within :data:`SEPARATE_SIDEWALK_SEARCH_M`
    metres of it are, inside that band, at least half as long as the road.
    """
    if not roads:
        return []
    first = roads[0].pieces[0][0]
    origin = (data.lon[first], data.lat[first])
    sidewalks = [
        line
        for way in lines
        if way.tags.get("footway") == "sidewalk"
        for line in _piece_lines(way.pieces, data, origin)
    ]
    tree = shapely.STRtree(sidewalks)
    answers = []
    for road in roads:
        road_lines = _piece_lines(road.pieces, data, origin)
        band = shapely.union_all([line.buffer(SEPARATE_SIDEWALK_SEARCH_M) for line in road_lines])
        near = tree.query(band)
        alongside = sum(sidewalks[i].intersection(band).length for i in near.tolist())
        answers.append(alongside >= 0.5 * sum(line.length for line in road_lines))
    return answers


def _multipolygon(members: list[tuple[int, str]], way_refs: dict[int, list[int]], data: _OsmData) -> Any:
    """Assemble a multipolygon relation from its member ways (outer minus inner), or ``None``."""
    rings: dict[str, list[shapely.LineString]] = {"outer": [], "inner": []}
    for way_id, role in members:
        refs = [n for n in way_refs.get(way_id, []) if n in data.lon]
        if len(refs) >= 2:
            rings["inner" if role == "inner" else "outer"].append(
                shapely.LineString([(data.lon[n], data.lat[n]) for n in refs])
            )
    outer = shapely.union_all(list(shapely.polygonize(rings["outer"]).geoms)) if rings["outer"] else None
    if outer is None or outer.is_empty:
        return None
    if rings["inner"]:
        outer = outer.difference(shapely.union_all(list(shapely.polygonize(rings["inner"]).geoms)))
    return outer if not outer.is_empty else None


def _polygonal(polygon: Any) -> Any:
    """The polygonal part of a possibly self-touching ring (``shapely.make_valid``), or ``None``."""
    polygon = polygonal_part(polygon)
    return polygon if polygon.geom_type in ("Polygon", "MultiPolygon") and polygon.area > 0 else None


def _polygon_rings(polygon: Any, lookup: dict[tuple[float, float], int], data: _OsmData) -> list[list[int]]:
    """Node rings of a lon/lat polygon: known nodes by coordinate, new (negative) ids for the others."""
    rings = []
    for part in getattr(polygon, "geoms", [polygon]):
        for ring in [part.exterior, *part.interiors]:
            ids = []
            for lon, lat in ring.coords:
                node = lookup.get((lon, lat))
                if node is None:
                    node = -(len(data.lon) + 1)
                    while node in data.lon:
                        node -= 1
                    data.lon[node], data.lat[node] = lon, lat
                    lookup[(lon, lat)] = node
                ids.append(node)
            rings.append([n for n, _ in groupby(ids)])
    return rings


def _area_links(area: _Way, meeting: list[int], data: _OsmData) -> list[tuple[int, int]]:
    """Straight links between an area's meeting points that stay inside the area."""
    inside = area.polygon.buffer(1e-7)  # ~1 cm of rounding tolerance in degrees
    shapely.prepare(inside)
    on_outline = {frozenset(pair) for ring in area.rings for pair in pairwise(ring)}
    links = []
    for i, a in enumerate(meeting):
        for b in meeting[i + 1 :]:
            if frozenset((a, b)) in on_outline:
                continue
            segment = shapely.LineString([(data.lon[a], data.lat[a]), (data.lon[b], data.lat[b])])
            if inside.covers(segment):
                links.append((a, b))
    return links


def _classify_ways(data: _OsmData) -> tuple[list[_Way], list[_Way], list[_Way], dict[str, Any]]:  # noqa: C901 - older than the complexity limit; split when next changed
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
            pieces = _split_at_missing(refs, data.lon)
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


def _data_from_overpass(responses: list[dict[str, Any]]) -> _OsmData:
    """Nodes, ways and multipolygon relations of Overpass JSON responses."""
    data = _OsmData()
    seen_ways: set[int] = set()
    seen_relations: set[int] = set()
    for response in responses:
        for element in response.get("elements", []):
            kind, osm_id, tags = element.get("type"), int(element["id"]), element.get("tags") or {}
            if kind == "node":
                data.lon[osm_id], data.lat[osm_id] = float(element["lon"]), float(element["lat"])
                useful = {k: v for k, v in tags.items() if k in ("highway", "junction", "railway", "ref")}
                if useful:
                    data.node_tags[osm_id] = useful
            elif kind == "way" and osm_id not in seen_ways:
                seen_ways.add(osm_id)
                data.ways.append((osm_id, [int(n) for n in element.get("nodes", [])], dict(tags)))
            elif kind == "relation" and osm_id not in seen_relations and tags.get("type") == "multipolygon":
                seen_relations.add(osm_id)
                members = [
                    (int(m["ref"]), m.get("role") or "outer")
                    for m in element.get("members", [])
                    if m.get("type") == "way"
                ]
                data.relations.append((osm_id, members, dict(tags)))
    return data


def _walkable_ways(data: _OsmData) -> tuple[list[_Way], list[_Way], dict[int, int], dict[str, Any]]:
    """The walking rule's lines and pedestrian areas, how many of them use each node, and the way counts.

    ``sidewalk=separate`` roads are lines unless mapped sidewalks run alongside them.
    """
    lines, areas, roads, counts = _classify_ways(data)
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
