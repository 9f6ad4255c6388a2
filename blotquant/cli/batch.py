"""``blotquant batch``: analyse a folder or a sample sheet of images.

The analysis options are built from the parameter models
(``BlotParams.add_arguments``, ``IHCParams.add_arguments``), so they have the
engines' names, checks and defaults.  Everything -- options, every sample
sheet row, the output folder -- is checked before the first image is read.

Exit status: 0 all images analysed, 3 some files failed (see errors.csv),
1 fatal error (bad arguments, sample sheet or output folder), 2 usage error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys

from ..blot.params import BlotParams
from ..errors import ParameterError
from ..ihc.params import CellParams, IHCParams

HELP = "analyse many images (folder or sample sheet) in parallel, resumably"

DESCRIPTION = """\
Analyse every image of FOLDER (files found by extension; RGB images whose
channels differ are scored as IHC, everything else is quantified as a blot)
or of a CSV sample sheet (context columns file, sample, condition,
replicate, kind, role, group, lane_labels, exposure; a column named like an
analysis parameter below, e.g. rows, lanes, target, control, reference_lane,
background or thresholds, sets it for its row; see docs/batch.md).

Runs in parallel with dask and resumes: re-running into the same --out
folder (a batch output, marked by its batch.json) skips the images already
finished with the same content and parameters.  Writes combined tables,
errors.csv, per-image QC figures and a self-contained report.html.

exit status: 0 = all images analysed, 3 = some files failed (errors.csv),
1 = fatal error (nothing written), 2 = usage error, 130 = interrupted."""

#: Options of ``batch`` itself (an analysis parameter may not take these names).
OWN_OPTIONS = ("out", "overwrite", "sheet", "kind", "recursive", "workers", "scheduler",
               "threads", "format", "no_report", "no_qc", "no_sidecars", "quiet")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's paragraphs; options' help as written (defaults in it)."""


