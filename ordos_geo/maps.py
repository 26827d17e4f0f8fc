r"""Interactive folium maps of coverage, new sites and fitness trails (no analysis here).

Every function takes GeoDataFrames in any CRS (the analysis CRS, usually), draws
them in WGS-84 (or shifted to GCJ-02 for the Amap basemap) and returns a
:class:`folium.Map`; :func:`render_html` returns its final page.

Pages open with no network
--------------------------
Leaflet's and jQuery's JavaScript/CSS are read from the installed XStatic
packages and written inline (see :mod:`ordos_geo._offline_assets`, which says
why XStatic rather than ``folium-offline``); Bootstrap and icon fonts are not
used: facility icons are inline SVG in ``L.divIcon``. The only network URLs left
in a page are the basemap tile templates; without them the page still draws
every vector layer, the legend and the controls on a plain background.
``m.get_root().render()`` and :func:`render_html` give the same self-contained
page (``render_html`` also checks that no ``<script src=http...>`` or
``<link href=http...>`` is left).

Safety
------
Every string that comes from an input file (names, ids, districts, reasons,
column values) is passed through :func:`html.escape` before it enters a tooltip,
popup, legend or layer name; all data are embedded as JSON with ``<``, ``>`` and
``&`` written as ``\\u003c``-style escapes, so nothing in the data can close a
``<script>`` or inject markup.

Population cells: an image, and numbers read on click
-----------------------------------------------------
The cells are not drawn as polygons: each distance column is one palette PNG
with one pixel per cell on a Web-Mercator grid (see :mod:`ordos_geo._cell_raster`),
shown as an ``L.imageOverlay`` base layer (one radio button per column). A
click on a cell opens a popup with its population, district and walking
distance (rounded to 10 m, the cells being about 100 m wide; the exact values
are in the GeoPackage), read from integer grids that are deflated in the page
and inflated by the browser on the first click. A cell costs about 1 byte for
its population and district and about 1 byte per distance column (measured in
tests/test_maps.py: under 8 bytes a cell with four columns), so a city of a
million populated cells with a handful of facility kinds stays within about
10-15 MB, and the browser decodes a few PNGs instead of building a million
vector paths. Facility markers of each kind are clustered (Leaflet.markercluster)
until zoomed in. The first view fits the populated cells, not whole districts.

Geometry of the other layers is simplified for display in a metric CRS (5 m
tolerance) and coordinates rounded to 5 decimals (about 1 m); the inline
libraries take about 290 kB.
"""

from __future__ import annotations

import html
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Figure
from folium.map import Layer
from folium.template import Template

from ordos_geo import _cell_raster, _offline_assets
from ordos_geo import _labels as label_table
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._crs import metric_crs_for, wgs84_to_gcj02
from ordos_geo._errors import InputDataError
from ordos_geo.report import html_table
from ordos_geo.settings import (
    DEFAULT_LANGUAGE,
    DEFAULT_TRAIL_REACH_M,
    DEFAULT_WALK_SPEED_KMH,
    FACILITY_KINDS,
    Language,
)

__all__ = [
    "BASEMAPS",
    "DISTANCE_BREAKS_M",
    "DISTANCE_CLASS_COLORS",
    "KIND_STYLES",
    "LABELS",
    "Basemap",
    "Language",
    "MapStyle",
    "batch_index_page",
    "coverage_map",
    "index_page",
    "render_html",
    "shift_to_gcj02",
    "sites_map",
    "trails_map",
]

logger = logging.getLogger(__name__)

#: Walking metres to the nearest venue of any kind: the column every coverage map colours by default.
_DIST_ANY = dist_column(ANY_KIND)

Basemap = Literal["osm", "tianditu", "amap", "none"]
BASEMAPS: tuple[Basemap, ...] = get_args(Basemap)


@dataclass(frozen=True)
class MapStyle:
    """How a map looks and what its caption says: the options every map builder shares.

    Parameters
    ----------
    language : {"zh", "en"}
        Language of the labels.
    basemap : {"osm", "tianditu", "amap", "none"}
        Background tiles. ``"amap"`` (GCJ-02) shifts every overlay to GCJ-02 so
        they line up; ``"tianditu"`` needs ``tianditu_key`` (else OSM is used).
    tianditu_key : str, optional
        Tianditu API key.
    title : str, optional
        Map title; a default in ``language`` for each map.
    synthetic : bool
        Add "synthetic sample (合成样例)" to the caption.
    walk_speed_kmh : float
        Walking speed used to express the legend's distances in minutes
        (coverage and sites maps).
    sources : str, optional
        Data-source caption; a default in ``language``.

    Examples
    --------
    >>> style = MapStyle(language="en", basemap="none", synthetic=False)
    >>> style.basemap, style.walk_speed_kmh
    ('none', 4.5)
    """

    language: Language = DEFAULT_LANGUAGE
    basemap: Basemap = "osm"
    tianditu_key: str | None = None
    title: str | None = None
    synthetic: bool = True
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH
    sources: str | None = None


#: The style of a map built without one.
_DEFAULT_STYLE = MapStyle()

#: Upper bounds (m, inclusive) of the walking-distance classes; the last class is
#: everything farther, and unreachable cells.
DISTANCE_BREAKS_M: tuple[float, ...] = (300.0, 500.0, 1_000.0, 2_000.0)
#: One colour per class (green = near, red = far / unreachable).
DISTANCE_CLASS_COLORS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")

#: Display tolerance (m) for simplifying polygons and lines.
_SIMPLIFY_TOLERANCE_M = 5.0
#: Decimal places kept in longitude/latitude (1e-5 degree is about 1 m).
_COORD_DECIMALS = 5
#: Above this many vector features the map uses Leaflet's canvas renderer.
_CANVAS_ABOVE_FEATURES = 20_000
#: Cell distances shown on click are rounded to this step (m); the cells are about 100 m wide.
_CELL_DISTANCE_STEP_M = 10

#: Marker letters and colours per facility kind (inline SVG, no icon font).
KIND_STYLES: Mapping[str, tuple[str, str]] = {
    "stadium": ("St", "#7b3294"),
    "gymnasium": ("Gy", "#c2a5cf"),
    "swimming_pool": ("Sw", "#2166ac"),
    "fitness_centre": ("Fc", "#d6604d"),
    "sports_park": ("SP", "#1b7837"),
    "park": ("Pk", "#5aae61"),
    "multi_sport_court": ("Ct", "#e08214"),
    "pitch": ("Pi", "#8c510a"),
    "fitness_path": ("Fp", "#35978f"),
    "fitness_trail": ("Tr", "#01665e"),
    "playground": ("Pg", "#f1b6da"),
    "school_venue": ("Sc", "#4d4d4d"),
    "other": ("O", "#878787"),
    "sports_health_centre": ("SH", "#b2182b"),
    "school_opening": ("Op", "#4d4d4d"),
}

