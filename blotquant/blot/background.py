"""Background estimation for blots: lane fit, rolling ball, lane minima, rubber band, border median.

Methods (``BACKGROUND_METHODS``)
--------------------------------

============  =====================================================  ============================
method        formula                                                source / compatible with
============  =====================================================  ============================
lane-fit      1-D lane profile: per band, a least-squares quadratic   our default (most accurate
              fitted to windows of up to 2 band extents above and     on synthetic truth, see
              below the band (skipping other bands; touching bands    ``docs/blot.md``)
              share one fit); a line on short windows where the
              quadratic is not safe (:func:`flank_fit_baseline`).
rolling-ball  2-D ``B = opening_ball(mean3x3(I))``: the surface the   ImageJ 1.x *Subtract
              top of a ball of radius ``r`` reaches when rolled       Background...* "create
              under the intensity landscape (grey-scale opening,      background"; Sternberg
              spherical structuring element); light backgrounds are   (1983) IEEE Computer 16(1)
              inverted first; shrunk by block minima and bilinearly
              re-enlarged for ``r > 10`` exactly as ImageJ does.
lane-minima   1-D lane profile ``p``: straight lines between the      LI-COR Image Studio "lane"
              minima between bands (or local minima), lowered where   background
              needed so that ``b <= p`` everywhere.
border        median (or mean) of a ``width``-px ring outside a       LI-COR Image Studio shape
              band box (all sides, top/bottom or left/right);         background; Bio-Rad local
              ``background_volume = value x area``.                   background (mean, 1 px)
none          ``B = 0``                                               --
============  =====================================================  ============================

:func:`convex_baseline` (lower convex hull, "rubber band") is an extra 1-D
baseline that needs no parameter.

Examples
--------
>>> import numpy as np
>>> img = np.full((40, 60), 100, np.uint16)
>>> img[18:22, 20:40] = 1000                      # a narrow band on a flat background
>>> bg = rolling_ball(img, radius=10)
>>> bg.dtype, float(bg.min()), round(float(bg.max()), 2)  # the curved ball rises 0.46 into the band
(dtype('float32'), 100.0, 100.46)
>>> BACKGROUND_METHODS
('lane-fit', 'lane-minima', 'rolling-ball', 'border', 'none')
"""

from __future__ import annotations

import math
from functools import lru_cache

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import ArrayLike

from blotquant.errors import InvalidImageError, ParameterError

if TYPE_CHECKING:
    from blotquant.image import Image

__all__ = [
    "BACKGROUND_METHODS",
    "rolling_ball",
    "subtract_background",
    "shrink_parameters",
    "lane_minima_baseline",
    "convex_baseline",
    "flank_fit_baseline",
    "lane_fit_model",
    "border_median",
]

#: Background methods understood by the blot engine (see the module docstring table).
#: ``lane-fit`` is the default of the engine (``BlotParams.background``).
BACKGROUND_METHODS = ("lane-fit", "lane-minima", "rolling-ball", "border", "none")

# ImageJ's speed-up table: (largest radius, shrink factor, % of the ball radius trimmed).
_SHRINK_TABLE = ((10.0, 1, 24), (30.0, 2, 24), (100.0, 4, 32), (math.inf, 8, 40))


def _java_round(x: float) -> int:
    return int(math.floor(x + 0.5))


def shrink_parameters(radius: float) -> tuple[int, int]:
    """ImageJ's shrink factor and ball trim (percent) for a rolling-ball radius.

    Parameters
    ----------
    radius : float
        Ball radius in pixels.

    Returns
    -------
    (shrink, trim_percent) : tuple of int

    Examples
    --------
    >>> [shrink_parameters(r) for r in (5, 10, 30, 50, 100, 150)]
    [(1, 24), (1, 24), (2, 24), (4, 32), (4, 32), (8, 40)]
    """
    for limit, shrink, trim in _SHRINK_TABLE:
        if radius <= limit:
            return shrink, trim
    raise AssertionError("unreachable")  # pragma: no cover


def _ball_size(radius: float, shrink: int, trim_pct: int) -> tuple[float, int]:
    """Radius ``r_s = r / shrink`` (at least 1) of the shrunk ball and the half width
    ``round(r_s - floor(trim% * r_s))`` of the square it is trimmed to."""
    rs = max(radius / shrink, 1.0)
    xtrim = int(trim_pct * rs) // 100
    return rs, max(_java_round(rs - xtrim), 0)


def _heights(rs: float, dy, dx) -> np.ndarray:
    """Ball heights ``sqrt(r^2 - dx^2 - dy^2)``; 0 outside the sphere (float32)."""
    t = rs * rs - np.square(dy, dtype=np.float64) - np.square(dx, dtype=np.float64)
    return np.sqrt(np.maximum(t, 0.0)).astype(np.float32)


@lru_cache(maxsize=16)
def _ball_groups(rs: float, half: int):
    """The trimmed ball as (height, flat uint8 kernel) pairs, one per distinct height.

    The footprint is the whole square (points outside the sphere count with
    height 0), so an erosion is ``min_k(erode(f, K_k) - h_k)``. Each kernel is cut
    to the smallest centred square holding its points.
    """
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    height = _heights(rs, yy, xx)
    reach = np.maximum(np.abs(yy), np.abs(xx))
    groups = []
    for z in np.unique(height)[::-1]:
        sel = height == z
        m = int(reach[sel].max())
        k = sel[half - m:half + m + 1, half - m:half + m + 1].astype(np.uint8)
        groups.append((np.float32(z), k))
    return tuple(groups)


