"""Typed defaults for every stage, each documented.

Values here are the defaults a study starts from; a study's TOML file (keys
matching the CLI flags) overrides them. Nothing in the package mutates them.

Sources for the planning targets
--------------------------------
- 鄂尔多斯市全民健身实施计划(2021—2025年), 鄂府发〔2023〕30号
  (ordos.gov.cn/gk_128120/ghjh/quyuguihua/202305/t20230517_3392579.html): per-capita
  sports ground area at least 3.5 m² by 2025; the "15-minute fitness circle".
- 《鄂尔多斯市创建全国全民运动健身模范市实施方案》, 鄂府办发〔2024〕52号, issued
  2024-06-14 by the Ordos Municipal Government Office: 3.4 m² per resident by
  the end of 2024; build or rebuild 1 sports park, 3 small fitness centres, 10 km
  of fitness trails, 3 multi-sport courts; at least 60 % of school sports venues
  open to the public; the city-level "five ones".
- GB 50180-2018 (城市居住区规划设计标准): 5/10/15-minute life circles, used for
  the 300 / 500 / 1,000 m service tiers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final, Literal, get_args

__all__ = [
    "AGE_FRIENDLY_KINDS",
    "AREA_COUNTED_KINDS",
    "AREA_POLICIES",
    "CITY_LEVEL_FIVE_ONES",
    "COORDINATE_SYSTEMS",
    "DATA_PROCESSED_DIR",
    "DATA_RAW_DIR",
    "DEFAULT_AGE_DISTANCE_M",
    "DEFAULT_AMAP_SAMPLE",
    "DEFAULT_AREA_POLICY",
    "DEFAULT_COORDINATE_SYSTEM",
    "DEFAULT_COVERAGE_THRESHOLDS_M",
    "DEFAULT_LANGUAGE",
    "DEFAULT_MAX_DISTANCE_M",
    "DEFAULT_MAX_SNAP_DISTANCE_M",
    "DEFAULT_MAX_TRAILS",
    "DEFAULT_MIN_TRAIL_M",
    "DEFAULT_OVERPASS_TIMEOUT_S",
    "DEFAULT_OVERPASS_URL",
    "DEFAULT_SITING_METHOD",
    "DEFAULT_SITING_OBJECTIVE",
    "DEFAULT_SITING_PLAN",
    "DEFAULT_SITING_TIME_LIMIT_S",
    "DEFAULT_TRAIL_BUDGET_M",
    "DEFAULT_TRAIL_MAX_SPUR_M",
    "DEFAULT_TRAIL_REACH_M",
    "DEFAULT_TRAIL_SHAPE",
    "DEFAULT_TRAIL_WIDTH_M",
    "DEFAULT_WALK_SPEED_KMH",
    "DOWNLOAD_BACKOFF_S",
    "DOWNLOAD_RETRIES",
    "FACILITY_BOUNDARY_TOLERANCE_M",
    "FACILITY_KINDS",
    "FITNESS_CIRCLE_TARGETS_M",
    "KIND_SERVICE_DISTANCE_M",
    "LANGUAGES",
    "MAX_POPULATION_OFF_NETWORK_SHARE",
    "MAX_RESIDENTS_PER_HECTARE",
    "MAX_VENUE_AREA_M2",
    "NEW_COUNT_TARGETS",
    "NO_TARGET",
    "OUTPUTS_DIR",
    "PLANNER_TARGETS",
    "PLAN_2024",
    "PLAN_2025",
    "PLAN_TARGETS",
    "POPULATION_CENSUS_RATIO_WARN",
    "POPULATION_FORMS",
    "POPULATION_GRID_M",
    "PROJECT_ROOT",
    "PUBLIC_ACCESS_LEVELS",
    "RESIDENTIAL_OSM_TAGS",
    "SAMPLE_DIR",
    "SCORECARD_STATUSES",
    "SITE_TYPES",
    "SITING_METHODS",
    "SITING_OBJECTIVES",
    "SPORTS_PARK_MIN_AREA_M2",
    "TRAIL_METHODS",
    "TRAIL_SHAPES",
    "TYPICAL_AREA_M2",
    "WINTER_KINDS",
    "WINTER_NOTE",
    "AreaPolicy",
    "CoordinateSystem",
    "Language",
    "PlanTarget",
]

#: Root of a source checkout (the folder holding ``pyproject.toml``).
PROJECT_ROOT: Final[Path] = Path(__file__).resolve().parent.parent
#: Raw inputs; never modified by the package.
DATA_RAW_DIR: Final[Path] = PROJECT_ROOT / "data" / "raw"
#: Derived caches and study tables.
DATA_PROCESSED_DIR: Final[Path] = PROJECT_ROOT / "data" / "processed"
#: Maps and reports.
OUTPUTS_DIR: Final[Path] = PROJECT_ROOT / "outputs"
#: The embedded Ordos sample (real boundaries, synthetic network/population/facilities).
SAMPLE_DIR: Final[Path] = DATA_RAW_DIR / "sample"
#: The sample's Amap-style export of facilities, in GCJ-02.
DEFAULT_AMAP_SAMPLE: Final[Path] = SAMPLE_DIR / "facilities_amap_gcj02.csv"

#: The controlled vocabulary of the ``kind`` column of a facility table.
FACILITY_KINDS: Final[tuple[str, ...]] = (
    "stadium",
    "gymnasium",
    "swimming_pool",
    "fitness_centre",
    "sports_park",
    "park",
    "multi_sport_court",
    "pitch",
    "fitness_path",
    "fitness_trail",
    "playground",
    "school_venue",
    "other",
    "sports_health_centre",
)

#: Levels of the ``public_access`` column of a facility table: ``full`` (open to
#: the public whenever it is open), ``after_school`` (open to the public outside
#: school hours: evenings, weekends, holidays, the usual way a school venue opens,
#: 错时开放), ``closed``. ``after_school`` counts as open for the open-school
#: share; it is left out of the all-day coverage and counted in the separate
#: "evenings and weekends" coverage.
PUBLIC_ACCESS_LEVELS: Final[tuple[str, ...]] = ("full", "after_school", "closed")

#: Kinds whose ``area_m2`` counts as sports venue *field* area (体育场地面积).
#: Parks and playgrounds give access to exercise but are not sports grounds in
#: the national venue census, so their area is left out of per-capita area.
AREA_COUNTED_KINDS: Final[frozenset[str]] = frozenset(FACILITY_KINDS) - {"park", "playground"}

#: Typical venue field area per kind (m²), used by ``area_policy="typical"``
#: when a row has no area. Court 多功能运动场 about 40 x 20 m; pitch an 11-a-side
#: field 105 x 68 m; stadium field and track about 2 ha; small fitness centre
#: (小型全民健身中心) about 1,500 m² of hall; fitness path (健身路径) one set of
#: outdoor equipment about 200 m². Trails use length x width instead.
TYPICAL_AREA_M2: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "stadium": 20_000.0,
        "gymnasium": 3_000.0,
        "swimming_pool": 1_250.0,
        "fitness_centre": 1_500.0,
        "sports_park": 40_000.0,
        "park": 0.0,
        "multi_sport_court": 800.0,
        "pitch": 7_140.0,
        "fitness_path": 200.0,
        "fitness_trail": 0.0,
        "playground": 0.0,
        "school_venue": 8_000.0,
        "other": 500.0,
        "sports_health_centre": 1_000.0,
    }
)

#: Walking service distance per kind (metres along the network): small sites
#: 300-500 m (5-minute life circle), fitness centres and parks 1,000 m
#: (15-minute circle), the sports park 1,500 m.
KIND_SERVICE_DISTANCE_M: Final[MappingProxyType[str, float]] = MappingProxyType(
    {
        "stadium": 1_000.0,
        "gymnasium": 1_000.0,
        "swimming_pool": 1_000.0,
        "fitness_centre": 1_000.0,
        "sports_park": 1_500.0,
        "park": 1_000.0,
        "multi_sport_court": 500.0,
        "pitch": 500.0,
        "fitness_path": 300.0,
        "fitness_trail": 500.0,
        "playground": 300.0,
        "school_venue": 500.0,
        "other": 500.0,
        "sports_health_centre": 500.0,
    }
)

#: Walking distance suited to older residents (metres along the network): 500 m,
#: the 10-minute life circle of GB 50180-2018, whose 5- and 10-minute circles hold
#: the elderly-care and outdoor fitness facilities; older people walk more slowly
#: (about 3 km/h), so 500 m is about 10 minutes for them.
DEFAULT_AGE_DISTANCE_M: Final[float] = 500.0

#: Venues suited to residents aged 60+ (适老化): outdoor equipment sets (健身路径)
#: and parks nearby, sports-health centres (运动健康中心, the plan's age-friendly
#: centres) and gymnasiums (indoor, level floors, seats). The list behind the
#: ``share_60plus_within_<d>m`` indicator.
AGE_FRIENDLY_KINDS: Final[tuple[str, ...]] = ("fitness_path", "park", "sports_health_centre", "gymnasium")

#: Indoor venues that still serve in winter (Ordos's January mean is about
#: -10.5 °C, Wikipedia's Ordos City climate table): the ``winter`` scenario's venue set, a
#: study may change it (``[accessibility] winter_kinds``). School venues are not a
#: winter kind as such (most are outdoor grounds): those the facility table marks
#: ``indoor = yes`` and open to the public (``public_access`` ``full`` or
#: ``after_school``) count in the winter scenario too
#: (:func:`ordos_geo.pipeline.indoor_school_venues`).
WINTER_KINDS: Final[tuple[str, ...]] = ("gymnasium", "swimming_pool", "fitness_centre", "sports_health_centre")

#: Source of the scorecard's winter row: not a plan target.
WINTER_NOTE: Final[str] = "not a plan target: the 15-minute circle with the indoor venues of settings.WINTER_KINDS only"

#: Coverage tiers reported for every cell (metres along the network).
DEFAULT_COVERAGE_THRESHOLDS_M: Final[tuple[float, ...]] = (300.0, 500.0, 1_000.0)
#: Distances beyond this are reported as unreachable (``inf``).
DEFAULT_MAX_DISTANCE_M: Final[float] = 5_000.0
#: Cells or facilities farther than this from any street are unreachable.
DEFAULT_MAX_SNAP_DISTANCE_M: Final[float] = 300.0
#: How far outside the district boundaries (metres) a facility is still taken to belong to the study:
#: a venue across the street from a county line, or on a boundary simplified by tens of metres. It is
#: counted in its nearest district, with a warning; farther ones are left out (``run``) or refused
#: (``io.read_facilities(study_area=...)``).
FACILITY_BOUNDARY_TOLERANCE_M: float = 200.0

#: Plausibility bound: the share of residents farther than the snap distance
#: from every street above which the network is taken not to cover the
#: population (another city's network, a clipped extract) and the run stops.
#: Any share above 0 is reported as a warning.
MAX_POPULATION_OFF_NETWORK_SHARE: Final[float] = 0.5
#: Plausibility bound on residents per hectare of a population cell. The
#: densest city districts hold about 1,300 per hectare on average (Mong Kok,
#: Hong Kong: ~130,000 per km²); a cell above 5,000 is an error in the data
#: (a wrong unit, a nodata value read as people).
MAX_RESIDENTS_PER_HECTARE: Final[float] = 5_000.0
#: Plausibility bound on one venue's ``area_m2`` (m²): 10 km², beyond the
#: largest urban parks (Beijing's Olympic Forest Park is about 6.8 km²). A
#: larger value is a unit error (cm², hectares typed as m²...).
MAX_VENUE_AREA_M2: Final[float] = 10_000_000.0
#: Walking speed used to express distances as minutes (4.5 km/h = 75 m/min).
DEFAULT_WALK_SPEED_KMH: Final[float] = 4.5
#: Cell size (metres) of the grid community/street population polygons are spread onto (WorldPop's 100 m).
POPULATION_GRID_M: Final[float] = 100.0
#: OSM residential land and buildings: where a community/street polygon's people are spread (dasymetric).
RESIDENTIAL_OSM_TAGS: Final[MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {
        "landuse": ("residential",),
        "building": ("residential", "apartments", "house", "detached", "semidetached_house", "terrace", "dormitory"),
    }
)
#: The forms of population input :func:`ordos_geo.io.read_population` tells apart.
POPULATION_FORMS: Final[tuple[str, ...]] = ("raster", "points", "polygons")
#: Width used to turn a fitness trail's length into venue area.
DEFAULT_TRAIL_WIDTH_M: Final[float] = 2.0
#: Shapes of a planned fitness trail: a closed circuit (the default), an open path, or a connected tree.
TRAIL_SHAPES: Final[tuple[str, ...]] = ("loop", "route", "network")
#: Trail planner methods: heuristic plus the exact MILP on small instances; heuristic only; MILP only.
TRAIL_METHODS: Final[tuple[str, ...]] = ("auto", "heuristic", "exact")
#: Minimum area of a sports park for the "five ones" and for new sites (4 ha).
SPORTS_PARK_MIN_AREA_M2: Final[float] = 40_000.0

#: HiGHS time limit per siting model (seconds); reaching it is an error, not a silent non-optimal answer.
DEFAULT_SITING_TIME_LIMIT_S: Final[float] = 600.0
#: New facility types the siting rules know (``siting.DEFAULT_RULES``), in plan order.
SITE_TYPES: Final[tuple[str, ...]] = ("sports_park", "fitness_centre", "multi_sport_court", "sports_health_centre")

#: The city-level "five ones" (一场一馆一池一中心一公园): label -> kinds that
#: satisfy it. The large fitness centre needs a ``fitness_centre`` of at least
#: 2,000 m² and the sports park at least 4 ha of land (see ``indicators.five_ones``).
CITY_LEVEL_FIVE_ONES: Final[MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {
        "stadium": ("stadium",),
        "gymnasium": ("gymnasium",),
        "swimming_hall": ("swimming_pool",),
        "large_fitness_centre": ("fitness_centre",),
        "sports_park": ("sports_park",),
    }
)


@dataclass(frozen=True)
class PlanTarget:
    """One measurable target of the Ordos fitness-for-all plan.

    Attributes
    ----------
    key : str
        Machine name used in the scorecard.
    description : str
        What is measured, in the target's own unit.
    target : float
        The value to reach; NaN when the plan names the measure but gives it no
        figure (the scorecard shows its value with status ``no_target``).
    unit : str
        Unit of ``target`` (``"m2_per_capita"``, ``"share"``, ``"count"``, ``"km"``).
    year : int
        Year by which the target applies.
    source : str
        The planning document that sets it.

    Examples
    --------
    >>> target = PLAN_TARGETS[0]
    >>> target.key, target.target, target.unit, target.year
    ('per_capita_area_2024', 3.4, 'm2_per_capita', 2024)
    """

    key: str
    description: str
    target: float
    unit: str
    year: int
    source: str


#: Citation of the 2024 plan (the ``source`` of its targets in the scorecard).
PLAN_2024: Final[str] = "《鄂尔多斯市创建全国全民运动健身模范市实施方案》（鄂府办发〔2024〕52号，2024-06-14）"
#: Citation of the 2021-2025 plan (3.5 m² per resident by 2025, the 15-minute fitness circle).
PLAN_2025: Final[str] = "《鄂尔多斯市全民健身实施计划（2021—2025年）》（鄂府发〔2023〕30号）"

#: The ``target`` of a measure the plans name without a figure (the 300 / 500 m tiers of the 15-minute circle).
NO_TARGET: Final[float] = math.nan

#: The plan's targets, in the order the scorecard lists them.
PLAN_TARGETS: Final[tuple[PlanTarget, ...]] = (
    PlanTarget("per_capita_area_2024", "per-capita sports venue area", 3.4, "m2_per_capita", 2024, PLAN_2024),
    PlanTarget("per_capita_area_2025", "per-capita sports venue area", 3.5, "m2_per_capita", 2025, PLAN_2025),
    PlanTarget("open_school_share", "share of school sports venues open to the public", 0.6, "share", 2024, PLAN_2024),
    # The 300 / 500 m tiers of the 15-minute circle: the plans set no share for them, so they are shown without one.
    PlanTarget(
        "fitness_circle_300m", "population share within a 300 m walk of a venue", NO_TARGET, "share", 2025, PLAN_2025
    ),
    PlanTarget(
        "fitness_circle_500m", "population share within a 500 m walk of a venue", NO_TARGET, "share", 2025, PLAN_2025
    ),
    PlanTarget(
        "fitness_circle_15min", "population share within a 1,000 m walk of a venue", 1.0, "share", 2025, PLAN_2025
    ),
    PlanTarget("new_sports_parks", "new sports parks", 1, "count", 2024, PLAN_2024),
    PlanTarget("new_fitness_centres", "new small fitness centres", 3, "count", 2024, PLAN_2024),
    PlanTarget("new_multi_sport_courts", "new multi-sport courts", 3, "count", 2024, PLAN_2024),
    PlanTarget("new_fitness_trails_km", "new fitness trails", 10.0, "km", 2024, PLAN_2024),
    PlanTarget("new_sports_health_centres", "new sports-health centres", 2, "count", 2024, PLAN_2024),
    PlanTarget("five_ones", "city-level five ones present", 5, "count", 2024, PLAN_2024),
)

#: The walk (m) each fitness-circle target of ``PLAN_TARGETS`` measures: the share of residents within it
#: (``share_within_<m>m`` of the indicators; unknown when the study's ``thresholds_m`` leave it out).
FITNESS_CIRCLE_TARGETS_M: Final[MappingProxyType[str, int]] = MappingProxyType(
    {"fitness_circle_300m": 300, "fitness_circle_500m": 500, "fitness_circle_15min": 1000}
)

#: The build targets of ``PLAN_TARGETS`` counted from the new venues of a kind (siting's sites, what-if's venues).
NEW_COUNT_TARGETS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "sports_park": "new_sports_parks",
        "fitness_centre": "new_fitness_centres",
        "multi_sport_court": "new_multi_sport_courts",
        "sports_health_centre": "new_sports_health_centres",
    }
)

#: The ``status`` of a scorecard row: ``met`` / ``not_met``; ``unknown`` when the study cannot measure it
#: (e.g. no school venue, or a walk outside ``thresholds_m``); ``not_computed`` for a non-spatial target
#: (``PLANNER_TARGETS``) no figure was entered for: this tool does not compute it; ``no_target`` for a
#: measure the plans give no figure for (``NO_TARGET``): its value is shown, met or not is not asked.
SCORECARD_STATUSES: Final[tuple[str, ...]] = ("met", "not_met", "unknown", "not_computed", "no_target")

#: The plan's targets the tool cannot compute from maps: a planner enters them
#: per district in a small CSV (``district, indicator, value, year, source``,
#: read by :func:`ordos_geo.io.read_planner_targets`); the scorecard shows them
#: with their target and gap. Keys are the CSV's ``indicator`` values.
PLANNER_TARGETS: Final[tuple[PlanTarget, ...]] = (
    PlanTarget(
        "sports_instructors_per_1000",
        "social sports instructors per 1,000 residents (社会体育指导员)",
        3.4,
        "per_1000",
        2024,
        PLAN_2024,
    ),
    PlanTarget(
        "regular_exercise_share",
        "share of residents exercising regularly (经常参加体育锻炼人数比例)",
        0.385,
        "share",
        2024,
        PLAN_2024,
    ),
    PlanTarget(
        "public_venues_open_share",
        "share of public sports venues opening regularly (公共体育场馆定期开放)",
        1.0,
        "share",
        2024,
        PLAN_2024,
    ),
)

# ---------------------------------------------------------------------------
# Fetching real data (``ordos-geo fetch``)
# ---------------------------------------------------------------------------

#: Overpass API base URL used by ``fetch`` (osmnx's default); ``--overpass-url`` picks a mirror.
DEFAULT_OVERPASS_URL: Final[str] = "https://overpass-api.de/api"
#: Seconds the Overpass server may spend on one query (osmnx's default), also the HTTP read timeout.
DEFAULT_OVERPASS_TIMEOUT_S: Final[float] = 180.0
#: Retries of a failed population download (connection error, stall, HTTP 429/5xx) after the first attempt.
DOWNLOAD_RETRIES: Final[int] = 4
#: Seconds before the first retry of a download, doubled each time (5, 10, 20, 40 s).
DOWNLOAD_BACKOFF_S: Final[float] = 5.0
#: ``fetch`` warns when the fetched population total is more than this factor above or below the
#: area's 2020 census figure (WorldPop's 2020 grids match national UN totals; a county can be off by
#: tens of per cent, a factor of 1.5 points to a wrong source, year or boundary).
POPULATION_CENSUS_RATIO_WARN: Final[float] = 1.5


# ---------------------------------------------------------------------------
# Vocabularies: the one spelling of each set of choices, used by the study
# file's checks (config), the command line's ``choices=`` (cli) and the code.
# ---------------------------------------------------------------------------

#: Datum of degree coordinates: WGS-84 (GPS, OSM), GCJ-02 (Amap / Gaode exports), BD-09 (Baidu exports).
CoordinateSystem = Literal["wgs84", "gcj02", "bd09"]
#: Every :data:`CoordinateSystem`, in that order.
COORDINATE_SYSTEMS: Final[tuple[CoordinateSystem, ...]] = get_args(CoordinateSystem)
#: Datum of an input unless the study says otherwise.
DEFAULT_COORDINATE_SYSTEM: Final[CoordinateSystem] = "wgs84"
#: Language of map, index, report and table labels.
Language = Literal["zh", "en"]
#: Every :data:`Language`, in that order.
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
#: Language of a study's labels unless it says otherwise.
DEFAULT_LANGUAGE: Final[Language] = "zh"
#: What :func:`ordos_geo.io.read_facilities` does with rows without ``area_m2``: use the typical area of their
#: kind (:data:`TYPICAL_AREA_M2`), or leave them out of area totals.
AreaPolicy = Literal["typical", "exclude"]
#: Every :data:`AreaPolicy`, in that order.
AREA_POLICIES: Final[tuple[AreaPolicy, ...]] = get_args(AreaPolicy)
#: Area policy of a study unless it says otherwise.
DEFAULT_AREA_POLICY: Final[AreaPolicy] = "typical"
#: How sites are chosen: the exact MILP (HiGHS) or the greedy heuristic.
SITING_METHODS: Final[tuple[str, ...]] = ("exact", "greedy")
#: What new fitness centres maximise: residents newly covered, or newly within reach of an indoor venue in winter.
SITING_OBJECTIVES: Final[tuple[str, ...]] = ("coverage", "winter")
#: Siting method of a study unless it says otherwise.
DEFAULT_SITING_METHOD: Final[str] = "exact"
#: Siting objective of a study unless it says otherwise.
DEFAULT_SITING_OBJECTIVE: Final[str] = "coverage"
#: New sites per facility type a study plans unless it says otherwise (鄂府办发〔2024〕52号's build list, with
#: 2 sports-health centres for residents aged 60+).
DEFAULT_SITING_PLAN: Final[MappingProxyType[str, int]] = MappingProxyType(
    {"sports_park": 1, "fitness_centre": 3, "multi_sport_court": 3, "sports_health_centre": 2}
)

# ---------------------------------------------------------------------------
# Trail planning defaults (the [trails] section of a study and ordos_geo.trails.plan_trails).
# ---------------------------------------------------------------------------

#: Total length of new fitness trails to plan (the plan's 10 km).
DEFAULT_TRAIL_BUDGET_M: Final[float] = 10_000.0
#: Shortest trail worth building.
DEFAULT_MIN_TRAIL_M: Final[float] = 1_000.0
#: Most trails the budget is split into.
DEFAULT_MAX_TRAILS: Final[int] = 3
#: Walking distance within which residents count as served by a trail.
DEFAULT_TRAIL_REACH_M: Final[float] = 500.0
#: Shape of a planned trail (one of :data:`TRAIL_SHAPES`).
DEFAULT_TRAIL_SHAPE: Final[str] = "loop"
#: Longest dead-end spur of a loop or route.
DEFAULT_TRAIL_MAX_SPUR_M: Final[float] = 0.0
