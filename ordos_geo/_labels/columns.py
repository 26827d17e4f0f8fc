"""Column headers of every table a reader sees: fixed names and the patterned ones (``dist_m_<kind>``...)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from ordos_geo._labels.common import _frozen, _study_area, check_language
from ordos_geo._labels.values import KINDS

__all__ = ["COLUMNS", "column"]

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
    fixed = _study_area(language).get(key) or COLUMNS[language].get(key)
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
