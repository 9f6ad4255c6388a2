"""Bad input: each case raises one documented blotquant error naming the file."""

from __future__ import annotations

import struct
import warnings
import zlib

import imagecodecs
import numpy as np
import pytest
import tifffile

from blotquant.errors import (BlotquantError, ImageReadError, ImageTooLargeError,
                              InvalidImageError, ParameterError, UnsupportedImageError)
from blotquant.io import DEFAULT_MAX_PIXELS, read_image
from blotquant.io.writers import write_biorad_scn


def _raises(cls, path, *words, **kw):
    with pytest.raises(cls) as info:
        read_image(path, **kw)
    msg = str(info.value)
    assert str(path) in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    assert isinstance(info.value, BlotquantError)
    return info.value


def _png_header_only(width, height, bits=8, ctype=0):
    ihdr = struct.pack(">IIBBBBB", width, height, bits, ctype, 0, 0, 0)
    chunk = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(
        ">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    idat = zlib.compress(b"\x00" * 100)
    return (b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", len(idat)) + b"IDAT" + idat
            + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))


def test_missing_file(tmp_path):
    _raises(ImageReadError, tmp_path / "nope.tif", "not found")


def test_directory(tmp_path):
    _raises(ImageReadError, tmp_path, "directory")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.tif"
    p.write_bytes(b"")
    _raises(ImageReadError, p, "empty")


def test_truncated_tiff(tmp_path):
    p = tmp_path / "trunc.tif"
    tifffile.imwrite(p, np.arange(256 * 300, dtype=np.uint16).reshape(256, 300),
                     rowsperstrip=16)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) // 2])
    err = _raises(ImageReadError, p, "truncated")
    assert err.__cause__ is not None  # re-raised from the library error


def test_truncated_compressed_tiff(tmp_path):
    p = tmp_path / "trunc_zlib.tif"
    rng = np.random.default_rng(0)
    tifffile.imwrite(p, rng.integers(0, 60000, (256, 300), dtype=np.uint16),
                     compression="zlib", rowsperstrip=16)
    raw = bytearray(p.read_bytes())
    raw[400:2000] = b"\x00" * 1600  # corrupt compressed strips
    p.write_bytes(bytes(raw))
    _raises(ImageReadError, p, "corrupt")


def test_corrupt_tiff_header(tmp_path):
    p = tmp_path / "bad.tif"
    p.write_bytes(b"II*\x00" + b"\xff" * 60)
    _raises(ImageReadError, p, "TIFF")


