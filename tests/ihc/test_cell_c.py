"""The compiled cell-mode loops (blotquant/ihc/_cellc.c) against their NumPy paths.

Each step that has a C loop (the shape split's flood, the cell expansion's
lookups and cut, the per-label compartment sums, the runs of a label image) is
run twice on the same input, once with ``BLOTQUANT_PURE_PYTHON=1`` (the NumPy
path) and once with the extension, and the results must be identical: labels
bit for bit, sums to the last bit, dtypes alike.  Inputs are random fields with
ties, touching labels, objects cut by the border, one pixel and empty images.
"""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from blotquant.ihc import cells, nuclei, tissue
from blotquant.ihc._cellkernel import compiled_cells
from blotquant.ihc.pixels import PURE_PYTHON_ENV


@pytest.fixture
def ext():
    mod = compiled_cells()
    if mod is None:
        pytest.skip("the C cell loops are not built")
    return mod


def _both(monkeypatch, fn):
    """``fn()`` on the NumPy path, then with the extension."""
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    ref = fn()
    monkeypatch.setenv(PURE_PYTHON_ENV, "0")
    got = fn()
    return ref, got


def _same(ref, got):
    if isinstance(ref, tuple):
        assert len(ref) == len(got)
        for r, g in zip(ref, got):
            _same(r, g)
        return
    if isinstance(ref, np.ndarray):
        assert ref.dtype == got.dtype and ref.shape == got.shape
        np.testing.assert_array_equal(ref, got)
        if ref.dtype.kind == "f":  # the same bits: signed zeros and NaNs alike
            np.testing.assert_array_equal(np.signbit(ref), np.signbit(got))
        return
    assert ref == got


def test_environment_forces_the_numpy_path(ext, monkeypatch):
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    assert compiled_cells() is None
    monkeypatch.setenv(PURE_PYTHON_ENV, "0")
    assert compiled_cells() is ext


def _flood_case(rng, kind, shape):
    fg = rng.random(shape) < rng.uniform(0.4, 0.95)
    fg8 = fg.view(np.uint8)
    if kind == "distance":
        dist = cv2.distanceTransform(fg8, cv2.DIST_L2, 3)
    elif kind == "ties":  # few levels: many equal values, equal seeds
        dist = rng.integers(0, 3, shape).astype(np.float32) * fg
    elif kind == "signed zeros":  # -0 and +0 compare equal (the age decides)
        dist = np.where(rng.random(shape) < 0.5, np.float32(-0.0), np.float32(0.0))
        dist[rng.random(shape) < 0.2] = 1.0
    elif kind == "negative":
        dist = (rng.random(shape).astype(np.float32) - 0.5) * 4
    else:
        dist = rng.random(shape).astype(np.float32) * fg
    dist = np.ascontiguousarray(dist, np.float32)
    peaks = (cv2.dilate(dist, np.ones((3, 3), np.uint8)) <= dist) & fg
    if kind == "random seeds":
        peaks = fg & (rng.random(shape) < 0.2)
    markers, n = nuclei._label8(peaks)
    return fg, dist, markers, n


@pytest.mark.parametrize("kind", ["distance", "ties", "signed zeros", "negative", "noise",
                                  "random seeds"])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_flood_equals_the_sheet_flood(ext, monkeypatch, kind, connectivity):
    if nuclei._WATERSHED_RAVELED is None:
        pytest.skip("scikit-image's raveled flood is not available (the C path is off)")
    rng = np.random.default_rng(100 + connectivity)
    shapes = [(1, 1), (1, 7), (7, 1), (2, 2)] + [tuple(rng.integers(3, 70, 2)) for _ in range(40)]
    for shape in shapes:
        fg, dist, markers, n = _flood_case(rng, kind, shape)
        n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=connectivity,
                                           ltype=cv2.CV_32S)
        before = markers.copy()
        ref, got = _both(monkeypatch, lambda: nuclei._flood_multi(
            fg, dist, markers, n, cc.copy(), n_cc, with_flat=True))
        _same(ref, got)
        np.testing.assert_array_equal(markers, before)  # (the flood does not write markers)


