"""Synthetic western blots: determinism, exact truth, geometry, clipping, validation."""

from __future__ import annotations

import inspect
import json
import math
import time

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.provenance import params_hash
from blotquant.synthetic import BlotTruth, SyntheticBlot, make_blot, make_dilution_series
from blotquant.synthetic.blot import PRECISION_PLUS_KDA

SMALL = dict(shape=(240, 360), n_lanes=5)


def _limit(blot):
    t = blot.truth
    return t.saturation_level if t.polarity == "light-on-dark" else 0


# ------------------------------------------------------------------ determinism / params
def test_same_seed_same_blot_different_seed_different():
    a = make_blot(7, **SMALL, dust=5, tilt_deg=1.5, lane_gap_jitter=0.1)
    b = make_blot(7, **SMALL, dust=5, tilt_deg=1.5, lane_gap_jitter=0.1)
    c = make_blot(8, **SMALL, dust=5, tilt_deg=1.5, lane_gap_jitter=0.1)
    assert isinstance(a, SyntheticBlot) and isinstance(a.truth, BlotTruth)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.truth.bands.equals(b.truth.bands)
    assert a.truth.dust.equals(b.truth.dust)
    assert a.params == b.params
    assert not np.array_equal(a.image, c.image)
    assert not np.allclose(a.truth.bands["load"], c.truth.bands["load"])


def test_params_record_every_argument_and_reproduce_the_image():
    blot = make_blot(3, **SMALL, tilt_deg=-1.0, smile_px=4, dust=3, ladder=True,
                     empty_lanes=(3,), lane_gap_jitter=0.05, lane_smear=0.01)
    p = blot.params
    sig = inspect.signature(make_blot).parameters
    assert set(sig) <= set(p), set(sig) - set(p)
    json.dumps(p)  # plain JSON
    assert len(params_hash(p)) == 12
    kwargs = {k: p[k] for k in sig}
    again = make_blot(**kwargs)
    np.testing.assert_array_equal(again.image, blot.image)
    assert again.truth.bands.equals(blot.truth.bands)


def test_noise_does_not_change_background_or_loads():
    a = make_blot(5, **SMALL)
    b = make_blot(5, **SMALL, noise=False)
    np.testing.assert_array_equal(a.truth.background, b.truth.background)
    np.testing.assert_array_equal(a.truth.signal, b.truth.signal)
    assert not np.array_equal(a.image, b.image)


# ------------------------------------------------------------------ exact truth
@pytest.mark.parametrize("kw", [
    {},
    dict(tilt_deg=3.0, smile_px=8.0, row_slope_px=-12.0, lane_gap_jitter=0.15),
    dict(ladder=True, two_strips=True, dust=10, empty_lanes=(4,)),
])
def test_volume_is_exact_sum_of_noise_free_signal(kw):
    blot = make_blot(11, **kw)
    t = blot.truth
    lab = t.band_labels
    assert lab.dtype == np.int32
    for rec in t.bands.itertuples():
        region = lab == rec.label
        assert math.isclose(t.signal[region].sum(), rec.volume, rel_tol=1e-12)
        # bounding box is the box of the region
        rr, cc = np.nonzero(region)
        assert (rr.min(), rr.max(), cc.min(), cc.max()) == (rec.top, rec.bottom, rec.left,
                                                            rec.right)
        # intensity-weighted centroid (asymmetric band: above the peak)
        w = np.where(region, t.signal, 0.0).sum(axis=1)
        assert rec.y_centroid == pytest.approx((w * np.arange(w.size)).sum() / w.sum(),
                                               abs=1e-9)
        # analytic amount agrees with the pixel sum (sampling + truncated tails only)
        assert rec.volume == pytest.approx(rec.amount, rel=2e-3)
    # no signal outside the band regions; regions are labelled 1..n without gaps
    assert np.all(t.signal[lab == 0] == 0)
    n = len(t.bands) + len(t.ladder)
    assert set(np.unique(lab)) == set(range(n + 1))
    # dust never touches a band region
    assert np.all(t.artifacts[lab > 0] == 0)


