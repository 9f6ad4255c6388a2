"""The hematoxylin detector on the foreground pixels gives what the image steps gave.

Round 10 (20x speed) fills the holes of the foreground by flooding the border
background instead of labelling all of it, and keeps the labels of the
foreground pixels as a vector between the outline refinement, the shape split
and the final relabelling (values gathered once, no label image per step).
Each test compares the new code with a plain whole-image version of the same
rule, written here (scipy's hole filling, the image-based refinement and split).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage as ndi

from blotquant.ihc import nuclei
from blotquant.ihc.nuclei import (_coarse, _fill_holes, _flood_multi, _label8, _label_max, _refine,
                                  _refine_keep, _split_by_shape, segment_nuclei)


def _rings_and_blobs(seed: int, shape=(150, 210)):
    """A random mask with holes: rings (some cut by the border), disks and specks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    fg = rng.random(shape) < 0.02
    for _ in range(25):
        cy, cx = rng.uniform(-8, shape[0] + 8), rng.uniform(-8, shape[1] + 8)
        r = rng.uniform(3, 14)
        d = np.hypot(yy - cy, xx - cx)
        fg |= (d <= r) & (d >= r - rng.uniform(1, 3)) if rng.random() < 0.6 else d <= r
    return fg


@pytest.mark.parametrize("seed", range(6))
def test_fill_holes_equals_scipy(seed):
    fg = _rings_and_blobs(seed)
    want = ndi.binary_fill_holes(fg)  # background 4-connected (cross structure)
    assert (want & ~fg).sum() > 50  # there are holes to fill
    np.testing.assert_array_equal(_fill_holes(fg), want)


@pytest.mark.parametrize("fg", [np.zeros((5, 7), bool), np.ones((5, 7), bool),
                                np.pad(np.zeros((3, 3), bool), 1, constant_values=True),
                                np.array([[True, False, True, False, False]]),
                                np.eye(6, dtype=bool)[:, ::-1] | np.eye(6, dtype=bool)])
def test_fill_holes_corner_cases(fg):
    np.testing.assert_array_equal(_fill_holes(fg), ndi.binary_fill_holes(fg))


def _blobs(seed: int, shape=(170, 230), n=70):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    val = np.zeros(shape, np.float32)
    for _ in range(n):
        cy, cx = rng.uniform(-5, shape[0] + 5), rng.uniform(-5, shape[1] + 5)
        r = rng.uniform(3, 9)
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        val = np.maximum(val, np.where(d2 <= r * r, rng.uniform(0.2, 1.0) * (1 - d2 / (r * r + 1)), 0))
    return val.astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_flat_helpers_equal_the_image_ones(seed):
    val = _blobs(seed)
    fg = val > 0.1
    flat = np.flatnonzero(fg | (np.random.default_rng(seed).random(fg.shape) < 0.03))  # a superset
    basins = _split_by_shape(fg, 0.5, flat=flat)
    np.testing.assert_array_equal(_split_by_shape(fg, 0.5, flat=flat, flat_only=True), basins.ravel()[flat])
    assert basins.max() > ndi.label(fg, np.ones((3, 3)))[1]  # something was split
    lab = basins.ravel()[flat]
    n = int(basins.max()) + 1
    np.testing.assert_array_equal(_label_max(basins, val, n, flat, lab), _label_max(basins, val, n))
    keep = _refine_keep(lab, val.ravel()[flat], (val * 1.1).ravel()[flat], 0.1, 0.5)
    want = _refine(basins, val, val * 1.1, 0.1, 0.5)
    np.testing.assert_array_equal(np.where(keep, lab, 0), want.ravel()[flat])
    # the flood's labels of the pixels given
    dist = cv2.distanceTransform(fg.view(np.uint8), cv2.DIST_L2, 5)
    markers, m = _label8((cv2.dilate(dist, np.ones((3, 3), np.uint8)) <= dist) & fg)
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    img, n_lab = _flood_multi(fg, dist, markers, m, cc, n_cc, flat)
    img2, n_lab2, at_flat = _flood_multi(fg, dist, markers, m, cc, n_cc, flat, with_flat=True)
    np.testing.assert_array_equal(img2, img)
    np.testing.assert_array_equal(at_flat, img.ravel()[flat])
    assert n_lab2 == n_lab


def _reference(h, sigma, boundary_sigma, threshold, min_area, max_area, tolerance, fraction, peak_radius,
               split=True):
    """segment_nuclei's hematoxylin recipe (no background, opening or DAB cue) on images."""
    hs = nuclei._smooth(h, sigma)
    hb = nuclei._smooth(h, boundary_sigma)
    fg = ndi.binary_fill_holes((hs > threshold) & (hb > threshold))
    labels, _ = ndi.label(fg, np.ones((3, 3)))
    area = np.bincount(labels.ravel())
    keep = area >= min_area
    keep[0] = False
    labels = np.where(keep[labels], labels, 0).astype(np.int32)
    if fraction > 0:
        local = None
        if peak_radius > 0:
            local = _coarse(lambda img, k: cv2.dilate(img, k, borderType=cv2.BORDER_REPLICATE), hs, peak_radius)
        labels = _refine(labels, hs, hb, threshold, fraction, local)
    if split:
        labels = _split_by_shape(labels > 0, tolerance)
        if fraction > 0:
            labels = _refine(labels, hs, hb, threshold, fraction)
    area = np.bincount(labels.ravel())
    ok = (area >= min_area) & (area <= max_area)
    ok[0] = False
    out = np.zeros(labels.shape, np.int32)
    k = 0
    for i in np.flatnonzero(ok)[np.argsort([np.flatnonzero(labels.ravel() == i)[0] for i in np.flatnonzero(ok)],
                                           kind="stable")]:
        k += 1
        out[labels == i] = k
    return out


@pytest.mark.parametrize("seed,fraction,peak_radius,split", [(0, 0.5, 4.0, True), (1, 0.5, 0.0, True),
                                                             (2, 0.0, 0.0, True), (3, 0.5, 4.0, False)])
def test_segment_nuclei_equals_the_image_recipe(seed, fraction, peak_radius, split):
    h = _blobs(seed, shape=(200, 260), n=110) * 0.8
    kw = dict(sigma=1.5, boundary_sigma=0.5, threshold=0.1, min_area=15.0, max_area=600.0)
    got = segment_nuclei(h, background_radius=0, opening_radius=0, split_tolerance=0.25,
                         relative_threshold=fraction, peak_radius=peak_radius, split_by_shape=split, **kw)
    want = _reference(h, tolerance=0.25, fraction=fraction, peak_radius=peak_radius, split=split, **kw)
    assert want.max() > 40
    np.testing.assert_array_equal(got, want)
