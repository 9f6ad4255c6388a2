"""The demo study data set (``sample_images/``), regenerated from seeds.

A small, fully synthetic ASNS study that exercises every part of a batch:

- ``blot_rep1..3.tif``: three replicate western blots (16-bit), six ovarian
  cancer cell lines (one per lane), ASNS above beta-actin on one membrane;
- ``strips_rep4.tif``: the same panel on a membrane cut into two strips
  (ASNS strip on top, ACTB strip below);
- ``pair_asns.tif`` + ``pair_actb.tif``: target and loading control imaged
  separately (one group, matched by lane);
- ``ihc_P01..P06.png``: synthetic H-DAB images of six tumours (8-bit RGB);
- ``samples.csv``: the sample sheet tying them together;
- ``mtt_plate.csv``: an MTT L-asparaginase plate of the six lines (long
  format), ``clinical.csv``: KRAS status of the six patients.

ASNS levels are set so that the lines with more ASNS are more resistant
(higher IC50), as reported for ovarian lines (r about -0.65 for protein vs
sensitivity, i.e. positive vs IC50).

Examples
--------
>>> CELL_LINES[0], len(ASNS_LEVEL) == len(IC50_U_ML) == len(CELL_LINES)
('OVCAR8', True)
>>> import tempfile
>>> sheet = write_samples(tempfile.mkdtemp())  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_samples", "CELL_LINES", "ASNS_LEVEL", "IC50_U_ML", "sample_dir"]

CELL_LINES = ("OVCAR8", "SKOV3", "OVCAR3", "IGROV1", "A2780", "OVCAR5")
#: Relative ASNS protein per cell line (lane order), OVCAR8 = 1.
ASNS_LEVEL = (1.0, 0.75, 0.5, 0.35, 0.22, 0.12)
#: True L-asparaginase IC50 (U/mL) of the synthetic MTT plate.
IC50_U_ML = (2.4, 1.6, 0.9, 0.7, 0.3, 0.15)
PATIENTS = ("P01", "P02", "P03", "P04", "P05", "P06")
KRAS = ("mutant", "mutant", "mutant", "wild-type", "wild-type", "wild-type")
#: Mean cytoplasmic DAB OD range of each patient's glands (ASNS IHC).
IHC_DAB = ((0.45, 0.9), (0.35, 0.8), (0.1, 0.5), (0.3, 0.7), (0.0, 0.3), (0.0, 0.25))

BLOT_SHAPE = (260, 420)
IHC_SHAPE = (256, 256)


def sample_dir() -> Path | None:
    """``sample_images/`` of a source checkout, or None (e.g. a wheel install).

    Returns
    -------
    pathlib.Path or None
        The folder beside the package when it holds ``samples.csv``.
    """
    import blotquant

    d = Path(blotquant.__file__).resolve().parents[1] / "sample_images"
    return d if (d / "samples.csv").is_file() else None


def _loads(rng, jitter=0.08):
    asns = np.asarray(ASNS_LEVEL) * rng.lognormal(0, jitter, len(CELL_LINES))
    actb = rng.lognormal(0, jitter, len(CELL_LINES))
    return np.stack([asns, actb], axis=1)


def _tif(path: Path, image) -> None:
    import tifffile

    tifffile.imwrite(path, image, compression="zlib")


def write_samples(folder: str | os.PathLike, *, ihc: bool = True) -> Path:
    """Write the sample data set into ``folder``; returns the sample sheet path.

    Parameters
    ----------
    folder : path-like
        Output folder (created if needed); existing files of the same names
        are replaced.
    ihc : bool, optional
        Also write the IHC images and ``clinical.csv``.

    Returns
    -------
    pathlib.Path
        ``folder / "samples.csv"``.
    """
    from .blot import make_blot

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2024)
    labels = ";".join(CELL_LINES)
    rows = []
    common = dict(shape=BLOT_SHAPE, n_lanes=len(CELL_LINES), rows=("ASNS", "ACTB"),
                  row_scale=(0.6, 0.5))
    for rep in (1, 2, 3):
        b = make_blot(10 + rep, loads=_loads(rng), tilt_deg=rng.uniform(-1, 1), **common)
        _tif(folder / f"blot_rep{rep}.tif", b.image)
        rows.append(dict(file=f"blot_rep{rep}.tif", sample=f"panel_rep{rep}",
                         condition="baseline", replicate=rep, kind="blot", role="target",
                         group="", rows="ASNS;ACTB", lane_labels=labels, target="ASNS",
                         control="ACTB"))
    b = make_blot(20, loads=_loads(rng), two_strips=True, **common)
    _tif(folder / "strips_rep4.tif", b.image)
    rows.append(dict(file="strips_rep4.tif", sample="panel_rep4", condition="baseline",
                     replicate=4, kind="blot", role="target", group="",
                     rows="ASNS;ACTB", lane_labels=labels, target="ASNS", control="ACTB"))
    ld = _loads(rng)
    one = dict(common, rows=("ASNS",), row_scale=(0.6,))
    _tif(folder / "pair_asns.tif", make_blot(30, loads=ld[:, :1], **one).image)
    one = dict(common, rows=("ACTB",), row_scale=(0.5,))
    _tif(folder / "pair_actb.tif", make_blot(30, loads=ld[:, 1:], **one).image)
    for f, role, r in (("pair_asns.tif", "target", "ASNS"),
                       ("pair_actb.tif", "loading_control", "ACTB")):
        rows.append(dict(file=f, sample="panel_rep5", condition="baseline", replicate=5,
                         kind="blot", role=role, group="pair5", rows=r, lane_labels=labels,
                         target="ASNS", control="ACTB"))
    if ihc:
        from PIL import Image as PILImage

        from .ihc import make_ihc

        for i, (p, k, dab) in enumerate(zip(PATIENTS, KRAS, IHC_DAB)):
            s = make_ihc(seed=40 + i, shape=IHC_SHAPE, dab_range=dab)
            PILImage.fromarray(s.image).save(folder / f"ihc_{p}.png", optimize=True)
            rows.append(dict(file=f"ihc_{p}.png", sample=p, condition=f"KRAS {k}",
                             replicate=1, kind="ihc", role="target", group="", rows="",
                             lane_labels="", target="", control=""))
        pd.DataFrame({"patient": PATIENTS, "kras_status": KRAS,
                      "age": [61, 58, 70, 66, 54, 73]}).to_csv(folder / "clinical.csv",
                                                                 index=False)
    sheet = pd.DataFrame(rows)
    sheet.to_csv(folder / "samples.csv", index=False)
    from ..stats import simulate_mtt_plate

    plate = simulate_mtt_plate(dict(zip(CELL_LINES, IC50_U_ML)),
                               doses=np.logspace(-2, 1.5, 10), replicates=3, cv=0.04,
                               seed=7)
    plate["absorbance"] = plate["absorbance"].round(4)
    plate.to_csv(folder / "mtt_plate.csv", index=False)
    return folder / "samples.csv"
