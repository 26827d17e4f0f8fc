"""Underserved neighbourhoods: groups of touching underserved cells, ranked, with their dissolved outlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse
import shapely
from scipy.sparse.csgraph import connected_components

from ordos_geo.accessibility._raster_groups import RasterCells, numbered_by_first, raster_groups

#: Pieces of neighbourhood outlines: per (tile, first row of the piece), the piece's rows and its outline.
OutlinePieces = dict[tuple[int, int], tuple[np.ndarray, Any]]


@dataclass(frozen=True, eq=False)
class Outlines:
    """What an update reuses of a run's neighbourhood outlines.

    Attributes
    ----------
    pieces : dict
        The pieces the larger neighbourhoods' outlines were dissolved from,
        tile by tile (cells unioned as polygons): an update redraws only the
        pieces whose cells changed.
    grid : RasterCells or None
        The underserved cells checked to be a raster's pixels (outlines read
        off the grid): an update reads their corners from here.
    """

    pieces: OutlinePieces = field(default_factory=dict)
    grid: RasterCells | None = None


#: Side (metres) of the square tiles a neighbourhood larger than one is dissolved in, piece by piece: an
#: update redraws the pieces whose cells changed (a plan's new trails and venues touch a few tiles of the
#: largest neighbourhoods), and merging the pieces costs about their outlines, not their cells.
_OUTLINE_TILE_M = 1_000.0


def _outline_tiles(centre: np.ndarray) -> np.ndarray:
    """Key of the square tile of side :data:`_OUTLINE_TILE_M` holding each centre (one integer)."""
    if len(centre) == 0:
        return np.empty(0, dtype=np.int64)
    tile = np.floor(centre / _OUTLINE_TILE_M).astype(np.int64)
    return tile[:, 0] * 4_000_037 + tile[:, 1]


def underserved_neighbourhoods(
    cells: gpd.GeoDataFrame,
    underserved: np.ndarray,
    *,
    centroids: np.ndarray | None = None,
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Group underserved cells into neighbourhoods of touching cells, ranked by population.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        Cell polygons with ``population`` (and optionally ``district``).
    underserved : numpy.ndarray
        Boolean mask of the underserved cells.
    centroids : numpy.ndarray, optional
        ``(n, 2)`` centroids of all cells (``shapely.centroid``), when already
        at hand (the snapped cells' points): a million cells take seconds.

    Returns
    -------
    neighbourhoods : geopandas.GeoDataFrame
        ``neighbourhood_id`` (1 = most populous), ``population``, ``n_cells``,
        ``district`` (holding most of its population), population-weighted
        ``centroid_x`` / ``centroid_y`` and the dissolved polygon.
    neighbourhood_of_cell : numpy.ndarray
        ``neighbourhood_id`` of each cell, 0 where the cell is not underserved.

    Examples
    --------
    >>> import shapely
    >>> boxes = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(5, 0, 6, 1)]
    >>> people = {"population": [10.0, 20.0, 5.0], "district": ["Dongsheng"] * 3}
    >>> cells = gpd.GeoDataFrame(people, geometry=boxes, crs=4546)  # two touching cells and one apart
    >>> neighbourhoods, of_cell = underserved_neighbourhoods(cells, np.array([True, True, True]))
    >>> neighbourhoods[["neighbourhood_id", "population", "n_cells"]].values.tolist(), of_cell.tolist()
    ([[1.0, 30.0, 2.0], [2.0, 5.0, 1.0]], [1, 1, 2])
    """
    table, cell_nb, _ = _neighbourhoods_and_outlines(cells, underserved, centroids=centroids)
    return table, cell_nb


def _neighbourhoods_and_outlines(
    cells: gpd.GeoDataFrame, underserved: np.ndarray, *, centroids: np.ndarray | None = None
) -> tuple[gpd.GeoDataFrame, np.ndarray, Outlines]:
    """:func:`underserved_neighbourhoods` and what an update reuses of their outlines."""
    rows = np.flatnonzero(np.asarray(underserved, dtype=bool))
    groups = _touching_groups(cells, rows, centroids=centroids)
    table, cell_nb = _ranked_neighbourhoods(cells, [groups])
    return table, cell_nb, Outlines(groups["pieces"], groups["grid"])


