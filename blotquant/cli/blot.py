"""``blotquant blot``: quantify one blot image (optionally a loading-control image).

Writes ``bands.csv``, ``lanes.csv``, ``normalized.csv`` (when a control is
known), ``params.json`` and ``qc.png`` into ``--out``.  Every analysis option
comes from :class:`~blotquant.blot.params.BlotParams` (one definition of each
default and check); the command reads, calls the core and writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..blot.params import BlotParams
from ..errors import BlotquantError, InvalidImageError, ParameterError
from . import _output, _sidecar

HELP = "quantify a western blot image"
DESCRIPTION = ("Find lanes and band rows, subtract background, measure band volumes "
               "(background-subtracted integrated intensity, raw units x pixels) and "
               "normalize target to loading control per lane.")


def register(subparsers) -> None:
    p = subparsers.add_parser("blot", help=HELP, description=DESCRIPTION)
    p.add_argument("image", help="blot image (TIFF, PNG, JPEG, .gel, .scn, ...)")
    p.add_argument("image2", nargs="?", default=None,
                   help="optional loading-control image of the same membrane (same lane order)")
    _output.add_output_arguments(p)
    BlotParams.add_arguments(p)
    p.add_argument("--control-rows", default=None, metavar="NAMES",
                   help="row names of the control image (default: the --control name)")
    _output.add_page_argument(p, "--page", "which image of a file that holds several (a "
                              "multi-image TIFF, e.g. chemiluminescence + marker overlay, or a "
                              "channel stack), from 1")
    _output.add_page_argument(p, "--control-page", "the same for the loading-control image "
                              "(it may be the same file as the image: e.g. --page 1 "
                              "--control-page 2 for a two-channel fluorescent scan)")
    _sidecar.add_arguments(p)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv",
                   help="table format (default: csv)")
    p.set_defaults(func=run)


def params_from_args(args: argparse.Namespace) -> BlotParams:
    """The :class:`BlotParams` of a parsed ``blotquant blot`` command line.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    BlotParams
        Validated; a bad value raises :class:`~blotquant.errors.ParameterError`
        naming the option.
    """
    try:
        return BlotParams.from_namespace(args)
    except ParameterError as err:
        name = err.problem.split(":", 1)[0]
        raise ParameterError("--" + name.replace("_", "-") + err.problem[len(name):]) from None


def _pairing(res, res2, model: BlotParams):
    """Target/control ratios through the core's one pairing policy (or None: nothing to pair)."""
    from ..blot.normalize import pair_blots
    if res2 is None and len(res.rows) < 2:
        if model.control is not None or model.target is not None:
            row = res.rows[0] if res.rows else "none"
            raise ParameterError(f"--control/--target: the image has one row ({row}) and no "
                                 "loading-control image was given")
        return None
    return pair_blots(res, res2, model)


def _read_blot(path, page=None, option="--page"):
    """Read a blot image; an IHC-like colour field is refused (it has no gray bands)."""
    from ..batch.worker import decide_kind
    from ..io import read_image
    img = read_image(path, page=page)
    md = img.metadata
    if md.axes == "CYX":
        names = f" ({', '.join(md.channel_names)})" if md.channel_names else ""
        raise InvalidImageError(
            f"holds {img.shape[0]} image planes{names} of {img.shape[1]} x {img.shape[2]} "
            "pixels (pages or channels, e.g. a chemiluminescence image and its marker "
            "overlay): blotquant measures one gray image and cannot tell which plane is the "
            f"blot; choose it with {option} N (1 to {img.shape[0]}) or save the plane to "
            "analyse as its own file", path=path)
    if decide_kind(img) == "ihc":
        raise InvalidImageError("is a colour image whose channels differ (an IHC / "
                                "brightfield stain?), not a blot: score it with "
                                "'blotquant ihc'; a pseudo-coloured (false-colour lookup "
                                "table) export of a blot does not hold the measured counts: "
                                "export the blot as a grayscale image",
                                path=path)
    return img


