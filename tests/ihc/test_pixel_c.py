"""The compiled pixel loop (blotquant/ihc/_pixelc.c) against PixelKernel's NumPy path.

Classes and counts must be identical, the DAB OD map bit for bit, the DAB sums
equal to ~1e-7 relative (float64 against blockwise float32 accumulation).
"""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc import pixels
from blotquant.ihc.classify import classify_pixels
from blotquant.ihc.deconvolution import stain_maps
from blotquant.ihc._cellkernel import compiled_cells
from blotquant.ihc.pixels import PURE_PYTHON_ENV, PixelKernel, compiled_kernel, compiled_module
from blotquant.ihc.slide import fine_tissue

WP = (241, 236, 244)
T = (0.15, 0.3, 0.7)
# a stain matrix of another lab (rows H, DAB, residual) for one parameter set
OTHER_STAINS = [[0.60, 0.72, 0.35], [0.30, 0.55, 0.78], [0.74, -0.42, 0.52]]


@pytest.mark.parametrize("name", ["_pixelc", "_cellc"])
def test_extensions_are_built_where_required(name):
    """make test and CI set BLOTQUANT_REQUIRE_C=1: a build without an extension fails."""
    mod = compiled_module(name)
    if os.environ.get("BLOTQUANT_REQUIRE_C") == "1":
        assert os.environ.get(PURE_PYTHON_ENV) != "1", f"{PURE_PYTHON_ENV}=1 with REQUIRE_C"
        assert mod is not None, f"the extension blotquant.ihc.{name} was not built"
    if mod is None:
        pytest.skip(f"blotquant.ihc.{name} is not built")
    if name == "_pixelc":
        assert compiled_kernel() is mod and PixelKernel(T).implementation == "c"
    else:
        assert compiled_cells() is mod
        assert {"flood_region", "expand_lookup", "mask_cut", "keep_lookup",
                "compartment_stats", "count_runs", "fill_runs"} <= set(dir(mod))


def test_pure_python_switch_hides_every_extension(monkeypatch):
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    assert compiled_module("_pixelc") is None and compiled_module("_cellc") is None
    assert compiled_kernel() is None and compiled_cells() is None


@pytest.fixture
def c_module():
    mod = compiled_kernel()
    if mod is None:
        pytest.skip("the C pixel kernel is not built")
    return mod


@pytest.fixture(scope="module")
def all_colours():
    """Every 24-bit colour once (4096 x 4096 x 3)."""
    v = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([v & 255, (v >> 8) & 255, v >> 16], axis=-1).astype(np.uint8)
    return rgb.reshape(4096, 4096, 3)


def _each_path(mod):
    """Yield each row loop of the C kernel (``simd_paths()``) while it is the one used."""
    prev = mod.simd()
    try:
        for path in mod.simd_paths():
            mod.simd(path)
            yield path
    finally:
        mod.simd(prev)


def _both(**kw):
    return PixelKernel(compiled=True, **kw), PixelKernel(compiled=False, **kw)


def _assert_same(out_c, out_n, rel=1e-7):
    np.testing.assert_array_equal(out_c.classes, out_n.classes)
    assert out_c.counts.keys() == out_n.counts.keys()
    for name in out_n.counts:
        np.testing.assert_array_equal(out_c.counts[name], out_n.counts[name])
        assert out_c.dab_sum[name] == pytest.approx(out_n.dab_sum[name], rel=rel, abs=1e-9)


@pytest.mark.parametrize("thr,stains,wp,tt", [
    (T, "default", WP, 0.1),
    ((0.25,), "default", 255, None),
    ((0.05, 0.1, 0.2), OTHER_STAINS, (230, 225, 235), 0.15),
    ((0.3,), OTHER_STAINS, 250, 0.02),
])
def test_every_colour_same_classes_counts_and_dab_map(c_module, all_colours, thr, stains, wp,
                                                      tt):
    a = all_colours
    kc, kn = _both(thresholds=thr, stains=stains, white_point=wp, tissue_threshold=tt)
    dn = np.empty(a.shape[:2], np.float32)
    on = kn.run(a, dab_out=dn)
    sums = set()
    for path in _each_path(c_module):                # every row loop of the C kernel
        dc = np.empty(a.shape[:2], np.float32)
        oc = kc.run(a, dab_out=dc)
        np.testing.assert_array_equal(dc.view(np.uint32), dn.view(np.uint32))  # bit for bit
        _assert_same(oc, on)
        sums.add(oc.dab_sum["image"])
    assert len(sums) == 1                            # the same float64 sum on every path
    # the reference arithmetic of score_ihc, not only the other implementation
    _, dab = stain_maps(a, stains, wp)
    scored = None if tt is None else fine_tissue(a, wp, tt)
    np.testing.assert_array_equal(oc.classes, classify_pixels(dab, thr, mask=scored))
    n = oc.counts["image"]
    assert n.sum() == a.shape[0] * a.shape[1]
    assert (n[1:len(thr) + 2] > 1000).all()        # every class occurs: a wrong rule shows
    if len(thr) == 1:
        assert n[3:].tolist() == [0, 0]
    s_ref = float(dab[oc.classes > 0].astype(np.float64).sum())
    assert oc.dab_sum["image"] == pytest.approx(s_ref, rel=1e-9)


