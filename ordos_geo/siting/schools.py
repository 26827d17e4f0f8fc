"""Which closed school venues to open first (学校体育场馆开放): :func:`plan_school_opening`."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ordos_geo import _labels, settings
from ordos_geo._columns import ANY_KIND, dist_column
from ordos_geo._errors import InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import SnappedPoints
from ordos_geo.siting._distances import _cell_points, _coverage_from_pairs, _pairs, _to_network_crs, _weights
from ordos_geo.siting.base import _gap_row
from ordos_geo.siting.coverage import CombinedCoverage

__all__ = ["SCHOOL_OPENING", "SchoolOpeningResult", "plan_school_opening"]

logger = logging.getLogger(__name__)


#: Site type key of school opening in tables, gaps and the CLI.
SCHOOL_OPENING: Final[str] = "school_opening"


@dataclass
class SchoolOpeningResult:
    """What :func:`plan_school_opening` returns (geometry in the network's metric CRS).

    Attributes
    ----------
    ranked : geopandas.GeoDataFrame
        Every closed school venue, the chosen ones first (in plan order), then
        the rest by residents newly within the service distance: ``rank``,
        ``facility_id``, ``name``, ``district``, ``in_plan``, ``plan_order``,
        ``newly_covered_in_plan`` (marginal residents in plan order),
        ``newly_within_<t>m`` (residents newly within ``t`` m of any open venue
        if this one alone opened), ``area_m2``, ``delta_per_capita_area_city_m2``,
        ``delta_per_capita_area_district_m2``, ``district_open_share_before``,
        ``district_open_share_after`` (this one alone opened), ``reason``.
    opened : geopandas.GeoDataFrame
        The chosen venues as facilities rows, now open (``open_to_public``
        true, ``public_access`` ``"after_school"`` unless already given).
    districts : pandas.DataFrame
        Per district and ``"citywide"``: ``n_school_venues``, ``n_open_before``,
        ``open_share_before``, ``required`` (fewest openings reaching the target),
        ``opened``, ``open_share_after``.
    gaps : pandas.DataFrame
        Greedy vs exact (one row, instance ``"school_opening"``; empty when
        nothing has to open).
    target_share : float
        The share the plan asks for.

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> result = plan_school_opening(study.network, acc.cells, study.facilities)  # doctest: +SKIP
    >>> result.target_share, list(result.districts.columns)[:3]  # doctest: +SKIP
    (0.6, ['district', 'n_school_venues', 'n_open_before'])
    """

    ranked: gpd.GeoDataFrame
    opened: gpd.GeoDataFrame
    districts: pd.DataFrame
    gaps: pd.DataFrame
    target_share: float


def _required_openings(n_total: int, n_open: int, target_share: float) -> int:
    """Fewest venues to open so that open / total reaches ``target_share``."""
    return max(0, math.ceil(target_share * n_total - 1e-9) - n_open)


_OPENING_REASON: Final[Mapping[str, str]] = MappingProxyType(
    {
        "en": "{plan}: opens {area} m² of venue in {district} (its school venues open {before:.0%} -> {after:.0%}); "
        "{people} residents newly within {distance} m of an open venue",
        "zh": "{plan}：在{district}新增开放场地 {area} 平方米（该区学校体育场馆开放率 {before:.0%} → {after:.0%}）；"
        "{distance} 米内新增覆盖 {people} 人",
    }
)
_OPENING_PLAN_WORDS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {"en": ("in the plan", "not in the plan"), "zh": ("列入开放方案", "未列入方案")}
)


def plan_school_opening(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    target_share: float = 0.6,
    service_distance_m: float = settings.KIND_SERVICE_DISTANCE_M["school_venue"],
    distance_column: str = dist_column(ANY_KIND),
    thresholds_m: Sequence[float] = settings.DEFAULT_COVERAGE_THRESHOLDS_M,
    method: str = settings.DEFAULT_SITING_METHOD,
    language: str = "en",
    max_snap_distance_m: float = settings.DEFAULT_MAX_SNAP_DISTANCE_M,
    time_limit_s: float | None = settings.DEFAULT_SITING_TIME_LIMIT_S,
    cells_snapped: SnappedPoints | None = None,
) -> SchoolOpeningResult:
    """Choose which closed school venues to open first to reach the plan's open share.

    The number to open is the smallest that reaches ``target_share``
    citywide and in every district below it: ``K = max(k_city, sum_d k_d)``
    with ``k = ceil(target x venues) - open``. Among the sets of ``K`` closed
    venues with at least ``k_d`` in each district, the model maximises the
    residents newly within ``service_distance_m`` of any open venue (a
    maximal coverage model with per-district minimums, solved exactly with
    HiGHS; the lazy greedy's gap is reported).

    Parameters
    ----------
    network : WalkNetwork
        The walk network; frames are projected to its metric CRS.
    cells : geopandas.GeoDataFrame
        ``AccessibilityResult.cells``: ``population``, ``district`` and
        ``distance_column``.
    facilities : geopandas.GeoDataFrame
        The facilities table (``kind``, ``open_to_public``, ``district``,
        ``area_m2``, ``facility_id``, ``name``); school venues are those of
        kind ``school_venue``; ``after_school`` venues count as open.
    target_share : float, default 0.6
        Share of school venues open to the public the plan asks for
        (学校体育场馆向社会开放占比不低于60%).
    service_distance_m : float, default 500
        Walking distance within which an opened venue covers a resident.
    distance_column : str, default "dist_m_any"
        Cell column with the walking metres to the nearest open venue now
        (``"dist_m_evenings"`` in a study: school venues open after school
        hours count, and so will the ones opened).
    thresholds_m : sequence of float
        Tiers of the ``newly_within_<t>m`` columns.
    method : {"exact", "greedy"}
        How the set is chosen (see :meth:`CombinedCoverage.solve`).
    language : {"en", "zh"}
        Language of the ``reason`` column.
    max_snap_distance_m : float
        Farther than this from a street is unreachable.
    time_limit_s : float, optional
        HiGHS time limit.
    cells_snapped : ordos_geo.routing.SnappedPoints, optional
        ``cells`` already snapped on ``network`` with ``max_snap_distance_m``
        (``AccessibilityResult.cells_snapped``), not snapped again.

    Returns
    -------
    SchoolOpeningResult

    Examples
    --------
    >>> from ordos_geo import pipeline
    >>> study = pipeline.load_study()  # doctest: +SKIP
    >>> acc = pipeline.compute_accessibility(study)  # doctest: +SKIP
    >>> result = plan_school_opening(study.network, acc.cells, study.facilities)  # doctest: +SKIP
    >>> result.districts[["district", "required", "opened", "open_share_after"]]  # doctest: +SKIP
    """
    if not 0 < target_share <= 1:
        msg = f"target_share must lie in (0, 1], got {target_share!r}"
        raise InputDataError(msg)
    if language not in _OPENING_REASON:
        msg = f"language must be one of {', '.join(_OPENING_REASON)}, got {language!r}"
        raise InputDataError(msg)
    for column in ("kind", "facility_id"):
        if column not in facilities:
            msg = f"facilities: column `{column}` is missing; read facilities with ordos_geo.io.read_facilities"
            raise InputDataError(msg)
    if distance_column not in cells:
        msg = (
            f"cells: column `{distance_column}` is missing; pass AccessibilityResult.cells (run compute_accessibility)"
        )
        raise InputDataError(msg)
    facilities = _to_network_crs(facilities, network, "facilities")
    cells = _to_network_crs(cells, network, "cells")
    schools = facilities[facilities["kind"] == "school_venue"].reset_index(drop=True)
    if "open_to_public" in schools and schools["open_to_public"].isna().any():
        msg = (
            f"facilities: {int(schools['open_to_public'].isna().sum())} school venues have `open_to_public` unknown; "
            "fill it from the education bureau's list of open schools before choosing which to open"
        )
        raise InputDataError(msg)
    is_open = (
        schools["open_to_public"].fillna(False).astype(bool).to_numpy()
        if "open_to_public" in schools
        else (np.ones(len(schools), dtype=bool))
    )
    district = (
        schools["district"].astype(object).where(schools["district"].notna(), None).to_numpy()
        if "district" in schools
        else np.full(len(schools), None, dtype=object)
    )
    closed = schools.loc[~is_open].reset_index(drop=True)
    closed_district = district[~is_open]
    # how many to open, citywide and per district below the target
    rows = []
    for name in sorted({d for d in district if d is not None}, key=str):
        here = district == name
        n, n_open = int(here.sum()), int((here & is_open).sum())
        need = min(_required_openings(n, n_open, target_share), int((here & ~is_open).sum()))
        rows.append({"district": name, "n_school_venues": n, "n_open_before": n_open, "required": need})
    need_city = min(_required_openings(len(schools), int(is_open.sum()), target_share), len(closed))
    total = min(max(need_city, sum(r["required"] for r in rows)), len(closed))
    city = {"district": "citywide", "n_school_venues": len(schools), "n_open_before": int(is_open.sum())}
    rows.append({**city, "required": total})
    weights = _weights(cells, "population")
    cell_points = _cell_points(cells)
    radius = max([service_distance_m, *thresholds_m])
    pairs = _pairs(
        network,
        cell_points,
        closed,
        max_distance_m=radius,
        max_snap_distance_m=max_snap_distance_m,
        origins_snapped=cells_snapped,
    )
    any_now = pd.to_numeric(cells[distance_column], errors="coerce").fillna(np.inf).to_numpy(dtype=float)
    cover = _coverage_from_pairs(pairs, len(closed), len(cells), service_distance_m)

    chosen: list[int] = []
    gains: list[float] = []
    gap_rows = []
    if total > 0:
        minimums = [(closed_district == r["district"], r["required"]) for r in rows[:-1] if r["required"] > 0]
        model = CombinedCoverage.from_coverages(
            weights,
            {SCHOOL_OPENING: cover},
            p={SCHOOL_OPENING: total},
            locked_coverage={SCHOOL_OPENING: any_now <= service_distance_m},
            minimums=minimums,
        ).solve(method, time_limit_s=time_limit_s, lp_bound=True)
        chosen = model.selected[SCHOOL_OPENING].tolist()
        gains = model.marginal_gains[SCHOOL_OPENING].tolist()
        gap_rows.append(_gap_row(SCHOOL_OPENING, model, len(cells)))
    opened_by_district = pd.Series(closed_district[chosen] if chosen else [], dtype=object).value_counts()
    for row in rows:
        opened = len(chosen) if row["district"] == "citywide" else int(opened_by_district.get(row["district"], 0))
        row["opened"] = opened
        row["open_share_before"] = _fraction(row["n_open_before"], row["n_school_venues"])
        row["open_share_after"] = _fraction(row["n_open_before"] + opened, row["n_school_venues"])
    districts = pd.DataFrame(rows)[
        ["district", "n_school_venues", "n_open_before", "open_share_before", "required", "opened", "open_share_after"]
    ]
    ranked = _opening_table(
        closed,
        closed_district,
        cells,
        weights,
        pairs,
        any_now,
        chosen=chosen,
        gains=gains,
        districts=districts,
        thresholds_m=thresholds_m,
        service_distance_m=service_distance_m,
        language=language,
    )
    opened = closed.iloc[chosen].copy()
    opened["open_to_public"] = True
    if "public_access" in opened:
        opened["public_access"] = "after_school"
    logger.info(
        "siting: school opening: %s of %s closed school venues to open (target %.0f%%), newly covering %s residents",
        len(chosen),
        len(closed),
        100 * target_share,
        f"{sum(gains):,.0f}",
    )
    return SchoolOpeningResult(
        ranked=ranked,
        opened=gpd.GeoDataFrame(opened.reset_index(drop=True), geometry="geometry", crs=facilities.crs),
        districts=districts,
        gaps=pd.DataFrame(gap_rows),
        target_share=float(target_share),
    )


def _fraction(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else math.nan


def _opening_table(
    closed: gpd.GeoDataFrame,
    closed_district: np.ndarray,
    cells: gpd.GeoDataFrame,
    weights: np.ndarray,
    pairs: pd.DataFrame,
    any_now: np.ndarray,
    *,
    chosen: Sequence[int],
    gains: Sequence[float],
    districts: pd.DataFrame,
    thresholds_m: Sequence[float],
    service_distance_m: float,
    language: str,
) -> gpd.GeoDataFrame:
    """One row per closed school venue: what opening it alone gives, and whether the plan opens it."""
    n = len(closed)
    origin = pairs["origin"].to_numpy()
    destination = pairs["destination"].to_numpy()
    distance = pairs["distance_m"].to_numpy()
    table = pd.DataFrame(
        {
            "facility_id": closed["facility_id"].astype(str).to_numpy(),
            "name": closed["name"].astype(str).to_numpy() if "name" in closed else "",
            "district": closed_district,
        }
    )
    plan_order = {cand: k for k, cand in enumerate(chosen, start=1)}
    table["in_plan"] = [k in plan_order for k in range(n)]
    table["plan_order"] = pd.array([plan_order.get(k) for k in range(n)], dtype="Int64")
    marginal = dict(zip(chosen, gains, strict=True))
    table["newly_covered_in_plan"] = [marginal.get(k, 0.0) for k in range(n)]
    for t in [*thresholds_m, service_distance_m]:
        fresh = (distance <= t) & (any_now[origin] > t)
        table[f"newly_within_{round(float(t))}m"] = np.bincount(
            destination[fresh], weights=weights[origin[fresh]], minlength=n
        )
    area = (
        pd.to_numeric(closed["area_m2"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if "area_m2" in closed
        else np.zeros(n)
    )
    table["area_m2"] = area
    city_population = float(weights.sum())
    by_district = pd.Series(weights).groupby(cells["district"].to_numpy()).sum() if "district" in cells else pd.Series()
    table["delta_per_capita_area_city_m2"] = area / city_population if city_population else np.nan
    district_population = np.array([float(by_district.get(d, 0.0)) if d is not None else 0.0 for d in closed_district])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_district = np.where(district_population > 0, area / district_population, np.nan)
    table["delta_per_capita_area_district_m2"] = per_district
    counts = districts.set_index("district")
    before = [counts.at[d, "open_share_before"] if d in counts.index else np.nan for d in closed_district]
    after = [
        _fraction(counts.at[d, "n_open_before"] + 1, counts.at[d, "n_school_venues"]) if d in counts.index else np.nan
        for d in closed_district
    ]
    table["district_open_share_before"] = before
    table["district_open_share_after"] = after
    covered = f"newly_within_{round(float(service_distance_m))}m"
    words = _OPENING_PLAN_WORDS[language]
    table["reason"] = [
        _OPENING_REASON[language].format(
            plan=words[0] if row.in_plan else words[1],
            area=f"{row.area_m2:,.0f}",
            district=_labels.district(row.district, language) if row.district else "-",
            before=np.nan_to_num(row.district_open_share_before),
            after=np.nan_to_num(row.district_open_share_after),
            people=f"{getattr(row, covered):,.0f}",
            distance=f"{service_distance_m:,.0f}",
        )
        for row in table.itertuples()
    ]
    key = np.where(table["in_plan"], table["plan_order"].fillna(0).astype(float), np.inf)
    order = np.lexsort((table["facility_id"].to_numpy(), -table["area_m2"].to_numpy(), -table[covered].to_numpy(), key))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, n + 1))
    return gpd.GeoDataFrame(table, geometry=closed.geometry.to_numpy()[order], crs=closed.crs)
