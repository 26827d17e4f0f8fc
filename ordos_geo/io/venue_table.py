"""A planner's table of venues given in Python (not a file) read with the facility table's names and units."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo.io._tables import _LAT_NAMES, _LON_NAMES, _NAME_ALIASES, AREA_UNITS, _describe, _find_column, _numeric
from ordos_geo.io.facilities import _normalise_kind

__all__ = ["find_name_column", "venue_columns"]


def find_name_column(columns: Any, *, also: tuple[str, ...] = ()) -> str | None:
    """The column holding names among ``columns`` (``name``, ``名称``... then ``also``), or None.

    Examples
    --------
    >>> find_name_column(["trail_id", "名称"], also=("trail_id",))
    '名称'
    """
    return _find_column(columns, (*_NAME_ALIASES, *also))


def venue_columns(table: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """The venues of ``table`` with the facility table's column names, kinds and units.

    Headers are matched as in a facility file: longitude (``lon``, ``lng``,
    ``经度``...; not ``x``) becomes ``lon``, latitude ``lat``, the name column
    (``名称``...) ``name``; ``kind`` may be a Chinese kind (``体育公园``) or an
    Amap type path; ``area_m2`` may carry a unit (``"1,200㎡"``, ``"1.2万平方米"``).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per venue.
    name : str
        What the table is, for messages (``"what_if: add"``).

    Returns
    -------
    pandas.DataFrame
        A copy, index ``0..n-1``: ``kind`` in ``settings.FACILITY_KINDS``,
        ``area_m2`` in m² (NaN where empty) when given, other columns kept.

    Raises
    ------
    InputDataError
        An unknown kind, an area that is not a number or is negative.

    Examples
    --------
    >>> venue_columns(pd.DataFrame({"kind": ["体育公园"], "经度": [109.9], "纬度": [39.8]}), name="t").columns.tolist()
    ['kind', 'lon', 'lat']
    """
    out = table.reset_index(drop=True).copy()
    rename = {}
    for standard, names in (("lon", _LON_NAMES), ("lat", _LAT_NAMES), ("name", _NAME_ALIASES)):
        found = _find_column(out.columns, tuple(n for n in names if n not in ("x", "y")))
        if found is not None and standard not in out.columns:
            rename[found] = standard
    out = out.rename(columns=rename)
    if "kind" in out.columns:
        given = out["kind"].astype(str)
        kinds = given.map(_normalise_kind)  # as in a facility table: 体育公园, an Amap type path, "Sports park"
        unknown = sorted(set(given[~kinds.isin(settings.FACILITY_KINDS)]))
        if unknown:
            msg = f"{name}: unknown kind {unknown[0]!r}; use one of {', '.join(settings.FACILITY_KINDS)}"
            raise InputDataError(msg)
        out["kind"] = kinds
    if "area_m2" in out.columns:
        label = "name" if "name" in out.columns else None
        area = _numeric(out["area_m2"], name=name, column="area_m2", table=out, name_column=label, units=AREA_UNITS)
        negative = np.flatnonzero(area < 0)
        if negative.size:
            msg = f"{name}: `area_m2` is negative ({_describe(out, negative, label)}); give field areas in m²"
            raise InputDataError(msg)
        out["area_m2"] = area
    return out
