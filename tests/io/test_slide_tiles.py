"""Stored-tile reading (blotquant.io._slide_tiles): parts equal to the assembled window."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from blotquant.io._slide_tiles import TileSource, iter_window, read_window
from blotquant.synthetic import make_ihc


@pytest.fixture(scope="module")
def tiled(tmp_path_factory):
    a = make_ihc(seed=2, shape=(700, 900), tissue_fraction=0.6).image
    p = tmp_path_factory.mktemp("tiles") / "t.tif"
    tifffile.imwrite(p, a, tile=(128, 128), compression="jpeg", photometric="rgb")
    with tifffile.TiffFile(p) as t:
        shape = t.pages[0].shape[:2]
    return TileSource("tiff", str(p), 0, tuple(shape)), a


@pytest.mark.parametrize("win", [(0, 700, 0, 900), (128, 512, 256, 640), (50, 333, 77, 899),
                                 (640, 700, 896, 900)])
def test_parts_cover_the_window_once_with_its_pixels(tiled, win):
    src, _ = tiled
    ref = read_window(src, *win)
    got = np.zeros_like(ref)
    seen = np.zeros(ref.shape[:2], np.int32)
    n = 0
    for y, x, h, w, px in iter_window(src, *win):
        assert px.shape == (h, w, 3) and px.dtype == np.uint8
        got[y:y + h, x:x + w] = px
        seen[y:y + h, x:x + w] += 1
        n += 1
    assert (seen == 1).all()
    np.testing.assert_array_equal(got, ref)
    assert n > 1 or ref.shape[0] * ref.shape[1] <= 128 * 128


def test_unwanted_stored_tiles_are_not_decoded(tiled, monkeypatch):
    from blotquant.io import _slide_tiles as T

    src, _ = tiled
    lv = T._open_level(src)
    calls = []
    orig = lv.decode
    monkeypatch.setattr(lv, "decode", lambda *a, **k: (calls.append(a[1]), orig(*a, **k))[1])
    parts = list(iter_window(src, 0, 700, 0, 900, want=lambda ya, yb, xa, xb: xa >= 384))
    skipped = [p for p in parts if p[4] is None]
    assert skipped and all(p[1] < 384 for p in skipped)
    assert len(calls) == len(parts) - len(skipped)
    ref = read_window(src, 0, 700, 0, 900)
    for y, x, h, w, px in parts:
        if px is not None:
            np.testing.assert_array_equal(px, ref[y:y + h, x:x + w])


def test_arrays_give_one_part_and_honour_want():
    a = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)
    src = TileSource.from_array(a)
    (y, x, h, w, px), = iter_window(src, 1, 4, 2, 9)
    assert (y, x, h, w) == (0, 0, 3, 5)
    np.testing.assert_array_equal(px, a[1:4, 2:7])
    (part,) = iter_window(src, 0, 5, 0, 7, want=lambda *w: False)
    assert part == (0, 0, 5, 7, None)
