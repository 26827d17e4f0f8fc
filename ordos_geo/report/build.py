"""The report builder: :func:`build_report` lays out the study's tables, charts and notes as one :class:`Report`.

The report's sections in order: notes of the run, the scorecard (today and after
the plan), the district table, the gap to the area targets, the charts, the
chosen sites, the trails, before/after and any further tables. They are kept as
blocks (headings, paragraphs, tables, figures) that every renderer walks: the
HTML page and the Markdown (:mod:`~ordos_geo.report._page`), the Word document
(:mod:`~ordos_geo.report.export`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels as label_table
from ordos_geo._errors import InputDataError
from ordos_geo.indicators import CITYWIDE, scorecard_before_after
from ordos_geo.report._page import Block, _render_html, _render_markdown
from ordos_geo.report.charts import _charts, _share_columns
from ordos_geo.report.tables import _check_table, _empty_districts, _table_frame, _without
from ordos_geo.settings import DEFAULT_LANGUAGE, DEFAULT_WALK_SPEED_KMH, Language

__all__ = ["Report", "build_report"]


@dataclass(frozen=True)
class Report:
    """A rendered planning report.

    Attributes
    ----------
    html : str
        Self-contained page (charts inline as base64 PNG).
    markdown : str
        The same content; charts referenced as ``<chart_dir>/<name>.png``.
    charts : dict of str to bytes
        PNG bytes per chart file name (see :data:`CHART_NAMES`).
    tables : dict of str to pandas.DataFrame
        The tables shown, by sheet name (``scorecard_after``, ``scorecard``,
        ``indicators``, ``gap``, ``gap_levers``, ``sites``, ``trails``,
        ``before_after``), with key columns and numbers (see :func:`localize`).
    blocks : tuple
        The content in order: ``("h2" | "h3" | "p" | "note", text)``,
        ``("table", frame)``, ``("figure", chart name, caption)``; every
        renderer (HTML, Markdown, Word) walks the same blocks.
    title : str
        The report's title.
    language : {"zh", "en"}

    Examples
    --------
    >>> card = pd.DataFrame({"key": ["per_capita_area_2024"], "description": ["per-capita area"], "target": [3.4],
    ...                      "value": [2.9], "unit": ["m2_per_capita"], "met": [False]})
    >>> rows = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [10.0, 10.0]})
    >>> result = build_report(card, rows, language="zh")
    >>> result.title, sorted(result.tables), sorted(result.charts)[0]
    ('就近健身设施规划报告', ['indicators', 'scorecard'], 'area_by_district.png')
    """

    html: str
    markdown: str
    charts: dict[str, bytes] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    blocks: tuple[Block, ...] = ()
    title: str = ""
    language: str = DEFAULT_LANGUAGE


def _trail_table(trails: gpd.GeoDataFrame) -> pd.DataFrame:
    table = _table_frame(trails).copy()
    if "length_m" not in table.columns and isinstance(trails, gpd.GeoDataFrame) and trails.crs is not None:
        if trails.crs.is_projected:
            table["length_m"] = trails.geometry.length.to_numpy()
    return table


#: Indicator columns the report's district table shows, around the ``share_within_<t>m`` tiers
#: (every column goes to the CSV and the Excel workbook).
_DISTRICT_COLUMNS = (
    ("district", "population", "venue_area_m2", "per_capita_area_m2", "open_school_share"),
    ("share_covered_service", "population_underserved", "n_facilities"),
)


def _district_table(indicators: pd.DataFrame) -> pd.DataFrame:
    head, tail = ([c for c in part if c in indicators.columns] for part in _DISTRICT_COLUMNS)
    return indicators[[*head, *(column for _, column in _share_columns(indicators)), *tail]]


#: Levers the plan itself pulls (the rest are further options), see ``indicators.LEVERS``.
_PLAN_LEVERS = ("new_sites", "trails", "opened_schools")

#: Columns of the chosen-sites table in the report (the full table is in ``sites.gpkg`` and the workbook).
_SITE_COLUMNS = (
    "plan_order",
    "rank",
    "name",
    "kind",
    "served",
    "district",
    "newly_covered_population",
    "added_venue_area_m2",
    "distance_to_nearest_same_kind_m",
)


def _site_table(sites: pd.DataFrame | gpd.GeoDataFrame) -> pd.DataFrame:
    table = _table_frame(sites)
    columns = [c for c in _SITE_COLUMNS if c in table.columns]
    return table[columns] if "name" in columns else table


def _gap_tables(area_gap: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gap per district and target year, and the citywide contribution of each lever.

    ``area_gap`` is the long table of :func:`ordos_geo.indicators.area_gap`. The
    plan's own levers are the new sites and the trails, so the area still missing
    after the plan is what remains after them.
    """
    keys = ["district", "year"]
    first = area_gap.groupby(keys, sort=False).head(1).set_index(keys)
    after_plan = area_gap[area_gap["lever"].isin(_PLAN_LEVERS)].groupby(keys, sort=False)["missing_after_m2"].last()
    after_all = area_gap.groupby(keys, sort=False)["missing_after_m2"].last()
    per_district = first[
        ["target_m2_per_capita", "population", "venue_area_m2", "required_area_m2", "missing_area_m2"]
    ].assign(
        missing_after_plan_m2=after_plan.reindex(first.index).fillna(first["missing_area_m2"]),
        missing_after_levers_m2=after_all,
    )
    city = area_gap[area_gap["district"] == "citywide"]
    levers = city.pivot_table(index="lever", columns="year", values="share_of_gap", sort=False, dropna=False)
    levers.columns = [f"share_of_gap_{year}" for year in levers.columns]
    areas = city.groupby("lever", sort=False)["area_added_m2"].first()
    levers = pd.concat([areas, levers], axis=1).reset_index()
    return per_district.reset_index(), levers


