"""``blotquant ihc``: score one H-DAB image (H-score, % positive, Allred, IRS).

Writes into ``--out``: ``summary.csv`` (one row per region), ``cells.csv``
(one row per cell; header only in pixel mode), ``params.json`` (every
parameter, white point and stain vectors used), ``<stem>_overlay.png`` (class
colours over the image) and ``<stem>_figure.png`` (image | classes | DAB OD).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


from ..errors import BlotquantError, ParameterError
from ..ihc.params import IHCParams
from . import _output, _sidecar

HELP = "score an IHC (H-DAB) image: H-score, %% positive, Allred, IRS per region"

EPILOG = """\
writes into --out: summary.csv (one row per region), cells.csv (one row per
cell; header only in pixel mode), params.json (every parameter, the white
point and stain vectors used), <stem>_overlay.png (class colours: blue
negative, yellow 1+, orange 2+, red 3+) and <stem>_figure.png.
DAB OD is in QuPath units (log10), so QuPath thresholds carry over; see docs/ihc.md."""


def register(subparsers) -> None:
    p = subparsers.add_parser("ihc", help=HELP, description=HELP.replace("%%", "%") + ".",
                              epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", help="RGB brightfield image (TIFF, PNG, JPEG, SVS, ...)")
    _output.add_output_arguments(p)
    p.add_argument("--roi", default=None, metavar="GEOJSON",
                   help="QuPath GeoJSON of include/exclude regions (level-0 pixel coordinates)")
    IHCParams.add_arguments(p)
    _output.add_page_argument(p, "--page", "which image of a file that holds several (a "
                              "multi-image TIFF), from 1")
    p.add_argument("--no-tissue", action="store_true",
                   help="score every pixel (no tissue detection; same as --tissue false)")
    _sidecar.add_arguments(p)
    from ._slide import add_slide_arguments
    add_slide_arguments(p)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv",
                   help="table format (default: csv)")
    p.set_defaults(func=run)


def params_from_args(args: argparse.Namespace) -> IHCParams:
    """The :class:`IHCParams` of a parsed ``blotquant ihc`` command line.

    ``--stains FILE.json`` is read here (a 2x3/3x3 matrix or
    ``{hematoxylin, dab[, residual]}``); every value goes through the model's
    checks, and an error names the option.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    IHCParams
    """
    over = {}
    if getattr(args, "stains", None) not in (None, "default", "qupath", "estimate"):
        over["stains"] = _read_stains(args.stains)
    if getattr(args, "no_tissue", False):
        over["tissue"] = False
    try:
        return IHCParams.from_namespace(args, **over)
    except ParameterError as err:
        name = err.problem.split(":", 1)[0]
        raise ParameterError("--" + name.replace("_", "-") + err.problem[len(name):]) from None


def _read_stains(spec: str):
    if spec in ("default", "qupath", "estimate"):
        return spec
    path = Path(spec)
    if not path.is_file():
        raise ParameterError(
            f"--stains {spec!r}: not 'default', 'qupath', 'estimate' or an existing JSON file")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ParameterError(f"cannot read stain vectors: {err}", path=path) from None
    if isinstance(obj, dict) and "stains" in obj:
        obj = obj["stains"]
    from ..ihc.deconvolution import as_stain_matrix
    try:
        return as_stain_matrix(obj)
    except ParameterError as err:
        raise ParameterError(err.problem, path=path) from None


def _level(image, level, path, regions):
    """The pyramid level ``--level`` asks for (the image itself for None / 0)."""
    if level is None or level == 0:
        return image
    n = len(image.levels)
    if level >= n:
        raise ParameterError(f"--level {level}: this image has {n} pyramid level(s) "
                             f"(0-{n - 1})", path=path)
    if regions is not None:
        raise ParameterError(f"--level {level} with --roi: regions are in level-0 pixels; "
                             "score level 0, or review the level in napari")
    import numpy as np
    from ..image import Image
    data = np.asarray(image.levels[level])
    ds = float(image.levels[0].shape[0]) / float(data.shape[0])
    md = image.metadata
    changes = {"shape": tuple(data.shape)}
    if md.pixel_size_um is not None:
        changes["pixel_size_um"] = tuple(p * ds for p in md.pixel_size_um)
    return Image(data, md.replace(**changes))


def run(args) -> int:
    from ..io import read_image

    # everything the user typed is checked before any image is read
    model = params_from_args(args)
    page = _output.page_number(args.page, "--page")
    regions = None
    if args.roi:
        from ..ihc.regions import read_geojson
        regions = read_geojson(args.roi)
        if not regions:   # scoring the whole image instead would look like an answer
            raise ParameterError("no polygon region in this GeoJSON file (points, lines and "
                                 "features without geometry are ignored); export the "
                                 "annotations from QuPath as polygons", path=args.roi)
    staged = _output.StagedOutput(args.out, overwrite=args.overwrite,
                                  inputs=[args.image, args.roi, args.corrections],
                                  replace=True)

    image = read_image(args.image, mode="rgb", page=page)
    turned = image.metadata.extra.get("exif_orientation")
    if regions is not None and turned:
        # the pixels are turned as viewers show them; region files drawn on the stored
        # pixels (QuPath and ImageJ read JPEGs without turning them) would not match
        raise ParameterError(
            f"this image carries an Exif orientation ({turned}) that blotquant applies and "
            "QuPath does not, so the --roi regions would not lie on the same pixels; save "
            "the image turned upright without the orientation tag, and draw the regions on "
            "that file", path=args.image)
    # a review sidecar (napari) wins: its parameters, regions and slide level, as reviewed
    review, sidecar = _sidecar.find_review(args, image, args.image, "ihc")
    from . import _slide
    if _slide.is_slide(image):
        # whole slides: tiled at full resolution (or the chosen level), level-0 regions
        params = review.params if review is not None else model
        regs = review.regions if review is not None else regions
        with staged as out:
            return _slide.run_slide(args, image, params, regions=regs, sidecar=sidecar,
                                    out_dir=out)
    # (imported here: a slide starts its tiles without waiting for pandas and scikit-image)
    from ..ihc import score_ihc
    from ..ihc.score import prepare_rgb
    from ..report.ihc_overlay import save_overlay, save_overlay_figure
    from ..tables import write_json, write_table

    if review is not None:
        scored, kw = review.prepare(image)
    else:
        scored, kw = _level(image, model.level, args.image, regions), {"params": model}
        if regions is not None:
            kw["regions"] = regions
    try:
        res = score_ihc(scored, image_name=Path(args.image).name, **kw)
    except BlotquantError as err:
        if err.path is None:   # the core does not know the file: name it
            raise type(err)(err.problem, path=args.image) from None
        raise
    from ..batch.worker import require_scored
    require_scored(res, args.image)
    stem = Path(args.image).stem
    rgb8, _ = prepare_rgb(scored)
    with staged as out:
        write_table(res.summary, out / "summary.csv", fmt=args.format)
        write_table(res.cells, out / "cells.csv", fmt=args.format)
        params = dict(res.params)
        params.update({"image": str(args.image), "page": page, "roi": args.roi,
                       "corrections": sidecar,
                       "image_metadata": image.metadata.as_dict()})
        write_json(params, out / "params.json")
        save_overlay(rgb8, res.class_map, out / f"{stem}_overlay.png", regions=res.region_masks)
        save_overlay_figure(rgb8, res, out / f"{stem}_figure.png", title=Path(args.image).name)
    print_scores(res)
    return 0


def print_scores(res) -> None:
    """One line per region (n, H-score, % positive, Allred, IRS), then, in cell mode, the
    cell-vs-pixel verdict per region (:func:`blotquant.ihc.compare.compare_modes`).

    Parameters
    ----------
    res : IHCResult or SlideResult
        A scored image or slide (``summary``, ``cells``, ``params``).
    """
    from ..ihc.compare import compare_modes, comparison_text

    for _, row in res.summary.iterrows():
        print(f"{row['image']}\t{row['region']}\tn={row['n']}\tH-score={row['h_score']:.1f}\t"
              f"positive={row['pct_positive']:.1f}%\tAllred={row['allred']}\tIRS={row['irs']}")
    for row in compare_modes(res.summary, res.cells, params=res.params).to_dict("records"):
        print(f"{res.summary['image'].iloc[0]}\t{comparison_text(row)}")
    note = (res.params or {}).get("stain_note")
    if note and len(res.summary):
        print(f"warning: {res.summary['image'].iloc[0]}: {note}", file=sys.stderr)
