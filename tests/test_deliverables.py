"""The planner's deliverables of a sample run: right numbers, the right citation, every label in the chosen language."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from ordos_geo import _labels, settings

pytestmark = pytest.mark.slow

ENGLISH_DISTRICTS = ("Dongsheng", "Kangbashi", "Dalad", "Jungar", "Otog", "Hanggin", "Uxin", "Ejin Horo")


def visible_text(page: str) -> str:
    """Text a reader sees: no style or script bodies, no tags, entities decoded."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def raw_keys(run) -> set[str]:
    """Every key of the stable interface a zh reader must not see: CSV columns, target keys, kinds, districts."""
    keys = set()
    for path in run.glob("*.csv"):
        keys |= set(pd.read_csv(path, nrows=0).columns)
    keys |= {target.key for target in settings.PLAN_TARGETS}
    keys |= set(settings.FACILITY_KINDS) - {"park", "pitch", "other", "playground"}
    keys |= {"m2_per_capita", "citywide"}
    return keys


def test_scorecard_after_and_report_count_the_chosen_sites(sample_run):
    chosen = gpd.read_file(sample_run / "sites.gpkg", layer="sites")
    counts = chosen["kind"].value_counts()
    after = pd.read_csv(sample_run / "scorecard_after.csv").set_index("key")
    # the report's first table is the scorecard, today and after the plan
    first_table = (sample_run / "report.md").read_text(encoding="utf-8").split("\n## ")[1]
    lines = [line.strip("| ").split(" | ") for line in first_table.splitlines() if line.startswith("| ")]
    header, rows = lines[0], {row[0]: row for row in lines[2:]}
    for kind, key in settings.NEW_COUNT_TARGETS.items():
        expected = int(counts.get(kind, 0))
        assert expected > 0, kind
        assert after.loc[key, "value"] == expected, key
        row = rows[_labels.target(key, "zh")]
        assert row[header.index("规划实施后")] == str(expected), key
        assert row[header.index("现值")] == "0", key
    trails = gpd.read_file(sample_run / "trails.gpkg", layer="planned")
    assert after.loc["new_fitness_trails_km", "value"] == pytest.approx(trails["length_m"].sum() / 1000, rel=1e-9)


def test_index_links_every_page_with_its_name(sample_run):
    index = (sample_run / "index.html").read_text(encoding="utf-8")
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', index))
    pages = {p.name for p in sample_run.glob("*.html")} - {"index.html"}
    assert set(links) == pages | {"report.docx", "tables.xlsx"}
    assert links["sites.html"] == "新建设施选址地图" and links["tables.xlsx"] == "数据表（Excel 工作簿）"
    assert all((sample_run / href).is_file() for href in links)


def test_targets_cite_the_2024_plan_by_title_and_number(sample_run):
    scorecard = pd.read_csv(sample_run / "scorecard.csv").set_index("key")
    for key in ("per_capita_area_2024", "open_school_share", "new_sports_parks", "new_fitness_trails_km", "five_ones"):
        assert "《鄂尔多斯市创建全国全民运动健身模范市实施方案》" in scorecard.loc[key, "source"], key
        assert "鄂府办发〔2024〕52号" in scorecard.loc[key, "source"], key
        assert scorecard.loc[key, "year"] == 2024, key
    assert "鄂府发〔2023〕30号" in scorecard.loc["per_capita_area_2025", "source"]
    report_text = visible_text((sample_run / "report.html").read_text(encoding="utf-8"))
    assert "鄂府办发〔2024〕52号" in report_text and "2024-06-14" in report_text
    assert "工作方案" not in report_text and "创建国家" not in report_text


