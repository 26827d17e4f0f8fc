"""The walking rule: which OSM ways walkers use and how, for XML, PBF and Overpass alike.

The walking rule
----------------
Access is decided by the first row that matches (:data:`WALK_ACCESS_RULES`);
the shape rows then say how a kept way is walked.

=====================================================  ===============  =====================
OSM tags                                               walking          reason in the report
=====================================================  ===============  =====================
no ``highway`` tag                                     no               ``not_a_street``
``highway=motorway|motorway_link`` (even ``foot=yes``)  no               ``motorway``
``highway=abandoned|construction|no|planned|``         no               ``not_built``
``proposed|razed``
``foot=no``                                            no               ``foot_no``
``foot=yes|designated|permissive``                     yes              ``foot_permitted``
``access=no|private`` (no foot permission)             no               ``access_private``
``service=private`` (no foot permission)               no               ``service_private``
``highway=cycleway|bus_guideway|platform|raceway|``    no               ``no_pedestrians``
``rest_area|services`` (no foot permission)
any other ``highway``                                  yes              ``street``
``area=yes`` on ``highway=pedestrian|footway|path``,   across the area  ``pedestrian_area``
a closed ``highway=pedestrian`` way (unless
``area=no``), a ``type=multipolygon`` relation with
one of those highways
``area=yes`` on any other highway                      no               ``area_not_pedestrian``
``sidewalk[:both|:left|:right]=separate``              yes, unless      ``sidewalk_separate``
                                                       sidewalks run    (kept) /
                                                       alongside        ``sidewalk_separate_
                                                                        alongside`` (dropped)
``oneway:foot=yes`` / ``-1``                           one way only
``oneway=*`` (any highway)                             both ways
=====================================================  ===============  =====================

Differences from osmnx's ``walk`` filter, on purpose: a foot permission
overrides ``access=private``, ``service=private`` and the cycleway/platform
exclusions (shared foot and cycle paths); ``access=no`` is excluded like
``private``; pedestrian areas (squares, 广场) are walkable *across*: their
outline, plus a straight link between every two points where other walkable
ways meet the outline, where that link stays inside the area (holes of
multipolygons included); ``sidewalk=separate`` roads stay walkable when no
``footway=sidewalk`` way runs within :data:`SEPARATE_SIDEWALK_SEARCH_M` metres
along at least half of them (an extract without the sidewalks would otherwise
lose the street); ``oneway=yes`` never binds walkers (it is for vehicles or
cyclists), only ``oneway:foot`` does. One-way edges make the largest component
the largest *weakly* connected one (as osmnx); the report counts the nodes
outside its largest strongly connected part (``nodes_not_strongly_connected``).
"""

from __future__ import annotations

import functools
import re
import sys

import shapely

#: Version of the walk definition and cleaning rules; part of the cache key, so
#: bump it whenever the rules below change.
WALK_DEFINITION_VERSION = "2"

#: The walking rule's access rows, in order; the first row whose tag matches decides
#: (see the module docstring's table). Each row: ``(reason, key, values, walkable)``;
#: ``values`` is a ``|``-separated list matched against the whole tag value, ``None``
#: means "the key is absent". A way no row matches is walkable (``reason`` ``"street"``).
WALK_ACCESS_RULES: tuple[tuple[str, str, str | None, bool], ...] = (
    ("not_a_street", "highway", None, False),
    ("motorway", "highway", "motorway|motorway_link", False),
    ("not_built", "highway", "abandoned|construction|no|planned|proposed|razed", False),
    ("foot_no", "foot", "no", False),
    ("foot_permitted", "foot", "yes|designated|permissive", True),
    ("access_private", "access", "no|private", False),
    ("service_private", "service", "private", False),
    ("no_pedestrians", "highway", "bus_guideway|cycleway|platform|raceway|rest_area|services", False),
)
#: Highways whose ``area=yes`` ways (and multipolygons) are pedestrian areas.
PEDESTRIAN_AREA_HIGHWAYS: tuple[str, ...] = ("pedestrian", "footway", "path")
#: Keys whose value ``separate`` says the road's sidewalk is mapped as its own way.
_SIDEWALK_KEYS = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
#: A ``sidewalk=separate`` road is dropped when mapped sidewalks (``footway=sidewalk``)
#: run within this many metres of it along at least half its length.
SEPARATE_SIDEWALK_SEARCH_M = 25.0

_YES = frozenset({"yes", "true", "1"})
_REVERSE = frozenset({"-1", "reverse"})

#: osmnx 2.1's ``walk`` Overpass filter (for the report's comparison), used until osmnx is imported (a test
#: pins it to osmnx's) and if osmnx's private helper moves.
_OSMNX_WALK_FILTER_FALLBACK = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
    'platform|proposed|raceway|razed|rest_area|services"]'
    '["foot"!~"no"]["service"!~"private"]'
    '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
    '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
)
_FILTER_CLAUSE = re.compile(r'\["(?P<key>[^"]+)"(?:(?P<op>!?~|=)"(?P<value>[^"]*)")?\]')

