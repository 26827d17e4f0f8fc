"""Walking distances on a :class:`~ordos_geo.network.WalkNetwork`: the one routing engine of every stage.

- :mod:`~ordos_geo.routing.snapping`: access points of points, polygons and
  lines snapped onto edges (:func:`snap_points`, :class:`SnappedPoints`);
- :mod:`~ordos_geo.routing.distances`: origin-destination pairs within a
  distance (:func:`od_distances`), the nearest facility (:func:`nearest_facility`)
  and node-to-node distances within a limit (:func:`node_distances_within`);
- ``_index`` (the cached network index), ``_search`` (bounded and unbounded
  multi-source Dijkstra) and ``_fork`` (work in forked child processes) are
  the internals the analyses share.

Everything works in the network's metric CRS; distances are metres along the
walk network, the straight legs from a point to its snap point excluded.
"""

from ordos_geo.routing.distances import nearest_facility, node_distances_within, od_distances
from ordos_geo.routing.snapping import SnappedPoints, snap_points

__all__ = ["SnappedPoints", "nearest_facility", "node_distances_within", "od_distances", "snap_points"]
