"""IHC overlay figure: class colours, legend, scores and a labelled OD scale."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.ihc import score_ihc
from blotquant.report import colors as C
from blotquant.report.ihc_overlay import CLASS_COLORS, class_overlay, save_overlay_figure
from blotquant.synthetic import make_ihc


def test_overlay_paints_each_class_in_its_colour():
    rgb = np.full((1, 5, 3), 255, np.uint8)
    cm = np.array([[0, 1, 2, 3, 4]], np.uint8)
    out = class_overlay(rgb, cm, alpha=1.0)
    assert out[0, 0].tolist() == [255, 255, 255]       # unscored keeps the image
    for k, name in enumerate(C.IHC_CLASS_NAMES, start=1):
        assert tuple(out[0, k]) == C.rgb255(C.IHC_CLASSES[name]) == tuple(CLASS_COLORS[k])


def test_figure_states_scores_and_units(tmp_path, monkeypatch):
    import matplotlib.figure as mfig

    s = make_ihc(seed=0, shape=(64, 64))
    r = score_ihc(s.image, mode="pixel")
    seen = {}
    orig = mfig.Figure.savefig

    def keep(self, *a, **k):
        seen["fig"] = self
        return orig(self, *a, **k)
    monkeypatch.setattr(mfig.Figure, "savefig", keep)
    save_overlay_figure(s.image, r, tmp_path / "f.png")
    fig = seen["fig"]
    sup = fig._suptitle.get_text()
    h = r.summary["h_score"].iloc[0]
    assert f"H-score {h:.1f} (0-300)" in sup and "pixels scored" in sup
    leg = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert leg == ["negative", "1+", "2+", "3+"]
    cbar = fig.axes[-1]
    assert cbar.get_ylabel() == "DAB OD (log10, QuPath units)"
    assert pytest.approx(sorted(ln.get_ydata()[0] for ln in cbar.lines)) == list(r.thresholds)


@pytest.mark.parametrize("alpha", [0.3, 0.55, 0.8])
def test_table_blend_equals_the_float_formula(alpha):
    from blotquant.report.ihc_overlay import CLASS_COLORS, class_overlay

    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    cm = rng.integers(0, 5, (64, 80)).astype(np.uint8)
    want = img.astype(np.float32)
    painted = cm > 0
    col = CLASS_COLORS[cm].astype(np.float32)
    want[painted] = (1 - alpha) * want[painted] + alpha * col[painted]
    want = np.clip(np.rint(want), 0, 255).astype(np.uint8)
    got = class_overlay(img, cm, alpha=alpha)
    assert np.array_equal(got, want)
    assert np.array_equal(got[~painted], img[~painted])
