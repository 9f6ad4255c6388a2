"""ClassMapTiles: the class map compressed into its OME-TIFF tiles while the slide is scored."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from blotquant.errors import ParameterError
from blotquant.image import Image
from blotquant.ihc.slide import score_slide
from blotquant.io.slide_writers import ClassMapTiles, write_class_map_ome_tiff
from blotquant.synthetic import make_ihc


def _fill(sink, cm, chunk, skip=()):
    H, W = cm.shape
    k = 0
    for r in range(0, H, chunk):
        for c in range(0, W, chunk):
            if k not in skip:
                sink[r:min(H, r + chunk), c:min(W, c + chunk)] = cm[r:r + chunk, c:c + chunk]
            k += 1


@pytest.mark.parametrize("chunk,compression", [(512, "zlib"), (768, "zlib"), (256, "packbits"),
                                               (1024, "packbits")])
def test_pyramid_equals_the_band_writer(tmp_path, chunk, compression):
    rng = np.random.default_rng(chunk)
    cm = rng.integers(0, 5, (1700, 2300), dtype=np.uint8)
    cm[:600, :900] = 0                                   # unscored area: shared zero tiles
    skip = (1,)                                          # a tile never given stays 0
    c0 = chunk
    cm[0:chunk, c0:min(2300, c0 + chunk)] = 0
    sink = ClassMapTiles(tmp_path, tile=512, min_side=100,
                         compression=compression).configure(cm.shape, chunk)
    _fill(sink, cm, chunk, skip)
    np.testing.assert_array_equal(np.asarray(sink[:]), cm)
    np.testing.assert_array_equal(sink[100:1234, 333:2001], cm[100:1234, 333:2001])
    p = write_class_map_ome_tiff(sink, tmp_path / "a.ome.tif", pixel_size_um=(0.5, 0.5))
    q = write_class_map_ome_tiff(cm, tmp_path / "b.ome.tif", pixel_size_um=(0.5, 0.5),
                                 tile=sink.tile, min_side=100)
    with tifffile.TiffFile(p) as ta, tifffile.TiffFile(q) as tb:
        assert ta.is_ome and ta.pages[0].tilewidth == sink.tile
        la, lb = ta.series[0].levels, tb.series[0].levels
        assert [x.shape for x in la] == [x.shape for x in lb] and len(la) == 5
        for k, (x, y) in enumerate(zip(la, lb)):
            np.testing.assert_array_equal(x.asarray(), cm[::2 ** k, ::2 ** k])
            np.testing.assert_array_equal(x.asarray(), y.asarray())
        assert ta.pages[0].compression.name.lower() in ("adobe_deflate", "packbits")
    # every level read back from the spool (what the CLI's overlay samples)
    for k in range(sink.n_sub + 1):
        np.testing.assert_array_equal(sink.level(k), cm[::2 ** k, ::2 ** k])
    np.testing.assert_array_equal(sink.level_at_least((400, 500)), cm[::4, ::4])
    np.testing.assert_array_equal(sink.level_at_least((5000, 5000)), cm)
    with pytest.raises(ParameterError, match="level 9 does not exist"):
        sink.level(9)
    sink.close()
    assert not list(tmp_path.glob(".blotquant-classes.*"))


def test_misaligned_writes_and_bad_tile_are_refused(tmp_path):
    sink = ClassMapTiles(tmp_path).configure((1000, 1000), 512)
    with pytest.raises(ParameterError):
        sink[10:100, 0:512] = np.zeros((90, 512), np.uint8)
    sink.close()
    with pytest.raises(ParameterError):
        ClassMapTiles(tmp_path, tile=512).configure((1000, 1000), 520)   # gcd 8


def test_score_slide_into_tiles_equals_zarr_class_map(tmp_path):
    s = make_ihc(seed=5, shape=(900, 1100), tissue_fraction=0.5)
    img = Image.from_array(s.image)
    ref = score_slide(img, mode="pixel", tile_size=256, scheduler="sync")
    sink = ClassMapTiles(tmp_path, tile=512, min_side=64)
    got = score_slide(img, mode="pixel", tile_size=256, workers=2, class_map=sink)
    assert got.class_map is sink and sink.tile == 256
    np.testing.assert_array_equal(sink[:], np.asarray(ref.class_map[:]))
    assert got.summary.n[0] == ref.summary.n[0] and got.summary.n[0] > 1000
    with pytest.raises(ParameterError):
        score_slide(img, mode="pixel", tile_size=256, scheduler="processes",
                    class_map=ClassMapTiles(tmp_path))
    sink.close()


def test_pyramid_streamed_while_tiles_arrive_equals_the_band_writer(tmp_path):
    """stream_to: the file is written while tiles come (in any order, from threads);
    tiles never expected stay 0; the result is the same file content as writing after."""
    import threading
    import time

    rng = np.random.default_rng(3)
    cm = rng.integers(0, 5, (1300, 1800), dtype=np.uint8)
    chunk = 512
    origins = [(r, c) for r in range(0, 1300, chunk) for c in range(0, 1800, chunk)]
    skip = {origins[4]}                              # never scored: zeros
    for r, c in skip:
        cm[r:r + chunk, c:c + chunk] = 0
    out = tmp_path / "s.ome.tif"
    sink = ClassMapTiles(tmp_path, tile=256, min_side=100, stream_to=out).configure(cm.shape,
                                                                                   chunk)
    sink.expect([o for o in origins if o not in skip], pixel_size_um=(0.5, 0.5))
    todo = [o for o in origins if o not in skip][::-1]         # last rows first
    first, rest = todo[:2], todo[2:]
    for r, c in first:
        sink[r:r + chunk, c:c + chunk] = cm[r:r + chunk, c:c + chunk]
    time.sleep(0.05)
    assert sink._writer.is_alive()                   # waiting for the first row's tiles
    threads = [threading.Thread(target=sink.__setitem__,
                                args=((slice(r, r + chunk), slice(c, c + chunk)),
                                      cm[r:r + chunk, c:c + chunk])) for r, c in rest]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sink.finish_writing() == out
    with tifffile.TiffFile(out) as t:
        assert t.is_ome and t.pages[0].tilewidth == 256
        levels = t.series[0].levels
        assert len(levels) == sink.n_sub + 1
        for k, lv in enumerate(levels):
            np.testing.assert_array_equal(lv.asarray(), cm[::2 ** k, ::2 ** k])
    sink.close()


def test_stopped_scoring_stops_the_streaming_writer_and_leaves_no_file(tmp_path):
    out = tmp_path / "s.ome.tif"
    sink = ClassMapTiles(tmp_path, tile=256, stream_to=out).configure((1024, 1024), 512)
    sink.expect([(0, 0), (0, 512), (512, 0)])
    sink[0:512, 0:512] = np.ones((512, 512), np.uint8)
    sink.abort()
    with pytest.raises(ParameterError, match="not completed"):
        sink.finish_writing()
    sink.close()
    assert not out.exists() and not list(tmp_path.glob(".blotquant-classes.*"))
    # close() alone stops a writer still waiting
    sink2 = ClassMapTiles(tmp_path, tile=256, stream_to=out).configure((1024, 1024), 512)
    sink2.expect([(0, 0)])
    sink2.close()
    assert not out.exists()


def _scored_in_threads(sink, cm, origins, chunk, order_seed=0):
    """Give the tiles of ``origins`` from threads, in a shuffled order."""
    import threading

    todo = list(origins)
    np.random.default_rng(order_seed).shuffle(todo)
    threads = [threading.Thread(target=sink.__setitem__,
                                args=((slice(r, r + chunk), slice(c, c + chunk)),
                                      cm[r:r + chunk, c:c + chunk])) for r, c in todo]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.parametrize("shape,chunk,tile,low_shape", [
    ((1300, 1800), 512, 256, (325, 450)),      # the overlay samples level 2 as it is
    ((1300, 1800), 512, 256, (300, 417)),      # ... or a level sampled to a smaller shape
    ((2000, 1536), 768, 256, (2000, 1536)),    # level 0 itself; unaligned levels from 1
    ((900, 1000), 256, 256, (1200, 1400)),     # no level that large: level 0, sampled
])
def test_streamed_overlay_and_small_levels_equal_writing_after(tmp_path, shape, chunk, tile,
                                                               low_shape):
    """overlay_to: the overlay PNG painted by the tiles and compressed band by band decodes to
    the pixels write_slide_overlay gives from the finished pyramid; the unaligned levels'
    TIFF tiles, assembled by the tile that completes them, equal the band writer's."""
    import cv2

    from blotquant.io.slide_writers import write_slide_overlay

    rng = np.random.default_rng(sum(shape) + chunk)
    cm = rng.integers(0, 5, shape, dtype=np.uint8)
    cm[: shape[0] // 3, : shape[1] // 2] = 0                  # unscored area
    origins = [(r, c) for r in range(0, shape[0], chunk) for c in range(0, shape[1], chunk)]
    skip = {origins[1]}                                        # never scored: zeros
    for r, c in skip:
        cm[r:r + chunk, c:c + chunk] = 0
    low = rng.integers(0, 256, low_shape + (3,), dtype=np.uint8)
    sink = ClassMapTiles(tmp_path, tile=tile, min_side=40, stream_to=tmp_path / "s.ome.tif",
                         overlay_to=tmp_path / "o.png").configure(shape, chunk)
    assert any(not sink._aligned(k) for k in range(1, sink.n_sub + 1))
    sink.expect([o for o in origins if o not in skip], pixel_size_um=(0.5, 0.5), lowres=low)
    _scored_in_threads(sink, cm, [o for o in origins if o not in skip], chunk)
    assert sink._pending is not None and not any(sink._pending.values())   # all assembled
    p = sink.finish_writing()
    png = sink.finish_overlay()
    ref = write_slide_overlay(low, sink.level_at_least(low_shape), tmp_path / "ref.png")
    a, b = cv2.imread(str(png)), cv2.imread(str(ref))
    assert a is not None and a.shape == low_shape + (3,)
    np.testing.assert_array_equal(a, b)
    assert (a != low[..., ::-1]).any()                         # classes were painted
    with tifffile.TiffFile(p) as t:
        for k, lv in enumerate(t.series[0].levels):
            np.testing.assert_array_equal(lv.asarray(), cm[::2 ** k, ::2 ** k])
    sink.close()
    assert not list(tmp_path.glob(".*.part"))


def test_small_levels_when_an_expected_tile_never_comes(tmp_path):
    """Tiles announced but never given (scoring ended early): the small levels' TIFF tiles
    waiting for them are assembled at writing from the tiles that came."""
    rng = np.random.default_rng(1)
    cm = rng.integers(0, 5, (1024, 1024), dtype=np.uint8)
    sink = ClassMapTiles(tmp_path, tile=256, min_side=40).configure(cm.shape, 256)
    origins = [(r, c) for r in range(0, 1024, 256) for c in range(0, 1024, 256)]
    sink.expect(origins)
    missing = origins[5]
    cm[missing[0]:missing[0] + 256, missing[1]:missing[1] + 256] = 0
    _scored_in_threads(sink, cm, [o for o in origins if o != missing], 256)
    sink.done()
    p = write_class_map_ome_tiff(sink, tmp_path / "a.ome.tif")
    with tifffile.TiffFile(p) as t:
        for k, lv in enumerate(t.series[0].levels):
            np.testing.assert_array_equal(lv.asarray(), cm[::2 ** k, ::2 ** k])
    sink.close()


def test_stopped_scoring_stops_the_overlay_and_leaves_no_png(tmp_path):
    out = tmp_path / "o.png"
    sink = ClassMapTiles(tmp_path, tile=256, overlay_to=out).configure((1024, 1024), 512)
    sink.expect([(0, 0), (512, 0)], lowres=np.zeros((256, 256, 3), np.uint8))
    sink[0:512, 0:512] = np.ones((512, 512), np.uint8)
    sink.abort()
    with pytest.raises(ParameterError, match="not completed"):
        sink.finish_overlay()
    sink.close()
    assert not out.exists() and not list(tmp_path.glob(".*.part"))
    # without lowres nothing is streamed: the caller writes the overlay itself
    sink2 = ClassMapTiles(tmp_path, tile=256, overlay_to=out).configure((1024, 1024), 512)
    sink2.expect([(0, 0)])
    assert sink2.finish_overlay() is None
    sink2.close()
