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
The cells are not drawn as polygons: each distance column is one base layer
(one radio button per column) drawn as an ``L.imageOverlay`` with one pixel per
cell on a Web-Mercator grid (see :mod:`ordos_geo._cell_raster`). The page holds
integer grids, deflated: population, district, and per column the distance
rounded up to 10 m within 500 m, 25 m within 1 km, 50 m within 2 km and 100 m
beyond (the cells being about 100 m wide; every class break lies on its step
grid, so a rounded distance keeps its colour; the legend says so, and the exact
values are in the GeoPackage); a scenario column (evenings, winter) is stored
as its difference from any venue's when that is smaller. The browser inflates
a column's grid and colours its image when the layer is first shown, and a
click on a cell opens a popup with its population, district and walking
distance read from the same grids. Measured on the synthetic 1M-node city
(1.27M populated cells, ten kinds, evenings and winter): coverage.html 13.8 MB,
of which distance grids 8.3 MB, population and district 1.4 MB, facilities
2.4 MB, underserved outlines 1.2 MB. Facility markers of each kind are
clustered (Leaflet.markercluster) until zoomed in. The first view fits the
populated cells, not whole districts.

Geometry of the other layers is simplified for display in a metric CRS (5 m
tolerance) and coordinates rounded to 5 decimals (about 1 m), written as whole
1e-5 degrees with each line or ring as steps from its first point (the page
rebuilds the GeoJSON); the inline libraries take about 290 kB.

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
