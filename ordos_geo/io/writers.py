"""Writing outputs atomically: files, GeoPackages, workbooks, rasters, and one run's output folders.

Each output goes to a temporary file in the destination folder and is renamed
into place only once complete, so a failed run never leaves a half-written
file; :class:`OutputSet` does the same for the groups of files a run writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo._errors import OrdosGeoError, OutputError

__all__ = [
    "OutputSet",
    "atomic_folder",
    "atomic_path",
    "check_output_folder",
    "sha256_file",
    "wait_until_unlocked",
    "write_bytes",
    "write_csv",
    "write_excel",
    "write_geojson",
    "write_geopackage",
    "write_graphml",
    "write_json",
    "write_raster",
    "write_text",
    "write_with",
]

logger = logging.getLogger(__package__)  # one logger for the io package: 'ordos_geo.io'


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    r"""Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        Where to write. Removed if the body raises.

    Examples
    --------
    >>> final = Path(tempfile.mkdtemp()) / "cells.csv"
    >>> with atomic_path(final) as tmp:
    ...     _ = tmp.write_text("cell_id,population\n")
    >>> final.read_text(), tmp.exists()  # renamed into place
    ('cell_id,population\n', False)
    """
    final = Path(path)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=final.suffix or ".tmp", dir=final.parent)
    except OSError as error:
        msg = f"{final}: cannot write this output ({error.strerror}); choose a writable --out"
        raise OutputError(msg) from error
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as error:
        if isinstance(error, OrdosGeoError) or error.errno is None:
            raise
        msg = f"{final}: cannot write this output ({error.strerror}); free disk space or choose a writable --out"
        raise OutputError(msg) from error
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    Examples
    --------
    >>> write_bytes(b"PK", Path(tempfile.mkdtemp()) / "report.docx").read_bytes()
    b'PK'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    r"""Write UTF-8 ``text`` to ``path`` atomically (``\n`` line ends) and return the path.

    Examples
    --------
    >>> path = write_text("鄂尔多斯\n", Path(tempfile.mkdtemp()) / "note.txt")
    >>> path.read_bytes()
    b'\xe9\x84\x82\xe5\xb0\x94\xe5\xa4\x9a\xe6\x96\xaf\n'
    """
    return write_bytes(text.encode("utf-8"), path)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented, key-sorted UTF-8 JSON atomically.

    Examples
    --------
    >>> path = write_json({"n_cells": np.int64(6886), "area": "东胜区"}, Path(tempfile.mkdtemp()) / "summary.json")
    >>> print(path.read_text(encoding="utf-8"), end="")
    {
      "area": "东胜区",
      "n_cells": 6886
    }
    """
    return write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True, default=_json_default) + "\n", path)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    r"""Write ``table`` as UTF-8 CSV atomically (``\n`` line ends).

    Examples
    --------
    >>> table = pd.DataFrame({"district": ["东胜区"], "population": [172273]})
    >>> path = write_csv(table, Path(tempfile.mkdtemp()) / "districts.csv")
    >>> path.read_text(encoding="utf-8")
    'district,population\n东胜区,172273\n'
    """
    return write_text(table.to_csv(index=index, lineterminator="\n"), path)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, precision: int = 7) -> Path:
    """Write ``gdf`` as GeoJSON atomically, coordinates rounded to ``precision`` decimals.

    Uses geopandas' ``to_json`` so the bytes depend only on the data (no
    timestamps), which keeps committed sample files byte-identical across rebuilds.

    Examples
    --------
    >>> hall = gpd.points_from_xy([109.963312345], [39.8225])
    >>> points = gpd.GeoDataFrame({"name": ["体育馆"]}, geometry=hall, crs=4326)
    >>> path = write_geojson(points, Path(tempfile.mkdtemp()) / "halls.geojson", precision=4)
    >>> json.loads(path.read_text(encoding="utf-8"))["features"][0]["geometry"]["coordinates"]
    [109.9633, 39.8225]
    """
    text = gdf.to_json(drop_id=True, ensure_ascii=False, indent=1, to_wgs84=False)
    if precision is not None:
        rounded = json.loads(text, parse_float=lambda s: round(float(s), precision))
        text = json.dumps(rounded, ensure_ascii=False, indent=1)
    return write_text(text + "\n", path)


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike[str]) -> Path:
    """Write several layers into one GeoPackage, all or nothing.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Layer name -> layer. Written in order.
    path : str or os.PathLike
        Destination ``.gpkg``; replaced whole on success.

    Examples
    --------
    >>> import pyogrio
    >>> points = gpd.GeoDataFrame({"name": ["体育馆"]}, geometry=gpd.points_from_xy([109.96], [39.82]), crs=4326)
    >>> path = write_geopackage({"halls": points, "parks": points.iloc[:0]}, Path(tempfile.mkdtemp()) / "out.gpkg")
    >>> [name for name, _ in pyogrio.list_layers(path)]
    ['halls', 'parks']
    """
    with atomic_path(path) as tmp:
        for name, layer in layers.items():
            try:
                # through Arrow: GDAL encodes the geometries and columns in C, about twice as fast at city scale
                layer.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", use_arrow=True)
            except Exception as error:  # GDAL reports a full disk or a write error as a pyogrio error
                if not type(error).__module__.startswith("pyogrio"):
                    raise
                msg = f"{path}: cannot write layer {name!r} ({error}); free disk space or choose a writable --out"
                raise OutputError(msg) from error
    return Path(path)


