"""Benchmark the incremental after-plan accessibility and ``what_if`` on synthetic cities of 100k and 400k nodes.

For each size one Python process builds a perturbed-grid walk network
(``benchmarks/_synthetic.py``), about 2 population cells per node in two
districts and one venue per 300 cells in ten kinds, as a
:class:`ordos_geo.pipeline.Study`, and then times:

- **first run**: the accessibility stage as the pipeline runs it (all kinds,
  the evenings and winter scenarios), without service-area polygons;
- **after plan, full**: the same on the table with a plan added (20 new
  venues of the siting kinds at the least served cells, 5 closed school
  venues opened after school hours): what the after-plan stage did before;
- **after plan, incremental**: :func:`ordos_geo.pipeline.update_accessibility`
  from the first run to the same table, checked against the full run
  (largest difference of every distance column, nearest ids equal);
- **what_if** (:func:`ordos_geo.what_if.what_if`): adding one court at the
  least served cell, closing the venue most residents walk to, moving one
  venue 400 m (accessibility, indicators and scorecard);
- **service areas**: the polygons of a sample of venues, extrapolated to all
  (the first run's ``service_areas`` step, left out above).

The first run, the incremental update and each what-if are timed ``--repeat``
times (3 by default) in the same process; the tables show the median and the
range, and the update's share of the first run per pair of runs.

Run:  .venv/bin/python benchmarks/bench_what_if.py [--sizes 100000 400000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _study(n_nodes: int, seed: int):
    from benchmarks._synthetic import synthetic_study
    from ordos_geo import pipeline
    from ordos_geo.config import sample_config

    network, cells, facilities = synthetic_study(n_nodes, seed=seed, cells_per_facility=300.0)
    facilities = facilities.assign(public_access=np.where(facilities["open_to_public"], "full", "none"))
    return pipeline.Study(config=sample_config(), network=network, cells=cells, facilities=facilities, boundaries=None)


def _first_run(study, facilities):
    """The pipeline's accessibility stage on ``facilities`` without service-area polygons."""
    from ordos_geo import accessibility, pipeline

    options = accessibility.AccessibilityOptions.from_config(study.config)
    all_day, venues = pipeline.scenarios._scenario_split(facilities)
    result = accessibility.compute_accessibility(
        study.network, study.cells, all_day, options=options, service_areas_by="none", progress=False
    )
    distances = {
        name: pipeline.scenarios._nearest_distance(study, frame, result.cells_snapped) for name, frame in venues.items()
    }
    return pipeline.scenarios._with_scenarios(study, result, venues, distances)


def _plan(study, first, seed: int):
    """The existing venues plus 20 new ones at the least served cells and 5 school venues opened after school."""
    import geopandas as gpd

    rng = np.random.default_rng(seed)
    cells = first.cells
    worst = np.argsort(-np.nan_to_num(cells["dist_m_any"].to_numpy(), posinf=1e9))[:2000]
    picks = rng.choice(worst, size=20, replace=False)
    kinds = rng.choice(["multi_sport_court", "fitness_centre", "sports_park"], size=20)
    new = gpd.GeoDataFrame(
        {
            "facility_id": [f"N{i:03d}" for i in range(20)],
            "name": [f"new {k}" for k in kinds],
            "kind": kinds,
            "area_m2": 1000.0,
            "area_source": "typical",
            "open_to_public": True,
            "public_access": "full",
        },
        geometry=cells.geometry.centroid.iloc[picks].to_numpy(),
        crs=study.network.crs,
    )
    existing = study.facilities.copy()
    closed = np.flatnonzero(~existing["open_to_public"].to_numpy(dtype=bool))[:5]
    existing.loc[existing.index[closed], ["open_to_public", "public_access"]] = [True, "after_school"]
    return gpd.GeoDataFrame(pd.concat([existing, new], ignore_index=True), geometry="geometry", crs=study.network.crs)


def _largest_difference(a, b) -> tuple[float, bool]:
    columns = [c for c in b.columns if c.startswith("dist_m_")]
    worst = 0.0
    for column in columns:
        x, y = a[column].to_numpy(dtype=float), b[column].to_numpy(dtype=float)
        finite = np.isfinite(y)
        assert np.array_equal(np.isfinite(x), finite), column
        worst = max(worst, float(np.abs(x[finite] - y[finite]).max(initial=0.0)))
    ids = [c for c in b.columns if c.startswith("nearest_id_")]
    return worst, all(a[c].tolist() == b[c].tolist() for c in ids)


def _timed(fn, *args, **kwargs):
    clock = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - clock


def _repeated(repeat: int, fn, *args, **kwargs):
    """The last value of ``repeat`` calls and every call's seconds (the table shows their median)."""
    runs = [_timed(fn, *args, **kwargs) for _ in range(repeat)]
    return runs[-1][0], [seconds for _, seconds in runs]


