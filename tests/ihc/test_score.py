"""score_ihc / rescore end to end on synthetic images with known truth."""

import time

import numpy as np
import pandas as pd
import pytest

import blotquant
from blotquant.errors import ParameterError, StainEstimationError
from blotquant.ihc import rectangle, rescore, score_ihc
from blotquant.ihc.result import SUMMARY_COLUMNS
from blotquant.image import Image
from blotquant.synthetic import make_ihc


@pytest.fixture(scope="module")
def offwhite():
    return make_ihc(seed=11, shape=(512, 512), white_point=(240, 235, 245))


def test_synthetic_generator_deterministic_and_consistent():
    a = make_ihc(seed=3, shape=(128, 128), jpeg_quality=85)
    b = make_ihc(seed=3, shape=(128, 128), jpeg_quality=85)
    np.testing.assert_array_equal(a.image, b.image)
    t = a.truth
    assert 0.05 < t.tissue_mask.mean() < 0.95          # tissue and glass both present
    assert (t.dab_od[~t.tissue_mask] == 0).all() and (t.h_od[~t.tissue_mask] == 0).all()
    assert (t.classes[~t.tissue_mask] == 0).all() and (t.classes[t.tissue_mask] > 0).all()
    c = t.counts
    assert t.h_score == pytest.approx((c["n_1plus"] + 2 * c["n_2plus"] + 3 * c["n_3plus"])
                                      * 100 / c["n"])


def test_pixel_mode_recovers_truth(offwhite):
    s = offwhite
    r = score_ihc(s.image, mode="pixel")
    t = s.truth.tissue_mask
    assert r.params["white_point_source"] == "estimated"
    np.testing.assert_allclose(r.white_point, s.truth.white_point, atol=1)
    assert np.corrcoef(r.dab_od[t], s.truth.dab_od[t])[0, 1] > 0.995
    assert abs(r.summary.h_score[0] - s.truth.h_score) <= 1.0
    assert (r.tissue_mask != t).mean() < 0.01
    assert list(r.summary.columns) == list(SUMMARY_COLUMNS)
    row = r.summary.iloc[0]
    assert row.n == row.n_negative + row.n_1plus + row.n_2plus + row.n_3plus == row.area_px
    assert r.class_map.dtype == np.uint8 and set(np.unique(r.class_map)) <= {0, 1, 2, 3, 4}
    assert (r.class_map[~r.tissue_mask] == 0).all()
    # QuPath-style I0 = 255 on this off-white slide under-scores badly
    r255 = score_ihc(s.image, mode="pixel", white_point=255)
    assert r255.summary.h_score[0] < s.truth.h_score - 5


def test_rescore_equals_fresh_scoring(offwhite):
    r = score_ihc(offwhite.image, mode="pixel", regions=[rectangle("A", 0, 0, 300, 300)])
    for thr in [(0.1, 0.3, 0.5), (0.15,), (0.25, 0.5, 0.75)]:
        fresh = score_ihc(offwhite.image, mode="pixel", thresholds=thr,
                          regions=[rectangle("A", 0, 0, 300, 300)])
        re = rescore(r, thr)
        cols = [c for c in SUMMARY_COLUMNS if c not in ("params_hash",)]
        assert re.summary[cols].equals(fresh.summary[cols])
        np.testing.assert_array_equal(re.class_map, fresh.class_map)
        assert re.summary.params_hash[0] == fresh.summary.params_hash[0]
    assert rescore(r, (0.2, 0.4, 0.6)).summary.equals(r.summary)
    assert r.rescore((0.1, 0.3, 0.5)).summary.h_score[0] > r.summary.h_score[0]


def test_rescore_is_fast():
    s = make_ihc(seed=1, shape=(1024, 1024), noise=1.0)
    big = np.tile(s.image, (2, 2, 1))             # 2048 x 2048
    r = score_ihc(big, mode="pixel", white_point=255)
    t0 = time.perf_counter()
    rescore(r, (0.15, 0.35, 0.55))
    assert time.perf_counter() - t0 < 1.0


def test_regions_include_exclude(offwhite):
    regs = [rectangle("left", 0, 0, 512, 256), rectangle("right", 0, 256, 512, 512),
            rectangle("necrosis", 0, 0, 100, 100, kind="exclude", classification="Necrosis")]
    r = score_ihc(offwhite.image, mode="pixel", regions=regs, pixel_size_um=0.5)
    assert list(r.summary.region) == ["left", "right"]
    t = offwhite.truth
    left = np.zeros(t.tissue_mask.shape, bool)
    left[:, :256] = True
    left[:100, :100] = False
    assert r.summary.region_area_px[0] == left.sum()
    assert r.summary.area_um2[0] == pytest.approx(r.summary.area_px[0] * 0.25)
    assert (r.class_map[:100, :100] == 0).all()
    assert r.summary.n.sum() == (r.class_map > 0).sum()


