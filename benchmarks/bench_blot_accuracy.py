"""Accuracy of the blot engine on synthetic blots with exact ground truth.

Run:  python benchmarks/bench_blot_accuracy.py [--seeds 100] [--texture 0.0]

For every seed a blot is drawn with random tilt (+-3 deg), smile (0-10 px),
sloping rows (+-10 px), gradients and low-frequency background undulation,
Poisson-Gaussian noise, dust, unequal lane spacing, 6-12 lanes (some with a
ladder, an empty lane or two strips), both polarities, 16-bit and 8-bit.
Printed:

- lanes found (count given / not given): fraction of blots whose lanes all
  match the truth (count equal, every centre within 0.25 pitch);
- band rows matched: fraction of true bands found in the right lane and row
  (|y - y_true| < band FWHM, detected rather than interpolated);
- per-lane target/control ratio error |measured/true - 1| over all lanes of
  the unsaturated 16-bit blots: median and 90th percentile, fully automatic,
  compared in the same process with (a) ImageJ-style rolling ball r=50 on
  perfect (true) band rectangles and (b) the true background on the same
  rectangles (the floor set by noise);
- saturation flags vs truth (saturated blots): missed / false flags;
- dilution series (2-fold): R^2 of volume vs load inside the linear range;
- replicate groups side by side (3 groups of 4 lanes, one knocked-down lane per
  group, groups touching or 2.5-3 pitches apart): blots with every lane found.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from blotquant.blot import Lane, normalize, quantify_blot
from blotquant.synthetic import make_blot, make_dilution_series


def blot_params(seed: int, dtype="uint16", texture=0.0, saturate=False):
    rng = np.random.default_rng(10_000 + seed)
    n = int(rng.integers(6, 13))
    ladder = bool(rng.random() < 0.25)
    two = bool(rng.random() < 0.25)
    empty = (int(rng.integers(2 + ladder, n)),) if rng.random() < 0.2 else ()
    return dict(
        shape=(600, 900), n_lanes=n, ladder=ladder, two_strips=two, empty_lanes=empty,
        tilt_deg=float(rng.uniform(-3, 3)), smile_px=float(rng.uniform(0, 10)),
        row_slope_px=float(rng.uniform(-10, 10)), lane_gap_jitter=float(rng.uniform(0, 0.08)),
        dust=int(rng.integers(0, 15)), dtype=dtype, saturate=saturate,
        polarity="light-on-dark" if seed % 2 == 0 else "dark-on-light",
        background={"texture": texture, "gradient": float(rng.uniform(0.0, 0.05))})


def truth_boxes(b):
    tb = b.truth.bands
    return tb[["lane", "row", "top", "bottom", "left", "right"]].assign(
        right=tb["right"] + 1)


def truth_lanes(b):
    lanes = []
    for rec in b.truth.lanes.itertuples():
        lanes.append(Lane(rec.lane, np.asarray(rec.geometry, float), rec.width,
                          is_ladder=rec.is_ladder))
    return lanes


def lanes_ok(b, res):
    """Every reported strip holds the true lanes (a two-strip blot: each of its
    two membrane strips has the full lane set; one lane set is also right)."""
    t = b.truth.lanes
    H = b.image.shape[0]
    strips = sorted({ln.strip for ln in res.lane_geometry})
    if len(strips) > len(b.truth.strips if len(b.truth.strips) else [0]):
        return False
    pitch = np.median(np.diff(t["x"])) if len(t) > 1 else b.image.shape[1]
    for s in strips:
        xs = np.sort([ln.x_at(H / 2) for ln in res.lane_geometry if ln.strip == s])
        if len(xs) != len(t):
            return False
        if not np.all(np.abs(xs - np.sort(t["x"].to_numpy())) < 0.25 * pitch):
            return False
    return True


def rows_ok(b, res):
    """True bands found in the right lane and row.  Lanes are compared by their place
    left to right within their strip (a two-strip blot found as two strips numbers
    the lower strip's lanes on from the upper's; the truth has one lane set)."""
    tb = b.truth.bands
    lanes = res.lanes.sort_values(["strip", "x"])
    place = {int(ln): i + 1 for _, g in lanes.groupby("strip")
             for i, ln in enumerate(g["lane"])}
    mb = res.bands.assign(lane=res.bands["lane"].map(place)).set_index(["lane", "row"])
    ok = 0
    for rec in tb.itertuples():
        key = (rec.lane, rec.row)
        if key in mb.index:
            m = mb.loc[key]
            if abs(m["y"] - rec.y) < rec.height and "not_detected" not in m["flags"]:
                ok += 1
    return ok, len(tb)


def ratio_errors(b, bands, target="ASNS", control="ACTB"):
    tr = b.ratio_truth(target, control).set_index("lane")["ratio"]
    n = normalize(bands, target=target, control=control,
                  reference_lane=None).set_index("lane")["ratio"]
    common = tr.index.intersection(n.index)
    return np.abs(n.loc[common] / tr.loc[common] - 1).to_numpy()


def truth_bg_bands(b):
    """Volumes on the true band rectangles with the true background."""
    sig = b.truth.sign * (b.image.astype(np.float64) - b.truth.background - b.truth.artifacts)
    rows = []
    for rec in b.truth.bands.itertuples():
        v = sig[rec.top:rec.bottom + 1, rec.left:rec.right + 1].sum()
        rows.append(dict(lane=rec.lane, row=rec.row, volume=v, saturated=rec.clipped))
    return pd.DataFrame(rows)


def run(seeds, texture, verbose=True):
    out = {}
    errs, errs_rb, errs_true = [], [], []
    lanes_given = lanes_auto = 0
    n_ok_rows = n_rows = 0
    n_blots = 0
    failures = []
    t0 = time.perf_counter()
    for seed in range(seeds):
        for dtype in ("uint16", "uint8"):
            p = blot_params(seed, dtype=dtype, texture=texture)
            b = make_blot(seed, **p)
            img = b.to_image()
            n_blots += 1
            try:
                r_auto = quantify_blot(img, rows=list(p.get("rows", ("ASNS", "ACTB"))))
                ok_auto = lanes_ok(b, r_auto)
            except Exception as err:  # noqa: BLE001 - counted as a failure
                failures.append((seed, dtype, "auto", repr(err)))
                ok_auto, r_auto = False, None
            try:
                r = quantify_blot(img, lanes=p["n_lanes"], rows=["ASNS", "ACTB"])
                ok_given = lanes_ok(b, r)
            except Exception as err:  # noqa: BLE001
                failures.append((seed, dtype, "given", repr(err)))
                ok_given, r = False, None
            lanes_auto += ok_auto
            lanes_given += ok_given
            if not ok_given:
                failures.append((seed, dtype, "lanes", len(r.lanes) if r is not None else -1))
            if r is None:
                continue
            k, m = rows_ok(b, r)
            n_ok_rows += k
            n_rows += m
            if dtype == "uint16" and not b.truth.bands["clipped"].any() and ok_given:
                errs.append(ratio_errors(b, r.bands))
                rb = quantify_blot(img, background="rolling-ball", radius=50,
                                   lane_geometry=truth_lanes(b), band_boxes=truth_boxes(b))
                errs_rb.append(ratio_errors(b, rb.bands))
                errs_true.append(ratio_errors(b, truth_bg_bands(b)))
    e, erb, et = (np.concatenate(x) if x else np.array([np.nan])
                  for x in (errs, errs_rb, errs_true))
    out.update(
        n_blots=n_blots, lanes_given=lanes_given / n_blots, lanes_auto=lanes_auto / n_blots,
        rows_matched=n_ok_rows / max(n_rows, 1),
        ratio_median=float(np.median(e)), ratio_p90=float(np.percentile(e, 90)),
        rb_median=float(np.median(erb)), rb_p90=float(np.percentile(erb, 90)),
        true_median=float(np.median(et)), true_p90=float(np.percentile(et, 90)),
        n_ratio_lanes=int(len(e)), seconds=time.perf_counter() - t0)
    if verbose:
        for f in failures[:20]:
            print("  failure:", f)
    return out


def saturation(seeds):
    missed = false = n_clipped = n_bands = 0
    for seed in range(seeds):
        for dtype in ("uint16", "uint8"):
            p = blot_params(seed, dtype=dtype, saturate=True)
            b = make_blot(seed, **p)
            r = quantify_blot(b.to_image(), lanes=p["n_lanes"], rows=["ASNS", "ACTB"])
            tb = b.truth.bands.set_index(["lane", "row"])
            mb = r.bands.set_index(["lane", "row"])
            for key, rec in tb.iterrows():
                n_bands += 1
                flagged = bool(mb.loc[key, "saturated"]) if key in mb.index else False
                n_clipped += bool(rec["clipped"])
                if rec["clipped"] and not flagged:
                    missed += 1
                if flagged and not rec["clipped"]:
                    false += 1
    return dict(sat_bands=n_bands, sat_clipped=n_clipped, sat_missed=missed, sat_false=false)


def dilution(seeds):
    r2s = []
    for seed in range(seeds):
        b = make_dilution_series(seed, n_lanes=8, fold=2.0, shape=(600, 900),
                                 tilt_deg=float(np.random.default_rng(seed).uniform(-2, 2)),
                                 smile_px=5.0, dust=5, background={"texture": 0.0})
        r = quantify_blot(b.to_image(), lanes=8, rows=["ASNS", "ACTB"])
        for row in ("ASNS", "ACTB"):
            tb = b.truth.bands.query("row == @row").set_index("lane")
            mb = r.bands.query("row == @row").set_index("lane")
            lin = tb[~tb["clipped"]].index
            x = tb.loc[lin, "load"].to_numpy()
            y = mb.loc[lin, "volume"].to_numpy()
            # linear fit through the origin region: ordinary least squares
            A = np.c_[x, np.ones_like(x)]
            coef, *_ = np.linalg.lstsq(A, y, rcond=None)
            ss_res = float(((y - A @ coef) ** 2).sum())
            ss_tot = float(((y - y.mean()) ** 2).sum())
            r2s.append(1 - ss_res / ss_tot)
    return dict(dilution_r2_min=float(np.min(r2s)), dilution_r2_median=float(np.median(r2s)))


def lane_groups(seeds, gaps=(1.0, 2.5, 3.0)):
    """Replicate groups side by side: 3 groups of 4 lanes, lane 3 of each group
    knocked down (5 % load), groups ``gap`` pitches apart (1 = touching), both
    polarities.  Right when all 12 lanes are found within 0.25 pitch."""
    ok = n = 0
    for gap in gaps:
        for seed in range(seeds):
            for pol, dt in (("light-on-dark", "uint16"), ("dark-on-light", "uint8")):
                loads = np.random.default_rng(seed).uniform(0.5, 1.0, 12)
                loads[2::4] = 0.05
                b = make_blot(seed, n_lanes=12, lane_groups=(4, 4, 4), group_gap=gap,
                              loads=loads, polarity=pol, dtype=dt)
                x = np.sort(quantify_blot(b.to_image()).lanes["x"].to_numpy(float))
                tx = b.truth.lanes["x"].to_numpy(float)
                n += 1
                ok += bool(len(x) == len(tx) and np.all(np.abs(x - tx) < 0.25 * np.diff(tx).min()))
    return dict(groups_ok=ok, groups_n=n)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--texture", type=float, default=0.0,
                    help="membrane texture std (fraction of saturation; generator default 0.004)")
    ap.add_argument("--skip-extra", action="store_true", help="only the main run")
    a = ap.parse_args(argv)
    res = run(a.seeds, a.texture)
    print(f"blots: {res['n_blots']} ({a.seeds} seeds x 16/8-bit), texture={a.texture}")
    print(f"lanes found, count given:     {100 * res['lanes_given']:.1f} %")
    print(f"lanes found, count not given: {100 * res['lanes_auto']:.1f} %")
    print(f"band rows matched:            {100 * res['rows_matched']:.2f} %")
    print(f"ratio |measured/true-1| over {res['n_ratio_lanes']} lanes (unsaturated 16-bit):")
    print(f"  blotquant auto (lane-fit):        median {100 * res['ratio_median']:.2f} %  "
          f"p90 {100 * res['ratio_p90']:.2f} %")
    print(f"  rolling ball r=50, true boxes:    median {100 * res['rb_median']:.2f} %  "
          f"p90 {100 * res['rb_p90']:.2f} %  (ratio to ours: "
          f"{res['rb_median'] / res['ratio_median']:.1f}x / {res['rb_p90'] / res['ratio_p90']:.1f}x)")
    print(f"  true background, true boxes:      median {100 * res['true_median']:.2f} %  "
          f"p90 {100 * res['true_p90']:.2f} %")
    if not a.skip_extra:
        s = saturation(max(10, a.seeds // 4))
        print(f"saturation: {s['sat_bands']} bands, {s['sat_clipped']} clipped, "
              f"missed {s['sat_missed']}, false flags {s['sat_false']}")
        d = dilution(max(5, a.seeds // 10))
        print(f"2-fold dilution series: R^2 min {d['dilution_r2_min']:.5f}, "
              f"median {d['dilution_r2_median']:.5f}")
        g = lane_groups(max(2, a.seeds // 25))
        print(f"replicate groups (3 x 4 lanes, one knocked down per group, gaps 1/2.5/3 "
              f"pitches): {g['groups_ok']}/{g['groups_n']} with every lane")
    print(f"elapsed {res['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
