"""QC figure of a blot quantification (matplotlib object API, no pyplot).

Top: the analysed image with every lane's centre line (numbered), every band's
box (named by its row at the left of the row) coloured by what it means --
quantified, saturated, not detected --, on a figure page the membrane pieces
(dotted, with their strips), printed group lines that parted lanes into
side-by-side strips (solid blue, with the strip numbers) and a legend that explains every colour
(:mod:`blotquant.report.colors`).  Below: one profile per lane (signal summed
across the lane, per image row) with the background that was subtracted and
the band limits.

Examples
--------
>>> import tempfile, os
>>> from blotquant.synthetic import make_blot
>>> from blotquant.blot import quantify_blot
>>> res = quantify_blot(make_blot(0, shape=(200, 300), n_lanes=3).to_image())
>>> p = blot_qc_figure(res, os.path.join(tempfile.mkdtemp(), "qc.png"))
>>> p.suffix
'.png'
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import colors as C

__all__ = ["blot_qc_figure", "make_blot_qc_figure", "band_color"]

#: Smallest font size used in the figure (points).
MIN_FONT = 8


def band_color(saturated: bool, flags: str = "") -> str:
    """Colour of a band box: saturated, not detected or quantified.

    Parameters
    ----------
    saturated : bool
        The band has clipped pixels.
    flags : str
        The band's ``flags`` text (``;``-separated).

    Returns
    -------
    str
        Hex colour from :mod:`blotquant.report.colors`.

    Examples
    --------
    >>> band_color(True) == C.SATURATED, band_color(False, "not_detected") == C.NOT_DETECTED
    (True, True)
    """
    if bool(saturated):
        return C.SATURATED
    if "not_detected" in str(flags or ""):
        return C.NOT_DETECTED
    return C.BAND


def _default_title(result) -> str:
    name = str(result.bands["image"].iloc[0]) if len(result.bands) else \
        str(getattr(result.metadata, "path", "") or "")
    name = Path(name).name if name else "blot"
    n_lanes = len(result.lane_geometry)
    rows = ", ".join(map(str, result.rows)) or "none"
    return (f"{name}: {n_lanes} lanes, rows {rows}, "
            f"background {result.params.get('background')}")


def _lane_name(lane_labels, lane: int) -> str:
    if lane_labels is None:
        return ""
    if isinstance(lane_labels, dict):
        v = lane_labels.get(lane, lane_labels.get(str(lane), ""))
    else:
        seq = list(lane_labels)
        v = seq[lane - 1] if 0 < lane <= len(seq) else ""
    return "" if v is None else str(v)


def make_blot_qc_figure(result, *, title: str | None = None, lane_labels=None):
    """Build the QC figure of a :class:`~blotquant.blot.BlotResult`.

    Parameters
    ----------
    result : BlotResult
        A quantification.
    title : str, optional
        Figure title (default: image name, lane count, rows, background method).
    lane_labels : sequence or dict, optional
        Lane names (e.g. the sample sheet's ``lane_labels``): a sequence in lane
        order or a dict lane number -> name; shown in the profile titles.

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 is the image, the next axes are the lane profiles in lane order.

    Examples
    --------
    >>> from blotquant.synthetic import make_blot
    >>> from blotquant.blot import quantify_blot
    >>> fig = make_blot_qc_figure(quantify_blot(make_blot(1, shape=(200, 300), n_lanes=3).image))
    >>> fig.axes[1].get_xlabel()
    'image row (px)'
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    sig = np.asarray(result.signal, dtype=np.float32)
    lanes = list(result.lane_geometry)
    bands = result.bands
    n = max(1, len(lanes))
    ncols = min(n, 6)
    nrows = int(math.ceil(n / ncols))
    H, W = sig.shape
    width = min(16.0, max(8.0, 2.5 * ncols))
    img_h = min(9.0, max(3.5, width * H / max(W, 1)))
    fig = Figure(figsize=(width, img_h + 1.2 + 2.3 * nrows), layout="constrained")
    gs = fig.add_gridspec(1 + nrows, ncols, height_ratios=[img_h + 1.0] + [2.3] * nrows)
    ax = fig.add_subplot(gs[0, :])
    dark_on_light = result.params.get("polarity_used") == "dark-on-light"
    finite = sig[::4, ::4][np.isfinite(sig[::4, ::4])]
    lo, hi = np.percentile(finite, [1, 99.7]) if finite.size else (0.0, 1.0)
    ax.imshow(sig, cmap="gray_r" if dark_on_light else "gray", vmin=lo,
              vmax=hi if hi > lo else lo + 1, interpolation="nearest")
    label_box = dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8)
    pieces = result.params.get("pieces_found") or []
    for pc in pieces:
        # a figure page: each membrane piece was analysed as a blot of its own
        ax.add_patch(Rectangle((pc["left"] - 0.5, pc["top"] - 0.5), pc["right"] - pc["left"],
                               pc["bottom"] - pc["top"] + 1, fill=False, ec=C.PIECE, lw=1.4,
                               ls=":"))
        strips = pc.get("strips") or []
        what = ("strip " + "-".join(str(v) for v in (strips[:1] + strips[-1:] if len(strips) > 1
                                                     else strips)) if strips else "no blot")
        ax.text(pc["left"], pc["top"] - 2, f"piece {pc['piece']}: {what}", color=C.PIECE,
                fontsize=MIN_FONT, va="bottom", ha="left", clip_on=True)
    group_lines = result.params.get("group_lines") or []
    for r0, c0, r1, c1 in group_lines:
        # printed brackets or group lines that parted a strip into side-by-side strips
        ax.plot([c0, c1], [r0, r1], color=C.PIECE, lw=2.4, alpha=0.75, solid_capstyle="butt")
    sources = result.params.get("strip_source") or []
    for s, src in enumerate(sources, start=1):
        mine = [ln for ln in lanes if ln.strip == s]
        if src == "group lines" and mine:
            yb = min(ln.bottom for ln in mine) - 2
            xs = [float(ln.x_at(yb)) for ln in mine]
            ax.text(0.5 * (min(xs) + max(xs)), yb, f"strip {s}", color=C.PIECE,
                    fontsize=MIN_FONT, va="bottom", ha="center", clip_on=True, bbox=label_box)
    for ln in lanes:
        c = ln.centerline
        col = C.LADDER if ln.is_ladder else C.LANE
        ax.plot(c[:, 1], c[:, 0], color=col, lw=1.0)
        y0 = max(ln.top, 0) + 2
        ax.text(float(ln.x_at(y0)), y0, str(ln.lane) + (" L" if ln.is_ladder else ""),
                color="black", fontsize=MIN_FONT + 1, va="top", ha="center",
                fontweight="bold", bbox=dict(label_box, ec=col, lw=1.0), clip_on=True)
    for rec in bands.itertuples():
        col = band_color(rec.saturated, rec.flags)
        nd = col == C.NOT_DETECTED
        ax.add_patch(Rectangle((rec.left - 0.5, rec.top - 0.5), rec.right - rec.left + 1,
                               rec.bottom - rec.top + 1, fill=False, ec=col,
                               lw=1.6 if col != C.BAND else 1.1, ls="--" if nd else "-"))
    # row names: above the top-left corner of each row's leftmost visible band (per strip)
    if len(bands):
        key = ["strip", "row"] if "strip" in bands.columns else ["row"]
        for _, g in bands.groupby(key, sort=False):
            vis = g[(g["right"] > 0) & (g["left"] < W - 1)]
            if vis.empty:
                continue
            first = vis.loc[vis["left"].idxmin()]
            ax.text(max(float(first["left"]), 0.0) + 1, float(first["top"]) - 1,
                    str(first["row"]), ha="left", va="bottom", fontsize=MIN_FONT + 1,
                    color="black", bbox=label_box, clip_on=True)
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_xlabel("column (px)", fontsize=MIN_FONT + 1)
    ax.set_ylabel("row (px)", fontsize=MIN_FONT + 1)
    ax.tick_params(labelsize=MIN_FONT)
    ax.set_title(title or _default_title(result), fontsize=MIN_FONT + 3)
    n_sat = int(bands["saturated"].astype(bool).sum()) if len(bands) else 0
    n_nd = int(bands["flags"].astype(str).str.contains("not_detected").sum()) \
        if len(bands) else 0
    handles = [Line2D([], [], color=C.LANE, lw=1.5, label="lane centre line (number on top)"),
               Patch(fill=False, ec=C.BAND, lw=1.5, label="band box (quantified)"),
               Patch(fill=False, ec=C.SATURATED, lw=1.5,
                     label=f"saturated: clipped pixels, volume is a lower bound ({n_sat})"),
               Patch(fill=False, ec=C.NOT_DETECTED, lw=1.5, ls="--",
                     label=f"not detected: measured where the band should be ({n_nd})")]
    if pieces:
        handles.append(Patch(fill=False, ec=C.PIECE, lw=1.5, ls=":",
                             label=f"membrane piece of a figure page ({len(pieces)})"))
    if group_lines:
        handles.append(Line2D([], [], color=C.PIECE, lw=2.4, alpha=0.75,
                              label=f"printed group line: its lanes are one strip "
                                    f"({len(group_lines)})"))
    if any(ln.is_ladder for ln in lanes):
        handles.insert(1, Line2D([], [], color=C.LADDER, lw=1.5, label="ladder lane (L)"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08 * 6 / img_h),
              ncols=2 if width < 12 else 3, fontsize=MIN_FONT + 1, frameon=False)
    for i, ln in enumerate(lanes):
        a = fig.add_subplot(gs[1 + i // ncols, i % ncols])
        pr = result.profiles.get(ln.lane)
        name = _lane_name(lane_labels, ln.lane)
        a.set_title(f"lane {ln.lane}" + (f": {name}" if name else "")
                    + (" (ladder)" if ln.is_ladder else ""), fontsize=MIN_FONT + 1)
        a.tick_params(labelsize=MIN_FONT)
        if pr is None or len(pr) == 0:
            a.text(0.5, 0.5, "no profile", ha="center", va="center", transform=a.transAxes,
                   fontsize=MIN_FONT)
            a.set_xticks([])
            a.set_yticks([])
            continue
        a.plot(pr["position"], pr["signal"], lw=0.9, color="k", label="signal")
        if np.isfinite(pd_float(pr["background"])).any():
            a.plot(pr["position"], pr["background"], lw=1.1, color="0.55", ls="--",
                   label="background")
        bl = bands[bands["lane"] == ln.lane]
        if "strip" in bands.columns:
            bl = bl[bl["strip"] == ln.strip]
        for rec in bl.itertuples():
            a.axvspan(rec.top, rec.bottom, color=band_color(rec.saturated, rec.flags),
                      alpha=0.25, lw=0)
        if len(bl):
            a.set_xlim(bl["top"].min() - 60, bl["bottom"].max() + 60)
        if i % ncols == 0:
            a.set_ylabel("signal (raw units,\nsummed across lane)", fontsize=MIN_FONT)
        if i // ncols == nrows - 1 or i + ncols >= n:
            a.set_xlabel("image row (px)", fontsize=MIN_FONT)
        if i == 0:
            a.legend(fontsize=MIN_FONT - 1, loc="upper right", frameon=False)
        a.yaxis.get_offset_text().set_fontsize(MIN_FONT)
    return fig


def pd_float(s) -> np.ndarray:
    """Values of a column as a float array (non-numbers become NaN)."""
    import pandas as pd
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype=float)


def blot_qc_figure(result, path, *, title: str | None = None, dpi: int = 90,
                   lane_labels=None) -> Path:
    """Write the QC figure of a :class:`~blotquant.blot.BlotResult` to ``path`` (PNG).

    Parameters
    ----------
    result : BlotResult
        A quantification.
    path : str or PathLike
        Output PNG (written atomically).
    title : str, optional
        Figure title (see :func:`make_blot_qc_figure`).
    dpi : int
        Resolution.
    lane_labels : sequence or dict, optional
        Lane names for the profile titles (see :func:`make_blot_qc_figure`).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from ..tables import atomic_path

    fig = make_blot_qc_figure(result, title=title, lane_labels=lane_labels)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path
