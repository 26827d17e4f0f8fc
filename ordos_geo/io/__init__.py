"""Reading inputs and writing outputs: the only package that touches files.

Writers are atomic: each output goes to a temporary file in the destination
folder and is renamed into place only once complete, so a failed run never
leaves a half-written file. Readers never modify their input; each validates
at entry and raises errors naming file, field and fix.

One module per job: :mod:`~ordos_geo.io.writers` (atomic writes, GeoPackage,
JSON, Excel, GraphML, rasters, a run's :class:`OutputSet`),
:mod:`~ordos_geo.io.download`, :mod:`~ordos_geo.io.facilities`,
:mod:`~ordos_geo.io.population`, :mod:`~ordos_geo.io.boundaries`,
:mod:`~ordos_geo.io.osm_features`, :mod:`~ordos_geo.io.vectors` (any vector
layer, candidate sites, lines), :mod:`~ordos_geo.io.venue_table` (venues given as a
table in Python), :mod:`~ordos_geo.io.planner_targets`, and the table parsing they
share in :mod:`~ordos_geo.io._tables`.
"""

from __future__ import annotations

from ordos_geo.io.boundaries import read_boundaries
from ordos_geo.io.download import download_file
from ordos_geo.io.facilities import FACILITY_COLUMN_NAMES, FACILITY_COLUMNS, read_facilities
from ordos_geo.io.osm_features import OSM_SUFFIXES, read_osm_features
from ordos_geo.io.planner_targets import read_planner_targets
from ordos_geo.io.population import RASTER_WIDTH, read_population
from ordos_geo.io.vectors import FACILITY_SUFFIXES, read_candidates, read_lines, read_vector, trail_labels
from ordos_geo.io.venue_table import candidate_columns, find_name_column, venue_columns
from ordos_geo.io.writers import (
    OutputSet,
    atomic_folder,
    atomic_path,
    check_output_folder,
    sha256_file,
    wait_until_unlocked,
    write_bytes,
    write_csv,
    write_excel,
    write_geojson,
    write_geopackage,
    write_graphml,
    write_json,
    write_raster,
    write_text,
    write_with,
)

__all__ = [
    "FACILITY_COLUMNS",
    "FACILITY_COLUMN_NAMES",
    "FACILITY_SUFFIXES",
    "OSM_SUFFIXES",
    "RASTER_WIDTH",
    "OutputSet",
    "atomic_folder",
    "atomic_path",
    "candidate_columns",
    "check_output_folder",
    "download_file",
    "find_name_column",
    "read_boundaries",
    "read_candidates",
    "read_facilities",
    "read_lines",
    "read_osm_features",
    "read_planner_targets",
    "read_population",
    "read_vector",
    "sha256_file",
    "trail_labels",
    "venue_columns",
    "wait_until_unlocked",
    "write_bytes",
    "write_csv",
    "write_excel",
    "write_geojson",
    "write_geopackage",
    "write_graphml",
    "write_json",
    "write_raster",
    "write_text",
    "write_with",
]
