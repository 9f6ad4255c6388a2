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
    qtbot.waitUntil(lambda: w.result is not old and not w.runner.busy, timeout=timeout)
    return w.result


@pytest.fixture
def ihc_file(tmp_path_factory):
    import skimage.data
    import tifffile

    p = tmp_path_factory.mktemp("ihc") / "colon.tif"
    tifffile.imwrite(p, skimage.data.immunohistochemistry(), photometric="rgb")
    return p


def test_ihc_review_end_to_end(make_napari_viewer, qtbot, ihc_file, tmp_path):
    from blotquant.corrections import ihc_kwargs, load_corrections
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
    assert w.table.columnCount() == 2  # scores as rows, one column per region
    assert w.table.horizontalHeaderItem(1).text() == "image"
    assert w.table.item(0, 0).text() == "n"

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
         "--mode", p["mode"], "--roi", str(roi), "--stains", p["stains"],
         "--compartment", p["compartment"],
         "--thresholds", ",".join(str(t) for t in p["thresholds"])],
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
    w.max_side.setValue(600)
    w.mode_combo.setCurrentText("pixel")
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
