"""Lane-fit background without a given ``flank``: a quadratic on long windows.

Known answers: exact curved backgrounds (the background volume under the band is
known), a textured synthetic blot with true ratios, and the geometric cases
where the straight line must be used (a short side, windows too short or far
apart for a quadratic, a bow under the band that the windows do not show).
"""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.background import (LANE_FIT_MIN_SIDE, _line_flank, flank_fit_baseline,
                                       lane_fit_model)


def _line(p, top, bottom, exclude=()):
    """The straight line the default falls back to (main's default before the quadratic)."""
    return flank_fit_baseline(p, top, bottom, flank=_line_flank(bottom - top + 1),
                              exclude=exclude)


def _band(x, centre, height=500.0, sigma=4.0):
    return height * np.exp(-0.5 * ((x - centre) / sigma) ** 2)


@pytest.mark.parametrize("curv, vertex", [(0.01, 20.0), (-0.008, 10.0), (0.004, 300.0)])
def test_curved_background_under_a_band_is_recovered(curv, vertex):
    x = np.arange(260.0)
    bg = 2000 + curv * (x - vertex) ** 2
    p = bg + _band(x, 120)
    top, bottom = 100, 140                            # +-5 sigma: no tail outside
    true_bg = float(bg[top:bottom + 1].sum())
    band_vol = float(_band(x, 120)[top:bottom + 1].sum())
    quad = float(flank_fit_baseline(p, top, bottom)[top:bottom + 1].sum())
    line = float(_line(p, top, bottom)[top:bottom + 1].sum())
    assert abs(quad - true_bg) < 1e-6 * band_vol      # exact up to rounding
    assert abs(line - true_bg) > 0.01 * band_vol      # the line misses the curvature by > 1 %


def test_given_flank_is_the_straight_line():
    x = np.arange(200.0)
    p = 1000 + 0.01 * (x - 20) ** 2 + _band(x, 100)
    got = flank_fit_baseline(p, 80, 120, flank=7)
    lo, hi = np.arange(73, 80), np.arange(121, 128)
    xs = np.r_[lo, hi].astype(float)
    coef = np.polyfit(xs, p[xs.astype(int)], 1)       # equal side lengths: plain least squares
    np.testing.assert_allclose(got, np.polyval(coef, x), rtol=1e-10)
    assert lane_fit_model(7) == "line, 7 samples per side"


def test_texture_is_averaged_by_the_long_windows():
    """White texture on a curved background: the background volume's error over many
    noise draws is smaller with the quadratic than with the short-window line."""
    rng = np.random.default_rng(3)
    x = np.arange(300.0)
    bg = 3000 + 0.002 * (x - 40) ** 2
    top, bottom = 130, 170
    true_bg = float(bg[top:bottom + 1].sum())
    eq, el = [], []
    for _ in range(200):
        p = bg + _band(x, 150) + rng.normal(0, 20, x.size)
        eq.append(float(flank_fit_baseline(p, top, bottom)[top:bottom + 1].sum()) - true_bg)
        el.append(float(_line(p, top, bottom)[top:bottom + 1].sum()) - true_bg)
    rms_q, rms_l = np.sqrt(np.mean(np.square(eq))), np.sqrt(np.mean(np.square(el)))
    assert abs(np.mean(eq)) < 3 * rms_q / np.sqrt(200)   # unbiased
    assert rms_q < 0.6 * rms_l                         # 0.52 here


def test_touching_group_shares_one_quadratic():
    x = np.arange(300.0)
    bg = 1500 + 0.006 * (x - 30) ** 2
    p = bg + _band(x, 130) + _band(x, 160, 800)
    boxes = [(110, 145), (146, 180)]                  # touching at the valley
    bases = [flank_fit_baseline(p, *boxes[k], exclude=[boxes[1 - k]]) for k in (0, 1)]
    np.testing.assert_array_equal(bases[0], bases[1])
    for t, b in boxes:
        assert abs(float((bases[0] - bg)[t:b + 1].sum())) < 1e-6 * float(p[t:b + 1].sum())


def test_a_short_side_falls_back_to_the_line():
    """A band so near the profile end that one side has fewer than a quarter extent of
    free samples: the line (its short windows are there); moved inward: the quadratic."""
    x = np.arange(200.0)
    bg = 1000 + 0.01 * (x - 150) ** 2
    ext = 41
    short = int(LANE_FIT_MIN_SIDE * ext)              # 10 < 10.25 samples above the band
    top = short
    p = bg + _band(x, top + 20)
    got = flank_fit_baseline(p, top, top + ext - 1)
    np.testing.assert_array_equal(got, _line(p, top, top + ext - 1))
    top = short + 2                                   # 12 samples: enough
    p = bg + _band(x, top + 20)
    got = flank_fit_baseline(p, top, top + ext - 1)
    sl = slice(top, top + ext)
    assert abs(float((got - bg)[sl].sum())) < 1e-6 * float(p[sl].sum())


