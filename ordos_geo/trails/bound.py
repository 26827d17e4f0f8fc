"""Upper bounds on the residents any trail plan within the rules can reach (the yardstick of the gap).

Two bounds, both valid for every instance; :func:`upper_bound` takes the smaller.

Frontier bound (any connected trail)
------------------------------------
Order the segments of a connected trail so that each one after the first
touches an earlier one (its parent) at a shared node ``a``. Every cell that
reaches ``a`` reaches both segments, so the cells a segment ``t`` adds are at
most ``gain(t) = f(t) - min(W(u_t), W(v_t))``, where ``f(t)`` is the
population ``t`` reaches and ``W(a)`` the population reaching node ``a``.
Hence ``f(trail) <= f(s_1) - gain(s_1) + sum_i gain(s_i)``; summing over at
most ``max_trails`` trails and relaxing the choice of segments to a
fractional knapsack of ``gain`` over the budget gives the bound. It ignores
where the segments are: the knapsack may take the best streets of the whole
city although one trail cannot visit them all.

Disc bound (where a trail of a given length can be)
---------------------------------------------------
A trail of length ``l`` cannot leave a disc: a closed curve of length ``l``
lies in a disc of radius ``l / 4`` (centred halfway between two points that
halve it: any point ``P`` of the curve has ``|PA| + |PB| <= l / 2``), and a
connected set of total length ``l`` (a route, or a tree of the ``network``
shape) in a disc of radius ``l / 2`` around its centre. A loop with access
spurs of at most ``max_spur_m`` lies in radius ``l / 4 + max_spur_m``. The
junctions of the trail lie on the polygon of its straight chords, which is
no longer than the trail when every segment is at least as long as its
chord (otherwise the radii are stretched by the largest ratio). For each
disc centre on a raster and each trail length on a grid of steps, the
residents such a trail can reach are at most

- *cover*: the population of every cell reached by some allowed segment
  whose two ends lie in the disc (a cell's anchor point and radius, taken
  over the segments that reach it, turn "some reaching segment ends in the
  disc" into one distance test), and
- *local frontier*: the frontier bound restricted to the segments whose
  chord midpoint lies in the disc, and
- *tube cap*: the most residents the reach tube of a trail of length ``l``
  can hold in the disc (below).

The best centre gives the bound ``G(l)`` of one trail of length ``l``; up to
``max_trails`` trails share the budget, so the plan bound is the best split
of the budget over ``G`` (a small knapsack over length steps, each trail's
length rounded up to the next step). Raster sums are FFT convolutions of
per-pixel totals with a disc; every radius is widened by a pixel diagonal so
that the discretisation only loosens the bound. The disc bound is much
tighter than the frontier bound for loops (their disc has a quarter of the
area) and on cities whose underserved residents are spread out.

Tube-area cap (a trail reaches a band, not its whole disc)
----------------------------------------------------------
Give each reached cell ``c`` a point ``x_c`` (its centroid) and a tube
radius ``r_c``: the largest distance from ``x_c`` to the chord of an allowed
segment that reaches ``c``. A trail reaching ``c`` contains such a segment, so
``x_c`` lies within ``r_c`` of the trail's chord graph ``C`` (no assumption on
walking distances is needed). ``C`` is connected and no longer than
``L = stretch * l``.

*Lemma.* The ``r``-neighbourhood of a connected union of straight segments of
total length ``L`` has area at most ``pi r^2 + 2 r L``. Order the segments
so that each one after the first shares an end ``q_i`` with an earlier one
(the chord graph is connected); the neighbourhood of a segment of length
``lambda`` is a stadium of area ``pi r^2 + 2 r lambda`` that contains the
disc ``D(q_i, r)``, and that disc is already in the neighbourhood of the
earlier segments (or is the first disc). So each segment adds at most
``2 r lambda`` to the first disc's ``pi r^2``. This holds for loops, loops
with spurs, routes and trees alike.

*Counting on the raster.* Take ``R`` (a high quantile of the ``r_c``); the
cells with ``r_c > R`` are counted in full in a disc of radius
``rho + max r_c``. Every other cell's population is put in the pixel (side
``s``) holding ``x_c`` and spread evenly over the pixels whose centres lie
within ``h s`` of that pixel's centre, ``h s`` about the cells' spacing (a
smoothing: a raster finer than the cells would put each cell in one pixel,
and ``k`` pixels would then hold ``k`` whole cells); ``Q`` is the result.
Every point of a pixel holding part of a reached cell lies within
``h s + s sqrt(2)`` of ``x_c``, hence within ``T = R + h s + s sqrt(2)`` of
``C``. Pixels are disjoint squares of area ``s^2``, so at most
``k = floor((pi T^2 + 2 T L) / s^2)`` pixels hold reached population, and
all of them have centres within ``rho + R + h s + s sqrt(2)`` of the disc
centre's pixel centre. The residents reached are therefore at most the sum
of the ``k`` largest ``Q`` in that disc. It is summed exactly at the best
centre of ``min(cover, local frontier)``; only where it binds there is it
made at every centre, in the form ``k t + sum(max(Q - t, 0))``, valid for
every threshold ``t >= 0`` (each of the ``k`` chosen values is at most
``t + max(Q - t, 0)``): one FFT disc sum per threshold, the smallest over a
few thresholds taken (``t = 0`` is the disc's total).

The cap binds where a disc holds much more underserved area than a band can
cover: a city whose residents are all underserved (about 5 % below the disc
bound for a 2-3 km route on a 3,000-node synthetic city). Where the
underserved cells sit in patches no larger than a band, as on the 100k
benchmark city, it changes nothing: there a loop's band is mostly
underserved, and what the bound misses is which bands a street loop can
actually trace between the patches.
"""

