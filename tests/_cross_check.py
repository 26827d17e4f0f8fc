"""One run's figures read back from every output a planner hands on, and checked to agree.

The same quantity (population shares within 300/500/1,000 m, residents outside the 15-minute circle,
per-capita venue area, the open-school share, each scorecard target today and after the plan, the
residents each new site and trail reaches) must read the same in summary.json, the CSV tables, the
Excel workbook (openpyxl), the report (report.md and report.docx, read with python-docx) and the map
popups and legends. The tables are also checked against the cells of ``accessibility.gpkg`` counted by
hand, so a figure wrong everywhere at once fails too.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from ordos_geo import _labels

CITYWIDE = "citywide"
TIERS_M = (300, 500, 1000)
#: Scorecard targets and the citywide indicator they read.
TARGET_INDICATORS = {
    "per_capita_area_2024": "per_capita_area_m2",
    "per_capita_area_2025": "per_capita_area_m2",
    "open_school_share": "open_school_share",
    "fitness_circle_300m": "share_within_300m",
    "fitness_circle_500m": "share_within_500m",
    "fitness_circle_15min": "share_within_1000m",
}


def shown(value: float, kind: str) -> str:
    """A number as the report writes it, formatted here by hand (share, people or m² per resident)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "whole":
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def number(value: object) -> float:
    """A workbook cell as a number (an empty cell is NaN)."""
    return float("nan") if value is None else float(value)  # type: ignore[arg-type]


def markdown_row(line: str) -> list[str]:
    """The cells of a report.md table row (``| a | b \\| c |`` -> ``["a", "b | c"]``), unescaped."""
    return [html.unescape(c.replace("\\|", "|")) for c in re.split(r" (?<!\\)\| ", line.strip("| "))]


def markdown_tables(text: str) -> dict[str, list[dict[str, str]]]:
    """The first table under each ``##``/``###`` heading of report.md, as rows of header -> cell."""
    tables: dict[str, list[dict[str, str]]] = {}
    for section in re.split(r"\n#{2,3} ", text)[1:]:
        heading, _, body = section.partition("\n")
        lines = [line for line in body.splitlines() if line.startswith("| ")]
        if not lines or heading in tables:
            continue
        split = [markdown_row(line) for line in lines]
        tables[heading] = [dict(zip(split[0], row, strict=True)) for row in split[2:]]
    return tables


def docx_tables(path: Path) -> list[list[list[str]]]:
    docx = pytest.importorskip("docx")
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in docx.Document(path).tables]


def workbook(path: Path) -> dict[str, list[dict[str, object]]]:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(path)
    sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        sheets[sheet.title] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    return sheets


def popups(page: str, key: str = "_pop") -> list[dict[str, str]]:
    """Every popup (or tooltip) table of a map page: header -> cell text."""
    out = []
    for raw in re.findall(rf'"{key}":("(?:[^"\\]|\\.)*")', page):
        text = json.loads(raw)
        cells = re.findall(r"<th>(.*?)</th><td>(.*?)</td>", text)
        title = re.search(r"<b>(.*?)</b>", text)
        row = {html.unescape(th): html.unescape(td) for th, td in cells}
        row["_title"] = html.unescape(title.group(1)) if title else ""
        out.append(row)
    return out


@dataclass
class Outputs:
    """A run's outputs, read once."""

    run: Path
    language: str
    summary: dict
    indicators: pd.DataFrame
    md_text: str
    md: dict[str, list[dict[str, str]]]
    book: dict[str, list[dict[str, object]]]
    cells: gpd.GeoDataFrame
    today: pd.DataFrame
    after: pd.DataFrame

    @property
    def text(self) -> Mapping[str, str]:
        return _labels.text(self.language)

    def col(self, key: str) -> str:
        return _labels.column(key, self.language)


