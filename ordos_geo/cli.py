"""Command line: a thin layer over :mod:`ordos_geo.pipeline`.

``ordos-geo run`` runs the default study on the embedded sample;
``ordos-geo run --config study.toml`` runs a user's study. Flags match the
TOML keys (see :mod:`ordos_geo.config`). Errors print one line naming the
file, the field and the fix; ``-v`` shows progress logging.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ordos_geo import settings
from ordos_geo._errors import ConfigError, OrdosGeoError
from ordos_geo.config import FacilitySource, FetchConfig, StudyConfig, sample_config

if TYPE_CHECKING:
    from ordos_geo import pipeline

__all__ = ["main"]

logger = logging.getLogger("ordos_geo")

_SITE_TYPES = {
    "sports_park": "sports_park",
    "fitness_centre": "fitness_centre",
    "court": "multi_sport_court",
    "sports_health_centre": "sports_health_centre",
    "school_opening": "school_opening",
}


def _add_study_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="study TOML file (default: the embedded Ordos sample)")
    parser.add_argument("--name", help="study name; names the output folders")
    parser.add_argument("--network", type=Path, help="walk network: .osm, .osm.bz2, .osm.pbf or .graphml")
    parser.add_argument(
        "--population",
        type=Path,
        help="population: GeoTIFF, points (CSV/XLSX lon/lat or vector) or community/street polygons with counts",
    )
    parser.add_argument(
        "--population-coordinates", choices=settings.COORDINATE_SYSTEMS, help="datum of population points/polygons"
    )
    parser.add_argument("--facilities", type=Path, help="facility file (GeoJSON, GPKG, SHP, CSV, XLSX)")
    parser.add_argument(
        "--facilities-coordinates", choices=settings.COORDINATE_SYSTEMS, help="datum of --facilities coordinates"
    )
    parser.add_argument("--boundaries", type=Path, help="district/banner boundaries (any vector file)")
    parser.add_argument(
        "--boundaries-coordinates",
        choices=settings.COORDINATE_SYSTEMS,
        help="datum of the boundaries (Amap/DataV district files: gcj02)",
    )
    parser.add_argument("--candidates", type=Path, help="candidate sites (points or parcels)")
    parser.add_argument(
        "--candidates-coordinates", choices=settings.COORDINATE_SYSTEMS, help="datum of the candidate sites"
    )
    parser.add_argument("--proposed-trails", type=Path, help="proposed trail lines to check")
    parser.add_argument(
        "--proposed-trails-coordinates", choices=settings.COORDINATE_SYSTEMS, help="datum of the proposed trail lines"
    )
    parser.add_argument("--trail-exclusions", type=Path, help="lines or areas planned trails must avoid")
    parser.add_argument(
        "--planner-targets",
        type=Path,
        help="CSV of the plan's non-spatial figures per district (district, indicator, value, year, source): "
        "sports_instructors_per_1000, regular_exercise_share, public_venues_open_share; scored with target and gap",
    )
    parser.add_argument(
        "--population-60plus",
        type=Path,
        help="GeoTIFF of residents aged 60+ on the grid of --population (e.g. population_60plus.tif from fetch), "
        "read cell by cell; without it the boundaries' share_60plus column splits each cell's residents",
    )
    parser.add_argument("--trail-shape", choices=settings.TRAIL_SHAPES, help="shape of planned trails")
    parser.add_argument("--trail-max-spur-m", type=float, help="longest dead-end spur of a loop or route (default 0)")
    parser.add_argument("--siting-budget", type=float, help="total cost allowed for new sites (`cost` column)")
    parser.add_argument("--thresholds-m", type=float, nargs="+", help="coverage tiers in metres (default 300 500 1000)")
    parser.add_argument("--max-distance-m", type=float, help="distance cap in metres (default 5000)")
    parser.add_argument("--walk-speed-kmh", type=float, help="walking speed for minutes (default 4.5)")
    parser.add_argument("--max-snap-distance-m", type=float, help="max distance to the street (default 300)")
    parser.add_argument("--area-policy", choices=settings.AREA_POLICIES, help="rows without area_m2")
    parser.add_argument(
        "--split-by-district",
        action="store_true",
        default=None,
        help="compute accessibility district by district on buffered streets (same result, less per part)",
    )
    parser.add_argument(
        "--winter-kinds",
        nargs="+",
        metavar="KIND",
        help="indoor venue kinds of the winter scenario (default gymnasium swimming_pool fitness_centre "
        "sports_health_centre); school venues the facility table marks indoor = yes and open to the public count "
        "too",
    )
    parser.add_argument(
        "--age-distance-m",
        type=float,
        help="walking distance suited to residents aged 60+, for sports-health centres and the 60+ indicator "
        "(default 500)",
    )
    parser.add_argument(
        "--siting-objective",
        choices=settings.SITING_OBJECTIVES,
        help="what new fitness centres maximise: residents newly covered (coverage, default) or residents "
        "newly within reach of an indoor venue in winter (winter)",
    )
    parser.add_argument("--language", choices=settings.LANGUAGES, help="map and report labels")
    parser.add_argument("--population-column", help="population count column of a table or vector population file")
    parser.add_argument("--lon-column", help="longitude column of a facility table, when not auto-detected")
    parser.add_argument("--lat-column", help="latitude column of a facility table, when not auto-detected")
    parser.add_argument(
        "--layer",
        action="append",
        metavar="INPUT=LAYER",
        help="layer of a multi-layer file, e.g. --layer facilities=venues (repeatable)",
    )
    parser.add_argument("--out", type=Path, help="write every output into this folder")
    parser.add_argument("--no-cache", action="store_true", help="rebuild the network instead of using the cache")
    parser.add_argument(
        "--strict", action="store_true", help="fail (exit 2) when any part of a stage had to be skipped"
    )


def _study_config(args: argparse.Namespace) -> StudyConfig:
    config = StudyConfig.from_toml(args.config) if args.config else sample_config()
    if args.network is not None and args.config is None:
        # A user's own network makes it a user's study: the sample's Ordos districts, drawn trails and
        # planner figures are not theirs (the districts made every resident "outside the study area").
        config = dataclasses.replace(config, boundaries=None, proposed_trails=None, planner_targets=None)
    overrides = {
        "name": args.name,
        "network": args.network,
        "population": args.population,
        "population_coordinates": args.population_coordinates,
        "boundaries": args.boundaries,
        "boundaries_coordinates": args.boundaries_coordinates,
        "candidates": args.candidates,
        "candidates_coordinates": args.candidates_coordinates,
        "proposed_trails": args.proposed_trails,
        "proposed_trails_coordinates": args.proposed_trails_coordinates,
        "trail_exclusions": args.trail_exclusions,
        "planner_targets": args.planner_targets,
        "population_60plus": args.population_60plus,
        "trail_shape": args.trail_shape,
        "trail_max_spur_m": args.trail_max_spur_m,
        "siting_budget": args.siting_budget,
        "thresholds_m": tuple(args.thresholds_m) if args.thresholds_m else None,
        "max_distance_m": args.max_distance_m,
        "walk_speed_kmh": args.walk_speed_kmh,
        "max_snap_distance_m": args.max_snap_distance_m,
        "area_policy": args.area_policy,
        "split_by_district": args.split_by_district,
        "winter_kinds": tuple(args.winter_kinds) if args.winter_kinds else None,
        "age_distance_m": args.age_distance_m,
        "siting_objective": args.siting_objective,
        "language": args.language,
        "population_column": args.population_column,
        "lon_column": args.lon_column,
        "lat_column": args.lat_column,
        "layers": _layers(args.layer, config.layers) if args.layer else None,
        "out": args.out.resolve() if args.out else None,
    }
    if args.facilities is not None:
        overrides["facilities"] = (FacilitySource(args.facilities, args.facilities_coordinates or "wgs84"),)
    elif args.facilities_coordinates is not None:
        msg = "--facilities-coordinates needs --facilities (or set facilities_coordinates in the study TOML)"
        raise ConfigError(msg)
    if args.network is not None and args.config is None:
        # A user's own network makes it a user's study, not the synthetic sample.
        overrides["synthetic"] = False
    return config.with_overrides(**overrides)


def _layers(given: list[str], layers: dict[str, str]) -> dict[str, str]:
    out = dict(layers)
    for item in given:
        key, sep, layer = item.partition("=")
        if not sep or not key.strip() or not layer.strip():
            msg = f"--layer {item!r}: write INPUT=LAYER, e.g. --layer facilities=venues"
            raise ConfigError(msg)
        out[key.strip()] = layer.strip()
    return out


def _cmd_run(args: argparse.Namespace) -> int:
    from ordos_geo import pipeline

    config = _study_config(args)
    stages = ["accessibility", "siting", "trails", "maps"]
    for stage in ("siting", "trails", "maps"):
        if getattr(args, f"no_{stage}"):
            stages.remove(stage)
    results = pipeline.run_study(config, stages=tuple(stages), use_cache=not args.no_cache)
    return _report_written(results, strict=args.strict)


def _report_written(results: pipeline.StudyResults, *, strict: bool) -> int:
    """Print what was written; with ``--strict`` a skipped part makes the run fail (exit 2)."""
    for key, path in sorted(results.written.items()):
        print(f"{key:>18}: {path}")
    if strict and results.skipped:
        parts = ", ".join(f"{s['stage']} {s['part']}" for s in results.skipped)
        print(
            f"ordos-geo: error: --strict: {len(results.skipped)} part(s) skipped ({parts}); "
            "see 'skipped' in summary.json for why and the fix",
            file=sys.stderr,
        )
        return 2
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from ordos_geo import sample

    written = sample.build_sample(args.out or settings.SAMPLE_DIR, seed=args.seed)
    for key, path in sorted(written.items()):
        print(f"{key:>18}: {path}")
    return 0


def _sites_wanted(text: str) -> int:
    """``--p``: how many sites, a whole number >= 1 (argparse names the flag in the error)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"give a whole number >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _cmd_site(args: argparse.Namespace) -> int:
    from ordos_geo import pipeline

    site_type = _SITE_TYPES[args.type]
    plan = {"school_opening": 0, site_type: args.p}
    config = _study_config(args).with_overrides(siting_plan=plan, siting_method=args.method, trails_enabled=False)
    results = pipeline.run_study(config, stages=("accessibility", "siting"), use_cache=not args.no_cache)
    if site_type == "school_opening":
        if results.school_opening is None:
            print("every school venue is already open to the public; nothing to open")
        else:
            print(results.school_opening.districts.to_string(index=False))
            ranked = results.school_opening.ranked
            columns = ["rank", "facility_id", "name", "district", "in_plan", "newly_covered_in_plan", "reason"]
            print(ranked[columns].to_string(index=False))
    elif results.siting is not None:
        ranked = results.siting.ranked[site_type]
        columns = [c for c in ("rank", "candidate_id", "name", "newly_covered_population", "reason") if c in ranked]
        print(ranked[columns].head(max(args.p, 10)).to_string(index=False))
    return _report_written(results, strict=args.strict)


