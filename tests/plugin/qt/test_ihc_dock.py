"""IHC review dock with a real napari viewer (Xvfb): score, thresholds, regions, reproduce."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.gui

_SCORES = ["region", "n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "h_score",
           "pct_positive", "area_px"]


def _wait_result(qtbot, w, old, timeout=60000):
    qtbot.waitUntil(lambda: w.result is not old and not w.busy, timeout=timeout)
    return w.result


@pytest.fixture
def ihc_file(tmp_path_factory):
    import skimage.data
    import tifffile

    p = tmp_path_factory.mktemp("ihc") / "colon.tif"
    tifffile.imwrite(p, skimage.data.immunohistochemistry(), photometric="rgb")
    return p


def test_ihc_review_end_to_end(make_napari_viewer, qtbot, ihc_file, tmp_path):
    from blotquant.review import ihc_kwargs, load_corrections
    from blotquant.ihc import score_ihc
    from blotquant.io import read_image
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget
    from napari_blotquant._state.regions import CLASS_COLORS

    viewer = make_napari_viewer()
    (image_layer,) = viewer.open(str(ihc_file), plugin="blotquant")
    assert image_layer.rgb
    w = IHCReviewWidget(viewer)
    viewer.window.add_dock_widget(w)
    w.run()
    res0 = _wait_result(qtbot, w, None)
    names = [ly.name for ly in viewer.layers]
    for n in ("DAB OD", "hematoxylin OD", "IHC classes", "cells", "include regions",
              "exclude regions"):
        assert n in names
    labels = viewer.layers["IHC classes"]
    assert np.array_equal(labels.data, res0.class_map)
    for k, rgba in CLASS_COLORS.items():  # fixed colours; 0 transparent
        np.testing.assert_allclose(labels.colormap.map(k), rgba, atol=1e-6)
    assert len(viewer.layers["cells"].data) == res0.summary["n"].iloc[0] > 50
    # a human score table: scores as rows, one column per region
    assert w.table.columnCount() == 2
    assert w.table.horizontalHeaderItem(1).text() == "image"
    names = [w.table.item(i, 0).text() for i in range(w.table.rowCount())]
    assert names == ["H-score", "% positive", "% 1+", "% 2+", "% 3+", "Allred", "IRS", "cells",
                     "pixel H-score", "pixel % positive", "cell vs pixel"]
    shown = dict(zip(names, (w.table.item(i, 1).text() for i in range(len(names)))))
    s0 = res0.summary.iloc[0]
    assert shown["H-score"] == f"{s0.h_score:.0f}"
    # cell mode shows the pixel-mode score of the same field and whether they agree
    assert shown["pixel H-score"] == f"{s0.pixel_h_score:.0f}"
    agree = abs(s0.pixel_h_score - s0.h_score) <= 30
    assert (shown["cell vs pixel"] == "agree") == agree
    assert ("vs pixel" in w.status.label.text()) == (not agree)
    assert ("pixel mode is" in w.status.label.toolTip()) == (not agree)
    assert shown["% positive"] == f"{s0.pct_positive:.1f}%"
    assert shown["Allred"].startswith(f"{int(s0.allred)} (PS ")
    assert shown["cells"] == f"{int(s0.n):,}"
    assert "H-score" in w.status.label.text() and "nan" not in w.status.label.text()
    assert "include regions" in w.region_help.text()

    # lower thresholds re-classify live (rescore: no new detection)
    w.threshold_spins[0].setValue(0.1)
    res1 = _wait_result(qtbot, w, res0)
    assert res1.thresholds[0] == pytest.approx(0.1)
    assert res1.summary["n"].iloc[0] == res0.summary["n"].iloc[0]
    assert res1.summary["n_negative"].iloc[0] < res0.summary["n_negative"].iloc[0]
    assert np.array_equal(labels.data, res1.class_map)
    assert w.last_rescore_latency < 5

    # draw an exclude region and an include region: per-region scores, smaller area
    w.exclude_layer.add_polygons([np.array([[0, 0], [0, 200], [200, 200], [200, 0]], float)])
    res2 = _wait_result(qtbot, w, res1)
    assert res2.summary["area_px"].iloc[0] < res1.summary["area_px"].iloc[0]
    assert list(w.exclude_layer.features["name"]) == ["exclude 1"]
    w.include_layer.add_rectangles(np.array([[100, 100], [400, 450]], float))
    res3 = _wait_result(qtbot, w, res2)
    assert list(res3.summary["region"]) == ["include 1"]
    assert res3.thresholds[0] == pytest.approx(0.1)

    # a region without cells says so (no "nan")
    w.include_layer.add_rectangles(np.array([[500, 500], [503, 503]], float))
    res_e = _wait_result(qtbot, w, res3)
    assert res_e.summary["n"].tolist()[-1] == 0
    assert w.table.item(0, 2).text() == "no cells in this region"
    assert "include 2: no cells in this region" in w.status.label.text()
    assert not any("nan" in w.table.item(i, j).text() for i in range(w.table.rowCount())
                   for j in range(w.table.columnCount()))
    w.include_layer.selected_data = {1}
    w.include_layer.remove_selected()
    res3 = _wait_result(qtbot, w, res_e)
    assert list(res3.summary["region"]) == ["include 1"]

    # GeoJSON export / import round trip (QuPath coordinates: x = col, y = row)
    gj = w.export_regions(tmp_path / "regions.geojson")
    doc = json.loads(gj.read_text())
    assert len(doc["features"]) == 2
    xs = [c[0] for c in doc["features"][0]["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(100) and max(xs) == pytest.approx(450)
    w.exclude_layer.data = []
    w.import_regions(gj)  # replaces both layers' shapes
    res5 = _wait_result(qtbot, w, res3)
    assert [len(w.include_layer.data), len(w.exclude_layer.data)] == [1, 1]
    pd.testing.assert_frame_equal(res5.summary[_SCORES], res3.summary[_SCORES])

    # save and re-score from the sidecar in Python: the same numbers
    before = ihc_file.read_bytes()
    paths = w.save(tmp_path / "out")
    assert ihc_file.read_bytes() == before
    assert {"summary", "cells", "corrections"} <= set(paths)
    img = read_image(ihc_file)
    corr = load_corrections(paths["corrections"], image=img, kind="ihc")
    assert corr.ihc["params"]["thresholds"] == [0.1, 0.4, 0.6]
    again = score_ihc(img, **ihc_kwargs(corr))
    pd.testing.assert_frame_equal(again.summary[_SCORES], res5.summary[_SCORES])
    saved = pd.read_csv(paths["summary"])
    assert saved["h_score"].tolist() == pytest.approx(res5.summary["h_score"].tolist())

    # resume in a fresh dock from the sidecar: same regions, thresholds and numbers
    w2 = IHCReviewWidget(viewer)
    w2.image_combo.setCurrentText(image_layer.name)
    w2.load_corrections(paths["corrections"])
    res6 = _wait_result(qtbot, w2, None)
    assert w2.thresholds() == (0.1, 0.4, 0.6)
    assert [len(w2.include_layer.data), len(w2.exclude_layer.data)] == [1, 1]
    pd.testing.assert_frame_equal(res6.summary[_SCORES], res5.summary[_SCORES])

    # ... and with the CLI, from the sidecar's regions and parameters
    p = corr.ihc["params"]
    roi = tmp_path / "roi.geojson"
    roi.write_text(json.dumps(corr.ihc["regions"]))
    proc = subprocess.run(
        [sys.executable, "-m", "blotquant", "ihc", str(ihc_file), "--out", str(tmp_path / "cli"),
         "--roi", str(roi), "--compartment", w.params().compartment_used(),
         "--thresholds", ",".join(str(t) for t in p["thresholds"]), "--no-corrections"],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "cli" / "summary.csv")
    assert cli["h_score"].tolist() == pytest.approx(res5.summary["h_score"].tolist())
    assert cli["n"].tolist() == res5.summary["n"].tolist()
    help_text = subprocess.run([sys.executable, "-m", "blotquant", "ihc", "--help"],
                               capture_output=True, text=True).stdout
    if "--corrections" in help_text:  # ... and straight from the sidecar
        proc = subprocess.run(
            [sys.executable, "-m", "blotquant", "ihc", str(ihc_file), "--out",
             str(tmp_path / "cli2"), "--corrections", str(paths["corrections"])],
            capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        cli2 = pd.read_csv(tmp_path / "cli2" / "summary.csv")
        assert cli2["region"].tolist() == res5.summary["region"].tolist()
        assert cli2["h_score"].tolist() == pytest.approx(res5.summary["h_score"].tolist())


def test_ihc_whole_slide_scored_on_a_level(make_napari_viewer, qtbot, tmp_path):
    import skimage.data
    import tifffile
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    rgb = np.tile(skimage.data.immunohistochemistry(), (2, 2, 1))  # 1024 x 1024
    slide = tmp_path / "slide.ome.tif"
    with tifffile.TiffWriter(slide) as tw:
        tw.write(rgb, subifds=2, tile=(256, 256), photometric="rgb")
        for k in (2, 4):
            tw.write(rgb[::k, ::k], subfiletype=1, tile=(256, 256), photometric="rgb")
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(slide), plugin="blotquant")
    assert layer.multiscale and layer.rgb
    w = IHCReviewWidget(viewer)
    assert not w.max_side.isHidden()  # the slide level is offered for slides only
    w.max_side.setValue(600)
    w.mode_combo.setCurrentText("pixel")
    w.image_combo.setCurrentText(layer.name)
    w.run()
    res = _wait_result(qtbot, w, None)
    assert w.level == 1 and w.downsample == 2.0
    assert res.class_map.shape == (512, 512)
    labels = viewer.layers["IHC classes"]
    np.testing.assert_allclose(labels.scale, (2, 2))
    np.testing.assert_allclose(labels.translate, (0.5, 0.5))
    # a region drawn in full-resolution coordinates is scored on the level
    w.include_layer.add_rectangles(np.array([[0, 0], [512, 512]], float))
    res2 = _wait_result(qtbot, w, res)
    assert res2.summary["region_area_px"].iloc[0] == pytest.approx(256 * 256, rel=0.01)
    corr = w.corrections()
    assert corr.ihc["downsample"] == 2.0 and corr.image["sha256_of"] == "file"
    assert corr.image["shape"] == [1024, 1024, 3]


def test_same_table_and_hash_as_cli(make_napari_viewer, qtbot, ihc_file, tmp_path):
    """Same image + same parameters: the dock's summary and params_hash are the CLI's."""
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    viewer = make_napari_viewer()
    viewer.open(str(ihc_file), plugin="blotquant")
    w = IHCReviewWidget(viewer)
    w.mode_combo.setCurrentText("pixel")
    w.threshold_spins[2].setValue(0.55)
    w.run()
    _wait_result(qtbot, w, None)
    paths = w.save(tmp_path / "dock")
    assert paths["corrections"].name == "colon.blotquant.json"
    proc = subprocess.run(
        [sys.executable, "-m", "blotquant", "ihc", str(ihc_file), "--out", str(tmp_path / "cli"),
         "--mode", "pixel", "--thresholds", "0.2,0.4,0.55", "--no-corrections"],
        capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    cli = pd.read_csv(tmp_path / "cli" / "summary.csv")
    dock = pd.read_csv(paths["summary"])
    pd.testing.assert_frame_equal(dock[_SCORES + ["params_hash"]], cli[_SCORES + ["params_hash"]])


def test_gray_blot_in_the_ihc_dock_is_named(make_napari_viewer, qtbot):
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    viewer = make_napari_viewer()
    viewer.open_sample("blotquant", "blot")
    w = IHCReviewWidget(viewer)
    assert w.image_combo.currentText() == "synthetic blot"  # offered, then explained
    assert w.run() is None and w.result is None
    text = w.status.label.text()
    assert "grayscale" in text and "Blot review" in text


def test_ihc_widgets_come_from_the_model(make_napari_viewer):
    from blotquant.ihc.params import COMPARTMENTS, MODES, IHCParams
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget
    from napari_blotquant._state.forms import accepts

    w = IHCReviewWidget(make_napari_viewer())
    assert w.max_side.isHidden()  # no slide open
    items = [w.mode_combo.itemText(i) for i in range(w.mode_combo.count())]
    assert items == list(MODES)
    comp = [w.compartment_combo.itemText(i) for i in range(w.compartment_combo.count())]
    assert comp == ["auto", *COMPARTMENTS]
    stains = [w.stains_combo.itemText(i) for i in range(w.stains_combo.count())]
    assert all(accepts(IHCParams, "stains", s) for s in stains)
    assert w.thresholds() == IHCParams.defaults()["thresholds"]
    assert w.params() == IHCParams()
    w.compartment_combo.setCurrentText("nucleus")
    assert w.params().compartment == "nucleus"
    assert w.marker_combo.toolTip().startswith("Marker compartment")
