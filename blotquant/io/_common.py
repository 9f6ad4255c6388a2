"""Pieces shared by the format readers: the decoded-image record and the
final step that applies the colour mode, validates pixels and sets polarity."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from ..errors import (ImageTooLargeError, InvalidImageError, ParameterError,
                      UnsupportedImageError)
from ..image import POLARITIES, Image, ImageMetadata
from .._shared.resolution import is_software_default_resolution
from .._shared.color import GRAY_NOTE, channels_equal, composite_on_white, exact_gray, rgb_to_gray

#: Default decompression-bomb guard for images decoded into memory (pixels,
#: i.e. rows x cols x planes; colour samples are not counted).
DEFAULT_MAX_PIXELS = 1_500_000_000

MODES = ("auto", "gray", "rgb")

#: Lazy images whose smallest level has more pixels than this get no
#: automatic polarity (detecting it would read the whole level).


@dataclass
class Decoded:
    """What a format reader hands to :func:`finish`.

    ``axes`` is ``"YX"``, ``"YXS"`` (interleaved samples: 2 = gray+alpha,
    3 = RGB, 4 = RGBA) or ``"CYX"``.
    """

    data: np.ndarray
    axes: str
    fmt: str
    bit_depth: int | None = None
    saturation_level: float | None = None
    pixel_size_um: tuple | None = None
    lossy: bool = False
    conversion: list = field(default_factory=list)
    channel_names: tuple = ()
    extra: dict = field(default_factory=dict)
    alpha: str | None = None  # None | "unassociated" | "associated"
    orientation: int = 1      # Exif Orientation (JPEG, PNG): how the stored rows are shown


#: Exif Orientation codes (those of TIFF tag 274) -> (description, function from the
#: stored array, rows and columns as its first two axes, to the image as displayed).
ORIENTATIONS = {
    2: ("mirrored left-right", lambda a: a[:, ::-1]),
    3: ("rotated 180 degrees", lambda a: a[::-1, ::-1]),
    4: ("mirrored top-bottom", lambda a: a[::-1]),
    5: ("transposed", lambda a: np.swapaxes(a, 0, 1)),
    6: ("rotated 90 degrees clockwise", lambda a: np.swapaxes(a, 0, 1)[:, ::-1]),
    7: ("transversed", lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1]),
    8: ("rotated 90 degrees counter-clockwise", lambda a: np.swapaxes(a, 0, 1)[::-1]),
}


def apply_orientation(data: np.ndarray, axes: str, orientation: int
                      ) -> tuple[np.ndarray, str | None]:
    """The stored pixels turned to how the file says they are displayed.

    Camera and phone JPEGs (and PNGs with an ``eXIf`` chunk) store the
    sensor's rows and say in an Exif Orientation tag how to turn them; every
    viewer applies it, so lane 1 is the lane the user sees on the left only
    once it is applied.  (TIFF Orientation is not applied: ImageJ and gel
    software show TIFFs as stored.)

    Parameters
    ----------
    data : numpy.ndarray
        ``"YX"``/``"YXS"`` (rows, cols first) or ``"CYX"``.
    axes : str
        Its axes.
    orientation : int
        1-8; 1 (or anything else) leaves the data as it is.

    Returns
    -------
    (numpy.ndarray, str or None)
        The turned (contiguous) array and a conversion note, or ``data`` and None.

    Examples
    --------
    >>> a = np.arange(6).reshape(2, 3)
    >>> apply_orientation(a, "YX", 6)[0].tolist()
    [[3, 0], [4, 1], [5, 2]]
    """
    if orientation not in ORIENTATIONS:
        return data, None
    what, fn = ORIENTATIONS[orientation]
    if axes == "CYX":
        out = np.moveaxis(fn(np.moveaxis(data, 0, -1)), -1, 0)
    else:
        out = fn(data)
    return (np.ascontiguousarray(out),
            f"Exif orientation {orientation} applied ({what}): pixels as displayed")


def check_args(mode: str, polarity: str, max_pixels: float | None) -> None:
    """Check the common :func:`~blotquant.io.read_image` arguments before any I/O.

    Parameters
    ----------
    mode : {"auto", "gray", "rgb"}
        Colour mode.
    polarity : {"auto", "dark-on-light", "light-on-dark"}
        Band polarity.
    max_pixels : float or None
        Pixel limit, positive (None: no limit).

    Raises
    ------
    ParameterError
        For any value out of range.
    """
    if mode not in MODES:
        raise ParameterError(f"mode must be one of {MODES}, got {mode!r}")
    if polarity != "auto" and polarity not in POLARITIES:
        raise ParameterError(f"polarity must be 'auto' or one of {POLARITIES}, got {polarity!r}")
    if max_pixels is not None and (not isinstance(max_pixels, (int, float)) or max_pixels <= 0):
        raise ParameterError(f"max_pixels must be a positive number or None, got {max_pixels!r}")


def check_pixels(path: str | os.PathLike | None, shape_yx: tuple[int, int], planes: int,
                 max_pixels: float | None, what: str = "image") -> None:
    """Raise before decoding when rows x cols x planes exceeds ``max_pixels``
    or when the image is empty / a single pixel wide.

    Parameters
    ----------
    path : str, path-like or None
        The file, named in the error.
    shape_yx : (int, int)
        Rows and columns.
    planes : int
        Pages / channels counted as separate images (colour samples are not).
    max_pixels : float or None
        The limit (None: no limit).
    what : str
        What is checked, for the message (``"image"``, ``"level"``, ...).

    Raises
    ------
    InvalidImageError
        Empty, or fewer than 2 rows or columns.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    """
    rows, cols = (int(v) for v in shape_yx)
    if rows == 0 or cols == 0 or planes == 0:
        raise InvalidImageError(f"the {what} is empty ({rows} x {cols} pixels)", path=path)
    if rows < 2 or cols < 2:
        raise InvalidImageError(
            f"the {what} is only {rows} x {cols} pixels; at least 2 x 2 are needed", path=path)
    n = rows * cols * max(int(planes), 1)
    if max_pixels is not None and n > max_pixels:
        raise ImageTooLargeError(
            f"the {what} has {n:,} pixels ({rows} x {cols}"
            + (f" x {planes} planes" if planes > 1 else "")
            + f"), more than the limit of {int(max_pixels):,}; raise max_pixels "
            "(read_image(..., max_pixels=...)) if you trust this file", path=path)


def bits_of(dtype: DTypeLike) -> int:
    """Bits per sample of a dtype.

    Parameters
    ----------
    dtype : dtype-like
        A numpy dtype.

    Returns
    -------
    int
        ``itemsize * 8``.

    Examples
    --------
    >>> bits_of("uint16")
    16
    """
    return np.dtype(dtype).itemsize * 8


def default_saturation(dtype: DTypeLike) -> float:
    """Saturation level assumed when the file states none.

    Parameters
    ----------
    dtype : dtype-like
        Pixel dtype.

    Returns
    -------
    float
        The integer dtype's maximum, ``inf`` for floats.

    Examples
    --------
    >>> default_saturation("uint8"), default_saturation("float32")
    (255.0, inf)
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return math.inf


