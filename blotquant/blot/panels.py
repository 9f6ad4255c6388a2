"""Membrane pieces on a figure page: blot panels as 2-D regions.

Published figures and composite images put several blot panels on a flat
*page* (white, or a flat grey) side by side and in columns, at different
heights, with printed headers, labels, arrowheads and charts around them.
The lane finder of :mod:`blotquant.blot.lanes` sees strips as horizontal zones
across the whole image width, which such a page breaks.  This module finds the
pieces as rectangles, so each can be analysed as a blot of its own.

What a page is
--------------
A page is drawn, not photographed: one exact grey level covers a large part
of the image (at least :data:`PAGE_SHARE` of it) and has no noise around it
(at least :data:`PAGE_FLATNESS` of the pixels within two grey steps of that
level are exactly at it).  A membrane photo or film scan whose background is
nearly flat still has noise there (the flattest real blot of the test data,
a chemiluminescence image with 64 % of its pixels at one level, has only 65 %
of its near-background pixels exactly at it), and camera images have no
dominant exact level at all, so neither is a page.

What a piece is
---------------
The non-page pixels (farther than :data:`PAGE_TOL` grey steps from the page
level) form 4-connected components; a component is a membrane piece when its
bounding box is at least :data:`MIN_SIDE` of the image's longer side on both
sides (printed letters, dots, arrowheads and dashes are smaller) and it fills
at least :data:`MIN_FILL` of its box (frame lines, chart axes, brackets and
words are thin strokes that fill little of their box; a frame drawn around a
membrane is a component of its own when a page gap separates it from the
membrane, else it is trimmed off as a line, see below).  Its box is then
trimmed: edge rows and columns that are mostly page (a label touching the
membrane) and a few edge rows and columns of frame line (far from the piece's
median level) are cut.  Pieces inside another piece's box are part of it.
Finally a piece must have a membrane background of its own: its rim and the
background between its bands agree (:data:`MAX_RIM_RATIO`), which bands and
dots on a flat, noise-free background (synthetic or background-subtracted
images) do not: there each band would otherwise be a "piece".

Reading order
-------------
Pieces are ordered column by column: the pieces split into columns at page
gaps running the whole height of the group (left to right), each column into
rows at gaps running its whole width (top to bottom), and so on recursively;
pieces that no gap separates are ordered by their top, then their left edge.
A two-column figure is thus read down the left column, then down the right
one (as a person lists its panels); a 2 x 2 grid A B / C D is read A, C, B, D.

Examples
--------
>>> import numpy as np
>>> page = np.full((200, 300), 255, np.uint8)
>>> page[20:90, 30:140] = 200        # piece 1 (top left)
>>> page[110:180, 30:140] = 190      # piece 2 (bottom left)
>>> page[40:160, 170:280] = 210      # piece 3 (right column)
>>> page[5:9, 150:154] = 0           # a printed dot: not a piece
>>> find_pieces(page)
[(20, 90, 30, 140), (110, 180, 30, 140), (40, 160, 170, 280)]
>>> find_pieces(np.random.default_rng(0).normal(100, 5, (200, 300)))   # no page
[]
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["page_level", "find_pieces", "reading_order", "PAGE_SHARE", "PAGE_FLATNESS",
           "PAGE_TOL", "MIN_SIDE", "MIN_FILL", "MAX_RIM_RATIO"]

#: A page covers at least this fraction of the image at one exact level.
PAGE_SHARE = 0.2
#: ... and at least this fraction of the pixels within 2 grey steps of that level
#: are exactly at it (a drawn page has no noise; a membrane background has).
PAGE_FLATNESS = 0.9
#: Pixels within this many grey steps of the page level are page.
PAGE_TOL = 2
#: A piece is at least this fraction of the image's longer side high and wide ...
MIN_SIDE = 0.03
#: ... and at least this many pixels.
MIN_SIDE_PX = 24
#: A piece's component fills at least this fraction of its bounding box.
MIN_FILL = 0.5
#: A piece's interior background lies within this many times its rim's distance from
#: the page of its rim's level (a band or dot on a flat background lies far beyond).
MAX_RIM_RATIO = 3.0
#: Samples used by the page test (a regular subsample of the image).
_PAGE_SAMPLES = 65_536


def _step(gray: np.ndarray) -> float:
    """One grey step: 1 for integer images, 1/65535 of the value range for floats."""
    if gray.dtype.kind in "uib":
        return 1.0
    lo, hi = float(np.min(gray)), float(np.max(gray))
    return (hi - lo) / 65535.0 if hi > lo else 1.0


def page_level(gray: np.ndarray) -> float | None:
    """The grey level of a figure page, or None when the image is no page.

    Parameters
    ----------
    gray : 2-D array
        The image in its own grey levels (not inverted).

    Returns
    -------
    float or None
        The page's exact level when at least :data:`PAGE_SHARE` of the image
        (a regular subsample of about 65 000 pixels) is at one exact level
        and at least :data:`PAGE_FLATNESS` of the pixels within 2 grey steps
        of it are exactly at it; else None.  Costs one histogram of the
        subsample (under 1 ms on a 1-MP image).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.full((100, 100), 255, np.uint8); g[20:80, 20:80] = 180
    >>> page_level(g)
    255.0
    >>> noisy = np.random.default_rng(1).integers(250, 253, (100, 100)).astype(np.uint8)
    >>> page_level(noisy) is None
    True
    """
    g = np.asarray(gray)
    if g.ndim != 2 or g.size == 0:
        return None
    s = max(1, int(math.ceil(math.sqrt(g.size / _PAGE_SAMPLES))))
    sample = g[::s, ::s].ravel()
    if g.dtype.kind in "ub" and g.dtype.itemsize <= 2:
        counts = np.bincount(sample.astype(np.int64) if g.dtype.kind == "b" else sample,
                             minlength=2)
        level = int(np.argmax(counts))
        exact = int(counts[level])
        near = int(counts[max(0, level - 2):level + 3].sum())
        value = float(level)
    else:
        vals, counts = np.unique(sample, return_counts=True)
        i = int(np.argmax(counts))
        value = float(vals[i])
        exact = int(counts[i])
        d = np.abs(vals.astype(np.float64) - value)
        near = int(counts[d <= 2 * _step(g)].sum())
    if exact < PAGE_SHARE * sample.size or exact < PAGE_FLATNESS * near:
        return None
    return value


def _trim(mask: np.ndarray, box, gray: np.ndarray, page: float, step: float):
    """Cut a component's box to the membrane: edges that are mostly page, then frame lines."""
    r0, r1, c0, c1 = box
    while r1 - r0 > 2 and c1 - c0 > 2:
        sub = mask[r0:r1, c0:c1]
        cut = False
        if sub[0].mean() < MIN_FILL:
            r0, cut = r0 + 1, True
        if sub[-1].mean() < MIN_FILL:
            r1, cut = r1 - 1, True
        if sub[:, 0].mean() < MIN_FILL:
            c0, cut = c0 + 1, True
        if sub[:, -1].mean() < MIN_FILL:
            c1, cut = c1 - 1, True
        if not cut:
            break
    if r1 - r0 < 3 or c1 - c0 < 3:
        return r0, r1, c0, c1
    # frame lines drawn against the membrane: a few edge rows / columns whose median
    # lies far from the piece's own (membrane background) level
    sub = gray[r0:r1, c0:c1].astype(np.float32)
    level = float(np.median(sub[::max(1, (r1 - r0) // 64), ::max(1, (c1 - c0) // 64)]))
    tol = max(4.0 * step, 0.3 * abs(page - level))
    far_r = np.abs(np.median(sub, axis=1) - level) > tol
    far_c = np.abs(np.median(sub, axis=0) - level) > tol
    lim_r = max(3, int(0.02 * (r1 - r0)))
    lim_c = max(3, int(0.02 * (c1 - c0)))
    a, b = _end_runs(far_r, lim_r)
    c, d = _end_runs(far_c, lim_c)
    return r0 + a, r1 - b, c0 + c, c1 - d


def _end_runs(far, limit: int) -> tuple[int, int]:
    """Lengths (at most ``limit``) of the runs of True at the start and at the end of
    ``far``; the end run stops where the start run ended."""
    a = 0
    while a < limit and a < len(far) and far[a]:
        a += 1
    b = 0
    while b < limit and b < len(far) - a and far[-1 - b]:
        b += 1
    return a, b


def reading_order(boxes) -> list[int]:
    """Indices of boxes ``(r0, r1, c0, c1)`` in reading order, column by column.

    The boxes split into columns at gaps that no box spans horizontally (left
    to right), each column into rows at gaps that no box spans vertically (top
    to bottom), recursively; boxes that no gap separates are ordered by their
    top, then their left edge.

    Parameters
    ----------
    boxes : sequence of (r0, r1, c0, c1)

    Returns
    -------
    list of int

    Examples
    --------
    >>> reading_order([(0, 10, 50, 60), (0, 10, 0, 10), (20, 30, 0, 10)])
    [1, 2, 0]
    """
    boxes = [tuple(b) for b in boxes]

    def split(idx, lo_key, hi_key):
        order = sorted(idx, key=lambda i: boxes[i][lo_key])
        groups, end = [], None
        for i in order:
            if end is not None and boxes[i][lo_key] >= end:
                groups.append([])
            if not groups:
                groups.append([])
            groups[-1].append(i)
            end = boxes[i][hi_key] if end is None else max(end, boxes[i][hi_key])
        return groups

    def order(idx, columns_first=True):
        if len(idx) <= 1:
            return list(idx)
        tries = (((2, 3), False), ((0, 1), True))   # (key pair, what the groups try first)
        for (lo, hi), inner in (tries if columns_first else tries[::-1]):
            groups = split(idx, lo, hi)
            if len(groups) > 1:
                return [i for grp in groups for i in order(grp, inner)]
        return sorted(idx, key=lambda i: (boxes[i][0], boxes[i][2]))

    return order(list(range(len(boxes))))


def find_pieces(gray: np.ndarray, *, min_pieces: int = 2) -> list[tuple[int, int, int, int]]:
    """Membrane pieces on a figure page, as boxes in reading order.

    Parameters
    ----------
    gray : 2-D array
        The image in its own grey levels (not inverted; RGB already made gray).
    min_pieces : int
        Fewer pieces than this give an empty list (one piece on a page is
        analysed as the whole image is).

    Returns
    -------
    list of (r0, r1, c0, c1)
        Image rows ``r0:r1`` and columns ``c0:c1`` (end exclusive) of each
        piece, in reading order (see the module docstring); empty when the
        image is no page (:func:`page_level`) or holds fewer than
        ``min_pieces`` pieces.
    """
    import cv2

    g = np.asarray(gray)
    page = page_level(g)
    if page is None:
        return []
    step = _step(g)
    if g.dtype.kind in "ub" and g.dtype.itemsize <= 2:
        gi = g.astype(np.int32) if g.dtype.kind == "b" else g
        lo = max(0, int(page - PAGE_TOL))
        hi = int(page + PAGE_TOL)
        mask = ((gi < lo) | (gi > hi)).astype(np.uint8)
    else:
        mask = (np.abs(g.astype(np.float64) - page) > PAGE_TOL * step).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    H, W = g.shape
    side = max(MIN_SIDE_PX, MIN_SIDE * max(H, W))
    cand = []
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if w < side or h < side or area < MIN_FILL * w * h:
            continue
        cand.append((area, k, (y, y + h, x, x + w)))
    cand.sort(reverse=True)
    pieces: list = []
    for area, k, box in cand:
        r0, r1, c0, c1 = box
        comp = labels[r0:r1, c0:c1] == k
        t = _trim_box(comp, box, g, page, step)
        tr0, tr1, tc0, tc1 = t
        if tr1 - tr0 < side or tc1 - tc0 < side:
            continue
        if any(_inside(t, p) for p in pieces):
            continue
        if not _has_membrane_background(g, t, page, step):
            continue   # a band or a dot on a flat background: signal, not a membrane
        pieces.append(t)
    if len(pieces) < min_pieces:
        return []
    return [pieces[i] for i in reading_order(pieces)]


def _has_membrane_background(gray, box, page, step) -> bool:
    """Whether a piece has a background of its own: its rim and its interior agree.

    A membrane piece shows its membrane background both along its rim (the
    outer 3 px of its box) and between the bands inside (the interior's level
    on the page's side: the 80th percentile of the central half of the box
    when the page is brighter, the 20th when darker).  A band or a dot on a
    flat background (a noise-free or background-subtracted blot) has no such
    level: its interior lies far beyond its rim.  True when the interior's
    level lies within :data:`MAX_RIM_RATIO` times the rim's distance from the
    page (plus 2 grey steps) of the rim's level.
    """
    r0, r1, c0, c1 = box
    sub = gray[r0:r1, c0:c1]
    h, w = sub.shape
    k = min(3, h // 4, w // 4)
    if k < 1:
        return False
    ring = np.concatenate([sub[:k].ravel(), sub[-k:].ravel(), sub[k:-k, :k].ravel(),
                           sub[k:-k, -k:].ravel()]).astype(np.float64)
    inner = sub[h // 4:h - h // 4, w // 4:w - w // 4].astype(np.float64)
    rim = float(np.median(ring))
    level = float(np.percentile(inner, 80 if page > rim else 20))
    return abs(level - rim) <= MAX_RIM_RATIO * abs(rim - page) + 2 * step


def _trim_box(comp: np.ndarray, box, gray, page, step):
    """:func:`_trim` on a component mask cut to its own box."""
    r0, r1, c0, c1 = box
    a0, a1, b0, b1 = _trim(comp, (0, r1 - r0, 0, c1 - c0), gray[r0:r1, c0:c1], page, step)
    return r0 + a0, r0 + a1, c0 + b0, c0 + b1


def _inside(box, other, share: float = 0.5) -> bool:
    """Whether at least ``share`` of ``box`` lies inside ``other``."""
    r0, r1, c0, c1 = box
    q0, q1, d0, d1 = other
    ov = max(0, min(r1, q1) - max(r0, q0)) * max(0, min(c1, d1) - max(c0, d0))
    return ov >= share * (r1 - r0) * (c1 - c0)
