"""Plugin geometry without a viewer: lane ribbons, band boxes, review state, reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_blotquant._state import layers as L


def test_ribbon_round_trip_straight_and_curved():
    for cl in ([[0, 50], [99, 53]], [[0, 40], [50, 44], [120, 41]]):
        v = L.lane_ribbon(cl, 21.5)
        assert v.shape == (2 * len(cl), 2)
        centre, width = L.ribbon_to_centerline(v)
        np.testing.assert_allclose(centre, cl, atol=1e-9)
        assert width == pytest.approx(21.5)


def test_moved_and_scaled_ribbon():
    v = L.lane_ribbon([[0, 50], [99, 50]], 20)
    centre, width = L.ribbon_to_centerline(v + [3, 12])
    np.testing.assert_allclose(centre, [[3, 62], [102, 62]])
    scaled = (v - [0, 50]) * [1, 1.5] + [0, 50]  # napari transform box: wider lane
    assert L.ribbon_to_centerline(scaled)[1] == pytest.approx(30)


def test_hand_drawn_rectangle_any_vertex_order():
    rect = np.array([[10, 30], [10, 50], [90, 50], [90, 30]], float)  # napari's order
    for v in (rect, rect[::-1], np.roll(rect, 1, axis=0)):
        centre, width = L.ribbon_to_centerline(v)
        assert width == pytest.approx(20)
        np.testing.assert_allclose(centre[:, 1], 40)
        assert centre[0, 0] == 10 and centre[-1, 0] == 90


def test_band_box_pixel_edges():
    rect = L.box_rect(10, 20, 5.0, 35.0)  # rows 10..20 inclusive, cols [5, 35)
    assert rect[:, 0].min() == 9.5 and rect[:, 0].max() == 20.5
    assert L.rect_box(rect) == {"top": 10, "bottom": 20, "left": 5.0, "right": 35.0}


def _result():
    pytest.importorskip("blotquant.blot")
    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_blot

    b = make_blot(seed=3, shape=(300, 420), n_lanes=4)
    return b, quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])


def test_review_state_reproduces_and_renumbers():
    from blotquant.blot import quantify_blot
    from blotquant.review import blot_kwargs
    from napari_blotquant._state.blot import BlotReview

    blot, res = _result()
    rv = BlotReview()
    lane_data, lane_feat, band_data, band_feat = rv.from_result(res)
    assert lane_feat["uid"].is_unique and band_feat["uid"].is_unique
    # float32 round trip (napari stores vertices as float32): nothing counts as edited
    feats, renumber = rv.sync_lanes([d.astype(np.float32) for d in lane_data], lane_feat)
    assert not feats["edited"].any() and renumber == {1: 1, 2: 2, 3: 3, 4: 4}
    bfeat, keep = rv.sync_bands([d.astype(np.float32) for d in band_data], band_feat, renumber)
    assert all(keep) and rv.band_boxes["left"].isna().all()
    again = quantify_blot(blot.to_image(), **blot_kwargs(rv.corrections(blot.image, params={})))
    np.testing.assert_array_equal(again.bands["volume"], res.bands["volume"])

    # add a lane left of lane 1 (copied features, duplicated uid): lanes renumber, bands follow
    new = L.lane_ribbon([[0, 8], [299, 8]], 10)
    feats2 = pd.concat([feats, feats.iloc[[-1]]], ignore_index=True)
    feats2, renumber = rv.sync_lanes(list(lane_data) + [new], feats2)
    assert feats2["uid"].is_unique
    assert feats2["lane"].tolist() == [2, 3, 4, 5, 1]
    assert bool(feats2["edited"].iloc[-1])
    bfeat2, keep = rv.sync_bands(band_data, bfeat, renumber)
    assert sorted(rv.band_boxes["lane"].unique()) == [2, 3, 4, 5]

    # delete (new) lane 3 = old lane 2: its bands are dropped
    lanes3 = [d for i, d in enumerate(list(lane_data) + [new]) if i != 1]
    f3 = feats2.drop(index=1).reset_index(drop=True)
    f3, renumber = rv.sync_lanes(lanes3, f3)
    assert sorted(f3["lane"]) == [1, 2, 3, 4]
    bfeat3, keep = rv.sync_bands(band_data, bfeat2, renumber)
    assert keep.count(False) == 2 and len(rv.band_boxes) == len(band_data) - 2


def test_new_band_gets_lane_row_and_fresh_uid():
    from napari_blotquant._state.blot import BlotReview

    _, res = _result()
    rv = BlotReview()
    lane_data, lane_feat, band_data, band_feat = rv.from_result(res)
    rv.sync_lanes(lane_data, lane_feat)
    lane3 = res.lane_geometry[2]
    x = float(np.mean(lane3.centerline[:, 1]))
    b = res.bands[(res.bands.lane == 3) & (res.bands.row == "ACTB")].iloc[0]
    rect = L.box_rect(b["top"] + 2, b["bottom"] + 4, x - 10, x + 10)
    feats = pd.concat([band_feat, band_feat.iloc[[-1]]], ignore_index=True)
    out, keep = rv.sync_bands(list(band_data) + [rect], feats, None)
    assert out["uid"].is_unique and all(keep)
    new = rv.band_boxes.iloc[-1]
    assert (new["lane"], new["row"], new["top"]) == (3, "ACTB", b["top"] + 2)
    assert new["left"] == pytest.approx(x - 10) and bool(out["box_edited"].iloc[-1])


def test_region_names_are_unique():
    from napari_blotquant._state.regions import region_names

    feats = pd.DataFrame({"name": ["tumour", "tumour", None]})
    assert region_names(feats, 3, "include") == ["tumour", "include 1", "include 2"]


def test_reader_declines_unsupported(tmp_path):
    from napari_blotquant._reader import get_reader

    txt = tmp_path / "notes.tif"
    txt.write_text("not an image")
    assert get_reader(str(txt)) is None
    assert get_reader(str(tmp_path / "missing.tif")) is None
    assert get_reader(str(tmp_path)) is None
    assert get_reader([str(txt), str(txt)]) is None


def test_reader_blot_and_pyramid(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    from napari_blotquant._reader import META_KEY, get_reader

    blot = np.full((60, 80), 1000, np.uint16)
    blot[20:30, 10:70] = 30000
    p = tmp_path / "blot.tif"
    tifffile.imwrite(p, blot)
    (data, kw, kind), = get_reader(str(p))(str(p))
    assert kind == "image" and data.dtype == np.uint16 and np.array_equal(data, blot)
    assert kw["metadata"][META_KEY].saturation_level == 65535
    assert kw["metadata"]["blotquant_path"] == str(p)

    rgb = np.random.default_rng(0).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    slide = tmp_path / "slide.ome.tif"
    with tifffile.TiffWriter(slide) as tw:
        tw.write(rgb, subifds=2, tile=(128, 128), photometric="rgb")
        for k in (2, 4):
            tw.write(rgb[::k, ::k], subfiletype=1, tile=(128, 128), photometric="rgb")
    (data, kw, kind), = get_reader(str(slide))(str(slide))
    assert kw["multiscale"] and kw["rgb"]
    assert [tuple(d.shape) for d in data] == [(512, 512, 3), (256, 256, 3), (128, 128, 3)]


def test_normalize_across_strips():
    pytest.importorskip("blotquant.blot")
    from napari_blotquant._state.blot import normalize_rows

    bands = pd.DataFrame({"image": "b", "strip": [1, 1, 2, 2], "lane": [1, 2, 3, 4],
                          "row": ["T", "T", "C", "C"], "volume": [10.0, 30.0, 5.0, 5.0],
                          "saturated": False, "flags": ""})
    n = normalize_rows(bands, target="T", control="C", reference_lane=1)
    assert n["lane"].tolist() == [1, 2]
    assert n["ratio"].tolist() == [2.0, 6.0] and n["relative_ratio"].tolist() == [1.0, 3.0]
    one = normalize_rows(bands.assign(strip=1, lane=[1, 2, 1, 2]), target="T", control="C",
                         reference_lane=1)
    assert one["ratio"].tolist() == [2.0, 6.0]


def test_reader_multichannel_gives_one_layer_per_channel(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    from napari_blotquant._reader import META_KEY, get_reader

    stack = np.zeros((2, 40, 50), np.uint16)
    stack[0, 10:20] = 5000
    stack[1, 25:30] = 9000
    p = tmp_path / "two channels.tif"
    tifffile.imwrite(p, stack, photometric="minisblack")
    layers = get_reader(str(p))(str(p))
    assert len(layers) == 2
    for (data, kw, kind), ch in zip(layers, stack):
        assert kind == "image" and np.array_equal(data, ch)
        assert kw["metadata"][META_KEY].axes == "YX"
        assert kw["metadata"][META_KEY].shape == (40, 50)


def test_strip_of_a_drawn_lane_on_a_figure_page_uses_its_column():
    # pieces side by side span the same rows: a lane drawn at the right joins the right
    # piece's strip, not the first strip spanning its rows
    from blotquant.blot import Lane
    lanes = [Lane(1, [[0, 10], [100, 10]], 5, strip=1), Lane(2, [[0, 200], [100, 200]], 5,
                                                               strip=3)]
    assert L.strip_of(lanes, 50) == 1
    assert L.strip_of(lanes, 50, 190) == 3 and L.strip_of(lanes, 50, 20) == 1
    assert L.strip_of(lanes, 500, 20) == 1   # no lane spans the row


def test_reader_multi_image_tiff_one_layer_per_page(tmp_path):
    import tifffile

    from napari_blotquant._reader import META_KEY, get_reader

    a = np.full((40, 50), 300, np.uint16)
    a[10:15, 5:45] = 9000
    b = np.full((40, 50), 77, np.uint16)
    p = tmp_path / "chemi_marker.tif"
    with tifffile.TiffWriter(p) as w:
        w.write(a)
        w.write(b)
    layers = get_reader(str(p))(str(p))
    assert [kw["name"] for _, kw, _ in layers] == ["chemi_marker [page 1]",
                                                   "chemi_marker [page 2]"]
    np.testing.assert_array_equal(layers[0][0], a)
    np.testing.assert_array_equal(layers[1][0], b)
    assert [kw["metadata"][META_KEY].extra["page"] for _, kw, _ in layers] == [1, 2]
