"""Known answers for OD, stain matrices, deconvolution, white point and stain estimation."""

import numpy as np
import pytest
from skimage.color import rgb2hed

from blotquant.errors import ParameterError, StainEstimationError
from blotquant.ihc.deconvolution import (QUPATH_HDAB, RUIFROK_HDAB, as_stain_matrix, deconvolve,
                                         od_lut, optical_density, reconstruct_rgb, stain_maps,
                                         stain_matrix, vector_angle_deg)
from blotquant.ihc.stains import estimate_stains, estimate_white_point, white_point_info
from blotquant.synthetic import make_ihc, perturb_stains


def test_ruifrok_constants():
    h = np.array([0.650, 0.704, 0.286])
    d = np.array([0.268, 0.570, 0.776])
    np.testing.assert_allclose(RUIFROK_HDAB[0], h / np.linalg.norm(h), atol=1e-12)
    np.testing.assert_allclose(RUIFROK_HDAB[1], d / np.linalg.norm(d), atol=1e-12)
    r = np.cross(h, d)
    np.testing.assert_allclose(np.abs(RUIFROK_HDAB[2]), np.abs(r / np.linalg.norm(r)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(RUIFROK_HDAB, axis=1), 1.0)
    assert RUIFROK_HDAB[2] @ RUIFROK_HDAB[0] == pytest.approx(0, abs=1e-12)
    # QuPath's built-in vectors are within half a degree of Ruifrok's
    assert vector_angle_deg(QUPATH_HDAB[0], RUIFROK_HDAB[0]) < 0.5
    assert vector_angle_deg(QUPATH_HDAB[1], RUIFROK_HDAB[1]) < 0.5


def test_od_known_values():
    od = optical_density(np.array([[255, 25, 0], [1, 128, 254]], np.uint8))
    expected = [[0, np.log10(255 / 25), np.log10(255)], [np.log10(255), np.log10(255 / 128),
                                                         np.log10(255 / 254)]]
    np.testing.assert_allclose(od, expected, rtol=1e-6)
    # brighter than the white point clips to 0; per-channel white point
    od = optical_density(np.array([250, 250, 250], np.uint8), (240, 250, 255))
    np.testing.assert_allclose(od, [0, 0, np.log10(255 / 250)], rtol=1e-6)
    # float path equals LUT path
    rgb = np.random.default_rng(0).integers(0, 256, (20, 20, 3)).astype(np.uint8)
    np.testing.assert_allclose(optical_density(rgb, 240), optical_density(rgb.astype(float), 240),
                               rtol=1e-5, atol=1e-6)
    assert od_lut().dtype == np.float32


def test_deconvolution_round_trip():
    rng = np.random.default_rng(1)
    amounts = rng.uniform(0, 1.0, (50, 50, 2))
    for stains in ("default", perturb_stains(degrees=8, seed=2)):
        rgb = reconstruct_rgb(amounts, stains, white_point=(240, 235, 245))
        c = deconvolve(rgb.astype(np.float32), stains, white_point=(240, 235, 245))
        np.testing.assert_allclose(c[..., :2], amounts, atol=2e-4)
        np.testing.assert_allclose(c[..., 2], 0, atol=2e-4)
        h, d = stain_maps(rgb.astype(np.float32), stains, white_point=(240, 235, 245))
        np.testing.assert_allclose(d, amounts[..., 1], atol=2e-4)


def test_units_relative_to_skimage_rgb2hed():
    """On pure H + DAB pixels, 6 x rgb2hed DAB == our DAB OD (I0 = 255)."""
    rng = np.random.default_rng(3)
    amounts = rng.uniform(0.05, 0.8, (30, 30, 2))
    rgb = reconstruct_rgb(amounts, stain_matrix((0.65, 0.70, 0.29), (0.27, 0.57, 0.78)))
    ours = deconvolve(rgb.astype(np.float32) / 255.0 * 255.0,
                      stain_matrix((0.65, 0.70, 0.29), (0.27, 0.57, 0.78)))[..., 1]
    sk = rgb2hed(rgb / 255.0)[..., 2]
    np.testing.assert_allclose(6 * sk, ours, rtol=2e-3, atol=2e-3)


def test_stain_matrix_validation():
    with pytest.raises(ParameterError, match="parallel"):
        stain_matrix((1, 0, 0), (2, 0, 0))
    with pytest.raises(ParameterError, match="shape"):
        as_stain_matrix(np.ones((4, 3)))
    with pytest.raises(ParameterError, match="unknown stains"):
        as_stain_matrix("eosin")
    m = as_stain_matrix({"Hematoxylin": [0.65, 0.7, 0.29], "DAB": [0.27, 0.57, 0.78]})
    assert m.shape == (3, 3)
    with pytest.raises(ParameterError, match="RGB"):
        optical_density(np.zeros((5, 5)))


@pytest.mark.parametrize("wp", [(255, 255, 255), (240, 235, 245), (225, 230, 228)])
def test_white_point_estimation(wp):
    s = make_ihc(seed=5, shape=(256, 256), white_point=wp, dust=20)
    est = estimate_white_point(s.image)
    np.testing.assert_allclose(est, wp, atol=1.0)


def test_white_point_fallback_and_error():
    img = np.full((64, 64, 3), (120, 70, 40), np.uint8)
    info = white_point_info(img)
    assert info["source"] == "fallback" and "glass" in info["reason"]
    np.testing.assert_array_equal(estimate_white_point(img), 255)
    with pytest.raises(StainEstimationError, match="white point"):
        estimate_white_point(img, fallback=None)


@pytest.mark.parametrize("seed,degrees", [(0, 0.0), (1, 6.0), (2, 10.0)])
def test_stain_estimation_within_3_degrees(seed, degrees):
    true = perturb_stains(degrees=degrees, seed=seed) if degrees else RUIFROK_HDAB
    s = make_ihc(seed=seed, shape=(384, 384), stains=true, white_point=(242, 238, 246))
    wp = estimate_white_point(s.image)
    est = estimate_stains(s.image, white_point=wp, return_info=True)
    assert vector_angle_deg(est.matrix[0], true[0]) < 3
    assert vector_angle_deg(est.matrix[1], true[1]) < 3
    assert est.n_pixels > 500


def test_stain_estimation_macenko():
    s = make_ihc(seed=4, shape=(256, 256))
    m = estimate_stains(s.image, method="macenko")
    assert vector_angle_deg(m[1], RUIFROK_HDAB[1]) < 4
    with pytest.raises(ParameterError):
        estimate_stains(s.image, method="pca")


def test_stain_estimation_too_few_pixels():
    img = np.full((64, 64, 3), 250, np.uint8)
    img[:3, :3] = (120, 80, 150)
    with pytest.raises(StainEstimationError, match="too few stained pixels"):
        estimate_stains(img)
    one = np.full((64, 64, 3), (110, 90, 170), np.uint8)  # only hematoxylin
    one = (one.astype(int) + np.random.default_rng(0).integers(-1, 2, one.shape)).astype(np.uint8)
    with pytest.raises(StainEstimationError):
        estimate_stains(one)
