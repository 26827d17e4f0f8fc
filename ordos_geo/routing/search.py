"""Shortest-path core: multi-source Dijkstra searches from snapped points, bounded and unbounded.

Distances come from the compiled Dijkstra of :mod:`scipy.sparse.csgraph`. Each
facility becomes one virtual node joined to the two ends of the edge of each of
its access points, with the exact partial-edge costs: a point at offset ``b`` on
the directed edge ``u -> v`` of length ``L`` is entered from ``u`` at cost
``b`` and from ``v`` at cost ``L - b`` only if the reverse edge ``v -> u``
exists (one-way footbridges stay one-way); an origin at offset ``a`` leaves
towards ``v`` at ``L - a`` and towards ``u`` at ``a`` only if the reverse edge
exists. Pairs on the same street segment are measured directly along it. The
nearest facility of each kind is one multi-source search on the transposed
graph (``min_only=True``). Ties are broken in favour of the lexicographically
smallest ``facility_id``.

Many-to-many distances run bounded searches tile by tile: sources are grouped
into square tiles and each search runs on the sub-network within the Euclidean
reach of the tile (network distance is never shorter than the straight line),
so memory stays bounded by the tile size, never ``n_sources x n_nodes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse
from scipy.sparse.csgraph import dijkstra
from tqdm.auto import tqdm

from ordos_geo.routing._fork import _Forked
from ordos_geo.routing.index import NetworkIndex, _node_grid, _nodes_in_box
from ordos_geo.routing.snapping import SnappedPoints

#: Total tie-break perturbation (metres) spread over facility ranks; removed again from reported distances.
TIE_BUDGET_M = 1e-3
#: Dense distance entries per Dijkstra call (rows x sub-network nodes), about 128 MB of float64.
_DENSE_BUDGET = 1 << 24
#: Node searches (nodes x kinds) from which the per-kind nearest searches are split over a forked child process.
_FORK_MIN_WORK = 500_000


def tie_penalties(group_rank: np.ndarray) -> np.ndarray:
    """Tie-break perturbation (metres) of each facility group from its rank among all groups.

    Equal distances are resolved towards the lower rank by adding
    ``(rank + 1) * TIE_BUDGET_M / n_groups``; the total stays within
    :data:`TIE_BUDGET_M`, and the reported distances have it removed again.

    Parameters
    ----------
    group_rank : numpy.ndarray
        ``(n_groups,)`` rank of each group (0 = wins every tie).

    Returns
    -------
    numpy.ndarray
        ``(n_groups,)`` penalties in metres.

    Examples
    --------
    >>> tie_penalties(np.array([1, 0])) * 1e3
    array([1. , 0.5])
    """
    return (np.asarray(group_rank) + 1) * (TIE_BUDGET_M / max(len(group_rank), 1))


def _attach(index: NetworkIndex, edge: np.ndarray, offset: np.ndarray, how: str) -> tuple[np.ndarray, ...]:
    """Node links of points on edges: ``(point position, node, cost)``.

    ``how="exit"``: walking from the point to the node; ``how="entry"``: from the node to the point.
    """
    positions = np.arange(len(edge))
    has_twin = index.twin[edge] >= 0
    length = index.length[edge]
    if how == "exit":
        always = (positions, index.v[edge], length - offset)
        sometimes = (positions[has_twin], index.u[edge][has_twin], offset[has_twin])
    else:
        always = (positions, index.u[edge], offset)
        sometimes = (positions[has_twin], index.v[edge][has_twin], (length - offset)[has_twin])
    pos = np.concatenate([always[0], sometimes[0]])
    node = np.concatenate([always[1], sometimes[1]])
    cost = np.maximum(np.concatenate([always[2], sometimes[2]]), 0.0)
    return pos, node, cost


def _same_edge_pairs(
    index: NetworkIndex, orig_edge: np.ndarray, orig_offset: np.ndarray, dest_edge: np.ndarray, dest_offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Direct along-edge distances between origin and destination points on the same edge."""
    marked = np.zeros(len(index.length), dtype=np.int8)
    marked[dest_edge] = 1
    o = np.flatnonzero(marked[orig_edge])
    if len(o) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    marked[:] = 0
    marked[orig_edge[o]] = 1
    d = np.flatnonzero(marked[dest_edge])
    pairs = pd.DataFrame({"e": orig_edge[o], "o": o}).merge(pd.DataFrame({"e": dest_edge[d], "d": d}), on="e")
    po = pairs["o"].to_numpy()
    pd_ = pairs["d"].to_numpy()
    a = orig_offset[po]
    b = dest_offset[pd_]
    two_way = index.twin[pairs["e"].to_numpy()] >= 0
    cost = np.where(b >= a, b - a, np.where(two_way, a - b, np.inf))
    ok = np.isfinite(cost)
    return po[ok], pd_[ok], cost[ok]


