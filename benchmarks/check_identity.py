"""Exact identity of two source trees' outputs on 27 ``score_ihc`` and 2 ``score_slide`` runs.

Usage::

    python benchmarks/check_identity.py OLD_TREE NEW_TREE [--data DEEPLIIF_DIR]

A tree is a directory holding a ``blotquant`` package (``git archive <commit>
blotquant | tar -x -C DIR``; build its C modules there if it has any).  Both
trees are loaded in one process (``sys.modules`` swapped before each call, as in
``bench_ab.py``) and each case is compared exactly: nucleus and cell labels,
tissue mask, class map and both OD maps with ``np.array_equal``, cells and
summary with ``assert_frame_equal(check_exact=True)``, ``params`` as JSON.  The
real tiles (DeepLIIF Bladder1 / Lung1, large_ROI_1 / 7 / 127) are used when the
data folder is there, the colon of scikit-image always.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_ab  # noqa: E402

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ihc" / "deepliif"


def _jpeg(rgb, quality):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _cases(make, data: Path):
    from skimage import data as skdata
    from skimage import io as skio

    out = []
    for ps in (0.25, 0.35, 0.5):
        img = make(1, shape=(1024, 1024), pixel_size_um=ps).image
        out += [(f"1024 px {ps} um/px given", "ihc", img, {"pixel_size_um": ps}),
                (f"1024 px {ps} um/px estimated", "ihc", img, {}),
                (f"1024 px {ps} um/px nuclear", "ihc", img, {"marker": "nuclear"})]
    big = make(0, shape=(2048, 2048), pixel_size_um=0.5).image
    big40 = make(0, shape=(2048, 2048), pixel_size_um=0.25).image
    out += [("2048 px 0.5 given", "ihc", big, {"pixel_size_um": 0.5}),
            ("2048 px 0.5 estimated", "ihc", big, {}),
            ("2048 px 0.25 given", "ihc", big40, {"pixel_size_um": 0.25}),
            ("2048 px 0.25 estimated", "ihc", big40, {}),
            ("2048 px 0.5 pixel mode", "ihc", big, {"pixel_size_um": 0.5, "mode": "pixel"}),
            ("1024 px jpeg q85 0.27 estimated", "ihc",
             _jpeg(make(2, shape=(1024, 1024), pixel_size_um=0.27).image, 85), {})]
    colon = skdata.immunohistochemistry()
    out += [("colon estimated", "ihc", colon, {}), ("colon nuclear", "ihc", colon, {"marker": "nuclear"}),
            ("colon 0.25", "ihc", colon, {"pixel_size_um": 0.25})]
    if data.is_dir():
        for name in ("Bladder1", "Lung1"):
            rgb = skio.imread(data / f"train_{name}_ihc.png")[..., :3]
            out.append((f"DeepLIIF {name} nuclear", "ihc", rgb, {"marker": "nuclear"}))
        for name in ("large_ROI_1", "large_ROI_7", "large_ROI_127"):
            rgb = skio.imread(data / f"{name}.png")[..., :3]
            out += [(f"{name} nuclear", "ihc", rgb, {"marker": "nuclear"}),
                    (f"{name} cytoplasmic", "ihc", rgb, {"marker": "cytoplasmic"})]
            if name == "large_ROI_1":
                out.append((f"{name} 0.5 given", "ihc", rgb, {"pixel_size_um": 0.5}))
    field = make(4, shape=(1024, 1024), pixel_size_um=0.25).image
    out += [("score_slide 512 px tiles, 0.25 given", "slide", field,
             {"mode": "cell", "pixel_size_um": 0.25, "tile_size": 512, "scheduler": "sync"}),
            ("score_slide 512 px tiles, no pixel size", "slide", field,
             {"mode": "cell", "tile_size": 512, "scheduler": "sync"})]
    return out


def _same_ihc(a, b) -> list[str]:
    import pandas as pd

    def same(x, y):
        if x is None or y is None:
            return x is None and y is None
        x, y = np.asarray(x), np.asarray(y)
        return np.array_equal(x, y, equal_nan=x.dtype.kind == "f" and y.dtype.kind == "f")

    bad = [k for k in ("nuclei_labels", "cell_labels", "tissue_mask", "class_map", "dab_od", "hematoxylin_od")
           if not same(getattr(a, k, None), getattr(b, k, None))]
    for k in ("cells", "summary"):
        try:
            pd.testing.assert_frame_equal(getattr(a, k), getattr(b, k), check_exact=True)
        except AssertionError:
            bad.append(k)
    if json.dumps(a.params, sort_keys=True, default=str) != json.dumps(b.params, sort_keys=True, default=str):
        bad.append("params")
    return bad


def _same_slide(a, b) -> list[str]:
    import pandas as pd

    bad = []
    for k in ("summary", "cells"):
        x, y = getattr(a, k, None), getattr(b, k, None)
        if x is None and y is None:
            continue
        try:
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        except (AssertionError, TypeError):
            bad.append(k)
    if json.dumps(a.params, sort_keys=True, default=str) != json.dumps(b.params, sort_keys=True, default=str):
        bad.append("params")
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--data", type=Path, default=DATA)
    a = ap.parse_args(argv)
    trees = {}
    for t, root in (("old", a.old), ("new", a.new)):
        trees[t] = bench_ab._load(root)
        sys.path.insert(0, root)  # (the slide module too, from the same tree)
        try:
            importlib.import_module("blotquant.ihc.slide")
        finally:
            sys.path.remove(root)
        trees[t] = {k: v for k, v in sys.modules.items() if k == "blotquant" or k.startswith("blotquant.")}
        where = Path(trees[t]["blotquant.ihc.slide"].__file__).resolve()
        if Path(root).resolve() not in where.parents:
            raise SystemExit(f"{root}: blotquant.ihc.slide was imported from {where}")

    def call(t, kind):
        sys.modules.update(trees[t])
        mod = trees[t]["blotquant.ihc"]
        if kind == "ihc":
            return mod.score_ihc
        return trees[t]["blotquant.ihc.slide"].score_slide

    cases = _cases(trees["new"]["blotquant.synthetic.cells"].make_cell_image, a.data)
    failed = 0
    for label, kind, img, kw in cases:
        res = {t: call(t, kind)(img, **kw) for t in trees}
        bad = (_same_ihc if kind == "ihc" else _same_slide)(res["old"], res["new"])
        failed += bool(bad)
        n = len(res["new"].cells) if getattr(res["new"], "cells", None) is not None else "-"
        print(f"{label:42s} {'identical' if not bad else 'DIFFERENT: ' + ', '.join(bad)}  ({n} cells)",
              flush=True)
    print(f"{len(cases) - failed} of {len(cases)} cases identical")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
