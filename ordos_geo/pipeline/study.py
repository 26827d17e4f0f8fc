"""The study: its inputs read, checked and joined (network, cells, venues, districts), and its results."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ordos_geo import _labels, indicators, io, settings
from ordos_geo._errors import InputDataError, NetworkDataError
from ordos_geo._xy import xy_bounds
from ordos_geo.config import StudyConfig, sample_config
from ordos_geo.network import WalkNetwork, load_walk_network
from ordos_geo.routing import points_near_network
from ordos_geo.sample.facts import DISTRICTS as ORDOS_UNITS

logger = logging.getLogger(__name__)


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
    cell_districts : ordos_geo.indicators.CellDistricts
        The cells grouped by district (:func:`ordos_geo.indicators.cell_districts`),
        on first use: every indicators table of the study (today, after the
        plan, what-if changes) reuses them; assigning other cells groups those.

    Examples
    --------
    >>> study = load_study()  # the embedded sample  # doctest: +SKIP
    >>> study.network.crs.to_string(), len(study.cells), len(study.facilities), study.whole_city  # doctest: +SKIP
    ('EPSG:4546', 6886, 272, False)
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

    @property
    def cell_districts(self) -> indicators.CellDistricts:
        """The cells grouped by district, once for the study's cells (again if another table is assigned).

        Kept with the table it was made from, so ``study.cells = other``
        groups ``other``; editing the districts of the same table in place
        is not seen (assign a new table instead).
        """
        kept = self.__dict__.get("_cell_districts")
        if kept is None or kept[0] is not self.cells:
            kept = (self.cells, indicators.cell_districts(self.cells))
            self.__dict__["_cell_districts"] = kept
        return kept[1]

    @property
    def whole_city(self) -> bool:
        """Whether the study covers all of Ordos, so its total row is the city (全市).

        True when the boundaries hold the nine banners and districts, each with residents in the
        study; else the total is the study area (研究区合计), as for the sample (parts of two).
        """
        if self.boundaries is None or "district" not in self.cells.columns:
            return False
        codes = {unit.adcode for unit in ORDOS_UNITS if unit.level == "district"}
        present = self.boundaries[self.boundaries["adcode"].isin(list(codes))]
        if set(present["adcode"]) != codes:
            return False
        people = self.cells.groupby("district")["population"].sum()
        return bool((people.reindex(present["name_en"].astype(str)).fillna(0) > 0).all())


@dataclass(eq=False)
class StudyResults:
    """What :func:`run_study` computed and where it wrote it.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> results = pipeline.run_study(stages=("accessibility",))  # the sample  # doctest: +SKIP
    >>> results.study.config.name, len(results.accessibility.cells), results.siting  # doctest: +SKIP
    ('ordos_sample', 6886, None)
    """

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

    Examples
    --------
    >>> districts = gpd.GeoDataFrame({"name_en": ["Kangbashi", "Dongsheng"], "level": ["district", "district"]},
    ...                              geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4546)
    >>> boxes = [shapely.box(1, 1, 2, 2), shapely.box(15, 5, 16, 6), shapely.box(30, 0, 31, 1)]
    >>> cells = gpd.GeoDataFrame(geometry=boxes, crs=4546)
    >>> assign_districts(cells, districts)["district"].tolist()
    ['Kangbashi', 'Dongsheng', None]
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
    current = out["district"]
    missing = current.isna().to_numpy(copy=True)
    if not missing.all():
        missing |= (current.astype(str).str.strip() == "").to_numpy()
    # only the features without a district are located (after the plan: the new sites and trails)
    points = shapely.point_on_surface(out.geometry.to_numpy()[missing]) if points is None else points[missing]
    district = current.to_numpy(dtype=object, copy=True)
    district[missing] = _district_of(shapely.get_coordinates(points), districts)
    out["district"] = pd.Series(district, index=out.index, dtype=object).where(lambda d: d.notna(), None)
    return out


def _district_of(xy: np.ndarray, districts: gpd.GeoDataFrame) -> np.ndarray:
    """``name_en`` of the first district holding each point strictly inside (``None`` outside every district).

    Point in polygon on the prepared district polygons (:func:`shapely.contains_xy`), the points
    inside each district's bounding box only: the same answer as a spatial join ``within``.
    """
    located = np.full(len(xy), None, dtype=object)
    open_ = np.ones(len(xy), dtype=bool)
    for name, polygon in zip(districts["name_en"].to_numpy(), districts.geometry.to_numpy(), strict=True):
        if polygon is None or shapely.is_empty(polygon):
            continue
        x0, y0, x1, y1 = shapely.bounds(polygon)
        candidate = np.flatnonzero(open_ & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
        shapely.prepare(polygon)
        inside = candidate[shapely.contains_xy(polygon, xy[candidate, 0], xy[candidate, 1])]
        located[inside] = name
        open_[inside] = False
    return located


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

    Examples
    --------
    >>> districts = pd.DataFrame({"name_en": ["Dongsheng", "Kangbashi"], "share_60plus": [0.1158, 0.0878]})
    >>> cells = gpd.GeoDataFrame({"population": [1000.0, 500.0], "district": ["Dongsheng", "Kangbashi"]})
    >>> split_population_60plus(cells, districts)["population_60plus"].round(1).tolist()
    [115.8, 43.9]
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

    Examples
    --------
    >>> study = load_study()  # the embedded sample; or load_study("study.toml")  # doctest: +SKIP
    >>> people = study.cells.groupby("district")["population"].sum()  # doctest: +SKIP
    >>> people.round().to_dict()  # doctest: +SKIP
    {'Dongsheng': 172273.0, 'Kangbashi': 35639.0}
    """
    config = as_study_config(config)
    config.check_inputs_exist()

    layers = config.layers
    boundaries = (
        io.read_boundaries(
            config.boundaries, layer=layers.get("boundaries"), coordinate_system=config.boundaries_coordinates
        )
        if config.boundaries is not None
        else None
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
    if config.proposed_trails is not None and proposed_trails is not None:  # lines with a length and one id each
        from ordos_geo import trails

        trails.check_drawn_trails(proposed_trails, name=config.proposed_trails.name)
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
    population_input |= {k: v for k, v in cells.attrs.items() if k not in ("population_form", io.RASTER_WIDTH)}
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
            facilities,
            boundaries.geometry.union_all(),
            "boundaries",
            config,
            notes,
            tolerance_m=settings.FACILITY_BOUNDARY_TOLERANCE_M,
        )
    else:
        # Without boundaries the network's extent is the study area: a venue farther than the distance cap
        # from it (another city) would count in per-capita area without serving anyone in the study.
        hull = shapely.convex_hull(shapely.multipoints(network.edge_coords))
        facilities = _leave_out_outside(
            facilities, shapely.buffer(hull, config.max_distance_m), "network", config, notes
        )
    if boundaries is not None:
        cells = assign_districts(cells, boundaries, points=points)
        facilities = _nearest_district_nearby(assign_districts(facilities, boundaries), boundaries, config, notes)
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
    note = _labels.Note(
        "off_network",
        share=f"{off:.1%}",
        n_off=f"{n_off:,}",
        n_cells=f"{len(cells):,}",
        snap=f"{snap:g}",
        network=config.network.name,
    )
    _note(notes, note)


