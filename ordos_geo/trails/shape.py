"""Describe a trail's shape: closed line, breaks, dead-end spurs, length walked twice, busy-road crossings.

The same description serves the planned trails (:func:`~ordos_geo.trails.plan_trails`,
its trails table) and the checked ones (:func:`~ordos_geo.trails.check_trails`,
its lines table): :data:`SHAPE_COLUMNS` are built for one trail, given as the
street segments of a :class:`~ordos_geo.trails.TrailPrizeModel`, by one function.
Lengths in metres in the network's metric CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse
import shapely
from scipy.sparse.csgraph import dijkstra

from ordos_geo.network import WalkNetwork
from ordos_geo.trails import _orienteering
from ordos_geo.trails.prize import TrailPrizeModel

__all__ = ["MAJOR_ROAD_HIGHWAYS", "SHAPE_COLUMNS"]

#: Highway tags whose crossing a trail check counts (busy streets a walker has to cross).
MAJOR_ROAD_HIGHWAYS: tuple[str, ...] = ("primary", "primary_link", "secondary", "secondary_link")
#: A drawn line this close to a major street meets it (m): exports and datum round trips move lines by
#: micrometres, which must not decide whether a line touching a street's end counts.
CROSSING_TOLERANCE_M: float = 0.5
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


def _trail_is_loop(model: TrailPrizeModel, segments: Sequence[int]) -> bool:
    """Whether the segments hold a circuit (at least as many segments as junctions)."""
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
    """Places (20 m apart) where ``line`` crosses or meets a primary/secondary street it does not follow.

    A line within :data:`CROSSING_TOLERANCE_M` of such a street meets it.
    """
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
    hit = shapely.STRtree(geoms).query(line, predicate="dwithin", distance=CROSSING_TOLERANCE_M)
    if hit.size == 0:
        return 0
    near = shapely.union_all(shapely.buffer(geoms[hit], CROSSING_TOLERANCE_M))
    points = shapely.get_coordinates(shapely.intersection(line, near))
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
