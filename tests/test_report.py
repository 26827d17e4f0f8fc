"""Tests of ordos_geo.report: content, escaping, charts, and the page in a real browser."""

from __future__ import annotations

import base64
import html
import io
import re

import numpy as np
import pandas as pd
import pytest
from _map_fixtures import XSS_NAME, make_indicators, make_layers, make_scorecard

from ordos_geo import _offline_assets, report
from ordos_geo._errors import InputDataError
from ordos_geo.report.tables import _display_rows

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def layers():
    return make_layers()


@pytest.fixture(scope="module")
def full_report(layers):
    before_after = pd.DataFrame(
        {"indicator": ["share_within_1000m", "per_capita_area_m2"], "before": [0.72, 2.93], "after": [0.81, 3.02]}
    )
    return report.build_report(
        make_scorecard(),
        make_indicators(),
        cells=layers.cells,
        sites=layers.facilities.iloc[:2],
        trails=layers.facilities.iloc[[4]],
        before_after=before_after,
        language="en",
    )


def test_html_is_self_contained_with_embedded_charts(full_report):
    page = full_report.html
    assert _offline_assets.external_resources(page) == []
    assert re.search(r"<(script|link)\b", page) is None
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(e) for e in embedded] == list(full_report.charts.values())
    assert list(full_report.charts) == list(report.CHART_NAMES)
    for png in full_report.charts.values():
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def test_markdown_references_chart_files(full_report):
    md = full_report.markdown
    for name in report.CHART_NAMES:
        assert f"](charts/{name})" in md
    assert "data:image" not in md
    assert "| per-capita sports venue area | 3.5 | 2.9 | m² per resident | ✗ not met | 0.6 |" in md
    # a share target is shown as percentages
    assert "| population share within a 1,000 m walk of a venue | 100.0% | 72.0% | share | ✗ not met | 28.0% |" in md
    # shares shown as percentages, district rows present
    assert "| Kangbashi | 120,000 | 4.1 | 45.0% | 66.0% | 82.0% |" in md


def test_sections_for_sites_trails_before_after(full_report, layers):
    for heading in (
        "Plan scorecard",
        "Indicators by district",
        "Chosen new sites",
        "Fitness trails",
        "Before and after",
    ):
        assert heading in full_report.html and heading in full_report.markdown
    # trail length added from the projected geometry: the fixture line is 290.17 m + 290.69 m
    trail = layers.facilities.geometry.iloc[4]
    assert f"| {trail.length:,.0f} |" in full_report.markdown  # metres shown whole
    assert "Court A" in full_report.html and "Court B" in full_report.html


def test_values_are_escaped(full_report):
    for text in (full_report.html, full_report.markdown):
        assert XSS_NAME not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    frame = make_scorecard().assign(description=["x", "y", "a | b"])
    md = report.build_report(frame, make_indicators()).markdown
    assert "a \\| b" in md


def test_synthetic_note_and_language(layers):
    zh = report.build_report(make_scorecard(), make_indicators(), language="zh")
    assert "规划目标评分卡" in zh.html and "合成样例" in zh.html and "合成样例" in zh.markdown
    assert "synthetic" not in zh.html and "synthetic" not in zh.markdown
    plain = report.build_report(make_scorecard(), make_indicators(), language="en", synthetic=False)
    assert "synthetic sample" not in plain.html and "synthetic sample" not in plain.markdown
    assert "合成样例" not in plain.html
    with pytest.raises(InputDataError, match="language"):
        report.build_report(make_scorecard(), make_indicators(), language="fr")


def test_charts_are_deterministic(layers):
    first = report.build_report(make_scorecard(), make_indicators(), cells=layers.cells)
    second = report.build_report(make_scorecard(), make_indicators(), cells=layers.cells)
    assert first.charts == second.charts
    assert first.html == second.html


def test_distance_histogram_matches_hand_count(layers):
    edges, population, unreachable = report.distance_histogram(layers.cells)
    # cells i = 0..28 at 150 i m with population 10 + i; cell 29 (population 39) unreachable
    assert unreachable == 39.0
    assert edges[0] == 0 and edges[1] == 250 and edges[-1] >= 28 * 150
    assert population[0] == 10 + 11  # 0 m and 150 m
    assert population[1] == 12 + 13  # 300 m and 450 m
    assert population.sum() == sum(10 + i for i in range(29))


def test_distance_band_shares_from_indicators():
    labels, shares = report.distance_band_shares(make_indicators())
    assert labels == ["0–300", "300–500", "500–1,000", "> 1,000"]
    assert shares == pytest.approx([0.325, 0.543 - 0.325, 0.72 - 0.543, 0.28])
    assert sum(shares) == pytest.approx(1.0)


