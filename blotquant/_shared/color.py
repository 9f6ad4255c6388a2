"""The one colour policy: alpha compositing on white, RGB -> gray, channel equality.

Pure array functions used by the readers (:mod:`blotquant.io`), the blot
engine (a colour blot handed over as an array) and the IHC engine (RGBA
fields).  Every conversion is recorded in ``ImageMetadata.conversion`` (or the
result's params) by the callers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike


__all__ = ["LUMA_BT601", "composite_on_white", "rgb_to_gray", "channels_equal", "GRAY_NOTE",
           "single_colour_channel", "SINGLE_COLOUR_NOTE", "EQUAL_NOTE", "exact_gray"]

#: ITU-R BT.601 luma weights (R, G, B) used by ``mode="gray"`` / :func:`to_gray`.
LUMA_BT601 = (0.299, 0.587, 0.114)


def _max_of(dtype) -> float:
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def _cast_like(values: np.ndarray, dtype) -> np.ndarray:
    """Round and clip float results back into an integer dtype's range."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)


def composite_on_white(color: np.ndarray, alpha: np.ndarray, *,
                       associated: bool = False) -> np.ndarray:
    """Composite ``color`` (..., C) over a white background using ``alpha``.

    White is the dtype's maximum (1.0 for float data); so is full opacity.
    Integer results are rounded to the input dtype.  ``associated=True`` means
    the colour is premultiplied by alpha (TIFF ExtraSamples = 1).

    Parameters
    ----------
    color : numpy.ndarray
        Colour channels, shape (..., C).
    alpha : numpy.ndarray
        Opacity, shape (...); full opacity is the maximum of its dtype (1.0
        for float data).
    associated : bool, optional
        Whether ``color`` is premultiplied by alpha.

    Returns
    -------
    numpy.ndarray
        The composited colour, same shape and dtype as ``color``.

    Examples
    --------
    >>> import numpy as np
    >>> rgb = np.array([[[0, 0, 0], [100, 50, 0]]], np.uint8)
    >>> a = np.array([[0, 255]], np.uint8)
    >>> composite_on_white(rgb, a).tolist()
    [[[255, 255, 255], [100, 50, 0]]]
    """
    white = _max_of(color.dtype)
    a = alpha.astype(np.float64)[..., None] / _max_of(alpha.dtype)
    c = color.astype(np.float64)
    out = c + white * (1.0 - a) if associated else c * a + white * (1.0 - a)
    return _cast_like(out, color.dtype)


def channels_equal(rgb: ArrayLike) -> bool:
    """True when all channels of a (..., C) array are identical.

    Parameters
    ----------
    rgb : array_like
        Array whose last axis holds the channels.

    Returns
    -------
    bool
        Whether every channel equals the first one.

    Examples
    --------
    >>> import numpy as np
    >>> channels_equal(np.dstack([np.eye(3)] * 3))
    True
    """
    rgb = np.asarray(rgb)
    return all(np.array_equal(rgb[..., 0], rgb[..., i]) for i in range(1, rgb.shape[-1]))


def single_colour_channel(rgb: ArrayLike) -> int | None:
    """The channel that carries a one-colour rendering of a gray image, or None.

    A gray image shown through a single-colour lookup table (ImageJ's Green,
    Red, Cyan, Magenta, Yellow; a green fluorescence export) is stored as RGB
    where every channel is either 0 everywhere or equal to the gray value: the
    gray image is that channel, exactly.  Images whose channels are all equal
    are not this case (see :func:`channels_equal`).

    Parameters
    ----------
    rgb : array_like
        Array whose last axis holds 3 colour channels.

    Returns
    -------
    int or None
        Index of the first non-zero channel when the rule holds (at least one
        channel is 0 everywhere and the others are identical and not constant),
        else None.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> single_colour_channel(np.dstack([0 * g, g, 0 * g]))
    1
    >>> single_colour_channel(np.dstack([g, g, 0 * g]))   # yellow
    0
    >>> single_colour_channel(np.dstack([g, g + 1, 0 * g])) is None
    True
    """
    rgb = np.asarray(rgb)
    if rgb.ndim < 3 or rgb.shape[-1] != 3:
        return None
    zero = [not rgb[..., i].any() for i in range(3)]
    if not any(zero) or all(zero):
        return None
    live = [i for i in range(3) if not zero[i]]
    first = rgb[..., live[0]]
    if first.min() == first.max():   # a flat colour field: no gray image to recover
        return None
    if all(np.array_equal(first, rgb[..., i]) for i in live[1:]):
        return live[0]
    return None


