"""Faint lanes: dilution series (the linear-range experiment) and no invented lanes.

A dilution series loads one lysate at 1, 1/f, 1/f^2, ... lane by lane
(``make_dilution_series``), so the last lanes are much fainter than the
first; a lane finder whose threshold is a fraction of the strongest lane
loses them.  Reported per series (lanes, fold) over the seeds:

- ``visible``: lanes whose strongest band peaks at least 3 pixel-noise sigmas
  above the background (what a person can see on the image; from the truth);
- ``detect_lanes`` and ``quantify_blot``: lanes found without a lane count;
- ``ratio err``: median |measured / true - 1| of the found lanes' loading-control
  volumes relative to lane 1 (lanes matched to the truth by position).

A second table renders plain blots with wide membrane margins beside the
lanes (3-6 lanes, nothing beyond them): the lane count found must be the
true count (faint-lane completion must never extend a grid into empty
membrane).

    python benchmarks/bench_blot_dilution.py            # 4 seeds
    python benchmarks/bench_blot_dilution.py --seeds 8
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from blotquant.blot import detect_lanes, quantify_blot
from blotquant.synthetic import make_blot
from blotquant.synthetic.blot import make_dilution_series


def visible_lanes(blot, k_sigma: float = 3.0) -> int:
    """Lanes whose strongest band peak stands ``k_sigma`` pixel-noise sigmas above the background."""
    t = blot.truth
    noise = float(np.std(blot.image.astype(np.float64) - (t.background + t.signal + t.artifacts)))
    best = t.bands.groupby("lane")["peak"].max()
    return int((best >= k_sigma * noise).sum())


def ratio_error(blot, res, row: str = "ACTB") -> float:
    """Median |measured/true - 1| of the found lanes' ``row`` volumes relative to lane 1."""
    truth = blot.truth.bands.query("row == @row").set_index("lane")
    tx = blot.truth.lanes.set_index("lane")["x"]
    pitch = float(np.median(np.diff(np.sort(tx.to_numpy()))))
    bands = res.bands
    if not len(bands):
        return float("nan")
    # the row measured nearest to the truth row's height
    rows = bands.groupby("row")["y"].median()
    name = (rows - float(truth["y"].median())).abs().idxmin()
    meas = {}
    lx = res.lanes.set_index("lane")["x"]
    for b in bands.query("row == @name").itertuples():
        d = (tx - lx[b.lane]).abs()
        if d.min() < 0.3 * pitch:
            meas[int(d.idxmin())] = float(b.volume)
    if 1 not in meas or len(meas) < 2:
        return float("nan")
    errs = [abs((meas[ln] / meas[1]) / (truth.loc[ln, "volume"] / truth.loc[1, "volume"]) - 1)
            for ln in meas if ln != 1]
    return float(np.median(errs))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    print("| lanes | fold | lowest load | visible | detect_lanes | quantify_blot | ratio err |")
    print("|---|---|---|---|---|---|---|")
    for n in (8, 10, 12):
        for fold in (2.0, 1.6):
            vis, det, qua, err = [], [], [], []
            for seed in range(args.seeds):
                b = make_dilution_series(seed, n_lanes=n, fold=fold)
                vis.append(visible_lanes(b))
                det.append(len(detect_lanes(b.image.astype(np.float32))))
                res = quantify_blot(b.to_image())
                qua.append(len(res.lanes))
                err.append(ratio_error(b, res))
            e = np.nanmedian(err) if np.isfinite(err).any() else float("nan")
            print(f"| {n} | 1/{fold:g} | {fold ** -(n - 1):.4f} | {vis} | {det} | {qua} | "
                  f"{100 * e:.2f} % |", flush=True)
    print()
    print("| lanes | margin (fraction of width) | lanes found (detect_lanes) |")
    print("|---|---|---|")
    invented = 0
    for n, margin in ((3, 0.2), (4, 0.25), (5, 0.3), (6, 0.2)):
        got = [len(detect_lanes(make_blot(seed, n_lanes=n, lane_margin=margin)
                                .image.astype(np.float32))) for seed in range(2 * args.seeds)]
        invented += sum(g > n for g in got)
        print(f"| {n} | {margin} | {got} |", flush=True)
    print(f"\nimages with invented lanes: {invented}; elapsed {time.perf_counter() - t0:.1f} s")
    return 0 if invented == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
