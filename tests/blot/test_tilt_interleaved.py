"""A tall strip of two band rows far apart, lanes tilted: the rows' peaks
interleave in the strip's column profile (lanes._interleaved_tilt)."""

import math

import numpy as np
import pytest

from blotquant.blot.lanes import detect_lanes


def _two_rows(tilt_deg, rows=(90, 470), n=12, pitch=36.0, seed=0, H=560, W=520):
    rng = np.random.default_rng(seed)
    img = rng.normal(100.0, 2.0, (H, W)).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W]
    t = math.tan(math.radians(tilt_deg))
    x0 = 0.5 * (W - (n - 1) * pitch)
    for y in rows:
        for i in range(n):
            # lane i's centre at row y (lanes tilt about the image centre row)
            xc = x0 + i * pitch + (y - H / 2) * t
            amp = 400.0 * (0.6 + 0.4 * rng.random())
            img += amp * np.exp(-0.5 * ((yy - y) / 5.0) ** 2) * (np.abs(xx - xc) < 11)
    truth = x0 + pitch * np.arange(n)
    return img, truth


@pytest.mark.parametrize("tilt", [-2.8, -2.2, 2.2, 2.8])
@pytest.mark.parametrize("seed", [0, 1])
def test_tilted_far_rows(tilt, seed):
    img, truth = _two_rows(tilt, seed=seed)
    det = detect_lanes(img, return_details=True)
    assert abs(det.tilt_deg - tilt) < 0.4
    xs = np.sort([ln.x_at(img.shape[0] / 2) for ln in det.lanes])
    assert len(xs) == len(truth)
    assert np.max(np.abs(xs - truth)) < 4.0


def test_untilted_far_rows_stay_untilted():
    img, truth = _two_rows(0.0)
    det = detect_lanes(img, return_details=True)
    assert abs(det.tilt_deg) < 0.2
    assert len(det.lanes) == len(truth)
