"""The compiled PackBits encoder of class-map tiles (``blotquant.ihc._pixelc.packbits``)."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
import tifffile

from blotquant.ihc.pixels import compiled_kernel
from blotquant.io.slide_writers import ClassMapTiles, packbits_encoder, write_class_map_ome_tiff

_C = compiled_kernel()
needs_c = pytest.mark.skipif(_C is None, reason="the C extension is not built")


def _rows(data: bytes, cols: int) -> list[bytes]:
    """Parse a PackBits stream by the TIFF 6.0 rules, checking every code and that no run
    crosses a row end; the decoded rows."""
    rows, row, i = [], bytearray(), 0
    while i < len(data):
        n = data[i]
        i += 1
        assert n != 128, "the -128 code is not written"
        if n < 128:                                   # literal of n + 1 bytes (1-128)
            lit = data[i:i + n + 1]
            assert len(lit) == n + 1
            row += lit
            i += n + 1
        else:                                         # repeat of 257 - n (2-128)
            row += bytes([data[i]]) * (257 - n)
            i += 1
        assert len(row) <= cols, "a run crosses the end of a row"
        if len(row) == cols:
            rows.append(bytes(row))
            row = bytearray()
    assert not row
    return rows


def _tiles():
    rng = np.random.default_rng(12)
    runny = np.repeat(rng.integers(0, 5, (40, 9)), rng.integers(1, 300, 9), axis=1)
    yield "zeros", np.zeros((512, 512), np.uint8)
    yield "one value", np.full((64, 512), 3, np.uint8)
    yield "random 5", rng.integers(0, 5, (97, 301)).astype(np.uint8)
    yield "random 256", rng.integers(0, 256, (33, 1000)).astype(np.uint8)
    yield "runny", runny.astype(np.uint8)
    yield "alternating", np.tile(np.array([1, 2], np.uint8), (7, 129))
    yield "aab", np.tile(np.array([1, 1, 2], np.uint8), (5, 100))
    for n in (1, 2, 3, 127, 128, 129, 130, 256, 257, 258):
        yield f"run {n}", np.full((3, n), 4, np.uint8)
        yield f"literal {n}", (np.arange(3 * n).reshape(3, n) % 251).astype(np.uint8)
    yield "width 1", rng.integers(0, 5, (50, 1)).astype(np.uint8)
    yield "one row", rng.integers(0, 2, (1, 777)).astype(np.uint8)
    yield "run then single", np.array([[7] * 129 + [1]], np.uint8)


@needs_c
@pytest.mark.parametrize("name,tile", list(_tiles()), ids=[n for n, _ in _tiles()])
def test_round_trip_and_valid_codes(name, tile):
    enc = _C.packbits(tile)
    assert bytes(imagecodecs.packbits_decode(enc)) == tile.tobytes()
    rows = _rows(enc, tile.shape[1])
    assert rows == [r.tobytes() for r in tile]
    # never longer than imagecodecs' encoding (the same literal/repeat choices or better)
    assert len(enc) <= len(imagecodecs.packbits_encode(tile))


@needs_c
def test_known_bytes_and_sizes():
    # 300 zeros: repeats of 128, 128, 44 -> 0x81 0x00, 0x81 0x00, 0xd5 0x00 per row
    assert _C.packbits(np.zeros((2, 300), np.uint8)) == bytes.fromhex("81008100d500") * 2
    assert _C.packbits(np.array([[5, 6, 7]], np.uint8)) == bytes([2, 5, 6, 7])
    assert _C.packbits(np.array([[9, 9]], np.uint8)) == bytes([255, 9])
    assert _C.packbits(np.array([[1]], np.uint8)) == bytes([0, 1])
    # a pair inside a literal stays literal; three equal bytes end it
    assert _C.packbits(np.array([[1, 2, 2, 3, 4, 4, 4]], np.uint8)) == bytes([3, 1, 2, 2, 3,
                                                                             254, 4])
    # a 129 run: a repeat of 128 and a literal of the last byte
    assert _C.packbits(np.full((1, 129), 8, np.uint8)) == bytes([129, 8, 0, 8])


@needs_c
def test_empty_strided_and_errors():
    assert _C.packbits(np.zeros((0, 0), np.uint8)) == b""
    assert _C.packbits(np.zeros((0, 512), np.uint8)) == b""
    assert _C.packbits(np.zeros((5, 0), np.uint8)) == b""
    big = np.random.default_rng(1).integers(0, 3, (64, 1024)).astype(np.uint8)
    view = big[::3, 100:612]                           # row stride 3072, columns contiguous
    assert _C.packbits(view) == _C.packbits(np.ascontiguousarray(view))
    assert _C.packbits(big[0]) == _C.packbits(big[:1])  # 1-D: one row
    with pytest.raises(ValueError, match="contiguous"):
        _C.packbits(big[:, ::2])
    with pytest.raises(ValueError, match="uint8"):
        _C.packbits(np.zeros((4, 4), np.uint16))
    with pytest.raises(TypeError, match="buffer"):
        _C.packbits([1, 2, 3])


def test_encoder_choice(monkeypatch):
    if _C is not None:
        assert packbits_encoder() is _C.packbits
    monkeypatch.setenv("BLOTQUANT_PURE_PYTHON", "1")
    assert packbits_encoder() is imagecodecs.packbits_encode


def _class_map(shape, seed):
    import cv2

    rng = np.random.default_rng(seed)
    n = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 5)
    cm = np.digitize(n, np.quantile(n, [0.3, 0.55, 0.75, 0.9])).astype(np.uint8)
    cm[:300, :400] = 0
    return cm


@pytest.mark.parametrize("pure", ["0", "1"])
def test_class_map_ome_tiff_reads_back(tmp_path, monkeypatch, pure):
    monkeypatch.setenv("BLOTQUANT_PURE_PYTHON", pure)
    cm = _class_map((1500, 2100), 3)
    chunk = 512
    sink = ClassMapTiles(tmp_path, tile=256, min_side=100).configure(cm.shape, chunk)
    for r in range(0, cm.shape[0], chunk):
        for c in range(0, cm.shape[1], chunk):
            sink[r:r + chunk, c:c + chunk] = cm[r:r + chunk, c:c + chunk]
    p = write_class_map_ome_tiff(sink, tmp_path / "c.ome.tif", pixel_size_um=(0.5, 0.5))
    sink.close()
    q = write_class_map_ome_tiff(cm, tmp_path / "d.ome.tif", pixel_size_um=(0.5, 0.5),
                                 tile=256, min_side=100)
    for path in (p, q):
        with tifffile.TiffFile(path) as t:
            assert t.pages[0].compression.name.lower() == "packbits"
            levels = t.series[0].levels
            assert len(levels) == 5                # 2100 px down to 131
            for k, lv in enumerate(levels):
                np.testing.assert_array_equal(lv.asarray(), cm[::2 ** k, ::2 ** k])