#: Labels of every map in Chinese and English (the package's one label table, :mod:`ordos_geo._labels`).
LABELS: Mapping[str, Mapping[str, str]] = label_table.TEXT

_SITE_TYPE_COLUMNS = ("site_type", "type", "facility_type", "kind")

# --------------------------------------------------------------------------- JS and CSS

_ORDOS_JS = r"""
window.ordos = (function () {
  function classIndex(d, breaks) {
    if (d === null || d === undefined || !isFinite(d)) { return breaks.length; }
    for (var i = 0; i < breaks.length; i++) { if (d <= breaks[i]) { return i; } }
    return breaks.length;
  }
  function formatDistance(d, o) {
    if (d === null || d === undefined || !isFinite(d)) { return o.unreachable; }
    return Math.round(d) + ' m · ' + (d / o.metresPerMinute).toFixed(1) + ' ' + o.minuteLabel;
  }
  function layer(data, o) {
    var opts = {
      style: function (f) {
        var s = Object.assign({}, o.style || {});
        var p = f.properties || {};
        if (o.classBy) { s.fillColor = o.colors[classIndex(p[o.classBy], o.breaks)]; }
        if (p._c) { s.color = p._c; s.fillColor = p._c; }
        return s;
      },
      pointToLayer: function (f, latlng) {
        var p = f.properties || {};
        var iconHtml = p._icon || o.icon;
        if (iconHtml) {
          var size = o.iconSize || 22;
          return L.marker(latlng, {zIndexOffset: o.zIndexOffset || 0, icon: L.divIcon({className: 'ordos-icon',
            html: iconHtml, iconSize: [size, size], iconAnchor: [size / 2, size / 2], popupAnchor: [0, -size / 2]})});
        }
        return L.circleMarker(latlng, Object.assign({radius: 6}, o.style || {}));
      },
      onEachFeature: function (f, lyr) {
        var p = f.properties || {};
        var tip = p._tip || '';
        if (o.popLabel) {
          tip = o.popLabel + ': ' + (p._p === null || p._p === undefined ? '–' : p._p.toLocaleString('en-US'));
          if (p._d) { tip += '<br>' + o.districtLabel + ': ' + p._d; }
        }
        if (o.classBy) { tip += (tip ? '<br>' : '') + o.distLabel + ': ' + formatDistance(p[o.classBy], o); }
        if (tip) { lyr.bindTooltip(tip, {sticky: true}); }
        if (p._pop) { lyr.bindPopup(p._pop, {maxWidth: 360}); }
      }
    };
    if (!o.cluster || !L.markerClusterGroup) { return L.geoJSON(data, opts); }
    // Markers of one kind merge into a numbered circle of the kind's colour until zoomed in.
    var group = L.markerClusterGroup({maxClusterRadius: 45, showCoverageOnHover: false, animate: false,
      disableClusteringAtZoom: 18, chunkedLoading: true,
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount();
        var size = n < 10 ? 26 : n < 100 ? 32 : 38;
        return L.divIcon({className: 'ordos-cluster', iconSize: [size, size],
          html: '<div style="background:' + o.cluster + ';width:' + size + 'px;height:' + size + 'px;line-height:'
            + size + 'px">' + n + '</div>'});
      }});
    group.addLayer(L.geoJSON(data, opts));
    return group;
  }
  // ---- population cells: a PNG per distance column, numbers read from packed grids on click
  function unpack(grid, width, height) {
    var text = atob(grid.data);
    var bytes = new Uint8Array(text.length);
    for (var k = 0; k < text.length; k++) { bytes[k] = text.charCodeAt(k); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var planes = new Uint8Array(buffer), n = width * height, out = new Float64Array(n);
      var modulus = Math.pow(256, grid.bytes), scale = 1;
      for (var b = 0; b < grid.bytes; b++, scale *= 256) {
        for (var i = 0; i < n; i++) { out[i] += planes[b * n + i] * scale; }
      }
      for (var j = 0; j < n; j++) {
        var z = out[j];
        var r = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
        if (grid.predict) {
          var x = j % width;
          var left = x > 0 ? out[j - 1] : 0, up = j >= width ? out[j - width] : 0;
          var upLeft = x > 0 && j >= width ? out[j - width - 1] : 0;
          r += left + up - upLeft;
        }
        out[j] = ((r % modulus) + modulus) % modulus;
      }
      return out;
    });
  }
  function cellGrid(data, key) {
    data._grids = data._grids || {};
    if (!data._grids[key]) { data._grids[key] = unpack(data.grids[key], data.width, data.height); }
    return data._grids[key];
  }
  function cellAt(map, latlng) {
    var shown = null;
    map.eachLayer(function (l) { if (l.ordosCells) { shown = l.ordosCells; } });
    if (!shown) { return null; }
    var d = shown.data, p = L.CRS.EPSG3857.project(latlng);
    var col = Math.floor((p.x - d.x0) / d.pw), row = Math.floor((d.y0 - p.y) / d.ph);
    if (col < 0 || row < 0 || col >= d.width || row >= d.height) { return null; }
    var i = row * d.width + col;
    var keys = ['population', 'district', 'dist_' + shown.o.kind];
    return Promise.all(keys.map(function (k) { return d.grids[k] ? cellGrid(d, k) : null; })).then(function (g) {
      if (!g[0][i]) { return null; }
      var distance = g[2][i] === shown.o.unreachableValue ? null : g[2][i] * shown.o.distanceStep;
      return {population: g[0][i] - 1, district: g[1] && g[1][i] ? d.districts[g[1][i] - 1] : '',
        distance: distance, o: shown.o};
    });
  }
  function cellPopup(cell) {
    var o = cell.o;
    var rows = [[o.popLabel, cell.population.toLocaleString('en-US')]];
    if (cell.district) { rows.push([o.districtLabel, cell.district]); }
    rows.push([o.distLabel, formatDistance(cell.distance, o)]);
    return '<div class="ordos-popup ordos-cell"><table>' + rows.map(function (r) {
      return '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; }).join('') + '</table></div>';
  }
  function onCellClick(map, e) {
    var source = e.sourceTarget;
    if (source && source !== map && source.getPopup && source.getPopup()) { return; }
    var found = cellAt(map, e.latlng);
    if (!found) { return; }
    found.then(function (cell) {
      if (cell) { L.popup({maxWidth: 360}).setLatLng(e.latlng).setContent(cellPopup(cell)).openOn(map); }
    }).catch(function (err) { console.error('ordos: cannot read the cell values', err); });
  }
  function cells(data, o) {
    var layer = L.imageOverlay(data.png[o.kind], data.bounds,
      {opacity: o.opacity, className: 'ordos-cells', interactive: false});
    layer.ordosCells = {data: data, o: o};
    layer.on('add', function () {
      var map = layer._map;
      if (!map._ordosCellClick) {
        map._ordosCellClick = true;
        map.on('click', function (e) { onCellClick(map, e); });
      }
    });
    return layer;
  }
  function control(map, position, className, content) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var div = L.DomUtil.create('div', className);
      div.innerHTML = content;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
    return c;
  }
  function title(map, content) {
    var div = L.DomUtil.create('div', 'ordos-title', map.getContainer());
    div.innerHTML = content;
    return div;
  }
  return {layer: layer, cells: cells, cellAt: cellAt, control: control, title: title, classIndex: classIndex};
})();
"""

