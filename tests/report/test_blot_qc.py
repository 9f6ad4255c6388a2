"""The blot QC figure: what a person reads on it (colours, names, labels, fonts)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from blotquant.blot import quantify_blot
from blotquant.report import colors as C
from blotquant.report.blot_qc import MIN_FONT, band_color, blot_qc_figure, make_blot_qc_figure
from blotquant.synthetic import make_blot


@pytest.fixture(scope="module")
def saturated_result():
    b = make_blot(2, shape=(240, 360), n_lanes=4, empty_lanes=(2,), saturate=True)
    return quantify_blot(b.to_image(), rows=["ASNS", "ACTB"], lanes=4)


def _same(a, b) -> bool:
    return np.allclose(mcolors.to_rgb(a), mcolors.to_rgb(b), atol=1e-3)


def test_band_boxes_take_their_colour_from_what_they_mean(saturated_result):
    res = saturated_result
    fig = make_blot_qc_figure(res)
    boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(boxes) == len(res.bands)
    for p, rec in zip(boxes, res.bands.itertuples()):
        want = band_color(rec.saturated, rec.flags)
        assert _same(p.get_edgecolor(), want), (rec.lane, rec.row, rec.flags)
        if want == C.NOT_DETECTED:
            assert p.get_linestyle() in ("--", "dashed")
    kinds = {band_color(r.saturated, r.flags) for r in res.bands.itertuples()}
    assert {C.SATURATED, C.BAND} <= kinds      # the fixture has both kinds


def test_legend_explains_every_colour_shown(saturated_result):
    fig = make_blot_qc_figure(saturated_result)
    leg = fig.axes[0].get_legend()
    texts = [t.get_text() for t in leg.get_texts()]
    joined = " ".join(texts)
    assert "saturated" in joined and "not detected" in joined and "lane" in joined
    n_sat = int(saturated_result.bands["saturated"].sum())
    assert any(t.startswith("saturated") and f"({n_sat})" in t for t in texts)
    handle_colours = [h.get_edgecolor() if hasattr(h, "get_edgecolor") and not
                      hasattr(h, "get_xdata") else h.get_color() for h in leg.legend_handles]
    for c in (C.LANE, C.BAND, C.SATURATED, C.NOT_DETECTED):
        assert any(_same(h, c) for h in handle_colours), c


def test_rows_and_lanes_are_named_on_the_image(saturated_result):
    res = saturated_result
    texts = [t.get_text() for t in make_blot_qc_figure(res).axes[0].texts]
    assert {"ASNS", "ACTB"} <= set(texts)
    assert {str(ln.lane) for ln in res.lane_geometry} <= set(texts)


def test_profiles_have_axis_labels_and_legible_fonts(saturated_result):
    res = saturated_result
    fig = make_blot_qc_figure(res)
    profiles = fig.axes[1:]
    assert len(profiles) == len(res.lane_geometry)
    assert profiles[0].get_ylabel().startswith("signal (raw units")
    assert all(a.get_xlabel() == "image row (px)" for a in profiles)
    assert [a.get_title() for a in profiles] == [f"lane {ln.lane}" for ln in res.lane_geometry]
    for a in fig.axes:
        for lab in a.get_xticklabels() + a.get_yticklabels():
            assert lab.get_fontsize() >= MIN_FONT
        for t in (a.xaxis.label, a.yaxis.label, a.title):
            if t.get_text():
                assert t.get_fontsize() >= MIN_FONT


def test_title_is_plain_text(saturated_result):
    title = make_blot_qc_figure(saturated_result).axes[0].get_title()
    assert "[" not in title and "'" not in title
    assert "4 lanes" in title and "ASNS, ACTB" in title


def test_written_png(tmp_path, saturated_result):
    from PIL import Image
    p = blot_qc_figure(saturated_result, tmp_path / "qc.png")
    with Image.open(p) as im:
        assert im.format == "PNG" and im.size[0] > 500


def test_lane_names_in_profile_titles(saturated_result):
    names = ["OVCAR8", "SKOV3", "A2780", "IGROV1"]
    fig = make_blot_qc_figure(saturated_result, lane_labels=names)
    titles = [a.get_title() for a in fig.axes[1:]]
    assert titles == [f"lane {ln.lane}: {names[ln.lane - 1]}"
                      for ln in saturated_result.lane_geometry]
    fig = make_blot_qc_figure(saturated_result, lane_labels={2: "SKOV3"})
    assert fig.axes[2].get_title() == "lane 2: SKOV3" and fig.axes[1].get_title() == "lane 1"
