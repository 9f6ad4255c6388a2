"""Score arithmetic (H-score, Allred, IRS) and pixel classes."""

import math

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.classify import check_thresholds, classify_pixels
from blotquant.ihc.pixels import class_counts
from blotquant.ihc.scores import (allred, allred_proportion_score, h_score, intensity_score, irs,
                                  irs_proportion_score, percent_positive, summarize)


def test_h_score_and_percent():
    assert h_score((25, 25, 25, 25)) == 150.0
    assert h_score((0, 0, 0, 1)) == 300.0
    assert h_score((7, 0, 0, 0)) == 0.0
    assert math.isnan(h_score((0, 0, 0, 0)))
    assert percent_positive((1, 1, 1, 1)) == 75.0
    # class_counts() vectors (with unscored first) are accepted
    assert h_score([99, 1, 1, 1, 1]) == 150.0
    with pytest.raises(ParameterError):
        h_score((1, 2, 3))
    with pytest.raises(ParameterError):
        h_score((-1, 0, 0, 0))


@pytest.mark.parametrize("pct,score", [(0, 0), (0.001, 1), (0.99, 1), (1.0, 2), (9.99, 2), (10, 3),
                                       (33.3, 3), (100 / 3, 4), (66.6, 4), (200 / 3, 5), (100, 5)])
def test_allred_proportion_boundaries(pct, score):
    assert allred_proportion_score(pct) == score


def test_allred_intensity_rule_and_total():
    # mean class of positives: 7/3 exactly is not > 7/3 -> 2
    assert intensity_score((0, 0, 2, 1)) == 2           # mean 7/3
    assert intensity_score((0, 0, 1, 2)) == 3           # mean 8/3
    assert intensity_score((0, 1, 1, 0)) == 1           # mean 1.5
    assert allred((100, 0, 0, 0)) == (0, 0, 0)
    assert allred((999, 1, 0, 0)) == (2, 1, 1)           # 0.1 % weak -> 2 (never 1)
    assert allred((0, 0, 0, 10)) == (8, 5, 3)
    assert allred((995, 0, 0, 5), min_positive_pct=1.0) == (0, 0, 0)
    for counts in [(5, 1, 0, 0), (1, 2, 3, 4), (90, 3, 3, 4)]:
        total = allred(counts)[0]
        assert total == 0 or 2 <= total <= 8


def test_intensity_exact_five_thirds():
    # (1*1 + 2*2)/3 = 5/3 exactly -> not > 5/3 -> 1 (QuPath)
    assert intensity_score((0, 1, 2, 0)) == 1


@pytest.mark.parametrize("pct,score", [(0, 0), (5, 1), (9.9, 1), (10, 2), (50, 2), (50.1, 3),
                                       (80, 3), (80.1, 4), (100, 4)])
def test_irs_proportion_boundaries(pct, score):
    assert irs_proportion_score(pct) == score


def test_irs_total():
    assert irs((0, 0, 0, 10)) == (12, 4, 3)
    assert irs((10, 0, 0, 0)) == (0, 0, 0)
    assert irs((60, 40, 0, 0)) == (2, 2, 1)
    s = summarize((60, 20, 10, 10))
    assert s["n"] == 100 and s["h_score"] == 70.0 and s["pct_positive"] == 40.0
    assert s["irs"] == s["irs_proportion"] * s["irs_intensity"]
    assert s["allred"] == s["allred_proportion"] + s["allred_intensity"]


def test_classify_pixels_thresholds_and_mask():
    d = np.array([-0.1, 0.0, 0.1999, 0.2, 0.3999, 0.4, 0.6, 5.0], np.float32)
    assert classify_pixels(d).tolist() == [1, 1, 1, 2, 2, 3, 4, 4]
    assert classify_pixels(d, thresholds=(0.3,)).tolist() == [1, 1, 1, 1, 2, 2, 2, 2]
    m = np.array([True] * 4 + [False] * 4)
    assert classify_pixels(d, mask=m).tolist() == [1, 1, 1, 2, 0, 0, 0, 0]
    assert class_counts(classify_pixels(d)).tolist() == [0, 3, 2, 1, 2]
    assert check_thresholds("0.1, 0.2,0.3") == (0.1, 0.2, 0.3)
    for bad in ("0.4,0.2,0.6", "a,b,c", (0.1, 0.2), (0.1, float("nan"), 0.3)):
        with pytest.raises(ParameterError):
            check_thresholds(bad)


def test_fused_rgb_scoring_equals_two_step():
    from blotquant.ihc.deconvolution import stain_maps
    from blotquant.ihc.pixels import score_pixels_rgb
    from blotquant.synthetic import make_ihc, perturb_stains

    s = make_ihc(seed=3, shape=(300, 257), white_point=(241, 236, 244))
    st = perturb_stains(degrees=3, seed=1)
    mask = s.truth.tissue_mask
    dab, cls = score_pixels_rgb(s.image, (0.15, 0.3, 0.7), stains=st, white_point=(241, 236, 244),
                                mask=mask)
    _, dab2 = stain_maps(s.image, st, (241, 236, 244))
    np.testing.assert_array_equal(dab, dab2)
    np.testing.assert_array_equal(cls, classify_pixels(dab2, (0.15, 0.3, 0.7), mask=mask))
