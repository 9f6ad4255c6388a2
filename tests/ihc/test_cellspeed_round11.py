"""Round 11 speed changes of cell mode: each is exact, so each is checked against the
plain computation it replaces (known answers, equal arrays), and the reused buffers
against fresh runs (docs/benchmarks/cells.md, round 11)."""

import threading

import cv2
import numpy as np
import pytest

from blotquant.ihc import _scratch, score_ihc
from blotquant.ihc.cells import detect_cells
from blotquant.ihc.deconvolution import as_stain_matrix, stain_maps, weighted_od, weighted_od_maps
from blotquant.ihc.nuclei import subtract_background
from blotquant.ihc.stains import white_point_info
from blotquant.ihc.tissue import _pixels_of, label_run_counts, label_runs, run_pixels, tissue_mask
from blotquant.synthetic.cells import make_cell_image


def test_label_runs_and_run_pixels_known_answer():
    lab = np.array([[0, 0, 1, 1], [1, 2, 2, 0]], np.int32)
    starts, labels, lengths = label_runs(lab)
    # the run of 1s continues onto the next row: runs are of the raveled image
    assert starts.tolist() == [0, 2, 5, 7]
    assert labels.tolist() == [0, 1, 2, 0]
    assert lengths.tolist() == [2, 3, 2, 1]
    assert run_pixels(starts[[1, 3]], lengths[[1, 3]]).tolist() == [2, 3, 4, 7]
    assert run_pixels(starts[:0], lengths[:0]).tolist() == []
    assert label_run_counts(lab, 4).tolist() == [3, 3, 2, 0]


def test_pixels_of_selected_labels_equal_a_lookup_over_every_pixel():
    rng = np.random.default_rng(3)
    for _ in range(50):
        shape = tuple(int(v) for v in rng.integers(1, 40, 2))
        m = rng.random(shape) < rng.uniform(0.1, 0.9)
        n, lab = cv2.connectedComponents(m.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
        select = rng.random(n) < 0.4
        got = _pixels_of(select, label_runs(lab))
        assert np.array_equal(got, np.flatnonzero(select[lab]))


@pytest.mark.parametrize("white_point", [255, (241, 236, 247)])
def test_weighted_od_maps_equal_one_map_at_a_time(white_point):
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (97, 301, 3), dtype=np.uint8)  # several row blocks, odd sizes
    inv = np.linalg.inv(as_stain_matrix("default"))
    weights = [inv[:, 0], inv[:, 1], (1.0, 1.0, 1.0)]
    maps = weighted_od_maps(rgb, weights, white_point)
    for w, got in zip(weights, maps):
        assert got.dtype == np.float32 and np.array_equal(got, weighted_od(rgb, w, white_point))
    h, d = stain_maps(rgb, "default", white_point)
    assert np.array_equal(h, maps[0]) and np.array_equal(d, maps[1])
    # float input takes the optical-density path, map by map
    f = weighted_od_maps(rgb.astype(np.float32), weights[:1], white_point)
    assert np.allclose(f[0], maps[0], atol=1e-5)


def test_score_ihc_maps_and_tissue_equal_the_separate_calls():
    s = make_cell_image(1, shape=(256, 320), pixel_size_um=0.5)
    res = score_ihc(s.image, pixel_size_um=0.5)
    wp = white_point_info(s.image)["white_point"]
    h, d = stain_maps(s.image, "default", wp)
    assert np.array_equal(res.hematoxylin_od, h) and np.array_equal(res.dab_od, d)
    assert np.array_equal(res.tissue_mask, tissue_mask(s.image, white_point=wp))
    assert 0.5 < res.tissue_mask.mean() <= 1.0 and len(res.cells) > 20


@pytest.mark.parametrize("shape", [(64, 64), (63, 65), (40, 17)])
def test_background_block_minimum_equals_the_centred_erosion(shape):
    rng = np.random.default_rng(5)
    img = rng.random(shape).astype(np.float32)
    mask = rng.random(shape) < 0.8
    for radius in (12.0, 24.0):  # a 2 x 2 shrink (10 < radius <= 30)
        src = np.where(mask, img, np.float32(1e6)).astype(np.float32)
        ref = cv2.erode(src, np.ones((2, 2), np.uint8), borderType=cv2.BORDER_REPLICATE)[1::2, 1::2]
        blocks = src[: shape[0] // 2 * 2, : shape[1] // 2 * 2]
        blocks = blocks.reshape(shape[0] // 2, 2, shape[1] // 2, 2).min(axis=(1, 3))
        assert np.array_equal(ref, blocks)  # (what the shortcut computes)
        out = subtract_background(img, radius, mask)
        assert out.shape == shape and float(out.min()) >= 0 and not out[~mask].any()


def test_scratch_slots_share_memory_only_where_listed():
    _scratch.release()
    a = _scratch.buffer("expand.dist", (8, 9), np.float32)
    b = _scratch.buffer("measure.comp", (4, 4), np.int32)  # the same buffer "A"
    c = _scratch.buffer("expand.idx", (8, 9), np.int32)    # buffer "B"
    assert np.shares_memory(a, b) and not np.shares_memory(a, c)
    assert a.flags.c_contiguous and b.dtype == np.int32 and b.shape == (4, 4)
    big = _scratch.buffer("expand.dist", (_scratch.MAX_SLOT_BYTES // 4 + 1,), np.float32)
    assert not np.shares_memory(big, a)  # too large to keep: a fresh array
    other = {}
    t = threading.Thread(target=lambda: other.update(x=_scratch.buffer("expand.dist", (8, 9), np.float32)))
    t.start()
    t.join()
    assert not np.shares_memory(other["x"], a)  # one set of buffers per thread
    _scratch.release()


def test_repeated_detections_with_reused_buffers_equal_fresh_ones():
    s1 = make_cell_image(2, shape=(192, 256), pixel_size_um=0.5)
    s2 = make_cell_image(3, shape=(256, 192), pixel_size_um=0.25)
    _scratch.release()
    first = score_ihc(s1.image, pixel_size_um=0.5)
    assert set(_scratch._local.pool) >= {"A", "B", "C", "D", "E", "F"}
    other = score_ihc(s2.image)  # another shape, scale and path (estimate, 2 x 2 grid) between
    again = score_ihc(s1.image, pixel_size_um=0.5)
    _scratch.release()
    fresh = score_ihc(s1.image, pixel_size_um=0.5)
    for r in (first, again):
        assert np.array_equal(r.nuclei_labels, fresh.nuclei_labels)
        assert np.array_equal(r.cell_labels, fresh.cell_labels)
        assert np.array_equal(r.tissue_mask, fresh.tissue_mask)
        assert r.cells.equals(fresh.cells)
    assert len(fresh.cells) > 10 and len(other.cells) > 5
    # a returned label image is never one of the reused buffers
    for arr in (again.nuclei_labels, again.cell_labels, again.tissue_mask, again.dab_od):
        assert not any(np.shares_memory(arr, raw) for raw in _scratch._local.pool.values())
    det = detect_cells(fresh.hematoxylin_od, fresh.dab_od, pixel_size_um=0.5)
    assert not any(np.shares_memory(det.cells, raw) for raw in _scratch._local.pool.values())
