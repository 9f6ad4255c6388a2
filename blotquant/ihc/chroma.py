"""JPEG 4:2:0 chroma subsampling: detection from the pixels and codec-consistent restoration.

Most cameras and many slide scanners store JPEG colour (Cb, Cr) at half
resolution in both directions (4:2:0): the encoder averages each aligned 2x2
block of chroma, and libjpeg-based decoders (OpenCV, Pillow, QuPath/ImageIO,
browsers) upsample it again with a triangular ("fancy") filter, i.e. linear
interpolation at 1/4 and 3/4 between block centres.  At nucleus/cytoplasm
borders this moves DAB colour into hematoxylin nuclei (where it seldom crosses
a threshold) and out of stained cytoplasm, so pixel H-scores read low.

**Detection** needs only the decoded RGB.  Along a row, linear interpolation
makes the third difference ``u[n-1] - 3u[n] + 3u[n+1] - u[n+2]`` of the decoded
chroma vanish when ``n`` is even (both centre samples come from the same pair
of stored blocks) but not when ``n`` is odd.  The mean absolute third difference at
even over odd positions, taken only where the chroma changes by
>= ``min_range`` levels within the window (edges, not noise), is ~1 for
full-resolution colour (uncompressed, PNG, JPEG 4:4:4) and ~0.3-0.4 for 4:2:0;
the test is done along rows and along columns (4:2:2 halves only the rows).

**Restoration** inverts the decoder's known filter.  The 2x2 mean of the
decoded chroma is ``(6 b_k + b_{k-1} + b_{k+1}) / 8`` of the stored block
values ``b`` along each axis, a diagonally dominant tridiagonal system solved
by a few Jacobi sweeps at half resolution; the decoded chroma is then shifted
block by block so that every 2x2 block mean equals its stored value again.
Luma stays untouched; nothing is tuned per image.  Applied only when 4:2:0 is
detected (``score_ihc(..., chroma="auto")``).

Examples
--------
>>> import cv2, numpy as np
>>> from blotquant.synthetic import make_ihc
>>> rgb = make_ihc(seed=1, shape=(256, 256)).image
>>> detect_chroma_subsampling(rgb)["subsampling"]
'4:4:4'
>>> ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
>>> jpg = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
>>> detect_chroma_subsampling(jpg)["subsampling"]
'4:2:0'
>>> restore_chroma(jpg).shape
(256, 256, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ParameterError

__all__ = ["detect_chroma_subsampling", "restore_chroma", "CHROMA_MODES"]

#: Values of ``score_ihc(chroma=...)``.
CHROMA_MODES = ("auto", "off", "4:2:0")
#: Even/odd third-difference ratio below which an axis counts as subsampled.
RATIO_THRESHOLD = 0.6
#: Minimum number of edge windows per axis for a decision.
MIN_WINDOWS = 400


def _chroma(rgb: np.ndarray):
    """float32 Y, Cr, Cb of uint8 RGB (JFIF weights; OpenCV's float offset, which cancels)."""
    ycrcb = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2YCrCb)
    return ycrcb


_WINDOW = np.ones((1, 4), np.uint8)


def _parity_sums(c: np.ndarray, min_range: float):
    """Sum of |third difference| for even and odd n along the last axis, at edges only."""
    c = np.ascontiguousarray(c, dtype=np.float32)
    a, b, cc, d = c[..., :-3], c[..., 1:-2], c[..., 2:-1], c[..., 3:]
    d3 = np.abs(a - 3 * b + 3 * cc - d)
    # range of each 4-pixel window: max - min over columns j..j+3 (exact, one pass each)
    n = c.shape[-1] - 3
    hi = cv2.dilate(c, _WINDOW, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)[..., :n]
    lo = cv2.erode(c, _WINDOW, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)[..., :n]
    sel = (hi - lo) >= min_range
    # window starting at j covers n = j + 1, j + 2: n even <=> j odd
    ev = float(d3[..., 1::2][sel[..., 1::2]].sum())
    od = float(d3[..., 0::2][sel[..., 0::2]].sum())
    return ev, od, int(np.count_nonzero(sel[..., 1::2])), int(np.count_nonzero(sel[..., 0::2]))


