"""Printed lane-group annotations: brackets and group lines that part a strip.

A film or a figure often shows several replicate groups side by side on one
membrane, with evenly spaced lanes and no gap between the groups.  What tells
the groups apart is printed: a bracket (a thin line with end ticks, often a
centre tick) or a plain line under or over each group's lanes, the lines of
consecutive groups collinear and parted by a short gap.  Such a line is

- thin: 1-4 px of ink across it (:data:`LINE_MAX_THICK`), a structure that a
  vertical opening of :data:`LINE_OPEN` px removes, so band rows, smears,
  membrane edges (steps) and the vertical ticks of the bracket itself do not
  count;
- straight and near-horizontal (parallel to the band rows, within
  :data:`LINE_MAX_SLOPE`), as dark as print (at least :data:`LINE_CONTRAST` of
  the image's signal range above the local level and 6 noise sigmas), and
  standing on the membrane with all its height (:data:`LINE_OWN`: the flattened
  cap of a broad band row, which a top-hat also keeps, does not);
- long: it covers at least :data:`MIN_GROUP_LANES` lane centres, its ends
  within :data:`END_TOL` lane pitches of lane boundaries (midway between two
  lanes, or half a pitch beyond an end lane).

A set of such lines parts a strip only when at least two of them lie on one
line (collinear, consecutive ones at most :data:`MAX_GAP` pitches apart) and
together cover every lane of the strip, each lane once (but for at most
:data:`END_LANES` ladder or marker lane beyond each end, and lanes more than
:data:`OFF_GRID` pitches beyond the lines, which join the group next to them).  A single line over
all lanes, text, ladder dashes, handwriting, a drawn box's edge or a line whose
ends miss the lane boundaries parts nothing.  A break in a line that a stroke
leaves on the side away from the band rows (the centre tick of a brace) is no
gap between groups; the end ticks of a bracket point to the bands (the side
is read from the ticks at the outer ends of the lines, else from the side of
the strip's band rows).

:func:`group_lines` finds the line segments of a band of image rows;
:func:`split_groups` turns them into lane groups.  Both are pure functions of
arrays and lane centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["GroupLine", "group_lines", "split_groups", "part_given", "gap_groups", "GAP_PITCHES",
           "LINE_OPEN", "LINE_MAX_THICK",
           "LINE_MAX_SLOPE", "LINE_CONTRAST", "LINE_OWN", "MIN_GROUP_LANES", "END_TOL", "END_LANES", "OFF_GRID", "MAX_GAP",
           "SEARCH_PITCHES", "RUN_PX"]

#: Length (px) of the vertical opening whose top-hat keeps thin horizontal lines:
#: structures thinner than this across the rows survive it, bands and steps do not
LINE_OPEN = 11
#: Largest mean thickness (px of ink per column) of a group line
LINE_MAX_THICK = 4.0
#: Largest slope of a group line (lines are parallel to the band rows; a film
#: scanned a few degrees askew tilts both)
LINE_MAX_SLOPE = math.tan(math.radians(5.0))
#: A group line is at least this share of the signal's range (99.5th percentile
#: minus the median) above its surroundings (print is dark)
LINE_CONTRAST = 0.15
#: ... and that is at least this share of its height above the lowest signal within
#: :data:`LINE_OPEN` rows (a line on the membrane, not the cap of a band)
LINE_OWN = 0.6
#: Each group line covers at least this many lane centres
MIN_GROUP_LANES = 2
#: The ends of a group line lie within this many lane pitches of lane boundaries
END_TOL = 0.35
#: Lanes beyond the ends of the group lines (a ladder or marker lane) may number at
#: most this many at each end of the strip; they join the group next to them
END_LANES = 1
#: ... and any number of lanes more than this many pitches beyond the lines' ends
OFF_GRID = 2.0
#: Consecutive group lines are at most this many lane pitches apart (a short gap)
MAX_GAP = 0.5
#: Neighbouring lanes at least this many lane pitches apart lie in two groups (a
#: wide gap between replicate groups on one membrane)
GAP_PITCHES = 1.7
#: Group lines are looked for within this many lane pitches above the first and
#: below the last band row of a strip
SEARCH_PITCHES = 3.0
#: A line is made of horizontal runs of ink at least this many px long (a 1 px line
#: at the largest slope steps a row every 1 / LINE_MAX_SLOPE = 11 px)
RUN_PX = 7
#: Two pieces of one line: their rows agree within this many px where they meet
COLLINEAR_PX = 3.0


@dataclass
class GroupLine:
    """One straight, thin line segment: its end points (row, col) and thickness."""

    row0: float
    col0: float
    row1: float
    col1: float
    thick: float

    def row_at(self, col):
        """Row of the line at column ``col`` (extrapolated beyond its ends)."""
        if self.col1 == self.col0:
            return self.row0
        return self.row0 + (self.row1 - self.row0) * (col - self.col0) / (self.col1 - self.col0)

    def as_list(self) -> list:
        """``[row0, col0, row1, col1]`` rounded to 0.1 px (for recording)."""
        return [round(float(v), 1) for v in (self.row0, self.col0, self.row1, self.col1)]


def _step(a: np.ndarray) -> int:
    """Row step that samples about 5e4 pixels of ``a`` (for its noise and range)."""
    return max(1, int(a.size // 50_000))


def _noise_sigma(a: np.ndarray) -> float:
    d = np.diff(a[::_step(a)], axis=1)
    if d.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0))


def _level(a: np.ndarray) -> float:
    """The signal's range: 99.5th percentile minus the median (sampled rows)."""
    v = a[::_step(a)]
    lo, hi = np.percentile(v, [50.0, 99.5])
    return float(hi - lo)