def _odd_views(rng):
    """The same 203 x 157 RGB image as views with odd strides."""
    base = rng.integers(0, 256, (203, 157, 3), np.uint8)
    rgba = np.zeros((203, 157, 4), np.uint8)
    rgba[..., :3] = base
    big = np.zeros((2 * 203, 3 * 157, 3), np.uint8)
    big[::2, ::3] = base
    rev = np.ascontiguousarray(base[::-1, ::-1, ::-1])[::-1, ::-1, ::-1]
    tr = np.ascontiguousarray(base.transpose(1, 0, 2)).transpose(1, 0, 2)
    return base, [rgba[..., :3], big[::2, ::3], rev, tr]


def test_odd_strides_masks_and_regions(c_module):
    rng = np.random.default_rng(5)
    base, views = _odd_views(rng)
    mask_big = rng.random((406, 314)) < 0.7
    mask = mask_big[::2, ::2]                       # a strided bool view
    regions = {"a": (rng.random(base.shape[:2]) < 0.5), "all": None, "none": False,
               "b": np.zeros(base.shape[:2], bool)}
    regions["b"][20:90, 10:140] = True
    kc, kn = _both(thresholds=T, white_point=WP, tissue_threshold=0.1)
    ref = kn.run(base, mask=mask, regions=regions)
    for v in views:
        np.testing.assert_array_equal(v, base)
        out = kc.run(v, mask=mask, regions=regions)
        _assert_same(out, ref, rel=1e-6)
        np.testing.assert_array_equal(out.classes, kn.run(v, mask=mask,
                                                          regions=regions).classes)
    # known answers: region counts are the classes' histogram inside the region
    for name, m in (("a", regions["a"]), ("b", regions["b"])):
        np.testing.assert_array_equal(ref.counts[name], np.bincount(ref.classes[m], minlength=5))
    assert ref.counts["none"].tolist() == [0] * 5


def test_run_parts_strided_parts_and_callable_masks(c_module):
    rng = np.random.default_rng(8)
    a = rng.integers(0, 256, (300, 420, 3), np.uint8)
    a[:60] = 250                                    # glass: fails the tissue test
    rgba = np.concatenate([a, np.zeros((300, 420, 1), np.uint8)], axis=-1)
    mask = rng.random(a.shape[:2]) < 0.8
    mask[:100, :140] = False
    reg = {"r": rng.random(a.shape[:2]) < 0.5, "all": None, "none": False}
    parts = [(y, x, 100, 140, rgba[y:y + 100, x:x + 140, :3])
             for y in (200, 0, 100) for x in (280, 0, 140)]

    def pm(ya, yb, xa, xb):
        m = mask[ya:yb, xa:xb]
        return False if not m.any() else (None if m.all() else m)

    kc, kn = _both(thresholds=T, white_point=WP, tissue_threshold=0.1)
    for m in (mask, pm, None):
        oc = kc.run_parts(parts, a.shape[:2], mask=m, regions=reg)
        on = kn.run_parts(parts, a.shape[:2], mask=m, regions=reg)
        _assert_same(oc, on, rel=1e-6)
        whole = kc.run(a, mask=None if m is None else mask, regions=reg)
        _assert_same(oc, whole, rel=1e-12)          # both in float64: the order only
    with pytest.raises(ParameterError, match="cover"):
        kc.run_parts(parts[:-1], a.shape[:2], mask=mask)


def test_environment_forces_the_numpy_path(c_module, monkeypatch):
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    assert compiled_kernel() is None
    assert PixelKernel(T).implementation == "numpy"
    with pytest.raises(ParameterError, match="not available"):
        PixelKernel(T, compiled=True)
    monkeypatch.delenv(PURE_PYTHON_ENV)
    assert PixelKernel(T).implementation == "c"


def test_pickled_kernel_keeps_its_implementation(c_module):
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (50, 60, 3), np.uint8)
    for compiled in (True, False):
        k = PixelKernel(T, white_point=WP, tissue_threshold=0.1, compiled=compiled)
        k2 = pickle.loads(pickle.dumps(k))
        assert k2.implementation == k.implementation
        _assert_same(k2.run(a), k.run(a), rel=0)