def worker(n_nodes: int, *, seed: int, repeat: int = 3) -> dict:
    from ordos_geo import indicators, pipeline
    from ordos_geo.accessibility.measures import _service_area_rows
    from ordos_geo.routing import network_index
    from ordos_geo.what_if import what_if

    study, build_s = _timed(_study, n_nodes, seed)
    first, first_runs = _repeated(repeat, _first_run, study, study.facilities)
    planned = _plan(study, first, seed)
    full, full_s = _timed(_first_run, study, planned)
    update, update_runs = _repeated(repeat, pipeline.update_accessibility, study, first, planned)
    worst, same_ids = _largest_difference(update.cells, full.cells)

    cfg = study.config
    ind = pipeline.study_indicators(study, first.cells, study.facilities)
    results = pipeline.StudyResults(
        study=study, accessibility=first, indicators=ind, scorecard=indicators.scorecard(ind, study.facilities)
    )
    cells = first.cells
    far = cells.geometry.centroid.iloc[int(np.nan_to_num(cells["dist_m_any"].to_numpy(), posinf=-1).argmax())]
    busiest = str(cells["nearest_id_any"].value_counts().index[0])
    mover = study.facilities[study.facilities.geom_type == "Point"].iloc[0]
    cases = {
        "add one court": {"add": [{"kind": "multi_sport_court", "x": far.x, "y": far.y}]},
        "close the busiest venue": {"remove": [busiest]},
        "move one venue 400 m": {
            "remove": [mover["facility_id"]],
            "add": [
                {
                    "facility_id": mover["facility_id"],
                    "kind": mover["kind"],
                    "x": mover.geometry.x + 400.0,
                    "y": mover.geometry.y,
                }
            ],
        },
    }
    what_ifs = {}
    for name, change in cases.items():
        outcome, runs = _repeated(repeat, what_if, results, base="existing", **change)
        what_ifs[name] = {
            "s": statistics.median(runs),
            "runs_s": runs,
            "accessibility_s": outcome.timings_s["accessibility"],
            "changed_cells": len(outcome.cells),
            "changed_indicators": len(outcome.indicators),
        }

    index = network_index(study.network)
    sample = min(40, first.facilities_snapped.n_owners)
    rows = np.arange(sample)
    _, areas_s = _timed(_service_area_rows, index, first.facilities_snapped.take(rows), cfg.thresholds_m, 50.0)
    n_fac = first.facilities_snapped.n_owners
    return {
        "nodes": study.network.n_nodes,
        "cells": len(study.cells),
        "facilities": len(study.facilities),
        "build_s": build_s,
        "first_s": statistics.median(first_runs),
        "first_runs_s": first_runs,
        "first_steps_s": {k: round(v, 2) for k, v in first.timings_s.items()},
        "after_plan_full_s": full_s,
        "after_plan_incremental_s": statistics.median(update_runs),
        "after_plan_incremental_runs_s": update_runs,
        "after_plan_steps_s": {k: round(v, 3) for k, v in update.timings_s.items()},
        "largest_distance_difference_m": worst,
        "nearest_ids_equal": same_ids,
        "what_if": what_ifs,
        "service_areas_sample": sample,
        "service_areas_all_s_extrapolated": areas_s * n_fac / sample,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _spread(runs: list[float]) -> str:
    return f"[{min(runs):.2f}-{max(runs):.2f}]" if len(runs) > 1 else ""


def _share_range(update_runs: list[float], first_runs: list[float]) -> str:
    """Lowest and highest update / first-run share over the paired runs."""
    shares = [100 * u / f for u, f in zip(update_runs, first_runs, strict=True)]
    return f"{min(shares):.1f}-{max(shares):.1f} %"


def _table(rows: list[dict]) -> str:
    lines = [
        "| nodes | cells | venues | first run (s) | after plan full (s) | incremental (s) | ratio (medians; range) "
        "| largest diff (m) "
        "| ids equal | service areas, all venues (s, extrapolated) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['nodes']:,} | {r['cells']:,} | {r['facilities']:,} "
            f"| {r['first_s']:.2f} {_spread(r['first_runs_s'])} "
            f"| {r['after_plan_full_s']:.2f} "
            f"| {r['after_plan_incremental_s']:.2f} {_spread(r['after_plan_incremental_runs_s'])} "
            f"| {100 * r['after_plan_incremental_s'] / r['first_s']:.1f} % "
            f"({_share_range(r['after_plan_incremental_runs_s'], r['first_runs_s'])}) "
            f"| {r['largest_distance_difference_m']:.1e} | {r['nearest_ids_equal']} "
            f"| {r['service_areas_all_s_extrapolated']:.0f} |"
        )
    lines += [
        "",
        "| nodes | what_if | seconds (median; range) | of which accessibility (last) | changed cells "
        "| changed indicators |",
    ]
    lines.append("|---:|---|---:|---:|---:|---:|")
    for r in rows:
        for name, w in r["what_if"].items():
            lines.append(
                f"| {r['nodes']:,} | {name} | {w['s']:.2f} {_spread(w['runs_s'])} | {w['accessibility_s']:.2f} "
                f"| {w['changed_cells']:,} "
                f"| {w['changed_indicators']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 400_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (the median is shown)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, seed=args.seed, repeat=args.repeat)))
        return 0
    rows = []
    for size in args.sizes:
        command = [
            sys.executable,
            __file__,
            "--worker",
            str(size),
            "--seed",
            str(args.seed),
            "--repeat",
            str(args.repeat),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ})
        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(done.stdout, done.stderr, sep="\n")
            return 1
        rows.append(json.loads(line[len("RESULT ") :]))
        print(json.dumps(rows[-1], indent=1), flush=True)
    print(f"\n{platform.machine()}, Python {platform.python_version()}, load average {os.getloadavg()}\n")
    print(_table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
