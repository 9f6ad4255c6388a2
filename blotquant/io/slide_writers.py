"""Writers of whole-slide results: class-map pyramid (OME-TIFF), overlay PNG, cell Parquet.

Every writer writes to a temporary name beside the target and renames it at
the end, so an interrupted run leaves no partial file under the real name.

- :func:`write_class_map_ome_tiff` -- the uint8 class map (0 unscored,
  1 negative, 2 1+, 3 2+, 4 3+) as a tiled, pyramidal OME-TIFF (sub-resolution
  levels in SubIFDs, each half the size of the previous, nearest-neighbour so
  codes stay codes), written tile by tile: the level is never in memory.
  napari (``blotquant`` reader or ``tifffile``) and QuPath (Bio-Formats) open it;
  add it in napari as a Labels layer over the slide, scaled by the scored
  level's downsample.
- :func:`class_map_thumbnail` / :func:`write_slide_overlay` -- a low-resolution
  PNG of class colours over the slide.
- :func:`write_cells_parquet` -- the cell table (level-0 coordinates).

Examples
--------
>>> import os, tempfile, numpy as np, tifffile
>>> cm = np.zeros((600, 700), np.uint8); cm[100:300, 200:500] = 3
>>> p = write_class_map_ome_tiff(cm, os.path.join(tempfile.mkdtemp(), "c.ome.tif"),
...                              pixel_size_um=(0.5, 0.5), tile=256, min_side=128)
>>> with tifffile.TiffFile(p) as t:
...     [lv.shape for lv in t.series[0].levels], bool(t.is_ome)
([(600, 700), (300, 350), (150, 175)], True)
"""

from __future__ import annotations

import math
import os
import struct
import threading
import zlib
from pathlib import Path

import cv2
import numpy as np

from ..errors import ParameterError
from ..tables import atomic_path

__all__ = ["write_class_map_ome_tiff", "class_map_thumbnail", "write_slide_overlay",
           "write_cells_parquet", "CLASS_MAP_COMPRESSION", "ClassMapTiles", "packbits_encoder"]

#: Compression of class-map tiles: PackBits, the run-length code of baseline TIFF 6.0
#: (every TIFF reader: Bio-Formats/QuPath, tifffile/napari, ImageJ), 2.5x faster to
#: encode than deflate level 1 on class maps and ~1.6x larger ("zlib" for deflate).
CLASS_MAP_COMPRESSION = "packbits"


def packbits_encoder():
    """The PackBits encoder of class-map tiles: the compiled one, or imagecodecs'.

    The compiled encoder (``packbits`` in the pixel-kernel extension
    ``blotquant.ihc._pixelc``, GIL released, runs measured eight bytes at a
    time) is used when the extension is built and ``BLOTQUANT_PURE_PYTHON`` is
    not ``1``; otherwise ``imagecodecs.packbits_encode``.  Both write valid TIFF
    PackBits row by row; their bytes may differ, the decoded pixels do not.

    Returns
    -------
    callable
        ``encode(tile) -> bytes`` for uint8 (rows, cols) tiles whose columns are
        contiguous.

    Examples
    --------
    >>> import imagecodecs, numpy as np
    >>> t = np.repeat(np.array([[0, 3, 3, 1]], np.uint8), 200, axis=1)
    >>> bytes(imagecodecs.packbits_decode(packbits_encoder()(t))) == t.tobytes()
    True
    """
    from ..ihc.pixels import compiled_kernel

    ext = compiled_kernel()        # None: not built, or BLOTQUANT_PURE_PYTHON=1
    if ext is not None:
        return ext.packbits
    import imagecodecs

    return imagecodecs.packbits_encode


def _encoder(compression):
    """Tile encoder for pre-compressed tiles (libdeflate level 1, PackBits), or None:
    tifffile encodes."""
    if compression in ("zlib", "adobe_deflate"):
        import imagecodecs

        return lambda t: imagecodecs.deflate_encode(t, level=1)
    if compression == "packbits":
        return packbits_encoder()
    return None


def _decoder(compression):
    import imagecodecs

    if compression in ("zlib", "adobe_deflate"):
        return imagecodecs.deflate_decode
    if compression == "packbits":
        return imagecodecs.packbits_decode
    raise ParameterError(f"class-map tiles support compression 'zlib' or 'packbits', "
                         f"got {compression!r}")


def _n_sub(shape, min_side):
    n = 0
    while max(shape) / 2 ** (n + 1) >= min_side:
        n += 1
    return n


