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

from ordos_geo import _labels as label_table
from ordos_geo._errors import InputDataError
from ordos_geo.indicators import CITYWIDE
from ordos_geo.settings import DEFAULT_WALK_SPEED_KMH

__all__ = [
    "CHART_NAMES",
    "Report",
    "build_report",
    "distance_band_shares",
    "distance_histogram",
    "html_table",
    "localize",
]

logger = logging.getLogger(__name__)

#: File names of the charts, in the order they appear.
CHART_NAMES: tuple[str, ...] = ("coverage_by_district.png", "distance_distribution.png")

_SHARE_COLUMN = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")
_CJK_FONT_NAMES = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
_BAR_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


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


def _is_share(column: str) -> bool:
    return column == "share" or column.startswith("share") or column.endswith("_share")


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


#: Columns whose values are keys a reader sees translated: column -> label lookup.
_VALUE_LABELS: Mapping[str, Any] = {
    "district": label_table.district,
    "kind": label_table.kind,
    "site_type": label_table.kind,
    "unit": label_table.unit,
    "source": label_table.source,
    "indicator": label_table.column,
    "lever": label_table.lever,
}


def localize(frame: pd.DataFrame | gpd.GeoDataFrame, language: str) -> pd.DataFrame:
    """A table as a reader of ``language`` sees it, values still numbers and columns still keys.

    Districts, kinds, units, plan citations, indicator and lever names are
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
    return out


def _format_key(frame: pd.DataFrame, row: pd.Series, column: str) -> str:
    """The key deciding how a cell is formatted: per row in long tables (indicator, unit)."""
    if column in ("before", "after", "change") and "indicator" in frame.columns:
        return str(row.get("_indicator_key", row["indicator"]))
    if column in ("target", "value", "gap") and row.get("_unit_key", row.get("unit")) == "share":
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
    ("share_covered_service", "n_facilities"),
)


def _district_table(indicators: pd.DataFrame) -> pd.DataFrame:
    head, tail = ([c for c in part if c in indicators.columns] for part in _DISTRICT_COLUMNS)
    return indicators[[*head, *(column for _, column in _share_columns(indicators)), *tail]]


#: Columns of the chosen-sites table in the report (the full table is in ``sites.gpkg`` and the workbook).
_SITE_COLUMNS = (
    "plan_order",
    "rank",
    "name",
    "kind",
    "district",
    "newly_covered_population",
    "added_venue_area_m2",
    "distance_to_nearest_same_kind_m",
)


def _site_table(sites: pd.DataFrame | gpd.GeoDataFrame) -> pd.DataFrame:
    table = _table_frame(sites)
    columns = [c for c in _SITE_COLUMNS if c in table.columns]
    return table[columns] if "name" in columns else table


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
    cells : geopandas.GeoDataFrame, optional
        Cells with ``population`` and ``dist_m_any`` (metres; inf = unreachable)
        for the population-weighted distance histogram; without it the chart
        shows the citywide share per distance band from ``indicators``.
    sites : geopandas.GeoDataFrame, optional
        The chosen sites (rank, candidate_id, name, newly_covered_population, ...).
    trails : geopandas.GeoDataFrame, optional
        Planned or checked trails; ``length_m`` is added from a projected geometry if absent.
    before_after : pandas.DataFrame, optional
        ``district``, ``indicator``, ``before``, ``after``, ``change`` (see
        :func:`ordos_geo.pipeline.before_after_table`).
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

    Returns
    -------
    Report

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
    if cells is not None:
        _check_table(cells, "cells", ("population", "dist_m_any"))
    text = label_table.text(language)
    font = _cjk_font() if language == "zh" else None
    chart_language = language if (language == "en" or font is not None) else "en"
    if language == "zh" and font is None:
        logger.info("report: no CJK font installed; chart labels are in English")
    charts = {
        CHART_NAMES[0]: _coverage_chart(indicators, chart_language, font),
        CHART_NAMES[1]: _distance_chart(indicators, cells, label_table.text(chart_language), font, walk_speed_kmh),
    }
    page_title = title if title is not None else text["title"]
    sections: list[tuple[str, pd.DataFrame | None]] = []
    if scorecard_after is not None:
        sections += [(text["scorecard_after"], scorecard_after), (text["scorecard_before"], scorecard)]
    else:
        sections.append((text["scorecard"], scorecard))
    sections.append((text["districts"], _district_table(indicators)))
    extra: list[tuple[str, pd.DataFrame]] = []
    if sites is not None:
        extra.append((text["sites"], _site_table(sites)))
    if trails is not None:
        extra.append((text["trails"], _trail_table(trails)))
    if before_after is not None:
        extra.append((text["before_after"], _without(before_after, empty)))
    citation = _citation(scorecard, language)

    html_parts = [
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(page_title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(page_title)}</h1>",
    ]
    md_parts = [f"# {_md_cell(page_title)}", ""]
    if synthetic:
        html_parts.append(f'<p class="note">{html.escape(text["synthetic"])}</p>')
        md_parts += [f"> {_md_cell(text['synthetic'])}", ""]
    unknown_schools = _unknown_school_venues(indicators)
    if unknown_schools:
        note = text["schools_unknown"].format(n=unknown_schools)
        html_parts.append(f'<p class="note">{html.escape(note)}</p>')
        md_parts += [f"> {_md_cell(note)}", ""]
    for heading, frame in sections:
        html_parts.append(f"<h2>{html.escape(heading)}</h2>{html_table(frame, language)}")
        md_parts += [f"## {_md_cell(heading)}", "", _md_table(frame, language), ""]
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
        body = html_table(frame, language) if len(frame) else f"<p>{html.escape(text['none'])}</p>"
        html_parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
        md_parts += [f"## {_md_cell(heading)}", "", _md_table(frame, language) if len(frame) else text["none"], ""]
    for line in (citation, text["sources"]):
        if line:
            html_parts.append(f"<p>{html.escape(line)}</p>")
            md_parts += [_md_cell(line), ""]
    html_parts.append("</body></html>\n")
    return Report(html="".join(html_parts), markdown="\n".join(md_parts), charts=charts)
