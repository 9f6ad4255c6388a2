"""PNG/JPEG/BMP, GE .gel and Bio-Rad .scn reading (files written in tmp_path)."""

from __future__ import annotations

import struct
import zlib

import cv2
import imagecodecs
import numpy as np
import pytest

from blotquant.errors import ImageReadError, ParameterError
from blotquant.io import read_image
from blotquant.io.writers import write_biorad_scn, write_mdgel


def _png_with_chunks(arr, chunks):
    """PNG bytes with extra ancillary chunks inserted before the first IDAT."""
    raw = imagecodecs.png_encode(arr)
    i = raw.index(b"IDAT") - 4
    extra = b""
    for name, body in chunks:
        extra += struct.pack(">I", len(body)) + name + body + struct.pack(
            ">I", zlib.crc32(name + body) & 0xFFFFFFFF)
    return raw[:i] + extra + raw[i:]


def _bands(dtype=np.uint8, dark=True, shape=(40, 60)):
    hi = np.iinfo(dtype).max
    a = np.full(shape, int(hi * 0.9) if dark else int(hi * 0.05), dtype)
    a[10:16, 5:55] = int(hi * 0.2) if dark else int(hi * 0.7)
    return a


# ------------------------------------------------------------------ PNG / JPEG / BMP
def test_png_gray16_sbit_phys(tmp_path):
    a = (_bands(np.uint16, dark=False) >> 4).astype(np.uint16)
    p = tmp_path / "x.png"
    p.write_bytes(_png_with_chunks(a, [(b"sBIT", bytes([12])),
                                       (b"pHYs", struct.pack(">IIB", 20000, 10000, 1))]))
    img = read_image(p)
    md = img.metadata
    np.testing.assert_array_equal(img.data, a)
    assert md.format == "png" and md.dtype == "uint16" and md.axes == "YX"
    assert md.saturation_level == 4095 and md.bit_depth == 12
    assert md.pixel_size_um == pytest.approx((100.0, 50.0))
    assert md.polarity == "light-on-dark" and md.lossy is False


def test_png_rgb_palette_and_rgba(tmp_path):
    from PIL import Image as PILImage

    idx = np.zeros((20, 30), np.uint8)
    idx[5:10] = 1
    im = PILImage.fromarray(idx, "P")
    im.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    p = tmp_path / "pal.png"
    im.save(p)
    img = read_image(p)
    assert img.metadata.axes == "YXC" and img.data[6, 0].tolist() == [200, 0, 0]
    assert "palette" in img.metadata.conversion

    g = _bands()
    rgba = np.dstack([g, g, g, np.full_like(g, 255)])
    rgba[0:5, :, 3] = 0
    p = tmp_path / "rgba.png"
    p.write_bytes(imagecodecs.png_encode(rgba))
    img = read_image(p)
    assert img.metadata.axes == "YX" and img.metadata.channels_equal is True
    assert np.all(img.data[:5] == 255)
    np.testing.assert_array_equal(img.data[5:], g[5:])


def test_jpeg_is_lossy_rgb_order_and_dpi(tmp_path):
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[..., 0] = 250  # red
    p = tmp_path / "x.jpg"
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    raw = bytearray(buf.tobytes())
    # JFIF APP0 is right after SOI: set density units to dpi, 300 x 300
    assert raw[6:11] == b"JFIF\x00"
    raw[13:18] = struct.pack(">BHH", 1, 300, 300)
    p.write_bytes(bytes(raw))
    img = read_image(p)
    md = img.metadata
    assert md.format == "jpeg" and md.lossy is True and md.axes == "YXC"
    assert img.data[..., 0].mean() > 240 and img.data[..., 2].mean() < 10  # RGB, not BGR
    # 300 dpi is a software default, not a pixel size: unknown, with a note
    assert md.pixel_size_um is None
    assert md.extra["declared_resolution"].startswith("300 dpi")
    # a real scanner resolution in dpi is kept (1200 dpi = 21.17 um)
    raw[13:18] = struct.pack(">BHH", 1, 1200, 1200)
    p.write_bytes(bytes(raw))
    assert read_image(p).metadata.pixel_size_um == pytest.approx((25400 / 1200, 25400 / 1200))


def test_bmp_gray_and_colour(tmp_path):
    g = _bands()
    p = tmp_path / "g.bmp"
    cv2.imwrite(str(p), g)
    img = read_image(p)
    assert img.metadata.format == "bmp" and img.metadata.axes == "YX"
    np.testing.assert_array_equal(img.data, g)
    assert img.metadata.polarity == "dark-on-light"
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 2] = 77
    cv2.imwrite(str(tmp_path / "c.bmp"), rgb[..., ::-1])
    img = read_image(tmp_path / "c.bmp")
    assert img.metadata.axes == "YXC" and img.data[0, 0].tolist() == [0, 0, 77]


def test_content_not_extension(tmp_path):
    g = _bands()
    p = tmp_path / "really_png.tif"
    p.write_bytes(imagecodecs.png_encode(g))
    assert read_image(p).metadata.format == "png"


# ------------------------------------------------------------------ GE / MD .gel
def test_mdgel_sqrt_scale_one_exact_integers(tmp_path):
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 65536, (30, 40)).astype(np.uint64)
    stored[0, 0] = 65535
    counts = stored**2
    p = write_mdgel(tmp_path / "a.gel", counts, lab_name="Lab X", sample_info="ASNS blot",
                    pixel_size_um=50.0)
    img = read_image(p)
    md = img.metadata
    assert md.format == "mdgel" and img.data.dtype == np.uint32
    np.testing.assert_array_equal(img.data, counts)
    assert md.saturation_level == 65535**2
    assert "stored^2" in md.conversion
    assert md.extra["MD_FileTag"] == 2 and md.extra["MD_ScalePixel"] == "1/1"
    assert md.extra["MD_LabName"] == "Lab X" and md.extra["MD_SampleInfo"] == "ASNS blot"
    assert md.extra["MD_FileUnits"] == "Counts" and "MD_PrepDate" in md.extra
    assert md.pixel_size_um == pytest.approx((50.0, 50.0))