def test_c_function_rejects_bad_buffers(c_module):
    k = PixelKernel(T)
    rgb = np.full((4, 5, 3), 255, np.uint8)          # white: OD 0, class 1
    cls = np.zeros((4, 5), np.uint8)
    args = [rgb, k._c_tables, None, None, [], k.thresholds, cls, None]

    def call(i, v):
        a = list(args)
        a[i] = v
        return c_module.score(*a)

    (counts, s), per = call(0, rgb)
    assert counts == (0, 20, 0, 0, 0) and s == 0.0 and per == []
    with pytest.raises(ValueError, match="rgb: needs uint8"):
        call(0, rgb.astype(np.uint16))
    with pytest.raises(ValueError, match="rgb: needs uint8"):
        call(0, rgb[..., :2])
    with pytest.raises(ValueError, match=r"mask: needs shape \(4, 5\)"):
        call(3, np.ones((5, 4), bool))
    with pytest.raises(ValueError, match="region: wrong item type"):
        call(4, [np.ones((4, 5), np.float32)])
    with pytest.raises(ValueError, match="classes: wrong item type"):
        call(6, np.zeros((4, 5), np.int16))
    with pytest.raises(TypeError, match="classes: needs a writable buffer"):
        ro = cls.copy()
        ro.flags.writeable = False
        call(6, ro)
    with pytest.raises(ValueError, match="tables: needs 3 x 256 x 2 float32"):
        call(1, k._c_tables.astype(np.float64))
    bad = k._c_tables.copy()
    bad[1, 7, 0] = np.inf
    with pytest.raises(ValueError, match="tables: values must be finite"):
        call(1, bad)
    with pytest.raises(ValueError, match="thresholds: needs 1 to 3"):
        call(5, (0.1, 0.2, 0.3, 0.4))
    with pytest.raises(ValueError, match="thresholds: needs increasing"):
        call(5, (0.3, 0.2, 0.4))