#: Columns of the underserved-neighbourhood table (before the geometry).
_NEIGHBOURHOOD_COLUMNS = ["neighbourhood_id", "population", "n_cells", "district", "centroid_x", "centroid_y"]


def _touching_groups(
    cells: gpd.GeoDataFrame,
    rows: np.ndarray,
    *,
    centroids: np.ndarray | None = None,
    outlines: Outlines | None = None,
) -> dict[str, Any]:
    """Groups of touching cells among ``rows`` (ascending): the columns of their table, their rows and first row.

    ``centroids`` are those of all cells, when at hand. ``outlines`` are
    what an earlier run keeps of its outlines: its pieces (:func:`_dissolve`),
    reused where a group keeps exactly the same cells in a tile, and its
    checked raster cells; ``"pieces"`` and ``"grid"`` hold this call's.

    Groups are numbered by their first row, as :func:`scipy.sparse.csgraph.connected_components`
    numbers them; each figure sums its cells in row order. A raster's cells
    are grouped and outlined off the grid (:mod:`._raster_groups`: the same
    groups and outlines, no pieces); other cells by their polygons.
    """
    if len(rows) == 0:
        empty = np.empty(0)
        return {
            "population": empty,
            "n_cells": np.empty(0, np.int64),
            "district": np.empty(0, dtype=object),
            "centroid_x": empty,
            "centroid_y": empty,
            "geometry": np.empty(0, dtype=object),
            "first_row": np.empty(0, np.int64),
            "rows": rows,
            "label": np.empty(0, np.int64),
            "pieces": {},
            "grid": None,
        }
    geoms = np.asarray(cells.geometry.values, dtype=object)[rows]
    read_off_grid = raster_groups(cells, rows, geoms, checked=outlines.grid if outlines is not None else None)
    label = _touching_labels(geoms) if read_off_grid is None else read_off_grid[0]
    population = cells["population"].to_numpy(dtype=float)[rows]
    centre = shapely.get_coordinates(shapely.centroid(geoms)) if centroids is None else centroids[rows]
    n_lab = int(label.max()) + 1
    pop = np.bincount(label, weights=population, minlength=n_lab)
    count = np.bincount(label, minlength=n_lab)
    safe = np.where(pop > 0, pop, 1.0)
    cx = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 0], minlength=n_lab) / safe, 0.0)
    cy = np.where(pop > 0, np.bincount(label, weights=population * centre[:, 1], minlength=n_lab) / safe, 0.0)
    if pop.sum() == 0 or np.any(pop == 0):
        plain_x = np.bincount(label, weights=centre[:, 0], minlength=n_lab) / count
        plain_y = np.bincount(label, weights=centre[:, 1], minlength=n_lab) / count
        cx = np.where(pop > 0, cx, plain_x)
        cy = np.where(pop > 0, cy, plain_y)
    if "district" in cells.columns:
        # the rows only (an Arrow column converts slowly), as codes in the order of the names (missing: -1)
        code, names = pd.factorize(cells["district"].iloc[rows].to_numpy(), sort=True)
        frame = pd.DataFrame({"label": label, "code": code, "pop": population})[code >= 0]
        by = frame.groupby(["label", "code"], as_index=False)["pop"].sum()
        by = by.sort_values(["label", "pop", "code"], ascending=[True, False, True]).drop_duplicates("label")
        name = np.asarray(names, dtype=object)[by["code"].to_numpy()]
        district = pd.Series(name, index=by["label"].to_numpy()).reindex(range(n_lab)).to_numpy()
    else:
        district = np.full(n_lab, None, dtype=object)
    order = np.argsort(label, kind="stable")
    splits = np.flatnonzero(np.diff(label[order])) + 1
    chunks = np.split(order, splits)
    pieces: OutlinePieces = {}
    if read_off_grid is not None:
        polygons = read_off_grid[1]
    else:
        reuse = outlines.pieces if outlines is not None else None
        polygons, pieces = _dissolve(geoms, chunks, rows=rows, tile=_outline_tiles(centre), reuse=reuse)
    return {
        "population": pop,
        "n_cells": count,
        "district": district,
        "centroid_x": cx,
        "centroid_y": cy,
        "geometry": polygons,
        "first_row": np.array([rows[chunk[0]] for chunk in chunks], dtype=np.int64),
        "rows": rows,
        "label": label,
        "pieces": pieces,
        "grid": read_off_grid[2] if read_off_grid is not None else None,
    }


