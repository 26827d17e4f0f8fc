"""The page around every map: inline JavaScript and CSS, folium elements, basemaps, title, legend and caption."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from typing import Any, cast

import folium
import numpy as np
from branca.element import Figure
from folium.map import Layer
from folium.template import Template

from ordos_geo import _offline_assets
from ordos_geo._errors import InputDataError
from ordos_geo._labels import Note
from ordos_geo.maps.style import BASEMAPS, MapStyle

logger = logging.getLogger(__package__)  # one logger for the maps package: 'ordos_geo.maps'


#: Above this many vector features the map uses Leaflet's canvas renderer.
_CANVAS_ABOVE_FEATURES = 20_000


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
  // ---- vector layers: geometries packed as whole 1e-5 degrees, each line or ring [x0, y0, dx1, dy1, ...]
  var DEPTH = {Point: 0, MultiPoint: 1, LineString: 1, Polygon: 2, MultiLineString: 2, MultiPolygon: 3};
  function unpackCoordinates(c, depth) {
    if (depth > 1) { return c.map(function (part) { return unpackCoordinates(part, depth - 1); }); }
    var out = [], x = 0, y = 0;
    for (var i = 0; i < c.length; i += 2) { x += c[i]; y += c[i + 1]; out.push([x / 1e5, y / 1e5]); }
    return depth === 0 ? out[0] : out;
  }
  function unpackFeatures(data) {
    if (!data._unpacked) {
      data.features.forEach(function (f) {
        var g = f.geometry;
        if (g && g.p) { f.geometry = {type: g.type, coordinates: unpackCoordinates(g.p, DEPTH[g.type])}; }
      });
      data._unpacked = true;
    }
    return data;
  }
  function layer(data, o) {
    data = unpackFeatures(data);
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
        var tip = p[o.tipKey || '_tip'] || '';
        if (o.popLabel) {
          tip = o.popLabel + ': ' + (p._p === null || p._p === undefined ? '–' : p._p.toLocaleString('en-US'));
          if (p._d) { tip += '<br>' + o.districtLabel + ': ' + p._d; }
        }
        if (o.classBy) { tip += (tip ? '<br>' : '') + o.distLabel + ': ' + formatDistance(p[o.classBy], o); }
        if (tip) { lyr.bindTooltip(tip, {sticky: true}); }
        if (p._pop) { lyr.bindPopup(p._pop, {maxWidth: 360}); }
      }
    };
    // layers sharing one data variable: each draws the features whose _in has its bit, with its own tooltip
    if (o.only) { opts.filter = function (f) { return ((f.properties || {})._in & o.only) !== 0; }; }
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
  // ---- population cells: packed grids, each distance layer coloured by class in the browser when first shown
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
    if (!data._grids[key]) {
      var spec = data.grids[key], own = unpack(spec, data.width, data.height);
      data._grids[key] = !spec.base ? own : Promise.all([own, cellGrid(data, spec.base)]).then(function (g) {
        var modulus = Math.pow(256, spec.bytes), out = g[0], base = g[1];
        for (var i = 0; i < out.length; i++) { out[i] = (out[i] + base[i]) % modulus; }
        return out;
      });
    }
    return data._grids[key];
  }
  function metres(code, data) {  // a stored distance code (see _cell_raster.distance_codes); null = unreachable
    if (code === data.unreachable) { return null; }
    var limits = data.distance.limits, steps = data.distance.steps, lower = 0, start = 0;
    for (var k = 0; k < limits.length; k++) {
      var n = (limits[k] - lower) / steps[k];
      if (code <= start + n) { break; }
      lower = limits[k]; start += n;
    }
    return lower + (code - start) * steps[k];
  }
  function drawCells(data, kind) {  // a PNG (object URL) with one pixel per cell, coloured by distance class
    return Promise.all([cellGrid(data, 'population'), cellGrid(data, 'dist_' + kind)]).then(function (g) {
      var colors = data.classes.colors.map(function (c) {
        return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)]; });
      var byCode = new Map(), canvas = document.createElement('canvas');
      canvas.width = data.width; canvas.height = data.height;
      var context = canvas.getContext('2d'), image = context.createImageData(data.width, data.height);
      var px = image.data;
      for (var i = 0; i < g[0].length; i++) {
        if (!g[0][i]) { continue; }
        var code = g[1][i], color = byCode.get(code);
        if (color === undefined) {
          color = colors[classIndex(metres(code, data), data.classes.breaks)];
          byCode.set(code, color);
        }
        px[4 * i] = color[0]; px[4 * i + 1] = color[1]; px[4 * i + 2] = color[2]; px[4 * i + 3] = 255;
      }
      context.putImageData(image, 0, 0);
      return new Promise(function (resolve) { canvas.toBlob(resolve, 'image/png'); });
    }).then(function (blob) { return URL.createObjectURL(blob); });
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
      return {population: g[0][i] - 1, district: g[1] && g[1][i] ? d.districts[g[1][i] - 1] : '',
        distance: metres(g[2][i], d), o: shown.o};
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
  // A transparent pixel until the layer's image is drawn; the drawn image's <img> gets data-drawn="<kind>".
  var BLANK = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';
  function cells(data, o) {
    var layer = L.imageOverlay(BLANK, data.bounds, {opacity: o.opacity, className: 'ordos-cells', interactive: false});
    layer.ordosCells = {data: data, o: o};
    layer.on('load', function () {
      var img = layer.getElement();
      if (img && layer._url !== BLANK) { img.setAttribute('data-drawn', o.kind); }
    });
    layer.on('add', function () {
      var map = layer._map;
      if (!map._ordosCellClick) {
        map._ordosCellClick = true;
        map.on('click', function (e) { onCellClick(map, e); });
      }
      if (!layer._ordosDrawing) {
        layer._ordosDrawing = drawCells(data, o.kind).then(function (url) { layer.setUrl(url); })
          .catch(function (err) { console.error('ordos: cannot draw the cells', err); });
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
  return {layer: layer, cells: cells, cellAt: cellAt, metres: metres, control: control, title: title,
    classIndex: classIndex};
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
.ordos-legend .note{margin-top:3px;font-size:11px;color:#444}
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

    def __init__(self, json_text: str) -> None:
        super().__init__()
        self._name = "OrdosData"
        self.json_text = json_text

    def render(self, **kwargs: Any) -> str:
        """Add the variable to the page's script as it is (returns no text of its own).

        A ``MacroElement`` hands its rendered text to a new Jinja template, which
        would lex megabytes of data (seconds on a city) and read any ``{{`` in a
        name as Jinja; the text is the template's output, byte for byte.
        """
        figure = self.get_root()
        assert isinstance(figure, Figure), "a data element renders inside a page"
        figure.script.add_child(
            _offline_assets.RawHtml(f"\nvar {self.get_name()} = {self.json_text};"), name=self.get_name()
        )
        return ""


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
    """A base layer of population cells: ``ordos.cells`` colours one distance grid of a :class:`_Data` when shown."""

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


def _new_map(*, style: MapStyle, n_features: int) -> tuple[folium.Map, bool]:
    """Create the map with its basemap; return it and whether overlays must be shifted to GCJ-02."""
    basemap, tianditu_key, language = style.basemap, style.tianditu_key, style.language
    if basemap not in BASEMAPS:
        raise InputDataError(Note("unknown_basemap", basemap=repr(basemap), choices=", ".join(BASEMAPS)))
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

    Examples
    --------
    >>> page = render_html(folium.Map(location=[39.82, 109.98], zoom_start=12, tiles=None))
    >>> page.startswith("<!DOCTYPE html>"), "https://cdn" in page  # Leaflet inlined, nothing from a CDN
    (True, False)
    """
    _offline_assets.make_offline(m)
    page = m.get_root().render()
    external = _offline_assets.external_resources(page)
    if external:
        raise InputDataError(Note("page_not_offline", n=len(external), first=str(external[:3])))
    return page
