"""The planner's report: scorecard, district tables, sites, trails and charts, as HTML and Markdown.

:func:`build_report` returns a :class:`Report` holding a self-contained HTML page
(charts embedded as base64 PNG, no external resources), the same content as
Markdown (which references the chart files by relative path), and the PNG bytes
of each chart, for planners who paste figures into documents. Nothing is
written here: the caller saves ``report.html``, ``report.md`` and the charts
with :mod:`ordos_geo.io`.

Every value taken from the inputs is escaped (HTML in the page; HTML and table
pipes in the Markdown), so names from input files cannot inject markup.
Charts are drawn with Matplotlib's Agg canvas (no pyplot state) and saved without
timestamps, so the same inputs give byte-identical PNGs on one installation.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ordos_geo import _labels as label_table
from ordos_geo import settings
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._errors import InputDataError, MissingDependencyError
from ordos_geo.indicators import CITYWIDE, scorecard_before_after
from ordos_geo.settings import DEFAULT_LANGUAGE, DEFAULT_WALK_SPEED_KMH, Language

__all__ = [
    "CHART_NAMES",
    "Report",
    "build_report",
    "cell_text",
    "distance_band_shares",
    "distance_histogram",
    "html_table",
    "localize",
    "to_docx",
    "value_label",
    "workbook_sheets",
]

logger = logging.getLogger(__name__)

#: File names of the charts, in the order they appear.
CHART_NAMES: tuple[str, ...] = ("area_by_district.png", "coverage_by_district.png", "distance_distribution.png")

_SHARE_COLUMN = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")
_CJK_FONT_NAMES = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
_BAR_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


#: One piece of the report's content, see :attr:`Report.blocks`.
Block = tuple[Any, ...]


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


# --------------------------------------------------------------------------- formatting


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _is_share(column: str) -> bool:
    return column == "share" or column.startswith(("share", "open_share")) or column.endswith("_share")


#: Columns of people counts that do not say "population" in their key (``newly_covered``...).
_PEOPLE_COLUMNS = frozenset({"added", "upper_bound", "network_shape_reached"})


def _is_whole(column: str) -> bool:
    """People, metres and m² are shown whole (``849``, ``951 m``), as the planner reads them; per-resident m² not."""
    if "per_capita" in column:
        return False
    people = "population" in column or "covered" in column or "reached" in column or column in _PEOPLE_COLUMNS
    return people or column.endswith(("_m", "_m2"))


def _format_value(value: Any, column: str, text: Mapping[str, str]) -> str:
    """Plain (unescaped) text of one table cell; ``column`` is the key that decides the format."""
    if _is_missing(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        if column == "met":
            return "✓ " + text["met"] if value else "✗ " + text["not_met"]
        return "✓" if value else "✗"
    if isinstance(value, int | np.integer):
        return str(int(value)) if column == "year" else f"{int(value):,}"
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            return "∞" if number > 0 else "-∞"
        if _is_share(column):
            return f"{number:.1%}"
        if _is_whole(column) or abs(number) >= 1000:
            return f"{number:,.0f}"
        if number != 0 and abs(number) < 0.01:
            return f"{number:.4g}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def cell_text(value: Any, column: str, language: str) -> str:
    """A value as the report's tables write it in ``language`` (plain text, not escaped), by its column key.

    Shares as percentages (``share_of_network_shape`` 0.885 -> ``88.5%``), people, metres and m² whole,
    yes/no as ✓/✗: map popups use it so that a figure reads the same on the map as in the report.

    Examples
    --------
    >>> from ordos_geo import report
    >>> report.cell_text(0.88496, "share_of_network_shape", "zh"), report.cell_text(13220.0, "population_reached", "zh")
    ('88.5%', '13,220')
    """
    return _format_value(value, column, label_table.text(label_table.check_language(language, where="cell_text")))


def _table_frame(frame: pd.DataFrame | gpd.GeoDataFrame) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


#: Columns whose values are keys a reader sees translated: column -> label lookup.
_VALUE_LABELS: Mapping[str, Any] = {
    "district": label_table.district,
    "kind": label_table.kind,
    "site_type": label_table.kind,
    "land_type": label_table.land_type,
    "unit": label_table.unit,
    "source": label_table.source,
    "indicator": label_table.column,
    "served": label_table.column,
    "lever": label_table.lever,
    "shape": label_table.trail_shape,
    "bound_shape": label_table.trail_shape,
    "status": label_table.status,
    "status_after": label_table.status,
}


def value_label(value: str, column: str, language: str) -> str:
    """A cell holding a key (district, kind, unit, trail shape, status, ...) as a reader of ``language`` sees it.

    Keys are translated by their column, as :func:`localize` does for the
    report's tables; other text is returned unchanged. Map popups use it so
    that a value reads the same on the map as in the report.

    Examples
    --------
    >>> from ordos_geo import report
    >>> report.value_label("loop", "shape", "zh"), report.value_label("Dongsheng", "district", "zh")
    ('环线（闭合）', '东胜区')
    >>> report.value_label("北城健身步道", "name", "en")
    '北城健身步道'
    """
    lookup = _VALUE_LABELS.get(column)
    return lookup(value, label_table.check_language(language, where="value_label")) if lookup else value


def localize(frame: pd.DataFrame | gpd.GeoDataFrame, language: str) -> pd.DataFrame:
    """A table as a reader of ``language`` sees it, values still numbers and columns still keys.

    Districts, kinds, units, plan citations, indicator, lever and trail shape names are
    translated with :mod:`ordos_geo._labels`; a scorecard's ``description`` is
    taken from its ``key`` (kept as given for targets the label table does not
    know) and the ``key`` column is dropped. A geometry column is dropped.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
    language : {"zh", "en"}

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> card = pd.DataFrame({"key": ["per_capita_area_2024"], "description": ["per-capita area"], "target": [3.4],
    ...                      "value": [2.9], "unit": ["m2_per_capita"], "met": [False]})
    >>> localize(card, "zh")
      description  target  value  unit    met
    0    人均体育场地面积     3.4    2.9  m²/人  False
    """
    language = label_table.check_language(language, where="report")
    out = _table_frame(frame).copy()
    for column, lookup in _VALUE_LABELS.items():
        if column in out.columns:
            out[column] = [value if _is_missing(value) else lookup(str(value), language) for value in out[column]]
    if "key" in out.columns and "description" in out.columns:
        out["description"] = [
            label_table.target(str(key), language, default=str(description))
            for key, description in zip(out["key"], out["description"], strict=True)
        ]
        out = out.drop(columns="key")
    if "status" in out.columns:  # the status says met / not met / unknown / not computed: the flag would repeat it
        out = out.drop(columns=[c for c in ("met", "met_after") if c in out.columns])
    return out


def _format_key(frame: pd.DataFrame, row: pd.Series, column: str) -> str:
    """The key deciding how a cell is formatted: per row in long tables (indicator, unit)."""
    if column in ("before", "after", "change") and "indicator" in frame.columns:
        return str(row.get("_indicator_key", row["indicator"]))
    if (
        column in ("target", "value", "gap", "value_after", "gap_after")
        and row.get("_unit_key", row.get("unit")) == "share"
    ):
        return "share"
    if column == "gap" and "upper_bound" in frame.columns:  # a trail plan's gap to its bound: a share of it
        return "share"
    return column


def _display_rows(
    frame: pd.DataFrame | gpd.GeoDataFrame, language: str
) -> tuple[list[str], list[list[str]], list[Any]]:
    """Headers, cell texts and the ``met`` flag of each row of a table, in ``language``."""
    raw = _table_frame(frame)
    table = localize(raw, language)
    if "indicator" in raw.columns:
        table["_indicator_key"] = raw["indicator"].to_numpy()
    if "unit" in raw.columns:
        table["_unit_key"] = raw["unit"].to_numpy()
    text = label_table.text(language)
    columns = [c for c in table.columns if not str(c).startswith("_")]
    rows, met = [], []
    for _, row in table.iterrows():
        rows.append([_format_value(row[c], _format_key(table, row, str(c)), text) for c in columns])
        met.append(row["met"] if "met" in table.columns else None)
    if "met" in raw.columns and "met" not in table.columns:  # shown as its status: the row is still coloured
        met = raw["met"].tolist()
        if "status" in raw.columns:  # a target without a value, or a measure without a target: not coloured
            scored = ("met", "not_met")
            met = [flag if status in scored else None for flag, status in zip(met, raw["status"], strict=True)]
    return [label_table.column(str(c), language) for c in columns], rows, met


def html_table(frame: pd.DataFrame, language: str, *, css_class: str | None = None) -> str:
    """Render a table as escaped HTML in ``language`` (every header and cell escaped; ``met`` rows classed).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table with key columns (a geometry column is dropped); headers and
        key values are translated by :func:`localize`.
    language : {"zh", "en"}
        Language of headers and labels.
    css_class : str, optional
        ``class`` attribute of the table.

    Examples
    --------
    >>> rows = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [172273.0, 172273.0]})
    >>> html_table(rows, "zh")[:60]
    '<table><thead><tr><th>旗区</th><th>人口</th></tr></thead><tbody>'
    """
    headers, rows, met = _display_rows(frame, language)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in headers)
    body = []
    for cells, flag in zip(rows, met, strict=True):
        css = ""
        if isinstance(flag, bool | np.bool_):
            css = ' class="met"' if flag else ' class="not-met"'
        body.append(f"<tr{css}>{''.join(f'<td>{html.escape(c)}</td>' for c in cells)}</tr>")
    attribute = f' class="{html.escape(css_class)}"' if css_class else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _md_cell(value: str) -> str:
    return html.escape(value, quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _md_table(frame: pd.DataFrame, language: str) -> str:
    headers, rows, _ = _display_rows(frame, language)
    lines = ["| " + " | ".join(_md_cell(c) for c in headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(_md_cell(c) for c in cells) + " |" for cells in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- charts


def _cjk_font() -> str | None:
    for entry in font_manager.fontManager.ttflist:
        if any(name.lower() in entry.name.lower() for name in _CJK_FONT_NAMES):
            return entry.name
    return None


def _share_columns(indicators: pd.DataFrame) -> list[tuple[float, str]]:
    found = []
    for column in indicators.columns:
        match = _SHARE_COLUMN.match(str(column))
        if match:
            found.append((float(match.group(1)), str(column)))
    return sorted(found)


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _coverage_chart(indicators: pd.DataFrame, language: str, font: str | None) -> bytes:
    text = label_table.text(language)
    shares = _share_columns(indicators)
    figure = Figure(figsize=(7.5, 4.0))
    axes = figure.add_subplot()
    districts = [label_table.district(str(d), language) for d in indicators["district"]]
    positions = np.arange(len(districts))
    width = 0.8 / max(len(shares), 1)
    for i, (threshold, column) in enumerate(shares):
        values = indicators[column].to_numpy(dtype=float)
        axes.bar(
            positions + (i - (len(shares) - 1) / 2) * width,
            np.nan_to_num(values, nan=0.0),
            width,
            label=text["within"].format(t=f"{threshold:,.0f}"),
            color=_BAR_COLORS[min(i, len(_BAR_COLORS) - 1)],
            edgecolor="#333333",
            linewidth=0.5,
        )
    axes.set_xticks(positions, districts, fontfamily=font or "sans-serif")
    axes.set_ylim(0, 1)
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.set_ylabel(text["share"], fontfamily=font or "sans-serif")
    axes.set_title(text["chart_coverage"], fontfamily=font or "sans-serif")
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    if shares:
        axes.legend(prop={"family": font or "sans-serif", "size": 8}, loc="upper left", ncols=len(shares))
    figure.tight_layout()
    return _png(figure)


def distance_histogram(
    cells: gpd.GeoDataFrame | pd.DataFrame, *, bin_m: float = 250.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """Population per walking-distance bin, for the distance chart.

    Parameters
    ----------
    cells : DataFrame
        ``population`` and ``dist_m_any`` (metres; inf or NaN = unreachable).
    bin_m : float
        Bin width in metres; bins start at 0 and reach at least 2,500 m.

    Returns
    -------
    edges : numpy.ndarray
        Bin edges (m).
    population : numpy.ndarray
        Population per bin (reachable cells).
    unreachable : float
        Population of unreachable cells.

    Examples
    --------
    >>> cells = pd.DataFrame({"population": [100.0, 50.0, 20.0], "dist_m_any": [120.0, 800.0, np.inf]})
    >>> edges, population, unreachable = distance_histogram(cells, bin_m=500.0)
    >>> edges.tolist(), population.tolist(), unreachable
    ([0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0], [100.0, 50.0, 0.0, 0.0, 0.0], 20.0)
    """
    distances = cells[dist_column(ANY_KIND)].to_numpy(dtype=float)
    weights = cells["population"].to_numpy(dtype=float)
    reachable = np.isfinite(distances)
    farthest = float(np.max(distances[reachable], initial=0.0))
    top = max(2500.0, float(np.floor(farthest / bin_m) + 1) * bin_m)
    edges = np.arange(0.0, top + bin_m / 2, bin_m)
    counts, _ = np.histogram(distances[reachable], bins=edges, weights=weights[reachable])
    return edges, counts, float(weights[~reachable].sum())


def distance_band_shares(indicators: pd.DataFrame) -> tuple[list[str], list[float]]:
    """Citywide population share per distance band, from the cumulative ``share_within_<t>m`` columns.

    Returns
    -------
    labels : list of str
        ``"0–300"``, ``"300–500"``, ..., ``"> 1,000"`` (metres).
    shares : list of float
        Share of the population in each band (sums to 1 when the shares are known).

    Examples
    --------
    >>> shares = pd.DataFrame({"district": ["citywide"], "share_within_300m": [0.5], "share_within_500m": [0.7],
    ...                        "share_within_1000m": [0.9]})
    >>> labels, values = distance_band_shares(shares)
    >>> labels, [round(value, 2) for value in values]
    (['0–300', '300–500', '500–1,000', '> 1,000'], [0.5, 0.2, 0.2, 0.1])
    """
    row = indicators.loc[indicators["district"] == "citywide"]
    row = row.iloc[0] if len(row) else indicators.iloc[-1]
    labels, values, previous, lower = [], [], 0.0, 0.0
    for threshold, column in _share_columns(indicators):
        value = float(row[column]) if not _is_missing(row[column]) else previous
        labels.append(f"{lower:,.0f}–{threshold:,.0f}")
        values.append(max(value - previous, 0.0))
        previous, lower = value, threshold
    labels.append(f"> {lower:,.0f}")
    values.append(max(1.0 - previous, 0.0))
    return labels, values


def _distance_chart(
    indicators: pd.DataFrame,
    cells: gpd.GeoDataFrame | pd.DataFrame | None,
    text: Mapping[str, str],
    font: str | None,
    walk_speed_kmh: float,
    cells_after: gpd.GeoDataFrame | pd.DataFrame | None = None,
) -> bytes:
    figure = Figure(figsize=(7.5, 3.6))
    axes = figure.add_subplot()
    family = font or "sans-serif"
    metres_per_minute = walk_speed_kmh * 1000.0 / 60.0
    if cells is not None:
        if cells_after is not None:
            series = [(text["plan_before"], cells, "#bdbdbd"), (text["plan_after"], cells_after, "#2166ac")]
        else:
            series = [(text["plan_before"], cells, "#4393c3")]
        histograms = [(label, color, *distance_histogram(frame)) for label, frame, color in series]
        top = max(float(h[2][-1]) for h in histograms)
        width = 250.0 / len(histograms)
        for i, (label, color, _edges, counts, unreachable) in enumerate(histograms):
            # every series on the same bins (the widest range), side by side within each bin
            edges_all = np.arange(0.0, top + 125.0, 250.0)
            padded = np.zeros(len(edges_all) - 1)
            padded[: len(counts)] = counts
            axes.bar(
                edges_all[:-1] + i * width,
                padded,
                width=width,
                align="edge",
                color=color,
                edgecolor="#333333",
                linewidth=0.4,
                label=label if len(histograms) > 1 else None,
            )
            gap_x = top + 250.0  # unreachable bar, one bin apart
            if unreachable > 0:
                axes.bar(
                    [gap_x + i * width],
                    [unreachable],
                    width=width,
                    align="edge",
                    color="#d73027",
                    edgecolor="#333333",
                    linewidth=0.4,
                )
                axes.annotate(
                    text["unreachable"],
                    (gap_x + 125.0, unreachable),
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    fontfamily=family,
                )
        axes.set_ylabel(text["population"], fontfamily=family)
        axes.set_xlabel(text["distance"], fontfamily=family)
        axes.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
        secondary = axes.secondary_xaxis(
            "top", functions=(lambda m: np.asarray(m) / metres_per_minute, lambda t: np.asarray(t) * metres_per_minute)
        )
        secondary.set_xlabel(text["minutes"], fontfamily=family)
        if len(histograms) > 1:
            axes.legend(prop={"family": family, "size": 8}, loc="upper right")
    else:
        # Without cells: the citywide population share per distance band, from the tier shares.
        labels, values = distance_band_shares(indicators)
        colors = [_BAR_COLORS[min(i, len(_BAR_COLORS) - 1)] for i in range(len(values) - 1)] + [_BAR_COLORS[-1]]
        axes.bar(labels, values, color=colors, edgecolor="#333333", linewidth=0.5)
        axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
        axes.set_ylabel(text["share"], fontfamily=family)
        axes.set_xlabel(text["distance"], fontfamily=family)
    axes.set_title(text["chart_distance"], fontfamily=family)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    figure.tight_layout()
    return _png(figure)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as floats (NaN where missing or not a number; all NaN when the column is absent)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _target(key: str) -> settings.PlanTarget | None:
    return next((t for t in settings.PLAN_TARGETS if t.key == key), None)


def _area_chart(
    indicators: pd.DataFrame, indicators_after: pd.DataFrame | None, language: str, font: str | None
) -> bytes:
    """Per-district bars: venue area per resident (before/after) against the m² targets; open-school share vs 60 %."""
    text = label_table.text(language)
    family = font or "sans-serif"
    figure = Figure(figsize=(7.5, 3.8))
    left, right = figure.subplots(1, 2, width_ratios=(3, 2))
    districts = [str(d) for d in indicators["district"]]
    names = [label_table.district(d, language) for d in districts]
    positions = np.arange(len(districts))
    series = [(text["plan_before"], indicators, "#bdbdbd")]
    if indicators_after is not None:
        after = indicators_after.set_index("district").reindex(districts).reset_index()
        series.append((text["plan_after"], after, "#2166ac"))
    width = 0.8 / len(series)
    for i, (label, frame, color) in enumerate(series):
        values = _numbers(frame, "per_capita_area_m2")
        left.bar(
            positions + (i - (len(series) - 1) / 2) * width,
            np.nan_to_num(values),
            width,
            label=label,
            color=color,
            edgecolor="#333333",
            linewidth=0.5,
        )
    for target, style in ((_target("per_capita_area_2024"), "-"), (_target("per_capita_area_2025"), "--")):
        if target is not None:
            left.axhline(
                target.target,
                color="#d73027",
                linestyle=style,
                linewidth=1.2,
                label=text["target_line"].format(v=f"{target.target:g}", year=target.year),
            )
    left.set_xticks(positions, names, fontfamily=family, fontsize=8)
    left.set_ylabel(text["area_per_capita"], fontfamily=family)
    left.legend(prop={"family": family, "size": 7}, loc="upper left")
    school = _target("open_school_share")
    values = _numbers(indicators, "open_school_share")
    right.bar(positions, np.nan_to_num(values), 0.6, color="#91cf60", edgecolor="#333333", linewidth=0.5)
    if school is not None:
        right.axhline(school.target, color="#d73027", linewidth=1.2, label=text["share_line"].format(v=school.target))
        right.legend(prop={"family": family, "size": 7}, loc="upper left")
    right.set_ylim(0, 1)
    right.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    right.set_xticks(positions, names, fontfamily=family, fontsize=8)
    right.set_ylabel(label_table.column("open_school_share", language), fontfamily=family)
    for axes in (left, right):
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        axes.set_axisbelow(True)
    figure.suptitle(text["chart_area"], fontfamily=family, fontsize=11)
    figure.tight_layout()
    return _png(figure)


# --------------------------------------------------------------------------- report

_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.met td{background:#eef8ee}tr.not-met td{background:#fbeeee}
.note{color:#8a4b00;background:#fff6e5;padding:.5em 1em;border-left:4px solid #e0a030}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
"""