@pytest.mark.parametrize("polarity", ["light-on-dark", "dark-on-light"])
@pytest.mark.parametrize("dtype", ["uint16", "uint8"])
def test_noise_free_image_is_background_plus_signal(polarity, dtype):
    blot = make_blot(2, **SMALL, polarity=polarity, dtype=dtype, noise=False)
    t = blot.truth
    assert blot.image.dtype == np.dtype(dtype)
    assert t.saturation_level == np.iinfo(dtype).max
    sign = 1 if polarity == "light-on-dark" else -1
    expected = t.background + sign * t.signal
    np.testing.assert_array_equal(blot.image, np.clip(np.rint(expected), 0,
                                                      t.saturation_level).astype(dtype))
    assert np.all(np.abs(blot.image - expected) <= 0.5)
    # volume = sum |image - background| over the band region (before rounding)
    for rec in t.bands.itertuples():
        region = t.band_labels == rec.label
        assert math.isclose(np.abs(expected - t.background)[region].sum(), rec.volume,
                            rel_tol=1e-9)
    # polarity: bands are brighter (light-on-dark) or darker than the local background
    band = t.band_labels > 0
    d = blot.image[band].astype(float) - t.background[band]
    assert (d.mean() > 0) == (polarity == "light-on-dark")


def test_noise_free_with_dust_matches_truth_noise_free():
    blot = make_blot(4, **SMALL, dust=12, noise=False)
    nf = blot.truth.noise_free()
    ok = (nf > 0) & (nf < blot.truth.saturation_level)
    assert np.all(np.abs(blot.image[ok] - nf[ok]) <= 0.5)
    d = blot.truth.dust
    assert len(d) == 12 and set(d["kind"]) <= {"bright", "dark"}
    for rec in d.itertuples():
        assert blot.truth.artifacts[rec.row, rec.col] == pytest.approx(rec.amplitude)
        assert blot.truth.band_labels[rec.row, rec.col] == 0


def test_dust_on_bands_is_recorded_and_does_not_change_volumes():
    clean = make_blot(4, **SMALL, dust=3)
    dusty = make_blot(4, **SMALL, dust=3, dust_on_bands=4)
    assert dusty.truth.bands.drop(columns=["clipped", "n_clipped"]).equals(
        clean.truth.bands.drop(columns=["clipped", "n_clipped"]))
    d = dusty.truth.dust
    assert (d["on_band"] == 0).sum() == 3 and (d["on_band"] > 0).sum() == 4
    for rec in d.itertuples():
        assert dusty.truth.band_labels[rec.row, rec.col] == rec.on_band
    assert np.any(dusty.truth.artifacts[dusty.truth.band_labels > 0] != 0)


def test_poisson_gaussian_noise_level():
    gain, read = 4.0, 30.0
    blot = make_blot(1, shape=(300, 400), n_lanes=4, noise={"gain": gain, "read_sigma": read},
                     background={"gradient": 0, "lowfreq": 0, "texture": 0, "level": 0.1})
    t = blot.truth
    off = t.band_labels == 0
    resid = blot.image[off].astype(float) - t.background[off]
    expected_sd = math.sqrt(gain * 0.1 * 65535 + read ** 2)
    assert resid.std() == pytest.approx(expected_sd, rel=0.05)
    assert abs(resid.mean()) < 2.0


@pytest.mark.parametrize("kw", [dict(), dict(polarity="dark-on-light"), dict(dtype="uint8")])
def test_noise_floor_allows_half_percent_ratio_accuracy(kw):
    """With the true background, noisy volumes give ratios far inside 0.5 % (median)."""
    errs = []
    for seed in range(3):
        blot = make_blot(seed, **kw)
        t = blot.truth
        vol = {}
        for rec in t.bands.itertuples():
            region = t.band_labels == rec.label
            vol[rec.lane, rec.row] = t.sign * (blot.image[region] - t.background[region]).sum()
        for rec in blot.ratio_truth().itertuples():
            errs.append(vol[rec.lane, "ASNS"] / vol[rec.lane, "ACTB"] / rec.ratio - 1)
    assert np.median(np.abs(errs)) < 0.003


# ------------------------------------------------------------------ clipping
@pytest.mark.parametrize("polarity", ["light-on-dark", "dark-on-light"])
@pytest.mark.parametrize("kw", [dict(dtype="uint16"), dict(dtype="uint8"),
                                dict(dtype="uint16", saturation_level=4095)])
