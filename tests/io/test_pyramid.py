"""Whole-slide pyramids are opened lazily (zarr levels), never decoding level 0."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from blotquant.io import read_image, to_gray


def _rgb(shape=(1024, 1536)):
    rng = np.random.default_rng(5)
    a = np.full(shape + (3,), 230, np.uint8)
    a[200:400, 300:500] = rng.integers(60, 160, (200, 200, 3), dtype=np.uint8)
    return a


def _write_pyramid(path, a, *, description=None, ome=False, metadata=None,
                   compression="zlib"):
    kw = dict(tile=(256, 256), compression=compression)
    rgb = a.ndim == 3 and a.shape[-1] == 3
    photometric = "rgb" if rgb else "minisblack"

    def down(f):
        return a[:, ::f, ::f] if a.ndim == 3 and not rgb else a[::f, ::f]

    with tifffile.TiffWriter(path, ome=ome) as w:
        w.write(a, subifds=2, photometric=photometric, description=description,
                metadata=metadata, **kw)
        for f in (2, 4):
            w.write(down(f), subfiletype=1, photometric=photometric, **kw)


@pytest.fixture
def no_full_decode(monkeypatch):
    """Fail if anything decodes a whole page or series (i.e. level 0)."""

    def boom(*args, **kwargs):
        raise AssertionError("a whole TIFF page/series was decoded")

    monkeypatch.setattr(tifffile.TiffPage, "asarray", boom)
    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", boom)
    monkeypatch.setattr(tifffile.TiffFile, "asarray", boom)


def _check_lazy(img, a):
    assert not isinstance(img.data, np.ndarray)
    assert img.is_pyramid and img.metadata.n_levels == 3 and len(img.levels) == 3
    assert img.levels[0] is img.data
    assert tuple(img.data.shape) == a.shape
    assert [tuple(lv.shape)[:2] for lv in img.levels] == [
        a.shape[:2], a[::2, ::2].shape[:2], a[::4, ::4].shape[:2]]


def test_generic_subifd_pyramid_gray(tmp_path, no_full_decode):
    a = (_rgb()[..., 0].astype(np.uint16) * 200)
    p = tmp_path / "pyr.tif"
    _write_pyramid(p, a, metadata=None)
    img = read_image(p)
    _check_lazy(img, a)
    md = img.metadata
    assert md.format == "pyramidal-tiff" and md.axes == "YX" and md.dtype == "uint16"
    assert md.polarity == "dark-on-light"  # detected on the smallest level
    np.testing.assert_array_equal(img.data[300:310, 500:520], a[300:310, 500:520])
    np.testing.assert_array_equal(np.asarray(img.levels[2]), a[::4, ::4])


def _write_svs_like(path, a, mpp=0.499):
    """Aperio layout: baseline (tiled), thumbnail (strips), reduced levels (tiled),
    label and macro (strips); each description starts with 'Aperio'."""
    head = "Aperio Image Library v12.0.15\r\n"
    kw = dict(photometric="rgb", metadata=None)
    with tifffile.TiffWriter(path) as w:
        w.write(a, tile=(256, 256), description=head + f"{a.shape[1]}x{a.shape[0]} (256x256) "
                f"RGB|AppMag = 20|MPP = {mpp}", **kw)
        w.write(a[::16, ::16], description=head + "thumbnail", **kw)
        for f in (2, 4):
            w.write(a[::f, ::f], tile=(256, 256), description=head + f"level {f}", **kw)
        w.write(a[:50, :50], subfiletype=1, description=head + "label 50x50", **kw)
        w.write(a[:60, :80], subfiletype=9, description=head + "macro 80x60", **kw)


def test_svs_like_mpp(tmp_path, no_full_decode):
    a = _rgb()
    p = tmp_path / "slide.svs"
    _write_svs_like(p, a)
    img = read_image(p)
    _check_lazy(img, a)
    md = img.metadata
    assert md.format == "svs" and md.axes == "YXC"
    assert md.pixel_size_um == pytest.approx((0.499, 0.499))
    assert md.channels_equal is None and md.polarity is None
    np.testing.assert_array_equal(img.data[250:260, 350:370], a[250:260, 350:370])


def test_ome_pyramid_pixel_size_and_lazy_gray(tmp_path, no_full_decode):
    a = _rgb()
    p = tmp_path / "slide.ome.tif"
    _write_pyramid(p, a, ome=True, metadata={"axes": "YXS", "PhysicalSizeX": 0.25,
                                             "PhysicalSizeY": 0.3})
    img = read_image(p)
    _check_lazy(img, a)
    assert img.metadata.format == "ome-tiff"
    assert img.metadata.pixel_size_um == pytest.approx((0.3, 0.25))
    g = read_image(p, mode="gray")
    assert g.metadata.axes == "YX" and len(g.levels) == 3 and "lazy" in g.metadata.conversion
    region = np.asarray(g.data[200:210, 300:310])
    exp = np.clip(np.rint(a[200:210, 300:310].astype(float) @ [0.299, 0.587, 0.114]), 0, 255)
    np.testing.assert_array_equal(region, exp.astype(np.uint8))
    g2 = to_gray(img)
    np.testing.assert_array_equal(np.asarray(g2.levels[2]), np.asarray(g.levels[2]))


def test_jpeg_pyramid_is_lossy(tmp_path):
    a = _rgb((512, 512))
    p = tmp_path / "j.tif"
    _write_pyramid(p, a, compression="jpeg")
    md = read_image(p).metadata
    assert md.lossy is True and md.n_levels == 3


def test_large_tiled_single_level_opened_lazily(tmp_path, no_full_decode):
    a = _rgb((512, 768))[..., 1]
    p = tmp_path / "tiled.tif"
    tifffile.imwrite(p, a, tile=(128, 128))
    img = read_image(p, max_pixels=100_000)  # above the limit, but tiled: lazy
    assert not isinstance(img.data, np.ndarray) and img.metadata.n_levels == 1
    np.testing.assert_array_equal(img.data[100:120, 200:260], a[100:120, 200:260])


def test_ome_channel_pyramid_and_mode_rgb_on_gray(tmp_path, no_full_decode):
    rng = np.random.default_rng(6)
    a = rng.integers(0, 1000, (2, 512, 512), dtype=np.uint16)
    p = tmp_path / "fluo.ome.tif"
    _write_pyramid(p, a, ome=True, metadata={"axes": "CYX",
                                             "Channel": {"Name": ["IR700", "IR800"]}})
    img = read_image(p)
    md = img.metadata
    assert md.axes == "CYX" and md.channel_names == ("IR700", "IR800") and md.n_levels == 3
    assert md.polarity is None
    np.testing.assert_array_equal(img.data[1, 10:20, 30:40], a[1, 10:20, 30:40])

    g = (rng.integers(0, 255, (512, 512))).astype(np.uint8)
    p = tmp_path / "g.tif"
    _write_pyramid(p, g)
    img = read_image(p, mode="rgb", polarity="light-on-dark")
    assert img.metadata.axes == "YXC" and img.metadata.polarity_source == "user"
    np.testing.assert_array_equal(np.asarray(img.data[5:9, 5:9, 2]), g[5:9, 5:9])


def test_tiled_levels_open_zarr_only_on_use(tmp_path):
    """RGB and gray tiled pyramids: the levels' shapes, dtypes and chunks come from
    the TIFF structure (equal to the zarr arrays'); pixels read through them equal
    the zarr store's; a channel stack (CYX) still opens zarr at once."""
    import zarr

    from blotquant.io._tiff import LazyLevel, _zarr_levels

    for name, a in (("rgb", _rgb((700, 900))), ("gray", _rgb((700, 900))[..., 1] * 3)):
        p = tmp_path / f"{name}.tif"
        _write_pyramid(p, a)
        img = read_image(p)
        assert all(isinstance(lv, LazyLevel) for lv in img.levels), name
        with tifffile.TiffFile(p) as t:
            ref = _zarr_levels(t.series[0], p)
            assert [lv.shape for lv in img.levels] == [tuple(z.shape) for z in ref]
            assert [lv.chunks for lv in img.levels] == [tuple(z.chunks) for z in ref]
            assert [lv.dtype for lv in img.levels] == [z.dtype for z in ref]
            assert img.metadata.extra["tile_shape"] == str(tuple(ref[0].chunks))
            np.testing.assert_array_equal(img.data[123:456, 7:800], ref[0][123:456, 7:800])
            np.testing.assert_array_equal(np.asarray(img.levels[2]), ref[2][...])
        np.testing.assert_array_equal(img.data[...], a)
        assert isinstance(img.data.array, zarr.Array)
        if name == "rgb":                        # lazy gray conversion through dask
            g = to_gray(img)
            assert g.data.shape == a.shape[:2]
    stack = np.stack([_rgb((512, 512))[..., 0]] * 2)
    p = tmp_path / "cyx.ome.tif"
    _write_pyramid(p, stack, ome=True, metadata={"axes": "CYX"})
    img = read_image(p)
    assert not isinstance(img.data, LazyLevel) and img.data.shape == (2, 512, 512)


def test_reading_a_slide_does_not_import_zarr(tmp_path):
    """Start-up of whole-slide scoring: opening a tiled pyramid and reading pixels
    through the stored-tile reader import neither zarr nor dask."""
    import subprocess
    import sys

    p = tmp_path / "slide.tif"
    _write_pyramid(p, _rgb((700, 900)), compression="jpeg")
    code = ("import sys; from blotquant.io import read_image; "
            "from blotquant.io._slide_tiles import slide_source, read_window; "
            f"img = read_image({str(p)!r}, mode='rgb'); "
            "w = read_window(slide_source(img, 0), 10, 300, 20, 400); "
            "print(w.shape, 'zarr' in sys.modules, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["(290,", "380,", "3)", "False", "False"], out
