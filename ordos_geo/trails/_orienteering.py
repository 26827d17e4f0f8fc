"""Loop and route trails: an orienteering problem with coverage prizes on the street graph.

A *loop* is a simple cycle of street segments (it brings the walker back to the
start, no segment and no junction walked twice); a *route* is a simple path.
Up to ``max_trails`` node-disjoint trails share one length budget, each is at
least ``min_len`` long, and the objective is the population of the cells
reached by any chosen segment (a resident counts once, whichever segment
reaches them). It is the orienteering problem (Vansteenwegen, Souffriau and Van
Oudheusden 2011, *EJOR* 209) with two twists taken from the arc-routing side of
the family: prizes sit on cells reached by segments, not on the vertices, and
the cover is a union, not a sum.

This module holds the generic layer both solvers share: :class:`RouteProblem`
(a cost-matrix-style core: arrays, no geometry), :class:`RouteSolution` and the
graph helpers over segment ids. The solvers are
:func:`ordos_geo.trails.exact.solve_exact` and
:func:`ordos_geo.trails.heuristic.solve_heuristic`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse

__all__ = ["RouteProblem", "RouteSolution", "Shape"]

Shape = Literal["loop", "route"]

_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class RouteProblem:
    """A loop/route orienteering instance over undirected street segments.

    Attributes
    ----------
    reach : scipy.sparse.csr_matrix
        ``(n_segments, n_cells)`` boolean: segment ``s`` reaches cell ``c``.
    weight : numpy.ndarray
        ``(n_cells,)`` population of each cell (the prize, counted once).
    seg_u, seg_v : numpy.ndarray
        End junctions of each segment.
    seg_len : numpy.ndarray
        True length of each segment (metres; what the budget counts).
    cost : numpy.ndarray
        Cost used to *choose* segments (length x preferences); ties and
        detours prefer cheap segments, the budget never sees it.
    allowed : numpy.ndarray
        Boolean mask of the segments a trail may use.
    shape : {"loop", "route"}
    budget : float
        Total length of all trails (metres).
    min_len : float
        Minimum length of each trail (metres).
    max_trails : int
        Maximum number of trails.
    """

    reach: scipy.sparse.csr_matrix
    weight: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_len: np.ndarray
    cost: np.ndarray
    allowed: np.ndarray
    shape: Shape
    budget: float
    min_len: float
    max_trails: int

    def value(self, segments: list[int] | np.ndarray) -> float:
        """Population reached by the union of ``segments``."""
        ids = np.asarray(segments, dtype=np.int64)
        if ids.size == 0:
            return 0.0
        cells = np.unique(self.reach[ids].indices)
        return float(self.weight[cells].sum())

    def usable(self) -> np.ndarray:
        """Allowed segments a trail of this shape can use (routes skip self-loops)."""
        ok = self.allowed.copy()
        if self.shape == "route":
            ok &= self.seg_u != self.seg_v
        return ok


@dataclass
class RouteSolution:
    """Trails found by a solver.

    Attributes
    ----------
    trails : list of list of int
        Per trail, its segments in walking order.
    value : float
        Population reached by all trails.
    bound : float
        Upper bound on the optimum (``inf`` when the solver proves none).
    status : str
        Solver status text.
    """

    trails: list[list[int]]
    value: float
    bound: float = math.inf
    status: str = ""


# --------------------------------------------------------------------------------------------------
# Graph helpers over segment ids
# --------------------------------------------------------------------------------------------------


def _components(seg_u: np.ndarray, seg_v: np.ndarray, segments: list[int]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s in segments:
        a, b = find(int(seg_u[s])), find(int(seg_v[s]))
        if a != b:
            parent[a] = b
    groups: dict[int, list[int]] = {}
    for s in segments:
        groups.setdefault(find(int(seg_u[s])), []).append(int(s))
    return list(groups.values())


def _walk_order(seg_u: np.ndarray, seg_v: np.ndarray, segments: list[int]) -> list[int]:
    """Segments of a simple cycle or path in walking order (from an end of a path)."""
    if len(segments) <= 1:
        return list(segments)
    at: dict[int, list[int]] = {}
    for s in segments:
        at.setdefault(int(seg_u[s]), []).append(s)
        at.setdefault(int(seg_v[s]), []).append(s)
    ends = [n for n, ss in at.items() if len(ss) == 1]
    node = ends[0] if ends else int(seg_u[segments[0]])
    order: list[int] = []
    used: set[int] = set()
    while True:
        nxt = [s for s in at[node] if s not in used]
        if not nxt:
            break
        s = nxt[0]
        used.add(s)
        order.append(s)
        node = int(seg_v[s]) if int(seg_u[s]) == node else int(seg_u[s])
    return order


def _trail_ends(seg_u: np.ndarray, seg_v: np.ndarray, trail: list[int]) -> list[int]:
    degree: dict[int, int] = {}
    for s in trail:
        for node in (int(seg_u[s]), int(seg_v[s])):
            degree[node] = degree.get(node, 0) + 1
    return [n for n, d in degree.items() if d == 1]
