"""Reading a facility list into the facilities schema (:data:`FACILITY_COLUMNS`)."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels, _osm_tags, settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, InputDataError
from ordos_geo._validate import check_columns, check_input_file, check_non_negative_finite, check_unique, describe_rows
from ordos_geo.io._tables import (
    _NAME_ALIASES,
    AREA_UNITS,
    PEOPLE_UNITS,
    _describe,
    _find_column,
    _id_text,
    _numeric,
    _parse_bool,
    _row_labels,
)
from ordos_geo.io.vectors import FACILITY_SUFFIXES, _check_inside, _read_features

__all__ = ["FACILITY_COLUMNS", "FACILITY_COLUMN_NAMES", "read_facilities"]

logger = logging.getLogger(__package__)  # one logger for the io package: 'ordos_geo.io'


#: Columns of the facilities GeoDataFrame :func:`read_facilities` returns, in order (plus
#: ``indoor`` before ``geometry`` when the file has such a column).
FACILITY_COLUMNS: tuple[str, ...] = (
    "facility_id",
    "name",
    "kind",
    "area_m2",
    "area_source",
    "open_to_public",
    "capacity",
    "district",
    "public_access",
    "open_hours",
    "geometry",
)

#: Accepted spellings of each schema column (compared case-insensitively, first match wins).
_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": ("facility_id", "id", "fid_", "编号"),
    "name": _NAME_ALIASES,
    "kind": ("kind", "类别", "设施类型", "类型"),
    "area_m2": ("area_m2", "area", "面积", "场地面积", "面积_m2"),
    "open_to_public": ("open_to_public", "open", "public", "对外开放", "开放"),
    "capacity": ("capacity", "容量"),
    "district": ("district", "adname", "区县", "旗区", "county"),
    "public_access": ("public_access", "access", "开放方式", "开放程度"),
    "open_hours": ("open_hours", "opening_hours", "开放时间"),
    "indoor": ("indoor", "室内"),
}
#: Spellings of each ``public_access`` level (``settings.PUBLIC_ACCESS_LEVELS``).
_ACCESS_WORDS: dict[str, str] = {
    "full": "full",
    "open": "full",
    "yes": "full",
    "全天开放": "full",
    "全天": "full",
    "全面开放": "full",
    "after_school": "after_school",
    "after school": "after_school",
    "evenings_weekends": "after_school",
    "课后开放": "after_school",
    "错时开放": "after_school",
    "课余开放": "after_school",
    "closed": "closed",
    "no": "closed",
    "不开放": "closed",
    "未开放": "closed",
}
#: Every column name :func:`read_facilities` reads as a schema column (lower case); other
#: sources' columns with these names (OSM tags such as ``area=yes``) must be renamed first.
FACILITY_COLUMN_NAMES: frozenset[str] = frozenset(a.lower() for names in _ALIASES.values() for a in names)
_LINE_TYPES = frozenset({"LineString", "MultiLineString"})


def read_facilities(
    path: str | os.PathLike[str],
    *,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
    lon_column: str | None = None,
    lat_column: str | None = None,
    area_policy: str = settings.DEFAULT_AREA_POLICY,
    trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read a facility list into the facilities schema, in WGS-84.

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON, GeoPackage, Shapefile (with its ``.prj``), FlatGeobuf; or a
        CSV / TSV / Excel ``.xlsx`` table with longitude/latitude columns
        (``lon``/``lng``/``longitude``/``x``/``经度`` and
        ``lat``/``latitude``/``y``/``纬度``), an Amap-style ``location``
        column ``"lon,lat"``, or a ``wkt`` column.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates: Amap (Gaode) exports are ``"gcj02"``, Baidu
        ``"bd09"``; they are converted to WGS-84.
    lon_column, lat_column : str, optional
        Coordinate column names of a table, when not auto-detected.
    area_policy : {"typical", "exclude"}
        Rows without ``area_m2``: ``"typical"`` uses ``settings.TYPICAL_AREA_M2``
        of their kind (``area_source="typical"``); ``"exclude"`` leaves NaN
        (``area_source="missing"``) so they are left out of area totals. The
        rows are named in a logged warning either way. ``fitness_trail`` lines
        without an area get length (metres, in the data's metric CRS) x
        ``trail_width_m`` (``area_source="length_x_width"``).
    trail_width_m : float
        Trail width in metres.
    study_area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Boundaries the facilities must fall in (a shapely geometry is read as
        WGS-84), within ``settings.FACILITY_BOUNDARY_TOLERANCE_M`` (200 m).
        Rows farther outside raise an error, which suggests swapping lon/lat
        when that would put them inside.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``facility_id`` (str, unique; generated ``F0001``...
        when the file has no id column), ``name``, ``kind`` (one of
        ``settings.FACILITY_KINDS``), ``area_m2`` (m², >= 0 or NaN),
        ``area_source``, ``open_to_public`` (bool, default true; object with
        ``None`` where the file says ``unknown``/``未知``), ``capacity``
        (float, NaN if unknown), ``district`` (str or None), ``public_access``
        (``settings.PUBLIC_ACCESS_LEVELS``: ``full``, ``after_school`` (open
        outside school hours), ``closed``; from ``open_to_public`` when the
        file has no such column, None where that is unknown), ``open_hours``
        (free text kept as given, or None), ``indoor`` (only when the file
        has an ``indoor``/``室内`` column: True for an indoor hall, False, None
        where empty or ``unknown``/``未知``), ``geometry`` (Point,
        (Multi)Polygon or (Multi)LineString).

    Notes
    -----
    A file without a ``kind`` column but with OSM tags (``leisure``, ``sport``,
    ``amenity``) is mapped by the table in :mod:`ordos_geo._osm_tags`: features
    that are not exercise places (picnic tables, parking...) are dropped, and
    features no rule matches become ``"other"`` with a ``UserWarning`` naming
    their rows. Column names are matched case-insensitively, with Chinese and
    Amap aliases (``名称``, ``面积``, ``adname``...). The file is only read.

    Raises
    ------
    InputFileNotFoundError
        Missing file.
    InputDataError
        Empty file, missing column, unknown kind, negative or non-numeric
        area, CRS-less layer, coordinates swapped or outside the study area,
        duplicated ids.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> table = Path(tempfile.mkdtemp()) / "amap_halls.csv"
    >>> row = {"name": ["东胜体育馆"], "kind": ["gymnasium"], "lon": [109.98], "lat": [39.82], "area_m2": [5000]}
    >>> pd.DataFrame(row).to_csv(table, index=False)
    >>> halls = read_facilities(table, coordinate_system="gcj02")  # AMap's shifted coordinates, back to WGS-84
    >>> halls[["facility_id", "kind", "area_source"]].iloc[0].tolist(), round(float(halls.geometry.x[0]), 4)
    (['F0001', 'gymnasium', 'input'], 109.9743)
    """
    _check_options(area_policy=area_policy, coordinate_system=coordinate_system, trail_width_m=trail_width_m)
    file = check_input_file(path, what="facility", suffixes=FACILITY_SUFFIXES)
    name = file.name
    frame, name_column = _read_features(
        file,
        what="facility",
        layer=layer,
        coordinate_system=coordinate_system,
        lon_column=lon_column,
        lat_column=lat_column,
        empty_hint="; add the facilities",
    )
    columns = {key: _find_column(frame.columns.drop(frame.geometry.name), names) for key, names in _ALIASES.items()}
    if study_area is not None:
        _check_inside(frame, study_area, name=name, name_column=name_column, what="facilities")
    rows = _Rows(frame, name, name_column)
    geometry_types = frame.geom_type.to_numpy(dtype=object)
    kinds, keep = _kinds(rows, columns["kind"], geometry_types)
    area, area_source = _areas(
        rows, columns["area_m2"], kinds, keep, geometry_types, area_policy=area_policy, trail_width_m=trail_width_m
    )
    n = len(frame)
    if columns["open_to_public"] is not None:
        open_to_public = _parse_bool(
            frame[columns["open_to_public"]],
            name=name,
            column=columns["open_to_public"],
            table=frame,
            name_column=name_column,
        )
    else:
        open_to_public = np.ones(n, dtype=bool)
    public_access, open_to_public = _public_access(frame, columns, open_to_public, name=name, name_column=name_column)
    open_hours = _stripped(frame, columns["open_hours"], empty=None)
    indoor = (
        None
        if columns["indoor"] is None
        else _parse_bool(
            frame[columns["indoor"]],
            name=name,
            column=columns["indoor"],
            table=frame,
            name_column=name_column,
            empty=None,
            empty_means="unknown",
        )
    )
    capacity = _amounts(
        rows, columns["capacity"], units=PEOPLE_UNITS, meaning="capacity is a number of people, fix or drop those rows"
    )
    names = _stripped(frame, name_column, empty="")
    district = _stripped(frame, columns["district"], empty=None)
    ids = _facility_ids(rows, columns["facility_id"], keep)
    out = gpd.GeoDataFrame(
        {
            "facility_id": ids.to_numpy(dtype=object),
            "name": names.to_numpy(dtype=object),
            "kind": kinds,
            "area_m2": area,
            "area_source": area_source,
            "open_to_public": open_to_public,
            "capacity": capacity,
            "district": district.to_numpy(dtype=object),
            "public_access": public_access,
            "open_hours": open_hours.to_numpy(dtype=object),
        },
        geometry=frame.geometry.array,
        crs=4326,
    )
    if indoor is not None:  # only a table that says which venues are indoor halls has the column
        out.insert(len(out.columns) - 1, "indoor", indoor)
    out = out.loc[keep].reset_index(drop=True)
    for column in ("district", "open_hours"):
        out[column] = pd.Series(
            [d if isinstance(d, str) and d else None for d in out[column].tolist()], index=out.index, dtype=object
        )
    logger.info(
        "%s: %s facilities (%s)",
        name,
        len(out),
        ", ".join(f"{k} {v}" for k, v in out["kind"].value_counts().sort_index().items()),
    )
    return out


