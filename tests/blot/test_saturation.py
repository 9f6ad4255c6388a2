"""Saturation level (file / dtype / plateau / user), pixel-exact masks and per-band flags.

Synthetic blots from ``make_blot`` know which bands clip (``truth.bands.clipped``); the
real images in ../shared/data/blots (skipped when absent) have person-made truth in
``truth.json``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from blotquant.blot import Lane, quantify_blot
from blotquant.blot.quantify import prepare_signal
from blotquant.blot.saturation import find_plateau, saturation_level, saturation_mask
from blotquant.errors import ParameterError
from blotquant.image import Image
from blotquant.io import read_image
from blotquant.synthetic import make_blot

ROWS = ["ASNS", "ACTB"]


def _lanes(b):
    t = b.truth.lanes
    return [Lane(int(r.lane), r.geometry, r.width) for r in t.itertuples()]


def _flags_match(b, image=None, **kw):
    """quantify on the truth's lanes; return (result, truth clipped, flagged) per band."""
    res = quantify_blot(b.image if image is None else image, rows=ROWS,
                        lane_geometry=_lanes(b), **kw)
    truth = b.truth.bands.set_index(["lane", "row"])["clipped"]
    got = res.bands.set_index(["lane", "row"])["saturated"]
    common = truth.index.intersection(got.index).sort_values()
    assert len(common) >= 0.8 * len(truth)   # (band finding is tested elsewhere)
    return res, truth[common].to_numpy(bool), got[common].to_numpy(bool)


@pytest.mark.parametrize("polarity,dtype,kw,level", [
    ("light-on-dark", "uint16", {"saturation_level": 4000}, 4000.0),   # camera clips at 4000
    ("light-on-dark", "uint16", {"saturation_level": 30000}, 30000.0),
    ("dark-on-light", "uint8", {"black_level": 30}, 30.0),            # film black at grey 30
    ("dark-on-light", "uint16", {"black_level": 1500}, 1500.0),
])
def test_clip_below_dtype_range_is_found_and_flags_are_exact(polarity, dtype, kw, level):
    b = make_blot(3, shape=(300, 480), n_lanes=6, saturate=True, polarity=polarity,
                  dtype=dtype, **kw)
    res, truth, got = _flags_match(b)
    assert res.params["saturation_source"] == "plateau"
    assert res.params["saturation_level"] == level
    assert truth.sum() >= 2 and np.array_equal(got, truth)
    # the mask is pixel-exact against the level used
    img = b.image
    expect = img >= level if polarity == "light-on-dark" else img <= level
    np.testing.assert_array_equal(res.saturated_mask, expect)


@pytest.mark.parametrize("polarity,dtype", [("light-on-dark", "uint16"),
                                            ("dark-on-light", "uint8"),
                                            ("dark-on-light", "uint16")])
def test_clip_at_dtype_limit_keeps_dtype_source(polarity, dtype):
    b = make_blot(5, shape=(300, 480), n_lanes=6, saturate=True, polarity=polarity,
                  dtype=dtype)
    res, truth, got = _flags_match(b)
    assert res.params["saturation_source"] == "dtype"
    assert truth.sum() >= 2 and np.array_equal(got, truth)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("polarity,dtype", [("light-on-dark", "uint16"),
                                            ("dark-on-light", "uint8")])
def test_unsaturated_blots_have_no_plateau(seed, polarity, dtype):
    b = make_blot(seed, shape=(300, 480), n_lanes=6, polarity=polarity, dtype=dtype)
    assert not b.truth.bands["clipped"].any()
    assert find_plateau(b.image, polarity) is None
    res, _, got = _flags_match(b)
    assert res.params["saturation_source"] == "dtype" and not got.any()


def test_hot_pixels_are_not_a_plateau():
    b = make_blot(4, shape=(300, 480), n_lanes=6)
    img = b.image.copy()
    rng = np.random.default_rng(0)
    r, c = rng.integers(0, 300, 40), rng.integers(0, 480, 40)
    img[r, c] = rng.integers(9000, 26000, 40)   # isolated hot pixels, as in the camera images
    img[r[:3], c[:3]] = 65535
    assert find_plateau(img, "light-on-dark") is None
    lv = saturation_level(img, "light-on-dark")
    assert lv.source == "dtype" and lv.level == 65535
    assert saturation_mask(img, lv).sum() == len(set(zip(r[:3], c[:3])))


