"""Lanes per strip, lane counts that cannot fit, dot blots, row naming, row slope."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.lanes import detect_lanes
from blotquant.errors import AnalysisError, ParameterError
from blotquant.synthetic import make_blot
from blotquant.synthetic.blot import make_dot_blot


def _strip_img():
    """Two membranes on a dark surround: 6 lanes on top, 5 below (different pitch)."""
    img = np.full((400, 600), 200.0, np.float32)          # off-membrane
    img[20:180, 40:560] = 1000.0                          # membrane 1
    img[220:380, 40:560] = 1000.0                         # membrane 2
    for x in np.linspace(90, 510, 6):
        img[90:104, int(x) - 25:int(x) + 25] += 3000.0
    for x in np.linspace(100, 500, 5):
        img[290:304, int(x) - 30:int(x) + 30] += 2000.0
    rng = np.random.default_rng(0)
    return img + rng.normal(0, 10, img.shape).astype(np.float32)


def test_each_strip_gets_its_own_count():
    det = detect_lanes(_strip_img(), return_details=True)
    counts = [sum(ln.strip == s for ln in det.lanes) for s in (1, 2)]
    assert counts == [6, 5]
    # the strip boundary lies between the two membranes' rows
    assert 104 <= det.strips[0][1] <= 290


def test_lanes_one_count_per_strip():
    lanes = detect_lanes(_strip_img(), (6, 5))
    assert [sum(ln.strip == s for ln in lanes) for s in (1, 2)] == [6, 5]


def test_lane_count_per_strip_must_match_strips():
    with pytest.raises(ParameterError, match=r"lanes gave 3 counts .* 2 strip\(s\) were found"):
        detect_lanes(_strip_img(), (6, 5, 4))


def test_lane_count_that_cannot_fit_is_an_error():
    b = make_blot(1, shape=(300, 400), n_lanes=4)
    with pytest.raises(AnalysisError, match=r"12 lanes do not fit in strip 1: .* room for about 4"):
        quantify_blot(b.to_image(), lanes=12)
    r = quantify_blot(b.to_image(), lanes=4)
    assert len(r.lanes) == 4 and r.lanes["x"].between(0, 399).all()


@pytest.mark.parametrize("seed", range(4))
def test_dot_blot_is_one_strip_of_7_lanes_and_4_rows(seed):
    img, truth = make_dot_blot(seed, jpeg_quality=70)
    r = quantify_blot(img)
    assert r.lanes["strip"].nunique() == 1
    assert len(r.lanes) == 7 and len(r.rows) == 4
    x = np.sort(r.lanes["x"].to_numpy())
    tx = truth.groupby("lane")["x"].mean().to_numpy()
    assert np.all(np.abs(x - tx) < 0.25 * np.median(np.diff(tx)))


def test_rows_given_must_match_rows_found():
    img = make_blot(1, shape=(300, 400), n_lanes=4).to_image()
    assert quantify_blot(img, rows=["ASNS", "ACTB"]).rows == ["ASNS", "ACTB"]
    with pytest.raises(ParameterError, match=r"2 band row\(s\) found \(strip 1: y~\d+ in 4/4 lanes, "
                                             r"y~\d+ in 4/4 lanes\); rows gave 1 name\(s\) \(ASNS\): "
                                             r"give 2 names"):
        quantify_blot(img, rows=["ASNS"])
    with pytest.raises(ParameterError, match="rows gave 3 name"):
        quantify_blot(img, rows=["A", "B", "C"])


def test_row_slope_and_tilt_recorded_separately():
    # sloping rows, vertical lanes: the slope is a row property, not a lane tilt
    b = make_blot(3, shape=(500, 800), n_lanes=8, row_slope_px=30.0, tilt_deg=0.0)
    r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    assert abs(r.params["tilt_deg"]) < 0.5
    expect = np.degrees(np.arctan(30.0 / (b.truth.lanes["x"].max() - b.truth.lanes["x"].min())))
    assert r.params["row_slope_deg"] == pytest.approx(expect, abs=1.0)


def test_membrane_filling_the_image_has_no_seam():
    # a one-membrane synthetic blot (no off-membrane border) is one strip
    for seed in range(3):
        r = quantify_blot(make_blot(seed, shape=(400, 600), n_lanes=6).to_image())
        assert r.lanes["strip"].nunique() == 1


def test_strip_without_bands_is_not_reported():
    # two membranes; the lower one only carries a scribble (no band row)
    img = _strip_img()
    img[220:380, 40:560] = 1000.0 + np.random.default_rng(1).normal(0, 10, (160, 520))
    img[300:306, 100:108] += 3000.0            # a speck, no row
    r = quantify_blot(img)
    assert sorted(set(r.lanes["strip"])) == [1] and len(r.lanes) == 6
    assert set(r.bands["strip"]) == {1}
