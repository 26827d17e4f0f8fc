"""Many studies at once on Dask: one task per study, resumable, with a batch summary.

A batch is a folder of study TOML files or a CSV with one row per study (its
study file, or an adcode to fetch first, and optional per-study overrides).
Each study runs as one ``dask.distributed`` task that calls the pipeline's own
:func:`~ordos_geo.pipeline.run_study`, so ``DIR/<study>/`` holds exactly what
``ordos-geo run --out DIR/<study>`` writes. The same tasks run on a
``LocalCluster`` sized to the machine or on any existing Dask cluster
(dask-jobqueue on SLURM/PBS, Kubernetes): the workers must see the input and
output paths under the same names.

A study that fails on its input is recorded with its one-line error and the
others go on; Dask reschedules a study whose worker was lost (killed for memory,
a node gone) and records it as failed once the retries are spent. A finished
study leaves a manifest in ``DIR/.ordos-batch/`` with a hash of its inputs,
configuration and the package version; a later batch skips it while that hash
and its outputs stand, so a batch killed halfway resumes with the unfinished
studies only. A study with ``[accessibility] split_by_district`` sends its
district parts to the cluster as tasks of their own.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import resource
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from ordos_geo import __version__, io, settings
from ordos_geo._errors import ConfigError, InputFileNotFoundError, MissingDependencyError, OrdosGeoError
from ordos_geo.config import FacilitySource, StudyConfig

__all__ = [
    "BATCH_SUMMARY_COLUMNS",
    "DEFAULT_STAGES",
    "MANIFEST_DIR",
    "OVERRIDE_COLUMNS",
    "BatchStudy",
    "batch_client",
    "read_studies",
    "run_batch",
    "run_batch_study",
    "study_fingerprint",
    "write_batch_summary",
]

logger = logging.getLogger(__name__)

#: Folder of ``DIR`` holding one manifest per finished study (what resuming reads).
MANIFEST_DIR = ".ordos-batch"
#: longest wait (s) for a run of the same study still finishing from an interrupted batch
_LOCK_WAIT_S = 600.0
#: Stages a batch runs unless told otherwise (those of ``ordos-geo run``).
DEFAULT_STAGES: tuple[str, ...] = ("accessibility", "siting", "trails", "maps")

#: Columns of ``batch_summary.csv``, in order: the run, then scorecard figures side by side.
BATCH_SUMMARY_COLUMNS: tuple[str, ...] = (
    "study",
    "status",
    "runtime_s",
    "error",
    "per_capita_area_m2",
    "per_capita_area_gap_m2",
    "open_school_share",
    "open_school_gap",
    "fitness_circle_share",
    "fitness_circle_gap",
    "targets_met",
    "targets",
    "worker",
    "worker_peak_rss_mb",
)

#: Scorecard key -> (value column, gap column) of the batch summary.
_SCORECARD_FIGURES: Mapping[str, tuple[str, str]] = {
    "per_capita_area_2024": ("per_capita_area_m2", "per_capita_area_gap_m2"),
    "open_school_share": ("open_school_share", "open_school_gap"),
    "fitness_circle_15min": ("fitness_circle_share", "fitness_circle_gap"),
}


def _text(value: str) -> str:
    return value.strip()


def _number(value: str) -> float:
    return float(value)


def _numbers(value: str) -> tuple[float, ...]:
    return tuple(float(v) for v in value.replace(",", " ").split())


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    msg = f"{value!r} is not true/false"
    raise ValueError(msg)


#: CSV columns that override a study's settings, with their parsers (keys = StudyConfig fields, as the CLI flags).
OVERRIDE_COLUMNS: Mapping[str, Callable[[str], Any]] = {
    "name": _text,
    "language": _text,
    "area_policy": _text,
    "siting_method": _text,
    "thresholds_m": _numbers,
    "max_distance_m": _number,
    "walk_speed_kmh": _number,
    "max_snap_distance_m": _number,
    "siting_budget": _number,
    "trail_budget_m": _number,
    "siting_enabled": _flag,
    "trails_enabled": _flag,
    "split_by_district": _flag,
}


@dataclass(frozen=True)
class BatchStudy:
    """One study of a batch.

    Attributes
    ----------
    name : str
        Output folder name (``DIR/<name>/``).
    config : StudyConfig or None
        The study (``out`` is set per batch); ``None`` for an adcode still to fetch.
    adcode : str or None
        Fetch this district first (online) into ``DIR/_inputs/<adcode>/``.
    overrides : dict
        Settings replacing those of the fetched study file (adcode rows).
    source : str
        Where the study came from (file and row), for messages.
    error : str or None
        Why the study cannot run (its study file is unreadable); it is
        reported as failed without running.

    Examples
    --------
    >>> from ordos_geo.config import sample_config
    >>> study = BatchStudy("ordos_sample", sample_config())
    >>> study.config.name, study.adcode, study.error
    ('ordos_sample', None, None)
    """

    name: str
    config: StudyConfig | None = None
    adcode: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    error: str | None = None


def read_studies(path: str | os.PathLike[str]) -> list[BatchStudy]:
    """Read the studies of a batch from a folder of study TOML files or a CSV.

    Parameters
    ----------
    path : str or os.PathLike
        A folder: every ``*.toml`` in it (sorted) is one study. Or a CSV with a
        header and one row per study: a ``study`` column (path of a study TOML,
        relative to the CSV) or an ``adcode`` column (a district to fetch
        first, online only), and optionally any column of
        :data:`OVERRIDE_COLUMNS` (empty cells keep the study's value).
        Paths inside each study file stay relative to that file.

    Returns
    -------
    list of BatchStudy
        In file order. A study file that cannot be read becomes a study with
        ``error`` set, so the rest of the batch still runs.

    Raises
    ------
    InputFileNotFoundError
        ``path`` does not exist.
    ConfigError
        Unknown CSV columns, a row with neither study nor adcode, a bad
        override value, no studies, or two studies with the same name.

    Examples
    --------
    >>> studies = read_studies("studies/")  # doctest: +SKIP
    >>> [s.name for s in studies]  # doctest: +SKIP
    ['dongsheng_2024', 'kangbashi_2024']
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.toml"))
        studies = [_study_from_file(file, {}, source=str(file)) for file in files]
    elif path.is_file():
        studies = _studies_from_csv(path)
    else:
        msg = f"{path}: batch studies not found; give a folder of study TOML files or a CSV with one row per study"
        raise InputFileNotFoundError(msg)
    if not studies:
        msg = f"{path}: no studies found; put study TOML files in the folder or rows in the CSV"
        raise ConfigError(msg)
    seen: dict[str, str] = {}
    for study in studies:
        if study.name in seen:
            msg = (
                f"{path}: studies {seen[study.name]} and {study.source} are both named {study.name!r}; "
                "give each its own [study] name (or a `name` column in the CSV)"
            )
            raise ConfigError(msg)
        seen[study.name] = study.source
    return studies


def _study_from_file(file: Path, overrides: dict[str, Any], *, source: str) -> BatchStudy:
    if not file.is_file():  # a CSV row naming a study file that is not there (the folder form only finds files)
        error = f"{source}: study file {file} not found; fix the `study` column (paths are relative to the CSV)"
        return BatchStudy(name=str(overrides.get("name") or file.stem), source=source, error=error)
    try:
        config = StudyConfig.from_toml(file).with_overrides(**overrides)
    except OrdosGeoError as exc:
        name = str(overrides.get("name") or file.stem)
        return BatchStudy(name=name, source=source, error=str(exc))
    return BatchStudy(name=config.name, config=config, source=source)


def _studies_from_csv(path: Path) -> list[BatchStudy]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [c.strip() for c in reader.fieldnames or []]
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        msg = f"{path}: cannot read this CSV ({exc}); save it as UTF-8 CSV with one header row"
        raise ConfigError(msg) from exc
    allowed = {"study", "adcode", *OVERRIDE_COLUMNS}
    unknown = [c for c in header if c not in allowed]
    if unknown:
        msg = f"{path}: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        raise ConfigError(msg)
    studies = []
    for number, raw in enumerate(rows, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = f"{path.name} row {number}"
        overrides: dict[str, Any] = {}
        for column, parse in OVERRIDE_COLUMNS.items():
            if row.get(column):
                try:
                    overrides[column] = parse(row[column])
                except ValueError as exc:
                    msg = f"{path}: row {number}, column `{column}`: {row[column]!r} is not valid ({exc}); fix the cell"
                    raise ConfigError(msg) from exc
        if row.get("study"):
            studies.append(_study_from_file((path.parent / row["study"]).resolve(), overrides, source=where))
        elif row.get("adcode"):
            adcode = row["adcode"]
            name = str(overrides.pop("name", adcode))
            studies.append(BatchStudy(name=name, adcode=adcode, overrides=overrides, source=where))
        else:
            msg = f"{path}: row {number} has neither `study` (a study TOML) nor `adcode`; fill one of them"
            raise ConfigError(msg)
    return studies


# --------------------------------------------------------------------------------------------------
# one study: the task
# --------------------------------------------------------------------------------------------------


def _fingerprint_value(value: Any) -> Any:
    if isinstance(value, Path):
        return {"sha256": io.sha256_file(value)} if value.is_file() else {"missing": value.name}
    if isinstance(value, FacilitySource):
        return {"file": _fingerprint_value(value.path), "coordinates": value.coordinates}
    if isinstance(value, tuple | list):
        return [_fingerprint_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _fingerprint_value(v) for k, v in sorted(value.items())}
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    return value


def study_fingerprint(config: StudyConfig, *, stages: Sequence[str] = DEFAULT_STAGES) -> str:
    """Hash of what a study's outputs depend on: its inputs' bytes, its settings, the stages, the version.

    Parameters
    ----------
    config : StudyConfig
        The study; input files are hashed by content (moving them does not
        change the hash, editing them does). ``out`` and ``source`` are left out.
    stages : sequence of str
        Stages run.

    Returns
    -------
    str
        Hex SHA-256.

    Examples
    --------
    >>> from ordos_geo.config import sample_config
    >>> len(study_fingerprint(sample_config()))
    64
    """
    settings_of = {  # every setting; not where the outputs go, nor where a value came from (file or flag)
        f.name: _fingerprint_value(getattr(config, f.name))
        for f in fields(config)
        if f.compare and f.name not in ("out", "source")
    }
    payload = {"version": __version__, "stages": list(stages), "config": settings_of}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _manifest_path(out_dir: Path, name: str) -> Path:
    return out_dir / MANIFEST_DIR / f"{name}.json"


def _finished(out_dir: Path, name: str, fingerprint: str) -> dict[str, Any] | None:
    """The manifest of a finished study whose fingerprint matches and whose outputs all exist, else None."""
    path = _manifest_path(out_dir, name)
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != fingerprint:
        return None
    study_dir = out_dir / name
    if not all((study_dir / f).is_file() for f in manifest.get("files", [])):
        return None
    return manifest


def _worker_info() -> dict[str, Any]:
    """The Dask worker address of this process (``"local"`` outside a worker) and its peak memory so far."""
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):
        address = "local"
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"worker": address, "worker_peak_rss_mb": round(peak_kb / 1024.0, 1)}


