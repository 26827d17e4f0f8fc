"""The study pipeline: inputs -> network -> accessibility -> siting -> trails -> indicators -> maps.

Each stage lives in its own package; this one only wires them together for a
:class:`~ordos_geo.config.StudyConfig` and hands the results to ``io`` to write.
Notebooks use the same functions (:func:`load_study`, :func:`compute_accessibility`).

One module per job: :mod:`~ordos_geo.pipeline.study` (the inputs read, checked
and joined into a :class:`Study`, and :class:`StudyResults`),
:mod:`~ordos_geo.pipeline.scenarios` (accessibility with the evenings and winter
scenarios, and its incremental update), :mod:`~ordos_geo.pipeline.stages` (the
analysis stages), :mod:`~ordos_geo.pipeline.outputs` (each stage's files) and
:mod:`~ordos_geo.pipeline.run` (:func:`run_study`, :func:`analyse_study`,
:func:`write_results`).
"""

from ordos_geo.pipeline.run import analyse_study, run_study, write_results
from ordos_geo.pipeline.scenarios import compute_accessibility, indoor_school_venues, update_accessibility
from ordos_geo.pipeline.stages import before_after_table, planned_facilities, siting_rules, study_indicators
from ordos_geo.pipeline.study import (
    Study,
    StudyResults,
    assign_districts,
    load_study,
    nearest_district_within,
    split_population_60plus,
    study_summary,
)

__all__ = [
    "Study",
    "StudyResults",
    "analyse_study",
    "assign_districts",
    "before_after_table",
    "compute_accessibility",
    "indoor_school_venues",
    "load_study",
    "nearest_district_within",
    "planned_facilities",
    "run_study",
    "siting_rules",
    "split_population_60plus",
    "study_indicators",
    "study_summary",
    "update_accessibility",
    "write_results",
]
