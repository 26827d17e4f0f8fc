"""Check proposed trails: match drawn lines to the walk network and report whom they reach.

A proposed line is sampled every :data:`CHECK_SAMPLE_SPACING_M` metres; parts far
from every street are reported as off-network, streets the line follows are
matched, and the population reached uses the same reach rule as the planner
(:mod:`ordos_geo.trails.prize`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import _labels, settings
from ordos_geo._errors import InputDataError
from ordos_geo.io import find_name_column, trail_labels
from ordos_geo.network import WalkNetwork
from ordos_geo.trails.prize import TrailPrizeModel, build_prize_model
from ordos_geo.trails.report import _report_table
from ordos_geo.trails.shape import _components, _shape_row, _trail_is_loop

__all__ = ["CHECK_SAMPLE_SPACING_M", "TrailCheck", "check_drawn_trails", "check_trails"]

logger = logging.getLogger(__name__)

#: Spacing of the sample points a proposed line is cut into for snapping (metres).
CHECK_SAMPLE_SPACING_M: float = 20.0


@dataclass(eq=False)
class TrailCheck:
    """The check of proposed trail lines against the network.

    Attributes
    ----------
    report : pandas.DataFrame
        One row per underserved neighbourhood, per district and a total row
        (see :func:`trail_report`).
    lines : geopandas.GeoDataFrame
        One row per proposed line: ``trail_id`` and ``name`` as the input gives
        them (:func:`ordos_geo.io.trail_labels`: ids 1, 2, ... when it has none,
        no ``name`` when it has none), ``length_m`` (drawn),
        ``matched_length_m``, ``off_network_length_m``, ``credited_length_m``
        (drawn length less the part off the network), ``n_pieces`` (connected
        pieces of matched network), ``population_reached``, ``is_loop`` (the
        matched streets hold a circuit), the :data:`SHAPE_COLUMNS` of the
        matched streets (``closed_line``, ``n_breaks`` = pieces - 1,
        ``n_spurs`` and ``spur_length_m`` of dead-end spurs,
        ``walked_twice_m``, ``major_road_crossings`` of primary/secondary
        streets by the drawn line), geometry (as drawn, in the network CRS).
    matched : geopandas.GeoDataFrame
        Matched street segments: ``trail_id``, ``segment``, ``edge`` (index into
        ``network.edges``), ``piece`` (connected piece id), ``length_m``, geometry.
    off_network : geopandas.GeoDataFrame
        Parts of the proposed lines farther than ``max_snap_distance_m`` from
        every street: ``trail_id``, ``length_m``, geometry.
    segment_ids : numpy.ndarray
        Matched segment ids of :attr:`prize_model`.
    population_reached_before, population_reached_after : float
        Underserved residents reached before (existing trails) and after.
    total_length_m : float
        Credited length of all proposed lines: drawn length less the parts
        off the network (those add no trail area).
    width_m : float
        Trail width for the venue area (m).
    prize_model : TrailPrizeModel
        The reach model used (same rule as the planner).

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> boxes = [shapely.box(0.0, 0.0, 20.0, 20.0), shapely.box(180.0, 0.0, 200.0, 20.0)]
    >>> people = {"population": [50.0, 80.0], "dist_m_any": [400.0, 1500.0]}
    >>> cells = gpd.GeoDataFrame(people, geometry=boxes, crs=net.crs)
    >>> line = shapely.LineString([(100.0, 2.0), (200.0, 2.0)])
    >>> drawn = gpd.GeoDataFrame({"name": ["河滨步道"]}, geometry=[line], crs=net.crs)
    >>> check = check_trails(net, cells, drawn)  # along the second street, past the underserved cell
    >>> check.lines[["trail_id", "name", "matched_length_m", "population_reached"]]
       trail_id  name  matched_length_m  population_reached
    0         1  河滨步道             100.0                80.0
    """

    report: pd.DataFrame
    lines: gpd.GeoDataFrame
    matched: gpd.GeoDataFrame
    off_network: gpd.GeoDataFrame
    segment_ids: np.ndarray
    population_reached_before: float
    population_reached_after: float
    total_length_m: float
    width_m: float
    prize_model: TrailPrizeModel


def _sample_line(line: shapely.Geometry, spacing: float) -> np.ndarray:
    """Points every ``spacing`` metres along each part of a (Multi)LineString, ends included."""
    points = []
    for part in shapely.get_parts(line):
        n = max(math.ceil(part.length / spacing), 1)
        distances = np.linspace(0.0, part.length, n + 1)
        points.append(shapely.get_coordinates(shapely.line_interpolate_point(part, distances)))
    return np.concatenate(points) if points else np.zeros((0, 2))


def _trail_names(proposed: gpd.GeoDataFrame | gpd.GeoSeries) -> list[str]:
    """Each line's name or trail id (``""`` when it has none), for messages."""
    column = None
    if isinstance(proposed, gpd.GeoDataFrame):
        column = find_name_column(proposed.columns.drop(proposed.geometry.name), also=("trail_id",))
    if column is None:
        return [""] * len(proposed)
    return ["" if pd.isna(name) else str(name).strip() for name in proposed[column]]


