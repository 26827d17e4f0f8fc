"""The coverage map: population cells by walking distance to the nearest venue, with facilities and gaps."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._errors import InputDataError
from ordos_geo._labels import Note
from ordos_geo.maps._layers import (
    _DIST_ANY,
    _add_data,
    _add_feature_layer,
    _add_layer,
    _boundary_layer,
    _cells_layers,
    _check_frame,
    _display_geometry,
    _facility_layers,
    _underserved_properties,
)
from ordos_geo.maps._page import _finish_map, _new_map
from ordos_geo.maps.style import _DEFAULT_STYLE, MapStyle, _area_swatch, _distance_legend, _labels
from ordos_geo.settings import FACILITY_KINDS

__all__ = ["coverage_map"]


def coverage_map(
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    underserved: gpd.GeoDataFrame | None = None,
    underserved_after: gpd.GeoDataFrame | None = None,
    kinds: Sequence[str] | None = None,
    style: MapStyle = _DEFAULT_STYLE,
) -> folium.Map:
    """Map population cells by walking distance to the nearest venue, with facilities and gaps.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Population cells (any CRS) with ``population``, ``dist_m_any`` and
        ``dist_m_<kind>`` columns (metres along the walk network; ``inf`` or NaN
        = unreachable), as in ``AccessibilityResult.cells``.
    facilities : geopandas.GeoDataFrame
        Existing facilities with ``kind``, and optionally ``name``,
        ``facility_id``, ``area_m2``, ``open_to_public``, ``district``; points,
        polygons (parks) or lines (trails).
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries (``name_zh``, ``name_en``, ``level``).
    service_areas : geopandas.GeoDataFrame, optional
        Service-area polygons with ``threshold_m``; drawn as one layer per tier
        (merged for display), hidden at first.
    underserved : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``neighbourhood_id``, ``population``,
        ``n_cells``, ``district``), outlined with their population in a tooltip.
    underserved_after : geopandas.GeoDataFrame, optional
        The neighbourhoods still underserved once the plan is built (the
        after-plan run's ``AccessibilityResult.underserved``): a second
        outline layer, hidden at first, so the map shows where gaps remain.
    kinds : sequence of str, optional
        Facility kinds to show (distance layers and facility layers); default all present.
    style : MapStyle
        Language, basemap, title, caption and walking speed (for the legend's
        minutes) of the map.

    Returns
    -------
    folium.Map
        A self-contained map (see :func:`render_html`).

    Examples
    --------
    >>> import shapely
    >>> from ordos_geo.maps import render_html
    >>> boxes = [shapely.box(109.960, 39.82, 109.961, 39.821), shapely.box(109.961, 39.82, 109.962, 39.821)]
    >>> cells = gpd.GeoDataFrame({"population": [120.0, 80.0], "dist_m_any": [250.0, np.inf]}, geometry=boxes, crs=4326)
    >>> halls = gpd.GeoDataFrame({"kind": ["gymnasium"], "name": ["东胜体育馆"]},
    ...                          geometry=gpd.points_from_xy([109.9605], [39.8215]), crs=4326)
    >>> "东胜体育馆" in render_html(coverage_map(cells, halls))  # the page of coverage.html
    True
    """
    language, walk_speed_kmh = style.language, style.walk_speed_kmh
    labels = _labels(language)
    cells = _check_frame(cells, "cells", ["population", _DIST_ANY])
    facilities = _check_frame(facilities, "facilities", ["kind"])
    if walk_speed_kmh <= 0:
        raise InputDataError(Note("bad_walk_speed", speed=walk_speed_kmh))
    distance_columns = {ANY_KIND: _DIST_ANY}
    prefix = dist_column("")
    kind_columns = [c.removeprefix(prefix) for c in cells.columns if c.startswith(prefix) and c != _DIST_ANY]
    ordered = [k for k in FACILITY_KINDS if k in kind_columns] + sorted(
        k for k in kind_columns if k not in FACILITY_KINDS
    )
    for kind in ordered:
        if kinds is None or kind in kinds:
            distance_columns[kind] = dist_column(kind)
    m, gcj02 = _new_map(style=style, n_features=len(facilities))
    bounds: list[np.ndarray] = []
    populated = _cells_layers(
        m,
        cells,
        distance_columns,
        gcj02=gcj02,
        labels=labels,
        language=language,
        walk_speed_kmh=walk_speed_kmh,
        name_prefix=html.escape(labels["cells_layer"]),
        shown="any",
    )
    legend = [_distance_legend(labels, walk_speed_kmh)]
    if service_areas is not None and len(service_areas):
        service_areas = _check_frame(service_areas, "service_areas", ["threshold_m"])
        tiers = sorted(float(t) for t in service_areas["threshold_m"].dropna().unique())
        tier_colors = ["#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7"]
        for i, tier in enumerate(tiers):
            subset = service_areas.loc[service_areas["threshold_m"] == tier]
            merged = gpd.GeoDataFrame(geometry=[shapely.union_all(subset.geometry.values)], crs=subset.crs)
            color = tier_colors[min(i, len(tier_colors) - 1)]
            name = f"{html.escape(labels['service_area'])} ≤ {tier:,.0f} m"
            _add_layer(
                m,
                _display_geometry(merged, gcj02=gcj02),
                [{"_tip": f"{name} ({len(subset)})"}],
                {"style": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.25}},
                name=name,
                bounds=bounds,
                show=False,
            )
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language)
    outlines = {
        key: _check_frame(frame, key, ["population"])
        for key, frame in (("underserved", underserved), ("underserved_after", underserved_after))
        if frame is not None and len(frame)
    }
    if outlines:
        legend += _neighbourhood_layers(m, outlines, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    kind_rows = _facility_layers(m, facilities, kinds, gcj02=gcj02, labels=labels, language=language, bounds=bounds)
    legend.append(f'<div class="kinds">{"".join(kind_rows)}</div>')
    return _finish_map(
        m,
        [populated] if populated is not None else bounds,  # the first view fits the populated area
        title=style.title if style.title is not None else labels["coverage_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )


#: Outline style, first shown or not, of the neighbourhoods of today and of those left after the plan.
_NEIGHBOURHOOD_STYLES: dict[str, tuple[str, str | None, bool]] = {
    "underserved": ("#b2182b", "6 4", True),
    "underserved_after": ("#762a83", None, False),
}


def _neighbourhood_layers(
    m: folium.Map,
    outlines: Mapping[str, gpd.GeoDataFrame],
    *,
    gcj02: bool,
    labels: Mapping[str, str],
    language: str,
    bounds: list[np.ndarray],
) -> list[str]:
    """Outline neighbourhoods (population in a tooltip), one layer per key of ``outlines``; their legend rows.

    The layers share one data variable: an outline the plan leaves as it is
    (the same polygon today and after) is written once and drawn by both
    layers, each with its own tooltip (ids are ranked again after the plan),
    so the page does not grow by the neighbourhoods the plan does not touch.
    """
    features: dict[bytes, dict[str, Any]] = {}  # by the outline's WKB, in order of first appearance
    geometries: list[Any] = []
    counts: dict[str, int] = {}
    for bit, (key, frame) in enumerate(outlines.items()):
        shown = _display_geometry(frame, gcj02=gcj02)
        tips = _underserved_properties(frame, labels, language)
        for geometry, wkb, tip in zip(shown, shapely.to_wkb(frame.geometry.values), tips, strict=True):
            feature = features.get(wkb)
            if feature is None:
                feature = features[wkb] = {"_in": 0}
                geometries.append(geometry)
            feature["_in"] |= 1 << bit
            feature[_tip_key(bit)] = tip["_tip"]
        counts[key] = len(frame)
    data = _add_data(m, np.array(geometries, dtype=object), list(features.values()), bounds=bounds)
    rows = []
    for bit, (key, frame) in enumerate(outlines.items()):
        color, dash, show = _NEIGHBOURHOOD_STYLES[key]
        line: dict[str, object] = {"color": color, "weight": 2.5, "fillColor": color, "fillOpacity": 0.06}
        if dash is not None:
            line["dashArray"] = dash
        options = {"style": line, "only": 1 << bit, "tipKey": _tip_key(bit)}
        _add_feature_layer(m, data, options, name=html.escape(labels[key]), n_features=counts[key], show=show)
        # the residents they hold: the study's population_underserved (summary.json, report, indicators.csv)
        total = f"{labels['population']} {float(frame['population'].sum()):,.0f}"
        said = f"{labels[key]}（{total}）" if language == "zh" else f"{labels[key]} ({total.lower()})"
        rows.append(f"<div>{_area_swatch(color, dash='4 2' if dash else '')}{html.escape(said)}</div>")
    return rows


def _tip_key(bit: int) -> str:
    """Property holding the tooltip of the ``bit``-th layer sharing a data variable (the first one's is ``_tip``)."""
    return "_tip" if bit == 0 else f"_tip{bit}"
