"""update_accessibility against a full compute_accessibility run on the new facility table: every column equal."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _hand_graphs import CRS, X0, Y0, facilities, grid_study, make_network, square_cells
from geopandas.testing import assert_geodataframe_equal

from ordos_geo import accessibility as acc
from ordos_geo import settings
from ordos_geo._columns import dist_column
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork


def assert_same_result(update: acc.AccessibilityResult, full: acc.AccessibilityResult) -> None:
    """Every column of the cells, the neighbourhoods, the service areas and the facility table; floats to 1e-9 m."""
    a, b = update.cells, full.cells
    assert list(a.columns) == list(b.columns)
    for column in a.columns:
        x, y = a[column], b[column]
        if column == a.geometry.name:
            assert x.geom_equals_exact(y, tolerance=0).all()
        elif pd.api.types.is_float_dtype(y):
            np.testing.assert_allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), rtol=1e-12, atol=1e-9)
        else:
            assert x.tolist() == y.tolist(), column
    assert_geodataframe_equal(update.underserved, full.underserved)
    assert_geodataframe_equal(update.service_areas, full.service_areas)
    assert_geodataframe_equal(update.facilities, full.facilities)
    key = ["origin", "destination"]
    pa = update.catchment_pairs.sort_values(key).reset_index(drop=True)
    pb = full.catchment_pairs.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(pa[key], pb[key])
    np.testing.assert_allclose(pa["distance_m"], pb["distance_m"], rtol=0, atol=1e-9)
    assert update.parameters == full.parameters


def _grid_study(seed: int) -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    network, cells, fac = grid_study(np.random.default_rng(seed), size=12, n_cells=300, cell_m=40.0, n_facilities=12)
    return network, cells, fac.assign(open_to_public=[True] * 11 + [False])


def _new_rows(network: WalkNetwork, seed: int, n: int, kinds: list[str], prefix: str) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    return gpd.GeoDataFrame(
        {
            "facility_id": [f"{prefix}{i}" for i in range(n)],
            "kind": kinds,
            "area_m2": rng.uniform(100, 2000, n),
            "open_to_public": True,
        },
        geometry=shapely.points(rng.uniform(lo, hi, size=(n, 2))),
        crs=CRS,
    )


def test_update_equals_a_full_run_after_adding_removing_and_moving():
    network, cells, fac = _grid_study(3)
    before = acc.compute_accessibility(network, cells, fac, progress=False)
    moved = fac.iloc[[4]].copy()
    moved["geometry"] = moved.geometry.translate(150.0, -90.0)
    added = _new_rows(network, 9, 4, ["park", "ball_court", "gymnasium", "fitness_path"], "n")
    # the nearest facility of some cells is removed, one is moved, one opens to the public, a kind is new
    kept = fac.drop(index=[1, 4, 6])
    kept.loc[11, "open_to_public"] = True
    new = pd.concat([kept, moved, added], ignore_index=True)
    lost = set(fac["facility_id"].iloc[[1, 6]])
    assert lost & set(before.cells["nearest_id_any"].dropna())
    update = acc.update_accessibility(network, before, new)
    full = acc.compute_accessibility(network, cells, new, progress=False)
    assert_same_result(update, full)
    assert "dist_m_gymnasium" in update.cells.columns
    assert (update.cells["nearest_id_any"] == "n0").any() and not update.cells["nearest_id_any"].isin(lost).any()


def test_only_the_neighbourhoods_that_change_are_redone_and_all_are_ranked_again():
    network, cells, fac = _grid_study(6)
    cells = pd.concat([cells, cells.assign(geometry=cells.geometry.translate(20.0, 20.0))], ignore_index=True)
    cells["cell_id"] = np.arange(len(cells))
    options = dict(underserved_threshold_m=250.0, service_areas_by="none", progress=False)
    before = acc.compute_accessibility(network, cells, fac, **options)
    assert len(before.underserved) >= 8
    worst = before.underserved.iloc[0]
    court = _new_rows(network, 1, 1, ["ball_court"], "c").assign(
        geometry=[shapely.Point(worst.centroid_x, worst.centroid_y)]
    )
    closed = before.cells["nearest_id_any"].value_counts().index[0]
    for new in (pd.concat([fac, court], ignore_index=True), fac[fac["facility_id"] != closed]):
        update = acc.update_accessibility(network, before, new)
        full = acc.compute_accessibility(network, cells, new, **options)
        assert_same_result(update, full)
        assert not update.cells["underserved"].equals(before.cells["underserved"])
        kept = set(map(shapely.to_wkb, update.underserved.geometry)) & set(
            map(shapely.to_wkb, before.underserved.geometry)
        )
        assert 0 < len(kept) < len(full.underserved)


def test_an_update_without_service_areas_leaves_them_out_and_says_so(monkeypatch):
    """The added venues' service-area polygons are drawn only when asked; everything else is the same."""
    import ordos_geo.accessibility.update as update_module

    network, cells, fac = _grid_study(3)
    before = acc.compute_accessibility(network, cells, fac, service_areas_by="facility", progress=False)
    assert len(before.service_areas) > 0
    new = pd.concat([fac, _new_rows(network, 9, 2, ["park", "ball_court"], "n")], ignore_index=True)
    drawn = []
    rows = update_module._service_area_rows
    monkeypatch.setattr(update_module, "_service_area_rows", lambda *a, **k: drawn.append(1) or rows(*a, **k))
    lean = acc.update_accessibility(network, before, new, service_areas=False)
    assert drawn == [] and lean.service_areas.empty and lean.parameters["service_areas_by"] == "none"
    full = acc.update_accessibility(network, before, new)
    assert drawn == [1] and len(full.service_areas) > len(before.service_areas)
    pd.testing.assert_frame_equal(
        pd.DataFrame(lean.cells.drop(columns="geometry")), pd.DataFrame(full.cells.drop(columns="geometry"))
    )
    assert_geodataframe_equal(lean.underserved, full.underserved)
    assert {k: v for k, v in lean.parameters.items() if k != "service_areas_by"} == {
        k: v for k, v in full.parameters.items() if k != "service_areas_by"
    }


