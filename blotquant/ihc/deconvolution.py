"""Optical density and colour deconvolution (QuPath-compatible units).

Units
-----
Optical density follows QuPath: per channel

    OD = max(0, -log10(max(v, 1) / I0))

with ``I0`` the white point (255 by default, or the estimated background RGB
of the slide).  Colour deconvolution solves ``OD = c_H * h + c_DAB * d +
c_res * r`` for the stain amounts ``c`` with unit-length stain vectors (rows of
the *stain matrix*), so the DAB map is in the same units as QuPath's
"DAB OD" and QuPath's default thresholds 0.2 / 0.4 / 0.6 mean the same here.
Deconvolved amounts are not clipped (like QuPath): noise on glass gives values
slightly below 0.

Relation to other tools
-----------------------
- scikit-image ``rgb2hed`` computes ``ln(max(v/255, 1e-6)) / ln(1e-6)`` before
  unmixing, i.e. ``OD10 * ln(10) / ln(1e6) = OD10 / 6`` exactly, with I0 = 255
  and no white point, then clips at 0.  Its third vector is eosin, not the
  residual, which only matters for pixels outside the H-DAB plane.  So
  ``6 * rgb2hed(rgb)[..., 2]`` ~ our DAB OD on a white (255) slide.
- Fiji "Colour Deconvolution" outputs an 8-bit transmittance image
  ``255 * exp(-OD_ln * ln 255 / 255)``; convert before comparing thresholds.

Examples
--------
>>> import numpy as np
>>> optical_density(np.array([[255, 25, 0]], np.uint8)).round(4)
array([[0.    , 1.0086, 2.4065]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from ._cellkernel import compiled_cells

__all__ = [
    "RUIFROK_H",
    "RUIFROK_DAB",
    "RUIFROK_HDAB",
    "QUPATH_HDAB",
    "STAIN_NAMES",
    "normalize_vector",
    "stain_matrix",
    "as_stain_matrix",
    "as_white_point",
    "od_lut",
    "optical_density",
    "deconvolve",
    "stain_maps",
    "weighted_od",
    "weighted_od_maps",
    "reconstruct_rgb",
    "vector_angle_deg",
]

#: Ruifrok & Johnston (2001) hematoxylin vector (R, G, B), as published.
RUIFROK_H = (0.650, 0.704, 0.286)
#: Ruifrok & Johnston (2001) DAB vector (R, G, B), as published.
RUIFROK_DAB = (0.268, 0.570, 0.776)
#: Names of the rows of a stain matrix.
STAIN_NAMES = ("hematoxylin", "dab", "residual")


def normalize_vector(v: ArrayLike) -> np.ndarray:
    """Return ``v`` scaled to unit Euclidean length (float64).

    Parameters
    ----------
    v : array-like
        A vector (e.g. a stain's RGB OD vector).

    Returns
    -------
    ndarray of float64
        ``v / ||v||``.

    Raises
    ------
    ParameterError
        If ``v`` has zero or non-finite length.

    Examples
    --------
    >>> normalize_vector([3, 4, 0])
    array([0.6, 0.8, 0. ])
    """
    try:
        v = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"stain vector {v!r} is not three numbers (R, G, B)") from None
    if v.shape != (3,):
        raise ParameterError(f"stain vector {v.tolist()} is not three numbers (R, G, B)")
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n <= 0:
        raise ParameterError(f"stain vector {v.tolist()} has zero or invalid length")
    return v / n


def stain_matrix(hematoxylin: ArrayLike = RUIFROK_H, dab: ArrayLike = RUIFROK_DAB,
                 residual: ArrayLike | None = None) -> np.ndarray:
    """Build a (3, 3) stain matrix with unit rows [hematoxylin, DAB, residual].

    The residual defaults to the normalised cross product of the first two
    (QuPath's convention), oriented to have a positive component sum.

    Parameters
    ----------
    hematoxylin, dab : array-like of 3 floats
        RGB OD vectors of the two stains (any length; normalised).
    residual : array-like of 3 floats, optional
        Third vector (default: the cross product).

    Returns
    -------
    ndarray of float64, shape (3, 3)
        Unit rows hematoxylin, DAB, residual.

    Raises
    ------
    ParameterError
        If the vectors are parallel or linearly dependent.

    Examples
    --------
    >>> m = stain_matrix()
    >>> m.round(3)
    array([[ 0.65 ,  0.704,  0.286],
           [ 0.268,  0.57 ,  0.776],
           [ 0.636, -0.71 ,  0.302]])
    """
    h = normalize_vector(hematoxylin)
    d = normalize_vector(dab)
    if residual is None:
        r = np.cross(h, d)
        if np.linalg.norm(r) < 1e-6:
            raise ParameterError("hematoxylin and DAB vectors are parallel; cannot deconvolve")
        r = normalize_vector(r)
        if r.sum() < 0:
            r = -r
    else:
        r = normalize_vector(residual)
    m = np.stack([h, d, r])
    if abs(np.linalg.det(m)) < 1e-6:
        raise ParameterError("stain vectors are linearly dependent; cannot deconvolve")
    return m


#: Ruifrok-Johnston H-DAB stain matrix (rows: hematoxylin, DAB, residual), unit rows.
#: The published vectors are already unit length to 4 decimals.
RUIFROK_HDAB = stain_matrix()
RUIFROK_HDAB.setflags(write=False)
#: QuPath's built-in "H-DAB" default vectors (differ from Ruifrok's by < 0.5 degree).
QUPATH_HDAB = stain_matrix((0.651, 0.701, 0.290), (0.269, 0.568, 0.778))
QUPATH_HDAB.setflags(write=False)


def as_stain_matrix(stains: Any = "default") -> np.ndarray:
    """Coerce a stain specification to a (3, 3) unit-row matrix.

    Parameters
    ----------
    stains : "default", "qupath", None, array-like (2, 3) or (3, 3), or dict
        ``"default"``/None: :data:`RUIFROK_HDAB`; ``"qupath"``: :data:`QUPATH_HDAB`.
        A (2, 3) array gives H and
        DAB (residual = cross product). A dict may have keys ``hematoxylin``,
        ``dab`` and optionally ``residual`` (case-insensitive, ``h``/``DAB``
        accepted).

    Returns
    -------
    ndarray of float64, shape (3, 3)
        A new (writable) unit-row matrix, see :func:`stain_matrix`.

    Raises
    ------
    ParameterError
        For an unknown name, a dict without both vectors or a wrong shape.

    Examples
    --------
    >>> m = as_stain_matrix([[1, 0, 0], [0, 1, 0]])   # residual = cross product
    >>> m.shape, bool(np.allclose(m, np.eye(3)))
    ((3, 3), True)
    """
    if stains is None or (isinstance(stains, str) and stains == "default"):
        return np.array(RUIFROK_HDAB)
    if isinstance(stains, str) and stains.lower() == "qupath":
        return np.array(QUPATH_HDAB)
    if isinstance(stains, str):
        raise ParameterError(
            f"unknown stains {stains!r}: use 'default', 'estimate' or a (2, 3)/(3, 3) array")
    if isinstance(stains, dict):
        keys = {str(k).lower(): v for k, v in stains.items()}
        h = keys.get("hematoxylin", keys.get("h"))
        d = keys.get("dab", keys.get("d"))
        if h is None or d is None:
            raise ParameterError("stain dict needs 'hematoxylin' and 'dab' vectors")
        return stain_matrix(h, d, keys.get("residual"))
    try:
        arr = np.asarray(stains, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError("stain matrix must be 2 or 3 rows of three numbers (R, G, B), "
                             f"got {stains!r}") from None
    if arr.shape == (2, 3):
        return stain_matrix(arr[0], arr[1])
    if arr.shape == (3, 3):
        return stain_matrix(arr[0], arr[1], arr[2])
    raise ParameterError(f"stain matrix must have shape (2, 3) or (3, 3), got {arr.shape}")


def as_white_point(white_point: float | ArrayLike) -> np.ndarray:
    """Coerce a white point (number or (r, g, b)) to a float64 array of 3.

    Parameters
    ----------
    white_point : float or (r, g, b)
        Intensity of unstained glass; every value finite and > 1.

    Returns
    -------
    ndarray of float64, shape (3,)
        One value per channel.

    Raises
    ------
    ParameterError
        If the value is not one number or three, or not finite and > 1.

    Examples
    --------
    >>> as_white_point(255)
    array([255., 255., 255.])
    """
    wp = np.asarray(white_point, dtype=np.float64)
    if wp.ndim == 0:
        wp = np.repeat(wp, 3)
    if wp.shape != (3,) or not np.all(np.isfinite(wp)) or np.any(wp <= 1):
        got = np.asarray(white_point).tolist()
        raise ParameterError(f"white point must be a number or (r, g, b) > 1, got {got}")
    return wp


def od_lut(white_point: float | ArrayLike = 255) -> np.ndarray:
    """Per-channel 256-entry OD lookup table (256, 3) float32 for uint8 input.

    Parameters
    ----------
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0), > 1.

    Returns
    -------
    ndarray of float32, shape (256, 3)
        ``lut[v, c]`` = OD of value ``v`` in channel ``c`` (v = 0 counts as 1).

    Examples
    --------
    >>> lut = od_lut((255, 250, 240))
    >>> lut[255].tolist(), bool(lut[0, 0] == lut[1, 0])
    ([0.0, 0.0, 0.0], True)
    """
    wp = as_white_point(white_point)
    v = np.maximum(np.arange(256, dtype=np.float64), 1.0)[:, None]
    lut = np.maximum(0.0, -np.log10(v / wp[None, :]))
    return lut.astype(np.float32)


def _check_rgb(rgb) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim < 1 or a.shape[-1] != 3:
        raise ParameterError(
            f"expected an RGB image with 3 colour channels last, got shape {a.shape}; "
            "read IHC images with read_image(path, mode='rgb')")
    return a


def optical_density(rgb: ArrayLike, white_point: float | ArrayLike = 255) -> np.ndarray:
    """QuPath optical density ``max(0, -log10(max(v, 1) / I0))`` per channel.

    Parameters
    ----------
    rgb : array (..., 3)
        uint8 uses a lookup table (fast, exact); other dtypes are computed
        directly, in the same units as ``white_point``.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0).

    Returns
    -------
    ndarray of float32, shape (..., 3)
        OD per channel, >= 0.

    Raises
    ------
    ParameterError
        If the last axis is not 3 channels or the white point is invalid.

    Examples
    --------
    >>> optical_density(np.array([[[25, 255, 0]]], np.uint8), 250).round(3)
    array([[[1.   , 0.   , 2.398]]], dtype=float32)
    """
    a = _check_rgb(rgb)
    if a.dtype == np.uint8:
        lut = od_lut(white_point)
        flat = np.ascontiguousarray(a).reshape(-1, 1, 3)
        out = cv2.LUT(flat, lut.reshape(256, 1, 3))
        return out.reshape(a.shape)
    wp = as_white_point(white_point).astype(np.float32)
    v = np.maximum(a.astype(np.float32), np.float32(1.0))
    return np.maximum(np.float32(0), -np.log10(v / wp)).astype(np.float32)


def _unmix(od: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Apply (k, 3) unmixing rows to OD (..., 3) -> (..., k) float32 (cv2.transform)."""
    flat = np.ascontiguousarray(od, dtype=np.float32).reshape(-1, 1, 3)
    out = cv2.transform(flat, rows.astype(np.float32))
    return out.reshape(od.shape[:-1] + (rows.shape[0],))


