"""Fetch real inputs for a district or banner (see :mod:`ordos_geo.fetch.area`)."""

from ordos_geo.fetch.area import (
    FEATURE_TAGS,
    LAND_TAGS,
    OVERPASS_MIRRORS,
    QUERY_BUFFER_M,
    WORLDPOP_60PLUS_URLS,
    WORLDPOP_URLS,
    fetch_area,
    query_polygon,
    select_area,
    split_features,
)

__all__ = [
    "FEATURE_TAGS",
    "LAND_TAGS",
    "OVERPASS_MIRRORS",
    "QUERY_BUFFER_M",
    "WORLDPOP_60PLUS_URLS",
    "WORLDPOP_URLS",
    "fetch_area",
    "query_polygon",
    "select_area",
    "split_features",
]
