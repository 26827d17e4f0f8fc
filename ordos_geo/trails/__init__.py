"""Fitness trails (健身步道): plan new trails through underserved areas and check proposed ones.

The stage answers two planning questions on the walk network:

- *Where should the budget of trail (default 10 km) go?* :func:`plan_trails`
  chooses connected sets of street segments, within a length budget, that bring
  the most underserved residents within a walking reach (default 500 m) of a
  trail: a budgeted maximal-covering / prize-collecting tree problem, solved by a
  greedy growth heuristic with local improvement, an exact MILP (HiGHS) on small
  instances, and a data-dependent upper bound on large ones so the gap is known.
- *Does a trail someone drew reach them?* :func:`check_trails` snaps proposed
  lines to the network and reports, per underserved neighbourhood and district,
  the population reached before and after.

The package, one job per module:

- :mod:`~ordos_geo.trails.prize`: the prize model (which underserved cells each
  street segment reaches, :func:`build_prize_model`);
- :mod:`~ordos_geo.trails.rules`: forbidden segments and preferences;
- :mod:`~ordos_geo.trails._tree_growth`: the ``network`` shape's heuristic
  (greedy growth of connected trees, leaf swaps, loop closing);
- :mod:`~ordos_geo.trails.heuristic` and :mod:`~ordos_geo.trails.exact`: the
  loop/route solvers (GRASP starts and iterated local search, whose search
  state and moves live in :mod:`~ordos_geo.trails._loop_search`; HiGHS MILPs),
  over the generic orienteering layer :mod:`~ordos_geo.trails._orienteering`;
- :mod:`~ordos_geo.trails.bound`: the upper bound on any plan (the gap);
- :mod:`~ordos_geo.trails.plan`: :func:`plan_trails`, :class:`TrailOptions`,
  :class:`TrailPlan`, over :mod:`~ordos_geo.trails._solvers` (which solvers run,
  the best plan and bound they find);
- :mod:`~ordos_geo.trails.check`: :func:`check_trails`, :class:`TrailCheck`, :func:`check_drawn_trails`
  (what a drawn file needs before any work);
- :mod:`~ordos_geo.trails.shape`: a trail's shape (closed line, breaks, spurs,
  walked twice, busy-road crossings), for plans and checks alike;
- :mod:`~ordos_geo.trails.report`: :func:`trail_report`, whom a plan or a check
  reaches per neighbourhood and district.

All geometry is in the network's metric CRS (``WalkNetwork.crs``); lengths in
metres, areas in m².
"""

from ordos_geo.trails.check import CHECK_SAMPLE_SPACING_M, TrailCheck, check_drawn_trails, check_trails
from ordos_geo.trails.exact import EXACT_MAX_SEGMENTS
from ordos_geo.trails.plan import TRAIL_SHAPES, TrailOptions, TrailPlan, TrailShape, plan_trails
from ordos_geo.trails.prize import UNDERSERVED_DISTANCE_M, TrailPrizeModel, build_prize_model, underserved_mask
from ordos_geo.trails.report import REPORT_COLUMNS, trail_report
from ordos_geo.trails.rules import DEFAULT_FORBIDDEN_HIGHWAYS, DEFAULT_PREFERRED_HIGHWAYS
from ordos_geo.trails.shape import MAJOR_ROAD_HIGHWAYS, SHAPE_COLUMNS

__all__ = [
    "CHECK_SAMPLE_SPACING_M",
    "DEFAULT_FORBIDDEN_HIGHWAYS",
    "DEFAULT_PREFERRED_HIGHWAYS",
    "EXACT_MAX_SEGMENTS",
    "MAJOR_ROAD_HIGHWAYS",
    "REPORT_COLUMNS",
    "SHAPE_COLUMNS",
    "TRAIL_SHAPES",
    "UNDERSERVED_DISTANCE_M",
    "TrailCheck",
    "TrailOptions",
    "TrailPlan",
    "TrailPrizeModel",
    "TrailShape",
    "build_prize_model",
    "check_drawn_trails",
    "check_trails",
    "plan_trails",
    "trail_report",
    "underserved_mask",
]
