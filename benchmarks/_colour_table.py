"""The colour-table pixel scorer: measured against ``PixelKernel`` and not adopted.

Round 6 of ``docs/benchmarks/wsi.md``: for 8-bit RGB the class of a pixel depends
only on its colour once the slide's white point, stains and thresholds are fixed,
so a 2^24-entry table (16 MB, built by the kernel's own float32 arithmetic) gives
it in one gather; the DAB sum comes from per-channel histograms.  Classes are
identical to :class:`blotquant.ihc.pixels.PixelKernel` by construction
(``tests/ihc/test_pixels_table.py``), but on a slide's tiles it was never faster
(the gather slows under L3 contention and the exact DAB sum still needs three
lookups per pixel), so the library keeps the kernel and this scorer lives beside
the benchmark that compares them (``python benchmarks/wsi.py --scorers``).
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Any, Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike

from blotquant.errors import ParameterError
from blotquant.ihc.params import DEFAULT_THRESHOLDS
from blotquant.ihc.classify import check_thresholds
from blotquant.ihc.pixels import _ONE, KernelResult, _part_inputs, _scored_parts

#: Pixels per block of :class:`ColourTable` (its buffers, ~10 bytes per pixel, stay in
#: one core's L2 cache).
TABLE_BLOCK_PX = 65536

#: Colour tables kept per process (16 MB each), most recently used last.
_TABLES: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_TABLES_KEEP = 2
_TABLES_LOCK = threading.Lock()
#: A calcHist bin is float32: exact up to 2^24 counts, so histograms are added into
#: float64 sums before any bin could pass it.
_HIST_EXACT = 1 << 24


def _build_codes(dab_luts, sum_luts, thr, tt) -> np.ndarray:
    """The class code of every 8-bit colour ``R + 256 G + 65536 B`` (uint8, 2^24).

    The arithmetic of :class:`PixelKernel` (and so of ``stain_maps`` +
    ``classify_pixels`` + ``fine_tissue``): DAB OD ``(T_R[R] + T_G[G]) + T_B[B]``
    in float32, class ``1 + #(thresholds reached)`` with float32 ``>=``, 0 where
    the float32 OD sum ``(S_R[R] + S_G[G]) + S_B[B]`` is below ``tt``.
    """
    TR, TG, TB = (np.asarray(t, np.float32).ravel() for t in dab_luts)
    rg = np.add(TR[None, :], TG[:, None]).ravel()            # T_R[R] + T_G[G], index R + 256 G
    if sum_luts is not None:
        SR, SG, SB = (np.asarray(t, np.float32).ravel() for t in sum_luts)
        srg = np.add(SR[None, :], SG[:, None]).ravel()
    codes = np.empty(1 << 24, np.uint8)
    nb = 16                                               # values of B per step (1 M colours)
    d = np.empty((nb, 65536), np.float32)
    b = np.empty((nb, 65536), bool)
    c = np.empty((nb, 65536), np.uint8)
    for b0 in range(0, 256, nb):
        np.add(rg[None, :], TB[b0:b0 + nb, None], out=d)
        np.greater_equal(d, thr[0], out=b)
        np.add(b.view(np.uint8), _ONE, out=c)
        for t in thr[1:]:
            np.greater_equal(d, t, out=b)
            np.add(c, b.view(np.uint8), out=c)
        dst = codes[b0 << 16:(b0 + nb) << 16].reshape(nb, 65536)
        if sum_luts is None:
            dst[...] = c
        else:
            np.add(srg[None, :], SB[b0:b0 + nb, None], out=d)
            np.greater_equal(d, tt, out=b)
            np.multiply(c, b.view(np.uint8), out=dst)
    return codes


class _TableWorkspace:
    """One thread's block buffers (``n`` pixels) for :class:`ColourTable`."""

    def __init__(self, n):
        self.n = n
        self.rgba = np.empty(4 * n, np.uint8)
        self.code, self.tmp, self.thr = (np.empty(n, np.uint8) for _ in range(3))
        self.planes = [np.empty(n, np.uint8) for _ in range(3)]

    def views(self, rows, cols):
        k = rows * cols
        return (self.rgba[:4 * k].reshape(rows, cols, 4), self.code[:k].reshape(rows, cols),
                self.tmp[:k].reshape(rows, cols), self.thr[:k].reshape(rows, cols),
                [p[:k].reshape(rows, cols) for p in self.planes])


