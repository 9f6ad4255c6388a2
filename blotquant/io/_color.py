"""Colour handling shared by all readers: alpha compositing, RGB -> gray.

All conversions are recorded in ``ImageMetadata.conversion`` by the callers.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from ..image import Image

__all__ = ["LUMA_BT601", "composite_on_white", "rgb_to_gray", "channels_equal", "to_gray"]

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


def composite_on_white(color: np.ndarray, alpha: np.ndarray, *, associated: bool = False):
    """Composite ``color`` (..., C) over a white background using ``alpha``.

    White is the dtype's maximum (1.0 for float data); so is full opacity.
    Integer results are rounded to the input dtype.  ``associated=True`` means
    the colour is premultiplied by alpha (TIFF ExtraSamples = 1).

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


def channels_equal(rgb) -> bool:
    """True when all channels of a (..., C) array are identical.

    Examples
    --------
    >>> import numpy as np
    >>> channels_equal(np.dstack([np.eye(3)] * 3))
    True
    """
    rgb = np.asarray(rgb)
    return all(np.array_equal(rgb[..., 0], rgb[..., i]) for i in range(1, rgb.shape[-1]))


def rgb_to_gray(rgb, weights=LUMA_BT601):
    """Weighted sum of the first three channels, rounded back to the input dtype.

    Works on numpy arrays and on lazy arrays (dask); the result keeps the
    dtype (and so the saturation level) of the input: integer results are
    rounded to nearest and clipped.

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


def _lazy(a):
    import dask.array as da
    return da.from_zarr(a) if not hasattr(a, "dask") else a


def to_gray(image: Image) -> Image:
    """Convert a colour :class:`~blotquant.image.Image` to single-channel gray.

    Conversions (recorded in ``metadata.conversion``):

    - ``"YX"`` images are returned unchanged.
    - ``"YXC"`` with identical colour channels: channel 0 is kept (exact).
    - other ``"YXC"``: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``,
      rounded to the input dtype, so the range and saturation level are kept.
    - lazy pyramids (zarr levels) are converted lazily with dask, level by
      level; channel equality is not checked (that would read everything).
    - ``"CYX"`` channel stacks raise :class:`~blotquant.errors.ParameterError`
      (pick a channel instead: ``image.data[i]``).

    Polarity is detected on the result unless it was given by the user.

    Examples
    --------
    >>> import numpy as np
    >>> from blotquant.image import Image
    >>> rgb = np.zeros((4, 4, 3), np.uint8); rgb[..., 0] = 200
    >>> g = to_gray(Image.from_array(rgb))
    >>> g.metadata.axes, int(g.data[0, 0]), g.metadata.conversion
    ('YX', 60, 'RGB -> gray: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, rounded to uint8')
    """
    from ._polarity import detect_polarity

    md = image.metadata
    if md.axes == "YX":
        return image
    if md.axes != "YXC":
        raise ParameterError(
            f"to_gray needs a colour (YXC) image, got axes {md.axes!r} with shape "
            f"{tuple(image.shape)}; select one channel instead (image.data[i])",
            path=md.path)
    if image.shape[-1] < 3:
        raise ParameterError(f"to_gray needs 3 colour channels, got {image.shape[-1]}",
                             path=md.path)
    lazy = not isinstance(image.data, np.ndarray)
    notes = [md.conversion] if md.conversion else []
    if lazy:
        levels = tuple(rgb_to_gray(_lazy(lv)) for lv in image.levels)
        data, eq = levels[0], md.channels_equal
        note = (f"RGB -> gray (lazy): ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, "
                f"rounded to {np.dtype(md.dtype).name}")
    else:
        rgb = np.asarray(image.data)
        eq = channels_equal(rgb[..., :3])
        if eq:
            data = np.ascontiguousarray(rgb[..., 0])
            note = "RGB channels equal: kept channel 0 (exact)"
        else:
            data = rgb_to_gray(rgb)
            note = (f"RGB -> gray: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, "
                    f"rounded to {rgb.dtype.name}")
        levels = (data,)
    notes.append(note)
    if md.polarity_source == "user" and md.polarity:
        pol, src = md.polarity, "user"
    else:
        from ._common import POLARITY_MAX_LAZY_PIXELS
        small = levels[-1]
        if not lazy or int(np.prod(small.shape)) <= POLARITY_MAX_LAZY_PIXELS:
            pol, src = detect_polarity(np.asarray(small)), "auto"
        else:
            pol, src = None, "auto"
    new = md.replace(axes="YX", shape=tuple(data.shape), conversion="; ".join(notes),
                     channels_equal=eq, polarity=pol, polarity_source=src, channel_names=())
    return Image(data, new, levels)
