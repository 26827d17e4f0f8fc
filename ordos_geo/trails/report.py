"""Report whom planned or checked trails reach: :func:`trail_report`, per neighbourhood, district and in total.

Residents reached before (by existing trails) and after (with the planned or
checked ones), the residents added and the trail length inside each
underserved neighbourhood, from the reach rule of the prize model
(:mod:`ordos_geo.trails.prize`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ordos_geo._columns import dist_column
from ordos_geo._errors import InputDataError
from ordos_geo.trails.plan import TrailPlan
from ordos_geo.trails.prize import TrailPrizeModel

if TYPE_CHECKING:
    from ordos_geo.trails.check import TrailCheck

__all__ = ["REPORT_COLUMNS", "trail_report"]

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

    Examples
    --------
    >>> from ordos_geo import pipeline, trails
    >>> results = pipeline.analyse_study(pipeline.load_study(), stages=("accessibility", "trails"))  # doctest: +SKIP
    >>> plan, acc = results.trail_plan, results.accessibility  # doctest: +SKIP
    >>> report = trails.trail_report(plan, acc.cells, neighbourhoods=acc.underserved)  # doctest: +SKIP
    >>> report["level"].iloc[-1]  # neighbourhood rows, district rows, then the total  # doctest: +SKIP
    'total'
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
