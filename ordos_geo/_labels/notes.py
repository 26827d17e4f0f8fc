"""The run's notes (warnings and skipped parts) a report reader sees, and HiGHS statuses, in either language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ordos_geo._labels.common import _frozen, check_language
from ordos_geo._labels.values import KINDS
from ordos_geo.settings import Language

__all__ = ["NOTES", "SOLVER_STATUS", "STAGES", "Note", "note_of", "said", "skipped_note", "solver_status"]


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
