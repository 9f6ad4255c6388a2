"""IHC scores under changes a pathologist does not see as a different slide (issue 11).

Synthetic fields are scored as they are and mirrored, rotated, resampled,
re-exposed; the numbers must stay within the tolerances of
``benchmarks/bench_ihc_invariance.py``.  The real-field checks read
``../shared/data/ihc`` and skip when it is absent.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from blotquant.ihc import score_ihc
from blotquant.ihc.scale import _tiles
from blotquant.ihc.stains import white_point_info
from blotquant.synthetic import make_ihc
from blotquant.synthetic.cells import make_cell_image


def _bench():
    return importlib.import_module("bench_ihc_invariance")


@pytest.fixture(scope="module")
def pixel_field():
    return make_ihc(seed=5, shape=(384, 384), white_point=(238, 236, 242)).image


@pytest.fixture(scope="module")
def cell_field():
    # 180 x 180 um at 0.5 um/px, no pixel size given: estimated from the nuclei
    return make_cell_image(3, shape=(360, 360), pixel_size_um=0.5).image


def _pixel(rgb):
    s = score_ihc(rgb, mode="pixel").summary.iloc[0]
    return float(s.h_score), float(s.pct_positive)


def _cell(rgb, **kw):
    r = score_ihc(rgb, mode="cell", **kw)
    s = r.summary.iloc[0]
    return int(s.n), float(s.pct_positive), float(s.h_score), float(r.params["pixel_size_used"][0])


@pytest.mark.parametrize("name", ["rot90", "mirror"])
def test_pixel_scores_do_not_see_orientation(pixel_field, name):
    h0, p0 = _pixel(pixel_field)
    h1, p1 = _pixel(_bench().variant(pixel_field, name))
    assert h1 == pytest.approx(h0, abs=1e-6) and p1 == pytest.approx(p0, abs=1e-6)


@pytest.mark.parametrize("name", ["x0.5", "x0.7", "x1.5", "jpeg75", "jpeg90", "wb",
                                  "bright0.9"])
def test_pixel_scores_within_tolerance(pixel_field, name):
    b = _bench()
    h0, p0 = _pixel(pixel_field)
    h1, p1 = _pixel(b.variant(pixel_field, name))
    assert abs(h1 - h0) <= b.TOL_H and abs(p1 - p0) <= b.TOL_PCT


@pytest.mark.parametrize("name", ["rot90", "mirror", "x0.7", "x1.5", "bright0.9", "wb"])
def test_cell_scores_within_tolerance(cell_field, name):
    b = _bench()
    n0, p0, h0, s0 = _cell(cell_field)
    n1, p1, h1, s1 = _cell(b.variant(cell_field, name))
    f = b.scale_factor(name)
    assert abs(n1 / n0 - 1) <= b.TOL_COUNT
    assert abs(p1 - p0) <= b.TOL_PCT and abs(h1 - h0) <= b.TOL_H
    assert abs(s1 / (s0 / f) - 1) <= b.TOL_SCALE


def test_scale_tiles_are_symmetric():
    # a field larger than the one-tile limit, tissue everywhere: the tiles of the mirrored
    # and rotated field are the mirror / rotation of the original's
    rows, cols = 1300, 1500
    mask = np.ones((rows, cols), bool)
    t = _tiles((rows, cols), mask)
    assert len(t) == 4
    corners = {(ys.start, xs.start) for ys, xs in t}
    size = t[0][0].stop - t[0][0].start, t[0][1].stop - t[0][1].start
    mirrored = {(y, cols - size[1] - x) for y, x in corners}
    assert {(ys.start, xs.start) for ys, xs in _tiles((rows, cols), mask[:, ::-1])} == mirrored
    rotated = {(cols - size[1] - x, y) for y, x in corners}   # np.rot90: (y, x) -> (W-1-x, y)
    assert {(ys.start, xs.start) for ys, xs in _tiles((cols, rows), np.rot90(mask))} == rotated


def test_scale_tiles_follow_the_tissue():
    # tissue only in the left third: the chosen pattern holds more of it than the default
    rows, cols = 1300, 1500
    mask = np.zeros((rows, cols), bool)
    mask[:, :420] = True
    t = _tiles((rows, cols), mask)
    got = sum(int(mask[w].sum()) for w in t)
    default = _tiles((rows, cols), None)
    assert got > sum(int(mask[w].sum()) for w in default)


def test_glass_stays_glass_under_variants():
    s = make_ihc(seed=2, shape=(256, 256), white_point=(236, 232, 240), dust=20)
    for name in ("orig", "x0.5", "x1.5", "bright0.9", "gamma1.1", "jpeg75"):
        info = white_point_info(_bench().variant(s.image, name))
        assert info["source"] == "estimated", name


@pytest.fixture(scope="module")
def lung1():
    import cv2
    f = _bench().DEFAULT_DATA / "deepliif" / "train_Lung1_ihc.png"
    if not f.is_file():
        pytest.skip("../shared/data/ihc is not present")
    return np.ascontiguousarray(cv2.imread(str(f), cv2.IMREAD_COLOR)[..., ::-1])


@pytest.mark.parametrize("name", ["x0.5", "x0.7", "bright0.9", "gamma0.9"])
def test_real_tile_white_point_and_pixel_scores_hold(lung1, name):
    # the variants that flipped Lung1's white point from "brightest" (220/232/221) to its
    # stroma (204/220/209), +12 H and +8 points of % positive
    b = _bench()
    v = b.variant(lung1, name)
    assert white_point_info(v)["source"] == "brightest"
    h0, p0 = _pixel(lung1)
    h1, p1 = _pixel(v)
    assert abs(h1 - h0) <= b.TOL_H and abs(p1 - p0) <= b.TOL_PCT


def test_glass_clipped_at_255_is_still_a_peak():
    # glass scanned at the ceiling (half a bump against 255), 2 % of a pale field (below
    # the 3 % "brighter" share): the glass peak itself must be found, not the stroma
    rng = np.random.default_rng(0)
    img = np.empty((300, 300, 3))
    img[:] = (232, 236, 240)
    img += rng.normal(0, 4.0, (300, 300))[..., None]
    glass = rng.random((300, 300)) < 0.02
    img[glass] = 255 + rng.normal(0, 1.5, (int(glass.sum()), 3))
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    info = white_point_info(img)
    assert info["white_point"].min() > 250, info
