"""Lane tilt from collinear lane evidence (issue 9, round 13).

A lane slope through three or more band blobs lying on one line (a ladder's
stacked markers) shows the lane direction; a slope through two blobs fits any
pair (a stray blob paired with a band).  Before round 13 the two-point lanes'
disagreement made :func:`~blotquant.blot.lanes._strip_tilt` keep 0 deg.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage as ndi

from blotquant.blot.lanes import _strip_tilt

SPACING = 100.0
XS = np.array([50.0, 150.0, 250.0, 350.0])


def _blob(fg, y, x, h=6, w=20):
    fg[int(y) - h // 2:int(y) + h // 2, int(round(x)) - w // 2:int(round(x)) + w // 2] = 1.0


def _tilt(fg):
    labels, _ = ndi.label(fg > 0)
    return _strip_tilt(fg, labels, ndi.find_objects(labels), XS, SPACING, 0, fg.shape[0], 5.0)


def _strays(fg, s):
    # one sample row at 100 (tilted lanes), stray blobs paired with two of its bands
    for x in XS[1:]:
        _blob(fg, 100, x + s * 100)
    _blob(fg, 200, XS[1] + 20)
    _blob(fg, 180, XS[2] - 15)


@pytest.mark.parametrize("deg", [2.1, -2.1, 1.0])
def test_collinear_markers_outweigh_stray_pairs(deg):
    s = math.tan(math.radians(deg))
    fg = np.zeros((260, 420), np.float32)
    for y in (40, 100, 160, 220):          # a ladder: four markers stacked in one lane
        _blob(fg, y, XS[0] + s * y)
    _strays(fg, s)
    assert _tilt(fg) == pytest.approx(deg, abs=0.25)


def test_without_collinear_lane_disagreeing_pairs_keep_zero():
    fg = np.zeros((260, 420), np.float32)
    _strays(fg, math.tan(math.radians(2.1)))
    assert _tilt(fg) == 0.0


def test_three_blobs_off_one_line_are_no_collinear_lane():
    fg = np.zeros((260, 420), np.float32)
    for y, dx in ((40, 0), (130, 14), (220, 0)):   # a zig-zag: residual ~0.07 pitch
        _blob(fg, y, XS[0] + dx)
    _strays(fg, math.tan(math.radians(2.1)))
    assert _tilt(fg) == 0.0


def test_held_out_sweep_seed_136_tilt():
    # two strips, one sample row each, lanes tilted 2.1 deg; only the ladders'
    # stacked markers show it (round 12 diagnosis)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_blot_accuracy as acc
    import bench_blot_sweep as sw

    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_blot
    p = sw.sweep_params(136, "plain")
    b = make_blot(136, **p)
    r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    # (the generator's tilt and the detector's are of opposite sign)
    assert r.params["tilt_deg"] == pytest.approx(-p["tilt_deg"], abs=0.3)
    assert acc.lanes_ok(b, r)
    assert float(np.max(acc.ratio_errors(b, r.bands))) <= 0.03