def test_windows_too_short_for_a_quadratic_fall_back_to_the_line():
    """Neighbours 12 samples away on both sides of a 41-sample band: each side has
    more than a quarter extent, but a quadratic through two short windows that far
    apart is ~13 x as sensitive to noise under the band as the line: the line."""
    x = np.arange(300.0)
    p = 1000 + 0.5 * x + _band(x, 150, sigma=4)
    others = [(60, 117), (183, 240)]                  # 12 free samples on each side
    got = flank_fit_baseline(p, 130, 170, exclude=others)
    np.testing.assert_array_equal(got, _line(p, 130, 170, exclude=others))
    wide = [(60, 89), (211, 240)]                     # 40 free samples per side: quadratic
    got = flank_fit_baseline(p, 130, 170, exclude=wide)
    assert not np.array_equal(got, _line(p, 130, 170, exclude=wide))
    np.testing.assert_allclose(got[130:171], 1000 + 0.5 * x[130:171], atol=1e-3)


def test_a_bow_above_the_flanks_falls_back_to_the_line():
    """A box that cuts a wide band's tails (+-1.4 sigma) between neighbours 20 samples
    away: the windows hold only the tails, and the quadratic through them rises
    under the band above the profile beside it (-44.6 % of the volume in the box
    instead of the line's -30.3 %): the line is used."""
    rng = np.random.default_rng(5)
    x = np.arange(400.0)
    p = 1000 + _band(x, 200, 2000, sigma=14) + rng.normal(0, 1, x.size)
    top, bottom = 180, 220
    near = [(110, 159), (241, 290)]
    got = flank_fit_baseline(p, top, bottom, exclude=near)
    np.testing.assert_array_equal(got, _line(p, top, bottom, exclude=near))


def test_a_step_in_a_window_falls_back_to_the_line():
    """A membrane edge 20 samples below a band (the level drops by 60 %, as in a real
    blot whose lane runs off the membrane): the long window below reaches the step
    and the quadratic would dip under the band below both flanks (+36 % volume);
    the line on the flanks next to the band is used and is right within 1 %."""
    rng = np.random.default_rng(8)
    x = np.arange(300.0)
    bg = 90000 + 30 * x - 55000 / (1 + np.exp(-(x - 185) / 3))
    band = _band(x, 150, 120000, sigma=5)
    p = bg + band + rng.normal(0, 300, x.size)
    top, bottom = 135, 165
    got = flank_fit_baseline(p, top, bottom)
    np.testing.assert_array_equal(got, _line(p, top, bottom))
    vol = float((p - got)[top:bottom + 1].sum())
    assert abs(vol / float(band[top:bottom + 1].sum()) - 1) < 0.01


def test_bumps_in_a_window_do_not_lift_the_band_edge():
    """Background bumps (unmeasured, not bands) 35 and 27 samples from a band, as on
    a real membrane with non-specific bands: the long windows hold them and the
    quadratic ends 270 units under the profile beside the band's lower edge
    (-14 % volume against the line's -10 %); the line on the flanks is used."""
    rng = np.random.default_rng(2)
    x = np.arange(400.0)
    bg = 42000 + _band(x, 200, 3000, sigma=5) + _band(x, 262, 5000, sigma=6)
    band = _band(x, 235, 15000, sigma=3.5)
    p = bg + band + rng.normal(0, 30, x.size)
    top, bottom = 223, 248
    got = flank_fit_baseline(p, top, bottom)
    np.testing.assert_array_equal(got, _line(p, top, bottom))
    err = float((p - bg - got + 42000)[top:bottom + 1].sum()) / float(band[top:bottom + 1].sum())
    assert -0.11 < err - 1 < -0.09


@pytest.mark.parametrize("seed, med, worst", [(1, 0.010, 0.030), (2, 0.012, 0.060)])
def test_textured_blot_ratio_error(seed, med, worst):
    """Textured synthetic blots (accuracy benchmark seeds 1 and 2, 16-bit, texture
    0.004): per-lane ratio error against the truth, median / max 1.16 / 7.05 % and
    2.57 / 7.09 % with the short-window line; 0.81 / 1.91 % and 0.80 / 4.94 % with the
    quadratic."""
    import bench_blot_accuracy as acc
    from blotquant.synthetic import make_blot

    p = acc.blot_params(seed, dtype="uint16", texture=0.004)
    b = make_blot(seed, **p)
    r = quantify_blot(b.to_image(), lanes=p["n_lanes"], rows=["ASNS", "ACTB"])
    assert acc.lanes_ok(b, r)
    e = acc.ratio_errors(b, r.bands)
    assert np.median(e) < med and e.max() < worst
    assert r.params["background_model"] == lane_fit_model()


def test_background_model_recorded_and_not_an_input():
    img = np.full((200, 240), 1000, np.uint16)
    yy, xx = np.mgrid[:200, :240]
    for k, x in enumerate((40, 100, 160, 220)):
        img += (3000 * (k + 1) * np.exp(-0.5 * ((yy - 60) / 4) ** 2)
                * (abs(xx - x) < 20)).astype(np.uint16)
    r = quantify_blot(img, flank=6)
    assert r.params["background_model"] == "line, 6 samples per side"
    assert "background_model" not in r.input_params()
    assert quantify_blot(img, background="border").params["background_model"] is None
