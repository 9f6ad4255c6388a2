"""``blotquant demo``: the main job on the bundled sample images.

Runs a batch over ``sample_images/samples.csv`` (a source checkout's
``sample_images/``; without it -- e.g. a wheel install -- the same synthetic
samples are generated into a temporary folder), then the biomarker
statistics (MTT IC50s, ASNS vs IC50 correlation, IHC high/low vs KRAS),
and writes everything into ``--out``.  Opens nothing; prints where the
tables and the report are.
"""



from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HELP = "run a small batch + statistics on the bundled sample images"

DESCRIPTION = """\
Run the main job on the bundled sample images: a batch over
sample_images/samples.csv (without a source checkout the same synthetic
samples are generated into a temporary folder), then the biomarker
statistics (MTT IC50s, ASNS level vs IC50 correlation, IHC ASNS-high/low vs
KRAS status, Fisher test).  Everything goes into --out: the batch tables,
stats/ and report.html.  Opens nothing; prints where the files are.

exit status: 0 = done, 3 = some files failed, 1 = fatal error (nothing
written), 2 = usage error."""

#: H-score cut-off used by the demo's ASNS-high/low Fisher test.
DEMO_CUTOFF = 100.0


def register(subparsers) -> None:
    from .batch import add_execution_options

    p = subparsers.add_parser("demo", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", "-o", default="blotquant_demo", metavar="FOLDER",
                   help="output folder (default: ./blotquant_demo; an earlier demo there "
                        "is resumed, other results are refused unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="also write into a folder that holds other results (default: refuse)")
    p.add_argument("--samples", metavar="FOLDER", default=None,
                   help="use this sample folder (with samples.csv) instead (default: the "
                        "bundled sample_images/)")
    add_execution_options(p)
    p.set_defaults(func=run)


def _stats(folder: Path, res, out: Path) -> tuple[list, list[str]]:
    """MTT fit, ASNS vs IC50 and IHC vs KRAS into ``out/stats``; report sections + lines."""
    import pandas as pd

    from ..errors import BlotquantError
    from ..stats import biomarker_vs_sensitivity, cohort_vs_clinical, fit_plate
    from ..stats.plots import contingency_plot, correlation_plot, dose_response_plot
    from ..tables import write_table

    sdir = out / "stats"
    sdir.mkdir(parents=True, exist_ok=True)
    figs, lines = [], []
    plate = folder / "mtt_plate.csv"
    if plate.is_file():
        v, table, fits = fit_plate(plate)
        write_table(v, sdir / "viability.csv")
        write_table(table, sdir / "ic50.csv")
        fig = dose_response_plot(v, fits, title="MTT: L-asparaginase dose-response")
        _savefig(fig, sdir / "dose_response.png")
        figs.append(fig)
        lines.append("IC50 (4PL, 95% CI): " + ", ".join(
            f"{r.cell_line} {r.ic50:.3g} [{r.ic50_ci_low:.3g}-{r.ic50_ci_high:.3g}]"
            for r in table.itertuples()))
        norm = res.tables.get("normalized")
        if norm is not None and not norm.empty and "lane_label" in norm:
            try:
                c = biomarker_vs_sensitivity(norm, table, level_col="relative_ratio",
                                             key="lane_label", ic50_key="cell_line")
                write_table(pd.DataFrame([c.as_dict()]), sdir / "correlation.csv")
                fig = correlation_plot(c, title="ASNS (western blot) vs L-asparaginase "
                                                "IC50")
                _savefig(fig, sdir / "correlation.png")
                figs.append(fig)
                lines.append(f"ASNS/ACTB vs log10 IC50: Pearson r = {c.pearson_r:.3f} "
                             f"(p = {c.pearson_p:.3g}), Spearman rho = "
                             f"{c.spearman_rho:.3f} (exact p = {c.spearman_p_exact:.3g}), "
                             f"n = {c.n}")
            except BlotquantError as err:
                lines.append(f"correlation skipped: {err}")
    clinical = folder / "clinical.csv"
    reg = res.tables.get("ihc_regions")
    if clinical.is_file() and reg is not None and not reg.empty:
        try:
            f = cohort_vs_clinical(reg, pd.read_csv(clinical), cutoff=DEMO_CUTOFF,
                                   group_col="kras_status", positive="mutant")
            write_table(f.table.reset_index(), sdir / "contingency.csv")
            write_table(pd.DataFrame([f.as_dict()]), sdir / "fisher.csv")
            fig = contingency_plot(f)
            _savefig(fig, sdir / "fisher.png")
            figs.append(fig)
            lines.append(f"IHC ASNS-high (H-score >= {DEMO_CUTOFF:g}) vs KRAS mutant: "
                         f"odds ratio = {f.odds_ratio:.3g}, Fisher p = {f.p_value:.3g}")
        except BlotquantError as err:
            lines.append(f"Fisher test skipped: {err}")
    return ([("Biomarker statistics", figs)] if figs else []), lines


def _savefig(fig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def run(args) -> int:
    from ..batch.run import prepare_batch_output, run_batch
    from ..errors import ParameterError
    from ..report.html import write_report
    from ..synthetic import study
    from ._output import StagedOutput
    from .batch import print_summary

    out = Path(args.out)
    if args.samples is not None and not (Path(args.samples) / "samples.csv").is_file():
        raise ParameterError("no samples.csv in this folder: give a folder with a sample "
                             "sheet named samples.csv", path=args.samples)
    prepare_batch_output(out, overwrite=args.overwrite)  # before any work
    tmp = None
    if args.samples:
        folder = Path(args.samples)
    else:
        folder = study.sample_dir()
        if folder is None:
            tmp = Path(tempfile.mkdtemp(prefix="blotquant_samples_"))
            print(f"blotquant demo: no bundled sample_images/ found; generating the "
                  f"synthetic samples in {tmp}", file=sys.stderr)
            study.write_samples(tmp)
            folder = tmp
    try:
        res = run_batch(folder / "samples.csv", out, workers=args.workers,
                        scheduler=args.scheduler, processes=not args.threads,
                        fmt=args.fmt, progress=not args.quiet, report=False,
                        qc=not args.no_qc, use_sidecars=not args.no_sidecars,
                        title="blotquant demo: synthetic ASNS study",
                        overwrite=args.overwrite)
        # statistics and report appear together, or (on a failure) not at all
        with StagedOutput(out, overwrite=True) as stage:
            sections, lines = _stats(folder, res, stage)
            if not args.no_report:
                write_report(stage / "report.html", tables=res.tables, errors=res.errors,
                             images=res.images, warnings=res.warnings, title=res.title,
                             extra=sections)
                res.paths["report"] = out / "report.html"
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"blotquant demo: sample images from {folder}" if tmp is None
          else "blotquant demo: sample images generated (temporary)")
    print_summary(res)
    if lines:
        print(f"  {'statistics:':13s}{out / 'stats'}")
        for line in lines:
            print(f"    {line}")
    if "report" in res.paths:
        print(f"open {res.paths['report']} in a browser to see the report")
    return res.exit_status
