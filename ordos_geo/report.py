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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ordos_geo._errors import InputDataError
from ordos_geo.settings import DEFAULT_WALK_SPEED_KMH

__all__ = ["CHART_NAMES", "Report", "build_report", "distance_band_shares", "distance_histogram", "html_table"]

logger = logging.getLogger(__name__)

#: File names of the charts, in the order they appear.
CHART_NAMES: tuple[str, ...] = ("coverage_by_district.png", "distance_distribution.png")

_SHARE_COLUMN = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")
_CJK_FONT_NAMES = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
_BAR_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")

_TEXT: Mapping[str, Mapping[str, str]] = {
    "zh": {
        "title": "就近健身设施规划报告",
        "synthetic": "synthetic sample (合成样例)：本报告的路网、人口与设施为合成数据，仅供演示；行政边界为真实数据。",
        "scorecard": "规划目标评分卡",
        "districts": "分区指标",
        "charts": "图表",
        "sites": "选定新建设施",
        "trails": "健身步道",
        "before_after": "规划前后对比",
        "sources": "数据：OpenStreetMap 路网，行政区划边界，人口格网，体育设施清单。",
        "met": "达标",
        "not_met": "未达标",
        "chart_coverage": "各区步行可达人口比例",
        "chart_distance": "到最近设施的步行距离分布（按人口）",
        "share": "人口比例",
        "distance": "步行距离 (m)",
        "population": "人口",
        "unreachable": "不可达",
        "within": "{t} m 内",
        "minutes": "分钟",
        "none": "无",
    },
    "en": {
        "title": "Nearby-fitness facility planning report",
        "synthetic": "synthetic sample (合成样例): the network, population and facilities in this report are "
        "synthetic, for demonstration; the boundaries are real.",
        "scorecard": "Plan scorecard",
        "districts": "Indicators by district",
        "charts": "Charts",
        "sites": "Chosen new sites",
        "trails": "Fitness trails",
        "before_after": "Before and after the plan",
        "sources": "Data: OpenStreetMap walk network, district boundaries, population grid, sports facility inventory.",
        "met": "met",
        "not_met": "not met",
        "chart_coverage": "Population share within walking distance, by district",
        "chart_distance": "Walking distance to the nearest venue (population-weighted)",
        "share": "population share",
        "distance": "walking distance (m)",
        "population": "population",
        "unreachable": "unreachable",
        "within": "within {t} m",
        "minutes": "min",
        "none": "none",
    },
}


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
    """

    html: str
    markdown: str
    charts: dict[str, bytes] = field(default_factory=dict)


# --------------------------------------------------------------------------- formatting


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(float(value))


def _format_value(value: Any, column: str, text: Mapping[str, str]) -> str:
    """Plain (unescaped) text of one table cell."""
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
        if column.startswith("share") or column.endswith("_share"):
            return f"{number:.1%}"
        if column in ("population",) or abs(number) >= 1000:
            return f"{number:,.0f}"
        if number != 0 and abs(number) < 0.01:
            return f"{number:.4g}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def _table_frame(frame: pd.DataFrame | gpd.GeoDataFrame) -> pd.DataFrame:
    if isinstance(frame, gpd.GeoDataFrame):
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return frame


def html_table(frame: pd.DataFrame, text: Mapping[str, str], *, css_class: str | None = None) -> str:
    """Render a table as escaped HTML (every header and cell escaped; ``met`` rows classed).

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table (a geometry column is dropped).
    text : mapping
        Labels with ``met`` and ``not_met`` for the scorecard's ``met`` column.
    css_class : str, optional
        ``class`` attribute of the table.
    """
    frame = _table_frame(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        css = ""
        if "met" in frame.columns and isinstance(row["met"], bool | np.bool_):
            css = ' class="met"' if row["met"] else ' class="not-met"'
        cells = "".join(f"<td>{html.escape(_format_value(row[c], str(c), text))}</td>" for c in frame.columns)
        rows.append(f"<tr{css}>{cells}</tr>")
    attribute = f' class="{html.escape(css_class)}"' if css_class else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _md_cell(value: str) -> str:
    return html.escape(value, quote=False).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _md_table(frame: pd.DataFrame, text: Mapping[str, str]) -> str:
    frame = _table_frame(frame)
    header = "| " + " | ".join(_md_cell(str(c)) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(_md_cell(_format_value(row[c], str(c), text)) for c in frame.columns) + " |"
        for _, row in frame.iterrows()
    ]
    return "\n".join([header, rule, *rows])


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


def _coverage_chart(indicators: pd.DataFrame, text: Mapping[str, str], font: str | None) -> bytes:
    shares = _share_columns(indicators)
    figure = Figure(figsize=(7.5, 4.0))
    axes = figure.add_subplot()
    districts = [str(d) for d in indicators["district"]]
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
    """
    distances = cells["dist_m_any"].to_numpy(dtype=float)
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
) -> bytes:
    figure = Figure(figsize=(7.5, 3.6))
    axes = figure.add_subplot()
    family = font or "sans-serif"
    metres_per_minute = walk_speed_kmh * 1000.0 / 60.0
    if cells is not None:
        edges, counts, unreachable = distance_histogram(cells)
        gap_x = float(edges[-1]) + 250.0  # unreachable bar, one bin apart
        axes.bar(edges[:-1], counts, width=250.0, align="edge", color="#4393c3", edgecolor="#333333", linewidth=0.5)
        if unreachable > 0:
            axes.bar([gap_x], [unreachable], width=250.0, align="edge", color="#d73027", edgecolor="#333333")
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
            "top", functions=(lambda m: m / metres_per_minute, lambda t: t * metres_per_minute)
        )
        secondary.set_xlabel(text["minutes"], fontfamily=family)
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