def test_slide_records_the_kernel_outside_params_hash(c_module, monkeypatch):
    """Slide pixel mode on both paths: the same counts and params_hash, the
    kernel recorded in the slide's provenance."""
    from blotquant.ihc.slide import score_slide
    from blotquant.synthetic import make_ihc

    s = make_ihc(seed=3)
    runs = {}
    for env in ("1", "0"):
        monkeypatch.setenv(PURE_PYTHON_ENV, env)
        runs[env] = score_slide(s.image, mode="pixel", tile_size=128, scheduler="sync")
    numpy_run, c_run = runs["1"], runs["0"]
    assert numpy_run.params["slide"]["pixel_kernel"] == "numpy"
    assert c_run.params["slide"]["pixel_kernel"] == "c"
    a, b = numpy_run.summary, c_run.summary
    assert a["params_hash"].tolist() == b["params_hash"].tolist()
    for col in ("n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "h_score", "area_px"):
        assert a[col].tolist() == b[col].tolist()
    np.testing.assert_allclose(a["mean_dab_od"].to_numpy(float),
                               b["mean_dab_od"].to_numpy(float), rtol=1e-6)
    assert pixels.PixelKernel is PixelKernel


@pytest.mark.parametrize("fy,fx,shape", [(4, 4, (256, 256)), (16, 8, (203, 157)),
                                         (1, 3, (50, 61)), (7, 1, (64, 30))])
def test_block_mask_read_coarse_equals_the_expanded_mask(c_module, fy, fx, shape):
    """A part mask on a coarse grid (the slide's tissue mask on a stored tile): the C
    loop reads it as it is, with the classes and counts of the expanded mask."""
    rng = np.random.default_rng(fy * 100 + fx)
    a = rng.integers(0, 256, shape + (3,), np.uint8)
    coarse = rng.random((-(-shape[0] // fy), -(-shape[1] // fx))) < 0.6
    bm = pixels.BlockMask(coarse[:, ::1], fy, fx, shape)
    full = bm.expand()
    assert full.shape == shape
    np.testing.assert_array_equal(full, np.repeat(np.repeat(coarse, fy, 0), fx, 1)
                                  [:shape[0], :shape[1]])
    np.testing.assert_array_equal(np.asarray(bm), full)
    kc, kn = _both(thresholds=T, white_point=WP, tissue_threshold=0.1)
    ref = kn.run(a, mask=full)
    for k in (kc, kn):
        out = k.run_parts([(0, 0) + shape + (a,)], shape, mask=lambda *w: bm)
        _assert_same(out, ref, rel=1e-6)
    # a strided coarse view, through the C function itself
    big = np.zeros((coarse.shape[0], 2 * coarse.shape[1]), bool)
    big[:, ::2] = coarse
    cls = np.empty(shape, np.uint8)
    (counts, s), _ = c_module.score(a, kc._c_tables, kc._c_tt, (big[:, ::2], fy, fx), [],
                                    T, cls, None)
    np.testing.assert_array_equal(cls, ref.classes)
    assert list(counts) == ref.counts["image"].tolist()
    with pytest.raises(ValueError, match="mask: needs shape"):
        c_module.score(a, kc._c_tables, None, (coarse[:-1], fy, fx), [], T, cls, None)
    with pytest.raises(ParameterError, match="does not cover"):
        pixels.BlockMask(coarse[:-1], fy, fx, shape)


def _path_runs(mod, fn):
    """``fn()`` on every row loop: {path: result}."""
    return {path: fn() for path in _each_path(mod)}


@pytest.mark.parametrize("tt", [0.1, None])
def test_every_row_loop_same_results_on_every_width_and_layout(c_module, tt):
    """The AVX2, SSE2 and scalar loops: rows of every width 1-41 (the eight- and
    four-pixel steps and the tails), contiguous and strided pixels, class tiles and
    masks (no mask, a full mask, a coarse mask), regions: the same codes, DAB map
    (bit for bit), counts and DAB sums (exactly: the same float64 additions)."""
    rng = np.random.default_rng(21)
    kc, kn = _both(thresholds=T, white_point=WP, tissue_threshold=tt)
    tab, ktt, thr = kc._c_tables, kc._c_tt, kc.thresholds
    assert c_module.simd_paths()[:2] == ("scalar", "sse2")
    for w in range(1, 42):
        base = rng.integers(0, 256, (9, w, 3), np.uint8)
        base[:, ::5] = (245, 240, 246)              # glass next to stain
        wide = np.zeros((9, 2 * w, 4), np.uint8)
        wide[:, ::2, :3] = base
        m = rng.random((9, w)) < 0.7
        mbig = np.zeros((9, 3 * w), bool)
        mbig[:, ::3] = m
        coarse = rng.random((3, -(-w // 4))) < 0.5        # masked runs of 8 and more
        reg = rng.random((9, w)) < 0.5
        for rgb in (base, wide[:, ::2, :3]):
            for mask in (None, m, mbig[:, ::3], (coarse, 4, 4)):
                def run():
                    cls = np.full((9, 2 * w), 9, np.uint8)
                    dab = np.zeros((9, w), np.float32)
                    out = c_module.score(rgb, tab, ktt, mask, [reg], thr, cls[:, ::2], dab)
                    assert (cls[:, 1::2] == 9).all()        # strided classes: no spill
                    # without regions and DAB map (masked pixels may then be skipped)
                    cls2 = np.full((9, w), 9, np.uint8)
                    out2 = c_module.score(rgb, tab, ktt, mask, [], thr, cls2, None)
                    np.testing.assert_array_equal(cls2, cls[:, ::2])
                    assert out2[0] == out[0] and out2[1] == []
                    return cls[:, ::2].copy(), dab.view(np.uint32).copy(), out
                runs = _path_runs(c_module, run)
                ref = runs["scalar"]
                for path, got in runs.items():
                    np.testing.assert_array_equal(got[0], ref[0], err_msg=f"{path} w={w}")
                    np.testing.assert_array_equal(got[1], ref[1], err_msg=f"{path} w={w}")
                    assert got[2] == ref[2], (path, w)
                full = mask if not isinstance(mask, tuple) else \
                    np.repeat(np.repeat(coarse, 4, 0), 4, 1)[:9, :w]
                on = kn.run(base, mask=full, regions={"r": reg})
                np.testing.assert_array_equal(ref[0], on.classes)
                assert list(ref[2][1][0][0]) == on.counts["r"].tolist()


def test_simd_switch_and_environment(c_module):
    """simd() picks a row loop and rejects unknown ones; BLOTQUANT_PIXEL_SIMD sets the
    default at import (a loop the CPU lacks falls back to the fastest it has)."""
    import subprocess
    import sys

    paths = c_module.simd_paths()
    assert c_module.simd() in paths
    prev = c_module.simd("scalar")
    try:
        assert c_module.simd() == "scalar"
        with pytest.raises(ValueError, match="'avx512' is not available here"):
            c_module.simd("avx512")
        assert c_module.simd() == "scalar"
    finally:
        c_module.simd(prev)
    code = "from blotquant.ihc import _pixelc as c; print(c.simd(), c.simd_paths()[-1])"
    for env, want in (("scalar", "scalar"), ("sse2", "sse2"), ("bogus", None), ("", None)):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=dict(os.environ, BLOTQUANT_PIXEL_SIMD=env))
        now, best = out.stdout.split()
        assert now == (want or best) and best == paths[-1]