def _near_network(network: WalkNetwork, points: np.ndarray, distance: float) -> np.ndarray:
    """Which points lie within ``distance`` of a street of ``network`` (metres, the network's CRS).

    A point that near a node with an edge is near that edge. A point sharing a
    square of side ``distance / sqrt(2)`` with such a node is that near: marking
    the nodes' squares settles almost every point of a city at once; a k-d tree
    of the nodes around the others finds their nearest node, and only the
    points left are measured against the edges' lines.
    """
    adjacency = network.adjacency
    on_edge = (np.diff(adjacency.indptr) > 0) | (np.bincount(adjacency.indices, minlength=adjacency.shape[0]) > 0)
    xy = shapely.get_coordinates(points)
    near = np.zeros(len(points), dtype=bool)
    node_xy = network.node_xy[on_edge]
    if len(node_xy) and len(xy):
        side = distance / np.sqrt(2.0) * (1.0 - 1e-9)  # a square's diagonal stays within the distance
        origin = np.minimum(xy_bounds(node_xy)[0], xy_bounds(xy)[0]) - 2 * side  # two squares of margin
        node_sq = np.floor((node_xy - origin) / side).astype(np.int64)
        point_sq = np.floor((xy - origin) / side).astype(np.int64)
        n_cols, n_rows = (np.maximum(xy_bounds(node_sq)[1], xy_bounds(point_sq)[1]) + 3).tolist()
        node_key = node_sq[:, 0] * n_rows + node_sq[:, 1]
        occupied = np.zeros(n_cols * n_rows, dtype=bool)
        occupied[node_key] = True
        near = occupied[point_sq[:, 0] * n_rows + point_sq[:, 1]]
        rest = np.flatnonzero(~near)
        if len(rest):
            # the nodes of the squares within two squares (more than the distance) of a point still open
            around = np.zeros(n_cols * n_rows, dtype=bool)
            for dx in range(-2, 3):
                for dy in range(-2, 3):
                    around[(point_sq[rest, 0] + dx) * n_rows + point_sq[rest, 1] + dy] = True
            nodes = node_xy[around[node_key]]
            if len(nodes):
                to_node = cKDTree(nodes).query(xy[rest], distance_upper_bound=distance * 1.001 + 1e-6)[0]
                near[rest] = to_node <= distance
    rest = np.flatnonzero(~near)
    if len(rest) and network.n_edges:
        # the straight pieces of the edges, in the routing grid (shared with snapping): no LineString is built
        near[rest] = points_near_network(network, xy[rest], max_distance_m=distance)
    return near


#: What a facility is outside of: the study area's boundaries, or the walk network's extent.
_OUTSIDE = {"boundaries": "outside the study area (boundaries)", "network": "outside the walk network's extent"}


