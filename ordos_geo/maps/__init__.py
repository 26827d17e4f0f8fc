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

One module per job: :mod:`~ordos_geo.maps.style` (:class:`MapStyle`, colours,
icons, labels), :mod:`~ordos_geo.maps.coverage`, :mod:`~ordos_geo.maps.sites`,
:mod:`~ordos_geo.maps.trails`, :mod:`~ordos_geo.maps.index` (index pages), on
the page scaffold of :mod:`~ordos_geo.maps._page` and the shared layers of
:mod:`~ordos_geo.maps._layers`.
"""

from __future__ import annotations

from ordos_geo.maps._layers import shift_to_gcj02
from ordos_geo.maps._page import render_html
from ordos_geo.maps.coverage import coverage_map
from ordos_geo.maps.index import batch_index_page, index_page
from ordos_geo.maps.sites import sites_map
from ordos_geo.maps.style import (
    BASEMAPS,
    DISTANCE_BREAKS_M,
    DISTANCE_CLASS_COLORS,
    KIND_STYLES,
    LABELS,
    Basemap,
    MapStyle,
)
from ordos_geo.maps.trails import trails_map
from ordos_geo.settings import Language

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
