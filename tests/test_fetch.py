"""Online fetch, tested offline at the HTTP layer (and once for real under the `network` marker).

The answers in tests/data/recorded/ were written by hand from the documented formats (see its README);
`responses` serves them under osmnx and `requests`, so osmnx builds and sends its real queries and the
tests read exactly what went over the wire. URLs below are written out, not taken from the code.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
import urllib.parse
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import rasterio
import requests
import responses
import shapely

from ordos_geo import fetch, io, settings
from ordos_geo._errors import ConfigError, FetchError
from ordos_geo.cli import main
from ordos_geo.config import FetchConfig, StudyConfig

RECORDED = Path(__file__).parent / "data" / "recorded"
OVERPASS = "https://overpass-api.de/api"
MIRROR = "https://overpass.private.coffee/api"
WORLDPOP_BSGM = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif"
)
WORLDPOP_MAXAR = (
    "https://data.worldpop.org/GIS/Population/Global_2000_2020_Constrained/2020/maxar_v1/CHN/"
    "chn_ppp_2020_constrained.tif"
)
#: WorldPop's 2020 age and sex grids of women and men aged 60-64 ... 80+, in the country folder; f_60 is
#: missing there in this recording and served by the BSGM mirror.
AGES = "https://data.worldpop.org/GIS/AgeSex_structures/Global_2000_2020_Constrained/2020/"
AGE_URLS = [f"{AGES}CHN/chn_{sex}_{age}_2020_constrained.tif" for sex in ("f", "m") for age in (60, 65, 70, 75, 80)]
AGE_F60_BSGM = AGES + "BSGM/CHN/chn_f_60_2020_constrained.tif"
AGE_URLS_REQUESTED = [AGE_URLS[0], AGE_F60_BSGM, *AGE_URLS[1:]]
AGE_GROUP_SHARE = 0.015  # each recorded age grid: 1.5 % of the total in every cell
BOX = shapely.box(109.995, 39.795, 110.005, 39.805)  # tests/data/recorded/boundaries.geojson
TIF = (RECORDED / "worldpop_chn_tiny.tif").read_bytes()
TIF_HEADERS = {
    **json.loads((RECORDED / "worldpop_headers.json").read_text(encoding="utf-8")),
    "Content-Length": str(len(TIF)),
}


def _age_grid() -> bytes:
    """The recorded total times AGE_GROUP_SHARE in every cell (nodata kept): one recorded age and sex grid."""
    with rasterio.open(RECORDED / "worldpop_chn_tiny.tif") as source:
        profile, values = source.profile, source.read(1)
    with rasterio.MemoryFile() as memory:
        with memory.open(**profile) as target:
            target.write(np.where(values == profile["nodata"], values, values * AGE_GROUP_SHARE), 1)
        return memory.read()


AGE_TIF = _age_grid()
#: The features query, tag by tag as osmnx 2 writes it, in the order of the tag table.
FEATURE_QUERY_TAGS = [
    *(
        f"'leisure'='{v}'"
        for v in (
            "pitch",
            "sports_centre",
            "stadium",
            "swimming_pool",
            "fitness_centre",
            "fitness_station",
            "park",
            "playground",
            "track",
            "sports_hall",
            "garden",
            "ice_rink",
        )
    ),
    "'sport'",
    *(f"'amenity'='{v}'" for v in ("school", "university", "college", "gym")),
    *(f"'landuse'='{v}'" for v in ("grass", "recreation_ground", "brownfield", "greenfield", "village_green")),
]


class Services:
    """Overpass and WorldPop as seen by `requests`: hand-written answers, every request kept."""

    def __init__(self, mock: responses.RequestsMock, base: str = OVERPASS) -> None:
        self.mock = mock
        self.queries: list[str] = []
        self.bodies: list[int] = []
        self.walk = (200, {"Content-Type": "application/json"}, (RECORDED / "overpass_walk.json").read_text("utf-8"))
        self.features = (
            200,
            {"Content-Type": "application/json"},
            (RECORDED / "overpass_features.json").read_text("utf-8"),
        )
        self.add_overpass(base)
        mock.get(WORLDPOP_BSGM, status=404)  # this recording has no China file in the BSGM folder
        mock.get(WORLDPOP_MAXAR, body=TIF, headers=TIF_HEADERS)
        mock.get(AGE_URLS[0], status=404)
        mock.get(AGE_F60_BSGM, body=AGE_TIF, headers={**TIF_HEADERS, "Content-Length": str(len(AGE_TIF))})
        for url in AGE_URLS[1:]:
            mock.get(url, body=AGE_TIF, headers={**TIF_HEADERS, "Content-Length": str(len(AGE_TIF))})

    def add_overpass(self, base: str) -> None:
        self.mock.get(base + "/status", body=(RECORDED / "overpass_status.txt").read_text("utf-8"))
        self.mock.add_callback(responses.POST, base + "/interpreter", callback=self.answer)

    def answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        self.bodies.append(len(body))
        query = urllib.parse.parse_qs(body.decode())["data"][0]
        self.queries.append(query)
        return self.walk if 'way["highway"]' in query else self.features

    def urls(self, method: str) -> list[str]:
        return [call.request.url for call in self.mock.calls if call.request.method == method]


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Services:
    # osmnx resolves the Overpass host itself (socket.gethostbyname) and pins the address by replacing
    # socket.getaddrinfo; give it a documentation address and put getaddrinfo back afterwards
    monkeypatch.setattr(socket, "gethostbyname", lambda host: "192.0.2.10")
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(settings, "DOWNLOAD_BACKOFF_S", 0.0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield Services(mock)


def _poly(query: str) -> shapely.Polygon:
    """The polygon of an Overpass `poly:'lat lon lat lon ...'` filter."""
    numbers = [float(v) for v in re.search(r"poly:'([^']+)'", query).group(1).split()]
    return shapely.Polygon(list(zip(numbers[1::2], numbers[0::2], strict=True)))


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lon1, lat1), (lon2, lat2) = np.radians(a), np.radians(b)
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return float(2 * 6_371_009 * np.arcsin(np.sqrt(h)))


def _fetch(tmp_path: Path, **options: object) -> dict[str, Path]:
    options = {
        "boundaries": RECORDED / "boundaries.geojson",
        "overpass_timeout_s": 42,
        "downloads": tmp_path / "_downloads",
        **options,
    }
    return fetch.fetch_area("Dongsheng", out_dir=tmp_path / "150602", **options)


def test_fetch_area_sends_the_expected_requests_and_writes_a_true_study(services: Services, tmp_path: Path) -> None:
    written = _fetch(tmp_path)
    out = tmp_path / "150602"
    assert set(written) == {
        "boundary",
        "network",
        "features",
        "candidate_land",
        "population",
        "population_60plus",
        "provenance",
        "study",
    }
    assert all(path.is_file() and path.parent == out for path in written.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["150602", "_downloads"]  # no staging folder left

    # what went over the wire: the status page first (reachability), two Overpass queries, two WorldPop URLs
    # for the total, then the ten age and sex grids of residents aged 60+ (f_60 from its second mirror)
    assert services.urls("GET")[0] == OVERPASS + "/status"
    assert services.urls("POST") == [OVERPASS + "/interpreter"] * 2
    assert [u for u in services.urls("GET") if "worldpop" in u] == [WORLDPOP_BSGM, WORLDPOP_MAXAR, *AGE_URLS_REQUESTED]
    walk_query, features_query = services.queries
    polygon = _poly(features_query)
    assert _poly(walk_query).contains(polygon)  # osmnx widens the walk query by 500 m, then truncates
    assert walk_query.startswith('[out:json][timeout:42];(way["highway"]') and walk_query.endswith(">;);out;")
    expected = (
        "[out:json][timeout:42];("
        + "".join(
            f"({kind}[{tag}](poly:'POLY');(._;>;););"
            for tag in FEATURE_QUERY_TAGS
            for kind in ("node", "way", "relation")
        )
        + ");out;"
    )
    assert re.sub(r"poly:'[^']+'", "poly:'POLY'", features_query) == expected
    # the query polygon holds the boundary, reaches at most ~500 m beyond it, and has few vertices
    metres = gpd.GeoSeries([polygon, BOX], crs=4326).to_crs(4546)
    assert metres.iloc[0].contains(metres.iloc[1])
    assert metres.iloc[0].difference(metres.iloc[1].buffer(501)).area == pytest.approx(0, abs=1)
    assert metres.iloc[0].area > metres.iloc[1].buffer(250).area
    assert shapely.get_num_coordinates(polygon) < 40
    assert max(services.bodies) < 64 * 1024

    # the walk network as the walking rule built it from the answer: three ways, lengths by hand (haversine)
    graph = ox.load_graphml(written["network"])
    ways = {w for _, _, ids in graph.edges(data="osmid") for w in (ids if isinstance(ids, list) else [ids])}
    assert ways == {201, 202, 203}
    corners = {1: (110.000, 39.800), 2: (110.002, 39.800), 3: (110.002, 39.802), 4: (110.000, 39.802)}
    segments = [(1, 2), (2, 3), (3, 4), (4, 1), (2, 4)]
    total = sum(_haversine_m(corners[a], corners[b]) for a, b in segments)
    assert sum(length for _, _, length in graph.edges(data="length")) == pytest.approx(2 * total, rel=1e-6)

    # venues: the tag table's kinds, the pitch's OSM `area`/`capacity`/`name:en` renamed, the outside pitch dropped
    facilities = io.read_facilities(written["features"])
    raw = gpd.read_file(written["features"])
    kinds = dict(zip(raw["osm_id"].astype(int), facilities["kind"], strict=True))
    assert kinds == {9001: "multi_sport_court", 9002: "park", 9003: "fitness_path", 9005: "school_venue", 9007: "pitch"}
    assert {"osm_area", "osm_capacity", "osm_name:en"} <= set(raw.columns)
    assert not {"area", "capacity", "name:en"} & set(raw.columns)
    assert (facilities["area_source"] == "typical").all()  # `area=yes` is not an area
    opening = dict(zip(raw["osm_id"].astype(int), facilities["open_to_public"], strict=True))
    assert opening[9005] is None and all(opening[i] is True for i in (9001, 9002, 9003, 9007))
    # land: the grass, the park and the school; not the soccer pitch laid on grass
    land = gpd.read_file(written["candidate_land"])
    assert sorted(land["osm_id"].astype(int)) == [9002, 9004, 9005]

    # population: the cells whose centres fall inside the box, summed by hand
    step = 1 / 1200
    with rasterio.open(RECORDED / "worldpop_chn_tiny.tif") as source:
        values = source.read(1)
    rows, cols = np.indices(values.shape)
    centre_x, centre_y = 109.99 + (cols + 0.5) * step, 39.81 - (rows + 0.5) * step
    inside = (centre_x > 109.995) & (centre_x < 110.005) & (centre_y > 39.795) & (centre_y < 39.805)
    expected_total = values[inside & (values != -99999.0)].sum()
    assert io.read_population(written["population"])["population"].sum() == pytest.approx(expected_total)
    # residents aged 60+: ten grids of 1.5 % each, 15 % of the clipped total, on the cells of the total
    older = io.read_population(written["population_60plus"])
    assert older["population"].sum() == pytest.approx(0.15 * expected_total, rel=1e-5)
    assert sorted(older["cell_id"]) == sorted(io.read_population(written["population"])["cell_id"])

    provenance = json.loads(written["provenance"].read_text(encoding="utf-8"))
    assert provenance["area"] == {"query": "Dongsheng", "adcode": "150602", "name_zh": "东胜区", "name_en": "Dongsheng"}
    assert provenance["sources"]["population"]["url"] == WORLDPOP_MAXAR
    assert provenance["sources"]["population"]["population_total"] == pytest.approx(expected_total)
    assert provenance["sources"]["network"]["api"] == OVERPASS
    assert provenance["sources"]["features"]["features"] == 5
    ages = provenance["sources"]["population_60plus"]
    assert ages["file"] == "population_60plus.tif" and ages["urls"] == [AGE_F60_BSGM, *AGE_URLS[1:]]
    assert ages["population_60plus_total"] == pytest.approx(0.15 * expected_total, rel=1e-5)

    config = StudyConfig.from_toml(written["study"])
    config.check_inputs_exist()
    assert config.candidate_land == (out / "candidate_land.geojson").resolve()
    assert config.population_60plus == (out / "population_60plus.tif").resolve()
    assert FetchConfig.from_toml(written["study"]).overpass_timeout_s == 42

    # the next area reuses the country file and the cached Overpass answers: no request at all
    before = len(services.mock.calls)
    fetch.fetch_area(
        "150602",
        out_dir=tmp_path / "again",
        boundaries=RECORDED / "boundaries.geojson",
        overpass_timeout_s=42,
        downloads=tmp_path / "_downloads",
    )
    assert [c.request.url for c in services.mock.calls[before:]] == [OVERPASS + "/status"]


def test_fetched_study_runs_and_reports_the_unknown_school(services: Services, tmp_path: Path) -> None:
    from ordos_geo import pipeline

    written = _fetch(tmp_path)
    config = StudyConfig.from_toml(written["study"]).with_overrides(
        out=tmp_path / "results", siting_enabled=False, trails_enabled=False
    )
    results = pipeline.run_study(config, stages=("accessibility",), use_cache=False)
    # residents aged 60+ read cell by cell from the fetched age grids: 15 % of every cell's residents
    cells = results.accessibility.cells
    assert cells["population_60plus"].to_numpy() == pytest.approx(0.15 * cells["population"].to_numpy(), rel=1e-5)
    citywide = results.indicators.set_index("district").loc["citywide"]
    assert citywide["n_school_venues"] == 1 and citywide["n_school_venues_open_unknown"] == 1
    assert math.isnan(citywide["open_school_share"])
    # the school's typical area is not counted as an open venue: courts and pitches only (parks do not count)
    expected_area = (
        settings.TYPICAL_AREA_M2["multi_sport_court"]
        + settings.TYPICAL_AREA_M2["pitch"]
        + settings.TYPICAL_AREA_M2["fitness_path"]
    )
    assert citywide["venue_area_m2"] == pytest.approx(expected_area)
    from ordos_geo.report import build_report

    report = build_report(results.scorecard, results.indicators, language="en", synthetic=False)
    assert "1 school venues (from OpenStreetMap) have no record of opening" in report.markdown


def test_fetched_candidate_land_becomes_siting_candidates(services: Services, tmp_path: Path) -> None:
    from ordos_geo import pipeline

    written = _fetch(tmp_path)
    config = StudyConfig.from_toml(written["study"]).with_overrides(
        out=tmp_path / "results", trails_enabled=False, siting_plan={"multi_sport_court": 1}
    )
    results = pipeline.run_study(config, stages=("accessibility", "siting"), use_cache=False)
    candidates = results.siting.candidates
    osm = candidates[candidates["source"] == "osm"]
    # the school grounds (0.002 degree square, ~3.8 ha, over the 1 ha minimum), the park and the grass;
    # never the venues (the pitch on grass, the courts), which are facilities
    assert dict(zip(osm["candidate_id"], osm["land_type"], strict=True)) == {
        "osm_way9002": "park",
        "osm_way9004": "grass",
        "osm_way9005": "school_grounds",
    }


def test_fetch_uses_the_overpass_mirror_and_timeout_given(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.add_overpass(MIRROR)
    out = tmp_path / "x"
    code = main(
        [
            "fetch",
            "--area",
            "150602",
            "--out",
            str(out),
            "--boundary",
            str(RECORDED / "boundaries.geojson"),
            "--overpass-url",
            MIRROR,
            "--overpass-timeout",
            "900",
            "--population",
            "none",
            "--downloads",
            str(tmp_path / "dl"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert services.urls("POST") == [MIRROR + "/interpreter"] * 2
    assert all(q.startswith("[out:json][timeout:900];") for q in services.queries)
    assert not any("worldpop" in u for u in services.urls("GET"))
    capsys.readouterr()
    assert main(["run", "--config", str(out / "study.toml")]) == 2  # until the population is added
    assert "[inputs] population is required" in capsys.readouterr().err
    text = (out / "study.toml").read_text(encoding="utf-8")
    assert '# population = "..."' in text and f'overpass_url = "{MIRROR}"' in text
    assert FetchConfig.from_toml(out / "study.toml").population == "none"
    # the osmnx settings are the user's again afterwards
    assert ox.settings.overpass_url == OVERPASS and ox.settings.requests_timeout == 180


def test_no_google_dns_when_the_local_resolver_fails(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy in mainland China the local resolver may fail; osmnx must not fall back to Google DNS."""

    def no_resolver(host: str) -> str:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "gethostbyname", no_resolver)
    _fetch(tmp_path, population="none")
    assert not [c for c in services.mock.calls if "8.8.8.8" in c.request.url]  # Google Public DNS
    assert services.urls("POST") == [OVERPASS + "/interpreter"] * 2
    assert ox.settings.doh_url_template == "https://8.8.8.8/resolve?name={hostname}"  # restored


