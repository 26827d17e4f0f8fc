"""Every label a reader sees, in Chinese and English: one table for maps, index, report, charts and Excel.

The keys (column names, target keys, facility kinds, district names as in the
boundaries' ``name_en``, units, plan citations) stay as they are in the CSV and
GeoPackage files, which are the stable interface; only what a reader sees is
translated here. Each table maps a language to ``{key: label}``; a key missing
from a table falls back to the key itself (a user's own column or district),
so a label is never lost, only left untranslated.

One module per kind of label, all re-exported here (import them from
``ordos_geo._labels``): :mod:`~ordos_geo._labels.text` (headings and captions of
the pages, the report and the charts), :mod:`~ordos_geo._labels.notes` (the run's
notes and solver statuses), :mod:`~ordos_geo._labels.columns` (column headers),
:mod:`~ordos_geo._labels.values` (facility kinds, districts, units, targets...) and
:mod:`~ordos_geo._labels.common` (the language check and the total row's name).

Examples
--------
>>> from ordos_geo import _labels
>>> _labels.column("per_capita_area_m2", "zh")
'人均体育场地面积 (m²)'
>>> _labels.column("share_within_500m", "en")
'Population share within 500 m'
>>> _labels.district("Kangbashi", "zh")
'康巴什区'
"""

from __future__ import annotations

from ordos_geo._labels.columns import COLUMNS, column
from ordos_geo._labels.common import LANGUAGES, STUDY_AREA, Language, check_language, total_row
from ordos_geo._labels.notes import NOTES, SOLVER_STATUS, STAGES, Note, note_of, said, skipped_note, solver_status
from ordos_geo._labels.text import TEXT, text
from ordos_geo._labels.values import (
    DIRECTIONS,
    DISTRICTS,
    KINDS,
    LAND_TYPES,
    LEVERS,
    SOURCES,
    STATUSES,
    TARGETS,
    TRAIL_SHAPES,
    UNITS,
    district,
    kind,
    land_type,
    lever,
    source,
    status,
    target,
    trail_shape,
    unit,
)

__all__ = [
    "COLUMNS",
    "DIRECTIONS",
    "DISTRICTS",
    "KINDS",
    "LAND_TYPES",
    "LANGUAGES",
    "LEVERS",
    "NOTES",
    "SOLVER_STATUS",
    "SOURCES",
    "STAGES",
    "STATUSES",
    "STUDY_AREA",
    "TARGETS",
    "TEXT",
    "TRAIL_SHAPES",
    "UNITS",
    "Language",
    "Note",
    "check_language",
    "column",
    "district",
    "kind",
    "land_type",
    "lever",
    "note_of",
    "said",
    "skipped_note",
    "solver_status",
    "source",
    "status",
    "target",
    "text",
    "total_row",
    "trail_shape",
    "unit",
]
