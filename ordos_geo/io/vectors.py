"""Reading vector layers (or tables of points) into WGS-84 and checking their geometries against the study area."""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._crs import convert_to_wgs84, metric_crs_for
from ordos_geo._errors import InputDataError
from ordos_geo._validate import check_input_file, polygonal_part
from ordos_geo.io._tables import (
    _NAME_ALIASES,
    _TABLE_SUFFIXES,
    _describe,
    _find_column,
    _keep_rows,
    _points_from_table,
    _read_table,
)

__all__ = ["FACILITY_SUFFIXES", "read_candidates", "read_lines", "read_vector", "trail_labels"]

logger = logging.getLogger(__name__)

#: File endings of vector layers.
_VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml", ".geojsonl", ".geojsons", ".gpx")
#: Layers of a GPS file (``.gpx``) that hold lines, in the order a trail is looked for.
_GPX_LINE_LAYERS = ("tracks", "routes")
#: File endings :func:`~ordos_geo.io.read_facilities` and :func:`read_vector` read.
FACILITY_SUFFIXES: tuple[str, ...] = _VECTOR_SUFFIXES + _TABLE_SUFFIXES


def _read_features(
    file: Path,
    *,
    what: str,
    layer: str | int | None,
    coordinate_system: str,
    lon_column: str | None,
    lat_column: str | None,
    empty_hint: str = "",
) -> tuple[gpd.GeoDataFrame, str | None]:
    """A vector layer, or a table of points, in WGS-84 with index ``0..n-1``, and its name column.

    Every feature has a geometry in longitude/latitude range (one-line errors
    otherwise); ``empty_hint`` ends the message for a table without rows.
    """
    if file.name.lower().endswith(_TABLE_SUFFIXES):
        table = _without_total_rows(_read_table(file, sheet=layer), name=file.name)
        if len(table) == 0:
            msg = f"{file}: the table has a header but no rows{empty_hint}"
            raise InputDataError(msg)
        frame = _points_from_table(table, file=file, lon_column=lon_column, lat_column=lat_column)
    else:
        frame = _read_vector(file, layer=layer, what=what)
    frame = frame.reset_index(drop=True)
    name_column = _find_column(frame.columns.drop(frame.geometry.name), _NAME_ALIASES)
    frame = _check_geometries(frame, name=file.name, name_column=name_column)
    frame = _to_wgs84(frame, coordinate_system=coordinate_system, name=file.name)
    _check_degrees(frame, name=file.name, name_column=name_column)
    return frame, name_column


#: Labels of a spreadsheet's total rows (``合计`` under the venues), which are not features.
_TOTAL_LABELS = frozenset({"合计", "总计", "小计", "total", "totals", "sum"})