def test_update_from_nothing_and_to_nothing_of_a_kind():
    network, cells, fac = _grid_study(5)
    parks = fac[fac["kind"] == "park"]
    before = acc.compute_accessibility(network, cells, fac.iloc[:0], progress=False)
    assert np.isinf(before.cells["dist_m_any"]).all()
    for new in (parks, fac, fac[fac["kind"] != "park"]):
        update = acc.update_accessibility(network, before, new)
        assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False))
        before = update
    assert "dist_m_park" not in before.cells.columns


def test_update_breaks_ties_like_a_full_run():
    # a cell at the middle of a 200 m street: venues at either end are both 100 m away
    network = make_network({1: (0, 0), 2: (100, 0), 3: (200, 0)}, [(1, 2, False), (2, 3, False)])
    cells = square_cells([(100, 5), (30, 5)])
    west = facilities([(0, 0)], ["m"], kinds=["park"], area_m2=[500.0])
    before = acc.compute_accessibility(network, cells, west, progress=False)
    for new_id, expected in (("a", "a"), ("z", "m")):
        east = facilities([(200, 0)], [new_id], kinds=["park"], area_m2=[500.0])
        new = pd.concat([west, east], ignore_index=True)
        update = acc.update_accessibility(network, before, new)
        assert update.cells["nearest_id_any"].iloc[0] == expected
        assert update.cells["dist_m_any"].iloc[0] == pytest.approx(100.0)
        assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False))


