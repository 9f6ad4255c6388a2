"""The Blot dock's pure state without a viewer: parameters, rows, labels, names, kinds."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def blot_file(tmp_path):
    import tifffile
    from blotquant.synthetic import make_blot

    b = make_blot(seed=3, shape=(400, 600), n_lanes=6, rows=("ASNS", "ACTB"))
    p = tmp_path / "blot two rows.tif"
    tifffile.imwrite(p, b.image)
    return p


def test_cli_reproduces_sidecar(blot_file, tmp_path):
    """``blotquant blot IMAGE --out DIR --corrections SIDECAR`` gives the reviewed numbers.

    The sidecar is made by the dock's own state class (what Save writes) after
    moving a lane, without a viewer.
    """
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs, save_corrections
    from blotquant.io import read_image
    from napari_blotquant._state.blot import (BlotReview, quantify_params, recorded_params,
                                              sidecar_file)

    img = read_image(blot_file)
    model = quantify_params({"rows": "ASNS,ACTB", "background": "rolling-ball", "radius": 35})
    res = quantify_blot(img, model)
    rv = BlotReview()
    lane_data, lane_feat, band_data, band_feat = rv.from_result(res)
    lane_data[1] = lane_data[1] + [0, 9]
    feats, renumber = rv.sync_lanes(lane_data, lane_feat)
    rv.sync_bands(band_data, band_feat, renumber)
    corr = rv.corrections(img, params=recorded_params(model), image_name=blot_file.name,
                          path=str(blot_file))
    sidecar = save_corrections(corr, sidecar_file(blot_file.name, tmp_path))
    assert sidecar.name == "blot_two_rows.blotquant.json"
    ref = quantify_blot(img, **blot_kwargs(corr)).bands
    assert ref["volume"].iloc[2] != pytest.approx(res.bands["volume"].iloc[2])  # lane 2 moved
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "blotquant", "blot", str(blot_file),
                           "--out", str(out), "--corrections", str(sidecar)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(out / "bands.csv")
    assert cli["row"].tolist() == ref["row"].tolist()
    np.testing.assert_allclose(cli["volume"], ref["volume"], rtol=1e-9)
    assert cli["params_hash"].tolist() == ref["params_hash"].tolist()


def test_quantify_params_is_the_cli_model():
    from blotquant.blot.params import BlotParams
    from blotquant.errors import ParameterError
    from napari_blotquant._state.blot import quantify_params, recorded_params

    m = quantify_params({"background": "border", "radius": 50.0, "target": "ASNS"})
    assert m == BlotParams(background="border")  # normalization is not quantification
    assert recorded_params(m.replace(rows=("A", "B"))) == {"background": "border"}
    with pytest.raises(ParameterError, match="sensitivity"):
        quantify_params({"sensitivity": 1.5})


def test_rows_typed_or_filled_in():
    from napari_blotquant._state.blot import RowsInput

    r = RowsInput()
    assert r.for_run("", same_image=False) is None
    text = r.filled(["row1", "row2"])  # the dock shows what it found
    assert r.for_run(text, same_image=True) is None  # ... which is not user input
    assert r.for_run(text, same_image=False) is None
    assert r.for_run("ASNS, ACTB", same_image=True) == ["ASNS", "ACTB"]  # typed
    text = r.filled(["ASNS", "ACTB"])
    assert r.for_run(text, same_image=True) == ["ASNS", "ACTB"]  # typed before: kept
    text = r.filled(["Target", "Loading"])  # renamed in the dock
    assert r.for_run(text, same_image=True) == ["Target", "Loading"]
    assert r.cleared(text) == "" and r.for_run("", same_image=False) is None
    assert r.cleared("typed, by hand") == "typed, by hand"


def test_lane_labels():
    from napari_blotquant._state.blot import split_labels, with_lane_labels

    assert split_labels("ctrl; 10 uM, 24 h ;;KO") == ["ctrl", "10 uM, 24 h", "", "KO"]
    assert split_labels("a\nb\n") == ["a", "b"] and split_labels("  ") == []
    df = pd.DataFrame({"image": "b", "strip": 1, "lane": [1, 2, 3, 4], "volume": 1.0})
    out = with_lane_labels(df, ["ctrl", "", "KO"])
    assert list(out.columns) == ["image", "strip", "lane", "lane_label", "volume"]
    assert out["lane_label"].tolist() == ["ctrl", "", "KO", ""]
    assert with_lane_labels(out, ["x"])["lane_label"].tolist()[0] == "x"  # replaced, not added
    assert with_lane_labels(None, ["x"]) is None


def test_safe_sidecar_names(tmp_path):
    from napari_blotquant._state.blot import safe_stem, sidecar_file

    assert safe_stem("blot 1 (a).tif") == "blot_1_a"
    assert safe_stem("C:/x/Ab#3 + 5%.tiff") == "Ab_3_5"
    assert safe_stem("slide.ome.tif") == "slide"
    assert safe_stem("ÄBC é.png") == "BC"
    assert safe_stem("***.tif") == "image"
    assert sidecar_file("my blot.tif", tmp_path).name == "my_blot.blotquant.json"


def test_kind_problem():
    import skimage.data
    from blotquant.image import Image
    from napari_blotquant._state.kind import kind_problem

    gray = Image.from_array(np.zeros((30, 40), np.uint16))
    rgb = Image.from_array(skimage.data.immunohistochemistry()[:64, :64])
    tinted = Image.from_array(np.dstack([np.full((8, 8), v, np.uint8) for v in (100, 101, 100)]))
    assert kind_problem(gray, "blot") is None and kind_problem(rgb, "ihc") is None
    assert "IHC review" in kind_problem(rgb, "blot")
    assert "Blot review" in kind_problem(gray, "ihc")
    assert kind_problem(tinted, "blot") is None  # a tinted gray scan is still a blot