def test_zh_report_shows_no_raw_key(sample_run):
    keys = raw_keys(sample_run)
    for name in ("report.html", "index.html"):
        text = visible_text((sample_run / name).read_text(encoding="utf-8"))
        words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text))
        assert not (words & keys), (name, sorted(words & keys))
        for district in ENGLISH_DISTRICTS:
            assert district not in text, (name, district)
        assert "东胜区" in text or name == "index.html"
    md = (sample_run / "report.md").read_text(encoding="utf-8")
    assert not (set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", md.split("](charts/")[0])) & keys)


def test_report_leaves_out_districts_without_residents_or_venues(sample_run):
    indicators = pd.read_csv(sample_run / "indicators.csv")
    empty = indicators.loc[(indicators["population"] == 0) & (indicators["venue_area_m2"] == 0), "district"]
    assert len(empty) >= 5  # the sample covers two of the nine districts
    text = visible_text((sample_run / "report.html").read_text(encoding="utf-8"))
    for district in empty:
        assert _labels.district(district, "zh") not in text, district
    # the before/after table still holds every district in the CSV (stable interface)
    assert set(empty) <= set(pd.read_csv(sample_run / "before_after.csv")["district"])


def test_gap_to_target_matches_the_indicators_after_the_plan(sample_run):
    indicators = pd.read_csv(sample_run / "indicators.csv").set_index("district")
    after = pd.read_csv(sample_run / "before_after.csv")
    venue_after = after[after["indicator"] == "venue_area_m2"].set_index("district")["after"]
    gap = pd.read_csv(sample_run / "area_gap.csv")
    sites = gpd.read_file(sample_run / "sites.gpkg", layer="sites")
    for (district, year), rows in gap.groupby(["district", "year"]):
        target = {2024: 3.4, 2025: 3.5}[year]
        population = indicators.loc[district, "population"]
        today = max(target * population - indicators.loc[district, "venue_area_m2"], 0.0)
        assert rows["missing_area_m2"].iloc[0] == pytest.approx(today), (district, year)
        # after the plan's own levers (new sites, trails, the school venues it opens) the gap is the one of the
        # indicators after the plan
        plan = rows.set_index("lever").loc["opened_schools", "missing_after_m2"]
        assert plan == pytest.approx(max(target * population - venue_after[district], 0.0), abs=1e-6), (district, year)
    city = gap[(gap["district"] == "citywide") & (gap["year"] == 2024)].set_index("lever")
    assert city.loc["new_sites", "area_added_m2"] == pytest.approx(sites["added_venue_area_m2"].sum())
    report_text = visible_text((sample_run / "report.html").read_text(encoding="utf-8"))
    after = city.loc["opened_schools", "missing_after_m2"]
    assert f"规划（新建设施、健身步道与方案开放的学校场馆）实施后仍缺 {after:,.0f} m²" in report_text


def test_excel_workbook_in_chinese_with_numbers(sample_run):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(sample_run / "tables.xlsx")
    assert {
        "评分卡",
        "分区指标",
        "规划前后对比",
        "候选选址排名",
        "健身步道",
        "距目标差距",
    } <= set(book.sheetnames)
    indicators = pd.read_csv(sample_run / "indicators.csv")
    sheet = book["分区指标"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["旗区", "人口", "体育场地面积 (m²)", "人均体育场地面积 (m²)"]
    assert not set(headers) & set(indicators.columns)  # every header translated
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    city = indicators.set_index("district").loc["citywide"]
    # the sample covers parts of two districts: its total is the study area's, not the city's (全市)
    total = rows["研究区合计"]
    assert total[1] == pytest.approx(city["population"]) and isinstance(total[1], int | float)
    assert "全市" not in rows
    report = (sample_run / "report.md").read_text(encoding="utf-8")
    assert f"| 研究区合计 | {city['population']:,.0f} |" in report and "全市" not in report
    assert rows["东胜区"][3] == pytest.approx(indicators.set_index("district").loc["Dongsheng", "per_capita_area_m2"])
    assert "达拉特旗" not in rows  # no residents, no venues
    assert sheet.freeze_panes == "A2" and all(sheet.column_dimensions[c].width > 4 for c in "ABCD")
    share_column = headers.index("300 m 内人口比例") + 1
    assert sheet.cell(2, share_column).number_format == "0.0%"
    ranked = book["候选选址排名"]
    n_ranked = sum(len(pd.read_csv(p)) for p in sample_run.glob("sites_*.csv") if p.stem != "sites_gaps")
    assert ranked.max_row - 1 == n_ranked


def test_word_report_is_a4_with_the_same_sections(sample_run):
    docx = pytest.importorskip("docx")
    document = docx.Document(sample_run / "report.docx")
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    page = (sample_run / "report.html").read_text(encoding="utf-8")
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [html.unescape(h) for h in re.findall(r"<h[23]>(.*?)</h[23]>", page)]
    assert "距目标的差距" in headings
    assert len(document.tables) == page.count("<table")
    assert len(document.inline_shapes) == page.count("<img")
    cells = " ".join(c.text for t in document.tables for r in t.rows for c in r.cells)
    assert "东胜区" in cells and "Dongsheng" not in cells and "per_capita_area_m2" not in cells


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh", "en"])
def test_browser_every_page_and_index_link(language, request):
    from _browser import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped")
    pytest.importorskip("websocket", reason="websocket-client is not installed; browser test skipped")
    run = request.getfixturevalue("sample_run" if language == "zh" else "sample_run_en")
    with Browser(executable) as browser:
        index = browser.open(run / "index.html")
        assert index.exceptions == [] and index.console_errors == [] and index.log_errors == []
        links = browser.evaluate("Array.from(document.querySelectorAll('a')).map(a => [a.href, a.textContent])")
        assert len(links) == 6
        for href, label in links:
            assert href.startswith("file://"), href
            target = run / href.rsplit("/", 1)[-1]
            assert target.is_file() and target.stat().st_size > 0, href
            assert (
                label
                in (
                    "步行可达性地图",
                    "新建设施选址地图",
                    "健身步道规划地图",
                    "规划报告",
                    "规划报告（Word 文档）",
                    "数据表（Excel 工作簿）",
                )
            ) == (language == "zh"), label
            if target.suffix != ".html":
                continue
            page = browser.open(target)
            assert page.exceptions == [] and page.console_errors == [] and page.dialogs == [], href
            # only basemap tiles may fail (no network here); every local resource loads
            assert all(entry.get("url", "").startswith("http") for entry in page.log_errors), (href, page.log_errors)
            if target.name == "report.html":
                lang = browser.evaluate("document.documentElement.lang")
                assert lang == ("zh-CN" if language == "zh" else "en"), href
        browser.open(run / "report.html")
        report_text = browser.evaluate("document.body.innerText")
        if language == "zh":
            words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", report_text))
            assert not words & raw_keys(run), sorted(words & raw_keys(run))
            assert "东胜区" in report_text and "Dongsheng" not in report_text
        else:
            assert "Dongsheng" in report_text and "东胜区" not in report_text


def test_every_figure_reads_the_same_in_every_output(sample_run):
    from _cross_check import cross_check

    cross_check(sample_run, "zh")


def _helsinki_study(folder: Path, network: Path) -> Path:
    """A user's study of central Helsinki (real OSM streets): two districts, residents on a grid, ten venues.

    The venues lie in the south-west only, so the north-east is outside the 15-minute circle and the plan
    has sites and a trail to place; the districts carry the share of residents aged 60+.
    """
    lo, hi, la, ha = 24.9356, 24.9530, 60.1645, 60.1785
    mid = (lo + hi) / 2
    districts = gpd.GeoDataFrame(
        {"adcode": ["X1", "X2"], "name": ["West", "East"], "share_60plus": [0.25, 0.15]},
        geometry=[shapely.box(lo, la, mid, ha), shapely.box(mid, la, hi, ha)],
        crs="EPSG:4326",
    )
    districts.to_file(folder / "districts.geojson", driver="GeoJSON")
    rng = np.random.default_rng(1)
    grid = [
        (x, y) for x in np.linspace(lo + 0.0005, hi - 0.0005, 16) for y in np.linspace(la + 0.0005, ha - 0.0005, 24)
    ]
    pd.DataFrame(
        {"lon": [p[0] for p in grid], "lat": [p[1] for p in grid], "population": rng.integers(5, 60, len(grid))}
    ).to_csv(folder / "population.csv", index=False)
    kinds = ["stadium", "gymnasium", "swimming_pool", "fitness_centre", "sports_park", "multi_sport_court"]
    kinds += ["school_venue", "school_venue", "school_venue", "fitness_path"]
    areas = [20_000, 3_000, 1_250, 2_500, 45_000, 800, 6_000, 5_000, 4_000, 200]
    venues = gpd.GeoDataFrame(
        {
            "facility_id": [f"V{i:02d}" for i in range(len(kinds))],
            "name": [f"venue {i}" for i in range(len(kinds))],
            "kind": kinds,
            "area_m2": [float(a) for a in areas],
            "open_to_public": [not (k == "school_venue" and i % 2 == 0) for i, k in enumerate(kinds)],
        },
        geometry=shapely.points(
            lo + 0.002 + 0.004 * rng.random(len(kinds)), la + 0.001 + 0.003 * rng.random(len(kinds))
        ),
        crs="EPSG:4326",
    )
    venues.to_file(folder / "facilities.geojson", driver="GeoJSON")
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "helsinki"\nlanguage = "en"\n\n[inputs]\nnetwork = "{network.as_posix()}"\n'
        'population = "population.csv"\nfacilities = "facilities.geojson"\nboundaries = "districts.geojson"\n\n'
        "[trails]\nbudget_m = 3000\nmin_trail_m = 500\n",
        encoding="utf-8",
    )
    return study


def test_a_real_extract_runs_through_the_cli_and_every_figure_agrees(helsinki_pbf, tmp_path, capsys):
    from _cross_check import cross_check

    from ordos_geo.cli import main

    study = _helsinki_study(tmp_path, helsinki_pbf)
    out = tmp_path / "out"
    assert main(["run", "--config", str(study), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["state"] == "complete" and summary["skipped"] == []
    # the plan has something to do on real streets: every site type, the sports-health centres, a trail
    assert {"sports_park", "fitness_centre", "multi_sport_court", "sports_health_centre"} <= set(
        summary["plan"]["sites"]
    )
    assert summary["plan"]["trails"]["n"] >= 1 and summary["citywide"]["population_underserved"] > 0
    after = pd.read_csv(out / "scorecard_after.csv").set_index("key")
    assert after.loc["new_sports_health_centres", "status"] == "met"
    assert (after.loc[[t.key for t in settings.PLANNER_TARGETS], "status"] == "not_computed").all()
    cross_check(out, "en")
    # a bad input is one line naming the file and the fix, never a traceback
    (tmp_path / "people.csv").write_text("x,y,people\n24.94,60.17,10\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["run", "--config", str(study), "--population", str(tmp_path / "people.csv"), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error and len(error.splitlines()) == 1
    assert "people.csv" in error and "--population-column" in error


def test_a_tiny_real_extract_without_districts_or_candidates_still_agrees(shared_data, tmp_path):
    """Munich's 200 m OSM extract, no districts: everyone served, nothing to site, no trail; all outputs agree."""
    from _cross_check import cross_check

    from ordos_geo.cli import main

    lo, la, hi, ha = 10.0683, 48.1352, 10.0707, 48.1368
    x, y = np.meshgrid(np.linspace(lo, hi, 6), np.linspace(la, ha, 6))
    people = np.arange(36) % 7 * 5 + 5
    pd.DataFrame({"lon": x.ravel(), "lat": y.ravel(), "population": people}).to_csv(
        tmp_path / "people.csv", index=False
    )
    venues = gpd.GeoDataFrame(
        {"name": ["court", "path"], "kind": ["multi_sport_court", "fitness_path"], "area_m2": [500.0, 200.0]},
        geometry=shapely.points([lo + 0.0002, lo + 0.0004], [la + 0.0002, la + 0.0001]),
        crs="EPSG:4326",
    )
    venues.to_file(tmp_path / "venues.geojson", driver="GeoJSON")
    args = ["--network", str(shared_data / "munich_small.osm"), "--population", str(tmp_path / "people.csv")]
    args += ["--facilities", str(tmp_path / "venues.geojson"), "--out", str(tmp_path / "out")]
    assert main(["run", *args]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["population"] == people.sum() and summary["citywide"]["population_underserved"] == 0
    assert {entry["stage"] for entry in summary["skipped"]} >= {"siting", "trails"}
    cross_check(tmp_path / "out", "zh")
