"""End-to-end CLI runs of ``blotquant blot`` on synthetic images."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.synthetic import make_blot


@pytest.fixture
def blot_tif(tmp_path):
    b = make_blot(11, shape=(300, 500), n_lanes=5, background={"texture": 0.0})
    p = tmp_path / "blot.tif"
    tifffile.imwrite(p, b.image)
    return p


def test_cli_writes_outputs(blot_tif, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["blot", str(blot_tif), "--out", str(out), "--rows", "ASNS,ACTB",
               "--control", "ACTB", "--reference-lane", "2"])
    assert rc == 0
    for name in ("bands.csv", "lanes.csv", "normalized.csv", "params.json", "qc.png"):
        assert (out / name).is_file(), name
    n = pd.read_csv(out / "normalized.csv")
    assert len(n) == 5 and n.loc[n["lane"] == 2, "relative_ratio"].item() == pytest.approx(1.0)
    params = json.loads((out / "params.json").read_text())
    assert params["background"] == "lane-fit" and params["rows"] == ["ASNS", "ACTB"]


def test_cli_two_images(blot_tif, tmp_path):
    out = tmp_path / "out2"
    rc = main(["blot", str(blot_tif), str(blot_tif), "--out", str(out), "--lanes", "5",
               "--rows", "ASNS,ACTB", "--control-rows", "ASNS,ACTB", "--control", "ACTB"])
    assert rc == 0
    n = pd.read_csv(out / "normalized.csv")
    assert set(n["target"]) == {"ASNS", "ACTB"} and set(n["control"]) == {"ACTB"}
    # the same image as its own control: ACTB / ACTB is 1 in every lane, and ASNS / ACTB
    # equals the one-image ratio
    assert n.loc[n["target"] == "ACTB", "ratio"].round(9).eq(1.0).all()
    one = tmp_path / "one"
    assert main(["blot", str(blot_tif), "--out", str(one), "--lanes", "5", "--rows",
                 "ASNS,ACTB", "--control", "ACTB"]) == 0
    single = pd.read_csv(one / "normalized.csv").set_index("lane")["ratio"]
    pair = n[n["target"] == "ASNS"].set_index("lane")["ratio"]
    np.testing.assert_allclose(pair.loc[single.index], single, rtol=1e-9)


def test_cli_bad_arguments(blot_tif, tmp_path, capsys):
    rc = main(["blot", str(blot_tif), "--out", str(tmp_path / "o"), "--lanes", "zero"])
    err = capsys.readouterr().err
    assert rc == 1 and "--lanes: must be a whole number" in err and "Traceback" not in err
    with pytest.raises(SystemExit):   # argparse choices: usage error, exit 2
        main(["blot", str(blot_tif), "--out", str(tmp_path / "o"), "--background", "magic"])
    rc = main(["blot", str(blot_tif), "--out", str(tmp_path / "o"), "--rows", "ASNS,ACTB",
               "--control", "GAPDH"])
    assert rc == 1 and "GAPDH" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()          # a failed run leaves no partial output
    rc = main(["blot", str(tmp_path / "missing.tif"), "--out", str(tmp_path / "o")])
    assert rc == 1