def test_mdgel_sqrt_rational_scale_float(tmp_path):
    stored = np.arange(0, 65536, 97, dtype=np.float64)[:600].reshape(20, 30)
    scale = (1, 21025)
    counts = stored**2 / 21025
    p = write_mdgel(tmp_path / "b.gel", counts, scale=scale)
    img = read_image(p)
    assert img.data.dtype == np.float64
    np.testing.assert_array_equal(img.data, counts)
    assert img.metadata.saturation_level == pytest.approx(65535**2 / 21025)
    assert img.metadata.extra["MD_ScalePixel"] == "1/21025"


def test_mdgel_integer_scale_and_linear(tmp_path):
    stored = np.arange(600, dtype=np.uint64).reshape(20, 30) * 100
    p = write_mdgel(tmp_path / "c.gel", stored**2 * 3, scale=3)
    img = read_image(p)
    assert img.data.dtype == np.uint64
    np.testing.assert_array_equal(img.data, stored**2 * 3)
    lin = (np.arange(600, dtype=np.uint16).reshape(20, 30) * 100).astype(np.uint16)
    p = write_mdgel(tmp_path / "d.gel", lin, sqrt=False)
    img = read_image(p)
    assert img.data.dtype == np.uint16 and img.metadata.saturation_level == 65535
    np.testing.assert_array_equal(img.data, lin)
    assert img.metadata.extra["MD_FileTag"] == 128 and img.metadata.conversion is None


def test_mdgel_writer_refuses_inexact(tmp_path):
    with pytest.raises(ParameterError, match="not exact"):
        write_mdgel(tmp_path / "e.gel", np.full((4, 4), 2, np.uint32))
    p = write_mdgel(tmp_path / "e.gel", np.full((4, 4), 2, np.uint32), exact=False)
    assert np.all(read_image(p).data == 1)


# ------------------------------------------------------------------ Bio-Rad .scn
def test_scn_roundtrip_16bit(tmp_path):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 4096, (50, 70), dtype=np.uint16)
    p = write_biorad_scn(tmp_path / "chemi.scn", a, pixel_size_mm=(0.1, 0.05),
                         max_value=4095, exposure_s=12.5, gain=2, binning="4x4",
                         imager="ChemiDoc MP", date="2024-05-01T10:00:00")
    assert b"Generated by Image Lab" in p.read_bytes()[:100]
    img = read_image(p)
    md = img.metadata
    np.testing.assert_array_equal(img.data, a)
    assert img.data.dtype == np.uint16 and md.format == "biorad-scn" and md.axes == "YX"
    assert md.saturation_level == 4095 and md.bit_depth == 12
    assert md.pixel_size_um == pytest.approx((100.0, 50.0))
    assert md.extra["exposure_s"] == 12.5 and md.extra["gain"] == 2.0
    assert md.extra["binning"] == "4x4" and md.extra["imager"] == "ChemiDoc MP"
    assert md.extra["date"] == "2024-05-01T10:00:00"


def test_scn_8bit_bigendian_lf_lowercase_multichannel(tmp_path):
    a8 = np.arange(2 * 20 * 30, dtype=np.uint32).reshape(2, 20, 30) % 256
    p = write_biorad_scn(tmp_path / "x.scn", a8.astype(np.uint8), max_value=255,
                         newline="\n")
    raw = p.read_bytes().replace(b"Content-Type", b"content-type").replace(
        b"Content-Length", b"CONTENT-LENGTH")
    p.write_bytes(raw)
    img = read_image(p)
    assert img.data.dtype == np.uint8 and img.metadata.axes == "CYX"
    np.testing.assert_array_equal(img.data, a8)
    a16 = (np.arange(600, dtype=np.uint16).reshape(20, 30) * 101).astype(np.uint16)
    p = write_biorad_scn(tmp_path / "be.scn", a16, byte_order="big")
    img = read_image(p)
    np.testing.assert_array_equal(img.data, a16)
    assert img.data.dtype == np.uint16 and img.data.dtype.isnative
    assert img.metadata.extra["byte_order"] == "big"


def test_scn_without_content_length(tmp_path):
    a = (np.arange(400, dtype=np.uint16).reshape(20, 20) * 7).astype(np.uint16)
    p = write_biorad_scn(tmp_path / "n.scn", a)
    raw = p.read_bytes()
    import re
    raw = re.sub(rb"Content-Length: \d+\r\n", b"", raw)
    p.write_bytes(raw)
    np.testing.assert_array_equal(read_image(p).data, a)


def test_scn_truncated(tmp_path):
    a = np.ones((20, 20), np.uint16)
    p = write_biorad_scn(tmp_path / "t.scn", a)
    raw = p.read_bytes()
    p.write_bytes(raw[: len(raw) - 300])
    with pytest.raises(ImageReadError) as err:
        read_image(p)
    assert str(p) in str(err.value) and "truncated" in str(err.value)


def test_metadata_as_dict_is_json(tmp_path):
    import json

    from blotquant.provenance import jsonable

    paths = [write_mdgel(tmp_path / "a.gel", np.full((4, 5), 9, np.uint32)),
             write_biorad_scn(tmp_path / "b.scn", np.ones((4, 5), np.uint16))]
    for p in paths:
        d = read_image(p).metadata.as_dict()
        json.loads(json.dumps(jsonable(d)))
        assert d["path"] == str(p) and d["shape"] == [4, 5]
