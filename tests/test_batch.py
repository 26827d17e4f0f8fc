"""``ordos-geo batch`` on a 2-worker Dask LocalCluster: same files as ``ordos-geo run``, failures, resuming."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import dask
import geopandas as gpd
import pandas as pd
import psutil
import pyogrio
import pytest
from _grid_study import SAMPLE_TOML, write_grid_study
from geopandas.testing import assert_geodataframe_equal

from ordos_geo import batch
from ordos_geo._errors import ConfigError, InputFileNotFoundError
from ordos_geo.cli import main
from ordos_geo.config import StudyConfig

GOOD = ("grid_a", "grid_b", "ordos_sample")


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def client():
    """One 2-worker LocalCluster (processes) for the module; no worker process outlives it."""
    with batch.batch_client(n_workers=2, memory_limit="3GB", dashboard_address=None) as dask_client:
        pids = list(dask_client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids
        yield dask_client
    deadline = time.monotonic() + 30
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids):
        assert time.monotonic() < deadline, f"worker processes {pids} still alive after the cluster closed"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> Path:
    """A folder of study TOMLs: the sample, two small grids (one with siting), one with a bad facility area."""
    folder = tmp_path_factory.mktemp("studies")
    (folder / "ordos_sample.toml").write_text(SAMPLE_TOML, encoding="utf-8")
    write_grid_study(folder / "inputs_a", name="grid_a", seed=1, toml_path=folder / "grid_a.toml")
    write_grid_study(folder / "inputs_b", name="grid_b", seed=2, n=14, siting=True, toml_path=folder / "grid_b.toml")
    write_grid_study(folder / "inputs_bad", name="grid_bad", seed=3, bad_area=True, toml_path=folder / "grid_bad.toml")
    return folder


@pytest.fixture(scope="module")
def sequential(studies, tmp_path_factory) -> Path:
    """``ordos-geo run --config <study> --out REF/<study>`` for each good study, one after the other."""
    ref = tmp_path_factory.mktemp("sequential")
    for name in GOOD:
        assert main(["run", "--config", str(studies / f"{name}.toml"), "--out", str(ref / name)]) == 0
    assert main(["run", "--config", str(studies / "grid_bad.toml"), "--out", str(ref / "grid_bad")]) == 2
    return ref


@pytest.fixture(scope="module")
def first_batch(client, studies, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    summary = batch.run_batch(batch.read_studies(studies), out_dir=out, client=client)
    return out, summary


# ------------------------------------------------------------------------------------------ comparing runs


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _without_cache_state(summary: dict) -> dict:
    # whether the network came from the cache, and from which file, depends on what ran before
    for key in ("cache", "cache_path"):
        summary["network"]["cleaning"].pop(key, None)
    return summary


def assert_same_outputs(expected: Path, actual: Path) -> None:
    """The files of two runs of one study agree (timings, cache state and random HTML ids aside)."""
    assert _files(actual) == _files(expected)
    for name in sorted(_files(expected)):
        a, b = expected / name, actual / name
        if name.endswith(".csv"):
            left, right = pd.read_csv(a), pd.read_csv(b)
            timings = [c for c in left.columns if c.endswith("_seconds")]
            pd.testing.assert_frame_equal(left.drop(columns=timings), right.drop(columns=timings), obj=name)
        elif name.endswith(".json"):
            left = json.loads(a.read_text(encoding="utf-8"))
            right = json.loads(b.read_text(encoding="utf-8"))
            assert _without_cache_state(left) == _without_cache_state(right), name
        elif name.endswith(".gpkg"):
            layers = [layer for layer, _ in pyogrio.list_layers(a)]
            assert layers == [layer for layer, _ in pyogrio.list_layers(b)], name
            for layer in layers:
                assert_geodataframe_equal(gpd.read_file(a, layer=layer), gpd.read_file(b, layer=layer))
        elif name.endswith((".xlsx", ".docx")):  # zip parts, less the creation time in docProps/core.xml
            with zipfile.ZipFile(a) as left, zipfile.ZipFile(b) as right:
                parts = sorted(set(left.namelist()) - {"docProps/core.xml"})
                assert parts == sorted(set(right.namelist()) - {"docProps/core.xml"}), name
                assert all(left.read(part) == right.read(part) for part in parts), name
        elif name.endswith(".html"):  # folium names its elements with random hex ids
            ids = re.compile(r"[0-9a-f]{32}")
            assert ids.sub("X", a.read_text(encoding="utf-8")) == ids.sub("X", b.read_text(encoding="utf-8")), name
        else:
            assert a.read_bytes() == b.read_bytes(), name


# ------------------------------------------------------------------------------------------ reading studies


def test_read_studies_from_a_folder_keeps_paths_relative_to_each_file(studies):
    found = {s.name: s for s in batch.read_studies(studies)}
    assert set(found) == {*GOOD, "grid_bad"}
    assert found["grid_a"].config.network == (studies / "inputs_a" / "walk.osm").resolve()
    assert found["ordos_sample"].config.synthetic is True


def test_read_studies_from_a_csv_with_overrides_and_adcodes(studies, tmp_path):
    table = tmp_path / "batch.csv"
    table.write_text(
        f"study,adcode,name,max_distance_m,thresholds_m,siting_enabled,split_by_district\n"
        f"{os.path.relpath(studies / 'grid_a.toml', tmp_path)},,grid_a_4km,4000,300 600,no,yes\n"
        f",150602,dongsheng,,,,\n",
        encoding="utf-8",
    )
    first, second = batch.read_studies(table)
    assert first.name == "grid_a_4km" and first.config.name == "grid_a_4km"
    assert first.config.max_distance_m == 4000.0 and first.config.thresholds_m == (300.0, 600.0)
    assert first.config.siting_enabled is False and first.config.split_by_district is True
    assert first.config.network == (studies / "inputs_a" / "walk.osm").resolve()
    assert (second.name, second.adcode, second.config) == ("dongsheng", "150602", None)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("study,colour\nx.toml,red\n", "unknown column(s) colour"),
        ("study,adcode\n,\n", "row 2 has neither `study`"),
        ("study,max_distance_m\nx.toml,far\n", "row 2, column `max_distance_m`: 'far' is not valid"),
        ("adcode\n150602\n150602\n", "are both named '150602'"),
        ("study\n", "no studies found"),
    ],
)
def test_read_studies_rejects_a_bad_csv_in_one_line(tmp_path, text, fragment):
    table = tmp_path / "batch.csv"
    table.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        batch.read_studies(table)
    assert fragment in str(info.value) and "batch.csv" in str(info.value) and "\n" not in str(info.value)


def test_read_studies_keeps_an_unreadable_study_file_as_a_failed_study(tmp_path):
    (tmp_path / "broken.toml").write_text("[study\nname = ", encoding="utf-8")
    (study,) = batch.read_studies(tmp_path)
    assert study.name == "broken" and study.config is None and "not valid TOML" in study.error
    with pytest.raises(InputFileNotFoundError):
        batch.read_studies(tmp_path / "missing.csv")


def test_a_csv_row_naming_a_missing_study_file_says_which_row_and_column_to_fix(tmp_path):
    (tmp_path / "batch.csv").write_text("study,name\nstudies/dongsheng.toml,ds\n", encoding="utf-8")
    (study,) = batch.read_studies(tmp_path / "batch.csv")
    assert study.name == "ds" and study.config is None
    missing = tmp_path / "studies" / "dongsheng.toml"
    assert study.error == (
        f"batch.csv row 2: study file {missing} not found; fix the `study` column (paths are relative to the CSV)"
    )


def test_fingerprint_follows_input_bytes_and_settings_not_locations(studies, tmp_path):
    config = batch.read_studies(studies)[0].config  # grid_a
    base = batch.study_fingerprint(config)
    moved = tmp_path / "moved"
    shutil.copytree(studies / "inputs_a", moved)
    assert batch.study_fingerprint(config.with_overrides(network=moved / "walk.osm")) == base
    assert batch.study_fingerprint(config.with_overrides(max_distance_m=4000.0)) != base
    assert batch.study_fingerprint(config, stages=("accessibility",)) != base
    (moved / "walk.osm").write_text((moved / "walk.osm").read_text().replace('lat="39.80', 'lat="39.81'))
    assert batch.study_fingerprint(config.with_overrides(network=moved / "walk.osm")) != base
    # a value given as a flag (or CSV column) equal to the file's keeps the hash, in any process
    code = (
        "import sys; from ordos_geo import batch; from ordos_geo.config import StudyConfig; "
        "c = StudyConfig.from_toml(sys.argv[1]).with_overrides(language='en', max_distance_m=5000.0, name='grid_a'); "
        "print(batch.study_fingerprint(c))"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(studies / "grid_a.toml")],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert out == base


# ------------------------------------------------------------------------------------------ the batch


@pytest.mark.slow
def test_batch_writes_the_same_files_as_sequential_runs(first_batch, sequential):
    out, summary = first_batch
    for name in GOOD:
        assert_same_outputs(sequential / name, out / name)
    assert not (out / "grid_bad").exists()
    assert summary.set_index("study").loc[list(GOOD), "status"].eq("ok").all()


@pytest.mark.slow
def test_the_bad_study_is_reported_in_one_line_and_the_rest_finish(first_batch, sequential):
    _, summary = first_batch
    row = summary.set_index("study").loc["grid_bad"]
    assert row["status"] == "failed"
    assert "facilities.geojson" in row["error"] and "`area_m2`" in row["error"] and "\n" not in row["error"]
    # the summary's figures are each study's own scorecard, side by side
    table = summary.set_index("study")
    for name in GOOD:
        scorecard = pd.read_csv(sequential / name / "scorecard.csv").set_index("key")
        assert table.at[name, "per_capita_area_m2"] == pytest.approx(scorecard.at["per_capita_area_2024", "value"])
        assert table.at[name, "per_capita_area_gap_m2"] == pytest.approx(scorecard.at["per_capita_area_2024", "gap"])
        assert table.at[name, "fitness_circle_share"] == pytest.approx(scorecard.at["fitness_circle_15min", "value"])
        assert table.at[name, "open_school_share"] == pytest.approx(scorecard.at["open_school_share", "value"])
        assert table.at[name, "targets_met"] == scorecard["met"].sum()
        assert table.at[name, "targets"] == scorecard["status"].isin(["met", "not_met"]).sum()
        assert table.at[name, "targets"] < len(scorecard)  # the non-spatial targets no one entered are not counted
        assert table.at[name, "runtime_s"] > 0
        assert table.at[name, "worker"].startswith("tcp://")
    assert len(set(table["worker"])) <= 2


@pytest.mark.slow
def test_batch_summary_csv_workbook_and_index(first_batch):
    out, summary = first_batch
    csv_table = pd.read_csv(out / "batch_summary.csv")
    assert list(csv_table.columns) == list(batch.BATCH_SUMMARY_COLUMNS)
    assert list(csv_table["study"]) == list(summary["study"])
    sheet = pd.read_excel(out / "batch_summary.xlsx", sheet_name="batch")
    pd.testing.assert_frame_equal(sheet, csv_table, check_dtype=False)
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    for name in GOOD:
        assert f"{name}/report.html" in links and f"{name}/coverage.html" in links
    assert "ordos_sample/sites.html" in links and "grid_a/sites.html" not in links
    assert all((out / link).is_file() for link in links)
    assert "grid_bad" in index and not any(link.startswith("grid_bad/") for link in links)


@pytest.mark.slow
def test_a_second_run_skips_every_finished_study(first_batch, client, studies):
    out, _ = first_batch
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "batch_summary" not in p.name}
    summary = batch.run_batch(batch.read_studies(studies), out_dir=out, client=client).set_index("study")
    assert summary.loc[list(GOOD), "status"].eq("skipped").all()
    assert summary.at["grid_bad", "status"] == "failed"  # never finished, so tried again
    assert summary.loc[list(GOOD), "runtime_s"].max() < 5
    unchanged = {p: p.stat().st_mtime_ns for p in before if p.name != "index.html"}
    assert unchanged == {p: t for p, t in before.items() if p.name != "index.html"}
    # the skipped rows still carry their figures
    first = pd.read_csv(out / "batch_summary.csv").set_index("study")
    assert summary.at["grid_a", "per_capita_area_m2"] == pytest.approx(first.at["grid_a", "per_capita_area_m2"])


def _tasks_running(dask_worker) -> int:
    """Tasks whose function still runs on this worker, cancelled ones included (dask's ``executing`` set)."""
    return len(dask_worker.state.executing) + len(dask_worker.state.long_running)


@pytest.mark.slow
def test_an_interrupted_batch_resumes_with_the_unfinished_studies(client, studies, tmp_path, sequential):
    # five good studies on two workers: when the first finishes at most two others are running, so two never start
    studies_list = [s for s in batch.read_studies(studies) if s.name in ("grid_a", "grid_b", "grid_bad")]
    studies_list += [
        batch.BatchStudy(name=name, config=studies_list[0].config.with_overrides(name=name))
        for name in ("grid_c", "grid_d", "grid_e")
    ]
    good = ("grid_a", "grid_b", "grid_c", "grid_d", "grid_e")
    finished = []

    def stop_after_first_success(record):
        if record["status"] == "ok":
            finished.append(record["study"])
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(studies_list, out_dir=tmp_path, client=client, on_record=stop_after_first_success)
    assert not (tmp_path / "batch_summary.csv").exists()
    # a study already running when the batch stopped may still finish on its worker; wait for the workers.
    # The scheduler forgets a cancelled key at once while the worker's thread runs on, so ask the workers.
    deadline = time.monotonic() + 300
    while any(client.processing().values()) or any(client.run(_tasks_running).values()):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    done_before = {p.stem for p in (tmp_path / batch.MANIFEST_DIR).glob("*.json")}
    assert finished[0] in done_before and len(done_before) <= 3
    summary = batch.run_batch(studies_list, out_dir=tmp_path, client=client).set_index("study")
    for name in good:
        assert summary.at[name, "status"] == ("skipped" if name in done_before else "ok"), name
    assert summary.at["grid_bad", "status"] == "failed"
    assert_same_outputs(sequential / "grid_b", tmp_path / "grid_b")


@pytest.mark.slow
def test_force_reruns_and_a_killed_worker_is_retried(client, studies, tmp_path):
    (grid_a,) = [s for s in batch.read_studies(studies) if s.name == "grid_a"]
    assert batch.run_batch([grid_a], out_dir=tmp_path, client=client).at[0, "status"] == "ok"
    pids = client.run(os.getpid)
    killed = []

    def kill_the_worker_running_it():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for address, keys in client.processing().items():
                if keys and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.append(address)
                    return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_worker_running_it)
    killer.start()
    summary = batch.run_batch([grid_a], out_dir=tmp_path, client=client, force=True)
    killer.join()
    assert killed, "the study never showed up as processing"
    assert summary.at[0, "status"] == "ok"  # rescheduled on a live worker after the loss
    assert summary.at[0, "worker"] != killed[0]
    client.wait_for_workers(2, timeout=60)


