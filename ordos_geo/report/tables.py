"""The report's tables: how each value reads, which rows are shown, and the tables as HTML and Markdown.

A value is written by its column key (:func:`cell_text`): shares as percentages,
people, metres and m² whole, yes/no as ✓/✗; keys a reader sees (districts,
kinds, units, statuses...) are translated by their column (:func:`value_label`,
:func:`localize`). The same cell texts make the HTML tables (:func:`html_table`,
every header and cell escaped), the Markdown tables (HTML and table pipes
escaped) and the Word tables, and map popups use them too, so that a figure
reads the same everywhere.

Examples
--------
>>> from ordos_geo.report import tables
>>> tables.cell_text(0.25, "share_within_500m", "en"), tables.value_label("Kangbashi", "district", "en")
('25.0%', 'Kangbashi')
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels as label_table
from ordos_geo._errors import InputDataError

__all__ = ["cell_text", "html_table", "localize", "value_label"]


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
