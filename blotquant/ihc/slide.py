"""Whole-slide IHC scoring, tile by tile: :func:`score_slide`, :func:`score_slides`.

A slide is never held in memory.  The pipeline:

1. **Level.** ``IHCParams.level``, else the level nearest the nominal pixel
   size of ``magnification``, else level 0 (full resolution).
2. **Once per slide, at low resolution.** The finest pyramid level whose
   longer side is at most :data:`TISSUE_MAX_SIDE` px gives the white point
   (glass, :func:`~blotquant.ihc.stains.white_point_info`) and the coarse
   tissue mask (:func:`~blotquant.ihc.tissue.tissue_mask` with the size limits
   scaled to that level, then grown by one low-resolution pixel).  Stain
   vectors (``stains="estimate"``), the stain-fit check and JPEG chroma
   subsampling are measured on :data:`STAIN_WINDOWS` windows of
   :data:`STAIN_WINDOW_SIDE` px at full resolution, on a grid anchored at the
   level's origin (at least half tissue, touching an include region), so they
   do not depend on the tile size.  Nothing is estimated per tile.
3. **Tiles.** The scored level is cut into square tiles (``tile_size``,
   rounded to a multiple of the file's stored tile); only tiles that hold
   coarse tissue and meet an include region are read.  A pixel is *tissue*
   when the coarse mask covers it and its own OD sum reaches
   ``tissue_threshold`` (a pointwise test, so it does not depend on the
   tiling).  Pixel mode runs :class:`~blotquant.ihc.pixels.PixelKernel`, the
   kernel of :func:`~blotquant.ihc.pixels.score_pixels_rgb` (identical
   classes; counts and DAB sums in the same cache-sized pass), on each stored
   tile of the file as it is decoded; stored tiles outside the coarse tissue
   mask and the regions are not decoded at all;
   cell mode reads each tile with a halo, detects cells, and keeps a cell in
   the one tile that holds its (rounded) centroid, so the cell table and
   scores do not depend on the tile size either.
4. **Engine.** Tiles run as dask tasks: on local threads (default, one per
   core), local processes, or a ``dask.distributed`` cluster given by
   ``scheduler`` (an address or a ``Client``).  :func:`score_slides` schedules the tiles of many
   slides together.  Locally they run row by row (so the class-map file and
   the overlay are written while the slide is scored), the last ones largest
   first by their estimated cost (:func:`_run_order`: no worker is left
   finishing a large tile alone at the end).
5. **Outputs.** A per-region summary with the columns of
   :attr:`IHCResult.summary <blotquant.ihc.result.IHCResult>` (same
   ``params_hash`` as :func:`~blotquant.ihc.score_ihc` for the same inputs), a
   cell table in level-0 pixel coordinates, and the class map written tile by
   tile into a zarr array (``class_map=`` a zarr store; in memory by default)
   or, with :class:`~blotquant.io.slide_writers.ClassMapTiles`, compressed
   into the tiles of its OME-TIFF pyramid by the workers (and, with
   ``stream_to`` / ``overlay_to``, the pyramid file and the overlay PNG written
   while the slide is scored).

Memory is bounded by ``tile_size`` x ``workers``, never by the slide: no
full-resolution OD map exists at any time.

Examples
--------
>>> import numpy as np
>>> from blotquant.image import Image
>>> from blotquant.synthetic import make_ihc
>>> s = make_ihc(seed=0, shape=(512, 512))
>>> res = score_slide(Image.from_array(s.image), mode="pixel", tile_size=256)
>>> ref = score_slide(Image.from_array(s.image), mode="pixel", tile_size=512)
>>> res.summary.n[0] == ref.summary.n[0], bool(abs(res.summary.h_score[0] - s.truth.h_score) < 3)
(np.True_, True)
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from .._shared.lazy import lazy_module

from ..errors import ParameterError
from ..image import Image
from .chroma import detect_chroma_subsampling, restore_chroma
from .classify import CELL_CLASS_NAMES, classify_pixels, intensity_classes
from .deconvolution import (as_stain_matrix, row_chunks, stain_maps, weighted_luts,
                            weighted_od_rows)
from .params import IHCParams
from .regions import WHOLE_IMAGE, Region, as_regions
from .result import build_summary
from .stains import estimate_stains, stain_fit, stain_fit_note, white_point_info
from .tissue import tissue_mask as detect_tissue

pd = lazy_module("pandas")  # imported on first use (the slide CLI starts tiles first)

__all__ = ["score_slide", "score_slides", "SlideJob", "SlideResult", "SlideProgress",
           "DEFAULT_TILE_SIZE", "TISSUE_MAX_SIDE", "choose_level", "fine_tissue",
           "coarse_window", "cell_halo_px", "lowres_rgb"]

#: Default tile edge (px) of the scored level; an execution setting, not a parameter.
DEFAULT_TILE_SIZE = 2048
#: Longest side (px) of the pyramid level used for tissue and the white point.
TISSUE_MAX_SIDE = 2048
#: Windows (count, side in px of the scored level) for the slide's pixel-size estimate
#: in cell mode: nuclei need a few hundred micrometres of context per window.
SAMPLE_TILES = 8
SAMPLE_SIDE = 512
#: Windows (count, side in px) sampled for the stain vectors (``stains="estimate"``), the
#: stain-fit check and JPEG chroma subsampling: many small windows spread over the
#: tissue (0.5 Mpx in all, whatever the tile size, so memory stays that of a few tiles).
STAIN_WINDOWS = 32
STAIN_WINDOW_SIDE = 128


# ----------------------------------------------------------------------------- models

@dataclass(frozen=True)
class SlideProgress:
    """What a ``progress`` callback receives after each finished tile.

    Attributes
    ----------
    done, total : int
        Tiles finished / to do (all slides of the job).
    pixels : int
        Scored-level pixels of the finished tiles.
    elapsed_s : float
    rate_mpix_s : float
        ``pixels / elapsed_s / 1e6``.
    """

    done: int
    total: int
    pixels: int
    elapsed_s: float

    @property
    def rate_mpix_s(self) -> float:
        return self.pixels / max(self.elapsed_s, 1e-9) / 1e6


@dataclass
class SlideJob:
    """One slide of :func:`score_slides`.

    Attributes
    ----------
    image : Image
        From :func:`blotquant.io.read_image` (a lazy pyramid) or an in-memory image.
    params : IHCParams or None
    regions : regions (see :func:`~blotquant.ihc.regions.as_regions`), level-0 pixels
    image_name : str or None
    class_map : zarr store, zarr array, False or None
        Where the class map goes (None: an in-memory zarr store; False: not kept).
    tissue_mask : bool array or None
        A low-resolution tissue mask (any shape, covering the whole slide)
        used instead of detecting tissue.
    overrides : dict
        :class:`IHCParams` fields.
    """

    image: Any
    params: IHCParams | None = None
    regions: Any = None
    image_name: str | None = None
    class_map: Any = None
    tissue_mask: Any = None
    overrides: dict = field(default_factory=dict)


@dataclass
class SlideResult:
    """Everything :func:`score_slide` found.

    Attributes
    ----------
    summary : DataFrame
        One row per region, columns of :data:`~blotquant.ihc.result.SUMMARY_COLUMNS`.
    cells : DataFrame
        Cell mode: one row per cell and region; ``y``, ``x`` in level-0
        pixels (``y_level``, ``x_level`` on the scored level); empty in pixel mode.
    class_map : zarr array or None
        uint8 codes (0 unscored, 1 negative, 2 1+, 3 2+, 4 3+) of the scored level.
    level : int
        Scored pyramid level; ``downsample`` its (row, col) factor to level 0.
    level_shape : (rows, cols)
    tissue_lowres : bool ndarray
        Coarse tissue mask (``tissue_level`` of the pyramid).
    white_point, stains : ndarray
    regions : list of Region (level-0 coordinates)
    params : dict
        Inputs (``IHCParams``) and what the run derived, as ``IHCResult.params``.
    tiles : DataFrame
        One row per scored tile: slide-level window, scored pixels, seconds.
    image_name : str
    lowres : uint8 ndarray (rows, cols, 3) or None
        The tissue level as RGB, as read for planning (:func:`lowres_rgb`;
        for overlays, so that it is not read twice).
    """

    summary: pd.DataFrame
    cells: pd.DataFrame
    class_map: Any
    level: int
    downsample: tuple
    level_shape: tuple
    tissue_lowres: np.ndarray
    tissue_level: int
    white_point: np.ndarray
    stains: np.ndarray
    regions: list
    params: dict
    tiles: pd.DataFrame
    image_name: str = "image"
    timing: dict = field(default_factory=dict)
    lowres: np.ndarray | None = None

    @property
    def mode(self) -> str:
        return self.params["mode"]

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        regs = ", ".join(f"{r}: H={h:.1f}" for r, h in zip(self.summary["region"],
                                                            self.summary["h_score"]))
        return (f"SlideResult(image={self.image_name!r}, mode={self.mode!r}, level={self.level}, "
                f"shape={self.level_shape}, tiles={len(self.tiles)}, {regs})")


# ----------------------------------------------------------------------------- helpers

def _level_shapes(image) -> list:
    levels = list(getattr(image, "levels", ()) or (image.data,))
    return [tuple(int(s) for s in lv.shape[:2]) for lv in levels]


def choose_level(shapes, params: IHCParams, pixel_size_um=None) -> int:
    """The pyramid level scored: ``params.level``, else nearest ``magnification``, else 0.

    Parameters
    ----------
    shapes : list of (rows, cols)
        Level shapes, finest first.
    params : IHCParams
    pixel_size_um : (row, col) or None
        Level-0 pixel size from the file.

    Returns
    -------
    int

    Examples
    --------
    >>> choose_level([(4000, 4000), (1000, 1000)], IHCParams(magnification="10x"), (0.25, 0.25))
    1
    """
    if params.level is not None:
        if params.level >= len(shapes):
            raise ParameterError(f"level {params.level} does not exist: the slide has "
                                 f"{len(shapes)} levels (0 = full resolution)")
        return int(params.level)
    if params.magnification is None:
        return 0
    target = params.magnification_pixel_size()[0]
    if pixel_size_um is None:
        raise ParameterError(
            f"magnification {params.magnification:g}x cannot choose a level: the file records "
            "no pixel size; give --level, or --pixel-size (um/px of level 0)")
    p0 = math.sqrt(pixel_size_um[0] * pixel_size_um[1])
    err = [abs(math.log(p0 * shapes[0][0] / s[0] / target)) for s in shapes]
    return int(np.argmin(err))


def _tissue_level(shapes, level: int) -> int:
    for k in range(level, len(shapes)):
        if max(shapes[k]) <= TISSUE_MAX_SIDE:
            return k
    return len(shapes) - 1


def fine_tissue(rgb, white_point, threshold: float) -> np.ndarray:
    """Pointwise tissue test of full-resolution pixels: OD sum (R + G + B) >= ``threshold``.

    The same float32 OD sum as :func:`~blotquant.ihc.tissue.tissue_mask`
    (without its median filter and morphology, which the coarse mask does).

    Parameters
    ----------
    rgb : uint8 (rows, cols, 3)
    white_point : float or (r, g, b)
    threshold : float

    Returns
    -------
    bool array (rows, cols)

    Examples
    --------
    >>> rgb = np.array([[[250, 250, 250], [200, 150, 120]]], np.uint8)
    >>> fine_tissue(rgb, 250, 0.06).tolist()
    [[False, True]]
    """
    a = np.ascontiguousarray(rgb)
    luts = weighted_luts((1.0, 1.0, 1.0), white_point)
    s = np.empty(a.shape[:2], np.float32)
    for r0, r1 in row_chunks(a.shape):
        weighted_od_rows(a[r0:r1], luts, s[r0:r1])
    return s >= threshold


def _index_map(n_fine: int, n_coarse: int, start: int, stop: int) -> np.ndarray:
    """Coarse index of fine pixels ``start..stop`` (pixel-centre nearest mapping)."""
    idx = np.floor((np.arange(start, stop, dtype=np.float64) + 0.5) * (n_coarse / n_fine))
    return np.clip(idx.astype(np.intp), 0, n_coarse - 1)


def coarse_window(coarse: np.ndarray, level_shape, r0: int, r1: int, c0: int,
                  c1: int) -> np.ndarray:
    """The coarse mask sampled on the level pixels ``r0:r1, c0:c1`` (bool).

    Examples
    --------
    >>> c = np.array([[True, False]])
    >>> coarse_window(c, (2, 4), 0, 2, 0, 4).astype(int).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0]]
    """
    ri = _index_map(level_shape[0], coarse.shape[0], r0, r1)
    ci = _index_map(level_shape[1], coarse.shape[1], c0, c1)
    a, c = int(ri[0]), int(ci[0])
    crop = coarse[a:int(ri[-1]) + 1, c:int(ci[-1]) + 1]
    if crop.all() or not crop.any():
        return np.full((r1 - r0, c1 - c0), bool(crop.flat[0]))
    return crop.take(ri - a, axis=0).take(ci - c, axis=1)


def slide_working_pixel_size(requested_um, pixel_size_um) -> float | None:
    """The detection grid of slide cell mode: the scored pixels averaged in k x k blocks.

    A field is detected on a grid resampled to ``requested_um`` exactly; a slide
    is detected tile by tile, and a resampling by a non-integer factor (0.2527
    um/px to 0.5: 1.98) puts each tile's grid at another phase, so the cells would
    depend on the tile size.  The slide's grid is therefore ``k`` scored pixels,
    ``k`` the largest power of two not above 1.05 x the factor (a power of two
    divides the 32-px grid that tile windows start on): 0.2527 -> k = 2 (0.5054
    um), 0.5 -> 1, 0.167 -> 2, 0.125 -> 4.

    Parameters
    ----------
    requested_um : float
        ``CellParams.requested_pixel_size_um``.
    pixel_size_um : (row, col) or None
        The scored level's pixel size (None: unknown, detection at the assumed size).

    Returns
    -------
    float or None
        um per working pixel to request, or None when no pixel size is known.

    Examples
    --------
    >>> slide_working_pixel_size(0.5, (0.2527, 0.2527))
    0.5054
    >>> slide_working_pixel_size(0.5, (0.5, 0.5))
    0.5
    """
    if pixel_size_um is None:
        return None
    iso = math.sqrt(float(pixel_size_um[0]) * float(pixel_size_um[1]))
    factor = float(requested_um) / iso
    k = 1 if factor < 2 / 1.05 else 2 ** int(math.floor(math.log2(factor * 1.05)))
    return k * iso


def cell_halo_px(cell, pixel_size_um) -> int:
    """Halo (px) around a cell-mode tile: enough context for every cell of the tile.

    Twice the sum of the largest nucleus diameter, the background radius, the
    cell expansion and the peak and DAB-hole radii (all in um), as pixels,
    rounded up to a multiple of 32.

    Examples
    --------
    >>> from blotquant.ihc.params import CellParams
    >>> cell_halo_px(CellParams(), (0.5, 0.5))
    224
    """
    d_max = 2 * math.sqrt(cell.max_nucleus_area_um2 / math.pi)
    um = 2 * (d_max + cell.background_radius_um + cell.cell_expansion_um
              + cell.peak_radius_um + cell.dab_hole_radius_um + 4 * cell.sigma_um)
    px = um / min(pixel_size_um)
    return int(math.ceil(px / 32.0) * 32)


def _scale_regions(regs, ds) -> list:
    out = []
    for r in regs:
        f = np.array([1.0 / ds[0], 1.0 / ds[1]])
        out.append(Region(r.name, r.polygon * f, kind=r.kind, classification=r.classification,
                          holes=tuple(h * f for h in r.holes), properties=r.properties))
    return out


def _bbox(r: Region):
    p = r.polygon
    return (float(p[:, 0].min()), float(p[:, 0].max()), float(p[:, 1].min()),
            float(p[:, 1].max()))


def _union(masks, shape):
    """Union of window masks (None: the whole window)."""
    if any(m is None for m in masks.values()):
        return None
    u = np.zeros(shape, bool)
    for m in masks.values():
        if m is not False:
            u |= m
    return u


def _window_masks(regs_level, r0, r1, c0, c1):
    """(include masks by name -> bool or None for 'all'), exclusion mask or None."""
    shape = (r1 - r0, c1 - c0)
    shift = np.array([r0, c0], float)

    def hits(r):
        a, b, c, d = _bbox(r)
        return b >= r0 and a <= r1 and d >= c0 and c <= c1

    def mask(r):
        rr = Region(r.name, r.polygon - shift, kind=r.kind, holes=tuple(h - shift for h in r.holes))
        return rr.mask(shape)

    excl = None
    for r in regs_level:
        if r.kind == "exclude" and hits(r):
            m = mask(r)
            excl = m if excl is None else (excl | m)
    incl: dict = {}
    names = [r.name for r in regs_level if r.kind == "include"]
    if not names:
        incl[WHOLE_IMAGE] = None if excl is None else ~excl
        return incl
    for name in dict.fromkeys(names):
        m = None
        for r in regs_level:
            if r.kind == "include" and r.name == name and hits(r):
                rm = mask(r)
                m = rm if m is None else (m | rm)
        if m is None:
            incl[name] = False
        else:
            incl[name] = m if excl is None else (m & ~excl)
    return incl


# ----------------------------------------------------------------------------- tile task

@dataclass(frozen=True)
class _TileSpec:
    slide: int
    index: int
    r0: int
    r1: int
    c0: int
    c1: int


@dataclass
class _Context:
    """Everything a tile task needs (picklable; one per slide)."""

    source: Any
    mode: str
    thresholds: tuple
    stains: np.ndarray
    white_point: np.ndarray
    tissue: bool
    fine: bool
    tissue_threshold: float
    coarse: np.ndarray
    level_shape: tuple
    regions: list
    need_dab: bool
    restore_phase: Any
    halo: int
    pixel_size: tuple | None
    cell: dict
    compartment: str
    measure: str
    sink: Any
    ds: tuple


def _restore_hook(ctx):
    if ctx.restore_phase is None:
        return None
    phase = ctx.restore_phase
    return lambda seg: restore_chroma(seg, phase=phase)


def _write_sink(ctx, spec, cls):
    if ctx.sink is not None:
        ctx.sink[spec.r0:spec.r1, spec.c0:spec.c1] = cls


def _score_tile(ctx: _Context, spec: _TileSpec) -> dict:
    from ..io._slide_tiles import read_window

    t0 = time.perf_counter()
    if ctx.mode == "pixel":
        out = _pixel_tile(ctx, spec)
    else:
        out = _cell_tile(ctx, spec, read_window)
    out["seconds"] = time.perf_counter() - t0
    out["started"] = t0
    out["spec"] = spec
    return out


def _kernel(ctx):
    """The slide's :class:`~blotquant.ihc.pixels.PixelKernel` (one per context and process).

    The colour-table scorer (``benchmarks/_colour_table.py``) gives the
    same classes and counts; it is not used here because its 16 MB random gather
    slows down 2-5x when other processes share the L3 cache, and the exact DAB
    sum still needs three per-channel lookups per pixel (``docs/benchmarks/wsi.md``,
    round 6)."""
    k = getattr(ctx, "_kernel_obj", None)
    if k is None:
        from .pixels import PixelKernel

        k = PixelKernel(ctx.thresholds, stains=ctx.stains, white_point=ctx.white_point,
                        tissue_threshold=ctx.tissue_threshold if ctx.fine else None)
        ctx._kernel_obj = k
    return k


def _kernel_implementation() -> str:
    """``"c"`` or ``"numpy"``: the path :func:`_kernel`'s PixelKernel will take here."""
    from .pixels import compiled_kernel

    return "numpy" if compiled_kernel() is None else "c"


