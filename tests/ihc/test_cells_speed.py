"""Shortcuts of cell mode that must give what the long way gives, exactly.

The pixel-size estimate counts nucleus areas without the rest of the
detection (``detect_cells(_nucleus_areas_only=True)``); per-label minima and
maxima are taken run by run (``nuclei._run_at``).  Each is checked against
the long computation it replaces.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from blotquant.ihc.cells import CellParams, detect_cells
from blotquant.ihc.deconvolution import stain_maps
from blotquant.ihc.nuclei import _run_at, _run_starts
from blotquant.ihc.scale import estimate_pixel_size
from blotquant.synthetic.cells import make_cell_image


def _maps(px, side, seed=0):
    s = make_cell_image(seed, shape=(side, side), pixel_size_um=px)
    h, d = stain_maps(s.image)
    return h, d


def _glass_mask(shape):
    """A tissue mask with a lumen and a straight glass edge (clips nuclei and cells)."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    m = (yy - shape[0] / 2) ** 2 + (xx - shape[1] / 3) ** 2 > (shape[0] / 6) ** 2
    m &= xx < shape[1] - shape[1] // 7
    return m


@pytest.mark.parametrize("px, side, masked, image", [
    (0.5, 240, False, "hematoxylin"),     # detection on the image's own grid
    (0.5, 240, True, "hematoxylin"),
    (0.25, 480, False, "hematoxylin"),    # downsampled by 2, counted at full size
    (0.25, 480, True, "hematoxylin"),     # ... and clipped by the mask
    (0.23, 480, True, "hematoxylin"),     # a non-integer factor
    (0.3, 400, True, "od_sum"),
])
def test_nucleus_areas_only_is_the_tables_nucleus_area(px, side, masked, image):
    h, d = _maps(px, side, seed=3)
    mask = _glass_mask(h.shape) if masked else None
    kw = {"detection_image": image, "cell_expansion_um": 0.0, "estimate_pixel_size": False}
    full = detect_cells(h, d, pixel_size_um=px, mask=mask, **kw).table["nucleus_area"].to_numpy()
    areas = detect_cells(h, d, pixel_size_um=px, mask=mask, _nucleus_areas_only=True, **kw)
    assert areas.dtype == np.int64 and full.size > 10
    np.testing.assert_array_equal(areas, full)  # same ids in the same order


def test_nucleus_areas_only_on_empty_and_blank_images():
    empty = np.zeros((0, 0), np.float32)
    assert detect_cells(empty, empty, pixel_size_um=0.5, _nucleus_areas_only=True).size == 0
    blank = np.zeros((64, 64), np.float32)
    assert detect_cells(blank, blank, pixel_size_um=0.25, _nucleus_areas_only=True).size == 0


@pytest.mark.parametrize("px, side", [(0.25, 1600), (0.5, 400)])
def test_estimate_history_follows_the_full_detection(px, side):
    # every refinement step is 3.3 um / the median equivalent radius of the nuclei a
    # full detect_cells finds at the previous step's pixel size (tiles or whole field)
    h, d = _maps(px, side, seed=1)
    est = estimate_pixel_size(h, d)
    assert len(est.history) >= 2
    kw = CellParams().to_dict()
    kw.update(estimate_pixel_size=False, detection_image="hematoxylin", cell_expansion_um=0.0)
    from blotquant.ihc.scale import _tiles
    for prev, new in zip(est.history[:-1], est.history[1:]):
        areas = np.concatenate([detect_cells(h[t], d[t], pixel_size_um=prev, **kw)
                                .table["nucleus_area"].to_numpy(float) for t in _tiles(h.shape, None)])
        assert new == 3.3 / math.sqrt(np.median(areas) / np.pi)
    assert est.pixel_size_um == est.history[-1]


@pytest.mark.parametrize("op", [np.minimum, np.maximum])
def test_run_at_is_ufunc_at(op):
    rng = np.random.default_rng(5)
    lab = np.repeat(rng.integers(0, 40, 300), rng.integers(1, 9, 300))  # runs, labels recur
    values = rng.normal(size=lab.size).astype(np.float32)
    start = np.float32(np.inf if op is np.minimum else -np.inf)
    want = np.full(40, start, np.float32)
    op.at(want, lab, values)
    got = _run_at(op, np.full(40, start, np.float32), lab, values)
    np.testing.assert_array_equal(got, want)
    got2 = _run_at(op, np.full(40, start, np.float32), lab, values, _run_starts(lab))
    np.testing.assert_array_equal(got2, want)
    # no run longer than one value, and no value at all
    lab1 = rng.permutation(40)
    np.testing.assert_array_equal(_run_at(op, np.zeros(40), lab1, np.arange(40.0)),
                                  op(np.zeros(40), np.argsort(lab1).astype(float)))
    assert np.array_equal(_run_at(op, np.ones(3), np.zeros(0, np.int64), np.zeros(0)), np.ones(3))


def test_run_starts():
    np.testing.assert_array_equal(_run_starts(np.array([3, 3, 0, 0, 0, 3, 5, 5])), [0, 2, 5, 6])
    assert _run_starts(np.zeros(0, np.int32)).size == 0


def test_adjacent_saddles_on_the_foreground_pixels_equal_the_whole_image():
    from blotquant.ihc.nuclei import _adjacent_saddles
    rng = np.random.default_rng(2)
    for trial in range(20):
        shape = (int(rng.integers(3, 40)), int(rng.integers(3, 40)))
        labels = rng.integers(0, 6, shape).astype(np.int32)
        labels[rng.random(shape) < 0.3] = 0
        dist = rng.random(shape).astype(np.float32)
        superset = labels > 0
        if trial % 2:  # a superset of the labelled pixels, with unlabelled ones in it
            superset |= rng.random(shape) < 0.3
        flat = np.flatnonzero(superset)
        want = _adjacent_saddles(labels, dist)
        got = _adjacent_saddles(labels, dist, flat)
        for w, g in zip(want, got):
            np.testing.assert_array_equal(g, w)


def test_a_scale_within_one_percent_of_an_integer_factor_is_detected_on_blocks():
    # 0.2492 um/px is 2.006 x finer than the 0.5 um/px requested: the grid is 2 x 2 blocks
    # (as for 0.2492 with 0.4984 requested), not a resampling by 2.006; 0.2527 (1.07 %) is
    h, d = _maps(0.25, 320, seed=4)
    kw = {"estimate_pixel_size": False}
    near = detect_cells(h, d, pixel_size_um=0.2492, **kw)
    assert near.params["downsample"] == 2.0
    assert near.params["working_pixel_size_um"] == [2 * 0.2492, 2 * 0.2492]
    blocks = detect_cells(h, d, pixel_size_um=0.2492, requested_pixel_size_um=2 * 0.2492, **kw)
    np.testing.assert_array_equal(near.nuclei, blocks.nuclei)
    np.testing.assert_array_equal(near.cells, blocks.cells)
    far = detect_cells(h, d, pixel_size_um=0.2527, **kw)
    assert far.params["downsample"] == pytest.approx(0.5 / 0.2527)
    assert detect_cells(h, d, pixel_size_um=0.4960, **kw).params["downsample"] == 1.0  # own grid
