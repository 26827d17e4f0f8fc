"""The synthetic OSM extract: nodes and tagged ways, written as OSM XML."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Point

from ordos_geo.sample._geometry import Frame, points_of, polys_of


@dataclass
class _Way:
    coords: list[tuple[float, float]]
    tags: dict[str, str]
    junction: bool  # noded with other junction ways where they cross
    extra_refs: list[int] = field(default_factory=list)  # missing node ids appended (clipped extract)


class OsmBuilder:
    """Collects ways in a metric frame, nodes them at crossings, writes OSM XML."""

    NODE_ID0 = 1_000_001
    WAY_ID0 = 5_000_001
    MISSING_ID0 = 9_900_001

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.ways: list[_Way] = []
        self.node_tags: dict[tuple[float, float], dict[str, str]] = {}

    def add(self, coords: Iterable[Sequence[float]], tags: dict[str, str], *, junction: bool = True) -> _Way:
        pts = [(float(x), float(y)) for x, y in coords]
        way = _Way(pts, dict(tags), junction)
        self.ways.append(way)
        return way

    def add_polygon(self, poly: Any, tags: dict[str, str], *, junction: bool = False) -> _Way:
        poly = max(polys_of(poly), key=lambda p: p.area)
        ring = shapely.remove_repeated_points(poly.exterior, 0.5)
        coords = list(ring.coords)
        return self.add(coords, tags, junction=junction)

    # -- noding
    def _node_ways(self) -> list[list[tuple[float, float]]]:  # noqa: C901 - older than the complexity limit; split when next changed
        lines = [LineString(w.coords) for w in self.ways]
        junction_idx = [i for i, w in enumerate(self.ways) if w.junction]
        tree = shapely.STRtree([lines[i] for i in junction_idx])
        inserts: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(self.ways))}
        for pos, i in enumerate(junction_idx):
            for cand in sorted(tree.query(lines[i]).tolist()):
                if cand <= pos:
                    continue
                j = junction_idx[cand]
                for p in points_of(lines[i].intersection(lines[j])):
                    inserts[i].append(p)
                    inserts[j].append(p)
        # a way ending on another one (up to rounding) joins it there
        for i in junction_idx:
            for end in (self.ways[i].coords[0], self.ways[i].coords[-1]):
                end_pt = Point(end)
                for cand in sorted(tree.query(end_pt.buffer(0.01)).tolist()):
                    j = junction_idx[cand]
                    if j != i and lines[j].distance(end_pt) < 0.01:
                        inserts[j].append(end)
        noded = []
        for i, way in enumerate(self.ways):
            if not inserts[i]:
                noded.append(way.coords)
                continue
            line = lines[i]
            items = []
            along = 0.0
            for k, c in enumerate(way.coords):
                if k:
                    along += math.dist(way.coords[k - 1], c)
                items.append((along, 0, c))
            for p in inserts[i]:
                items.append((float(line.project(Point(p))), 1, p))
            items.sort(key=lambda t: (round(t[0], 6), t[1], t[2]))
            out: list[tuple[float, float]] = []
            for _, _, c in items:
                if out and math.dist(out[-1], c) < 0.05:
                    continue
                out.append(c)
            if way.coords[0] == way.coords[-1] and len(way.coords) > 2:
                out[-1] = out[0]
            noded.append(out)
        return noded

    def to_xml(self, *, generator: str) -> tuple[str, dict[str, int]]:
        noded = self._node_ways()
        registry: dict[tuple[int, int], list[tuple[float, float, int]]] = {}
        node_xy: list[tuple[float, float]] = []

        def find(c: tuple[float, float]) -> int | None:
            kx, ky = round(c[0] * 10), round(c[1] * 10)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for x, y, nid in registry.get((kx + dx, ky + dy), []):
                        if math.dist((x, y), c) < 0.05:
                            return nid
            return None

        def node_id(c: tuple[float, float]) -> int:
            found = find(c)
            if found is not None:
                return found
            kx, ky = round(c[0] * 10), round(c[1] * 10)
            nid = self.NODE_ID0 + len(node_xy)
            node_xy.append(c)
            registry.setdefault((kx, ky), []).append((c[0], c[1], nid))
            return nid

        way_refs = []
        for way, coords in zip(self.ways, noded, strict=True):
            refs = [node_id(c) for c in coords]
            refs = [r for k, r in enumerate(refs) if k == 0 or r != refs[k - 1]]
            way_refs.append(refs + way.extra_refs)
        xy = np.array(node_xy)
        lon, lat = self.frame.lonlat_arrays(xy[:, 0], xy[:, 1])
        tagged = {}
        for c, tags in self.node_tags.items():  # only nodes some way passes through
            found = find(c)
            if found is not None:
                tagged[found] = tags
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<osm version="0.6" generator={quoteattr(generator)}>']
        lines.append(
            f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" maxlat="{lat.max():.7f}" '
            f'maxlon="{lon.max():.7f}"/>'
        )
        for k in range(len(node_xy)):
            nid = self.NODE_ID0 + k
            attrs = f'id="{nid}" version="1" lat="{lat[k]:.7f}" lon="{lon[k]:.7f}"'
            if nid in tagged:
                lines.append(f"  <node {attrs}>")
                lines.extend(
                    f"    <tag k={quoteattr(key)} v={quoteattr(v)}/>" for key, v in sorted(tagged[nid].items())
                )
                lines.append("  </node>")
            else:
                lines.append(f"  <node {attrs}/>")
        n_missing = 0
        for w, (way, refs) in enumerate(zip(self.ways, way_refs, strict=True)):
            lines.append(f'  <way id="{self.WAY_ID0 + w}" version="1">')
            lines.extend(f'    <nd ref="{r}"/>' for r in refs)
            lines.extend(f"    <tag k={quoteattr(key)} v={quoteattr(v)}/>" for key, v in sorted(way.tags.items()))
            lines.append("  </way>")
            n_missing += len(way.extra_refs)
        lines.append("</osm>")
        stats = {"nodes": len(node_xy), "ways": len(self.ways), "missing_refs": n_missing}
        return "\n".join(lines) + "\n", stats