def _drop_empty_districts(indicators: pd.DataFrame) -> pd.DataFrame:
    """Leave out districts with neither residents nor venues in the study (e.g. banners outside the sample)."""
    if "population" not in indicators.columns:
        return indicators
    empty = pd.to_numeric(indicators["population"], errors="coerce").fillna(0).eq(0)
    if "venue_area_m2" in indicators.columns:
        empty &= pd.to_numeric(indicators["venue_area_m2"], errors="coerce").fillna(0).eq(0)
    empty &= indicators["district"].astype(str) != "citywide"
    return indicators.loc[~empty].reset_index(drop=True)


def build_report(
    scorecard: pd.DataFrame,
    indicators: pd.DataFrame,
    *,
    cells: gpd.GeoDataFrame | pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | pd.DataFrame | None = None,
    trails: gpd.GeoDataFrame | pd.DataFrame | None = None,
    before_after: pd.DataFrame | None = None,
    language: Literal["zh", "en"] = "zh",
    title: str | None = None,
    synthetic: bool = True,
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH,
    chart_dir: str = "charts",
) -> Report:
    """Build the planner's report from the study's tables.

    Parameters
    ----------
    scorecard : pandas.DataFrame
        From :func:`ordos_geo.indicators.scorecard`: ``key``, ``description``,
        ``target``, ``value``, ``unit``, ``met``, ``gap`` (extra columns are shown too).
    indicators : pandas.DataFrame
        One row per district plus ``"citywide"``: ``district``, ``population``,
        ``per_capita_area_m2``, ``share_within_<t>m`` (shares 0-1), ...
    cells : geopandas.GeoDataFrame, optional
        Cells with ``population`` and ``dist_m_any`` (metres; inf = unreachable)
        for the population-weighted distance histogram; without it the chart
        shows the citywide share per distance band from ``indicators``.
    sites : geopandas.GeoDataFrame, optional
        The chosen sites (rank, candidate_id, name, newly_covered_population, ...).
    trails : geopandas.GeoDataFrame, optional
        Planned or checked trails; ``length_m`` is added from a projected geometry if absent.
    before_after : pandas.DataFrame, optional
        Indicators before and after the plan, shown as given.
    language : {"zh", "en"}
        Language of headings and chart labels (charts fall back to English when
        no CJK font is installed).
    title : str, optional
        Report title.
    synthetic : bool
        State that the data are a synthetic sample.
    walk_speed_kmh : float
        Walking speed for the minutes axis of the histogram.
    chart_dir : str
        Folder, relative to the Markdown file, where the caller saves the charts.

    Returns
    -------
    Report
    """
    if language not in _TEXT:
        msg = f"build_report: unknown language {language!r}; use 'zh' or 'en'"
        raise InputDataError(msg)
    scorecard = _check_table(scorecard, "scorecard", ("key", "target", "value", "met"))
    indicators = _check_table(indicators, "indicators", ("district",))
    indicators = _drop_empty_districts(indicators)
    if cells is not None:
        _check_table(cells, "cells", ("population", "dist_m_any"))
    text = _TEXT[language]
    font = _cjk_font() if language == "zh" else None
    chart_text = text if (language == "en" or font is not None) else _TEXT["en"]
    if language == "zh" and font is None:
        logger.info("report: no CJK font installed; chart labels are in English")
    charts = {
        CHART_NAMES[0]: _coverage_chart(indicators, chart_text, font),
        CHART_NAMES[1]: _distance_chart(indicators, cells, chart_text, font, walk_speed_kmh),
    }
    page_title = title if title is not None else text["title"]
    sections: list[tuple[str, pd.DataFrame | None]] = [
        (text["scorecard"], scorecard),
        (text["districts"], indicators),
    ]
    extra: list[tuple[str, pd.DataFrame]] = []
    if sites is not None:
        extra.append((text["sites"], _table_frame(sites)))
    if trails is not None:
        extra.append((text["trails"], _trail_table(trails)))
    if before_after is not None:
        extra.append((text["before_after"], before_after))

    html_parts = [
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(page_title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(page_title)}</h1>",
    ]
    md_parts = [f"# {_md_cell(page_title)}", ""]
    if synthetic:
        html_parts.append(f'<p class="note">{html.escape(text["synthetic"])}</p>')
        md_parts += [f"> {_md_cell(text['synthetic'])}", ""]
    for heading, frame in sections:
        html_parts.append(f"<h2>{html.escape(heading)}</h2>{html_table(frame, text)}")
        md_parts += [f"## {_md_cell(heading)}", "", _md_table(frame, text), ""]
    html_parts.append(f"<h2>{html.escape(text['charts'])}</h2>")
    md_parts += [f"## {_md_cell(text['charts'])}", ""]
    captions = (text["chart_coverage"], text["chart_distance"])
    for (name, png), caption in zip(charts.items(), captions, strict=True):
        encoded = base64.b64encode(png).decode("ascii")
        html_parts.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
        md_parts += [f"![{_md_cell(caption)}]({chart_dir.rstrip('/')}/{name})", ""]
    for heading, frame in extra:
        body = html_table(frame, text) if len(frame) else f"<p>{html.escape(text['none'])}</p>"
        html_parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
        md_parts += [f"## {_md_cell(heading)}", "", _md_table(frame, text) if len(frame) else text["none"], ""]
    html_parts.append(f"<p>{html.escape(text['sources'])}</p></body></html>\n")
    md_parts += [_md_cell(text["sources"]), ""]
    return Report(html="".join(html_parts), markdown="\n".join(md_parts), charts=charts)