def _trail(i: int, names: list[str], detail: str = "") -> _labels.Note:
    """``"proposed trail 3 (东区步道, 1,200 m)"``: the line at position ``i``, 1-based, with its name."""
    said = tuple(part for part in (names[i], detail) if part)
    named = _labels.Note("in_brackets", text=_labels.Note("list", items=said)) if said else ""
    return _labels.Note("proposed_trail", n=i + 1, named=named)


def _checked_lines(proposed: gpd.GeoDataFrame | gpd.GeoSeries, crs: object) -> tuple[np.ndarray, list[str]]:
    """The proposed lines in ``crs`` and their names; one line for no CRS, points or polygons, zero length.

    The checks a drawn-trails file passes at load (``pipeline.load_study``); here for lines given in Python.
    """
    if not isinstance(proposed, gpd.GeoDataFrame | gpd.GeoSeries) or len(proposed) == 0:
        raise InputDataError(_labels.Note("proposed_trails_empty"))
    if proposed.crs is None:
        raise InputDataError(_labels.Note("proposed_trails_no_crs"))
    lines_geom = proposed.to_crs(crs).geometry.to_numpy()
    kinds = shapely.get_type_id(lines_geom)
    bad = np.flatnonzero(~np.isin(kinds, [1, 5]))  # LineString, MultiLineString
    if bad.size:
        rows = ", ".join(map(str, (bad[:10] + 1).tolist()))
        raise InputDataError(_labels.Note("proposed_trails_not_lines", n=bad.size, rows=rows))
    names = _trail_names(proposed)
    zero = np.flatnonzero(shapely.length(lines_geom) == 0)
    if zero.size:
        raise InputDataError(_labels.Note("trail_no_length", trail=_trail(zero[0], names)))
    return lines_geom, names


def check_drawn_trails(proposed: gpd.GeoDataFrame | gpd.GeoSeries, *, name: str) -> None:
    """Refuse drawn trails no check can use, before any work: one line naming the file, the trail and the fix.

    The lines need a CRS, each a (Multi)LineString with a length, and each its own id
    (:func:`ordos_geo.io.trail_labels`). Whether they lie on the walk network is
    :func:`check_trails`' part.

    Parameters
    ----------
    proposed : geopandas.GeoDataFrame or geopandas.GeoSeries
        The drawn trails (:func:`ordos_geo.io.read_lines`).
    name : str
        Where they come from (the file name), said first in a message.

    Raises
    ------
    InputDataError

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> dot = gpd.GeoDataFrame({"name": ["gate"]}, geometry=[shapely.LineString([(0, 0), (0, 0)])], crs=4326)
    >>> check_drawn_trails(dot, name="drawn.geojson")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ordos_geo._errors.InputDataError: drawn.geojson: proposed trail 1 (gate) has no length: ...; draw it with ...
    """
    try:
        _checked_lines(proposed, proposed.crs)
    except InputDataError as error:
        raise InputDataError(_labels.Note("in_file", file=name, text=_labels.note_of(error))) from error
    if isinstance(proposed, gpd.GeoDataFrame):
        trail_labels(proposed, name=name)