def cross_check(run: Path, language: str) -> None:
    """Assert that every figure of the run at ``run`` reads the same in every output."""
    md_text = (run / "report.md").read_text(encoding="utf-8")
    out = Outputs(
        run=run,
        language=language,
        summary=json.loads((run / "summary.json").read_text(encoding="utf-8")),
        indicators=pd.read_csv(run / "indicators.csv").set_index("district"),
        md_text=md_text,
        md=markdown_tables(md_text),
        book=workbook(run / "tables.xlsx"),
        cells=gpd.read_file(run / "accessibility.gpkg", layer="cells"),
        today=pd.read_csv(run / "scorecard.csv").set_index("key"),
        after=pd.read_csv(run / "scorecard_after.csv").set_index("key"),
    )
    check_districts(out)
    check_word_matches_report(out)
    check_scorecard(out)
    check_sites(out)
    check_trails(out)
    check_underserved(out)


def check_districts(out: Outputs) -> None:
    """The districts' figures: from the cells by hand, the CSV, summary.json, the workbook and the report."""
    text, col = out.text, out.col
    district_rows = {row[col("district")]: row for row in out.md[text["districts"]]}
    sheet_rows = {row[col("district")]: row for row in out.book[text["sheet_indicators"]]}
    shown_districts = [d for d in out.indicators.index if out.indicators.loc[d, "population"] > 0]
    for district in shown_districts:
        mask = np.ones(len(out.cells), bool) if district == CITYWIDE else (out.cells["district"] == district).to_numpy()
        people = out.cells.loc[mask, "population"].to_numpy(dtype=float)
        row = out.indicators.loc[district]
        # the total row reads "study area" (研究区合计) unless the study covers the whole city (全市)
        label = next(
            n
            for n in (_labels.district(district, out.language), _labels.STUDY_AREA[out.language].get(district))
            if n in district_rows
        )
        for t in TIERS_M:
            by_hand = people[out.cells.loc[mask, f"covered_{t}m"].astype(bool).to_numpy()].sum() / people.sum()
            assert row[f"share_within_{t}m"] == pytest.approx(by_hand, rel=1e-9), (district, t)
        underserved = people[out.cells.loc[mask, "underserved"].astype(bool).to_numpy()].sum()
        assert row["population_underserved"] == pytest.approx(underserved), district
        figures = {f"share_within_{t}m": "share" for t in TIERS_M}
        figures |= {"population": "whole", "population_underserved": "whole", "per_capita_area_m2": "m2"}
        figures |= {"open_school_share": "share"}
        for key, kind in figures.items():
            assert district_rows[label][col(key)] == shown(row[key], kind), (district, key)
            assert number(sheet_rows[label][col(key)]) == pytest.approx(row[key], nan_ok=True), (district, key)
        if district == CITYWIDE:
            for key in (*figures, "venue_area_m2", "n_school_venues_open"):
                assert out.summary["citywide"][key] == pytest.approx(row[key], nan_ok=True), key


