"""Raw OSM (XML, bz2/gzip, PBF, Overpass JSON) to arrays, and the walking rule applied to them (once per tag set)."""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import groupby, pairwise
from pathlib import Path
from typing import IO, Any, Protocol, cast

import numpy as np
import shapely

from ordos_geo._errors import InputDataError, NetworkDataError
from ordos_geo._validate import polygonal_part
from ordos_geo.network.arrays import _ragged_rows, ragged_take
from ordos_geo.network.rules import (
    SEPARATE_SIDEWALK_SEARCH_M,
    _useful_tags,
    _way_tag_keys,
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
class _OsmElements:
    """Nodes, ways and relations of an OSM extract as the XML and Overpass readers meet them (dicts)."""

    lon: dict[int, float] = field(default_factory=dict)
    lat: dict[int, float] = field(default_factory=dict)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    #: multipolygon relations with a ``highway`` tag: (id, [(member way id, role)], tags)
    relations: list[tuple[int, list[tuple[int, str]], dict[str, str]]] = field(default_factory=list)
    #: ways in the file when the reader kept only the ones the walk graph needs (``None``: ``len(ways)``)
    ways_seen: int | None = None

    def has_node(self, node: int) -> bool:
        return node in self.lon

    def lonlat(self, node: int) -> tuple[float, float]:
        return self.lon[node], self.lat[node]

    def n_nodes(self) -> int:
        return len(self.lon)

    def add_node(self, node: int, lon: float, lat: float) -> None:
        self.lon[node], self.lat[node] = lon, lat


class _Coords(Protocol):
    """Node coordinates by OSM id, as the pedestrian-area and sidewalk geometry helpers read them."""

    def has_node(self, node: int) -> bool: ...

    def lonlat(self, node: int) -> tuple[float, float]: ...

    def n_nodes(self) -> int: ...

    def add_node(self, node: int, lon: float, lat: float) -> None: ...


@dataclass
class _OsmData:
    """Nodes, ways and multipolygon relations of an OSM extract as arrays: what the walk network is built from.

    Way ``i`` runs through the node ids ``refs[refs_off[i]:refs_off[i + 1]]``;
    its tags are ``tag_sets[way_tags[i]]``, only the keys the walk network
    reads (:func:`~ordos_geo.network.rules._way_tag_keys`), so ways with the
    same such tags share one tag set and the walking rule runs once per set.
    """

    node_ids: np.ndarray  # int64, the reader's order
    lon: np.ndarray
    lat: np.ndarray
    node_tags: dict[int, dict[str, str]]  # osmnx's useful node tags, for the nodes that have some
    way_ids: np.ndarray
    refs: np.ndarray
    refs_off: np.ndarray
    way_tags: np.ndarray
    tag_sets: list[dict[str, str]]
    #: multipolygon relations (with a ``highway`` tag, but Overpass's any): (id, [(member way id, role)], tags)
    relations: list[tuple[int, list[tuple[int, str]], dict[str, str]]]
    ways_seen: int  # ways in the file (the reader may keep only the ones the walk network needs)
    added: dict[int, tuple[float, float]] = field(default_factory=dict)  # nodes made for multipolygons' rings

    def __post_init__(self) -> None:
        self._sorter = np.argsort(self.node_ids, kind="stable")
        self._sorted = self.node_ids[self._sorter]
        self._distinct: int | None = None

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Each id's position in ``node_ids`` (the last, if an id repeats, as a dict keeps it), or -1."""
        if len(self._sorted) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.searchsorted(self._sorted, ids, side="right") - 1
        at_valid = np.maximum(at, 0)
        found = (at >= 0) & (self._sorted[at_valid] == ids)
        return np.where(found, self._sorter[at_valid], -1)

    def coordinates(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes and latitudes of nodes (of the file, or added)."""
        at = self.positions(ids)
        lon, lat = self.lon[at], self.lat[at]
        for i in np.flatnonzero(at < 0).tolist():
            lon[i], lat[i] = self.added[int(ids[i])]
        return lon, lat

    def has_node(self, node: int) -> bool:
        return node in self.added or bool(self.positions(np.array([node]))[0] >= 0)

    def lonlat(self, node: int) -> tuple[float, float]:
        if node in self.added:
            return self.added[node]
        at = int(self.positions(np.array([node]))[0])
        if at < 0:
            raise KeyError(node)
        return float(self.lon[at]), float(self.lat[at])

    def n_nodes(self) -> int:
        if self._distinct is None:
            self._distinct = len(np.unique(self.node_ids))
        return self._distinct + len(self.added)

    def add_node(self, node: int, lon: float, lat: float) -> None:
        self.added[node] = (lon, lat)


def _tag_sets(tags_of_ways: Iterable[dict[str, str]]) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Each way's tag set (only the keys the walk network reads) as an index into the distinct sets."""
    keys = _way_tag_keys()
    index: dict[tuple[tuple[str, str], ...], int] = {}
    sets: list[dict[str, str]] = []
    codes = []
    for tags in tags_of_ways:
        kept = tuple((k, v) for k, v in tags.items() if k in keys)
        code = index.get(kept)
        if code is None:
            code = index[kept] = len(sets)
            sets.append(dict(kept))
        codes.append(code)
    return np.array(codes, dtype=np.int64), sets


def _data_from_elements(elements: _OsmElements) -> _OsmData:
    """The array form of what the XML or Overpass reader met."""
    ways = elements.ways
    sizes = np.fromiter((len(refs) for _, refs, _ in ways), dtype=np.int64, count=len(ways))
    refs_off = np.zeros(len(ways) + 1, dtype=np.int64)
    np.cumsum(sizes, out=refs_off[1:])
    way_tags, tag_sets = _tag_sets(tags for _, _, tags in ways)
    n = len(elements.lon)
    return _OsmData(
        node_ids=np.fromiter(elements.lon.keys(), dtype=np.int64, count=n),
        lon=np.fromiter(elements.lon.values(), dtype=float, count=n),
        lat=np.fromiter((elements.lat[i] for i in elements.lon), dtype=float, count=n),
        node_tags=elements.node_tags,
        way_ids=np.fromiter((way_id for way_id, _, _ in ways), dtype=np.int64, count=len(ways)),
        refs=np.fromiter((n for _, refs, _ in ways for n in refs), dtype=np.int64, count=int(refs_off[-1])),
        refs_off=refs_off,
        way_tags=way_tags,
        tag_sets=tag_sets,
        relations=elements.relations,
        ways_seen=len(ways) if elements.ways_seen is None else elements.ways_seen,
    )


def _open_xml(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def _read_osm_xml(path: Path) -> _OsmElements:
    """Stream an OSM XML file (plain, bz2 or gzip) into nodes and ways."""
    useful_node_tags = set(_useful_tags("node"))
    data = _OsmElements()
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


def _read_osm_file(file: Path) -> _OsmData:
    """The nodes, ways and relations of an OSM extract the walk network needs (XML or PBF)."""
    if file.name.lower().endswith(_PBF_SUFFIXES):
        from ordos_geo.network._pbf import _read_osm_pbf

        data = _read_osm_pbf(file)
    else:
        data = _data_from_elements(_read_osm_xml(file))
    if len(data.way_ids) == 0:
        msg = f"{file}: no OSM ways in this file; give an OSM extract with streets and footpaths of the study area"
        raise NetworkDataError(msg)
    return data


# ---------------------------------------------------------------------------
# Building and cleaning the graph
# ---------------------------------------------------------------------------


def _check_node_coordinates(ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, *, name: str) -> None:
    """Refuse OSM nodes whose coordinates are not degrees (``lat="999"``, NaN)."""
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


def _piece_lines(pieces: list[list[int]], data: _Coords, origin: tuple[float, float]) -> list[shapely.LineString]:
    lines = []
    for piece in pieces:
        lon, lat = np.array([data.lonlat(n) for n in piece]).T
        lines.append(shapely.LineString(_local_metres(lon, lat, origin)))
    return lines


def _sidewalks_alongside(roads: list[_Way], lines: list[_Way], data: _Coords) -> list[bool]:
    """Whether mapped sidewalks (``footway=sidewalk``) run along each ``sidewalk=separate`` road.

    A road has them when the sidewalk ways within :data:`SEPARATE_SIDEWALK_SEARCH_M`
    metres of it are, inside that band, at least half as long as the road.
    """
    if not roads:
        return []
    origin = data.lonlat(roads[0].pieces[0][0])
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


def _multipolygon(members: list[tuple[int, str]], way_refs: dict[int, list[int]], data: _Coords) -> Any:
    """Assemble a multipolygon relation from its member ways (outer minus inner), or ``None``."""
    rings: dict[str, list[shapely.LineString]] = {"outer": [], "inner": []}
    for way_id, role in members:
        refs = [n for n in way_refs.get(way_id, []) if data.has_node(n)]
        if len(refs) >= 2:
            rings["inner" if role == "inner" else "outer"].append(shapely.LineString([data.lonlat(n) for n in refs]))
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


def _polygon_rings(polygon: Any, lookup: dict[tuple[float, float], int], data: _Coords) -> list[list[int]]:
    """Node rings of a lon/lat polygon: known nodes by coordinate, new (negative) ids for the others."""
    rings = []
    for part in getattr(polygon, "geoms", [polygon]):
        for ring in [part.exterior, *part.interiors]:
            ids = []
            for lon, lat in ring.coords:
                node = lookup.get((lon, lat))
                if node is None:
                    node = -(data.n_nodes() + 1)
                    while data.has_node(node):
                        node -= 1
                    data.add_node(node, lon, lat)
                    lookup[(lon, lat)] = node
                ids.append(node)
            rings.append([n for n, _ in groupby(ids)])
    return rings


def _area_links(area: _Way, meeting: list[int], data: _Coords) -> list[tuple[int, int]]:
    """Straight links between an area's meeting points that stay inside the area."""
    inside = area.polygon.buffer(1e-7)  # ~1 cm of rounding tolerance in degrees
    shapely.prepare(inside)
    on_outline = {frozenset(pair) for ring in area.rings for pair in pairwise(ring)}
    links = []
    for i, a in enumerate(meeting):
        for b in meeting[i + 1 :]:
            if frozenset((a, b)) in on_outline:
                continue
            segment = shapely.LineString([data.lonlat(a), data.lonlat(b)])
            if inside.covers(segment):
                links.append((a, b))
    return links


def _data_from_overpass(responses: list[dict[str, Any]]) -> _OsmData:
    """Nodes, ways and multipolygon relations of Overpass JSON responses."""
    data = _OsmElements()
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
    return _data_from_elements(data)


@dataclass
class _Walkable:
    """What the walking rule keeps, ready to become segments.

    ``lines`` are way rows in the order their records come (the line ways,
    then the ``sidewalk=separate`` roads kept); line ``lines[piece_line[p]]``
    owns piece ``p``, the node ids ``piece_nodes[piece_off[p]:piece_off[p + 1]]``
    (runs of the way's nodes present in the extract, without repeats).
    """

    lines: np.ndarray
    piece_line: np.ndarray
    piece_off: np.ndarray
    piece_nodes: np.ndarray
    areas: list[_Way]
    members: dict[int, int]  # how many walkable ways use each node of a pedestrian area


def _cut_pieces(data: _OsmData, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the ways ``rows`` at nodes absent from the extract, drop repeated nodes, keep runs of >= 2 nodes.

    Returns each piece's way (position in ``rows``), the pieces' offsets and
    nodes, and each way's count of absent node references.
    """
    at, owner = _ragged_rows(data.refs_off, rows)
    refs = data.refs[at]
    present = data.positions(refs) >= 0
    missing = np.bincount(owner[~present], minlength=len(rows))
    continues = np.zeros(len(refs), dtype=bool)  # same way, this node and the one before both present
    continues[1:] = (owner[1:] == owner[:-1]) & present[1:] & present[:-1]
    repeat = continues.copy()
    repeat[1:] &= refs[1:] == refs[:-1]
    run = np.cumsum(present & ~continues) - 1
    kept = np.flatnonzero(present & ~repeat)
    run_size = np.bincount(run[kept], minlength=int(run[-1]) + 1 if len(run) else 0)
    kept = kept[run_size[run[kept]] >= 2]
    sizes = run_size[run_size >= 2]
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return owner[kept[offsets[:-1]]], offsets, refs[kept], missing


def _rule_per_way(data: _OsmData, rows: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The walking rule's verdict for each way ``rows`` (once per distinct tag set and closedness), and the tallies."""
    codes = data.way_tags[rows] * 2 + closed
    distinct, inverse, number = np.unique(codes, return_inverse=True, return_counts=True)
    verdicts = []
    kept: dict[str, int] = {}
    dropped: dict[str, int] = {}
    beyond: dict[str, int] = {}
    osmnx_only: dict[str, int] = {}
    osmnx_ways = 0
    for code, count in zip(distinct.tolist(), number.tolist(), strict=True):
        tags = data.tag_sets[code // 2]
        verdict, reason = walk_rule(tags, closed=bool(code % 2))
        verdicts.append(verdict)
        osmnx = in_osmnx_walk(tags)
        osmnx_ways += osmnx * count
        label = f"highway={tags.get('highway')} {reason}"
        if verdict == "drop":
            dropped[reason] = dropped.get(reason, 0) + count
            if osmnx:
                osmnx_only[label] = osmnx_only.get(label, 0) + count
        else:
            kept[reason] = kept.get(reason, 0) + count
            if not osmnx:
                beyond[label] = beyond.get(label, 0) + count
    tallies = {"kept": kept, "dropped": dropped, "beyond": beyond, "osmnx_only": osmnx_only, "osmnx": osmnx_ways}
    return np.array(verdicts, dtype=object)[inverse] if len(rows) else np.array([], dtype=object), tallies


def _way_areas(
    data: _OsmData, walkable: np.ndarray, candidates: np.ndarray, pieces: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[list[_Way], np.ndarray]:
    """Pedestrian area ways (``walkable[candidates]``, each one whole piece of >= 4 nodes) whose outline is a polygon.

    Returns the areas and which candidates they are (the others stay lines).
    """
    piece_way, offsets, nodes = pieces
    areas = []
    is_area = np.zeros(len(candidates), dtype=bool)
    for i, (at, p) in enumerate(zip(candidates.tolist(), np.searchsorted(piece_way, candidates).tolist(), strict=True)):
        ring = nodes[offsets[p] : offsets[p + 1]]
        polygon = _polygonal(shapely.Polygon(np.column_stack(data.coordinates(ring))))
        if polygon is not None:
            row = walkable[at]
            ring_ids = ring.tolist()
            areas.append(
                _Way(int(data.way_ids[row]), [ring_ids], data.tag_sets[data.way_tags[row]], [ring_ids], polygon)
            )
            is_area[i] = True
    return areas, is_area


def _ways_of(
    data: _OsmData, walkable: np.ndarray, chosen: np.ndarray, pieces: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> list[_Way]:
    """The ways ``walkable[chosen]`` with their pieces, as :class:`_Way` (for the sidewalk geometry test)."""
    piece_way, offsets, nodes = pieces
    ways = []
    for at, first, last in zip(
        chosen.tolist(),
        np.searchsorted(piece_way, chosen).tolist(),
        np.searchsorted(piece_way, chosen, side="right").tolist(),
        strict=True,
    ):
        way_pieces = [nodes[offsets[p] : offsets[p + 1]].tolist() for p in range(first, last)]
        row = walkable[at]
        ways.append(_Way(int(data.way_ids[row]), way_pieces, data.tag_sets[data.way_tags[row]]))
    return ways


def _ring_lookup(data: _OsmData, polygons: list[tuple[int, Any, dict[str, str]]]) -> dict[tuple[float, float], int]:
    """The node at each vertex of the multipolygons: the last in the file's ways with those coordinates."""
    vertices = [
        xy
        for _, polygon, _ in polygons
        if polygon is not None
        for part in getattr(polygon, "geoms", [polygon])
        for ring in [part.exterior, *part.interiors]
        for xy in ring.coords
    ]
    if not vertices:
        return {}
    at = data.positions(data.refs)
    refs, at = data.refs[at >= 0], at[at >= 0]
    lon, lat = data.lon[at], data.lat[at]
    wanted = np.array([complex(x, y) for x, y in vertices])
    hit = np.flatnonzero(np.isin(lon + 1j * lat, wanted))
    return {(x, y): n for n, x, y in zip(refs[hit].tolist(), lon[hit].tolist(), lat[hit].tolist(), strict=True)}


def _relation_areas(data: _OsmData, counts: dict[str, Any], tallies: dict[str, Any]) -> list[_Way]:
    """The walkable pedestrian multipolygons as areas (tallied and counted as the ways are)."""
    if not data.relations:
        return []
    wanted = {way_id for _, members, _ in data.relations for way_id, _ in members}
    rows = np.flatnonzero(np.isin(data.way_ids, np.fromiter(wanted, dtype=np.int64, count=len(wanted))))
    way_refs = {int(data.way_ids[r]): data.refs[data.refs_off[r] : data.refs_off[r + 1]].tolist() for r in rows}
    polygons = [(rel_id, _multipolygon(members, way_refs, data), tags) for rel_id, members, tags in data.relations]
    lookup = _ring_lookup(data, polygons)
    areas = []
    for rel_id, polygon, tags in polygons:
        verdict, reason = walk_rule({**tags, "area": tags.get("area", "yes")})
        label = f"multipolygon highway={tags.get('highway')} {reason}"
        if verdict == "drop":  # osmnx's walk network never holds relations
            tallies["dropped"][reason] = tallies["dropped"].get(reason, 0) + 1
            continue
        tallies["kept"][reason] = tallies["kept"].get(reason, 0) + 1
        tallies["beyond"][label] = tallies["beyond"].get(label, 0) + 1
        counts["multipolygons_walkable"] += 1
        if polygon is None:
            counts["ways_unusable"] += 1
            continue
        rings = _polygon_rings(polygon, lookup, data)
        areas.append(_Way(rel_id, rings, tags, rings=rings, polygon=polygon))
    return areas


def _area_members(walkable: _Walkable) -> dict[int, int]:
    """How many walkable ways (lines and areas) use each node of a pedestrian area."""
    if not walkable.areas:
        return {}
    area_nodes = np.unique([n for area in walkable.areas for ring in area.rings for n in ring])
    owner = np.repeat(walkable.piece_line, np.diff(walkable.piece_off))
    hit = np.isin(walkable.piece_nodes, area_nodes)
    pairs = np.unique(np.column_stack([owner[hit], walkable.piece_nodes[hit]]), axis=0)
    nodes, number = np.unique(pairs[:, 1], return_counts=True)
    members = dict(zip(nodes.tolist(), number.tolist(), strict=True))
    for area in walkable.areas:
        for node in {n for ring in area.rings for n in ring}:
            members[node] = members.get(node, 0) + 1
    return members


def _walkable_ways(data: _OsmData) -> tuple[_Walkable, dict[str, Any]]:
    """Apply the walking rule to every way and multipolygon: the line pieces, pedestrian areas and way counts.

    The rule runs once per distinct tag set; cutting ways at absent nodes works
    on arrays. ``sidewalk=separate`` roads are lines unless mapped sidewalks run
    alongside them.
    """
    sizes = np.diff(data.refs_off)
    highway = np.array(["highway" in tags for tags in data.tag_sets], dtype=bool)
    rows = np.flatnonzero(highway[data.way_tags]) if len(data.way_tags) else np.zeros(0, dtype=np.int64)
    first = data.refs[np.minimum(data.refs_off[rows], len(data.refs) - 1)] if len(data.refs) else rows
    last = data.refs[np.maximum(data.refs_off[rows + 1] - 1, 0)] if len(data.refs) else rows
    closed = (sizes[rows] >= 4) & (first == last)
    verdict, tallies = _rule_per_way(data, rows, closed)
    walkable = rows[verdict != "drop"]
    verdict = verdict[verdict != "drop"]
    piece_way, offsets, nodes, missing = _cut_pieces(data, walkable)
    n_pieces = np.bincount(piece_way, minlength=len(walkable))
    counts: dict[str, Any] = {
        "ways_walkable": len(walkable),
        "multipolygons_walkable": 0,
        "ways_osmnx_walk": tallies["osmnx"],
        "ways_repaired": int(((missing > 0) & (n_pieces > 0)).sum()),
        "ways_unusable": int((n_pieces == 0).sum()),
        "node_refs_missing": int(missing.sum()),
    }
    usable = n_pieces > 0
    pieces = (piece_way, offsets, nodes)
    candidates = np.flatnonzero((verdict == "area") & usable & (missing == 0))
    candidates = candidates[np.diff(offsets)[np.searchsorted(piece_way, candidates)] >= 4]
    areas, made = _way_areas(data, walkable, candidates, pieces)
    is_area = np.zeros(len(walkable), dtype=bool)
    is_area[candidates[made]] = True
    line = usable & ~is_area & (verdict != "sidewalk_separate")
    road = np.flatnonzero(usable & (verdict == "sidewalk_separate"))
    roads = _ways_of(data, walkable, road, pieces)
    alongside: list[bool] = []
    if roads:
        footway = np.array([tags.get("footway") == "sidewalk" for tags in data.tag_sets], dtype=bool)
        sidewalks = np.flatnonzero(line & footway[data.way_tags[walkable]])
        alongside = _sidewalks_alongside(roads, _ways_of(data, walkable, sidewalks, pieces), data)
    areas += _relation_areas(data, counts, tallies)
    counts["walk_rule"] = {
        "kept": dict(sorted(tallies["kept"].items())),
        "dropped": dict(sorted(tallies["dropped"].items())),
    }
    counts["kept_beyond_osmnx_walk"] = dict(sorted(tallies["beyond"].items()))
    counts["dropped_from_osmnx_walk"] = dict(sorted(tallies["osmnx_only"].items()))
    counts["walk_rule"]["dropped"]["sidewalk_separate_alongside"] = sum(alongside)
    counts["walk_rule"]["kept"]["sidewalk_separate"] = len(roads) - sum(alongside)
    counts["ways_walkable"] -= sum(alongside)
    lines = np.concatenate([np.flatnonzero(line), road[~np.array(alongside, dtype=bool)]])  # positions in walkable
    line_of = np.full(len(walkable), -1, dtype=np.int64)
    line_of[lines] = np.arange(len(lines))
    piece_line = line_of[piece_way]
    order = np.flatnonzero(piece_line >= 0)
    order = order[np.argsort(piece_line[order], kind="stable")]
    new_offsets, piece_nodes = ragged_take(offsets, nodes, order)
    result = _Walkable(
        lines=walkable[lines],
        piece_line=piece_line[order],
        piece_off=new_offsets,
        piece_nodes=piece_nodes,
        areas=areas,
        members={},
    )
    result.members = _area_members(result)
    return result, counts
