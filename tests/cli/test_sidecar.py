"""The CLI applies review sidecars: explicit, discovered, ignored, or refused."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.review import (blot_corrections, ihc_corrections, save_corrections,
                                   sidecar_path)
from blotquant.ihc.regions import rectangle
from blotquant.synthetic import make_blot, make_ihc


@pytest.fixture
def blot_file(tmp_path):
    sb = make_blot(5, shape=(240, 420), n_lanes=4)
    path = tmp_path / "b.tif"
    tifffile.imwrite(path, sb.image)
    return path


def _narrow_lanes_sidecar(blot_file, where):
    from blotquant import quantify_blot, read_image

    img = read_image(blot_file)
    res = quantify_blot(img, rows=["ASNS", "ACTB"])
    lanes = res.lane_geometry
    for ln in lanes:  # a reviewer narrows every lane to half its width
        ln.width = ln.width / 2
    corr = blot_corrections(img, lanes=lanes, rows=["ASNS", "ACTB"],
                            params={"background": "lane-fit"}, image_name=blot_file.name)
    return save_corrections(corr, sidecar_path(blot_file, where)), res


def test_sidecar_in_out_folder_is_found_and_applied(blot_file, tmp_path, capsys):
    out = tmp_path / "out"
    sidecar, auto = _narrow_lanes_sidecar(blot_file, out)
    assert main(["blot", str(blot_file), "--out", str(out)]) == 0
    assert "applying review corrections" in capsys.readouterr().err
    lanes = pd.read_csv(out / "lanes.csv")
    np.testing.assert_allclose(lanes["width"], auto.lanes["width"] / 2)

    # --no-corrections gives the automatic result back
    out2 = tmp_path / "out2"
    sidecar_path(blot_file, out2).parent.mkdir()
    sidecar_path(blot_file, out2).write_bytes(sidecar.read_bytes())
    assert main(["blot", str(blot_file), "--out", str(out2), "--no-corrections"]) == 0
    np.testing.assert_allclose(pd.read_csv(out2 / "lanes.csv")["width"], auto.lanes["width"])


def test_sidecar_of_another_image_is_refused(blot_file, tmp_path, capsys):
    sidecar, _ = _narrow_lanes_sidecar(blot_file, tmp_path / "s")
    other = tmp_path / "other.tif"
    tifffile.imwrite(other, make_blot(6, shape=(240, 420), n_lanes=4).image)
    status = main(["blot", str(other), "--out", str(tmp_path / "o"),
                   "--corrections", str(sidecar)])
    err = capsys.readouterr().err
    assert status == 1 and "other.tif" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "bands.csv").exists()


def test_ihc_sidecar_thresholds_and_exclusion(tmp_path):
    syn = make_ihc(1, shape=(256, 256))
    path = tmp_path / "s.tif"
    tifffile.imwrite(path, syn.image)
    regions = [rectangle("tumour", 0, 0, 256, 256),
               rectangle("fold", 0, 0, 128, 256, kind="exclude", classification="Fold")]
    corr = ihc_corrections(syn.image, regions=regions, image_name=path.name,
                           params={"mode": "pixel", "thresholds": [0.15, 0.35, 0.55]})
    sidecar = save_corrections(corr, tmp_path / "review.blotquant.json")
    out = tmp_path / "out"
    assert main(["ihc", str(path), "--out", str(out), "--corrections", str(sidecar)]) == 0
    summary = pd.read_csv(out / "summary.csv")
    from blotquant import score_ihc
    from blotquant.review import ihc_kwargs, load_corrections

    ref = score_ihc(syn.image, **ihc_kwargs(load_corrections(sidecar))).summary
    assert summary["region"].tolist() == ref["region"].tolist()
    np.testing.assert_allclose(summary["h_score"], ref["h_score"], rtol=1e-12)
    assert (summary["mode"] == "pixel").all()


def test_find_review_and_flat_kwargs_give_the_same_analysis(blot_file, tmp_path):
    """find_review hands back the review (model + geometry); sidecar_kwargs flattens it
    for commands that pass keywords: both quantify to the same numbers and hash."""
    import argparse

    from blotquant import quantify_blot, read_image
    from blotquant.cli import _sidecar
    from blotquant.review import BlotReview

    out = tmp_path / "out"
    _narrow_lanes_sidecar(blot_file, out)
    args = argparse.Namespace(out=str(out), corrections=None, no_corrections=False)
    img = read_image(blot_file)
    review, path = _sidecar.find_review(args, img, blot_file, "blot")
    assert isinstance(review, BlotReview) and path.endswith("b.blotquant.json")
    flat, _ = _sidecar.sidecar_kwargs(args, img, blot_file, "blot")
    assert "params" not in flat and flat["background"] == "lane-fit"
    a = quantify_blot(img, **review.kwargs()).bands
    b = quantify_blot(img, **flat).bands
    np.testing.assert_allclose(a["volume"], b["volume"], rtol=1e-12)
    assert a["params_hash"].tolist() == b["params_hash"].tolist()
    args.no_corrections = True
    assert _sidecar.find_review(args, img, blot_file, "blot") == (None, None)


def test_flat_kwargs_refuse_a_downsampled_slide_review(tmp_path):
    import argparse

    from blotquant.cli import _sidecar
    from blotquant.errors import CorrectionsError

    rgb = make_ihc(2, shape=(64, 64)).image
    corr = ihc_corrections(rgb, downsample=4.0, image_name="s.tif")
    sidecar = save_corrections(corr, tmp_path / "s.blotquant.json")
    args = argparse.Namespace(out=str(tmp_path), corrections=str(sidecar),
                              no_corrections=False)
    with pytest.raises(CorrectionsError, match="downsampled 4x"):
        _sidecar.sidecar_kwargs(args, rgb, tmp_path / "s.tif", "ihc")
    review, _ = _sidecar.find_review(args, rgb, tmp_path / "s.tif", "ihc")
    assert review.downsample == 4.0 and review.level is None