def write_with(writer: Callable[[Path], None], path: str | os.PathLike[str]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically.

    Examples
    --------
    >>> path = write_with(lambda tmp: tmp.write_text("made by another library"), Path(tempfile.mkdtemp()) / "x.txt")
    >>> path.read_text()
    'made by another library'
    """
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


@contextmanager
def atomic_folder(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty staging folder beside ``path``; move its files into ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final folder, created if missing. Files already there that the body
        does not write are left alone; files it writes replace theirs.

    Yields
    ------
    pathlib.Path
        ``.<name>.part`` beside ``path``: write every file there. If the body
        raises, the staging folder is removed and ``path`` is untouched, so a
        failed run never leaves a folder holding only some of its files.

    Examples
    --------
    >>> folder = Path(tempfile.mkdtemp()) / "maps"
    >>> with atomic_folder(folder) as staging:
    ...     _ = (staging / "coverage.html").write_text("<!DOCTYPE html>")
    >>> sorted(p.name for p in folder.iterdir()), staging.exists()
    (['coverage.html'], False)
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.part"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        final.mkdir(exist_ok=True)
        for item in sorted(staging.iterdir()):
            os.replace(item, final / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (cache keys, batch fingerprints).

    Examples
    --------
    >>> path = write_bytes(b"abc", Path(tempfile.mkdtemp()) / "abc.bin")
    >>> sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _excel_value(value: Any) -> Any:
    """A cell value openpyxl stores as a number, text or blank (NaN, NA and ±inf become blank)."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _text_width(value: Any) -> int:
    """Display width of a cell's text in Excel character units (CJK characters count twice)."""
    text = f"{value:,.2f}" if isinstance(value, float) else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_excel(
    sheets: Mapping[str, pd.DataFrame],
    path: str | os.PathLike[str],
    *,
    number_formats: Mapping[str, Mapping[str, str]] | None = None,
) -> Path:
    """Write tables into one Excel workbook, a sheet each, atomically.

    Headers are written as given (already in the reader's language), numbers as
    numbers (NaN and infinities as blank cells), the header row bold and frozen,
    and each column as wide as its longest text (CJK characters count double,
    at most 60).

    Parameters
    ----------
    sheets : mapping of str to pandas.DataFrame
        Sheet name -> table, in order. Names are cut to Excel's 31 characters.
    path : str or os.PathLike
        Destination ``.xlsx``; replaced whole on success.
    number_formats : mapping, optional
        Sheet name -> {column header: Excel number format, e.g. ``"0.0%"``}.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tables.xlsx"
    >>> write_excel({"指标": pd.DataFrame({"人口": [1200.0]})}, path).name
    'tables.xlsx'
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    formats = number_formats or {}
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(re.sub(r"[\\/*?:\[\]]", "_", str(name))[:31])
        headers = [str(c) for c in frame.columns]
        sheet.append(headers)
        for row in frame.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        sheet_formats = formats.get(name, {})
        for j, header in enumerate(headers, start=1):
            letter = get_column_letter(j)
            width = max([_text_width(header), *(_text_width(v) for v in frame.iloc[:, j - 1] if v is not None)])
            sheet.column_dimensions[letter].width = min(width + 2, 60)
            if header in sheet_formats:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = sheet_formats[header]
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return Path(path)


def write_graphml(graph: Any, path: str | os.PathLike[str]) -> Path:
    """Save an osmnx graph as GraphML atomically (``osmnx.save_graphml``).

    Examples
    --------
    >>> import networkx as nx
    >>> graph = nx.MultiDiGraph(nx.path_graph(2), crs="EPSG:4326")
    >>> nx.set_node_attributes(graph, {0: {"x": 109.78, "y": 39.6}, 1: {"x": 109.79, "y": 39.6}})
    >>> nx.set_edge_attributes(graph, 857.0, "length")
    >>> path = write_graphml(graph, Path(tempfile.mkdtemp()) / "walk.graphml")
    >>> path.read_text().count("<edge ")
    2
    """
    import osmnx as ox

    return write_with(lambda tmp: ox.save_graphml(graph, tmp), path)


def write_raster(array: np.ndarray, profile: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a (bands, rows, cols) or (rows, cols) array as a GeoTIFF atomically.

    Parameters
    ----------
    array : numpy.ndarray
        Cell values.
    profile : mapping
        rasterio profile (``crs``, ``transform``, ``nodata``, ``dtype``...);
        driver, size and count are set from ``array``.
    path : str or os.PathLike
        Destination ``.tif``.

    Examples
    --------
    >>> import rasterio
    >>> from rasterio.transform import from_origin
    >>> profile = {"crs": "EPSG:4326", "transform": from_origin(109.9, 39.9, 1 / 1200, 1 / 1200), "nodata": -99999.0}
    >>> path = write_raster(np.full((2, 3), 12.5), profile, Path(tempfile.mkdtemp()) / "population.tif")
    >>> with rasterio.open(path) as raster:
    ...     raster.shape, float(raster.read(1).sum())
    ((2, 3), 75.0)
    """
    import rasterio

    data = array if array.ndim == 3 else array[None, :, :]
    meta = dict(profile)
    meta.update(driver="GTiff", count=data.shape[0], height=data.shape[1], width=data.shape[2], dtype=data.dtype)
    meta.setdefault("compress", "deflate")

    def _write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **meta) as dataset:
            dataset.write(data)

    return write_with(_write, path)


