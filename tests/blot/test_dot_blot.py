"""Dot blots: volumes against the true dot amounts and the Gel Analyzer's method.

Dot rows fill the grid pitch, so neighbouring rows' boxes share their edge
row.  The lane-fit background must treat them as one touching group (one line
under the whole column, from its outer flanks), not find no flank and fall
back to a zero line, which counted the membrane as signal in every middle row
(r against the truth 0.2-0.6 before).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.background import flank_fit_baseline
from blotquant.synthetic.blot import make_dot_blot

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dot_blot.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_dot_blot", _BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [0, 3])
def test_dot_volumes_follow_the_true_amounts_and_the_gel_analyzer(seed):
    img, truth = make_dot_blot(seed, jpeg_quality=75)
    bench = _bench()
    lanes, n_rows, vols = bench.ours(img, truth)
    assert lanes == [7] and n_rows == 4
    amount = truth["amount"].to_numpy()
    assert np.corrcoef(vols, amount)[0, 1] >= 0.995
    assert np.corrcoef(vols, bench.gel_analyzer_volumes(img, truth))[0, 1] >= 0.99
    # every dot has its membrane background removed (228 grey, inverted: ~27 per px)
    bands = quantify_blot(img).bands
    per_px = bands["background_volume"] / bands["area"]
    assert per_px.min() > 15 and per_px.max() < 40


def test_overlapping_neighbours_share_one_line_from_the_outer_flanks():
    x = np.arange(200.0)
    p = 10.0 + 0.05 * x                      # sloping background
    for c in (50, 90, 130):                  # three bands whose boxes share edge samples
        p += 400 * np.exp(-0.5 * ((x - c) / 4) ** 2)
    boxes = [(30, 70), (70, 110), (110, 150)]
    for k, (t, b) in enumerate(boxes):
        other = [bx for j, bx in enumerate(boxes) if j != k]
        base = flank_fit_baseline(p, t, b, exclude=other)
        np.testing.assert_allclose(base[t:b + 1], 10 + 0.05 * x[t:b + 1], atol=1.0)


def test_no_free_sample_never_gives_a_zero_line():
    p = np.full(60, 100.0)
    p[10:50] += 50
    base = flank_fit_baseline(p, 0, 59)      # the band spans the whole profile
    assert np.all(base == 100.0)
