"""Output column names and the helpers that read or add them, shared by every stage.

One home for ``dist_m_<kind>``, ``nearest_id_<kind>`` and ``covered_<t>m[_<scenario>]``:
accessibility writes them, indicators, siting, trails, maps and the report read
them, so none of those needs to import another stage for a column name.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["ANY_KIND", "covered_column", "dist_column", "distance_to_kinds", "nearest_id_column", "with_scenario"]

#: The pseudo-kind of "any facility": ``dist_m_any``, ``nearest_id_any``.
ANY_KIND = "any"


def dist_column(kind: str) -> str:
    """Name of the distance column for ``kind`` (``"any"`` for all kinds), e.g. ``dist_m_park``.

    Examples
    --------
    >>> dist_column("park"), dist_column(ANY_KIND)
    ('dist_m_park', 'dist_m_any')
    """
    return f"dist_m_{kind}"


def nearest_id_column(kind: str) -> str:
    """Name of the nearest-facility id column for ``kind``, e.g. ``nearest_id_park``.

    Examples
    --------
    >>> nearest_id_column("park")
    'nearest_id_park'
    """
    return f"nearest_id_{kind}"


def covered_column(threshold_m: float, scenario: str | None = None) -> str:
    """Name of the coverage column for a threshold in metres, e.g. ``covered_1000m``.

    With a ``scenario`` (``"winter"``, ``"evenings"``) the column of that
    scenario's venue set, e.g. ``covered_1000m_winter``.

    Examples
    --------
    >>> covered_column(1000.0), covered_column(500, "winter")
    ('covered_1000m', 'covered_500m_winter')
    """
    name = f"covered_{round(float(threshold_m))}m"
    return f"{name}_{scenario}" if scenario else name


def distance_to_kinds(cells: gpd.GeoDataFrame, kinds: Sequence[str]) -> np.ndarray:
    """Walking metres from each cell to the nearest venue of any of ``kinds`` (inf when none).

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        ``AccessibilityResult.cells`` with ``dist_m_<kind>`` columns (kinds
        without a column have no venue and are skipped).
    kinds : sequence of str
        Facility kinds.

    Returns
    -------
    numpy.ndarray
        One distance per cell.

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"dist_m_park": [400.0, np.inf], "dist_m_gymnasium": [900.0, 700.0]})
    >>> distance_to_kinds(cells, ["park", "gymnasium", "stadium"]).tolist()
    [400.0, 700.0]
    """
    best = np.full(len(cells), np.inf)
    for kind in kinds:
        column = dist_column(kind)
        if column in cells:
            distance = cells[column]
            if not pd.api.types.is_float_dtype(distance.dtype):
                distance = pd.to_numeric(distance, errors="coerce")
            # fmin: a missing distance (NaN) is no venue, as inf
            np.fmin(best, distance.to_numpy(dtype=float, na_value=np.nan), out=best)
    return best


def with_scenario(
    cells: gpd.GeoDataFrame, scenario: str, distance_m: np.ndarray, *, thresholds_m: Sequence[float]
) -> gpd.GeoDataFrame:
    """Add a scenario's distance and coverage columns to the cells (a copy).

    A scenario is another set of venues for the same residents: ``winter``
    (indoor venues only), ``evenings`` (with the school venues open after
    school hours). Its columns are ``dist_m_<scenario>`` and
    ``covered_<t>m_<scenario>`` per tier.

    Parameters
    ----------
    cells : geopandas.GeoDataFrame
        The cells.
    scenario : str
        Scenario name.
    distance_m : numpy.ndarray
        Walking metres to the nearest venue of the scenario, one per cell.
    thresholds_m : sequence of float
        Coverage tiers.

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> cells = gpd.GeoDataFrame({"population": [10.0, 20.0]})
    >>> winter = with_scenario(cells, "winter", np.array([400.0, 1200.0]), thresholds_m=[500, 1000])
    >>> list(winter.columns), winter["covered_1000m_winter"].tolist()
    (['population', 'dist_m_winter', 'covered_500m_winter', 'covered_1000m_winter'], [True, False])
    """
    distance = np.asarray(distance_m, dtype=float)
    out = cells.copy(deep=False)  # columns are added, never written into: the input keeps its own
    out[dist_column(scenario)] = distance
    for t in thresholds_m:
        out[covered_column(t, scenario)] = distance <= t
    return out
