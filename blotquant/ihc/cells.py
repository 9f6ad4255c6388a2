"""Cell detection and per-cell DAB scoring (QuPath-style positive cell detection).

:func:`detect_cells` finds nuclei in the hematoxylin OD or, for nuclear
markers, the optical density sum (background subtraction, smoothing,
threshold, intensity and shape split of touching nuclei; see
:mod:`blotquant.ihc.nuclei`), grows each nucleus into a cell by a fixed
distance without overlapping its neighbours (nearest-nucleus partition),
clipped to the tissue and connected to its nucleus, and measures the DAB OD
in three compartments: nucleus, cytoplasm (cell minus nucleus) and cell.
:func:`classify_cells` turns one compartment measure into classes 0
(negative), 1 (1+), 2 (2+), 3 (3+) with QuPath's rule ``value >= threshold``.

Default parameters are QuPath's positive cell detection defaults
(``DEFAULT_PARAMS``, from :class:`~blotquant.ihc.params.CellParams`), plus a
few of our own (outline refinement, local-peak outlines, DAB holes as nuclear
evidence, intensity split, second pass; see :func:`detect_cells`); lengths
are in micrometres. When the pixel size is not known it is estimated from the
size of the nuclei (:mod:`blotquant.ihc.scale`; ``pixel_size_source=
"estimated"``), or, with ``estimate_pixel_size=False``,
``assumed_pixel_size_um`` (0.5 um/px) converts lengths to pixels
(``"assumed"``). When the pixel size is finer than ``requested_pixel_size_um``
nuclei and cells are found on a downsampled copy (area averaging, of the OD
or, by default for the OD sum, of the transmitted light) and their labels
scaled back up; measurements always use the full-resolution OD maps.

Examples
--------
>>> import numpy as np
>>> h = np.zeros((60, 60), np.float32); dab = np.zeros_like(h)
>>> yy, xx = np.mgrid[:60, :60]
>>> r2 = (yy - 30) ** 2 + (xx - 30) ** 2
>>> h[r2 <= 49] = 0.6
>>> dab[(r2 > 49) & (r2 <= 400)] = 0.5
>>> det = detect_cells(h, dab, pixel_size_um=0.5)
>>> len(det.table), int(classify_cells(det.table)[0])
(1, 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd

from ..errors import ParameterError
from ._cellkernel import compiled_cells
from .classify import intensity_classes
from ._scratch import buffer as scratch
from .nuclei import NO_EDGES, segment_nuclei
from .tissue import _components, label_run_counts, lut_take
from .params import (AUTO_DOWNSAMPLE_IN, AUTO_RESCUE_RADIUS_UM, AUTO_SEED_DETECTOR, AUTO_SPLIT_CONTRAST, AUTO_SPLIT_DAB_OD, AUTO_THRESHOLD,
                     COMPARTMENTS, DEFAULT_THRESHOLDS, DETECTION_IMAGES, DOWNSAMPLE_SPACES, MEASURES, SEED_DETECTORS, CellParams)

__all__ = [
    "CellDetection",
    "detect_cells",
    "classify_cells",
    "measure_cells",
    "CELL_MEASURES",
    "COMPARTMENTS",
    "MEASURES",
    "TABLE_COLUMNS",
    "DEFAULT_PARAMS",
]

#: Per-cell DAB columns usable for classification: ``f"{compartment}_dab_od_{measure}"``.
CELL_MEASURES = tuple(f"{c}_dab_od_{m}" for c in COMPARTMENTS for m in MEASURES)
TABLE_COLUMNS = (
    "cell", "y", "x", "nucleus_area", "cell_area", "nucleus_area_um2", "cell_area_um2",
    *CELL_MEASURES, "nucleus_hematoxylin_od_mean", "cytoplasm_in_tissue",
)  # fmt: skip

#: QuPath positive-cell-detection defaults (lengths in um, areas in um^2, OD in log10 units).
DEFAULT_PARAMS = CellParams().to_dict()


@dataclass
class CellDetection:
    """Result of :func:`detect_cells`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell, columns ``TABLE_COLUMNS``: ``cell`` (1..n, equals
        the label id), ``y``, ``x`` (nucleus centroid, row/col px),
        ``nucleus_area``, ``cell_area`` (px), ``nucleus_area_um2``,
        ``cell_area_um2`` (NaN when the pixel size is unknown), DAB OD mean/max
        per compartment (cytoplasm NaN when a cell has no cytoplasm pixel) and
        ``nucleus_hematoxylin_od_mean``.
    nuclei, cells : ndarray, int32
        Label images (0 = none) with the same ids as ``table.cell``; every
        nucleus lies inside its cell and cells do not overlap.
    params : dict
        Every parameter used, plus the derived pixel values and the pixel
        size (``pixel_size_source`` is "given" or "assumed").
    """

    table: pd.DataFrame
    nuclei: np.ndarray
    cells: np.ndarray
    params: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.table)


def _as_od(name: str, arr) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != 2:
        raise ParameterError(
            f"{name} must be a 2-D array (rows, cols) of one stain's optical density; "
            f"got shape {a.shape}. Pass one channel, e.g. stains[..., 0] for hematoxylin."
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
        raise ParameterError(f"{name} must be a real numeric array; got dtype {a.dtype}.")
    a = np.ascontiguousarray(a, dtype=np.float32)
    # NaN propagates into min and max, +-inf shows in one of them: all finite <=> both are
    if a.size and not (np.isfinite(a.min()) and np.isfinite(a.max())):
        raise ParameterError(
            f"{name} contains NaN or infinite values; replace them (e.g. np.nan_to_num) "
            "and exclude the area with `mask`."
        )
    return a


def _pixel_size(value, assumed: float) -> tuple[tuple[float, float], bool]:
    if value is None:
        return (float(assumed), float(assumed)), False
    vals = np.atleast_1d(np.asarray(value, dtype=float)).ravel()
    if vals.size == 1:
        vals = np.repeat(vals, 2)
    if vals.size != 2 or not np.all(np.isfinite(vals)) or np.any(vals <= 0):
        raise ParameterError(
            f"pixel_size_um must be a positive number or (row, col) pair in um/px; got {value!r}."
        )
    return (float(vals[0]), float(vals[1])), True


def _check_params(params: dict) -> dict:
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ParameterError(
            f"unknown cell detection parameter(s) {unknown}; valid: {sorted(DEFAULT_PARAMS)}."
        )
    p = {**DEFAULT_PARAMS, **params}
    for key, val in p.items():
        if key in ("split_by_shape", "estimate_pixel_size"):
            if not isinstance(val, (bool, np.bool_, int, np.integer)):
                raise ParameterError(f"{key} must be True or False; got {val!r}.")
            p[key] = bool(val)
            continue
        if key in ("threshold", "split_contrast", "rescue_radius_um", "split_dab_od") and val is None:
            continue
        if key == "detection_image":
            if val not in (None, *DETECTION_IMAGES):
                raise ParameterError(f"detection_image must be one of {DETECTION_IMAGES} or None; "
                                     f"got {val!r}.")
            continue
        if key == "seed_detector":
            if val not in (None, *SEED_DETECTORS):
                raise ParameterError(f"seed_detector must be one of {SEED_DETECTORS} or None; "
                                     f"got {val!r}.")
            continue
        if key == "downsample_in":
            if val not in (None, *DOWNSAMPLE_SPACES):
                raise ParameterError(f"downsample_in must be one of {DOWNSAMPLE_SPACES} or None; "
                                     f"got {val!r}.")
            continue
        try:
            val = float(val)
        except (TypeError, ValueError):
            raise ParameterError(f"{key} must be a number; got {val!r}.") from None
        positive = key in ("requested_pixel_size_um", "assumed_pixel_size_um", "nucleus_radius_um")
        if not math.isfinite(val) or val < 0 or (positive and val == 0):
            raise ParameterError(f"{key} must be a finite number >= 0 (> 0 for pixel sizes); got {val!r}.")
        p[key] = val
    if p["max_nucleus_area_um2"] < p["min_nucleus_area_um2"]:
        raise ParameterError("max_nucleus_area_um2 must be >= min_nucleus_area_um2.")
    for key in ("seed_radius_min", "merge_peak_ratio"):
        if p[key] > 1:
            raise ParameterError(f"{key} must be a fraction between 0 and 1; got {p[key]!r}.")
    return p


def _transmittance(od: np.ndarray) -> np.ndarray:
    """Light transmitted through an OD map (log10 units; negative OD counts as 0), float32."""
    t = np.maximum(od, 0, dtype=np.float32)
    t *= np.float32(-math.log(10.0))
    return np.exp(t, out=t)


def _seed_radii(nucleus_radius_px: float, smallest: float) -> tuple[float, ...]:
    """Blob radii (px) from ``smallest`` to 1 x the nucleus radius, geometric steps <= 1.3x.

    >>> [round(r, 2) for r in _seed_radii(10.0, 0.6)]
    [6.0, 7.75, 10.0]
    """
    if smallest <= 0 or smallest >= 1:
        return (float(nucleus_radius_px),)
    steps = math.ceil(math.log(1 / smallest) / math.log(1.3) - 1e-9)
    return tuple(float(nucleus_radius_px * smallest ** (1 - i / steps)) for i in range(steps + 1))


def _nearest_index(n_src: int, n_dst: int) -> np.ndarray:
    """Source index of each destination pixel centre (nearest neighbour)."""
    return np.minimum(((np.arange(n_dst) + 0.5) * n_src / n_dst).astype(np.intp), n_src - 1)


def _upsample_labels(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label image to ``shape`` (pixel centres).

    OpenCV's ``INTER_NEAREST_EXACT`` (one pass, no index arrays) when it picks
    the same source pixels as the pixel-centre rule, which is checked on the
    two index vectors (O(rows + cols)); otherwise a numpy gather.
    """
    rows = _nearest_index(labels.shape[0], shape[0])
    cols = _nearest_index(labels.shape[1], shape[1])
    if labels.dtype == np.int32 and labels.ndim == 2 and min(labels.shape) > 0 and min(shape) > 0:
        ramp_c = np.arange(labels.shape[1], dtype=np.int32)[None, :]
        ramp_r = np.arange(labels.shape[0], dtype=np.int32)[None, :]
        got_c = cv2.resize(ramp_c, (shape[1], 1), interpolation=cv2.INTER_NEAREST_EXACT)[0]
        got_r = cv2.resize(ramp_r, (shape[0], 1), interpolation=cv2.INTER_NEAREST_EXACT)[0]
        if np.array_equal(got_c, cols) and np.array_equal(got_r, rows):
            return cv2.resize(labels, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST_EXACT)
    return labels[rows[:, None], cols[None, :]]


