"""The sites map: ranked candidate sites, the chosen plan per type and coverage before/after."""

from __future__ import annotations

import html
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels as label_table
from ordos_geo._columns import ANY_KIND
from ordos_geo.maps._layers import (
    _DIST_ANY,
    _add_layer,
    _boundary_layer,
    _cells_layers,
    _check_frame,
    _display_geometry,
)
from ordos_geo.maps._page import _finish_map, _new_map
from ordos_geo.maps.style import (
    _DEFAULT_STYLE,
    MapStyle,
    _distance_legend,
    _fmt_number,
    _icon_svg,
    _kind_name,
    _kind_style,
    _labels,
    _number,
    _table,
    _text,
)

__all__ = ["sites_map"]


_SITE_TYPE_COLUMNS = ("site_type", "type", "facility_type", "kind")


def _site_popup(row: pd.Series, labels: Mapping[str, str], site_type: str, language: str) -> str:
    delta = _number(row.get("delta_per_capita_area_city_m2"), 4)
    rows = [
        (html.escape(labels["rank"]), _text(row.get("rank", row.get("plan_order")))),
        (html.escape(labels["kind"]), _kind_name(site_type, language)),
        (html.escape(labels["candidate_id"]), _text(row.get("candidate_id"))),
        (html.escape(labels["newly_covered"]), _fmt_number(row.get("newly_covered_population"))),
    ]
    in_plan = _number(row.get("newly_covered_in_plan"))
    if in_plan is not None:  # a chosen site among the ranked: whom it adds in the plan, as the report says
        rows.append((html.escape(label_table.column("newly_covered_in_plan", language)), _fmt_number(in_plan)))
    rows += [
        (html.escape(labels["delta_per_capita"]), "" if delta is None else f"{delta:+.4f}"),
        (html.escape(labels["reason"]), _text(row.get("reason"))),
    ]
    return _table(rows, title=_text(row.get("name")) or _text(row.get("candidate_id")))


def _split_chosen(chosen: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None) -> dict[str, gpd.GeoDataFrame]:
    if chosen is None:
        return {}
    if isinstance(chosen, Mapping):
        return {str(k): v for k, v in chosen.items()}
    frame = _check_frame(chosen, "chosen")
    for column in _SITE_TYPE_COLUMNS:
        if column in frame.columns:
            return {str(k): group for k, group in frame.groupby(column, sort=False)}
    return {"plan": frame}


