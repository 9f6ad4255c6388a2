"""Real camera blots resampled, with another display gamma: the lane counts must hold.

The same rule and data as ``benchmarks/bench_blot_invariance.py`` (see
``docs/benchmarks/blot_invariance.md``), on the 16-bit camera blots whose lanes
are marked sure.  The floor is the count reached today: a change that loses
variants fails here even when the originals stay right.  Skipped when the data
folder is absent.
"""

from __future__ import annotations

import importlib
import json

import pytest

pytestmark = pytest.mark.realdata

#: right variants (x0.5, x0.7, x1.5, gamma 0.6, gamma 1.6) of the 13 sure 16-bit blots
#: on 2026-12-01 (48 of 65 before the strip rules of round 5; 60 with them, 59 after the
#: film edge-lane rule, which keeps a membrane-edge lane of b3ar_oct1_target at 1.5x;
#: 61 in round 6: end lanes judged by their bands' shape and place, membrane-edge lanes
#: within 0.3 pitch of the edge; 62 in round 7: the text-removing opening set from the
#: lane pitch, which gives b2ar_jun20_gapdh its two strips at 1.5x)
FLOOR = 62

#: right resampled variants (x0.5, x0.7, x1.5) of the 4 film scans that are right as
#: they are: 1 of 12 before round 7, 7 with the opening set from the lane pitch
FILM_FLOOR = 7


def test_camera_blot_variants_keep_their_lanes(shared_blots):
    bench = importlib.import_module("bench_blot_invariance")
    real = importlib.import_module("bench_blot_real")
    truth = json.loads((shared_blots / "truth.json").read_text())["images"]
    names = [t["file"] for t in truth
             if "16bit" in t["file"] and real.sure_parts(t["confidence"])["lanes"]]
    assert len(names) == 13
    variants = ("x0.5", "x0.7", "x1.5", "gamma0.6", "gamma1.6")
    rows = bench.run(shared_blots, names, variants)
    assert all(r["orig"][0] for r in rows), [r["file"] for r in rows if not r["orig"][0]]
    right = sum(r[v][0] for r in rows for v in variants)
    wrong = [(r["file"], v, r[v][1]) for r in rows for v in variants if not r[v][0]]
    assert right >= FLOOR, wrong


def test_film_scans_keep_their_lanes_at_other_resolutions(shared_blots):
    bench = importlib.import_module("bench_blot_invariance")
    names = ["flg_film_scan_rgba.tif", "gapdh_film_scan_rgba.tif",
             "flg_film_rep45_rgba.tif", "gapdh_film_rep45_rgba.tif"]
    variants = ("x0.5", "x0.7", "x1.5")
    rows = bench.run(shared_blots, names, variants)
    assert len(rows) == 4
    assert all(r["orig"][0] for r in rows), [r["file"] for r in rows if not r["orig"][0]]
    right = sum(r[v][0] for r in rows for v in variants)
    wrong = [(r["file"], v, r[v][1]) for r in rows for v in variants if not r[v][0]]
    assert right >= FILM_FLOOR, wrong
