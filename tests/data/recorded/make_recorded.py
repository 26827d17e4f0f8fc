"""Write tests/data/recorded/: hand-written stand-ins for what Overpass and WorldPop answer.

Nothing here was recorded from a live server (there is no internet where these tests were written): the
answers follow the documented formats (Overpass API JSON output, wiki "OSM JSON"; the /api/status page,
wiki "Overpass API/status"; a WorldPop GeoTIFF in EPSG:4326 at 3 arc-seconds). See README.md.

Run from the repository root: `.venv/bin/python tests/data/recorded/make_recorded.py`.
"""

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin

out = Path("tests/data/recorded")
out.mkdir(parents=True, exist_ok=True)
HEADER = {
    "version": 0.6,
    "generator": "Overpass API 0.7.62.4 2390de5a",
    "osm3s": {
        "timestamp_osm_base": "2024-06-01T08:00:00Z",
        "copyright": "The data included in this document is from www.openstreetmap.org. "
        "The data is made available under ODbL.",
    },
}


def write_json(name: str, document: dict) -> None:
    (out / name).write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


# the boundary: a 0.01 degree box in Dongsheng; cell edges of the raster below every 1/1200 degree from 109.99
box = shapely.box(109.995, 39.795, 110.005, 39.805)
gpd.GeoDataFrame(
    {"adcode": ["150602"], "name_zh": ["东胜区"], "name_en": ["Dongsheng"], "level": ["district"]},
    geometry=[box],
    crs=4326,
).to_file(out / "boundaries.geojson", driver="GeoJSON")

# /api/status: line 5 says how many slots are free (osmnx reads it before each query)
(out / "overpass_status.txt").write_text(
    "Connected as: 3232235777\n"
    "Current time: 2024-06-01T08:00:05Z\n"
    "Announced endpoint: none\n"
    "Rate limit: 2\n"
    "2 slots available now.\n"
    "Currently running queries (pid, space limit, time limit, start time):\n",
    encoding="utf-8",
)


def node(node_id: int, lon: float, lat: float, tags: dict | None = None) -> dict:
    element = {"type": "node", "id": node_id, "lat": lat, "lon": lon}
    if tags:
        element["tags"] = tags
    return element


def way(way_id: int, refs: list[int], tags: dict) -> dict:
    return {"type": "way", "id": way_id, "nodes": refs, "tags": tags}


# the walk network answer: a 200 m square 1-2-3-4 with a diagonal 2-4, three ways
walk_nodes = {1: (110.000, 39.800), 2: (110.002, 39.800), 3: (110.002, 39.802), 4: (110.000, 39.802)}
write_json(
    "overpass_walk.json",
    {
        **HEADER,
        "elements": [
            *(node(i, lon, lat) for i, (lon, lat) in walk_nodes.items()),
            way(201, [1, 2, 3], {"highway": "footway"}),
            way(202, [3, 4, 1], {"highway": "residential", "name": "天骄路"}),
            way(203, [2, 4], {"highway": "path"}),
        ],
    },
)


def square(first_id: int, lon: float, lat: float, size: float) -> tuple[list[dict], list[int]]:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    nodes = [node(first_id + i, x, y) for i, (x, y) in enumerate(corners)]
    return nodes, [first_id, first_id + 1, first_id + 2, first_id + 3, first_id]


pitch_nodes, pitch_refs = square(1000, 109.999, 39.799, 0.0003)
park_nodes, park_refs = square(1010, 110.001, 39.801, 0.002)
grass_nodes, grass_refs = square(1020, 109.996, 39.796, 0.001)
school_nodes, school_refs = square(1030, 109.996, 39.802, 0.002)
soccer_nodes, soccer_refs = square(1040, 110.003, 39.796, 0.001)
write_json(
    "overpass_features.json",
    {
        **HEADER,
        "elements": [
            *pitch_nodes,
            *park_nodes,
            *grass_nodes,
            *school_nodes,
            *soccer_nodes,
            node(9003, 110.000, 39.800, {"leisure": "fitness_station"}),
            # inside the buffered query polygon, ~130 m outside the boundary: dropped
            node(9006, 110.0065, 39.800, {"leisure": "pitch", "sport": "basketball"}),
            way(
                9001,
                pitch_refs,
                {
                    "leisure": "pitch",
                    "sport": "basketball",
                    "area": "yes",
                    "name": "篮球场",
                    "name:en": "Basketball court",
                    "capacity": "50;20",
                },
            ),
            way(9002, park_refs, {"leisure": "park", "name": "Riverside park"}),
            way(9004, grass_refs, {"landuse": "grass"}),
            way(9005, school_refs, {"amenity": "school", "name": "第一中学"}),
            way(9007, soccer_refs, {"landuse": "grass", "leisure": "pitch", "sport": "soccer"}),
        ],
    },
)

# what Overpass sends when the query hits its [timeout:...]: status 200, a partial answer and a remark
write_json(
    "overpass_timeout_remark.json",
    {
        **HEADER,
        "elements": [],
        "remark": 'runtime error: Query timed out in "query" at line 1 after 42 seconds.',
    },
)

# WorldPop: 24 x 24 cells of 3 arc-seconds from 109.99 E / 39.81 N, values (row*24+col) % 7, first row nodata
rows, cols = 24, 24
values = np.arange(rows * cols, dtype="float32").reshape(rows, cols) % 7
values[0, :] = -99999.0
with rasterio.open(
    out / "worldpop_chn_tiny.tif",
    "w",
    driver="GTiff",
    height=rows,
    width=cols,
    count=1,
    dtype="float32",
    crs="EPSG:4326",
    transform=from_origin(109.99, 39.81, 1 / 1200, 1 / 1200),
    nodata=-99999.0,
) as ds:
    ds.write(values, 1)
# the headers an Apache file server sends with a GeoTIFF (Content-Length is added from the body)
write_json(
    "worldpop_headers.json",
    {
        "Server": "Apache",
        "Content-Type": "image/tiff",
        "Last-Modified": "Tue, 19 Jan 2021 10:23:45 GMT",
        "ETag": '"6d2c-5b93e0b1a6f40"',
    },
)
print(sorted(p.name for p in out.iterdir()))
