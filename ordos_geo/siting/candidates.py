"""Candidate sites: from a user file, from vacant or green land in OSM, from underserved neighbourhoods."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ordos_geo import _labels
from ordos_geo._errors import InfeasibleError, InputDataError
from ordos_geo.io import candidate_columns
from ordos_geo.network import WalkNetwork
from ordos_geo.siting.rules import SitingRule

__all__ = [
    "CANDIDATE_COLUMNS",
    "CANDIDATE_OSM_TAGS",
    "DEFAULT_MIN_SCHOOL_GROUNDS_M2",
    "candidates_from_file",
    "candidates_from_osm",
    "candidates_from_underserved",
    "eligible_candidates",
]

logger = logging.getLogger(__name__)


#: Candidate columns every ``candidates_from_*`` returns, in order.
CANDIDATE_COLUMNS: Final[tuple[str, ...]] = (
    "candidate_id",
    "name",
    "source",
    "land_type",
    "area_m2",
    "cost",
    "capacity",
)

#: OSM tags to read for generated candidates (``io.read_osm_features(path, CANDIDATE_OSM_TAGS)``):
#: vacant or green land, parks (kept when they carry no ``sport``), school grounds.
CANDIDATE_OSM_TAGS: Final[Mapping[str, list[str]]] = MappingProxyType(
    {
        "landuse": ["grass", "brownfield", "greenfield"],
        "leisure": ["park"],
        "amenity": ["school"],
    }
)

#: School grounds smaller than this (m²) are not offered as candidates.
DEFAULT_MIN_SCHOOL_GROUNDS_M2: Final[float] = 10_000.0


def _require_crs(gdf: gpd.GeoDataFrame, what: str) -> None:
    if gdf.crs is None:
        msg = f"{what} has no CRS; set it (e.g. gdf.set_crs(4326)) before siting"
        raise InputDataError(msg)


def _metric_areas(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Polygon areas in m² (computed in a metric CRS when the frame is geographic); NaN for points/lines."""
    from ordos_geo._crs import metric_crs_for

    geoms = gdf.geometry
    if gdf.crs is not None and gdf.crs.is_geographic:
        geoms = geoms.to_crs(metric_crs_for(gdf))
    areas = geoms.area.to_numpy(dtype=float)
    is_polygon = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    return np.where(is_polygon, areas, np.nan)


