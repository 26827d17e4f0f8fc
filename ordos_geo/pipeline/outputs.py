"""The files of a run: one group of outputs per stage, written whole or not at all."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from ordos_geo import _labels, indicators, io
from ordos_geo._errors import OrdosGeoError
from ordos_geo.config import StudyConfig
from ordos_geo.pipeline.stages import record_skipped_part, skipped_for_readers
from ordos_geo.pipeline.study import Study, StudyResults

logger = logging.getLogger(__name__)


def open_output_set(config: StudyConfig, stages: tuple[str, ...]) -> io.OutputSet:
    """The run's output set: every file the asked stages may write, staged and moved in one group per stage."""
    tables = [*_GROUP_FILES["accessibility"], "summary.json"]
    if "siting" in stages and config.siting_enabled:
        tables += [*_GROUP_FILES["siting"], *(f"sites_{t}.csv" for t in config.siting_plan)]
        tables += ["school_opening.csv", "school_opening_districts.csv"]
    if "trails" in stages and config.trails_enabled:
        tables += _GROUP_FILES["trails"]
    tables += _GROUP_FILES["after_plan"]
    maps = _GROUP_FILES["maps"] if "maps" in stages else []
    return io.OutputSet(
        {"tables": config.table_dir(), "maps": config.map_dir()},
        inputs=config.input_paths(),
        planned={"tables": tables, "maps": maps},
    )


def commit_stage(results: StudyResults, out: io.OutputSet, stage: str, *, state: str = "running") -> None:
    """Write one stage's group into the staging folders with an up-to-date summary.json, then move it in."""
    tables, maps = out.staged("tables"), out.staged("maps")
    staged: dict[str, Path] = {}
    if stage in OUTPUT_GROUPS:
        with _labels.total_row(whole_city=results.study.whole_city):  # 全市 only for a study of the whole city
            staged = OUTPUT_GROUPS[stage](results, tables, maps)
    files = out.files_with_staged()
    done = [s for s in (*out.committed, stage) if s in OUTPUT_GROUPS]
    results.summary["run"] = {"state": state, "stages": done, "files": files}
    language = results.study.config.language  # what a reader sees follows the study's language
    results.summary["skipped"] = [skipped_for_readers(entry, language) for entry in results.skipped]
    results.summary["warnings"] = [_labels.said(note, language) for note in results.study.warnings]
    staged["summary"] = io.write_json(results.summary, tables / "summary.json")
    for key, path in staged.items():
        results.written[key] = out.final(path)
    out.commit(stage)


def note_stop(results: StudyResults | None, out: io.OutputSet, error: BaseException) -> None:
    """After a failure or Ctrl-C, say in summary.json where the run stopped (if a stage is in place)."""
    if results is None or not out.committed:
        return  # nothing of this run is in place: the previous set stands untouched
    if isinstance(error, KeyboardInterrupt):
        reason: str = _labels.Note("interrupted")
    else:
        reason = _labels.note_of(error) or type(error).__name__
    done = [s for s in out.committed if s in OUTPUT_GROUPS]
    try:
        out.discard_staged()
        results.summary["run"] = {
            "state": "stopped",
            "stages": done,
            "files": out.files_with_staged(),
            "stopped_after": done[-1] if done else None,
            "reason": _labels.said(reason, results.study.config.language),  # as the run's other notes
        }
        io.write_json(results.summary, out.staged("tables") / "summary.json")
        out.commit("stopped")
    except Exception:  # the disk may be full: the committed groups stand, without the note
        logger.debug("could not record where the run stopped", exc_info=True)


