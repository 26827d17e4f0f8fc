"""Benchmark trail planning: 10 km of trails on a 100k-node walk network with 200k cells.

The network is the shared perturbed grid of ``benchmarks/_synthetic.py`` (80 m
blocks, about 100,000 nodes, 200,000 directed edges, some diagonal footways and
one-way links) with about 200,000 square population cells (2 per node). Cells
are underserved when their straight-line distance to the nearest of a sparse set
of facilities (one per 500 cells) exceeds 750 m - a stand-in for
``dist_m_any > 1000`` that does not need the accessibility stage to run first.

Measured: building the prize model (snapping the underserved cells, bounded
Dijkstra from their snap points, the segments x cells reach matrix) once, then,
per trail shape (``loop``, ``route``, ``network``), planning: time, residents
reached, upper bound, gap, which shape the bound is proven for, and the share
of what the ``network`` shape reaches. Loop and route planning includes the
``network`` heuristic they are warm-started from and compared with.

Run:  .venv/bin/python benchmarks/bench_trails.py [--nodes 100000] [--shapes loop route network]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._synthetic import synthetic_cells, synthetic_facilities, synthetic_walk_network
from ordos_geo import trails


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--cells-per-node", type=float, default=2.0)
    parser.add_argument("--budget-m", type=float, default=10_000.0)
    parser.add_argument("--reach-m", type=float, default=500.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shapes", nargs="+", default=list(trails.TRAIL_SHAPES), choices=trails.TRAIL_SHAPES)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    network = synthetic_walk_network(args.nodes, seed=args.seed)
    cells = synthetic_cells(network, cells_per_node=args.cells_per_node, seed=args.seed + 1)
    facilities = synthetic_facilities(network, max(10, len(cells) // 500), seed=args.seed + 2)
    centres = np.column_stack([facilities.geometry.centroid.x, facilities.geometry.centroid.y])
    cell_xy = np.column_stack([cells.geometry.centroid.x, cells.geometry.centroid.y])
    distance, _ = cKDTree(centres).query(cell_xy)
    cells["underserved"] = distance > 750.0
    t_build = time.perf_counter() - t0

    t1 = time.perf_counter()
    model = trails.build_prize_model(network, cells, reach_m=args.reach_m, underserved_column="underserved")
    t_prize = time.perf_counter() - t1
    plans = {}
    for shape in args.shapes:
        t2 = time.perf_counter()
        plans[shape] = (
            trails.plan_trails(
                network, cells, budget_m=args.budget_m, prize_model=model, underserved_column="underserved", shape=shape
            ),
            time.perf_counter() - t2,
        )

    under = cells["underserved"].to_numpy()
    print(f"# trails benchmark ({platform.python_version()}, {os.cpu_count()} cores)")
    print(
        f"network: {network.n_nodes:,} nodes, {network.n_edges:,} directed edges, {model.n_segments:,} segments; "
        f"cells: {len(cells):,} ({under.sum():,} underserved, population {model.total_population:,.0f}); "
        f"reach pairs {model.reach.nnz:,}; instance built in {t_build:.1f} s (not timed below)"
    )
    print(f"prize model (snap + bounded Dijkstra + reach matrix): {t_prize:.1f} s")
    print()
    print("| shape | planning | trails (length) | reached | upper bound | gap | bound holds for | share of network |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, (plan, seconds) in plans.items():
        lengths = ", ".join(f"{m / 1000:.1f}" for m in plan.trails["length_m"])
        print(
            f"| {shape} | {seconds:.1f} s | {len(plan.trails)} ({lengths} km) | {plan.population_reached:,.0f} | "
            f"{plan.upper_bound:,.0f} | {100 * plan.gap:.1f} % | {plan.bound_shape} | "
            f"{100 * plan.share_of_network:.1f} % |"
        )
    print(f"peak RSS {_peak_rss_mb():,.0f} MB")
    for shape, (plan, _) in plans.items():
        print()
        print(shape)
        print(plan.trails.drop(columns="geometry").to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