def test_clipped_flag_matches_pixels_at_the_limit(polarity, kw):
    blot = make_blot(6, **SMALL, polarity=polarity, saturate=True, **kw)
    t = blot.truth
    img = blot.image
    assert img.max() <= t.saturation_level
    limit = _limit(blot)
    flags = []
    for rec in t.bands.itertuples():
        n_at = int(np.count_nonzero(img[t.band_labels == rec.label] == limit))
        assert rec.n_clipped == n_at
        assert rec.clipped == (n_at > 0)
        flags.append(rec.clipped)
    assert any(flags)  # saturate=True clips the strongest bands ...
    strongest = t.bands.loc[t.bands["peak"].idxmax()]
    assert strongest["clipped"]


def test_default_blot_is_not_clipped_and_strong_loads_clip():
    blot = make_blot(0)
    assert not blot.truth.bands["clipped"].any()
    loads = np.ones((8, 2))
    loads[2] = 5.0  # 5 x 0.45 x 65535 >> saturation
    strong = make_blot(0, loads=loads)
    clipped = strong.truth.bands.query("clipped")
    assert set(clipped["lane"]) == {3}
    assert strong.params["saturate"] is False


# ------------------------------------------------------------------ geometry
@pytest.mark.parametrize("kw", [
    dict(),
    dict(tilt_deg=3.0),
    dict(tilt_deg=-2.5, smile_px=12.0),
    dict(smile_px=-10.0, row_slope_px=25.0, lane_gap_jitter=0.2),
])
def test_signal_peak_along_lane_is_at_truth_y(kw):
    blot = make_blot(9, noise=False, **kw)
    t = blot.truth
    for rec in t.bands.itertuples():
        col = int(round(rec.x))
        r0, r1 = rec.top, rec.bottom + 1
        profile = t.signal[r0:r1, col]
        assert abs(r0 + int(np.argmax(profile)) - rec.y) <= 1.0, rec
    # lane x is where the centre line crosses the middle row
    mid = (blot.image.shape[0] - 1) / 2
    for rec in t.lanes.itertuples():
        g = np.asarray(rec.geometry)
        assert g.shape[1] == 2 and np.all(np.diff(g[:, 0]) > 0)
        assert np.interp(mid, g[:, 0], g[:, 1]) == pytest.approx(rec.x, abs=1e-6)
        # bands of a lane lie on its centre line
        for b in t.bands.query("lane == @rec.lane").itertuples():
            assert np.interp(b.y, g[:, 0], g[:, 1]) == pytest.approx(b.x, abs=1e-6)


def test_tilt_smile_and_slope_move_bands_as_documented():
    base = make_blot(1, noise=False, lane_gap_jitter=0.0)
    y0 = base.truth.bands.query("row == 'ASNS'")["y"].to_numpy()
    assert np.ptp(y0) < 1e-9  # straight rows without distortions

    W = 900
    cc = (W - 1) / 2
    sm = make_blot(1, noise=False, smile_px=10.0, row_slope_px=6.0)
    b = sm.truth.bands.query("row == 'ASNS'")
    s = (b["x"].to_numpy() - cc) / cc
    np.testing.assert_allclose(b["y"].to_numpy() - y0, 10.0 * (1 - s ** 2) + 6.0 * s / 2,
                               atol=1e-9)

    skew, h = base.params["band_skew"], base.truth.bands["height"].to_numpy()
    off = base.truth.bands["y_centroid"] - base.truth.bands["y"]
    np.testing.assert_allclose(off, -math.sqrt(2 / math.pi) * 2 * skew * h / 2.3548, rtol=0.03)

    tilt = 3.0
    tl = make_blot(1, noise=False, tilt_deg=tilt)
    b = tl.truth.bands.query("row == 'ASNS'")
    slope = np.polyfit(b["x"], b["y"], 1)[0]
    assert slope == pytest.approx(math.tan(math.radians(tilt)), rel=1e-6)
    g = np.asarray(tl.truth.lanes["geometry"].iloc[0])
    lean = (g[-1, 1] - g[0, 1]) / (g[-1, 0] - g[0, 0])
    assert lean == pytest.approx(-math.tan(math.radians(tilt)), rel=1e-6)
    assert tl.truth.tilt_deg == tilt