def check_trails(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    proposed: gpd.GeoDataFrame,
    *,
    reach_m: float = settings.DEFAULT_TRAIL_REACH_M,
    max_snap_distance_m: float = 50.0,
    match_tolerance_m: float = 25.0,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    underserved_column: str | None = None,
    existing_reached_column: str = "existing_reached",
    width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    prize_model: TrailPrizeModel | None = None,
) -> TrailCheck:
    """Snap proposed trail lines to the network and report whom they reach.

    Each line is sampled every 20 m; samples farther than
    ``max_snap_distance_m`` from every street are off-network, and the exact
    off-network parts (the line outside a ``max_snap_distance_m`` buffer of the
    nearby streets) are reported with their length. A street segment is matched
    when at least half of its length lies within ``match_tolerance_m`` of the
    line; matched segments form connected pieces (more than one piece per line
    means the trail is broken on the network). Population reached uses the same
    reach rule as :func:`plan_trails`.

    Parameters
    ----------
    network : WalkNetwork
        Projected walk network.
    cells : geopandas.GeoDataFrame
        Population cells in ``network.crs`` (``population``, ``dist_m_any`` or
        ``underserved_column``, optionally ``district`` and a boolean
        ``existing_reached_column`` for residents existing trails already reach).
    proposed : geopandas.GeoDataFrame
        Proposed trail (Multi)LineStrings in any CRS (projected to ``network.crs``).
    reach_m : float
        Walk distance from a residence to a trail (metres).
    max_snap_distance_m : float
        Parts of the lines farther than this from the network are off-network.
    match_tolerance_m : float
        Distance within which a street counts as followed by the line.
    neighbourhoods : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``AccessibilityResult.underserved``:
        ``neighbourhood_id``, ``population``, ``district``, polygon geometry).
    underserved_column : str, optional
        Boolean column marking underserved cells.
    existing_reached_column : str
        Boolean column of ``cells`` marking residents existing trails reach;
        when absent, ``dist_m_fitness_trail <= reach_m`` if that column exists,
        else nobody.
    width_m : float
        Trail width for the added venue area (m).
    prize_model : TrailPrizeModel, optional
        Reuse a model (for example ``plan.prize_model``); its ``reach_m`` wins.

    Returns
    -------
    TrailCheck

    Examples
    --------
    >>> from ordos_geo import pipeline, trails
    >>> results = pipeline.analyse_study(pipeline.load_study(), stages=("accessibility", "trails"))  # doctest: +SKIP
    >>> drawn = results.trail_plan.trails.to_crs(4326)  # drawn in WGS-84: here the plan  # doctest: +SKIP
    >>> cells = results.accessibility.cells  # doctest: +SKIP
    >>> check = trails.check_trails(results.study.network, cells, drawn)  # doctest: +SKIP
    >>> check.lines["n_breaks"].tolist()  # each follows the streets unbroken  # doctest: +SKIP
    [0, 0, 0]
    """
    lines_geom, names = _checked_lines(proposed, network.crs)
    labels = trail_labels(proposed if isinstance(proposed, gpd.GeoDataFrame) else pd.DataFrame(index=proposed.index))
    trail_id = labels["trail_id"].to_numpy()
    if prize_model is None:
        prize_model = build_prize_model(network, cells, reach_m=reach_m, underserved_column=underserved_column)
    model = prize_model
    seg_geoms = network.edge_lines(model.segment_edge)
    tree = shapely.STRtree(seg_geoms)

    line_rows, matched_rows, off_rows = [], [], []
    all_segments: set[int] = set()
    for i, line in enumerate(lines_geom):
        samples = np.asarray(shapely.points(_sample_line(line, CHECK_SAMPLE_SPACING_M)))
        near, _ = tree.query_nearest(samples, max_distance=max_snap_distance_m, all_matches=False)
        # Exact off-network part: the line outside the snap buffer of nearby streets.
        nearby = tree.query(line, predicate="dwithin", distance=max_snap_distance_m)
        if len(near) < len(samples) or nearby.size == 0:
            covered = shapely.union_all(shapely.buffer(seg_geoms[nearby], max_snap_distance_m)) if nearby.size else None
            off = line if covered is None else shapely.difference(line, covered)
        else:
            off = shapely.LineString()
        off_len = float(shapely.length(off))
        if off_len > 1e-6:
            off_rows.append(
                {
                    "trail_id": trail_id[i],
                    "length_m": off_len,
                    "geometry": shapely.line_merge(off) if off.geom_type == "MultiLineString" else off,
                }
            )
        # Matched segments: at least half their length within match_tolerance of the line.
        cand = tree.query(line, predicate="dwithin", distance=match_tolerance_m)
        matched: list[int] = []
        if cand.size:
            band = shapely.buffer(line, match_tolerance_m)
            inside = shapely.length(shapely.intersection(seg_geoms[cand], band))
            full = np.maximum(shapely.length(seg_geoms[cand]), 1e-9)
            matched = cand[inside >= 0.5 * full - 1e-6].tolist()
        pieces = _components(model, matched)
        for p, piece in enumerate(pieces):
            for s in piece:
                matched_rows.append(
                    {
                        "trail_id": trail_id[i],
                        "segment": int(s),
                        "edge": int(model.segment_edge[s]),
                        "piece": p,
                        "length_m": float(model.segment_length[s]),
                        "geometry": seg_geoms[s],
                    }
                )
        all_segments.update(matched)
        line_rows.append(
            {
                **labels.iloc[i].to_dict(),
                "length_m": float(shapely.length(line)),
                "matched_length_m": float(model.segment_length[matched].sum()) if matched else 0.0,
                "off_network_length_m": off_len,
                "credited_length_m": max(float(shapely.length(line)) - off_len, 0.0),
                "n_pieces": len(pieces),
                "population_reached": model.population_reached(matched),
                "is_loop": bool(matched) and _trail_is_loop(model, matched),
                **_shape_row(network, model, matched, line),
                "geometry": line,
            }
        )
        if not matched and off_len >= float(shapely.length(line)) - 1.0:
            trail = _trail(i, names, f"{shapely.length(line):,.0f} m")
            raise InputDataError(_labels.Note("trail_off_network", trail=trail, snap=f"{max_snap_distance_m:g}"))
        if len(pieces) > 1:
            logger.warning("%s is broken into %d pieces on the walk network", _trail(i, names), len(pieces))
        if off_len > 1:
            logger.warning("%s: %.0f m lie off the walk network", _trail(i, names), off_len)
    crs = network.crs
    lines = gpd.GeoDataFrame(pd.DataFrame(line_rows), geometry="geometry", crs=crs)
    matched_gdf = gpd.GeoDataFrame(
        pd.DataFrame(matched_rows, columns=["trail_id", "segment", "edge", "piece", "length_m", "geometry"]),
        geometry="geometry",
        crs=crs,
    )
    off_gdf = gpd.GeoDataFrame(
        pd.DataFrame(off_rows, columns=["trail_id", "length_m", "geometry"]), geometry="geometry", crs=crs
    )
    segment_ids = np.asarray(sorted(all_segments), dtype=np.int64)
    total_length = float(lines["credited_length_m"].sum())  # parts off the network are not credited
    report = _report_table(
        model,
        cells,
        segment_ids,
        neighbourhoods=neighbourhoods,
        trail_geometry=shapely.union_all(lines_geom),
        total_length_m=total_length,
        width_m=width_m,
        existing_reached_column=existing_reached_column,
    )
    total = report.iloc[-1]
    return TrailCheck(
        report=report,
        lines=lines,
        matched=matched_gdf,
        off_network=off_gdf,
        segment_ids=segment_ids,
        population_reached_before=float(total["reached_before"]),
        population_reached_after=float(total["reached_after"]),
        total_length_m=total_length,
        width_m=float(width_m),
        prize_model=model,
    )