def _pixel_tile(ctx, spec, parts=None):
    """Pixel mode on one tile: each stored tile decoded and scored while it is in
    the CPU cache (:func:`~blotquant.io._slide_tiles.iter_window`,
    :meth:`~blotquant.ihc.pixels.PixelKernel.run_parts`); stored tiles that the
    coarse tissue mask (or the regions) leave out are not decoded (their
    pixels are code 0 whatever they hold).  ``parts`` (tests, benchmarks): the
    tile's pixels given as such parts instead."""
    r0, r1, c0, c1 = spec.r0, spec.r1, spec.c0, spec.c1
    shape = (r1 - r0, c1 - c0)
    masks = _window_masks(ctx.regions, r0, r1, c0, c1)
    union = _union(masks, shape)
    part_mask = _part_masks(ctx, r0, r1, c0, c1, union)
    if parts is None:
        from ..io._slide_tiles import iter_window

        parts = iter_window(ctx.source, r0, r1, c0, c1, stored_tile_hook=_restore_hook(ctx),
                            want=lambda *w: part_mask(*w) is not False)
    out = _kernel(ctx).run_parts(parts, shape, mask=part_mask, regions=masks)
    cls = out.classes
    rows = {}
    for name, m in masks.items():
        area = 0 if m is False else (cls.size if m is None else int(np.count_nonzero(m)))
        rows[name] = (out.counts[name], out.dab_sum[name], area)
    _write_sink(ctx, spec, cls)
    return {"rows": rows, "pixels": cls.size, "class_tile": None if ctx.sink is not None else cls}