def group_lines(signal: np.ndarray, top: int, bottom: int, *, min_len: float = 8.0,
                level: float | None = None, sigma: float | None = None) -> list:
    """Thin, straight, near-horizontal line segments in rows ``top..bottom``.

    Parameters
    ----------
    signal : 2-D array
        Signal image (print and bands bright).
    top, bottom : int
        First and last row searched (inclusive, clipped to the image).
    min_len : float
        Shortest segment (px along the row) reported.
    level, sigma : float, optional
        Contrast (signal range) and noise sigma to threshold against; default from
        the rows searched.

    Returns
    -------
    list of GroupLine
        Sorted by column.  Pieces of one line that a vertical stroke crosses are
        reported separately; :func:`split_groups` joins them where appropriate.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((60, 200), np.float32)
    >>> img[40:42, 20:90] = 100; img[40:42, 96:180] = 100     # two lines, a gap
    >>> img[10:30, 30:170] = 100                              # a band row (thick)
    >>> [(round(g.col0), round(g.col1)) for g in group_lines(img, 0, 59)]
    [(20, 89), (96, 179)]
    """
    a = np.asarray(signal, dtype=np.float32)
    top, bottom = max(0, int(top)), min(a.shape[0] - 1, int(bottom))
    if bottom - top + 1 < LINE_OPEN or a.shape[1] < min_len:
        return []
    sub = np.ascontiguousarray(a[top:bottom + 1])
    sub = np.where(np.isfinite(sub), sub, 0.0).astype(np.float32)
    opened = cv2.morphologyEx(sub, cv2.MORPH_OPEN, np.ones((LINE_OPEN, 1), np.uint8))
    hat = sub - opened
    if sigma is None:
        sigma = _noise_sigma(sub)
    if level is None:
        level = _level(sub)
    thr = max(6.0 * sigma, LINE_CONTRAST * level, 1e-6)
    # horizontal runs of at least RUN_PX px (a line tilted by up to LINE_MAX_SLOPE keeps
    # its runs; specks, dots and vertical strokes go), in the rows that hold any
    run = max(1, min(RUN_PX, int(min_len))) | 1   # (odd: no shift)
    mask = cv2.morphologyEx((hat > thr).view(np.uint8), cv2.MORPH_OPEN,
                            np.ones((1, run), np.uint8))
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return []
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    top += r0
    mask = np.ascontiguousarray(mask[r0:r1])
    # the local floor: the lowest signal within LINE_OPEN rows above or below; a
    # printed line stands on it with all its height (the top-hat is all of it), the
    # flattened cap of a broad band is a small part of the band's height
    lo, hi = max(0, r0 - LINE_OPEN), min(sub.shape[0], r1 + LINE_OPEN)
    floor = cv2.erode(np.ascontiguousarray(sub[lo:hi]),
                      np.ones((2 * LINE_OPEN + 1, 1), np.uint8))[r0 - lo:r1 - lo]
    height = np.maximum(sub[r0:r1] - floor, 1e-6)
    own = hat[r0:r1] / height
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in np.flatnonzero(stats[:, cv2.CC_STAT_WIDTH] >= min_len):
        if i == 0:
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        ys, xs = np.nonzero(lab[y:y + h, x:x + w] == i)
        cols, inv = np.unique(xs, return_inverse=True)
        if len(cols) < min_len:
            continue
        # the row of the line per column (mean of its ink), then a straight fit
        # that ignores columns of ticks and curls leaving the line
        cy = np.bincount(inv, weights=ys) / np.bincount(inv)
        keep = np.ones(len(cols), bool)
        p = np.polyfit(cols, cy, 1)
        for _ in range(2):
            res = np.abs(cy - np.polyval(p, cols))
            keep = res <= max(2.0, 2.0 * float(np.median(res)))
            if keep.sum() < 2:
                break
            p = np.polyfit(cols[keep], cy[keep], 1)
        if abs(p[0]) > LINE_MAX_SLOPE:
            continue
        near = np.abs(ys - np.polyval(p, xs)) <= 3.0
        on = np.unique(xs[near])
        if len(on) < min_len:
            continue
        c0, c1 = int(on.min()), int(on.max())
        if len(on) < 0.9 * (c1 - c0 + 1):
            continue   # not one straight stroke (text, handwriting)
        thick = float(near.sum()) / len(on)
        if thick > LINE_MAX_THICK:
            continue
        if float(np.median(own[y + ys[near], x + xs[near]])) < LINE_OWN:
            continue   # the cap of a broad band (its top-hat is a small part of it)
        out.append(GroupLine(row0=top + y + float(np.polyval(p, c0)), col0=float(x + c0),
                             row1=top + y + float(np.polyval(p, c1)), col1=float(x + c1),
                             thick=thick))
    out.sort(key=lambda g: g.col0)
    return out


