"""``blotquant stats``: biomarker statistics on blotquant (or any) tables.

Subcommands: ``correlate`` (ASNS level vs IC50: Pearson + Spearman),
``fisher`` (IHC cohort high/low vs a clinical group: 2x2 + Fisher exact),
``mtt`` (MTT plate -> % viability -> 4PL IC50 with 95% CI),
``replicates`` (mean ± SD per group).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import ParameterError

HELP = "biomarker statistics: correlation, Fisher test, MTT IC50, replicates"


def read_any_table(path) -> pd.DataFrame:
    """Read a CSV / TSV / Parquet / XLSX table by its suffix."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError("table not found", path=p)
    suf = p.suffix.lower()
    try:
        if suf == ".parquet":
            return pd.read_parquet(p)
        if suf in (".xlsx", ".xls"):
            return pd.read_excel(p)
        return pd.read_csv(p, sep="\t" if suf in (".tsv", ".tab") else ",")
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise ParameterError(f"cannot read the table: {err}", path=p) from None


def _save_fig(fig, path: Path) -> Path:
    from ..tables import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return path


def register(subparsers) -> None:
    p = subparsers.add_parser("stats", help=HELP, description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="stats_command", metavar="ANALYSIS")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    c = sub.add_parser("correlate", help="biomarker level vs IC50 (Pearson, Spearman)",
                       description="Correlate a level table (e.g. the batch's "
                                   "normalized.csv or ihc_regions.csv) with an IC50 "
                                   "table (e.g. from 'blotquant stats mtt').")
    c.add_argument("levels", help="table with the biomarker level per sample")
    c.add_argument("ic50", help="table with the IC50 per sample")
    c.add_argument("--out", "-o", required=True, help="output folder")
    c.add_argument("--level-col", default="relative_ratio",
                   help="level column (relative_ratio, ratio, h_score, ...)")
    c.add_argument("--key", default="lane_label",
                   help="sample column of the level table (default lane_label)")
    c.add_argument("--ic50-key", default="cell_line",
                   help="sample column of the IC50 table (default cell_line)")
    c.add_argument("--ic50-col", default="ic50")
    c.add_argument("--linear-ic50", action="store_true",
                   help="Pearson on IC50 itself (default: on log10 IC50)")
    c.add_argument("--aggregate", choices=("mean", "median"), default="mean",
                   help="how replicate rows of a sample are combined")
    c.set_defaults(func=run_correlate)

    f = sub.add_parser("fisher", help="IHC high/low vs a clinical group (Fisher exact)")
    f.add_argument("scores", help="IHC scores table (e.g. ihc_regions.csv)")
    f.add_argument("clinical", help="clinical table (patient, KRAS status, ...)")
    f.add_argument("--out", "-o", required=True)
    f.add_argument("--cutoff", type=float, required=True,
                   help="score cut-off: high = score >= cutoff")
    f.add_argument("--exclusive", action="store_true", help="high = score > cutoff")
    f.add_argument("--score-col", default="h_score")
    f.add_argument("--key", default="sample", help="patient column of the scores table")
    f.add_argument("--clinical-key", default="patient")
    f.add_argument("--group-col", default="kras_status")
    f.add_argument("--positive", help="group value counted as positive (e.g. mutant)")
    f.add_argument("--region", help="use only this region of the scores table")
    f.add_argument("--alternative", choices=("two-sided", "greater", "less"),
                   default="two-sided")
    f.set_defaults(func=run_fisher)

    m = sub.add_parser("mtt", help="MTT plate -> %% viability -> 4PL IC50 (95%% CI)",
                       description="Long CSV: cell_line, dose, replicate, absorbance "
                                   "[, type (sample/blank/untreated)] [, plate].  Without "
                                   "'type', cell_line 'blank' marks blanks and dose 0 "
                                   "marks untreated wells.")
    m.add_argument("plate")
    m.add_argument("--out", "-o", required=True)
    m.add_argument("--fix-top", type=float, help="hold the top plateau (e.g. 100)")
    m.add_argument("--fix-bottom", type=float, help="hold the bottom plateau (e.g. 0)")
    m.set_defaults(func=run_mtt)

    r = sub.add_parser("replicates", help="mean ± SD of a column per group")
    r.add_argument("table")
    r.add_argument("--value", required=True)
    r.add_argument("--by", default="condition", help="comma-separated group columns")
    r.add_argument("--replicate", help="average within replicates first")
    r.add_argument("--out", "-o", required=True)
    r.set_defaults(func=run_replicates)


def run_correlate(args) -> int:
    from ..stats import biomarker_vs_sensitivity
    from ..stats.plots import correlation_plot
    from ..tables import write_json, write_table

    lv, ic = read_any_table(args.levels), read_any_table(args.ic50)
    res = biomarker_vs_sensitivity(lv, ic, level_col=args.level_col, ic50_col=args.ic50_col,
                                   key=args.key, ic50_key=args.ic50_key,
                                   log_ic50=not args.linear_ic50, aggregate=args.aggregate)
    out = Path(args.out)
    write_table(pd.DataFrame([res.as_dict()]), out / "correlation.csv")
    write_table(res.data.rename(columns={"x": args.level_col, "y": args.ic50_col}),
                out / "correlation_pairs.csv")
    write_json(res.as_dict(), out / "correlation.json")
    _save_fig(correlation_plot(res), out / "correlation.png")
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

    res = cohort_vs_clinical(read_any_table(args.scores), read_any_table(args.clinical),
                             cutoff=args.cutoff, group_col=args.group_col,
                             positive=args.positive, score_col=args.score_col,
                             key=args.key, clinical_key=args.clinical_key,
                             region=args.region, inclusive=not args.exclusive,
                             alternative=args.alternative)
    out = Path(args.out)
    write_table(res.table.reset_index(), out / "contingency.csv")
    write_table(pd.DataFrame([res.as_dict()]), out / "fisher.csv")
    write_table(res.data, out / "fisher_patients.csv")
    write_json(res.as_dict(), out / "fisher.json")
    _save_fig(contingency_plot(res), out / "fisher.png")
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

    v, fits_table, fits = fit_plate(args.plate, fix_top=args.fix_top,
                                    fix_bottom=args.fix_bottom)
    out = Path(args.out)
    write_table(v, out / "viability.csv")
    write_table(fits_table, out / "ic50.csv")
    _save_fig(dose_response_plot(v, fits), out / "dose_response.png")
    with pd.option_context("display.width", 120, "display.max_columns", 8):
        print(fits_table[["cell_line", "ic50", "ic50_ci_low", "ic50_ci_high", "hill",
                          "r2", "flags"]].to_string(index=False))
    print(f"wrote {out / 'ic50.csv'} and {out / 'dose_response.png'}")
    return 3 if fits_table["ic50"].isna().any() else 0


def run_replicates(args) -> int:
    from ..stats import summarize_replicates
    from ..tables import write_table

    by = [b.strip() for b in args.by.split(",") if b.strip()]
    s = summarize_replicates(read_any_table(args.table), args.value, by,
                             replicate=args.replicate)
    path = write_table(s, Path(args.out) / f"replicates_{args.value}.csv")
    print(s.to_string(index=False))
    print(f"wrote {path}")
    return 0
