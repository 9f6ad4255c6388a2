"""Pixel mode: DAB OD map and pixel classes of an RGB image in one fused pass.

The class codes and the threshold rule are those of :mod:`blotquant.ihc.classify`.

:class:`PixelKernel` computes the DAB OD (and the tissue OD sum) of every
pixel with per-channel tables (:func:`score_pixels_rgb`, which also returns
the DAB map, runs it), in one of two ways with identical classes and counts:
the compiled loop ``blotquant/ihc/_pixelc.c`` (one pass per part, the GIL
released; used when it is built, see :func:`compiled_kernel`) or NumPy/OpenCV
calls on cache-sized blocks.  (A third, measured and not used: a 2^24-entry
colour table, ``benchmarks/_colour_table.py``.)

Examples
--------
>>> import numpy as np
>>> rgb = np.array([[[255, 255, 255], [150, 100, 60]]], np.uint8)
>>> score_pixels_rgb(rgb)[1].tolist()
[[1, 4]]
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from .classify import check_thresholds
from .params import DEFAULT_THRESHOLDS

__all__ = ["score_pixels_rgb", "class_counts", "PixelKernel", "KernelResult", "KERNEL_BLOCK_PX",
           "compiled_kernel", "compiled_module", "PURE_PYTHON_ENV"]

#: Environment variable: ``1`` makes :class:`PixelKernel` use its NumPy/OpenCV
#: path even when the compiled loop is built (read when a kernel is made).
PURE_PYTHON_ENV = "BLOTQUANT_PURE_PYTHON"


def compiled_module(name: str):
    """A compiled extension module of :mod:`blotquant.ihc` by name, or None.

    The one place that reads :data:`PURE_PYTHON_ENV` (at every call, so a test
    can switch it) and imports an extension: None when the variable is ``1`` or
    the module was not built.

    Parameters
    ----------
    name : str
        Module name inside :mod:`blotquant.ihc`, e.g. ``"_pixelc"`` or ``"_cellc"``.

    Returns
    -------
    module or None

    Examples
    --------
    >>> compiled_module("_no_such_module") is None
    True
    """
    if os.environ.get(PURE_PYTHON_ENV) == "1":
        return None
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError:
        return None


def compiled_kernel():
    """The compiled pixel loop (module ``blotquant.ihc._pixelc``), or None.

    None when the extension was not built (a pure-Python install: no C
    compiler at build time) or when the environment variable
    :data:`PURE_PYTHON_ENV` is ``1``.

    Returns
    -------
    module or None
        The extension, whose ``score`` function is one pass of
        :class:`PixelKernel` with the GIL released.

    Examples
    --------
    >>> compiled_kernel() is None or callable(compiled_kernel().score)
    True
    """
    return compiled_module("_pixelc")


def score_pixels_rgb(rgb: ArrayLike, thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS, *,
                     stains: Any = "default", white_point: float | ArrayLike = 255,
                     mask: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fused pixel scoring of uint8 RGB: DAB OD map and classes in one cache-sized pass.

    Same result as ``classify_pixels(stain_maps(rgb, stains, white_point)[1],
    thresholds, mask)``, computed by :class:`PixelKernel` (the kernel of
    pixel mode on slides) block by block in the CPU cache.

    Parameters
    ----------
    rgb : array_like of uint8, shape (rows, cols, 3)
        The RGB image.
    thresholds : (t1, t2, t3) or (t,)
        DAB OD thresholds, validated by
        :func:`~blotquant.ihc.classify.check_thresholds`.
    stains : str, array_like or dict, optional
        Stain vectors, as for :func:`~blotquant.ihc.deconvolution.as_stain_matrix`.
    white_point : float or (r, g, b), optional
        Intensity of unstained glass.
    mask : array_like of bool, optional
        Pixels to score; others get class 0.

    Returns
    -------
    dab_od : numpy.ndarray of float32
        DAB optical density, shape (rows, cols).
    classes : numpy.ndarray of uint8
        Class codes 0 (unscored) .. 4 (3+), shape (rows, cols).

    Raises
    ------
    ParameterError
        If ``rgb`` is not uint8 RGB, ``mask`` has another shape, or the
        thresholds or stains are invalid.

    Examples
    --------
    >>> rgb = np.array([[[255, 255, 255], [150, 100, 60]]], np.uint8)
    >>> dab, cls = score_pixels_rgb(rgb)
    >>> cls.tolist(), round(float(dab[0, 1]), 3)
    ([[1, 4]], 0.799)
    """
    from .deconvolution import _check_rgb

    a = _check_rgb(rgb)
    if a.dtype != np.uint8 or a.ndim != 3:
        raise ParameterError("score_pixels_rgb needs uint8 RGB (rows, cols, 3)")
    k = PixelKernel(thresholds, stains=stains, white_point=white_point)
    dab = np.empty(a.shape[:2], np.float32)
    cls = k.run(a, mask=mask, regions={}, dab_out=dab).classes
    return dab, cls


