"""Labels of the values in the tables, by key; a key a table lacks is shown as it is.

Facility kinds, districts, scorecard units, plan targets and their sources,
scorecard statuses, trail shapes, candidates' land types, a site's direction
in its district, and the levers that close the venue-area gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ordos_geo import settings
from ordos_geo._labels.common import _frozen, _study_area, check_language

__all__ = [
    "DIRECTIONS",
    "DISTRICTS",
    "KINDS",
    "LAND_TYPES",
    "LEVERS",
    "SOURCES",
    "STATUSES",
    "TARGETS",
    "TRAIL_SHAPES",
    "UNITS",
    "district",
    "kind",
    "land_type",
    "lever",
    "source",
    "status",
    "target",
    "trail_shape",
    "unit",
]


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
            "no_target": "无目标（规划未给出数值）",
        },
        "en": {
            "met": "✓ met",
            "not_met": "✗ not met",
            "unknown": "unknown (this study cannot measure it)",
            "not_computed": "not computed by this tool (non-spatial; enter it in planner_targets)",
            "no_target": "no target (the plans give no figure)",
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


def kind(key: str, language: str) -> str:
    """Name of a facility kind (``"sports_park"`` -> ``"体育公园"``)."""
    return KINDS[check_language(language)].get(key, key.replace("_", " "))


def district(name: str, language: str) -> str:
    """Name of a district by its ``name_en`` key (``"Dongsheng"`` -> ``"东胜区"``); others unchanged."""
    language = check_language(language)
    study_area = _study_area(language)
    if str(name) in study_area:
        return study_area[str(name)]
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
