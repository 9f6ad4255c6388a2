"""The fast paths of the blot engine give the numbers of the plain computations, bit for bit.

Lane centre lines (one row, a few rows, many rows), lane blocks (inside the image,
tilted, curved, partly outside, on bool masks) and the lane data built from them.
The end-to-end identity (every table, parameter and profile of 72 real and
synthetic analyses against the code before the speed work) is in
``docs/benchmarks/blot.md``, round 6.
"""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import Lane
from blotquant.blot.bands import block_at, lane_block
from blotquant.blot.quantify import _LaneData


def _x_ref(c, rows):
    """Lane.x_at before the fast paths: numpy.interp plus end-segment extrapolation."""
    r = np.asarray(rows, dtype=float)
    if len(c) < 2 or c[-1, 0] == c[0, 0]:
        return np.full(r.shape, c[0, 1]) if r.ndim else float(c[0, 1])
    out = np.interp(r, c[:, 0], c[:, 1])
    lo, hi = r < c[0, 0], r > c[-1, 0]
    if np.any(lo) or np.any(hi):
        s0 = (c[1, 1] - c[0, 1]) / max(c[1, 0] - c[0, 0], 1e-9)
        s1 = (c[-1, 1] - c[-2, 1]) / max(c[-1, 0] - c[-2, 0], 1e-9)
        out = np.where(lo, c[0, 1] + (r - c[0, 0]) * s0, out)
        out = np.where(hi, c[-1, 1] + (r - c[-1, 0]) * s1, out)
    return out if r.ndim else float(out)


def _bits(a):
    return np.asarray(a, np.float64).tobytes()


def test_x_at_is_the_interpolation_to_the_bit():
    rng = np.random.default_rng(0)
    for k in range(1500):
        n = int(rng.integers(1, 5 if k % 2 else 25))
        rows = np.sort(rng.uniform(-50, 800, n))
        if n > 1 and k % 5 == 0:
            rows[1] = rows[0]                       # a repeated row
        lane = Lane(1, np.c_[rows, rng.uniform(-100, 1000, n)], 10)
        c = lane.centerline
        singles = [*rng.uniform(-200, 1000, 4), *c[:, 0], float(c[0, 0]) - 1e-12,
                   float(c[-1, 0]) + 1e-12, int(rng.integers(-5, 700)), np.float32(2.5),
                   np.int64(3), np.float64(rng.uniform(0, 600))]
        for q in singles:
            got, ref = lane.x_at(q), _x_ref(c, q)
            assert type(got) is float and _bits(got) == _bits(ref)
        for m in (1, 3, 8, 9, 600):
            q = rng.uniform(-200, 1000, m)
            got, ref = lane.x_at(q), _x_ref(c, q)
            assert got.shape == ref.shape and _bits(got) == _bits(ref)
    assert np.isnan(Lane(1, [[0, 5], [10, 7]], 3).x_at(float("nan")))


def _gather(image, lane, W):
    """The plain gather: rows of the lane, columns x0 .. x0 + W, 0 outside the image."""
    H, Wimg = image.shape
    r = np.arange(max(0, int(np.ceil(lane.top - 1e-6))),
                  min(H, int(np.floor(lane.bottom + 1e-6)) + 1))
    x0 = np.floor(_x_ref(lane.centerline, r.astype(float)) - W / 2.0 + 0.5).astype(int)
    cols = x0[:, None] + np.arange(W)[None, :]
    valid = (cols >= 0) & (cols < Wimg)
    block = np.where(valid, image[r[:, None], np.clip(cols, 0, Wimg - 1)], 0)
    return r, x0, block, valid


@pytest.mark.parametrize("geometry", [
    [[0, 100.3], [199, 100.3]],                      # upright
    [[0, 100.3], [199, 131.7]],                      # tilted
    [[0, 60.0], [90, 75.5], [199, 58.2]],            # curved
    [[-20, 5.0], [230, 12.0]],                       # beyond the top, bottom and left edge
    [[10, 285.0], [150, 296.0]],                     # past the right edge
])
def test_lane_block_is_the_plain_gather(geometry):
    rng = np.random.default_rng(1)
    img = rng.normal(100, 20, (200, 300)).astype(np.float32)
    mask = rng.random((200, 300)) < 0.1
    lane = Lane(1, geometry, 21)
    r, x0, block, valid = lane_block(img, lane)
    rr, xx, ref, vref = _gather(img, lane, 21)
    assert np.array_equal(r, rr) and np.array_equal(x0, xx)
    assert block.dtype == img.dtype and np.array_equal(block, ref) and np.array_equal(valid, vref)
    mb, mv = block_at(mask, r, x0, 21)
    assert np.array_equal(mb & mv, _gather(mask, lane, 21)[2].astype(bool) & vref)
    # a non-contiguous image goes through the window view of NumPy
    wide = np.zeros((200, 600), np.float32)
    wide[:, ::2] = img
    assert np.array_equal(lane_block(wide[:, ::2], lane)[2], block)


@pytest.mark.parametrize("geometry", [[[0, 100.3], [199, 131.7]], [[-20, 5.0], [230, 12.0]]])
def test_lane_data_shortcuts_give_the_full_sums(geometry):
    rng = np.random.default_rng(2)
    img = rng.normal(100, 20, (200, 300)).astype(np.float32)
    sat = np.zeros(img.shape, bool)
    lane = Lane(1, geometry, 21)
    d = _LaneData(lane, img, sat, None, False)
    _, _, block, valid = lane_block(img, lane)
    assert np.array_equal(d.area_rows, valid.sum(axis=1))
    assert d.area_rows.dtype == valid.sum(axis=1).dtype
    assert np.array_equal(d.satrows, np.zeros(valid.shape, bool).sum(axis=1))
    assert d.satrows.dtype == valid.sum(axis=1).dtype
    assert np.array_equal(d.prof, block.sum(axis=1, dtype=np.float64))
    sat[50:60, :] = True
    bg = rng.normal(5, 1, img.shape).astype(np.float32)
    d2 = _LaneData(lane, img, sat, bg)
    _, _, sb, _ = lane_block(sat, lane)
    _, _, bb, _ = lane_block(bg, lane)
    assert np.array_equal(d2.satrows, (sb & valid).sum(axis=1)) and d2.satrows.max() > 0
    assert np.array_equal(d2.bgprof, bb.sum(axis=1, dtype=np.float64))
