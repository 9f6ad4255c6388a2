"""Widget descriptions from the models, readable numbers, the IHC score table (no viewer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def test_every_blot_and_ihc_field_is_described_from_its_model():
    from blotquant.blot.params import BlotParams
    from blotquant.ihc.params import IHCParams
    from napari_blotquant._state.forms import accepts, field_spec

    for model in (BlotParams, IHCParams):
        for name in model.names():
            f = field_spec(model, name)
            assert f.default == model.defaults()[name]
            assert f.tooltip.lower().startswith(model.spec(name).help[:10].lower())
            if f.kind == "choice":
                assert all(accepts(model, name, o) for o in f.options)
                assert f.default is None or f.default in f.options
            if f.kind in ("int", "float"):
                assert accepts(model, name, f.minimum) and accepts(model, name, f.maximum)
                if f.default is not None:
                    assert f.minimum <= f.default <= f.maximum


@pytest.mark.parametrize("model_name, name, lo, hi", [
    ("blot", "sensitivity", 0.01, 1.0),  # (0, 1]
    ("blot", "min_row_lanes", 0.0, 1.0),  # [0, 1]
    ("blot", "border_width", 1, 100000),
    ("blot", "lanes", 1, 100000),
    ("ihc", "magnification", 1.0, 150.0),
])
def test_ranges_are_the_models(model_name, name, lo, hi):
    from blotquant.blot.params import BlotParams
    from blotquant.ihc.params import IHCParams
    from napari_blotquant._state.forms import field_spec

    f = field_spec(BlotParams if model_name == "blot" else IHCParams, name)
    assert (f.minimum, f.maximum) == (lo, hi)


def test_auto_fields_read_back_as_none():
    from blotquant.blot.params import BlotParams
    from napari_blotquant._state.forms import field_spec, value_of

    lanes = field_spec(BlotParams, "lanes")
    assert lanes.auto and value_of(lanes, 0) is None and value_of(lanes, 9) == 9
    width = field_spec(BlotParams, "lane_width")
    assert value_of(width, 0.0) is None and value_of(width, 22.5) == 22.5
    assert not field_spec(BlotParams, "radius").auto


@pytest.mark.parametrize("value, text", [
    (12901234.4, "12,901,234"), (1.29e7, "12,900,000"), (987.654, "988"), (2.5, "2.5"),
    (0.0012345, "0.00123"), (-3.25, "-3.25"), (0, "0"), (np.int64(12345), "12,345"),
    (np.float32(1.5), "1.5"), (np.nan, ""), (None, ""), (np.bool_(False), "no"),
    ("saturated_target", "saturated_target"),
])
def test_number_text(value, text):
    from napari_blotquant._state.format import number_text

    assert number_text(value) == text


def _summary():
    return pd.DataFrame({
        "region": ["tumour", "empty"], "n": [1234, 0], "n_negative": [234, 0],
        "n_1plus": [400, 0], "n_2plus": [400, 0], "n_3plus": [200, 0],
        "pct_negative": [18.96, np.nan], "pct_1plus": [32.41, np.nan],
        "pct_2plus": [32.41, np.nan], "pct_3plus": [16.21, np.nan],
        "pct_positive": [81.04, np.nan], "h_score": [145.9, np.nan], "allred": [7.0, np.nan],
        "allred_proportion": [5.0, np.nan], "allred_intensity": [2.0, np.nan],
        "irs": [8.0, np.nan], "irs_proportion": [4.0, np.nan], "irs_intensity": [2.0, np.nan],
        "mean_dab_od": [0.41, np.nan]})


def test_score_table_is_for_people():
    from napari_blotquant._state.ihc import score_table, status_text

    t = score_table(_summary(), mode="cell").set_index("score")
    assert t.index.tolist() == ["H-score", "% positive", "% 1+", "% 2+", "% 3+", "Allred",
                                "IRS", "cells"]
    assert t["tumour"].tolist() == ["146", "81.0%", "32.4%", "32.4%", "16.2%",
                                    "7 (PS 5 + IS 2)", "8 (PP 4 x SI 2)", "1,234"]
    assert t.loc["H-score", "empty"] == "no cells in this region"
    assert not t["empty"].str.contains("nan").any() and t.loc["cells", "empty"] == "0"
    assert "n_1plus" not in t.index and "mean_dab_od" not in t.index
    assert status_text(_summary(), mode="cell") == (
        "tumour: H-score 146, 81.0% positive; empty: no cells in this region")
    # a stain warning of the result comes first, its full text in the tooltip
    from blotquant.ihc.stains import stain_fit_note
    from napari_blotquant._state.ihc import comparison_reasons

    note = stain_fit_note({"n_stained": 5000, "off_plane_fraction": 0.3, "off_plane_deg": 15.0})
    warned = status_text(_summary(), mode="cell", params={"stain_note": note})
    assert warned.startswith("WARNING: 30% of the stained pixels have colours that no mix")
    assert warned.endswith("empty: no cells in this region") and "H&E?" not in warned
    assert comparison_reasons(None, {"stain_note": note}) == "warning: " + note
    assert comparison_reasons(None, {"stain_note": ""}) == ""
    pix = score_table(_summary(), mode="pixel").set_index("score")
    assert pix.index[-1] == "pixels" and pix.loc["H-score", "empty"] == "no tissue in this region"
    assert score_table(None, mode="cell") is None


def test_ihc_params_and_stain_choices_are_the_models():
    from blotquant.ihc.params import IHCParams
    from napari_blotquant._state.forms import accepts
    from napari_blotquant._state.ihc import STAINS_CHOICES, ihc_params, recorded_params

    assert all(accepts(IHCParams, "stains", s) for s in STAINS_CHOICES)
    m = ihc_params({"mode": "pixel", "thresholds": (0.2, 0.4, 0.55), "compartment": None})
    assert m == IHCParams(mode="pixel", thresholds=(0.2, 0.4, 0.55))
    assert recorded_params(m) == {"mode": "pixel", "thresholds": [0.2, 0.4, 0.55]}


def test_one_colour_code():
    from blotquant.report import colors as C
    from blotquant.report.ihc_overlay import CLASS_COLORS as FIGURE_CLASSES
    from napari_blotquant._state import layers as L
    from napari_blotquant._state.regions import CLASS_COLORS

    for k, hexcol in C.IHC_CLASS_CODES.items():  # the dock's class map = the QC overlay's
        assert C.rgb8(hexcol) == tuple(int(v) for v in FIGURE_CLASSES[k])
        assert CLASS_COLORS[k] == C.rgba(hexcol)
    feats = pd.DataFrame({"saturated": [False, True, False], "flags": ["", "", "not_detected"],
                          "is_ladder": [False, False, True]})
    assert L.band_colors(feats) == [C.BAND, C.SATURATED, C.NOT_DETECTED]
    assert L.lane_colors(feats) == [C.LANE, C.LANE, C.LADDER]
    assert len({C.BAND, C.SATURATED, C.NOT_DETECTED, C.LANE, C.LADDER}) == 5


def test_cell_mode_table_shows_pixel_scores_and_why_they_differ():
    from blotquant.ihc.compare import compare_modes
    from napari_blotquant._state.ihc import comparison_reasons, score_table, status_text

    s = _summary().assign(mode="cell", pixel_h_score=[80.2, np.nan],
                          pixel_pct_positive=[55.0, np.nan], area_px=[500_000, 0])
    cells = pd.DataFrame({"region": ["tumour"] * 1234, "cell_area": [300] * 1234,
                          "nucleus_area": [100] * 1234})
    cmp = compare_modes(s, cells, params={"marker": "cytoplasmic"})
    t = score_table(s, mode="cell", comparison=cmp).set_index("score")
    assert t.index.tolist()[-3:] == ["pixel H-score", "pixel % positive", "cell vs pixel"]
    assert t.loc["pixel H-score", "tumour"] == "80"
    assert t.loc["pixel % positive", "tumour"] == "55.0%"
    assert t.loc["cell vs pixel", "tumour"] == "differ: pixel lower by 66 points"
    assert t.loc["cell vs pixel", "empty"] == ""
    text = status_text(s, mode="cell", comparison=cmp)
    assert text.endswith("; tumour: cell H-score 146 vs pixel 80: differ")
    why = comparison_reasons(cmp)       # the reasons go to the status tooltip
    assert why.startswith("tumour: cell H-score 146 vs pixel 80: differ (pixel mode is lower "
                          "by 66 points")
    assert "covers 49% of the scored tissue" in why and "\n" not in why
    assert comparison_reasons(cmp.assign(agree=True)) == ""
    # without a comparison (or in pixel mode) the table is the plain score table
    assert score_table(s, mode="cell").index.size == 8
    assert score_table(s, mode="pixel", comparison=cmp).index.size == 8