def _finish_candidates(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    for column in CANDIDATE_COLUMNS:
        if column not in frame:
            frame[column] = np.nan if column in ("area_m2", "cost", "capacity") else None
    extra = [c for c in frame.columns if c not in CANDIDATE_COLUMNS and c != frame.geometry.name]
    frame = frame[[*CANDIDATE_COLUMNS, *extra, frame.geometry.name]]
    return frame.reset_index(drop=True)


def candidates_from_file(gdf: gpd.GeoDataFrame, *, what: str = "candidates") -> gpd.GeoDataFrame:
    """Candidate sites from a user table of points or parcels.

    The columns are read as a candidate file's are
    (:func:`ordos_geo.io.candidate_columns`, the one parser of both): Chinese
    headers (``编号``, ``名称``, ``用地面积``, ``造价``, ``服务人口``) name the
    schema's columns, and ``area_m2``, ``cost`` and ``capacity`` may carry their
    unit (``"1.2万平方米"``, ``"50万元"``, ``"1,200人"``). A value that cannot be
    read is an error naming the column and the row; before, a GeoDataFrame's
    unreadable value silently became NaN (unknown area, no cost).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Points or (Multi)Polygons with a CRS. Optional columns: ``candidate_id``
        (default ``"cand_<row>"``), ``name``, ``area_m2`` (land area, m²; for
        parcels without it the polygon area is computed in a metric CRS; points
        without it have unknown area), ``cost`` (yuan, >= 0), ``land_type`` and
        ``capacity`` (residents).
    what : str, default "candidates"
        Name of the input in error messages (e.g. the file name).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`CANDIDATE_COLUMNS` + other input columns + geometry, same CRS,
        ``source == "file"``.

    Raises
    ------
    InputDataError
        No CRS, a geometry other than a point or a polygon, repeated ids, a
        negative number, or a value that is not a number with an accepted unit.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> sites = gpd.GeoDataFrame(
    ...     {"编号": ["C1"], "造价": ["50万元"], "服务人口": ["1,200人"]}, geometry=[shapely.Point(0, 0)], crs=4546
    ... )
    >>> candidates_from_file(sites)[["candidate_id", "cost", "capacity"]].values.tolist()
    [['C1', 500000.0, 1200.0]]
    """
    _require_crs(gdf, what)
    if len(gdf) == 0:
        raise InfeasibleError(_labels.Note("candidates_empty", what=what))
    types = gdf.geometry.geom_type
    bad = ~types.isin(["Point", "Polygon", "MultiPolygon"]) | gdf.geometry.is_empty.to_numpy()
    if bad.any():
        from ordos_geo._validate import describe_rows

        rows = describe_rows((np.flatnonzero(bad.to_numpy()) + 1).tolist())
        msg = f"{what}: geometry must be Point or (Multi)Polygon; {rows} are {sorted(set(types[bad].astype(str)))}"
        raise InputDataError(msg)
    frame = gpd.GeoDataFrame(candidate_columns(gdf, name=what), geometry=gdf.geometry.name, crs=gdf.crs)
    if "candidate_id" in frame:
        ids = frame["candidate_id"].astype(str)
        if ids.duplicated().any():
            dup = sorted(set(ids[ids.duplicated()]))[:5]
            msg = f"{what}: column `candidate_id` has duplicates ({', '.join(dup)}); ids must be unique"
            raise InputDataError(msg)
        frame["candidate_id"] = ids
    else:
        frame["candidate_id"] = [f"cand_{i + 1}" for i in range(len(frame))]
    computed = _metric_areas(frame)
    if "area_m2" in frame:
        given = frame["area_m2"].to_numpy(dtype=float)
        negative = np.flatnonzero(given < 0)
        if negative.size:
            first = (negative + 1).tolist()[:10]
            msg = f"{what}: column `area_m2` has {negative.size} negative values (rows {first}); land areas are m² >= 0"
            raise InputDataError(msg)
        frame["area_m2"] = np.where(np.isnan(given), computed, given)
    else:
        frame["area_m2"] = computed
    for column in ("cost", "capacity"):
        if column in frame:
            values = frame[column].to_numpy(dtype=float)
            if (values < 0).any():
                msg = f"{what}: column `{column}` has negative values; fix them or drop the column"
                raise InputDataError(msg)
            frame[column] = values
    if "name" not in frame:
        frame["name"] = frame["candidate_id"]
    frame["name"] = frame["name"].where(frame["name"].notna(), frame["candidate_id"]).astype(str)
    if "land_type" not in frame:
        frame["land_type"] = "parcel"
    frame["source"] = "file"
    logger.info("siting: %s candidates from %s", f"{len(frame):,}", what)
    return _finish_candidates(frame)


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key in features:
        return features[key].astype("object").where(features[key].notna(), None)
    return pd.Series([None] * len(features), index=features.index, dtype="object")


def candidates_from_osm(
    features: gpd.GeoDataFrame, *, min_school_grounds_m2: float = DEFAULT_MIN_SCHOOL_GROUNDS_M2, language: str = "en"
) -> gpd.GeoDataFrame:
    """Candidate sites on vacant or green land in an OSM extract.

    Kept (polygons only; points and lines have no land area):

    - ``landuse`` in ``grass``, ``brownfield``, ``greenfield`` (vacant or
      green land);
    - ``leisure=park`` without a ``sport`` tag (a park with no sports yet);
    - ``amenity=school`` grounds of at least ``min_school_grounds_m2``
      (opening school venues to the public is part of the plan).

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        OSM features with one column per tag (``landuse``, ``leisure``,
        ``amenity``, ``sport``, ``name``; missing columns mean the tag is
        absent), e.g. from ``io.read_osm_features(path, CANDIDATE_OSM_TAGS)``.
        Any CRS; areas are computed in metres.
    min_school_grounds_m2 : float, default 10,000
        Smallest school grounds offered (m²).
    language : {"en", "zh"}
        Language of the names given to land without an OSM name (``grass (OSM way12)``, ``草地（OSM way12）``).

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates (:data:`CANDIDATE_COLUMNS`), ``source == "osm"``, sorted by
        ``candidate_id`` (``osm_<type><id>``, e.g. ``osm_way123``, or ``osm_row<i>``), same CRS as
        ``features``.

    Examples
    --------
    >>> import shapely
    >>> tags = {"osm_type": ["way", "way"], "osm_id": [11, 12], "landuse": ["brownfield", None],
    ...         "leisure": [None, "park"], "sport": [None, "basketball"], "name": ["空地", "篮球公园"]}
    >>> parcels = [shapely.box(0, 0, 50, 40), shapely.box(100, 0, 200, 100)]
    >>> features = gpd.GeoDataFrame(tags, geometry=parcels, crs=4546)
    >>> candidates_from_osm(features)[["candidate_id", "land_type", "area_m2"]]  # the park already has a sport
      candidate_id   land_type  area_m2
    0    osm_way11  brownfield   2000.0
    """
    _require_crs(features, "OSM features")
    if len(features) == 0:
        return _finish_candidates(gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=features.crs))
    landuse, leisure, amenity, sport = (_tag(features, k) for k in ("landuse", "leisure", "amenity", "sport"))
    is_polygon = features.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area = _metric_areas(features)
    vacant = landuse.isin(["grass", "brownfield", "greenfield"]).to_numpy()
    no_sport = sport.isna() | (sport.astype(str).str.strip() == "")
    park = ((leisure == "park") & no_sport).to_numpy()
    school = ((amenity == "school").to_numpy()) & (np.nan_to_num(area) >= min_school_grounds_m2)
    keep = is_polygon & (vacant | park | school)
    land_type = np.where(vacant, landuse.to_numpy(dtype=object), np.where(park, "park", "school_grounds"))
    if "osm_id" in features:
        kinds = _tag(features, "osm_type").fillna("").astype(str).to_numpy()
        osm_ids = np.array(
            [f"{k}{i}" for k, i in zip(kinds, features["osm_id"].astype(str), strict=True)], dtype=object
        )
    elif "osmid" in features:
        osm_ids = features["osmid"].astype(str).to_numpy()
    elif features.index.nlevels > 1:
        osm_ids = np.array(["".join(map(str, idx)) for idx in features.index], dtype=object)
    else:
        osm_ids = np.array([f"row{i}" for i in range(len(features))], dtype=object)
    names = _tag(features, "name").to_numpy(dtype=object)
    frame = gpd.GeoDataFrame(
        {
            "candidate_id": [f"osm_{i}" for i in osm_ids[keep]],
            "name": [
                n if n else _labels.said(_osm_name(t, i), language)
                for n, t, i in zip(names[keep], land_type[keep], osm_ids[keep], strict=True)
            ],
            "source": "osm",
            "land_type": land_type[keep],
            "area_m2": area[keep],
            "cost": np.nan,
            "capacity": np.nan,
        },
        geometry=features.geometry.to_numpy()[keep],
        crs=features.crs,
    )
    frame = frame.drop_duplicates("candidate_id").sort_values("candidate_id", kind="stable")
    logger.info(
        "siting: %s OSM candidates (%s vacant/green, %s parks, %s school grounds) of %s features",
        f"{len(frame):,}",
        int((keep & vacant).sum()),
        int((keep & park & ~vacant).sum()),
        int((keep & school & ~vacant & ~park).sum()),
        f"{len(features):,}",
    )
    return _finish_candidates(frame)


