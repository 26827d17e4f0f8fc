"""The report's page: its blocks as one self-contained HTML page and as Markdown.

The HTML page embeds the charts as base64 PNG and needs no external resource;
the Markdown references the chart files by relative path. Every text is
escaped (HTML in the page; HTML and table pipes in the Markdown), so names from
input files cannot inject markup.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from ordos_geo.report.tables import _md_cell, _md_table, html_table

#: One piece of the report's content, see :attr:`Report.blocks`.
Block = tuple[Any, ...]


_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.met td{background:#eef8ee}tr.not-met td{background:#fbeeee}
.note{color:#8a4b00;background:#fff6e5;padding:.5em 1em;border-left:4px solid #e0a030}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
"""


def _render_html(title: str, blocks: list[Block], charts: Mapping[str, bytes], language: str) -> str:
    parts = [
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if language == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for block in blocks:
        kind = block[0]
        if kind == "table":
            parts.append(html_table(block[1], language))
        elif kind == "figure":
            name, caption = block[1], block[2]
            encoded = base64.b64encode(charts[name]).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        elif kind == "note":
            parts.append(f'<p class="note">{html.escape(block[1])}</p>')
        else:
            parts.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _render_markdown(title: str, blocks: list[Block], language: str, chart_dir: str) -> str:
    lines = [f"# {_md_cell(title)}", ""]
    prefix = {"h2": "## ", "h3": "### ", "note": "> ", "p": ""}
    for block in blocks:
        kind = block[0]
        if kind == "table":
            lines += [_md_table(block[1], language), ""]
        elif kind == "figure":
            lines += [f"![{_md_cell(block[2])}]({chart_dir.rstrip('/')}/{block[1]})", ""]
        else:
            lines += [prefix[kind] + _md_cell(block[1]), ""]
    return "\n".join(lines)