def test_flood_declines_nan(ext, monkeypatch):
    """NaN has no place in the C flood's key order: it declines, the NumPy path runs."""
    rng = np.random.default_rng(5)
    fg, dist, markers, n = _flood_case(rng, "noise", (30, 40))
    dist[3, 4] = np.nan
    region = np.flatnonzero(fg).astype(np.int64)
    assert ext.flood_region(dist, markers, region, np.empty(region.size, np.int32)) is False
    assert ext.flood_region(np.nan_to_num(dist), markers, region,
                            np.empty(region.size, np.int32)) is True
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    ref, got = _both(monkeypatch, lambda: nuclei._flood_multi(fg, dist, markers, n, cc.copy(), n_cc))
    _same(ref, got)


def test_shape_split_equals_numpy_on_touching_blobs(ext, monkeypatch):
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:150, :190]
    fg = np.zeros((150, 190), bool)
    for _ in range(70):  # touching disks, some cut by the border
        cy, cx, r = rng.uniform(-4, 154), rng.uniform(-4, 194), rng.uniform(3, 10)
        fg |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    flat = np.flatnonzero(fg)
    for tol in (0.0, 0.5, 2.0):
        ref, got = _both(monkeypatch, lambda: nuclei._split_by_shape(fg, tol))
        _same(ref, got)
        ref, got = _both(monkeypatch, lambda: nuclei._split_by_shape(fg, tol, flat=flat,
                                                                     flat_only=True))
        _same(ref, got)
    assert int(ref.max()) > 20


def _nuclei_case(rng, shape, n):
    lab = np.zeros(shape, np.int32)
    for k in range(1, n + 1):  # rectangles that touch and overlap (the later wins)
        y, x = rng.integers(0, shape[0]), rng.integers(0, shape[1])
        lab[y : y + rng.integers(1, 6), x : x + rng.integers(1, 6)] = k
    return lab


