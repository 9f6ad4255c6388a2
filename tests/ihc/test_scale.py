"""Pixel size from the nuclei (blotquant.ihc.scale) and its use in score_ihc."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.image import Image, ImageMetadata
from blotquant.ihc import score_ihc
from blotquant.ihc.deconvolution import stain_maps
from blotquant.ihc.scale import estimate_pixel_size, granulometry, is_software_default
from blotquant.ihc.scores import h_score
from blotquant.synthetic.cells import make_cell_image


def _field(px, seed=0, **kw):
    side = round(200 / px)  # a 200 x 200 um field at every pixel size
    return make_cell_image(seed, shape=(side, side), pixel_size_um=px, **kw)


@pytest.mark.parametrize("px", [0.25, 0.5, 1.0])
def test_estimate_recovers_the_synthetic_scale(px):
    s = _field(px, seed=2)
    h, d = stain_maps(s.image)
    est = estimate_pixel_size(h, d)
    assert est.pixel_size_um == pytest.approx(px, rel=0.1)
    assert est.n_nuclei >= 20 and est.method == "granulometry + nucleus size"


def test_estimate_follows_the_nuclei_not_the_pixels():
    # nuclei 0.73 x the usual size read as pixels 1.3 x larger (the scale is about nuclei)
    s = _field(0.5, seed=1, nucleus_um=(2.2, 3.3))
    h, d = stain_maps(s.image)
    assert estimate_pixel_size(h, d).pixel_size_um / 0.5 == pytest.approx(1.33, rel=0.1)


def test_granulometry_mode_is_the_disk_radius():
    img = np.zeros((240, 240), np.float32)
    yy, xx = np.mgrid[:240, :240]
    for cy in range(20, 240, 40):
        for cx in range(20, 240, 40):
            img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 100] = 0.4
    r, p = granulometry(img)
    assert 8.5 < r[np.argmax(p)] < 12.5
    with pytest.raises(ParameterError, match="2-D"):
        granulometry(np.zeros((4, 4, 3)))


def test_blank_image_has_no_estimate():
    est = estimate_pixel_size(np.zeros((64, 64), np.float32))
    assert est.pixel_size_um is None and "no nucleus" in est.note


@pytest.mark.parametrize(("value", "expected"), [
    (25400 / 72, True), ((25400 / 96, 25400 / 96), True), (25400 / 300, True), (1e4 / 28.35, True),  # 72 dpi stored as 28.35 px/cm
   
    (0.2527, False), (0.5, False), (25.0, True)])
def test_software_default_resolutions(value, expected):
    assert is_software_default(value) is expected


def _with_file_pixel_size(s, um):
    md = ImageMetadata(format="png", axes="YXS", dtype="uint8", shape=s.image.shape, bit_depth=8,
                       pixel_size_um=(um, um))
    return Image(data=s.image, metadata=md)


def test_score_ihc_estimates_when_the_file_has_a_software_default():
    s = _field(0.35, seed=3)
    truth = h_score(np.bincount(s.truth.table["class"], minlength=4))
    res = score_ihc(_with_file_pixel_size(s, 25400 / 72))
    p = res.params
    assert p["pixel_size_source"] == "estimated" and "software default" in p["pixel_size_note"]
    assert p["pixel_size_used"][0] == pytest.approx(0.35, rel=0.1)
    assert abs(res.summary.h_score[0] - truth) <= 5
    # a real calibration in the file is used as is
    real = score_ihc(_with_file_pixel_size(s, 0.35))
    assert real.params["pixel_size_source"] == "file" and real.params["pixel_size_used"] == [0.35, 0.35]
    # the user's value overrides everything
    user = score_ihc(s.image, pixel_size_um=0.3)
    assert user.params["pixel_size_source"] == "user" and user.params["pixel_size_used"][0] == 0.3
    mag = score_ihc(s.image, magnification="40x")
    assert mag.params["pixel_size_source"] == "magnification"


@pytest.mark.parametrize("px", [0.25, 0.7])
def test_cell_hscore_without_pixel_size_is_near_the_truth(px):
    # assumed 0.5 um/px used to give errors of 30-110 on such fields
    for seed in (0, 1):
        s = _field(px, seed=seed)
        truth = h_score(np.bincount(s.truth.table["class"], minlength=4))
        res = score_ihc(s.image)
        assert res.params["pixel_size_source"] == "estimated"
        assert abs(res.summary.h_score[0] - truth) <= 5
        assert res.summary.area_um2[0] == pytest.approx(res.summary.area_px[0] * res.params["pixel_size_used"][0] ** 2)


def test_small_cells_without_pixel_size():
    s = _field(0.5, seed=0, nucleus_um=(2.2, 3.3), cytoplasm_um=(3.5, 5.0))
    truth = h_score(np.bincount(s.truth.table["class"], minlength=4))
    est = score_ihc(s.image)
    assumed = score_ihc(s.image, cell_params={"estimate_pixel_size": False})
    assert abs(est.summary.h_score[0] - truth) <= 5
    # assumed 0.5 um/px: the 5 um ring reaches the stroma
    assert abs(assumed.summary.h_score[0] - truth) > abs(est.summary.h_score[0] - truth) + 3
    assert assumed.params["pixel_size_source"] == "unknown"


def test_granulometry_reuses_openings_without_changing_the_spectrum():
    """Each pair of radii written out with its own two openings (no cache) gives the same
    spectrum as granulometry, with and without a mask."""
    import math

    import cv2

    from blotquant.ihc.scale import _R_MAX, _R_MIN, _STEP, _disk

    s = _field(0.5, seed=3)
    h, _ = stain_maps(s.image)
    a = np.maximum(h, 0).astype(np.float32)
    mask = np.zeros(a.shape, bool)
    mask[:, : a.shape[1] * 2 // 3] = True
    radii = []
    r = _R_MIN
    while r <= _R_MAX:
        radii.append(r)
        r *= _STEP
    for m in (None, mask):
        got_r, got_p = granulometry(a, m)
        ref = []
        for r0, r1 in zip(radii[:-1], radii[1:]):
            f = 1
            while r0 / (2 * f) >= 3 and min(a.shape) // (2 * f) >= 24:
                f *= 2
            size = (a.shape[1] // f, a.shape[0] // f)
            img = a if f == 1 else cv2.resize(a, size, interpolation=cv2.INTER_AREA)
            mm = m if m is None or f == 1 else cv2.resize(m.astype(np.float32), size,
                                                          interpolation=cv2.INTER_AREA) >= 0.5
            v = [cv2.morphologyEx(img, cv2.MORPH_OPEN, _disk(rr / f), borderType=cv2.BORDER_REFLECT)
                 for rr in (r0, r1)]
            v = [float(o[mm].mean()) if mm is not None else float(o.mean()) for o in v]
            ref.append((v[0] - v[1]) / math.log(r1 / r0))
        assert got_r.size == len(ref) and np.array_equal(got_p, np.asarray(ref))
