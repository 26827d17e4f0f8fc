"""The study pipeline: inputs -> network -> accessibility -> siting -> trails -> indicators -> maps.

Each stage lives in its own module; this one only wires them together for a
:class:`~ordos_geo.config.StudyConfig` and hands the results to ``io`` to write.
Notebooks use the same functions (:func:`load_study`, :func:`compute_accessibility`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ordos_geo import _labels, indicators, io, settings
from ordos_geo._errors import InfeasibleError, InputDataError, NetworkDataError, OrdosGeoError, SolverError
from ordos_geo.config import StudyConfig, sample_config
from ordos_geo.indicators import CITYWIDE
from ordos_geo.network import WalkNetwork, load_walk_network

if TYPE_CHECKING:
    from ordos_geo.routing import SnappedPoints

__all__ = [
    "Study",
    "StudyResults",
    "analyse_study",
    "assign_districts",
    "before_after_table",
    "compute_accessibility",
    "indoor_school_venues",
    "load_study",
    "planned_facilities",
    "run_study",
    "siting_rules",
    "split_population_60plus",
    "study_indicators",
    "study_summary",
    "update_accessibility",
    "write_results",
]

logger = logging.getLogger(__name__)
#: One line per stage with its elapsed time; the CLI shows it on a terminal.
progress = logging.getLogger("ordos_geo.progress")

#: OSM tags of the green land trails prefer to run through or along.
GREEN_LAND_TAGS: dict[str, list[str]] = {
    "leisure": ["park", "garden", "nature_reserve"],
    "landuse": ["grass", "greenfield", "meadow", "forest", "recreation_ground", "village_green"],
}


@dataclass(eq=False)
class Study:
    """A loaded, validated study, every layer in the network's metric CRS.

    Attributes
    ----------
    config : StudyConfig
    network : WalkNetwork
    cells : geopandas.GeoDataFrame
        Populated cells with ``cell_id``, ``population``, ``district``.
    facilities : geopandas.GeoDataFrame
        Existing facilities (schema of :func:`ordos_geo.io.read_facilities`).
    boundaries : geopandas.GeoDataFrame or None
        Districts/banners (``level == "district"``) and the city outline.
    population_input : dict
        The population file, its form (``settings.POPULATION_FORMS``) and datum,
        and for polygons how many held no residential land.
    planner_targets : pandas.DataFrame or None
        Non-spatial planner figures (:func:`ordos_geo.io.read_planner_targets`),
        districts spelled as the boundaries' ``name_en``.
    proposed_trails : geopandas.GeoDataFrame or None
        Trails drawn by the planner, to check (``[inputs] proposed_trails``).
    trail_exclusions : geopandas.GeoDataFrame or None
        Streets or areas trails must avoid (``[inputs] trail_exclusions``).
    warnings : list of str
        Plausibility warnings found while loading (one line each, with the fix);
        they go into ``summary.json`` and the report.
    """

    config: StudyConfig
    network: WalkNetwork
    cells: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    boundaries: gpd.GeoDataFrame | None
    population_input: dict[str, Any] = field(default_factory=dict)
    planner_targets: pd.DataFrame | None = None
    proposed_trails: gpd.GeoDataFrame | None = None
    trail_exclusions: gpd.GeoDataFrame | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(eq=False)
class StudyResults:
    """What :func:`run_study` computed and where it wrote it."""

    study: Study
    accessibility: Any = None
    indicators: pd.DataFrame | None = None
    scorecard: pd.DataFrame | None = None
    siting: Any = None
    school_opening: Any = None
    trail_plan: Any = None
    trail_plan_report: pd.DataFrame | None = None
    trail_check: Any = None
    facilities_after: gpd.GeoDataFrame | None = None
    accessibility_after: Any = None
    indicators_after: pd.DataFrame | None = None
    scorecard_after: pd.DataFrame | None = None
    before_after: pd.DataFrame | None = None
    area_gap: pd.DataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    written: dict[str, Path] = field(default_factory=dict)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def what_if(self, *, add: Any = None, remove: Any = (), base: str | None = None) -> Any:
        """The indicators and scorecard after adding, moving or closing venues: :func:`ordos_geo.what_if.what_if`.

        Examples
        --------
        >>> results = analyse_study(load_study())  # doctest: +SKIP
        >>> results.what_if(remove=["F012"]).indicators  # doctest: +SKIP
        """
        from ordos_geo.what_if import what_if

        return what_if(self, add=add, remove=remove, base=base)  # type: ignore[arg-type]


def assign_districts(
    gdf: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame | None, *, points: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """Fill the ``district`` column from the district polygon holding each feature.

    Features are located by a representative point (inside polygons). Rows that
    already have a district keep it; features outside every district get ``None``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features in the same CRS as ``boundaries``.
    boundaries : geopandas.GeoDataFrame or None
        Boundaries with ``name_en`` and ``level``; only ``level == "district"``
        rows are used (all rows when there is no ``level`` column).
    points : numpy.ndarray, optional
        The features' representative points (``shapely.point_on_surface``), when
        already at hand: a million cells take seconds to compute them.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``district`` filled.
    """
    out = gdf.copy()
    if "district" not in out.columns:
        out["district"] = None
    if boundaries is None or out.empty:
        return out
    districts = boundaries
    if "level" in districts.columns:
        districts = districts[districts["level"] == "district"]
    if districts.empty:
        return out
    if points is None:
        points = shapely.point_on_surface(out.geometry.to_numpy())
    located_at = gpd.GeoDataFrame(geometry=points, index=out.index, crs=out.crs)
    joined = gpd.sjoin(located_at, districts[["name_en", "geometry"]], how="left", predicate="within")
    located = joined.loc[~joined.index.duplicated(keep="first"), "name_en"].reindex(out.index)
    missing = out["district"].isna() | (out["district"].astype(str).str.strip() == "")
    out.loc[missing, "district"] = located[missing]
    out["district"] = out["district"].where(out["district"].notna(), None)
    return out


def _with_population_60plus(cells: gpd.GeoDataFrame, path: Path, *, study_area: Any = None) -> gpd.GeoDataFrame:
    """Residents aged 60+ per cell from a second grid on the population grid (``[inputs] population_60plus``).

    The grid's cells are matched to the population cells one by one (same
    cell id and same cell corners); a population cell the grid leaves empty
    has no resident aged 60+. The column then takes precedence over the census
    split (:func:`split_population_60plus`).

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Population cells read from a raster (:func:`ordos_geo.io.read_population`), in any CRS.
    path : pathlib.Path
        GeoTIFF of residents aged 60+ per cell, e.g. ``population_60plus.tif`` from ``ordos-geo fetch``.
    study_area : optional
        As given to :func:`ordos_geo.io.read_population`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``cells`` with ``population_60plus`` (residents).

    Raises
    ------
    InputDataError
        Not a GeoTIFF, no cell lines up with the population cells, or a cell
        holds more residents aged 60+ than residents.
    """
    if not path.name.lower().endswith((".tif", ".tiff")) or cells.attrs.get("population_form") != "raster":
        msg = (
            f"[inputs] population_60plus {path.name}: give a GeoTIFF of residents aged 60+ on the grid of a "
            "population GeoTIFF (or leave it out: the boundaries' share_60plus splits the residents)"
        )
        raise InputDataError(msg)
    older = io.read_population(path, study_area=study_area, crs=cells.crs)
    tolerance = 1e-7 if cells.crs.is_geographic else 0.01  # degrees, or metres (about the same 1 cm)
    by_id = older.drop_duplicates("cell_id").set_index("cell_id")
    matched = cells["cell_id"].isin(by_id.index).to_numpy()
    corners = shapely.bounds(cells.geometry.to_numpy()[matched])
    same = np.all(
        np.isclose(
            corners,
            shapely.bounds(by_id.loc[cells["cell_id"][matched], "geometry"].to_numpy()),
            rtol=0.0,
            atol=tolerance,
        ),
        axis=1,
    )
    if not matched.any() or not same.all():
        found = "no cell lines up" if not matched.any() else f"{int((~same).sum()):,} cells lie elsewhere"
        msg = (
            f"[inputs] population_60plus {path.name}: {found} with the {len(cells):,} population cells; give "
            "residents aged 60+ on the same grid (origin, cell size and extent) as the population raster"
        )
        raise InputDataError(msg)
    out = cells.copy()
    out["population_60plus"] = cells["cell_id"].map(by_id["population"]).fillna(0.0).to_numpy(dtype=float)
    residents = out["population"].to_numpy(dtype=float)
    over = np.flatnonzero(out["population_60plus"].to_numpy() > residents * (1 + 1e-6) + 1e-6)
    if over.size:
        first = ", ".join(
            f"{cells['cell_id'].iloc[i]} ({out['population_60plus'].iloc[i]:g} > {residents[i]:g})" for i in over[:3]
        )
        msg = (
            f"[inputs] population_60plus {path.name}: {over.size:,} cells hold more residents aged 60+ than "
            f"residents, first cell ids {first}; check both grids are of the same product and year"
        )
        raise InputDataError(msg)
    return out


def split_population_60plus(cells: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Residents aged 60+ per cell: its residents times its district's share (``share_60plus``).

    Cells that already have ``population_60plus`` keep it; without a
    ``share_60plus`` column in the boundaries nothing is added. Cells outside
    every district (or in one without a share) get NaN.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        With ``population`` and ``district`` (:func:`assign_districts`).
    boundaries : geopandas.GeoDataFrame
        With ``name_en`` and ``share_60plus`` (0-1), e.g. the 2020 census share.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cells``, or a copy with ``population_60plus`` (residents, not rounded).
    """
    if "population_60plus" in cells.columns or "share_60plus" not in boundaries.columns:
        return cells
    share = boundaries.dropna(subset=["share_60plus"]).drop_duplicates("name_en").set_index("name_en")["share_60plus"]
    out = cells.copy()
    out["population_60plus"] = out["population"].to_numpy(dtype=float) * out["district"].map(share).to_numpy(
        dtype=float
    )
    return out


