"""A planner's table of venues or candidate sites read with the schema's column names and units (m²)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo.io._tables import (
    _LAT_NAMES,
    _LON_NAMES,
    _NAME_ALIASES,
    AREA_UNITS,
    COST_UNITS,
    PEOPLE_UNITS,
    _describe,
    _find_column,
    _numeric,
)
from ordos_geo.io.facilities import _normalise_kind

__all__ = ["candidate_columns", "find_name_column", "venue_columns"]

#: Spellings of the candidate sites' schema columns (``siting.candidates_from_file``), first match wins.
_CANDIDATE_ALIASES: dict[str, tuple[str, ...]] = {
    "candidate_id": ("candidate_id", "编号", "id"),
    "name": _NAME_ALIASES,
    "area_m2": ("area_m2", "land_area", "area", "用地面积", "占地面积", "面积", "场地面积"),
    "cost": ("cost", "造价", "投资", "投资额", "费用"),
    "capacity": ("capacity", "服务人口", "容纳人数", "容量"),
}

#: The unit each number column of a candidate table is read in, and the units its cells may carry.
_CANDIDATE_UNITS: dict[str, dict[str, float]] = {"area_m2": AREA_UNITS, "cost": COST_UNITS, "capacity": PEOPLE_UNITS}


def find_name_column(columns: Any, *, also: tuple[str, ...] = ()) -> str | None:
    """The column holding names among ``columns`` (``name``, ``名称``... then ``also``), or None.

    Examples
    --------
    >>> find_name_column(["trail_id", "名称"], also=("trail_id",))
    '名称'
    """
    return _find_column(columns, (*_NAME_ALIASES, *also))


def candidate_columns(frame: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """Candidate sites with the schema's column names (``编号`` -> ``candidate_id``, ``用地面积`` -> ``area_m2``...).

    ``area_m2`` (land area) may carry a unit (``"1.2万平方米"``, ``"3亩"``, ``"2公顷"``)
    and is returned in m², ``cost`` in yuan (``"50万元"``), ``capacity`` in people
    (``"1,200人"``); NaN where empty; another unit or text is one line naming the rows.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate site.
    name : str
        What the table is, for messages (the file name).

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy with the columns renamed, the same type as ``frame``.

    Examples
    --------
    >>> candidate_columns(pd.DataFrame({"编号": ["C1"], "用地面积": ["3亩"]}), name="t")["area_m2"].round().tolist()
    [2000.0]
    >>> candidate_columns(pd.DataFrame({"编号": ["C1"], "造价": ["50万元"]}), name="t")["cost"].tolist()
    [500000.0]
    """
    rename = {}
    for standard, names in _CANDIDATE_ALIASES.items():
        found = _find_column([c for c in frame.columns if c not in rename], names)
        if found is not None and found != standard and standard not in frame.columns:
            rename[found] = standard
    out = frame.rename(columns=rename)
    label = "name" if "name" in out.columns else None
    for column, units in _CANDIDATE_UNITS.items():
        if column in out.columns:
            out[column] = _numeric(out[column], name=name, column=column, table=out, name_column=label, units=units)
    return out


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
