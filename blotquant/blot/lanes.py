"""Lane finding: tilt, band zones, strips and lane geometry.

The input is a *signal* image (float, bands bright, background roughly
flat or slowly varying).  Detection works on a block-averaged copy (about
500 px on the long side) of a foreground map (signal minus a coarse
morphological background), so it costs a few tens of milliseconds per
megapixel whatever the image size.

Steps
-----
1. ``foreground``: block mean (its block size set by the extent of the
   foreground, not by the frame around it), opening-based coarse background removed,
   thin vertical strokes (pen marks, text) removed by a short horizontal
   opening (its length a share of the lane pitch, so the same at any
   resolution), pixels below 3 noise sigmas set to 0.
2. Tilt: from the positions of the same lane's bands in different rows
   (accepted only when all lanes agree).
3. Band *zones*: runs of rows with foreground, projected along the (tilted)
   rows.  Each zone gives a column profile whose peaks are lanes.  A zone
   whose only peaks are the two ends of a wide, mostly empty extent (film or
   membrane edges) is no band row.  Along a row of touching bands (shallow
   valleys in the column profile) the lanes come from the valleys between the
   bands, or from a cut at a regular run of dips chosen together
   (``_dip_segments``), or, for a bright bar whose dips the working image
   loses, from its regular dips at full resolution (``_periodic_dips``).  A
   zone with no lane structure (a cut edge across the lanes: ``_plateaus``)
   gives no lane positions.
4. Zones whose lanes line up form one lane set; zones whose lanes do not
   (two membranes side by side with different lane counts), that lie on two
   sides of a membrane seam, or whose lanes line up only after a shift larger
   than the lane tilt allows, are separate *strips*, each with its own lanes.
5. Lane count: given -> exactly that many (gaps filled at the typical
   spacing, weakest peaks dropped); not given -> peaks plus gaps of about
   twice the typical spacing (empty lanes), plus faint lanes beyond the
   outermost ones on a well-established lane grid (a dilution series;
   ``_faint_lanes``), plus a ladder beyond them that only its stacked markers
   show (``_marker_lanes``).

Examples
--------
>>> import numpy as np
>>> img = np.zeros((120, 200), np.float32)
>>> for x in (30, 80, 130, 170):
...     img[50:60, x - 12:x + 13] = 100.0
>>> lanes = detect_lanes(img)
>>> [round(l.x_at(55)) for l in lanes]
[30, 80, 130, 170]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy.signal import find_peaks

from ..errors import AnalysisError, ParameterError
from .bands import profile_noise
from .groups import part_given, regroup
from .model import Lane

__all__ = ["detect_lanes", "foreground", "LaneDetection"]


#: The text-removing opening of :func:`foreground` is at most this share of the lane
#: pitch (the film scans' touching bands survive it, printed letters do not) ...
STROKE_PITCH = 0.7
#: ... and, on a block-averaged working image, at most this share of its long side
#: (``target``): 15 working px, the 30 image px of a 1000 px image (camera blots,
#: whose bands are narrower than their pitch)
STROKE_TARGET = 0.03
#: The working resolution is set over the foreground's extent enlarged by this factor
#: (a membrane reaches a little beyond its bands, marks and text)
EXTENT_MARGIN = 1.05
#: ... but the working image's long side is at most this share of ``target``
WORK_MAX = 1.5
#: Peaks of at least this share of the strongest give the pitch for the stroke; the
#: strongest band row's pitch replaces the whole image's when this many times larger
_PITCH_PROMINENCE = 0.145
_INTERLEAVED = 1.5
#: ... read after an opening of this many working px (thin strokes are no lanes)
_THIN = 3

#: A strip's lane tilt measured on its own rows is known to this many degrees (the
#: shift its lanes may have between rows is the measured tilt +- this, not the
#: largest tilt searched)
TILT_UNCERTAINTY = 1.0
#: Two rows whose lanes are shifted by about a whole pitch lie on one grid of dots
#: (other dots empty) only when they are at most this many pitches apart, as the
#: rows of a dot grid are; band rows farther apart are two membranes
GRID_ROWS = 2.0

#: A band row with less than this share of the column-profile mass of the strongest
#: row of the strip above it does not start a strip of its own on lane evidence
WEAK_ZONE = 0.25
#: A lane slope through at least this many band blobs of the lane lying on one line
#: (fit residual at most :data:`COLLINEAR_RES` lane pitches) shows the lane's
#: direction (:func:`_strip_tilt`); a slope through two blobs fits any pair
COLLINEAR_BLOBS = 3
COLLINEAR_RES = 0.03
#: ... and carrying at least this share of the largest lane's evidence (blob mass
#: times the squared extent of its blobs; specks on one line carry little)
COLLINEAR_WEIGHT = 0.2
#: A zone of fewer than three column peaks whose profile stays above a fifth of its
#: maximum over more than this many lane pitches shows no lane (a cut edge, a smear)
PLATEAU_PITCHES = 2.5
#: A ladder lane beyond a strip's end lanes is shown by at least this many band-like
#: blobs stacked at its grid position (its markers)
MARKER_COUNT = 3
#: Dips along a bright bar at full resolution count from this share of its maximum
PERIODIC_DIP = 0.03


def _block_mean(a: np.ndarray, k: int) -> np.ndarray:
    if k <= 1:
        return a.astype(np.float32, copy=False)
    h, w = (a.shape[0] // k) * k, (a.shape[1] // k) * k
    if k == 2 and h >= 4 and w >= 4:
        # the common case (images of 750-1250 px), as four strided sums in the order
        # NumPy's two-axis mean adds them, (a00 + a01) + (a10 + a11): the same numbers,
        # 5-8x faster than the reshaped mean
        b = a[:h, :w].astype(np.float32, copy=False)
        s = b[0::2, 0::2] + b[0::2, 1::2]
        s += b[1::2, 0::2] + b[1::2, 1::2]
        s /= np.float32(4)
        return s
    return a[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3), dtype=np.float32)


def _bilinear(a: np.ndarray, zy: np.ndarray, zx: np.ndarray) -> np.ndarray:
    """``a`` sampled at rows ``zy`` x columns ``zx`` (inside ``a``), bilinear, float32.

    Separable (rows, then columns) in float64: the same float32 numbers as
    ``scipy.ndimage.map_coordinates(a, meshgrid(zy, zx), order=1)`` (0 of 33
    million samples differ on random maps), 8x faster.
    """
    iy = np.floor(zy).astype(np.intp)
    ty = (zy - iy)[:, None]
    iy1 = np.minimum(iy + 1, a.shape[0] - 1)
    ix = np.floor(zx).astype(np.intp)
    tx = zx - ix
    ix1 = np.minimum(ix + 1, a.shape[1] - 1)
    b = a.astype(np.float64)
    rows = b[iy] * (1 - ty) + b[iy1] * ty
    return (rows[:, ix] * (1 - tx) + rows[:, ix1] * tx).astype(np.float32)


def _noise_sigma(a: np.ndarray) -> float:
    d = np.diff(a[::2] if a.shape[0] > 200 else a, axis=1)
    s = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2)
    return max(s, 1e-6)


def foreground(signal: np.ndarray, *, target: int = 500, stroke_px: float | None = None):
    """Coarse foreground map for detection.

    Parameters
    ----------
    signal : 2-D array
        Bands bright.
    target : int
        Approximate long side, in working (block-averaged) px, of the extent of the
        foreground (``EXTENT_MARGIN`` x its bounding box, at most the image): an
        empty frame around the blot does not change the working scale.  The
        working image's own long side stays at most ``WORK_MAX * target``.
    stroke_px : float, optional
        Structures narrower than this (full-resolution px) are removed
        (text, pen marks).  Default, in working px (so the same share of a lane
        at any resolution of one blot): ``STROKE_PITCH`` of the lane pitch seen
        in the column profile of the foreground before the opening, at most the
        working width / 30 and (``k`` > 1) ``STROKE_TARGET * target``; without
        a pitch, min(30, image width / 30) image px.

    Returns
    -------
    fg : ndarray float32
        Foreground, 0 where below 3 noise sigmas.
    k : int
        Block size (working pixel = k x k full-resolution pixels).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((100, 100)); img[40:50, 20:60] = 10
    >>> fg, k = foreground(img)
    >>> k, bool(fg[45, 40] > 5), float(fg[10, 10])
    (1, True, 0.0)
    """
    a = np.asarray(signal, dtype=np.float32)
    k = max(1, int(round(max(a.shape) / target)))
    d, sigma, fg = _coarse_foreground(a, k)
    # the working resolution follows the blot, not the field of view: an empty frame
    # around the membrane (a wider camera field, a padded export) makes the image
    # larger but not its lanes, so ``k`` comes from the long side of the extent of
    # the foreground (at most the image's)
    ke = _extent_block(fg, sigma, k, target, max(a.shape))
    if ke != k:
        k = ke
        d, sigma, fg = _coarse_foreground(a, k)
    if stroke_px is not None:
        L = int(max(1, round(stroke_px / k)))
    else:
        L = _stroke(fg, sigma, target, k, a.shape[1])
    if L > 1:
        fg = ndi.grey_opening(fg, size=(1, L))
    fg = _thresholded(fg, sigma)
    return fg.astype(np.float32, copy=False), k


def _coarse_foreground(a, k):
    """Block mean ``d`` of ``a`` (``k`` x ``k``), its noise sigma, and ``d`` less its
    coarse opening-based background (not yet opened against text, not thresholded)."""
    d = _block_mean(a, k)
    sigma = _noise_sigma(d)
    m = int(max(9, min(d.shape) // 6)) | 1
    # coarse background on a further 4x reduced copy (opening + smoothing), then
    # bilinearly enlarged: the background varies slowly, so this loses nothing
    q = 4 if min(d.shape) >= 64 else 1
    dq = _block_mean(d, q)
    mq = max(3, m // q) | 1
    bgq = ndi.maximum_filter(ndi.minimum_filter(dq, size=(mq, mq)), size=(mq, mq))
    bgq = ndi.uniform_filter(bgq, size=mq)
    if q > 1:
        zy = np.clip((np.arange(d.shape[0]) + 0.5) / q - 0.5, 0, dq.shape[0] - 1)
        zx = np.clip((np.arange(d.shape[1]) + 0.5) / q - 0.5, 0, dq.shape[1] - 1)
        bg = _bilinear(bgq, zy, zx)
    else:
        bg = bgq
    bg = np.minimum(bg, d)  # never above the data
    return d, sigma, d - bg


def _extent_block(fg, sigma, k, target, image_long) -> int:
    """Block size for a working long side of about ``target`` px over the extent of the
    foreground ``fg`` (block size ``k``; bounding box of its thresholded pixels, at most
    the image), not over the whole image: the same ``k`` with or without an empty frame."""
    t = _thresholded(fg, sigma) > 0
    rows, cols = np.flatnonzero(t.any(axis=1)), np.flatnonzero(t.any(axis=0))
    if not len(rows):
        return k
    long_side = EXTENT_MARGIN * k * max(rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0])
    # (the working image is the whole image: its long side stays within the range the
    # image-size rule gives, ``WORK_MAX * target``, so that a small blot in a wide
    # field costs no more time than a large one, nor works at another scale of noise)
    least = max(1, math.ceil(image_long / (WORK_MAX * target)))
    return max(least, min(k, int(round(long_side / target))))


def _thresholded(fg, sigma):
    """``fg`` smoothed over 3 x 3 px, less its median, 0 below 4 of its own noise
    sigmas (and a third of the block noise ``sigma``); a new array."""
    fg = ndi.uniform_filter(fg, size=3)
    # noise of the smoothed foreground itself (covers correlated texture too)
    sub = fg[::2, ::2] if fg.size > 40000 else fg
    med = float(np.median(sub))
    fsig = 1.4826 * float(np.median(np.abs(sub - med)))
    fg -= med
    fg[fg < max(4.0 * fsig, sigma / 3.0)] = 0.0
    return fg


def _strongest_zone(t):
    """The band zone (rows ``(y0, y1)``, :func:`_zones`) of the thresholded
    foreground ``t`` with the most foreground mass; None without zones."""
    zones = _zones(t, 0.0)
    return max(zones, key=lambda z: float(t[z[0]:z[1]].sum())) if zones else None


def _stroke(fg, sigma, target, k, full_width) -> int:
    """Length (working px) of the horizontal opening that removes text strokes from
    the foreground ``fg`` (background removed, not yet thresholded).

    Expressed in the blot's own structure, so that one blot scanned at another
    resolution gets the same opening relative to its lanes: ``STROKE_PITCH`` of
    the lane pitch (the closest neighbours' gap, :func:`_one_pitch`, of the peaks
    of the column profile of the whole thresholded foreground, opened over
    ``_THIN`` working px first so that a printed label's letters give no pitch;
    the strongest band
    zone's own pitch when it is ``_INTERLEAVED`` times larger: two strips whose
    lanes are offset interleave their peaks in the whole profile), at most a
    thirtieth of the working width (a narrow image) and, on a block-averaged
    image (``k`` > 1 image px per working px), ``STROKE_TARGET`` of the working
    long side ``target``.  A fixed length in image px is a different share of a
    lane at every resolution: a film scan at half or 1.5x its resolution lost or
    merged its lane groups.  Without a pitch (fewer than three peaks, no two gaps
    alike): as before, 30 image px or a thirtieth of the image width
    ``full_width``, whichever is less.
    """
    # (strokes of 1-2 working px, the letters of a printed label, are no lanes: they
    # are left out of the profile the pitch is read from)
    t = _thresholded(ndi.grey_opening(fg, size=(1, _THIN)), sigma)
    pitch = _one_pitch(_peaks(_column_profile(t, 0.0, 0, t.shape[0]), _PITCH_PROMINENCE, 3)[0])
    zone = _strongest_zone(t) if pitch is not None else None
    if zone is not None:
        # the whole image's profile interleaves the lanes of strips whose lanes are
        # offset (half a pitch: twice the peaks); the strongest band row alone shows
        # the pitch then
        pz = _one_pitch(_peaks(_column_profile(t, 0.0, *zone), _PITCH_PROMINENCE, 3)[0])
        if pz is not None and pz >= _INTERLEAVED * pitch:
            pitch = pz
    if pitch is None:
        return int(max(1, round(min(30.0, full_width / 30.0) / k)))
    cap = fg.shape[1] / 30.0
    if k > 1:
        cap = min(cap, STROKE_TARGET * target)
    return int(max(1, round(min(cap, STROKE_PITCH * pitch))))


def _shear_project(fg, tan_t, axis_len, along="x", weights_idx=None):
    ys, xs, w = weights_idx
    if along == "x":
        coord = xs - (ys - fg.shape[0] / 2.0) * tan_t
    else:
        coord = ys + (xs - fg.shape[1] / 2.0) * tan_t
    idx = np.round(coord).astype(np.int64) + axis_len
    return np.bincount(idx, weights=w, minlength=3 * axis_len)


def _nonzero(fg, max_points=60000):
    ys, xs = np.nonzero(fg > 0)
    w = fg[ys, xs].astype(np.float64)
    if len(w) > max_points:
        keep = np.argsort(w)[-max_points:]
        ys, xs, w = ys[keep], xs[keep], w[keep]
    return ys.astype(np.float64), xs.astype(np.float64), w


@dataclass
class _Zone:
    y0: int
    y1: int
    peaks: np.ndarray          # lane centres (working px, sheared coordinate)
    prominence: np.ndarray
    profile: np.ndarray
    parent: int = -1           # zones split from one run of rows share a parent


@dataclass
class LaneDetection:
    """Intermediate detection results (for QC and tests)."""

    lanes: list
    tilt_deg: float
    zones: list                 # (top, bottom) full-resolution rows of band zones
    strips: list                # (top, bottom) full-resolution rows of strips
    strip_source: list = None   # per strip: "membrane", "group lines", "lane gaps" or "given"
    group_lines: list = None    # [row0, col0, row1, col1] of the printed group lines used


def _zones(fg, tan_t, min_frac=0.03, min_gap=3, with_parent=False):
    H = fg.shape[0]
    pts = _nonzero(fg)
    if len(pts[2]) == 0:
        return []
    prof = _shear_project(fg, tan_t, H, "y", pts)[H:2 * H]
    prof = ndi.gaussian_filter1d(prof, 1.0)
    thr = min_frac * prof.max()
    on = prof > thr
    lab, n = ndi.label(on)
    zones = []
    for i in range(1, n + 1):
        ys = np.nonzero(lab == i)[0]
        mass = prof[ys].sum()
        zones.append([ys[0], ys[-1] + 1, mass])
    # merge zones separated by tiny gaps
    merged = []
    for z in zones:
        if merged and z[0] - merged[-1][1] < min_gap:
            merged[-1][1] = z[1]
            merged[-1][2] += z[2]
        else:
            merged.append(z)
    # two rows in one zone (a bright bar with a sharp row just below): split at
    # a deep valley, so each row gives its own column profile (the bar's flat
    # profile would otherwise hide the lanes the sharp row shows)
    split = []
    for pi, (a, b, m) in enumerate(merged):
        seg = prof[a:b]
        pk, _ = find_peaks(np.r_[0.0, seg, 0.0], prominence=0.2 * float(seg.max()))
        pk = pk - 1
        cuts = []
        for p0, p1 in zip(pk[:-1], pk[1:]):
            v = p0 + int(np.argmin(seg[p0:p1 + 1]))
            if seg[v] < 0.35 * min(seg[p0], seg[p1]) and v - (cuts[-1] if cuts else 0) >= 2:
                cuts.append(v)
        bounds = [a] + [a + c for c in cuts] + [b]
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            split.append([lo, hi, float(prof[lo:hi].sum()), pi])
    total = sum(z[2] for z in split)
    out = [(a, b, pi) for a, b, m, pi in split if m > 0.01 * total and b - a >= 2]
    return out if with_parent else [(a, b) for a, b, _ in out]


def _column_profile(fg, tan_t, y0, y1):
    W = fg.shape[1]
    sub = fg[y0:y1]
    ys, xs = np.nonzero(sub > 0)
    if len(ys) == 0:
        return np.zeros(W)
    w = sub[ys, xs].astype(np.float64)
    ys = ys + y0
    coord = xs - (ys - fg.shape[0] / 2.0) * tan_t
    idx = np.clip(np.round(coord).astype(np.int64), 0, W - 1)
    return np.bincount(idx, weights=w, minlength=W).astype(np.float64)


def _peaks(profile, rel_prominence, min_distance, deep=None):
    # zero padding lets a lane touching the image edge form a peak
    p = np.pad(ndi.gaussian_filter1d(profile, 1.0), 1)
    if p.max() <= 0:
        return np.array([], int), np.array([])
    pk, props = find_peaks(p, prominence=rel_prominence * p.max(),
                           distance=max(1, int(min_distance)))
    if deep is not None and int(min_distance) > 3 and len(pk):
        pk, prom = _deep_neighbours(p, pk, props["prominences"], rel_prominence, deep)
        props = {"prominences": prom}
    # refine to the centroid of the part above half maximum, bounded by the
    # valleys towards the neighbouring peaks (robust to flat or uneven tops)
    cents = []
    n = len(p)
    for i, q in enumerate(pk):
        lo_b = 0 if i == 0 else int(pk[i - 1] + np.argmin(p[pk[i - 1]:q + 1]))
        hi_b = n - 1 if i == len(pk) - 1 else int(q + np.argmin(p[q:pk[i + 1] + 1]))
        half = 0.5 * p[q]
        lo = q
        while lo > lo_b and p[lo - 1] > half:
            lo -= 1
        hi = q
        while hi < hi_b and p[hi + 1] > half:
            hi += 1
        xs = np.arange(lo, hi + 1)
        ww = p[lo:hi + 1] - half
        cen = float((xs * ww).sum() / ww.sum()) if ww.sum() > 0 else float(q)
        lim = 0.5 * max(1.0, float(min_distance))
        cents.append(q + min(lim, max(-lim, cen - q)))  # refinement stays near the peak
    return np.asarray(cents) - 1.0, props["prominences"]


def _deep_neighbours(p, pk, prom, rel_prominence, deep):
    """Peaks ``pk`` plus the peaks that ``min_distance`` suppressed but that a deep
    valley separates from every neighbour (the profile between them falls below
    ``deep`` x the lower of the two): two bands with the profile nearly back at the
    background between them are two lanes however close (touching lane groups
    loaded at a small pitch), while the ripples on one wide band that the peak
    distance is there to suppress are shallow.  Returns sorted peaks and their
    prominences."""
    fine, fp = find_peaks(p, prominence=rel_prominence * p.max(), distance=2)
    have = set(int(q) for q in pk)
    out = dict(zip((int(q) for q in pk), prom))
    for q, pr in zip(fine, fp["prominences"]):
        q = int(q)
        if q in have:
            continue
        kept = np.asarray(sorted(out))
        if all(_deep_between(p, int(nb[0]), q, deep)
               for nb in (kept[kept < q][-1:], kept[kept > q][:1]) if len(nb)):
            out[q] = pr
    keys = np.asarray(sorted(out), int)
    return keys, np.asarray([out[q] for q in keys], float)


def _smooth(profile):
    """A column profile smoothed as :func:`_peaks` and :func:`_touching` see it."""
    return ndi.gaussian_filter1d(np.asarray(profile, float), 1.0)


def _deep_between(p, a, b, deep=0.3):
    """The smoothed profile ``p`` (:func:`_smooth`) falls below ``deep`` x the lower
    of its values at columns ``a`` and ``b`` somewhere between them (two separate
    bands)."""
    i, j = sorted((int(np.clip(round(a), 0, len(p) - 1)), int(np.clip(round(b), 0, len(p) - 1))))
    if j - i < 2:
        return False
    lo = min(float(p[i]), float(p[j]))
    return lo > 0 and float(p[i:j + 1].min()) < deep * lo


def _plateaus(grp, wide=PLATEAU_PITCHES):
    """Zones of a strip that show no lane: fewer than three column peaks and a
    profile above a fifth of its maximum over more than ``wide`` lane pitches
    without a break (a membrane's cut edge, a smear or glow across the lanes; a
    row of touching bands shows its lanes by the dips along it, not by these
    peaks).  The pitch
    is the median peak distance of the strip's rows with three peaks or more;
    without such a row (a strip of touching bands only) no zone is one.  Such a
    zone's highest column is where the line is thickest, not a band centre, and
    it must not pull the strip's lanes towards it.  Returns one bool per zone.
    """
    rows = [z for z in grp if len(z.peaks) >= 3]
    if not rows:
        return np.zeros(len(grp), bool)
    pitch = float(np.median(np.concatenate([np.diff(np.sort(z.peaks)) for z in rows])))
    out = []
    for z in grp:
        if len(z.peaks) >= 3:
            out.append(False)
            continue
        ps = _smooth(z.profile)
        above = np.r_[False, ps > 0.2 * ps.max(), False]
        edges = np.flatnonzero(np.diff(above.astype(np.int8)))
        run = int(np.max(edges[1::2] - edges[::2])) if len(edges) else 0
        out.append(run > wide * pitch)
    return np.asarray(out, bool)


def _row_only_lanes(c, p, grp, zw, tan_s, yc, deep=0.3):
    """Strip lanes ``c`` (prominences ``p``) plus the lanes only one strong row shows.

    The strip's column profile sums its rows' profiles, each scaled to its own
    maximum, so a lane with a band in one row only (the others empty in that
    lane) stands at a fraction of its height there and may fall below the
    prominence threshold.  A peak of a full-weight row (``zw`` 1) with at least
    three peaks, separated from every strip lane by a deep valley of that row's
    own profile (:func:`_deep_between`), is a lane too.  ``tan_s``: the strip's
    lane tilt (row peaks are found unsheared).  Returns sorted ``(c, p)``.
    """
    c = list(np.asarray(c, float))
    p = list(np.asarray(p, float))
    for w, z in zip(zw, grp):
        if w < 1.0 or len(z.peaks) < 3:
            continue
        shift = (0.5 * (z.y0 + z.y1) - yc) * tan_s
        ps = _smooth(z.profile)
        for q, pq in zip(z.peaks, z.prominence):
            qs = q - shift
            # the strip lanes on either side must be separated from it by a deep
            # valley (one at its place is the same lane)
            if any(abs(v - qs) < 2.0 for v in c):
                continue
            left = [v for v in c if v < qs]
            right = [v for v in c if v > qs]
            ok = all(_deep_between(ps, v + shift, q, deep)
                     for v in (left[-1:] + right[:1]))
            if ok:
                c.append(float(qs))
                p.append(float(pq) / max(float(z.profile.max()), 1e-12))
    order = np.argsort(c)
    return np.asarray(c, float)[order], np.asarray(p, float)[order]


def _longest_run(centres, reach=1.5):
    """The most lanes in a run of neighbours at most ``reach`` lane pitches apart
    (the pitch of the closest neighbours, :func:`_one_pitch`, else the median gap)."""
    c, g = _sorted_gaps(centres)
    if g is None:
        return len(c)
    pitch = _one_pitch(c) or float(np.median(g))
    best = run = 1
    for v in g:
        run = run + 1 if v <= reach * pitch else 1
        best = max(best, run)
    return best


def _sorted_gaps(centres):
    """Sorted lane centres and their gaps; gaps None below 3 lanes or with a repeat."""
    c = np.sort(np.asarray(centres, float))
    if len(c) < 3:
        return c, None
    g = np.diff(c)
    return (c, None) if g.min() <= 0 else (c, g)


def _grid_pitch(centres, tol=0.15):
    """Lane pitch of a strip when it is well established, else None.

    Needs at least three lanes whose gaps are all whole multiples of one pitch
    (within ``tol`` pitches) with at least two gaps of one pitch; the pitch is
    the least-squares slope of the centres against their grid index.
    """
    c, g = _sorted_gaps(centres)
    if g is None:
        return None
    base = float(np.median(g[g <= 1.5 * g.min()]))  # the one-pitch gaps
    steps = np.rint(g / base)
    if steps.min() < 1 or np.any(np.abs(g / base - steps) > tol) or np.sum(steps == 1) < 2:
        return None
    idx = np.r_[0.0, np.cumsum(steps)]
    return float(np.polyfit(idx, c, 1)[0])


def _one_pitch(centres):
    """Lane pitch from the closest neighbours (gaps within 0.7-1.4x the median of
    the smaller half of the gaps), when at least two such gaps exist, else None.  Unlike :func:`_grid_pitch` the other
    gaps need not be whole multiples (replicate groups with gaps between them)."""
    _, g = _sorted_gaps(centres)
    if g is None:
        return None
    # the closest neighbours: gaps near the median of the smaller half (a pair of
    # near-duplicate peaks is left out)
    q = float(np.median(np.sort(g)[:max(2, (len(g) + 1) // 2)]))
    # fewer single steps than larger gaps (groups of lanes with an empty lane in
    # each and gaps between the groups): the smallest pair of gaps that agree
    # within 30 %, when most gaps are whole multiples of it
    gs = np.sort(g)
    for a, b in zip(gs[:-1], gs[1:]):
        if b <= 1.3 * a:
            if a < 0.7 * q:
                r = g / (0.5 * (a + b))
                if np.mean(np.abs(r - np.maximum(1.0, np.round(r))) <= 0.2) > 0.5:
                    q = 0.5 * (a + b)
            break
    one = g[(g >= 0.7 * q) & (g <= 1.4 * q)]
    return float(np.median(one)) if len(one) >= 2 else None


def _faint_lanes(fg, d, grp, zones, tan_t, centres, prom, min_distance, z=4.0, reach=0.3):
    """Strip lanes plus faint lanes on the strip's lane grid (a dilution series,
    a knocked-down lane inside a replicate group).

    The lanes found by :func:`_peaks` (prominence relative to the strongest
    lane) set the grid when its pitch is well established (:func:`_grid_pitch`).
    Outward from the outermost lane, one pitch at a time, a lane is added
    where some band zone of the strip has a significant column-profile peak
    within ``reach`` pitches of the grid position; one empty grid position is
    stepped over when a significant lane lies beyond it.  The grid is never
    extended where no significant peak supports it (an image of three lanes
    stays three).

    Inside the strip, a gap between neighbouring lanes of 1.6 or more pitches
    (the pitch of the closest neighbours, :func:`_one_pitch`) gets a lane at
    each of its evenly spaced grid positions where a significant peak lies
    within ``reach`` pitches (a nearly empty, knocked-down lane); a gap without
    such peaks stays a gap (between replicate groups).

    Significance is judged against the image's own band-free rows (rows of no
    zone in ``zones``): their column profiles, over as many rows as the zone
    (or fewer, scaled up linearly), smoothed alike, are what the zone's profile
    looks like without bands (pixel noise, membrane texture, streaks, edges).
    A peak must be ``z`` white-noise sigmas of the zone's column sums and at
    least as prominent as the most prominent peak of those band-free profiles
    (up to 8 of them, spread over the image), and it must lie on the grid.
    Two profiles are searched: the thresholded foreground ``fg`` and the raw
    block image ``d`` smoothed over an eighth of the pitch (faint bands that
    the foreground's threshold cut away).  Returns ``(centres, prominences)``
    (added lanes have prominence 0).
    """
    c = np.sort(np.asarray(centres, float))
    prom = np.asarray(prom, float)[np.argsort(np.asarray(centres, float))]
    pitch = _grid_pitch(c)
    base = _one_pitch(c)
    inner = []  # (left lane, gap) of inner gaps of 1.6 pitches or more
    if base is not None:
        inner = [(float(a), float(b - a)) for a, b in zip(c[:-1], c[1:]) if b - a >= 1.6 * base]
    H, W = fg.shape
    outward = pitch is not None
    if outward:
        lo_end, hi_end = float(c.min()), float(c.max())
        if lo_end - (1 - reach) * pitch < 0 and hi_end + (1 - reach) * pitch > W - 1:
            outward = False  # no room for another lane on either side
    if not outward and not inner:
        return centres, prom
    inzone = np.zeros(H, bool)
    for y0, y1 in zones:
        inzone[max(0, y0 - 2):y1 + 2] = True
    lab, n = ndi.label(~inzone)
    runs = [(sl[0].start, sl[0].stop) for sl in ndi.find_objects(lab)] if n else []
    if not runs:
        return centres, prom
    longest = max(b - a for a, b in runs)
    grid = pitch if pitch is not None else base
    s_raw = max(1.0, grid / 8.0)
    dist = max(1, int(min_distance))
    dist_in = max(1, int(0.5 * base)) if base is not None else dist
    # (sheared profiles sum nonzero pixels only: there the raw image is made positive)
    d0 = d if tan_t == 0.0 else np.asarray(d, np.float64) - float(np.min(d)) + 1.0
    kinds = ((fg, 1.0, "constant"), (d0, s_raw, "edge"))  # raw: no step at the image edge

    def smooth(a, y0, y1, sm, pad):
        prof = (a[y0:y1].sum(axis=0, dtype=np.float64) if tan_t == 0.0
                else _column_profile(a, tan_t, y0, y1))
        return np.pad(ndi.gaussian_filter1d(prof, sm), 1, mode=pad)

    def in_gaps(x):
        return np.array([any(a + 0.5 * base <= v <= a + g - 0.5 * base for a, g in inner)
                         for v in x], bool)

    cand, cand_in = [], []
    nulls: dict = {}  # (kind, rows) -> most prominent band-free peak
    for zn in grp:
        h = zn.y1 - zn.y0
        sig = profile_noise(d[zn.y0:zn.y1].sum(axis=0, dtype=np.float64))
        for ki, (a_, sm, pad) in enumerate(kinds):
            sp = smooth(a_, zn.y0, zn.y1, sm, pad)
            found = []
            if outward:
                pk, props = find_peaks(sp, prominence=z * sig, distance=dist)
                pk = pk - 1.0
                # only peaks beyond the lanes found can add a lane
                out = (pk < lo_end - (1 - reach) * pitch) | (pk > hi_end + (1 - reach) * pitch)
                if out.any():
                    found.append((cand, pk[out], props["prominences"][out]))
            if inner:
                pk, props = find_peaks(sp, prominence=z * sig, distance=dist_in)
                pk = pk - 1.0
                ins = in_gaps(pk) if len(pk) else np.zeros(0, bool)
                if ins.any():
                    found.append((cand_in, pk[ins], props["prominences"][ins]))
            if not found:
                continue
            m = max(1, min(h, longest))
            if (ki, m) not in nulls:
                pieces = [(a + i * m, a + (i + 1) * m) for a, b in runs
                          for i in range((b - a) // m)]
                pieces = [pieces[i] for i in
                          np.linspace(0, len(pieces) - 1, min(8, len(pieces))).astype(int)]
                allp = [0.0]
                for y0, y1 in pieces:
                    _, npr = find_peaks(smooth(a_, y0, y1, sm, pad), prominence=0,
                                        distance=dist)
                    allp += [float(v) for v in npr["prominences"]]
                # beyond the lanes any column may hold a lane: the most prominent
                # band-free peak; at a grid position inside a gap only a window of
                # 0.6 pitches is searched: 90 % of the band-free peaks
                nulls[(ki, m)] = (max(allp), float(np.percentile(allp, 90)))
            for dest, pk, pr in found:
                null = nulls[(ki, m)][0 if dest is cand else 1]
                dest += list(pk[pr >= null * h / m])
    added = []
    if cand:
        cand = np.asarray(cand, float)
        for step in (1.0, -1.0):
            end = float(c.max() if step > 0 else c.min())
            while True:
                hit = None
                for k in (1, 2):
                    want = end + step * k * pitch
                    near = cand[np.abs(cand - want) < reach * pitch]
                    if len(near):
                        hit = float(near[np.argmin(np.abs(near - want))])
                        break
                if hit is None:
                    break
                end = hit
                added.append(end)  # an empty grid position stepped over is filled later
    if cand_in:
        cand_in = np.asarray(cand_in, float)
        for a, g in inner:
            nstep = max(2, int(round(g / base)))
            for j in range(1, nstep):
                want = a + g * j / nstep
                near = cand_in[np.abs(cand_in - want) < reach * base]
                if len(near):
                    added.append(float(near[np.argmin(np.abs(near - want))]))
    if not added:
        return centres, prom
    added = sorted(set(added))
    return np.r_[c, added], np.r_[prom, np.zeros(len(added))]


def _marker_lanes(fg, labels, objs, centres, prom, y0, y1, tan_t, yc, reach=0.3,
                  min_markers=MARKER_COUNT):
    """Strip lanes plus ladder lanes beyond its ends that only their markers show.

    A ladder's markers are bands of their own, one lane wide, stacked in one
    column at many heights, mostly in rows where the sample lanes have no band:
    each marker row alone is too faint to be a band zone, and the band zones
    hold one marker at most.  One pitch beyond an end lane of a well-established
    grid (:func:`_grid_pitch`), a lane is added where at least ``min_markers``
    separate foreground blobs of the strip's rows ``y0:y1`` (working px) lie
    within ``reach`` pitches of the grid position, each shaped like a band (as
    wide as 0.3-1.2 pitches, not taller than wide, not cut by the image border
    as edge glow and margins are); then one pitch further,
    as long as markers are found.  Specks are narrower, membrane edges and
    smears wider, and noise does not repeat in one column.  ``tan_t``: the
    strip's lane tilt (centres are sheared coordinates about row ``yc``).
    Returns ``(centres, prominences)``, added lanes with prominence 0.
    """
    c = np.sort(np.asarray(centres, float))
    pitch = _grid_pitch(c)
    if pitch is None:
        return centres, prom
    W = fg.shape[1]
    xs = []
    for i, sl in enumerate(objs, start=1):
        if sl is None or sl[0].start < y0 or sl[0].stop > y1:
            continue
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if (not (0.3 * pitch <= w <= 1.2 * pitch and h <= w) or sl[1].start == 0
                or sl[1].stop == W or sl[0].start == 0 or sl[0].stop == fg.shape[0]):
            continue  # (a blob cut by the image border has no shape to judge)
        yy, xx = np.nonzero(labels[sl] == i)
        xs.append(float(np.mean(xx + sl[1].start - (yy + sl[0].start - yc) * tan_t)))
    if len(xs) < min_markers:
        return centres, prom
    xs = np.asarray(xs)
    added = []
    for step in (1.0, -1.0):
        end = float(c.max() if step > 0 else c.min())
        while True:
            want = end + step * pitch
            near = xs[np.abs(xs - want) < reach * pitch]
            if len(near) < min_markers or not 0 <= want <= W - 1:
                break
            end = float(np.median(near))
            added.append(end)
    if not added:
        return centres, prom
    order = np.argsort(np.r_[np.asarray(centres, float), added])
    return (np.r_[np.asarray(centres, float), added][order],
            np.r_[np.asarray(prom, float), np.zeros(len(added))][order])


def _same_grid(a, b, tol=0.2):
    """Two rows' lanes lie on one lane grid (each row may miss other lanes).

    At least one row must have a well-established pitch (:func:`_grid_pitch`);
    the other row has the same pitch or a whole multiple of it within 5 %, or (too many empty lanes to
    establish one) gaps that are all whole multiples of it within 0.15
    pitches.  The rows' extents must overlap, and every lane of either row
    must lie within ``tol`` pitches of a grid position of the other (a common
    grid, the rows differing only by empty lanes: a dot blot with empty dots).
    """
    pa, pb = _grid_pitch(a), _grid_pitch(b)
    a = np.sort(np.asarray(a, float))
    b = np.sort(np.asarray(b, float))
    if pa is not None and pb is not None:
        # one pitch a whole multiple of the other: that row shows only every m-th
        # lane of the finer grid (empty dots between, or big dots whose column
        # peaks were suppressed as too close); the lane check below still puts
        # every lane of both rows on the finer grid
        lo, hi = min(pa, pb), max(pa, pb)
        m = round(hi / lo)
        if abs(hi - m * lo) > 0.05 * hi:
            return False
        p = lo if m > 1 else 0.5 * (pa + pb)
    elif pa is None and pb is None:
        return False
    else:
        p, other = (pa, b) if pa is not None else (pb, a)
        g = np.diff(other) / p
        if len(other) < 3 or g.min() < 0.85 or np.any(np.abs(g - np.rint(g)) > 0.15):
            return False
    if max(a[0], b[0]) >= min(a[-1], b[-1]):
        return False
    for u, v in ((a, b), (b, a)):
        off = (u[:, None] - v[None, :]) / p
        if np.any(np.min(np.abs(off - np.rint(off)), axis=1) > tol):
            return False
    return True


def _support(profile, frac=0.1):
    """Columns ``(first, stop)`` where a zone's column profile exceeds ``frac`` of its
    maximum (the extent of the row in the text-free foreground)."""
    xs = np.flatnonzero(np.asarray(profile) > frac * float(np.max(profile)))
    return (int(xs[0]), int(xs[-1]) + 1) if len(xs) else None


def _periodic_dips(a, y0, y1, support, k, prom=PERIODIC_DIP, tol=0.2, cover=0.7):
    """Lanes of a bright bar of touching bands from its regular dips at full
    resolution: centres in working columns, or an empty array.

    The working image (block means of ``k`` px) smooths away the shallow dips
    between touching saturated bands; at full resolution each is weak, but
    lane boundaries recur at one pitch.  Along rows ``y0:y1`` (working px) of
    the full-resolution signal ``a`` the per-column mean, smoothed over 1.5 px,
    is searched for minima of at least ``prom`` of its maximum inside the bar
    (its run above half the maximum within ``support``, working columns; it
    must be one run).  Their pitch is that of the closest (:func:`_one_pitch`);
    the bar holds ``n = extent / pitch`` lanes when that is within 0.3 of a whole
    number ``n >= 3``, at least ``cover`` of its ``n - 2`` inner pairs of
    neighbouring boundaries show dips one pitch apart (within ``tol``), and at
    least ``cover`` of the ``n - 1`` boundaries of the bar cut evenly into ``n``
    have a dip within ``tol`` of a lane's width: the lanes are then that cut,
    each boundary moved to its dip where it has one (lanes are often a little
    unequal).  Irregular dips (dark spots, noise), or dips off the cut (another
    count), give none.
    """
    none = np.array([])
    if k <= 1:
        return none
    rows = np.asarray(a[y0 * k:y1 * k], np.float64)
    if rows.size == 0:
        return none
    pr = ndi.gaussian_filter1d(rows.mean(axis=0), 1.5)
    pr = pr - float(np.percentile(pr, 5))
    if support is not None:
        lo_s, hi_s = support[0] * k, support[1] * k
        pr[:lo_s] = np.minimum(pr[:lo_s], 0.0)
        pr[hi_s:] = np.minimum(pr[hi_s:], 0.0)
    m = float(pr.max())
    if m <= 0:
        return none
    on = np.flatnonzero(pr > 0.5 * m)
    lo, hi = int(on[0]), int(on[-1])
    if np.mean(pr[lo:hi + 1] > 0.5 * m) < 0.9:
        return none  # not one bar
    mins, _ = find_peaks(-pr[lo:hi + 1], prominence=prom * m)
    dips = np.sort(mins + lo).astype(float)
    pitch = _one_pitch(dips)
    if pitch is None:
        return none
    ratio = (hi - lo) / pitch
    n = int(np.round(ratio))
    if n < 3 or abs(ratio - n) > 0.3:
        return none
    ones = int(np.count_nonzero(np.abs(np.diff(dips) / pitch - 1.0) <= tol))
    if ones < max(2, cover * (n - 2)):
        return none
    # the dips are the boundaries of the even cut (not only at its pitch)
    step = (hi - lo) / n
    bounds = lo + step * np.arange(1, n)
    near = np.argmin(np.abs(bounds[:, None] - dips[None, :]), axis=1)
    on_cut = np.abs(bounds - dips[near]) <= tol * step
    if np.count_nonzero(on_cut) < cover * (n - 1):
        return none
    # each boundary at its dip where it has one (lanes are often a little unequal)
    bounds = np.where(on_cut, dips[near], bounds)
    edges = np.r_[lo, bounds, hi]
    centres = 0.5 * (edges[:-1] + edges[1:])
    return (centres + 0.5) / k - 0.5


def _row_shift(pa_prof, pb_prof, pitch, max_frac=0.85, ends=0.5):
    """Shift (working px) of row ``b`` against row ``a``: the shift of the centre of the
    row's extent (columns above 10 % of its column profile's maximum; the centre does
    not move with the band width), when both ends move alike (within ``ends`` pitches:
    an empty lane at one end moves one end only) and by less than ``max_frac``
    pitches (a whole-pitch shift is the same lane grid); else None."""
    sa, sb = _support(pa_prof), _support(pb_prof)
    if sa is None or sb is None:
        return None
    left, right = sb[0] - sa[0], sb[1] - sa[1]
    if abs(left - right) > ends * pitch:
        return None
    sh = 0.5 * (left + right)
    return float(sh) if abs(sh) < max_frac * pitch else None


def _ridge_segments(d, y0, y1, run_frac=0.2, depth=0.03, max_aspect=0.8):
    """Lanes along a band row from the valleys between touching bands.

    ``d`` is the block-averaged signal (not the opened foreground, whose flat
    tops hide shallow valleys).  The row's profile is, per column, the
    brightest value of the zone (so a sloping row is followed); bands that
    touch are separated at the valleys of that profile.  Returns lane centres
    (working columns) or an empty array when the segments are not regular.
    """
    zs = ndi.gaussian_filter(np.asarray(d[y0:y1], np.float64), (1.0, 1.0))
    if zs.shape[0] < 2:
        return np.array([])
    pr = zs.max(axis=0)
    pr = pr - float(np.median(pr))
    m = float(pr.max())
    if m <= 0:
        return np.array([])
    lab, n = ndi.label(pr > run_frac * m)
    runs = []
    for i in range(1, n + 1):
        xs = np.nonzero(lab == i)[0]
        a, b = int(xs[0]), int(xs[-1]) + 1
        if b - a < 3:
            continue
        v, _ = find_peaks(-pr[a:b], prominence=depth * m)
        bounds = [a] + [a + int(q) for q in v] + [b]
        runs.append([[l, r] for l, r in zip(bounds[:-1], bounds[1:])])
    widths = [r - l for run in runs for l, r in run]
    if len(widths) < 3:
        return np.array([])
    widths = np.asarray(widths, float)
    med = float(np.median(widths[widths >= 0.5 * widths.max()]))  # not text fragments
    # half-width pieces (a dip inside one band) join their narrower neighbour
    for run in runs:
        while len(run) > 1:
            w = [r - l for l, r in run]
            i = int(np.argmin(w))
            if w[i] >= 0.6 * med:
                break
            if i == 0:
                j = 1
            elif i == len(run) - 1:
                j = i - 1
            else:
                j = i - 1 if w[i - 1] <= w[i + 1] else i + 1
            a, b = min(i, j), max(i, j)
            run[a:b + 1] = [[run[a][0], run[b][1]]]
    segs = [s for run in runs for s in run if (s[1] - s[0]) >= 0.6 * med]  # specks dropped
    if len(segs) < 3:
        return np.array([])
    w = np.array([r - l for l, r in segs], float)
    med = float(np.median(w))
    if w.min() < 0.6 * med or w.max() > 1.6 * med:
        return np.array([])
    cents = []
    for l, r in segs:
        seg = pr[l:r]
        ww = np.maximum(seg - 0.5 * seg.max(), 0.0)
        xs = np.arange(l, r)
        cents.append(float((xs * ww).sum() / ww.sum()) if ww.sum() > 0 else 0.5 * (l + r - 1))
    cents = np.asarray(cents)
    # bands are wider than tall; letters of handwriting or text are not
    aspect = []
    for l, r in segs:
        v = zs[:, l:r].mean(axis=1)
        v = v - v.min()
        aspect.append(np.count_nonzero(v > 0.5 * v.max()) / float(r - l) if v.max() > 0 else 9.0)
    if np.median(aspect) > max_aspect:
        return np.array([])
    # neighbours sharing a valley must be about one lane pitch apart
    touching = np.array([segs[i][1] == segs[i + 1][0] for i in range(len(segs) - 1)])
    if touching.any():
        dc = np.diff(cents)[touching]
        if dc.min() < 0.7 * med or dc.max() > 1.4 * med:
            return np.array([])
    # and no two neighbours much closer than the typical pitch (a band split in two
    # beside whole bands; wide gaps stay: empty lanes, replicate groups)
    gaps = np.diff(cents)
    if float(gaps.min()) < 0.75 * float(np.median(gaps)):
        return np.array([])
    return cents


def _side_maxima(pr, cand, hmax):
    """Per column ``x`` of ``cand``: the running maxima of ``pr`` over ``[x - k, x - 1]``
    and ``[x + 1, x + k]`` for ``k = 1 .. hmax`` (arrays ``(len(cand), hmax)``), the
    profile continued by zeros beyond its ends."""
    pp = np.pad(np.asarray(pr, np.float64), hmax + 1, constant_values=0.0)
    c = np.asarray(cand, np.int64) + hmax + 1
    k = np.arange(1, hmax + 1)
    left = np.maximum.accumulate(pp[c[:, None] - k[None, :]], axis=1)
    right = np.maximum.accumulate(pp[c[:, None] + k[None, :]], axis=1)
    return left, right


def _dip_segments(d, y0, y1, pmin=5.0, run_frac=0.2, min_dip=0.15, lam=0.25, min_cover=0.6,
                  reduce="max", min_cut=0.1, support=None, pmax=None):
    """Lanes along a band row of touching bands from a regular run of dips.

    The row's profile (per column the brightest smoothed value of the zone, so a
    sloping row is followed, or the mean, see ``reduce``) must be one streak: above ``run_frac`` of its
    maximum over ``min_cover`` of its extent.  It is cut at local minima into segments of one lane
    pitch.  For each trial pitch ``p`` (5 px up to a third of the row's extent,
    in 5 % steps) a dynamic programme chooses the cuts that maximise: the depth
    of every cut's dip (``1 - value / lower neighbouring maximum``) less
    ``min_dip`` per cut (a cut must be paid for by a dip), less the deepest dip
    left inside a segment (a skipped lane boundary: rules out twice the pitch),
    less ``lam`` x the squared deviation of the segment widths from ``p`` in
    quarter pitches (segments from 0.6 p to 1.5 p; end segments, which end at
    the band's end, from 0.4 p, free from 0.6 p to ``p``).  A cut needs a dip of at least
    ``min_cut`` (a dim spot or an uneven top inside a band is no lane boundary, however
    well a cut there would even out the widths); ``lam`` is kept small, because real
    lanes are often unequal (a squeezed gel) and a clear dip must win over regular
    widths.  The best-scoring pitch wins.  Unlike
    :func:`_ridge_segments` this tolerates dark spots inside bands and weak or
    uneven dips, because the cuts are chosen together.

    ``reduce``: "max" takes per column the brightest value of the zone (dips
    between band tops), "mean" its mean over the zone's rows (touching bands
    are thinner where they meet: the band ends show the lane boundary).

    Returns ``(centres, mean dip depth)`` (working columns) or ``(empty, 0)``.
    """
    zs = ndi.gaussian_filter(np.asarray(d[y0:y1], np.float64), (1.0, 1.0))
    pr = zs.max(axis=0) if reduce == "max" else zs.mean(axis=0)
    pr = pr - float(np.percentile(pr, 5))  # level between and beside the bands
    if support is not None:
        pr[:support[0]] = np.minimum(pr[:support[0]], 0.0)
        pr[support[1]:] = np.minimum(pr[support[1]:], 0.0)
    m = float(np.percentile(pr, 99.5))
    none = (np.array([]), 0.0)
    if m <= 0:
        return none
    on = pr > run_frac * m
    lab, _ = ndi.label(on)
    runs = [(s[0].start, s[0].stop) for s in ndi.find_objects(lab)]
    if not runs:
        return none
    longest = max(r - l for l, r in runs)
    runs = [(l, r) for l, r in runs if r - l >= max(3, 0.1 * longest)]  # specks apart
    a, b = runs[0][0], runs[-1][1]
    L = b - a
    if on[a:b].mean() < min_cover:
        return none  # not one streak of touching bands
    seg = pr[a:b]
    mins, _ = find_peaks(-seg, prominence=0.02 * m)  # noise wiggles are no candidates
    cand = np.r_[a, mins + a, b].astype(int)
    K = len(cand)
    if K > 200:
        return none
    best = None
    p = pmin
    inner_c = cand[1:-1]
    # the highest value within h columns left and right of each inner candidate, for every
    # h the pitches below need: running maxima outward from each candidate, computed once
    # (zero beyond the profile's ends, as a zero-padded sliding window)
    p_last = pmin
    top = L / 3.0 if pmax is None else min(L / 3.0, float(pmax))
    while p_last * 1.05 <= top:
        p_last *= 1.05
    left_max, right_max = _side_maxima(pr, inner_c, max(2, int(round(0.6 * p_last))))
    cx = cand.tolist()
    while p <= top:
        h = max(2, int(round(0.6 * p)))
        # highest value within h columns left ([x-h, x-1]) and right ([x+1, x+h])
        ref = np.minimum(left_max[:, h - 1], right_max[:, h - 1])
        gain = np.zeros(K)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain[1:-1] = np.where(ref > 0, 1.0 - np.clip(pr[inner_c] / ref, 0.0, 1.0), 0.0)
        g = gain.tolist()
        score = [-math.inf] * K
        score[0] = 0.0
        prev = [-1] * K
        lo_end, lo_mid, hi_w, q = 0.4 * p, 0.6 * p, 1.5 * p, 0.25 * p
        for j in range(1, K):
            cj = cx[j]
            last = j == K - 1
            if not last and g[j] < min_cut:
                continue  # no dip: never a lane boundary, whatever the widths
            pay = 0.0 if last else g[j] - min_dip
            inner = 0.0  # deepest dip left inside the segment (cand[i], cand[j])
            best_j, arg = -math.inf, -1
            for i in range(j - 1, -1, -1):
                if i < j - 1:
                    inner = max(inner, g[i + 1])
                w = cj - cx[i]
                if w > hi_w:
                    break
                si = score[i]
                if si == -math.inf:
                    continue
                end = i == 0 or last
                if w < (lo_end if end else lo_mid):
                    continue
                wc = 0.0 if end and lo_mid <= w <= p else ((w - p) / q) ** 2
                sc = si - inner - lam * wc + pay
                if sc > best_j:
                    best_j, arg = sc, i
            score[j], prev[j] = best_j, arg
        if score[-1] > -np.inf and (best is None or score[-1] > best[0]):
            path = [K - 1]
            while path[-1] > 0:
                path.append(int(prev[path[-1]]))
            best = (float(score[-1]), path[::-1], gain)
        p *= 1.05
    if best is None or len(best[1]) < 4:
        return none
    path, gain = best[1], best[2]
    cuts = cand[path]
    cents = []
    for l, r in zip(cuts[:-1], cuts[1:]):
        sg = pr[l:r]
        ww = np.maximum(sg - 0.5 * sg.max(), 0.0)
        xs = np.arange(l, r)
        cents.append(float((xs * ww).sum() / ww.sum()) if ww.sum() > 0 else 0.5 * (l + r - 1))
    return np.asarray(cents), float(np.mean(gain[path[1:-1]]))


def _seams(d, fg, zones):
    """Membrane seams between consecutive band zones (working rows, or None).

    Two membrane pieces meet at a seam where the membrane level drops towards
    the level off the membrane.  The membrane level of a row is the 20th
    percentile across the central lane columns (lane gaps show the membrane,
    not the bands; marker dashes at the sides are left out); the level off
    the membrane is the median of the image border.  The columns are split
    into thirds (a tilted strip's seam is not level).  Between zones ``a``
    and ``b`` the membrane level is the lower of the gap's two ends (just
    below ``a``, just above ``b``); the gap is a seam when its dip falls, in
    the median of the thirds, at least 40 % of the way from that level to the
    off-membrane level (and 20 % in every third: a seam crosses the whole
    membrane).  The membrane (the upper quartile of the level over band-free
    rows) and the gap ends must stand 20 noise sigmas above the border, so a
    membrane (or film, or dot blot) that fills the image never splits.  A gap
    darker than the border is itself off the membrane (the border may hold
    membrane), so its dip sets the off level there.

    Returns a list (one entry per consecutive zone pair): the seam row
    (working px, median over the thirds) or None.
    """
    out = [None] * max(0, len(zones) - 1)
    if len(zones) < 2:
        return out
    colw = (fg > 0).sum(axis=0)
    cols = np.flatnonzero(colw > 0.2 * colw.max())
    if len(cols) < 10:
        return out
    ds = np.asarray(d, np.float32)  # percentiles below are robust to specks
    by, bx = max(2, ds.shape[0] // 25), max(2, ds.shape[1] // 25)
    ring = np.concatenate([ds[:by].ravel(), ds[-by:].ravel(), ds[:, :bx].ravel(),
                           ds[:, -bx:].ravel()])
    off = float(np.median(ring))
    inzone = np.zeros(ds.shape[0], bool)
    for z0, z1 in zones:
        inzone[z0:z1] = True
    if inzone.all():
        return out
    span = cols[-1] - cols[0]
    thirds = np.array_split(np.arange(cols[0] + int(0.2 * span),
                                      cols[-1] - int(0.2 * span) + 1), 3)
    # the profiles' noise is never below the data's quantization (a JPEG of
    # integer grey levels: the percentiles of flat membrane repeat one level, and
    # a dip of one grey level would pass any multiple of their spread)
    sample = ds[::max(1, ds.shape[0] // 64), ::max(1, ds.shape[1] // 64)].ravel()
    steps = np.diff(np.unique(sample))
    qfloor = float(steps.min()) / math.sqrt(12.0) if len(steps) else 0.0
    profs, sig, levels = [], [], []
    for t in thirds:
        p = ndi.uniform_filter1d(np.percentile(ds[:, t], 20, axis=1), 3)
        q = p[~inzone]
        dq = np.diff(q) if len(q) > 2 else np.zeros(1)
        profs.append(p)
        levels.append(float(np.percentile(q, 75)))
        sig.append(max(1.4826 * float(np.median(np.abs(dq - np.median(dq)))) / math.sqrt(2),
                       qfloor, 1e-9))
    for i, ((a0, a1), (b0, b1)) in enumerate(zip(zones[:-1], zones[1:])):
        if b0 - a1 < 4:
            continue
        depth, ys = [], []
        for p, sg, lev in zip(profs, sig, levels):
            gap = p[a1:b0]
            dip = float(gap.min())
            m = min(float(np.median(gap[:3])), float(np.median(gap[-3:])))
            # a gap darker than the image border is off the membrane itself (the
            # border may hold membrane, or glow)
            floor = min(off, dip)
            ok = m - floor > 20 * sg and lev - off > 20 * sg
            depth.append(min(1.0, (m - dip) / (m - floor)) if ok else 0.0)
            ys.append(a1 + int(np.argmin(gap)))
        if float(np.median(depth)) >= 0.4 and min(depth) >= 0.2:
            out[i] = float(np.median(ys))
        elif all(lev - off > 20 * sg for sg, lev in zip(sig, levels)):
            out[i] = _slanted_seam(ds, a1, b0, thirds, off, 20 * max(sig))
    return out


def _slanted_seam(ds, a1, b0, thirds, off, min_height, max_deg=5.0, min_line=0.4,
                  min_third=0.25):
    """A membrane edge line between rows ``a1`` and ``b0`` that need not be level.

    Two touching membranes laid at slightly different angles meet along a thin
    sloping line: a dark gap, or the bright glow of the upper membrane's cut edge
    where the pieces overlap (often both, one along each part of the seam).  A
    level row average blurs such a line away.  Straight lines at angles up to
    ``max_deg`` are searched: along each, per third of the central columns, the
    20th percentile across the third's columns (a line crosses the whole
    membrane; a speck or a band end does not) is compared with the membrane
    level of the gap (its median over the gap's rows).  A dark line counts by its
    drop below that level, a bright one by its rise above the higher of its two
    sides 3-6 rows away (a thin ridge; the tails of a band row fall off
    steadily and make none), both as a fraction of the membrane's height above
    the off-membrane level ``off``; the membrane must stand ``min_height`` above
    that level in every third (else the membrane fills the image).  A seam needs ``min_line`` in the median of
    the thirds and ``min_third`` in every third, at one line within two rows, and a
    dark gap of ``min_line`` in one third at least: a bright line alone is a band
    row (a faint row between two main rows, sloping with a tilted membrane).
    Returns the seam row (working px, at the centre column) or None.
    """
    g0, g1 = a1 + 2, b0 - 2          # rows next to the zones hold band tails
    if g1 - g0 < 5:
        return None
    cols = np.concatenate(thirds)
    xc = 0.5 * (float(cols[0]) + float(cols[-1]))
    half = max(1.0, 0.5 * (float(cols[-1]) - float(cols[0])))
    tmax = math.tan(math.radians(max_deg))
    H = ds.shape[0]
    pad = int(math.ceil(tmax * half)) + 7
    rows = np.arange(max(0, g0 - pad), min(H, g1 + pad))
    inside = (rows >= g0) & (rows < g1)
    for th in thirds:  # the membrane must stand above the off level (level rows suffice)
        if float(np.median(ds[g0:g1][:, th])) - off <= min_height:
            return None
    best = None
    thirds = [th[::2] for th in thirds]  # every other column: plenty for a percentile
    # angle steps move the line by 2 rows at the far ends (the +-2 row window below)
    for t in np.arange(-tmax, tmax + 1.0 / half, 2.0 / half):
        ev, dk = [], []
        for th in thirds:
            sh = np.round((th - xc) * t).astype(int)
            ys = np.clip(rows[:, None] + sh[None, :], 0, H - 1)
            kth = int(0.2 * (len(th) - 1))   # 20th percentile, without interpolation
            p = np.partition(ds[ys, th[None, :]], kth, axis=1)[:, kth]
            base = float(np.median(p[inside]))
            scale = base - off
            if scale <= min_height:
                ev = None
                break
            idx = np.flatnonzero(inside)
            lo = ndi.minimum_filter1d(p, 5, mode="nearest")[idx]   # rows j-2 .. j+2
            hi = ndi.maximum_filter1d(p, 5, mode="nearest")[idx]
            m4 = np.r_[np.lib.stride_tricks.sliding_window_view(p, 4).min(axis=1),
                       np.full(3, np.inf)]                        # min of rows i .. i+3
            above = np.where(idx >= 6, m4[np.maximum(idx - 6, 0)], np.inf)
            below = m4[np.minimum(idx + 3, len(m4) - 1)]
            side = np.maximum(above, below)
            dark = (base - lo) / scale
            bright = np.where(np.isfinite(side), (hi - side) / scale, 0.0)
            ev.append(np.maximum(dark, bright))
            dk.append(dark)
        if ev is None:
            continue
        ev = np.asarray(ev)                       # thirds x gap rows
        ok = (ev.min(axis=0) >= min_third) & (np.max(dk, axis=0) >= min_line)
        score = np.where(ok, np.median(ev, axis=0), 0.0)
        j = int(np.argmax(score))
        if best is None or score[j] > best[0]:
            best = (float(score[j]), g0 + j)
    if best is None or best[0] < min_line:
        return None
    return float(best[1])


def _inside_membrane(d, grp, centres, prom, shift=0.0):
    """Drop end lanes centred on or beyond the membrane edge (found lanes only).

    Where the image shows the membrane above a darker surround (camera images
    of cut membranes), the membrane's columns in the strip's rows are those
    whose median level stands above halfway between the surround (image
    border) and the membrane (upper quartile), in the strip's band-free rows
    (around and between its zones); an end lane whose centre lies
    less than 0.3 lane pitches inside that extent sits on the membrane edge (a
    marker dash, the edge's own glow) and is not a lane.  A membrane that
    fills the image is left alone: the membrane must stand at least 20 % above
    the border level and the columns beside it must lie near the border level.
    ``shift`` moves the (sheared) lane coordinates to image columns at the
    strip's rows (a tilted strip's lanes are not at their sheared coordinate).
    """
    c = np.asarray(centres, float)
    ds = np.asarray(d, np.float32)
    by, bx = max(2, ds.shape[0] // 25), max(2, ds.shape[1] // 25)
    off = float(np.median(np.concatenate([ds[:by].ravel(), ds[-by:].ravel(),
                                          ds[:, :bx].ravel(), ds[:, -bx:].ravel()])))
    # band-free rows of the strip: around and between its zones
    y0, y1 = grp[0].y0, grp[-1].y1
    h = max(5, (y1 - y0) // 2)
    rows = np.zeros(ds.shape[0], bool)
    rows[max(0, y0 - h):min(ds.shape[0], y1 + h)] = True
    for z in grp:
        rows[max(0, z.y0 - 2):z.y1 + 2] = False
    if rows.sum() < 3:
        return c, prom
    col = np.median(ds[rows], axis=0)
    mem = float(np.percentile(col, 75))
    dq = np.diff(col)
    sig = 1.4826 * float(np.median(np.abs(dq - np.median(dq)))) / math.sqrt(2) + 1e-9
    if mem - off < 20 * sig:
        return c, prom
    on = col > off + 0.5 * (mem - off)
    lab, n = ndi.label(on)
    if n == 0:
        return c, prom
    sizes = ndi.sum(on, lab, index=np.arange(1, n + 1))
    xs = np.nonzero(lab == 1 + int(np.argmax(sizes)))[0]
    xl, xr = float(xs[0]), float(xs[-1])
    # a real surround: columns beside the membrane lie near the border level
    outside = np.r_[col[:xs[0]], col[xs[-1] + 1:]]
    if (len(outside) < 0.03 * len(col)
            or float(np.median(outside)) > off + 0.25 * (mem - off)
            or mem - off < 0.2 * abs(mem)):
        return c, prom
    pitch = float(np.median(np.diff(np.sort(c))))
    cx = c + shift  # sheared lane coordinate -> image column at the strip's rows
    keep = (cx >= xl + 0.3 * pitch) & (cx <= xr - 0.3 * pitch)
    # only end lanes go (never a gap in the middle), at most one per end, and at
    # least 3 lanes stay
    order = np.argsort(c)
    ks = keep[order]
    lo = int(np.argmax(ks)) if ks.any() else 0
    hi = len(ks) - int(np.argmax(ks[::-1])) if ks.any() else len(ks)
    if hi - lo < 3 or lo > 1 or hi < len(ks) - 1:
        return c, prom  # more than one lane at an end: the membrane estimate is off
    sel = order[lo:hi]
    return c[sel], np.asarray(prom)[sel]


def _edge_step(prof, peaks, edge=0.03):
    """A zone that is no band row but edges: its foreground spans at least half
    the image width, stays below a quarter of its maximum over half of that
    extent or more (not one streak of touching bands), and fewer than two of
    its peaks lie inside the extent (beyond ``edge`` of the width from its ends).  The glow or step at the two
    edges of a film, a membrane or a scan margin gives "lanes" only at the ends
    of the zone; band rows have their peaks at band centres, inside."""
    W = len(prof)
    m = float(prof.max())
    if m <= 0:
        return False
    xs = np.flatnonzero(prof > 0.05 * m)
    a, b = int(xs[0]), int(xs[-1]) + 1
    if b - a < 0.5 * W or np.mean(prof[a:b] > 0.25 * m) >= 0.5:
        return False  # narrow, or one streak (touching bands)
    e = max(1, int(round(edge * W)))
    c = np.asarray(peaks, float)
    return int(np.count_nonzero((c >= a + e) & (c <= b - 1 - e))) < 2


def _touching(profile, peaks, depth=0.3):
    """Bands of a row touch (or merge) somewhere: between two neighbouring peaks
    of its column profile the profile stays above ``depth`` x the lower peak, or
    only one peak was found.  Separate bands leave deep valleys, and the column
    profile then already shows every lane (two bands with a deep valley between
    them are two separate bands, however wide)."""
    c = np.sort(np.clip(np.round(np.asarray(peaks, float)).astype(int), 0, len(profile) - 1))
    if len(c) < 2:
        return True
    p = _smooth(profile)
    return any(not _deep_between(p, a, b, depth) for a, b in zip(c[:-1], c[1:]))


def _valleys_at(profile, centres, depth=0.3):
    """Every boundary between neighbouring lane centres (found along a row of
    separate bands) lies at a valley of the row's column profile: somewhere
    within 0.2 pitches of the midpoint the profile falls at least ``depth``
    below the lower of the highest values on either side within one pitch.  A
    lane is as wide as its bands: a shallow dip inside a wide band, whose
    column profile runs on across it, is no lane boundary."""
    p = ndi.gaussian_filter1d(np.asarray(profile, float), 1.0)
    c = np.sort(np.asarray(centres, float))
    if len(c) < 2:
        return True
    n = len(p)
    for a, b in zip(c[:-1], c[1:]):
        g = b - a
        m = 0.5 * (a + b)
        lo = int(np.clip(np.floor(m - 0.2 * g), 0, n - 1))
        hi = int(np.clip(np.ceil(m + 0.2 * g), lo, n - 1))
        v = float(p[lo:hi + 1].min())
        left = float(p[int(np.clip(np.floor(a), 0, n - 1)):lo + 1].max())
        right = float(p[hi:int(np.clip(np.ceil(b), hi, n - 1)) + 1].max())
        if v > (1.0 - depth) * min(left, right):
            return False
    return True


def _boundary(y_above, y_below, seam_rows):
    """Row between two strips: the seam between them, else midway."""
    inside = [y for y in seam_rows if y_above <= y <= y_below]
    return float(inside[0]) if inside else 0.5 * (y_above + y_below)


def _borrow_pitch(found, d, yc, window=0.15, ease=0.5, fill=0.8):
    """Strips of one image usually come from one gel: a strip whose row of touching
    bands was cut into far fewer lanes than its extent holds at the lane pitch of
    another strip (a regular strip with the most lanes) is cut again along its rows
    with the pitch held within ``window`` of that pitch and the dip thresholds of
    :func:`_dip_segments` eased by ``ease`` (the pitch is known, so weaker dips may
    decide); kept when the cuts give more lanes, at least ``fill`` of the lanes its
    extent holds.  Dips are still needed: a row of a few wide lanes stays as it is.

    ``found``: (zones, lane centres, tan, deg) per strip; returns it updated.
    """
    ref = [f for f in found if len(f[1]) >= 4 and _regular(f[1])]
    if not ref:
        return found
    best = max(ref, key=lambda f: len(f[1]))
    pitch = float(np.median(np.diff(np.sort(best[1]))))
    out = []
    for f in found:
        grp, c, tan_s, tilt_s = f
        if f is best:
            out.append(f)
            continue
        new = None
        for z in sorted(grp, key=lambda z: -float(z.profile.sum())):
            sup = _support(z.profile)
            if sup is None:
                continue
            holds = (sup[1] - sup[0]) / pitch
            if len(c) >= fill * holds or holds < 3:
                continue
            for how in ("max", "mean"):
                rc, _ = _dip_segments(d, z.y0, z.y1, reduce=how, support=sup,
                                      pmin=(1 - window) * pitch, pmax=(1 + window) * pitch,
                                      min_dip=ease * 0.15, min_cut=ease * 0.1)
                if len(rc) > len(c) and len(rc) >= fill * holds and (
                        new is None or len(rc) > len(new)):
                    new = rc - (0.5 * (z.y0 + z.y1) - yc) * tan_s
            if new is not None:
                break
        out.append((grp, np.asarray(new) if new is not None else c, tan_s, tilt_s))
    return out


def _even(centres, tol=0.25):
    """Every gap between neighbouring centres within ``tol`` of their median."""
    g = np.diff(np.sort(np.asarray(centres, float)))
    return len(g) >= 2 and bool(np.all(np.abs(g / float(np.median(g)) - 1.0) < tol))


def _regular(peaks):
    """Lane-like spacing: neighbours about a whole number of pitches apart."""
    c = np.sort(np.asarray(peaks, float))
    if len(c) < 3:
        return True
    r = np.diff(c) / float(np.median(np.diff(c)))
    return bool(r.min() >= 0.5 and np.all((r <= 1.4) | (np.abs(r - np.round(r)) <= 0.3)))


def _inner_gaps(gaps):
    """Gaps between lanes without the end gaps to a far outlier (a ladder dash or
    marker far beyond the last lane): an end gap more than 3x the median of the
    other gaps does not tell the lane spacing."""
    g = np.asarray(gaps, float)
    if len(g) >= 4 and g[0] > 3.0 * float(np.median(g[1:])):
        g = g[1:]
    if len(g) >= 4 and g[-1] > 3.0 * float(np.median(g[:-1])):
        g = g[:-1]
    return g


def _merge_near(centres, prom, profile=None, deep=0.3, rows=()):
    """Lanes sorted, near-duplicate peaks merged: closer than 40 % of the typical
    spacing (the median gap, or the median of the gaps above 40 % of the largest
    when that is larger), the more prominent kept.  With the column ``profile``
    the centres were found on, two peaks with a deep valley between them (below
    ``deep`` x the lower peak, :func:`_deep_between`) are two bands, not
    duplicates, and stay; ``profile`` may also be a list of ``(profile, shift)``
    (the strip's rows, each with the shift from strip to row coordinates), and a
    deep valley in any of them counts.  ``rows``: ``(peaks, shift)`` of band
    rows; two peaks that one row shows as two of its own peaks (each within a
    quarter of their distance of a different peak of that row), one pitch of
    that row's closest peaks apart (:func:`_one_pitch`, 0.7-1.4 x), are two
    touching bands of that row, not one lane seen twice, and stay (replicate
    groups of touching lanes with wide gaps between the groups, whose median gap
    is no lane pitch).  Such a row shows at least three gaps of its pitch (within
    30 %): the letters of a short handwritten label do not.  Returns
    ``(centres, prom)`` as lists."""
    order = np.argsort(centres)
    c0 = list(np.asarray(centres, float)[order])
    p0 = list(np.asarray(prom, float)[order])
    if len(c0) < 3:
        return c0, p0
    if profile is None:
        profiles = []
    elif isinstance(profile, np.ndarray):
        profiles = [(_smooth(profile), 0.0)]
    else:
        profiles = [(_smooth(pf), sh) for pf, sh in profile]
    gaps = _inner_gaps(np.diff(c0))
    typical = float(np.median(gaps))
    big = gaps[gaps > 0.4 * gaps.max()]
    typical = max(typical, float(np.median(big)) if len(big) else typical)
    rows = [(np.sort(np.asarray(pk, float)), sh) for pk, sh in rows if len(pk) >= 3]
    rows = [(pk, sh, _one_pitch(pk)) for pk, sh in rows]
    # (a row of lanes: at least three gaps of its own pitch, four lanes)
    rows = [(pk, sh, q) for pk, sh, q in rows if q is not None and np.count_nonzero(
        np.abs(np.diff(pk) / q - 1.0) <= 0.3) >= 3]

    def _row_pair(a, b):
        tol = 0.25 * (b - a)
        for pk, sh, pitch in rows:
            if not 0.7 * pitch <= b - a <= 1.4 * pitch:
                continue
            ia, ib = np.argmin(np.abs(pk - a - sh)), np.argmin(np.abs(pk - b - sh))
            if (ia != ib and abs(pk[ia] - a - sh) < tol and abs(pk[ib] - b - sh) < tol):
                return True
        return False
    c, pr = [c0[0]], [p0[0]]
    for ci, pi in zip(c0[1:], p0[1:]):
        if ci - c[-1] < 0.4 * typical and not _row_pair(c[-1], ci) and not any(
                _deep_between(pf, c[-1] + sh, ci + sh, deep) for pf, sh in profiles):
            if pi > pr[-1]:
                c[-1], pr[-1] = ci, pi
        else:
            c.append(ci)
            pr.append(pi)
    return c, pr


def _fill_gaps(centres, prom, n_lanes, width, fill=True, merge=True):
    """Insert lanes in gaps of ~2x spacing; then force the count if given.

    Near-duplicates are merged first (:func:`_merge_near`, unless ``merge`` is
    False: done before, ahead of the faint-lane search).  A gap of 1.6-2.4
    spacings gets one empty lane; wider gaps are gaps between lane groups
    (replicates side by side) and stay (lanes seen in them were added by
    :func:`_faint_lanes`).  ``fill=False``: lanes found band by band along a
    row (groups of lanes with gaps between them are kept as they are; only a
    given count is forced).
    """
    if fill and merge:
        c, pr = _merge_near(centres, prom)
    else:
        order = np.argsort(centres)
        c = list(np.asarray(centres, float)[order])
        pr = list(np.asarray(prom, float)[order])
    if len(c) >= 2 and fill:
        # the pitch of the closest neighbours: with many empty (knocked-down) lanes
        # the median gap lies between one and two pitches
        spacing = _one_pitch(c) or float(np.median(np.diff(c)))
        out_c, out_p = [c[0]], [pr[0]]
        for a, b, pb in zip(c[:-1], c[1:], pr[1:]):
            g = b - a
            # a gap of about two pitches is an empty lane; a wider one is a gap
            # between lane groups (replicates) unless lanes were seen in it
            nmiss = 1 if 1.6 < g / spacing <= 2.4 else 0
            for j in range(nmiss):
                out_c.append(a + g * (j + 1) / (nmiss + 1))
                out_p.append(0.0)
            out_c.append(b)
            out_p.append(pb)
        c, pr = out_c, out_p
    if n_lanes is not None:
        while len(c) > n_lanes:
            # drop the weakest, preferring a lane at either end
            i = int(np.argmin(pr))
            del c[i], pr[i]
        if len(c) >= 2:
            spacing = float(np.median(np.diff(c)))
        elif len(c) == 1:
            spacing = width / (n_lanes + 1)
        else:
            c, pr = [width / (n_lanes + 1)], [0.0]
            spacing = width / (n_lanes + 1)
        found_c, found_p = list(c), list(pr)
        while len(c) < n_lanes:
            room_left, room_right = c[0], width - c[-1]
            if room_right >= room_left:
                c.append(c[-1] + spacing)
                pr.append(0.0)
            else:
                c.insert(0, c[0] - spacing)
                pr.insert(0, 0.0)
        if len(found_c) < n_lanes and (c[0] < -0.25 * spacing
                                       or c[-1] > width - 1 + 0.25 * spacing):
            # the given count does not fit at the spacing of the lanes found (an empty
            # lane between them doubles the apparent spacing): a regular grid of the
            # given count that fits and passes closest to the lanes found
            fitted = _grid_fit(found_c, found_p, n_lanes, width, spacing)
            if fitted is not None:
                c, pr = fitted
    return np.asarray(c, float), np.asarray(pr, float)


#: a lone lane spans its bands' foreground extent times this (margin for the tails
#: below the detection threshold), and at least a quarter of the image width x 0.9
LONE_LANE_MARGIN = 1.25


def _lone_lane_width(fg, grp, centre, tan_s, k, W):
    """Width (image px) of the only lane of a strip: the run of the strip's column
    profile (sheared by the strip's tilt) above a tenth of its peak that holds the
    lane centre ``centre`` (working px), times ``LONE_LANE_MARGIN``; at least
    0.9 x W / 4 (the rule before: a fixed share of the image) and at most ``W``."""
    prof = np.zeros(fg.shape[1])
    for z in grp:
        prof += _column_profile(fg, tan_s, z.y0, z.y1)
    floor = 0.9 * W / 4.0
    if not np.any(prof > 0):
        return floor
    runs, _ = ndi.label(prof > 0.1 * float(prof.max()))
    run = runs[int(np.clip(round(centre), 0, len(prof) - 1))]
    if run == 0:
        return floor
    extent = np.count_nonzero(runs == run) * k
    return float(min(W, max(floor, LONE_LANE_MARGIN * extent)))


def _grid_fit(found_c, found_p, n: int, width: float, spacing: float):
    """``n`` equally spaced lane centres inside ``[0, width)`` through the lanes found, or None.

    The pitch is the smallest gap between the lanes found, or half of it (every
    gap must be a whole multiple of the pitch: empty lanes between found ones),
    and ``n`` lanes at that pitch must fit in the width; the offset puts the
    lanes found (weighted by their strength) as close to grid positions as
    possible.  None when no such pitch exists (the count cannot fit).
    """
    fc = np.sort(np.asarray(found_c, float))
    gaps = np.diff(fc)
    base = float(gaps.min()) if len(gaps) else float(spacing)
    pitch = None
    # three or more lanes found at one regular spacing: that spacing is the pitch
    regular = len(gaps) >= 2 and np.all(np.abs(gaps / base - 1) < 0.2)
    for k in ((1,) if regular else (1, 2)):
        p = base / k
        if n * p > 1.02 * width or p <= 0:
            continue
        if len(gaps) and np.any(np.abs(gaps / p - np.rint(gaps / p)) > 0.2):
            continue
        pitch = p
        break
    if pitch is None:
        return None
    w = np.asarray(found_p, float)[np.argsort(np.asarray(found_c, float))] + 1e-6
    lo, hi = 0.25 * pitch, width - 0.25 * pitch - (n - 1) * pitch
    if hi < lo:
        lo = hi = max(0.0, (width - (n - 1) * pitch) / 2.0)
    best, best_cost = lo, np.inf
    for x0 in np.arange(lo, hi + 0.5, 0.5):
        grid = x0 + pitch * np.arange(n)
        cost = float((w * np.min(np.abs(fc[:, None] - grid[None, :]), axis=1)).sum())
        if cost < best_cost:
            best, best_cost = x0, cost
    grid = best + pitch * np.arange(n)
    prom = [float(w[np.argmin(np.abs(fc - g))]) if len(fc) and
            np.min(np.abs(fc - g)) < 0.3 * pitch else 0.0 for g in grid]
    return list(grid), prom


def _lane_counts(n_lanes):
    """``None``, or a tuple of lane counts (one for all strips, or one per strip)."""
    if n_lanes is None:
        return None
    items = tuple(n_lanes) if isinstance(n_lanes, (tuple, list, np.ndarray)) else (n_lanes,)
    if not items or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1
                        for v in items):
        raise ParameterError(f"lanes must be a positive whole number or one per strip "
                             f"(e.g. 10 or (10, 9)), got {n_lanes!r}")
    return tuple(int(v) for v in items)


_HOW_COUNTS = ("Give one count for every strip, top to bottom (10,9); one count for all "
               "strips (10); or, for one strip whose lane groups lie side by side, one "
               "count per group, left to right (4,3,4)")


def _found_text(signal, max_tilt_deg, sensitivity, one_membrane) -> str:
    """What the lane finder sees without a count: strips, their lanes and positions
    (for an error message about given counts)."""
    try:
        det = detect_lanes(signal, None, max_tilt_deg=max_tilt_deg, sensitivity=sensitivity,
                           return_details=True, one_membrane=one_membrane)
    except (AnalysisError, ParameterError):
        return "without a count no lanes are found"
    parts = []
    for si, (top, bottom) in enumerate(det.strips, start=1):
        xs = sorted(float(ln.x_at(0.5 * (top + bottom))) for ln in det.lanes if ln.strip == si)
        if xs:
            parts.append(f"strip {si}: rows {top}-{bottom}, {len(xs)} lanes at x "
                         f"{xs[0]:.0f}-{xs[-1]:.0f} ({det.strip_source[si - 1]})")
    return "without a count the image shows " + "; ".join(parts)


def _check_fit(centres, n, width, k, strip):
    """Forced lanes must lie inside the image: else the count cannot fit."""
    c = np.asarray(centres, float)
    pitch = float(np.median(np.diff(c))) if len(c) > 1 else float(width)
    if len(c) == n and c.min() >= -0.25 * pitch and c.max() <= width - 1 + 0.25 * pitch:
        return
    room = int(max(1, (width + 0.5 * pitch) // max(pitch, 1e-9)))
    raise AnalysisError(
        f"{n} lanes do not fit in strip {strip}: its lanes are {pitch * k:.0f} px apart and the "
        f"image is {width * k} px wide, room for about {room}; give a smaller lane count, "
        f"or lane_geometry")


def _match_fraction(a, b, tol):
    """Fraction of the lanes of the smaller of ``a`` and ``b`` matching one of the
    other's after the best common shift (a tilt moves all lanes of a lower strip
    alike; different lane sets do not line up).

    The shift is the median offset of the smaller set's lanes to their nearest
    lanes of the larger set: every lane of the smaller set should have a partner,
    while the larger set's extra lanes have none and their offsets would set the
    shift.  So the fraction is the same whichever row comes first (an image and its
    flip); for two sets of one size it is the better of the two ways.  One lane
    fits anywhere after a shift, so it never shows that it lines up with several
    (0).
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 1 and len(b) > 1:
        return 0.0
    if len(a) == len(b):
        return max(_match_smaller(a, b, tol), _match_smaller(b, a, tol))
    return _match_smaller(a, b, tol)


def _match_smaller(a, b, tol):
    """:func:`_match_fraction` with ``a`` the set whose lanes are matched."""
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    dd = b[None, :] - a[:, None]
    nearest = dd[np.arange(len(a)), np.argmin(np.abs(dd), axis=1)]
    shift = float(np.median(nearest))
    d = np.abs((a + shift)[:, None] - b[None, :])
    matched = (d.min(axis=1) < tol).sum()
    return matched / min(len(a), len(b))


def _norm(p):
    m = float(p.max()) if len(p) else 0.0
    return p / m if m > 0 else p


def _lane_slopes(fg, labels, objs, centres, spacing, y0, y1):
    """Per-lane slopes (working px of column per row) from band blobs of the same lane
    in different rows between ``y0`` and ``y1``, their weights and their support
    (per lane: the number of blobs and the RMS residual of the line fit, px)."""
    per_lane = {}
    for i, sl in enumerate(objs, start=1):
        if sl is None:
            continue
        if sl[0].stop <= y0 or sl[0].start >= y1:
            continue
        if (sl[1].stop - sl[1].start) > 1.3 * spacing:
            continue  # merged across lanes
        m = labels[sl] == i
        w = fg[sl] * m
        tot = float(w.sum())
        if tot <= 0:
            continue
        yy, xx = np.ogrid[sl[0].start:sl[0].stop, sl[1].start:sl[1].stop]  # broadcast: same products
        yc, xc = float((yy * w).sum() / tot), float((xx * w).sum() / tot)
        j = int(np.argmin(np.abs(centres - xc)))
        if abs(centres[j] - xc) < 0.4 * spacing:
            per_lane.setdefault(j, []).append((yc, xc, tot, sl[0].stop - sl[0].start))
    slopes, weights, support = [], [], []
    for j, pts in per_lane.items():
        if len(pts) < 2:
            continue
        a = np.array(pts)
        if a[:, 0].max() - a[:, 0].min() < 2.0 * np.median(a[:, 3]):
            continue
        b, b0 = np.polyfit(a[:, 0], a[:, 1], 1, w=np.sqrt(a[:, 2]))
        slopes.append(b)
        weights.append(float(a[:, 2].sum()) * (a[:, 0].max() - a[:, 0].min()) ** 2)
        res = a[:, 1] - (b * a[:, 0] + b0)
        support.append((len(a), float(np.sqrt(np.mean(res ** 2)))))
    return (np.asarray(slopes, float), np.asarray(weights, float),
            np.asarray(support, float).reshape(-1, 2))


def _agree(sl):
    """Median and MAD of lane slopes ``sl``, or None when the lanes disagree (a real
    tilt moves all lanes alike; offsets between rows of different strips or merged
    bands do not) or fewer than two lanes show a slope."""
    if len(sl) < 2:
        return None
    med = float(np.median(sl))
    mad = float(np.median(np.abs(sl - med)))
    if mad > max(0.35 * abs(med), 0.005):
        return None
    return med, mad


def _strip_tilt(fg, labels, objs, centres, spacing, y0, y1, max_tilt_deg):
    """Lane tilt (deg) from band blobs of the same lane in different rows.

    A real tilt moves all lanes alike, so the lanes' slopes must agree.  When
    they do not, a lane whose slope rests on :data:`COLLINEAR_BLOBS` blobs or
    more lying on one line (fit residual at most :data:`COLLINEAR_RES` pitches,
    within the tilt searched, and carrying at least :data:`COLLINEAR_WEIGHT` of
    the largest lane's evidence: a ladder's stacked markers) still shows the
    lane direction, while a slope through two blobs fits any pair (a stray
    blob paired with a band): such collinear lanes, when they agree, set the
    tilt alone.
    """
    slopes, weights, sup = _lane_slopes(fg, labels, objs, centres, spacing, y0, y1)
    if len(slopes) >= 2 and _agree(slopes) is None:
        strong = ((sup[:, 0] >= COLLINEAR_BLOBS) & (sup[:, 1] <= COLLINEAR_RES * spacing)
                  & (np.abs(slopes) <= math.tan(math.radians(max_tilt_deg)))
                  & (weights >= COLLINEAR_WEIGHT * weights.max()))
        if not strong.any() or (strong.sum() >= 2 and _agree(slopes[strong]) is None):
            return 0.0
        slopes, weights = slopes[strong], weights[strong]
    elif _agree(slopes) is None:
        return 0.0
    order = np.argsort(slopes)
    cw = np.cumsum(weights[order])
    b = float(slopes[order][np.searchsorted(cw, 0.5 * cw[-1])])
    t = math.degrees(math.atan(b))
    t = max(-max_tilt_deg, min(max_tilt_deg, t))
    return t if abs(t) >= 0.05 else 0.0


def _rows_tilt(fg, labels, objs, grp, rel, min_dist, max_tilt_deg):
    """The lane tilt measured on the band rows ``grp`` (zones of one strip) as the
    range of slopes ``(lo, hi)`` (working px of column per row) it may have; None
    when the rows show no tilt of their own (one row; touching bands whose blobs
    merge; lanes that disagree).

    The slopes of the lanes are read from their band blobs in different rows (as
    :func:`_strip_tilt`); the range is their median +- twice its standard error
    (1.25 x 1.4826 MAD / sqrt(n)), at least ``TILT_UNCERTAINTY`` deg either side.
    """
    if len(grp) < 2:
        return None
    prof = sum(_norm(z.profile) for z in grp)
    c, _ = _peaks(prof, rel, min_dist, deep=0.3)
    if len(c) < 2:
        return None
    sl, _, _ = _lane_slopes(fg, labels, objs, np.asarray(c, float),
                         float(np.median(np.diff(c))), grp[0].y0, grp[-1].y1)
    if _agree(sl) is None:
        return None
    med = float(np.median(sl))
    if abs(math.degrees(math.atan(med))) > max_tilt_deg:
        return None
    se = 1.25 * 1.4826 * float(np.median(np.abs(sl - med))) / math.sqrt(len(sl))
    half = max(2.0 * se, math.tan(math.radians(TILT_UNCERTAINTY)))
    return med - half, med + half


def _pair_tilt(za, zb, row_lanes, zpk, max_tilt_deg):
    """The lane tilt two band rows ``za`` and ``zb`` (zones) show by their lanes along
    the rows, as the range of slopes ``(lo, hi)`` (working px of column per row) it
    may have, or None.

    The lanes along each row (``row_lanes(zone, ref_max)``, ``ref_max`` the peak of
    the brighter row, from ``zpk``) must be as many in both rows (at least 3) and
    move alike (the median deviation of their offsets under 0.15 lane pitches), and
    their median offset over the rows' distance must be a tilt within
    ``max_tilt_deg``.  The range is that slope +- twice its standard error
    (1.25 x 1.4826 MAD / sqrt(n) over the distance), at least ``TILT_UNCERTAINTY``
    deg either side, as :func:`_rows_tilt` gives it from band blobs.
    """
    both = max(zpk[(za.y0, za.y1)], zpk[(zb.y0, zb.y1)])
    la, lb = np.sort(row_lanes(za, both)), np.sort(row_lanes(zb, both))
    dy = 0.5 * (zb.y0 + zb.y1 - za.y0 - za.y1)
    if len(la) != len(lb) or len(la) < 3 or dy == 0:
        return None
    dd = lb - la
    pa = float(np.median(np.diff(la)))
    sh = float(np.median(dd))
    mad = float(np.median(np.abs(dd - sh)))
    if mad >= 0.15 * pa:
        return None
    slope = sh / dy
    if abs(math.degrees(math.atan(slope))) > max_tilt_deg:
        return None
    half = max(2.0 * 1.25 * 1.4826 * mad / math.sqrt(len(dd)) / abs(dy),
               math.tan(math.radians(TILT_UNCERTAINTY)))
    return slope - half, slope + half


def _interleaved_tilt(fg, grp, zw, spacing, n_peaks, max_tilt_deg, rel, min_dist):
    """Lane tilt (deg) of a strip whose band rows interleave their lanes in the
    strip's column profile, or 0.

    Tilted lanes move each band row sideways by the tilt times its distance from
    the other rows.  Over a tall strip (two membrane pieces cut from one gel, far
    apart) the rows' peaks then interleave in the strip's summed column profile:
    its peak distance ``spacing`` falls below 3/4 of the lane pitch of the rows
    themselves, or its ``n_peaks`` peaks are over 1.25 times the row's lanes, and
    :func:`_strip_tilt` pairs no band with the same lane's band in the other row
    (each sits nearest its own row's peak; bands wider than 1.3 such distances
    count as merged).  The tilt then comes from the rows: the sideways
    shift of the row farthest from the row with the most lanes, first from the
    ends of their extents (:func:`_row_shift`; unique where a shift by the pitch
    is not), then from its lanes paired with the nearest lanes of the reference
    row; accepted when the lanes agree (median deviation < 0.15 pitch), the tilt
    is within ``max_tilt_deg``, and the strip's profile sheared by it no longer
    interleaves.
    """
    rows = [z for z in grp if len(z.peaks) >= 3]
    if len(rows) < 2:
        return 0.0
    ref = max(rows, key=lambda z: (len(z.peaks), float(z.profile.sum())))
    la = np.sort(np.asarray(ref.peaks, float))
    pitch = float(np.median(np.diff(la)))
    if spacing >= 0.75 * pitch and n_peaks <= 1.25 * len(la):
        return 0.0  # the rows' peaks coincide: no interleaving
    yr = 0.5 * (ref.y0 + ref.y1)
    other = max((z for z in rows if z is not ref), key=lambda z: abs(0.5 * (z.y0 + z.y1) - yr))
    dy = 0.5 * (other.y0 + other.y1) - yr
    if abs(dy) < 2 * pitch:
        return 0.0
    sh = _row_shift(ref.profile, other.profile, pitch, max_frac=1e9)
    if sh is None:
        return 0.0
    lb = np.sort(np.asarray(other.peaks, float)) - sh
    res = lb - la[np.argmin(np.abs(lb[:, None] - la[None, :]), axis=1)]
    med = float(np.median(res))
    if float(np.median(np.abs(res - med))) >= 0.15 * pitch:
        return 0.0
    tan_s = (sh + med) / dy
    t = math.degrees(math.atan(tan_s))
    if abs(t) > max_tilt_deg or abs(t) < 0.05:
        return 0.0
    # (the rows sheared by the tilt show one lane set)
    prof = sum(w * _norm(_column_profile(fg, tan_s, z.y0, z.y1)) for w, z in zip(zw, grp))
    c, _ = _peaks(prof, rel, min_dist, deep=0.3)
    if len(c) < 3 or float(np.median(np.diff(c))) < 0.75 * pitch:
        return 0.0
    return t


def detect_lanes(signal: np.ndarray, n_lanes: int | None = None, *,
                 max_tilt_deg: float = 5.0, sensitivity: float = 0.5,
                 lane_width: float | None = None, return_details: bool = False,
                 one_membrane: bool = False, _force_groups: bool = False):
    """Find lanes in a signal image (bands bright).

    Parameters
    ----------
    signal : 2-D array
        Bands bright (invert dark-on-light images first).
    n_lanes : int or tuple of int, optional
        Number of lanes: one count for every strip, or one per strip, top to
        bottom (``(10, 9)``).  None: found from the image, strip by strip.
        Several counts for an image whose lanes form one strip are counts per
        group of lanes side by side, left to right (``(4, 3, 4)``: replicate
        groups on one film); their sum of lanes is found and parted into one
        strip per group (:func:`~blotquant.blot.groups.part_given`).  A count
        that does not fit in the image raises ``AnalysisError``; counts that
        fit neither reading (several strips one above another, or groups that
        printed group lines or wide gaps show otherwise) raise
        ``ParameterError`` with what was found.
    max_tilt_deg : float
        Largest lane tilt searched (0 disables tilt estimation).
    sensitivity : float in (0, 1]
        Higher finds weaker lanes (peak prominence threshold
        ``0.25 * (1 - sensitivity) + 0.02`` of the strongest lane).
    lane_width : float, optional
        Lane width in px; default 0.9 x the distance to the nearest lane.
    return_details : bool
        Also return a :class:`LaneDetection`.
    one_membrane : bool
        The image is one membrane piece (a framed panel of a figure page): rows
        whose lanes do not line up stay in one strip; only a membrane seam
        parts them.
    _force_groups : bool
        Internal, not for callers: the second pass for counts per side-by-side
        group (``n_lanes=(4, 3, 4)`` on one strip), which forces their sum
        when the lanes found are another number.

    Returns
    -------
    list of Lane (or LaneDetection if ``return_details``)

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((100, 300), np.float32)
    >>> for x in (40, 100, 220, 280):   # lane at x=160 is empty
    ...     img[40:50, x - 15:x + 16] = 50
    >>> [round(l.x_at(45)) for l in detect_lanes(img)]
    [40, 100, 160, 220, 280]
    >>> len(detect_lanes(img, n_lanes=5))
    5
    """
    a = np.asarray(signal, dtype=np.float32)
    if a.ndim != 2 or min(a.shape) < 8:
        raise ParameterError(f"lane detection needs a 2-D image of at least 8x8 px, got {a.shape}")
    counts = _lane_counts(n_lanes)
    if not 0 < sensitivity <= 1:
        raise ParameterError(f"sensitivity must be in (0, 1], got {sensitivity!r}")
    H, W = a.shape
    fg, k = foreground(a)
    dblock = _block_mean(a, k)
    if not np.any(fg > 0):
        raise AnalysisError("no bands found: the image has no structure above its noise; "
                            "check the polarity or give lane_geometry")
    tilt = 0.0
    tan_t = 0.0
    zones = _zones(fg, tan_t, with_parent=True)
    if not zones:
        zones = [(0, fg.shape[0], 0)]
    rel = 0.25 * (1.0 - sensitivity) + 0.02
    Wk = fg.shape[1]
    full = _column_profile(fg, tan_t, 0, fg.shape[0])
    pk_all, _ = _peaks(full, rel, 3)
    if len(pk_all) >= 2:
        min_dist = 0.5 * float(np.median(np.diff(np.sort(pk_all))))
        # lane groups with gaps and empty lanes between them: the median gap is
        # two pitches or more, and half of it would suppress a neighbour's peak one
        # pitch away; the distance stays below 3/4 of the closest neighbours' pitch
        one = _one_pitch(pk_all)
        if one is not None:
            min_dist = min(min_dist, 0.75 * one)
    else:
        min_dist = max(3, Wk / 40)
    zinfo = []
    for (y0, y1, parent) in zones:
        prof = _column_profile(fg, tan_t, y0, y1)
        c, p = _peaks(prof, rel, min_dist, deep=0.3)
        if len(c) and not _edge_step(prof, c):
            zinfo.append(_Zone(y0, y1, c, p, prof, parent))
    if not zinfo:
        raise AnalysisError("no lanes found; give the lane count or lane_geometry")
    # group zones into strips: consecutive zones whose lanes line up.  Zones
    # with fewer than 3 lanes (ladder-only rows, specks) join the nearest group.
    major = [z for z in zinfo if len(z.peaks) >= 3] or list(zinfo)
    ridge = {(z.y0, z.y1): _ridge_segments(dblock, z.y0, z.y1) for z in zinfo}
    zpk = {(z.y0, z.y1): float(fg[z.y0:z.y1].max()) for z in zinfo}
    dips: dict = {}

    def _along(z, ref_max):
        """Lanes along the row of zone ``z`` (valleys between its bands, or the cut
        by dips for a row at least half as bright as ``ref_max``); may be empty."""
        key = (z.y0, z.y1)
        r = ridge[key]
        if len(r) >= 2 and not _touching(z.profile, z.peaks):
            # separate bands: a valley cut through the centre of a band the column
            # profile shows on its own (a dim centre, a split band) is no lane boundary
            cuts = 0.5 * (r[:-1] + r[1:])
            tol = 0.2 * float(np.median(np.diff(r)))
            if (np.any(np.min(np.abs(cuts[:, None] - np.asarray(z.peaks)[None, :]), axis=1) < tol)
                    or not _valleys_at(z.profile, r)):
                r = np.array([])
        if zpk[key] >= 0.5 * ref_max and len(z.peaks) >= 2 and (
                _touching(z.profile, z.peaks) or _touching(z.profile, _fine_peaks(z))):
            if key not in dips:
                # the row's brightest value per column (dips between band tops)
                # and its mean (bands thin where they meet: band ends), where the
                # text-free foreground shows the row (not printed labels beside it)
                dips[key] = [_dip_segments(dblock, z.y0, z.y1, reduce=how,
                                           support=_support(z.profile))
                             for how in ("max", "mean")]
            for dc, depth in dips[key]:
                if depth >= 0.1 and len(dc) > max(len(r), 0):
                    r = dc
        return r

    def _bar_lanes(z, ref_max):
        """Lanes of a bright row of touching bands from its regular dips at full
        resolution (:func:`_periodic_dips`); may be empty."""
        if not (zpk[(z.y0, z.y1)] >= 0.5 * ref_max and len(z.peaks) >= 2 and (
                _touching(z.profile, z.peaks) or _touching(z.profile, _fine_peaks(z)))):
            return np.array([])
        return _periodic_dips(a, z.y0, z.y1, _support(z.profile), k)

    def _fine_peaks(z):
        # peaks closer than the image-wide lane distance: two touching lanes that
        # the coarse column profile shows as one peak
        return _peaks(z.profile, rel, 3)[0]

    def _row_lanes(z, ref_max):
        r = _along(z, ref_max)
        return r if len(r) >= len(z.peaks) else np.asarray(z.peaks, float)

    labels, nlab = ndi.label(fg > 0)
    objs = ndi.find_objects(labels)
    # the column-profile mass of each run of rows: zones split from one run lie on
    # one membrane, so a faint row split from a bright one is no faint row
    run_mass: dict = {}
    for zz in zinfo:
        run_mass[zz.parent] = run_mass.get(zz.parent, 0.0) + float(zz.profile.sum())
    groups = [[major[0]]]
    weak: list = []
    for z in major[1:]:
        ref = np.concatenate([g.peaks for g in groups[-1]])
        sp = float(np.median(np.diff(np.sort(z.peaks)))) if len(z.peaks) >= 2 else float(Wk)
        frac = _match_fraction(z.peaks, ref, 0.25 * sp)
        if frac < 0.8 and any(_same_grid(z.peaks, g.peaks) for g in groups[-1][::-1]):
            # the same lane grid, different lanes empty (dot blots; a row before
            # may have too many empty dots to show the grid itself)
            frac = 0.8
        if frac >= 0.8 and z.parent != groups[-1][-1].parent:
            # lanes of one membrane move between rows only by the lane tilt: the
            # same lanes shifted by more than max_tilt_deg allows are two membranes
            za = groups[-1][-1]
            both = max(zpk[(za.y0, za.y1)], zpk[(z.y0, z.y1)])
            la, lb = np.sort(_row_lanes(za, both)), np.sort(_row_lanes(z, both))
            dy = 0.5 * (z.y0 + z.y1 - za.y0 - za.y1)
            # the shift the lane tilt allows over dy: from the tilt the strips' own
            # rows show (with its uncertainty), else anything up to max_tilt_deg.
            # Rows on both sides of the boundary show it: the band blobs of the
            # strip above, and the lanes along the neighbouring pair of band rows
            # above (``za`` and the row before it) and below (``z`` and the row
            # after it), so that an image and its flip see the same evidence; the
            # tilt may be anything these measurements allow (their union)
            ranges = [_rows_tilt(fg, labels, objs, groups[-1], rel, min_dist, max_tilt_deg)]
            ia = next((i for i, m in enumerate(major) if m is za), 0)
            iz = next(i for i, m in enumerate(major) if m is z)
            if ia > 0:
                ranges.append(_pair_tilt(major[ia - 1], za, _row_lanes, zpk, max_tilt_deg))
            if iz + 1 < len(major):
                ranges.append(_pair_tilt(z, major[iz + 1], _row_lanes, zpk, max_tilt_deg))
            ranges = [r for r in ranges if r is not None]
            if ranges:
                tilt_range = (min(r[0] for r in ranges), max(r[1] for r in ranges))
            else:
                t = math.tan(math.radians(max_tilt_deg))
                tilt_range = (-t, t)

            def _beyond(sh):
                return max(tilt_range[0] * dy - sh, sh - tilt_range[1] * dy, 0.0)
            if len(la) == len(lb) >= 3:
                dd = lb - la
                pa = float(np.median(np.diff(la)))
                sh = float(np.median(dd))
                # (a shift by whole pitches on one grid: other dots empty, in rows
                # spotted about a pitch apart)
                if (float(np.median(np.abs(dd - sh))) < 0.15 * pa
                        and _beyond(sh) > 0.15 * pa
                        and not (dy <= GRID_ROWS * pa and _same_grid(la, lb))):
                    frac = 0.0
            elif max(len(la), len(lb)) >= 3:
                # one row's lanes are not all resolved (touching bands): the shift of
                # the whole row, from the ends of its column profile and the other row's
                pa = float(np.median(np.diff(la if len(la) >= len(lb) else lb)))
                sh = _row_shift(za.profile, z.profile, pa)
                if sh is not None and _beyond(sh) > 0.15 * pa:
                    frac = 0.0
        # rows split from one run of rows lie on one membrane
        if frac >= 0.8 or z.parent == groups[-1][-1].parent or one_membrane:
            groups[-1].append(z)
        elif run_mass[z.parent] < WEAK_ZONE * max(run_mass[g.parent] for g in groups[-1]):
            # a row much fainter than the rows above it (a faint band row, a
            # membrane edge) shows too little of the lane grid to say that it lies
            # on another membrane: it joins the nearest strip (a seam still splits).
            # Rows count with the run of rows they were split from
            weak.append(z)
        else:
            groups.append([z])
    # strips must be few; otherwise treat everything as one lane set
    if len(groups) > 3:
        groups = [list(major)]
        weak = []
    for z in zinfo:
        if any(z is m for m in major) and not any(z is w for w in weak):
            continue
        zc = 0.5 * (z.y0 + z.y1)
        dist = [min(abs(zc - 0.5 * (m.y0 + m.y1)) for m in g) for g in groups]
        groups[int(np.argmin(dist))].append(z)
    # text zones (handwriting, printed labels): when some zone is a band row
    # with regular lanes along it, zones whose peaks are irregular (closer than
    # half the pitch, or gaps that are no whole number of pitches) and which
    # are no such band row themselves are not lanes (dropped after grouping,
    # so the strip structure of the image is judged on all zones as before)
    zmax = max(zpk.values())
    along = {(z.y0, z.y1): _along(z, zmax) for z in zinfo}
    nmax = max(len(r) for r in along.values()) if along else 0
    if nmax >= 3:
        regular = [z for z in zinfo if len(z.peaks) >= 3 and _regular(z.peaks)]

        def _lane_zone(z):
            # (a row of a dot grid with many empty dots: its gaps are irregular
            # multiples of the pitch, but every peak sits on the grid of a regular row)
            return (len(z.peaks) < 3 or _regular(z.peaks)
                    or len(along[(z.y0, z.y1)]) >= max(3, 0.5 * nmax)
                    or any(_same_grid(z.peaks, r.peaks) for r in regular if r is not z))
        kept = [[z for z in g if _lane_zone(z)] for g in groups]
        if any(kept):
            groups = [g for g in kept if g]
            zinfo = [z for z in zinfo if _lane_zone(z)]
    # membrane seams: zones on two sides of a seam are two strips even when
    # their lanes line up (two membranes cut from one gel)
    zinfo.sort(key=lambda z: z.y0)
    seam_rows = [y for y in _seams(dblock, fg, [(z.y0, z.y1) for z in zinfo]) if y is not None]
    split = []
    for g in groups:
        g.sort(key=lambda z: z.y0)
        cur = [g[0]]
        for z in g[1:]:
            if any(cur[-1].y1 <= y <= z.y0 for y in seam_rows):
                split.append(cur)
                cur = [z]
            else:
                cur.append(z)
        split.append(cur)
    groups = split
    groups.sort(key=lambda g: g[0].y0)
    side = None
    if counts is not None and len(counts) > 1 and len(counts) != len(groups):
        # counts per group of lanes side by side are for the one strip of rows that
        # shows lanes (a zone of three lanes or more, not faint beside the
        # strongest): rows of fewer lanes or faint rows beside it (printed labels
        # under the film, bands cut off at the image edge) are no strip then
        mass = [sum(float(z.profile.sum()) for z in g) for g in groups]
        shows = [g for g, m in zip(groups, mass) if m >= WEAK_ZONE * max(mass) and any(
            len(z.peaks) >= 3 or len(along.get((z.y0, z.y1), ())) >= 3 for z in g)]
        if len(shows) == 1 and len(groups) > 1:
            groups = shows
            zinfo = [z for z in zinfo if any(z is q for q in shows[0])]
        if len(groups) != 1:
            raise ParameterError(
                f"lanes gave {len(counts)} counts ({','.join(map(str, counts))}) but "
                f"{len(groups)} strips were found one above another; "
                + _found_text(a, max_tilt_deg, sensitivity, one_membrane) + ". " + _HOW_COUNTS)
        # one run of lanes and a count per group of it: the groups lie side by side
        # (replicates on one film).  Their lanes as found (then parted by the group
        # lines, gaps or order); when those are not the given number, the given
        # number of lanes forced (a second pass, ``_force_groups``)
        side, counts = counts, ((int(sum(counts)),) if _force_groups else None)
    lanes: list[Lane] = []
    strips = []
    yc = fg.shape[0] / 2.0
    # the rows of each strip (working px): midway to the neighbouring strips
    cuts = [0] + [int(round(_boundary(a[-1].y1, b[0].y0, seam_rows)))
                  for a, b in zip(groups[:-1], groups[1:])] + [fg.shape[0]]
    bounds = list(zip(cuts[:-1], cuts[1:]))
    tilts = []
    found = []  # (zones, lane centres, tan and deg of the lane tilt) per strip
    for si, grp in enumerate(groups, start=1):
        y0 = grp[0].y0
        y1 = grp[-1].y1
        # each zone counts alike (a faint target row as much as a bright control
        # row), except weak zones (membrane edges, specks), which count less
        zmass = np.array([z.profile.sum() for z in grp])
        zw = np.minimum(1.0, zmass / (0.2 * zmass.max())) if zmass.max() > 0 else np.ones(len(grp))
        zw = np.where(_plateaus(grp), 0.0, zw)
        prof = sum(w * _norm(_column_profile(fg, 0.0, z.y0, z.y1)) for w, z in zip(zw, grp))
        c, p = _peaks(prof, rel, min_dist, deep=0.3)
        c, p = _row_only_lanes(c, p, grp, zw, 0.0, yc)
        if len(c) == 0:
            continue
        spacing = float(np.median(np.diff(c))) if len(c) > 1 else Wk / 4
        tilt_s = _strip_tilt(fg, labels, objs, c, spacing, y0, y1, max_tilt_deg)
        if tilt_s == 0.0:
            tilt_s = _interleaved_tilt(fg, grp, zw, spacing, len(c), max_tilt_deg, rel, min_dist)
        tan_s = math.tan(math.radians(tilt_s))
        if tilt_s != 0.0:
            prof = sum(w * _norm(_column_profile(fg, tan_s, z.y0, z.y1))
                       for w, z in zip(zw, grp))
            c, p = _peaks(prof, rel, min_dist, deep=0.3)
            c, p = _row_only_lanes(c, p, grp, zw, tan_s, yc)
            if len(c) == 0:
                continue
        # touching bands (one bright bar along a row): lanes from the valleys
        # along the row, when that gives more lanes, regularly spaced, and
        # keeps most lanes found from the column profile (not an edge line)
        best = np.array([])
        along_row = False
        gmax = max(zpk[(z.y0, z.y1)] for z in grp)
        for z in grp:
            # valleys between bands, or for a bright row of touching bands with
            # irregular valleys (dark spots, weak dips) the cuts chosen together
            rc = _along(z, gmax)
            if len(rc) > len(best):
                yz = 0.5 * (z.y0 + z.y1)
                best = rc - (yz - yc) * tan_s
        # a bright bar whose lanes no row shows, neither by its column peaks nor by
        # its dips at the working resolution: the lanes its regular dips at full
        # resolution show (only when they are more lanes than both)
        for z in grp:
            rc = _bar_lanes(z, gmax)
            if len(rc) > max(len(best), len(c)):
                best = rc - (0.5 * (z.y0 + z.y1) - yc) * tan_s
        # (or, over the same extent, evenly cut where the column peaks are not:
        # peaks that deep valleys kept apart may be one lane seen twice, in two
        # offset rows of a tilt the strip did not resolve)
        if len(best) > len(c) or (len(best) >= 3 and len(best) >= 0.8 * len(c)
                                  and np.ptp(best) >= 0.9 * np.ptp(c)
                                  and _even(best) and not _regular(c)):
            half = 0.5 * float(np.median(np.diff(best)))
            hit = [np.min(np.abs(best - ci)) < half for ci in c]
            if np.mean(hit) >= 0.6:
                c, p = best, np.ones(len(best))
                along_row = True
        n_s = None if counts is None else counts[0 if len(counts) == 1 else si - 1]
        merge = True
        if not along_row and n_s is None:  # (a given count is placed by _fill_gaps)
            full_rows = [z for w, z in zip(zw, grp) if w >= 1.0 and len(z.peaks) >= 3]
            c, p = _merge_near(c, p, [(prof, 0.0)] + [
                (z.profile, (0.5 * (z.y0 + z.y1) - yc) * tan_s) for z in full_rows],
                rows=[(z.peaks, (0.5 * (z.y0 + z.y1) - yc) * tan_s) for z in full_rows])
            c, p = _faint_lanes(fg, dblock, grp, [(z.y0, z.y1) for z in zinfo], tan_s,
                                c, p, min_dist)
            c, p = _marker_lanes(fg, labels, objs, c, p, *bounds[si - 1], tan_s, yc)
            merge = False
        c, p = _fill_gaps(c, p, n_s, Wk, fill=not along_row, merge=merge)
        if n_s is not None:
            _check_fit(c, n_s, Wk, k, si)
        elif len(c) >= 3:
            c, p = _inside_membrane(dblock, grp, c, p,
                                    shift=(0.5 * (y0 + y1) - yc) * tan_s)
        found.append((grp, c, tan_s, tilt_s))
    if counts is None and len(found) > 1:
        found = _borrow_pitch(found, dblock, yc)
    runs = [_longest_run(f[1]) for f in found]
    if counts is None and found and max(runs) >= 3:
        # a strip is a membrane piece with lanes: a group of zones left without a
        # run of 3 lanes one pitch apart beside a strip with one is handwriting or
        # a label (a few words far apart, letters of a word close together), not
        # a membrane; its rows are no band rows
        gone = [z for f, n in zip(found, runs) if n < 3 for z in f[0]]
        found = [f for f, n in zip(found, runs) if n >= 3]
        zinfo = [z for z in zinfo if not any(z is q for q in gone)]
    kept = [f[0] for f in found]
    tilts = [f[3] for f in found]
    for si, (grp, c, tan_s, _) in enumerate(found, start=1):
        y0, y1 = grp[0].y0, grp[-1].y1
        # strip extents (full resolution): midway between neighbouring strips
        top = 0 if si == 1 else int(round(_boundary(kept[si - 2][-1].y1, y0, seam_rows) * k))
        bottom = (H - 1 if si == len(kept)
                  else int(round(_boundary(y1, kept[si][0].y0, seam_rows) * k)))
        strips.append((top, bottom))
        for i, ci in enumerate(c):
            # sheared coordinate -> working column at row y: x = x' + (y - yc) tan
            rows_full = np.array([top, bottom], float)
            rows_k = (rows_full + 0.5) / k - 0.5
            cols_k = ci + (rows_k - yc) * tan_s
            cols_full = (cols_k + 0.5) * k - 0.5
            lanes.append(Lane(lane=i + 1, centerline=np.c_[rows_full, cols_full],
                              width=1.0, strip=si))
        # widths: fraction of the distance to the nearest lane of the strip
        strip_lanes = [ln for ln in lanes if ln.strip == si]
        mid = 0.5 * (top + bottom)
        xs_mid = np.array([ln.x_at(mid) for ln in strip_lanes])
        for j, ln in enumerate(strip_lanes):
            if lane_width is not None:
                ln.width = float(lane_width)
                continue
            d = np.abs(xs_mid - xs_mid[j])
            d = d[d > 0]
            if len(d):
                ln.width = 0.9 * float(d.min())
            else:
                # a lone lane has no neighbour to set its width: its bands do
                ln.width = _lone_lane_width(fg, grp, float(c[j]), tan_s, k, W)
    if not lanes:
        raise AnalysisError("no lanes found; give the lane count or lane_geometry")
    sources, glines = ["membrane"] * len(strips), []
    if side is not None:
        def side_error(reason):
            return ParameterError(
                f"lanes gave {len(side)} groups side by side ({','.join(map(str, side))}, "
                f"{sum(side)} lanes) for the one strip found (rows {strips[0][0]}-"
                f"{strips[0][1]}), but {reason}; "
                + _found_text(a, max_tilt_deg, sensitivity, one_membrane) + ". " + _HOW_COUNTS)
        try:
            lanes, strips, sources, glines = part_given(
                a, lanes, strips[0], (int(kept[0][0].y0 * k), int(kept[0][-1].y1 * k)), side,
                exact=_force_groups)
        except LookupError:
            # not the given number of lanes, and no group lines that tell which
            try:
                return detect_lanes(signal, side, max_tilt_deg=max_tilt_deg,
                                    sensitivity=sensitivity, lane_width=lane_width,
                                    return_details=return_details, one_membrane=one_membrane,
                                    _force_groups=True)
            except AnalysisError as e:
                raise side_error(e) from None
        except ValueError as e:
            raise side_error(e) from None
    elif counts is None and not one_membrane:
        # side-by-side groups of one membrane that only printed brackets or group
        # lines show (replicate groups of a film): each group is a strip
        lanes, strips, sources, glines = regroup(
            a, lanes, strips, [(int(g[0].y0 * k), int(g[-1].y1 * k)) for g in kept])
    zones_full = [(int(z.y0 * k), int(z.y1 * k)) for z in zinfo]
    if return_details:
        tilt = float(np.median(tilts)) if tilts else 0.0
        return LaneDetection(lanes=lanes, tilt_deg=tilt, zones=zones_full, strips=strips,
                             strip_source=sources, group_lines=glines)
    return lanes
