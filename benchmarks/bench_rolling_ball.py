"""Benchmark blotquant's rolling ball against ImageJ and scikit-image.

For every real blot in ../shared/data/blots (converted to gray as blotquant reads
it) and a synthetic 0.8-megapixel 16-bit blot:

- blotquant ``rolling_ball(img, radius)`` (median of ``--repeats`` warm runs);
- ImageJ 1.x "Subtract Background... create" timed *inside* the macro with
  ``getTime()`` on a warm JVM (``--ij-repeats`` runs per image; the first 3 are
  warm-up and not counted), plus agreement of the two backgrounds;
- ``skimage.restoration.rolling_ball`` (same radius; no smoothing, no shrinking).
  It costs ~O(r^2) per pixel, so by default it is timed on a central crop of 1/4
  of the pixels and scaled x4 (time is linear in the pixel count at a fixed radius);
  ``--skimage full`` times the whole images instead.

Run:  .venv/bin/python benchmarks/bench_rolling_ball.py [--write]
(``--write`` replaces the results table in docs/benchmarks/rolling_ball.md).
ImageJ is found at /usr/share/java/ij.jar (or $BLOTQUANT_IJ_JAR) and run with
``xvfb-run -a java -jar ij.jar -batch macro.ijm``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from blotquant.blot.background import rolling_ball, shrink_parameters

REPO = Path(__file__).resolve().parents[1]
BLOTS = REPO.parent / "shared" / "data" / "blots"
IJ_JAR = Path(os.environ.get("BLOTQUANT_IJ_JAR", "/usr/share/java/ij.jar"))
DOC = REPO / "docs" / "benchmarks" / "rolling_ball.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def load_images():
    """[(name, gray ndarray, light_background)]"""
    from blotquant.synthetic import make_blot

    out = []
    syn = make_blot(seed=0, shape=(736, 1092))
    out.append(("synthetic 736x1092 uint16", np.asarray(syn.image),
                syn.truth.polarity == "dark-on-light"))
    if BLOTS.is_dir():
        from blotquant.io import read_image, to_gray

        for f in sorted(BLOTS.glob("*.tif")):
            im = to_gray(read_image(f))
            out.append((f.name, np.asarray(im.data), im.metadata.polarity == "dark-on-light"))
    else:
        print(f"[skip] {BLOTS} not present: synthetic image only", file=sys.stderr)
    return out


def time_ours(img, radius, light, repeats):
    rolling_ball(img, radius, light_background=light)          # warm-up (ball cache)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bg = rolling_ball(img, radius, light_background=light)
        ts.append(time.perf_counter() - t0)
    return bg, 1000 * float(np.median(ts)), 1000 * float(min(ts))


def time_skimage(img, radius, light, mode):
    from skimage.restoration import rolling_ball as sk_rb

    a = img.astype(np.float32)
    if light:
        a = a.max() - a
    scale = 1.0
    if mode == "crop":
        h, w = a.shape
        a = a[h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2]
        scale = img.size / a.size
    t0 = time.perf_counter()
    sk_rb(a, radius=radius)
    return 1000 * (time.perf_counter() - t0) * scale


def run_imagej(images, radius, repeats, tmp):
    """Returns (version, {i: (times_ms list, background ndarray)})."""
    import tifffile

    if not (shutil.which("java") and IJ_JAR.is_file()):
        return None, {}
    lines = ["setBatchMode(true);", 'print("VERSION "+getVersion());']
    for i, (name, img, light) in enumerate(images):
        src = tmp / f"in{i}.tif"
        tifffile.imwrite(src, img)
        opt = f"rolling={radius}{' light' if light else ''} create"
        lines += [f'open("{src}"); id=getImageID();',
                  f"for (r=0; r<{repeats}; r++) {{ selectImage(id); "
                  'run("Duplicate...", "title=dup"); t0=getTime(); '
                  f'run("Subtract Background...", "{opt}"); t=getTime()-t0; '
                  f'print("TIME {i} "+t); if (r<{repeats}-1) close(); }}',
                  f'saveAs("Tiff", "{tmp / f"out{i}.tif"}"); close("*");']
    macro = tmp / "bench.ijm"
    macro.write_text("\n".join(lines) + "\n")
    cmd = ["java", "-Xmx2g", "-jar", str(IJ_JAR), "-batch", str(macro)]
    if shutil.which("xvfb-run"):
        cmd = ["xvfb-run", "-a"] + cmd
    else:
        cmd.insert(1, "-Djava.awt.headless=true")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    version = (re.findall(r"VERSION (\S+)", proc.stdout) or ["?"])[0]
    res = {}
    for i in range(len(images)):
        ts = [int(t) for t in re.findall(rf"TIME {i} (\d+)", proc.stdout)]
        out = tmp / f"out{i}.tif"
        if ts and out.exists():
            res[i] = (ts, tifffile.imread(out))
    if not res:
        print("ImageJ produced no output:", proc.stdout[-500:], proc.stderr[-500:], file=sys.stderr)
    return version, res


def agreement(ours, ij, img):
    span = float(img.max()) - float(img.min())
    diff = np.abs(ours.astype(np.float64) - ij.astype(np.float64))
    # what ImageJ writes for 8/16-bit: rounded and clamped to the type's range
    same = clamped = ours.astype(np.float64)
    if img.dtype.kind in "ui":
        clamped = np.clip(clamped, 0, np.iinfo(img.dtype).max)
        same = np.floor(clamped + 0.5)
    identical = float(np.mean(same == ij))
    maxc = float(np.abs(clamped - ij).max())
    return float(np.percentile(diff, 99)) / span, (float(diff.max()), maxc), identical


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--radius", type=float, default=50)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--ij-repeats", type=int, default=10)
    ap.add_argument("--skimage", choices=("crop", "full", "none"), default="crop")
    ap.add_argument("--no-imagej", action="store_true")
    ap.add_argument("--sweep", action="store_true",
                    help="also time radii 10..200 on the synthetic image")
    ap.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(REPO)}")
    args = ap.parse_args(argv)
    radius = args.radius if args.radius != int(args.radius) else int(args.radius)

    images = load_images()
    load = os.getloadavg()
    rows = []
    ijv = None
    with tempfile.TemporaryDirectory() as td:
        ij = {}
        if not args.no_imagej:
            ijv, ij = run_imagej(images, radius, args.ij_repeats, Path(td))
        for i, (name, img, light) in enumerate(images):
            bg, t_ours, t_ours_min = time_ours(img, radius, light, args.repeats)
            t_sk = (None if args.skimage == "none"
                    else time_skimage(img, radius, light, args.skimage))
            row = {"image": name, "shape": "x".join(map(str, img.shape)), "dtype": str(img.dtype),
                   "light": light, "ours_ms": t_ours, "ours_min": t_ours_min, "sk_ms": t_sk}
            if i in ij:
                ts, ijbg = ij[i]
                warm = ts[3:] if len(ts) > 4 else ts
                row.update(ij_ms=float(np.median(warm)), ij_min=float(min(warm)),
                           ij_cold=float(ts[0]))
                row["p99"], row["maxdiff"], row["identical"] = agreement(bg, ijbg, img)
            rows.append(row)
            print(_fmt_row(row), flush=True)
        sweep = []
        if args.sweep:
            name, img, light = images[0]
            radii = [10, 25, 50, 100, 200]
            ijs = {}
            if not args.no_imagej:
                for r in radii:
                    _, res = run_imagej([images[0]], r, args.ij_repeats, Path(td))
                    if 0 in res:
                        ijs[r] = float(np.median(res[0][0][3:]))
            for r in radii:
                _, t, _ = time_ours(img, r, light, args.repeats)
                sweep.append((r, shrink_parameters(r)[0], t, ijs.get(r)))
                print(f"sweep r={r}: ours {t:.1f} ms, ImageJ {ijs.get(r)} ms", flush=True)

    md = _markdown(rows, sweep, radius, ijv, load, args)
    print()
    print(md)
    if args.write:
        text = DOC.read_text() if DOC.exists() else f"{BEGIN}\n{END}\n"
        pre, rest = text.split(BEGIN, 1)
        post = rest.split(END, 1)[1]
        DOC.write_text(pre + BEGIN + "\n" + md + "\n" + END + post)
        print(f"wrote {DOC}")
    return 0


def _fmt_row(r):
    s = f"{r['image']:<34} ours {r['ours_ms']:7.1f} ms"
    if r.get("ij_ms") is not None:
        s += (f" | ImageJ {r['ij_ms']:6.0f} ms (x{r['ij_ms'] / r['ours_ms']:.1f})"
              f" | p99 {r['p99']:.2e} max {r['maxdiff'][0]:.2f}/{r['maxdiff'][1]:.2f}"
              f" same {100 * r['identical']:.2f}%")
    if r.get("sk_ms") is not None:
        s += f" | skimage {r['sk_ms']:8.0f} ms (x{r['sk_ms'] / r['ours_ms']:.0f})"
    return s


def _markdown(rows, sweep, radius, ijv, load, args):
    import cv2
    import skimage

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    sk_note = {"crop": "timed on a central crop of 1/4 of the pixels, x4 (extrapolated)",
               "full": "timed on the whole image", "none": "not run"}[args.skimage]
    out = [f"Radius {radius}, ImageJ default options (3x3 smoothing on, light background for "
           "dark-on-light images). "
           f"Machine: {cpu}, {os.cpu_count()} cores, load average at start "
           f"{load[0]:.1f}; numpy {np.__version__}, OpenCV {cv2.__version__}, "
           f"scikit-image {skimage.__version__}, ImageJ {ijv or 'not run'}.",
           "",
           "| image | shape | dtype | blotquant ms (median / min) | "
           "ImageJ ms (warm median / min) | "
           "ImageJ / ours | skimage ms | skimage / ours | p99 abs diff / range | "
           "max abs diff (raw / clamped to dtype range) | "
           "identical after round+clamp |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ijc = (f"{r['ij_ms']:.0f} / {r['ij_min']:.0f}" if r.get("ij_ms") is not None else "-")
        ratio = f"{r['ij_ms'] / r['ours_ms']:.1f}x" if r.get("ij_ms") is not None else "-"
        sk = f"{r['sk_ms']:.0f}" if r.get("sk_ms") is not None else "-"
        skr = f"{r['sk_ms'] / r['ours_ms']:.0f}x" if r.get("sk_ms") is not None else "-"
        p99 = f"{r['p99']:.1e}" if "p99" in r else "-"
        mx = f"{r['maxdiff'][0]:.2f} / {r['maxdiff'][1]:.2f}" if "maxdiff" in r else "-"
        same = f"{100 * r['identical']:.3f}%" if "identical" in r else "-"
        ours = f"{r['ours_ms']:.1f} / {r['ours_min']:.1f}"
        out.append(f"| {r['image']} | {r['shape']} | {r['dtype']} | {ours} | {ijc} | "
                   f"{ratio} | {sk} | {skr} | {p99} | {mx} | {same} |")
    out += ["", f"skimage: {sk_note}; no smoothing and no shrinking (the exact ball at full "
            "resolution), so its output is not expected to equal ImageJ's."]
    if sweep:
        out += ["", "Radius sweep on the synthetic image (ImageJ warm median):", "",
                "| radius | shrink | blotquant ms | ImageJ ms | ImageJ / ours |",
                "|---:|---:|---:|---:|---:|"]
        for r, s, t, tij in sweep:
            out.append(f"| {r} | {s} | {t:.1f} | {tij if tij is None else f'{tij:.0f}'} | "
                       f"{'-' if tij is None else f'{tij / t:.1f}x'} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
