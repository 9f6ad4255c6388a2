"""Tissue detection: glass vs tissue, off-white background, dust, faint staining."""

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.deconvolution import optical_density
from blotquant.ihc.stains import estimate_white_point
from blotquant.ihc.tissue import tissue_mask
from blotquant.synthetic import make_ihc


@pytest.mark.parametrize("kw", [
    {},
    {"white_point": (238, 232, 244), "dust": 80},
    {"stroma_h": (0.04, 0.08), "stroma_dab": 0.0},                  # faint stroma
    {"white_point": (240, 235, 245), "jpeg_quality": 85},
])
def test_tissue_mask_matches_truth(kw):
    s = make_ihc(seed=9, shape=(384, 384), **kw)
    wp = estimate_white_point(s.image)
    m = tissue_mask(s.image, white_point=wp)
    t = s.truth.tissue_mask
    assert (m != t).mean() < 0.01
    # dust specks on free glass are removed (specks touching tissue join it, and a speck
    # inside a lumen smaller than max_hole_px is filled with it)
    from scipy import ndimage as ndi
    free = s.truth.dust_mask & ~ndi.binary_dilation(t, iterations=3)
    assert (m & free).sum() <= 0.1 * free.sum()
    # gland lumens (large holes) stay glass
    lumen = ~t & ~s.truth.dust_mask
    assert (m & lumen).sum() < 0.02 * lumen.sum()


def test_off_white_glass_is_not_tissue_with_estimated_white_point():
    s = make_ihc(seed=2, shape=(256, 256), white_point=(228, 226, 236))
    wp = estimate_white_point(s.image)
    assert (tissue_mask(s.image, white_point=wp) != s.truth.tissue_mask).mean() < 0.01


def test_input_forms_agree_and_validation():
    s = make_ihc(seed=1, shape=(128, 128))
    od = optical_density(s.image)
    a = tissue_mask(s.image)
    np.testing.assert_array_equal(a, tissue_mask(od))
    np.testing.assert_array_equal(a, tissue_mask(od.sum(-1)))
    with pytest.raises(ParameterError):
        tissue_mask(np.zeros((5, 5, 4)))
    with pytest.raises(ParameterError):
        tissue_mask(s.image, threshold=0)
    with pytest.raises(ParameterError):
        tissue_mask(s.image, median=4)


def test_remove_small_equals_skimage_and_lut_take_equals_indexing():
    from skimage.morphology import remove_small_objects

    from blotquant.ihc.tissue import _remove_small, lut_take

    rng = np.random.default_rng(5)
    for _ in range(40):
        m = rng.random(tuple(int(v) for v in rng.integers(5, 90, 2))) < rng.uniform(0.2, 0.8)
        for conn in (4, 8):
            min_px = int(rng.integers(2, 30))
            ref = remove_small_objects(m, max_size=min_px - 1, connectivity=1 if conn == 4 else 2)
            assert np.array_equal(_remove_small(m, min_px, conn), ref), (conn, min_px)
    lab = rng.integers(0, 300, (700, 300)).astype(np.int32)  # several blocks of 65536 px
    lut = rng.random(300) < 0.5
    out = lut_take(lut, lab)
    assert out.shape == lab.shape and np.array_equal(out, lut[lab])


def test_label_run_counts_equal_bincount():
    import cv2

    from blotquant.ihc.tissue import label_run_counts

    rng = np.random.default_rng(9)
    for _ in range(60):
        shape = tuple(int(v) for v in rng.integers(1, 120, 2))
        m = (rng.random(shape) < rng.uniform(0.1, 0.9)).astype(np.uint8)
        n, lab = cv2.connectedComponents(m, connectivity=int(rng.choice([4, 8])), ltype=cv2.CV_32S)
        got = label_run_counts(lab, n)
        assert got.dtype == np.int64 and np.array_equal(got, np.bincount(lab.ravel(), minlength=n))
        noise = rng.integers(0, 7, shape).astype(np.int32)  # runs of one pixel, wrapping rows
        assert np.array_equal(label_run_counts(noise, 9), np.bincount(noise.ravel(), minlength=9))
    assert label_run_counts(np.zeros((0, 4), np.int32), 3).tolist() == [0, 0, 0]


