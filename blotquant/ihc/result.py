"""The IHC result model and its tidy tables.

Examples
--------
>>> SUMMARY_COLUMNS[:4]
('image', 'region', 'mode', 'n')
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
import math
from typing import Any

import numpy as np
from .._shared.lazy import lazy_module

from ..provenance import params_hash
from .._version import __version__
from ..errors import ParameterError
from ._cellkernel import compiled_cells
from .classify import CELL_CLASS_NAMES, check_thresholds, classify_pixels, intensity_classes
from .scores import SCORE_COLUMNS, summarize
from .tissue import lut_take

pd = lazy_module("pandas")  # imported on first use (the slide CLI starts tiles first)

__all__ = ["IHCResult", "SUMMARY_COLUMNS", "CELL_CLASS_NAMES", "PRIMARY_SCORE", "build_summary",
           "rescore", "apply_thresholds", "input_params"]

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
        if r.get("pixel_counts") is not None:
            px = summarize(r["pixel_counts"], min_pct)
        else:   # pixel mode: the same numbers; cell mode without pixel counts: unknown
            px = s if mode == "pixel" else {"h_score": math.nan, "pct_positive": math.nan}
        out.append({"image": image_name, "region": r["region"], "mode": mode, **s,
                    "mean_dab_od": r["mean_dab_od"], "area_px": int(r["area_px"]),
                    "area_um2": r["area_um2"], "region_area_px": int(r["region_area_px"]),
                    "primary_score": primary, "pixel_h_score": px["h_score"],
                    "pixel_pct_positive": px["pct_positive"],
                    "thresholds": thr, "params_hash": h, "version": __version__})
    df = pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))
    # whole-number scores; a region where nothing was scored has none (<NA>, not 0)
    for col in _INT_SCORES:
        df[col] = df[col].astype("Int64")
    return df


#: Score columns that are whole numbers, missing for a region with nothing scored.
_INT_SCORES = ("allred", "allred_proportion", "allred_intensity", "irs", "irs_proportion",
               "irs_intensity")


def _class_counts(pmap: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Pixels of codes 1..4 (negative .. 3+) of a class map inside a region (int64, 4)."""
    m = pmap if region.all() else pmap * region.view(np.uint8)
    return np.array([np.count_nonzero(m == k) for k in range(1, 5)], np.int64)


def apply_thresholds(res: IHCResult, t: tuple) -> IHCResult:
    """(Re)classify with thresholds ``t`` and rebuild the tables (cheap).

    Parameters
    ----------
    res : IHCResult
        A result of :func:`~blotquant.ihc.score_ihc` (its cached OD maps / cells).
    t : tuple of float
        Validated thresholds.

    Returns
    -------
    IHCResult
    """
    params = dict(res.params)
    params["thresholds"] = tuple(t)
    shape = res.dab_od.shape
    px_area = res._cache.get("px_area")
    rows = []
    # pixel classes of the scored tissue: the pixel-mode scores (beside the cell scores)
    scored = res.tissue_mask.copy()
    union = np.zeros(shape, bool)
    for m in res.region_masks.values():
        union |= m
    scored &= union
    ext = compiled_cells()
    if params["mode"] != "pixel" and ext is not None and res.dab_od.dtype == np.float32 \
            and res.dab_od.ndim == 2 and 1 <= len(t) <= 3:
        # cell mode shows no pixel class map: the counts in one C pass per region, the
        # classes of classify_pixels (float32 thresholds, >=) without the map
        thr = np.asarray(check_thresholds(t), np.float32)
        d = np.ascontiguousarray(res.dab_od)
        sc = scored.view(np.uint8)
        pixel_counts = {}
        for rname, rm in res.region_masks.items():
            c = np.zeros(4, np.int64)
            ext.class_counts(d, sc, np.ascontiguousarray(rm, dtype=bool).view(np.uint8), thr, c)
            pixel_counts[rname] = c
    else:
        pmap = classify_pixels(res.dab_od, t, mask=scored)
        pixel_counts = {rname: _class_counts(pmap, rm) for rname, rm in res.region_masks.items()}
    if params["mode"] == "pixel":
        cmap = pmap
        for rname, rm in res.region_masks.items():
            c = pixel_counts[rname]
            n_px = int(c.sum())
            rows.append({"region": rname, "counts": c, "mean_dab_od": res._cache["mean_dab"][rname],
                         "area_px": n_px,
                         "area_um2": n_px * px_area if px_area else math.nan,
                         "region_area_px": int(np.count_nonzero(rm)), "pixel_counts": c})
        cells = pd.DataFrame(columns=["image", "region", "cell", "class", "class_name"])
    else:
        col = f"{params['compartment_used']}_dab_od_{params['measure']}"
        cells = res._cache["cells_base"].copy()
        cls = intensity_classes(cells[col].to_numpy(float), t)
        cells["class"] = cls
        cells["class_name"] = [CELL_CLASS_NAMES[k] for k in cls]
        # class map: paint each cell's area with its class code (class + 1)
        labels = res.cell_labels
        nmax = int(labels.max()) if labels is not None and labels.size else 0
        lut = np.zeros(nmax + 1, np.uint8)
        if len(cells):
            lut[cells["cell"].to_numpy(int)] = (cls + 1).astype(np.uint8)
        cmap = lut_take(lut, labels) if labels is not None else np.zeros(shape, np.uint8)
        for rname, rm in res.region_masks.items():
            sub = cells[cells["region"] == rname]
            k = intensity_classes(sub[col].to_numpy(float), t)
            c = np.bincount(k, minlength=4)[:4]
            n_px = int(np.count_nonzero(rm & res.tissue_mask))
            vals = sub[col].to_numpy(float)
            rows.append({"region": rname, "counts": c,
                         "mean_dab_od": float(np.nanmean(vals)) if np.isfinite(vals).any()
                         else math.nan,
                         "area_px": n_px, "area_um2": n_px * px_area if px_area else math.nan,
                         "region_area_px": int(np.count_nonzero(rm)),
                         "pixel_counts": pixel_counts[rname]})
    summary = build_summary(rows, image_name=res.image_name, mode=params["mode"], params=params)
    out = res.copy_with(summary=summary, cells=cells, class_map=cmap, params=params,
                        _cache=res._cache)
    return out


def rescore(result: IHCResult, thresholds, *, min_positive_pct=None) -> IHCResult:
    """Re-classify an :class:`IHCResult` with new DAB thresholds (no re-detection).

    Reuses the OD maps, tissue mask, regions and detected cells, so it is fast
    enough for live threshold sliders (a 2k x 2k pixel-mode image in well under
    a second).

    Parameters
    ----------
    result : IHCResult
    thresholds : (t1, t2, t3) or (t,)
    min_positive_pct : float, optional
        New Allred minimum positive percentage.

    Returns
    -------
    IHCResult (new object; arrays shared with ``result``)

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> from blotquant.ihc import score_ihc
    >>> r = score_ihc(make_ihc(seed=0, shape=(64, 64)).image, mode="pixel")
    >>> rescore(r, "0.2,0.4,0.6").summary.equals(r.summary)
    True
    """
    if not isinstance(result, IHCResult):
        raise ParameterError("rescore needs an IHCResult from score_ihc")
    t = check_thresholds(thresholds)
    if min_positive_pct is not None:
        result = result.copy_with(params={**result.params,
                                          "min_positive_pct": float(min_positive_pct)})
    return apply_thresholds(result, t)