from __future__ import annotations

import collections
import itertools
import math

import numpy as np
import scipy.fft
import scipy.spatial

from ordos_geo._xy import xy_bounds
from ordos_geo.trails.prize import TrailPrizeModel

__all__ = ["disc_bound", "frontier_bound", "upper_bound"]

#: Length steps over the budget (each trail's length is rounded up to the next one).
_LENGTH_STEPS = 32
#: Raster pixels along the longer side of the study (at least :data:`_MIN_PIXEL_M` each).
_RASTER_SIDE = 400
_MIN_PIXEL_M = 10.0
#: Rate classes of the local fractional knapsack.
_RATE_CLASSES = 8
#: Anchor radii are rounded up to this step (one raster sum per step).
_RADIUS_STEP_M = 40.0
#: The local frontier is computed on every this many length steps (and the longest).
_KNAPSACK_EVERY = 4
#: Disc kernels (FFTs) kept for reuse, the most recently used.
_KERNELS_KEPT = 48
#: Tube-area cap: density thresholds of its transform form (quantiles of the positive pixel values; and 0).
_CAP_QUANTILES = (0.3, 0.5, 0.7, 0.85, 0.95)
#: Tube-area cap: each resident is spread over at most this many pixels around its own (its cell's size).
_CAP_SPREAD_MAX_PX = 8
#: Tube-area cap: residents whose tube radius exceeds this quantile are counted in full, outside the cap.
_CAP_RADIUS_QUANTILE = 0.99


def _gains(model: TrailPrizeModel, ids: np.ndarray) -> tuple[np.ndarray, float]:
    """Per allowed segment the frontier gain, and the largest first-segment term."""
    standalone = model.segment_population[ids]
    base = np.minimum(model.node_population[model.segment_u[ids]], model.node_population[model.segment_v[ids]])
    gain = np.maximum(standalone - base, 0.0)
    first = float(np.max(standalone - gain)) if ids.size else 0.0
    return gain, first