class _Hist:
    """Per region: float32 histograms of R, G, B over the scored pixels (as calcHist
    accumulates them), added into a float64 DAB sum before a bin could lose counts."""

    __slots__ = ("h", "n")

    def __init__(self):
        self.h = [np.zeros((256, 1), np.float32) for _ in range(3)]
        self.n = 0

    def flush(self, luts) -> float:
        s = 0.0
        if self.n:
            for h, t in zip(self.h, luts):
                s += float(np.dot(h.ravel().astype(np.float64), t))
                h.fill(0)
            self.n = 0
        return s


class ColourTable:
    """Pixel mode by colour table: classes, class counts and DAB OD sums of uint8 RGB.

    For 8-bit RGB the class of a pixel, and whether it is tissue, depends only
    on its colour once the white point, stains, thresholds and tissue
    threshold are fixed (once per slide).  The table holds the code 0..4 of
    every one of the 2^24 colours, computed by the float32 arithmetic of
    :class:`PixelKernel` (``stain_maps`` + ``classify_pixels`` +
    ``fine_tissue``), so the classes and counts are those of that arithmetic by
    construction.  It is built once per process (about 0.1 s; 16 MB; the
    last two tables are kept) and shared by all threads.

    Per block of :data:`TABLE_BLOCK_PX` pixels: one ``cvtColor`` (RGB -> RGBA,
    whose 32-bit view, alpha 255, is the colour index minus 2^24, which
    ``np.take`` wraps), one gather, the mask, then per region the counts (from
    ``countNonZero``, ``sumElems`` and two thresholds of the codes) and the
    three channel histograms of the scored pixels (``calcHist``).  The DAB OD
    sum of a region is ``sum_c sum_v hist_c[v] * T_c[v]`` in float64: the sum
    of the same per-channel float32 terms as the kernel's, without its
    float32 rounding of each pixel's total (relative difference below 1e-6).

    Parameters
    ----------
    thresholds : (t1, t2, t3) or (t,)
    stains : str, array_like or dict
        As :func:`~blotquant.ihc.deconvolution.as_stain_matrix`.
    white_point : float or (r, g, b)
    tissue_threshold : float or None
        If given, only colours whose OD sum reaches it are scored.
    block_px : int
        Pixels per block (an execution setting; results do not depend on it).

    Examples
    --------
    >>> t = ColourTable((0.2, 0.4, 0.6))
    >>> out = t.run(np.array([[[255, 255, 255], [150, 100, 60]]], np.uint8))
    >>> out.classes.tolist(), out.counts["image"].tolist(), round(out.dab_sum["image"], 3)
    ([[1, 4]], [0, 1, 0, 0, 1], 0.799)
    """

    def __init__(self, thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS, *,
                 stains: Any = "default", white_point: float | ArrayLike = 255,
                 tissue_threshold: float | None = None, block_px: int = TABLE_BLOCK_PX):
        from blotquant.ihc.deconvolution import as_stain_matrix, weighted_luts

        self.thresholds = check_thresholds(thresholds)
        self._thr = [np.array(t, np.float32) for t in self.thresholds]
        w = np.linalg.inv(as_stain_matrix(stains))[:, 1]
        self._dab_luts = weighted_luts(w, white_point)
        self._sum_luts = None
        self._tt = None
        if tissue_threshold is not None:
            self._tt = np.array(tissue_threshold, np.float32)
            self._sum_luts = weighted_luts((1.0, 1.0, 1.0), white_point)
        self._dab64 = [t.ravel().astype(np.float64) for t in self._dab_luts]
        if int(block_px) < 1:
            raise ParameterError(f"block_px must be >= 1, got {block_px}")
        self.block_px = int(block_px)
        # the table's inputs, exactly: equal keys give equal tables
        self.key = (tuple(float(t) for t in self._thr),
                    b"".join(t.tobytes() for t in self._dab_luts),
                    None if self._sum_luts is None
                    else b"".join(t.tobytes() for t in self._sum_luts) + self._tt.tobytes())

    @property
    def codes(self) -> np.ndarray:
        """The table: code 0..4 of colour ``R + 256 G + 65536 B`` (uint8, 2^24 entries).

        Built on first use in this process (threads wait for one build), then
        kept with the last other one."""
        t = _TABLES.get(self.key)
        if t is not None:
            return t
        with _TABLES_LOCK:
            t = _TABLES.get(self.key)
            if t is None:
                t = _build_codes(self._dab_luts, self._sum_luts, self._thr, self._tt)
                t.setflags(write=False)
                _TABLES[self.key] = t
                while len(_TABLES) > _TABLES_KEEP:
                    _TABLES.popitem(last=False)
            else:
                _TABLES.move_to_end(self.key)
        return t

    def build(self) -> "ColourTable":
        """Build the table now (e.g. in a background thread before the tiles start)."""
        self.codes
        return self

    def run(self, rgb: ArrayLike, mask: ArrayLike | None = None,
            regions: dict | None = None) -> KernelResult:
        """Classes of ``rgb`` and, per region, counts of codes 0..4 and the DAB OD sum.

        Parameters
        ----------
        rgb : uint8 (rows, cols, 3)
        mask : bool (rows, cols), optional
            Pixels that may be scored (tissue, union of the regions); others get 0.
        regions : dict name -> bool mask, None or False, optional
            As :meth:`PixelKernel.run`; default ``{"image": None}``.

        Returns
        -------
        KernelResult

        Raises
        ------
        ParameterError
            Not uint8 RGB, or a mask of another shape.
        """
        a = np.asarray(rgb)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[-1] != 3:
            raise ParameterError(f"the colour table needs uint8 RGB (rows, cols, 3), got "
                                 f"{a.dtype} {a.shape}")
        return self.run_parts([(0, 0, a.shape[0], a.shape[1], a)], a.shape[:2], mask=mask,
                              regions=regions)

    def run_parts(self, parts, shape, mask=None, regions: dict | None = None) -> KernelResult:
        """:meth:`run` on an image given as parts, each scored as it arrives.

        The contract of :meth:`PixelKernel.run_parts` (one stored tile of a
        slide at a time, decoded and scored while it is in the CPU cache).

        Parameters
        ----------
        parts : iterable of (row, col, rows, cols, uint8 (rows, cols, 3) or None)
            Pieces that cover ``shape`` exactly once; pixels None: nothing is
            scored there (code 0, never read).
        shape : (rows, cols)
        mask : bool array of ``shape``, callable or None
            As :meth:`PixelKernel.run_parts`.
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
        >>> t = ColourTable((0.2, 0.4, 0.6))
        >>> img = np.full((2, 4, 3), 255, np.uint8); img[1, 3] = (150, 100, 60)
        >>> out = t.run_parts([(0, 0, 2, 2, img[:, :2]), (0, 2, 2, 2, img[:, 2:])], (2, 4))
        >>> out.classes.tolist(), out.counts["image"].tolist()
        ([[1, 1, 1, 1], [1, 1, 1, 4]], [0, 7, 0, 0, 1])
        """
        H, W, part_mask, rmask = _part_inputs(shape, mask, regions)
        codes = self.codes
        cls = np.empty((H, W), np.uint8)
        counts = {k: np.zeros(5, np.int64) for k in rmask}
        dsum = {k: 0.0 for k in rmask}
        hists = {k: _Hist() for k, v in rmask.items() if v is not False}
        ws = None
        for y0, x0, h, w, part, pm in _scored_parts(parts, (H, W), part_mask, rmask, cls,
                                                    counts, "the colour table"):
            xs = slice(x0, x0 + w)
            if pm is not None:
                pm = np.asarray(pm, bool)
                if pm.shape != (h, w):
                    raise ParameterError(f"part mask shape {pm.shape} does not match the part "
                                         f"{(h, w)}")
                if pm.all():
                    pm = None
            # blocks of at most 2^24 px: one calcHist call never passes float32's exact range
            rows = max(1, min(self.block_px, _HIST_EXACT) // max(w, 1))
            if ws is None or ws.n < rows * w:
                ws = self._workspace(rows * w)
            for rr in range(0, h, rows):
                ya, yb = y0 + rr, min(y0 + h, y0 + rr + rows)
                self._block(codes, part[rr:rr + rows], None if pm is None else pm[rr:rr + rows],
                            {k: (v if v is None or v is False else v[ya:yb, xs])
                             for k, v in rmask.items()},
                            cls[ya:yb, xs], counts, hists, dsum, ws)
        for name, hs in hists.items():
            dsum[name] += hs.flush(self._dab64)
        return KernelResult(cls, counts, dsum)

    def _workspace(self, n):
        loc = self.__dict__.get("_local")
        if loc is None:
            loc = self.__dict__.setdefault("_local", threading.local())
        ws = getattr(loc, "ws", None)
        if ws is None or ws.n < n:
            ws = loc.ws = _TableWorkspace(n)
        return ws

    def __getstate__(self):              # buffers stay in their process; the table too
        d = dict(self.__dict__)
        d.pop("_local", None)
        return d

    def _block(self, codes, a, m, rmask, cls, counts, hists, dsum, ws):
        """Score one block ``a`` (uint8 (rows, cols, 3)); ``m`` its mask or None."""
        nr, w = a.shape[:2]
        n = nr * w
        rgba, code, tmp, thr, planes = ws.views(nr, w)
        if sys.byteorder == "little":
            # RGBA with alpha 255 read as int32 is R + 256 G + 65536 B - 2^24: a negative
            # index that np.take counts from the end of the 2^24 table, i.e. the colour
            rgba = cv2.cvtColor(a, cv2.COLOR_RGB2RGBA, dst=rgba)
            np.take(codes, rgba.view(np.int32).reshape(nr, w), out=code)
        else:  # pragma: no cover - big-endian machines
            idx = (a[..., 2].astype(np.intp) << 16) | (a[..., 1].astype(np.intp) << 8) | a[..., 0]
            np.take(codes, idx, out=code)
        if m is not None:
            np.multiply(code, m.view(np.uint8), out=code)
        cls[...] = code
        split = False
        for name, rm in rmask.items():
            if rm is False:
                continue
            if rm is None:
                cv, n_reg = code, n
            else:
                n_reg = int(np.count_nonzero(rm))
                if not n_reg:
                    continue
                cv = np.multiply(code, rm.view(np.uint8), out=tmp)
            c1 = cv2.countNonZero(cv)
            cnt = counts[name]
            cnt[0] += n_reg - c1
            if not c1:
                continue
            # codes 1..4: n1 + n2 + n3 + n4 = c1, n3 + n4 = c3, n4 = c4 and
            # n1 + 2 n2 + 3 n3 + 4 n4 = the sum of the codes
            tot = int(cv2.sumElems(cv)[0])
            cv2.threshold(cv, 2, 1, cv2.THRESH_BINARY, dst=thr)
            c3 = cv2.countNonZero(thr)
            if c3:
                cv2.threshold(cv, 3, 1, cv2.THRESH_BINARY, dst=thr)
                c4 = cv2.countNonZero(thr)
            else:
                c4 = 0
            n2 = tot - 3 * (c3 - c4) - 4 * c4 - (c1 - c3)
            cnt[1] += c1 - c3 - n2
            cnt[2] += n2
            cnt[3] += c3 - c4
            cnt[4] += c4
            hs = hists[name]
            if hs.n + c1 > _HIST_EXACT:
                dsum[name] += hs.flush(self._dab64)
            if not split:
                cv2.split(a, planes)
                split = True
            for p, h in zip(planes, hs.h):   # masked: faster than unmasked, too
                cv2.calcHist([p], [0], cv, [256], [0, 256], hist=h, accumulate=True)
            hs.n += c1


