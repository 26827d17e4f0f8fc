"""Benchmark the accessibility stage on synthetic walk networks of 100k, 400k and 1M nodes.

For each size a separate Python process builds a perturbed-grid walk network
(``benchmarks/_synthetic.py``: 80 m blocks, diagonal footways, missing links,
one-way links), about 2 population cells per node and one facility per 100
cells in 10 kinds (parks and sports parks as polygons), then runs
:func:`ordos_geo.accessibility.compute_accessibility` once and reports its own
step timings (wall clock) and the process' peak resident memory (``ru_maxrss``,
which includes building the synthetic inputs).

On the 100k network the same process then does the same job the two common ways:

- **networkx way**: ``osmnx.distance.nearest_nodes`` for cells and facilities
  (snapping to nodes), ``networkx.multi_source_dijkstra`` per kind on the
  reversed graph (cap 5 km), and ``networkx.ego_graph`` (radius 1 km) per
  facility for the catchments. The ego-graph part is timed on a random sample
  of facilities and extrapolated linearly to all facilities (marked ``*``).
- **pandana**: ``Network`` (contraction hierarchies; build included),
  ``precompute(1000)``, ``set_pois`` + ``nearest_pois(5000)`` per kind,
  ``get_node_ids`` for the cells, ``set`` + ``aggregate(1000)`` for the
  catchment sums.

Service-area polygons are not part of the timed end-to-end run
(``service_areas_by="none"``); on 100k their time is reported on its own line.

Run:  .venv/bin/python benchmarks/bench_accessibility.py [--sizes 100000 400000 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _children_peak_mb() -> float:
    """Largest peak RSS of the forked helper processes (shared copy-on-write pages counted in full)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def _timed(fn, *args, **kwargs):
    wall = time.perf_counter()
    cpu = time.process_time()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _ours(n_nodes: int, seed: int) -> tuple[dict, tuple]:
    from benchmarks._synthetic import synthetic_study
    from ordos_geo.accessibility import compute_accessibility

    (network, cells, facilities), build_s, _ = _timed(synthetic_study, n_nodes, seed=seed)
    result, wall, cpu = _timed(
        compute_accessibility, network, cells, facilities, service_areas_by="none", progress=False
    )
    row = {
        "nodes": network.n_nodes,
        "directed_edges": network.n_edges,
        "cells": len(cells),
        "facilities": len(facilities),
        "kinds": int(facilities["kind"].nunique()),
        "build_inputs_s": build_s,
        "steps_s": result.timings_s,
        "end_to_end_s": wall,
        "end_to_end_cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "children_peak_mb": _children_peak_mb(),
        "share_within_1000m": float(
            (result.cells["population"] * result.cells["covered_1000m"]).sum() / result.cells["population"].sum()
        ),
    }
    return row, (network, cells, facilities, result)


def _service_areas(network, facilities, *, sample: int = 200) -> dict:
    from ordos_geo.accessibility import service_areas

    subset = facilities.iloc[:sample]
    areas, wall, cpu = _timed(service_areas, network, subset, thresholds_m=(300, 500, 1000), progress=False)
    return {"service_areas_s": wall, "service_areas_cpu_s": cpu, "service_area_polygons": len(areas), "n": len(subset)}