class ClassMapTiles:
    """A class map kept as the compressed tiles of its OME-TIFF pyramid (a ``score_slide`` sink).

    ``score_slide(..., class_map=ClassMapTiles(folder))`` hands each scored
    tile to :meth:`__setitem__` in the worker thread that made it, which
    cuts it into the TIFF tiles of every pyramid level (nearest neighbour,
    ``level_k = level_0[::2**k, ::2**k]``, as :func:`write_class_map_ome_tiff`),
    compresses them and appends the bytes to a spool file in ``directory``.
    Compression thus runs in parallel with, and spread over, the tile work,
    memory stays bounded (the spool is on disk), and
    :func:`write_class_map_ome_tiff` only copies the finished tiles into the
    file.  Tiles never given are unscored (0).  Levels whose tiles a scored
    tile does not cover whole (the smallest ones) are assembled at writing.

    Reading ``tiles[r0:r1, c0:c1]`` decodes level 0 (tests, small slides).

    Parameters
    ----------
    directory : path or None
        Where the spool file goes (default: the system's temporary folder).
    tile : int
        TIFF tile edge (multiple of 16); reduced to divide the scoring tile.
    min_side : int
        Sub-resolution levels are added while the longer side exceeds this.
    compression : {"zlib", "packbits"}
        PackBits (default) or deflate (libdeflate level 1); both read by Bio-Formats
        (QuPath), tifffile (napari) and ImageJ.
    stream_to : path, optional
        Write the OME-TIFF pyramid to this file while the slide is scored: level
        0 row by row as the scoring tiles under it arrive, the smaller levels once
        all are in (``score_slide`` tells the sink which tiles will come, see
        :meth:`expect`); :meth:`finish_writing` returns the path.

    Examples
    --------
    >>> import numpy as np
    >>> t = ClassMapTiles(tile=64, min_side=32).configure((100, 150), 128)
    >>> t[0:100, 128:150] = np.full((100, 22), 3, np.uint8)
    >>> t[:][50, 140], t[:][50, 10], t.level_shapes
    (np.uint8(3), np.uint8(0), [(100, 150), (50, 75), (25, 38)])
    >>> t.close()
    """

    dtype = np.dtype(np.uint8)
    ndim = 2

    def __init__(self, directory=None, *, tile: int = 512, min_side: int = 256,
                 compression: str = CLASS_MAP_COMPRESSION, stream_to=None, overlay_to=None):
        self.stream_to = None if stream_to is None else Path(stream_to)
        self.overlay_to = None if overlay_to is None else Path(overlay_to)
        self._overlay = None
        self.directory = None if directory is None else str(directory)
        self._tile_req = int(tile)
        self.min_side = int(min_side)
        self.compression = compression
        self._encode = _encoder(compression)
        self._decode = _decoder(compression)
        self.shape = None
        self._fd = None
        self._cond = threading.Condition()
        self._expected = None       # scoring-tile origins still to come (None: not told)
        self._aborted = False
        self._writer = None

    def configure(self, shape, chunk: int) -> "ClassMapTiles":
        """Set the level-0 shape and the scoring tile edge ``chunk``; open the spool."""
        import tempfile
        import threading

        H, W = (int(s) for s in shape)
        chunk = int(chunk)
        tt = math.gcd(chunk, self._tile_req)
        if tt % 16:
            raise ParameterError(f"the class-map TIFF tile ({tt} px, the common divisor of the "
                                 f"scoring tile {chunk} and {self._tile_req}) must be a "
                                 "multiple of 16: use a tile size that is a multiple of 16")
        self.tile, self.chunk = tt, chunk
        self.shape, self.chunks = (H, W), (chunk, chunk)
        self.n_sub = _n_sub((H, W), self.min_side)
        self.level_shapes = [(math.ceil(H / 2 ** k), math.ceil(W / 2 ** k))
                             for k in range(self.n_sub + 1)]
        self.close()
        self._fd, self._path = tempfile.mkstemp(prefix=".blotquant-classes.", suffix=".part",
                                                dir=self.directory)
        self._pos = 0
        self._lock = threading.Lock()
        self._tiles: dict = {}      # (level, ti, tj) -> (offset, nbytes)
        self._blocks: dict = {}     # level -> list of (r, c, h, w, offset, nbytes)
        self._zero = self._encode(np.zeros((tt, tt), np.uint8))
        self._expected, self._aborted = None, False
        # (level, ti, tj) of unaligned levels -> scoring tiles still to come (None:
        # not tracked, those levels are assembled at writing)
        self._pending: dict | None = None
        self._members: dict = {}    # (level, ti, tj) -> blocks given that overlap it
        self._overlay = None
        return self

    # -- streaming: the pyramid file written while the tiles arrive
    def expect(self, origins, *, pixel_size_um=None, lowres=None) -> None:
        """The (row, col) origins of the scoring tiles that will be given (all others
        stay unscored), so that :meth:`encoded_level` can yield each TIFF tile as
        soon as the scoring tile under it is done instead of after the last one, and
        the TIFF tiles of the small levels are assembled by the tile that completes
        them.  With ``stream_to``, this starts :meth:`write_in_background`
        (``pixel_size_um`` of the scored level goes into the OME metadata); with
        ``overlay_to`` and ``lowres`` (uint8 RGB, a low-resolution image of the
        whole scored level), the overlay PNG of :func:`write_slide_overlay` is
        blended and compressed as the tiles arrive (:meth:`finish_overlay`)."""
        expected = {(int(r), int(c)) for r, c in origins}
        pending: dict = {}
        H, W = self.shape
        for r, c in expected:              # the unaligned levels' TIFF tiles under each
            for key in self._unaligned_tiles(r, c, min(self.chunk, H - r),
                                             min(self.chunk, W - c)):
                pending[key] = pending.get(key, 0) + 1
        with self._cond:
            self._expected = expected
            self._pending = pending
            self._cond.notify_all()
        if self.stream_to is not None and self._writer is None:
            self.write_in_background(self.stream_to, pixel_size_um=pixel_size_um)
        if self.overlay_to is not None and lowres is not None and self._overlay is None:
            self._overlay = _OverlayStream(self, lowres, self.overlay_to)

    def _wait(self, pred):
        with self._cond:
            while not (self._aborted or pred()):
                self._cond.wait()
            if self._aborted:
                raise ParameterError("the class map was not completed (scoring stopped)")

    def _wait_for(self, r0, r1, c0, c1):
        """Block until no expected scoring tile overlaps rows r0:r1, cols c0:c1 of level 0."""
        if self._expected is None:
            return
        ch = self.chunk
        need = [(r, c) for r in range(r0 // ch * ch, r1, ch) for c in range(c0 // ch * ch, c1, ch)]
        self._wait(lambda: not any(k in self._expected for k in need))

    def abort(self) -> None:
        """Stop waiting for tiles (scoring failed or was interrupted): a writer
        streaming the pyramid stops with an error."""
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def write_in_background(self, path, *, pixel_size_um=None,
                            name: str = "blotquant classes") -> None:
        """Start writing the OME-TIFF pyramid to ``path`` in a thread, level 0 as the
        scoring tiles arrive (after :meth:`expect`; the levels below once all are
        in).  :meth:`finish_writing` waits for it and returns the path."""
        def run():
            try:
                self._written = _write_tiles(self, Path(path), pixel_size_um=pixel_size_um,
                                             name=name)
            except BaseException as err:          # reported by finish_writing
                self._write_error = err

        self._written, self._write_error = None, None
        self._writer = threading.Thread(target=run, name="blotquant-classmap", daemon=True)
        self._writer.start()

    def finish_writing(self) -> Path:
        """Wait for :meth:`write_in_background`; the written path.

        Raises
        ------
        ParameterError
            The pyramid could not be completed (scoring stopped), or what the writer raised.
        """
        self.done()
        self._writer.join()
        self._writer = None
        if self._write_error is not None:
            raise self._write_error
        return self._written

    def finish_overlay(self):
        """Wait for the overlay PNG streamed since :meth:`expect` (``overlay_to``); its
        path, or None when no overlay was streamed (no ``overlay_to`` or ``lowres``).

        Raises
        ------
        ParameterError
            The overlay could not be completed (scoring stopped), or what its writer raised.
        """
        if self._overlay is None:
            return None
        self.done()
        ov, self._overlay = self._overlay, None
        return ov.finish()

    def done(self) -> None:
        """Every scoring tile has been given (the tiles still expected are unscored)."""
        with self._cond:
            self._expected = set()
            self._cond.notify_all()

    # -- spool
    def _put(self, data: bytes):
        with self._lock:
            off = self._pos
            self._pos += len(data)
        os.pwrite(self._fd, data, off)
        return off, len(data)

    def _get(self, ref) -> bytes:
        return os.pread(self._fd, ref[1], ref[0])

    def _aligned(self, k) -> bool:
        f = 2 ** k
        return self.chunk % f == 0 and (self.chunk // f) % self.tile == 0

    def _block_geometry(self, k, r0, c0, h, w):
        """Level-``k`` block (row, col, rows, cols) of the scoring tile at ``r0, c0``
        of ``h x w`` level-0 pixels (``level_k = level_0[::2**k, ::2**k]``)."""
        f = 2 ** k
        orow, ocol = (-r0) % f, (-c0) % f
        return ((r0 + orow) // f, (c0 + ocol) // f, max(0, -(-(h - orow) // f)),
                max(0, -(-(w - ocol) // f)))

    def _level_tiles_under(self, k, r0, c0, h, w):
        """The (k, ti, tj) TIFF tiles of level ``k`` that the scoring tile at ``r0, c0``
        (``h x w`` level-0 pixels) has pixels of."""
        tt = self.tile
        lr, lc, bh, bw = self._block_geometry(k, r0, c0, h, w)
        if not (bh and bw):
            return []
        return [(k, i, j) for i in range(lr // tt, (lr + bh - 1) // tt + 1)
                for j in range(lc // tt, (lc + bw - 1) // tt + 1)]

    def _unaligned_tiles(self, r0, c0, h, w):
        """:meth:`_level_tiles_under` of every unaligned level."""
        return [key for k in range(1, self.n_sub + 1) if not self._aligned(k)
                for key in self._level_tiles_under(k, r0, c0, h, w)]

    def _assemble_tile(self, key, blocks) -> None:
        """Cut the TIFF tile ``key`` of an unaligned level from its blocks, compress it
        and keep it with the others (unscored: the shared zero tile)."""
        k, i, j = key
        tt = self.tile
        a, c = i * tt, j * tt
        t = np.zeros((tt, tt), np.uint8)
        for (r, cc, bh, bw, off, n) in blocks:
            y0, y1 = max(a, r), min(a + tt, r + bh)
            x0, x1 = max(c, cc), min(c + tt, cc + bw)
            if y0 < y1 and x0 < x1:
                blk = np.frombuffer(self._decode(os.pread(self._fd, n, off)),
                                    np.uint8).reshape(bh, bw)
                t[y0 - a:y1 - a, x0 - c:x1 - c] = blk[y0 - r:y1 - r, x0 - cc:x1 - cc]
        if cv2.countNonZero(t):
            ref = self._put(self._encode(t))
            with self._lock:
                self._tiles[key] = ref

    # -- array protocol
    def __setitem__(self, key, value):
        if self.shape is None:
            raise ParameterError("ClassMapTiles.configure(shape, chunk) first")
        rs, cs = key
        r0, c0 = int(rs.start or 0), int(cs.start or 0)
        v = np.asarray(value, np.uint8)
        if r0 % self.chunk or c0 % self.chunk or v.ndim != 2:
            raise ParameterError("ClassMapTiles takes whole scoring tiles at multiples of "
                                 f"{self.chunk} px")
        tt = self.tile
        for k in range(self.n_sub + 1):
            f = 2 ** k
            orow, ocol = (-r0) % f, (-c0) % f
            blk = v[orow::f, ocol::f]
            lr, lc = (r0 + orow) // f, (c0 + ocol) // f
            if not blk.size:
                continue
            if self._aligned(k):
                for i in range(0, blk.shape[0], tt):
                    for j in range(0, blk.shape[1], tt):
                        t = blk[i:i + tt, j:j + tt]
                        if t.strides[1] != 1:   # a sub-level: its pixels gathered once
                            t = np.ascontiguousarray(t)
                        if not cv2.countNonZero(t):
                            continue            # unscored: the shared zero tile
                        if t.shape != (tt, tt):
                            pad = np.zeros((tt, tt), np.uint8)
                            pad[:t.shape[0], :t.shape[1]] = t
                            t = pad
                        ref = self._put(self._encode(np.ascontiguousarray(t)))
                        self._tiles[(k, (lr + i) // tt, (lc + j) // tt)] = ref
            else:
                entry = None
                if cv2.countNonZero(blk := np.ascontiguousarray(blk)):
                    entry = (lr, lc) + blk.shape + self._put(self._encode(blk))
                ready = []
                with self._lock:
                    if entry is not None:
                        self._blocks.setdefault(k, []).append(entry)
                    if self._expected is not None and (r0, c0) not in self._expected:
                        self._pending = None        # not announced: assembled at writing
                    for tk in self._level_tiles_under(k, r0, c0, *v.shape):
                        if entry is not None:
                            self._members.setdefault(tk, []).append(entry)
                        left = None if self._pending is None else self._pending.get(tk)
                        if left is not None:
                            self._pending[tk] = left - 1
                            if left == 1:           # this tile completes that TIFF tile
                                ready.append(tk)
                for tk in ready:
                    self._assemble_tile(tk, self._members.pop(tk, ()))
        if self._overlay is not None:
            self._overlay.paint(r0, c0, v)
        if self._expected is not None:
            with self._cond:
                self._expected.discard((r0, c0))
                self._cond.notify_all()

    def _tile(self, k, i, j) -> np.ndarray:
        ref = self._tiles.get((k, i, j))
        if ref is None:
            return np.zeros((self.tile, self.tile), np.uint8)
        return np.frombuffer(self._decode(self._get(ref)), np.uint8).reshape(self.tile,
                                                                             self.tile)

    def __getitem__(self, key) -> np.ndarray:
        if key is Ellipsis or (isinstance(key, slice) and key == slice(None)):
            key = (slice(None), slice(None))
        if not isinstance(key, tuple):
            key = (key, slice(None))
        rs, cs = key
        H, W = self.shape
        r0, r1, sr = rs.indices(H)
        c0, c1, sc = cs.indices(W)
        out = np.zeros((max(0, r1 - r0), max(0, c1 - c0)), np.uint8)
        tt = self.tile
        for i in range(r0 // tt, (max(r1, r0 + 1) - 1) // tt + 1):
            for j in range(c0 // tt, (max(c1, c0 + 1) - 1) // tt + 1):
                if (0, i, j) not in self._tiles:
                    continue
                t = self._tile(0, i, j)
                a, b = max(r0, i * tt), min(r1, (i + 1) * tt)
                c, d = max(c0, j * tt), min(c1, (j + 1) * tt)
                out[a - r0:b - r0, c - c0:d - c0] = t[a - i * tt:b - i * tt, c - j * tt:d - j * tt]
        return out[::sr, ::sc]

    def level(self, k: int) -> np.ndarray:
        """Level ``k`` of the pyramid as an array (decoded from the spool).

        Parameters
        ----------
        k : int
            0 (the scored level) .. ``n_sub``.

        Returns
        -------
        uint8 ndarray of shape ``level_shapes[k]``
        """
        if self.shape is None or not 0 <= k <= self.n_sub:
            raise ParameterError(f"class-map level {k} does not exist (0..{self.n_sub})")
        h, w = self.level_shapes[k]
        out = np.zeros((h, w), np.uint8)
        tt = self.tile
        if self._aligned(k):
            for (kk, i, j), ref in list(self._tiles.items()):
                if kk == k:
                    t = np.frombuffer(self._decode(self._get(ref)), np.uint8).reshape(tt, tt)
                    a, c = i * tt, j * tt
                    out[a:a + tt, c:c + tt] = t[:min(tt, h - a), :min(tt, w - c)]
            return out
        for (r, c, bh, bw, off, n) in self._blocks.get(k, []):
            out[r:r + bh, c:c + bw] = np.frombuffer(self._decode(os.pread(self._fd, n, off)),
                                                   np.uint8).reshape(bh, bw)
        return out

    def level_index_at_least(self, shape) -> int:
        """Index of the smallest pyramid level at least ``shape`` (rows, cols); 0 if none."""
        pick = 0
        for k, (h, w) in enumerate(self.level_shapes):
            if h >= shape[0] and w >= shape[1]:
                pick = k
        return pick

    def level_at_least(self, shape) -> np.ndarray:
        """The smallest pyramid level at least ``shape`` (rows, cols), as an array
        (level 0 if none is smaller): what an overlay of that size samples."""
        return self.level(self.level_index_at_least(shape))

    def __array__(self, dtype=None, copy=None):
        a = self[:]
        return a if dtype is None else a.astype(dtype)

    # -- writing
    def encoded_level(self, k: int):
        """The compressed TIFF tiles of level ``k``, row-major (an iterator of bytes)."""
        h, w = self.level_shapes[k]
        tt = self.tile
        ny, nx = math.ceil(h / tt), math.ceil(w / tt)
        if k == 0:          # each row of TIFF tiles once the scoring tiles under it are in
            for i in range(ny):
                self._wait_for(i * tt, min(h, (i + 1) * tt), 0, w)
                for j in range(nx):
                    ref = self._tiles.get((0, i, j))
                    yield self._zero if ref is None else self._get(ref)
            return
        if self._expected is not None:                 # the other levels: all tiles in
            self._wait(lambda: not self._expected)
        if not self._aligned(k) and self._pending is not None:
            # assembled by the tiles that completed them; those still waiting for a
            # tile that never came now (scoring ended): from the blocks given
            with self._lock:
                late = [key for key, left in self._pending.items() if key[0] == k and left > 0]
                for key in late:
                    del self._pending[key]
                blocks = [self._members.pop(key, ()) for key in late]
            for key, blk in zip(late, blocks):
                self._assemble_tile(key, blk)
        if self._aligned(k) or self._pending is not None:
            for i in range(ny):
                for j in range(nx):
                    ref = self._tiles.get((k, i, j))
                    yield self._zero if ref is None else self._get(ref)
            return
        blocks = self._blocks.get(k, [])
        for i in range(ny):
            a, b = i * tt, (i + 1) * tt
            band = np.zeros((tt, nx * tt), np.uint8)
            for (r, c, bh, bw, off, n) in blocks:
                if r < b and r + bh > a:
                    blk = np.frombuffer(self._decode(os.pread(self._fd, n, off)),
                                        np.uint8).reshape(bh, bw)
                    y0, y1 = max(a, r), min(b, r + bh)
                    band[y0 - a:y1 - a, c:c + bw] = blk[y0 - r:y1 - r]
            for j in range(nx):
                t = band[:, j * tt:(j + 1) * tt]
                yield self._encode(np.ascontiguousarray(t)) if t.any() else self._zero

    def close(self):
        """Remove the spool file (the tiles are gone afterwards); a writer still
        running is stopped first."""
        w = getattr(self, "_writer", None)
        ov = getattr(self, "_overlay", None)
        if w is not None or ov is not None:
            self.abort()
        if w is not None:
            w.join()
            self._writer = None
        if ov is not None:
            ov.stop()
            self._overlay = None
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)
            try:
                os.unlink(self._path)
            except OSError:  # pragma: no cover
                pass
            self._fd = None

    def __del__(self):  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)) & 0xFFFFFFFF))


class _OverlayStream:
    """The overlay PNG of :func:`write_slide_overlay` made while a slide is scored.

    Each scoring tile given to the :class:`ClassMapTiles` paints its pixels of
    the overlay (the class map sampled as :func:`write_slide_overlay` samples
    the pyramid level of :meth:`ClassMapTiles.level_at_least`, blended by
    :func:`~blotquant.report.ihc_overlay.class_overlay`, a pixel-wise rule);
    a thread compresses each band of overlay rows into the PNG (8-bit RGB,
    "Up" filter, deflate level 1) once the scoring tiles above it are in, so
    that only the last band is left when the last tile is done.
    """

    def __init__(self, cm: "ClassMapTiles", rgb, path):
        from ..report.ihc_overlay import class_overlay

        self.cm, self.path = cm, Path(path)
        self._blend = class_overlay
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
            raise ParameterError(f"an overlay needs a uint8 RGB image, got {rgb.dtype} "
                                 f"{rgb.shape}")
        self.rgb = np.ascontiguousarray(rgb[..., :3])
        self.out = self.rgb.copy()
        h, w = self.rgb.shape[:2]
        k = cm.level_index_at_least((h, w))
        hk, wk = cm.level_shapes[k]
        f = 2 ** k

        def index(n, nk):          # class_map_thumbnail's nearest sampling, then level k
            if n == nk:
                return np.arange(n, dtype=np.intp) * f
            return np.minimum(((np.arange(n) + 0.5) * nk / n).astype(np.intp), nk - 1) * f

        sampled = (hk, wk) != (h, w)
        self.rows = index(h, hk) if sampled else np.arange(h, dtype=np.intp) * f
        self.cols = index(w, wk) if sampled else np.arange(w, dtype=np.intp) * f
        self.error = None
        self.thread = threading.Thread(target=self._run, name="blotquant-overlay", daemon=True)
        self.thread.start()

    def paint(self, r0: int, c0: int, v: np.ndarray) -> None:
        """The overlay pixels of the scoring tile ``v`` at level-0 ``r0, c0`` (any thread)."""
        ya, yb = np.searchsorted(self.rows, [r0, r0 + v.shape[0]])
        xa, xb = np.searchsorted(self.cols, [c0, c0 + v.shape[1]])
        if ya == yb or xa == xb:
            return
        cls = v.take(self.rows[ya:yb] - r0, axis=0).take(self.cols[xa:xb] - c0, axis=1)
        if cv2.countNonZero(cls):
            self.out[ya:yb, xa:xb] = self._blend(self.rgb[ya:yb, xa:xb], cls)

    def _run(self):
        try:
            self._write()
        except BaseException as err:            # reported by finish
            self.error = err

    def _write(self):
        cm = self.cm
        h, w = self.out.shape[:2]
        H, W = cm.shape
        comp = zlib.compressobj(1)
        prev = np.zeros((1, 3 * w), np.uint8)
        with atomic_path(self.path) as tmp, open(tmp, "wb") as fh:
            fh.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(
                ">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
            for r in range(0, H, cm.chunk):            # one band of scoring tiles at a time
                ya, yb = (int(x) for x in np.searchsorted(self.rows, [r, r + cm.chunk]))
                if ya == yb:
                    continue
                cm._wait_for(r, min(H, r + cm.chunk), 0, W)
                rows = self.out[ya:yb].reshape(yb - ya, 3 * w)
                raw = np.empty((yb - ya, 3 * w + 1), np.uint8)
                raw[:, 0] = 2                            # PNG filter "Up": minus the row above
                np.subtract(rows[:1], prev, out=raw[:1, 1:])
                np.subtract(rows[1:], rows[:-1], out=raw[1:, 1:])
                prev = rows[-1:].copy()
                data = comp.compress(raw)
                if data:
                    fh.write(_png_chunk(b"IDAT", data))
            fh.write(_png_chunk(b"IDAT", comp.flush()) + _png_chunk(b"IEND", b""))

    def finish(self) -> Path:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.path

    def stop(self) -> None:
        """Join the writer (after :meth:`ClassMapTiles.abort`); its file is removed."""
        self.thread.join()


def _blocks(shape, tile):
    for r in range(0, shape[0], tile):
        for c in range(0, shape[1], tile):
            yield r, min(shape[0], r + tile), c, min(shape[1], c + tile)


def _band_rows(src, tile):
    """Rows read at a time: a multiple of ``tile`` and of the source's chunk height."""
    chunks = getattr(src, "chunks", None)
    ch = int(chunks[0]) if chunks and isinstance(chunks[0], (int, np.integer)) else tile
    return math.lcm(int(tile), ch)


def _level_tiles(src, shape, tile, factor=1):
    """Tiles (row-major, zero-padded) of ``src``, reading one band of rows at a time
    (each stored chunk is decompressed once)."""
    H, W = shape
    band_rows = _band_rows(src, tile)
    for b0 in range(0, H, band_rows):
        band = np.asarray(src[b0:min(H, b0 + band_rows), :])
        for r in range(0, band.shape[0], tile):
            rows = band[r:r + tile]
            for c in range(0, W, tile):
                blk = rows[:, c:c + tile]
                if blk.shape == (tile, tile):
                    yield np.ascontiguousarray(blk)
                else:
                    t = np.zeros((tile, tile), np.uint8)
                    t[:blk.shape[0], :blk.shape[1]] = blk
                    yield t


def _half(src, tile):
    """``src[::2, ::2]`` into a compressed in-memory zarr array, one band of rows at a time."""
    import zarr

    H, W = (int(s) for s in src.shape)
    sh = (math.ceil(H / 2), math.ceil(W / 2))
    out = zarr.create_array(zarr.storage.MemoryStore(), shape=sh, chunks=(tile, tile),
                            dtype="uint8", fill_value=0)
    step = max(1, _band_rows(src, 2 * tile) // 2)
    for r in range(0, sh[0], step):
        r1 = min(sh[0], r + step)
        out[r:r1, :] = np.asarray(src[2 * r:2 * r1, :])[::2, ::2]
    return out


def write_class_map_ome_tiff(class_map, path, *, pixel_size_um=None, tile: int = 512,
                             min_side: int = 256, compression: str = CLASS_MAP_COMPRESSION,
                             name: str = "blotquant classes", workers: int | None = None) -> Path:
    """Write a uint8 class map as a tiled pyramidal OME-TIFF, tile by tile.

    Parameters
    ----------
    class_map : 2-D uint8 array-like
        A zarr array (read one band of tiles at a time) or ndarray.
    path : path-like
        Output file (``.ome.tif``); written atomically.
    pixel_size_um : (row, col) or None
        Pixel size of ``class_map`` (recorded as OME PhysicalSizeY/X).
    tile : int
        TIFF tile edge (multiple of 16).
    min_side : int
        Sub-resolution levels are added while the longer side exceeds this.
    compression : str
        tifffile compression name.
    name : str
        OME image name.
    workers : int, optional
        Threads compressing tiles (default: tifffile's choice).

    Returns
    -------
    Path
    """
    import tifffile

    path = Path(path)
    if isinstance(class_map, ClassMapTiles):
        return _write_tiles(class_map, path, pixel_size_um=pixel_size_um, name=name)
    shape = tuple(int(s) for s in class_map.shape)
    if len(shape) != 2:
        raise ParameterError(f"a class map is 2-D (rows, cols), got shape {shape}")
    if tile % 16:
        raise ParameterError(f"tile must be a multiple of 16, got {tile}")
    n_sub = 0
    while max(shape) / 2 ** (n_sub + 1) >= min_side:
        n_sub += 1
    md = {"axes": "YX", "Name": name}
    if pixel_size_um is not None:
        md.update({"PhysicalSizeY": float(pixel_size_um[0]), "PhysicalSizeYUnit": "µm",
                   "PhysicalSizeX": float(pixel_size_um[1]), "PhysicalSizeXUnit": "µm"})
    levels = [class_map]
    for k in range(1, n_sub + 1):          # each level from the previous one, band by band
        levels.append(_half(levels[-1], tile))
    encode = _encoder(compression)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(1, int(workers or os.cpu_count() or 1))) as pool, \
            atomic_path(path) as tmp:
        def tiles(lv):
            it = _level_tiles(lv, tuple(lv.shape), tile)
            if encode is None:
                yield from it
                return
            batch = []
            for t in it:                   # compress in parallel, a band at a time
                batch.append(t)
                if len(batch) >= 64:
                    yield from pool.map(encode, batch)
                    batch = []
            yield from pool.map(encode, batch)

        with tifffile.TiffWriter(tmp, bigtiff=True, ome=True) as w:
            w.write(tiles(levels[0]), shape=shape, dtype=np.uint8, tile=(tile, tile),
                    compression=compression, subifds=n_sub, photometric="minisblack",
                    metadata=md)
            for lv in levels[1:]:
                w.write(tiles(lv), shape=tuple(lv.shape), dtype=np.uint8, tile=(tile, tile),
                        compression=compression, subfiletype=1, photometric="minisblack")
    return path


def _ome_md(name, pixel_size_um):
    md = {"axes": "YX", "Name": name}
    if pixel_size_um is not None:
        md.update({"PhysicalSizeY": float(pixel_size_um[0]), "PhysicalSizeYUnit": "µm",
                   "PhysicalSizeX": float(pixel_size_um[1]), "PhysicalSizeXUnit": "µm"})
    return md


def _write_tiles(cm: ClassMapTiles, path: Path, *, pixel_size_um, name) -> Path:
    """The pyramid of a :class:`ClassMapTiles`: its compressed tiles copied into the file."""
    import tifffile

    tt = cm.tile
    kw = dict(dtype=np.uint8, tile=(tt, tt), compression=cm.compression,
              photometric="minisblack")
    with atomic_path(path) as tmp:
        with tifffile.TiffWriter(tmp, bigtiff=True, ome=True) as w:
            w.write(cm.encoded_level(0), shape=cm.level_shapes[0], subifds=cm.n_sub,
                    metadata=_ome_md(name, pixel_size_um), **kw)
            for k in range(1, cm.n_sub + 1):
                w.write(cm.encoded_level(k), shape=cm.level_shapes[k], subfiletype=1, **kw)
    return path


def class_map_thumbnail(class_map, shape) -> np.ndarray:
    """Nearest-neighbour class map of ``shape`` (read band by band, codes kept).

    Examples
    --------
    >>> class_map_thumbnail(np.arange(16, dtype=np.uint8).reshape(4, 4), (2, 2)).tolist()
    [[5, 7], [13, 15]]
    """
    H, W = (int(s) for s in class_map.shape)
    h, w = (int(s) for s in shape)
    ri = np.minimum(((np.arange(h) + 0.5) * H / h).astype(np.intp), H - 1)
    ci = np.minimum(((np.arange(w) + 0.5) * W / w).astype(np.intp), W - 1)
    out = np.empty((h, w), np.uint8)
    chunks = getattr(class_map, "chunks", None)
    band = int(chunks[0]) if chunks else 512
    for a in range(0, H, band):                 # one band of source rows at a time
        sel = np.flatnonzero((ri >= a) & (ri < a + band))
        if sel.size:
            blk = np.asarray(class_map[a:min(H, a + band), :])
            out[sel] = blk[ri[sel] - a][:, ci]
    return out


def write_slide_overlay(rgb_lowres, class_map, path, *, regions=None) -> Path:
    """Class colours over a low-resolution slide image, as a PNG (atomic).

    Parameters
    ----------
    rgb_lowres : uint8 (rows, cols, 3)
        A low-resolution level of the slide.
    class_map : 2-D array-like or path
        The class map (sampled to ``rgb_lowres``' shape), or the path of a
        class-map OME-TIFF written by :func:`write_class_map_ome_tiff` (its
        smallest level that is at least that large is read).
    path : path-like
    regions : dict name -> bool mask, optional
        Region outlines (masks of ``rgb_lowres``' shape).

    Returns
    -------
    Path
    """
    from ..report.ihc_overlay import save_overlay

    rgb = np.asarray(rgb_lowres)[..., :3]
    if isinstance(class_map, (str, os.PathLike)):      # a written class-map pyramid
        class_map = _pyramid_level_at_least(class_map, rgb.shape[:2])
    cm = class_map if tuple(class_map.shape) == rgb.shape[:2] else \
        class_map_thumbnail(class_map, rgb.shape[:2])
    return save_overlay(rgb, np.asarray(cm), path, **({"regions": regions} if regions else {}))


def _pyramid_level_at_least(path, shape) -> np.ndarray:
    """The smallest level of a class-map OME-TIFF that is at least ``shape``."""
    import tifffile

    with tifffile.TiffFile(path) as t:
        levels = t.series[0].levels
        pick = 0
        for i, lv in enumerate(levels):
            if lv.shape[0] >= shape[0] and lv.shape[1] >= shape[1]:
                pick = i
        return levels[pick].asarray()


def write_cells_parquet(cells, path) -> Path:
    """Write the cell table as Parquet (atomic; needs pyarrow, the ``io`` extra).

    Examples
    --------
    >>> import os, tempfile, pandas as pd
    >>> p = write_cells_parquet(pd.DataFrame({"y": [1.0], "x": [2.0]}),
    ...                         os.path.join(tempfile.mkdtemp(), "cells.parquet"))
    >>> pd.read_parquet(p).x.tolist()
    [2.0]
    """
    path = Path(path)
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise ParameterError("writing Parquet needs pyarrow: pip install 'blotquant[io]'",
                             path=path) from err
    with atomic_path(path) as tmp:
        cells.to_parquet(tmp, index=False)
    return path
