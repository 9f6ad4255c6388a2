"""Geometry between blotquant results and napari Shapes data (no Qt, no napari).

Lanes are drawn as polygons ("ribbons"): the left edge top to bottom, then
the right edge bottom to top, each vertex offset half a width across the
centre line.  Reading a ribbon back pairs vertex ``i`` with ``2N-1-i``: the
midpoints are the centre line, the distances the width -- so moving,
scaling or bending a ribbon in napari gives the corresponding Lane.  Shapes
drawn by hand (rectangles, arbitrary polygons) are read by horizontal
sections instead.  Bands are axis-aligned rectangles (top, bottom, left,
right).

Every shape carries a stable integer ``uid`` feature (napari renumbers rows
after a delete and copies the last row's features to a new shape).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LANE_FEATURES = ["uid", "strip", "lane", "label", "x", "width", "is_ladder", "edited"]
BAND_FEATURES = ["uid", "strip", "lane", "row", "band", "volume", "saturated", "flags",
                 "edited", "box_edited"]

from blotquant.report import colors as C

LANE_COLOR = C.LANE


# --------------------------------------------------------------------------- lanes
def lane_ribbon(centerline, width: float) -> np.ndarray:
    """(2N, 2) polygon around a (N, 2) row/col centre line."""
    c = np.asarray(centerline, dtype=float).reshape(-1, 2)
    d = np.gradient(c, axis=0) if len(c) > 1 else np.array([[1.0, 0.0]])
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1.0
    d = d / norm[:, None]
    n = np.stack([d[:, 1], -d[:, 0]], axis=1)  # points to smaller columns for downward lanes
    half = float(width) / 2.0
    left = c + n * half
    right = c - n * half
    return np.vstack([left, right[::-1]])


def _paired(v: np.ndarray):
    """Centre line and width if ``v`` is a ribbon in our vertex order, else None."""
    if len(v) < 4 or len(v) % 2:
        return None
    n = len(v) // 2
    left, right = v[:n], v[::-1][:n]
    d = right - left
    if not np.all(np.abs(d[:, 1]) > np.abs(d[:, 0])):
        return None
    centre = (left + right) / 2.0
    if np.any(np.diff(centre[:, 0]) <= 0):
        return None
    return centre, float(np.mean(np.hypot(d[:, 0], d[:, 1])))


def _sections(v: np.ndarray, n_sections: int = 5):
    """Centre line and width of any polygon from horizontal sections."""
    top, bottom = float(v[:, 0].min()), float(v[:, 0].max())
    if bottom - top < 1e-9:
        raise ValueError("a lane must have a height")
    eps = 1e-6 * (bottom - top)
    ys = np.linspace(top + eps, bottom - eps, n_sections)
    a, b = v, np.roll(v, -1, axis=0)
    pts, widths = [], []
    for y in ys:
        lo, hi = np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0])
        m = (lo <= y) & (y < hi) & (hi > lo)
        if not np.any(m):
            continue
        t = (y - a[m, 0]) / (b[m, 0] - a[m, 0])
        xs = a[m, 1] + t * (b[m, 1] - a[m, 1])
        pts.append([y, (xs.min() + xs.max()) / 2.0])
        widths.append(xs.max() - xs.min())
    if len(pts) < 2:
        raise ValueError("cannot read a lane from this shape")
    c = np.asarray(pts)
    c[0, 0], c[-1, 0] = top, bottom
    return c, float(np.median(widths))


def ribbon_to_centerline(vertices) -> tuple[np.ndarray, float]:
    """(centerline (N, 2), width) from a lane shape's vertices."""
    v = np.asarray(vertices, dtype=float).reshape(-1, 2)
    got = _paired(v)
    return got if got is not None else _sections(v)


def lanes_to_shapes(lane_geometry, lanes_table: pd.DataFrame | None = None):
    """(list of polygons, features DataFrame) for a list of blotquant Lanes."""
    data, rows = [], []
    for uid, lane in enumerate(lane_geometry, start=1):
        data.append(lane_ribbon(lane.centerline, lane.width))
        c = np.asarray(lane.centerline)
        rows.append({"uid": uid, "strip": int(getattr(lane, "strip", 1)),
                     "lane": int(lane.lane), "label": "", "x": float(np.mean(c[:, 1])),
                     "width": float(lane.width), "is_ladder": bool(lane.is_ladder),
                     "edited": bool(getattr(lane, "edited", False))})
    return data, pd.DataFrame(rows, columns=LANE_FEATURES)


