"""Cell mode beside pixel mode (issue 11 item 5): agreement and its reasons."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from blotquant.ihc import score_ihc
from blotquant.ihc.compare import AGREEMENT_LIMITS, compare_modes, comparison_text
from blotquant.synthetic import make_cell_image


def _summary(cell_h, pixel_h, n=400, area=100_000, cell_pct=80.0, pixel_pct=75.0):
    return pd.DataFrame({"region": ["r"], "mode": ["cell"], "n": [n], "h_score": [cell_h],
                         "pct_positive": [cell_pct], "pixel_h_score": [pixel_h],
                         "pixel_pct_positive": [pixel_pct], "area_px": [area]})


def _cells(n, cell_area, nucleus_area):
    return pd.DataFrame({"region": ["r"] * n, "cell_area": [cell_area] * n,
                         "nucleus_area": [nucleus_area] * n})


@pytest.mark.parametrize("diff, agree", [(29.9, True), (-30.0, True), (30.5, False),
                                         (-80.0, False)])
def test_agreement_limit_on_the_headline_score(diff, agree):
    t = compare_modes(_summary(150.0, 150.0 + diff), _cells(400, 250, 50),
                      params={"marker": "cytoplasmic"})
    row = t.iloc[0]
    assert row["score"] == "h_score" and bool(row["agree"]) is agree
    assert row["difference"] == pytest.approx(diff)
    assert (row["reasons"] == "") is agree
    assert AGREEMENT_LIMITS["h_score"] == 30.0


def test_reasons_name_coverage_compartment_and_few_cells():
    # 20 cells of 500 px cytoplasm (600 - 100) over 100 000 px of tissue: 10 % coverage
    t = compare_modes(_summary(200.0, 60.0, n=20), _cells(20, 600, 100),
                      params={"marker": "cytoplasmic", "compartment_used": "cytoplasm",
                              "measure": "max"})
    row = t.iloc[0]
    assert row["cell_coverage"] == pytest.approx(20 * 500 / 100_000)
    assert "pixel mode is lower by 140 points" in row["reasons"]
    assert "covers 10% of the scored tissue" in row["reasons"]
    assert "cytoplasm max DAB OD" in row["reasons"]
    assert "only 20 cells" in row["reasons"]


def test_nuclear_marker_compares_percent_positive_over_nuclei():
    t = compare_modes(_summary(100.0, 100.0, cell_pct=40.0, pixel_pct=62.0),
                      _cells(400, 250, 50), params={"marker": "nuclear"})
    row = t.iloc[0]
    assert row["score"] == "pct_positive" and not row["agree"]
    assert row["cell_coverage"] == pytest.approx(400 * 50 / 100_000)
    assert "nuclei cover 20%" in row["reasons"]
    assert comparison_text(row.to_dict()).startswith("r: cell % positive 40.0% vs pixel 62.0%")


def test_region_without_cells_has_nothing_to_compare():
    t = compare_modes(_summary(math.nan, 120.0, n=0), None, params={})
    assert not t.iloc[0]["agree"] and "nothing to compare" in t.iloc[0]["reasons"]
    assert math.isnan(t.iloc[0]["cell_coverage"])


def test_on_a_scored_field_the_table_is_the_summary_and_cells():
    im = make_cell_image(1, shape=(384, 384))
    res = score_ihc(im.image, mode="cell", pixel_size_um=0.5)
    t = compare_modes(res.summary, res.cells, params=res.params)
    s = res.summary.iloc[0]
    assert len(t) == len(res.summary) == 1
    assert t.iloc[0]["difference"] == pytest.approx(s["pixel_h_score"] - s["h_score"])
    cyto = (res.cells["cell_area"] - res.cells["nucleus_area"]).sum()
    assert t.iloc[0]["cell_coverage"] == pytest.approx(cyto / s["area_px"])
    assert 0 < t.iloc[0]["cell_coverage"] < 1
    # pixel mode: both scores are the same numbers, nothing to compare
    pix = score_ihc(im.image, mode="pixel", pixel_size_um=0.5)
    assert compare_modes(pix.summary, pix.cells, params=pix.params).empty
    assert np.isfinite(s["pixel_h_score"])


def _dab_cells(n, nuc, cyt):
    return pd.DataFrame({"region": ["r"] * n, "cell_area": [300] * n, "nucleus_area": [60] * n,
                         "nucleus_dab_od_mean": nuc, "cytoplasm_dab_od_mean": cyt})


def test_marker_note_when_the_dab_is_in_the_other_compartment():
    rng = np.random.default_rng(0)
    n = 40
    nuclear_stain = _dab_cells(n, rng.uniform(0.4, 0.8, n), rng.uniform(0.02, 0.1, n))
    cyto_stain = _dab_cells(n, rng.uniform(0.02, 0.1, n), rng.uniform(0.4, 0.8, n))
    s = _summary(20.0, 30.0)                     # modes agree: the note must still show
    row = compare_modes(s, nuclear_stain, params={"marker": "cytoplasmic"}).iloc[0]
    assert bool(row["agree"]) and "DAB is in the nuclei" in row["marker_note"]
    assert "marker='nuclear'" in row["marker_note"]
    assert comparison_text(row.to_dict()).endswith(row["marker_note"])
    assert comparison_text(row.to_dict(), reasons=False).endswith("check the marker")
    row = compare_modes(s, cyto_stain, params={"marker": "nuclear"}).iloc[0]
    assert "DAB is in the cytoplasm" in row["marker_note"]
    # the right marker, too few cells with DAB, or no DAB at all: no note
    assert compare_modes(s, cyto_stain, params={"marker": "cytoplasmic"}).iloc[0]["marker_note"] == ""
    assert compare_modes(s, nuclear_stain.iloc[:5], params={"marker": "cytoplasmic"}
                         ).iloc[0]["marker_note"] == ""
    blank = _dab_cells(n, np.full(n, 0.05), np.full(n, 0.01))
    assert compare_modes(s, blank, params={"marker": "cytoplasmic",
                                           "thresholds": (0.2, 0.4, 0.6)}).iloc[0]["marker_note"] == ""


def test_cytoplasmic_field_with_the_right_marker_has_no_note():
    # make_cell_image puts the DAB in the cytoplasm: scored as cytoplasmic, no note
    img = make_cell_image(0)
    img = img[0] if isinstance(img, tuple) else img.image
    right = score_ihc(img, mode="cell", marker="cytoplasmic", pixel_size_um=0.5)
    assert compare_modes(right.summary, right.cells, params=right.params).iloc[0]["marker_note"] == ""


def _nuclear_scored(img, **kw):
    res = score_ihc(img, mode="cell", marker="nuclear", **kw)
    return res, compare_modes(res.summary, res.cells, params=res.params).iloc[0]


def test_cytoplasmic_stain_scored_as_nuclear_gets_the_note():
    # the OD-sum detector tiles brown cytoplasm into "nuclei"; around hematoxylin nuclei
    # the DAB is in the ring, not the nucleus
    img = make_cell_image(0).image
    res, row = _nuclear_scored(img, pixel_size_um=0.5)
    chk = res.params["marker_check"]
    assert chk["n_cells"] >= 20 and chk["nucleus_dab"] < 0.5 * chk["around_dab"]
    assert "around the nuclei, not in them" in row["marker_note"]
    assert "marker='cytoplasmic'" in row["marker_note"]
    assert 1 <= len(chk["windows"]) <= 2 and all(w[2] <= 384 for w in chk["windows"])


def test_real_colon_cytoplasmic_stain_scored_as_nuclear_gets_the_note():
    from skimage import data as skdata

    res, row = _nuclear_scored(skdata.immunohistochemistry())
    assert res.params["marker_check"]["n_cells"] >= 50
    assert "around the nuclei" in row["marker_note"]


def test_nuclear_stain_scored_as_nuclear_has_no_note():
    from bench_cells import make_nuclear_image

    rgb, _ = make_nuclear_image(0, positive_fraction=0.5)
    res, row = _nuclear_scored(rgb, pixel_size_um=0.5, white_point=255)
    chk = res.params["marker_check"]
    assert chk["n_cells"] >= 8 and chk["nucleus_dab"] > 2 * chk["around_dab"]
    assert row["marker_note"] == ""


@pytest.mark.parametrize("name", ["train_Bladder1_ihc", "train_Lung1_ihc", "large_ROI_1"])
def test_real_ki67_scored_as_nuclear_has_no_note(shared_ihc, name):
    from skimage import io

    rgb = io.imread(shared_ihc / "deepliif" / f"{name}.png")[..., :3]
    res, row = _nuclear_scored(rgb)
    assert row["marker_note"] == ""
    chk = res.params["marker_check"]
    if chk["n_cells"]:
        assert chk["nucleus_dab"] > 2 * chk["around_dab"]
