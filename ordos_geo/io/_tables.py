"""Reading CSV / TSV / Excel tables (UTF-8 or GB18030) and parsing their columns: names, points, numbers, yes/no."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo._errors import InputDataError, MissingDependencyError
from ordos_geo._validate import check_columns, describe_rows

#: File endings of tables (CSV, TSV, Excel).
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
#: Accepted spellings of a name column (compared case-insensitively, first match wins).
_NAME_ALIASES = ("name", "名称", "name_zh", "title")
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "lon_wgs84", "wgs84_lon", "gcj_lon", "bd_lon")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "lat_wgs84", "wgs84_lat", "gcj_lat", "bd_lat")
_LOCATION_NAMES = ("location", "坐标", "lnglat", "lonlat")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
_TRUE = frozenset({"true", "yes", "y", "1", "是", "开放", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "不开放", "f"})
_UNKNOWN = frozenset({"unknown", "未知", "?"})


def _find_column(columns: Any, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in names:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _required_column(frame: gpd.GeoDataFrame, column: str, aliases: tuple[str, ...], *, name: str, hint: str) -> str:
    """The attribute ``column`` of ``frame``, else the first of ``column, *aliases`` it has (case-insensitively).

    Raises :class:`~ordos_geo._errors.InputDataError` naming ``column``, the
    columns found and ``hint`` when the frame has none of them.
    """
    attributes = frame.columns.drop(frame.geometry.name)
    found = column if column in attributes else _find_column(attributes, (column, *aliases))
    if found is None:
        check_columns(frame, [column], name=name, hint=hint)
        raise AssertionError  # pragma: no cover - check_columns raised
    return found


#: ``attrs`` key of a table read from a CSV or Excel file: each row's number as the planner sees it there
#: (Excel's row number: the header and any title rows above it counted, 1-based).
_ROW_NUMBERS = "row_numbers"


def _row_labels(table: pd.DataFrame, positions: Any, *, name_column: str | None = None) -> list[str]:
    """Row numbers, with the row's name where there is one: ``3 (Dongsheng Stadium)``.

    A table read from a CSV or Excel file is numbered as the planner sees it in Excel
    (``attrs["row_numbers"]``); other frames count their rows from 1.
    """
    numbers = table.attrs.get(_ROW_NUMBERS)
    if numbers is None or len(numbers) != len(table):  # not read from a table file, or rows dropped since
        numbers = range(1, len(table) + 1)
    labels = []
    for position in np.asarray(positions, dtype=int).tolist():
        label = str(numbers[position])
        if name_column is not None and name_column in table.columns:
            value = table[name_column].iloc[position]
            if isinstance(value, str) and value.strip():
                label += f" ({value.strip()})"
        labels.append(label)
    return labels


def _keep_rows(table: pd.DataFrame, keep: Any) -> pd.DataFrame:
    """The rows of ``table`` where ``keep`` is true, index ``0..n-1``, each keeping its row number in the file."""
    keep = np.asarray(keep, dtype=bool)
    numbers = table.attrs.get(_ROW_NUMBERS)
    out = table.loc[keep].reset_index(drop=True)
    if numbers is not None and len(numbers) == len(table):
        out.attrs[_ROW_NUMBERS] = tuple(np.asarray(numbers)[keep].tolist())
    return out


def _read_table(file: Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a CSV / TSV / Excel table of strings, trying UTF-8 then GB18030 (Chinese Excel).

    An Excel workbook is read as exported from Amap, Baidu or a bureau's
    spreadsheet: :func:`_excel_sheet` chooses the sheet and the header row.
    Rows without any value are left out; ``attrs["row_numbers"]`` holds each
    row's number as Excel shows it (:func:`_row_labels` names rows by it).
    """
    table = _read_any_table(file, sheet=sheet)
    return _keep_rows(table, table.notna().to_numpy().any(axis=1))


def _read_any_table(file: Path, *, sheet: str | int | None) -> pd.DataFrame:
    suffix = file.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _excel_sheet(file, sheet=sheet)
        sep = "\t" if suffix == ".tsv" else None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                start = _csv_header_line(file, encoding=encoding, sep=sep)
                table = pd.read_csv(
                    file, dtype=str, sep=sep, engine="python", encoding=encoding, skipinitialspace=True, skiprows=start
                )
            except UnicodeDecodeError:
                continue
            table.attrs[_ROW_NUMBERS] = tuple(range(start + 2, start + len(table) + 2))  # the header is row start + 1
            return table
        msg = f"{file}: cannot decode the text; save the table as UTF-8 CSV"
        raise InputDataError(msg)
    except pd.errors.EmptyDataError as error:
        msg = f"{file}: the table is empty (no header, no rows); export the facility list again"
        raise InputDataError(msg) from error
    except (pd.errors.ParserError, ValueError, OSError, csv.Error, zipfile.BadZipFile, KeyError) as error:
        if isinstance(error, InputDataError):
            raise
        msg = f"{file}: cannot read this table ({error}); save it as UTF-8 CSV or .xlsx with one header row"
        raise InputDataError(msg) from error