def _ink(signal, c0: int, c1: int, y: float, side: int, thr: float, bg: float) -> float:
    """Share of the :data:`LINE_OPEN` rows on ``side`` of row ``y`` (+1: below, -1:
    above; from 3 px off the line) with ink in columns ``c0..c1``."""
    c0, c1 = max(int(c0), 0), min(int(c1), signal.shape[1] - 1)
    if c1 < c0:
        return 0.0
    hits = 0
    for d in range(3, 3 + LINE_OPEN):
        r = int(round(y + side * d))
        if 0 <= r < signal.shape[0] and float(np.max(signal[r, c0:c1 + 1])) - bg > thr:
            hits += 1
    return hits / LINE_OPEN


def _one_side(signal, c0, c1, y, thr, bg) -> int:
    """+1 / -1 when a stroke leaves row ``y`` in columns ``c0..c1`` downwards / upwards
    only, else 0."""
    below, above = (_ink(signal, c0, c1, y, s, thr, bg) for s in (1, -1))
    if below >= 0.6 and above < 0.3:
        return 1
    if above >= 0.6 and below < 0.3:
        return -1
    return 0


def _towards(signal, chain, thr, bg, fallback: int) -> int:
    """The side the ends of a chain of line pieces point to (+1 below, -1 above): the
    end ticks of a bracket point to the bands.  Lines without end ticks: ``fallback``
    (the side of the strip's band rows)."""
    w = max(2, int(round(2 * chain[0].thick)) + 2)
    left = _one_side(signal, chain[0].col0 - w, chain[0].col0 + 2, chain[0].row0, thr, bg)
    right = _one_side(signal, chain[-1].col1 - 2, chain[-1].col1 + w, chain[-1].row1, thr, bg)
    if left and right and left != right:
        return fallback
    return left or right or fallback