def _without_total_rows(table: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """The table without its total rows (first filled cell ``合计``/``总计``/``小计``/``Total``), index ``0..n-1``."""

    def first_cell(row: Any) -> str:
        filled = [v for v in row if v is not None and v == v and str(v).strip()]
        return "".join(str(filled[0]).split()).lower() if filled else ""

    total = np.array([first_cell(row) in _TOTAL_LABELS for row in table.itertuples(index=False)], dtype=bool)
    if total.any():
        logger.info("%s: left out %s total rows (%s)", name, int(total.sum()), _describe(table, np.flatnonzero(total)))
    return _keep_rows(table, ~total)


def _check_shapefile_parts(file: Path) -> None:
    """A Shapefile is several files: name the missing ones (GDAL's own advice is for GDAL users)."""
    if file.suffix.lower() != ".shp":
        return
    present = {p.suffix.lower() for p in file.parent.glob(f"{glob.escape(file.stem)}.*")}
    missing = [suffix for suffix in (".shx", ".dbf") if suffix not in present]
    if missing:
        msg = (
            f"{file}: a Shapefile comes with its {', '.join(missing)} (and .prj) files beside the .shp, and "
            f"{' and '.join(file.stem + s for s in missing)} are not there; copy all its files together, or "
            "export a GeoPackage (.gpkg) instead"
        )
        raise InputDataError(msg)


def _read_vector(file: Path, *, layer: str | int | None, what: str) -> gpd.GeoDataFrame:

    if layer is None and file.suffix.lower() in (".gpkg", ".gml", ".kml"):
        import pyogrio

        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(file)]
        except Exception:  # unreadable: reported by read_file below
            layers = []
        if len(layers) > 1:
            msg = (
                f"{file}: holds {len(layers)} layers ({', '.join(layers)}); choose one with the layer option "
                '(study file: [inputs] layers = { <input> = "<layer>" }; command line: --layer <input>=<layer>; '
                "Python: layer=)"
            )
            raise InputDataError(msg)
    _check_shapefile_parts(file)
    try:
        frame = gpd.read_file(file, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises DataSourceError / DataLayerError / ValueError
        msg = (
            f"{file}: cannot read this {what} layer ({error}); check the file and the layer name "
            "(--layer <input>=<layer>)"
        )
        raise InputDataError(msg) from error
    if len(frame) == 0:
        msg = f"{file}: the {what} layer has no features; export it again with its rows"
        raise InputDataError(msg)
    if frame.crs is None:
        msg = (
            f"{file}: the {what} layer has no CRS, so its coordinates cannot be placed; set it, e.g. "
            "gdf.set_crs(4326) in Python or `ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp` (for a Shapefile, "
            "supply the .prj file)"
        )
        raise InputDataError(msg)
    return frame


def _to_wgs84(frame: gpd.GeoDataFrame, *, coordinate_system: str, name: str) -> gpd.GeoDataFrame:

    if frame.crs is not None and frame.crs.is_geographic and coordinate_system == "wgs84" and frame.crs != 4326:
        frame = frame.to_crs(4326)
    return convert_to_wgs84(frame, source=coordinate_system, name=name)  # type: ignore[arg-type]


def _check_geometries(frame: gpd.GeoDataFrame, *, name: str, name_column: str | None) -> gpd.GeoDataFrame:
    """Refuse features without geometry; repair invalid polygons (self-crossing rings) with a warning.

    Returns the frame, a copy with the repaired geometries when any were invalid.
    """
    geometry = frame.geometry.array
    bad = np.flatnonzero(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if bad.size:
        msg = (
            f"{name}: {bad.size} features have no geometry ({_describe(frame, bad, name_column)}); "
            "give them coordinates or drop them"
        )
        raise InputDataError(msg)
    polygonal = np.isin(shapely.get_type_id(geometry), (3, 6))  # Polygon, MultiPolygon
    invalid = np.flatnonzero(polygonal & ~shapely.is_valid(geometry))
    if not invalid.size:
        return frame
    repaired = np.array([polygonal_part(g) for g in np.asarray(geometry)[invalid]], dtype=object)
    empty = invalid[shapely.is_empty(repaired)]
    if empty.size:
        msg = (
            f"{name}: {empty.size} polygons enclose no area ({_describe(frame, empty, name_column)}); "
            "redraw them or drop them"
        )
        raise InputDataError(msg)
    logger.warning(
        "%s: %d invalid polygons (self-crossing or self-touching rings: %s) repaired with "
        "shapely.make_valid; check them in a GIS",
        name,
        invalid.size,
        _describe(frame, invalid, name_column),
    )
    frame = frame.copy()
    values = np.asarray(frame.geometry.array, dtype=object).copy()
    values[invalid] = repaired
    return frame.set_geometry(gpd.GeoSeries(values, index=frame.index, crs=frame.crs))


def _check_degrees(frame: gpd.GeoDataFrame, *, name: str, name_column: str | None) -> None:
    """Raise if WGS-84 geometries have latitudes beyond ±90° or longitudes beyond ±180°."""
    bounds = shapely.bounds(frame.geometry.array)
    bad_lat = (np.abs(bounds[:, 1]) > 90) | (np.abs(bounds[:, 3]) > 90)
    bad_lon = (np.abs(bounds[:, 0]) > 180) | (np.abs(bounds[:, 2]) > 180)
    bad = np.flatnonzero(bad_lat | bad_lon)
    if not bad.size:
        return
    swappable = bad_lat[bad] & (np.abs(bounds[bad][:, [0, 2]]) <= 90).all(axis=1)
    advice = (
        "longitude and latitude look swapped (latitude beyond ±90°): write coordinates as (lon, lat)"
        if swappable.all()
        else "coordinates are not longitude/latitude degrees: check the layer's CRS"
    )
    msg = f"{name}: {bad.size} features out of range ({_describe(frame, bad, name_column)}); {advice}"
    raise InputDataError(msg)


def _check_inside(
    frame: gpd.GeoDataFrame,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any,
    *,
    name: str,
    name_column: str | None,
    what: str,
) -> None:
    """Raise if features lie farther than ``settings.FACILITY_BOUNDARY_TOLERANCE_M`` outside the study area.

    The message suggests a lon/lat swap where that fits.
    """
    area = _study_area_parts(study_area, 4326)
    # a tolerance of ~0.1 m (1e-6 degree) for points drawn exactly on a boundary, then metres for the rest
    inside = _inside_any(area, frame.geometry.to_numpy(), tolerance=1e-6)
    outside = np.flatnonzero(~inside)
    if outside.size:
        metric = metric_crs_for(gpd.GeoSeries(area, crs=4326))
        near = _inside_any(
            gpd.GeoSeries(area, crs=4326).to_crs(metric).to_numpy(),
            frame.geometry.iloc[outside].to_crs(metric).to_numpy(),
            tolerance=settings.FACILITY_BOUNDARY_TOLERANCE_M,
        )
        outside = outside[~near]
    if not outside.size:
        return
    xy = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.to_numpy()[outside]))
    swapped_inside = _inside_any(area, np.asarray(shapely.points(xy[:, ::-1])))
    advice = (
        "their longitude and latitude look swapped (swapped they fall inside): swap the lon_column "
        "and lat_column options (--lon-column / --lat-column), or fix the source"
        if swapped_inside.all()
        else "check the coordinates and their datum (--facilities-coordinates or [inputs] facilities_coordinates: "
        "'wgs84', 'gcj02' for Amap, 'bd09' for Baidu)"
    )
    minx, miny, maxx, maxy = shapely.total_bounds(area)
    msg = (
        f"{name}: {outside.size} of {len(frame)} {what} outside the study area (lon {minx:.3f}..{maxx:.3f}, "
        f"lat {miny:.3f}..{maxy:.3f}): {_describe(frame, outside, name_column)}; {advice}"
    )
    raise InputDataError(msg)


