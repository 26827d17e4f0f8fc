"""The report for office software: a Word document (:func:`to_docx`) and workbook sheets (:func:`workbook_sheets`).

Both are made of the same translated tables as the report's page; nothing is
written here: the caller saves them with :func:`ordos_geo.io.write_bytes` and
:func:`ordos_geo.io.write_excel`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ordos_geo import _labels as label_table
from ordos_geo._errors import MissingDependencyError
from ordos_geo.report.build import Report
from ordos_geo.report.tables import (
    _display_rows,
    _empty_districts,
    _is_missing,
    _is_share,
    _table_frame,
    _without,
    localize,
)

__all__ = ["to_docx", "workbook_sheets"]


def _excel_format(column: str, values: pd.Series) -> str | None:
    if _is_share(column):
        return "0.0%"
    if column == "year" or column.endswith("_id") or column in ("rank", "plan_order"):
        return "0"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    return "#,##0.00"


def workbook_sheets(
    tables: Mapping[str, pd.DataFrame], language: str
) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, str]]]:
    """The study's tables as workbook sheets a reader of ``language`` opens: for :func:`ordos_geo.io.write_excel`.

    Sheet names, headers, districts, kinds, units, citations and yes/no are in
    ``language``; numbers stay numbers, with Excel number formats (percentages
    for shares). Districts with neither residents nor venues are left out.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Sheet key (``scorecard``, ``indicators``, ``before_after``, ``sites``,
        ``trails``, ``gap``, ... ; see ``_labels.TEXT["sheet_<key>"]``) -> table
        with key columns.
    language : {"zh", "en"}

    Returns
    -------
    sheets : dict of str to pandas.DataFrame
        Sheet name -> table with translated headers.
    number_formats : dict
        Sheet name -> {header: Excel number format}.

    Examples
    --------
    >>> rows = pd.DataFrame({"district": ["Dongsheng", "citywide"], "population": [10.0, 10.0]})
    >>> sheets, number_formats = workbook_sheets({"indicators": rows}, "zh")
    >>> list(sheets), list(sheets["分区指标"].columns), number_formats
    (['分区指标'], ['旗区', '人口'], {'分区指标': {'人口': '#,##0.00'}})
    """
    language = label_table.check_language(language, where="workbook_sheets")
    text = label_table.text(language)
    empty = _empty_districts(tables["indicators"]) if "indicators" in tables else set()
    sheets: dict[str, pd.DataFrame] = {}
    formats: dict[str, dict[str, str]] = {}
    for key, frame in tables.items():
        raw = _without(_table_frame(frame), empty)
        table = localize(raw, language)
        for column in table.columns:
            flags = table[column].dropna()
            if len(flags) and flags.map(lambda v: isinstance(v, bool | np.bool_)).all():
                yes, no = (text["met"], text["not_met"]) if column == "met" else (text["yes"], text["no"])
                table[column] = [value if _is_missing(value) else (yes if value else no) for value in table[column]]
        name = text.get(f"sheet_{key}", key)
        sheets[name] = table.rename(columns=lambda c: label_table.column(str(c), language))
        formats[name] = {
            label_table.column(str(c), language): f
            for c in table.columns
            if (f := _excel_format(str(c), table[c])) is not None
        }
    return sheets, formats


def to_docx(report: Report) -> bytes:
    """The report as a Word document (A4, portrait): the same sections, tables and charts.

    Parameters
    ----------
    report : Report
        From :func:`build_report`.

    Returns
    -------
    bytes
        The ``.docx`` file; the caller writes it with :func:`ordos_geo.io.write_bytes`.

    Examples
    --------
    >>> import pandas as pd
    >>> from ordos_geo.report import build_report
    >>> card = pd.DataFrame({"key": ["five_ones"], "target": [5.0], "value": [5.0], "unit": ["count"], "met": [True]})
    >>> rows = pd.DataFrame({"district": ["citywide"], "population": [10.0]})
    >>> to_docx(build_report(card, rows))[:2]
    b'PK'
    """
    try:
        import docx
        from docx.shared import Mm
    except ImportError as error:  # pragma: no cover - python-docx is a dependency
        msg = "report.docx needs python-docx: pip install 'python-docx>=1.1'"
        raise MissingDependencyError(msg) from error

    document = docx.Document()
    _docx_page(document, report.title)
    for block in report.blocks:
        kind = block[0]
        if kind in ("h2", "h3"):
            document.add_heading(block[1], level=1 if kind == "h2" else 2)
        elif kind == "table":
            _docx_table(document, block[1], report.language)
        elif kind == "figure":
            document.add_picture(io.BytesIO(report.charts[block[1]]), width=Mm(170))
            document.add_paragraph(block[2], style="Caption")
        else:
            document.add_paragraph(block[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_page(document: Any, title: str) -> None:
    """A4 portrait, 20 mm margins, a Chinese font for every style, 10 pt text; the title as the first heading."""
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(20))
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Caption"):
        style = document.styles[style_name]
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Microsoft YaHei")
    document.styles["Normal"].font.size = Pt(10)
    document.core_properties.title = title
    document.add_heading(title, level=0)


def _docx_table(document: Any, frame: pd.DataFrame, language: str) -> None:
    """One of the report's tables: bold headers, cells in 8 pt (7 pt when it has more than eight columns)."""
    from docx.shared import Pt

    headers, rows, _ = _display_rows(frame, language)
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    for j, header in enumerate(headers):
        table.cell(0, j).text = header
        for run in table.cell(0, j).paragraphs[0].runs:
            run.font.bold = True
    for i, cells in enumerate(rows, start=1):
        for j, value in enumerate(cells):
            table.cell(i, j).text = value
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(7 if len(headers) > 8 else 8)
