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

import numpy as np

from ..errors import ParameterError
from .classify import check_thresholds, classify_pixels
from .params import DEFAULT_THRESHOLDS

__all__ = ["score_pixels_rgb", "class_counts"]


def score_pixels_rgb(rgb, thresholds=DEFAULT_THRESHOLDS, *, stains="default", white_point=255,
                     mask=None):
    """Fused pixel scoring of uint8 RGB: DAB OD map and classes in one cache-sized pass.

    Same result as ``classify_pixels(stain_maps(rgb, stains, white_point)[1],
    thresholds, mask)``, computed block by block so that the intermediate
    arrays stay in the CPU cache (the fast path of pixel mode).

    Returns
    -------
    (dab_od float32, classes uint8)

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


def class_counts(class_map, mask=None) -> np.ndarray:
    """Counts of codes 0..4 (int64 array of 5), optionally inside ``mask``.

    Examples
    --------
    >>> class_counts(np.array([0, 1, 1, 4], np.uint8)).tolist()
    [1, 2, 0, 0, 1]
    """
    c = np.asarray(class_map)
    if mask is not None:
        c = c[np.asarray(mask, bool)]
    return np.bincount(c.ravel(), minlength=5)[:5].astype(np.int64)
