"""The nucleus detector's sparse steps give what the whole-image steps gave.

Round 4 (speed) moved the shape split, the outline refinement, the neighbour
saddles and the final relabelling from whole-image passes to the foreground
pixels, and floods only the components with several markers, packed onto a
small sheet.  Each test compares one such step with a plain whole-image
version of the same rule, written here, on images with many touching objects.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from blotquant.ihc.nuclei import (_WATERSHED_RAVELED, _adjacent_saddles, _flood_multi, _label8,
                                  _pack_shelves, _refine, _rejoin_pieces, _split_by_shape,
                                  segment_nuclei)


def _blobs(seed: int, shape=(160, 220), n=60, rmax=9):
    """Random overlapping disks (bool mask) and a smooth 'intensity' over them."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    fg = np.zeros(shape, bool)
    val = np.zeros(shape, np.float32)
    for _ in range(n):
        cy, cx = rng.uniform(-5, shape[0] + 5), rng.uniform(-5, shape[1] + 5)  # some cut by the edge
        r = rng.uniform(3, rmax)
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        disk = d2 <= r * r
        fg |= disk
        val = np.maximum(val, np.where(disk, rng.uniform(0.2, 1.0) * (1 - d2 / (r * r + 1)), 0))
    fg[::37, ::41] = True  # single-pixel specks, diagonal contacts
    return fg, val.astype(np.float32)