def _osm_name(land: str, osm_id: str) -> _labels.Note:
    """The name of an OSM candidate without one: its land type and OSM id (``grass (OSM way12)``)."""
    said = {"land": _labels.land_type(land, "en").replace("_", " "), "land_zh": _labels.land_type(land, "zh")}
    return _labels.Note("osm_candidate", osm_id=osm_id, **said)


def _underserved_name(neighbourhood: str, district: object) -> _labels.Note:
    """The name of a candidate at an underserved neighbourhood's street node, with its district."""
    named = isinstance(district, str) and bool(district)
    said = {
        "district": f" ({district})" if named else "",
        "district_zh": f"（{_labels.district(str(district), 'zh')}）" if named else "",
    }
    return _labels.Note("underserved_candidate", n=neighbourhood, **said)


def candidates_from_underserved(
    network: WalkNetwork, underserved: gpd.GeoDataFrame, *, language: str = "en"
) -> gpd.GeoDataFrame:
    """Candidate sites at the network node nearest each underserved neighbourhood's centre.

    The land available there is unknown: ``area_m2`` is NaN, which the rules
    accept for courts and fitness centres (small venues fit on a corner plot or
    a school yard; the planner checks the land) but not for the sports park
    (:attr:`SitingRule.unknown_area_ok`).

    Parameters
    ----------
    network : WalkNetwork
        The walk network (its metric CRS).
    underserved : geopandas.GeoDataFrame
        ``AccessibilityResult.underserved``: ``neighbourhood_id``, ``population``,
        ``district`` and polygon geometry; ``centroid_x``/``centroid_y`` (network
        CRS) when present, else the polygon centroids.
    language : {"en", "zh"}
        Language of the candidates' names (``服务不足片区 3 的街道节点（东胜区）``).

    Returns
    -------
    geopandas.GeoDataFrame
        Candidates (:data:`CANDIDATE_COLUMNS`) in the network CRS, one per
        distinct node, ``source == "underserved"``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import shapely
    >>> gap = gpd.GeoDataFrame({"neighbourhood_id": [1], "population": [80.0], "district": ["Dongsheng"]},
    ...                        geometry=[shapely.box(170.0, 0.0, 200.0, 20.0)], crs=net.crs)
    >>> sites = candidates_from_underserved(net, gap)
    >>> sites[["candidate_id", "network_node"]].values.tolist(), sites.geometry.x.tolist()  # land area unknown
    ([['underserved_1', 2]], [200.0])
    """
    if len(underserved) == 0:
        return _finish_candidates(gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=network.crs))
    _require_crs(underserved, "underserved neighbourhoods")
    frame = underserved.to_crs(network.crs) if not underserved.crs.equals(network.crs) else underserved
    if {"centroid_x", "centroid_y"} <= set(frame.columns) and frame.crs.equals(underserved.crs):
        xy = frame[["centroid_x", "centroid_y"]].to_numpy(dtype=float)
    else:
        centres = frame.geometry.centroid
        xy = np.column_stack([centres.x, centres.y])
    _, node = cKDTree(network.node_xy).query(xy)
    ids = (
        frame["neighbourhood_id"].astype(str).to_numpy()
        if "neighbourhood_id" in frame
        else np.arange(len(frame)).astype(str)
    )
    population = frame["population"].to_numpy(dtype=float) if "population" in frame else np.full(len(frame), np.nan)
    district = frame["district"].to_numpy(dtype=object) if "district" in frame else np.full(len(frame), None)
    table = pd.DataFrame({"node": node, "nid": ids, "population": population, "district": district})
    table = table.sort_values(["node", "population"], ascending=[True, False], kind="stable").drop_duplicates("node")
    out = gpd.GeoDataFrame(
        {
            "candidate_id": [f"underserved_{n}" for n in table["nid"]],
            "name": [
                _labels.said(_underserved_name(n, d), language)
                for n, d in zip(table["nid"], table["district"], strict=True)
            ],
            "source": "underserved",
            "land_type": "unknown",
            "area_m2": np.nan,
            "cost": np.nan,
            "capacity": np.nan,
            "network_node": network.node_ids[table["node"].to_numpy()],
        },
        geometry=shapely.points(network.node_xy[table["node"].to_numpy()]),
        crs=network.crs,
    )
    out = out.sort_values("candidate_id", kind="stable")
    logger.info("siting: %s candidates at underserved neighbourhood centres", f"{len(out):,}")
    return _finish_candidates(out)


