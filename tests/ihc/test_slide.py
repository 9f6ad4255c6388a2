"""Whole-slide scoring (blotquant.ihc.slide): same numbers however it is tiled or run."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.errors import ParameterError
from blotquant.image import Image
from blotquant.ihc import score_ihc
from blotquant.ihc.params import IHCParams
from blotquant.ihc.regions import rectangle
from blotquant.ihc.slide import (SlideJob, choose_level, coarse_window, fine_tissue, score_slide,
                                 score_slides)
from blotquant.io import read_image
from blotquant.synthetic import make_ihc

WSI = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wsi"


def _slide_rgb(shape=(1024, 1280), seed=3):
    s = make_ihc(seed=seed, shape=shape, tissue_fraction=0.5, white_point=(240, 238, 242))
    return s.image


def _write_pyramid(path, a, *, compression="zlib", tile=256, mpp=None, n_sub=2):
    kw = dict(tile=(tile, tile), compression=compression, photometric="rgb")
    res = {} if mpp is None else {"resolution": (1e4 / mpp, 1e4 / mpp),
                                  "resolutionunit": "CENTIMETER"}
    with tifffile.TiffWriter(path) as w:
        w.write(a, subifds=n_sub, **kw, **res)
        for k in range(1, n_sub + 1):
            f = 2 ** k
            w.write(np.ascontiguousarray(a[::f, ::f]), subfiletype=1, **kw)
    return path


@pytest.fixture(scope="module")
def pyramid(tmp_path_factory):
    a = _slide_rgb()
    p = _write_pyramid(tmp_path_factory.mktemp("slide") / "slide.tif", a, mpp=0.5)
    return p, a


def _reference(a, res, **kw):
    """score_ihc on the level in one piece, with the slide's tissue definition."""
    shape = a.shape[:2]
    tm = fine_tissue(a, res.white_point, IHCParams().tissue_threshold) & coarse_window(
        res.tissue_lowres, shape, 0, shape[0], 0, shape[1])
    return score_ihc(a, white_point=tuple(res.white_point), tissue_mask=tm, chroma="off", **kw)


