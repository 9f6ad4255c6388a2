"""Batch benchmark: 50 synthetic blots + 5 corrupt files, kill half-way, resume.

Usage::

    python benchmarks/bench_batch.py [--n 50] [--bad 5] [--workers 2] [--keep DIR]

Measures (each through the real ``blotquant batch`` command in a subprocess):

1. a full run (dask worker processes, QC figures on) -> throughput, exit
   status, 50 quantified, 5 in errors.csv;
2. the same without QC figures, with thread workers, and in-process without
   dask (``--workers 0``: the sequential peer) -> ratios;
3. a run killed with SIGKILL once about half of the images are done, then
   restarted -> number resumed, time of the second part, byte-identical
   tables compared with the uninterrupted run made just before (the
   in-process one: same code, so engine edits made while the benchmark runs
   cannot fake a difference).

Prints a Markdown table (copied into docs/benchmarks/batch.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

TABLES = ("bands.csv", "lanes.csv", "normalized.csv", "errors.csv")


def make_folder(folder: Path, n: int, bad: int) -> None:
    import tifffile

    from blotquant.synthetic import make_blot

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        b = make_blot(i, shape=(300, 480), n_lanes=8, rows=("ASNS", "ACTB"),
                      tilt_deg=(i % 5 - 2) * 0.4, saturate=(i % 10 == 9))
        tifffile.imwrite(folder / f"blot_{i:03d}.tif", b.image, compression="zlib")
    rng = __import__("numpy").random.default_rng(0)
    kinds = [b"II*\x00" + rng.bytes(2000),                       # TIFF header, garbage
             b"\x89PNG\r\n\x1a\n" + rng.bytes(100),              # truncated PNG
             b"",                                               # empty file
             rng.bytes(5000),                                   # random bytes
             b"\xff\xd8\xff\xe0" + rng.bytes(300)]              # truncated JPEG
    exts = [".tif", ".png", ".tif", ".tiff", ".jpg"]
    for j in range(bad):
        (folder / f"corrupt_{j}{exts[j % 5]}").write_bytes(kinds[j % 5])


def cli(args, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "blotquant", "batch", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def timed(args) -> tuple[float, int, str]:
    t0 = time.perf_counter()
    p = cli(args)
    out, err = p.communicate()
    return time.perf_counter() - t0, p.returncode, out.decode() + err.decode()[-2000:]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--bad", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", help="keep the outputs in this folder")
    ap.add_argument("--skip-qc", action="store_true", help="skip the (slow) QC-figure run")
    a = ap.parse_args()
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench_batch_"))
    root.mkdir(parents=True, exist_ok=True)
    src = root / "images"
    shutil.rmtree(src, ignore_errors=True)
    make_folder(src, a.n, a.bad)
    total = a.n + a.bad
    w = str(a.workers)
    rows = []
    print(f"{a.n} blots (300x480 uint16, 8 lanes) + {a.bad} corrupt files, "
          f"{a.workers} workers, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")

    def run(name, out, extra):
        shutil.rmtree(out, ignore_errors=True)
        s, rc, text = timed([str(src), "--out", str(out), "-q", "--workers", w, *extra])
        errors = pd.read_csv(out / "errors.csv")
        n_ok = pd.read_csv(out / "bands.csv")["image"].nunique()
        rows.append((name, s, total / s, rc, n_ok, len(errors)))
        print(f"{name:40s} {s:7.1f} s  {total / s:5.2f} images/s  exit {rc}  "
              f"quantified {n_ok}  errors {len(errors)}")
        return out

    if not a.skip_qc:
        run("processes, QC figures", root / "out_qc", [])
    run("processes, no QC", root / "out_noqc", ["--no-qc"])
    run("threads, no QC", root / "out_threads", ["--threads", "--no-qc"])
    full = root / "out_seq"
    s, rc, _ = timed([str(src), "--out", str(full), "-q", "--workers", "0", "--no-qc"])
    rows.append(("in-process, no dask (peer), no QC", s, total / s, rc, None, None))
    print(f"{'in-process, no dask (peer), no QC':40s} {s:7.1f} s  {total / s:5.2f} images/s")

    # ---- kill -9 half-way, then resume
    out = root / "out_kill"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    p = cli([str(src), "--out", str(out), "-q", "--workers", w, "--no-qc"])
    while p.poll() is None and len(list(out.glob("images/*/done.json"))) < a.n // 2:
        time.sleep(0.01)
    p.kill()
    p.wait()
    t_kill = time.perf_counter() - t0
    done_at_kill = len(list(out.glob("images/*/done.json")))
    s2, rc2, text = timed([str(src), "--out", str(out), "-q", "--workers", w, "--no-qc"])
    same = all((out / t).read_bytes() == (full / t).read_bytes() for t in TABLES)
    resumed = [ln for ln in text.splitlines() if "already done" in ln]
    print(f"killed (SIGKILL) after {t_kill:.1f} s with {done_at_kill} images done; "
          f"restart took {s2:.1f} s, exit {rc2}: {resumed[0] if resumed else text}")
    print(f"final tables byte-identical to the uninterrupted run: {same}")

    print("\n| run | seconds | images/s | exit | quantified | errors.csv rows |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, s, ips, rc, n_ok, n_err in rows:
        print(f"| {name} | {s:.1f} | {ips:.2f} | {rc} | {'' if n_ok is None else n_ok} | "
              f"{'' if n_err is None else n_err} |")
    seq = rows[-1][1]
    for name, s, *_ in rows[:-1]:
        print(f"ratio in-process/{name}: {seq / s:.2f}x")
    print(f"| kill -9 at {done_at_kill}/{a.n} done, restart | {s2:.1f} | | {rc2} | | |")
    print(f"resume: tables identical = {same}")
    if not a.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if same and rc2 == 3 else 1


if __name__ == "__main__":
    sys.exit(main())