def deconvolve(rgb: ArrayLike, stains: Any = "default",
               white_point: float | ArrayLike = 255, *,
               od: np.ndarray | None = None) -> np.ndarray:
    """Colour-deconvolve an RGB image into stain amounts [H, DAB, residual].

    Parameters
    ----------
    rgb : array-like, shape (..., 3)
        RGB pixels (see :func:`optical_density`).
    stains : str, array-like or dict
        Stain vectors, anything :func:`as_stain_matrix` accepts.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0).
    od : ndarray, shape (..., 3), optional
        Precomputed :func:`optical_density` (``rgb`` and ``white_point`` are
        then ignored).

    Returns
    -------
    ndarray of float32, shape (..., 3)
        Stain ODs (hematoxylin, DAB, residual) in QuPath units, not clipped.

    Examples
    --------
    >>> m = stain_matrix()
    >>> od = 0.3 * m[0] + 0.5 * m[1]          # 0.3 H + 0.5 DAB
    >>> rgb = (255 * 10 ** -od).astype(np.float32)
    >>> deconvolve(rgb).round(3) + 0.0      # + 0.0: a residual of -0.0 prints as 0.
    array([0.3, 0.5, 0. ], dtype=float32)
    """
    m = as_stain_matrix(stains)
    if od is None:
        od = optical_density(rgb, white_point)
    inv = np.linalg.inv(m)  # OD (row) = c @ m  ->  c = OD @ inv
    return _unmix(od, inv.T)


