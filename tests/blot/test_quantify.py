"""Known answers for the blot engine (synthetic blots with ground truth)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blotquant.blot.params import BlotParams

from blotquant.blot import Lane, normalize, quantify_blot
from blotquant.errors import ParameterError
from blotquant.synthetic import make_blot


def _ratio_err(b, res):
    tr = b.ratio_truth().set_index("lane")["ratio"]
    n = normalize(res.bands, target="ASNS", control="ACTB").set_index("lane")["ratio"]
    return np.abs(n / tr - 1)


@pytest.mark.parametrize("seed,pol,tilt", [(0, "light-on-dark", 0.0), (1, "dark-on-light", 2.0),
                                           (2, "light-on-dark", -2.5)])
def test_lane_count_and_ratio_accuracy(seed, pol, tilt):
    b = make_blot(seed, n_lanes=8, polarity=pol, tilt_deg=tilt, smile_px=6, dust=5,
                  background={"texture": 0.0})
    res = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    assert len(res.lanes) == 8
    H = b.image.shape[0]
    xs = np.array([ln.x_at(H / 2) for ln in res.lane_geometry])
    assert np.all(np.abs(xs - b.truth.lanes["x"].to_numpy()) < 5)
    assert list(res.rows) == ["ASNS", "ACTB"]
    err = _ratio_err(b, res)
    assert np.median(err) < 0.01 and err.max() < 0.05


def test_lane_count_given_and_empty_lane():
    b = make_blot(3, n_lanes=8, empty_lanes=(4,), background={"texture": 0.0})
    auto = quantify_blot(b.to_image())
    given = quantify_blot(b.to_image(), lanes=8)
    assert len(given.lanes) == 8 and len(auto.lanes) == 8
    lane4 = given.bands[given.bands["lane"] == 4]
    assert all("not_detected" in f for f in lane4["flags"])


def test_saturation_flags_exact():
    b = make_blot(4, n_lanes=8, saturate=True)
    res = quantify_blot(b.to_image(), lanes=8, rows=["ASNS", "ACTB"])
    t = b.truth.bands.set_index(["lane", "row"])["clipped"]
    m = res.bands.set_index(["lane", "row"])["saturated"]
    assert t.any() and (~t).any()
    assert (m.loc[t.index].to_numpy() == t.to_numpy()).all()
    n = normalize(res.bands, target="ASNS", control="ACTB")
    sat_lanes = set(res.bands.loc[res.bands["saturated"], "lane"])
    for rec in n.itertuples():
        assert ("saturated" in rec.flags) == (rec.lane in sat_lanes) or "saturated_reference" in rec.flags


def test_dark_on_light_uint8_saturates_at_black():
    b = make_blot(5, n_lanes=6, saturate=True, polarity="dark-on-light", dtype="uint8")
    res = quantify_blot(b.to_image(), lanes=6, rows=["ASNS", "ACTB"])
    assert res.params["polarity_used"] == "dark-on-light"
    t = b.truth.bands.set_index(["lane", "row"])["clipped"]
    m = res.bands.set_index(["lane", "row"])["saturated"]
    assert (m.loc[t.index].to_numpy() == t.to_numpy()).all()


def test_user_geometry_and_boxes_honoured():
    b = make_blot(6, n_lanes=5, background={"texture": 0.0})
    first = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    lanes = [Lane(ln.lane, ln.centerline + [0, 2.0], ln.width * 0.98)
             for ln in first.lane_geometry]
    boxes = first.bands[["lane", "row", "top", "bottom"]].copy()
    boxes.loc[0, "top"] -= 4
    again = quantify_blot(b.to_image(), lane_geometry=lanes, band_boxes=boxes)
    assert again.lanes["edited"].all()
    assert np.allclose(again.lanes["width"], [ln.width for ln in lanes])
    assert int(again.bands.loc[0, "top"]) == int(boxes.loc[0, "top"])
    assert again.bands["edited"].all()
    v1 = first.bands.set_index(["lane", "row"])["volume"]
    v2 = again.bands.set_index(["lane", "row"])["volume"]
    assert np.allclose(v1, v2.loc[v1.index], rtol=0.03)


def test_rectangular_boxes_and_background_methods():
    b = make_blot(7, n_lanes=4, background={"texture": 0.0})
    first = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    boxes = first.band_boxes()
    for method in ("lane-fit", "lane-minima", "border", "none", "rolling-ball"):
        r = quantify_blot(b.to_image(), lane_geometry=first.lane_geometry, band_boxes=boxes,
                          background=method)
        assert len(r.bands) == len(boxes)
        assert r.params["background"] == method
        assert (r.bands["background_method"] == method).all()
    assert r.background is not None and r.background.shape == b.image.shape


def test_normalize_arithmetic_and_reference():
    bands = pd.DataFrame({"lane": [1, 1, 2, 2, 3, 3], "row": ["T", "C"] * 3,
                          "volume": [2.0, 1.0, 6.0, 2.0, -1.0, 4.0],
                          "saturated": [False, False, False, True, False, False]})
    n = normalize(bands, target="T", control="C", reference_lane=2)
    assert n["ratio"].tolist() == [2.0, 3.0, -0.25]
    assert n.loc[n["lane"] == 2, "relative_ratio"].item() == 1.0
    assert "saturated_control" in n.loc[1, "flags"]
    assert "saturated_reference" in n.loc[0, "flags"]
    assert "nonpositive_target" in n.loc[2, "flags"]
    with pytest.raises(ParameterError, match="row 'X' not found"):
        normalize(bands, target="X", control="C")
    with pytest.raises(ParameterError, match="reference lane 9"):
        normalize(bands, target="T", control="C", reference_lane=9)


def test_params_recorded_and_errors():
    b = make_blot(8, shape=(300, 400), n_lanes=4)
    r = quantify_blot(b.to_image(), radius=30)
    for k in ("background", "radius", "sensitivity", "polarity", "lanes", "tail", "flank"):
        assert k in r.params
    assert r.bands["params_hash"].nunique() == 1
    # the hash is that of the parameter model: the same from every edge
    assert r.bands["params_hash"].iloc[0] == BlotParams(radius=30).quantify_hash
    with pytest.raises(ParameterError, match="background: must be one of lane-fit"):
        quantify_blot(b.image, background="magic")
    with pytest.raises(ParameterError, match="unknown parameter 'radious' .did you mean 'radius'"):
        quantify_blot(b.image, radious=3)
    with pytest.raises(ParameterError, match="lanes: must be a whole number >= 1"):
        quantify_blot(b.image, lanes=0)
    with pytest.raises(ParameterError, match="band box for lane 9"):
        quantify_blot(b.image, band_boxes=pd.DataFrame(
            {"lane": [9], "row": ["A"], "top": [1], "bottom": [5]}))


def test_corrections_sidecar_round_trip(tmp_path):
    from blotquant.review import blot_corrections, blot_kwargs, load_corrections, \
        save_corrections
    b = make_blot(9, shape=(300, 500), n_lanes=5, background={"texture": 0.0})
    img = b.to_image()
    r = quantify_blot(img, rows=["ASNS", "ACTB"])
    corr = blot_corrections(img, lanes=r.lane_geometry, bands=r.band_boxes(), rows=r.rows,
                            params=r.input_params())
    p = tmp_path / "blot.blotquant.json"
    save_corrections(corr, p)
    again = quantify_blot(img, **blot_kwargs(load_corrections(p)))
    v1 = r.bands.set_index(["lane", "row"])["volume"]
    v2 = again.bands.set_index(["lane", "row"])["volume"]
    assert np.allclose(v1, v2.loc[v1.index], rtol=1e-3)
    assert again.bands["edited"].all()


def test_touching_bands_share_one_baseline():
    from blotquant.blot.background import flank_fit_baseline
    y = np.arange(60.0)
    base = 100 + 2 * y
    p = base.copy()
    p[20:30] += 50
    p[30:40] += 80
    est = flank_fit_baseline(p, 30, 39, exclude=[(20, 29)])
    assert np.allclose(est[30:40], base[30:40])


def test_flank_fit_ignores_other_bands_outside_the_profile():
    """A band that lies wholly before or after a measuring window excludes nothing
    in it (a span ending at -5 once blanked the window up to its last samples)."""
    from blotquant.blot.background import flank_fit_baseline
    y = np.arange(40.0)
    p = 10 + 0.5 * y
    p[18:24] += 30
    alone = flank_fit_baseline(p, 18, 23)
    assert np.allclose(alone[18:24], 10 + 0.5 * y[18:24])
    for other in ([(-10, -5)], [(-3, -2)], [(45, 60)], [(-10, -5), (50, 55)]):
        assert np.array_equal(flank_fit_baseline(p, 18, 23, exclude=other), alone), other


def test_row_saturated_flag_marks_unclipped_neighbours_only():
    from blotquant.synthetic import make_blot
    loads = np.array([[0.3, 1.0], [0.3, 0.3], [0.3, 1.0], [0.3, 0.3]])
    sb = make_blot(3, shape=(300, 500), n_lanes=4, loads=loads, saturate=True)
    r = quantify_blot(sb.image, lanes=4, rows=["ASNS", "ACTB"])
    actb = r.bands[r.bands["row"] == "ACTB"]
    assert actb["saturated"].tolist() == [True, False, True, False]  # mixed row
    for row, grp in r.bands.groupby("row"):
        clipped = grp["saturated"].to_numpy()
        row_flag = grp["flags"].str.contains("row_saturated").to_numpy()
        if clipped.any():
            assert (row_flag == ~clipped).all()
        else:
            assert not row_flag.any()


def test_edited_column_follows_the_lanes_a_person_changed():
    import copy

    sb = make_blot(3, shape=(300, 500), n_lanes=4)
    auto = quantify_blot(sb.image, rows=["ASNS", "ACTB"])
    assert not auto.lanes["edited"].any()
    given = copy.deepcopy(auto.lane_geometry)
    # lanes handed over without per-lane marks all count as edited
    assert quantify_blot(sb.image, lane_geometry=given).lanes["edited"].all()
    given[1].edited = True
    given[1].width *= 0.8
    assert quantify_blot(sb.image, lane_geometry=given).lanes["edited"].tolist() == [
        False, True, False, False]
