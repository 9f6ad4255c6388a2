"""A/B timing of ``score_ihc`` cell mode: two source trees, runs alternated, CPU s per call.

Usage::

    python benchmarks/bench_ab.py OLD_TREE NEW_TREE                 # one process
    python benchmarks/bench_ab.py OLD_TREE NEW_TREE --processes 2   # one process per tree
    python benchmarks/bench_ab.py OLD_TREE NEW_TREE --check         # + outputs compared exactly

A tree is a directory holding a ``blotquant`` package (a checkout, or ``git archive
<commit> blotquant | tar -x -C DIR``).  The field is ``make_cell_image(0)`` rendered at
each pixel size (2048 px: 0.25 um/px = 40x, 0.5 = 20x), scored with the pixel size
given and estimated.  Each repetition runs one tree then the other (the order swapped
every time), so the machine's load falls on both alike; best and median of ``--n``.

With one process both trees' modules are loaded side by side (``sys.modules`` swapped
before each call, so their lazy imports resolve to their own tree) and share one C
heap.  ``--processes 2`` gives each tree its own long-lived process: the memory
effects (fresh pages zeroed by the kernel, the system CPU they cost, minor page
faults) then belong to each tree alone; CPU s counts user + system time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np


def _load(root: str) -> dict:
    """The ``blotquant`` modules of the tree at ``root`` (imported afresh)."""
    for k in [k for k in sys.modules if k == "blotquant" or k.startswith("blotquant.")]:
        del sys.modules[k]
    sys.path.insert(0, root)
    try:
        for name in ("blotquant.ihc", "blotquant.ihc.cells", "blotquant.ihc.compare",
                     "blotquant.ihc.scale", "blotquant.synthetic.cells"):
            importlib.import_module(name)
        # the tree's own compiled modules in its module set (imported lazily otherwise: the
        # first tree's would then serve the second tree's calls)
        for ext in ("_cellc", "_pixelc"):
            try:
                importlib.import_module(f"blotquant.ihc.{ext}")
            except ImportError:
                pass
    finally:
        sys.path.remove(root)
    mods = {k: v for k, v in sys.modules.items() if k == "blotquant" or k.startswith("blotquant.")}
    where = Path(mods["blotquant"].__file__).resolve()
    if Path(root).resolve() not in where.parents:
        raise SystemExit(f"{root}: blotquant was imported from {where}")
    return mods


def _cases(make, size, pixel_sizes):
    out = []
    for ps in pixel_sizes:
        img = make(0, shape=(size, size), pixel_size_um=ps).image
        out.append((f"{ps:g} um/px, given", img, {"pixel_size_um": ps}))
        out.append((f"{ps:g} um/px, estimated", img, {}))
    return out


def _usage():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, r.ru_stime, r.ru_minflt


def _timed(fn, img, kw):
    c0, s0, f0 = _usage()
    res = fn(img, **kw)
    c1, s1, f1 = _usage()
    return res, {"cpu": c1 - c0, "sys": s1 - s0, "faults": f1 - f0}


def _same(a, b) -> bool:
    import pandas as pd

    for k in ("nuclei_labels", "cell_labels", "tissue_mask", "class_map", "dab_od", "hematoxylin_od"):
        if not np.array_equal(getattr(a, k), getattr(b, k)):
            return False
    try:
        pd.testing.assert_frame_equal(a.cells, b.cells, check_exact=True)
        pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    except AssertionError:
        return False
    return json.dumps(a.params, sort_keys=True, default=str) == json.dumps(b.params, sort_keys=True, default=str)


def _worker(root: str, size: int, pixel_sizes) -> None:
    """Serve ``case index`` lines on stdin with one timed run each (``--processes 2``)."""
    mods = _load(root)
    score = mods["blotquant.ihc"].score_ihc
    cases = _cases(mods["blotquant.synthetic.cells"].make_cell_image, size, pixel_sizes)
    for line in sys.stdin:
        _, _, img, kw = (None, *cases[int(line)])
        res, t = _timed(score, img, kw)
        del res
        print(json.dumps(t), flush=True)


def _report(label, runs, mpix):
    def stat(rs):
        c = np.array([r["cpu"] for r in rs])
        return c.min(), float(np.median(c)), float(np.median([r["sys"] for r in rs])), \
            float(np.median([r["faults"] for r in rs]))
    (ob, om, os_, of), (nb, nm, ns, nf) = stat(runs["old"]), stat(runs["new"])
    print(f"{label:24s} old {ob:.3f} / {om:.3f} (sys {os_:.3f}, {of:.0f} faults)  new {nb:.3f} / {nm:.3f} "
          f"(sys {ns:.3f}, {nf:.0f} faults)  change {100 * (nb / ob - 1):+.1f} % / {100 * (nm / om - 1):+.1f} %  "
          f"Mpix per CPU s {mpix / nb:.1f} (old {mpix / ob:.1f})", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", help="directory holding the old blotquant package")
    ap.add_argument("new", help="directory holding the new blotquant package")
    ap.add_argument("--n", type=int, default=7, help="runs per tree and case (best and median)")
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--pixel-sizes", default="0.5,0.25")
    ap.add_argument("--processes", type=int, choices=(1, 2), default=1)
    ap.add_argument("--check", action="store_true", help="compare the two trees' outputs (one process)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    pixel_sizes = [float(v) for v in a.pixel_sizes.split(",") if v.strip()]
    if a.worker:
        _worker(a.worker, a.size, pixel_sizes)
        return 0
    mpix = a.size * a.size / 1e6
    print(f"score_ihc cell mode, {a.size} px field, CPU s per call (user + system), best / median of "
          f"{a.n}, {a.processes} process(es); old = {a.old}, new = {a.new}")
    if a.processes == 1:
        trees = {"old": _load(a.old), "new": _load(a.new)}

        def score(t):
            sys.modules.update(trees[t])  # (lazy imports inside the calls resolve to this tree)
            return trees[t]["blotquant.ihc"].score_ihc

        cases = _cases(trees["old"]["blotquant.synthetic.cells"].make_cell_image, a.size, pixel_sizes)
        for label, img, kw in cases:
            first = {t: score(t)(img, **kw) for t in trees}  # warm-up
            if a.check:
                print(f"{label}: outputs {'identical' if _same(first['old'], first['new']) else 'DIFFERENT'}")
            del first
            runs = {"old": [], "new": []}
            for i in range(a.n):
                for t in (("old", "new") if i % 2 == 0 else ("new", "old")):
                    res, tm = _timed(score(t), img, kw)
                    del res
                    runs[t].append(tm)
            _report(label, runs, mpix)
        return 0
    procs = {t: subprocess.Popen([sys.executable, __file__, a.old, a.new, "--worker", root, "--size", str(a.size),
                                  "--pixel-sizes", a.pixel_sizes], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
             for t, root in (("old", a.old), ("new", a.new))}

    def run(t, k):
        procs[t].stdin.write(f"{k}\n")
        procs[t].stdin.flush()
        return json.loads(procs[t].stdout.readline())

    labels = [f"{ps:g} um/px, {how}" for ps in pixel_sizes for how in ("given", "estimated")]
    try:
        for k, label in enumerate(labels):
            for t in procs:
                run(t, k)  # warm-up
            runs = {"old": [], "new": []}
            for i in range(a.n):
                for t in (("old", "new") if i % 2 == 0 else ("new", "old")):
                    runs[t].append(run(t, k))
            _report(label, runs, mpix)
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
