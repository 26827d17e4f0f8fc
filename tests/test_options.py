"""The options-or-keywords rule shared by compute_accessibility and plan_trails."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from ordos_geo._errors import InputDataError
from ordos_geo._options import resolve_options


@dataclass(frozen=True)
class _Options:
    thresholds_m: tuple[float, ...] = (300.0, 500.0, 1000.0)
    budget_m: float = 10_000.0
    weights: np.ndarray | None = None
    highways: tuple[str, ...] = ("primary",)


def test_keywords_alone_are_taken():
    keywords = _Options(budget_m=5_000.0)
    assert resolve_options("plan", None, keywords) is keywords


def test_options_alone_are_taken_and_defaults_in_other_spellings_are_not_a_clash():
    options = _Options(budget_m=2_000.0)
    same_defaults = _Options(thresholds_m=[300, 500, 1000], highways=["primary"])  # type: ignore[arg-type]
    assert resolve_options("plan", options, same_defaults) is options


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (_Options(budget_m=5_000.0), "budget_m"),
        (_Options(thresholds_m=(300.0, 1000.0)), "thresholds_m"),
        (_Options(weights=np.ones(3)), "weights"),
        (_Options(highways=("footway",), budget_m=1.0), "budget_m, highways"),
    ],
)
def test_an_option_given_twice_is_one_error_naming_it(given, named):
    with pytest.raises(InputDataError, match=rf"^plan: {named} given both in options= and as keywords"):
        resolve_options("plan", _Options(), given)