def eligible_candidates(candidates: gpd.GeoDataFrame, rule: SitingRule) -> tuple[np.ndarray, _labels.Note]:
    """Which candidates a rule allows by land area, and a sentence saying what it excluded.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidates with ``area_m2`` (NaN = unknown).
    rule : SitingRule
        The type's rule.

    Returns
    -------
    mask : numpy.ndarray of bool
        True where the candidate's land is large enough (or unknown and the
        rule accepts unknown areas).
    explanation : ordos_geo._labels.Note
        E.g. ``"37 smaller than 40,000 m² (largest 31,250 m²), 15 with unknown area"`` (empty when none
        is excluded), also said in Chinese by ``_labels.said``.

    Examples
    --------
    >>> import shapely
    >>> from ordos_geo.siting import DEFAULT_RULES
    >>> sites = gpd.GeoDataFrame({"area_m2": [2000.0, np.nan]}, geometry=[shapely.Point(0, 0)] * 2, crs=4546)
    >>> mask, note = eligible_candidates(sites, DEFAULT_RULES["sports_park"])  # needs 4 ha of surveyed land
    >>> mask.tolist()
    [False, False]
    >>> print(note)
    1 smaller than 40,000 m² (largest of those 2,000 m²), 1 with unknown land area (not accepted for sports_park)
    """
    area = (
        pd.to_numeric(candidates["area_m2"], errors="coerce").to_numpy(dtype=float)
        if "area_m2" in candidates
        else np.full(len(candidates), np.nan)
    )
    unknown = np.isnan(area)
    large = ~unknown & (area >= rule.min_land_area_m2)
    mask = large | (unknown & rule.unknown_area_ok)
    parts = []
    small = ~unknown & ~large
    if small.any():
        parts.append(
            _labels.Note(
                "smaller_than",
                n=int(small.sum()),
                min_area=f"{rule.min_land_area_m2:,.0f}",
                largest=f"{np.nanmax(area[small]):,.0f}",
            )
        )
    if unknown.any() and not rule.unknown_area_ok:
        site = {"site_type": rule.site_type, "site_zh": _labels.kind(rule.site_type, "zh")}
        parts.append(_labels.Note("unknown_area", n=int(unknown.sum()), **site))
    return mask, _labels.Note("list", items=tuple(parts))
