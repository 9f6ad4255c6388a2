"""IHC scores of real fields under changes a pathologist does not see as a different slide.

Run:  python benchmarks/bench_ihc_invariance.py [--data ../shared/data/ihc]
          [--variants x0.5,x0.7,...] [--fields Bladder1,colon] [--no-given]
          [--json OUT.json] [--from-json OUT.json] [--cell-param KEY=VALUE]

Held-out fields come from other scanners, exports and magnifications.  Every
real H-DAB field (the DeepLIIF Ki67 tiles ``*_ihc.png``, the three
``large_ROI_*`` fields, the skimage colon) is scored with
:func:`blotquant.ihc.score_ihc` as it is and as each variant below:

- ``x0.5``, ``x0.7`` (OpenCV area averaging) and ``x1.5`` (bilinear): resampled;
- ``jpeg75`` (4:2:0 chroma, OpenCV's default) and ``jpeg90``: re-encoded;
- ``wb``: a white-balance shift, R x 0.95 and B x 1.04, then clipped to 0-255;
- ``bright0.9``: every channel x 0.9 (a dimmer lamp or exposure);
- ``gamma0.9``, ``gamma1.1``: ``255 (v / 255) ** g`` (a display curve);
- ``rot90``, ``mirror``: rotated by 90 degrees, mirrored left-right (the same
  pixels: the numbers must agree up to tie-breaking).

Modes per field: pixel mode; cell mode with the marker of the field (nuclear
for the Ki67 tiles and ROIs, cytoplasmic for the colon) and no pixel size (so
it is estimated from the nuclei); and, where it is known (DeepLIIF: 40x,
~0.25 um/px), cell mode with the pixel size given (0.25 / f for a variant
resampled by f).

Per field, mode and variant: the scores (pixel H-score and % positive; cell
count, cell % positive and H-score), the estimated pixel size, the white point,
the angles of the stain vectors estimated from the variant (a diagnostic: the
default scoring uses the fixed Ruifrok-Johnston vectors), and the differences
to the original.  A variant is *within tolerance* when every check of its mode
passes (what a pathologist would accept as the same slide):

- pixel mode: |% positive diff| <= 3 points and |H-score diff| <= 10 (of 300);
- cell mode: the same two, cell count within 15 % of the original's (the field
  covers the same tissue at every scale, so the count itself is compared), and
  (pixel size estimated) the estimate within 15 % of the original's / f.

Prints the tables in Markdown and the totals ("all variants: X / N").  ``--json``
keeps every raw number, ``--from-json`` re-prints the tables from such a file
without scoring again.

``--white-point`` prints only the white-point sweep (no scoring of the real
fields in cell mode): the white point and its source of every real field as
it is, as each variant above and as the second scanner of
``bench_scanner.py`` (half the sampling, another colour response and glass,
with and without JPEG q80); and synthetic ``make_ihc`` fields with a known
white point, with glass, with glass only in small gaps and without glass, as
they are, resampled (x0.5, x0.25, x1.5), blurred (Gaussian sigma 1 and 2 px)
and re-encoded (JPEG q75): the white point against the truth, its source, and
the pixel-mode % positive and H-score against the field as it is and against
the truth.  For the DeepLIIF fields also the cell-mode % positive (nuclear, pixel
size estimated) of scan A and of the second scan with and without JPEG, as
``bench_scanner.py`` reports it with JPEG.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _variants import resample  # noqa: E402  (one resampling rule for the invariance benchmarks)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "ihc"
ALL_VARIANTS = ("x0.5", "x0.7", "x1.5", "jpeg75", "jpeg90", "wb", "bright0.9",
                "gamma0.9", "gamma1.1", "rot90", "mirror")
#: DeepLIIF's documented sampling (40x): about 0.25 um/px
DEEPLIIF_UM_PER_PX = 0.25
#: tolerances a pathologist would accept between two scans of one section
TOL_PCT = 3.0        # points of % positive
TOL_H = 10.0         # H-score points (0-300)
TOL_COUNT = 0.15     # relative cell count
TOL_SCALE = 0.15     # estimated pixel size vs original / f
#: cell-parameter overrides (``--cell-param``)
CELL_PARAMS: dict = {}


def scale_factor(name: str) -> float:
    """The linear resampling factor of a variant (1 for the others)."""
    return float(name[1:]) if name.startswith("x") else 1.0


def variant(rgb: np.ndarray, name: str) -> np.ndarray:
    """The uint8 RGB field ``rgb`` changed as ``name`` says."""
    if name == "orig":
        return rgb
    if name.startswith("x"):
        return resample(rgb, float(name[1:]))
    if name.startswith("jpeg"):
        q = int(name[4:])
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                               [cv2.IMWRITE_JPEG_QUALITY, q,
                                cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                                cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420])
        return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    if name == "wb":
        out = rgb.astype(np.float64) * np.array([0.95, 1.0, 1.04])
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if name.startswith("bright"):
        out = rgb.astype(np.float64) * float(name[6:])
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if name.startswith("gamma"):
        g = float(name[5:])
        out = 255.0 * (rgb.astype(np.float64) / 255.0) ** g
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if name == "rot90":
        return np.ascontiguousarray(np.rot90(rgb))
    if name == "mirror":
        return np.ascontiguousarray(rgb[:, ::-1])
    raise ValueError(f"unknown variant {name!r}")


def fields(data: Path):
    """(name, uint8 RGB, marker, known um/px or None) of every real field available."""
    out = []
    deep = data / "deepliif"
    if deep.is_dir():
        for f in sorted(deep.glob("*_ihc.png")) + sorted(deep.glob("large_ROI_*.png")):
            rgb = cv2.imread(str(f), cv2.IMREAD_COLOR)[..., ::-1]
            name = f.stem.replace("train_", "").replace("_ihc", "")
            out.append((name, np.ascontiguousarray(rgb), "nuclear", DEEPLIIF_UM_PER_PX))
    from skimage import data as skdata
    out.append(("colon", np.ascontiguousarray(skdata.immunohistochemistry()), "cytoplasmic", None))
    return out


def _stain_angles(rgb, res) -> tuple[float, float]:
    """Angles (deg) of the stain vectors estimated from ``rgb`` to the default vectors."""
    from blotquant.ihc.stains import estimate_stains
    try:
        est = estimate_stains(rgb, white_point=res.white_point,
                              mask=res.tissue_mask if res.tissue_mask.any() else None,
                              return_info=True)
        return tuple(round(float(a), 2) for a in est["angles_deg"])
    except Exception:   # too few stained pixels: no estimate
        return (math.nan, math.nan)


def score(rgb, mode: str, marker: str, pixel_size_um=None) -> dict:
    """The numbers of one ``score_ihc`` run."""
    from blotquant.ihc import score_ihc
    kw = {"mode": mode, "marker": marker}
    if pixel_size_um is not None:
        kw["pixel_size_um"] = pixel_size_um
    if mode == "cell" and CELL_PARAMS:
        kw["cell_params"] = CELL_PARAMS
    t0 = time.process_time()
    res = score_ihc(rgb, **kw)
    s = res.summary.iloc[0]
    p = res.params
    out = {"n": int(s["n"]), "pct": float(s["pct_positive"]), "h": float(s["h_score"]),
           "pixel_pct": float(s["pixel_pct_positive"]), "pixel_h": float(s["pixel_h_score"]),
           "wp": [round(float(v), 1) for v in res.white_point],
           "wp_source": p.get("white_point_source"),
           "tissue": round(float(res.tissue_mask.mean()), 4),
           "ps": (float(p["pixel_size_used"][0]) if p.get("pixel_size_used") else None),
           "ps_source": p.get("pixel_size_source"),
           "chroma": p.get("chroma_subsampling"), "cpu_s": round(time.process_time() - t0, 2)}
    if mode == "pixel":
        out["angles"] = _stain_angles(rgb, res)
    return out


def run(data: Path, names=None, variants=ALL_VARIANTS, given=True, log=print):
    """Every field, mode and variant: a list of records (see :func:`score`)."""
    recs = []
    for name, rgb, marker, known_ps in fields(data):
        if names and name not in names:
            continue
        modes = [("pixel", None), ("cell", "estimated")]
        if given and known_ps is not None:
            modes.append(("cell", "given"))
        for vname in ("orig",) + tuple(variants):
            v = variant(rgb, vname)
            f = scale_factor(vname)
            for mode, ps_kind in modes:
                ps = known_ps / f if ps_kind == "given" else None
                try:
                    r = score(v, mode, marker, ps)
                except Exception as err:   # report, do not stop the table
                    r = {"error": f"{type(err).__name__}: {str(err)[:80]}"}
                r.update(field=name, variant=vname, mode=mode, scale=ps_kind, marker=marker,
                         factor=f, shape=list(v.shape[:2]))
                recs.append(r)
                log(f"{name:10s} {vname:9s} {mode:5s} {ps_kind or '':9s} "
                    + (r.get("error") or f"n={r['n']} pct={r['pct']:.1f} h={r['h']:.1f} "
                       f"ps={r['ps']} wp={r['wp']} ({r['cpu_s']} s)"))
    return recs


def _key(r):
    return (r["field"], r["mode"], r["scale"])


def compare(recs):
    """Each variant record with its differences to the original and its checks."""
    orig = {_key(r): r for r in recs if r["variant"] == "orig" and "error" not in r}
    out = []
    for r in recs:
        if r["variant"] == "orig":
            continue
        o = orig.get(_key(r))
        c = {"field": r["field"], "variant": r["variant"], "mode": r["mode"],
             "scale": r["scale"], "checks": {}}
        if o is None or "error" in r:
            c["error"] = r.get("error", "no original")
            c["ok"] = False
            out.append(c)
            continue
        d_pct, d_h = r["pct"] - o["pct"], r["h"] - o["h"]
        c.update(d_pct=d_pct, d_h=d_h)
        c["checks"]["pct"] = abs(d_pct) <= TOL_PCT
        c["checks"]["h"] = abs(d_h) <= TOL_H
        if r["mode"] == "cell":
            ratio = r["n"] / max(o["n"], 1)
            c["count_ratio"] = ratio
            c["checks"]["count"] = abs(ratio - 1) <= TOL_COUNT
            if r["scale"] == "estimated" and r["ps"] and o["ps"]:
                sr = r["ps"] / (o["ps"] / r["factor"])
                c["scale_ratio"] = sr
                c["checks"]["scale"] = abs(sr - 1) <= TOL_SCALE
        else:
            c["wp_diff"] = [round(a - b, 1) for a, b in zip(r["wp"], o["wp"])]
            c["angle_diff"] = [round(a - b, 2) for a, b in zip(r["angles"], o["angles"])]
        c["ok"] = all(c["checks"].values())
        out.append(c)
    return out


def _fmt(v, spec="+.1f"):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec)


def report(recs, variants) -> str:
    """Markdown tables of the records (originals, differences, totals)."""
    lines = []
    cmp_ = compare(recs)
    by = {(c["field"], c["mode"], c["scale"], c["variant"]): c for c in cmp_}
    raw = {(r["field"], r["mode"], r["scale"], r["variant"]): r for r in recs}
    fields_ = list(dict.fromkeys(r["field"] for r in recs))
    lines.append("### Originals")
    lines.append("")
    lines.append("| field | marker | pixel H / % pos | white point (source) | stain angles H / DAB | "
                 "cells (est.) | % pos / H | um/px est. | cells (given) | % pos / H |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for f in fields_:
        p = raw.get((f, "pixel", None, "orig"), {})
        ce = raw.get((f, "cell", "estimated", "orig"), {})
        cg = raw.get((f, "cell", "given", "orig"), {})
        if "error" in p or "error" in ce:
            lines.append(f"| {f} | error: {p.get('error') or ce.get('error')} |")
            continue
        wp = "/".join(f"{v:.0f}" for v in p["wp"])
        ang = "/".join(_fmt(a, ".1f") for a in p["angles"])
        given = (f"{cg['n']} | {cg['pct']:.1f} / {cg['h']:.1f}" if cg and "error" not in cg
                 else "- | -")
        lines.append(f"| {f} | {ce['marker']} | {p['h']:.1f} / {p['pct']:.1f} | {wp} "
                     f"({p['wp_source']}) | {ang} | {ce['n']} | {ce['pct']:.1f} / {ce['h']:.1f} "
                     f"| {ce['ps']:.3f} | {given} |")
    lines.append("")
    lines.append("### Differences to the original (variant - original; **bold** = outside "
                 "tolerance)")
    for mode, scale, title in (("pixel", None, "pixel mode: H-score / % positive; white point "
                                "shift R/G/B"),
                               ("cell", "estimated", "cell mode, pixel size estimated: % pos / H / "
                                "count ratio / pixel size ratio to original / f"),
                               ("cell", "given", "cell mode, pixel size given: % pos / H / count "
                                "ratio")):
        rows = [f for f in fields_ if (f, mode, scale, "orig") in raw]
        if not rows:
            continue
        lines.append("")
        lines.append(f"#### {title}")
        lines.append("")
        lines.append("| field | " + " | ".join(variants) + " |")
        lines.append("|---" * (len(variants) + 1) + "|")
        for f in rows:
            cells = []
            for v in variants:
                c = by.get((f, mode, scale, v))
                if c is None:
                    cells.append("-")
                    continue
                if "error" in c:
                    cells.append(f"**{c['error'][:30]}**")
                    continue
                ck = c["checks"]

                def b(txt, ok):
                    return txt if ok else f"**{txt}**"
                parts = []
                if mode == "pixel":
                    parts.append(b(_fmt(c["d_h"]), ck["h"]))
                    parts.append(b(_fmt(c["d_pct"]), ck["pct"]))
                    if any(abs(x) >= 0.5 for x in c["wp_diff"]):
                        parts.append("wp " + ",".join(_fmt(x, "+.0f") for x in c["wp_diff"]))
                else:
                    parts.append(b(_fmt(c["d_pct"]), ck["pct"]))
                    parts.append(b(_fmt(c["d_h"]), ck["h"]))
                    parts.append(b(_fmt(c["count_ratio"], ".2f"), ck["count"]))
                    if "scale" in ck:
                        parts.append(b(_fmt(c["scale_ratio"], ".2f"), ck["scale"]))
                cells.append(" / ".join(parts))
            lines.append(f"| {f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("### Variants within tolerance")
    lines.append("")
    lines.append("| mode | " + " | ".join(variants) + " | all |")
    lines.append("|---" * (len(variants) + 2) + "|")
    tot_ok = tot_n = 0
    for mode, scale, title in (("pixel", None, "pixel"), ("cell", "estimated", "cell, est. scale"),
                               ("cell", "given", "cell, scale given")):
        sel = [c for c in cmp_ if c["mode"] == mode and c["scale"] == scale]
        if not sel:
            continue
        parts = []
        for v in variants:
            have = [c["ok"] for c in sel if c["variant"] == v]
            parts.append(f"{sum(have)}/{len(have)}")
        ok = sum(c["ok"] for c in sel)
        tot_ok += ok
        tot_n += len(sel)
        lines.append(f"| {title} | " + " | ".join(parts) + f" | {ok}/{len(sel)} |")
    lines.append("")
    # which check fails most
    fails = {}
    for c in cmp_:
        for k, ok in c["checks"].items():
            fails.setdefault((c["mode"], k), [0, 0])
            fails[(c["mode"], k)][0] += (not ok)
            fails[(c["mode"], k)][1] += 1
    lines.append("checks failed: " + ", ".join(f"{m} {k} {a}/{n}" for (m, k), (a, n)
                                               in sorted(fails.items())))
    lines.append(f"all variants: {tot_ok}/{tot_n} ({100 * tot_ok / max(tot_n, 1):.0f} %)")
    geo = [c for c in cmp_ if c["variant"] in ("rot90", "mirror") and "d_pct" in c]
    if geo:
        lines.append("rotation / mirror: max |% pos diff| "
                     f"{max(abs(c['d_pct']) for c in geo):.2f}, max |H diff| "
                     f"{max(abs(c['d_h']) for c in geo):.2f}, count ratio "
                     f"{min(c.get('count_ratio', 1) for c in geo):.3f}-"
                     f"{max(c.get('count_ratio', 1) for c in geo):.3f}")
    return "\n".join(lines)


#: synthetic fields of the white-point sweep: glass, glass only in gland lumens of a
#: few px, no glass at all (stroma with patchy DAB and nuclei fill the field)
SYNTH_KINDS = {
    "glass": dict(tissue_fraction=0.6),
    "gaps": dict(tissue_fraction=1.0, gland_radius=(18.0, 30.0), epithelium_width=(40.0, 60.0),
                 stroma_h=(0.03, 0.12)),
    "no glass": dict(tissue_fraction=1.0, gland_density=0.0, stroma_h=(0.03, 0.12),
                     stroma_dab=0.35),
}
SYNTH_VARIANTS = ("orig", "x0.5", "x0.25", "x1.5", "blur1", "blur2", "jpeg75")
#: the synthetic fields' glass: tinted like the DeepLIIF tiles' brightest pixels
SYNTH_WHITE = (226.0, 240.0, 232.0)


def synth_variant(rgb: np.ndarray, name: str) -> np.ndarray:
    """``variant`` plus ``blur<sigma>`` (Gaussian, px) and ``x0.25``."""
    if name.startswith("blur"):
        s = float(name[4:])
        out = cv2.GaussianBlur(rgb.astype(np.float32), (0, 0), s)
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return variant(rgb, name)


def scanner_variants(rgb: np.ndarray) -> dict:
    """The second scanner of ``bench_scanner.py`` with JPEG q80 (``scanB``) and without
    (``scanB-raw``: the same resampling, colour response and glass, not encoded)."""
    import bench_scanner as bs
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, round(w * 0.5)), max(1, round(h * 0.5))),
                       interpolation=cv2.INTER_AREA).astype(np.float64)
    od = -np.log10(np.clip(small, 1.0, None) / 255.0)
    raw = np.asarray((236, 238, 246), float) * 10.0 ** (-(0.9 * od @ bs.MIX.T))
    return {"scanB": bs.second_scanner(rgb),
            "scanB-raw": np.clip(np.round(raw), 0, 255).astype(np.uint8)}


def white_point_sweep(data: Path, names=None, seeds=(0, 1), log=print) -> str:
    """Markdown tables: white point and source of the real fields and their variants,
    and of the synthetic fields with a known white point (see the module docstring)."""
    from blotquant.ihc import score_ihc
    from blotquant.ihc.stains import white_point_info
    from blotquant.synthetic import make_ihc
    lines = ["### White point of the real fields (source: e = estimated, b = brightest, "
             "f = fallback)", ""]
    cols = ("orig",) + ALL_VARIANTS + ("scanB", "scanB-raw")
    lines.append("| field | " + " | ".join(cols) + " |")
    lines.append("|---" * (len(cols) + 1) + "|")
    scanner_rows = []
    for name, rgb, _, _ in fields(data):
        if names and name not in names:
            continue
        imgs = {v: variant(rgb, v) for v in ("orig",) + ALL_VARIANTS}
        imgs.update(scanner_variants(rgb))
        cells = []
        for v in cols:
            info = white_point_info(imgs[v])
            wp = "/".join(f"{x:.0f}" for x in info["white_point"])
            cells.append(f"{wp} {info['source'][0]}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        if name != "colon":      # bench_scanner's images: cell mode, nuclear, scale estimated
            sc = {}
            for k in ("orig", "scanB", "scanB-raw"):
                res = score_ihc(imgs[k], mode="cell", marker="nuclear")
                sc[k] = (float(res.summary.pct_positive.iloc[0]), float(res.tissue_mask.mean()))
            scanner_rows.append((name, sc))
        log(f"white point {name} done")
    if scanner_rows:
        lines += ["", "### Second scanner, cell mode (nuclear, pixel size estimated): % positive "
                  "(tissue share of the field)", "",
                  "| field | scan A | scan B, JPEG q80 | difference | scan B, not encoded | "
                  "difference |", "|---|---|---|---|---|---|"]
        for name, sc in scanner_rows:
            (pa, ta), (pb, tb), (pr, tr) = sc["orig"], sc["scanB"], sc["scanB-raw"]
            lines.append(f"| {name} | {pa:.1f} ({ta:.2f}) | {pb:.1f} ({tb:.2f}) | {pb - pa:+.1f} | "
                         f"{pr:.1f} ({tr:.2f}) | {pr - pa:+.1f} |")
        for k, key in (("JPEG q80", "scanB"), ("not encoded", "scanB-raw")):
            d = [abs(sc[key][0] - sc["orig"][0]) for _, sc in scanner_rows]
            lines.append(f"\n|% positive difference|, {k}: median {np.median(d):.1f}, "
                         f"worst {max(d):.1f} (target <= 3)")
    lines += ["", "### Synthetic fields with a known white point "
              f"({'/'.join(f'{v:.0f}' for v in SYNTH_WHITE)}), pixel mode", "",
              "white point - truth (R/G/B, max over seeds by size) and source; % positive "
              "and H-score minus the field as it is (max |.| over seeds); glass share of "
              "the field in brackets", ""]
    lines.append("| field | " + " | ".join(SYNTH_VARIANTS) + " |")
    lines.append("|---" * (len(SYNTH_VARIANTS) + 1) + "|")
    worst = {}
    for kind, kw in SYNTH_KINDS.items():
        rows = {v: [] for v in SYNTH_VARIANTS}
        glass = []
        for seed in seeds:
            s = make_ihc(seed=seed, shape=(768, 768), white_point=SYNTH_WHITE, **kw)
            glass.append(1 - float(s.truth.tissue_mask.mean()))
            base = None
            for v in SYNTH_VARIANTS:
                img = synth_variant(s.image, v)
                info = white_point_info(img)
                r = score_ihc(img, mode="pixel").summary.iloc[0]
                rec = {"d": info["white_point"] - np.asarray(SYNTH_WHITE),
                       "src": info["source"][0], "pct": float(r["pixel_pct_positive"]),
                       "h": float(r["pixel_h_score"]), "true_pct": s.truth.pct_positive,
                       "true_h": s.truth.h_score}
                if base is None:
                    base = rec
                rec["dpct"], rec["dh"] = rec["pct"] - base["pct"], rec["h"] - base["h"]
                rows[v].append(rec)
        cells = []
        for v in SYNTH_VARIANTS:
            recs = rows[v]
            d = max((r["d"] for r in recs), key=lambda x: float(np.abs(x).max()))
            src = "".join(r["src"] for r in recs)
            dp = max(abs(r["dpct"]) for r in recs)
            dh = max(abs(r["dh"]) for r in recs)
            w0 = worst.get(kind, (0.0, 0.0))
            worst[kind] = (max(w0[0], dp), max(w0[1], dh))
            cells.append("/".join(f"{x:+.0f}" for x in d) + f" {src}"
                         + ("" if v == "orig" else f"; {dp:.1f} / {dh:.1f}"))
        lines.append(f"| {kind} ({100 * max(glass):.1f} %) | " + " | ".join(cells) + " |")
        err = [(abs(r["pct"] - r["true_pct"]), abs(r["h"] - r["true_h"]))
               for v in SYNTH_VARIANTS for r in rows[v]]
        worst[kind + " vs truth"] = (max(e[0] for e in err), max(e[1] for e in err))
        log(f"synthetic {kind} done")
    lines.append("")
    lines.append("worst |% positive| / |H-score| difference: " + "; ".join(
        f"{k} {a:.1f} / {b:.1f}" for k, (a, b) in worst.items()))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--variants", default=",".join(ALL_VARIANTS))
    ap.add_argument("--fields", default="", help="comma-separated field names (default all)")
    ap.add_argument("--no-given", action="store_true", help="skip cell mode with the pixel size given")
    ap.add_argument("--json", type=Path, help="write the raw records here")
    ap.add_argument("--from-json", type=Path, help="print the tables of a --json file")
    ap.add_argument("--cell-param", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--white-point", action="store_true",
                    help="only the white-point sweep (real fields and synthetic fields)")
    a = ap.parse_args(argv)
    variants = tuple(v for v in a.variants.split(",") if v)
    for kv in a.cell_param:
        k, _, v = kv.partition("=")
        try:
            CELL_PARAMS[k] = json.loads(v)
        except json.JSONDecodeError:
            CELL_PARAMS[k] = v
    t0 = time.perf_counter()
    if a.white_point:
        names = {n for n in a.fields.split(",") if n} or None
        print(white_point_sweep(a.data, names,
                                log=(lambda *x: None) if a.quiet else (lambda s: print(s, flush=True))))
        print(f"{time.perf_counter() - t0:.0f} s")
        return 0
    if a.from_json:
        recs = json.loads(a.from_json.read_text())
    else:
        names = {n for n in a.fields.split(",") if n} or None
        recs = run(a.data, names, variants, given=not a.no_given,
                   log=(lambda *x: None) if a.quiet else (lambda s: print(s, flush=True)))
        if a.json:
            a.json.write_text(json.dumps(recs, indent=0))
    variants = tuple(v for v in variants if any(r["variant"] == v for r in recs))
    print(report(recs, variants))
    print(f"{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
