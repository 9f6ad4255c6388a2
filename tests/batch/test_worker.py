"""The per-image work: kind by colour; the worker never raises."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.batch.worker import decide_kind, process_image
from blotquant.image import Image


def test_kind_by_colour():
    gray = Image.from_array(np.full((8, 8), 100, np.uint16))
    assert decide_kind(gray) == "blot"
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[...] = (120, 80, 50)  # brown: IHC
    assert decide_kind(Image.from_array(rgb)) == "ihc"
    tinted = np.zeros((8, 8, 3), np.uint8)
    tinted[...] = (101, 100, 100)  # a barely tinted grey scan is a blot
    assert decide_kind(Image.from_array(tinted)) == "blot"


def test_a_bad_file_is_a_record_not_an_exception(tmp_path):
    f = tmp_path / "bad.tif"
    f.write_bytes(b"II*\x00" + bytes(200))
    rec = process_image({"file": str(f), "name": "bad.tif", "key": "k", "kind": "auto",
                         "result_dir": str(tmp_path / "r"), "blot_params": {},
                         "ihc_params": {}})
    assert rec["status"] == "error" and rec["error_type"] and rec["message"]
    assert (tmp_path / "r" / "error.json").is_file()
    assert not (tmp_path / "r" / "done.json").exists()


# ---------------------------------------------------------------- one model, every edge
def _bands_sorted(df):
    return df.sort_values(["lane", "row"]).reset_index(drop=True)


def test_blot_same_numbers_and_hash_from_api_cli_and_batch(tmp_path):
    import pandas as pd
    import tifffile

    from blotquant.blot import quantify_blot
    from blotquant.cli import main
    from blotquant.io import read_image
    from blotquant.synthetic import make_blot

    src = tmp_path / "src"
    src.mkdir()
    path = src / "blot.tif"
    tifffile.imwrite(path, make_blot(11, shape=(200, 300), n_lanes=5,
                                     rows=("ASNS", "ACTB")).image)
    api = _bands_sorted(quantify_blot(read_image(path)).bands)
    assert main(["blot", str(path), "--out", str(tmp_path / "cli")]) == 0
    cli = _bands_sorted(pd.read_csv(tmp_path / "cli" / "bands.csv"))
    assert main(["batch", str(src), "--out", str(tmp_path / "batch"), "--workers", "0",
                 "-q", "--no-qc", "--no-report"]) == 0
    batch = _bands_sorted(pd.read_csv(tmp_path / "batch" / "bands.csv"))
    for got in (cli, batch):
        assert got[["lane", "row"]].values.tolist() == api[["lane", "row"]].values.tolist()
        np.testing.assert_allclose(got["volume"], api["volume"], rtol=1e-9)
        assert set(got["params_hash"]) == set(api["params_hash"]) and len(set(got[
            "params_hash"])) == 1
    # the per-image completion marker records the same hash
    import json

    (marker,) = (tmp_path / "batch").glob("images/*/done.json")
    assert json.loads(marker.read_text())["params_hash"] == api["params_hash"].iloc[0]


@pytest.mark.parametrize("mode", ["pixel", "cell"])
def test_ihc_same_numbers_and_hash_from_api_cli_and_batch(tmp_path, mode):
    import pandas as pd
    from PIL import Image as PILImage

    from blotquant.cli import main
    from blotquant.ihc import IHCParams, score_ihc
    from blotquant.io import read_image
    from blotquant.synthetic import make_ihc

    src = tmp_path / "src"
    src.mkdir()
    path = src / "field.png"
    PILImage.fromarray(make_ihc(seed=5, shape=(192, 192)).image).save(path)
    opts = ["--mode", mode, "--compartment", "cytoplasm"]
    api = score_ihc(read_image(path, mode="rgb"),
                    IHCParams(mode=mode, compartment="cytoplasm")).summary
    assert main(["ihc", str(path), "--out", str(tmp_path / "cli"), *opts]) == 0
    cli = pd.read_csv(tmp_path / "cli" / "summary.csv")
    assert main(["batch", str(src), "--out", str(tmp_path / "batch"), "--workers", "0",
                 "-q", "--no-qc", "--no-report", *opts]) == 0
    batch = pd.read_csv(tmp_path / "batch" / "ihc_regions.csv")
    cols = ["n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "h_score", "pct_positive",
            "mean_dab_od"]
    for got in (cli, batch):
        assert got["region"].tolist() == api["region"].tolist()
        np.testing.assert_allclose(got[cols].to_numpy(float), api[cols].to_numpy(float),
                                   rtol=1e-9)
        assert got["params_hash"].tolist() == api["params_hash"].tolist()
    if mode == "cell":
        assert api["n"].iloc[0] > 10  # cells were found and counted


def test_batch_reapplies_a_slide_review_at_its_level(tmp_path):
    """A review scored on level 1 of a pyramid (recorded as downsample 2) re-scores in
    batch to the reviewed numbers."""
    import tifffile

    from blotquant.ihc import IHCParams, score_ihc
    from blotquant.ihc.regions import rectangle
    from blotquant.io import read_image
    from blotquant.review import IHCReview, ihc_corrections, save_corrections, sidecar_path
    from blotquant.synthetic import make_ihc

    src = tmp_path / "src"
    src.mkdir()
    a = make_ihc(seed=8, shape=(384, 384)).image
    path = src / "slide.tif"
    with tifffile.TiffWriter(path) as w:
        w.write(a, subifds=1, photometric="rgb", tile=(128, 128), compression="zlib")
        w.write(a[::2, ::2], subfiletype=1, photometric="rgb", tile=(128, 128),
                compression="zlib")
    img = read_image(path)
    regions = [rectangle("tumour", 20, 20, 360, 350)]
    params = IHCParams(mode="pixel", thresholds=(0.15, 0.3, 0.5))
    level1 = Image(np.asarray(img.levels[1]), img.metadata.replace(shape=img.levels[1].shape))
    ref = score_ihc(level1, params,
                    regions=IHCReview(params, regions=regions).regions_at(2.0)).summary
    corr = ihc_corrections(Image(img.data, img.metadata), regions=regions, params=params,
                           downsample=2.0, path=path)
    save_corrections(corr, sidecar_path(path, src))
    from blotquant.batch import run_batch

    res = run_batch(src, tmp_path / "out", workers=0, progress=False, report=False, qc=False)
    assert res.n_failed == 0, res.errors
    got = res.tables["ihc_regions"]
    assert got["region"].tolist() == ref["region"].tolist()
    np.testing.assert_allclose(got["h_score"], ref["h_score"], rtol=1e-9)
    np.testing.assert_allclose(got["area_px"], ref["area_px"], rtol=0)
    assert got["params_hash"].tolist() == ref["params_hash"].tolist()
    assert int(got["area_px"].iloc[0]) < a.shape[0] * a.shape[1] / 4 + 1  # level 1 pixels
