"""``blotquant batch``: analyse a folder or a sample sheet of images.

Exit status: 0 all images analysed, 3 some files failed (see errors.csv),
1 fatal error (bad arguments, unreadable sample sheet), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import ParameterError

HELP = "analyse many images (folder or sample sheet) in parallel, resumably"

DESCRIPTION = """\
Analyse every image of FOLDER (files found by extension; RGB images whose
channels differ are scored as IHC, everything else is quantified as a blot)
or of a CSV sample sheet (columns file, sample, condition, replicate, kind,
role, group, rows, lanes, lane_labels, target, control, reference_lane; see
docs/batch.md).  Runs in parallel with dask and resumes: re-running into the
same --out folder skips images already finished with the same content and
parameters.  Writes combined tables, errors.csv, per-image QC figures and a
self-contained report.html.

exit status: 0 = all images analysed, 3 = some files failed (errors.csv),
1 = fatal error, 130 = interrupted."""


def _kv(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    k, v = text.split("=", 1)
    try:
        val = json.loads(v)
    except ValueError:
        val = v
    return k.strip(), val


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.replace(";", ",").split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, "
                                         f"got {text!r}") from None


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """Options shared by ``batch`` and ``demo``."""
    g = p.add_argument_group("execution")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local dask workers (default: CPUs, max 8; 0 = no dask, "
                        "run in this process)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of an existing dask.distributed scheduler "
                        "(tcp://host:8786); workers must see the same paths")
    g.add_argument("--threads", action="store_true",
                   help="local workers as threads instead of processes")
    g.add_argument("--format", dest="fmt", default="csv",
                   choices=("csv", "parquet", "xlsx"), help="table format (default csv)")
    g.add_argument("--no-report", action="store_true", help="skip report.html")
    g.add_argument("--no-qc", action="store_true", help="skip per-image QC figures")
    g.add_argument("--no-sidecars", action="store_true",
                   help="ignore review sidecars (<stem>.blotquant.json)")
    g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    p = subparsers.add_parser("batch", help=HELP, description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="FOLDER_OR_SHEET",
                   help="folder of images or a .csv sample sheet")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--sheet", metavar="CSV",
                   help="sample sheet for a FOLDER (paths relative to FOLDER)")
    p.add_argument("--kind", choices=("auto", "blot", "ihc"), default=None,
                   help="treat every image as this kind (default: sheet / by colour)")
    p.add_argument("--recursive", "-r", action="store_true", help="scan sub-folders")
    add_analysis_options(p)
    b = p.add_argument_group("blot parameters (defaults of blotquant.quantify_blot)")
    b.add_argument("--rows", help="band row names top to bottom, e.g. ASNS,ACTB "
                                  "(sheet 'rows' column wins)")
    b.add_argument("--lanes", type=int, help="number of lanes (sheet 'lanes' column wins)")
    b.add_argument("--background", help="lane-fit, lane-minima, rolling-ball, border, none")
    b.add_argument("--radius", type=float, help="rolling-ball radius (px)")
    b.add_argument("--sensitivity", type=float, help="band detection sensitivity (0-1]")
    b.add_argument("--polarity", choices=("auto", "dark-on-light", "light-on-dark"))
    b.add_argument("--blot-param", action="append", type=_kv, default=[],
                   metavar="KEY=VALUE", help="any other quantify_blot parameter "
                                             "(VALUE parsed as JSON when possible)")
    i = p.add_argument_group("IHC parameters (defaults of blotquant.score_ihc)")
    i.add_argument("--mode", choices=("cell", "pixel"))
    i.add_argument("--thresholds", type=_floats, help="DAB OD thresholds, e.g. 0.2,0.4,0.6")
    i.add_argument("--stains", help="default or estimate")
    i.add_argument("--compartment", choices=("nucleus", "cytoplasm", "cell"))
    i.add_argument("--ihc-param", action="append", type=_kv, default=[],
                   metavar="KEY=VALUE", help="any other score_ihc parameter")
    p.set_defaults(func=run)


def blot_params(args) -> dict:
    d = {}
    if getattr(args, "rows", None):
        d["rows"] = [r.strip() for r in args.rows.replace(";", ",").split(",") if r.strip()]
    for k in ("lanes", "background", "radius", "sensitivity", "polarity"):
        v = getattr(args, k, None)
        if v is not None:
            d[k] = v
    d.update(dict(getattr(args, "blot_param", []) or []))
    return d


def ihc_params(args) -> dict:
    d = {}
    for k in ("mode", "thresholds", "stains", "compartment"):
        v = getattr(args, k, None)
        if v is not None:
            d[k] = v
    d.update(dict(getattr(args, "ihc_param", []) or []))
    return d


def print_summary(res, out=None) -> None:
    out = sys.stdout if out is None else out
    p = res.paths
    print(f"blotquant batch: {res.n_images} images: {res.n_done} analysed, "
          f"{res.n_skipped} already done (resumed), {res.n_failed} failed "
          f"[{res.seconds:.1f} s]", file=out)
    for name in ("bands", "lanes", "normalized", "ihc_regions", "ihc_cells"):
        if name in p:
            print(f"  {name + ':':13s}{p[name]}", file=out)
    print(f"  {'errors:':13s}{p['errors']}", file=out)
    if "report" in p:
        print(f"  {'report:':13s}{p['report']}", file=out)
    if res.n_failed:
        print(f"blotquant batch: {res.n_failed} file(s) failed; see {p['errors']}",
              file=sys.stderr)


def run(args) -> int:
    from ..batch import run_batch

    if args.workers is not None and args.workers < 0:
        raise ParameterError("--workers must be >= 0")
    res = run_batch(args.source, args.out, sheet=args.sheet, workers=args.workers,
                    scheduler=args.scheduler, processes=not args.threads, fmt=args.fmt,
                    kind=args.kind, blot_params=blot_params(args),
                    ihc_params=ihc_params(args), recursive=args.recursive,
                    progress=not args.quiet, report=not args.no_report, qc=not args.no_qc,
                    use_sidecars=not args.no_sidecars)
    print_summary(res)
    return res.exit_status
