"""Figures for the statistics (matplotlib, object API: thread-safe, no pyplot).

Axis labels are what a person reads, with units: code names of table columns
(``relative_ratio``, ``h_score``, ``ic50``) are translated by
:func:`axis_label`; the dose unit is given by the caller (the plate file has
none) or read from a ``dose_unit`` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..report import colors as C

__all__ = ["correlation_plot", "dose_response_plot", "contingency_plot", "axis_label",
           "AXIS_LABELS"]

#: Column name -> axis label.
AXIS_LABELS = {
    "relative_ratio": "target / control, relative to the reference lane",
    "ratio": "target / control (volume ratio)",
    "volume": "band volume (raw units x px, background subtracted)",
    "h_score": "H-score (0-300)",
    "pct_positive": "positive (% of scored cells or pixels)",
    "allred": "Allred score (0-8)",
    "irs": "IRS (0-12)",
    "mean_dab_od": "mean DAB OD",
    "ic50": "IC50",
    "viability": "viability (% of untreated)",
}


def axis_label(name: str, unit: str | None = None) -> str:
    """The label a person reads for a column name, with its unit when given.

    Parameters
    ----------
    name : str
        Column name (unknown names are returned with underscores as spaces).
    unit : str, optional
        Unit appended in parentheses (e.g. ``"uM"`` for an IC50).

    Returns
    -------
    str

    Examples
    --------
    >>> axis_label("h_score")
    'H-score (0-300)'
    >>> axis_label("ic50", "U/mL")
    'IC50 (U/mL)'
    >>> axis_label("my_marker")
    'my marker'
    """
    lab = AXIS_LABELS.get(str(name), str(name).replace("_", " "))
    return f"{lab} ({unit})" if unit else lab


def _plain_log_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))


def correlation_plot(result, *, title: str | None = None, x_label: str | None = None,
                     y_label: str | None = None, y_unit: str | None = None) -> Figure:
    """Scatter of biomarker level vs IC50 with labels, fit line and r/rho.

    Parameters
    ----------
    result : CorrelationResult
        From :func:`blotquant.stats.correlate` / ``biomarker_vs_sensitivity``.
    title : str, optional
        Axes title (default: "<x label> vs <y label>").
    x_label, y_label : str, optional
        Axis labels (default: :func:`axis_label` of the result's column names).
    y_unit : str, optional
        Unit of y (e.g. the IC50's dose unit), added to the default y label.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from blotquant.stats import correlate
    >>> fig = correlation_plot(correlate([1, 2, 3, 4], [8, 4, 2, 1], log_y=True,
    ...                                  x_name="relative_ratio", y_name="ic50"),
    ...                        y_unit="uM")
    >>> fig.axes[0].get_yscale(), fig.axes[0].get_ylabel()
    ('log', 'IC50 (uM), log scale')
    """
    fig = Figure(figsize=(5.6, 4.4), layout="constrained")
    ax = fig.add_subplot()
    d = result.data
    colours = np.full(len(d), "#0072B2", dtype=object)
    is_ref = np.zeros(len(d), bool)
    if result.x_name == "relative_ratio":
        # the reference lane's relative ratio is 1 by definition: mark it
        is_ref = np.isclose(d["x"].to_numpy(dtype=float), 1.0, rtol=0, atol=1e-12)
        colours[is_ref] = C.REFERENCE
    ax.scatter(d["x"], d["y"], s=36, c=list(colours), edgecolor="k", linewidth=0.5,
               zorder=3)
    if is_ref.any():
        ax.scatter([], [], s=36, c=C.REFERENCE, edgecolor="k", linewidth=0.5,
                   label="reference lane (1 by definition)")
        ax.legend(fontsize=8, loc="lower right")
    for _, r in d.iterrows():
        ax.annotate(str(r["label"]), (r["x"], r["y"]), xytext=(4, 3),
                    textcoords="offset points", fontsize=8)
    yt = np.log10(d["y"]) if result.log_y else d["y"]
    slope, icpt = np.polyfit(d["x"], yt, 1)
    xs = np.linspace(d["x"].min(), d["x"].max(), 50)
    ys = slope * xs + icpt
    ax.plot(xs, 10 ** ys if result.log_y else ys, color="0.4", lw=1, zorder=2)
    if result.log_y:
        ax.set_yscale("log")
        _plain_log_axis(ax.yaxis)
    xl = x_label or axis_label(result.x_name)
    yl = y_label or axis_label(result.y_name, y_unit)
    ax.set_xlabel(xl, fontsize=10)
    ax.set_ylabel(yl + (", log scale" if result.log_y and not y_label else ""), fontsize=10)
    ax.tick_params(labelsize=9)
    ax.set_title(title or f"{xl} vs {yl}", fontsize=10)
    exact = result.spearman_p_exact == result.spearman_p_exact
    txt = (f"Pearson r = {result.pearson_r:.3f} (p = {result.pearson_p:.3g})"
           f"{' on log' if result.log_y else ''}\n"
           f"Spearman ρ = {result.spearman_rho:.3f} (p = "
           f"{result.spearman_p_exact if exact else result.spearman_p:.3g}"
           f"{', exact' if exact else ''}), n = {result.n}")
    # the empty corner: top left for a positive trend, top right for a negative one
    left = result.pearson_r >= 0
    ax.text(0.02 if left else 0.98, 0.98, txt, transform=ax.transAxes, fontsize=8,
            va="top", ha="left" if left else "right",
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9))
    return fig


def dose_response_plot(viability: pd.DataFrame, fits: dict, *,
                       title: str = "MTT dose-response",
                       dose_unit: str | None = None) -> Figure:
    """% viability (mean ± SD per dose, replicate points) with the 4PL fits.

    Untreated wells are drawn at the left edge (dose 0 has no log position).
    Error bars are clipped at 0 % (a viability is never negative).

    Parameters
    ----------
    viability : DataFrame
        ``cell_line``, ``dose``, ``viability`` (the first table of
        :func:`blotquant.stats.fit_plate`).
    fits : dict
        cell line -> fit (``predict``, ``ic50``, ``ic50_ci_low/high``).
    title : str
        Axes title.
    dose_unit : str, optional
        Unit of the doses (e.g. ``"uM"``, ``"U/mL"``); default: the
        ``dose_unit`` column when present, else the axis says the unit is
        the plate file's.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from blotquant.stats import fit_plate, simulate_mtt_plate
    >>> v, _, fits = fit_plate(simulate_mtt_plate({"A": 1.0}, seed=1))
    >>> dose_response_plot(v, fits, dose_unit="uM").axes[0].get_xlabel()
    'dose (uM, log scale)'
    """
    if dose_unit is None and "dose_unit" in viability.columns:
        units = viability["dose_unit"].dropna().astype(str).unique()
        dose_unit = units[0] if len(units) == 1 else None
    unit = dose_unit or "units of the plate file"
    fig = Figure(figsize=(6.6, 4.6), layout="constrained")
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
        sd = np.nan_to_num(m["std"].to_numpy(dtype=float))
        mean = m["mean"].to_numpy(dtype=float)
        lower = np.minimum(sd, np.maximum(mean, 0))
        ax.errorbar(mx, mean, yerr=np.vstack([lower, sd]), fmt="o", ms=4, color=c,
                    capsize=2, lw=1)
        fit = fits.get(str(line))
        label = str(line)
        if fit is not None:
            dd = np.logspace(np.log10(dmin) - 0.3, np.log10(dmax) + 0.3, 200)
            ax.plot(dd, fit.predict(dd), color=c, lw=1.5)
            ax.axvline(fit.ic50, color=c, ls=":", lw=1)
            label += (f": IC50 {fit.ic50:.3g} [{fit.ic50_ci_low:.3g}, "
                      f"{fit.ic50_ci_high:.3g}]" + (f" {dose_unit}" if dose_unit else ""))
        ax.plot([], [], color=c, marker="o", label=label)
    ax.set_xscale("log")
    _plain_log_axis(ax.xaxis)
    # no dose labels in the untreated zone left of the separator: write "untreated" there
    sep = x0 * 10 ** 0.375
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if v > sep and f"{v:.0e}"[0] in "25" else ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}" if v > sep else ""))
    ax.text(x0, 0.01, "untreated", transform=ax.get_xaxis_transform(), ha="center",
            va="bottom", fontsize=8, color="0.3")
    ax.axhline(50, color="0.7", lw=0.8, ls="--")
    ax.axvline(sep, color="0.85", lw=0.8)
    ax.set_xlabel(f"dose ({unit}, log scale)", fontsize=10)
    ax.set_ylabel("viability (% of untreated)", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.set_title(title + " (dotted: IC50, 95% CI in brackets)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def contingency_plot(result, *, score_label: str | None = None) -> Figure:
    """Score per patient by clinical group, with the cut-off and the 2x2 counts.

    Parameters
    ----------
    result : FisherResult
        From :func:`blotquant.stats.cohort_vs_clinical`.
    score_label : str, optional
        y-axis label (default: :func:`axis_label` of the score column).

    Returns
    -------
    matplotlib.figure.Figure
        The 2x2 counts are drawn as a table below the plot.

    Examples
    --------
    >>> import pandas as pd
    >>> from blotquant.stats import cohort_vs_clinical
    >>> reg = pd.DataFrame({"image": list("abcd"), "sample": list("abcd"),
    ...                     "region": "image", "h_score": [250.0, 220, 40, 30]})
    >>> cl = pd.DataFrame({"patient": list("abcd"), "kras": ["mut", "mut", "wt", "wt"]})
    >>> r = cohort_vs_clinical(reg, cl, cutoff=100, group_col="kras", positive="mut")
    >>> fig = contingency_plot(r)
    >>> "[[" in fig.axes[0].get_title(), fig.axes[0].get_ylabel()
    (False, 'H-score (0-300)')
    """
    fig = Figure(figsize=(5.4, 4.8), layout="constrained")
    ax = fig.add_subplot()
    d = result.data
    score_col = [c for c in d.columns if c not in ("patient", "marker")][0]
    group_col = [c for c in d.columns if c not in ("patient", "marker", score_col)][0]
    groups = sorted(d[group_col].astype(str).unique())
    rng = np.random.default_rng(0)
    for i, g in enumerate(groups):
        v = d.loc[d[group_col].astype(str) == g, score_col]
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(v)), v, s=22, color=f"C{i}",
                   edgecolor="k", lw=0.4)
    ax.axhline(result.cutoff, color="crimson", ls="--", lw=1)
    ax.text(1.0, result.cutoff, f" cut-off {result.cutoff:g}", color="crimson", fontsize=8,
            va="bottom", ha="right", transform=ax.get_yaxis_transform())
    ax.set_xticks(range(len(groups)), [f"{group_col.replace('_', ' ')}: {g}"
                                       for g in groups], fontsize=9)
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel(score_label or axis_label(score_col), fontsize=10)
    ax.tick_params(axis="y", labelsize=9)
    ax.set_title(f"{axis_label(score_col).split(' (')[0]} high (>= {result.cutoff:g}) vs "
                 f"{group_col.replace('_', ' ')}: odds ratio {result.odds_ratio:.3g}, "
                 f"Fisher p = {result.p_value:.3g}", fontsize=9)
    t = result.table
    cell_text = [[str(int(v)) for v in row] for row in t.to_numpy()]
    tab = ax.table(cellText=cell_text, rowLabels=[f"{r} (n)" for r in t.index],
                   colLabels=[f"{c}" for c in t.columns], loc="bottom",
                   bbox=[0.25, -0.42, 0.6, 0.24], cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    return fig
