"""Combined tables: lanes paired by the core, total-protein lane factors, flags from the core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blotquant.batch import run_batch
from blotquant.blot.normalize import pair_blots
from blotquant.blot.params import BlotParams
from blotquant.errors import ParameterError


def test_sample_sheet_pair_and_labels(tmp_path):
    """A target image + a loading-control image of one group are normalised by lane."""
    import tifffile

    from blotquant.synthetic import make_blot

    loads = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]).T
    b = make_blot(7, shape=(160, 240), n_lanes=4, rows=("ASNS", "ACTB"), loads=loads,
                  noise=False)
    truth = b.truth.bands
    img = b.image.astype(np.float64)
    bg = b.truth.background
    # split the two rows into two images (as if the membrane was cut)
    mid = int((truth.loc[truth["row"] == "ASNS", "y"].max()
               + truth.loc[truth["row"] == "ACTB", "y"].min()) / 2)
    top = np.where(np.arange(img.shape[0])[:, None] < mid, img, bg).astype(np.uint16)
    bot = np.where(np.arange(img.shape[0])[:, None] >= mid, img, bg).astype(np.uint16)
    tifffile.imwrite(tmp_path / "asns.tif", top)
    tifffile.imwrite(tmp_path / "actb.tif", bot)
    (tmp_path / "sheet.csv").write_text(
        "file,sample,condition,replicate,group,role,rows,lane_labels\n"
        "asns.tif,exp1,ctrl,1,m1,target,ASNS,L1;L2;L3;L4\n"
        "actb.tif,exp1,ctrl,1,m1,loading control,ACTB,L1;L2;L3;L4\n")
    res = run_batch(tmp_path / "sheet.csv", tmp_path / "out", workers=0, progress=False,
                    qc=False)
    assert res.n_failed == 0, res.errors
    norm = res.tables["normalized"]
    assert list(norm["lane_label"]) == ["L1", "L2", "L3", "L4"]
    assert set(norm["control_image"]) == {"actb.tif"}
    assert (norm["target"] == "ASNS").all() and (norm["control"] == "ACTB").all()
    np.testing.assert_allclose(norm["relative_ratio"], [1, 2, 3, 4], rtol=0.1)
    bands = res.tables["bands"]
    assert set(bands.loc[bands["image"] == "actb.tif", "role"]) == {"loading_control"}


def test_total_protein_normalisation(tmp_path):
    """ratio = target volume / (lane total / max lane total) of the stain image."""
    import tifffile

    from blotquant.synthetic import make_blot

    tgt = make_blot(3, shape=(140, 220), n_lanes=4, rows=("ASNS",),
                    loads=[1.0, 2.0, 1.0, 2.0], noise=False)
    tps = make_blot(3, shape=(140, 220), n_lanes=4, rows=("p1", "p2", "p3"),
                    loads=[[1.0] * 3, [2.0] * 3, [0.5] * 3, [1.0] * 3], noise=False)
    tifffile.imwrite(tmp_path / "asns.tif", tgt.image)
    tifffile.imwrite(tmp_path / "stain.tif", tps.image)
    (tmp_path / "s.csv").write_text("file,group,role,rows\n"
                                    "asns.tif,g,target,ASNS\nstain.tif,g,total protein,\n")
    res = run_batch(tmp_path / "s.csv", tmp_path / "out", workers=0, progress=False,
                    report=False, qc=False)
    assert res.n_failed == 0, res.errors
    norm = res.tables["normalized"]
    bands = res.tables["bands"]
    tot = bands[bands["image"] == "stain.tif"].groupby("lane")["volume"].sum()
    tv = bands[bands["image"] == "asns.tif"].groupby("lane")["volume"].sum()
    lnf = tot / tot.max()
    np.testing.assert_allclose(norm["ratio"], (tv / lnf)[norm["lane"]].to_numpy(),
                               rtol=1e-12)
    assert set(norm["method"]) == {"total-protein"}
    # loads 1,2,1,2 over protein 1,2,0.5,1 -> relative 1, 1, 2, 2
    np.testing.assert_allclose(norm["relative_ratio"], [1, 1, 2, 2], rtol=0.12)
    assert set(norm["flags"]) <= {""}  # flags are the core's (none here)


def test_batch_pairs_through_the_core_policy():
    """combine pairs with blot.normalize.pair_blots: the core's ratios and flag names."""
    bands = pd.DataFrame({"image": "b", "strip": 1, "lane": [1, 1, 2, 2, 3, 3],
                          "row": ["T", "C"] * 3, "volume": [10.0, 5.0, 30.0, 5.0, 8.0, -1.0],
                          "saturated": [False, False, True, False, False, False]})
    got = pair_blots(bands, None, BlotParams(control="C")).table
    assert got["ratio"].tolist()[:2] == [2.0, 6.0] and np.isnan(got["ratio"].iloc[2])
    assert got["flags"].tolist() == ["", "saturated_target", "nonpositive_control"]
    with pytest.raises(ParameterError, match="X"):
        pair_blots(bands, None, BlotParams(control="X"))


def test_reference_lane_is_a_position_within_the_strip():
    bands = pd.DataFrame({"strip": 1, "lane": [2, 2, 3, 3], "row": ["T", "C"] * 2,
                          "volume": [2.0, 1.0, 6.0, 1.0]})
    got = pair_blots(bands, None, BlotParams(control="C")).table
    np.testing.assert_allclose(got["relative_ratio"], [1.0, 3.0])


def test_stain_warning_reaches_the_batch_warnings(tmp_path):
    # an H&E image in a folder of IHC images: scored, and the batch says it is not H-DAB
    import cv2

    from blotquant.synthetic import make_ihc
    from blotquant.synthetic.ihc import HE_STAINS

    src = tmp_path / "in"
    src.mkdir()
    he = make_ihc(seed=3, shape=(160, 200), stains=HE_STAINS)
    cv2.imwrite(str(src / "he.png"), he.image[..., ::-1])
    cv2.imwrite(str(src / "hdab.png"), make_ihc(seed=3, shape=(160, 200)).image[..., ::-1])
    res = run_batch(src, tmp_path / "out", workers=0, progress=False, report=False, qc=False,
                    ihc_params={"mode": "pixel"})
    stain = [w for w in res.warnings if w.startswith("stain:")]
    assert len(stain) == 1 and stain[0].startswith("stain: he") and "H&E?" in stain[0]


def test_marker_note_reaches_the_batch_warnings(tmp_path):
    # a cytoplasmic stain scored in cell mode as nuclear: the batch says where the DAB is
    import cv2

    from blotquant.synthetic import make_cell_image

    src = tmp_path / "in"
    src.mkdir()
    cv2.imwrite(str(src / "asns.png"), make_cell_image(0, shape=(384, 384)).image[..., ::-1])
    res = run_batch(src, tmp_path / "out", workers=0, progress=False, report=False, qc=False,
                    ihc_params={"mode": "cell", "marker": "nuclear", "pixel_size_um": 0.5})
    marker = [w for w in res.warnings if w.startswith("marker:")]
    assert len(marker) == 1 and marker[0].startswith("marker: asns")
    assert "around the nuclei, not in them" in marker[0]
