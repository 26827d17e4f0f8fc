"""The index pages: a study's maps and scorecard, and a batch's studies with their summary table."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from ordos_geo._errors import InputDataError
from ordos_geo._labels import Note
from ordos_geo.maps.style import _labels
from ordos_geo.report import html_table
from ordos_geo.settings import DEFAULT_LANGUAGE, Language

__all__ = ["batch_index_page", "index_page"]


_PAGE_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table.ordos-table{border-collapse:collapse;margin:.6em 0;font-size:13px}
table.ordos-table th,table.ordos-table td{border:1px solid #ccc;padding:3px 8px;text-align:left}
table.ordos-table th{background:#f3f3f3}
tr.met td{background:#eef8ee}tr.not-met td{background:#fbeeee}
.note{color:#8a4b00;background:#fff6e5;padding:.5em 1em;border-left:4px solid #e0a030}
ul.maps li{margin:.3em 0}
"""


def _safe_href(href: str) -> str:
    lowered = href.strip().lower()
    if ":" in lowered.split("/", 1)[0] and not lowered.startswith(("http://", "https://")):
        raise InputDataError(Note("bad_link", href=repr(href)))
    return html.escape(href, quote=True)


def index_page(
    pages: Mapping[str, str],
    scorecard: pd.DataFrame,
    *,
    language: Language = DEFAULT_LANGUAGE,
    title: str | None = None,
    synthetic: bool = True,
) -> str:
    """Return a self-contained ``index.html`` linking the maps, with the scorecard table.

    Parameters
    ----------
    pages : dict of str to str
        Page name -> relative path of each page (``{"coverage": "coverage.html"}``); the
        names ``coverage``, ``sites``, ``trails`` and ``report`` are shown in ``language``,
        other names as given.
    scorecard : pandas.DataFrame
        The plan scorecard (``key``, ``description``, ``target``, ``value``,
        ``unit``, ``met``, ``gap``); every cell is escaped.
    language : {"zh", "en"}
        Language of the labels.
    title : str, optional
        Page title; a default in ``language``.
    synthetic : bool
        Add the synthetic-sample note.

    Returns
    -------
    str
        The HTML page (no external resources).

    Examples
    --------
    >>> card = pd.DataFrame({"key": ["five_ones"], "description": ["five ones"], "target": [5.0], "value": [4.0],
    ...                      "unit": ["count"], "met": [False], "gap": [1.0]})
    >>> page = index_page({"coverage": "coverage.html"}, card, language="zh")
    >>> page.startswith("<!DOCTYPE html>"), '<a href="coverage.html">步行可达性地图</a>' in page
    (True, True)
    """
    labels = _labels(language)
    page_title = html.escape(title if title is not None else labels["index_title"])
    links = "".join(
        f'<li><a href="{_safe_href(href)}">{html.escape(labels.get(f"page_{name}", name))}</a></li>'
        for name, href in pages.items()
    )
    note = f'<p class="note">{html.escape(labels["synthetic"])}</p>' if synthetic else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{page_title}</title>'
        f"<style>{_PAGE_CSS}</style></head><body><h1>{page_title}</h1>{note}"
        f'<h2>{html.escape(labels["maps"])}</h2><ul class="maps">{links}</ul>'
        f"<h2>{html.escape(labels['scorecard'])}</h2>{html_table(scorecard, language, css_class='ordos-table')}"
        f"<p>{html.escape(labels['sources'])}</p></body></html>\n"
    )


def batch_index_page(
    summary: pd.DataFrame,
    pages: Mapping[str, Mapping[str, str]],
    *,
    language: Language = "en",
) -> str:
    """Return a self-contained ``index.html`` of a batch: each study's pages, then the summary table.

    Parameters
    ----------
    summary : pandas.DataFrame
        The batch summary (``study``, ``status``, ... see
        :data:`ordos_geo.batch.BATCH_SUMMARY_COLUMNS`); every cell is escaped.
    pages : mapping
        Study name -> {link text -> relative path} of its pages that exist
        (``{"coverage": "dongsheng/coverage.html"}``).
    language : {"zh", "en"}
        Language of the labels.

    Returns
    -------
    str
        The HTML page (no external resources).

    Examples
    --------
    >>> summary = pd.DataFrame({"study": ["a"], "status": ["ok"]})
    >>> "a/report.html" in batch_index_page(summary, {"a": {"report": "a/report.html"}})
    True
    """
    labels = _labels(language)
    title = html.escape(labels["batch_title"])
    items = []
    for _, row in summary.iterrows():
        name = str(row["study"])
        links = " · ".join(
            f'<a href="{_safe_href(href)}">{html.escape(text)}</a>' for text, href in pages.get(name, {}).items()
        )
        items.append(f"<li><b>{html.escape(name)}</b> ({html.escape(str(row['status']))}) {links}</li>")
    return (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"<style>{_PAGE_CSS}</style></head><body><h1>{title}</h1>"
        f'<h2>{html.escape(labels["studies"])}</h2><ul class="maps">{"".join(items)}</ul>'
        f"<h2>{html.escape(labels['batch_summary'])}</h2>{html_table(summary, language, css_class='ordos-table')}"
        "</body></html>\n"
    )
