"""``to_gray``: a colour :class:`~blotquant.image.Image` to gray, recorded in its metadata.

The conversions themselves are :mod:`blotquant._shared.color` (one policy).
"""

from __future__ import annotations

import numpy as np

from .._shared.color import GRAY_NOTE, LUMA_BT601, channels_equal, exact_gray, rgb_to_gray
from ..errors import ParameterError
from ..image import Image
from ._polarity import POLARITY_MAX_LAZY_PIXELS, detect_polarity

__all__ = ["LUMA_BT601", "to_gray"]


def _lazy(a):
    import dask.array as da

    from ._tiff import as_zarr
    return da.from_zarr(as_zarr(a)) if not hasattr(a, "dask") else a


def to_gray(image: Image) -> Image:
    """Convert a colour :class:`~blotquant.image.Image` to single-channel gray.

    Conversions (recorded in ``metadata.conversion``):

    - ``"YX"`` images are returned unchanged.
    - ``"YXC"`` with identical colour channels: channel 0 is kept (exact).
    - ``"YXC"`` of one colour (every channel 0 or equal to the others: a gray
      image through a single-colour lookup table): that channel (exact).
    - other ``"YXC"``: ITU-R BT.601 luma ``0.299 R + 0.587 G + 0.114 B``,
      rounded to the input dtype, so the range and saturation level are kept.
    - lazy pyramids (zarr levels) are converted lazily with dask, level by
      level; channel equality is not checked (that would read everything).
    - ``"CYX"`` channel stacks raise :class:`~blotquant.errors.ParameterError`
      (pick a channel instead: ``image.data[i]``).

    Polarity is detected on the result unless it was given by the user.

    Parameters
    ----------
    image : Image
        A ``"YX"`` or ``"YXC"`` image (in memory or a lazy pyramid).

    Returns
    -------
    Image
        A ``"YX"`` image (``image`` itself when it already is one).

    Raises
    ------
    ParameterError
        For ``"CYX"`` stacks or fewer than 3 colour channels.

    Examples
    --------
    >>> import numpy as np
    >>> from blotquant.image import Image
    >>> rgb = np.zeros((4, 4, 3), np.uint8); rgb[..., 0] = 200
    >>> g = to_gray(Image.from_array(rgb))
    >>> g.metadata.axes, int(g.data[0, 0]), g.metadata.conversion
    ('YX', 60, 'RGB -> gray: ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B, rounded to uint8')
    """
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
        data, note = (exact_gray(rgb[..., :3], equal=eq)
                      or (rgb_to_gray(rgb), GRAY_NOTE(rgb.dtype)))
        levels = (data,)
    notes.append(note)
    if md.polarity_source == "user" and md.polarity:
        pol, src = md.polarity, "user"
    else:
        small = levels[-1]
        if not lazy or int(np.prod(small.shape)) <= POLARITY_MAX_LAZY_PIXELS:
            pol, src = detect_polarity(np.asarray(small)), "auto"
        else:
            pol, src = None, "auto"
    new = md.replace(axes="YX", shape=tuple(data.shape), conversion="; ".join(notes),
                     channels_equal=eq, polarity=pol, polarity_source=src, channel_names=())
    return Image(data, new, levels)
