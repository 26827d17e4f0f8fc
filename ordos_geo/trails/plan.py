"""Plan fitness trails: :func:`plan_trails`, its result :class:`TrailPlan` and :func:`trail_report`.

The planner ties the steps together: the prize model (:mod:`.prize`), the
segment rules (:mod:`.rules`), the heuristics (:mod:`.heuristic`) and, on small
instances, the exact MILPs (:mod:`.exact`); then it describes each trail's
shape and builds the trails table.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import dijkstra

from ordos_geo import settings
from ordos_geo._columns import dist_column
from ordos_geo._errors import InputDataError
from ordos_geo._options import resolve_options
from ordos_geo.network import WalkNetwork
from ordos_geo.trails import _orienteering
from ordos_geo.trails._tree_growth import _TreeGrower
from ordos_geo.trails.bound import upper_bound
from ordos_geo.trails.exact import EXACT_MAX_SEGMENTS, _solve_network_exact, solve_exact
from ordos_geo.trails.heuristic import solve_heuristic
from ordos_geo.trails.prize import TrailPrizeModel, build_prize_model
from ordos_geo.trails.rules import (
    DEFAULT_FORBIDDEN_HIGHWAYS,
    DEFAULT_PREFERRED_HIGHWAYS,
    _choice_costs,
    _forbidden_segments,
)

if TYPE_CHECKING:
    from ordos_geo.config import StudyConfig
    from ordos_geo.routing import SnappedPoints
    from ordos_geo.trails.check import TrailCheck

__all__ = [
    "MAJOR_ROAD_HIGHWAYS",
    "REPORT_COLUMNS",
    "SHAPE_COLUMNS",
    "TRAIL_SHAPES",
    "TrailOptions",
    "TrailPlan",
    "TrailShape",
    "plan_trails",
    "trail_report",
]

logger = logging.getLogger(__name__)

#: Trail shapes: a closed circuit, an open path, or a connected tree (any connected set of streets).
TRAIL_SHAPES: tuple[str, ...] = settings.TRAIL_SHAPES
#: Highway tags whose crossing a trail check counts (busy streets a walker has to cross).
MAJOR_ROAD_HIGHWAYS: tuple[str, ...] = ("primary", "primary_link", "secondary", "secondary_link")
#: Columns describing a trail's shape, in the plan's trails table and the check's lines table.
SHAPE_COLUMNS: tuple[str, ...] = (
    "closed_line",
    "n_breaks",
    "n_spurs",
    "spur_length_m",
    "walked_twice_m",
    "major_road_crossings",
)


def _components(model: TrailPrizeModel, segments: Sequence[int]) -> list[list[int]]:
    """Connected components (lists of segment ids) of a set of segments."""
    return _orienteering._components(model.segment_u, model.segment_v, list(segments))


def _long_enough(model: TrailPrizeModel, segments: Sequence[int], min_len: float) -> bool:
    return float(model.segment_length[list(segments)].sum()) >= min_len - 1e-6


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


def _merged_geometry(network: WalkNetwork, model: TrailPrizeModel, segments: Sequence[int]) -> shapely.Geometry:
    geoms = network.edge_lines(model.segment_edge[np.asarray(segments, dtype=np.int64)])
    return shapely.line_merge(shapely.union_all(geoms))


def _trail_is_loop(model: TrailPrizeModel, segments: Sequence[int]) -> bool:
    nodes = set(model.segment_u[segments].tolist()) | set(model.segment_v[segments].tolist())
    return len(segments) >= len(nodes)


def _piece_shape(model: TrailPrizeModel, piece: Sequence[int]) -> tuple[bool, int, float, float]:
    """Shape of one connected piece of street segments.

    Returns
    -------
    closed, n_spurs, spur_length_m, walked_twice_m
        ``closed``: every junction has two segments of the piece (one simple
        circuit, merges into one closed line). Spurs are the dead-end
        branches: what remains after peeling dead ends off a piece that holds a
        circuit, or what lies off the longest path of a tree. ``walked_twice_m``
        is the length a walker covers twice to walk every segment once: a
        closed walk back to the start for a piece with a circuit, an open walk
        for a tree (pairs of odd junctions joined greedily by the shortest way
        inside the piece, an upper estimate of the Chinese-postman repeat).
    """
    seg_u, seg_v, length = model.segment_u, model.segment_v, model.segment_length
    degree: dict[int, int] = {}
    at: dict[int, list[int]] = {}
    for s in piece:
        for node in (int(seg_u[s]), int(seg_v[s])):
            degree[node] = degree.get(node, 0) + 1
            at.setdefault(node, []).append(int(s))
    closed = all(d == 2 for d in degree.values())
    # Peel dead ends: what is left is the circuit part (empty for a tree).
    left = dict(degree)
    alive = set(int(s) for s in piece)
    stack = [n for n, d in left.items() if d == 1]
    while stack:
        node = stack.pop()
        if left[node] != 1:
            continue
        for s in at[node]:
            if s in alive:
                alive.discard(s)
                other = int(seg_v[s]) if int(seg_u[s]) == node else int(seg_u[s])
                left[node] -= 1
                left[other] -= 1
                if left[other] == 1:
                    stack.append(other)
                break
    dead_ends = [n for n, d in degree.items() if d == 1]
    total = float(length[list(piece)].sum())
    nodes = sorted(degree)
    index = {n: i for i, n in enumerate(nodes)}
    graph = scipy.sparse.csr_matrix(
        (
            np.concatenate([length[list(piece)], length[list(piece)]]),
            (
                np.array([index[int(seg_u[s])] for s in piece] + [index[int(seg_v[s])] for s in piece]),
                np.array([index[int(seg_v[s])] for s in piece] + [index[int(seg_u[s])] for s in piece]),
            ),
        ),
        shape=(len(nodes), len(nodes)),
    )
    odd = [index[n] for n, d in degree.items() if d % 2]
    dist = dijkstra(graph, directed=False, indices=odd) if odd else np.zeros((0, len(nodes)))
    if alive:
        spur_length = max(total - float(length[sorted(alive)].sum()), 0.0)
        n_spurs = len(dead_ends)
        unmatched = list(range(len(odd)))
    else:
        ends = dijkstra(graph, directed=False, indices=[0])[0]
        far = int(np.argmax(np.where(np.isfinite(ends), ends, -1)))
        from_far = dijkstra(graph, directed=False, indices=[far])[0]
        spine = float(np.max(np.where(np.isfinite(from_far), from_far, -1)))
        spur_length = max(total - spine, 0.0)
        n_spurs = max(len(dead_ends) - 2, 0)
        # An open walk may start and end at the two farthest odd junctions.
        pair = np.unravel_index(np.argmax(dist[:, odd]), (len(odd), len(odd))) if len(odd) >= 2 else ()
        unmatched = [i for i in range(len(odd)) if i not in set(pair)]
    twice = 0.0
    while len(unmatched) >= 2:
        i = unmatched.pop(0)
        j = min(unmatched, key=lambda k: dist[i, odd[k]])
        unmatched.remove(j)
        twice += float(dist[i, odd[j]])
    return closed, n_spurs, spur_length, twice


def _major_road_crossings(
    network: WalkNetwork, model: TrailPrizeModel, line: shapely.Geometry, own_segments: Sequence[int]
) -> int:
    """Places where ``line`` crosses or meets a primary/secondary street it does not follow (20 m apart)."""
    highway = network.edge_table["highway"].astype("string").fillna("")
    major = np.flatnonzero(highway.isin(list(MAJOR_ROAD_HIGHWAYS)).to_numpy())
    if major.size == 0 or line is None or shapely.is_empty(line):
        return 0
    own = (
        set(np.asarray(model.segment_edge[list(own_segments)], dtype=np.int64).tolist()) if len(own_segments) else set()
    )
    own_seg = set(int(s) for s in own_segments)
    major = np.asarray([e for e in major.tolist() if e not in own and int(model.segment_of_edge[e]) not in own_seg])
    if major.size == 0:
        return 0
    geoms = network.edge_lines(major)
    hit = shapely.STRtree(geoms).query(line, predicate="intersects")
    if hit.size == 0:
        return 0
    points = shapely.get_coordinates(shapely.intersection(line, shapely.union_all(geoms[hit])))
    if len(points) == 0:
        return 0
    groups = shapely.get_parts(shapely.union_all(shapely.buffer(shapely.points(points), 10.0)))
    return len(groups)


def _shape_row(
    network: WalkNetwork, model: TrailPrizeModel, segments: Sequence[int], line: shapely.Geometry | None
) -> dict[str, Any]:
    """The :data:`SHAPE_COLUMNS` of one trail (its matched or planned segments and its line)."""
    pieces = _components(model, list(segments))
    shapes = [_piece_shape(model, p) for p in pieces]
    return {
        "closed_line": len(pieces) == 1 and shapes[0][0],
        "n_breaks": max(len(pieces) - 1, 0),
        "n_spurs": int(sum(x[1] for x in shapes)),
        "spur_length_m": float(sum(x[2] for x in shapes)),
        "walked_twice_m": float(sum(x[3] for x in shapes)),
        "major_road_crossings": _major_road_crossings(network, model, line, segments) if line is not None else 0,
    }


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
    the ``network`` plan, then an iterated local search with add, drop and
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
    bound, bound_shape = upper_bound(
        model,
        allowed,
        network.node_xy,
        budget_m=opts.budget_m,
        max_trails=opts.max_trails,
        shape=opts.shape,
        max_spur_m=float(opts.max_spur_m),
        min_len_m=opts.min_length_m,
        cell_xy=shapely.get_coordinates(shapely.centroid(cells.geometry.to_numpy()[model.cell_positions])),
    )
    search = _Solutions(upper=bound, bound_shape=bound_shape)
    if method in ("auto", "heuristic") or opts.shape != "network":
        _network_heuristic(search, network, model, allowed, cost, opts, n_starts=n_starts)
    run_exact = method == "exact" or (method == "auto" and int(allowed.sum()) <= EXACT_MAX_SEGMENTS)
    if run_exact and opts.shape == "network":
        _network_exact(search, model, allowed, opts, time_limit_s=time_limit_s)
    search.network_value = max(search.value, 0.0)
    if opts.shape != "network":
        problem = _orienteering.RouteProblem(
            reach=model.reach,
            weight=model.population,
            seg_u=model.segment_u,
            seg_v=model.segment_v,
            seg_len=model.segment_length,
            cost=cost,
            allowed=allowed,
            shape=opts.shape,
            budget=float(opts.budget_m),
            min_len=opts.min_length_m,
            max_trails=int(opts.max_trails),
        )
        _route_solvers(
            search,
            problem,
            network,
            model,
            opts,
            run_exact=run_exact,
            method=method,
            n_starts=n_starts,
            time_limit_s=time_limit_s,
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


@dataclass
class _Solutions:
    """The best plan found so far by the solvers :func:`plan_trails` runs, and the bound on any plan.

    ``pieces`` holds the trails of a loop/route solver (``None`` while the best
    plan is the ``network`` shape's ``segments``).
    """

    upper: float
    value: float = -1.0
    segments: list[int] = field(default_factory=list)
    pieces: list[list[int]] | None = None
    kept: str = "heuristic"
    network_value: float = 0.0
    bound_shape: str = "network"


def _network_heuristic(
    search: _Solutions,
    network: WalkNetwork,
    model: TrailPrizeModel,
    allowed: np.ndarray,
    cost: np.ndarray,
    opts: TrailOptions,
    *,
    n_starts: int,
) -> None:
    """The ``network`` heuristic for 1..``max_trails`` trails, the first seeded on each of ``n_starts`` segments."""
    min_len = opts.min_length_m
    planner = _TreeGrower(model, allowed, cost, budget_m=opts.budget_m, min_trail_m=min_len, jump_m=model.reach_m)
    # Multi-start: the first trail starts on each of the n_starts best spread-out segments.
    planner.reset()
    planner.seed(max(int(n_starts), 1), 2 * model.reach_m, network.node_xy)
    firsts: list[int | None] = [t.segments[0] for t in planner.trails] or [None]
    for k, first in itertools.product(range(1, opts.max_trails + 1), firsts):
        if k > 1 and k * min_len > opts.budget_m + 1e-9:
            break
        planner.reset()
        planner.seed(k, 2 * model.reach_m, network.node_xy, first=first)
        planner.grow()
        planner.improve()
        planner.close_loops()
        segments = [s for t in planner.trails for s in t.segments]
        segments = [s for c in _components(model, segments) if _long_enough(model, c, min_len) for s in c]
        value = model.population_reached(segments)
        logger.debug("trail heuristic with %d seeds: %.0f residents", k, value)
        if value > search.value + 1e-9 or (abs(value - search.value) <= 1e-9 and len(segments) < len(search.segments)):
            search.value, search.segments = value, segments


def _network_exact(
    search: _Solutions, model: TrailPrizeModel, allowed: np.ndarray, opts: TrailOptions, *, time_limit_s: float
) -> None:
    """The exact MILP of the ``network`` shape; its plan is kept when it reaches more residents."""
    chosen, objective, dual, status = _solve_network_exact(
        model,
        allowed,
        budget_m=opts.budget_m,
        min_trail_m=opts.min_length_m,
        max_trails=opts.max_trails,
        time_limit_s=time_limit_s,
    )
    logger.info("exact trail MILP: %s, %.0f residents, bound %.0f", status, objective, dual)
    search.upper = min(search.upper, dual)
    if objective > search.value + 1e-9:
        search.value, search.segments, search.kept = objective, chosen, "exact"


def _route_solvers(
    search: _Solutions,
    problem: _orienteering.RouteProblem,
    network: WalkNetwork,
    model: TrailPrizeModel,
    opts: TrailOptions,
    *,
    run_exact: bool,
    method: str,
    n_starts: int,
    time_limit_s: float,
) -> None:
    """Loops or routes: the orienteering heuristic from the ``network`` plan, and the exact MILP on small instances."""
    shape = opts.shape
    found = solve_heuristic(
        problem,
        network.node_xy,
        warm_start=search.segments,
        n_starts=n_starts,
        spread_m=2 * model.reach_m,
        max_spur_m=float(opts.max_spur_m),
    )
    search.value, search.pieces, search.kept = found.value, found.trails, "heuristic"
    logger.info("trail %s heuristic: %.0f residents (network shape: %.0f)", shape, found.value, search.network_value)
    if run_exact:
        exact = solve_exact(
            problem, time_limit_s=time_limit_s, warm_start=[p for p in found.trails] if opts.max_spur_m == 0 else None
        )
        logger.info("exact %s MILP: %s, %.0f residents, bound %.0f", shape, exact.status, exact.value, exact.bound)
        if opts.max_spur_m == 0:  # the MILP has no spurs: its bound holds for this shape only without them
            search.upper, search.bound_shape = min(search.upper, exact.bound), shape
        if exact.value > search.value + 1e-9 or (method == "exact" and exact.value >= search.value - 1e-9):
            search.value, search.pieces, search.kept = exact.value, exact.trails, "exact"
    search.segments = [s for p in search.pieces for s in p]


def _kept_trails(search: _Solutions, model: TrailPrizeModel, min_len: float) -> list[list[int]]:
    """The trails of the best plan at least ``min_len`` long, most residents first (an empty plan if none helps)."""
    search.value = max(search.value, 0.0)
    if search.value <= 0:
        logger.warning("trails: no underserved resident can be reached by a trail; the plan is empty")
        search.segments = []
        search.pieces = []
    search.upper = max(search.upper, search.value)
    trails = []
    for comp in search.pieces if search.pieces is not None else _components(model, search.segments):
        if not _long_enough(model, comp, min_len):
            logger.warning(
                "trails: dropped a %.0f m trail that cannot reach min_trail_m=%.0f m on allowed streets",
                model.segment_length[comp].sum(),
                min_len,
            )
            continue
        trails.append(comp)
    if sum(len(c) for c in trails) != len(search.segments):
        search.value = model.population_reached([s for c in trails for s in c])
    trails.sort(key=lambda c: -model.population_reached(c))
    return trails


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


# --------------------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------------------


REPORT_COLUMNS: tuple[str, ...] = (
    "level",
    "neighbourhood_id",
    "district",
    "underserved_population",
    "reached_before",
    "reached_after",
    "added",
    "share_before",
    "share_after",
    "trail_length_m",
    "added_area_m2",
    "missed",
)


def _report_table(
    model: TrailPrizeModel,
    cells: gpd.GeoDataFrame,
    segment_ids: np.ndarray,
    *,
    neighbourhoods: gpd.GeoDataFrame | None,
    trail_geometry: shapely.Geometry | None,
    total_length_m: float,
    width_m: float,
    existing_reached_column: str,
) -> pd.DataFrame:
    if len(cells) != model.n_cells:
        msg = (
            f"cells: {len(cells)} rows, but the trail prize model was built on {model.n_cells}; "
            "pass the same cells the plan or check used"
        )
        raise InputDataError(msg)
    positions = model.cell_positions
    population = model.population
    after = np.zeros(len(positions), dtype=bool)
    after[model.reached_cells(segment_ids)] = True
    if existing_reached_column in cells.columns:
        before = cells[existing_reached_column].to_numpy(dtype=bool)[positions]
    elif dist_column("fitness_trail") in cells.columns:  # existing trails, from the accessibility stage
        before = cells[dist_column("fitness_trail")].to_numpy(dtype=float)[positions] <= model.reach_m
    else:
        before = np.zeros(len(positions), dtype=bool)
    after |= before
    if "district" in cells.columns:
        district = cells["district"].to_numpy(dtype=object)[positions]
    else:
        district = np.full(len(positions), None, dtype=object)
    frame = pd.DataFrame({"population": population, "before": before * population, "after": after * population})
    rows = []
    if neighbourhoods is not None and len(neighbourhoods):
        if "neighbourhood_id" not in neighbourhoods.columns:
            msg = "neighbourhoods: column `neighbourhood_id` is missing; pass AccessibilityResult.underserved"
            raise InputDataError(msg)
        hood = neighbourhoods.to_crs(cells.crs) if neighbourhoods.crs is not None else neighbourhoods
        centroids = cells.geometry.iloc[positions].centroid.to_numpy()
        # Points in a tree, each polygon a query: the polygon is prepared once (far faster than the reverse).
        polys, pts = shapely.STRtree(centroids).query(hood.geometry.to_numpy(), predicate="contains")
        order = np.lexsort((polys, pts))  # a point in two polygons (none: they are disjoint) goes to the last
        owner = np.full(len(positions), -1, dtype=np.int64)
        owner[pts[order]] = polys[order]
        frame["hood"] = owner
        sums = frame[frame["hood"] >= 0].groupby("hood")[["population", "before", "after"]].sum()
        hood_district = (
            hood["district"].to_numpy(dtype=object) if "district" in hood.columns else np.full(len(hood), None)
        )
        lengths = (
            shapely.length(shapely.intersection(hood.geometry.to_numpy(), trail_geometry))
            if trail_geometry is not None
            else np.zeros(len(hood))
        )
        for j in range(len(hood)):
            pop, bef, aft = sums.loc[j].tolist() if j in sums.index else [0.0, 0.0, 0.0]
            rows.append(
                {
                    "level": "neighbourhood",
                    "neighbourhood_id": hood["neighbourhood_id"].iloc[j],
                    "district": hood_district[j],
                    "underserved_population": pop,
                    "reached_before": bef,
                    "reached_after": aft,
                    "trail_length_m": float(lengths[j]),
                }
            )
        # Cells outside any polygon take the district of the cells table.
    frame["district"] = pd.Series(district, dtype=object).fillna("unknown").to_numpy()
    for name, group in frame.groupby("district", sort=True):
        rows.append(
            {
                "level": "district",
                "neighbourhood_id": None,
                "district": name,
                "underserved_population": group["population"].sum(),
                "reached_before": group["before"].sum(),
                "reached_after": group["after"].sum(),
                "trail_length_m": np.nan,
            }
        )
    rows.append(
        {
            "level": "total",
            "neighbourhood_id": None,
            "district": None,
            "underserved_population": frame["population"].sum(),
            "reached_before": frame["before"].sum(),
            "reached_after": frame["after"].sum(),
            "trail_length_m": total_length_m,
        }
    )
    table = pd.DataFrame(rows)
    table["neighbourhood_id"] = pd.Series([r["neighbourhood_id"] for r in rows], dtype=object)
    table["added"] = table["reached_after"] - table["reached_before"]
    with np.errstate(invalid="ignore", divide="ignore"):
        pop = table["underserved_population"].to_numpy(dtype=float)
        table["share_before"] = np.where(pop > 0, table["reached_before"] / np.where(pop > 0, pop, 1), np.nan)
        table["share_after"] = np.where(pop > 0, table["reached_after"] / np.where(pop > 0, pop, 1), np.nan)
    table["added_area_m2"] = table["trail_length_m"] * width_m
    table["missed"] = (table["added"] <= 0) & (table["underserved_population"] > 0)
    return table[list(REPORT_COLUMNS)].reset_index(drop=True)


def trail_report(
    result: TrailPlan | TrailCheck,
    cells: gpd.GeoDataFrame,
    *,
    neighbourhoods: gpd.GeoDataFrame | None = None,
    existing_reached_column: str = "existing_reached",
) -> pd.DataFrame:
    """Report whom planned or checked trails reach, per neighbourhood, district and in total.

    Parameters
    ----------
    result : TrailPlan or TrailCheck
        Output of :func:`plan_trails` or :func:`check_trails`.
    cells : geopandas.GeoDataFrame
        The same population cells the result was computed on.
    neighbourhoods : geopandas.GeoDataFrame, optional
        Underserved neighbourhoods (``AccessibilityResult.underserved``).
    existing_reached_column : str
        Boolean column of ``cells`` marking residents existing trails already
        reach; when absent, ``dist_m_fitness_trail <= reach_m`` (from the
        accessibility stage) is used if present, else nobody.

    Returns
    -------
    pandas.DataFrame
        Columns ``level`` (``"neighbourhood"`` / ``"district"`` / ``"total"``),
        ``neighbourhood_id``, ``district``, ``underserved_population``,
        ``reached_before``, ``reached_after``, ``added``, ``share_before``,
        ``share_after``, ``trail_length_m`` (trail length inside the
        neighbourhood; total length on the total row; NaN on district rows),
        ``added_area_m2`` (length x width) and ``missed`` (no resident added).
    """
    if isinstance(result, TrailPlan):
        segment_ids = np.concatenate(result.segment_ids) if result.segment_ids else np.zeros(0, dtype=np.int64)
        geometry = shapely.union_all(result.trails.geometry.to_numpy()) if len(result.trails) else None
        total = result.total_length_m
    else:
        segment_ids = result.segment_ids
        geometry = shapely.union_all(result.lines.geometry.to_numpy())
        total = result.total_length_m
    return _report_table(
        result.prize_model,
        cells,
        segment_ids,
        neighbourhoods=neighbourhoods,
        trail_geometry=geometry,
        total_length_m=total,
        width_m=result.width_m,
        existing_reached_column=existing_reached_column,
    )