def load_study(config: StudyConfig | str | Path | None = None, *, use_cache: bool = True) -> Study:
    """Load and validate every input of a study.

    Parameters
    ----------
    config : StudyConfig, path to a study TOML, or None
        ``None`` loads the embedded Ordos sample (synthetic network, population
        and facilities inside real county boundaries).
    use_cache : bool
        Reuse the cached projected network in ``./data/processed/networks``.

    Returns
    -------
    Study
        Inputs projected to the network's metric CRS, districts assigned.
    """
    config = _as_config(config)
    config.check_inputs_exist()

    layers = config.layers
    boundaries = (
        io.read_boundaries(config.boundaries, layer=layers.get("boundaries")) if config.boundaries is not None else None
    )
    planner_targets = None
    if config.planner_targets is not None:
        names = None
        if boundaries is not None:
            names = set(boundaries["name_en"].astype(str)) | set(boundaries["name_zh"].astype(str))
        planner_targets = io.read_planner_targets(config.planner_targets, districts=names)
        if boundaries is not None:
            # one spelling per district: the boundaries' name_en (the cells' and facilities' district)
            to_en = dict(zip(boundaries["name_zh"].astype(str), boundaries["name_en"].astype(str), strict=True))
            planner_targets["district"] = planner_targets["district"].map(lambda d: to_en.get(d, d))
    # the planner's drawn trails and exclusions are read before any work, so a bad file stops the run at once
    proposed_trails = (
        io.read_lines(
            config.proposed_trails,
            coordinate_system=config.proposed_trails_coordinates,
            layer=layers.get("proposed_trails"),
        )
        if config.proposed_trails is not None
        else None
    )
    trail_exclusions = (
        io.read_vector(config.trail_exclusions, what="trail exclusions", layer=layers.get("trail_exclusions"))
        if config.trail_exclusions is not None
        else None
    )
    study_area = boundaries
    network = load_walk_network(
        config.network, cache_dir=Path.cwd() / "data" / "processed" / "networks", use_cache=use_cache
    )
    cells = io.read_population(
        config.population,
        population_column=config.population_column,
        study_area=study_area,
        layer=layers.get("population"),
        coordinate_system=config.population_coordinates,
        residential=lambda: _residential_land(config.network),
        grid_crs=network.crs,
        crs=network.crs,  # a raster's cells are made in the network's CRS: no second reprojection
    )
    population_input = {
        "file": config.population.name,
        "form": cells.attrs["population_form"],
        "coordinates": config.population_coordinates if cells.attrs["population_form"] != "raster" else None,
    }
    population_input |= {k: v for k, v in cells.attrs.items() if k != "population_form"}
    if config.population_60plus is not None:
        cells = _with_population_60plus(cells, config.population_60plus, study_area=study_area)
        population_input["population_60plus"] = config.population_60plus.name
    frames = [
        io.read_facilities(
            source.path,
            coordinate_system=source.coordinates,
            lon_column=source.lon_column or config.lon_column,
            lat_column=source.lat_column or config.lat_column,
            area_policy=config.area_policy,
            trail_width_m=config.trail_width_m,
            layer=source.layer or (layers.get("facilities") if i == 0 else None),
        )
        for i, source in enumerate(config.facilities)
    ]
    facilities = _concat_facilities(frames, [s.path.name for s in config.facilities])

    crs = network.crs
    if not cells.crs.equals(crs):
        cells = cells.to_crs(crs)
    facilities = facilities.to_crs(crs)
    notes: list[str] = []
    _check_population_density(cells, config)
    points = shapely.point_on_surface(cells.geometry.to_numpy())  # where each cell is: streets and districts
    _check_network_covers(network, cells, points, config, notes)
    if boundaries is not None:
        boundaries = boundaries.to_crs(crs)
        facilities = _leave_out_outside(
            facilities, boundaries.geometry.union_all(), "outside the study area (boundaries)", config, notes
        )
    else:
        # Without boundaries the network's extent is the study area: a venue farther than the distance cap
        # from it (another city) would count in per-capita area without serving anyone in the study.
        hull = shapely.convex_hull(shapely.multipoints(shapely.get_coordinates(network.edges.geometry.values)))
        facilities = _leave_out_outside(
            facilities, shapely.buffer(hull, config.max_distance_m), "outside the walk network's extent", config, notes
        )
    if boundaries is not None:
        cells = assign_districts(cells, boundaries, points=points)
        facilities = assign_districts(facilities, boundaries)
        cells = split_population_60plus(cells, boundaries)
    elif "district" not in cells.columns:
        cells["district"] = None
    logger.info(
        "study %s: %s cells, %s people, %s facilities",
        config.name,
        f"{len(cells):,}",
        f"{cells['population'].sum():,.0f}",
        f"{len(facilities):,}",
    )
    return Study(
        config=config,
        network=network,
        cells=cells,
        facilities=facilities,
        boundaries=boundaries,
        population_input=population_input,
        planner_targets=planner_targets,
        proposed_trails=None if proposed_trails is None else proposed_trails.to_crs(crs),
        trail_exclusions=None if trail_exclusions is None else trail_exclusions.to_crs(crs),
        warnings=notes,
    )