def weighted_od(rgb: ArrayLike, weights: ArrayLike,
                white_point: float | ArrayLike = 255) -> np.ndarray:
    """``sum_c weights[c] * OD_c`` as one float32 map, without the (..., 3) OD array.

    For uint8 input the weights are folded into three 256-entry lookup tables
    (one per channel), so a stain map costs three table lookups and two adds
    per pixel (OpenCV), the fastest exact way on one core.  With weights = a
    column of the inverse stain matrix this is one deconvolved stain; with
    (1, 1, 1) it is the total OD used for tissue detection.

    Parameters
    ----------
    rgb : array-like, shape (..., 3)
        RGB pixels; uint8 (rows, cols, 3) takes the lookup-table path, other
        input goes through :func:`optical_density`.
    weights : array-like of 3 floats
        Weight of the R, G and B OD.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0), > 1.

    Returns
    -------
    ndarray of float32, shape (...)
        The weighted OD, one value per pixel.

    Examples
    --------
    >>> rgb = np.array([[[25, 255, 0]]], np.uint8)
    >>> float(weighted_od(rgb, (1, 1, 1))[0, 0]) == float(optical_density(rgb).sum())
    True
    """
    a = _check_rgb(rgb)
    w = np.asarray(weights, dtype=np.float64).reshape(3)
    if a.dtype != np.uint8 or a.ndim != 3:
        od = optical_density(a, white_point)
        return _unmix(od, w[None, :])[..., 0]
    return weighted_od_maps(a, [w], white_point)[0]