def test_lane_spacing_jitter_keeps_order_and_width():
    blot = make_blot(4, lane_gap_jitter=0.3)
    x = blot.truth.lanes["x"].to_numpy()
    assert np.all(np.diff(x) > blot.params["band_width"] * 1.5)
    assert np.ptp(np.diff(x)) > 1.0  # unequal spacing
    assert np.all(blot.truth.lanes["width"] == blot.params["lane_width"])


# ------------------------------------------------------------------ ladder, empty lanes, strips
def test_ladder_truth():
    blot = make_blot(0, ladder=True, noise=False)
    t = blot.truth
    assert bool(t.lanes["is_ladder"].iloc[0]) and not t.lanes["is_ladder"].iloc[1:].any()
    assert 1 not in set(t.bands["lane"])
    lad = t.ladder
    assert lad["kda"].tolist() == list(PRECISION_PLUS_KDA)
    assert np.all(np.diff(lad["y"]) > 0)  # big proteins on top
    # migration linear in log10 MW (no tilt/smile: exact)
    fit = np.polyfit(np.log10(lad["kda"]), lad["y"], 1, full=True)
    assert fit[1].size == 0 or fit[1][0] < 1e-12
    assert fit[0][0] < 0
    for rec in lad.itertuples():
        region = t.band_labels == rec.label
        assert math.isclose(t.signal[region].sum(), rec.volume, rel_tol=1e-12)
        col = int(round(rec.x))
        r = np.argmax(np.where(region[:, col], t.signal[:, col], -1))
        assert abs(r - rec.y) <= 1
    # the ASNS row sits between the 75 and 50 kDa markers, ACTB between 50 and 37
    y = dict(zip(t.bands["row"], t.bands["y"]))
    ky = dict(zip(lad["kda"], lad["y"]))
    assert ky[75] < y["ASNS"] < ky[50] < y["ACTB"] < ky[37]


def test_empty_lanes_have_no_signal():
    blot = make_blot(0, empty_lanes=(2, 5), noise=False)
    t = blot.truth
    assert t.lanes.query("is_empty")["lane"].tolist() == [2, 5]
    assert not {2, 5} & set(t.bands["lane"])
    assert len(t.bands) == 6 * 2
    for lane in (2, 5):
        x = int(round(t.lanes.loc[t.lanes.lane == lane, "x"].iloc[0]))
        assert np.all(t.signal[:, x - 20:x + 20] == 0)
    assert blot.params["loads"][1] == [0.0, 0.0]


def test_lane_smear_is_background_not_signal():
    plain = make_blot(0, **SMALL, noise=False, ladder=True, empty_lanes=(3,))
    hazy = make_blot(0, **SMALL, noise=False, ladder=True, empty_lanes=(3,), lane_smear=0.02)
    np.testing.assert_array_equal(plain.truth.signal, hazy.truth.signal)
    assert hazy.truth.bands["volume"].equals(plain.truth.bands["volume"])
    extra = hazy.truth.background - plain.truth.background
    lanes = hazy.truth.lanes.set_index("lane")["x"]
    row = 20
    assert extra[row, int(round(lanes[2]))] > 0.005 * 65535 * 0.5  # sample lane
    assert extra[row, int(round(lanes[1]))] == 0  # ladder lane
    assert extra[row, int(round(lanes[3]))] == 0  # empty lane


def test_two_strips_layout():
    blot = make_blot(0, two_strips=True, noise=False)
    t = blot.truth
    assert t.strips["rows"].tolist() == [["ASNS"], ["ACTB"]]
    s1, s2 = t.strips.iloc[0], t.strips.iloc[1]
    asns = t.bands.query("row == 'ASNS'")["y"]
    actb = t.bands.query("row == 'ACTB'")["y"]
    assert np.all(asns < s1["bottom"]) and np.all(actb > s2["top"])
    gap = slice(int(s1["bottom"]) + 3, int(s2["top"]) - 2)
    assert blot.image[gap].mean() < 0.6 * blot.image[: int(s1["bottom"]) - 5].mean()


