"""Shared input checks: each raises an error that names the input, the field and the fix.

Readers call these once, at their entry, so every stage can trust what it gets:
the file exists and is not empty, required columns are present, numbers are
finite and non-negative, a vector layer has a CRS.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ordos_geo._errors import InputDataError, InputFileNotFoundError

__all__ = [
    "check_columns",
    "check_distance",
    "check_facility_ids",
    "check_input_file",
    "check_network_frame",
    "check_non_negative_finite",
    "check_unique",
    "describe_rows",
    "polygonal_part",
]

#: How many offending rows an error message lists before "and N more".
MAX_ROWS_LISTED = 10


def describe_rows(rows: Iterable[object], *, limit: int = MAX_ROWS_LISTED) -> str:
    """Return ``"rows 4, 9, 12"`` (at most ``limit`` listed, then ``"and N more"``).

    Parameters
    ----------
    rows : iterable
        Row labels, as the user sees them (a CSV or Excel table's row numbers as Excel shows them, or
        index labels).
    limit : int
        Maximum number of rows spelled out.

    Returns
    -------
    str
    """
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    word = "row" if len(rows) == 1 else "rows"
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{word} {shown}{more}"


def check_input_file(
    path: str | os.PathLike[str],
    *,
    what: str,
    suffixes: Sequence[str] | None = None,
) -> Path:
    """Check that an input file exists, is a file, is not empty and has a known suffix.

    Parameters
    ----------
    path : str or os.PathLike
        The input path.
    what : str
        What the file should hold, for the message (``"walk network"``).
    suffixes : sequence of str, optional
        Accepted endings in lower case (``".osm.bz2"``, ``".geojson"``); ``None``
        accepts any.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputFileNotFoundError
        The path does not exist.
    InputDataError
        The path is a folder, the file is empty, or its suffix is not accepted.
    """
    file = Path(path)
    if not file.exists():
        msg = f"{file}: {what} file not found; check the path (relative paths are from {Path.cwd()})"
        raise InputFileNotFoundError(msg)
    if file.is_dir():
        msg = f"{file}: expected a {what} file but found a folder; give the file inside it"
        raise InputDataError(msg)
    if not file.is_file():
        msg = f"{file}: expected a {what} file but found a device or pipe; give a file saved on disk"
        raise InputDataError(msg)
    if file.stat().st_size == 0:
        msg = f"{file}: {what} file is empty (0 bytes); re-export or re-download it"
        raise InputDataError(msg)
    if suffixes is not None and not any(file.name.lower().endswith(s) for s in suffixes):
        msg = f"{file}: unsupported {what} file type; use one of {', '.join(suffixes)}"
        raise InputDataError(msg)
    return file


def check_columns(table: pd.DataFrame, required: Iterable[str], *, name: str, hint: str = "") -> None:
    """Raise if any ``required`` column is missing, naming it and the columns found.

    Parameters
    ----------
    table : pandas.DataFrame
        The table read from the input.
    required : iterable of str
        Column names that must be present.
    name : str
        Input name for the message (usually the file name).
    hint : str
        Extra advice appended to the message.
    """
    missing = [c for c in required if c not in table.columns]
    if missing:
        found = ", ".join(f"`{c}`" for c in table.columns if c != "geometry") or "none"
        cols = ", ".join(f"`{c}`" for c in missing)
        word = "column" if len(missing) == 1 else "columns"
        msg = f"{name}: missing {word} {cols}; columns found: {found}"
        if hint:
            msg += f"; {hint}"
        raise InputDataError(msg)


def check_non_negative_finite(
    values: pd.Series,
    *,
    name: str,
    column: str,
    meaning: str,
    row_labels: Sequence[object] | Callable[[np.ndarray], Sequence[object]] | None = None,
    maximum: float | None = None,
) -> None:
    """Raise if a numeric column has negative, infinite or (above ``maximum``) implausible values (NaN is allowed).

    Parameters
    ----------
    values : pandas.Series
        Numeric values (NaN = missing, checked elsewhere).
    name : str
        Input name for the message.
    column : str
        Column name for the message.
    meaning : str
        What the values mean and the fix, e.g. ``"areas are field areas in m², fix or drop those rows"``.
    row_labels : sequence or callable, optional
        Row labels shown to the user, aligned with ``values``, or a function
        from row positions to labels (called only on failure); defaults to the index.
    maximum : float, optional
        Plausible upper bound; larger values are refused as data errors.
    """
    array = values.to_numpy(dtype=float)

    def labels(positions: np.ndarray) -> Sequence[object]:
        if callable(row_labels):
            return row_labels(positions)
        source = row_labels if row_labels is not None else values.index
        return np.asarray(source, dtype=object)[positions].tolist()

    problems = [("negative", np.flatnonzero(array < 0)), ("infinite", np.flatnonzero(np.isinf(array)))]
    if maximum is not None:
        large = np.flatnonzero(np.isfinite(array) & (array > maximum))
        problems.append((f"implausibly large (above {maximum:,.0f})", large))
    for problem, bad in problems:
        if bad.size:
            msg = (
                f"{name}: column `{column}` has {bad.size} {problem} "
                f"{'value' if bad.size == 1 else 'values'} ({describe_rows(labels(bad))}); {meaning}"
            )
            raise InputDataError(msg)


def check_unique(values: pd.Series, *, name: str, column: str, row_labels: Sequence[object] | None = None) -> None:
    """Raise if ``values`` has duplicates, naming the duplicated values and their rows."""
    duplicated = values.duplicated(keep=False).to_numpy()
    if duplicated.any():
        labels = np.asarray(row_labels if row_labels is not None else values.index, dtype=object)
        dupes = sorted({str(v) for v in values[duplicated]})
        msg = (
            f"{name}: column `{column}` must be unique but {', '.join(dupes[:MAX_ROWS_LISTED])} repeat "
            f"({describe_rows(labels[duplicated])}); give each row its own id or drop the column to generate ids"
        )
        raise InputDataError(msg)


def check_distance(value: float, *, name: str) -> float:
    """A distance option as a float, once checked to be a positive finite number of metres.

    Parameters
    ----------
    value : float
        The option's value (metres).
    name : str
        The option's name for the message (``"max_distance_m"``).

    Returns
    -------
    float

    Raises
    ------
    InputDataError
        When ``value`` is zero, negative, infinite or NaN.

    Examples
    --------
    >>> check_distance(500, name="max_distance_m")
    500.0
    """
    value = float(value)
    if not (value > 0 and math.isfinite(value)):
        msg = f"{name} must be a positive finite number of metres, got {value!r}"
        raise InputDataError(msg)
    return value


def check_facility_ids(facilities: pd.DataFrame, *, what: str = "facilities") -> np.ndarray:
    """The ``facility_id`` of each facility as strings, once checked to be present and unique.

    Parameters
    ----------
    facilities : pandas.DataFrame
        The facility table (a GeoDataFrame as read by ``ordos_geo.io.read_facilities``).
    what : str, default "facilities"
        The table's name for the message.

    Returns
    -------
    numpy.ndarray
        Object array of ``str`` ids, aligned with the rows.

    Raises
    ------
    InputDataError
        When the column is missing or has duplicated values (the first five named).
    """
    if "facility_id" not in facilities.columns:
        msg = f"{what}: column `facility_id` is missing; give each facility a unique id"
        raise InputDataError(msg)
    ids = facilities["facility_id"].astype(str).to_numpy()
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if dup.any():
        examples = ", ".join(sorted(set(ids[dup]))[:5])
        msg = f"{what}: column `facility_id` has {dup.sum()} duplicated values ({examples}); ids must be unique"
        raise InputDataError(msg)
    return ids


def check_network_frame(gdf: gpd.GeoDataFrame, network_crs: pyproj.CRS, *, what: str) -> None:
    """Raise unless ``gdf`` is a GeoDataFrame in the walk network's CRS with no missing or empty geometry.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The frame to be snapped onto the walk network or measured on it.
    network_crs : pyproj.CRS
        The walk network's metric CRS (``WalkNetwork.crs``).
    what : str
        The frame's name for the message (``"population cells"``).

    Raises
    ------
    InputDataError
        Naming the fix: set the CRS, project with ``gdf.to_crs(network.crs)``,
        or drop the rows without geometry (the first five listed).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise InputDataError(msg)
    if gdf.crs is None:
        msg = f"{what}: has no CRS; set it (gdf.set_crs) and project it to the network CRS with gdf.to_crs(network.crs)"
        raise InputDataError(msg)
    if pyproj.CRS.from_user_input(gdf.crs) != network_crs:
        msg = (
            f"{what}: CRS {gdf.crs.to_string()} differs from the walk network's {network_crs.to_string()}; "
            "project it first with gdf.to_crs(network.crs)"
        )
        raise InputDataError(msg)
    geoms = gdf.geometry.values
    bad = np.flatnonzero(shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms)))
    if len(bad):
        rows = ", ".join(str(r) for r in bad[:5])
        msg = f"{what}: {len(bad)} rows have missing or empty geometry (rows {rows}); drop or fix them"
        raise InputDataError(msg)


def polygonal_part(geometry: Any) -> Any:
    """A polygon made valid (``shapely.make_valid``) and cut to its polygonal part; an empty Polygon when none.

    A valid geometry is returned as it is. A self-crossing or self-touching
    ring becomes the union of the polygons ``make_valid`` gives (the points or
    lines it may add at the crossings are dropped).
    """
    if geometry.is_valid:
        return geometry
    fixed = shapely.make_valid(geometry)
    parts = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