def _note(notes: list[str], text: str) -> None:
    """A plausibility warning: one logged line, kept for summary.json and the report."""
    notes.append(text)
    logger.warning("%s", text)


def _check_population_density(cells: gpd.GeoDataFrame, config: StudyConfig) -> None:
    """Refuse population cells with more residents per hectare than any city holds.

    A point (no area) is taken to stand for at most 1 km² (100 ha) of residents.
    """
    area_ha = cells.geometry.area.to_numpy() / 10_000.0
    area_ha = np.where(area_ha > 0, area_ha, 100.0)
    population = cells["population"].to_numpy(float)
    density = population / area_ha
    bad = np.flatnonzero(density > settings.MAX_RESIDENTS_PER_HECTARE)
    if bad.size:
        ids = ", ".join(str(v) for v in cells["cell_id"].to_numpy()[bad[:5]])
        msg = (
            f"{config.population.name}: {bad.size} populated cells hold more than "
            f"{settings.MAX_RESIDENTS_PER_HECTARE:,.0f} residents per hectare (up to {density[bad].max():,.3g}; "
            f"cell_id {ids}); no city is that dense: check the unit of the values and the nodata value"
        )
        raise InputDataError(msg)


def _check_network_covers(
    network: WalkNetwork, cells: gpd.GeoDataFrame, points: np.ndarray, config: StudyConfig, notes: list[str]
) -> None:
    """Measure the residents farther than the snap distance from every street (``points`` inside the cells)."""
    snap = config.max_snap_distance_m
    near = _near_network(network, points, snap)
    population = cells["population"].to_numpy(float)
    total = population.sum()
    off = float(population[~near].sum() / total) if total > 0 else 0.0
    if off == 0:
        return
    n_off = int((~near).sum())
    text = (
        f"{off:.1%} of residents ({n_off:,} of {len(cells):,} populated cells) are farther than {snap:g} m "
        f"(max_snap_distance_m) from every street of {config.network.name}"
    )
    if off > settings.MAX_POPULATION_OFF_NETWORK_SHARE:
        msg = (
            f"{text}: the walk network does not cover the population (above "
            f"{settings.MAX_POPULATION_OFF_NETWORK_SHARE:.0%}); give a network and a population of the same area"
        )
        raise NetworkDataError(msg)
    _note(notes, f"{text}; they count as unreachable: extend the network extract to cover them")


def _near_network(network: WalkNetwork, points: np.ndarray, distance: float) -> np.ndarray:
    """Which points lie within ``distance`` of a street of ``network`` (metres, the network's CRS).

    A point that near a node with an edge is near that edge: a k-d tree of the
    nodes settles almost every point of a city at once; only the rest are
    measured against the edges' lines.
    """
    adjacency = network.adjacency
    on_edge = (np.diff(adjacency.indptr) > 0) | (np.bincount(adjacency.indices, minlength=adjacency.shape[0]) > 0)
    xy = shapely.get_coordinates(points)
    near = np.zeros(len(points), dtype=bool)
    if on_edge.any():
        to_node = cKDTree(network.node_xy[on_edge]).query(xy, distance_upper_bound=distance * 1.001 + 1e-6)[0]
        near = to_node <= distance
    rest = np.flatnonzero(~near)
    if len(rest) and len(network.edges):
        tree = shapely.STRtree(network.edges.geometry.to_numpy())
        near[rest[np.unique(tree.query(points[rest], predicate="dwithin", distance=distance)[0])]] = True
    return near


def _leave_out_outside(
    facilities: gpd.GeoDataFrame, area: Any, where: str, config: StudyConfig, notes: list[str]
) -> gpd.GeoDataFrame:
    """Drop facilities outside ``area`` with a warning naming them; refuse when none is left."""
    inside = shapely.intersects(facilities.geometry.to_numpy(), area)
    if inside.all():
        return facilities
    names = facilities.get("name", facilities["facility_id"]).where(lambda v: v.notna(), facilities["facility_id"])
    listed = ", ".join(str(v) for v in names[~inside].head(5))
    more = "" if (~inside).sum() <= 5 else f" and {(~inside).sum() - 5} more"
    files = ", ".join(s.path.name for s in config.facilities)
    if not inside.any():
        msg = (
            f"{files}: every facility is {where} ({listed}{more}); check the coordinates and their datum "
            "(--facilities-coordinates: wgs84, gcj02 for Amap, bd09 for Baidu) and that longitude and latitude "
            "are not swapped"
        )
        raise InputDataError(msg)
    _note(notes, f"{files}: {(~inside).sum()} facilities {where} are left out: {listed}{more}")
    return facilities.loc[inside].reset_index(drop=True)


def _residential_land(network_file: Path) -> gpd.GeoDataFrame | None:
    """Residential land and buildings of the study's OSM extract (``None`` for a saved GraphML)."""
    if not network_file.name.lower().endswith(io.OSM_SUFFIXES):
        return None
    return io.read_osm_features(network_file, settings.RESIDENTIAL_OSM_TAGS)


def _concat_facilities(frames: list[gpd.GeoDataFrame], names: list[str]) -> gpd.GeoDataFrame:
    """Stack facility tables from several files, keeping ids unique across files."""
    if len(frames) == 1:
        return frames[0]
    ids = pd.concat([f["facility_id"].astype(str) for f in frames], ignore_index=True)
    if ids.duplicated().any():
        # Prefix ids with the file stem so rows from different exports stay distinct.
        frames = [
            f.assign(facility_id=Path(name).stem + ":" + f["facility_id"].astype(str))
            for f, name in zip(frames, names, strict=True)
        ]
    frames = [f.to_crs(4326) for f in frames]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    if out["facility_id"].duplicated().any():
        dup = out.loc[out["facility_id"].duplicated(), "facility_id"].tolist()[:5]
        msg = f"facility ids are not unique across {', '.join(names)}: {dup}; give each row its own facility_id"
        raise InputDataError(msg)
    return out


