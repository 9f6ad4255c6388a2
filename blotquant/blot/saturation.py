"""Where a blot image clips: the saturation level, where it came from, and the mask.

A detector clips at one value.  Light bands (raw camera, fluorescence) clip at
the top: a pixel is saturated when ``pixel >= level``.  Dark bands (film,
inverted exports) clip at the bottom: saturated when ``pixel <= level``.

The level comes, in this order of trust, from:

``user``
    A value given by the caller (``BlotParams.clip_level``).
``plateau``
    The data: clipped bands form flat-topped regions at one extreme value (a
    camera that clips at 4000 in a 16-bit file; a film scan whose black is
    grey 24, not 0).  Found by :func:`find_plateau`; it only ever moves the
    level *inward* from the nominal one (a plateau at the nominal level keeps
    the nominal source).
``file``
    The file says it (TIFF MaxSampleValue, PNG sBIT, ``.scn`` data_ceiling, or a
    level stated with the in-memory image): light-band side only.
``dtype``
    The integer type's range: ``iinfo.max`` for light bands, 0 for dark bands.
``data``
    Float data without a stated maximum: the largest (light) / smallest (dark)
    value present.

How plateaus are found
----------------------
The image is turned band-side up and median-filtered (5 x 5), which removes
hot pixels, dust and film grain but keeps the inside of flat regions.  The
histogram of the filtered image is read from the band-side extreme inward,
over the band tail (at most 30 % of the way from the extreme to the median).
A plateau is a bin holding at least ``min_area`` pixels, while every bin
further out (beyond a one-bin transition) holds at most a tenth of it: a hard
edge.  Unclipped bands end gradually (their peaks are rounded), so their
extreme bins grow slowly and fail the test; an isolated hot pixel or a speck
is gone after the median.  When several plateaus exist (black print at 0 and
bands clipped at grey 24 on a film scan), the innermost one is the bands'.
The level is that bin's value plus two noise standard deviations of the raw
pixels inside the plateau (0 for an exact digital clip), so noisy plateaus
are flagged over their whole area.

Clipped bands whose floor differs from band to band (a published figure whose
black is grey 20-40 after resampling and compression, film scanned with an
uneven black) have no single hard edge.  They are found as *flat cores*:
regions of the band tail, away from the extreme itself, where the
median-filtered image varies by at most three noise sigmas over 5 x 5 pixels
and that are at least 3 px deep.  A rounded peak is flat only along a line at
its top, and a hot pixel or speck is gone after the median.  The level is
then the innermost flat level of the cores (their 1st percentile), so a band
clipped at any of the floors is flagged.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> img = rng.normal(500, 20, (120, 160)).round().astype(np.uint16)
>>> img[40:60, 20:60] = 4000           # a camera clipping at 4000 in a uint16 file
>>> img[5, 5] = 9000                   # one hot pixel: not a plateau
>>> lv = saturation_level(img, "light-on-dark")
>>> lv.level, lv.source
(4000.0, 'plateau')
>>> int(saturation_mask(img, lv).sum())  # the plateau, and the hot pixel above the level
801
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage as ndi

from .._shared import stats
from ..errors import ParameterError
from ..image import POLARITIES, ImageMetadata

__all__ = ["SaturationLevel", "SATURATION_SOURCES", "saturation_level", "find_plateau",
           "saturation_mask", "nominal_level"]

#: Where a saturation level can come from (recorded as ``saturation_source``).
SATURATION_SOURCES = ("user", "plateau", "file", "dtype", "data")

#: Median filter size used to find plateaus (px).
_MEDIAN = 5
#: A plateau bin must hold this many times more pixels than any bin further out.
_EDGE_RATIO = 10.0
#: Bins further out compared with the plateau bin (after one transition bin).
_EDGE_BINS = 8
#: A plateau of the median-filtered image must be at least this thick (distance from
#: its inside to its edge, px): a 5 x 5 median flattens a rounded peak into 3 rows
#: (distance 2), a clipped band is flat over more rows.
_THICK = 3.0
#: A compact mode must be this many times higher than the histogram on both sides,
#: compared over bins _SIDE_BINS..2 x _SIDE_BINS away from it.
_MODE_RATIO = 5.0
_SIDE_BINS = 10
#: Plateaus are looked for this far from the band-side extreme towards the median.
_TAIL = 0.3
#: An exact plateau holds this many times more pixels than the next value inward (a
#: rounded peak quantised to integers has ~1.4 times more at its extreme, at most).
_PILE = 2.0
#: Flat cores (method (d)): the median image's 5 x 5 range is within this many noise
#: sigmas (at least 4 grey levels for integer data) ...
_FLAT_SIGMAS = 3.0
#: ... over a region at least this many px deep (a clipped band's flat top, not the
#: line along a rounded peak's top).
_CORE_DEPTH = 3.0
#: Images larger than this are analysed on a regular subsample (speed only).
_MAX_PIXELS = 4_000_000


@dataclass(frozen=True)
class SaturationLevel:
    """The clip level of one image.

    Attributes
    ----------
    level : float
        Pixel value (raw units) at which bands clip: saturated is
        ``pixel >= level`` for light-on-dark, ``pixel <= level`` for
        dark-on-light.
    source : str
        One of :data:`SATURATION_SOURCES`.
    polarity : str
        The band polarity the level applies to.
    white : float
        The nominal top of the range (file, dtype or data maximum): the
        reference a dark-on-light image is inverted against
        (``signal = white - pixel``).
    detail : str
        A short human-readable account (what was found where).
    """

    level: float
    source: str
    polarity: str
    white: float
    detail: str = ""


def _check_polarity(polarity):
    if polarity not in POLARITIES:
        raise ParameterError(f"polarity must be one of {POLARITIES}, got {polarity!r}; "
                             "detect it first (blotquant.blot.polarity.detect_polarity)")


def nominal_level(gray: ArrayLike, polarity: str,
                  metadata: ImageMetadata | None = None) -> tuple[float, str, float]:
    """The level before looking at the data: ``(level, source, white)``.

    Parameters
    ----------
    gray : 2-D array
        The image in raw units.
    polarity : {"dark-on-light", "light-on-dark"}
        Which side the bands are on.
    metadata : ImageMetadata, optional
        Its ``saturation_level`` (from the file) is used for light bands when
        it is finite and below the dtype maximum.

    Returns
    -------
    level : float
        The nominal clip level on the band side: the top of the range for
        light bands, its bottom (dtype minimum, or data minimum for floats)
        for dark bands.
    source : str
        ``"file"``, ``"dtype"`` or ``"data"``.
    white : float
        Top of the nominal range.

    Raises
    ------
    ParameterError
        If ``polarity`` is not one of the two polarities.

    Examples
    --------
    >>> import numpy as np
    >>> nominal_level(np.zeros((4, 4), np.uint8), "dark-on-light")
    (0.0, 'dtype', 255.0)
    """
    _check_polarity(polarity)
    g = np.asarray(gray)
    integer = g.dtype.kind in "ui"
    full = float(np.iinfo(g.dtype).max) if integer else math.inf
    stated = None if metadata is None else metadata.saturation_level
    if stated is not None and math.isfinite(stated) and stated < full:
        white, white_src = float(stated), "file"
    elif integer:
        white, white_src = full, "dtype"
    else:
        white, white_src = float(np.max(g)), "data"
    if polarity == "light-on-dark":
        return white, white_src, white
    if integer:
        return float(np.iinfo(g.dtype).min), "dtype", white
    return float(np.min(g)), "data", white


def _noise(g, native=None):
    """Robust pixel noise (std) from horizontal neighbour differences.

    ``native``: the same pixels as uint8 / uint16, if they are: the differences
    are then taken in that dtype (``|a - b|`` is exact there) and their median
    is the same number, found 5-10x faster than on float64.
    """
    if native is not None and native.dtype in (np.uint8, np.uint16):
        if native.shape[1] < 2 or native.size == 0:
            return 0.0
        import cv2

        d = cv2.absdiff(native[:, 1:], native[:, :-1])   # exact in the unsigned dtype
        return float(1.4826 * stats.median_of_small(d) / math.sqrt(2.0))
    d = np.abs(np.diff(g, axis=1)).ravel()
    if d.size == 0:
        return 0.0
    return float(1.4826 * np.median(d) / math.sqrt(2.0))


def find_plateau(gray: ArrayLike, polarity: str, *,
                 min_area: int | None = None) -> dict | None:
    """The innermost flat-topped clip plateau on the band side, if any.

    Parameters
    ----------
    gray : 2-D array
        Image in raw units (any real dtype).
    polarity : {"dark-on-light", "light-on-dark"}
        Which side the bands are on (plateaus are looked for there only).
    min_area : int, optional
        Fewest pixels a plateau must cover (after the median filter); default
        ``max(25, 1e-4 x pixels)``.

    Returns
    -------
    dict or None
        ``level`` (raw units; saturated is beyond or at it), ``floor`` (the
        plateau's median-filtered value), ``noise`` (raw std inside it),
        ``width`` (histogram bin width used),
        ``area`` (pixels in the plateau bin) and ``plateaus`` (all plateau
        floors found, outermost first); None when the data show no plateau.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:100, :100]
    >>> img = (200 - 150 * np.exp(-((yy - 50) / 6.0) ** 2) * (abs(xx - 50) < 30))
    >>> find_plateau(img.round().astype(np.uint8), "dark-on-light") is None  # rounded peak
    True
    >>> clipped = np.maximum(img, 80).round().astype(np.uint8)      # film black at 80
    >>> find_plateau(clipped, "dark-on-light")["level"]
    80.0
    """
    _check_polarity(polarity)
    g = np.asarray(gray)
    if g.ndim != 2:
        raise ParameterError(f"find_plateau needs a 2-D image, got shape {g.shape}")
    step = 1
    if g.size > _MAX_PIXELS:
        step = int(math.ceil(math.sqrt(g.size / _MAX_PIXELS)))
        g = g[::step, ::step]
    scale = step * step
    sub = g
    sign = 1.0 if polarity == "light-on-dark" else -1.0
    sub_m = _median(sub, native_dtype=True)
    # The image band side up is s = sign * pixel and its median image m = sign *
    # median (float64 in the formulas below).  8/16-bit images are read in their own
    # dtype (float64 of an integer is exact and so are the comparisons), and only
    # the pixels of the band tail, where plateaus are looked for, are turned into
    # floats: the same numbers as from full float copies, without them.
    if stats.is_small_uint(sub_m):
        bs = _BandSide(sub, sub_m, sign)
    else:
        g = g.astype(np.float64)
        if sub.dtype.kind not in "ui" and not np.all(np.isfinite(g)):
            g = np.where(np.isfinite(g), g, np.nanmedian(g))
        m = sub_m.astype(np.float64)
        if sign < 0:
            np.negative(m, out=m)
        bs = _BandSide(g if sign > 0 else np.negative(g), m, 1.0)
    if min_area is None:
        min_area = max(25, int(1e-4 * sub.size * scale))
    min_area = max(1, int(math.ceil(min_area / scale)))
    top = bs.top()
    # the median in the native dtype when it is small (the same number, faster)
    med = sign * stats.median(sub_m) if stats.is_small_uint(sub_m) else float(np.median(bs.m))
    if not top > med:
        return None
    integer = np.asarray(gray).dtype.kind in "ui"
    candidates = []  # (floor in s units, level in s units, noise, area)

    # (a) exact: the raw extreme value covers a solid region (not a line or a
    #     speck) and far more pixels than the next value inward (a rounded peak
    #     quantised to integers has more pixels at the next value, not fewer)
    v = top  # the extreme of the filtered image: hot pixels and specks do not count
    n_exact = bs.count_raw_equal(v)
    if n_exact >= min_area:
        exact = bs.raw_equal(v)
        solid = int(ndi.binary_erosion(exact, np.ones((3, 3), bool)).sum())
        nxt = bs.raw_max_below(v)
        n_next = bs.count_raw_equal(nxt) if math.isfinite(nxt) else 0
        if solid >= max(1, min_area // 4) and n_exact >= _PILE * n_next:
            candidates.append((v, v, 0.0, n_exact))

    # (b) noisy: a hard edge in the histogram of the median-filtered image, and
    #     a region there thicker than the median itself can make of a peak
    sigma = _noise(bs.noise_float, sub)
    width = max(1.0, sigma / 3.0) if not integer else max(1.0, float(round(sigma / 3.0)))
    if not integer:
        width = max(width, (top - med) / 4096.0)
    lo = top - _TAIL * (top - med)
    nb = int(math.floor((top - lo) / width)) + 1
    # every mask below lies in m >= top - (nb + 2) * width: the tail, row-major
    tail = bs.tail(top - (nb + 2) * width)
    mt, st = tail.m, tail.s
    # bin k holds values in (top - (k + 1) * width, top - k * width]; k = 0 is the extreme
    sel = mt >= top - nb * width
    k = np.floor((top - mt[sel]) / width).astype(np.int64)
    h = np.bincount(k[(k >= 0) & (k < nb)], minlength=nb).astype(float)
    for b in np.flatnonzero(h >= min_area).tolist():   # bins that can hold a plateau
        beyond = h[max(0, b - _EDGE_BINS - 1):max(0, b - 1)]
        if beyond.size and beyond.max() * _EDGE_RATIO > h[b]:
            continue
        if b >= 1 and h[b - 1] * _EDGE_RATIO > 2 * h[b]:
            continue  # the one transition bin is not much smaller: no hard edge
        hi_v, lo_v = top - b * width, top - (b + 3) * width
        region = (mt > lo_v) & (mt <= hi_v)
        if tail.thickness(region) < _THICK:
            continue  # thin: a rounded peak flattened by the median, not a plateau
        inside = (mt > top - (b + 1) * width) & (mt <= hi_v)
        resid = (st - mt)[inside]
        noise = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
        floor_s = float(np.median(mt[inside]))
        level_s = floor_s - 2.0 * noise
        if integer:
            level_s = float(math.floor(level_s + 1e-9))
        candidates.append((floor_s, level_s, noise, int(h[b])))
    # (c) a compact mode: a pile of pixels in the band tail far above the
    #     histogram on both sides (a clipped top whose noise or texture reaches
    #     past the floor, e.g. speckled flat-topped bands in a published figure)
    hs = ndi.uniform_filter1d(h, 3, mode="constant")
    side = _SIDE_BINS
    # bins 2 * side .. nb - 2 * side (nearer the extreme is (a) and (b)'s; further in,
    # too little histogram inward) that are local maxima (over +-2 bins) of min_area
    # pixels or more
    b0, b1 = 2 * side, nb - 2 * side + 1
    modes = []
    if b1 > b0:
        near = np.lib.stride_tricks.sliding_window_view(hs, 5).max(axis=1)  # hs[b-2:b+3]
        mid = hs[b0:b1]
        modes = (b0 + np.flatnonzero((mid >= min_area) & (mid >= near[b0 - 2:b1 - 2]))).tolist()
    for b in modes:
        ext = h[max(0, b - 2 * side):max(0, b - side)]
        inw = h[min(nb, b + side):min(nb, b + 2 * side)]
        ref = max(ext.mean() if ext.size else 0.0, inw.mean() if inw.size else 0.0)
        if hs[b] < _MODE_RATIO * max(ref, 1.0):
            continue
        hi_v, lo_v = top - max(0, b - 2) * width, top - (b + 3) * width
        region = (mt > lo_v) & (mt <= hi_v)
        if tail.thickness(region) < _THICK:
            continue
        inside = (mt > top - (b + 1) * width) & (mt <= top - b * width)
        resid = (st - mt)[region]
        noise = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
        floor_s = float(np.median(mt[inside]))
        level_s = floor_s - 2.0 * max(noise, 0.5 * width)
        if integer:
            level_s = float(math.floor(level_s + 1e-9))
        candidates.append((floor_s, level_s, noise, int(h[b])))
    # (d) flat cores: clipped bands whose floor wanders between bands (a published
    #     figure whose black is grey 20-40 after resampling and compression; film
    #     scanned with uneven black): regions of the band tail where the median
    #     image is flat (its 5 x 5 range within _FLAT_SIGMAS noise sigmas) and
    #     thick (>= _CORE_DEPTH px from any non-flat pixel).  A rounded peak is
    #     flat only along a line at its top, a gentle slope (glow, smear) is not
    #     flat over a 5 x 5 window at this tolerance, a hot pixel or a speck is
    #     gone after the median, and the extreme itself (black print at 0) is
    #     left out.  The level is the innermost flat level of the cores (1st
    #     percentile), so every band clipped at any of the floors is flagged.
    core = _flat_cores(tail, bs, top, lo, sigma, width, integer, min_area)
    if core is not None and int(core.size) >= min_area:
        vals = mt[core]
        resid = st[core] - vals
        noise = float(1.4826 * np.median(np.abs(resid - np.median(resid))))
        floor_s = float(np.median(vals))
        level_s = float(np.quantile(vals, 0.01))
        if integer:
            level_s = float(math.floor(level_s + 1e-9))
        candidates.append((floor_s, level_s, noise, int(core.size)))
    if not candidates:
        return None
    candidates.sort(key=lambda c: -c[0])          # outermost first
    floor_s, level_s, noise, area = candidates[-1]  # the innermost plateau: the bands'
    return {"level": float(sign * level_s), "floor": float(sign * floor_s), "noise": noise,
            "width": float(width),
            "area": int(area * scale), "plateaus": [float(sign * c[0]) for c in candidates]}


class _BandSide:
    """An image band side up (``s = sign * raw``) and its median image ``m``, lazily.

    ``raw`` / ``med``: uint8 / uint16 images (``sign`` +1 or -1) or float64 images
    already band side up (``sign`` +1).  Comparisons with a float threshold are
    made in the native dtype with the threshold rounded to the integers that
    satisfy it (exact); values are turned into float64 (exact) only where read.
    """

    def __init__(self, raw, med, sign):
        self.raw, self.med, self.sign = raw, med, sign
        self.native = raw.dtype.kind == "u"

    @property
    def m(self):
        """The full float64 median image band side up (the float path only)."""
        return self.med

    @property
    def noise_float(self):
        """The float image :func:`_noise` reads when the pixels are not 8/16-bit."""
        return None if self.native else self.raw

    def top(self) -> float:
        if not self.native:
            return float(self.med.max())
        return float(self.med.max()) if self.sign > 0 else -float(self.med.min())

    def _native_cmp(self, a, thr, op):
        """``sign * a op thr`` for ``op`` in (">=", "=="), in ``a``'s dtype."""
        info = np.iinfo(a.dtype)
        if op == "==":
            t = self.sign * thr
            if t != math.floor(t) or not info.min <= t <= info.max:
                return np.zeros(a.shape, bool)
            return a == a.dtype.type(t)
        if self.sign > 0:          # a >= thr  <=>  a >= ceil(thr)
            t = math.ceil(thr)
            if t <= info.min:
                return np.ones(a.shape, bool)
            if t > info.max:
                return np.zeros(a.shape, bool)
            return a >= a.dtype.type(t)
        t = math.floor(-thr)       # -a >= thr  <=>  a <= floor(-thr)
        if t >= info.max:
            return np.ones(a.shape, bool)
        if t < info.min:
            return np.zeros(a.shape, bool)
        return a <= a.dtype.type(t)

    def raw_equal(self, v) -> np.ndarray:
        """Boolean image ``s == v``."""
        if not self.native:
            return self.raw == v
        return self._native_cmp(self.raw, v, "==")

    def count_raw_equal(self, v) -> int:
        return int(np.count_nonzero(self.raw_equal(v)))

    def raw_max_below(self, v) -> float:
        """The largest value of ``s`` below ``v`` (-inf when there is none)."""
        if not self.native:
            rest = self.raw[self.raw < v]
            return float(rest.max()) if rest.size else -math.inf
        a = self.raw
        if self.sign > 0:
            rest = a[a < v] if v <= np.iinfo(a.dtype).max + 1 else a
            return float(rest.max()) if rest.size else -math.inf
        rest = a[a > -v] if -v >= np.iinfo(a.dtype).min - 1 else a
        return -float(rest.min()) if rest.size else -math.inf

    def tail(self, thr) -> "_Tail":
        """The pixels with ``m >= thr``, in row-major order."""
        if self.native:
            idx = np.flatnonzero(self._native_cmp(self.med, thr, ">="))
            m = self.med.ravel()[idx].astype(np.float64)
            s = self.raw.ravel()[idx].astype(np.float64)
            if self.sign < 0:
                np.negative(m, out=m)
                np.negative(s, out=s)
        else:
            idx = np.flatnonzero(self.med.ravel() >= thr)
            m = self.med.ravel()[idx]
            s = self.raw.ravel()[idx]
        return _Tail(idx, m, s, self.med.shape)

    def box32(self, r0, r1, c0, c1) -> np.ndarray:
        """``m[r0:r1, c0:c1]`` as float32."""
        b = self.med[r0:r1, c0:c1].astype(np.float32)
        if self.native and self.sign < 0:
            np.negative(b, out=b)
        return b


