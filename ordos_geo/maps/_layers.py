"""Layers shared by the maps: display geometry, population cells, facilities, boundaries, popups."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import _cell_raster
from ordos_geo import _labels as label_table
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._crs import metric_crs_for, wgs84_to_gcj02
from ordos_geo._errors import InputDataError
from ordos_geo.maps._page import _CellsLayer, _Data, _FeatureLayer, _js_json
from ordos_geo.maps.style import (
    _CELL_DISTANCE_LIMITS_M,
    _CELL_STEPS_M,
    DISTANCE_BREAKS_M,
    DISTANCE_CLASS_COLORS,
    _district_name,
    _fmt_number,
    _icon_svg,
    _kind_name,
    _kind_style,
    _number,
    _table,
    _text,
)
from ordos_geo.report import cell_text, value_label
from ordos_geo.settings import FACILITY_KINDS

#: Display tolerance (m) for simplifying polygons and lines.
_SIMPLIFY_TOLERANCE_M = 5.0
#: Decimal places kept in longitude/latitude (1e-5 degree is about 1 m).
_COORD_DECIMALS = 5
#: Walking metres to the nearest venue of any kind: the column every coverage map colours by default.
_DIST_ANY = dist_column(ANY_KIND)


def _check_frame(gdf: Any, name: str, required: Sequence[str] = ()) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputDataError(label_table.Note("map_not_a_layer", name=name, type=type(gdf).__name__))
    if gdf.crs is None:
        raise InputDataError(label_table.Note("map_no_crs", name=name))
    missing = [column for column in required if column not in gdf.columns]
    if missing:
        said = {"missing": ", ".join(f"`{c}`" for c in missing), "present": str(list(gdf.columns))}
        raise InputDataError(label_table.Note("map_missing_columns", name=name, **said))
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    return gdf.loc[keep]


def _display_geometry(gdf: gpd.GeoDataFrame, *, gcj02: bool, tolerance_m: float = _SIMPLIFY_TOLERANCE_M) -> np.ndarray:
    """Simplify in a metric CRS, reproject to WGS-84 (shift to GCJ-02 if asked), round."""
    if len(gdf) == 0:
        return np.array([], dtype=object)
    metric = gdf.crs if gdf.crs.is_projected else metric_crs_for(gdf)
    geoms = gdf.geometry.to_crs(metric)
    if tolerance_m > 0:
        geoms = geoms.simplify(tolerance_m, preserve_topology=True)
    values = geoms.to_crs(4326).values
    if gcj02:
        values = shift_to_gcj02(values)
    return shapely.transform(np.asarray(values), lambda xy: np.round(xy, _COORD_DECIMALS))


def shift_to_gcj02(geometries: np.ndarray) -> np.ndarray:
    """Shift WGS-84 longitude/latitude geometries to GCJ-02 (Amap's datum).

    Examples
    --------
    >>> shifted = shift_to_gcj02(np.array([shapely.Point(109.96, 39.82)]))  # Dongsheng, about 500 m east on Amap tiles
    >>> shapely.get_coordinates(shifted).round(4).tolist()
    [[109.9656, 39.821]]
    """

    def transform(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geometries), transform)


def _feature_collection(geometries: np.ndarray, properties: Sequence[Mapping[str, Any]]) -> str:
    """GeoJSON features whose geometries are packed by :func:`_packed_geometry` (the page unpacks them)."""
    parts = [
        '{"type":"Feature","geometry":' + _packed_geometry(geometry) + ',"properties":' + _js_json(dict(props)) + "}"
        for geometry, props in zip(geometries, properties, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


#: Type name and nesting depth of the coordinate lists (a point 0, a line or ring 1) by shapely type id.
_TYPES = {
    0: ("Point", 0),
    1: ("LineString", 1),
    3: ("Polygon", 2),
    4: ("MultiPoint", 1),
    5: ("MultiLineString", 2),
    6: ("MultiPolygon", 3),
}


def _packed_geometry(geometry: shapely.Geometry) -> str:
    """A geometry as compact JSON ``{"type": ..., "p": ...}`` (other types, such as collections, stay GeoJSON).

    Coordinates are whole 1e-5 degrees (they are rounded to 5 decimals), each
    line or ring one flat list of its first point and the steps to the next
    (``[x0, y0, dx1, dy1, ...]``): about a quarter of the GeoJSON text of an
    outline along cell edges. The page's ``unpackFeatures`` rebuilds the
    GeoJSON coordinates exactly.
    """
    type_id = int(shapely.get_type_id(geometry))
    if type_id not in _TYPES:
        return str(shapely.to_geojson(geometry))
    name, depth = _TYPES[type_id]
    scale = 10**_COORD_DECIMALS

    def packed(part: shapely.Geometry, level: int) -> str:
        if level <= 1:  # a point, or a line, ring or set of points: [x0, y0, dx1, dy1, ...]
            whole = np.round(shapely.get_coordinates(part) * scale).astype(np.int64)
            whole[1:] -= whole[:-1].copy()
            return "[" + ",".join(map(str, whole.ravel().tolist())) + "]"
        children = shapely.get_rings(part) if level == 2 and type_id != 5 else shapely.get_parts(part)
        return "[" + ",".join(packed(child, level - 1) for child in children) + "]"

    return '{"type":"' + name + '","p":' + packed(geometry, depth) + "}"


def _add_layer(
    m: folium.Map,
    geometries: np.ndarray,
    properties: Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
    *,
    name: str,
    bounds: list[np.ndarray],
    overlay: bool = True,
    show: bool = True,
) -> _FeatureLayer:
    data = _add_data(m, geometries, properties, bounds=bounds)
    return _add_feature_layer(m, data, options, name=name, n_features=len(geometries), overlay=overlay, show=show)


def _add_data(
    m: folium.Map, geometries: np.ndarray, properties: Sequence[Mapping[str, Any]], *, bounds: list[np.ndarray]
) -> _Data:
    """One data variable of features for the layers drawn from it; their extent goes into ``bounds``."""
    data = _Data(_feature_collection(geometries, properties))
    m.add_child(data)
    if len(geometries):
        bounds.append(np.asarray(shapely.total_bounds(geometries)))
    return data


def _add_feature_layer(
    m: folium.Map,
    data: _Data,
    options: Mapping[str, Any],
    *,
    name: str,
    n_features: int,
    overlay: bool = True,
    show: bool = True,
) -> _FeatureLayer:
    """A layer drawing ``n_features`` of the features of ``data`` (all, or those its options select)."""
    layer = _FeatureLayer(data, options, name=name, overlay=overlay, show=show)
    layer.n_features = n_features
    m.add_child(layer)
    return layer


def _cells_layers(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    distance_columns: Mapping[str, str],
    *,
    gcj02: bool,
    labels: Mapping[str, str],
    language: str,
    walk_speed_kmh: float,
    name_prefix: str,
    shown: str | None,
    hide_layer: bool = True,
) -> np.ndarray | None:
    """Cells coloured by distance: one image base layer (radio button) per distance column, one shared data copy.

    Returns the ``[west, south, east, north]`` of the cells (None without cells).
    """
    if len(cells) == 0:
        return None
    raster = _cell_raster.cell_raster(cells, gcj02=gcj02)
    grids, districts = _cell_grids(raster, cells, distance_columns, language)
    (south, west), (north, east) = raster.bounds_latlon
    data = _Data(
        _js_json(
            {
                "width": raster.width,
                "height": raster.height,
                "x0": raster.x0,
                "y0": raster.y0,
                "pw": raster.pixel_w,
                "ph": raster.pixel_h,
                "bounds": raster.bounds_latlon,
                "districts": districts,
                "grids": grids,
                "distance": {"limits": _CELL_DISTANCE_LIMITS_M, "steps": _CELL_STEPS_M},
                "unreachable": _cell_raster.DIST_UNREACHABLE,
                "classes": {"breaks": DISTANCE_BREAKS_M, "colors": DISTANCE_CLASS_COLORS},
            }
        )
    )
    m.add_child(data)
    for key in distance_columns:
        kind_label = _kind_name(key, language)
        options = {
            "kind": key,
            "opacity": 0.7,
            "distLabel": f"{html.escape(labels['distance_to'])} {kind_label}",
            "unreachable": html.escape(labels["unreachable"]),
            "metresPerMinute": walk_speed_kmh * 1000.0 / 60.0,
            "minuteLabel": html.escape(labels["minutes"]),
            "popLabel": html.escape(labels["population"]),
            "districtLabel": html.escape(labels["district"]),
        }
        layer = _CellsLayer(data, options, name=f"{name_prefix} {kind_label}", show=key == shown)
        layer.n_features = len(cells)
        m.add_child(layer)
    if hide_layer:
        folium.FeatureGroup(name=html.escape(labels["hide_cells"]), overlay=False, show=False).add_to(m)
    return np.array([west, south, east, north])


def _cell_grids(
    raster: _cell_raster.CellRaster, cells: gpd.GeoDataFrame, distance_columns: Mapping[str, str], language: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The packed grids of the cells (population + 1, district code + 1, distance codes) and the district names."""
    population = np.nan_to_num(cells["population"].to_numpy(dtype=float), nan=0.0)
    stored_population = np.round(np.clip(population, 0, None)) + 1  # 0 = no cell
    dtype = np.uint16 if stored_population.max() < 65_535 else np.uint32
    grids = {"population": _grid_spec(raster.grid(stored_population.astype(dtype), fill=0, dtype=dtype), predict=False)}
    districts: list[str] = []
    if "district" in cells.columns:
        codes, uniques = pd.factorize(cells["district"].astype("string").fillna(""))
        districts = [_district_name(d, language) for d in uniques]
        if len(districts) < 255:
            grids["district"] = _grid_spec(raster.grid((codes + 1).astype(np.uint8), fill=0, dtype=np.uint8))
    any_codes: np.ndarray | None = None
    for key, column in distance_columns.items():
        distance = cells[column].to_numpy(dtype=float)
        codes = _cell_raster.distance_codes(distance, _CELL_DISTANCE_LIMITS_M, _CELL_STEPS_M)
        grid = raster.grid(codes, fill=0, dtype=np.uint16)
        grids[f"dist_{key}"] = _grid_spec(grid)
        if key == ANY_KIND:
            any_codes = grid
        elif any_codes is not None:  # a scenario (evenings, winter) is mostly any venue's grid: store the difference
            relative = _grid_spec(grid, base=any_codes, base_key=f"dist_{ANY_KIND}")
            if len(relative["data"]) < len(grids[f"dist_{key}"]["data"]):
                grids[f"dist_{key}"] = relative
    return grids, districts


def _grid_spec(
    grid: np.ndarray, *, predict: bool = True, base: np.ndarray | None = None, base_key: str | None = None
) -> dict[str, Any]:
    """A packed value grid as the page reads it (``ordos.cellGrid``), less the grid ``base_key`` if given."""
    spec = {
        "data": _cell_raster.pack_grid(grid, predict=predict, base=base),
        "bytes": grid.dtype.itemsize,
        "predict": predict,
    }
    if base_key is not None:
        spec["base"] = base_key
    return spec


def _facility_layers(
    m: folium.Map,
    facilities: gpd.GeoDataFrame,
    kinds: Sequence[str] | None,
    *,
    gcj02: bool,
    labels: Mapping[str, str],
    language: str,
    bounds: list[np.ndarray],
) -> list[str]:
    """One overlay per facility kind; returns legend rows."""
    facilities = _check_frame(facilities, "facilities", ["kind"])
    present = list(dict.fromkeys(str(k) for k in facilities["kind"]))
    ordered = [k for k in FACILITY_KINDS if k in present] + sorted(k for k in present if k not in FACILITY_KINDS)
    if kinds is not None:
        ordered = [k for k in ordered if k in set(kinds)]
    geometries = _display_geometry(facilities, gcj02=gcj02)
    legend = []
    kind_values = facilities["kind"].astype(str).to_numpy()
    for kind in ordered:
        positions = np.flatnonzero(kind_values == kind)
        letters, color = _kind_style(kind)
        icon = _icon_svg(letters, color)
        properties = []
        for position in positions:
            row = facilities.iloc[position]
            name = _text(row.get("name"))
            area = row.get("area_m2")
            open_value = row.get("open_to_public")
            open_text = ""
            if isinstance(open_value, bool | np.bool_):
                open_text = html.escape(labels["yes"] if open_value else labels["no"])
            popup = _table(
                [
                    (html.escape(labels["kind"]), _kind_name(kind, language)),
                    (html.escape(labels["facility_id"]), _text(row.get("facility_id"))),
                    (html.escape(labels["area"]), _fmt_number(area) if _number(area) is not None else ""),
                    (html.escape(labels["open"]), open_text),
                    (html.escape(labels["district"]), _district_name(row.get("district"), language)),
                ],
                title=name,
            )
            properties.append({"_tip": name or _kind_name(kind, language), "_pop": popup})
        kind_label = _kind_name(kind, language)
        options = {
            "icon": icon,
            "iconSize": 22,
            "cluster": color,
            "style": {"color": color, "weight": 3, "opacity": 0.9, "fillColor": color, "fillOpacity": 0.35},
        }
        name = f"{icon} {html.escape(labels['facilities_layer'])}: {kind_label} ({len(positions)})"
        _add_layer(m, geometries[positions], properties, options, name=name, bounds=bounds)
        legend.append(f"<div>{icon}{kind_label}</div>")
    return legend


def _boundary_layer(
    m: folium.Map, boundaries: gpd.GeoDataFrame, *, gcj02: bool, labels: Mapping[str, str], language: str
) -> None:
    boundaries = _check_frame(boundaries, "boundaries")
    if "level" in boundaries.columns and (boundaries["level"] == "district").any():
        boundaries = boundaries.loc[boundaries["level"] == "district"]
    first, second = ("name_zh", "name_en") if language == "zh" else ("name_en", "name_zh")
    properties = []
    for _, row in boundaries.iterrows():
        name = _text(row.get(first)) or _text(row.get(second)) or _text(row.get("adcode"))
        properties.append({"_tip": name})
    options = {"style": {"color": "#333333", "weight": 2, "opacity": 0.9, "fill": False}}
    _add_layer(
        m,
        _display_geometry(boundaries, gcj02=gcj02, tolerance_m=20.0),
        properties,
        options,
        name=html.escape(labels["boundaries"]),
        bounds=[],  # context only: the view fits the study layers, not whole districts
    )


def _underserved_properties(
    underserved: gpd.GeoDataFrame, labels: Mapping[str, str], language: str
) -> list[dict[str, Any]]:
    properties = []
    for _, row in underserved.iterrows():
        title = f"{html.escape(labels['neighbourhood'])} {_text(row.get('neighbourhood_id'))}".strip()
        tip = _table(
            [
                (html.escape(labels["population"]), _fmt_number(row.get("population"))),
                (html.escape(labels["cells"]), _fmt_number(row.get("n_cells")) if "n_cells" in row else ""),
                (html.escape(labels["district"]), _district_name(row.get("district"), language)),
            ],
            title=title,
        )
        properties.append({"_tip": tip})
    return properties


def _attribute_popup(row: pd.Series, language: str, *, skip: Sequence[str] = ("geometry",), limit: int = 12) -> str:
    """Popup of a row's attributes, headers and districts/kinds in ``language`` (values escaped)."""
    rows: list[tuple[str, str]] = []
    for column, value in row.items():
        if column in skip or len(rows) >= limit:
            continue
        if isinstance(value, str):
            value = value_label(value, str(column), language)  # districts, kinds, trail shapes, ... as the report
        if isinstance(value, bool | np.bool_ | int | np.integer | float | np.floating):
            text = html.escape(cell_text(value, str(column), language))  # as the report writes it
        elif isinstance(value, str):
            text = _text(value)
        else:
            continue
        rows.append((html.escape(label_table.column(str(column), language)), text))
    return _table(rows)
