"""The planner's report: scorecard, district tables, sites, trails and charts, as HTML and Markdown.

:func:`build_report` returns a :class:`Report` holding a self-contained HTML page
(charts embedded as base64 PNG, no external resources), the same content as
Markdown (which references the chart files by relative path), and the PNG bytes
of each chart, for planners who paste figures into documents. Nothing is
written here: the caller saves ``report.html``, ``report.md`` and the charts
with :mod:`ordos_geo.io`.

Every value taken from the inputs is escaped (HTML in the page; HTML and table
pipes in the Markdown), so names from input files cannot inject markup.
Charts are drawn with Matplotlib's Agg canvas (no pyplot state) and saved without
timestamps, so the same inputs give byte-identical PNGs on one installation.

One module per job: :mod:`~ordos_geo.report.tables` (how values and tables
read: :func:`cell_text`, :func:`value_label`, :func:`localize`,
:func:`html_table`), :mod:`~ordos_geo.report.charts` (the PNG charts),
:mod:`~ordos_geo.report.build` (:class:`Report`, :func:`build_report` and its
sections), :mod:`~ordos_geo.report.export` (:func:`to_docx`,
:func:`workbook_sheets`), on the HTML and Markdown page of
:mod:`~ordos_geo.report._page`.
"""

from __future__ import annotations

from ordos_geo.report.build import Report, build_report
from ordos_geo.report.charts import CHART_NAMES, distance_band_shares, distance_histogram
from ordos_geo.report.export import to_docx, workbook_sheets
from ordos_geo.report.tables import cell_text, html_table, localize, value_label

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
