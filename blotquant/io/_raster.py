"""PNG, JPEG and BMP readers (imagecodecs; RGB channel order).

The image size is read from the file header and checked against the pixel
limit before any pixel is decoded.
"""

from __future__ import annotations

import os
import struct

import imagecodecs
import numpy as np

from ..errors import ImageReadError, UnsupportedImageError
from ._common import Decoded, check_pixels

_PNG_SIG = b"\x89PNG\r\n\x1a\n"


def _corrupt(path, what, err=None):
    msg = f"cannot read this {what} file, it is corrupt or truncated"
    if err is not None:
        msg += f" ({type(err).__name__}: {err})"
    return ImageReadError(msg, path=path)


def _decode(path, fn, raw, what):
    try:
        return fn(raw)
    except MemoryError as err:
        raise ImageReadError("not enough memory to decode this image", path=path) from err
    except Exception as err:
        raise _corrupt(path, what, err) from err


# ------------------------------------------------------------------ PNG
def _png_chunks(raw):
    pos = 8
    while pos + 8 <= len(raw):
        length, ctype = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + length]
        yield ctype, body
        if ctype == b"IEND":
            return
        pos += 12 + length


def read_png(path: str | os.PathLike, raw: bytes, max_pixels: float | None) -> Decoded:
    """Decode a PNG (gray, RGB, palette, with alpha; 8 or 16 bits).

    Parameters
    ----------
    path : str or path-like
        The file, named in errors.
    raw : bytes
        The whole file's content.
    max_pixels : float or None
        Pixel limit, checked on the header before decoding.

    Returns
    -------
    Decoded
        Pixels and header facts (the pHYs pixel size and sBIT significant
        bits when present) for :func:`~blotquant.io._common.finish`.

    Raises
    ------
    ImageReadError
        Corrupt or truncated file, or not enough memory.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    """
    if len(raw) < 33 or raw[12:16] != b"IHDR":
        raise _corrupt(path, "PNG")
    width, height, bits, ctype = struct.unpack(">IIBB", raw[16:26])
    check_pixels(path, (height, width), 1, max_pixels)
    notes, extra, size, sbit, orientation = [], {}, None, None, 1
    for name, body in _png_chunks(raw):
        if name == b"pHYs" and len(body) == 9:
            px, py, unit = struct.unpack(">IIB", body)
            if unit == 1 and px > 0 and py > 0:  # pixels per metre
                size = (1e6 / py, 1e6 / px)
                extra["pixel_size_source"] = "png pHYs"
        elif name == b"sBIT" and body:
            sbit = max(body[:3]) if ctype in (2, 6) else body[0]
        elif name == b"eXIf":      # the Exif TIFF block itself (PNG 1.5)
            orientation = exif_orientation(body)
        elif name == b"IDAT":
            break
    data = _decode(path, imagecodecs.png_decode, raw, "PNG")
    if ctype == 3:
        notes.append("PNG palette applied -> RGB")
    bits_out = data.dtype.itemsize * 8
    sat = None
    if sbit and ctype != 3 and 0 < sbit < bits_out:
        sat = float(2 ** sbit - 1)
        extra["saturation_source"] = "png sBIT"
        bit_depth = sbit
    else:
        bit_depth = bits if ctype != 3 else 8
    return Decoded(data=data, axes="YX" if data.ndim == 2 else "YXS", fmt="png",
                   bit_depth=bit_depth, saturation_level=sat, pixel_size_um=size,
                   conversion=notes, extra=extra, orientation=orientation,
                   alpha="unassociated" if data.ndim == 3 and data.shape[-1] in (2, 4) else None)


# ------------------------------------------------------------------ JPEG
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def exif_orientation(tiff_block: bytes) -> int:
    r"""The Orientation (tag 274) of IFD0 of an Exif TIFF block, 1 when absent or unreadable.

    Parameters
    ----------
    tiff_block : bytes
        The bytes after ``Exif\0\0`` in a JPEG APP1 segment (a TIFF header and IFDs).

    Returns
    -------
    int
        1-8 (EXIF orientation codes); 1 = stored as displayed.

    Examples
    --------
    >>> block = b"II*\x00\x08\x00\x00\x00" + b"\x01\x00" + bytes.fromhex(
    ...     "1201" "0300" "01000000" "0600" "0000") + b"\x00" * 4
    >>> exif_orientation(block), exif_orientation(b"junk")
    (6, 1)
    """
    try:
        order = {b"II": "<", b"MM": ">"}[tiff_block[:2]]
        (ifd,) = struct.unpack(order + "I", tiff_block[4:8])
        (n,) = struct.unpack(order + "H", tiff_block[ifd:ifd + 2])
        for k in range(n):
            e = tiff_block[ifd + 2 + 12 * k: ifd + 14 + 12 * k]
            tag, typ = struct.unpack(order + "HH", e[:4])
            if tag == 274 and typ == 3:
                (v,) = struct.unpack(order + "H", e[8:10])
                return int(v) if 1 <= v <= 8 else 1
    except (KeyError, struct.error, IndexError):
        return 1
    return 1


