"""Lanes per strip, lane counts that cannot fit, dot blots, row naming, row slope."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.blot.lanes import detect_lanes
from blotquant.errors import AnalysisError, ParameterError
from blotquant.synthetic import make_blot
from blotquant.synthetic.blot import make_dot_blot


def _strip_img():
    """Two membranes on a dark surround: 6 lanes on top, 5 below (different pitch)."""
    img = np.full((400, 600), 200.0, np.float32)          # off-membrane
    img[20:180, 40:560] = 1000.0                          # membrane 1
    img[220:380, 40:560] = 1000.0                         # membrane 2
    for x in np.linspace(90, 510, 6):
        img[90:104, int(x) - 25:int(x) + 25] += 3000.0
    for x in np.linspace(100, 500, 5):
        img[290:304, int(x) - 30:int(x) + 30] += 2000.0
    rng = np.random.default_rng(0)
    return img + rng.normal(0, 10, img.shape).astype(np.float32)


def test_each_strip_gets_its_own_count():
    det = detect_lanes(_strip_img(), return_details=True)
    counts = [sum(ln.strip == s for ln in det.lanes) for s in (1, 2)]
    assert counts == [6, 5]
    # the strip boundary lies between the two membranes' rows
    assert 104 <= det.strips[0][1] <= 290


def test_lanes_one_count_per_strip():
    lanes = detect_lanes(_strip_img(), (6, 5))
    assert [sum(ln.strip == s for ln in lanes) for s in (1, 2)] == [6, 5]


def test_lane_count_per_strip_must_match_strips():
    with pytest.raises(ParameterError,
                       match=r"lanes gave 3 counts .* 2 strips were found one above another"):
        detect_lanes(_strip_img(), (6, 5, 4))


def test_lane_count_that_cannot_fit_is_an_error():
    b = make_blot(1, shape=(300, 400), n_lanes=4)
    with pytest.raises(AnalysisError, match=r"12 lanes do not fit in strip 1: .* room for about 4"):
        quantify_blot(b.to_image(), lanes=12)
    r = quantify_blot(b.to_image(), lanes=4)
    assert len(r.lanes) == 4 and r.lanes["x"].between(0, 399).all()


@pytest.mark.parametrize("seed", range(4))
def test_dot_blot_is_one_strip_of_7_lanes_and_4_rows(seed):
    img, truth = make_dot_blot(seed, jpeg_quality=70)
    r = quantify_blot(img)
    assert r.lanes["strip"].nunique() == 1
    assert len(r.lanes) == 7 and len(r.rows) == 4
    x = np.sort(r.lanes["x"].to_numpy())
    tx = truth.groupby("lane")["x"].mean().to_numpy()
    assert np.all(np.abs(x - tx) < 0.25 * np.median(np.diff(tx)))


def test_rows_given_must_match_rows_found():
    img = make_blot(1, shape=(300, 400), n_lanes=4).to_image()
    assert quantify_blot(img, rows=["ASNS", "ACTB"]).rows == ["ASNS", "ACTB"]
    with pytest.raises(ParameterError, match=r"2 band row\(s\) found \(strip 1: y~\d+ in 4/4 lanes, "
                                             r"y~\d+ in 4/4 lanes\); rows gave 1 name\(s\) \(ASNS\): "
                                             r"give 2 names"):
        quantify_blot(img, rows=["ASNS"])
    with pytest.raises(ParameterError, match="rows gave 3 name"):
        quantify_blot(img, rows=["A", "B", "C"])


def test_row_slope_and_tilt_recorded_separately():
    # sloping rows, vertical lanes: the slope is a row property, not a lane tilt
    b = make_blot(3, shape=(500, 800), n_lanes=8, row_slope_px=30.0, tilt_deg=0.0)
    r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    assert abs(r.params["tilt_deg"]) < 0.5
    expect = np.degrees(np.arctan(30.0 / (b.truth.lanes["x"].max() - b.truth.lanes["x"].min())))
    assert r.params["row_slope_deg"] == pytest.approx(expect, abs=1.0)


def test_membrane_filling_the_image_has_no_seam():
    # a one-membrane synthetic blot (no off-membrane border) is one strip
    for seed in range(3):
        r = quantify_blot(make_blot(seed, shape=(400, 600), n_lanes=6).to_image())
        assert r.lanes["strip"].nunique() == 1


def test_strip_without_bands_is_not_reported():
    # two membranes; the lower one only carries a scribble (no band row)
    img = _strip_img()
    img[220:380, 40:560] = 1000.0 + np.random.default_rng(1).normal(0, 10, (160, 520))
    img[300:306, 100:108] += 3000.0            # a speck, no row
    r = quantify_blot(img)
    assert sorted(set(r.lanes["strip"])) == [1] and len(r.lanes) == 6
    assert set(r.bands["strip"]) == {1}


def _touching_row(n=9, pitch=60.0, x0=150.0, shape=(300, 900), seed=0, spots=True):
    """One row of ``n`` touching bands (shallow dips between them) with dark spots
    inside the bands; returns the image and the true lane centres."""
    rng = np.random.default_rng(seed)
    H, W = shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    centres = x0 + pitch * np.arange(n) + rng.uniform(-2, 2, n)
    img = np.full(shape, 500.0, np.float32)
    for i, c in enumerate(centres):
        amp = 3000.0 * rng.uniform(0.8, 1.2)
        # flat-topped band slightly narrower than the pitch: neighbours overlap
        band = 1.0 / (1.0 + np.exp((np.abs(xx - c) - 0.45 * pitch) / 3.0))
        img += amp * band * np.exp(-0.5 * ((yy - 150.0) / 7.0) ** 2)
    if spots:
        for _ in range(2 * n):  # dark spots inside the bands (dust, bubbles)
            sx, sy = rng.uniform(centres[0] - 20, centres[-1] + 20), rng.uniform(146, 154)
            img -= 0.6 * img.max() * np.exp(-((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * 2.0 ** 2))
    img = np.maximum(img, 0.0) + rng.normal(0, 15, shape).astype(np.float32)
    return img, centres


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_touching_bands_with_dark_spots_give_every_lane(seed):
    # the bands of a row touch (shallow dips only) and dark spots break the bands:
    # the lanes come from the regular run of dips along the row
    img, centres = _touching_row(seed=seed)
    lanes = detect_lanes(img)
    x = np.sort([ln.x_at(150) for ln in lanes])
    assert len(x) == len(centres)
    assert np.max(np.abs(x - np.sort(centres))) < 0.25 * 60.0


@pytest.mark.parametrize("step", [0.0, 300.0])
def test_film_edges_are_no_lanes(step):
    # a row of 6 bands and, lower down, only the glow of the film's two vertical
    # edges (with or without a background step between them): the edges make no
    # strip and no lane
    rng = np.random.default_rng(3)
    img = np.full((500, 800), 300.0, np.float32)
    xs = np.linspace(200, 600, 6)
    for x in xs:
        img[150:166, int(x) - 25:int(x) + 25] += 4000.0
    img[300:480, 0:30] += 2500.0
    img[300:480, 770:800] += 2500.0
    img[300:480, 30:770] += step
    img += rng.normal(0, 10, img.shape).astype(np.float32)
    det = detect_lanes(img, return_details=True)
    assert len(det.strips) == 1
    x = np.sort([ln.x_at(158) for ln in det.lanes])
    assert len(x) == 6 and np.allclose(x, xs, atol=6)


def test_same_lanes_shifted_beyond_the_tilt_are_two_membranes():
    # two membranes with 7 lanes each, the lower one shifted by 0.6 pitch: lanes of
    # one membrane can move between rows only by the lane tilt (<= 5 deg here)
    rng = np.random.default_rng(4)
    img = np.full((500, 900), 300.0, np.float32)
    top = np.linspace(200, 680, 7)
    bottom = top + 0.6 * 80.0
    for x in top:
        img[120:136, int(x) - 30:int(x) + 30] += 4000.0
    for x in bottom:
        img[300:316, int(x) - 30:int(x) + 30] += 4000.0
    img += rng.normal(0, 10, img.shape).astype(np.float32)
    det = detect_lanes(img, return_details=True)
    assert len(det.strips) == 2
    for s, truth, y in ((1, top, 128), (2, bottom, 308)):
        x = np.sort([ln.x_at(y) for ln in det.lanes if ln.strip == s])
        assert np.allclose(x, truth, atol=6)


def test_far_ladder_dash_does_not_set_the_lane_spacing():
    from blotquant.blot.lanes import _inner_gaps
    gaps = np.r_[56.0, 30, 29, 30, 29, 31, 27, 30, 32, 122]  # dash 4 pitches beyond
    assert np.median(_inner_gaps(gaps)) == pytest.approx(30.0, abs=0.6)
    assert len(_inner_gaps(gaps)) == 9
    assert len(_inner_gaps(np.r_[30.0, 31, 29, 82])) == 4  # 2.7 pitches: kept


def _unequal_row(widths, x0=150.0, shape=(300, 900), spot=None, seed=0):
    """One row of touching bands of unequal widths (lanes of a squeezed gel); a
    band ``spot = (index, depth)`` gets a shallow dim spot at its middle.  Returns the
    image and the true lane centres."""
    rng = np.random.default_rng(seed)
    H, W = shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    edges = x0 + np.r_[0.0, np.cumsum(widths)]
    centres = 0.5 * (edges[:-1] + edges[1:])
    img = np.full(shape, 500.0, np.float32)
    row = np.exp(-0.5 * ((yy - 150.0) / 7.0) ** 2)
    for i, (c, w) in enumerate(zip(centres, widths)):
        band = 1.0 / (1.0 + np.exp((np.abs(xx - c) - (0.5 * w - 4.0)) / 2.0))
        if spot is not None and spot[0] == i:
            band = band * (1.0 - spot[1] * np.exp(-0.5 * ((xx - c) / 4.0) ** 2))
        img += 3000.0 * rng.uniform(0.9, 1.1) * band * row
    return img + rng.normal(0, 15, shape).astype(np.float32), centres


@pytest.mark.parametrize("seed", [0, 1])
def test_unequal_touching_lanes_cut_at_every_dip_and_only_there(seed):
    # b2ar_jul23 top strip: lane widths from 33 to 70 px; a wide band with a dim spot
    # (a 6 % dip) is one lane, and two narrow lanes split by a clear dip are two
    widths = [70.0, 37, 51, 57, 55, 35, 33, 42, 55]
    img, centres = _unequal_row(widths, spot=(0, 0.06), seed=seed)
    x = np.sort([ln.x_at(150) for ln in detect_lanes(img)])
    assert len(x) == len(widths)
    assert np.all(np.abs(x - centres) < 0.25 * np.asarray(widths))


def _two_membranes_sloping_seam(seam_deg=2.0, faint_row=False, seed=5):
    """Two touching membranes (9 lanes each, lined up) meeting along a seam that
    slopes by ``seam_deg``: the upper piece's cut edge glows over the left half and
    a dark gap shows over the right half (b1ar_oct8).  ``faint_row``: one membrane
    instead, with a faint thin row sloping between its two main rows and no seam."""
    rng = np.random.default_rng(seed)
    H, W = 700, 1000
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    img = np.full((H, W), 360.0, np.float32)                  # off-membrane
    img[40:600, 30:950] = 450.0                               # membrane level
    lanes = np.linspace(100, 820, 9)
    for yr in (230.0, 450.0):
        for x in lanes:
            img += 4000.0 * np.exp(-0.5 * ((yy - yr) / 6.0) ** 2) * (np.abs(xx - x) < 35)
    t = np.tan(np.radians(seam_deg))
    line = 360.0 - (xx - 490.0) * t                          # seam row per column
    on = (xx >= 30) & (xx < 950)
    if faint_row:
        img += 60.0 * np.exp(-0.5 * ((yy - line) / 3.0) ** 2) * on
    else:
        left = on & (xx < 490)
        img += 90.0 * np.exp(-0.5 * ((yy - line + 4) / 2.5) ** 2) * left     # glowing edge
        img -= 70.0 * np.exp(-0.5 * ((yy - line) / 2.5) ** 2) * (on & ~left)  # dark gap
    return img + rng.normal(0, 8, img.shape).astype(np.float32), lanes


def test_sloping_seam_splits_touching_membranes():
    # the seam is no level row: a level average blurs a thin line that slopes 2 deg
    img, lanes = _two_membranes_sloping_seam()
    det = detect_lanes(img, return_details=True)
    assert len(det.strips) == 2
    assert 330 <= det.strips[0][1] <= 390
    for s, y in ((1, 230), (2, 450)):
        x = np.sort([ln.x_at(y) for ln in det.lanes if ln.strip == s])
        assert len(x) == 9 and np.allclose(x, lanes, atol=6)


def test_faint_sloping_row_is_no_seam():
    # a bright thin line alone (a faint row between two main rows) is a band row
    img, _ = _two_membranes_sloping_seam(faint_row=True)
    assert len(detect_lanes(img, return_details=True).strips) == 1


def _grouped_row(label=True, seed=6):
    """Two replicate groups of 4 touching bands (pitch 45 px, the first two bands of
    group 1 weak) on one row of a film, and a printed label at the row's left end
    (thin strokes).  Returns the image (bands bright) and the true lane centres."""
    rng = np.random.default_rng(seed)
    H, W = 700, 950
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    centres = np.r_[230 + 45 * np.arange(4), 450 + 48 * np.arange(4)].astype(float)
    amps = [1500, 2500, 6000, 7000, 6500, 7000, 7000, 7000]
    img = np.full((H, W), 300.0, np.float32)
    row = np.exp(-0.5 * ((yy - 460.0) / 6.0) ** 2)
    for c, a in zip(centres, amps):
        img += a * row / (1.0 + np.exp((np.abs(xx - c) - 19.0) / 1.5))
    if label:
        for x in range(60, 170, 14):  # letters: 4 px strokes, 26 px tall
            img[447:473, x:x + 4] += 5000.0
            img[447:451, x:x + 10] += 5000.0
    return img + rng.normal(0, 10, img.shape).astype(np.float32), centres


def test_grouped_touching_lanes_beside_a_label():
    # weak and strong touching bands in two groups: the coarse column profile merges
    # neighbours (they touch), so the lanes come from the dips along the row, and
    # only where the text-free foreground shows the row (the label makes no lanes)
    img, centres = _grouped_row()
    x = np.sort([ln.x_at(460) for ln in detect_lanes(img)])
    assert len(x) == len(centres)
    assert np.max(np.abs(x - centres)) < 0.25 * 45


def _words_above_row(seed=7):
    """A film with one row of 8 bands (pitch 45 px) and, far above, two handwritten
    words of two letters each (thick marker strokes, 60 px tall): four blobs at
    irregular spacing, as 'MS4' and 'MS5' on gapdh_film_rep45."""
    rng = np.random.default_rng(seed)
    img = np.full((700, 900), 300.0, np.float32)
    xs = 250.0 + 45.0 * np.arange(8)
    for x in xs:
        img[450:464, int(x) - 19:int(x) + 20] += 4000.0
    for x0 in (230, 296, 540, 624):
        img[40:100, x0:x0 + 40] += 3000.0
        img[52:88, x0 + 10:x0 + 30] -= 3000.0
    return img + rng.normal(0, 10, img.shape).astype(np.float32), xs


def test_words_far_apart_make_no_strip():
    # the words' zone shows peaks, but no lane structure (two lanes ~300 px apart once
    # the letters of a word merge): handwriting is no membrane, and no strip
    img, xs = _words_above_row()
    det = detect_lanes(img, return_details=True)
    assert len(det.strips) == 1
    x = np.sort([ln.x_at(457) for ln in det.lanes])
    assert len(x) == 8 and np.allclose(x, xs, atol=6)
    r = quantify_blot(img)
    assert r.bands["y"].between(440, 475).all()


@pytest.mark.parametrize("mirror", [False, True])
def test_separate_bands_with_dim_centres_are_one_lane_each(mirror):
    # b3ar_oct1 mirrored: separate bands (deep gaps between them) whose centres are
    # dimmer than their sides; the valleys inside the bands are no lane boundaries
    rng = np.random.default_rng(8)
    H, W = 500, 1000
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    xs = 140.0 + 85.0 * np.arange(9)
    img = np.full((H, W), 400.0, np.float32)
    for x in xs:
        band = 1.0 / (1.0 + np.exp((np.abs(xx - x) - 30.0) / 2.0))
        dim = 1.0 - 0.3 * np.exp(-0.5 * ((xx - x) / 6.0) ** 2)
        img += 3000.0 * band * dim * np.exp(-0.5 * ((yy - 170.0) / 8.0) ** 2)
    img += rng.normal(0, 10, img.shape).astype(np.float32)
    if mirror:
        img, xs = img[:, ::-1].copy(), np.sort(W - 1 - xs)
    x = np.sort([ln.x_at(170) for ln in detect_lanes(img)])
    assert len(x) == 9 and np.allclose(x, xs, atol=6)


def _dim_membranes_dark_gap(seed=9):
    """b2ar_jul23: two membranes whose lanes line up, run off the top and right image
    edges (the border holds membrane), the lower one hardly brighter than the
    off-membrane area, apart by a gap darker than the image border."""
    rng = np.random.default_rng(seed)
    H, W = 736, 1092
    img = np.full((H, W), 335.0, np.float32)            # off-membrane (left)
    img[0:240, 300:] = 440.0                             # upper membrane
    img[240:420, 300:] = 315.0                           # dark gap between the pieces
    img[420:715, 300:] = 340.0                           # lower membrane, dim
    xs = 400.0 + 52.0 * np.arange(9)
    for yr in (75, 548):
        for x in xs:
            img[yr - 8:yr + 8, int(x) - 20:int(x) + 20] += 5000.0
    return img + rng.normal(0, 6, img.shape).astype(np.float32), xs


@pytest.mark.parametrize("flip", [False, True])
def test_gap_darker_than_the_border_is_a_seam(flip):
    img, xs = _dim_membranes_dark_gap()
    if flip:
        img = img[::-1].copy()
    det = detect_lanes(img, return_details=True)
    assert len(det.strips) == 2
    for s in (1, 2):
        x = np.sort([ln.x_at(np.mean(det.strips[s - 1])) for ln in det.lanes if ln.strip == s])
        assert len(x) == 9 and np.allclose(x, xs, atol=6)


def test_two_very_wide_lanes_are_two():
    # bands ~40 % of the image width: the 3-5 % dips inside a band are as deep as
    # real valleys between touching bands, but the column profile runs on across
    # them (a lane is as wide as its bands)
    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_blot

    for seed in range(4):
        assert len(quantify_blot(make_blot(seed, n_lanes=2).to_image()).lanes) == 2, seed


def test_few_lanes_are_counted():
    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_blot

    for seed in range(4):
        for n in (3, 4, 5):
            assert len(quantify_blot(make_blot(seed, n_lanes=n).to_image()).lanes) == n, (seed, n)
