"""Faint lanes: a dilution series keeps its faint lanes, and no lane is invented.

The lane finder's first threshold is a fraction of the strongest lane, which
loses the faint end of a dilution series.  Lanes are then added on the strip's
lane grid where a band zone shows a peak that is significant against the
image's own band-free rows; the grid is never extended where nothing supports
it.  Numbers: ``benchmarks/bench_blot_dilution.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import detect_lanes, quantify_blot
from blotquant.blot.lanes import _grid_pitch, _same_grid
from blotquant.synthetic import make_blot
from blotquant.synthetic.blot import make_dilution_series


def _centres(lanes, y):
    return np.sort([ln.x_at(y) for ln in lanes])


@pytest.mark.parametrize("seed", [0, 1])
def test_a_1_to_1_6_series_of_8_lanes_is_found_whole(seed):
    b = make_dilution_series(seed, n_lanes=8, fold=1.6)      # lowest load 0.037
    truth = np.sort(b.truth.lanes["x"].to_numpy())
    pitch = float(np.median(np.diff(truth)))
    lanes = detect_lanes(b.image.astype(np.float32))
    got = _centres(lanes, b.image.shape[0] / 2)
    assert len(got) == 8
    np.testing.assert_allclose(got, truth, atol=0.15 * pitch)
    res = quantify_blot(b.to_image())
    assert len(res.lanes) == 8                   # the faint end is no "empty edge lane"


@pytest.mark.parametrize("seed", [0, 2])
def test_a_1_to_2_series_keeps_the_lanes_a_person_sees(seed):
    # lanes 1..7 peak above 3 pixel-noise sigmas; before, only 3 lanes were found
    b = make_dilution_series(seed, n_lanes=8, fold=2.0)
    truth = np.sort(b.truth.lanes["x"].to_numpy())
    pitch = float(np.median(np.diff(truth)))
    got = _centres(detect_lanes(b.image.astype(np.float32)), b.image.shape[0] / 2)
    assert len(got) >= 6
    # every lane found is a true lane, from the strong end on
    np.testing.assert_allclose(got, truth[:len(got)], atol=0.15 * pitch)


@pytest.mark.parametrize("n, margin", [(3, 0.2), (5, 0.3)])
@pytest.mark.parametrize("seed", [0, 3])
def test_no_lane_is_invented_on_empty_membrane_beside_the_lanes(n, margin, seed):
    b = make_blot(seed, n_lanes=n, lane_margin=margin)
    assert len(detect_lanes(b.image.astype(np.float32))) == n


def test_the_grid_pitch_needs_regular_lanes():
    assert _grid_pitch([10, 30, 50, 90]) == pytest.approx(20.0)   # an empty lane at 70
    assert _grid_pitch([10, 30]) is None                           # two lanes set no grid
    assert _grid_pitch([10, 30, 62, 80]) is None                   # irregular
    assert _grid_pitch([10, 30, 70, 110]) is None                  # one single step only


def test_rows_with_different_empty_lanes_lie_on_one_grid():
    a = [90, 180, 357, 444]            # lane 3 empty
    b = [94, 182, 268, 451, 538]       # lane 4 empty
    assert _same_grid(a, b)
    # a row with three of seven dots empty sets no pitch of its own; on the other's grid
    assert _same_grid([176, 360, 539, 629], [85, 181, 450, 537, 629])
    assert not _same_grid([176, 320, 539, 629], [85, 181, 450, 537, 629])
    assert not _same_grid(a, [135, 225, 312, 400])      # half a pitch off: two membranes
    assert not _same_grid(a, [10, 30, 50, 70])          # another pitch
