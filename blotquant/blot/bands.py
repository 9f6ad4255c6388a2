"""Lane profiles, band detection, band limits, local baselines and row matching.

A lane profile is the sum of the signal across the lane width at each image
row (the lane follows its centre line, shifted by whole pixels, so raw pixel
values are summed without interpolation).  Bands are peaks of the profile
above a coarse lower envelope; their limits extend into the tails until the
signal is back at the baseline; the default ("lane-fit") background under a
band is a quadratic fitted to the profile in windows of up to two band extents
above and below the band's limits (a straight line on short windows where the
quadratic is not safe, see ``background.flank_fit_baseline``).

Examples
--------
>>> import numpy as np
>>> y = np.arange(200.0)
>>> prof = 1000 + 2 * y + 5000 * np.exp(-0.5 * ((y - 100) / 4) ** 2)
>>> bands = detect_bands(prof)
>>> len(bands), round(bands[0].y)
(1, 100)
>>> from blotquant.blot.background import flank_fit_baseline
>>> base = flank_fit_baseline(prof, bands[0].top, bands[0].bottom)
>>> vol = float((prof - base)[bands[0].top:bands[0].bottom + 1].sum())
>>> round(vol / float(5000 * 4 * np.sqrt(2 * np.pi)), 3)
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage as ndi
from scipy.signal import find_peaks

from .._shared import stats
from .model import Lane

__all__ = ["lane_block", "detect_bands", "match_rows", "merge_unresolved_rows", "smear_runs",
           "valley_dip", "Band", "profile_noise"]


def lane_block(image: np.ndarray, lane: Lane, rows=None, width=None, left=None, right=None):
    """Pixels of a lane, straightened by whole-pixel row shifts.

    Parameters
    ----------
    image : 2-D array
    lane : Lane
    rows : (start, stop), optional
        Image rows to take (default: the lane's extent, clipped to the image).
    width : float, optional
        Override the lane width.
    left, right : float, optional
        Fixed image columns [left, right) instead of the lane (a rectangle).

    Returns
    -------
    r : ndarray of int
        Image rows.
    x0 : ndarray of int
        First column of the block at each row.
    block : ndarray (len(r), W)
        Pixel values (0 outside the image).
    valid : ndarray bool (len(r), W)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.arange(50.0).reshape(5, 10)
    >>> r, x0, b, v = lane_block(img, Lane(1, [[0, 4.5], [4, 4.5]], 3))
    >>> b[0].tolist(), x0.tolist()
    ([3.0, 4.0, 5.0], [3, 3, 3, 3, 3])
    """
    H, Wimg = image.shape
    if rows is None:
        r0 = max(0, int(math.ceil(lane.top - 1e-6)))
        r1 = min(H, int(math.floor(lane.bottom + 1e-6)) + 1)
    else:
        r0, r1 = max(0, int(rows[0])), min(H, int(rows[1]))
    r = np.arange(r0, max(r0, r1))
    if left is not None and right is not None:
        x0 = np.full(len(r), int(round(left)))
        W = max(1, int(round(right)) - int(round(left)))
    else:
        W = max(1, int(round(lane.width if width is None else width)))
        c = lane.x_at(r.astype(float)) if len(r) else np.zeros(0)
        x0 = np.floor(c - W / 2.0 + 0.5).astype(int)
    return (r, x0) + block_at(image, r, x0, W)


def block_at(image: np.ndarray, r: np.ndarray, x0: np.ndarray, W: int):
    """The pixels ``image[r[i], x0[i]:x0[i] + W]`` (0 outside the image) and where valid.

    The gather behind :func:`lane_block`, for a second image of the same
    shape at the same place (the saturation mask under a lane's signal).

    Parameters
    ----------
    image : 2-D array
    r, x0 : 1-D int arrays
        Image rows and the first column at each row (:func:`lane_block`).
    W : int
        Block width.

    Returns
    -------
    block : ndarray (len(r), W)
    valid : ndarray bool (len(r), W)
    """
    Wimg = image.shape[1]
    if len(r) and W <= Wimg and int(x0.min()) >= 0 and int(x0.max()) + W <= Wimg:
        # the whole block inside the image (the usual case): one row slice per image
        # row through a window view, the same pixels as the gather below, 3-5x faster
        return _windows(image, W)[r, x0], np.ones((len(r), W), bool)
    cols = x0[:, None] + np.arange(W)[None, :]
    valid = (cols >= 0) & (cols < Wimg)
    block = image[r[:, None], np.clip(cols, 0, Wimg - 1)]
    if not valid.all():
        block = np.where(valid, block, 0)
    return block, valid


def _windows(image: np.ndarray, W: int) -> np.ndarray:
    """Read-only view ``(H, Wimg - W + 1, W)``: ``[y, x]`` is ``image[y, x:x + W]``.

    The view :func:`numpy.lib.stride_tricks.sliding_window_view` makes, built
    directly on the image's memory when it is C-contiguous (25x cheaper to
    make, which counts for the many short blocks of a run).
    """
    H, Wimg = image.shape
    if image.flags.c_contiguous:
        s0, s1 = image.strides
        win = np.ndarray((H, Wimg - W + 1, W), image.dtype, image, 0, (s0, s1, s1))
        win.flags.writeable = False
        return win
    return np.lib.stride_tricks.sliding_window_view(image, W, axis=1)


def profile_noise(profile: np.ndarray) -> float:
    """Robust noise sigma of a profile (MAD of first differences / sqrt 2).

    Examples
    --------
    >>> import numpy as np
    >>> round(profile_noise(np.random.default_rng(0).normal(0, 2, 5000)), 1)
    2.0
    """
    p = np.asarray(profile, float)
    if len(p) < 3:
        return 1e-9
    d = np.diff(p)
    return max(1.4826 * stats.median(np.abs(d - stats.median(d))) / math.sqrt(2), 1e-9)


@dataclass
class Band:
    """A band found in a lane profile (positions are profile indices)."""

    y: float            # peak position (centroid of the top half)
    top: int            # first index inside the band
    bottom: int         # last index inside the band
    height: float       # peak height above the coarse baseline
    fwhm: float         # full width at half maximum (profile samples)
    prominence: float


def _envelope(p, size):
    size = max(3, int(size)) | 1
    lo = ndi.minimum_filter1d(p, size, mode="nearest")
    lo = ndi.maximum_filter1d(lo, size, mode="nearest")
    return ndi.uniform_filter1d(lo, max(3, size // 2) | 1, mode="nearest")



def _above_half(det: np.ndarray, q: int, half: float) -> tuple[int, int]:
    """First and last index of the run around peak ``q`` where ``det`` exceeds ``half``."""
    lo = q
    while lo > 0 and det[lo - 1] > half:
        lo -= 1
    hi = q
    while hi < len(det) - 1 and det[hi + 1] > half:
        hi += 1
    return lo, hi

def detect_bands(profile: np.ndarray, *, sensitivity: float = 0.5, noise: float | None = None,
                 max_band_height: float | None = None, min_height: float | None = None,
                 tail: float = 3.0):
    """Find bands in a lane profile (bands are peaks).

    Parameters
    ----------
    profile : 1-D array
    sensitivity : float in (0, 1]
        Higher finds fainter bands: the prominence threshold is
        ``(12 - 10 * sensitivity)`` noise sigmas of the smoothed profile.
    noise : float, optional
        Profile noise sigma (default: estimated).
    max_band_height : float, optional
        Largest expected band extent in samples (size of the envelope used to
        find peaks); default a quarter of the profile.
    min_height : float, optional
        Absolute threshold on the peak height above the envelope.
    tail : float
        Band limits lie ``tail`` half-widths-at-half-maximum above and below
        the peak (3.0 ~ 3.5 sigma of a Gaussian band: the tails are included),
        never beyond the valley towards a neighbouring band.

    Returns
    -------
    list of Band, ordered by position.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(300.0)
    >>> p = 100 + 800 * np.exp(-0.5 * ((y - 80) / 5) ** 2) + 400 * np.exp(-0.5 * ((y - 200) / 5) ** 2)
    >>> [round(b.y) for b in detect_bands(p)]
    [80, 200]
    """
    p = np.asarray(profile, dtype=np.float64)
    n = len(p)
    if n < 5:
        return []
    if noise is None:
        noise = profile_noise(p)
    ps = ndi.gaussian_filter1d(p, 1.5, mode="nearest")
    nsm = noise / math.sqrt(2 * math.sqrt(math.pi) * 1.5)  # noise of smoothed profile
    env_size = max_band_height if max_band_height is not None else max(15, n // 4)
    env = np.minimum(_envelope(ps, 2 * env_size + 1), ps)
    det = ps - env
    thr = (12.0 - 10.0 * sensitivity) * nsm
    if min_height is not None:
        thr = max(thr, min_height)
    pk, props = find_peaks(det, prominence=thr, height=thr)
    bands = []
    for q, prom in zip(pk, props["prominences"]):
        h = det[q]
        half = 0.5 * h
        lo, hi = _above_half(det, q, half)
        fwhm = float(hi - lo + 1)
        xs = np.arange(lo, hi + 1)
        w = det[lo:hi + 1] - half
        yc = float((xs * w).sum() / w.sum()) if w.sum() > 0 else float(q)
        bands.append([yc, q, h, fwhm, float(prom)])
    if not bands:
        return []
    # limits: `tail` half-widths (measured separately above and below the
    # peak) on each side, never beyond the valley towards a neighbouring band
    out = []
    peaks = [b[1] for b in bands]
    for i, (yc, q, h, fwhm, prom) in enumerate(bands):
        # the valley sample itself belongs to the band above (never counted twice)
        stop_lo = 0 if i == 0 else int(peaks[i - 1] + np.argmin(det[peaks[i - 1]:q + 1])) + 1
        stop_hi = n - 1 if i == len(bands) - 1 else int(q + np.argmin(det[q:peaks[i + 1] + 1]))
        half = 0.5 * h
        # sub-sample half-maximum crossings
        lo, hi = _above_half(det, q, half)
        y_lo = lo - ((det[lo] - half) / (det[lo] - det[lo - 1]) if lo > 0 and det[lo] != det[lo - 1] else 0.5)
        y_hi = hi + ((det[hi] - half) / (det[hi] - det[hi + 1]) if hi < n - 1 and det[hi] != det[hi + 1] else 0.5)
        # peak position: parabolic refinement of the smoothed maximum
        if 0 < q < n - 1:
            den = ps[q - 1] - 2 * ps[q] + ps[q + 1]
            ypk = q + (0.5 * (ps[q - 1] - ps[q + 1]) / den if den < 0 else 0.0)
        else:
            ypk = float(q)
        up, down = max(ypk - y_lo, 1.0), max(y_hi - ypk, 1.0)
        top = int(math.floor(ypk - tail * up))
        bottom = int(math.ceil(ypk + tail * down))
        top = max(stop_lo, top)
        bottom = min(stop_hi, bottom)
        out.append(Band(y=float(ypk), top=int(top), bottom=int(bottom), height=float(h),
                        fwhm=float(y_hi - y_lo), prominence=prom))
    return out


def match_rows(band_y: dict, lane_x: dict, *, tol: float):
    """Group bands of different lanes into rows (bands at about the same height).

    Parameters
    ----------
    band_y : dict
        ``lane -> list of band positions (rows)``.
    lane_x : dict
        ``lane -> lane centre column`` (defines left-to-right order).
    tol : float
        Largest row difference between bands of neighbouring lanes in one row.

    Returns
    -------
    list of dict
        One dict per row (``lane -> band index``), ordered top to bottom.

    Examples
    --------
    >>> rows = match_rows({1: [10, 50], 2: [14, 55], 3: [60]}, {1: 0, 2: 10, 3: 20}, tol=8)
    >>> rows
    [{1: 0, 2: 0}, {1: 1, 2: 1, 3: 0}]
    """
    lanes = sorted(band_y, key=lambda k: lane_x[k])
    nodes = [(ln, i) for ln in lanes for i in range(len(band_y[ln]))]
    index = {nd: j for j, nd in enumerate(nodes)}
    parent = list(range(len(nodes)))
    members = [{nd[0]} for nd in nodes]   # lanes present in each root's row

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    # candidate links: mutual nearest bands of lanes 1, 2 or 3 apart; neighbours
    # first, closest first, so a long-range link never pre-empts a direct one
    edges = []
    for li, la in enumerate(lanes):
        for step in (1, 2, 3):
            if li + step >= len(lanes):
                break
            lb = lanes[li + step]
            ya = np.asarray(band_y[la], float)
            yb = np.asarray(band_y[lb], float)
            if len(ya) == 0 or len(yb) == 0:
                continue
            d = np.abs(ya[:, None] - yb[None, :])
            for i in range(len(ya)):
                j = int(np.argmin(d[i]))
                if d[i, j] <= tol * (1 + 0.5 * (step - 1)) and int(np.argmin(d[:, j])) == i:
                    edges.append((step, float(d[i, j]), (la, i), (lb, j)))
    edges.sort(key=lambda e: (e[0], e[1]))
    for _, _, na, nb in edges:
        ra, rb = find(index[na]), find(index[nb])
        # never put two bands of one lane into the same row
        if ra == rb or members[ra] & members[rb]:
            continue
        parent[rb] = ra
        members[ra] |= members[rb]
    groups: dict = {}
    for k, nd in enumerate(nodes):
        groups.setdefault(find(k), {})[nd[0]] = nd[1]
    rows = list(groups.values())
    rows.sort(key=lambda g: float(np.median([band_y[ln][i] for ln, i in g.items()])))
    return [dict(sorted(g.items(), key=lambda kv: lane_x[kv[0]])) for g in rows]


#: Two neighbouring peaks of a lane profile are one stretch of signal when the
#: profile between them dips below the lower peak by less than this fraction of
#: that peak's height (:func:`valley_dip`).  Lumps on one smear and film grain
#: on a clipped plateau dip by 0.01-0.25 (the real films); two bands a person
#: reads apart dip by more, or stand alone.
SMEAR_DIP = 0.15
#: A smear: at least this many peaks of one lane in one stretch (a doublet, two
#: peaks in one stretch, is two bands: split at its valley).
SMEAR_PEAKS = 3


def valley_dip(profile: np.ndarray, a: Band, b: Band, smooth=None) -> float:
    """Depth of the valley between two bands of one lane, as a fraction of the lower.

    Parameters
    ----------
    profile : 1-D array
        The lane profile the bands were found in.
    a, b : Band
        Two bands of that profile (either order).
    smooth : 1-D array, optional
        The profile smoothed as :func:`detect_bands` smooths it (computed when
        not given).

    Returns
    -------
    float
        ``(level of the lower peak - lowest level between the peaks) / its
        height``: 0 when no valley separates them, 1 when the profile falls back
        to the lower band's baseline.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(200.0)
    >>> g = lambda c: np.exp(-0.5 * ((y - c) / 4) ** 2)
    >>> bs = detect_bands(100 + 1000 * (g(90) + g(110)))
    >>> round(valley_dip(100 + 1000 * (g(90) + g(110)), *bs), 2)
    0.87
    """
    ps = ndi.gaussian_filter1d(np.asarray(profile, float), 1.5, mode="nearest") \
        if smooth is None else smooth
    n = len(ps)
    lo, hi = (a, b) if a.y <= b.y else (b, a)
    qa = min(max(int(round(lo.y)), 0), n - 1)
    qb = min(max(int(round(hi.y)), 0), n - 1)
    if qb - qa < 2:
        return 0.0
    low = lo if lo.height <= hi.height else hi
    q = qa if low is lo else qb
    valley = float(ps[qa:qb + 1].min())
    return max(0.0, float(ps[q]) - valley) / max(low.height, 1e-12)


def smear_runs(profile: np.ndarray, bands: list, dip: float = SMEAR_DIP,
               smooth=None) -> list:
    """Which bands of one lane lie on one smear (or on one clipped plateau).

    Consecutive bands whose valley dips by less than ``dip`` of the lower peak
    (:func:`valley_dip`) form one stretch of signal; a stretch of at least
    :data:`SMEAR_PEAKS` peaks is a smear (two peaks in one stretch are a
    doublet).

    Parameters
    ----------
    profile : 1-D array
    bands : list of Band
        The lane's bands, top to bottom.
    dip : float
    smooth : 1-D array, optional
        The profile smoothed as :func:`detect_bands` smooths it.

    Returns
    -------
    list of int
        Per band, the number of its smear (-1: not on a smear).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(300.0)
    >>> g = lambda c, s=5: np.exp(-0.5 * ((y - c) / s) ** 2)
    >>> smear = g(60) + g(72) + g(84)            # three lumps 2.4 sigma apart
    >>> p = 100 + 1000 * smear + 900 * (g(150) + g(166))   # and a doublet
    >>> bs = detect_bands(p)
    >>> [round(b.y) for b in bs], smear_runs(p, bs)
    ([61, 72, 83, 150, 166], [0, 0, 0, -1, -1])
    """
    ps = ndi.gaussian_filter1d(np.asarray(profile, float), 1.5, mode="nearest") \
        if smooth is None else smooth
    n = len(bands)
    out = [-1] * n
    linked = [valley_dip(profile, a, b, ps) < dip for a, b in zip(bands[:-1], bands[1:])]
    run = 0
    i = 0
    while i < n:
        j = i
        while j < n - 1 and linked[j]:
            j += 1
        if j - i + 1 >= SMEAR_PEAKS:
            for k in range(i, j + 1):
                out[k] = run
            run += 1
        i = j + 1
    return out


def merge_unresolved_rows(rows: list, profiles: dict, bands: dict, band_y: dict,
                          min_lanes: int = 1, dip: float = SMEAR_DIP) -> list:
    """Neighbouring rows whose bands are lumps of one smear, as one row.

    A band row is a run of bands of one height across the lanes.  On a smear
    (a long stretch of signal with lumps) or a clipped plateau, one lane shows
    several peaks that no valley resolves, and the peaks of neighbouring lanes
    match into several "rows" (their positions are the smear's lumps).  Two
    neighbouring rows are one row when in most of the lanes holding a band of
    each (more than half) both bands lie on one smear or plateau of that lane
    (:func:`smear_runs`).  Rows with no lane in common are left apart (nothing
    shows they are one), and so are rows of fewer than ``min_lanes`` lanes (no
    band row: their bands are measured as parts of the touching row's bands, or
    not at all).  A doublet (two peaks per lane, split at their valley) stays
    two rows.

    Parameters
    ----------
    rows : list of dict
        ``lane -> band index`` per row, top to bottom (:func:`match_rows`).
    profiles, bands : dict
        ``lane -> profile`` and ``lane -> list of Band``.
    band_y : dict
        ``lane -> band positions`` (image rows), as given to :func:`match_rows`.
    min_lanes : int
        Only rows of at least this many lanes are merged.
    dip : float
        The valley depth that parts two peaks (:data:`SMEAR_DIP`).

    Returns
    -------
    list of dict
        The rows, merged rows holding per lane the stronger band of the two;
        in ``bands`` that band is replaced by one spanning the limits of both
        (the lumps of one smear are measured together).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.arange(300.0)
    >>> g = lambda c, s=5: np.exp(-0.5 * ((y - c) / s) ** 2)
    >>> p = 100 + 1000 * (g(60) + g(72) + g(84)) + 800 * g(150)
    >>> profs = {1: p, 2: p.copy(), 3: p.copy()}
    >>> bs = {k: detect_bands(v) for k, v in profs.items()}
    >>> by = {k: [b.y for b in v] for k, v in bs.items()}
    >>> rows = match_rows(by, {1: 0, 2: 10, 3: 20}, tol=8)
    >>> len(rows), len(merge_unresolved_rows(rows, profs, bs, by))
    (4, 2)
    """
    runs = {ln: smear_runs(profiles[ln], bands[ln], dip)
            for ln in bands if len(bands[ln]) >= 2}
    out = [dict(g) for g in rows]
    k = 0
    while True:
        # the next two rows of enough lanes (rows of fewer lanes between them stay)
        cand = [j for j in range(k, len(out)) if len(out[j]) >= min_lanes][:2]
        if len(cand) < 2:
            break
        g1, g2 = out[cand[0]], out[cand[1]]
        common = [ln for ln in g1 if ln in g2]
        joined = sum(1 for ln in common if ln in runs
                     and runs[ln][g1[ln]] >= 0 and runs[ln][g1[ln]] == runs[ln][g2[ln]])
        if not common or 2 * joined < len(common):
            k = cand[1]
            continue
        merged = dict(g2)
        for ln, i in g1.items():
            j = merged.get(ln)
            if j is None:
                merged[ln] = i
                continue
            a, b = bands[ln][i], bands[ln][j]
            keep, k_ = (i, a) if a.height >= b.height else (j, b)
            # the kept band spans both (and whatever lies between them)
            bands[ln][keep] = replace(k_, top=min(a.top, b.top), bottom=max(a.bottom, b.bottom))
            merged[ln] = keep
        out[cand[0]] = merged
        del out[cand[1]]
        k = cand[0]
    return out