def _upsampled_counts(labels: np.ndarray, shape: tuple[int, int], minlength: int) -> np.ndarray:
    """``np.bincount(_upsample_labels(labels, shape).ravel(), minlength=minlength)``
    without the upsampled image: each source pixel weighs the number of
    destination rows times columns that copy it (exact integer counts)."""
    rows = np.bincount(_nearest_index(labels.shape[0], shape[0]), minlength=labels.shape[0])
    cols = np.bincount(_nearest_index(labels.shape[1], shape[1]), minlength=labels.shape[1])
    w = np.multiply.outer(rows.astype(np.float64), cols.astype(np.float64)).ravel()
    counts = np.bincount(labels.ravel(), weights=w, minlength=minlength)
    return np.rint(counts).astype(np.int64)


def _nucleus_areas(nw: np.ndarray, shape: tuple[int, int], mask: np.ndarray | None) -> np.ndarray:
    """The ``nucleus_area`` column :func:`detect_cells` would give for the working-grid
    nuclei ``nw`` (int64, ids in order, nuclei with no pixel left out): the full-size
    pixels of each nucleus upsampled to ``shape`` and clipped to ``mask``, counted
    without the rest of the detection (expansion, measurements, table)."""
    n = int(nw.max(initial=0))
    clip = mask is not None and not mask.all()
    if nw.shape == tuple(shape):
        counts = np.bincount((nw[mask] if clip else nw.ravel()), minlength=n + 1)
    elif clip:
        counts = np.bincount(_upsample_labels(nw, shape)[mask], minlength=n + 1)
    else:
        counts = _upsampled_counts(nw, shape, n + 1)
    areas = counts[1:].astype(np.int64)
    return areas[areas > 0]