def _validate_values(path, data):
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    if data.dtype == bool:
        return data.astype(np.uint8), "bilevel (1-bit) image stored as uint8 0/1"
    if np.issubdtype(data.dtype, np.complexfloating):
        raise UnsupportedImageError(f"complex pixel data ({data.dtype}) is not supported",
                                    path=path)
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise UnsupportedImageError(f"pixel type {data.dtype} is not supported", path=path)
    if np.issubdtype(data.dtype, np.floating):
        finite = np.isfinite(data)
        if not finite.all():
            n_nan = int(np.isnan(data).sum())
            n_inf = int(data.size - finite.sum() - n_nan)
            raise InvalidImageError(
                f"the float image contains {n_nan:,} NaN and {n_inf:,} infinite values "
                f"(of {data.size:,}); replace them (e.g. by 0) before analysis", path=path)
    return data, None


PAGE_RULE = "must be a whole number >= 1 (the first image of a file is page 1)"


def check_page(page) -> None:
    """Check a :func:`~blotquant.io.read_image` ``page`` (None or a whole number >= 1).

    Raises
    ------
    ParameterError
        For anything else (0, negative, fractional, text).
    """
    if page is None:
        return
    if isinstance(page, bool) or not isinstance(page, (int, np.integer)) or page < 1:
        raise ParameterError(f"page {PAGE_RULE}, got {page!r}")


def parse_page(text, what: str = "page") -> int | None:
    """A page number typed as text (a command-line option, a sample-sheet cell).

    Parameters
    ----------
    text : str or None
        Empty or None: no page.
    what : str
        Named in the error (``--page``, ``row 3, column 'page'``).

    Returns
    -------
    int or None

    Raises
    ------
    ParameterError
        Not a whole number >= 1.
    """
    t = "" if text is None else str(text).strip()
    if not t:
        return None
    if not t.isdigit() or int(t) < 1:
        raise ParameterError(f"{what}: {PAGE_RULE}, got {text!r}")
    return int(t)


