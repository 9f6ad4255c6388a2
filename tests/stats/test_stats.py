"""Biomarker statistics against hand computations (1e-9) and known truths."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from blotquant.errors import AnalysisError, ParameterError
from blotquant.stats import (biomarker_vs_sensitivity, cohort_vs_clinical, correlate,
                             fisher_2x2, fit_4pl, fit_plate, fourpl, patient_scores,
                             simulate_mtt_plate, summarize_replicates, viability)

TOL = 1e-9


def _pearson_by_hand(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    r = sxy / math.sqrt(sxx * syy)
    t = r * math.sqrt((n - 2) / (1 - r * r))
    p = 2 * sps.t.sf(abs(t), n - 2)  # two-sided t test of r = 0
    return r, p


def _ranks(v):
    """Average ranks (ties share the mean rank), by hand."""
    order = sorted(range(len(v)), key=lambda i: v[i])
    ranks = [0.0] * len(v)
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pearson_spearman_match_hand_computation(seed):
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 0.6, 15)
    y = 2.0 * x ** 1.3 * rng.lognormal(0, 0.4, 15)
    x[3] = x[7]  # a tie
    res = correlate(x, y)
    r, p = _pearson_by_hand(list(x), list(y))
    assert abs(res.pearson_r - r) < TOL and abs(res.pearson_p - p) < TOL
    rho, prho = _pearson_by_hand(_ranks(list(x)), _ranks(list(y)))
    assert abs(res.spearman_rho - rho) < TOL and abs(res.spearman_p - prho) < TOL
    # log IC50: Pearson on log10(y); Spearman unchanged (rank based)
    lres = correlate(x, y, log_y=True)
    r, p = _pearson_by_hand(list(x), [math.log10(v) for v in y])
    assert abs(lres.pearson_r - r) < TOL and abs(lres.pearson_p - p) < TOL
    assert abs(lres.spearman_rho - rho) < TOL
    # Fisher-z CI brackets r
    assert lres.pearson_ci[0] < lres.pearson_r < lres.pearson_ci[1]


def test_correlate_drops_incomplete_pairs_and_validates():
    res = correlate([1, 2, np.nan, 4, 5], [2, 4, 6, np.inf, 11], labels=list("abcde"))
    assert res.n == 3 and list(res.data["label"]) == ["a", "b", "e"]
    res = correlate([1, 2, 3, 4], [1, -1, 3, 5], log_y=True)  # y <= 0 dropped for log
    assert res.n == 3
    with pytest.raises(ParameterError, match="at least 3"):
        correlate([1, 2], [3, 4])
    with pytest.raises(ParameterError, match="constant"):
        correlate([1, 1, 1], [1, 2, 3])
    with pytest.raises(ParameterError, match="same length"):
        correlate([1, 2, 3], [1, 2])


def test_biomarker_vs_sensitivity_averages_replicates_and_matches_names():
    levels = pd.DataFrame({"lane_label": ["A", "A", "B", "B", "C", "D", "X"],
                           "relative_ratio": [1.0, 3.0, 0.5, 0.7, 0.2, 0.1, 9.0]})
    ic50 = pd.DataFrame({"cell_line": ["A", "B", "C", "D", "Y"],
                         "ic50": [10.0, 5.0, 1.0, 0.5, 3.0]})
    res = biomarker_vs_sensitivity(levels, ic50, key="lane_label", ic50_key="cell_line")
    assert res.n == 4 and list(res.data["label"]) == ["A", "B", "C", "D"]
    np.testing.assert_allclose(res.data["x"], [2.0, 0.6, 0.2, 0.1], rtol=0, atol=TOL)
    r, _ = _pearson_by_hand([2.0, 0.6, 0.2, 0.1], [1.0, math.log10(5), 0.0, math.log10(0.5)])
    assert abs(res.pearson_r - r) < TOL
    with pytest.raises(ParameterError, match="no column"):
        biomarker_vs_sensitivity(levels, ic50, key="sample")


def _fisher_by_hand(t):
    (a, b), (c, d) = t
    r1, c1, n = a + b, a + c, a + b + c + d

    def prob(x):
        return math.comb(c1, x) * math.comb(n - c1, r1 - x) / math.comb(n, r1)

    p_obs = prob(a)
    lo, hi = max(0, r1 + c1 - n), min(r1, c1)
    p = sum(prob(x) for x in range(lo, hi + 1) if prob(x) <= p_obs * (1 + 1e-7))
    oratio = (a * d) / (b * c) if b * c else math.inf
    return oratio, min(p, 1.0)


@pytest.mark.parametrize("table", [[[8, 2], [1, 5]], [[3, 7], [9, 4]], [[12, 5], [6, 14]],
                                   [[0, 5], [6, 3]]])
def test_fisher_matches_hypergeometric_by_hand(table):
    oratio, p = fisher_2x2(table)
    o2, p2 = _fisher_by_hand(table)
    assert abs(p - p2) < TOL
    assert (oratio == o2 == math.inf) or abs(oratio - o2) < TOL


def test_cohort_vs_clinical_table_direction_and_cutoff():
    rng = np.random.default_rng(4)
    patients = [f"P{i:02d}" for i in range(30)]
    kras = ["mutant" if i < 14 else "wild-type" for i in range(30)]
    h = [float(rng.uniform(120, 280) if k == "mutant" and i % 4 else rng.uniform(0, 150))
         for i, k in enumerate(kras)]
    # two cores for P00: pooled by cell count n
    scores = pd.DataFrame({"sample": patients + ["P00"], "h_score": h + [10.0],
                           "n": [100] * 30 + [300]})
    clinical = pd.DataFrame({"patient": patients, "kras_status": kras})
    res = cohort_vs_clinical(scores, clinical, cutoff=100)
    pooled = patient_scores(scores)
    assert abs(pooled["P00"] - (100 * h[0] + 300 * 10.0) / 400) < TOL
    hi = pooled >= 100
    mut = pd.Series(kras, index=patients) == "mutant"
    expect = [[int((hi & mut).sum()), int((hi & ~mut).sum())],
              [int((~hi & mut).sum()), int((~hi & ~mut).sum())]]
    assert res.table.to_numpy().tolist() == expect
    assert list(res.table.columns) == ["mutant", "wild-type"]
    o, p = _fisher_by_hand(expect)
    assert abs(res.p_value - p) < TOL and abs(res.odds_ratio - o) < TOL
    assert res.ci_low < res.cmle_odds_ratio < res.ci_high
    # exclusive cut-off moves a patient sitting exactly on it
    scores2 = pd.DataFrame({"sample": patients, "h_score": [100.0] + h[1:]})
    a = cohort_vs_clinical(scores2, clinical, cutoff=100).table.loc["high"].sum()
    b = cohort_vs_clinical(scores2, clinical, cutoff=100, inclusive=False).table.loc[
        "high"].sum()
    assert a == b + 1
    with pytest.raises(ParameterError, match="say which is positive"):
        cohort_vs_clinical(scores, clinical.assign(kras_status=["a", "b", "c"] * 10),
                           cutoff=100)


def test_summarize_replicates_by_hand():
    df = pd.DataFrame({"condition": ["c", "c", "c", "d", "d", "d", "d"],
                       "replicate": [1, 1, 2, 1, 2, 3, 3],
                       "v": [1.0, 3.0, 4.0, 0.5, 0.25, 1.0, 2.0]})
    s = summarize_replicates(df, "v", "condition").set_index("condition")
    for cond in ("c", "d"):
        vals = df.loc[df["condition"] == cond, "v"].tolist()
        assert abs(s.loc[cond, "mean"] - statistics.mean(vals)) < TOL
        assert abs(s.loc[cond, "sd"] - statistics.stdev(vals)) < TOL
        assert abs(s.loc[cond, "sem"] - statistics.stdev(vals) / math.sqrt(len(vals))) < TOL
    r = summarize_replicates(df, "v", "condition", replicate="replicate").set_index(
        "condition")
    assert r.loc["c", "n"] == 2 and abs(r.loc["c", "mean"] - 3.0) < TOL  # (2 + 4) / 2
    assert abs(r.loc["d", "sd"] - statistics.stdev([0.5, 0.25, 1.5])) < TOL


def test_viability_blank_subtraction_by_hand():
    plate = pd.DataFrame({
        "cell_line": ["blank", "blank", "A", "A", "A", "A", "B", "B", "B", "B"],
        "dose": [0, 0, 0, 0, 1, 10, 0, 0, 1, 10],
        "absorbance": [0.05, 0.07, 1.0, 1.2, 0.6, 0.2, 0.5, 0.7, 0.55, 0.4]})
    v = viability(plate)
    blank = 0.06
    a_unt = ((1.0 - blank) + (1.2 - blank)) / 2
    got = v[(v["cell_line"] == "A") & (v["dose"] == 1)]["viability"].iloc[0]
    assert abs(got - 100 * (0.6 - blank) / a_unt) < TOL
    b_unt = ((0.5 - blank) + (0.7 - blank)) / 2
    got = v[(v["cell_line"] == "B") & (v["dose"] == 10)]["viability"].iloc[0]
    assert abs(got - 100 * (0.4 - blank) / b_unt) < TOL
    with pytest.raises(ParameterError, match="no blank"):
        viability(plate[plate["cell_line"] != "blank"])
    with pytest.raises(ParameterError, match="no untreated"):
        viability(plate[~((plate["cell_line"] == "B") & (plate["dose"] == 0))])


def test_4pl_exact_on_noise_free_data():
    d = np.logspace(-3, 2, 11)
    for b, t, ic, h in [(5, 100, 0.3, 1.0), (0, 95, 12.0, 2.5), (20, 110, 0.01, 0.7)]:
        f = fit_4pl(np.repeat(d, 2), np.repeat(fourpl(d, b, t, ic, h), 2))
        assert abs(f.ic50 / ic - 1) < 1e-6 and abs(f.hill - h) < 1e-5
        assert abs(f.bottom - b) < 1e-4 and abs(f.top - t) < 1e-4
        if b < 50 < t:
            assert abs(fourpl(f.abs_ic50, b, t, ic, h) - 50) < 1e-6


@pytest.mark.parametrize("seed", range(5))
def test_4pl_recovers_known_ic50_within_5_percent(seed):
    """Realistic MTT noise: 3 % CV on the signal + 0.01 OD read noise, 13 doses
    (4 decades), quadruplicates, 6 untreated + 6 blank wells."""
    rng = np.random.default_rng(1000 + seed)
    lines = {f"L{i}": float(10 ** rng.uniform(-1, 1)) for i in range(3)}
    hills = {k: float(rng.uniform(0.8, 2.0)) for k in lines}
    plate = simulate_mtt_plate(lines, doses=np.logspace(-2, 2, 13), replicates=4, cv=0.03,
                               sd=0.01, hill=hills, seed=seed)
    _, table, fits = fit_plate(plate)
    for line, ic50 in lines.items():
        f = fits[line]
        assert abs(f.ic50 / ic50 - 1) < 0.05, (line, f.ic50, ic50)
        assert f.ic50_ci_low < f.ic50 < f.ic50_ci_high
    assert table["converged"].all()


def test_4pl_confidence_interval_coverage():
    """The 95 % CI (covariance on log IC50, t quantile) covers the truth ~95 % of the time."""
    hits = n = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        ic50 = float(10 ** rng.uniform(-1, 1))
        plate = simulate_mtt_plate({"A": ic50}, doses=np.logspace(-2, 2, 9), replicates=3,
                                   cv=0.05, seed=seed)
        f = fit_plate(plate)[2]["A"]
        hits += f.ic50_ci_low <= ic50 <= f.ic50_ci_high
        n += 1
    assert hits / n >= 0.88


def test_4pl_fixed_top_and_failures():
    d = np.logspace(-2, 2, 8)
    y = fourpl(d, 10, 100, 1.0, 1.0)
    f = fit_4pl(d, y, fix_top=100)
    assert f.top == 100 and abs(f.ic50 - 1.0) < 1e-6 and f.dof == len(d) - 3
    with pytest.raises(AnalysisError, match="4 distinct"):
        fit_4pl([1, 2, 3], [90, 50, 10])
    flat = fit_4pl(d, np.full(d.size, 100.0) + np.linspace(0, 1e-3, d.size))
    assert flat.flags  # unidentifiable: some parameter at a bound / IC50 off-range


def test_exact_spearman_p_by_enumeration():
    from itertools import permutations

    from blotquant.stats import spearman_exact_p

    x = [0.3, 1.2, 0.8, 2.5, 1.9]
    y = [1.0, 2.0, 4.0, 3.0, 8.0]
    rx, ry = _ranks(x), _ranks(y)

    def rho(a, b):
        ma, mb = sum(a) / len(a), sum(b) / len(b)
        num = sum((u - ma) * (v - mb) for u, v in zip(a, b))
        return num / math.sqrt(sum((u - ma) ** 2 for u in a) * sum((v - mb) ** 2 for v in b))

    obs = abs(rho(rx, ry))
    count = sum(abs(rho(rx, [ry[i] for i in p])) >= obs - 1e-12
                for p in permutations(range(5)))
    assert abs(spearman_exact_p(x, y) - count / 120) < TOL
    res = correlate(x, y)
    assert abs(res.spearman_p_exact - count / 120) < TOL
    assert np.isnan(correlate(np.arange(12.0), np.arange(12.0) ** 2).spearman_p_exact)