#: osmnx 2.x's default ``settings.useful_tags_node`` and ``useful_tags_way``, used while osmnx is not
#: imported (importing it takes seconds); a test pins them to osmnx's.
_OSMNX_USEFUL_TAGS: dict[str, tuple[str, ...]] = {
    "node": ("highway", "junction", "railway", "ref"),
    "way": (
        "access",
        "area",
        "bridge",
        "est_width",
        "highway",
        "junction",
        "landuse",
        "lanes",
        "maxspeed",
        "name",
        "oneway",
        "ref",
        "service",
        "tunnel",
        "width",
    ),
}

#: OSM way tags kept as edge attributes (osmnx's list plus the foot-related ones).
_EXTRA_WAY_TAGS = ("foot", "footway", "sidewalk", "surface", "lit", "oneway:foot")


@functools.cache
def _value_set(values: str) -> frozenset[str]:
    return frozenset(values.split("|"))


def _matches(tags: dict[str, str], key: str, values: str | None) -> bool:
    value = tags.get(key)
    if values is None:
        return value is None
    return value is not None and value in _value_set(values)


def walk_rule(tags: dict[str, str], *, closed: bool = False) -> tuple[str, str]:
    """Apply the walking rule to one OSM way (or multipolygon) and say why.

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.
    closed : bool
        Whether the way is closed (first node = last node); a closed
        ``highway=pedestrian`` way is a pedestrian area unless ``area=no``.

    Returns
    -------
    verdict : str
        ``"line"`` (walkable both ways along the way, or one way with
        ``oneway:foot``), ``"area"`` (a pedestrian area: walkable across),
        ``"sidewalk_separate"`` (walkable unless mapped sidewalks run alongside)
        or ``"drop"``.
    reason : str
        The rule that decided: a reason of :data:`WALK_ACCESS_RULES`, ``"street"``,
        ``"pedestrian_area"``, ``"area_not_pedestrian"`` or ``"sidewalk_separate"``.

    Examples
    --------
    >>> walk_rule({"highway": "cycleway", "foot": "designated"})
    ('line', 'foot_permitted')
    >>> walk_rule({"highway": "pedestrian", "area": "yes"})
    ('area', 'pedestrian_area')
    >>> walk_rule({"highway": "service", "access": "private"})
    ('drop', 'access_private')
    """
    reason = "street"
    for rule, key, values, walkable in WALK_ACCESS_RULES:
        if _matches(tags, key, values):
            if not walkable:
                return "drop", rule
            reason = rule
            break
    highway = tags.get("highway")
    area = tags.get("area")
    if (area == "yes" and highway in PEDESTRIAN_AREA_HIGHWAYS) or (closed and highway == "pedestrian" and area != "no"):
        return "area", "pedestrian_area"
    if area == "yes":
        return "drop", "area_not_pedestrian"
    if any(tags.get(key) == "separate" for key in _SIDEWALK_KEYS):
        return "sidewalk_separate", "sidewalk_separate"
    return "line", reason


def is_walkable(tags: dict[str, str], *, closed: bool = False) -> bool:
    """Whether the walking rule keeps an OSM way with these tags.

    ``sidewalk=separate`` roads count as walkable here; the loader drops them
    only where mapped sidewalks run alongside (see :func:`walk_rule`).

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.
    closed : bool
        Whether the way is closed.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_walkable({"highway": "footway"}), is_walkable({"highway": "motorway", "foot": "yes"})
    (True, False)
    >>> is_walkable({"building": "yes"}), is_walkable({"highway": "cycleway", "foot": "yes"})
    (False, True)
    """
    return walk_rule(tags, closed=closed)[0] != "drop"


def _overpass_values(values: str) -> str:
    return "^(" + values + ")$"


def overpass_walk_filters() -> list[str]:
    """The Overpass way filters of the walking rule (their union is the walk network).

    Built from :data:`WALK_ACCESS_RULES` and :data:`PEDESTRIAN_AREA_HIGHWAYS`:
    one filter per way a row can admit (a foot permission, or no row at all),
    each with every earlier excluding row negated, once for lines
    (``area`` not ``yes``) and once for pedestrian areas. A way matches one of
    them exactly when :func:`is_walkable` keeps it (closed ``highway=pedestrian``
    ways are lines here; the loader makes them areas).

    Returns
    -------
    list of str
        Filters such as ``["highway"]["highway"!~"^(motorway|motorway_link)$"]...``.

    Examples
    --------
    >>> len(overpass_walk_filters())
    4
    """
    access: list[str] = []
    negated: list[str] = []
    for _rule, key, values, walkable in WALK_ACCESS_RULES:
        clause = f'["{key}"]' if values is None else f'["{key}"~"{_overpass_values(values)}"]'
        if walkable:
            access.append("".join(negated) + clause)
        negated.append(f'["{key}"]' if values is None else f'["{key}"!~"{_overpass_values(values)}"]')
    access.append("".join(negated))
    areas = _overpass_values("|".join(PEDESTRIAN_AREA_HIGHWAYS))
    shapes = ('["area"!~"^yes$"]', f'["area"="yes"]["highway"~"{areas}"]')
    return [a + s for a in access for s in shapes]


