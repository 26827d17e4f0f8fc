"""The venues: landmarks, parks, sports parks, trails, school and community venues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
import shapely.ops
from shapely.geometry import LineString, Point, box

from ordos_geo.sample._scene import Block, Facility, Scene, is_rect
from ordos_geo.sample.facts import CORE_ZH, DISTRICTS, DONGSHENG_GOV, core_population

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
SPORTS_PARK_FIELD_SHARE = 0.6
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


def place_facilities(scene: Scene, rng: np.random.Generator, kang: dict[str, Any], dong: dict[str, Any]) -> None:
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
        Facility(
            "鄂尔多斯体育中心体育场 Ordos Sports Centre Stadium",
            "stadium",
            Point(c0.x, c0.y + 40),
            area["ordos_stadium"],
            capacity=60_000,
            provenance=prov,
        )
    )
    fac.append(
        Facility(
            "鄂尔多斯体育中心体育馆 Ordos Sports Centre Gymnasium",
            "gymnasium",
            Point(c1.x - 40, c1.y + 60),
            area["ordos_gymnasium"],
            capacity=12_000,
            provenance=prov,
        )
    )
    fac.append(
        Facility(
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
        Facility(
            "成吉思汗广场 Genghis Khan Square",
            "other",
            kang["square"],
            None,
            provenance="real landmark; centre coordinate sourced, outline schematic",
        )
    )
    sx, sy = dong["stadium"]
    fac.append(
        Facility(
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
        Facility(
            "东胜体育馆 Dongsheng Gymnasium",
            "gymnasium",
            Point(bx0 + 40, by0 + 40),
            area["dongsheng_gymnasium"],
            capacity=5_000,
        )
    )
    fac.append(
        Facility(
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
                Facility(
                    f"{CORE_ZH[core]}公园{k + 1} {core} Park {k + 1}",
                    "park",
                    poly,
                    round(poly.area * 0.1, -1) if k % 3 == 0 else 0.0,
                )
            )
            # outdoor equipment in most parks
            if k % 3 != 2:
                c = poly.centroid
                fac.append(
                    Facility(
                        f"{CORE_ZH[core]}公园{k + 1}健身路径 Fitness path in {core} Park {k + 1}",
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
        Facility(
            "康巴什体育公园 Kangbashi Sports Park", "sports_park", sp, round(sp.area * SPORTS_PARK_FIELD_SHARE, -1)
        )
    )
    small = next(b for b in dong["blocks"] if b.use == "park")
    x0, y0, x1, y1 = small.poly.bounds
    fac.append(
        Facility(
            "东胜社区体育公园 Dongsheng Community Sports Park",
            "sports_park",
            box(x0 + 20, y0 + 20, x0 + 20 + min(150, x1 - x0 - 40), y0 + 150),
            12_000.0,
        )
    )
    # Jingshan Park: real name and size (27,400 m2 linear park), position [unverified]
    res_d = [b for b in dong["blocks"] if b.use == "residential" and is_rect(b) and not _in_gap(scene, b)]
    jb = res_d[len(res_d) // 3]
    x0, y0, x1, y1 = jb.poly.bounds
    js = box(x0 + 15, y1 - 15 - 27_400 / (x1 - x0 - 30), x1 - 15, y1 - 15)
    scene.osm.add_polygon(js, {"leisure": "park", "name": "景山公园", "name:en": "Jingshan Park"})
    fac.append(
        Facility(
            "景山公园 Jingshan Park",
            "park",
            js,
            0.0,
            provenance="real park name and area (ordos_facts.md), position [unverified]",
        )
    )
    # the sports centres' outdoor grounds (synthetic rows beside the real venues)
    fac.append(
        Facility(
            "鄂尔多斯体育中心热身场 Ordos Sports Centre warm-up field and track",
            "pitch",
            Point(c0.x, c0.y - 80),
            area["ordos_warmup_field"],
            provenance="synthetic part of a real venue, position [unverified], field area estimated",
        )
    )
    fac.append(
        Facility(
            "鄂尔多斯体育中心室外运动场 Ordos Sports Centre outdoor courts",
            "multi_sport_court",
            Point(c1.x, c1.y - 110),
            area["ordos_outdoor_courts"],
            provenance="synthetic part of a real venue, position [unverified], field area estimated",
        )
    )
    fac.append(
        Facility(
            "东胜体育场室外运动场 Dongsheng Stadium outdoor courts",
            "multi_sport_court",
            Point(bx0 + 40, by1 - 40),
            area["dongsheng_outdoor_courts"],
        )
    )
    # fitness trails: the river promenade and a loop in a Dongsheng park
    prom = kang["promenade"]
    trail = shapely.ops.substring(prom, 0.3 * prom.length, 0.3 * prom.length + 2_400.0)
    fac.append(Facility("乌兰木伦河滨河健身步道 Wulanmulun Riverside Fitness Trail", "fitness_trail", trail, None))
    park_d = [b for b in dong["blocks"] if b.use == "park"]
    loop = park_d[-1].poly.buffer(-40.0, join_style="round", quad_segs=2).exterior
    fac.append(
        Facility("东胜公园环形健身步道 Dongsheng Park Loop Trail", "fitness_trail", LineString(loop.coords), None)
    )
    # school venues: one secondary school ground per school block (the OSM 中学), primary
    # schools inside residential blocks; about 45 % of each type open to the public
    candidates = [b for b in scene.blocks if b.use == "residential" and is_rect(b) and not _in_gap(scene, b)]
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
                name = f"{CORE_ZH[b.core]}第{k + 1}中学运动场 {b.core} Secondary School {k + 1} sports ground"
            else:
                x0, y0, x1, y1 = b.poly.bounds
                p = Point(rng.uniform(x0 + 40, x1 - 40), rng.uniform(y0 + 40, y1 - 40))
                name = f"{CORE_ZH[b.core]}第{k + 1}小学运动场 {b.core} Primary School {k + 1} sports ground"
            missing = level == "secondary" and k == 2  # one school without an area (missing-area policy)
            # open secondary grounds open after school hours (错时开放), open primary grounds all day
            access = ("after_school" if level == "secondary" else "full") if is_open else "closed"
            fac.append(
                Facility(
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
            fac.append(Facility(f"{CORE_ZH[b.core]}{zh}{k + 1} {en} {k + 1} ({b.core})", kind, p, value))
    # one existing sports-health centre (运动健康中心) near the Dongsheng government, no random draw
    gx, gy = scene.frame.xy(*DONGSHENG_GOV)
    fac.append(
        Facility(
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
        scene.amap.append(Facility(f"{zh}(社区{k + 1})", kind, p, value, provenance=amap_type))


def _block_residents(scene: Scene, blocks: Sequence[Block]) -> np.ndarray:
    """Approximate residents of each block: its density x area share of its core's population."""
    units = {u.name_en: u for u in DISTRICTS}
    core_weight = {
        core: sum(b.density * b.poly.area for b in scene.blocks if b.core == core and b.use == "residential")
        for core in CORE_ZH
    }
    return np.array(
        [b.density * b.poly.area / core_weight[b.core] * core_population(units[b.core]) for b in blocks], dtype=float
    )


def _in_gap(scene: Scene, block: Block) -> bool:
    return any(z.intersects(block.poly) for z in scene.gap_zones)