def _touching_labels(geoms: np.ndarray) -> np.ndarray:
    """Label of the group of touching (intersecting) geometries of each of ``geoms``, numbered by first member.

    Geometries sharing a vertex touch: they are joined through their vertices
    (hashed coordinates), which settles the cells of a grid at once. Only pairs
    whose bounding boxes overlap and that are still apart afterwards are tested
    exactly (``shapely.intersects``): cells touching away from their vertices
    (a corner on the side of a larger cell) or points. Of two groups that
    touch, one is not the largest: only members outside the largest group
    are looked up in the tree.
    """
    n = len(geoms)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    vertex, _ = pd.factorize(coords[:, 0] + 1j * coords[:, 1])
    heads, tails = [owner], [n + vertex]
    n_nodes = n + int(vertex.max(initial=-1)) + 1
    label = _components(heads, tails, n_nodes)[:n]
    # two groups that touch have a pair of touching members, one of them outside the largest group: only the
    # members outside it are looked up (each pair once)
    largest = int(np.argmax(np.bincount(label)))
    outside = np.flatnonzero(label != largest)
    found, b = shapely.STRtree(geoms).query(geoms[outside])
    a = outside[found]
    apart = (label[a] != label[b]) & ((a < b) | (label[b] == largest))
    a, b = a[apart], b[apart]
    touch = shapely.intersects(geoms[a], geoms[b])
    if touch.any():
        label = _components([*heads, a[touch]], [*tails, b[touch]], n_nodes)[:n]
    return numbered_by_first(label)


def _components(heads: list[np.ndarray], tails: list[np.ndarray], n_nodes: int) -> np.ndarray:
    """Connected-component label of each of ``n_nodes`` nodes of the undirected graph of edges ``heads -> tails``."""
    head = np.concatenate(heads)
    graph = scipy.sparse.csr_matrix(
        (np.ones(len(head), dtype=np.int8), (head, np.concatenate(tails))), shape=(n_nodes, n_nodes)
    )
    return connected_components(graph, directed=False)[1]


def _union_of_coverage(parts: np.ndarray) -> Any:
    """The union of polygons that cover the plane without overlapping (cells, or pieces of a group), valid.

    Cells of a grid form a polygonal coverage (no overlaps, shared sides with
    the same corners), which :func:`shapely.coverage_union_all` dissolves many
    times faster than the general union; a lone valid polygon is its own union.
    GEOS raises on overlapping input: such parts take the general
    :func:`shapely.union_all`. A coverage union can also come out invalid:
    cells that meet only at a corner give a ring that touches itself, and sides
    that do not match keep pieces apart. Its parts cover exactly the input, so
    the general union of those few parts is the union of the input, several
    times faster than the union of every cell (byte-identical once normalised
    on the 400k benchmark city's 358 such groups).
    """
    if len(parts) == 1 and shapely.is_valid(parts[0]):
        return parts[0]
    try:
        merged = shapely.coverage_union_all(parts)
    except shapely.errors.GEOSException:
        return shapely.union_all(parts)
    if not shapely.is_valid(merged):
        return shapely.union_all(shapely.get_parts(merged))  # the general union: valid
    return merged


