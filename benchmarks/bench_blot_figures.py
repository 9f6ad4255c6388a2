"""Figure pages: membrane pieces, lanes per piece and volumes on synthetic figures.

Run:  python benchmarks/bench_blot_figures.py [--seeds 10] [--texture 0.0]

Every seed renders :func:`blotquant.synthetic.make_figure` in four variants
(white page 8-bit dark bands, flat grey page 225, black page with light bands,
white page 16-bit), each with two framed and two unframed panels, printed
headers, lane and row labels, arrowheads and a chart with markers and flat
bars.  The fully automatic ``quantify_blot(image)`` is compared with the truth:

- pieces: as many pieces as panels, each box within 2 px of the panel's;
- lanes: per piece, the sample lanes (ladders excluded) as in the truth, each
  within a quarter pitch of its true centre; ladders flagged as in the truth;
- volumes: every detected band of a sample lane against the generator's exact
  volume (median and 90th percentile of |error|), and against the same panel
  analysed alone (``quantify_blot(panel)``, the peer in the same process: the
  figure must not cost accuracy), and whether the panels alone give the right
  lanes (one strip each);
- CPU time per figure.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

VARIANTS = {"white-8bit": {}, "grey-225": {"page_level": 225.0},
            "black-light-bands": {"polarity": "light-on-dark", "page_level": 0.0},
            "white-16bit": {"dtype": "uint16"}}


def _band_errors(bands, truth_bands, lane_ids, truth_ids, rows, truth_rows):
    """Relative volume errors, bands matched by lane order and row order."""
    errs = []
    for rf, rt in zip(rows, truth_rows):
        for li, ti in zip(lane_ids, truth_ids):
            b = bands[(bands["lane"] == li) & (bands["row"] == rf)]
            t = truth_bands[(truth_bands["lane"] == ti) & (truth_bands["row"] == rt)]
            if len(b) and len(t) and t["volume"].iloc[0] > 0 \
                    and not b["flags"].astype(str).str.contains("not_detected").any():
                errs.append(float(b["volume"].sum() / t["volume"].iloc[0] - 1.0))
    return errs


def evaluate(fig, result, alone=None) -> dict:
    """Compare one figure result with the figure's truth (and the panels alone)."""
    pcs = result.params.get("pieces_found") or []
    out = dict(pieces_ok=len(pcs) == len(fig.pieces), lanes_ok=True, ladders_ok=True,
               errors=[], errors_alone=[], lanes_alone_ok=True)
    if alone is not None:
        for ra, p in zip(alone, fig.pieces.itertuples()):
            tl = fig.lanes[fig.lanes["piece"] == p.piece]
            n = int((~ra.lanes["is_ladder"].astype(bool)).sum())
            if n != int((~tl["is_ladder"]).sum()) or ra.lanes["strip"].nunique() != 1:
                out["lanes_alone_ok"] = False
    for i, p in enumerate(fig.pieces.itertuples()):
        if i >= len(pcs):
            out["lanes_ok"] = out["ladders_ok"] = False
            continue
        got = pcs[i]
        box = (got["top"], got["bottom"] + 1, got["left"], got["right"])
        if max(abs(a - b) for a, b in zip(box, (p.r0, p.r1, p.c0, p.c1))) > 2:
            out["pieces_ok"] = False
        lanes = result.lanes[result.lanes["strip"].isin(got["strips"])]
        tl = fig.lanes[fig.lanes["piece"] == p.piece]
        samp = lanes[~lanes["is_ladder"].astype(bool)].sort_values("x")
        tsamp = tl[~tl["is_ladder"]].sort_values("x")
        if int(lanes["is_ladder"].astype(bool).sum()) != int(tl["is_ladder"].sum()):
            out["ladders_ok"] = False
        if len(samp) != len(tsamp):
            out["lanes_ok"] = False
            continue
        pitch = float(np.median(np.diff(tsamp["x"].to_numpy())))
        if np.max(np.abs(samp["x"].to_numpy() - tsamp["x"].to_numpy())) > 0.25 * pitch:
            out["lanes_ok"] = False
            continue
        sub = result.bands[result.bands["strip"].isin(got["strips"])]
        rows = list(dict.fromkeys(sub.sort_values("y")["row"]))
        tb = fig.bands[fig.bands["piece"] == p.piece]
        trows = list(dict.fromkeys(tb.sort_values("y")["row"]))
        if len(rows) != len(trows):
            continue
        out["errors"] += _band_errors(sub, tb, samp["lane"].to_numpy(), tsamp["lane"].to_numpy(),
                                      rows, trows)
        if alone is not None:
            ra = alone[i]
            sa = ra.lanes[~ra.lanes["is_ladder"].astype(bool)].sort_values("x")
            arows = list(dict.fromkeys(ra.bands.sort_values("y")["row"]))
            if len(sa) == len(tsamp) and len(arows) == len(trows):
                out["errors_alone"] += _band_errors(ra.bands, tb, sa["lane"].to_numpy(),
                                                    tsamp["lane"].to_numpy(), arows, trows)
    return out


def run(seeds: int, texture: float, verbose: bool = True) -> dict:
    from blotquant.blot import quantify_blot
    from blotquant.synthetic import make_figure

    tally = {k: dict(n=0, pieces=0, lanes=0, ladders=0, errors=[], errors_alone=[], cpu=[],
                     lanes_alone=0)
             for k in VARIANTS}
    for seed in range(seeds):
        for name, kw in VARIANTS.items():
            fig = make_figure(seed, texture=texture, **kw)
            t0 = time.process_time()
            res = quantify_blot(fig.to_image())
            cpu = time.process_time() - t0
            alone = [quantify_blot(p.to_image()) for p in fig.panels]
            ev = evaluate(fig, res, alone)
            t = tally[name]
            t["n"] += 1
            t["pieces"] += ev["pieces_ok"]
            t["lanes"] += ev["lanes_ok"]
            t["ladders"] += ev["ladders_ok"]
            t["lanes_alone"] += ev["lanes_alone_ok"]
            t["errors"] += ev["errors"]
            t["errors_alone"] += ev["errors_alone"]
            t["cpu"].append(cpu)
            if verbose and not (ev["pieces_ok"] and ev["lanes_ok"] and ev["ladders_ok"]):
                print(f"  seed {seed} {name}: pieces {ev['pieces_ok']} lanes {ev['lanes_ok']} "
                      f"ladders {ev['ladders_ok']}", flush=True)
    return tally


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--texture", type=float, default=0.0)
    a = ap.parse_args(argv)
    tally = run(a.seeds, a.texture)
    print(f"figures: {a.seeds} seeds x {len(VARIANTS)} variants, texture={a.texture}")
    print("| variant | pieces | lanes per piece | ladders | |volume error| median / p90 "
          "(bands) | same panels alone: lanes, volume error | CPU s per figure |")
    print("|---|---|---|---|---|---|---|")
    for name, t in tally.items():
        e = np.abs(t["errors"])
        ea = np.abs(t["errors_alone"])
        fmt = (lambda v: f"{100 * np.median(v):.2f} % / {100 * np.percentile(v, 90):.2f} % "
               f"({len(v)})" if len(v) else "-")
        print(f"| {name} | {t['pieces']}/{t['n']} | {t['lanes']}/{t['n']} | "
              f"{t['ladders']}/{t['n']} | {fmt(e)} | {t['lanes_alone']}/{t['n']}, {fmt(ea)} | "
              f"{np.median(t['cpu']):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