def select_page(path: str | os.PathLike | None, dec: Decoded, page: int | None) -> Decoded:
    """Keep plane ``page`` (1-based) of a channel / page stack (``"CYX"``).

    A file of one image accepts ``page=1`` (and None); asking for another
    page of it, or for a page beyond the stack, is an error that says how
    many images the file holds.  The choice is recorded in
    ``conversion`` and ``extra["page"]``.

    Parameters
    ----------
    path : str, path-like or None
        Named in errors.
    dec : Decoded
        As decoded.
    page : int or None
        1-based plane; None keeps the stack.

    Returns
    -------
    Decoded
        ``dec`` itself, or a copy holding the one plane as ``"YX"``.

    Raises
    ------
    ParameterError
        ``page`` beyond the images the file holds.
    """
    if page is None:
        return dec
    n = dec.data.shape[0] if dec.axes == "CYX" else 1
    if page > n:
        what = f"{n} image planes (pages or channels)" if n > 1 else "one image"
        raise ParameterError(f"page {page} asked for, but the file holds {what}; pages are "
                             f"numbered from 1", path=path)
    if dec.axes != "CYX":
        dec.extra["page"] = 1
        return dec
    from dataclasses import replace
    names = dec.channel_names
    label = f" ({names[page - 1]})" if len(names) == n and names[page - 1] else ""
    extra = dict(dec.extra, page=page, n_pages=n)
    return replace(dec, data=dec.data[page - 1], axes="YX", channel_names=(),
                   conversion=[*dec.conversion, f"page {page} of {n}{label} kept"],
                   extra=extra)


def finish(path: str | os.PathLike | None, dec: Decoded, mode: str, polarity: str,
           page: int | None = None) -> Image:
    """Apply the page choice, alpha handling, the colour ``mode``, validation and polarity.

    Parameters
    ----------
    path : str, path-like or None
        Source file, recorded in the metadata and named in errors.
    dec : Decoded
        What the format reader decoded.
    mode : {"auto", "gray", "rgb"}
        Colour mode (see :func:`~blotquant.io.read_image`).
    polarity : {"auto", "dark-on-light", "light-on-dark"}
        Band polarity; ``"auto"`` detects it on single-channel images.
    page : int or None
        1-based plane of a channel / page stack to keep (:func:`select_page`).

    Returns
    -------
    Image
        The pixels and their metadata; every conversion is listed in
        ``metadata.conversion``.

    Raises
    ------
    InvalidImageError
        NaN or infinite float pixels.
    UnsupportedImageError
        Complex or other unsupported pixel types.
    ParameterError
        ``mode`` cannot be applied to a channel stack.
    """
    from ._polarity import detect_polarity

    dec = select_page(path, dec, page)
    data, axes = dec.data, dec.axes
    notes = list(dec.conversion)
    data, note_orient = apply_orientation(data, axes, dec.orientation)
    size_um = dec.pixel_size_um
    if note_orient:
        notes.append(note_orient)
        if dec.orientation >= 5 and size_um is not None:   # rows and columns swapped
            size_um = (size_um[1], size_um[0])
    data, note = _validate_values(path, data)
    if note:
        notes.append(note)
    eq = None
    sat = dec.saturation_level if dec.saturation_level is not None else default_saturation(data.dtype)

    if axes == "YXS" and data.shape[-1] not in (1, 2, 3, 4):
        data, axes = np.moveaxis(data, -1, 0), "CYX"
        notes.append(f"{data.shape[0]} samples per pixel treated as channels")
    if axes == "YXS" and data.shape[-1] in (2, 4):
        color, alpha = data[..., :-1], data[..., -1]
        amax = default_saturation(alpha.dtype) if np.issubdtype(alpha.dtype, np.integer) else 1.0
        kind = "gray" if color.shape[-1] == 1 else "RGB"
        if bool(np.all(alpha == amax)):
            notes.append(f"{kind}A: alpha fully opaque, dropped")
        else:
            color = composite_on_white(color, alpha, associated=dec.alpha == "associated")
            notes.append(f"{kind}A composited on white ({dec.alpha or 'unassociated'} alpha)")
        data = color
    if axes == "YXS" and data.shape[-1] == 1:
        data, axes = data[..., 0], "YX"
    if axes == "YXS":  # 3 colour channels
        eq = channels_equal(data)
        exact = None if mode == "rgb" else exact_gray(data, equal=eq)
        if mode == "rgb":
            axes = "YXC"
        elif exact is not None:
            (data, note), axes = exact, "YX"
            notes.append(note)
        elif mode == "gray":
            data, axes = rgb_to_gray(data), "YX"
            notes.append(GRAY_NOTE(data.dtype))
        else:
            axes = "YXC"
    elif axes == "YX" and mode == "rgb":
        data, axes = np.repeat(data[..., None], 3, axis=-1), "YXC"
        notes.append("gray replicated to 3 RGB channels (mode='rgb')")
        eq = True
    elif axes == "CYX" and mode != "auto":
        if mode == "rgb" and data.shape[0] == 3:
            data, axes = np.ascontiguousarray(np.moveaxis(data, 0, -1)), "YXC"
            notes.append("3-channel stack taken as R, G, B (mode='rgb')")
        else:
            raise ParameterError(
                f"mode={mode!r} cannot be applied to a {data.shape[0]}-channel stack "
                f"(shape {data.shape}); use mode='auto' and select a channel", path=path)

    pol, src = None, "auto"
    if axes == "YX":
        if polarity != "auto":
            pol, src = polarity, "user"
        else:
            pol = detect_polarity(data)
    elif polarity != "auto":
        pol, src = polarity, "user"

    bit_depth = dec.bit_depth if dec.bit_depth else bits_of(data.dtype)
    extra = dict(dec.extra)
    if note_orient:
        extra["exif_orientation"] = int(dec.orientation)
    size = screen_pixel_size(size_um, extra.get("pixel_size_source"), extra)
    md = ImageMetadata(
        path=None if path is None else str(path), format=dec.fmt, axes=axes,
        dtype=data.dtype.name, shape=tuple(data.shape), bit_depth=int(bit_depth),
        saturation_level=float(sat), pixel_size_um=size, lossy=bool(dec.lossy),
        conversion="; ".join(notes) or None, channels_equal=eq, polarity=pol,
        polarity_source=src, channel_names=tuple(dec.channel_names) if axes == "CYX" else (),
        n_levels=1, extra=extra)
    return Image(data, md)


