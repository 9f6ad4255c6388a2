"""Screenshots of the napari docks and their interactive latencies.

Renders ``docs/images/blot_widget.png`` and ``docs/images/ihc_widget.png``
(the whole napari window with the dock) and measures

- blot: seconds from a lane edit (``lanes.data = ...``) to updated tables, on
  a synthetic 1000 x 1000 (1 Mpx) 16-bit blot, next to the time the core
  ``quantify_blot`` call itself took (the peer in the same process);
- IHC: seconds from a threshold change to updated class map / table, on a
  2048 x 2048 RGB image (pixel mode, the heaviest overlay), next to the core
  ``rescore`` time.

Run (needs a display; starts a virtual one with pyvirtualdisplay when there
is none)::

    python benchmarks/screenshots.py            # screenshots + latencies
    python benchmarks/screenshots.py --no-shots # latencies only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"


def _display():
    if os.environ.get("DISPLAY") or sys.platform != "linux":
        return None
    from pyvirtualdisplay import Display

    d = Display(visible=False, size=(1920, 1200), color_depth=24)
    d.start()
    return d


def _wait(cond, timeout=120.0):
    from qtpy.QtWidgets import QApplication

    t0 = time.perf_counter()
    while not cond():
        QApplication.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("the dock did not finish in time")
    for _ in range(5):
        QApplication.processEvents()


def _settle(seconds=0.3):
    from qtpy.QtWidgets import QApplication

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        QApplication.processEvents()
        time.sleep(0.01)


def _viewer(title):
    import napari

    v = napari.Viewer(title=title, show=True)
    v.window.resize(1560, 1000)
    return v


def blot_shot(path: Path):
    from napari_blotquant._qt.blot_dock import BlotReviewWidget
    from napari_blotquant._sample_data import synthetic_blot

    v = _viewer("blotquant - blot review")
    (data, kw, _), = synthetic_blot()
    v.add_image(data, **kw)
    w = BlotReviewWidget(v)
    v.window.add_dock_widget(w, name="Blot review", area="right")
    w.rows_edit.setText("ASNS, ACTB")
    w.labels_edit.setText("ctrl; siNT; siASNS #1; siASNS #2; 1 uM; 10 uM; 100 uM; KO")
    w.run()
    _wait(lambda: w.result is not None and not w.busy)
    # show a reviewed state: lane 3 nudged, its profile plotted
    lanes = w.lanes_layer
    d = list(lanes.data)
    d[2] = d[2] + [0, 4]
    old = w.result
    lanes.data = d
    _wait(lambda: w.result is not old and not w.busy)
    w.lane_spin.setValue(3)
    lanes.selected_data = {2}
    v.layers.selection.active = lanes
    _settle()
    img = v.screenshot(canvas_only=False, flash=False)
    _save(img, path)
    v.close()


def ihc_shot(path: Path):
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget
    from napari_blotquant._sample_data import ihc_colon

    v = _viewer("blotquant - IHC review")
    (data, kw, _), = ihc_colon()
    v.add_image(data, **kw)
    w = IHCReviewWidget(v)
    v.window.add_dock_widget(w, name="IHC review", area="right")
    w.run()
    _wait(lambda: w.result is not None and not w.busy)
    old = w.result
    w.include_layer.add_polygons([np.array([[150, 20], [140, 470], [500, 500], [505, 30]],
                                           float)])
    _wait(lambda: w.result is not old and not w.busy)
    old = w.result
    w.exclude_layer.add_polygons([np.array([[330, 220], [300, 330], [420, 380], [470, 260]],
                                           float)])
    _wait(lambda: w.result is not old and not w.busy)
    v.layers.selection.active = w.include_layer
    _settle()
    _save(v.screenshot(canvas_only=False, flash=False), path)
    v.close()


def messages_shot(blot_path: Path, ihc_path: Path):
    """The docks saying what is wrong: an IHC image in the Blot dock; a region without cells."""
    from napari_blotquant._qt.blot_dock import BlotReviewWidget
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget
    from napari_blotquant._sample_data import ihc_colon

    v = _viewer("blotquant - messages")
    (data, kw, _), = ihc_colon()
    v.add_image(data, **kw)
    w = BlotReviewWidget(v)
    v.window.add_dock_widget(w, name="Blot review", area="right")
    w.run()  # refused with a message naming the IHC dock
    _settle()
    _save_widget(w, blot_path)
    v.window.remove_dock_widget(w)
    w2 = IHCReviewWidget(v)
    v.window.add_dock_widget(w2, name="IHC review", area="right")
    w2.run()
    _wait(lambda: w2.result is not None and not w2.busy)
    old = w2.result
    w2.include_layer.add_polygons([np.array([[150, 20], [140, 470], [500, 500], [505, 30]],
                                            float),
                                   np.array([[2, 2], [2, 6], [6, 6], [6, 2]], float)])
    _wait(lambda: w2.result is not old and not w2.busy)
    _settle()
    _save_widget(w2, ihc_path)
    v.close()


def _save_widget(widget, path: Path):
    """Write a widget's pixels (just the dock) as PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(path), "PNG")
    print(f"wrote {path.relative_to(ROOT)} {widget.width()}x{widget.height()}")