def _jpeg_header(path, raw):
    pos, size, shape, bits = 2, None, None, 8
    orientation = 1
    while pos + 4 <= len(raw):
        if raw[pos] != 0xFF:
            raise _corrupt(path, "JPEG")
        marker = raw[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        (length,) = struct.unpack(">H", raw[pos + 2:pos + 4])
        body = raw[pos + 4:pos + 2 + length]
        if marker == 0xE1 and body[:6] == b"Exif\x00\x00":
            orientation = exif_orientation(body[6:])
        elif marker == 0xE0 and body[:5] == b"JFIF\x00" and len(body) >= 12:
            units, dx, dy = struct.unpack(">BHH", body[7:12])
            if units in (1, 2) and dx > 0 and dy > 0:
                f = 25400.0 if units == 1 else 10000.0
                size = (f / dy, f / dx)
        elif marker in _SOF and len(body) >= 5:
            bits, h, w = struct.unpack(">BHH", body[:5])
            shape = (h, w)
            break
        elif marker == 0xDA:
            break
        pos += 2 + length
    if shape is None:
        raise _corrupt(path, "JPEG")
    return shape, bits, size, orientation


def read_jpeg(path: str | os.PathLike, raw: bytes, max_pixels: float | None) -> Decoded:
    """Decode a JPEG (gray or RGB; CMYK is refused), marked lossy.

    Parameters
    ----------
    path : str or path-like
        The file, named in errors.
    raw : bytes
        The whole file's content.
    max_pixels : float or None
        Pixel limit, checked on the header before decoding.

    Returns
    -------
    Decoded
        Pixels and header facts (JFIF density as pixel size; saturation
        from the sample precision) for :func:`~blotquant.io._common.finish`.

    Raises
    ------
    ImageReadError
        Corrupt or truncated file, or not enough memory.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    UnsupportedImageError
        CMYK JPEG.
    """
    shape, bits, size, orientation = _jpeg_header(path, raw)
    check_pixels(path, shape, 1, max_pixels)
    # libjpeg decodes a truncated file without complaint (the missing part comes out
    # flat gray): the end-of-image marker must follow the last scan
    if raw.rfind(b"\xff\xd9") < raw.rfind(b"\xff\xda"):
        raise ImageReadError("this JPEG file is truncated (no end-of-image marker after "
                             "its last scan); copy the file again from its source",
                             path=path)
    data = _decode(path, imagecodecs.jpeg_decode, raw, "JPEG")
    if data.ndim == 3 and data.shape[-1] == 4:
        raise UnsupportedImageError("CMYK JPEG is not supported; save the image as RGB or "
                                    "gray", path=path)
    extra = {"pixel_size_source": "jfif density"} if size else {}
    sat = None
    if np.issubdtype(data.dtype, np.integer) and 1 < bits < data.dtype.itemsize * 8:
        sat = float(2 ** bits - 1)  # e.g. 12-bit JPEG decoded into uint16
        extra["saturation_source"] = "jpeg sample precision"
    return Decoded(data=data, axes="YX" if data.ndim == 2 else "YXS", fmt="jpeg",
                   bit_depth=bits, saturation_level=sat, pixel_size_um=size, lossy=True,
                   extra=extra, orientation=orientation)


# ------------------------------------------------------------------ BMP
def read_bmp(path: str | os.PathLike, raw: bytes, max_pixels: float | None) -> Decoded:
    """Decode a BMP (palette applied; a 4th byte that is all 0 is padding).

    Parameters
    ----------
    path : str or path-like
        The file, named in errors.
    raw : bytes
        The whole file's content.
    max_pixels : float or None
        Pixel limit, checked on the header before decoding.

    Returns
    -------
    Decoded
        Pixels and header facts (pixels per metre as pixel size)
        for :func:`~blotquant.io._common.finish`.

    Raises
    ------
    ImageReadError
        Corrupt or truncated file, or not enough memory.
    ImageTooLargeError
        More than ``max_pixels`` pixels.
    UnsupportedImageError
        Unexpected decoded shape.
    """
    if len(raw) < 26:
        raise _corrupt(path, "BMP")
    (hsize,) = struct.unpack("<I", raw[14:18])
    size = None
    if hsize == 12:
        w, h = struct.unpack("<HH", raw[18:22])
        bpp = struct.unpack("<H", raw[24:26])[0]
    else:
        if len(raw) < 46:
            raise _corrupt(path, "BMP")
        w, h, _, bpp = struct.unpack("<iiHH", raw[18:30])
        ppmx, ppmy = struct.unpack("<ii", raw[38:46])
        if ppmx > 0 and ppmy > 0:
            size = (1e6 / ppmy, 1e6 / ppmx)
    check_pixels(path, (abs(h), abs(w)), 1, max_pixels)
    data = _decode(path, imagecodecs.bmp_decode, raw, "BMP")
    if data.ndim not in (2, 3):
        raise UnsupportedImageError(f"BMP decoded to shape {data.shape}", path=path)
    extra = {"pixel_size_source": "bmp pixels per metre"} if size else {}
    notes = ["BMP palette applied"] if bpp <= 8 else []
    if data.ndim == 3 and data.shape[-1] == 4 and not data[..., 3].any():
        data = data[..., :3]  # 32-bit BMP without alpha: the 4th byte is padding
        notes.append("BMP padding byte dropped")
    return Decoded(data=data, axes="YX" if data.ndim == 2 else "YXS", fmt="bmp",
                   bit_depth=8, pixel_size_um=size, conversion=notes, extra=extra,
                   alpha="unassociated" if data.ndim == 3 and data.shape[-1] == 4 else None)


__all__ = ["read_png", "read_jpeg", "read_bmp"]