def SINGLE_COLOUR_NOTE(channel: int) -> str:  # noqa: N802 (a message template)
    """The conversion note of :func:`single_colour_channel` (one wording)."""
    return (f"RGB of one colour (a gray image through a single-colour lookup table): "
            f"kept channel {channel} ({'RGB'[channel]}), exact")


#: The conversion note of an RGB image whose channels are all equal.
EQUAL_NOTE = "RGB channels equal: kept channel 0 (exact)"


def exact_gray(rgb: ArrayLike, equal: bool | None = None) -> tuple[np.ndarray, str] | None:
    """The gray image an RGB array holds exactly, with its conversion note, or None.

    Channels all equal: channel 0 (:data:`EQUAL_NOTE`); one colour
    (:func:`single_colour_channel`): that channel.  Otherwise None: the caller
    converts (luma, :func:`rgb_to_gray`) or keeps the colour.  ``equal``: the
    result of :func:`channels_equal` when the caller has it already.

    Examples
    --------
    >>> import numpy as np
    >>> g = np.arange(12, dtype=np.uint8).reshape(3, 4)
    >>> exact_gray(np.dstack([0 * g, g, 0 * g]))[1]
    'RGB of one colour (a gray image through a single-colour lookup table): kept channel 1 (G), exact'
    >>> exact_gray(np.dstack([g, g + 1, g])) is None
    True
    """
    rgb = np.asarray(rgb)
    if channels_equal(rgb) if equal is None else equal:
        return np.ascontiguousarray(rgb[..., 0]), EQUAL_NOTE
    ch = single_colour_channel(rgb)
    if ch is not None:
        return np.ascontiguousarray(rgb[..., ch]), SINGLE_COLOUR_NOTE(ch)
    return None


def rgb_to_gray(rgb: Any, weights: ArrayLike = LUMA_BT601) -> Any:
    """Weighted sum of the first three channels, rounded back to the input dtype.

    Works on numpy arrays and on lazy arrays (dask); the result keeps the
    dtype (and so the saturation level) of the input: integer results are
    rounded to nearest and clipped.

    Parameters
    ----------
    rgb : numpy.ndarray or dask.array.Array
        Colour image, shape (..., C) with C >= 3.
    weights : array_like, optional
        Weights of the R, G and B channels (default: ITU-R BT.601 luma).

    Returns
    -------
    numpy.ndarray or dask.array.Array
        The gray image, shape (...), same dtype and same array kind as
        ``rgb``.

    Examples
    --------
    >>> import numpy as np
    >>> rgb_to_gray(np.array([[[255, 255, 255], [255, 0, 0]]], np.uint8)).tolist()
    [[255, 76]]
    """
    dtype = np.dtype(rgb.dtype)
    w = np.asarray(weights, np.float64)
    if isinstance(rgb, np.ndarray):
        g = rgb[..., 0] * w[0] + rgb[..., 1] * w[1] + rgb[..., 2] * w[2]
        return _cast_like(np.asarray(g, np.float64), dtype)
    g = (rgb[..., 0].astype(np.float64) * w[0] + rgb[..., 1].astype(np.float64) * w[1]
         + rgb[..., 2].astype(np.float64) * w[2])
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        import dask.array as da
        return da.clip(da.rint(g), info.min, info.max).astype(dtype)
    return g.astype(dtype)


def GRAY_NOTE(dtype: DTypeLike) -> str:  # noqa: N802 (a message template)
    """The conversion note of :func:`rgb_to_gray` for an input ``dtype``.

    Parameters
    ----------
    dtype : numpy.dtype or str
        Dtype of the converted image.

    Returns
    -------
    str
        The note recorded with the conversion.

    Examples
    --------
    >>> GRAY_NOTE("uint8")
    'RGB -> gray: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, rounded to uint8'
    """
    return (f"RGB -> gray: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, "
            f"rounded to {np.dtype(dtype).name}")
