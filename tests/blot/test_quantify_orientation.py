"""A blot scanned sideways (lanes left to right) is refused, not read as 2 lanes x 9 rows."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.quantify import gradient_anisotropy
from blotquant.errors import AnalysisError
from blotquant.image import Image
from blotquant.synthetic import make_blot


@pytest.mark.parametrize("seed", range(4))
def test_sideways_blot_is_refused_and_upright_is_measured(seed):
    b = make_blot(seed, shape=(500, 700), n_lanes=6 + seed, tilt_deg=0.5 * seed)
    a = np.asarray(b.to_image().data)
    assert len(quantify_blot(b.to_image()).lanes) == 6 + seed
    for k in (1, 3):
        with pytest.raises(AnalysisError, match="lanes seem to run left to right.*rotate"):
            quantify_blot(Image.from_array(np.ascontiguousarray(np.rot90(a, k))))
    # given lanes: the user has said how many, nothing is refused
    r = quantify_blot(Image.from_array(np.ascontiguousarray(np.rot90(a))), lanes=2)
    assert len(r.lanes) == 2


def test_gradient_anisotropy_flips_with_the_image():
    b = make_blot(0, shape=(400, 600), n_lanes=8)
    a = np.asarray(b.to_image().data, float)
    g = gradient_anisotropy(a)
    assert g > 3 and gradient_anisotropy(a.T) == pytest.approx(1 / g, rel=0.2)


def test_real_camera_blot_turned_sideways_is_refused(shared_blots):
    from blotquant.io import read_image

    im = read_image(shared_blots / "b2ar_jun20_gapdh_16bit.tif")
    a = np.asarray(im.data)
    assert len(quantify_blot(im).lanes) == 18
    with pytest.raises(AnalysisError, match="left to right"):
        quantify_blot(Image.from_array(np.ascontiguousarray(np.rot90(a))))