def _cut_mask(cells: np.ndarray) -> np.ndarray:
    """uint8 mask of labelled pixels, minus those whose right or lower neighbour has
    another non-zero label (``nuclei._cut_borders(cells) > 0``, without a label copy).

    The neighbours are compared on the raveled image (contiguous 1-D slices: ~3x
    faster than the 2-D column slices), the right neighbour of a row's last pixel
    (the next row's first) left out."""
    rows, cols = cells.shape
    flat = np.ascontiguousarray(cells).ravel()
    nz = flat > 0
    m = nz.view(np.uint8).copy()
    for step, across_rows in ((1, True), (cols, False)):
        if flat.size <= step:
            continue
        edge = flat[:-step] != flat[step:]
        edge &= nz[:-step]
        edge &= nz[step:]
        if across_rows:
            edge[cols - 1 :: cols] = False  # (a row's last pixel and the next row's first)
        np.invert(edge, out=edge)
        m[:-step] &= edge.view(np.uint8)  # (0 or 1: clears the cut pixels)
    return m.reshape(rows, cols)


def _expand(nuclei: np.ndarray, distance: float, mask: np.ndarray | None = None,
            flat_n: np.ndarray | None = None):
    """Grow labels by ``distance`` px into the nearest-label partition (no overlap).

    With ``mask`` (tissue), cells are clipped to it and each keeps only the
    pixels 4-connected to its nucleus, so a cytoplasm does not jump across a
    lumen or a strip of glass.  Returns ``(cells, free)``: ``free`` is the
    unclipped partition (the same array when there is no mask or nothing is
    clipped).  ``nuclei`` is int32 (0 = background); ``flat_n``, when given, is
    ``np.flatnonzero(nuclei)``.
    """
    if distance <= 0 or not nuclei.any():
        cells = nuclei.copy()
        return cells, cells
    zero = nuclei == 0
    if not zero.any():
        cells = nuclei.copy()
        return cells, cells
    if flat_n is None:
        flat_n = np.flatnonzero(nuclei != 0)  # (of a bool image: ~7x faster than of int32)
    lab = nuclei.ravel()[flat_n]
    # label of the nearest nucleus pixel for every background pixel (5x5-mask Euclidean
    # distance, within ~2% of the exact one); the index of a nucleus pixel is its own
    shape = nuclei.shape  # (the distances, indices and components: reused temporaries)
    dist, idx = cv2.distanceTransformWithLabels(zero.view(np.uint8), cv2.DIST_L2, 5,
                                                dst=scratch("expand.dist", shape, np.float32),
                                                labels=scratch("expand.idx", shape, np.int32),
                                                labelType=cv2.DIST_LABEL_PIXEL)
    del zero
    own = idx.ravel()[flat_n]
    lut = np.zeros(int(own.max()) + 1, np.int32)
    lut[own] = lab
    ext = compiled_cells()  # (the same values in one pass each; None: the NumPy path)
    if ext is not None:
        cells = np.empty(shape, np.int32)
        # ``dist <= distance`` in the type NumPy compares in (float32 for a Python float)
        thr = np.asarray(distance, np.result_type(dist.dtype, distance))
        ext.expand_lookup(idx, dist, float(thr), lut, cells)
    else:
        cells = lut_take(lut, idx)
        cells *= dist <= distance  # nucleus pixels have distance 0
    del idx
    if mask is None or mask.all():
        return cells, cells
    free = cells
    if ext is not None and cells.dtype == np.int32 and mask.dtype == bool and mask.shape == shape:
        cells = np.empty(shape, np.int32)
        cut = scratch("expand.cut", shape, np.uint8)  # (the cut pixels; a reused buffer)
        ext.mask_cut(free, np.ascontiguousarray(mask), cells, cut)
    else:
        cells = free * mask
        cut = _cut_mask(cells)
    # keep the part of each cell that is connected to its nucleus (4-connected, inside
    # its own label; the pixels on a border between two labels stay with their cell)
    if ext is not None:  # (from the cut mask's runs; the same components, numbered otherwise)
        cc, sizes, _ = _components(cut, 4, "expand.cc")
        n_cc = sizes.size
    else:
        n_cc, cc = cv2.connectedComponentsWithAlgorithm(cut, 4, cv2.CV_32S, cv2.CCL_WU,
                                                        labels=scratch("expand.cc", shape, np.int32))
    has_nucleus = np.zeros(n_cc, bool)
    has_nucleus[cc.ravel()[flat_n]] = True
    has_nucleus[0] = True
    if not has_nucleus.all():
        if ext is not None and cells.dtype == np.int32:
            ext.keep_lookup(cells, cc, has_nucleus)
        else:
            cells *= lut_take(has_nucleus, cc)
    return cells, free


