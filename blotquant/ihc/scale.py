"""Pixel size from the tissue itself, when the file does not say it.

Cell detection works in micrometres (QuPath's parameters: 1.5 um smoothing,
10-400 um^2 nuclei, 5 um cytoplasm); a wrong pixel size makes the cytoplasm
rings run into the stroma or miss the cytoplasm.  Many IHC images carry no
pixel size (PNG/JPEG exports, screenshots) or a software default (72, 96,
300 dpi) that the reader reports as one.  Nuclei are the one structure of
known size in every section (typically 5-10 um across; about 6.6 um
equivalent diameter for the epithelial, stromal and lymphoid nuclei of the
tiles we measured), so:

1. **granulometry** of the hematoxylin OD (:func:`granulometry`): the grey
   volume removed by openings with disks of increasing radius; its mode is
   the typical nucleus half-width in pixels.  Chromatin texture is removed at
   small radii, cytoplasm and stroma only at radii far above a nucleus, so
   the mode is robust to staining and to the (unknown) scale.  This gives a
   first pixel size within about 30 %;
2. **refinement** (:func:`estimate_pixel_size`): nuclei are detected (on
   hematoxylin, whatever the marker, so the estimate does not depend on the
   stain) at that pixel size on a few tissue tiles and the median equivalent
   radius of the
   detected nuclei, in pixels, is set to ``nucleus_radius_um``
   (:class:`~blotquant.ihc.params.CellParams`, default 3.3 um); repeated once
   when the pixel size moved by more than 10 %.

A scale estimated this way is a statement about the nuclei, not a
calibration: tissue whose nuclei are much larger (e.g. high-grade tumour,
10-15 um) reads as a finer pixel size, and every micrometre parameter then
scales with the nuclei, which is what cell detection needs.  Give
``pixel_size_um`` or ``magnification`` when they are known.

Examples
--------
>>> is_software_default((352.7778, 352.7778))   # 72 dpi
True
>>> is_software_default((0.2527, 0.2527))
False
>>> from blotquant.synthetic.cells import make_cell_image
>>> from blotquant.ihc.deconvolution import stain_maps
>>> s = make_cell_image(1, shape=(300, 300), pixel_size_um=0.35)
>>> h, d = stain_maps(s.image)
>>> est = estimate_pixel_size(h, d)
>>> bool(abs(est.pixel_size_um / 0.35 - 1) < 0.15), est.method
(True, 'granulometry + nucleus size')
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from .._shared.resolution import is_software_default_resolution
from ..errors import ParameterError
from ._morph import opening

__all__ = ["is_software_default", "granulometry", "ScaleEstimate",
           "estimate_pixel_size", "estimate_pixel_size_samples", "GRANULOMETRY_RADIUS_UM", "PLAUSIBLE_UM_PER_PX"]

#: Resolutions that image software writes when nobody set one (dots per inch).
#: Typical granulometric nucleus half-width (um) used for the first estimate only.
GRANULOMETRY_RADIUS_UM = 3.1
_STEP = 2 ** 0.25            # radius ratio between successive openings
_R_MIN, _R_MAX = 1.2, 48.0   # radii searched (px): 0.07-2.5 um/px for 3.3 um nuclei
_TILE = 384                  # side of the tiles the estimate is computed on (px)
#: Range of estimates accepted (um/px); outside it the estimate is clipped, with a note.
PLAUSIBLE_UM_PER_PX = (0.05, 4.0)


def is_software_default(pixel_size_um, rel_tol: float = 5e-3) -> bool:
    """True when a pixel size is a software-default resolution, not a measurement.

    Parameters
    ----------
    pixel_size_um : float or (row, col)
        As reported by the reader (um/px).
    rel_tol : float
        Relative tolerance of the match to ``25400 / dpi`` um.

    Returns
    -------
    bool
        True for the resolutions of
        :data:`blotquant._shared.resolution.SOFTWARE_DEFAULT_DPI` (72, 96, 300
        dpi, ...; also when stored as pixels per cm or per metre) and for any
        pixel size above 20 um/px (no microscope image a cell can be detected in).
    """
    if pixel_size_um is None:
        return False
    v = np.atleast_1d(np.asarray(pixel_size_um, float)).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
        return False
    if np.all(v > 20.0):
        return True
    return is_software_default_resolution(v, rel_tol)


@functools.lru_cache(maxsize=256)
def _disk(r: float) -> np.ndarray:
    """Disk kernel (uint8, read-only: cached, the granulometry asks for the same radii per tile)."""
    n = int(math.ceil(r))
    yy, xx = np.ogrid[-n : n + 1, -n : n + 1]
    k = ((yy * yy + xx * xx) <= r * r + 0.5).astype(np.uint8)
    k.flags.writeable = False
    return k


def granulometry(od: np.ndarray, mask: np.ndarray | None = None, *, r_min: float = _R_MIN,
                 r_max: float = _R_MAX, step: float = _STEP):
    """Grey-level pattern spectrum of an OD map: volume removed per log radius.

    Parameters
    ----------
    od : ndarray, 2-D
        E.g. hematoxylin OD (negative values are clipped to 0).
    mask : ndarray of bool, optional
        Pixels that count (tissue).
    r_min, r_max, step : float
        Disk radii ``r_min * step**k`` up to ``r_max`` (px).  Each pair of
        successive radii is opened on a copy downsampled (area average) so
        that the smaller disk has 3-6 px; both members of a pair use the same
        copy, so the downsampling never shows up as a step in the spectrum.

    Returns
    -------
    radii : ndarray
        Geometric mean radius of each pair (px of ``od``).
    spectrum : ndarray
        Mean OD removed between the two openings of each pair, per unit of
        ``log(radius)`` (same length as ``radii``).

    Examples
    --------
    >>> img = np.zeros((200, 200), np.float32)
    >>> yy, xx = np.mgrid[:200, :200]
    >>> for cy in range(20, 200, 40):
    ...     for cx in range(20, 200, 40):
    ...         img[(yy - cy) ** 2 + (xx - cx) ** 2 <= 64] = 0.5
    >>> r, p = granulometry(img)
    >>> 6.5 < float(r[np.argmax(p)]) < 9.5
    True
    """
    a = np.maximum(np.ascontiguousarray(od, dtype=np.float32), 0)
    if a.ndim != 2:
        raise ParameterError(f"granulometry needs a 2-D OD map; got shape {a.shape}.")
    radii = []
    r = float(r_min)
    while r <= r_max:
        radii.append(r)
        r *= step
    m = None if mask is None else np.asarray(mask, bool)
    cache = {}
    opened = {}  # (factor, disk) -> mean opened OD
    out_r, out_p = [], []
    for r0, r1 in zip(radii[:-1], radii[1:]):
        f = 1
        while r0 / (2 * f) >= 3 and min(a.shape) // (2 * f) >= 24:
            f *= 2
        if f not in cache:
            if f == 1:
                cache[f] = (a, m, None if m is None else np.flatnonzero(m))
            else:
                size = (a.shape[1] // f, a.shape[0] // f)
                small = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
                sm = None if m is None else cv2.resize(m.astype(np.float32), size,
                                                       interpolation=cv2.INTER_AREA) >= 0.5
                cache[f] = (small, sm, None if sm is None else np.flatnonzero(sm))
        img, mm, idx = cache[f]
        if mm is not None and not idx.size:
            continue
        v = []
        for rr in (r0 / f, r1 / f):
            disk = _disk(rr)
            key = (f, disk.shape, disk.tobytes())
            if key not in opened:  # a pair's larger disk is the next pair's smaller one
                op = opening(img, disk, cv2.BORDER_REFLECT)
                if mm is None:
                    opened[key] = float(op.mean())
                elif idx.size == op.size:  # all tissue: the same 1-D mean without the gather
                    opened[key] = float(op.ravel().mean())
                else:  # (a boolean mask gathers the same values in the same order, faster)
                    opened[key] = float(op[mm].mean())
            v.append(opened[key])
        out_r.append(math.sqrt(r0 * r1))
        out_p.append((v[0] - v[1]) / math.log(r1 / r0))
    return np.asarray(out_r), np.asarray(out_p)


def _mode_radius(radii: np.ndarray, spectrum: np.ndarray) -> float:
    """Radius at the spectrum's mode (parabola through it and its neighbours in log r).

    The mode is the most prominent interior peak (its height above the
    higher of the two lowest points that separate it from higher ground): a
    maximum at an end of the radii searched is a trend, not a size (a smooth
    stromal hematoxylin field keeps adding volume up to the largest disk, with
    bumps on the way), so it is taken only when the spectrum has no interior
    peak at all.
    """
    from scipy.signal import find_peaks  # noqa: PLC0415

    if radii.size == 0 or not np.any(spectrum > 0):
        return math.nan
    p = np.convolve(np.pad(spectrum, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    inner, props = find_peaks(p, prominence=0)
    k = int(inner[np.argmax(props["prominences"])]) if inner.size else int(np.argmax(p))
    lr = np.log(radii)
    if 0 < k < p.size - 1:
        y0, y1, y2 = p[k - 1], p[k], p[k + 1]
        den = y0 - 2 * y1 + y2
        off = 0.5 * (y0 - y2) / den if den < 0 else 0.0
        return float(math.exp(lr[k] + float(np.clip(off, -1, 1)) * (lr[1] - lr[0])))
    return float(radii[k])


#: Fields up to this many pixels are estimated on the whole field, not on tiles.
_WHOLE_IMAGE_PX = 1_500_000
#: Where the four tiles of a pattern sit: a fraction of the way from the image centre
#: to the farthest tile position on each axis (tried in this order; the first with the
#: most tissue is used).
_TILE_SPREADS = (0.5, 0.25, 0.75, 1.0, 0.0)


def _tiles(shape, mask, tile=_TILE):
    """Tile windows (slices) with the most tissue, placed symmetrically about the centre.

    An image of up to :data:`_WHOLE_IMAGE_PX` pixels is one tile (the whole
    field: four 384 px tiles of a heterogeneous 1k x 1k field can read 35 %
    off the whole field's estimate, and their choice is what a rotation
    changes; the whole field costs about 0.1 CPU s more).  Otherwise the tiles are the four corners of a
    rectangle centred on the image, ``(y0, x0)``, ``(y0, x1)``, ``(y1, x0)``,
    ``(y1, x1)`` with ``y1 = rows - tile - y0``: each of :data:`_TILE_SPREADS`
    sets how far out the corners lie, and the pattern holding the most tissue
    pixels (an exact integer count) is used, the earlier in the list on a tie.
    A rotation by 90 degrees or a mirror maps every pattern onto the same
    pattern of the transformed image, so the estimate does not depend on the
    orientation of the field (the earlier choice, the most-tissue tiles of a
    grid anchored at the top-left corner in raster order, did: 10 % on a real
    1.3k x 1k field rotated).
    """
    rows, cols = shape
    if rows * cols <= _WHOLE_IMAGE_PX:
        return [(slice(0, rows), slice(0, cols))]
    th, tw = min(tile, rows), min(tile, cols)
    best, best_tiles = -1, None
    for f in _TILE_SPREADS:
        # corner offsets from the centre, symmetric by construction (y1 = rows - th - y0)
        y0 = int(round((rows - th) / 2 * (1 - f)))
        x0 = int(round((cols - tw) / 2 * (1 - f)))
        ys = sorted({y0, rows - th - y0})
        xs = sorted({x0, cols - tw - x0})
        tiles = [(slice(y, y + th), slice(x, x + tw)) for y in ys for x in xs]
        tissue = (sum(int(np.count_nonzero(mask[t])) for t in tiles) if mask is not None
                  else 0)
        tissue = tissue * 4 // len(tiles)   # a pattern of fewer (coinciding) tiles, per 4
        if tissue > best:
            best, best_tiles = tissue, tiles
        if mask is None:
            break
    return best_tiles


@dataclass
class ScaleEstimate:
    """Result of :func:`estimate_pixel_size`.

    Attributes
    ----------
    pixel_size_um : float or None
        Estimated um/px (None when the image shows no nuclei).
    nucleus_radius_px : float
        Median equivalent radius of the nuclei detected at that scale (px).
    granulometry_radius_px : float
        Mode of the hematoxylin pattern spectrum (px), the first estimate.
    method : str
    n_nuclei : int
        Nuclei the refinement measured.
    note : str
        Why there is no estimate, or what to check.
    history : list of float
        Pixel sizes tried (first estimate, refinements).
    """

    pixel_size_um: float | None
    nucleus_radius_px: float = math.nan
    granulometry_radius_px: float = math.nan
    method: str = "granulometry + nucleus size"
    n_nuclei: int = 0
    note: str = ""
    history: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """Plain-JSON record (for ``IHCResult.params``)."""
        return {"pixel_size_um": None if self.pixel_size_um is None else round(self.pixel_size_um, 5),
                "nucleus_radius_px": round(self.nucleus_radius_px, 3)
                if math.isfinite(self.nucleus_radius_px) else None,
                "granulometry_radius_px": round(self.granulometry_radius_px, 3)
                if math.isfinite(self.granulometry_radius_px) else None,
                "method": self.method, "n_nuclei": int(self.n_nuclei), "note": self.note,
                "history": [round(v, 5) for v in self.history]}


def estimate_pixel_size(hematoxylin_od, dab_od=None, *, mask=None, detection_od=None,
                        params=None) -> ScaleEstimate:
    """Estimate um/px from the size of the nuclei (see the module notes).

    Parameters
    ----------
    hematoxylin_od : ndarray, 2-D
        Hematoxylin OD (the granulometry runs on it: every nucleus carries
        some hematoxylin, cytoplasmic DAB does not confuse it).
    dab_od : ndarray, 2-D, optional
        DAB OD (zeros when None), for the nucleus detection of the refinement.
    mask : ndarray of bool, optional
        Tissue.
    detection_od : ndarray, 2-D, optional
        The OD-sum detection image, when nuclei are detected on it.
    params : CellParams or dict, optional
        Cell detection parameters (``nucleus_radius_um`` is the assumed
        nucleus size).

    Returns
    -------
    ScaleEstimate
        ``pixel_size_um`` None (with a ``note``) when no nuclei are found.
    """
    h = np.ascontiguousarray(hematoxylin_od, dtype=np.float32)
    if h.ndim != 2:
        raise ParameterError(f"hematoxylin_od must be 2-D; got shape {h.shape}.")
    d = np.zeros_like(h) if dab_od is None else np.ascontiguousarray(dab_od, dtype=np.float32)
    m = None if mask is None else np.asarray(mask, bool)
    samples = [(h[ys, xs], d[ys, xs], None if m is None else m[ys, xs],
                None if detection_od is None else detection_od[ys, xs])
               for ys, xs in _tiles(h.shape, m)]
    return estimate_pixel_size_samples(samples, params=params)


def estimate_pixel_size_samples(samples, *, params=None) -> ScaleEstimate:
    """:func:`estimate_pixel_size` pooled over given windows of one image or slide.

    The granulometry spectra of all windows are summed and the nuclei of all
    windows measured together, exactly as the tiles of one field are; a whole
    slide passes windows read once per slide (so the scale does not depend on
    how the slide is tiled for scoring).

    Parameters
    ----------
    samples : sequence of (hematoxylin_od, dab_od, mask, detection_od)
        2-D float arrays per window (``dab_od``, ``mask``, ``detection_od``
        may be None).
    params : CellParams or dict, optional
        As for :func:`estimate_pixel_size`.

    Returns
    -------
    ScaleEstimate
    """
    from .cells import detect_cells  # noqa: PLC0415 (cells imports this module)
    from .params import CellParams  # noqa: PLC0415

    p = params if isinstance(params, CellParams) else CellParams.from_mapping(dict(params or {}))
    wins = []
    for h, d, m, det in samples:
        h = np.ascontiguousarray(h, dtype=np.float32)
        if h.ndim != 2:
            raise ParameterError(f"hematoxylin_od must be 2-D; got shape {h.shape}.")
        d = np.zeros_like(h) if d is None else np.ascontiguousarray(d, dtype=np.float32)
        wins.append((h, d, None if m is None else np.asarray(m, bool), det))
    # 1. granulometry, pooled over the windows
    spec, radii = None, None
    for h, _, m, _ in wins:
        r, s_ = granulometry(h, m)
        if r.size == 0:
            continue
        if spec is None:
            radii, spec = r, s_
        elif s_.size == spec.size:
            spec = spec + s_
    rg = _mode_radius(radii, spec) if spec is not None else math.nan
    if not math.isfinite(rg):
        return ScaleEstimate(None, note="no nucleus-sized hematoxylin structure found")
    ps = GRANULOMETRY_RADIUS_UM / rg
    history = [ps]
    kw = p.to_dict()
    kw.update(estimate_pixel_size=False)
    radius, n = math.nan, 0
    # 2. refinement: median equivalent radius of the nuclei detected at that scale
    for _ in range(2):
        areas = []
        for h, d, m, det_od in wins:
            # the detection's nucleus_area column, without cells, measurements or table
            areas.append(detect_cells(h, d, pixel_size_um=ps, mask=m, detection_od=det_od,
                                      _nucleus_areas_only=True,
                                      **{**kw, "cell_expansion_um": 0.0}).astype(float))
        a = np.concatenate(areas) if areas else np.zeros(0)
        n = int(a.size)
        if n < 5:
            return ScaleEstimate(ps, granulometry_radius_px=rg, n_nuclei=n, history=history,
                                 method="granulometry",
                                 note=f"only {n} nuclei found: first estimate kept")
        radius = float(np.sqrt(np.median(a) / np.pi))
        new = float(p.nucleus_radius_um / radius)
        history.append(new)
        moved = abs(new / ps - 1)
        ps = new
        if moved <= 0.1:
            break
    note = ""
    if not PLAUSIBLE_UM_PER_PX[0] <= ps <= PLAUSIBLE_UM_PER_PX[1]:
        clipped = float(np.clip(ps, *PLAUSIBLE_UM_PER_PX))
        note = (f"estimate {ps:.3g} um/px is outside {PLAUSIBLE_UM_PER_PX[0]}-"
                f"{PLAUSIBLE_UM_PER_PX[1]} um/px (no cells at this scale?): clipped to {clipped:.3g}")
        ps = clipped
    return ScaleEstimate(ps, nucleus_radius_px=radius, granulometry_radius_px=rg, n_nuclei=n,
                         history=history, note=note)
