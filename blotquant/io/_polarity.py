"""Band polarity (implementation; public home: :mod:`blotquant.blot.polarity`).

Dark bands on a light background, or light bands on dark.

The background is assumed to cover the majority of the pixels, so the median
is a background value.  Bands form a one-sided tail of the intensity
distribution: below the median for dark bands on a light background (film,
inverted chemiluminescence, Coomassie), above it for light bands on a dark
background (raw camera chemiluminescence, fluorescence, phosphor screens).

The decision compares how far the lower and upper tails reach from the
median at several robust percentiles (0.5 %, 1 %, 2 %, 5 % and their upper
counterparts).  A few bright or dark specks (dust, hot pixels) do not move
these percentiles, and saturated bands only lengthen the tail on the band
side, so both are handled.

Examples
--------
>>> import numpy as np
>>> img = np.full((60, 80), 200, np.uint16)
>>> img[20:30, 10:70] = 5000            # bright band on a dark background
>>> detect_polarity(img)
'light-on-dark'
>>> detect_polarity(65535 - img)
'dark-on-light'
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._shared import stats
from .._shared.frames import peel_edge_lines
from ..errors import ParameterError  # noqa: I001
from ..image import POLARITIES, Image

#: Lazy images larger than this (pixels) are not read just to detect polarity.
POLARITY_MAX_LAZY_PIXELS = 16_000_000

__all__ = ["detect_polarity", "POLARITIES"]

#: Percentiles (in %) of the lower tail compared with their mirror images.
_TAIL_PERCENTILES = (0.5, 1.0, 2.0, 5.0)
#: Images larger than this are subsampled on a regular grid first (speed).
_MAX_SAMPLES = 1_000_000


def detect_polarity(gray: ArrayLike | Image) -> str:
    """Decide whether bands are dark on light or light on dark.

    Parameters
    ----------
    gray : array_like, shape (rows, cols)
        Single-channel image in raw units (any real dtype).  An
        :class:`~blotquant.image.Image` is accepted too (its ``data`` is used).
        Non-finite values are ignored.

    Returns
    -------
    str
        ``"dark-on-light"`` or ``"light-on-dark"``.  A perfectly flat or
        perfectly symmetric image gives ``"dark-on-light"`` (the more common
        presentation of blots).

    Raises
    ------
    ParameterError
        If ``gray`` is not 2-D or has no finite pixels.

    Notes
    -----
    For each percentile ``q`` in (0.5, 1, 2, 5) the reach of the upper tail
    ``P(100 - q) - median`` is compared with the reach of the lower tail
    ``median - P(q)``; the normalised differences are summed.  A positive sum
    (upper tail longer) means light bands on a dark background.  Images with
    more than 1e6 pixels are subsampled with a regular stride first.

    Examples
    --------
    >>> import numpy as np
    >>> film = np.full((50, 50), 240, np.uint8)
    >>> film[10:15, 5:45] = 30           # dark band
    >>> film[0, 0] = 255; film[49, 49] = 0   # specks do not matter
    >>> detect_polarity(film)
    'dark-on-light'
    """
    data = getattr(gray, "data", gray) if not isinstance(gray, np.ndarray) else gray
    a = np.asarray(data)
    if a.ndim != 2:
        raise ParameterError(
            f"detect_polarity needs a 2-D single-channel image, got shape {a.shape}; "
            "convert colour images to gray first (blotquant.io.to_gray)")
    a = _inside_flat_frame(a)
    if a.size > _MAX_SAMPLES:
        step = int(np.ceil(np.sqrt(a.size / _MAX_SAMPLES)))
        a = a[::step, ::step]
    qs = np.array(_TAIL_PERCENTILES)
    if stats.is_small_uint(a):
        if a.size == 0:
            raise ParameterError("detect_polarity: the image has no finite pixels")
        # all from one histogram (the same numbers as the float route below)
        p = stats.percentile(a, np.concatenate([qs, 100.0 - qs, [0.0, 50.0, 100.0]]))
        lo, hi, (mn, med, mx) = p[:4], p[4:8], p[8:]
        span = float(mx - mn)
    else:
        a = a.astype(np.float64, copy=False).ravel()
        a = a[np.isfinite(a)]
        if a.size == 0:
            raise ParameterError("detect_polarity: the image has no finite pixels")
        lo = np.percentile(a, qs)
        hi = np.percentile(a, 100.0 - qs)
        med = np.median(a)
        span = float(a.max() - a.min())
    if span == 0:
        return "dark-on-light"
    score = float(np.sum(((hi - med) - (med - lo)) / span))
    return "light-on-dark" if score > 0 else "dark-on-light"


def _inside_flat_frame(a: np.ndarray) -> np.ndarray:
    """``a`` without a flat frame: whole edge rows / columns of pure white or black
    (the dtype's extremes; 0 or 1 for floats: an export's border) peeled off while
    at least 16 x 16 pixels remain, when the lines just inside are mostly of other
    values.

    A frame wider than the blot would otherwise hold the median and turn the
    decision (a white frame around a light-on-dark blot reads as a light
    background with dark bands).
    """
    if a.shape[0] < 3 or a.shape[1] < 3:
        return a
    v = a[0, 0]
    if not (a[0] == v).all() and not (a[:, 0] == v).all() and not (a[-1] == v).all() \
            and not (a[:, -1] == v).all():
        return a
    # the frame's value: that of a whole edge line, and pure white or black (what an
    # export pads with), not a flat background level
    for line in (a[0], a[-1], a[:, 0], a[:, -1]):
        if (line == line[0]).all():
            v = line[0]
            break
    ends = (0, np.iinfo(a.dtype).max) if a.dtype.kind in "ui" else (0.0, 1.0)
    if v not in ends:
        return a
    r0, r1, c0, c1 = peel_edge_lines(a, lambda line: bool((line == v).all()), keep=16)
    # a frame ends at a membrane of another level: the line just inside each peeled side
    # is mostly not the frame's value (a flat, noise-free background peeled down to the
    # first band is no frame: the line beside it is mostly background)
    inner = [a[r0, c0:c1]] if r0 > 0 else []
    inner += [a[r1 - 1, c0:c1]] if r1 < a.shape[0] else []
    inner += [a[r0:r1, c0]] if c0 > 0 else []
    inner += [a[r0:r1, c1 - 1]] if c1 < a.shape[1] else []
    if not inner or any(np.mean(line == v) >= 0.5 for line in inner):
        return a
    return a[r0:r1, c0:c1]
