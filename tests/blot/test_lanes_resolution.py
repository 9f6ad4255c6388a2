"""Lane detection of one film-like blot at another resolution (``blotquant.blot.lanes``).

The text-removing opening of ``foreground`` is set in working px from the lane
pitch (``STROKE_PITCH``), not in image px: the same blot scanned at another
resolution must give the same lanes.  Before, the opening was 30 image px (at half
resolution a third more of a lane: touching bands were cut away, 6-7 lanes for 12;
at 0.7x 7 lanes; at 1.5x a third less: the words stayed and made 22-24 lanes of
their own on three of the four seeds).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from blotquant.blot.lanes import detect_lanes

PITCH = 42
#: three replicate groups of four touching lanes, starting 310 px (7.4 pitches) apart
XS = np.array([g0 + PITCH * i for g0 in (120, 430, 740) for i in range(4)], float)
BAND_Y, TEXT = 450, (200, 232)


def _film(seed):
    """A 1000 x 1072 film-like signal: one row of 12 touching bands (FWHM 26 px at a
    42 px pitch) and, above it, a line of printed words (strokes 5 px thick, letters
    8-24 px wide at random gaps)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((1000, 1072))
    yy, xx = np.mgrid[:1000, :1072]
    for x in XS:
        img += 120 * np.exp(-0.5 * (((yy - BAND_Y) / 9) ** 2 + ((xx - x) / 12) ** 4))
    t0, t1 = TEXT
    x = 100
    while x < 1000:
        for _ in range(rng.integers(3, 7)):
            w = int(rng.integers(8, 25))
            img[t0:t1, x:x + 5] += 110
            img[t0:t0 + 5, x:x + w] += 110
            img[t1 - 5:t1, x:x + w] += 110
            x += w + int(rng.integers(4, 15))
        x += int(rng.integers(40, 90))
    return (img + rng.normal(0, 2, img.shape)).astype(np.float32)


def _scaled(img, f):
    if f == 1:
        return img
    how = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, None, fx=f, fy=f, interpolation=how)


def _lane_x(img, f):
    """Lane centres at the band row, in the original image's px."""
    return np.sort([ln.x_at(BAND_Y * f) / f for ln in detect_lanes(img)])


@pytest.mark.parametrize("seed", range(4))
def test_half_resolution_finds_the_same_lanes(seed):
    img = _film(seed)
    full = _lane_x(img, 1.0)
    half = _lane_x(_scaled(img, 0.5), 0.5)
    assert len(half) == len(full), (len(full), len(half))
    assert np.max(np.abs(half - full)) < 0.25 * PITCH


@pytest.mark.parametrize("f", [0.7, 1.5])
@pytest.mark.parametrize("seed", range(4))
def test_other_resolutions_find_the_12_lanes(seed, f):
    # (as it is, the words of seed 3 still make lanes of their own: 23 lanes, at 0.5x too)
    x = _lane_x(_scaled(_film(seed), f), f)
    assert len(x) == 12, x
    assert np.max(np.abs(x - XS)) < 0.25 * PITCH
