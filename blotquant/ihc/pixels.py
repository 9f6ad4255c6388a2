"""Pixel mode: DAB OD map and pixel classes of an RGB image in one fused pass.

The class codes and the threshold rule are those of :mod:`blotquant.ihc.classify`.

Examples
--------
>>> import numpy as np
>>> rgb = np.array([[[255, 255, 255], [150, 100, 60]]], np.uint8)
>>> score_pixels_rgb(rgb)[1].tolist()
[[1, 4]]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from .classify import check_thresholds, classify_pixels
from .params import DEFAULT_THRESHOLDS

__all__ = ["score_pixels_rgb", "class_counts"]


def score_pixels_rgb(rgb: ArrayLike, thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS, *,
                     stains: Any = "default", white_point: float | ArrayLike = 255,
                     mask: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fused pixel scoring of uint8 RGB: DAB OD map and classes in one cache-sized pass.

    Same result as ``classify_pixels(stain_maps(rgb, stains, white_point)[1],
    thresholds, mask)``, computed block by block so that the intermediate
    arrays stay in the CPU cache (the fast path of pixel mode).

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
    from .deconvolution import (_check_rgb, as_stain_matrix, row_chunks, weighted_luts,
                                weighted_od_rows)

    t = check_thresholds(thresholds)
    a = _check_rgb(rgb)
    if a.dtype != np.uint8 or a.ndim != 3:
        raise ParameterError("score_pixels_rgb needs uint8 RGB (rows, cols, 3)")
    m = None if mask is None else np.asarray(mask, bool)
    if m is not None and m.shape != a.shape[:2]:
        raise ParameterError(f"mask shape {m.shape} does not match image {a.shape[:2]}")
    w = np.linalg.inv(as_stain_matrix(stains))[:, 1]
    luts = weighted_luts(w, white_point)
    dab = np.empty(a.shape[:2], np.float32)
    cls = np.empty(a.shape[:2], np.uint8)
    for r0, r1 in row_chunks(a.shape):
        d = weighted_od_rows(a[r0:r1], luts, dab[r0:r1])
        cls[r0:r1] = classify_pixels(d, t, None if m is None else m[r0:r1])
    return dab, cls


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
