"""IHC dock: the "Score full resolution" button scores a slide tile by tile, with progress."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui


def test_score_full_resolution_button(make_napari_viewer, qtbot, tmp_path):
    import tifffile
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    from blotquant.ihc.slide import score_slide
    from blotquant.io import read_image
    from blotquant.synthetic import make_ihc

    rgb = make_ihc(seed=7, shape=(1024, 1280), tissue_fraction=0.5).image
    slide = tmp_path / "slide.ome.tif"
    with tifffile.TiffWriter(slide) as tw:
        tw.write(rgb, subifds=2, tile=(256, 256), photometric="rgb")
        for k in (2, 4):
            tw.write(np.ascontiguousarray(rgb[::k, ::k]), subfiletype=1, tile=(256, 256),
                     photometric="rgb")
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(slide), plugin="blotquant")
    w = IHCReviewWidget(viewer)
    w.image_combo.setCurrentText(layer.name)
    assert not w.full_btn.isHidden()           # offered for slides
    w.mode_combo.setCurrentText("pixel")
    w.slide_tile_size = 256                    # 20 tiles: progress in steps
    seen = []
    w.status.bar.setValue(50)
    w.status.bar.valueChanged.connect(seen.append)
    qtbot.mouseClick(w.full_btn, __import__("qtpy").QtCore.Qt.LeftButton)
    assert not w.full_btn.isEnabled()          # one run at a time
    qtbot.waitUntil(lambda: w.slide_result is not None and w.full_btn.isEnabled(),
                    timeout=120000)
    res = w.slide_result
    assert res.level == 0 and res.level_shape == (1024, 1280)
    # progress went from the start to 100 % through the tiles
    assert seen[0] == 0 and seen[-1] == 100 and any(0 < v < 100 for v in seen)
    assert 5 < len(res.tiles) <= 20            # tissue tiles only
    assert "full resolution" in w.status.label.text()
    # the overlay: a multiscale Labels layer of the full-resolution class map
    lab = viewer.layers[f"{res.image_name} classes"]
    assert lab.multiscale and lab.data[0].shape == (1024, 1280)
    # the numbers are score_slide's on the same file and parameters
    ref = score_slide(read_image(slide, mode="rgb"), w.params(), scheduler="sync")
    assert res.summary["n"].tolist() == ref.summary["n"].tolist()
    assert res.summary["n"].iloc[0] > 0.2 * rgb.shape[0] * rgb.shape[1]
    np.testing.assert_array_equal(np.asarray(lab.data[0]), np.asarray(ref.class_map[:]))
    assert w.table.rowCount() > 0               # the summary is shown


def test_full_resolution_button_hidden_without_a_slide(make_napari_viewer):
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64, 3), np.uint8), rgb=True)
    w = IHCReviewWidget(viewer)
    assert w.full_btn.isHidden()