def _cmd_trails(args: argparse.Namespace) -> int:
    from ordos_geo import pipeline

    overrides: dict[str, object] = {"siting_enabled": False}
    if args.trails_command == "check":
        overrides["proposed_trails"] = args.proposed.resolve()
    if args.budget_m is not None:
        overrides["trail_budget_m"] = args.budget_m
    config = _study_config(args).with_overrides(**overrides)
    results = pipeline.run_study(config, stages=("accessibility", "trails", "maps"), use_cache=not args.no_cache)
    if args.trails_command == "check" and results.trail_check is not None:
        print(results.trail_check.report.to_string(index=False))
        print(results.trail_check.lines.drop(columns="geometry").to_string(index=False))  # each line's shape
    elif results.trail_plan is not None:
        print(results.trail_plan.trails.drop(columns="geometry").to_string(index=False))
    return _report_written(results, strict=args.strict)


def _cmd_batch(args: argparse.Namespace) -> int:
    from ordos_geo import batch

    studies = batch.read_studies(args.studies)
    stages = [s for s in batch.DEFAULT_STAGES if not getattr(args, f"no_{s}", False)]
    with batch.batch_client(scheduler=args.scheduler, n_workers=args.workers, memory_limit=args.memory_limit) as client:
        print(f"{len(studies)} studies on {client.scheduler.address}; dashboard: {client.dashboard_link}", flush=True)

        def show(record: dict) -> None:
            error = f": {record['error']}" if record.get("error") else ""
            runtime = record.get("runtime_s") or 0.0
            print(f"{record['study']:>24}: {record['status']} ({runtime:.1f} s){error}", flush=True)

        summary = batch.run_batch(
            studies, out_dir=args.out, client=client, stages=stages, force=args.force, on_record=show
        )
    counts = summary["status"].value_counts()
    print(
        ", ".join(f"{counts.get(s, 0)} {s}" for s in ("ok", "skipped", "failed")) + f"; summary: "
        f"{args.out / 'batch_summary.csv'}, {args.out / 'index.html'}"
    )
    return 1 if counts.get("failed", 0) else 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from ordos_geo import fetch

    config = FetchConfig.from_toml(args.config) if args.config else FetchConfig()
    config = config.with_overrides(
        area=args.area,
        out=args.out.resolve() if args.out else None,
        boundary=args.boundary.resolve() if args.boundary else None,
        boundary_coordinates=args.boundary_coordinates,
        population=args.population,
        overpass_url=args.overpass_url,
        overpass_timeout_s=args.overpass_timeout,
        downloads=args.downloads.resolve() if args.downloads else None,
        ages_60plus=False if args.no_ages else None,
    )
    if config.area is None:
        msg = "fetch needs --area (an adcode or name; with --boundary, any label) or `area` in the [fetch] section"
        raise ConfigError(msg)
    out = config.out or Path.cwd() / "data" / "raw" / config.area
    written = fetch.fetch_area(
        config.area,
        out_dir=out,
        boundaries=config.boundary,
        boundary_coordinates=config.boundary_coordinates,
        population=config.population,
        overpass_url=config.overpass_url,
        overpass_timeout_s=config.overpass_timeout_s,
        downloads=config.downloads,
        ages_60plus=config.ages_60plus,
    )
    print(json.dumps({k: str(v) for k, v in written.items()}, indent=2, ensure_ascii=False))
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (the usage block is in ``--help``)."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: error: <message>`` and where the usage is, then exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``ordos-geo`` argument parser."""
    parser = _OneLineParser(
        prog="ordos-geo",
        description="Walking accessibility and facility planning for the Ordos fitness network (就近健身).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show progress (-v) or debug (-vv) logs")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a whole study (default: the embedded sample)")
    _add_study_options(run)
    for stage in ("siting", "trails", "maps"):
        run.add_argument(f"--no-{stage}", action="store_true", help=f"skip the {stage} stage")
    run.set_defaults(func=_cmd_run)

    sample = sub.add_parser("sample", help="rebuild the embedded sample byte for byte (needs the dev extra)")
    sample.add_argument("--out", type=Path, help="folder to write (default data/raw/sample)")
    sample.add_argument("--seed", type=int, default=20240601, help="random seed (default 20240601)")
    sample.set_defaults(func=_cmd_sample)

    site = sub.add_parser("site", help="rank candidate sites for one facility type")
    _add_study_options(site)
    site.add_argument(
        "--type",
        required=True,
        choices=sorted(_SITE_TYPES),
        help="facility type to site; school_opening ranks the closed school venues and opens the fewest that "
        "reach the plan's 60 %% open share, citywide and in every district below it",
    )
    site.add_argument(
        "--p", type=_sites_wanted, default=1, help="number of sites to choose (not used by school_opening)"
    )
    site.add_argument(
        "--method", choices=settings.SITING_METHODS, default=settings.DEFAULT_SITING_METHOD, help="exact MILP or greedy"
    )
    site.set_defaults(func=_cmd_site)

    trails = sub.add_parser("trails", help="plan fitness trails or check proposed ones")
    trails_sub = trails.add_subparsers(dest="trails_command", required=True)
    plan = trails_sub.add_parser("plan", help="route the trail budget through underserved neighbourhoods")
    check = trails_sub.add_parser("check", help="check proposed trails against underserved neighbourhoods")
    check.add_argument("proposed", type=Path, help="proposed trail lines (any CRS)")
    for p in (plan, check):
        _add_study_options(p)
        p.add_argument("--budget-m", type=float, help="total trail length budget (default 10000)")
    trails.set_defaults(func=_cmd_trails)

    batch = sub.add_parser("batch", help="run many studies at once on Dask (local cluster or --scheduler)")
    batch.add_argument("studies", type=Path, help="folder of study TOML files, or a CSV with one row per study")
    batch.add_argument("--out", type=Path, required=True, help="batch folder: DIR/<study>/ for each study")
    batch.add_argument(
        "--scheduler",
        help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: "
        "$DASK_SCHEDULER_ADDRESS, else a local cluster)",
    )
    batch.add_argument("--workers", type=int, help="local worker processes (default: one per CPU)")
    batch.add_argument("--memory-limit", default="auto", help="memory per local worker, e.g. 4GB (default: auto)")
    batch.add_argument("--force", action="store_true", help="rerun studies whose outputs are up to date")
    for stage in ("siting", "trails", "maps"):
        batch.add_argument(f"--no-{stage}", action="store_true", help=f"skip the {stage} stage")
    batch.set_defaults(func=_cmd_batch)

    fetch = sub.add_parser("fetch", help="download a real district's network, features and population (online)")
    fetch.add_argument("--config", type=Path, help="study TOML whose [fetch] section gives these options")
    fetch.add_argument("--area", help="adcode (e.g. 150602) or name (e.g. Dongsheng, 东胜区)")
    fetch.add_argument("--out", type=Path, help="folder to write (default data/raw/<area>)")
    fetch.add_argument(
        "--overpass-url", help="Overpass API base URL, e.g. a mirror (default https://overpass-api.de/api)"
    )
    fetch.add_argument("--overpass-timeout", type=float, help="seconds Overpass may spend on a query (default 180)")
    fetch.add_argument(
        "--population",
        help="worldpop (default), worldpop_unconstrained, none, an https:// GeoTIFF URL, or a local raster/table",
    )
    fetch.add_argument("--boundary", type=Path, help="your own boundary file (one polygon, or adcode/name columns)")
    fetch.add_argument(
        "--boundary-coordinates", choices=settings.COORDINATE_SYSTEMS, help="datum of --boundary (Amap: gcj02)"
    )
    fetch.add_argument(
        "--downloads", type=Path, help="cache of WorldPop files and Overpass answers (default <out>/../_downloads)"
    )
    fetch.add_argument(
        "--no-ages",
        action="store_true",
        help="skip WorldPop's 2020 age and sex grids (ten country files) summed into population_60plus.tif; "
        "then the boundaries' census share splits the residents aged 60+",
    )
    fetch.set_defaults(func=_cmd_fetch)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ordos-geo`` command.

    Examples
    --------
    >>> main(["run", "--out", "ordos_out"])  # the sample study, every stage  # doctest: +SKIP
    0
    >>> main(["run", "--config", "no_such_study.toml"])  # one error line on stderr, exit status 2
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = _configure_logging(args.verbose)
    try:
        with _interrupts_not_lost(), warnings.catch_warnings(record=True) as caught:
            code = int(args.func(args))
        for warning in caught:  # library warnings: shown with -v, never before an error line
            logger.debug("%s: %s", warning.category.__name__, warning.message)
        for message in _held_warnings(handlers):
            print(message, file=sys.stderr)
        return code
    except OrdosGeoError as exc:
        held = len(_held_warnings(handlers))
        hint = f" ({held} earlier warning{'s' if held != 1 else ''}: -v shows them)" if held else ""
        print(f"ordos-geo: error: {exc}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ordos-geo: interrupted; stages already finished were kept, nothing half-written", file=sys.stderr)
        return 130
    finally:
        for owner, handler in handlers:
            owner.removeHandler(handler)


