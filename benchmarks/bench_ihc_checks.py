"""The IHC input checks on real and synthetic images: wrong stain, wrong marker, not brightfield.

Run:  python benchmarks/bench_ihc_checks.py

For each image prints, in pixel mode, the stain-fit record of ``score_ihc``
(share of the stained pixels more than 15 deg off the hematoxylin-DAB plane,
share of near-black pixels, and with ``stains="estimate"`` the share off the
standard plane), whether a stain note is raised, and in cell mode with
``marker="nuclear"`` the wrong-marker check (median DAB OD inside hematoxylin
nuclei vs around them, and whether the marker note is raised).  Real images
are read from ``../shared/data`` beside the repository (skipped when absent).
Numbers: ``docs/benchmarks/hostile.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from blotquant.errors import AnalysisError
from blotquant.ihc import score_ihc
from blotquant.ihc.compare import compare_modes
from blotquant.synthetic import make_ihc
from blotquant.synthetic.ihc import HE_STAINS

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def images():
    """(name, kind, rgb): kind is what the image really is."""
    from skimage import data as skdata

    out = [("skimage colon", "H-DAB cytoplasmic", skdata.immunohistochemistry())]
    d = SHARED / "ihc" / "deepliif"
    for n in ("train_Bladder1_ihc", "train_Lung1_ihc", "large_ROI_1", "large_ROI_7", "large_ROI_127"):
        if (d / f"{n}.png").is_file():
            out.append((n, "H-DAB Ki67", cv2.imread(str(d / f"{n}.png"))[..., ::-1].copy()))
    if (d / "train_Lung1_mpif_dapi.png").is_file():
        dapi = cv2.imread(str(d / "train_Lung1_mpif_dapi.png"))[..., 0]
        ki = cv2.imread(str(d / "train_Lung1_mpif_ki67.png"))[..., 0]
        out.append(("Lung1 DAPI+Ki67 composite", "fluorescence", np.stack([ki, ki, dapi], -1)))
    from blotquant.io import read_image
    for f in ("CMU-1-Small-Region.svs", "tcga-cr-7395-01a-01-ts1.svs"):
        p = SHARED / "wsi" / f
        if p.is_file():
            a = np.asarray(read_image(p, mode="rgb").data)
            h, w = a.shape[:2]
            out.append((f + " (1024 px centre)", "H&E",
                        a[h // 2 - 512:h // 2 + 512, w // 2 - 512:w // 2 + 512]))
    for seed in range(2):
        out.append((f"make_ihc seed {seed}", "H-DAB cytoplasmic", make_ihc(seed=seed).image))
        out.append((f"make_ihc seed {seed}, eosin for DAB", "H&E",
                    make_ihc(seed=seed, stains=HE_STAINS).image))
    return out


def main() -> int:
    print("| image | is | off plane | near black | estimated: off standard plane | stain note "
          "| nuclear check: in / around (n) | marker note |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kind, rgb in images():
        try:
            fit = score_ihc(rgb, mode="pixel").params["stain_fit"]
        except AnalysisError as err:
            print(f"| {name} | {kind} | refused: {str(err).split(':')[0]} | | | | | |")
            continue
        est = score_ihc(rgb, mode="pixel", stains="estimate").params
        ref = est["stain_fit"].get("reference_off_plane_fraction")
        note = bool(score_ihc(rgb, mode="pixel").params["stain_note"]) or bool(est["stain_note"])
        res = score_ihc(rgb, mode="cell", marker="nuclear")
        chk = res.params["marker_check"]
        mnote = compare_modes(res.summary, res.cells, params=res.params).marker_note.iloc[0]
        inside = "-" if chk["nucleus_dab"] is None else f"{chk['nucleus_dab']:.2f}"
        around = "-" if chk["around_dab"] is None else f"{chk['around_dab']:.2f}"
        print(f"| {name} | {kind} | {fit['off_plane_fraction']:.1%} | "
              f"{fit['near_black_fraction']:.1%} | {ref:.1%} | {'yes' if note else 'no'} | "
              f"{inside} / {around} ({chk['n_cells']}) | {'yes' if mnote else 'no'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
