"""Other vendors' whole-slide formats (MRXS, NDPI, VMS, BIF, ...) through OpenSlide.

Optional: ``pip install 'blotquant[slides]'`` installs ``openslide-python`` and
``openslide-bin`` (the OpenSlide library as a wheel).  tifffile stays the
reader of SVS, OME-TIFF and generic tiled TIFF; OpenSlide is used for the
formats tifffile does not read (see :data:`OPENSLIDE_SUFFIXES`) or when asked
(``read_openslide``).  Levels are lazy array-likes: indexing one reads that
rectangle with ``read_region`` and composites transparent pixels (outside the
scanned area) on white, so glass and "no data" look the same to tissue
detection.

Examples
--------
>>> _as_slices((slice(0, 4), slice(2, 6)), (10, 10))
(0, 4, 2, 6)
"""

from __future__ import annotations

import numpy as np

from ..errors import ImageReadError, ParameterError, UnsupportedImageError
from ..image import Image, ImageMetadata

__all__ = ["read_openslide", "OpenSlideArray", "OpenSlideLevel", "OPENSLIDE_SUFFIXES",
           "openslide_available"]

#: Suffixes of slide formats that are not TIFF: ``read_image`` opens them with OpenSlide
#: (3DHistech MRXS, Hamamatsu VMS/VMU, DICOM WSI).  TIFF-based ones (SVS, NDPI, Leica SCN,
#: Ventana BIF, Philips TIFF) are read by tifffile; ``read_openslide`` opens any of them.
OPENSLIDE_SUFFIXES = (".mrxs", ".vms", ".vmu", ".dcm")

_MISSING = ("reading this slide format needs OpenSlide: pip install 'blotquant[slides]' "
            "(installs openslide-python and openslide-bin)")


def openslide_available() -> bool:
    """True when ``openslide`` (with its library) can be imported."""
    try:
        import openslide  # noqa: F401
    except Exception:
        return False
    return True


def _module(path=None):
    try:
        import openslide
    except Exception as err:
        raise UnsupportedImageError(_MISSING + f" ({type(err).__name__}: {err})",
                                    path=path) from None
    return openslide


def _as_slices(key, shape):
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(key) + (slice(None),) * (2 - len(key))
    out = []
    for k, n in zip(key[:2], shape):
        if not isinstance(k, slice) or k.step not in (None, 1):
            raise ParameterError("OpenSlide levels support plain [r0:r1, c0:c1] slicing only")
        a, b, _ = k.indices(n)
        out.extend((a, max(a, b)))
    return tuple(out)


def _composite(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4].astype(np.float32) * np.float32(1 / 255)
    rgb = rgba[..., :3].astype(np.float32) * a + np.float32(255) * (1 - a)
    return np.rint(rgb).astype(np.uint8)


class OpenSlideLevel:
    """One level of an OpenSlide slide: ``read(r0, r1, c0, c1)`` -> uint8 RGB."""

    def __init__(self, path, level: int, slide=None):
        osl = _module(path)
        try:
            self.slide = slide if slide is not None else osl.OpenSlide(str(path))
        except Exception as err:
            raise ImageReadError(f"OpenSlide cannot open this slide ({type(err).__name__}: "
                                 f"{err})", path=path) from None
        if not 0 <= level < self.slide.level_count:
            raise ParameterError(f"level {level} does not exist: the slide has "
                                 f"{self.slide.level_count} levels", path=path)
        self.level = int(level)
        w, h = self.slide.level_dimensions[level]
        self.shape = (int(h), int(w))
        self.ds = float(self.slide.level_downsamples[level])
        self.path = str(path)

    def tiles(self):
        return None

    def read(self, r0, r1, c0, c1, hook=None) -> np.ndarray:
        loc = (int(round(c0 * self.ds)), int(round(r0 * self.ds)))
        try:
            img = self.slide.read_region(loc, self.level, (int(c1 - c0), int(r1 - r0)))
        except Exception as err:
            raise ImageReadError(f"OpenSlide cannot read a region ({type(err).__name__}: "
                                 f"{err})", path=self.path) from None
        out = _composite(np.asarray(img))
        return hook(out) if hook is not None else out

    def close(self):
        self.slide.close()


class OpenSlideArray:
    """Lazy (rows, cols, 3) uint8 array-like over one OpenSlide level."""

    dtype = np.dtype(np.uint8)
    ndim = 3

    def __init__(self, level: OpenSlideLevel):
        self._level = level
        self.shape = (*level.shape, 3)

    def __getitem__(self, key):
        r0, r1, c0, c1 = _as_slices(key, self.shape[:2])
        return self._level.read(r0, r1, c0, c1)

    def __array__(self, dtype=None, copy=None):
        a = self[:, :]
        return a if dtype is None else a.astype(dtype)


def read_openslide(path) -> Image:
    """Open a slide with OpenSlide as a lazy pyramid :class:`~blotquant.image.Image`.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    Image
        ``levels``: :class:`OpenSlideArray` per level (RGBA composited on
        white); ``metadata.pixel_size_um`` from ``openslide.mpp-y/x``;
        ``metadata.extra["reader"] == "openslide"``.

    Raises
    ------
    UnsupportedImageError
        OpenSlide is not installed (the message names the ``slides`` extra).
    ImageReadError
        OpenSlide cannot open the file.
    """
    osl = _module(path)
    try:
        slide = osl.OpenSlide(str(path))
    except Exception as err:
        raise ImageReadError(f"OpenSlide cannot open this slide ({type(err).__name__}: {err})",
                             path=path) from None
    levels = tuple(OpenSlideArray(OpenSlideLevel(path, k, slide)) for k in
                   range(slide.level_count))
    props = slide.properties
    ps = None
    try:
        my, mx = float(props.get("openslide.mpp-y")), float(props.get("openslide.mpp-x"))
        if my > 0 and mx > 0:
            ps = (my, mx)
    except (TypeError, ValueError):
        ps = None
    vendor = props.get("openslide.vendor", "unknown")
    md = ImageMetadata(
        path=str(path), format=f"openslide-{vendor}", axes="YXC", dtype="uint8",
        shape=tuple(levels[0].shape), bit_depth=8, saturation_level=255.0, pixel_size_um=ps,
        lossy=True, conversion="opened lazily with OpenSlide; transparent pixels composited "
        "on white", n_levels=len(levels),
        extra={"reader": "openslide", "vendor": vendor,
               "level_shapes": str([tuple(lv.shape) for lv in levels]),
               "pixel_size_source": "openslide.mpp" if ps else None})
    return Image(levels[0], md, levels)
