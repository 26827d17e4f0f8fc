"""From GeoDataFrames to coverage matrices: walking distances between cells, candidates and facilities."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse

from ordos_geo import _labels, settings
from ordos_geo._columns import ANY_KIND, dist_column, distance_to_kinds
from ordos_geo._errors import InfeasibleError, InputDataError
from ordos_geo.network import WalkNetwork
from ordos_geo.routing import SnappedPoints, nearest_facility, od_distances, snap_points
from ordos_geo.siting.candidates import _require_crs, eligible_candidates
from ordos_geo.siting.rules import SitingRule

logger = logging.getLogger(__name__)


def _to_network_crs(gdf: gpd.GeoDataFrame, network: WalkNetwork, what: str) -> gpd.GeoDataFrame:
    _require_crs(gdf, what)
    if gdf.crs.equals(network.crs):
        return gdf
    return gdf.to_crs(network.crs)


def _cell_points(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Cells as points (polygon centroids in the metric CRS); residents walk from there."""
    geometry = cells.geometry
    if not geometry.geom_type.eq("Point").all():
        geometry = geometry.centroid
    return gpd.GeoDataFrame({"cell": np.arange(len(cells))}, geometry=geometry.to_numpy(), crs=cells.crs)


def _pairs(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    max_snap_distance_m: float,
    origins_snapped: SnappedPoints | None = None,
) -> pd.DataFrame:
    """Walking distances origin -> destination within ``max_distance_m``, one row per pair (minimum).

    ``origins_snapped``: the origins already snapped (``AccessibilityResult.cells_snapped``), not snapped again.
    """
    if len(origins) == 0 or len(destinations) == 0:
        return pd.DataFrame({"origin": [], "destination": [], "distance_m": []}).astype(
            {"origin": np.int64, "destination": np.int64, "distance_m": float}
        )
    table = od_distances(
        network,
        origins,
        destinations,
        max_distance_m=max_distance_m,
        max_snap_distance_m=max_snap_distance_m,
        origins_snapped=origins_snapped,
    )
    table = table[["origin", "destination", "distance_m"]]
    table = table[np.isfinite(table["distance_m"]) & (table["distance_m"] <= max_distance_m)]
    table = table.groupby(["origin", "destination"], as_index=False, sort=True)["distance_m"].min()
    return table.astype({"origin": np.int64, "destination": np.int64, "distance_m": float})


def _coverage_from_pairs(pairs: pd.DataFrame, n_sites: int, n_cells: int, radius_m: float) -> scipy.sparse.csr_matrix:
    near = pairs[pairs["distance_m"] <= radius_m]
    return scipy.sparse.csr_matrix(
        (np.ones(len(near)), (near["destination"].to_numpy(), near["origin"].to_numpy())), shape=(n_sites, n_cells)
    )


def _reachable(network: WalkNetwork, sites: gpd.GeoDataFrame, max_snap_distance_m: float) -> np.ndarray:
    """True where at least one access point of the site snaps to the network."""
    if len(sites) == 0:
        return np.zeros(0, dtype=bool)
    snapped = snap_points(network, sites, max_snap_distance_m=max_snap_distance_m)
    owner = np.asarray(snapped.owner)
    edge = np.asarray(snapped.edge)
    reachable = np.zeros(len(sites), dtype=bool)
    reachable[owner[edge >= 0]] = True
    return reachable


def _distances_reach(cells: gpd.GeoDataFrame, radius_m: float) -> bool:
    """Whether the cells' ``dist_m_<kind>`` columns were searched at least ``radius_m`` far.

    Accessibility caps its distances (``max_distance_m``): beyond the cap a
    cell reads ``inf``. A finite value of at least ``radius_m`` in any
    column proves the cap was at least ``radius_m``.
    """
    for kind in (*settings.FACILITY_KINDS, ANY_KIND):
        column = dist_column(kind)
        if column in cells:
            values = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
            if (values[np.isfinite(values)] >= radius_m).any():
                return True
    return False


def _kinds_with_column(
    cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, kinds: Sequence[str], radius_m: float
) -> list[str]:
    """The kinds whose ``dist_m_<kind>`` column already tells which cells lie within ``radius_m`` of one.

    A column holds the venues open all day (accessibility leaves the
    after-school venues to the ``evenings`` scenario): a kind with an open
    after-school venue among ``facilities`` is searched instead.
    """
    present = [kind for kind in kinds if dist_column(kind) in cells]
    if not present or not _distances_reach(cells, radius_m):
        return []
    if "public_access" in facilities:
        after_school = facilities.loc[facilities["public_access"].eq("after_school").to_numpy(), "kind"]
        present = [kind for kind in present if kind not in set(after_school.astype(str))]
    return present


