"""Reading rectangles of one slide level tile by tile, in any process.

A :class:`TileSource` is a small picklable description of where the pixels of
one pyramid level come from (a file path and level index, or an in-memory
array); :func:`read_window` turns it into uint8 RGB for a window.  Each
process keeps its open files in a small cache, so the tasks of a
``dask.distributed`` cluster reopen a slide once per worker, not once per tile.

Tiled TIFF levels (SVS, OME-TIFF, generic pyramids) are decoded stored tile by
stored tile straight from the file (``TiffPage.decode``: the codec is called
once per stored tile on bytes read with ``os.pread``, so threads never share a
file position),
which is about twice as fast as going through the zarr store; other levels go
through the reader's lazy array.

Examples
--------
>>> import numpy as np
>>> a = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
>>> src = TileSource.from_array(a)
>>> read_window(src, 1, 3, 2, 5).shape
(2, 3, 3)
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ImageReadError, ParameterError, UnsupportedImageError

__all__ = ["TileSource", "read_window", "iter_window", "level_tile_shape"]

_CACHE: "OrderedDict[tuple, Any]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


@dataclass(frozen=True)
class TileSource:
    """Where the pixels of one slide level come from (picklable).

    Attributes
    ----------
    kind : {"tiff", "openslide", "array"}
    path : str or None
        The slide file (``tiff``, ``openslide``).
    level : int
        Pyramid level index (0 = full resolution).
    shape : (rows, cols)
        Shape of the level.
    array : array-like or None
        The level itself (``array``; in-memory images and tests).
    """

    kind: str
    path: str | None
    level: int
    shape: tuple
    array: Any = None

    @classmethod
    def from_array(cls, array, level: int = 0) -> "TileSource":
        """A source over an array (rows, cols, 3 or 4)."""
        return cls("array", None, int(level), tuple(int(s) for s in np.shape(array)[:2]), array)


def _pread(fd, n, offset):
    if n <= 0:
        return b""
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    with _CACHE_LOCK:  # pragma: no cover - Windows
        os.lseek(fd, offset, 0)
        return os.read(fd, n)


class _TiffLevel:
    """Direct stored-tile decoding of one tiled TIFF page (chunky RGB/gray)."""

    def __init__(self, path: str, level: int):
        import tifffile

        try:
            self.tif = tifffile.TiffFile(path)
        except Exception as err:
            raise ImageReadError(f"cannot open the slide ({type(err).__name__}: {err})",
                                 path=path) from err
        series = self.tif.series[0]
        if level >= len(series.levels):
            raise ParameterError(f"level {level} does not exist: the slide has "
                                 f"{len(series.levels)} levels", path=path)
        lv = series.levels[level]
        page = lv.keyframe
        self.page = page
        self.shape = tuple(int(s) for s in lv.shape[:2])
        self.direct = bool(page.is_tiled and page.planarconfig == 1 and page.imagedepth == 1
                           and len(lv.pages) == 1)
        if self.direct:
            self.th, self.tw = int(page.tilelength), int(page.tilewidth)
            self.ntx = math.ceil(page.imagewidth / self.tw)
            self.offsets = page.dataoffsets
            self.counts = page.databytecounts
            self.decode = page.decode
            self.tables = page.jpegtables
            # positioned reads on our own descriptor: thread-safe, no shared file position
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        else:
            import zarr

            z = zarr.open(series.aszarr(level=level), mode="r")
            self.zarr = z

    def tiles(self):
        return (self.th, self.tw) if self.direct else None

    def segments(self, r0, r1, c0, c1, hook=None, want=None):
        """The stored tiles under rows ``r0:r1``, cols ``c0:c1``, decoded one at a
        time: ``(ya, yb, xa, xb, pixels)`` in level coordinates (``pixels`` is the
        part of the stored tile inside the window, a view).  ``want(ya, yb, xa,
        xb)`` False: that tile is not read (``pixels`` None)."""
        th, tw = self.th, self.tw
        H, W = self.shape
        for ty in range(r0 // th, (r1 - 1) // th + 1):
            for tx in range(c0 // tw, (c1 - 1) // tw + 1):
                i = ty * self.ntx + tx
                if want is not None:
                    ya, yb = max(r0, ty * th), min(r1, ty * th + th, H)
                    xa, xb = max(c0, tx * tw), min(c1, tx * tw + tw, W)
                    if not want(ya, yb, xa, xb):
                        yield ya, yb, xa, xb, None
                        continue
                data = _pread(self.fd, int(self.counts[i]), int(self.offsets[i]))
                seg, _, _ = self.decode(data or None, i, jpegtables=self.tables)
                y0, x0 = ty * th, tx * tw
                if seg is None:
                    seg = np.zeros((1, th, tw, 3), np.uint8)
                seg = seg.reshape(seg.shape[-3:] if seg.ndim >= 3 else seg.shape)
                seg = seg[:min(th, self.shape[0] - y0), :min(tw, self.shape[1] - x0)]
                if hook is not None:
                    seg = hook(seg)
                ya, yb = max(r0, y0), min(r1, y0 + seg.shape[0])
                xa, xb = max(c0, x0), min(c1, x0 + seg.shape[1])
                yield ya, yb, xa, xb, seg[ya - y0:yb - y0, xa - x0:xb - x0]

    def read(self, r0, r1, c0, c1, hook=None) -> np.ndarray:
        if not self.direct:
            out = np.asarray(self.zarr[r0:r1, c0:c1])
            return hook(out) if hook is not None else out
        out = None
        for ya, yb, xa, xb, seg in self.segments(r0, r1, c0, c1, hook):
            if out is None:
                out = np.empty((r1 - r0, c1 - c0) + seg.shape[2:], seg.dtype)
            out[ya - r0:yb - r0, xa - c0:xb - c0] = seg
        return out

    def close(self):
        if self.direct:
            os.close(self.fd)
        self.tif.close()


class _ArrayLevel:
    def __init__(self, array):
        self.array = array

    def tiles(self):
        chunks = getattr(self.array, "chunks", None)
        if chunks and isinstance(chunks[0], int):
            return int(chunks[0]), int(chunks[1])
        return None

    def read(self, r0, r1, c0, c1, hook=None):
        out = np.asarray(self.array[r0:r1, c0:c1])
        return hook(out) if hook is not None else out

    def close(self):
        pass


def _open_level(src: TileSource):
    if src.kind == "array":
        return _ArrayLevel(src.array)
    key = (src.kind, src.path, src.level, os.getpid())
    with _CACHE_LOCK:
        lv = _CACHE.get(key)
        if lv is not None:
            _CACHE.move_to_end(key)
            return lv
    if src.kind == "tiff":
        lv = _TiffLevel(src.path, src.level)
    elif src.kind == "openslide":
        from ._openslide import OpenSlideLevel

        lv = OpenSlideLevel(src.path, src.level)
    else:
        raise ParameterError(f"unknown tile source kind {src.kind!r}")
    with _CACHE_LOCK:
        _CACHE[key] = lv
        while len(_CACHE) > _CACHE_SIZE:
            _, old = _CACHE.popitem(last=False)
            old.close()
    return lv


def level_tile_shape(src: TileSource):
    """(rows, cols) of the level's stored tiles, or None (not tiled / unknown)."""
    return _open_level(src).tiles()


