"""Fetch real inputs for a district or banner: how a planner with a connection starts.

``ordos-geo fetch --area 150602`` (or ``--area Dongsheng`` / ``--area 东胜区``)
writes into ``data/raw/<area>/``, all files or none:

- ``boundary.geojson``: the area's boundary (from the sample's real
  boundaries, the ``boundaries`` given, or the user's own ``boundary`` file);
- ``walk_network.graphml``: the OSM walk network inside the query polygon,
  from :func:`ordos_geo.network.walk_graph_from_polygon` (Overpass API, the
  walking rule), unprojected; :func:`ordos_geo.network.load_walk_network` cleans, projects
  and caches it;
- ``osm_features.geojson``: OSM sports venues inside the boundary
  (leisure/sport/amenity tags, :data:`FEATURE_TAGS`), readable by
  :func:`ordos_geo.io.read_facilities` (their tags map to kinds); OSM schools
  get ``open_to_public = "unknown"``;
- ``candidate_land.geojson``: polygons of vacant or green land, parks and
  school grounds (:data:`LAND_TAGS`), which siting turns into candidate sites;
- ``population.tif`` (or ``population.geojson`` from a vector table): people
  per cell clipped to the boundary;
- ``population_60plus.tif`` (with ``population="worldpop"``, unless
  ``ages_60plus=False`` / ``--no-ages``): residents aged 60+ on the same
  grid, the sum of WorldPop's ten 2020 age and sex grids of women and men aged
  60-64 ... 80+ (:data:`WORLDPOP_60PLUS_URLS`);
- ``provenance.json``: sources, URLs, retrieval time, licences, the
  population compared with the 2020 census;
- ``study.toml``: a study file for ``ordos-geo run --config``.

Requests
--------
One Overpass query for the walk network and one for the features (osmnx
splits areas over 2,500 km² into several). Both use the boundary buffered by
:data:`QUERY_BUFFER_M` and simplified, so the request stays small (the
features query repeats the polygon once per tag, 66 times); features are then
kept when they lie inside the exact boundary. The Overpass server is
``settings.DEFAULT_OVERPASS_URL`` unless another is given (mirrors:
:data:`OVERPASS_MIRRORS`); it is checked first with a short request to its
``/status`` page so that an unreachable server fails in seconds. Answers are
cached by osmnx in ``<downloads>/overpass/``.

Population sources (people per ~100 m cell, EPSG:4326, 3 arc-seconds):

- ``"worldpop"`` (default): WorldPop Global 2000-2020 *constrained* (people
  placed only on built-up cells), 2020, China (``BSGM/CHN/`` first, then
  ``maxar_v1/CHN/``); smaller than the unconstrained file (size not
  measured here);
- ``"worldpop_unconstrained"``: WorldPop Global 2000-2020 unconstrained,
  2020, several GB (about 4.6 GB by the project's earlier notes; the server
  does not serve byte ranges, so it is downloaded whole);
- an ``https://`` URL of a GeoTIFF of people per cell (e.g. a GHSL tile);
- a local GeoTIFF, or a vector file (GeoJSON, GeoPackage, Shapefile) of
  points or polygons with a ``population`` column;
- ``"none"``: no population now (add ``population`` to ``study.toml`` later).

Whole-country files are downloaded once into ``downloads`` (default
``<out>/../_downloads``) through a ``.part`` file, retried with backoff,
checked to open as a GeoTIFF in EPSG:4326, and reused for other areas; a file
downloaded by hand can be dropped there under its published name. WorldPop
data are CC BY 4.0 (cite WorldPop, University of Southampton,
doi:10.5258/SOTON/WP00645); OSM data are ODbL (© OpenStreetMap contributors).

The package, one job per module:

- :mod:`~ordos_geo.fetch.area`: :func:`fetch_area`, the entry point, the
  boundary it fetches for (:func:`select_area`, :func:`query_polygon`) and the
  study file it writes;
- :mod:`~ordos_geo.fetch.overpass`: the Overpass server of one fetch
  (:data:`OVERPASS_MIRRORS`, the check of every answer, reachability);
- :mod:`~ordos_geo.fetch.osm`: what is asked of OpenStreetMap (the walk
  network, :data:`FEATURE_TAGS`) and :func:`split_features`;
- :mod:`~ordos_geo.fetch.population`: the population sources
  (:data:`WORLDPOP_URLS`, :data:`WORLDPOP_60PLUS_URLS`), their downloads, the
  grid cut to the boundary and the census check.
"""

from ordos_geo.fetch.area import QUERY_BUFFER_M, fetch_area, query_polygon, select_area
from ordos_geo.fetch.osm import FEATURE_TAGS, LAND_TAGS, split_features
from ordos_geo.fetch.overpass import OVERPASS_MIRRORS
from ordos_geo.fetch.population import WORLDPOP_60PLUS_URLS, WORLDPOP_URLS

__all__ = [
    "FEATURE_TAGS",
    "LAND_TAGS",
    "OVERPASS_MIRRORS",
    "QUERY_BUFFER_M",
    "WORLDPOP_60PLUS_URLS",
    "WORLDPOP_URLS",
    "fetch_area",
    "query_polygon",
    "select_area",
    "split_features",
]
