"""Reading inputs and writing outputs: the only module that touches files.

Writers are atomic: each output goes to a temporary file in the destination
folder and is renamed into place only once complete, so a failed run never
leaves a half-written file. Readers never modify their input.
"""

from __future__ import annotations

import contextlib
import csv
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
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import _osm_tags, settings
from ordos_geo._crs import convert_to_wgs84, metric_crs_for
from ordos_geo._errors import ConfigError, InputDataError, MissingDependencyError, OrdosGeoError, OutputError
from ordos_geo._optional import import_pyrosm
from ordos_geo._validate import (
    check_columns,
    check_input_file,
    check_non_negative_finite,
    check_unique,
    describe_rows,
)

__all__ = [
    "atomic_path",
    "write_bytes",
    "write_csv",
    "write_geojson",
    "write_geopackage",
    "write_json",
    "write_text",
]

logger = logging.getLogger(__name__)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        Where to write. Removed if the body raises.
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
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    r"""Write UTF-8 ``text`` to ``path`` atomically (``\n`` line ends) and return the path."""
    return write_bytes(text.encode("utf-8"), path)


def write_json(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``obj`` as indented, key-sorted UTF-8 JSON atomically."""
    return write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True, default=_json_default) + "\n", path)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    msg = f"cannot write {type(value).__name__} to JSON"
    raise TypeError(msg)


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    r"""Write ``table`` as UTF-8 CSV atomically (``\n`` line ends)."""
    return write_text(table.to_csv(index=index, lineterminator="\n"), path)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str], *, precision: int = 7) -> Path:
    """Write ``gdf`` as GeoJSON atomically, coordinates rounded to ``precision`` decimals.

    Uses geopandas' ``to_json`` so the bytes depend only on the data (no
    timestamps), which keeps committed sample files byte-identical across rebuilds.
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
    """
    with atomic_path(path) as tmp:
        for name, layer in layers.items():
            try:
                layer.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
            except Exception as error:  # GDAL reports a full disk or a write error as a pyogrio error
                if not type(error).__module__.startswith("pyogrio"):
                    raise
                msg = f"{path}: cannot write layer {name!r} ({error}); free disk space or choose a writable --out"
                raise OutputError(msg) from error
    return Path(path)


def write_with(writer: Callable[[Path], None], path: str | os.PathLike[str]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
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
    """
    import shutil

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


__all__ += ["atomic_folder", "write_with"]


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks (cache keys, batch fingerprints)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


__all__ += ["sha256_file"]


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


__all__ += ["write_excel"]


# ---------------------------------------------------------------------------
# Output sets: one run's outputs, appearing stage by stage as complete groups.
# ---------------------------------------------------------------------------

__all__ += ["OutputSet", "check_output_folder"]

_LOCK_NAME = ".ordos-geo.lock"
_STAGING_NAME = ".ordos-geo-staging"


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


__all__ += ["wait_until_unlocked"]


class OutputSet:
    r"""The output folders of one run, written as complete groups.

    Writers write into a hidden staging folder inside each output folder;
    :meth:`commit` moves a finished group (one stage's files) into place with
    Ctrl-C held off, so a reader never sees half a group. The first commit
    removes the files the previous run listed (in its ``summary.json``
    ``run.files``), so one folder never mixes two runs; nothing else in the
    folder is touched. A lock file makes a second run into the same folder
    refuse with one line while this one is running.

    Parameters
    ----------
    folders : mapping of str to pathlib.Path
        Role -> folder, e.g. ``{"tables": ..., "maps": ...}``; roles may share a folder.
    inputs : mapping of str to pathlib.Path
        The run's input files, by key: an output that would replace one is refused.
    planned : mapping of str to sequence of str
        Role -> file names the run may write (checked against ``inputs``).
    summary : str
        Name of the summary file (in the first role's folder) holding the list of files.

    Example
    -------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet({"tables": out}, inputs={}, planned={"tables": ["a.csv"]}) as outputs:
    ...     _ = write_text("x\\n", outputs.staged("tables") / "a.csv")
    ...     outputs.commit("first")
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
            for folder in self._unique:
                staging = folder / _STAGING_NAME
                staged = sorted(p for p in staging.rglob("*") if p.is_file() and not p.name.startswith("."))
                # the summary moves last: it lists the group, so it never names a file not yet in place
                staged.sort(key=lambda p: p.name == self.summary)
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


# ---------------------------------------------------------------------------
# Readers. Each validates at entry and raises errors naming file, field and fix.
# ---------------------------------------------------------------------------

__all__ += [
    "FACILITY_COLUMNS",
    "FACILITY_COLUMN_NAMES",
    "FACILITY_SUFFIXES",
    "OSM_SUFFIXES",
    "read_boundaries",
    "read_facilities",
    "read_osm_features",
    "read_planner_targets",
    "read_population",
]

#: Columns of the facilities GeoDataFrame, in order (see TEAM_BRIEF data contracts).
FACILITY_COLUMNS: tuple[str, ...] = (
    "facility_id", "name", "kind", "area_m2", "area_source", "open_to_public", "capacity", "district",
    "public_access", "open_hours", "geometry",
)
_VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml", ".geojsonl", ".geojsons")
_TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
#: File endings :func:`read_facilities` reads.
FACILITY_SUFFIXES: tuple[str, ...] = _VECTOR_SUFFIXES + _TABLE_SUFFIXES
_RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")
#: File endings of OSM extracts :func:`read_osm_features` reads.
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.pbf", ".pbf")

#: Accepted spellings of each schema column (compared case-insensitively, first match wins).
_ALIASES: dict[str, tuple[str, ...]] = {
    "facility_id": ("facility_id", "id", "fid_", "编号"),
    "name": ("name", "名称", "name_zh", "title"),
    "kind": ("kind", "类别", "设施类型"),
    "area_m2": ("area_m2", "area", "面积", "场地面积", "面积_m2"),
    "open_to_public": ("open_to_public", "open", "public", "对外开放", "开放"),
    "capacity": ("capacity", "容量"),
    "district": ("district", "adname", "区县", "旗区", "county"),
    "public_access": ("public_access", "access", "开放方式", "开放程度"),
    "open_hours": ("open_hours", "opening_hours", "开放时间"),
}
#: Spellings of each ``public_access`` level (``settings.PUBLIC_ACCESS_LEVELS``).
_ACCESS_WORDS: dict[str, str] = {
    "full": "full", "open": "full", "yes": "full", "全天开放": "full", "全天": "full", "全面开放": "full",
    "after_school": "after_school", "after school": "after_school", "evenings_weekends": "after_school",
    "课后开放": "after_school", "错时开放": "after_school", "课余开放": "after_school",
    "closed": "closed", "no": "closed", "不开放": "closed", "未开放": "closed",
}
#: Every column name :func:`read_facilities` reads as a schema column (lower case); other
#: sources' columns with these names (OSM tags such as ``area=yes``) must be renamed first.
FACILITY_COLUMN_NAMES: frozenset[str] = frozenset(a.lower() for names in _ALIASES.values() for a in names)
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "lon_wgs84", "wgs84_lon", "gcj_lon", "bd_lon")
_LAT_NAMES = ("lat", "latitude", "y", "纬度", "lat_wgs84", "wgs84_lat", "gcj_lat", "bd_lat")
_LOCATION_NAMES = ("location", "坐标", "lnglat", "lonlat")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")
_TRUE = frozenset({"true", "yes", "y", "1", "是", "开放", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "不开放", "f"})
_UNKNOWN = frozenset({"unknown", "未知", "?"})
_LINE_TYPES = frozenset({"LineString", "MultiLineString"})


def _find_column(columns: Any, names: tuple[str, ...]) -> str | None:
    lowered = {str(c).strip().lower(): c for c in columns}
    for candidate in names:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def _row_labels(table: pd.DataFrame, positions: Any, *, name_column: str | None = None) -> list[str]:
    """1-based row numbers, with the row's name where there is one: ``3 (Dongsheng Stadium)``."""
    labels = []
    for position in np.asarray(positions, dtype=int).tolist():
        label = str(position + 1)
        if name_column is not None and name_column in table.columns:
            value = table[name_column].iloc[position]
            if isinstance(value, str) and value.strip():
                label += f" ({value.strip()})"
        labels.append(label)
    return labels


