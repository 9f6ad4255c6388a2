"""Blob seeds (``seed_detector="blob"``): one nucleus per nucleus-sized blob of the OD sum."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.cells import _seed_radii, detect_cells
from blotquant.ihc.nuclei import blob_response, segment_nuclei

# what detect_cells passes on the OD sum at 0.5 um/px (defaults of CellParams)
R_PX = 6.6  # nucleus_radius_um 3.3 / 0.5
KW = dict(background_radius=16, sigma=3.0, threshold=0.05, min_area=40, max_area=1600,
          split_tolerance=0.5, boundary_sigma=1.0, opening_radius=2.0, relative_threshold=0.5,
          rescue_radius=3.0)
BLOB = dict(seed_radii=_seed_radii(R_PX, 0.6), seed_floor=0.3 * 0.05, merge_ratio=0.7)
MAXIMA = dict(split_contrast=0.15, seed_sigma=2.0, split_dab_od=0.15)


def _ellipse(shape, cy, cx, ry, rx, value, img=None):
    img = np.zeros(shape, np.float32) if img is None else img
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
    img[inside] = np.maximum(img[inside], value)
    return img


def _centroids(labels):
    ids = np.arange(1, labels.max() + 1)
    yy, xx = np.nonzero(labels)
    n = np.bincount(labels[yy, xx], minlength=ids.size + 1)[1:]
    cy = np.bincount(labels[yy, xx], weights=yy, minlength=ids.size + 1)[1:] / n
    cx = np.bincount(labels[yy, xx], weights=xx, minlength=ids.size + 1)[1:] / n
    return np.c_[cy, cx]


def test_blob_response_is_scale_normalised():
    # a disk of contrast c gives ~0.74 c at its centre at the matched radius, whatever its size
    for radius in (4.0, 7.0, 12.0):
        size = int(6 * radius) | 1
        c = size // 2
        img = _ellipse((size, size), c, c, radius, radius, 0.4)
        m = blob_response(img, [radius])
        assert m[c, c] == pytest.approx(0.74 * 0.4, rel=0.15), radius


def test_pale_nucleus_beside_a_dark_one_gets_its_own_seed():
    # a pale nucleus (0.12 OD) pressed against a dark one (0.8 OD) with no neck: the pale
    # one is a shoulder of the dark one's intensity, but a nucleus-sized blob of its own
    img = _ellipse((80, 100), 40, 36, 7, 7, 0.8)
    img = _ellipse((80, 100), 40, 50, 7, 8, 0.12, img)
    # the intensity-maxima seeds (round 2) see one nucleus here: the pale one has no maximum
    assert segment_nuclei(img, **KW, **MAXIMA).max() == 1
    lab = segment_nuclei(img, **KW, **BLOB)
    assert lab.max() == 2
    cen = _centroids(lab)
    assert np.sort(cen[:, 1]).round() == pytest.approx([36, 52], abs=3)
    assert lab[40, 52] > 0 and lab[40, 36] > 0 and lab[40, 52] != lab[40, 36]


def test_elongated_and_unevenly_stained_nucleus_stays_one():
    # a 2.5:1 spindle nucleus spans several blob radii: several seeds, no neck, even intensity
    img = _ellipse((80, 120), 40, 60, 6, 16, 0.3)
    assert segment_nuclei(img, **KW, **BLOB).max() == 1
    # a large nucleus with a paler half (0.5 vs 0.6: within merge_ratio) stays one as well
    big = _ellipse((100, 100), 50, 50, 13, 13, 0.6)
    big[:, 50:] *= np.where(big[:, 50:] > 0, 0.85, 1).astype(np.float32)
    assert segment_nuclei(big, **KW, **BLOB).max() == 1


def test_touching_equal_nuclei_with_a_neck_are_two():
    img = _ellipse((80, 100), 40, 38, 7, 7, 0.5)
    img = _ellipse((80, 100), 40, 50.5, 7, 7, 0.5, img)
    lab = segment_nuclei(img, **KW, **BLOB)
    assert lab.max() == 2
    assert np.sort(_centroids(lab)[:, 1]) == pytest.approx([37.5, 51], abs=2)


def test_detect_cells_uses_blob_seeds_on_the_od_sum_only():
    img = _ellipse((80, 100), 40, 36, 7, 7, 0.8)
    h = _ellipse((80, 100), 40, 50, 7, 8, 0.12, img.copy())
    dab = np.zeros_like(h)
    on_sum = detect_cells(h, dab, pixel_size_um=0.5, detection_image="od_sum")
    assert on_sum.params["seed_detector"] == "blob" and len(on_sum) == 2
    on_h = detect_cells(h, dab, pixel_size_um=0.5)
    assert on_h.params["seed_detector"] == "maxima"
    old = detect_cells(h, dab, pixel_size_um=0.5, detection_image="od_sum", seed_detector="maxima")
    assert old.params["seed_detector"] == "maxima"


def test_seed_parameters_are_checked():
    h = np.zeros((20, 20), np.float32)
    with pytest.raises(ParameterError, match="seed_detector must be one of"):
        detect_cells(h, h, pixel_size_um=0.5, seed_detector="log")
    with pytest.raises(ParameterError, match="merge_peak_ratio must be a fraction"):
        detect_cells(h, h, pixel_size_um=0.5, merge_peak_ratio=1.5)
    assert [round(r, 2) for r in _seed_radii(6.6, 0.6)] == [3.96, 5.11, 6.6]
    assert _seed_radii(6.6, 1.0) == (6.6,)
