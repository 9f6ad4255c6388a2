"""Dust that happens to line up across lanes is not a band row."""
import numpy as np
import pytest

import blotquant.blot.quantify as Q
from blotquant.errors import ParameterError
from blotquant.blot import quantify_blot
from blotquant.synthetic import make_blot


def _small_dusty_blot():
    """A small (300 x 500) two-strip blot with a ladder and 12 dust specks, three
    of which line up across the top strip's lanes (a case of the wider
    synthetic sweep in docs/benchmarks/blot.md)."""
    return make_blot(51, shape=(300, 500), n_lanes=6, ladder=True, two_strips=True,
                     tilt_deg=2.4, smile_px=4.0, row_slope_px=1.0, lane_gap_jitter=0.014,
                     dust=12, dtype="uint8", polarity="dark-on-light",
                     background={"texture": 0.0, "gradient": 0.012})


def test_specks_in_a_line_are_not_a_row(monkeypatch):
    b = _small_dusty_blot()
    res = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    assert sorted(res.bands["row"].unique()) == ["ACTB", "ASNS"]
    assert res.lanes["is_ladder"].sum() >= 1
    # the rule is what keeps them out: without it the specks are a third row
    monkeypatch.setattr(Q, "SPECK_SHARE", 0.0)
    with pytest.raises(ParameterError, match="3 band row"):
        quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])


def test_band_span_of_a_band_and_of_a_speck():
    b = make_blot(0, shape=(400, 700), n_lanes=6, noise=False)
    res = quantify_blot(b.to_image())
    assert res.lanes.shape[0] == 6
    spans = []
    orig = Q._is_speck_row

    def spy(g, ld):
        spans.extend(Q._band_span(ld[ln], ld[ln].bands[i]) for ln, i in g.items())
        return orig(g, ld)

    import unittest.mock as um
    with um.patch.object(Q, "_is_speck_row", spy):
        quantify_blot(b.to_image())
    spans = [s for s in spans if s is not None]
    assert spans and min(spans) > 2 * Q.SPECK_SHARE
