"""The Examples in the docstrings run as written (doctests), as the style guide asks."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from contextlib import redirect_stdout

import pytest

import ordos_geo

#: Every module of the package, private ones included (their Examples are documentation too).
MODULES = sorted(info.name for info in pkgutil.walk_packages(ordos_geo.__path__, "ordos_geo."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    report = io.StringIO()
    with redirect_stdout(report):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.failed == 0, report.getvalue()