def _augmented(graph: scipy.sparse.csr_matrix, group: np.ndarray, node: np.ndarray, cost: np.ndarray, n_groups: int):
    """Append ``n_groups`` virtual source rows (``group -> node`` at ``cost``, minimum of duplicates)."""
    n = graph.shape[0]
    order = np.lexsort((cost, node, group))
    group, node, cost = group[order], node[order], cost[order]
    first = np.ones(len(group), dtype=bool)
    first[1:] = (group[1:] != group[:-1]) | (node[1:] != node[:-1])
    # A zero link (an access point on the node) stays 0: the matrix is built from its arrays, which keeps
    # explicit zeros, and csgraph's searches take an explicit zero as an edge of length 0.
    group, node, cost = group[first], node[first], cost[first]
    counts = np.bincount(group, minlength=n_groups)
    indptr = np.concatenate([graph.indptr.astype(np.int64), graph.indptr[-1] + np.cumsum(counts)])
    indices = np.concatenate([graph.indices.astype(np.int64), node])
    data = np.concatenate([graph.data, cost])
    size = n + n_groups
    return scipy.sparse.csr_matrix((data, indices, indptr), shape=(size, size))


class NearestSearch:
    """Per-kind multi-source searches from the facilities towards every origin (see :func:`start_nearest`).

    Each facility (a group of access points) is one virtual source entering
    its points at their partial-edge costs, plus a tie-break penalty
    ``(group_rank + 1) * TIE_BUDGET_M / n_groups`` (removed again from the true
    distances), so equal distances go to the lowest rank. One search per kind
    (:meth:`kind`) runs on the transposed graph with ``min_only=True``.

    Parameters
    ----------
    index : NetworkIndex
        The network index (:func:`~ordos_geo.routing.network_index`).
    orig : SnappedPoints
        The origins (their rows are the output rows).
    dest : SnappedPoints
        The access points of the facilities.
    dest_group_of_owner : numpy.ndarray
        Group (facility) of each row of ``dest``.
    group_rank : numpy.ndarray
        Tie-break rank of each group (0 first); its length is the number of groups.
    kinds_of_group : numpy.ndarray
        Kind position of each group.
    max_distance_m : float
        Farther facilities are not found (metres along the network).

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import geopandas as gpd
    >>> from ordos_geo.routing import network_index, snap_points
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0, 170.0], [-5.0, -5.0]), crs=net.crs)
    >>> orig, dest = snap_points(net, homes, polygon_access="centroid"), snap_points(net, halls)
    >>> search = NearestSearch(network_index(net), orig, dest, np.arange(2), np.arange(2), np.array([0, 0]), 1000.0)
    >>> best, true, group = np.empty(2), np.empty(2), np.empty(2, dtype=np.int64)
    >>> search.kind(0, best, true, group)
    >>> true.tolist(), group.tolist()
    ([20.0, 20.0], [0, 1])
    """

    def __init__(
        self,
        index: NetworkIndex,
        orig: SnappedPoints,
        dest: SnappedPoints,
        dest_group_of_owner: np.ndarray,
        group_rank: np.ndarray,
        kinds_of_group: np.ndarray,
        max_distance_m: float,
    ) -> None:
        n_groups = len(group_rank)
        self.n_groups = n_groups
        self.max_distance_m = max_distance_m
        self.kinds_of_group = kinds_of_group
        self.penalty = tie_penalties(group_rank)
        ok = dest.reachable
        d_owner = dest.owner[ok]
        d_group = dest_group_of_owner[d_owner]
        d_edge = dest.edge[ok]
        d_off = dest.offset_m[ok]
        pos, node, cost = _attach(index, d_edge, d_off, "entry")
        grp = d_group[pos]
        self.present = np.zeros(max(n_groups, 1), dtype=bool)
        self.present[grp] = True
        self.graph = _augmented(index.backward, grp, node, cost + self.penalty[grp], n_groups)
        self.n = index.n_nodes

        self.orig = orig
        self.o_ok = np.flatnonzero(orig.reachable)
        o_edge = orig.edge[self.o_ok]
        self.o_off = orig.offset_m[self.o_ok]
        self.o_len = index.length[o_edge]
        self.o_v = index.v[o_edge]
        self.o_u = index.u[o_edge]
        self.o_two_way = index.twin[o_edge] >= 0
        self.one_point_each = orig.one_point_each
        s_o, s_d, s_cost = _same_edge_pairs(index, o_edge, self.o_off, d_edge, d_off)
        self.s_o = s_o
        self.s_group = d_group[s_d]
        self.s_cost = s_cost + self.penalty[self.s_group]

    def kind(self, k: int, out_best: np.ndarray, out_true: np.ndarray, out_group: np.ndarray) -> None:
        """Fill perturbed distance, true distance and nearest group of each origin owner for kind ``k``."""
        n, o_ok, orig = self.n, self.o_ok, self.orig
        sources = np.flatnonzero((self.kinds_of_group == k) & self.present[: len(self.kinds_of_group)])
        best = np.full(len(o_ok), np.inf)
        best_group = np.full(len(o_ok), -1, dtype=np.int64)
        if len(sources):
            dist, _pred, src = dijkstra(
                self.graph,
                directed=True,
                indices=n + sources,
                min_only=True,
                limit=self.max_distance_m + 2 * TIE_BUDGET_M,
                return_predecessors=True,
            )
            # leave towards v (always) or towards u (two-way streets only)
            via_v = (self.o_len - self.o_off) + dist[self.o_v]
            via_u = np.where(self.o_two_way, self.o_off + dist[self.o_u], np.inf)
            use_u = via_u < via_v
            best = np.where(use_u, via_u, via_v)
            best_src = np.where(use_u, src[self.o_u], src[self.o_v])
            best_group = np.where(np.isfinite(best) & (best_src >= 0), best_src - n, -1)
            best[best_group < 0] = np.inf
            sel = self.kinds_of_group[self.s_group] == k
            _reduce_min(best, best_group, self.s_o[sel], self.s_cost[sel], self.s_group[sel])
        # one row per origin owner: the best of its points
        full_best = np.full(orig.n_owners, np.inf)
        full_group = np.full(orig.n_owners, -1, dtype=np.int64)
        if self.one_point_each:
            full_best[o_ok], full_group[o_ok] = best, best_group
        else:
            _reduce_min(full_best, full_group, orig.owner[o_ok], best, best_group)
        chosen_penalty = self.penalty[np.maximum(full_group, 0)] if self.n_groups else np.zeros(orig.n_owners)
        full_true = np.where(full_group >= 0, full_best - chosen_penalty, np.inf)
        too_far = ~(full_true <= self.max_distance_m)
        full_true[too_far] = np.inf
        full_best[too_far] = np.inf
        full_group[too_far] = -1
        out_best[:] = full_best
        out_true[:] = np.maximum(full_true, 0.0)
        out_group[:] = full_group