def _quantify(img, path, **kw):
    """:func:`quantify_blot`; an error of the core that names no file names this one."""
    from ..blot import quantify_blot
    try:
        return quantify_blot(img, image_name=Path(path).name, **kw)
    except BlotquantError as err:
        if err.path is None:
            raise type(err)(err.problem, path=path) from None
        raise


def run(args) -> int:
    from ..report.blot_qc import blot_qc_figure
    from ..tables import write_json, write_table

    # everything the user typed is checked before any image is read
    model = params_from_args(args)
    page = _output.page_number(args.page, "--page")
    control_page = _output.page_number(args.control_page, "--control-page")
    control_rows = None
    if args.control_rows is not None:
        control_rows = BlotParams(rows=args.control_rows).rows
    if args.image2 is None and control_rows is not None:
        raise ParameterError("--control-rows needs a second (loading-control) image")
    if args.image2 is None and control_page is not None:
        raise ParameterError("--control-page needs a second (loading-control) image")
    staged = _output.StagedOutput(args.out, overwrite=args.overwrite,
                                  inputs=[args.image, args.image2, args.corrections],
                                  replace=True)

    img = _read_blot(args.image, page)
    # a review sidecar (napari) wins: its parameters and geometry, exactly as reviewed
    review, sidecar = _sidecar.find_review(args, img, args.image, "blot")
    kw = review.kwargs() if review is not None else {"params": model}
    res = _quantify(img, args.image, **kw)
    res2 = sidecar2 = None
    if args.image2:
        img2 = _read_blot(args.image2, control_page, "--control-page")
        crows = control_rows or ((model.control,) if model.control else None)
        # a review sidecar belongs to a file; another page of the target's own file
        # (a second channel) has none of its own
        other_page = (Path(args.image2).resolve() == Path(args.image).resolve()
                      and (page or 1) != (control_page or 1))
        review2, sidecar2 = _sidecar.find_review(
            argparse.Namespace(out=args.out, corrections=None,
                               no_corrections=args.no_corrections or other_page),
            img2, args.image2, "blot")
        kw2 = review2.kwargs() if review2 is not None else {"params": model.replace(rows=crows)}
        res2 = _quantify(img2, args.image2, **kw2)
    pairing = _pairing(res, res2, model)
    norm = pairing.table if pairing is not None else None

    import pandas as pd
    fmt = args.format
    with staged as out:
        bands = res.bands if res2 is None else pd.concat([res.bands, res2.bands],
                                                         ignore_index=True)
        lanes = res.lanes if res2 is None else pd.concat([res.lanes, res2.lanes],
                                                         ignore_index=True)
        write_table(bands, out / f"bands.{fmt}")
        write_table(lanes, out / f"lanes.{fmt}")
        if norm is not None and len(norm):
            write_table(norm, out / f"normalized.{fmt}")
        params = {"image": str(args.image), "image2": args.image2, "page": page,
                  "control_page": control_page, "corrections": sidecar,
                  **res.params, "metadata": res.metadata.as_dict()}
        if pairing is not None:
            params["pairing"] = pairing.to_dict()
        if res2 is not None:
            params["control_params"] = res2.params
            params["control_corrections"] = sidecar2
        write_json(params, out / "params.json")
        blot_qc_figure(res, out / "qc.png")
        if res2 is not None:
            blot_qc_figure(res2, out / "qc_control.png")
    for warning in (pairing.warnings if pairing is not None else ()):
        print(f"warning: {warning}", file=sys.stderr)
    n_sat = int(res.bands["saturated"].sum()) if len(res.bands) else 0
    print(f"{args.image}: {len(res.lanes)} lanes, rows {', '.join(map(str, res.rows))}, "
          f"{len(res.bands)} bands ({n_sat} saturated) -> {staged.out}")
    return 0