def test_lone_nuclei_below_min_tissue_px_are_still_cells():
    """At a coarse scan a lone nucleus is smaller than ``min_tissue_px`` (a pixel count):
    the tissue mask drops it as debris, but cell mode still finds it (its own minimum
    nucleus area is in um2)."""
    from blotquant.ihc import score_ihc
    from blotquant.ihc.tissue import tissue_mask

    rng = np.random.default_rng(0)
    img = np.full((200, 200, 3), 244.0)
    yy, xx = np.mgrid[:200, :200]
    centres = [(40, 40), (40, 150), (150, 60), (120, 160), (100, 100)]
    for cy, cx in centres:      # a hematoxylin-blue nucleus (r 4 px) in a pale cell (r 7 px)
        r2 = (yy - cy) ** 2 + (xx - cx) ** 2
        img[r2 <= 49] = (222, 218, 230)
        img[r2 <= 16] = (120, 110, 170)
    img = np.clip(img + rng.normal(0, 1.5, img.shape), 0, 255).astype(np.uint8)
    kept, with_small = tissue_mask(img, white_point=244, min_object_px=256, with_small=True)
    assert not kept.any()                       # each cell (~150 px) is "debris" ...
    assert with_small.sum() >= 0.8 * len(centres) * 150  # ... but is there
    assert np.array_equal(tissue_mask(img, white_point=244, min_object_px=256), kept)
    res = score_ihc(img, mode="cell", marker="nuclear", pixel_size_um=1.0, white_point=244)
    found = res.cells[["y", "x"]].to_numpy()
    assert len(found) == len(centres)
    for c in centres:
        assert np.min(np.hypot(*(found - c).T)) <= 2, c


def test_with_small_equals_skimage_fill_and_removal():
    # (tissue, tissue with the small pieces) against scikit-image's small-object and
    # small-hole removal, with and without small pieces to remove (the shortcut path)
    from skimage.morphology import remove_small_objects

    rng = np.random.default_rng(21)
    for i in range(30):
        shape = tuple(int(v) for v in rng.integers(20, 90, 2))
        od = np.zeros(shape, np.float32)
        od[rng.random(shape) < rng.uniform(0.3, 0.7)] = 0.3
        if i % 3 == 0:  # one big piece with holes only: nothing small to remove
            od[:] = 0.3
            od[rng.random(shape) < 0.05] = 0.0
        min_px, max_hole = int(rng.integers(2, 40)), int(rng.integers(1, 20))
        kept, small = tissue_mask(od, threshold=0.1, median=1, min_object_px=min_px,
                                  max_hole_px=max_hole, with_small=True)
        m = od >= 0.1

        def fill(x):
            return ~remove_small_objects(~x, max_size=max_hole, connectivity=1)

        ref_kept = fill(remove_small_objects(m, max_size=min_px - 1, connectivity=2))
        assert np.array_equal(kept, ref_kept)
        assert np.array_equal(small, fill(m) | ref_kept)
        assert np.array_equal(kept, tissue_mask(od, threshold=0.1, median=1, min_object_px=min_px,
                                                max_hole_px=max_hole))


def test_pieces_and_holes_equals_removal_then_fill_on_random_masks():
    # one labelling of the holes serves both masks: the same as filling the mask without
    # its fragments (a second labelling) on random masks, fragments merged with holes too
    import cv2

    from blotquant.ihc.tissue import _pieces_and_holes, _remove_small

    def fill(m, max_hole):
        return ~_remove_small(~m, max_hole + 1, connectivity=4) if max_hole > 0 else m

    rng = np.random.default_rng(0)
    differ = 0
    for i in range(1500):
        shape = tuple(int(v) for v in rng.integers(1, 70, 2))
        m = rng.random(shape) < rng.uniform(0.05, 0.95)
        if i % 4 == 0:  # blockier shapes, and the complement
            m = cv2.dilate(m.view(np.uint8), np.ones((2, 2), np.uint8)).astype(bool) if i % 8 else ~m
        min_px, max_hole = int(rng.integers(0, 40)), int(rng.integers(0, 30))
        kept, small = _pieces_and_holes(m, min_px, max_hole)
        ref = fill(_remove_small(m, min_px), max_hole)
        assert np.array_equal(kept, ref), (i, shape, min_px, max_hole)
        assert np.array_equal(small, fill(m, max_hole) | ref), (i, shape, min_px, max_hole)
        differ += not np.array_equal(kept, small)
    assert differ > 500  # fragments were removed (and merged with holes) in many cases
