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
    with pytest.raises(ConfigError, match=r"unknown section \[acessibility\] \(did you mean 'accessibility'\?\)"):
        StudyConfig.from_toml(_write(tmp_path, base + "[acessibility]\nmax_distance_m = 1\n"))
    with pytest.raises(ConfigError, match=r"\[accessibility\] max_distance_m must be a number > 0"):
        StudyConfig.from_toml(_write(tmp_path, base + "[accessibility]\nmax_distance_m = -5\n"))
    with pytest.raises(ConfigError, match=r"f\.csv: coordinates must be one of 'wgs84', 'gcj02', 'bd09', got 'mars'"):
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
    with pytest.raises(ConfigError, match=r"\[siting\] budget must be a number > 0, got 0"):
        StudyConfig.from_toml(_write(tmp_path, base + "[siting]\nbudget = 0\n"))


_BASE = '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n'


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # a typo is named with the nearest valid key, never silently ignored
        (
            "[accessibility]\ntreshold_m = [300]\n",
            r"\[accessibility\] treshold_m is not a study key \(did you mean 'thresholds_m'\?\)",
        ),
        (
            "[trails]\nthresholds_m = [300]\n",
            r"\[trails\] thresholds_m is not a study key \(did you mean \[accessibility\] thresholds_m\?\)",
        ),
        ("[study]\nnmae = 'x'\n", r"\[study\] nmae is not a study key \(did you mean 'name'\?\)"),
        # types: a string is not a list, a number or a boolean
        ('[accessibility]\nthresholds_m = "9"\n', r"thresholds_m must be a list of distances.*got '9' \(a str\)"),
        ('[accessibility]\nmax_distance_m = "5000"\n', r"max_distance_m must be a number > 0.*got '5000' \(a str\)"),
        ('[siting]\nenabled = "no"\n', r"\[siting\] enabled must be true or false, got 'no'"),
        ("[trails]\nmax_trails = 2.5\n", r"\[trails\] max_trails must be a whole number >= 1"),
        ("[inputs.x]\n", r"\[inputs\] x is not a study key"),
        ("[siting]\nplan = { sports_park = -1 }\n", r"\[siting\] plan entry 'sports_park' must be a whole number >= 0"),
        (
            "[siting]\nplan = { sport_park = 1 }\n",
            r"plan has unknown entry 'sport_park' \(did you mean 'sports_park'\?\)",
        ),
        (
            '[inputs]\npopulation_coordinates = "gcj"\n',
            r"\[inputs\] population_coordinates must be one of 'wgs84', 'gcj02', 'bd09', got 'gcj'",
        ),
        (
            '[inputs]\ncandidates_coordinates = "amap"\n',
            r"\[inputs\] candidates_coordinates must be one of 'wgs84', 'gcj02', 'bd09', got 'amap'",
        ),
        (
            '[inputs]\nboundaries_coordinates = "amap"\n',
            r"\[inputs\] boundaries_coordinates must be one of 'wgs84', 'gcj02', 'bd09', got 'amap'",
        ),
        # ranges
        ("[accessibility]\nthresholds_m = [300, -5]\n", r"thresholds_m must be a number > 0, got -5"),
        ("[accessibility]\nthresholds_m = [300, 300]\n", r"thresholds_m lists a distance twice"),
        ("[accessibility]\nmax_distance_m = 200\n", r"max_distance_m \(200 m\) is below the largest coverage tier"),
        ("[accessibility]\nwalk_speed_kmh = nan\n", r"walk_speed_kmh must be a number > 0 and <= 20, got nan"),
        ("[trails]\nmin_trail_m = 20000\n", r"min_trail_m \(20000 m\) is longer than the whole \[trails\] budget_m"),
        # the study name names a folder under data/processed: never a path out of it
        ('[study]\nname = ".."\n', r"\[study\] name must be a plain folder name.*got '\.\.'"),
        ('[study]\nname = "../../etc"\n', r"\[study\] name must be a plain folder name"),
        ('[study]\nname = "a/b"\n', r"\[study\] name must be a plain folder name"),
        ('[study]\nname = ""\n', r"\[study\] name must be a plain folder name"),
        (
            "[accessibility]\nwinter_kinds = ['gymnasium', 'swiming_pool']\n",
            r"winter_kinds lists unknown kind 'swiming_pool' \(did you mean 'swimming_pool'\?\)",
        ),
        ('[accessibility]\nwinter_kinds = "gymnasium"\n', r"winter_kinds must be a list of facility kinds"),
        ("[accessibility]\nage_distance_m = 0\n", r"\[accessibility\] age_distance_m must be a number > 0"),
        ('[siting]\nobjective = "cold"\n', r"\[siting\] objective must be one of 'coverage', 'winter'"),
        (
            "[inputs]\nlayers = { facility = 'v' }\n",
            r"layers has unknown entry 'facility' \(did you mean 'facilities'\?\)",
        ),
    ],
)
def test_the_whole_study_file_is_validated(tmp_path, extra, message):
    text = _BASE + extra if not extra.startswith("[inputs]") else _BASE + extra.removeprefix("[inputs]\n")
    with pytest.raises(ConfigError, match=message) as caught:
        StudyConfig.from_toml(_write(tmp_path, text))
    assert str(tmp_path / "study.toml") in str(caught.value)  # the file is named as the source
    assert "\n" not in str(caught.value)