def test_noisy_film_floor():
    """Film: bands clip at a black level, then scanner noise is added on top."""
    b = make_blot(6, shape=(300, 480), n_lanes=6, saturate=True, polarity="dark-on-light",
                  dtype="uint8", black_level=30, noise=False)
    rng = np.random.default_rng(1)
    noisy = np.clip(b.image + np.abs(rng.normal(0, 3, b.image.shape)).round(), 0, 255)
    noisy = noisy.astype(np.uint8)
    found = find_plateau(noisy, "dark-on-light")
    assert found is not None and 30 <= found["level"] <= 36
    res, truth, got = _flags_match(b, image=noisy)
    assert res.params["saturation_source"] == "plateau"
    assert truth.sum() >= 3 and got[truth].all()       # every clipped band is flagged
    # and an unclipped band is flagged only when its darkest pixel really is at or
    # below the level (a band 5 grey above the film black cannot be told apart)
    lab = b.truth.band_labels
    lowest = {(r.lane, r.row): int(noisy[lab == r.label].min())
              for r in b.truth.bands.itertuples()}
    flagged = res.bands.set_index(["lane", "row"])["saturated"]
    for key, low in lowest.items():
        if key in flagged.index:
            assert flagged[key] == (low <= res.params["saturation_level"]), key


def test_file_and_user_levels():
    b = make_blot(3, shape=(300, 480), n_lanes=6, saturate=True, saturation_level=4000)
    res = quantify_blot(b.to_image(), rows=ROWS, lane_geometry=_lanes(b))  # metadata: 4000
    assert res.params["saturation_source"] == "file"
    assert res.params["saturation_level"] == 4000
    res = quantify_blot(b.image, rows=ROWS, lane_geometry=_lanes(b), clip_level=3500)
    assert res.params["saturation_source"] == "user"
    np.testing.assert_array_equal(res.saturated_mask, b.image >= 3500)
    # a level above every pixel: nothing is saturated, as the user said
    res = quantify_blot(b.image, rows=ROWS, lane_geometry=_lanes(b), clip_level=60000)
    assert not res.bands["saturated"].any()


def test_prepare_signal_and_errors():
    g = np.full((40, 40), 200, np.uint8)
    g[10:20, 5:35] = 40
    s, m, pol, lv, src = prepare_signal(g, polarity="dark-on-light")
    assert pol == "dark-on-light" and src == "plateau" and lv == 40
    assert s[0, 0] == 55 and m.sum() == 300        # inverted against white (255)
    img = Image.from_array(g.astype(np.float32))
    s, m, pol, lv, src = prepare_signal(img.data, img.metadata, polarity="dark-on-light",
                                        clip_level=45.0)
    assert src == "user" and m.sum() == 300
    with pytest.raises(ParameterError, match="polarity"):
        saturation_level(g, "dark")
    with pytest.raises(ParameterError, match="clip_level"):
        quantify_blot(np.tile(g, (3, 3)), clip_level="high")
    # a level no pixel of the dtype can reach would pass every clipped band
    with pytest.raises(ParameterError, match=r"clip_level 300 is above .* uint8 .* \(255\)"):
        saturation_level(g.astype(np.uint8), "light-on-dark", user=300)
    assert saturation_level(g.astype(np.uint8), "light-on-dark", user=255).level == 255
    assert saturation_level(g.astype(np.float32), "light-on-dark", user=300).level == 300


