"""Online fetch, tested offline with recorded responses (and once for real under the `network` marker)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pytest
import rasterio
import requests
import shapely

from ordos_geo import fetch, io
from ordos_geo._errors import ConfigError
from ordos_geo.network import load_walk_network

RECORDED = Path(__file__).parent / "data" / "recorded"


class RecordedResponse:
    """The slice of ``requests.Response`` that ``io.download_file`` uses."""

    def __init__(self, payload: bytes | None, url: str) -> None:
        self.payload, self.url = payload, url
        self.headers = {"content-length": str(len(payload))} if payload is not None else {}

    def __enter__(self) -> RecordedResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def raise_for_status(self) -> None:
        if self.payload is None:
            raise requests.HTTPError(f"404 Client Error: Not Found for url: {self.url}")

    def iter_content(self, chunk_size: int):
        for start in range(0, len(self.payload), chunk_size):
            yield self.payload[start : start + chunk_size]


@pytest.fixture
def recorded_services(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    calls: dict[str, list] = {"graph": [], "features": [], "get": []}
    graph = ox.load_graphml(RECORDED / "overpass_walk_graph.graphml")
    features = gpd.read_file(RECORDED / "overpass_features.geojson").set_index(["element", "id"])
    raster = (RECORDED / "worldpop_chn_tiny.tif").read_bytes()

    def graph_from_polygon(polygon, **kwargs):
        calls["graph"].append((polygon, kwargs))
        return graph.copy()

    def features_from_polygon(polygon, tags):
        calls["features"].append((polygon, tags))
        return features.copy()

    def get(url, **kwargs):
        calls["get"].append(url)
        # the BSGM folder has no China file in this recording: the maxar_v1 mirror answers
        return RecordedResponse(None if "/BSGM/" in url else raster, url)

    monkeypatch.setattr(ox, "graph_from_polygon", graph_from_polygon)
    monkeypatch.setattr(ox, "features_from_polygon", features_from_polygon)
    monkeypatch.setattr(requests, "get", get)
    return calls


def test_fetch_area_offline(recorded_services: dict[str, list], tmp_path: Path) -> None:
    out = tmp_path / "data" / "raw" / "150602"
    written = fetch.fetch_area("Dongsheng", out_dir=out, boundaries=RECORDED / "boundaries.geojson")
    assert set(written) == {"boundary", "network", "features", "population", "provenance", "study"}
    assert all(path.is_file() and path.parent == out for path in written.values())
    boundary = shapely.box(109.995, 39.795, 110.005, 39.805)
    # osmnx was asked for the walk network and the sports features of the chosen boundary
    polygon, kwargs = recorded_services["graph"][0]
    assert kwargs == {"network_type": "walk"} and polygon.equals(boundary)
    assert recorded_services["features"][0][1] == fetch.FACILITY_TAGS
    assert recorded_services["get"] == list(fetch.WORLDPOP_URLS["worldpop"])  # first mirror 404, second served

    # the network file is a GraphML the loader reads: the recorded toy graph, projected to CGCS2000 GK 111E
    network = load_walk_network(written["network"], cache_dir=None)
    assert (network.n_nodes, network.n_edges) == (5, 7)
    assert network.crs.to_epsg() == 4546

    # features: list columns dropped, readable as facilities through the OSM tag table
    features = gpd.read_file(written["features"])
    assert len(features) == 3 and "osm_id" in features.columns
    facilities = io.read_facilities(written["features"])
    assert facilities["kind"].tolist() == ["multi_sport_court", "park", "fitness_path"]

    # population clipped to the boundary: the cells whose centres fall inside it, summed by hand
    step = 1 / 1200
    with rasterio.open(RECORDED / "worldpop_chn_tiny.tif") as source:
        values = source.read(1)
    rows, cols = np.indices(values.shape)
    centre_x, centre_y = 109.99 + (cols + 0.5) * step, 39.81 - (rows + 0.5) * step
    inside = (centre_x > 109.995) & (centre_x < 110.005) & (centre_y > 39.795) & (centre_y < 39.805)
    expected = values[inside & (values != -99999.0)].sum()
    cells = io.read_population(written["population"])
    assert cells["population"].sum() == pytest.approx(expected)
    with rasterio.open(written["population"]) as clipped:
        assert clipped.crs.to_epsg() == 4326
        assert clipped.width == clipped.height == 12  # 0.01 degree / 3 arc-seconds

    provenance = json.loads(written["provenance"].read_text(encoding="utf-8"))
    assert provenance["area"] == {"query": "Dongsheng", "adcode": "150602", "name_zh": "东胜区", "name_en": "Dongsheng"}
    population = provenance["sources"]["population"]
    assert population["url"] == fetch.WORLDPOP_URLS["worldpop"][1]
    assert population["population_total"] == pytest.approx(expected)
    assert "CC BY 4.0" in population["licence"]
    assert provenance["sources"]["network"]["nodes"] == 5
    assert "ODbL" in provenance["sources"]["features"]["licence"]
    assert provenance["retrieved_utc"].endswith("+00:00")
    # the whole-country download is kept for the next area and reused without a request
    assert (tmp_path / "data" / "raw" / "_downloads" / "chn_ppp_2020_constrained.tif").is_file()
    fetch.fetch_area("150602", out_dir=tmp_path / "again", boundaries=RECORDED / "boundaries.geojson",
                     download_dir=tmp_path / "data" / "raw" / "_downloads")
    assert len(recorded_services["get"]) == 2


def test_fetch_command_writes_a_study_ready_to_run(
    recorded_services: dict[str, list], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ordos_geo.cli import main
    from ordos_geo.config import StudyConfig

    out = tmp_path / "150602"
    assert main(["fetch", "--area", "150602", "--out", str(out)]) == 0
    assert str(out / "provenance.json") in capsys.readouterr().out
    config = StudyConfig.from_toml(out / "study.toml")
    config.check_inputs_exist()
    assert config.name == "150602_Dongsheng" and not config.synthetic
    assert config.network == (out / "walk_network.graphml").resolve()
    assert config.population == (out / "population.tif").resolve()
    assert [s.path.name for s in config.facilities] == ["osm_features.geojson"]
    assert io.read_boundaries(config.boundaries)["adcode"].tolist() == ["150602"]


def test_fetch_area_unknown_area_lists_choices(recorded_services: dict[str, list], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--area 'Atlantis': no boundary match.*150602 东胜区 \(Dongsheng\)"):
        fetch.fetch_area("Atlantis", out_dir=tmp_path, boundaries=RECORDED / "boundaries.geojson")
    assert recorded_services["graph"] == []


def test_fetch_area_bad_population_source(recorded_services: dict[str, list], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="population_source='landscan'"):
        fetch.fetch_area("150602", out_dir=tmp_path, boundaries=RECORDED / "boundaries.geojson",
                         population_source="landscan")


def test_download_failure_names_every_url(recorded_services: dict[str, list], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requests, "get", lambda url, **kw: RecordedResponse(None, url))
    with pytest.raises(Exception, match=r"population download failed: .*BSGM.*maxar_v1.*download it by hand"):
        fetch.fetch_area("150602", out_dir=tmp_path / "x", boundaries=RECORDED / "boundaries.geojson")
    assert not list((tmp_path / "_downloads").glob("*.tif"))  # no half-written file left behind


@pytest.mark.network
def test_fetch_area_online(tmp_path: Path) -> None:
    """The real thing: Overpass for a 600 m box around Dongsheng's Tianjiao Square (population skipped)."""
    area = gpd.GeoDataFrame({"adcode": ["999999"], "name_zh": ["测试"], "name_en": ["test"], "level": ["district"]},
                            geometry=[shapely.box(109.985, 39.815, 109.992, 39.820)], crs=4326)
    written = fetch.fetch_area("999999", out_dir=tmp_path, boundaries=area, population_source="none")
    network = load_walk_network(written["network"], cache_dir=None)
    assert network.n_edges > 0
    assert json.loads(written["provenance"].read_text(encoding="utf-8"))["sources"]["network"]["edges"] > 0