_ORDOS_CSS = """
.ordos-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:1000;
  background:rgba(255,255,255,.93);padding:5px 14px;border-radius:4px;font:600 16px/1.3 sans-serif;
  box-shadow:0 1px 5px rgba(0,0,0,.35);pointer-events:none;max-width:55%;text-align:center}
.ordos-legend,.ordos-caption{background:rgba(255,255,255,.93);padding:6px 10px;border-radius:4px;
  font:12px/1.45 sans-serif;box-shadow:0 1px 5px rgba(0,0,0,.35);max-width:300px}
.ordos-caption{max-width:420px;font-size:11px;color:#333}
.ordos-legend h4{margin:0 0 4px;font-size:12px}
.ordos-legend .sw{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;
  border:1px solid #555}
.ordos-legend svg{vertical-align:middle;margin-right:4px}
.ordos-icon{background:none;border:none}
.ordos-cells{image-rendering:pixelated;image-rendering:crisp-edges}
.ordos-cluster{background:none;border:none}
.ordos-cluster div{border-radius:50%;color:#fff;font:700 12px/1 sans-serif;text-align:center;
  border:2px solid #fff;box-shadow:0 1px 4px rgba(0,0,0,.45)}
.ordos-legend .kinds{column-count:2;column-gap:10px;margin-top:2px}
.ordos-legend .kinds div{break-inside:avoid;white-space:nowrap}
.ordos-popup td{padding:1px 6px 1px 0;vertical-align:top}
.ordos-popup th{text-align:left;padding-right:8px;font-weight:600}
.leaflet-container{background:#eef0ea}
.leaflet-top{top:46px}
"""


def _js_json(value: Any) -> str:
    """JSON for embedding in a ``<script>``: no ``<``, ``>`` or ``&`` survive."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _escape_json_text(text)


def _escape_json_text(text: str) -> str:
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class _Data(folium.MacroElement):
    """A JavaScript variable holding one GeoJSON FeatureCollection, shared by several layers."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = {{ this.json_text }};
{% endmacro %}"""
    )

    def __init__(self, json_text: str) -> None:
        super().__init__()
        self._name = "OrdosData"
        self.json_text = json_text


class _FeatureLayer(Layer):
    """A Leaflet GeoJSON layer drawn by ``ordos.layer`` from a :class:`_Data` variable."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = ordos.layer({{ this.data.get_name() }}, {{ this.options_json }});
{% endmacro %}"""
    )

    def __init__(
        self, data: _Data, options: Mapping[str, Any], *, name: str, overlay: bool = True, show: bool = True
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "OrdosFeatureLayer"
        self.data = data
        self.options_json = _js_json(dict(options))
        self.n_features = 0


class _CellsLayer(Layer):
    """A base layer of population cells: ``ordos.cells`` draws one distance column's PNG from a :class:`_Data`."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = ordos.cells({{ this.data.get_name() }}, {{ this.options_json }});
{% endmacro %}"""
    )

    def __init__(self, data: _Data, options: Mapping[str, Any], *, name: str, show: bool) -> None:
        super().__init__(name=name, overlay=False, control=True, show=show)
        self._name = "OrdosCellsLayer"
        self.data = data
        self.options = dict(options)
        self.options_json = _js_json(self.options)
        self.n_features = 0


class _Script(folium.MacroElement):
    """Run a snippet of our own JavaScript after the map exists (``{map}`` is replaced)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this.code }}
{% endmacro %}"""
    )

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "OrdosScript"
        self.code = code

    def render(self, **kwargs: Any) -> Any:
        """Render with the parent map's JavaScript name substituted."""
        parent = self._parent
        assert parent is not None, "a script renders inside the map it was added to"
        self.code = self.code.replace("{map}", parent.get_name())
        return super().render(**kwargs)


# --------------------------------------------------------------------------- geometry


def _check_frame(gdf: Any, name: str, required: Sequence[str] = ()) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        msg = f"{name}: expected a GeoDataFrame, got {type(gdf).__name__}"
        raise InputDataError(msg)
    if gdf.crs is None:
        msg = f"{name}: the layer has no CRS; set it with .set_crs(...) before mapping"
        raise InputDataError(msg)
    missing = [column for column in required if column not in gdf.columns]
    if missing:
        msg = f"{name}: missing column(s) {', '.join(f'`{c}`' for c in missing)}; present: {list(gdf.columns)}"
        raise InputDataError(msg)
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
    """Shift WGS-84 longitude/latitude geometries to GCJ-02 (Amap's datum)."""

    def transform(xy: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geometries), transform)


