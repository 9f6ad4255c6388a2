"""TIFF reading: dtypes, colour rules, palette, stacks, metadata."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tifffile

import blotquant
from blotquant.errors import ParameterError
from blotquant.image import Image
from blotquant.io import read_image, to_gray


def _blot(dtype=np.uint16, light_on_dark=True, shape=(60, 80)):
    rng = np.random.default_rng(0)
    hi = np.iinfo(dtype).max if np.issubdtype(dtype, np.integer) else 1.0
    bg, band = (0.05 * hi, 0.6 * hi) if light_on_dark else (0.9 * hi, 0.2 * hi)
    a = np.full(shape, bg, np.float64) + rng.normal(0, 0.01 * hi, shape)
    a[20:28, 10:70] = band
    a = np.clip(a, 0, hi)
    return a.astype(dtype) if np.issubdtype(dtype, np.integer) else a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int16, np.int32,
                                   np.float32, np.float64])
def test_gray_dtypes_roundtrip(tmp_path, dtype):
    a = _blot(dtype)
    p = tmp_path / "g.tif"
    tifffile.imwrite(p, a)
    img = read_image(p)
    assert isinstance(img, Image)
    assert img.data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(img.data, a)
    md = img.metadata
    assert md.axes == "YX" and md.format == "tiff" and md.shape == a.shape
    assert md.bit_depth == np.dtype(dtype).itemsize * 8
    if np.issubdtype(dtype, np.integer):
        assert md.saturation_level == np.iinfo(dtype).max
    else:
        assert md.saturation_level == math.inf
    assert md.polarity == "light-on-dark" and md.polarity_source == "auto"
    assert md.lossy is False and md.path == str(p)


def test_top_level_lazy_export(tmp_path):
    p = tmp_path / "g.tif"
    tifffile.imwrite(p, _blot())
    assert blotquant.read_image is read_image
    assert blotquant.read_image(p).metadata.format == "tiff"


def test_dark_on_light_and_user_polarity(tmp_path):
    p = tmp_path / "film.tif"
    tifffile.imwrite(p, _blot(np.uint8, light_on_dark=False))
    assert read_image(p).metadata.polarity == "dark-on-light"
    md = read_image(p, polarity="light-on-dark").metadata
    assert (md.polarity, md.polarity_source) == ("light-on-dark", "user")


def test_max_sample_value_12bit(tmp_path):
    a = (_blot(np.uint16) >> 4).astype(np.uint16)  # 12-bit values
    p = tmp_path / "12bit.tif"
    tifffile.imwrite(p, a, extratags=[(281, "H", 1, 4095, True)])
    md = read_image(p).metadata
    assert md.saturation_level == 4095 and md.bit_depth == 12
    assert md.extra["saturation_source"] == "MaxSampleValue tag"


def test_max_sample_value_full_range_ignored(tmp_path):
    p = tmp_path / "16.tif"
    tifffile.imwrite(p, _blot(np.uint16), extratags=[(281, "H", 1, 65535, True)])
    assert read_image(p).metadata.saturation_level == 65535


def test_description_bit_depth(tmp_path):
    p = tmp_path / "mm.tif"
    tifffile.imwrite(p, _blot(np.uint16) >> 2, description='{"BitDepth": 14}', metadata=None)
    md = read_image(p).metadata
    assert md.saturation_level == 2**14 - 1 and md.bit_depth == 14


def test_float_smax_sample_value(tmp_path):
    a = _blot(np.float32) * 100
    p = tmp_path / "f.tif"
    tifffile.imwrite(p, a, extratags=[(341, "d", 1, 100.0, True)])
    assert read_image(p).metadata.saturation_level == 100.0


def test_rgb_equal_channels_becomes_gray_exactly(tmp_path):
    g = _blot(np.uint8)
    p = tmp_path / "rgb.tif"
    tifffile.imwrite(p, np.dstack([g, g, g]), photometric="rgb")
    img = read_image(p)
    assert img.metadata.axes == "YX" and img.metadata.channels_equal is True
    np.testing.assert_array_equal(img.data, g)
    assert "channel 0" in img.metadata.conversion
    img = read_image(p, mode="rgb")
    assert img.metadata.axes == "YXC" and img.shape == g.shape + (3,)


def test_rgb_colour_kept_or_forced_gray(tmp_path):
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    p = tmp_path / "c.tif"
    tifffile.imwrite(p, rgb, photometric="rgb")
    img = read_image(p)
    assert img.metadata.axes == "YXC" and img.metadata.channels_equal is False
    assert img.metadata.polarity is None
    np.testing.assert_array_equal(img.data, rgb)
    g = read_image(p, mode="gray")
    expected = round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert g.metadata.axes == "YX" and g.data.dtype == np.uint8
    assert np.all(g.data == expected)
    assert "BT.601" in g.metadata.conversion and g.metadata.saturation_level == 255
    g2 = to_gray(img)
    np.testing.assert_array_equal(g2.data, g.data)
    assert "BT.601" in g2.metadata.conversion and g2.metadata.polarity is not None


def test_planar_rgb(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 255, (3, 20, 30), dtype=np.uint8)
    p = tmp_path / "planar.tif"
    tifffile.imwrite(p, rgb, photometric="rgb", planarconfig="separate")
    img = read_image(p)
    assert img.metadata.axes == "YXC"
    np.testing.assert_array_equal(img.data, np.moveaxis(rgb, 0, -1))


def test_rgba_opaque_dropped_and_transparent_composited(tmp_path):
    g = _blot(np.uint8, light_on_dark=False)
    rgba = np.dstack([g, g, g, np.full_like(g, 255)])
    p = tmp_path / "opaque.tif"
    tifffile.imwrite(p, rgba, photometric="rgb", extrasamples=["unassalpha"])
    img = read_image(p)
    assert img.metadata.axes == "YX" and "opaque" in img.metadata.conversion
    np.testing.assert_array_equal(img.data, g)

    rgba[..., 3] = 0
    rgba[:10, :, 3] = 255
    rgba[10:20, :, 3] = 128
    p = tmp_path / "transp.tif"
    tifffile.imwrite(p, rgba, photometric="rgb", extrasamples=["unassalpha"])
    img = read_image(p)
    assert img.metadata.axes == "YX" and "composited on white" in img.metadata.conversion
    np.testing.assert_array_equal(img.data[:10], g[:10])
    assert np.all(img.data[20:] == 255)
    exp = np.rint(g[10:20] * (128 / 255) + 255 * (1 - 128 / 255)).astype(np.uint8)
    np.testing.assert_array_equal(img.data[10:20], exp)


def test_palette_colour_and_gray(tmp_path):
    idx = np.zeros((20, 30), np.uint8)
    idx[5:10] = 1
    idx[10:15] = 2
    cmap = np.zeros((3, 256), np.uint16)
    cmap[:, 1] = [65535, 0, 0]
    cmap[:, 2] = [0, 257 * 100, 0]
    p = tmp_path / "pal.tif"
    tifffile.imwrite(p, idx, photometric="palette", colormap=cmap)
    img = read_image(p)
    assert img.metadata.axes == "YXC" and img.data.dtype == np.uint8
    assert img.data[6, 0].tolist() == [255, 0, 0] and img.data[11, 0].tolist() == [0, 100, 0]
    assert "palette applied" in img.metadata.conversion

    gray = np.tile(np.arange(256, dtype=np.uint16) * 257, (3, 1))[:, ::-1].copy()  # inverted
    p = tmp_path / "gpal.tif"
    tifffile.imwrite(p, idx, photometric="palette", colormap=gray)
    img = read_image(p)
    assert img.metadata.axes == "YX" and "gray palette" in img.metadata.conversion
    np.testing.assert_array_equal(img.data, 255 - idx)


def test_multichannel_imagej_with_names_and_spacing(tmp_path):
    a = np.stack([_blot(np.uint16), _blot(np.uint16)[::-1]])
    p = tmp_path / "fluo.tif"
    tifffile.imwrite(p, a, imagej=True, resolution=(1 / 0.5, 1 / 0.25),
                     metadata={"axes": "CYX", "unit": "um", "Labels": ["700 nm", "800 nm"]})
    img = read_image(p)
    md = img.metadata
    assert md.axes == "CYX" and img.shape == a.shape
    np.testing.assert_array_equal(img.data, a)
    assert md.channel_names == ("700 nm", "800 nm")
    assert md.pixel_size_um == pytest.approx((0.25, 0.5))
    assert md.polarity is None
    with pytest.raises(ParameterError, match="channel"):
        read_image(p, mode="gray")


def test_multipage_and_ome_channel_names(tmp_path):
    a = np.stack([_blot(np.uint16)] * 3)
    p = tmp_path / "pages.tif"
    for plane in a:
        tifffile.imwrite(p, plane, append=True, metadata=None)
    img = read_image(p)
    assert img.metadata.axes == "CYX" and img.shape == (3, 60, 80)
    p = tmp_path / "ch.ome.tif"
    tifffile.imwrite(p, a, ome=True, metadata={"axes": "CYX", "PhysicalSizeX": 0.5,
                                                "PhysicalSizeY": 0.25,
                                                "Channel": {"Name": ["A", "B", "C"]}})
    md = read_image(p).metadata
    assert md.format == "ome-tiff" and md.channel_names == ("A", "B", "C")
    assert md.pixel_size_um == pytest.approx((0.25, 0.5))
    rgb = read_image(p, mode="rgb")
    assert rgb.metadata.axes == "YXC" and rgb.shape == (60, 80, 3)


@pytest.mark.parametrize("unit,factor", [("CENTIMETER", 1e4), ("INCH", 25400.0)])
def test_resolution_tags(tmp_path, unit, factor):
    p = tmp_path / "res.tif"
    tifffile.imwrite(p, _blot(), resolution=(2000.0, 1000.0), resolutionunit=unit)
    md = read_image(p).metadata
    assert md.pixel_size_um == pytest.approx((factor / 1000.0, factor / 2000.0))
    p = tmp_path / "nores.tif"
    tifffile.imwrite(p, _blot(), resolution=(200.0, 100.0), resolutionunit="NONE")
    assert read_image(p).metadata.pixel_size_um is None
    # 72 dpi (a software default) is no pixel size either, with a note
    p = tmp_path / "dpi72.tif"
    tifffile.imwrite(p, _blot(), resolution=(72.0, 72.0), resolutionunit="INCH")
    md = read_image(p).metadata
    assert md.pixel_size_um is None and "72 dpi" in md.extra["declared_resolution"]


def test_jpeg_compressed_tiff_is_lossy(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    p = tmp_path / "jpeg.tif"
    tifffile.imwrite(p, rgb, photometric="rgb", compression="jpeg")
    md = read_image(p).metadata
    assert md.lossy is True and md.extra["compression"] == "JPEG"
    p = tmp_path / "zlib.tif"
    tifffile.imwrite(p, rgb, photometric="rgb", compression="zlib")
    assert read_image(p).metadata.lossy is False


def test_to_gray_on_gray_and_stack():
    g = Image.from_array(np.zeros((5, 5), np.uint8))
    assert to_gray(g) is g
    with pytest.raises(ParameterError):
        to_gray(Image.from_array(np.zeros((2, 5, 5), np.uint8)))


def test_gray_mode_rgb_replicates(tmp_path):
    p = tmp_path / "g.tif"
    a = _blot(np.uint8)
    tifffile.imwrite(p, a)
    img = read_image(p, mode="rgb")
    assert img.metadata.axes == "YXC" and img.metadata.channels_equal is True
    np.testing.assert_array_equal(img.data[..., 2], a)


def test_leica_style_scn_extension_goes_to_tiff(tmp_path):
    p = tmp_path / "slide.scn"
    tifffile.imwrite(p, _blot(), description="Leica SCN400")
    assert read_image(p).metadata.format == "tiff"


def test_big_endian_becomes_native(tmp_path):
    a = _blot(np.uint16)
    p = tmp_path / "be.tif"
    tifffile.imwrite(p, a, byteorder=">")
    img = read_image(p)
    assert img.data.dtype.isnative and img.data.dtype == np.uint16
    np.testing.assert_array_equal(img.data, a)


def test_several_series_first_read_and_noted(tmp_path):
    p = tmp_path / "two.tif"
    with tifffile.TiffWriter(p) as w:
        w.write(_blot(np.uint16))
        w.write(np.zeros((10, 12, 3), np.uint8), photometric="rgb")
    img = read_image(p)
    assert img.shape == (60, 80) and img.metadata.extra["n_series"] == 2
    assert "first of 2" in img.metadata.conversion
