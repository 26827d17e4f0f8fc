"""Benchmark ``ordos-geo run`` end to end, from raw ``.osm.pbf`` files, beside the osmnx recipe.

For each size the script writes a raw synthetic Ordos-like city, the way a
planner's inputs arrive, into ``--cities-dir`` (default
``/tmp/ordos_bench_cities``, one folder per size, seed and generator version,
kept for the next run; ``--write-cities`` only writes them):

- ``city.osm.pbf`` written with pyosmium's ``WriteHandler`` (the ``osmium``
  package): a perturbed street grid near Dongsheng (80 m blocks, 5 % of links
  missing, diagonal footways, main roads every 5th and 10th line) cut by an
  east-west river (a ``waterway=river`` line) crossed at four bridges only, a
  grade-separated motorway on its own nodes (not walkable), 2 % of the ways
  tagged ``foot=no`` (not walkable) and 3 % of the residential ways one-way
  (walkers use them both ways);
- ``population.tif``: a WorldPop-style EPSG:4326 grid of people per cell
  (about 1.36 populated cells per OSM node, as in issue 9; none on the river);
- ``facilities.geojson``: one venue per 300 nodes, of the ten kinds of
  ``benchmarks/_synthetic.py``; ``districts.geojson``: two districts, north and
  south of the river.

The OSM file is built as OPL text and written by libosmium in one call. Then
it runs ``python -m ordos_geo.cli -v run`` as a subprocess, in a fresh folder
linking to the city's files, and reports the whole-process wall time, each
stage's time (its ``<stage> done in <s> s`` line), the time at which each
progress line of the run appeared (read from its ``-v`` log as it is written), the peak resident memory
of the run (``ru_maxrss`` of the process from ``wait4``, and the largest sum
over the process tree sampled every 0.2 s; a run whose tree passes
``--memory-limit-gb`` is stopped), and the size of ``coverage.html``. If
Chromium is installed, it opens ``coverage.html`` headless and times it until
the map has drawn.

In the same run (sizes up to ``--osmnx-max-nodes``), a separate process does the
osmnx recipe on the same city written as ``.osm`` XML: ``graph_from_xml``,
``project_graph``, ``nearest_nodes`` for cells and venues, and one
``networkx.multi_source_dijkstra`` per kind (cap 5 km) on the reversed graph.
It is the part both do (load, project, snap, nearest distance per kind); it
does not apply the walking rules (motorway and ``foot=no`` stay in).

After the run, a fresh process loads the network again from the run's cache
(``load_walk_network``: the arrays in one ``.npz``) and reports its whole-process
time and the load call alone.

``--map-cells 1360000`` also times the maps stage alone (``maps.coverage_map``
and ``render_html``, then headless Chromium) on that many cells with stand-in
distances, without routing: the page size and drawing time of a 1M-node city
in a minute instead of the whole run.

Run:  .venv/bin/python benchmarks/bench_end_to_end.py [--sizes 100000 400000 1000000] [--map-cells 1360000]
      [--cities-dir DIR] [--write-cities] [--run-args --no-siting --no-trails --no-maps]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._synthetic import BENCH_KINDS, TYPICAL_AREA_M2  # noqa: E402

#: The city lies in UTM 49N, centred near Dongsheng.
CITY_CRS = "EPSG:32649"
CENTRE_LONLAT = (109.98, 39.82)
BLOCK_M = 80.0
#: Populated cells per OSM node (issue 9: 1.36M cells on the 1M-node city).
CELLS_PER_NODE = 1.36
NODES_PER_FACILITY = 300
#: Version of the city generator: part of a cached city's folder name; raise it when the written city changes.
CITY_VERSION = 2
#: Where written cities are kept between runs (``--cities-dir``).
DEFAULT_CITIES_DIR = Path(tempfile.gettempdir()) / "ordos_bench_cities"


# ---------------------------------------------------------------------------- the raw city


def _grid(n_nodes: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    side = math.ceil(math.sqrt(n_nodes))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")  # ii = column (x), jj = row (y)
    jitter = rng.uniform(-15, 15, (side * side, 2))
    xy = np.column_stack([ii.ravel() * BLOCK_M, jj.ravel() * BLOCK_M]) + jitter
    return xy, side


#: Escaped in OPL strings (libosmium's OPL format: ``%<hex code point>%``).
_OPL_SPECIAL = re.compile(r"[\s,=@%]")


def _opl_text(text: str) -> str:
    return _OPL_SPECIAL.sub(lambda match: f"%{ord(match[0]):x}%", text)


def _opl(ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, ways: list[tuple[list[int], dict[str, str]]]) -> bytes:
    """The city as OPL text (libosmium's one-object-a-line format), built in bulk: nodes, then ways."""
    nodes = [f"n{i} v1 x{x:.7f} y{y:.7f}" for i, x, y in zip(ids.tolist(), lon.tolist(), lat.tolist(), strict=True)]
    lines = [
        f"w{way_id} v1 T{','.join(f'{_opl_text(k)}={_opl_text(v)}' for k, v in tags.items())} N"
        + ",".join(f"n{ref}" for ref in refs)
        for way_id, (refs, tags) in enumerate(ways, start=1)
    ]
    return ("\n".join(nodes + lines) + "\n").encode("utf-8")


def _write_osm(opl: bytes, path: Path) -> None:
    """Write OPL text as ``.osm.pbf`` or ``.osm`` (by the suffix), in libosmium: no Python call per object."""
    import osmium

    writer = osmium.WriteHandler(str(path))
    try:
        osmium.apply(osmium.io.Reader(osmium.io.FileBuffer(opl, "opl")), writer)
    finally:
        writer.close()


def write_city(n_nodes: int, folder: Path, *, seed: int = 0, xml: bool = False) -> dict:  # noqa: C901 - one city, written step by step
    """Write the raw inputs of a synthetic city of about ``n_nodes`` OSM nodes into ``folder``."""
    import geopandas as gpd
    import pyproj
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    xy, side = _grid(n_nodes, rng)
    to_metric = pyproj.Transformer.from_crs(4326, CITY_CRS, always_xy=True)
    to_lonlat = pyproj.Transformer.from_crs(CITY_CRS, 4326, always_xy=True)
    cx, cy = to_metric.transform(*CENTRE_LONLAT)
    origin = np.array([cx, cy]) - side * BLOCK_M / 2
    xy = xy + origin
    river_row = side // 2  # the river runs between grid rows river_row - 1 and river_row
    river_y = origin[1] + (river_row - 0.5) * BLOCK_M
    bridges = set(np.linspace(side * 0.15, side * 0.85, 4).astype(int).tolist())

    def node(i: int, j: int) -> int:
        return i * side + j + 1  # OSM ids from 1

    ways: list[tuple[list[int], dict[str, str]]] = []
    missing = rng.random((2, side, side)) < 0.05  # [direction, line, position]: link after this node missing

    def add_line(ids: list[int], cut_after: np.ndarray, highway: str, name: str) -> None:
        """Ways of at most 20 nodes along one street, split where a link is missing."""
        run: list[int] = []
        for k, osm_id in enumerate(ids):
            run.append(osm_id)
            if k + 1 == len(ids) or cut_after[k] or len(run) == 20:
                if len(run) > 1:
                    tags = {"highway": highway, "name": name}
                    if highway == "residential" and rng.random() < 0.03:
                        tags["oneway"] = "yes"  # walkers use it both ways
                    if rng.random() < 0.02:
                        tags["foot"] = "no"
                    ways.append((run, tags))
                run = [] if cut_after[k] else [osm_id]

    def line_tag(index: int) -> str:
        return "primary" if index % 10 == 0 else "secondary" if index % 5 == 0 else "residential"

    for j in range(side):  # east-west streets
        add_line([node(i, j) for i in range(side)], missing[0, j], line_tag(j), f"东西街 {j}")
    for i in range(side):  # north-south streets, cut by the river; four bridges cross it
        cut = missing[1, i].copy()
        cut[river_row - 1] = True
        add_line([node(i, j) for j in range(side)], cut, line_tag(i), f"南北街 {i}")
        if i in bridges:
            ways.append(
                (
                    [node(i, river_row - 1), node(i, river_row)],
                    {"highway": "secondary", "bridge": "yes", "layer": "1", "name": f"桥 {i}"},
                )
            )
    diagonal = np.flatnonzero(rng.random((side - 1) * (side - 1)) < 0.05)
    for flat in diagonal:
        i, j = divmod(int(flat), side - 1)
        if j == river_row - 1:
            continue  # no footway over the river
        ways.append(([node(i, j), node(i + 1, j + 1)], {"highway": "footway"}))
    next_id = side * side + 1
    extra_nodes: list[tuple[int, float, float]] = []

    def chain(x: np.ndarray, y: np.ndarray, tags: dict[str, str]) -> None:
        nonlocal next_id
        ids = list(range(next_id, next_id + len(x)))
        next_id += len(x)
        extra_nodes.extend(zip(ids, x.tolist(), y.tolist(), strict=True))
        for start in range(0, len(ids) - 1, 50):
            ways.append((ids[start : start + 51], dict(tags)))

    steps = np.arange(side) * BLOCK_M
    motorway_x = origin[0] + (side // 3 + 0.5) * BLOCK_M
    chain(np.full(side, motorway_x), origin[1] + steps, {"highway": "motorway", "oneway": "yes", "ref": "G65"})
    chain(origin[0] + steps, np.full(side, river_y), {"waterway": "river", "name": "乌兰木伦河"})

    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    extra = np.array([(x, y) for _, x, y in extra_nodes])
    elon, elat = to_lonlat.transform(extra[:, 0], extra[:, 1])
    ids = np.concatenate([np.arange(1, len(lon) + 1), [osm_id for osm_id, _, _ in extra_nodes]])
    opl = _opl(ids, np.concatenate([lon, elon]), np.concatenate([lat, elat]), ways)
    paths = {"pbf": folder / "city.osm.pbf"}
    if xml:
        paths["xml"] = folder / "city.osm"
    for path in paths.values():
        _write_osm(opl, path)

    # population: EPSG:4326 grid, square-ish cells sized for CELLS_PER_NODE populated cells per node
    west, south = to_lonlat.transform(origin[0] - 100, origin[1] - 100)
    east, north = to_lonlat.transform(origin[0] + side * BLOCK_M + 100, origin[1] + side * BLOCK_M + 100)
    area_per_cell = (side * BLOCK_M) ** 2 / (CELLS_PER_NODE * side * side) / 0.97
    dlat = math.sqrt(area_per_cell) / 111_320.0
    dlon = dlat / math.cos(math.radians(CENTRE_LONLAT[1]))
    width, height = math.ceil((east - west) / dlon), math.ceil((north - south) / dlat)
    transform = from_origin(west, north, dlon, dlat)
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    clon, clat = west + (cols + 0.5) * dlon, north - (rows + 0.5) * dlat
    mx, my = to_metric.transform(clon.ravel(), clat.ravel())
    mx, my = np.asarray(mx).reshape(clon.shape), np.asarray(my).reshape(clon.shape)
    inside = (
        (mx > origin[0])
        & (mx < origin[0] + (side - 1) * BLOCK_M)
        & (my > origin[1])
        & (my < origin[1] + (side - 1) * BLOCK_M)
    )
    populated = inside & (np.abs(my - river_y) > 60) & (rng.random(clon.shape) > 0.03)
    people = np.where(populated, np.round(rng.lognormal(2.3, 0.9, clon.shape), 2) + 0.05, 0.0).astype("float32")
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": -99999.0,
        "compress": "deflate",
        "tiled": True,
    }
    with rasterio.open(folder / "population.tif", "w", **profile) as dst:
        dst.write(people, 1)

    n_facilities = max(10, n_nodes // NODES_PER_FACILITY)
    kinds = rng.choice(list(BENCH_KINDS), size=n_facilities, p=list(BENCH_KINDS.values()))
    fx = rng.uniform(origin[0], origin[0] + (side - 1) * BLOCK_M, n_facilities)
    fy = rng.uniform(origin[1], origin[1] + (side - 1) * BLOCK_M, n_facilities)
    fy = np.where(np.abs(fy - river_y) < 60, fy + 120, fy)
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": [f"V{i:06d}" for i in range(n_facilities)],
            "name": [f"场馆 {i}" for i in range(n_facilities)],
            "kind": kinds,
            "area_m2": [TYPICAL_AREA_M2[k] for k in kinds],
            "open_to_public": True,
        },
        geometry=shapely.points(fx, fy),
        crs=CITY_CRS,
    ).to_crs(4326)
    facilities.to_file(folder / "facilities.geojson", driver="GeoJSON")
    x0, x1 = origin[0] - 200, origin[0] + side * BLOCK_M + 200
    y0, y1 = origin[1] - 200, origin[1] + side * BLOCK_M + 200
    districts = gpd.GeoDataFrame(
        {
            "adcode": ["150602", "150699"],
            "name_zh": ["南区", "北区"],
            "name_en": ["South", "North"],
            "level": ["district", "district"],
        },
        geometry=[shapely.box(x0, y0, x1, river_y), shapely.box(x0, river_y, x1, y1)],
        crs=CITY_CRS,
    ).to_crs(4326)
    districts.to_file(folder / "districts.geojson", driver="GeoJSON")
    (folder / "study.toml").write_text(
        f'[study]\nname = "bench_{n_nodes}"\nlanguage = "zh"\nsynthetic = true\n\n'
        '[inputs]\nnetwork = "city.osm.pbf"\npopulation = "population.tif"\nfacilities = "facilities.geojson"\n'
        'boundaries = "districts.geojson"\n\n[output]\nout = "results"\n',
        encoding="utf-8",
    )
    return {
        "osm_nodes": len(lon) + len(extra_nodes),
        "osm_ways": len(ways),
        "populated_cells": int(populated.sum()),
        "facilities": n_facilities,
        "pbf_mb": paths["pbf"].stat().st_size / 1e6,
        "xml": str(paths.get("xml", "")),
    }


