"""The pixel kernel (blotquant.ihc.pixels.PixelKernel): exactly score_ihc's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.classify import classify_pixels
from blotquant.ihc.deconvolution import stain_maps
from blotquant.ihc.pixels import PURE_PYTHON_ENV, PixelKernel, compiled_kernel, score_pixels_rgb
from blotquant.ihc.slide import fine_tissue

WP = (241, 236, 244)
T = (0.15, 0.3, 0.7)


@pytest.fixture(autouse=True, params=["c", "numpy"])
def implementation(request, monkeypatch):
    """Every test on both paths of PixelKernel (the compiled loop, the NumPy one)."""
    monkeypatch.setenv(PURE_PYTHON_ENV, "1" if request.param == "numpy" else "0")
    if request.param == "c" and compiled_kernel() is None:
        pytest.skip("the C pixel kernel is not built")
    assert PixelKernel(T).implementation == request.param
    return request.param


@pytest.fixture(scope="module")
def all_colours():
    """Every 24-bit colour once (4096 x 4096 x 3)."""
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([v & 255, (v >> 8) & 255, v >> 16], axis=-1).astype(np.uint8)
    return rgb.reshape(4096, 4096, 3)


def test_classes_dab_and_tissue_equal_score_ihc_arithmetic_on_every_colour(all_colours):
    a = all_colours
    _, dab_ref = stain_maps(a, "default", WP)
    tissue = fine_tissue(a, WP, 0.1)
    k = PixelKernel(T, white_point=WP, tissue_threshold=0.1)
    dab = np.empty(a.shape[:2], np.float32)
    out = k.run(a, dab_out=dab)
    np.testing.assert_array_equal(dab, dab_ref)               # bit for bit
    ref = classify_pixels(dab_ref, T, mask=tissue)
    np.testing.assert_array_equal(out.classes, ref)
    np.testing.assert_array_equal(out.counts["image"], np.bincount(ref.ravel(), minlength=5))
    s_ref = float(dab_ref[tissue].astype(np.float64).sum())
    assert out.dab_sum["image"] == pytest.approx(s_ref, rel=1e-7)
    # every class occurs, so the test can see a wrong threshold
    assert (out.counts["image"] > 1000).all()


@pytest.mark.parametrize("block_px,shape", [(1, "random"), (777, "random"), (65536, "random"),
                                            (1 << 22, "random"), (777, "strips"),
                                            (65536, "strips")])
def test_regions_masks_and_block_size(block_px, shape):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 256, (301, 517, 3), np.uint8)
    mask = rng.random(a.shape[:2]) < 0.7
    mask[:40] = False                              # whole blocks of glass
    if shape == "strips":                          # blocks computed only where the mask is
        mask[:, :100] = False
        mask[150:, 300:] = False
        mask[100:120, 5] = True
    ra = np.zeros(a.shape[:2], bool)
    ra[50:200, 30:400] = True
    rb = rng.random(a.shape[:2]) < 0.5
    k = PixelKernel(T, white_point=WP, block_px=block_px)
    out = k.run(a, mask=mask, regions={"a": ra, "b": rb, "none": False, "all": None})
    _, dab = stain_maps(a, "default", WP)
    ref = classify_pixels(dab, T, mask=mask)
    np.testing.assert_array_equal(out.classes, ref)
    for name, m in (("a", ra), ("b", rb), ("all", np.ones_like(ra))):
        np.testing.assert_array_equal(out.counts[name], np.bincount(ref[m], minlength=5))
        sel = m & mask
        assert out.dab_sum[name] == pytest.approx(float(dab[sel].astype(np.float64).sum()),
                                                  rel=1e-6)
    assert out.counts["none"].tolist() == [0] * 5 and out.dab_sum["none"] == 0.0


def test_score_pixels_rgb_is_the_kernel_and_rejects_bad_input():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (64, 80, 3), np.uint8)
    dab, cls = score_pixels_rgb(a, T, white_point=WP)
    np.testing.assert_array_equal(dab, stain_maps(a, "default", WP)[1])
    np.testing.assert_array_equal(cls, classify_pixels(dab, T))
    with pytest.raises(ParameterError):
        PixelKernel(T).run(a.astype(np.float32))
    with pytest.raises(ParameterError):
        PixelKernel(T).run(a, mask=np.ones((3, 3), bool))
    with pytest.raises(ParameterError):
        PixelKernel((0.5, 0.2, 0.6))


@pytest.mark.parametrize("sparse_fraction,probe_every", [(0.0, 1), (0.03, 8), (1.0, 1)])
def test_tissue_routes_give_the_same_classes_counts_and_sums(all_colours, sparse_fraction,
                                                             probe_every):
    """The OD-sum test only where it can fail: every route (candidates gathered, the
    block's sum, no probing) gives fine_tissue's pixels on every colour, with a mask."""
    a = all_colours
    _, dab_ref = stain_maps(a, "default", WP)
    mask = np.zeros(a.shape[:2], bool)
    mask[:, 100:3000] = True
    mask[2000:2100] = False
    tissue = fine_tissue(a, WP, 0.1) & mask
    ref = classify_pixels(dab_ref, T, mask=tissue)
    k = PixelKernel(T, white_point=WP, tissue_threshold=0.1)
    k.sparse_fraction, k.probe_every = sparse_fraction, probe_every
    for m in (None, mask):
        out = k.run(a, mask=m)
        want = ref if m is not None else classify_pixels(dab_ref, T,
                                                         mask=fine_tissue(a, WP, 0.1))
        np.testing.assert_array_equal(out.classes, want)
        np.testing.assert_array_equal(out.counts["image"], np.bincount(want.ravel(),
                                                                       minlength=5))
        s_ref = float(dab_ref[want > 0].astype(np.float64).sum())
        assert out.dab_sum["image"] == pytest.approx(s_ref, rel=1e-7)


def test_tissue_threshold_no_pixel_can_fail_and_glass_blocks():
    """tissue_threshold 0: every pixel is tissue (no test); a block of pure glass
    (every pixel a candidate, none tissue) counts all pixels as code 0."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (97, 300, 3), np.uint8)
    a[:40] = 250                                    # glass brighter than the white point
    k0 = PixelKernel(T, white_point=WP, tissue_threshold=0.0)
    _, dab = stain_maps(a, "default", WP)
    np.testing.assert_array_equal(k0.run(a).classes, classify_pixels(dab, T))
    k = PixelKernel(T, white_point=WP, tissue_threshold=0.1, block_px=3000)
    out = k.run(a)
    tis = fine_tissue(a, WP, 0.1)
    assert not tis[:40].any()
    np.testing.assert_array_equal(out.classes, classify_pixels(dab, T, mask=tis))
    assert out.counts["image"][0] == int((~tis).sum())


def test_run_parts_equals_run_on_the_assembled_image():
    """Parts in any order, with skipped parts (pixels None) and per-part masks: the
    classes, counts and sums of run() on the whole image with the same mask."""
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, (300, 420, 3), np.uint8)
    mask = rng.random(a.shape[:2]) < 0.8
    mask[:100, :140] = False                               # a part with nothing to score
    mask[200:, 280:] = True                                # a part all scored
    reg = {"r": rng.random(a.shape[:2]) < 0.5, "all": None, "none": False}
    k = PixelKernel(T, white_point=WP, tissue_threshold=0.1, block_px=5000)
    ref = k.run(a, mask=mask, regions=reg)
    parts = []
    for y in (200, 0, 100):
        for x in (280, 0, 140):
            px = a[y:y + 100, x:x + 140]
            parts.append((y, x, 100, 140, None if not mask[y:y + 100, x:x + 140].any() else px))
    assert any(p[4] is None for p in parts)

    def pm(ya, yb, xa, xb):
        m = mask[ya:yb, xa:xb]
        return False if not m.any() else (None if m.all() else m)

    for m in (mask, pm):
        out = k.run_parts(parts, a.shape[:2], mask=m, regions=reg)
        np.testing.assert_array_equal(out.classes, ref.classes)
        for name in reg:
            np.testing.assert_array_equal(out.counts[name], ref.counts[name])
            assert out.dab_sum[name] == pytest.approx(ref.dab_sum[name], rel=1e-6)
    with pytest.raises(ParameterError, match="cover"):
        k.run_parts(parts[:-1], a.shape[:2], mask=mask)
    with pytest.raises(ParameterError, match="outside"):
        k.run_parts([(250, 0, 100, 140, a[:100, :140])], a.shape[:2])
