"""Lane, row and polarity counts on real blot images against person-counted truth.

Run:  python benchmarks/bench_blot_real.py [--data ../shared/data/blots] [--qc OUTDIR]
          [--mirror lr|ud] [NAME ...]

The images and ``truth.json`` live outside the repository (test-only data, no
licence to ship).  For every image the fully automatic run
(``quantify_blot(image)``) is compared with what a person counted:

- lanes: the lanes per strip, top to bottom.  Side-by-side strips (replicate
  groups of a film, framed panels next to each other) are compared as the
  lanes of each reported strip split at wide gaps (>= 1.7 lane pitches), left
  to right within a band of strips at the same height;
- rows: per strip, right when ``rows <= found <= rows + faint_rows``;
- polarity: ``params["polarity_used"]``;
- lanes in total (informative, not a pass criterion): the image's lane count,
  strips and groups aside (groups that touch are shown only by printed brackets).

An image is ``sure`` for lanes (rows) unless its ``confidence`` text calls the
lanes (rows) unsure.  Prints one line per image and the totals.

``--mirror lr`` (``ud``) runs every image flipped left-right (upside down; the
truth's strips then run bottom to top; a figure page's strips are compared in
the reading order of the original figure, see ``strip_order``).  A person counts a mirrored blot the
same, so the mirrored runs are a check on held-out images: an engine that gets
an image right only one way round fits that image, not blots.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "blots"


def sure_parts(confidence: str) -> dict:
    """Which counts a person was sure of: ``{"lanes": bool, "rows": bool}``."""
    c = confidence.lower()
    out = {"lanes": True, "rows": True}
    for m in re.finditer(r"unsure \(([^)]*)", c):
        what = m.group(1)
        if "lane" in what:
            out["lanes"] = False
        if "row" in what:
            out["rows"] = False
    if c.strip().startswith("unsure") and "(" not in c:
        out = {"lanes": False, "rows": False}
    return out


def strip_order(result, mirror: str | None = None) -> list[int] | None:
    """The strips of a figure page in the reading order of the *unmirrored* image.

    A person lists a figure's panels in reading order (column by column, top to
    bottom).  Mirroring a figure changes which panel is read first, so for a
    mirrored figure the strips are put back in the order of the original image:
    the pieces' boxes are mirrored back and ordered by
    :func:`blotquant.blot.panels.reading_order` (strips within a piece top to
    bottom of the original).  None for an unmirrored image or one that is no
    figure page (strips in their own order).
    """
    pieces = result.params.get("pieces_found")
    if not pieces or mirror is None:
        return None
    from blotquant.blot.panels import reading_order
    H, W = np.asarray(result.signal).shape
    boxes = []
    for p in pieces:
        r0, r1, c0, c1 = p["top"], p["bottom"] + 1, p["left"], p["right"]
        boxes.append((r0, r1, W - c1, W - c0) if mirror == "lr" else (H - r1, H - r0, c0, c1))
    out = []
    for i in reading_order(boxes):
        st = list(pieces[i].get("strips") or [])
        out += st[::-1] if mirror == "ud" else st
    return out


def lane_groups(result, order=None) -> list[list[int]]:
    """Lane counts per reported strip and, within a strip, per group split at wide gaps.

    Returns one list per strip (top to bottom, or in ``order``) holding the
    lane counts of its groups, left to right.
    """
    lanes = result.lanes[~result.lanes["is_ladder"].astype(bool)]
    out = []
    for s in (order or sorted(set(lanes["strip"]))):
        x = np.sort(lanes.loc[lanes["strip"] == s, "x"].to_numpy(float))
        if len(x) < 3:
            out.append([len(x)])
            continue
        gaps = np.diff(x)
        pitch = float(np.median(gaps))
        cuts = np.flatnonzero(gaps >= 1.7 * pitch)
        sizes = np.diff(np.r_[0, cuts + 1, len(x)]).tolist()
        out.append([int(v) for v in sizes])
    return out


def rows_per_strip(result, order=None) -> list[int]:
    b = result.bands
    det = b[~b["flags"].astype(str).str.contains("not_detected")]
    return [int(det.loc[det["strip"] == s, "row"].nunique())
            for s in (order or sorted(set(b["strip"])))]


def evaluate(result, truth: dict, mirror: str | None = None, original: dict | None = None) -> dict:
    """Compare one result with one truth.json entry.

    ``mirror``/``original``: the run was on a mirrored image and ``original`` is
    the unmirrored truth entry; a figure page's strips are then compared in
    the original reading order (:func:`strip_order`) with ``original``.
    """
    order = strip_order(result, mirror)
    if order is not None and original is not None:
        truth = original
    want = [int(v) for v in truth["strips"]]
    groups = lane_groups(result, order)
    per_strip = [sum(g) for g in groups]
    flat = [v for g in groups for v in g]
    lanes_ok = per_strip == want or flat == want
    # (informative only: the lane count of the whole image, strips or groups aside;
    # side-by-side groups that touch are shown by printed brackets alone)
    total_ok = sum(per_strip) == sum(want)
    rows = rows_per_strip(result, order)
    lo = [int(v) for v in truth["rows"]]
    hi = [a + int(b) for a, b in zip(truth["rows"], truth["faint_rows"])]
    if len(rows) == len(want):
        rows_ok = all(a <= r <= b for r, a, b in zip(rows, lo, hi))
    elif len(rows) == 1 and len(want) > 1 and flat == want:
        # side-by-side groups reported as one strip: its rows are every group's rows
        rows_ok = all(a <= rows[0] <= b for a, b in zip(lo, hi))
    else:
        rows_ok = False
    pol_ok = result.params.get("polarity_used") == truth["polarity"]
    return dict(want=truth, lanes_found=groups, lanes_ok=lanes_ok, lanes_total_ok=total_ok,
                rows_found=rows, rows_ok=rows_ok,
                polarity_ok=pol_ok, tilt_deg=result.params.get("tilt_deg"),
                row_slope_deg=result.params.get("row_slope_deg"))


def _mirrored(image, truth: dict, how: str | None):
    """The image flipped left-right ("lr") or upside down ("ud") and its truth entry."""
    if how is None:
        return image, truth
    from blotquant.image import Image
    a = np.asarray(image.data)
    a = np.ascontiguousarray(a[:, ::-1] if how == "lr" else a[::-1])
    if how == "ud":
        truth = dict(truth, strips=truth["strips"][::-1], rows=truth["rows"][::-1],
                     faint_rows=truth["faint_rows"][::-1])
    return Image(data=a, metadata=image.metadata), truth


def run(data: Path, names=None, qc: Path | None = None, mirror: str | None = None):
    from blotquant.blot import quantify_blot
    from blotquant.io import read_image

    truth = json.loads((data / "truth.json").read_text())["images"]
    rows = []
    for t in truth:
        if names and t["file"] not in names:
            continue
        sure = sure_parts(t["confidence"])
        t0 = time.perf_counter()
        try:
            t_orig = t
            img, t = _mirrored(read_image(data / t["file"]), t, mirror)
            r = quantify_blot(img, image_name=t["file"])
            ev = evaluate(r, t, mirror, t_orig)
        except Exception as err:  # report, do not stop the table
            r = None
            ev = dict(lanes_found=f"error: {err}", lanes_ok=False, lanes_total_ok=False,
                      rows_found="-",
                      rows_ok=False, polarity_ok=False, tilt_deg=None, row_slope_deg=None)
        t = ev.pop("want", t)
        ev.update(file=t["file"], want_lanes=t["strips"],
                  want_rows=[f"{a}-{a + b}" for a, b in zip(t["rows"], t["faint_rows"])],
                  sure_lanes=sure["lanes"], sure_rows=sure["rows"],
                  seconds=time.perf_counter() - t0)
        rows.append(ev)
        if qc is not None and r is not None:
            from blotquant.report.blot_qc import blot_qc_figure
            qc.mkdir(parents=True, exist_ok=True)
            blot_qc_figure(r, qc / (Path(t["file"]).stem + ".png"), title=t["file"])
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--qc", type=Path, default=None, help="write QC figures here")
    ap.add_argument("--mirror", choices=("lr", "ud"), default=None,
                    help="run every image flipped left-right or upside down")
    a = ap.parse_args(argv)
    if not (a.data / "truth.json").is_file():
        print(f"no truth.json in {a.data}: nothing to do")
        return 0
    res = run(a.data, a.names, a.qc, a.mirror)

    def mark(ok, sure):
        return ("ok" if ok else "WRONG") + ("" if sure else " (unsure)")

    print("| image | lanes truth | lanes found | lanes | rows truth | rows found | rows | "
          "polarity | tilt / row slope deg | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for e in res:
        tl = e["tilt_deg"]
        rs = e["row_slope_deg"]
        ang = "-" if tl is None else f"{tl:.1f} / {rs if rs is None else round(rs, 1)}"
        print(f"| {e['file']} | {e['want_lanes']} | {e['lanes_found']} | "
              f"{mark(e['lanes_ok'], e['sure_lanes'])} | {e['want_rows']} | {e['rows_found']} | "
              f"{mark(e['rows_ok'], e['sure_rows'])} | {'ok' if e['polarity_ok'] else 'WRONG'} | "
              f"{ang} | {e['seconds']:.1f} |", flush=True)
    for key in ("lanes", "rows"):
        sure = [e for e in res if e[f"sure_{key}"]]
        uns = [e for e in res if not e[f"sure_{key}"]]
        print(f"{key}: sure {sum(e[f'{key}_ok'] for e in sure)}/{len(sure)}, "
              f"unsure {sum(e[f'{key}_ok'] for e in uns)}/{len(uns)}")
    sure = [e for e in res if e["sure_lanes"]]
    print(f"lanes in total (all strips together, informative): sure "
          f"{sum(e['lanes_total_ok'] for e in sure)}/{len(sure)}")
    print(f"polarity: {sum(e['polarity_ok'] for e in res)}/{len(res)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
