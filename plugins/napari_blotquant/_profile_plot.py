"""The lane profile plot of the Blot review dock: a light QPainter widget.

A matplotlib canvas took ~0.2 s per redraw (and repainted in Python while
workers ran); this widget draws the same content -- signal, subtracted
background, band limits per row -- in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

ROW_COLORS = ["#4c9be8", "#ff9f40", "#5ad15a", "#b48cf2", "#e8a87c", "#f27ec2"]
SATURATED = "#ff3b3b"
_BG = "#d62728"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    span = hi - lo
    if not np.isfinite(span) or span <= 0:
        return np.array([lo])
    raw = span / n
    mag = 10 ** np.floor(np.log10(raw))
    step = mag * min((m for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10)
    return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step)


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


class ProfilePlot(QWidget):
    """Profile of one lane: signal (light line), background (red), band limits (shaded)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.profile = None
        self.bands = None
        self.lane = None
        self.rows: list = []

    def show_profile(self, profile, bands=None, lane: int | None = None, rows=()):
        """``profile``: DataFrame(position, signal, background); ``bands``: this lane's bands."""
        self.profile = profile if profile is not None and len(profile) else None
        self.bands = bands
        self.lane = lane
        self.rows = list(rows)
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event):  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        fg = self.palette().windowText().color()
        w, h = self.width(), self.height()
        left, right, top, bottom = 46, 8, 18, 22
        plot = QRectF(left, top, max(10, w - left - right), max(10, h - top - bottom))
        p.fillRect(plot, QColor(0, 0, 0, 40))
        if self.profile is None:
            p.setPen(fg)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "run the analysis and select a lane")
            return
        pos = np.asarray(self.profile["position"], float)
        sig = np.asarray(self.profile["signal"], float)
        bg = np.asarray(self.profile["background"], float)
        vals = np.concatenate([sig[np.isfinite(sig)], bg[np.isfinite(bg)]])
        y0, y1 = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
        pad = 0.06 * ((y1 - y0) or 1.0)
        y0, y1 = y0 - pad, y1 + 2.5 * pad
        x0, x1 = float(pos[0]), float(pos[-1]) if len(pos) > 1 else float(pos[0]) + 1

        def X(x):
            return plot.left() + (np.asarray(x, float) - x0) / (x1 - x0) * plot.width()

        def Y(y):
            return plot.bottom() - (np.asarray(y, float) - y0) / (y1 - y0) * plot.height()

        # band limits
        if self.bands is not None:
            for b in self.bands.itertuples(index=False):
                k = self.rows.index(b.row) if b.row in self.rows else 0
                col = QColor(SATURATED if bool(getattr(b, "saturated", False))
                             else ROW_COLORS[k % len(ROW_COLORS)])
                fill = QColor(col)
                fill.setAlpha(55)
                xa, xb = float(X(b.top)), float(X(b.bottom + 1))
                p.fillRect(QRectF(xa, plot.top(), max(1.0, xb - xa), plot.height()), fill)
                p.setPen(col)
                p.drawText(QRectF(xa - 40, plot.top() + 1, xb - xa + 80, 14),
                           Qt.AlignmentFlag.AlignHCenter, str(b.row))
        # axes, ticks
        p.setPen(QPen(fg, 1))
        p.drawRect(plot)
        for t in _nice_ticks(y0, y1, 4):
            yy = float(Y(t))
            p.drawLine(QPointF(plot.left() - 3, yy), QPointF(plot.left(), yy))
            p.drawText(QRectF(0, yy - 7, left - 5, 14),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(t))
        for t in _nice_ticks(x0, x1, 6):
            xx = float(X(t))
            p.drawLine(QPointF(xx, plot.bottom()), QPointF(xx, plot.bottom() + 3))
            p.drawText(QRectF(xx - 30, plot.bottom() + 3, 60, 14),
                       Qt.AlignmentFlag.AlignHCenter, f"{t:g}")
        p.drawText(QRectF(left, 0, plot.width(), top), Qt.AlignmentFlag.AlignCenter,
                   f"lane {self.lane} profile (sum across lane) vs image row"
                   if self.lane is not None else "profile")
        # curves
        self._polyline(p, X(pos), Y(sig), QPen(QColor("#e8e8e8") if fg.lightness() > 128
                                                else QColor("#202020"), 1.2))
        self._polyline(p, X(pos), Y(bg), QPen(QColor(_BG), 1.8))
        # legend
        p.setPen(QPen(QColor(_BG), 2))
        lx, ly = plot.right() - 92, plot.top() + 26
        p.drawLine(QPointF(lx, ly), QPointF(lx + 14, ly))
        p.setPen(fg)
        p.drawText(QPointF(lx + 18, ly + 4), "background")

    @staticmethod
    def _polyline(p, xs, ys, pen):
        ok = np.isfinite(ys)
        if not ok.any():
            return
        path = QPainterPath()
        drawing = False
        for x, y, good in zip(xs.tolist(), ys.tolist(), ok.tolist()):
            if not good:
                drawing = False
                continue
            if drawing:
                path.lineTo(x, y)
            else:
                path.moveTo(x, y)
                drawing = True
        p.setPen(pen)
        p.drawPath(path)
