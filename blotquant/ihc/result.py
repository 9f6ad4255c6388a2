"""The IHC result model and its tidy tables.

Examples
--------
>>> SUMMARY_COLUMNS[:4]
('image', 'region', 'mode', 'n')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..provenance import params_hash
from .._version import __version__
from .classify import CELL_CLASS_NAMES, CLASS_NAMES
from .scores import SCORE_COLUMNS, summarize

__all__ = ["IHCResult", "SUMMARY_COLUMNS", "CELL_CLASS_NAMES", "PRIMARY_SCORE", "build_summary"]

#: Columns of :attr:`IHCResult.summary` (one row per region).
SUMMARY_COLUMNS = ("image", "region", "mode", *SCORE_COLUMNS, "mean_dab_od", "area_px",
                   "area_um2", "region_area_px", "primary_score", "pixel_h_score",
                   "pixel_pct_positive", "thresholds", "params_hash", "version")
#: The headline score of each marker (``IHCParams.marker``): the summary's ``primary_score``.
PRIMARY_SCORE = {"nuclear": "pct_positive", "cytoplasmic": "h_score"}
#: Names of the cell ``class`` values 0..3 (the class map stores ``class + 1``).


@dataclass
class IHCResult:
    """Everything :func:`~blotquant.ihc.score_ihc` found, for tables, overlays and review.

    Attributes
    ----------
    summary : DataFrame
        One row per region, columns :data:`SUMMARY_COLUMNS`: counts
        ``n, n_negative, n_1plus, n_2plus, n_3plus`` (cells in cell mode,
        pixels in pixel mode), percentages, ``h_score`` (0-300), ``allred``
        (0, 2-8) with its proportion/intensity parts, ``irs`` (0-12) with its
        parts, ``mean_dab_od`` (mean DAB OD of scored pixels, or mean cell
        measure in cell mode), ``area_px``/``area_um2`` (scored tissue area in
        the region), ``region_area_px``, ``primary_score`` (the column that is
        the marker's headline score: ``pct_positive`` (with ``allred``) for
        nuclear markers, ``h_score`` for cytoplasmic ones), ``pixel_h_score``
        and ``pixel_pct_positive`` (pixel-mode scores of the same OD maps,
        tissue and regions, beside the cell scores in cell mode; equal to
        ``h_score`` / ``pct_positive`` in pixel mode), ``thresholds`` (text),
        provenance.
    cells : DataFrame
        One row per cell and region (empty in pixel mode): image, region, cell,
        y, x, areas, DAB OD mean/max per compartment, ``class`` (0 negative,
        1 = 1+, 2 = 2+, 3 = 3+) and ``class_name``.
    class_map : uint8 ndarray
        0 unscored, 1 negative, 2 1+, 3 2+, 4 3+ (pixels, or the cells' area).
    dab_od, hematoxylin_od : float32 ndarray
        Stain OD maps (QuPath units).
    tissue_mask : bool ndarray
    nuclei_labels, cell_labels : int32 ndarray or None (cell mode only)
    stains : (3, 3) float64
        Stain matrix used (rows H, DAB, residual).
    white_point : (3,) float64
    regions : list of Region
    params : dict
        Every parameter, including how the white point and stains were obtained.
    region_masks : dict name -> bool ndarray
        Scored area of each region before tissue masking (regions minus excludes).
    """

    summary: pd.DataFrame
    cells: pd.DataFrame
    class_map: np.ndarray
    dab_od: np.ndarray
    hematoxylin_od: np.ndarray
    tissue_mask: np.ndarray
    nuclei_labels: np.ndarray | None
    cell_labels: np.ndarray | None
    stains: np.ndarray
    white_point: np.ndarray
    regions: list
    params: dict
    region_masks: dict = field(default_factory=dict, repr=False)
    image_name: str = "image"
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def mode(self) -> str:
        return self.params["mode"]

    @property
    def thresholds(self) -> tuple:
        return tuple(self.params["thresholds"])

    def rescore(self, thresholds, **kwargs) -> "IHCResult":
        """Same as :func:`blotquant.ihc.rescore` (new thresholds, no re-detection)."""
        from .score import rescore
        return rescore(self, thresholds, **kwargs)

    def copy_with(self, **changes: Any) -> "IHCResult":
        """Shallow copy with some fields changed (arrays are shared)."""
        return replace(self, **changes)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        regs = ", ".join(f"{r}: H={h:.1f}" for r, h in zip(self.summary["region"],
                                                            self.summary["h_score"]))
        return (f"IHCResult(image={self.image_name!r}, mode={self.mode!r}, "
                f"shape={self.class_map.shape}, {regs})")


def input_params(params: dict) -> dict:
    """The inputs of a run (``IHCParams`` fields and the region geometry) from its params.

    Parameters
    ----------
    params : dict
        ``IHCResult.params``.

    Returns
    -------
    dict
        What ``params_hash`` is computed from: the same analysis has the same
        hash from every edge, whatever the run derived.
    """
    from .params import IHCParams

    keys = IHCParams.names() + ("regions_sha256",)
    return {k: params[k] for k in keys if k in params}


def build_summary(rows: list[dict], *, image_name: str, mode: str, params: dict) -> pd.DataFrame:
    """Assemble per-region rows ({region, counts (4,), mean_dab_od, area_px, ...}).

    Examples
    --------
    >>> df = build_summary([{"region": "image", "counts": (2, 1, 1, 0), "mean_dab_od": 0.2,
    ...                      "area_px": 4, "area_um2": float("nan"), "region_area_px": 4}],
    ...                    image_name="x", mode="pixel", params={"thresholds": (0.2, 0.4, 0.6)})
    >>> int(df.n[0]), float(df.h_score[0]), float(df.pct_positive[0])
    (4, 75.0, 50.0)
    """
    h = params_hash(input_params(params))
    thr = ",".join(f"{t:g}" for t in params.get("thresholds", ()))
    min_pct = float(params.get("min_positive_pct", 0.0))
    primary = PRIMARY_SCORE.get(params.get("marker", "cytoplasmic"), "h_score")
    out = []
    for r in rows:
        s = summarize(r["counts"], min_pct)
        px = summarize(r["pixel_counts"], min_pct) if r.get("pixel_counts") is not None else s
        out.append({"image": image_name, "region": r["region"], "mode": mode, **s,
                    "mean_dab_od": r["mean_dab_od"], "area_px": int(r["area_px"]),
                    "area_um2": r["area_um2"], "region_area_px": int(r["region_area_px"]),
                    "primary_score": primary, "pixel_h_score": px["h_score"],
                    "pixel_pct_positive": px["pct_positive"],
                    "thresholds": thr, "params_hash": h, "version": __version__})
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


def class_names(codes) -> list:
    """Names of class-map codes.

    Examples
    --------
    >>> class_names([0, 1, 4])
    ['unscored', 'negative', '3+']
    """
    return [CLASS_NAMES[int(c)] for c in codes]
