"""Raw OSM data straight to the array network: segments, largest component, lengths, simplification, projection.

Every step works on numpy arrays and gives the network osmnx's recipe gives
(``_graph_from_osm_data`` -> ``largest_component`` -> ``add_edge_lengths`` ->
``simplify_graph`` -> ``project_graph``): the same nodes, directed edges, keys,
lengths, geometries and OSM attributes, in the same order (node and edge order
break ties in routing, so they are part of "the same network").
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse
import scipy.sparse.csgraph
from tqdm.auto import tqdm

from ordos_geo._crs import metric_crs_for
from ordos_geo._errors import ConfigError, NetworkDataError
from ordos_geo.network._osm import (
    _area_links,
    _check_node_coordinates,
    _OsmData,
    _walkable_ways,
)
from ordos_geo.network.arrays import (
    WalkNetwork,
    _adjacency,
    _encode_records,
    _encode_shared_records,
    _json_bytes,
    _take_xy,
    ragged_take,
)
from ordos_geo.network.rules import _EXTRA_WAY_TAGS, _pedestrian_direction, _useful_tags

logger = logging.getLogger(__name__)

_EARTH_RADIUS_M = 6_371_009  # osmnx.distance.EARTH_RADIUS_M, the radius of osmnx's great-circle lengths


@dataclass
class _Segments:
    """The unsimplified walk graph as arrays: nodes in insertion order, directed segments in insertion order."""

    node_ids: np.ndarray  # int64 OSM ids
    lon: np.ndarray
    lat: np.ndarray
    node_tags: list[dict[str, str]]
    u: np.ndarray  # node positions
    v: np.ndarray
    record: np.ndarray  # position in ``records`` of the segment's way attributes
    reverse: np.ndarray  # bool: drawn against the way's direction
    records: list[dict[str, Any]]
    shared: _SharedRecords  # the same records, each way's tags held once per tag set
    name: str


@dataclass
class _SharedRecords:
    """Way records as ``{"osmid": ids[r], **tags[of[r]]}``: one tags dict per tag set (see _encode_shared_records)."""

    ids: np.ndarray
    tags: list[dict[str, Any]]
    of: np.ndarray


@dataclass
class _Simplified:
    """The cleaned, simplified network, unprojected, in osmnx's order after ``project_graph``."""

    node_ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    node_tags: list[dict[str, str]]
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    length: np.ndarray
    path_offsets: np.ndarray  # edge e runs through nodes path_nodes[path_offsets[e]:path_offsets[e + 1]]
    path_nodes: np.ndarray  # positions in all_lon / all_lat (the nodes before simplification)
    all_lon: np.ndarray
    all_lat: np.ndarray
    node_positions: np.ndarray  # each node's position in all_lon / all_lat
    seg_offsets: np.ndarray  # edge e is made of segments seg_*[seg_offsets[e]:seg_offsets[e + 1]]
    seg_record: np.ndarray
    seg_reverse: np.ndarray
    seg_length: np.ndarray
    records: list[dict[str, Any]]
    shared: _SharedRecords
    graph_attrs: dict[str, Any]