def weighted_od_maps(rgb: ArrayLike, weights: Sequence[ArrayLike],
                     white_point: float | ArrayLike = 255) -> list[np.ndarray]:
    """:func:`weighted_od` for several weight vectors in one pass over the image.

    Each block of rows is split into its three channels once and every map is
    filled from the same planes, in the order of :func:`weighted_od_rows`
    (so each map has the bits :func:`weighted_od` gives it).  ``score_ihc``
    takes the hematoxylin, DAB and tissue (OD sum) maps this way.

    Parameters
    ----------
    rgb : array-like, shape (..., 3)
        RGB pixels (uint8 (rows, cols, 3) takes the lookup-table path; other
        input is passed to :func:`weighted_od` map by map).
    weights : sequence of array-like of 3 floats
        One weight vector (R, G, B) per map.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0), > 1.

    Returns
    -------
    list of ndarray of float32, shape (...)
        One weighted OD map per weight vector.

    Examples
    --------
    >>> rgb = np.array([[[25, 255, 0], [200, 100, 50]]], np.uint8)
    >>> s, r = weighted_od_maps(rgb, [(1, 1, 1), (1, 0, 0)])
    >>> bool(np.array_equal(s, weighted_od(rgb, (1, 1, 1)))), bool(np.array_equal(r, weighted_od(rgb, (1, 0, 0))))
    (True, True)
    """
    a = _check_rgb(rgb)
    if a.dtype != np.uint8 or a.ndim != 3:
        return [weighted_od(a, w, white_point) for w in weights]
    tables = [weighted_luts(np.asarray(w, dtype=np.float64).reshape(3), white_point) for w in weights]
    outs = [np.empty(a.shape[:2], np.float32) for _ in tables]
    ext = compiled_cells()  # (one C pass over the interleaved pixels, the same sums; None: OpenCV)
    if ext is not None and 1 <= len(tables) <= 4 and a.size:
        flat = np.ascontiguousarray(a).reshape(a.shape[0], -1)
        ext.weighted_maps(flat, np.concatenate([t.reshape(1, 256) for lut in tables for t in lut]),
                          tuple(outs))
        return outs
    for r0, r1 in row_chunks(a.shape):
        chans = cv2.split(np.ascontiguousarray(a[r0:r1]))
        tmp = None
        for luts, out in zip(tables, outs):
            tmp = _weighted_planes(chans, luts, out[r0:r1], tmp)
    return outs


def _weighted_planes(chans, luts, out, tmp=None):
    """The body of :func:`weighted_od_rows` on split planes; ``tmp`` (float32 of the
    block's shape, or None) is reused and returned."""
    cv2.LUT(chans[0], luts[0], dst=out)
    if tmp is None:
        tmp = cv2.LUT(chans[1], luts[1])
    else:
        cv2.LUT(chans[1], luts[1], dst=tmp)
    cv2.add(out, tmp, dst=out)
    cv2.LUT(chans[2], luts[2], dst=tmp)
    cv2.add(out, tmp, dst=out)
    return tmp


def weighted_luts(weights: ArrayLike,
                  white_point: float | ArrayLike = 255) -> list[np.ndarray]:
    """Three (256, 1) float32 tables ``weights[c] * OD_c(v)`` (see :func:`weighted_od`).

    Parameters
    ----------
    weights : array-like of 3 floats
        Weight of the R, G and B OD.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0), > 1.

    Returns
    -------
    list of 3 ndarray of float32, shape (256, 1)
        One contiguous table per channel (the layout ``cv2.LUT`` wants).

    Examples
    --------
    >>> [t.shape for t in weighted_luts((1, 0, 0))]
    [(256, 1), (256, 1), (256, 1)]
    """
    lut = od_lut(white_point).astype(np.float64) * np.asarray(weights, float).reshape(1, 3)
    return [np.ascontiguousarray(lut[:, c], dtype=np.float32).reshape(256, 1) for c in range(3)]


