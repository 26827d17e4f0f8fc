"""The two towns (central Kangbashi and Dongsheng) and the roads between them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from shapely.geometry import LineString, Polygon, box

from ordos_geo.sample._geometry import lines_of, points_of, southern_part
from ordos_geo.sample._osm_writer import OsmBuilder
from ordos_geo.sample._scene import (
    FOOT,
    Block,
    Scene,
    add_grid,
    assign_uses,
    block_at,
    grid_positions,
    street_tags,
)
from ordos_geo.sample.facts import (
    DONGSHENG_GOV,
    DONGSHENG_STADIUM,
    GENGHIS_KHAN_SQUARE,
    HAMLET,
    KANGBASHI_CITY_GOV,
)


# --------------------------------------------------------------------------- Kangbashi
def build_kangbashi(scene: Scene, rng: np.random.Generator, kangbashi_m: Polygon) -> dict[str, Any]:
    """Kangbashi: river along the real south boundary, grid north of it, square, bridges, Azhen stubs."""
    osm = scene.osm
    k_off = scene.frame.xy(*GENGHIS_KHAN_SQUARE)
    ox, oy = k_off
    simple = kangbashi_m.simplify(120.0)
    window = box(ox - 4200, oy - 4000, ox + 5200, oy - 400)
    river: Any = southern_part(simple.buffer(-110.0).exterior, window)
    river = river.simplify(20.0)
    water = river.buffer(95.0, cap_style="flat")
    riverside_poly = simple.buffer(-330.0)
    riverside = southern_part(riverside_poly.exterior, box(ox - 2800, oy - 4000, ox + 4200, oy - 400))
    promenade = southern_part(simple.buffer(-225.0).exterior, box(ox - 2800, oy - 4000, ox + 4200, oy - 400))
    south_bank = southern_part(simple.buffer(260.0).exterior, box(ox - 2600, oy - 4500, ox + 3600, oy - 400))
    scene.excluded.append(water)

    # the river: centre line (flows west to east here) and water area
    osm.add(river.coords, {"waterway": "river", "name": "乌兰木伦河", "name:en": "Wulanmulun River"}, junction=False)
    osm.add_polygon(water, {"natural": "water", "water": "river", "name": "乌兰木伦河"})
    osm.add(riverside.coords, street_tags("secondary", ("滨河路", "Binhe Road (synthetic)")))
    osm.add(promenade.coords, {**FOOT, "name": "滨河步道", "name:en": "Riverside Promenade (synthetic)"})
    osm.add(south_bank.coords, street_tags("secondary", ("滨河大道", "Binhe Avenue")))

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
    xs = [(x, n) for x, n in grid_positions(rng, xs_art, spacing=(260, 330)) if not (ox - 150 < x < ox + 150) or n]
    ys = grid_positions(rng, ys_art, spacing=(230, 300))
    blocks = add_grid(scene, rng, core="Kangbashi", xs=xs, ys=ys, land=riverside_poly, extra_lines=[riverside])
    # central axis: pedestrian spine through Genghis Khan Square
    square = box(ox - 100, oy - 1250, ox + 100, oy + 1250)
    axis = LineString([(ox, oy - 1500), (ox, oy + 3300)]).intersection(riverside_poly)
    for part in lines_of(axis):
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
    gov_x, gov_y = scene.frame.xy(*KANGBASHI_CITY_GOV)
    fixed[block_at(blocks, gov_x, gov_y)] = "civic"
    sports_blocks = [block_at(blocks, ox + 3600, oy + 2900), block_at(blocks, ox + 3300, oy + 2900)]
    for k in sports_blocks:
        fixed[k] = "sports"
    fixed[block_at(blocks, ox + 1500, oy - 250)] = "sports_park"
    for k, b in enumerate(blocks):
        c = b.poly.centroid
        if ox - 150 < c.x < ox + 150:
            fixed[k] = "square"
    assign_uses(
        blocks, rng,
        {"residential": 0.62, "park": 0.045, "civic": 0.12, "vacant": 0.12, "school": 0.03, "commercial": 0.05},
        fixed=fixed,
    )  # fmt: skip
    scene.gap_zones.append(box(ox - 3000, oy - 4000, ox - 1450, oy + 3500))
    _no_park_in_gaps(scene, blocks)

    # bridges: a road bridge, a two-way footbridge on the axis, a one-way footbridge
    bridges = [
        (ox - 1000, street_tags("secondary", ("天骄路", "Tianjiao Road"))),
        (ox, {**FOOT, "name": "中轴步行桥", "name:en": "Axis Footbridge (synthetic)"}),
        (ox + 2000, {**FOOT, "oneway:foot": "yes", "name": "单向人行桥", "name:en": "One-way Footbridge (synthetic)"}),
    ]
    for x, tags in bridges:
        north = riverside.intersection(LineString([(x, oy - 5000), (x, oy)]))
        south = south_bank.intersection(LineString([(x, oy - 5000), (x, oy)]))
        yn, ys_ = points_of(north)[0][1], points_of(south)[0][1]
        span = lines_of(water.intersection(LineString([(x, yn), (x, ys_)])))[0]
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
        start = points_of(south_bank.intersection(LineString([(x, oy - 6000), (x, oy)])))[0]
        osm.add([start, (x, start[1] - 450.0)], street_tags("secondary", name))
    # promenade access paths every ~600 m
    for x in np.arange(ox - 2500, ox + 4000, 650.0):
        on_riverside = riverside.intersection(LineString([(x, oy - 5000), (x, oy)]))
        on_promenade = promenade.intersection(LineString([(x, oy - 5000), (x, oy)]))
        if not on_riverside.is_empty and not on_promenade.is_empty:
            osm.add([points_of(on_riverside)[0], points_of(on_promenade)[0]], dict(FOOT))
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


def _no_park_in_gaps(scene: Scene, blocks: list[Block]) -> None:
    for b in blocks:
        if any(z.contains(b.poly.centroid) for z in scene.gap_zones) and b.use in ("park", "school", "sports"):
            b.use = "residential"


# --------------------------------------------------------------------------- Dongsheng
def build_dongsheng(scene: Scene, rng: np.random.Generator) -> dict[str, Any]:
    """Dongsheng: grid around the district government, stadium block, industrial south-east, G109, clipped ways."""
    ox, oy = scene.frame.xy(*DONGSHENG_GOV)
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
    xs = grid_positions(rng, xs_art, spacing=(240, 320))
    ys = grid_positions(rng, ys_art, spacing=(220, 290))
    land = box(ox - 3500, oy - 2400, ox + 3100, oy + 2700)
    blocks = add_grid(scene, rng, core="Dongsheng", xs=xs, ys=ys, land=land)
    sx, sy = scene.frame.xy(*DONGSHENG_STADIUM)
    fixed = {block_at(blocks, sx, sy): "sports", block_at(blocks, ox + 60, oy + 60): "civic"}
    fixed[block_at(blocks, ox - 600, oy - 900)] = "park"
    fixed[block_at(blocks, ox + 600, oy - 1500)] = "park"
    for k, b in enumerate(blocks):
        c = b.poly.centroid
        if c.x > ox + 2150 and c.y < oy - 500:
            fixed[k] = "industrial"
    assign_uses(
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
        street_tags("trunk", ("国道109", "G109 National Road"), foot="no", ref="G109", sidewalk="no"),
    )
    for x, _ in xs_art[2:5:2]:
        osm.add([(x, oy + 2600), (x, y_trunk)], street_tags("trunk_link", None, foot="no", sidewalk="no"))
    # clipped extract: two streets leave the north edge; their outer nodes are not in the file
    clip_a = osm.add([(xs[3][0], oy + 2600), (xs[3][0], oy + 2680)], street_tags("residential"))
    clip_b = osm.add([(xs[-4][0], oy + 2600), (xs[-4][0], oy + 2690)], {**FOOT})
    clip_a.extra_refs = [OsmBuilder.MISSING_ID0, OsmBuilder.MISSING_ID0 + 1]
    clip_b.extra_refs = [OsmBuilder.MISSING_ID0 + 2]
    scene.blocks.extend(blocks)
    return {"blocks": blocks, "origin": (ox, oy), "stadium": (sx, sy), "xs": xs, "ys": ys}


# --------------------------------------------------------------------------- between the towns
def build_links(scene: Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
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
        street_tags(
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
        street_tags("trunk", ("东康快速路", "Dongkang Expressway"), foot="no", sidewalk="no", oneway="no"),
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
    hx, hy = scene.frame.xy(*HAMLET)
    lane = {"highway": "residential", "surface": "unpaved", "name": "新村巷", "name:en": "Xincun Lane (synthetic)"}
    osm.add([(hx - 250, hy), (hx + 250, hy)], lane)
    osm.add([(hx, hy - 200), (hx, hy + 200)], {**lane, "name": "新村南北巷"})
    osm.add([(hx - 250, hy + 120), (hx - 100, hy + 120), (hx - 100, hy)], {"highway": "track", "surface": "ground"})
    for ix, iy in ((-1, -1), (0, -1), (1, 0), (-1, 1), (1, 1), (0, 1), (-1, 0)):
        scene.hamlet_cells.append((hx + ix * 80.0, hy + iy * 95.0, float(rng.uniform(20, 60))))
    # a clipped way at the Kangbashi west edge
    way = osm.add([(kx - 2800, ky + 1150), (kx - 2880, ky + 1150)], street_tags("residential"))
    way.extra_refs = [OsmBuilder.MISSING_ID0 + 3]