def _num(df):
    cols = ["n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "area_px", "region_area_px"]
    return df[["region", *cols]].reset_index(drop=True)


def test_pixel_mode_independent_of_tile_size_and_equal_to_score_ihc(pyramid):
    path, a = pyramid
    img = read_image(path, mode="rgb")
    assert img.is_pyramid
    r1 = score_slide(img, mode="pixel", tile_size=256, chroma="off")
    r2 = score_slide(img, mode="pixel", tile_size=768, chroma="off")
    assert r1.params["slide"]["tile_size"] != r2.params["slide"]["tile_size"]
    pd.testing.assert_frame_equal(_num(r1.summary), _num(r2.summary))
    np.testing.assert_array_equal(np.asarray(r1.class_map[:]), np.asarray(r2.class_map[:]))
    ref = _reference(a, r1, mode="pixel")
    pd.testing.assert_frame_equal(_num(r1.summary), _num(ref.summary))
    np.testing.assert_array_equal(np.asarray(r1.class_map[:]), ref.class_map)
    assert r1.summary.h_score[0] == pytest.approx(ref.summary.h_score[0], abs=1e-9)
    assert r1.summary.mean_dab_od[0] == pytest.approx(ref.summary.mean_dab_od[0], rel=1e-5)
    # level 0 is small enough to be the tissue level itself; the white point comes from it
    assert r1.tissue_level == 0
    np.testing.assert_allclose(r1.white_point, (240, 238, 242), atol=1.5)
    assert 0.3 < r1.summary.area_px[0] / a[..., 0].size < 0.7


def test_params_hash_matches_score_ihc_for_the_same_inputs(pyramid):
    path, a = pyramid
    img = read_image(path, mode="rgb")
    r = score_slide(img, mode="pixel", tile_size=512, workers=2)
    ref = score_ihc(a, mode="pixel")
    assert r.summary.params_hash[0] == ref.summary.params_hash[0]
    assert list(r.summary.columns) == list(ref.summary.columns)
    # and tile size / workers do not enter it
    r2 = score_slide(img, mode="pixel", tile_size=256, workers=1)
    assert r2.summary.params_hash[0] == r.summary.params_hash[0]


def test_regions_in_level0_coordinates(pyramid):
    path, a = pyramid
    img = read_image(path, mode="rgb")
    regs = [rectangle("Tumor", 100, 150, 700, 900), rectangle("B", 600, 1000, 1000, 1270),
            rectangle("dirt", 300, 300, 420, 500, kind="exclude")]
    r = score_slide(img, mode="pixel", regions=regs, tile_size=256, chroma="off")
    assert list(r.summary.region) == ["Tumor", "B"]
    ref = _reference(a, r, mode="pixel", regions=regs)
    pd.testing.assert_frame_equal(_num(r.summary), _num(ref.summary))
    # tiles outside every include region are not read
    assert r.params["slide"]["tiles_scored"] < r.params["slide"]["tiles_total"]
    # level 1: same regions (level-0 coordinates) scaled onto the level
    r1 = score_slide(img, mode="pixel", regions=regs, level=1, tile_size=256)
    assert r1.level == 1 and r1.downsample == (2.0, 2.0)
    assert r1.summary.region_area_px[0] == pytest.approx(r.summary.region_area_px[0] / 4, rel=0.01)
    assert r1.params["pixel_size_used"] == [1.0, 1.0]


def test_cell_mode_independent_of_tile_size_and_equal_to_score_ihc():
    s = make_ihc(seed=2, shape=(1024, 1024))
    img = Image.from_array(s.image, pixel_size_um=(0.5, 0.5))
    ra = score_slide(img, mode="cell", tile_size=384, scheduler="sync")
    rb = score_slide(img, mode="cell", tile_size=1024, scheduler="sync")
    assert len(ra.tiles) > 1 and len(rb.tiles) == 1
    key = ["y", "x"]
    ca = ra.cells.sort_values(key).reset_index(drop=True)
    cb = rb.cells.sort_values(key).reset_index(drop=True)
    assert len(ca) == len(cb) > 100
    np.testing.assert_allclose(ca[key].to_numpy(), cb[key].to_numpy(), atol=1e-9)
    np.testing.assert_allclose(ca.cytoplasm_dab_od_mean, cb.cytoplasm_dab_od_mean, atol=1e-6)
    assert ra.summary.h_score[0] == rb.summary.h_score[0]
    assert ca.cell.is_unique
    ref = _reference(s.image, ra, mode="cell", pixel_size_um=0.5)
    cr = ref.cells.sort_values(key).reset_index(drop=True)
    assert len(cr) == len(ca)
    np.testing.assert_allclose(ca[key].to_numpy(), cr[key].to_numpy(), atol=1e-9)
    assert ra.summary.h_score[0] == pytest.approx(ref.summary.h_score[0], abs=1e-9)
    np.testing.assert_array_equal(np.asarray(ra.class_map[:]), ref.class_map)
    # the pixel-mode scores beside the cell scores are score_ihc's too, for any tiling
    # (they were a copy of the cell scores on slides before)
    for col in ("pixel_h_score", "pixel_pct_positive"):
        assert ra.summary[col][0] == pytest.approx(ref.summary[col][0], abs=1e-9)
        assert rb.summary[col][0] == pytest.approx(ref.summary[col][0], abs=1e-9)
    assert abs(ra.summary.pixel_h_score[0] - ra.summary.h_score[0]) > 1


def _cells_by_tiling(img, **kw):
    out = []
    for ts in (384, 1024):
        r = score_slide(img, mode="cell", tile_size=ts, scheduler="sync", **kw)
        out.append((r, r.cells.sort_values(["y", "x"]).reset_index(drop=True)))
    return out


@pytest.mark.parametrize("pixel_size", [0.2527, 0.46])
def test_cell_mode_tiling_invariant_at_a_non_integer_resampling(pixel_size):
    """0.2527 um/px (a 40x Aperio MPP) and 0.46 to the 0.5 um detection grid: the tiles
    used to resample with their own grid phase, so the cells depended on the tile size."""
    s = make_ihc(seed=2, shape=(1024, 1024))
    img = Image.from_array(s.image, pixel_size_um=(pixel_size, pixel_size))
    (ra, ca), (rb, cb) = _cells_by_tiling(img)
    assert len(ra.tiles) > 1 and len(rb.tiles) == 1
    assert len(ca) == len(cb) > 50
    np.testing.assert_allclose(ca[["y", "x"]].to_numpy(), cb[["y", "x"]].to_numpy(), atol=1e-9)
    assert ra.summary.h_score[0] == rb.summary.h_score[0]
    work = ra.params["slide"]["cell_working_pixel_size_um"]
    assert work == pytest.approx({0.2527: 0.5054, 0.46: 0.46}[pixel_size])


def test_cell_mode_pixel_size_estimated_once_per_slide():
    """No pixel size in the file: one estimate for the slide (recorded with its windows),
    not one per tile, so the cells do not depend on the tile size."""
    from blotquant.synthetic import make_cell_image

    s = make_cell_image(1, shape=(1024, 1024))     # drawn at 0.5 um/px
    img = Image.from_array(np.asarray(s.image)[..., :3])
    (ra, ca), (rb, cb) = _cells_by_tiling(img)
    for r in (ra, rb):
        assert r.params["pixel_size_source"] == "estimated"
        assert r.params["pixel_size_used"][0] == pytest.approx(0.5, rel=0.08)
        assert r.params["pixel_size_estimate"]["windows"]
        assert "once for the slide" in r.params["pixel_size_note"]
    assert ra.params["pixel_size_used"] == rb.params["pixel_size_used"]
    assert len(ca) == len(cb) > 50
    np.testing.assert_allclose(ca[["y", "x"]].to_numpy(), cb[["y", "x"]].to_numpy(), atol=1e-9)
    assert ra.summary.h_score[0] == rb.summary.h_score[0]
    # areas in um2 from the estimate, as score_ihc does
    assert ra.summary.area_um2[0] == pytest.approx(
        ra.summary.area_px[0] * ra.params["pixel_size_used"][0] ** 2, rel=1e-9)


def test_cells_in_level0_coordinates_on_a_coarser_level(pyramid):
    path, _ = pyramid
    img = read_image(path, mode="rgb")
    r = score_slide(img, mode="cell", level=1, tile_size=256)
    c = r.cells
    assert len(c) > 10
    np.testing.assert_allclose(c.y, (c.y_level + 0.5) * 2 - 0.5)
    assert c.y.max() < 1024 and c.x.max() < 1280 and c.y.max() > 512


def test_distributed_cluster_same_numbers(pyramid, tmp_path):
    distributed = pytest.importorskip("distributed")
    import zarr

    path, _ = pyramid
    img = read_image(path, mode="rgb")
    local = score_slide(img, mode="pixel", tile_size=256)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        addr = cluster.scheduler_address
        r1 = score_slide(img, mode="pixel", tile_size=256, scheduler=addr,
                         class_map=zarr.storage.LocalStore(str(tmp_path / "cm.zarr")))
        r2 = score_slide(img, mode="pixel", tile_size=512, scheduler=addr)   # in-memory store
    pd.testing.assert_frame_equal(_num(local.summary), _num(r1.summary))
    pd.testing.assert_frame_equal(_num(local.summary), _num(r2.summary))
    np.testing.assert_array_equal(np.asarray(local.class_map[:]), np.asarray(r1.class_map[:]))
    np.testing.assert_array_equal(np.asarray(local.class_map[:]), np.asarray(r2.class_map[:]))


def test_local_processes_same_numbers(pyramid, tmp_path):
    import zarr

    path, _ = pyramid
    img = read_image(path, mode="rgb")
    local = score_slide(img, mode="pixel", tile_size=512)
    r = score_slide(img, mode="pixel", tile_size=512, scheduler="processes", workers=2,
                    class_map=zarr.storage.LocalStore(str(tmp_path / "cm.zarr")))
    pd.testing.assert_frame_equal(_num(local.summary), _num(r.summary))
    np.testing.assert_array_equal(np.asarray(local.class_map[:]), np.asarray(r.class_map[:]))
    with pytest.raises(ParameterError, match="LocalStore"):
        score_slide(img, mode="pixel", scheduler="processes")     # in-memory store


def test_score_slides_schedules_several_slides_and_reports_progress(pyramid):
    path, a = pyramid
    img = read_image(path, mode="rgb")
    small = Image.from_array(_slide_rgb((512, 512), seed=9))
    seen = []
    out = score_slides([SlideJob(img, overrides={"mode": "pixel"}),
                        SlideJob(small, image_name="small", overrides={"mode": "pixel"})],
                       tile_size=256, progress=seen.append)
    assert [r.image_name for r in out] == ["slide.tif", "small"]
    total = sum(len(r.tiles) for r in out)
    assert seen[-1].done == seen[-1].total == total and len(seen) == total
    assert seen[-1].rate_mpix_s > 0
    alone = score_slide(small, mode="pixel", tile_size=512)
    pd.testing.assert_frame_equal(_num(out[1].summary), _num(alone.summary))


def test_interrupt_propagates_and_leaves_nothing(pyramid):
    path, _ = pyramid
    img = read_image(path, mode="rgb")

    def stop(info):
        if info.done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_slide(img, mode="pixel", tile_size=256, progress=stop, scheduler="sync")


def test_memory_is_bounded_by_tile_size(tmp_path, monkeypatch):
    import blotquant.ihc.slide as slide_mod

    monkeypatch.setattr(slide_mod, "TISSUE_MAX_SIDE", 800)
    a = np.tile(_slide_rgb((1024, 1024)), (3, 3, 1))          # 3072 x 3072 RGB = 28 MB
    p = _write_pyramid(tmp_path / "big.tif", a, n_sub=2)
    img = read_image(p, mode="rgb")
    r = score_slide(img, mode="pixel", tile_size=256, scheduler="sync", class_map=False)
    assert r.tissue_level == 2 and r.tissue_lowres.shape == (768, 768)
    tracemalloc.start()
    score_slide(img, mode="pixel", tile_size=256, scheduler="sync", class_map=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the tissue level (768 px) and a few 256-px tiles, never a full-resolution map
    assert peak < 0.5 * a.nbytes, peak


def test_choose_level_and_errors():
    shapes = [(8000, 8000), (4000, 4000), (2000, 2000)]
    assert choose_level(shapes, IHCParams()) == 0
    assert choose_level(shapes, IHCParams(level=2)) == 2
    assert choose_level(shapes, IHCParams(magnification="20x"), (0.25, 0.25)) == 1
    assert choose_level(shapes, IHCParams(magnification="40x"), (0.25, 0.25)) == 0
    with pytest.raises(ParameterError, match="level 3 does not exist"):
        choose_level(shapes, IHCParams(level=3))
    with pytest.raises(ParameterError, match="no pixel size"):
        choose_level(shapes, IHCParams(magnification="20x"), None)
    gray = Image.from_array(np.zeros((64, 64), np.uint8))
    with pytest.raises(ParameterError, match="RGB"):
        score_slide(gray)
    with pytest.raises(ParameterError, match="tile_size"):
        score_slide(np.zeros((64, 64, 3), np.uint8), tile_size=8)


@pytest.mark.realdata
@pytest.mark.parametrize("name, levels", [("CMU-1-Small-Region.svs", 1),
                                          ("tcga-cr-7395-01a-01-ts1.svs", 2)])
def test_real_svs_slides(name, levels):
    p = WSI / name
    if not p.is_file():
        pytest.skip(f"../shared/data/wsi/{name} is not present")
    img = read_image(p, mode="rgb")
    assert img.metadata.format == "svs" and len(img.levels) == levels
    r = score_slide(img, mode="pixel", tile_size=1024)
    frac = r.summary.area_px[0] / (r.level_shape[0] * r.level_shape[1])
    assert 0.05 < frac < 0.95                      # tissue and glass both found
    assert r.params["white_point_source"] == "estimated"
    r2 = score_slide(img, mode="pixel", tile_size=512)
    pd.testing.assert_frame_equal(_num(r.summary), _num(r2.summary))
    if name.startswith("CMU"):
        assert r.params["pixel_size_used"] == pytest.approx([0.499, 0.499])


def test_cell_mode_region_reads_only_its_box_and_keeps_the_numbers(monkeypatch):
    """Cell tiles are cut to the include regions' box + halo: same cells as one piece."""
    import blotquant.io._slide_tiles as st

    s = make_ihc(seed=4, shape=(1024, 1024))
    img = Image.from_array(s.image, pixel_size_um=(0.5, 0.5))
    regs = [rectangle("R", 480, 470, 720, 730)]
    read = []
    orig = st.read_window

    def spy(src, r0, r1, c0, c1, **kw):
        read.append((min(r1, 1024) - max(r0, 0)) * (min(c1, 1024) - max(c0, 0)))
        return orig(src, r0, r1, c0, c1, **kw)

    monkeypatch.setattr(st, "read_window", spy)
    ra = score_slide(img, mode="cell", tile_size=256, regions=regs, scheduler="sync")
    read.clear()
    rb = score_slide(img, mode="cell", tile_size=1024, regions=regs, scheduler="sync")
    monkeypatch.undo()
    assert len(ra.tiles) == 4 and len(rb.tiles) == 1
    # the one 1024-px tile reads the box + half a halo (112) + a halo (224), clipped
    assert read[-1] == (1024 - (352 - 224)) * (1024 - (352 - 224))   # 480-112, 470-112 on 32 px
    ref = _reference(s.image, ra, mode="cell", pixel_size_um=0.5, regions=regs)
    key = ["y", "x"]
    for r in (ra, rb):
        c = r.cells.sort_values(key).reset_index(drop=True)
        cr = ref.cells.sort_values(key).reset_index(drop=True)
        assert len(c) == len(cr) > 20
        np.testing.assert_allclose(c[key].to_numpy(), cr[key].to_numpy(), atol=1e-9)
        assert r.summary.h_score[0] == pytest.approx(ref.summary.h_score[0], abs=1e-9)
        pd.testing.assert_frame_equal(_num(r.summary), _num(ref.summary))
        np.testing.assert_array_equal(np.asarray(r.class_map[:]), ref.class_map)


@pytest.mark.parametrize("level_shape,coarse_shape", [((4096, 3072), (512, 384)),
                                                      ((1000, 1300), (123, 170)),
                                                      ((777, 512), (777, 512))])
def test_part_masks_equal_the_coarse_window(level_shape, coarse_shape):
    """Pixel mode samples the coarse tissue mask per stored tile (an f x f upscale when
    a coarse pixel is f x f level pixels): the same pixels as coarse_window."""
    from types import SimpleNamespace

    from blotquant.ihc.slide import _part_masks

    rng = np.random.default_rng(7)
    coarse = rng.random(coarse_shape) < 0.6
    coarse[: coarse_shape[0] // 3] = False
    ctx = SimpleNamespace(tissue=True, coarse=coarse, level_shape=level_shape)
    H, W = level_shape
    for r0, r1, c0, c1 in ((0, 1024, 0, 768), (1024, min(H, 2048), 768, min(W, 1536)),
                           (H - 300, H, W - 200, W)):
        if r0 >= H or c0 >= W:
            continue
        ref = coarse_window(coarse, level_shape, r0, r1, c0, c1)
        pm = _part_masks(ctx, r0, r1, c0, c1, None)
        for y in range(0, r1 - r0, 256):
            for x in range(0, c1 - c0, 256):
                yb, xb = min(r1 - r0, y + 256), min(c1 - c0, x + 256)
                m = pm(y, yb, x, xb)
                want = ref[y:yb, x:xb]
                if m is False:
                    assert not want.any()
                elif m is None:
                    assert want.all()
                else:
                    np.testing.assert_array_equal(m, want)


def test_run_order_is_row_major_then_largest_first():
    from blotquant.ihc.slide import _run_order

    rng = np.random.default_rng(0)
    costs = list(rng.uniform(0.05, 1.0, 60))
    for workers in (1, 2, 4):
        order = _run_order(costs, workers)
        assert sorted(order) == list(range(60))
        k = next(i for i, j in enumerate(order) if i != j)     # where the tail starts
        assert order[:k] == list(range(k))
        tail = [costs[i] for i in order[k:]]
        assert tail == sorted(tail, reverse=True) and len(tail) >= 2 * workers
        assert sum(tail) <= 2 * workers * max(costs) + max(costs)
    assert _run_order([], 2) == [] and _run_order([1.0], 2) == [0]


def test_local_threads_run_the_tiles_in_the_planned_order(pyramid, monkeypatch):
    """dask's local scheduler runs the tiles in _run_order (their keys are named for it):
    row-major, so the streamed class-map file is written while scoring, and the run
    ends with the cheapest tiles; results come back in tile order."""
    import blotquant.ihc.slide as S

    path, _ = pyramid
    img = read_image(path, mode="rgb")
    ran = []
    orig = S._score_tile
    monkeypatch.setattr(S, "_score_tile", lambda ctx, spec: ran.append(spec.index) or
                        orig(ctx, spec))
    planned = {}
    orig_plan = S._plan

    def plan(*a, **k):
        p = orig_plan(*a, **k)
        planned["order"] = S._run_order(p.costs, 1)
        return p

    monkeypatch.setattr(S, "_plan", plan)
    r = score_slide(img, mode="pixel", tile_size=256, workers=1)
    assert len(ran) == len(r.tiles) > 8
    assert ran == planned["order"] and ran != sorted(ran)       # a reordered tail
    assert list(r.tiles.tile) == sorted(r.tiles.tile)
    ref = score_slide(img, mode="pixel", tile_size=256, scheduler="sync")
    pd.testing.assert_frame_equal(_num(r.summary), _num(ref.summary))


@pytest.mark.parametrize("chroma", ["off", "auto"])
def test_slide_stain_check_warns_on_h_and_e_only(pyramid, tmp_path, chroma):
    # once per slide (sample crops with chroma auto, else the low-resolution level)
    from blotquant.synthetic.ihc import HE_STAINS

    path, _ = pyramid
    ok = score_slide(read_image(path, mode="rgb"), mode="pixel", chroma=chroma)
    assert ok.params["stain_note"] == "" and ok.params["stain_fit"]["off_plane_fraction"] <= 0.01
    he = make_ihc(seed=3, shape=(1024, 1280), tissue_fraction=0.5, white_point=(240, 238, 242),
                  stains=HE_STAINS)
    p = _write_pyramid(tmp_path / "he.tif", he.image, mpp=0.5)
    bad = score_slide(read_image(p, mode="rgb"), mode="pixel", chroma=chroma)
    assert bad.params["stain_fit"]["off_plane_fraction"] > 0.05
    assert "no mix of hematoxylin and DAB" in bad.params["stain_note"]


def test_real_he_slide_gets_the_stain_warning():
    p = WSI / "CMU-1-Small-Region.svs"
    if not p.is_file():
        pytest.skip("../shared/data/wsi is not present")
    res = score_slide(read_image(p, mode="rgb"), mode="pixel")
    assert res.params["stain_fit"]["off_plane_fraction"] > 0.1 and res.params["stain_note"]


@pytest.mark.parametrize("level_shape,coarse_shape,side", [((4096, 3072), (512, 384), 256),
                                                           ((1000, 1300), (123, 170), 256),
                                                           ((777, 512), (777, 512), 128),
                                                           ((300, 200), (75, 50), 256),
                                                           ((500, 400), (1000, 900), 128),
                                                           ((16384, 12000), (2048, 1500), 512)])
def test_window_fractions_equal_the_coarse_window_mean(level_shape, coarse_shape, side):
    from blotquant.ihc.slide import _window_fractions

    rng = np.random.default_rng(11)
    coarse = rng.random(coarse_shape) < 0.5
    coarse[: coarse_shape[0] // 4] = False
    H, W = level_shape
    a, b = min(side, H), min(side, W)
    frac = _window_fractions(coarse, level_shape, a, b)
    assert frac.shape == ((H - a) // a + 1, (W - b) // b + 1)
    for i, j in np.ndindex(*frac.shape):
        want = coarse_window(coarse, level_shape, i * a, (i + 1) * a, j * b, (j + 1) * b).mean()
        assert frac[i, j] == pytest.approx(want, abs=1e-12)


def test_stain_estimate_and_chroma_do_not_depend_on_the_tile_size(tmp_path):
    """stains='estimate', the stain-fit check and chroma detection sample windows on a
    grid anchored at the level's origin, never the scoring tiles: the same estimate,
    classes and counts for any tile size, and only inside the include regions."""
    a = np.tile(_slide_rgb((1024, 1024), seed=5), (2, 2, 1))
    p = _write_pyramid(tmp_path / "s.tif", a, compression="jpeg", mpp=0.5)
    img = read_image(p, mode="rgb")
    runs = [score_slide(img, mode="pixel", tile_size=ts, stains="estimate", chroma="auto",
                        scheduler="sync") for ts in (256, 768, 2048)]
    assert len({r.params["slide"]["tile_size"] for r in runs}) == 3
    for r in runs[1:]:
        np.testing.assert_array_equal(r.params["stain_matrix"], runs[0].params["stain_matrix"])
        assert r.params["stain_fit"] == runs[0].params["stain_fit"]
        assert r.params["chroma_subsampling"] == runs[0].params["chroma_subsampling"]
        pd.testing.assert_frame_equal(_num(r.summary), _num(runs[0].summary))
    assert runs[0].params["stain_source"] == "estimated"
    # a region in the lower right quadrant: its windows, its estimate
    roi = {"type": "Feature", "properties": {"objectType": "annotation", "name": "q"},
           "geometry": {"type": "Polygon", "coordinates": [[[1100, 1100], [2000, 1100],
                                                           [2000, 2000], [1100, 2000],
                                                           [1100, 1100]]]}}
    from blotquant.ihc.slide import STAIN_WINDOW_SIDE, _scale_windows
    wins = _scale_windows(runs[0].tissue_lowres, a.shape[:2], STAIN_WINDOW_SIDE, 32,
                          [(1100.0, 2000.0, 1100.0, 2000.0)])
    assert wins and all(r1 >= 1100 and c1 >= 1100 for _, r1, _, c1 in wins)
    q = [score_slide(img, mode="pixel", tile_size=ts, stains="estimate", regions=[roi],
                     scheduler="sync") for ts in (256, 1024)]
    np.testing.assert_array_equal(q[0].params["stain_matrix"], q[1].params["stain_matrix"])
