"""A wider synthetic sweep than ``bench_blot_accuracy.py``: a proxy for held-out
synthetic blots drawn from other generator settings.

Run:  python benchmarks/bench_blot_sweep.py [--seeds 100] [--first 0] [--kinds plain,texture]

Per seed the generator's settings are drawn at random over a wider range than
the accuracy benchmark's (which fixes 600 x 900 px and 6-12 lanes): 4-20
lanes, five image sizes from 300 x 500 to 1100 x 1600 px (tilt, smile and row
slope scaled with the height), a ladder in a quarter and two strips in a
quarter of the blots, dust, uneven lane spacing, 8-bit (every third seed) or
16-bit, both polarities.  ``texture`` adds membrane texture (0.004) to the
same blots.  Analysis is fully automatic (``rows=["ASNS", "ACTB"]``); printed
per kind: blots whose lanes are all right (``bench_blot_accuracy.lanes_ok``),
the median and 90th percentile of the per-lane ratio error over the blots
whose lanes are right, and each failing seed with its settings and the lanes
per strip found (or the error).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_blot_accuracy as acc  # noqa: E402

from blotquant.blot import quantify_blot  # noqa: E402
from blotquant.synthetic import make_blot  # noqa: E402

SHAPES = [(300, 500), (450, 700), (600, 900), (800, 1400), (1100, 1600)]


def sweep_params(seed: int, kind: str = "plain") -> dict:
    """The generator settings of one seed (same for every kind but the texture)."""
    rng = np.random.default_rng(777 + seed)
    n = int(rng.integers(4, 21))
    shape = SHAPES[int(rng.integers(0, len(SHAPES)))]
    return dict(shape=shape, n_lanes=n, ladder=bool(rng.random() < 0.25),
                two_strips=bool(rng.random() < 0.25),
                tilt_deg=float(rng.uniform(-3, 3)),
                smile_px=float(rng.uniform(0, 10)) * shape[0] / 600,
                row_slope_px=float(rng.uniform(-10, 10)) * shape[0] / 600,
                lane_gap_jitter=float(rng.uniform(0, 0.08)), dust=int(rng.integers(0, 15)),
                dtype="uint16" if seed % 3 else "uint8",
                polarity="light-on-dark" if seed % 2 == 0 else "dark-on-light",
                background={"texture": 0.004 if kind == "texture" else 0.0,
                            "gradient": float(rng.uniform(0.0, 0.05))})


def run(seeds: int, kind: str, first: int = 0) -> dict:
    ok, errs, bad = 0, [], []
    for seed in range(first, first + seeds):
        p = sweep_params(seed, kind)
        b = make_blot(seed, **p)
        try:
            r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
        except Exception as e:  # noqa: BLE001 - a failure is a result here
            bad.append((seed, p, f"{type(e).__name__}: {str(e)[:90]}"))
            continue
        if acc.lanes_ok(b, r):
            ok += 1
            errs.extend(acc.ratio_errors(b, r.bands).tolist())
        else:
            bad.append((seed, p, r.lanes.groupby("strip").size().tolist()))
    e = np.asarray(errs)
    return {"ok": ok, "n": seeds, "median": float(np.median(e)) if e.size else np.nan,
            "p90": float(np.percentile(e, 90)) if e.size else np.nan, "bad": bad}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=0,
                    help="first seed (100 runs the held-out proxy seeds 100-199)")
    ap.add_argument("--kinds", default="plain,texture")
    a = ap.parse_args(argv)
    for kind in a.kinds.split(","):
        out = run(a.seeds, kind, a.first)
        print(f"{kind}: lanes right {out['ok']}/{out['n']}, ratio error median "
              f"{100 * out['median']:.2f} %, p90 {100 * out['p90']:.2f} %")
        for seed, p, found in out["bad"]:
            print(f"   seed {seed}: {p['shape'][0]}x{p['shape'][1]} px, {p['n_lanes']} lanes, "
                  f"two strips {p['two_strips']}, ladder {p['ladder']}, {p['dtype']}: {found}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