def test_errors_name_a_flag_when_the_value_came_from_a_flag(tmp_path):
    path = _write(tmp_path, _BASE + "[accessibility]\nthresholds_m = [300, 1000]\n")
    args = build_parser().parse_args(["run", "--config", str(path), "--max-distance-m", "500"])
    with pytest.raises(ConfigError) as caught:
        _study_config(args)
    text = str(caught.value)
    # the flag is blamed for its own value, the file for the tier it conflicts with
    assert text.startswith("--max-distance-m (command-line flag) (500 m) is below the largest coverage tier")
    assert "[accessibility] thresholds_m (1000 m)" in text and "study.toml" not in text.split("(500 m)")[0]
    args = build_parser().parse_args(["run", "--config", str(path), "--name", ".."])
    with pytest.raises(ConfigError, match=r"^--name \(command-line flag\) must be a plain folder name"):
        _study_config(args)
    args = build_parser().parse_args(["run", "--config", str(path), "--layer", "facilities"])
    with pytest.raises(ConfigError, match=r"--layer 'facilities': write INPUT=LAYER"):
        _study_config(args)


def test_input_options_from_the_file_and_flags(tmp_path):
    table = 'facilities = { path = "f.csv", lon_column = "X", lat_column = "Y" }'
    text = _BASE.replace('facilities = "f.geojson"', table)
    text += 'population_column = "people"\nlayers = { population = "grid" }\n'
    text += "[siting]\nmin_land_area_m2 = { sports_park = 8000 }\n"
    config = StudyConfig.from_toml(_write(tmp_path, text))
    (source,) = config.facilities
    assert (source.path, source.lon_column, source.lat_column) == ((tmp_path / "f.csv").resolve(), "X", "Y")
    assert config.population_column == "people"
    assert config.layers == {"population": "grid"}
    from ordos_geo.pipeline import siting_rules

    rules = siting_rules(config)
    assert rules["sports_park"].min_land_area_m2 == 8000
    assert rules["fitness_centre"].min_land_area_m2 == 2000  # the others keep their defaults
    args = build_parser().parse_args(
        ["run", "--config", str(tmp_path / "study.toml"), "--layer", "facilities=venues", "--population-column", "p"]
    )
    config = _study_config(args)
    assert config.layers == {"population": "grid", "facilities": "venues"}
    assert config.population_column == "p"
    assert config.population_coordinates == "wgs84"  # the default
    args = build_parser().parse_args(
        ["run", "--config", str(tmp_path / "study.toml"), "--population-coordinates", "gcj02"]
    )
    assert _study_config(args).population_coordinates == "gcj02"
    in_file = text.replace(
        'population_column = "people"', 'population_column = "people"\npopulation_coordinates = "bd09"'
    )
    assert StudyConfig.from_toml(_write(tmp_path, in_file)).population_coordinates == "bd09"


