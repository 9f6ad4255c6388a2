"""Writers for the scanner formats blotquant reads (tests, synthetic samples).

- :func:`write_mdgel` -- GE / Molecular Dynamics ``.gel`` (TIFF + MD tags).
- :func:`write_biorad_scn` -- the Bio-Rad Image Lab ``.scn`` layout that
  :func:`blotquant.read_image` reads (documented in ``docs/io.md``).

Both round-trip exactly through :func:`blotquant.read_image` for integer data
(``.gel`` square-root encoding: when the counts are ``stored**2 * scale``).
Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import tifffile

from .._version import __version__
from ..errors import ParameterError

__all__ = ["write_mdgel", "write_biorad_scn"]


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; rename it to ``path`` on success.

    Parameters
    ----------
    path : Path
        The final file; its folder is created if needed.

    Yields
    ------
    Path
        The temporary file to write (deleted if the block raises).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fraction(scale) -> Fraction:
    if isinstance(scale, tuple) and len(scale) == 2:
        f = Fraction(int(scale[0]), int(scale[1]))
    else:
        f = Fraction(scale).limit_denominator(2**31 - 1)
    if f <= 0 or f.numerator > 2**32 - 1 or f.denominator > 2**32 - 1:
        raise ParameterError(f"scale must be a positive rational < 2**32, got {scale!r}")
    return f


def write_mdgel(path: str | os.PathLike, counts: Any, *,
                scale: int | float | Fraction | tuple[int, int] = 1, sqrt: bool = True, exact: bool = True,
                lab_name: str = "blotquant", sample_info: str = "", prep_date: str = "",
                prep_time: str = "", file_units: str = "Counts",
                pixel_size_um: float | tuple | None = None) -> Path:
    """Write a GE / Molecular Dynamics ``.gel`` file (TIFF with MD private tags).

    Parameters
    ----------
    path : str or path-like
        Output file (conventionally ``*.gel``).
    counts : array_like, shape (rows, cols)
        Linear scanner counts (non-negative).
    scale : int, float, Fraction or (num, den), default 1
        MD_ScalePixel. With ``sqrt=True`` the file stores
        ``stored = sqrt(counts / scale)`` (uint16) and readers compute
        ``counts = stored**2 * scale``.
    sqrt : bool, default True
        True: MD_FileTag 2 (square-root encoded); False: MD_FileTag 128
        (linear; counts stored as uint16, scale only recorded).
    exact : bool, default True
        Raise :class:`~blotquant.errors.ParameterError` if a value cannot be
        stored exactly (not ``n**2 * scale`` for sqrt files, not an integer in
        0..65535 for linear files).  False rounds to the nearest stored value,
        as a scanner does.
    lab_name, sample_info, prep_date, prep_time, file_units : str
        MD_LabName, MD_SampleInfo, MD_PrepDate, MD_PrepTime, MD_FileUnits.
        ``prep_date``/``prep_time`` default to now.
    pixel_size_um : float or (row, col), optional
        Written as X/YResolution in pixels per centimetre.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import numpy as np, tempfile, os, blotquant
    >>> stored = np.array([[0, 10], [200, 65535]], np.uint64)
    >>> counts = stored ** 2                     # scale 1: exact integers
    >>> p = write_mdgel(os.path.join(tempfile.mkdtemp(), "a.gel"), counts)
    >>> img = blotquant.read_image(p)
    >>> img.data.tolist() == counts.tolist(), img.metadata.saturation_level
    (True, 4294836225.0)
    """
    a = np.asarray(counts)
    if a.ndim != 2:
        raise ParameterError(f"counts must be 2-D, got shape {a.shape}")
    if a.size and (not np.all(np.isfinite(a)) or a.min() < 0):
        raise ParameterError("counts must be finite and non-negative")
    f = _fraction(scale)
    if sqrt:
        stored = np.rint(np.sqrt(a.astype(np.float64) * f.denominator / f.numerator))
        if stored.size and stored.max() > 65535:
            raise ParameterError(f"the stored values would exceed 65535 (max "
                                 f"{stored.max():.0f}); use a larger scale")
        if np.issubdtype(a.dtype, np.integer):
            # exact integer check: stored**2 * num == counts * den (Python ints if needed)
            s_ = stored.astype(np.uint64)
            if a.size and int(a.max()) * f.denominator >= 2**63:
                lhs = s_.astype(object) ** 2 * f.numerator
                ok = bool(np.all(lhs == a.astype(object) * f.denominator))
            else:
                ok = np.array_equal(s_ * s_ * np.uint64(f.numerator),
                                    a.astype(np.uint64) * np.uint64(f.denominator))
        else:
            ok = bool(np.all(stored ** 2 * f.numerator / f.denominator == a))
        if exact and not ok:
            raise ParameterError(
                "counts are not all of the form n**2 * scale, so square-root encoding is "
                "not exact; pass exact=False to round like a scanner does")
        tag = 2
    else:
        stored = np.rint(a.astype(np.float64))
        if exact and not np.array_equal(stored, a):
            raise ParameterError("linear .gel files store integers; pass exact=False to round")
        tag = 128
    if stored.size and stored.max() > 65535:
        raise ParameterError(f"the stored values exceed 65535 (max {stored.max():.0f}); "
                             "use a larger scale")
    stored = stored.astype(np.uint16)
    now = _dt.datetime.now()
    ramp = np.arange(256, dtype=np.uint16) * 257
    extratags = [
        (33445, 4, 1, tag, True),
        (33446, 5, 1, (f.numerator, f.denominator), True),
        (33447, 3, ramp.size, tuple(int(v) for v in ramp), True),
        (33448, 2, 0, lab_name or " ", True),
        (33449, 2, 0, sample_info or " ", True),
        (33450, 2, 0, prep_date or now.strftime("%y/%m/%d"), True),
        (33451, 2, 0, prep_time or now.strftime("%H:%M"), True),
        (33452, 2, 0, file_units or " ", True),
    ]
    kw = {}
    if pixel_size_um is not None:
        ry, rx = (pixel_size_um, pixel_size_um) if np.isscalar(pixel_size_um) else pixel_size_um
        kw = dict(resolution=(1e4 / float(rx), 1e4 / float(ry)), resolutionunit="CENTIMETER")
    path = Path(path)
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, stored, photometric="minisblack", extratags=extratags,
                         metadata=None, **kw)
    return path


def write_biorad_scn(path: str | os.PathLike, array: Any, *, pixel_size_mm: float | tuple | None = 0.05,
                     max_value: float | None = None, exposure_s: float | None = 1.0,
                     gain: float | None = 1.0, binning: str | None = "1x1",
                     imager: str | None = "blotquant synthetic imager",
                     date: str | None = None, byte_order: str = "little",
                     newline: str = "\r\n") -> Path:
    """Write a Bio-Rad Image Lab style ``.scn`` file in the layout blotquant reads.

    Parameters
    ----------
    path : str or path-like
        Output file (conventionally ``*.scn``).
    array : array_like, shape (rows, cols) or (channels, rows, cols)
        Integer pixels in 0..65535 (0..255 when ``max_value <= 256``).
    pixel_size_mm : float or (row, col) or None, default 0.05
        Pixel size in millimetres; the file stores the image size in mm.
    max_value : float, optional
        The scanner's max value (= saturation level). Default 255 for uint8
        input, else 65535. ``<= 256`` stores 8-bit pixels, else 16-bit.
    exposure_s, gain, binning, imager, date : optional
        Acquisition facts stored in the XML (``date`` defaults to now, ISO 8601).
    byte_order : {"little", "big"}
        Byte order of 16-bit pixels (recorded in the XML).
    newline : {"\\r\\n", "\\n"}
        Line ending of the MIME headers.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import numpy as np, tempfile, os, blotquant
    >>> a = np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000
    >>> p = write_biorad_scn(os.path.join(tempfile.mkdtemp(), "b.scn"), a, max_value=4095 * 4)
    >>> img = blotquant.read_image(p)
    >>> np.array_equal(img.data, a), img.metadata.saturation_level, img.metadata.pixel_size_um
    (True, 16380.0, (50.0, 50.0))
    """
    a = np.asarray(array)
    if a.ndim not in (2, 3):
        raise ParameterError(f"array must be (rows, cols) or (channels, rows, cols), got {a.shape}")
    if a.ndim == 2:
        a = a[None]
    if max_value is None:
        max_value = 255.0 if a.dtype == np.uint8 else 65535.0
    if not 1 <= max_value <= 65536:
        raise ParameterError(f"max_value must be in 1..65536, got {max_value!r}")
    if byte_order not in ("little", "big"):
        raise ParameterError(f"byte_order must be 'little' or 'big', got {byte_order!r}")
    if newline not in ("\r\n", "\n"):
        raise ParameterError("newline must be '\\r\\n' or '\\n'")
    dtype = np.dtype(np.uint8) if max_value <= 256 else np.dtype(
        ("<" if byte_order == "little" else ">") + "u2")
    if a.size and (a.min() < 0 or a.max() > np.iinfo(dtype).max
                   or not np.array_equal(a, np.rint(a))):
        raise ParameterError(f"pixel values must be integers in 0..{np.iinfo(dtype).max}")
    pixels = a.astype(dtype).tobytes(order="C")
    c, h, w = a.shape
    fields = [
        f'  <byte_order>{byte_order}-endian</byte_order>',
        f"  <channels>{c}</channels>",
        f'  <size_pix width="{w}" height="{h}"/>',
        f"  <max_value>{max_value:g}</max_value>",
    ]
    if pixel_size_mm is not None:
        py, px = ((pixel_size_mm, pixel_size_mm) if np.isscalar(pixel_size_mm)
                  else pixel_size_mm)
        fields.append(f'  <size_mm width="{float(px) * w!r}" height="{float(py) * h!r}"/>')
    for name, value in (("exposure_s", exposure_s), ("gain", gain), ("binning", binning),
                        ("imager", imager)):
        if value is not None:
            fields.append(f"  <{name}>{escape(str(value))}</{name}>")
    date = date or _dt.datetime.now().replace(microsecond=0).isoformat()
    fields.append(f"  <date>{escape(date)}</date>")
    fields.append(f"  <application>blotquant {__version__}</application>")
    xml = ('<?xml version="1.0" encoding="utf-8"?>\n<scn_info>\n' + "\n".join(fields)
           + "\n</scn_info>\n").encode("utf-8")
    nl = newline.encode()
    boundary = f"blotquant-scn-{uuid.uuid4().hex}".encode()

    def part(ctype: bytes, body: bytes) -> bytes:
        return (b"--" + boundary + nl + b"Content-Type: " + ctype + nl
                + b"Content-Length: " + str(len(body)).encode() + nl + nl + body + nl)

    out = (b"Generated by Image Lab (layout written by blotquant " + __version__.encode()
           + b")" + nl + b"MIME-Version: 1.0" + nl
           + b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + nl + nl
           + part(b"text/xml", xml) + part(b"application/octet-stream", pixels)
           + b"--" + boundary + b"--" + nl)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(out)
    return path