def _to_rgb8(a: np.ndarray, src: TileSource) -> np.ndarray:
    if a.dtype != np.uint8:
        raise UnsupportedImageError(
            f"slide scoring needs 8-bit RGB levels, got {a.dtype}; convert the slide",
            path=src.path)
    if a.ndim == 2:
        raise UnsupportedImageError("slide scoring needs an RGB brightfield slide, this level "
                                    "is single-channel (grayscale)", path=src.path)
    if a.shape[-1] == 4:
        alpha = a[..., 3:4].astype(np.float32) * np.float32(1 / 255)
        a = np.rint(a[..., :3] * alpha + np.float32(255) * (1 - alpha)).astype(np.uint8)
    elif a.shape[-1] != 3:
        raise UnsupportedImageError(f"slide level with {a.shape[-1]} samples per pixel is "
                                    "not RGB", path=src.path)
    return a


def read_window(src: TileSource, r0: int, r1: int, c0: int, c1: int, *,
                stored_tile_hook=None) -> np.ndarray:
    """uint8 RGB pixels of rows ``r0:r1``, cols ``c0:c1`` of a level (RGBA on white).

    Parameters
    ----------
    src : TileSource
    r0, r1, c0, c1 : int
        Window in level pixels (clipped to the level).
    stored_tile_hook : callable, optional
        Applied to each decoded stored tile before it is cut into the window
        (e.g. JPEG chroma restoration, which belongs to the codec's tile).

    Returns
    -------
    uint8 array (rows, cols, 3), C-contiguous.
    """
    r0, c0 = max(0, int(r0)), max(0, int(c0))
    r1, c1 = min(src.shape[0], int(r1)), min(src.shape[1], int(c1))
    lv = _open_level(src)

    def hook(seg):
        seg = _to_rgb8(seg, src)
        return stored_tile_hook(seg) if stored_tile_hook is not None else seg

    return np.ascontiguousarray(lv.read(r0, r1, c0, c1, hook))


