"""The colour-table scorer (benchmarks/_colour_table.py, measured against the kernel in
``benchmarks/wsi.py --scorers``): score_ihc's classes by lookup.

Classes and counts must equal ``classify_pixels(stain_maps(...), mask=fine_tissue(...))``
exactly; the DAB sum (per-channel histograms x tables, in float64) must equal the
float64 sum of the float32 DAB map to within float32 rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from blotquant.errors import ParameterError
import _colour_table as P  # benchmarks/ (on sys.path via tests/conftest.py)
from blotquant.ihc.classify import classify_pixels
from blotquant.ihc.deconvolution import stain_maps
from blotquant.ihc.pixels import PixelKernel
from _colour_table import ColourTable
from blotquant.ihc.slide import fine_tissue

WP = (241, 236, 244)
T = (0.15, 0.3, 0.7)


def _reference(rgb, thresholds, wp, tt, stains="default", mask=None):
    _, dab = stain_maps(rgb, stains, wp)
    scored = np.ones(rgb.shape[:2], bool) if tt is None else fine_tissue(rgb, wp, tt)
    if mask is not None:
        scored &= mask
    cls = classify_pixels(dab, thresholds, mask=scored)
    return cls, dab, scored


@pytest.mark.parametrize("tt,stains,wp,thr", [
    (0.1, "default", WP, T),
    (None, "default", 255, (0.2, 0.4, 0.6)),
    (0.25, [[0.65, 0.70, 0.29], [0.27, 0.57, 0.78], [0.71, 0.42, 0.56]], (230, 228, 235),
     (0.35,)),
])
def test_table_is_the_reference_class_of_every_colour(tt, stains, wp, thr):
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([v & 255, (v >> 8) & 255, v >> 16], axis=-1).astype(np.uint8)
    rgb = rgb.reshape(4096, 4096, 3)
    ref, _, _ = _reference(rgb, thr, wp, tt, stains)
    table = ColourTable(thr, stains=stains, white_point=wp, tissue_threshold=tt)
    np.testing.assert_array_equal(table.codes.reshape(4096, 4096), ref)
    # every code the thresholds allow occurs, so a wrong threshold would show
    n_codes = len(np.unique(ref))
    assert n_codes == len(thr) + 1 + (tt is not None)


@pytest.mark.parametrize("block_px", [1, 777, 65536, 1 << 22])
@pytest.mark.parametrize("tt", [None, 0.1])
def test_counts_and_dab_sums_with_masks_and_regions(block_px, tt):
    rng = np.random.default_rng(4)
    a = rng.integers(0, 256, (301, 517, 3), np.uint8)
    mask = rng.random(a.shape[:2]) < 0.7
    mask[:40] = False
    ra = np.zeros(a.shape[:2], bool)
    ra[50:200, 30:400] = True
    rb = rng.random(a.shape[:2]) < 0.5
    reg = {"a": ra, "b": rb, "none": False, "all": None}
    out = ColourTable(T, white_point=WP, tissue_threshold=tt, block_px=block_px).run(
        a, mask=mask, regions=reg)
    ref, dab, scored = _reference(a, T, WP, tt, mask=mask)
    np.testing.assert_array_equal(out.classes, ref)
    for name, m in (("a", ra), ("b", rb), ("all", np.ones_like(ra))):
        np.testing.assert_array_equal(out.counts[name], np.bincount(ref[m], minlength=5))
        s_ref = float(dab[m & scored].astype(np.float64).sum())
        assert out.dab_sum[name] == pytest.approx(s_ref, rel=1e-6)
    assert out.counts["none"].tolist() == [0] * 5 and out.dab_sum["none"] == 0.0
    # the kernel of the slide pipeline gives the same classes and counts
    k = PixelKernel(T, white_point=WP, tissue_threshold=tt).run(a, mask=mask, regions=reg)
    np.testing.assert_array_equal(k.classes, out.classes)
    for name in reg:
        np.testing.assert_array_equal(k.counts[name], out.counts[name])


def test_real_colours(shared_ihc):
    """Real brightfield IHC colours (DeepLIIF Ki67 tiles and a large ROI)."""
    import cv2

    for name in ("train_Bladder1_ihc.png", "train_Lung1_ihc.png", "large_ROI_1.png"):
        bgr = cv2.imread(str(Path(shared_ihc) / "deepliif" / name), cv2.IMREAD_COLOR)
        assert bgr is not None, name
        rgb = np.ascontiguousarray(bgr[..., ::-1])
        wp = (236, 235, 240)
        out = ColourTable((0.2, 0.4, 0.6), white_point=wp, tissue_threshold=0.15).run(rgb)
        ref, dab, scored = _reference(rgb, (0.2, 0.4, 0.6), wp, 0.15)
        np.testing.assert_array_equal(out.classes, ref)
        np.testing.assert_array_equal(out.counts["image"], np.bincount(ref.ravel(), minlength=5))
        assert (out.counts["image"][1:] > 0).all(), name        # every class is present
        s_ref = float(dab[scored].astype(np.float64).sum())
        assert out.dab_sum["image"] == pytest.approx(s_ref, rel=1e-6)


def test_real_slide_colours():
    """A real H&E whole-slide crop (CMU-1-Small-Region), as the slide reader decodes it."""
    path = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wsi" / \
        "CMU-1-Small-Region.svs"
    if not path.is_file():
        pytest.skip("../shared/data/wsi is not present")
    from blotquant.io import read_image
    from blotquant.io._slide_tiles import read_window, slide_source

    img = read_image(path, mode="rgb")
    src = slide_source(img, 0)
    rgb = read_window(src, 0, min(1024, src.shape[0]), 0, min(1024, src.shape[1]))
    wp = (242, 240, 244)
    out = ColourTable((0.2, 0.4, 0.6), white_point=wp, tissue_threshold=0.15).run(rgb)
    ref, dab, scored = _reference(rgb, (0.2, 0.4, 0.6), wp, 0.15)
    np.testing.assert_array_equal(out.classes, ref)
    np.testing.assert_array_equal(out.counts["image"], np.bincount(ref.ravel(), minlength=5))
    assert out.dab_sum["image"] == pytest.approx(float(dab[scored].astype(np.float64).sum()),
                                                 rel=1e-6)


def test_run_parts_and_histogram_flushes(monkeypatch):
    rng = np.random.default_rng(7)
    a = rng.integers(0, 256, (300, 400, 3), np.uint8)
    mask = rng.random(a.shape[:2]) < 0.8
    table = ColourTable(T, white_point=WP, tissue_threshold=0.1, block_px=5000)
    whole = table.run(a, mask=mask)
    parts = [(r, c, min(128, 300 - r), min(128, 400 - c), a[r:r + 128, c:c + 128])
             for r in range(0, 300, 128) for c in range(0, 400, 128)]
    parts[3] = parts[3][:4] + (None,)                   # a part never read: code 0
    r, c, h, w, _ = parts[3]
    m2 = mask.copy()
    m2[r:r + h, c:c + w] = False
    # histograms added into the float64 sum every few hundred pixels: same result
    monkeypatch.setattr(P, "_HIST_EXACT", 700)
    out = table.run_parts(parts, a.shape[:2], mask=mask)
    ref = table.run(a, mask=m2)
    np.testing.assert_array_equal(out.classes, ref.classes)
    np.testing.assert_array_equal(out.counts["image"], ref.counts["image"])
    assert out.dab_sum["image"] == pytest.approx(ref.dab_sum["image"], rel=1e-9)
    assert whole.counts["image"].sum() == a.shape[0] * a.shape[1]
    with pytest.raises(ParameterError, match="cover"):
        table.run_parts(parts[:-1], a.shape[:2])
    with pytest.raises(ParameterError, match="outside"):
        table.run_parts([(250, 0, 100, 140, a[:100, :140])], a.shape[:2])
    with pytest.raises(ParameterError, match="uint8 RGB"):
        table.run(a.astype(np.float32))


def test_tables_are_shared_and_bounded():
    a = ColourTable(T, white_point=WP, tissue_threshold=0.1)
    b = ColourTable(T, white_point=WP, tissue_threshold=0.1)
    assert a.codes is b.codes                          # built once per process
    assert a.codes.nbytes == 1 << 24 and not a.codes.flags.writeable
    for tt in (0.11, 0.12, 0.13):                       # at most _TABLES_KEEP tables kept
        ColourTable(T, white_point=WP, tissue_threshold=tt).build()
    assert len(P._TABLES) <= P._TABLES_KEEP
