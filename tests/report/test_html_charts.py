"""The report's charts: labels a person reads, units, clipped error bars, integer counts."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest

from blotquant.report import colors as C
from blotquant.report.html import (_ihc_scores, bar_chart_with_points, blot_charts,
                                   ihc_charts, render_report)


def _errorbar_segments(ax):
    lc = [c for c in ax.collections if c.__class__.__name__ == "LineCollection"][0]
    return lc.get_segments()


def test_sd_bar_stops_at_zero():
    # mean 1.73, SD 2.8: a symmetric bar would reach -1.1
    df = pd.DataFrame({"condition": "a", "replicate": [1, 2, 3], "v": [0.1, 0.1, 5.0]})
    ax = bar_chart_with_points(df, "v").axes[0]
    (seg,) = _errorbar_segments(ax)
    lo, hi = sorted(p[1] for p in seg)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert hi == pytest.approx(np.mean([0.1, 0.1, 5.0]) + np.std([0.1, 0.1, 5.0], ddof=1))
    assert ax.get_ylim()[0] == 0


def _norm():
    rows = []
    for rep in (1, 2, 3):
        for lane, lab, val in ((1, "OVCAR8", 1.0), (2, "SKOV3", 0.7 + 0.05 * rep),
                               (3, "A2780", 0.2)):
            rows.append(dict(image=f"b{rep}", condition="baseline", replicate=rep, lane=lane,
                             lane_label=lab, target="ASNS", control="ACTB",
                             ratio=val * 2, relative_ratio=val, flags="", reference_lane=1))
    return pd.DataFrame(rows)


def test_ratio_chart_names_the_reference_lane_and_colours_it():
    ((alt, fig),) = blot_charts(_norm(), pd.DataFrame({"row": ["ASNS"]}))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "ASNS / ACTB, relative to lane 1"
    assert "relative_ratio" not in ax.get_ylabel() + ax.get_title()
    bars = ax.patches
    labels = [t.get_text() for t in ax.get_xticklabels()]
    ref = labels.index("OVCAR8")
    assert np.allclose(mcolors.to_rgb(bars[ref].get_facecolor()), mcolors.to_rgb(C.REFERENCE))
    assert not np.allclose(mcolors.to_rgb(bars[1 - ref if ref else 1].get_facecolor()),
                           mcolors.to_rgb(C.REFERENCE))


def test_ratio_label_without_reference_lane_column():
    n = _norm().drop(columns="reference_lane")
    ((_, fig),) = blot_charts(n, pd.DataFrame({"row": ["ASNS"]}))
    assert fig.axes[0].get_ylabel() == "ASNS / ACTB, relative to the reference lane"


def test_ihc_charts_have_units_and_integer_count_ticks():
    reg = pd.DataFrame({"image": list("abcde"), "condition": ["x", "x", "y", "y", "y"],
                        "replicate": [1, 2, 1, 2, 3], "region": "image",
                        "h_score": [150.0, 172.0, 60.0, 7.0, 0.0],
                        "pct_positive": [80.0, 80.0, 49.0, 5.0, 0.0]})
    cells = pd.DataFrame({"cytoplasm_dab_od_mean": np.linspace(0.05, 0.9, 37)})
    figs = dict(ihc_charts(reg, cells))
    bar = figs["H-score per condition"].axes[0]
    assert bar.get_ylabel() == "H-score (0-300)"
    for seg in _errorbar_segments(bar):
        assert min(p[1] for p in seg) >= 0
    hist = figs["H-score distribution"].axes[0]
    assert hist.get_xlabel() == "H-score (0-300)"
    ticks = [t for t in hist.get_yticks() if hist.get_ylim()[0] <= t <= hist.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    cell = figs["cytoplasm DAB OD (mean per cell) distribution"].axes[0]
    assert cell.get_xlabel() == "cytoplasm DAB OD (mean per cell)"
    assert cell.get_ylabel() == "cells"
    assert all(float(t).is_integer() for t in cell.get_yticks())


def test_ihc_thumbnails_carry_the_score():
    reg = pd.DataFrame({"image": ["t.png"], "region": ["image"], "h_score": [125.4],
                        "pct_positive": [64.2]})
    assert _ihc_scores(reg) == {"t.png": "H-score 125 · 64 % positive"}
    html = render_report(tables={"ihc_regions": reg}, errors=pd.DataFrame(),
                         images=[{"name": "t.png", "ok": True, "kind": "ihc"}])
    assert "<span class='score'>H-score 125 · 64 % positive</span>" in html
    assert C.LEGEND_BLOT in html