@pytest.mark.parametrize("field,value,message", [
    ("clip_level", -1, "clip_level: must be a pixel value >= 0"),
    ("clip_level", "-0.5", "clip_level: must be a pixel value >= 0"),
    ("max_tilt_deg", 90, r"max_tilt_deg: must be an angle in \(0, 45\]"),
    ("max_rotation_deg", 360, r"max_rotation_deg: must be an angle in \[0, 45\]"),
    ("max_rotation_deg", -1, r"max_rotation_deg: must be an angle"),
    ("target", "ASNS,ACTB", "target: must be one row name, got 2"),
    ("control", "A,B,C", "control: must be one row name, got 3"),
])
def test_nonsense_parameters_are_rejected_naming_the_field(field, value, message):
    from blotquant.blot.params import BlotParams
    with pytest.raises(ParameterError, match=message):
        BlotParams(**{field: value})
    with pytest.raises(ParameterError, match=field):
        quantify_blot(np.zeros((40, 40), np.uint8), **{field: value})
    with pytest.raises(ParameterError, match="clip_level"):
        saturation_level(np.zeros((4, 4), np.uint8), "dark-on-light", user=-3)
    # the edges of the ranges are accepted
    p = BlotParams(clip_level=0, max_tilt_deg=45, max_rotation_deg=0, target="ASNS")
    assert (p.clip_level, p.max_tilt_deg, p.max_rotation_deg, p.target) == (0.0, 45.0, 0.0, "ASNS")


# ----------------------------------------------------------------------------- real images
def _truth(shared_blots):
    return {d["file"]: d for d in json.loads((shared_blots / "truth.json").read_text())["images"]}


def test_real_16bit_camera_images_are_not_flagged(shared_blots):
    truth = _truth(shared_blots)
    files = [f for f, d in truth.items() if d["kind"] == "camera_16bit"]
    assert len(files) == 14
    for f in files:
        img = read_image(shared_blots / f)
        s, m, pol, lv, src = prepare_signal(img.data, img.metadata)
        assert (pol, src, lv, int(m.sum())) == ("light-on-dark", "dtype", 65535.0, 0), f


def test_real_saturated_images(shared_blots):
    res = quantify_blot(read_image(shared_blots / "atub_chemi_saturated_rgb.tif"))
    flagged = sorted(res.bands.loc[res.bands["saturated"], "lane"])
    assert flagged == [1, 3, 4]          # lane 2 bottoms out at 70: not clipped
    img = read_image(shared_blots / "flg_film_rep678_rgba.tif")
    s, m, pol, lv, src = prepare_signal(img.data, img.metadata)
    # film black ~20-40 (README), the floor differing from band to band: the level is the
    # innermost flat floor (some bands are flat at 43-44, with noise sigma ~4)
    assert pol == "dark-on-light" and src == "plateau" and 20 <= lv <= 50
    r = quantify_blot(img)
    assert r.bands["saturated"].mean() >= 0.5


def test_real_figure_clipped_at_grey_30_40(shared_blots):
    # a published figure: print and arrowheads at 0, the darkest bands flat-topped at
    # grey ~20-40 with noise; the level comes from the flat cores, not the dtype
    img = read_image(shared_blots / "pone0265461_fig6_rgb.tif")
    s, m, pol, lv, src = prepare_signal(img.data, img.metadata)
    assert pol == "dark-on-light" and src == "plateau" and 30 <= lv <= 50
    g = np.asarray(img.data)
    plateau = (slice(1124, 1133), slice(640, 690))   # inside a flat-topped actin band
    assert 25 <= np.median(g[plateau]) <= 45
    assert m[plateau].mean() >= 0.75   # flagged over most of its flat top (noise sigma ~4 above it)
    assert m.mean() < 0.02                           # not the membrane or the bands' flanks


