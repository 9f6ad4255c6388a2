"""Pixel classes: negative / 1+ / 2+ / 3+ by DAB OD thresholds.

Class codes (uint8), shared with the cell mode and the napari Labels layer:

====  ==============================
0     not scored (glass, excluded)
1     negative   (DAB < t1)
2     1+ weak    (t1 <= DAB < t2)
3     2+ moderate (t2 <= DAB < t3)
4     3+ strong  (DAB >= t3)
====  ==============================

A value exactly on a threshold goes to the higher class (QuPath's rule).

Examples
--------
>>> import numpy as np
>>> classify_pixels(np.array([0.1, 0.2, 0.45, 0.6], np.float32)).tolist()
[1, 2, 3, 4]
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["CLASS_NAMES", "CLASS_CODES", "DEFAULT_THRESHOLDS", "check_thresholds",
           "classify_pixels", "class_counts", "score_pixels_rgb"]

#: Names of class codes 0..4.
CLASS_NAMES = ("unscored", "negative", "1+", "2+", "3+")
#: Code of each class name.
CLASS_CODES = {name: code for code, name in enumerate(CLASS_NAMES)}
#: QuPath's default DAB OD thresholds for 1+, 2+, 3+.
DEFAULT_THRESHOLDS = (0.2, 0.4, 0.6)


def check_thresholds(thresholds) -> tuple:
    """Validate thresholds: 1 value (positive/negative) or 3 increasing values.

    A single threshold gives a two-class scoring (negative / 1+).

    Examples
    --------
    >>> check_thresholds("0.2,0.4,0.6")
    (0.2, 0.4, 0.6)
    """
    if isinstance(thresholds, str):
        try:
            thresholds = [float(t) for t in thresholds.replace(";", ",").split(",") if t.strip()]
        except ValueError:
            raise ParameterError(
                f"thresholds {thresholds!r} are not numbers; use e.g. 0.2,0.4,0.6") from None
    t = tuple(float(x) for x in np.atleast_1d(np.asarray(thresholds, dtype=float)))
    if len(t) not in (1, 3):
        raise ParameterError(f"give 1 or 3 DAB thresholds (e.g. 0.2,0.4,0.6), got {len(t)}")
    if not all(np.isfinite(t)) or any(b <= a for a, b in zip(t, t[1:])):
        raise ParameterError(f"DAB thresholds must be finite and strictly increasing, got {t}")
    return t


def classify_pixels(dab_od, thresholds=DEFAULT_THRESHOLDS, mask=None) -> np.ndarray:
    """Classify pixels by DAB OD into codes 0 (unscored) .. 4 (3+).

    Parameters
    ----------
    dab_od : float array
        DAB optical density (QuPath units).
    thresholds : (t1, t2, t3) or (t,)
    mask : bool array, optional
        Pixels to score (e.g. tissue); others get 0.

    Returns
    -------
    uint8 array, same shape as ``dab_od``.

    Examples
    --------
    >>> d = np.array([[0.05, 0.3], [0.5, 0.9]], np.float32)
    >>> classify_pixels(d, mask=np.array([[True, True], [False, True]])).tolist()
    [[1, 2], [0, 4]]
    """
    t = check_thresholds(thresholds)
    d = np.asarray(dab_od)
    if d.dtype != np.float32:
        d = d.astype(np.float32)
    m = None
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != d.shape:
            raise ParameterError(f"mask shape {m.shape} does not match DAB map {d.shape}")
    out = np.ones(d.shape, np.uint8)
    tmp = np.empty(d.shape, bool)
    for thr in t:
        np.greater_equal(d, np.float32(thr), out=tmp)
        out += tmp.view(np.uint8)
    if m is not None:
        out *= m.view(np.uint8)
    return out


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
