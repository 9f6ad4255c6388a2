"""Flat-colour drawings on a gray blot (a box drawn in an image editor) are not bands."""

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.annotations import fill_annotations, flat_colour_annotations
from blotquant.synthetic import make_blot


def _rgb(b):
    g = b.image
    return np.dstack([g, g, g])


def _boxed(rgb, colour=(91, 155, 213)):
    """A solid box drawn over the empty membrane above the rows, antialiased rim."""
    a = rgb.copy()
    a[40:110, 250:700] = colour
    rim = np.zeros(a.shape[:2], bool)
    rim[39:111, 249:701] = True
    rim[40:110, 250:700] = False
    a[rim] = (0.5 * a[rim].astype(float) + 0.5 * np.array(colour)).astype(np.uint8)
    return a


@pytest.mark.parametrize("seed, pol", [(1, "dark-on-light"), (2, "light-on-dark")])
def test_a_drawn_box_makes_no_row_and_keeps_the_numbers(seed, pol):
    b = make_blot(seed, n_lanes=8, dtype="uint8", polarity=pol, row_y=(270, 450))
    plain = quantify_blot(_rgb(b), rows=["ASNS", "ACTB"])
    boxed = quantify_blot(_boxed(_rgb(b)), rows=["ASNS", "ACTB"])   # main: ParameterError (3 rows)
    assert len(boxed.lanes) == len(plain.lanes) == 8
    np.testing.assert_allclose(boxed.lanes["x"], plain.lanes["x"], atol=1.0)
    # the fill is flat where the membrane had its gradient and texture: lane extents and
    # backgrounds move a little (<= 2.6 % on these seeds), no band is lost or invented
    np.testing.assert_allclose(boxed.bands["volume"], plain.bands["volume"], rtol=0.03)
    assert "flat-colour drawing" in boxed.metadata.conversion
    assert "exact" in boxed.metadata.conversion


def test_mask_finds_the_fill_and_its_rim_only():
    b = make_blot(1, n_lanes=8, dtype="uint8", polarity="dark-on-light")
    a = _boxed(_rgb(b))
    m = flat_colour_annotations(a)
    assert m[40:110, 250:700].all() and m[39, 400] and m[110, 400]
    assert m.sum() == (72 * 452)
    assert not flat_colour_annotations(_rgb(b)).any()
    g = fill_annotations(a[..., 0], m)
    assert abs(float(g[60, 400]) - float(np.median(a[..., 0][120:140, 250:700]))) < 6


def test_smooth_colour_is_not_a_drawing():
    """A colorimetric blot (purple bands on a whitish membrane, noise) keeps its bands."""
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:200, 0:300]
    band = np.exp(-((yy - 100) / 8.0) ** 2) * (np.abs(((xx % 60) - 30)) < 18)
    base = np.array([235, 232, 236.0]) - band[..., None] * np.array([120, 170, 90.0])
    rgb = np.clip(base + rng.normal(0, 1.5, base.shape), 0, 255).astype(np.uint8)
    assert (rgb.max(-1).astype(int) - rgb.min(-1)).max() >= 60       # strongly coloured bands
    assert not flat_colour_annotations(rgb).any()
