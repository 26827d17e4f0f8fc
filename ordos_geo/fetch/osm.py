"""What a fetch asks of OpenStreetMap, and how the answers are sorted.

The walk network request is the one place that says what is asked of Overpass
for walking (the walking rule of :mod:`ordos_geo.network`). The features
request asks for :data:`FEATURE_TAGS` (sports venues and land for candidate
sites together) in one query; :func:`split_features` sorts its answer into
venues (``osm_features.geojson``) and land (``candidate_land.geojson``).
Coordinates in WGS-84.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import _osm_tags, io, network
from ordos_geo._errors import FetchError

__all__ = ["FEATURE_TAGS", "LAND_TAGS", "VENUE_TAGS", "split_features"]

logger = logging.getLogger(__name__)

#: OSM tags of sports venues: they go to ``osm_features.geojson`` (kinds from :mod:`ordos_geo._osm_tags`).
VENUE_TAGS: dict[str, bool | list[str]] = {
    "leisure": [
        "pitch",
        "sports_centre",
        "stadium",
        "swimming_pool",
        "fitness_centre",
        "fitness_station",
        "park",
        "playground",
        "track",
        "sports_hall",
        "garden",
        "ice_rink",
    ],
    "sport": True,
    "amenity": ["school", "university", "college", "gym"],
}
#: OSM tags of land for candidate sites: they go to ``candidate_land.geojson`` (see ``siting.candidates_from_osm``).
LAND_TAGS: dict[str, list[str]] = {
    "landuse": ["grass", "recreation_ground", "brownfield", "greenfield", "village_green"],
    "leisure": ["park"],
    "amenity": ["school"],
}
#: The one features query: venues and land together (each feature is then sorted by :func:`split_features`).
FEATURE_TAGS: dict[str, bool | str | list[str]] = {**VENUE_TAGS, "landuse": LAND_TAGS["landuse"]}

_VENUE_KEYS = ("leisure", "sport", "amenity")


def split_features(features: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Sort OSM features into sports venues and land for candidate sites.

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        One column per OSM tag, ``osm_type`` and ``osm_id`` (scalar values).

    Returns
    -------
    venues : geopandas.GeoDataFrame
        Features with a ``leisure``, ``sport`` or ``amenity`` tag that the tag
        table does not reject (picnic tables, parking...). Tag columns whose
        names :func:`ordos_geo.io.read_facilities` would read as schema
        columns (``area``, ``capacity``, ``name:en``...) are renamed
        ``osm_<tag>``; schools get ``open_to_public = "unknown"`` (OSM does not
        say whether a school opens its grounds).
    land : geopandas.GeoDataFrame
        Polygons tagged with :data:`LAND_TAGS` that are not themselves sports
        venues (a pitch on ``landuse=grass`` is a venue), plus parks and schools.

    Examples
    --------
    >>> frame = gpd.GeoDataFrame({"osm_type": ["way", "way"], "osm_id": [1, 2], "landuse": ["grass", None],
    ...     "leisure": [None, "pitch"], "area": [None, "yes"]}, geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=4326)
    >>> venues, land = split_features(frame)
    >>> venues["osm_id"].tolist(), "area" in venues, venues["osm_area"].tolist(), land["osm_id"].tolist()
    ([2], False, ['yes'], [1])
    """
    tags = {
        key: _tag(features, key) for key in ("leisure", "sport", "amenity", "landuse", "building", "highway", "name")
    }
    records = pd.DataFrame(tags).to_dict("records")
    kinds = np.array(
        [_osm_tags.kind_from_osm_tags(t, geometry_type=g) for t, g in zip(records, features.geom_type, strict=True)],
        dtype=object,
    )
    tagged = np.zeros(len(features), dtype=bool)
    for key in _VENUE_KEYS:
        tagged |= tags[key].notna().to_numpy()
    venue = tagged & np.array([k is not None for k in kinds])
    polygon = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    land_use = tags["landuse"].isin(LAND_TAGS["landuse"]).to_numpy() & ~venue
    park = (tags["leisure"] == "park").to_numpy()
    school = (tags["amenity"] == "school").to_numpy()
    land = features.loc[polygon & (land_use | park | school)].reset_index(drop=True)

    venues = features.loc[venue].reset_index(drop=True)
    reserved = io.FACILITY_COLUMN_NAMES - {"name"}
    renames = {
        c: f"osm_{c}"
        for c in venues.columns
        if c != venues.geometry.name and (str(c).lower() in reserved or str(c).lower().startswith("name:"))
    }
    venues = venues.rename(columns=renames)
    venues["open_to_public"] = ["unknown" if kind == "school_venue" else None for kind in kinds[venue]]
    logger.info(
        "fetch: %s OSM features -> %s venues, %s land polygons (renamed tag columns: %s)",
        len(features),
        len(venues),
        len(land),
        ", ".join(sorted(renames)) or "none",
    )
    return venues, land


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key not in features:
        return pd.Series([None] * len(features), index=features.index, dtype=object)
    return features[key].astype(object).where(features[key].notna(), None)


def _scalar_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop list/dict columns (way node lists, relation members) GeoJSON cannot hold as such."""
    keep = [
        c
        for c in frame.columns
        if c == frame.geometry.name or not frame[c].map(lambda v: isinstance(v, list | dict | tuple | set)).any()
    ]
    return frame[keep]


def _download_walk_network(polygon: shapely.Polygon | shapely.MultiPolygon, *, area: str) -> Any:
    """The OSM walk network inside ``polygon`` by the walking rule (:mod:`ordos_geo.network`), unprojected."""
    graph, _ = network.walk_graph_from_polygon(polygon, label=f"--area {area}")
    return graph


def _download_features(
    polygon: shapely.Polygon | shapely.MultiPolygon, boundary: shapely.Geometry, *, area: str
) -> gpd.GeoDataFrame:
    """OSM features with :data:`FEATURE_TAGS` inside ``boundary`` (queried with ``polygon``)."""
    import osmnx as ox

    try:
        features = ox.features_from_polygon(polygon, tags=FEATURE_TAGS)
    except ox._errors.InsufficientResponseError as error:
        msg = (
            f"--area {area}: OpenStreetMap has no sports or leisure features there ({error}); "
            "collect the venues yourself and run with --facilities"
        )
        raise FetchError(msg) from error
    features = _scalar_columns(features.reset_index().rename(columns={"element": "osm_type", "id": "osm_id"}))
    inside = shapely.covers(boundary, shapely.point_on_surface(features.geometry.to_numpy()))
    return gpd.GeoDataFrame(features.loc[inside].reset_index(drop=True), crs=4326)
