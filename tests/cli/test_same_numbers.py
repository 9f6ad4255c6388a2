"""The same image with the same parameters gives the same numbers and params_hash from the
Python API and from the command line (batch and the plugin are checked in their own tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

import blotquant
from blotquant.blot.params import BlotParams
from blotquant.cli import main
from blotquant.ihc.params import IHCParams
from blotquant.synthetic import make_blot, make_ihc


def test_blot_cli_equals_api(tmp_path):
    b = make_blot(21, shape=(300, 520), n_lanes=6, tilt_deg=1.0)
    path = tmp_path / "blot.tif"
    tifffile.imwrite(path, b.image)
    rc = main(["blot", str(path), "--out", str(tmp_path / "o"), "--rows", "ASNS,ACTB",
               "--background", "rolling-ball", "--radius", "30", "--reference-lane", "2"])
    assert rc == 0
    cli = pd.read_csv(tmp_path / "o" / "bands.csv")
    params = BlotParams(rows=("ASNS", "ACTB"), background="rolling-ball", radius=30,
                        reference_lane=2)
    api = blotquant.quantify_blot(blotquant.read_image(path), params, image_name="blot.tif").bands
    assert len(cli) == len(api) > 0
    np.testing.assert_allclose(cli["volume"].to_numpy(float), api["volume"].to_numpy(float),
                               rtol=1e-9)
    assert set(cli["params_hash"]) == set(api["params_hash"]) == {params.quantify_hash}
    # keyword API and model API are the same analysis
    kw = blotquant.quantify_blot(blotquant.read_image(path), rows=["ASNS", "ACTB"],
                                 background="rolling-ball", radius=30.0, reference_lane=2)
    assert set(kw.bands["params_hash"]) == {params.quantify_hash}


@pytest.mark.parametrize("mode", ["pixel", "cell"])
def test_ihc_cli_equals_api(tmp_path, mode):
    s = make_ihc(seed=5, shape=(192, 192))
    path = tmp_path / "field.tif"
    tifffile.imwrite(path, s.image)
    rc = main(["ihc", str(path), "--out", str(tmp_path / "o"), "--mode", mode,
               "--thresholds", "0.15,0.35,0.55", "--pixel-size-um", "0.5"])
    assert rc == 0
    cli = pd.read_csv(tmp_path / "o" / "summary.csv")
    params = IHCParams(mode=mode, thresholds=(0.15, 0.35, 0.55), pixel_size_um=0.5)
    api = blotquant.score_ihc(blotquant.read_image(path, mode="rgb"), params).summary
    for col in ("n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "h_score", "pct_positive"):
        np.testing.assert_allclose(cli[col].to_numpy(float), api[col].to_numpy(float),
                                   rtol=1e-9, err_msg=col)
    assert cli["params_hash"].tolist() == api["params_hash"].tolist()
