"""Full-resolution slide review (plugins/napari_blotquant/_slide.py): background steps,
multiscale class map, cells in view, and a saved review that re-applies in the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.review import save_corrections, sidecar_path
from blotquant.ihc.regions import rectangle
from blotquant.io import read_image
from blotquant.synthetic import make_ihc


@pytest.fixture
def slide(tmp_path):
    a = make_ihc(seed=7, shape=(1024, 1024), tissue_fraction=0.6).image
    p = tmp_path / "slide.tif"
    with tifffile.TiffWriter(p) as w:
        w.write(a, tile=(256, 256), compression="zlib", photometric="rgb", subifds=1,
                resolution=(1e4 / 0.5, 1e4 / 0.5), resolutionunit="CENTIMETER")
        w.write(np.ascontiguousarray(a[::2, ::2]), tile=(256, 256), compression="zlib",
                photometric="rgb", subfiletype=1)
    return p


def _run(gen):
    steps = []
    try:
        while True:
            steps.append(next(gen))
    except StopIteration as stop:
        return steps, stop.value


def test_steps_layers_and_review_reapply_in_cli(slide, tmp_path):
    from napari_blotquant._slide import (class_map_layer, review_score_kwargs, score_slide_steps,
                                         slide_review, visible_cells)

    img = read_image(slide, mode="rgb")
    regs = [rectangle("Tumor", 64, 64, 900, 700),
            rectangle("fold", 300, 300, 400, 420, kind="exclude")]
    steps, res = _run(score_slide_steps(img, mode="cell", level=1, regions=regs, tile_size=256))
    assert steps and steps[-1].done == steps[-1].total == len(res.tiles)
    assert res.level == 1
    levels, kw = class_map_layer(res, min_side=128)
    assert levels[0].shape == (512, 512) and levels[1].shape == (256, 256)
    assert kw["scale"] == (2.0, 2.0) and kw["multiscale"]
    pts, cls = visible_cells(res, (0, 0), (1024, 1024))
    assert len(pts) == res.summary.n[0] and set(np.unique(cls)) <= {0, 1, 2, 3}
    assert len(visible_cells(res, (0, 0), (1024, 1024), max_cells=3)[0]) == 0
    # the saved review re-applies: same level, same regions, same numbers
    corr = slide_review(img, res, path=slide)
    save_corrections(corr, sidecar_path(slide, slide.parent))
    from blotquant.ihc.slide import score_slide

    again = score_slide(img, **review_score_kwargs(corr), tile_size=512)
    cols = ["region", "n", "n_1plus", "n_2plus", "n_3plus", "h_score", "area_px"]
    pd.testing.assert_frame_equal(again.summary[cols], res.summary[cols])
    assert again.summary.params_hash[0] == res.summary.params_hash[0]
    out = tmp_path / "out"
    assert main(["ihc", str(slide), "--out", str(out)]) == 0     # finds the sidecar
    cli = pd.read_csv(out / "summary.csv")
    assert list(cli.region) == ["Tumor"]
    np.testing.assert_array_equal(cli[cols[1:]].to_numpy(), res.summary[cols[1:]].to_numpy())
    # (params_hash in the CLI follows its option defaults, e.g. an explicit --compartment)


@pytest.mark.gui
def test_dock_scores_a_slide_at_full_resolution(slide, make_napari_viewer, qtbot):
    pytest.importorskip("napari")
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(slide), plugin="blotquant")
    assert layer.multiscale
    dock = IHCReviewWidget(viewer)
    dock.mode_combo.setCurrentText("pixel")
    worker = dock.score_full_resolution()
    with qtbot.waitSignal(worker.finished, timeout=120000):
        pass
    res = dock.slide_result
    assert res.level == 0 and res.summary.n[0] > 0
    labels = [ly for ly in viewer.layers if ly.name.endswith("classes")]
    assert labels and labels[0].multiscale
