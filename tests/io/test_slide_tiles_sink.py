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