def test_report_without_cells_draws_band_chart():
    result = report.build_report(make_scorecard(), make_indicators(), language="en")
    assert result.charts["distance_distribution.png"].startswith(PNG_MAGIC)


def test_bad_inputs_are_named():
    with pytest.raises(InputDataError, match=r"scorecard.*met"):
        report.build_report(make_scorecard().drop(columns="met"), make_indicators())
    with pytest.raises(InputDataError, match="indicators"):
        report.build_report(make_scorecard(), [1, 2])
    cells = pd.DataFrame({"population": [1.0], "distance": [np.inf]})
    with pytest.raises(InputDataError, match="dist_m_any"):
        report.build_report(make_scorecard(), make_indicators(), cells=cells)


@pytest.mark.browser
def test_browser_report_page(full_report, tmp_path):
    from _browser import Browser, find_chromium

    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped")
    pytest.importorskip("websocket", reason="websocket-client is not installed; browser test skipped")
    path = tmp_path / "report.html"
    path.write_text(full_report.html, encoding="utf-8")
    with Browser(executable) as browser:
        page = browser.open(path)
        assert page.exceptions == [] and page.console_errors == [] and page.dialogs == [] and page.log_errors == []
        info = browser.evaluate(
            """({images: Array.from(document.images).map(i => [i.complete, i.naturalWidth]),
                tables: document.querySelectorAll('table').length,
                text: document.body.textContent})"""
        )
        assert len(info["images"]) == 3 and all(done and width > 500 for done, width in info["images"])
        assert info["tables"] == 5
        assert XSS_NAME in info["text"]
        browser.screenshot(tmp_path / "report.png")


def test_districts_outside_the_study_are_left_out_and_years_are_plain():
    indicators = pd.concat(
        [
            make_indicators(),
            pd.DataFrame({"district": ["Uxin"], "population": [0.0], "per_capita_area_m2": [np.nan]}),
        ],
        ignore_index=True,
    )
    scorecard = make_scorecard().assign(year=[2025, 2025, 2024])
    built = report.build_report(scorecard, indicators, synthetic=False, language="en")
    assert "Uxin" not in built.html and "Uxin" not in built.markdown
    assert "Kangbashi" in built.html
    assert "<td>2025</td>" in built.html and "2,025" not in built.html


def _gap_table():
    from ordos_geo.indicators import area_gap

    indicators = make_indicators().assign(venue_area_m2=[1_500_000.0, 500_000.0, 2_000_000.0])
    levers = {
        "new_sites": {"Dongsheng": 30_000.0},
        "trails": {"Dongsheng": 20_000.0},
        "open_schools": {"Dongsheng": 100_000.0, "Kangbashi": 50_000.0},
        "larger_sites": {},
    }
    return indicators, area_gap(indicators, levers)


def test_gap_section_gives_the_missing_area_and_each_lever(layers):
    indicators, gap = _gap_table()
    built = report.build_report(make_scorecard(), indicators, area_gap=gap, language="en", synthetic=False)
    md = built.markdown
    assert "## Gap to target" in md
    # citywide, 3.4 m²: 720,000 x 3.4 - 2,000,000 = 448,000 today; after the plan (sites and trails) 398,000
    assert "the city lacks 448,000 m² of venue area today; 398,000 m² after the plan" in md
    # 2025, 3.5 m²: 520,000 missing; opening schools then leaves 520,000 - 200,000 = 320,000
    assert "| Citywide | 2025 | 3.5 | 720,000 | 2,000,000 | 2,520,000 | 520,000 | 470,000 | 320,000 |" in md
    # lever shares of today's gap: 150,000 / 448,000 and / 520,000
    assert "| Opening the closed school venues | 150,000 | 33.5% | 28.8% |" in md
    assert set(built.tables) >= {"gap", "gap_levers"}


def test_word_document_has_the_report_sections_tables_and_charts(layers):
    docx = pytest.importorskip("docx")
    indicators, gap = _gap_table()
    built = report.build_report(
        make_scorecard(),
        indicators,
        area_gap=gap,
        cells=layers.cells,
        sites=layers.facilities.iloc[:2],
        language="zh",
    )
    document = docx.Document(io.BytesIO(report.to_docx(built)))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    html_headings = [html.unescape(h) for h in re.findall(r"<h[23]>(.*?)</h[23]>", built.html)]
    assert headings == html_headings
    assert len(document.tables) == built.html.count("<table")
    assert len(document.inline_shapes) == len(report.CHART_NAMES)
    scorecard_table = document.tables[0]
    assert [c.text for c in scorecard_table.rows[0].cells] == ["指标", "目标值", "现值", "单位", "是否达标", "差距"]
    assert scorecard_table.rows[1].cells[0].text == "人均体育场地面积"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "合成样例" in text and "东胜区" in "".join(c.text for t in document.tables for r in t.rows for c in r.cells)