@pytest.mark.parametrize("distance", [0.5, 2.0, 3.3, 7.0, np.float64(3.3), np.float32(2.5)])
def test_expand_equals_numpy(ext, monkeypatch, distance):
    rng = np.random.default_rng(11)
    for t in range(30):
        shape = (1, 1) if t == 0 else tuple(rng.integers(2, 60, 2))
        lab = _nuclei_case(rng, shape, int(rng.integers(0, 25)))
        if t == 1:
            lab[:] = 0
            lab[0, 0] = 1  # one nucleus pixel in a corner
        masks = [None, rng.random(shape) < 0.7, np.ones(shape, bool)]
        stripe = np.ones(shape, bool)
        stripe[:, shape[1] // 2] = False  # a lumen that cuts cells in two
        masks.append(stripe)
        for mask in masks:
            flat = np.flatnonzero(lab)
            ref, got = _both(monkeypatch, lambda: cells._expand(lab, distance, mask, flat))
            _same(ref, got)


def test_cut_mask_and_lookups_equal_numpy(ext):
    rng = np.random.default_rng(12)
    for shape in [(1, 1), (1, 9), (9, 1), (33, 47)]:
        free = rng.integers(0, 4, shape).astype(np.int32)
        mask = rng.random(shape) < 0.8
        out = np.empty(shape, np.int32)
        cut = np.empty(shape, np.uint8)
        ext.mask_cut(free, mask, out, cut)
        np.testing.assert_array_equal(out, free * mask)
        np.testing.assert_array_equal(cut, cells._cut_mask(free * mask))
        inplace = free * mask
        ext.mask_cut(inplace.copy(), np.ones(shape, bool), inplace, cut)  # (out may be cells)
        np.testing.assert_array_equal(cut, cells._cut_mask(free * mask))
        comp = rng.integers(0, 5, shape).astype(np.int32)
        keep = rng.random(5) < 0.5
        kept = free.copy()
        ext.keep_lookup(kept, comp, keep)
        np.testing.assert_array_equal(kept, free * keep[comp])


@pytest.mark.parametrize("ncols", [1, 7, 130, 700])
def test_compartment_stats_equal_numpy(ext, monkeypatch, ncols):
    """Runs of every length (the pairwise sum's 8-value blocks, halves beyond 128),
    values over 16 decades, negative zeros and NaNs."""
    rng = np.random.default_rng(ncols)
    for t in range(25):
        rows = int(rng.integers(1, 30))
        if t % 2:
            comp = rng.integers(0, 6, (rows, ncols)).astype(np.int32)
        else:  # long runs
            comp = np.repeat(rng.integers(0, 6, (rows, 1)), ncols, axis=1).astype(np.int32)
            comp[:, int(rng.integers(0, ncols)) :] += 1
        v = (rng.random((rows, ncols)) * 10.0 ** rng.uniform(-8, 8, (rows, ncols))).astype(np.float32)
        if t % 5 == 0:
            v[rng.random(v.shape) < 0.1] = -0.0
        if t % 7 == 3:
            v[rng.random(v.shape) < 0.02] = np.nan
        size = int(comp.max()) + 3  # (labels without pixels)
        ref, got = _both(monkeypatch, lambda: cells._compartment_stats(comp.ravel(), v.ravel(),
                                                                       size, ncols))
        _same(ref, got)


def test_measure_equals_numpy(ext, monkeypatch):
    rng = np.random.default_rng(13)
    lab = _nuclei_case(rng, (80, 90), 40)
    cell, _ = cells._expand(lab, 4.0)
    h = rng.random(lab.shape).astype(np.float32)
    d = (rng.random(lab.shape) ** 3).astype(np.float32)
    ref, got = _both(monkeypatch, lambda: cells._measure(lab, cell, h, d, pixel_size_um=0.5)[0])
    import pandas as pd

    pd.testing.assert_frame_equal(ref, got, check_exact=True)
    assert len(ref) > 20


def test_label_runs_equal_numpy(ext, monkeypatch):
    rng = np.random.default_rng(14)
    cases = [np.zeros((0, 5), np.int32), np.zeros((1, 1), np.int32), np.full((3, 4), 7, np.int32)]
    cases += [rng.integers(0, rng.integers(1, 5), tuple(rng.integers(1, 50, 2))).astype(np.int32)
              for _ in range(40)]
    for lab in cases:
        ref, got = _both(monkeypatch, lambda: tissue.label_runs(lab))
        _same(ref, got)
        ref, got = _both(monkeypatch, lambda: tissue.label_run_counts(lab, int(lab.max(initial=0)) + 1))
        _same(ref, got)


def test_score_ihc_cell_mode_equal_numpy(ext, monkeypatch):
    from blotquant.ihc import score_ihc
    from blotquant.synthetic.cells import make_cell_image

    img = make_cell_image(3, shape=(384, 384), pixel_size_um=0.5).image
    ref, got = _both(monkeypatch, lambda: score_ihc(img, pixel_size_um=0.5))
    for k in ("nuclei_labels", "cell_labels", "tissue_mask", "class_map"):
        np.testing.assert_array_equal(getattr(ref, k), getattr(got, k))
    import pandas as pd

    pd.testing.assert_frame_equal(ref.cells, got.cells, check_exact=True)
    assert ref.params == got.params
    assert len(ref.cells) > 30


def test_bad_input_gives_clear_errors(ext):
    a32 = np.zeros((4, 5), np.int32)
    f32 = np.zeros((4, 5), np.float32)
    reg = np.arange(20, dtype=np.int64)
    out = np.zeros(20, np.int32)
    with pytest.raises(ValueError, match="dist must be float32"):
        ext.flood_region(f32.astype(np.float64), a32, reg, out)
    with pytest.raises(ValueError, match=r"markers has shape \(4, 4\), expected \(4, 5\)"):
        ext.flood_region(f32, np.zeros((4, 4), np.int32), reg, out)
    with pytest.raises(ValueError, match="out must be a C-contiguous writable int32"):
        ro = out.copy()
        ro.flags.writeable = False
        ext.flood_region(f32, a32, reg, ro)
    with pytest.raises(ValueError, match="region must be int64"):
        ext.flood_region(f32, a32, reg.astype(np.int32), out)
    with pytest.raises(ValueError, match="ascending raveled indices inside the image"):
        ext.flood_region(f32, a32, reg[::-1].copy(), out)  # (not ascending)
    with pytest.raises(ValueError, match="ascending raveled indices inside the image"):
        ext.flood_region(f32, a32, reg + 1, out)  # (20 is outside a 4 x 5 image)
    with pytest.raises(ValueError, match="as long"):
        ext.flood_region(f32, a32, reg, out[:5])
    with pytest.raises(ValueError, match="must be 2-D"):
        ext.expand_lookup(a32.ravel(), f32, 1.0, np.zeros(3, np.int32), a32.copy())
    with pytest.raises(ValueError, match="outside the table"):
        ext.expand_lookup(a32 + 5, f32, 1.0, np.zeros(3, np.int32), a32.copy())
    with pytest.raises(ValueError, match="C-contiguous"):
        ext.mask_cut(np.zeros((4, 10), np.int32)[:, ::2], np.ones((4, 5), bool), a32.copy(),
                     np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="mask must be uint8 or bool"):
        ext.mask_cut(a32, a32, a32.copy(), np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="outside the table"):
        ext.keep_lookup(a32.copy(), a32 + 9, np.ones(3, bool))
    with pytest.raises(ValueError, match="multiple of ncols"):
        ext.compartment_stats(a32.ravel(), f32.ravel(), 3, np.zeros(2, np.int64), np.zeros(2),
                              np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="outside the tables"):
        ext.compartment_stats(a32.ravel() + 2, f32.ravel(), 5, np.zeros(2, np.int64), np.zeros(2),
                              np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="count_runs"):
        ext.fill_runs(a32.ravel(), np.zeros(2, np.int64), np.zeros(2, np.int32), np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="labels must be int32"):
        ext.count_runs(np.zeros(4, np.int64))


# ---- round 13: the maps, the chroma check, the tissue components, the DAB-hole term ----


def test_weighted_od_maps_equal_opencv(ext, monkeypatch):
    from blotquant.ihc import deconvolution

    rng = np.random.default_rng(21)
    weights = [(1.0, 1.0, 1.0), (0.65, 0.70, 0.29), (-0.3, 1.2, 0.0), (0.0, 0.0, 2.5), (1, 2, 3)]
    for shape in [(1, 1, 3), (1, 7, 3), (5, 1, 3), (33, 257, 3), (64, 64, 3)]:
        rgb = rng.integers(0, 256, shape, dtype=np.uint8)
        rgb.reshape(-1, 3)[:3] = [(0, 0, 0), (255, 255, 255), (1, 254, 128)][: rgb.shape[0] * rgb.shape[1]]
        for white in (255, 240.5, (250, 245, 230)):
            for k in (1, 3, 4, 5):  # (five maps: the OpenCV path)
                ref, got = _both(monkeypatch, lambda: tuple(
                    deconvolution.weighted_od_maps(rgb, weights[:k], white)))
                _same(ref, got)
    empty = np.zeros((0, 4, 3), np.uint8)
    ref, got = _both(monkeypatch, lambda: tuple(deconvolution.weighted_od_maps(empty, weights[:2])))
    _same(ref, got)


def _jpeg(rgb, quality, subsampling):
    flag = {"4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}
    ok, enc = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                            flag[subsampling]])
    assert ok
    return np.ascontiguousarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1])