#: Sources whose unit is a document resolution (dpi-like).
DOCUMENT_SOURCES = ("tiff resolution (inch)", "tiff resolution (cm)", "png pHYs",
                    "jfif density", "bmp pixels per metre",
                    # ImageJ keeps a file's dpi as its scale ("unit=inch"): a document
                    # resolution too, written back into every TIFF ImageJ saves
                    "imagej unit=inch", "imagej unit=in", "imagej unit=cm",
                    "imagej unit=centimeter")


def screen_pixel_size(size: tuple[float, float] | None, source: str | None,
                      extra: dict[str, Any]) -> tuple[float, float] | None:
    """Drop a pixel size that is a software-default document resolution.

    Parameters
    ----------
    size : (float, float) or None
        Pixel size (row, col) in um as the file declares it.
    source : str or None
        Where it came from (``pixel_size_source``).
    extra : dict
        Metadata extras; a note is added when the size is dropped.

    Returns
    -------
    (float, float) or None
        ``size``, or None when it is a document resolution such as 72, 96 or
        300 dpi (treated as "pixel size unknown"; the declared value is kept in
        ``extra["declared_resolution"]``).

    Examples
    --------
    >>> e = {}
    >>> screen_pixel_size((352.8, 352.8), "tiff resolution (inch)", e), e["declared_resolution"]
    (None, '72 dpi (a software default, not a microscope pixel size): pixel size unknown')
    >>> screen_pixel_size((0.25, 0.25), "tiff resolution (cm)", {})
    (0.25, 0.25)
    """
    if size is None or source not in DOCUMENT_SOURCES:
        return size
    if not is_software_default_resolution(size):
        return size
    dpi = 25400.0 / float(size[1])
    extra["declared_resolution"] = (f"{dpi:.0f} dpi (a software default, not a microscope "
                                    "pixel size): pixel size unknown")
    extra.pop("pixel_size_source", None)
    return None


def effective_bits(max_value: float) -> int | None:
    """Bits implied by a max sample value of the form 2**k - 1 (else None).

    Parameters
    ----------
    max_value : float
        Largest sample value a file declares (e.g. TIFF MaxSampleValue).

    Returns
    -------
    int or None
        ``k`` when ``max_value == 2**k - 1``, else None.

    Examples
    --------
    >>> effective_bits(4095), effective_bits(1000)
    (12, None)
    """
    v = int(max_value)
    if v > 0 and v == max_value and (v + 1) & v == 0:
        return v.bit_length()
    return None