def _study_area_parts(study_area: Any, crs: Any) -> np.ndarray:
    """The study area's geometries in ``crs`` (a shapely geometry is read as WGS-84)."""
    if isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        if study_area.crs is None:
            msg = "study_area has no CRS; set it with .set_crs(...)"
            raise InputDataError(msg)
        parts = study_area.to_crs(crs).geometry.to_numpy()
    else:
        parts = gpd.GeoSeries([study_area], crs=4326).to_crs(crs).to_numpy()
    return parts[~(shapely.is_missing(parts) | shapely.is_empty(parts))]


def _inside_any(parts: np.ndarray, geometries: np.ndarray, *, tolerance: float = 0.0) -> np.ndarray:
    """Boolean mask: which ``geometries`` lie within ``tolerance`` of one of ``parts`` (an STRtree, no union)."""
    inside = np.zeros(len(geometries), dtype=bool)
    if len(parts) and len(geometries):
        tree = shapely.STRtree(parts)
        if tolerance > 0:
            hits = tree.query(geometries, predicate="dwithin", distance=tolerance)
        else:
            hits = tree.query(geometries, predicate="intersects")
        inside[hits[0]] = True
    return inside


def _xy_inside_any(parts: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Boolean mask: which points ``(x, y)`` intersect one of ``parts``, as :func:`_inside_any` on points.

    No point geometries are made: each part is tested on the coordinates inside
    its bounding box (``shapely.intersects_xy``, the same GEOS predicate).
    """
    inside = np.zeros(len(x), dtype=bool)
    for part, (x0, y0, x1, y1) in zip(parts, shapely.bounds(parts), strict=True):
        box = np.flatnonzero(~inside & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if len(box):
            inside[box] = shapely.intersects_xy(part, x[box], y[box])
    return inside


def read_vector(
    path: str | os.PathLike[str],
    *,
    what: str = "vector",
    layer: str | int | None = None,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
    geometry_types: tuple[str, ...] | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
    geometry_fix: str = "drop those rows or export the layer again with the right geometry",
) -> gpd.GeoDataFrame:
    """Read any vector layer (or a CSV/Excel table with lon/lat or WKT columns) into WGS-84.

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf...; or CSV / Excel.
    what : str
        What the file holds, for messages (``"candidate sites"``).
    layer : str or int, optional
        Layer of a multi-layer file.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of degree coordinates (Amap: ``"gcj02"``, Baidu: ``"bd09"``).
    geometry_types : tuple of str, optional
        Accepted shapely geometry types; other rows raise, naming them.
    lon_column, lat_column : str, optional
        Coordinate columns of a table.
    geometry_fix : str
        What to do about rows of another geometry type, for the message.

    Returns
    -------
    geopandas.GeoDataFrame
        All attribute columns, geometry in EPSG:4326, index ``0..n-1``.

    Examples
    --------
    >>> from ordos_geo import settings
    >>> trails = read_vector(settings.SAMPLE_DIR / "proposed_trails.geojson", what="trail lines")
    >>> len(trails), trails.crs.to_epsg(), list(trails.columns)
    (3, 4326, ['trail_id', 'name', 'status', 'geometry'])
    """
    file = check_input_file(path, what=what, suffixes=FACILITY_SUFFIXES)
    frame, name_column = _read_features(
        file, what=what, layer=layer, coordinate_system=coordinate_system, lon_column=lon_column, lat_column=lat_column
    )
    if geometry_types is not None:
        wrong = np.flatnonzero(~frame.geom_type.isin(geometry_types).to_numpy())
        if wrong.size:
            found = ", ".join(sorted(set(frame.geom_type.iloc[wrong])))
            msg = (
                f"{file.name}: {what} must be {' / '.join(geometry_types)}; "
                f"{_describe(frame, wrong, name_column)} are {found}; {geometry_fix}"
            )
            raise InputDataError(msg)
    return frame


def read_candidates(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
) -> gpd.GeoDataFrame:
    """Read candidate sites (points or parcels) into WGS-84; ``siting.candidates_from_file`` sets the schema.

    Chinese headers are read as the schema's (``编号``, ``名称``, ``用地面积``), land areas with
    their unit in m² (:func:`~ordos_geo.io.venue_table.candidate_columns`).

    Examples
    --------
    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "sites.csv"
    >>> site = {"编号": ["S1"], "名称": ["空地"], "用地面积": ["0.5公顷"], "lon": [109.96], "lat": [39.82]}
    >>> pd.DataFrame(site).to_csv(table, index=False)
    >>> read_candidates(table)[["candidate_id", "name", "area_m2"]]  # 0.5 ha read as m²
      candidate_id name  area_m2
    0           S1   空地   5000.0
    """
    from ordos_geo.io.venue_table import candidate_columns  # not at the top: venue_table -> facilities -> vectors

    frame = read_vector(
        path,
        what="candidate sites",
        layer=layer,
        coordinate_system=coordinate_system,
        geometry_types=("Point", "Polygon", "MultiPolygon"),
    )
    return candidate_columns(frame, name=Path(path).name)


#: Headers of a vertex table's trail column (one row per vertex) and of the vertices' order along it.
_TRAIL_COLUMN_NAMES = ("trail_id", "步道编号", "线路编号", "line_id", "trail", "步道名称", "步道")
_ORDER_COLUMN_NAMES = ("seq", "order", "point_order", "vertex", "序号", "顺序", "点序", "点号")


def _lines_from_vertices(frame: gpd.GeoDataFrame, *, name: str) -> gpd.GeoDataFrame:
    """A table of points, one row per vertex, as one LineString per trail (vertices in ``seq`` or row order).

    A line keeps the columns that are the same on every vertex of every trail (``trail_id``, ``name``...;
    blank cells aside, so a name written on the first vertex only is kept); per-vertex columns (``seq``,
    longitude, latitude, elevation...) say nothing of a line and are left out.
    """
    columns = frame.columns.drop(frame.geometry.name)
    trail = _find_column(columns, _TRAIL_COLUMN_NAMES)
    points = np.flatnonzero((frame.geom_type == "Point").to_numpy())
    if trail is None or len(points) < len(frame):
        msg = (
            f"{name}: trail lines must be LineString / MultiLineString; "
            f"{_describe(frame, points, _find_column(columns, _NAME_ALIASES))} are Point; a table of vertices "
            "(one row per point) needs a `trail_id` (步道编号) column naming each point's trail and may order "
            "them with a `seq` (序号) column; or give each trail as a WKT LINESTRING in a `wkt` column"
        )
        raise InputDataError(msg)
    order = _find_column(columns, _ORDER_COLUMN_NAMES)
    keys = frame[trail].astype(str).str.strip()
    sequence = pd.to_numeric(frame[order], errors="coerce") if order is not None else pd.Series(np.arange(len(frame)))
    lines = []
    for key, group in frame.groupby(keys, sort=False):
        ordered = group.loc[sequence.loc[group.index].sort_values(kind="stable").index]
        xy = shapely.get_coordinates(ordered.geometry.to_numpy())
        if len(np.unique(xy, axis=0)) < 2:
            msg = f"{name}: trail {key!r} has fewer than two distinct points; add its other vertices or drop it"
            raise InputDataError(msg)
        lines.append(shapely.LineString(xy))
    per_trail = pd.DataFrame(frame[columns]).groupby(keys.rename(None), sort=False)
    varying = per_trail.nunique(dropna=True).gt(1).any()
    kept = columns[~varying.reindex(columns, fill_value=False).to_numpy()]
    logger.info(
        "%s: %d vertices read as %d trails (by `%s`; per-vertex columns left out: %s)",
        name,
        len(frame),
        len(lines),
        trail,
        ", ".join(map(str, columns.difference(kept, sort=False))) or "none",
    )
    attributes = per_trail[list(kept)].first().reset_index(drop=True)
    return gpd.GeoDataFrame(attributes, geometry=lines, crs=frame.crs)


def trail_labels(frame: pd.DataFrame, *, name: str = "proposed trails") -> pd.DataFrame:
    """Each drawn trail's ``trail_id`` and ``name`` as the planner gave them; ids 1, 2, ... when there are none.

    The id is the first of the columns :func:`read_lines` groups a vertex table by
    (``trail_id``, ``步道编号``, ``线路编号``, ``line_id``, ``trail``, ``步道名称``, ``步道``),
    read as text; the name is the ``name`` (``名称``, ``步道名称``...) column beside it.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        One row per trail (:func:`read_lines`).
    name : str
        What the table is, for messages (the file name).

    Returns
    -------
    pandas.DataFrame
        ``trail_id`` and, when the input names its trails, ``name``; indexed like ``frame``.

    Raises
    ------
    InputDataError
        An id missing or given to two trails (one line naming the rows, 1-based).

    Examples
    --------
    >>> import pandas as pd
    >>> trail_labels(pd.DataFrame({"步道编号": ["T1", "T2"], "名称": ["北城步道", "西区步道"]})).values.tolist()
    [['T1', '北城步道'], ['T2', '西区步道']]
    >>> trail_labels(pd.DataFrame({"length": [1.0, 2.0]}))["trail_id"].tolist()
    [1, 2]
    """
    columns = frame.columns.drop(frame.geometry.name) if isinstance(frame, gpd.GeoDataFrame) else frame.columns
    id_column = _find_column(columns, _TRAIL_COLUMN_NAMES)
    name_column = _find_column(
        columns.drop(id_column) if id_column is not None else columns, (*_NAME_ALIASES, "步道名称")
    )
    labels = pd.DataFrame(index=frame.index)
    if id_column is None:
        labels["trail_id"] = np.arange(1, len(frame) + 1)
    else:
        ids = frame[id_column].astype("string").str.strip()
        ids = ids.str.removesuffix(".0") if pd.api.types.is_float_dtype(frame[id_column]) else ids  # 3.0 -> 3
        missing = np.flatnonzero((ids.isna() | (ids == "")).fillna(True).to_numpy(dtype=bool))
        if missing.size:
            rows = ", ".join(str(r + 1) for r in missing[:10])
            msg = (
                f"{name}: column `{id_column}` is empty in rows {rows}; give each trail an id, or leave the column "
                "out to number the trails 1, 2, ..."
            )
            raise InputDataError(msg)
        repeated = ids[ids.duplicated(keep=False)]
        if len(repeated):
            first = repeated.iloc[0]
            rows = ", ".join(str(r + 1) for r in np.flatnonzero((ids == first).to_numpy()))
            msg = f"{name}: column `{id_column}` gives the id {first!r} to rows {rows}; give each trail its own id"
            raise InputDataError(msg)
        labels["trail_id"] = ids.astype(object)
    if name_column is not None:
        labels["name"] = frame[name_column].astype("string").str.strip().astype(object)
    return labels


def _gpx_line_layer(file: Path) -> str:
    """The layer of a GPS file that holds its lines: ``tracks``, or else ``routes``; one line when neither has any."""
    import pyogrio

    for name in _GPX_LINE_LAYERS:
        try:
            count = pyogrio.read_info(file, layer=name, force_feature_count=True)["features"]
        except Exception:  # not a GPS file GDAL can read: reported by read_vector
            return name
        if count > 0:
            return name
    msg = (
        f"{file}: the GPS file has no track or route (only waypoints?); record the trail as a track, or give "
        "its points as a table with a `trail_id` (步道编号) column"
    )
    raise InputDataError(msg)


def read_lines(
    path: str | os.PathLike[str],
    *,
    layer: str | int | None = None,
    coordinate_system: str = settings.DEFAULT_COORDINATE_SYSTEM,
) -> gpd.GeoDataFrame:
    """Read (Multi)LineStrings, e.g. proposed fitness trails, into WGS-84.

    A closed trail drawn as a polygon is read as its outline (a loop), with a warning.
    A CSV / Excel table of points, one row per vertex, is read as one line per
    ``trail_id`` (``步道编号``), its vertices ordered by ``seq`` (``序号``) or by row.
    A GPS file (``.gpx``) is read from its tracks, or else its routes (one line each).

    Examples
    --------
    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "trail_points.csv"  # one row per vertex
    >>> pd.DataFrame({"步道编号": ["T1"] * 3, "序号": [1, 2, 3], "经度": [109.96, 109.97, 109.97],
    ...               "纬度": [39.82, 39.82, 39.83]}).to_csv(table, index=False)
    >>> lines = read_lines(table)
    >>> len(lines), lines.geom_type[0], len(lines.geometry[0].coords)
    (1, 'LineString', 3)
    """
    types = ("LineString", "MultiLineString", "Polygon", "MultiPolygon")
    table = str(path).lower().endswith(_TABLE_SUFFIXES)
    if layer is None and str(path).lower().endswith(".gpx"):
        layer = _gpx_line_layer(check_input_file(path, what="trail lines", suffixes=FACILITY_SUFFIXES))
    frame = read_vector(
        path,
        what="trail lines",
        layer=layer,
        coordinate_system=coordinate_system,
        geometry_types=(*types, "Point") if table else types,
        geometry_fix="draw trails as lines, or give a table of their points with a `trail_id` (步道编号) column",
    )
    if table and (frame.geom_type == "Point").any():
        frame = _lines_from_vertices(frame, name=Path(path).name)
    polygons = np.flatnonzero(frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy())
    if polygons.size:
        name_column = _find_column(frame.columns.drop(frame.geometry.name), _NAME_ALIASES)
        logger.warning(
            "%s: %d trails drawn as polygons (%s) are read as their outlines, loops; draw trails as lines",
            Path(path).name,
            polygons.size,
            _describe(frame, polygons, name_column),
        )
        outlines = np.asarray(frame.geometry.array, dtype=object).copy()
        outlines[polygons] = shapely.line_merge(shapely.boundary(outlines[polygons]))
        frame = frame.set_geometry(gpd.GeoSeries(outlines, index=frame.index, crs=frame.crs))
    return frame