def test_chroma_check_equals_numpy(ext, monkeypatch):
    from blotquant.ihc import chroma
    from blotquant.synthetic.cells import make_cell_image

    rng = np.random.default_rng(22)
    field = make_cell_image(1, shape=(256, 256), pixel_size_um=0.5).image
    images = [rng.integers(0, 256, s, dtype=np.uint8) for s in [(8, 8, 3), (9, 31, 3), (70, 13, 3)]]
    images += [np.full((64, 64, 3), 200, np.uint8), field]
    for sub in ("4:2:0", "4:4:4"):
        j = _jpeg(field, 85, sub)
        images += [j, j[1:, 1:], j[:, 3:]]  # (crops: the 2 x 2 grid on odd coordinates)
    kinds = set()
    for img in images:
        img = np.ascontiguousarray(img)
        for kw in ({}, {"stride": 1}, {"stride": 3, "min_range": 2.0},
                   {"min_range": 0.1}):  # (0.1 is not a float32: the NumPy path on both sides)
            ref, got = _both(monkeypatch, lambda: chroma.detect_chroma_subsampling(img, **kw))
            assert repr(ref) == repr(got)  # (NaN ratios compare by their text)
            kinds.add(got["subsampling"])
    assert {"4:2:0", "4:4:4", "unknown"} <= kinds


def _same_partition(ref_labels, got_labels):
    """The same components: a one-to-one map between the two label images' values."""
    pairs = np.unique(np.stack([ref_labels.ravel(), got_labels.ravel()]), axis=1)
    assert np.unique(pairs[0]).size == pairs.shape[1] == np.unique(pairs[1]).size


