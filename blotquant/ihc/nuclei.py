"""Nucleus segmentation on an optical-density map (hematoxylin, or the OD sum).

The steps follow QuPath's *positive cell detection* (watershed cell
detection) closely enough that its parameters mean the same thing here, but
the implementation is our own and vectorised:

1. background subtraction: white top-hat of the hematoxylin OD with a disk of
   ``background_radius`` pixels (a grey opening computed on a block-minimum
   shrunken copy for large radii, ImageJ style, then interpolated back),
   inside ``mask`` only (glass does not count as background); optionally
   (``dab_od``, ``dab_hole_*``) the depth of nucleus-sized holes in the DAB
   is added where there is some hematoxylin contrast, so pale nuclei in
   strongly stained cytoplasm are found;
2. Gaussian smoothing (``sigma`` pixels) and threshold (``threshold``,
   hematoxylin OD): this finds the nuclei robustly but, with QuPath's 1.5 um
   sigma, blurs their outlines outward and fills the necks between touching
   nuclei; so the outline is the same threshold applied to a lightly smoothed
   copy (``boundary_sigma`` pixels), kept only inside the detected objects;
   before both, a small grey opening (``opening_radius``) removes thin lines
   and rings that are not nuclei;
3. restriction to ``mask``, holes filled, specks below ``min_area`` dropped;
4. outline refinement: each object keeps the pixels above
   ``relative_threshold`` times its own peak (and above ``threshold``), which
   puts the outline near half maximum, sheds faint halos and deepens the necks
   between touching nuclei (before the split the peak is the local one within
   ``peak_radius``, so pale nuclei in a clump with dark ones survive);
5. split of touching nuclei *by shape*: watershed of the Euclidean distance
   transform from its regional maxima, then adjacent basins are merged again
   when the saddle between them is less than ``split_tolerance`` pixels below
   the lower of the two peaks (the h-maxima criterion, evaluated only on the
   basin borders instead of on the whole image); step 4 is then repeated per
   nucleus.  With ``split_contrast`` (nuclear markers, OD sum) an *intensity*
   split comes first: watershed of the lightly smoothed OD from the maxima of
   a ``seed_sigma`` smoothing, adjacent basins merged unless the saddle lies
   more than ``split_contrast`` times the paler peak below it (a dark
   positive nucleus touching a pale negative one has no neck, but a step in
   intensity); each basin is then outlined at half its own peak, and the
   shape split runs inside the basins.  With ``seed_radii`` (*blob seeds*,
   the default on the OD sum) the seeds are instead the maxima of a
   scale-normalised Laplacian-of-Gaussian response at nucleus radii
   (:func:`blob_response`), basins follow the response, each is outlined at
   half the peak near its seed, and touching pieces are merged by shape (no
   neck, even intensity), not by intensity dips;
6. with ``rescue_radius``, a second pass: foreground that no nucleus took and
   that is at least ``2 * rescue_radius`` wide (a pale nucleus cut away as the
   shoulder of a dark one) becomes a nucleus of its own;
7. area filter (``min_area`` .. ``max_area`` pixels) and sequential labels.

All distances and areas here are in *pixels of the array given*;
:func:`blotquant.ihc.cells.detect_cells` converts micrometres to pixels.

After the threshold, the per-object steps work on the raveled indices of the
foreground pixels (found once; nuclei are a small part of a field) rather than
on whole-image passes, and a watershed floods only the objects with several
seeds, cut out and packed onto a small sheet (:func:`_flood_multi`).

Examples
--------
>>> import numpy as np
>>> h = np.zeros((40, 60), np.float32)
>>> yy, xx = np.mgrid[:40, :60]
>>> h[(yy - 20) ** 2 + (xx - 15) ** 2 <= 36] = 0.6
>>> h[(yy - 20) ** 2 + (xx - 40) ** 2 <= 36] = 0.6
>>> labels = segment_nuclei(h, sigma=1.0, background_radius=0, min_area=10)
>>> labels.dtype.name, int(labels.max())
('int32', 2)
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from skimage.segmentation import watershed

from ..errors import ParameterError
from ._cellkernel import compiled_cells
from ._morph import closing, morph, opening
from ._scratch import buffer as scratch
from .tissue import lut_take

__all__ = ["segment_nuclei", "subtract_background", "blob_response"]

#: All four image borders (top, bottom, left, right) are edges of the field.
ALL_EDGES = (True, True, True, True)
#: No image border is an edge of the field (every object judged as a whole one).
NO_EDGES = (False, False, False, False)


@functools.lru_cache(maxsize=256)
def _disk(radius: float) -> np.ndarray:
    """Disk kernel (uint8, read-only: cached)."""
    r = max(int(round(radius)), 1)
    yy, xx = np.ogrid[-r : r + 1, -r : r + 1]
    k = ((yy * yy + xx * xx) <= radius * radius + 1e-9).astype(np.uint8)
    k.flags.writeable = False
    return k


def subtract_background(image: np.ndarray, radius: float, mask: np.ndarray | None = None) -> np.ndarray:
    """White top-hat: ``image`` minus its grey opening by a disk.

    Parameters
    ----------
    image : ndarray, 2-D float
        E.g. a hematoxylin OD map.
    radius : float
        Disk radius in pixels; ``<= 0`` returns a float32 copy unchanged.
        Radii above 10 px are computed on a block-minimum shrunken copy
        (factor 2 up to 30 px, 4 above; ImageJ's rolling-ball shortcut) and the
        background is interpolated back linearly.
    mask : ndarray of bool, optional
        Tissue: the opening ignores pixels outside it (a disk that overhangs
        the glass takes the minimum of its tissue part only). Without this a
        narrow wedge or corner of dense stroma, where the disk does not fit,
        gets the glass as background and stands out like a large nucleus.

    Returns
    -------
    ndarray, float32
        ``image - background``, never negative.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((30, 30), 0.2, np.float32)
    >>> img[14:17, 14:17] = 1.0
    >>> out = subtract_background(img, 5)
    >>> round(float(out[15, 15]), 3), round(float(out[0, 0]), 3)
    (0.8, 0.0)
    >>> wedge = np.zeros((30, 30), np.float32); wedge[:, :4] = 0.3   # 4 px strip on glass
    >>> float(subtract_background(wedge, 5)[15, 1]), float(subtract_background(wedge, 5, wedge > 0)[15, 1])
    (0.3..., 0.0)
    """
    img = np.ascontiguousarray(image, dtype=np.float32)
    if radius <= 0 or img.size == 0:
        return img.copy()
    big = np.float32(1e6)
    if mask is None:
        src = img
    else:  # img inside the mask, big outside (np.where's values; OpenCV's masked copy is faster)
        src = np.full(img.shape, big, np.float32)
        cv2.copyTo(img, np.ascontiguousarray(mask).view(np.uint8), src)
    shrink = 1 if radius <= 10 else (2 if radius <= 30 else 4)
    if shrink > 1 and min(img.shape) >= 4 * shrink:
        rows, cols = img.shape
        if shrink == 2:  # the minimum of each whole 2 x 2 block, the same values, ~2.5x faster
            small = cv2.min(src[0 : rows // 2 * 2 : 2], src[1 : rows // 2 * 2 : 2])
            small = np.ascontiguousarray(cv2.min(small[:, 0 : cols // 2 * 2 : 2], small[:, 1 : cols // 2 * 2 : 2]))
        else:  # (erosion by the block anchored at its centre, read at the block centres)
            small = cv2.erode(src, np.ones((shrink, shrink), np.uint8), borderType=cv2.BORDER_REPLICATE)
            small = np.ascontiguousarray(small[shrink // 2 :: shrink, shrink // 2 :: shrink])
        bg = _open(small, _disk(radius / shrink), masked=mask is not None)
        bg = cv2.resize(bg, (cols, rows), interpolation=cv2.INTER_LINEAR)
    else:
        bg = _open(src, _disk(radius), masked=mask is not None)
    out = np.subtract(img, bg, dtype=np.float32)
    np.maximum(out, 0, out=out)
    if mask is not None:
        out[~mask] = 0
    return out


def _open(img: np.ndarray, kernel: np.ndarray, masked: bool) -> np.ndarray:
    """Grey opening; with ``masked``, values >= 1e5 mark pixels to ignore."""
    if not masked:
        return opening(img, kernel)
    ero = morph(cv2.erode, img, kernel)
    ero[ero >= 1e5] = -1e6  # disks entirely outside the mask: ignored by the dilation
    bg = morph(cv2.dilate, ero, kernel)
    # pixels outside the mask (and near it after interpolation) are never "bright"
    return np.where(bg <= -1e5, 0, bg).astype(np.float32)


def _smooth(image: np.ndarray, sigma: float, slot: str | None = None) -> np.ndarray:
    """Gaussian smoothing (reflected border); ``slot``: into that reused buffer
    (:mod:`._scratch`, for a map that does not leave the caller)."""
    if sigma <= 0:
        return image
    dst = None if slot is None else scratch(slot, image.shape, np.float32)
    return cv2.GaussianBlur(image, (0, 0), float(sigma), dst=dst, borderType=cv2.BORDER_REFLECT)


def _run_starts(lab: np.ndarray) -> np.ndarray:
    """Where each run of equal values in a 1-D label sequence starts (labels listed in
    raster order come in runs: one per row a nucleus crosses, ~20x fewer than pixels)."""
    change = np.empty(lab.size, bool)
    if lab.size:
        change[0] = True
        np.not_equal(lab[1:], lab[:-1], out=change[1:])
    return np.flatnonzero(change)


def _run_at(op, out: np.ndarray, lab: np.ndarray, values: np.ndarray, starts: np.ndarray | None = None):
    """``op.at(out, lab, values)`` for ``op`` np.minimum or np.maximum, run by run:
    each run of equal labels is reduced in one pass (``op.reduceat``), then only the
    runs are scattered.  Exact (a minimum or maximum does not depend on the order);
    ``starts`` (:func:`_run_starts` of ``lab``) when the caller has them."""
    if lab.size:
        if starts is None:
            starts = _run_starts(lab)
        op.at(out, lab[starts], op.reduceat(values, starts))
    return out


def _slot_boxes(k: np.ndarray, py: np.ndarray, px: np.ndarray, m: int):
    """Bounding boxes ``(y0, y1, x0, x1)`` (int64, ``y1``/``x1`` one past the last row /
    column) of ``m`` objects from their pixels' slots ``k`` and coordinates, pixels in
    raster order (an object's pixels come in runs, row by row: :func:`_run_at`)."""
    big = np.iinfo(np.int64).max
    y0, x0 = np.full(m, big, np.int64), np.full(m, big, np.int64)
    y1, x1 = np.full(m, -1, np.int64), np.full(m, -1, np.int64)
    runs = _run_starts(k)
    _run_at(np.minimum, y0, k, py, runs)
    _run_at(np.minimum, x0, k, px, runs)
    _run_at(np.maximum, y1, k, py, runs)
    _run_at(np.maximum, x1, k, px, runs)
    return y0, y1 + 1, x0, x1 + 1


def _label_max(labels: np.ndarray, values: np.ndarray, n: int, flat: np.ndarray | None = None,
               lab: np.ndarray | None = None) -> np.ndarray:
    """Maximum of ``values`` (>= 0) per label 0..n-1 (0 where a label has no pixel).

    ``flat`` (raveled indices of a superset of the labelled pixels, e.g. the
    foreground's) lets a caller that has them skip the scan for the labelled pixels;
    ``lab`` (``labels.ravel()[flat]``, with ``flat``) the gather of their labels.
    """
    out = np.zeros(n, np.float32)
    if flat is None:
        flat = np.flatnonzero(labels != 0)  # (of a bool image: ~7x faster than of int32)
    if lab is None:
        lab = labels.ravel()[flat]
    _run_at(np.maximum, out, lab, values.ravel()[flat])
    out[:1] = 0  # (``flat`` may include unlabelled pixels)
    return out


def _scatter(shape, flat: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An int32 image of ``shape``, zero except ``values`` at the raveled indices ``flat``."""
    out = np.zeros(shape, np.int32)
    out.ravel()[flat] = values
    return out


def _coarse(op, image: np.ndarray, radius: float) -> np.ndarray:
    """A grey morphology result of a smooth field, computed at half resolution above 4 px."""
    if radius < 4 or min(image.shape) < 16:
        return op(image, _disk(radius))
    rows, cols = image.shape
    small = cv2.resize(image, (max(cols // 2, 1), max(rows // 2, 1)), interpolation=cv2.INTER_AREA)
    return cv2.resize(op(small, _disk(radius / 2)), (cols, rows), interpolation=cv2.INTER_LINEAR)


def _fill_holes(fg: np.ndarray) -> np.ndarray:
    """Fill background regions not 4-connected to the image border (fast binary_fill_holes).

    The background that reaches the border is flood-filled (4-connected) from the
    first pixel of each run of background along the border; what stays unfilled
    is foreground or a hole.  The flood visits the background alone, where a
    labelling of all background regions costs about twice as much (nuclei cover
    a small part of a field).
    """
    img = np.ascontiguousarray(fg, dtype=bool).view(np.uint8).copy()  # 1 = fg, 0 = background
    if img.size == 0:
        return fg
    rows, cols = img.shape
    filled = np.uint8(2)
    for line, at in ((img[0], lambda j: (j, 0)), (img[-1], lambda j: (j, rows - 1)),
                     (img[:, 0], lambda i: (0, i)), (img[:, -1], lambda i: (cols - 1, i))):
        z = np.flatnonzero(line == 0)
        if not z.size:
            continue
        for j in z[np.r_[True, np.diff(z) > 1]].tolist():  # one seed per run along the border
            x, y = at(j)
            if img[y, x] == 0:  # (not reached from an earlier seed)
                cv2.floodFill(img, None, (x, y), int(filled), flags=4)
    return img != filled


def _refine(labels, hs, hb, threshold, fraction, local_peak=None, flat=None, inplace=False):
    """Keep label pixels with ``hb > max(threshold, fraction * peak of hs in the label)``.

    With ``local_peak`` (an image), the peak is the smaller of the label's peak
    and ``local_peak`` at the pixel: a faint nucleus merged with a dark one is
    then cut at its own half maximum, not the dark one's.  Works on the
    labelled pixels only (nuclei are a small part of a field); ``flat``, raveled
    indices of a superset of them in raster order, saves the scan for them;
    ``inplace`` clears the dropped pixels in ``labels`` itself and returns it.
    """
    if flat is None:
        flat = np.flatnonzero(labels != 0)  # (of a bool image: ~7x faster than of int32)
    if not flat.size:
        return np.zeros(labels.shape, labels.dtype)
    lab = labels.ravel()[flat]
    keep = _refine_keep(lab, hs.ravel()[flat], hb.ravel()[flat], threshold, fraction,
                        None if local_peak is None else local_peak.ravel()[flat])
    if inplace and labels.flags.c_contiguous:
        labels.ravel()[flat[~keep]] = 0
        return labels
    out = np.zeros(labels.shape, labels.dtype)
    out.ravel()[flat[keep]] = lab[keep]
    return out


def _refine_keep(lab, hs_f, hb_f, threshold, fraction, local_f=None) -> np.ndarray:
    """Which pixels :func:`_refine` keeps, from their labels ``lab`` (in raster order)
    and their values of ``hs``, ``hb`` (and ``local_peak``) gathered in the same order."""
    peak = np.zeros(int(lab.max(initial=0)) + 1, np.float32)
    _run_at(np.maximum, peak, lab, hs_f)
    ref = peak[lab]
    if local_f is not None:
        ref = np.minimum(ref, local_f)
    cut = np.maximum(threshold, fraction * ref)
    return hb_f > cut


def _adjacent_saddles(labels: np.ndarray, dist: np.ndarray, flat: np.ndarray | None = None,
                      lab_f: np.ndarray | None = None):
    """Highest border value between every pair of 4-adjacent basins.

    ``flat`` (raveled indices of a superset of the labelled pixels, in raster
    order) restricts the neighbour comparisons to those pixels; ``lab_f``
    (``labels.ravel()[flat]``) saves their gather."""
    keys, vals = [], []
    if flat is not None:
        rows, cols = labels.shape
        lab, val = labels.ravel(), dist.ravel()
        lf = lab[flat] if lab_f is None else lab_f
        n1 = np.int64(lf.max(initial=0)) + 1
        # right neighbours: the next entry of ``flat`` when it is the next pixel (a pixel
        # not in ``flat`` is unlabelled), except across the end of a row
        a, b = lf[:-1], lf[1:]
        sel = (flat[1:] == flat[:-1] + 1) & (a != b) & (a > 0) & (b > 0)
        f = flat[:-1][sel]
        row_end = f % cols == cols - 1
        right = (f[~row_end], a[sel][~row_end], b[sel][~row_end])
        ok = flat < (rows - 1) * cols
        f = flat[ok]
        down = (f, lf[ok], lab[f + cols])
        for step, (f, a, b) in ((1, right), (cols, down)):
            sel = (a != b) & (a > 0) & (b > 0)
            if not sel.any():
                continue
            f = f[sel]
            la, lb = a[sel].astype(np.int64), b[sel].astype(np.int64)
            keys.append(np.minimum(la, lb) * n1 + np.maximum(la, lb))
            vals.append(np.minimum(val[f], val[f + step]))
        pairs = ()
    else:
        n1 = np.int64(labels.max()) + 1
        pairs = ((labels[:, :-1], labels[:, 1:], dist[:, :-1], dist[:, 1:]),
                 (labels[:-1, :], labels[1:, :], dist[:-1, :], dist[1:, :]))
    for a, b, da, db in pairs:
        sel = (a != b) & (a > 0) & (b > 0)
        if not sel.any():
            continue
        la, lb = a[sel].astype(np.int64), b[sel].astype(np.int64)
        keys.append(np.minimum(la, lb) * n1 + np.maximum(la, lb))
        vals.append(np.minimum(da[sel], db[sel]))
    if not keys:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    keys, vals = np.concatenate(keys), np.concatenate(vals)
    order = np.argsort(keys, kind="stable")
    keys, vals = keys[order], vals[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    saddle = np.maximum.reduceat(vals, starts)
    uk = keys[starts]
    return uk // n1, uk % n1, saddle


def _pack_shelves(heights, widths, gap=1):
    """Top-left corners of boxes packed on shelves (tallest first), ``gap`` px apart.

    Returns ``(y, x, rows, cols)``: the corner of each box and the size of the sheet.
    """
    k = heights.size
    order = np.argsort(-heights, kind="stable")
    sheet_w = int(max(widths.max() + gap, math.ceil(math.sqrt(float(((heights + gap) * (widths + gap)).sum())))))
    ys, xs = np.zeros(k, np.int64), np.zeros(k, np.int64)
    y = x = shelf = 0
    for i in order.tolist():  # one scalar step per box (hundreds), no pixel work
        w, hgt = int(widths[i]) + gap, int(heights[i]) + gap
        if x + w > sheet_w:
            y, x, shelf = y + shelf, 0, 0
        ys[i], xs[i] = y, x
        x += w
        shelf = max(shelf, hgt)
    return ys, xs, y + shelf, sheet_w


def _flood_multi(fg, elevation, markers, n, cc, n_cc, flat=None, flat_m=None, with_flat=False,
                into_cc=False):
    """Basins of the foreground: a watershed of ``-elevation`` where a component holds
    several markers; a component with one marker (or none) stays whole (labels ``n + cc``).

    ``cc`` are the components of ``fg`` (0 off it).  Only the components with
    several markers are flooded, each cut out of the image by its bounding box
    and packed with the others onto a small sheet, one pixel of mask apart:
    the watershed (a priority flood that never crosses the mask) then works on
    those pixels alone instead of the whole image, with each pixel's
    neighbours and the raster order of its component's pixels unchanged.
    ``flat`` (raveled indices of the foreground, a superset of ``cc > 0``) and
    ``flat_m`` (of the marker pixels) save the callers' scans when known.
    ``into_cc``: the basins are written into ``cc`` itself (a caller that does not
    read it again; no second label image).  With the compiled loops
    (:func:`~blotquant.ihc._cellkernel.compiled_cells`) the flood runs on the listed
    pixels of those components (compact arrays, no sheet), the same steps as
    scikit-image's on the sheet (the same labels).

    Returns
    -------
    (basins int32, n_lab) where labels run from 1 to ``n_lab``; with ``with_flat``
    ``(basins, n_lab, basins.ravel()[flat])``.
    """
    if flat_m is None:
        flat_m = np.flatnonzero(markers != 0)
    m_cc = cc.ravel()[flat_m].astype(np.int64)
    pairs = np.unique(m_cc * (n + 1) + markers.ravel()[flat_m])
    multi = np.bincount(pairs // (n + 1), minlength=n_cc) > 1
    multi[0] = False
    if flat is None:
        flat = np.flatnonzero(cc != 0)
    comp = cc.ravel()[flat]
    lut = np.arange(n, n + n_cc, dtype=np.int32)
    lut[0] = 0
    basins_f = lut[comp]
    if into_cc and cc.dtype == np.int32 and cc.flags.c_contiguous:
        basins = cc  # (zero off ``flat`` already)
        basins.ravel()[flat] = basins_f
    else:
        basins = _scatter(cc.shape, flat, basins_f)
    ext = compiled_cells() if _WATERSHED_RAVELED is not None else None
    done = False
    if multi.any() and ext is not None and elevation.dtype == np.float32 \
            and markers.dtype == np.int32:
        sel = multi[comp]
        region = flat[sel].astype(np.int64, copy=False)
        flooded = np.empty(region.size, np.int32)
        # (False: NaN in the elevation, which the C flood's integer keys cannot order)
        done = ext.flood_region(np.ascontiguousarray(elevation), np.ascontiguousarray(markers),
                                region, flooded)
        if done:
            basins.ravel()[region] = flooded
            if with_flat:
                basins_f[sel] = flooded
    if multi.any() and not done:
        sel = multi[comp]
        flat, comp = flat[sel], comp[sel]
        ncols = cc.shape[1]
        py, px = np.divmod(flat, ncols)
        ids = np.flatnonzero(multi)
        slot = np.zeros(n_cc, np.intp)
        slot[ids] = np.arange(ids.size)
        k = slot[comp]
        y0, y1, x0, x1 = _slot_boxes(k, py, px, ids.size)
        y1, x1 = y1 - 1, x1 - 1
        oy, ox, rows, cols = _pack_shelves(y1 - y0 + 1, x1 - x0 + 1)
        sy = py - y0[k] + oy[k] + 1  # + 1: a mask-free frame around the sheet
        sx = px - x0[k] + ox[k] + 1
        shape = (int(rows) + 2, int(cols) + 2)
        elev = np.zeros(shape, np.float64)
        elev[sy, sx] = -elevation.ravel()[flat]
        seeds = np.zeros(shape, np.int32)
        seeds[sy, sx] = markers.ravel()[flat]
        inside = np.zeros(shape, bool)
        inside[sy, sx] = True
        sheet_idx = sy * shape[1] + sx
        order = sheet_idx[seeds.ravel()[sheet_idx] > 0]  # the seeds in the image's raster order
        flooded = _flood_sheet(elev, seeds, inside, order)[sy, sx]
        basins.ravel()[flat] = flooded
        if with_flat:
            basins_f[sel] = flooded
    if with_flat:
        return basins, n + n_cc, basins_f
    return basins, n + n_cc


def _flood_sheet(elev: np.ndarray, seeds: np.ndarray, inside: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``watershed(elev, seeds, mask=inside)`` with the seeds queued in ``order``.

    scikit-image queues the seed pixels in the raster order of the image it is
    given and pops tied ones in an order that follows from that; queueing the
    sheet's seeds in the raster order they have in the whole image makes the
    flood of the sheet step for step the flood of the whole image (the same
    values, ages and neighbours, one to one), so ties are settled the same way.
    ``elev`` is float64 and ``inside`` False on the sheet's one-pixel frame.
    Uses scikit-image's raveled flood; if that private function is not there,
    the public :func:`~skimage.segmentation.watershed` (ties may then differ).
    """
    if _WATERSHED_RAVELED is None:
        return watershed(elev, seeds, mask=inside)
    raveled, conn, neighbours = _WATERSHED_RAVELED
    out = np.ascontiguousarray(seeds, dtype=np.int32).copy()
    offsets = neighbours(elev.shape, conn, center=(1, 1))
    strides = np.array(elev.strides, dtype=np.intp) // elev.itemsize
    raveled(np.ascontiguousarray(elev, dtype=np.float64).ravel(), np.ascontiguousarray(order, dtype=np.intp),
            offsets, np.ascontiguousarray(inside).view(np.int8).ravel(), strides, 0.0, out.ravel(), False)
    return out


def _raveled_watershed():
    """scikit-image's raveled flood and the helpers its ``watershed`` uses, or None."""
    try:
        from skimage.morphology._util import _offsets_to_raveled_neighbors, _validate_connectivity
        from skimage.segmentation import _watershed_cy

        conn, _ = _validate_connectivity(2, 1, None)
        probe = np.zeros((3, 3), np.float64)  # check the call on a one-pixel sheet
        seed = np.zeros((3, 3), np.int32)
        seed[1, 1] = 1
        inside = np.zeros((3, 3), bool)
        inside[1, 1] = True
        _watershed_cy.watershed_raveled(probe.ravel(), np.array([4], np.intp),
                                        _offsets_to_raveled_neighbors((3, 3), conn, center=(1, 1)),
                                        inside.view(np.int8).ravel(), np.array([3, 1], np.intp), 0.0,
                                        seed.ravel(), False)
        return _watershed_cy.watershed_raveled, conn, _offsets_to_raveled_neighbors
    except Exception:  # noqa: BLE001 (a private API: any change means the public call)
        return None


_WATERSHED_RAVELED = _raveled_watershed()


def _merge_lut(a, b, n_lab) -> np.ndarray:
    """New label (int32) of each basin 0..n_lab when the pairs ``(a[i], b[i])`` are joined:
    connected components of the pair graph, numbered from 1 (0 stays 0)."""
    graph = sparse.coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n_lab + 1, n_lab + 1))
    _, comp = csgraph.connected_components(graph, directed=False)
    lut = comp.astype(np.int32) + 1
    lut[0] = 0
    return lut


def _merge_pairs(basins, a, b, n_lab, flat=None):
    """Basins joined along the pairs ``(a[i], b[i])`` (connected components), relabelled.

    ``flat``: raveled indices of a superset of the labelled pixels (else all pixels)."""
    if not len(a):
        return basins
    lut = _merge_lut(a, b, n_lab)
    if flat is None:
        return lut_take(lut, basins)
    return _scatter(basins.shape, flat, lut[basins.ravel()[flat]])


def _label8(mask: np.ndarray, slot: str | None = None):
    """8-connected components of a bool image: ``(labels int32, count)`` without the
    background (the same partition as ``ndi.label`` with a 3x3 structure; the label
    numbers may come in another order, which no caller depends on); ``slot``: the
    labels go into that reused buffer (:mod:`._scratch`)."""
    m8 = np.ascontiguousarray(mask).view(np.uint8)
    out = None if slot is None else scratch(slot, m8.shape, np.int32)
    n, lab = cv2.connectedComponents(m8, labels=out, connectivity=8, ltype=cv2.CV_32S)
    return lab, n - 1


def _split_by_shape(fg: np.ndarray, tolerance: float, connectivity: int = 8,
                    flat: np.ndarray | None = None, flat_only: bool = False) -> np.ndarray:
    """Watershed split of a binary mask on its distance transform (``flat``: raveled
    indices of a superset of the mask's pixels, in raster order, when known).

    With ``flat_only`` (and ``flat``) the labels at ``flat`` alone are returned
    (``labels.ravel()[flat]``), without the label image."""
    fg = np.ascontiguousarray(fg, dtype=bool)
    fg8 = fg.view(np.uint8)
    shape = fg.shape  # (the full-size temporaries go into reused buffers, see ._scratch)
    dist = cv2.distanceTransform(fg8, cv2.DIST_L2, cv2.DIST_MASK_5,
                                 dst=scratch("shape.dt", shape, np.float32))
    dist = cv2.GaussianBlur(dist, (0, 0), 0.7, dst=scratch("shape.dist", shape, np.float32))
    np.multiply(dist, fg, out=dist)
    peaks = cv2.dilate(dist, np.ones((3, 3), np.uint8), dst=scratch("shape.dt", shape, np.float32))
    peaks = (peaks <= dist) & fg
    markers, n = _label8(peaks, "shape.markers")
    if n == 0:
        return np.zeros(flat.size if flat_only else fg.shape, np.int32)
    # objects with a single marker need no watershed: flood only the others (the basins
    # are written into ``cc``, a reused buffer only when they do not leave this function)
    n_cc, cc = cv2.connectedComponents(fg8, labels=scratch("shape.cc", shape, np.int32) if flat_only
                                       else None, connectivity=connectivity, ltype=cv2.CV_32S)
    if flat is None:
        flat = np.flatnonzero(fg)
    flat_m = np.flatnonzero(peaks)
    del peaks
    basins, n_lab, lab = _flood_multi(fg, dist, markers, n, cc, n_cc, flat, flat_m, with_flat=True,
                                      into_cc=True)
    del markers, cc  # (``cc`` holds the basins now; full-size temporaries freed when done)
    # merge basins whose common saddle is within `tolerance` of the lower peak
    peak = _label_max(basins, dist, n_lab + 1, flat, lab)
    a, b, saddle = _adjacent_saddles(basins, dist, flat, lab)
    merge = saddle >= np.minimum(peak[a], peak[b]) - tolerance
    if not flat_only:
        return _merge_pairs(basins, a[merge], b[merge], n_lab, flat)
    return _merge_lut(a[merge], b[merge], n_lab)[lab] if merge.any() else lab


def _split_by_intensity(fg: np.ndarray, hs: np.ndarray, contrast: float, floor: float,
                        seed: np.ndarray | None = None, seed_radius: float = 1.0,
                        min_area: float = 0.0, dab: np.ndarray | None = None,
                        dab_merge: float = 0.0) -> np.ndarray:
    """Watershed of the smoothed intensity from nucleus seeds, shallow dips merged.

    Seeds are the local maxima (within ``seed_radius``) of ``seed`` (a
    nucleus-scale blob response, see :func:`segment_nuclei`), else of ``hs``.
    Two basins stay apart when the saddle of ``hs`` between them lies more
    than ``max(contrast * lower peak, floor)`` below the lower of their peaks
    (the h-maxima criterion, relative to the pale partner): a pale nucleus
    touching a dark one, or two nuclei that overlap without a neck, are split;
    the chromatin texture inside one nucleus is not.  A basin smaller than
    ``min_area`` (a granule of a coarsely stained nucleus) always joins its
    neighbour, and so do two basins whose mean ``dab`` both reach
    ``dab_merge``: the split is for a stained nucleus against an unstained
    one; two stained pieces are left to the shape split (a large granular
    positive nucleus otherwise falls into several).
    """
    src = np.where(fg, hs if seed is None else seed, np.float32(-1e3)).astype(np.float32)
    k = _disk(seed_radius) if seed is not None else np.ones((3, 3), np.uint8)
    peaks = (cv2.dilate(src, k) <= src) & fg
    markers, n = _label8(peaks)
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=8)
    if n == 0:
        return cc.astype(np.int32)
    basins, n_lab = _flood_multi(fg, hs, markers, n, cc, n_cc)
    peak = _label_max(basins, hs, n_lab + 1)
    a, b, saddle = _adjacent_saddles(basins, hs)
    low = np.minimum(peak[a], peak[b])
    merge = saddle >= low - np.maximum(contrast * low, floor)
    if min_area > 0 and a.size:
        area = np.bincount(basins.ravel(), minlength=n_lab + 1)
        merge |= np.minimum(area[a], area[b]) < min_area
    if dab is not None and dab_merge > 0 and a.size:
        cnt = np.bincount(basins.ravel(), minlength=n_lab + 1)
        tot = np.bincount(basins.ravel(), weights=dab.ravel(), minlength=n_lab + 1)
        mean = tot / np.maximum(cnt, 1)
        merge |= (mean[a] >= dab_merge) & (mean[b] >= dab_merge)
    return _merge_pairs(basins, a[merge], b[merge], n_lab)


