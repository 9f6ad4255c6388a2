"""The stain-fit check: colours that hematoxylin + DAB cannot make (H&E scored as H-DAB)."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.ihc import score_ihc
from blotquant.ihc.deconvolution import as_stain_matrix
from blotquant.ihc.stains import OFF_PLANE_LIMIT, stain_fit, stain_fit_note
from blotquant.synthetic import make_ihc
from blotquant.synthetic.ihc import HE_STAINS

def _he(seed=3, **kw):
    """A synthetic H&E field: the generator's DAB channel painted with eosin."""
    return make_ihc(seed=seed, shape=(384, 384), stains=HE_STAINS, **kw).image


def test_h_dab_fits_and_h_and_e_does_not():
    m = as_stain_matrix("default")
    for seed in range(3):
        hdab = make_ihc(seed=seed, shape=(384, 384), jpeg_quality=80).image
        fit = stain_fit(hdab, m)
        assert fit["n_stained"] > 1000 and fit["off_plane_fraction"] <= 0.01
        assert stain_fit_note(fit) == ""
        he = stain_fit(_he(seed), m)
        assert he["off_plane_fraction"] > 5 * OFF_PLANE_LIMIT
        assert "no mix of hematoxylin and DAB" in stain_fit_note(he)


def test_too_few_stained_pixels_is_no_verdict():
    blank = np.full((100, 100, 3), 250, np.uint8)
    fit = stain_fit(blank, as_stain_matrix("default"))
    assert fit["n_stained"] == 0 and fit["off_plane_fraction"] is None
    assert stain_fit_note(fit) == ""


def test_score_ihc_records_the_fit_and_warns_on_h_and_e():
    res = score_ihc(_he(), mode="pixel")
    assert res.params["stain_fit"]["off_plane_fraction"] > OFF_PLANE_LIMIT
    assert "H&E?" in res.params["stain_note"]
    ok = score_ihc(make_ihc(seed=1, shape=(256, 256)).image, mode="pixel")
    assert ok.params["stain_note"] == "" and ok.params["stain_fit"]["off_plane_fraction"] == 0.0
    # the record does not enter the parameter hash: same inputs, same hash
    assert ok.summary.params_hash[0] == score_ihc(
        make_ihc(seed=1, shape=(256, 256)).image, mode="pixel").summary.params_hash[0]


def test_estimated_stains_that_follow_eosin_are_caught():
    # the estimate fits the second colour whatever it is; the standard H-DAB plane does not
    res = score_ihc(_he(), mode="pixel", stains="estimate")
    fit = res.params["stain_fit"]
    assert fit["off_plane_fraction"] <= OFF_PLANE_LIMIT
    assert fit["reference_off_plane_fraction"] > OFF_PLANE_LIMIT
    assert "estimate has followed a second colour" in res.params["stain_note"]
    good = score_ihc(make_ihc(seed=2, shape=(256, 256)).image, mode="pixel", stains="estimate")
    assert good.params["stain_note"] == ""


def test_real_he_slides_warn_and_real_ki67_does_not(shared_ihc):
    from skimage import io

    from blotquant.io import read_image

    wsi = shared_ihc.parent / "wsi"
    for name in ("CMU-1-Small-Region.svs", "tcga-cr-7395-01a-01-ts1.svs"):
        if not (wsi / name).is_file():
            pytest.skip("../shared/data/wsi is not present")
        a = np.asarray(read_image(wsi / name, mode="rgb").data)
        h, w = a.shape[:2]
        crop = a[h // 2 - 512:h // 2 + 512, w // 2 - 512:w // 2 + 512]
        assert score_ihc(crop, mode="pixel").params["stain_note"], name
    for name in ("train_Bladder1_ihc", "train_Lung1_ihc", "large_ROI_1", "large_ROI_7",
                 "large_ROI_127"):
        rgb = io.imread(shared_ihc / "deepliif" / f"{name}.png")[..., :3]
        fit = score_ihc(rgb, mode="pixel").params["stain_fit"]
        assert fit["off_plane_fraction"] <= 0.01, name


def test_a_mostly_black_image_is_refused_not_scored():
    # a fluorescence composite (dark background, bright nuclei) read as brightfield would
    # score every pixel as strongly stained
    from blotquant.errors import AnalysisError

    rng = np.random.default_rng(0)
    img = rng.integers(0, 25, (300, 300, 3)).astype(np.uint8)
    yy, xx = np.mgrid[:300, :300]
    for cy, cx in rng.integers(20, 280, (40, 2)):
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 64
        img[disc] = (40, 200, 230)
    with pytest.raises(AnalysisError, match=r"near black .* fluorescence, dark-field or inverted"):
        score_ihc(img, mode="pixel")
    # an inverted H-DAB field is refused the same way
    with pytest.raises(AnalysisError, match="near black"):
        score_ihc(255 - make_ihc(seed=1, shape=(256, 256), tissue_fraction=0.3).image,
                  mode="pixel")


def test_black_ink_on_a_field_is_named_in_the_note():
    img = make_ihc(seed=1, shape=(256, 256)).image.copy()
    img[40:120, 40:140] = 15                      # a pen mark: 12 % of the field
    res = score_ihc(img, mode="pixel")
    fit = res.params["stain_fit"]
    assert 0.05 < fit["near_black_fraction"] < 0.5
    assert "near black" in res.params["stain_note"] and "pen ink" in res.params["stain_note"]
    clean = score_ihc(make_ihc(seed=1, shape=(256, 256)).image, mode="pixel")
    assert clean.params["stain_fit"]["near_black_fraction"] < 0.01
