"""What the label tables share: the language check, frozen tables, and the switch that names the total row.

A study of part of the city must not call its total 全市 (the whole city): inside
``with total_row(whole_city=False):`` the ``citywide`` row, its column headers and
the sentences about it take the labels of :data:`STUDY_AREA` instead.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

from ordos_geo._errors import InputDataError
from ordos_geo.settings import LANGUAGES, Language

__all__ = ["LANGUAGES", "STUDY_AREA", "Language", "check_language", "total_row"]


def _frozen(table: dict[str, dict[str, str]]) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({language: MappingProxyType(labels) for language, labels in table.items()})


def check_language(language: str, *, where: str = "labels") -> Language:
    """Return ``language`` if it is one of :data:`LANGUAGES`, else raise one clear error.

    Parameters
    ----------
    language : str
        ``"zh"`` or ``"en"``.
    where : str
        Name of the caller, for the message.
    """
    if language not in LANGUAGES:
        msg = f"{where}: unknown language {language!r}; use 'zh' or 'en'"
        raise InputDataError(msg)
    return language


#: What names the whole city (全市) in :data:`DISTRICTS`, :data:`TEXT` and :data:`COLUMNS`, said of the
#: study area instead when the study does not cover the whole city (:func:`total_row`).
STUDY_AREA: Final[Mapping[str, Mapping[str, str]]] = _frozen(
    {
        "zh": {
            "citywide": "研究区合计",
            "delta_per_capita": "研究区人均面积变化 m²",
            "gap_levers": "各项措施的贡献（研究区合计）",
            "gap_summary": (
                "按 {year} 年人均 {target} m² 目标，研究区现状缺体育场地面积 {today} m²；"
                "规划（新建设施、健身步道与方案开放的学校场馆）实施后仍缺 {after} m²；"
                "再开放其余学校场馆并扩大新建设施后仍缺 {rest} m²。"
            ),
            "delta_per_capita_area_city_m2": "研究区人均面积增加 (m²)",
        },
        "en": {
            "citywide": "Study area",
            "delta_per_capita": "Change in the study area's m² per capita",
            "gap_levers": "Contribution of each lever (study area)",
            "gap_summary": (
                "For {target} m² per resident by {year}, the study area lacks {today} m² of venue area today; "
                "{after} m² after the plan (new sites, trails, the school venues it opens); {rest} m² after also "
                "opening the other closed school venues and building the new sites larger."
            ),
            "delta_per_capita_area_city_m2": "Change in the study area's m² per resident",
        },
    }
)

#: Whether the study's total row is the whole city (全市) or only the area it covers (研究区合计).
_WHOLE_CITY: contextvars.ContextVar[bool] = contextvars.ContextVar("whole_city", default=True)


@contextlib.contextmanager
def total_row(*, whole_city: bool) -> Iterator[None]:
    """Within the block, the ``citywide`` row and the sentences about it name the whole city or the study area.

    A study of part of the city (the sample: central Dongsheng and Kangbashi) must not call its
    total 全市: labels read inside ``with total_row(whole_city=False):`` say 研究区合计 / "Study
    area" (:data:`STUDY_AREA`). The setting is a context variable, like :func:`numpy.errstate`:
    it ends with the block and does not leak to other threads.

    Examples
    --------
    >>> from ordos_geo import _labels
    >>> with _labels.total_row(whole_city=False):
    ...     _labels.district("citywide", "zh")
    '研究区合计'
    >>> _labels.district("citywide", "zh")
    '全市'
    """
    token = _WHOLE_CITY.set(whole_city)
    try:
        yield
    finally:
        _WHOLE_CITY.reset(token)


_NO_LABELS: Final[Mapping[str, str]] = MappingProxyType({})


def _study_area(language: Language) -> Mapping[str, str]:
    """The labels of :data:`STUDY_AREA` inside ``total_row(whole_city=False)``; outside it, none."""
    return _NO_LABELS if _WHOLE_CITY.get() else STUDY_AREA[language]
