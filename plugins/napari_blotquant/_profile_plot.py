"""The lane profile plot of the Blot review dock (matplotlib in Qt).

Artists are created once and updated in place (no layout engine), so a redraw
after an edit costs a few tens of milliseconds.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure

_ROW_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
_SATURATED = "#ff1a1a"


class ProfilePlot(FigureCanvasQTAgg):
    """Profile of one lane: signal, subtracted background and the band limits."""

    def __init__(self, parent=None):
        self.figure = Figure(figsize=(4, 2.0), dpi=90)
        super().__init__(self.figure)
        self.setParent(parent)
        self.setMinimumHeight(170)
        self.figure.subplots_adjust(left=0.15, right=0.98, bottom=0.2, top=0.88)
        ax = self.ax = self.figure.add_subplot(111)
        ax.tick_params(labelsize=7)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        ax.yaxis.get_offset_text().set_fontsize(7)
        (self.signal_line,) = ax.plot([], [], color="black", lw=0.9, label="signal")
        (self.bg_line,) = ax.plot([], [], color="#d62728", lw=1.2, label="background")
        ax.set_xlabel("image row (px)", fontsize=7)
        ax.set_ylabel("lane sum", fontsize=7)
        self.title = ax.set_title("", fontsize=8)
        ax.legend(fontsize=6, loc="upper left", frameon=False)
        self.empty = ax.text(0.5, 0.5, "run the analysis and select a lane", ha="center",
                             va="center", transform=ax.transAxes, fontsize=8, color="0.4")
        self._band_artists: list = []
        self.draw_idle()

    def show_profile(self, profile, bands=None, lane: int | None = None, rows=()):
        """``profile``: DataFrame(position, signal, background); ``bands``: this lane's bands."""
        ax = self.ax
        for a in self._band_artists:
            a.remove()
        self._band_artists = []
        if profile is None or not len(profile):
            self.signal_line.set_data([], [])
            self.bg_line.set_data([], [])
            self.empty.set_visible(True)
            self.title.set_text("")
            self.draw_idle()
            return
        self.empty.set_visible(False)
        pos = np.asarray(profile["position"], float)
        sig = np.asarray(profile["signal"], float)
        bg = np.asarray(profile["background"], float)
        self.signal_line.set_data(pos, sig)
        self.bg_line.set_data(pos, bg)
        rows = list(rows)
        if bands is not None:
            for b in bands.itertuples(index=False):
                k = rows.index(b.row) if b.row in rows else 0
                col = _SATURATED if bool(getattr(b, "saturated", False)) else _ROW_COLORS[k % 6]
                self._band_artists.append(ax.axvspan(b.top, b.bottom + 1, color=col, alpha=0.2,
                                                     lw=0))
                self._band_artists.append(ax.text(
                    0.5 * (b.top + b.bottom), 0.97, str(b.row), fontsize=7, ha="center",
                    va="top", color=col, transform=ax.get_xaxis_transform()))
        finite = np.concatenate([sig[np.isfinite(sig)], bg[np.isfinite(bg)]])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        pad = 0.05 * (hi - lo or 1.0)
        ax.set_xlim(pos[0], pos[-1] if len(pos) > 1 else pos[0] + 1)
        ax.set_ylim(lo - pad, hi + 3 * pad)
        self.title.set_text(f"lane {lane} profile" if lane is not None else "profile")
        self.draw_idle()
