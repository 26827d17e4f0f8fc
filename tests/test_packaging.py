"""The packaging promises of the README: pyproject and environment.yml agree, the CLI exists."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from conftest import REPO_ROOT


def _name_and_min(spec: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9.]*)\s*", spec)
    assert match, f"dependency {spec!r} must be 'name>=minimum'"
    return match.group(1).lower(), match.group(2)


def _environment_dependencies() -> dict[str, str]:
    deps: dict[str, str] = {}
    for line in (REPO_ROOT / "environment.yml").read_text(encoding="utf-8").splitlines():
        item = line.strip()
        if not item.startswith("- ") or item in ("- pip", "- pip:", "- conda-forge") or item.startswith("- -e"):
            continue
        spec = item[2:]
        if re.split(r"[<>=\s]", spec, maxsplit=1)[0] == "python":  # the interpreter, not python-docx
            continue
        name, minimum = _name_and_min(spec)
        deps[name] = minimum
    return deps


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = dict(_name_and_min(s) for s in pyproject["project"]["dependencies"])
    assert _environment_dependencies() == declared


def test_console_script_help_runs():
    out = subprocess.run(
        [sys.executable, "-m", "ordos_geo.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("run", "sample", "site", "trails", "fetch", "batch"):
        assert command in out


def test_top_level_layout_exists():
    for folder in ("ordos_geo", "notebooks", "data/raw", "data/processed", "outputs/maps", "tests"):
        assert (REPO_ROOT / folder).is_dir(), folder
    for file in ("environment.yml", "README.md", "pyproject.toml", ".ci/run", "Makefile"):
        assert (REPO_ROOT / file).is_file(), file
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_stage_modules_are_reachable_from_the_package_lazily():
    code = (
        "import sys, ordos_geo as og\n"
        "assert 'ordos_geo.maps' not in sys.modules\n"
        "assert og.maps.coverage_map and og.pipeline.run_study and og.siting.plan_sites\n"
        "assert 'ordos_geo.maps' in sys.modules\n"
        "print(sorted(type(getattr(og, name)).__name__ for name in og.__all__ if name.islower()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(["module"] * 15 + ["str"])  # settings and the 14 lazily imported modules
