"""IHC cohort vs clinical table: ASNS-high/low, 2x2 table and Fisher's exact test."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as sps

from numpy.typing import ArrayLike

from ..errors import ParameterError

__all__ = ["FisherResult", "dichotomize", "fisher_2x2", "cohort_vs_clinical",
           "patient_scores"]


@dataclass
class FisherResult:
    """A 2x2 contingency table and Fisher's exact test.

    The table's rows are the biomarker (``high``, ``low``), its columns the
    clinical group (``positive`` value, all others), so ``odds_ratio`` > 1
    means ASNS-high is enriched in the positive group.

    Attributes
    ----------
    table : DataFrame
        2x2 counts (index: marker high/low; columns: group positive/negative).
    odds_ratio : float
        Sample odds ratio ``(a d) / (b c)`` (scipy.stats.fisher_exact; inf or 0
        with an empty cell).
    p_value : float
        Two-sided (or ``alternative``) Fisher exact p-value.
    cmle_odds_ratio, ci_low, ci_high : float
        Conditional maximum-likelihood odds ratio and its exact 95% CI
        (scipy.stats.contingency.odds_ratio).
    cutoff : float
    data : DataFrame
        Per-patient scores, class and group used.
    """

    table: pd.DataFrame
    odds_ratio: float
    p_value: float
    cmle_odds_ratio: float = np.nan
    ci_low: float = np.nan
    ci_high: float = np.nan
    cutoff: float = np.nan
    alternative: str = "two-sided"
    data: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def as_dict(self) -> dict:
        """Flat dict (one row of the Fisher table).

        Returns
        -------
        dict
            ``cutoff``, ``n``, the four counts ``high_pos``, ``high_neg``,
            ``low_pos``, ``low_neg``, ``odds_ratio``, ``p_value``,
            ``cmle_odds_ratio``, ``ci_low``, ``ci_high`` and ``alternative``.
        """
        t = self.table.to_numpy()
        return {"cutoff": self.cutoff, "n": int(t.sum()),
                "high_pos": int(t[0, 0]), "high_neg": int(t[0, 1]),
                "low_pos": int(t[1, 0]), "low_neg": int(t[1, 1]),
                "odds_ratio": self.odds_ratio, "p_value": self.p_value,
                "cmle_odds_ratio": self.cmle_odds_ratio, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "alternative": self.alternative}


def dichotomize(scores: ArrayLike, cutoff: float, *, inclusive: bool = True) -> np.ndarray:
    """``"high"`` where score >= cutoff (> with ``inclusive=False``), else ``"low"``.

    Non-finite scores give ``""`` (excluded from the table).

    Parameters
    ----------
    scores : array-like
        Scores (e.g. H-scores), converted to float.
    cutoff : float
        The cut-off.
    inclusive : bool
        A score equal to ``cutoff`` is ``"high"`` (default) or ``"low"``.

    Returns
    -------
    ndarray of object
        ``"high"``, ``"low"`` or ``""`` per score, same shape as ``scores``.

    Examples
    --------
    >>> dichotomize([10, 100, 150, np.nan], 100).tolist()
    ['low', 'high', 'high', '']
    """
    s = np.asarray(scores, dtype=float)
    hi = s >= cutoff if inclusive else s > cutoff
    out = np.where(hi, "high", "low").astype(object)
    out[~np.isfinite(s)] = ""
    return out


def fisher_2x2(table: ArrayLike, *, alternative: str = "two-sided") -> tuple[float, float]:
    """Sample odds ratio and Fisher exact p-value of a 2x2 table.

    Parameters
    ----------
    table : array-like, shape (2, 2)
        Non-negative counts.
    alternative : {"two-sided", "less", "greater"}
        Alternative hypothesis, passed to :func:`scipy.stats.fisher_exact`.

    Returns
    -------
    odds_ratio : float
        Sample odds ratio ``(a d) / (b c)`` (inf or 0 with an empty cell).
    p_value : float
        Fisher exact p-value.

    Raises
    ------
    ParameterError
        If ``table`` is not 2x2 or holds a negative count.

    Examples
    --------
    >>> oratio, p = fisher_2x2([[8, 2], [1, 5]])
    >>> round(oratio, 6), round(p, 6)
    (20.0, 0.034965)
    """
    t = np.asarray(table)
    if t.shape != (2, 2) or (t < 0).any():
        raise ParameterError("a 2x2 table of non-negative counts is needed")
    res = sps.fisher_exact(t.astype(np.int64), alternative=alternative)
    return float(res.statistic), float(res.pvalue)


def patient_scores(scores: pd.DataFrame, *, key: str = "sample", score_col: str = "h_score",
                   region: str | None = None) -> pd.Series:
    """One score per patient from an IHC regions table.

    Several rows of a patient (cores, images, regions) are pooled weighted by
    their cell/pixel count ``n`` when that column exists -- for an H-score this
    is exactly the H-score of all pooled cells -- else averaged.

    Parameters
    ----------
    scores : DataFrame
        IHC table with columns ``key`` and ``score_col`` (and optionally
        ``n`` and ``region``).
    key : str
        Column naming the patient.
    score_col : str
        Column holding the score.
    region : str, optional
        Keep only rows whose ``region`` column equals this name.

    Returns
    -------
    Series
        One score per patient (index: ``key`` as str, sorted), named
        ``score_col``. Rows with a non-finite score are dropped.

    Raises
    ------
    ParameterError
        If a column is missing or no row has ``region``.
    """
    miss = [c for c in (key, score_col) if c not in scores.columns]
    if miss:
        raise ParameterError(f"the IHC table has no column(s) {', '.join(miss)}")
    d = scores
    if region is not None:
        if "region" not in d.columns:
            raise ParameterError("the IHC table has no 'region' column")
        d = d[d["region"].astype(str) == str(region)]
        if d.empty:
            raise ParameterError(f"no rows with region {region!r}")
    d = d.copy()
    d[key] = d[key].astype(str)
    d[score_col] = pd.to_numeric(d[score_col], errors="coerce")
    d = d[np.isfinite(d[score_col])]
    if "n" in d.columns:
        w = pd.to_numeric(d["n"], errors="coerce").fillna(0).clip(lower=0)
        d = d.assign(_w=w, _ws=w * d[score_col])
        g = d.groupby(key, sort=True)
        tot = g["_w"].sum()
        mean = g[score_col].mean()
        pooled = g["_ws"].sum() / tot.where(tot > 0)
        return pooled.fillna(mean).rename(score_col)
    return d.groupby(key, sort=True)[score_col].mean()


def cohort_vs_clinical(scores: pd.DataFrame, clinical: pd.DataFrame, *, cutoff: float,
                       group_col: str = "kras_status", positive: str | None = None,
                       score_col: str = "h_score", key: str = "sample",
                       clinical_key: str = "patient", region: str | None = None,
                       inclusive: bool = True, alternative: str = "two-sided"
                       ) -> FisherResult:
    """ASNS-high/low (score >= cutoff) vs a clinical group: 2x2 table + Fisher test.

    Parameters
    ----------
    scores : DataFrame
        IHC scores (e.g. the batch's ``ihc_regions`` table): ``key`` and
        ``score_col``; pooled per patient by :func:`patient_scores`.
    clinical : DataFrame
        ``clinical_key`` and ``group_col`` (e.g. KRAS status).
    cutoff : float
        H-score cut-off (high = score >= cutoff, or > with ``inclusive=False``).
    positive : str, optional
        The group value counted as "positive" (e.g. ``"mutant"``); default:
        the group column must have exactly two values and the one sorting
        last is taken unless one of them is recognisably positive
        (``mut``/``mutant``/``pos``/``positive``/``yes``/``1``/``true``).
    group_col : str
        Clinical group column.
    score_col : str
        Score column of ``scores``.
    key, clinical_key : str
        Patient columns of ``scores`` and ``clinical``, matched as strings.
    region : str, optional
        Only score rows of this region (see :func:`patient_scores`).
    inclusive : bool
        See :func:`dichotomize`.
    alternative : {"two-sided", "less", "greater"}
        Alternative hypothesis of the Fisher test.

    Returns
    -------
    FisherResult
        The 2x2 table (rows ``high``/``low``, columns positive/other group),
        odds ratios, p-value, 95% CI and the per-patient data.

    Raises
    ------
    ParameterError
        If a column is missing, fewer than two patients match, or the
        positive group cannot be determined.

    Examples
    --------
    >>> sc = pd.DataFrame({"sample": list("abcdefgh"),
    ...                    "h_score": [250, 220, 180, 90, 40, 200, 60, 30]})
    >>> cl = pd.DataFrame({"patient": list("abcdefgh"),
    ...                    "kras_status": ["mutant"] * 4 + ["wild-type"] * 4})
    >>> r = cohort_vs_clinical(sc, cl, cutoff=150)
    >>> r.table.to_numpy().tolist(), round(r.p_value, 4)
    ([[3, 1], [1, 3]], 0.4857)
    """
    if group_col not in clinical.columns or clinical_key not in clinical.columns:
        raise ParameterError(f"the clinical table needs columns {clinical_key!r} and "
                             f"{group_col!r} (columns: {', '.join(map(str, clinical.columns))})")
    ps = patient_scores(scores, key=key, score_col=score_col, region=region)
    cl = clinical[[clinical_key, group_col]].dropna().copy()
    cl[clinical_key] = cl[clinical_key].astype(str)
    cl[group_col] = cl[group_col].astype(str).str.strip()
    cl = cl.drop_duplicates(clinical_key).set_index(clinical_key)[group_col]
    common = sorted(set(ps.index) & set(cl.index))
    if len(common) < 2:
        raise ParameterError(f"only {len(common)} patient(s) are in both tables (matched "
                             f"{key!r} with {clinical_key!r}); check the names")
    values = sorted(set(cl[common]))
    if positive is None:
        pos_words = ("mut", "mutant", "mutated", "pos", "positive", "yes", "1", "true", "+")
        cand = [v for v in values if v.lower() in pos_words]
        if len(values) != 2:
            raise ParameterError(f"{group_col!r} has {len(values)} values "
                                 f"({', '.join(values)}); say which is positive")
        positive = cand[0] if len(cand) == 1 else values[-1]
    elif positive not in values:
        raise ParameterError(f"{positive!r} is not a value of {group_col!r} "
                             f"({', '.join(values)})")
    data = pd.DataFrame({"patient": common, score_col: ps[common].to_numpy(),
                         group_col: cl[common].to_numpy()})
    data["marker"] = dichotomize(data[score_col], cutoff, inclusive=inclusive)
    data = data[data["marker"] != ""]
    grp_pos = data[group_col] == positive
    hi = data["marker"] == "high"
    t = np.array([[np.sum(hi & grp_pos), np.sum(hi & ~grp_pos)],
                  [np.sum(~hi & grp_pos), np.sum(~hi & ~grp_pos)]], dtype=np.int64)
    oratio, p = fisher_2x2(t, alternative=alternative)
    try:
        from scipy.stats.contingency import odds_ratio

        cm = odds_ratio(t, kind="conditional")
        ci = cm.confidence_interval(confidence_level=0.95)
        cmle, lo, hi_ = float(cm.statistic), float(ci.low), float(ci.high)
    except Exception:  # pragma: no cover - older scipy
        cmle = lo = hi_ = np.nan
    neg_label = "other" if len(values) != 2 else [v for v in values if v != positive][0]
    table = pd.DataFrame(t, index=pd.Index(["high", "low"], name="marker"),
                         columns=pd.Index([positive, neg_label], name=group_col))
    return FisherResult(table=table, odds_ratio=oratio, p_value=p, cmle_odds_ratio=cmle,
                        ci_low=lo, ci_high=hi_, cutoff=float(cutoff),
                        alternative=alternative, data=data.reset_index(drop=True))
