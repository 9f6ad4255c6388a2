"""``blotquant ihc``: score one H-DAB image (H-score, % positive, Allred, IRS).

Writes into ``--out``: ``summary.csv`` (one row per region), ``cells.csv``
(one row per cell; header only in pixel mode), ``params.json`` (every
parameter, white point and stain vectors used), ``<stem>_overlay.png`` (class
colours over the image) and ``<stem>_figure.png`` (image | classes | DAB OD).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from . import _sidecar

HELP = "score an IHC (H-DAB) image: H-score, %% positive, Allred, IRS per region"

EPILOG = """\
writes into --out: summary.csv (one row per region), cells.csv (one row per
cell; header only in pixel mode), params.json (every parameter, the white
point and stain vectors used), <stem>_overlay.png (class colours: blue
negative, yellow 1+, orange 2+, red 3+) and <stem>_figure.png.
DAB OD is in QuPath units (log10), so QuPath thresholds carry over; see docs/ihc.md."""


def register(subparsers) -> None:
    p = subparsers.add_parser("ihc", help=HELP, description=HELP + ".", epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("image", help="RGB brightfield image (TIFF, PNG, JPEG, SVS, ...)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--mode", choices=("cell", "pixel"), default="cell",
                   help="score detected cells (default) or every tissue pixel")
    p.add_argument("--roi", default=None, metavar="GEOJSON",
                   help="QuPath GeoJSON of include/exclude regions (pixel coordinates)")
    p.add_argument("--thresholds", default="0.2,0.4,0.6",
                   help="DAB OD thresholds for 1+,2+,3+ (QuPath units; default 0.2,0.4,0.6)")
    p.add_argument("--stains", default="default",
                   help="'default' (Ruifrok-Johnston), 'qupath', 'estimate', or a JSON file "
                        "with a 2x3/3x3 matrix or {hematoxylin, dab[, residual]}")
    p.add_argument("--white-point", default="auto",
                   help="'auto' (estimate from glass), a number (255) or r,g,b")
    p.add_argument("--pixel-size", type=float, default=None, metavar="UM",
                   help="pixel size in um (default: from the file)")
    p.add_argument("--compartment", choices=("cytoplasm", "nucleus", "cell"),
                   default="cytoplasm", help="cell mode: compartment scored (ASNS: cytoplasm)")
    p.add_argument("--measure", choices=("mean", "max"), default="mean")
    p.add_argument("--no-tissue", action="store_true",
                   help="score every pixel (no tissue detection)")
    _sidecar.add_arguments(p)
    from ._slide import add_slide_arguments
    add_slide_arguments(p)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv",
                   help="table format")
    p.set_defaults(func=run)


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


def run(args) -> int:
    from ..io import read_image
    from ..ihc import score_ihc
    from ..report.ihc_overlay import save_overlay, save_overlay_figure
    from ..tables import write_json, write_table

    image = read_image(args.image, mode="rgb")
    stains = _read_stains(args.stains)
    regions = None
    if args.roi:
        from ..ihc.regions import read_geojson
        regions = read_geojson(args.roi)
    kw = dict(mode=args.mode, thresholds=args.thresholds, stains=stains,
              white_point=args.white_point, regions=regions,
              pixel_size_um=args.pixel_size, compartment=args.compartment,
              measure=args.measure, tissue=not args.no_tissue)
    corr_kw, sidecar = _sidecar.sidecar_kwargs(args, image, args.image, "ihc")
    kw.update(corr_kw)
    from . import _slide
    if _slide.is_slide(image):
        from ..ihc.score import resolve_params
        regs = kw.pop("regions", None)
        return _slide.run_slide(args, image, resolve_params(None, kw), regions=regs,
                                sidecar=sidecar)
    try:
        res = score_ihc(image, image_name=Path(args.image).name, **kw)
    except ParameterError as err:
        if err.path is None:
            raise ParameterError(err.problem, path=args.image) from None
        raise
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.image).stem
    write_table(res.summary, out / "summary.csv", fmt=args.format)
    write_table(res.cells, out / "cells.csv", fmt=args.format)
    params = dict(res.params)
    params.update({"image": str(args.image), "roi": args.roi, "corrections": sidecar,
                   "image_metadata": image.metadata.as_dict()})
    write_json(params, out / "params.json")
    rgb = np.asarray(image.data)
    if rgb.ndim == 3 and rgb.shape[-1] == 4:
        rgb = rgb[..., :3]
    from ..ihc.score import prepare_rgb
    rgb8, _ = prepare_rgb(rgb)
    save_overlay(rgb8, res.class_map, out / f"{stem}_overlay.png", regions=res.region_masks)
    save_overlay_figure(rgb8, res, out / f"{stem}_figure.png", title=Path(args.image).name)
    for _, row in res.summary.iterrows():
        print(f"{row['image']}\t{row['region']}\tn={row['n']}\tH-score={row['h_score']:.1f}\t"
              f"positive={row['pct_positive']:.1f}%\tAllred={row['allred']}\tIRS={row['irs']}")
    return 0
