"""Figures for the statistics (matplotlib, object API: thread-safe, no pyplot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .contingency import FisherResult
from .correlation import CorrelationResult
from .doseresponse import DoseResponseFit

__all__ = ["correlation_plot", "dose_response_plot", "contingency_plot"]


def correlation_plot(result: CorrelationResult, *, title: str | None = None) -> Figure:
    """Scatter of biomarker level vs IC50 with labels, fit line and r/rho.

    Parameters
    ----------
    result : CorrelationResult
        From :func:`~blotquant.stats.correlate` or
        :func:`~blotquant.stats.biomarker_vs_sensitivity`; y is drawn on a
        log axis when ``result.log_y``.
    title : str, optional
        Axes title (default ``"<x_name> vs <y_name>"``).

    Returns
    -------
    matplotlib.figure.Figure
        One axes: the pairs, the least-squares line and a box with Pearson r
        and Spearman rho (exact p when available).

    Examples
    --------
    >>> from blotquant.stats import correlate
    >>> fig = correlation_plot(correlate([1, 2, 3, 4], [8, 4, 2, 1], log_y=True))
    >>> fig.axes[0].get_yscale()
    'log'
    """
    fig = Figure(figsize=(5.2, 4.2), layout="constrained")
    ax = fig.add_subplot()
    d = result.data
    ax.scatter(d["x"], d["y"], s=36, color="#1f77b4", edgecolor="k", linewidth=0.5,
               zorder=3)
    for _, r in d.iterrows():
        ax.annotate(str(r["label"]), (r["x"], r["y"]), xytext=(4, 3),
                    textcoords="offset points", fontsize=7)
    yt = np.log10(d["y"]) if result.log_y else d["y"]
    slope, icpt = np.polyfit(d["x"], yt, 1)
    xs = np.linspace(d["x"].min(), d["x"].max(), 50)
    ys = slope * xs + icpt
    ax.plot(xs, 10 ** ys if result.log_y else ys, color="0.4", lw=1, zorder=2)
    if result.log_y:
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        fmt = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(fmt)
        ax.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    ax.set_xlabel(result.x_name)
    ax.set_ylabel(result.y_name + (" (log scale)" if result.log_y else ""))
    ax.set_title(title or f"{result.x_name} vs {result.y_name}", fontsize=10)
    txt = (f"Pearson r = {result.pearson_r:.3f} (p = {result.pearson_p:.3g})"
           f"{' on log' if result.log_y else ''}\n"
           f"Spearman ρ = {result.spearman_rho:.3f} (p = "
           f"{result.spearman_p if result.spearman_p_exact != result.spearman_p_exact else result.spearman_p_exact:.3g}"
           f"{'' if result.spearman_p_exact != result.spearman_p_exact else ', exact'}), "
           f"n = {result.n}")
    # the empty corner: top left for a positive trend, top right for a negative one
    left = result.pearson_r >= 0
    ax.text(0.02 if left else 0.98, 0.98, txt, transform=ax.transAxes, fontsize=8,
            va="top", ha="left" if left else "right",
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
    return fig


def dose_response_plot(viability: pd.DataFrame, fits: dict[str, DoseResponseFit], *,
                       title: str = "MTT dose-response") -> Figure:
    """% viability (mean ± SD per dose, replicate points) with the 4PL fits.

    Untreated wells are drawn at the left edge (dose 0 has no log position).

    Parameters
    ----------
    viability : DataFrame
        :func:`~blotquant.stats.viability` table (``cell_line``, ``dose``,
        ``viability``).
    fits : dict of str to DoseResponseFit
        Fits by cell line (the third item of
        :func:`~blotquant.stats.fit_plate`); lines without a fit get points only.
    title : str
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
        Log-dose axes; empty when no well is treated.
    """
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.add_subplot()
    treated = viability[viability["dose"] > 0]
    if treated.empty:
        return fig
    dmin, dmax = treated["dose"].min(), treated["dose"].max()
    x0 = dmin / 10 ** 0.75
    colours = [f"C{i}" for i in range(10)]
    for i, (line, g) in enumerate(viability.groupby("cell_line", sort=True)):
        c = colours[i % 10]
        xs = g["dose"].where(g["dose"] > 0, x0)
        ax.scatter(xs, g["viability"], s=8, color=c, alpha=0.35, lw=0)
        m = g.groupby("dose")["viability"].agg(["mean", "std"]).reset_index()
        mx = m["dose"].where(m["dose"] > 0, x0)
        ax.errorbar(mx, m["mean"], yerr=m["std"], fmt="o", ms=4, color=c, capsize=2,
                    lw=1)
        fit = fits.get(str(line))
        label = str(line)
        if fit is not None:
            dd = np.logspace(np.log10(dmin) - 0.3, np.log10(dmax) + 0.3, 200)
            ax.plot(dd, fit.predict(dd), color=c, lw=1.5)
            ax.axvline(fit.ic50, color=c, ls=":", lw=1)
            label += f": IC50 {fit.ic50:.3g} [{fit.ic50_ci_low:.3g}, {fit.ic50_ci_high:.3g}]"
        ax.plot([], [], color=c, marker="o", label=label)
    ax.set_xscale("log")
    ax.axhline(50, color="0.7", lw=0.8, ls="--")
    ax.axvline(x0 * 10 ** 0.375, color="0.85", lw=0.8)
    ax.set_xlabel("dose (untreated at the left edge)")
    ax.set_ylabel("% viability (vs untreated)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def contingency_plot(result: FisherResult) -> Figure:
    """Score per patient by clinical group, with the cut-off and the 2x2 counts.

    Parameters
    ----------
    result : FisherResult
        From :func:`~blotquant.stats.cohort_vs_clinical` (its ``data`` holds
        one row per patient).

    Returns
    -------
    matplotlib.figure.Figure
        One strip of points per group, the cut-off line and the odds ratio,
        p-value and table in the title.
    """
    fig = Figure(figsize=(5.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    d = result.data
    score_col = [c for c in d.columns if c not in ("patient", "marker")][0]
    group_col = [c for c in d.columns if c not in ("patient", "marker", score_col)][0]
    groups = sorted(d[group_col].unique())
    rng = np.random.default_rng(0)
    for i, g in enumerate(groups):
        v = d.loc[d[group_col] == g, score_col]
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(v)), v, s=18, color=f"C{i}",
                   edgecolor="k", lw=0.4)
    ax.axhline(result.cutoff, color="crimson", ls="--", lw=1)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(score_col)
    t = result.table.to_numpy()
    ax.set_title(f"high/low by {score_col} ≥ {result.cutoff:g}: "
                 f"OR = {result.odds_ratio:.3g}, p = {result.p_value:.3g}\n"
                 f"[[{t[0, 0]}, {t[0, 1]}], [{t[1, 0]}, {t[1, 1]}]]", fontsize=9)
    return fig