def _gap_summary(per_district: pd.DataFrame, language: str) -> list[str]:
    city = per_district[per_district["district"] == "citywide"]
    template = label_table.text(language)["gap_summary"]
    return [
        template.format(
            year=int(row["year"]),
            target=f"{row['target_m2_per_capita']:g}",
            today=f"{row['missing_area_m2']:,.0f}",
            after=f"{row['missing_after_plan_m2']:,.0f}",
            rest=f"{row['missing_after_levers_m2']:,.0f}",
        )
        for _, row in city.iterrows()
    ]


def _citation(scorecard: pd.DataFrame, language: str) -> str:
    if "source" not in scorecard.columns:
        return ""
    sources = list(dict.fromkeys(str(s) for s in scorecard["source"].dropna()))
    if not sources:
        return ""
    joined = ("；" if language == "zh" else "; ").join(label_table.source(s, language) for s in sources)
    return label_table.text(language)["citation"].format(sources=joined)


def _unknown_school_venues(indicators: pd.DataFrame) -> int:
    """School venues whose opening is unknown, from the citywide row (0 without the column)."""
    if "n_school_venues_open_unknown" not in indicators:
        return 0
    rows = indicators.loc[indicators["district"] == CITYWIDE, "n_school_venues_open_unknown"]
    values = rows if len(rows) else indicators["n_school_venues_open_unknown"]
    return int(pd.to_numeric(values, errors="coerce").fillna(0).max())