def blob_response(image: np.ndarray, radii) -> np.ndarray:
    """Scale-normalised blob response: the maximum over ``radii`` of ``-sigma^2 * LoG``.

    For each radius ``r`` (pixels) the image is smoothed with ``sigma = r / sqrt(2)``
    (the scale at which the normalised Laplacian of a disk of radius ``r`` peaks at
    its centre) and its negative Laplacian times ``sigma**2`` is taken; the result
    is the largest response over the radii.  A disk of contrast ``c`` gives about
    ``0.74 c`` at its centre whatever its radius, so a pale nucleus beside a dark
    one still has a maximum of its own (it is a nucleus-sized blob), while the
    chromatin texture inside one nucleus, finer than the smallest radius, does not.
    Scales of ``sigma >= 4`` px are computed on a copy downsampled by 2 (or more).

    Parameters
    ----------
    image : ndarray, 2-D float
        E.g. the background-subtracted detection OD.
    radii : sequence of float
        Blob radii in pixels.

    Returns
    -------
    ndarray, float32
        The response, in the units of ``image``.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((41, 41), np.float32)
    >>> yy, xx = np.mgrid[:41, :41]
    >>> img[(yy - 20) ** 2 + (xx - 20) ** 2 <= 36] = 1.0
    >>> m = blob_response(img, [4.0, 6.0, 8.0])
    >>> peak = np.unravel_index(m.argmax(), m.shape)
    >>> bool(abs(peak[0] - 20) <= 1 and abs(peak[1] - 20) <= 1), 0.6 < float(m.max()) < 0.9
    (True, True)
    """
    img = np.ascontiguousarray(image, dtype=np.float32)
    rows, cols = img.shape
    out = None
    for r in radii:
        s = float(r) / math.sqrt(2.0)
        k = 1
        while s / (2 * k) >= 2.0 and min(rows, cols) // (2 * k) >= 16:
            k *= 2
        src = img if k == 1 else cv2.resize(img, (cols // k, rows // k), interpolation=cv2.INTER_AREA)
        g = cv2.GaussianBlur(src, (0, 0), s / k, borderType=cv2.BORDER_REFLECT)
        lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1, scale=-((s / k) ** 2), borderType=cv2.BORDER_REFLECT)
        if k > 1:
            lap = cv2.resize(lap, (cols, rows), interpolation=cv2.INTER_LINEAR)
        out = lap if out is None else np.maximum(out, lap, out=out)
    if out is None:
        return np.zeros(img.shape, np.float32)
    return out


def _blob_seeds(response: np.ndarray, fg: np.ndarray, floor: float, radius: float):
    """Seeds: local maxima of the blob response inside ``fg`` above ``floor``; of two
    seeds closer than ``radius`` pixels only the stronger stays (one per blob)."""
    cand = (cv2.dilate(response, np.ones((3, 3), np.uint8)) <= response) & fg & (response > floor)
    ys, xs = np.nonzero(cand)
    if ys.size > 1:
        pairs = cKDTree(np.c_[ys, xs]).query_pairs(radius, output_type="ndarray")
        if pairs.size:
            v = response[ys, xs]
            i, j = pairs[:, 0], pairs[:, 1]
            weaker = np.where((v[i] < v[j]) | ((v[i] == v[j]) & (i > j)), i, j)
            keep = np.ones(ys.size, bool)
            keep[weaker] = False
            ys, xs = ys[keep], xs[keep]
    return ys, xs


def _merge_without_neck(labels, hs, tolerance, ratio, max_area):
    """Adjacent pieces that form one nucleus-shaped object of even intensity are merged.

    Two touching pieces stay apart when their union has a neck (the distance
    transform of the union dips more than ``tolerance`` pixels below the lower
    of the two pieces' peaks: two nuclei side by side) or when the paler peak
    is below ``ratio`` times the darker (a pale nucleus against a dark one);
    otherwise they are two blobs of one elongated or unevenly stained
    nucleus.  Two pieces whose union exceeds ``max_area`` are not merged.
    """
    fg = labels > 0
    dist = cv2.distanceTransform(fg.view(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    dist = cv2.GaussianBlur(dist, (0, 0), 0.7) * fg
    n = int(labels.max()) + 1
    a, b, saddle = _adjacent_saddles(labels, dist)
    if not a.size:
        return labels
    dpk = _label_max(labels, dist, n)
    ipk = _label_max(labels, hs, n)
    area = np.bincount(labels.ravel(), minlength=n)
    merge = ((saddle >= np.minimum(dpk[a], dpk[b]) - tolerance)
             & (np.minimum(ipk[a], ipk[b]) >= ratio * np.maximum(ipk[a], ipk[b]))
             & (area[a] + area[b] <= max_area))
    return _merge_pairs(labels, a[merge], b[merge], n - 1)


def _split_by_blobs(fg, h, hs, hb, threshold, fraction, radii, floor, tolerance, ratio, max_area):
    """One nucleus per nucleus-sized blob: seeds from :func:`blob_response`, basins
    by a watershed of the response, each outlined at ``fraction`` of the peak of
    ``hs`` near its seed, then pieces without a neck merged (:func:`_merge_without_neck`)."""
    response = blob_response(h, radii)
    r_max = float(max(radii))
    ys, xs = _blob_seeds(response, fg, floor, r_max)
    n = int(ys.size)
    markers = np.zeros(fg.shape, np.int32)
    markers[ys, xs] = np.arange(1, n + 1, dtype=np.int32)
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), connectivity=8)
    basins, n_lab = _flood_multi(fg, response, markers, n, cc, n_cc)
    seeded = np.zeros(n_lab + 1, bool)  # a component with no nucleus-sized blob is no nucleus
    seeded[1 : n + 1] = True
    seeded[n + cc[ys, xs]] = True
    basins = np.where(seeded[basins], basins, 0).astype(np.int32)
    ref = _label_max(basins, hs, n_lab + 1)
    if n:  # the peak near the seed, not a brighter neighbour's flank inside the basin
        near = morph(cv2.dilate, hs, _disk(max(0.5 * min(radii), 1.0)))
        ref[1 : n + 1] = np.minimum(ref[1 : n + 1], near[ys, xs])
    if fraction > 0:
        cut = np.maximum(np.float32(threshold), np.float32(fraction) * ref)
        labels = np.where(hb > cut[basins], basins, 0).astype(np.int32)
    else:
        labels = basins
    return _merge_without_neck(labels, hs, tolerance, ratio, max_area)


def _rescue(labels, fg, hs, hb, threshold, fraction, radius, min_area, edge_radius=0.0,
            edges=ALL_EDGES):
    """Second pass over the foreground no nucleus took: nucleus-wide leftovers become nuclei.

    A pale nucleus that shares a basin with a dark one is cut away by the dark
    one's half-maximum outline; what remains of it is still above
    ``threshold`` and at least ``2 * radius`` wide (halos and necks are
    thinner: an opening by a disk of ``radius`` removes them).  Each such
    leftover of ``min_area`` or more is outlined at ``fraction`` of its own
    peak and added.
    """
    taken = cv2.dilate((labels > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    rest = (fg & ~taken).astype(np.uint8)
    rest = cv2.morphologyEx(rest, cv2.MORPH_OPEN, _disk(radius)) > 0
    if not rest.any():
        return labels
    n, cc, stats, _ = cv2.connectedComponentsWithStats(rest.astype(np.uint8), connectivity=4)
    keep = stats[:, cv2.CC_STAT_AREA] >= _min_areas(cc, n, min_area, edge_radius, edges)
    keep[0] = False
    if not keep.any():
        return labels
    new = np.where(keep[cc], cc, 0).astype(np.int32)
    if fraction > 0:
        new = _refine(new, hs, hb, threshold, fraction)
    off = int(labels.max())
    return np.where(new > 0, new + off, labels).astype(np.int32)


def _rejoin_pieces(shape_labels: np.ndarray, labels: np.ndarray, gap: float = 0.0) -> np.ndarray:
    """Undo splits that are only disconnection: pieces of one intensity nucleus stay one.

    The half-maximum outline of an unevenly stained nucleus can fall apart
    into pieces; the shape split would count each piece.  Where a nucleus of
    ``labels`` was not split at a neck (each of its connected pieces is one
    shape basin), its pieces keep one label; where it was, the shape split
    stands.  With ``gap`` (pixels) only pieces less than about ``2 * gap``
    apart count as one nucleus: an intensity basin can span several nuclei
    (positive nuclei chained by ``split_dab_od``), whose separate outlines
    are separate nuclei, not pieces of one.
    """
    sel = shape_labels > 0
    if not sel.any():
        return shape_labels
    n_s = int(shape_labels.max()) + 1
    owner = np.zeros(n_s, np.int64)
    owner[shape_labels[sel]] = labels[sel]
    n_cc, cc = cv2.connectedComponents(sel.astype(np.uint8), connectivity=4)
    piece = np.zeros(n_s, np.int64)
    piece[shape_labels[sel]] = cc[sel]
    if gap > 0:  # one group per intensity nucleus and cluster of pieces within the gap
        n_near, near = cv2.connectedComponents(cv2.dilate(sel.astype(np.uint8), _disk(gap)),
                                               connectivity=8)
        group = np.zeros(n_s, np.int64)
        group[shape_labels[sel]] = near[sel]
        owner = np.where(owner > 0, owner * n_near + group, 0)
        _, owner = np.unique(owner, return_inverse=True)  # compact ids, 0 stays 0
        owner = owner.astype(np.int64)
    ids = np.flatnonzero(owner > 0)
    n_o = int(owner.max()) + 1
    basins_per = np.bincount(owner[ids], minlength=n_o)
    pieces_per = np.bincount(np.unique(owner[ids] * n_cc + piece[ids]) // n_cc, minlength=n_o)
    whole = (basins_per == pieces_per) & (basins_per > 1)
    lut = np.arange(n_s, dtype=np.int64)
    join = ids[whole[owner[ids]]]
    lut[join] = n_s + owner[join]  # one new id per intensity nucleus
    # ids 0..k-1 in the order of the new ids present (np.unique(lut[shape_labels],
    # return_inverse=True), ranked through a lookup table instead of sorting the image)
    present = np.zeros(int(lut.max()) + 1, bool)
    present[lut[np.bincount(shape_labels.ravel(), minlength=n_s) > 0]] = True
    rank = (np.cumsum(present) - 1).astype(np.int32)
    return lut_take(rank[lut], shape_labels)


#: Sample points of the unit disk (a 24 x 24 grid of cell centres, 448 points) on which
#: :func:`visible_fraction` measures how much of a nucleus lies inside the image.
_DISK_POINTS = np.argwhere(np.ones((24, 24), bool)).astype(np.float32)
_DISK_POINTS = (_DISK_POINTS + 0.5) / 12.0 - 1.0
_DISK_POINTS = _DISK_POINTS[(_DISK_POINTS ** 2).sum(1) <= 1.0]

#: An object counts as cut by an image edge only when it runs along that edge for at
#: least this fraction of the chord a nucleus of the reference radius, reaching as deep
#: into the image, would have there; a thinner contact is a whole object touching it.
EDGE_CHORD_FRACTION = 0.5


def visible_fraction(y0, y1, x0, x1, shape, radius: float, chords=None, edges=ALL_EDGES) -> np.ndarray:
    """Fraction of a nucleus of ``radius`` px that an object cut by the image edge shows.

    ``y0, y1, x0, x1`` are the objects' bounding boxes (first row, last row + 1,
    ...; arrays).  Along each axis where an object touches one image edge, the
    nucleus it is the visible part of is placed to reach exactly as deep into
    the image as the object does (its centre ``radius`` short of the object's
    far side; on both edges of an axis, centred on the object); the part of that
    disk inside the image is the fraction returned (1 for an object that
    touches no edge).  A nucleus cut through its middle shows about one half, a
    thin cap of one a small fraction: an object at the edge is judged by what a
    nucleus cut there would show, not as a whole small object.  With
    ``chords`` (``(top, bottom, left, right)`` arrays: the object's pixels on
    each border line), an edge counts only where the object runs along it for at
    least ``EDGE_CHORD_FRACTION`` of that disk's chord there.  ``edges`` (top,
    bottom, left, right) says which image borders are edges of the field; a
    border that is not (a tile's side inside a larger image) cuts nothing.

    >>> f = visible_fraction(np.array([0, 40, 0]), np.array([10, 60, 4]), np.array([50, 50, 40]),
    ...                      np.array([70, 70, 52]), (100, 100), 10.0)
    >>> [round(float(v), 2) for v in f]   # cut through the middle, whole, a thin cap
    [0.5, 1.0, 0.15]
    """
    rows, cols = shape
    y0, y1, x0, x1 = (np.asarray(v, np.float64) for v in (y0, y1, x0, x1))
    frac = np.ones(y0.shape, np.float64)
    r = float(radius)
    if r <= 0:
        return frac
    ch = [None] * 4 if chords is None else [np.asarray(c, np.float64) for c in chords]

    def touches(side, on, depth, chord):
        if not edges[side]:
            return np.zeros(on.shape, bool)
        if chord is None:
            return on
        d = np.clip(depth, 0, 2 * r)
        return on & (chord >= EDGE_CHORD_FRACTION * 2 * np.sqrt(d * (2 * r - d)))

    top = touches(0, y0 <= 0, y1, ch[0])
    bottom = touches(1, y1 >= rows, rows - y0, ch[1])
    left = touches(2, x0 <= 0, x1, ch[2])
    right = touches(3, x1 >= cols, cols - x0, ch[3])
    cut = top | bottom | left | right
    if not cut.any():
        return frac
    centre = []
    for lo, hi, low, high in ((y0, y1, top, bottom), (x0, x1, left, right)):
        c = np.where(low & ~high, hi - r, np.where(high & ~low, lo + r, 0.5 * (lo + hi)))
        centre.append(np.where(low | high, c, -1e9)[cut])  # -1e9: this axis is not cut
    py = centre[0][:, None] + r * _DISK_POINTS[None, :, 0]
    px = centre[1][:, None] + r * _DISK_POINTS[None, :, 1]
    inside_y = (py >= 0) & (py < rows) | (centre[0][:, None] < -1e8)
    inside_x = (px >= 0) & (px < cols) | (centre[1][:, None] < -1e8)
    frac[cut] = (inside_y & inside_x).mean(1)
    return frac


def _border_chords(labels: np.ndarray, n: int):
    """Pixels of each label 0..n-1 on the top, bottom, left and right border lines."""
    return tuple(np.bincount(line, minlength=n)[:n]
                 for line in (labels[0], labels[-1], labels[:, 0], labels[:, -1]))


def _min_areas(labels: np.ndarray, n: int, min_area: float, edge_radius: float,
               edges=ALL_EDGES, flat: np.ndarray | None = None) -> np.ndarray:
    """Smallest area per label 0..n-1 of ``labels``: ``min_area``, scaled for the
    labels the field's ``edges`` cut by the :func:`visible_fraction` of a nucleus
    of ``edge_radius`` px (``flat``: raveled indices of a superset of the
    labelled pixels, when known)."""
    out = np.full(n, float(min_area))
    if edge_radius <= 0 or min_area <= 0 or labels.size == 0 or not any(edges):
        return out
    chords = _border_chords(labels, n)
    on = (chords[0] + chords[1] + chords[2] + chords[3]) > 0
    on[0] = False
    ids = np.flatnonzero(on)
    if not ids.size:
        return out
    cols = labels.shape[1]
    if flat is None:
        flat = np.flatnonzero(labels)
    lab = labels.ravel()[flat]
    slot = np.full(n, -1, np.int64)
    slot[ids] = np.arange(ids.size)
    sel = slot[lab] >= 0
    k = slot[lab[sel]]
    py, px = np.divmod(flat[sel], cols)
    y0, y1, x0, x1 = _slot_boxes(k, py, px, ids.size)
    out[ids] = min_area * visible_fraction(y0, y1, x0, x1, labels.shape, edge_radius,
                                           tuple(c[ids] for c in chords), edges)
    return out


def _cut_borders(labels: np.ndarray) -> np.ndarray:
    """Zero the pixels whose right or lower neighbour has another nonzero label (4-cut)."""
    out = labels.copy()
    right = (labels[:, :-1] != labels[:, 1:]) & (labels[:, :-1] > 0) & (labels[:, 1:] > 0)
    down = (labels[:-1, :] != labels[1:, :]) & (labels[:-1, :] > 0) & (labels[1:, :] > 0)
    out[:, :-1][right] = 0
    out[:-1, :][down] = 0
    return out


def segment_nuclei(
    hematoxylin_od: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    background_radius: float = 16.0,
    sigma: float = 3.0,
    threshold: float = 0.1,
    min_area: float = 40.0,
    max_area: float = 1600.0,
    split_by_shape: bool = True,
    split_tolerance: float = 1.0,
    boundary_sigma: float = 1.0,
    opening_radius: float = 2.0,
    relative_threshold: float = 0.5,
    peak_radius: float = 0.0,
    dab_od: np.ndarray | None = None,
    dab_hole_radius: float = 0.0,
    dab_hole_weight: float = 0.0,
    dab_hole_floor: float = 0.05,
    split_contrast: float = 0.0,
    seed_sigma: float = 0.0,
    split_min_area_factor: float = 0.0,
    rescue_radius: float = 0.0,
    split_dab_od: float = 0.0,
    seed_radii: tuple = (),
    seed_floor: float = 0.0,
    merge_ratio: float = 0.7,
    edge_radius: float = 0.0,
    field_edges: tuple = ALL_EDGES,
) -> np.ndarray:
    """Label nuclei in a hematoxylin OD map (all sizes in pixels).

    Parameters
    ----------
    hematoxylin_od : ndarray, 2-D
        Hematoxylin optical density (QuPath units, log10).
    mask : ndarray of bool, optional
        Only pixels inside the mask can belong to a nucleus.
    background_radius : float
        Radius of the top-hat background subtraction (0 = off).
    sigma : float
        Gaussian smoothing before thresholding (0 = off).
    threshold : float
        Hematoxylin OD above which a (smoothed, background-subtracted) pixel is
        nuclear.
    min_area, max_area : float
        Nuclei outside this area range (pixels) are discarded.
    split_by_shape : bool
        Split touching nuclei by a distance-transform watershed.
    split_tolerance : float
        Depth (pixels of distance) a neck must have to split two nuclei.
    boundary_sigma : float
        Gaussian smoothing of the copy that defines the nucleus outline
        (``>= sigma`` reproduces a plain threshold of the smoothed image).
    opening_radius : float
        Grey opening by a disk of this radius after background subtraction
        (0 = off): removes thin bright lines and rings (e.g. the hematoxylin
        halo that JPEG chroma subsampling leaves along strong DAB edges)
        while keeping nuclei wider than about twice the radius.
    relative_threshold : float
        Outline refinement: a nucleus keeps the pixels whose lightly smoothed
        OD exceeds ``max(threshold, relative_threshold * peak)``, ``peak``
        being its maximum smoothed OD (0 = off). Places the outline near half
        maximum and sheds faint halos (e.g. JPEG colour bleeding).
    peak_radius : float
        Before the split, the peak of the outline refinement is the smaller
        of the object's peak and the maximum within this radius of the pixel
        (0 = the object's peak): a pale nucleus that touches a dark one in a
        crowded epithelium keeps its own outline instead of vanishing below
        half the dark one's peak.
    dab_od : ndarray, 2-D, optional
        DAB OD of the same image, used with ``dab_hole_*``.
    dab_hole_radius, dab_hole_weight : float
        Nuclei as holes in DAB-positive cytoplasm: the depth of DAB holes
        narrower than about twice ``dab_hole_radius`` (black top-hat of
        ``dab_od``) times ``dab_hole_weight`` is added to the
        background-subtracted hematoxylin, but never more than the
        hematoxylin contrast itself (the contrast at most doubles, and only
        where there is some). Pale nuclei inside strongly stained cytoplasm
        then reach the threshold; unstained tissue (stroma) is unaffected.
        0 = off.
    split_contrast : float
        Intensity split before the shape split (fraction of the paler
        nucleus' peak the saddle must lie below it; 0 = off).
    seed_sigma : float
        Smoothing of the image whose local maxima seed the intensity split
        (0 = maxima of the ``sigma`` smoothing).
    split_min_area_factor : float
        Intensity basins smaller than this times ``min_area`` always merge
        with a neighbour (0 = off).
    rescue_radius : float
        Second pass for foreground no nucleus took, at least twice this wide
        (0 = off).
    split_dab_od : float
        With ``dab_od``: two intensity basins whose mean DAB OD both reach
        this are not split by intensity (0 = off).
    seed_radii : sequence of float
        Blob seeds instead of the intensity split (empty = off): one seed
        per maximum of the scale-normalised blob response at these nucleus
        radii (:func:`blob_response`), stronger than ``seed_floor``; the
        basins of the response are outlined at ``relative_threshold`` of the
        peak near their seed, touching pieces with no neck and even
        intensity are merged (``merge_ratio``), then the shape split runs.
    seed_floor : float
        Weakest blob response (OD) that seeds a nucleus.
    merge_ratio : float
        Blob seeds: two touching pieces without a neck are one nucleus when
        the paler peak is at least this fraction of the darker one.
    edge_radius : float
        Radius (px) of the reference nucleus by which objects cut by the image
        edge are judged: their minimum area is ``min_area`` times the
        :func:`visible_fraction` a nucleus of this radius cut there would show
        (0 = the whole ``min_area`` everywhere).
    field_edges : 4 bools
        Which image borders (top, bottom, left, right) are edges of the
        field for ``edge_radius``; a tile's side inside a larger image is not.

    Returns
    -------
    ndarray, int32
        Labels 0 (background), 1..n in raster order of the nuclei's first pixel.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.zeros((30, 30), np.float32)
    >>> h[10:20, 10:20] = 0.5
    >>> int(segment_nuclei(h, background_radius=0, sigma=1, min_area=10).max())
    1
    """
    h = np.ascontiguousarray(hematoxylin_od, dtype=np.float32)
    if h.size == 0:
        return np.zeros(h.shape, np.int32)
    shape = h.shape
    h = subtract_background(h, background_radius, None if mask is None else np.asarray(mask, bool))
    if dab_od is not None and dab_hole_radius > 0 and dab_hole_weight > 0:
        d = np.ascontiguousarray(dab_od, dtype=np.float32)
        if d.shape != h.shape:
            raise ParameterError(f"dab_od must have the shape of hematoxylin_od {h.shape}; got {d.shape}.")
        hole = closing(d, _disk(dab_hole_radius))  # (replicated border)
        ext = compiled_cells()
        if ext is not None and hole.flags.c_contiguous and h.flags.c_contiguous:
            # (one pass in place, the same float32 steps; None: NumPy's five passes)
            ext.dab_hole_add(h, d, hole, float(np.float32(dab_hole_weight)),
                             float(np.float32(dab_hole_floor)))
            h = hole
        else:
            hole -= d
            hole *= np.float32(dab_hole_weight)
            extra = np.subtract(h, np.float32(dab_hole_floor), dtype=np.float32)
            np.clip(extra, 0, hole, out=extra)  # h + clip(h - floor, 0, weight * hole)
            extra += h
            h = extra
        del hole  # (each full-size temporary freed when done: a lower peak, fewer fresh pages)
    if opening_radius > 0:
        h = opening(h, _disk(opening_radius))
    hs = _smooth(h, sigma, "segment.hs")
    hb = _smooth(h, boundary_sigma, "segment.hb") if boundary_sigma < sigma else hs
    fg = (hs > threshold) & (hb > threshold)
    if mask is not None:
        fg &= mask
    if not fg.any():
        return np.zeros(h.shape, np.int32)
    fg = _fill_holes(fg)
    # drop specks before the (costlier) split
    n_cc, cc = cv2.connectedComponents(fg.view(np.uint8), labels=scratch("segment.cc", shape, np.int32),
                                       connectivity=8, ltype=cv2.CV_32S)
    flat = np.flatnonzero(fg)  # every nucleus pixel from here on is one of these
    comp = cc.ravel()[flat]
    keep = np.bincount(comp, minlength=n_cc) >= _min_areas(cc, n_cc, min_area, edge_radius,
                                                           field_edges, flat)
    keep[0] = False
    ids = np.where(keep, np.arange(n_cc, dtype=np.int32), 0).astype(np.int32)
    labels = None
    if not len(seed_radii) and split_contrast <= 0:
        # hematoxylin maxima: every step works on the labels of the foreground pixels ``flat``
        # (``lab``, raster order) and on their values gathered once, not on label images
        lab = ids[comp]
        del cc
        if relative_threshold > 0:  # per object first: sharper necks for the split
            hs_f, hb_f = hs.ravel()[flat], hb.ravel()[flat]
            local_f = None
            if peak_radius > 0:  # peak within a nucleus' reach, not of the whole clump
                local_f = _coarse(lambda img, k: morph(cv2.dilate, img, k), hs, peak_radius).ravel()[flat]
            lab = np.where(_refine_keep(lab, hs_f, hb_f, threshold, relative_threshold, local_f), lab, 0)
        if rescue_radius <= 0:  # (the maps are not read again: their values are gathered above)
            del h, hs, hb
        if split_by_shape:
            fg_s = np.zeros(shape, bool)
            fg_s.ravel()[flat] = lab > 0
            lab = _split_by_shape(fg_s, split_tolerance, flat=flat, flat_only=True)
            if relative_threshold > 0:  # then per nucleus
                lab = np.where(_refine_keep(lab, hs_f, hb_f, threshold, relative_threshold), lab, 0)
        if rescue_radius > 0:
            fg = np.zeros(shape, bool)
            fg.ravel()[flat] = keep[comp]
            labels = _scatter(shape, flat, lab)
    else:
        labels = lut_take(ids, cc)
        fg = labels > 0
    if len(seed_radii):  # one nucleus per nucleus-sized blob, then the shape split
        labels = _split_by_blobs(fg, h, hs, hb, threshold, relative_threshold, seed_radii,
                                 seed_floor, split_tolerance, merge_ratio, max_area)
        labels = _cut_borders(labels)
        if split_by_shape:
            shape_labels = _split_by_shape(labels > 0, split_tolerance, connectivity=4)
            labels = _rejoin_pieces(shape_labels, labels, opening_radius)
    elif split_contrast > 0:  # intensity first: each nucleus gets its own peak
        seed = None
        if seed_sigma > 0:  # seeds: maxima of a lighter smoothing than the detection's
            seed = _smooth(h, seed_sigma)
        labels = _split_by_intensity(labels > 0, hb if seed is not None else hs, split_contrast,
                                     0.25 * threshold, seed, max(seed_sigma, 1.0),
                                     split_min_area_factor * min_area, dab_od, split_dab_od)
        if relative_threshold > 0:
            labels = _refine(labels, hs, hb, threshold, relative_threshold)
        labels = _cut_borders(labels)
        if split_by_shape:
            shape_labels = _split_by_shape(labels > 0, split_tolerance, connectivity=4)
            labels = _rejoin_pieces(shape_labels, labels, opening_radius)
            if relative_threshold > 0:
                labels = _refine(labels, hs, hb, threshold, relative_threshold)
    if rescue_radius > 0:  # nuclei left over as a shoulder of a brighter one: a second pass
        labels = _rescue(labels, fg, hs, hb, threshold, relative_threshold, rescue_radius, min_area,
                         edge_radius, field_edges)
    if labels is not None:
        lab = labels.ravel()[flat]
    # area filter + sequential relabel in raster order of each nucleus' first pixel
    area = np.bincount(lab, minlength=1)
    if edge_radius > 0 and min_area > 0 and any(field_edges):  # (else min_area everywhere)
        if labels is None:
            labels = _scatter(shape, flat, lab)
        small = _min_areas(labels, area.size, min_area, edge_radius, field_edges, flat)
    else:
        small = np.full(area.size, float(min_area))
    ok = (area >= small) & (area <= max_area)
    ok[0] = False
    first = np.full(area.size, np.iinfo(np.int64).max, np.int64)
    _run_at(np.minimum, first, lab, flat)  # flat is the raster index
    ids = np.flatnonzero(ok)
    ids = ids[np.argsort(first[ids], kind="stable")]
    lut = np.zeros(area.size, np.int32)
    lut[ids] = np.arange(1, ids.size + 1, dtype=np.int32)
    return _scatter(shape, flat, lut[lab])
