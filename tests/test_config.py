"""Study TOML files: keys match the CLI flags, paths are relative to the file, errors say the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordos_geo._errors import ConfigError, InputFileNotFoundError
from ordos_geo.cli import _study_config, build_parser
from ordos_geo.config import StudyConfig, sample_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_relative_to_the_config_file(tmp_path):
    path = _write(
        tmp_path,
        """
[study]
name = "dongsheng"
[inputs]
network = "net/walk.osm.pbf"
population = "pop.tif"
facilities = "venues.csv"
facilities_coordinates = "gcj02"
extra_facilities = [{ path = "baidu.csv", coordinates = "bd09" }]
[accessibility]
thresholds_m = [250, 800]
walk_speed_kmh = 5.0
""",
    )
    config = StudyConfig.from_toml(path)
    assert config.name == "dongsheng"
    assert config.network == (tmp_path / "net" / "walk.osm.pbf").resolve()
    assert [(s.path.name, s.coordinates) for s in config.facilities] == [("venues.csv", "gcj02"), ("baidu.csv", "bd09")]
    assert config.thresholds_m == (250.0, 800.0)
    assert config.walk_speed_kmh == 5.0
    assert config.max_distance_m == 5000.0


def test_missing_required_input_names_the_key(tmp_path):
    path = _write(tmp_path, '[inputs]\nnetwork = "a.osm"\nfacilities = "f.geojson"\n')
    with pytest.raises(ConfigError, match=r"\[inputs\] population is required"):
        StudyConfig.from_toml(path)


def test_unknown_section_and_bad_values_are_named(tmp_path):
    base = '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n'
    with pytest.raises(ConfigError, match=r"unknown section\(s\) \[acessibility\]"):
        StudyConfig.from_toml(_write(tmp_path, base + "[acessibility]\nmax_distance_m = 1\n"))
    with pytest.raises(ConfigError, match="max_distance_m must be a positive number"):
        StudyConfig.from_toml(_write(tmp_path, base + "[accessibility]\nmax_distance_m = -5\n"))
    with pytest.raises(ConfigError, match="coordinates 'mars'"):
        StudyConfig.from_toml(_write(tmp_path, base.replace('"f.geojson"', '"f.csv"\nfacilities_coordinates = "mars"')))
    with pytest.raises(ConfigError, match="not valid TOML"):
        StudyConfig.from_toml(_write(tmp_path, "[inputs\n"))


def test_missing_config_and_missing_input_files(tmp_path):
    with pytest.raises(InputFileNotFoundError, match="study configuration not found"):
        StudyConfig.from_toml(tmp_path / "nope.toml")
    path = _write(tmp_path, '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n')
    with pytest.raises(InputFileNotFoundError, match=r"\[inputs\] network: file not found: .*a\.osm"):
        StudyConfig.from_toml(path).check_inputs_exist()


def test_cli_flags_override_the_same_keys(tmp_path):
    args = build_parser().parse_args(
        ["run", "--thresholds-m", "300", "600", "--walk-speed-kmh", "4", "--out", str(tmp_path), "--name", "x"]
    )
    config = _study_config(args)
    assert config.thresholds_m == (300.0, 600.0)
    assert config.walk_speed_kmh == 4.0
    assert config.table_dir() == tmp_path.resolve() == config.map_dir()
    assert config.name == "x"
    assert config.synthetic  # still the sample


def test_sample_config_points_at_the_embedded_sample():
    config = sample_config()
    assert config.synthetic
    assert config.network.name == "walk_network.osm"
    assert {s.coordinates for s in config.facilities} == {"wgs84", "gcj02"}


def test_siting_budget_and_trail_exclusions_keys(tmp_path):
    base = '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n'
    path = _write(tmp_path, base + 'trail_exclusions = "zones/no_trails.geojson"\n[siting]\nbudget = 2.5e6\n')
    config = StudyConfig.from_toml(path)
    assert config.siting_budget == 2.5e6
    assert config.trail_exclusions == (tmp_path / "zones" / "no_trails.geojson").resolve()
    with pytest.raises(ConfigError, match=r"\[siting\] budget must be a positive total cost"):
        StudyConfig.from_toml(_write(tmp_path, base + "[siting]\nbudget = 0\n"))