def test_update_with_a_venue_on_a_street_island():
    # two components: the main street and an island street 1 km away; cells on both
    nodes = {1: (0, 0), 2: (300, 0), 3: (0, 1000), 4: (300, 1000)}
    network = make_network(nodes, [(1, 2, False), (3, 4, False)])
    cells = square_cells([(50, 5), (250, 5), (150, 995)])
    fac = facilities([(100, 0)], ["main"], kinds=["park"], area_m2=[900.0])
    before = acc.compute_accessibility(network, cells, fac, progress=False)
    assert np.isinf(before.cells["dist_m_any"].iloc[2])
    island = facilities([(200, 1000)], ["isle"], kinds=["park"], area_m2=[400.0])
    new = pd.concat([fac, island], ignore_index=True)
    update = acc.update_accessibility(network, before, new)
    assert update.cells["dist_m_any"].tolist() == pytest.approx([50.0, 150.0, 50.0])
    assert update.cells["nearest_id_any"].tolist() == ["main", "main", "isle"]
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False))
    # closing the island's venue leaves its cell unreachable again
    back = acc.update_accessibility(network, update, fac)
    assert_same_result(back, before)


def test_update_keeps_the_kinds_and_options_of_the_earlier_run():
    network, cells, fac = _grid_study(8)
    options = dict(thresholds_m=(200, 400), kinds=["park", "gymnasium"], catchment_m=600.0, service_areas_by="none")
    before = acc.compute_accessibility(network, cells, fac, progress=False, **options)
    added = _new_rows(network, 2, 3, ["gymnasium", "park", "fitness_path"], "g")
    new = pd.concat([fac.iloc[2:], added], ignore_index=True)
    update = acc.update_accessibility(network, before, new)
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False, **options))
    assert "dist_m_fitness_path" not in update.cells.columns


def test_update_needs_a_result_with_snaps():
    network, cells, fac = _grid_study(1)
    split = acc.compute_accessibility_by_district(
        network, cells.assign(district="a"), fac, service_areas_by="none", progress=False
    )
    with pytest.raises(InputDataError, match="run compute_accessibility instead"):
        acc.update_accessibility(network, split, fac)
    before = acc.compute_accessibility(network, cells, fac, service_areas_by="none", progress=False)
    with pytest.raises(InputDataError, match="duplicated"):
        acc.update_accessibility(network, before, pd.concat([fac, fac.iloc[:1]], ignore_index=True))


def test_points_farther_than_the_snap_limit_stay_unreachable():
    network = make_network({1: (0, 0), 2: (100, 0)}, [(1, 2, False)])
    cells = square_cells([(50, 5)])
    fac = facilities([(10, 0)], ["a"], area_m2=[1.0])
    before = acc.compute_accessibility(network, cells, fac, progress=False)
    far = gpd.GeoDataFrame(
        {"facility_id": ["far"], "kind": ["park"], "area_m2": [5.0]},
        geometry=[shapely.Point(X0 + 50, Y0 + 900)],
        crs=CRS,
    )
    new = pd.concat([fac, far], ignore_index=True)
    update = acc.update_accessibility(network, before, new)
    assert update.facilities["reachable"].tolist() == [True, False]
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False))


def test_update_on_the_sample_equals_a_full_run():
    from ordos_geo import pipeline

    study = pipeline.load_study()
    fac = study.facilities
    before = acc.compute_accessibility(study.network, study.cells, fac, service_areas_by="none", progress=False)
    busiest = before.cells["nearest_id_any"].value_counts().index[:3]
    moved = fac[fac["facility_id"].isin(busiest[:1])].copy()
    moved["geometry"] = moved.geometry.translate(400.0, 250.0)
    extra = fac.iloc[:4].copy()
    extra["facility_id"] = [f"new-{i}" for i in range(4)]
    extra["geometry"] = extra.geometry.translate(-300.0, 500.0)
    new = pd.concat([fac[~fac["facility_id"].isin(busiest)], moved, extra], ignore_index=True)
    update = acc.update_accessibility(study.network, before, new)
    full = acc.compute_accessibility(study.network, study.cells, new, service_areas_by="none", progress=False)
    assert_same_result(update, full)
    changed = update.cells["dist_m_any"].to_numpy() != before.cells["dist_m_any"].to_numpy()
    assert changed.sum() > 100


