"""Sidecar -> parameter model + geometry: the same numbers from every edge, slides included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.blot import BlotParams, Lane, quantify_blot
from blotquant.errors import CorrectionsError
from blotquant.ihc import IHCParams, score_ihc
from blotquant.ihc.regions import Region, rectangle
from blotquant.io import read_image
from blotquant.review import (IHCReview, apply_sidecar, blot_corrections, blot_kwargs,
                              ihc_corrections, ihc_kwargs, load_corrections, review_from,
                              save_corrections)
from blotquant.synthetic import make_blot, make_ihc


def _img():
    return np.random.default_rng(0).integers(0, 60000, size=(64, 80), dtype=np.uint16)


def test_blot_kwargs_model_and_geometry():
    lanes = [{"lane": 1, "centerline": [[0, 20], [63, 22]], "width": 12},
             {"lane": 2, "centerline": [[0, 50], [30, 51], [63, 53]], "width": 12.5}]
    bands = pd.DataFrame({"lane": [1, 2, 1], "row": ["ASNS", "ASNS", "ACTB"],
                          "top": [10, 11, 40], "bottom": [18, 19.5, 47],
                          "left": [14, np.nan, 15], "right": [26, np.nan, 27]})
    corr = blot_corrections(_img(), lanes=lanes, bands=bands, rows=["ASNS", "ACTB"],
                            params={"background": "rolling-ball", "radius": 30})
    kw = blot_kwargs(corr)
    assert set(kw) == {"params", "lane_geometry", "band_boxes"}
    assert kw["params"] == BlotParams(background="rolling-ball", radius=30,
                                      rows=("ASNS", "ACTB"))
    geo = kw["lane_geometry"]
    assert all(isinstance(x, Lane) for x in geo) and [x.lane for x in geo] == [1, 2]
    np.testing.assert_array_equal(geo[1].centerline, [[0, 50], [30, 51], [63, 53]])
    boxes = kw["band_boxes"]
    assert list(boxes.columns) == ["strip", "lane", "row", "top", "bottom", "left", "right"]
    assert boxes["lane"].tolist() == [1, 2, 1] and np.isnan(boxes.loc[1, "left"])
    with pytest.raises(CorrectionsError, match="not IHC corrections"):
        ihc_kwargs(corr)


def test_blot_without_geometry_is_params_only():
    corr = blot_corrections(_img(), params={"background": "none"})
    assert blot_kwargs(corr) == {"params": BlotParams(background="none")}


def test_lane_objects_round_trip(tmp_path):
    lanes = [Lane(1, [[0, 20], [63, 21.5]], 11.25, strip=1),
             Lane(2, [[0, 50], [40, 52], [63, 53]], 12, is_ladder=True, strip=2, edited=True)]
    corr = blot_corrections(_img(), lanes=lanes)
    back = blot_kwargs(load_corrections(save_corrections(corr, tmp_path / "x.json")))
    assert back["lane_geometry"] == lanes
    assert [(x.strip, x.is_ladder, x.edited) for x in back["lane_geometry"]] == [
        (1, False, False), (2, True, True)]


def test_reviewed_blot_requantifies_to_the_reviewed_numbers(tmp_path):
    b = make_blot(3, shape=(160, 240), n_lanes=4)
    res = quantify_blot(b.image, rows=["ASNS", "ACTB"], background="rolling-ball")
    geo = [ln for ln in res.lane_geometry if ln.lane <= 3]
    corr = blot_corrections(b.image, lanes=geo, bands=res.bands[res.bands.lane <= 3],
                            rows=res.rows, params=res.params)
    p = save_corrections(corr, tmp_path / "b.blotquant.json")
    review = apply_sidecar(p, image=b.image, kind="blot")
    assert review.params == BlotParams(rows=("ASNS", "ACTB"), background="rolling-ball")
    again = quantify_blot(b.image, **review.kwargs())
    want = res.bands[res.bands.lane <= 3]
    assert again.bands[["lane", "row"]].values.tolist() == want[["lane", "row"]].values.tolist()
    np.testing.assert_allclose(again.bands["volume"], want["volume"], rtol=1e-9)


def test_ihc_kwargs_regions_in_level_pixels(tmp_path):
    regions = [Region(name="tumour", polygon=np.array([[10, 10], [10, 50], [60, 50], [60, 10]],
                                                      float), kind="include",
                      classification="Tumor"),
               Region(name="fold", polygon=np.array([[20, 20], [20, 30], [30, 30]], float),
                      kind="exclude", classification=None)]
    rgb = np.full((100, 120, 3), 200, np.uint8)
    stains = np.eye(3) * 0.5 + 0.1
    corr = ihc_corrections(rgb, regions=regions, params={
        "mode": "pixel", "thresholds": (0.15, 0.3, 0.7), "stains": stains})
    p = save_corrections(corr, tmp_path / "s.blotquant.json")
    kw = ihc_kwargs(load_corrections(p, image=rgb))
    assert kw["params"].mode == "pixel" and kw["params"].thresholds == (0.15, 0.3, 0.7)
    np.testing.assert_allclose(kw["params"].stains, stains)
    assert [r.kind for r in kw["regions"]] == ["include", "exclude"]
    np.testing.assert_allclose(kw["regions"][0].polygon[:4], regions[0].polygon)
    kw4 = ihc_kwargs(load_corrections(p), downsample=4)
    np.testing.assert_allclose(kw4["regions"][0].polygon[:4], regions[0].polygon / 4)


def test_downsampled_review_without_a_pyramid_is_refused():
    rv = IHCReview(params=IHCParams(), downsample=4.0, level=None)
    with pytest.raises(CorrectionsError, match="downsampled 4x"):
        rv.prepare(np.zeros((40, 40, 3), np.uint8))


def _pyramid(path, a):
    with tifffile.TiffWriter(path) as w:
        w.write(a, subifds=2, photometric="rgb", tile=(128, 128), compression="zlib",
                resolution=(1e4 / 0.25, 1e4 / 0.25), resolutionunit="CENTIMETER")
        for f in (2, 4):
            w.write(a[::f, ::f], subfiletype=1, photometric="rgb", tile=(128, 128),
                    compression="zlib")


@pytest.mark.parametrize("mode", ["pixel", "cell"])
def test_slide_review_at_a_level_reapplies_exactly(tmp_path, mode):
    """A review scored on level 1 of a pyramid (as the plugin does: level data, pixel
    size x downsample, level-0 regions / downsample) re-scores to the same numbers."""
    syn = make_ihc(seed=3, shape=(512, 512))
    path = tmp_path / "slide.tif"
    _pyramid(path, syn.image)
    img = read_image(path)
    assert img.is_pyramid and len(img.levels) == 3
    regions = [rectangle("tumour", 40, 40, 480, 470),
               rectangle("fold", 100, 100, 200, 300, kind="exclude", classification="Fold")]
    params = IHCParams(mode=mode, thresholds=(0.15, 0.3, 0.5))
    # what the dock does for a slide: score level 1
    lv = np.asarray(img.levels[1])
    md = img.metadata.replace(shape=lv.shape)
    if md.pixel_size_um is not None:
        md = md.replace(pixel_size_um=tuple(p * 2.0 for p in md.pixel_size_um))
    from blotquant.image import Image

    ref = score_ihc(Image(lv, md), params,
                    regions=review_from(ihc_corrections(lv, regions=regions)).regions_at(2.0))
    # the dock passes level 0 without its levels: the level is found when applied
    corr = ihc_corrections(Image(img.data, img.metadata), regions=regions, params=params,
                           downsample=2.0, path=path)
    assert corr.ihc["level"] is None and corr.image["sha256_of"] == "file"
    sidecar = save_corrections(corr, tmp_path / "slide.blotquant.json")
    review = apply_sidecar(sidecar, image=read_image(path), image_path=path, kind="ihc")
    assert review.level_of(img) == 1
    scored, kw = review.prepare(read_image(path))
    assert scored.shape == lv.shape
    got = score_ihc(scored, **kw)
    cols = ["region", "n", "h_score", "pct_positive", "mean_dab_od", "area_px"]
    pd.testing.assert_frame_equal(got.summary[cols], ref.summary[cols], rtol=1e-9)
    assert got.summary["params_hash"].tolist() == ref.summary["params_hash"].tolist()
    # a level recorded with the review is used as it is
    corr2 = ihc_corrections(img, regions=regions, params=params, downsample=2.0)
    assert corr2.ihc["level"] == 1


def test_review_of_tilted_lanes_reapplies_exactly(tmp_path):
    """Unchanged boxes of tilted lanes follow their lanes when the review is applied (as
    when measured), not the lane's rectangle at the band."""
    b = make_blot(5, shape=(300, 420), n_lanes=5, tilt_deg=2.5)
    res = quantify_blot(b.image, rows=["ASNS", "ACTB"])
    assert abs(res.tilt_deg) > 1.0
    corr = blot_corrections(b.image, lanes=res.lane_geometry, bands=res.bands, rows=res.rows,
                            params=res.params)
    again = quantify_blot(b.image, **apply_sidecar(save_corrections(corr, tmp_path / "t.json"),
                                                   image=b.image, kind="blot").kwargs())
    np.testing.assert_allclose(again.bands["volume"], res.bands["volume"], rtol=1e-9)