def compute_accessibility(
    study: Study,
    *,
    facilities: gpd.GeoDataFrame | None = None,
    map_parts: Callable | None = None,
    cells_snapped: SnappedPoints | None = None,
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

    Returns
    -------
    ordos_geo.accessibility.AccessibilityResult
    """
    from ordos_geo import accessibility

    cfg = study.config
    options = accessibility.AccessibilityOptions.from_config(cfg)
    facilities = study.facilities if facilities is None else facilities
    all_day, venues = _scenario_split(facilities, cfg)
    # service areas per venue on small networks only: on a city they would dominate the stage
    if cfg.split_by_district:
        result = accessibility.compute_accessibility_by_district(
            study.network, study.cells, all_day, map_parts=map_parts or map, options=options, service_areas_by="auto"
        )
    else:
        result = accessibility.compute_accessibility(
            study.network, study.cells, all_day, cells_snapped=cells_snapped, options=options, service_areas_by="auto"
        )
    distances = {name: _nearest_distance(study, frame, result.cells_snapped) for name, frame in venues.items()}
    return _with_scenarios(study, result, venues, distances)


def update_accessibility(study: Study, previous: Any, facilities: gpd.GeoDataFrame) -> Any:
    """:func:`compute_accessibility` with another facility table, searching only from the venues that changed.

    The main figures come from :func:`ordos_geo.accessibility.update_accessibility`
    (only the added, removed or moved venues are searched from); the
    ``evenings`` and ``winter`` scenarios search only from the venues they
    gain, or again from all of theirs when they lose one. The result equals
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

    all_day, venues = _scenario_split(facilities, study.config)
    result = accessibility.update_accessibility(study.network, previous, all_day)
    distances = {}
    for name, frame in venues.items():
        old_frame, old_distance = previous.scenario_venues.get(name, (frame.iloc[:0], None))
        distances[name] = _updated_distance(study, old_frame, old_distance, frame, result.cells_snapped)
    return _with_scenarios(study, result, venues, distances)


def _scenario_split(
    facilities: gpd.GeoDataFrame, cfg: StudyConfig
) -> tuple[gpd.GeoDataFrame, dict[str, gpd.GeoDataFrame]]:
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
    """The distance to ``new`` from that to ``old``: searched only from the gained venues when none is lost."""
    old_geoms = dict(zip(old["facility_id"].astype(str), old.geometry.values, strict=True))
    gained = np.array(
        [
            not (i in old_geoms and shapely.equals_exact(old_geoms[i], g, tolerance=0.0))
            for i, g in zip(new["facility_id"].astype(str), new.geometry.values, strict=True)
        ],
        dtype=bool,
    )
    lost = len(old) - int((~gained).sum())
    if old_distance is None or lost:
        return _nearest_distance(study, new, cells_snapped)
    if not gained.any():
        return old_distance
    return np.minimum(old_distance, _nearest_distance(study, new[gained], cells_snapped))


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
    """
    if "indoor" not in facilities or "public_access" not in facilities:
        return facilities.iloc[:0]
    chosen = (
        facilities["kind"].eq("school_venue")
        & facilities["indoor"].map(lambda v: v is True or v is np.True_)
        & facilities["public_access"].isin(("full", "after_school"))
    )
    return facilities.loc[chosen.to_numpy(dtype=bool)]


def study_summary(study: Study) -> dict[str, Any]:
    """Counts of nodes, edges, cells, people, facilities by kind and by district."""
    cells = study.cells
    fac = study.facilities
    return {
        "study": study.config.name,
        "synthetic_sample": study.config.synthetic,
        "crs": study.network.crs.to_string(),
        "network": {
            "nodes": study.network.n_nodes,
            "edges": study.network.n_edges,
            "cleaning": study.network.report,
        },
        "cells": len(cells),
        "population": float(round(cells["population"].sum(), 1)),
        "population_input": dict(study.population_input),
        "population_by_district": {
            str(k): float(round(v, 1))
            for k, v in cells.groupby(cells["district"].fillna("(outside)"))["population"].sum().items()
        },
        "facilities": len(fac),
        "facilities_by_kind": {str(k): int(v) for k, v in fac["kind"].value_counts().sort_index().items()},
        "facilities_by_district": {
            str(k): int(v) for k, v in fac["district"].fillna("(outside)").value_counts().sort_index().items()
        },
    }


def run_study(
    config: StudyConfig | str | Path | None = None,
    *,
    stages: tuple[str, ...] = ("accessibility", "siting", "trails", "maps"),
    use_cache: bool = True,
    map_parts: Callable | None = None,
) -> StudyResults:
    """Run a whole study, writing each stage's outputs as soon as the stage finishes.

    The output folders are checked (created, writable, no input among the
    outputs) and locked before any work. Each stage's files appear as one
    complete group (see :class:`ordos_geo.io.OutputSet`); ``summary.json``
    says which stages are in place (``run.stages``) and, after a failure or
    Ctrl-C, where the run stopped (``run.state == "stopped"``), so a late
    failure never removes or corrupts an earlier stage's outputs. A part a
    stage cannot do (no eligible candidate for a site type, nothing to plan
    trails for, a map with nothing to show) is skipped with one warning line
    and recorded in ``summary.json["skipped"]`` and the report; the run goes on.

    Parameters
    ----------
    config : StudyConfig, path to a study TOML, or None
        ``None`` runs the embedded Ordos sample.
    stages : tuple of str
        Which stages after loading to run, in data-flow order: any of
        ``"accessibility"``, ``"siting"``, ``"trails"``, ``"maps"`` (siting,
        trails and maps need accessibility).
    use_cache : bool
        Reuse the cached network.
    map_parts : callable, optional
        Runner of the district parts of a study split by district (see
        :func:`compute_accessibility`).

    Returns
    -------
    StudyResults
        Results and the paths written; ``results.skipped`` lists skipped parts.

    Example
    -------
    >>> results = run_study(stages=("accessibility",))  # doctest: +SKIP
    >>> results.summary["run"]["state"]  # doctest: +SKIP
    'complete'
    """
    config = _as_config(config)
    config.check_inputs_exist()
    results: StudyResults | None = None
    with _output_set(config, stages) as out:
        try:
            with _stage("load"):
                study = load_study(config, use_cache=use_cache)
            results = StudyResults(study=study, summary=study_summary(study))
            for stage in _analyse(results, stages, map_parts):
                _commit(results, out, stage)
            if "maps" in stages and results.accessibility is not None:
                with _stage("maps"):
                    _commit(results, out, "maps")
            _commit(results, out, "summary", state="complete")
        except BaseException as error:
            _note_stop(results, out, error)
            raise
    logger.info("study %s written to %s", config.name, config.table_dir())
    return results


def analyse_study(
    study: Study,
    *,
    stages: tuple[str, ...] = ("accessibility", "siting", "trails"),
    map_parts: Callable | None = None,
) -> StudyResults:
    """Run the analysis stages on a loaded study, in memory (nothing is written).

    Parameters
    ----------
    study : Study
        From :func:`load_study`.
    stages : tuple of str
        Any of ``"accessibility"``, ``"siting"``, ``"trails"``; siting and
        trails need accessibility. When siting or trails run, accessibility
        and indicators are computed again with the planned sites and trails
        added (``accessibility_after``, ``indicators_after``, ``before_after``).
    map_parts : callable, optional
        Runner of the district parts of a study split by district (see
        :func:`compute_accessibility`).

    Returns
    -------
    StudyResults
        Parts a stage could not do are in ``results.skipped``.
    """
    results = StudyResults(study=study, summary=study_summary(study))
    for _ in _analyse(results, stages, map_parts):
        pass
    return results


def write_results(results: StudyResults, *, maps: bool = True) -> dict[str, Path]:
    """Write a study's tables, GeoPackages, ``summary.json`` and (optionally) maps and report.

    Tables go to ``config.table_dir()``, maps to ``config.map_dir()``, as one
    output set (see :func:`run_study`): the previous run's files are replaced,
    each group appears whole.

    Parameters
    ----------
    results : StudyResults
        From :func:`analyse_study`.
    maps : bool
        Also write ``coverage.html``, ``sites.html``, ``trails.html``,
        ``index.html`` and the report.

    Returns
    -------
    dict of str to pathlib.Path
        Everything written, also kept in ``results.written``.
    """
    cfg = results.study.config
    stages = ("accessibility", "siting", "trails", *(("maps",) if maps else ()))
    with _output_set(cfg, stages) as out:
        try:
            if results.accessibility is not None:
                for stage in _GROUPS:
                    if stage != "maps" or maps:
                        _commit(results, out, stage)
            _commit(results, out, "summary", state="complete")
        except BaseException as error:
            _note_stop(results, out, error)
            raise
    logger.info("study %s written to %s", cfg.name, cfg.table_dir())
    return results.written


def _as_config(config: StudyConfig | str | Path | None) -> StudyConfig:
    if config is None:
        return sample_config()
    if isinstance(config, StudyConfig):
        return config
    return StudyConfig.from_toml(config)


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Time a stage: one progress line when it ends (shown on a terminal by the CLI)."""
    start = time.perf_counter()
    progress.info("%s ...", name)
    yield
    progress.info("%s done in %.1f s", name, time.perf_counter() - start)


def _analyse(results: StudyResults, stages: tuple[str, ...], map_parts: Callable | None = None) -> Iterator[str]:
    """Run the analysis stages in order, yielding each stage's name once its results are complete."""
    cfg = results.study.config
    if "accessibility" not in stages:
        return
    with _stage("accessibility"):
        _run_accessibility(results, map_parts)
        results.summary["population_input"].update(_outside_reach(results.accessibility.cells))
        results.summary["citywide"] = _citywide(results.indicators)
    yield "accessibility"
    if "siting" in stages and cfg.siting_enabled:
        with _stage("siting"):
            _run_siting(results)
        yield "siting"
    if "trails" in stages and cfg.trails_enabled:
        with _stage("trails"):
            _run_trails(results)
        yield "trails"
    opened = results.school_opening is not None and not results.school_opening.opened.empty
    if results.siting is not None or results.trail_plan is not None or opened:
        with _stage("after plan"):
            _run_after_plan(results, map_parts)
            results.summary["citywide_after_plan"] = _citywide(results.indicators_after)
        yield "after_plan"


def _skip(results: StudyResults, stage: str, part: str, reason: str | Exception) -> None:
    """Record a part a stage could not do: one warning line, and an entry for summary.json and the report."""
    text = str(reason)
    fix = text.rsplit("; ", 1)[1] if "; " in text else ""
    results.skipped.append({"stage": stage, "part": part, "reason": text, "fix": fix})
    logger.warning("%s: skipped %s: %s", stage, part, text)


def _output_set(config: StudyConfig, stages: tuple[str, ...]) -> io.OutputSet:
    tables = [*_GROUP_FILES["accessibility"], "summary.json"]
    if "siting" in stages and config.siting_enabled:
        tables += [*_GROUP_FILES["siting"], *(f"sites_{t}.csv" for t in config.siting_plan)]
        tables += ["school_opening.csv", "school_opening_districts.csv"]
    if "trails" in stages and config.trails_enabled:
        tables += _GROUP_FILES["trails"]
    tables += _GROUP_FILES["after_plan"]
    maps = _GROUP_FILES["maps"] if "maps" in stages else []
    return io.OutputSet(
        {"tables": config.table_dir(), "maps": config.map_dir()},
        inputs=config.input_paths(),
        planned={"tables": tables, "maps": maps},
    )


def _commit(results: StudyResults, out: io.OutputSet, stage: str, *, state: str = "running") -> None:
    """Write one stage's group into the staging folders with an up-to-date summary.json, then move it in."""
    tables, maps = out.staged("tables"), out.staged("maps")
    staged: dict[str, Path] = {}
    if stage in _GROUPS:
        staged = _GROUPS[stage](results, tables, maps)
    files = out.files_with_staged()
    done = [s for s in (*out.committed, stage) if s in _GROUPS]
    results.summary["run"] = {"state": state, "stages": done, "files": files}
    results.summary["skipped"] = list(results.skipped)
    results.summary["warnings"] = list(results.study.warnings)
    staged["summary"] = io.write_json(results.summary, tables / "summary.json")
    for key, path in staged.items():
        results.written[key] = out.final(path)
    out.commit(stage)


def _note_stop(results: StudyResults | None, out: io.OutputSet, error: BaseException) -> None:
    """After a failure or Ctrl-C, say in summary.json where the run stopped (if a stage is in place)."""
    if results is None or not out.committed:
        return  # nothing of this run is in place: the previous set stands untouched
    reason = "interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else str(error) or type(error).__name__
    done = [s for s in out.committed if s in _GROUPS]
    try:
        out.discard_staged()
        results.summary["run"] = {
            "state": "stopped",
            "stages": done,
            "files": out.files_with_staged(),
            "stopped_after": done[-1] if done else None,
            "reason": reason,
        }
        io.write_json(results.summary, out.staged("tables") / "summary.json")
        out.commit("stopped")
    except Exception:  # the disk may be full: the committed groups stand, without the note
        logger.debug("could not record where the run stopped", exc_info=True)


def _citywide(indicators: pd.DataFrame | None) -> dict[str, Any]:
    if indicators is None:
        return {}
    row = indicators.loc[indicators["district"] == CITYWIDE]
    if row.empty:
        return {}
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].to_dict().items()}


