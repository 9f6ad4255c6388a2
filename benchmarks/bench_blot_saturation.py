"""Saturation levels, per-band saturation flags, registration and pairing.

Run:  python benchmarks/bench_blot_saturation.py [--seeds 10] [--real ../shared/data]

Printed (and used in docs/benchmarks/blot_saturation.md):

- real images (``<real>/blots``, skipped when absent): per image the level used, where it
  came from, how many bands are flagged, and whether "any band flagged" equals the
  person-made ``saturated`` in ``truth.json``; the same with the old rule (dark bands
  saturated only at 0, light bands at the file/dtype maximum) for comparison;
- synthetic blots (``make_blot``) clipping below the dtype range (camera at 4000 in
  uint16, film black at grey 30 in uint8, ...), at the dtype limit and unclipped, both
  polarities: level found, and per-band flags equal to ``truth.bands.clipped``;
- registration of a control image of the same membrane (other protein, other row)
  moved by random shifts (+-20 px) and rotations (+-2.5 deg): errors;
- the real B1AR target / GAPDH pair: per-strip registration and lane offsets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from blotquant.blot import Lane, quantify_blot  # noqa: E402
from blotquant.blot.normalize import pair_blots  # noqa: E402
from blotquant.blot.register import register_images  # noqa: E402
from blotquant.io import read_image  # noqa: E402
from blotquant.synthetic import make_blot  # noqa: E402
from blotquant.synthetic.blot import move_membrane  # noqa: E402


def real_images(folder: Path):
    truth = json.loads((folder / "truth.json").read_text())["images"]
    print("\n## real images: any band flagged vs truth.json 'saturated'")
    print("| image | truth | level (source) | bands flagged | right | old rule: flagged | right |")
    print("|---|---|---|---|---|---|---|")
    ok = ok_old = 0
    for d in truth:
        img = read_image(folder / d["file"])
        t0 = time.perf_counter()
        res = quantify_blot(img)
        dt = time.perf_counter() - t0
        b = res.bands
        n = int(b["saturated"].sum())
        pol = res.params["polarity_used"]
        old_level = 0.0 if pol == "dark-on-light" else img.metadata.saturation_level
        res_old = quantify_blot(img, lane_geometry=res.lane_geometry,
                                band_boxes=res.band_boxes(), clip_level=old_level)
        n_old = int(res_old.bands["saturated"].sum())
        right, right_old = (n > 0) == d["saturated"], (n_old > 0) == d["saturated"]
        ok += right
        ok_old += right_old
        print(f"| {d['file']} | {d['saturated']} | {res.params['saturation_level']:g} "
              f"({res.params['saturation_source']}) | {n}/{len(b)} | {'yes' if right else 'NO'} "
              f"| {n_old}/{len(b)} | {'yes' if right_old else 'NO'} |  <!-- {dt:.1f}s -->")
    print(f"\nright: {ok}/{len(truth)} (old rule {ok_old}/{len(truth)})")


def _lanes(b):
    return [Lane(int(r.lane), r.geometry, r.width) for r in b.truth.lanes.itertuples()]


def synthetic(seeds: int):
    print("\n## synthetic: level and per-band flags (truth lanes given)")
    cases = [
        ("light-on-dark uint16, camera clips at 4000", dict(saturation_level=4000), 4000, True),
        ("light-on-dark uint16, clips at 30000", dict(saturation_level=30000), 30000, True),
        ("light-on-dark uint16, clips at 65535", {}, 65535, True),
        ("light-on-dark uint16, unclipped", {}, 65535, False),
        ("dark-on-light uint8, film black 30", dict(dtype="uint8", polarity="dark-on-light",
                                                    black_level=30), 30, True),
        ("dark-on-light uint16, black 1500", dict(polarity="dark-on-light", black_level=1500),
         1500, True),
        ("dark-on-light uint8, black 0", dict(dtype="uint8", polarity="dark-on-light"), 0, True),
        ("dark-on-light uint8, unclipped", dict(dtype="uint8", polarity="dark-on-light"), 0,
         False),
    ]
    print("| case | blots | level right | blots with flags exact | clipped bands | missed | "
          "false flags | bands not measured |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kw, level, sat in cases:
        n_lvl = n_exact = n_clip = n_false = n_miss = n_unmeasured = 0
        for s in range(seeds):
            b = make_blot(100 + s, shape=(300, 480), n_lanes=6, saturate=sat, **kw)
            res = quantify_blot(b.image, rows=["ASNS", "ACTB"], lane_geometry=_lanes(b))
            n_lvl += res.params["saturation_level"] == level
            t = b.truth.bands.set_index(["lane", "row"])["clipped"]
            g = res.bands.set_index(["lane", "row"])["saturated"]
            idx = t.index.intersection(g.index)
            tt, gg = t[idx].to_numpy(bool), g[idx].to_numpy(bool)
            n_exact += bool(np.array_equal(tt, gg))
            n_clip += int(tt.sum())
            n_false += int((gg & ~tt).sum())
            n_miss += int((tt & ~gg).sum())
            n_unmeasured += len(t) - len(idx)
        print(f"| {name} | {seeds} | {n_lvl}/{seeds} | {n_exact}/{seeds} | {n_clip} | "
              f"{n_miss} | {n_false} | {n_unmeasured} |")


def false_plateaus(n: int):
    """Unclipped blots of every kind must keep the nominal level (no plateau)."""
    from blotquant.blot.saturation import saturation_level

    rng = np.random.default_rng(5)
    tried = fp = 0
    for s in range(n):
        pol = ("light-on-dark", "dark-on-light")[s % 2]
        dt = ("uint8", "uint16")[(s // 2) % 2]
        equal = s % 4 == 3        # every lane the same load: one common peak value
        b = make_blot(500 + s, shape=(300, 480), n_lanes=int(rng.integers(4, 12)),
                      polarity=pol, dtype=dt, band_height=float(rng.uniform(3, 16)),
                      noise=bool(s % 3), row_scale=(float(rng.uniform(0.2, 0.8)), float(rng.uniform(0.2, 0.8))))
        if equal:
            nl = len(b.truth.lanes)
            b = make_blot(500 + s, shape=(300, 480), n_lanes=nl, polarity=pol, dtype=dt,
                          loads=np.ones(nl), noise=bool(s % 3), row_scale=(0.5, 0.5))
        if b.truth.bands["clipped"].any():
            continue
        tried += 1
        fp += saturation_level(b.image, pol).source == "plateau"
    print(f"\n## false plateaus: {fp} of {tried} unclipped synthetic blots (8/16-bit, both "
          "polarities, band heights 3-16 px, with and without noise, some with equal loads)")


def registration(seeds: int):
    print("\n## registration: control image of the same membrane moved by a known motion")
    rng = np.random.default_rng(0)
    errs_a, errs_s, times = [], [], []
    for s in range(seeds):
        t = make_blot(200 + s, shape=(400, 600), n_lanes=8)
        c = make_blot(200 + s, shape=(400, 600), n_lanes=8, rows=("GAPDH",), row_y=(300.0,))
        a, dy, dx = rng.uniform(-2.5, 2.5), rng.uniform(-20, 20), rng.uniform(-20, 20)
        t0 = time.perf_counter()
        r = register_images(t.image, move_membrane(c.image, a, dy, dx))
        times.append(time.perf_counter() - t0)
        errs_a.append(abs(r.angle_deg - a))
        errs_s.append(np.hypot(r.dy - dy, r.dx - dx))
    ea, es = np.array(errs_a), np.array(errs_s)
    print(f"{seeds} motions: angle error median {np.median(ea):.2f} deg, max {ea.max():.2f}; "
          f"shift error median {np.median(es):.2f} px, max {es.max():.2f}; "
          f"{np.median(times):.2f} s per registration (400 x 600)")


def real_pair(folder: Path):
    print("\n## real pair b1ar_target_16bit.tif + b1ar_gapdh_16bit.tif")
    rt = quantify_blot(read_image(folder / "b1ar_target_16bit.tif"))
    rc = quantify_blot(read_image(folder / "b1ar_gapdh_16bit.tif"))
    t0 = time.perf_counter()
    p = pair_blots(rt, rc)
    dt = time.perf_counter() - t0
    for s, r in p.registrations.items():
        g = p.lanes[p.lanes["strip"] == s]
        pitch = float(np.median(np.diff(g["target_x"])))
        print(f"strip {s}: {len(g)} lanes paired; {r.method} dx={r.dx:+.1f} px "
              f"(score {r.score:.2f}); lane offsets after registration: max "
              f"{g['offset_px'].abs().max():.1f} px = {g['offset_px'].abs().max() / pitch:.2f} "
              f"pitch; control row {sorted(set(p.table.loc[p.table['strip'] == s, 'control']))}")
    print(f"warnings: {p.warnings}; pairing took {dt:.1f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--real", default=str(ROOT.parent / "shared" / "data"))
    args = ap.parse_args(argv)
    blots = Path(args.real) / "blots"
    if blots.is_dir():
        real_images(blots)
    synthetic(args.seeds)
    false_plateaus(4 * args.seeds)
    registration(args.seeds)
    if blots.is_dir():
        real_pair(blots)


if __name__ == "__main__":
    main()