#: Rows searched for the header of an Excel sheet or a CSV file (title rows above it are skipped).
_HEADER_SEARCH_ROWS = 10


def _csv_header_line(file: Path, *, encoding: str, sep: str | None) -> int:
    """Lines above a CSV's header: title lines (``鄂尔多斯市体育场馆清单``) before the first line naming a known column.

    Found as in an Excel sheet (:func:`_header_position`), the top lines split by ``sep`` or,
    when pandas is to sniff it, by the first of ``,`` ``;`` tab ``|`` that shows such a header.
    0 when no top line names a known column (the first line is the header, as before).
    """
    with file.open(encoding=encoding, newline="") as handle:
        head = [line for _, line in zip(range(_HEADER_SEARCH_ROWS), handle, strict=False)]
    for delimiter in (sep,) if sep else (",", ";", "\t", "|"):
        position = _header_position([list(row) for row in csv.reader(head, delimiter=delimiter)])
        if position is not None:
            return position
    return 0


def _excel_sheet(file: Path, *, sheet: str | int | None) -> pd.DataFrame:
    """One sheet of a workbook as a table: merged cells filled, title rows above the header skipped.

    ``sheet`` (the ``layer`` option) names the sheet or gives its position;
    without it, the one sheet with rows, or else the one sheet whose header
    has coordinate columns, is read; several such sheets are an error naming
    them. The header is the first of the top rows naming a known column
    (``名称``, ``经度``, ``lon``...), so a title row such as
    ``鄂尔多斯市体育场馆清单`` above it is skipped; a merged cell gives its
    value to every cell it covers (a district merged over its venues).
    """
    try:
        import openpyxl
    except ImportError as error:  # pragma: no cover - dependency
        msg = f"{file}: reading Excel needs openpyxl: pip install openpyxl"
        raise MissingDependencyError(msg) from error
    book = openpyxl.load_workbook(file, data_only=True)  # not read-only: merged ranges are only known then
    numbered = {ws.title: _sheet_rows(ws) for ws in book.worksheets}
    sheets = {title: [row for _, row in rows] for title, rows in numbered.items()}
    book.close()
    names = list(sheets)
    if sheet is not None:
        chosen = names[sheet] if isinstance(sheet, int) and -len(names) <= sheet < len(names) else sheet
        if chosen not in sheets:
            msg = f"{file}: has no sheet {sheet!r} (sheets: {', '.join(names)}); {_SHEET_OPTION}"
            raise InputDataError(msg)
        return _frame_from_rows(numbered[str(chosen)])
    filled = [n for n in names if len(sheets[n]) > 1]
    if len(filled) > 1:
        filled = [n for n in filled if _header_position(sheets[n]) is not None] or filled
    if len(filled) > 1:
        msg = (
            f"{file}: has {len(filled)} sheets with rows ({', '.join(filled)}); choose one: {_SHEET_OPTION}; "
            "to read them all (a sheet per district), list the file once per sheet: extra_facilities = "
            f'[{{ path = "{file.name}", layer = "{filled[1]}" }}]'
        )
        raise InputDataError(msg)
    return _frame_from_rows(numbered[filled[0] if filled else names[0]])


_SHEET_OPTION = (
    'study file: [inputs] layers = { <input> = "<sheet>" }; command line: --layer <input>=<sheet>; Python: layer='
)


def _sheet_rows(ws: Any) -> list[tuple[int, list[Any]]]:
    """The cells of a worksheet row by row with Excel's row numbers, merged ranges filled, empty rows dropped."""
    rows = [list(row) for row in ws.iter_rows(min_row=1, values_only=True)]
    for merged in ws.merged_cells.ranges:
        value = ws.cell(merged.min_row, merged.min_col).value
        for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
            for c in range(merged.min_col - 1, min(merged.max_col, len(rows[r]))):
                rows[r][c] = value
    return [(number, row) for number, row in enumerate(rows, start=1) if any(_filled(v) for v in row)]


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _header_position(rows: list[list[Any]]) -> int | None:
    """Index of the first of the top rows that names a coordinate or name column, None when none does.

    Only title rows (one value, perhaps merged across the row) may stand above it: a row of
    several values is a header of its own, so a data row holding ``x`` is never taken for one.
    """
    known = {n.lower() for n in (*_LON_NAMES, *_LAT_NAMES, *_LOCATION_NAMES, *_WKT_NAMES, *_NAME_ALIASES)}
    for position, row in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        if any(isinstance(v, str) and v.strip().lower() in known for v in row):
            return position
        if len({str(v).strip() for v in row if _filled(v)}) > 1:
            return None
    return None


