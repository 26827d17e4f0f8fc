"""How a map looks: :class:`MapStyle` (the options every map builder shares), colours, icons and labels."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import pandas as pd

from ordos_geo import _labels as label_table
from ordos_geo.settings import DEFAULT_LANGUAGE, DEFAULT_WALK_SPEED_KMH, Language

__all__ = ["BASEMAPS", "DISTANCE_BREAKS_M", "DISTANCE_CLASS_COLORS", "KIND_STYLES", "LABELS", "Basemap", "MapStyle"]


Basemap = Literal["osm", "tianditu", "amap", "none"]
BASEMAPS: tuple[Basemap, ...] = get_args(Basemap)


@dataclass(frozen=True)
class MapStyle:
    """How a map looks and what its caption says: the options every map builder shares.

    Parameters
    ----------
    language : {"zh", "en"}
        Language of the labels.
    basemap : {"osm", "tianditu", "amap", "none"}
        Background tiles. ``"amap"`` (GCJ-02) shifts every overlay to GCJ-02 so
        they line up; ``"tianditu"`` needs ``tianditu_key`` (else OSM is used).
    tianditu_key : str, optional
        Tianditu API key.
    title : str, optional
        Map title; a default in ``language`` for each map.
    synthetic : bool
        Add "synthetic sample (合成样例)" to the caption.
    walk_speed_kmh : float
        Walking speed used to express the legend's distances in minutes
        (coverage and sites maps).
    sources : str, optional
        Data-source caption; a default in ``language``.

    Examples
    --------
    >>> style = MapStyle(language="en", basemap="none", synthetic=False)
    >>> style.basemap, style.walk_speed_kmh
    ('none', 4.5)
    """

    language: Language = DEFAULT_LANGUAGE
    basemap: Basemap = "osm"
    tianditu_key: str | None = None
    title: str | None = None
    synthetic: bool = True
    walk_speed_kmh: float = DEFAULT_WALK_SPEED_KMH
    sources: str | None = None


#: The style of a map built without one.
_DEFAULT_STYLE = MapStyle()

#: Upper bounds (m, inclusive) of the walking-distance classes; the last class is
#: everything farther, and unreachable cells.
DISTANCE_BREAKS_M: tuple[float, ...] = (300.0, 500.0, 1_000.0, 2_000.0)
#: One colour per class (green = near, red = far / unreachable).
DISTANCE_CLASS_COLORS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
#: A clicked cell's distance is rounded up to 10 m within 500 m, 25 m within 1 km, 50 m within 2 km and
#: 100 m beyond (the cells are about 100 m wide): the page stores a few bits a cell, and every class break
#: of DISTANCE_BREAKS_M lies on its piece's step grid, so a rounded distance keeps its colour.
_CELL_DISTANCE_LIMITS_M: tuple[int, ...] = (500, 1_000, 2_000)
_CELL_STEPS_M: tuple[int, ...] = (10, 25, 50, 100)

#: Marker letters and colours per facility kind (inline SVG, no icon font).
KIND_STYLES: Mapping[str, tuple[str, str]] = {
    "stadium": ("St", "#7b3294"),
    "gymnasium": ("Gy", "#c2a5cf"),
    "swimming_pool": ("Sw", "#2166ac"),
    "fitness_centre": ("Fc", "#d6604d"),
    "sports_park": ("SP", "#1b7837"),
    "park": ("Pk", "#5aae61"),
    "multi_sport_court": ("Ct", "#e08214"),
    "pitch": ("Pi", "#8c510a"),
    "fitness_path": ("Fp", "#35978f"),
    "fitness_trail": ("Tr", "#01665e"),
    "playground": ("Pg", "#f1b6da"),
    "school_venue": ("Sc", "#4d4d4d"),
    "other": ("O", "#878787"),
    "sports_health_centre": ("SH", "#b2182b"),
    "school_opening": ("Op", "#4d4d4d"),
}

#: Labels of every map in Chinese and English (the package's one label table, :mod:`ordos_geo._labels`).
LABELS: Mapping[str, Mapping[str, str]] = label_table.TEXT


def _number(value: Any, decimals: int = 0) -> float | int | None:
    """A JSON-safe number: None for NaN/inf/missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return round(number) if decimals == 0 else round(number, decimals)


