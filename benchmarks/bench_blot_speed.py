"""Speed of the blot pipeline (one core) vs peers run in the same process.

Run:  python benchmarks/bench_blot_speed.py

Prints CPU seconds per megapixel (process time, best of 5) for: the full automatic run (lane-fit), a
re-quantification with given lanes and band boxes, and two peers: the
rolling-ball background (blotquant.blot.background.rolling_ball, ImageJ
semantics) and scikit-image's ``restoration.rolling_ball`` (r=50) on the same
image, with ratios.
"""

from __future__ import annotations

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


def main():
    for shape in ((600, 900), (1000, 1000), (1500, 2000)):
        b = make_blot(0, shape=shape, n_lanes=10, tilt_deg=1.5, smile_px=6, dust=10)
        img = b.to_image()
        mp = shape[0] * shape[1] / 1e6
        r = quantify_blot(img, rows=["ASNS", "ACTB"])
        t_full = best(lambda: quantify_blot(img, rows=["ASNS", "ACTB"]))
        t_re = best(lambda: quantify_blot(img, lane_geometry=r.lane_geometry,
                                          band_boxes=r.band_boxes()))
        from blotquant.blot.background import rolling_ball
        t_rb = best(lambda: rolling_ball(b.image, radius=50), n=1)
        line = (f"{shape[0]}x{shape[1]} ({mp:.2f} MP): full {t_full / mp:.3f} s/MP, "
                f"re-quantify {t_re / mp:.3f} s/MP ({t_full / t_re:.0f}x faster), "
                f"rolling_ball r=50 alone {t_rb / mp:.3f} s/MP ({t_rb / t_full:.1f}x our full run)")
        if mp <= 1.0:
            from skimage.restoration import rolling_ball as sk_rb
            t_sk = best(lambda: sk_rb(b.image.astype(np.float32), radius=50), n=1)
            line += f", skimage rolling_ball r=50 {t_sk / mp:.2f} s/MP ({t_sk / t_full:.0f}x)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
