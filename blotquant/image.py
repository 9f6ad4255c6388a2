"""The in-memory image model shared by readers, core and edges.

An :class:`Image` is the pixel array exactly as stored (dtype and units kept)
plus :class:`ImageMetadata` describing how to interpret it.  Conversions (RGB
to gray, square-root decoding, alpha compositing) are done by the readers
only when documented, and always recorded in ``metadata.conversion``.

Axes conventions
----------------
``"YX"``   single-channel 2-D image (most blots).
``"YXC"``  colour image, C = 3 (RGB) -- IHC and film scans.
``"CYX"``  multi-channel / multi-page stack (e.g. two fluorescence channels).

Coordinates everywhere in blotquant are (row, col).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Image", "ImageMetadata", "POLARITIES"]

#: Band polarities: dark bands on a light background (film, inverted chemi,
#: Coomassie) or light bands on a dark background (fluorescence, raw camera).
POLARITIES = ("dark-on-light", "light-on-dark")


@dataclass(frozen=True)
class ImageMetadata:
    """What a reader learned about an image.

    Attributes
    ----------
    path : str or None
        Source file, if any.
    format : str
        Source format: ``tiff``, ``png``, ``jpeg``, ``bmp``, ``mdgel``,
        ``biorad-scn``, ``svs``, ``ome-tiff``, ``pyramidal-tiff`` or ``array``.
    axes : str
        ``"YX"``, ``"YXC"`` or ``"CYX"`` (see module docstring).
    dtype : str
        NumPy dtype name of ``Image.data``.
    bit_depth : int
        Bits per sample of the stored data (8, 12, 16, 32, ...).
    saturation_level : float
        Value at which the detector saturates, in the units of ``Image.data``
        (255 for 8-bit, 65535 for 16-bit, 4095 for 12-bit data in a 16-bit
        container when the file says so; for float data the max stated by
        the file, else ``inf``).
    pixel_size_um : tuple of float or None
        (row, col) pixel size in micrometres, when the file records it.
    lossy : bool
        True for lossy-compressed sources (JPEG, JPEG-compressed TIFF tiles).
    conversion : str or None
        Human-readable description of any conversion applied while reading
        (e.g. ``"RGB channels equal: kept channel 0 (exact)"``).
    channels_equal : bool or None
        For colour sources: whether all colour channels were identical.
    polarity : str or None
        One of :data:`POLARITIES` for single-channel images, None for colour.
    polarity_source : str
        ``"auto"`` (detected) or ``"user"`` (given to the reader).
    channel_names : tuple of str
        Names of the channels of a ``CYX`` stack (may be empty).
    n_levels : int
        Number of pyramid levels (1 for ordinary images).
    extra : dict
        Format-specific facts (exposure, gain, scanner, MD tags, ...).
    """

    path: str | None = None
    format: str = "array"
    axes: str = "YX"
    dtype: str = "float64"
    shape: tuple = ()
    bit_depth: int = 64
    saturation_level: float = float("inf")
    pixel_size_um: tuple[float, float] | None = None
    lossy: bool = False
    conversion: str | None = None
    channels_equal: bool | None = None
    polarity: str | None = None
    polarity_source: str = "auto"
    channel_names: tuple = ()
    n_levels: int = 1
    extra: dict = field(default_factory=dict)

    def replace(self, **changes: Any) -> "ImageMetadata":
        """Return a copy with some fields changed.

        Parameters
        ----------
        **changes
            New values of fields (e.g. ``polarity="dark-on-light"``).

        Returns
        -------
        ImageMetadata
            A new object; this one is frozen and unchanged.

        Examples
        --------
        >>> ImageMetadata(bit_depth=8).replace(bit_depth=16).bit_depth
        16
        """
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Plain-JSON-friendly dict (for provenance tables and sidecars).

        Returns
        -------
        dict
            Every field; tuples become lists and ``extra`` values that are not
            plain scalars become strings.
        """
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["shape"] = list(self.shape)
        d["pixel_size_um"] = None if self.pixel_size_um is None else list(self.pixel_size_um)
        d["channel_names"] = list(self.channel_names)
        d["extra"] = {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                      for k, v in self.extra.items()}
        return d


@dataclass
class Image:
    """Pixel data plus metadata.

    Attributes
    ----------
    data : numpy.ndarray or array-like
        Level 0 pixels. For whole-slide pyramids this is a lazy array-like
        (zarr array backed by the file's tiles): index it, do not ``np.asarray``
        it whole.
    metadata : ImageMetadata
        How to interpret ``data``.
    levels : sequence of array-like
        All pyramid levels, finest first (``levels[0] is data``).  Ordinary
        images have one level.

    Examples
    --------
    >>> import numpy as np
    >>> img = Image.from_array(np.zeros((4, 5), np.uint16))
    >>> img.metadata.saturation_level, img.metadata.axes
    (65535.0, 'YX')
    """

    data: Any
    metadata: ImageMetadata
    levels: Sequence[Any] = ()

    def __post_init__(self):
        if not self.levels:
            self.levels = (self.data,)

    @property
    def shape(self) -> tuple:
        """Shape of ``data`` (level 0)."""
        return tuple(self.data.shape)

    @property
    def is_pyramid(self) -> bool:
        """True when the image has more than one level."""
        return len(self.levels) > 1

    @classmethod
    def from_array(cls, array: ArrayLike, *, saturation_level: float | None = None,
                   pixel_size_um: tuple[float, float] | None = None,
                   polarity: str | None = None) -> "Image":
        """Wrap an in-memory array (no file) with inferred metadata.

        Parameters
        ----------
        array : array-like
            Pixels. 3-D arrays with 3 or 4 values on the last axis are
            ``"YXC"``, other 3-D arrays ``"CYX"``, else ``"YX"``.
        saturation_level : float, optional
            Default: the dtype's maximum for integers, ``inf`` for floats.
        pixel_size_um : (float, float), optional
            (row, col) pixel size in micrometres.
        polarity : str, optional
            One of :data:`POLARITIES`; recorded with ``polarity_source="user"``.

        Returns
        -------
        Image
            ``format="array"``, ``bit_depth`` = bits of the dtype.
        """
        a = np.asarray(array)
        if a.ndim == 3 and a.shape[-1] in (3, 4):
            axes = "YXC"
        elif a.ndim == 3:
            axes = "CYX"
        else:
            axes = "YX"
        if saturation_level is None:
            if np.issubdtype(a.dtype, np.integer):
                saturation_level = float(np.iinfo(a.dtype).max)
            else:
                saturation_level = float("inf")
        bits = a.dtype.itemsize * 8
        return cls(a, ImageMetadata(
            format="array", axes=axes, dtype=a.dtype.name, shape=a.shape,
            bit_depth=bits, saturation_level=float(saturation_level),
            pixel_size_um=None if pixel_size_um is None else tuple(map(float, pixel_size_um)),
            polarity=polarity, polarity_source="user" if polarity else "auto"))