def test_estimated_stains_in_pipeline():
    s = make_ihc(seed=2, shape=(384, 384))
    r = score_ihc(s.image, mode="pixel", stains="estimate")
    assert r.params["stain_source"] == "estimated"
    assert abs(r.summary.h_score[0] - s.truth.h_score) < 3
    with pytest.raises(StainEstimationError):
        score_ihc(np.full((64, 64, 3), 250, np.uint8), mode="pixel", stains="estimate")


def test_input_validation_messages():
    with pytest.raises(ParameterError, match="grayscale"):
        score_ihc(np.zeros((32, 32), np.uint8))
    with pytest.raises(ParameterError, match="grayscale"):
        blotquant.score_ihc(Image.from_array(np.zeros((32, 32), np.uint16)))
    with pytest.raises(ParameterError, match="mode"):
        score_ihc(np.zeros((8, 8, 3), np.uint8), mode="cells")
    with pytest.raises(ParameterError, match="increasing"):
        score_ihc(np.zeros((8, 8, 3), np.uint8), thresholds=(0.6, 0.4, 0.2))
    with pytest.raises(ParameterError, match="white point"):
        score_ihc(np.zeros((8, 8, 3), np.uint8), white_point="bright")
    with pytest.raises(ParameterError, match="white point 300.0 is above 255"):
        score_ihc(np.zeros((8, 8, 3), np.uint8), white_point=300)
    with pytest.raises(ParameterError, match="NaN"):
        score_ihc(np.full((8, 8, 3), np.nan))


def test_other_input_types():
    s = make_ihc(seed=6, shape=(96, 96))
    ref = score_ihc(s.image, mode="pixel").summary.h_score[0]
    as16 = score_ihc((s.image.astype(np.uint16) * 257), mode="pixel")
    assert as16.summary.h_score[0] == pytest.approx(ref)
    assert as16.params["input_conversion"] == "16-bit scaled to 8-bit (full scale 65535)"
    rgba = np.dstack([s.image, np.full(s.image.shape[:2], 255, np.uint8)])
    assert score_ihc(rgba, mode="pixel").summary.h_score[0] == pytest.approx(ref)
    img = Image.from_array(s.image, pixel_size_um=(0.5, 0.5))
    r = score_ihc(img, mode="pixel")
    assert r.summary.area_um2[0] == pytest.approx(r.summary.area_px[0] * 0.25)


def test_cell_mode_summary_and_classes():
    s = make_ihc(seed=7, shape=(256, 256))
    r = score_ihc(s.image, pixel_size_um=0.5)
    assert r.mode == "cell" and len(r.cells) == r.summary.n[0] > 10
    assert r.cell_labels is not None and r.nuclei_labels is not None
    assert set(r.cells["class"]) <= {0, 1, 2, 3}
    # the class map paints each cell with class + 1
    row = r.cells.iloc[0]
    assert r.class_map[r.cell_labels == row.cell].max() == row["class"] + 1
    c = r.cells["class"].value_counts()
    assert r.summary.n_3plus[0] == c.get(3, 0)
    re = rescore(r, (0.1, 0.2, 0.3))
    assert re.summary.h_score[0] >= r.summary.h_score[0]
    assert re.cell_labels is r.cell_labels


def test_params_reproduce_result():
    s = make_ihc(seed=12, shape=(160, 160), white_point=(241, 236, 244))
    r = score_ihc(s.image, mode="pixel", stains="estimate",
                  regions=[rectangle("A", 0, 0, 120, 160)])
    again = score_ihc(s.image, regions=r.regions, **r.params)
    assert again.summary.equals(r.summary)          # same numbers and the same params_hash
    with pytest.raises(ParameterError, match="unknown parameter .treshold. .did you mean .thresholds"):
        score_ihc(s.image, mode="pixel", treshold=0.2)


@pytest.mark.parametrize("mode", ["pixel", "cell"])
def test_a_region_with_nothing_scored_has_no_allred_or_irs(mode, tmp_path):
    # Allred 0 / IRS 0 would read as "negative" for a region of glass
    from blotquant.tables import write_table

    img = make_ihc(seed=1, shape=(256, 256)).image.copy()
    img[:, :60] = 250                                    # glass at the left
    res = score_ihc(img, mode=mode, pixel_size_um=0.5,
                    regions=[rectangle("tissue", 40, 80, 240, 250), rectangle("glass", 0, 0, 250, 50)])
    s = res.summary.set_index("region")
    assert s.loc["glass", "n"] == 0 and s.loc["tissue", "n"] > 0
    for col in ("allred", "allred_proportion", "allred_intensity", "irs", "irs_proportion",
                "irs_intensity"):
        assert pd.isna(s.loc["glass", col]) and not pd.isna(s.loc["tissue", col])
    assert str(s["allred"].dtype) == "Int64"
    write_table(res.summary, tmp_path / "s.csv")
    back = pd.read_csv(tmp_path / "s.csv").set_index("region")
    assert pd.isna(back.loc["glass", "allred"]) and int(back.loc["tissue", "allred"]) >= 0