class NearestJob:
    """Nearest-facility searches of several kinds, the first ``n_child`` kinds possibly in a forked child.

    On a large network (``nodes x n_child >= _FORK_MIN_WORK``) the kinds
    ``[0, n_child)`` run in a child process (:class:`_Forked`) while the
    caller does other work; the other kinds run here in :meth:`result`.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import geopandas as gpd
    >>> from ordos_geo.routing import network_index, snap_points
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0, 170.0], [-5.0, -5.0]), crs=net.crs)
    >>> orig, dest = snap_points(net, homes, polygon_access="centroid"), snap_points(net, halls)
    >>> groups, kinds = np.arange(2), np.array([0, 0])  # each hall its own facility, both of kind 0
    >>> job = start_nearest(network_index(net), orig, dest, groups, groups, kinds, ["any"], 1000.0)
    >>> isinstance(job, NearestJob), job.result()["any"][1].tolist()
    (True, [20.0, 20.0])
    """

    def __init__(self, search: NearestSearch, kind_names: Sequence[str], n_child: int, *, progress=None) -> None:
        self.search = search
        self.kind_names = list(kind_names)
        self.progress = progress
        n_kinds = len(self.kind_names)
        n_owners = search.orig.n_owners
        self.n_child = min(n_child, n_kinds) if search.n * n_child >= _FORK_MIN_WORK and n_owners > 0 else 0
        shape = (self.n_child, n_owners)

        def fill(best: np.ndarray, true: np.ndarray, group: np.ndarray) -> None:
            for k in range(self.n_child):
                search.kind(k, best[k], true[k], group[k])

        self.child = _Forked(
            [(shape, np.float64), (shape, np.float64), (shape, np.int64)], fill, background=self.n_child > 0
        )

    @property
    def child_s(self) -> float:
        """Seconds the child process spent (0 when everything ran here)."""
        return self.child.child_s

    def cancel(self) -> None:
        """Stop the child process (when the caller fails)."""
        self.child.cancel()

    def result(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per kind name: perturbed distance, true distance and nearest group of each origin owner."""
        out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        n_owners = self.search.orig.n_owners
        todo = range(self.n_child, len(self.kind_names))
        disable = None if self.progress is None else not self.progress
        for k in tqdm(todo, desc="nearest facility", unit="kind", disable=disable):
            arrays = (np.empty(n_owners), np.empty(n_owners), np.empty(n_owners, dtype=np.int64))
            self.search.kind(k, *arrays)
            out[self.kind_names[k]] = arrays
        best, true, group = self.child.result()
        for k in range(self.n_child):
            out[self.kind_names[k]] = (best[k], true[k], group[k])
        return {kind: out[kind] for kind in self.kind_names}


def start_nearest(
    index: NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    dest_group_of_owner: np.ndarray,
    group_rank: np.ndarray,
    kinds_of_group: np.ndarray,
    kind_names: Sequence[str],
    max_distance_m: float,
    *,
    child_share: float = 0.5,
    progress: bool | None = None,
) -> NearestJob:
    """Start the per-kind nearest-facility searches; ``child_share`` of the kinds may run in a child process.

    Parameters
    ----------
    index, orig, dest, dest_group_of_owner, group_rank, kinds_of_group, max_distance_m
        As for :class:`NearestSearch`.
    kind_names : sequence of str
        Name of each kind position, the keys of the result.
    child_share : float, default 0.5
        Share of the kinds searched in a forked child process (on large networks only).
    progress : bool, optional
        Show a progress bar; default: only on a terminal.

    Returns
    -------
    NearestJob
        Call :meth:`NearestJob.result` for the distances (the caller may do
        other work first); :meth:`NearestJob.cancel` when the caller fails.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import geopandas as gpd
    >>> from ordos_geo.routing import network_index, snap_points
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0, 170.0], [-5.0, -5.0]), crs=net.crs)
    >>> orig, dest = snap_points(net, homes, polygon_access="centroid"), snap_points(net, halls)
    >>> groups, kinds = np.arange(2), np.array([0, 0])  # each hall its own facility, both of kind 0
    >>> job = start_nearest(network_index(net), orig, dest, groups, groups, kinds, ["any"], 1000.0)
    >>> best, true, group = job.result()["any"]  # per home: distance with tie-break, metres, nearest hall
    >>> true.tolist(), group.tolist()
    ([20.0, 20.0], [0, 1])
    """
    search = NearestSearch(index, orig, dest, dest_group_of_owner, group_rank, kinds_of_group, max_distance_m)
    n_child = round(child_share * len(kind_names))
    return NearestJob(search, kind_names, n_child, progress=progress)


def _reduce_min(best: np.ndarray, best_group: np.ndarray, pos: np.ndarray, cand: np.ndarray, cand_group: np.ndarray):
    """In place: ``best[pos] = min(best[pos], cand)`` keeping the group of the minimum (smaller group on ties)."""
    if len(pos) == 0:
        return
    order = np.lexsort((cand_group, cand, pos))
    pos, cand, cand_group = pos[order], cand[order], cand_group[order]
    first = np.ones(len(pos), dtype=bool)
    first[1:] = pos[1:] != pos[:-1]
    pos, cand, cand_group = pos[first], cand[first], cand_group[first]
    better = cand < best[pos]
    best[pos[better]] = cand[better]
    best_group[pos[better]] = cand_group[better]


def _subgraph(graph: scipy.sparse.csr_matrix, nodes: np.ndarray, local_of: np.ndarray) -> scipy.sparse.csr_matrix:
    """Sub-matrix of ``graph`` on ``nodes`` (``local_of`` maps global -> local, -1 outside)."""
    starts = graph.indptr[nodes]
    counts = graph.indptr[nodes + 1] - starts
    total = int(counts.sum())
    idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
    cols = local_of[graph.indices[idx]]
    rows = np.repeat(np.arange(len(nodes)), counts)
    keep = cols >= 0
    return scipy.sparse.csr_matrix((graph.data[idx][keep], (rows[keep], cols[keep])), shape=(len(nodes), len(nodes)))


def _tile_subgraphs(
    index: NetworkIndex,
    graph: scipy.sparse.csr_matrix,
    box: np.ndarray,
    present: np.ndarray,
    limit: float,
    *,
    progress: bool | None,
    desc: str,
) -> Iterator[tuple[np.ndarray, np.ndarray, scipy.sparse.csr_matrix, np.ndarray]]:
    """Yield ``(groups, nodes, subgraph, local_of)`` for each square tile of source groups.

    The groups ``present`` are put into square tiles by the centre of their
    bounding box ``box[group] = (xmin, ymin, xmax, ymax)``; a tile's
    ``subgraph`` (of ``graph``) holds the ``nodes`` within the Euclidean reach
    of its boxes (network distance >= straight-line distance x
    ``reach_ratio``), so no walk of at most ``limit`` from its groups leaves
    it. ``local_of`` maps global node -> row of the subgraph (-1 outside; its
    last entry, for "no node", stays -1) and is valid until the next item.
    """
    reach = limit / index.reach_ratio + 1.0
    tile_m = max(4.0 * limit, 1_000.0)  # larger tiles: fewer sub-networks, each reused by more sources
    centre = (box[present, :2] + box[present, 2:]) / 2.0
    tile = np.floor(centre / tile_m).astype(np.int64)
    tile_key = tile[:, 0] * 10_000_019 + tile[:, 1]
    order = np.argsort(tile_key, kind="stable")
    present, tile_key = present[order], tile_key[order]
    splits = np.flatnonzero(np.diff(tile_key)) + 1
    tiles = np.split(present, splits)

    grid = _node_grid(index, tile_m)
    local_of = np.full(index.n_nodes + 1, -1, dtype=np.int64)  # the last entry stays -1 (no node)
    for groups in tqdm(tiles, desc=desc, unit="tile", disable=None if progress is None else not progress):
        tile_box = np.array(
            [
                box[groups, 0].min() - reach,
                box[groups, 1].min() - reach,
                box[groups, 2].max() + reach,
                box[groups, 3].max() + reach,
            ]
        )
        nodes = _nodes_in_box(index, grid, tile_m, tile_box)
        if len(nodes) == 0:
            continue
        local_of[nodes] = np.arange(len(nodes))
        yield groups, nodes, _subgraph(graph, nodes, local_of), local_of
        local_of[nodes] = -1


def _bounded_search(
    index: NetworkIndex,
    graph: scipy.sparse.csr_matrix,
    src_group: np.ndarray,
    src_node: np.ndarray,
    src_cost: np.ndarray,
    src_xy: np.ndarray,
    src_xy_group: np.ndarray,
    limit: float,
    *,
    progress: bool | None = None,
    desc: str = "network search",
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(groups, nodes, distances, local_of)`` tile by tile, a chunk of groups at a time.

    ``distances`` is dense ``(len(groups), len(nodes))`` (``inf`` beyond
    ``limit``); ``local_of`` maps global node -> column (-1 outside) and is
    valid until the next item.

    Each group is a virtual source linked to ``src_node`` at ``src_cost``; the
    search for a tile runs on the nodes within the Euclidean reach of its
    sources (:func:`_tile_subgraphs`).
    """
    if len(src_group) == 0:
        return
    n_groups = int(src_group.max()) + 1
    # group bounding boxes from their access points and their linked nodes
    gx = np.concatenate([src_xy[:, 0], index.node_xy[src_node, 0]])
    gy = np.concatenate([src_xy[:, 1], index.node_xy[src_node, 1]])
    gg = np.concatenate([src_xy_group, src_group])
    box = np.empty((n_groups, 4))
    box[:, 0] = box[:, 1] = np.inf
    box[:, 2] = box[:, 3] = -np.inf
    np.minimum.at(box[:, 0], gg, gx)
    np.minimum.at(box[:, 1], gg, gy)
    np.maximum.at(box[:, 2], gg, gx)
    np.maximum.at(box[:, 3], gg, gy)
    present = np.flatnonzero(np.isfinite(box[:, 0]) & np.isin(np.arange(n_groups), src_group))
    link_order = np.argsort(src_group, kind="stable")
    link_ptr = np.concatenate([[0], np.cumsum(np.bincount(src_group, minlength=n_groups))])
    tiles = _tile_subgraphs(index, graph, box, present, limit, progress=progress, desc=desc)
    for groups, nodes, sub, local_of in tiles:
        starts = link_ptr[groups]
        counts = link_ptr[groups + 1] - starts
        li = link_order[np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())]
        local_group = np.repeat(np.arange(len(groups)), counts)
        lnode = local_of[src_node[li]]
        keep = lnode >= 0
        aug = _augmented(sub, local_group[keep], lnode[keep], src_cost[li][keep], len(groups))
        n_local = len(nodes)
        rows_per_call = max(1, min(len(groups), _DENSE_BUDGET // max(n_local + len(groups), 1)))
        for start in range(0, len(groups), rows_per_call):
            chunk = np.arange(start, min(start + rows_per_call, len(groups)))
            dist = dijkstra(aug, directed=True, indices=n_local + chunk, limit=limit)[:, :n_local]
            yield groups[chunk], nodes, dist, local_of


def _node_search(
    index: NetworkIndex, sources: np.ndarray, limit: float, *, progress: bool | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(positions, nodes, distances)``: walks from the nodes ``sources[positions]`` within ``limit``.

    ``distances`` is dense ``(len(positions), len(nodes))`` (``inf`` beyond
    ``limit``), searched forwards (walking away from the source) on the
    sub-network of each tile of sources (:func:`_tile_subgraphs`); a search
    from a node needs no virtual source, so the distances are those of
    :func:`scipy.sparse.csgraph.dijkstra` on the whole network.
    """
    if len(sources) == 0:
        return
    xy = index.node_xy[sources]
    box = np.hstack([xy, xy])
    tiles = _tile_subgraphs(
        index, index.forward, box, np.arange(len(sources)), limit, progress=progress, desc="node search"
    )
    for groups, nodes, sub, local_of in tiles:
        rows_per_call = max(1, min(len(groups), _DENSE_BUDGET // max(len(nodes), 1)))
        for start in range(0, len(groups), rows_per_call):
            chunk = groups[start : start + rows_per_call]
            yield chunk, nodes, dijkstra(sub, directed=True, indices=local_of[sources[chunk]], limit=limit)


def _triples(search: Iterable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the finite entries of a :func:`_bounded_search` as ``(group, node, distance)``."""
    parts = []
    for groups, nodes, dist, _local_of in search:
        r, c = np.nonzero(np.isfinite(dist))
        parts.append((groups[r], nodes[c], dist[r, c]))
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    group, node, dist = (np.concatenate([p[i] for p in parts]) for i in range(3))
    return group, node, dist


def node_distances_to_points(
    index: NetworkIndex,
    points: SnappedPoints,
    limit: float,
    *,
    progress: bool | None = None,
    desc: str = "network search",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walking distance from every node within ``limit`` to each row of ``points``, as long arrays.

    One bounded search per row, walking backwards from its access points
    (entered at their partial-edge costs; one-way edges stay one-way) over
    the sub-network within the Euclidean reach of its tile.

    Parameters
    ----------
    index : NetworkIndex
        The network index (:func:`~ordos_geo.routing.network_index`).
    points : SnappedPoints
        The destinations (facilities); unreachable access points are left out.
    limit : float
        Largest distance returned (metres along the network).
    progress : bool, optional
        Show a progress bar; default: only on a terminal.
    desc : str, default "network search"
        Label of the progress bar.

    Returns
    -------
    row : numpy.ndarray
        Row of ``points`` (int64).
    node : numpy.ndarray
        Node position (int64).
    distance : numpy.ndarray
        Metres from the node to the row's nearest access point, at most ``limit``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import geopandas as gpd
    >>> from ordos_geo.routing import network_index, snap_points
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0, 170.0], [-5.0, -5.0]), crs=net.crs)
    >>> orig, dest = snap_points(net, homes, polygon_access="centroid"), snap_points(net, halls)
    >>> row, node, distance = node_distances_to_points(network_index(net), dest, 150.0)
    >>> row.tolist(), node.tolist(), distance.tolist()
    ([0, 0, 1, 1], [0, 1, 1, 2], [30.0, 70.0, 70.0, 30.0])
    """
    ok = points.reachable
    owner, edge, offset = points.owner[ok], points.edge[ok], points.offset_m[ok]
    pos, node, cost = _attach(index, edge, offset, "entry")
    return _triples(
        _bounded_search(
            index,
            index.backward,
            owner[pos],
            node,
            cost,
            points.point_xy[ok],
            owner,
            limit,
            progress=progress,
            desc=desc,
        )
    )


def _links(index: NetworkIndex, edge: np.ndarray, offset: np.ndarray, how: str):
    """Both node links of each point: ``(node1, cost1, node2, cost2)``, ``node2 = -1`` on one-way edges."""
    length = index.length[edge]
    two_way = index.twin[edge] >= 0
    if how == "exit":
        node1, cost1 = index.v[edge], length - offset
        node2, cost2 = np.where(two_way, index.u[edge], -1), offset
    else:
        node1, cost1 = index.u[edge], offset
        node2, cost2 = np.where(two_way, index.v[edge], -1), length - offset
    return node1, np.maximum(cost1, 0.0), node2, np.maximum(cost2, 0.0)


def pairs_within(
    index: NetworkIndex,
    orig: SnappedPoints,
    dest: SnappedPoints,
    limit: float,
    *,
    progress: bool | None = None,
    sort: bool = True,
) -> pd.DataFrame:
    """Origin row, destination row and network distance of every pair within ``limit``.

    Bounded multi-source searches tile by tile (from the destinations,
    walking backwards, when they are the fewer rows); pairs on the same edge are
    measured along it; a row with several access points keeps its nearest.

    Parameters
    ----------
    index : NetworkIndex
        The network index (:func:`~ordos_geo.routing.network_index`).
    orig, dest : SnappedPoints
        Where walks start and end.
    limit : float
        Largest distance returned (metres along the network, snap legs excluded).
    progress : bool, optional
        Show a progress bar; default: only on a terminal.
    sort : bool, default True
        Sort by origin then destination (``False`` saves the sort).

    Returns
    -------
    pandas.DataFrame
        Long table ``origin``, ``destination`` (row positions of the frames
        snapped), ``distance_m``.

    Examples
    --------
    >>> from ordos_geo.sample import tiny_street
    >>> net = tiny_street()  # nodes 0 - 1 - 2, 100 m apart along y = 0
    >>> import geopandas as gpd
    >>> from ordos_geo.routing import network_index, snap_points
    >>> homes = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10.0, 190.0], [5.0, 5.0]), crs=net.crs)
    >>> halls = gpd.GeoDataFrame(geometry=gpd.points_from_xy([30.0, 170.0], [-5.0, -5.0]), crs=net.crs)
    >>> orig, dest = snap_points(net, homes, polygon_access="centroid"), snap_points(net, halls)
    >>> pairs_within(network_index(net), orig, dest, 150.0)
       origin  destination  distance_m
    0       0            0        20.0
    1       1            1        20.0
    """
    o_ok = np.flatnonzero(orig.reachable)
    d_ok = np.flatnonzero(dest.reachable)
    empty = pd.DataFrame({"origin": np.empty(0, np.int64), "destination": np.empty(0, np.int64), "distance_m": []})
    if len(o_ok) == 0 or len(d_ok) == 0:
        return empty
    o_owner, o_edge, o_off = orig.owner[o_ok], orig.edge[o_ok], orig.offset_m[o_ok]
    d_owner, d_edge, d_off = dest.owner[d_ok], dest.edge[d_ok], dest.offset_m[d_ok]
    n_dest_groups = int((np.bincount(d_owner) > 0).sum())
    n_orig_groups = int((np.bincount(o_owner) > 0).sum())
    backwards = n_dest_groups <= n_orig_groups
    if backwards:
        # search backwards from destinations (entering them), then leave each origin point
        pos, node, cost = _attach(index, d_edge, d_off, "entry")
        src_group, graph = d_owner[pos], index.backward
        src_xy, src_xy_group = dest.point_xy[d_ok], d_owner
        t_owner = o_owner
        node1, cost1, node2, cost2 = _links(index, o_edge, o_off, "exit")
    else:
        pos, node, cost = _attach(index, o_edge, o_off, "exit")
        src_group, graph = o_owner[pos], index.forward
        src_xy, src_xy_group = orig.point_xy[o_ok], o_owner
        t_owner = d_owner
        node1, cost1, node2, cost2 = _links(index, d_edge, d_off, "entry")
    n_targets = (orig.n_owners if backwards else dest.n_owners) + 1
    unique_owner = len(t_owner) < 2 or bool(np.all(np.diff(t_owner) > 0))
    # node -> target point links, sorted by node; each link knows the point's other link (node n_nodes: none)
    has2 = node2 >= 0
    first_of = np.flatnonzero(has2)
    link_node = np.concatenate([node1, node2[has2]])
    link_point = np.concatenate([np.arange(len(node1)), first_of])
    link_cost = np.concatenate([cost1, cost2[has2]])
    other_node = np.concatenate([np.where(has2, node2, index.n_nodes), node1[has2]])
    other_cost = np.concatenate([cost2, cost1[has2]])
    is_first = np.concatenate([np.ones(len(node1), dtype=bool), np.zeros(len(first_of), dtype=bool)])
    link_order = np.argsort(link_node, kind="stable")
    link_ptr = np.concatenate([[0], np.cumsum(np.bincount(link_node, minlength=index.n_nodes))])
    link_point, link_cost = link_point[link_order], link_cost[link_order]
    other_node, other_cost, is_first = other_node[link_order], other_cost[link_order], is_first[link_order]

    groups_out: list[np.ndarray] = []
    owners_out: list[np.ndarray] = []
    dist_out: list[np.ndarray] = []
    search = _bounded_search(index, graph, src_group, node, cost, src_xy, src_xy_group, limit, progress=progress)
    for groups, nodes, dist, local_of in search:
        r, c = np.nonzero(dist <= limit)
        node_hit = nodes[c]
        starts = link_ptr[node_hit]
        counts = link_ptr[node_hit + 1] - starts
        total = int(counts.sum())
        if total == 0:
            continue
        idx = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        row = np.repeat(r, counts)
        via_this = np.repeat(dist[r, c], counts) + link_cost[idx]
        other_col = local_of[other_node[idx]]  # local_of[n_nodes] == -1
        via_other = np.where(other_col >= 0, dist[row, other_col], np.inf) + other_cost[idx]
        # each (row, point) once: from its first link, or from the second when the first is not reached
        emit = is_first[idx] | ~np.isfinite(via_other)
        cand = np.minimum(via_this, via_other)
        emit &= cand <= limit
        groups_out.append(groups[row[emit]])
        owners_out.append(t_owner[link_point[idx[emit]]])
        dist_out.append(cand[emit])
    group = np.concatenate(groups_out) if groups_out else np.empty(0, np.int64)
    owner = np.concatenate(owners_out) if owners_out else np.empty(0, np.int64)
    dist_all = np.concatenate(dist_out) if dist_out else np.empty(0)
    key = group.astype(np.int64) * n_targets + owner
    # direct along-edge pairs; and several points per owner: keep the minimum per pair
    s_o, s_d, s_cost = _same_edge_pairs(index, o_edge, o_off, d_edge, d_off)
    keep = s_cost <= limit
    if backwards:
        s_key = d_owner[s_d[keep]] * n_targets + o_owner[s_o[keep]]
    else:
        s_key = o_owner[s_o[keep]] * n_targets + d_owner[s_d[keep]]
    s_cost = s_cost[keep]
    if not unique_owner or len(s_key):
        if unique_owner:
            s_sorted = np.sort(s_key)
            slot = np.minimum(np.searchsorted(s_sorted, key), len(s_sorted) - 1)
            touched = s_sorted[slot] == key
            rest_key, rest_cost = key[~touched], dist_all[~touched]
            key, dist_all = np.concatenate([key[touched], s_key]), np.concatenate([dist_all[touched], s_cost])
        else:
            rest_key, rest_cost = np.empty(0, np.int64), np.empty(0)
            key, dist_all = np.concatenate([key, s_key]), np.concatenate([dist_all, s_cost])
        order = np.lexsort((dist_all, key))
        key, dist_all = key[order], dist_all[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        key = np.concatenate([rest_key, key[first]])
        dist_all = np.concatenate([rest_cost, dist_all[first]])
    a, b = key // n_targets, key % n_targets
    origin, destination = (b, a) if backwards else (a, b)
    if not sort:
        return pd.DataFrame({"origin": origin, "destination": destination, "distance_m": dist_all})
    order = np.argsort(origin * (dest.n_owners + 1) + destination, kind="stable")
    return pd.DataFrame(
        {
            "origin": origin[order].astype(np.int64),
            "destination": destination[order].astype(np.int64),
            "distance_m": dist_all[order],
        }
    )