#: Pixels per block of :class:`PixelKernel`: its buffers (about 14 bytes per
#: pixel) stay in one core's L2 cache.
KERNEL_BLOCK_PX = 65536


@dataclass
class KernelResult:
    """Output of :meth:`PixelKernel.run`.

    Attributes
    ----------
    classes : uint8 (rows, cols)
        Codes 0 (unscored) .. 4 (3+).
    counts : dict name -> int64 array of 5
        Pixels of each code 0..4 inside the region (code 0: region pixels
        that are not scored).
    dab_sum : dict name -> float
        Sum of the DAB OD over the scored pixels of the region.
    """

    classes: np.ndarray
    counts: dict
    dab_sum: dict


class _State:
    """What the blocks of one kernel call share."""

    __slots__ = ("whole", "skip")

    def __init__(self, whole):
        self.whole = whole          # no region masks: counts from the comparisons
        self.skip = 0               # blocks left before looking for candidates again


_ONE = np.array(1, np.uint8)
_CODES = [np.array(j, np.uint8) for j in range(5)]
_NAMES = ("d", "t", "s", "b", "sc", "u", "c", "k", "k2", "p", "p2")


class _Workspace:
    """One thread's kernel buffers (``n`` pixels each) and their 2-D views by block shape."""

    def __init__(self, n):
        self.n = n
        self.d, self.t, self.s = (np.empty(n, np.float32) for _ in range(3))
        self.chans = [np.empty(n, np.uint8) for _ in range(3)]
        self.b, self.sc = np.empty(n, bool), np.empty(n, bool)
        self.u, self.c, self.k, self.k2 = (np.empty(n, np.uint8) for _ in range(4))
        self.p, self.p2 = np.empty(n, np.float64), np.empty(n, np.float64)
        self._views: dict = {}

    def views(self, rows, cols):
        """The buffers as (rows, cols) arrays (made once per block shape)."""
        v = self._views.get((rows, cols))
        if v is None:
            k = rows * cols
            v = _Views()
            for name in _NAMES:
                setattr(v, name, getattr(self, name)[:k].reshape(rows, cols))
            v.chans = [x[:k].reshape(rows, cols) for x in self.chans]
            if len(self._views) > 64:           # many odd shapes (slide edges): start over
                self._views.clear()
            self._views[(rows, cols)] = v
        return v


class _Views:
    __slots__ = _NAMES + ("chans",)