def overpass_walk_query(polygon: shapely.Polygon | shapely.MultiPolygon) -> list[str]:
    """The Overpass QL queries that download the walk network inside a polygon.

    One query per piece osmnx would split the polygon into
    (``osmnx.settings.max_query_area_size``): the ways of
    :func:`overpass_walk_filters`, the pedestrian multipolygons, and their nodes
    and member ways.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        The area in WGS-84 (longitude, latitude).

    Returns
    -------
    list of str

    Examples
    --------
    >>> import shapely
    >>> query = overpass_walk_query(shapely.box(109.77, 39.59, 109.80, 39.62))[0]
    >>> 'way["highway"]' in query and 'relation["type"="multipolygon"]' in query
    True
    """
    from osmnx import _overpass

    areas = _overpass_values("|".join(PEDESTRIAN_AREA_HIGHWAYS))
    relation_access = [f[: f.index('["area"')] for f in overpass_walk_filters()[::2]]
    queries = []
    for coords in _overpass._make_overpass_polygon_coord_strs(polygon):
        poly = f"(poly:{coords!r})"
        parts = [f"way{f}{poly};" for f in overpass_walk_filters()]
        parts += [f'relation["type"="multipolygon"]{a}["highway"~"{areas}"]{poly};' for a in relation_access]
        queries.append(f"{_overpass._make_overpass_settings()};({''.join(parts)});(._;>;);out;")
    return queries


def _useful_tags(kind: str) -> tuple[str, ...]:
    """The useful tags of osmnx's settings (``kind``: ``"node"`` or ``"way"``), the user's once osmnx is imported.

    Before that nobody can have changed it, so its default serves without the import.
    """
    osmnx = sys.modules.get("osmnx")
    if osmnx is None:
        return _OSMNX_USEFUL_TAGS[kind]
    return tuple(getattr(osmnx.settings, f"useful_tags_{kind}"))


def _pedestrian_direction(tags: dict[str, str]) -> tuple[bool, bool]:
    """Return ``(one_way, reversed)`` for walkers: only ``oneway:foot`` binds them."""
    foot = tags.get("oneway:foot")
    if foot in _YES:
        return True, False
    if foot in _REVERSE:
        return True, True
    return False, False


def _osmnx_walk_rules() -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """The clauses of osmnx's ``walk`` filter (its copy here until osmnx is imported: importing it takes seconds)."""
    text = _OSMNX_WALK_FILTER_FALLBACK
    if "osmnx" in sys.modules:
        try:
            from osmnx._overpass import _get_network_filter

            text = _get_network_filter("walk")
        except (ImportError, AttributeError, ValueError):  # pragma: no cover - osmnx moved its helper
            pass
    return _parsed_filter(text)


@functools.cache
def _parsed_filter(text: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    return [
        (m["key"], m["op"], re.compile(m["value"]) if m["value"] is not None else None)
        for m in _FILTER_CLAUSE.finditer(text)
    ]


def _way_tag_keys() -> frozenset[str]:
    """Every way tag key the walk network reads: the walking rule's, osmnx's walk filter's, the edges' attributes."""
    return frozenset(
        {key for _, key, _, _ in WALK_ACCESS_RULES}
        | {"highway", "area", "footway", "oneway:foot", *_SIDEWALK_KEYS, *_EXTRA_WAY_TAGS}
        | {key for key, _, _ in _osmnx_walk_rules()}
        | set(_useful_tags("way"))
    )


def _overpass_filter_matches(rules: list[tuple[str, str | None, re.Pattern[str] | None]], tags: dict[str, str]) -> bool:
    """Evaluate parsed Overpass clauses with Overpass semantics (unanchored regex, ``=`` exact)."""
    for key, op, pattern in rules:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "=":
            if value != pattern.pattern:  # type: ignore[union-attr]
                return False
        elif op == "~":
            if value is None or not pattern.search(value):  # type: ignore[union-attr]
                return False
        elif value is not None and pattern.search(value):  # type: ignore[union-attr]
            return False
    return True


def in_osmnx_walk(tags: dict[str, str]) -> bool:
    """Whether osmnx's own ``walk`` filter keeps a way (for the cleaning report's comparison).

    Parameters
    ----------
    tags : dict of str to str
        The way's OSM tags.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_osmnx_walk({"highway": "cycleway", "foot": "designated"})
    False
    """
    return _overpass_filter_matches(_osmnx_walk_rules(), tags)