def _centre_tick(signal, a: GroupLine, b: GroupLine, towards: int, thr: float,
                 bg: float) -> bool:
    """A stroke leaves the break between ``a`` and ``b`` only on the side away from
    ``towards`` (the centre tick of a brace; the end ticks point ``towards``)."""
    y = 0.5 * (a.row1 + b.row0)
    c0, c1 = int(math.floor(a.col1)), int(math.ceil(b.col0))
    return _one_side(signal, c0, c1, y, thr, bg) == -towards


def _boundaries(xs: np.ndarray, pitch: float) -> tuple:
    """Left and right boundary of each lane: half the distance to its neighbour,
    at most half a pitch (an end lane, or a lane beside a wider gap)."""
    gaps = np.minimum(np.diff(xs), pitch)
    half = 0.5 * np.r_[pitch, gaps, pitch]
    return xs - half[:-1], xs + half[1:]


def split_groups(signal: np.ndarray, lane_x, top: int, bottom: int, band_rows) -> tuple:
    """Lane groups of one strip shown by printed group lines, or None.

    Parameters
    ----------
    signal : 2-D array
        Signal image (print and bands bright).
    lane_x : callable
        ``lane_x(row)`` -> the strip's lane centres (columns, left to right) at
        image row ``row``.
    top, bottom : int
        The strip's rows (inclusive).
    band_rows : (int, int)
        First and last row of the strip's band rows (the lines are looked for
        within :data:`SEARCH_PITCHES` pitches of them, and ticks are judged
        against their side).

    Returns
    -------
    (sizes, lines) or None
        ``sizes``: lanes per group, left to right (sum = lanes of the strip);
        ``lines``: the :class:`GroupLine` of each group.  None when no set of
        collinear group lines covers the strip's lanes.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((120, 260), np.float32)
    >>> xs = 20 + 20 * np.arange(12)                  # 12 lanes, pitch 20
    >>> for x in xs:
    ...     img[30:45, x - 8:x + 9] = 100             # a row of separate bands
    >>> img[80:82, 11:88] = 100; img[80:82, 93:248] = 100    # brackets 4 + 8
    >>> sizes, lines = split_groups(img, lambda r: xs.astype(float), 0, 119, (30, 44))
    >>> sizes
    [4, 8]
    """
    xs0 = np.asarray(lane_x(0.5 * (top + bottom)), float)
    if len(xs0) < 2 * MIN_GROUP_LANES:
        return None
    pitch = float(np.median(np.diff(np.sort(xs0))))
    if not pitch > 0:
        return None
    b0, b1 = band_rows
    lo = max(int(top), int(b0 - SEARCH_PITCHES * pitch))
    hi = min(int(bottom), int(b1 + SEARCH_PITCHES * pitch))
    a = np.asarray(signal, dtype=np.float32)
    sub = a[lo:hi + 1]
    if sub.size == 0:
        return None
    sigma = _noise_sigma(sub)
    level = _level(sub)
    thr = max(6.0 * sigma, LINE_CONTRAST * level, 1e-6)
    segs = group_lines(a, lo, hi, min_len=max(4.0, 0.25 * pitch), level=level, sigma=sigma)
    if len(segs) < 2:
        return None
    band_mid = 0.5 * (b0 + b1)
    # chains of collinear pieces, left to right; a piece joins the chain whose last
    # piece it continues (same row where they meet, a gap of at most MAX_GAP pitches)
    chains: list = []
    for g in segs:
        best = None
        for ch in chains:
            last = ch[-1]
            gap = g.col0 - last.col1
            if -2.0 <= gap <= MAX_GAP * pitch and abs(last.row_at(g.col0) - g.row0) <= COLLINEAR_PX:
                if best is None or abs(last.row_at(g.col0) - g.row0) < abs(
                        best[-1].row_at(g.col0) - g.row0):
                    best = ch
        if best is None:
            chains.append([g])
        else:
            best.append(g)
    found = []
    for ch in chains:
        if len(ch) < 2:
            continue
        # join pieces parted by a centre tick (a stroke leaving the line away from the
        # bands): one group line
        y_line = 0.5 * (ch[0].row0 + ch[-1].row1)
        r = int(round(y_line))
        win = a[max(0, r - 2 * LINE_OPEN):r + 2 * LINE_OPEN + 1,
                max(0, int(ch[0].col0)):int(ch[-1].col1) + 1]
        bg = float(np.median(win)) if win.size else 0.0
        towards = _towards(a, ch, thr, bg, -1 if y_line > band_mid else 1)
        parts = [ch[0]]
        for g in ch[1:]:
            if _centre_tick(a, parts[-1], g, towards, thr, bg):
                p = parts[-1]
                parts[-1] = GroupLine(p.row0, p.col0, g.row1, g.col1, max(p.thick, g.thick))
            else:
                parts.append(g)
        xs = np.sort(np.asarray(lane_x(y_line), float))
        # pieces at the ends that cover no lane (a ladder dash, a label's stroke beside
        # the lanes, collinear by chance) are no part of the group lines
        def empty(p):
            return not np.any((xs >= p.col0) & (xs <= p.col1))
        while parts and empty(parts[0]):
            parts.pop(0)
        while parts and empty(parts[-1]):
            parts.pop()
        if len(parts) < 2:
            continue
        left, right = _boundaries(xs, pitch)
        sizes = []
        # lanes beyond the ends of the lines: at most END_LANES on the lanes' grid (a
        # ladder or marker lane beside the samples), and any off it (more than
        # OFF_GRID pitches beyond the lines: edges, specks, later judged on their
        # bands); they join the group next to them
        first = np.flatnonzero(xs >= parts[0].col0)
        nxt = int(first[0]) if len(first) else len(xs)
        last = np.flatnonzero(xs <= parts[-1].col1)
        end = int(last[-1]) + 1 if len(last) else 0
        near_l = np.sum(xs[:nxt] >= parts[0].col0 - OFF_GRID * pitch)
        near_r = np.sum(xs[end:] <= parts[-1].col1 + OFF_GRID * pitch)
        ok = near_l <= END_LANES and near_r <= END_LANES
        for p in parts:
            inside = np.flatnonzero((xs >= p.col0) & (xs <= p.col1))
            if (not ok or len(inside) < MIN_GROUP_LANES or inside[0] != nxt
                    or np.any(np.diff(inside) != 1)
                    or abs(p.col0 - left[inside[0]]) > END_TOL * pitch
                    or abs(p.col1 - right[inside[-1]]) > END_TOL * pitch):
                ok = False
                break
            sizes.append(len(inside))
            nxt = inside[-1] + 1
        if ok and nxt == end:
            sizes[0] += int(first[0])
            sizes[-1] += len(xs) - end
            found.append((abs(y_line - band_mid), sizes, parts))
    if not found:
        return None
    # several complete sets (brackets above and below): the one nearest the bands
    found.sort(key=lambda f: f[0])
    return found[0][1], found[0][2]


