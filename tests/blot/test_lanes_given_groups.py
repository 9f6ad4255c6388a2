"""Lane counts given per group of lanes side by side (``lanes=(4, 3, 4)``).

Issue 9, round 13: on a film whose replicate groups lie side by side in one strip
(printed brackets, or wide gaps between the groups), a count per group is what a
user who counts the groups gives.  The lanes of the strip are found and parted
into one strip per group: by the group lines or gaps when the image shows them
(their sizes must be the given ones), else by the order.  Counts that fit
neither reading raise a ``ParameterError`` that says what was found.  Before
round 13 every such call was an error ("3 counts, 1 strip").
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from blotquant.blot import quantify_blot
from blotquant.blot.groups import gap_groups, part_given
from blotquant.blot.model import Lane
from blotquant.cli import main
from blotquant.errors import ParameterError
from blotquant.synthetic import make_blot

from .test_group_lines import _bounds, _bracket, _film, _sizes


def _bracketed(sizes=(4, 3, 4), seed=3):
    img, xs = _film(sum(sizes), seed=seed)
    for x0, x1 in _bounds(xs, sizes):
        _bracket(img, x0, x1, 300)
    return img, xs


def _gap_film(seed=1, sizes=(5, 5)):
    b = make_blot(seed, shape=(420, 700), n_lanes=sum(sizes), lane_groups=sizes,
                  group_gap=2.5, rows=("A", "B"), row_y=(150, 230))
    return np.ascontiguousarray(b.image), np.sort(b.truth.lanes["x"].to_numpy(float))


def _near(res, xs, tol):
    got = np.sort(res.lanes["x"].to_numpy(float))
    return len(got) == len(xs) and float(np.max(np.abs(got - xs))) <= tol


@pytest.mark.parametrize("seed", [3, 4])
def test_counts_per_bracketed_group(seed):
    img, xs = _bracketed(seed=seed)
    res = quantify_blot(img, lanes=[4, 3, 4])
    assert _sizes(res) == [4, 3, 4]
    assert res.params["strip_source"] == ["group lines"] * 3
    assert len(res.params["group_lines"]) == 3
    pitch = float(np.median(np.diff(xs)))
    assert _near(res, xs, 0.15 * pitch)
    # each strip holds its group's lanes, left to right, numbered within it
    x = res.lanes.sort_values("x")
    assert x["strip"].tolist() == [1] * 4 + [2] * 3 + [3] * 4
    assert res.params["lanes"] == (4, 3, 4) or list(res.params["lanes"]) == [4, 3, 4]


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_per_group_parted_by_a_gap(seed):
    img, xs = _gap_film(seed)
    res = quantify_blot(img, lanes=[5, 5])
    assert _sizes(res) == [5, 5]
    assert res.params["strip_source"] == ["lane gaps", "lane gaps"]
    assert _near(res, xs, 0.1 * float(np.min(np.diff(xs))))
    # without a count the same lanes form one strip (the gap alone does not part it)
    assert _sizes(quantify_blot(img)) == [10]


def test_counts_per_group_without_evidence_part_by_order():
    img, xs = _film(11)
    res = quantify_blot(img, lanes=[4, 3, 4])
    assert _sizes(res) == [4, 3, 4]
    assert res.params["strip_source"] == ["given"] * 3
    assert _near(res, xs, 0.15 * float(np.median(np.diff(xs))))
    # a finer parting than the gaps show keeps the gaps as boundaries
    img2, _ = _gap_film(1)
    res2 = quantify_blot(img2, lanes=[3, 2, 5])
    assert _sizes(res2) == [3, 2, 5] and res2.params["strip_source"] == ["given"] * 3


def test_wrong_counts_for_bracketed_groups_say_what_was_found():
    img, _ = _bracketed()
    with pytest.raises(ParameterError) as e:
        quantify_blot(img, lanes=[4, 4, 4])
    msg = str(e.value)
    assert "4,4,4" in msg and "printed group lines" in msg
    # what the image shows without a count: three strips of 4, 3 and 4 lanes
    assert "4 lanes at x" in msg and "3 lanes at x" in msg and "(group lines)" in msg
    assert "one count per group, left to right (4,3,4)" in msg
    with pytest.raises(ParameterError, match="printed group lines part its 11 lanes into 4\\+3\\+4"):
        quantify_blot(img, lanes=[4, 7])


def test_counts_against_the_gaps_are_an_error():
    img, _ = _gap_film(1)
    with pytest.raises(ParameterError, match="wide gaps part its 10 lanes into 5\\+5"):
        quantify_blot(img, lanes=[4, 6])


def test_several_counts_for_stacked_strips_list_the_strips():
    # two membranes one above the other, 8 and 6 lanes on grids that do not line up
    top, _ = _film(8, seed=5, shape=(300, 620), rows=("A",), row_y=(150,))
    bottom, xb = _film(6, seed=6, shape=(300, 620), rows=("B",), row_y=(150,))
    bottom = np.roll(bottom, int(0.5 * float(np.median(np.diff(xb)))), axis=1)
    img = np.ascontiguousarray(np.vstack([top, bottom]))
    assert _sizes(quantify_blot(img, lanes=[8, 6])) == [8, 6]
    with pytest.raises(ParameterError) as e:
        quantify_blot(img, lanes=[4, 3, 4])
    msg = str(e.value)
    assert "3 counts (4,3,4) but 2 strips were found one above another" in msg
    assert "strip 1: rows" in msg and "strip 2: rows" in msg
    assert "8 lanes at x" in msg and "6 lanes at x" in msg


def _lanes_at(xs, top=0, bottom=99):
    return [Lane(lane=i + 1, centerline=np.array([[top, x], [bottom, x]], float), width=10.0,
                 strip=1) for i, x in enumerate(xs)]


def test_part_given_units():
    blank = np.zeros((100, 300), np.float32)
    xs = [20, 40, 60, 80, 140, 160, 180, 200]
    lanes, strips, src, lines = part_given(blank, _lanes_at(xs), (0, 99), (40, 50), [4, 4])
    assert [ln.strip for ln in lanes] == [1] * 4 + [2] * 4
    assert [ln.lane for ln in lanes] == [1, 2, 3, 4] * 2
    assert strips == [(0, 99), (0, 99)] and src == ["lane gaps"] * 2 and lines == []
    with pytest.raises(ValueError, match="5\\+3|4\\+4"):
        part_given(blank, _lanes_at(xs), (0, 99), (40, 50), [5, 3])
    with pytest.raises(ValueError, match="9 given"):
        part_given(blank, _lanes_at(xs), (0, 99), (40, 50), [5, 4])
    with pytest.raises(LookupError):
        part_given(blank, _lanes_at(xs), (0, 99), (40, 50), [5, 4], exact=False)
    assert gap_groups(xs) == [4, 4] and gap_groups(xs[:4]) == [4]


def test_cli_counts_per_group_round_trip(tmp_path):
    img, _ = _bracketed()
    p = tmp_path / "film.tif"
    tifffile.imwrite(p, img)
    out = tmp_path / "out"
    assert main(["blot", str(p), "--out", str(out), "--lanes", "4,3,4"]) == 0
    import pandas as pd
    lanes = pd.read_csv(out / "lanes.csv")
    assert lanes.groupby("strip").size().tolist() == [4, 3, 4]
    params = json.loads((out / "params.json").read_text())
    assert params["strip_source"] == ["group lines"] * 3
    assert list(params["lanes"]) == [4, 3, 4]
    bad = tmp_path / "bad"
    assert main(["blot", str(p), "--out", str(bad), "--lanes", "4,4,4"]) == 1
    assert not bad.exists()
