"""Accessibility for a study: all-day venues, the evenings and winter scenarios, and their update."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np

from ordos_geo.pipeline.study import Study

if TYPE_CHECKING:
    from ordos_geo.routing import SnappedPoints


def compute_accessibility(
    study: Study,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    map_parts: Callable | None = None,
    cells_snapped: SnappedPoints | None = None,
    service_areas: bool = True,
) -> Any:
    """Run the accessibility stage on a loaded study, with its evenings and winter scenarios.

    The main figures count the venues open all day: school venues open only
    after school hours (``public_access == "after_school"``) are left out of
    them and counted in the ``evenings`` scenario (evenings and weekends, every
    venue open to the public). The ``winter`` scenario keeps the indoor venues
    of ``[accessibility] winter_kinds`` and the indoor school venues open to
    the public (:func:`indoor_school_venues`). Each scenario adds ``dist_m_<scenario>``
    and ``covered_<t>m_<scenario>`` to the cells
    (:func:`ordos_geo.accessibility.with_scenario`).

    Service-area polygons are drawn per venue on networks of at most
    :data:`ordos_geo.accessibility.stage.SERVICE_AREAS_AUTO_MAX_NODES` nodes
    (``service_areas_by="auto"``); on a larger city they would take longer
    than the rest of the stage, and the cells' distance classes show the
    same tiers.

    With ``[accessibility] split_by_district`` the cells are computed district
    by district on buffered streets and merged
    (:func:`ordos_geo.accessibility.compute_accessibility_by_district`): the
    same result.

    Parameters
    ----------
    study : Study
    facilities : geopandas.GeoDataFrame, optional
        Facilities to use instead of ``study.facilities`` (e.g. with planned sites).
    map_parts : callable, optional
        ``map``-like runner of the district parts (a Dask cluster's, say);
        default one after another here.
    cells_snapped : ordos_geo.routing.SnappedPoints, optional
        ``study.cells`` already snapped (``cells_snapped`` of an earlier run on
        this study), so they are not snapped again; unused when split by district.
    service_areas : bool, default True
        Draw the service-area polygons (on small networks, as above); False
        when no map will show them: they are most of the stage on a dense
        extract (8 venues x 3 walks on Helsinki's 2,703 nodes: 9 of 9.3 s).

    Returns
    -------
    ordos_geo.accessibility.AccessibilityResult

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = compute_accessibility(study)  # doctest: +SKIP
    >>> [column for column in acc.cells if column.endswith("_winter")]  # doctest: +SKIP
    ['dist_m_winter', 'covered_300m_winter', 'covered_500m_winter', 'covered_1000m_winter']
    """
    from ordos_geo import accessibility

    cfg = study.config
    options = accessibility.AccessibilityOptions.from_config(cfg)
    facilities = study.facilities if facilities is None else facilities
    all_day, venues = _scenario_split(facilities)
    # service areas per venue on small networks only: on a city they would dominate the stage
    areas_by: Literal["auto", "none"] = "auto" if service_areas else "none"
    if cfg.split_by_district:
        result = accessibility.compute_accessibility_by_district(
            study.network, study.cells, all_day, map_parts=map_parts or map, options=options, service_areas_by=areas_by
        )
    else:
        result = accessibility.compute_accessibility(
            study.network, study.cells, all_day, cells_snapped=cells_snapped, options=options, service_areas_by=areas_by
        )
    distances = {name: _nearest_distance(study, frame, result.cells_snapped) for name, frame in venues.items()}
    return _with_scenarios(study, result, venues, distances)


def update_accessibility(
    study: Study, previous: Any, facilities: gpd.GeoDataFrame, *, service_areas: bool = True
) -> Any:
    """:func:`compute_accessibility` with another facility table, searching only from the venues that changed.

    The main figures come from :func:`ordos_geo.accessibility.update_accessibility`
    (only the added, removed or moved venues are searched from); the
    ``evenings`` and ``winter`` scenarios search only from the venues they
    gain and, when they lose one, for the cells that walked to it
    (:func:`ordos_geo.accessibility.update.nearest_venue_update`). The result equals
    that of ``compute_accessibility(study, facilities=facilities)`` (distances
    of unchanged nearest venues up to the last bits).

    Parameters
    ----------
    study : Study
    previous : ordos_geo.accessibility.AccessibilityResult
        An earlier result of :func:`compute_accessibility` on ``study``, not
        split by district.
    facilities : geopandas.GeoDataFrame
        The new facility table (every venue, as ``study.facilities``), in the
        network CRS.
    service_areas : bool, default True
        Draw the added venues' service-area polygons (only the coverage map
        of a first run draws them); see
        :func:`ordos_geo.accessibility.update_accessibility`.

    Returns
    -------
    ordos_geo.accessibility.AccessibilityResult

    Examples
    --------
    >>> study = load_study()  # doctest: +SKIP
    >>> before = compute_accessibility(study)  # doctest: +SKIP
    >>> after = update_accessibility(study, before, study.facilities.iloc[1:])  # doctest: +SKIP
    """
    from ordos_geo import accessibility

    all_day, venues = _scenario_split(facilities)
    result = accessibility.update_accessibility(study.network, previous, all_day, service_areas=service_areas)
    distances = {}
    for name, frame in venues.items():
        old_frame, old_distance = previous.scenario_venues.get(name, (frame.iloc[:0], None))
        distances[name] = _updated_distance(study, old_frame, old_distance, frame, result.cells_snapped)
    return _with_scenarios(study, result, venues, distances)


def _scenario_split(facilities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
    """The venues of the main figures (open all day) and those each scenario adds to them."""
    after_school = (
        facilities["public_access"].eq("after_school").to_numpy()
        if "public_access" in facilities
        else np.zeros(len(facilities), dtype=bool)
    )
    all_day = facilities[~after_school] if after_school.any() else facilities
    # evenings: the all-day venues or an after-school one, whichever is nearer;
    # winter: the indoor venues of the winter kinds or an indoor school hall open to the public
    return all_day, {"evenings": facilities[after_school], "winter": indoor_school_venues(facilities)}


def _nearest_distance(study: Study, venues: gpd.GeoDataFrame, cells_snapped: SnappedPoints | None) -> np.ndarray:
    """Walking metres from each cell to the nearest of ``venues`` (``inf`` when there are none)."""
    from ordos_geo import accessibility

    if venues.empty:
        return np.full(len(study.cells), np.inf)
    nearest = accessibility.nearest_facility(
        study.network,
        study.cells,
        venues,
        max_distance_m=study.config.max_distance_m,
        max_snap_distance_m=study.config.max_snap_distance_m,
        origins_snapped=cells_snapped,
    )
    return nearest["distance_m"].to_numpy(dtype=float)


def _updated_distance(
    study: Study,
    old: gpd.GeoDataFrame,
    old_distance: np.ndarray | None,
    new: gpd.GeoDataFrame,
    cells_snapped: SnappedPoints | None,
) -> np.ndarray:
    """The distance to ``new`` from that to ``old``: searched from the venues gained and for the cells that lost one."""
    from ordos_geo.accessibility.update import nearest_venue_update

    if old_distance is None or cells_snapped is None:
        return _nearest_distance(study, new, cells_snapped)
    return nearest_venue_update(
        study.network,
        cells_snapped,
        old,
        old_distance,
        new,
        max_distance_m=study.config.max_distance_m,
        max_snap_distance_m=study.config.max_snap_distance_m,
    )


def _with_scenarios(
    study: Study, result: Any, venues: Mapping[str, gpd.GeoDataFrame], distances: Mapping[str, np.ndarray]
) -> Any:
    """The result with the ``evenings`` and ``winter`` columns and the venues they come from."""
    from ordos_geo import accessibility

    cfg = study.config
    evenings = np.minimum(result.cells["dist_m_any"].to_numpy(dtype=float), distances["evenings"])
    cells = accessibility.with_scenario(result.cells, "evenings", evenings, thresholds_m=cfg.thresholds_m)
    winter = np.minimum(accessibility.distance_to_kinds(cells, cfg.winter_kinds), distances["winter"])
    cells = accessibility.with_scenario(cells, "winter", winter, thresholds_m=cfg.thresholds_m)
    kept = {name: (venues[name], distances[name]) for name in venues}
    return dataclasses.replace(result, cells=cells, scenario_venues=kept)


def indoor_school_venues(facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """School venues that are indoor halls open to the public: venues of the winter scenario.

    Those with ``indoor`` true (the facility table's optional ``indoor``
    column; unknown counts as not indoor) and ``public_access`` ``full`` or
    ``after_school`` (school halls open to residents in the evenings and at
    weekends serve in winter too).

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        As read by :func:`ordos_geo.io.read_facilities`.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows (none when the table has no ``indoor`` column).

    Examples
    --------
    >>> venues = gpd.GeoDataFrame({"facility_id": ["a", "b", "c"],
    ...                            "kind": ["school_venue", "school_venue", "gymnasium"],
    ...                            "indoor": [True, False, True],
    ...                            "public_access": ["after_school", "full", "full"]})
    >>> indoor_school_venues(venues)["facility_id"].tolist()
    ['a']
    """
    if "indoor" not in facilities or "public_access" not in facilities:
        return facilities.iloc[:0]
    chosen = (
        facilities["kind"].eq("school_venue")
        & facilities["indoor"].map(lambda v: v is True or v is np.True_)
        & facilities["public_access"].isin(("full", "after_school"))
    )
    return facilities.loc[chosen.to_numpy(dtype=bool)]