def _open_ball_pairs(a: np.ndarray, rs: float, half: int) -> np.ndarray:
    """Same opening as :func:`_open_ball`, computed pixel-against-centre (for images
    smaller than the ball's footprint)."""
    h, w = a.shape
    py, px = (v.ravel() for v in np.mgrid[:h, :w])
    f = a.ravel()
    cy, cx = (v.ravel() for v in np.mgrid[-half:h + half, -half:w + half])
    step = max(1, 2_000_000 // f.size)
    ero = np.empty(cy.size, np.float32)
    for i in range(0, cy.size, step):
        dy = py[None, :] - cy[i:i + step, None]
        dx = px[None, :] - cx[i:i + step, None]
        inside = (np.abs(dy) <= half) & (np.abs(dx) <= half)
        ero[i:i + step] = np.where(inside, f[None, :] - _heights(rs, dy, dx), np.inf).min(axis=1)
    out = np.empty(f.size, np.float32)
    step = max(1, 2_000_000 // cy.size)
    for i in range(0, f.size, step):
        dy = py[i:i + step, None] - cy[None, :]
        dx = px[i:i + step, None] - cx[None, :]
        inside = (np.abs(dy) <= half) & (np.abs(dx) <= half)
        out[i:i + step] = np.where(inside, ero[None, :] + _heights(rs, dy, dx), -np.inf).max(axis=1)
    return out.reshape(h, w)


def _open_ball(a: np.ndarray, rs: float, half: int) -> np.ndarray:
    """Grey-scale opening of float32 ``a`` by the non-flat trimmed ball.

    Ball centres may lie up to ``half`` pixels outside the image (pixels outside
    do not constrain the ball), as in ImageJ, so the ball can hang over the edge.
    """
    if half == 0:  # a single point: the opening is the identity
        return a.copy()
    h, w = a.shape
    if 4 * h * w <= (2 * half + 1) ** 2:
        return _open_ball_pairs(a, rs, half)
    groups = _ball_groups(rs, half)
    # erosion at every centre at most `half` pixels outside the image
    p = cv2.copyMakeBorder(a, half, half, half, half, cv2.BORDER_CONSTANT, value=float(np.inf))
    ero = None
    for z, k in groups:
        e = cv2.erode(p, k, borderType=cv2.BORDER_CONSTANT, borderValue=float(np.inf))
        e -= z
        ero = e if ero is None else np.minimum(ero, e, out=ero)
    dil = None
    for z, k in groups:
        d = cv2.dilate(ero, k, borderType=cv2.BORDER_CONSTANT, borderValue=float(-np.inf))
        d += z
        dil = d if dil is None else np.maximum(dil, d, out=dil)
    return np.ascontiguousarray(dil[half:half + h, half:half + w])


def _shrink_min(a: np.ndarray, s: int) -> np.ndarray:
    """Minimum of every ``s x s`` block (partial blocks at the bottom/right included)."""
    h, w = a.shape
    hs, ws = -(-h // s), -(-w // s)
    if hs * s != h or ws * s != w:
        a = cv2.copyMakeBorder(a, 0, hs * s - h, 0, ws * s - w, cv2.BORDER_CONSTANT,
                               value=float(np.inf))
    rows = a[0::s].copy()
    for i in range(1, s):
        np.minimum(rows, a[i::s], out=rows)
    out = rows[:, 0::s].copy()
    for i in range(1, s):
        np.minimum(out, rows[:, i::s], out=out)
    return out


def _enlarge(small: np.ndarray, shape: tuple[int, int], s: int) -> np.ndarray:
    """Bilinear enlargement; shrunk pixel j is centred on original ``(j + 0.5) s - 0.5``;
    linear extrapolation beyond the outermost centres (constant along an axis of
    length 1)."""
    hs, ws = small.shape
    # ghost pixels that continue the outermost slopes make bilinear == extrapolation
    p = np.empty((hs + 2, ws + 2), np.float32)
    p[1:-1, 1:-1] = small
    if hs > 1:
        p[0, 1:-1] = 2 * small[0] - small[1]
        p[-1, 1:-1] = 2 * small[-1] - small[-2]
    else:  # a single shrunk row: constant along the axis (ImageJ's result is undefined)
        p[0, 1:-1] = p[-1, 1:-1] = small[0]
    if ws > 1:
        p[:, 0] = 2 * p[:, 1] - p[:, 2]
        p[:, -1] = 2 * p[:, -2] - p[:, -3]
    else:
        p[:, 0] = p[:, -1] = p[:, 1]
    big = cv2.resize(p, ((ws + 2) * s, (hs + 2) * s), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(big[s:s + shape[0], s:s + shape[1]])


def _unwrap(image):
    """Pixel data of a :class:`blotquant.image.Image` (or the array itself)."""
    if hasattr(image, "metadata") and hasattr(image, "data"):
        return image.data
    return image


def _as_float_image(image, name="image") -> np.ndarray:
    a = np.asarray(_unwrap(image))
    if a.ndim != 2:
        raise ParameterError(
            f"{name} must be a 2-D grey image, got shape {a.shape}; convert colour images "
            "first (blotquant.io.to_gray)")
    if a.size == 0:
        raise InvalidImageError(f"{name} is empty (shape {a.shape})")
    if a.dtype.kind not in "biuf":
        raise ParameterError(f"{name} must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float32, copy=True)
    if not np.isfinite(a).all():
        raise InvalidImageError(f"{name} contains NaN or infinite values; mask or fill them first")
    return a


def _default_radius(radius):
    """``radius``, or the one default of ``BlotParams`` when None."""
    if radius is None:
        from .params import BlotParams  # noqa: PLC0415 (params imports this module)
        return BlotParams.radius
    return radius


def rolling_ball(image: ArrayLike | Image, radius: float | None = None, *,
                 light_background: bool = False, smoothing: bool = True,
                 shrink: str | int = "auto") -> np.ndarray:
    """Rolling-ball background, as ImageJ's *Subtract Background... create*.

    A ball of ``radius`` pixels is rolled under the intensity landscape; the
    background is the surface its top reaches (Sternberg 1983). The steps and
    their order follow ImageJ 1.x (checked against ImageJ 1.53t):

    1. convert to float32; with ``light_background`` negate (roll from above);
    2. ``smoothing``: 3x3 mean, edges replicated;
    3. shrink by ``s`` taking the minimum of each ``s x s`` block (partial blocks
       at the right/bottom edge included);
    4. grey-scale opening with the ball of radius ``radius / s`` trimmed to a
       square of half width ``round(r_s - floor(trim * r_s))``; the square's
       points outside the sphere count with height 0; the ball may hang over the
       image edge;
    5. bilinear enlargement back to full size, linearly extrapolated at the edges;
    6. undo the negation.

    ImageJ then rounds to the input's integer type; this function returns the
    unrounded float32 value (identical to ImageJ for 32-bit input, within 0.5
    for 8/16-bit input, within 1 for 16-bit light background). The background
    is *not* clipped to the image (ImageJ's "create background" does not clip).

    Parameters
    ----------
    image : (M, N) array_like or blotquant.image.Image
        Grey image, any real dtype (the result is in raw input units).
    radius : float, optional
        Ball radius in pixels; larger than the widest band.  Default:
        ``BlotParams.radius`` (50, ImageJ's default).
    light_background : bool, default False
        Dark bands on a light background (film, colorimetric): roll from above.
    smoothing : bool, default True
        3x3 mean before rolling (ImageJ's default; "disable smoothing" = False).
    shrink : "auto" or int, default "auto"
        ``"auto"``: ImageJ's factor (r <= 10: 1, <= 30: 2, <= 100: 4, else 8).
        An int forces the factor (1 = no shrinking: exact but slower). The ball
        trim always follows ImageJ's table for the radius. Where the shrunk image
        is a single pixel along an axis (images smaller than ``2 * shrink``), the
        background is constant along that axis (ImageJ's result is undefined
        there).

    Returns
    -------
    background : (M, N) ndarray of float32

    Raises
    ------
    ParameterError
        Non-2-D input, radius < 0.5, bad ``shrink``.
    InvalidImageError
        Empty image or NaN/inf pixels.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:60, :80]
    >>> img = (200 + 0.5 * xx).astype(np.float32)    # gradient background
    >>> img[28:32, 30:50] += 500                     # narrow band
    >>> bg = rolling_ball(img, radius=20)            # shrink 2: block minima bias 0.25
    >>> float(np.abs(bg - (200 + 0.5 * xx)).max())
    0.25
    >>> sig = img - bg
    >>> round(float(sig[30, 40]), 1), round(float(sig[10, 10]), 2)
    (500.2, 0.25)
    >>> light = rolling_ball(1000 - img, radius=20, light_background=True)
    >>> bool(np.allclose(light, 1000 - bg, atol=1e-3))
    True
    """
    radius = _default_radius(radius)
    try:
        radius = float(radius)
    except (TypeError, ValueError):
        raise ParameterError(f"radius must be a number of pixels, got {radius!r}") from None
    if not math.isfinite(radius) or radius < 0.5:
        raise ParameterError(f"radius must be a finite number of pixels >= 0.5, got {radius}")
    a = _as_float_image(image)
    auto_s, trim = shrink_parameters(radius)
    if isinstance(shrink, str):
        if shrink != "auto":
            raise ParameterError(f'shrink must be "auto" or a positive int, got {shrink!r}')
        s = auto_s
    else:
        if isinstance(shrink, bool) or int(shrink) != shrink or int(shrink) < 1:
            raise ParameterError(f'shrink must be "auto" or a positive int, got {shrink!r}')
        s = int(shrink)
    h, w = a.shape
    if light_background:
        np.negative(a, out=a)
    if smoothing:
        a = cv2.blur(a, (3, 3), borderType=cv2.BORDER_REPLICATE)
    rs, half = _ball_size(radius, s, trim)
    if s > 1:
        bg = _enlarge(_open_ball(_shrink_min(a, s), rs, half), (h, w), s)
    else:
        bg = _open_ball(a, rs, half)
    if light_background:
        np.negative(bg, out=bg)
    return bg


def subtract_background(image: ArrayLike | Image, method: str = "rolling-ball", *,
                        radius: float | None = None, light_background: bool = False,
                        smoothing: bool = True, shrink: str | int = "auto") -> np.ndarray:
    """Signal above a 2-D background, positive for bands whatever the polarity.

    ``rolling-ball``: ``image - B`` (dark background) or ``B - image`` (light
    background) with ``B = rolling_ball(...)``. Unlike ImageJ's subtract mode
    there is no offset, clipping or rounding: negative values (noise below the
    background) are kept so that volumes stay unbiased. ``none``: the image as
    float32 (dark background only: a light background has no reference level).
    The 1-D (``lane-minima``) and per-box (``border``) methods are applied to
    lane profiles / band boxes: see :func:`lane_minima_baseline` and
    :func:`border_median`.

    Parameters
    ----------
    image : (M, N) array_like or blotquant.image.Image
        Grey image, any real dtype.
    method : {"rolling-ball", "none"}
        2-D background method.
    radius, light_background, smoothing, shrink
        As in :func:`rolling_ball`.

    Returns
    -------
    signal : (M, N) ndarray of float32
        Background-subtracted signal, bands positive, not clipped.

    Raises
    ------
    ParameterError
        For ``"none"`` with a light background, a profile/box method
        (``lane-minima``, ``border``, ``lane-fit``) or an unknown method.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((30, 30), 250, np.uint8)
    >>> img[14:16, 5:25] = 50                      # dark band on white
    >>> sig = subtract_background(img, radius=10, light_background=True)
    >>> round(float(sig[15, 15]), 1), float(sig[3, 3])
    (199.8, 0.0)
    """
    if method == "rolling-ball":
        bg = rolling_ball(image, radius, light_background=light_background,
                          smoothing=smoothing, shrink=shrink)
        a = np.asarray(_unwrap(image)).astype(np.float32)
        return bg - a if light_background else a - bg
    if method == "none":
        if light_background:
            raise ParameterError('background method "none" cannot be used with a light '
                                 "background (no reference level); invert the image first or "
                                 'use "rolling-ball"')
        return _as_float_image(image)
    if method in BACKGROUND_METHODS:
        raise ParameterError(f'background method "{method}" works on lane profiles or band '
                             "boxes, not whole images: use lane_minima_baseline() or "
                             "border_median()")
    raise ParameterError(f"unknown background method {method!r}; choose one of "
                         f"{', '.join(BACKGROUND_METHODS)}")


def _as_profile(profile) -> np.ndarray:
    p = np.asarray(profile, dtype=np.float64)
    if p.ndim != 1:
        raise ParameterError(f"profile must be 1-D, got shape {p.shape}")
    if p.size == 0:
        raise InvalidImageError("profile is empty")
    if not np.isfinite(p).all():
        raise InvalidImageError("profile contains NaN or infinite values")
    return p


def _lower_under(p: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Piecewise-linear line through ``(knots, p[knots])``, lowered by adding the
    worst-violating point of every offending segment as a knot until ``b <= p``."""
    x = np.arange(p.size)
    knots = np.unique(knots)
    tol = 1e-9 * max(1.0, float(np.abs(p).max()))
    while True:
        b = np.interp(x, knots, p[knots])
        excess = b - p
        if excess.max() <= tol:
            return np.minimum(b, p)
        seg = np.searchsorted(knots, x, side="right")  # segment id of every sample
        bad = excess > tol
        # worst sample per offending segment
        order = np.lexsort((-excess[bad], seg[bad]))
        xs, ss = x[bad][order], seg[bad][order]
        first = np.ones(xs.size, bool)
        first[1:] = ss[1:] != ss[:-1]
        knots = np.union1d(knots, xs[first])


def lane_minima_baseline(profile: ArrayLike, *,
                         bands: Sequence[tuple[int, int]] | None = None,
                         min_distance: int = 5,
                         prominence: float | None = None) -> np.ndarray:
    """Baseline through the minima between bands (LI-COR Image Studio "lane" background).

    Knots are the profile's two ends plus either the minimum of every gap between
    the given ``bands`` or, without ``bands``, its local minima (at least
    ``min_distance`` samples apart and, if given, of at least ``prominence``).
    With ``bands``, an end that lies inside a band is not a knot: the baseline is
    flat from the outermost knot to that end.
    Consecutive knots are joined by straight lines; where a line would rise
    above the profile, the most offending sample becomes a knot too, so the
    baseline never exceeds the profile.

    Parameters
    ----------
    profile : (N,) array_like
        Lane profile (signal increasing with amount, i.e. after polarity).
    bands : sequence of (top, bottom), optional
        Band limits (inclusive indices); knots are taken outside them only.
    min_distance : int, default 5
        Minimum separation of local minima (samples) when ``bands`` is None.
    prominence : float, optional
        Minimum prominence of a local minimum (raw units) when ``bands`` is None.

    Returns
    -------
    baseline : (N,) ndarray of float64, ``baseline <= profile``

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(50.0)
    >>> p = 10 + 0.2 * x                                  # sloped background
    >>> p[10:20] += [0, 2, 5, 9, 12, 12, 9, 5, 2, 0]      # band 1
    >>> p[30:38] += [0, 3, 8, 11, 11, 8, 3, 0]            # band 2
    >>> b = lane_minima_baseline(p)
    >>> bool(np.allclose(b, 10 + 0.2 * x))
    True
    >>> b2 = lane_minima_baseline(p, bands=[(11, 18), (31, 36)])
    >>> bool(np.allclose(b2, b))
    True
    """
    p = _as_profile(profile)
    n = p.size
    if n == 1:
        return p.copy()
    knots = [0, n - 1]
    if bands is not None:
        inside = np.zeros(n, bool)
        for band in bands:
            try:
                top, bottom = (int(v) for v in band)
            except (TypeError, ValueError):
                raise ParameterError(f"bands must be (top, bottom) pairs, got {band!r}") from None
            if bottom < top:
                raise ParameterError(f"band {band!r}: bottom < top")
            inside[max(top, 0):max(bottom + 1, 0)] = True
        out = np.flatnonzero(~inside)
        if out.size:
            gaps = np.split(out, np.flatnonzero(np.diff(out) > 1) + 1)
            knots += [int(g[np.argmin(p[g])]) for g in gaps]
            knots = [k for k in knots if not inside[k]] or knots
    else:
        from scipy.signal import find_peaks

        if int(min_distance) < 1:
            raise ParameterError(f"min_distance must be >= 1, got {min_distance}")
        idx, _ = find_peaks(-p, distance=int(min_distance), prominence=prominence)
        knots += [int(i) for i in idx]
    return _lower_under(p, np.asarray(knots))


def convex_baseline(profile: ArrayLike) -> np.ndarray:
    """Lower convex hull of the profile ("rubber band" baseline).

    Parameters
    ----------
    profile : (N,) array_like

    Returns
    -------
    baseline : (N,) ndarray of float64; convex, ``<= profile``, touching it at the
        hull vertices (always including both ends).

    Examples
    --------
    >>> convex_baseline([5, 3, 9, 4, 6, 2, 8]).tolist()
    [5.0, 3.0, 2.75, 2.5, 2.25, 2.0, 8.0]
    """
    p = _as_profile(profile)
    hull: list[int] = []
    for i in range(p.size):
        while len(hull) >= 2:
            i0, i1 = hull[-2], hull[-1]
            # drop i1 if it lies on or above the chord i0 -> i
            if (p[i1] - p[i0]) * (i - i0) >= (p[i] - p[i0]) * (i1 - i0):
                hull.pop()
            else:
                break
        hull.append(i)
    return np.interp(np.arange(p.size), hull, p[hull])


def border_median(image: ArrayLike, box: Sequence[int], width: int = 3, *, sides: str = "all",
                  statistic: str = "median") -> float:
    """Median (or mean) of a ``width``-pixel ring around a box (LI-COR Image Studio).

    Parameters
    ----------
    image : (M, N) array_like
        Grey image (raw units).
    box : (top, bottom, left, right)
        Inclusive pixel limits of the band box.
    width : int, default 3
        Border width in pixels (Image Studio offers 1-5).
    sides : {"all", "top-bottom", "left-right"}
        ``all``: the full ring including corners; ``top-bottom``: rows above and
        below, over the box's columns; ``left-right``: columns left and right,
        over the box's rows. Parts outside the image are dropped.
    statistic : {"median", "mean"}
        How the ring's pixels are summarised.

    Returns
    -------
    float
        Background level per pixel in raw units (``background volume = value x area``).

    Raises
    ------
    AnalysisError
        No border pixel lies inside the image.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((20, 20), 7.0)
    >>> img[8:12, 5:15] = 100
    >>> img[0, 0] = 1e6                                   # far away: not in the ring
    >>> border_median(img, (8, 11, 5, 14))
    7.0
    >>> border_median(img, (8, 11, 5, 14), sides="left-right", statistic="mean")
    7.0
    """
    from blotquant.errors import AnalysisError

    a = np.asarray(image)
    if a.ndim != 2:
        raise ParameterError(f"image must be 2-D, got shape {a.shape}")
    try:
        top, bottom, left, right = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        raise ParameterError(f"box must be (top, bottom, left, right), got {box!r}") from None
    if bottom < top or right < left:
        raise ParameterError(f"box {box!r}: bottom < top or right < left")
    width = int(width)
    if width < 1:
        raise ParameterError(f"border width must be >= 1 pixel, got {width}")
    if sides not in ("all", "top-bottom", "left-right"):
        raise ParameterError(f'sides must be "all", "top-bottom" or "left-right", got {sides!r}')
    if statistic not in ("median", "mean"):
        raise ParameterError(f'statistic must be "median" or "mean", got {statistic!r}')
    M, N = a.shape
    rows = np.arange(top - width, bottom + width + 1)
    cols = np.arange(left - width, right + width + 1)
    in_r = (rows >= top) & (rows <= bottom)
    in_c = (cols >= left) & (cols <= right)
    if sides == "all":
        ring = ~(in_r[:, None] & in_c[None, :])
    elif sides == "top-bottom":
        ring = ~in_r[:, None] & in_c[None, :]
    else:
        ring = in_r[:, None] & ~in_c[None, :]
    ok = ((rows >= 0) & (rows < M))[:, None] & ((cols >= 0) & (cols < N))[None, :]
    rr, cc = np.nonzero(ring & ok)
    if rr.size == 0:
        raise AnalysisError(f"box {tuple(box)} has no {sides} border pixels inside the "
                            f"{M}x{N} image; use a smaller width or another background method")
    vals = a[rows[rr], cols[cc]].astype(np.float64)
    return float(np.median(vals) if statistic == "median" else vals.mean())


def _window(p: np.ndarray, idx: list) -> list:
    """``p[idx].tolist()`` of a window without gaps: a slice when it starts at >= 0."""
    return p[idx[0]:idx[-1] + 1].tolist() if idx[0] >= 0 else p[idx].tolist()


def _pairwise_sum(v: list, lo: int = 0, n: int | None = None) -> float:
    """Sum of Python floats in the order of NumPy's float64 ``sum`` (its pairwise
    summation: blocks of < 8 added in turn from 0.0, up to 128 with eight running
    partial sums, longer halved), so the same number as ``np.sum`` of the array."""
    if n is None:
        n = len(v)
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += v[i]
        return res
    if n <= 128:
        r = v[lo:lo + 8]
        i = 8
        stop = n - n % 8
        while i < stop:
            for j in range(8):
                r[j] += v[lo + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for k in range(lo + i, lo + n):
            res += v[k]
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(v, lo, n2) + _pairwise_sum(v, lo + n2, n - n2)


#: Lane-fit background without a given ``flank`` (:func:`flank_fit_baseline`): the
#: quadratic's window per side, in band (or touching-group) extents; the fewest free
#: samples per side, in extents, below which the straight line is used; and the
#: largest variance of the quadratic's background volume for equal, independent
#: noise per sample, relative to the line's, above which the line is used.
LANE_FIT_WINDOW = 2.0
LANE_FIT_MIN_SIDE = 0.25
LANE_FIT_MAX_VARIANCE_RATIO = 4.0


def lane_fit_model(flank: int | None = None) -> str:
    """How :func:`flank_fit_baseline` fits the lane-fit background (for the provenance).

    Parameters
    ----------
    flank : int, optional
        ``BlotParams.flank``: None for the default quadratic, else the straight
        line's samples per side.

    Returns
    -------
    str

    Examples
    --------
    >>> lane_fit_model(8)
    'line, 8 samples per side'
    >>> lane_fit_model()[:40]
    'quadratic, windows 2 x band extent per s'
    """
    if flank is not None:
        return f"line, {int(flank)} samples per side"
    return (f"quadratic, windows {LANE_FIT_WINDOW:g} x band extent per side; line (a fifth "
            f"of the extent per side, >= 5) where a side has < {LANE_FIT_MIN_SIDE:g} x "
            f"extent free samples, the quadratic's background volume varies > "
            f"{LANE_FIT_MAX_VARIANCE_RATIO:g} x the line's, it bows beyond both flanks or "
            f"it misses the profile beside the band (by > 3 x the noise)")


def _line_flank(extent: int) -> int:
    """The straight line's window per side: a fifth of the band extent, at least 5."""
    return max(5, int(round(0.2 * extent)))


def flank_fit_baseline(profile: np.ndarray, top: int, bottom: int, *, flank: int | None = None,
                       exclude: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """Background line or quadratic fitted to the profile outside ``[top, bottom]``.

    Without ``flank`` (the default) a quadratic is fitted, each side weighted
    equally, to windows of up to ``LANE_FIT_WINDOW`` (2) band extents directly
    above and below the band, each window the free samples next to the band
    (never past another band; dust spikes beyond 3 MAD of a window's median
    dropped).  A band that touches a neighbour (fewer than 3 free samples
    between them) shares one fit with its touching group: the group's outer
    windows, sized by the group's extent.  Long windows average membrane
    texture, and the quadratic term follows the background's curvature, which a
    straight line on long windows would not.  The straight line below (with
    the default window of a fifth of the band extent, at least 5 samples) is
    used instead when

    - a side has fewer than ``LANE_FIT_MIN_SIDE`` (1/4) band extents, or fewer
      than 3, free samples (band near the profile end or a neighbour);
    - the quadratic is ill-conditioned, or its background volume (the sum over
      the band) would be more than ``LANE_FIT_MAX_VARIANCE_RATIO`` (4) times as
      variable as the line's for the same independent noise on every sample
      (windows short or far from each other: a wild extrapolation);
    - the quadratic rises under the band or touching group above both flanks'
      levels (the medians of the line's windows), or falls below both, by more
      than 3 times the noise (robust scatter of the windows' sample-to-sample
      differences): a bow that the profile beside the band does not show comes
      from the windows' far parts (a neighbour's tail, a membrane edge or step).
      On a noise-free curved background with its vertex under the band this
      also gives the line;
    - on either side, the quadratic's mean over the line's window differs from
      that window's mean by more than the same 3 times the noise: the background at the
      band's edge must be as high as the profile right beside it (bumps or a
      step in a long window's far part must not lift or lower it).

    With a given ``flank``, always a straight line (least squares, each side
    weighted equally) fitted to ``flank`` samples per side, adjacent to the band.
    With free samples on one side only, the line is flat at their median; with
    none, the 5th percentile of the profile's free samples.

    Parameters
    ----------
    profile : 1-D array
    top, bottom : int
        Band limits (inclusive indices).
    flank : int, optional
        Samples used on each side by a straight line, adjacent to the band.
        Default: the quadratic above (straight line fallback: a fifth of the
        band extent, at least 5: short windows follow curved backgrounds).
    exclude : sequence of (top, bottom)
        Other bands' limits; their samples are not used.  When a band touches
        a neighbour (no free sample between them), the window beyond the
        neighbour is used, i.e. one fit runs under the touching group.

    Returns
    -------
    baseline : ndarray of float64
        Same length as ``profile``; meant for ``[top, bottom]`` (far from the
        band a quadratic is an extrapolation).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.arange(20.0); p[8:12] += 50
    >>> flank_fit_baseline(p, 8, 11, flank=5)[8:12].tolist()
    [8.0, 9.0, 10.0, 11.0]
    >>> x = np.arange(200.0)
    >>> bg = 1000 + 0.01 * (x - 20) ** 2          # a curved background
    >>> p = bg + 500 * np.exp(-0.5 * ((x - 100) / 4) ** 2)
    >>> quad = flank_fit_baseline(p, 80, 120)
    >>> line = flank_fit_baseline(p, 80, 120, flank=5)
    >>> err = lambda b: float(np.sum(b[80:121] - bg[80:121]))
    >>> round(err(quad), 2), round(err(line), 1)  # error of the background volume (of 5013)
    (0.0, 160.3)
    """
    p = np.asarray(profile, dtype=np.float64)
    excl = sorted((int(a), int(b)) for a, b in exclude)
    # samples of other bands and of this band are not used
    spans = [(max(0, a), b) for a, b in excl] + [(max(0, top), int(bottom))]
    line_flank = _line_flank(bottom - top + 1) if flank is None else int(flank)
    pts = _line_windows(p, top, bottom, line_flank, excl, spans)
    if flank is None and len(pts) == 2:
        quad = _flank_quadratic(p, top, bottom, excl, spans, pts)
        if quad is not None:
            return quad
    return _line_from_windows(p, pts, spans)


def _spike_free(v: list) -> list:
    """Indices of the window values ``v`` within 3 MADs of their median (dust spikes dropped)."""
    med = sorted(v)[len(v) // 2]
    dev = [abs(x - med) for x in v]
    mad = 1.4826 * sorted(dev)[len(v) // 2] + 1e-12
    return [k for k, e in enumerate(dev) if e <= 3 * mad]


def _line_windows(p: np.ndarray, top: int, bottom: int, flank: int, excl: list,
                  spans: list) -> list:
    """The straight line's windows: ``[(positions, values)]`` per side with samples."""
    n = len(p)
    # a few short spans: tested per sample in Python, cheaper than arrays for
    # these small windows

    def free(i):
        for a, b_ in spans:
            if a <= i <= b_:
                return False
        return True

    def _above(t):
        # the free samples of [t - flank, t) nearest the band, without a gap
        idx = []
        for i in range(max(0, t) - 1, max(0, t - flank) - 1, -1):
            if free(i):
                if idx and idx[-1] != i + 1:
                    break
                idx.append(i)
        return idx[::-1]

    def _below(b):
        idx = []
        for i in range(b + 1, min(n, b + 1 + flank)):
            if free(i):
                if idx and idx[-1] != i - 1:
                    break
                idx.append(i)
        return idx

    # windows adjacent to the band only (never reaching past a neighbouring band);
    # a band touching (or overlapping) its neighbour shares the line under the
    # whole touching group (its outer flanks), however many bands it holds
    t, b = top, bottom
    above = _above(t)
    while len(above) < 3:
        touching = [e for e in excl if e[0] < t and e[1] >= t - 3]
        if not touching:
            break
        t = min(e[0] for e in touching)
        above = _above(t)
    below = _below(b)
    while len(below) < 3:
        touching = [e for e in excl if e[1] > b and e[0] <= b + 3]
        if not touching:
            break
        b = max(e[1] for e in touching)
        below = _below(b)
    pts = []
    for idx in (above, below):
        if len(idx) >= 3:
            v = _window(p, idx)
            keep = _spike_free(v)
            pts.append(([float(idx[k]) for k in keep], [v[k] for k in keep]))
        elif len(idx) >= 1:
            pts.append(([float(i) for i in idx], _window(p, idx)))
    return pts


def _line_from_windows(p: np.ndarray, pts: list, spans: list) -> np.ndarray:
    """The straight line through :func:`_line_windows`' windows (flat with one side)."""
    n = len(p)
    if not pts:
        # no free sample beside the band or its touching group: the lowest
        # free samples of the profile (else of the whole profile) stand in;
        # never a zero line, which would count the membrane as signal
        ok = np.ones(n, bool)
        for a, b_ in spans:
            ok[a:b_ + 1] = False
        rest = p[ok] if ok.any() else p
        return np.full(n, float(np.percentile(rest, 5)))
    if len(pts) == 2:
        # weighted least-squares line, each side weighted equally (a few dozen samples:
        # in Python floats, summed in NumPy's order, so the same numbers as on arrays)
        xs = pts[0][0] + pts[1][0]
        vs = pts[0][1] + pts[1][1]
        w = [1.0 / len(pts[0][0])] * len(pts[0][0]) + [1.0 / len(pts[1][0])] * len(pts[1][0])
        sw = _pairwise_sum(w)
        xm = _pairwise_sum([a * x for a, x in zip(w, xs)]) / sw
        vm = _pairwise_sum([a * v for a, v in zip(w, vs)]) / sw
        d = [x - xm for x in xs]
        sxx = _pairwise_sum([a * (e * e) for a, e in zip(w, d)])
        slope = (_pairwise_sum([(a * e) * (v - vm) for a, e, v in zip(w, d, vs)]) / sxx
                 if sxx > 0 else 0.0)
        return vm + slope * (np.arange(n) - xm)
    return np.full(n, float(np.median(np.array(pts[0][1]))))


def _free_run(free: np.ndarray, start: int, step: int, limit: int) -> np.ndarray:
    """Indices of the free samples from ``start`` in direction ``step``, contiguous,
    at most ``limit`` of them (nearest first)."""
    n = free.size
    stop = start + step * limit
    stop = max(stop, -1) if step < 0 else min(stop, n)
    idx = np.arange(start, stop, step)
    if idx.size == 0:
        return idx
    taken = np.flatnonzero(~free[idx])
    return idx[:taken[0]] if taken.size else idx


def _weighted_fit(x: np.ndarray, v: np.ndarray, w: np.ndarray, deg: int):
    """Weighted least squares polynomial in ``x``: coefficients (increasing powers),
    the normal matrix and the covariance for unit independent noise per sample."""
    X = np.vander(x, deg + 1, increasing=True)
    A = X.T @ (w[:, None] * X)
    if np.linalg.cond(A) > 1e8:
        return None
    Ai = np.linalg.inv(A)
    coef = Ai @ (X.T @ (w * v))
    cov = Ai @ (X.T @ ((w * w)[:, None] * X)) @ Ai
    return coef, cov


def _mean_row(x0: float, x1: float, c: float, s: float, deg: int) -> np.ndarray:
    """Mean over the integer positions ``x0..x1`` of ``[1, u, u^2, ...]``, ``u = (x - c) / s``."""
    u = (np.arange(int(x0), int(x1) + 1, dtype=np.float64) - c) / s
    return np.vander(u, deg + 1, increasing=True).mean(axis=0)


def _flank_quadratic(p: np.ndarray, top: int, bottom: int, excl: list, spans: list,
                     line_pts: list) -> np.ndarray | None:
    """The quadratic of :func:`flank_fit_baseline` (None where the line is to be used)."""
    n = len(p)
    free = np.ones(n, bool)
    for a, b_ in spans:
        free[max(a, 0):max(b_ + 1, 0)] = False
    # the touching group: neighbours with fewer than 3 free samples between them
    t, b = int(top), int(bottom)
    while t > 0 and _free_run(free, t - 1, -1, 3).size < 3:
        touching = [e for e in excl if e[0] < t and e[1] >= t - 3]
        if not touching:
            break
        t = max(0, min(e[0] for e in touching))
    while b < n - 1 and _free_run(free, b + 1, 1, 3).size < 3:
        touching = [e for e in excl if e[1] > b and e[0] <= b + 3]
        if not touching:
            break
        b = min(n - 1, max(e[1] for e in touching))
    t, b = max(0, t), min(n - 1, b)
    extent = b - t + 1
    window = max(5, int(round(LANE_FIT_WINDOW * extent)))
    need = max(3, LANE_FIT_MIN_SIDE * extent)
    sides = []
    for idx in (_free_run(free, t - 1, -1, window), _free_run(free, b + 1, 1, window)):
        if idx.size < need:
            return None
        v = p[idx]
        keep = _spike_free(v.tolist())
        sides.append((idx[keep].astype(np.float64), v[keep]))
    # centred and scaled positions: u in [-1, 1] over the windows
    c = 0.5 * (t + b)
    s = max(c - sides[0][0].min(), sides[1][0].max() - c, 1.0)
    x = np.concatenate([(sides[0][0] - c) / s, (sides[1][0] - c) / s])
    v = np.concatenate([sides[0][1], sides[1][1]])
    w = np.concatenate([np.full(sides[0][0].size, 1.0 / sides[0][0].size),
                        np.full(sides[1][0].size, 1.0 / sides[1][0].size)])
    fit = _weighted_fit(x, v, w, 2)
    if fit is None:
        return None
    coef, cov = fit
    # the background volume's variance (band rows) against the line's
    m = _mean_row(max(top, 0), min(bottom, n - 1), c, s, 2)
    lx = np.asarray(line_pts[0][0] + line_pts[1][0])
    lw = np.concatenate([np.full(len(line_pts[0][0]), 1.0 / len(line_pts[0][0])),
                         np.full(len(line_pts[1][0]), 1.0 / len(line_pts[1][0]))])
    lfit = _weighted_fit((lx - c) / s, np.asarray(line_pts[0][1] + line_pts[1][1]), lw, 1)
    if lfit is None:
        return None
    ml = m[:2]
    if float(m @ cov @ m) > LANE_FIT_MAX_VARIANCE_RATIO * float(ml @ lfit[1] @ ml):
        return None
    # never above both flanks' levels, nor below both, beyond the noise: a bow
    # that the profile beside the band does not show comes from something in the
    # windows' far parts (a neighbour's tail, a membrane edge or step), not from
    # the background
    u = (np.arange(max(t, 0), min(b, n - 1) + 1) - c) / s
    qg = coef[0] + coef[1] * u + coef[2] * u * u
    levels = [float(np.median(np.asarray(vals))) for _, vals in line_pts]
    diffs = np.concatenate([np.diff(vals) for _, vals in sides])
    noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0)
    if qg.max() > max(levels) + 3 * noise or qg.min() < min(levels) - 3 * noise:
        return None
    # and on each side as high as the profile right beside the band (the line's
    # window), within the same noise: a long window whose far part holds bumps
    # or a step must not lift or lower the background at the band's edge
    for pos, vals in line_pts:
        uq = (np.asarray(pos) - c) / s
        if abs(float(np.mean(coef[0] + coef[1] * uq + coef[2] * uq * uq))
               - float(np.mean(vals))) > 3 * noise:
            return None
    u = (np.arange(n) - c) / s
    return coef[0] + coef[1] * u + coef[2] * u * u
