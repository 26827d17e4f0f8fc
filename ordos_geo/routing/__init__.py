"""Walking distances on a :class:`~ordos_geo.network.WalkNetwork`: the one routing engine of every stage.

- :mod:`~ordos_geo.routing.snapping`: access points of points, polygons and
  lines snapped onto edges (:func:`snap_points`, :class:`SnappedPoints`,
  :func:`snap_origins_and_destinations`, :func:`check_snapped`,
  :func:`points_near_network`);
- :mod:`~ordos_geo.routing.distances`: origin-destination pairs within a
  distance (:func:`od_distances`), the nearest facility (:func:`nearest_facility`)
  and node-to-node distances within a limit (:func:`node_distances_within`);
- :mod:`~ordos_geo.routing.index`: the cached per-network index every search
  uses (:func:`network_index`, :class:`NetworkIndex`);
- :mod:`~ordos_geo.routing.search`: the multi-source Dijkstra searches on the
  index that the analyses share: pairs within a distance (:func:`pairs_within`),
  the nearest facility of each kind (:class:`NearestSearch`,
  :func:`start_nearest`) and node-to-facility distances
  (:func:`node_distances_to_points`);
- ``_fork`` (work in forked child processes) is internal.

Everything works in the network's metric CRS; distances are metres along the
walk network, the straight legs from a point to its snap point excluded.
"""

from ordos_geo.routing.distances import nearest_facility, node_distances_within, od_distances
from ordos_geo.routing.index import NetworkIndex, network_index
from ordos_geo.routing.search import (
    TIE_BUDGET_M,
    NearestJob,
    NearestSearch,
    node_distances_to_points,
    pairs_within,
    start_nearest,
    tie_penalties,
)
from ordos_geo.routing.snapping import (
    SnappedPoints,
    check_snapped,
    points_near_network,
    snap_origins_and_destinations,
    snap_points,
)

__all__ = [
    "TIE_BUDGET_M",
    "NearestJob",
    "NearestSearch",
    "NetworkIndex",
    "SnappedPoints",
    "check_snapped",
    "nearest_facility",
    "network_index",
    "node_distances_to_points",
    "node_distances_within",
    "od_distances",
    "pairs_within",
    "points_near_network",
    "snap_origins_and_destinations",
    "snap_points",
    "start_nearest",
    "tie_penalties",
]