def _flood_whole(fg, elevation, markers, n, cc, n_cc):
    """The rule of ``_flood_multi`` with one watershed over the whole image."""
    sel = markers > 0
    pairs = np.unique(cc[sel].astype(np.int64) * (n + 1) + markers[sel])
    multi = np.bincount(pairs // (n + 1), minlength=n_cc) > 1
    multi[0] = False
    flood = multi[cc]
    basins = np.zeros(fg.shape, np.int32)
    if flood.any():
        basins = watershed(-elevation, np.where(flood, markers, 0), mask=flood).astype(np.int32)
    single = fg & ~flood
    basins[single] = cc[single] + n
    return basins, n + n_cc


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("connectivity", [4, 8])
def test_flood_on_a_sheet_equals_the_whole_image_flood(seed, connectivity):
    import cv2

    fg, val = _blobs(seed)
    dist = cv2.distanceTransform(fg.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    dist = cv2.GaussianBlur(dist, (0, 0), 0.7) * fg
    peaks = (cv2.dilate(dist, np.ones((3, 3), np.uint8)) <= dist) & fg
    markers, n = ndi.label(peaks, structure=np.ones((3, 3), bool))
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=connectivity)
    want, n_want = _flood_whole(fg, dist, markers, n, cc, n_cc)
    assert (want > n).any() and (want[fg] <= n).any()  # both kinds of component occur
    for flat, flat_m in ((None, None), (np.flatnonzero(fg), np.flatnonzero(markers))):
        got, n_got = _flood_multi(fg, dist, markers, n, cc, n_cc, flat, flat_m)
        assert n_got == n_want
        np.testing.assert_array_equal(got, want)
    # an elevation with 8 levels only: markers of one object tie, and skimage's heap
    # pops tied seeds in an order that follows from the order they were queued in;
    # the sheet queues them in the whole image's raster order, so ties go the same way
    q = np.round(val * 8) / 8
    want, _ = _flood_whole(fg, q, markers, n, cc, n_cc)
    got, _ = _flood_multi(fg, q, markers, n, cc, n_cc)
    if _WATERSHED_RAVELED is not None:
        np.testing.assert_array_equal(got, want)
    else:  # public watershed on the sheet: a few tied border pixels may differ
        np.testing.assert_array_equal(np.unique(got), np.unique(want))
        assert (got != want).sum() <= 0.01 * fg.sum()


def test_flood_without_the_private_skimage_function(monkeypatch):
    """If scikit-image's raveled flood goes away, the public watershed floods the sheet."""
    import cv2

    import blotquant.ihc.nuclei as nuclei

    fg, _ = _blobs(1)
    dist = cv2.distanceTransform(fg.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    dist = cv2.GaussianBlur(dist, (0, 0), 0.7) * fg
    peaks = (cv2.dilate(dist, np.ones((3, 3), np.uint8)) <= dist) & fg
    markers, n = ndi.label(peaks, structure=np.ones((3, 3), bool))
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=8)
    want, _ = _flood_whole(fg, dist, markers, n, cc, n_cc)
    monkeypatch.setattr(nuclei, "_WATERSHED_RAVELED", None)
    got, _ = nuclei._flood_multi(fg, dist, markers, n, cc, n_cc)
    np.testing.assert_array_equal(got, want)  # no exact ties in a smoothed distance map


def test_pack_shelves_boxes_do_not_touch():
    rng = np.random.default_rng(3)
    hgt, wid = rng.integers(1, 40, 200), rng.integers(1, 60, 200)
    ys, xs, rows, cols = _pack_shelves(hgt, wid)
    sheet = np.zeros((rows, cols), np.int32)
    for i in range(hgt.size):  # each box plus its one-pixel gap on the lower/right side
        region = sheet[ys[i] : ys[i] + hgt[i] + 1, xs[i] : xs[i] + wid[i] + 1]
        assert region.shape == (hgt[i] + 1, wid[i] + 1), "box runs off the sheet"
        assert not region.any(), "boxes overlap or touch"
        region[...] = i + 1
    assert rows * cols < 3 * ((hgt + 1) * (wid + 1)).sum()  # and the sheet is compact


def test_label8_is_the_3x3_partition():
    fg, _ = _blobs(5)
    got, n = _label8(fg)
    want, m = ndi.label(fg, structure=np.ones((3, 3), bool))
    assert n == m
    # same partition: a one-to-one map between the label numbers
    pairs = np.unique(np.c_[got[fg], want[fg]], axis=0)
    assert len(pairs) == n and len(np.unique(pairs[:, 0])) == n and len(np.unique(pairs[:, 1])) == n


def _refine_whole(labels, hs, hb, threshold, fraction, local_peak=None):
    peak = np.zeros(int(labels.max()) + 1, np.float32)
    sel = labels > 0
    np.maximum.at(peak, labels[sel], hs[sel])
    ref = peak[labels]
    if local_peak is not None:
        ref = np.minimum(ref, local_peak)
    return np.where(hb > np.maximum(threshold, fraction * ref), labels, 0)


@pytest.mark.parametrize("seed", range(3))
def test_refine_on_foreground_pixels(seed):
    fg, val = _blobs(seed)
    labels, _ = ndi.label(fg)
    labels = labels.astype(np.int32)
    rng = np.random.default_rng(seed)
    hb = (val + rng.normal(0, 0.05, val.shape)).astype(np.float32)
    local = (val * 0.8 + 0.1).astype(np.float32)
    superset = np.flatnonzero(fg | (rng.random(fg.shape) < 0.05))  # extra unlabelled pixels
    for lp in (None, local):
        want = _refine_whole(labels, val, hb, 0.1, 0.5, lp)
        np.testing.assert_array_equal(_refine(labels, val, hb, 0.1, 0.5, lp), want)
        np.testing.assert_array_equal(_refine(labels, val, hb, 0.1, 0.5, lp, superset), want)


@pytest.mark.parametrize("seed", range(3))
def test_saddles_on_foreground_pixels(seed):
    fg, val = _blobs(seed)
    basins = _split_by_shape(fg, 0.5)
    want = _adjacent_saddles(basins, val)
    assert want[0].size >= 3
    for flat in (np.flatnonzero(basins), np.flatnonzero(fg), np.arange(fg.size)):
        got = _adjacent_saddles(basins, val, flat)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_split_by_shape_with_a_superset_of_the_foreground():
    fg, _ = _blobs(7)
    want = _split_by_shape(fg, 0.5)
    got = _split_by_shape(fg, 0.5, flat=np.arange(fg.size))
    np.testing.assert_array_equal(got, want)
    assert len(np.unique(want)) > len(np.unique(ndi.label(fg)[0]))  # it did split something


def test_rejoin_relabel_matches_np_unique():
    fg, val = _blobs(2)
    shape_labels = _split_by_shape(fg, 0.25, connectivity=4)
    intensity, _ = ndi.label(fg)
    for gap in (0.0, 2.0):
        got = _rejoin_pieces(shape_labels, intensity.astype(np.int32), gap)
        # the same partition, numbered 0..k-1 with 0 the background
        assert got.dtype == np.int32 and got[~fg].max() == 0
        ids = np.unique(got)
        np.testing.assert_array_equal(ids, np.arange(ids.size))
        # every shape basin lies inside one output label
        pairs = np.unique(np.c_[shape_labels[fg], got[fg]], axis=0)
        assert len(np.unique(pairs[:, 0])) == len(pairs)


def test_segment_nuclei_is_deterministic_under_flat_reuse():
    """The whole detector on a crowded field: touching pairs split, specks dropped."""
    fg, val = _blobs(11, shape=(200, 260), n=90)
    labels = segment_nuclei(val * 0.8, sigma=1.0, background_radius=0, min_area=15,
                            max_area=2000, split_tolerance=0.25, boundary_sigma=0.5,
                            opening_radius=1.0, relative_threshold=0.5, peak_radius=4.0)
    n = int(labels.max())
    assert n > 60
    np.testing.assert_array_equal(np.unique(labels), np.arange(n + 1))
    area = np.bincount(labels.ravel())[1:]
    assert area.min() >= 15
    # labels are numbered in raster order of each nucleus' first pixel
    first = [np.flatnonzero(labels.ravel() == k)[0] for k in range(1, n + 1)]
    assert np.all(np.diff(first) > 0)
