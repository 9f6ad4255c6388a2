"""Biomarker level vs drug sensitivity: Pearson and Spearman correlation."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from numpy.typing import ArrayLike

from ..errors import ParameterError

__all__ = ["CorrelationResult", "correlate", "biomarker_vs_sensitivity",
           "spearman_exact_p", "EXACT_SPEARMAN_MAX_N"]

#: Largest n for which the exact Spearman permutation p-value is computed.
EXACT_SPEARMAN_MAX_N = 9


def spearman_exact_p(x: ArrayLike, y: ArrayLike) -> float:
    """Exact two-sided permutation p-value of Spearman's rho.

    The fraction of all n! orderings of ``y``'s (average) ranks whose
    ``|rho|`` is at least the observed ``|rho|`` (ties allowed).

    Parameters
    ----------
    x, y : array-like
        Paired values of the same length n <= :data:`EXACT_SPEARMAN_MAX_N`.

    Returns
    -------
    float
        The exact p-value, in (0, 1].

    Raises
    ------
    ParameterError
        If n > :data:`EXACT_SPEARMAN_MAX_N`.

    Examples
    --------
    >>> round(spearman_exact_p([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]), 6)  # 2 / 720
    0.002778
    """
    from itertools import permutations

    rx = sps.rankdata(np.asarray(x, dtype=float))
    ry = sps.rankdata(np.asarray(y, dtype=float))
    n = rx.size
    if n > EXACT_SPEARMAN_MAX_N:
        raise ParameterError(f"exact Spearman p-value only for n <= {EXACT_SPEARMAN_MAX_N}")
    xc = rx - rx.mean()
    yc = ry - ry.mean()
    norm = np.sqrt((xc ** 2).sum() * (yc ** 2).sum())
    obs = abs(float(xc @ yc) / norm)
    perms = np.array(list(permutations(range(n))), dtype=np.int8)
    rhos = np.abs(yc[perms] @ xc) / norm
    return float(np.mean(rhos >= obs - 1e-12))


@dataclass
class CorrelationResult:
    """Pearson and Spearman correlation of two paired variables.

    Attributes
    ----------
    n : int
        Pairs used (both values finite; with ``log_y`` also y > 0).
    pearson_r, pearson_p, spearman_rho, spearman_p : float
        Coefficients and two-sided p-values (scipy.stats).
    pearson_ci : tuple of float
        95% confidence interval of r (Fisher z transform), NaN for n <= 3.
    spearman_p_exact : float
        Exact two-sided permutation p-value of rho (all n! orderings) for
        n <= :data:`EXACT_SPEARMAN_MAX_N`, else NaN.  For small n the
        t-approximation of ``spearman_p`` can be far off (n = 6 and rho = 1
        give p ~ 0 by the approximation, 2/720 exactly).
    x_name, y_name : str
    log_y : bool
        Whether y was log10-transformed before the Pearson correlation
        (Spearman is rank-based and unaffected).
    data : DataFrame
        The pairs used: ``label``, ``x``, ``y`` (untransformed).
    """

    n: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float
    pearson_ci: tuple = (np.nan, np.nan)
    spearman_p_exact: float = np.nan
    x_name: str = "x"
    y_name: str = "y"
    log_y: bool = False
    data: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def as_dict(self) -> dict:
        """Flat dict (one table row).

        Returns
        -------
        dict
            ``x``, ``y`` (the names), ``log_y``, ``n``, ``pearson_r``,
            ``pearson_p``, ``pearson_ci_low``, ``pearson_ci_high``,
            ``spearman_rho``, ``spearman_p`` and ``spearman_p_exact``.
        """
        return {"x": self.x_name, "y": self.y_name, "log_y": self.log_y, "n": self.n,
                "pearson_r": self.pearson_r, "pearson_p": self.pearson_p,
                "pearson_ci_low": self.pearson_ci[0], "pearson_ci_high": self.pearson_ci[1],
                "spearman_rho": self.spearman_rho, "spearman_p": self.spearman_p,
                "spearman_p_exact": self.spearman_p_exact}


def correlate(x: ArrayLike, y: ArrayLike, *, log_y: bool = False,
              labels: ArrayLike | None = None, x_name: str = "x",
              y_name: str = "y") -> CorrelationResult:
    """Pearson r and Spearman rho (with two-sided p-values) of paired values.

    Pairs with a non-finite value (or, with ``log_y``, y <= 0) are dropped.
    For n <= 9 the exact permutation p-value of rho is added
    (``spearman_p_exact``).

    Parameters
    ----------
    x, y : array-like
        Paired values (e.g. ASNS level, IC50).
    log_y : bool
        Correlate with log10(y) (IC50s are log-normal) for Pearson.
    labels : array-like, optional
        Names of the pairs (kept in ``data``; default ``"1"``, ``"2"``, ...).
    x_name, y_name : str
        Names of the variables, kept in the result.

    Returns
    -------
    CorrelationResult
        Coefficients, p-values, the 95% CI of r and the pairs used.

    Raises
    ------
    ParameterError
        If x and y differ in length, fewer than 3 complete pairs remain, or
        one variable is constant.

    Examples
    --------
    >>> r = correlate([1, 2, 3, 4, 5], [2.1, 3.9, 6.2, 8.1, 9.8])
    >>> round(r.pearson_r, 4), r.spearman_rho, r.n
    (0.9989, 1.0, 5)
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ParameterError(f"x and y must have the same length ({x.size} vs {y.size})")
    labels = np.arange(1, x.size + 1).astype(str) if labels is None \
        else np.asarray(labels, dtype=object).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if log_y:
        ok &= y > 0
    x, y, labels = x[ok], y[ok], labels[ok]
    n = int(x.size)
    if n < 3:
        raise ParameterError(f"need at least 3 complete pairs to correlate, got {n}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        raise ParameterError("one variable is constant: the correlation is undefined")
    yt = np.log10(y) if log_y else y
    pr = sps.pearsonr(x, yt)
    sr = sps.spearmanr(x, yt)
    r = float(pr.statistic)
    if n > 3 and abs(r) < 1:
        z = np.arctanh(r)
        half = sps.norm.ppf(0.975) / np.sqrt(n - 3)
        ci = (float(np.tanh(z - half)), float(np.tanh(z + half)))
    else:
        ci = (np.nan, np.nan)
    data = pd.DataFrame({"label": labels, "x": x, "y": y})
    p_exact = spearman_exact_p(x, yt) if n <= EXACT_SPEARMAN_MAX_N else np.nan
    return CorrelationResult(n=n, pearson_r=r, pearson_p=float(pr.pvalue),
                             spearman_rho=float(sr.statistic), spearman_p=float(sr.pvalue),
                             pearson_ci=ci, spearman_p_exact=p_exact, x_name=x_name,
                             y_name=y_name, log_y=log_y, data=data)


def biomarker_vs_sensitivity(levels: pd.DataFrame, ic50: pd.DataFrame, *,
                             level_col: str = "relative_ratio", ic50_col: str = "ic50",
                             key: str = "cell_line", ic50_key: str | None = None,
                             log_ic50: bool = True, aggregate: str = "mean"
                             ) -> CorrelationResult:
    """Correlate a biomarker level table with an IC50 table.

    Parameters
    ----------
    levels : DataFrame
        One or more rows per sample: ``key`` and ``level_col`` (e.g. the
        batch's normalized table with ``lane_label`` as key, or IHC
        ``h_score`` per ``sample``).  Several rows per sample (replicates) are
        averaged (``aggregate="mean"`` or ``"median"``).
    ic50 : DataFrame
        ``ic50_key`` (default: ``key``) and ``ic50_col``.
    level_col : str
        Level column of ``levels``.
    ic50_col : str
        IC50 column of ``ic50``.
    key : str
        Sample column of ``levels``.
    ic50_key : str, optional
        Sample column of ``ic50`` (default: ``key``); samples are matched
        as strings.
    log_ic50 : bool
        Use log10(IC50) for Pearson (default True).
    aggregate : {"mean", "median"}
        How several rows of one sample (in either table) are combined.

    Returns
    -------
    CorrelationResult
        See :func:`correlate`; ``data.label`` holds the sample names.

    Raises
    ------
    ParameterError
        If a column is missing, ``aggregate`` is unknown or fewer than 3
        samples are in both tables.

    Examples
    --------
    >>> lv = pd.DataFrame({"cell_line": list("ABCDE"), "ratio": [0.2, 0.5, 1.0, 1.5, 3.0]})
    >>> ic = pd.DataFrame({"cell_line": list("EDCBA"), "ic50": [9.0, 4.0, 2.0, 0.5, 0.1]})
    >>> r = biomarker_vs_sensitivity(lv, ic, level_col="ratio")
    >>> r.n, r.spearman_rho
    (5, 1.0)
    """
    ic50_key = ic50_key or key
    for df, cols, what in ((levels, (key, level_col), "levels"),
                           (ic50, (ic50_key, ic50_col), "IC50")):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise ParameterError(f"the {what} table has no column(s) {', '.join(miss)} "
                                 f"(columns: {', '.join(map(str, df.columns))})")
    if aggregate not in ("mean", "median"):
        raise ParameterError("aggregate must be 'mean' or 'median'")
    lv = levels[[key, level_col]].copy()
    lv[level_col] = pd.to_numeric(lv[level_col], errors="coerce")
    lv[key] = lv[key].astype(str)
    lv = lv.groupby(key, sort=True)[level_col].agg(aggregate)
    ic = ic50[[ic50_key, ic50_col]].copy()
    ic[ic50_key] = ic[ic50_key].astype(str)
    ic[ic50_col] = pd.to_numeric(ic[ic50_col], errors="coerce")
    ic = ic.groupby(ic50_key, sort=True)[ic50_col].agg(aggregate)
    common = sorted(set(lv.index) & set(ic.index))
    if len(common) < 3:
        raise ParameterError(f"only {len(common)} sample(s) are in both tables (matched "
                             f"{key!r} with {ic50_key!r}); check the names")
    return correlate(lv[common].to_numpy(), ic[common].to_numpy(), log_y=log_ic50,
                     labels=common, x_name=level_col, y_name=ic50_col)