def _outside_reach(cells: gpd.GeoDataFrame) -> dict[str, float]:
    """People in cells farther than ``max_snap_distance_m`` from every street (no walking distance at all)."""
    total = float(cells["population"].sum())
    outside = float(cells.loc[~cells["reachable"].astype(bool), "population"].sum())
    return {
        "outside_network_reach": round(outside, 1),
        "outside_network_reach_share": round(outside / total, 4) if total > 0 else 0.0,
    }


def _run_accessibility(results: StudyResults, map_parts: Callable | None) -> None:
    study = results.study
    results.accessibility = compute_accessibility(study, map_parts=map_parts)
    results.indicators = study_indicators(study, results.accessibility.cells, study.facilities)
    results.scorecard = indicators.scorecard(results.indicators, study.facilities, planner_values=study.planner_targets)


def study_indicators(study: Study, cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """The plan indicators of a study's cells and venues, with the study's tiers, trail width and age distance.

    Parameters
    ----------
    study : Study
    cells : geopandas.GeoDataFrame
        Cells with the accessibility columns (``AccessibilityResult.cells``).
    facilities : geopandas.GeoDataFrame
        Every venue.

    Returns
    -------
    pandas.DataFrame
        As :func:`ordos_geo.indicators.compute_indicators`.
    """
    cfg = study.config
    return indicators.compute_indicators(
        cells,
        facilities,
        boundaries=study.boundaries,
        thresholds_m=cfg.thresholds_m,
        trail_width_m=cfg.trail_width_m,
        age_distance_m=cfg.age_distance_m,
    )


def _run_siting(results: StudyResults) -> None:
    from ordos_geo import siting

    study = results.study
    plan = dict(study.config.siting_plan)
    # school opening has no count: its size is the fewest venues reaching the plan's open share
    if plan.pop(siting.SCHOOL_OPENING, 1) > 0:
        _run_school_opening(results)
    if plan.get("sports_health_centre", 0) > 0 and "population_60plus" not in results.accessibility.cells:
        logger.warning(
            "siting: no residents aged 60+ (give the boundaries a share_60plus column); "
            "sports-health centres are not sited"
        )
        plan["sports_health_centre"] = 0
    if not any(count > 0 for count in plan.values()):
        return
    candidates = None
    if study.config.candidates is not None:
        candidates = siting.candidates_from_file(
            io.read_candidates(study.config.candidates, layer=study.config.layers.get("candidates")).to_crs(
                study.network.crs
            )
        )
    osm_features = None
    if candidates is None and study.config.candidate_land is not None:
        # OSM land polygons fetched beside a GraphML network (`ordos-geo fetch`)
        osm_features = io.read_vector(study.config.candidate_land, what="candidate land").to_crs(study.network.crs)
    elif candidates is None and not study.config.network.name.lower().endswith(".graphml"):
        osm_features = io.read_osm_features(study.config.network, siting.CANDIDATE_OSM_TAGS)
        osm_features = osm_features.to_crs(study.network.crs)
    plan = {k: v for k, v in plan.items() if v > 0}
    while plan:
        try:
            results.siting = siting.plan_sites(
                study.network,
                results.accessibility.cells,
                study.facilities,
                candidates=candidates,
                osm_features=osm_features,
                underserved=results.accessibility.underserved,
                plan=plan,
                rules=siting_rules(study.config),
                method=study.config.siting_method,
                budget=study.config.siting_budget,
                thresholds_m=study.config.thresholds_m,
                max_snap_distance_m=study.config.max_snap_distance_m,
                cells_snapped=results.accessibility.cells_snapped,
            )
            return
        except (InfeasibleError, SolverError) as error:
            part = getattr(error, "part", None)
            if part in plan and len(plan) > 1:
                _skip(results, "siting", part, error)  # plan the other types without it
                del plan[part]
                continue
            _skip(results, "siting", "+".join(plan), error)
            return


def siting_rules(config: StudyConfig) -> Mapping[str, Any]:
    """The siting rules of a study: the defaults with the study's keys applied.

    ``[siting] min_land_area_m2`` per type; ``[accessibility] age_distance_m``
    as the sports-health centre's service distance; with ``[siting] objective =
    "winter"`` a fitness centre counts only residents with no indoor venue of
    ``[accessibility] winter_kinds`` within its 1,000 m (its coverage is locked
    by every indoor venue, not only by fitness centres and gymnasiums).

    Parameters
    ----------
    config : StudyConfig

    Returns
    -------
    mapping of str to ordos_geo.siting.SitingRule
    """
    from ordos_geo import siting

    rules = dict(siting.DEFAULT_RULES)
    for site_type, area in config.siting_min_land_area_m2.items():
        rules[site_type] = dataclasses.replace(rules[site_type], min_land_area_m2=area)
    rules["sports_health_centre"] = dataclasses.replace(
        rules["sports_health_centre"], service_distance_m=config.age_distance_m
    )
    if config.siting_objective == "winter":
        # new fitness centres serve residents with no indoor venue within reach in winter
        rules["fitness_centre"] = dataclasses.replace(rules["fitness_centre"], locked_kinds=config.winter_kinds)
    return rules


def _run_school_opening(results: StudyResults) -> None:
    from ordos_geo import siting
    from ordos_geo.settings import PLAN_TARGETS

    study = results.study
    schools = study.facilities[study.facilities["kind"] == "school_venue"]
    if schools.empty or schools["open_to_public"].isna().any() or schools["open_to_public"].astype(bool).all():
        # nothing to open, or whether schools open is unknown (OSM schools): no plan on a guess
        return
    target = next(t.target for t in PLAN_TARGETS if t.key == "open_school_share")
    results.school_opening = siting.plan_school_opening(
        study.network,
        results.accessibility.cells,
        study.facilities,
        target_share=target,
        distance_column="dist_m_evenings",
        thresholds_m=study.config.thresholds_m,
        method=study.config.siting_method,
        language=study.config.language,
        max_snap_distance_m=study.config.max_snap_distance_m,
        cells_snapped=results.accessibility.cells_snapped,
    )
    results.summary["school_opening"] = results.school_opening.districts.to_dict("records")


def _run_trails(results: StudyResults) -> None:
    from ordos_geo import trails

    study = results.study
    cfg = study.config
    acc = results.accessibility
    green_land = None
    if not cfg.network.name.lower().endswith(".graphml"):
        # Trails prefer paths through parks and green land read from the same extract.
        green_land = io.read_osm_features(cfg.network, GREEN_LAND_TAGS)
        green_land = green_land[green_land.geom_type.isin(["Polygon", "MultiPolygon"])]
    forbidden = study.trail_exclusions
    try:
        results.trail_plan = trails.plan_trails(
            study.network,
            acc.cells,
            green_land=green_land if green_land is not None and len(green_land) else None,
            forbidden_edges=forbidden,
            max_snap_distance_m=cfg.max_snap_distance_m,
            options=trails.TrailOptions.from_config(cfg),
            cells_snapped=acc.cells_snapped,
        )
    except (InfeasibleError, SolverError) as error:
        _skip(results, "trails", "trail plan", error)
        return
    if results.trail_plan.trails.empty:
        _skip(
            results,
            "trails",
            "trail plan",
            "no trail was planned: no underserved resident can be reached by a "
            "trail within the budget; nothing to do, or raise [trails] budget_m / reach_m",
        )
    results.trail_plan_report = trails.trail_report(results.trail_plan, acc.cells, neighbourhoods=acc.underserved)
    if study.proposed_trails is not None:
        results.trail_check = trails.check_trails(
            study.network,
            acc.cells,
            study.proposed_trails,
            reach_m=cfg.trail_reach_m,
            neighbourhoods=acc.underserved,
            width_m=cfg.trail_width_m,
            prize_model=results.trail_plan.prize_model,
        )


def planned_facilities(results: StudyResults) -> gpd.GeoDataFrame:
    """The study's existing facilities plus the chosen new sites, opened school venues and planned trails.

    Parameters
    ----------
    results : StudyResults
        After the siting and/or trails stages.

    Returns
    -------
    geopandas.GeoDataFrame
        Facilities schema, in the network CRS.
    """
    study = results.study
    existing = study.facilities
    if results.school_opening is not None and not results.school_opening.opened.empty:
        opened = existing["facility_id"].isin(set(results.school_opening.opened["facility_id"]))
        existing = existing.copy()
        existing.loc[opened, "open_to_public"] = True
        existing.loc[opened, "public_access"] = "after_school"
    frames = [existing]
    if results.siting is not None and not results.siting.new_facilities.empty:
        frames.append(results.siting.new_facilities.to_crs(study.network.crs))
    if results.trail_plan is not None and not results.trail_plan.trails.empty:
        frames.append(results.trail_plan.as_facilities().to_crs(study.network.crs))
    combined = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(combined, geometry="geometry", crs=study.network.crs)


def _run_after_plan(results: StudyResults, map_parts: Callable | None) -> None:
    """Recompute accessibility and indicators with the planned sites and trails added."""
    study = results.study
    after = assign_districts(planned_facilities(results), study.boundaries)
    results.facilities_after = after
    previous = results.accessibility
    if previous.cells_snapped is not None and previous.catchment_pairs is not None:
        # the same cells on the same network: search only from the new sites, trails and opened venues
        results.accessibility_after = update_accessibility(study, previous, after)
    else:  # split by district: no snaps kept
        results.accessibility_after = compute_accessibility(study, facilities=after, map_parts=map_parts)
    results.indicators_after = study_indicators(study, results.accessibility_after.cells, after)
    new_counts = _new_counts(results)
    results.scorecard_after = indicators.scorecard(
        results.indicators_after, after, new_counts=new_counts, planner_values=study.planner_targets
    )
    results.before_after = before_after_table(results.indicators, results.indicators_after)
    trails = None
    if results.trail_plan is not None and not results.trail_plan.trails.empty:
        trails = assign_districts(results.trail_plan.as_facilities().to_crs(study.network.crs), study.boundaries)
    levers = indicators.lever_areas(
        study.facilities,
        sites=results.siting.chosen if results.siting is not None else None,
        trails=trails,
        trail_width_m=study.config.trail_width_m,
        opened=results.school_opening.opened["facility_id"].tolist() if results.school_opening is not None else (),
    )
    results.area_gap = indicators.area_gap(results.indicators, levers)


def _new_counts(results: StudyResults) -> dict[str, float]:
    counts: dict[str, float] = {}
    if results.siting is not None:
        kinds = results.siting.new_facilities["kind"].value_counts()
        counts["new_sports_parks"] = float(kinds.get("sports_park", 0))
        counts["new_fitness_centres"] = float(kinds.get("fitness_centre", 0))
        counts["new_multi_sport_courts"] = float(kinds.get("multi_sport_court", 0))
    if results.trail_plan is not None:
        counts["new_fitness_trails_km"] = float(results.trail_plan.trails["length_m"].sum() / 1000.0)
    return counts


def before_after_table(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side indicators before and after the plan, one row per district and figure.

    Parameters
    ----------
    before, after : pandas.DataFrame
        Outputs of :func:`ordos_geo.indicators.compute_indicators`.

    Returns
    -------
    pandas.DataFrame
        ``district``, ``indicator``, ``before``, ``after``, ``change``.
    """
    figures = [c for c in before.columns if c == "per_capita_area_m2" or c.startswith("share_") or c == "venue_area_m2"]
    b = before.set_index("district")[figures]
    a = after.set_index("district")[figures].reindex(b.index)
    long_b = b.stack(future_stack=True).rename("before")
    long_a = a.stack(future_stack=True).rename("after")
    table = pd.concat([long_b, long_a], axis=1).reset_index()
    table.columns = ["district", "indicator", "before", "after"]
    table["change"] = table["after"] - table["before"]
    return table


def _write_accessibility(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    acc = results.accessibility
    return {
        "accessibility": io.write_geopackage(
            {"cells": acc.cells, "underserved": acc.underserved}, table_dir / "accessibility.gpkg"
        ),
        "indicators": io.write_csv(results.indicators, table_dir / "indicators.csv"),
        "scorecard": io.write_csv(results.scorecard, table_dir / "scorecard.csv"),
    }


def _write_siting(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if results.siting is not None:
        for site_type, ranked in results.siting.ranked.items():
            written[f"sites_{site_type}"] = io.write_csv(
                pd.DataFrame(ranked.drop(columns="geometry")), table_dir / f"sites_{site_type}.csv"
            )
    opening = results.school_opening
    if opening is not None:
        written["school_opening"] = io.write_csv(
            pd.DataFrame(opening.ranked.drop(columns="geometry")), table_dir / "school_opening.csv"
        )
        written["school_opening_districts"] = io.write_csv(
            opening.districts, table_dir / "school_opening_districts.csv"
        )
    layers = {}
    if results.siting is not None:
        layers["sites"] = results.siting.chosen
    if opening is not None:
        layers["school_opening"] = opening.ranked
    if layers:
        written["sites"] = io.write_geopackage(layers, table_dir / "sites.gpkg")
    gaps = [r.gaps for r in (results.siting, opening) if r is not None and not r.gaps.empty]
    if gaps:
        written["siting_gaps"] = io.write_csv(pd.concat(gaps, ignore_index=True), table_dir / "siting_gaps.csv")
    return written


def _write_trails(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    if results.trail_plan is None:
        return {}
    layers = {"planned": results.trail_plan.trails}
    assert results.trail_plan_report is not None  # set with the plan
    report = results.trail_plan_report.assign(trails="planned")
    if results.trail_check is not None:
        layers["checked"] = results.trail_check.matched
        layers["checked_lines"] = results.trail_check.lines  # per drawn line: loop or not, breaks, spurs
        if not results.trail_check.off_network.empty:
            layers["off_network"] = results.trail_check.off_network
        report = pd.concat([report, results.trail_check.report.assign(trails="checked")], ignore_index=True)
    return {
        "trails": io.write_geopackage(layers, table_dir / "trails.gpkg"),
        "trail_report": io.write_csv(report, table_dir / "trail_report.csv"),
    }


def _write_after_plan(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    if results.before_after is None:
        return {}
    written = {
        "before_after": io.write_csv(results.before_after, table_dir / "before_after.csv"),
        "scorecard_after": io.write_csv(results.scorecard_after, table_dir / "scorecard_after.csv"),
    }
    if results.area_gap is not None:
        written["area_gap"] = io.write_csv(results.area_gap, table_dir / "area_gap.csv")
    return written


def _write_maps(results: StudyResults, table_dir: Path, map_dir: Path) -> dict[str, Path]:
    """The maps, index page and report; a map that cannot be drawn is skipped (recorded), not fatal."""
    from ordos_geo import maps, report

    study = results.study
    acc = results.accessibility
    cfg = study.config
    language = _labels.check_language(cfg.language, where="maps")
    style = maps.MapStyle(
        language=language,
        synthetic=cfg.synthetic,
        walk_speed_kmh=cfg.walk_speed_kmh,
        sources=_labels.text(language)["sample_sources"] if cfg.synthetic else None,  # the sample's own caption
    )
    written: dict[str, Path] = {}
    pages: dict[str, str] = {}
    opening = results.school_opening

    def page(key: str, name: str, draw: Any) -> None:
        try:
            figure = draw()
        except OrdosGeoError as error:
            _skip(results, "maps", name, error)
            return
        written[key] = io.write_text(maps.render_html(figure), map_dir / name)
        pages[name.removesuffix(".html")] = name

    page(
        "coverage_map",
        "coverage.html",
        lambda: maps.coverage_map(
            acc.cells,
            study.facilities,
            boundaries=study.boundaries,
            service_areas=acc.service_areas,
            underserved=acc.underserved,
            style=style,
        ),
    )
    if results.siting is not None or opening is not None:
        page(
            "sites_map",
            "sites.html",
            lambda: maps.sites_map(
                results.siting.ranked if results.siting is not None else {},
                results.siting.chosen if results.siting is not None else None,
                acc.cells,
                results.accessibility_after.cells if results.accessibility_after is not None else None,
                boundaries=study.boundaries,
                school_opening=opening.ranked if opening is not None else None,
                style=style,
            ),
        )
    check = results.trail_check
    if results.trail_plan is not None:
        if results.trail_plan.trails.empty and (check is None or check.lines.empty):
            _skip(
                results,
                "maps",
                "trails.html",
                "no trail was planned or checked, so there is nothing to map; "
                "add proposed_trails to check, or see the trails entry of 'skipped' for why none was planned",
            )
        else:
            page(
                "trails_map",
                "trails.html",
                lambda: maps.trails_map(
                    results.trail_plan.trails,
                    check.lines if check is not None else None,
                    underserved=_reached_neighbourhoods(results),
                    off_network=check.off_network if check is not None else None,
                    boundaries=study.boundaries,
                    reach_m=cfg.trail_reach_m,
                    style=style,
                ),
            )
    scorecard = results.scorecard_after if results.scorecard_after is not None else results.scorecard
    pages.update(report="report.html", report_docx="report.docx", tables="tables.xlsx")
    notes = [*study.warnings, *(f"{s['stage']}: skipped {s['part']}: {s['reason']}" for s in results.skipped)]
    built = report.build_report(
        results.scorecard,
        results.indicators,
        scorecard_after=results.scorecard_after,
        indicators_after=results.indicators_after,
        area_gap=results.area_gap,
        cells=acc.cells,
        cells_after=results.accessibility_after.cells if results.accessibility_after is not None else None,
        sites=results.siting.chosen if results.siting is not None else None,
        trails=results.trail_plan.trails if results.trail_plan is not None else None,
        before_after=results.before_after,
        extra_tables=_report_tables(results),
        language=language,
        synthetic=cfg.synthetic,
        walk_speed_kmh=cfg.walk_speed_kmh,
        notes=notes,
    )
    written["index"] = io.write_text(
        maps.index_page(pages, scorecard, language=language, synthetic=cfg.synthetic), map_dir / "index.html"
    )
    written["report"] = io.write_text(built.html, map_dir / "report.html")
    written["report_md"] = io.write_text(built.markdown, map_dir / "report.md")
    written["report_docx"] = io.write_bytes(report.to_docx(built), map_dir / "report.docx")
    sheets, formats = report.workbook_sheets(_workbook_tables(results, built), cfg.language)
    written["tables_xlsx"] = io.write_excel(sheets, map_dir / "tables.xlsx", number_formats=formats)
    for name, png in built.charts.items():
        io.write_bytes(png, map_dir / "charts" / name)
    return written


#: The writer of each stage's group of files, in data-flow order.
_GROUPS: dict[str, Any] = {
    "accessibility": _write_accessibility,
    "siting": _write_siting,
    "trails": _write_trails,
    "after_plan": _write_after_plan,
    "maps": _write_maps,
}
#: The fixed file names of each group (``sites_<type>.csv`` follow the siting plan).
_GROUP_FILES: dict[str, list[str]] = {
    "accessibility": ["accessibility.gpkg", "indicators.csv", "scorecard.csv"],
    "siting": ["sites.gpkg", "siting_gaps.csv"],
    "trails": ["trails.gpkg", "trail_report.csv"],
    "after_plan": ["before_after.csv", "scorecard_after.csv", "area_gap.csv"],
    "maps": [
        "coverage.html",
        "sites.html",
        "trails.html",
        "index.html",
        "report.html",
        "report.md",
        "report.docx",
        "tables.xlsx",
    ],
}


def _workbook_tables(results: StudyResults, built: Any) -> dict[str, pd.DataFrame]:
    """The workbook's tables: the report's, with every indicator column and every ranked site."""
    tables = dict(built.tables)
    tables["indicators"] = results.indicators
    tables.pop("sites", None)
    if results.siting is not None:
        ranked = [pd.DataFrame(frame.drop(columns="geometry")) for frame in results.siting.ranked.values()]
        tables["sites"] = pd.concat(ranked, ignore_index=True)
    return tables


def _older_residents_key(study: Study) -> str:
    """Heading key of the 60+ section: residents split by census shares, or read from a 60+ grid."""
    return "older_residents_grid" if study.population_input.get("population_60plus") else "older_residents"


def _report_tables(results: StudyResults) -> dict[str, pd.DataFrame]:
    """The report's further sections, by heading key of :func:`ordos_geo.report.build_report`."""
    tables: dict[str, pd.DataFrame] = {}
    table = results.indicators
    assert table is not None  # the report is written after the accessibility stage
    shares = [c for c in table.columns if c.startswith("share_within_") and c.count("_") >= 2]
    scenario = [c for c in shares if c.endswith(("_evenings", "_winter"))]
    if scenario:
        tiers = [c for c in shares if c.endswith("m")]
        ordered = [c for t in tiers for c in (t, f"{t}_evenings", f"{t}_winter") if c in table.columns]
        tables["scenarios"] = table[["district", *ordered]]
    older = [c for c in table.columns if c.startswith("share_60plus_within_")]
    if older:
        tables[_older_residents_key(results.study)] = table[["district", "population_60plus", *older]]
    if results.study.planner_targets is not None:
        entered = indicators.planner_scorecard(results.study.planner_targets, results.indicators)
        tables["planner_targets"] = entered[["district", "key", "description", "target", "value", "unit", "met", "gap"]]
    opening = results.school_opening
    if opening is not None:
        tables["school_opening_districts"] = opening.districts
        # names stay in the CSV; the report shows ids, so a zh report holds no English names
        columns = ["rank", "facility_id", "district", "in_plan", "newly_covered_in_plan"]
        columns += [c for c in opening.ranked.columns if c.startswith("newly_within_")]
        columns += ["area_m2", "reason"]
        tables["school_opening"] = pd.DataFrame(opening.ranked[columns])
    return tables


def _reached_neighbourhoods(results: StudyResults) -> gpd.GeoDataFrame:
    """Underserved neighbourhoods with a ``reached`` flag from the planned trails' report."""
    underserved = results.accessibility.underserved.copy()
    report = results.trail_plan_report
    assert report is not None  # called only with a trail plan
    if "neighbourhood_id" in report.columns and "reached_after" in report.columns:
        reached = report.dropna(subset=["neighbourhood_id"]).set_index("neighbourhood_id")["reached_after"]
        underserved["reached"] = underserved["neighbourhood_id"].map(reached).fillna(0) > 0
    return underserved