def test_workbook_sheets_are_translated_and_numeric():
    indicators, gap = _gap_table()
    empty = pd.DataFrame({"district": ["Uxin"], "population": [0.0], "venue_area_m2": [0.0]})
    tables = {
        "scorecard": make_scorecard(),
        "indicators": pd.concat([indicators, empty], ignore_index=True),
        "gap": gap,
    }
    sheets, formats = report.workbook_sheets(tables, "zh")
    assert list(sheets) == ["评分卡（现状）", "分区指标", "距目标差距"]
    card = sheets["评分卡（现状）"]
    assert list(card.columns) == ["指标", "目标值", "现值", "单位", "是否达标", "差距"]
    assert card["是否达标"].tolist() == ["未达标", "未达标", "达标"]
    assert card["现值"].tolist() == [2.9, 0.72, 10.4]
    districts = sheets["分区指标"]
    assert districts["旗区"].tolist() == ["东胜区", "康巴什区", "全市"]  # Uxin (no residents, no venues) left out
    assert formats["分区指标"]["300 m 内人口比例"] == "0.0%"
    assert formats["分区指标"]["年份" if "年份" in districts else "人口"] == "#,##0.00"


def test_further_sections_by_heading_key():
    opening = pd.DataFrame({"district": ["Dongsheng"], "required": [5], "opened": [5], "open_share_after": [0.625]})
    built = report.build_report(
        make_scorecard(), make_indicators(), extra_tables={"school_opening_districts": opening}, language="zh"
    )
    assert "学校体育场馆开放：各区达到 60% 所需开放数" in built.markdown
    assert "62.5%" in built.markdown
    with pytest.raises(InputDataError, match="no heading for table 'nonsense'"):
        report.build_report(make_scorecard(), make_indicators(), extra_tables={"nonsense": opening})


def test_people_metres_and_square_metres_are_whole_numbers_and_a_trail_gap_a_share():
    sites = pd.DataFrame(
        {
            "newly_covered_population": [848.7, 38215.2],
            "distance_to_nearest_same_kind_m": [950.89, 4773.4],
            "added_venue_area_m2": [812.5, 20000.0],
            "delta_per_capita_area_city_m2": [0.0625, 0.125],
        }
    )
    headers, rows, _ = _display_rows(sites, "zh")
    assert headers == ["新增覆盖人口", "距最近同类设施 (m)", "新增场地面积 (m²)", "全市人均面积增加 (m²)"]
    assert rows == [["849", "951", "812", "0.06"], ["38,215", "4,773", "20,000", "0.12"]]
    trails = pd.DataFrame({"length_m": [6005.2], "upper_bound": [31174.4], "gap": [0.2702]})
    assert _display_rows(trails, "zh")[1] == [["6,005", "31,174", "27.0%"]]


def test_trail_shapes_are_named_in_the_readers_language():
    trails = pd.DataFrame({"trail_id": [1, 2], "shape": ["loop", "route"], "bound_shape": ["loop", "network"]})
    zh = report.localize(trails, "zh")
    assert zh["shape"].tolist() == ["环线（闭合）", "线路（起终点不同）"]
    assert zh["bound_shape"].tolist() == ["环线（闭合）", "树状网络"]
    assert report.localize(trails, "en")[["shape", "bound_shape"]].equals(trails[["shape", "bound_shape"]])


def test_only_scored_targets_are_coloured_met_or_not_met():
    """A target without a value (unknown, not computed) or a measure without a target is neither met nor missed."""
    import re

    from ordos_geo import indicators

    values = {"district": ["citywide"], "per_capita_area_m2": [3.5], "share_within_500m": [0.5]}
    card = indicators.scorecard(pd.DataFrame(values | {"share_within_1000m": [0.8]}))
    statuses = card["status"].tolist()
    assert {"met", "not_met", "not_computed", "no_target"} <= set(statuses)  # the cases this test is for
    body = report.html_table(card, "en").split("<tbody>")[1]
    coloured = [found or "" for found in re.findall(r'<tr(?: class="([^"]+)")?>', body)]
    expected = {"met": "met", "not_met": "not-met"}
    assert coloured == [expected.get(status, "") for status in statuses]


