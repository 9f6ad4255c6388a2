"""The benchmark's sorting of real-tile errors into kinds (``bench_cells.sort_errors``)
and the registration of the DeepLIIF truth onto the IHC tile (``truth_offset``)."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest


def _bench():
    return importlib.import_module("bench_cells")


def _disk(lab, y, x, r, value):
    yy, xx = np.mgrid[: lab.shape[0], : lab.shape[1]]
    lab[(yy - y) ** 2 + (xx - x) ** 2 <= r * r] = value


def _truth_table(lab, at_edge=()):
    rows = []
    for i in range(1, int(lab.max()) + 1):
        ys, xs = np.nonzero(lab == i)
        rows.append({"y": ys.mean(), "x": xs.mean(), "radius": np.sqrt(ys.size / np.pi),
                     "positive": False, "at_edge": i in at_edge, "label": i})
    return pd.DataFrame(rows)


def _cells(lab):
    rows = []
    for i in range(1, int(lab.max()) + 1):
        ys, xs = np.nonzero(lab == i)
        rows.append({"cell": i, "y": ys.mean(), "x": xs.mean()})
    return pd.DataFrame(rows)


def test_sort_errors_names_each_kind():
    bench = _bench()
    truth_lab = np.zeros((120, 160), np.int32)
    _disk(truth_lab, 30, 30, 10, 1)    # found, plus a piece of it
    yy, xx = np.mgrid[:120, :160]
    truth_lab[((xx - 90) / 18.0) ** 2 + ((yy - 30) / 5.0) ** 2 <= 1] = 2  # thin: equivalent radius 9.5
    _disk(truth_lab, 90, 30, 10, 3)    # no detection
    _disk(truth_lab, 90, 90, 10, 4)    # shares one detection with nucleus 5
    _disk(truth_lab, 90, 112, 10, 5)
    truth_lab[0:6, 140:152] = 6        # cut by the tile edge, missed
    truth = _truth_table(truth_lab, at_edge=(6,))
    det = np.zeros_like(truth_lab)
    _disk(det, 30, 28, 7, 1)           # matches nucleus 1
    det[33:40, 36:41] = 2              # the rest of nucleus 1: a piece
    det[27:34, 96:111] = 3             # on nucleus 2 but 13 px from its centre: off-centre
    _disk(det, 90, 96, 14, 4)          # matches nucleus 4, covers a third of nucleus 5
    _disk(det, 40, 140, 6, 5)          # bright in DAPI, no truth
    _disk(det, 100, 145, 6, 6)         # dark in DAPI, no truth
    dapi = np.full(truth_lab.shape, 10.0)
    dapi[truth_lab > 0] = 200.0
    _disk(dapi, 40, 140, 6, 150.0)
    cells = _cells(det)
    matched = bench.match_truth(truth, cells)
    false, missed = bench.sort_errors(truth, truth_lab, det, cells, matched, dapi)
    got = {(round(r.x), round(r.y)): r.kind for r in false.itertuples()}
    assert got[(38, 36)] == "piece of a matched nucleus", got
    assert got[(140, 40)] == "no truth, DAPI signal"
    assert got[(145, 100)] == "no truth, no DAPI signal"
    assert len(false) == 4 and (false.kind == "offset from a missed nucleus").sum() == 1
    got = {(round(r.x), round(r.y)): r.kind for r in missed.itertuples()}
    assert got == {(30, 90): "no detection", (90, 30): "own detection off-centre",
                   (112, 90): "shares a detection with a matched neighbour",
                   (146, 2): "cut by the tile edge"}, got


def test_shift_truth_moves_table_and_labels_together():
    bench = _bench()
    lab = np.zeros((50, 60), np.int32)
    lab[10:20, 30:40] = 1
    truth = _truth_table(lab)
    t, moved = bench.shift_truth(truth, lab, (7, -3))
    ys, xs = np.nonzero(moved == 1)
    assert (xs.mean(), ys.mean()) == pytest.approx((t.x.iloc[0], t.y.iloc[0]))
    assert xs.min() == 37 and ys.min() == 7
    # nothing wraps round the border
    far = bench.shift_image(lab, (25, 0))
    assert far[:, :30].sum() == 0 and (far == 1).sum() == 5 * 10


def test_truth_offset_of_the_deepliif_tiles(shared_ihc):
    """The immunofluorescence truth sits 7 px (1.6 um) beside Bladder1's IHC and 7 px
    above Lung1's; the matched centroids agree (median offset detection - truth:
    Bladder1 +6.3 / +0.5 px, Lung1 +0.1 / -7.5 px)."""
    from skimage import io

    bench = _bench()
    folder = shared_ihc / "deepliif"
    for name, expected in (("Bladder1", (7, 1)), ("Lung1", (1, -7))):
        rgb = io.imread(folder / f"train_{name}_ihc.png")[..., :3]
        dx, dy = bench.truth_offset(folder, name, rgb)
        assert abs(dx - expected[0]) <= 1 and abs(dy - expected[1]) <= 1, (name, dx, dy)


def test_match_overlap_is_one_to_one_with_known_iou():
    bench = _bench()
    truth_lab = np.zeros((40, 60), np.int32)
    _disk(truth_lab, 20, 15, 6, 1)
    _disk(truth_lab, 20, 45, 6, 2)
    nuclei = np.zeros_like(truth_lab)
    nuclei[truth_lab == 1] = 1  # identical: IoU 1
    shifted = np.roll(truth_lab == 2, 6, axis=1)  # moved by a radius: IoU well below 0.5
    nuclei[shifted] = 2
    truth, cells = _truth_table(truth_lab), _cells(nuclei)
    r, k, iou = bench.match_overlap(truth, truth_lab, cells, nuclei)
    assert list(r) == [0] and list(k) == [0]
    assert iou[0] == pytest.approx(1.0)
    r, k, iou = bench.match_overlap(truth, truth_lab, cells, nuclei, min_iou=0.2)
    assert sorted(r) == [0, 1]
    inter = ((truth_lab == 2) & shifted).sum()
    assert iou[list(r).index(1)] == pytest.approx(inter / (2 * shifted.sum() - inter), abs=1e-9)
    # one detection over two true nuclei matches one of them only
    both = np.where(truth_lab > 0, 1, 0).astype(np.int32)
    r, k, _ = bench.match_overlap(truth, truth_lab, _cells(both), both, min_iou=0.3)
    assert len(r) == 1 and list(k) == [0]