def regroup(signal: np.ndarray, lanes: list, strips: list, band_rows: list) -> tuple:
    """Part each strip whose lanes printed group lines group (:func:`split_groups`).

    Parameters
    ----------
    signal : 2-D array
        Signal image (print and bands bright).
    lanes : list of Lane
        Lanes with 1-based ``strip`` numbers (top to bottom) and ``lane`` numbers
        within their strip.
    strips : list of (int, int)
        Rows (top, bottom) of each strip.
    band_rows : list of (int, int)
        First and last band row of each strip.

    Returns
    -------
    (lanes, strips, sources, lines)
        The lanes renumbered (strips top to bottom, the groups of a strip left to
        right; lanes numbered within their strip), one (top, bottom) per strip (the
        groups of a strip share its rows), the evidence of each strip
        (``"membrane"``: the strip's own rows, ``"group lines"``: a group of a strip
        parted by printed group lines) and the group lines used
        (``[row0, col0, row1, col1]`` each).
    """
    new_lanes, new_strips, sources, used = [], [], [], []
    of_strip = [[ln for ln in lanes if ln.strip == si] for si in range(1, len(strips) + 1)]
    for si, (top, bottom) in enumerate(strips, start=1):
        mine = sorted(of_strip[si - 1], key=lambda ln: float(ln.x_at(0.5 * (top + bottom))))
        got = None
        if len(mine) >= 2 * MIN_GROUP_LANES:
            def lane_x(row, mine=mine):
                return np.array([float(ln.x_at(row)) for ln in mine])
            got = split_groups(signal, lane_x, top, bottom, band_rows[si - 1])
        sizes = got[0] if got is not None else [len(mine)]
        start = 0
        for size in sizes:
            s_new = len(new_strips) + 1
            for j, ln in enumerate(mine[start:start + size], start=1):
                ln.strip, ln.lane = s_new, j
                new_lanes.append(ln)
            new_strips.append((top, bottom))
            sources.append("group lines" if got is not None else "membrane")
            start += size
        if got is not None:
            used.extend(g.as_list() for g in got[1])
    return new_lanes, new_strips, sources, used


