"""Benchmark: nuclei cut by the edge of the field (synthetic, known truth).

Run:  python benchmarks/bench_edge.py [--seeds 4]

A synthetic field (``make_cell_image`` layout, 256 x 256 um) is rendered whole and
then cut into windows (``WINDOW_UM`` wide, at random offsets), so the window edges
cut real nuclei through their middle, near their rim or anywhere between, with the
tissue beyond the edge as it was.  Each window is scored on its own.  Truth: the
visible part of every true nucleus in the window (at least ``MIN_TRUE_UM2``, as the
DeepLIIF truth keeps components of 30 px at 0.23 um/px); *edge* nuclei are those whose
visible part touches the window border.  Matching is the real tiles' rule
(``bench_cells.match_truth``): a detected centroid within the equivalent radius of
the true visible part, one to one.  Detections are *edge* when their nucleus touches
the border.  Two markers: ``nuclear`` (Ki67-like: ``bench_cells.make_nuclear_image``,
``score_ihc(marker="nuclear")``, OD-sum detection) and ``cytoplasmic`` (the standard
layout, hematoxylin detection); pixel size given (0.5 and 0.25 um/px).
"""

from __future__ import annotations

import argparse
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core (before numpy)
    os.environ.setdefault(_v, "1")

import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from bench_cells import make_nuclear_image, match_truth
from blotquant.synthetic.cells import make_cell_image

#: Side of each scored window (um): a few cells across, so a good share of the nuclei
#: touches a border.
WINDOW_UM = 64.0
#: Windows per field.
WINDOWS = 6
#: Smallest visible part of a true nucleus that counts (um^2): the DeepLIIF truth's
#: 30 px components at 0.23 um/px.
MIN_TRUE_UM2 = 1.6


def _truth_in(nuclei, positive, window, px):
    """Visible true nuclei of one window: y, x, radius, positive, at_edge."""
    y0, y1, x0, x1 = window
    lab = nuclei[y0:y1, x0:x1]
    ids = np.unique(lab)
    ids = ids[ids > 0]
    ones = np.ones(lab.shape)
    area = ndi.sum(ones, lab, ids)
    cy, cx = np.array(ndi.center_of_mass(ones, lab, ids)).reshape(-1, 2).T
    edge = np.zeros(int(nuclei.max()) + 1, bool)
    for e in (lab[0], lab[-1], lab[:, 0], lab[:, -1]):
        edge[e] = True
    keep = area * px * px >= MIN_TRUE_UM2
    return pd.DataFrame({"y": cy[keep], "x": cx[keep], "radius": np.sqrt(area[keep] / np.pi),
                         "positive": positive[ids[keep] - 1], "at_edge": edge[ids[keep]]})


def _windows(rng, shape, side):
    out = []
    for _ in range(WINDOWS):
        y0 = int(rng.integers(0, shape[0] - side + 1))
        x0 = int(rng.integers(0, shape[1] - side + 1))
        out.append((y0, y0 + side, x0, x0 + side))
    return out


def run(seeds, markers=("nuclear", "cytoplasmic"), pixel_sizes=(0.5, 0.25), cell_params=None,
        field_edges=False):
    """Score every window; ``field_edges``: judge nuclei the window edge cuts by their
    visible part (``detect_cells(field_edges=ALL_EDGES)``, not yet on in ``score_ihc``)."""
    import functools

    import blotquant.ihc.cells as cells_mod
    from blotquant.ihc import score_ihc
    from blotquant.ihc.nuclei import ALL_EDGES

    if field_edges:  # score_ihc has no field-edge argument yet: set the default for this run
        original = cells_mod.detect_cells
        cells_mod.detect_cells = functools.partial(original, field_edges=ALL_EDGES)
        try:
            return run(seeds, markers, pixel_sizes, cell_params, False)
        finally:
            cells_mod.detect_cells = original

    rows = []
    for marker in markers:
        for px in pixel_sizes:
            side_field = round(256 / px)
            side = round(WINDOW_UM / px)
            for seed in seeds:
                s = make_cell_image(seed, shape=(side_field, side_field), pixel_size_um=px)
                if marker == "nuclear":
                    rgb, table = make_nuclear_image(seed, px)
                    positive = table.positive.to_numpy()
                else:
                    rgb = s.image
                    positive = s.truth.table["class"].to_numpy() > 0
                rng = np.random.default_rng(500 + seed)
                for w in _windows(rng, rgb.shape[:2], side):
                    truth = _truth_in(s.truth.nuclei, positive, w, px)
                    crop = np.ascontiguousarray(rgb[w[0]:w[1], w[2]:w[3]])
                    res = score_ihc(crop, marker=marker, pixel_size_um=px, white_point=255,
                                    cell_params=cell_params or {})
                    cells = res.cells
                    lab = res.nuclei_labels
                    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
                    d_edge = np.isin(cells.cell.to_numpy(), border)
                    r, k = match_truth(truth, cells)
                    t_edge = truth.at_edge.to_numpy()
                    t_hit = np.zeros(len(truth), bool)
                    t_hit[r] = True
                    d_hit = np.zeros(len(cells), bool)
                    d_hit[k] = True
                    rows.append({"marker": marker, "um_per_px": px, "seed": seed,
                                 "true": len(truth), "true_edge": int(t_edge.sum()),
                                 "found": int(t_hit.sum()), "found_edge": int((t_hit & t_edge).sum()),
                                 "cells": len(cells), "cells_edge": int(d_edge.sum()),
                                 "right": int(d_hit.sum()), "right_edge": int((d_hit & d_edge).sum()),
                                 "pct_err": float(res.summary.pct_positive[0])
                                 - 100 * float(truth.positive.mean()) if len(truth) else 0.0})
    df = pd.DataFrame(rows)
    g = df.groupby(["marker", "um_per_px"], sort=False).sum(numeric_only=True)
    out = pd.DataFrame({
        "true": g.true, "true_edge": g.true_edge,
        "recall": g.found / g.true,
        "recall_edge": g.found_edge / g.true_edge,
        "recall_interior": (g.found - g.found_edge) / (g.true - g.true_edge),
        "precision": g.right / g.cells,
        "precision_edge": g.right_edge / g.cells_edge,
        "precision_interior": (g.right - g.right_edge) / (g.cells - g.cells_edge),
        "cells_edge": g.cells_edge,
    })
    out["pct_err_abs_mean"] = df.assign(a=df.pct_err.abs()).groupby(["marker", "um_per_px"], sort=False).a.mean()
    return df, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--field-edges", action="store_true",
                    help="judge nuclei the window edge cuts by their visible part")
    a = ap.parse_args(argv)
    _, out = run(range(a.seeds), field_edges=a.field_edges)
    print(f"\nNuclei cut by the window edge (synthetic; {WINDOWS} windows of {WINDOW_UM:g} um per "
          f"field, {a.seeds} fields per row; pixel size given):")
    print(out.round(3).to_string())


if __name__ == "__main__":
    main()