def test_pipeline_update_redoes_the_evening_and_winter_scenarios(tmp_path):
    from _grid_study import write_grid_study

    from ordos_geo import pipeline
    from ordos_geo.config import StudyConfig

    study = pipeline.load_study(
        StudyConfig.from_toml(write_grid_study(tmp_path, name="scen", n=10, n_facilities=12, seed=4)), use_cache=False
    )
    fac = study.facilities.assign(public_access="full", indoor=False)
    schools = np.flatnonzero(fac["kind"].eq("school_venue").to_numpy())
    fac.loc[fac.index[schools[0]], ["public_access", "indoor"]] = ["after_school", True]
    before = pipeline.compute_accessibility(study, facilities=fac)
    # a school hall open in the evenings where the evenings' walk is longest, a gymnasium where winter's is
    farthest = {
        s: study.cells.geometry.centroid.iloc[before.cells[f"dist_m_{s}"].argmax()] for s in ("evenings", "winter")
    }
    hall = fac.iloc[[schools[1]]].assign(facility_id="hall", public_access="after_school", indoor=True)
    hall["geometry"] = [farthest["evenings"]]
    gym = fac.iloc[[0]].assign(facility_id="gym", kind="gymnasium", indoor=True)
    gym["geometry"] = [farthest["winter"]]
    steps = [
        pd.concat([fac, hall, gym], ignore_index=True),  # the evenings and winter gain a hall, winter a gymnasium
        pd.concat([fac.drop(index=fac.index[schools[0]]), hall], ignore_index=True),  # the evenings lose a hall
        fac,
    ]
    previous = before
    for new in steps:
        update = pipeline.update_accessibility(study, previous, new)
        full = pipeline.compute_accessibility(study, facilities=new)
        assert_same_result(update, full)
        assert {"dist_m_evenings", "covered_500m_evenings", "dist_m_winter"} <= set(update.cells.columns)
        previous = update
    gained = steps[0]
    first = pipeline.update_accessibility(study, before, gained).cells
    assert (first["dist_m_evenings"] < before.cells["dist_m_evenings"]).any()
    assert (first["dist_m_winter"] < before.cells["dist_m_winter"]).any()


def test_the_earlier_result_stays_as_it_was_and_a_kind_searched_again_keeps_the_cells_that_kept_their_venue():
    network, cells, fac = _grid_study(11)
    before = acc.compute_accessibility(network, cells, fac, progress=False)
    snapshot = before.cells.copy(deep=True)
    parks = fac[fac["kind"] == "park"]
    closed = before.cells["nearest_id_park"].value_counts().index[0]
    assert len(parks) >= 2
    new = fac[fac["facility_id"] != closed]
    update = acc.update_accessibility(network, before, new)
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False))
    pd.testing.assert_frame_equal(before.cells, snapshot)
    stayed = (before.cells["nearest_id_park"] != closed).to_numpy()
    assert stayed.any() and not stayed.all()
    # the cells whose nearest park stayed open keep their distance to the last bit
    assert np.array_equal(
        update.cells["dist_m_park"].to_numpy()[stayed], before.cells["dist_m_park"].to_numpy()[stayed]
    )
    # a kind that did not change is shared with the earlier result, not copied
    other = next(k for k in before.parameters["kinds"] if k != "park" and dist_column(k) in update.cells)
    assert np.shares_memory(update.cells[dist_column(other)].to_numpy(), before.cells[dist_column(other)].to_numpy())


