"""Benchmark ``ordos-geo batch``: 8 studies one after another vs on a 2-worker Dask LocalCluster.

The 8 studies are the embedded sample and 7 synthetic street-grid studies (``tests/_grid_study.py``,
n x n nodes at about 100 m, population GeoTIFF, facilities, two districts, siting on every other one),
with every stage ``ordos-geo run`` runs. Both sides are measured as whole processes through the CLI:

- sequential: ``ordos-geo run --config <study> --out SEQ/<study>``, one process per study, one after
  another (what a script looping over studies does);
- batch: one ``ordos-geo batch STUDIES --out BATCH --workers 2`` process (cluster start and stop
  included).

Reported: wall time, and peak resident memory: of the largest ``run`` process, of the batch's client
process, and of each Dask worker (from ``batch_summary.csv``, ``worker_peak_rss_mb``).

Run:  .venv/bin/python benchmarks/bench_batch.py [--workers 2] [--sizes 30 35 40 45 50 55 60]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from _grid_study import SAMPLE_TOML, write_grid_study  # noqa: E402


def _run(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) of the process itself and of its whole process tree, sampled every 0.1 s."""
    clock = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    top = psutil.Process(proc.pid)
    own = tree = 0
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            members = [top, *top.children(recursive=True)]
            sizes = []
            for member in members:
                with contextlib.suppress(psutil.Error):
                    sizes.append(member.memory_info().rss)
            own = max(own, sizes[0] if sizes else 0)
            tree = max(tree, sum(sizes))
        time.sleep(0.1)
    return time.perf_counter() - clock, own / 2**20, tree / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 35, 40, 45, 50, 55, 60])
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "ordos_geo.cli"]
    env_note = f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        folder = Path(tmp) / "studies"
        folder.mkdir()
        (folder / "ordos_sample.toml").write_text(SAMPLE_TOML, encoding="utf-8")
        for k, n in enumerate(args.sizes):
            write_grid_study(
                folder / f"inputs_{k}",
                name=f"grid_{n}",
                n=n,
                n_facilities=max(6, n // 3),
                seed=k,
                siting=k % 2 == 0,
                toml_path=folder / f"grid_{n}.toml",
            )
        studies = sorted(folder.glob("*.toml"))
        # warm the network cache and the imports once so neither side pays for them alone
        for study in studies:
            subprocess.run(
                [
                    *cli,
                    "run",
                    "--config",
                    str(study),
                    "--out",
                    str(Path(tmp) / "warm"),
                    "--no-siting",
                    "--no-trails",
                    "--no-maps",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                cwd=ROOT,
            )

        seq_clock = time.perf_counter()
        seq_peak = 0.0
        per_study = {}
        for study in studies:
            wall, peak, _ = _run([*cli, "run", "--config", str(study), "--out", str(Path(tmp) / "seq" / study.stem)])
            per_study[study.stem] = wall
            seq_peak = max(seq_peak, peak)
        seq_wall = time.perf_counter() - seq_clock

        batch_wall, batch_client_peak, batch_tree_peak = _run(
            [*cli, "batch", str(folder), "--out", str(Path(tmp) / "batch"), "--workers", str(args.workers)]
        )
        summary = pd.read_csv(Path(tmp) / "batch" / "batch_summary.csv")
    workers = summary.groupby("worker")["worker_peak_rss_mb"].max()
    print(f"# bench_batch: {len(studies)} studies; {env_note}")
    print("| study | sequential run (s, whole process) | batch task (s) | status |")
    print("|---|---|---|---|")
    for _, row in summary.iterrows():
        print(f"| {row['study']} | {per_study[row['study']]:.1f} | {row['runtime_s']:.1f} | {row['status']} |")
    print()
    print(f"| measure | sequential | batch, {args.workers} workers |")
    print("|---|---|---|")
    print(f"| wall time, whole process(es) | {seq_wall:.1f} s | {batch_wall:.1f} s |")
    print(f"| speed-up | 1.00 | {seq_wall / batch_wall:.2f} |")
    print(f"| peak RSS | {seq_peak:.0f} MB (largest run) | client {batch_client_peak:.0f} MB |")
    print(f"| peak RSS, all processes together | {seq_peak:.0f} MB | {batch_tree_peak:.0f} MB |")
    for address, peak in workers.items():
        print(f"| peak RSS, worker {address} | | {peak:.0f} MB |")
    return 0 if (summary["status"] == "ok").all() else 1


if __name__ == "__main__":
    sys.exit(main())