# ---------------------------------------------------------------------------- measuring a process


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB, from /proc)."""
    total = 0.0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024.0
            with open(f"/proc/{current}/task/{current}/children") as children:
                stack.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def run_measured(args: list[str], *, cwd: Path, memory_limit_mb: float) -> dict:
    """Run a command; return wall time, peak RSS (own and tree), exit code and stamped stderr lines."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_tree = 0.0
    stopped = False
    lines: list[tuple[float, str]] = []
    out: list[str] = []

    def read(stream, sink, stamped: bool) -> None:
        for line in stream:
            sink.append((time.perf_counter() - start, line.rstrip("\n")) if stamped else line)

    readers = [
        threading.Thread(target=read, args=(process.stderr, lines, True), daemon=True),
        threading.Thread(target=read, args=(process.stdout, out, False), daemon=True),
    ]
    for reader in readers:
        reader.start()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak_tree = max(peak_tree, _tree_rss_mb(process.pid))
        if peak_tree > memory_limit_mb and not stopped:
            stopped = True
            process.kill()
        time.sleep(0.2)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=5)
    own_peak = usage.ru_maxrss / 1024.0  # the run's own peak (forked helpers it waited for included)
    stdout = "".join(out)
    return {
        "wall_s": wall,
        "returncode": process.returncode,
        "peak_tree_mb": peak_tree,
        "maxrss_children_mb": own_peak,
        "stopped_for_memory": stopped,
        "stderr": lines,
        "stdout": stdout,
    }