# ---------------------------------------------------------------------------
# Output sets: one run's outputs, appearing stage by stage as complete groups.
# ---------------------------------------------------------------------------

_LOCK_NAME = ".ordos-geo.lock"
_STAGING_NAME = ".ordos-geo-staging"
#: Written before a group moves and removed after: a run killed mid-move leaves it, and the next run into the
#: folder completes that group from the staging folder before anything else.
_JOURNAL_NAME = ".ordos-geo-commit.json"


def check_output_folder(folder: str | os.PathLike[str], *, flag: str = "--out") -> Path:
    """Create ``folder`` if missing and prove it can be written, or raise one :class:`OutputError` line.

    Parameters
    ----------
    folder : str or os.PathLike
        An output folder.
    flag : str
        The option that names it, for the message.

    Returns
    -------
    pathlib.Path
        The folder, absolute.

    Examples
    --------
    >>> out = check_output_folder(Path(tempfile.mkdtemp()) / "ordos_out")  # created, proved writable
    >>> out.is_dir(), out.is_absolute(), list(out.iterdir())
    (True, True, [])
    """
    path = Path(folder).resolve()
    if path.exists() and not path.is_dir():
        msg = f"{path}: the output folder is a file; give {flag} a folder (new or existing)"
        raise OutputError(msg)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ordos-geo-probe.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        msg = f"{path}: cannot write the output folder ({error.strerror}); choose a writable {flag}"
        raise OutputError(msg) from error
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _lock_owner(lock: Path) -> tuple[int, str]:
    """The pid and host written in an output lock (``-1, ""`` when unreadable)."""
    try:
        owner = json.loads(lock.read_text(encoding="utf-8"))
        return int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1, ""