def _chains_to_segments(
    offsets: np.ndarray, nodes: np.ndarray, record: np.ndarray, both: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node chains (drawn in order, each also backwards when ``both``) to directed segments, in osmnx's order.

    Returns the node ids in order of first appearance, and each segment's
    ``u``, ``v`` (positions in those ids), record and ``reverse``: chain by
    chain, its segments forwards, then (``both``) the same backwards.
    """
    ids, first, inverse = np.unique(nodes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    position = rank[inverse.ravel()]
    pairs = np.maximum(np.diff(offsets) - 1, 0)  # segments drawn forwards per chain
    out = np.zeros(len(pairs) + 1, dtype=np.int64)
    np.cumsum(pairs * (1 + both), out=out[1:])
    chain = np.repeat(np.arange(len(pairs)), pairs)
    step = np.arange(len(chain)) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    start = offsets[:-1][chain] + step
    back = both[chain]
    total = int(out[-1])
    u = np.empty(total, dtype=np.int64)
    v = np.empty(total, dtype=np.int64)
    reverse = np.zeros(total, dtype=bool)
    forward_at = out[:-1][chain] + step
    u[forward_at], v[forward_at] = position[start], position[start + 1]
    backward_at = (out[:-1][chain] + pairs[chain] + step)[back]
    u[backward_at], v[backward_at] = position[start + 1][back], position[start][back]
    reverse[backward_at] = True
    segment_record = np.repeat(record, pairs * (1 + both))
    return ids[order], u, v, segment_record, reverse


def _node_tag_list(node_ids: np.ndarray, tags: dict[int, dict[str, str]]) -> list[dict[str, str]]:
    """Each node's tags (osmnx's useful ones; an empty dict for most nodes)."""
    node_tags: list[dict[str, str]] = [{} for _ in range(len(node_ids))]
    if tags and len(node_ids):
        tagged = np.fromiter(tags, dtype=np.int64, count=len(tags))
        sorter = np.argsort(node_ids)
        at = sorter[np.minimum(np.searchsorted(node_ids, tagged, sorter=sorter), len(node_ids) - 1)]
        for node, i in zip(tagged[node_ids[at] == tagged].tolist(), at[node_ids[at] == tagged].tolist(), strict=True):
            node_tags[i] = tags[node]
    return node_tags


def _segments_from_osm_data(data: _OsmData, *, name: str) -> tuple[_Segments, dict[str, Any]]:
    """Apply the walking rule and list the directed segments in the order osmnx's graph would hold them.

    Nodes come in order of first appearance along the walkable ways (then the
    pedestrian areas' outlines and links); each way adds its segments forwards,
    then backwards unless ``oneway:foot`` binds it.
    """
    _check_node_coordinates(data.node_ids, data.lon, data.lat, name=name)
    keep_tags = list(dict.fromkeys([*_useful_tags("way"), *_EXTRA_WAY_TAGS, "area"]))
    walkable, counts = _walkable_ways(data)

    # the lines: one record per way (its tags shared by every way with the same tag set)
    line_sets = data.way_tags[walkable.lines]
    distinct = np.unique(line_sets)
    one_way = np.zeros(len(data.tag_sets), dtype=bool)
    reverse = np.zeros(len(data.tag_sets), dtype=bool)
    shared: dict[int, dict[str, Any]] = {}
    for code in distinct.tolist():
        tags = data.tag_sets[code]
        one_way[code], reverse[code] = _pedestrian_direction(tags)
        shared[code] = {**{k: tags[k] for k in keep_tags if k in tags}, "oneway": bool(one_way[code])}
    line_ids = data.way_ids[walkable.lines]
    records: list[dict[str, Any]] = [
        {"osmid": osm_id, **shared[code]} for osm_id, code in zip(line_ids.tolist(), line_sets.tolist(), strict=True)
    ]
    shared_tags = [shared[code] for code in distinct.tolist()]
    shared_of = [np.searchsorted(distinct, line_sets)]
    piece_set = line_sets[walkable.piece_line]
    offsets, nodes = walkable.piece_off, walkable.piece_nodes.copy()
    flip = reverse[piece_set]
    if flip.any():  # oneway:foot=-1: the piece is walked from its last node
        sizes = np.diff(offsets)
        owner = np.repeat(np.arange(len(sizes)), sizes)
        at = np.arange(len(nodes))
        flipped = flip[owner]
        at[flipped] = (2 * offsets[:-1][owner] + sizes[owner] - 1 - at)[flipped]
        nodes = nodes[at]
    chain_offsets = [offsets]
    chain_nodes = [nodes]
    chain_record = [walkable.piece_line]
    chain_both = [~one_way[piece_set]]

    # the pedestrian areas: outline rings, then the links across them
    links = 0
    area_chains: list[list[int]] = []
    area_records: list[int] = []
    for area in walkable.areas:
        attrs = {"osmid": area.osm_id, **{k: area.tags[k] for k in keep_tags if k in area.tags}}
        records.append(attrs | {"area": "yes", "oneway": False})
        shared_of.append(np.array([len(shared_tags)]))
        shared_tags.append({k: value for k, value in records[-1].items() if k != "osmid"})
        area_chains += area.rings
        area_records += [len(records) - 1] * len(area.rings)
        meeting = [n for n in dict.fromkeys(n for ring in area.rings for n in ring) if walkable.members.get(n, 0) >= 2]
        area_links = _area_links(area, meeting, data)
        if area_links:
            records.append(attrs | {"area": "yes", "oneway": False, "area_link": True})
            shared_of.append(np.array([len(shared_tags)]))
            shared_tags.append({k: value for k, value in records[-1].items() if k != "osmid"})
        area_chains += [[a, b] for a, b in area_links]
        area_records += [len(records) - 1] * len(area_links)
        links += len(area_links)
    if area_chains:
        sizes = np.array([len(chain) for chain in area_chains], dtype=np.int64)
        chain_offsets.append(offsets[-1] + np.cumsum(sizes))
        chain_nodes.append(np.array([n for chain in area_chains for n in chain], dtype=np.int64))
        chain_record.append(np.array(area_records, dtype=np.int64))
        chain_both.append(np.ones(len(area_chains), dtype=bool))
    node_ids, u, v, record, seg_reverse = _chains_to_segments(
        np.concatenate(chain_offsets),
        np.concatenate(chain_nodes),
        np.concatenate(chain_record),
        np.concatenate(chain_both),
    )
    counts.update(
        ways_total=data.ways_seen,
        multipolygons_total=len(data.relations),
        pedestrian_areas=len(walkable.areas),
        pedestrian_area_links=links,
    )
    lon, lat = data.coordinates(node_ids)
    segments = _Segments(
        node_ids=node_ids,
        lon=lon,
        lat=lat,
        node_tags=_node_tag_list(node_ids, data.node_tags),
        u=u,
        v=v,
        record=record,
        reverse=seg_reverse,
        records=records,
        shared=_SharedRecords(
            ids=np.array(
                [*line_ids.tolist(), *(record["osmid"] for record in records[len(line_ids) :])], dtype=np.int64
            ),
            tags=shared_tags,
            of=np.concatenate(shared_of).astype(np.int64),
        ),
        name=name,
    )
    return segments, counts


# ---------------------------------------------------------------------------
# Largest component and lengths
# ---------------------------------------------------------------------------


def _largest_component(segments: _Segments, report: dict[str, Any]) -> _Segments:
    """Keep the largest weakly connected component (ties: the one holding the earliest node, as networkx)."""
    n = len(segments.node_ids)
    matrix = scipy.sparse.coo_array((np.ones(len(segments.u)), (segments.u, segments.v)), shape=(n, n))
    count, labels = scipy.sparse.csgraph.connected_components(matrix, directed=True, connection="weak")
    sizes = np.bincount(labels, minlength=count)
    first = np.full(count, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    largest = np.flatnonzero(sizes == sizes.max())
    keep_label = largest[np.argmin(first[largest])]
    keep = labels == keep_label
    kept_segments = keep[segments.u]
    report.update(
        components_total=int(count),
        components_dropped=int(count) - 1,
        nodes_dropped=int(n - keep.sum()),
        edges_dropped=int(len(segments.u) - kept_segments.sum()),
    )
    order = np.flatnonzero(keep) if count == 1 or 2 * keep.sum() >= n else _networkx_subgraph_order(segments, keep)
    new_of = np.full(n, -1, dtype=np.int64)
    new_of[order] = np.arange(len(order))
    return _Segments(
        node_ids=segments.node_ids[order],
        lon=segments.lon[order],
        lat=segments.lat[order],
        node_tags=[segments.node_tags[i] for i in order.tolist()],
        u=new_of[segments.u[kept_segments]],
        v=new_of[segments.v[kept_segments]],
        record=segments.record[kept_segments],
        reverse=segments.reverse[kept_segments],
        records=segments.records,
        shared=segments.shared,
        name=segments.name,
    )


def _networkx_subgraph_order(segments: _Segments, keep: np.ndarray) -> np.ndarray:
    """Node positions of a component holding less than half the nodes, in the order osmnx's subgraph keeps them.

    networkx iterates such a subgraph by the Python set of its nodes (``nx.filters.show_nodes``),
    filled from the set its breadth-first search filled; the same sets, filled the same way, give the
    same order.
    """
    n = len(segments.node_ids)
    succ_ptr, succ = _successor_lists(segments.u, segments.v, n)
    pred_ptr, pred = _successor_lists(segments.v, segments.u, n)
    ids = segments.node_ids.tolist()
    source = int(np.argmax(keep))
    seen = {ids[source]}
    level = [source]
    while level:
        this_level, level = level, []
        for node in this_level:
            for w in succ[succ_ptr[node] : succ_ptr[node + 1]] + pred[pred_ptr[node] : pred_ptr[node + 1]]:
                if ids[w] not in seen:
                    seen.add(ids[w])
                    level.append(w)
    position = {node: i for i, node in enumerate(ids)}
    shown = set(iter(seen))  # G.subgraph: show_nodes(set(G.nbunch_iter(nodes))), filled one node at a time
    return np.array([position[node] for node in shown], dtype=np.int64)


def _great_circle_lengths(segments: _Segments) -> np.ndarray:
    """Segment lengths in metres, as ``osmnx.distance.great_circle`` gives them (what ``add_edge_lengths`` uses).

    The same numpy operations in the same order as osmnx 2's haversine, so the
    lengths are bit-identical (the networkx-reference tests check it) without
    importing osmnx, which takes seconds (it loads matplotlib) on every run.
    """
    u, v = segments.u, segments.v
    lat1, lon1, lat2, lon2 = segments.lat[u], segments.lon[u], segments.lat[v], segments.lon[v]
    y1, y2 = np.deg2rad(lat1), np.deg2rad(lat2)
    delta_y = y2 - y1
    delta_x = np.deg2rad(lon2) - np.deg2rad(lon1)
    h = np.sin(delta_y / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(delta_x / 2) ** 2
    h = np.minimum(1, h)  # protect against floating point errors
    lengths = np.asarray(2 * np.arcsin(np.sqrt(h)) * _EARTH_RADIUS_M)
    lengths[np.isnan(lengths)] = 0
    return lengths


def _created_with() -> str:
    """The ``created_with`` graph attribute osmnx's own graphs carry, read without importing osmnx."""
    return f"ordos_geo / OSMnx {importlib.metadata.version('osmnx')}"


# ---------------------------------------------------------------------------
# Topological simplification (osmnx.simplify_graph on arrays)
# ---------------------------------------------------------------------------


def _endpoints(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Osmnx's ``_is_endpoint`` rules 1-3 for every node: self-loop, no in or no out edge, not a 2-neighbour chain."""
    self_loop = np.zeros(n, dtype=bool)
    self_loop[u[u == v]] = True
    out_degree = np.bincount(u, minlength=n)
    in_degree = np.bincount(v, minlength=n)
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = _unique_ints(a[a != b] * n + b[a != b])
    neighbours = np.bincount(pairs // n, minlength=n) + np.bincount(pairs % n, minlength=n)
    degree = out_degree + in_degree
    chain = (neighbours == 2) & ((degree == 2) | (degree == 4))
    return self_loop | (out_degree == 0) | (in_degree == 0) | ~chain


def _unique_ints(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy's hash-based unique is several times slower on millions)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _successor_arrays(
    u: np.ndarray, v: np.ndarray, n: int, first: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct successors of each node in networkx's adjacency order (first insertion): ``(indptr, node, successor)``.

    ``first``: the position of each distinct ``(u, v)`` pair's first segment, if known.
    """
    if first is None:
        _, first = np.unique(u * n + v, return_index=True)
    # by node, then first insertion (the key is unique: one slot per distinct pair)
    order = np.argsort(u[first] * len(u) + first)
    pair_u, pair_v = u[first][order], v[first][order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_u, minlength=n), out=indptr[1:])
    return indptr, pair_u, pair_v


def _successor_lists(u: np.ndarray, v: np.ndarray, n: int) -> tuple[list[int], list[int]]:
    """Distinct successors of each node in networkx's adjacency order (first insertion), as CSR lists."""
    indptr, _, successors = _successor_arrays(u, v, n)
    return indptr.tolist(), successors.tolist()


def _paths(
    u: np.ndarray, v: np.ndarray, n: int, endpoint: np.ndarray, name: str, first: np.ndarray | None = None
) -> list[list[int]]:
    """Osmnx's ``_get_paths_to_simplify`` / ``_build_path``: from each endpoint through each non-endpoint successor."""
    indptr, pair_u, pair_v = _successor_arrays(u, v, n, first)
    starts = np.flatnonzero(endpoint[pair_u] & ~endpoint[pair_v])  # in osmnx's order: by endpoint, then successor
    is_end = endpoint.tolist()
    successors, ptr = pair_v.tolist(), indptr.tolist()
    paths = []
    for start, first_node in tqdm(
        zip(pair_u[starts].tolist(), pair_v[starts].tolist(), strict=True),
        total=len(starts),
        desc=f"{name}: simplify",
        disable=None,
        leave=False,
    ):
        paths.append(_build_path(start, first_node, is_end, ptr, successors))
    return paths


def _build_path(start: int, first: int, is_end: list[bool], indptr: list[int], successors: list[int]) -> list[int]:
    """One path from an endpoint to the next, exactly as osmnx's ``_build_path`` walks it."""
    path = [start, first]
    seen = {start, first}
    for following in successors[indptr[first] : indptr[first + 1]]:
        if following in seen:
            continue
        path.append(following)
        seen.add(following)
        node = following
        while not is_end[node]:
            options = [w for w in successors[indptr[node] : indptr[node + 1]] if w not in seen]
            if len(options) == 1:
                node = options[0]
                path.append(node)
                seen.add(node)
            elif not options:
                if start in successors[indptr[node] : indptr[node + 1]]:
                    return [*path, start]  # the end of a self-looping edge
                logger.warning("network: unexpected simplify pattern near node position %s", node)
                return path
            else:  # pragma: no cover - a node with two new ways on is an endpoint
                msg = f"network: impossible simplify pattern near node position {node}"
                raise NetworkDataError(msg)
        return path
    return path


def _simplify(segments: _Segments, length: np.ndarray) -> _Simplified:
    """``osmnx.simplify_graph`` (rings removed) then ``project_graph``'s reordering, on arrays."""
    n = len(segments.node_ids)
    u, v = segments.u, segments.v
    endpoint = _endpoints(u, v, n)
    codes = u * n + v
    unique_codes, first_segment = np.unique(codes, return_index=True)
    paths = _paths(u, v, n, endpoint, segments.name, first_segment)
    path_sizes = np.array([len(p) for p in paths], dtype=np.int64)
    path_nodes = np.fromiter((node for p in paths for node in p), dtype=np.int64, count=int(path_sizes.sum()))
    path_offsets = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum(path_sizes, out=path_offsets[1:])
    removed = np.zeros(n, dtype=bool)
    inner = np.ones(len(path_nodes), dtype=bool)
    inner[path_offsets[:-1]] = False
    inner[path_offsets[1:] - 1] = False
    removed[path_nodes[inner]] = True

    # each path's segments: the first edge (lowest key) between consecutive path nodes
    step = np.ones(len(path_nodes), dtype=bool)
    step[path_offsets[1:] - 1] = False
    step_codes = path_nodes[step] * n + path_nodes[np.flatnonzero(step) + 1]
    path_segments = first_segment[np.searchsorted(unique_codes, step_codes)]
    path_seg_offsets = path_offsets - np.arange(len(paths) + 1)
    path_length = np.zeros(len(paths))
    seg_length = length[path_segments]
    for k in range(int(path_sizes.max(initial=1)) - 1):  # left to right, as Python's sum over the path
        has = path_sizes - 1 > k
        path_length[has] += seg_length[path_seg_offsets[:-1][has] + k]

    # the simplified graph: kept original segments (both ends survive) then the new edges, networkx's order
    keep_segment = ~removed[u] & ~removed[v]
    n_seg = len(u)
    all_u = np.concatenate([u, path_nodes[path_offsets[:-1]]])
    all_v = np.concatenate([v, path_nodes[path_offsets[1:] - 1]])
    all_codes = all_u * n + all_v
    by_group = np.argsort(all_codes, kind="stable")  # grouped by (u, v), each group in insertion order
    sorted_codes = all_codes[by_group]
    head = np.ones(len(by_group), dtype=bool)
    head[1:] = sorted_codes[1:] != sorted_codes[:-1]
    starts = np.flatnonzero(head)
    group = np.cumsum(head) - 1
    slot = np.empty(len(all_codes), dtype=np.int64)  # each row's group: the position of its first row
    slot[by_group] = by_group[starts][group]
    key = np.empty(len(all_codes), dtype=np.int64)  # rank in its group: osmnx's key
    key[by_group] = np.arange(len(by_group)) - starts[group]
    # a new edge ending at a node another path removes goes with that node (osmnx adds, then removes)
    keep_path = ~removed[all_u[n_seg:]] & ~removed[all_v[n_seg:]]
    rows = np.concatenate([np.flatnonzero(keep_segment), n_seg + np.flatnonzero(keep_path)])
    rows = rows[np.lexsort((key[rows], slot[rows], all_u[rows]))]

    # ragged per-row data: path nodes and segments (an original segment is its own one-segment path)
    row_path_offsets = np.concatenate([np.arange(n_seg + 1) * 2, 2 * n_seg + path_offsets[1:]])
    row_path_nodes = np.concatenate([np.column_stack([u, v]).ravel(), path_nodes])
    row_seg_offsets = np.concatenate([np.arange(n_seg + 1), n_seg + path_seg_offsets[1:]])
    row_segments = np.concatenate([np.arange(n_seg), path_segments])
    row_length = np.concatenate([length, path_length])

    # remove self-contained rings: components without an endpoint of the simplified graph
    ru, rv = all_u[rows], all_v[rows]
    alive = np.flatnonzero(~removed)
    ring_free = _drop_rings(ru, rv, n, alive)
    rows = rows[ring_free[ru]]
    alive = alive[ring_free[alive]]

    # project_graph rebuilds the graph from its edge table: nodes in order of first appearance (u, v, u, v, ...)
    ru, rv = all_u[rows], all_v[rows]
    interleaved = np.column_stack([ru, rv]).ravel()
    _, first_seen = np.unique(interleaved, return_index=True)
    appearing = interleaved[np.sort(first_seen)]
    seen = np.zeros(n, dtype=bool)
    seen[appearing] = True
    isolated = alive[~seen[alive]]  # np.setdiff1d(alive, appearing): alive is sorted and unique
    node_order = np.concatenate([appearing, isolated])
    rank = np.full(n, -1, dtype=np.int64)
    rank[node_order] = np.arange(len(node_order))
    rows = rows[np.argsort(rank[ru], kind="stable")]

    edge_path_offsets, edge_path_nodes = ragged_take(row_path_offsets, row_path_nodes, rows)
    edge_seg_offsets, edge_segments = ragged_take(row_seg_offsets, row_segments, rows)
    return _Simplified(
        node_ids=segments.node_ids[node_order],
        lon=segments.lon[node_order],
        lat=segments.lat[node_order],
        node_tags=[segments.node_tags[i] for i in node_order.tolist()],
        u=rank[all_u[rows]],
        v=rank[all_v[rows]],
        key=key[rows],
        length=row_length[rows],
        path_offsets=edge_path_offsets,
        path_nodes=edge_path_nodes,
        all_lon=segments.lon,
        all_lat=segments.lat,
        node_positions=node_order,
        seg_offsets=edge_seg_offsets,
        seg_record=segments.record[edge_segments],
        seg_reverse=segments.reverse[edge_segments],
        seg_length=length[edge_segments],
        records=segments.records,
        shared=segments.shared,
        graph_attrs={},
    )


def _drop_rings(u: np.ndarray, v: np.ndarray, n: int, alive: np.ndarray) -> np.ndarray:
    """Per node: ``False`` in components of the graph ``(u, v)`` that have no endpoint (isolated rings)."""
    matrix = scipy.sparse.coo_array((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = scipy.sparse.csgraph.connected_components(matrix, directed=True, connection="weak")
    endpoint = _endpoints(u, v, n)
    has_endpoint = np.zeros(labels.max() + 1, dtype=bool)
    has_endpoint[labels[alive[endpoint[alive]]]] = True
    return has_endpoint[labels]


# ---------------------------------------------------------------------------
# The whole cleaning: component, lengths, simplification, projection
# ---------------------------------------------------------------------------


def _strongly_connected_share(u: np.ndarray, v: np.ndarray, n: int) -> int:
    matrix = scipy.sparse.coo_array((np.ones(len(u)), (u, v)), shape=(n, n))
    _, labels = scipy.sparse.csgraph.connected_components(matrix, directed=True, connection="strong")
    return int(np.bincount(labels).max()) if n else 0


def _clean_segments(segments: _Segments, report: dict[str, Any], graph_attrs: dict[str, Any]) -> _Simplified:
    """Largest weakly connected component, great-circle lengths, simplification (as :func:`clean_walk_graph`)."""
    if len(segments.u) == 0:
        msg = f"{report.get('source', 'walk network')}: no walkable edges; see the cleaning report {report}"
        raise NetworkDataError(msg)
    largest = _largest_component(segments, report)
    simplified = _simplify(largest, _great_circle_lengths(largest))
    if len(simplified.u) == 0:
        msg = (
            f"{report.get('source', 'walk network')}: the largest connected part of the walk network is one closed "
            "ring with no junction, which simplification removes (as osmnx); give an extract with connected streets"
        )
        raise NetworkDataError(msg)
    simplified.graph_attrs = {**graph_attrs, "simplified": True}
    n = len(simplified.node_ids)
    report.update(
        nodes_not_strongly_connected=n - _strongly_connected_share(simplified.u, simplified.v, n),
        nodes=n,
        edges=len(simplified.u),
    )
    return simplified


def _metric_crs(crs: Any) -> pyproj.CRS:
    """``crs`` as a projected CRS in metres, or a :class:`ConfigError` saying what to give."""
    try:
        target = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as error:
        msg = f"crs={crs!r} is not a CRS pyproj understands; give an EPSG code such as 4546 or 32650"
        raise ConfigError(msg) from error
    unit = target.axis_info[0].unit_name if target.axis_info else ""
    if target.is_geographic or unit not in ("metre", "meter"):
        msg = f"crs={crs!r} is not a projected CRS in metres; give e.g. 4546 (CGCS2000 GK CM 111E) or a UTM zone"
        raise ConfigError(msg)
    return target


def _target_crs(lon: np.ndarray, lat: np.ndarray, crs: Any) -> pyproj.CRS:
    if crs is not None:
        return _metric_crs(crs)
    corners = gpd.points_from_xy([np.nanmin(lon), np.nanmax(lon)], [np.nanmin(lat), np.nanmax(lat)])
    return metric_crs_for(gpd.GeoSeries(corners, crs=4326))  # it reads the bounds only


def _project(lon: np.ndarray, lat: np.ndarray, transformer: pyproj.Transformer) -> np.ndarray:
    """Coordinates in the transformer's target CRS (pyproj, longitude first, as geopandas' ``to_crs``)."""
    x, y = transformer.transform(lon, lat)
    return np.column_stack([x, y])


def _highway_column(simplified: _Simplified) -> pd.api.extensions.ExtensionArray:
    """Each edge's ``highway`` (the first of a merged list, as :func:`walk_network_from_graph` takes it)."""
    shared = simplified.shared
    by_set = [tags.get("highway") for tags in shared.tags]  # a record's highway is its tag set's
    names, set_codes = np.unique(np.array([str(h) for h in by_set if h is not None]), return_inverse=True)
    codes = np.full(len(by_set), -1, dtype=np.int64)  # -1: no highway
    codes[[h is not None for h in by_set]] = set_codes
    seg_sets = shared.of[simplified.seg_record]
    seg_codes = codes[seg_sets]
    starts = simplified.seg_offsets[:-1]
    edge_codes = seg_codes[starts] if len(starts) else np.empty(0, dtype=np.int64)
    if len(seg_codes):
        low, high = np.minimum.reduceat(seg_codes, starts), np.maximum.reduceat(seg_codes, starts)
        mixed = np.flatnonzero((low != high) | (low < 0))
        offsets = simplified.seg_offsets.tolist()
        per_segment = np.array(by_set, dtype=object)[seg_sets] if len(mixed) else np.empty(0, object)
        for e in mixed.tolist():
            values = [h for h in per_segment[offsets[e] : offsets[e + 1]].tolist() if h is not None]
            value = (values[0] if len(set(values)) == 1 else next(iter(set(values)))) if values else None
            edge_codes[e] = -1 if value is None else int(np.searchsorted(names, str(value)))
    return pd.array(names.tolist(), dtype="str").take(edge_codes, allow_fill=True)


def _network_from_simplified(simplified: _Simplified, *, crs: Any, report: dict[str, Any]) -> WalkNetwork:
    """Project the simplified arrays (pyproj) and assemble the :class:`WalkNetwork` with its attribute columns."""
    target = _target_crs(simplified.lon, simplified.lat, crs)
    transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_epsg(4326), target, always_xy=True)
    all_xy = _project(simplified.all_lon, simplified.all_lat, transformer)  # each node once, then gathered
    node_xy = _take_xy(all_xy, simplified.node_positions)
    n_records = len(simplified.records)
    attributes = {
        "graph_attrs": _json_bytes({**simplified.graph_attrs, "crs": target.to_string()}),
        **_encode_records(simplified.node_tags, "node"),
        **_encode_shared_records(simplified.shared.ids, simplified.shared.tags, simplified.shared.of, "record"),
        "record_count": np.array(n_records),
        "seg_offsets": simplified.seg_offsets,
        "seg_record": simplified.seg_record,
        "seg_reverse": simplified.seg_reverse.astype(np.int8),
        "seg_length": simplified.seg_length,
        "has_geometry": np.diff(simplified.seg_offsets) > 1,
    }
    edges = pd.DataFrame(
        {
            "u": simplified.u,
            "v": simplified.v,
            "key": simplified.key,
            "length": simplified.length,
            "highway": _highway_column(simplified),
        }
    )
    n = len(simplified.node_ids)
    report.update(crs=target.to_string())
    logger.info("network: %s nodes, %s directed edges", f"{n:,}", f"{len(edges):,}")
    return WalkNetwork(
        crs=target,
        node_ids=simplified.node_ids,
        node_xy=node_xy,
        edge_table=edges,
        edge_coords=_take_xy(all_xy, simplified.path_nodes),
        edge_offsets=simplified.path_offsets,
        adjacency=_adjacency(simplified.u, simplified.v, simplified.length, n),
        report=report,
        attributes=attributes,
    )


def network_from_osm_data(
    data: _OsmData, *, name: str, source: str, crs: Any = None, no_edges: str | None = None
) -> WalkNetwork:
    """Raw OSM nodes and ways to the projected, simplified :class:`WalkNetwork`, on arrays all the way.

    Parameters
    ----------
    data : _OsmData
        What an OSM reader kept (XML, PBF or Overpass JSON).
    name : str
        Name of the source in messages and in the graph's ``name``.
    source : str
        The report's ``source``.
    crs : pyproj.CRS, str or int, optional
        Metric CRS (default: :func:`ordos_geo._crs.metric_crs_for` the nodes).
    no_edges : str, optional
        Message of the error raised when no walkable edge is found (default:
        one naming the extract and its way counts).

    Returns
    -------
    WalkNetwork
        With ``report`` the way counts of the walking rule and the component
        counts of :func:`~ordos_geo.network.clean_walk_graph`, and ``crs``.
    """
    segments, counts = _segments_from_osm_data(data, name=name)
    full_report: dict[str, Any] = {"source": source, **counts}
    if no_edges is not None and len(segments.u) == 0:
        raise NetworkDataError(no_edges)
    if counts["ways_walkable"] == 0 or len(segments.u) == 0:
        _no_edges(counts, source)
    graph_attrs = {"crs": "epsg:4326", "created_with": _created_with(), "name": name}
    simplified = _clean_segments(segments, full_report, graph_attrs)
    logger.info(
        "%s: %s of %s ways walkable, %s clipped ways repaired, %s components dropped (%s nodes)",
        name,
        full_report["ways_walkable"],
        full_report["ways_total"],
        full_report["ways_repaired"],
        full_report["components_dropped"],
        full_report["nodes_dropped"],
    )
    return _network_from_simplified(simplified, crs=crs, report=full_report)


def _no_edges(counts: dict[str, Any], source: str) -> None:
    if counts["ways_walkable"] == 0:
        msg = (
            f"{source}: none of its {counts['ways_total']} ways is walkable (walking rule: a `highway` tag that "
            "is not motorway/cycleway/construction..., not access=private or foot=no without foot=yes); "
            "the extract may hold only buildings or land use: export the streets and paths too"
        )
        raise NetworkDataError(msg)
    msg = (
        f"{source}: its {counts['ways_walkable']} walkable ways have no two consecutive nodes inside the "
        "extract, so no street segment remains; export a larger area with complete ways"
    )
    raise NetworkDataError(msg)


def _graph_from_segments(segments: _Segments) -> Any:
    """The unsimplified osmnx-style graph of the segments (EPSG:4326, great-circle ``length``)."""
    import networkx as nx

    graph = nx.MultiDiGraph(crs="epsg:4326", created_with=_created_with(), name=segments.name)
    rows = zip(
        segments.node_ids.tolist(), segments.lon.tolist(), segments.lat.tolist(), segments.node_tags, strict=True
    )
    graph.add_nodes_from((node, {"y": lat, "x": lon, **tags}) for node, lon, lat, tags in rows)
    ids = segments.node_ids
    edges = zip(
        ids[segments.u].tolist(),
        ids[segments.v].tolist(),
        segments.record.tolist(),
        segments.reverse.tolist(),
        _great_circle_lengths(segments).tolist(),
        strict=True,
    )
    graph.add_edges_from(
        (u, v, {**segments.records[r], "reversed": rev, "length": length}) for u, v, r, rev, length in edges
    )
    return graph