class _Tail:
    """Pixels of the band tail: flat indices ``idx`` (row-major) and ``m``, ``s`` there."""

    def __init__(self, idx, m, s, shape):
        self.idx, self.m, self.s, self.shape = idx, m, s, shape

    def thickness(self, sel) -> float:
        """:func:`_thickness` of the image mask holding the tail pixels ``sel``."""
        return _thickness_at(self.idx[sel], self.shape)


def _flat_cores(tail, bs, top, lo, sigma, width, integer, min_area=1):
    """Thick flat regions of the band tail, away from its extreme (method (d)).

    ``tail``: the band tail (:class:`_Tail`, at least ``m >= lo``); ``bs``: the
    image band side up (:class:`_BandSide`); ``top``/``lo``: the extreme and the
    inner end of the band tail.  Returns the positions in ``tail`` of the pixels
    at least ``_CORE_DEPTH`` px inside a region where ``m`` lies in the tail, at
    least one tolerance inside the extreme, and varies by at most the tolerance
    over a 5 x 5 window (row-major); None when fewer than ``min_area`` tail pixels
    could qualify.
    """
    import cv2

    H, W = tail.shape
    pos = np.flatnonzero(tail.m >= lo)   # the band tail (usually few pixels)
    if pos.size < min_area:
        return None
    mv = tail.m[pos]
    resid = tail.s[pos] - mv
    away = mv < top - width          # the noise of the tail, the extreme's pile left out
    r = resid[away] if away.any() else resid
    tail_noise = float(1.4826 * np.median(np.abs(r - np.median(r))))
    tol = _FLAT_SIGMAS * max(sigma, tail_noise, 4.0 / _FLAT_SIGMAS if integer else 0.0)
    if tol <= 0:
        return None
    cpos = pos[mv < top - max(tol, width)]
    if cpos.size < min_area:
        return None
    ci = tail.idx[cpos]
    # only the bounding box of the candidates (plus the 5 x 5 window) matters
    rows, cols = np.divmod(ci, W)
    r0, r1 = max(0, int(rows.min()) - _MEDIAN), min(H, int(rows.max()) + _MEDIAN + 1)
    c0, c1 = max(0, int(cols.min()) - _MEDIAN), min(W, int(cols.max()) + _MEDIAN + 1)
    cand = np.zeros((r1 - r0, c1 - c0), bool)
    cand[rows - r0, cols - c0] = True
    m32 = bs.box32(r0, r1, c0, c1)
    kernel = np.ones((_MEDIAN, _MEDIAN), np.uint8)
    spread = cv2.dilate(m32, kernel) - cv2.erode(m32, kernel)
    flat = cand & (spread <= tol)
    if int(np.count_nonzero(flat)) < min_area:
        return np.zeros(0, np.int64)
    dist = cv2.distanceTransform(np.pad(flat, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    # a core pixel is flat, so a candidate: its place among the candidates (row-major)
    deep = dist[rows - r0, cols - c0] >= _CORE_DEPTH
    return cpos[deep]


def _thickness_at(idx, shape) -> float:
    """:func:`_thickness` of the mask of flat indices ``idx`` in an image of ``shape``."""
    if idx.size == 0:
        return 0.0
    rows, cols = np.divmod(idx, shape[1])
    r0, c0 = int(rows.min()), int(cols.min())
    sub = np.zeros((int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1), bool)
    sub[rows - r0, cols - c0] = True
    return _thickness(sub)


def _thickness(mask) -> float:
    """Largest distance (px) from a pixel of ``mask`` to the nearest pixel outside it."""
    import cv2

    if not mask.any():
        return 0.0
    rows, cols = np.nonzero(np.any(mask, axis=1))[0], np.nonzero(np.any(mask, axis=0))[0]
    sub = mask[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    sub = np.pad(sub, 1).astype(np.uint8)
    return float(cv2.distanceTransform(sub, cv2.DIST_L2, 5).max())


def _median(a, native_dtype=False):
    """5 x 5 median (edges replicated) as float64; OpenCV where it can, else SciPy.

    ``native_dtype``: uint8 / uint16 / float32 input keeps its dtype (exact).
    """
    import cv2

    a = np.asarray(a)
    if a.dtype in (np.uint8, np.uint16, np.float32):
        out = cv2.medianBlur(np.ascontiguousarray(a), _MEDIAN)
        if native_dtype:
            return out
    elif a.dtype.kind in "uif" and np.all(np.abs(a) < 2 ** 24):
        out = cv2.medianBlur(np.ascontiguousarray(a, dtype=np.float32), _MEDIAN)
    else:
        out = ndi.median_filter(a.astype(np.float64), size=_MEDIAN, mode="nearest")
    return out.astype(np.float64)


def saturation_level(gray: ArrayLike, polarity: str, metadata: ImageMetadata | None = None, *,
                     user: float | None = None, detect: bool = True) -> SaturationLevel:
    """The clip level of an image and where it came from.

    Parameters
    ----------
    gray : 2-D array
        Image in raw units.
    polarity : {"dark-on-light", "light-on-dark"}
        Which side the bands are on.
    metadata : ImageMetadata, optional
        Supplies the file's saturation level (see :func:`nominal_level`).
    user : float, optional
        A level given by the user: taken as it is (source ``"user"``).
    detect : bool
        Look for plateaus in the data (:func:`find_plateau`).

    Returns
    -------
    SaturationLevel
        The level, its source, the polarity and the top of the nominal range.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((50, 50), 3000, np.uint16)
    >>> saturation_level(img, "light-on-dark").source
    'dtype'
    >>> saturation_level(img, "light-on-dark", user=2500).level
    2500.0
    """
    _check_polarity(polarity)
    level, source, white = nominal_level(gray, polarity, metadata)
    if user is not None:
        try:
            u = float(user)
        except (TypeError, ValueError):
            raise ParameterError(f"clip_level must be a number (a pixel value), got "
                                 f"{user!r}") from None
        if not math.isfinite(u):
            raise ParameterError(f"clip_level must be a finite number, got {user!r}")
        if u < 0:
            raise ParameterError(f"clip_level must be a pixel value >= 0, got {user!r}")
        dt = np.asarray(gray).dtype
        if dt.kind in "ui" and u > np.iinfo(dt).max:
            # no pixel can reach it: every band would pass as unsaturated
            raise ParameterError(f"clip_level {user!r} is above the largest value a {dt} image "
                                 f"can hold ({np.iinfo(dt).max}); give a level in the image's "
                                 f"own units (0-{np.iinfo(dt).max})")
        return SaturationLevel(u, "user", polarity, white, "given by the user")
    detail = f"{source} nominal level {level:g}"
    if detect:
        found = find_plateau(gray, polarity)
        if found is not None:
            p = found["level"]
            # a floor within its own noise of the nominal level is that level,
            # seen through noise (Poisson scatter around a clip at 0, say)
            slack = max(2.0 * found["noise"], found["width"])
            dist = level - found["floor"] if polarity == "light-on-dark" else found["floor"] - level
            inward = dist > slack and (p < level if polarity == "light-on-dark" else p > level)
            if inward:
                return SaturationLevel(
                    p, "plateau", polarity, white,
                    f"flat-topped regions at {found['floor']:g} (noise {found['noise']:.2g}, "
                    f"{found['area']} px) inside the nominal {source} level {level:g}")
            detail += f"; plateau found at it ({found['area']} px)"
    return SaturationLevel(level, source, polarity, white, detail)


def saturation_mask(gray: ArrayLike, level: SaturationLevel, *,
                    drop_border_frames: bool = True) -> np.ndarray:
    """Boolean image of the saturated pixels (pixel-exact against ``level.level``).

    Parameters
    ----------
    gray : 2-D array
        Image in raw units.
    level : SaturationLevel
        The clip level (:func:`saturation_level`); pixels at or beyond it on
        the band side are saturated.
    drop_border_frames : bool
        For dark bands, clipped regions touching the image border (black scan
        frames, transparent margins) are not bands and are left out.

    Returns
    -------
    numpy.ndarray of bool
        Same shape as ``gray``.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([[0, 200, 200], [200, 0, 200], [200, 200, 200]], np.uint8)
    >>> lv = SaturationLevel(0.0, "dtype", "dark-on-light", 255.0)
    >>> saturation_mask(g, lv).astype(int).tolist()
    [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    """
    g = np.asarray(gray)
    if level.polarity == "light-on-dark":
        return _at_or_beyond(g, level.level, above=True)
    mask = _at_or_beyond(g, level.level, above=False)
    if drop_border_frames and mask.any():
        mask = mask & ~border_frames(mask)
    return mask


def _at_or_beyond(g: np.ndarray, level: float, *, above: bool) -> np.ndarray:
    """``g >= level`` (``above``) or ``g <= level``; integer images compare in their own
    dtype against the level rounded inward (the same mask, 4-5x faster than through
    float64)."""
    if g.dtype.kind in "ui" and math.isfinite(level):
        info = np.iinfo(g.dtype)
        if above:
            t = math.ceil(level)
            if t > info.max:
                return np.zeros(g.shape, bool)
            return g >= g.dtype.type(max(t, info.min))
        t = math.floor(level)
        if t < info.min:
            return np.zeros(g.shape, bool)
        return g <= g.dtype.type(min(t, info.max))
    return g >= level if above else g <= level


def border_frames(mask: ArrayLike) -> np.ndarray:
    """The connected parts of ``mask`` that touch the image border.

    Parameters
    ----------
    mask : array_like of bool
        2-D mask.

    Returns
    -------
    numpy.ndarray of bool
        The pixels of ``mask`` whose connected component (4-connectivity)
        touches the first or last row or column.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[1, 0, 0], [0, 0, 0], [0, 1, 0]], bool)
    >>> m[1, 1] = True
    >>> border_frames(m).astype(int).tolist()
    [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    """
    import cv2

    m = np.asarray(mask, bool)
    if m.ndim != 2:
        lab, n = ndi.label(m)
        if n == 0:
            return np.zeros(m.shape, bool)
        edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]], axis=None))
        edge = edge[edge > 0]
        return np.isin(lab, edge) if len(edge) else np.zeros(m.shape, bool)
    if m.size == 0 or not (m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()):
        return np.zeros(m.shape, bool)
    # a ring of mask pixels around the image joins every part that touches the border:
    # one 4-connected flood fill from the ring marks exactly those parts (the parts
    # scipy.ndimage.label finds with its default cross, without labelling them all)
    ring = np.ones((m.shape[0] + 2, m.shape[1] + 2), np.uint8)
    ring[1:-1, 1:-1] = m
    cv2.floodFill(ring, None, (0, 0), 2, 0, 0, 4)
    return ring[1:-1, 1:-1] == 2
