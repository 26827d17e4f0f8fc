"""The planner's report (a package: the module moves whole to build.py, split by job in the next commit)."""

from __future__ import annotations

from ordos_geo.report.build import (
    CHART_NAMES,
    Report,
    build_report,
    cell_text,
    distance_band_shares,
    distance_histogram,
    html_table,
    localize,
    to_docx,
    value_label,
    workbook_sheets,
)

__all__ = [
    "CHART_NAMES",
    "Report",
    "build_report",
    "cell_text",
    "distance_band_shares",
    "distance_histogram",
    "html_table",
    "localize",
    "to_docx",
    "value_label",
    "workbook_sheets",
]