def _read_table(file: Path) -> pd.DataFrame:
    """Read a CSV / TSV / Excel table of strings, trying UTF-8 then GB18030 (Chinese Excel)."""
    suffix = file.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            try:
                import openpyxl  # noqa: F401
            except ImportError as error:  # pragma: no cover - dependency
                msg = f"{file}: reading Excel needs openpyxl: pip install openpyxl"
                raise MissingDependencyError(msg) from error
            return pd.read_excel(file, dtype=object, engine="openpyxl")
        sep = "\t" if suffix == ".tsv" else None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(file, dtype=str, sep=sep, engine="python", encoding=encoding, skipinitialspace=True)
            except UnicodeDecodeError:
                continue
        msg = f"{file}: cannot decode the text; save the table as UTF-8 CSV"
        raise InputDataError(msg)
    except pd.errors.EmptyDataError as error:
        msg = f"{file}: the table is empty (no header, no rows); export the facility list again"
        raise InputDataError(msg) from error
    except (pd.errors.ParserError, ValueError, OSError, csv.Error, zipfile.BadZipFile, KeyError) as error:
        if isinstance(error, InputDataError):
            raise
        msg = f"{file}: cannot read this table ({error}); save it as UTF-8 CSV or .xlsx with one header row"
        raise InputDataError(msg) from error


def _points_from_table(
    table: pd.DataFrame, *, file: Path, lon_column: str | None, lat_column: str | None
) -> gpd.GeoDataFrame:
    """Build geometries (CRS unset: degrees of the declared datum) from lon/lat or WKT columns."""
    name_column = _find_column(table.columns, _ALIASES["name"])
    if lon_column is not None or lat_column is not None:
        check_columns(table, [c for c in (lon_column, lat_column) if c is not None], name=file.name,
                      hint="check the lon_column / lat_column options (--lon-column / --lat-column)")
    lon_col = lon_column or _find_column(table.columns, _LON_NAMES)
    lat_col = lat_column or _find_column(table.columns, _LAT_NAMES)
    if lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(table[lon_col], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(table[lat_col], errors="coerce").to_numpy(float)
        where = f"columns `{lon_col}`/`{lat_col}`"
    else:
        location_col = _find_column(table.columns, _LOCATION_NAMES)
        wkt_col = _find_column(table.columns, _WKT_NAMES)
        if location_col is not None:
            parts = table[location_col].astype(str).str.split(r"[,，\s]+", n=1, expand=True, regex=True)
            parts = parts.reindex(columns=[0, 1])
            lon = pd.to_numeric(parts[0], errors="coerce").to_numpy(float)
            lat = pd.to_numeric(parts[1], errors="coerce").to_numpy(float)
            where = f"column `{location_col}` (\"lon,lat\")"
        elif wkt_col is not None:
            geometry = shapely.from_wkt(table[wkt_col].to_numpy(dtype=object), on_invalid="ignore")
            bad = np.flatnonzero(shapely.is_missing(geometry) | shapely.is_empty(geometry))
            if bad.size:
                msg = (f"{file.name}: column `{wkt_col}` has {bad.size} missing or invalid WKT geometries "
                       f"({_describe(table, bad, name_column)}); fix or drop those rows")
                raise InputDataError(msg)
            return gpd.GeoDataFrame(table.drop(columns=[wkt_col]), geometry=geometry, crs=None)
        else:
            found = ", ".join(f"`{c}`" for c in table.columns)
            msg = (f"{file.name}: no coordinate columns; expected longitude/latitude columns such as "
                   "`lon`/`lat`, "
                   f"`lng`/`lat`, `longitude`/`latitude` or `经度`/`纬度` (columns found: {found}); "
                   "name them with the lon_column and lat_column options ([inputs] lon_column / lat_column in the "
                   "study "
                   "file, --lon-column / --lat-column on the command line)")
            raise InputDataError(msg)
    missing = np.flatnonzero(~np.isfinite(lon) | ~np.isfinite(lat))
    if missing.size:
        msg = (f"{file.name}: {where} have {missing.size} missing or non-numeric coordinates "
               f"({_describe(table, missing, name_column)}); fill them or drop those rows")
        raise InputDataError(msg)
    swapped = np.flatnonzero((np.abs(lat) > 90) & (np.abs(lon) <= 90))
    if swapped.size:
        msg = (f"{file.name}: {where} look swapped: latitude beyond ±90° but longitude within it "
               f"({_describe(table, swapped, name_column)}); swap "
               "the lon_column and lat_column options (--lon-column / --lat-column)")
        raise InputDataError(msg)
    outside = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if outside.size:
        msg = (f"{file.name}: {where} are not longitude/latitude degrees "
               f"({_describe(table, outside, name_column)}); give WGS-84, GCJ-02 or BD-09 degrees")
        raise InputDataError(msg)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs=None)


def _describe(table: pd.DataFrame, positions: Any, name_column: str | None = None) -> str:

    return describe_rows(_row_labels(table, positions, name_column=name_column))


def _read_vector(file: Path, *, layer: str | int | None, what: str) -> gpd.GeoDataFrame:

    if layer is None and file.suffix.lower() in (".gpkg", ".gml", ".kml"):
        import pyogrio

        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(file)]
        except Exception:  # unreadable: reported by read_file below
            layers = []
        if len(layers) > 1:
            msg = (f"{file}: holds {len(layers)} layers ({', '.join(layers)}); choose one with the layer option "
                   '(study file: [inputs] layers = { <input> = "<layer>" }; command line: --layer <input>=<layer>; '
                   "Python: layer=)")
            raise InputDataError(msg)
    try:
        frame = gpd.read_file(file, layer=layer, engine="pyogrio")
    except Exception as error:  # pyogrio raises DataSourceError / DataLayerError / ValueError
        msg = (f"{file}: cannot read this {what} layer ({error}); check the file and the layer name "
               "(--layer <input>=<layer>)")
        raise InputDataError(msg) from error
    if len(frame) == 0:
        msg = f"{file}: the {what} layer has no features; export it again with its rows"
        raise InputDataError(msg)
    if frame.crs is None:
        msg = (f"{file}: the {what} layer has no CRS, so its coordinates cannot be placed; set it, e.g. "
               "gdf.set_crs(4326) in Python or `ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp` (for a Shapefile, "
               "supply the .prj file)")
        raise InputDataError(msg)
    return frame


def _to_wgs84(frame: gpd.GeoDataFrame, *, coordinate_system: str, name: str) -> gpd.GeoDataFrame:

    if frame.crs is not None and frame.crs.is_geographic and coordinate_system == "wgs84" and frame.crs != 4326:
        frame = frame.to_crs(4326)
    return convert_to_wgs84(frame, source=coordinate_system, name=name)  # type: ignore[arg-type]


def _check_geometries(frame: gpd.GeoDataFrame, *, name: str, name_column: str | None) -> None:

    geometry = frame.geometry.array
    bad = np.flatnonzero(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if bad.size:
        msg = (f"{name}: {bad.size} features have no geometry ({_describe(frame, bad, name_column)}); "
               "give them coordinates or drop them")
        raise InputDataError(msg)


def _check_degrees(frame: gpd.GeoDataFrame, *, name: str, name_column: str | None) -> None:
    """Raise if WGS-84 geometries have latitudes beyond ±90° or longitudes beyond ±180°."""
    bounds = shapely.bounds(frame.geometry.array)
    bad_lat = (np.abs(bounds[:, 1]) > 90) | (np.abs(bounds[:, 3]) > 90)
    bad_lon = (np.abs(bounds[:, 0]) > 180) | (np.abs(bounds[:, 2]) > 180)
    bad = np.flatnonzero(bad_lat | bad_lon)
    if not bad.size:
        return
    swappable = bad_lat[bad] & (np.abs(bounds[bad][:, [0, 2]]) <= 90).all(axis=1)
    advice = ("longitude and latitude look swapped (latitude beyond ±90°): write coordinates as (lon, lat)"
              if swappable.all() else "coordinates are not longitude/latitude degrees: check the layer's CRS")
    msg = f"{name}: {bad.size} features out of range ({_describe(frame, bad, name_column)}); {advice}"
    raise InputDataError(msg)


def _check_inside(
    frame: gpd.GeoDataFrame, study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any, *, name: str,
    name_column: str | None, what: str,
) -> None:
    """Raise if features fall outside the study area, suggesting a lon/lat swap where that fits."""
    area = _study_area_parts(study_area, 4326)
    # a tolerance of ~0.1 m (1e-6 degree) for points drawn exactly on a boundary
    inside = _inside_any(area, frame.geometry.to_numpy(), tolerance=1e-6)
    outside = np.flatnonzero(~inside)
    if not outside.size:
        return
    xy = shapely.get_coordinates(shapely.point_on_surface(frame.geometry.to_numpy()[outside]))
    swapped_inside = _inside_any(area, shapely.points(xy[:, ::-1]))
    advice = ("their longitude and latitude look swapped (swapped they fall inside): swap the lon_column "
              "and lat_column options (--lon-column / --lat-column), or fix the source" if swapped_inside.all() else
              "check the coordinates and their datum (--facilities-coordinates or [inputs] facilities_coordinates: "
              "'wgs84', 'gcj02' for Amap, 'bd09' for Baidu)")
    minx, miny, maxx, maxy = shapely.total_bounds(area)
    msg = (f"{name}: {outside.size} of {len(frame)} {what} outside the study area (lon {minx:.3f}..{maxx:.3f}, "
           f"lat {miny:.3f}..{maxy:.3f}): {_describe(frame, outside, name_column)}; {advice}")
    raise InputDataError(msg)


def _parse_bool(values: pd.Series, *, name: str, column: str, table: pd.DataFrame, name_column: str | None
                ) -> np.ndarray:

    out = np.full(len(values), True, dtype=object)
    bad = []
    for i, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, bool | np.bool_):
            out[i] = bool(value)
            continue
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text == "" or text == "nan":
            continue
        if text in _TRUE:
            out[i] = True
        elif text in _FALSE:
            out[i] = False
        elif text in _UNKNOWN:
            out[i] = None
        else:
            bad.append(i)
    if bad:
        msg = (f"{name}: column `{column}` has values that are not yes/no ({_describe(table, bad, name_column)}); "
               "use true/false, yes/no, 1/0, 是/否 or unknown/未知 (empty means open)")
        raise InputDataError(msg)
    return out if any(v is None for v in out) else out.astype(bool)


