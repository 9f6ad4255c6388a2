"""Flat-colour annotations drawn on a gray blot (boxes, arrows, typed labels).

A blot image is gray: film scans, chemiluminescence and fluorescence exports
store R = G = B, or a gray signal through a colour lookup table.  When such an
image also carries regions of one exact, strongly coloured fill (a box drawn
over the membrane in an image editor, a coloured arrow or label), those pixels
are no signal: converted to gray they would read as a band row (a solid blue
box becomes a flat, wide, "saturated" band).  Signal never looks like that:
bands, membrane, film grain and camera noise vary from pixel to pixel, and a
colorimetric blot's bands vary smoothly, so a *flat* patch of a *strong*
colour is a drawing.

:func:`flat_colour_annotations` finds them; :func:`fill_annotations` gives
them the level of the gray membrane around them, as the frame of an export is
given the background level, so that no lane, strip or band is found in them.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["flat_colour_annotations", "fill_annotations", "ANNOTATION_CHROMA",
           "ANNOTATION_FLAT", "ANNOTATION_MIN_PX"]

#: Smallest channel spread (max - min, in 8-bit units) of an annotation colour:
#: far beyond the few units that JPEG, chroma noise or a film scanner's colour
#: fringes give a gray image (the shared film scans: <= 0.5 % of pixels reach
#: 40, none of them flat).
ANNOTATION_CHROMA = 40
#: Largest 3 x 3 range of each channel (8-bit units) of a flat fill: a drawn
#: colour is constant; signal, membrane and noise vary by more.
ANNOTATION_FLAT = 2
#: Smallest connected flat-colour area (px) taken as a drawing; smaller specks
#: stay (they cannot make a row).
ANNOTATION_MIN_PX = 64
#: Antialiased rim: pixels within this many px of a drawing that carry any
#: colour (spread >= :data:`RIM_CHROMA`) belong to it.
RIM_PX = 2
RIM_CHROMA = 8


def _top(dtype) -> float:
    dt = np.dtype(dtype)
    return float(np.iinfo(dt).max) if dt.kind in "ui" else 1.0


def flat_colour_annotations(rgb) -> np.ndarray:
    """Mask of flat-colour drawings on a gray blot (bool, rows x cols).

    Parameters
    ----------
    rgb : array (rows, cols, 3)
        The RGB image (uint8, uint16 or float in 0..1).

    Returns
    -------
    mask : ndarray of bool
        Pixels of connected flat patches (every channel's 3 x 3 range <=
        :data:`ANNOTATION_FLAT`) of a strong colour (spread >=
        :data:`ANNOTATION_CHROMA`) of at least :data:`ANNOTATION_MIN_PX` px,
        with their coloured antialiased rim.  All False for a gray image and
        for smoothly varying colour (a colorimetric blot's bands).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> g = rng.integers(180, 220, (60, 80), dtype=np.uint8)
    >>> rgb = np.dstack([g, g, g])
    >>> rgb[10:30, 20:60] = (91, 155, 213)          # a solid blue box
    >>> m = flat_colour_annotations(rgb)
    >>> int(m.sum()), bool(m[20, 40]), bool(m[45, 40])
    (800, True, False)
    """
    a = np.asarray(rgb)[..., :3]
    a8 = a if a.dtype == np.uint8 else np.clip(
        np.rint(a.astype(np.float64) * (255.0 / _top(a.dtype))), 0, 255).astype(np.uint8)
    spread = (a8.max(axis=-1).astype(np.int16) - a8.min(axis=-1))
    strong = spread >= ANNOTATION_CHROMA
    if not strong.any():
        return np.zeros(a.shape[:2], bool)
    k = np.ones((3, 3), np.uint8)
    flat = strong.copy()
    for c in range(3):
        ch = np.ascontiguousarray(a8[..., c])
        rng = cv2.dilate(ch, k) - cv2.erode(ch, k)
        flat &= rng <= ANNOTATION_FLAT
    if not flat.any():
        return np.zeros(a.shape[:2], bool)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(flat.view(np.uint8), connectivity=8)
    big = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= ANNOTATION_MIN_PX)
    big = big[big > 0]
    if not big.size:
        return np.zeros(a.shape[:2], bool)
    keep = np.zeros(n, bool)
    keep[big] = True
    mask = keep[lab]
    # flat pixels are the fill's interior (3 x 3 flat); its edge and antialiased rim
    # carry the colour too
    grown = cv2.dilate(mask.view(np.uint8), np.ones((2 * RIM_PX + 3,) * 2, np.uint8)).view(bool)
    return mask | (grown & (spread >= RIM_CHROMA))


def fill_annotations(gray: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``gray`` with each drawing of ``mask`` set to the median of the membrane
    around it (a ring 3-8 px outside it), in the image's dtype (a copy).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.full((40, 40), 200, np.uint8); g[10:20, 10:20] = 90
    >>> m = np.zeros(g.shape, bool); m[10:20, 10:20] = True
    >>> int(fill_annotations(g, m)[15, 15])
    200
    """
    out = np.array(gray, copy=True)
    n, lab = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    for i in range(1, n):
        comp = (lab == i).view(np.uint8)
        near = cv2.dilate(comp, np.ones((7, 7), np.uint8)).view(bool)
        ring = cv2.dilate(comp, np.ones((17, 17), np.uint8)).view(bool) & ~near & ~mask
        vals = gray[ring] if ring.any() else gray[~mask]
        if vals.size:
            out[comp.view(bool)] = np.asarray(np.median(vals)).astype(gray.dtype)
    return out