def _locked_demand(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    cell_points: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    kinds: Sequence[str] | None,
    radius_m: float,
    max_snap_distance_m: float,
    cells_snapped: SnappedPoints | None = None,
) -> tuple[np.ndarray, int]:
    """Cells within ``radius_m`` of an existing (open) facility of one of ``kinds``; and how many facilities.

    Read from the cells' ``dist_m_<kind>`` columns (``AccessibilityResult.cells``)
    where they hold the answer, else searched along the walk network.
    """
    locked = np.zeros(len(cell_points), dtype=bool)
    if facilities is None or len(facilities) == 0:
        return locked, 0
    subset = facilities
    if kinds is not None and "kind" in subset:
        subset = subset[subset["kind"].isin(list(kinds))]
    if "open_to_public" in subset:
        subset = subset[subset["open_to_public"].fillna(True).astype(bool)]
    if len(subset) == 0:
        return locked, 0
    searched = subset
    if kinds is not None and "kind" in subset:
        known = _kinds_with_column(cells, subset, kinds, radius_m)
        if known:
            locked |= distance_to_kinds(cells, known) <= radius_m
            searched = subset[~subset["kind"].isin(known)]
    if len(searched):
        table = _pairs(
            network,
            cell_points,
            searched,
            max_distance_m=radius_m,
            max_snap_distance_m=max_snap_distance_m,
            origins_snapped=cells_snapped,
        )
        locked[table["origin"].to_numpy()] = True
    return locked, len(subset)


def _nearest_same_kind(
    network: WalkNetwork,
    candidates: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None,
    kind: str,
    max_snap_distance_m: float,
) -> np.ndarray:
    """Walking metres from each candidate to the nearest existing facility of ``kind`` (``inf`` when none)."""
    if facilities is None or "kind" not in facilities:
        return np.full(len(candidates), np.inf)
    same = facilities[facilities["kind"] == kind]
    if len(same) == 0:
        return np.full(len(candidates), np.inf)
    table = nearest_facility(
        network,
        candidates,
        same,
        max_distance_m=settings.DEFAULT_MAX_DISTANCE_M,
        max_snap_distance_m=max_snap_distance_m,
    )
    return table["distance_m"].to_numpy(dtype=float)


def _weights(cells: gpd.GeoDataFrame, column: str) -> np.ndarray:
    if column not in cells:
        msg = f"cells: column `{column}` is missing; cells need residents per cell (from io.read_population)"
        raise InputDataError(msg)
    weights = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        msg = (
            f"cells: column `{column}` has {int(bad.sum())} missing, negative or infinite values; "
            "fix or drop those cells"
        )
        raise InputDataError(msg)
    return weights


def _cost_array(candidates: gpd.GeoDataFrame, column: str, budget: float | None) -> np.ndarray | None:
    if budget is None:
        return None
    if column not in candidates:
        msg = f"candidates: a budget was given but there is no `{column}` column; add the cost of each site"
        raise InputDataError(msg)
    costs = pd.to_numeric(candidates[column], errors="coerce").to_numpy(dtype=float)
    missing = np.flatnonzero(~np.isfinite(costs))
    if missing.size:
        ids = (
            candidates["candidate_id"].astype(str).to_numpy()[missing[:5]]
            if "candidate_id" in candidates
            else missing[:5]
        )
        msg = (
            f"candidates: column `{column}` has {missing.size} missing values (e.g. {', '.join(map(str, ids))}); "
            "fill them or drop the budget"
        )
        raise InputDataError(msg)
    return costs