def wait_until_unlocked(folder: str | os.PathLike[str], *, timeout_s: float, poll_s: float = 0.2) -> bool:
    """Wait while a live run on this host holds ``folder``'s output lock (see :class:`OutputSet`).

    A batch uses it: Dask cannot stop a study already running when a batch is
    interrupted, so a resumed batch waits for that run instead of refusing.

    Parameters
    ----------
    folder : str or os.PathLike
        An output folder.
    timeout_s : float
        Longest wait in seconds.
    poll_s : float
        Time between looks at the lock.

    Returns
    -------
    bool
        ``True`` once no live run holds the folder, ``False`` after ``timeout_s``.

    Examples
    --------
    >>> wait_until_unlocked("outputs/tables/ordos_sample", timeout_s=60)  # doctest: +SKIP
    True
    """
    lock = Path(folder) / _LOCK_NAME
    deadline = time.monotonic() + timeout_s
    while lock.exists():
        pid, host = _lock_owner(lock)
        if host == socket.gethostname() and pid > 0 and not _pid_alive(pid):
            return True  # an ended run's lock: OutputSet takes it over
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


class OutputSet:
    r"""The output folders of one run, written as complete groups.

    Writers write into a hidden staging folder inside each output folder;
    :meth:`commit` moves a finished group (one stage's files) into place with
    Ctrl-C held off, so a reader never sees half a group. The first commit
    removes the files the previous run listed (in its ``summary.json``
    ``run.files``), so one folder never mixes two runs; nothing else in the
    folder is touched. A lock file makes a second run into the same folder
    refuse with one line while this one is running. A journal written before
    each group moves lets the next run complete a group that a hard kill
    (SIGKILL, power loss) cut in two; that run then replaces it with the rest.

    Parameters
    ----------
    folders : mapping of str to pathlib.Path
        Role -> folder, e.g. ``{"tables": ..., "maps": ...}``; roles may share a folder.
    inputs : mapping of str to pathlib.Path
        The run's input files, by key: an output folder holding one (outputs beside raw inputs), or an
        output that would replace one, is refused.
    planned : mapping of str to sequence of str
        Role -> file names the run may write (checked against ``inputs``).
    summary : str
        Name of the summary file (in the first role's folder) holding the list of files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet({"tables": out}, inputs={}, planned={"tables": ["a.csv"]}) as outputs:
    ...     _ = write_text("x\\n", outputs.staged("tables") / "a.csv")
    ...     [path.name for path in outputs.commit("first")]
    ['a.csv']
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """

    def __init__(
        self,
        folders: Mapping[str, Path],
        *,
        inputs: Mapping[str, Path],
        planned: Mapping[str, Any],
        summary: str = "summary.json",
    ) -> None:
        self.folders = {role: Path(folder).resolve() for role, folder in folders.items()}
        self.inputs = {key: Path(path).resolve() for key, path in inputs.items()}
        self.planned = {role: list(names) for role, names in planned.items()}
        self.summary = summary
        self.committed: list[str] = []
        self._locks: list[Path] = []
        self._created: list[Path] = []
        self._previous: dict[str, list[str]] = {}
        self._unique = sorted(set(self.folders.values()))
        #: the role a folder's files are listed under (the first role naming it)
        self._role_of = {folder: role for role, folder in reversed(list(self.folders.items()))}
        self.files: dict[str, list[str]] = {role: [] for role in self._role_of.values()}

    # -- set-up -------------------------------------------------------------
    def __enter__(self) -> OutputSet:
        self._created = [folder for folder in self._unique if not folder.exists()]
        for folder in self._unique:
            check_output_folder(folder)
        self._previous = self._previous_files()
        self._refuse_overwriting_inputs()
        try:
            for folder in self._unique:
                self._lock(folder)
                self._complete_interrupted_group(folder)
                shutil.rmtree(folder / _STAGING_NAME, ignore_errors=True)
                (folder / _STAGING_NAME).mkdir()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._release()
        if not self.committed:
            for folder in self._created:  # a run that wrote nothing leaves no new empty folder
                with contextlib.suppress(OSError):
                    folder.rmdir()

    def _previous_files(self) -> dict[str, list[str]]:
        first = next(iter(self.folders.values()))
        try:
            listed = json.loads((first / self.summary).read_text(encoding="utf-8"))["run"]["files"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        if not isinstance(listed, dict):
            return {}
        return {
            role: [str(n) for n in names if _plain_relative(str(n))]
            for role, names in listed.items()
            if role in self.folders and isinstance(names, list)
        }

    def _refuse_overwriting_inputs(self) -> None:
        for folder in self._unique:
            for key, path in self.inputs.items():
                if folder == path.parent or _same_file(folder, path.parent):
                    msg = (
                        f"{folder}: the output folder holds the input [inputs] {key} ({path.name}), and outputs "
                        f"are never written beside raw inputs; choose another --out, e.g. {folder / 'results'}"
                    )
                    raise OutputError(msg)
        for role, folder in self.folders.items():
            for name in {*self.planned.get(role, []), *self._previous.get(role, []), self.summary}:
                target = folder / name
                for key, path in self.inputs.items():
                    if target == path or _same_file(target, path):
                        msg = (
                            f"{path}: the input [inputs] {key} is also an output of this run ({name} in {folder}); "
                            "choose another --out folder or move the input"
                        )
                        raise OutputError(msg)
            for key, path in self.inputs.items():
                if folder == path or _same_file(folder, path):
                    msg = f"{folder}: the output folder is the input [inputs] {key}; choose another --out"
                    raise OutputError(msg)

    def _lock(self, folder: Path) -> None:
        lock = folder / _LOCK_NAME
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid, host = _lock_owner(lock)
                if host == socket.gethostname() and pid > 0 and not _pid_alive(pid):
                    logger.warning("%s: removing the lock of an earlier run (pid %d) that has ended", folder, pid)
                    lock.unlink(missing_ok=True)
                    continue
                msg = (
                    f"{folder}: another ordos-geo run (pid {pid} on {host or 'an unknown host'}) is writing to "
                    f"this folder; wait for it to finish, choose another --out, or delete {lock} if no run is active"
                )
                raise OutputError(msg) from None
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}, handle)
            self._locks.append(lock)
            return

    def _complete_interrupted_group(self, folder: Path) -> None:
        """Finish the group an earlier run was moving when it was killed; its files are then this run's to clear."""
        journal = folder / _JOURNAL_NAME
        if not journal.is_file():
            return
        try:
            record = json.loads(journal.read_text(encoding="utf-8"))
            names = [str(n) for n in record["files"] if _plain_relative(str(n))]
            stage = str(record.get("stage", "?"))
        except (OSError, ValueError, KeyError, TypeError):
            names, stage = [], "?"
        staging = folder / _STAGING_NAME
        for name in names:
            staged = staging / name
            if staged.is_file():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, folder / name)
        logger.warning(
            "%s: an earlier run was killed while writing its %s files; completed that group (%d files) "
            "before this run replaces it",
            folder,
            stage,
            len(names),
        )
        role = self._role_of[folder]
        known = self._previous.get(role, [])
        self._previous[role] = [*known, *(n for n in names if n not in known)]
        journal.unlink()

    def _release(self) -> None:
        for folder in self._unique:
            shutil.rmtree(folder / _STAGING_NAME, ignore_errors=True)
        for lock in self._locks:
            lock.unlink(missing_ok=True)
        self._locks = []

    # -- writing ------------------------------------------------------------
    def staged(self, role: str) -> Path:
        """The staging folder of ``role``: write a group's files here, then :meth:`commit`."""
        return self.folders[role] / _STAGING_NAME

    def final(self, path: Path) -> Path:
        """The place a staged file lands in once committed."""
        path = Path(path)
        for folder in self._unique:
            staging = folder / _STAGING_NAME
            if path.is_relative_to(staging):
                return folder / path.relative_to(staging)
        return path

    def commit(self, stage: str) -> list[Path]:
        """Move every staged file into place as one group; the first commit clears the previous run's files.

        Ctrl-C (SIGINT) and SIGTERM are held off while the group moves, so an
        interrupt lands before or after the group, never inside it.

        Parameters
        ----------
        stage : str
            Name of the stage whose files these are (kept in :attr:`committed`).

        Returns
        -------
        list of pathlib.Path
            The files now in place.
        """
        blocked = {signal.SIGINT, signal.SIGTERM}
        held = threading.current_thread() is threading.main_thread()
        if held:
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            if not self.committed:
                self._clear_previous()
            moved = []
            groups = []
            for folder in self._unique:
                staging = folder / _STAGING_NAME
                staged = sorted(p for p in staging.rglob("*") if p.is_file() and not p.name.startswith("."))
                # the summary moves last: it lists the group, so it never names a file not yet in place
                staged.sort(key=lambda p: p.name == self.summary)
                groups.append((folder, staging, staged))
                if staged:
                    files = [p.relative_to(staging).as_posix() for p in staged]
                    write_json({"stage": stage, "files": files}, folder / _JOURNAL_NAME)
            for folder, staging, staged in groups:
                for path in staged:
                    final = folder / path.relative_to(staging)
                    try:
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(path, final)
                    except OSError as error:
                        msg = f"{final}: cannot move the finished output into place ({error.strerror})"
                        raise OutputError(msg) from error
                    moved.append(final)
                    name = path.relative_to(staging).as_posix()
                    if name not in self.files[self._role_of[folder]]:
                        self.files[self._role_of[folder]].append(name)
            for folder, _, _ in groups:
                (folder / _JOURNAL_NAME).unlink(missing_ok=True)
            self.committed.append(stage)
            return moved
        finally:
            if held:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)

    def files_with_staged(self) -> dict[str, list[str]]:
        """Files in place plus those staged for the next commit, by role (what ``summary.json`` lists)."""
        out = {role: list(names) for role, names in self.files.items()}
        for folder, role in self._role_of.items():
            staging = folder / _STAGING_NAME
            for path in sorted(staging.rglob("*")):
                name = path.relative_to(staging).as_posix()
                if path.is_file() and not path.name.startswith(".") and name not in out[role]:
                    out[role].append(name)
        first = next(iter(self.folders))
        if self.summary not in out[first]:
            out[first].append(self.summary)  # the summary lists itself: the next run replaces it too
        return out

    def discard_staged(self) -> None:
        """Drop every staged file not yet committed (a stage that failed half-way)."""
        for folder in self._unique:
            shutil.rmtree(folder / _STAGING_NAME, ignore_errors=True)
            (folder / _STAGING_NAME).mkdir()

    def _clear_previous(self) -> None:
        inputs = list(self.inputs.values())
        for role, names in self._previous.items():
            folder = self.folders[role]
            for name in names:
                old = folder / name
                if old.is_file() and not any(old == p or _same_file(old, p) for p in inputs):
                    old.unlink(missing_ok=True)
            for sub in {(folder / n).parent for n in names} - {folder}:
                with contextlib.suppress(OSError):
                    sub.rmdir()  # only when empty


def _plain_relative(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts
