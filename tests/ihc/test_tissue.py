"""Tissue detection: glass vs tissue, off-white background, dust, faint staining."""

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.deconvolution import optical_density
from blotquant.ihc.stains import estimate_white_point
from blotquant.ihc.tissue import tissue_mask
from blotquant.synthetic import make_ihc


@pytest.mark.parametrize("kw", [
    {},
    {"white_point": (238, 232, 244), "dust": 80},
    {"stroma_h": (0.04, 0.08), "stroma_dab": 0.0},                  # faint stroma
    {"white_point": (240, 235, 245), "jpeg_quality": 85},
])
def test_tissue_mask_matches_truth(kw):
    s = make_ihc(seed=9, shape=(384, 384), **kw)
    wp = estimate_white_point(s.image)
    m = tissue_mask(s.image, white_point=wp)
    t = s.truth.tissue_mask
    assert (m != t).mean() < 0.01
    # dust specks on free glass are removed (specks touching tissue join it, and a speck
    # inside a lumen smaller than max_hole_px is filled with it)
    from scipy import ndimage as ndi
    free = s.truth.dust_mask & ~ndi.binary_dilation(t, iterations=3)
    assert (m & free).sum() <= 0.1 * free.sum()
    # gland lumens (large holes) stay glass
    lumen = ~t & ~s.truth.dust_mask
    assert (m & lumen).sum() < 0.02 * lumen.sum()


def test_off_white_glass_is_not_tissue_with_estimated_white_point():
    s = make_ihc(seed=2, shape=(256, 256), white_point=(228, 226, 236))
    wp = estimate_white_point(s.image)
    assert (tissue_mask(s.image, white_point=wp) != s.truth.tissue_mask).mean() < 0.01


def test_input_forms_agree_and_validation():
    s = make_ihc(seed=1, shape=(128, 128))
    od = optical_density(s.image)
    a = tissue_mask(s.image)
    np.testing.assert_array_equal(a, tissue_mask(od))
    np.testing.assert_array_equal(a, tissue_mask(od.sum(-1)))
    with pytest.raises(ParameterError):
        tissue_mask(np.zeros((5, 5, 4)))
    with pytest.raises(ParameterError):
        tissue_mask(s.image, threshold=0)
    with pytest.raises(ParameterError):
        tissue_mask(s.image, median=4)
