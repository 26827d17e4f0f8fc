"""Reading population (rasters, points with counts, community polygons) into populated cells."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ordos_geo import settings
from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_input_file, check_non_negative_finite
from ordos_geo.io._tables import (
    _NAME_ALIASES,
    _ROW_NUMBERS,
    _TABLE_SUFFIXES,
    PEOPLE_UNITS,
    _describe,
    _find_column,
    _numeric,
    _required_column,
    _row_labels,
)
from ordos_geo.io.vectors import _VECTOR_SUFFIXES, _inside_any, _study_area_parts, _xy_inside_any, read_vector

__all__ = ["read_population"]

logger = logging.getLogger(__package__)  # one logger for the io package: 'ordos_geo.io'


_RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")
#: Other spellings of the population column, tried (case-insensitively) when ``population_column`` is absent.
_POPULATION_NAMES = ("pop", "人口", "人口数", "常住人口")

#: ``attrs`` key of a cells table read from a raster: the raster's width, by which each ``cell_id`` is
#: ``row * width + col`` and every corner shared by neighbouring cells is one point (the groups of touching
#: cells and their outlines are then read off the grid; see :mod:`ordos_geo.accessibility`).
RASTER_WIDTH = "raster_width"


def read_population(
    path: str | os.PathLike[str],
    *,
    population_column: str = "population",
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any | None = None,
    layer: str | int | None = None,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
    lon_column: str | None = None,
    lat_column: str | None = None,
    residential: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame | None] | None = None,
    grid_crs: Any = None,
    grid_m: float = settings.POPULATION_GRID_M,
    crs: Any = 4326,
) -> gpd.GeoDataFrame:
    """Read population in the forms planners hold it into populated cells.

    Three forms, told apart by the file:

    - ``"raster"``: a single-band GeoTIFF of people per cell (WorldPop / GHSL
      style, any CRS, nodata honoured);
    - ``"points"``: a CSV / Excel table with longitude/latitude columns (or a
      vector file of points) and a population column, in WGS-84, GCJ-02 or
      BD-09; each point stands for its people;
    - ``"polygons"``: community (社区/居委会) or street (街道) polygons with a
      count, spread dasymetrically onto a ``grid_m`` grid in ``grid_crs``: each
      polygon's count goes to the grid cells in proportion to the area of
      ``residential`` land and buildings inside the polygon and the cell,
      evenly by area when the polygon holds none; every polygon's total is kept.

    Parameters
    ----------
    path : str or os.PathLike
        GeoTIFF; CSV / TSV / XLSX; or GeoJSON, GeoPackage, Shapefile...
    population_column : str
        Population column of a table or vector file (also found as ``pop`` or ``人口``).
    study_area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Keep only raster cells and points inside it (a shapely geometry is
        read as WGS-84; ``attrs["outside_study_area"]`` counts the people of
        points left out); polygons lying wholly outside it are refused, the
        others are spread whole (their cells may reach past its edge).
    layer : str or int, optional
        Layer of a multi-layer vector file.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of degree coordinates of points and polygons (Amap: ``"gcj02"``).
    lon_column, lat_column : str, optional
        Coordinate columns of a table, when not found by their usual names.
    residential : geopandas.GeoDataFrame or callable, optional
        Residential land and buildings (e.g. ``read_osm_features(extract,
        settings.RESIDENTIAL_OSM_TAGS)``) for the polygon form, or a function
        returning them, called only for that form.
    grid_crs : pyproj.CRS, str or int, optional
        Metric CRS of the grid (default: :func:`ordos_geo._crs.metric_crs_for`).
    grid_m : float
        Grid cell size in metres (default 100).
    crs : pyproj.CRS, str or int
        CRS of the cells returned (default WGS-84). A raster's cells are made
        in it straight away: each corner shared by neighbouring cells is
        transformed once, a fraction of reprojecting the cells afterwards.

    Returns
    -------
    geopandas.GeoDataFrame
        In ``crs`` (default EPSG:4326), one row per populated cell (population > 0): ``cell_id``
        (int, unique: ``row * width + col`` of a raster cell; ``row * 10**7 +
        col`` of a grid cell of the polygon form, counted from the CRS origin;
        for points the ``cell_id`` column if present and unique, else the row
        position), ``population`` (float, people), ``geometry`` (the cell
        polygon; points stay points). ``attrs["population_form"]`` is
        ``"raster"``, ``"points"`` or ``"polygons"``; a raster adds
        ``attrs[RASTER_WIDTH]`` (its width), points add
        ``attrs["outside_study_area"]``, polygons
        ``attrs["population_polygons"]`` and
        ``attrs["polygons_without_residential"]``.

    Raises
    ------
    InputDataError
        No population column, negative or non-finite counts (rows named),
        polygons outside the study area, a raster without CRS, no populated cell.

    Examples
    --------
    >>> from ordos_geo import settings
    >>> cells = read_population(settings.SAMPLE_DIR / "population.tif")
    >>> cells.attrs["population_form"], bool(cells["population"].gt(0).all())
    ('raster', True)
    """
    file = check_input_file(path, what="population", suffixes=_RASTER_SUFFIXES + _VECTOR_SUFFIXES + _TABLE_SUFFIXES)
    if file.name.lower().endswith(_RASTER_SUFFIXES):
        extra: Mapping[str, float] = {}
        cells, form = _population_from_raster(file, study_area=study_area, crs=crs), "raster"
    else:
        frame = read_vector(
            file,
            what="population",
            layer=layer,
            coordinate_system=coordinate_system,
            geometry_types=("Point", "MultiPoint", "Polygon", "MultiPolygon"),
            lon_column=lon_column,
            lat_column=lat_column,
        )
        values = _population_counts(frame, file=file, population_column=population_column)
        if frame.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            land = residential() if callable(residential) else residential
            cells, extra = _population_from_polygons(
                frame, values, file=file, study_area=study_area, residential=land, grid_crs=grid_crs, grid_m=grid_m
            )
            form = "polygons"
        elif frame.geom_type.isin(["Point", "MultiPoint"]).all():
            cells, extra = _population_from_points(frame, values, file=file, study_area=study_area)
            form = "points"
        else:
            msg = (
                f"{file.name}: population features mix points and polygons; give one form per file (points "
                "with counts, or community/street polygons with counts)"
            )
            raise InputDataError(msg)
        if not pyproj.CRS.from_user_input(crs).equals(cells.crs):
            cells = cells.to_crs(crs)
    cells.attrs.pop(_ROW_NUMBERS, None)  # the table's row numbers served its messages; not a property of the cells
    cells.attrs.update(population_form=form, **extra)
    logger.info(
        "%s: %s population, %s populated cells, %s people",
        file.name,
        form,
        f"{len(cells):,}",
        f"{cells['population'].sum():,.0f}",
    )
    return cells


def _population_from_raster(file: Path, *, study_area: Any, crs: Any) -> gpd.GeoDataFrame:
    import rasterio
    import rasterio.windows

    try:
        dataset = rasterio.open(file)
    except rasterio.errors.RasterioError as error:
        msg = f"{file}: cannot read this raster ({error}); give a GeoTIFF of people per cell"
        raise InputDataError(msg) from error
    with dataset:
        if dataset.crs is None:
            msg = (
                f"{file}: the raster has no CRS; set it, e.g. `gdal_edit.py -a_srs EPSG:4326 {file.name}` "
                "(WorldPop and GHSL grids are EPSG:4326 / ESRI:54009)"
            )
            raise InputDataError(msg)
        if dataset.count < 1:
            msg = f"{file}: the raster has no band; give a single-band population grid"
            raise InputDataError(msg)
        window = None
        area = None
        if study_area is not None:
            area = _study_area_parts(study_area, dataset.crs)
            full = rasterio.windows.Window(0, 0, dataset.width, dataset.height)
            try:
                window = rasterio.windows.from_bounds(*shapely.total_bounds(area), transform=dataset.transform)
                window = window.round_offsets(op="floor").round_lengths(op="ceil").intersection(full)
            except rasterio.errors.WindowError:
                window = rasterio.windows.Window(0, 0, 0, 0)
        try:
            values = dataset.read(1, window=window, masked=True)
        except rasterio.errors.RasterioError as error:
            msg = (
                f"{file}: the raster's cells cannot be read ({error}); the file is truncated or corrupt: "
                "download or export it again"
            )
            raise InputDataError(msg) from error
        row_offset = int(window.row_off) if window is not None else 0
        col_offset = int(window.col_off) if window is not None else 0
        transform = dataset.transform
        width = dataset.width
        crs_of_raster = dataset.crs
    data = np.asarray(values.data, dtype=float)
    valid = ~np.ma.getmaskarray(values)
    if dataset.nodata is not None and np.isnan(dataset.nodata):
        valid &= ~np.isnan(data)
    _reject_bad_cells(file, data, valid, row_offset, col_offset, nodata=dataset.nodata)
    populated = valid & (data > 0)
    rows, cols = np.nonzero(populated)
    if rows.size == 0:
        n_valid = int(valid.sum())
        where = " inside the study area" if study_area is not None else ""
        msg = (
            f"{file}: no populated cells{where}: {n_valid:,} valid cells, none above 0 (nodata = "
            f"{dataset.nodata}); check the raster covers the study area and its nodata value"
        )
        raise InputDataError(msg)
    population = data[rows, cols]
    rows = rows + row_offset
    cols = cols + col_offset
    if area is not None:
        # cell centres through the affine transform, as the middle of two opposite corners
        x0 = transform.a * cols + transform.b * rows + transform.c
        y0 = transform.d * cols + transform.e * rows + transform.f
        x2 = transform.a * (cols + 1) + transform.b * (rows + 1) + transform.c
        y2 = transform.d * (cols + 1) + transform.e * (rows + 1) + transform.f
        inside = _xy_inside_any(area, (x0 + x2) / 2, (y0 + y2) / 2)
        if not inside.any():
            msg = f"{file}: no populated cell centre lies inside the study area; check the raster covers it"
            raise InputDataError(msg)
        rows, cols, population = rows[inside], cols[inside], population[inside]
    cells = gpd.GeoDataFrame(
        {"cell_id": rows.astype(np.int64) * width + cols.astype(np.int64), "population": population},
        geometry=_cell_polygons(rows, cols, transform, crs_from=crs_of_raster, crs_to=crs),
        crs=crs,
    )
    cells.attrs[RASTER_WIDTH] = int(width)
    return cells


def _cell_polygons(rows: np.ndarray, cols: np.ndarray, transform: Any, *, crs_from: Any, crs_to: Any) -> np.ndarray:
    """The polygons of raster cells ``(rows, cols)`` in ``crs_to``: corners through the affine ``transform``.

    A corner is shared by up to four cells: each is computed and transformed
    once, then the rings are built in one call (``shapely.from_ragged_array``).
    """
    corner_cols = cols[:, None] + np.array([0, 1, 1, 0, 0])[None, :]
    corner_rows = rows[:, None] + np.array([0, 0, 1, 1, 0])[None, :]
    stride = int(cols.max()) + 2
    corners, position = np.unique(corner_rows * stride + corner_cols, return_inverse=True)
    corner_row, corner_col = np.divmod(corners, stride)
    x = transform.a * corner_col + transform.b * corner_row + transform.c
    y = transform.d * corner_col + transform.e * corner_row + transform.f
    if not pyproj.CRS.from_user_input(crs_to).equals(pyproj.CRS.from_user_input(crs_from)):
        x, y = pyproj.Transformer.from_crs(crs_from, crs_to, always_xy=True).transform(x, y)
    coords = np.column_stack([np.asarray(x)[position.ravel()], np.asarray(y)[position.ravel()]])
    n = len(rows)
    return shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (np.arange(0, 5 * n + 1, 5), np.arange(n + 1))
    )


def _reject_bad_cells(
    file: Path, data: np.ndarray, valid: np.ndarray, row_offset: int, col_offset: int, *, nodata: float | None
) -> None:
    """Raise for a non-finite or negative cell that is not nodata, naming the first cells and the fix.

    A raster without a nodata value whose negative cells all hold one value
    (ArcGIS and some exports fill the empty cells with -3.4e38 or -9999 but do
    not declare it) is told how to declare it, with that value.
    """
    for label, bad in (("non-finite", valid & ~np.isfinite(data)), ("negative", valid & (data < 0))):
        if bad.any():
            rows, cols = np.nonzero(bad)
            first = ", ".join(
                f"(row {r + row_offset}, col {c + col_offset})"
                for r, c in zip(rows[:5].tolist(), cols[:5].tolist(), strict=True)
            )
            values = np.unique(data[bad])
            if nodata is None and values.size == 1:
                value = f"{values[0]:.9g}"
                fix = (
                    f"the raster declares no nodata value and these cells all hold {value}: declare it, "
                    f"e.g. `gdal_edit.py -a_nodata {value} {file.name}` (on a copy to keep the original)"
                )
            else:
                fix = "people per cell must be >= 0: set those cells to the raster's nodata value or 0"
            msg = f"{file}: {int(bad.sum()):,} {label} population values that are not nodata, first at {first}; {fix}"
            raise InputDataError(msg)


def _population_counts(frame: gpd.GeoDataFrame, *, file: Path, population_column: str) -> np.ndarray:
    """The population column of a table or vector file as numbers >= 0 (one-line errors otherwise)."""
    columns = frame.columns.drop(frame.geometry.name)
    column = _required_column(
        frame,
        population_column,
        _POPULATION_NAMES,
        name=file.name,
        hint="name the count column with --population-column or [inputs] population_column",
    )
    name_column = _find_column(columns, _NAME_ALIASES)
    values = _numeric(
        frame[column], name=file.name, column=column, table=frame, name_column=name_column, units=PEOPLE_UNITS
    )
    check_non_negative_finite(
        pd.Series(values),
        name=file.name,
        column=column,
        meaning="population counts people and must be >= 0",
        row_labels=lambda rows: _row_labels(frame, rows, name_column=name_column),
    )
    return values


def _population_from_points(
    frame: gpd.GeoDataFrame, values: np.ndarray, *, file: Path, study_area: Any
) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    if "cell_id" in frame.columns and not frame["cell_id"].duplicated().any() and frame["cell_id"].notna().all():
        cell_id = pd.to_numeric(frame["cell_id"], errors="coerce")
        cell_id = cell_id.to_numpy(np.int64) if cell_id.notna().all() else np.arange(len(frame), dtype=np.int64)
    else:
        cell_id = np.arange(len(frame), dtype=np.int64)
    cells = gpd.GeoDataFrame({"cell_id": cell_id, "population": values}, geometry=frame.geometry.array, crs=4326)
    populated = values > 0
    inside = np.ones(len(values), dtype=bool)
    if study_area is not None:
        inside = _inside_any(_study_area_parts(study_area, 4326), shapely.point_on_surface(cells.geometry.array))
    if study_area is not None and populated.any() and not (populated & inside).any():
        x0, y0, x1, y1 = shapely.total_bounds(cells.geometry.array[populated])
        a0, b0, a1, b1 = shapely.total_bounds(_study_area_parts(study_area, 4326))
        msg = (
            f"{file.name}: all {int(populated.sum()):,} populated points (lon {x0:.3f}..{x1:.3f}, lat "
            f"{y0:.3f}..{y1:.3f}) lie outside the study area (lon {a0:.3f}..{a1:.3f}, lat {b0:.3f}..{b1:.3f}); "
            "give the boundaries of the same place (--boundaries or [inputs] boundaries), or check the "
            "coordinates and their datum (population_coordinates)"
        )
        raise InputDataError(msg)
    cells = cells.loc[populated & inside].reset_index(drop=True)
    if len(cells) == 0:
        where = " inside the study area" if study_area is not None else ""
        msg = f"{file.name}: no point with population above 0{where}; check the counts and the coordinates"
        raise InputDataError(msg)
    return cells, {"outside_study_area": float(values[populated & ~inside].sum())}


#: Precision (metres) population polygons are snapped to before they are cut by the grid.
_POLYGON_PRECISION_M = 0.1


def _population_from_polygons(
    frame: gpd.GeoDataFrame,
    values: np.ndarray,
    *,
    file: Path,
    study_area: Any,
    residential: gpd.GeoDataFrame | None,
    grid_crs: Any,
    grid_m: float,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Spread each polygon's count over residential land/buildings on the grid (dasymetric), totals kept."""
    name_column = _find_column(frame.columns.drop(frame.geometry.name), _NAME_ALIASES)
    if study_area is not None:
        outside = np.flatnonzero(~_inside_any(_study_area_parts(study_area, 4326), frame.geometry.to_numpy()))
        if outside.size:
            msg = (
                f"{file.name}: {outside.size} of {len(frame)} population polygons lie outside the study area "
                f"({_describe(frame, outside, name_column)}); drop them, or check their coordinates and datum "
                "(--population-coordinates: 'wgs84', 'gcj02' for Amap, 'bd09' for Baidu)"
            )
            raise InputDataError(msg)
    crs = metric_crs_for(frame.geometry) if grid_crs is None else grid_crs
    # vertices to 10 cm: a grid-aligned polygon stored in degrees (GeoJSON keeps 7 decimals) is aligned again
    # (the second call drops the precision model, so cutting by the grid is exact again)
    polygons = shapely.set_precision(
        shapely.set_precision(frame.geometry.to_crs(crs).to_numpy(), _POLYGON_PRECISION_M), 0.0
    )
    keep = values > 0
    polygons, counts, owners = polygons[keep], values[keep], np.flatnonzero(keep)
    # the grid cells each polygon overlaps, and the piece of the polygon in each
    bounds = shapely.bounds(polygons)
    lo = np.floor(bounds[:, :2] / grid_m).astype(np.int64)
    hi = np.ceil(bounds[:, 2:] / grid_m).astype(np.int64)
    owner_parts, col_parts, row_parts = [], [], []
    for k in range(len(polygons)):
        cols, rows = np.meshgrid(np.arange(lo[k, 0], hi[k, 0]), np.arange(lo[k, 1], hi[k, 1]))
        owner_parts.append(np.full(cols.size, k))
        col_parts.append(cols.ravel())
        row_parts.append(rows.ravel())
    owner = np.concatenate(owner_parts) if owner_parts else np.zeros(0, dtype=np.int64)
    col = np.concatenate(col_parts) if col_parts else np.zeros(0, dtype=np.int64)
    row = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
    boxes = shapely.box(col * grid_m, row * grid_m, (col + 1) * grid_m, (row + 1) * grid_m)
    pieces = shapely.intersection(polygons[owner], boxes)
    area = shapely.area(pieces)
    area[area < _POLYGON_PRECISION_M**2] = 0.0  # slivers left by rounding
    weight = np.zeros(len(pieces))
    if residential is not None and len(residential):
        land = residential.to_crs(crs).geometry.to_numpy()
        land = land[np.isin(shapely.get_type_id(land), (3, 6))]  # polygons only
        if len(land):
            parts = shapely.get_parts(shapely.union_all(shapely.make_valid(land)))
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            piece_idx, part_idx = shapely.STRtree(parts).query(pieces, predicate="intersects")
            overlap = shapely.area(shapely.intersection(pieces[piece_idx], parts[part_idx]))
            np.add.at(weight, piece_idx, overlap)
            weight[(area == 0) | (weight < _POLYGON_PRECISION_M**2)] = 0.0
    total_weight = np.bincount(owner, weights=weight, minlength=len(polygons))
    total_area = np.bincount(owner, weights=area, minlength=len(polygons))
    dasymetric = total_weight[owner] > 0
    share = np.where(
        dasymetric,
        weight / np.where(dasymetric, total_weight[owner], 1.0),
        area / np.maximum(total_area[owner], 1e-300),
    )
    people = counts[owner] * share
    # cells shared by several polygons get the sum of their shares
    cell_id = row * 10_000_000 + col
    unique, inverse = np.unique(cell_id, return_inverse=True)
    population = np.bincount(inverse, weights=people, minlength=len(unique))
    first = np.zeros(len(unique), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    cells = gpd.GeoDataFrame({"cell_id": unique, "population": population}, geometry=boxes[first], crs=crs)
    # every cell is kept, also those just outside the study area: each polygon's total stays whole
    cells = cells.loc[population > 0].reset_index(drop=True).to_crs(4326)
    if len(cells) == 0:
        msg = f"{file.name}: no population polygon has a count above 0; check the population column"
        raise InputDataError(msg)
    without = int((total_weight == 0).sum())
    return cells, {"population_polygons": len(owners), "polygons_without_residential": without}