def build_report(
    scorecard: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    scorecard_after: pd.DataFrame | None = None,
    indicators_after: pd.DataFrame | None = None,
    area_gap: pd.DataFrame | None = None,
    cells: gpd.GeoDataFrame | pd.DataFrame | None = None,
    cells_after: gpd.GeoDataFrame | pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    trails: gpd.GeoDataFrame | pd.DataFrame | None = None,
    trails_reached: float | None = None,
    before_after: pd.DataFrame | None = None,
    extra_tables: Mapping[str, pd.DataFrame] | None = None,
    language: Language = DEFAULT_LANGUAGE,
    title: str | None = None,
    synthetic: bool = True,
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH,
    chart_dir: str = "charts",
    notes: Sequence[str] = (),
) -> Report:
    """Build the planner's report from the study's tables.

    Every label a reader sees (headings, column headers, districts, kinds,
    units, target descriptions, citations) comes from :mod:`ordos_geo._labels`
    in ``language``; the tables keep their key columns, which stay the
    interface of the CSV files.

    Parameters
    ----------
    scorecard : pandas.DataFrame
        From :func:`ordos_geo.indicators.scorecard`: ``key``, ``description``,
        ``target``, ``value``, ``unit``, ``met``, ``gap`` (extra columns are shown too).
    indicators : pandas.DataFrame
        One row per district plus ``"citywide"``: ``district``, ``population``,
        ``per_capita_area_m2``, ``share_within_<t>m`` (shares 0-1), ...
        Districts with neither residents nor venues are left out of every table.
    scorecard_after : pandas.DataFrame, optional
        The scorecard with the plan built (new sites and trails counted); shown
        first when given, today's scorecard after it.
    indicators_after : pandas.DataFrame, optional
        Indicators with the plan built, for the per-district area chart.
    area_gap : pandas.DataFrame, optional
        From :func:`ordos_geo.indicators.area_gap`: the "gap to target" section
        (area still missing per district and citywide, and each lever's part).
    cells : geopandas.GeoDataFrame, optional
        Cells with ``population`` and ``dist_m_any`` (metres; inf = unreachable)
        for the population-weighted distance histogram; without it the chart
        shows the citywide share per distance band from ``indicators``.
    cells_after : geopandas.GeoDataFrame, optional
        The same cells with the plan built, drawn beside ``cells`` in the histogram.
    sites : geopandas.GeoDataFrame, optional
        The chosen sites (rank, candidate_id, name, newly_covered_population, ...).
    trails : geopandas.GeoDataFrame, optional
        Planned or checked trails; ``length_m`` is added from a projected geometry if absent.
    trails_reached : float, optional
        The underserved residents the planned trails reach together
        (:attr:`ordos_geo.trails.TrailPlan.population_reached`: each resident once,
        where the reach of two trails overlaps); said under the trail table.
    before_after : pandas.DataFrame, optional
        ``district``, ``indicator``, ``before``, ``after``, ``change`` (see
        :func:`ordos_geo.pipeline.before_after_table`).
    extra_tables : mapping of str to pandas.DataFrame, optional
        Further sections, each under the heading its key names in
        :data:`ordos_geo._labels.TEXT` (``"school_opening_districts"``,
        ``"school_opening"``, ``"planner_targets"``, ``"scenarios"`` for the
        evenings and winter coverage, ``"older_residents"``), shown after the
        other tables.
    language : {"zh", "en"}
        Language of every label (charts fall back to English when no CJK font
        is installed).
    title : str, optional
        Report title.
    synthetic : bool
        State that the data are a synthetic sample.
    walk_speed_kmh : float
        Walking speed for the minutes axis of the histogram.
    chart_dir : str
        Folder, relative to the Markdown file, where the caller saves the charts.
    notes : sequence of str
        One line per warning or skipped part of the run (what, why and the
        fix), shown near the top.

    Returns
    -------
    Report
        HTML, Markdown, the charts, and ``tables``: the report's tables with
        their key columns, for the Excel workbook and the Word document.

    Examples
    --------
    >>> from ordos_geo import report
    >>> import pandas as pd
    >>> card = pd.DataFrame({"key": ["per_capita_area_2024"], "description": ["per-capita area"],
    ...                      "target": [3.4], "value": [2.9], "unit": ["m2_per_capita"], "met": [False]})
    >>> rows = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [10.0, 10.0]})
    >>> "东胜区" in report.build_report(card, rows, language="zh").html
    True
    """
    language = label_table.check_language(language, where="build_report")
    scorecard = _check_table(scorecard, "scorecard", ("key", "target", "value", "met"))
    if scorecard_after is not None:
        scorecard_after = _check_table(scorecard_after, "scorecard_after", ("key", "target", "value", "met"))
    indicators = _check_table(indicators, "indicators", ("district",))
    empty = _empty_districts(indicators)
    indicators = _without(indicators, empty)
    if indicators_after is not None:
        indicators_after = _without(_check_table(indicators_after, "indicators_after", ("district",)), empty)
    text = label_table.text(language)
    charts = _charts(indicators, indicators_after, cells, cells_after, language=language, walk_speed_kmh=walk_speed_kmh)
    captions = (text["chart_area"], text["chart_coverage"], text["chart_distance"])

    blocks: list[Block] = []
    tables: dict[str, pd.DataFrame] = {}

    def table(heading: str, frame: pd.DataFrame, sheet: str) -> None:
        blocks.append(("h2", heading))
        blocks.append(("table", frame) if len(frame) else ("p", text["none"]))
        tables[sheet] = frame

    if synthetic:
        blocks.append(("note", text["synthetic"]))
    # skipped parts and warnings of the run come first, one note each
    blocks += [("note", f"{text['notes']}: {note}") for note in notes]
    unknown_schools = _unknown_school_venues(indicators)
    if unknown_schools:
        blocks.append(("note", text["schools_unknown"].format(n=unknown_schools)))
    if scorecard_after is not None:
        table(text["scorecard_plan"], _scorecard_plan_table(scorecard, scorecard_after), "scorecard_plan")
    else:
        table(text["scorecard"], scorecard, "scorecard")
    table(text["districts"], _district_table(indicators), "indicators")
    if area_gap is not None:
        blocks += _gap_section(_without(_check_table(area_gap, "area_gap", _GAP_COLUMNS), empty), tables, language)
    blocks.append(("h2", text["charts"]))
    blocks += [("figure", name, caption) for name, caption in zip(charts, captions, strict=True)]
    if sites is not None:
        table(text["sites"], _site_table(sites), "sites")
    if trails is not None:
        trail_table = _trail_table(trails)
        table(text["trails"], trail_table, "trails")
        blocks += _trails_total(trail_table, trails_reached, text)
        blocks += _trails_bound(trail_table, trails_reached, language)
    if before_after is not None:
        table(text["before_after"], _without(before_after, empty), "before_after")
    for key, frame in (extra_tables or {}).items():
        if key not in text:
            msg = f"build_report: no heading for table {key!r}; add it to ordos_geo._labels.TEXT"
            raise InputDataError(msg)
        table(text[key], _without(_table_frame(frame), empty), key)
    blocks += [("p", line) for line in (_citation(scorecard, language), text["sources"]) if line]

    page_title = title if title is not None else text["title"]
    return Report(
        html=_render_html(page_title, blocks, charts, language),
        markdown=_render_markdown(page_title, blocks, language, chart_dir),
        charts=charts,
        tables=tables,
        blocks=tuple(blocks),
        title=page_title,
        language=language,
    )