def _workers(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return v


def add_execution_options(p: argparse.ArgumentParser) -> None:
    """Options of how a batch runs, shared by ``batch`` and ``demo``."""
    g = p.add_argument_group("execution")
    g.add_argument("--workers", type=_workers, default=None, metavar="N",
                   help="local dask workers (default: the CPUs, at most 8; 0 = no dask, "
                        "run in this process)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of an existing dask.distributed scheduler, e.g. "
                        "tcp://host:8786; its workers must see the same paths (default: "
                        "a local cluster)")
    g.add_argument("--threads", action="store_true",
                   help="local workers as threads instead of processes (default: processes)")
    g.add_argument("--format", dest="fmt", default="csv", choices=("csv", "parquet", "xlsx"),
                   help="format of the combined tables (default: csv)")
    g.add_argument("--no-report", action="store_true",
                   help="do not write report.html (default: write it)")
    g.add_argument("--no-qc", action="store_true",
                   help="do not draw per-image QC figures (default: draw them)")
    g.add_argument("--no-sidecars", action="store_true",
                   help="ignore review sidecars <stem>.blotquant.json (default: apply them)")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar (default: show one)")


def shared_parameter_names() -> tuple:
    """CLI parameter names both engines have: they get ``--blot-`` / ``--ihc-`` options."""
    blot = {n for n, *_ in BlotParams.cli_fields()}
    ihc = {n for n, *_ in IHCParams.cli_fields()} | {n for n, *_ in CellParams.cli_fields()}
    return tuple(sorted(blot & ihc))


def _add_prefixed(p: argparse.ArgumentParser, cls, prefix: str, names) -> None:
    """``--<prefix>-NAME`` options for parameters whose name both engines use."""
    if not names:
        return
    grp = p.add_argument_group(f"{cls.domain} analysis parameters (shared names)")
    for name, opt, spec, default in cls.cli_fields():
        if name not in names:
            continue
        shown = "automatic" if default is None else default
        grp.add_argument(f"--{prefix}-{opt[2:]}", dest=f"{prefix}__{name}", default=None,
                         metavar=spec.metavar or name.upper(),
                         help=f"{spec.help} (default: {shown})".replace("%", "%%"))


def add_parameter_options(p: argparse.ArgumentParser) -> None:
    """One option per ``BlotParams`` and ``IHCParams`` field (shared names prefixed)."""
    shared = shared_parameter_names()
    clash = [n for n in (*BlotParams.names(), *IHCParams.names()) if n in OWN_OPTIONS]
    if clash:  # pragma: no cover - caught by the tests when a model grows such a field
        raise RuntimeError(f"parameter names clash with batch options: {clash}")
    BlotParams.add_arguments(p, exclude=shared)
    IHCParams.add_arguments(p, exclude=shared)
    _add_prefixed(p, BlotParams, "blot", shared)
    _add_prefixed(p, IHCParams, "ihc", shared)


def models_from_args(args) -> tuple[BlotParams, IHCParams]:
    """The ``BlotParams`` and ``IHCParams`` of the options given (validated).

    Raises
    ------
    ParameterError
        A value the model refuses, named by its option.
    """
    shared = shared_parameter_names()
    over = {"blot": {}, "ihc": {}}
    for engine in over:
        for name in shared:
            v = getattr(args, f"{engine}__{name}", None)
            if v is not None:
                over[engine][name] = v
    try:
        blot = BlotParams.from_namespace(args, **over["blot"])
        ihc = IHCParams.from_namespace(args, **over["ihc"])
    except ParameterError as err:
        name, _, rest = err.problem.partition(": ")
        known = {*BlotParams.names(), *IHCParams.names(), *CellParams.names()}
        if name not in known or not rest:
            raise
        engine = next((e for e in over if name in over[e]), None)
        opt = f"--{engine}-" if engine else "--"
        raise ParameterError(f"{opt}{name.replace('_', '-')}: {rest}") from None
    return blot, ihc


def register(subparsers) -> None:
    p = subparsers.add_parser("batch", help=HELP, description=DESCRIPTION,
                              formatter_class=_Formatter)
    p.add_argument("source", metavar="FOLDER_OR_SHEET",
                   help="folder of images or a .csv sample sheet")
    p.add_argument("--out", "-o", required=True, metavar="FOLDER",
                   help="output folder (created; a batch output folder is resumed; "
                        "other results there are refused unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="also write into a folder that holds other results (default: refuse)")
    p.add_argument("--sheet", metavar="CSV", default=None,
                   help="sample sheet for a FOLDER, its paths relative to FOLDER "
                        "(default: none, every image file of FOLDER)")
    p.add_argument("--kind", choices=("auto", "blot", "ihc"), default=None,
                   help="treat every image as this kind (default: the sheet's kind "
                        "column, else auto: by colour)")
    p.add_argument("--recursive", "-r", action="store_true",
                   help="scan the sub-folders of FOLDER too (default: FOLDER only)")
    add_execution_options(p)
    add_parameter_options(p)
    p.set_defaults(func=run)


def print_summary(res, out=None) -> None:
    """What a batch did and where its files are."""
    out = sys.stdout if out is None else out
    p = res.paths
    print(f"blotquant batch: {res.n_images} images: {res.n_done} analysed, "
          f"{res.n_skipped} already done (resumed), {res.n_failed} failed "
          f"[{res.seconds:.1f} s]", file=out)
    for name in ("bands", "lanes", "normalized", "ihc_regions", "ihc_cells"):
        if name in p:
            print(f"  {name + ':':13s}{p[name]}", file=out)
    if "errors" in p:
        print(f"  {'errors:':13s}{p['errors']}", file=out)
    if "report" in p:
        print(f"  {'report:':13s}{p['report']}", file=out)
    if res.n_failed:
        print(f"blotquant batch: {res.n_failed} file(s) failed; see {p.get('errors')}",
              file=sys.stderr)


def run(args) -> int:
    from ..batch.run import run_batch

    blot, ihc = models_from_args(args)
    res = run_batch(args.source, args.out, sheet=args.sheet, workers=args.workers,
                    scheduler=args.scheduler, processes=not args.threads, fmt=args.fmt,
                    kind=args.kind, blot_params=blot, ihc_params=ihc,
                    recursive=args.recursive, progress=not args.quiet,
                    report=not args.no_report, qc=not args.no_qc,
                    use_sidecars=not args.no_sidecars, overwrite=args.overwrite)
    print_summary(res)
    return res.exit_status