def _save(img, path: Path):
    from skimage.io import imsave

    path.parent.mkdir(parents=True, exist_ok=True)
    imsave(path, np.asarray(img)[..., :3], check_contrast=False)
    print(f"wrote {path.relative_to(ROOT)} {img.shape[1]}x{img.shape[0]}")


def blot_latency(n_edits=7):
    from blotquant.synthetic import make_blot
    from napari_blotquant._qt.blot_dock import BlotReviewWidget

    b = make_blot(seed=0, shape=(1000, 1000), n_lanes=8)
    v = _viewer("latency")
    v.add_image(b.image, name="1 Mpx blot")
    w = BlotReviewWidget(v)
    v.window.add_dock_widget(w)
    w.rows_edit.setText("ASNS, ACTB")
    w.run()
    _wait(lambda: w.result is not None and not w.busy)
    _settle(0.5)
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs

    ui, core, alone = [], [], []
    for k in range(n_edits):
        lanes = w.lanes_layer
        d = list(lanes.data)
        d[k % len(d)] = d[k % len(d)] + [0, 3 if k % 2 == 0 else -3]
        old = w.result
        t0 = time.perf_counter()
        lanes.data = d
        _wait(lambda: w.result is not old and not w.busy)
        ui.append(w.last_edit_latency if np.isfinite(w.last_edit_latency)
                  else time.perf_counter() - t0)
        core.append(w.result.params.get("elapsed_s", float("nan")))
        _settle(0.3)
        t1 = time.perf_counter()  # peer: the same core call, GUI idle, main thread
        quantify_blot(w._image, **blot_kwargs(w.corrections()))
        alone.append(time.perf_counter() - t1)
    v.close()
    return statistics.median(ui), statistics.median(core), statistics.median(alone)


def ihc_latency(n_changes=7):
    import skimage.data

    from blotquant.ihc import rescore
    from napari_blotquant._qt.ihc_dock import IHCReviewWidget

    rgb = np.tile(skimage.data.immunohistochemistry(), (4, 4, 1))  # 2048 x 2048
    v = _viewer("latency")
    v.add_image(rgb, name="2k IHC", rgb=True)
    w = IHCReviewWidget(v)
    v.window.add_dock_widget(w)
    w.mode_combo.setCurrentText("pixel")
    t0 = time.perf_counter()
    w.run()
    _wait(lambda: w.result is not None and not w.busy)
    first = time.perf_counter() - t0
    _settle(0.5)
    ui, core = [], []
    for k in range(n_changes):
        old = w.result
        w.threshold_spins[0].setValue(0.12 + 0.02 * k)
        _wait(lambda: w.result is not old and not w.busy)
        ui.append(w.last_rescore_latency)
        t1 = time.perf_counter()
        rescore(w.result, w.thresholds())
        core.append(time.perf_counter() - t1)
        _settle(0.2)
    v.close()
    return statistics.median(ui), statistics.median(core), first


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-shots", action="store_true", help="skip the screenshots")
    ap.add_argument("--no-latency", action="store_true", help="skip the latency runs")
    args = ap.parse_args(argv)
    disp = _display()
    try:
        from napari.qt import get_qapp

        get_qapp()
        if not args.no_shots:
            blot_shot(IMAGES / "blot_widget.png")
            ihc_shot(IMAGES / "ihc_widget.png")
            messages_shot(IMAGES / "blot_dock_other_kind.png",
                          IMAGES / "ihc_dock_empty_region.png")
        if not args.no_latency:
            ui, core, alone = blot_latency()
            print(f"blot 1000x1000: lane edit -> tables {ui * 1000:.0f} ms; core quantify_blot "
                  f"in the worker {core * 1000:.0f} ms, same call alone {alone * 1000:.0f} ms "
                  f"(ratio edit/alone {ui / alone:.2f})")
            ui, core, first = ihc_latency()
            print(f"IHC 2048x2048 pixel mode: threshold -> overlay+table {ui * 1000:.0f} ms "
                  f"(core rescore {core * 1000:.0f} ms, ratio {ui / core:.2f}); "
                  f"first score incl. layers {first:.1f} s")
    finally:
        if disp is not None:
            disp.stop()


if __name__ == "__main__":
    main()
