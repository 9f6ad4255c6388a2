"""The lane profile plot of the Blot review dock: a light QPainter widget.

Axis labels on both axes; the legend sits in its own strip above the plot
area so it never covers a peak.

A matplotlib canvas took ~0.2 s per redraw (and repainted in Python while
workers ran); this widget draws the same content -- signal, subtracted
background, band limits per row -- in a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPointF, QRectF, Qt
from qtpy.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from qtpy.QtWidgets import QSizePolicy, QWidget

from blotquant.report import colors as C

ROW_COLORS = list(C.ROW_COLORS)
SATURATED = C.SATURATED
_BG = C.BACKGROUND_CURVE


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
        self.setMinimumHeight(260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.profile = None
        self.bands = None
        self.lane = None
        self.rows: list = []
        self.label = ""
        self.x_label = "image row (px, top to bottom)"
        self.y_label = "signal summed across lane"

    # margins: y tick labels + y axis title left; title and legend strip on top; x title
    _LEFT, _RIGHT, _TOP, _BOTTOM = 62, 10, 40, 38

    def plot_rect(self) -> QRectF:
        """The data area (curves and bands are drawn only here)."""
        w, h = self.width(), self.height()
        return QRectF(self._LEFT, self._TOP, max(10, w - self._LEFT - self._RIGHT),
                      max(10, h - self._TOP - self._BOTTOM))

    def legend_rect(self) -> QRectF:
        """The legend strip, between the title and the data area."""
        return QRectF(self._LEFT, 20, max(10, self.width() - self._LEFT - self._RIGHT), 16)

    def title(self) -> str:
        """``lane 3 (sample)``."""
        if self.lane is None:
            return "profile"
        return f"lane {self.lane}" + (f" ({self.label})" if self.label else "")

    def show_profile(self, profile, bands=None, lane: int | None = None, rows=(),
                     label: str = ""):
        """Plot one lane.

        Parameters
        ----------
        profile : DataFrame or None
            Columns ``position`` (image row), ``signal``, ``background``.
        bands : DataFrame, optional
            This lane's bands (``top``, ``bottom``, ``row``, ``saturated``, ``flags``).
        lane : int, optional
        rows : sequence of str
            Row names in order (their colours).
        label : str
            The lane's sample name.
        """
        self.profile = profile if profile is not None and len(profile) else None
        self.bands = bands
        self.lane = lane
        self.rows = list(rows)
        self.label = label or ""
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event):  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.9))
        p.setFont(font)
        fg = self.palette().windowText().color()
        h = self.height()
        left = self._LEFT
        plot = self.plot_rect()
        p.fillRect(plot, QColor(0, 0, 0, 40))
        if self.profile is None:
            p.setPen(fg)
            p.drawText(plot, Qt.AlignmentFlag.AlignCenter, "press Quantify, then pick a lane")
            return
        pos = np.asarray(self.profile["position"], float)
        sig = np.asarray(self.profile["signal"], float)
        bg = np.asarray(self.profile["background"], float)
        vals = np.concatenate([sig[np.isfinite(sig)], bg[np.isfinite(bg)]])
        y0, y1 = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
        pad = 0.06 * ((y1 - y0) or 1.0)
        y0, y1 = y0 - pad, y1 + 2.5 * pad  # headroom for the row names
        x0, x1 = float(pos[0]), float(pos[-1]) if len(pos) > 1 else float(pos[0]) + 1

        def X(x):
            return plot.left() + (np.asarray(x, float) - x0) / (x1 - x0) * plot.width()

        def Y(y):
            return plot.bottom() - (np.asarray(y, float) - y0) / (y1 - y0) * plot.height()

        # band limits, shaded in their row's colour (saturated: red; not detected: orange)
        if self.bands is not None:
            for b in self.bands.itertuples(index=False):
                k = self.rows.index(b.row) if b.row in self.rows else 0
                if bool(getattr(b, "saturated", False)):
                    col = QColor(SATURATED)
                elif "not_detected" in str(getattr(b, "flags", "") or ""):
                    col = QColor(C.NOT_DETECTED)
                else:
                    col = QColor(ROW_COLORS[k % len(ROW_COLORS)])
                fill = QColor(col)
                fill.setAlpha(55)
                xa, xb = float(X(b.top)), float(X(b.bottom + 1))
                p.fillRect(QRectF(xa, plot.top(), max(1.0, xb - xa), plot.height()), fill)
                p.setPen(col)
                p.drawText(QRectF(xa - 40, plot.top() + 1, xb - xa + 80, 14),
                           Qt.AlignmentFlag.AlignHCenter, str(b.row))
        # axes, ticks, axis titles
        p.setPen(QPen(fg, 1))
        p.drawRect(plot)
        for t in _nice_ticks(y0, y1, 4):
            yy = float(Y(t))
            p.drawLine(QPointF(plot.left() - 3, yy), QPointF(plot.left(), yy))
            p.drawText(QRectF(14, yy - 7, left - 19, 14),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(t))
        for t in _nice_ticks(x0, x1, 6):
            xx = float(X(t))
            p.drawLine(QPointF(xx, plot.bottom()), QPointF(xx, plot.bottom() + 3))
            p.drawText(QRectF(xx - 30, plot.bottom() + 3, 60, 14),
                       Qt.AlignmentFlag.AlignHCenter, f"{t:g}")
        p.drawText(QRectF(left, h - 16, plot.width(), 14), Qt.AlignmentFlag.AlignHCenter,
                   self.x_label)
        p.save()
        p.translate(2, plot.top() + plot.height() / 2)
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, 0, plot.height(), 14),
                   Qt.AlignmentFlag.AlignHCenter, self.y_label)
        p.restore()
        p.drawText(QRectF(left, 2, plot.width(), 16), Qt.AlignmentFlag.AlignLeft, self.title())
        # curves
        sig_pen = QPen(QColor("#e8e8e8") if fg.lightness() > 128 else QColor("#202020"), 1.2)
        self._polyline(p, X(pos), Y(sig), sig_pen)
        self._polyline(p, X(pos), Y(bg), QPen(QColor(_BG), 1.8))
        # legend: its own strip between the title and the plot (never over a peak)
        leg = self.legend_rect()
        ly = leg.center().y()
        lx = float(leg.left())
        for text, pen in (("signal", sig_pen), ("background (subtracted)", QPen(QColor(_BG), 2))):
            p.setPen(pen)
            p.drawLine(QPointF(lx, ly), QPointF(lx + 16, ly))
            p.setPen(fg)
            p.drawText(QPointF(lx + 20, ly + 4), text)
            lx += 28 + p.fontMetrics().horizontalAdvance(text)
        fill = QColor(ROW_COLORS[0])
        fill.setAlpha(90)
        p.fillRect(QRectF(lx, ly - 5, 12, 10), fill)
        p.drawText(QPointF(lx + 16, ly + 4), "band")

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
