"""IHC scores from class counts: H-score, percent positive, Allred, IRS.

Pure arithmetic on counts of negative / 1+ / 2+ / 3+ objects (cells or pixels).

- H-score = 1 x %1+ + 2 x %2+ + 3 x %3+ (0-300).
- Allred (QuPath's rules): proportion score from the positive fraction p:
  0 if p = 0 (or below ``min_positive_pct``), 1 if p < 1%, 2 if 1% <= p < 10%,
  3 if 10% <= p < 1/3, 4 if 1/3 <= p < 2/3, 5 if p >= 2/3; intensity score from
  the mean class of the positive objects m (1..3): 3 if m > 7/3, 2 if m > 5/3,
  else 1 (0 when the proportion score is 0). Total = sum: 0 or 2-8.
- IRS (Remmele & Stegner): proportion 0 (none), 1 (< 10%), 2 (10-50%),
  3 (51-80%, i.e. > 50% and <= 80%), 4 (> 80%) times intensity (0-3, same rule
  as Allred's intensity): 0-12.

Examples
--------
>>> h_score((50, 20, 20, 10))
90.0
>>> allred((50, 20, 20, 10))
(6, 4, 2)
>>> irs((50, 20, 20, 10))
(4, 2, 2)
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError

__all__ = ["h_score", "percent_positive", "allred", "allred_proportion_score",
           "intensity_score", "irs", "irs_proportion_score", "summarize", "SCORE_COLUMNS"]

#: Columns produced by :func:`summarize`.
SCORE_COLUMNS = ("n", "n_negative", "n_1plus", "n_2plus", "n_3plus", "pct_negative",
                 "pct_1plus", "pct_2plus", "pct_3plus", "pct_positive", "h_score",
                 "allred", "allred_proportion", "allred_intensity", "irs",
                 "irs_proportion", "irs_intensity")


def _counts(counts) -> np.ndarray:
    c = np.asarray(counts, dtype=np.float64).ravel()
    if c.size == 5:  # a class_counts() vector with code 0 first
        c = c[1:]
    if c.size == 2:  # negative / positive only
        c = np.array([c[0], c[1], 0, 0], float)
    if c.size != 4 or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ParameterError(
            "counts must be (negative, 1+, 2+, 3+) non-negative numbers "
            f"(or 5 class-map counts with 'unscored' first), got {np.asarray(counts).tolist()}")
    return c


def h_score(counts: ArrayLike) -> float:
    """H-score (0-300) of counts (negative, 1+, 2+, 3+); NaN when empty.

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts; also 5 class-map counts with
        'unscored' first (dropped) or 2 counts (negative, positive = 1+).

    Returns
    -------
    float
        1 x %1+ + 2 x %2+ + 3 x %3+, NaN when all counts are 0.

    Raises
    ------
    ParameterError
        For counts of another length, negative or non-finite.

    Examples
    --------
    >>> h_score((0, 0, 0, 5)), h_score((1, 1, 1, 1))
    (300.0, 150.0)
    """
    c = _counts(counts)
    n = c.sum()
    return float((c[1] + 2 * c[2] + 3 * c[3]) * 100.0 / n) if n else math.nan


def percent_positive(counts: ArrayLike) -> float:
    """Percentage of 1+/2+/3+ among all; NaN when empty.

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts; also 5 class-map counts with
        'unscored' first (dropped) or 2 counts (negative, positive = 1+).

    Returns
    -------
    float
        Positive percentage (0-100), NaN when all counts are 0.

    Examples
    --------
    >>> percent_positive((3, 1, 0, 0))
    25.0
    """
    c = _counts(counts)
    n = c.sum()
    return float(c[1:].sum() * 100.0 / n) if n else math.nan


def intensity_score(counts: ArrayLike) -> int:
    """Mean-class intensity score 0-3 (QuPath): 3 if mean > 7/3, 2 if > 5/3, else 1.

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts; also 5 class-map counts with
        'unscored' first (dropped) or 2 counts (negative, positive = 1+).

    Returns
    -------
    int
        0 when no object is positive, else 1-3 from the mean class (1..3)
        of the positive objects.

    Examples
    --------
    >>> intensity_score((0, 1, 1, 1)), intensity_score((5, 0, 0, 0))
    (2, 0)
    """
    c = _counts(counts)
    pos = c[1:].sum()
    if pos == 0:
        return 0
    mean = (c[1] + 2 * c[2] + 3 * c[3]) / pos
    if mean > 7.0 / 3.0:
        return 3
    if mean > 5.0 / 3.0:
        return 2
    return 1


def allred_proportion_score(pct_positive: float, min_positive_pct: float = 0.0) -> int:
    """Allred proportion score 0-5 from a percentage of positive objects.

    Parameters
    ----------
    pct_positive : float
        Percentage of positive objects (0-100).
    min_positive_pct : float
        Below this percentage the score is 0.

    Returns
    -------
    int
        0 (none or NaN), 1 (< 1 %), 2 (< 10 %), 3 (< 1/3), 4 (< 2/3) or 5.

    Examples
    --------
    >>> [allred_proportion_score(p) for p in (0, 0.5, 1, 9.99, 10, 100 / 3, 200 / 3)]
    [0, 1, 2, 2, 3, 4, 5]
    """
    p = float(pct_positive) / 100.0
    if not np.isfinite(p) or p <= 0 or p * 100.0 < min_positive_pct:
        return 0
    if p >= 2.0 / 3.0 - 1e-12:
        return 5
    if p >= 1.0 / 3.0 - 1e-12:
        return 4
    if p >= 0.1 - 1e-12:
        return 3
    if p >= 0.01 - 1e-12:
        return 2
    return 1


def allred(counts: ArrayLike, min_positive_pct: float = 0.0) -> tuple[int, int, int]:
    """Allred score: (total 0 or 2-8, proportion 0-5, intensity 0-3).

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts (see :func:`h_score` for other forms).
    min_positive_pct : float
        Below this percentage of positives the score is 0 (QuPath preference; default 0).

    Returns
    -------
    total, proportion, intensity : int
        Total = proportion + intensity; all 0 when nothing is positive.

    Examples
    --------
    >>> allred((100, 0, 0, 0)), allred((99, 1, 0, 0)), allred((0, 0, 0, 9))
    ((0, 0, 0), (3, 2, 1), (8, 5, 3))
    """
    c = _counts(counts)
    prop = allred_proportion_score(percent_positive(c), min_positive_pct) if c.sum() else 0
    inten = intensity_score(c) if prop > 0 else 0
    return (prop + inten, prop, inten)


def irs_proportion_score(pct_positive: float) -> int:
    """IRS proportion score 0-4: 0 none, 1 < 10%, 2 10-50%, 3 51-80%, 4 > 80%.

    Parameters
    ----------
    pct_positive : float
        Percentage of positive objects (0-100).

    Returns
    -------
    int
        The proportion score (50 % gives 2, anything above 50 % up to 80 % gives 3).

    Examples
    --------
    >>> [irs_proportion_score(p) for p in (0, 5, 10, 50, 50.5, 80, 81)]
    [0, 1, 2, 2, 3, 3, 4]
    """
    p = float(pct_positive)
    if not np.isfinite(p) or p <= 0:
        return 0
    if p < 10:
        return 1
    if p <= 50:
        return 2
    if p <= 80:
        return 3
    return 4


def irs(counts: ArrayLike) -> tuple[int, int, int]:
    """Immunoreactive score: (IRS 0-12, proportion 0-4, intensity 0-3).

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts; also 5 class-map counts with
        'unscored' first (dropped) or 2 counts (negative, positive = 1+).

    Returns
    -------
    score, proportion, intensity : int
        Score = proportion x intensity.

    Examples
    --------
    >>> irs((10, 0, 0, 90)), irs((95, 5, 0, 0))
    ((12, 4, 3), (1, 1, 1))
    """
    c = _counts(counts)
    prop = irs_proportion_score(percent_positive(c)) if c.sum() else 0
    inten = intensity_score(c) if prop > 0 else 0
    return (prop * inten, prop, inten)


def summarize(counts: ArrayLike, min_positive_pct: float = 0.0) -> dict:
    """All scores of one set of counts as a dict with :data:`SCORE_COLUMNS`.

    Parameters
    ----------
    counts : array-like
        (negative, 1+, 2+, 3+) counts; also 5 class-map counts with
        'unscored' first (dropped) or 2 counts (negative, positive = 1+).
    min_positive_pct : float
        See :func:`allred`.

    Returns
    -------
    dict
        Keys :data:`SCORE_COLUMNS`: counts (int), percentages of each class
        and of positives (NaN when empty), H-score, Allred and IRS with
        their parts (None when nothing was scored: no score, rather than 0,
        which reads as negative).

    Examples
    --------
    >>> s = summarize((50, 20, 20, 10))
    >>> s["n"], s["pct_positive"], s["h_score"], s["allred"], s["irs"]
    (100, 50.0, 90.0, 6, 4)
    >>> summarize((0, 0, 0, 0))["allred"] is None
    True
    """
    c = _counts(counts)
    n = int(c.sum())
    pct = (c * 100.0 / n) if n else np.full(4, math.nan)
    # nothing scored has no Allred or IRS (0 would read as "negative")
    a = allred(c, min_positive_pct) if n else (None, None, None)
    r = irs(c) if n else (None, None, None)
    return {
        "n": n, "n_negative": int(c[0]), "n_1plus": int(c[1]), "n_2plus": int(c[2]),
        "n_3plus": int(c[3]), "pct_negative": float(pct[0]), "pct_1plus": float(pct[1]),
        "pct_2plus": float(pct[2]), "pct_3plus": float(pct[3]),
        "pct_positive": percent_positive(c), "h_score": h_score(c),
        "allred": a[0], "allred_proportion": a[1], "allred_intensity": a[2],
        "irs": r[0], "irs_proportion": r[1], "irs_intensity": r[2],
    }
