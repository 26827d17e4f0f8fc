"""Plan fitness trails: :func:`plan_trails`, its options :class:`TrailOptions` and its result :class:`TrailPlan`.

The planner ties the steps together: the prize model (:mod:`.prize`), the
segment rules (:mod:`.rules`), the upper bound (:mod:`.bound`) and the solvers
(:mod:`._solvers`: the heuristics and, on small instances, the exact MILPs);
then it builds the trails table, each trail described by :mod:`.shape`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo import settings
from ordos_geo._errors import InputDataError
from ordos_geo._options import resolve_options
from ordos_geo.network import WalkNetwork
from ordos_geo.trails._solvers import _kept_trails, _run_solvers
from ordos_geo.trails.bound import upper_bound
from ordos_geo.trails.prize import TrailPrizeModel, build_prize_model
from ordos_geo.trails.rules import (
    DEFAULT_FORBIDDEN_HIGHWAYS,
    DEFAULT_PREFERRED_HIGHWAYS,
    _choice_costs,
    _forbidden_segments,
)
from ordos_geo.trails.shape import SHAPE_COLUMNS, _shape_row, _trail_is_loop

if TYPE_CHECKING:
    from ordos_geo.config import StudyConfig
    from ordos_geo.routing import SnappedPoints

__all__ = [
    "TRAIL_SHAPES",
    "TrailOptions",
    "TrailPlan",
    "TrailShape",
    "plan_trails",
]

logger = logging.getLogger(__name__)

#: Trail shapes: a closed circuit, an open path, or a connected tree (any connected set of streets).
TRAIL_SHAPES: tuple[str, ...] = settings.TRAIL_SHAPES


@dataclass(eq=False)
class TrailPlan:
    """Planned fitness trails.

    Attributes
    ----------
    trails : geopandas.GeoDataFrame
        One row per trail: ``trail_id``, ``length_m``, ``population_reached``
        (underserved residents within reach of this trail), ``n_segments``,
        ``is_loop`` (holds a circuit), ``area_m2`` (length x width), ``kind``
        (``"fitness_trail"``), ``shape``, the :data:`SHAPE_COLUMNS`
        (``closed_line``: merges into one closed line; ``n_breaks``,
        ``n_spurs``, ``spur_length_m``, ``walked_twice_m``,
        ``major_road_crossings``); and, the same on every row, the plan's
        ``network_shape_reached`` (what the ``network`` shape reaches with the
        same budget), ``share_of_network_shape``, ``upper_bound``, ``gap`` and
        ``bound_shape`` (see below); merged (Multi)LineString geometry in the
        network CRS.
    segments : list of numpy.ndarray
        Per trail, indices into ``network.edges`` (one directed edge per street segment).
    segment_ids : list of numpy.ndarray
        Per trail, segment ids of :attr:`prize_model`.
    population_reached : float
        Underserved residents within reach of any trail (deduplicated).
    upper_bound : float
        Upper bound on what any plan within the rules could reach.
    gap : float
        ``(upper_bound - population_reached) / upper_bound`` (0 when optimal).
    method : str
        ``"heuristic"`` or ``"exact"`` (which solution was kept).
    budget_m, width_m : float
        Length budget and trail width used.
    prize_model : TrailPrizeModel
        The reach model (reuse it in :func:`check_trails`).
    shape : str
        ``"loop"``, ``"route"`` or ``"network"``.
    network_population_reached : float
        What the ``"network"`` shape (connected trees) reaches with the same
        budget and rules: the yardstick a loop or route plan is compared with.
    bound_shape : str
        Which problem :attr:`upper_bound` is proven for: ``shape`` itself (the
        exact MILP's bound, or for loops the disc bound of closed trails), or
        ``"network"`` (the frontier and disc bounds of any plan of connected
        trails, which also hold for loops and routes but ignore their shape);
        see :mod:`ordos_geo.trails.bound`.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> plan = plan_trails(study.network, acc.cells, budget_m=10_000)  # doctest: +SKIP
    >>> plan.population_reached <= plan.upper_bound  # doctest: +SKIP
    True
    """

    trails: gpd.GeoDataFrame
    segments: list[np.ndarray]
    segment_ids: list[np.ndarray]
    population_reached: float
    upper_bound: float
    gap: float
    method: str
    budget_m: float
    width_m: float
    prize_model: TrailPrizeModel
    shape: str = "network"
    network_population_reached: float = math.nan
    bound_shape: str = "network"

    @property
    def total_length_m(self) -> float:
        """Total length of all trails (metres)."""
        return float(self.trails["length_m"].sum()) if len(self.trails) else 0.0

    @property
    def share_of_network(self) -> float:
        """``population_reached / network_population_reached`` (NaN when the yardstick reaches nobody)."""
        ref = self.network_population_reached
        return float(self.population_reached / ref) if ref and ref > 0 else math.nan

    def as_facilities(self) -> gpd.GeoDataFrame:
        """The trails as rows of the facilities table (kind ``fitness_trail``).

        Returns
        -------
        geopandas.GeoDataFrame
            ``facility_id`` (``"T1"``, ...), ``name``, ``kind``, ``area_m2``
            (length x width), ``area_source`` (``"length_x_width"``),
            ``open_to_public``, ``capacity`` (NaN), ``district`` (None),
            ``public_access`` (``"full"``), ``open_hours`` (None), geometry
            in the network CRS; ready to append to the facilities before
            re-running accessibility.
        """
        t = self.trails
        return gpd.GeoDataFrame(
            {
                "facility_id": [f"T{i}" for i in t["trail_id"]],
                "name": [
                    f"Planned fitness trail T{i} ({m / 1000:.1f} km)"
                    for i, m in zip(t["trail_id"], t["length_m"], strict=True)
                ],
                "kind": "fitness_trail",
                "area_m2": t["area_m2"].to_numpy(dtype=float),
                "area_source": "length_x_width",
                "open_to_public": True,
                "capacity": np.nan,
                "district": pd.Series([None] * len(t), dtype=object),
                "public_access": "full",
                "open_hours": pd.Series([None] * len(t), dtype=object),
            },
            geometry=t.geometry.to_numpy(),
            crs=t.crs,
        )


#: A trail's shape: a closed circuit, an open path, or a connected tree.
TrailShape = Literal["loop", "route", "network"]
#: The default shape, ``[trails] shape``.
_DEFAULT_SHAPE = cast(TrailShape, settings.DEFAULT_TRAIL_SHAPE)


@dataclass(frozen=True)
class TrailOptions:
    """The options of a trail plan that a study's ``[trails]`` section sets.

    Pass one to :func:`plan_trails` as ``options=`` instead of the seven
    keywords of the same names; :meth:`from_config` reads a study's
    configuration. Defaults come from :mod:`ordos_geo.settings`.

    Attributes
    ----------
    budget_m : float
        Total trail length allowed (metres of street, true length).
    min_trail_m : float
        Minimum length of each trail (metres; capped at the budget).
    max_trails : int
        Maximum number of separate trails.
    reach_m : float
        Walk distance from a residence to a trail that counts as reached.
    width_m : float
        Trail width for the venue area (m).
    shape : {"loop", "route", "network"}
        Shape of each trail (see :func:`plan_trails`).
    max_spur_m : float
        Longest dead-end spur a loop or route may hang (metres; 0: none).

    Raises
    ------
    InputDataError
        A non-positive budget, a negative minimum length, no trail, an
        unknown shape or a negative spur length.

    Examples
    --------
    >>> options = TrailOptions(budget_m=5_000.0, shape="route")
    >>> options.budget_m, options.shape, options.reach_m == settings.DEFAULT_TRAIL_REACH_M
    (5000.0, 'route', True)
    """

    budget_m: float = settings.DEFAULT_TRAIL_BUDGET_M
    min_trail_m: float = settings.DEFAULT_MIN_TRAIL_M
    max_trails: int = settings.DEFAULT_MAX_TRAILS
    reach_m: float = settings.DEFAULT_TRAIL_REACH_M
    width_m: float = settings.DEFAULT_TRAIL_WIDTH_M
    shape: TrailShape = _DEFAULT_SHAPE
    max_spur_m: float = settings.DEFAULT_TRAIL_MAX_SPUR_M

    def __post_init__(self) -> None:
        if self.budget_m <= 0 or self.min_trail_m < 0 or self.max_trails < 1:
            msg = (
                f"plan_trails: budget_m must be > 0, min_trail_m >= 0 and max_trails >= 1 "
                f"(got {self.budget_m}, {self.min_trail_m}, {self.max_trails})"
            )
            raise InputDataError(msg)
        if self.shape not in TRAIL_SHAPES:
            msg = f"plan_trails: shape must be one of {', '.join(TRAIL_SHAPES)}, got {self.shape!r}"
            raise InputDataError(msg)
        if not self.max_spur_m >= 0:
            msg = f"plan_trails: max_spur_m must be >= 0 metres, got {self.max_spur_m}"
            raise InputDataError(msg)

    @classmethod
    def from_config(cls, config: StudyConfig) -> TrailOptions:
        """The ``[trails]`` section of a study configuration.

        Parameters
        ----------
        config : ordos_geo.config.StudyConfig

        Returns
        -------
        TrailOptions
        """
        return cls(
            budget_m=config.trail_budget_m,
            min_trail_m=config.min_trail_m,
            max_trails=config.max_trails,
            reach_m=config.trail_reach_m,
            width_m=config.trail_width_m,
            shape=cast(TrailShape, config.trail_shape),
            max_spur_m=config.trail_max_spur_m,
        )

    @property
    def min_length_m(self) -> float:
        """The minimum trail length actually used: ``min_trail_m`` capped at the budget."""
        return min(float(self.min_trail_m), float(self.budget_m))


def plan_trails(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    *,
    budget_m: float = settings.DEFAULT_TRAIL_BUDGET_M,
    min_trail_m: float = settings.DEFAULT_MIN_TRAIL_M,
    max_trails: int = settings.DEFAULT_MAX_TRAILS,
    reach_m: float = settings.DEFAULT_TRAIL_REACH_M,
    underserved_column: str | None = None,
    edge_weights: str | np.ndarray | Sequence[float] | None = None,
    forbidden_edges: Any = None,
    forbidden_highways: Sequence[str] = DEFAULT_FORBIDDEN_HIGHWAYS,
    preferred_highways: Sequence[str] = DEFAULT_PREFERRED_HIGHWAYS,
    preference_factor: float = 0.8,
    green_land: gpd.GeoDataFrame | None = None,
    width_m: float = settings.DEFAULT_TRAIL_WIDTH_M,
    method: Literal["auto", "heuristic", "exact"] = "auto",
    time_limit_s: float = 20.0,
    n_starts: int = 3,
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    prize_model: TrailPrizeModel | None = None,
    shape: TrailShape = _DEFAULT_SHAPE,
    max_spur_m: float = settings.DEFAULT_TRAIL_MAX_SPUR_M,
    options: TrailOptions | None = None,
    cells_snapped: SnappedPoints | None = None,
) -> TrailPlan:
    """Plan fitness trails that bring the most underserved residents within reach.

    Chooses up to ``max_trails`` trails, each at least ``min_trail_m`` long,
    with a total length within ``budget_m``, that maximise the underserved
    population (deduplicated) within ``reach_m`` walk of a trail. The trail's
    ``shape`` is part of the problem:

    - ``"loop"`` (default): each trail is a closed circuit along the walk
      network, no street and no junction walked twice; it merges into one
      closed line.
    - ``"route"``: each trail is an open path, nothing walked twice.
    - ``"network"``: each trail is any connected set of streets (a tree with
      spurs, sometimes closing a loop): the widest reach, but a comb nobody
      walks end to end.

    ``max_spur_m > 0`` lets loops and routes hang dead-end access spurs of at
    most that length when they add residents (the spurs count in the budget).

    The ``network`` heuristic seeds trails on the best segments (spread at
    least ``2 x reach_m`` apart), grows them by the addition - an adjacent
    segment or a short path to a valuable segment - with the best new
    population per metre, swaps low-value leaf segments for better ones, and
    closes loops when the leftover budget allows; it is run for
    1..``max_trails`` trails and ``n_starts`` first seeds. Loops and routes are
    an orienteering problem with coverage prizes (see
    :mod:`ordos_geo.trails._orienteering`): GRASP starts, one of them from the spine of
    the ``network`` plan and, for loops, some on the street rectangles whose
    reach band holds most underserved residents, then an iterated local search with add, drop and
    2-opt-style stretch replacements; small instances are also solved exactly
    (MILP with lazily added subtour cuts). The ``network`` plan is always
    computed too, and :attr:`TrailPlan.network_population_reached` reports it.

    Parameters
    ----------
    network : WalkNetwork
        Projected walk network.
    cells : geopandas.GeoDataFrame
        Population cells in ``network.crs``: ``population`` and ``dist_m_any``
        (from accessibility) or ``underserved_column``.
    budget_m : float
        Total trail length allowed (metres of street, true length).
    min_trail_m : float
        Minimum length of each trail (metres; capped at the budget).
    max_trails : int
        Maximum number of separate trails.
    reach_m : float
        Walk distance from a residence to a trail that counts as reached.
    underserved_column : str, optional
        Boolean column marking underserved cells (default: ``dist_m_any`` > 1 km or unreachable).
    edge_weights : str or array-like, optional
        Per directed edge multiplier (or a column of ``network.edges``) of the
        cost used to choose segments; the budget always uses true length.
    forbidden_edges : array-like of int, boolean mask or GeoDataFrame, optional
        Edges a trail may not use: indices into ``network.edges``, a mask over
        them, or lines to avoid (edges whose midpoint is within 10 m).
    forbidden_highways : sequence of str
        Highway tags never used (motorways and trunks).
    preferred_highways : sequence of str
        Highway tags preferred: their choice cost is multiplied by ``preference_factor``.
    preference_factor : float
        Cost multiplier for preferred edges and edges inside ``green_land``.
    green_land : geopandas.GeoDataFrame, optional
        Park / green polygons; edges whose midpoint lies inside are preferred.
    width_m : float
        Trail width for the venue area (m).
    method : {"auto", "heuristic", "exact"}
        ``"auto"`` runs the heuristic and, when at most
        :data:`EXACT_MAX_SEGMENTS` (30) segments are allowed, also the exact
        MILP (HiGHS), keeping the better plan;
        ``"exact"`` always solves the MILP (small instances only).
    time_limit_s : float
        Time limit of the MILP (seconds); on timeout the best solution and the
        solver's bound are used.
    n_starts : int
        Multi-start: the heuristic is run with the first trail seeded on each of
        the ``n_starts`` best spread-out segments (for each trail count).
    max_snap_distance_m : float
        Cells farther than this from the network reach nothing.
    prize_model : TrailPrizeModel, optional
        Reuse a model from :func:`build_prize_model` (its ``reach_m`` wins).
    shape : {"loop", "route", "network"}
        Shape of each trail (see above).
    max_spur_m : float
        Longest dead-end spur a loop or route may hang (metres; 0: none).
    options : TrailOptions, optional
        The seven options of a study's ``[trails]`` section (``budget_m``,
        ``min_trail_m``, ``max_trails``, ``reach_m``, ``width_m``, ``shape``,
        ``max_spur_m``) in one object, for example
        ``TrailOptions.from_config(study.config)``; those keywords must then be
        left at their defaults.
    cells_snapped : SnappedPoints, optional
        The cells' snaps onto the network, one access point per cell at its
        centroid (``AccessibilityResult.cells_snapped``), so the cells are not
        snapped again; snaps farther than ``max_snap_distance_m`` reach nothing.

    Returns
    -------
    TrailPlan

    Examples
    --------
    >>> from ordos_geo import pipeline, trails
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> plan = trails.plan_trails(study.network, acc.cells, budget_m=10_000)  # doctest: +SKIP
    >>> bool(plan.trails["closed_line"].all())  # doctest: +SKIP
    True

    Raises
    ------
    InputDataError
        Bad inputs (CRS mismatch, missing columns, non-positive budget).
    SolverError
        The MILP ended without a usable status.
    """
    keywords = TrailOptions(
        budget_m=budget_m,
        min_trail_m=min_trail_m,
        max_trails=max_trails,
        reach_m=reach_m,
        width_m=width_m,
        shape=shape,
        max_spur_m=max_spur_m,
    )
    opts = resolve_options("plan_trails", options, keywords)
    if not 0 < preference_factor <= 1:
        msg = f"plan_trails: preference_factor must lie in (0, 1], got {preference_factor}"
        raise InputDataError(msg)
    if method not in settings.TRAIL_METHODS:
        msg = f"plan_trails: method must be one of {', '.join(settings.TRAIL_METHODS)}, got {method!r}"
        raise InputDataError(msg)
    if prize_model is None:
        prize_model = build_prize_model(
            network,
            cells,
            reach_m=opts.reach_m,
            underserved_column=underserved_column,
            max_snap_distance_m=max_snap_distance_m,
            cells_snapped=cells_snapped,
        )
    model = prize_model
    allowed = ~_forbidden_segments(network, model, forbidden_edges, forbidden_highways)
    cost = _choice_costs(
        network,
        model,
        edge_weights=edge_weights,
        preferred_highways=preferred_highways,
        preference_factor=preference_factor,
        green_land=green_land,
    )
    cell_xy = shapely.get_coordinates(shapely.centroid(cells.geometry.to_numpy()[model.cell_positions]))
    bound, bound_shape = upper_bound(
        model,
        allowed,
        network.node_xy,
        budget_m=opts.budget_m,
        max_trails=opts.max_trails,
        shape=opts.shape,
        max_spur_m=float(opts.max_spur_m),
        min_len_m=opts.min_length_m,
        cell_xy=cell_xy,
    )
    search = _run_solvers(
        network,
        model,
        allowed,
        cost,
        opts,
        upper=bound,
        bound_shape=bound_shape,
        method=method,
        n_starts=n_starts,
        time_limit_s=time_limit_s,
        cell_xy=cell_xy,
    )
    trails = _kept_trails(search, model, opts.min_length_m)
    table = _trails_table(network, model, trails, opts)
    gap = (search.upper - search.value) / search.upper if search.upper > 0 else 0.0
    # The plan-level yardstick and bound, on every row so the report, map popups and GeoPackage show them.
    network_value = search.network_value if opts.shape != "network" else search.value
    table.insert(len(table.columns) - 1, "network_shape_reached", float(network_value))
    table.insert(
        len(table.columns) - 1,
        "share_of_network_shape",
        search.value / network_value if network_value > 0 else np.nan,
    )
    table.insert(len(table.columns) - 1, "upper_bound", float(search.upper))
    table.insert(len(table.columns) - 1, "gap", float(max(gap, 0.0)))
    table.insert(len(table.columns) - 1, "bound_shape", search.bound_shape)
    logger.info(
        "trails: %d %s(s) planned, %.0f m of %.0f m budget, %.0f underserved residents reached "
        "(bound %.0f, gap %.1f%%)",
        len(table),
        opts.shape,
        table["length_m"].sum() if len(table) else 0.0,
        opts.budget_m,
        search.value,
        search.upper,
        100 * gap,
    )
    return TrailPlan(
        trails=table,
        segments=[model.segment_edge[np.asarray(c, dtype=np.int64)] for c in trails],
        segment_ids=[np.asarray(sorted(c), dtype=np.int64) for c in trails],
        population_reached=float(search.value),
        upper_bound=float(search.upper),
        gap=float(max(gap, 0.0)),
        method=search.kept,
        budget_m=float(opts.budget_m),
        width_m=float(opts.width_m),
        prize_model=model,
        shape=opts.shape,
        network_population_reached=float(network_value),
        bound_shape=search.bound_shape,
    )


def _merged_geometry(network: WalkNetwork, model: TrailPrizeModel, segments: Sequence[int]) -> shapely.Geometry:
    """The street segments of one trail merged into a (Multi)LineString in the network CRS."""
    geoms = network.edge_lines(model.segment_edge[np.asarray(segments, dtype=np.int64)])
    return shapely.line_merge(shapely.union_all(geoms))


#: Columns of the trails table before the plan-level ones (bound, gap, ...) and the geometry.
_TRAIL_COLUMNS: tuple[str, ...] = (
    "trail_id",
    "length_m",
    "population_reached",
    "n_segments",
    "is_loop",
    "area_m2",
    "kind",
    "shape",
    *SHAPE_COLUMNS,
    "geometry",
)


def _trails_table(
    network: WalkNetwork, model: TrailPrizeModel, trails: list[list[int]], opts: TrailOptions
) -> gpd.GeoDataFrame:
    """One row per trail: length, residents reached, shape columns and merged geometry."""
    rows = []
    for i, comp in enumerate(trails, start=1):
        length = float(model.segment_length[comp].sum())
        geometry = _merged_geometry(network, model, comp)
        rows.append(
            {
                "trail_id": i,
                "length_m": length,
                "population_reached": model.population_reached(comp),
                "n_segments": len(comp),
                "is_loop": _trail_is_loop(model, comp),
                "area_m2": length * opts.width_m,
                "kind": "fitness_trail",
                "shape": opts.shape,
                **_shape_row(network, model, comp, geometry),
                "geometry": geometry,
            }
        )
    table = gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(_TRAIL_COLUMNS)), geometry="geometry", crs=network.crs)
    table = table.astype(
        {
            "trail_id": int,
            "length_m": float,
            "population_reached": float,
            "n_segments": int,
            "shape": str,
            "n_breaks": int,
            "n_spurs": int,
            "spur_length_m": float,
            "walked_twice_m": float,
            "major_road_crossings": int,
        }
    )
    table["is_loop"] = table["is_loop"].astype(bool)
    table["closed_line"] = table["closed_line"].astype(bool)
    return table
