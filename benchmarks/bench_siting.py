"""Benchmark the siting models: 5,000 candidates x 200,000 demand cells, p = 7.

Each measurement runs in its own Python process so its peak memory (VmHWM,
resident set high-water mark, including HiGHS' C++ allocations) is its own.

The instance is spatially coherent: demand cells (about 100 m apart) and
candidates are uniform random points in a square sized so the density of cells
matches 100 m cells; a candidate covers the cells within ``radius`` metres
(straight line, scipy cKDTree), a few hundred cells each. Populations are
log-normal.

spopt's MCLP needs a dense cost matrix (clients x facilities): at full size
that is 200,000 x 5,000 float64 = 8 GB, and MCLP.from_cost_matrix makes a
second dense copy (aij); it is not tried at full size (the machine is shared)
but run on a smaller instance of the same density, next to our exact and
greedy solves on that same coverage matrix.

Run:  .venv/bin/python benchmarks/bench_siting.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import scipy.sparse
from scipy.spatial import cKDTree

CELL_SPACING_M = 100.0


def make_instance(n_candidates: int, n_cells: int, radius_m: float, seed: int, population_model: str = "clustered"):
    rng = np.random.default_rng(seed)
    side = CELL_SPACING_M * np.sqrt(n_cells)
    cells = rng.uniform(0.0, side, (n_cells, 2))
    sites = rng.uniform(0.0, side, (n_candidates, 2))
    population = rng.lognormal(mean=3.0, sigma=1.0, size=n_cells)
    if population_model == "clustered":
        # towns: a few dense centres (2 km Gaussian bumps) on a sparse background, as in Ordos' districts
        n_towns = max(1, round(side / 5_000.0))
        centres = rng.uniform(0.0, side, (n_towns, 2))
        boost = np.zeros(n_cells)
        for centre in centres:
            boost += np.exp(-((cells - centre) ** 2).sum(axis=1) / (2 * 2_000.0**2))
        population *= 0.2 + 20.0 * boost
    neighbours = cKDTree(cells).query_ball_point(sites, r=radius_m)
    counts = np.fromiter((len(n) for n in neighbours), dtype=np.int64, count=n_candidates)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate([np.sort(np.asarray(n, dtype=np.int64)) for n in neighbours])
    coverage = scipy.sparse.csr_matrix(
        (np.ones(len(indices), dtype=bool), indices, indptr), shape=(n_candidates, n_cells)
    )
    return population, coverage


def rss_mb() -> tuple[float, float]:
    """Current and peak resident set size of this process (MB), from /proc."""
    current = peak = float("nan")
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return current, peak


def child(args: argparse.Namespace) -> dict:
    population, coverage = make_instance(args.candidates, args.cells, args.radius, args.seed, args.population)
    base_rss, _ = rss_mb()
    result: dict = {
        "method": args.child,
        "candidates": args.candidates,
        "cells": args.cells,
        "p": args.p,
        "coverage_nnz": int(coverage.nnz),
        "cells_per_candidate": float(coverage.nnz / args.candidates),
        "rss_after_instance_mb": base_rss,
    }
    if args.child in ("exact", "greedy"):
        from ordos_geo.siting import MaximalCoverage

        started = time.perf_counter()
        model = MaximalCoverage.from_coverage(population, coverage, p=args.p)
        result["build_s"] = time.perf_counter() - started
        result["demand_groups"] = len(model.layers[0].group_weight)
        started = time.perf_counter()
        try:
            model.solve(args.child, time_limit_s=args.time_limit, reduce=not args.no_reduce)
            result["solve_s"] = time.perf_counter() - started
            result["objective"] = model.objective_value
            result["greedy_objective"] = model.greedy_objective
            result["gap_rel"] = model.gap_rel
            result["upper_bound"] = model.upper_bound
            result["greedy_s"] = model.greedy_seconds
            result["status"] = model.status
            result["selected"] = sorted(model.selected_sites.tolist())
        except Exception as error:  # report, don't crash the table
            result["solve_s"] = time.perf_counter() - started
            result["status"] = f"{type(error).__name__}: {error}"
    elif args.child == "spopt":
        import pulp
        from spopt.locate import MCLP

        started = time.perf_counter()
        # spopt wants a dense clients x facilities cost matrix; 0 = covered, 2 = not, radius 1.
        cost = np.where(coverage.T.toarray(), 0.0, 2.0)
        model = MCLP.from_cost_matrix(cost, population, service_radius=1.0, p_facilities=args.p)
        result["build_s"] = time.perf_counter() - started
        started = time.perf_counter()
        solver = pulp.HiGHS(msg=False, timeLimit=args.time_limit, threads=1)
        model.solve(solver, results=False)
        result["solve_s"] = time.perf_counter() - started
        result["objective"] = float(pulp.value(model.problem.objective))
        result["status"] = pulp.LpStatus[model.problem.status]
        result["selected"] = sorted(j for j, var in enumerate(model.fac_vars) if var.value() > 0.5)
    _, result["peak_rss_mb"] = rss_mb()
    return result


def run_child(method: str, args: argparse.Namespace, candidates: int, cells: int, *extra: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--candidates",
        str(candidates),
        "--cells",
        str(cells),
        "--p",
        str(args.p),
        "--radius",
        str(args.radius),
        "--seed",
        str(args.seed),
        "--time-limit",
        str(args.time_limit),
        "--population",
        args.population,
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"method": method, "candidates": candidates, "cells": cells, "status": f"failed: {done.stderr[-400:]}"}
    result = json.loads(lines[-1])
    result["wall_s"] = wall
    return result


def fmt(value, spec: str = ",.1f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=5_000)
    parser.add_argument("--cells", type=int, default=200_000)
    parser.add_argument("--p", type=int, default=7)
    parser.add_argument("--radius", type=float, default=1_000.0, help="coverage radius (m)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--population", choices=["clustered", "uniform"], default="clustered")
    parser.add_argument("--no-reduce", action="store_true", help="exact without the bound reduction")
    parser.add_argument("--time-limit", type=float, default=300.0, help="HiGHS time limit per solve (s)")
    parser.add_argument("--spopt-candidates", type=int, default=200)
    parser.add_argument("--spopt-cells", type=int, default=8_000)
    parser.add_argument("--child", choices=["exact", "greedy", "spopt"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    dense_gb = args.candidates * args.cells * 8 / 1e9
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(
        f"instance: {args.candidates:,} candidates x {args.cells:,} cells, p={args.p}, radius {args.radius:,.0f} m, "
        f"seed {args.seed}, population {args.population}"
    )
    runs = [
        run_child("greedy", args, args.candidates, args.cells),
        run_child("exact", args, args.candidates, args.cells),
        run_child("greedy", args, args.spopt_candidates, args.spopt_cells),
        run_child("exact", args, args.spopt_candidates, args.spopt_cells),
        run_child("spopt", args, args.spopt_candidates, args.spopt_cells),
    ]
    other = "uniform" if args.population == "clustered" else "clustered"
    variant = [
        run_child("greedy", args, args.candidates, args.cells, "--population", other),
        run_child("exact", args, args.candidates, args.cells, "--population", other),
    ]
    for r in runs:
        r["population"] = args.population
    for r in variant:
        r["population"] = other
    spopt_full = {
        "method": "spopt",
        "candidates": args.candidates,
        "cells": args.cells,
        "status": f"not run: dense cost matrix {dense_gb:.0f} GB (+ a second dense copy), over the 4 GB target",
    }
    spopt_full["population"] = args.population
    runs.insert(2, spopt_full)
    runs.extend(variant)
    header = (
        "| size | population | method | build s | solve s | peak RSS MB | objective | greedy gap vs exact | status |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---|"
    )
    print(header)
    exact_by_size = {
        (r["candidates"], r["cells"], r["population"]): r.get("objective") for r in runs if r["method"] == "exact"
    }
    for r in runs:
        size = f"{r['candidates']:,} x {r['cells']:,}"
        gap = "-"
        exact_value = exact_by_size.get((r["candidates"], r["cells"], r["population"]))
        if r["method"] == "greedy" and exact_value and r.get("objective") is not None:
            gap = f"{(exact_value - r['objective']) / exact_value:.4%}"
        elif r["method"] == "greedy" and r.get("upper_bound") is not None:
            gap = f"<= {(r['upper_bound'] - r['objective']) / r['upper_bound']:.4%} (bound)"
        status = r.get("status", "")
        print(
            f"| {size} | {r['population']} | {r['method']} | {fmt(r.get('build_s'), '.2f')} | "
            f"{fmt(r.get('solve_s'), '.2f')} | {fmt(r.get('peak_rss_mb'), ',.0f')} | "
            f"{fmt(r.get('objective'), ',.1f')} | {gap} | {status} |"
        )
    small = [r for r in runs if (r["candidates"], r["cells"]) == (args.spopt_candidates, args.spopt_cells)]
    runs = [r for r in runs if r["population"] == args.population]
    by = {r["method"]: r for r in small}
    if "spopt" in by and by["spopt"].get("solve_s") and by.get("exact", {}).get("solve_s"):
        ours = by["exact"]["build_s"] + by["exact"]["solve_s"]
        theirs = by["spopt"]["build_s"] + by["spopt"]["solve_s"]
        same = abs(by["spopt"]["objective"] - by["exact"]["objective"]) < 1e-6 * by["exact"]["objective"]
        print(
            f"\nsmall instance: spopt build+solve {theirs:.2f} s vs ordos_geo exact {ours:.2f} s "
            f"(x{theirs / ours:.1f}); peak RSS {by['spopt']['peak_rss_mb']:,.0f} vs "
            f"{by['exact']['peak_rss_mb']:,.0f} MB; same objective: {same}"
        )
    full = {r["method"]: r for r in runs if (r["candidates"], r["cells"]) == (args.candidates, args.cells)}
    for method, target in (("greedy", 5.0), ("exact", 60.0)):
        r = full.get(method, {})
        seconds = (r.get("build_s") or 0) + (r.get("solve_s") or 0)
        print(
            f"target {method}: build+solve {seconds:.1f} s (target < {target:.0f} s), "
            f"peak {fmt(r.get('peak_rss_mb'), ',.0f')} MB (target < 4,096 MB)"
        )


if __name__ == "__main__":
    main()
