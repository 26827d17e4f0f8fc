"""The report's charts, drawn with Matplotlib's Agg canvas (no pyplot state) as PNG bytes.

Three charts, by :data:`CHART_NAMES`: venue area per resident (today and after
the plan) and open-school share per district against the plan's targets, the
population share within each walking-distance tier per district, and the
population per walking-distance bin (:func:`distance_histogram`; without cells,
the citywide share per distance band, :func:`distance_band_shares`). Labels are
in the report's language, or in English when no CJK font is installed. PNGs are
saved without timestamps, so the same inputs give byte-identical charts on one
installation.

Examples
--------
>>> from ordos_geo.report import charts
>>> charts.CHART_NAMES[0]
'area_by_district.png'
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ordos_geo import _labels as label_table
from ordos_geo import settings
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo.report.tables import _check_table, _is_missing
from ordos_geo.settings import Language

__all__ = ["CHART_NAMES", "distance_band_shares", "distance_histogram"]

logger = logging.getLogger(__package__)  # one logger for the report package: 'ordos_geo.report'


#: File names of the charts, in the order they appear.
CHART_NAMES: tuple[str, ...] = ("area_by_district.png", "coverage_by_district.png", "distance_distribution.png")

_SHARE_COLUMN = re.compile(r"^share_within_(\d+(?:\.\d+)?)m$")
_CJK_FONT_NAMES = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei", "PingFang", "Heiti")
_BAR_COLORS = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")


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