def _leave_out_outside(
    facilities: gpd.GeoDataFrame,
    area: Any,
    outside: str,
    config: StudyConfig,
    notes: list[str],
    *,
    tolerance_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Drop facilities farther than ``tolerance_m`` outside ``area`` with a warning naming them.

    ``outside`` is a key of :data:`_OUTSIDE`. Refuse when none is left.
    """
    geometry = facilities.geometry.to_numpy()
    inside = shapely.dwithin(geometry, area, tolerance_m) if tolerance_m > 0 else shapely.intersects(geometry, area)
    if inside.all():
        return facilities
    names = facilities.get("name", facilities["facility_id"]).where(lambda v: v.notna(), facilities["facility_id"])
    listed = ", ".join(str(v) for v in names[~inside].head(5))
    n_out = int((~inside).sum())
    more = _labels.Note("and_more", n=n_out - 5) if n_out > 5 else ""
    files = ", ".join(s.path.name for s in config.facilities)
    if not inside.any():
        msg = (
            f"{files}: every facility is {_OUTSIDE[outside]} ({listed}{more}); check the coordinates and their datum "
            "(--facilities-coordinates: wgs84, gcj02 for Amap, bd09 for Baidu) and that longitude and latitude "
            "are not swapped"
        )
        raise InputDataError(msg)
    _note(notes, _labels.Note(f"left_out_outside_{outside}", files=files, n=n_out, listed=listed, more=more))
    return facilities.loc[inside].reset_index(drop=True)


def nearest_district_within(
    gdf: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, *, max_distance_m: float
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Give the features without a ``district`` the nearest district within ``max_distance_m``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Features with a ``district`` column (from :func:`assign_districts`), in the CRS of ``boundaries``.
    boundaries : geopandas.GeoDataFrame
        Boundaries with ``name_en`` (and ``level``: only ``"district"`` rows are used).
    max_distance_m : float
        Farthest a feature may lie outside its district (CRS units, metres).

    Returns
    -------
    features : geopandas.GeoDataFrame
        ``gdf`` itself when none was near, otherwise a copy with those districts filled.
    rows : numpy.ndarray
        Positions of the features given a district.
    distance_m : numpy.ndarray
        How far outside it each of them lies.

    Examples
    --------
    >>> venues = assign_districts(venues, study.boundaries)  # doctest: +SKIP
    >>> venues, moved, metres = nearest_district_within(venues, study.boundaries, max_distance_m=200)  # doctest: +SKIP
    """
    districts = boundaries[boundaries["level"] == "district"] if "level" in boundaries.columns else boundaries
    without = np.flatnonzero(gdf["district"].isna().to_numpy())
    if not without.size or districts.empty:
        return gdf, np.empty(0, dtype=np.int64), np.empty(0)
    tree = shapely.STRtree(districts.geometry.to_numpy())
    (which, nearest), distance = tree.query_nearest(
        gdf.geometry.to_numpy()[without], max_distance=max_distance_m, return_distance=True, all_matches=False
    )
    if not which.size:
        return gdf, np.empty(0, dtype=np.int64), np.empty(0)
    rows = without[which]
    out = gdf.copy()
    out.loc[out.index[rows], "district"] = districts["name_en"].to_numpy()[nearest]
    return out, rows, distance


def _nearest_district_nearby(
    facilities: gpd.GeoDataFrame, boundaries: gpd.GeoDataFrame, config: StudyConfig, notes: list[str]
) -> gpd.GeoDataFrame:
    """Give facilities outside every district, but within the tolerance of one, their nearest district.

    ``settings.FACILITY_BOUNDARY_TOLERANCE_M`` (metres, the network's CRS): a venue across the
    street from the county line serves that county's residents. One warning names them.
    """
    tolerance = settings.FACILITY_BOUNDARY_TOLERANCE_M
    out, rows, distance = nearest_district_within(facilities, boundaries, max_distance_m=tolerance)
    if not rows.size:
        return facilities
    names = out["name"].where(out["name"].astype(bool), out["facility_id"]).to_numpy()[rows]
    listed = ", ".join(f"{name} ({d:.0f} m)" for name, d in zip(names[:5], distance[:5], strict=False))
    note = _labels.Note(
        "near_boundary",
        files=", ".join(s.path.name for s in config.facilities),
        n=rows.size,
        tolerance=f"{tolerance:g}",
        listed=listed,
        more=_labels.Note("and_more", n=rows.size - 5) if rows.size > 5 else "",
    )
    _note(notes, note)
    return out


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


def study_summary(study: Study) -> dict[str, Any]:
    """Counts of nodes, edges, cells, people, facilities by kind and by district.

    Examples
    --------
    >>> summary = study_summary(load_study())  # doctest: +SKIP
    >>> summary["cells"], summary["population_by_district"]  # doctest: +SKIP
    (6886, {'Dongsheng': 172273.0, 'Kangbashi': 35639.0})
    """
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


def as_study_config(config: StudyConfig | str | Path | None) -> StudyConfig:
    """A study configuration from a config, a TOML path, or ``None`` for the embedded sample."""
    if config is None:
        return sample_config()
    if isinstance(config, StudyConfig):
        return config
    return StudyConfig.from_toml(config)
