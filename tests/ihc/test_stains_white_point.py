"""White point of fields without glass: pale tissue must not be taken for glass."""

import numpy as np

from blotquant.ihc.stains import estimate_white_point, white_point_info
from blotquant.synthetic import make_ihc

GLASS = (238.0, 241.0, 236.0)
CYTOPLASM = (198.0, 210.0, 200.0)


def _no_glass_field(hole_fraction, seed=0, shape=(400, 400)):
    """Pale textured cytoplasm everywhere, dark nuclei, glass only in small round gaps."""
    rng = np.random.default_rng(seed)
    img = np.empty(shape + (3,), np.float64)
    img[:] = CYTOPLASM
    img += rng.normal(0, 3.0, shape)[..., None]  # texture, the same in every channel
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for _ in range(120):  # hematoxylin nuclei
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 64] = (90, 100, 160)
    holes = np.zeros(shape, bool)
    cyto, glass = np.asarray(CYTOPLASM), np.asarray(GLASS)
    while holes.mean() < hole_fraction:  # gaps of 3-5 px radius, some partly covered
        cy, cx, r = rng.uniform(0, shape[0]), rng.uniform(0, shape[1]), rng.uniform(3, 5)
        hole = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        img[hole] = cyto + rng.choice([0.5, 0.7, 0.85, 1.0]) * (glass - cyto)
        holes |= hole
    img[holes] += rng.normal(0, 1.0, (int(holes.sum()), 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def test_pale_tissue_peak_is_not_glass():
    img = _no_glass_field(0.04)
    info = white_point_info(img)
    # the cytoplasm is the brightest dense peak, but 4 % of the field (the gaps, bare glass
    # in a quarter of them) is brighter: the white point comes from the brightest 0.5 %
    assert info["source"] == "brightest"
    assert "tissue" in info["reason"] and "brightest" in info["reason"]
    np.testing.assert_allclose(info["white_point"], GLASS, atol=3)
    np.testing.assert_allclose(estimate_white_point(img), GLASS, atol=3)
    # the old answer (the cytoplasm's colour) is far off
    assert np.abs(info["white_point"] - CYTOPLASM).max() > 25


def test_glass_peak_is_kept():
    # a slide field with glass: the glass peak is the brightest, nothing brighter
    s = make_ihc(seed=2, shape=(256, 256), white_point=(236, 232, 240), dust=20)
    info = white_point_info(s.image)
    assert info["source"] == "estimated" and info["reason"] == ""
    np.testing.assert_allclose(info["white_point"], (236, 232, 240), atol=1.0)


def test_few_bright_pixels_do_not_overrule_the_peak():
    # 0.3 % of brighter pixels (specks, a tiny gap) are below the 3 % limit: the peak stands
    img = _no_glass_field(0.003, seed=1)
    info = white_point_info(img)
    assert info["source"] == "estimated"
    np.testing.assert_allclose(info["white_point"], CYTOPLASM, atol=3)
    # ... unless the limit is lowered
    info = white_point_info(img, max_brighter_fraction=0.001)
    assert info["source"] == "brightest"


# --- fields without glass at several resolutions (issue 11, round 6) ------------------

import importlib.util
from pathlib import Path

import cv2
import pytest

from blotquant.ihc import score_ihc

TRUE_WP = np.array([226.0, 240.0, 232.0])


def _bench(name):
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _changed(img, name):
    if name.startswith("blur"):
        s = float(name[4:])
        return np.clip(np.rint(cv2.GaussianBlur(img.astype(np.float32), (0, 0), s)), 0,
                       255).astype(np.uint8)
    f = float(name[1:])
    return cv2.resize(img, None, fx=f, fy=f,
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def _pixel_scores(img):
    r = score_ihc(img, mode="pixel").summary.iloc[0]
    return float(r["pixel_h_score"]), float(r["pixel_pct_positive"])


@pytest.mark.parametrize("seed", [0, 1])
def test_glassless_synthetic_field_scores_hold_at_any_resolution(seed):
    # stroma and nuclei fill the field: the glass (I0) is never seen; the white point is
    # the palest tissue, below the true glass, and the pixel scores must not depend on
    # the sampling or the optics' blur
    s = make_ihc(seed=seed, shape=(768, 768), tissue_fraction=1.0, gland_density=0.0,
                 stroma_h=(0.03, 0.12), stroma_dab=0.35, white_point=TRUE_WP)
    assert 5 < s.truth.pct_positive < 60
    h0, p0 = _pixel_scores(s.image)
    for name in ("x0.5", "x0.25", "x1.5", "blur1", "blur2"):
        v = _changed(s.image, name)
        wp = white_point_info(v)["white_point"]
        assert np.all(wp <= TRUE_WP + 2), (name, wp)       # I0 bounds the palest tissue
        h, p = _pixel_scores(v)
        assert abs(h - h0) <= 10 and abs(p - p0) <= 3, (name, h - h0, p - p0)


@pytest.mark.parametrize("name", ["x0.5", "x0.25", "x1.5", "blur1", "blur2"])
def test_synthetic_glass_is_found_at_any_resolution(name):
    s = make_ihc(seed=0, shape=(768, 768), tissue_fraction=0.6, white_point=TRUE_WP)
    info = white_point_info(_changed(s.image, name))
    assert info["source"] == "estimated"
    np.testing.assert_allclose(info["white_point"], TRUE_WP, atol=1.5)


def test_broad_pale_flank_above_the_peak_is_tissue():
    # pale tissue at 205 with 12 % of the field in patches 2.5 % paler: only 1.0 % of the
    # pixels are 3 % brighter than the peak (the single test of earlier rounds said
    # "glass"), but 8.9 % are 2 % brighter, which glass' noise and unevenness never put
    # above its own peak on the real fields (at most 4.8 %; glassless fields at least 8.7 %)
    rng = np.random.default_rng(3)
    img = np.full((300, 300, 3), 205.0)
    yy, xx = np.mgrid[:300, :300]
    patches = np.zeros((300, 300), bool)
    while patches.mean() < 0.12:
        cy, cx = rng.uniform(0, 300, 2)
        patches |= (yy - cy) ** 2 + (xx - cx) ** 2 <= rng.uniform(6, 12) ** 2
    img[patches] *= 1.025
    img += rng.normal(0, 1.0, (300, 300))[..., None]
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    b = img.mean(axis=2)
    assert np.mean(b > 205 * 1.03) < 0.03 < np.mean(b > 205 * 1.02)
    info = white_point_info(img)
    assert info["source"] == "brightest" and "2 % brighter" in info["reason"]
    assert info["white_point"].mean() > 209
    # the earlier single test (3 % of the pixels 3 % brighter) kept the tissue peak
    old = white_point_info(img, brighter_margin=0.03, max_brighter_fraction=0.03)
    assert old["source"] == "estimated" and abs(old["white_point"].mean() - 205) < 1.5


def test_vignetted_glass_costs_little_whatever_the_source():
    # glass 4 % darker at the corners than at the centre (an uncorrected camera field):
    # whether the peak or the brightest pixels are taken, the pixel scores stay within
    # the invariance tolerances of the flat field
    s = make_ihc(seed=2, shape=(512, 512), tissue_fraction=0.6, white_point=TRUE_WP)
    yy, xx = np.mgrid[:512, :512] / 511.0 - 0.5
    fall = 1 - 0.08 * (yy ** 2 + xx ** 2)
    v = np.clip(np.rint(s.image * fall[..., None]), 0, 255).astype(np.uint8)
    wp = white_point_info(v)["white_point"]
    assert np.all(np.abs(wp - TRUE_WP) <= 0.05 * TRUE_WP)
    h0, p0 = _pixel_scores(s.image)
    h, p = _pixel_scores(v)
    assert abs(h - h0) <= 10 and abs(p - p0) <= 3


@pytest.fixture(scope="module")
def lung1():
    f = _bench("bench_ihc_invariance").DEFAULT_DATA / "deepliif" / "train_Lung1_ihc.png"
    if not f.is_file():
        pytest.skip("../shared/data/ihc is not present")
    return np.ascontiguousarray(cv2.imread(str(f), cv2.IMREAD_COLOR)[..., ::-1])


@pytest.mark.parametrize("kind", ["scanB", "scanB-raw"])
def test_second_scanner_of_a_glassless_tile_keeps_its_white_point(lung1, kind):
    # Lung1 has no glass; its second scan (half the sampling, another colour response,
    # with and without JPEG) took its pale stroma (194/207/206) for glass without JPEG:
    # the white point must be the original's (the brightest pixels) seen through the
    # second scanner's colour response
    b = _bench("bench_ihc_invariance")
    scan = b.scanner_variants(lung1)[kind]
    orig = white_point_info(lung1)
    assert orig["source"] == "brightest"
    info = white_point_info(scan)
    assert info["source"] == "brightest"
    mix = _bench("bench_scanner").MIX
    od = -np.log10(orig["white_point"] / 255.0)
    expected = np.array([236.0, 238.0, 246.0]) * 10.0 ** (-(0.9 * mix @ od))
    np.testing.assert_allclose(info["white_point"], expected, atol=4)


def test_unpaired_tail_test_arguments_are_refused():
    from blotquant.errors import ParameterError
    img = _no_glass_field(0.04)
    with pytest.raises(ParameterError, match="pair up"):
        white_point_info(img, brighter_margin=(0.01, 0.02, 0.03), max_brighter_fraction=(0.1, 0.05))


def test_channel_mean_equals_numpy_mean_of_float32():
    from blotquant.ihc.stains import _channel_mean

    rng = np.random.default_rng(4)
    for _ in range(50):
        n = int(rng.integers(1, 4000))
        for px in (rng.integers(0, 256, (n, 3)).astype(np.uint8),
                   (rng.random((n, 3)) * 255).astype(np.float32), rng.random((n, 3)) * 255):
            got = _channel_mean(px)
            assert got.dtype == np.float32
            assert np.array_equal(got, px.astype(np.float32).mean(axis=1))