def _masks(rng):
    out = [np.zeros((1, 1), bool), np.ones((1, 1), bool), np.ones((3, 40), bool),
           np.zeros((40, 3), bool)]
    one = np.zeros((9, 23), bool)
    one[4, 17] = True  # one pixel
    out.append(one)
    diag = np.eye(19, dtype=bool)  # 8- but not 4-connected
    out += [diag, ~diag, diag[::-1].copy()]
    for _ in range(60):
        shape = tuple(int(v) for v in rng.integers(1, 70, 2))
        m = rng.random(shape) < rng.uniform(0.05, 0.95)
        if rng.random() < 0.5:  # long runs (past the 8-byte steps), holes and specks
            m = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 2.0) > 0.5
            m ^= rng.random(shape) < 0.02
        out.append(m)
    return out


def test_mask_components_equal_opencv(ext, monkeypatch):
    rng = np.random.default_rng(23)
    for m in _masks(rng):
        for connectivity in (4, 8):
            for value in (True, False):
                ref, got = _both(monkeypatch, lambda: tissue._components(m, connectivity, value=value))
                _same_partition(ref[0], got[0])
                assert np.array_equal(ref[0] > 0, got[0] > 0)
                np.testing.assert_array_equal(np.sort(ref[1][1:]), np.sort(got[1][1:]))
                assert ref[1][0] == got[1][0] == np.count_nonzero(m != value)
                # sizes agree label by label, and the runs give each label's pixels
                lab = got[0].ravel()
                np.testing.assert_array_equal(got[1], np.bincount(lab, minlength=got[1].size))
                sel = np.ones(got[1].size, bool)
                sel[0] = False
                np.testing.assert_array_equal(tissue._pixels_of(sel, got[2]), np.flatnonzero(lab))
                # numbered in raster order of each component's first pixel
                firsts = lab[np.sort(np.unique(lab, return_index=True)[1])]
                firsts = firsts[firsts > 0]
                np.testing.assert_array_equal(firsts, np.arange(1, firsts.size + 1))


def test_tissue_pieces_and_holes_equal_opencv(ext, monkeypatch):
    rng = np.random.default_rng(24)
    n_changed = 0
    for m in _masks(rng):
        for min_px, max_hole in ((5, 4), (20, 10), (1, 0), (0, 30), (50, 200)):
            ref, got = _both(monkeypatch, lambda: tissue._pieces_and_holes(m, min_px, max_hole))
            _same(ref, got)
            n_changed += not np.array_equal(got[0], m)
    assert n_changed > 50  # (fragments removed and holes filled, not only unchanged masks)
    od = cv2.GaussianBlur(rng.random((300, 280)).astype(np.float32), (0, 0), 3.0)
    ref, got = _both(monkeypatch, lambda: tissue.tissue_mask(od, threshold=0.5, min_object_px=40,
                                                             max_hole_px=30, with_small=True))
    _same(ref, got)


def test_dab_hole_term_equals_numpy(ext, monkeypatch):
    rng = np.random.default_rng(25)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, 0.05, 3.0], np.float32)
    for t in range(60):
        shape = tuple(int(v) for v in rng.integers(1, 40, 2))
        h = rng.normal(0.1, 0.3, shape).astype(np.float32)
        d = rng.normal(0.2, 0.3, shape).astype(np.float32)
        closed = (d + np.abs(rng.normal(0, 0.2, shape))).astype(np.float32)
        if t % 2:
            for arr in (h, d, closed):
                at = rng.random(shape) < 0.2
                arr[at] = rng.choice(specials, int(at.sum()))
        w, floor = np.float32(rng.uniform(0.1, 3.0)), np.float32(rng.choice([0.05, 0.0, -0.1]))
        with np.errstate(invalid="ignore"):
            hole = (closed - d) * w
            ref = np.subtract(h, floor, dtype=np.float32)
            np.clip(ref, 0, hole, out=ref)
            ref += h
        got = closed.copy()
        ext.dab_hole_add(h, d, got, float(w), float(floor))
        np.testing.assert_array_equal(got.view(np.uint32), ref.view(np.uint32))  # (NaNs too)
    # and the whole detection with the term on
    from blotquant.synthetic.cells import make_cell_image

    s = make_cell_image(2, shape=(192, 192), pixel_size_um=0.5)
    from blotquant.ihc.deconvolution import stain_maps

    hem, dab = stain_maps(s.image)[:2]
    kw = dict(background_radius=16, sigma=2.0, dab_od=dab, dab_hole_radius=8, dab_hole_weight=1.0)
    ref, got = _both(monkeypatch, lambda: nuclei.segment_nuclei(hem, **kw))
    _same(ref, got)
    assert ref.max() > 10