def _check_table(frame: Any, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        msg = f"build_report: `{name}` must be a DataFrame, got {type(frame).__name__}"
        raise InputDataError(msg)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        columns = ", ".join(f"`{c}`" for c in missing)
        msg = f"build_report: `{name}` lacks column(s) {columns}; present: {list(frame.columns)}"
        raise InputDataError(msg)
    return frame


def _trail_table(trails: gpd.GeoDataFrame) -> pd.DataFrame:
    table = _table_frame(trails).copy()
    if "length_m" not in table.columns and isinstance(trails, gpd.GeoDataFrame) and trails.crs is not None:
        if trails.crs.is_projected:
            table["length_m"] = trails.geometry.length.to_numpy()
    return table


def _empty_districts(indicators: pd.DataFrame) -> set[str]:
    """Districts with neither residents nor venues in the study (e.g. banners outside the sample)."""
    if "population" not in indicators.columns:
        return set()
    empty = pd.to_numeric(indicators["population"], errors="coerce").fillna(0).eq(0)
    if "venue_area_m2" in indicators.columns:
        empty &= pd.to_numeric(indicators["venue_area_m2"], errors="coerce").fillna(0).eq(0)
    empty &= indicators["district"].astype(str) != "citywide"
    return set(indicators.loc[empty, "district"].astype(str))


def _without(frame: pd.DataFrame, districts: set[str]) -> pd.DataFrame:
    if "district" not in frame.columns or not districts:
        return frame
    return frame.loc[~frame["district"].astype(str).isin(districts)].reset_index(drop=True)


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


def _charts(
    indicators: pd.DataFrame,
    indicators_after: pd.DataFrame | None,
    cells: gpd.GeoDataFrame | pd.DataFrame | None,
    cells_after: gpd.GeoDataFrame | pd.DataFrame | None,
    *,
    language: Language,
    walk_speed_kmh: float,
) -> dict[str, bytes]:
    """The report's charts (PNG) by :data:`CHART_NAMES`, labelled in ``language`` or English without a CJK font."""
    for name, frame in (("cells", cells), ("cells_after", cells_after)):
        if frame is not None:
            _check_table(frame, name, ("population", dist_column(ANY_KIND)))
    font = _cjk_font() if language == "zh" else None
    chart_language = language if (language == "en" or font is not None) else "en"
    if language == "zh" and font is None:
        logger.info("report: no CJK font installed; chart labels are in English")
    chart_text = label_table.text(chart_language)
    return {
        CHART_NAMES[0]: _area_chart(indicators, indicators_after, chart_language, font),
        CHART_NAMES[1]: _coverage_chart(indicators, chart_language, font),
        CHART_NAMES[2]: _distance_chart(indicators, cells, chart_text, font, walk_speed_kmh, cells_after),
    }


def _scorecard_plan_table(scorecard: pd.DataFrame, scorecard_after: pd.DataFrame) -> pd.DataFrame:
    """Each target with its value and status today and after the plan (the two scorecards side by side)."""
    for name, frame in (("scorecard", scorecard), ("scorecard_after", scorecard_after)):
        if "status" not in frame.columns:
            msg = f"build_report: {name} has no `status` column; make it with ordos_geo.indicators.scorecard"
            raise InputDataError(msg)
    both = scorecard_before_after(scorecard, scorecard_after)
    columns = ["key", "description", "year", "target", "value", "value_after", "unit", "status", "status_after"]
    return both[[*columns, "source"]]


def _render_html(title: str, blocks: list[Block], charts: Mapping[str, bytes], language: str) -> str:
    parts = [
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for block in blocks:
        kind = block[0]
        if kind == "table":
            parts.append(html_table(block[1], language))
        elif kind == "figure":
            name, caption = block[1], block[2]
            encoded = base64.b64encode(charts[name]).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        elif kind == "note":
            parts.append(f'<p class="note">{html.escape(block[1])}</p>')
        else:
            parts.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _render_markdown(title: str, blocks: list[Block], language: str, chart_dir: str) -> str:
    lines = [f"# {_md_cell(title)}", ""]
    prefix = {"h2": "## ", "h3": "### ", "note": "> ", "p": ""}
    for block in blocks:
        kind = block[0]
        if kind == "table":
            lines += [_md_table(block[1], language), ""]
        elif kind == "figure":
            lines += [f"![{_md_cell(block[2])}]({chart_dir.rstrip('/')}/{block[1]})", ""]
        else:
            lines += [prefix[kind] + _md_cell(block[1]), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- Excel and Word


def _excel_format(column: str, values: pd.Series) -> str | None:
    if _is_share(column):
        return "0.0%"
    if column == "year" or column.endswith("_id") or column in ("rank", "plan_order"):
        return "0"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    return "#,##0.00"


def workbook_sheets(
    tables: Mapping[str, pd.DataFrame], language: str
) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """The study's tables as workbook sheets a reader of ``language`` opens: for :func:`ordos_geo.io.write_excel`.

    Sheet names, headers, districts, kinds, units, citations and yes/no are in
    ``language``; numbers stay numbers, with Excel number formats (percentages
    for shares). Districts with neither residents nor venues are left out.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Sheet key (``scorecard``, ``indicators``, ``before_after``, ``sites``,
        ``trails``, ``gap``, ... ; see ``_labels.TEXT["sheet_<key>"]``) -> table
        with key columns.
    language : {"zh", "en"}

    Returns
    -------
    sheets : dict of str to pandas.DataFrame
        Sheet name -> table with translated headers.
    number_formats : dict
        Sheet name -> {header: Excel number format}.

    Examples
    --------
    >>> rows = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [10.0, 10.0]})
    >>> sheets, number_formats = workbook_sheets({"indicators": rows}, "zh")
    >>> list(sheets), list(sheets["分区指标"].columns), number_formats
    (['分区指标'], ['旗区', '人口'], {'分区指标': {'人口': '#,##0.00'}})
    """
    language = label_table.check_language(language, where="workbook_sheets")
    text = label_table.text(language)
    empty = _empty_districts(tables["indicators"]) if "indicators" in tables else set()
    sheets: dict[str, pd.DataFrame] = {}
    formats: dict[str, dict[str, str]] = {}
    for key, frame in tables.items():
        raw = _without(_table_frame(frame), empty)
        table = localize(raw, language)
        for column in table.columns:
            flags = table[column].dropna()
            if len(flags) and flags.map(lambda v: isinstance(v, bool | np.bool_)).all():
                yes, no = (text["met"], text["not_met"]) if column == "met" else (text["yes"], text["no"])
                table[column] = [value if _is_missing(value) else (yes if value else no) for value in table[column]]
        name = text.get(f"sheet_{key}", key)
        sheets[name] = table.rename(columns=lambda c: label_table.column(str(c), language))
        formats[name] = {
            label_table.column(str(c), language): f
            for c in table.columns
            if (f := _excel_format(str(c), table[c])) is not None
        }
    return sheets, formats


def to_docx(report: Report) -> bytes:
    """The report as a Word document (A4, portrait): the same sections, tables and charts.

    Parameters
    ----------
    report : Report
        From :func:`build_report`.

    Returns
    -------
    bytes
        The ``.docx`` file; the caller writes it with :func:`ordos_geo.io.write_bytes`.

    Examples
    --------
    >>> import pandas as pd
    >>> card = pd.DataFrame({"key": ["five_ones"], "target": [5.0], "value": [5.0], "unit": ["count"], "met": [True]})
    >>> rows = pd.DataFrame({"district": ["citywide"], "population": [10.0]})
    >>> to_docx(build_report(card, rows))[:2]
    b'PK'
    """
    try:
        import docx
        from docx.shared import Mm
    except ImportError as error:  # pragma: no cover - python-docx is a dependency
        msg = "report.docx needs python-docx: pip install 'python-docx>=1.1'"
        raise MissingDependencyError(msg) from error

    document = docx.Document()
    _docx_page(document, report.title)
    for block in report.blocks:
        kind = block[0]
        if kind in ("h2", "h3"):
            document.add_heading(block[1], level=1 if kind == "h2" else 2)
        elif kind == "table":
            _docx_table(document, block[1], report.language)
        elif kind == "figure":
            document.add_picture(io.BytesIO(report.charts[block[1]]), width=Mm(170))
            document.add_paragraph(block[2], style="Caption")
        else:
            document.add_paragraph(block[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_page(document: Any, title: str) -> None:
    """A4 portrait, 20 mm margins, a Chinese font for every style, 10 pt text; the title as the first heading."""
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Caption"):
        style = document.styles[style_name]
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Microsoft YaHei")
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = title
    document.add_heading(title, level=0)


def _docx_table(document: Any, frame: pd.DataFrame, language: str) -> None:
    """One of the report's tables: bold headers, cells in 8 pt (7 pt when it has more than eight columns)."""
    from docx.shared import Pt

    headers, rows, _ = _display_rows(frame, language)
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    for j, header in enumerate(headers):
        table.cell(0, j).text = header
        for run in table.cell(0, j).paragraphs[0].runs:
            run.font.bold = True
    for i, cells in enumerate(rows, start=1):
        for j, value in enumerate(cells):
            table.cell(i, j).text = value
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(7 if len(headers) > 8 else 8)