def _write_accessibility(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    acc = results.accessibility
    return {
        "accessibility": io.write_geopackage(
            {"cells": acc.cells, "underserved": acc.underserved}, table_dir / "accessibility.gpkg"
        ),
        "indicators": io.write_csv(results.indicators, table_dir / "indicators.csv"),
        "scorecard": io.write_csv(results.scorecard, table_dir / "scorecard.csv"),
    }


def _write_siting(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if results.siting is not None:
        for site_type, ranked in results.siting.ranked.items():
            written[f"sites_{site_type}"] = io.write_csv(
                pd.DataFrame(ranked.drop(columns="geometry")), table_dir / f"sites_{site_type}.csv"
            )
    opening = results.school_opening
    if opening is not None:
        written["school_opening"] = io.write_csv(
            pd.DataFrame(opening.ranked.drop(columns="geometry")), table_dir / "school_opening.csv"
        )
        written["school_opening_districts"] = io.write_csv(
            opening.districts, table_dir / "school_opening_districts.csv"
        )
    layers = {}
    if results.siting is not None:
        layers["sites"] = results.siting.chosen
    if opening is not None:
        layers["school_opening"] = opening.ranked
    if layers:
        written["sites"] = io.write_geopackage(layers, table_dir / "sites.gpkg")
    gaps = [r.gaps for r in (results.siting, opening) if r is not None and not r.gaps.empty]
    if gaps:
        written["siting_gaps"] = io.write_csv(pd.concat(gaps, ignore_index=True), table_dir / "siting_gaps.csv")
    return written


def _write_trails(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    if results.trail_plan is None:
        return {}
    layers = {"planned": results.trail_plan.trails}
    assert results.trail_plan_report is not None  # set with the plan
    report = results.trail_plan_report.assign(trails="planned")
    if results.trail_check is not None:
        layers["checked"] = results.trail_check.matched
        layers["checked_lines"] = results.trail_check.lines  # per drawn line: loop or not, breaks, spurs
        if not results.trail_check.off_network.empty:
            layers["off_network"] = results.trail_check.off_network
        report = pd.concat([report, results.trail_check.report.assign(trails="checked")], ignore_index=True)
    return {
        "trails": io.write_geopackage(layers, table_dir / "trails.gpkg"),
        "trail_report": io.write_csv(report, table_dir / "trail_report.csv"),
    }


def _write_after_plan(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    if results.before_after is None:
        return {}
    written = {
        "before_after": io.write_csv(results.before_after, table_dir / "before_after.csv"),
        "scorecard_after": io.write_csv(results.scorecard_after, table_dir / "scorecard_after.csv"),
    }
    if results.area_gap is not None:
        written["area_gap"] = io.write_csv(results.area_gap, table_dir / "area_gap.csv")
    if results.accessibility_after is not None:
        # the pockets the plan leaves outside the 15-minute circle: where the next round of sites goes
        written["after_plan"] = io.write_geopackage(
            {"underserved": results.accessibility_after.underserved}, table_dir / "after_plan.gpkg"
        )
    return written


def _write_maps(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    """The maps, index page and report; a map that cannot be drawn is skipped (recorded), not fatal."""
    from ordos_geo import maps, report

    study = results.study
    acc = results.accessibility
    cfg = study.config
    language = _labels.check_language(cfg.language, where="maps")
    style = maps.MapStyle(
        language=language,
        synthetic=cfg.synthetic,
        walk_speed_kmh=cfg.walk_speed_kmh,
        sources=_labels.text(language)["sample_sources"] if cfg.synthetic else None,  # the sample's own caption
    )
    written: dict[str, Path] = {}
    pages: dict[str, str] = {}
    opening = results.school_opening

    def page(key: str, name: str, draw: Any) -> None:
        try:
            figure = draw()
        except OrdosGeoError as error:
            record_skipped_part(results, "maps", name, error)
            return
        written[key] = io.write_text(maps.render_html(figure), map_dir / name)
        pages[name.removesuffix(".html")] = name

    page(
        "coverage_map",
        "coverage.html",
        lambda: maps.coverage_map(
            acc.cells,
            study.facilities,
            boundaries=study.boundaries,
            service_areas=acc.service_areas,
            underserved=acc.underserved,
            underserved_after=results.accessibility_after.underserved if results.accessibility_after else None,
            style=style,
        ),
    )
    if results.siting is not None or opening is not None:
        page(
            "sites_map",
            "sites.html",
            lambda: maps.sites_map(
                results.siting.ranked if results.siting is not None else {},
                results.siting.chosen if results.siting is not None else None,
                acc.cells,
                results.accessibility_after.cells if results.accessibility_after is not None else None,
                boundaries=study.boundaries,
                school_opening=opening.ranked if opening is not None else None,
                style=style,
            ),
        )
    check = results.trail_check
    if results.trail_plan is not None:
        if results.trail_plan.trails.empty and (check is None or check.lines.empty):
            record_skipped_part(
                results,
                "maps",
                "trails.html",
                _labels.Note("no_trail_to_map"),
            )
        else:
            page(
                "trails_map",
                "trails.html",
                lambda: maps.trails_map(
                    results.trail_plan.trails,
                    check.lines if check is not None else None,
                    underserved=_reached_neighbourhoods(results),
                    off_network=check.off_network if check is not None else None,
                    boundaries=study.boundaries,
                    reach_m=cfg.trail_reach_m,
                    style=style,
                ),
            )
    pages.update(report="report.html", report_docx="report.docx", tables="tables.xlsx")
    notes = [
        _labels.said(note, language)
        for note in (
            *study.warnings,
            *(_labels.skipped_note(s["stage"], s["part"], s["reason"]) for s in results.skipped),
        )
    ]
    built = report.build_report(
        results.scorecard,
        results.indicators,
        scorecard_after=results.scorecard_after,
        indicators_after=results.indicators_after,
        area_gap=results.area_gap,
        cells=acc.cells,
        cells_after=results.accessibility_after.cells if results.accessibility_after is not None else None,
        sites=results.siting.chosen if results.siting is not None else None,
        trails=results.trail_plan.trails if results.trail_plan is not None else None,
        trails_reached=results.trail_plan.population_reached if results.trail_plan is not None else None,
        before_after=results.before_after,
        extra_tables=_report_tables(results),
        language=language,
        synthetic=cfg.synthetic,
        walk_speed_kmh=cfg.walk_speed_kmh,
        notes=notes,
    )
    written["index"] = io.write_text(
        # the report's scorecard: each target today and after the plan (after-plan values are not "today's")
        maps.index_page(
            pages, built.tables.get("scorecard_plan", results.scorecard), language=language, synthetic=cfg.synthetic
        ),
        map_dir / "index.html",
    )
    written["report"] = io.write_text(built.html, map_dir / "report.html")
    written["report_md"] = io.write_text(built.markdown, map_dir / "report.md")
    written["report_docx"] = io.write_bytes(report.to_docx(built), map_dir / "report.docx")
    sheets, formats = report.workbook_sheets(_workbook_tables(results, built), cfg.language)
    written["tables_xlsx"] = io.write_excel(sheets, map_dir / "tables.xlsx", number_formats=formats)
    for name, png in built.charts.items():
        io.write_bytes(png, map_dir / "charts" / name)
    return written


#: The writer of each stage's group of files, in data-flow order.
OUTPUT_GROUPS: dict[str, Any] = {
    "accessibility": _write_accessibility,
    "siting": _write_siting,
    "trails": _write_trails,
    "after_plan": _write_after_plan,
    "maps": _write_maps,
}
#: The fixed file names of each group (``sites_<type>.csv`` follow the siting plan).
_GROUP_FILES: dict[str, list[str]] = {
    "accessibility": ["accessibility.gpkg", "indicators.csv", "scorecard.csv"],
    "siting": ["sites.gpkg", "siting_gaps.csv"],
    "trails": ["trails.gpkg", "trail_report.csv"],
    "after_plan": ["before_after.csv", "scorecard_after.csv", "area_gap.csv", "after_plan.gpkg"],
    "maps": [
        "coverage.html",
        "sites.html",
        "trails.html",
        "index.html",
        "report.html",
        "report.md",
        "report.docx",
        "tables.xlsx",
    ],
}


def _workbook_tables(results: StudyResults, built: Any) -> dict[str, pd.DataFrame]:
    """The workbook's tables: the report's, with every indicator column and every ranked site."""
    tables = dict(built.tables)
    tables["indicators"] = results.indicators
    tables.pop("sites", None)
    if results.siting is not None:
        ranked = [pd.DataFrame(frame.drop(columns="geometry")) for frame in results.siting.ranked.values()]
        tables["sites"] = pd.concat(ranked, ignore_index=True)
    return tables


def _older_residents_key(study: Study) -> str:
    """Heading key of the 60+ section: residents split by census shares, or read from a 60+ grid."""
    return "older_residents_grid" if study.population_input.get("population_60plus") else "older_residents"


#: The most populous neighbourhoods still underserved after the plan that the report lists.
REPORTED_POCKETS = 10


def _report_tables(results: StudyResults) -> dict[str, pd.DataFrame]:
    """The report's further sections, by heading key of :func:`ordos_geo.report.build_report`."""
    tables: dict[str, pd.DataFrame] = {}
    table = results.indicators
    assert table is not None  # the report is written after the accessibility stage
    shares = [c for c in table.columns if c.startswith("share_within_") and c.count("_") >= 2]
    scenario = [c for c in shares if c.endswith(("_evenings", "_winter"))]
    if scenario:
        tiers = [c for c in shares if c.endswith("m")]
        ordered = [c for t in tiers for c in (t, f"{t}_evenings", f"{t}_winter") if c in table.columns]
        tables["scenarios"] = table[["district", *ordered]]
    older = [c for c in table.columns if c.startswith("share_60plus_within_")]
    if older:
        tables[_older_residents_key(results.study)] = table[["district", "population_60plus", *older]]
    if results.study.planner_targets is not None:
        entered = indicators.planner_scorecard(results.study.planner_targets, results.indicators)
        tables["planner_targets"] = entered[["district", "key", "description", "target", "value", "unit", "met", "gap"]]
    opening = results.school_opening
    if opening is not None:
        tables["school_opening_districts"] = opening.districts
        # names stay in the CSV; the report shows ids, so a zh report holds no English names
        columns = ["rank", "facility_id", "district", "in_plan", "newly_covered_in_plan"]
        columns += [c for c in opening.ranked.columns if c.startswith("newly_within_")]
        columns += ["area_m2", "reason"]
        tables["school_opening"] = pd.DataFrame(opening.ranked[columns])
    check = results.trail_check
    if check is not None and not check.lines.empty:
        # the drawn trails by the planner's own ids, as in trails.gpkg and the map's popups (names stay there: a
        # zh report holds no English names)
        columns = ["trail_id", "length_m", "off_network_length_m", "population_reached", "closed_line"]
        columns += ["n_breaks", "n_spurs", "major_road_crossings"]
        tables["checked_trails"] = pd.DataFrame(check.lines[[c for c in columns if c in check.lines.columns]])
    if results.accessibility_after is not None:
        # where gaps remain once the plan is built (all of them in after_plan.gpkg and on the coverage map)
        left = results.accessibility_after.underserved
        columns = ["neighbourhood_id", "district", "population", "n_cells"]
        tables["pockets_after"] = pd.DataFrame(left[columns].head(REPORTED_POCKETS))
    return tables


def _reached_neighbourhoods(results: StudyResults) -> gpd.GeoDataFrame:
    """Underserved neighbourhoods with a ``reached`` flag from the planned trails' report."""
    underserved = results.accessibility.underserved.copy()
    report = results.trail_plan_report
    assert report is not None  # called only with a trail plan
    if "neighbourhood_id" in report.columns and "reached_after" in report.columns:
        reached = report.dropna(subset=["neighbourhood_id"]).set_index("neighbourhood_id")["reached_after"]
        underserved["reached"] = underserved["neighbourhood_id"].map(reached).fillna(0) > 0
    return underserved