def row_chunks(shape: tuple[int, ...], target_px: int = 65536) -> list[tuple[int, int]]:
    """(start, stop) row ranges of about ``target_px`` pixels (cache-sized blocks).

    Parameters
    ----------
    shape : tuple of int
        Image shape; only rows and columns (the first two) are used.
    target_px : int
        Pixels per block (at least one row per block).

    Returns
    -------
    list of (int, int)
        Consecutive half-open row ranges covering all rows.

    Examples
    --------
    >>> list(row_chunks((5, 30000)))
    [(0, 2), (2, 4), (4, 5)]
    """
    rows = max(1, int(target_px) // max(int(shape[1]), 1))
    return [(r, min(r + rows, int(shape[0]))) for r in range(0, int(shape[0]), rows)]


def weighted_od_rows(block: np.ndarray, luts: list[np.ndarray],
                     out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (float32, rows x cols) with the weighted OD of a uint8 RGB block.

    Parameters
    ----------
    block : ndarray of uint8, shape (rows, cols, 3)
        RGB pixels.
    luts : list of 3 ndarray
        Tables from :func:`weighted_luts`.
    out : ndarray of float32, shape (rows, cols)
        Written in place.

    Returns
    -------
    ndarray
        ``out``.

    Examples
    --------
    >>> out = np.empty((1, 1), np.float32)
    >>> float(weighted_od_rows(np.full((1, 1, 3), 255, np.uint8), weighted_luts((1, 1, 1)), out)[0, 0])
    0.0
    """
    _weighted_planes(cv2.split(np.ascontiguousarray(block)), luts, out)
    return out


def stain_maps(rgb: ArrayLike, stains: Any = "default",
               white_point: float | ArrayLike = 255, *,
               od: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hematoxylin and DAB OD maps as two contiguous float32 arrays.

    Equal to ``deconvolve(...)[..., 0]`` and ``[..., 1]``, computed directly
    from uint8 RGB with per-channel lookup tables (see :func:`weighted_od`).

    Parameters
    ----------
    rgb, stains, white_point, od
        As for :func:`deconvolve`.

    Returns
    -------
    hematoxylin, dab : ndarray of float32, shape (...)
        The two stain OD maps (QuPath units, not clipped).

    Examples
    --------
    >>> h, d = stain_maps(np.full((2, 2, 3), 255, np.uint8))
    >>> h.shape, float(d.max())
    ((2, 2), 0.0)
    """
    m = as_stain_matrix(stains)
    inv = np.linalg.inv(m)
    if od is None:
        h, d = weighted_od_maps(rgb, (inv[:, 0], inv[:, 1]), white_point)
        return h, d
    return (np.ascontiguousarray(_unmix(od, inv[:, :1].T)[..., 0]),
            np.ascontiguousarray(_unmix(od, inv[:, 1:2].T)[..., 0]))


def reconstruct_rgb(amounts: ArrayLike, stains: Any = "default",
                    white_point: float | ArrayLike = 255) -> np.ndarray:
    """Beer-Lambert forward model: stain amounts (..., k<=3) -> float RGB.

    Parameters
    ----------
    amounts : array-like, shape (..., k)
        Amounts of the first ``k`` stains (k <= 3: H, DAB, residual).
    stains : str, array-like or dict
        Stain vectors, anything :func:`as_stain_matrix` accepts.
    white_point : float or (r, g, b)
        Intensity of unstained glass (I0), > 1.

    Returns
    -------
    ndarray of float64, shape (..., 3)
        ``white_point * 10 ** -(amounts @ stains[:k])`` (not rounded or clipped).

    Examples
    --------
    >>> reconstruct_rgb(np.zeros(3)).tolist()
    [255.0, 255.0, 255.0]
    """
    m = as_stain_matrix(stains)
    c = np.asarray(amounts, dtype=np.float64)
    k = c.shape[-1]
    od = c @ m[:k]
    return as_white_point(white_point) * 10.0 ** (-od)


def vector_angle_deg(a: ArrayLike, b: ArrayLike) -> float:
    """Angle in degrees between two vectors (insensitive to their lengths).

    Parameters
    ----------
    a, b : array-like
        Two non-zero vectors of the same length.

    Returns
    -------
    float
        The angle, in [0, 180].

    Examples
    --------
    >>> round(vector_angle_deg([1, 0, 0], [1, 1, 0]), 6)
    45.0
    """
    a = normalize_vector(a)
    b = normalize_vector(b)
    return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))