def _numeric(values: pd.Series, *, name: str, column: str, table: pd.DataFrame, name_column: str | None
             ) -> np.ndarray:

    text = values.astype(object).where(values.notna(), None)
    cleaned = text.map(lambda v: v.replace(",", "").strip() if isinstance(v, str) else v)
    cleaned = cleaned.map(lambda v: None if isinstance(v, str) and v == "" else v)
    numbers = np.array(pd.to_numeric(cleaned, errors="coerce"), dtype=float)
    bad = np.flatnonzero(np.isnan(numbers) & cleaned.notna().to_numpy())
    if bad.size:
        msg = f"{name}: column `{column}` has non-numeric values ({_describe(table, bad, name_column)}); give numbers"
        raise InputDataError(msg)
    return numbers


def read_facilities(
    path: str | os.PathLike[str],
    *,
    coordinate_system: str = "wgs84",
    lon_column: str | None = None,
    lat_column: str | None = None,
    area_policy: str = "typical",
    trail_width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read a facility list into the facilities schema, in WGS-84.

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON, GeoPackage, Shapefile (with its ``.prj``), FlatGeobuf; or a
        CSV / TSV / Excel ``.xlsx`` table with longitude/latitude columns
        (``lon``/``lng``/``longitude``/``x``/``经度`` and
        ``lat``/``latitude``/``y``/``纬度``), an Amap-style ``location``
        column ``"lon,lat"``, or a ``wkt`` column.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates: Amap (Gaode) exports are ``"gcj02"``, Baidu
        ``"bd09"``; they are converted to WGS-84.
    lon_column, lat_column : str, optional
        Coordinate column names of a table, when not auto-detected.
    area_policy : {"typical", "exclude"}
        Rows without ``area_m2``: ``"typical"`` uses ``settings.TYPICAL_AREA_M2``
        of their kind (``area_source="typical"``); ``"exclude"`` leaves NaN
        (``area_source="missing"``) so they are left out of area totals. The
        rows are named in a logged warning either way. ``fitness_trail`` lines
        without an area get length (metres, in the data's metric CRS) x
        ``trail_width_m`` (``area_source="length_x_width"``).
    trail_width_m : float
        Trail width in metres.
    study_area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Boundaries the facilities must fall in (a shapely geometry is read as
        WGS-84). Rows outside raise an error, which suggests swapping lon/lat
        when that would put them inside.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``facility_id`` (str, unique; generated ``F0001``...
        when the file has no id column), ``name``, ``kind`` (one of
        ``settings.FACILITY_KINDS``), ``area_m2`` (m², >= 0 or NaN),
        ``area_source``, ``open_to_public`` (bool, default true; object with
        ``None`` where the file says ``unknown``/``未知``), ``capacity``
        (float, NaN if unknown), ``district`` (str or None), ``public_access``
        (``settings.PUBLIC_ACCESS_LEVELS``: ``full``, ``after_school`` (open
        outside school hours), ``closed``; from ``open_to_public`` when the
        file has no such column, None where that is unknown), ``open_hours``
        (free text kept as given, or None), ``geometry`` (Point,
        (Multi)Polygon or (Multi)LineString).

    Notes
    -----
    A file without a ``kind`` column but with OSM tags (``leisure``, ``sport``,
    ``amenity``) is mapped by the table in :mod:`ordos_geo._osm_tags`: features
    that are not exercise places (picnic tables, parking...) are dropped, and
    features no rule matches become ``"other"`` with a ``UserWarning`` naming
    their rows. Column names are matched case-insensitively, with Chinese and
    Amap aliases (``名称``, ``面积``, ``adname``...). The file is only read.

    Raises
    ------
    InputFileNotFoundError
        Missing file.
    InputDataError
        Empty file, missing column, unknown kind, negative or non-numeric
        area, CRS-less layer, coordinates swapped or outside the study area,
        duplicated ids.
    """
    if area_policy not in ("typical", "exclude"):
        msg = f"area_policy={area_policy!r} is not known; use 'typical' or 'exclude'"
        raise ConfigError(msg)
    if coordinate_system not in ("wgs84", "gcj02", "bd09"):
        msg = f"coordinate_system={coordinate_system!r} is not known; use 'wgs84', 'gcj02' (Amap) or 'bd09' (Baidu)"
        raise ConfigError(msg)
    if not (np.isfinite(trail_width_m) and trail_width_m > 0):
        msg = f"trail_width_m={trail_width_m!r} must be a positive number of metres"
        raise ConfigError(msg)
    file = check_input_file(path, what="facility", suffixes=FACILITY_SUFFIXES)
    name = file.name
    if file.name.lower().endswith(_TABLE_SUFFIXES):
        table = _read_table(file)
        table = table.dropna(how="all").reset_index(drop=True)
        if len(table) == 0:
            msg = f"{file}: the table has a header but no rows; add the facilities"
            raise InputDataError(msg)
        frame = _points_from_table(table, file=file, lon_column=lon_column, lat_column=lat_column)
    else:
        frame = _read_vector(file, layer=layer, what="facility")
    frame = frame.reset_index(drop=True)
    columns = {key: _find_column(frame.columns.drop(frame.geometry.name), names) for key, names in _ALIASES.items()}
    name_column = columns["name"]
    _check_geometries(frame, name=name, name_column=name_column)
    frame = _to_wgs84(frame, coordinate_system=coordinate_system, name=name)
    _check_degrees(frame, name=name, name_column=name_column)
    if study_area is not None:
        _check_inside(frame, study_area, name=name, name_column=name_column, what="facilities")
    n = len(frame)
    geometry_types = frame.geom_type.to_numpy(dtype=object)

    # kind ----------------------------------------------------------------
    keep = np.ones(n, dtype=bool)
    if columns["kind"] is not None:
        kinds = frame[columns["kind"]].map(_normalise_kind).astype(object)
        empty = np.flatnonzero(kinds.isna().to_numpy())
        if empty.size:
            msg = (f"{name}: column `{columns['kind']}` is empty in {_describe(frame, empty, name_column)}; "
                   f"give each row one of {', '.join(settings.FACILITY_KINDS)}")
            raise InputDataError(msg)
        valid = kinds.isin(settings.FACILITY_KINDS).to_numpy()
        if not valid.all():
            bad = np.flatnonzero(~valid)
            values = sorted({str(v) for v in frame[columns["kind"]].iloc[bad]})  # as the user wrote them
            msg = (f"{name}: column `{columns['kind']}` has unknown kinds {', '.join(repr(v) for v in values[:10])} "
                   f"({_describe(frame, bad, name_column)}); valid kinds: {', '.join(settings.FACILITY_KINDS)}")
            raise InputDataError(msg)
        kinds = kinds.to_numpy(dtype=object)
    elif any(_find_column(frame.columns, (key,)) is not None for key in _osm_tags.OSM_TAG_KEYS):
        tag_columns = {key: _find_column(frame.columns, (key,)) for key in
                       ("leisure", "sport", "amenity", "building", "highway", "name")}
        records = pd.DataFrame({k: frame[c] if c is not None else None for k, c in tag_columns.items()})
        kinds = np.array([_osm_tags.kind_from_osm_tags(tags, geometry_type=g)
                          for tags, g in zip(records.to_dict("records"), geometry_types, strict=True)], dtype=object)
        unmapped = np.flatnonzero(kinds == _osm_tags.UNMAPPED)
        if unmapped.size:
            warnings.warn(
                f"{name}: {unmapped.size} features have OSM tags no rule maps to a facility kind "
                f"({_describe(frame, unmapped, name_column)}); they are kept as kind 'other'. Add a `kind` column "
                "to classify them (table in ordos_geo._osm_tags)",
                UserWarning,
                stacklevel=2,
            )
            kinds[unmapped] = "other"
        dropped = np.array([k is None for k in kinds])
        if dropped.any():
            logger.info("%s: dropped %s features that are not exercise places (%s)", name, int(dropped.sum()),
                        describe_rows(np.flatnonzero(dropped) + 1))
            keep &= ~dropped
    else:
        check_columns(frame, ["kind"], name=name,
                      hint=f"add `kind` with one of {', '.join(settings.FACILITY_KINDS)}, or OSM tags "
                           "`leisure`/`sport`/`amenity` to map from")
        raise AssertionError  # pragma: no cover - check_columns raised

    # area ----------------------------------------------------------------
    if columns["area_m2"] is not None:
        area = _numeric(frame[columns["area_m2"]], name=name, column=columns["area_m2"], table=frame,
                        name_column=name_column)
        check_non_negative_finite(pd.Series(area), name=name, column=columns["area_m2"],
                                  meaning="areas are venue field areas in m² (check the unit), fix or drop those rows",
                                  row_labels=lambda rows: _row_labels(frame, rows, name_column=name_column),
                                  maximum=settings.MAX_VENUE_AREA_M2)
    else:
        area = np.full(n, np.nan)
    area_source = np.where(np.isnan(area), "missing", "input").astype(object)
    is_line = np.isin(geometry_types, list(_LINE_TYPES))
    trail_rows = np.flatnonzero(np.isnan(area) & (kinds == "fitness_trail") & is_line)
    if trail_rows.size:

        lines = frame.geometry.iloc[trail_rows]
        lengths = lines.to_crs(metric_crs_for(lines)).length.to_numpy(float)
        area[trail_rows] = lengths * trail_width_m
        area_source[trail_rows] = "length_x_width"
    missing_area = np.flatnonzero(np.isnan(area) & keep)
    if missing_area.size:
        if area_policy == "typical":
            area[missing_area] = [settings.TYPICAL_AREA_M2[k] for k in kinds[missing_area]]
            area_source[missing_area] = "typical"
            action = "using the typical area of their kind (settings.TYPICAL_AREA_M2)"
        else:
            action = "leaving them out of area totals (area_policy='exclude')"
        logger.warning("%s: %s facilities have no area (%s); %s", name, missing_area.size,
                       _describe(frame, missing_area, name_column), action)

    # the rest --------------------------------------------------------------
    if columns["open_to_public"] is not None:
        open_to_public = _parse_bool(frame[columns["open_to_public"]], name=name, column=columns["open_to_public"],
                                     table=frame, name_column=name_column)
    else:
        open_to_public = np.ones(n, dtype=bool)
    public_access, open_to_public = _public_access(frame, columns, open_to_public, name=name,
                                                   name_column=name_column)
    open_hours = (frame[columns["open_hours"]].map(lambda v: str(v).strip() if v is not None and v == v else None)
                  if columns["open_hours"] is not None else pd.Series([None] * n, dtype=object))
    if columns["capacity"] is not None:
        capacity = _numeric(frame[columns["capacity"]], name=name, column=columns["capacity"], table=frame,
                            name_column=name_column)
        check_non_negative_finite(pd.Series(capacity), name=name, column=columns["capacity"],
                                  meaning="capacity is a number of people, fix or drop those rows",
                                  row_labels=lambda rows: _row_labels(frame, rows, name_column=name_column))
    else:
        capacity = np.full(n, np.nan)
    names = (frame[name_column].map(lambda v: str(v).strip() if v is not None and v == v else "")
             if name_column is not None else pd.Series([""] * n))
    district = (frame[columns["district"]].map(lambda v: str(v).strip() if v is not None and v == v else None)
                if columns["district"] is not None else pd.Series([None] * n, dtype=object))
    if columns["facility_id"] is not None:
        ids = frame[columns["facility_id"]].map(lambda v: None if v is None or v != v else _id_text(v))
        missing_id = np.flatnonzero(ids.isna().to_numpy() & keep)
        if missing_id.size:
            msg = (f"{name}: column `{columns['facility_id']}` is empty in {_describe(frame, missing_id, name_column)}"
                   "; fill the ids or drop the column to generate them")
            raise InputDataError(msg)

        kept = np.flatnonzero(keep)
        check_unique(ids.iloc[kept].reset_index(drop=True), name=name, column=columns["facility_id"],
                     row_labels=_row_labels(frame, kept, name_column=name_column))
    else:
        width = max(4, len(str(int(keep.sum()))))
        ids = pd.Series([None] * n, dtype=object)
        ids.iloc[np.flatnonzero(keep)] = [f"F{i:0{width}d}" for i in range(1, int(keep.sum()) + 1)]

    out = gpd.GeoDataFrame(
        {
            "facility_id": ids.to_numpy(dtype=object),
            "name": names.to_numpy(dtype=object),
            "kind": kinds,
            "area_m2": area,
            "area_source": area_source,
            "open_to_public": open_to_public,
            "capacity": capacity,
            "district": district.to_numpy(dtype=object),
            "public_access": public_access,
            "open_hours": open_hours.to_numpy(dtype=object),
        },
        geometry=frame.geometry.array,
        crs=4326,
    )
    out = out.loc[keep].reset_index(drop=True)
    for column in ("district", "open_hours"):
        out[column] = pd.Series(
            [d if isinstance(d, str) and d else None for d in out[column].tolist()], index=out.index, dtype=object
        )
    logger.info("%s: %s facilities (%s)", name, len(out),
                ", ".join(f"{k} {v}" for k, v in out["kind"].value_counts().sort_index().items()))
    return out


def _public_access(frame: pd.DataFrame, columns: dict[str, str | None], open_to_public: np.ndarray, *, name: str,
                   name_column: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``public_access`` per row (``full``/``after_school``/``closed``) and ``open_to_public`` agreeing with it.

    Without the column the level follows ``open_to_public`` (``full`` or
    ``closed``; None where that is unknown); with it, an empty cell does too,
    and ``open_to_public`` is true unless the level is ``closed``. A row where
    both are filled in and disagree (open but ``closed``, or not open but
    ``full``) is an error.
    """
    known = np.array([v is not None for v in open_to_public], dtype=bool)
    derived = np.array([None if v is None else ("full" if v else "closed") for v in open_to_public], dtype=object)
    column = columns["public_access"]
    if column is None:
        return derived, open_to_public
    given = frame[column].map(lambda v: None if v is None or v != v or not str(v).strip()
                              else _ACCESS_WORDS.get(" ".join(str(v).strip().lower().split()), "?"))
    bad = np.flatnonzero((given == "?").to_numpy())
    if bad.size:
        msg = (f"{name}: column `{column}` has unknown access levels ({_describe(frame, bad, name_column)}); "
               f"use one of {', '.join(settings.PUBLIC_ACCESS_LEVELS)} (or 全天开放/课后开放/不开放)")
        raise InputDataError(msg)
    access = np.where(given.isna().to_numpy(), derived, given.to_numpy(dtype=object)).astype(object)
    if columns["open_to_public"] is not None:
        stated = frame[columns["open_to_public"]].map(lambda v: v is not None and v == v and str(v).strip() != "")
        opened = np.array([bool(v) for v in open_to_public])
        clash = np.flatnonzero(stated.to_numpy(dtype=bool) & known & given.notna().to_numpy()
                               & ((access == "closed") == opened))
        if clash.size:
            msg = (f"{name}: columns `{columns['open_to_public']}` and `{column}` disagree "
                   f"({_describe(frame, clash, name_column)}); a venue open to the public is `full` or "
                   "`after_school`, a closed one `closed`: fix one of the two")
            raise InputDataError(msg)
    result = np.array([None if a is None else a != "closed" for a in access], dtype=object)
    return access, result if any(v is None for v in result) else result.astype(bool)


def _normalise_kind(value: Any) -> str | None:
    """``" Multi-sport court "`` -> ``"multi_sport_court"``; empty -> None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = "_".join(str(value).strip().lower().replace("-", " ").split())
    return text or None


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_population(
    path: str | os.PathLike[str],
    *,
    population_column: str = "population",
    study_area: gpd.GeoDataFrame | gpd.GeoSeries | Any | None = None,
    layer: str | int | None = None,
    coordinate_system: str = "wgs84",
    lon_column: str | None = None,
    lat_column: str | None = None,
    residential: gpd.GeoDataFrame | Callable[[], gpd.GeoDataFrame | None] | None = None,
    grid_crs: Any = None,
    grid_m: float = settings.POPULATION_GRID_M,
) -> gpd.GeoDataFrame:
    """Read population in the forms planners hold it into populated cells.

    Three forms, told apart by the file:

    - ``"raster"``: a single-band GeoTIFF of people per cell (WorldPop / GHSL
      style, any CRS, nodata honoured);
    - ``"points"``: a CSV / Excel table with longitude/latitude columns (or a
      vector file of points) and a population column, in WGS-84, GCJ-02 or
      BD-09; each point stands for its people;
    - ``"polygons"``: community (社区/居委会) or street (街道) polygons with a
      count, spread dasymetrically onto a ``grid_m`` grid in ``grid_crs``: each
      polygon's count goes to the grid cells in proportion to the area of
      ``residential`` land and buildings inside the polygon and the cell,
      evenly by area when the polygon holds none; every polygon's total is kept.

    Parameters
    ----------
    path : str or os.PathLike
        GeoTIFF; CSV / TSV / XLSX; or GeoJSON, GeoPackage, Shapefile...
    population_column : str
        Population column of a table or vector file (also found as ``pop`` or ``人口``).
    study_area : GeoDataFrame, GeoSeries or shapely geometry, optional
        Keep only raster cells and points inside it (a shapely geometry is
        read as WGS-84; ``attrs["outside_study_area"]`` counts the people of
        points left out); polygons lying wholly outside it are refused, the
        others are spread whole (their cells may reach past its edge).
    layer : str or int, optional
        Layer of a multi-layer vector file.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of degree coordinates of points and polygons (Amap: ``"gcj02"``).
    lon_column, lat_column : str, optional
        Coordinate columns of a table, when not found by their usual names.
    residential : geopandas.GeoDataFrame or callable, optional
        Residential land and buildings (e.g. ``read_osm_features(extract,
        settings.RESIDENTIAL_OSM_TAGS)``) for the polygon form, or a function
        returning them, called only for that form.
    grid_crs : pyproj.CRS, str or int, optional
        Metric CRS of the grid (default: :func:`ordos_geo._crs.metric_crs_for`).
    grid_m : float
        Grid cell size in metres (default 100).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per populated cell (population > 0): ``cell_id``
        (int, unique: ``row * width + col`` of a raster cell; ``row * 10**7 +
        col`` of a grid cell of the polygon form, counted from the CRS origin;
        for points the ``cell_id`` column if present and unique, else the row
        position), ``population`` (float, people), ``geometry`` (the cell
        polygon; points stay points). ``attrs["population_form"]`` is
        ``"raster"``, ``"points"`` or ``"polygons"``; points add
        ``attrs["outside_study_area"]``, polygons
        ``attrs["population_polygons"]`` and
        ``attrs["polygons_without_residential"]``.

    Raises
    ------
    InputDataError
        No population column, negative or non-finite counts (rows named),
        polygons outside the study area, a raster without CRS, no populated cell.

    Examples
    --------
    >>> from ordos_geo import settings
    >>> cells = read_population(settings.SAMPLE_DIR / "population.tif")
    >>> cells.attrs["population_form"], bool(cells["population"].gt(0).all())
    ('raster', True)
    """
    file = check_input_file(path, what="population", suffixes=_RASTER_SUFFIXES + _VECTOR_SUFFIXES + _TABLE_SUFFIXES)
    if file.name.lower().endswith(_RASTER_SUFFIXES):
        cells, form, extra = _population_from_raster(file, study_area=study_area), "raster", {}
    else:
        frame = read_vector(file, what="population", layer=layer, coordinate_system=coordinate_system,
                            geometry_types=("Point", "MultiPoint", "Polygon", "MultiPolygon"),
                            lon_column=lon_column, lat_column=lat_column)
        values = _population_counts(frame, file=file, population_column=population_column)
        if frame.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            land = residential() if callable(residential) else residential
            cells, extra = _population_from_polygons(frame, values, file=file, study_area=study_area,
                                                     residential=land, grid_crs=grid_crs, grid_m=grid_m)
            form = "polygons"
        elif frame.geom_type.isin(["Point", "MultiPoint"]).all():
            cells, extra = _population_from_points(frame, values, file=file, study_area=study_area)
            form = "points"
        else:
            msg = (f"{file.name}: population features mix points and polygons; give one form per file (points "
                   "with counts, or community/street polygons with counts)")
            raise InputDataError(msg)
    cells.attrs.update(population_form=form, **extra)
    logger.info("%s: %s population, %s populated cells, %s people", file.name, form, f"{len(cells):,}",
                f"{cells['population'].sum():,.0f}")
    return cells


def _study_area_parts(study_area: Any, crs: Any) -> np.ndarray:
    """The study area's geometries in ``crs`` (a shapely geometry is read as WGS-84)."""
    if isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
        if study_area.crs is None:
            msg = "study_area has no CRS; set it with .set_crs(...)"
            raise InputDataError(msg)
        parts = study_area.to_crs(crs).geometry.to_numpy()
    else:
        parts = gpd.GeoSeries([study_area], crs=4326).to_crs(crs).to_numpy()
    return parts[~(shapely.is_missing(parts) | shapely.is_empty(parts))]


def _inside_any(parts: np.ndarray, geometries: np.ndarray, *, tolerance: float = 0.0) -> np.ndarray:
    """Boolean mask: which ``geometries`` lie within ``tolerance`` of one of ``parts`` (an STRtree, no union)."""
    inside = np.zeros(len(geometries), dtype=bool)
    if len(parts) and len(geometries):
        tree = shapely.STRtree(parts)
        if tolerance > 0:
            hits = tree.query(geometries, predicate="dwithin", distance=tolerance)
        else:
            hits = tree.query(geometries, predicate="intersects")
        inside[hits[0]] = True
    return inside


def _population_from_raster(file: Path, *, study_area: Any) -> gpd.GeoDataFrame:
    import rasterio
    import rasterio.windows

    try:
        dataset = rasterio.open(file)
    except rasterio.errors.RasterioError as error:
        msg = f"{file}: cannot read this raster ({error}); give a GeoTIFF of people per cell"
        raise InputDataError(msg) from error
    with dataset:
        if dataset.crs is None:
            msg = (f"{file}: the raster has no CRS; set it, e.g. `gdal_edit.py -a_srs EPSG:4326 {file.name}` "
                   "(WorldPop and GHSL grids are EPSG:4326 / ESRI:54009)")
            raise InputDataError(msg)
        if dataset.count < 1:
            msg = f"{file}: the raster has no band; give a single-band population grid"
            raise InputDataError(msg)
        window = None
        area = None
        if study_area is not None:
            area = _study_area_parts(study_area, dataset.crs)
            full = rasterio.windows.Window(0, 0, dataset.width, dataset.height)
            try:
                window = rasterio.windows.from_bounds(*shapely.total_bounds(area), transform=dataset.transform)
                window = window.round_offsets(op="floor").round_lengths(op="ceil").intersection(full)
            except rasterio.errors.WindowError:
                window = rasterio.windows.Window(0, 0, 0, 0)
        try:
            values = dataset.read(1, window=window, masked=True)
        except rasterio.errors.RasterioError as error:
            msg = (f"{file}: the raster's cells cannot be read ({error}); the file is truncated or corrupt: "
                   "download or export it again")
            raise InputDataError(msg) from error
        row_offset = int(window.row_off) if window is not None else 0
        col_offset = int(window.col_off) if window is not None else 0
        transform = dataset.transform
        width = dataset.width
        crs = dataset.crs
    data = np.asarray(values.data, dtype=float)
    valid = ~np.ma.getmaskarray(values)
    if dataset.nodata is not None and np.isnan(dataset.nodata):
        valid &= ~np.isnan(data)
    _reject_bad_cells(file, data, valid, row_offset, col_offset)
    populated = valid & (data > 0)
    rows, cols = np.nonzero(populated)
    if rows.size == 0:
        n_valid = int(valid.sum())
        where = " inside the study area" if study_area is not None else ""
        msg = (f"{file}: no populated cells{where}: {n_valid:,} valid cells, none above 0 (nodata = "
               f"{dataset.nodata}); check the raster covers the study area and its nodata value")
        raise InputDataError(msg)
    rows = rows + row_offset
    cols = cols + col_offset
    population = data[rows - row_offset, cols - col_offset]
    # cell corners through the affine transform (handles rotation), vectorised
    corner_cols = cols[:, None] + np.array([0, 1, 1, 0, 0])[None, :]
    corner_rows = rows[:, None] + np.array([0, 0, 1, 1, 0])[None, :]
    xs = transform.a * corner_cols + transform.b * corner_rows + transform.c
    ys = transform.d * corner_cols + transform.e * corner_rows + transform.f
    polygons = shapely.polygons(np.stack([xs, ys], axis=-1))
    cells = gpd.GeoDataFrame(
        {"cell_id": rows.astype(np.int64) * width + cols.astype(np.int64), "population": population},
        geometry=polygons, crs=crs,
    )
    if area is not None:
        centres = shapely.points((xs[:, 0] + xs[:, 2]) / 2, (ys[:, 0] + ys[:, 2]) / 2)
        cells = cells.loc[_inside_any(area, centres)].reset_index(drop=True)
        if len(cells) == 0:
            msg = f"{file}: no populated cell centre lies inside the study area; check the raster covers it"
            raise InputDataError(msg)
    return cells.to_crs(4326)


def _reject_bad_cells(file: Path, data: np.ndarray, valid: np.ndarray, row_offset: int, col_offset: int) -> None:
    for label, bad in (("non-finite", valid & ~np.isfinite(data)), ("negative", valid & (data < 0))):
        if bad.any():
            rows, cols = np.nonzero(bad)
            first = ", ".join(f"(row {r + row_offset}, col {c + col_offset})" for r, c in
                              zip(rows[:5].tolist(), cols[:5].tolist(), strict=True))
            msg = (f"{file}: {int(bad.sum()):,} {label} population values that are not nodata, first at {first}; "
                   "people per cell must be >= 0: set those cells to the raster's nodata value or 0")
            raise InputDataError(msg)


def _population_counts(frame: gpd.GeoDataFrame, *, file: Path, population_column: str) -> np.ndarray:
    """The population column of a table or vector file as numbers >= 0 (one-line errors otherwise)."""
    columns = frame.columns.drop(frame.geometry.name)
    column = population_column if population_column in columns else _find_column(
        columns, (population_column, "pop", "人口", "人口数", "常住人口"))
    if column is None:
        check_columns(frame, [population_column], name=file.name,
                      hint="name the count column with --population-column or [inputs] population_column")
    name_column = _find_column(columns, _ALIASES["name"])
    values = _numeric(frame[column], name=file.name, column=column, table=frame, name_column=name_column)
    check_non_negative_finite(pd.Series(values), name=file.name, column=column,
                              meaning="population counts people and must be >= 0",
                              row_labels=lambda rows: _row_labels(frame, rows, name_column=name_column))
    return values


def _population_from_points(
    frame: gpd.GeoDataFrame, values: np.ndarray, *, file: Path, study_area: Any
) -> tuple[gpd.GeoDataFrame, dict[str, float]]:
    if "cell_id" in frame.columns and not frame["cell_id"].duplicated().any() and frame["cell_id"].notna().all():
        cell_id = pd.to_numeric(frame["cell_id"], errors="coerce")
        cell_id = cell_id.to_numpy(np.int64) if cell_id.notna().all() else np.arange(len(frame), dtype=np.int64)
    else:
        cell_id = np.arange(len(frame), dtype=np.int64)
    cells = gpd.GeoDataFrame({"cell_id": cell_id, "population": values}, geometry=frame.geometry.array, crs=4326)
    populated = values > 0
    inside = np.ones(len(values), dtype=bool)
    if study_area is not None:
        inside = _inside_any(_study_area_parts(study_area, 4326), shapely.point_on_surface(cells.geometry.array))
    cells = cells.loc[populated & inside].reset_index(drop=True)
    if len(cells) == 0:
        where = " inside the study area" if study_area is not None else ""
        msg = f"{file.name}: no point with population above 0{where}; check the counts and the coordinates"
        raise InputDataError(msg)
    return cells, {"outside_study_area": float(values[populated & ~inside].sum())}


#: Precision (metres) population polygons are snapped to before they are cut by the grid.
_POLYGON_PRECISION_M = 0.1


def _population_from_polygons(
    frame: gpd.GeoDataFrame, values: np.ndarray, *, file: Path, study_area: Any,
    residential: gpd.GeoDataFrame | None, grid_crs: Any, grid_m: float,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Spread each polygon's count over residential land/buildings on the grid (dasymetric), totals kept."""
    name_column = _find_column(frame.columns.drop(frame.geometry.name), _ALIASES["name"])
    if study_area is not None:
        outside = np.flatnonzero(~_inside_any(_study_area_parts(study_area, 4326), frame.geometry.to_numpy()))
        if outside.size:
            msg = (f"{file.name}: {outside.size} of {len(frame)} population polygons lie outside the study area "
                   f"({_describe(frame, outside, name_column)}); drop them, or check their coordinates and datum "
                   "(--population-coordinates: 'wgs84', 'gcj02' for Amap, 'bd09' for Baidu)")
            raise InputDataError(msg)
    crs = metric_crs_for(frame.geometry) if grid_crs is None else grid_crs
    # vertices to 10 cm: a grid-aligned polygon stored in degrees (GeoJSON keeps 7 decimals) is aligned again
    # (the second call drops the precision model, so cutting by the grid is exact again)
    polygons = shapely.set_precision(
        shapely.set_precision(frame.geometry.to_crs(crs).to_numpy(), _POLYGON_PRECISION_M), 0.0)
    keep = values > 0
    polygons, counts, owners = polygons[keep], values[keep], np.flatnonzero(keep)
    # the grid cells each polygon overlaps, and the piece of the polygon in each
    bounds = shapely.bounds(polygons)
    lo = np.floor(bounds[:, :2] / grid_m).astype(np.int64)
    hi = np.ceil(bounds[:, 2:] / grid_m).astype(np.int64)
    owner_parts, col_parts, row_parts = [], [], []
    for k in range(len(polygons)):
        cols, rows = np.meshgrid(np.arange(lo[k, 0], hi[k, 0]), np.arange(lo[k, 1], hi[k, 1]))
        owner_parts.append(np.full(cols.size, k))
        col_parts.append(cols.ravel())
        row_parts.append(rows.ravel())
    owner = np.concatenate(owner_parts) if owner_parts else np.zeros(0, dtype=np.int64)
    col = np.concatenate(col_parts) if col_parts else np.zeros(0, dtype=np.int64)
    row = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
    boxes = shapely.box(col * grid_m, row * grid_m, (col + 1) * grid_m, (row + 1) * grid_m)
    pieces = shapely.intersection(polygons[owner], boxes)
    area = shapely.area(pieces)
    area[area < _POLYGON_PRECISION_M**2] = 0.0  # slivers left by rounding
    weight = np.zeros(len(pieces))
    if residential is not None and len(residential):
        land = residential.to_crs(crs).geometry.to_numpy()
        land = land[np.isin(shapely.get_type_id(land), (3, 6))]  # polygons only
        if len(land):
            parts = shapely.get_parts(shapely.union_all(shapely.make_valid(land)))
            parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            piece_idx, part_idx = shapely.STRtree(parts).query(pieces, predicate="intersects")
            overlap = shapely.area(shapely.intersection(pieces[piece_idx], parts[part_idx]))
            np.add.at(weight, piece_idx, overlap)
            weight[(area == 0) | (weight < _POLYGON_PRECISION_M**2)] = 0.0
    total_weight = np.bincount(owner, weights=weight, minlength=len(polygons))
    total_area = np.bincount(owner, weights=area, minlength=len(polygons))
    dasymetric = total_weight[owner] > 0
    share = np.where(dasymetric, weight / np.where(dasymetric, total_weight[owner], 1.0),
                     area / np.maximum(total_area[owner], 1e-300))
    people = counts[owner] * share
    # cells shared by several polygons get the sum of their shares
    cell_id = row * 10_000_000 + col
    unique, inverse = np.unique(cell_id, return_inverse=True)
    population = np.bincount(inverse, weights=people, minlength=len(unique))
    first = np.zeros(len(unique), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    cells = gpd.GeoDataFrame({"cell_id": unique, "population": population}, geometry=boxes[first], crs=crs)
    # every cell is kept, also those just outside the study area: each polygon's total stays whole
    cells = cells.loc[population > 0].reset_index(drop=True).to_crs(4326)
    if len(cells) == 0:
        msg = f"{file.name}: no population polygon has a count above 0; check the population column"
        raise InputDataError(msg)
    without = int((total_weight == 0).sum())
    return cells, {"population_polygons": len(owners), "polygons_without_residential": without}


def read_boundaries(
    path: str | os.PathLike[str],
    *,
    adcode_column: str = "adcode",
    name_column: str | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read district / banner (or neighbourhood) boundaries.

    Parameters
    ----------
    path : str or os.PathLike
        Any vector file with polygons and a CRS.
    adcode_column : str
        Code column (administrative division code, or any unique id). Also
        tried: ``code``, ``id``, ``区划代码``.
    name_column : str, optional
        Chinese (or local) name column; default the first of ``name_zh``,
        ``name``, ``名称``.
    layer : str or int, optional
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326: ``adcode`` (str, unique), ``name_zh``, ``name_en``
        (filled from ``name_zh`` when absent), ``level`` (``"city"`` for a code
        ending in ``00``, else ``"district"``, when the file has no ``level``),
        ``share_60plus`` (share of residents aged 60+, 0-1, when the file has
        such a column, e.g. the census share per district), geometry
        (Multi)Polygon.
    """
    file = check_input_file(path, what="boundary", suffixes=_VECTOR_SUFFIXES)
    frame = _read_vector(file, layer=layer, what="boundary").reset_index(drop=True)
    attributes = frame.columns.drop(frame.geometry.name)
    code_col = adcode_column if adcode_column in frame.columns else _find_column(
        attributes, (adcode_column, "adcode", "code", "id", "区划代码"))
    if code_col is None:
        check_columns(frame, [adcode_column], name=file.name, hint="pass adcode_column=")
    if name_column is not None:
        check_columns(frame, [name_column], name=file.name, hint="check name_column=")
    name_col = name_column or _find_column(attributes, ("name_zh", "name", "名称"))
    _check_geometries(frame, name=file.name, name_column=name_col)
    polygonal = frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if not polygonal.all():
        bad = np.flatnonzero(~polygonal)
        msg = (f"{file.name}: boundaries must be polygons; {_describe(frame, bad, name_col)} are "
               f"{', '.join(sorted(set(frame.geom_type.iloc[bad])))}")
        raise InputDataError(msg)
    codes = frame[code_col].map(lambda v: None if v is None or v != v else _id_text(v))
    if codes.isna().any():
        empty = _describe(frame, np.flatnonzero(codes.isna()), name_col)
        msg = f"{file.name}: column `{code_col}` is empty in {empty}; fill the codes"
        raise InputDataError(msg)
    labels = _row_labels(frame, np.arange(len(frame)), name_column=name_col)
    check_unique(codes, name=file.name, column=code_col, row_labels=labels)
    names_zh = frame[name_col].astype(str).to_numpy(dtype=object) if name_col else codes.to_numpy(dtype=object)
    en_col = _find_column(attributes, ("name_en", "english_name", "name:en"))
    names_en = frame[en_col].where(frame[en_col].notna(), pd.Series(names_zh)).astype(str).to_numpy(dtype=object) \
        if en_col else names_zh.copy()
    level_col = _find_column(attributes, ("level",))
    default_level = np.where(codes.str.endswith("00").to_numpy(), "city", "district").astype(object)
    levels = frame[level_col].where(frame[level_col].notna(), pd.Series(default_level)).astype(str).to_numpy(
        dtype=object) if level_col else default_level
    out = gpd.GeoDataFrame({"adcode": codes.to_numpy(dtype=object), "name_zh": names_zh, "name_en": names_en,
                            "level": levels}, geometry=frame.geometry.array, crs=frame.crs)
    share_col = _find_column(attributes, ("share_60plus", "share_60_plus", "60岁及以上占比"))
    if share_col is not None:
        share = _numeric(frame[share_col], name=file.name, column=share_col, table=frame, name_column=name_col)
        bad = np.flatnonzero((share < 0) | (share > 1))
        if bad.size:
            msg = (f"{file.name}: column `{share_col}` has values outside 0-1 ({_describe(frame, bad, name_col)}); "
                   "give the share of residents aged 60+ as a fraction, e.g. 0.1158 for 11.58 %")
            raise InputDataError(msg)
        out["share_60plus"] = share
    if not out.crs.equals(4326):
        out = out.to_crs(4326)
    return out


def read_osm_features(
    path: str | os.PathLike[str], tags: Mapping[str, bool | str | list[str]]
) -> gpd.GeoDataFrame:
    """Read tagged OSM features (points, lines, polygons) from an extract.

    Parameters
    ----------
    path : str or os.PathLike
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` (read with
        ``osmnx.features_from_xml``) or ``.osm.pbf`` (read with pyrosm).
    tags : mapping
        osmnx-style tag query: key -> ``True`` (any value), a value or a list
        of values, e.g. ``{"landuse": ["grass", "brownfield"], "leisure": True}``.
        A feature matching any of them is returned.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``osm_type`` (``"node"``, ``"way"``, ``"relation"``),
        ``osm_id`` (int), one column per key of ``tags`` plus ``name``,
        ``sport``, ``amenity``, ``leisure``, ``building``, ``landuse`` when
        present, and the geometry. Empty (with these columns) when nothing
        matches.
    """
    file = check_input_file(path, what="OSM extract", suffixes=OSM_SUFFIXES)
    if not tags:
        msg = "tags must name at least one OSM key, e.g. {'leisure': True}"
        raise ConfigError(msg)
    tags = {str(k): (v if isinstance(v, bool | str) else list(v)) for k, v in tags.items()}
    wanted = list(dict.fromkeys([*tags, "name", "sport", "amenity", "leisure", "building", "landuse"]))
    if file.name.lower().endswith((".pbf",)):
        frame = _osm_features_pbf(file, tags)
    else:
        frame = _osm_features_xml(file, tags)
    if frame is None or len(frame) == 0:
        return gpd.GeoDataFrame({"osm_type": [], "osm_id": [], **{k: [] for k in wanted}}, geometry=[], crs=4326)
    for key in wanted:
        if key not in frame.columns:
            frame[key] = None
    return gpd.GeoDataFrame(frame[["osm_type", "osm_id", *wanted]], geometry=frame.geometry.array, crs=4326)


def _osm_features_xml(file: Path, tags: Mapping[str, Any]) -> gpd.GeoDataFrame | None:
    import osmnx as ox

    try:
        frame = ox.features_from_xml(file, tags=dict(tags))
    except ox._errors.InsufficientResponseError:
        return None
    except Exception as error:
        msg = f"{file}: cannot read OSM features ({error}); check it is a complete OSM XML file"
        raise InputDataError(msg) from error
    frame = frame.reset_index()
    frame = frame.rename(columns={"element": "osm_type", "id": "osm_id"})
    return frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)


def _osm_features_pbf(file: Path, tags: Mapping[str, Any]) -> gpd.GeoDataFrame | None:
    pyrosm = import_pyrosm()
    custom_filter = {k: (True if v is True else [v] if isinstance(v, str) else list(v)) for k, v in tags.items()}
    try:
        osm = pyrosm.OSM(str(file), progress=False)
        frame = osm.get_data_by_custom_criteria(custom_filter=custom_filter, keep_nodes=True, keep_ways=True,
                                                keep_relations=True)
    except Exception as error:
        msg = f"{file}: cannot read OSM features ({error}); check it is a complete .osm.pbf file"
        raise InputDataError(msg) from error
    if frame is None or len(frame) == 0:
        return None
    frame = frame.rename(columns={"id": "osm_id"})
    if "osm_type" not in frame.columns:
        frame["osm_type"] = None
    return frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)


__all__ += ["download_file", "write_graphml", "write_raster"]


def download_file(
    url: str,
    path: str | os.PathLike[str],
    *,
    check: Callable[[Path], None] | None = None,
    retries: int = 3,
    backoff_s: float = 5.0,
    chunk_size: int = 1 << 20,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``path`` through a ``.part`` file, with retries; a failed download leaves nothing.

    The bytes go to ``<path>.part``; once complete (as long as the server's
    ``Content-Length`` says) and accepted by ``check``, the file is renamed to
    ``path``. A connection error, a stall longer than ``timeout`` or an HTTP
    429/5xx answer is retried after ``backoff_s``, ``2 * backoff_s``, ...
    seconds; each retry starts from the first byte (servers such as WorldPop's
    ignore byte ranges). A progress bar shows size and speed on a terminal.

    Parameters
    ----------
    url : str
        HTTP(S) address.
    path : str or os.PathLike
        Destination file.
    check : callable, optional
        Called with the complete ``.part`` file; raises (an
        :class:`~ordos_geo._errors.OrdosGeoError`) to reject it, e.g. an HTML
        error page from a proxy instead of a GeoTIFF. Not retried.
    retries : int
        Attempts after the first.
    backoff_s : float
        Wait before the first retry, doubled each time.
    chunk_size : int
        Bytes per chunk.
    timeout : float
        Seconds to wait for the connection and for each chunk.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    requests.RequestException
        The last error once every attempt failed, or a 4xx answer (not retried).
    """
    import time

    import requests
    from tqdm.auto import tqdm

    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    for attempt in range(retries + 1):
        started = time.monotonic()
        try:
            with requests.get(url, stream=True, timeout=timeout) as response:
                response.raise_for_status()
                total = int(response.headers.get("content-length", 0) or 0) or None
                written = 0
                with part.open("wb") as file, tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                                                   desc=final.name, disable=None, leave=False) as bar:
                    for chunk in response.iter_content(chunk_size=chunk_size):
                        file.write(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
                if total is not None and written != total:
                    msg = f"{url}: the connection closed after {written:,} of {total:,} bytes"
                    raise requests.ConnectionError(msg)
            if check is not None:
                check(part)
            os.replace(part, final)
        except requests.RequestException as error:
            part.unlink(missing_ok=True)
            status = error.response.status_code if error.response is not None else None
            if attempt == retries or (status is not None and status < 500 and status != 429):
                raise
            wait = backoff_s * 2**attempt
            logger.warning("%s: %s; retry %s of %s in %.0f s", final.name, error, attempt + 1, retries, wait)
            time.sleep(wait)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        else:
            seconds = max(time.monotonic() - started, 1e-9)
            logger.info("%s: downloaded %.1f MB in %.0f s (%.1f MB/s)", final.name, written / 1e6, seconds,
                        written / 1e6 / seconds)
            return final
    raise AssertionError  # pragma: no cover - the loop returns or raises


def write_graphml(graph: Any, path: str | os.PathLike[str]) -> Path:
    """Save an osmnx graph as GraphML atomically (``osmnx.save_graphml``)."""
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


__all__ += ["read_candidates", "read_lines", "read_vector"]


def read_vector(
    path: str | os.PathLike[str],
    *,
    what: str = "vector",
    layer: str | int | None = None,
    coordinate_system: str = "wgs84",
    geometry_types: tuple[str, ...] | None = None,
    lon_column: str | None = None,
    lat_column: str | None = None,
) -> gpd.GeoDataFrame:
    """Read any vector layer (or a CSV/Excel table with lon/lat or WKT columns) into WGS-84.

    Parameters
    ----------
    path : str or os.PathLike
        GeoJSON, GeoPackage, Shapefile, FlatGeobuf...; or CSV / Excel.
    what : str
        What the file holds, for messages (``"candidate sites"``).
    layer : str or int, optional
        Layer of a multi-layer file.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of degree coordinates (Amap: ``"gcj02"``, Baidu: ``"bd09"``).
    geometry_types : tuple of str, optional
        Accepted shapely geometry types; other rows raise, naming them.
    lon_column, lat_column : str, optional
        Coordinate columns of a table.

    Returns
    -------
    geopandas.GeoDataFrame
        All attribute columns, geometry in EPSG:4326, index ``0..n-1``.
    """
    file = check_input_file(path, what=what, suffixes=FACILITY_SUFFIXES)
    if file.name.lower().endswith(_TABLE_SUFFIXES):
        table = _read_table(file).dropna(how="all").reset_index(drop=True)
        if len(table) == 0:
            msg = f"{file}: the table has a header but no rows"
            raise InputDataError(msg)
        frame = _points_from_table(table, file=file, lon_column=lon_column, lat_column=lat_column)
    else:
        frame = _read_vector(file, layer=layer, what=what)
    frame = frame.reset_index(drop=True)
    name_column = _find_column(frame.columns.drop(frame.geometry.name), _ALIASES["name"])
    _check_geometries(frame, name=file.name, name_column=name_column)
    frame = _to_wgs84(frame, coordinate_system=coordinate_system, name=file.name)
    _check_degrees(frame, name=file.name, name_column=name_column)
    if geometry_types is not None:
        wrong = np.flatnonzero(~frame.geom_type.isin(geometry_types).to_numpy())
        if wrong.size:
            found = ", ".join(sorted(set(frame.geom_type.iloc[wrong])))
            msg = (f"{file.name}: {what} must be {' / '.join(geometry_types)}; "
                   f"{_describe(frame, wrong, name_column)} are {found}")
            raise InputDataError(msg)
    return frame


def read_candidates(
    path: str | os.PathLike[str], *, layer: str | int | None = None, coordinate_system: str = "wgs84"
) -> gpd.GeoDataFrame:
    """Read candidate sites (points or parcels) into WGS-84; ``siting.candidates_from_file`` sets the schema."""
    return read_vector(path, what="candidate sites", layer=layer, coordinate_system=coordinate_system,
                       geometry_types=("Point", "Polygon", "MultiPolygon"))


def read_lines(
    path: str | os.PathLike[str], *, layer: str | int | None = None, coordinate_system: str = "wgs84"
) -> gpd.GeoDataFrame:
    """Read (Multi)LineStrings, e.g. proposed fitness trails, into WGS-84."""
    return read_vector(path, what="trail lines", layer=layer, coordinate_system=coordinate_system,
                       geometry_types=("LineString", "MultiLineString"))


#: Names a planner may use for the whole study area in a planner targets table.
_CITYWIDE_NAMES = ("citywide", "全市")
_PLANNER_COLUMNS = ("district", "indicator", "value", "year", "source")


def read_planner_targets(
    path: str | os.PathLike[str], *, districts: Iterable[str] | None = None
) -> pd.DataFrame:
    """Read the plan's non-spatial figures a planner enters per district.

    The table has one row per district and indicator: ``district`` (a
    district's ``name_en`` or ``name_zh``, or ``citywide``/``全市``),
    ``indicator`` (a key of ``settings.PLANNER_TARGETS``: social sports
    instructors per 1,000 residents, the share of residents exercising
    regularly, the share of public venues opening regularly), ``value``
    (shares as ``0.385`` or ``38.5%``), ``year`` and ``source``.

    Parameters
    ----------
    path : str or os.PathLike
        CSV, TSV or Excel table.
    districts : iterable of str, optional
        Names a ``district`` may take (besides ``citywide``); any name when None.

    Returns
    -------
    pandas.DataFrame
        ``district`` (``"citywide"`` for the whole area), ``indicator``,
        ``value`` (float; shares 0-1), ``year`` (int), ``source`` (str).

    Raises
    ------
    InputDataError
        A missing column, an unknown indicator or district, a value that is
        not a number (or a share above 100 %), a year that is not a year, or
        the same district and indicator twice for one year; one line naming
        the file, the rows and the fix.

    Example
    -------
    >>> from ordos_geo import io, settings
    >>> table = io.read_planner_targets(settings.SAMPLE_DIR / "planner_targets.csv")  # doctest: +SKIP
    """
    file = check_input_file(path, what="planner targets", suffixes=_TABLE_SUFFIXES)
    table = _read_table(file).dropna(how="all").reset_index(drop=True)
    name = file.name
    columns = {key: _find_column(table.columns, (key,)) for key in _PLANNER_COLUMNS}
    missing = [key for key, column in columns.items() if column is None and key != "source"]
    if missing:
        msg = (f"{name}: column `{missing[0]}` is missing; the table needs columns "
               f"{', '.join(_PLANNER_COLUMNS)} (source optional)")
        raise InputDataError(msg)
    known = {t.key: t for t in settings.PLANNER_TARGETS}
    indicator = table[columns["indicator"]].map(lambda v: str(v).strip() if v is not None and v == v else "")
    bad = np.flatnonzero(~indicator.isin(list(known)).to_numpy())
    if bad.size:
        msg = (f"{name}: column `indicator` has unknown values {sorted(set(indicator.iloc[bad]))[:5]} "
               f"({_describe(table, bad)}); use one of {', '.join(known)}")
        raise InputDataError(msg)
    district = table[columns["district"]].map(lambda v: str(v).strip() if v is not None and v == v else "")
    district = district.where(~district.isin(_CITYWIDE_NAMES), "citywide")
    if districts is not None:
        allowed = {str(d) for d in districts} | {"citywide"}
        bad = np.flatnonzero(~district.isin(sorted(allowed)).to_numpy())
        if bad.size:
            msg = (f"{name}: column `district` has unknown districts {sorted(set(district.iloc[bad]))[:5]} "
                   f"({_describe(table, bad)}); use a district of the boundaries "
                   f"({', '.join(sorted(allowed - {'citywide'}))}) or citywide")
            raise InputDataError(msg)
    raw = table[columns["value"]].astype(object)
    percent = raw.map(lambda v: isinstance(v, str) and v.strip().endswith("%"))
    text = raw.map(lambda v: v.strip().rstrip("%") if isinstance(v, str) else v)
    value = _numeric(text, name=name, column=columns["value"], table=table, name_column=None)
    value = np.where(percent.to_numpy(dtype=bool), value / 100.0, value)
    missing_value = np.flatnonzero(np.isnan(value))
    if missing_value.size:
        msg = f"{name}: column `value` is empty in {_describe(table, missing_value)}; give a number"
        raise InputDataError(msg)
    share = indicator.map(lambda k: known[k].unit == "share").to_numpy(dtype=bool)
    bad = np.flatnonzero((share & ((value > 1) | (value < 0))) | (value < 0))
    if bad.size:
        msg = (f"{name}: column `value` has shares outside 0-100 % or negative values ({_describe(table, bad)}); "
               "write shares as 0.385 or 38.5%")
        raise InputDataError(msg)
    year = _numeric(table[columns["year"]], name=name, column=columns["year"], table=table, name_column=None)
    bad = np.flatnonzero(np.isnan(year) | (year < 1900) | (year > 2100) | (year != np.round(year)))
    if bad.size:
        msg = f"{name}: column `year` is not a year in {_describe(table, bad)}; give the year as e.g. 2024"
        raise InputDataError(msg)
    out = pd.DataFrame(
        {
            "district": district.to_numpy(dtype=object),
            "indicator": indicator.to_numpy(dtype=object),
            "value": value.astype(float),
            "year": year.astype(int),
            "source": table[columns["source"]].map(lambda v: "" if v is None or v != v else str(v).strip())
            if columns["source"] is not None else "",
        }
    )
    twice = np.flatnonzero(out.duplicated(["district", "indicator", "year"], keep="first").to_numpy())
    if twice.size:
        msg = (f"{name}: the same district, indicator and year appear twice ({_describe(table, twice)}); "
               "keep one row each")
        raise InputDataError(msg)
    return out
