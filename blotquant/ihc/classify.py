"""The one threshold rule of IHC scoring, for pixels and for cells.

An intensity class is the number of DAB thresholds a value reaches:
``value >= t1`` is 1+, ``>= t2`` is 2+, ``>= t3`` is 3+ (a value exactly on a
threshold goes to the higher class, QuPath's rule); NaN (e.g. a cell without
cytoplasm pixels) is negative.  The comparison is made in the values' own
floating type (float32 OD maps compare with float32 thresholds).

Class codes (uint8) of pixel maps and napari Labels layers add 1 so that 0
can mean "not scored":

====  ==============================
0     not scored (glass, excluded)
1     negative   (DAB < t1)
2     1+ weak    (t1 <= DAB < t2)
3     2+ moderate (t2 <= DAB < t3)
4     3+ strong  (DAB >= t3)
====  ==============================

Examples
--------
>>> import numpy as np
>>> intensity_classes(np.array([0.1, 0.2, 0.45, 0.6, np.nan])).tolist()
[0, 1, 2, 3, 0]
>>> classify_pixels(np.array([0.1, 0.2, 0.45, 0.6], np.float32)).tolist()
[1, 2, 3, 4]
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from .params import DEFAULT_THRESHOLDS, IHCParams

__all__ = ["CLASS_NAMES", "CLASS_CODES", "CELL_CLASS_NAMES", "check_thresholds",
           "intensity_classes", "classify_pixels"]

#: Names of pixel class codes 0..4.
CLASS_NAMES = ("unscored", "negative", "1+", "2+", "3+")
#: Code of each class name.
CLASS_CODES = {name: code for code, name in enumerate(CLASS_NAMES)}
#: Names of intensity classes 0..3 (cells).
CELL_CLASS_NAMES = CLASS_NAMES[1:]


def check_thresholds(thresholds: Sequence[float] | str) -> tuple[float, ...]:
    """Validate thresholds as ``IHCParams`` does: 1 value or 3 increasing values.

    Parameters
    ----------
    thresholds : sequence of float or str
        ``(t1, t2, t3)``, ``(t,)`` or text ``"0.2,0.4,0.6"``.

    Returns
    -------
    tuple of float
        The validated thresholds.

    Raises
    ------
    ParameterError
        If they are not 1 or 3 increasing finite numbers.

    Examples
    --------
    >>> check_thresholds("0.2,0.4,0.6")
    (0.2, 0.4, 0.6)
    """
    return IHCParams(thresholds=thresholds).thresholds


def intensity_classes(values: ArrayLike,
                      thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS) -> np.ndarray:
    """Intensity class 0..len(thresholds) of each value (the one rule).

    Parameters
    ----------
    values : array_like of float
        DAB OD values (pixels or per-cell measures); NaN counts as negative.
    thresholds : sequence of float
        Validated by :func:`check_thresholds`.

    Returns
    -------
    numpy.ndarray of uint8
        Same shape as ``values``: the number of thresholds each value reaches.
    """
    t = check_thresholds(thresholds)
    v = np.asarray(values)
    if v.dtype.kind != "f":
        v = v.astype(np.float64)
    out = np.zeros(v.shape, np.uint8)
    tmp = np.empty(v.shape, bool)
    for thr in t:
        np.greater_equal(v, v.dtype.type(thr), out=tmp)
        out += tmp.view(np.uint8)
    return out


def classify_pixels(dab_od: ArrayLike, thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS,
                    mask: ArrayLike | None = None) -> np.ndarray:
    """Pixel class codes 0 (unscored) .. 4 (3+) of a DAB OD map.

    Parameters
    ----------
    dab_od : float array
        DAB optical density (QuPath units).
    thresholds : (t1, t2, t3) or (t,)
        Validated by :func:`check_thresholds`.
    mask : bool array, optional
        Pixels to score (e.g. tissue); others get 0.

    Returns
    -------
    numpy.ndarray of uint8
        Same shape as ``dab_od``: 1 (negative) .. 4 (3+), 0 outside ``mask``.

    Raises
    ------
    ParameterError
        If ``mask`` and ``dab_od`` differ in shape, or the thresholds are invalid.

    Examples
    --------
    >>> d = np.array([[0.05, 0.3], [0.5, 0.9]], np.float32)
    >>> classify_pixels(d, mask=np.array([[True, True], [False, True]])).tolist()
    [[1, 2], [0, 4]]
    """
    d = np.asarray(dab_od)
    if d.dtype != np.float32:
        d = d.astype(np.float32)
    out = intensity_classes(d, thresholds)
    out += np.uint8(1)
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != d.shape:
            raise ParameterError(f"mask shape {m.shape} does not match DAB map {d.shape}")
        out *= m.view(np.uint8)
    return out