def test_fetch_config_section_drives_the_command(services: Services, tmp_path: Path) -> None:
    (tmp_path / "study.toml").write_text(
        "[fetch]\n"
        'area = "Dongsheng"\n'
        'out = "raw/ds"\n'
        f'boundary = "{RECORDED / "boundaries.geojson"}"\n'
        'population = "pop.tif"\n'
        "overpass_timeout_s = 30\n"
        'downloads = "dl"\n',
        encoding="utf-8",
    )
    (tmp_path / "pop.tif").write_bytes(TIF)
    assert main(["fetch", "--config", str(tmp_path / "study.toml")]) == 0
    assert (tmp_path / "raw" / "ds" / "population.tif").is_file()
    assert not any("worldpop" in u for u in services.urls("GET"))  # the local raster was used
    provenance = json.loads((tmp_path / "raw" / "ds" / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["sources"]["population"]["path"] == str((tmp_path / "pop.tif").resolve())
    with pytest.raises(ConfigError, match=r"\[fetch\] overpass is not a fetch key \(did you mean 'overpass_url'\?\)"):
        (tmp_path / "bad.toml").write_text('[fetch]\noverpass = "x"\n', encoding="utf-8")
        FetchConfig.from_toml(tmp_path / "bad.toml")


def test_fetch_population_from_a_local_table(services: Services, tmp_path: Path) -> None:
    table = gpd.GeoDataFrame(
        {"population": [120.0, 30.0, 999.0]},
        geometry=shapely.points([(110.0, 39.8), (110.001, 39.801), (110.02, 39.8)]),
        crs=4326,
    )
    table.to_file(tmp_path / "census_points.geojson", driver="GeoJSON")
    written = _fetch(tmp_path, population=str(tmp_path / "census_points.geojson"))
    assert written["population"].name == "population.geojson"
    assert io.read_population(written["population"])["population"].sum() == pytest.approx(150.0)  # third outside
    assert StudyConfig.from_toml(written["study"]).population == written["population"].resolve()


def test_fetch_own_boundary_in_gcj02(services: Services, tmp_path: Path) -> None:
    from prcoords import gcj_wgs

    # the box drawn on an Amap (GCJ-02) map: its corners shifted by the GCJ-02 offset
    gcj = [
        (lon + (lon - gcj_wgs((lat, lon))[1]), lat + (lat - gcj_wgs((lat, lon))[0])) for lon, lat in BOX.exterior.coords
    ]
    gpd.GeoDataFrame(geometry=[shapely.Polygon(gcj)], crs=4326).to_file(tmp_path / "mine.geojson", driver="GeoJSON")
    written = _fetch(tmp_path, boundaries=tmp_path / "mine.geojson", boundary_coordinates="gcj02", population="none")
    boundary = gpd.read_file(written["boundary"])
    wgs = [(gcj_wgs((lat, lon))[1], gcj_wgs((lat, lon))[0]) for lon, lat in gcj]
    assert np.allclose(shapely.get_coordinates(boundary.geometry.iloc[0]), wgs, atol=1e-6)
    assert np.allclose(boundary.total_bounds, BOX.bounds, atol=2e-5)  # back within ~2 m of the box
    assert boundary["adcode"].tolist() == ["Dongsheng"]


def test_population_far_from_the_census_warns(services: Services, tmp_path: Path) -> None:
    boundaries = io.read_boundaries(RECORDED / "boundaries.geojson").assign(population_2020=574_242)
    with pytest.warns(UserWarning, match=r"x the 2020 census \(574,242\), outside 1/1.5..1.5"):
        written = _fetch(tmp_path, boundaries=boundaries)
    population = json.loads(written["provenance"].read_text(encoding="utf-8"))["sources"]["population"]
    assert population["census_2020"] == 574_242
    assert population["ratio_to_census"] == pytest.approx(population["population_total"] / 574_242, abs=1e-4)


# ---------------------------------------------------------------------------
# Failures: one line, exit 2, nothing half-made
# ---------------------------------------------------------------------------


def _fails(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    out = tmp_path / "150602"
    code = main(
        [
            "fetch",
            "--area",
            "150602",
            "--out",
            str(out),
            "--boundary",
            str(RECORDED / "boundaries.geojson"),
            "--downloads",
            str(tmp_path / "_downloads"),
            *extra,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("ordos-geo: error: ")
    assert not out.exists() and not (tmp_path / ".150602.part").exists()
    assert not list((tmp_path / "_downloads").glob("*.tif*")) if (tmp_path / "_downloads").exists() else True
    return err


def test_offline_fails_fast_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused at once
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    err = _fails(tmp_path, capsys, "--overpass-url", f"http://127.0.0.1:{port}/api")
    assert time.monotonic() - started < 10
    assert f"cannot reach the Overpass API at http://127.0.0.1:{port}/api (ConnectionError)" in err
    assert "--overpass-url" in err
    with pytest.raises(FetchError) as raised:  # the API raises the same error, a ConnectionError for callers
        _fetch(tmp_path, overpass_url=f"http://127.0.0.1:{port}/api")
    assert isinstance(raised.value, ConnectionError)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (413, r"refused a [\d,]+-byte query \(HTTP 413, request body too large\).*client_max_body_size"),
        (504, r"answered HTTP 504 Gateway Timeout; .*use a mirror with --overpass-url"),
        (400, r"answered HTTP 400 Bad Request; it refused the query: check that --overpass-url"),
    ],
)
def test_overpass_http_errors_are_one_line(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: int, expected: str
) -> None:
    services.features = (status, {"Content-Type": "text/html"}, "<html><body>error</body></html>")
    assert re.search(expected, _fails(tmp_path, capsys))


def test_overpass_timeout_remark_is_an_error_not_an_empty_file(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.features = (
        200,
        {"Content-Type": "application/json"},
        (RECORDED / "overpass_timeout_remark.json").read_text("utf-8"),
    )
    err = _fails(tmp_path, capsys, "--overpass-timeout", "42")
    assert 'stopped the query before the end (runtime error: Query timed out in "query" at line 1 after 42' in err
    assert "raise --overpass-timeout" in err


def test_overpass_empty_answer_is_an_error(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = json.loads((RECORDED / "overpass_features.json").read_text("utf-8")) | {"elements": []}
    services.features = (200, {"Content-Type": "application/json"}, json.dumps(empty))
    assert "OpenStreetMap has no sports or leisure features there" in _fails(tmp_path, capsys)


def test_no_walkable_ways_is_an_error(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = json.loads((RECORDED / "overpass_walk.json").read_text("utf-8")) | {"elements": []}
    services.walk = (200, {"Content-Type": "application/json"}, json.dumps(empty))
    assert "--area 150602: OpenStreetMap has no walkable ways there" in _fails(tmp_path, capsys)


def test_overpass_connection_lost_mid_fetch(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.mock.replace(responses.POST, OVERPASS + "/interpreter", body=requests.ConnectionError("reset by peer"))
    err = _fails(tmp_path, capsys)
    assert "failed during the download (ConnectionError: reset by peer)" in err


def test_not_an_overpass_server(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services.walk = (200, {"Content-Type": "text/html"}, "<html>captive portal</html>")
    assert "did not answer with Overpass JSON (text/html)" in _fails(tmp_path, capsys)


def test_worldpop_download_failure_names_every_url(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.mock.replace(responses.GET, WORLDPOP_MAXAR, status=404)
    err = _fails(tmp_path, capsys)
    assert "population download failed: " in err and WORLDPOP_BSGM in err and WORLDPOP_MAXAR in err
    assert "download the file in a browser into" in err


def test_worldpop_html_page_is_rejected(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    services.mock.replace(
        responses.GET, WORLDPOP_MAXAR, body="<html>login</html>", headers={"Content-Type": "text/html"}
    )
    err = _fails(tmp_path, capsys)
    assert "the downloaded file is not a GeoTIFF (it starts b'<html>login</html>'" in err


def test_worldpop_download_retries_after_a_dropped_connection(services: Services, tmp_path: Path) -> None:
    services.mock.replace(responses.GET, WORLDPOP_MAXAR, body=requests.ConnectionError("reset"))
    services.mock.add(responses.GET, WORLDPOP_MAXAR, body=requests.exceptions.ReadTimeout("60 s without a byte"))
    services.mock.add(responses.GET, WORLDPOP_MAXAR, status=503)
    # the connection closes half-way: fewer bytes than Content-Length
    services.mock.add(responses.GET, WORLDPOP_MAXAR, body=TIF[: len(TIF) // 2], headers=TIF_HEADERS)
    services.mock.add(responses.GET, WORLDPOP_MAXAR, body=TIF, headers=TIF_HEADERS)
    written = _fetch(tmp_path)
    assert [u for u in services.urls("GET") if "/Population/" in u] == [WORLDPOP_BSGM] + [WORLDPOP_MAXAR] * 5
    assert (tmp_path / "_downloads" / "chn_ppp_2020_constrained.tif").read_bytes() == TIF
    assert not list((tmp_path / "_downloads").glob("*.part"))
    assert written["population"].is_file()


def test_no_ages_skips_the_age_grids(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x"
    code = main(
        [
            "fetch",
            "--area",
            "150602",
            "--out",
            str(out),
            "--boundary",
            str(RECORDED / "boundaries.geojson"),
            "--downloads",
            str(tmp_path / "dl"),
            "--no-ages",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert [u for u in services.urls("GET") if "worldpop" in u] == [WORLDPOP_BSGM, WORLDPOP_MAXAR]
    assert not (out / "population_60plus.tif").exists()
    assert StudyConfig.from_toml(out / "study.toml").population_60plus is None
    assert FetchConfig.from_toml(out / "study.toml").ages_60plus is False  # `fetch --config` fetches it alike
    assert "population_60plus" not in json.loads((out / "provenance.json").read_text(encoding="utf-8"))["sources"]


def test_age_grid_download_failure_is_one_line(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services.mock.replace(responses.GET, AGE_F60_BSGM, status=404)
    services.mock.get(AGES + "maxar_v1/CHN/chn_f_60_2020_constrained.tif", status=404)
    out = tmp_path / "150602"
    code = main(
        [
            "fetch",
            "--area",
            "150602",
            "--out",
            str(out),
            "--boundary",
            str(RECORDED / "boundaries.geojson"),
            "--downloads",
            str(tmp_path / "_downloads"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("ordos-geo: error: ")
    assert not out.exists() and not (tmp_path / ".150602.part").exists()
    # the country files already complete stay for the next try; no half-written file
    assert not list((tmp_path / "_downloads").glob("*.part"))
    assert "WorldPop age grid f_60 download failed: " in err and AGE_URLS[0] in err and AGE_F60_BSGM in err
    assert "fetch without the age grids (--no-ages)" in err


def test_unknown_area_and_bad_options(services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match=r"--area 'Atlantis': no boundary match.*150602 东胜区 \(Dongsheng\)"):
        fetch.fetch_area("Atlantis", out_dir=tmp_path, boundaries=RECORDED / "boundaries.geojson")
    with pytest.raises(ConfigError, match=r"--population 'landscan': not a file, a URL or a known source"):
        _fetch(tmp_path, population="landscan")
    with pytest.raises(ConfigError, match=r"\[fetch\] overpass_url must be an http\(s\) URL ending in /api"):
        FetchConfig(overpass_url="overpass-api.de")
    assert main(["fetch", "--area", "150602", "--overpass-timeout", "-5"]) == 2
    assert "--overpass-timeout (command-line flag) must be a number > 0" in capsys.readouterr().err
    assert main(["fetch", "--overpass-url", MIRROR]) == 2
    assert "fetch needs --area" in capsys.readouterr().err
    assert len(services.mock.calls) == 0  # nothing was asked of any server


def test_an_area_named_as_people_say_it_without_its_suffix() -> None:
    boundaries = io.read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    said = {"东胜": "150602", "鄂尔多斯": "150600", "鄂托克": "150624", "鄂托克前旗": "150623", "伊金霍洛": "150627"}
    for area, adcode in said.items():
        assert fetch.select_area(area, boundaries)["adcode"].astype(str).tolist() == [adcode], area


def test_features_query_of_a_real_county_stays_small(services: Services, tmp_path: Path) -> None:
    """Dongsheng's real outline (1,135 vertices): sent as it is, the 66-fold features query would pass 1 MiB."""
    boundaries = io.read_boundaries(settings.SAMPLE_DIR / "boundaries.geojson")
    outline = boundaries.loc[boundaries["adcode"] == "150602"].geometry.iloc[0]
    raw_poly = " ".join(f"{y:.6f} {x:.6f}" for x, y in outline.exterior.coords)
    assert len(urllib.parse.quote_plus(raw_poly)) * 66 > 1024 * 1024
    fetch.fetch_area(
        "150602", out_dir=tmp_path / "ds", boundaries=boundaries, population="none", downloads=tmp_path / "dl"
    )
    assert len(services.bodies) >= 2 and max(services.bodies) < 256 * 1024
    sent = shapely.union_all([_poly(q) for q in services.queries if "'sport'" in q])
    assert sent.buffer(1e-6).contains(outline)


def test_osm_unknown_opening_reads_as_none(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": ["a", "b", "c"],
            "kind": ["school_venue"] * 3,
            "lon": [110.0] * 3,
            "lat": [39.8] * 3,
            "open_to_public": ["unknown", "是", None],
        }
    )
    frame.to_csv(tmp_path / "schools.csv", index=False)
    assert io.read_facilities(tmp_path / "schools.csv")["open_to_public"].tolist() == [None, True, True]


@pytest.mark.network
def test_fetch_area_online(tmp_path: Path) -> None:
    """The real thing: Overpass for a 600 m box around Dongsheng's Tianjiao Square (population skipped).

    Run with ``pytest -m network tests/test_fetch.py``; pass another server with ``ORDOS_OVERPASS_URL``.
    """
    import os

    area = gpd.GeoDataFrame(
        {"adcode": ["999999"], "name_zh": ["测试"], "name_en": ["test"], "level": ["district"]},
        geometry=[shapely.box(109.985, 39.815, 109.992, 39.820)],
        crs=4326,
    )
    written = fetch.fetch_area(
        "999999",
        out_dir=tmp_path / "out",
        boundaries=area,
        population="none",
        overpass_url=os.environ.get("ORDOS_OVERPASS_URL", settings.DEFAULT_OVERPASS_URL),
    )
    provenance = json.loads(written["provenance"].read_text(encoding="utf-8"))
    assert provenance["sources"]["network"]["edges"] > 0
    assert len(io.read_facilities(written["features"])) > 0
