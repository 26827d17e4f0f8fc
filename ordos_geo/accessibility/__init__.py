"""Walking accessibility of population cells: coverage, E2SFCA, service areas, underserved neighbourhoods.

Everything here works in the walk network's metric CRS (``WalkNetwork.crs``);
distances are metres along the walk network, from :mod:`ordos_geo.routing`
(snapping on edges, nearest facilities, pairs within a catchment). Inputs must
already be in that CRS (``gdf.to_crs(network.crs)``).

:func:`compute_accessibility` is the stage: the nearest facility of every kind,
coverage tiers, the E2SFCA ratio, underserved neighbourhoods and service areas.
With large inputs it hands work to forked child processes (see
:func:`ordos_geo.routing.snap_origins_and_destinations` and
:func:`ordos_geo.routing.start_nearest`): the cell centroids while the network
index is built, half of the cell snapping while the facilities are snapped, and
the per-kind nearest-facility searches while the E2SFCA catchment pairs are
found; results are identical to the single-process path.
:func:`compute_accessibility_by_district` runs it district by district on
buffered streets with the same result.

- :mod:`~ordos_geo.accessibility.measures`: minutes to metres, the E2SFCA
  ratio, walking service areas;
- :mod:`~ordos_geo.accessibility.neighbourhoods`: underserved cells grouped
  into neighbourhoods of touching cells, with their dissolved outlines (a
  raster's cells are grouped and outlined off its grid);
- :mod:`~ordos_geo.accessibility.stage`: :func:`compute_accessibility` in
  named steps and its :class:`AccessibilityResult`;
- :mod:`~ordos_geo.accessibility.districts`: the stage split by district;
- :mod:`~ordos_geo.accessibility.update`: :func:`update_accessibility`, an
  earlier result with facilities added, removed or moved, searching only from
  those that changed.
"""

from ordos_geo._columns import covered_column, dist_column, distance_to_kinds, nearest_id_column, with_scenario
from ordos_geo.accessibility.districts import (
    DistrictPart,
    compute_accessibility_by_district,
    district_part_cells,
    district_parts,
)
from ordos_geo.accessibility.measures import (
    DEFAULT_CATCHMENT_M,
    DEFAULT_E2SFCA_STEPS,
    e2sfca,
    minutes_to_metres,
    service_areas,
)
from ordos_geo.accessibility.neighbourhoods import underserved_neighbourhoods
from ordos_geo.accessibility.stage import AccessibilityOptions, AccessibilityResult, compute_accessibility
from ordos_geo.accessibility.update import update_accessibility
from ordos_geo.routing import SnappedPoints, nearest_facility, od_distances, snap_points

__all__ = [
    "DEFAULT_CATCHMENT_M",
    "DEFAULT_E2SFCA_STEPS",
    "AccessibilityOptions",
    "AccessibilityResult",
    "DistrictPart",
    "SnappedPoints",
    "compute_accessibility",
    "compute_accessibility_by_district",
    "covered_column",
    "dist_column",
    "distance_to_kinds",
    "district_part_cells",
    "district_parts",
    "e2sfca",
    "minutes_to_metres",
    "nearest_facility",
    "nearest_id_column",
    "od_distances",
    "service_areas",
    "snap_points",
    "underserved_neighbourhoods",
    "update_accessibility",
    "with_scenario",
]