_STAGE_DONE = re.compile(r"progress INFO: (?P<stage>[\w ]+?) done in (?P<seconds>[\d.]+) s$")
_LOG = re.compile(r"^\d\d:\d\d:\d\d (?P<name>[\w.]+) (?P<level>[A-Z]+): (?P<message>.*)$")


_STAGE_START = re.compile(r"progress INFO: (?P<stage>[\w ]+?) \.\.\.$")
#: The log lines that end the accessibility computation of the first run and of the after-plan update.
_ACCESSIBILITY_END = {
    "accessibility": re.compile(r"accessibility\.stage INFO: accessibility: [\d,]+ cells"),
    "after plan": re.compile(r"accessibility\.update INFO: accessibility update: "),
}


def stage_spans(stderr: list[tuple[float, str]]) -> dict[str, dict[str, float]]:
    """Per stage, seconds from its start line to its done line, and to its accessibility log line if it has one.

    Taken from the times the lines arrived (milliseconds), not from the
    rounded seconds the done lines print.
    """
    started: dict[str, float] = {}
    spans: dict[str, dict[str, float]] = {}
    for at, line in stderr:
        start, done = _STAGE_START.search(line), _STAGE_DONE.search(line)
        if start:
            started[start["stage"]] = at
        elif done and done["stage"] in started:
            spans.setdefault(done["stage"], {})["stage_s"] = at - started[done["stage"]]
        for stage, pattern in _ACCESSIBILITY_END.items():
            if stage in started and pattern.search(line):
                spans.setdefault(stage, {})["accessibility_s"] = at - started[stage]
    return spans


