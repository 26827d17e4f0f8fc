"""The planner's deliverables of a sample run: right numbers, the right citation, every label in the chosen language."""

from __future__ import annotations

import html
import re

import geopandas as gpd
import pandas as pd
import pytest

from ordos_geo import _labels, settings

pytestmark = pytest.mark.slow

#: Site types of the plan and their scorecard keys (the plan's build targets).
NEW_COUNT_KEYS = {
    "sports_park": "new_sports_parks",
    "fitness_centre": "new_fitness_centres",
    "multi_sport_court": "new_multi_sport_courts",
}
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
    # the report's first table is the scorecard after the plan
    first_table = (sample_run / "report.md").read_text(encoding="utf-8").split("\n## ")[1]
    lines = [line.strip("| ").split(" | ") for line in first_table.splitlines() if line.startswith("| ")]
    header, rows = lines[0], {row[0]: row for row in lines[2:]}
    for kind, key in NEW_COUNT_KEYS.items():
        expected = int(counts.get(kind, 0))
        assert expected > 0, kind
        assert after.loc[key, "value"] == expected, key
        row = rows[_labels.target(key, "zh")]
        assert row[header.index("现值")] == str(expected), key
    trails = gpd.read_file(sample_run / "trails.gpkg", layer="planned")
    assert after.loc["new_fitness_trails_km", "value"] == pytest.approx(trails["length_m"].sum() / 1000, rel=1e-9)


def test_index_links_every_page_with_its_name(sample_run):
    index = (sample_run / "index.html").read_text(encoding="utf-8")
    links = dict(re.findall(r'<a href="([^"]+)">([^<]+)</a>', index))
    pages = {p.name for p in sample_run.glob("*.html")} - {"index.html"}
    assert set(links) == pages
    assert links["sites.html"] == "新建设施选址地图"
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
