"""A blot flipped top to bottom is the same blot: the same strips and lanes
(``blotquant.blot.lanes``; issue 9, round 10)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blotquant.blot import lanes as L
from blotquant.blot.lanes import detect_lanes


def _gauss(img, y, x, sy, sx, amp):
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
    img += amp * np.exp(-((yy - y) / sy) ** 2 - ((xx - x) / sx) ** 2)


def _lanes_per_strip(img):
    """Lane centres (at the middle row) per strip, strips top to bottom."""
    det = detect_lanes(img.astype(np.float32), return_details=True)
    mid = img.shape[0] / 2.0
    out: dict = {}
    for ln in det.lanes:
        out.setdefault(ln.strip, []).append(ln.x_at(mid))
    return [np.sort(np.asarray(out[s])) for s in sorted(out)]


def _both_ways(img):
    """Lanes per strip of the image and of its flip (the flip's strips put back in
    the image's order)."""
    return _lanes_per_strip(img), _lanes_per_strip(img[::-1].copy())[::-1]


def _offset_strips(seed, shift=24.0):
    # two membranes, each a strong and a faint row 24 px apart (too close for the
    # band blobs to show a tilt), lanes of the lower one 0.4 pitches to the right
    rng = np.random.default_rng(seed)
    img = rng.normal(0.0, 1.0, (520, 700))
    xs = 100 + 60 * np.arange(9)
    for rows, off in (((80, 104), 0.0), ((330, 354), shift)):
        for y, amp in zip(rows, (100.0, 50.0)):
            for x in xs + off:
                _gauss(img, y, x, 5.0, 16.0, amp)
    return img, xs


@pytest.mark.parametrize("seed", range(3))
def test_offset_membranes_are_two_strips_both_ways_round(seed):
    # the lanes of one membrane move between its rows by the tilt its own row pair
    # shows (none here), so a shift of 0.4 pitches is another membrane; before, the
    # tilt allowed was anything up to 5 deg and one strip of lanes halfway between
    # both membranes' lanes was reported
    img, xs = _offset_strips(seed)
    for strips in _both_ways(img):
        assert len(strips) == 2
        np.testing.assert_allclose(strips[0], xs, atol=3)
        np.testing.assert_allclose(strips[1], xs + 24.0, atol=3)


def _one_and_two(seed):
    # an upper row with one broad band, a lower row with two bands, neither below it
    rng = np.random.default_rng(seed)
    img = rng.normal(0.0, 1.0, (400, 700))
    _gauss(img, 80, 515, 8.0, 30.0, 80.0)
    for x in (330, 550):
        _gauss(img, 300, x, 8.0, 30.0, 80.0)
    return img


@pytest.mark.parametrize("seed", range(3))
def test_one_lane_row_does_not_line_up_with_two_either_way(seed):
    # one lane fits any lane after a shift: it shows nothing about lining up with two.
    # Before, the upside-down blot became one strip with a lane at 532 (between 515
    # and 550)
    for strips in _both_ways(_one_and_two(seed)):
        assert [len(s) for s in strips] == [1, 2]
        np.testing.assert_allclose(strips[0], [515], atol=3)
        np.testing.assert_allclose(strips[1], [330, 550], atol=3)


@pytest.mark.parametrize("a,b", [
    ([222.0, 250.0, 278.0], [96.0, 126.0, 156.0, 184.0, 242.0, 270.0, 328.0]),
    ([10.0, 40.0, 70.0, 100.0], [25.0, 55.0, 85.0]),
    ([257.0], [164.0, 276.0]),
])
def test_match_fraction_does_not_depend_on_which_row_comes_first(a, b):
    assert L._match_fraction(a, b, 7.5) == pytest.approx(L._match_fraction(b, a, 7.5))


def test_match_fraction_counts_the_smaller_set():
    # a 3-lane row on the grid of a 7-lane row with empty lanes (shifted 8 px):
    # all three lanes have a partner
    assert L._match_fraction([222.0, 250.0, 278.0],
                             [96.0, 126.0, 156.0, 184.0, 214.0, 242.0, 270.0], 9.0) == 1.0
    assert L._match_fraction([257.0], [164.0, 276.0], 30.0) == 0.0


@pytest.mark.parametrize("name", ["b2ar_jun20_gapdh_16bit.tif"])
def test_real_blots_upside_down_keep_their_strips(shared_blots, name):
    # upside down, jun20's upper strip (lanes 0.4 pitch off the lower's) joined the
    # lower one (1 strip of 9 lanes, 4 rows)
    import bench_blot_real as bench
    from blotquant.blot import quantify_blot
    from blotquant.io import read_image
    truth = next(t for t in json.loads((shared_blots / "truth.json").read_text())["images"]
                 if t["file"] == name)
    img, tm = bench._mirrored(read_image(shared_blots / name), truth, "ud")
    ev = bench.evaluate(quantify_blot(img), tm, "ud", truth)
    assert ev["lanes_found"] == [[9], [9]]
    assert ev["rows_ok"], ev["rows_found"]
