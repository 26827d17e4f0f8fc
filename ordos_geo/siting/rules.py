"""Rules for new facility types: what a site of each type needs (land, service distance) and what it adds."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ordos_geo import settings
from ordos_geo._errors import InputDataError

__all__ = ["DEFAULT_PLAN", "DEFAULT_RULES", "SITE_TYPE_ALIASES", "SitingRule", "resolve_site_type"]


@dataclass(frozen=True)
class SitingRule:
    """What a new facility of one type needs and what it adds.

    Attributes
    ----------
    site_type : str
        Type key (``"sports_park"``, ``"fitness_centre"``, ``"multi_sport_court"``).
    kind : str
        Facility kind the new site gets in the facilities table (one of
        :data:`ordos_geo.settings.FACILITY_KINDS`).
    min_land_area_m2 : float
        Smallest candidate land area (m², parcel area) that can host the type.
    service_distance_m : float
        Walking distance (metres along the network) within which a resident
        counts as covered by a site of this type.
    added_venue_area_m2 : float
        Venue field area (m²) the new site adds to the per-capita indicator.
    locked_kinds : tuple of str, optional
        Existing facility kinds that already serve this need (their coverage
        is locked in and never counted as new). Empty means ``(kind,)``.
    unknown_area_ok : bool, default True
        Whether a candidate with unknown land area (a network node at the
        centre of an underserved neighbourhood) may host the type. True for
        small venues that fit on a street corner or a school yard, False for
        the sports park, which needs a surveyed parcel.
    label : str, optional
        Words a planner reads ("multi-sport court"); defaults to the key.
    weight_column : str, default "population"
        Cell column the type serves: ``"population"`` (all residents) or
        ``"population_60plus"`` for the sports-health centre.

    Examples
    --------
    >>> rule = SitingRule("pump_track", "multi_sport_court", min_land_area_m2=1200.0, service_distance_m=800.0,
    ...                   added_venue_area_m2=1000.0)
    >>> rule.locked_kinds, rule.label, DEFAULT_RULES["fitness_centre"].service_distance_m
    (('multi_sport_court',), 'pump track', 1000.0)
    """

    site_type: str
    kind: str
    min_land_area_m2: float
    service_distance_m: float
    added_venue_area_m2: float
    locked_kinds: tuple[str, ...] = ()
    unknown_area_ok: bool = True
    label: str = ""
    weight_column: str = "population"

    def __post_init__(self) -> None:
        if self.kind not in settings.FACILITY_KINDS:
            msg = f"SitingRule {self.site_type!r}: kind {self.kind!r} is not one of settings.FACILITY_KINDS"
            raise InputDataError(msg)
        for name in ("min_land_area_m2", "service_distance_m", "added_venue_area_m2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"SitingRule {self.site_type!r}: {name} must be a finite number >= 0, got {value!r}"
                raise InputDataError(msg)
        if self.service_distance_m <= 0:
            msg = f"SitingRule {self.site_type!r}: service_distance_m must be > 0 metres"
            raise InputDataError(msg)
        if not self.locked_kinds:
            object.__setattr__(self, "locked_kinds", (self.kind,))
        if not self.label:
            object.__setattr__(self, "label", self.site_type.replace("_", " "))


#: The default rule table. Sources, and which numbers are estimates:
#:
#: - ``sports_park``: at least 4 ha of land (``settings.SPORTS_PARK_MIN_AREA_M2``,
#:   the Ordos plan's "five ones" sports park); 1,500 m walking service distance
#:   (``settings.KIND_SERVICE_DISTANCE_M``); adds 20,000 m² of sports field area
#:   (estimate: about half of a 4 ha park as pitches, courts and tracks; the rest
#:   green space, which 体育公园 guidance keeps as the larger share). Unknown land
#:   area is not accepted: a sports park needs a surveyed parcel.
#: - ``fitness_centre`` (小型全民健身中心): at least 2,000 m² of land, 1,000 m
#:   (the 15-minute life circle of GB 50180-2018 《城市居住区规划设计标准》,
#:   whose 15-minute circle lists 体育馆(场)或全民健身中心 with a service radius of
#:   at most 1,000 m); adds 1,500 m² of hall floor (``settings.TYPICAL_AREA_M2``;
#:   the land and hall sizes are estimates for a small centre, not a standard's
#:   figure).
#: - ``multi_sport_court`` (多功能运动场): at least 800 m² of land (a 40 x 20 m
#:   court; 《城市社区体育设施建设用地指标》 sizes a basketball court with its
#:   margins at about 600 m², GB 50180-2018 puts small multi-purpose ball courts
#:   at roughly 770-1,310 m² of land: 800 m² is the estimate used), 500 m (the
#:   10-minute circle of GB 50180-2018); adds 800 m² of court.
#: - ``sports_health_centre`` (运动健康中心 with age-friendly equipment, 适老化, the
#:   plan's 体卫融合 item "打造2个运动健康中心"): serves residents aged 60+
#:   (``population_60plus``) within ``settings.DEFAULT_AGE_DISTANCE_M`` (500 m, a
#:   walk suited to older people); at least 1,500 m² of land for a hall of about
#:   1,000 m² (``settings.TYPICAL_AREA_M2``) with a forecourt (estimates, no
#:   standard gives the size); an existing sports-health centre locks its area.
DEFAULT_RULES: Final[Mapping[str, SitingRule]] = MappingProxyType(
    {
        "sports_park": SitingRule(
            "sports_park",
            "sports_park",
            min_land_area_m2=settings.SPORTS_PARK_MIN_AREA_M2,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["sports_park"],
            added_venue_area_m2=20_000.0,
            unknown_area_ok=False,
            label="sports park",
        ),
        "fitness_centre": SitingRule(
            "fitness_centre",
            "fitness_centre",
            min_land_area_m2=2_000.0,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["fitness_centre"],
            added_venue_area_m2=settings.TYPICAL_AREA_M2["fitness_centre"],
            locked_kinds=("fitness_centre", "gymnasium"),
            label="fitness centre",
        ),
        "multi_sport_court": SitingRule(
            "multi_sport_court",
            "multi_sport_court",
            min_land_area_m2=800.0,
            service_distance_m=settings.KIND_SERVICE_DISTANCE_M["multi_sport_court"],
            added_venue_area_m2=settings.TYPICAL_AREA_M2["multi_sport_court"],
            label="court",
        ),
        "sports_health_centre": SitingRule(
            "sports_health_centre",
            "sports_health_centre",
            min_land_area_m2=1_500.0,
            service_distance_m=settings.DEFAULT_AGE_DISTANCE_M,
            added_venue_area_m2=settings.TYPICAL_AREA_M2["sports_health_centre"],
            label="sports-health centre",
            weight_column="population_60plus",
        ),
    }
)

#: Names accepted for a type on the command line and in ``plan``.
SITE_TYPE_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "sports_park": "sports_park",
        "fitness_centre": "fitness_centre",
        "fitness_center": "fitness_centre",
        "centre": "fitness_centre",
        "multi_sport_court": "multi_sport_court",
        "court": "multi_sport_court",
        "sports_health_centre": "sports_health_centre",
        "health_centre": "sports_health_centre",
    }
)

#: The plan's new facilities (Ordos 2024 model-city work plan, 鄂府办发〔2024〕52号):
#: 1 sports park, 3 small fitness centres, 3 multi-sport courts, 2 sports-health centres.
DEFAULT_PLAN: Final[Mapping[str, int]] = settings.DEFAULT_SITING_PLAN


def resolve_site_type(name: str, rules: Mapping[str, SitingRule] = DEFAULT_RULES) -> str:
    """Return the rule key for a type name or alias (``"court"`` -> ``"multi_sport_court"``).

    Parameters
    ----------
    name : str
        A key of ``rules`` or an alias in :data:`SITE_TYPE_ALIASES`.
    rules : mapping, optional
        The rule table.

    Returns
    -------
    str

    Examples
    --------
    >>> resolve_site_type("court"), resolve_site_type("Fitness-Center")
    ('multi_sport_court', 'fitness_centre')
    """
    key = name.strip().lower().replace("-", "_")
    if key in rules:
        return key
    key = SITE_TYPE_ALIASES.get(key, key)
    if key not in rules:
        accepted = sorted(set(rules) | {a for a, k in SITE_TYPE_ALIASES.items() if k in rules})
        msg = f"unknown site type {name!r}; use one of {', '.join(accepted)}"
        raise InputDataError(msg)
    return key


def _plan_counts(plan: Mapping[str, int], rules: Mapping[str, SitingRule] = DEFAULT_RULES) -> dict[str, int]:
    """Sites per rule key of a plan (aliases resolved, zero counts dropped); raises when nothing is asked for.

    Parameters
    ----------
    plan : mapping of str to int
        Sites per type (keys or aliases of ``rules``).
    rules : mapping, optional
        The rule table.

    Returns
    -------
    dict of str to int
    """
    types = {resolve_site_type(k, rules): int(v) for k, v in plan.items() if int(v) > 0}
    if not types:
        msg = "plan asks for no sites (every count is 0); give at least one type with p >= 1"
        raise InputDataError(msg)
    return types