def _feature_collection(geometries: np.ndarray, properties: Sequence[Mapping[str, Any]]) -> str:
    geojson: list[str] = shapely.to_geojson(np.asarray(geometries)).tolist() if len(geometries) else []
    parts = [
        '{"type":"Feature","geometry":' + geometry + ',"properties":' + _js_json(dict(props)) + "}"
        for geometry, props in zip(geojson, properties, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def _number(value: Any, decimals: int = 0) -> float | int | None:
    """A JSON-safe number: None for NaN/inf/missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return round(number) if decimals == 0 else round(number, decimals)


def _text(value: Any) -> str:
    """Escaped text of one attribute value ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def _fmt_number(value: Any, decimals: int = 0) -> str:
    number = _number(value, decimals)
    if number is None:
        return "–"
    return f"{number:,.{decimals}f}"


def _table(rows: Sequence[tuple[str, str]], title: str = "") -> str:
    """A small popup table; labels and values must already be escaped."""
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows if value != "")
    head = f"<b>{title}</b>" if title else ""
    return f'<div class="ordos-popup">{head}<table>{body}</table></div>'


# --------------------------------------------------------------------------- labels and icons


def _labels(language: str) -> Mapping[str, str]:
    return LABELS[label_table.check_language(language, where="maps")]


def _district_name(district: Any, language: str) -> str:
    """Escaped district name in ``language`` (``"Dongsheng"`` -> ``"东胜区"``); unknown names as given."""
    if _text(district) == "":
        return ""
    return _text(label_table.district(str(district), language))


def _kind_name(kind: str, language: str) -> str:
    return html.escape(label_table.kind(kind, language))


def _kind_style(kind: str) -> tuple[str, str]:
    if kind in KIND_STYLES:
        return KIND_STYLES[kind]
    return (kind[:2].title() or "?", "#878787")


def _icon_svg(letters: str, color: str, *, size: int = 22, shape: str = "circle") -> str:
    letters = html.escape(letters)
    half = size / 2
    font = max(8, int(size * 0.45)) if len(letters) <= 2 else max(7, int(size * 0.36))
    if shape == "star":
        points = []
        for i in range(10):
            radius = half - 1 if i % 2 == 0 else (half - 1) * 0.5
            angle = math.pi / 2 + i * math.pi / 5
            points.append(f"{half + radius * math.cos(angle):.1f},{half - radius * math.sin(angle):.1f}")
        body = f'<polygon points="{" ".join(points)}" fill="{color}" stroke="#fff" stroke-width="1.5"/>'
    elif shape == "square":
        body = (
            f'<rect x="1" y="1" width="{size - 2}" height="{size - 2}" rx="3" fill="{color}" '
            'stroke="#fff" stroke-width="2"/>'
        )
    else:
        body = f'<circle cx="{half}" cy="{half}" r="{half - 1}" fill="{color}" stroke="#fff" stroke-width="2"/>'
    text = (
        f'<text x="{half}" y="{half + font * 0.36:.1f}" text-anchor="middle" font-size="{font}" '
        f'font-family="Arial,Helvetica,sans-serif" font-weight="700" fill="#fff">{letters}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f"{body}{text}</svg>"
    )


def _minutes(metres: float, walk_speed_kmh: float) -> str:
    return f"{metres / (walk_speed_kmh * 1000.0 / 60.0):.1f}".removesuffix(".0")


def _distance_legend(labels: Mapping[str, str], walk_speed_kmh: float) -> str:
    rows = [f"<h4>{html.escape(labels['legend_distance'])}</h4>"]
    lower = 0.0
    minute = html.escape(labels["minutes"])
    for upper, color in zip(DISTANCE_BREAKS_M, DISTANCE_CLASS_COLORS, strict=False):
        minutes = f"{_minutes(lower, walk_speed_kmh)}–{_minutes(upper, walk_speed_kmh)}"
        text = f"{lower:,.0f}–{upper:,.0f} m · {minutes} {minute}"
        rows.append(f'<div><span class="sw" style="background:{color}"></span>{text}</div>')
        lower = upper
    last = DISTANCE_BREAKS_M[-1]
    rows.append(
        f'<div><span class="sw" style="background:{DISTANCE_CLASS_COLORS[-1]}"></span>'
        f"&gt; {last:,.0f} m · &gt; {_minutes(last, walk_speed_kmh)} {minute} / "
        f"{html.escape(labels['unreachable'])}</div>"
    )
    return "".join(rows)


def _line_swatch(color: str, *, dash: str = "", width: int = 4) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="22" height="12"><line x1="1" y1="6" x2="21" y2="6" '
        f'stroke="{color}" stroke-width="{width}"{dash_attr}/></svg>'
    )


def _area_swatch(color: str, *, fill: str = "none", dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="18" height="14"><rect x="1" y="1" width="16" height="12" '
        f'fill="{fill}" stroke="{color}" stroke-width="2"{dash_attr}/></svg>'
    )


# --------------------------------------------------------------------------- map scaffold


def _new_map(
    frames: Sequence[gpd.GeoDataFrame],
    *,
    style: MapStyle,
    n_features: int,
) -> tuple[folium.Map, bool]:
    """Create the map with its basemap; return it and whether overlays must be shifted to GCJ-02."""
    basemap, tianditu_key, language = style.basemap, style.tianditu_key, style.language
    if basemap not in BASEMAPS:
        msg = f"maps: unknown basemap {basemap!r}; use one of {', '.join(BASEMAPS)}"
        raise InputDataError(msg)
    if basemap == "tianditu" and not tianditu_key:
        logger.warning("maps: the Tianditu basemap needs `tianditu_key`; using OpenStreetMap instead")
        basemap = "osm"
    m = folium.Map(
        location=[39.6, 109.78],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        prefer_canvas=n_features > _CANVAS_ABOVE_FEATURES,
    )
    m.options["max_zoom"] = 19  # marker clustering needs the map's own maximum zoom
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", control=False, max_zoom=19).add_to(m)
    elif basemap == "tianditu":
        key = html.escape(str(tianditu_key))
        attribution = "&copy; 天地图 Tianditu (国家地理信息公共服务平台)"
        for layer in ("vec", "cva"):
            url = (
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                f"&TILECOL={{x}}&tk={key}"
            )
            folium.TileLayer(url, attr=attribution, control=False, subdomains="01234567", max_zoom=18).add_to(m)
    elif basemap == "amap":
        lang = "zh_cn" if language == "zh" else "en"
        url = (
            f"https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}"
        )
        folium.TileLayer(
            url, attr="&copy; 高德地图 AutoNavi (GCJ-02)", control=False, subdomains="1234", max_zoom=18
        ).add_to(m)
    header = cast(Figure, m.get_root()).header  # a folium map's root is its page
    header.add_child(_offline_assets.inline_css(_ORDOS_CSS), name="ordos_css")
    header.add_child(_offline_assets.inline_js(_ORDOS_JS), name="ordos_js")
    header.add_child(_offline_assets.inline_css(_offline_assets.markercluster_css()), name="cluster_css")
    header.add_child(_offline_assets.inline_js(_offline_assets.markercluster_js()), name="cluster_js")
    return m, basemap == "amap"


