"""Raw ``.osm.pbf`` to the walk network's arrays, read by pyrosm's PBF decoder.

pyrosm's ``pyrosm.pbfreader.parse_osm_data`` (pyrosm >= 0.25) decodes a whole
extract into arrays in a few seconds: the node columns (``id``, ``lon``,
``lat``, and ``tags`` as a ``pyrosm.way_store.NodeTags``), the ways as a
``pyrosm.way_store.WayStore`` (CSR arrays: ``ids``, ``refs`` / ``refs_off``,
``keys`` / ``vals`` string ids into ``strings`` with ``tags_off``) and the
relations as columns (``id``, ``members``, ``tags``). These are pyrosm's
module-level, documented but not top-level, functions and classes (its ``OSM``
class builds GeoDataFrames from them, which costs what we want to avoid);
``tests/test_network.py::test_pyrosm_arrays_the_pbf_reader_relies_on`` pins
what is used here.

The reader keeps what pyosmium's streaming reader kept: the ways with a
``highway`` tag or in a ``highway`` multipolygon relation, and only the nodes
they use; every way's tags are reduced to the keys the walk network reads and
grouped into distinct tag sets, all on arrays.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ordos_geo._errors import InputDataError
from ordos_geo._optional import import_pyrosm
from ordos_geo.network._osm import _OsmData
from ordos_geo.network.arrays import _ragged_rows, ragged_take
from ordos_geo.network.rules import _useful_tags, _way_tag_keys


def _string_ids(strings: list[str], wanted: set[str] | frozenset[str]) -> np.ndarray:
    return np.array([i for i, text in enumerate(strings) if text in wanted], dtype=np.int64)


def _pbf_tag_sets(ways: Any, rows: np.ndarray) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Each way's (``rows``) tags on the keys the walk network reads, as an index into the distinct sets."""
    at, owner = _ragged_rows(ways.tags_off, rows)
    keys = ways.keys[at].astype(np.int64)
    wanted = np.isin(keys, _string_ids(ways.strings, _way_tag_keys()))
    codes = (keys[wanted] << 32) | ways.vals[at][wanted].astype(np.int64)
    owner = owner[wanted]
    sizes = np.bincount(owner, minlength=len(rows))
    column = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    group = np.zeros(len(rows), dtype=np.int64)  # ways with the same tags so far share a group
    for c in range(int(sizes.max(initial=0))):  # one column of tags at a time (a way's c-th kept tag)
        value = np.full(len(rows), -1, dtype=np.int64)
        value[owner[column == c]] = codes[column == c]
        _, value_code = np.unique(value, return_inverse=True)
        _, group = np.unique(group * (len(rows) + 1) + value_code.ravel(), return_inverse=True)
        group = group.ravel()
    _, first = np.unique(group, return_index=True)
    strings = ways.strings
    starts = np.cumsum(sizes) - sizes
    sets = [
        {strings[c >> 32]: strings[c & 0xFFFFFFFF] for c in codes[starts[row] : starts[row] + sizes[row]].tolist()}
        for row in first.tolist()
    ]
    return group.astype(np.int64), sets


def _relations(relations: dict[str, Any]) -> list[tuple[int, list[tuple[int, str]], dict[str, str]]]:
    """The multipolygon relations with a ``highway`` tag: (id, [(member way id, role)], tags)."""
    kept = []
    for rel_id, members, tags in zip(
        relations.get("id", []), relations.get("members", []), relations.get("tags", []), strict=True
    ):
        tags = tags or {}
        if tags.get("type") == "multipolygon" and "highway" in tags:
            ways = [
                (int(ref), str(role) or "outer")
                for ref, kind, role in zip(
                    members["member_id"], members["member_type"], members["member_role"], strict=True
                )
                if kind == b"way"
            ]
            kept.append((int(rel_id), ways, dict(tags)))
    return kept


def _node_tags(tags: Any, rows: np.ndarray, ids: np.ndarray) -> dict[int, dict[str, str]]:
    """Osmnx's useful node tags of the nodes at ``rows`` (those that have any), by node id."""
    useful = _string_ids(tags.strings, set(_useful_tags("node")))
    if len(tags.rows) == 0 or len(useful) == 0:
        return {}
    has = np.zeros(len(tags.rows), dtype=bool)
    hit = np.isin(tags.keys, useful)
    owner = np.repeat(np.arange(len(tags.rows)), np.diff(tags.tags_off))
    has[owner[hit]] = True
    tagged = np.flatnonzero(has & np.isin(tags.rows, rows))
    node_of_row = dict(zip(rows.tolist(), ids.tolist(), strict=True)) if len(tagged) else {}
    useful_keys = set(_useful_tags("node"))
    result: dict[int, dict[str, str]] = {}
    strings = tags.strings
    for i in tagged.tolist():
        entries = range(int(tags.tags_off[i]), int(tags.tags_off[i + 1]))
        result[node_of_row[int(tags.rows[i])]] = {
            strings[tags.keys[j]]: strings[tags.vals[j]] for j in entries if strings[tags.keys[j]] in useful_keys
        }
    return result


def _read_osm_pbf(path: Path) -> _OsmData:
    """Read a PBF extract with pyrosm into the arrays the walk network is built from.

    The nodes, ways and multipolygon relations pyosmium's reader used to keep
    (see the module docstring), in the file's order.
    """
    import_pyrosm()
    from google.protobuf.message import Error as ProtobufError
    from pyrosm.exceptions import PBFException
    from pyrosm.pbfreader import parse_osm_data

    try:
        nodes, ways, relations, *_ = parse_osm_data(str(path), None, False, None, keep_metadata=False)
    except (PBFException, ProtobufError, OSError, ValueError, EOFError, zlib.error) as error:
        msg = f"{path}: cannot read this PBF extract ({error}); check it is a complete .osm.pbf file"
        raise InputDataError(msg) from error
    kept_relations = _relations(relations or {})
    if not nodes or len(ways) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _OsmData(empty, empty.astype(float), empty.astype(float), {}, empty, empty, np.zeros(1, np.int64),
                        empty, [], kept_relations, len(ways) if nodes else 0)  # fmt: skip
    highway = np.isin(ways.keys, _string_ids(ways.strings, {"highway"}))
    owner = np.repeat(np.arange(len(ways.ids)), np.diff(ways.tags_off))
    keep = np.zeros(len(ways.ids), dtype=bool)
    keep[owner[highway]] = True
    members = [ref for _, refs, _ in kept_relations for ref, _ in refs]
    if members:
        keep |= np.isin(ways.ids, np.array(members, dtype=np.int64))
    rows = np.flatnonzero(keep)
    refs_off, refs = ragged_take(ways.refs_off, ways.refs, rows)
    way_tags, tag_sets = _pbf_tag_sets(ways, rows)
    node_rows = np.flatnonzero(np.isin(nodes["id"], refs))  # the nodes the kept ways use, in the file's order
    node_ids = nodes["id"][node_rows].astype(np.int64)
    return _OsmData(
        node_ids=node_ids,
        lon=nodes["lon"][node_rows].astype(float),
        lat=nodes["lat"][node_rows].astype(float),
        node_tags=_node_tags(nodes["tags"], node_rows, node_ids),
        way_ids=ways.ids[rows].astype(np.int64),
        refs=refs.astype(np.int64),
        refs_off=refs_off,
        way_tags=way_tags,
        tag_sets=tag_sets,
        relations=kept_relations,
        ways_seen=len(ways),
    )
