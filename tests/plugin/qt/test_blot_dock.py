"""Blot review dock with a real napari viewer (Xvfb): analyse, edit, save, reproduce."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.gui


def _wait_result(qtbot, w, old, timeout=30000):
    qtbot.waitUntil(lambda: w.result is not old and not w.busy, timeout=timeout)
    return w.result


def _column(table, header: str) -> list[str]:
    heads = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    j = heads.index(header)
    return [table.item(i, j).text() for i in range(table.rowCount())]


def _all_cells(table) -> list[str]:
    return [table.item(i, j).text() for i in range(table.rowCount())
            for j in range(table.columnCount())]


def _number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.fixture
def blot_file(tmp_path_factory):
    import tifffile
    from blotquant.synthetic import make_blot

    b = make_blot(seed=3, shape=(400, 600), n_lanes=6, rows=("ASNS", "ACTB"))
    p = tmp_path_factory.mktemp("blot") / "blot two rows (1).tif"
    tifffile.imwrite(p, b.image)
    return p


def test_blot_review_end_to_end(make_napari_viewer, qtbot, blot_file, tmp_path):
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs, load_corrections
    from blotquant.io import read_image
    from blotquant.report import colors as C
    from napari_blotquant._qt.blot_dock import BlotReviewWidget
    from napari_blotquant._state.layers import LANE_FEATURES

    viewer = make_napari_viewer()
    (image_layer,) = viewer.open(str(blot_file), plugin="blotquant")
    assert image_layer.data.dtype == np.uint16  # raw pixels, never converted
    w = BlotReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    assert w.image_combo.currentText() == image_layer.name
    w.rows_edit.setText("ASNS, ACTB")
    w.labels_edit.setText("ctrl; 1 uM; 10 uM, 24 h; 100 uM; KO; KO + rescue")
    viewer.scene.camera.zoom = 7.0  # the view is fitted again after the analysis
    w.run()
    res0 = _wait_result(qtbot, w, None)
    assert viewer.scene.camera.zoom < 5

    # lanes and bands are Shapes layers with the documented features and colours
    lanes, bands = w.lanes_layer, w.bands_layer
    assert len(lanes.data) == 6 and list(lanes.features.columns) == LANE_FEATURES
    assert lanes.features["label"].tolist()[:3] == ["ctrl", "1 uM", "10 uM, 24 h"]
    assert len(bands.data) == 12
    assert {"uid", "lane", "row", "volume", "saturated", "flags"} <= set(bands.features.columns)
    np.testing.assert_allclose(bands.features["volume"], res0.bands["volume"])
    np.testing.assert_allclose(bands.edge_color[0], C.rgba(C.band_color(
        res0.bands["saturated"].iloc[0], res0.bands["flags"].iloc[0])), atol=1e-6)
    assert w.norm_table.rowCount() == 6
    assert (w.target_combo.currentText(), w.control_combo.currentText()) == ("ASNS", "ACTB")
    assert w.normalized.loc[w.normalized.lane == 1, "relative_ratio"].item() == pytest.approx(1)

    # readable numbers: no exponent, thousands separators, lane labels as "sample"
    cells = _all_cells(w.norm_table)
    assert w.bands_table.rowCount() == 0  # hidden tabs are filled when shown
    for t in (w.bands_table, w.lanes_table):
        w.tabs.setCurrentWidget(t)
        cells += _all_cells(t)
    assert w.bands_table.rowCount() == 12 and w.lanes_table.rowCount() == 6
    w.tabs.setCurrentWidget(w.norm_table)
    assert not any(re.search(r"\de[+-]\d", c) for c in cells)
    target = _column(w.norm_table, "target")
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})+", t) for t in target)
    assert _column(w.norm_table, "sample")[2] == "10 uM, 24 h"
    assert _number(target[0]) == pytest.approx(w.normalized.target_volume.iloc[0], abs=0.5)

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
    assert _number(_column(w.norm_table, "ratio")[2]) == pytest.approx(
        w.normalized.ratio.iloc[2], rel=1e-2)
    assert w.last_edit_latency < 5
    # the lane's bands followed it (public Shapes API: data set, not private views)
    b3 = res1.bands[res1.bands.lane == 3].iloc[0]
    i3 = int(np.flatnonzero((bands.features.lane == 3).to_numpy())[0])
    assert np.asarray(bands.data[i3])[:, 1].min() == pytest.approx(b3.left - 0.5, abs=1e-3)

    # delete the ACTB band of lane 6, then draw a new band (napari copies features)
    uid_before = set(bands.features["uid"])
    idx = bands.features.index[(bands.features.lane == 6) & (bands.features.row == "ACTB")][0]
    bands.selected_data = {int(idx)}
    bands.remove_selected()
    res2 = _wait_result(qtbot, w, res1)
    assert len(res2.bands) == 11 and len(bands.data) == 11
    lane6 = res2.lane_geometry[5]
    x = float(np.mean(lane6.centerline[:, 1]))
    actb5 = res2.bands[(res2.bands.lane == 5) & (res2.bands.row == "ACTB")].iloc[0]
    bands.add_rectangles(np.array([[actb5.top - 0.5, x - 30], [actb5.bottom + 0.5, x + 30]]))
    res3 = _wait_result(qtbot, w, res2)
    assert len(res3.bands) == 12
    new_uid = int(bands.features["uid"].iloc[-1])
    assert new_uid not in uid_before and bands.features["uid"].is_unique
    new_band = res3.bands[(res3.bands.lane == 6) & (res3.bands.row == "ACTB")].iloc[0]
    assert new_band.left == pytest.approx(x - 30, abs=1) and new_band.volume > 0
    # with the ACTB band drawn back, lane 6's ASNS band has the volume it had before the
    # deletion (the lane-fit quadratic's windows reach up to 2 band extents, so while the
    # ACTB band was deleted its signal lay in them: a deleted band is background)
    asns6_before = res1.bands[(res1.bands.lane == 6) & (res1.bands.row == "ASNS")].iloc[0]
    assert res3.bands.loc[(res3.bands.lane == 6) & (res3.bands.row == "ASNS"),
                          "volume"].item() == pytest.approx(asns6_before.volume, rel=1e-9)

    # rename the rows, change the background method: re-quantified, names in all tables
    w.rows_edit.setText("Target, Loading")
    w.rows_edit.editingFinished.emit()
    res4 = _wait_result(qtbot, w, res3)
    assert sorted(set(res4.bands["row"])) == ["Loading", "Target"]
    assert (w.target_combo.currentText(), w.control_combo.currentText()) == ("Target", "Loading")
    assert not w.radius_spin.isEnabled()  # the radius is for the rolling ball only
    w.bg_combo.setCurrentText("rolling-ball")
    res5 = _wait_result(qtbot, w, res4)
    assert (res5.bands["background_method"] == "rolling-ball").all()
    assert w.radius_spin.isEnabled()
    w.ref_combo.setCurrentText("2")
    assert w.normalized.loc[w.normalized.lane == 2, "relative_ratio"].item() == pytest.approx(1)

    # save: tables (with lane labels) + a sidecar with a safe name; the image is untouched
    before = blot_file.read_bytes()
    out = tmp_path / "out"
    paths = w.save(out, author="tester")
    assert blot_file.read_bytes() == before
    assert {p.name for p in out.iterdir()} == {"bands.csv", "lanes.csv", "normalized.csv",
                                               "blot_two_rows_1.blotquant.json"}
    saved = pd.read_csv(paths["bands"], keep_default_na=False)
    np.testing.assert_allclose(saved["volume"], res5.bands["volume"])
    assert list(saved.columns).index("lane_label") == list(saved.columns).index("lane") + 1
    assert saved.loc[saved.lane == 3, "lane_label"].unique().tolist() == ["10 uM, 24 h"]
    norm = pd.read_csv(paths["normalized"])
    np.testing.assert_allclose(norm["relative_ratio"], w.normalized["relative_ratio"])
    assert norm["lane_label"].tolist()[-1] == "KO + rescue"

    # re-run from the sidecar in Python: the same numbers and params_hash
    img = read_image(blot_file)
    corr = load_corrections(paths["corrections"], image=img, kind="blot")
    assert corr.author == "tester" and corr.blot["params"]["background"] == "rolling-ball"
    again = quantify_blot(img, **blot_kwargs(corr))
    cols = ["lane", "row", "top", "bottom", "volume", "saturated", "params_hash"]
    pd.testing.assert_frame_equal(again.bands[cols], res5.bands[cols])

    # resume the review in a fresh dock from the sidecar: same numbers, same edits
    w2 = BlotReviewWidget(viewer)
    w2.image_combo.setCurrentText(image_layer.name)
    w2.load_corrections(paths["corrections"])
    res6 = _wait_result(qtbot, w2, None)
    np.testing.assert_array_equal(res6.bands["volume"], res5.bands["volume"])
    assert res6.bands["params_hash"].iloc[0] == res5.bands["params_hash"].iloc[0]
    assert w2.bg_combo.currentText() == "rolling-ball"
    assert int(w2.bands_layer.features["box_edited"].sum()) == 1  # the band drawn by hand
    assert w2.review.labels == w.review.labels  # sample names from the saved lanes.csv
    assert w2.labels_edit.text().startswith("ctrl; 1 uM; 10 uM, 24 h")
    # a sidecar never applies to another image
    viewer.add_image(np.asarray(image_layer.data)[::-1].copy(), name="other")
    w3 = BlotReviewWidget(viewer)
    w3.image_combo.setCurrentText("other")
    assert w3.load_corrections(paths["corrections"]) is None
    assert "do not fit this image" in w3.status.label.text()


def test_same_tables_and_hash_as_cli(make_napari_viewer, qtbot, blot_file, tmp_path):
    """Same image + same parameters: the dock's tables and params_hash are the CLI's."""
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    viewer = make_napari_viewer()
    viewer.open(str(blot_file), plugin="blotquant")
    w = BlotReviewWidget(viewer)
    w.rows_edit.setText("ASNS, ACTB")
    w.bg_combo.setCurrentText("rolling-ball")
    w.radius_spin.setValue(30)
    w.sens_spin.setValue(0.6)
    w.run()
    _wait_result(qtbot, w, None)
    paths = w.save(tmp_path / "dock")
    proc = subprocess.run([sys.executable, "-m", "blotquant", "blot", str(blot_file),
                           "--out", str(tmp_path / "cli"), "--rows", "ASNS,ACTB",
                           "--background", "rolling-ball", "--radius", "30",
                           "--sensitivity", "0.6", "--no-corrections"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "cli" / "bands.csv")
    dock = pd.read_csv(paths["bands"])
    cols = ["lane", "row", "top", "bottom", "left", "right", "saturated", "params_hash"]
    pd.testing.assert_frame_equal(dock[cols], cli[cols])
    np.testing.assert_allclose(dock["volume"], cli["volume"], rtol=1e-12)
    cli_norm = pd.read_csv(tmp_path / "cli" / "normalized.csv")
    dock_norm = pd.read_csv(paths["normalized"])
    np.testing.assert_allclose(dock_norm["relative_ratio"], cli_norm["relative_ratio"],
                               rtol=1e-12)


def test_nothing_carried_between_images(make_napari_viewer, qtbot):
    """Auto rows are not user input: a second Quantify finds both strips again."""
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    viewer = make_napari_viewer()
    for key, n_rgb in (("blot", False), ("two_strip_blot", False), ("ihc_colon", True)):
        (layer,) = viewer.open_sample("blotquant", key)
        assert layer.rgb is n_rgb
    from blotquant.blot import quantify_blot

    w = BlotReviewWidget(viewer)
    w.image_combo.setCurrentText("two-strip blot")
    w.run()
    res = _wait_result(qtbot, w, None)
    auto = quantify_blot(w._image)  # what the engine finds on its own
    assert (len(res.lanes), len(res.bands)) == (len(auto.lanes), len(auto.bands))
    assert w.model.rows is None
    filled = w.rows_edit.text()
    assert filled == ", ".join(res.rows) == ", ".join(auto.rows)
    w.run()  # again, the filled-in row names untouched: not user input
    res2 = _wait_result(qtbot, w, res)
    assert w.model.rows is None
    assert (len(res2.lanes), len(res2.bands)) == (len(auto.lanes), len(auto.bands))
    assert res2.bands["params_hash"].iloc[0] == auto.bands["params_hash"].iloc[0]
    # another image: the previous review goes (layers, rows, labels, tables)
    w.labels_edit.setText("a; b")
    w.image_combo.setCurrentText("synthetic blot")
    assert w.rows_edit.text() == "" and w.labels_edit.text() == ""
    assert w.result is None and w.lanes_layer is None and "lanes" not in viewer.layers
    assert w.norm_table.rowCount() == 0
    w.run()
    res3 = _wait_result(qtbot, w, None)
    assert len(res3.lanes) == 8 and len(viewer.layers["lanes"].data) == 8
    # the two-strip sample with named rows: target and control paired per lane
    w.image_combo.setCurrentText("two-strip blot")
    w.rows_edit.setText("ASNS, ACTB")
    w.run()
    res4 = _wait_result(qtbot, w, None)
    assert sorted(set(res4.bands["row"])) == ["ACTB", "ASNS"]
    assert len(w.normalized) == 8
    assert w.normalized["relative_ratio"].iloc[0] == pytest.approx(1.0)


def test_other_kind_of_image_is_named(make_napari_viewer, qtbot):
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    viewer = make_napari_viewer()
    viewer.open_sample("blotquant", "ihc_colon")
    w = BlotReviewWidget(viewer)
    w.image_combo.setCurrentText("IHC colon")
    assert w.run() is None
    text = w.status.label.text()
    assert "IHC review" in text and "not a blot" in text and "polarity" not in text


def test_error_is_shown_not_raised(make_napari_viewer, qtbot):
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((40, 50), np.uint16), name="blank")
    w = BlotReviewWidget(viewer)
    w.run()
    qtbot.waitUntil(lambda: not w.busy, timeout=20000)
    assert w.result is None
    assert "Error" in w.status.label.text()


def test_view_fitted_when_the_dock_opens(make_napari_viewer, qtbot):
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    viewer = make_napari_viewer(show=True)
    viewer.open_sample("blotquant", "blot")
    viewer.scene.camera.zoom = 9.0
    w = BlotReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    qtbot.waitUntil(lambda: viewer.scene.camera.zoom < 5, timeout=5000)


def test_widgets_come_from_the_model(make_napari_viewer):
    from blotquant.blot import BACKGROUND_METHODS
    from blotquant.blot.params import POLARITY_CHOICES, BlotParams
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    w = BlotReviewWidget(make_napari_viewer())
    d = BlotParams.defaults()
    items = [w.bg_combo.itemText(i) for i in range(w.bg_combo.count())]
    assert items == list(BACKGROUND_METHODS) and w.bg_combo.currentText() == d["background"]
    pol = [w.polarity_combo.itemText(i) for i in range(w.polarity_combo.count())]
    assert pol == list(POLARITY_CHOICES)
    assert w.radius_spin.value() == d["radius"] and w.sens_spin.value() == d["sensitivity"]
    assert w.sens_spin.maximum() == 1.0 and w.sens_spin.minimum() > 0
    assert w.sens_spin.toolTip().lower().startswith(BlotParams.spec("sensitivity").help[:20])
    assert w.lanes_spin.specialValueText() == "auto" and w.lanes_field.value() is None
    assert w.params() == BlotParams()  # the dock's defaults are the model's
    w.fields["tail"].set_value(2.0)
    w.lanes_spin.setValue(7)
    assert w.params().tail == 2.0 and w.lanes_field.value() == 7
    for name, f in w.fields.items():
        assert f.widget.toolTip(), name


def test_public_api_only_through_the_plugin_manager(make_napari_viewer, qtbot):
    """Opened as napari opens it (the viewer behind napari's public-only proxy):
    quantify and edit with napari's deprecation/future warnings as errors."""
    viewer = make_napari_viewer()
    viewer.open_sample("blotquant", "blot")
    _, w = viewer.window.add_plugin_dock_widget("blotquant", "Blot review")
    w.run()
    res = _wait_result(qtbot, w, None)
    data = list(w.lanes_layer.data)
    data[1] = data[1] + [0, 5]
    w.lanes_layer.data = data
    res2 = _wait_result(qtbot, w, res)
    assert bool(res2.lanes["edited"].iloc[1])


def test_profile_plot_legend_and_axes(make_napari_viewer, qtbot):
    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_blot
    from napari_blotquant._qt.profile_plot import ProfilePlot

    b = make_blot(seed=2, shape=(300, 400), n_lanes=4)
    r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    plot = ProfilePlot()
    qtbot.addWidget(plot)
    plot.resize(420, 280)
    plot.show_profile(r.profiles[1], r.bands[r.bands.lane == 1], lane=1, rows=r.rows,
                      label="ctrl")
    img = plot.grab().toImage()
    assert img.width() == 420 and plot.height() >= 260
    area, legend = plot.plot_rect(), plot.legend_rect()
    assert not area.intersects(legend) and legend.bottom() <= area.top()
    assert plot.x_label and plot.y_label and "ctrl" in plot.title()