def progress_lines(stderr: list[tuple[float, str]]) -> list[tuple[float, float, str]]:
    """(time since start, time since the previous line, text) of each log line the run printed."""
    out = []
    previous = 0.0
    for at, line in stderr:
        match = _LOG.match(line)
        text = f"{match['name'].removeprefix('ordos_geo.')}: {match['message']}" if match else line
        out.append((at, at - previous, text[:110]))
        previous = at
    return out


def browser_draw_s(page: Path) -> float | None:
    """Seconds from navigation until headless Chromium has drawn the map (None without Chromium)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from _browser import Browser, find_chromium
    except ImportError:
        return None
    executable = find_chromium()
    if executable is None:
        return None
    with Browser(executable, timeout_s=120) as browser:
        start = time.perf_counter()
        report = browser.open(page)
        browser.evaluate(  # until the page has coloured the shown cell layer (or has none)
            "new Promise(r => { const wait = () => { const img = document.querySelector('img.ordos-cells');"
            " if (!img || img.hasAttribute('data-drawn')) { r(); } else { setTimeout(wait, 20); } }; wait(); })",
            await_promise=True,
        )
        browser.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))", await_promise=True)
        elapsed = time.perf_counter() - start
        if report.exceptions or report.console_errors:
            print(f"  browser errors: {report.exceptions[:2]} {report.console_errors[:2]}")
    return elapsed


# ---------------------------------------------------------------------------- the osmnx recipe


def osmnx_recipe(xml: Path, population: Path, facilities: Path) -> dict:
    """graph_from_xml, project_graph, nearest_nodes, multi_source_dijkstra per kind; step times in seconds."""
    import warnings

    import geopandas as gpd
    import networkx as nx
    import osmnx as ox

    from ordos_geo import io

    warnings.filterwarnings("ignore")
    times = {}
    start = time.perf_counter()
    graph = ox.graph_from_xml(xml, retain_all=True)
    times["graph_from_xml"] = time.perf_counter() - start
    mark = time.perf_counter()
    graph = ox.project_graph(graph)
    times["project_graph"] = time.perf_counter() - mark
    mark = time.perf_counter()
    cells = io.read_population(population).to_crs(graph.graph["crs"])
    venues = gpd.read_file(facilities).to_crs(graph.graph["crs"])
    times["read inputs"] = time.perf_counter() - mark
    mark = time.perf_counter()
    centres = cells.geometry.centroid
    cell_nodes = ox.distance.nearest_nodes(graph, centres.x.to_numpy(), centres.y.to_numpy())
    venue_nodes = ox.distance.nearest_nodes(graph, venues.geometry.x.to_numpy(), venues.geometry.y.to_numpy())
    times["nearest_nodes"] = time.perf_counter() - mark
    mark = time.perf_counter()
    reverse = graph.reverse(copy=False)
    nodes = np.asarray(cell_nodes)
    for kind in ["any", *sorted(set(venues["kind"]))]:
        chosen = venue_nodes if kind == "any" else np.asarray(venue_nodes)[(venues["kind"] == kind).to_numpy()]
        dist = nx.multi_source_dijkstra_path_length(reverse, set(chosen.tolist()), cutoff=5000, weight="length")
        np.array([dist.get(n, np.inf) for n in nodes])
    times["multi_source_dijkstra"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    times["nodes"] = graph.number_of_nodes()
    return times


# ---------------------------------------------------------------------------- the maps stage alone


def bench_map_page(n_cells: int, *, n_kinds: int = 10, seed: int = 0) -> dict:
    """Build coverage.html for ``n_cells`` cells of a square city with stand-in distances; size and draw time.

    The distances are 1.3 x the straight line to the nearest of one venue per
    4,000 cells of each kind (for "any": all venues), plus 0-40 m of snapping
    noise: smooth like walking distances, so the page's compression sees a
    realistic field. Cells are 3-arc-second WorldPop-style cells in EPSG:4326.
    """
    import geopandas as gpd
    import pyproj
    import shapely
    from scipy.spatial import cKDTree

    from ordos_geo import maps

    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_cells))
    step = 3.0 / 3600.0
    lon0, lat0 = CENTRE_LONLAT[0] - side * step / 2, CENTRE_LONLAT[1] - side * step / 2
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    cols, rows = cols.ravel()[:n_cells], rows.ravel()[:n_cells]
    west, south = lon0 + cols * step, lat0 + rows * step
    cells = gpd.GeoDataFrame(
        {
            "population": np.round(rng.lognormal(2.3, 0.9, n_cells), 2) + 0.05,
            "district": np.where(rows < side // 2, "南区", "北区"),
        },
        geometry=shapely.box(west, south, west + step, south + step),
        crs=4326,
    )
    metric = pyproj.Transformer.from_crs(4326, CITY_CRS, always_xy=True)
    x, y = metric.transform(west + step / 2, south + step / 2)
    xy = np.column_stack([x, y])
    kinds = list(BENCH_KINDS)[:n_kinds]
    venues_xy = {}
    for kind in kinds:
        count = max(3, n_cells // 4000)
        venues_xy[kind] = xy[rng.integers(0, n_cells, count)]
    venues_xy["any"] = np.vstack(list(venues_xy.values()))
    for kind, points in venues_xy.items():
        distance = cKDTree(points).query(xy)[0] * 1.3 + rng.uniform(0, 40, n_cells)
        cells[f"dist_m_{kind}"] = np.where(distance < 5000, distance, np.inf)
    facilities = gpd.GeoDataFrame(
        {
            "kind": np.repeat(kinds, [len(venues_xy[k]) for k in kinds]),
            "name": [f"场馆 {i}" for i in range(len(venues_xy["any"]))],
        },
        geometry=shapely.points(venues_xy["any"]),
        crs=CITY_CRS,
    )
    folder = Path(tempfile.mkdtemp(prefix="ordos-map-"))
    try:
        start = time.perf_counter()
        style = maps.MapStyle(basemap="none", synthetic=True)
        page = maps.render_html(maps.coverage_map(cells, facilities, style=style))
        build = time.perf_counter() - start
        path = folder / "coverage.html"
        path.write_text(page, encoding="utf-8")
        result = {
            "cells": n_cells,
            "kinds": n_kinds,
            "facilities": len(facilities),
            "build_s": build,
            "coverage_html_mb": path.stat().st_size / 1e6,
            "browser_draw_s": browser_draw_s(path),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    draw = result["browser_draw_s"]
    print(
        f"\n## maps stage alone: {n_cells:,} cells, {n_kinds} kinds + any, {len(facilities):,} venues: "
        f"coverage.html {result['coverage_html_mb']:.1f} MB built in {build:.1f} s"
        + (f", drawn by headless Chromium in {draw:.1f} s" if draw is not None else ""),
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------- main


def reload_network(folder: Path, *, memory_limit_mb: float) -> dict:
    """Load the walk network the run cached, in a fresh process: whole-process time and the load call itself."""
    code = (
        "import json, time; t0 = time.perf_counter();"
        "from pathlib import Path; from ordos_geo.network import load_walk_network; t1 = time.perf_counter();"
        "net = load_walk_network('city.osm.pbf', cache_dir=Path('data/processed/networks'));"
        "print(json.dumps({'import_s': t1 - t0, 'load_s': time.perf_counter() - t1,"
        " 'cache': net.report['cache'], 'nodes': net.n_nodes, 'edges': net.n_edges}))"
    )
    run = run_measured([sys.executable, "-c", code], cwd=folder, memory_limit_mb=memory_limit_mb)
    if run["returncode"] != 0:
        print(f"reload failed: {run['stderr'][-3:]}")
        return {"error": run["stderr"][-3:]}
    steps = json.loads(run["stdout"].strip().splitlines()[-1])
    print(
        f"reload of the cached network ({steps['cache']}): {run['wall_s']:.1f} s whole process, "
        f"load_walk_network {steps['load_s']:.1f} s, {steps['nodes']:,} nodes, {steps['edges']:,} edges, "
        f"peak {run['peak_tree_mb'] / 1024:.2f} GB"
    )
    return steps | {"wall_s": run["wall_s"], "peak_tree_mb": run["peak_tree_mb"]}


def cached_city(n_nodes: int, cities_dir: Path, *, xml: bool, seed: int = 0) -> tuple[Path, dict]:
    """The folder of a written city in ``cities_dir`` (keyed by size, seed and generator version), written if missing.

    A city is written into a temporary folder beside its place and renamed
    when complete, so an interrupted write leaves nothing that looks cached.
    The ``.osm`` XML for the osmnx recipe is added to a cached city when asked.
    """
    folder = cities_dir / f"city_{n_nodes}_seed{seed}_v{CITY_VERSION}"
    meta_path = folder / "city.json"
    if meta_path.exists():
        city = json.loads(meta_path.read_text(encoding="utf-8"))
        city["write_s"] = 0.0
        city["cached"] = True
        if xml and not (folder / "city.osm").exists():
            import osmium

            partial = folder / "city.osm.partial.osm"
            mark = time.perf_counter()
            writer = osmium.WriteHandler(str(partial))
            try:
                osmium.apply(osmium.io.Reader(str(folder / "city.osm.pbf")), writer)
            finally:
                writer.close()
            partial.rename(folder / "city.osm")
            city["write_s"] = time.perf_counter() - mark
        city["xml"] = str(folder / "city.osm") if xml else ""
        return folder, city
    cities_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=cities_dir))
    staging.chmod(0o755)
    mark = time.perf_counter()
    city = write_city(n_nodes, staging, seed=seed, xml=xml)
    city["write_s"] = time.perf_counter() - mark
    (staging / "city.json").write_text(json.dumps(city | {"xml": ""}, indent=1), encoding="utf-8")
    staging.rename(folder)
    city["cached"] = False
    city["xml"] = str(folder / "city.osm") if xml else ""
    return folder, city


def _run_folder(city_folder: Path) -> Path:
    """A fresh folder for one run: links to the cached city's inputs (the run writes its results and cache here)."""
    folder = Path(tempfile.mkdtemp(prefix=f"ordos-e2e-{city_folder.name}-"))
    for path in city_folder.iterdir():
        if path.is_file() and path.name != "city.json":
            (folder / path.name).symlink_to(path)
    return folder


