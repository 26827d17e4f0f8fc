"""Reading district / banner boundaries."""

from __future__ import annotations

import os

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_columns, check_input_file, check_unique
from ordos_geo.io._tables import _describe, _find_column, _id_text, _numeric, _required_column, _row_labels
from ordos_geo.io.vectors import _VECTOR_SUFFIXES, _check_geometries, _read_vector, _to_wgs84

__all__ = ["read_boundaries"]

#: Other spellings of the area code column, tried (case-insensitively) when ``adcode_column`` is absent.
_ADCODE_NAMES = ("adcode", "code", "id", "区划代码")


def read_boundaries(
    path: str | os.PathLike[str],
    *,
    adcode_column: str = "adcode",
    name_column: str | None = None,
    layer: str | int | None = None,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
) -> gpd.GeoDataFrame:
    """Read district / banner (or neighbourhood) boundaries.

    Parameters
    ----------
    path : str or os.PathLike
        Any vector file with polygons and a CRS.
    adcode_column : str
        Code column (administrative division code, or any unique id). Also
        tried: ``code``, ``id``, ``区划代码``.
    name_column : str, optional
        Chinese (or local) name column; default the first of ``name_zh``,
        ``name``, ``名称``.
    layer : str or int, optional
        Layer of a multi-layer file.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of degree coordinates: district files exported from Amap or
        DataV are ``"gcj02"`` (about 500 m off WGS-84 around Ordos), Baidu's
        ``"bd09"``; undone with :func:`ordos_geo._crs.convert_to_wgs84`.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326: ``adcode`` (str, unique), ``name_zh``, ``name_en``
        (filled from ``name_zh`` when absent), ``level`` (``"city"`` for a code
        ending in ``00``, else ``"district"``, when the file has no ``level``),
        ``share_60plus`` (share of residents aged 60+, 0-1, when the file has
        such a column, e.g. the census share per district), geometry
        (Multi)Polygon.

    Examples
    --------
    >>> from ordos_geo import settings
    >>> districts = read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    >>> len(districts), districts.crs.to_epsg(), districts.loc[1, ["adcode", "name_zh", "name_en", "level"]].tolist()
    (10, 4326, ['150602', '东胜区', 'Dongsheng', 'district'])
    """
    file = check_input_file(path, what="boundary", suffixes=_VECTOR_SUFFIXES)
    frame = _read_vector(file, layer=layer, what="boundary").reset_index(drop=True)
    attributes = frame.columns.drop(frame.geometry.name)
    code_col = _required_column(
        frame,
        adcode_column,
        _ADCODE_NAMES,
        name=file.name,
        hint="add a column `adcode` with a unique code per area (the 6-digit 区划代码, or any id)",
    )
    if name_column is not None:
        check_columns(frame, [name_column], name=file.name, hint="give the name of a column the file has")
    name_col = name_column or _find_column(attributes, ("name_zh", "name", "名称"))
    frame = _check_geometries(frame, name=file.name, name_column=name_col)
    polygonal = frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.all():
        bad = np.flatnonzero(~polygonal)
        msg = (
            f"{file.name}: boundaries must be polygons; {_describe(frame, bad, name_col)} are "
            f"{', '.join(sorted(set(frame.geom_type.iloc[bad])))}"
        )
        raise InputDataError(msg)
    codes = frame[code_col].map(lambda v: None if v is None or v != v else _id_text(v))
    if codes.isna().any():
        empty = _describe(frame, np.flatnonzero(codes.isna()), name_col)
        msg = f"{file.name}: column `{code_col}` is empty in {empty}; fill the codes"
        raise InputDataError(msg)
    labels = _row_labels(frame, np.arange(len(frame)), name_column=name_col)
    check_unique(codes, name=file.name, column=code_col, row_labels=labels)
    names_zh = frame[name_col].astype(str).to_numpy(dtype=object) if name_col else codes.to_numpy(dtype=object)
    en_col = _find_column(attributes, ("name_en", "english_name", "name:en"))
    names_en = (
        frame[en_col].where(frame[en_col].notna(), pd.Series(names_zh)).astype(str).to_numpy(dtype=object)
        if en_col
        else names_zh.copy()
    )
    level_col = _find_column(attributes, ("level",))
    default_level = np.where(codes.str.endswith("00").to_numpy(), "city", "district").astype(object)
    levels = (
        frame[level_col].where(frame[level_col].notna(), pd.Series(default_level)).astype(str).to_numpy(dtype=object)
        if level_col
        else default_level
    )
    out = gpd.GeoDataFrame(
        {"adcode": codes.to_numpy(dtype=object), "name_zh": names_zh, "name_en": names_en, "level": levels},
        geometry=frame.geometry.array,
        crs=frame.crs,
    )
    share_col = _find_column(attributes, ("share_60plus", "share_60_plus", "60岁及以上占比"))
    if share_col is not None:
        share = _numeric(frame[share_col], name=file.name, column=share_col, table=frame, name_column=name_col)
        bad = np.flatnonzero((share < 0) | (share > 1))
        if bad.size:
            msg = (
                f"{file.name}: column `{share_col}` has values outside 0-1 ({_describe(frame, bad, name_col)}); "
                "give the share of residents aged 60+ as a fraction, e.g. 0.1158 for 11.58 %"
            )
            raise InputDataError(msg)
        out["share_60plus"] = share
    return _to_wgs84(out, coordinate_system=coordinate_system, name=file.name)