@pytest.mark.parametrize(
    ("language", "headers", "not_computed"),
    [
        (
            "zh",
            ["指标", "年份", "目标值", "现值", "规划实施后", "单位", "现状是否达标", "规划实施后是否达标"],
            "本工具不计算",
        ),
        ("en", ["Target", "Year", "Target value", "Value", "After the plan"], "not computed by this tool"),
    ],
)
def test_scorecard_shows_each_target_today_and_after_the_plan(language, headers, not_computed):
    from ordos_geo import _labels, indicators, settings

    today = indicators.scorecard(
        pd.DataFrame(
            {
                "district": ["citywide"],
                "per_capita_area_m2": [3.0],
                "share_within_500m": [0.5],
                "share_within_1000m": [0.8],
            }
        )
    )
    after = indicators.scorecard(
        pd.DataFrame(
            {
                "district": ["citywide"],
                "per_capita_area_m2": [3.45],
                "share_within_500m": [1.0],
                "share_within_1000m": [1.0],
            }
        ),
        new_counts={"new_sports_health_centres": 2},
    )
    built = report.build_report(today, make_indicators(), scorecard_after=after, language=language, synthetic=False)
    first = built.markdown.split("\n## ")[1]
    lines = [line.strip("| ").split(" | ") for line in first.splitlines() if line.startswith("| ")]
    header, rows = lines[0], lines[2:]
    assert header[: len(headers)] == headers
    by_target = {(row[0], row[1]): dict(zip(header, row, strict=True)) for row in rows}
    every = (*settings.PLAN_TARGETS, *settings.PLANNER_TARGETS)
    assert len(rows) == len(every)  # one row per target, none left out
    value, after_column, status, status_after = header[3], header[4], header[6], header[7]
    area = by_target[(_labels.target("per_capita_area_2024", language), "2024")]
    assert (area[value], area[after_column]) == ("3", "3.45")
    assert area[status].endswith(_labels.text(language)["not_met"]) and area[status_after].startswith("✓")
    target_column = "目标值" if language == "zh" else "Target value"
    circle = by_target[(_labels.target("fitness_circle_15min", language), "2025")]
    assert (circle[target_column], circle[value], circle[after_column]) == ("100.0%", "80.0%", "100.0%")
    assert (circle[status], circle[status_after]) == (
        _labels.status("not_met", language),
        _labels.status("met", language),
    )
    # the 500 m tier: the plans give it no figure, so its shares are shown with no target, not "not met" against 100 %
    walk = by_target[(_labels.target("fitness_circle_500m", language), "2025")]
    no_target = _labels.status("no_target", language)
    assert (walk[target_column], walk[value], walk[after_column]) == ("–", "50.0%", "100.0%")
    assert (walk[status], walk[status_after]) == (no_target, no_target)
    assert no_target == {"zh": "无目标（规划未给出数值）", "en": "no target (the plans give no figure)"}[language]
    health = by_target[(_labels.target("new_sports_health_centres", language), "2024")]
    assert (health[target_column], health[after_column]) == ("2", "2")
    for target in settings.PLANNER_TARGETS:
        row = by_target[(_labels.target(target.key, language), str(target.year))]
        assert not_computed in row[status] and not_computed in row[status_after], target.key
    assert "scorecard_plan" in built.tables and "scorecard_after" not in built.tables


_ZH_BOUND_LINE = "任何方案覆盖的人口都不超过 40,000 人（可证明的上界，证明适用于环线）；" + (
    "本方案覆盖 22,624 人，为上界的 56.6%，差距 43.4%。"
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "No plan within the same budget and trail rules can reach more than 40,000 residents (an upper bound "
            "proven for loops); this plan reaches 22,624, 56.6% of it, a gap of 43.4%.",
        ),
        ("zh", _ZH_BOUND_LINE),
    ],
)
def test_the_trail_plans_bound_and_gap_are_said_under_the_trail_table(layers, language, expected):
    trails = layers.facilities.iloc[[4]].copy()
    trails["length_m"] = 9_733.9
    trails["upper_bound"] = 40_000.0
    trails["gap"] = 1 - 22_624 / 40_000
    trails["bound_shape"] = "loop"
    trails["network_shape_reached"] = 25_565.0
    built = report.build_report(
        make_scorecard(), make_indicators(), trails=trails, trails_reached=22_624.0, language=language
    )
    (line,) = [block[1] for block in built.blocks if block[0] == "p" and "40,000" in block[1]]
    assert expected in line
    assert line.index("25,565") > line.index(expected) + len(expected)  # the network shape, after the gap
    # Without a bound (a checked plan, or an older table) the line is left out.
    plain = report.build_report(
        make_scorecard(), make_indicators(), trails=trails.drop(columns="upper_bound"), trails_reached=22_624.0
    )
    assert not [block for block in plain.blocks if block[0] == "p" and "40,000" in block[1]]
