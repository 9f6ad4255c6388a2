"""Synthetic figure pages: several blot panels pasted on a flat page, with print.

:func:`make_figure` lays out :func:`~blotquant.synthetic.make_blot` panels on a
flat page (white or a flat grey) in two columns at different heights, as a
published figure or a composite image does, and adds what a figure carries
besides blots: printed headers and labels (text-like strokes), arrowheads, a
frame line around some panels (with a page gap or touching the membrane), and
a chart (axes, ticks, markers and bars).  The panels' pixels are pasted
unchanged, so every panel's truth (band volumes in raw units) holds in the
figure, moved to image coordinates.

Layout
------
The left column holds a target panel above a loading-control panel with the
same lanes (same lane count, width and margin: stacked pieces show the same
samples); the right column holds ``right_panels`` panels (a different lane
count, two rows, the first with a ladder lane at its left end) at staggered
heights, and the chart sits below or beside them.  Pieces are listed in
reading order (left column top to bottom, then the right column), the order
:func:`blotquant.blot.panels.find_pieces` reports.

Examples
--------
>>> f = make_figure(0)
>>> f.image.dtype.name, f.image.shape, len(f.pieces)
('uint8', (900, 1400), 4)
>>> f.lanes.groupby("piece")["lane"].count().tolist()   # the first right panel: ladder + 8
[5, 5, 9, 8]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..image import Image
from .blot import SyntheticBlot, make_blot

__all__ = ["make_figure", "SyntheticFigure"]


@dataclass
class SyntheticFigure:
    """A synthetic figure page and its truth.

    Attributes
    ----------
    image : numpy.ndarray
        2-D page (uint8 or uint16), flat ``page_level`` outside panels and print.
    pieces : pandas.DataFrame
        One row per membrane piece in reading order: ``piece`` (1-based),
        ``r0, r1, c0, c1`` (image rows ``r0:r1``, columns ``c0:c1``; the panel's
        own pixels, without frame), ``n_lanes`` (sample lanes), ``ladder``.
    lanes : pandas.DataFrame
        The panels' lane truth in image coordinates: ``piece``, ``lane`` (within
        the piece, 1-based left to right, ladder included), ``x``, ``is_ladder``,
        ``is_empty``.
    bands : pandas.DataFrame
        The panels' band truth in image coordinates: ``piece``, ``lane``,
        ``row``, ``y``, ``x``, ``volume`` (raw units, exact), ``clipped``.
    panels : list of SyntheticBlot
        The panels as rendered (their own coordinates), in piece order.
    polarity : str
    params : dict
        The arguments, resolved.
    """

    image: np.ndarray
    pieces: pd.DataFrame
    lanes: pd.DataFrame
    bands: pd.DataFrame
    panels: list
    polarity: str
    params: dict = field(default_factory=dict)

    def to_image(self) -> Image:
        """The page as a :class:`blotquant.image.Image` with its polarity.

        Returns
        -------
        blotquant.image.Image
        """
        return Image.from_array(self.image, polarity=self.polarity)


def _text(page, rng, r, c, n_chars, ink, height=12):
    """Text-like strokes: ``n_chars`` glyphs of 1-3 bars each, 2 px thick."""
    w = int(0.6 * height)
    for k in range(n_chars):
        x = c + k * (w + 3)
        if rng.random() < 0.15:
            continue   # a space
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.5:   # vertical stroke
                xx = x + int(rng.integers(0, w - 1))
                page[r:r + height, xx:xx + 2] = ink
            else:                    # horizontal stroke
                yy = r + int(rng.integers(0, height - 1))
                page[yy:yy + 2, x:x + w] = ink


def _arrowhead(page, r, c, size, ink):
    """A filled triangle pointing right, its tip at (r, c)."""
    for i in range(size):
        h = int(round((size - i) * 0.5))
        page[r - h:r + h + 1, c - size + i] = ink


def _frame(page, r0, r1, c0, c1, gap, ink, thick=2):
    """A rectangle of ``thick`` px around rows r0:r1, columns c0:c1, ``gap`` px off."""
    a0, a1, b0, b1 = r0 - gap - thick, r1 + gap + thick, c0 - gap - thick, c1 + gap + thick
    page[a0:a0 + thick, b0:b1] = ink
    page[a1 - thick:a1, b0:b1] = ink
    page[a0:a1, b0:b0 + thick] = ink
    page[a0:a1, b1 - thick:b1] = ink


def _chart(page, rng, r0, c0, h, w, ink, bar_level):
    """A chart: axes with ticks, square and round markers, and two bars."""
    page[r0:r0 + h, c0:c0 + 2] = ink                # y axis
    page[r0 + h - 2:r0 + h, c0:c0 + w] = ink        # x axis
    for t in range(5):
        y = r0 + int(t * (h - 4) / 4)
        page[y:y + 2, c0 - 6:c0] = ink
        _text(page, rng, y - 5, c0 - 40, 3, ink, height=10)
    for g, cx in enumerate((c0 + w // 4, c0 + 3 * w // 4)):
        for _ in range(6):
            y = r0 + int(rng.uniform(0.2, 0.7) * h)
            x = cx + int(rng.integers(-20, 21))
            s = 4
            if g == 0:
                yy, xx = np.ogrid[-s:s + 1, -s:s + 1]
                disk = yy ** 2 + xx ** 2 <= s * s
                sub = page[y - s:y + s + 1, x - s:x + s + 1]
                sub[disk] = ink
            else:
                page[y - s:y + s + 1, x - s:x + s + 1] = ink
        # a bar under the markers (filled, flat grey, outlined)
        top = r0 + int(0.65 * h)
        page[top:r0 + h - 2, cx - 80:cx - 30] = bar_level
        _frame(page, top, r0 + h - 2, cx - 80, cx - 30, 0, ink, thick=1)
        _text(page, rng, r0 + h + 8, cx - 10, 3, ink)


def make_figure(seed: int = 0, *, page_shape=(900, 1400), page_level: float = 255.0,
                dtype: str = "uint8", polarity: str = "dark-on-light",
                left_lanes: int = 5, right_lanes: int = 8, right_panels: int = 2,
                frames: bool = True, print_marks: bool = True, chart: bool = True,
                texture: float = 0.0, target_empty_lanes=()) -> SyntheticFigure:
    """Render a synthetic figure page of blot panels with exact truth.

    Parameters
    ----------
    seed : int
        Seed of the layout, the print and every panel (panel ``i`` uses
        ``make_blot(seed * 16 + i)``).
    page_shape : (int, int)
        Page (rows, cols), at least (600, 1000).
    page_level : float
        The page's flat grey level (255: white page, e.g. 225: flat grey).
    dtype : {"uint8", "uint16"}
    polarity : {"dark-on-light", "light-on-dark"}
        The panels' polarity (figures usually show dark bands on light membrane).
    left_lanes, right_lanes : int
        Sample lanes of the left-column panels and of the right-column panels
        (the first right panel has a ladder lane more, at its left end).
    right_panels : int
        Panels in the right column (1-3).
    frames : bool
        Draw a frame line around the left panels (one with a page gap, one
        touching the membrane) and the first right panel.
    print_marks : bool
        Headers, lane labels, row labels and arrowheads.
    chart : bool
        A chart (axes, ticks, markers, bars) at the bottom right.
    target_empty_lanes : sequence of int
        Lanes (1-based) of the top-left target panel left empty (a ``-`` control),
        which its loading-control panel below still shows.
    texture : float
        The panels' membrane texture (``make_blot``'s background ``texture``; 0 as in
        ``benchmarks/bench_blot_accuracy.py``).

    Returns
    -------
    SyntheticFigure

    Raises
    ------
    ParameterError
        If the page is too small or ``right_panels`` is not 1-3.
    """
    H, W = (int(v) for v in page_shape)
    if H < 600 or W < 1000:
        raise ParameterError(f"page_shape must be at least (600, 1000), got {page_shape}")
    if not 1 <= int(right_panels) <= 3:
        raise ParameterError(f"right_panels must be 1, 2 or 3, got {right_panels}")
    if dtype not in ("uint8", "uint16"):
        raise ParameterError(f"dtype must be uint8 or uint16, got {dtype!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xF16]))
    full = 255 if dtype == "uint8" else 65535
    page = np.full((H, W), page_level if dtype == "uint8" else page_level * 257.0, np.float64)
    ink = 0.0 if polarity == "dark-on-light" else float(full)

    # ---- layout (rows r0, columns c0, panel shape)
    lw = int(W * rng.uniform(0.30, 0.34))
    lc0 = int(W * rng.uniform(0.06, 0.09))
    top1 = int(H * rng.uniform(0.12, 0.16))
    h1 = int(H * rng.uniform(0.22, 0.26))
    h2 = int(H * rng.uniform(0.12, 0.15))
    top2 = top1 + h1 + int(H * rng.uniform(0.05, 0.08))
    rw = int(W * rng.uniform(0.36, 0.40))
    rc0 = int(W * rng.uniform(0.52, 0.56))
    rtop = int(H * rng.uniform(0.08, 0.13))
    avail = int(0.95 * H) - rtop
    n_right = int(right_panels)
    gaps = int(H * 0.04)
    space = avail - (n_right - 1) * gaps - (int(0.28 * H) if chart else 0)
    rh = [int(space / n_right * f) for f in rng.uniform(0.75, 0.95, n_right)]
    layout = [(top1, lc0, h1, lw, left_lanes, False, ("TGT",)),
              (top2, lc0, h2, lw, left_lanes, False, ("CTRL",))]
    r = rtop
    for i in range(n_right):
        layout.append((r, rc0, rh[i], rw, right_lanes + (1 if i == 0 else 0), i == 0,
                       ("P1", "P2")))
        r += rh[i] + gaps + int(rng.integers(0, 12))
    chart_top = r + int(0.03 * H)

    panels, pieces, lane_rows, band_rows = [], [], [], []
    for i, (r0, c0, h, w, n, ladder, rows) in enumerate(layout):
        b = make_blot(int(seed) * 16 + i, shape=(h, w), n_lanes=n, rows=rows,
                      polarity=polarity, dtype=dtype, ladder=ladder,
                      row_y=None if len(rows) > 1 else [0.5 * h],
                      lane_margin=0.06, background={"texture": float(texture)},
                      tilt_deg=float(rng.uniform(-0.8, 0.8)),
                      empty_lanes=tuple(target_empty_lanes) if i == 0 else ())
        # the two left panels show the same samples: same lane layout by construction
        page[r0:r0 + h, c0:c0 + w] = b.image
        panels.append(b)
        t = b.truth
        pieces.append(dict(piece=i + 1, r0=r0, r1=r0 + h, c0=c0, c1=c0 + w,
                           n_lanes=int((~t.lanes["is_ladder"]).sum()), ladder=bool(ladder)))
        for rec in t.lanes.itertuples():
            lane_rows.append(dict(piece=i + 1, lane=int(rec.lane), x=float(rec.x) + c0,
                                  is_ladder=bool(rec.is_ladder), is_empty=bool(rec.is_empty)))
        for rec in t.bands.itertuples():
            band_rows.append(dict(piece=i + 1, lane=int(rec.lane), row=str(rec.row),
                                  y=float(rec.y) + r0, x=float(rec.x) + c0,
                                  volume=float(rec.volume), clipped=bool(rec.clipped)))

    if frames:
        p0, p1, p2 = pieces[0], pieces[1], pieces[2]
        _frame(page, p0["r0"], p0["r1"], p0["c0"], p0["c1"], 6, ink)     # page gap
        _frame(page, p1["r0"], p1["r1"], p1["c0"], p1["c1"], 0, ink)     # touching
        _frame(page, p2["r0"], p2["r1"], p2["c0"], p2["c1"], 4, ink)
    if print_marks:
        _text(page, rng, int(0.03 * H), lc0, 18, ink, height=16)          # headers
        _text(page, rng, int(0.03 * H), rc0, 22, ink, height=16)
        for p, nl in ((pieces[0], left_lanes), (pieces[2], right_lanes + 1)):
            pitch = (p["c1"] - p["c0"]) / nl
            for k in range(nl):                                            # lane labels
                _text(page, rng, p["r0"] - 30, int(p["c0"] + (k + 0.3) * pitch), 2, ink)
        for p in pieces:                                                   # row labels
            _text(page, rng, (p["r0"] + p["r1"]) // 2 - 6, p["c1"] + 14, 5, ink)
            _arrowhead(page, (p["r0"] + p["r1"]) // 2, p["c0"] - 14, 14, ink)
    if chart:
        ch = min(int(0.2 * H), H - chart_top - 40)
        if ch > 60:
            _chart(page, rng, chart_top, rc0 + 60, ch, int(0.6 * rw), ink,
                   0.55 * full)
    img = np.clip(np.rint(page), 0, full).astype(dtype)
    pieces_df = pd.DataFrame(pieces)
    params = dict(seed=int(seed), page_shape=[H, W], page_level=float(page_level), dtype=dtype,
                  polarity=polarity, left_lanes=int(left_lanes), right_lanes=int(right_lanes),
                  right_panels=n_right, frames=bool(frames), print_marks=bool(print_marks),
                  chart=bool(chart), texture=float(texture),
                  target_empty_lanes=[int(v) for v in target_empty_lanes])
    return SyntheticFigure(image=img, pieces=pieces_df, lanes=pd.DataFrame(lane_rows),
                           bands=pd.DataFrame(band_rows), panels=panels, polarity=polarity,
                           params=params)
