"""Grey morphology by a disk as a chain of smaller kernels equals OpenCV's single call.

Round 10: a digital disk is often the Minkowski sum of a smaller disk and a few
points, and dilating (eroding) by each in turn is dilating (eroding) by their
sum.  These tests compare :mod:`blotquant.ihc._morph` with ``cv2.dilate`` /
``cv2.erode`` / ``cv2.morphologyEx`` on random images, value for value.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from blotquant.ihc import _morph
from blotquant.ihc.nuclei import _disk
from blotquant.ihc.scale import _disk as _scale_disk


def _sum(a: np.ndarray, b: np.ndarray) -> set:
    ra, rb = a.shape[0] // 2, b.shape[0] // 2
    pa = [(y - ra, x - ra) for y, x in zip(*np.nonzero(a))]
    pb = [(y - rb, x - rb) for y, x in zip(*np.nonzero(b))]
    return {(p[0] + q[0], p[1] + q[1]) for p in pa for q in pb}


@pytest.mark.parametrize("radius", [4.5, 5.0, 6.0, 6.8, 8.0, 9.3, 12.0])
def test_parts_add_up_to_the_disk_and_cost_less(radius):
    disk = _disk(radius)
    parts = _morph.kernel_parts(disk)
    assert len(parts) >= 2  # these disks do decompose
    total = {(0, 0)}
    for k in parts:
        total = {(p[0] + q[0], p[1] + q[1]) for p in total for q in _sum(k, np.ones((1, 1)))}
    r = disk.shape[0] // 2
    assert total == {(y - r, x - r) for y, x in zip(*np.nonzero(disk))}
    assert sum(int(k.sum()) for k in parts) < int(disk.sum()) / 2


def test_small_or_odd_kernels_are_used_whole():
    for k in (_disk(1.0), _disk(2.0), np.ones((3, 5), np.uint8), _disk(16.0)):
        assert len(_morph.kernel_parts(k)) == 1
    asym = _disk(8.0).copy()
    asym[0, 8] = 0  # no longer symmetric
    assert len(_morph.kernel_parts(asym)) == 1


@pytest.mark.parametrize("seed", range(8))
def test_chain_equals_the_single_call(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(v) for v in rng.integers(5, 90, 2))
    img = (rng.random(shape) * 3 - 1).astype(np.float32)
    if seed % 3 == 0:
        img = (img * 80 + 100).astype(np.uint8)
    for r in (5.0, 6.0, 8.0, 6.8):
        for k in (_disk(r), _scale_disk(r)):
            for border in (cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT, cv2.BORDER_REFLECT_101):
                for op in (cv2.dilate, cv2.erode):
                    np.testing.assert_array_equal(_morph.morph(op, img, k, border),
                                                  op(img, k, borderType=border))
                np.testing.assert_array_equal(_morph.closing(img, k, border),
                                              cv2.morphologyEx(img, cv2.MORPH_CLOSE, k, borderType=border))
                np.testing.assert_array_equal(_morph.opening(img, k, border),
                                              cv2.morphologyEx(img, cv2.MORPH_OPEN, k, borderType=border))