def _networkx_way(network, cells, facilities, *, ego_sample: int, seed: int) -> dict:
    import networkx as nx
    import osmnx as ox
    import shapely

    from benchmarks._synthetic import to_networkx

    graph = to_networkx(network)  # the input graph; not timed
    reverse = graph.reverse(copy=True)
    cell_xy = shapely.get_coordinates(shapely.centroid(np.asarray(cells.geometry.values)))
    fac_xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(facilities.geometry.values)))
    out = {}
    t0 = time.perf_counter()
    cell_nodes = np.asarray(ox.distance.nearest_nodes(graph, cell_xy[:, 0], cell_xy[:, 1]))
    fac_nodes = np.asarray(ox.distance.nearest_nodes(graph, fac_xy[:, 0], fac_xy[:, 1]))
    out["snap_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    kinds = facilities["kind"].to_numpy()
    nearest = {}
    for kind in sorted(set(kinds)):
        sources = set(fac_nodes[kinds == kind].tolist())
        dist, paths = nx.multi_source_dijkstra(reverse, sources, cutoff=5000, weight="length")
        nearest[kind] = (
            np.array([dist.get(n, np.inf) for n in cell_nodes]),
            [paths[n][0] if n in paths else None for n in cell_nodes],
        )
    out["nearest_s"] = time.perf_counter() - t0
    # catchments: ego graph (1 km) of a sample of facilities, summing the population of the cells at its nodes
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(facilities), size=min(ego_sample, len(facilities)), replace=False)
    pop_at_node = np.bincount(cell_nodes, weights=cells["population"].to_numpy(), minlength=network.n_nodes)
    t0 = time.perf_counter()
    for j in sample:
        ego = nx.ego_graph(reverse, int(fac_nodes[j]), radius=1000, distance="length")
        _ = pop_at_node[np.fromiter(ego.nodes, dtype=np.int64)].sum()
    sample_s = time.perf_counter() - t0
    out["ego_sample_s"] = sample_s
    out["ego_sample_n"] = len(sample)
    out["catchments_s_extrapolated"] = sample_s * len(facilities) / max(len(sample), 1)
    out["total_s"] = out["snap_s"] + out["nearest_s"] + out["catchments_s_extrapolated"]
    return out