def _frame_from_rows(numbered: list[tuple[int, list[Any]]]) -> pd.DataFrame:
    """A table from a sheet's numbered rows: the header row found by :func:`_header_position` (else the first)."""
    if not numbered:
        raise pd.errors.EmptyDataError
    rows = [row for _, row in numbered]
    start = _header_position(rows) or 0
    header = [str(v).strip() if _filled(v) else f"Unnamed: {i}" for i, v in enumerate(rows[start])]
    body = rows[start + 1 :]
    width = len(header)
    table = pd.DataFrame([row[:width] + [None] * (width - len(row)) for row in body], columns=header, dtype=object)
    keep = [c for c in table.columns if not (str(c).startswith("Unnamed: ") and table[c].isna().all())]
    table = table[keep]
    table.attrs[_ROW_NUMBERS] = tuple(number for number, _ in numbered[start + 1 :])
    return table


def _points_from_table(
    table: pd.DataFrame, *, file: Path, lon_column: str | None, lat_column: str | None
) -> gpd.GeoDataFrame:
    """Build geometries (CRS unset: degrees of the declared datum) from lon/lat or WKT columns."""
    name_column = _find_column(table.columns, _NAME_ALIASES)
    if lon_column is not None or lat_column is not None:
        check_columns(
            table,
            [c for c in (lon_column, lat_column) if c is not None],
            name=file.name,
            hint="check the lon_column / lat_column options (--lon-column / --lat-column)",
        )
    lon_col = lon_column or _find_column(table.columns, _LON_NAMES)
    lat_col = lat_column or _find_column(table.columns, _LAT_NAMES)
    if lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(float)
        where = f"columns `{lon_col}`/`{lat_col}`"
    else:
        location_col = _find_column(table.columns, _LOCATION_NAMES)
        wkt_col = _find_column(table.columns, _WKT_NAMES)
        if location_col is not None:
            parts = table[location_col].astype(str).str.split(r"[,，\s]+", n=1, expand=True, regex=True)
            parts = parts.reindex(columns=[0, 1])
            lon = pd.to_numeric(parts[0], errors="coerce").to_numpy(float)
            lat = pd.to_numeric(parts[1], errors="coerce").to_numpy(float)
            where = f'column `{location_col}` ("lon,lat")'
        elif wkt_col is not None:
            geometry = shapely.from_wkt(table[wkt_col].to_numpy(dtype=object), on_invalid="ignore")
            bad = np.flatnonzero(shapely.is_missing(geometry) | shapely.is_empty(geometry))
            if bad.size:
                msg = (
                    f"{file.name}: column `{wkt_col}` has {bad.size} missing or invalid WKT geometries "
                    f"({_describe(table, bad, name_column)}); fix or drop those rows"
                )
                raise InputDataError(msg)
            return gpd.GeoDataFrame(table.drop(columns=[wkt_col]), geometry=geometry, crs=None)
        else:
            found = ", ".join(f"`{c}`" for c in table.columns)
            msg = (
                f"{file.name}: no coordinate columns; expected longitude/latitude columns such as "
                "`lon`/`lat`, "
                f"`lng`/`lat`, `longitude`/`latitude` or `经度`/`纬度` (columns found: {found}); "
                "name them with the lon_column and lat_column options ([inputs] lon_column / lat_column in the "
                "study "
                "file, --lon-column / --lat-column on the command line)"
            )
            raise InputDataError(msg)
    missing = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat))
    if missing.size:
        msg = (
            f"{file.name}: {where} have {missing.size} missing or non-numeric coordinates "
            f"({_describe(table, missing, name_column)}); fill them or drop those rows"
        )
        raise InputDataError(msg)
    swapped = np.flatnonzero((np.abs(lat) > 90) & (np.abs(lon) <= 90))
    if swapped.size:
        msg = (
            f"{file.name}: {where} look swapped: latitude beyond ±90° but longitude within it "
            f"({_describe(table, swapped, name_column)}); swap "
            "the lon_column and lat_column options (--lon-column / --lat-column)"
        )
        raise InputDataError(msg)
    outside = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if outside.size:
        msg = (
            f"{file.name}: {where} are not longitude/latitude degrees "
            f"({_describe(table, outside, name_column)}); give WGS-84, GCJ-02 or BD-09 degrees"
        )
        raise InputDataError(msg)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=None)