def _knapsack_bound(gains: np.ndarray, lengths: np.ndarray, budget: float) -> float:
    """Fractional knapsack: most gain fitting in ``budget`` metres when segments may be split."""
    keep = gains > 0
    gains, lengths = gains[keep], np.maximum(lengths[keep], 1e-9)
    order = np.argsort(-gains / lengths, kind="stable")
    gains, lengths = gains[order], lengths[order]
    cum = np.cumsum(lengths)
    full = cum <= budget
    total = float(gains[full].sum())
    k = int(full.sum())
    if k < len(gains):
        left = budget - (cum[k - 1] if k else 0.0)
        total += float(gains[k] * left / lengths[k])
    return total


def _reachable_population(model: TrailPrizeModel, ids: np.ndarray) -> float:
    """Population of the cells some allowed segment reaches."""
    cells = np.zeros(len(model.population), dtype=bool)
    cells[(model.reach if ids.size == model.n_segments else model.reach[ids]).indices] = True
    return float(model.population[cells].sum())


def frontier_bound(model: TrailPrizeModel, allowed: np.ndarray, *, budget_m: float, max_trails: int) -> float:
    """The frontier bound of any plan of at most ``max_trails`` connected trails (see the module docstring).

    It never exceeds the population the allowed segments can reach at all.
    """
    ids = np.flatnonzero(allowed)
    if ids.size == 0:
        return 0.0
    gain, first = _gains(model, ids)
    bound = max_trails * first + _knapsack_bound(gain, model.segment_length[ids], budget_m)
    return float(min(bound, _reachable_population(model, ids)))


# --------------------------------------------------------------------------------------------------
# Disc bound
# --------------------------------------------------------------------------------------------------


def _stretch(model: TrailPrizeModel, ids: np.ndarray, node_xy: np.ndarray) -> float:
    """Largest chord / length ratio of the allowed segments (at least 1; ``inf`` for a zero-length chord)."""
    chord = np.hypot(*(node_xy[model.segment_u[ids]] - node_xy[model.segment_v[ids]]).T)
    length = model.segment_length[ids]
    if np.any((length <= 0) & (chord > 1e-6)):
        return math.inf
    ratio = np.divide(chord, length, out=np.zeros_like(chord), where=length > 0)
    return max(1.0, float(ratio.max(initial=0.0)))


