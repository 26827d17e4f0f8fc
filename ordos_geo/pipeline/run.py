"""Running a study: the stages in data-flow order, each stage's outputs written as soon as it ends."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ordos_geo.config import StudyConfig
from ordos_geo.pipeline.outputs import OUTPUT_GROUPS, commit_stage, note_stop, open_output_set
from ordos_geo.pipeline.stages import (
    citywide_indicators,
    outside_reach_shares,
    plan_summary,
    run_accessibility_stage,
    run_after_plan_stage,
    run_siting_stage,
    run_trails_stage,
)
from ordos_geo.pipeline.study import Study, StudyResults, as_study_config, load_study, study_summary

logger = logging.getLogger(__name__)
progress = logging.getLogger("ordos_geo.progress")


def run_study(
    config: StudyConfig | str | Path | None = None,
    *,
    stages: tuple[str, ...] = ("accessibility", "siting", "trails", "maps"),
    use_cache: bool = True,
    map_parts: Callable | None = None,
) -> StudyResults:
    """Run a whole study, writing each stage's outputs as soon as the stage finishes.

    The output folders are checked (created, writable, no input among the
    outputs) and locked before any work. Each stage's files appear as one
    complete group (see :class:`ordos_geo.io.OutputSet`); ``summary.json``
    says which stages are in place (``run.stages``) and, after a failure or
    Ctrl-C, where the run stopped (``run.state == "stopped"``), so a late
    failure never removes or corrupts an earlier stage's outputs. A part a
    stage cannot do (no eligible candidate for a site type, nothing to plan
    trails for, a map with nothing to show) is skipped with one warning line
    and recorded in ``summary.json["skipped"]`` and the report; the run goes on.

    Parameters
    ----------
    config : StudyConfig, path to a study TOML, or None
        ``None`` runs the embedded Ordos sample.
    stages : tuple of str
        Which stages after loading to run, in data-flow order: any of
        ``"accessibility"``, ``"siting"``, ``"trails"``, ``"maps"`` (siting,
        trails and maps need accessibility).
    use_cache : bool
        Reuse the cached network.
    map_parts : callable, optional
        Runner of the district parts of a study split by district (see
        :func:`compute_accessibility`).

    Returns
    -------
    StudyResults
        Results and the paths written; ``results.skipped`` lists skipped parts.

    Examples
    --------
    >>> results = run_study(stages=("accessibility",))  # doctest: +SKIP
    >>> results.summary["run"]["state"]  # doctest: +SKIP
    'complete'
    """
    config = as_study_config(config)
    config.check_inputs_exist()
    results: StudyResults | None = None
    with open_output_set(config, stages) as out:
        try:
            with _stage("load"):
                study = load_study(config, use_cache=use_cache)
            results = StudyResults(study=study, summary=study_summary(study))
            # the service-area polygons are drawn only for the coverage map
            for stage in _analyse(results, stages, map_parts, service_areas="maps" in stages):
                commit_stage(results, out, stage)
            if "maps" in stages and results.accessibility is not None:
                with _stage("maps"):
                    commit_stage(results, out, "maps")
            commit_stage(results, out, "summary", state="complete")
        except BaseException as error:
            note_stop(results, out, error)
            raise
    logger.info("study %s written to %s", config.name, config.table_dir())
    return results


def analyse_study(
    study: Study,
    *,
    stages: tuple[str, ...] = ("accessibility", "siting", "trails"),
    map_parts: Callable | None = None,
) -> StudyResults:
    """Run the analysis stages on a loaded study, in memory (nothing is written).

    Parameters
    ----------
    study : Study
        From :func:`load_study`.
    stages : tuple of str
        Any of ``"accessibility"``, ``"siting"``, ``"trails"``; siting and
        trails need accessibility. When siting or trails run, accessibility
        and indicators are computed again with the planned sites and trails
        added (``accessibility_after``, ``indicators_after``, ``before_after``).
    map_parts : callable, optional
        Runner of the district parts of a study split by district (see
        :func:`compute_accessibility`).

    Returns
    -------
    StudyResults
        Parts a stage could not do are in ``results.skipped``.

    Examples
    --------
    >>> from ordos_geo.pipeline import load_study
    >>> results = analyse_study(load_study(), stages=("accessibility",))  # the sample, in memory  # doctest: +SKIP
    >>> results.accessibility.cells["covered_1000m"].dtype, results.siting, results.written  # doctest: +SKIP
    (dtype('bool'), None, {})
    """
    results = StudyResults(study=study, summary=study_summary(study))
    for _ in _analyse(results, stages, map_parts):
        pass
    return results


def write_results(results: StudyResults, *, maps: bool = True) -> dict[str, Path]:
    """Write a study's tables, GeoPackages, ``summary.json`` and (optionally) maps and report.

    Tables go to ``config.table_dir()``, maps to ``config.map_dir()``, as one
    output set (see :func:`run_study`): the previous run's files are replaced,
    each group appears whole.

    Parameters
    ----------
    results : StudyResults
        From :func:`analyse_study`.
    maps : bool
        Also write ``coverage.html``, ``sites.html``, ``trails.html``,
        ``index.html`` and the report.

    Returns
    -------
    dict of str to pathlib.Path
        Everything written, also kept in ``results.written``.

    Examples
    --------
    >>> from ordos_geo.pipeline import load_study
    >>> results = analyse_study(load_study(), stages=("accessibility",))  # doctest: +SKIP
    >>> written = write_results(results, maps=False)  # into the study's out folder  # doctest: +SKIP
    >>> written["summary"].name  # doctest: +SKIP
    'summary.json'
    """
    cfg = results.study.config
    stages = ("accessibility", "siting", "trails", *(("maps",) if maps else ()))
    with open_output_set(cfg, stages) as out:
        try:
            if results.accessibility is not None:
                for stage in OUTPUT_GROUPS:
                    if stage != "maps" or maps:
                        commit_stage(results, out, stage)
            commit_stage(results, out, "summary", state="complete")
        except BaseException as error:
            note_stop(results, out, error)
            raise
    logger.info("study %s written to %s", cfg.name, cfg.table_dir())
    return results.written


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Time a stage: one progress line when it ends (shown on a terminal by the CLI)."""
    start = time.perf_counter()
    progress.info("%s ...", name)
    yield
    progress.info("%s done in %.1f s", name, time.perf_counter() - start)


def _analyse(
    results: StudyResults, stages: tuple[str, ...], map_parts: Callable | None = None, *, service_areas: bool = True
) -> Iterator[str]:
    """Run the analysis stages in order, yielding each stage's name once its results are complete."""
    cfg = results.study.config
    if "accessibility" not in stages:
        return
    with _stage("accessibility"):
        run_accessibility_stage(results, map_parts, service_areas=service_areas)
        results.summary["population_input"].update(outside_reach_shares(results.accessibility.cells))
        results.summary["citywide"] = citywide_indicators(results.indicators)
    yield "accessibility"
    if "siting" in stages and cfg.siting_enabled:
        with _stage("siting"):
            run_siting_stage(results)
        yield "siting"
    if "trails" in stages and cfg.trails_enabled:
        with _stage("trails"):
            run_trails_stage(results)
        yield "trails"
    opened = results.school_opening is not None and not results.school_opening.opened.empty
    if results.siting is not None or results.trail_plan is not None or opened:
        with _stage("after plan"):
            run_after_plan_stage(results, map_parts)
            results.summary["citywide_after_plan"] = citywide_indicators(results.indicators_after)
            results.summary["plan"] = plan_summary(results)
        yield "after_plan"
