"""Reading inputs and writing outputs: the only module that touches files.

Writers are atomic: each output goes to a temporary file in the destination
folder and is renamed into place only once complete, so a failed run never
leaves a half-written file. Readers never modify their input.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd
import pandas as pd

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
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=final.suffix or ".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # writers such as GDAL want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (``\\n`` line ends) and return the path."""
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
    """Write ``table`` as UTF-8 CSV atomically (``\\n`` line ends)."""
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
            layer.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return Path(path)


def write_with(writer: Callable[[Path], None], path: str | os.PathLike[str]) -> Path:
    """Call ``writer(tmp_path)`` and move the result onto ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


__all__ += ["write_with"]
