"""MTT viability plates: blank subtraction, % viability, 4-parameter logistic IC50.

Plate format (long CSV, one row per well)::

    cell_line, dose, replicate, absorbance[, type][, plate]

``type`` is ``sample``, ``blank`` (medium only, no cells) or ``untreated``
(cells, no drug).  Without a ``type`` column, rows whose ``cell_line`` is
``blank``/``medium``/``media``/``background``/``empty`` (or whose dose is
``blank``) are blanks and rows with ``dose == 0`` are untreated.

Processing (:func:`viability`)
  1. blank = mean absorbance of the blank wells of the same plate and cell
     line, else of the same plate, else of all blanks;
  2. corrected = absorbance - blank;
  3. % viability = 100 x corrected / mean(corrected untreated wells of the
     same plate and cell line).

Fit (:func:`fit_4pl`), on every replicate point (not the means), untreated
wells included as dose-0 observations of the top plateau::

    v(d) = bottom + (top - bottom) / (1 + (d / IC50) ** hill)

with ``curve_fit`` (trust-region reflective) on log10(IC50).  Initial guesses:
top/bottom = highest/lowest mean response, log IC50 where the mean crosses
halfway (linear interpolation on log dose), hill = 1.  Bounds: bottom
[-25, 125] %, top [25, 200] %, log10 IC50 within two decades of the tested
range, hill [0.1, 10].  The 95% CI of the IC50 is ``10 ** (log10 IC50 ±
t(0.975, n - p) * SE)`` with SE from the covariance matrix of the fit (so it
is asymmetric in dose units).  ``flags`` lists ``<param>-at-bound``,
``flat-curve`` (top - bottom < 10 %: no IC50 to speak of),
``ic50-outside-tested-range`` and ``ci-undefined``.  The IC50 is the *relative* one (the curve's
midpoint); the *absolute* IC50 (dose giving 50 % viability) is reported as
``abs_ic50`` when the curve crosses 50 %.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit

from ..errors import AnalysisError, ParameterError

__all__ = ["fourpl", "DoseResponseFit", "fit_4pl", "read_plate", "viability",
           "fit_plate", "simulate_mtt_plate", "BLANK_WORDS"]

BLANK_WORDS = ("blank", "medium", "media", "background", "empty")
_UNTREATED_WORDS = ("untreated", "control", "vehicle", "ctrl", "no drug", "none")


def fourpl(dose: ArrayLike, bottom: float, top: float, ic50: float,
           hill: float) -> np.ndarray | float:
    """4-parameter logistic ``bottom + (top - bottom) / (1 + (dose/ic50)**hill)``.

    Parameters
    ----------
    dose : array-like
        Doses (same units as ``ic50``).
    bottom, top : float
        Response at infinite and at zero dose.
    ic50 : float
        Dose at the curve's midpoint (relative IC50), > 0.
    hill : float
        Hill slope (> 0 for a response falling with dose).

    Returns
    -------
    ndarray or float
        Response at each dose (a numpy scalar for a scalar dose).

    Examples
    --------
    >>> float(fourpl(10.0, 0.0, 100.0, 10.0, 1.0))
    50.0
    """
    d = np.asarray(dose, dtype=float)
    return bottom + (top - bottom) / (1.0 + (d / ic50) ** hill)


def _model_log(d, bottom, top, log_ic50, hill):
    # (d / ic50) ** hill computed as exp(hill * ln(10) * (log10 d - log10 ic50))
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore"):
        ld = np.log10(d)
    z = np.clip(hill * np.log(10.0) * (ld - log_ic50), -700, 700)
    # dose 0 (untreated wells): z = -inf -> exactly ``top``
    return bottom + (top - bottom) / (1.0 + np.exp(z))


@dataclass
class DoseResponseFit:
    """Result of a 4PL fit (see module docstring for the model).

    Attributes
    ----------
    bottom, top, ic50, hill : float
        Fitted parameters (``ic50`` is the relative IC50, the midpoint).
    ic50_ci_low, ic50_ci_high : float
        95% confidence interval of the IC50 (NaN when undefined).
    log_ic50_se : float
        Standard error of log10(IC50).
    abs_ic50 : float
        Dose giving 50 % response, NaN when the curve does not cross 50.
    r2, rmse : float
        Goodness of fit on the points used.
    n, dof : int
        Points used and residual degrees of freedom.
    converged : bool
        Whether the optimiser converged.
    flags : str
        ``;``-separated warnings (see the module docstring).
    cell_line : str
        Name given to :func:`fit_4pl`.
    params_cov : ndarray
        Covariance matrix of the free parameters (log10 IC50 scale).
    """

    bottom: float
    top: float
    ic50: float
    hill: float
    ic50_ci_low: float
    ic50_ci_high: float
    log_ic50_se: float
    abs_ic50: float
    r2: float
    rmse: float
    n: int
    dof: int
    converged: bool
    flags: str = ""
    cell_line: str = ""
    params_cov: np.ndarray = field(default=None, repr=False)

    def predict(self, dose: ArrayLike) -> np.ndarray | float:
        """Fitted % viability at ``dose``.

        Parameters
        ----------
        dose : array-like
            Doses.

        Returns
        -------
        ndarray or float
            :func:`fourpl` with the fitted parameters.
        """
        return fourpl(dose, self.bottom, self.top, self.ic50, self.hill)

    def as_dict(self) -> dict:
        """Flat dict (one row of the fits table).

        Returns
        -------
        dict
            ``cell_line``, ``ic50``, its CI, ``log10_ic50`` (+ ``_se``),
            ``abs_ic50``, ``bottom``, ``top``, ``hill``, ``r2``, ``rmse``,
            ``n``, ``dof``, ``converged`` and ``flags``.
        """
        return {"cell_line": self.cell_line, "ic50": self.ic50,
                "ic50_ci_low": self.ic50_ci_low, "ic50_ci_high": self.ic50_ci_high,
                "log10_ic50": float(np.log10(self.ic50)) if self.ic50 > 0 else np.nan,
                "log10_ic50_se": self.log_ic50_se, "abs_ic50": self.abs_ic50,
                "bottom": self.bottom, "top": self.top, "hill": self.hill, "r2": self.r2,
                "rmse": self.rmse, "n": self.n, "dof": self.dof,
                "converged": self.converged, "flags": self.flags}


def fit_4pl(dose: ArrayLike, response: ArrayLike, *, fix_top: float | None = None,
            fix_bottom: float | None = None, cell_line: str = "") -> DoseResponseFit:
    """Fit a 4-parameter logistic to dose-response points.

    Parameters
    ----------
    dose : array-like
        Doses (>= 0).  Dose-0 points (untreated wells) are observations of
        the top plateau and anchor it; negative doses are ignored.
    response : array-like
        % viability (or any response), same length.
    fix_top, fix_bottom : float, optional
        Hold top/bottom fixed (e.g. ``fix_top=100``) -> 3/2-parameter fit.
    cell_line : str
        Name kept in the result and used in error messages.

    Returns
    -------
    DoseResponseFit
        Parameters, 95% CI of the IC50, fit quality and flags.

    Raises
    ------
    ParameterError
        ``dose`` and ``response`` differ in length.
    AnalysisError
        Fewer than 4 distinct positive doses, or the optimiser fails.

    Examples
    --------
    >>> d = np.logspace(-2, 2, 9)
    >>> f = fit_4pl(np.repeat(d, 3), np.repeat(fourpl(d, 5, 100, 1.5, 1.2), 3))
    >>> round(f.ic50, 6), round(f.hill, 6)
    (1.5, 1.2)
    """
    d = np.asarray(dose, dtype=float).ravel()
    y = np.asarray(response, dtype=float).ravel()
    if d.shape != y.shape:
        raise ParameterError("dose and response must have the same length")
    ok = np.isfinite(d) & np.isfinite(y) & (d >= 0)
    d, y = d[ok], y[ok]
    ud = np.unique(d[d > 0])
    if ud.size < 4:
        raise AnalysisError(f"{cell_line + ': ' if cell_line else ''}a 4PL fit needs at "
                            f"least 4 distinct positive doses, got {ud.size}")
    means = np.array([y[d == u].mean() for u in ud])
    first = y[d == 0].mean() if np.any(d == 0) else np.max(means[:2])
    top0 = float(first) if fix_top is None else float(fix_top)
    bot0 = float(np.min(means[-2:])) if fix_bottom is None else float(fix_bottom)
    half = (top0 + bot0) / 2
    lx = np.log10(ud)
    cross = np.nonzero(np.diff(np.sign(means - half)) != 0)[0]
    if cross.size:
        i = cross[0]
        y0, y1 = means[i], means[i + 1]
        frac = 0.5 if y1 == y0 else (half - y0) / (y1 - y0)
        lic0 = lx[i] + frac * (lx[i + 1] - lx[i])
    else:
        lic0 = float(np.median(lx))
    lo_l, hi_l = lx.min() - 2, lx.max() + 2
    names = ["bottom", "top", "log_ic50", "hill"]
    p0 = {"bottom": bot0, "top": top0, "log_ic50": lic0, "hill": 1.0}
    bounds = {"bottom": (-25.0, 125.0), "top": (25.0, 200.0), "log_ic50": (lo_l, hi_l),
              "hill": (0.1, 10.0)}
    fixed = {}
    if fix_top is not None:
        fixed["top"] = float(fix_top)
    if fix_bottom is not None:
        fixed["bottom"] = float(fix_bottom)
    free = [n for n in names if n not in fixed]

    def f(x, *p):
        kw = dict(fixed)
        kw.update(zip(free, p))
        return _model_log(x, kw["bottom"], kw["top"], kw["log_ic50"], kw["hill"])

    x0 = [float(np.clip(p0[n], bounds[n][0] + 1e-9, bounds[n][1] - 1e-9)) for n in free]
    lb = [bounds[n][0] for n in free]
    ub = [bounds[n][1] for n in free]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            popt, pcov = curve_fit(f, d, y, p0=x0, bounds=(lb, ub), method="trf",
                                   max_nfev=20000, x_scale="jac")
    except (RuntimeError, ValueError) as err:
        raise AnalysisError(f"{cell_line + ': ' if cell_line else ''}the 4PL fit did not "
                            f"converge ({err})") from None
    vals = dict(fixed)
    vals.update(zip(free, map(float, popt)))
    resid = y - f(d, *popt)
    ss_res = float(np.sum(resid ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    dof = int(d.size - len(free))
    flags = []
    j = free.index("log_ic50")
    se = float(np.sqrt(pcov[j, j])) if np.isfinite(pcov[j, j]) and pcov[j, j] >= 0 \
        else np.nan
    if dof > 0 and np.isfinite(se):
        tq = float(sps.t.ppf(0.975, dof))
        ci = (10 ** (vals["log_ic50"] - tq * se), 10 ** (vals["log_ic50"] + tq * se))
    else:
        ci = (np.nan, np.nan)
        flags.append("ci-undefined")
    for n, v in zip(free, popt):
        lo, hi = bounds[n]
        tol = 1e-4 * (hi - lo)
        if v - lo < tol or hi - v < tol:
            flags.append(f"{n}-at-bound")
    if abs(vals["top"] - vals["bottom"]) < 10:
        flags.append("flat-curve")
    ic50 = float(10 ** vals["log_ic50"])
    if ic50 < ud.min() or ic50 > ud.max():
        flags.append("ic50-outside-tested-range")
    b, t, h = vals["bottom"], vals["top"], vals["hill"]
    if min(b, t) < 50 < max(b, t):
        abs_ic50 = float(ic50 * ((t - 50) / (50 - b)) ** (1 / h))
    else:
        abs_ic50 = np.nan
    return DoseResponseFit(
        bottom=b, top=t, ic50=ic50, hill=h, ic50_ci_low=float(ci[0]),
        ic50_ci_high=float(ci[1]), log_ic50_se=se, abs_ic50=abs_ic50,
        r2=1 - ss_res / ss_tot if ss_tot > 0 else np.nan,
        rmse=float(np.sqrt(ss_res / d.size)), n=int(d.size), dof=dof, converged=True,
        flags=";".join(flags), cell_line=cell_line, params_cov=pcov)


def read_plate(source: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Read an MTT plate (long CSV path or DataFrame) into canonical columns.

    Column names are matched case-insensitively, with aliases (``od``,
    ``abs``, ``a570`` -> ``absorbance``; ``concentration``, ``conc`` ->
    ``dose``; ``line`` -> ``cell_line``; ``well_type``, ``kind`` -> ``type``).

    Parameters
    ----------
    source : path or DataFrame
        Long CSV file (one row per well) or a table with the same columns.

    Returns
    -------
    DataFrame
        Columns ``plate, cell_line, dose, replicate, absorbance, type``
        (``type`` in ``sample``/``blank``/``untreated``; untreated wells
        have dose 0), then any other input column.

    Raises
    ------
    ParameterError
        Missing file or column, a non-numeric absorbance, an unknown well
        type or a treated well without a positive dose.

    Examples
    --------
    >>> df = pd.DataFrame({"cell_line": ["blank", "A", "A"], "dose": [0, 0, 1],
    ...                    "replicate": [1, 1, 1], "absorbance": [0.05, 1.0, 0.5]})
    >>> read_plate(df)["type"].tolist()
    ['blank', 'untreated', 'sample']
    """
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        name = "plate table"
    else:
        name = str(source)
        try:
            df = pd.read_csv(source, skipinitialspace=True)
        except FileNotFoundError:
            raise ParameterError("plate file not found", path=name) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise ParameterError(f"cannot read the plate as CSV: {err}", path=name) from None
    df.columns = [str(c).strip().lower().replace(" ", "_") for c in df.columns]
    for alias, canon in (("od", "absorbance"), ("abs", "absorbance"), ("a570", "absorbance"),
                         ("concentration", "dose"), ("conc", "dose"), ("line", "cell_line"),
                         ("well_type", "type"), ("kind", "type")):
        if alias in df.columns and canon not in df.columns:
            df = df.rename(columns={alias: canon})
    need = ["cell_line", "dose", "absorbance"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise ParameterError(f"the plate needs columns {', '.join(need)} (missing: "
                             f"{', '.join(miss)})", path=name)
    if "replicate" not in df.columns:
        df["replicate"] = df.groupby(["cell_line", "dose"]).cumcount() + 1
    if "plate" not in df.columns:
        df["plate"] = "1"
    df["plate"] = df["plate"].astype(str)
    df["cell_line"] = df["cell_line"].astype(str).str.strip()
    dose_txt = df["dose"].astype(str).str.strip().str.lower()
    df["absorbance"] = pd.to_numeric(df["absorbance"], errors="coerce")
    if df["absorbance"].isna().any():
        bad = df.loc[df["absorbance"].isna()].index[0]
        raise ParameterError(f"row {bad + 2}: absorbance is not a number", path=name)
    if "type" in df.columns:
        typ = df["type"].astype(str).str.strip().str.lower()
        typ = typ.replace({"medium": "blank", "media": "blank", "background": "blank",
                           "control": "untreated", "vehicle": "untreated",
                           "treated": "sample", "": "sample", "nan": "sample"})
    else:
        typ = pd.Series("sample", index=df.index)
        typ[df["cell_line"].str.lower().isin(BLANK_WORDS) | dose_txt.isin(BLANK_WORDS)] \
            = "blank"
    dose = pd.to_numeric(df["dose"], errors="coerce")
    typ[(typ == "sample") & (dose_txt.isin(_UNTREATED_WORDS) | (dose == 0))] = "untreated"
    bad = sorted(set(typ) - {"sample", "blank", "untreated"})
    if bad:
        raise ParameterError(f"unknown well type {bad[0]!r}; use sample, blank or untreated",
                             path=name)
    if ((typ == "sample") & ~(dose > 0)).any():
        i = df.index[(typ == "sample") & ~(dose > 0)][0]
        raise ParameterError(f"row {i + 2}: dose must be a positive number for treated "
                             "wells", path=name)
    df["dose"] = dose.where(typ != "untreated", 0.0)
    df["type"] = typ
    return df[["plate", "cell_line", "dose", "replicate", "absorbance", "type"]
              + [c for c in df.columns if c not in ("plate", "cell_line", "dose",
                                                     "replicate", "absorbance", "type")]]


def viability(plate: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Blank-subtracted % viability of every treated and untreated well.

    Parameters
    ----------
    plate : path or DataFrame
        Anything :func:`read_plate` reads.

    Returns
    -------
    DataFrame
        The plate rows of type sample/untreated with ``blank``,
        ``corrected`` and ``untreated_mean`` (corrected) and ``viability`` (%).

    Raises
    ------
    ParameterError
        No blank wells, or a cell line without untreated wells.
    AnalysisError
        Untreated wells of a cell line are not above the blank.

    Examples
    --------
    >>> df = pd.DataFrame({"cell_line": ["blank", "A", "A", "A"], "dose": [0, 0, 0, 1],
    ...                    "absorbance": [0.1, 1.0, 1.2, 0.6]})
    >>> viability(df)["viability"].round(9).tolist()
    [90.0, 110.0, 50.0]
    """
    df = read_plate(plate)
    blanks = df[df["type"] == "blank"]
    if blanks.empty:
        raise ParameterError("the plate has no blank wells (type 'blank' or cell_line "
                             "'blank'): cannot subtract the background")
    all_blank = float(blanks["absorbance"].mean())
    by_plate = blanks.groupby("plate")["absorbance"].mean()
    by_line = blanks.groupby(["plate", "cell_line"])["absorbance"].mean()
    cells = df[df["type"] != "blank"].copy()

    keys = list(zip(cells["plate"], cells["cell_line"]))
    cells["blank"] = [float(by_line[k]) if k in by_line.index
                      else float(by_plate[k[0]]) if k[0] in by_plate.index else all_blank
                      for k in keys]
    cells["corrected"] = cells["absorbance"] - cells["blank"]
    unt = cells[cells["type"] == "untreated"].groupby(["plate", "cell_line"])["corrected"] \
        .mean()
    missing = sorted({(p, c) for p, c in zip(cells["plate"], cells["cell_line"])}
                     - set(unt.index))
    if missing:
        raise ParameterError(f"cell line {missing[0][1]!r} (plate {missing[0][0]}) has no "
                             "untreated wells (dose 0): cannot compute % viability")
    if (unt <= 0).any():
        p, c = unt[unt <= 0].index[0]
        raise AnalysisError(f"cell line {c!r}: untreated wells are not above the blank")
    cells["untreated_mean"] = [float(unt[(p, c)]) for p, c in
                               zip(cells["plate"], cells["cell_line"])]
    cells["viability"] = 100.0 * cells["corrected"] / cells["untreated_mean"]
    return cells.reset_index(drop=True)


def fit_plate(plate: str | os.PathLike | pd.DataFrame,
              **kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """% viability and a 4PL fit per cell line.

    Parameters
    ----------
    plate : path or DataFrame
        Anything :func:`read_plate` reads.
    **kwargs
        Passed to :func:`fit_4pl` (``fix_top``, ``fix_bottom``).

    Returns
    -------
    viability_table : DataFrame
        :func:`viability` of the plate.
    fits_table : DataFrame
        One row per cell line (columns of :meth:`DoseResponseFit.as_dict`);
        lines whose fit failed have NaNs and the error in ``flags``.
    fits : dict of str to DoseResponseFit
        The successful fits by cell line.
    """
    v = viability(plate)
    rows, fits = [], {}
    for line, g in v.groupby("cell_line", sort=True):
        try:
            fit = fit_4pl(g["dose"], g["viability"], cell_line=str(line), **kwargs)
        except (AnalysisError, ParameterError) as err:
            rows.append({"cell_line": line, "ic50": np.nan, "converged": False,
                         "flags": f"fit-failed: {err.problem}"})
            continue
        fits[str(line)] = fit
        rows.append(fit.as_dict())
    cols = list(DoseResponseFit(*(np.nan,) * 10, 0, 0, False).as_dict())
    return v, pd.DataFrame(rows).reindex(columns=cols), fits


def simulate_mtt_plate(ic50s: dict, *, doses: ArrayLike | None = None, replicates: int = 3,
                       hill: float | dict = 1.0,
                       bottom: float = 5.0, top_absorbance: float = 1.2,
                       blank_absorbance: float = 0.06, cv: float = 0.05,
                       sd: float = 0.01, n_blank: int = 6, n_untreated: int = 6,
                       seed: int = 0) -> pd.DataFrame:
    """A synthetic MTT plate (long format) with known IC50s, for tests and demos.

    Absorbance = blank + (top - blank) x v(d)/100 x (1 + cv x N(0,1)) +
    sd x N(0,1), with ``v`` the 4PL (% viability, top 100) of each line.

    Parameters
    ----------
    ic50s : dict of str to float
        True IC50 per cell line.
    doses : array-like, optional
        Treated doses (default: 8 log-spaced doses from 0.01 to 100).
    replicates : int
        Wells per dose and line.
    hill : float or dict of str to float
        Hill slope, one for all lines or one per line.
    bottom : float
        Bottom plateau, % viability.
    top_absorbance, blank_absorbance : float
        Mean absorbance of untreated and of blank wells.
    cv : float
        Proportional noise (coefficient of variation) of the cell signal.
    sd : float
        Additive absorbance noise.
    n_blank, n_untreated : int
        Blank wells (one set) and untreated wells per line.
    seed : int
        Seed of the random generator.

    Returns
    -------
    DataFrame
        Columns ``cell_line, dose, replicate, absorbance, type``.

    Examples
    --------
    >>> p = simulate_mtt_plate({"A": 1.0}, seed=1)
    >>> sorted(p["type"].unique()), len(p)
    (['blank', 'sample', 'untreated'], 36)
    """
    rng = np.random.default_rng(seed)
    if doses is None:
        doses = np.logspace(-2, 2, 8)
    doses = np.asarray(doses, dtype=float)
    rows = []
    for r in range(n_blank):
        a = blank_absorbance + sd * rng.standard_normal()
        rows.append(("blank", 0.0, r + 1, a, "blank"))
    for line, ic50 in ic50s.items():
        h = hill[line] if isinstance(hill, dict) else hill
        signal = top_absorbance - blank_absorbance
        for r in range(n_untreated):
            a = blank_absorbance + signal * (1 + cv * rng.standard_normal()) \
                + sd * rng.standard_normal()
            rows.append((line, 0.0, r + 1, a, "untreated"))
        for dz in doses:
            v = float(fourpl(dz, bottom, 100.0, ic50, h))
            for r in range(replicates):
                a = blank_absorbance + signal * v / 100 * (1 + cv * rng.standard_normal()) \
                    + sd * rng.standard_normal()
                rows.append((line, float(dz), r + 1, a, "sample"))
    return pd.DataFrame(rows, columns=["cell_line", "dose", "replicate", "absorbance",
                                       "type"])