def _describe(table: pd.DataFrame, positions: Any, name_column: str | None = None) -> str:

    return describe_rows(_row_labels(table, positions, name_column=name_column))


def _parse_bool(
    values: pd.Series,
    *,
    name: str,
    column: str,
    table: pd.DataFrame,
    name_column: str | None,
    empty: bool | None = True,
    empty_means: str = "open",
) -> np.ndarray:

    out = np.full(len(values), empty, dtype=object)
    bad = []
    for i, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, bool | np.bool_):
            out[i] = bool(value)
            continue
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text == "" or text == "nan":
            continue
        if text in _TRUE:
            out[i] = True
        elif text in _FALSE:
            out[i] = False
        elif text in _UNKNOWN:
            out[i] = None
        else:
            bad.append(i)
    if bad:
        msg = (
            f"{name}: column `{column}` has values that are not yes/no ({_describe(table, bad, name_column)}); "
            f"use true/false, yes/no, 1/0, 是/否 or unknown/未知 (empty means {empty_means})"
        )
        raise InputDataError(msg)
    return out if any(v is None for v in out) else out.astype(bool)


#: Units a number cell of an area column may carry, and the factor to m² (``"1,200㎡"``, ``"1.2万平方米"``).
AREA_UNITS: dict[str, float] = {
    "㎡": 1.0,
    "m²": 1.0,
    "m2": 1.0,
    "平方米": 1.0,
    "平米": 1.0,
    "平方": 1.0,
    "sqm": 1.0,
    "公顷": 10_000.0,
    "ha": 10_000.0,
    "亩": 10_000.0 / 15.0,
}
#: Units a number cell of a count of people may carry (``"1,200人"``).
PEOPLE_UNITS: dict[str, float] = {"人": 1.0, "people": 1.0, "persons": 1.0}
#: Units a cost cell may carry, read in yuan (``"50万元"`` = 500,000; ``"1.2亿元"``).
COST_UNITS: dict[str, float] = {"元": 1.0, "人民币": 1.0, "yuan": 1.0, "rmb": 1.0, "cny": 1.0}
#: Chinese multipliers before the unit (``"1.2万"`` = 12,000).
_MULTIPLIERS = {"万": 10_000.0, "亿": 100_000_000.0}


def _numeric(
    values: pd.Series,
    *,
    name: str,
    column: str,
    table: pd.DataFrame,
    name_column: str | None,
    units: dict[str, float] | None = None,
) -> np.ndarray:
    """A column of numbers (NaN where empty): thousands separators dropped, ``units`` (suffix -> factor) applied.

    With ``units`` a cell such as ``"1,200㎡"``, ``"1.2万㎡"`` or ``"3亩"`` is
    read in the column's unit (here m²); a cell with another unit is an error
    naming its rows, so an area in hectares is never read as m².
    """
    cleaned = values.astype(object).where(values.notna(), None).map(lambda v: _number_text(v, units))
    numbers = np.array(pd.to_numeric(cleaned, errors="coerce"), dtype=float)
    bad = np.flatnonzero(np.isnan(numbers) & cleaned.notna().to_numpy())
    if bad.size:
        accepted = f" or numbers with a unit ({', '.join(units)}, 万 for 10,000)" if units else ""
        msg = (
            f"{name}: column `{column}` has non-numeric values ({_describe(table, bad, name_column)}); "
            f"give numbers{accepted}"
        )
        raise InputDataError(msg)
    return numbers


def _number_text(value: Any, units: dict[str, float] | None) -> Any:
    """A cell ready for ``pd.to_numeric``: ``"1,200㎡"`` -> ``1200.0``, ``""`` -> None, other text kept (an error)."""
    if not isinstance(value, str):
        return value
    text = value.replace(",", "").replace("，", "").strip()
    if text == "":
        return None
    if not units:
        return text
    factor = 1.0
    lowered = text.lower()
    for unit in sorted(units, key=len, reverse=True):  # 平方米 before 平方
        if lowered.endswith(unit.lower()):
            text, factor = text[: -len(unit)].strip(), units[unit]
            break
    if text[-1:] in _MULTIPLIERS:
        text, factor = text[:-1].strip(), factor * _MULTIPLIERS[text[-1]]
    try:
        return float(text) * factor
    except ValueError:
        return value


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