def check_word_matches_report(out: Outputs) -> None:
    """The report and the Word document hold the same tables, cell for cell."""
    lines = [line for line in out.md_text.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    md_cells = [markdown_row(line) for line in lines]
    word_cells = [row for table in docx_tables(out.run / "report.docx") for row in table]
    assert word_cells == md_cells


def check_scorecard(out: Outputs) -> None:
    """The scorecard, today and after the plan: the CSVs, the indicators, summary.json, workbook and report."""
    text, col = out.text, out.col
    before_after = pd.read_csv(out.run / "before_after.csv").set_index(["district", "indicator"])
    # the index page shows the report's scorecard, cell for cell
    index = (out.run / "index.html").read_text(encoding="utf-8")
    first = re.search(r"<table.*?</table>", index, flags=re.S).group(0)
    rows = [
        re.findall(r"<t[hd]>(.*?)</t[hd]>", tr, flags=re.S)
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", first, flags=re.S)
    ]
    card = out.md[text["scorecard_plan"]]
    assert [[html.unescape(c) for c in row] for row in rows] == [list(card[0]), *[list(r.values()) for r in card]]
    for key, indicator in TARGET_INDICATORS.items():
        assert out.today.loc[key, "value"] == pytest.approx(out.indicators.loc[CITYWIDE, indicator], nan_ok=True), key
        assert out.after.loc[key, "value"] == pytest.approx(
            out.summary["citywide_after_plan"][indicator], nan_ok=True
        ), key
        if (CITYWIDE, indicator) in before_after.index:
            assert out.after.loc[key, "value"] == pytest.approx(before_after.loc[(CITYWIDE, indicator), "after"]), key
    card_rows = {(r[col("description")], r[col("year")]): r for r in out.md[text["scorecard_plan"]]}
    card_sheet = {(r[col("description")], r[col("year")]): r for r in out.book[text["sheet_scorecard_plan"]]}
    assert len(card_rows) == len(out.today) == len(out.after)
    for key in out.today.index:
        target = _labels.target(key, out.language)
        row = card_rows[(target, str(out.today.loc[key, "year"]))]
        sheet = card_sheet[(target, out.today.loc[key, "year"])]
        kind = "share" if out.today.loc[key, "unit"] == "share" else "m2"
        assert row[col("value")] == shown(out.today.loc[key, "value"], kind), key
        assert row[col("value_after")] == shown(out.after.loc[key, "value"], kind), key
        assert row[col("status")] == _labels.status(out.today.loc[key, "status"], out.language), key
        assert row[col("status_after")] == _labels.status(out.after.loc[key, "status"], out.language), key
        # the target as given ("–" where the plans give no figure: those rows are "no target", never "not met")
        assert row[col("target")] == shown(out.today.loc[key, "target"], kind), key
        assert number(sheet[col("target")]) == pytest.approx(out.today.loc[key, "target"], nan_ok=True), key
        no_target = bool(np.isnan(out.today.loc[key, "target"]))
        assert (
            (out.today.loc[key, "status"] == "no_target") == no_target == (out.after.loc[key, "status"] == "no_target")
        )
        assert number(sheet[col("value")]) == pytest.approx(out.today.loc[key, "value"], nan_ok=True), key
        assert number(sheet[col("value_after")]) == pytest.approx(out.after.loc[key, "value"], nan_ok=True), key


def check_sites(out: Outputs) -> None:
    """The new sites: the plan's counts, the residents each newly covers, in every output."""
    text, col = out.text, out.col
    plan = out.summary.get("plan", {})
    if (out.run / "sites.gpkg").is_file():
        sites = gpd.read_file(out.run / "sites.gpkg", layer="sites")
        counts = sites["site_type"].value_counts()
        for site_type, key in {
            "sports_park": "new_sports_parks",
            "fitness_centre": "new_fitness_centres",
            "multi_sport_court": "new_multi_sport_courts",
            "sports_health_centre": "new_sports_health_centres",
        }.items():
            assert out.after.loc[key, "value"] == counts.get(site_type, 0), key
            assert plan["sites"].get(site_type, {}).get("n", 0) == counts.get(site_type, 0), key
        n_health = (
            out.summary["citywide_after_plan"]["n_sports_health_centre"]
            - out.summary["citywide"]["n_sports_health_centre"]
        )
        assert n_health == counts.get("sports_health_centre", 0)
        site_rows = out.md[text["sites"]]
        ranked = {(r[col("candidate_id")], r[col("site_type")]): r for r in out.book[text["sheet_sites"]]}
        pops = popups((out.run / "sites.html").read_text(encoding="utf-8"))
        for i, site in sites.iterrows():
            newly = site["newly_covered_population"]
            assert site_rows[i][col("name")] == site["name"]
            assert site_rows[i][col("newly_covered_population")] == shown(newly, "whole"), site["name"]
            sheet_row = ranked[(site["candidate_id"], _labels.kind(site["site_type"], out.language))]
            assert sheet_row[col("newly_covered_in_plan")] == pytest.approx(newly), site["name"]
            # its star (the plan) and its square among the ranked candidates, which gives the plan's figure too
            kind = _labels.kind(site["site_type"], out.language)
            popup = [
                p.get(col("newly_covered_in_plan"), p[text["newly_covered"]])
                for p in pops
                if p["_title"] == site["name"]
                and p[text["candidate_id"]] == site["candidate_id"]
                and p[text["kind"]] == kind
            ]
            assert len(popup) >= 1 and set(popup) == {shown(newly, "whole")}, (site["name"], popup)
        for site_type, group in sites.groupby("site_type"):
            assert plan["sites"][site_type]["newly_covered_population"] == pytest.approx(
                group["newly_covered_population"].sum()
            )


def check_trails(out: Outputs) -> None:
    """The planned trails: each one's residents in the GeoPackage, report and popups; their total everywhere."""
    text, col = out.text, out.col
    plan = out.summary.get("plan", {})
    if (out.run / "trails.gpkg").is_file() and "trails" in plan and plan["trails"]["n"]:
        planned = gpd.read_file(out.run / "trails.gpkg", layer="planned")
        report_rows = {r[col("trail_id")]: r for r in out.md[text["trails"]]}
        trail_pops = {
            p[col("trail_id")]: p
            for p in popups((out.run / "trails.html").read_text(encoding="utf-8"))
            if col("trail_id") in p
        }
        for _, trail in planned.iterrows():
            trail_id = str(trail["trail_id"])
            reached = shown(trail["population_reached"], "whole")
            assert report_rows[trail_id][col("population_reached")] == reached, trail_id
            assert trail_pops[trail_id][col("population_reached")] == reached, trail_id
            share = shown(trail["share_of_network_shape"], "share")
            assert (
                report_rows[trail_id][col("share_of_network_shape")]
                == share
                == trail_pops[trail_id][col("share_of_network_shape")]
            )
        assert out.after.loc["new_fitness_trails_km", "value"] == pytest.approx(planned["length_m"].sum() / 1000)
        assert plan["trails"]["length_km"] == pytest.approx(planned["length_m"].sum() / 1000)
        report_csv = pd.read_csv(out.run / "trail_report.csv")
        total = report_csv[(report_csv["level"] == "total") & (report_csv["trails"] == "planned")]
        assert plan["trails"]["underserved_reached"] == pytest.approx(total["reached_after"].iloc[0])
        assert (
            text["trails_total"].format(
                n=len(planned),
                length=shown(planned["length_m"].sum(), "whole"),
                reached=shown(plan["trails"]["underserved_reached"], "whole"),
            )
            in out.md_text
        )
        # The bound line: the plan's bound, its share and gap, and the network shape, from trails.gpkg.
        first = planned.iloc[0]
        reached = plan["trails"]["underserved_reached"]
        assert (
            text["trails_bound"].format(
                bound=shown(first["upper_bound"], "whole"),
                shape=text[f"bound_for_{first['bound_shape']}"],
                reached=shown(reached, "whole"),
                share=shown(reached / first["upper_bound"], "share"),
                gap=shown(first["gap"], "share"),
                network=shown(first["network_shape_reached"], "whole"),
            )
            in out.md_text
        )


def check_underserved(out: Outputs) -> None:
    """The residents outside the 15-minute circle: cells, neighbourhoods, indicators, summary, map legend."""
    text, col = out.text, out.col
    neighbourhoods = gpd.read_file(out.run / "accessibility.gpkg", layer="underserved")
    total = float(out.cells.loc[out.cells["underserved"].astype(bool), "population"].sum())
    assert neighbourhoods["population"].sum() == pytest.approx(total)
    assert out.summary["citywide"]["population_underserved"] == pytest.approx(total)
    assert out.indicators.loc[CITYWIDE, "population_underserved"] == pytest.approx(total)
    coverage = (out.run / "coverage.html").read_text(encoding="utf-8")
    legend = re.findall(re.escape(text["underserved"]) + r"\W+\w+ ([\d,]+)", coverage, flags=re.I)
    assert legend == ([shown(total, "whole")] if total > 0 else [])  # no layer when everyone is served
    if (out.run / "after_plan.gpkg").is_file():  # the same once the plan is built
        still = gpd.read_file(out.run / "after_plan.gpkg", layer="underserved")["population"].sum()
        assert out.summary["citywide_after_plan"]["population_underserved"] == pytest.approx(still)
        legend = re.findall(re.escape(text["underserved_after"]) + r"\W+\w+ ([\d,]+)", coverage, flags=re.I)
        assert legend == ([shown(still, "whole")] if still > 0 else [])
    tips = popups(coverage, "_tip")
    neighbourhood_tips = [t for t in tips if col("population") in t and t["_title"].startswith(text["neighbourhood"])]
    by_tip = sum(float(t[col("population")].replace(",", "")) for t in neighbourhood_tips)
    assert by_tip >= total - 0.5 * len(neighbourhoods)  # today's outlines (after-plan ones may follow)
