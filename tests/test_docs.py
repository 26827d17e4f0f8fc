"""The Examples in the docstrings run as written (doctests), as the style guide asks."""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil
import re
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


def _public_entry_points() -> list[str]:
    """``<unit>.<name>`` of every function and class a public unit exports in ``__all__``."""
    names = []
    for info in pkgutil.iter_modules(ordos_geo.__path__, "ordos_geo."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                names.append(f"{info.name}.{name}")
    return names


def test_public_entry_points_have_examples() -> None:
    """Every public function and class (the names in a public unit's ``__all__``) has a numpydoc Examples section."""
    missing = []
    for dotted in _public_entry_points():
        unit, name = dotted.rsplit(".", 1)
        obj = getattr(importlib.import_module(unit), name)
        if not re.search(r"^Examples\n--------$", inspect.getdoc(obj) or "", flags=re.MULTILINE):
            missing.append(f"{dotted} (defined in {obj.__module__})")
    assert len(_public_entry_points()) > 100  # the walk finds the package's units
    assert not missing, "no Examples section: " + ", ".join(missing)
