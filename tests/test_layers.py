"""The package's layer order, held by parsing every module's imports (lazy ones inside functions too).

base < io, config < network, sample < routing < accessibility, siting, trails, indicators
< maps, report < pipeline, batch, fetch < cli. A module may import its own layer or any lower one,
never a higher one; siting and trails import neither each other nor accessibility.

A unit's private names stay inside it: no module imports an underscored name, or from an
underscored module, of another unit (``ordos_geo.routing._fork``, ``ordos_geo.network.arrays._x``).
The base modules themselves (``ordos_geo._validate``, ``ordos_geo._labels``) are shared by every
layer: their public names may be imported anywhere, their underscored ones nowhere else.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ordos_geo"

#: Layer of each top-level unit (a module or a subpackage of ordos_geo); private helpers are the base.
LAYERS: dict[str, int] = {
    "settings": 0,
    "io": 1,
    "config": 1,
    "network": 2,
    "sample": 2,
    "routing": 3,
    "accessibility": 4,
    "siting": 4,
    "trails": 4,
    "indicators": 4,
    "maps": 5,
    "report": 5,
    "pipeline": 6,
    "batch": 6,
    "fetch": 6,
    "what_if": 6,
    "cli": 7,
}

#: Pairs of the same layer that must not import each other (first must not import second).
FORBIDDEN = {
    ("siting", "trails"),
    ("trails", "siting"),
    ("siting", "accessibility"),
    ("trails", "accessibility"),
    ("siting", "indicators"),
    ("trails", "indicators"),
}


def _unit(module: str) -> str | None:
    """The top-level unit of a dotted ``ordos_geo`` module name (``ordos_geo.siting.rules`` -> ``siting``)."""
    parts = module.split(".")
    if parts[0] != "ordos_geo" or len(parts) < 2:
        return None
    return parts[1]


def _layer(unit: str) -> int:
    if unit in LAYERS:
        return LAYERS[unit]
    if unit.startswith("_"):
        return 0
    msg = f"ordos_geo.{unit} has no layer: add it to LAYERS in tests/test_layers.py"
    raise AssertionError(msg)


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imported_names(path: Path) -> list[tuple[int, str, str | None]]:
    """Every ``ordos_geo`` import in ``path``: ``(line, module, name)`` (``name`` None for ``import module``)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found += [(node.lineno, target, alias.name) for alias in node.names]
    found.sort(key=lambda item: item[0])  # in line order (ast.walk visits lazy imports last)
    return [(line, target, name) for line, target, name in found if target.split(".")[0] == "ordos_geo"]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``ordos_geo`` module imported anywhere in ``path``, with its line."""
    # `from ordos_geo import io` imports the unit io
    return [
        (line, f"{target}.{name}" if target == "ordos_geo" and name else target)
        for line, target, name in _imported_names(path)
    ]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_vendor" not in p.parts)


def _violations() -> list[str]:
    problems = []
    for path in _modules():
        unit = _unit(_module_name(path))
        if unit is None:  # ordos_geo/__init__.py re-exports everything lazily
            continue
        for line, name in _imports(path):
            target = _unit(name)
            if target is None or target == unit:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
            if _layer(target) > _layer(unit):
                problems.append(f"{where}: {target} (layer {_layer(target)}) is above {unit} (layer {_layer(unit)})")
            elif (unit, target) in FORBIDDEN:
                problems.append(f"{where}: {unit} must not import {target}")
    return problems


def _private_crossings() -> list[str]:
    """Imports of another unit's private module or name (``_x``), which must stay inside that unit."""
    problems = []
    for path in _modules():
        unit = _unit(_module_name(path))
        if unit is None:
            continue
        for line, target, name in _imported_names(path):
            full = f"{target}.{name}" if target == "ordos_geo" and name else target
            other = _unit(full)
            if other is None or other == unit:
                continue
            inner = full.split(".")[2:]  # below the unit: a base module (`_validate`) is itself shared
            private = [part for part in inner if part.startswith("_")]
            if target != "ordos_geo" and name and name.startswith("_") and not name.startswith("__"):
                private.append(name)
            if private:
                where = f"{path.relative_to(PACKAGE.parent)}:{line}"
                what = f"{target} import {name}" if name else target
                problems.append(
                    f"{where} imports {what}: private to ordos_geo.{other} ({', '.join(private)}); "
                    "make it public there (documented, in __all__) or move it to a base module"
                )
    return problems


def test_every_module_imports_only_its_own_layer_or_lower():
    assert _violations() == []


def test_no_module_imports_another_units_private_names():
    assert _private_crossings() == []


def test_every_unit_has_a_layer():
    for path in _modules():
        unit = _unit(_module_name(path))
        if unit is not None:
            _layer(unit)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from ordos_geo import io\n", ["ordos_geo.io"]),
        ("def f():\n    from ordos_geo.accessibility import snap_points\n", ["ordos_geo.accessibility"]),
        ("import ordos_geo.trails.plan\n", ["ordos_geo.trails.plan"]),
        ("from .rules import SitingRule\n", ["ordos_geo.siting.rules"]),
        ("from .. import settings\n", ["ordos_geo.settings"]),
    ],
)
def test_the_import_parser_sees_lazy_relative_and_package_imports(tmp_path, monkeypatch, source, expected):
    package = tmp_path / "ordos_geo"
    (package / "siting").mkdir(parents=True)
    module = package / "siting" / "planner.py"
    module.write_text(source, encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    assert [name for _, name in _imports(module)] == expected


def test_a_private_crossing_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "ordos_geo"
    (package / "routing").mkdir(parents=True)
    (package / "accessibility").mkdir()
    (package / "routing" / "search.py").write_text("from ordos_geo.routing._fork import _Forked\n", encoding="utf-8")
    (package / "accessibility" / "stage.py").write_text(
        "from ordos_geo import _labels, settings\n"
        "from ordos_geo._validate import check_distance\n"
        "from ordos_geo.routing import pairs_within\n"
        "from ordos_geo.routing.search import _attach\n"
        "def f():\n    from ordos_geo.routing._index import network_index\n"
        "import ordos_geo.network._osm\n"
        "from ordos_geo._validate import _hidden\n"
        "from ..routing import _fork\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    problems = _private_crossings()
    assert [p.split(":")[1].split()[0] for p in problems] == ["4", "6", "7", "8", "9"]
    assert "private to ordos_geo.routing (_attach)" in problems[0]
    assert "private to ordos_geo.routing (_index)" in problems[1]
    assert "private to ordos_geo.network (_osm)" in problems[2]
    assert "private to ordos_geo._validate (_hidden)" in problems[3]
    assert "private to ordos_geo.routing (_fork)" in problems[4]


def test_a_violation_is_reported(tmp_path, monkeypatch):
    package = tmp_path / "ordos_geo"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "io.py").write_text("def f():\n    from ordos_geo.network import WalkNetwork\n", encoding="utf-8")
    (package / "trails.py").write_text("from ordos_geo import siting\n", encoding="utf-8")
    (package / "siting.py").write_text("", encoding="utf-8")
    (package / "network.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", package)
    problems = _violations()
    assert any("io.py:2 imports ordos_geo.network" in p and "above io" in p for p in problems)
    assert any("trails.py:1 imports ordos_geo.siting: trails must not import siting" in p for p in problems)
    assert len(problems) == 2