def gap_groups(xs) -> list:
    """Sizes of the groups that wide gaps (:data:`GAP_PITCHES` pitches or more) part
    lane centres ``xs`` into, left to right (one group: no wide gap).

    The pitch is the median distance of neighbouring lanes (groups of two lanes
    or more hold at least as many steps of one pitch as gaps between them).

    Examples
    --------
    >>> gap_groups([10, 30, 50, 70, 90, 150, 170, 190, 210, 230])
    [5, 5]
    >>> gap_groups([10, 30, 50, 70])
    [4]
    """
    x = np.sort(np.asarray(xs, float))
    if len(x) < 2:
        return [len(x)]
    d = np.diff(x)
    pitch = float(np.median(d))
    cut = np.flatnonzero(d >= GAP_PITCHES * pitch) + 1
    return np.diff(np.r_[0, cut, len(x)]).astype(int).tolist()


def _bounds_of(sizes) -> set:
    """Indices of the first lane of each group but the first (group boundaries)."""
    return set(np.cumsum(sizes)[:-1].astype(int).tolist())


def part_given(signal: np.ndarray, lanes: list, strip: tuple, band_rows: tuple,
               sizes, exact: bool = True) -> tuple:
    """Part the lanes of one strip into side-by-side strips of the given sizes.

    The user counted the lanes per group of a membrane whose groups lie side by
    side (``lanes=(4, 3, 4)``).  What the image shows must agree: printed group
    lines (:func:`split_groups`) give the groups when they are found, and then
    their sizes must be the given ones; else wide gaps between the lanes
    (:func:`gap_groups`), each of which must fall on a boundary of the given
    groups; without either the lanes are parted by their order, left to right.

    Parameters
    ----------
    signal : 2-D array
        Signal image (print and bands bright).
    lanes : list of Lane
        The strip's lanes (``sum(sizes)`` of them).
    strip : (int, int)
        The strip's rows (top, bottom).
    band_rows : (int, int)
        Its first and last band row.
    sizes : sequence of int
        Lanes per group, left to right.
    exact : bool
        The strip holds ``sum(sizes)`` lanes (forced).  False: the lanes as
        found; when they are more, group lines whose groups are the given ones
        tell which (the lanes beyond their ends, a ladder or an edge lane, are
        dropped).

    Returns
    -------
    (lanes, strips, sources, lines)
        As :func:`regroup`: the lanes renumbered (strip by strip, left to right),
        one (top, bottom) per group, the evidence of each (``"group lines"``,
        ``"lane gaps"`` when every boundary is a wide gap, else ``"given"``) and
        the group lines used.

    Raises
    ------
    ValueError
        The group lines or gaps found part the lanes otherwise; the message
        says how.
    LookupError
        ``exact`` is False and the lanes found are not the given number (nor
        more, with group lines that show the given groups).
    """
    sizes = [int(v) for v in sizes]
    top, bottom = strip
    mid = 0.5 * (top + bottom)
    mine = sorted(lanes, key=lambda ln: float(ln.x_at(mid)))
    if exact and len(mine) != sum(sizes):
        raise ValueError(f"{len(mine)} lanes found for {sum(sizes)} given")

    def lane_x(row):
        return np.array([float(ln.x_at(row)) for ln in mine])
    got = split_groups(signal, lane_x, top, bottom, band_rows) if len(mine) >= 4 else None
    used = []
    if got is not None and len(mine) > sum(sizes):
        # lanes beyond the ends of the lines (a ladder, an edge lane) that the given
        # groups leave out
        y = 0.5 * (got[1][0].row0 + got[1][-1].row1)
        x = lane_x(y)
        inside = (x >= got[1][0].col0) & (x <= got[1][-1].col1)
        if int(inside.sum()) == sum(sizes):
            mine = [ln for ln, keep in zip(mine, inside) if keep]
            got = (list(got[0]), got[1])  # sizes, adjusted below for the lanes left out
            first = int(np.argmax(inside))
            got[0][0] -= first
            got[0][-1] -= len(inside) - first - int(inside.sum())
    if len(mine) != sum(sizes):
        raise LookupError(f"{len(mine)} lanes found for {sum(sizes)} given")
    xs = np.array([float(ln.x_at(mid)) for ln in mine])
    if got is not None:
        if list(got[0]) != sizes:
            raise ValueError(f"printed group lines part its {len(mine)} lanes into "
                             f"{'+'.join(map(str, got[0]))}")
        src = "group lines"
        used = [g.as_list() for g in got[1]]
    else:
        gaps = gap_groups(xs)
        if not _bounds_of(gaps) <= _bounds_of(sizes):
            raise ValueError(f"wide gaps part its {len(mine)} lanes into "
                             f"{'+'.join(map(str, gaps))}")
        src = "lane gaps" if len(gaps) > 1 and gaps == sizes else "given"
    new_lanes, new_strips = [], []
    start = 0
    for s_new, size in enumerate(sizes, start=1):
        for j, ln in enumerate(mine[start:start + size], start=1):
            ln.strip, ln.lane = s_new, j
            new_lanes.append(ln)
        new_strips.append((top, bottom))
        start += size
    return new_lanes, new_strips, [src] * len(sizes), used


def erase_lines(signal: np.ndarray, lines, pad: int = 2) -> np.ndarray:
    """``signal`` with each group line (``[row0, col0, row1, col1]``) set to the
    level of the rows just above and below it, column by column (a copy).

    A printed line is no signal: under a group of few lanes it would otherwise be
    found as a band row.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.full((40, 60), 5.0, np.float32); img[20, 10:50] = 200
    >>> float(erase_lines(img, [[20, 10, 20, 49]])[20, 30])
    5.0
    """
    out = np.array(signal, dtype=np.float32, copy=True)
    H, W = out.shape
    for r0, c0, r1, c1 in lines:
        cols = np.arange(max(0, int(math.floor(c0)) - pad), min(W, int(math.ceil(c1)) + pad + 1))
        if not len(cols):
            continue
        rows = r0 + (r1 - r0) * (cols - c0) / max(c1 - c0, 1e-9)
        for c, r in zip(cols, rows):
            a = int(math.floor(r)) - pad - 1
            b = int(math.ceil(r)) + pad + 1
            if a - 3 < 0 or b + 3 >= H:
                continue
            ref = np.r_[out[a - 3:a + 1, c], out[b:b + 4, c]]
            out[a + 1:b, c] = np.median(ref)
    return out
