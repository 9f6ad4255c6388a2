"""Estimating the white point (background RGB) and H-DAB stain vectors.

White point
-----------
Glass is the brightest, least saturated, most frequent colour of a slide
image.  :func:`estimate_white_point` keeps bright, low-saturation pixels, finds
the mode of their brightness, and takes the per-channel median of the pixels
in that mode (robust to dust, noise and clipping).  A mode is a bump of the
histogram that also shows after a 7-level smoothing: a ripple on the flank of
a larger bump (the bright shoulder of pale stroma) is not glass, and whether
such a ripple makes a local maximum changes with resampling and JPEG noise.  When too few such pixels
exist (an image filled with tissue) it falls back to 255 and says so.  Glass is
the brightest thing in the image: nothing but its own noise and unevenness lies
above it.  When the brightest dense peak has more than 6.5 % of the pixels 2 %
brighter than it, or more than 3 % of them 3 % brighter, it is pale tissue (a
field without glass, e.g. stroma or epithelium whose cytoplasm fills the
field), and the white point comes from the brightest 0.5 % of the pixels
instead (source ``"brightest"``, with the reason recorded).  The two points of
the bright tail catch the two ways tissue shows above a tissue peak: a broad
pale flank just above it, and gaps or paler tissue well above it.  The margins
are relative because exposure and display curves scale brightness, and they
are measured from the peak's median brightness (over the pixels within 6
levels of it), not its histogram level.  On six real fields, each also resampled,
re-encoded, re-exposed, white-balanced and seen through a simulated second
scanner, glass puts at most 4.8 % of the pixels 2 % and 1.7 % of them 3 %
above its own peak, the glassless fields at least 8.7 % and 3.0 %: resampling
and optics thin the bright tail, most of all far from the peak, so a single
test far from it (3 % of the pixels 3 % brighter, the earlier rule) flipped on
a tile resampled to half its sampling and given another colour response.

Stain vectors
-------------
:func:`estimate_stains` follows QuPath's "Estimate stain vectors" (a variant of
Macenko et al. 2009): keep pixels whose OD is >= 0.05 in every channel, whose
OD norm is <= ``max_od`` and which are not near-grey; find the plane of the
two leading eigenvectors of the (uncentred) OD scatter matrix; express each
pixel as an angle in that plane; the 1st and 99th percentile angles give the
two stains, which are assigned to hematoxylin/DAB by closeness to the
defaults.  ``method="macenko"`` uses Macenko's original filter (OD norm >
0.15, no per-channel floor).

Examples
--------
>>> from blotquant.synthetic import make_ihc
>>> s = make_ihc(seed=1, shape=(256, 256), white_point=(240, 235, 245))
>>> estimate_white_point(s.image).round().tolist()
[240.0, 235.0, 245.0]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError, StainEstimationError
from .deconvolution import (RUIFROK_HDAB, as_stain_matrix, normalize_vector,
                            optical_density, stain_matrix, vector_angle_deg)

__all__ = ["estimate_white_point", "white_point_info", "estimate_stains", "StainEstimate",
           "stain_fit", "stain_fit_note", "near_black_share", "OFF_PLANE_DEG", "OFF_PLANE_LIMIT",
           "STAINED_OD", "NEAR_BLACK", "NEAR_BLACK_LIMIT", "DARK_IMAGE_LIMIT"]

_MAX_SAMPLES = 1_000_000
_MAX_WP_SAMPLES = 262_144

#: A pixel's colour is off the stains when its OD direction lies more than this
#: many degrees from the plane of the hematoxylin and DAB vectors (no mix of the
#: two stains can make it).
OFF_PLANE_DEG = 15.0
#: More than this fraction of the stained pixels off the plane: the image is not
#: hematoxylin + DAB as the stain vectors describe it (H&E, another chromogen,
#: heavy pen ink), and its scores are not meaningful.
OFF_PLANE_LIMIT = 0.05
#: A pixel counts as stained for :func:`stain_fit` from this OD norm on.
STAINED_OD = 0.25
#: Fewest stained pixels for :func:`stain_fit` to judge.
_FIT_MIN_PIXELS = 500
#: A pixel is near black when every channel is below this: no H-DAB stain
#: reaches it (DAB would need an OD of ~3, hematoxylin ~2.8), ink, folds,
#: scanner borders and a fluorescence image's background do.
NEAR_BLACK = 40
#: More than this share of the scored pixels near black: said in the stain note
#: (they are scored as strongly stained).
NEAR_BLACK_LIMIT = 0.05
#: More than this share of a whole field near black: not a brightfield image (or one
#: whose black areas would be scored as stain).  Real H-DAB / H&E fields: at most
#: 0.007; inverted H-DAB fields with glass: 0.23-0.61; a DAPI composite: 0.55-0.76.
DARK_IMAGE_LIMIT = 0.2


def _sample(rgb: np.ndarray, mask=None, max_samples=_MAX_SAMPLES) -> np.ndarray:
    """Flatten to (N, 3), optionally masked, subsampled on a regular stride."""
    a = np.asarray(rgb)
    if a.ndim < 2 or a.shape[-1] != 3:
        raise ParameterError(
            f"expected an RGB image (rows, cols, 3), got shape {a.shape}")
    if mask is not None:
        mask = np.asarray(mask, bool)
        if mask.shape != a.shape[:-1]:
            raise ParameterError(f"mask shape {mask.shape} does not match image {a.shape[:-1]}")
        px = a[mask]
    else:
        px = a.reshape(-1, 3)
    if len(px) > max_samples:
        step = int(np.ceil(len(px) / max_samples))
        px = px[::step]
    return px


def _channel_mean(px: np.ndarray) -> np.ndarray:
    """``px.astype(np.float32).mean(axis=1)`` of (n, 3) pixels, column by column.

    The same float32 values (the channels are added in order, then divided
    by 3), without numpy's slow reduction along an axis of length 3.
    """
    out = px[:, 0].astype(np.float32)
    out += px[:, 1].astype(np.float32, copy=False)
    out += px[:, 2].astype(np.float32, copy=False)
    out /= np.float32(3)
    return out


def white_point_info(rgb: ArrayLike, *, mask: ArrayLike | None = None,
                     max_saturation: float = 0.15, min_brightness: float = 160,
                     min_fraction: float = 0.002, min_pixels: int = 200,
                     fallback: float | ArrayLike = 255.0,
                     brighter_margin: float | tuple = (0.02, 0.03),
                     max_brighter_fraction: float | tuple = (0.065, 0.03),
                     brightest_percent: float = 0.5) -> dict:
    """Estimate the white point and report how (see :func:`estimate_white_point`).

    Parameters
    ----------
    rgb : array-like, shape (rows, cols, 3)
        uint8 RGB, or float in 0-255; other integer types are refused.
        Without a mask, large images are sampled on a regular grid
        (about 262,000 pixels).
    mask : bool array, shape (rows, cols), optional
        Only consider these pixels.
    max_saturation : float
        Largest (max - min) / max of a glass pixel's channels.
    min_brightness : float
        Smallest mean channel value of a glass pixel.
    min_fraction, min_pixels : float, int
        Fewest glass pixels (fraction of the sampled pixels, and count)
        needed to estimate instead of falling back.
    fallback : float or (r, g, b)
        White point returned when no glass is found.
    brighter_margin, max_brighter_fraction : float or tuple of float
        Glass is the brightest thing in a brightfield image: when, for any
        pair, more than ``max_brighter_fraction`` of the pixels are brighter
        than the peak by more than ``brighter_margin`` (a fraction of the
        peak's channel mean), the peak is pale tissue of a field without glass
        (cytoplasm, stroma), not glass.  The defaults test the bright tail at
        two points: more than 6.5 % of the pixels 2 % brighter (a broad pale
        flank just above a tissue peak) or more than 3 % of them 3 % brighter
        (gaps or paler tissue well above it).  A scalar applies to every
        margin of the other argument.
    brightest_percent : float
        Then the white point is the per-channel median of the bright,
        unsaturated pixels among the brightest ``brightest_percent`` % of the
        image (glass in small gaps, or the palest tissue), source
        ``"brightest"``, and ``reason`` says so.

    Returns
    -------
    dict
        ``white_point`` (float64 (3,)), ``source`` ("estimated", "brightest"
        or "fallback"), ``n_pixels`` (background pixels used), ``fraction`` and
        ``reason`` (why it did not use a glass peak, else "").

    Raises
    ------
    ParameterError
        For a non-RGB image, a mask of the wrong shape or integer input
        other than uint8.

    Examples
    --------
    >>> img = np.full((50, 50, 3), (230, 232, 228), np.uint8)
    >>> info = white_point_info(img)
    >>> info["source"], info["white_point"].tolist()
    ('estimated', [230.0, 232.0, 228.0])
    """
    a = np.asarray(rgb)
    if np.issubdtype(a.dtype, np.integer) and a.dtype != np.uint8:
        raise ParameterError("white point estimation needs 8-bit RGB (or float in 0-255)")
    if mask is None and a.ndim == 3 and a.shape[0] * a.shape[1] > _MAX_WP_SAMPLES:
        k = int(np.ceil(np.sqrt(a.shape[0] * a.shape[1] / _MAX_WP_SAMPLES)))
        a = a[::k, ::k]                                 # regular grid sample
    px = _sample(a, mask, _MAX_WP_SAMPLES)
    n_total = len(px)
    if px.dtype == np.uint8:
        # per-pixel max, min and sum of the three channels column by column (a numpy
        # reduction along an axis of length 3 is ~10x slower; same values)
        r, g, bl = px[:, 0], px[:, 1], px[:, 2]
        mx = np.maximum(np.maximum(r, g), bl).astype(np.int16)
        mn = np.minimum(np.minimum(r, g), bl).astype(np.int16)
        tot = r.astype(np.int32)
        tot += g
        tot += bl
        keep = ((mx - mn) <= max_saturation * np.maximum(mx, 1)) & (tot >= 3 * min_brightness)
    else:
        pf = px.astype(np.float32)
        mx, mn = pf.max(axis=1), pf.min(axis=1)
        keep = ((mx - mn) <= max_saturation * np.maximum(mx, 1.0)) & \
            (pf.mean(axis=1) >= min_brightness)
    cand = px[keep].astype(np.float32)
    fb = np.repeat(float(fallback), 3) if np.ndim(fallback) == 0 else np.asarray(fallback, float)

    def _fallback(reason):
        return {"white_point": fb.astype(np.float64), "source": "fallback",
                "n_pixels": int(len(cand)), "fraction": len(cand) / max(n_total, 1),
                "reason": reason}

    if len(cand) < max(min_pixels, min_fraction * n_total):
        return _fallback("too few bright, unsaturated (glass) pixels")
    b = _channel_mean(cand)
    # Brightness histogram of candidates; glass is the brightest dense peak.
    hist = np.bincount(np.clip(np.rint(b), 0, 255).astype(np.int64), minlength=256)
    smooth = np.convolve(hist, np.ones(3) / 3, mode="same")
    # a peak is a bump of the histogram, not a ripple on the flank of a larger one: it
    # must also show as a local maximum (within 3 levels) after a 7-level smoothing; the
    # histogram is mirrored at both ends for it, so glass clipped at 255 (half a bump
    # against the ceiling) still is a bump
    wide = np.convolve(np.pad(hist, 3, mode="symmetric"), np.ones(7) / 7, mode="valid")
    wide_max = np.zeros(256, bool)
    wide_max[1:-1] = (wide[1:-1] > 0) & (wide[1:-1] >= wide[:-2]) & (wide[1:-1] >= wide[2:])
    wide_max[-1] = wide[-1] > 0 and wide[-1] >= wide[-2]
    near_wide_max = np.convolve(wide_max.astype(np.int32), np.ones(7, np.int32),
                                mode="same") > 0
    # Glass is the *brightest* substantial peak (pale stroma can be a larger
    # peak a few levels darker): scan local maxima from bright to dark.
    need = max(min_pixels, min_fraction * n_total)
    cum = np.concatenate([[0], np.cumsum(hist)])
    peak = None
    for v in range(255, int(min_brightness) - 1, -1):
        lo_, hi_ = max(v - 1, 0), min(v + 2, 256)
        if smooth[v] <= 0 or smooth[v] < smooth[lo_:hi_].max() or not near_wide_max[v]:
            continue
        mass = cum[min(v + 7, 256)] - cum[max(v - 6, 0)]
        if mass >= need and smooth[v] >= 0.05 * smooth.max():
            peak = v
            break
    if peak is None:
        return _fallback("no dominant glass brightness peak")
    sel = np.abs(b - peak) <= 6
    if sel.sum() < max(min_pixels, min_fraction * n_total):
        return _fallback("no dominant glass brightness peak")
    # Glass is the brightest thing in a brightfield image: when many pixels are clearly
    # brighter than the peak, the peak is pale tissue (cytoplasm, stroma) of a field
    # without glass, and the glass shows, if at all, only in small gaps.  The peak's
    # brightness is the median brightness of its pixels, not the histogram level: the
    # share of a steep flank above a margin moves by a third with half a level of
    # reference (the second-scanner Lung1 tile without JPEG: 7.6 % of the pixels are 2 %
    # above the level 203, 8.7 % above the peak's median).
    level = float(np.median(b[sel]))
    b_all = _channel_mean(px)
    try:
        margins, limits = np.broadcast_arrays(
            np.atleast_1d(np.asarray(brighter_margin, float)),
            np.atleast_1d(np.asarray(max_brighter_fraction, float)))
    except ValueError:
        raise ParameterError(
            f"brighter_margin {brighter_margin!r} and max_brighter_fraction "
            f"{max_brighter_fraction!r} must pair up: give the same number of each, "
            "or a single value for one of them") from None
    shares = [float(np.mean(b_all > level * (1.0 + m))) for m in margins]
    over = [i for i, (sh, lim) in enumerate(zip(shares, limits)) if sh > lim]
    if over:
        brighter, margin = shares[over[-1]], float(margins[over[-1]])
        top = b >= np.percentile(b_all, 100 - brightest_percent)
        if top.sum() < min_pixels:
            return _fallback(f"the brightness peak at {level:.0f} is tissue ({100 * brighter:.1f} "
                             "% of pixels are brighter) and too few bright pixels remain")
        wp = np.median(cand[top], axis=0).astype(np.float64)
        return {"white_point": wp, "source": "brightest", "n_pixels": int(top.sum()),
                "fraction": float(top.sum()) / n_total,
                "reason": f"no glass: the brightness peak at {level:.0f} is tissue "
                          f"({100 * brighter:.1f} % of pixels are more than "
                          f"{100 * margin:g} % brighter); white point from the "
                          f"brightest {brightest_percent:g} % of pixels"}
    wp = np.median(cand[sel], axis=0).astype(np.float64)
    # Refine: median of the pixels close to the first estimate in colour
    # (robust to dust, tissue edges and clipping at 255).
    close = np.ones(len(cand), bool)   # max over channels of |cand - wp| <= 8
    for ch in range(3):
        close &= np.abs(cand[:, ch].astype(np.float64) - wp[ch]) <= 8
    if close.sum() >= min_pixels:
        wp = np.median(cand[close], axis=0).astype(np.float64)
    return {"white_point": wp, "source": "estimated", "n_pixels": int(sel.sum()),
            "fraction": float(sel.sum()) / n_total, "reason": ""}


def estimate_white_point(rgb: ArrayLike, *, mask: ArrayLike | None = None,
                         fallback: float | ArrayLike | None = 255.0,
                         **kwargs: float) -> np.ndarray:
    """Estimate the background (glass) RGB of a brightfield image.

    Parameters
    ----------
    rgb : uint8 array (rows, cols, 3)
    mask : bool array, optional
        Only consider these pixels (e.g. a user-drawn background region).
    fallback : float, (r, g, b) or None
        Returned when no glass is found; None raises
        :class:`~blotquant.errors.StainEstimationError` instead.
    **kwargs
        ``max_saturation`` (0.15), ``min_brightness`` (160),
        ``min_fraction`` (0.002), ``min_pixels`` (200), ``brighter_margin``
        (0.03), ``max_brighter_fraction`` (0.03), ``brightest_percent`` (0.5).

    Returns
    -------
    ndarray of float64, shape (3,)
        Glass RGB, the brightest pixels' RGB when the brightest dense peak is
        tissue (see :func:`white_point_info`), or the fallback.

    Raises
    ------
    StainEstimationError
        When no glass is found and ``fallback`` is None.

    Examples
    --------
    >>> img = np.full((40, 40, 3), (120, 60, 30), np.uint8)   # all stained
    >>> estimate_white_point(img).tolist()
    [255.0, 255.0, 255.0]
    """
    info = white_point_info(rgb, mask=mask, fallback=255.0 if fallback is None else fallback,
                            **kwargs)
    if info["source"] == "fallback" and fallback is None:
        raise StainEstimationError(
            f"cannot estimate the white point: {info['reason']}; "
            "pass white_point=255 or (r, g, b) measured on glass")
    return info["white_point"]


class StainEstimate(dict):
    """Result of :func:`estimate_stains` (a dict with attribute access).

    Keys: ``matrix`` (3, 3), ``hematoxylin``, ``dab``, ``n_pixels``,
    ``angles_deg`` (angle of each estimated vector to its default, degrees),
    ``method``, ``white_point`` (float64 (3,)).
    """

    __getattr__ = dict.__getitem__


def estimate_stains(rgb: ArrayLike, *, white_point: float | ArrayLike = 255,
                    mask: ArrayLike | None = None, method: str = "qupath",
                    min_od: float = 0.05, max_od: float = 1.0, grey_angle: float = 0.15,
                    percentile: float = 1.0, min_pixels: int = 500,
                    defaults: ArrayLike = RUIFROK_HDAB,
                    return_info: bool = False) -> np.ndarray | StainEstimate:
    """Estimate hematoxylin and DAB stain vectors from an image or region.

    Parameters
    ----------
    rgb : array-like, shape (rows, cols, 3)
        RGB image (uint8, or float in the units of ``white_point``).
    white_point : float or (r, g, b)
        Background RGB used for OD (estimate it first on slides with off-white glass).
    mask : bool array, optional
        Region to use (e.g. a representative annotation).
    method : {"qupath", "macenko"}
        Pixel filter (see the module docstring).
    min_od : float
        Minimum OD in every channel (QuPath 0.05); "macenko": minimum OD norm (0.15 used).
    max_od : float
        Maximum OD norm (QuPath default 1); drops black dirt and folds.
    grey_angle : float
        Drop pixels within this angle (radians) of the grey axis (1, 1, 1).
    percentile : float
        Robust extreme angles at ``percentile`` and ``100 - percentile``.
    min_pixels : int
        Fewer usable pixels raise :class:`~blotquant.errors.StainEstimationError`.
    defaults : (3, 3) array
        Reference vectors used to decide which estimate is hematoxylin.
    return_info : bool
        Return a :class:`StainEstimate` (dict) instead of only the matrix.

    Returns
    -------
    ndarray of float64, shape (3, 3), or StainEstimate
        Stain matrix [H, DAB, residual] with unit rows (or, with
        ``return_info``, a :class:`StainEstimate` holding it).

    Raises
    ------
    ParameterError
        For an unknown ``method`` or a non-RGB image.
    StainEstimationError
        Too few stained pixels, or only one colour among them.

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> from blotquant.ihc.deconvolution import vector_angle_deg
    >>> s = make_ihc(seed=3, shape=(256, 256))
    >>> m = estimate_stains(s.image)
    >>> bool(vector_angle_deg(m[1], s.truth.stains[1]) < 3)
    True
    """

    if method not in ("qupath", "macenko"):
        raise ParameterError(
            f"unknown stain estimation method {method!r}; use 'qupath' or 'macenko'")
    px = _sample(rgb, mask)
    od = optical_density(px, white_point).astype(np.float64)
    norm = np.linalg.norm(od, axis=1)
    if method == "qupath":
        keep = np.all(od >= min_od, axis=1) & (norm <= max_od)
    else:
        keep = (norm > max(min_od, 0.15)) & (norm <= max(max_od, 3.0))
    grey = np.ones(3) / np.sqrt(3)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_grey = (od @ grey) / norm
    keep &= np.arccos(np.clip(np.nan_to_num(cos_grey, nan=1.0), -1, 1)) > grey_angle
    od = od[keep]
    if len(od) < min_pixels:
        raise StainEstimationError(
            f"too few stained pixels to estimate stain vectors ({len(od)} < {min_pixels}); "
            "choose a region with both hematoxylin and DAB staining, or use stains='default'")
    scatter = od.T @ od / len(od)
    w, v = np.linalg.eigh(scatter)
    e1, e2 = v[:, 2], v[:, 1]
    if e1.sum() < 0:
        e1 = -e1
    # Orient e2 so that positive angles point towards the default DAB direction.
    d_ref = normalize_vector(np.asarray(defaults)[1])
    if (d_ref - (d_ref @ e1) * e1) @ e2 < 0:
        e2 = -e2
    phi = np.arctan2(od @ e2, od @ e1)
    lo, hi = np.percentile(phi, [percentile, 100 - percentile])
    if hi - lo < np.radians(2):
        raise StainEstimationError(
            "stained pixels show only one colour; cannot separate two stains "
            "(choose a region with both hematoxylin and DAB, or use stains='default')")
    v_lo = normalize_vector(np.cos(lo) * e1 + np.sin(lo) * e2)
    v_hi = normalize_vector(np.cos(hi) * e1 + np.sin(hi) * e2)
    ref = as_stain_matrix(defaults)
    a = v_lo @ ref[0] + v_hi @ ref[1]
    b = v_hi @ ref[0] + v_lo @ ref[1]
    h, d = (v_lo, v_hi) if a >= b else (v_hi, v_lo)
    m = stain_matrix(h, d)
    if not return_info:
        return m
    wp = np.asarray(white_point, float)
    return StainEstimate(
        matrix=m, hematoxylin=m[0], dab=m[1], n_pixels=int(len(od)), method=method,
        angles_deg=(vector_angle_deg(m[0], ref[0]), vector_angle_deg(m[1], ref[1])),
        white_point=np.repeat(wp, 3) if wp.ndim == 0 else wp)


def stain_fit(rgb: ArrayLike, stains: ArrayLike, white_point: float | ArrayLike = 255, *,
              mask: ArrayLike | None = None, max_samples: int = 65_536,
              reference: ArrayLike | None = None) -> dict:
    """How well hematoxylin + DAB explain the colours of the stained pixels.

    Every mix of two stains has an optical density vector in the plane of
    their two vectors; a pixel whose OD direction lies far from that plane is
    a colour the stains cannot make.  On H-DAB images almost no stained pixel
    does (< 0.5 % off by more than :data:`OFF_PLANE_DEG` on six real fields,
    also re-rendered as a second scanner), while eosin lies ~40 deg off the
    H-DAB plane (18 % and 95 % of the stained pixels of two real H&E slides).

    Parameters
    ----------
    rgb : uint8 array (rows, cols, 3)
        The scored image.
    stains : (3, 3) array
        The stain matrix used (rows hematoxylin, DAB, residual).
    white_point : float or (3,) array
        Glass RGB.
    mask : bool array (rows, cols), optional
        The scored tissue; default every pixel.
    max_samples : int
        Every k-th pixel (raster order) is read, at most about this many (a
        share known to +-0.2 %).
    reference : (3, 3) array, optional
        Also measure against this matrix (``score_ihc`` passes the default
        H-DAB vectors when the stains were estimated: an estimate follows
        whatever the second colour is, eosin included, 23-28 deg from DAB on
        two real H&E slides against 5-8 deg on real H-DAB fields).

    Returns
    -------
    dict
        ``n_stained`` (sampled pixels with OD norm >= :data:`STAINED_OD`),
        ``off_plane_fraction`` (the share of them off the plane by more than
        :data:`OFF_PLANE_DEG`; None when fewer than 500 are stained),
        ``off_plane_deg``, ``near_black_fraction`` (share of the sampled
        pixels with every channel below :data:`NEAR_BLACK`) and, with
        ``reference``, ``reference_off_plane_fraction``.

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> from blotquant.ihc.deconvolution import as_stain_matrix
    >>> s = make_ihc(seed=1, shape=(256, 256))
    >>> stain_fit(s.image, as_stain_matrix("default"))["off_plane_fraction"]
    0.0
    """
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ParameterError(f"expected an RGB image (rows, cols, 3), got shape {a.shape}")
    n_px = a.shape[0] * a.shape[1]
    step = max(1, int(np.ceil(n_px / max(1, max_samples))))
    sub = a.reshape(-1, 3)[::step]            # every step-th pixel in raster order
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != a.shape[:2]:
            raise ParameterError(f"mask shape {m.shape} does not match image {a.shape[:2]}")
        sub = sub[m.reshape(-1)[::step]]
    black = round(float(np.mean(_near_black(sub))), 4) if len(sub) else 0.0
    od = optical_density(sub, white_point)     # float32, (n, 3)
    mag = np.sqrt(np.einsum("ij,ij->i", od, od, dtype=np.float64))
    keep = mag >= STAINED_OD
    n = int(keep.sum())
    od, mag = od[keep], mag[keep]

    def off(matrix):
        if n < _FIT_MIN_PIXELS:
            return None
        m3 = np.asarray(matrix, float)
        normal = np.cross(m3[0], m3[1])
        normal = normal / max(float(np.linalg.norm(normal)), 1e-12)
        sin_off = np.abs(od @ normal.astype(np.float32)) / mag
        return round(float(np.mean(sin_off > np.sin(np.radians(OFF_PLANE_DEG)))), 4)

    out = {"n_stained": n, "off_plane_fraction": off(stains), "off_plane_deg": OFF_PLANE_DEG,
           "near_black_fraction": black}
    if reference is not None:
        out["reference_off_plane_fraction"] = off(reference)
    return out


def stain_fit_note(fit: dict | None) -> str:
    """The warning for a :func:`stain_fit` record, or ``""`` when the stains fit.

    Parameters
    ----------
    fit : dict or None
        A :func:`stain_fit` record.

    Returns
    -------
    str

    Examples
    --------
    >>> stain_fit_note({"n_stained": 9000, "off_plane_fraction": 0.4, "off_plane_deg": 15.0})[:40]
    '40% of the stained pixels have colours t'
    """
    fit = fit or {}
    notes = [_plane_note(fit)]
    black = fit.get("near_black_fraction")
    if black is not None and black > NEAR_BLACK_LIMIT:
        notes.append(f"{black:.0%} of the scored pixels are near black (every channel below "
                     f"{NEAR_BLACK}: pen ink, folds, dirt or a scanner border?); they are scored "
                     "as strongly stained: exclude them with a region")
    return "; ".join(n for n in notes if n)


def _plane_note(fit: dict) -> str:
    frac, ref = fit.get("off_plane_fraction"), fit.get("reference_off_plane_fraction")
    deg = fit.get("off_plane_deg", OFF_PLANE_DEG)
    if frac is not None and frac > OFF_PLANE_LIMIT:
        return (f"{frac:.0%} of the stained pixels have colours that no mix of hematoxylin "
                f"and DAB makes (more than {deg:g} deg off the plane of the two stain "
                "vectors): this does not look like an H-DAB image as the stains describe it "
                "(H&E? another chromogen? pen ink?), so its DAB scores are not meaningful; "
                "check the slide, give the stain vectors (--stains), or exclude the "
                "off-colour areas with a region")
    if ref is not None and ref > OFF_PLANE_LIMIT:
        return (f"the estimated stain vectors fit, but {ref:.0%} of the stained pixels are "
                f"more than {deg:g} deg off the plane of the standard hematoxylin and DAB "
                "vectors: the estimate has followed a second colour that is not DAB (eosin? "
                "another chromogen?), so its 'DAB' scores are not meaningful; check the slide "
                "or give the stain vectors (--stains)")
    return ""


def _near_black(px: np.ndarray) -> np.ndarray:
    """Pixels (n, 3) whose every channel is below :data:`NEAR_BLACK`."""
    return px.max(axis=1) < NEAR_BLACK


def near_black_share(rgb: ArrayLike, mask: ArrayLike | None = None,
                     max_samples: int = 65_536) -> float:
    """Share of an image's pixels whose every channel is below :data:`NEAR_BLACK`.

    A brightfield image is light where there is no stain; a field that is
    largely near black (more than :data:`DARK_IMAGE_LIMIT`) is a fluorescence,
    dark-field or inverted image (0.76 for a DAPI + Ki67 composite of a
    DeepLIIF tile, 0.23-0.61 for three inverted DeepLIIF H-DAB fields; at most
    0.007 on six real H-DAB fields and two H&E slides).

    Parameters
    ----------
    rgb : uint8 array (rows, cols, 3)
    mask : bool array (rows, cols), optional
        Only these pixels (the regions to score); default all.
    max_samples : int
        Read on a regular grid of at most about this many pixels.

    Returns
    -------
    float
    """
    a = np.asarray(rgb)
    step = max(1, int(np.ceil(a.shape[0] * a.shape[1] / max(1, max_samples))))
    black = _near_black(a.reshape(-1, a.shape[-1])[::step])
    if mask is not None:
        black = black[np.asarray(mask, bool).reshape(-1)[::step]]
    return float(np.mean(black)) if black.size else 0.0
