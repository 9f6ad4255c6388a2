"""Blot review dock with a real napari viewer (Xvfb): analyse, edit, save, reproduce."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.gui

def _wait_result(qtbot, w, old, timeout=30000):
    qtbot.waitUntil(lambda: w.result is not old and not w.runner.busy, timeout=timeout)
    return w.result


@pytest.fixture
def blot_file(tmp_path_factory):
    import tifffile
    from blotquant.synthetic import make_blot

    b = make_blot(seed=3, shape=(400, 600), n_lanes=6, rows=("ASNS", "ACTB"))
    p = tmp_path_factory.mktemp("blot") / "blot two rows.tif"
    tifffile.imwrite(p, b.image)
    return p


def test_blot_review_end_to_end(make_napari_viewer, qtbot, blot_file, tmp_path):
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs, load_corrections
    from blotquant.io import read_image
    from napari_blotquant._blot_widget import BlotReviewWidget
    from napari_blotquant._layers import LANE_FEATURES

    viewer = make_napari_viewer()
    (image_layer,) = viewer.open(str(blot_file), plugin="blotquant")
    assert image_layer.data.dtype == np.uint16  # raw pixels, never converted
    w = BlotReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    assert w.image_combo.currentText() == image_layer.name
    w.rows_edit.setText("ASNS, ACTB")
    w.run()
    res0 = _wait_result(qtbot, w, None)

    # lanes and bands are Shapes layers with the documented features
    lanes, bands = w.lanes_layer, w.bands_layer
    assert len(lanes.data) == 6 and list(lanes.features.columns) == LANE_FEATURES
    assert len(bands.data) == 12
    assert {"uid", "lane", "row", "volume", "saturated"} <= set(bands.features.columns)
    np.testing.assert_allclose(bands.features["volume"], res0.bands["volume"])
    assert w.norm_table.rowCount() == 6
    assert (w.target_combo.currentText(), w.control_combo.currentText()) == ("ASNS", "ACTB")
    assert w.normalized.loc[w.normalized.lane == 1, "relative_ratio"].item() == pytest.approx(1)

    # move lane 3 by 12 px: only lane 3's numbers change, the table follows
    vol0 = res0.bands.set_index(["lane", "row"])["volume"]
    data = list(lanes.data)
    data[2] = data[2] + [0, 12]
    lanes.data = data
    res1 = _wait_result(qtbot, w, res0)
    vol1 = res1.bands.set_index(["lane", "row"])["volume"]
    changed = ~np.isclose(vol1, vol0.loc[vol1.index], rtol=1e-12)
    assert set(vol1.index[changed].get_level_values(0)) == {3}
    assert bool(w.lanes_layer.features["edited"].iloc[2])
    table_lane3 = float(w.norm_table.item(2, 3).text())  # ratio column
    assert table_lane3 == pytest.approx(w.normalized.ratio.iloc[2], rel=1e-3)
    assert w.last_edit_latency < 5

    # delete the ACTB band of lane 6, then draw a new band (napari copies features)
    uid_before = set(bands.features["uid"])
    idx = bands.features.index[(bands.features.lane == 6) & (bands.features.row == "ACTB")][0]
    bands.selected_data = {int(idx)}
    bands.remove_selected()
    res2 = _wait_result(qtbot, w, res1)
    assert len(res2.bands) == 11 and len(bands.data) == 11
    lane6 = res2.lane_geometry[5]
    x = float(np.mean(lane6.centerline[:, 1]))
    asns6 = res2.bands[(res2.bands.lane == 6) & (res2.bands.row == "ASNS")].iloc[0]
    actb5 = res2.bands[(res2.bands.lane == 5) & (res2.bands.row == "ACTB")].iloc[0]
    bands.add_rectangles(np.array([[actb5.top - 0.5, x - 30], [actb5.bottom + 0.5, x + 30]]))
    res3 = _wait_result(qtbot, w, res2)
    assert len(res3.bands) == 12
    new_uid = int(bands.features["uid"].iloc[-1])
    assert new_uid not in uid_before and bands.features["uid"].is_unique
    new_band = res3.bands[(res3.bands.lane == 6) & (res3.bands.row == "ACTB")].iloc[0]
    assert new_band.left == pytest.approx(x - 30, abs=1) and new_band.volume > 0
    assert res3.bands.loc[(res3.bands.lane == 6) & (res3.bands.row == "ASNS"),
                          "volume"].item() == pytest.approx(asns6.volume)

    # rename the rows, change the background method: re-quantified, names in all tables
    w.rows_edit.setText("Target, Loading")
    w.rows_edit.editingFinished.emit()
    res4 = _wait_result(qtbot, w, res3)
    assert sorted(set(res4.bands["row"])) == ["Loading", "Target"]
    assert (w.target_combo.currentText(), w.control_combo.currentText()) == ("Target", "Loading")
    w.bg_combo.setCurrentText("rolling-ball")
    res5 = _wait_result(qtbot, w, res4)
    assert (res5.bands["background_method"] == "rolling-ball").all()
    w.ref_combo.setCurrentText("2")
    assert w.normalized.loc[w.normalized.lane == 2, "relative_ratio"].item() == pytest.approx(1)

    # save: tables + sidecar; the input image is untouched
    before = blot_file.read_bytes()
    out = tmp_path / "out"
    paths = w.save(out, author="tester")
    assert blot_file.read_bytes() == before
    assert {p.name for p in out.iterdir()} == {"bands.csv", "lanes.csv", "normalized.csv",
                                               "blot two rows.blotquant.json"}
    saved = pd.read_csv(paths["bands"])
    np.testing.assert_allclose(saved["volume"], res5.bands["volume"])
    norm = pd.read_csv(paths["normalized"])
    np.testing.assert_allclose(norm["relative_ratio"], w.normalized["relative_ratio"])

    # re-run from the sidecar in Python: the same numbers
    img = read_image(blot_file)
    corr = load_corrections(paths["corrections"], image=img, kind="blot")
    assert corr.author == "tester" and corr.blot["params"]["background"] == "rolling-ball"
    again = quantify_blot(img, **blot_kwargs(corr))
    pd.testing.assert_frame_equal(
        again.bands[["lane", "row", "top", "bottom", "volume", "saturated"]],
        res5.bands[["lane", "row", "top", "bottom", "volume", "saturated"]])

    # resume the review in a fresh dock from the sidecar: same numbers, same edits
    w2 = BlotReviewWidget(viewer)
    w2.image_combo.setCurrentText(image_layer.name)
    w2.load_corrections(paths["corrections"])
    res6 = _wait_result(qtbot, w2, None)
    np.testing.assert_array_equal(res6.bands["volume"], res5.bands["volume"])
    assert w2.bg_combo.currentText() == "rolling-ball"
    assert int(w2.bands_layer.features["box_edited"].sum()) == 1  # the band drawn by hand
    # a sidecar never applies to another image
    viewer.add_image(np.asarray(image_layer.data)[::-1].copy(), name="other")
    w3 = BlotReviewWidget(viewer)
    w3.image_combo.setCurrentText("other")
    assert w3.load_corrections(paths["corrections"]) is None
    assert "do not fit this image" in w3.status.label.text()


def test_cli_reproduces_sidecar(blot_file, tmp_path):
    """``blotquant blot IMAGE --out DIR --corrections SIDECAR`` gives the reviewed numbers.

    The sidecar is made by the dock's own state class (what Save writes) after
    moving a lane, without a viewer, so this test stands alone under xdist.
    """
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs, save_corrections, sidecar_path
    from blotquant.io import read_image
    from napari_blotquant._blot_state import BlotReview

    img = read_image(blot_file)
    res = quantify_blot(img, rows=["ASNS", "ACTB"])
    rv = BlotReview()
    lane_data, lane_feat, band_data, band_feat = rv.from_result(res)
    lane_data[1] = lane_data[1] + [0, 9]
    feats, renumber = rv.sync_lanes(lane_data, lane_feat)
    rv.sync_bands(band_data, band_feat, renumber)
    corr = rv.corrections(img, params={"background": "lane-fit"},
                          image_name=blot_file.name, path=str(blot_file))
    sidecar = save_corrections(corr, sidecar_path(blot_file, tmp_path))
    ref = quantify_blot(img, **blot_kwargs(corr)).bands
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "blotquant", "blot", str(blot_file),
                           "--out", str(out), "--corrections", str(sidecar)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(out / "bands.csv")
    assert cli["row"].tolist() == ref["row"].tolist()
    np.testing.assert_allclose(cli["volume"], ref["volume"], rtol=1e-9)


def test_samples_open(make_napari_viewer, qtbot):
    from napari_blotquant._blot_widget import BlotReviewWidget

    viewer = make_napari_viewer()
    for key, n_rgb in (("blot", False), ("two_strip_blot", False), ("ihc_colon", True)):
        (layer,) = viewer.open_sample("blotquant", key)
        assert layer.rgb is n_rgb
    assert viewer.layers["IHC colon"].data.shape == (512, 512, 3)
    # the two-strip sample quantifies: target and loading control paired per lane
    w = BlotReviewWidget(viewer)
    w.image_combo.setCurrentText("two-strip blot")
    w.rows_edit.setText("ASNS, ACTB")
    w.run()
    qtbot.waitUntil(lambda: w.result is not None and not w.runner.busy, timeout=30000)
    assert sorted(set(w.result.bands["row"])) == ["ACTB", "ASNS"]
    assert len(w.normalized) == 8  # lanes paired across strips when there are two
    assert w.normalized["relative_ratio"].iloc[0] == pytest.approx(1.0)


def test_error_is_shown_not_raised(make_napari_viewer, qtbot):
    from napari_blotquant._blot_widget import BlotReviewWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((40, 50), np.uint16), name="blank")
    w = BlotReviewWidget(viewer)
    w.run()
    qtbot.waitUntil(lambda: not w.runner.busy, timeout=20000)
    assert w.result is None
    assert "Error" in w.status.label.text()
