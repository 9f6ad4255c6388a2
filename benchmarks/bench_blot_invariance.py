"""Lane counts of real blots under changes a person does not see as a different blot.

Run:  python benchmarks/bench_blot_invariance.py [--data ../shared/data/blots]
          [--variants x0.5,x0.7,x1.5,gamma0.6,gamma1.6,jpeg75] [--framing] [NAME ...]

Held-out blots come from other cameras and scanners: another resolution,
another display gamma, a JPEG export.  Every real image of
``bench_blot_real.py`` whose lanes are marked sure is analysed as it is and as
each variant below, and its lanes per strip are scored against the same
person-counted truth (``bench_blot_real.evaluate``):

- ``x0.5``, ``x0.7``, ``x1.5``: resampled (OpenCV area averaging down, bilinear up);
- ``gamma0.6``, ``gamma1.6``: ``max * (v / max) ** g`` in the image's own dtype
  (a display curve: band order and lane positions are unchanged);
- ``jpeg75``: 8-bit images re-encoded as JPEG quality 75 (skipped for 16-bit).

``--framing`` runs other framing and export changes instead: ``rot1`` / ``rot-1``
(the membrane 1 deg askew), ``pad3`` / ``pad10`` (a uniform frame of 3 / 10 % of
the long side: a wider field of view), ``crop3`` (3 % of each side cut off) and
``to8`` (16-bit images exported as 8 bits, range stretched).

The metadata of the file (saturation level, polarity hints) is kept.  An engine
whose lane count flips under these changes fits the shared images, not blots:
the share of variants right is the number to watch, beside the share of
originals right.  Prints one line per image and the totals per variant.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_blot_real as real  # noqa: E402  (one truth reader and one scoring rule)
from _variants import resample  # noqa: E402

ALL_VARIANTS = ("x0.5", "x0.7", "x1.5", "gamma0.6", "gamma1.6", "jpeg75")
# framing and export changes (``--variants`` names them; not in the default table,
# whose 125 cases are compared across rounds)
FRAMING_VARIANTS = ("rot1", "rot-1", "pad3", "pad10", "crop3", "to8")


def variant(a: np.ndarray, name: str) -> np.ndarray | None:
    """The pixel array ``a`` changed as ``name`` says (None: does not apply)."""
    if name == "orig":
        return a
    if name.startswith("x"):
        return resample(a, float(name[1:]))
    if name.startswith("gamma"):
        g = float(name[5:])
        mx = float(np.iinfo(a.dtype).max) if a.dtype.kind in "ui" else float(a.max())
        out = mx * (a.astype(np.float64) / mx) ** g
        return np.clip(np.rint(out), 0, mx).astype(a.dtype)
    if name.startswith("rot"):
        # the membrane laid 1 deg askew: rotated about the centre, corners filled
        # by the nearest edge pixels
        h, w = a.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), float(name[3:]), 1.0)
        return cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    if name.startswith("pad"):
        # a wider field of view: a uniform frame (the median of the image's outer
        # two pixels) of the given percent of the long side on every side
        p = int(round(float(name[3:]) / 100 * max(a.shape[:2])))
        ch = a.shape[2:]
        frame = np.concatenate([a[:2].reshape(-1, *ch), a[-2:].reshape(-1, *ch),
                                a[:, :2].reshape(-1, *ch), a[:, -2:].reshape(-1, *ch)])
        val = [float(x) for x in np.atleast_1d(np.median(frame, axis=0))] + [0.0] * 3
        return cv2.copyMakeBorder(a, p, p, p, p, cv2.BORDER_CONSTANT, value=val[:4])
    if name.startswith("crop"):
        # a tighter crop: the given percent of each side cut off
        f = float(name[4:]) / 100
        h, w = a.shape[:2]
        dy, dx = int(f * h), int(f * w)
        return a[dy:h - dy, dx:w - dx]
    if name == "to8":
        # a 16-bit image exported as 8 bits, its range stretched to 0-255
        if a.dtype != np.uint16:
            return None
        x = a.astype(np.float64)
        lo, hi = float(x.min()), float(x.max())
        return np.clip(np.rint(255 * (x - lo) / max(hi - lo, 1.0)), 0, 255).astype(np.uint8)
    if name.startswith("jpeg"):
        if a.dtype != np.uint8:
            return None
        q = int(name[4:])
        rgb = a[..., :3] if a.ndim == 3 else a
        ok, buf = cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if a.ndim == 3 and a.shape[2] == 4:   # keep the transparency of RGBA scans
            out = np.dstack([out, a[..., 3]])
        return out
    raise ValueError(f"unknown variant {name!r}")


def run(data: Path, names=None, variants=ALL_VARIANTS):
    from blotquant.blot import quantify_blot
    from blotquant.image import Image
    from blotquant.io import read_image

    truth = json.loads((data / "truth.json").read_text())["images"]
    out = []
    for t in truth:
        if names and t["file"] not in names:
            continue
        if not real.sure_parts(t["confidence"])["lanes"]:
            continue
        img = read_image(data / t["file"])
        a = np.asarray(img.data)
        row = {"file": t["file"]}
        for name in ("orig",) + tuple(variants):
            v = variant(a, name)
            if v is None:
                continue
            try:
                r = quantify_blot(Image(data=np.ascontiguousarray(v), metadata=img.metadata),
                                  image_name=t["file"])
                ev = real.evaluate(r, t)
                row[name] = (bool(ev["lanes_ok"]), ev["lanes_found"])
            except Exception as err:   # report, do not stop the table
                row[name] = (False, f"{type(err).__name__}: {str(err)[:50]}")
        out.append(row)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--data", type=Path, default=real.DEFAULT_DATA)
    ap.add_argument("--variants", default=",".join(ALL_VARIANTS))
    ap.add_argument("--framing", action="store_true",
                    help="run " + ",".join(FRAMING_VARIANTS) + " instead")
    a = ap.parse_args(argv)
    if not (a.data / "truth.json").is_file():
        print(f"no truth.json in {a.data}: nothing to do")
        return 0
    variants = (FRAMING_VARIANTS if a.framing
                else tuple(v for v in a.variants.split(",") if v))
    t0 = time.perf_counter()
    res = run(a.data, a.names, variants)
    cols = ("orig",) + variants
    print("| image | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for r in res:
        cells = []
        for c in cols:
            if c not in r:
                cells.append("-")
            else:
                ok, found = r[c]
                cells.append("ok" if ok else f"**{found}**")
        print(f"| {r['file']} | " + " | ".join(cells) + " |", flush=True)
    tot_ok = tot_n = 0
    parts = []
    for c in cols:
        have = [r[c][0] for r in res if c in r]
        parts.append(f"{c} {sum(have)}/{len(have)}")
        if c != "orig":
            tot_ok += sum(have)
            tot_n += len(have)
    print("right: " + ", ".join(parts))
    print(f"all variants: {tot_ok}/{tot_n} ({100 * tot_ok / max(tot_n, 1):.0f} %); "
          f"images right in every variant and as they are: "
          f"{sum(all(r[c][0] for c in cols if c in r) for r in res)}/{len(res)}; "
          f"{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
