"""``pair_blots``: one pairing policy for target / loading-control ratios.

Tables with known volumes give exact ratios; a synthetic control image moved by a
known shift and rotation checks registration + pairing end to end; the real
B1AR target / GAPDH pair (membranes re-placed, 10 + 9 lanes) is the real test.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.normalize import LANE_PAIR_COLUMNS, PAIRED_COLUMNS, pair_blots
from blotquant.blot.params import BlotParams
from blotquant.blot.register import Registration
from blotquant.errors import ParameterError
from blotquant.io import read_image
from blotquant.synthetic import make_blot


def _bands(spec, image="img"):
    """spec: {(strip, row): [volumes per lane]} -> bands table, lanes numbered on."""
    rows, lane0 = [], {}
    strips = sorted({s for s, _ in spec})
    start = 1
    for s in strips:
        n = max(len(v) for (ss, _), v in spec.items() if ss == s)
        lane0[s] = start
        start += n
    for k, ((s, row), vols) in enumerate(spec.items()):   # rows top to bottom as given
        for i, v in enumerate(vols):
            rows.append(dict(image=image, strip=s, lane=lane0[s] + i, row=row, volume=float(v),
                             saturated=False, y=100.0 * s + k,
                             left=10.0 + 20 * i, right=25.0 + 20 * i))
    return pd.DataFrame(rows)


def _ratios(p, row):
    t = p.table[p.table["target"] == row]
    return t["ratio"].to_numpy(float), t["relative_ratio"].to_numpy(float), t


# ----------------------------------------------------------------------------- one image
def test_each_strip_uses_its_own_control():
    b = _bands({(1, "At"): [2, 4, 6], (1, "Ac"): [1, 1, 2],
                (2, "Bt"): [9, 3, 6], (2, "Bc"): [3, 3, 3]})
    p = pair_blots(b)
    assert p.mode == "same-image" and list(p.table.columns) == PAIRED_COLUMNS
    r, rel, t = _ratios(p, "At")
    np.testing.assert_allclose(r, [2, 4, 3])
    np.testing.assert_allclose(rel, [1, 2, 1.5])
    assert set(t["control"]) == {"Ac"} and set(t["method"]) == {"same-strip"}
    r, rel, t = _ratios(p, "Bt")
    np.testing.assert_allclose(r, [3, 1, 2])
    np.testing.assert_allclose(rel, [1, 1 / 3, 2 / 3])       # strip 2's own reference lane
    assert set(t["control"]) == {"Bc"} and t["lane_in_strip"].tolist() == [1, 2, 3]


def test_target_and_control_on_different_strips():
    # b2ar_top_gapdh_bottom style: target on the top strip, GAPDH on the bottom strip
    b = _bands({(1, "B2AR"): [4, 6, 8], (2, "GAPDH"): [2, 2, 4]})
    p = pair_blots(b, reference_lane=2)
    r, rel, t = _ratios(p, "B2AR")
    np.testing.assert_allclose(r, [2, 3, 2])
    np.testing.assert_allclose(rel, [2 / 3, 1, 2 / 3])
    assert set(t["method"]) == {"across-strips"}
    assert t["control_lane"].tolist() == [4, 5, 6] and t["lane"].tolist() == [1, 2, 3]
    with pytest.raises(ParameterError, match=r"strip 1: .* has 3 lanes, .* has 2"):
        pair_blots(_bands({(1, "B2AR"): [4, 6, 8], (2, "GAPDH"): [2, 2]}))


def test_named_rows_and_errors():
    b = _bands({(1, "T"): [2, 4], (1, "M"): [1, 1], (1, "C"): [2, 2]})
    p = pair_blots(b, target="T", control="M")
    assert _ratios(p, "T")[0].tolist() == [2.0, 4.0] and len(p.table) == 2
    with pytest.raises(ParameterError, match="control row 'X' not found"):
        pair_blots(b, control="X")
    with pytest.raises(ParameterError, match="target row 'X' not found"):
        pair_blots(b, target="X")
    with pytest.raises(ParameterError, match="nothing to normalize"):
        pair_blots(_bands({(1, "T"): [1, 2]}))
    with pytest.raises(ParameterError, match="reference_lane"):
        pair_blots(b, reference_lane=0)


def test_saturation_flags_carry_over():
    b = _bands({(1, "T"): [2, 4, 6], (1, "C"): [1, 1, 1]})
    b.loc[(b["row"] == "T") & (b["lane"] == 1), "saturated"] = True
    p = pair_blots(b)
    flags = p.table["flags"].tolist()
    assert flags[0] == "saturated_target;saturated_reference"
    assert all("saturated_reference" in f for f in flags)


# ----------------------------------------------------------------------------- two images
def test_two_images_per_strip_controls_and_counts():
    t = _bands({(1, "B1AR"): [4, 6], (2, "B1AR2"): [8, 2, 6]}, image="target.tif")
    c = _bands({(1, "GAPDH"): [2, 2], (1, "faint"): [0.1, 0.1],
                (2, "GAPDH2"): [4, 1, 3], (2, "lower"): [1, 1, 1]}, image="gapdh.tif")
    p = pair_blots(t, c)
    assert p.mode == "control-image" and not p.registrations
    r1, _, t1 = _ratios(p, "B1AR")
    r2, rel2, t2 = _ratios(p, "B1AR2")
    np.testing.assert_allclose(r1, [2, 3])
    np.testing.assert_allclose(r2, [2, 2, 2])
    np.testing.assert_allclose(rel2, [1, 1, 1])
    # strip 2's target is divided by strip 2's control (its strongest row), not strip 1's
    assert set(t1["control"]) == {"GAPDH"} and set(t2["control"]) == {"GAPDH2"}
    assert set(t2["control_strip"]) == {2} and set(t2["control_image"]) == {"gapdh.tif"}
    assert list(p.lanes.columns) == LANE_PAIR_COLUMNS and len(p.lanes) == 5
    bad = _bands({(1, "GAPDH"): [2, 2, 2], (2, "GAPDH2"): [4, 1]}, image="gapdh.tif")
    with pytest.raises(ParameterError) as err:
        pair_blots(t, bad)
    msg = str(err.value)
    # the error names both images and every strip's counts
    assert "strip 1: target image 'target.tif' has 2 lanes, control image 'gapdh.tif' has 3" in msg
    assert "strip 2: target image 'target.tif' has 3 lanes, control image 'gapdh.tif' has 2" in msg
    with pytest.raises(ParameterError, match=r"target image 'target.tif' has 2 strip\(s\) "
                                             r"\(2 \+ 3 lanes\) but the control image "
                                             r"'one.tif' has 1 \(2 lanes\)"):
        pair_blots(t, _bands({(1, "GAPDH"): [2, 2]}, image="one.tif"))


def test_total_protein_lane_sums():
    t = _bands({(1, "T"): [3, 6, 9]})
    tp = _bands({(1, "p1"): [1, 2, 3], (1, "p2"): [2, 1, 3], (1, "p3"): [0, 0, 0]})
    p = pair_blots(t, tp, total_protein=True)
    r, rel, tab = _ratios(p, "T")
    # lane totals 3, 3, 6 -> lane normalization factors 0.5, 0.5, 1 (of the largest lane)
    np.testing.assert_allclose(tab["control_volume"], [0.5, 0.5, 1.0])
    np.testing.assert_allclose(r, [6, 12, 9])
    np.testing.assert_allclose(rel, [1, 2, 1.5])
    assert set(tab["control"]) == {"total protein"} and p.mode == "total-protein"
    with pytest.raises(ParameterError, match="total-protein"):
        pair_blots(t, total_protein=True)


def test_given_registration_flags_offset_lanes():
    t = _bands({(1, "T"): [1, 2, 3]})
    c = _bands({(1, "C"): [1, 1, 1]})
    # the given motion puts control lanes half a lane pitch (20 px) off the target lanes
    p = pair_blots(t, c, registrations={1: Registration(dx=10.0, method="given")})
    assert p.warnings and "lane pitch" in p.warnings[0]
    assert all("lane_offset" in f for f in p.table["flags"])
    assert p.table["registration_dx"].tolist() == [10.0] * 3
    assert p.to_dict()["registrations"]["1"]["dx"] == 10.0


# ----------------------------------------------------------------------------- synthetic images
def _moved(img, angle, dy, dx):
    H, W = img.shape
    m = cv2.getRotationMatrix2D(((W - 1) / 2, (H - 1) / 2), angle, 1.0)
    m[0, 2] += dx
    m[1, 2] += dy
    out = cv2.warpAffine(img.astype(np.float32), m, (W, H),
                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_REFLECT)
    return np.clip(np.rint(out), 0, 65535).astype(np.uint16)


@pytest.mark.parametrize("angle,dy,dx", [(1.2, 6.0, -14.0), (-0.8, -9.0, 11.0)])
def test_moved_control_image_known_ratios(angle, dy, dx):
    target = make_blot(7, shape=(400, 600), n_lanes=8, rows=("ASNS", "ACTB"))
    # same membrane (seed: lanes, background), another protein with other lane loads
    control = make_blot(7, shape=(400, 600), n_lanes=8, rows=("GAPDH",), row_y=(300.0,),
                        loads=np.linspace(1.0, 0.3, 8))
    rt = quantify_blot(target.image, rows=["ASNS", "ACTB"], lanes=8)
    rc = quantify_blot(_moved(control.image, angle, dy, dx), rows=["GAPDH"], lanes=8)
    p = pair_blots(rt, rc, BlotParams(target="ASNS"))
    reg = p.registrations[1]
    assert reg.method == "phase-correlation"
    assert reg.angle_deg == pytest.approx(angle, abs=0.3)
    assert reg.dy == pytest.approx(dy, abs=1.0) and reg.dx == pytest.approx(dx, abs=1.0)
    assert not p.warnings and len(p.table) == 8
    assert (p.lanes["offset_px"].abs() < 3).all()
    # lane k of the target is paired with lane k of the membrane: exactly the measured
    # volumes' ratio, and the true ratio within the engine's volume accuracy here
    mt = rt.bands.query("row == 'ASNS'").sort_values("lane")["volume"].to_numpy()
    mc = rc.bands.sort_values("lane")["volume"].to_numpy()
    np.testing.assert_allclose(p.table["ratio"], mt / mc, rtol=1e-12)
    tv = target.truth.bands.query("row == 'ASNS'")["volume"].to_numpy()
    cv = control.truth.bands["volume"].to_numpy()
    np.testing.assert_allclose(p.table["ratio"], tv / cv, rtol=0.15)
    assert np.corrcoef(p.table["ratio"], tv / cv)[0, 1] > 0.97
    assert p.table["registration_deg"].iloc[0] == pytest.approx(reg.angle_deg)


# ----------------------------------------------------------------------------- real pair
def test_real_b1ar_pair_membranes_replaced(shared_blots):
    rt = quantify_blot(read_image(shared_blots / "b1ar_target_16bit.tif"))
    rc = quantify_blot(read_image(shared_blots / "b1ar_gapdh_16bit.tif"))
    p = pair_blots(rt, rc)
    counts = p.lanes.groupby("strip").size().to_dict()
    assert counts == {1: 10, 2: 9}
    assert not p.warnings
    # the strips were re-placed independently: opposite horizontal moves
    assert p.registrations[1].dx > 10 and p.registrations[2].dx < -10
    pitch = p.lanes.groupby("strip")["target_x"].apply(lambda x: np.median(np.diff(x)))
    for s, g in p.lanes.groupby("strip"):
        assert (g["offset_px"].abs() < 0.35 * pitch[s]).all()
    strip2 = p.table[p.table["strip"] == 2]
    assert len(strip2) == 9 and set(strip2["control_strip"]) == {2}
    assert (p.table["ratio"] > 0).all()


def test_real_b2ar_jun20_pair_shifted_membranes(shared_blots):
    # target and GAPDH exposures of the same two strips, placed ~80-100 px apart
    # between the exposures: registered per strip, lanes paired by position
    rt = quantify_blot(read_image(shared_blots / "b2ar_jun20_target_16bit.tif"))
    rc = quantify_blot(read_image(shared_blots / "b2ar_jun20_gapdh_16bit.tif"))
    p = pair_blots(rt, rc)
    assert p.lanes.groupby("strip").size().to_dict() == {1: 9, 2: 9}
    assert not p.warnings
    assert p.registrations[1].dx > 60 and p.registrations[2].dx > 60
    raw = (p.lanes["control_x"] - p.lanes["target_x"]).abs()
    assert (raw > 60).all()                       # unregistered, every lane would be off by one+
    pitch = p.lanes.groupby("strip")["target_x"].apply(lambda x: np.median(np.diff(x)))
    for s, g in p.lanes.groupby("strip"):
        assert (g["offset_px"].abs() < 0.25 * pitch[s]).all()
        assert (g["control_strip"] == s).all()
    assert set(p.table["control_strip"]) == {1, 2}
    assert (p.table["strip"] == p.table["control_strip"]).all()


def test_real_pairs_found_differently_are_errors_naming_both(shared_blots):
    # one image finds two strips, the other one: which control strip belongs to which
    # target strip is not known, so this is an error naming both images and counts
    rt = quantify_blot(read_image(shared_blots / "b1ar_target_16bit.tif"))
    rc = quantify_blot(read_image(shared_blots / "atub_chemi_saturated_rgb.tif"))
    with pytest.raises(ParameterError, match=r"'b1ar_target_16bit.tif' has 2 strip\(s\) "
                                             r"\(10 \+ 9 lanes\).*'atub_chemi_saturated_rgb.tif'"
                                             r" has 1 \(4 lanes\)"):
        pair_blots(rt, rc)
    # the same strips, different lane counts: an error naming both images, per strip
    rc = quantify_blot(read_image(shared_blots / "b1ar_gapdh_16bit.tif"), lanes=(9, 8))
    with pytest.raises(ParameterError, match=r"strip 1: target image 'b1ar_target_16bit.tif' "
                                             r"has 10 lanes, control image "
                                             r"'b1ar_gapdh_16bit.tif' has 9; strip 2: .* has 9 "
                                             r"lanes, .* has 8"):
        pair_blots(rt, rc)