def _dissolve(
    geoms: np.ndarray,
    chunks: list[np.ndarray],
    *,
    rows: np.ndarray,
    tile: np.ndarray,
    reuse: OutlinePieces | None = None,
) -> tuple[np.ndarray, OutlinePieces]:
    """The union of each group ``chunks`` (positions in ``geoms``) of touching cells, and the pieces it was made of.

    A group within one tile (``tile``: key per position) is dissolved at once
    (:func:`_union_of_coverage`); a larger one tile by tile, then its pieces
    together. A piece whose cells (``rows``: cell row per position) are those
    of a piece in ``reuse`` is taken from there: an update redraws only the
    tiles where a group's cells changed. Groups of points (cells given as
    points) take the general :func:`shapely.union_all`. Every outline is
    normalised (:func:`shapely.normalize`), so it does not depend on the
    method: a union of pieces is the union of their cells.
    """
    reuse = reuse or {}
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    merged = np.empty(len(chunks), dtype=object)
    pieces: OutlinePieces = {}
    for k, chunk in enumerate(chunks):
        if not polygonal[chunk].all():
            merged[k] = shapely.union_all(geoms[chunk])
            continue
        in_order = chunk[np.argsort(tile[chunk], kind="stable")]
        splits = np.flatnonzero(np.diff(tile[in_order])) + 1
        if len(splits) == 0:
            merged[k] = _union_of_coverage(geoms[chunk])
            continue
        outlines = []
        for piece in np.split(in_order, splits):
            key = (int(tile[piece[0]]), int(rows[piece[0]]))
            earlier = reuse.get(key)
            if earlier is not None and np.array_equal(earlier[0], rows[piece]):
                outline = earlier[1]
            else:
                outline = _union_of_coverage(geoms[piece])
            pieces[key] = (rows[piece], outline)
            outlines.append(outline)
        merged[k] = _union_of_coverage(np.array(outlines, dtype=object))
    return shapely.normalize(merged), pieces


def _ranked_neighbourhoods(
    cells: gpd.GeoDataFrame, parts: list[dict[str, Any]], kept: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The neighbourhood table and each cell's id from groups of touching cells (:func:`_touching_groups`).

    Groups are ranked by population, then by ``centroid_x``, then by their
    first row. ``kept`` gives, for groups taken over from an earlier table
    (the first part), each cell's old id and the old id of each group.
    """
    cell_nb = np.zeros(len(cells), dtype=np.int64)
    names = ["population", "n_cells", "district", "centroid_x", "centroid_y", "geometry", "first_row"]
    merged = {name: np.concatenate([part[name] for part in parts]) for name in names}
    if len(merged["first_row"]) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in _NEIGHBOURHOOD_COLUMNS}, geometry=[], crs=cells.crs)
        return empty, cell_nb
    by_first = np.argsort(merged["first_row"], kind="stable")
    merged = {name: values[by_first] for name, values in merged.items()}
    pop, cx = merged["population"], merged["centroid_x"]
    rank = np.lexsort((cx, -pop))  # most populous first, first row as a stable tie-break
    ids = np.empty(len(pop), dtype=np.int64)
    ids[rank] = np.arange(1, len(pop) + 1)
    id_of_group = np.empty(len(pop), dtype=np.int64)
    id_of_group[by_first] = ids
    start = 0
    if kept is not None:
        old_ids_of_cells, old_ids = kept
        n_kept = len(old_ids)
        lookup = np.zeros(int(old_ids.max(initial=0)) + 1, dtype=np.int64)
        lookup[old_ids] = id_of_group[:n_kept]
        on = old_ids_of_cells > 0
        cell_nb[on] = lookup[old_ids_of_cells[on]]
        start = n_kept
    for part in parts[1 if kept is not None else 0 :]:
        n = len(part["first_row"])
        cell_nb[part["rows"]] = id_of_group[start : start + n][part["label"]]
        start += n
    table = gpd.GeoDataFrame(
        {
            "neighbourhood_id": ids[rank],
            "population": pop[rank],
            "n_cells": merged["n_cells"][rank],
            "district": merged["district"][rank],
            "centroid_x": cx[rank],
            "centroid_y": merged["centroid_y"][rank],
        },
        geometry=list(merged["geometry"][rank]),
        crs=cells.crs,
    )
    return table, cell_nb
