"""Reading the plan's non-spatial figures a planner enters per district."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_input_file
from ordos_geo.io._tables import _TABLE_SUFFIXES, _describe, _find_column, _numeric, _read_table

__all__ = ["read_planner_targets"]


#: Names a planner may use for the whole study area in a planner targets table.
_CITYWIDE_NAMES = ("citywide", "全市")
_PLANNER_COLUMNS = ("district", "indicator", "value", "year", "source")


def read_planner_targets(path: str | os.PathLike[str], *, districts: Iterable[str] | None = None) -> pd.DataFrame:
    """Read the plan's non-spatial figures a planner enters per district.

    The table has one row per district and indicator: ``district`` (a
    district's ``name_en`` or ``name_zh``, or ``citywide``/``全市``),
    ``indicator`` (a key of ``settings.PLANNER_TARGETS``: social sports
    instructors per 1,000 residents, the share of residents exercising
    regularly, the share of public venues opening regularly), ``value``
    (shares as ``0.385`` or ``38.5%``), ``year`` and ``source``.

    Parameters
    ----------
    path : str or os.PathLike
        CSV, TSV or Excel table.
    districts : iterable of str, optional
        Names a ``district`` may take (besides ``citywide``); any name when None.

    Returns
    -------
    pandas.DataFrame
        ``district`` (``"citywide"`` for the whole area), ``indicator``,
        ``value`` (float; shares 0-1), ``year`` (int), ``source`` (str).

    Raises
    ------
    InputDataError
        A missing column, an unknown indicator or district, a value that is
        not a number (or a share above 100 %), a year that is not a year, or
        the same district and indicator twice for one year; one line naming
        the file, the rows and the fix.

    Examples
    --------
    >>> from ordos_geo import io, settings
    >>> table = io.read_planner_targets(settings.SAMPLE_DIR / "planner_targets.csv")  # doctest: +SKIP
    """
    file = check_input_file(path, what="planner targets", suffixes=_TABLE_SUFFIXES)
    table = _read_table(file)
    name = file.name
    columns = {key: _find_column(table.columns, (key,)) for key in _PLANNER_COLUMNS}
    missing = [key for key, column in columns.items() if column is None and key != "source"]
    if missing:
        msg = (
            f"{name}: column `{missing[0]}` is missing; the table needs columns "
            f"{', '.join(_PLANNER_COLUMNS)} (source optional)"
        )
        raise InputDataError(msg)
    given = {key: column for key, column in columns.items() if column is not None}
    known = {t.key: t for t in settings.PLANNER_TARGETS}
    indicator = table[given["indicator"]].map(lambda v: str(v).strip() if v is not None and v == v else "")
    bad = np.flatnonzero(~indicator.isin(list(known)).to_numpy())
    if bad.size:
        msg = (
            f"{name}: column `indicator` has unknown values {sorted(set(indicator.iloc[bad]))[:5]} "
            f"({_describe(table, bad)}); use one of {', '.join(known)}"
        )
        raise InputDataError(msg)
    district = table[given["district"]].map(lambda v: str(v).strip() if v is not None and v == v else "")
    district = district.where(~district.isin(_CITYWIDE_NAMES), "citywide")
    if districts is not None:
        allowed = {str(d) for d in districts} | {"citywide"}
        bad = np.flatnonzero(~district.isin(sorted(allowed)).to_numpy())
        if bad.size:
            msg = (
                f"{name}: column `district` has unknown districts {sorted(set(district.iloc[bad]))[:5]} "
                f"({_describe(table, bad)}); use a district of the boundaries "
                f"({', '.join(sorted(allowed - {'citywide'}))}) or citywide"
            )
            raise InputDataError(msg)
    raw = table[given["value"]].astype(object)
    percent = raw.map(lambda v: isinstance(v, str) and v.strip().endswith("%"))
    text = raw.map(lambda v: v.strip().rstrip("%") if isinstance(v, str) else v)
    value = _numeric(text, name=name, column=given["value"], table=table, name_column=None)
    value = np.where(percent.to_numpy(dtype=bool), value / 100.0, value)
    missing_value = np.flatnonzero(np.isnan(value))
    if missing_value.size:
        msg = f"{name}: column `value` is empty in {_describe(table, missing_value)}; give a number"
        raise InputDataError(msg)
    share = indicator.map(lambda k: known[k].unit == "share").to_numpy(dtype=bool)
    bad = np.flatnonzero((share & ((value > 1) | (value < 0))) | (value < 0))
    if bad.size:
        msg = (
            f"{name}: column `value` has shares outside 0-100 % or negative values ({_describe(table, bad)}); "
            "write shares as 0.385 or 38.5%"
        )
        raise InputDataError(msg)
    year = _numeric(table[given["year"]], name=name, column=given["year"], table=table, name_column=None)
    bad = np.flatnonzero(np.isnan(year) | (year < 1900) | (year > 2100) | (year != np.round(year)))
    if bad.size:
        msg = f"{name}: column `year` is not a year in {_describe(table, bad)}; give the year as e.g. 2024"
        raise InputDataError(msg)
    out = pd.DataFrame(
        {
            "district": district.to_numpy(dtype=object),
            "indicator": indicator.to_numpy(dtype=object),
            "value": value.astype(float),
            "year": year.astype(int),
            "source": table[columns["source"]].map(lambda v: "" if v is None or v != v else str(v).strip())
            if columns["source"] is not None
            else "",
        }
    )
    twice = np.flatnonzero(out.duplicated(["district", "indicator", "year"], keep="first").to_numpy())
    if twice.size:
        msg = (
            f"{name}: the same district, indicator and year appear twice ({_describe(table, twice)}); keep one row each"
        )
        raise InputDataError(msg)
    return out
