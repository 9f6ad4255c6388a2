"""``blotquant stats``: biomarker statistics on blotquant (or any) tables.

Subcommands: ``correlate`` (ASNS level vs IC50: Pearson + Spearman),
``fisher`` (IHC cohort high/low vs a clinical group: 2x2 + Fisher exact),
``mtt`` (MTT plate -> % viability -> 4PL IC50 with 95% CI),
``replicates`` (mean +- SD per group).

Each checks its output folder and reads its tables before computing, and
writes its files into a staging folder moved into ``--out`` only when the
analysis succeeded: a failed run leaves no partial output.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from ..errors import ParameterError
from ._output import StagedOutput, add_output_arguments

HELP = "biomarker statistics: correlation, Fisher test, MTT IC50, replicates"

DESCRIPTION = """\
Biomarker statistics on blotquant (or any) tables (CSV, TSV, Parquet, XLSX):

  correlate   biomarker level vs IC50 (Pearson and Spearman, exact p for small n)
  fisher      IHC cohort high/low at a cut-off vs a clinical group (2x2, Fisher exact)
  mtt         MTT plate -> % viability -> 4-parameter logistic IC50 with 95% CI
  replicates  mean and SD of a column per group

Every analysis writes its tables, a JSON record and a figure into --out."""


def read_any_table(path) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet / XLSX table by its suffix.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DataFrame

    Raises
    ------
    ParameterError
        Missing or unreadable file (one line naming it).
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError("table not found" if not p.exists() else "not a file", path=p)
    suf = p.suffix.lower()
    try:
        if suf == ".parquet":
            return pd.read_parquet(p)
        if suf in (".xlsx", ".xls"):
            return pd.read_excel(p)
        return pd.read_csv(p, sep="\t" if suf in (".tsv", ".tab") else ",")
    except (ValueError, OSError, ImportError, pd.errors.ParserError) as err:
        raise ParameterError(f"cannot read the table: {' '.join(str(err).split())}",
                             path=p) from None


def _need(df: pd.DataFrame, cols, path, option: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ParameterError(f"no column {missing[0]!r} (see {option}); columns are "
                             f"{', '.join(map(str, df.columns))}", path=path)


def _numbers(df: pd.DataFrame, col, path, option: str) -> None:
    """Refuse text in a number column (e.g. IC50 ``>10``): it would silently drop the rows."""
    raw = df[col]
    if pd.api.types.is_numeric_dtype(raw):
        return
    text = raw.dropna().astype(str).str.strip()
    text = text[text != ""]
    bad = text[pd.to_numeric(text, errors="coerce").isna()]
    if len(bad):
        shown = ", ".join(repr(v) for v in bad.unique()[:4])
        raise ParameterError(f"column {col!r} (see {option}) must hold numbers, found {shown} "
                             f"in {len(bad)} row(s); give numbers (an empty cell for a "
                             "missing value)", path=path)


def _finite(value: float, option: str) -> float:
    if not math.isfinite(value):
        raise ParameterError(f"{option} must be a finite number, got {value}")
    return value


def _save_fig(fig, path: Path) -> Path:
    fig.savefig(path, format="png", dpi=120)
    return path


def _parser(sub, name, help, description):
    return sub.add_parser(name, help=help, description=description,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def register(subparsers) -> None:
    p = subparsers.add_parser("stats", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="stats_command", metavar="ANALYSIS")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    c = _parser(sub, "correlate", "biomarker level vs IC50 (Pearson, Spearman)",
                "Correlate a level table (e.g. the batch's normalized.csv or "
                "ihc_regions.csv) with an IC50 table (e.g. ic50.csv of 'blotquant stats "
                "mtt').  Writes correlation.csv, correlation_pairs.csv, correlation.json "
                "and correlation.png.")
    c.add_argument("levels", help="table with the biomarker level per sample")
    c.add_argument("ic50", help="table with the IC50 per sample")
    add_output_arguments(c)
    c.add_argument("--level-col", default="relative_ratio", metavar="COLUMN",
                   help="level column, e.g. relative_ratio, ratio or h_score "
                        "(default: relative_ratio)")
    c.add_argument("--key", default="lane_label", metavar="COLUMN",
                   help="sample column of the level table (default: lane_label)")
    c.add_argument("--ic50-key", default="cell_line", metavar="COLUMN",
                   help="sample column of the IC50 table (default: cell_line)")
    c.add_argument("--ic50-col", default="ic50", metavar="COLUMN",
                   help="IC50 column of the IC50 table (default: ic50)")
    c.add_argument("--linear-ic50", action="store_true",
                   help="Pearson on IC50 itself (default: on log10 IC50)")
    c.add_argument("--aggregate", choices=("mean", "median"), default="mean",
                   help="how the replicate rows of a sample are combined (default: mean)")
    c.set_defaults(func=run_correlate)

    f = _parser(sub, "fisher", "IHC high/low vs a clinical group (Fisher exact)",
                "Call each patient high (score >= cut-off) or low, cross with a clinical "
                "group and test the 2x2 table with Fisher's exact test.  Writes "
                "contingency.csv, fisher.csv, fisher_patients.csv, fisher.json and "
                "fisher.png.")
    f.add_argument("scores", help="IHC scores table (e.g. the batch's ihc_regions.csv)")
    f.add_argument("clinical", help="clinical table (patient, KRAS status, ...)")
    add_output_arguments(f)
    f.add_argument("--cutoff", type=float, required=True, metavar="SCORE",
                   help="score cut-off: high = score >= cut-off (required)")
    f.add_argument("--exclusive", action="store_true",
                   help="high = score > cut-off (default: score >= cut-off)")
    f.add_argument("--score-col", default="h_score", metavar="COLUMN",
                   help="score column of the scores table (default: h_score)")
    f.add_argument("--key", default="sample", metavar="COLUMN",
                   help="patient column of the scores table (default: sample)")
    f.add_argument("--clinical-key", default="patient", metavar="COLUMN",
                   help="patient column of the clinical table (default: patient)")
    f.add_argument("--group-col", default="kras_status", metavar="COLUMN",
                   help="clinical group column (default: kras_status)")
    f.add_argument("--positive", default=None, metavar="VALUE",
                   help="group value counted as positive, e.g. mutant (default: the value "
                        "that reads positive, such as mut/mutant/pos/yes, else the last "
                        "in sorted order)")
    f.add_argument("--region", default=None, metavar="NAME",
                   help="use only this region of the scores table (default: all regions)")
    f.add_argument("--alternative", choices=("two-sided", "greater", "less"),
                   default="two-sided",
                   help="alternative hypothesis on the odds ratio (default: two-sided)")
    f.set_defaults(func=run_fisher)

    m = _parser(sub, "mtt", "MTT plate -> %% viability -> 4PL IC50 (95%% CI)",
                "Long CSV: cell_line, dose, replicate, absorbance [, type "
                "(sample/blank/untreated)] [, plate].  Without 'type', cell_line 'blank' "
                "marks blanks and dose 0 marks untreated wells.  Writes viability.csv, "
                "ic50.csv and dose_response.png; exit status 3 when a fit failed.")
    m.add_argument("plate", help="the plate table (long format)")
    add_output_arguments(m)
    m.add_argument("--fix-top", type=float, default=None, metavar="PERCENT",
                   help="hold the top plateau, e.g. 100 (default: fitted)")
    m.add_argument("--fix-bottom", type=float, default=None, metavar="PERCENT",
                   help="hold the bottom plateau, e.g. 0 (default: fitted)")
    m.set_defaults(func=run_mtt)

    r = _parser(sub, "replicates", "mean and SD of a column per group",
                "Mean, SD and n of a numeric column per group (optionally averaging "
                "within replicates first).  Writes replicates_<VALUE>.csv.")
    r.add_argument("table", help="the table (e.g. the batch's normalized.csv)")
    r.add_argument("--value", required=True, metavar="COLUMN",
                   help="numeric column to summarise, e.g. relative_ratio (required)")
    r.add_argument("--by", default="condition", metavar="COLUMNS",
                   help="comma-separated group columns (default: condition)")
    r.add_argument("--replicate", default=None, metavar="COLUMN",
                   help="average within this replicate column first (default: every row "
                        "counts)")
    add_output_arguments(r)
    r.set_defaults(func=run_replicates)


def run_correlate(args) -> int:
    from ..stats import biomarker_vs_sensitivity
    from ..stats.plots import correlation_plot
    from ..tables import write_json, write_table

    staged = StagedOutput(args.out, overwrite=args.overwrite)
    lv, ic = read_any_table(args.levels), read_any_table(args.ic50)
    _need(lv, [args.key, args.level_col], args.levels, "--key / --level-col")
    _need(ic, [args.ic50_key, args.ic50_col], args.ic50, "--ic50-key / --ic50-col")
    _numbers(lv, args.level_col, args.levels, "--level-col")
    _numbers(ic, args.ic50_col, args.ic50, "--ic50-col")
    res = biomarker_vs_sensitivity(lv, ic, level_col=args.level_col, ic50_col=args.ic50_col,
                                   key=args.key, ic50_key=args.ic50_key,
                                   log_ic50=not args.linear_ic50, aggregate=args.aggregate)
    fig = correlation_plot(res)
    with staged as out:
        write_table(pd.DataFrame([res.as_dict()]), out / "correlation.csv")
        write_table(res.data.rename(columns={"x": args.level_col, "y": args.ic50_col}),
                    out / "correlation_pairs.csv")
        write_json(res.as_dict(), out / "correlation.json")
        _save_fig(fig, out / "correlation.png")
    out = staged.out
    lg = "log10 " if res.log_y else ""
    print(f"n = {res.n}: Pearson r = {res.pearson_r:.4f} (p = {res.pearson_p:.4g}) "
          f"[{args.level_col} vs {lg}{args.ic50_col}]; Spearman rho = "
          f"{res.spearman_rho:.4f} (p = {res.spearman_p:.4g}"
          + (f", exact permutation p = {res.spearman_p_exact:.4g})"
             if res.spearman_p_exact == res.spearman_p_exact else ")"))
    print(f"wrote {out / 'correlation.csv'} and {out / 'correlation.png'}")
    return 0


def run_fisher(args) -> int:
    from ..stats import cohort_vs_clinical
    from ..stats.plots import contingency_plot
    from ..tables import write_json, write_table

    _finite(args.cutoff, "--cutoff")
    staged = StagedOutput(args.out, overwrite=args.overwrite)
    scores, clinical = read_any_table(args.scores), read_any_table(args.clinical)
    _need(scores, [args.key, args.score_col], args.scores, "--key / --score-col")
    _numbers(scores, args.score_col, args.scores, "--score-col")
    _need(clinical, [args.clinical_key, args.group_col], args.clinical,
          "--clinical-key / --group-col")
    res = cohort_vs_clinical(scores, clinical, cutoff=args.cutoff, group_col=args.group_col,
                             positive=args.positive, score_col=args.score_col,
                             key=args.key, clinical_key=args.clinical_key,
                             region=args.region, inclusive=not args.exclusive,
                             alternative=args.alternative)
    fig = contingency_plot(res)
    with staged as out:
        write_table(res.table.reset_index(), out / "contingency.csv")
        write_table(pd.DataFrame([res.as_dict()]), out / "fisher.csv")
        write_table(res.data, out / "fisher_patients.csv")
        write_json(res.as_dict(), out / "fisher.json")
        _save_fig(fig, out / "fisher.png")
    out = staged.out
    print(res.table.to_string())
    print(f"Fisher exact ({res.alternative}): odds ratio = {res.odds_ratio:.4g}, "
          f"p = {res.p_value:.4g} (conditional MLE OR {res.cmle_odds_ratio:.4g}, 95% CI "
          f"{res.ci_low:.3g}-{res.ci_high:.3g})")
    print(f"wrote {out / 'fisher.csv'} and {out / 'contingency.csv'}")
    return 0


def run_mtt(args) -> int:
    from ..stats import fit_plate
    from ..stats.plots import dose_response_plot
    from ..tables import write_table

    for opt, v in (("--fix-top", args.fix_top), ("--fix-bottom", args.fix_bottom)):
        if v is not None:
            _finite(v, opt)
    staged = StagedOutput(args.out, overwrite=args.overwrite)
    plate = read_any_table(args.plate)
    try:
        v, fits_table, fits = fit_plate(plate, fix_top=args.fix_top,
                                        fix_bottom=args.fix_bottom)
    except ParameterError as err:
        raise ParameterError(err.problem, path=args.plate) from None
    fig = dose_response_plot(v, fits)
    with staged as out:
        write_table(v, out / "viability.csv")
        write_table(fits_table, out / "ic50.csv")
        _save_fig(fig, out / "dose_response.png")
    out = staged.out
    with pd.option_context("display.width", 120, "display.max_columns", 8):
        print(fits_table[["cell_line", "ic50", "ic50_ci_low", "ic50_ci_high", "hill",
                          "r2", "flags"]].to_string(index=False))
    print(f"wrote {out / 'ic50.csv'} and {out / 'dose_response.png'}")
    return 3 if fits_table["ic50"].isna().any() else 0


def run_replicates(args) -> int:
    from ..stats import summarize_replicates
    from ..tables import write_table

    by = [b.strip() for b in args.by.split(",") if b.strip()]
    if not by:
        raise ParameterError(f"--by needs at least one column name, got {args.by!r}")
    staged = StagedOutput(args.out, overwrite=args.overwrite)
    table = read_any_table(args.table)
    _need(table, [args.value, *by] + ([args.replicate] if args.replicate else []),
          args.table, "--value / --by / --replicate")
    _numbers(table, args.value, args.table, "--value")
    s = summarize_replicates(table, args.value, by, replicate=args.replicate)
    name = f"replicates_{args.value}.csv"
    with staged as out:
        write_table(s, out / name)
    print(s.to_string(index=False))
    print(f"wrote {staged.out / name}")
    return 0