def _pandana_way(network, cells, facilities) -> dict:
    import pandana
    import pandas as pd
    import shapely

    out = {}
    t0 = time.perf_counter()
    nodes_x = pd.Series(network.node_xy[:, 0])
    nodes_y = pd.Series(network.node_xy[:, 1])
    edges = network.edges
    net = pandana.Network(
        nodes_x,
        nodes_y,
        pd.Series(edges["u"].to_numpy()),
        pd.Series(edges["v"].to_numpy()),
        pd.DataFrame({"length": edges["length"].to_numpy()}),
        twoway=False,
    )
    out["build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.precompute(1000)
    out["precompute_s"] = time.perf_counter() - t0
    cell_xy = shapely.get_coordinates(shapely.centroid(np.asarray(cells.geometry.values)))
    fac_xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(facilities.geometry.values)))
    t0 = time.perf_counter()
    cell_nodes = net.get_node_ids(pd.Series(cell_xy[:, 0]), pd.Series(cell_xy[:, 1]))
    kinds = facilities["kind"].to_numpy()
    for kind in sorted(set(kinds)):
        sel = kinds == kind
        net.set_pois(kind, 5000, 1, pd.Series(fac_xy[sel, 0]), pd.Series(fac_xy[sel, 1]))
        table = net.nearest_pois(5000, kind, num_pois=1, include_poi_ids=True)
        _ = table.loc[cell_nodes.to_numpy()]
    out["nearest_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fac_nodes = net.get_node_ids(pd.Series(fac_xy[:, 0]), pd.Series(fac_xy[:, 1]))
    net.set(fac_nodes, variable=facilities["area_m2"].to_numpy(), name="area")
    _ = net.aggregate(1000, type="sum", decay="flat", name="area").loc[cell_nodes.to_numpy()]
    out["catchments_s"] = time.perf_counter() - t0
    out["total_s"] = out["build_s"] + out["precompute_s"] + out["nearest_s"] + out["catchments_s"]
    return out


def worker(n_nodes: int, *, baselines: bool, ego_sample: int, seed: int) -> dict:
    row, (network, cells, facilities, _result) = _ours(n_nodes, seed)
    if baselines:
        row["service_areas"] = _service_areas(network, facilities)
        row["networkx"] = _networkx_way(network, cells, facilities, ego_sample=ego_sample, seed=seed)
        row["pandana"] = _pandana_way(network, cells, facilities)
        row["peak_mb_with_baselines"] = _peak_mb()
    return row


def _table(rows: list[dict]) -> str:
    lines = [
        "| stage | nodes | cells | facilities | seconds (wall) | peak MB (process) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        common = f"{r['nodes']:,} | {r['cells']:,} | {r['facilities']:,}"
        steps = r["steps_s"]
        snap = steps.get("snapping", float("nan"))
        lines.append(f"| snapping (cells + facilities, index build included) | {common} | {snap:.2f} | |")
        child = steps.get("nearest_child", 0.0)
        if child > 0:
            lines.append(
                f"| nearest facility, all {r['kinds']} kinds + any: in a child process ({child:.2f} s, alongside "
                f"the catchment pairs), waited for | {common} | {steps['nearest']:.2f} | |"
            )
        else:
            lines.append(f"| nearest facility, all {r['kinds']} kinds + any | {common} | {steps['nearest']:.2f} | |")
        pairs = steps.get("catchment_pairs", float("nan"))
        lines.append(
            f"| coverage tiers + E2SFCA + opportunities (1 km; catchment pairs {pairs:.2f} s) | {common} | "
            f"{steps['coverage_e2sfca']:.2f} | |"
        )
        lines.append(f"| underserved neighbourhoods | {common} | {steps['underserved']:.2f} | |")
        lines.append(
            f"| **end to end** compute_accessibility (CPU {r['end_to_end_cpu_s']:.1f} s) | {common} | "
            f"**{r['end_to_end_s']:.2f}** | {r['peak_mb']:,.0f} |"
        )
        if r.get("children_peak_mb", 0) > 0 and r["steps_s"].get("nearest_child", 0) > 0:
            lines.append(
                f"| (forked helper processes: largest peak RSS, shared pages included) | {common} | | "
                f"{r['children_peak_mb']:,.0f} |"
            )
        if "service_areas" in r:
            sa = r["service_areas"]
            lines.append(
                f"| service-area polygons, 3 thresholds x first {sa['n']} facilities (not in end to end) | "
                f"{common} | {sa['service_areas_s']:.2f} | |"
            )
        if "networkx" in r:
            nx_ = r["networkx"]
            ours = r["end_to_end_s"]
            lines.append(f"| networkx way: osmnx nearest_nodes | {common} | {nx_['snap_s']:.2f} | |")
            lines.append(f"| networkx way: multi_source_dijkstra per kind | {common} | {nx_['nearest_s']:.2f} | |")
            lines.append(
                f"| networkx way: ego_graph per facility* ({nx_['ego_sample_n']} timed: {nx_['ego_sample_s']:.1f} s) "
                f"| {common} | {nx_['catchments_s_extrapolated']:.1f}* | |"
            )
            lines.append(
                f"| **networkx way total** (ratio to ours: **{nx_['total_s'] / ours:.0f}x**) | {common} | "
                f"{nx_['total_s']:.1f} | |"
            )
            pd_ = r["pandana"]
            lines.append(f"| pandana: Network build (CH) | {common} | {pd_['build_s']:.2f} | |")
            lines.append(f"| pandana: precompute(1000) | {common} | {pd_['precompute_s']:.2f} | |")
            lines.append(f"| pandana: get_node_ids + nearest_pois per kind | {common} | {pd_['nearest_s']:.2f} | |")
            lines.append(f"| pandana: aggregate(1000) | {common} | {pd_['catchments_s']:.2f} | |")
            lines.append(
                f"| **pandana total** (ratio to ours: **{pd_['total_s'] / ours:.1f}x**) | {common} | "
                f"{pd_['total_s']:.1f} | {r['peak_mb_with_baselines']:,.0f} (with baselines) |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000, 1_000_000])
    parser.add_argument("--no-baselines", action="store_true", help="skip networkx and pandana on the smallest size")
    parser.add_argument("--ego-sample", type=int, default=100, help="facilities timed with ego_graph (extrapolated)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--baselines", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        row = worker(args.worker, baselines=args.baselines, ego_sample=args.ego_sample, seed=args.seed)
        print("RESULT " + json.dumps(row))
        return 0
    rows = []
    smallest = min(args.sizes)
    for size in args.sizes:
        command = [sys.executable, __file__, "--worker", str(size), "--seed", str(args.seed)]
        command += ["--ego-sample", str(args.ego_sample)]
        if size == smallest and not args.no_baselines:
            command.append("--baselines")
        print(f"running {size:,} nodes ...", file=sys.stderr, flush=True)
        done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ})
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return done.returncode
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        rows.append(json.loads(line[len("RESULT ") :]))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