def _capacity_array(candidates: gpd.GeoDataFrame, capacity: float | str | None) -> np.ndarray | None:
    if capacity is None:
        return None
    if isinstance(capacity, str):
        if capacity not in candidates:
            msg = f"candidates: capacity column `{capacity}` is missing"
            raise InputDataError(msg)
        values = pd.to_numeric(candidates[capacity], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            msg = f"candidates: capacity column `{capacity}` has missing values; fill them (residents per site)"
            raise InputDataError(msg)
        return values
    return np.full(len(candidates), float(capacity))


@dataclass
class _Prepared:
    cells: gpd.GeoDataFrame
    cell_points: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    weights: np.ndarray
    pairs: pd.DataFrame  # origin = cell position, destination = candidate position
    reachable: np.ndarray
    type_weights: dict[str, np.ndarray] = field(default_factory=dict)
    coverages: dict[str, scipy.sparse.csr_matrix] = field(default_factory=dict)
    locked: dict[str, np.ndarray] = field(default_factory=dict)
    eligible: dict[str, np.ndarray] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    locked_candidates: np.ndarray | None = None


def _prepare(
    network: WalkNetwork,
    cells: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    rules: Mapping[str, SitingRule],
    existing: gpd.GeoDataFrame | None,
    weight_column: str,
    max_snap_distance_m: float,
    extra_radius_m: float = 0.0,
    cells_snapped: SnappedPoints | None = None,
) -> _Prepared:
    if len(cells) == 0:
        raise InfeasibleError(_labels.Note("no_cells"))
    if len(candidates) == 0:
        raise InfeasibleError(_labels.Note("no_candidates"))
    cells = _to_network_crs(cells, network, "cells")
    candidates = _to_network_crs(candidates, network, "candidates")
    if existing is not None:
        existing = _to_network_crs(existing, network, "facilities")
    weights = _weights(cells, weight_column)
    cell_points = _cell_points(cells)
    radius = max([rule.service_distance_m for rule in rules.values()] + [extra_radius_m])
    pairs = _pairs(
        network,
        cell_points,
        candidates,
        max_distance_m=radius,
        max_snap_distance_m=max_snap_distance_m,
        origins_snapped=cells_snapped,
    )
    reachable = _reachable(network, candidates, max_snap_distance_m)
    _warn_unreachable(candidates, reachable, max_snap_distance_m)
    prepared = _Prepared(cells, cell_points, candidates, weights, pairs, reachable)
    if existing is not None and "facility_id" in existing and "candidate_id" in candidates:
        same = candidates["candidate_id"].astype(str).isin(set(existing["facility_id"].astype(str))).to_numpy()
        prepared.locked_candidates = same
    for key, rule in rules.items():
        prepared.type_weights[key] = (
            weights if rule.weight_column == weight_column else _weights(cells, rule.weight_column)
        )
        prepared.coverages[key] = _coverage_from_pairs(pairs, len(candidates), len(cells), rule.service_distance_m)
        prepared.locked[key], n_existing = _locked_demand(
            network,
            cells,
            cell_points,
            existing,
            rule.locked_kinds,
            rule.service_distance_m,
            max_snap_distance_m,
            cells_snapped=cells_snapped,
        )
        by_area, note = eligible_candidates(candidates, rule)
        eligible = by_area & reachable
        notes = [note] if note else []
        unreachable = by_area & ~reachable
        if unreachable.any():
            far = {"n": int(unreachable.sum()), "snap": f"{max_snap_distance_m:,.0f}"}
            notes.append(_labels.Note("off_network_candidates", **far))
        prepared.eligible[key] = eligible
        prepared.excluded[key] = _labels.Note("list", items=tuple(notes))
        logger.info(
            "siting: %s: %s of %s candidates eligible; %s existing %s lock %s residents",
            key,
            int(eligible.sum()),
            len(candidates),
            n_existing,
            "/".join(rule.locked_kinds),
            f"{prepared.type_weights[key][prepared.locked[key]].sum():,.0f}",
        )
    return prepared


def _warn_unreachable(candidates: gpd.GeoDataFrame, reachable: np.ndarray, max_snap_distance_m: float) -> None:
    """One warning naming the user's candidates no street reaches (a typo, another datum, another city)."""
    from_file = candidates["source"].astype(str).to_numpy() == "file" if "source" in candidates else True
    far = np.flatnonzero(~reachable & from_file)
    if not far.size:
        return
    ids = candidates["candidate_id"].astype(str).to_numpy() if "candidate_id" in candidates else far.astype(str)
    names = candidates["name"].astype(str).to_numpy() if "name" in candidates else ids
    shown = [ids[i] if names[i] == ids[i] else f"{ids[i]} ({names[i]})" for i in far[:5]]
    more = f" and {far.size - 5} more" if far.size > 5 else ""
    logger.warning(
        "siting: %d of %d candidate sites lie farther than %s m from every street and cannot be chosen (%s%s); "
        "check their coordinates and datum (candidates_coordinates)",
        far.size,
        len(candidates),
        f"{max_snap_distance_m:,.0f}",
        ", ".join(shown),
        more,
    )


def _no_eligible_error(key: str, rule: SitingRule, candidates: gpd.GeoDataFrame, note: str) -> InfeasibleError:
    msg = _labels.Note(
        "no_host",
        site=rule.label,
        site_zh=_labels.kind(rule.site_type, "zh"),
        key=key,
        n=len(candidates),
        excluded=note or _labels.Note("none_qualify"),
        min_area=f"{rule.min_land_area_m2:,.0f}",
        unknown="" if rule.unknown_area_ok else _labels.Note("unknown_not_accepted"),
    )
    return InfeasibleError(msg, part=key)


def _check_eligible(prepared: _Prepared, rules: Mapping[str, SitingRule]) -> None:
    """Raise :class:`InfeasibleError` naming the rule when a type has no eligible candidate."""
    for key, rule in rules.items():
        if not prepared.eligible[key].any():
            raise _no_eligible_error(key, rule, prepared.candidates, prepared.excluded[key])


def _capacities(
    prepared: _Prepared, capacity: Mapping[str, float | str | None] | None, keys: Iterable[str]
) -> dict[str, np.ndarray | None]:
    """Per type, the residents each candidate can serve (None: unlimited)."""
    return {key: _capacity_array(prepared.candidates, (capacity or {}).get(key)) for key in keys}