def sites_map(
    ranked: Mapping[str, gpd.GeoDataFrame],
    chosen: gpd.GeoDataFrame | Mapping[str, gpd.GeoDataFrame] | None,
    cells_before: gpd.GeoDataFrame,
    cells_after: gpd.GeoDataFrame | None = None,
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    top_n: int | None = 20,
    style: MapStyle = _DEFAULT_STYLE,
    school_opening: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Map ranked candidate sites, the chosen plan per type and coverage before/after.

    Parameters
    ----------
    ranked : dict of str to geopandas.GeoDataFrame
        Per site type (``"multi_sport_court"``, ...), candidates with ``rank``,
        ``candidate_id``, ``name``, ``newly_covered_population``,
        ``delta_per_capita_area_city_m2``, ``reason`` and a point/polygon geometry.
    chosen : geopandas.GeoDataFrame or dict, optional
        The chosen plan: a frame with a ``site_type`` (or ``type``/``kind``)
        column, or a dict per type; same columns as ``ranked``.
    cells_before, cells_after : geopandas.GeoDataFrame
        Cells with ``population`` and ``dist_m_any`` before and after the plan.
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries.
    top_n : int, optional
        Draw only the best ``top_n`` candidates per type (all if None).
    style : MapStyle
        Language, basemap, title, caption and walking speed of the map.
    school_opening : geopandas.GeoDataFrame, optional
        Closed school venues ranked by
        :func:`ordos_geo.siting.plan_school_opening` (``rank``,
        ``facility_id``, ``in_plan``, ``newly_covered_in_plan``, ``reason``):
        the ones to open are drawn as a chosen layer, the rest as candidates.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import shapely
    >>> from ordos_geo.maps import render_html
    >>> cells = gpd.GeoDataFrame({"population": [80.0], "dist_m_any": [1400.0]},
    ...                          geometry=[shapely.box(109.961, 39.82, 109.962, 39.821)], crs=4326)
    >>> courts = gpd.GeoDataFrame({"rank": [1], "candidate_id": ["C1"], "name": ["空地"],
    ...                            "newly_covered_population": [80.0], "delta_per_capita_area_city_m2": [0.004],
    ...                            "reason": ["covers 80 residents"]},
    ...                           geometry=gpd.points_from_xy([109.9615], [39.8205]), crs=4326)
    >>> "空地" in render_html(sites_map({"multi_sport_court": courts}, None, cells))  # the page of sites.html
    True
    """
    language, walk_speed_kmh = style.language, style.walk_speed_kmh
    labels = _labels(language)
    ranked = dict(ranked)
    chosen_by_type = _split_chosen(chosen)
    if school_opening is not None and len(school_opening):
        venues = _check_frame(school_opening, "school_opening", ["rank", "in_plan"]).rename(
            columns={"facility_id": "candidate_id", "newly_covered_in_plan": "newly_covered_population"}
        )
        in_plan = venues["in_plan"].astype(bool).to_numpy()
        ranked["school_opening"] = venues[~in_plan]
        chosen_by_type["school_opening"] = venues[in_plan]
    cells_before = _check_frame(cells_before, "cells_before", ["population", _DIST_ANY])
    if cells_after is not None:
        cells_after = _check_frame(cells_after, "cells_after", ["population", _DIST_ANY])
    m, gcj02 = _new_map(style=style, n_features=0)
    bounds: list[np.ndarray] = []
    populated: list[np.ndarray] = []
    for cells, key, shown in ((cells_before, "before", cells_after is None), (cells_after, "after", True)):
        if cells is None:
            continue
        view = _cells_layers(
            m,
            cells,
            {ANY_KIND: _DIST_ANY},
            gcj02=gcj02,
            labels=labels,
            language=language,
            walk_speed_kmh=walk_speed_kmh,
            name_prefix=html.escape(labels[key]) + " ·",
            shown="any" if shown else None,
            hide_layer=key == "after" or cells_after is None,
        )
        if view is not None:
            populated.append(view)
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language)
    legend = [_distance_legend(labels, walk_speed_kmh)]
    for site_type, candidates in ranked.items():
        candidates = _check_frame(candidates, f"ranked[{site_type!r}]", ["rank"])
        candidates = candidates.sort_values("rank", kind="stable")
        if top_n is not None:
            candidates = candidates.head(top_n)
        _, color = _kind_style(site_type)
        properties = [
            {
                "_tip": f"#{_text(row.get('rank'))} {_text(row.get('name'))}",
                "_icon": _icon_svg(str(_number(row.get("rank")) or "?"), "#555555", size=20, shape="square"),
                "_pop": _site_popup(row, labels, site_type, language),
            }
            for _, row in candidates.iterrows()
        ]
        name = f"{html.escape(labels['candidates'])}: {_kind_name(site_type, language)} ({len(candidates)})"
        _add_layer(
            m,
            _display_geometry(candidates, gcj02=gcj02),
            properties,
            {"iconSize": 20, "style": {"color": "#555555", "weight": 2, "fillColor": "#999999", "fillOpacity": 0.3}},
            name=name,
            bounds=bounds,
        )
    for site_type, sites in chosen_by_type.items():
        sites = _check_frame(sites, f"chosen[{site_type!r}]")
        order = next((c for c in ("rank", "plan_order") if c in sites.columns), None)
        if order is not None:
            sites = sites.sort_values(order, kind="stable")
        letters, color = _kind_style(site_type)
        icon = _icon_svg(letters, color, size=30, shape="star")
        properties = [
            {
                "_tip": _kind_name(site_type, language)
                + ": "
                + (_text(row.get("name")) or _text(row.get("candidate_id"))),
                "_pop": _site_popup(row, labels, site_type, language),
            }
            for _, row in sites.iterrows()
        ]
        name = f"{icon} {html.escape(labels['chosen'])}: {_kind_name(site_type, language)} ({len(sites)})"
        _add_layer(
            m,
            _display_geometry(sites, gcj02=gcj02),
            properties,
            {
                "icon": icon,
                "iconSize": 30,
                "zIndexOffset": 1000,
                "style": {"color": color, "weight": 3, "fillColor": color, "fillOpacity": 0.4},
            },
            name=name,
            bounds=bounds,
        )
        legend.append(f"<div>{icon}{html.escape(labels['chosen'])}: {_kind_name(site_type, language)}</div>")
    if ranked:
        square = _icon_svg("1", "#555555", size=20, shape="square")
        legend.append(f"<div>{square}{html.escape(labels['candidates'])} ({html.escape(labels['rank'])})</div>")
    return _finish_map(
        m,
        populated or bounds,  # the first view fits the populated area
        title=style.title if style.title is not None else labels["sites_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )
