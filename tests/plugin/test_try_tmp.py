import time, numpy as np, pytest
pytestmark = pytest.mark.gui

def test_try(make_napari_viewer, qtbot, tmp_path):
    from napari_blotquant._sample_data import ihc_colon
    from napari_blotquant._ihc_widget import IHCReviewWidget
    v = make_napari_viewer()
    (data, kw, kind), = ihc_colon()
    v.add_image(data, **kw)
    w = IHCReviewWidget(v)
    v.window.add_dock_widget(w)
    t=time.perf_counter(); w.run()
    qtbot.waitUntil(lambda: w.result is not None, timeout=60000)
    print("score", time.perf_counter()-t, w.status.label.text())
    print(w.result.summary.T)
    old = w.result
    w.threshold_spins[0].setValue(0.1)
    qtbot.waitUntil(lambda: w.result is not old and not w.runner.busy, timeout=20000)
    print("rescore", w.last_rescore_latency, w.status.label.text())
    old = w.result
    w.exclude_layer.add_rectangles(np.array([[0, 0], [200, 200]]))
    qtbot.waitUntil(lambda: w.result is not old and not w.runner.busy, timeout=20000)
    print(w.status.label.text(), w.regions())
    print(w.save(tmp_path))
    print(open(w.last_saved["corrections"]).read()[:1500])
    print([l.name for l in v.layers])