def _text(value: Any) -> str:
    """Escaped text of one attribute value ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def _fmt_number(value: Any, decimals: int = 0) -> str:
    number = _number(value, decimals)
    if number is None:
        return "–"
    return f"{number:,.{decimals}f}"


def _table(rows: Sequence[tuple[str, str]], title: str = "") -> str:
    """A small popup table; labels and values must already be escaped."""
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows if value != "")
    head = f"<b>{title}</b>" if title else ""
    return f'<div class="ordos-popup">{head}<table>{body}</table></div>'


def _labels(language: str) -> Mapping[str, str]:
    return label_table.text(label_table.check_language(language, where="maps"))


def _district_name(district: Any, language: str) -> str:
    """Escaped district name in ``language`` (``"Dongsheng"`` -> ``"东胜区"``); unknown names as given."""
    if _text(district) == "":
        return ""
    return _text(label_table.district(str(district), language))


def _kind_name(kind: str, language: str) -> str:
    return html.escape(label_table.kind(kind, language))


def _kind_style(kind: str) -> tuple[str, str]:
    if kind in KIND_STYLES:
        return KIND_STYLES[kind]
    return (kind[:2].title() or "?", "#878787")


def _icon_svg(letters: str, color: str, *, size: int = 22, shape: str = "circle") -> str:
    letters = html.escape(letters)
    half = size / 2
    font = max(8, int(size * 0.45)) if len(letters) <= 2 else max(7, int(size * 0.36))
    if shape == "star":
        points = []
        for i in range(10):
            radius = half - 1 if i % 2 == 0 else (half - 1) * 0.5
            angle = math.pi / 2 + i * math.pi / 5
            points.append(f"{half + radius * math.cos(angle):.1f},{half - radius * math.sin(angle):.1f}")
        body = f'<polygon points="{" ".join(points)}" fill="{color}" stroke="#fff" stroke-width="1.5"/>'
    elif shape == "square":
        body = (
            f'<rect x="1" y="1" width="{size - 2}" height="{size - 2}" rx="3" fill="{color}" '
            'stroke="#fff" stroke-width="2"/>'
        )
    else:
        body = f'<circle cx="{half}" cy="{half}" r="{half - 1}" fill="{color}" stroke="#fff" stroke-width="2"/>'
    text = (
        f'<text x="{half}" y="{half + font * 0.36:.1f}" text-anchor="middle" font-size="{font}" '
        f'font-family="Arial,Helvetica,sans-serif" font-weight="700" fill="#fff">{letters}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f"{body}{text}</svg>"
    )


def _minutes(metres: float, walk_speed_kmh: float) -> str:
    return f"{metres / (walk_speed_kmh * 1000.0 / 60.0):.1f}".removesuffix(".0")


def _distance_legend(labels: Mapping[str, str], walk_speed_kmh: float) -> str:
    rows = [f"<h4>{html.escape(labels['legend_distance'])}</h4>"]
    lower = 0.0
    minute = html.escape(labels["minutes"])
    for upper, color in zip(DISTANCE_BREAKS_M, DISTANCE_CLASS_COLORS, strict=False):
        minutes = f"{_minutes(lower, walk_speed_kmh)}–{_minutes(upper, walk_speed_kmh)}"
        text = f"{lower:,.0f}–{upper:,.0f} m · {minutes} {minute}"
        rows.append(f'<div><span class="sw" style="background:{color}"></span>{text}</div>')
        lower = upper
    last = DISTANCE_BREAKS_M[-1]
    rows.append(
        f'<div><span class="sw" style="background:{DISTANCE_CLASS_COLORS[-1]}"></span>'
        f"&gt; {last:,.0f} m · &gt; {_minutes(last, walk_speed_kmh)} {minute} / "
        f"{html.escape(labels['unreachable'])}</div>"
    )
    steps = [
        labels["rounding_within"].format(limit=f"{limit:,}", step=step)
        for limit, step in zip(_CELL_DISTANCE_LIMITS_M, _CELL_STEPS_M, strict=False)
    ]
    steps.append(labels["rounding_beyond"].format(step=_CELL_STEPS_M[-1]))
    note = labels["cell_click"].format(steps=labels["list_separator"].join(steps))
    rows.append(f'<div class="note">{html.escape(note)}</div>')
    return "".join(rows)


def _line_swatch(color: str, *, dash: str = "", width: int = 4) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="22" height="12"><line x1="1" y1="6" x2="21" y2="6" '
        f'stroke="{color}" stroke-width="{width}"{dash_attr}/></svg>'
    )


def _area_swatch(color: str, *, fill: str = "none", dash: str = "") -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="18" height="14"><rect x="1" y="1" width="16" height="12" '
        f'fill="{fill}" stroke="{color}" stroke-width="2"{dash_attr}/></svg>'
    )