# ------------------------------------------------------------------ dilution series, ratios
def test_dilution_series_loads_and_volumes():
    blot = make_dilution_series(0, n_lanes=6, fold=2.0, top_load=2.0, ladder=True)
    b = blot.truth.bands
    for row in ("ASNS", "ACTB"):
        sub = b[b["row"] == row]
        assert sub["lane"].tolist() == [2, 3, 4, 5, 6]
        np.testing.assert_allclose(sub["load"], 2.0 / 2.0 ** np.arange(5))
        v = sub["volume"].to_numpy()
        np.testing.assert_allclose(v / v[0], 1 / 2.0 ** np.arange(5), rtol=1e-3)
    assert blot.params["series"] == {"fold": 2.0, "top_load": 2.0}
    r = blot.ratio_truth()
    np.testing.assert_allclose(r["ratio"], r["ratio"].iloc[0], rtol=1e-3)
    with pytest.raises(ParameterError, match="fold"):
        make_dilution_series(fold=1.0)
    with pytest.raises(ParameterError, match="loads"):
        make_dilution_series(loads=np.ones((8, 2)))


def test_ratio_truth():
    loads = [[1.0, 1.0], [0.5, 1.0], [1.0, 0.5], [0.2, 0.8]]
    blot = make_blot(0, shape=(300, 400), n_lanes=4, loads=loads, row_scale=(0.3, 0.3))
    r = blot.ratio_truth("ASNS", "ACTB")
    assert r["lane"].tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(r["ratio"], [1.0, 0.5, 2.0, 0.25], rtol=2e-3)
    b = blot.truth.bands.set_index(["lane", "row"])["volume"]
    assert r["ratio"].iloc[3] == b[(4, "ASNS")] / b[(4, "ACTB")]
    with pytest.raises(ParameterError, match="GAPDH"):
        blot.ratio_truth("ASNS", "GAPDH")


def test_other_rows_and_explicit_positions():
    blot = make_blot(0, rows=("ASNS", "GAPDH"), noise=False)
    assert blot.params["row_mw"] == [64.0, 37.0]
    # close MWs (ACTB 42 / GAPDH 37 kDa) are pushed apart instead of overlapping
    blot = make_blot(0, rows=("ASNS", "TUBA", "ACTB", "GAPDH"), noise=False, ladder=True)
    y = blot.truth.bands.groupby("row", sort=False)["y"].first()
    assert list(y.index) == ["ASNS", "TUBA", "ACTB", "GAPDH"] and np.all(np.diff(y) > 0)
    assert len(blot.truth.bands) == 4 * 7
    blot = make_blot(0, rows=("X",), row_y=(200.0,), noise=False, shape=(400, 500),
                     n_lanes=3)
    assert np.allclose(blot.truth.bands["y"], 200.0)


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("kw, match", [
    (dict(loads=-np.ones((8, 2))), "loads must be >= 0"),
    (dict(loads=np.ones((3, 2))), "shape"),
    (dict(n_lanes=200), "too many"),
    (dict(n_lanes=0), "n_lanes"),
    (dict(polarity="inverted"), "polarity"),
    (dict(dtype="float32"), "dtype"),
    (dict(dtype="uint8", saturation_level=4095), "saturation_level"),
    (dict(tilt_deg=30), "tilt_deg"),
    (dict(band_height=40.0, row_y=(250.0, 320.0)), "overlaps"),
    (dict(band_height=200.0), "do not fit"),
    (dict(lane_width=110.0), "too wide"),
    (dict(ladder=True, empty_lanes=(1,)), "ladder"),
    (dict(empty_lanes=(9,)), "outside"),
    (dict(shape=(10, 900)), "shape"),
    (dict(rows=("ASNS", "ASNS")), "unique"),
    (dict(background={"levle": 0.1}), "unknown keys"),
    (dict(noise={"gain": 0}), "gain"),
    (dict(seed=-1), "seed"),
    (dict(dust=-3), "dust"),
    (dict(two_strips=True, rows=("ASNS",)), "two_strips"),
    (dict(row_y=(50.0, 60.0)), "overlaps"),
])
def test_parameter_validation(kw, match):
    with pytest.raises(ParameterError, match=match):
        make_blot(**kw)


def test_performance_default_blot_under_half_a_second():
    make_blot(0)
    best = min(_timed(lambda: make_blot(1, dust=10, tilt_deg=2, ladder=True))
               for _ in range(3))
    assert best < 0.5, best


def _timed(fn):
    # CPU time of this process: robust when other test workers share the cores
    t0 = time.process_time()
    fn()
    return time.process_time() - t0