def test_truncated_png_and_corrupt_jpeg(tmp_path):
    a = np.random.default_rng(1).integers(0, 255, (64, 64), dtype=np.uint8)
    raw = imagecodecs.png_encode(a)
    p = tmp_path / "t.png"
    p.write_bytes(raw[: len(raw) // 2])
    _raises(ImageReadError, p, "PNG", "corrupt or truncated")
    p = tmp_path / "t.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 30)
    _raises(ImageReadError, p, "JPEG")


def test_unknown_content(tmp_path):
    p = tmp_path / "notes.tif"
    p.write_bytes(b"just some text, not an image\n" * 10)
    _raises(UnsupportedImageError, p, "unrecognised", ".tif")
    p = tmp_path / "blot.1sc"
    p.write_bytes(b"\x00\x01" * 100)
    _raises(UnsupportedImageError, p, "Quantity One")


def test_zero_size_and_one_pixel(tmp_path):
    p = tmp_path / "zero.png"
    p.write_bytes(_png_header_only(0, 10))
    _raises(InvalidImageError, p, "empty")
    p = tmp_path / "zero.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tifffile.imwrite(p, np.zeros((0, 10), np.uint8))
    _raises(InvalidImageError, p, "empty")
    p = tmp_path / "one.tif"
    tifffile.imwrite(p, np.ones((1, 1), np.uint16))
    _raises(InvalidImageError, p, "1 x 1")
    p = tmp_path / "row.tif"
    tifffile.imwrite(p, np.ones((1, 50), np.uint16))
    _raises(InvalidImageError, p, "1 x 50")


def test_unsupported_dimensionality(tmp_path):
    p = tmp_path / "5d.tif"
    tifffile.imwrite(p, np.zeros((2, 2, 2, 8, 8), np.uint8), imagej=True)
    _raises(UnsupportedImageError, p, "dimensionality", "TZCYX")
    _raises(UnsupportedImageError, p, "dimensionality", max_pixels=10)  # header check first
    p = tmp_path / "4d.tif"
    tifffile.imwrite(p, np.zeros((2, 3, 8, 8), np.uint8), imagej=True,
                     metadata={"axes": "ZCYX"})
    _raises(UnsupportedImageError, p, "dimensionality")
    p = tmp_path / "rgbstack.tif"
    tifffile.imwrite(p, np.zeros((2, 8, 8, 3), np.uint8), photometric="rgb")
    _raises(UnsupportedImageError, p, "dimensionality")


def test_complex_pixels(tmp_path):
    p = tmp_path / "c.tif"
    tifffile.imwrite(p, np.zeros((10, 10), np.complex64))
    _raises(UnsupportedImageError, p, "complex")


def test_nan_and_inf(tmp_path):
    a = np.ones((20, 20), np.float32)
    a[0, :3] = np.nan
    a[1, 0] = np.inf
    p = tmp_path / "nan.tif"
    tifffile.imwrite(p, a)
    _raises(InvalidImageError, p, "3 NaN", "1 infinite")


def test_too_large_checked_before_decoding(tmp_path, monkeypatch):
    p = tmp_path / "big.tif"
    tifffile.imwrite(p, np.zeros((40, 50), np.uint8))
    _raises(ImageTooLargeError, p, "2,000 pixels", "limit of 1,000", max_pixels=1000)

    def boom(*a, **k):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", boom)
    _raises(ImageTooLargeError, p, "limit", max_pixels=1000)
    # a PNG 'bomb': the header claims 100000 x 100000 pixels, the data is tiny
    p = tmp_path / "bomb.png"
    p.write_bytes(_png_header_only(100_000, 100_000))
    _raises(ImageTooLargeError, p, f"{int(DEFAULT_MAX_PIXELS):,}")
    # scn and stacks count planes
    p = write_biorad_scn(tmp_path / "s.scn", np.zeros((3, 20, 20), np.uint16))
    _raises(ImageTooLargeError, p, "3 planes", max_pixels=1000)


def test_bad_scn(tmp_path):
    p = tmp_path / "noxml.scn"
    p.write_bytes(b"Generated by Image Lab 6.1\r\nContent-Type: multipart/mixed; "
                  b'boundary="B"\r\n\r\n--B\r\nContent-Type: application/octet-stream\r\n'
                  b"Content-Length: 4\r\n\r\n\x00\x00\x00\x00\r\n--B--\r\n")
    _raises(ImageReadError, p, "no text/xml")
    p = tmp_path / "badxml.scn"
    p.write_bytes(b"Generated by Image Lab 6.1\r\nContent-Type: multipart/mixed; "
                  b'boundary="B"\r\n\r\n--B\r\nContent-Type: text/xml\r\n\r\n<a><b></a>\r\n'
                  b"--B--\r\n")
    _raises(ImageReadError, p, "invalid XML")
    p = tmp_path / "short.scn"
    raw = write_biorad_scn(tmp_path / "ok.scn", np.ones((10, 10), np.uint16)).read_bytes()
    p.write_bytes(raw.replace(b"<size_pix width=\"10\"", b"<size_pix width=\"20\""))
    _raises(ImageReadError, p, "truncated", "200 bytes")


@pytest.mark.parametrize("kw", [{"mode": "grey"}, {"polarity": "dark"}, {"max_pixels": -1}])
def test_bad_parameters(tmp_path, kw):
    p = tmp_path / "g.tif"
    tifffile.imwrite(p, np.zeros((4, 4), np.uint8))
    with pytest.raises(ParameterError):
        read_image(p, **kw)


def test_cmyk_tiff_rejected(tmp_path):
    p = tmp_path / "cmyk.tif"
    tifffile.imwrite(p, np.zeros((8, 8, 4), np.uint8), photometric="separated")
    _raises(UnsupportedImageError, p, "SEPARATED")


def test_mdgel_too_large_and_truncated(tmp_path):
    from blotquant.io.writers import write_mdgel

    p = write_mdgel(tmp_path / "g.gel", np.full((40, 50), 4, np.uint32))
    _raises(ImageTooLargeError, p, "limit", max_pixels=100)
    raw = p.read_bytes()
    q = tmp_path / "t.gel"
    q.write_bytes(raw[:300])
    _raises(ImageReadError, q)
