"""``blotquant blot``: quantify one blot image (optionally a loading-control image).

Writes ``bands.csv``, ``lanes.csv``, ``normalized.csv`` (when a control is
known), ``params.json`` and ``qc.png`` into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ParameterError
from . import _sidecar

BACKGROUND_CHOICES = ("lane-fit", "lane-minima", "rolling-ball", "border", "none")


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "blot", help="quantify a western blot image",
        description="Find lanes and band rows, subtract background, measure band volumes and "
                    "normalize target to loading control per lane.")
    p.add_argument("image", help="blot image (TIFF, PNG, JPEG, .gel, .scn, ...)")
    p.add_argument("image2", nargs="?", default=None,
                   help="optional loading-control image of the same membrane (same lane order)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--lanes", type=_positive_int, default=None,
                   help="number of lanes (per strip); default: found automatically")
    p.add_argument("--rows", default=None,
                   help="band row names top to bottom, comma separated (e.g. ASNS,ACTB)")
    p.add_argument("--control", default=None,
                   help="row name of the loading control (default: the last row, or the "
                        "control image's first row)")
    p.add_argument("--control-rows", default=None,
                   help="row names of the control image (default: the --control name)")
    p.add_argument("--reference-lane", type=_positive_int, default=1,
                   help="lane whose ratio is 1.0 (default 1)")
    p.add_argument("--background", choices=BACKGROUND_CHOICES, default="lane-fit",
                   help="background method (default lane-fit)")
    p.add_argument("--radius", type=_positive_float, default=50.0,
                   help="rolling-ball radius in px (default 50)")
    p.add_argument("--sensitivity", type=_positive_float, default=0.5,
                   help="band detection sensitivity in (0, 1] (default 0.5)")
    p.add_argument("--polarity", choices=("auto", "dark-on-light", "light-on-dark"),
                   default="auto")
    _sidecar.add_arguments(p)
    p.add_argument("--format", choices=("csv", "parquet", "xlsx"), default="csv",
                   help="table format (default csv)")
    p.set_defaults(func=run)


def _names(text):
    if text is None:
        return None
    names = [t.strip() for t in str(text).split(",") if t.strip()]
    if not names:
        raise ParameterError(f"--rows needs at least one name, got {text!r}")
    return names


def _ref_lane(bands, row, reference_lane):
    """The reference lane counted within the strip of ``row`` (lanes are numbered
    on across strips, so lane 1 of the second strip has a larger number)."""
    sub = bands[bands["row"] == row]
    if "strip" not in sub.columns or len(sub) == 0:
        return reference_lane
    first = int(bands.loc[bands["strip"] == sub["strip"].iloc[0], "lane"].min())
    return first + reference_lane - 1 if first > 1 else reference_lane


def _strongest_row_on_strip(bands, row, control_bands):
    """Control row on the same strip as ``row`` with the largest median volume."""
    sub = bands[bands["row"] == row]
    if len(sub) == 0 or len(control_bands) == 0:
        return None
    cb = control_bands[control_bands["strip"] == sub["strip"].iloc[0]]
    if len(cb) == 0:
        return None
    return str(cb.groupby("row")["volume"].median().idxmax())


def run(args) -> int:
    from ..blot import normalize, quantify_blot
    from ..io import read_image
    from ..report.blot_qc import blot_qc_figure
    from ..tables import write_json, write_table

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} exists and is not a folder")
    if args.sensitivity > 1:
        raise ParameterError(f"--sensitivity must be in (0, 1], got {args.sensitivity}")
    rows = _names(args.rows)
    common = dict(lanes=args.lanes, background=args.background, radius=args.radius,
                  sensitivity=args.sensitivity, polarity=args.polarity)
    img = read_image(args.image)
    kw = dict(common, rows=rows)
    corr_kw, sidecar = _sidecar.sidecar_kwargs(args, img, args.image, "blot")
    kw.update(corr_kw)
    res = quantify_blot(img, image_name=Path(args.image).name, **kw)
    out.mkdir(parents=True, exist_ok=True)
    fmt = args.format
    write_table(res.bands, out / f"bands.{fmt}")
    write_table(res.lanes, out / f"lanes.{fmt}")
    params = {"image": str(args.image), "image2": args.image2, "corrections": sidecar,
              **res.params,
              "metadata": res.metadata.as_dict()}
    blot_qc_figure(res, out / "qc.png")
    norm = None
    if args.image2:
        img2 = read_image(args.image2)
        crows = _names(args.control_rows) or ([args.control] if args.control else None)
        kw2 = dict(common, rows=crows)
        corr_kw2, sidecar2 = _sidecar.sidecar_kwargs(
            argparse.Namespace(out=args.out, corrections=None,
                               no_corrections=args.no_corrections),
            img2, args.image2, "blot")
        kw2.update(corr_kw2)
        res2 = quantify_blot(img2, image_name=Path(args.image2).name, **kw2)
        import pandas as pd
        write_table(pd.concat([res.bands, res2.bands], ignore_index=True),
                    out / f"bands.{fmt}")
        write_table(pd.concat([res.lanes, res2.lanes], ignore_index=True),
                    out / f"lanes.{fmt}")
        blot_qc_figure(res2, out / "qc_control.png")
        params["control_params"] = res2.params
        params["control_corrections"] = sidecar2
        control = args.control or res2.rows[0]
        parts = []
        for i, target in enumerate(res.rows):
            # same membrane: pair each target row with the control row at the same
            # position when the counts match, else with the named/first control row
            if args.control is not None:
                crow = args.control
            elif len(res2.rows) == len(res.rows):
                crow = res2.rows[i]
            else:
                crow = _strongest_row_on_strip(res.bands, target, res2.bands) or control
            try:
                parts.append(normalize(res.bands, target=target, control=crow,
                                       control_bands=res2.bands,
                                       reference_lane=_ref_lane(res.bands, target,
                                                                args.reference_lane)))
            except ParameterError as err:
                print(f"note: {target} / {crow} not normalized: {err}")
        norm = pd.concat(parts, ignore_index=True) if parts else None
    elif len(res.rows) >= 2:
        import pandas as pd
        control = args.control or res.rows[-1]
        if control not in res.rows:
            raise ParameterError(f"--control {control!r} is not a row; rows are {res.rows}")
        parts = []
        for t in res.rows:
            if t == control:
                continue
            try:
                parts.append(normalize(res.bands, target=t, control=control,
                                       reference_lane=_ref_lane(res.bands, t,
                                                                args.reference_lane)))
            except ParameterError as err:
                if args.control is not None:
                    raise
                # e.g. rows on strips with different lanes: nothing to pair
                print(f"note: {t} / {control} not normalized: {err}")
        norm = pd.concat(parts, ignore_index=True) if parts else None
    if norm is not None:
        write_table(norm, out / f"normalized.{fmt}")
    write_json(params, out / "params.json")
    n_sat = int(res.bands["saturated"].sum()) if len(res.bands) else 0
    print(f"{args.image}: {len(res.lanes)} lanes, rows {', '.join(map(str, res.rows))}, "
          f"{len(res.bands)} bands ({n_sat} saturated) -> {out}")
    return 0