#: The columns an ``area_gap`` table needs (:func:`ordos_geo.indicators.area_gap`).
_GAP_COLUMNS = ("district", "year", "lever", "area_added_m2", "missing_after_m2")


def _gap_section(area_gap: pd.DataFrame, tables: dict[str, pd.DataFrame], language: Language) -> list[Block]:
    """The "gap to target" section: its summary and two tables (added to ``tables`` as ``gap`` and ``gap_levers``)."""
    text = label_table.text(language)
    per_district, levers = _gap_tables(area_gap)
    tables["gap"], tables["gap_levers"] = per_district, levers
    return [
        ("h2", text["gap"]),
        ("p", text["gap_intro"]),
        *[("p", line) for line in _gap_summary(per_district, language)],
        ("h3", text["gap_districts"]),
        ("table", per_district),
        ("h3", text["gap_levers"]),
        ("table", levers),
    ]


def _trails_total(trail_table: pd.DataFrame, trails_reached: float | None, text: Mapping[str, str]) -> list[Block]:
    """The line under the trail table: how many trails, how long, and the underserved residents they reach."""
    if trails_reached is None or not len(trail_table) or "length_m" not in trail_table:
        return []
    length, reached = f"{trail_table['length_m'].sum():,.0f}", f"{trails_reached:,.0f}"
    return [("p", text["trails_total"].format(n=len(trail_table), length=length, reached=reached))]


def _trails_bound(trail_table: pd.DataFrame, trails_reached: float | None, language: Language) -> list[Block]:
    """The line on the plan's upper bound: what no plan can beat, the gap, and what the gap means."""
    columns = ("upper_bound", "gap", "bound_shape", "network_shape_reached")
    if trails_reached is None or not len(trail_table) or any(c not in trail_table for c in columns):
        return []
    row = trail_table.iloc[0]
    bound = float(row["upper_bound"])
    if not np.isfinite(bound) or bound <= 0:
        return []
    text = label_table.text(language)
    line = text["trails_bound"].format(
        bound=f"{bound:,.0f}",
        shape=text.get(f"bound_for_{row['bound_shape']}", str(row["bound_shape"])),
        reached=f"{trails_reached:,.0f}",
        share=f"{trails_reached / bound:.1%}",
        gap=f"{float(row['gap']):.1%}",
        network=f"{float(row['network_shape_reached']):,.0f}",
    )
    return [("p", line)]


def _scorecard_plan_table(scorecard: pd.DataFrame, scorecard_after: pd.DataFrame) -> pd.DataFrame:
    """Each target with its value and status today and after the plan (the two scorecards side by side)."""
    for name, frame in (("scorecard", scorecard), ("scorecard_after", scorecard_after)):
        if "status" not in frame.columns:
            msg = f"build_report: {name} has no `status` column; make it with ordos_geo.indicators.scorecard"
            raise InputDataError(msg)
    both = scorecard_before_after(scorecard, scorecard_after)
    columns = ["key", "description", "year", "target", "value", "value_after", "unit", "status", "status_after"]
    return both[[*columns, "source"]]