def _check_options(*, area_policy: str, coordinate_system: str, trail_width_m: float) -> None:
    """Raise :class:`ConfigError` for an unknown area policy or datum, or a trail width that is not positive."""
    if area_policy not in settings.AREA_POLICIES:
        msg = f"area_policy={area_policy!r} is not known; use {' or '.join(map(repr, settings.AREA_POLICIES))}"
        raise ConfigError(msg)
    if coordinate_system not in settings.COORDINATE_SYSTEMS:
        msg = f"coordinate_system={coordinate_system!r} is not known; use 'wgs84', 'gcj02' (Amap) or 'bd09' (Baidu)"
        raise ConfigError(msg)
    if not (np.isfinite(trail_width_m) and trail_width_m > 0):
        msg = f"trail_width_m={trail_width_m!r} must be a positive number of metres"
        raise ConfigError(msg)


@dataclass(frozen=True)
class _Rows:
    """The facility features being read, with what an error message needs to name their rows."""

    frame: gpd.GeoDataFrame
    name: str
    name_column: str | None

    def describe(self, positions: Any) -> str:
        """``rows 3 (Dongsheng Stadium), 7``: the rows at ``positions``, for a message."""
        return _describe(self.frame, positions, self.name_column)

    def labels(self, positions: Any) -> list[str]:
        """One label per row at ``positions``, for the checks of :mod:`ordos_geo._validate`."""
        return _row_labels(self.frame, positions, name_column=self.name_column)