@contextlib.contextmanager
def _interrupts_not_lost(*, retry_s: float = 0.2) -> Iterator[None]:
    """Make sure Ctrl-C stops the run even when Python swallows its ``KeyboardInterrupt``.

    Python checks for signals between bytecodes; when that happens inside a
    ``__del__`` or a weakref callback (garbage collection runs them at any
    time), the ``KeyboardInterrupt`` is only printed as "Exception ignored" and
    the run goes on to the end. Here such a lost interrupt is raised again
    ``retry_s`` later, in the run's own code (SIGALRM; POSIX only).
    """
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_hook, previous_alarm = sys.unraisablehook, signal.getsignal(signal.SIGALRM)

    def raise_again(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def watch(unraisable: sys.UnraisableHookArgs) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            signal.setitimer(signal.ITIMER_REAL, retry_s)  # lost: raise it again in a moment
            return
        previous_hook(unraisable)

    signal.signal(signal.SIGALRM, raise_again)
    sys.unraisablehook = watch
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        sys.unraisablehook = previous_hook
        signal.signal(signal.SIGALRM, previous_alarm)


def _configure_logging(verbose: int) -> list[tuple[logging.Logger, logging.Handler]]:
    """``-v``: progress logs; ``-vv``: debug. Without ``-v``, on a terminal, one line per stage with its time."""
    if verbose:
        handler: logging.Handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
        return [(logger, handler)]
    held: list[tuple[logging.Logger, logging.Handler]] = [(logging.getLogger("ordos_geo"), _HeldWarnings())]
    held[0][0].addHandler(held[0][1])
    if not sys.stderr.isatty():
        return held  # quiet in CI logs and pipes: warnings only, at the end
    progress = logging.getLogger("ordos_geo.progress")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("ordos-geo: %(message)s"))
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    return [*held, (progress, handler)]


class _HeldWarnings(logging.Handler):
    """Warnings kept until the command ends: printed after a success, left out after an error.

    An error is then the one line the user sees, not the last of several
    (``-v`` shows every warning as it happens).
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the warning's message."""
        self.messages.append(record.getMessage())


def _held_warnings(handlers: list[tuple[logging.Logger, logging.Handler]]) -> list[str]:
    return [m for _, h in handlers if isinstance(h, _HeldWarnings) for m in h.messages]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
