"""The scene being built: blocks, facilities, street grids and the uses of blocks."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box

from ordos_geo.sample._geometry import Frame, lines_of, polys_of
from ordos_geo.sample._osm_writer import OsmBuilder


@dataclass
class Block:
    poly: Polygon
    core: str  # "Kangbashi" | "Dongsheng"
    use: str = "residential"
    density: float = 0.0


@dataclass
class Facility:
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
class Scene:
    frame: Frame
    osm: OsmBuilder
    blocks: list[Block] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    amap: list[Facility] = field(default_factory=list)
    hamlet_cells: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, weight
    gap_zones: list[Polygon] = field(default_factory=list)
    excluded: list[Any] = field(default_factory=list)  # unpopulated land (water, square)


_ROAD = {"surface": "asphalt"}
_ARTERIAL = {"sidewalk": "both", "surface": "asphalt"}
FOOT = {"highway": "footway", "surface": "paving_stones"}
_PATH = {"highway": "path", "foot": "designated", "surface": "compacted"}


def street_tags(highway: str, name: tuple[str, str] | None = None, **extra: str) -> dict[str, str]:
    tags = {"highway": highway, **(_ARTERIAL if highway in ("primary", "secondary", "tertiary") else _ROAD)}
    if name:
        tags["name"], tags["name:en"] = name
    tags.update(extra)
    return tags


def grid_positions(
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


def add_grid(
    scene: Scene,
    rng: np.random.Generator,
    *,
    core: str,
    xs: list[tuple[float, Any]],
    ys: list[tuple[float, Any]],
    land: Polygon,
    extra_lines: Sequence[LineString] = (),
) -> list[Block]:
    """Add the street grid clipped to ``land`` and return its blocks."""
    x_min, x_max = xs[0][0], xs[-1][0]
    y_min, y_max = ys[0][0], ys[-1][0]
    lines = list(extra_lines)
    north_south = [(((x, y_min), (x, y_max)), name) for x, name in xs]
    east_west = [(((x_min, y), (x_max, y)), name) for y, name in ys]
    for ends, name in north_south + east_west:  # in this order: the random street classes stay as they were
        highway = name[0] if name else ("tertiary" if rng.random() < 0.25 else "residential")
        label = name[1] if name else None
        for part in lines_of(LineString(ends).intersection(land)):
            scene.osm.add(part.coords, street_tags(highway, label))
            lines.append(_extended(part, 0.5))
    # traffic signals where a primary road meets another arterial
    for (x, name_x), (y, name_y) in itertools.product(xs, ys):
        if name_x and name_y and "primary" in (name_x[0], name_y[0]):
            scene.osm.node_tags[(x, y)] = {"highway": "traffic_signals"}
    faces = shapely.polygonize(lines_of(shapely.node(MultiLineString(lines))))
    blocks = []
    for face in sorted(polys_of(faces), key=lambda p: (round(p.centroid.y, 1), round(p.centroid.x, 1))):
        if face.area > 5_000 and land.buffer(1.0).contains(face):
            blocks.append(Block(face, core))
    return blocks


def _extended(line: LineString, distance: float) -> LineString:
    """A two-point line lengthened by ``distance`` at both ends (so that crossings are proper ones)."""
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return LineString([(x0 - ux * distance, y0 - uy * distance), (x1 + ux * distance, y1 + uy * distance)])


def _block_box(block: Block) -> tuple[float, float, float, float]:
    return tuple(block.poly.bounds)  # type: ignore[return-value]


def is_rect(block: Block) -> bool:
    return abs(block.poly.area - box(*block.poly.bounds).area) < 1.0


def fill_block(scene: Scene, rng: np.random.Generator, block: Block, counters: dict[str, int]) -> None:  # noqa: C901 - older than the complexity limit; split when next changed
    """Internal ways and land-use polygons of one block."""
    osm = scene.osm
    x0, y0, x1, y1 = _block_box(block)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    inner = block.poly.buffer(-15.0, join_style="mitre")
    if block.use == "residential":
        osm.add_polygon(inner, {"landuse": "residential"})  # where community population polygons spread people
        if is_rect(block):
            r = rng.random()
            if r < 0.30:  # cul-de-sac from the south or west side
                if rng.random() < 0.5:
                    osm.add([(cx, y0), (cx, y0 + 0.45 * h)], street_tags("residential"))
                else:
                    osm.add([(x0, cy), (x0 + 0.45 * w, cy)], street_tags("residential", None, noexit="yes"))
            elif r < 0.60:  # mid-block footway, sometimes with a kink
                if w >= h:
                    mid = (cx + rng.uniform(-0.1, 0.1) * w, cy + rng.uniform(-0.15, 0.15) * h)
                    osm.add([(cx, y0), mid, (cx, y1)], dict(FOOT))
                else:
                    mid = (cx + rng.uniform(-0.15, 0.15) * w, cy + rng.uniform(-0.1, 0.1) * h)
                    osm.add([(x0, cy), mid, (x1, cy)], dict(FOOT))
            elif r < 0.70:  # a service lane into a compound
                osm.add([(x0 + 0.3 * w, y1), (x0 + 0.3 * w, y1 - 0.35 * h)], {"highway": "service", **_ROAD})
            if rng.random() < 0.12 and counters["buildings"] < 60:
                bx, by = cx + rng.uniform(-0.2, 0.2) * w, cy + rng.uniform(-0.2, 0.2) * h
                osm.add_polygon(
                    box(bx - 30, by - 9, bx + 30, by + 9), {"building": "apartments", "building:levels": "18"}
                )
                counters["buildings"] += 1
        if rng.random() < 0.06 and is_rect(block) and w > 180 and h > 180:  # small vacant plot in a corner
            kind = ("grass", "brownfield")[counters["small_vacant"] % 2]
            counters["small_vacant"] += 1
            osm.add_polygon(box(x1 - 95, y1 - 75, x1 - 15, y1 - 15), {"landuse": kind})
    elif block.use == "park":
        osm.add_polygon(inner, {"leisure": "park", "name": _park_name(counters), "name:en": "Park (synthetic)"})
        loop = block.poly.buffer(-40.0, join_style="round", quad_segs=2).exterior
        osm.add(loop.coords, dict(FOOT))
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


def assign_uses(
    blocks: list[Block], rng: np.random.Generator, probs: dict[str, float], *, fixed: dict[int, str]
) -> None:
    uses = list(probs)
    p = np.array([probs[u] for u in uses])
    p = p / p.sum()
    for k, block in enumerate(blocks):
        block.use = fixed.get(k) or str(rng.choice(uses, p=p))
        if not is_rect(block) and block.use in ("park", "school", "sports"):
            block.use = "residential"


def block_at(blocks: list[Block], x: float, y: float) -> int:
    pt = Point(x, y)
    for k, b in enumerate(blocks):
        if b.poly.contains(pt):
            return k
    msg = f"no block at ({x:.0f}, {y:.0f})"
    raise RuntimeError(msg)