def detect_chroma_subsampling(rgb: np.ndarray, *, min_range: float = 8.0, stride: int = 8,
                              threshold: float = RATIO_THRESHOLD,
                              min_windows: int = MIN_WINDOWS) -> dict:
    """Detect JPEG chroma subsampling (4:2:0 / 4:2:2) from decoded uint8 RGB pixels.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (rows, cols, 3)
        Decoded RGB pixels.
    min_range : float
        Only 4-pixel windows whose chroma range is at least this (8-bit levels)
        count (edges; flat areas carry only rounding noise).
    stride : int
        Every ``stride``-th row (column) is examined for the horizontal (vertical)
        test; rows are independent, so this only saves time.
    threshold : float
        An axis is subsampled when its even/odd ratio is below ``threshold``
        (or above ``1 / threshold``: the 2x2 grid starts on odd coordinates,
        e.g. after cropping a decoded JPEG by one pixel).
    min_windows : int
        Fewer edge windows than this on an axis give ``"unknown"``.

    Returns
    -------
    dict
        ``subsampling`` ("4:2:0", "4:2:2", "4:4:4" = full colour
        resolution, or "unknown": too little colour structure to tell),
        ``ratio`` (row-wise, column-wise even/odd ratios), ``phase``
        ((row, col) offset of the 2x2 grid, 0 or 1) and ``windows`` (edge
        windows used per axis).

    Examples
    --------
    >>> detect_chroma_subsampling(np.full((64, 64, 3), 200, np.uint8))["subsampling"]
    'unknown'
    """
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[-1] != 3 or a.dtype != np.uint8:
        raise ParameterError("detect_chroma_subsampling needs uint8 RGB (rows, cols, 3)")
    stride = max(1, int(stride))
    from ._cellkernel import compiled_cells  # noqa: PLC0415 (params imports this module)

    ext = compiled_cells()  # None: NumPy; the threshold must compare in float32 alike
    fast = ext is not None and float(np.float32(min_range)) == float(min_range)
    ratios, phases, counts = [], [], []
    for axis in (1, 0):                                       # along rows, then along columns
        sub = a[::stride] if axis == 1 else a[:, ::stride]
        if sub.shape[axis] < 8:
            ratios.append(float("nan"))
            phases.append(0)
            counts.append(0)
            continue
        ycc = _chroma(sub)
        ev = od = 0.0
        n_ev = n_od = 0
        for ch in (1, 2):
            if fast:  # (one C pass over the channel in place, the same sums and counts)
                e, o, ne, no = ext.parity_sums(ycc.reshape(ycc.shape[0], 3 * ycc.shape[1]), ch, int(axis == 0),
                                               float(min_range))
                ev, od, n_ev, n_od = ev + e, od + o, n_ev + ne, n_od + no
                continue
            c = ycc[..., ch] if axis == 1 else np.ascontiguousarray(ycc[..., ch].T)
            e, o, ne, no = _parity_sums(c, min_range)
            ev, od, n_ev, n_od = ev + e, od + o, n_ev + ne, n_od + no
        n = min(n_ev, n_od)
        r = ev / od if od > 0 else float("nan")
        ratios.append(r)
        counts.append(n)
        phases.append(1 if (np.isfinite(r) and r > 1.0 / threshold) else 0)
    rh, rv = ratios
    if min(counts) < min_windows or not (np.isfinite(rh) and np.isfinite(rv)):
        kind = "unknown"
    else:
        sh = rh < threshold or rh > 1.0 / threshold
        sv = rv < threshold or rv > 1.0 / threshold
        kind = "4:2:0" if (sh and sv) else ("4:2:2" if sh else "4:4:4")
    return {"subsampling": kind, "ratio": (float(rh), float(rv)),
            "phase": (int(phases[1]), int(phases[0])), "windows": (int(counts[0]), int(counts[1]))}


def _block_mean(c: np.ndarray) -> np.ndarray:
    h, w = c.shape
    return cv2.resize(c, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


_NEIGHBOURS = (np.array([[1.0, 0.0, 1.0]], np.float32), np.array([[1.0], [0.0], [1.0]], np.float32))


def _invert_triangle(m: np.ndarray, iters: int = 6) -> np.ndarray:
    """Solve ``m = A b A^T``, A = tridiag(1, 6, 1) / 8 with replicated edges (Jacobi).

    Along each axis ``b = (8 m - b[k-1] - b[k+1]) / 6``; the error shrinks by
    at least 3x per sweep.
    """
    b = np.ascontiguousarray(m, dtype=np.float32)
    for kernel in _NEIGHBOURS:                  # along rows, then along columns
        mm = b
        t = mm.copy()
        for _ in range(iters):
            nb = cv2.filter2D(t, -1, kernel, borderType=cv2.BORDER_REPLICATE)
            t = cv2.addWeighted(mm, 8.0 / 6.0, nb, -1.0 / 6.0, 0.0)
        b = t
    return b


def restore_chroma(rgb: np.ndarray, *, phase: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Undo the chroma blur of JPEG 4:2:0 decoding (codec-consistent block chroma).

    Recovers the stored 2x2 block chroma by inverting the decoder's triangular
    upsampling, then shifts the decoded chroma of each 2x2 block so that its
    mean equals the stored value; luma is kept.  Rows/columns outside the
    complete 2x2 grid (odd sizes, ``phase`` offsets) are left unchanged.

    Parameters
    ----------
    rgb : ndarray of uint8, shape (rows, cols, 3)
        A decoded 4:2:0 JPEG (see :func:`detect_chroma_subsampling`).
    phase : (row, col)
        Offset of the 2x2 chroma grid (0 for an uncropped JPEG).

    Returns
    -------
    ndarray of uint8
        Restored RGB, same shape as ``rgb``.

    Examples
    --------
    >>> flat = np.full((8, 8, 3), (200, 150, 120), np.uint8)
    >>> bool(np.array_equal(restore_chroma(flat), flat))
    True
    """
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[-1] != 3 or a.dtype != np.uint8:
        raise ParameterError("restore_chroma needs uint8 RGB (rows, cols, 3)")
    pr, pc = (int(p) for p in phase)
    h = (a.shape[0] - pr) // 2 * 2
    w = (a.shape[1] - pc) // 2 * 2
    out = a.copy()
    if h < 2 or w < 2:
        return out
    ycc = _chroma(a[pr:pr + h, pc:pc + w])
    for ch in (1, 2):
        c = ycc[..., ch]
        m = _block_mean(c)
        corr = _invert_triangle(m) - m
        c += cv2.resize(corr, (w, h), interpolation=cv2.INTER_NEAREST)
    back = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    np.maximum(back, 0, out=back)
    out[pr:pr + h, pc:pc + w] = cv2.convertScaleAbs(back)     # round, saturate at 255
    return out
