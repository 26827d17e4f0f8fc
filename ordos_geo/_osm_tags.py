"""The documented table from OSM tags to facility ``kind``.

A facility list exported from OpenStreetMap (osmnx ``features_from_*``,
Overpass, QGIS) has ``leisure`` / ``sport`` / ``amenity`` / ``building`` tags
and no ``kind``. :func:`kind_from_osm_tags` maps each row by the first rule
that matches, in this order:

=====================================================  ===================
OSM tags                                               kind
=====================================================  ===================
``leisure=stadium``                                    ``stadium``
``leisure=sports_hall`` or ``building=sports_hall``     ``gymnasium``
``leisure=sports_centre`` + ``sport=swimming``          ``swimming_pool``
``leisure=sports_centre`` with a ``building`` tag       ``gymnasium``
``leisure=sports_centre``                              ``fitness_centre``
``leisure=fitness_centre`` / ``amenity=gym``            ``fitness_centre``
``leisure=swimming_pool`` / ``leisure=water_park`` /   ``swimming_pool``
``sport=swimming``
``leisure=fitness_station``                            ``fitness_path``
``leisure=track`` as a line, or ``highway=*`` with     ``fitness_trail``
``sport=running|fitness``
``leisure=track`` (athletics track area)               ``pitch``
``leisure=pitch`` + ``sport`` basketball, volleyball,  ``multi_sport_court``
tennis, badminton, table_tennis, handball, multi,
futsal, netball
``leisure=pitch`` (any other sport: soccer, ...)       ``pitch``
``leisure=park`` + ``sport`` or name containing        ``sports_park``
"体育公园" / "sports park"
``leisure=park`` / ``leisure=garden`` (public)         ``park``
``leisure=playground``                                 ``playground``
``amenity=school|university|college|kindergarten``     ``school_venue``
``leisure=ice_rink``, ``leisure=golf_course``,         ``other``
``leisure=horse_riding``, ``leisure=miniature_golf``,
``leisure=dance``, ``leisure=bowling_alley``,
``leisure=climbing``
=====================================================  ===================

Rows whose tags describe something that is not an exercise place at all
(``NOT_A_FACILITY``: e.g. ``leisure=picnic_table``, ``leisure=bleachers``,
``amenity=parking``) map to ``None`` and are dropped by the reader with an
INFO log line. Rows no rule matches map to ``"other"`` and the reader warns
with their row numbers, so the user can add a ``kind`` column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["COURT_SPORTS", "NOT_A_FACILITY", "OSM_TAG_KEYS", "UNMAPPED", "kind_from_osm_tags"]

#: Tag keys whose presence marks a table as OSM-tagged.
OSM_TAG_KEYS: tuple[str, ...] = ("leisure", "sport", "amenity")

#: Sports played on a small hard court (多功能运动场 / 笼式球场).
COURT_SPORTS: frozenset[str] = frozenset(
    {
        "basketball",
        "volleyball",
        "tennis",
        "badminton",
        "table_tennis",
        "handball",
        "multi",
        "futsal",
        "netball",
        "streetball",
        "beachvolleyball",
        "padel",
        "pickleball",
    }
)

#: (key, value) pairs that are not exercise places; such rows are dropped.
NOT_A_FACILITY: frozenset[tuple[str, str]] = frozenset(
    {
        ("leisure", v)
        for v in (
            "picnic_table",
            "bleachers",
            "outdoor_seating",
            "firepit",
            "bandstand",
            "slipway",
            "marina",
            "common",
            "nature_reserve",
            "sauna",
            "adult_gaming_centre",
            "amusement_arcade",
            "hackerspace",
            "escape_game",
            "resort",
            "beach_resort",
        )
    }
    | {("amenity", v) for v in ("parking", "bench", "toilets", "restaurant", "cafe", "shelter")}
)

#: Sentinel returned when no rule matches (the reader turns it into ``"other"`` with a warning).
UNMAPPED = "__unmapped__"

_OTHER_LEISURE = frozenset(
    {
        "ice_rink",
        "golf_course",
        "horse_riding",
        "miniature_golf",
        "dance",
        "bowling_alley",
        "climbing",
        "disc_golf_course",
        "trampoline_park",
    }
)
_SCHOOL_AMENITIES = frozenset({"school", "university", "college", "kindergarten"})
_TRAIL_SPORTS = frozenset({"running", "fitness", "jogging", "athletics"})


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    text = str(value).strip()
    return text or None


def _sports(value: str | None) -> set[str]:
    if value is None:
        return set()
    return {s.strip().lower() for s in value.replace(",", ";").split(";") if s.strip()}


def kind_from_osm_tags(tags: Mapping[str, Any], *, geometry_type: str | None = None) -> str | None:  # noqa: C901 - older than the complexity limit; split when next changed
    """Map one feature's OSM tags to a facility ``kind`` (see the module table).

    Parameters
    ----------
    tags : mapping
        Tag key -> value (missing keys, ``None`` and NaN are "absent").
    geometry_type : str, optional
        Shapely geometry type of the feature; a ``LineString`` track is a trail.

    Returns
    -------
    str or None
        A kind from ``settings.FACILITY_KINDS``, ``None`` for a feature that is
        not an exercise place, or :data:`UNMAPPED` when no rule matches.

    Examples
    --------
    >>> kind_from_osm_tags({"leisure": "pitch", "sport": "basketball"})
    'multi_sport_court'
    >>> kind_from_osm_tags({"leisure": "sports_centre", "building": "yes"})
    'gymnasium'
    >>> kind_from_osm_tags({"leisure": "picnic_table"}) is None
    True
    """
    leisure = (_text(tags.get("leisure")) or "").lower()
    amenity = (_text(tags.get("amenity")) or "").lower()
    building = (_text(tags.get("building")) or "").lower()
    highway = (_text(tags.get("highway")) or "").lower()
    sports = _sports(_text(tags.get("sport")))
    name = (_text(tags.get("name")) or "").lower()
    is_line = geometry_type in ("LineString", "MultiLineString")

    if leisure == "stadium":
        return "stadium"
    if leisure == "sports_hall" or building == "sports_hall":
        return "gymnasium"
    if leisure == "sports_centre":
        if "swimming" in sports:
            return "swimming_pool"
        return "gymnasium" if building and building != "no" else "fitness_centre"
    if leisure == "fitness_centre" or amenity == "gym":
        return "fitness_centre"
    if leisure in ("swimming_pool", "water_park", "swimming_area") or "swimming" in sports:
        return "swimming_pool"
    if leisure == "fitness_station":
        return "fitness_path"
    if (leisure == "track" and is_line) or (highway and sports & _TRAIL_SPORTS):
        return "fitness_trail"
    if leisure == "track":
        return "pitch"
    if leisure == "pitch":
        return "multi_sport_court" if sports & COURT_SPORTS else "pitch"
    if leisure == "park" and (sports or "体育公园" in name or "sports park" in name):
        return "sports_park"
    if leisure in ("park", "garden"):
        return "park"
    if leisure == "playground":
        return "playground"
    if amenity in _SCHOOL_AMENITIES:
        return "school_venue"
    if leisure in _OTHER_LEISURE:
        return "other"
    if ("leisure", leisure) in NOT_A_FACILITY or ("amenity", amenity) in NOT_A_FACILITY:
        return None
    return UNMAPPED