def _anchors(
    model: TrailPrizeModel,
    ids: np.ndarray,
    node_xy: np.ndarray,
    cell_xy: np.ndarray | None = None,
    *,
    chunk: int = 16384,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per cell reached by an allowed segment: anchor point and radius, population, point and tube radius.

    The anchor is the chord midpoint of the segment the cell is snapped to; the
    anchor radius the largest distance from it to the nearer end of any allowed
    segment reaching the cell. A segment with both ends in a disc of radius
    ``rho`` around ``x`` then reaches only cells whose anchor lies within
    ``rho + radius`` of ``x``. The cell's point is ``cell_xy`` (its centroid)
    when given, else its anchor; the tube radius the largest distance from it
    to the chord of any allowed segment reaching the cell, so the point lies
    within that distance of every trail that reaches the cell.
    """
    origin = xy_bounds(node_xy)[0] if len(node_xy) else np.zeros(2)
    xy = (node_xy - origin).astype(np.float32)  # centred: float32 keeps centimetres over 100 km
    mid = 0.5 * (xy[model.segment_u] + xy[model.segment_v])
    own = model.cell_segment
    anchor = np.where((own >= 0)[:, None], mid[np.maximum(own, 0)], np.float32(np.nan))
    point = anchor if cell_xy is None else (cell_xy - origin).astype(np.float32)
    ax, ay = anchor[:, 0].copy(), anchor[:, 1].copy()
    px, py = point[:, 0].copy(), point[:, 1].copy()
    ux, uy = xy[model.segment_u].T.copy()
    vx, vy = xy[model.segment_v].T.copy()
    radius = np.full(len(model.population), -1.0, dtype=np.float32)
    tube = np.full(len(model.population), -1.0, dtype=np.float32)
    for start in range(0, len(ids), chunk):
        rows = model.reach[ids[start : start + chunk]]
        seg = np.repeat(ids[start : start + chunk], np.diff(rows.indptr))
        cell = rows.indices
        sx, sy, ex, ey = ux[seg], uy[seg], vx[seg], vy[seg]
        near = np.minimum(np.hypot(sx - ax[cell], sy - ay[cell]), np.hypot(ex - ax[cell], ey - ay[cell]))
        np.maximum.at(radius, cell, near)
        ex -= sx
        ey -= sy
        dx, dy = px[cell] - sx, py[cell] - sy
        along = np.clip((dx * ex + dy * ey) / np.maximum(ex * ex + ey * ey, np.float32(1e-12)), 0, 1)
        np.maximum.at(tube, cell, np.hypot(dx - along * ex, dy - along * ey))
    keep = radius >= 0
    # The 5 cm added cover float32 round-off (about a centimetre at most once centred): they only widen.
    return (
        anchor[keep].astype(np.float64) + origin,
        radius[keep].astype(np.float64) + 0.05,
        model.population[keep],
        point[keep].astype(np.float64) + origin,
        tube[keep].astype(np.float64) + 0.05,
    )


class _DiscSums:
    """Sums of per-point weights within a disc around every pixel centre of a raster (FFT convolutions)."""

    def __init__(self, points: np.ndarray, max_radius_m: float) -> None:
        lo, hi = xy_bounds(points)
        self.pixel = max(float((hi - lo).max()) / _RASTER_SIDE, _MIN_PIXEL_M)
        self.lo = lo
        self.shape = tuple(int(s) for s in np.floor((hi - lo) / self.pixel).astype(int) + 1)
        reach = math.ceil(max_radius_m / self.pixel) + 2
        self.pad = tuple(scipy.fft.next_fast_len(s + 2 * reach, real=True) for s in self.shape)
        #: Widening of every radius: a pixel diagonal (disc centre and point both move to pixel centres).
        self.slack = self.pixel * math.sqrt(2.0)
        # The discs are nested, so the number of pixels inside names one; radii a pixel apart often share it.
        # The lengths are visited from the longest down, so the last few kernels are the ones used again.
        self._kernels: collections.OrderedDict[int, np.ndarray] = collections.OrderedDict()

    def transform(self, points: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """FFT of the per-pixel totals of ``weights`` at ``points``."""
        ij = np.floor((points - self.lo) / self.pixel).astype(np.int64)
        grid = np.zeros(self.shape)
        np.add.at(grid, (ij[:, 0], ij[:, 1]), weights)
        return scipy.fft.rfft2(grid, s=self.pad)

    def kernel(self, radius_m: float) -> np.ndarray:
        """FFT of the disc of pixel offsets within ``radius_m`` (+ the slack) of the centre."""
        k = math.ceil((radius_m + self.slack) / self.pixel)
        off = np.arange(-k, k + 1)
        inside = np.hypot(*np.meshgrid(off, off, indexing="ij")) * self.pixel <= radius_m + self.slack + 1e-9
        key = int(inside.sum())
        if key in self._kernels:
            self._kernels.move_to_end(key)
            return self._kernels[key]
        grid = np.zeros(self.pad)
        grid[np.ix_(off % self.pad[0], off % self.pad[1])] = inside
        self._kernels[key] = scipy.fft.rfft2(grid)
        if len(self._kernels) > _KERNELS_KEPT:
            self._kernels.popitem(last=False)
        return self._kernels[key]

    def sums(self, transformed: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """Per pixel centre: the total weight within the kernel's disc."""
        return self.inverse(transformed * kernel)

    def inverse(self, product: np.ndarray) -> np.ndarray:
        """Per pixel centre: the sums of a product of transforms (several products may be added first)."""
        out = scipy.fft.irfft2(product, s=self.pad)[: self.shape[0], : self.shape[1]]
        return np.maximum(out, 0.0)


def _spacing(points: np.ndarray) -> float:
    """Median distance from a point to its nearest other point (0 for fewer than two)."""
    if len(points) < 2:
        return 0.0
    distance, _ = scipy.spatial.cKDTree(points).query(points, k=2)
    return float(np.median(distance[:, 1]))


class _TubeCap:
    """The most residents the reach band of one trail can hold in a disc (the tube-area cap).

    Residents are spread evenly over the pixels whose centres lie within
    ``h`` pixels of their own pixel's centre (``h`` pixel sides about the
    cells' spacing, at most :data:`_CAP_SPREAD_MAX_PX`; a smoothing), so
    every point of a pixel holding part of a resident lies within
    ``spread + pixel diagonal`` of the resident's point. The cap at one disc
    centre is the exact sum of the ``k`` largest smoothed pixels in its disc
    (:meth:`at`); at every centre it is the threshold form, one transform per
    threshold (:meth:`everywhere`), made only when the cap binds at the best
    centre (:meth:`best`).
    """

    def __init__(
        self, rasters: _DiscSums, points: np.ndarray, population: np.ndarray, tube: np.ndarray, *, stretch: float
    ) -> None:
        self.rasters, self.stretch = rasters, stretch
        self.radius = float(np.quantile(tube, _CAP_RADIUS_QUANTILE)) if tube.size else 0.0
        near = tube <= self.radius
        self.far_radius = float(tube[~near].max(initial=0.0))
        s = rasters.pixel
        # Spread each resident over about its own cell (the points' typical spacing): a raster finer than
        # the cells would otherwise count one pixel per cell, and k pixels would hold k whole cells.
        spacing = _spacing(points[near])
        h = min(max(1, math.ceil(spacing / s)), _CAP_SPREAD_MAX_PX)
        #: Any point of a pixel holding part of a resident lies within ``spread_m + slack`` of the resident's point.
        self.spread_m = h * s
        self.grid = np.zeros(rasters.pad)
        self.far = np.zeros(rasters.pad)
        for grid, keep in ((self.grid, near), (self.far, ~near)):
            ij = np.floor((points[keep] - rasters.lo) / s).astype(np.int64)
            np.add.at(grid, (ij[:, 0], ij[:, 1]), population[keep])
        offsets = [(a, b) for a in range(-h, h + 1) for b in range(-h, h + 1) if a * a + b * b <= h * h]
        # Circular shifts: mass that wraps round the padding can only add to a disc's sum, never leave it.
        spread = np.zeros(rasters.pad)
        for o in offsets:
            spread += np.roll(self.grid, o, axis=(0, 1))
        self.grid = spread / len(offsets)
        self.far_ft = scipy.fft.rfft2(self.far)
        self._level_ft: list[tuple[float, np.ndarray]] | None = None
        self._everywhere: np.ndarray | None = None

    def _disc(self, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Pixel offsets within ``radius_m`` (+ the raster's slack) of a centre, as two index arrays."""
        k = math.ceil((radius_m + self.rasters.slack) / self.rasters.pixel)
        off = np.arange(-k, k + 1)
        di, dj = np.meshgrid(off, off, indexing="ij")
        inside = np.hypot(di, dj) * self.rasters.pixel <= radius_m + self.rasters.slack + 1e-9
        return di[inside], dj[inside]

    def _count(self, ell: float) -> int:
        """Most pixels the band of a trail of length ``ell`` can touch (see the module docstring)."""
        band_m = self.radius + self.spread_m + self.rasters.slack
        area = math.pi * band_m**2 + 2.0 * band_m * self.stretch * ell
        return math.floor(area / self.rasters.pixel**2 * (1 + 1e-9))

    def _levels(self) -> list[tuple[float, np.ndarray]]:
        """Density thresholds and the transforms of ``max(Q - t, 0)`` (made on first use)."""
        if self._level_ft is None:
            values = self.grid[self.grid > 0]
            levels = np.unique(np.concatenate([[0.0], np.quantile(values, _CAP_QUANTILES) if values.size else []]))
            self._level_ft = [(float(t), scipy.fft.rfft2(np.maximum(self.grid - t, 0.0))) for t in levels]
        return self._level_ft

    def at(self, i: int, j: int, *, rho: float, ell: float) -> float:
        """The cap at the centre of pixel ``(i, j)``: the ``k`` largest pixels of its disc, summed exactly."""
        k = self._count(ell)
        di, dj = self._disc(rho + self.radius + self.spread_m)
        pixels = self.grid[(i + di) % self.grid.shape[0], (j + dj) % self.grid.shape[1]]
        cap = (
            float(np.partition(pixels, pixels.size - k)[pixels.size - k :].sum())
            if k < pixels.size
            else float(pixels.sum())
        )
        fi, fj = self._disc(rho + self.far_radius)
        return cap + float(self.far[(i + fi) % self.far.shape[0], (j + fj) % self.far.shape[1]].sum())

    def everywhere(self, *, rho: float, ell: float) -> np.ndarray:
        """The cap at every disc centre, by the threshold form: ``min_t k t + sum(max(Q - t, 0))``."""
        k = self._count(ell)
        kernel = self.rasters.kernel(rho + self.radius + self.spread_m)
        cap = np.full(self.rasters.shape, np.inf)
        for t, ft in self._levels():
            cap = np.minimum(cap, k * t + self.rasters.sums(ft, kernel))
        return cap + self.rasters.sums(self.far_ft, self.rasters.kernel(rho + self.far_radius))

    def best(self, values: np.ndarray, *, rho: float, ell: float, refresh: bool) -> float:
        """``max`` over disc centres of ``min(values, cap)``.

        Where the cap does not bind at the best centre (the usual case), that
        centre's value is the answer and no transform is made. Otherwise the
        cap everywhere is made when ``refresh`` (or never before), else the
        last one made is reused: it was made for a length and radius at least
        these (lengths are visited from the longest down), so it is larger.
        """
        at = int(np.argmax(values))
        top = float(values.ravel()[at])
        if self.at(*divmod(at, values.shape[1]), rho=rho, ell=ell) >= top:
            return top
        if refresh or self._everywhere is None:
            self._everywhere = self.everywhere(rho=rho, ell=ell)
        return float(np.max(np.minimum(values, self._everywhere)))


def _rate_classes(gain: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate class of each segment (0 = best gain per metre) and the highest rate in each class."""
    rate = gain / np.maximum(length, 1e-9)
    order = np.argsort(-rate, kind="stable")
    cuts = np.geomspace(1e-3, 1.0, _RATE_CLASSES) * len(order)
    cuts = np.unique(np.concatenate([[0], cuts.astype(int), [len(order)]]))
    classes = np.zeros(len(order), dtype=np.int64)
    top = []
    for j, (a, b) in enumerate((a, b) for a, b in itertools.pairwise(cuts.tolist()) if b > a):
        classes[order[a:b]] = j
        top.append(rate[order[a]])
    return classes, np.asarray(top)


def _one_trail_bounds(
    model: TrailPrizeModel,
    ids: np.ndarray,
    node_xy: np.ndarray,
    *,
    lengths_m: np.ndarray,
    radius_of: tuple[float, float],
    stretch: float,
    cell_xy: np.ndarray | None,
) -> np.ndarray:
    """``G(l)`` for each length: the most one trail of length ``l`` can reach (best disc centre)."""
    coef, extra = radius_of
    anchor, a_radius, a_pop, point, tube = _anchors(model, ids, node_xy, cell_xy)
    if a_pop.size == 0:
        return np.zeros(len(lengths_m))
    gain, first = _gains(model, ids)
    seg_len = model.segment_length[ids]
    mid = 0.5 * (node_xy[model.segment_u[ids]] + node_xy[model.segment_v[ids]])
    max_rho = coef * float(lengths_m.max()) + extra
    step = np.ceil(a_radius / _RADIUS_STEP_M) * _RADIUS_STEP_M
    ends = np.vstack([node_xy[model.segment_u[ids]], node_xy[model.segment_v[ids]]])
    rasters = _DiscSums(np.vstack([mid, anchor, ends, point]), max_rho + float(max(step.max(), tube.max())))
    tube_cap = _TubeCap(rasters, point, a_pop, tube, stretch=stretch)
    cover_ft = {float(r): rasters.transform(anchor[step == r], a_pop[step == r]) for r in np.unique(step)}
    classes, top = _rate_classes(gain, seg_len)
    len_ft = [rasters.transform(mid[classes == j], seg_len[classes == j]) for j in range(len(top))]
    gain_ft = [rasters.transform(mid[classes == j], gain[classes == j]) for j in range(len(top))]
    # The local frontier and the tube cap grow with the length, so computing them on every few lengths and
    # using the next one up for the lengths between keeps the bound valid at a fraction of the FFTs.
    local_at = np.unique(np.concatenate([np.arange(_KNAPSACK_EVERY - 1, len(lengths_m), _KNAPSACK_EVERY), [-1]]))
    local_at = np.unique(np.where(local_at < 0, len(lengths_m) - 1, local_at))
    out = np.zeros(len(lengths_m))
    local = np.zeros(rasters.shape)
    for i in range(len(lengths_m) - 1, -1, -1):
        ell = float(lengths_m[i])
        rho = coef * ell + extra
        if i in local_at:
            local = _local_frontier(rasters, rasters.kernel(rho), len_ft, gain_ft, top, ell=ell, first=first)
        # One inverse transform of the summed products (the transform is linear).
        cover = rasters.inverse(sum(ft * rasters.kernel(rho + r) for r, ft in cover_ft.items()))
        out[i] = tube_cap.best(np.minimum(cover, local), rho=rho, ell=ell, refresh=i in local_at)
    # FFT round-off only ever loosens the bound.
    return out * (1 + 1e-9) + 1e-6 * (1.0 + float(a_pop.sum()))


def _local_frontier(
    rasters: _DiscSums,
    kernel: np.ndarray,
    len_ft: list[np.ndarray],
    gain_ft: list[np.ndarray],
    top: np.ndarray,
    *,
    ell: float,
    first: float,
) -> np.ndarray:
    """Per disc centre: the frontier bound of one trail of length ``ell`` on the segments in the disc."""
    used = np.zeros(rasters.shape)
    local = np.full(rasters.shape, first)
    for j in range(len(top)):
        seg_m = rasters.sums(len_ft[j], kernel)
        room = np.maximum(ell - used, 0.0)
        local += np.where(seg_m <= room, rasters.sums(gain_ft[j], kernel), room * top[j])
        used += seg_m
    return local


def _best_split(per_step: np.ndarray, max_trails: int) -> float:
    """Most ``max_trails`` trails reach when trail ``j`` takes ``m_j`` steps and ``sum(m_j - 1) <= n - 1``.

    ``per_step[m]`` bounds one trail of at most ``m`` steps (``per_step[0] = 0``).
    A trail longer than ``(m - 1)`` steps needs ``m``; lengths summing to at
    most ``n`` steps therefore have ``sum(m_j - 1) < n``.
    """
    n = len(per_step) - 1
    best = np.zeros(n)  # best[b]: most reached with extra steps sum(m_j - 1) <= b
    value = per_step[1:]  # value[e]: one trail of e + 1 steps
    for _ in range(max_trails):
        nxt = best.copy()
        for b in range(n):
            nxt[b] = max(nxt[b], float(np.max(best[b::-1][: b + 1] + value[: b + 1])))
        best = nxt
    return float(best[n - 1])


def disc_bound(
    model: TrailPrizeModel,
    allowed: np.ndarray,
    node_xy: np.ndarray,
    *,
    budget_m: float,
    max_trails: int,
    loop: bool,
    max_spur_m: float = 0.0,
    min_len_m: float = 0.0,
    cell_xy: np.ndarray | None = None,
) -> float:
    """The disc bound of a plan of at most ``max_trails`` trails (see the module docstring).

    Parameters
    ----------
    model : TrailPrizeModel
    allowed : numpy.ndarray
        Boolean mask of the segments a trail may use.
    node_xy : numpy.ndarray
        ``(n_nodes, 2)`` junction coordinates in the model's metric CRS.
    budget_m : float
        Total length of all trails (metres).
    max_trails : int
    loop : bool
        Every trail is a closed loop (plus spurs of at most ``max_spur_m``):
        radius ``l / 4``; otherwise any connected shape, radius ``l / 2``.
    max_spur_m : float
    min_len_m : float
        Minimum length of each trail (metres).
    cell_xy : numpy.ndarray, optional
        ``(n_prize_cells, 2)`` a point of each prize cell (its centroid) for
        the tube-area cap; default the chord midpoint of its snapped segment.

    Returns
    -------
    float
        ``inf`` when a segment is shorter than its chord by an unknown factor
        (zero length): no disc holds the trail then.
    """
    ids = np.flatnonzero(allowed)
    if ids.size == 0 or budget_m <= 0:
        return 0.0
    stretch = _stretch(model, ids, node_xy)
    if not math.isfinite(stretch):
        return math.inf
    radius_of = (stretch * 0.25, stretch * max(max_spur_m, 0.0)) if loop else (stretch * 0.5, 0.0)
    n = _LENGTH_STEPS
    lengths = float(budget_m) * (1 + 1e-9) * np.arange(1, n + 1) / n
    per_trail = np.maximum.accumulate(
        _one_trail_bounds(model, ids, node_xy, lengths_m=lengths, radius_of=radius_of, stretch=stretch, cell_xy=cell_xy)
    )
    per_trail[lengths < min_len_m * (1 - 1e-9)] = 0.0  # no trail that short: it reaches nobody
    per_step = np.concatenate([[0.0], per_trail])
    return min(_best_split(per_step, max(int(max_trails), 1)), _reachable_population(model, ids))


def upper_bound(
    model: TrailPrizeModel,
    allowed: np.ndarray,
    node_xy: np.ndarray,
    *,
    budget_m: float,
    max_trails: int,
    shape: str,
    max_spur_m: float = 0.0,
    min_len_m: float = 0.0,
    cell_xy: np.ndarray | None = None,
) -> tuple[float, str]:
    """The smaller of the frontier and disc bounds, and the shape it is proven for.

    Returns
    -------
    bound : float
        Upper bound on the residents reached by any plan of this shape within the rules.
    bound_shape : str
        ``"loop"`` when the loop-only disc bound is the smaller one, else
        ``"network"`` (the bound holds for any plan of connected trails).
    """
    bound, bound_shape = frontier_bound(model, allowed, budget_m=budget_m, max_trails=max_trails), "network"
    if shape != "loop" or max_spur_m > 0:  # without spurs the loop disc is the smaller one
        connected = disc_bound(
            model,
            allowed,
            node_xy,
            budget_m=budget_m,
            max_trails=max_trails,
            loop=False,
            min_len_m=min_len_m,
            cell_xy=cell_xy,
        )
        bound = min(bound, connected)
    if shape == "loop":
        loops = disc_bound(
            model,
            allowed,
            node_xy,
            budget_m=budget_m,
            max_trails=max_trails,
            loop=True,
            max_spur_m=max_spur_m,
            min_len_m=min_len_m,
            cell_xy=cell_xy,
        )
        if loops < bound:
            bound, bound_shape = loops, "loop"
    return float(bound), bound_shape
