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