def test_an_adcode_row_fetches_first_then_runs(tmp_path, monkeypatch):
    from ordos_geo import fetch

    calls = []

    def fake_fetch_area(area, *, out_dir):
        calls.append(area)
        return {"study": write_grid_study(Path(out_dir), name="fetched", seed=5)}

    monkeypatch.setattr(fetch, "fetch_area", fake_fetch_area)
    study = batch.BatchStudy(name="dongsheng", adcode="150602", overrides={"max_distance_m": 3000.0})
    record = batch.run_batch_study(study, out_dir=tmp_path, stages=("accessibility",))
    assert record["status"] == "ok", record["error"]
    assert calls == ["150602"]
    assert (tmp_path / "_inputs" / "150602" / "study.toml").is_file()
    summary = json.loads((tmp_path / "dongsheng" / "summary.json").read_text(encoding="utf-8"))
    assert summary["study"] == "dongsheng"
    again = batch.run_batch_study(study, out_dir=tmp_path, stages=("accessibility",))
    assert again["status"] == "skipped" and calls == ["150602"]


@pytest.mark.slow
def test_cli_batch_on_the_cluster_address(client, studies, tmp_path, capsys):
    table = tmp_path / "batch.csv"
    table.write_text(f"study\n{studies / 'grid_a.toml'}\n{studies / 'grid_bad.toml'}\n", encoding="utf-8")
    code = main(["batch", str(table), "--out", str(tmp_path / "out"), "--scheduler", client.scheduler.address])
    printed = capsys.readouterr().out
    assert code == 1  # one study failed
    assert "grid_a: ok" in printed and "grid_bad: failed" in printed and "dashboard:" in printed
    assert "1 ok, 0 skipped, 1 failed" in printed
    # DASK_SCHEDULER_ADDRESS (dask's scheduler-address setting) instead of the flag; the finished study is skipped
    with dask.config.set({"scheduler-address": client.scheduler.address}):
        code = main(["batch", str(table), "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert code == 1 and "grid_a: skipped" in printed and client.scheduler.address in printed
    assert main(["batch", str(tmp_path / "nothing.csv"), "--out", str(tmp_path / "out")]) == 2


# ------------------------------------------------------------------------------------------ split by district


@pytest.mark.slow
def test_split_by_district_equals_the_whole_run_across_a_district_line(tmp_path):
    from ordos_geo import accessibility, pipeline

    # an 8 km wide grid cut into west and east halves: each part keeps only the streets within its reach,
    # yet cells by the line walk to venues across it
    toml = write_grid_study(tmp_path, name="wide", n=90, n_facilities=40, seed=7)
    config = StudyConfig.from_toml(toml).with_overrides(max_distance_m=1500.0, max_snap_distance_m=60.0)
    study = pipeline.load_study(config, use_cache=False)
    options = {"thresholds_m": config.thresholds_m, "max_distance_m": 1500.0, "max_snap_distance_m": 60.0}
    parts = accessibility.district_parts(study.network, study.cells, study.facilities, **options)
    assert [p.district for p in parts] == ["East", "West"]
    assert all(p.network.n_edges < study.network.n_edges for p in parts)
    whole = accessibility.compute_accessibility(study.network, study.cells, study.facilities, **options)
    calls = []

    def counting_map(function, items):
        calls.append(len(items))
        return map(function, items)

    split = accessibility.compute_accessibility_by_district(
        study.network, study.cells, study.facilities, map_parts=counting_map, **options
    )
    assert calls == [2]
    assert_geodataframe_equal(split.cells, whole.cells, check_less_precise=False)
    assert_geodataframe_equal(split.underserved, whole.underserved)
    assert_geodataframe_equal(split.service_areas, whole.service_areas)
    # walks do cross the line: some western cells are nearest to an eastern venue
    east_ids = set(study.facilities.loc[study.facilities["district"] == "East", "facility_id"])
    west = split.cells[split.cells["district"] == "West"]
    assert west["nearest_id_any"].isin(east_ids).any()


@pytest.mark.slow
def test_the_sample_split_by_district_on_the_cluster_equals_the_unsplit_run(client, studies, sequential, tmp_path):
    (sample,) = [s for s in batch.read_studies(studies) if s.name == "ordos_sample"]
    split = batch.BatchStudy(name="ordos_sample", config=sample.config.with_overrides(split_by_district=True))
    summary = batch.run_batch([split], out_dir=tmp_path, client=client, stages=("accessibility",))
    assert summary.at[0, "status"] == "ok", summary.at[0, "error"]
    # the district parts ran as tasks of their own on the cluster
    assert any(key.startswith("district_part_cells") for key in client.run_on_scheduler(_task_prefixes))
    ref, out = sequential / "ordos_sample", tmp_path / "ordos_sample"
    for layer in ("cells", "underserved"):
        expected = gpd.read_file(ref / "accessibility.gpkg", layer=layer)
        assert_geodataframe_equal(gpd.read_file(out / "accessibility.gpkg", layer=layer), expected)
    for name in ("indicators.csv", "scorecard.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(ref / name), obj=name)


def _task_prefixes(dask_scheduler=None) -> list[str]:
    return list(dask_scheduler.task_prefixes)