class BlockMask:
    """A part's mask given on a coarser grid: pixel ``(y, x)`` is ``coarse[y // fy, x // fx]``.

    What a slide's coarse tissue mask is on a stored tile when each coarse
    pixel covers ``fy x fx`` level pixels.  The compiled kernel reads it as it
    is (no full-resolution mask is made); everything else expands it
    (:meth:`expand`, ``np.asarray``).

    Parameters
    ----------
    coarse : bool array, shape (ceil(rows / fy), ceil(cols / fx))
    fy, fx : int
        Level pixels per coarse pixel (>= 1).
    shape : (rows, cols)
        The part's shape.

    Examples
    --------
    >>> m = BlockMask(np.array([[True, False]]), 2, 3, (2, 5))
    >>> m.expand().astype(int).tolist()
    [[1, 1, 1, 0, 0], [1, 1, 1, 0, 0]]
    """

    __slots__ = ("coarse", "fy", "fx", "shape")
    dtype = np.dtype(bool)

    def __init__(self, coarse, fy: int, fx: int, shape):
        self.coarse = np.asarray(coarse, bool)
        self.fy, self.fx = int(fy), int(fx)
        self.shape = (int(shape[0]), int(shape[1]))
        if (self.fy < 1 or self.fx < 1 or self.coarse.shape
                != (-(-self.shape[0] // self.fy), -(-self.shape[1] // self.fx))):
            raise ParameterError(f"a coarse mask of {self.coarse.shape} does not cover "
                                 f"{self.shape} px at {self.fy} x {self.fx} px per value")

    def expand(self) -> np.ndarray:
        """The full-resolution bool mask of :attr:`shape`."""
        c = self.coarse
        m = cv2.resize(c.view(np.uint8), (c.shape[1] * self.fx, c.shape[0] * self.fy),
                       interpolation=cv2.INTER_NEAREST).view(bool)
        return m[:self.shape[0], :self.shape[1]]

    def __array__(self, dtype=None, copy=None):
        m = self.expand()
        return m if dtype is None else m.astype(dtype)


def _check_mask(m, shape):
    m = np.asarray(m, bool)
    if m.shape != tuple(shape):
        raise ParameterError(f"mask shape {m.shape} does not match image {tuple(shape)}")
    return np.ascontiguousarray(m)


def _part_inputs(shape, mask, regions):
    """The checked inputs of a ``run_parts`` scorer: ``(H, W, part_mask, rmask)``.

    ``part_mask(y0, y1, x0, x1)`` gives a part's mask (None, False or a bool
    array; None when ``mask`` is None), ``rmask`` the region masks of ``shape``
    (``{"image": None}`` without regions)."""
    H, W = (int(v) for v in shape)
    if mask is None or callable(mask):
        part_mask = mask
    else:
        full = _check_mask(mask, (H, W))

        def part_mask(ya, yb, xa, xb):
            return full[ya:yb, xa:xb]
    rmask = {k: (v if v is None or v is False else _check_mask(v, (H, W)))
             for k, v in ({"image": None} if regions is None else dict(regions)).items()}
    return H, W, part_mask, rmask


def _scored_parts(parts, shape, part_mask, rmask, cls, counts, scorer: str, expand=True):
    """The parts of a ``run_parts`` call that are to be scored.

    Yields ``(y0, x0, h, w, pixels, part_mask)`` for each part with pixels
    and a mask that is not False; the others get code 0 in ``cls`` and their
    region pixels are counted in class 0 of ``counts``.  Raises
    ``ParameterError`` for a part outside ``shape``, pixels that are not uint8
    RGB of the part's size (naming ``scorer``), and, once the parts run out,
    parts that do not cover ``shape``.  A :class:`BlockMask` is expanded to a
    bool array unless ``expand`` is False."""
    H, W = shape
    covered = 0
    for y0, x0, h, w, part in parts:
        if y0 < 0 or x0 < 0 or y0 + h > H or x0 + w > W:
            raise ParameterError(f"part at ({y0}, {x0}) of {h} x {w} px is outside the "
                                 f"image {(H, W)}")
        covered += h * w
        xs = slice(x0, x0 + w)
        pm = None if part_mask is None else part_mask(y0, y0 + h, x0, x0 + w)
        if part is None or pm is False:          # nothing scored here
            cls[y0:y0 + h, xs] = 0
            for name, rm in rmask.items():
                if rm is not False:
                    counts[name][0] += (h * w if rm is None
                                        else int(np.count_nonzero(rm[y0:y0 + h, xs])))
            continue
        if part.dtype != np.uint8 or part.ndim != 3 or part.shape != (h, w, 3):
            raise ParameterError(f"{scorer} needs uint8 RGB parts of {h} x {w} "
                                 f"px, got {part.dtype} {part.shape}")
        if expand and isinstance(pm, BlockMask):
            pm = pm.expand()
        yield y0, x0, h, w, part, pm
    if covered != H * W:
        raise ParameterError(f"the parts cover {covered} px of an image of {H * W} px")


def _weighted(ch, luts, out, tmp):  # out, tmp: C-contiguous float32 of the planes' shape
    """``(T_R[R] + T_G[G]) + T_B[B]`` into ``out`` (float32): the order of
    :func:`~blotquant.ihc.deconvolution.weighted_od_rows`, so the same bits."""
    cv2.LUT(ch[0], luts[0], dst=out)
    cv2.LUT(ch[1], luts[1], dst=tmp)
    cv2.add(out, tmp, dst=out)
    cv2.LUT(ch[2], luts[2], dst=tmp)
    cv2.add(out, tmp, dst=out)


def _weighted_pair(ch, pair_luts, p, p2, dab, od_sum):
    """DAB OD and OD sum of a block from three lookups: each table entry holds both
    float32 values, the two sums are formed pairwise in the order of
    :func:`_weighted` (same bits), then split into ``dab`` and ``od_sum``."""
    cv2.LUT(ch[0], pair_luts[0], dst=p)
    cv2.LUT(ch[1], pair_luts[1], dst=p2)
    pf, p2f = p.view(np.float32), p2.view(np.float32)
    cv2.add(pf, p2f, dst=pf)
    cv2.LUT(ch[2], pair_luts[2], dst=p2)
    cv2.add(pf, p2f, dst=pf)
    cv2.split(pf.reshape(p.shape[0], p.shape[1], 2), [dab, od_sum])


class PixelKernel:
    """THE pixel-mode kernel: classes, class counts and DAB OD sums of uint8 RGB.

    One pass over the image in blocks of :data:`KERNEL_BLOCK_PX` pixels.  Per
    block, while it is in the CPU cache: the DAB OD ``(T_R[R] + T_G[G]) +
    T_B[B]`` (float32; the tables and the order of
    :func:`~blotquant.ihc.deconvolution.weighted_od`, so the values equal
    :func:`~blotquant.ihc.deconvolution.stain_maps`' DAB map bit for bit);
    the class by the one threshold rule of :mod:`~blotquant.ihc.classify`
    (``>=`` in float32, as :func:`~blotquant.ihc.classify.classify_pixels`),
    the pixels at or above each threshold counted from the same comparisons;
    optionally the pointwise tissue test (OD sum ``>= tissue_threshold``
    in float32, as :func:`~blotquant.ihc.slide.fine_tissue`); then each
    region's class counts and DAB sum.  Every step is one OpenCV or NumPy
    call on reused buffers (SIMD, the GIL released): no 16 MB colour table,
    no random memory access, nothing per pixel in Python, so threads scale.

    The tissue test is evaluated only where it can fail.  The per-channel
    OD tables are >= 0, so a float32 sum of them is at least each term: a
    pixel with one channel whose OD reaches the threshold is tissue.  Only
    pixels bright in all three channels (*candidates*, one uint8 threshold
    per channel) can fail; their OD sum is computed exactly (gathered from
    the same tables, same order) when they are few, the whole block's when
    they are many (more than ``sparse_fraction`` of it); after such a block
    only one in ``probe_every`` looks for candidates.  Results do not depend
    on which route a block takes.

    Parameters
    ----------
    thresholds : (t1, t2, t3) or (t,)
    stains : str, array_like or dict
        As :func:`~blotquant.ihc.deconvolution.as_stain_matrix`.
    white_point : float or (r, g, b)
    tissue_threshold : float or None
        If given, only pixels whose OD sum reaches it are scored.
    block_px : int
        Pixels per block of the NumPy path (an execution setting; results do
        not depend on it).
    compiled : bool or None
        Run the compiled loop (``blotquant/ihc/_pixelc.c``: the same
        arithmetic in one pass per part, the GIL released) instead of the
        NumPy/OpenCV blocks: None (default) when it is built and
        :data:`PURE_PYTHON_ENV` is not ``1``; True requires it; False never.
        An execution setting: classes and counts are identical, the DAB sums
        agree to ~1e-7 relative (the C loop adds in float64, the NumPy path
        each block in float32).

    Attributes
    ----------
    implementation : str
        ``"c"`` (the compiled loop) or ``"numpy"``.

    Examples
    --------
    >>> k = PixelKernel((0.2, 0.4, 0.6))
    >>> out = k.run(np.array([[[255, 255, 255], [150, 100, 60]]], np.uint8))
    >>> out.classes.tolist(), out.counts["image"].tolist(), round(out.dab_sum["image"], 3)
    ([[1, 4]], [0, 1, 0, 0, 1], 0.799)
    """

    #: Candidate fraction of a block above which the whole block's OD sum is
    #: computed (an execution setting: the result is the same either way).
    sparse_fraction = 0.03
    #: After a block with many candidates, one block in ``probe_every`` looks
    #: for candidates (the others compute the OD sum at once).
    probe_every = 8

    def __init__(self, thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS, *,
                 stains: Any = "default", white_point: float | ArrayLike = 255,
                 tissue_threshold: float | None = None, block_px: int = KERNEL_BLOCK_PX,
                 compiled: bool | None = None):
        from .deconvolution import as_stain_matrix, weighted_luts

        self.thresholds = check_thresholds(thresholds)
        # 0-d float32 arrays: the same float32 comparison as a scalar, less call overhead
        self._thr = [np.array(t, np.float32) for t in self.thresholds]
        w = np.linalg.inv(as_stain_matrix(stains))[:, 1]
        self._dab_luts = weighted_luts(w, white_point)
        self._sum_luts = None
        self._tt = None
        self._cand = None
        if tissue_threshold is not None:
            self._tt = np.array(tissue_threshold, np.float32)
            self._sum_luts = weighted_luts((1.0, 1.0, 1.0), white_point)
            self._sum_flat = [t.ravel() for t in self._sum_luts]
            # per channel, each value's DAB OD and OD sum as one 8-byte entry (two
            # float32), so that one lookup per channel gives both
            self._pair_luts = []
            for dl, sl in zip(self._dab_luts, self._sum_luts):
                pair = np.empty((256, 2), np.float32)
                pair[:, 0], pair[:, 1] = dl.ravel(), sl.ravel()
                self._pair_luts.append(np.ascontiguousarray(pair).view(np.float64))
            self._cand = _candidate_tests(self._sum_flat, self._tt)
            if self._cand is None:           # no pixel can fail the test
                self._sum_luts = None
        if int(block_px) < 1:
            raise ParameterError(f"block_px must be >= 1, got {block_px}")
        self.block_px = int(block_px)
        self._c = None if compiled is False else compiled_kernel()
        if compiled and self._c is None:
            raise ParameterError("compiled=True but the C pixel kernel is not available (not "
                                 f"built, or {PURE_PYTHON_ENV}=1)")
        self.implementation = "numpy" if self._c is None else "c"
        # the C loop's tables: per channel and value the DAB OD term and the tissue
        # OD-sum term (0 without the test), the same float32 values as above
        self._c_tables = np.zeros((3, 256, 2), np.float32)
        for c in range(3):
            self._c_tables[c, :, 0] = self._dab_luts[c].ravel()
            if self._sum_luts is not None:
                self._c_tables[c, :, 1] = self._sum_luts[c].ravel()
        self._c_tt = None if self._sum_luts is None else float(self._tt)

    def run(self, rgb: ArrayLike, mask: ArrayLike | None = None, regions: dict | None = None,
            *, dab_out: np.ndarray | None = None,
            classes_out: np.ndarray | None = None) -> KernelResult:
        """Classes of ``rgb`` and, per region, counts of codes 0..4 and the DAB OD sum.

        Parameters
        ----------
        rgb : uint8 (rows, cols, 3)
        mask : bool (rows, cols), optional
            Pixels that may be scored (tissue, union of the regions); others get 0.
        regions : dict name -> bool mask, None or False, optional
            Where to count: a mask (rows, cols), None (the whole image) or
            False (nothing).  Default ``{"image": None}``.  Counting does not
            change the classes: give ``mask`` for that.
        dab_out : float32 (rows, cols), optional
            Filled with the DAB OD map.
        classes_out : uint8 (rows, cols), optional
            Where the classes are written (else a new array).

        Returns
        -------
        KernelResult

        Raises
        ------
        ParameterError
            Not uint8 RGB, or a mask or output of another shape.
        """
        a = np.asarray(rgb)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[-1] != 3:
            raise ParameterError(f"the pixel kernel needs uint8 RGB (rows, cols, 3), got "
                                 f"{a.dtype} {a.shape}")
        H, W = a.shape[:2]
        m = None if mask is None else _check_mask(mask, (H, W))
        rmask = {k: (v if v is None or v is False else _check_mask(v, (H, W)))
                 for k, v in ({"image": None} if regions is None else dict(regions)).items()}
        for arr, dt, nm in ((dab_out, np.float32, "dab_out"), (classes_out, np.uint8,
                                                                 "classes_out")):
            if arr is not None and (arr.shape != (H, W) or arr.dtype != dt
                                    or not arr.flags.c_contiguous):
                raise ParameterError(f"{nm} must be C-contiguous {np.dtype(dt).name} of shape "
                                     f"{(H, W)}")
        cls = classes_out if classes_out is not None else np.empty((H, W), np.uint8)
        counts = {k: np.zeros(5, np.int64) for k in rmask}
        dsum = {k: 0.0 for k in rmask}
        if self._c is not None:
            self._c_parts([(0, 0, H, W, a, m)], rmask, cls, counts, dsum, dab_out)
            return KernelResult(cls, counts, dsum)
        a = np.ascontiguousarray(a)
        rows = max(1, self.block_px // max(W, 1))
        ws = self._workspace(rows * W)
        st = _State(all(v is None or v is False for v in rmask.values()))
        for r0 in range(0, H, rows):
            r1 = min(H, r0 + rows)
            self._band(a[r0:r1], None if m is None else m[r0:r1],
                       {k: (v if v is None or v is False else v[r0:r1]) for k, v in rmask.items()},
                       cls[r0:r1], None if dab_out is None else dab_out[r0:r1],
                       counts, dsum, ws, st)
        return KernelResult(cls, counts, dsum)

    def run_parts(self, parts, shape, mask=None, regions: dict | None = None) -> KernelResult:
        """:meth:`run` on an image given as parts, each scored as it arrives.

        For decoding and scoring one stored tile of a slide at a time, while it
        is in the CPU cache (no window of RGB is assembled).  The classes,
        counts and sums are those of :meth:`run` on the assembled image.

        Parameters
        ----------
        parts : iterable of (row, col, rows, cols, uint8 (rows, cols, 3) or None)
            Pieces of the image that cover ``shape`` exactly once; pixels None:
            a piece where nothing is scored (code 0, its pixels never read).
        shape : (rows, cols)
        mask : bool array of ``shape``, callable or None
            As :meth:`run`; or ``mask(y0, y1, x0, x1)`` giving each part's
            mask (a bool array or :class:`BlockMask`; None: all of it may be
            scored; False: none of it).
        regions : dict, optional
            As :meth:`run`, masks of ``shape``.

        Returns
        -------
        KernelResult

        Raises
        ------
        ParameterError
            A part that is not uint8 RGB or falls outside ``shape``, masks of
            another shape, or parts that do not cover ``shape``.

        Examples
        --------
        >>> k = PixelKernel((0.2, 0.4, 0.6))
        >>> img = np.full((2, 4, 3), 255, np.uint8); img[1, 3] = (150, 100, 60)
        >>> out = k.run_parts([(0, 0, 2, 2, img[:, :2]), (0, 2, 2, 2, img[:, 2:])], (2, 4))
        >>> out.classes.tolist(), out.counts["image"].tolist()
        ([[1, 1, 1, 1], [1, 1, 1, 4]], [0, 7, 0, 0, 1])
        """
        H, W, part_mask, rmask = _part_inputs(shape, mask, regions)
        cls = np.empty((H, W), np.uint8)
        counts = {k: np.zeros(5, np.int64) for k in rmask}
        dsum = {k: 0.0 for k in rmask}
        scored = _scored_parts(parts, (H, W), part_mask, rmask, cls, counts, "the pixel kernel",
                               expand=self._c is None)
        if self._c is not None:
            self._c_parts(scored, rmask, cls, counts, dsum)
            return KernelResult(cls, counts, dsum)
        st = _State(all(v is None or v is False for v in rmask.values()))
        ws = None
        for y0, x0, h, w, part, pm in scored:
            xs = slice(x0, x0 + w)
            rows = max(1, self.block_px // max(w, 1))
            if ws is None or ws.n < rows * w:
                ws = self._workspace(rows * w)
            for rr in range(0, h, rows):
                ya, yb = y0 + rr, min(y0 + h, y0 + rr + rows)
                self._band(part[rr:rr + rows], None if pm is None else pm[rr:rr + rows],
                           {k: (v if v is None or v is False else v[ya:yb, xs])
                            for k, v in rmask.items()},
                           cls[ya:yb, xs], None, counts, dsum, ws, st)
        return KernelResult(cls, counts, dsum)

    def _c_parts(self, scored, rmask, cls, counts, dsum, dab_out=None):
        """The compiled loop on each part of ``scored`` (``(y0, x0, h, w, rgb, mask)``,
        any strides; ``_scored_parts``): classes into ``cls``, the DAB map into
        ``dab_out`` if given; the counts and sums gathered in Python numbers and
        added to ``counts``, ``dsum`` once."""
        arrays = [(k, v) for k, v in rmask.items() if v is not None and v is not False]
        score, tab, tt, thr = self._c.score, self._c_tables, self._c_tt, self.thresholds
        wc, wsum = [0] * 5, 0.0
        rc, rsum = [[0] * 5 for _ in arrays], [0.0] * len(arrays)
        for y0, x0, h, w, part, pm in scored:
            if isinstance(pm, BlockMask):
                pm = (pm.coarse, pm.fy, pm.fx)   # read coarse by the C loop
            elif pm is not None and pm.dtype != bool:
                pm = pm.astype(bool)
            ys, xs = slice(y0, y0 + h), slice(x0, x0 + w)
            (c, sm), per = score(part, tab, tt, pm, [v[ys, xs] for _, v in arrays], thr,
                                 cls[ys, xs], None if dab_out is None else dab_out[ys, xs])
            wc = [a + b for a, b in zip(wc, c)]
            wsum += sm
            for i, (c2, s2) in enumerate(per):
                rc[i] = [a + b for a, b in zip(rc[i], c2)]
                rsum[i] += s2
        for name, v in rmask.items():
            if v is None:
                counts[name] += np.array(wc, np.int64)
                dsum[name] += wsum
        for (name, _), c2, s2 in zip(arrays, rc, rsum):
            counts[name] += np.array(c2, np.int64)
            dsum[name] += s2

    def _workspace(self, n):
        """Buffers of ``n`` pixels for one thread (reused by its later calls)."""
        loc = self.__dict__.get("_local")
        if loc is None:
            loc = self.__dict__.setdefault("_local", threading.local())
        ws = getattr(loc, "ws", None)
        if ws is None or ws.n < n:
            ws = loc.ws = _Workspace(n)
        return ws

    def __getstate__(self):              # thread-local buffers stay in their process
        d = dict(self.__dict__)
        d.pop("_local", None)
        d["_c"] = None                   # a module: found again on the other side
        return d

    def __setstate__(self, d):
        self.__dict__.update(d)
        if self.implementation == "c":
            self._c = compiled_kernel()
            if self._c is None:          # pragma: no cover - another install
                self.implementation = "numpy"

    def _band(self, a, m, rmask, cls, dab_out, counts, dsum, ws, st):
        """Score one block: ``a`` uint8 (rows, cols, 3); ``m``, ``rmask`` its masks;
        classes into ``cls`` (a view); counts and sums added to ``counts``, ``dsum``."""
        nr, W = a.shape[:2]
        thr = self._thr
        lo, hi = 0, W
        mb = None
        if m is not None:
            mb = m
            if dab_out is None:
                # only the columns of the block that the mask reaches are computed
                cols = np.flatnonzero(mb.any(axis=0))
                if not cols.size:              # nothing to score in this block (glass)
                    cls[...] = 0
                    for name, rm in rmask.items():
                        if rm is not False:
                            counts[name][0] += (nr * W if rm is None
                                                else int(np.count_nonzero(rm)))
                    return
                lo, hi = int(cols[0]), int(cols[-1]) + 1
                mb = mb[:, lo:hi]
            if mb.all():
                mb = None
        cw = hi - lo
        k = nr * cw
        direct = cw == W and cls.flags.c_contiguous
        v = ws.views(nr, cw)
        ch = cv2.split(a[:, lo:hi], v.chans)
        d = dab_out if dab_out is not None else v.d
        tmp = v.t
        # tissue first: sc (bool block) or fail (flat indices of mask pixels that are
        # not tissue); then scored = mask & tissue
        sc, fail = None, None
        probe = self._sum_luts is not None and self._cand is not None and st.skip == 0
        if self._sum_luts is not None and not probe:
            # the OD sum of the whole block: with the DAB OD from the same three lookups
            _weighted_pair(ch, self._pair_luts, v.p, v.p2, d, v.s)
            sc = v.sc
            np.greater_equal(v.s, self._tt, out=sc)
        else:
            _weighted(ch, self._dab_luts, d, tmp)
            if probe:
                sc, fail = self._tissue(ch, mb, k, v.k, v.k2, v.s, tmp, v.sc)
        if self._sum_luts is not None:
            # after a block with many candidates, the next blocks go straight to
            # the OD sum (their neighbours are alike); one in probe_every looks
            st.skip = (self.probe_every - 1 if sc is not None and probe
                       else max(0, st.skip - 1))
        if sc is not None and mb is not None:
            np.logical_and(sc, mb, out=sc)
        elif mb is not None:
            sc = mb
        fast = st.whole and sc is None       # every pixel scored but the few in fail
        # classes: 1 + the number of thresholds reached (g[j]: pixels reaching t_j)
        b = v.b
        c = cls if direct else v.c
        g = []
        np.greater_equal(d, thr[0], out=b)
        if fast:
            g.append(cv2.countNonZero(b.view(np.uint8)))
        np.add(b.view(np.uint8), _ONE, out=c)
        for t in thr[1:]:
            np.greater_equal(d, t, out=b)
            if fast:
                g.append(cv2.countNonZero(b.view(np.uint8)))
            np.add(c, b.view(np.uint8), out=c)
        if fast and fail is not None:
            cf = c.reshape(-1)[fail]
            df = d.reshape(-1)[fail]
        if sc is not None:
            np.multiply(c, sc.view(np.uint8), out=c)
        if fail is not None:
            c.reshape(-1)[fail] = 0
        if not direct:
            if cw != W:
                cls[:, :lo] = 0
                cls[:, hi:] = 0
            cls[:, lo:hi] = c
        if fast:                        # counts from the comparisons, d summed whole
            blk = np.array([nr * W - k, k - g[0]]        # columns not computed: 0
                           + [g[j] - g[j + 1] for j in range(len(g) - 1)]
                           + [g[-1]] + [0] * (3 - len(g)), np.int64)
            s = float(np.add.reduce(d, axis=None))
            if fail is not None:
                blk -= np.bincount(cf, minlength=5)[:5]
                blk[0] += fail.size
                s -= float(np.sum(df, dtype=np.float64))
            for name, rm in rmask.items():
                if rm is None:
                    counts[name] += blk
                    dsum[name] += s
            return
        for name, rm in rmask.items():
            if rm is False:
                continue
            if rm is None:
                cv, n_reg = c, nr * W
            else:
                n_reg = int(np.count_nonzero(rm))
                if not n_reg:
                    continue
                cv = np.multiply(c, rm[:, lo:hi].view(np.uint8), out=v.u)
            _count_block(cv, n_reg, d, counts[name], dsum, name, b, tmp)

    def _tissue(self, ch, mb, k, cand, scratch, sm, tmp, sc):
        """The tissue test of one block, looking for candidates first: ``(None,
        None)`` (every pixel is tissue), ``(sc, None)`` (bool block) or ``(None,
        fail)`` (flat indices of the pixels that are not tissue)."""
        first = True
        for j, test in enumerate(self._cand):
            if test is None:                 # every value of this channel may fail
                continue
            out = cand if first else scratch
            if isinstance(test, int):        # value > test
                cv2.threshold(ch[j], test, 1, cv2.THRESH_BINARY, dst=out)
            else:
                cv2.LUT(ch[j], test, dst=out)
            if not first:
                cv2.bitwise_and(cand, out, dst=cand)
            first = False
        if mb is not None:                   # only pixels that may be scored matter
            if first:
                np.copyto(cand, mb.view(np.uint8))
                first = False
            else:
                cv2.bitwise_and(cand, mb.view(np.uint8), dst=cand)
        n_c = k if first else cv2.countNonZero(cand)
        if n_c == 0:
            return None, None
        if n_c > self.sparse_fraction * k:    # many candidates: the block's OD sum
            _weighted(ch, self._sum_luts, sm, tmp)
            np.greater_equal(sm, self._tt, out=sc)
            return sc, None
        idx = np.flatnonzero(cand)
        T = self._sum_flat
        s = np.add(T[0][ch[0].reshape(-1)[idx]], T[1][ch[1].reshape(-1)[idx]])
        s += T[2][ch[2].reshape(-1)[idx]]
        return None, idx[s < self._tt]


def _candidate_tests(tables, tt):
    """Per channel, which values may leave a pixel below the tissue threshold
    (``table[v] < tt``): None (every value), an int ``u`` (the values ``> u``: the
    table does not increase) or a uint8 LUT (1: may).  None for all channels
    means no test: returned as None when no pixel can fail."""
    tests = []
    for t in tables:
        if (t < 0).any() or not np.isfinite(t).all():   # pragma: no cover - od_lut is >= 0
            raise ParameterError("the tissue OD tables must be finite and >= 0")
        may = t < tt
        if not may.any():
            return None                      # this channel alone makes every pixel tissue
        if may.all():
            tests.append(None)
            continue
        v0 = int(np.argmax(may))
        if v0 > 0 and may[v0:].all():
            tests.append(v0 - 1)
        else:
            tests.append(np.ascontiguousarray(may.astype(np.uint8).reshape(256, 1)))
    return tests


def _count_block(cv, n_reg, d, cnt, dsum, name, b, z):
    """Add the codes of one block (``cv``: 0 outside the region) to ``cnt``, and the
    DAB OD of its scored pixels to ``dsum[name]`` (pairwise float32 sum of the block,
    blocks added in float64)."""
    g = [cv2.countNonZero(cv)]
    if g[0]:
        for j in (2, 3, 4):
            np.greater_equal(cv, _CODES[j], out=b)
            g.append(int(np.count_nonzero(b)))
        if g[0] == cv.size:
            dsum[name] += float(np.add.reduce(d, axis=None))
        else:
            z.fill(0)
            cv2.copyTo(d, cv, z)
            dsum[name] += float(np.add.reduce(z, axis=None))
    else:
        g += [0, 0, 0]
    cnt[0] += n_reg - g[0]
    cnt[1] += g[0] - g[1]
    cnt[2] += g[1] - g[2]
    cnt[3] += g[2] - g[3]
    cnt[4] += g[3]


def class_counts(class_map: ArrayLike, mask: ArrayLike | None = None) -> np.ndarray:
    """Counts of codes 0..4 (int64 array of 5), optionally inside ``mask``.

    Parameters
    ----------
    class_map : array_like of int
        Class codes (0 unscored .. 4 for 3+), non-negative.
    mask : array_like of bool, optional
        Pixels to count (same shape as ``class_map``).

    Returns
    -------
    numpy.ndarray of int64
        The number of pixels of each code 0..4; codes above 4 are not counted.

    Examples
    --------
    >>> class_counts(np.array([0, 1, 1, 4], np.uint8)).tolist()
    [1, 2, 0, 0, 1]
    """
    c = np.asarray(class_map)
    if mask is not None:
        c = c[np.asarray(mask, bool)]
    return np.bincount(c.ravel(), minlength=5)[:5].astype(np.int64)