def test_config_pointing_at_a_folder_is_one_error(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a study file"):
        StudyConfig.from_toml(tmp_path)


def test_winter_age_and_planner_keys_reach_the_siting_rules(tmp_path):
    from ordos_geo import pipeline, settings

    path = _write(
        tmp_path,
        _BASE
        + 'planner_targets = "targets.csv"\n'
        + "[accessibility]\nwinter_kinds = ['swimming_pool']\nage_distance_m = 400\n"
        + '[siting]\nobjective = "winter"\nplan = { sports_health_centre = 1, school_opening = 0 }\n',
    )
    config = StudyConfig.from_toml(path)
    assert config.planner_targets == (tmp_path / "targets.csv").resolve()
    assert config.winter_kinds == ("swimming_pool",)
    rules = pipeline.siting_rules(config)
    assert rules["sports_health_centre"].service_distance_m == 400.0
    assert rules["fitness_centre"].locked_kinds == ("swimming_pool",)
    assert pipeline.siting_rules(sample_config())["fitness_centre"].locked_kinds == ("fitness_centre", "gymnasium")
    assert sample_config().winter_kinds == settings.WINTER_KINDS
    args = build_parser().parse_args(
        [
            "run",
            "--config",
            str(path),
            "--winter-kinds",
            "gymnasium",
            "--age-distance-m",
            "300",
            "--siting-objective",
            "coverage",
            "--planner-targets",
            "t2.csv",
        ]
    )
    flagged = _study_config(args)
    assert flagged.winter_kinds == ("gymnasium",)
    assert flagged.age_distance_m == 300.0
    assert flagged.siting_objective == "coverage"
    assert flagged.planner_targets.name == "t2.csv"


def test_trail_shape_keys_and_flags(tmp_path):
    base = '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n'
    assert (sample_config().trail_shape, sample_config().trail_max_spur_m) == ("loop", 0.0)
    config = StudyConfig.from_toml(_write(tmp_path, base + '[trails]\nshape = "route"\nmax_spur_m = 150\n'))
    assert (config.trail_shape, config.trail_max_spur_m) == ("route", 150.0)
    with pytest.raises(ConfigError, match=r"\[trails\] shape.*must be one of 'loop', 'route', 'network', got 'comb'"):
        StudyConfig.from_toml(_write(tmp_path, base + '[trails]\nshape = "comb"\n'))
    with pytest.raises(ConfigError, match=r"\[trails\] max_spur_m.*>= 0"):
        StudyConfig.from_toml(_write(tmp_path, base + "[trails]\nmax_spur_m = -1\n"))
    args = build_parser().parse_args(["trails", "plan", "--trail-shape", "network", "--trail-max-spur-m", "80"])
    assert (_study_config(args).trail_shape, _study_config(args).trail_max_spur_m) == ("network", 80.0)


def test_population_60plus_key_and_flag(tmp_path):
    base = '[inputs]\nnetwork = "a.osm"\npopulation = "p.tif"\nfacilities = "f.geojson"\n'
    config = StudyConfig.from_toml(_write(tmp_path, base + 'population_60plus = "ages/older.tif"\n'))
    assert config.population_60plus == (tmp_path / "ages" / "older.tif").resolve()
    assert config.input_paths()["population_60plus"] == config.population_60plus
    assert StudyConfig.from_toml(_write(tmp_path, base)).population_60plus is None
    assert sample_config().population_60plus is None  # the sample splits by the census share
    with pytest.raises(ConfigError, match=r"\[inputs\] population_60plus must be"):
        StudyConfig.from_toml(_write(tmp_path, base + "population_60plus = 60\n"))
    for name in ("a.osm", "p.tif", "f.geojson"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    with pytest.raises(InputFileNotFoundError, match=r"\[inputs\] population_60plus: file not found: .*older\.tif"):
        config.check_inputs_exist()
    args = build_parser().parse_args(["run", "--config", str(_write(tmp_path, base)), "--population-60plus", "o2.tif"])
    assert _study_config(args).population_60plus.name == "o2.tif"
    assert "--population-60plus" in build_parser()._subparsers._group_actions[0].choices["run"].format_help()


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("gb18030", b"")])
def test_study_files_saved_by_windows_editors_are_read(tmp_path, encoding, bom):
    text = (
        '[study]\nname = "dongsheng"\n[inputs]\nnetwork = "东胜.osm.pbf"\npopulation = "pop.tif"\n'
        'facilities = "场馆.csv"\n'
    )
    path = tmp_path / "study.toml"
    path.write_bytes(bom + text.encode(encoding))
    config = StudyConfig.from_toml(path)
    assert config.name == "dongsheng"
    assert config.network == (tmp_path / "东胜.osm.pbf").resolve()
    assert [s.path.name for s in config.facilities] == ["场馆.csv"]


def test_a_study_file_written_on_windows_finds_its_inputs_on_linux(tmp_path):
    folder = tmp_path / "输入 文件"
    folder.mkdir()
    for name in ("walk.osm", "pop.tif", "场馆.xlsx", "districts.geojson"):
        (folder / name).write_bytes(b"x")
    text = (
        '[study]\r\nname = "dongsheng"\r\n[inputs]\r\n'
        "network = '输入 文件\\walk.osm'\r\n"  # single quotes: a literal string, the backslash kept
        'population = "输入 文件\\\\pop.tif"\r\n'  # an escaped backslash
        "facilities = { path = '.\\输入 文件\\场馆.xlsx', coordinates = 'gcj02' }\r\n"
        "boundaries = '输入 文件\\districts.geojson'\r\n"
    )
    path = tmp_path / "study.toml"
    path.write_bytes(text.encode("utf-8"))
    config = StudyConfig.from_toml(path)
    assert config.network == (folder / "walk.osm").resolve()
    assert config.population == (folder / "pop.tif").resolve()
    assert config.facilities[0].path == (folder / "场馆.xlsx").resolve()
    assert config.boundaries == (folder / "districts.geojson").resolve()
    config.check_inputs_exist()


def test_an_unescaped_windows_path_says_how_to_write_it(tmp_path):
    path = _write(tmp_path, '[inputs]\nnetwork = "data\\walk.osm"\n')
    with pytest.raises(ConfigError, match=r"not valid TOML .*; write Windows paths with / or in single quotes"):
        StudyConfig.from_toml(path)
