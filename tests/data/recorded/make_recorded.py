"""Build tests/data/recorded/: small stand-ins for what Overpass and WorldPop return.

Run from the repository root: `.venv/bin/python tests/data/recorded/make_recorded.py`.
"""
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import rasterio
import shapely
from rasterio.transform import from_origin

sys.path.insert(0, "tests")
from test_network import NODES, WAYS, osm_xml

from ordos_geo.network import graph_from_osm_file

out = Path("tests/data/recorded")
out.mkdir(parents=True, exist_ok=True)
tmp = Path("/tmp/recorded_toy.osm")
tmp.write_text(osm_xml(NODES, WAYS), encoding="utf-8")
graph, _ = graph_from_osm_file(tmp)
for key in ("created_date", "created_with"):
    graph.graph.pop(key, None)
ox.save_graphml(graph, out / "overpass_walk_graph.graphml")

# cell edges every 1/1200 degree from 109.99; the boundary box sits on cell centres' half-way lines
step = 1 / 1200
box = shapely.box(109.995, 39.795, 110.005, 39.805)
gpd.GeoDataFrame({"adcode": ["150602"], "name_zh": ["东胜区"], "name_en": ["Dongsheng"], "level": ["district"]},
                 geometry=[box], crs=4326).to_file(out / "boundaries.geojson", driver="GeoJSON")

features = gpd.GeoDataFrame(
    {"element": ["way", "way", "node"], "id": [9001, 9002, 9003],
     "leisure": ["pitch", "park", "fitness_station"], "sport": ["basketball", None, None],
     "name": ["篮球场", "Riverside park", None],
     "nodes": [[1, 2, 3, 4, 1], [5, 6, 7, 5], None]},
    geometry=[shapely.box(109.999, 39.799, 109.9993, 39.7992), shapely.box(110.001, 39.801, 110.003, 39.803),
              shapely.Point(110.0, 39.8)], crs=4326)
features.drop(columns="nodes").to_file(out / "overpass_features.geojson", driver="GeoJSON")

rows, cols = 24, 24  # 109.99..110.01 x 39.79..39.81
values = np.arange(rows * cols, dtype="float32").reshape(rows, cols) % 7
values[0, :] = -99999.0  # nodata row
with rasterio.open(out / "worldpop_chn_tiny.tif", "w", driver="GTiff", height=rows, width=cols, count=1,
                   dtype="float32", crs="EPSG:4326", transform=from_origin(109.99, 39.81, step, step),
                   nodata=-99999.0) as ds:
    ds.write(values, 1)
print(sorted(p.name for p in out.iterdir()))