def stage_times(stderr: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds of each stage, from the run's ``<stage> done in <s> s`` progress lines."""
    times = {}
    for _, line in stderr:
        match = _STAGE_DONE.search(line)
        if match:
            times[match["stage"]] = float(match["seconds"])
    return times


def bench_size(
    n_nodes: int, *, run_args: list[str], osmnx: bool, memory_limit_mb: float, keep: Path | None, cities_dir: Path
) -> dict:
    city_folder, city = cached_city(n_nodes, cities_dir, xml=osmnx)
    print(
        f"\n## {n_nodes:,}-node city: {city['osm_nodes']:,} OSM nodes, {city['osm_ways']:,} ways, "
        f"{city['populated_cells']:,} populated cells, {city['facilities']:,} venues; "
        f"city.osm.pbf {city['pbf_mb']:.1f} MB "
        + (f"(cached: {city_folder})" if city["cached"] else f"(written in {city['write_s']:.0f} s: {city_folder})"),
        flush=True,
    )
    folder = _run_folder(city_folder)
    try:
        command = [sys.executable, "-m", "ordos_geo.cli", "-v", "run", "--config", "study.toml", *run_args]
        env_path = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env_path}" if env_path else str(ROOT)
        run = run_measured(command, cwd=folder, memory_limit_mb=memory_limit_mb)
        result = {
            "n_nodes": n_nodes,
            "city": city,
            "run_args": run_args,
            "wall_s": run["wall_s"],
            "returncode": run["returncode"],
            "peak_tree_mb": run["peak_tree_mb"],
            "maxrss_mb": run["maxrss_children_mb"],
            "stopped_for_memory": run["stopped_for_memory"],
        }
        print(
            f"ordos-geo run {' '.join(run_args)}: exit {run['returncode']}, {run['wall_s']:.1f} s wall, "
            f"peak RSS {run['maxrss_children_mb'] / 1024:.2f} GB (largest process), "
            f"{run['peak_tree_mb'] / 1024:.2f} GB (process tree, sampled)"
        )
        print("  at (s) | step (s) | progress line")
        for at, step, text in progress_lines(run["stderr"]):
            print(f"  {at:6.1f} | {step:8.1f} | {text}")
        result["progress"] = progress_lines(run["stderr"])
        result["stages_s"] = stage_times(run["stderr"])
        print("  stage times: " + ", ".join(f"{stage} {sec:.1f} s" for stage, sec in result["stages_s"].items()))
        spans = result["stage_spans_s"] = stage_spans(run["stderr"])
        first, after = spans.get("accessibility", {}), spans.get("after plan", {})
        for what, key in (("whole stage", "stage_s"), ("accessibility computation", "accessibility_s")):
            if key in first and key in after:
                print(
                    f"  after plan / first run, {what}: {after[key]:.3f} s / {first[key]:.3f} s = "
                    f"{100 * after[key] / first[key]:.1f} %"
                )
        coverage = next(iter(folder.glob("results/**/coverage.html")), None)
        if coverage is not None:
            result["coverage_html_mb"] = coverage.stat().st_size / 1e6
            result["browser_draw_s"] = browser_draw_s(coverage)
            draw = result["browser_draw_s"]
            print(
                f"  coverage.html {result['coverage_html_mb']:.1f} MB"
                + (f", drawn by headless Chromium in {draw:.1f} s" if draw is not None else "")
            )
        result["reload"] = reload_network(folder, memory_limit_mb=memory_limit_mb)
        if osmnx:
            code = (
                "import json, sys; sys.path.insert(0, sys.argv[1]);"
                "from benchmarks.bench_end_to_end import osmnx_recipe;"
                "print(json.dumps(osmnx_recipe(*sys.argv[2:5])))"
            )
            recipe = run_measured(
                [sys.executable, "-c", code, str(ROOT), city["xml"], "population.tif", "facilities.geojson"],
                cwd=folder,
                memory_limit_mb=memory_limit_mb,
            )
            if recipe["returncode"] == 0:
                steps = json.loads(recipe["stdout"].strip().splitlines()[-1])
                result["osmnx"] = steps | {"wall_s": recipe["wall_s"], "peak_tree_mb": recipe["peak_tree_mb"]}
                print(
                    f"osmnx recipe: {recipe['wall_s']:.1f} s wall, peak {recipe['peak_tree_mb'] / 1024:.2f} GB; "
                    + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items() if k not in ("nodes",))
                )
            else:
                result["osmnx"] = {"error": recipe["stderr"][-3:]}
                print(f"osmnx recipe failed: {recipe['stderr'][-3:]}")
        if keep is not None:
            shutil.copytree(folder, keep / f"city_{n_nodes}", dirs_exist_ok=True)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 400_000])
    parser.add_argument(
        "--run-args",
        nargs=argparse.REMAINDER,
        default=[],
        help="flags passed to `ordos-geo run` (last on the line), e.g. --no-siting --no-trails",
    )
    parser.add_argument("--osmnx-max-nodes", type=int, default=400_000, help="run the osmnx recipe up to this size")
    parser.add_argument("--memory-limit-gb", type=float, default=10.0, help="stop a run whose process tree passes this")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--keep", type=Path, help="copy each city folder (inputs and outputs) here")
    parser.add_argument(
        "--cities-dir",
        type=Path,
        default=DEFAULT_CITIES_DIR,
        help=f"written cities are kept here, keyed by size and generator version (default {DEFAULT_CITIES_DIR})",
    )
    parser.add_argument("--write-cities", action="store_true", help="only write the cities of --sizes (if missing)")
    parser.add_argument(
        "--map-cells",
        type=int,
        nargs="*",
        default=[],
        help="also time the maps stage alone on this many cells (e.g. 1360000)",
    )
    args = parser.parse_args()
    print(
        f"# ordos-geo end to end: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    if args.write_cities:
        for n in args.sizes:
            folder, city = cached_city(n, args.cities_dir, xml=n <= args.osmnx_max_nodes)
            state = "cached" if city["cached"] else f"written in {city['write_s']:.0f} s"
            print(f"{n:,}-node city: {folder} ({state})", flush=True)
        return
    results = [
        bench_size(
            n,
            run_args=args.run_args,
            osmnx=n <= args.osmnx_max_nodes,
            memory_limit_mb=args.memory_limit_gb * 1024,
            keep=args.keep,
            cities_dir=args.cities_dir,
        )
        for n in args.sizes
    ]
    results += [bench_map_page(n) for n in args.map_cells]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
