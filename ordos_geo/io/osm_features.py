"""Reading tagged OSM features from an extract (``.osm`` XML with osmnx, ``.osm.pbf`` with pyrosm)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from ordos_geo._errors import ConfigError, InputDataError
from ordos_geo._optional import import_pyrosm
from ordos_geo._validate import check_input_file

__all__ = ["OSM_SUFFIXES", "read_osm_features"]


#: File endings of OSM extracts :func:`read_osm_features` reads.
OSM_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.pbf", ".pbf")


def read_osm_features(path: str | os.PathLike[str], tags: Mapping[str, bool | str | Sequence[str]]) -> gpd.GeoDataFrame:
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

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> osm = Path(tempfile.mkdtemp()) / "station.osm"
    >>> node = '<node id="1" lat="39.82" lon="109.98"><tag k="leisure" v="fitness_station"/></node>'
    >>> _ = osm.write_text(f'<osm version="0.6">{node}</osm>')
    >>> read_osm_features(osm, {"leisure": True})[["osm_type", "osm_id", "leisure"]]
      osm_type  osm_id          leisure
    0     node       1  fitness_station
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
        frame = osm.get_data_by_custom_criteria(
            custom_filter=custom_filter, keep_nodes=True, keep_ways=True, keep_relations=True
        )
    except Exception as error:
        msg = f"{file}: cannot read OSM features ({error}); check it is a complete .osm.pbf file"
        raise InputDataError(msg) from error
    if frame is None or len(frame) == 0:
        return None
    frame = frame.rename(columns={"id": "osm_id"})
    if "osm_type" not in frame.columns:
        frame["osm_type"] = None
    return frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)