def _integer_factor(idx, start) -> int:
    """f if the coarse indices ``idx`` of level pixels ``start..`` are ``pixel // f``
    (an integer number of level pixels per coarse pixel), else 0."""
    if idx.size < 2:
        return 0
    f = int(round(1.0 / max(float(idx[-1] - idx[0]) / max(idx.size - 1, 1), 1e-9)))
    if f < 1 or not np.array_equal(idx, np.arange(start, start + idx.size) // f):
        return 0
    return f


def _part_masks(ctx, r0, r1, c0, c1, union):
    """``mask(y0, y1, x0, x1)`` for parts of the tile ``r0:r1, c0:c1`` (tile
    coordinates): the coarse tissue mask sampled on the part (as
    :func:`coarse_window`) and the regions' union; None (all may be scored),
    False (none), a bool array or a :class:`~blotquant.ihc.pixels.BlockMask`."""
    from .pixels import BlockMask

    fy = fx = 0
    if ctx.tissue:
        ri = _index_map(ctx.level_shape[0], ctx.coarse.shape[0], r0, r1)
        ci = _index_map(ctx.level_shape[1], ctx.coarse.shape[1], c0, c1)
        fy, fx = _integer_factor(ri, r0), _integer_factor(ci, c0)
    memo = {}

    def mask(ya, yb, xa, xb):
        key = (ya, yb, xa, xb)
        if key in memo:                  # asked twice: by the reader, then the kernel
            return memo.pop(key)
        m = None
        if ctx.tissue:
            a, b = int(ri[ya]), int(ri[yb - 1]) + 1
            c, d = int(ci[xa]), int(ci[xb - 1]) + 1
            crop = ctx.coarse[a:b, c:d]
            if not crop.any():
                memo[key] = False
                return False
            if not crop.all():
                if (fy and fx and (r0 + ya) % fy == 0 and (c0 + xa) % fx == 0
                        and crop.shape == (-(-(yb - ya) // fy), -(-(xb - xa) // fx))):
                    # whole coarse pixels of f x f level pixels: the crop as it is (the
                    # C kernel reads it so; an array where one is needed: a nearest upscale)
                    m = BlockMask(crop, fy, fx, (yb - ya, xb - xa))
                    if union is not None:
                        m = m.expand()
                else:
                    m = crop.take(ri[ya:yb] - a, axis=0).take(ci[xa:xb] - c, axis=1)
        if union is not None:
            u = union[ya:yb, xa:xb]
            if not u.any():
                memo[key] = False
                return False
            m = u if m is None else (m & u)
        memo[key] = m
        return m

    return mask


#: Cut cell windows start on this grid (the halo's rounding, see :func:`cell_halo_px`).
_CELL_GRID = 32


def _active_core(regions, r0, r1, c0, c1, grow):
    """The tile ``r0:r1, c0:c1`` cut to the include regions' bounding box grown by
    ``grow`` px (the whole tile without include regions).

    Cells are detected only in the regions (``mask``), so every detected
    cell overlaps the box and its pixels lie within two cell radii of it;
    ``grow`` = half the halo is at least twice the largest cell radius
    (:func:`cell_halo_px`).  The cut core keeps its full halo of context.
    """
    boxes = [_bbox(r) for r in regions if r.kind == "include"]
    hit = [b for b in boxes if b[1] >= r0 and b[0] <= r1 and b[3] >= c0 and b[2] <= c1]
    if not hit:
        return r0, r1, c0, c1
    g = _CELL_GRID

    def down(v):
        return int(math.floor(v / g)) * g

    def up(v):
        return int(math.ceil(v / g)) * g

    # on the grid of the halo (32 px): cell detection sees the same pixel phase
    a0 = max(r0, down(min(b[0] for b in hit) - grow))
    a1 = min(r1, up(max(b[1] for b in hit) + 1 + grow))
    b0 = max(c0, down(min(b[2] for b in hit) - grow))
    b1 = min(c1, up(max(b[3] for b in hit) + 1 + grow))
    if a0 >= a1 or b0 >= b1:
        return r0, r1, c0, c1
    return a0, a1, b0, b1


def _cell_tile(ctx, spec, read_window):
    from .cells import detect_cells

    t0, t1, u0, u1 = spec.r0, spec.r1, spec.c0, spec.c1
    H, W = ctx.level_shape
    h = ctx.halo
    # the part of the tile that can hold a region's cells: only it (and its halo) is read
    r0, r1, c0, c1 = _active_core(ctx.regions, t0, t1, u0, u1, (h + 1) // 2)
    R0, R1, C0, C1 = max(0, r0 - h), min(H, r1 + h), max(0, c0 - h), min(W, c1 + h)
    rgb = read_window(ctx.source, R0, R1, C0, C1, stored_tile_hook=_restore_hook(ctx))
    hem, dab = stain_maps(rgb, ctx.stains, ctx.white_point)
    tissue = np.ones(rgb.shape[:2], bool)
    if ctx.fine:
        tissue = fine_tissue(rgb, ctx.white_point, ctx.tissue_threshold)
    if ctx.tissue:
        tissue &= coarse_window(ctx.coarse, ctx.level_shape, R0, R1, C0, C1)
    masks = _window_masks(ctx.regions, R0, R1, C0, C1)
    union = np.zeros(rgb.shape[:2], bool)
    for m in masks.values():
        if m is None:
            union[:] = True
        elif m is not False:
            union |= m
    scored = tissue & union
    det = detect_cells(hem, dab, pixel_size_um=ctx.pixel_size, mask=scored, **ctx.cell)
    tab = det.table
    # keep the cells whose rounded centroid lies in this tile's core
    yg = np.clip(np.rint(tab["y"].to_numpy(float) + R0).astype(np.int64), 0, H - 1)
    xg = np.clip(np.rint(tab["x"].to_numpy(float) + C0).astype(np.int64), 0, W - 1)
    keep = (yg >= r0) & (yg < r1) & (xg >= c0) & (xg < c1)
    col = f"{ctx.compartment}_dab_od_{ctx.measure}"
    cls_all = intensity_classes(tab[col].to_numpy(float), ctx.thresholds) if len(tab) else \
        np.zeros(0, np.uint8)
    lut = np.zeros(int(det.cells.max(initial=0)) + 1, np.uint8)
    if len(tab):
        lut[tab["cell"].to_numpy(int)] = cls_all + 1
    core = (slice(r0 - R0, r1 - R0), slice(c0 - C0, c1 - C0))
    cls = lut[det.cells[core]]
    if (r0, r1, c0, c1) != (t0, t1, u0, u1):          # the class map of the whole tile
        full = np.zeros((t1 - t0, u1 - u0), np.uint8)
        full[r0 - t0:r1 - t0, c0 - u0:c1 - u0] = cls
        cls = full
    kept = tab.loc[keep].copy()
    kept["y_level"] = kept["y"] + R0
    kept["x_level"] = kept["x"] + C0
    kept["y"] = (kept["y_level"] + 0.5) * ctx.ds[0] - 0.5
    kept["x"] = (kept["x_level"] + 0.5) * ctx.ds[1] - 0.5
    ly, lx = yg[keep] - R0, xg[keep] - C0
    # pixel classes of the core's scored tissue: the pixel-mode scores beside the cell
    # scores, as score_ihc reports them (same OD map, same rule, same mask)
    pmap = classify_pixels(dab[core], ctx.thresholds, mask=scored[core])
    member = {}
    rows = {}
    for name, m in masks.items():
        if m is False:
            member[name] = np.zeros(len(kept), bool)
            area = 0
            n_px = 0
            pc = np.zeros(5, np.int64)
        elif m is None:
            member[name] = np.ones(len(kept), bool)
            area = (r1 - r0) * (c1 - c0)
            n_px = int(np.count_nonzero(tissue[core]))
            pc = np.bincount(pmap.ravel(), minlength=5).astype(np.int64)
        else:
            member[name] = m[ly, lx]
            area = int(np.count_nonzero(m[core]))
            n_px = int(np.count_nonzero(m[core] & tissue[core]))
            pc = np.bincount(pmap[m[core]], minlength=5).astype(np.int64)
        rows[name] = (pc, 0.0, area, n_px)
    _write_sink(ctx, spec, cls)
    return {"rows": rows, "cells": kept, "member": member, "pixels": cls.size,
            "class_tile": None if ctx.sink is not None else cls, "params": det.params}


# ----------------------------------------------------------------------------- planning

@dataclass
class _Plan:
    job: SlideJob
    P: IHCParams
    ctx: _Context
    specs: list
    costs: list
    name: str
    level: int
    ds: tuple
    level_shape: tuple
    regs: list
    tissue_level: int
    coarse: np.ndarray
    params: dict
    px_area: float | None
    class_map: Any
    region_area_rest: dict
    timing: dict
    lowres: Any = None


def lowres_rgb(image, k, workers: int = 1) -> np.ndarray:
    """Level ``k`` as uint8 RGB, area-averaged band by band to <= TISSUE_MAX_SIDE px.

    A slide without a small enough level (one huge tiled level) is read in
    bands of rows, each reduced by the same integer factor, so the whole level
    is never in memory.  ``workers`` > 1 reads a level that needs no reduction
    in that many bands at once (the same pixels).
    """
    from ..io._slide_tiles import level_tile_shape, read_window, slide_source

    src = slide_source(image, k)
    H, W = src.shape
    f = max(1, math.ceil(max(H, W) / TISSUE_MAX_SIDE))
    if f == 1:
        st = level_tile_shape(src)
        if workers > 1 and st is not None and H >= 2 * st[0]:
            from concurrent.futures import ThreadPoolExecutor

            out = np.empty((H, W, 3), np.uint8)
            rows = math.ceil(math.ceil(H / st[0]) / workers) * st[0]     # whole stored tiles

            def band(r):
                out[r:min(H, r + rows)] = read_window(src, r, min(H, r + rows), 0, W)

            with ThreadPoolExecutor(workers) as ex:
                list(ex.map(band, range(0, H, rows)))
            return out
        return read_window(src, 0, H, 0, W)
    h, w = H // f, W // f
    out = np.empty((h, w, 3), np.uint8)
    band = max(1, (1 << 24) // max(W * f, 1)) * f          # ~16 Mpx of source per band
    for r in range(0, h * f, band):
        r1 = min(h * f, r + band)
        blk = read_window(src, r, r1, 0, w * f)
        out[r // f:r1 // f] = cv2.resize(blk, (w, (r1 - r) // f), interpolation=cv2.INTER_AREA)
    return out


def _window_fractions(coarse, level_shape, a: int, b: int) -> np.ndarray:
    """Tissue share of every ``a x b`` window of the grid anchored at (0, 0).

    Entry ``[i, j]`` is ``coarse_window(coarse, level_shape, i*a, (i+1)*a, j*b,
    (j+1)*b).mean()`` (whole windows only), from per-window counts of the
    coarse rows and columns the level's pixels map to, without sampling the
    mask per window: integer sums of the gathered coarse rows, then columns
    (no float matrix product, which woke the BLAS threads during planning).
    """
    H, W = level_shape
    nr, nc = max(1, (H - a) // a + 1), max(1, (W - b) // b + 1)

    def pairs(n_fine, n_coarse, n, side):
        # (window, coarse index) of every fine pixel, both non-decreasing: the runs of
        # equal pairs give each coarse row (column) once per window, with its count
        idx = _index_map(n_fine, n_coarse, 0, n * side)
        key = (np.arange(n * side) // side) * n_coarse + idx
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        count = np.diff(np.r_[first, key.size])
        win = key[first] // n_coarse
        return idx[first], count, np.flatnonzero(np.r_[True, win[1:] != win[:-1]])

    # integer counts (<= a * b), summed per window over the coarse rows, then columns,
    # that the window's level pixels map to
    ry, rc, rstart = pairs(H, coarse.shape[0], nr, a)
    cx, cc, cstart = pairs(W, coarse.shape[1], nc, b)
    m = coarse.view(np.uint8) if coarse.dtype == bool else (coarse != 0).view(np.uint8)
    acc = np.int32 if a * b < 2 ** 31 else np.int64
    t = np.add.reduceat(m[ry].astype(acc) * rc[:, None].astype(acc), rstart, axis=0)
    t = np.add.reduceat(t[:, cx] * cc[None, :].astype(acc), cstart, axis=1)
    return t / float(a * b)


def _scale_windows(coarse, level_shape, side=SAMPLE_SIDE, n=SAMPLE_TILES, boxes=()):
    """Windows ``(r0, r1, c0, c1)`` sampled from the slide's tissue.

    A fixed grid of ``side`` px squares over the scored level (anchored at 0,
    so the choice does not depend on the scoring tile size); those at least
    half tissue in the coarse mask (else the most tissue) and, when include
    ``boxes`` ``(r0, r1, c0, c1)`` are given, touching one of them (as scored
    tiles must), ``n`` of them evenly spread in raster order.
    """
    H, W = level_shape
    a, b = min(side, H), min(side, W)
    nr, nc = max(1, (H - a) // a + 1), max(1, (W - b) // b + 1)
    frac = (_window_fractions(coarse, level_shape, a, b) if coarse is not None
            else np.ones((nr, nc))).ravel()
    r0 = np.repeat(np.arange(nr) * a, nc)
    c0 = np.tile(np.arange(nc) * b, nr)
    cand = np.arange(frac.size)                       # raster order
    if boxes:
        near = np.zeros(frac.size, bool)
        for bb in boxes:
            near |= (bb[1] >= r0) & (bb[0] <= r0 + a) & (bb[3] >= c0) & (bb[2] <= c0 + b)
        cand = cand[near] if near.any() else cand
    good = cand[frac[cand] >= 0.5]
    if not good.size:   # the most tissue (at least one window), back in raster order
        top = cand[np.lexsort((cand, -frac[cand]))][:n]
        good = np.sort(top[frac[top] > 0] if (frac[top] > 0).any() else top[:1])
    pick = np.linspace(0, good.size - 1, min(n, good.size)).round().astype(int)
    return [(int(r0[i]), int(r0[i]) + a, int(c0[i]), int(c0[i]) + b)
            for i in good[list(dict.fromkeys(pick.tolist()))]]


def _slide_scale(src, coarse, level_shape, stains, white_point, P):
    """The slide's pixel size from its nuclei in :func:`_scale_windows`
    (:func:`~blotquant.ihc.scale.estimate_pixel_size_samples`): ``(estimate, windows)``."""
    from ..io._slide_tiles import read_window
    from .scale import estimate_pixel_size_samples

    samples, wins = [], _scale_windows(coarse, level_shape)
    for r0, r1, c0, c1 in wins:
        rgb = read_window(src, r0, r1, c0, c1)
        hem, dab = stain_maps(rgb, stains, white_point)
        tissue = fine_tissue(rgb, white_point, P.tissue_threshold) if P.tissue else None
        if tissue is not None and coarse is not None:
            tissue &= coarse_window(coarse, level_shape, r0, r1, c0, c1)
        samples.append((hem, dab, tissue, None))
    # on hematoxylin whatever the marker, as for a field (cells.detect_cells)
    est = estimate_pixel_size_samples(samples, params={**P.cell.to_dict(),
                                                       "detection_image": "hematoxylin"})
    return est, wins


def _make_sink(class_map, shape, chunk):
    if class_map is False:
        return None
    if hasattr(class_map, "configure"):      # io.slide_writers.ClassMapTiles
        return class_map.configure(shape, chunk)
    import zarr

    if class_map is None:
        class_map = zarr.storage.MemoryStore()
    if isinstance(class_map, zarr.Array):
        if tuple(class_map.shape) != tuple(shape):
            raise ParameterError(f"class_map array has shape {class_map.shape}, the scored "
                                 f"level is {shape}")
        return class_map
    return zarr.create_array(class_map, shape=tuple(shape), chunks=(chunk, chunk),
                             dtype="uint8", fill_value=0, overwrite=True)


def _plan(job: SlideJob, sid: int, tile_size: int, workers: int = 1) -> _Plan:
    from ..io._slide_tiles import level_tile_shape, slide_source
    from .score import _parse_white_point, _pixel_area_um2, _regions_digest, resolve_params

    t_start = time.perf_counter()
    image = job.image
    if not isinstance(image, Image):
        image = Image.from_array(np.asarray(image))
    P = resolve_params(job.params, dict(job.overrides))
    md = image.metadata
    shapes = _level_shapes(image)
    if md.axes not in ("YXC",):
        raise ParameterError(f"slide scoring needs an RGB brightfield slide, got axes {md.axes!r}; "
                             "read it with read_image(path, mode='rgb')", path=md.path)
    file_ps = md.pixel_size_um
    if P.pixel_size_um is not None:
        file_ps, ps_source = tuple(P.pixel_size_um), "user"
    else:
        ps_source = "file" if file_ps is not None else "unknown"
    level = choose_level(shapes, P, file_ps)
    H, W = shapes[level]
    ds = (shapes[0][0] / H, shapes[0][1] / W)
    if P.pixel_size_um is None and P.magnification is not None:
        pixel_size, ps_source = P.magnification_pixel_size(), "magnification"
    elif file_ps is not None:
        pixel_size = (file_ps[0] * ds[0], file_ps[1] * ds[1])
    else:
        pixel_size = None
    pa = _pixel_area_um2(pixel_size)
    px_area, pixel_size = (pa if pa is not None else (None, None))
    name = job.image_name or (os.path.basename(md.path) if md.path else None) or "image"

    src = slide_source(image, level)
    stored = level_tile_shape(src)
    ts = int(tile_size)
    if ts < 64:
        raise ParameterError(f"tile_size must be at least 64 px, got {tile_size}")
    if stored and stored[0] == stored[1] and stored[0] <= ts:
        ts = max(1, round(ts / stored[0])) * stored[0]

    # once per slide, at low resolution: white point and coarse tissue
    tl = _tissue_level(shapes, level)
    t0 = time.perf_counter()
    low = lowres_rgb(image, tl, workers)
    t_low = time.perf_counter() - t0
    wp_req = _parse_white_point(P.white_point)
    if isinstance(wp_req, str):
        wpi = white_point_info(low)
        wp, wp_source, wp_note = wpi["white_point"], wpi["source"], wpi["reason"]
    else:
        wp, wp_source, wp_note = np.asarray(wp_req, float), "user", ""
    wp = np.asarray(wp, float).reshape(-1)
    if wp.size == 1:
        wp = np.repeat(wp, 3)
    cds = (H / low.shape[0], W / low.shape[1])          # scored px per coarse px
    if job.tissue_mask is not None:
        coarse = np.asarray(job.tissue_mask, bool)
        tissue_source = "user"
    elif P.tissue:
        area = cds[0] * cds[1]
        coarse = detect_tissue(low, white_point=wp, threshold=P.tissue_threshold,
                               min_object_px=int(round(P.min_tissue_px / area)),
                               max_hole_px=int(round(P.max_hole_px / area)))
        if cds[0] > 1.5 or cds[1] > 1.5:
            coarse = cv2.dilate(coarse.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
        tissue_source = "detected"
    else:
        coarse = np.ones(low.shape[:2], bool)
        tissue_source = "all pixels"

    regs = as_regions(job.regions, exclude_classes=P.exclude_classes)
    regs_level = _scale_regions(regs, ds) if ds != (1.0, 1.0) else regs
    incl_boxes = [_bbox(r) for r in regs_level if r.kind == "include"]

    specs, rest = [], {}
    k = 0
    # coarse index of every level row / column (the same pixel-centre mapping as
    # coarse_window, computed once) and the mask's integral image: whether a tile
    # holds tissue and how much, without cutting the mask per tile
    row_idx = _index_map(H, coarse.shape[0], 0, H)
    col_idx = _index_map(W, coarse.shape[1], 0, W)
    integ = cv2.integral(np.ascontiguousarray(coarse, dtype=np.uint8))
    for r0 in range(0, H, ts):
        r1 = min(H, r0 + ts)
        a, b = int(row_idx[r0]), int(row_idx[r1 - 1]) + 1
        for c0 in range(0, W, ts):
            c1 = min(W, c0 + ts)
            c, d = int(col_idx[c0]), int(col_idx[c1 - 1]) + 1
            n_tissue = int(integ[b, d] - integ[a, d] - integ[b, c] + integ[a, c])
            meets = not incl_boxes or any(bb[1] >= r0 and bb[0] <= r1 and bb[3] >= c0
                                          and bb[2] <= c1 for bb in incl_boxes)
            if n_tissue and meets:
                specs.append(_TileSpec(sid, k, r0, r1, c0, c1))
                k += 1
            elif meets:   # region area of unscored tiles (geometry only)
                for nm, m in _window_masks(regs_level, r0, r1, c0, c1).items():
                    add = (r1 - r0) * (c1 - c0) if m is None else (
                        0 if m is False else int(np.count_nonzero(m)))
                    rest[nm] = rest.get(nm, 0) + add
            else:
                for nm in _window_masks(regs_level, 0, 1, 0, 1):
                    rest.setdefault(nm, 0)

    est_info, chroma_kind, phase = None, None, None
    # windows on a grid anchored at the level's origin (never the scoring tiles: the
    # estimates must not depend on the tile size), within the include regions' boxes
    crops = None
    if specs and ((isinstance(P.stains, str) and P.stains == "estimate") or P.chroma == "auto"):
        from ..io._slide_tiles import read_window
        crops = [read_window(src, *w) for w in _scale_windows(
            coarse, (H, W), STAIN_WINDOW_SIDE, STAIN_WINDOWS, incl_boxes)]
    if P.chroma == "auto" and crops:
        stack = np.concatenate([c[:, :min(x.shape[1] for x in crops)] for c in crops], axis=0)
        cinfo = detect_chroma_subsampling(stack)
        chroma_kind = cinfo["subsampling"]
        if chroma_kind == "4:2:0" and P.mode == "pixel":
            phase = cinfo["phase"]
    elif P.chroma == "4:2:0":
        chroma_kind, phase = "given", (0, 0)
    if isinstance(P.stains, str) and P.stains == "estimate":
        if not crops:
            raise ParameterError("stains='estimate' needs tissue on the slide; none was found",
                                 path=md.path)
        pix = np.concatenate([c.reshape(-1, 1, 3) for c in crops], axis=0)
        fine = np.concatenate([fine_tissue(c, wp, P.tissue_threshold).reshape(-1, 1)
                               for c in crops], axis=0)
        est_info = estimate_stains(pix, white_point=wp, mask=fine if fine.any() else None,
                                   return_info=True, **dict(P.stain_estimation))
        m = est_info["matrix"]
        stain_source = "estimated"
    else:
        m = as_stain_matrix(P.stains)
        stain_source = "default" if isinstance(P.stains, str) else "user"
    # colours no mix of the two stains makes (an H&E slide scored as H-DAB), once per
    # slide: on the full-resolution sample crops, else on the low-resolution level
    if crops:
        fit_rgb = np.concatenate([c.reshape(-1, 1, 3) for c in crops], axis=0)
        fit_mask = np.concatenate([fine_tissue(c, wp, P.tissue_threshold).reshape(-1, 1)
                                   for c in crops], axis=0)
    else:
        fit_rgb = low
        fit_mask = coarse if coarse.shape == low.shape[:2] else None
    fit = stain_fit(fit_rgb, m, wp,
                    mask=fit_mask if fit_mask is not None and fit_mask.any() else None,
                    reference=as_stain_matrix("default") if stain_source == "estimated" else None)
    del fit_rgb, fit_mask

    # cell mode without a pixel size: the scale from the nuclei, once per slide, on
    # windows placed independently of the scoring tiles (never per tile: tiles would
    # disagree, and the halo and the micrometre parameters need it before the tiles)
    scale_est = None
    if P.mode == "cell" and pixel_size is None and P.cell.estimate_pixel_size:
        scale_est, scale_wins = _slide_scale(src, coarse, (H, W), m, wp, P)
        if scale_est.pixel_size_um is not None:
            v = float(scale_est.pixel_size_um)
            pixel_size, ps_source, px_area = (v, v), "estimated", v * v

    params = P.to_dict()
    params.update({
        "compartment_used": P.compartment_used(),
        "stain_matrix": np.asarray(m, float).tolist(), "stain_source": stain_source,
        "stain_fit": fit, "stain_note": stain_fit_note(fit),
        "white_point_used": wp.tolist(), "white_point_source": wp_source,
        "white_point_note": wp_note, "tissue_source": tissue_source,
        "region_names": [r.name + ":" + r.kind for r in regs],
        "regions_sha256": _regions_digest(regs),
        "pixel_size_used": None if pixel_size is None else list(pixel_size),
        "pixel_size_source": ps_source,
        **({} if scale_est is None else {
            "pixel_size_estimate": {**scale_est.as_dict(),
                                    "windows": [list(w) for w in scale_wins]},
            "pixel_size_note": (f"estimated once for the slide from the nuclei of "
                                f"{len(scale_wins)} windows of {SAMPLE_SIDE} px "
                                f"({scale_est.n_nuclei} nuclei); give pixel_size_um or "
                                "magnification if known" if scale_est.pixel_size_um is not None
                                else f"no estimate ({scale_est.note}): cells detected at the "
                                f"assumed {P.cell.assumed_pixel_size_um:g} um/px")}),
        "chroma_subsampling": chroma_kind, "chroma_restored": phase is not None,
        "input_conversion": None, "od_convention": "QuPath log10, max(v,1), clip>=0",
        "slide": {"level": level, "level_shape": [H, W], "downsample": list(ds),
                  "tissue_level": tl, "tissue_shape": list(coarse.shape),
                  "tile_size": ts, "tiles_scored": len(specs),
                  "tiles_total": math.ceil(H / ts) * math.ceil(W / ts),
                  "tissue": "coarse mask (tissue level, grown 1 px) and OD sum >= "
                            "tissue_threshold per pixel",
                  "chroma_restoration": "per stored tile" if phase is not None else None,
                  # an execution detail (not in params_hash): which PixelKernel path ran
                  "pixel_kernel": _kernel_implementation() if P.mode == "pixel" else None},
    })
    if est_info is not None:
        params["stain_estimate"] = {k2: v for k2, v in est_info.items() if k2 != "matrix"}
        params["stain_estimate"].update(dict(P.stain_estimation))
    sink = _make_sink(job.class_map, (H, W), ts)
    if hasattr(sink, "expect"):              # ClassMapTiles: which tiles will come
        sink.expect([(s.r0, s.c0) for s in specs],
                    pixel_size_um=None if pixel_size is None else tuple(pixel_size), lowres=low)
    halo = 0
    cell = {}
    if P.mode == "cell":
        cell = P.cell.to_dict()
        halo = cell_halo_px(P.cell, pixel_size or (P.cell.assumed_pixel_size_um,) * 2)
        work = slide_working_pixel_size(P.cell.requested_pixel_size_um, pixel_size)
        if work is not None:
            cell["requested_pixel_size_um"] = work
        params["slide"]["cell_working_pixel_size_um"] = work
    costs = _plan_costs(specs, regs_level, halo, (H, W), row_idx, col_idx, integ)
    ctx = _Context(source=src, mode=P.mode, thresholds=tuple(P.thresholds), stains=np.asarray(m),
                   white_point=wp, tissue=bool(P.tissue) or job.tissue_mask is not None,
                   fine=bool(P.tissue) and job.tissue_mask is None, tissue_threshold=P.tissue_threshold, coarse=coarse, level_shape=(H, W),
                   regions=regs_level, need_dab=True, restore_phase=phase, halo=halo,
                   pixel_size=pixel_size, cell=cell, compartment=P.compartment_used(),
                   measure=P.measure, sink=sink, ds=ds)
    timing = {"prepare_s": time.perf_counter() - t_start, "lowres_read_s": t_low}
    return _Plan(job=job, P=P, ctx=ctx, specs=specs, costs=costs, name=name, level=level, ds=ds,
                 level_shape=(H, W), regs=regs, tissue_level=tl, coarse=coarse, params=params,
                 px_area=px_area, class_map=sink, region_area_rest=rest, timing=timing,
                 lowres=low)


# ----------------------------------------------------------------------------- engine

def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: Estimated cost of a tile's pixels outside the coarse tissue mask, relative to
#: tissue pixels (not decoded, but cut and counted; class-map tiles are checked).
_GLASS_COST = 0.05


def _plan_costs(specs, regions, halo, level_shape, row_idx, col_idx, integ) -> list:
    """Estimated relative cost of each tile: the pixels it reads (pixel mode: the
    tile; cell mode: its part that can hold a region's cells, with the halo, as
    :func:`_cell_tile` reads it), tissue pixels of the coarse mask weighted 1 and the
    others :data:`_GLASS_COST`."""
    H, W = level_shape
    out = []
    for s in specs:
        r0, r1, c0, c1 = s.r0, s.r1, s.c0, s.c1
        if halo:
            r0, r1, c0, c1 = _active_core(regions, r0, r1, c0, c1, (halo + 1) // 2)
            r0, r1, c0, c1 = max(0, r0 - halo), min(H, r1 + halo), max(0, c0 - halo), \
                min(W, c1 + halo)
        a, b = int(row_idx[r0]), int(row_idx[r1 - 1]) + 1
        c, d = int(col_idx[c0]), int(col_idx[c1 - 1]) + 1
        frac = float(integ[b, d] - integ[a, d] - integ[b, c] + integ[a, c]) / ((b - a) * (d - c))
        out.append((r1 - r0) * (c1 - c0) * (_GLASS_COST + (1.0 - _GLASS_COST) * frac))
    return out


def _run_order(costs: Sequence[float], workers: int) -> list:
    """The order in which the tiles run: their (row-major) order, then, for the last
    tiles, the most expensive first.

    Row-major order lets the class-map pyramid be written while the slide is
    scored (a row of TIFF tiles goes to the file once the tiles above it are in).
    The last tiles, whose total estimated cost is at most ``2 * workers`` times
    the largest tile's, run largest first (longest-processing-time order): the
    run does not end with one worker finishing a large tile while the others wait.

    Examples
    --------
    >>> _run_order([5, 5, 5, 5, 1, 4, 2], 1)
    [0, 1, 2, 3, 5, 6, 4]
    """
    n = len(costs)
    if n == 0:
        return []
    budget = 2.0 * max(1, workers) * max(costs)
    k, rest = n, 0.0
    while k > 0 and (rest + costs[k - 1] <= budget or n - k < 2 * workers):
        k -= 1
        rest += costs[k]
    tail = sorted(range(k, n), key=lambda i: (-costs[i], i))
    return list(range(k)) + tail


def _tile_graph(plans, workers):
    """The tiles of ``plans`` as a dask graph: one node per slide context, one task
    per tile, keyed so that dask runs them in :func:`_run_order` (its ordering runs
    the key that sorts last first among independent tasks); and the tile keys, in
    tile order.

    A plain graph (``{key: (function, *arguments)}``, the dask graph specification)
    rather than ``dask.delayed``: delayed traverses every argument of every task
    (the context's fields) and builds an expression that ``dask.compute`` then
    optimises, ~1 ms of CPU per tile before the first one starts.
    """
    costs = [c for p in plans for c in p.costs]
    n = len(costs)
    rank = [0] * n
    for r, i in enumerate(_run_order(costs, workers)):
        rank[i] = r
    dsk, keys, i = {}, [], 0
    for j, p in enumerate(plans):
        ctx_key = f"blotquant-context-{j}"
        dsk[ctx_key] = p.ctx
        for s in p.specs:
            key = f"blotquant-tile-{n - rank[i]:07d}-s{s.slide}-t{s.index}"
            dsk[key] = (_score_tile, ctx_key, s)
            keys.append(key)
            i += 1
    return dsk, keys


def _run_local(dsk, keys, kind, workers, on_done):
    """The tile graph on dask's local scheduler with our own pool (``kind``: "threads"
    or "processes"), so an interrupt or an error waits for the tiles in flight; the
    results of ``keys``, in order."""
    wanted = set(keys)

    def posttask(key, result, dsk, state, worker_id):
        if key in wanted:
            on_done(result)

    # the scheduler's get function itself: a name would make dask import
    # dask.distributed to look for a client (1 s of CPU per run)
    if kind == "threads":
        from concurrent.futures import ThreadPoolExecutor

        from dask.threaded import get
        pool = ThreadPoolExecutor(workers, thread_name_prefix="blotquant-tile")
    elif kind == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from dask.multiprocessing import get
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        raise ValueError(f"no local pool for {kind!r}")
    try:   # callbacks of this run only (not registered for every dask computation)
        return list(get(dsk, keys, num_workers=workers, pool=pool,
                        callbacks=[(None, None, None, posttask, None)]))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_distributed(plans, client, on_done):
    from distributed import as_completed

    futures, order = [], {}
    for p in plans:
        ctx_f = client.scatter(p.ctx, broadcast=False, hash=False)
        for s in p.specs:
            f = client.submit(_score_tile, ctx_f, s, pure=False, key=f"blotquant-tile-{s.slide}-{s.index}-{id(p)}")
            order[f.key] = (s.slide, s.index)
            futures.append(f)
    results = {}
    try:
        for f in as_completed(futures):
            r = f.result()
            p = plans[r["spec"].slide]
            if r.get("class_tile") is not None and p.class_map is not None:
                s = r["spec"]
                p.class_map[s.r0:s.r1, s.c0:s.c1] = r["class_tile"]
                r["class_tile"] = None
            results[order[f.key]] = r
            on_done(r)
            f.release()
    except BaseException:
        client.cancel(futures)
        raise
    return [results[(s.slide, s.index)] for p in plans for s in p.specs]


def _client(scheduler):
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover - dask[distributed] is a dependency
        raise ParameterError("scheduler= needs dask.distributed (pip install "
                             "'dask[distributed]')") from err
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(str(scheduler), timeout="10s"), True
    except (OSError, TimeoutError) as err:
        raise ParameterError(f"cannot connect to the dask scheduler at {scheduler!r} "
                             f"({type(err).__name__}: {err}); start it first (dask scheduler) "
                             "or check the address") from None


def _shareable(sink) -> bool:
    import zarr

    if sink is None:
        return True
    if hasattr(sink, "configure"):           # ClassMapTiles: a spool of this process
        return False
    store = getattr(sink, "store", None)
    return isinstance(store, zarr.storage.LocalStore)


# ----------------------------------------------------------------------------- assembly

def _assemble(plan: _Plan, results: list) -> SlideResult:
    P = plan.P
    params = plan.params
    names = list(_window_masks(plan.ctx.regions, 0, 1, 0, 1).keys())
    counts = {n: np.zeros(5, np.int64) for n in names}
    dsum = {n: 0.0 for n in names}
    area = {n: int(plan.region_area_rest.get(n, 0)) for n in names}
    tissue_px = {n: 0 for n in names}
    tiles, cell_parts = [], []
    cell_params = None
    next_id = 1
    for r in results:
        s = r["spec"]
        n_sc = 0
        for nm, row in r["rows"].items():
            area[nm] += row[2]
            if P.mode == "pixel":
                counts[nm] += row[0]
                dsum[nm] += row[1]
                n_sc += int(row[0][1:].sum())
            else:
                tissue_px[nm] += row[3]
                counts[nm] += row[0]            # pixel classes beside the cells
        if P.mode == "cell":
            cell_params = r.get("params", cell_params)
            kept = r["cells"]
            ids = np.arange(next_id, next_id + len(kept), dtype=np.int64)
            next_id += len(kept)
            kept = kept.assign(cell=ids)
            for nm in names:
                sel = r["member"][nm]
                if sel.any():
                    part = kept.loc[sel].copy()
                    part.insert(0, "region", nm)
                    part.insert(0, "image", plan.name)
                    cell_parts.append(part)
            n_sc = len(kept)
        tiles.append({"image": plan.name, "tile": s.index, "r0": s.r0, "r1": s.r1, "c0": s.c0,
                      "c1": s.c1, "scored": n_sc, "seconds": r["seconds"]})
    rows = []
    px_area = plan.px_area
    if P.mode == "pixel":
        for nm in names:
            n_px = int(counts[nm][1:].sum())
            rows.append({"region": nm, "counts": counts[nm][1:5],
                         "mean_dab_od": dsum[nm] / n_px if n_px else math.nan,
                         "area_px": n_px, "area_um2": n_px * px_area if px_area else math.nan,
                         "region_area_px": area[nm]})
        cells = pd.DataFrame(columns=["image", "region", "cell", "class", "class_name"])
    else:
        from .cells import TABLE_COLUMNS

        if cell_parts:
            cells = pd.concat(cell_parts, ignore_index=True)
        else:
            cells = pd.DataFrame(columns=["image", "region", *TABLE_COLUMNS, "y_level",
                                          "x_level"])
        col = f"{P.compartment_used()}_dab_od_{P.measure}"
        cls = intensity_classes(cells[col].to_numpy(float), P.thresholds) if len(cells) else \
            np.zeros(0, np.uint8)
        cells["class"] = cls.astype(np.int64)
        cells["class_name"] = [CELL_CLASS_NAMES[k] for k in cls]
        for nm in names:
            sub = cells[cells["region"] == nm]
            k = cls[(cells["region"] == nm).to_numpy()] if len(cells) else np.zeros(0, np.uint8)
            vals = sub[col].to_numpy(float)
            rows.append({"region": nm, "counts": np.bincount(k, minlength=4)[:4],
                         "mean_dab_od": float(np.nanmean(vals)) if np.isfinite(vals).any()
                         else math.nan,
                         "area_px": tissue_px[nm],
                         "area_um2": tissue_px[nm] * px_area if px_area else math.nan,
                         "region_area_px": area[nm], "pixel_counts": counts[nm][1:5]})
        if cell_params is not None:
            params["cell_detection"] = cell_params
    summary = build_summary(rows, image_name=plan.name, mode=P.mode, params=params)
    return SlideResult(
        summary=summary, cells=cells, class_map=plan.class_map, level=plan.level,
        downsample=plan.ds, level_shape=plan.level_shape, tissue_lowres=plan.coarse,
        tissue_level=plan.tissue_level, white_point=plan.ctx.white_point,
        stains=plan.ctx.stains, regions=plan.regs, params=params,
        tiles=pd.DataFrame(tiles, columns=["image", "tile", "r0", "r1", "c0", "c1", "scored",
                                           "seconds"]),
        image_name=plan.name, timing=plan.timing, lowres=plan.lowres)


# ----------------------------------------------------------------------------- public API

def score_slides(jobs: Sequence[SlideJob], *, tile_size: int = DEFAULT_TILE_SIZE,
                 scheduler=None, workers: int | None = None,
                 progress: Callable[[SlideProgress], None] | None = None) -> list:
    """Score several slides with their tiles scheduled together (one dask job).

    Parameters
    ----------
    jobs : sequence of SlideJob
    tile_size, scheduler, workers, progress
        As :func:`score_slide`; progress counts the tiles of all slides.

    Returns
    -------
    list of SlideResult, in the order of ``jobs``.

    Raises
    ------
    ParameterError, ImageReadError, StainEstimationError
        As :func:`score_slide` (planning happens before any tile runs).
    """
    t0 = time.perf_counter()
    if workers is not None and int(workers) < 1:
        raise ParameterError(f"workers must be >= 1, got {workers}")
    local = scheduler in (None, "threads", "threading")
    plan_workers = (int(workers) if workers else _default_workers()) if local else 1
    plans = [_plan(j, i, tile_size, plan_workers) for i, j in enumerate(jobs)]
    total = sum(len(p.specs) for p in plans)
    state = {"done": 0, "pixels": 0}
    lock = threading.Lock()
    t_run = time.perf_counter()

    def on_done(r):
        with lock:
            state["done"] += 1
            state["pixels"] += int(r.get("pixels", 0))
            info = SlideProgress(state["done"], total, state["pixels"],
                                 time.perf_counter() - t_run)
        if progress is not None:
            progress(info)

    if workers is not None and int(workers) < 1:
        raise ParameterError(f"workers must be >= 1, got {workers}")
    if scheduler in (None, "threads", "threading", "sync", "synchronous", "processes"):
        kind = scheduler or "threads"
        nw = int(workers) if workers else _default_workers()
        if kind == "processes" and not all(_shareable(p.class_map) for p in plans):
            raise ParameterError("scheduler='processes' needs class_map= a zarr LocalStore "
                                 "(a folder) or False: worker processes cannot write into "
                                 "an in-memory store")
        kind = {"threading": "threads", "synchronous": "sync"}.get(kind, kind)
        if kind == "sync":        # in this thread, tile by tile (tests, debugging)
            results = []
            for p in plans:
                for s in p.specs:
                    results.append(_score_tile(p.ctx, s))
                    on_done(results[-1])
        else:
            dsk, keys = _tile_graph(plans, nw)
            results = _run_local(dsk, keys, kind, nw, on_done)
    else:
        client, own = _client(scheduler)
        try:
            for p in plans:
                if not _shareable(p.class_map):
                    p.ctx.sink = None        # tiles come back to the client, written here
            results = _run_distributed(plans, client, on_done)
        finally:
            if own:
                client.close()
    for p in plans:
        if hasattr(p.class_map, "done"):     # ClassMapTiles: every tile is in
            p.class_map.done()
    out, i = [], 0
    same_clock = scheduler in (None, "threads", "threading", "sync", "synchronous", "processes")
    for p in plans:
        n = len(p.specs)
        p.timing["tiles_s"] = time.perf_counter() - t_run
        mine = results[i:i + n]
        if same_clock and mine:       # the engine's start-up, and the end of the last tile
            p.timing["first_tile_s"] = min(r["started"] for r in mine) - t_run
            p.timing["last_tile_end_s"] = max(r["started"] + r["seconds"] for r in mine) - t_run
        p.timing["total_s"] = time.perf_counter() - t0
        out.append(_assemble(p, results[i:i + n]))
        i += n
    return out


def score_slide(image, params: IHCParams | None = None, *, regions=None,
                tile_size: int = DEFAULT_TILE_SIZE, scheduler=None, workers: int | None = None,
                progress: Callable[[SlideProgress], None] | None = None, class_map=None,
                tissue_mask=None, image_name: str | None = None, **overrides) -> SlideResult:
    """Score a whole slide (or any large RGB image) tile by tile.

    Parameters
    ----------
    image : Image or uint8 RGB array
        A slide from :func:`blotquant.io.read_image` (lazy pyramid levels), or
        an in-memory image (one level).
    params : IHCParams, optional
        Every analysis parameter, as for :func:`~blotquant.ihc.score_ihc`;
        ``level`` / ``magnification`` choose the scored level.
        ``pixel_size_um`` overrides the file's level-0 pixel size.
    regions : regions, optional
        Include/exclude polygons in **level-0** pixel coordinates (QuPath GeoJSON).
    tile_size : int
        Tile edge in pixels of the scored level (rounded to a multiple of the
        stored tile).  An execution setting: results do not depend on it.
    scheduler : None, "threads", "processes", "sync", address or distributed.Client
        Local dask threads (default), local processes, in the calling thread,
        or a ``dask.distributed`` cluster (``"tcp://host:8786"``).  Workers of
        a cluster reopen the slide by its path.
    workers : int, optional
        Local threads/processes (default: one per available core).
    progress : callable, optional
        Called with a :class:`SlideProgress` after each tile.
    class_map : zarr store or array, ClassMapTiles, False, optional
        Where the uint8 class map is written tile by tile (default: an
        in-memory zarr store; False: not kept; a
        :class:`~blotquant.io.slide_writers.ClassMapTiles`: compressed OME-TIFF
        tiles made in the tile workers, for writing the pyramid).  Processes and remote clusters
        need a folder store (``zarr.storage.LocalStore``) or False; with a
        cluster and an in-memory store, tiles are sent back and written by the
        caller.
    tissue_mask : bool array, optional
        Low-resolution tissue mask (any shape covering the slide) used instead
        of tissue detection.
    image_name : str, optional
        ``image`` column (default: the file name).
    **overrides
        :class:`IHCParams` fields (``mode="pixel"``, ``thresholds=...``).

    Returns
    -------
    SlideResult

    Raises
    ------
    ParameterError
        Non-RGB slide, bad level, parameters, regions or scheduler address.
    StainEstimationError
        ``stains="estimate"`` and too few stained pixels in the sample tiles.

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> s = make_ihc(seed=1, shape=(384, 384))
    >>> r = score_slide(s.image, mode="pixel", tile_size=128, scheduler="sync")
    >>> list(r.summary.region), r.level, r.level_shape
    (['image'], 0, (384, 384))
    """
    job = SlideJob(image=image, params=params, regions=regions, image_name=image_name,
                   class_map=class_map, tissue_mask=tissue_mask, overrides=overrides)
    return score_slides([job], tile_size=tile_size, scheduler=scheduler, workers=workers,
                        progress=progress)[0]
