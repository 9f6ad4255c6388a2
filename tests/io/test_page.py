"""Choosing one image of a multi-image file: ``read_image(page=)``, ``--page``, the sheet column."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.batch.sheet import read_sample_sheet
from blotquant.cli import main
from blotquant.errors import ParameterError, UnsupportedImageError
from blotquant.io import read_image
from blotquant.synthetic import make_blot


@pytest.fixture
def two_images(tmp_path):
    """A gel-imager style TIFF: a blot (light bands on dark) and a flat marker image."""
    b = make_blot(3, shape=(240, 400), n_lanes=4, background={"texture": 0.0})
    blot = b.image
    marker = np.full_like(blot, 1234)
    p = tmp_path / "chemi_and_marker.tif"
    with tifffile.TiffWriter(p) as w:
        w.write(blot)
        w.write(marker)
    return p, blot, marker


def test_two_series_refused_without_page_and_read_with_it(two_images):
    p, blot, marker = two_images
    with pytest.raises(UnsupportedImageError, match=r"--page"):
        read_image(p)
    one = read_image(p, page=1)
    two = read_image(p, page=2)
    np.testing.assert_array_equal(one.data, blot)
    np.testing.assert_array_equal(two.data, marker)
    assert one.metadata.extra["page"] == 1 and two.metadata.extra["page"] == 2
    assert "image series 2 of 2 read" in two.metadata.conversion
    with pytest.raises(ParameterError, match=r"holds 2 images") as err:
        read_image(p, page=3)
    assert str(p) in str(err.value)


def test_plane_of_a_stack(tmp_path):
    a = np.arange(50 * 60, dtype=np.uint16).reshape(50, 60)
    b = (a[::-1] // 2).astype(np.uint16)
    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, np.stack([a, b]), imagej=True,
                     metadata={"axes": "CYX", "Labels": ["target", "actin"]})
    assert read_image(p).metadata.axes == "CYX"
    img = read_image(p, page=2)
    assert img.metadata.axes == "YX"
    np.testing.assert_array_equal(img.data, b)
    assert "page 2 of 2 (actin) kept" in img.metadata.conversion
    with pytest.raises(ParameterError, match=r"holds 2 image planes"):
        read_image(p, page=3)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_page_values(tmp_path, bad):
    p = tmp_path / "one.png"
    cv2.imwrite(str(p), np.full((20, 30), 90, np.uint8))
    with pytest.raises(ParameterError, match="whole number >= 1"):
        read_image(p, page=bad)


def test_one_image_file(tmp_path):
    p = tmp_path / "one.png"
    im = np.zeros((20, 30), np.uint8)
    im[5:10, 5:25] = 200
    cv2.imwrite(str(p), im)
    np.testing.assert_array_equal(read_image(p, page=1).data, im)
    with pytest.raises(ParameterError, match="holds one image"):
        read_image(p, page=2)


def test_cli_page_and_control_page_of_one_file(two_images, tmp_path, capsys):
    p, blot, _ = two_images
    # without --page: a clear refusal that names the option, no traceback
    rc = main(["blot", str(p), "--out", str(tmp_path / "o0")])
    err = capsys.readouterr().err
    assert rc == 1 and "--page" in err and "Traceback" not in err
    rc = main(["blot", str(p), "--out", str(tmp_path / "o0"), "--page", "zero"])
    err = capsys.readouterr().err
    assert rc == 1 and "--page: must be a whole number" in err
    # the same numbers as the blot saved on its own
    alone = tmp_path / "alone.tif"
    tifffile.imwrite(alone, blot)
    assert main(["blot", str(alone), "--out", str(tmp_path / "a"), "--lanes", "4"]) == 0
    assert main(["blot", str(p), "--page", "1", "--out", str(tmp_path / "b"),
                 "--lanes", "4"]) == 0
    va = pd.read_csv(tmp_path / "a" / "bands.csv")["volume"].to_numpy()
    vb = pd.read_csv(tmp_path / "b" / "bands.csv")["volume"].to_numpy()
    np.testing.assert_allclose(vb, va, rtol=1e-12)
    params = json.loads((tmp_path / "b" / "params.json").read_text())
    assert params["page"] == 1 and params["metadata"]["extra"]["page"] == 1
    # --control-page needs a control image
    rc = main(["blot", str(p), "--page", "1", "--control-page", "2",
               "--out", str(tmp_path / "c")])
    assert rc == 1 and "--control-page needs a second" in capsys.readouterr().err


def test_cli_stack_refusal_names_page(tmp_path, capsys):
    a = np.full((60, 80), 500, np.uint16)
    a[20:30, 10:70] = 9000
    p = tmp_path / "stack.tif"
    tifffile.imwrite(p, np.stack([a, a // 2]), imagej=True, metadata={"axes": "CYX"})
    rc = main(["blot", str(p), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and "--page N (1 to 2)" in err


def test_sheet_page_column(tmp_path):
    sheet = tmp_path / "s.csv"
    sheet.write_text("file,page,role,group\nx.tif,1,target,g\nx.tif,2.0,loading_control,g\n")
    df = read_sample_sheet(sheet)
    assert df["page"].tolist() == ["1", "2"]
    sheet.write_text("file,page\nx.tif,1\nx.tif,1\n")
    with pytest.raises(ParameterError, match=r"file 'x.tif' page 1 is listed twice"):
        read_sample_sheet(sheet)
    sheet.write_text("file,page\nx.tif,first\n")
    with pytest.raises(ParameterError, match=r"column 'page'"):
        read_sample_sheet(sheet)


def test_batch_reads_each_page(two_images, tmp_path):
    from blotquant.batch import run_batch

    p, blot, _ = two_images
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"file,page,kind,lanes\n{p},1,blot,4\n")
    res = run_batch(sheet, tmp_path / "out", workers=0, progress=False, report=False,
                    qc=False)
    assert len(res.errors) == 0, res.errors
    bands = res.tables["bands"]
    alone = read_image(p, page=1)
    np.testing.assert_array_equal(alone.data, blot)
    assert bands["lane"].nunique() == 4
    names = set(bands["image"])
    assert len(names) == 1 and next(iter(names)).endswith("#page1")
    # the same file without a page: one error row that says how to choose
    sheet.write_text(f"file,kind,lanes\n{p},blot,4\n")
    res = run_batch(sheet, tmp_path / "out2", workers=0, progress=False, report=False,
                    qc=False)
    assert len(res.errors) == 1 and "page column" in res.errors["message"].iloc[0]


def test_count_images(two_images, tmp_path):
    from blotquant.io import count_images

    p, _, _ = two_images
    assert count_images(p) == 2
    one = tmp_path / "one.tif"
    tifffile.imwrite(one, np.zeros((30, 40), np.uint8))
    assert count_images(one) == 1
    # a small extra image (a thumbnail) is not a choice
    thumb = tmp_path / "thumb.tif"
    with tifffile.TiffWriter(thumb) as w:
        w.write(np.zeros((60, 80), np.uint8))
        w.write(np.zeros((15, 20), np.uint8))
    assert count_images(thumb) == 1
    png = tmp_path / "x.png"
    cv2.imwrite(str(png), np.zeros((10, 10), np.uint8))
    assert count_images(png) == 1


def test_cli_ihc_page(tmp_path, capsys):
    from blotquant.synthetic import make_ihc

    s = make_ihc(seed=3, shape=(200, 200))
    rgb = np.asarray(getattr(s, "image", s))[..., :3]
    p = tmp_path / "two_fields.tif"
    with tifffile.TiffWriter(p) as w:
        w.write(np.full_like(rgb, 240), photometric="rgb")   # a blank field first
        w.write(rgb, photometric="rgb")
    alone = tmp_path / "alone.tif"
    tifffile.imwrite(alone, rgb, photometric="rgb")
    rc = main(["ihc", str(p), "--out", str(tmp_path / "o0"), "--mode", "pixel"])
    assert rc == 1 and "--page" in capsys.readouterr().err
    for src, extra, out in ((alone, [], "a"), (p, ["--page", "2"], "b")):
        assert main(["ihc", str(src), "--out", str(tmp_path / out), "--mode", "pixel",
                     *extra]) == 0
    sa = pd.read_csv(tmp_path / "a" / "summary.csv")
    sb = pd.read_csv(tmp_path / "b" / "summary.csv")
    for col in ("h_score", "pct_positive", "n", "n_3plus", "mean_dab_od"):
        np.testing.assert_allclose(sb[col], sa[col], rtol=1e-12)
    assert sa["n"].iloc[0] > 0 and sb["params_hash"].iloc[0] == sa["params_hash"].iloc[0]
    assert json.loads((tmp_path / "b" / "params.json").read_text())["page"] == 2