def test_round13_bad_input_gives_clear_errors(ext):
    f32 = np.zeros((4, 5), np.float32)
    u8 = np.zeros((4, 15), np.uint8)
    luts = np.zeros((3, 256), np.float32)
    with pytest.raises(ValueError, match=r"rgb must be \(rows, 3 \* cols\)"):
        ext.weighted_maps(np.zeros((4, 5), np.uint8), luts, (f32,))
    with pytest.raises(ValueError, match=r"luts must have shape \(6, 256\)"):
        ext.weighted_maps(u8, luts, (f32, f32.copy()))
    with pytest.raises(ValueError, match="tuple of 1 to 4"):
        ext.weighted_maps(u8, luts, [f32])
    with pytest.raises(ValueError, match=r"out has shape \(4, 4\), expected \(4, 5\)"):
        ext.weighted_maps(u8, luts, (np.zeros((4, 4), np.float32),))
    with pytest.raises(ValueError, match="channel must be 0, 1 or 2"):
        ext.parity_sums(np.zeros((4, 15), np.float32), 3, 0, 8.0)
    with pytest.raises(ValueError, match="at least 4 pixels"):
        ext.parity_sums(np.zeros((9, 9), np.float32), 1, 0, 8.0)
    with pytest.raises(ValueError, match="image must be float32"):
        ext.parity_sums(u8, 1, 0, 8.0)
    starts, lab, lengths = np.zeros(1, np.int64), np.zeros(1, np.int32), np.zeros(1, np.int64)
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        ext.label_mask_runs(u8, True, 6, starts, lab, lengths, None)
    with pytest.raises(ValueError, match="count_mask_runs"):
        ext.label_mask_runs(np.ones((4, 15), np.uint8), True, 4, starts, lab, lengths, None)
    with pytest.raises(ValueError, match=r"out has shape"):
        ext.label_mask_runs(u8, True, 4, starts[:0], lab[:0], lengths[:0], np.zeros((4, 5), np.int32))
    with pytest.raises(ValueError, match="closed must be a C-contiguous writable float32"):
        ro = f32.copy()
        ro.flags.writeable = False
        ext.dab_hole_add(f32, f32, ro, 1.0, 0.05)


def test_class_map_and_pixel_counts_equal_numpy(ext, monkeypatch):
    from blotquant.ihc import result
    from blotquant.ihc.classify import classify_pixels

    rng = np.random.default_rng(26)
    for t in range(40):
        shape = tuple(int(v) for v in rng.integers(1, 50, 2))
        lab = rng.integers(0, 9, shape).astype(np.int32)
        lut = rng.integers(0, 5, 9).astype(np.uint8)
        ref, got = _both(monkeypatch, lambda: tissue.lut_take(lut, lab))
        _same(ref, got)
        keep = rng.random(9) < 0.5
        ref, got = _both(monkeypatch, lambda: tissue.lut_take(keep, lab))
        _same(ref, got)
        d = rng.normal(0.3, 0.3, shape).astype(np.float32)
        d[rng.random(shape) < 0.1] = np.nan
        d.ravel()[:3] = [0.2, np.float32(0.4), np.nextafter(np.float32(0.6), np.float32(0))][: d.size]
        mask, region = rng.random(shape) < 0.8, rng.random(shape) < 0.7
        for thr in ((0.2, 0.4, 0.6), (0.35,), (0.1, 0.1 + 1e-9, 0.5)):
            ref = result._class_counts(classify_pixels(d, thr, mask=mask), region)
            got = np.zeros(4, np.int64)
            ext.class_counts(d, mask.view(np.uint8), region.view(np.uint8), np.asarray(thr, np.float32), got)
            np.testing.assert_array_equal(got, ref)
    assert ext.take_u8(lut, lab - 1, np.empty(lab.shape, np.uint8)) is False  # (a label -1)
    ref, got = _both(monkeypatch, lambda: tissue.lut_take(lut, np.full((2, 3), -1, np.int32)))
    _same(ref, got)  # (NumPy's wrap-around, on both paths)
    with pytest.raises(ValueError, match="1 to 3 thresholds and 4 counts"):
        ext.class_counts(d, mask.view(np.uint8), region.view(np.uint8), np.zeros(4, np.float32),
                         np.zeros(4, np.int64))
