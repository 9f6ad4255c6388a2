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
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..tables import atomic_path

__all__ = ["write_class_map_ome_tiff", "class_map_thumbnail", "write_slide_overlay",
           "write_cells_parquet", "CLASS_MAP_COMPRESSION"]

#: Compression of class-map tiles (deflate: read by Bio-Formats/QuPath, napari, ImageJ).
CLASS_MAP_COMPRESSION = "zlib"


def _cargs(compression):
    return {"level": 1} if compression in ("zlib", "deflate", "adobe_deflate") else None


def _blocks(shape, tile):
    for r in range(0, shape[0], tile):
        for c in range(0, shape[1], tile):
            yield r, min(shape[0], r + tile), c, min(shape[1], c + tile)


def _level_tiles(src, shape, tile, factor=1):
    """Tiles (row-major, zero-padded) of ``src``, reading one band of ``tile`` rows at a time."""
    H, W = shape
    for r in range(0, H, tile):
        r1 = min(H, r + tile)
        band = np.asarray(src[r:r1, :])
        for c in range(0, W, tile):
            t = np.zeros((tile, tile), np.uint8)
            blk = band[:, c:c + tile]
            t[:blk.shape[0], :blk.shape[1]] = blk
            yield t


def _half(src, tile):
    """``src[::2, ::2]`` into a compressed in-memory zarr array, one band of rows at a time."""
    import zarr

    H, W = (int(s) for s in src.shape)
    sh = (math.ceil(H / 2), math.ceil(W / 2))
    out = zarr.create_array(zarr.storage.MemoryStore(), shape=sh, chunks=(tile, tile),
                            dtype="uint8", fill_value=0)
    for r in range(0, sh[0], tile):
        r1 = min(sh[0], r + tile)
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
    with atomic_path(path) as tmp:
        with tifffile.TiffWriter(tmp, bigtiff=True, ome=True) as w:
            w.write(_level_tiles(levels[0], shape, tile, 1), shape=shape, dtype=np.uint8,
                    tile=(tile, tile), compression=compression, subifds=n_sub,
                    compressionargs=_cargs(compression), maxworkers=workers,
                    photometric="minisblack", metadata=md)
            for lv in levels[1:]:
                w.write(_level_tiles(lv, tuple(lv.shape), tile, 1), shape=tuple(lv.shape),
                        dtype=np.uint8, tile=(tile, tile), compression=compression,
                        compressionargs=_cargs(compression), subfiletype=1, maxworkers=workers, photometric="minisblack")
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


def _tmp_sibling(path: Path) -> Path:  # pragma: no cover - helper for callers
    return path.with_name(f".{path.name}.{os.getpid()}.part")
