"""Replicate summaries: mean, SD, SEM and n per group."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["summarize_replicates"]


def summarize_replicates(df: pd.DataFrame, value: str, by: Sequence[str] | str,
                         *, replicate: str | None = None) -> pd.DataFrame:
    """Mean ± SD of ``value`` per group, over replicates.

    Parameters
    ----------
    df : DataFrame
    value : str
        Numeric column to summarise (e.g. ``relative_ratio`` or ``h_score``).
    by : str or list of str
        Grouping columns (e.g. ``["condition"]``).
    replicate : str, optional
        When given, values are first averaged within each (group, replicate),
        so that technical repeats (several lanes/regions of one replicate)
        count once.

    Returns
    -------
    DataFrame
        ``by`` columns, then ``n`` (finite values), ``mean``, ``sd`` (sample
        SD, ``ddof=1``; NaN for n < 2), ``sem`` (sd / sqrt(n)), ``min``, ``max``.

    Examples
    --------
    >>> df = pd.DataFrame({"condition": ["a", "a", "a", "b"], "v": [1.0, 2.0, 3.0, 5.0]})
    >>> summarize_replicates(df, "v", "condition")[["condition", "n", "mean", "sd"]]
      condition  n  mean   sd
    0         a  3   2.0  1.0
    1         b  1   5.0  NaN
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [value, *by, *([replicate] if replicate else [])]
               if c not in df.columns]
    if missing:
        raise ParameterError(f"column(s) {', '.join(missing)} not in the table "
                             f"(columns: {', '.join(map(str, df.columns))})")
    d = df[by + ([replicate] if replicate else []) + [value]].copy()
    d[value] = pd.to_numeric(d[value], errors="coerce")
    d = d[np.isfinite(d[value])]
    if replicate:
        d = d.groupby(by + [replicate], sort=True, dropna=False)[value].mean().reset_index()
    rows = []
    for key, g in d.groupby(by, sort=True, dropna=False):
        v = g[value].to_numpy(dtype=float)
        n = v.size
        mean = float(v.mean()) if n else np.nan
        sd = float(v.std(ddof=1)) if n > 1 else np.nan
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "n": n, "mean": mean, "sd": sd,
                     "sem": sd / np.sqrt(n) if n > 1 else np.nan,
                     "min": float(v.min()) if n else np.nan,
                     "max": float(v.max()) if n else np.nan})
    return pd.DataFrame(rows, columns=by + ["n", "mean", "sd", "sem", "min", "max"])