def test_catchment_pairs_of_an_added_venue_are_searched_from_the_cells_near_it_only():
    from ordos_geo.accessibility.update import _near_origins
    from ordos_geo.routing.index import network_index

    network, cells, fac = _grid_study(12)
    options = dict(catchment_m=120.0, e2sfca_steps=[(60.0, 1.0), (120.0, 0.5)], service_areas_by="none")
    before = acc.compute_accessibility(network, cells, fac, progress=False, **options)
    court = _new_rows(network, 4, 1, ["multi_sport_court"], "c").assign(geometry=[cells.geometry.centroid.iloc[0]])
    new = pd.concat([fac, court], ignore_index=True)
    update = acc.update_accessibility(network, before, new)
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False, **options))
    near = _near_origins(network_index(network), before.cells_snapped, acc.snap_points(network, court), 120.0)
    paired = update.catchment_pairs.loc[
        update.catchment_pairs["destination"] == update.facilities["facility_id"].tolist().index("c0"), "origin"
    ]
    assert len(paired) > 0 and set(paired) <= set(near) and len(near) < len(cells)


def test_closing_venues_under_a_short_walking_cap_equals_a_full_run_with_ties():
    # the cap (300 m on a 1.2 km grid) bounds where the cells that lost their venue look for another
    network, cells, fac = _grid_study(21)
    twins = fac.iloc[[2, 2]].assign(facility_id=["a-twin", "zz-twin"])  # at the same place: the smallest id wins
    fac = pd.concat([fac, twins], ignore_index=True)
    options = dict(
        max_distance_m=300.0,
        thresholds_m=(150.0, 300.0),
        catchment_m=200.0,
        e2sfca_steps=[(100.0, 1.0), (200.0, 0.5)],
        underserved_threshold_m=150.0,
        service_areas_by="none",
    )
    before = acc.compute_accessibility(network, cells, fac, progress=False, **options)
    assert np.isinf(before.cells["dist_m_any"]).any()
    kind = f"nearest_id_{fac['kind'].iloc[2]}"
    busiest = before.cells["nearest_id_any"].value_counts().index[0]
    assert (before.cells[kind] == "a-twin").any() and not before.cells[kind].isin(
        ["zz-twin", fac["facility_id"].iloc[2]]
    ).any()
    for closed, heir in (
        ([busiest], None),
        (["a-twin"], fac["facility_id"].iloc[2]),
        (["a-twin", fac["facility_id"].iloc[2]], "zz-twin"),
    ):
        new = fac[~fac["facility_id"].isin(closed)]
        update = acc.update_accessibility(network, before, new)
        assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False, **options))
        if heir is not None:
            assert update.cells.loc[(before.cells[kind] == "a-twin").to_numpy(), kind].eq(heir).all()


def test_a_cell_that_lost_its_venue_finds_the_next_one_at_the_end_of_the_walking_cap():
    # a 1 km street of 50 m blocks; the cell at 5 m loses the venue at 0 m: the next two (a tie) are 285 m away
    network = make_network({i: (50.0 * i, 0.0) for i in range(21)}, [(i, i + 1, False) for i in range(20)])
    cells = square_cells([(5, 5), (500, 5), (990, 5)])
    xy = [(0, 0), (290, 0), (290, 0), (900, 0)]
    fac = facilities(xy, ["m", "q", "p", "x"], kinds=["park"] * 4, area_m2=[500.0] * 4)
    options = dict(max_distance_m=300.0, thresholds_m=(150.0, 300.0), service_areas_by="none")
    before = acc.compute_accessibility(network, cells, fac, progress=False, **options)
    new = fac[fac["facility_id"] != "m"]
    update = acc.update_accessibility(network, before, new)
    assert_same_result(update, acc.compute_accessibility(network, cells, new, progress=False, **options))
    assert update.cells["nearest_id_park"].tolist() == ["p", "p", "x"]
    np.testing.assert_allclose(update.cells["dist_m_park"], [285.0, 210.0, 90.0])