def _cluster_map() -> Callable[[Callable, list], list] | None:
    """Inside a Dask worker, a ``map`` sending a split study's district parts to the cluster; else None."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return None

    def cluster_map(function: Callable, items: list) -> list:
        from distributed import worker_client

        # worker_client secedes this task from the worker's thread pool while its parts run
        with worker_client() as client:
            return client.gather(client.map(function, list(items), pure=False))

    return cluster_map


def _scorecard_figures(scorecard: pd.DataFrame | None) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if scorecard is None:
        return figures
    table = scorecard.set_index("key")
    for key, (value_column, gap_column) in _SCORECARD_FIGURES.items():
        if key in table.index:
            figures[value_column] = float(table.at[key, "value"])
            figures[gap_column] = float(table.at[key, "gap"])
    scored = table["status"].isin(["met", "not_met"]) if "status" in table.columns else table["met"].notna()
    met = table.loc[scored, "met"]  # the targets the study measured (not the unknown or not computed ones)
    figures["targets_met"] = int(met.astype(bool).sum())
    figures["targets"] = len(met)
    return figures


def _resolve_config(study: BatchStudy, out_dir: Path) -> StudyConfig:
    if study.config is not None:
        return study.config.with_overrides(out=out_dir / study.name)
    from ordos_geo import fetch

    folder = out_dir / "_inputs" / str(study.adcode)
    toml = folder / "study.toml"
    if not toml.is_file():
        fetch.fetch_area(str(study.adcode), out_dir=folder)
    overrides = {**study.overrides, "name": study.name, "out": out_dir / study.name}
    return StudyConfig.from_toml(toml).with_overrides(**overrides)


def run_batch_study(
    study: BatchStudy,
    *,
    out_dir: str | os.PathLike[str],
    stages: Sequence[str] = DEFAULT_STAGES,
    force: bool = False,
) -> dict[str, Any]:
    """Run one study of a batch (the Dask task): skip it when finished, else ``run_study`` into ``DIR/<name>/``.

    Errors a user can cause (:class:`~ordos_geo.OrdosGeoError`) and any other
    exception are caught and returned as ``status = "failed"`` with a one-line
    ``error``, so Dask never retries a study for bad input; only a lost
    worker makes the task itself fail.

    Parameters
    ----------
    study : BatchStudy
        From :func:`read_studies`.
    out_dir : str or os.PathLike
        The batch folder ``DIR``; the study writes ``DIR/<name>/``.
    stages : sequence of str
        Stages of :func:`ordos_geo.pipeline.run_study`.
    force : bool
        Run even when a finished run with the same fingerprint exists.

    Returns
    -------
    dict
        One row of the batch summary (:data:`BATCH_SUMMARY_COLUMNS`).

    Examples
    --------
    >>> from ordos_geo.config import sample_config
    >>> row = run_batch_study(BatchStudy("ordos_sample", sample_config()), out_dir="batch")  # doctest: +SKIP
    >>> row["status"]  # doctest: +SKIP
    'ok'
    """
    from ordos_geo import pipeline

    clock = time.perf_counter()
    out_dir = Path(out_dir)
    record: dict[str, Any] = {"study": study.name, "status": "failed", "error": study.error}
    if study.error is None:
        try:
            config = _resolve_config(study, out_dir)
            fingerprint = study_fingerprint(config, stages=stages)
            manifest = None if force else _finished(out_dir, study.name, fingerprint)
            if manifest is not None:
                record.update(manifest.get("figures", {}), status="skipped")
            else:
                # a run of this study from an interrupted batch may still be finishing on a worker
                io.wait_until_unlocked(out_dir / study.name, timeout_s=_LOCK_WAIT_S)
                results = pipeline.run_study(config, stages=tuple(stages), map_parts=_cluster_map())
                figures = _scorecard_figures(results.scorecard)
                study_dir = out_dir / study.name
                files = sorted(p.relative_to(study_dir).as_posix() for p in study_dir.rglob("*") if p.is_file())
                manifest = {
                    "study": study.name,
                    "fingerprint": fingerprint,
                    "version": __version__,
                    "stages": list(stages),
                    "files": files,
                    "figures": figures,
                }
                io.write_json(manifest, _manifest_path(out_dir, study.name))
                record.update(figures, status="ok")
        except OrdosGeoError as exc:
            record["error"] = str(exc)
        except Exception as exc:  # a bug or a library failure: recorded for this study, the batch goes on
            logger.debug("batch: study %s failed", study.name, exc_info=True)
            record["error"] = f"{type(exc).__name__}: {exc}"
    if record["error"]:
        record["error"] = " ".join(str(record["error"]).split())
    record["runtime_s"] = round(time.perf_counter() - clock, 3)
    record.update(_worker_info())
    return record


# --------------------------------------------------------------------------------------------------
# the batch
# --------------------------------------------------------------------------------------------------


def _import_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        msg = "ordos-geo batch needs dask.distributed: pip install 'distributed>=2024.8'"
        raise MissingDependencyError(msg) from exc
    return distributed


@contextlib.contextmanager
def batch_client(
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    memory_limit: str | float | None = "auto",
    dashboard_address: str | None = ":8787",
) -> Iterator[Any]:
    """A Dask client on an existing scheduler, or on a ``LocalCluster`` sized to this machine.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); default the
        ``DASK_SCHEDULER_ADDRESS`` environment variable (dask's
        ``scheduler-address`` setting), else a new ``LocalCluster``.
    n_workers : int, optional
        Worker processes of the local cluster (one thread each); default one
        per CPU available to this process.
    memory_limit : str or float, optional
        Memory per local worker (``"4GB"``, bytes, or ``"auto"``: the
        machine's memory shared among the workers). A worker above 95 % of it
        is restarted and its study rescheduled.
    dashboard_address : str, optional
        Where the local cluster serves its dashboard; ``None`` for none.

    Yields
    ------
    distributed.Client
        Closed, with its local cluster and every worker process, on exit.

    Examples
    --------
    >>> with batch_client(n_workers=2) as client:  # doctest: +SKIP
    ...     print(client.dashboard_link)
    """
    distributed = _import_distributed()
    import dask

    address = scheduler or dask.config.get("scheduler-address", None)
    if address:
        try:
            client = distributed.Client(address, timeout="30s")
        except OSError as exc:
            msg = f"--scheduler {address}: cannot reach the Dask scheduler ({exc}); check the address and that it runs"
            raise ConfigError(msg) from exc
        with client:
            yield client
        return
    if n_workers is None:
        n_workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard_address,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _lost_record(study: BatchStudy, exc: BaseException) -> dict[str, Any]:
    """The summary row of a study whose task itself failed (its worker died every time)."""
    message = " ".join(str(exc).split())
    return {
        "study": study.name,
        "status": "failed",
        "error": f"worker lost running this study ({type(exc).__name__}: {message}); it may have run out of "
        "memory: give each worker more (--memory-limit) or run fewer workers",
    }


def run_batch(
    studies: Sequence[BatchStudy],
    *,
    out_dir: str | os.PathLike[str],
    client: Any,
    stages: Sequence[str] = DEFAULT_STAGES,
    force: bool = False,
    retries: int = 1,
    language: settings.Language = "en",
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> pd.DataFrame:
    """Run every study as one task on ``client``, then write the batch summary.

    Parameters
    ----------
    studies : sequence of BatchStudy
        From :func:`read_studies`.
    out_dir : str or os.PathLike
        The batch folder ``DIR``, on a path every worker sees.
    client : distributed.Client
        From :func:`batch_client` (or any client).
    stages : sequence of str
        Stages of each study (see :func:`ordos_geo.pipeline.run_study`).
    force : bool
        Rerun studies even when their outputs are up to date.
    retries : int
        Extra attempts of a study whose task fails (it only fails when a
        worker is lost; input errors are returned, not raised). Dask also
        reschedules a task whose worker dies up to its
        ``distributed.scheduler.allowed-failures`` setting.
    language : {"zh", "en"}
        Language of ``index.html``.
    on_record : callable, optional
        Called with each study's summary row as it finishes (progress).

    Returns
    -------
    pandas.DataFrame
        The batch summary (:data:`BATCH_SUMMARY_COLUMNS`), one row per study in
        input order; also written to ``DIR/batch_summary.csv``,
        ``DIR/batch_summary.xlsx`` (sheet ``batch``) and ``DIR/index.html``.

    Examples
    --------
    >>> with batch_client(n_workers=2) as client:  # doctest: +SKIP
    ...     summary = run_batch(read_studies("studies/"), out_dir="batch", client=client)
    """
    distributed = _import_distributed()
    out_dir = Path(out_dir).resolve()
    by_key = {}
    futures = []
    for study in studies:
        future = client.submit(
            run_batch_study,
            study,
            out_dir=out_dir,
            stages=tuple(stages),
            force=force,
            key=f"ordos-study-{study.name}-{time.time_ns()}",
            retries=retries,
            pure=False,
        )
        by_key[future.key] = study
        futures.append(future)
    records: dict[str, dict[str, Any]] = {}
    try:
        for future in distributed.as_completed(futures):
            study = by_key[future.key]
            try:
                record = future.result()
            except Exception as exc:  # the task itself failed: its worker was lost every time
                record = _lost_record(study, exc)
            records[study.name] = record
            logger.info("batch: %s %s in %.1f s", study.name, record["status"], record.get("runtime_s") or 0.0)
            if on_record is not None:
                on_record(record)
    finally:
        client.cancel([f for f in futures if not f.done()])
    summary = pd.DataFrame([records[s.name] for s in studies]).reindex(columns=list(BATCH_SUMMARY_COLUMNS))
    summary = summary.astype({"targets_met": "Int64", "targets": "Int64"})
    write_batch_summary(summary, out_dir=out_dir, language=language)
    return summary


def write_batch_summary(
    summary: pd.DataFrame, *, out_dir: str | os.PathLike[str], language: settings.Language = "en"
) -> dict:
    """Write ``batch_summary.csv``, ``batch_summary.xlsx`` (sheet ``batch``) and ``index.html`` into ``out_dir``.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`run_batch`.
    out_dir : str or os.PathLike
        The batch folder; the index links each study's pages that exist there.
    language : {"zh", "en"}
        Language of ``index.html``.

    Returns
    -------
    dict of str to pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> summary = pd.DataFrame({"study": ["dongsheng_2024"], "status": ["ok"]})  # run_batch's table
    >>> paths = write_batch_summary(summary, out_dir=tempfile.mkdtemp())
    >>> sorted(path.name for path in paths.values())
    ['batch_summary.csv', 'batch_summary.xlsx', 'index.html']
    """
    from ordos_geo import maps

    out_dir = Path(out_dir)
    pages = {}
    for name in summary["study"]:
        found = [page for page in _STUDY_PAGES if (out_dir / name / page).is_file()]
        pages[str(name)] = {page.removesuffix(".html"): f"{name}/{page}" for page in found}
    return {
        "batch_summary": io.write_csv(summary, out_dir / "batch_summary.csv"),
        "batch_workbook": io.write_excel({"batch": summary}, out_dir / "batch_summary.xlsx"),
        "index": io.write_text(maps.batch_index_page(summary, pages, language=language), out_dir / "index.html"),
    }


#: Each study's pages the batch index links, when written.
_STUDY_PAGES: tuple[str, ...] = ("index.html", "coverage.html", "sites.html", "trails.html", "report.html")
