"""Printed lane-group annotations (brackets, group lines) part a strip into strips.

Issue 9, round 12: on films with replicate groups side by side and evenly spaced
lanes, only printed brackets show the groups.  Synthetic blots from
:func:`blotquant.synthetic.make_blot` with such annotations drawn on them; the
controls (one line over all lanes, text, ladder dashes, a drawn box, a line whose
gap is not at a lane boundary, a given lane count) keep one strip.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.groups import erase_lines, group_lines, split_groups
from blotquant.synthetic import make_blot

INK = 15          # print on a dark-on-light film scan (8 bit)


def _film(n_lanes=11, *, seed=3, shape=(420, 620), saturate=False, rows=("A", "B"),
          row_y=(150, 230), band_width=None):
    """A dark-on-light 8-bit synthetic film and its lane centres (columns)."""
    b = make_blot(seed, shape=shape, n_lanes=n_lanes, rows=rows, row_y=row_y,
                  polarity="dark-on-light", dtype="uint8", lane_margin=0.06,
                  saturate=saturate, band_width=band_width,
                  loads=np.linspace(0.6, 1.0, n_lanes))
    xs = np.sort(b.truth.lanes["x"].to_numpy(float))
    return np.ascontiguousarray(b.image), xs


def _bounds(xs, sizes):
    """(left, right) column of each group: half a pitch beyond its end lanes."""
    p = float(np.median(np.diff(xs)))
    out, i = [], 0
    for n in sizes:
        out.append((xs[i] - 0.5 * p, xs[i + n - 1] + 0.5 * p))
        i += n
    return out


def _bracket(img, x0, x1, y, *, up=True, gap=3, thick=2, ticks=True, centre=True):
    """A printed bracket from x0 to x1 at row y: the line (``gap`` px short of each end),
    end ticks towards the bands (up when the bracket is below them) and a centre tick
    away from them."""
    a, b = int(round(x0 + gap)), int(round(x1 - gap))
    s = -1 if up else 1
    cv2.line(img, (a, y), (b, y), INK, thick)
    if ticks:
        cv2.line(img, (a, y), (a, y + s * 12), INK, thick)
        cv2.line(img, (b, y), (b, y + s * 12), INK, thick)
    if centre:
        c = int(round(0.5 * (a + b)))
        cv2.line(img, (c, y), (c, y - s * 14), INK, thick)


def _run(img, **kw):
    return quantify_blot(img, **kw)


def _sizes(res):
    lanes = res.lanes[~res.lanes["is_ladder"].astype(bool)]
    return [int((lanes["strip"] == s).sum()) for s in sorted(set(lanes["strip"]))]


@pytest.mark.parametrize("sizes", [(4, 3, 4), (5, 5), (3, 3, 3)])
def test_brackets_under_the_bands_part_the_lanes(sizes):
    img, xs = _film(sum(sizes))
    for x0, x1 in _bounds(xs, sizes):
        _bracket(img, x0, x1, 300)
    res = _run(img)
    assert _sizes(res) == list(sizes)
    assert res.params["strip_source"] == ["group lines"] * len(sizes)
    lines = res.params["group_lines"]
    assert len(lines) == len(sizes)
    assert all(abs(r0 - 300) <= 2 and abs(r1 - 300) <= 2 for r0, _, r1, _ in lines)
    # each strip holds its group's lanes, left to right
    x = res.lanes.sort_values("x")
    assert x["strip"].tolist() == [s for s, n in enumerate(sizes, 1) for _ in range(n)]


def test_plain_group_lines_over_the_bands_part_the_lanes():
    img, xs = _film(10)
    for x0, x1 in _bounds(xs, (5, 5)):
        _bracket(img, x0, x1, 90, up=False, ticks=False, centre=False)
    res = _run(img)
    assert _sizes(res) == [5, 5]
    assert res.params["strip_source"] == ["group lines", "group lines"]


def test_touching_brackets_one_pixel_apart():
    img, xs = _film(9)
    for x0, x1 in _bounds(xs, (3, 3, 3)):
        _bracket(img, x0, x1, 300, gap=1)
    assert _sizes(_run(img)) == [3, 3, 3]


def test_saturated_bar_row_with_brackets():
    # touching bands clipped to black, one bar across the lanes
    img, xs = _film(11, saturate=True, rows=("A",), row_y=(180,), band_width=None)
    p = float(np.median(np.diff(xs)))
    img[172:190, int(xs[0] - 0.45 * p):int(xs[-1] + 0.45 * p)] = np.minimum(
        img[172:190, int(xs[0] - 0.45 * p):int(xs[-1] + 0.45 * p)], 40)
    for x0, x1 in _bounds(xs, (4, 3, 4)):
        _bracket(img, x0, x1, 215)
    res = _run(img)
    assert sum(_sizes(res)) == 11
    assert _sizes(res) == [4, 3, 4]
    assert res.bands["saturated"].astype(bool).any()
    # the brackets are no band row
    assert res.bands.groupby("strip")["row"].nunique().tolist() == [1, 1, 1]


def _baseline(n=11):
    img, xs = _film(n)
    res = _run(img)
    return img, xs, _sizes(res)


def _one_strip(res, base):
    assert _sizes(res) == base
    assert res.params["strip_source"] == ["membrane"] * len(base)
    assert res.params["group_lines"] == []


def test_a_single_line_over_all_lanes_parts_nothing():
    img, xs, base = _baseline()
    (x0, x1), = _bounds(xs, (11,))
    _bracket(img, x0, x1, 300)
    _one_strip(_run(img), base)


def test_text_labels_part_nothing():
    img, xs, base = _baseline()
    # underscored names under the lanes and a row of group labels: their strokes
    # are short, and the underscores lie under single lanes
    for i, x in enumerate(xs):
        cv2.putText(img, f"S_{i}", (int(x) - 14, 330), cv2.FONT_HERSHEY_SIMPLEX, 0.4, INK, 1)
    cv2.putText(img, "Replicate_6  Replicate_7  Replicate_8", (40, 380),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, INK, 1)
    res = _run(img)
    assert res.params["group_lines"] == []
    assert set(res.params["strip_source"]) == {"membrane"}


def test_ladder_dashes_part_nothing():
    img, xs, base = _baseline()
    x = int(xs[0] - 0.9 * np.median(np.diff(xs)))
    for y in range(100, 300, 28):
        cv2.line(img, (x - 10, y), (x + 10, y), INK, 3)
    _one_strip(_run(img), base)


def test_a_drawn_box_parts_nothing():
    img, xs, base = _baseline()
    p = float(np.median(np.diff(xs)))
    cv2.rectangle(img, (int(xs[0] - 0.5 * p), 110), (int(xs[-1] + 0.5 * p), 270), INK, 2)
    _one_strip(_run(img), base)


def test_lines_whose_gap_is_not_at_a_lane_boundary_part_nothing():
    img, xs, base = _baseline()
    p = float(np.median(np.diff(xs)))
    # the gap at the centre of lane 5, not between two lanes
    cut = xs[4]
    _bracket(img, xs[0] - 0.5 * p, cut, 300, centre=False)
    _bracket(img, cut, xs[-1] + 0.5 * p, 300, centre=False)
    _one_strip(_run(img), base)


def test_a_given_lane_count_wins():
    img, xs = _film(11)
    for x0, x1 in _bounds(xs, (4, 3, 4)):
        _bracket(img, x0, x1, 300)
    res = _run(img, lanes=11)
    assert _sizes(res) == [11]
    assert res.params["group_lines"] == []


def test_split_groups_known_answer_and_centre_ticks():
    img = np.zeros((160, 300), np.float32)
    xs = 30.0 + 24.0 * np.arange(11)
    for x in xs:
        img[40:56, int(x) - 9:int(x) + 10] = 120.0
    bounds = _bounds(xs, (4, 3, 4))
    for x0, x1 in bounds:
        a, b = int(x0 + 2), int(x1 - 2)
        img[100:102, a:b] = 200.0
        img[88:100, a:a + 2] = 200.0           # end ticks up, towards the bands
        img[88:100, b - 2:b] = 200.0
        c = (a + b) // 2
        img[100:102, c - 2:c + 2] = 0.0        # the line broken by its centre tick
        img[102:116, c - 1:c + 1] = 200.0
    sizes, lines = split_groups(img, lambda r: xs, 0, 159, (40, 55))
    assert sizes == [4, 3, 4]
    # (the line starts where its end tick leaves it)
    assert np.allclose([g.col0 for g in lines], [int(b[0] + 2) for b in bounds], atol=3)
    assert np.allclose([g.row0 for g in lines], 100.5, atol=0.6)
    assert all(g.thick <= 2.5 for g in lines)
    # without the end ticks nothing says which way the bands are but the bands
    # themselves (above): the centre ticks still point away from them
    img2 = img.copy()
    for x0, x1 in bounds:
        a, b = int(x0 + 2), int(x1 - 2)
        img2[88:100, a:a + 2] = 0.0
        img2[88:100, b - 2:b] = 0.0
    assert split_groups(img2, lambda r: xs, 0, 159, (40, 55))[0] == [4, 3, 4]


def test_group_lines_rejects_thick_rows_and_short_strokes():
    img = np.zeros((120, 300), np.float32)
    img[20:32, 10:290] = 100.0              # a band row (12 px thick)
    img[60:66, 10:290] = 100.0              # a 6 px thick line: too thick for print
    img[90:92, 100:106] = 100.0             # a dash shorter than min_len
    img[100:102, 20:280] = 100.0            # a line
    found = group_lines(img, 0, 119, min_len=10)
    assert [(g.row0, g.col0, g.col1) for g in found] == [(100.5, 20, 279)]
    assert found[0].thick == pytest.approx(2.0)


def test_erase_lines_restores_the_level_around():
    img = np.full((60, 100), 10.0, np.float32)
    img[30:32, 5:95] = 250.0
    out = erase_lines(img, [[30.5, 5, 30.5, 94]])
    assert float(out[28:34, 5:95].max()) == pytest.approx(10.0)
    assert float(img[30, 50]) == 250.0      # a copy


def test_the_cap_of_a_broad_band_row_is_no_line():
    # touching broad bands (a row with shallow dips between lanes): a top-hat keeps
    # their flattened caps as thin "lines" that end near the lane boundaries
    yy, xx = np.mgrid[:200, :560]
    img = np.full((200, 560), 100.0)
    for x in 60 + 50 * np.arange(9):
        img += 1000 * np.exp(-0.5 * (((yy - 100) / 8.0) ** 2 + ((xx - x) / 22.0) ** 4))
    img += np.random.default_rng(1).normal(0, 3, img.shape)
    assert group_lines(img.astype(np.float32), 0, 199, min_len=12) == []
    # the same row with a printed line under it: the line is found, the caps are not
    img[160:162, 40:520] += 900
    found = group_lines(img.astype(np.float32), 0, 199, min_len=12)
    assert [(g.col0, g.col1) for g in found] == [(40, 519)]
    assert found[0].row0 == pytest.approx(160.5, abs=0.6)


def test_a_collinear_dash_beside_the_lanes_is_no_group():
    # a marker dash at the brackets' row, just left of the first lane (as on the
    # GAPDH film): a piece of the chain that covers no lane is left out
    img, xs = _film(11)
    p = float(np.median(np.diff(xs)))
    for x0, x1 in _bounds(xs, (4, 3, 4)):
        _bracket(img, x0, x1, 300)
    cv2.line(img, (int(xs[0] - 0.95 * p), 300), (int(xs[0] - 0.62 * p), 300), INK, 2)
    res = _run(img)
    assert _sizes(res) == [4, 3, 4]
    assert min(c0 for _, c0, _, _ in res.params["group_lines"]) > xs[0] - 0.6 * p
