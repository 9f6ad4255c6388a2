"""Polarity detection on synthetic arrays and on the six real blots; reading the
real blots (shape, dtype, axes, metadata as the data README describes)."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot.polarity import detect_polarity
from blotquant.errors import ParameterError
from blotquant.image import Image
from blotquant.io import read_image, to_gray


def _synthetic(light_on_dark, *, dtype=np.uint16, band_fraction=0.08, saturate=False,
               specks=0, seed=0, shape=(200, 300)):
    rng = np.random.default_rng(seed)
    hi = float(np.iinfo(dtype).max)
    img = rng.normal(0.06 * hi, 0.01 * hi, shape)  # "amount" background
    rows = int(shape[0] * band_fraction / 0.8)
    signal = np.zeros(shape)
    signal[50:50 + rows, 20:260] = 0.5 * hi * (1.6 if saturate else 1.0)
    img = img + signal
    if specks:
        ys, xs = rng.integers(0, shape[0], specks), rng.integers(0, shape[1], specks)
        img[ys[: specks // 2], xs[: specks // 2]] = hi  # bright specks
        img[ys[specks // 2:], xs[specks // 2:]] = 0  # dark specks
    img = np.clip(img, 0, hi)
    if not light_on_dark:
        img = hi - img
    return img.astype(dtype)


@pytest.mark.parametrize("light", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("kw", [{}, {"saturate": True}, {"specks": 40},
                                {"band_fraction": 0.02}, {"band_fraction": 0.3}])
def test_synthetic_polarity(light, dtype, kw):
    img = _synthetic(light, dtype=dtype, **kw)
    expected = "light-on-dark" if light else "dark-on-light"
    assert detect_polarity(img) == expected
    assert detect_polarity(img.astype(np.float32)) == expected
    assert detect_polarity(Image.from_array(img)) == expected


def test_polarity_flat_nan_and_bad_input():
    assert detect_polarity(np.zeros((5, 5))) == "dark-on-light"
    a = _synthetic(True).astype(float)
    a[0, :10] = np.nan
    assert detect_polarity(a) == "light-on-dark"
    with pytest.raises(ParameterError):
        detect_polarity(np.zeros((3, 4, 3)))
    with pytest.raises(ParameterError):
        detect_polarity(np.full((3, 4), np.nan))


# ------------------------------------------------------------------ real images
CAMERA_16BIT = ["b1ar_target_16bit.tif", "b1ar_gapdh_16bit.tif",
                "b2ar_top_gapdh_bottom_16bit.tif"]


@pytest.mark.realdata
@pytest.mark.parametrize("name", CAMERA_16BIT)
def test_real_16bit_camera(shared_blots, name):
    img = read_image(shared_blots / name)
    md = img.metadata
    assert img.shape == (736, 1092) and md.dtype == "uint16" and md.axes == "YX"
    assert md.format == "tiff" and md.bit_depth == 16 and md.saturation_level == 65535
    assert md.polarity == "light-on-dark" and md.polarity_source == "auto"
    assert md.conversion is None and md.lossy is False


@pytest.mark.realdata
def test_real_atub_rgb_equal_channels(shared_blots):
    img = read_image(shared_blots / "atub_chemi_saturated_rgb.tif")
    md = img.metadata
    # RGB with all channels equal -> gray exactly
    assert img.shape == (897, 1122) and md.dtype == "uint8" and md.axes == "YX"
    assert md.channels_equal is True and "channel 0" in md.conversion
    assert md.polarity == "dark-on-light" and md.saturation_level == 255
    assert int(img.data.min()) == 0  # bands clipped to black
    rgb = read_image(shared_blots / "atub_chemi_saturated_rgb.tif", mode="rgb")
    assert rgb.shape == (897, 1122, 3)
    np.testing.assert_array_equal(rgb.data[..., 1], img.data)


@pytest.mark.realdata
@pytest.mark.parametrize("name,shape", [("flg_film_scan_rgba.tif", (1025, 1072)),
                                        ("gapdh_film_scan_rgba.tif", (796, 1135))])
def test_real_rgba_film_scans(shared_blots, name, shape):
    img = read_image(shared_blots / name)
    md = img.metadata
    # the alpha channel is not opaque everywhere -> composited on white; the colour
    # channels differ (tinted scan), so "auto" keeps RGB (no polarity for colour)
    assert img.shape == shape + (3,) and md.dtype == "uint8" and md.axes == "YXC"
    assert "composited on white" in md.conversion and md.channels_equal is False
    assert md.polarity is None
    gray = to_gray(img)
    assert gray.shape == shape and gray.metadata.polarity == "dark-on-light"
    forced = read_image(shared_blots / name, mode="gray")
    np.testing.assert_array_equal(forced.data, gray.data)
    assert forced.metadata.polarity == "dark-on-light"
    assert "composited on white" in forced.metadata.conversion
    assert "BT.601" in forced.metadata.conversion


@pytest.mark.realdata
def test_real_polarity_all_six(shared_blots):
    expected = {n: "light-on-dark" for n in CAMERA_16BIT}
    expected.update({"flg_film_scan_rgba.tif": "dark-on-light",
                     "gapdh_film_scan_rgba.tif": "dark-on-light",
                     "atub_chemi_saturated_rgb.tif": "dark-on-light"})
    for name, pol in expected.items():
        img = read_image(shared_blots / name, mode="gray")
        assert detect_polarity(img.data) == pol, name
        assert img.metadata.polarity == pol, name
