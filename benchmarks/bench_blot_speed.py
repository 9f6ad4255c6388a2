"""Speed of the blot pipeline (one core) vs peers run in the same process.

Run:  python benchmarks/bench_blot_speed.py [--repeat N] [--real DIR] [--stages]

Prints CPU seconds per megapixel (process time, best of ``--repeat``, default 5)
for: the full automatic run (lane-fit), a re-quantification with given lanes
and band boxes, and two peers: the rolling-ball background
(blotquant.blot.background.rolling_ball, ImageJ semantics) and scikit-image's
``restoration.rolling_ball`` (r=50) on the same image, with ratios.

``--real DIR``: also the full automatic run on every TIFF in DIR (for example
the test-only ``../shared/data/blots``), CPU s/MP per image and their median.
``--stages``: for the 0.54 MP image, the CPU milliseconds of the main steps of
one run (lane detection, band detection and matching, saturation, lane data,
measuring, tables), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

from blotquant.blot import quantify_blot  # noqa: E402
from blotquant.synthetic import make_blot  # noqa: E402


def best(f, n=5):
    """Smallest CPU time of this process over n runs (robust on a shared machine)."""
    ts = []
    for _ in range(n):
        t = time.process_time()
        f()
        ts.append(time.process_time() - t)
    return min(ts)


def stages(img, n, **kw):
    """CPU ms of the main steps of one full run (best of n), by wrapping them."""
    from blotquant.blot import quantify as Q

    names = ["prepare_signal", "detect_lanes", "_LaneData", "_detect_and_match",
             "_drop_empty_edge_lanes", "_measure", "_band_table"]
    spent = {k: [] for k in names}
    orig = {k: getattr(Q, k) for k in names}
    run = {}

    def wrap(name):
        f = orig[name]

        def g(*a, **k):
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                run[name] = run.get(name, 0.0) + time.process_time() - t
        return g

    try:
        for k in names:
            setattr(Q, k, wrap(k))
        totals = []
        for _ in range(n):
            run.clear()
            t = time.process_time()
            quantify_blot(img, **kw)
            totals.append(time.process_time() - t)
            for k in names:
                spent[k].append(run.get(k, 0.0))
    finally:
        for k in names:
            setattr(Q, k, orig[k])
    out = {k: 1000 * min(v) for k, v in spent.items()}
    out["total"] = 1000 * min(totals)
    out["rest"] = out["total"] - sum(out[k] for k in names)
    return out


def real(folder, n):
    from blotquant.io import read_image

    rates = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".tif", ".tiff")):
            continue
        img = read_image(os.path.join(folder, name))
        h, w = img.data.shape[:2]
        mp = h * w / 1e6
        try:
            quantify_blot(img)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
            print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
            continue
        t = best(lambda: quantify_blot(img), n=n)
        rates.append(t / mp)
        print(f"{name} ({mp:.2f} MP): full {t / mp:.3f} s/MP ({t:.3f} s)", flush=True)
    if rates:
        print(f"real blots: median {float(np.median(rates)):.3f} s/MP over {len(rates)} images",
              flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="best of N runs (default 5)")
    ap.add_argument("--real", default=None, help="folder of real blot TIFFs to time as well")
    ap.add_argument("--stages", action="store_true", help="CPU ms per step at 0.54 MP")
    ap.add_argument("--no-peers", action="store_true", help="skip the rolling-ball peers")
    args = ap.parse_args(argv)
    n = max(1, args.repeat)
    for shape in ((600, 900), (1000, 1000), (1500, 2000)):
        b = make_blot(0, shape=shape, n_lanes=10, tilt_deg=1.5, smile_px=6, dust=10)
        img = b.to_image()
        mp = shape[0] * shape[1] / 1e6
        r = quantify_blot(img, rows=["ASNS", "ACTB"])
        t_full = best(lambda: quantify_blot(img, rows=["ASNS", "ACTB"]), n=n)
        t_re = best(lambda: quantify_blot(img, lane_geometry=r.lane_geometry,
                                          band_boxes=r.band_boxes()), n=n)
        line = (f"{shape[0]}x{shape[1]} ({mp:.2f} MP): full {t_full / mp:.3f} s/MP, "
                f"re-quantify {t_re / mp:.3f} s/MP ({t_full / t_re:.0f}x faster)")
        if not args.no_peers:
            from blotquant.blot.background import rolling_ball
            t_rb = best(lambda: rolling_ball(b.image, radius=50), n=1)
            line += (f", rolling_ball r=50 alone {t_rb / mp:.3f} s/MP "
                     f"({t_rb / t_full:.1f}x our full run)")
            if mp <= 1.0:
                from skimage.restoration import rolling_ball as sk_rb
                t_sk = best(lambda: sk_rb(b.image.astype(np.float32), radius=50), n=1)
                line += f", skimage rolling_ball r=50 {t_sk / mp:.2f} s/MP ({t_sk / t_full:.0f}x)"
        print(line, flush=True)
        if args.stages and shape == (600, 900):
            st = stages(img, n, rows=["ASNS", "ACTB"])
            print("  steps (CPU ms, best of each): " + ", ".join(
                f"{k.strip('_')} {v:.1f}" for k, v in st.items()), flush=True)
    if args.real:
        real(args.real, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