def _stats(lab: np.ndarray, v: np.ndarray, n: int, with_max: bool = True):
    """Count, mean and max of values ``v`` per label ``lab`` (1..n; vectorised)."""
    count = np.bincount(lab, minlength=n + 1)[1:]
    total = np.bincount(lab, weights=v, minlength=n + 1)[1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if not with_max:
        return count, mean, None
    vmax = np.full(n + 1, -np.inf, np.float32)
    np.maximum.at(vmax, lab, v)
    vmax = np.where(count > 0, vmax[1:].astype(np.float64), np.nan)
    return count, mean, vmax


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


#: A scale within this fraction of the requested working pixel size is detected on
#: its own grid (factor <= 1.01), and one within it of an integer factor k on k x k
#: blocks: averaging whole blocks is ~10x cheaper than resampling by a fractional
#: factor (OpenCV's INTER_AREA: 8.4 vs 0.85 ms per 2048 px map) for a grid <= 1 % off.
GRID_SNAP = 0.01

_ROWS_PER_BLOCK = 64  # rows per float64 block in _compartment_stats (stays in cache)


def _compartment_stats(comp: np.ndarray, v: np.ndarray, size: int, ncols: int):
    """Per-label count, float64 sum and float32 max of ``v`` over a label image.

    ``comp`` and ``v`` are the flattened (raster order) label image and values
    with ``ncols`` columns.  Labels come in horizontal runs (cells are
    compact), so the values are first reduced per run (``reduceat``, one
    contiguous pass) and the runs, about 20 times fewer than the pixels, are
    then gathered per label: no index arrays and no full-size float64 copy.
    """
    count = np.zeros(size, np.int64)
    total = np.zeros(size, np.float64)
    vmax = np.full(size, -np.inf, np.float32)
    if comp.size == 0:
        return count, total, vmax
    ext = compiled_cells()  # (the same sums in the same order, one pass; None: NumPy)
    if ext is not None and comp.dtype == np.int32 and v.dtype == np.float32:
        ext.compartment_stats(np.ascontiguousarray(comp), np.ascontiguousarray(v), int(ncols),
                              count, total, vmax)
        return count, total, vmax
    change = np.empty(comp.size, bool)
    change[0] = True
    np.not_equal(comp[1:], comp[:-1], out=change[1:])
    change[::ncols] = True  # a run never continues onto the next row
    starts = np.flatnonzero(change)
    del change
    lab = comp[starts]
    np.add.at(count, lab, np.diff(starts, append=comp.size))
    sums = np.empty(starts.size, np.float64)
    block = _ROWS_PER_BLOCK * ncols
    bounds = np.searchsorted(starts, np.arange(0, comp.size + block, block))
    for k in range(bounds.size - 1):
        i0, i1 = bounds[k], bounds[k + 1]
        if i1 > i0:
            p0 = k * block
            seg = v[p0 : min(p0 + block, comp.size)].astype(np.float64)
            sums[i0:i1] = np.add.reduceat(seg, starts[i0:i1] - p0)
    np.add.at(total, lab, sums)
    np.maximum.at(vmax, lab, np.maximum.reduceat(v, starts))
    return count, total, vmax


def _measure(nuclei, cells, hematoxylin_od, dab_od, pixel_size_um=None, flat_n=None):
    """:func:`measure_cells` plus what :func:`detect_cells` reuses (nucleus pixels,
    per-id nucleus and cytoplasm pixel counts, ids 0..n); ``flat_n``, when given,
    is ``np.flatnonzero(nuclei)``."""
    nuclei = np.asarray(nuclei)
    cells = np.asarray(cells)
    n = int(max(nuclei.max(initial=0), cells.max(initial=0)))
    dab = np.asarray(dab_od, dtype=np.float32)
    hem = np.asarray(hematoxylin_od, dtype=np.float32)
    ncols = nuclei.shape[1] if nuclei.ndim == 2 else 1
    if flat_n is None:
        flat_n = np.flatnonzero(nuclei != 0)  # (of a bool image: ~7x faster than of int32)
    lab = nuclei.ravel()[flat_n].astype(np.intp)
    rr, cc = np.divmod(flat_n, ncols)
    _, h_mean, _ = _stats(lab, hem.ravel()[flat_n], n, with_max=False)
    nested = (cells.shape == nuclei.shape and nuclei.ndim == 2 and n < 2 ** 30
              and np.array_equal(cells.ravel()[flat_n], lab))
    if nested:
        # every nucleus pixel lies in the cell of the same id (what detect_cells makes):
        # one pass over a compartment image, ids 1..n = cytoplasm, n+1..2n = nucleus
        comp = scratch("measure.comp", cells.shape, np.int32)
        np.copyto(comp, cells, casting="unsafe")  # (n < 2**30: ids fit)
        comp = comp.ravel()
        comp[flat_n] += n
        cnt, tot, vmx = _compartment_stats(comp, np.ascontiguousarray(dab).ravel(), 2 * n + 1, ncols)
        n_area, y_area = cnt[n + 1 :], cnt[1 : n + 1]
        n_tot, y_tot = tot[n + 1 :], tot[1 : n + 1]
        n_mean, y_mean = _mean(n_tot, n_area), _mean(y_tot, y_area)
        n_max = np.where(n_area > 0, vmx[n + 1 :].astype(np.float64), np.nan)
        y_max = np.where(y_area > 0, vmx[1 : n + 1].astype(np.float64), np.nan)
        c_area = n_area + y_area
        c_mean = _mean(n_tot + y_tot, c_area)
        c_max = np.where(c_area > 0, np.maximum(vmx[n + 1 :], vmx[1 : n + 1]).astype(np.float64), np.nan)
    else:
        n_area, n_mean, n_max = _stats(lab, dab.ravel()[flat_n], n)
        flat_c = np.flatnonzero(cells != 0)
        lab_c = cells.ravel()[flat_c].astype(np.intp)
        v_c = dab.ravel()[flat_c]
        c_area, c_mean, c_max = _stats(lab_c, v_c, n)
        cyto = nuclei.ravel()[flat_c] == 0
        y_area, y_mean, y_max = _stats(lab_c[cyto], v_c[cyto], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.bincount(lab, weights=rr, minlength=n + 1)[1:] / n_area
        x = np.bincount(lab, weights=cc, minlength=n + 1)[1:] / n_area
    if pixel_size_um is None:
        px_area = np.nan
    else:
        (pr, pc), _ = _pixel_size(pixel_size_um, 0.5)
        px_area = pr * pc
    table = pd.DataFrame(
        {
            "cell": np.arange(1, n + 1, dtype=np.int64),
            "y": y, "x": x,
            "nucleus_area": n_area.astype(np.int64), "cell_area": c_area.astype(np.int64),
            "nucleus_area_um2": n_area * px_area, "cell_area_um2": c_area * px_area,
            "nucleus_dab_od_mean": n_mean, "nucleus_dab_od_max": n_max,
            "cytoplasm_dab_od_mean": y_mean, "cytoplasm_dab_od_max": y_max,
            "cell_dab_od_mean": c_mean, "cell_dab_od_max": c_max,
            "nucleus_hematoxylin_od_mean": h_mean,
        }
    )  # fmt: skip
    table = table[table["nucleus_area"] > 0].reset_index(drop=True)
    extra = {"flat_n": flat_n, "lab": lab,
             "nucleus_count": np.concatenate([[0], n_area]).astype(np.int64),
             "cytoplasm_count": np.concatenate([[0], y_area]).astype(np.int64)}
    return table, extra


def measure_cells(nuclei, cells, hematoxylin_od, dab_od, *, pixel_size_um=None) -> pd.DataFrame:
    """Per-cell table from nucleus and cell label images (ids 1..n).

    Parameters
    ----------
    nuclei, cells : ndarray of int
        Label images with the same ids; cytoplasm = cell pixels outside any
        nucleus.
    hematoxylin_od, dab_od : ndarray, 2-D float
        Stain OD maps of the same shape.
    pixel_size_um : float or (row, col), optional
        Adds areas in um^2 (NaN when None).

    Returns
    -------
    pandas.DataFrame
        Columns ``TABLE_COLUMNS``, one row per id 1..max id (ids with no
        nucleus pixel are left out).

    Examples
    --------
    >>> import numpy as np
    >>> nuc = np.zeros((5, 5), np.int32); nuc[2, 2] = 1
    >>> cell = np.zeros_like(nuc); cell[1:4, 1:4] = 1
    >>> dab = np.full((5, 5), 0.3, np.float32); dab[2, 2] = 0.0
    >>> t = measure_cells(nuc, cell, dab * 0, dab)
    >>> t[["cell", "nucleus_area", "cell_area", "cytoplasm_dab_od_mean"]].to_dict("records")
    [{'cell': 1, 'nucleus_area': 1, 'cell_area': 9, 'cytoplasm_dab_od_mean': 0.3...}]
    """
    return _measure(nuclei, cells, hematoxylin_od, dab_od, pixel_size_um)[0]


def detect_cells(hematoxylin_od, dab_od, *, pixel_size_um=None, mask=None, detection_od=None,
                 field_edges=NO_EDGES, **params) -> CellDetection:
    """Detect nuclei and cells and measure DAB per compartment.

    Parameters
    ----------
    hematoxylin_od, dab_od : ndarray, 2-D
        Hematoxylin and DAB optical density (QuPath units), same shape, e.g.
        channels 0 and 1 of :func:`blotquant.ihc.deconvolution.deconvolve`.
    pixel_size_um : float or (row, col), optional
        Pixel size in um/px. When None it is estimated from the size of the
        nuclei (:func:`blotquant.ihc.scale.estimate_pixel_size`;
        ``estimate_pixel_size=False``: ``assumed_pixel_size_um``, 0.5) and
        the um^2 columns are NaN.
    mask : ndarray of bool, optional
        Tissue/region mask: nuclei are only detected inside it; cells are
        clipped to it and do not reach across it (a cytoplasm never jumps a
        lumen or the glass to pixels it is not connected to).
    detection_od : ndarray, 2-D, optional
        The optical density sum used when ``detection_image="od_sum"``
        (in hematoxylin OD units); default ``hematoxylin_od + max(dab_od, 0)``.
        :func:`blotquant.ihc.score.detection_image` says which image a marker
        uses.
    field_edges : 4 bools
        Which image borders (top, bottom, left, right) are edges of the field:
        a nucleus one of them cuts is judged by its visible part (its minimum
        area scaled by the fraction a nucleus of ``nucleus_radius_um`` cut there
        would show; :func:`~blotquant.ihc.nuclei.visible_fraction`).  Default
        none (every nucleus judged as a whole object, as before): measured with
        all four on, the synthetic edge nuclei are found far more often but the
        real tiles' and second scanner's numbers move by a few cells
        (docs/benchmarks/cells.md, round 9), so it is not on in ``score_ihc``
        yet.  A tile inside a larger image passes False for its inner sides.
    **params
        Fields of :class:`~blotquant.ihc.params.CellParams` (QuPath defaults
        plus ours; ``DEFAULT_PARAMS``):
        ``requested_pixel_size_um`` (0.5; detection runs at this scale when the
        image is finer; within ``GRID_SNAP``, 1 %, of an integer factor k on k x k
        pixel blocks), ``assumed_pixel_size_um`` (0.5),
        ``background_radius_um`` (8; 0 = no background subtraction),
        ``sigma_um`` (1.5), ``threshold`` (None: 0.1 OD on hematoxylin, 0.05 on
        the OD sum),
        ``min_nucleus_area_um2`` (10), ``max_nucleus_area_um2`` (400),
        ``split_by_shape`` (True), ``split_tolerance_um`` (0.25; neck depth
        needed to split touching nuclei), ``split_contrast`` (None: 0.15 on
        the OD sum, else 0; touching nuclei whose smoothed OD dips by this
        fraction of the paler one's peak are split by intensity first),
        ``seed_sigma_um`` (1.0; smoothing whose maxima seed that split),
        ``split_dab_od`` (None: 0.15 on the OD sum; two DAB-carrying pieces
        stay one nucleus), ``rescue_radius_um`` (None: 1.5 on the OD sum; a
        second pass for pale nuclei cut away as a dark one's shoulder),
        ``boundary_sigma_um`` (0.5; lighter
        smoothing that draws the nucleus outline, see
        :func:`~blotquant.ihc.nuclei.segment_nuclei`), ``opening_radius_um``
        (1; removes thin lines/rings such as JPEG halos, 0 = off),
        ``relative_threshold`` (0.5; a nucleus outline is drawn at this fraction
        of its own peak OD when that exceeds ``threshold``, 0 = off),
        ``peak_radius_um`` (6; without the intensity split, the peak of that
        outline is taken within this radius), ``dab_hole_radius_um`` (4),
        ``dab_hole_weight`` (0.5) and ``dab_hole_floor`` (0.07 OD): pale nuclei
        inside DAB-positive cytoplasm are holes in the DAB (hematoxylin
        detection only), ``cell_expansion_um`` (5), ``detection_image``
        (``hematoxylin`` or ``od_sum``; None = hematoxylin here, score_ihc
        chooses by marker), ``estimate_pixel_size`` (True),
        ``nucleus_radius_um`` (3.3, what the estimate assumes and the blob
        seeds' scale), ``seed_detector`` (None: ``blob`` on the OD sum, one
        seed per nucleus-sized blob, see
        :func:`~blotquant.ihc.nuclei.blob_response`; ``maxima`` on
        hematoxylin), ``seed_radius_min`` (0.6), ``seed_floor`` (0.3),
        ``merge_peak_ratio`` (0.7), ``downsample_in`` (None: ``light`` on the
        OD sum, transmittance averaged as a coarser scan's optics do; ``od``
        on hematoxylin).

    Returns
    -------
    CellDetection
        ``table``, ``nuclei``, ``cells`` and ``params`` (pixel size used and
        its source: ``given``, ``estimated`` or ``assumed``; the estimate's
        record under ``pixel_size_estimate``).

    Raises
    ------
    ParameterError
        Non-2-D or mismatched inputs, NaN/inf, bad pixel size or parameter.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.zeros((50, 80), np.float32); dab = np.zeros_like(h)
    >>> yy, xx = np.mgrid[:50, :80]
    >>> for cx in (20, 60):
    ...     h[(yy - 25) ** 2 + (xx - cx) ** 2 <= 36] = 0.5
    >>> det = detect_cells(h, dab, estimate_pixel_size=False)   # 0.5 um/px assumed
    >>> len(det), det.params["pixel_size_source"], det.params["cell_expansion_px"]
    (2, 'assumed', 10.0)
    >>> bool(np.all(det.cells[det.nuclei > 0] == det.nuclei[det.nuclei > 0]))
    True
    """
    # private: the pixel-size estimate (scale.py) needs only the nucleus areas
    _nucleus_areas_only = bool(params.pop("_nucleus_areas_only", False))
    h = _as_od("hematoxylin_od", hematoxylin_od)
    d = _as_od("dab_od", dab_od)
    if h.shape != d.shape:
        raise ParameterError(
            f"hematoxylin_od and dab_od must have the same shape; got {h.shape} and {d.shape}."
        )
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != h.shape:
            raise ParameterError(f"mask must have the image's shape {h.shape}; got {mask.shape}.")
        mask = np.asarray(mask, dtype=bool)  # (read only here: no copy of a bool mask)
    p = _check_params(params)
    given = dict(p)  # before the automatic (None) values are resolved
    use_sum = p["detection_image"] == "od_sum"
    if p["threshold"] is None:
        p["threshold"] = AUTO_THRESHOLD["od_sum" if use_sum else "hematoxylin"]
    if p["split_contrast"] is None:
        p["split_contrast"] = AUTO_SPLIT_CONTRAST["od_sum" if use_sum else "hematoxylin"]
    if p["rescue_radius_um"] is None:
        p["rescue_radius_um"] = AUTO_RESCUE_RADIUS_UM["od_sum" if use_sum else "hematoxylin"]
    if p["split_dab_od"] is None:
        p["split_dab_od"] = AUTO_SPLIT_DAB_OD["od_sum" if use_sum else "hematoxylin"]
    if p["seed_detector"] is None:
        p["seed_detector"] = AUTO_SEED_DETECTOR["od_sum" if use_sum else "hematoxylin"]
    if p["downsample_in"] is None:
        p["downsample_in"] = AUTO_DOWNSAMPLE_IN["od_sum" if use_sum else "hematoxylin"]
    if use_sum:
        if detection_od is None:
            det_img = h + np.maximum(d, 0)
        else:
            det_img = _as_od("detection_od", detection_od)
            if det_img.shape != h.shape:
                raise ParameterError(f"detection_od must have the image's shape {h.shape}; "
                                     f"got {det_img.shape}.")
    else:
        det_img = h
    estimate = None
    if pixel_size_um is None and p["estimate_pixel_size"] and h.size:
        from .scale import estimate_pixel_size  # noqa: PLC0415 (scale imports this module)
        # on hematoxylin whatever the marker: the estimate is about the nuclei, not the stain
        estimate = estimate_pixel_size(h, d, mask=mask,
                                       params={**given, "detection_image": "hematoxylin"})
        if estimate.pixel_size_um is not None:
            pixel_size_um = estimate.pixel_size_um
    (pr, pc), known = _pixel_size(pixel_size_um, p["assumed_pixel_size_um"])
    source = ("estimated" if estimate is not None and estimate.pixel_size_um is not None
              else "given" if known else "assumed")
    known = source == "given"
    iso = math.sqrt(pr * pc)
    factor = p["requested_pixel_size_um"] / iso
    k = round(factor)
    if k >= 2 and abs(factor / k - 1) <= GRID_SNAP:  # k x k blocks (0.2492 um/px: 2, not 2.007)
        factor = float(k)
    shape = h.shape
    if factor > 1 + GRID_SNAP and min(shape) >= 2 * factor:
        work_shape = (max(1, round(shape[0] / factor)), max(1, round(shape[1] / factor)))
        if p["downsample_in"] == "light":  # average transmitted light, as a coarser scan's optics do
            t = cv2.resize(_transmittance(det_img), work_shape[::-1], interpolation=cv2.INTER_AREA)
            hw = -np.log10(np.maximum(t, np.float32(1e-6)))
        else:
            hw = cv2.resize(det_img, work_shape[::-1], interpolation=cv2.INTER_AREA)
        dw = cv2.resize(d, work_shape[::-1], interpolation=cv2.INTER_AREA)
        mw = None
        if mask is not None:
            mf = scratch("detect.maskf", shape, np.float32)  # (the mask as 0 / 1, a temporary)
            np.copyto(mf, mask)
            mw = cv2.resize(mf, work_shape[::-1], interpolation=cv2.INTER_AREA) >= 0.5
    else:
        work_shape, hw, dw, mw, factor = shape, det_img, d, mask, 1.0
    wr = pr * shape[0] / work_shape[0] if shape[0] else pr
    wc = pc * shape[1] / work_shape[1] if shape[1] else pc
    wiso = math.sqrt(wr * wc)
    derived = {
        "background_radius_px": p["background_radius_um"] / wiso,
        "sigma_px": p["sigma_um"] / wiso,
        "min_nucleus_area_px": p["min_nucleus_area_um2"] / (wr * wc),
        "max_nucleus_area_px": p["max_nucleus_area_um2"] / (wr * wc),
        "split_tolerance_px": p["split_tolerance_um"] / wiso,
        "boundary_sigma_px": p["boundary_sigma_um"] / wiso,
        "opening_radius_px": p["opening_radius_um"] / wiso,
        "peak_radius_px": p["peak_radius_um"] / wiso,
        "dab_hole_radius_px": p["dab_hole_radius_um"] / wiso,
        "cell_expansion_px": p["cell_expansion_um"] / wiso,
        "seed_sigma_px": p["seed_sigma_um"] / wiso,
        "rescue_radius_px": p["rescue_radius_um"] / wiso,
        "nucleus_radius_px": p["nucleus_radius_um"] / wiso,
    }
    blob = p["seed_detector"] == "blob"
    seed_radii = _seed_radii(derived["nucleus_radius_px"], p["seed_radius_min"]) if blob else ()
    if h.size:
        nw = segment_nuclei(
            hw, mask=mw, background_radius=derived["background_radius_px"], sigma=derived["sigma_px"],
            threshold=p["threshold"], min_area=derived["min_nucleus_area_px"],
            max_area=derived["max_nucleus_area_px"], split_by_shape=p["split_by_shape"],
            split_tolerance=derived["split_tolerance_px"], boundary_sigma=derived["boundary_sigma_px"],
            opening_radius=derived["opening_radius_px"], relative_threshold=p["relative_threshold"],
            peak_radius=derived["peak_radius_px"], dab_od=dw,
            dab_hole_radius=derived["dab_hole_radius_px"],
            dab_hole_weight=0.0 if use_sum else p["dab_hole_weight"],  # DAB is in the nucleus
            dab_hole_floor=p["dab_hole_floor"], split_contrast=p["split_contrast"],
            seed_sigma=derived["seed_sigma_px"], rescue_radius=derived["rescue_radius_px"],
            split_dab_od=p["split_dab_od"], seed_radii=seed_radii,
            seed_floor=p["seed_floor"] * p["threshold"], merge_ratio=p["merge_peak_ratio"],
            edge_radius=derived["nucleus_radius_px"], field_edges=tuple(bool(e) for e in field_edges),
        )  # fmt: skip
        if _nucleus_areas_only:  # the pixel-size estimate needs nothing else
            return _nucleus_areas(nw, shape, mask)
        flat_nw = np.flatnonzero(nw != 0)  # (of a bool image: ~7x faster than of int32)
        cw, free_w = _expand(nw, derived["cell_expansion_px"], mw, flat_nw)
        free = free_w
        if work_shape != shape:
            nuclei, cells = _upsample_labels(nw, shape), _upsample_labels(cw, shape)
            # the unclipped partition is only counted: on the working grid (below)
            free = cells if free_w is cw else None
        else:
            nuclei, cells = nw, cw
        if mask is not None and not mask.all():  # (upsampled labels may reach past the mask)
            np.multiply(nuclei, mask, out=nuclei)  # nw and the upsampled labels are our own
            # ``free`` is the unclipped partition: never clip it through an alias
            cells = np.multiply(cells, mask) if free is cells else np.multiply(cells, mask, out=cells)
        # the nucleus pixels are still those of nw unless upsampled or clipped by the mask
        flat_n = flat_nw if nuclei is nw and nuclei.ravel()[flat_nw].all() else None
        table, m = _measure(nuclei, cells, h, d, pixel_size_um=(pr, pc) if known else None,
                            flat_n=flat_n)
        ids = table["cell"].to_numpy()
        n_all = int(max(m["cytoplasm_count"].size - 1, (free_w if free is None else free).max(initial=0)))
        cyto_kept = np.zeros(n_all + 1, np.int64)
        cyto_kept[: m["cytoplasm_count"].size] = m["cytoplasm_count"]  # cells[nuclei == 0] per id
        if free is None and not np.array_equal(free_w.ravel()[flat_nw], nw.ravel()[flat_nw]):
            free = _upsample_labels(free_w, shape)  # (not what _expand makes: count at full size)
        if free is cells:
            cyto_free = cyto_kept
        elif free is None:
            # free_w carries each nucleus' own id on its pixels, so does its upsampled copy
            # (the same index maps as the nuclei): count(free == id) - nucleus pixels, where
            # a working pixel counts as many full-size pixels as it is copied to
            cyto_free = _upsampled_counts(free_w, shape, n_all + 1)
            cyto_free[: m["nucleus_count"].size] -= m["nucleus_count"]
        elif np.array_equal(free.ravel()[m["flat_n"]], m["lab"]):
            # free carries each nucleus' own id on its pixels: count(free == id, nuclei == 0)
            cyto_free = label_run_counts(free, n_all + 1)
            cyto_free[: m["nucleus_count"].size] -= m["nucleus_count"]
        else:
            cyto_free = np.bincount(free[nuclei == 0].ravel(), minlength=n_all + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(cyto_free[ids] > 0, cyto_kept[ids] / np.maximum(cyto_free[ids], 1), 1.0)
        table["cytoplasm_in_tissue"] = np.minimum(frac, 1.0)
        if len(table) != int(nuclei.max(initial=0)):  # a nucleus vanished (mask/upsampling)
            lut = np.zeros(n_all + 1, np.int32)
            lut[table["cell"].to_numpy()] = np.arange(1, len(table) + 1, dtype=np.int32)
            nuclei, cells = lut[nuclei], lut[cells]
            table["cell"] = np.arange(1, len(table) + 1, dtype=np.int64)
    elif _nucleus_areas_only:
        return np.zeros(0, np.int64)
    else:
        nuclei = np.zeros(shape, np.int32)
        cells = np.zeros(shape, np.int32)
        table = measure_cells(nuclei, cells, h, d)
        table["cytoplasm_in_tissue"] = np.zeros(0)
    record = {
        **p,
        "detection_image": "od_sum" if use_sum else "hematoxylin",
        "pixel_size_um": [pr, pc],
        "pixel_size_source": source,
        "working_pixel_size_um": [wr, wc],
        "downsample": float(factor),
        **{k: round(v, 6) for k, v in derived.items()},
    }
    if estimate is not None:
        record["pixel_size_estimate"] = estimate.as_dict()
    return CellDetection(table=table, nuclei=nuclei.astype(np.int32, copy=False),
                         cells=cells.astype(np.int32, copy=False), params=record)  # fmt: skip


def classify_cells(table, thresholds=DEFAULT_THRESHOLDS, compartment="cytoplasm", measure="mean") -> np.ndarray:
    """Intensity class per cell: 0 negative, 1 = 1+, 2 = 2+, 3 = 3+.

    A cell is in class k when its measure is ``>= thresholds[k-1]`` and below
    the next threshold (QuPath's rule). Cells whose measure is NaN (e.g. no
    cytoplasm pixel) are negative.

    Parameters
    ----------
    table : pandas.DataFrame
        ``CellDetection.table`` (needs the column
        ``f"{compartment}_dab_od_{measure}"``).
    thresholds : sequence of 3 increasing floats
        DAB OD thresholds for 1+, 2+, 3+ (QuPath default 0.2, 0.4, 0.6).
    compartment : {"cytoplasm", "nucleus", "cell"}
    measure : {"mean", "max"}

    Returns
    -------
    ndarray, int64
        Class per row of ``table``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"cytoplasm_dab_od_mean": [0.1, 0.2, 0.45, 0.9, float("nan")],
    ...                   "nucleus_dab_od_mean": [0.7, 0.0, 0.0, 0.0, 0.0]})
    >>> classify_cells(t).tolist(), classify_cells(t, compartment="nucleus").tolist()
    ([0, 1, 2, 3, 0], [3, 0, 0, 0, 0])
    """
    if compartment not in COMPARTMENTS:
        raise ParameterError(f"compartment must be one of {COMPARTMENTS}; got {compartment!r}.")
    if measure not in MEASURES:
        raise ParameterError(f"measure must be one of {MEASURES}; got {measure!r}.")
    column = f"{compartment}_dab_od_{measure}"
    if column not in table:
        raise ParameterError(f"the cell table has no column {column!r}; use detect_cells(...).table.")
    return intensity_classes(np.asarray(table[column], dtype=float), thresholds).astype(np.int64)
