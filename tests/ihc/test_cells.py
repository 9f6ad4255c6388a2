"""Cell detection and per-cell scoring (blotquant.ihc.cells) against synthetic ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment

from blotquant.errors import ParameterError
from blotquant.ihc.cells import (
    CELL_MEASURES,
    DEFAULT_PARAMS,
    TABLE_COLUMNS,
    CellDetection,
    classify_cells,
    detect_cells,
    measure_cells,
)
from blotquant.provenance import params_hash
from blotquant.synthetic.cells import CLASS_LEVELS, make_cell_image

try:  # the IHC lead's deconvolution (QuPath units)
    from blotquant.ihc.deconvolution import deconvolve
except ImportError:  # pragma: no cover - fallback while the module is being written
    from blotquant.synthetic.cells import DAB_VECTOR, H_VECTOR

    def deconvolve(rgb, white_point=255):
        od = np.maximum(-np.log10(np.maximum(rgb.astype(np.float32), 1) / np.float32(white_point)), 0)
        res = np.cross(H_VECTOR, DAB_VECTOR)
        m = np.stack([H_VECTOR, DAB_VECTOR, res / np.linalg.norm(res)])
        return od @ np.linalg.inv(m).astype(np.float32)


def h_score(classes) -> float:
    c = np.asarray(classes)
    return float(100 * np.mean(c == 1) + 200 * np.mean(c == 2) + 300 * np.mean(c == 3)) if c.size else 0.0


def match(truth: pd.DataFrame, table: pd.DataFrame, min_radius=4.0):
    """One-to-one matching of detected centroids to true nucleus centres."""
    if len(truth) == 0 or len(table) == 0:
        return np.empty(0, int), np.empty(0, int)
    d = np.hypot(truth.y.to_numpy()[:, None] - table.y.to_numpy()[None], truth.x.to_numpy()[:, None] - table.x.to_numpy()[None])
    radius = np.maximum(truth.nucleus_radius.to_numpy(), min_radius)[:, None]
    cost = np.where(d <= radius, d, 1e6)
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] < 1e6
    return r[ok], c[ok]


def detect_synthetic_maps(seed=0, **kw):
    s = make_cell_image(seed, shape=(256, 256), **kw)
    st = deconvolve(s.image)
    return st[..., 0], st[..., 1]


def detect_synthetic(seed=0, **kw):
    s = make_cell_image(seed, **kw)
    st = deconvolve(s.image)
    det = detect_cells(st[..., 0], st[..., 1], pixel_size_um=s.params["pixel_size_um"])
    return s, det


def disk_image(shape=(80, 80), centre=(40, 40), radius=7, h=0.6, dab_in=0.0, dab_out=0.5):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    inside = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2
    hod = np.where(inside, h, 0.0).astype(np.float32)
    dab = np.where(inside, dab_in, dab_out).astype(np.float32)
    return hod, dab


@pytest.fixture(scope="module")
def synth():
    return detect_synthetic(0)


# --- accuracy on ground truth -------------------------------------------------------------


def test_recall_precision_hscore(synth):
    s, det = synth
    truth = s.truth.table
    r, c = match(truth, det.table)
    assert len(r) / len(truth) >= 0.95
    assert len(c) / len(det.table) >= 0.95
    cls = classify_cells(det.table)
    assert abs(h_score(cls) - h_score(truth["class"])) <= 5
    # matched cells carry the right class almost always
    assert np.mean(cls[c] == truth["class"].to_numpy()[r]) >= 0.95


def test_touching_nuclei_are_split(synth):
    s, det = synth
    truth = s.truth.table
    pairs = truth[truth.pair > 0]
    assert pairs.pair.nunique() >= 10
    ids = det.nuclei[np.rint(pairs.y).astype(int), np.rint(pairs.x).astype(int)]
    split = [len(set(v)) == 2 and 0 not in set(v) for _, v in pd.Series(ids).groupby(pairs.pair.to_numpy())]
    assert np.mean(split) >= 0.8


def test_jpeg_q85_accuracy():
    s, det = detect_synthetic(1, jpeg_quality=85)
    truth = s.truth.table
    r, c = match(truth, det.table)
    assert len(r) / len(truth) >= 0.95 and len(c) / len(det.table) >= 0.95
    assert abs(h_score(classify_cells(det.table)) - h_score(truth["class"])) <= 5


def test_downsampled_detection_at_fine_pixel_size():
    # 0.25 um/px: detection runs at the requested 0.5 um/px and labels are scaled back up
    s, det = detect_synthetic(2, shape=(384, 384), pixel_size_um=0.25)
    assert det.params["downsample"] == pytest.approx(2.0)
    assert det.nuclei.shape == s.image.shape[:2]
    r, c = match(s.truth.table, det.table)
    assert len(r) / len(s.truth.table) >= 0.9 and len(c) / len(det.table) >= 0.9
    # areas in um^2 use the real pixel size
    row = det.table.iloc[0]
    assert row.nucleus_area_um2 == pytest.approx(row.nucleus_area * 0.0625)


# --- geometry -----------------------------------------------------------------------------


def test_cells_do_not_overlap_and_contain_their_nucleus(synth):
    _, det = synth
    nuc, cells = det.nuclei, det.cells
    assert nuc.dtype == np.int32 and cells.dtype == np.int32
    assert np.array_equal(cells[nuc > 0], nuc[nuc > 0])
    # one label per pixel -> no overlap; areas add up to the labelled area
    assert det.table.cell_area.sum() == np.count_nonzero(cells)
    assert det.table.nucleus_area.sum() == np.count_nonzero(nuc)
    assert det.table.cell.tolist() == list(range(1, len(det.table) + 1))
    assert int(cells.max()) == len(det.table)
    # every cell is one connected piece
    n_pieces = [ndi.label(cells == i)[1] for i in range(1, 30)]
    assert set(n_pieces) == {1}


def test_cytoplasm_excludes_nucleus():
    hod, _ = disk_image()
    first = detect_cells(hod, np.zeros_like(hod), pixel_size_um=0.5, background_radius_um=0)
    # segmentation uses the hematoxylin only: paint DAB by the detected nucleus
    dab = np.where(first.nuclei > 0, 0.9, 0.3).astype(np.float32)
    det = detect_cells(hod, dab, pixel_size_um=0.5, background_radius_um=0)
    assert np.array_equal(det.nuclei, first.nuclei)
    row = det.table.iloc[0]
    assert row.nucleus_dab_od_mean == pytest.approx(0.9, abs=1e-6)
    assert row.cytoplasm_dab_od_max == pytest.approx(0.3, abs=1e-6)
    assert row.cytoplasm_dab_od_mean == pytest.approx(0.3, abs=1e-6)
    assert row.cell_dab_od_max == pytest.approx(0.9, abs=1e-6)
    cyto = (det.cells == 1) & (det.nuclei == 0)
    assert row.cell_area == row.nucleus_area + cyto.sum()


def test_measurements_equal_direct_computation(synth):
    s, det = synth
    st = deconvolve(s.image)
    dab = st[..., 1]
    for i in (1, 7, 42):
        row = det.table.set_index("cell").loc[i]
        nuc = det.nuclei == i
        cyto = (det.cells == i) & ~nuc
        assert row.nucleus_dab_od_mean == pytest.approx(dab[nuc].mean(), rel=1e-4)
        assert row.cytoplasm_dab_od_max == pytest.approx(dab[cyto].max(), rel=1e-6)
        assert row.cell_dab_od_mean == pytest.approx(dab[det.cells == i].mean(), rel=1e-4)
        assert row.nucleus_hematoxylin_od_mean == pytest.approx(st[..., 0][nuc].mean(), rel=1e-4)
        yy, xx = np.nonzero(nuc)
        assert (row.y, row.x) == pytest.approx((yy.mean(), xx.mean()))


@pytest.mark.parametrize(
    ("pixel_size", "params", "expected_px"),
    [(0.5, {}, 10), (None, {}, 10), (0.5, {"cell_expansion_um": 2.0}, 4), (0.25, {}, 20), (None, {"cell_expansion_um": 3.0}, 6)],
)
def test_expansion_distance(pixel_size, params, expected_px):
    hod, dab = disk_image(shape=(120, 120), centre=(60, 60), radius=10 if pixel_size != 0.25 else 14)
    det = detect_cells(hod, dab, pixel_size_um=pixel_size, background_radius_um=0,
                       estimate_pixel_size=False, **params)
    assert len(det) == 1
    dist = ndi.distance_transform_edt(det.nuclei == 0)
    reach = dist[det.cells == 1].max()
    tol = 1.5 if pixel_size != 0.25 else 2.5  # labels scaled back from the 0.5 um working grid
    assert reach == pytest.approx(expected_px, abs=tol)
    assert det.params["pixel_size_source"] == ("assumed" if pixel_size is None else "given")


def test_expansion_stops_at_neighbours():
    hod, _ = disk_image(shape=(60, 90), centre=(30, 30), radius=6)
    hod2, _ = disk_image(shape=(60, 90), centre=(30, 54), radius=6)
    det = detect_cells(np.maximum(hod, hod2), np.zeros((60, 90), np.float32), background_radius_um=0)
    assert len(det) == 2
    # the border between the two cells lies half-way between the nuclei
    row = det.cells[30]
    assert row[41] == 1 and row[43] == 2


def test_split_by_shape_option():
    hod, _ = disk_image(shape=(60, 90), centre=(30, 38), radius=8)
    hod2, _ = disk_image(shape=(60, 90), centre=(30, 52), radius=8)  # overlapping pair
    h, dab = np.maximum(hod, hod2), np.zeros((60, 90), np.float32)
    assert len(detect_cells(h, dab, background_radius_um=0)) == 2
    assert len(detect_cells(h, dab, background_radius_um=0, split_by_shape=False)) == 1
    with pytest.raises(ParameterError, match="split_by_shape"):
        detect_cells(h, dab, split_by_shape="no")


def test_mask_respected(synth):
    s, _ = synth
    st = deconvolve(s.image)
    mask = np.zeros(st.shape[:2], bool)
    mask[:, : st.shape[1] // 2] = True
    det = detect_cells(st[..., 0], st[..., 1], pixel_size_um=0.5, mask=mask)
    assert not det.cells[~mask].any() and not det.nuclei[~mask].any()
    assert len(det) > 20 and (det.table.x < st.shape[1] // 2).all()
    with pytest.raises(ParameterError, match="mask"):
        detect_cells(st[..., 0], st[..., 1], mask=mask[:10])


# --- classification -------------------------------------------------------------------------


def test_classify_by_thresholds():
    t = pd.DataFrame({"cytoplasm_dab_od_mean": [0.0, 0.19, 0.2, 0.39, 0.4, 0.6, 2.0, np.nan]})
    assert classify_cells(t).tolist() == [0, 0, 1, 1, 2, 3, 3, 0]
    assert classify_cells(t, thresholds=(0.1, 0.3, 0.5)).tolist() == [0, 1, 1, 2, 2, 3, 3, 0]
    assert classify_cells(t.iloc[:0]).tolist() == []


def test_classify_by_compartment():
    # strong nuclear DAB, weak cytoplasm: the compartment decides the class
    hod, dab = disk_image(dab_in=0.9, dab_out=0.1)
    tab = detect_cells(hod, dab, background_radius_um=0).table
    assert classify_cells(tab).tolist() == [0]
    assert classify_cells(tab, compartment="nucleus").tolist() == [3]
    assert classify_cells(tab, compartment="cell", measure="max").tolist() == [3]
    assert set(CELL_MEASURES) <= set(tab.columns)


def test_classify_errors():
    t = pd.DataFrame({"cytoplasm_dab_od_mean": [0.1]})
    with pytest.raises(ParameterError, match="compartment"):
        classify_cells(t, compartment="membrane")
    with pytest.raises(ParameterError, match="measure"):
        classify_cells(t, measure="median")
    with pytest.raises(ParameterError, match="increasing"):
        classify_cells(t, thresholds=(0.4, 0.2, 0.6))
    with pytest.raises(ParameterError, match="no column"):
        classify_cells(t, compartment="nucleus")


def test_classes_of_synthetic_truth_are_inside_bands(synth):
    s, _ = synth
    t = s.truth.table
    centre = np.asarray(CLASS_LEVELS)[t["class"]]
    assert np.all(np.abs(t.dab_level - centre) <= 0.04 + 1e-9)
    assert classify_cells(t.rename(columns={"dab_level": "cytoplasm_dab_od_mean"})).tolist() == t["class"].tolist()


# --- inputs, empty results, provenance -----------------------------------------------------------


@pytest.mark.parametrize(
    ("h", "d", "kw", "match_text"),
    [
        (np.zeros((10, 10)), np.zeros((10, 12)), {}, "same shape"),
        (np.zeros((10, 10, 3)), np.zeros((10, 10, 3)), {}, "2-D"),
        (np.zeros(10), np.zeros(10), {}, "2-D"),
        (np.full((10, 10), np.nan), np.zeros((10, 10)), {}, "NaN"),
        (np.zeros((10, 10)), np.zeros((10, 10)), {"pixel_size_um": -1}, "pixel_size_um"),
        (np.zeros((10, 10)), np.zeros((10, 10)), {"sigma": 2}, "unknown"),
        (np.zeros((10, 10)), np.zeros((10, 10)), {"sigma_um": -2}, "sigma_um"),
        (np.zeros((10, 10)), np.zeros((10, 10)), {"min_nucleus_area_um2": 50, "max_nucleus_area_um2": 20}, "max_nucleus"),
        (np.array([["a"]]), np.array([["a"]]), {}, "numeric"),
    ],
)
def test_bad_inputs(h, d, kw, match_text):
    with pytest.raises(ParameterError, match=match_text):
        detect_cells(h, d, **kw)


@pytest.mark.parametrize("shape", [(64, 64), (0, 0), (1, 50)])
def test_empty_image_gives_empty_table(shape):
    det = detect_cells(np.zeros(shape), np.zeros(shape))
    assert isinstance(det, CellDetection)
    assert list(det.table.columns) == list(TABLE_COLUMNS) and len(det.table) == 0
    assert det.nuclei.shape == shape and det.cells.shape == shape
    assert det.table.dtypes["cell"] == np.int64 and det.table.dtypes["y"] == np.float64


def test_areas_and_params(synth):
    _, det = synth
    assert np.allclose(det.table.cell_area_um2, det.table.cell_area * 0.25)
    p = det.params
    auto = {"detection_image": "hematoxylin", "threshold": 0.1, "split_contrast": 0.0,
            "rescue_radius_um": 0.0, "split_dab_od": 0.0, "seed_detector": "maxima",
            "downsample_in": "od"}
    assert {k: p[k] for k in DEFAULT_PARAMS} == {**DEFAULT_PARAMS, **auto}  # None resolved
    assert p["pixel_size_source"] == "given" and p["cell_expansion_px"] == 10
    assert len(params_hash(p)) == 12
    hod, dab = disk_image()
    unknown = detect_cells(hod, dab, estimate_pixel_size=False)
    assert unknown.table.cell_area_um2.isna().all() and unknown.params["pixel_size_source"] == "assumed"
    estimated = detect_cells(*detect_synthetic_maps(3))
    assert estimated.params["pixel_size_source"] == "estimated"
    assert estimated.table.cell_area_um2.isna().all()  # an estimate gives no um^2 areas here


def test_measure_cells_matches_regionprops():
    from skimage.measure import regionprops

    s = make_cell_image(3, shape=(160, 160))
    st = deconvolve(s.image)
    nuc, cells = s.truth.nuclei, s.truth.cells
    tab = measure_cells(nuc, cells, st[..., 0], st[..., 1]).set_index("cell")
    cyto = np.where(nuc > 0, 0, cells)
    for rp in regionprops(cyto, intensity_image=st[..., 1]):
        assert tab.loc[rp.label, "cytoplasm_dab_od_mean"] == pytest.approx(rp.intensity_mean, rel=1e-5)
        assert tab.loc[rp.label, "cytoplasm_dab_od_max"] == pytest.approx(rp.intensity_max)
    for rp in regionprops(nuc):
        assert (tab.loc[rp.label, "y"], tab.loc[rp.label, "x"]) == pytest.approx(rp.centroid)


def test_synthetic_is_deterministic_and_consistent():
    a = make_cell_image(5, shape=(128, 160))
    b = make_cell_image(5, shape=(128, 160))
    assert np.array_equal(a.image, b.image) and a.truth.table.equals(b.truth.table)
    assert not np.array_equal(a.image, make_cell_image(6, shape=(128, 160)).image)
    t = a.truth
    assert np.array_equal(t.cells[t.nuclei > 0], t.nuclei[t.nuclei > 0])
    assert (t.table.nucleus_area > 0).all()
    with pytest.raises(ParameterError):
        make_cell_image(0, class_fractions=(1, 1))
    with pytest.raises(ParameterError):
        make_cell_image(0, jpeg_quality=0)


# --- nucleus detection details ---------------------------------------------------------------------


def test_pale_nucleus_inside_strong_dab_is_found():
    # a pale nucleus (H OD 0.15) in strongly stained cytoplasm (DAB 0.8): a hole in the DAB
    yy, xx = np.mgrid[:80, :80]
    nuc = (yy - 40) ** 2 / 100 + (xx - 40) ** 2 / 36 <= 1
    h = np.where(nuc, 0.15, 0.05).astype(np.float32)
    d = np.where(nuc, 0.3, 0.8).astype(np.float32)
    det = detect_cells(h, d)
    assert len(det) == 1
    assert abs(det.table.y[0] - 40) < 2 and abs(det.table.x[0] - 40) < 2
    assert len(detect_cells(h, d, dab_hole_weight=0)) == 0  # hematoxylin alone misses it
    # without DAB around it the same faint blob is not a nucleus (no hole, no bonus)
    assert len(detect_cells(h, np.zeros_like(d))) == 0


def test_stroma_wedge_at_tissue_border_is_not_a_nucleus():
    # a 5 um strip of dense stroma (H OD 0.2) along the glass: the background is taken
    # inside the tissue mask, so the strip is background, not a large faint nucleus
    h = np.zeros((80, 80), np.float32)
    tissue = np.zeros((80, 80), bool)
    tissue[:, :10] = True
    h[tissue] = 0.2
    kw = dict(estimate_pixel_size=False)
    assert len(detect_cells(h, np.zeros_like(h), mask=tissue, **kw)) == 0
    assert len(detect_cells(h, np.zeros_like(h), **kw)) == 1  # glass counted as background
    # a real nucleus in that strip is still found
    yy, xx = np.mgrid[:80, :80]
    h2 = np.where((yy - 40) ** 2 + (xx - 5) ** 2 <= 16, 0.6, h).astype(np.float32)
    assert len(detect_cells(h2, np.zeros_like(h2), mask=tissue, **kw)) == 1


def test_pale_nucleus_touching_a_dark_one_keeps_its_outline():
    # a large pale nucleus (H OD 0.25, radius 5 um) touching a small dark one (0.8)
    yy, xx = np.mgrid[:80, :100]
    dark = (yy - 40) ** 2 + (xx - 35) ** 2 <= 36
    pale = (yy - 40) ** 2 + (xx - 51) ** 2 <= 100
    h = np.where(dark, 0.8, np.where(pale, 0.25, 0.0)).astype(np.float32)
    det = detect_cells(h, np.zeros_like(h), background_radius_um=0)
    assert len(det) == 2
    x = np.sort(det.table.x.to_numpy())
    # the pale one loses the side within peak_radius_um (6 um) of the dark one
    assert abs(x[0] - 35) < 1 and 51 <= x[1] < 57
    # with the clump's peak (0.8) the pale one falls below half of it and vanishes
    assert len(detect_cells(h, np.zeros_like(h), background_radius_um=0, peak_radius_um=0)) == 1


# --- real tissue: skimage's bundled colon section ---------------------------------------------------


@pytest.fixture(scope="module")
def colon():
    skdata = pytest.importorskip("skimage.data")
    from blotquant.ihc import score_ihc

    img = skdata.immunohistochemistry()  # 512 x 512 RGB, bundled with scikit-image
    return img, score_ihc(img, mode="cell"), score_ihc(img, mode="pixel")


# (row0, row1, col0, col1) of the DAB-positive glands; cells count when their centroid is in
# the box and the DAB OD smoothed at gland scale (sigma 6 px) exceeds 0.25 there
COLON_GLANDS = {
    "upper-left lobe": ((0, 220, 0, 230), 65),
    "upper-right lobe": ((0, 200, 270, 440), 33),
    "left gland": ((260, 512, 0, 110), 10),
    "small gland": ((330, 500, 250, 370), 26),
}


def test_colon_cell_counts_and_classes(colon):
    import cv2

    _, cell, pixel = colon
    c = cell.cells
    # pixel size unknown: estimated from the nuclei (0.44 um/px; 0.5 was assumed before,
    # which gave ~315 cells)
    assert cell.params["pixel_size_source"] == "estimated"
    assert 0.35 <= cell.params["pixel_size_used"][0] <= 0.6
    assert 240 <= len(c) <= 420
    assert not cell.nuclei_labels[~cell.tissue_mask].any()  # no nuclei on glass / lumen
    # no huge faint "nuclei" (stroma patches)
    assert np.percentile(c.nucleus_area, 99) * cell.params["pixel_size_used"][0] ** 2 < 250
    dab = cv2.GaussianBlur(cell.dab_od, (0, 0), 6)
    yi, xi = np.rint(c.y).astype(int), np.rint(c.x).astype(int)
    for name, ((r0, r1, c0, c1), n_min) in COLON_GLANDS.items():
        m = (c.y >= r0) & (c.y < r1) & (c.x >= c0) & (c.x < c1) & (dab[yi, xi] > 0.25)
        assert m.sum() >= n_min, name
        assert (c["class"][m] > 0).mean() >= 0.95, name
    stroma = dab[yi, xi] < 0.1
    assert stroma.sum() >= 50 and (c["class"][stroma] == 0).mean() >= 0.95
    # cell-mode H-score near the pixel-mode one (cells weight the positive epithelium more)
    h_cell, h_pixel = float(cell.summary.h_score[0]), float(pixel.summary.h_score[0])
    assert abs(h_cell - h_pixel) <= 50 and 120 <= h_cell <= 200


# --- issue 11: marker-driven detection, cytoplasm in tissue, pixel scores beside -----------


def test_dab_positive_nucleus_found_on_the_od_sum():
    # a Ki67-like nucleus: strong DAB, almost no hematoxylin, next to a negative one
    yy, xx = np.mgrid[:80, :120]
    pos = (yy - 40) ** 2 + (xx - 35) ** 2 <= 64
    neg = (yy - 40) ** 2 + (xx - 85) ** 2 <= 64
    h = np.where(neg, 0.5, np.where(pos, 0.05, 0.0)).astype(np.float32)
    d = np.where(pos, 0.7, 0.0).astype(np.float32)
    kw = dict(pixel_size_um=0.5, background_radius_um=0)
    on_h = detect_cells(h, d, detection_image="hematoxylin", **kw)
    on_sum = detect_cells(h, d, detection_image="od_sum", **kw)
    assert len(on_h) == 1  # the positive nucleus is invisible in hematoxylin
    assert len(on_sum) == 2 and on_sum.params["detection_image"] == "od_sum"
    assert sorted(np.round(on_sum.table.nucleus_dab_od_mean, 1)) == [0.0, 0.7]


def test_cytoplasm_does_not_jump_a_lumen_and_is_flagged_at_the_edge():
    # nucleus next to a 3 px strip of glass (lumen); tissue continues beyond it
    h = np.zeros((80, 80), np.float32)
    yy, xx = np.mgrid[:80, :80]
    h[(yy - 40) ** 2 + (xx - 30) ** 2 <= 36] = 0.6
    tissue = np.ones((80, 80), bool)
    tissue[:, 40:43] = False
    det = detect_cells(h, np.zeros_like(h), pixel_size_um=0.5, mask=tissue,
                       background_radius_um=0)
    assert len(det) == 1
    cell = det.cells == 1
    assert not cell[:, 40:].any()  # nothing beyond the lumen although within 5 um
    assert 0.5 < det.table.cytoplasm_in_tissue[0] < 0.95
    free = detect_cells(h, np.zeros_like(h), pixel_size_um=0.5, background_radius_um=0)
    assert free.table.cytoplasm_in_tissue[0] == 1.0 and free.cells[:, 43:].any()


def test_marker_sets_detection_image_and_primary_score(synth):
    from blotquant.ihc import score_ihc

    s, _ = synth
    cyto = score_ihc(s.image, pixel_size_um=0.5)
    assert cyto.summary.primary_score[0] == "h_score"
    assert cyto.params["detection_image"] == "hematoxylin"
    assert cyto.params["compartment_used"] == "cytoplasm"
    nuc = score_ihc(s.image, pixel_size_um=0.5, marker="nuclear")
    assert nuc.summary.primary_score[0] == "pct_positive"
    assert nuc.params["detection_image"] == "od_sum" and nuc.params["compartment_used"] == "nucleus"


def test_pixel_scores_beside_cell_scores(synth):
    from blotquant.ihc import rescore, score_ihc

    s, _ = synth
    cell = score_ihc(s.image, pixel_size_um=0.5)
    pixel = score_ihc(s.image, pixel_size_um=0.5, mode="pixel")
    for col, pcol in (("h_score", "pixel_h_score"), ("pct_positive", "pixel_pct_positive")):
        assert cell.summary[pcol][0] == pytest.approx(pixel.summary[col][0])
        assert pixel.summary[pcol][0] == pytest.approx(pixel.summary[col][0])
    lower = rescore(cell, (0.1, 0.3, 0.5))
    assert lower.summary.pixel_h_score[0] > cell.summary.pixel_h_score[0]
    assert lower.summary.pixel_h_score[0] == pytest.approx(
        rescore(pixel, (0.1, 0.3, 0.5)).summary.h_score[0])


# --- fast paths: each must equal the plain numpy definition ---------------------------------------


def test_upsample_labels_equals_pixel_centre_rule_on_every_path():
    from blotquant.ihc.cells import _nearest_index, _upsample_labels

    rng = np.random.default_rng(7)
    used_cv2 = used_numpy = 0
    for _ in range(150):
        src = tuple(int(v) for v in rng.integers(1, 400, 2))
        dst = tuple(int(v) for v in rng.integers(1, 700, 2))
        lab = rng.integers(0, 1000, src).astype(np.int32)
        ref = lab[_nearest_index(src[0], dst[0])[:, None], _nearest_index(src[1], dst[1])[None, :]]
        # the rule itself: destination pixel centre (i + 0.5) * src / dst, floored
        i, j = int(rng.integers(dst[0])), int(rng.integers(dst[1]))
        assert ref[i, j] == lab[min(int((i + 0.5) * src[0] / dst[0]), src[0] - 1),
                                min(int((j + 0.5) * src[1] / dst[1]), src[1] - 1)]
        out = _upsample_labels(lab, dst)
        assert out.dtype == np.int32 and np.array_equal(out, ref), (src, dst)
        ramp = np.arange(src[1], dtype=np.int32)[None, :]
        import cv2
        agrees = np.array_equal(cv2.resize(ramp, (dst[1], 1), interpolation=cv2.INTER_NEAREST_EXACT)[0],
                                _nearest_index(src[1], dst[1]))
        used_cv2 += agrees
        used_numpy += not agrees
    assert used_cv2 > 0 and used_numpy > 0  # both paths were exercised
    lab64 = rng.integers(0, 5, (9, 7))  # other dtypes take the numpy gather
    assert np.array_equal(_upsample_labels(lab64, (20, 13)),
                          lab64[_nearest_index(9, 20)[:, None], _nearest_index(7, 13)[None, :]])


def test_upsampled_counts_equal_bincount_of_upsampled_labels():
    from blotquant.ihc.cells import _upsample_labels, _upsampled_counts

    rng = np.random.default_rng(17)
    for _ in range(150):
        src = tuple(int(v) for v in rng.integers(1, 200, 2))
        dst = tuple(max(1, int(s * f)) for s, f in zip(src, rng.uniform(1.0, 4.5, 2)))
        lab = rng.integers(0, 40, src).astype(np.int32)
        k = int(rng.integers(1, 60))
        got = _upsampled_counts(lab, dst, k)
        ref = np.bincount(_upsample_labels(lab, dst).ravel(), minlength=k)
        assert got.dtype == np.int64 and np.array_equal(got, ref), (src, dst)
        assert got.sum() == dst[0] * dst[1]


def test_cut_mask_equals_cut_borders():
    from blotquant.ihc.cells import _cut_mask
    from blotquant.ihc.nuclei import _cut_borders

    rng = np.random.default_rng(3)
    for _ in range(100):
        lab = rng.integers(0, 4, tuple(int(v) for v in rng.integers(1, 40, 2))).astype(np.int32)
        m = _cut_mask(lab)
        assert m.dtype == np.uint8 and np.array_equal(m.view(bool), _cut_borders(lab) > 0)


def test_compartment_stats_equal_bincount():
    from blotquant.ihc.cells import _compartment_stats

    rng = np.random.default_rng(11)
    for _ in range(100):
        rows, cols = (int(v) for v in rng.integers(1, 150, 2))
        k = int(rng.integers(1, 7))
        lab = np.repeat(rng.integers(0, k, (rows, cols // 3 + 1)), 3, axis=1)[:, :cols]  # runs
        lab = np.ascontiguousarray(lab, dtype=np.int32)
        v = (rng.random((rows, cols)) - 0.3).astype(np.float32)
        cnt, tot, vmax = _compartment_stats(lab.ravel(), v.ravel(), k, cols)
        assert np.array_equal(cnt, np.bincount(lab.ravel(), minlength=k))
        np.testing.assert_allclose(tot, np.bincount(lab.ravel(), weights=v.ravel().astype(float), minlength=k),
                                   rtol=1e-12, atol=1e-12)
        ref = np.full(k, -np.inf, np.float32)
        np.maximum.at(ref, lab.ravel(), v.ravel())
        assert np.array_equal(vmax, ref)


def test_measure_cells_nested_and_general_paths_agree():
    """Labels where every nucleus lies in its own cell take the one-pass path; break the
    nesting by one pixel and the general path must give the same numbers elsewhere."""
    s = make_cell_image(4, shape=(160, 160))
    st = deconvolve(s.image)
    nuc, cells = s.truth.nuclei.astype(np.int32), s.truth.cells.astype(np.int32)
    fast = measure_cells(nuc, cells, st[..., 0], st[..., 1], pixel_size_um=0.5)
    # general path: the same pixels, computed per compartment from boolean selections
    cyto = (nuc == 0) & (cells > 0)
    for c in fast.itertuples():
        nm, cm = nuc == c.cell, cells == c.cell
        assert c.nucleus_area == nm.sum() and c.cell_area == cm.sum()
        assert c.nucleus_dab_od_mean == pytest.approx(st[..., 1][nm].astype(float).mean(), rel=1e-9)
        assert c.cell_dab_od_mean == pytest.approx(st[..., 1][cm].astype(float).mean(), rel=1e-9)
        assert c.cell_dab_od_max == st[..., 1][cm].max()
        ym = cm & cyto
        if ym.any():
            assert c.cytoplasm_dab_od_mean == pytest.approx(st[..., 1][ym].astype(float).mean(), rel=1e-9)
        else:
            assert np.isnan(c.cytoplasm_dab_od_mean)
    broken = cells.copy()
    y, x = np.argwhere(nuc == 5)[0]
    broken[y, x] = 7  # a nucleus pixel in another cell: not nested any more
    slow = measure_cells(nuc, broken, st[..., 0], st[..., 1], pixel_size_um=0.5).set_index("cell")
    f = fast.set_index("cell")
    other = [i for i in f.index if i not in (5, 7)]
    pd.testing.assert_frame_equal(f.loc[other], slow.loc[other], rtol=1e-9)
    assert slow.loc[7, "cell_area"] == f.loc[7, "cell_area"] + 1


def test_expand_keeps_only_pixels_connected_to_the_nucleus():
    from blotquant.ihc.cells import _expand

    nuc = np.zeros((40, 70), np.int32)
    nuc[18:22, 10:14] = 1
    nuc[18:22, 52:56] = 2   # far enough that the two cells never touch
    mask = np.ones(nuc.shape, bool)
    mask[:, 20:22] = False  # a strip of glass through cell 1
    cells, free = _expand(nuc, 15.0, mask)
    assert not cells[:, 20:22].any() and free[:, 20:22].any()
    assert not (cells[:, 22:30] == 1).any()  # cell 1 does not jump the strip
    assert (free[:, 22:29] == 1).sum() > 50   # although it is the nearest nucleus there
    assert (cells == 2).sum() == (free == 2).sum() > 300  # cell 2 is untouched
    assert (cells == 1).sum() > 100
    assert np.array_equal(cells[nuc > 0], nuc[nuc > 0])
    c2, f2 = _expand(nuc, 15.0, None)
    assert c2 is f2 and np.array_equal(c2, free)
