"""The trails map: planned and checked trails, their reach band and the neighbourhoods reached or missed."""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np

from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import InputDataError
from ordos_geo._labels import Note
from ordos_geo.maps._layers import (
    _add_layer,
    _attribute_popup,
    _boundary_layer,
    _check_frame,
    _display_geometry,
    _underserved_properties,
)
from ordos_geo.maps._page import _finish_map, _new_map
from ordos_geo.maps.style import _DEFAULT_STYLE, MapStyle, _area_swatch, _labels, _line_swatch
from ordos_geo.settings import DEFAULT_TRAIL_REACH_M

__all__ = ["trails_map"]


def trails_map(
    planned: gpd.GeoDataFrame | None,
    checked: gpd.GeoDataFrame | None = None,
    *,
    underserved: gpd.GeoDataFrame | None = None,
    off_network: gpd.GeoDataFrame | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    reach_m: float = DEFAULT_TRAIL_REACH_M,
    style: MapStyle = _DEFAULT_STYLE,
) -> folium.Map:
    """Map planned and checked trails, their reach band and the neighbourhoods reached or missed.

    Parameters
    ----------
    planned, checked : geopandas.GeoDataFrame, optional
        Trail lines (any CRS); every non-geometry column is shown in the popup.
    underserved : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods; a boolean ``reached`` column splits them
        into "reached" and "missed" layers.
    off_network : geopandas.GeoDataFrame, optional
        Parts of proposed lines away from any street (``TrailCheck.off_network``),
        drawn in red.
    boundaries : geopandas.GeoDataFrame, optional
        District boundaries.
    reach_m : float
        Width of the reach band drawn around the trails (metres, straight-line
        buffer in a metric CRS; for display only, the analysis uses walking distance).
    style : MapStyle
        Language, basemap, title and caption of the map (its walking speed is not used).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(109.97, 39.81), (109.99, 39.82)])
    >>> trail = gpd.GeoDataFrame({"name": ["滨河步道"]}, geometry=[line], crs=4326)
    >>> from ordos_geo.maps import render_html
    >>> page = render_html(trails_map(trail))  # the HTML of trails.html
    >>> page.startswith("<!DOCTYPE html>"), "滨河步道" in page
    (True, True)
    """
    language = style.language
    labels = _labels(language)
    frames = {
        key: _check_frame(frame, key)
        for key, frame in (("planned", planned), ("checked", checked))
        if frame is not None and len(frame)
    }
    if not frames:
        raise InputDataError(Note("trails_map_empty"))
    m, gcj02 = _new_map(style=style, n_features=0)
    bounds: list[np.ndarray] = []
    legend = []
    styles = {"planned": ("#1b7837", ""), "checked": ("#762a83", "8 5")}
    for key, frame in frames.items():
        color, dash = styles[key]
        metric = frame.crs if frame.crs.is_projected else metric_crs_for(frame)
        band = frame.geometry.to_crs(metric).buffer(reach_m, quad_segs=8).union_all()
        band_frame = gpd.GeoDataFrame(geometry=[band], crs=metric)
        band_name = html.escape(labels["reach_band"])
        band_note = html.escape(labels["reach_band_note"].format(reach=f"{reach_m:,.0f}"))
        _add_layer(
            m,
            _display_geometry(band_frame, gcj02=gcj02, tolerance_m=10.0),
            [{"_tip": f"{band_name} · {html.escape(labels[f'{key}_trails'])}<br>{band_note}"}],
            {"style": {"color": color, "weight": 1, "opacity": 0.5, "fillColor": color, "fillOpacity": 0.12}},
            name=f"{band_name} · {html.escape(labels[f'{key}_trails'])}",
            bounds=bounds,
        )
    for key, frame in frames.items():
        color, dash = styles[key]
        name = html.escape(labels[f"{key}_trails"])
        # Trails carry their shape check and the plan's yardstick, bound and gap: show every column.
        properties = [{"_tip": name, "_pop": _attribute_popup(row, language, limit=32)} for _, row in frame.iterrows()]
        _add_layer(
            m,
            _display_geometry(frame, gcj02=gcj02),
            properties,
            {"style": {"color": color, "weight": 5, "opacity": 0.95, "dashArray": dash or None}},
            name=f"{_line_swatch(color, dash=dash)} {name} ({len(frame)})",
            bounds=bounds,
        )
        legend.append(f"<div>{_line_swatch(color, dash=dash)}{name}</div>")
    if off_network is not None and len(off_network):
        off_network = _check_frame(off_network, "off_network")
        name = html.escape(labels["off_network"])
        _add_layer(
            m,
            _display_geometry(off_network, gcj02=gcj02),
            [{"_tip": name, "_pop": _attribute_popup(row, language)} for _, row in off_network.iterrows()],
            {"style": {"color": "#d7191c", "weight": 6, "opacity": 0.9, "dashArray": "2 6"}},
            name=f"{_line_swatch('#d7191c', dash='2 4')} {name} ({len(off_network)})",
            bounds=bounds,
        )
        legend.append(f"<div>{_line_swatch('#d7191c', dash='2 4')}{name}</div>")
    legend.append(
        f"<div>{_area_swatch('#1b7837', fill='rgba(27,120,55,0.15)')}"
        f"{html.escape(labels['reach_band'])}: "
        f"{html.escape(labels['reach_band_note'].format(reach=f'{reach_m:,.0f}'))}</div>"
    )
    if underserved is not None and len(underserved):
        underserved = _check_frame(underserved, "underserved", ["population"])
        groups: tuple[tuple[str, np.ndarray, str], ...]
        if "reached" in underserved.columns:
            reached = underserved["reached"].fillna(False).astype(bool).to_numpy()
            groups = (("reached", reached, "#1a9850"), ("missed", ~reached, "#d73027"))
        else:
            groups = (("underserved", np.ones(len(underserved), bool), "#b2182b"),)
        for key, mask, color in groups:
            subset = underserved.loc[mask]
            _add_layer(
                m,
                _display_geometry(subset, gcj02=gcj02),
                _underserved_properties(subset, labels, language),
                {"style": {"color": color, "weight": 2.5, "dashArray": "6 4", "fillColor": color, "fillOpacity": 0.1}},
                name=f"{html.escape(labels[key])} ({len(subset)})",
                bounds=bounds,
            )
            legend.append(f"<div>{_area_swatch(color, dash='4 2')}{html.escape(labels[key])}</div>")
    if boundaries is not None and len(boundaries):
        _boundary_layer(m, boundaries, gcj02=gcj02, labels=labels, language=language)
    return _finish_map(
        m,
        bounds,
        title=style.title if style.title is not None else labels["trails_title"],
        legend_html="".join(legend),
        labels=labels,
        style=style,
    )
