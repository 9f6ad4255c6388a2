"""Two membrane strips whose lanes are offset by nearly a whole pitch are two strips,
also when the blot is 1 deg askew (``blotquant.blot.lanes``: a whole-pitch shift is
one lane grid only for rows spotted about a pitch apart, as a dot grid's)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from blotquant.blot.lanes import detect_lanes

PITCH = 40


def _two_strips(seed, shift, angle, gap_rows=(110, 290)):
    rng = np.random.default_rng(seed)
    h, w = 400, 560
    yy, xx = np.mgrid[:h, :w].astype(float)
    img = np.zeros((h, w))
    for y, off in zip(gap_rows, (0.0, shift * PITCH)):
        for i in range(9):
            x = 100 + off + PITCH * i
            amp = rng.uniform(700, 1000)
            img += amp * np.exp(-0.5 * (((yy - y) / 7) ** 2 + ((xx - x) / 15) ** 4))
    if angle:
        img = ndi.rotate(img, angle, reshape=False, order=1, mode="nearest")
    img += 100 + rng.normal(0, 4, img.shape)
    return img.astype(np.float32)


def _strip_counts(img):
    det = detect_lanes(img, return_details=True)
    return np.bincount([ln.strip for ln in det.lanes])[1:].tolist()


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shift", [0.88, 0.92, 0.95])
@pytest.mark.parametrize("angle", [0.0, 1.0, -1.0])
def test_near_whole_pitch_offset_strips_stay_apart(seed, shift, angle):
    assert _strip_counts(_two_strips(seed, shift, angle)) == [9, 9]


@pytest.mark.parametrize("seed", range(3))
def test_aligned_rows_of_one_membrane_stay_one_strip(seed):
    # the same rows without an offset are one membrane with two band rows
    assert _strip_counts(_two_strips(seed, 0.0, 1.0)) == [9]


def _dot_rows(seed):
    # a dot grid of 10 columns, rows one pitch (45 px) apart; the upper row's last
    # dot and the lower row's first dot are empty: the rows' dots are shifted by one
    # whole pitch and lie on one grid
    rng = np.random.default_rng(seed)
    h, w = 260, 620
    yy, xx = np.mgrid[:h, :w].astype(float)
    img = np.zeros((h, w))
    p = 45
    for r, cols in ((0, range(0, 9)), (1, range(1, 10)), (2, range(10)), (3, range(10))):
        for c in cols:
            img += rng.uniform(600, 900) * np.exp(
                -0.5 * (((yy - 60 - p * r) / 11) ** 2 + ((xx - 85 - p * c) / 11) ** 2))
    img += 100 + rng.normal(0, 4, img.shape)
    return img.astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_dot_rows_shifted_by_a_whole_pitch_are_one_grid(seed):
    assert _strip_counts(_dot_rows(seed)) == [10]