def _figure(seed, clipped, noise):
    """A published-figure-like 8-bit blot: black print at 0 (frame line, arrowhead,
    letters) and 8 dark bands; clipped bands are flat at a floor that differs from
    band to band (grey 18-40), with noise.  Returns the image and per band
    (box, truly clipped)."""
    rng = np.random.default_rng(seed)
    H, W = 400, 700
    yy, xx = np.mgrid[:H, :W].astype(float)
    img = np.full((H, W), 228.0)
    amps = ([400, 300, 120, 80, 350, 260, 100, 250] if clipped
            else [195, 150, 120, 80, 190, 160, 100, 170])
    floors = rng.uniform(18, 40, 8)
    bands = []
    for k in range(8):
        x0, y0 = 60 + k * 75, 150 + (k % 2) * 8
        inl = np.abs(xx - x0) < 30
        v = 228 - amps[k] * np.exp(-0.5 * ((yy - y0) / 6.0) ** 2) * inl
        is_clipped = clipped and 228 - amps[k] < floors[k]
        if is_clipped:
            v = np.maximum(v, floors[k])
        img = np.where(inl & (np.abs(yy - y0) < 30), v, img)
        bands.append(((slice(y0 - 20, y0 + 20), slice(x0 - 30, x0 + 30)), is_clipped))
    img = img + rng.normal(0, noise, img.shape)
    img[20:24, 50:650] = 0
    img[300:330, 20:45] = 0
    img[350:352, 100:600] = 0
    for c in range(100, 600, 40):
        img[360:375, c:c + 3] = 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8), bands


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("noise", [2.0, 4.0, 6.0])
def test_figure_black_not_zero_floors_differ(seed, noise):
    g, bands = _figure(seed, True, noise)
    lv = saturation_level(g, "dark-on-light")
    assert lv.source == "plateau" and 18 <= lv.level <= 50
    m = saturation_mask(g, lv)
    assert [bool(m[box].any()) for box, _ in bands] == [c for _, c in bands]
    # unclipped bands (peaks at grey 33-148, rounded) beside the same print: no plateau
    g, bands = _figure(seed, False, noise)
    lv = saturation_level(g, "dark-on-light")
    assert (lv.source, lv.level) == ("dtype", 0.0)
    m = saturation_mask(g, lv)
    assert not any(m[box].any() for box, _ in bands)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_noise_in_native_dtype_is_the_float_number(dtype):
    """The fast path (differences and median in uint8/uint16) gives the float64 number."""
    from blotquant.blot.saturation import _noise

    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    for shape in ((40, 61), (7, 2), (33, 128)):
        g = rng.integers(0, top, shape, endpoint=True).astype(dtype)
        g[:, ::5] = top                     # large jumps: |a - b| near the dtype maximum
        assert _noise(g.astype(np.float64), g) == _noise(g.astype(np.float64))
    flat = np.full((5, 1), 7, dtype)        # no horizontal neighbours
    assert _noise(flat.astype(np.float64), flat) == 0.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_plateau_search_in_native_dtype_is_the_float_comparison(dtype, sign):
    """find_plateau compares 8/16-bit pixels in their dtype: the float64 answers exactly."""
    import math

    from blotquant.blot.saturation import _BandSide

    rng = np.random.default_rng(4)
    top = np.iinfo(dtype).max
    a = rng.integers(0, top, (30, 40), endpoint=True).astype(dtype)
    a[0, :3] = [0, top, 1]
    f = sign * a.astype(np.float64)          # band side up, as floats
    bs = _BandSide(a, a, sign)
    assert bs.top() == float(f.max())
    for t in [*rng.uniform(-2 * top, 2 * top, 200), -3.0, 0.0, 0.5, 3.0, 0.3 * 10,
              float(top), -float(top), top + 0.5, -top - 0.5, top + 1.0, -(top + 1.0)]:
        assert np.array_equal(bs.raw_equal(t), f == t)
        tail = bs.tail(t)
        assert np.array_equal(tail.idx, np.flatnonzero(f >= t))
        assert tail.m.tobytes() == f.ravel()[tail.idx].tobytes()
    for v in (0.0, 1.0, 7.0, -7.0, float(top), -float(top)):
        below = f[f < v]
        assert bs.raw_max_below(v) == (float(below.max()) if below.size else -math.inf)


def test_plateau_levels_on_clipped_integer_blots():
    """Clipped 8- and 16-bit blots of both polarities: the plateau is the clip level."""
    for seed, (dtype, pol, level) in enumerate([("uint16", "light-on-dark", 3000),
                                                ("uint8", "light-on-dark", 200),
                                                ("uint16", "dark-on-light", None),
                                                ("uint8", "dark-on-light", None)]):
        b = make_blot(seed, shape=(300, 400), n_lanes=6, saturate=True, polarity=pol,
                      dtype=dtype, saturation_level=level)
        found = find_plateau(b.image, pol)
        assert found is not None
        img = np.asarray(b.image)
        clip = img.max() if pol == "light-on-dark" else img.min()
        if level is not None:
            assert found["level"] == float(level) == float(clip)
        # every clipped band pixel is at or beyond the level found
        assert (saturation_mask(b.image, saturation_level(b.image, pol)).sum()
                >= 0.5 * (img == clip).sum())
