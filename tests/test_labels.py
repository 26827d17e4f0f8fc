"""The one zh/en label table: complete for every vocabulary of settings, patterned columns, unknown keys kept."""

from __future__ import annotations

import pytest

from ordos_geo import _labels, settings
from ordos_geo._errors import InputDataError


@pytest.mark.parametrize(
    "table",
    [
        _labels.TEXT,
        _labels.COLUMNS,
        _labels.KINDS,
        _labels.TARGETS,
        _labels.LEVERS,
        _labels.SOURCES,
        _labels.TRAIL_SHAPES,
        _labels.NOTES,
    ],
)
def test_both_languages_hold_the_same_keys(table):
    assert set(table) == set(_labels.LANGUAGES)
    assert set(table["zh"]) == set(table["en"])


def test_every_vocabulary_of_settings_has_a_chinese_label():
    for kind in settings.FACILITY_KINDS:
        assert _labels.kind(kind, "zh") != kind
    for target in settings.PLAN_TARGETS:
        assert _labels.target(target.key, "zh") != target.key
        assert _labels.unit(target.unit, "zh") != target.unit or target.unit == "km"
        assert "《" in _labels.source(target.source, "en")  # the title stays, translated around it
    for shape in settings.TRAIL_SHAPES:
        assert _labels.trail_shape(shape, "zh") != shape
        assert _labels.trail_shape(shape, "en") == shape


def test_patterned_columns():
    assert _labels.column("share_within_1000m", "zh") == "1,000 m 内人口比例"
    assert _labels.column("n_sports_park", "zh") == "体育公园数量"
    assert _labels.column("n_sports_park", "en") == "No. of sports park"
    assert _labels.column("dist_m_any", "zh") == "到最近任一设施步行距离 (m)"
    # n_<not a kind> is not a count of a kind: left as given
    assert _labels.column("n_segments", "zh") == "路段数"
    assert _labels.column("n_unknown_thing", "zh") == "n_unknown_thing"


def test_districts_and_unknown_keys():
    assert [_labels.district(d, "zh") for d in ("Dongsheng", "Ejin Horo", "citywide")] == [
        "东胜区",
        "伊金霍洛旗",
        "全市",
    ]
    assert _labels.district("Dongsheng", "en") == "Dongsheng"
    assert _labels.district("My town", "zh") == "My town"
    assert _labels.target("user_key", "zh", default="as given") == "as given"


def test_unknown_language_is_one_clear_error():
    with pytest.raises(InputDataError, match=r"report: unknown language 'fr'; use 'zh' or 'en'"):
        _labels.check_language("fr", where="report")


def test_solver_statuses_in_chinese_and_unknown_ones_as_highs_says_them():
    assert _labels.solver_status("Time limit reached", "zh") == "达到时间限制"
    assert _labels.solver_status("Time limit reached", "en") == "Time limit reached"
    assert _labels.solver_status("Some new status", "zh") == "Some new status"