def iter_window(src: TileSource, r0: int, r1: int, c0: int, c1: int, *,
                stored_tile_hook=None, want=None):
    """The pixels of a window as parts, for scoring each while it is in the CPU cache.

    Tiled TIFF levels give one part per stored tile, decoded when it is asked
    for (the pixels of :func:`read_window`, never assembled into a window);
    other levels give the whole window as one part.

    Parameters
    ----------
    src : TileSource
    r0, r1, c0, c1 : int
        Window in level pixels (clipped to the level).
    stored_tile_hook : callable, optional
        As :func:`read_window`.
    want : callable, optional
        ``want(y0, y1, x0, x1)`` (window coordinates of a stored tile's part)
        False: that stored tile is not read or decoded; its part has pixels None.

    Yields
    ------
    (row, col, rows, cols, uint8 ndarray (rows, cols, 3) or None)
        A part and its offset inside the window; the parts cover it once.

    Examples
    --------
    >>> a = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    >>> [p[:4] + (p[4].shape,) for p in iter_window(TileSource.from_array(a), 1, 3, 2, 5)]
    [(0, 0, 2, 3, (2, 3, 3))]
    """
    r0, c0 = max(0, int(r0)), max(0, int(c0))
    r1, c1 = min(src.shape[0], int(r1)), min(src.shape[1], int(c1))
    lv = _open_level(src)
    if not (isinstance(lv, _TiffLevel) and lv.direct):
        h, w = r1 - r0, c1 - c0
        if want is not None and not want(0, h, 0, w):
            yield 0, 0, h, w, None
            return
        yield 0, 0, h, w, read_window(src, r0, r1, c0, c1, stored_tile_hook=stored_tile_hook)
        return

    def hook(seg):
        seg = _to_rgb8(seg, src)
        return stored_tile_hook(seg) if stored_tile_hook is not None else seg

    w_lv = None if want is None else (lambda ya, yb, xa, xb: want(ya - r0, yb - r0, xa - c0,
                                                                  xb - c0))
    for ya, yb, xa, xb, seg in lv.segments(r0, r1, c0, c1, hook, w_lv):
        yield ya - r0, xa - c0, yb - ya, xb - xa, seg


def slide_source(image, level: int) -> TileSource:
    """The :class:`TileSource` of one level of an :class:`~blotquant.image.Image`.

    Lazy file-backed levels (a TIFF pyramid, an OpenSlide slide) are described
    by path and level, so another process can reopen them; in-memory arrays
    are wrapped as they are.

    Examples
    --------
    >>> from blotquant.image import Image
    >>> slide_source(Image.from_array(np.zeros((8, 9, 3), np.uint8)), 0).kind
    'array'
    """
    levels = list(getattr(image, "levels", ()) or (image.data,))
    if not 0 <= level < len(levels):
        raise ParameterError(f"level {level} does not exist: the slide has {len(levels)} "
                             "levels (0 = full resolution)")
    arr = levels[level]
    shape = tuple(int(s) for s in arr.shape[:2])
    md = image.metadata
    reader = md.extra.get("reader") if md.extra else None
    if md.path and not isinstance(arr, np.ndarray):
        if reader == "openslide":
            return TileSource("openslide", str(md.path), int(level), shape)
        if md.format in ("svs", "ome-tiff", "pyramidal-tiff", "tiff"):
            return TileSource("tiff", str(md.path), int(level), shape)
    return TileSource("array", None, int(level), shape, arr)