def test_nearest_venue_update_equals_nearest_facility_after_gaining_losing_and_moving_venues():
    from ordos_geo.accessibility.update import nearest_venue_update

    network, cells, fac = _grid_study(23)
    limits = dict(max_distance_m=250.0, max_snap_distance_m=300.0)
    snapped = acc.compute_accessibility(network, cells, fac, progress=False, service_areas_by="none").cells_snapped
    twin = fac.iloc[[3]].assign(facility_id="a-twin")  # ties with f.. at the same place
    moved = fac.iloc[[5]].assign(geometry=fac.geometry.iloc[[5]].translate(200.0, 100.0))
    steps = [
        fac.iloc[:6],
        pd.concat([fac.iloc[:6], twin], ignore_index=True),  # a venue gained
        pd.concat([fac.iloc[1:5], twin, moved], ignore_index=True),  # one lost, one moved
        pd.concat([fac.iloc[1:3], fac.iloc[4:5]], ignore_index=True),  # the twin and its match lost
        fac.iloc[:0],
        fac.iloc[6:9],
    ]
    earlier, distance = fac.iloc[:0], np.full(len(cells), np.inf)
    for venues in steps:
        distance = nearest_venue_update(network, snapped, earlier, distance, venues, **limits)
        earlier = venues
        if venues.empty:
            assert np.isinf(distance).all()
            continue
        full = acc.nearest_facility(network, cells, venues, **limits)["distance_m"].to_numpy()
        np.testing.assert_allclose(distance, full, rtol=0, atol=1e-9)
        assert np.isfinite(full).any() and np.isinf(full).any()


def test_an_update_redraws_only_the_outline_pieces_whose_cells_changed():
    """Neighbourhoods wider than a 1 km tile keep the pieces of the tiles where no cell changed, same object."""
    from _hand_graphs import random_grid

    rng = np.random.default_rng(31)
    network = random_grid(rng, size=30, spacing=80.0)  # about 2.3 km across
    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    xs, ys = np.meshgrid(np.arange(lo[0], hi[0], 60.0), np.arange(lo[1], hi[1], 60.0))
    x, y = xs.ravel(), ys.ravel()
    cells = gpd.GeoDataFrame(
        {"cell_id": np.arange(len(x)), "population": rng.uniform(10, 500, len(x))},
        geometry=shapely.box(x, y, x + 60.0, y + 60.0),  # a raster's cells: corners shared
        crs=CRS,
    )
    fac = _new_rows(network, 2, 3, ["park", "ball_court", "fitness_path"], "f")
    options = dict(underserved_threshold_m=300.0, service_areas_by="none", progress=False)
    before = acc.compute_accessibility(network, cells, fac, **options)
    assert len({key[0] for key in before.outlines.pieces}) >= 4  # the largest neighbourhood spans tiles
    worst = before.underserved.iloc[0]
    court = _new_rows(network, 1, 1, ["ball_court"], "c").assign(
        geometry=[shapely.Point(worst.centroid_x, worst.centroid_y)]
    )
    new = pd.concat([fac, court], ignore_index=True)
    update = acc.update_accessibility(network, before, new)
    assert_same_result(update, acc.compute_accessibility(network, cells, new, **options))
    changed = set(np.flatnonzero(before.cells["underserved"].to_numpy() != update.cells["underserved"].to_numpy()))
    assert changed
    kept = redrawn = 0
    for key, (rows, outline) in update.outlines.pieces.items():
        earlier = before.outlines.pieces.get(key)
        if earlier is not None and np.array_equal(earlier[0], rows):
            assert outline is earlier[1]
            kept += 1
        else:
            redrawn += 1
    assert kept > 0 and redrawn > 0
    # a piece of the earlier run that lost a cell is not carried over
    lost = [key for key, (rows, _) in before.outlines.pieces.items() if changed & set(rows.tolist())]
    assert lost and all(
        key not in update.outlines.pieces
        or not np.array_equal(update.outlines.pieces[key][0], before.outlines.pieces[key][0])
        for key in lost
    )


