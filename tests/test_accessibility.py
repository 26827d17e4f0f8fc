"""Accessibility stage on hand-built graphs with known answers (the routing engine is tested in test_routing.py)."""

from __future__ import annotations

import math
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _hand_graphs import CRS, X0, Y0, facilities, grid_study, make_network, points, random_grid, square_cells

from ordos_geo import accessibility as acc
from ordos_geo import routing
from ordos_geo._errors import InputDataError

# --------------------------------------------------------------------------------------------------
# unreachable cells and facilities, ties across kinds
# --------------------------------------------------------------------------------------------------


def test_max_snap_distance_makes_cell_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = square_cells([(50, 400), (50, 100)])
    fac = facilities([(50, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    out = result.cells
    assert out["snap_distance_m"].tolist() == pytest.approx([400.0, 100.0])
    assert out["reachable"].tolist() == [False, True]
    assert math.isinf(out["dist_m_any"].iloc[0])
    assert pd.isna(out["nearest_id_any"].iloc[0])
    assert out["dist_m_any"].iloc[1] == pytest.approx(0.0)
    nearest = acc.nearest_facility(network, cells, fac, max_snap_distance_m=50.0)
    assert np.isinf(nearest["distance_m"]).all()


def test_far_facility_is_reported_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    fac = facilities([(50, 0), (50, 350)], ["near", "far"], area_m2=[1.0, 1.0], open_to_public=[True, True])
    result = acc.compute_accessibility(network, square_cells([(0, 0)]), fac, service_areas_by="none")
    assert result.facilities.set_index("facility_id")["reachable"].to_dict() == {"near": True, "far": False}
    assert result.facilities.set_index("facility_id")["snap_distance_m"]["far"] == pytest.approx(350.0)


def test_equal_distance_tie_goes_to_smallest_facility_id():
    network = make_network({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2, False), (2, 3, False)])
    cells = points([(100, 3)])
    for ids in (["b", "a"], ["a", "b"]):
        fac = facilities([(20, 0), (180, 0)], ids)
        result = acc.nearest_facility(network, cells, fac)
        assert result["facility_id"].iloc[0] == "a"
        assert result["distance_m"].iloc[0] == pytest.approx(80.0)
    # the tie rule holds across kinds too
    fac = facilities([(20, 0), (180, 0)], ["z1", "k9"], kinds=["park", "pitch"], area_m2=[0.0, 0.0])
    res = acc.compute_accessibility(network, square_cells([(100, 3)]), fac, service_areas_by="none").cells
    assert res["nearest_id_any"].iloc[0] == "k9"
    assert res["dist_m_park"].iloc[0] == pytest.approx(80.0)


# --------------------------------------------------------------------------------------------------
# coverage, E2SFCA, service areas, underserved
# --------------------------------------------------------------------------------------------------


def test_minutes_to_metres():
    assert acc.minutes_to_metres(15) == pytest.approx(1125.0)
    assert acc.minutes_to_metres([4, 8], walk_speed_kmh=6.0).tolist() == pytest.approx([400.0, 800.0])
    assert acc.covered_column(1000.0) == "covered_1000m"
    assert acc.dist_column("park") == "dist_m_park"


def test_coverage_tiers_service_and_e2sfca_by_hand():
    # street 0..2000 m; a court (800 m²) at x=0, a fitness centre (1,500 m²) at x=1000
    network = make_network({1: (0, 0), 2: (1000, 0), 3: (2000, 0)}, [(1, 2, False), (2, 3, False)])
    fac = facilities(
        [(0, 0), (1000, 0)],
        ["court", "centre"],
        kinds=["multi_sport_court", "fitness_centre"],
        area_m2=[800.0, 1500.0],
        open_to_public=[True, True],
    )
    cells = square_cells([(200, 0), (450, 0), (1700, 0)], population=[100.0, 200.0, 50.0])
    out = acc.compute_accessibility(network, cells, fac, thresholds_min=[4, 8], service_areas_by="none").cells
    assert out["dist_m_multi_sport_court"].tolist() == pytest.approx([200.0, 450.0, 1700.0])
    assert out["dist_m_fitness_centre"].tolist() == pytest.approx([800.0, 550.0, 700.0])
    assert out["dist_m_any"].tolist() == pytest.approx([200.0, 450.0, 700.0])
    assert out["nearest_id_any"].tolist() == ["court", "court", "centre"]
    # 4 and 8 minutes at 4.5 km/h = 300 and 600 m
    assert out["covered_300m"].tolist() == [True, False, False]
    assert out["covered_600m"].tolist() == [True, True, False]
    # service distances: court 500 m, fitness centre 1,000 m
    assert out["covered_service"].tolist() == [True, True, True]
    # E2SFCA by hand, steps 0-300 1.0, 300-600 0.68, 600-1000 0.22
    r_court = 800.0 / (100 * 1.0 + 200 * 0.68)
    r_centre = 1500.0 / (100 * 0.22 + 200 * 0.68 + 50 * 0.22)
    expected = [r_court * 1.0 + r_centre * 0.22, r_court * 0.68 + r_centre * 0.68, r_centre * 0.22]
    assert out["e2sfca_m2_per_capita"].tolist() == pytest.approx(expected)
    # every m² of reachable supply is shared out exactly once
    assert (out["e2sfca_m2_per_capita"] * out["population"]).sum() == pytest.approx(2300.0)
    assert out["opportunities_1000m"].tolist() == [2, 2, 1]


def test_closed_school_venue_left_out():
    network = make_network({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])
    fac = facilities(
        [(100, 0), (600, 0)],
        ["school", "pitch"],
        kinds=["school_venue", "pitch"],
        area_m2=[5000.0, 1000.0],
        open_to_public=[False, True],
    )
    out = acc.compute_accessibility(network, square_cells([(100, 0)]), fac, service_areas_by="none").cells
    assert out["nearest_id_any"].iloc[0] == "pitch"
    assert "dist_m_school_venue" not in out.columns
    assert out["e2sfca_m2_per_capita"].iloc[0] == pytest.approx(1000.0 / 100.0)


def test_service_area_follows_streets_not_hull():
    # two streets 150 m apart joined only at the west end (x=0): a "river" between them
    network = make_network(
        {1: (0, 0), 2: (1000, 0), 3: (0, 150), 4: (1000, 150)}, [(1, 2, False), (3, 4, False), (1, 3, False)]
    )
    fac = facilities([(500, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    areas = acc.service_areas(network, fac, thresholds_m=[300, 700], buffer_m=50)
    assert sorted(areas["threshold_m"]) == [300.0, 700.0]
    small = areas.loc[areas["threshold_m"] == 300, "geometry"].iloc[0]
    big = areas.loc[areas["threshold_m"] == 700, "geometry"].iloc[0]

    def inside(poly, x, y):
        return poly.contains(shapely.Point(X0 + x, Y0 + y))

    # 300 m: street from x=200 to x=800, plus the 50 m band
    assert inside(small, 210, 0) and inside(small, 790, 0) and inside(small, 240, 45)
    assert not inside(small, 140, 0) and not inside(small, 860, 0)
    # 700 m: west end reached (500 m), up the link (150 m) and 50 m along the far street only
    assert inside(big, 0, 100) and inside(big, 40, 150)
    assert not inside(big, 500, 150)  # straight across the river is 150 m away but 1,150 m by foot
    assert big.area < 2 * (1000 + 200) * 100


def test_service_areas_auto_draws_them_on_small_networks_only(monkeypatch, caplog):
    from ordos_geo.accessibility import stage

    network, cells, fac = grid_study(np.random.default_rng(2), size=8, n_cells=60, n_facilities=4)
    drawn = acc.compute_accessibility(network, cells, fac, progress=False)
    auto = acc.compute_accessibility(network, cells, fac, service_areas_by="auto", progress=False)
    assert len(drawn.service_areas) == 12
    pd.testing.assert_frame_equal(auto.service_areas, drawn.service_areas)
    monkeypatch.setattr(stage, "SERVICE_AREAS_AUTO_MAX_NODES", network.n_nodes - 1)
    with caplog.at_level("INFO", logger="ordos_geo.accessibility.stage"):
        large = acc.compute_accessibility(network, cells, fac, service_areas_by="auto", progress=False)
    assert large.service_areas.empty and large.parameters["service_areas_by"] == "none"
    assert "no service-area polygons on a network of 64 nodes" in caplog.text
    pd.testing.assert_frame_equal(large.cells, drawn.cells)
    with pytest.raises(InputDataError, match="service_areas_by must be"):
        acc.compute_accessibility(network, cells, fac, service_areas_by="street")


def test_underserved_neighbourhoods_grouping_and_rank():
    network = make_network({1: (0, 0), 2: (3000, 0)}, [(1, 2, False)])
    fac = facilities([(0, 0)], ["f"], area_m2=[100.0], open_to_public=[True])
    centres = [(100, 0), (1500, 0), (1520, 0), (1540, 0), (2500, 0)]
    cells = square_cells(centres, size=20.0, population=[10.0, 5.0, 5.0, 5.0, 40.0])
    cells["district"] = ["A", "A", "B", "B", "C"]
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    nb = result.underserved
    # two neighbourhoods: the three touching cells (15 people) and the lone cell at 2,500 m (40)
    assert nb["population"].tolist() == [40.0, 15.0]
    assert nb["n_cells"].tolist() == [1, 3]
    assert nb["neighbourhood_id"].tolist() == [1, 2]
    assert nb["district"].tolist() == ["C", "B"]
    assert nb["centroid_x"].iloc[1] == pytest.approx(X0 + 1520.0)
    assert nb.geometry.iloc[1].area == pytest.approx(3 * 400.0)
    assert result.cells["neighbourhood_id"].tolist() == [0, 2, 2, 2, 1]


def _reference_groups(geoms):
    """Brute force: groups of intersecting geometries (networkx) and the general union of each."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(len(geoms)))
    graph.add_edges_from((i, j) for i in range(len(geoms)) for j in range(i) if geoms[i].intersects(geoms[j]))
    return sorted((sorted(group), shapely.union_all(geoms[sorted(group)])) for group in nx.connected_components(graph))


def _grid_cells(mask: list[str], *, size=100.0, turn=0.0) -> gpd.GeoDataFrame:
    """Cells of a grid (turned by ``turn`` radians) where ``mask`` has ``#``: corners shared, as a raster's."""
    rows, cols = np.nonzero(np.array([list(line) for line in mask]) == "#")
    cr = rows[:, None] + np.array([0, 0, 1, 1, 0])
    cc = cols[:, None] + np.array([0, 1, 1, 0, 0])
    x, y = cc.ravel() * size, -cr.ravel() * size
    xy = np.column_stack([X0 + x * math.cos(turn) - y * math.sin(turn), Y0 + x * math.sin(turn) + y * math.cos(turn)])
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, xy, (np.arange(0, 5 * len(rows) + 1, 5), np.arange(len(rows) + 1))
    )
    return gpd.GeoDataFrame({"population": np.arange(1.0, len(rows) + 1)}, geometry=geoms, crs=CRS)


@pytest.mark.parametrize("turn", [0.0, 0.0123])
def test_touching_groups_on_a_grid_match_brute_force_union(turn):
    from ordos_geo.accessibility.neighbourhoods import _touching_groups

    # edge and corner (diagonal) touches, a ring around a hole, a hole touching the outline at a corner, a lone cell
    mask = [
        "###...#.#",
        "#.#....#.",
        "###..#..#",
        "....#.#..",
        "#....#...",
        "......##.",
        "..#..#.#.",
        "......#..",
    ]
    cells = _grid_cells(mask, turn=turn)
    geoms = cells.geometry.to_numpy()
    groups = _touching_groups(cells, np.arange(len(cells)))
    expected = _reference_groups(geoms)
    got = sorted(
        (sorted(np.flatnonzero(groups["label"] == k).tolist()), groups["geometry"][k])
        for k in range(len(groups["first_row"]))
    )
    assert [members for members, _ in got] == [members for members, _ in expected]
    for (_, outline), (_, union) in zip(got, expected, strict=True):
        assert outline.equals(union) and outline.is_valid
        assert shapely.equals_identical(outline, shapely.normalize(union))  # the same vertices, whichever method
    assert groups["first_row"].tolist() == [members[0] for members, _ in sorted(got, key=lambda g: g[0][0])]
    ring = next(outline for members, outline in got if members[0] == 0)
    assert len(ring.interiors) == 1 and ring.area == pytest.approx(8 * 100.0**2)


def test_touching_groups_of_cells_whose_corners_differ_in_the_last_bits():
    """Cells made as origin + i x size (as a raster's often are): a neighbour's corner can differ in the last bits.

    Then GEOS's coverage union of a group comes out invalid; the union of its
    parts must still be the union of the cells, vertex for vertex.
    """
    from ordos_geo.accessibility.neighbourhoods import _touching_groups

    mask = ["###...#.#", "#.#....#.", "###..#..#", "....#.#..", "#....#...", "......##.", "..#..#.#.", "......#.."]
    rows, cols = np.nonzero(np.array([list(line) for line in mask]) == "#")
    size = 37.1234567
    x0, y0 = X0 + 0.0596 + cols * size, Y0 + 0.0175 - rows * size
    geoms = shapely.box(x0, y0, x0 + size, y0 + size)
    cells = gpd.GeoDataFrame({"population": np.ones(len(geoms))}, geometry=geoms, crs=CRS)
    groups = _touching_groups(cells, np.arange(len(cells)))
    members = [np.flatnonzero(groups["label"] == k) for k in range(len(groups["first_row"]))]
    invalid = [m for m in members if len(m) > 1 and not shapely.coverage_union_all(geoms[m]).is_valid]
    assert invalid  # the case this test is for
    expected = _reference_groups(geoms)
    assert [m.tolist() for m in members] == [group for group, _ in expected]
    for outline, (_, union) in zip(groups["geometry"], expected, strict=True):
        assert outline.is_valid and shapely.equals_identical(outline, shapely.normalize(union))


@pytest.mark.parametrize("exact_corners", [True, False])
def test_outlines_dissolved_tile_by_tile_are_the_union_of_their_cells(exact_corners):
    """Groups spanning several 1 km tiles are dissolved piece by piece, then the pieces together.

    Each outline is still the union of its cells, vertex for vertex, also
    when neighbouring corners differ in the last bits (origin + i x size);
    the pieces of a group partition its cells by tile.
    """
    from ordos_geo.accessibility.neighbourhoods import _OUTLINE_TILE_M, _touching_groups

    rng = np.random.default_rng(7)
    mask = ["".join("#" if on else "." for on in row) for row in rng.random((12, 16)) < 0.62]
    if exact_corners:
        cells = _grid_cells(mask, size=250.0)
    else:
        rows, cols = np.nonzero(np.array([list(line) for line in mask]) == "#")
        size = 237.1234567
        x0, y0 = X0 + 0.0596 + cols * size, Y0 + 0.0175 - rows * size
        cells = gpd.GeoDataFrame(
            {"population": np.ones(len(rows))}, geometry=shapely.box(x0, y0, x0 + size, y0 + size), crs=CRS
        )
    geoms = cells.geometry.to_numpy()
    groups = _touching_groups(cells, np.arange(len(cells)))
    expected = _reference_groups(geoms)
    members = [np.flatnonzero(groups["label"] == k) for k in range(len(groups["first_row"]))]
    assert [m.tolist() for m in members] == [group for group, _ in expected]
    for outline, (_, union) in zip(groups["geometry"], expected, strict=True):
        assert outline.is_valid and shapely.equals_identical(outline, shapely.normalize(union))
    centre = shapely.get_coordinates(shapely.centroid(geoms))
    tile = [tuple(t) for t in np.floor(centre / _OUTLINE_TILE_M).astype(int).tolist()]
    for group in members:
        tiles = {tile[row] for row in group}
        pieces = [rows for rows, _ in groups["pieces"].values() if rows[0] in group]
        if len(tiles) == 1:
            assert not pieces  # dissolved at once
        else:
            assert sorted(np.concatenate(pieces).tolist()) == group.tolist()
            assert sorted(tile[rows[0]] for rows in pieces) == sorted(tiles)
            assert all(len({tile[row] for row in rows}) == 1 for rows in pieces)
    assert max(len({tile[row] for row in group}) for group in members) >= 4  # the case this test is for


def test_touching_groups_off_a_grid_match_brute_force_union():
    from ordos_geo.accessibility.neighbourhoods import _touching_groups

    box = lambda x0, y0, x1, y1: shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)  # noqa: E731
    geoms = np.array(
        [
            box(0, 0, 200, 100),  # a large cell with two small ones on its side (corners on its edge)
            box(50, 100, 150, 200),
            box(150, 100, 250, 200),
            box(400, 0, 600, 200),  # overlapping cells
            box(500, 100, 700, 300),
            box(900, 0, 1000, 100),  # nested cells
            box(920, 20, 980, 80),
            box(1200, 0, 1300, 100),  # lone
        ],
        dtype=object,
    )
    cells = gpd.GeoDataFrame({"population": np.ones(len(geoms))}, geometry=geoms, crs=CRS)
    groups = _touching_groups(cells, np.arange(len(cells)))
    expected = _reference_groups(geoms)
    assert groups["label"].tolist() == [0, 0, 0, 1, 1, 2, 2, 3]
    for (members, union), outline in zip(expected, groups["geometry"], strict=True):
        assert outline.equals(union) and outline.is_valid, members
    # points (cells given as points): only coincident points touch
    points_frame = gpd.GeoDataFrame(
        {"population": np.ones(4)}, geometry=shapely.points([[0, 0], [5, 5], [0, 0], [9, 9]]), crs=CRS
    )
    assert _touching_groups(points_frame, np.arange(4))["label"].tolist() == [0, 1, 0, 2]


def _raster_cells(path, mask: list[str]) -> gpd.GeoDataFrame:
    """Cells read from a WGS-84 GeoTIFF (about 90 m pixels near Ordos) where ``mask`` has ``#``, in a UTM CRS."""
    import rasterio
    from rasterio.transform import from_origin

    from ordos_geo import io

    on = np.array([list(line) for line in mask]) == "#"
    people = np.where(on, np.arange(1, on.size + 1).reshape(on.shape), 0).astype("float32")
    profile = {"driver": "GTiff", "height": on.shape[0], "width": on.shape[1], "count": 1, "dtype": "float32"}
    profile |= {"crs": "EPSG:4326", "transform": from_origin(109.78, 39.61, 1 / 1200, 1 / 1200), "nodata": -1.0}
    with rasterio.open(path, "w", **profile) as raster:
        raster.write(people, 1)
    return io.read_population(path, crs=CRS)


@pytest.mark.parametrize("seed", [None, 3, 8])
def test_raster_cells_are_grouped_and_outlined_off_the_grid_as_their_union(tmp_path, seed):
    """A raster's cells (projected: not squares on the axes) take the grid path; it equals the union of polygons.

    Labels are the 8-connected regions of the grid; outlines are traced along
    the pixel edges with a vertex at every corner: vertex for vertex what the
    union of the cells gives, also for cells meeting at a corner only, holes
    touching an outline at a corner and rings around a hole.
    """
    from ordos_geo.accessibility._raster_groups import raster_groups
    from ordos_geo.accessibility.neighbourhoods import _touching_groups
    from ordos_geo.io import RASTER_WIDTH

    if seed is None:  # edge and corner touches, a ring around a hole, a hole touching the outline at a corner
        mask = ["###...#.#", "#.#....#.", "###..#..#", "....#.#..", "#....#...", "......##.", "..#..#.#.", "......#.."]
    else:
        rng = np.random.default_rng(seed)
        mask = ["".join("#" if on else "." for on in row) for row in rng.random((16, 21)) < 0.58]
    cells = _raster_cells(tmp_path / "people.tif", mask)
    assert cells.attrs[RASTER_WIDTH] == len(mask[0])
    geoms = cells.geometry.to_numpy()
    rows = np.arange(len(cells))
    assert raster_groups(cells, rows, geoms) is not None  # the case this test is for
    off_grid = _touching_groups(cells, rows)
    plain = cells.copy()
    del plain.attrs[RASTER_WIDTH]
    assert raster_groups(plain, rows, geoms) is None
    by_union = _touching_groups(plain, rows)
    expected = _reference_groups(geoms)
    members = [np.flatnonzero(off_grid["label"] == k).tolist() for k in range(len(off_grid["first_row"]))]
    assert members == [group for group, _ in expected]
    assert off_grid["label"].tolist() == by_union["label"].tolist()
    assert shapely.equals_identical(off_grid["geometry"], by_union["geometry"]).all()
    for outline, (_, union) in zip(off_grid["geometry"], expected, strict=True):
        assert outline.is_valid and shapely.equals_identical(outline, shapely.normalize(union))
    for name in ("population", "n_cells", "centroid_x", "centroid_y", "first_row"):
        np.testing.assert_array_equal(off_grid[name], by_union[name])
    if seed is None:
        outlines = list(off_grid["geometry"])
        assert any(o.geom_type == "MultiPolygon" for o in outlines)  # cells meeting at a corner only
        assert any(o.geom_type == "Polygon" and len(o.interiors) == 1 for o in outlines)  # the ring


def test_raster_cells_changed_after_reading_are_grouped_by_the_union_of_polygons(tmp_path):
    """The grid path reads corners off the cells: cells moved, redrawn or repeated since reading are not a grid."""
    from ordos_geo.accessibility._raster_groups import raster_groups
    from ordos_geo.accessibility.neighbourhoods import _touching_groups

    cells = _raster_cells(tmp_path / "people.tif", ["##.#", "###.", ".#.#"])
    rows = np.arange(len(cells))
    assert raster_groups(cells, rows, cells.geometry.to_numpy()) is not None
    moved = cells.copy()
    moved.loc[2, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[2], 0.5, 0.0)
    turned = cells.copy()
    turned.loc[0, "geometry"] = shapely.reverse(turned.geometry.iloc[0])  # the same cell, its ring the other way
    twice = cells.copy()
    twice.loc[1, "cell_id"] = twice["cell_id"].iloc[0]
    for changed in (moved, turned, twice):
        geoms = changed.geometry.to_numpy()
        assert raster_groups(changed, rows, geoms) is None
        groups = _touching_groups(changed, rows)
        expected = _reference_groups(geoms)
        assert [np.flatnonzero(groups["label"] == k).tolist() for k in range(len(expected))] == [g for g, _ in expected]


# --------------------------------------------------------------------------------------------------
# the embedded sample
# --------------------------------------------------------------------------------------------------


def test_sample_accessibility_runs_and_is_consistent():
    pipeline = pytest.importorskip("ordos_geo.pipeline")
    from ordos_geo import settings

    if not (settings.SAMPLE_DIR / "walk_network.osm").exists():
        pytest.skip("embedded sample data/raw/sample/ not generated yet")
    if not hasattr(pipeline, "load_study"):
        pytest.skip("pipeline.load_study not available yet")
    from ordos_geo._errors import InputFileNotFoundError

    try:
        study = pipeline.load_study()
    except InputFileNotFoundError as error:
        pytest.skip(f"embedded sample incomplete: {error}")
    network = study.network
    cells = study.cells.to_crs(network.crs)
    fac = study.facilities.to_crs(network.crs)
    result = acc.compute_accessibility(network, cells, fac, service_areas_by="none")
    out = result.cells
    assert len(out) == len(cells)
    # distance to any kind is the minimum over the kinds
    kind_cols = [c for c in out.columns if c.startswith("dist_m_") and c != "dist_m_any"]
    assert np.allclose(out[kind_cols].min(axis=1), out["dist_m_any"])
    # spot-check against nearest_facility on a subset
    sub = out.sample(min(50, len(out)), random_state=1)
    public = fac[fac["open_to_public"].fillna(True).astype(bool)]
    check = acc.nearest_facility(network, cells.loc[sub.index], public)
    assert np.allclose(check["distance_m"].to_numpy(), sub["dist_m_any"].to_numpy(), atol=1.0)


def test_no_facilities_everything_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = square_cells([(10, 0), (90, 0)])
    none = facilities([(50, 0)], ["a"]).iloc[:0]
    assert np.isinf(acc.nearest_facility(network, cells, none)["distance_m"]).all()
    assert acc.od_distances(network, cells, none, max_distance_m=100).empty
    result = acc.compute_accessibility(network, cells, none)
    assert result.cells["underserved"].all()
    assert result.underserved["population"].sum() == pytest.approx(200.0)


# --------------------------------------------------------------------------------------------------
# large-network path: work in forked child processes gives exactly the single-process result
# --------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_children_give_identical_results(monkeypatch):
    network, cells, fac = grid_study(np.random.default_rng(11))
    inline = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    assert inline.timings_s["nearest_child"] == 0.0  # small input: everything in this process

    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    monkeypatch.setattr(routing.search, "_FORK_MIN_WORK", 0)
    monkeypatch.setattr(routing.snapping, "_FORK_MIN_POINTS", 0)
    forked = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    assert len(forks) == 3  # cell centroids, half of the cell snapping, the per-kind nearest searches
    assert forked.timings_s["nearest_child"] > 0.0
    pd.testing.assert_frame_equal(forked.cells, inline.cells, check_exact=True)
    assert np.isfinite(inline.cells["dist_m_any"]).sum() > 300  # the comparison covers real distances


# --------------------------------------------------------------------------------------------------
# snaps that travel: a run given the snaps of an earlier one gives the same result
# --------------------------------------------------------------------------------------------------


def test_passing_snaps_gives_identical_results():
    network, cells, fac = grid_study(np.random.default_rng(3))
    fac["open_to_public"] = [i % 5 != 2 for i in range(len(fac))]  # closed venues: the given snaps are subset
    first = acc.compute_accessibility(network, cells, fac, progress=False)
    assert first.cells_snapped is not None and first.cells_snapped.n_owners == len(cells)
    assert first.facilities_snapped is not None and first.facilities_snapped.n_owners == len(first.facilities)
    all_fac = routing.snap_points(network, fac)
    again = acc.compute_accessibility(
        network, cells, fac, progress=False, cells_snapped=first.cells_snapped, facilities_snapped=all_fac
    )
    pd.testing.assert_frame_equal(again.cells, first.cells, check_exact=True)
    pd.testing.assert_frame_equal(again.facilities, first.facilities, check_exact=True)
    pd.testing.assert_frame_equal(again.service_areas, first.service_areas, check_exact=True)
    assert len(first.service_areas) > 0 and np.isfinite(first.cells["dist_m_any"]).sum() > 300
    for name in ("owner", "edge", "offset_m", "snap_distance_m", "point_xy"):
        np.testing.assert_array_equal(getattr(again.facilities_snapped, name), getattr(first.facilities_snapped, name))
    # the analysed facilities' snaps go with the analysed table into the next run
    kinds = acc.compute_accessibility(
        network,
        cells,
        first.facilities,
        kinds=["park", "ball_court"],
        service_areas_by="none",
        progress=False,
        cells_snapped=first.cells_snapped,
        facilities_snapped=first.facilities_snapped,
    )
    plain = acc.compute_accessibility(
        network, cells, first.facilities, kinds=["park", "ball_court"], service_areas_by="none", progress=False
    )
    pd.testing.assert_frame_equal(kinds.cells, plain.cells, check_exact=True)


def test_mismatched_snaps_are_one_clear_error():
    network, cells, fac = grid_study(np.random.default_rng(3))
    first = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    fewer = routing.snap_points(network, cells.iloc[:10], polygon_access="centroid")
    other_network = random_grid(np.random.default_rng(4), size=16)
    elsewhere = routing.snap_points(other_network, cells, polygon_access="centroid")
    for cells_snapped, facilities_snapped, words in (
        (fewer, None, "population cells: the snapped points given do not match: they snap 10 rows on this walk"),
        (elsewhere, None, r"population cells: the snapped points given do not match: .* on another walk network"),
        (None, first.cells_snapped, "facilities: the snapped points given do not match: they snap 400 rows"),
    ):
        with pytest.raises(InputDataError, match=words):
            acc.compute_accessibility(
                network,
                cells,
                fac,
                service_areas_by="none",
                progress=False,
                cells_snapped=cells_snapped,
                facilities_snapped=facilities_snapped,
            )


def test_accessibility_options_mirror_the_config_and_equal_the_keywords():
    import dataclasses

    from ordos_geo.config import sample_config

    config = dataclasses.replace(
        sample_config(), thresholds_m=(250.0, 700.0), max_distance_m=1500.0, max_snap_distance_m=120.0
    )
    options = acc.AccessibilityOptions.from_config(config)
    assert options == acc.AccessibilityOptions(
        thresholds_m=(250.0, 700.0),
        max_distance_m=1500.0,
        walk_speed_kmh=config.walk_speed_kmh,
        max_snap_distance_m=120.0,
    )
    assert acc.AccessibilityOptions() == acc.AccessibilityOptions.from_config(sample_config())  # same defaults
    network, cells, fac = grid_study(np.random.default_rng(5))
    cells["district"] = np.where(cells.geometry.centroid.x < cells.geometry.centroid.x.median(), "west", "east")
    keywords = dict(thresholds_m=(250.0, 700.0), max_distance_m=1500.0, max_snap_distance_m=120.0)
    plain = acc.compute_accessibility(network, cells, fac, progress=False, **keywords)
    given = acc.compute_accessibility(network, cells, fac, progress=False, options=options)
    pd.testing.assert_frame_equal(given.cells, plain.cells, check_exact=True)
    assert "covered_700m" in given.cells and np.nanmax(given.cells["dist_m_any"].replace(np.inf, np.nan)) <= 1500
    # the split by district reads the distances from the options too (its parts are cut with them)
    split = acc.compute_accessibility_by_district(network, cells, fac, progress=False, options=options)
    pd.testing.assert_frame_equal(
        split.cells.drop(columns="neighbourhood_id"), plain.cells.drop(columns="neighbourhood_id"), check_exact=True
    )
    with pytest.raises(InputDataError, match="max_distance_m given both in options= and as keywords"):
        acc.compute_accessibility(network, cells, fac, options=options, max_distance_m=900.0)


def test_a_neighbourhood_lies_in_the_district_holding_most_of_its_residents():
    """Most residents wins; a tie goes to the first name; cells without a district do not count; none: missing."""
    pairs = [(("b", 5.0), ("a", 5.0)), (("b", 7.0), ("a", 3.0)), ((None, 4.0), (None, 4.0)), (("a", 1.0), (None, 90.0))]
    boxes, districts, people = [], [], []
    for k, pair in enumerate(pairs):  # each pair: two touching cells, 10 km from the next pair
        for j, (district, population) in enumerate(pair):
            boxes.append(shapely.box(X0 + 10_000 * k + 100 * j, Y0, X0 + 10_000 * k + 100 * (j + 1), Y0 + 100))
            districts.append(district)
            people.append(population)
    cells = gpd.GeoDataFrame({"population": people, "district": districts}, geometry=boxes, crs=CRS)
    table, of_cell = acc.underserved_neighbourhoods(cells, np.ones(len(cells), dtype=bool))
    by_first_cell = table.set_index("neighbourhood_id")["district"][of_cell[::2]].tolist()
    assert by_first_cell[:2] == ["a", "b"] and pd.isna(by_first_cell[2]) and by_first_cell[3] == "a"


def test_e2sfca_of_added_facilities_goes_on_from_the_earlier_ratios_to_the_last_bit():
    """Pairs of added facilities summed onto the earlier ratios equal one pass over all pairs, bit for bit."""
    from ordos_geo.accessibility.measures import e2sfca

    rng = np.random.default_rng(5)
    n_cells, n_old, n_new = 200, 30, 10
    population = rng.uniform(0.0, 900.0, n_cells)
    supply = rng.uniform(0.0, 5000.0, n_old + n_new)

    def pairs(n, facilities):
        return pd.DataFrame(
            {
                "origin": rng.integers(0, n_cells, n),
                "destination": rng.choice(facilities, n),
                "distance_m": rng.uniform(0.0, 1000.0, n),
            }
        )

    old, added = pairs(3000, np.arange(n_old)), pairs(1500, np.arange(n_old, n_old + n_new))
    everything = pd.concat([old, added], ignore_index=True)
    one_pass = e2sfca(everything, population, supply)
    earlier = e2sfca(old, population, supply[:n_old].tolist() + [0.0] * n_new)
    assert np.array_equal(e2sfca(added, population, supply, earlier=earlier), one_pass)
    assert not np.array_equal(earlier + e2sfca(added, population, supply), one_pass)  # the order of the sums matters