def lane_colors(features: pd.DataFrame) -> list[str]:
    """Outline colour per lane shape (:mod:`blotquant.report.colors`)."""
    return [C.lane_color(bool(x)) for x in features.get("is_ladder", [])]


# --------------------------------------------------------------------------- bands
def band_rect(top, bottom, left, right) -> np.ndarray:
    """(4, 2) rectangle vertices (row, col) of a band box."""
    return np.array([[top, left], [top, right], [bottom, right], [bottom, left]], dtype=float)


def box_rect(top, bottom, left, right) -> np.ndarray:
    """Rectangle covering the pixels of a band box (rows top..bottom inclusive,
    columns [left, right)): pixel centres are at integer coordinates in napari."""
    return band_rect(top - 0.5, bottom + 0.5, left - 0.5, right - 0.5)


def rect_box(vertices) -> dict:
    """Inverse of :func:`box_rect`: top/bottom as int rows, left/right as columns."""
    top, bottom, left, right = rect_to_box(vertices)
    t = int(round(top + 0.5))
    return {"top": t, "bottom": max(t, int(round(bottom - 0.5))),
            "left": left + 0.5, "right": right + 0.5}


def rect_to_box(vertices) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) of a band shape (its bounding box)."""
    v = np.asarray(vertices, dtype=float).reshape(-1, 2)
    return (float(v[:, 0].min()), float(v[:, 0].max()),
            float(v[:, 1].min()), float(v[:, 1].max()))


def bands_to_shapes(bands: pd.DataFrame, start_uid: int = 1):
    """(list of rectangles, features DataFrame) for a BlotResult.bands table."""
    data, rows = [], []
    for uid, (_, b) in enumerate(bands.iterrows(), start=start_uid):
        data.append(box_rect(b["top"], b["bottom"], b["left"], b["right"]))
        rows.append({"uid": uid, "strip": int(b.get("strip", 1)), "lane": int(b["lane"]),
                     "row": str(b["row"]), "flags": str(b.get("flags", "") or ""), "band": int(b.get("band", uid)),
                     "volume": float(b["volume"]), "saturated": bool(b["saturated"]),
                     "edited": bool(b.get("edited", False)), "box_edited": False})
    return data, pd.DataFrame(rows, columns=BAND_FEATURES)


def band_colors(features: pd.DataFrame) -> list[str]:
    """Outline colour per band shape: saturated, not detected or measured."""
    sat = list(features.get("saturated", []))
    flags = list(features["flags"]) if "flags" in features else [""] * len(sat)
    return [C.band_color(bool(s), f) for s, f in zip(sat, flags)]


# --------------------------------------------------------------------------- assignment
def nearest_lane(lanes, row: float, col: float):
    """The Lane whose centre (at ``row``) is closest to ``col`` (prefers lanes spanning row)."""
    best, best_d = None, np.inf
    for lane in lanes:
        x = float(np.interp(row, lane.centerline[:, 0], lane.centerline[:, 1]))
        d = abs(x - col)
        if not (lane.centerline[0, 0] - 1 <= row <= lane.centerline[-1, 0] + 1):
            d += 1e6
        if d < best_d:
            best, best_d = lane, d
    return best


def nearest_row(bands: pd.DataFrame, strip: int, y: float, default: str) -> str:
    """Row name of the band (same strip first) whose centre is closest to ``y``."""
    if bands is None or not len(bands):
        return default
    b = bands[bands["strip"] == strip] if "strip" in bands and (bands["strip"] == strip).any() \
        else bands
    centre = (b["top"] + b["bottom"]) / 2.0
    return str(b.iloc[int(np.argmin(np.abs(centre.to_numpy() - y)))]["row"])


def strip_of(lanes, row: float, col: float | None = None) -> int:
    """Strip whose lanes span ``row`` (1 when unknown).

    With ``col``, the strip of the lane spanning ``row`` closest to ``col``: on a
    figure page, pieces side by side span the same rows with different strips.
    """
    best, best_d = None, np.inf
    for lane in lanes:
        if lane.centerline[0, 0] - 1 <= row <= lane.centerline[-1, 0] + 1:
            if col is None:
                return int(lane.strip)
            d = abs(float(np.interp(row, lane.centerline[:, 0], lane.centerline[:, 1])) - col)
            if d < best_d:
                best, best_d = int(lane.strip), d
    return 1 if best is None else best
