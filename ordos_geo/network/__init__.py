"""Walk networks: load, clean, project, cache, and an array form for fast paths.

The stage exchanges a :class:`WalkNetwork`: the arrays the compiled
shortest-path engine needs, with the projected osmnx-style ``MultiDiGraph``
on request (:meth:`WalkNetwork.to_networkx`).

One module per job: :mod:`~ordos_geo.network.rules` (the walking rule),
:mod:`~ordos_geo.network._osm` (reading raw OSM: XML, PBF, Overpass JSON),
:mod:`~ordos_geo.network._build` (raw OSM straight to the arrays: walkable
segments, largest component, lengths, simplification, projection),
:mod:`~ordos_geo.network.graph` (the osmnx route where a graph is the input:
GraphML, and the unsimplified graph of a file or an Overpass download),
:mod:`~ordos_geo.network.arrays` (:class:`WalkNetwork`, sub-networks, the
``.npz`` cache) and :mod:`~ordos_geo.network.load` (:func:`load_walk_network`).

:func:`load_walk_network` reads a raw OSM extract (``.osm``, ``.osm.bz2``,
``.osm.gz``, ``.osm.pbf``), a saved ``.graphml``, or downloads from Overpass
(a WGS-84 polygon, or a place name osmnx geocodes), then, for raw OSM, on
numpy arrays without building a networkx graph on the way:

1. keeps the **walkable ways** by the walking rule below (the same rule for XML,
   PBF and Overpass: :func:`overpass_walk_query` asks Overpass for exactly
   the ways :func:`walk_rule` keeps), and reports per rule what it kept and
   dropped, and what it keeps or drops beyond osmnx's ``walk`` filter;
2. **repairs clipped ways**: an extract cut at a bounding box keeps ways whose
   node references point outside it; those references are dropped and each
   remaining run of consecutive nodes (at least two) is kept as its own piece;
3. keeps the **largest weakly connected component** (``scipy.sparse.csgraph``),
   as osmnx does (``retain_all=False``), and reports what it dropped;
4. **simplifies** the topology exactly as ``osmnx.simplify_graph`` (same
   endpoints, paths, removed rings and merged attributes; edge ``length`` in
   metres, great-circle by ``osmnx.distance.great_circle``, summed along
   merged segments);
5. **projects** node and geometry coordinates with pyproj to a metric CRS
   (:func:`ordos_geo._crs.metric_crs_for`: a CGCS2000 3-degree Gauss-Krüger
   zone in China, the UTM zone elsewhere);
6. **caches** the projected network as arrays (one uncompressed ``.npz``:
   node ids and coordinates, edge ends, lengths, geometries as ragged
   coordinate arrays, the OSM attributes as columns: one record per way and
   each edge's list of way segments) in ``data/processed/networks/``, keyed by
   the SHA-256 of the input bytes and the options.

The result is the network osmnx's recipe gives (``largest_component``,
``add_edge_lengths``, ``simplify_graph``, ``project_graph``), in the same node
and edge order (it breaks routing ties). :meth:`WalkNetwork.to_networkx`
builds the osmnx-style graph from the arrays on request (same nodes, edges,
keys and attributes, in the same order), for ``osmnx.save_graphml`` or any
networkx algorithm. A ``.graphml`` source is cleaned and projected by osmnx.

The walking rule table is in :mod:`ordos_geo.network.rules`.
"""

from ordos_geo.network._osm import NETWORK_SUFFIXES
from ordos_geo.network.arrays import (
    CACHE_FORMAT_VERSION,
    WalkNetwork,
    network_arrays,
    subnetwork,
    walk_network_from_arrays,
    walk_network_from_graph,
)
from ordos_geo.network.graph import clean_walk_graph, graph_from_osm_file, project_network, walk_graph_from_polygon
from ordos_geo.network.load import load_walk_network
from ordos_geo.network.rules import (
    WALK_ACCESS_RULES,
    WALK_DEFINITION_VERSION,
    in_osmnx_walk,
    is_walkable,
    overpass_walk_filters,
    overpass_walk_query,
    walk_rule,
)

__all__ = [
    "CACHE_FORMAT_VERSION",
    "NETWORK_SUFFIXES",
    "WALK_ACCESS_RULES",
    "WALK_DEFINITION_VERSION",
    "WalkNetwork",
    "clean_walk_graph",
    "graph_from_osm_file",
    "in_osmnx_walk",
    "is_walkable",
    "load_walk_network",
    "network_arrays",
    "overpass_walk_filters",
    "overpass_walk_query",
    "project_network",
    "subnetwork",
    "walk_graph_from_polygon",
    "walk_network_from_arrays",
    "walk_network_from_graph",
    "walk_rule",
]