def _raster_like_cells(network: WalkNetwork, rng: np.random.Generator, size_m: float) -> gpd.GeoDataFrame:
    """Pixels of a north-up grid over the network as the population reader makes them: corners shared, in its order."""
    from ordos_geo.io import RASTER_WIDTH

    lo, hi = network.node_xy.min(axis=0), network.node_xy.max(axis=0)
    n_cols, n_rows = int((hi[0] - lo[0]) // size_m), int((hi[1] - lo[1]) // size_m)
    row, col = np.divmod(np.arange(n_rows * n_cols), n_cols)
    corner_row = row[:, None] + np.array([0, 0, 1, 1, 0])  # the reader's ring: (0, 0), (0, 1), (1, 1), (1, 0)
    corner_col = col[:, None] + np.array([0, 1, 1, 0, 0])
    xy = np.column_stack([lo[0] + corner_col.ravel() * size_m, hi[1] - corner_row.ravel() * size_m])
    rings = np.arange(0, 5 * len(row) + 1, 5)
    geoms = shapely.from_ragged_array(shapely.GeometryType.POLYGON, xy, (rings, np.arange(len(row) + 1)))
    cells = gpd.GeoDataFrame(
        {"cell_id": row * n_cols + col, "population": rng.uniform(10, 500, len(row))}, geometry=geoms, crs=CRS
    )
    cells.attrs[RASTER_WIDTH] = n_cols
    return cells


def test_an_update_of_a_rasters_cells_reads_their_corners_from_the_first_run(monkeypatch):
    """A raster's cells checked by the first run are not checked again by an update that only adds venues.

    The update's neighbourhoods equal a full run's, outline for outline; a
    venue closed (cells newly underserved, which the first run did not
    check) has those cells checked, and equals a full run too.
    """
    from _hand_graphs import random_grid

    from ordos_geo.accessibility import _raster_groups

    rng = np.random.default_rng(31)
    network = random_grid(rng, size=30, spacing=80.0)
    cells = _raster_like_cells(network, rng, 60.0)
    fac = _new_rows(network, 2, 3, ["park", "ball_court", "fitness_path"], "f")
    options = dict(underserved_threshold_m=300.0, service_areas_by="none", progress=False)
    before = acc.compute_accessibility(network, cells, fac, **options)
    grid = before.outlines.grid
    assert grid is not None and not before.outlines.pieces  # the grid path, no pieces of polygons
    worst = before.underserved.iloc[0]
    court = _new_rows(network, 1, 1, ["ball_court"], "c").assign(
        geometry=[shapely.Point(worst.centroid_x, worst.centroid_y)]
    )
    more = pd.concat([fac, court], ignore_index=True)
    with monkeypatch.context() as patched:
        patched.setattr(_raster_groups, "_checked", lambda *args: pytest.fail("checked the cells again"))
        update = acc.update_accessibility(network, before, more)
    assert update.outlines.grid is grid
    assert (update.cells["underserved"] != before.cells["underserved"]).any()
    assert_same_result(update, acc.compute_accessibility(network, cells, more, **options))
    # venues only added: the E2SFCA goes on from the earlier ratios, and equals one pass over all pairs to the bit
    counted = update.facilities["kind"].isin(settings.AREA_COUNTED_KINDS).to_numpy()
    supply = np.where(counted, update.facilities["area_m2"].to_numpy(dtype=float), 0.0)
    population = cells["population"].to_numpy()
    one_pass = acc.e2sfca(update.catchment_pairs, population, supply)
    assert np.array_equal(update.cells["e2sfca_m2_per_capita"].to_numpy(), one_pass) and one_pass.any()

    fewer = fac.iloc[1:]
    closed = acc.update_accessibility(network, before, fewer)
    gained = closed.cells["underserved"].to_numpy() & ~before.cells["underserved"].to_numpy()
    assert gained.any() and closed.outlines.grid is not grid
    assert_same_result(closed, acc.compute_accessibility(network, cells, fewer, **options))