def _finish_map(
    m: folium.Map,
    bounds: list[np.ndarray],
    *,
    title: str,
    legend_html: str,
    labels: Mapping[str, str],
    style: MapStyle,
) -> folium.Map:
    sources, synthetic = style.sources, style.synthetic
    n_layers = sum(isinstance(child, Layer) and child.control for child in m._children.values())
    # Expanded when it fits beside the legend; a long list collapses behind Leaflet's layers button.
    folium.LayerControl(collapsed=n_layers > 12, position="topright").add_to(m)
    caption = html.escape(sources) if sources is not None else html.escape(labels["sources"])
    if synthetic:
        caption += f"<br><b>{html.escape(labels['synthetic'])}</b>"
    safe_title = html.escape(title)
    m.add_child(
        _Script(
            f"ordos.title({{map}}, {_js_json(safe_title)});\n"
            f"ordos.control({{map}}, 'bottomright', 'ordos-legend', {_js_json(legend_html)});\n"
            f"ordos.control({{map}}, 'bottomleft', 'ordos-caption', {_js_json(caption)});"
        )
    )
    valid = [b for b in bounds if np.all(np.isfinite(b))]
    if valid:
        stacked = np.vstack(valid)
        south_west = [float(stacked[:, 1].min()), float(stacked[:, 0].min())]
        north_east = [float(stacked[:, 3].max()), float(stacked[:, 2].max())]
        # Without animation, so the first frame (and a screenshot) shows the final view.
        m.add_child(
            _Script(f"{{map}}.fitBounds({_js_json([south_west, north_east])}, {{animate: false, padding: [20, 20]}});")
        )
    cast(Figure, m.get_root()).title = safe_title
    _offline_assets.make_offline(m)
    return m


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
    data = _Data(_feature_collection(geometries, properties))
    m.add_child(data)
    layer = _FeatureLayer(data, options, name=name, overlay=overlay, show=show)
    layer.n_features = len(geometries)
    m.add_child(layer)
    if len(geometries):
        bounds.append(np.asarray(shapely.total_bounds(geometries)))
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
    pngs = {}
    for key, column in distance_columns.items():
        distance = cells[column].to_numpy(dtype=float)
        finite = np.isfinite(distance)
        classes = np.where(finite, np.searchsorted(DISTANCE_BREAKS_M, distance, side="left"), len(DISTANCE_BREAKS_M))
        pngs[key] = _cell_raster.class_png(
            raster.grid(classes.astype(np.uint8), fill=255, dtype=np.uint8), DISTANCE_CLASS_COLORS
        )
        steps = np.where(finite, np.round(np.clip(distance, 0, None) / _CELL_DISTANCE_STEP_M), np.inf)
        stored = np.where(steps < _cell_raster.DIST_UNREACHABLE, steps, _cell_raster.DIST_UNREACHABLE)
        grids[f"dist_{key}"] = _grid_spec(raster.grid(stored.astype(np.uint16), fill=0, dtype=np.uint16))
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
                "png": pngs,
                "grids": grids,
            }
        )
    )
    m.add_child(data)
    for key in distance_columns:
        kind_label = _kind_name(key, language)
        options = {
            "kind": key,
            "opacity": 0.7,
            "distanceStep": _CELL_DISTANCE_STEP_M,
            "unreachableValue": _cell_raster.DIST_UNREACHABLE,
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


def _grid_spec(grid: np.ndarray, *, predict: bool = True) -> dict[str, Any]:
    """A packed value grid as the page reads it (``ordos.unpack``)."""
    return {"data": _cell_raster.pack_grid(grid, predict=predict), "bytes": grid.dtype.itemsize, "predict": predict}


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
    m: folium.Map, boundaries: gpd.GeoDataFrame, *, gcj02: bool, labels: Mapping[str, str], language: str, bounds: list
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


# --------------------------------------------------------------------------- public maps


def coverage_map(
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    underserved: gpd.GeoDataFrame | None = None,
    kinds: Sequence[str] | None = None,
    style: MapStyle = _DEFAULT_STYLE,
) -> folium.Map:
    """Map population cells by walking distance to the nearest venue, with facilities and gaps.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Population cells (any CRS) with ``population``, ``dist_m_any`` and
        ``dist_m_<kind>`` columns (metres along the walk network; ``inf`` or NaN
        = unreachable), as in ``AccessibilityResult.cells``.
    facilities : geopandas.GeoDataFrame
        Existing facilities with ``kind``, and optionally ``name``,
        ``facility_id``, ``area_m2``, ``open_to_public``, ``district``; points,
        polygons (parks) or lines (trails).
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries (``name_zh``, ``name_en``, ``level``).
    service_areas : geopandas.GeoDataFrame, optional
        Service-area polygons with ``threshold_m``; drawn as one layer per tier
        (merged for display), hidden at first.
    underserved : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``neighbourhood_id``, ``population``,
        ``n_cells``, ``district``), outlined with their population in a tooltip.
    kinds : sequence of str, optional
        Facility kinds to show (distance layers and facility layers); default all present.
    style : MapStyle
        Language, basemap, title, caption and walking speed (for the legend's
        minutes) of the map.

    Returns
    -------
    folium.Map
        A self-contained map (see :func:`render_html`).
    """
    language, walk_speed_kmh = style.language, style.walk_speed_kmh
    labels = _labels(language)
    cells = _check_frame(cells, "cells", ["population", _DIST_ANY])
    facilities = _check_frame(facilities, "facilities", ["kind"])
    if walk_speed_kmh <= 0:
        msg = f"coverage_map: walk_speed_kmh must be positive, got {walk_speed_kmh}"
        raise InputDataError(msg)
    distance_columns = {ANY_KIND: _DIST_ANY}
    prefix = dist_column("")
    kind_columns = [c.removeprefix(prefix) for c in cells.columns if c.startswith(prefix) and c != _DIST_ANY]
    ordered = [k for k in FACILITY_KINDS if k in kind_columns] + sorted(
        k for k in kind_columns if k not in FACILITY_KINDS
    )
    for kind in ordered:
        if kinds is None or kind in kinds:
            distance_columns[kind] = dist_column(kind)
    m, gcj02 = _new_map([cells, facilities], style=style, n_features=len(facilities))
    bounds: list[np.ndarray] = []
    populated = _cells_layers(
        m,
        cells,
        distance_columns,
        gcj02=gcj02,
        labels=labels,
        language=language,
        walk_speed_kmh=walk_speed_kmh,
        name_prefix=html.escape(labels["cells_layer"]),
        shown="any",
    )
    legend = [_distance_legend(labels, walk_speed_kmh)]
    if service_areas is not None and len(service_areas):
        service_areas = _check_frame(service_areas, "service_areas", ["threshold_m"])
        tiers = sorted(float(t) for t in service_areas["threshold_m"].dropna().unique())
        tier_colors = ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7"]
        for i, tier in enumerate(tiers):
            subset = service_areas.loc[service_areas["threshold_m"] == tier]
            merged = gpd.GeoDataFrame(geometry=[shapely.union_all(subset.geometry.values)], crs=subset.crs)
            color = tier_colors[min(i, len(tier_colors) - 1)]
            name = f"{html.escape(labels['service_area'])} ≤ {tier:,.0f} m"
            _add_layer(
                m,
                _display_geometry(merged, gcj02=gcj02),
                [{"_tip": f"{name} ({len(subset)})"}],
                {"style": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.25}},
                name=name,
                bounds=bounds,
                show=False,
            )
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    if underserved is not None and len(underserved):
        underserved = _check_frame(underserved, "underserved", ["population"])
        _add_layer(
            m,
            _display_geometry(underserved, gcj02=gcj02),
            _underserved_properties(underserved, labels, language),
            {
                "style": {
                    "color": "#b2182b",
                    "weight": 2.5,
                    "dashArray": "6 4",
                    "fillColor": "#b2182b",
                    "fillOpacity": 0.06,
                }
            },
            name=html.escape(labels["underserved"]),
            bounds=bounds,
        )
        legend.append(f"<div>{_area_swatch('#b2182b', dash='4 2')}{html.escape(labels['underserved'])}</div>")
    kind_rows = _facility_layers(m, facilities, kinds, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    legend.append(f'<div class="kinds">{"".join(kind_rows)}</div>')
    return _finish_map(
        m,
        [populated] if populated is not None else bounds,  # the first view fits the populated area
        title=style.title if style.title is not None else labels["coverage_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )


def _site_popup(row: pd.Series, labels: Mapping[str, str], site_type: str, language: str) -> str:
    delta = _number(row.get("delta_per_capita_area_city_m2"), 4)
    return _table(
        [
            (html.escape(labels["rank"]), _text(row.get("rank", row.get("plan_order")))),
            (html.escape(labels["kind"]), _kind_name(site_type, language)),
            (html.escape(labels["candidate_id"]), _text(row.get("candidate_id"))),
            (html.escape(labels["newly_covered"]), _fmt_number(row.get("newly_covered_population"))),
            (html.escape(labels["delta_per_capita"]), "" if delta is None else f"{delta:+.4f}"),
            (html.escape(labels["reason"]), _text(row.get("reason"))),
        ],
        title=_text(row.get("name")) or _text(row.get("candidate_id")),
    )


def _split_chosen(chosen: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None) -> dict[str, gpd.GeoDataFrame]:
    if chosen is None:
        return {}
    if isinstance(chosen, Mapping):
        return {str(k): v for k, v in chosen.items()}
    frame = _check_frame(chosen, "chosen")
    for column in _SITE_TYPE_COLUMNS:
        if column in frame.columns:
            return {str(k): group for k, group in frame.groupby(column, sort=False)}
    return {"plan": frame}


def sites_map(
    ranked: Mapping[str, gpd.GeoDataFrame],
    chosen: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None,
    cells_before: gpd.GeoDataFrame,
    cells_after: gpd.GeoDataFrame | None = None,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    top_n: int | None = 20,
    style: MapStyle = _DEFAULT_STYLE,
    school_opening: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Map ranked candidate sites, the chosen plan per type and coverage before/after.

    Parameters
    ----------
    ranked : dict of str to geopandas.GeoDataFrame
        Per site type (``"multi_sport_court"``, ...), candidates with ``rank``,
        ``candidate_id``, ``name``, ``newly_covered_population``,
        ``delta_per_capita_area_city_m2``, ``reason`` and a point/polygon geometry.
    chosen : geopandas.GeoDataFrame or dict, optional
        The chosen plan: a frame with a ``site_type`` (or ``type``/``kind``)
        column, or a dict per type; same columns as ``ranked``.
    cells_before, cells_after : geopandas.GeoDataFrame
        Cells with ``population`` and ``dist_m_any`` before and after the plan.
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries.
    top_n : int, optional
        Draw only the best ``top_n`` candidates per type (all if None).
    style : MapStyle
        Language, basemap, title, caption and walking speed of the map.
    school_opening : geopandas.GeoDataFrame, optional
        Closed school venues ranked by
        :func:`ordos_geo.siting.plan_school_opening` (``rank``,
        ``facility_id``, ``in_plan``, ``newly_covered_in_plan``, ``reason``):
        the ones to open are drawn as a chosen layer, the rest as candidates.

    Returns
    -------
    folium.Map
    """
    language, walk_speed_kmh = style.language, style.walk_speed_kmh
    labels = _labels(language)
    ranked = dict(ranked)
    chosen_by_type = _split_chosen(chosen)
    if school_opening is not None and len(school_opening):
        venues = _check_frame(school_opening, "school_opening", ["rank", "in_plan"]).rename(
            columns={"facility_id": "candidate_id", "newly_covered_in_plan": "newly_covered_population"}
        )
        in_plan = venues["in_plan"].astype(bool).to_numpy()
        ranked["school_opening"] = venues[~in_plan]
        chosen_by_type["school_opening"] = venues[in_plan]
    cells_before = _check_frame(cells_before, "cells_before", ["population", _DIST_ANY])
    if cells_after is not None:
        cells_after = _check_frame(cells_after, "cells_after", ["population", _DIST_ANY])
    m, gcj02 = _new_map([cells_before], style=style, n_features=0)
    bounds: list[np.ndarray] = []
    populated: list[np.ndarray] = []
    for cells, key, shown in ((cells_before, "before", cells_after is None), (cells_after, "after", True)):
        if cells is None:
            continue
        view = _cells_layers(
            m,
            cells,
            {ANY_KIND: _DIST_ANY},
            gcj02=gcj02,
            labels=labels,
            language=language,
            walk_speed_kmh=walk_speed_kmh,
            name_prefix=html.escape(labels[key]) + " ·",
            shown="any" if shown else None,
            hide_layer=key == "after" or cells_after is None,
        )
        if view is not None:
            populated.append(view)
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    legend = [_distance_legend(labels, walk_speed_kmh)]
    for site_type, candidates in ranked.items():
        candidates = _check_frame(candidates, f"ranked[{site_type!r}]", ["rank"])
        candidates = candidates.sort_values("rank", kind="stable")
        if top_n is not None:
            candidates = candidates.head(top_n)
        _, color = _kind_style(site_type)
        properties = [
            {
                "_tip": f"#{_text(row.get('rank'))} {_text(row.get('name'))}",
                "_icon": _icon_svg(str(_number(row.get("rank")) or "?"), "#555555", size=20, shape="square"),
                "_pop": _site_popup(row, labels, site_type, language),
            }
            for _, row in candidates.iterrows()
        ]
        name = f"{html.escape(labels['candidates'])}: {_kind_name(site_type, language)} ({len(candidates)})"
        _add_layer(
            m,
            _display_geometry(candidates, gcj02=gcj02),
            properties,
            {"iconSize": 20, "style": {"color": "#555555", "weight": 2, "fillColor": "#999999", "fillOpacity": 0.3}},
            name=name,
            bounds=bounds,
        )
    for site_type, sites in chosen_by_type.items():
        sites = _check_frame(sites, f"chosen[{site_type!r}]")
        order = next((c for c in ("rank", "plan_order") if c in sites.columns), None)
        if order is not None:
            sites = sites.sort_values(order, kind="stable")
        letters, color = _kind_style(site_type)
        icon = _icon_svg(letters, color, size=30, shape="star")
        properties = [
            {
                "_tip": _kind_name(site_type, language)
                + ": "
                + (_text(row.get("name")) or _text(row.get("candidate_id"))),
                "_pop": _site_popup(row, labels, site_type, language),
            }
            for _, row in sites.iterrows()
        ]
        name = f"{icon} {html.escape(labels['chosen'])}: {_kind_name(site_type, language)} ({len(sites)})"
        _add_layer(
            m,
            _display_geometry(sites, gcj02=gcj02),
            properties,
            {
                "icon": icon,
                "iconSize": 30,
                "zIndexOffset": 1000,
                "style": {"color": color, "weight": 3, "fillColor": color, "fillOpacity": 0.4},
            },
            name=name,
            bounds=bounds,
        )
        legend.append(f"<div>{icon}{html.escape(labels['chosen'])}: {_kind_name(site_type, language)}</div>")
    if ranked:
        square = _icon_svg("1", "#555555", size=20, shape="square")
        legend.append(f"<div>{square}{html.escape(labels['candidates'])} ({html.escape(labels['rank'])})</div>")
    return _finish_map(
        m,
        populated or bounds,  # the first view fits the populated area
        title=style.title if style.title is not None else labels["sites_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )


def _attribute_popup(row: pd.Series, language: str, *, skip: Sequence[str] = ("geometry",), limit: int = 12) -> str:
    """Popup of a row's attributes, headers and districts/kinds in ``language`` (values escaped)."""
    rows: list[tuple[str, str]] = []
    for column, value in row.items():
        if column in skip or len(rows) >= limit:
            continue
        if column == "district" and isinstance(value, str):
            value = label_table.district(value, language)
        elif column == "kind" and isinstance(value, str):
            value = label_table.kind(value, language)
        if isinstance(value, float | np.floating):
            text = _fmt_number(value, 1 if abs(float(value)) < 1000 else 0)
        elif isinstance(value, bool | np.bool_ | int | np.integer | str):
            text = _text(value)
        else:
            continue
        rows.append((html.escape(label_table.column(str(column), language)), text))
    return _table(rows)


def trails_map(
    planned: gpd.GeoDataFrame | None,
    checked: gpd.GeoDataFrame | None = None,
    *,
    underserved: gpd.GeoDataFrame | None = None,
    off_network: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    reach_m: float = DEFAULT_TRAIL_REACH_M,
    style: MapStyle = _DEFAULT_STYLE,
) -> folium.Map:
    """Map planned and checked trails, their reach band and the neighbourhoods reached or missed.

    Parameters
    ----------
    planned, checked : geopandas.GeoDataFrame, optional
        Trail lines (any CRS); every non-geometry column is shown in the popup.
    underserved : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods; a boolean ``reached`` column splits them
        into "reached" and "missed" layers.
    off_network : geopandas.GeoDataFrame, optional
        Parts of proposed lines away from any street (``TrailCheck.off_network``),
        drawn in red.
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries.
    reach_m : float
        Width of the reach band drawn around the trails (metres, straight-line
        buffer in a metric CRS; for display only, the analysis uses walking distance).
    style : MapStyle
        Language, basemap, title and caption of the map (its walking speed is not used).

    Returns
    -------
    folium.Map
    """
    language = style.language
    labels = _labels(language)
    frames = {
        key: _check_frame(frame, key)
        for key, frame in (("planned", planned), ("checked", checked))
        if frame is not None and len(frame)
    }
    if not frames:
        msg = "trails_map: give `planned` and/or `checked` trails (both are empty or None)"
        raise InputDataError(msg)
    m, gcj02 = _new_map(list(frames.values()), style=style, n_features=0)
    bounds: list[np.ndarray] = []
    legend = []
    styles = {"planned": ("#1b7837", ""), "checked": ("#762a83", "8 5")}
    for key, frame in frames.items():
        color, dash = styles[key]
        metric = frame.crs if frame.crs.is_projected else metric_crs_for(frame)
        band = frame.geometry.to_crs(metric).buffer(reach_m, quad_segs=8).union_all()
        band_frame = gpd.GeoDataFrame(geometry=[band], crs=metric)
        band_name = html.escape(labels["reach_band"])
        band_note = html.escape(labels["reach_band_note"].format(reach=f"{reach_m:,.0f}"))
        _add_layer(
            m,
            _display_geometry(band_frame, gcj02=gcj02, tolerance_m=10.0),
            [{"_tip": f"{band_name} · {html.escape(labels[f'{key}_trails'])}<br>{band_note}"}],
            {"style": {"color": color, "weight": 1, "opacity": 0.5, "fillColor": color, "fillOpacity": 0.12}},
            name=f"{band_name} · {html.escape(labels[f'{key}_trails'])}",
            bounds=bounds,
        )
    for key, frame in frames.items():
        color, dash = styles[key]
        name = html.escape(labels[f"{key}_trails"])
        # Trails carry their shape check and the plan's yardstick, bound and gap: show every column.
        properties = [
            {"_tip": name, "_pop": _attribute_popup(row, language, limit=32)} for _, row in frame.iterrows()
        ]
        _add_layer(
            m,
            _display_geometry(frame, gcj02=gcj02),
            properties,
            {"style": {"color": color, "weight": 5, "opacity": 0.95, "dashArray": dash or None}},
            name=f"{_line_swatch(color, dash=dash)} {name} ({len(frame)})",
            bounds=bounds,
        )
        legend.append(f"<div>{_line_swatch(color, dash=dash)}{name}</div>")
    if off_network is not None and len(off_network):
        off_network = _check_frame(off_network, "off_network")
        name = html.escape(labels["off_network"])
        _add_layer(
            m,
            _display_geometry(off_network, gcj02=gcj02),
            [{"_tip": name, "_pop": _attribute_popup(row, language)} for _, row in off_network.iterrows()],
            {"style": {"color": "#d7191c", "weight": 6, "opacity": 0.9, "dashArray": "2 6"}},
            name=f"{_line_swatch('#d7191c', dash='2 4')} {name} ({len(off_network)})",
            bounds=bounds,
        )
        legend.append(f"<div>{_line_swatch('#d7191c', dash='2 4')}{name}</div>")
    legend.append(
        f"<div>{_area_swatch('#1b7837', fill='rgba(27,120,55,0.15)')}"
        f"{html.escape(labels['reach_band'])}: "
        f"{html.escape(labels['reach_band_note'].format(reach=f'{reach_m:,.0f}'))}</div>"
    )
    if underserved is not None and len(underserved):
        underserved = _check_frame(underserved, "underserved", ["population"])
        groups: tuple[tuple[str, np.ndarray, str], ...]
        if "reached" in underserved.columns:
            reached = underserved["reached"].fillna(False).astype(bool).to_numpy()
            groups = (("reached", reached, "#1a9850"), ("missed", ~reached, "#d73027"))
        else:
            groups = (("underserved", np.ones(len(underserved), bool), "#b2182b"),)
        for key, mask, color in groups:
            subset = underserved.loc[mask]
            _add_layer(
                m,
                _display_geometry(subset, gcj02=gcj02),
                _underserved_properties(subset, labels, language),
                {"style": {"color": color, "weight": 2.5, "dashArray": "6 4", "fillColor": color, "fillOpacity": 0.1}},
                name=f"{html.escape(labels[key])} ({len(subset)})",
                bounds=bounds,
            )
            legend.append(f"<div>{_area_swatch(color, dash='4 2')}{html.escape(labels[key])}</div>")
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    return _finish_map(
        m,
        bounds,
        title=style.title if style.title is not None else labels["trails_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )


def render_html(m: folium.Map) -> str:
    """Return the final self-contained HTML page of a map.

    Leaflet and jQuery are inlined (see :mod:`ordos_geo._offline_assets`); only
    basemap tile URLs may need the network.

    Parameters
    ----------
    m : folium.Map
        A map from this module, or any folium map without CDN-only plugins.

    Returns
    -------
    str
        The page.

    Raises
    ------
    InputDataError
        If the page would still load a script or stylesheet from the network.
    """
    _offline_assets.make_offline(m)
    page = m.get_root().render()
    external = _offline_assets.external_resources(page)
    if external:
        msg = f"render_html: the page still loads {len(external)} resource(s) from the network: {external[:3]}"
        raise InputDataError(msg)
    return page


_PAGE_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.ordos-table{border-collapse:collapse;margin:.6em 0;font-size:13px}
table.ordos-table th,table.ordos-table td{border:1px solid #ccc;padding:3px 8px;text-align:left}
table.ordos-table th{background:#f3f3f3}
tr.met td{background:#eef8ee}tr.not-met td{background:#fbeeee}
.note{color:#8a4b00;background:#fff6e5;padding:.5em 1em;border-left:4px solid #e0a030}
ul.maps li{margin:.3em 0}
"""


def _safe_href(href: str) -> str:
    lowered = href.strip().lower()
    if ":" in lowered.split("/", 1)[0] and not lowered.startswith(("http://", "https://")):
        msg = f"index_page: link {href!r} is not a relative path or http(s) URL"
        raise InputDataError(msg)
    return html.escape(href, quote=True)


def index_page(
    pages: Mapping[str, str],
    scorecard: pd.DataFrame,
    *,
    language: Language = DEFAULT_LANGUAGE,
    title: str | None = None,
    synthetic: bool = True,
) -> str:
    """Return a self-contained ``index.html`` linking the maps, with the scorecard table.

    Parameters
    ----------
    pages : dict of str to str
        Page name -> relative path of each page (``{"coverage": "coverage.html"}``); the
        names ``coverage``, ``sites``, ``trails`` and ``report`` are shown in ``language``,
        other names as given.
    scorecard : pandas.DataFrame
        The plan scorecard (``key``, ``description``, ``target``, ``value``,
        ``unit``, ``met``, ``gap``); every cell is escaped.
    language : {"zh", "en"}
        Language of the labels.
    title : str, optional
        Page title; a default in ``language``.
    synthetic : bool
        Add the synthetic-sample note.

    Returns
    -------
    str
        The HTML page (no external resources).
    """
    labels = _labels(language)
    page_title = html.escape(title if title is not None else labels["index_title"])
    links = "".join(
        f'<li><a href="{_safe_href(href)}">{html.escape(labels.get(f"page_{name}", name))}</a></li>'
        for name, href in pages.items()
    )
    note = f'<p class="note">{html.escape(labels["synthetic"])}</p>' if synthetic else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{page_title}</title>'
        f"<style>{_PAGE_CSS}</style></head><body><h1>{page_title}</h1>{note}"
        f'<h2>{html.escape(labels["maps"])}</h2><ul class="maps">{links}</ul>'
        f"<h2>{html.escape(labels['scorecard'])}</h2>{html_table(scorecard, language, css_class='ordos-table')}"
        f"<p>{html.escape(labels['sources'])}</p></body></html>\n"
    )


def batch_index_page(
    summary: pd.DataFrame,
    pages: Mapping[str, Mapping[str, str]],
    *,
    language: Language = "en",
) -> str:
    """Return a self-contained ``index.html`` of a batch: each study's pages, then the summary table.

    Parameters
    ----------
    summary : pandas.DataFrame
        The batch summary (``study``, ``status``, ... see
        :data:`ordos_geo.batch.BATCH_SUMMARY_COLUMNS`); every cell is escaped.
    pages : mapping
        Study name -> {link text -> relative path} of its pages that exist
        (``{"coverage": "dongsheng/coverage.html"}``).
    language : {"zh", "en"}
        Language of the labels.

    Returns
    -------
    str
        The HTML page (no external resources).

    Examples
    --------
    >>> summary = pd.DataFrame({"study": ["a"], "status": ["ok"]})
    >>> "a/report.html" in batch_index_page(summary, {"a": {"report": "a/report.html"}})
    True
    """
    labels = _labels(language)
    title = html.escape(labels["batch_title"])
    items = []
    for _, row in summary.iterrows():
        name = str(row["study"])
        links = " · ".join(
            f'<a href="{_safe_href(href)}">{html.escape(text)}</a>' for text, href in pages.get(name, {}).items()
        )
        items.append(f"<li><b>{html.escape(name)}</b> ({html.escape(str(row['status']))}) {links}</li>")
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{_PAGE_CSS}</style></head><body><h1>{title}</h1>"
        f'<h2>{html.escape(labels["studies"])}</h2><ul class="maps">{"".join(items)}</ul>'
        f'<h2>{html.escape(labels["batch_summary"])}</h2>{html_table(summary, language, css_class="ordos-table")}'
        "</body></html>\n"
    )