def _kinds(rows: _Rows, column: str | None, geometry_types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's facility kind, and which features to keep (OSM features that are no exercise place go)."""
    frame, name = rows.frame, rows.name
    keep = np.ones(len(frame), dtype=bool)
    if column is not None:
        return _kinds_from_column(rows, column), keep
    if any(_find_column(frame.columns, (key,)) is not None for key in _osm_tags.OSM_TAG_KEYS):
        kinds = _kinds_from_osm_tags(rows, geometry_types)
        dropped = np.array([k is None for k in kinds])
        if dropped.any():
            logger.info(
                "%s: dropped %s features that are not exercise places (%s)",
                name,
                int(dropped.sum()),
                describe_rows(np.flatnonzero(dropped) + 1),
            )
            keep &= ~dropped
        return kinds, keep
    check_columns(
        frame,
        ["kind"],
        name=name,
        hint=f"add `kind` with one of {', '.join(settings.FACILITY_KINDS)}, or OSM tags "
        "`leisure`/`sport`/`amenity` to map from",
    )
    raise AssertionError  # pragma: no cover - check_columns raised


def _kinds_from_column(rows: _Rows, column: str) -> np.ndarray:
    """The ``kind`` column, normalised (``" Multi-sport court "`` -> ``multi_sport_court``) and checked."""
    frame, name = rows.frame, rows.name
    kinds = frame[column].map(_normalise_kind).astype(object)
    unmapped = np.flatnonzero((kinds == _osm_tags.UNMAPPED).to_numpy())
    if unmapped.size:
        leaves = sorted({str(v).strip().split(";")[-1] for v in frame[column].iloc[unmapped]})
        warnings.warn(
            f"{name}: {unmapped.size} rows have Amap/Baidu types no rule maps to a facility kind "
            f"({', '.join(leaves[:10])}; {rows.describe(unmapped)}); they are kept as kind 'other'. "
            f"Add a `kind` column to classify them ({', '.join(settings.FACILITY_KINDS)})",
            UserWarning,
            stacklevel=5,  # the caller of read_facilities
        )
        kinds.iloc[unmapped] = "other"
    empty = np.flatnonzero(kinds.isna().to_numpy())
    if empty.size:
        msg = (
            f"{name}: column `{column}` is empty in {rows.describe(empty)}; "
            f"give each row one of {', '.join(settings.FACILITY_KINDS)}"
        )
        raise InputDataError(msg)
    valid = kinds.isin(settings.FACILITY_KINDS).to_numpy()
    if not valid.all():
        bad = np.flatnonzero(~valid)
        values = sorted({str(v) for v in frame[column].iloc[bad]})  # as the user wrote them
        msg = (
            f"{name}: column `{column}` has unknown kinds {', '.join(repr(v) for v in values[:10])} "
            f"({rows.describe(bad)}); valid kinds: {', '.join(settings.FACILITY_KINDS)}"
        )
        raise InputDataError(msg)
    return kinds.to_numpy(dtype=object)


def _kinds_from_osm_tags(rows: _Rows, geometry_types: np.ndarray) -> np.ndarray:
    """Kinds mapped from OSM tags (None: no exercise place); unmapped features become ``other``, with a warning."""
    frame = rows.frame
    tag_columns = {
        key: _find_column(frame.columns, (key,))
        for key in ("leisure", "sport", "amenity", "building", "highway", "name")
    }
    records = pd.DataFrame({k: frame[c] if c is not None else None for k, c in tag_columns.items()})
    kinds = np.array(
        [
            _osm_tags.kind_from_osm_tags(tags, geometry_type=g)
            for tags, g in zip(records.to_dict("records"), geometry_types, strict=True)
        ],
        dtype=object,
    )
    unmapped = np.flatnonzero(kinds == _osm_tags.UNMAPPED)
    if unmapped.size:
        warnings.warn(
            f"{rows.name}: {unmapped.size} features have OSM tags no rule maps to a facility kind "
            f"({rows.describe(unmapped)}); they are kept as kind 'other'. Add a `kind` column "
            "to classify them (table in ordos_geo._osm_tags)",
            UserWarning,
            stacklevel=4,  # the caller of read_facilities
        )
        kinds[unmapped] = "other"
    return kinds


def _amounts(
    rows: _Rows, column: str | None, *, meaning: str, units: dict[str, float], maximum: float | None = None
) -> np.ndarray:
    """A column of numbers >= 0 in the unit of ``units`` (NaN where empty; all NaN without the column)."""
    if column is None:
        return np.full(len(rows.frame), np.nan)
    values = _numeric(
        rows.frame[column], name=rows.name, column=column, table=rows.frame, name_column=rows.name_column, units=units
    )
    check_non_negative_finite(
        pd.Series(values), name=rows.name, column=column, meaning=meaning, row_labels=rows.labels, maximum=maximum
    )
    return values


def _areas(
    rows: _Rows,
    column: str | None,
    kinds: np.ndarray,
    keep: np.ndarray,
    geometry_types: np.ndarray,
    *,
    area_policy: str,
    trail_width_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``area_m2`` and ``area_source`` per feature: as given, trail length x width, or by ``area_policy``."""
    area = _amounts(
        rows,
        column,
        units=AREA_UNITS,
        maximum=settings.MAX_VENUE_AREA_M2,
        meaning="areas are venue field areas in m² (check the unit), fix or drop those rows",
    )
    area_source = np.where(np.isnan(area), "missing", "input").astype(object)
    is_line = np.isin(geometry_types, list(_LINE_TYPES))
    trail_rows = np.flatnonzero(np.isnan(area) & (kinds == "fitness_trail") & is_line)
    if trail_rows.size:
        lines = rows.frame.geometry.iloc[trail_rows]
        lengths = lines.to_crs(metric_crs_for(lines)).length.to_numpy(float)
        area[trail_rows] = lengths * trail_width_m
        area_source[trail_rows] = "length_x_width"
    missing_area = np.flatnonzero(np.isnan(area) & keep)
    if missing_area.size:
        if area_policy == "typical":
            area[missing_area] = [settings.TYPICAL_AREA_M2[k] for k in kinds[missing_area]]
            area_source[missing_area] = "typical"
            action = "using the typical area of their kind (settings.TYPICAL_AREA_M2)"
        else:
            action = "leaving them out of area totals (area_policy='exclude')"
        logger.warning(
            "%s: %s facilities have no area (%s); %s", rows.name, missing_area.size, rows.describe(missing_area), action
        )
    return area, area_source


def _stripped(frame: pd.DataFrame, column: str | None, *, empty: str | None) -> pd.Series:
    """A text column with surrounding blanks removed, ``empty`` where a cell (or the whole column) is missing."""
    if column is None:
        return pd.Series([empty] * len(frame), dtype=object)
    return frame[column].map(lambda v: str(v).strip() if v is not None and v == v else empty)


def _facility_ids(rows: _Rows, column: str | None, keep: np.ndarray) -> pd.Series:
    """The ids of the kept features: the id column (filled and unique), or ``F0001``... when the file has none."""
    frame, name = rows.frame, rows.name
    if column is None:
        width = max(4, len(str(int(keep.sum()))))
        ids = pd.Series([None] * len(frame), dtype=object)
        ids.iloc[np.flatnonzero(keep)] = [f"F{i:0{width}d}" for i in range(1, int(keep.sum()) + 1)]
        return ids
    ids = frame[column].map(lambda v: None if v is None or v != v else _id_text(v))
    missing_id = np.flatnonzero(ids.isna().to_numpy() & keep)
    if missing_id.size:
        msg = (
            f"{name}: column `{column}` is empty in {rows.describe(missing_id)}"
            "; fill the ids or drop the column to generate them"
        )
        raise InputDataError(msg)
    kept = np.flatnonzero(keep)
    check_unique(ids.iloc[kept].reset_index(drop=True), name=name, column=column, row_labels=rows.labels(kept))
    return ids


def _public_access(
    frame: pd.DataFrame,
    columns: dict[str, str | None],
    open_to_public: np.ndarray,
    *,
    name: str,
    name_column: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``public_access`` per row (``full``/``after_school``/``closed``) and ``open_to_public`` agreeing with it.

    Without the column the level follows ``open_to_public`` (``full`` or
    ``closed``; None where that is unknown); with it, an empty cell does too,
    and ``open_to_public`` is true unless the level is ``closed``. A row where
    both are filled in and disagree (open but ``closed``, or not open but
    ``full``) is an error.
    """
    known = np.array([v is not None for v in open_to_public], dtype=bool)
    derived = np.array([None if v is None else ("full" if v else "closed") for v in open_to_public], dtype=object)
    column = columns["public_access"]
    if column is None:
        return derived, open_to_public
    given = frame[column].map(
        lambda v: (
            None
            if v is None or v != v or not str(v).strip()
            else _ACCESS_WORDS.get(" ".join(str(v).strip().lower().split()), "?")
        )
    )
    bad = np.flatnonzero((given == "?").to_numpy())
    if bad.size:
        msg = (
            f"{name}: column `{column}` has unknown access levels ({_describe(frame, bad, name_column)}); "
            f"use one of {', '.join(settings.PUBLIC_ACCESS_LEVELS)} (or 全天开放/课后开放/不开放)"
        )
        raise InputDataError(msg)
    access = np.where(given.isna().to_numpy(), derived, given.to_numpy(dtype=object)).astype(object)
    if columns["open_to_public"] is not None:
        stated = frame[columns["open_to_public"]].map(lambda v: v is not None and v == v and str(v).strip() != "")
        opened = np.array([bool(v) for v in open_to_public])
        clash = np.flatnonzero(
            stated.to_numpy(dtype=bool) & known & given.notna().to_numpy() & ((access == "closed") == opened)
        )
        if clash.size:
            msg = (
                f"{name}: columns `{columns['open_to_public']}` and `{column}` disagree "
                f"({_describe(frame, clash, name_column)}); a venue open to the public is `full` or "
                "`after_school`, a closed one `closed`: fix one of the two"
            )
            raise InputDataError(msg)
    result = np.array([None if a is None else a != "closed" for a in access], dtype=object)
    return access, result if any(v is None for v in result) else result.astype(bool)


#: Kinds of the last part of an Amap (高德) / Baidu POI type path (``体育休闲服务;运动场馆;篮球场馆``); the
#: other sports types (保龄球馆, 台球厅...) become ``other`` with a warning.
_AMAP_TYPE_KINDS: dict[str, str] = {
    "综合体育馆": "gymnasium",
    "体育馆": "gymnasium",
    "体育场": "stadium",
    "游泳馆": "swimming_pool",
    "健身中心": "fitness_centre",
    "篮球场馆": "multi_sport_court",
    "足球场": "pitch",
    "运动场所": "fitness_path",
    "户外健身场所": "fitness_path",
    "游乐场": "playground",
    "公园": "park",
    "公园广场": "park",
}
#: A facility kind from its Chinese name as the report prints it (``体育公园`` -> ``sports_park``).
_ZH_KINDS: dict[str, str] = {_labels.kind(k, "zh"): k for k in settings.FACILITY_KINDS}


def _normalise_kind(value: Any) -> str | None:
    """``" Multi-sport court "`` -> ``multi_sport_court``, ``体育公园`` -> ``sports_park``; empty -> None.

    An Amap/Baidu type path (``体育休闲服务;运动场馆;篮球场馆``) gives the kind of
    its last part (:data:`_AMAP_TYPE_KINDS`), or ``_osm_tags.UNMAPPED``.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    stripped = str(value).strip()
    if stripped in _ZH_KINDS:
        return _ZH_KINDS[stripped]
    if ";" in stripped:
        return _AMAP_TYPE_KINDS.get(stripped.rstrip(";").split(";")[-1].strip(), _osm_tags.UNMAPPED)
    text = "_".join(stripped.lower().replace("-", " ").split())
    return text or None
