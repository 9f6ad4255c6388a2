"""QC figure of a blot quantification (matplotlib, Agg backend).

Top: the image with lane centre lines and band boxes (saturated bands in red,
others in cyan/blue).  Bottom: every lane's profile with the background that
was subtracted and the band limits.

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
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..blot.model import BlotResult

__all__ = ["blot_qc_figure"]


def blot_qc_figure(result: BlotResult, path: str | os.PathLike, *, title: str | None = None,
                   dpi: int = 90) -> Path:
    """Write the QC figure of a :class:`~blotquant.blot.BlotResult` to ``path`` (PNG).

    Parameters
    ----------
    result : BlotResult
        A quantified blot (uses ``signal``, ``lane_geometry``, ``bands``,
        ``profiles`` and ``params``).
    path : str or path-like
        Output PNG, written atomically (replaced only when complete).
    title : str, optional
        Figure title (default: image name, lane count, rows, background method).
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    from ..tables import atomic_path

    sig = np.asarray(result.signal, dtype=np.float32)
    lanes = list(result.lane_geometry)
    n = max(1, len(lanes))
    ncols = min(n, 6)
    nrows = int(math.ceil(n / ncols))
    H, W = sig.shape
    fig = Figure(figsize=(min(16, 3 + 2.2 * ncols), 6 + 2.0 * nrows))
    gs = fig.add_gridspec(1 + nrows, ncols, height_ratios=[3.0] + [1.0] * nrows)
    ax = fig.add_subplot(gs[0, :])
    lo, hi = np.percentile(sig[::4, ::4], [1, 99.7])
    ax.imshow(sig, cmap="gray_r" if result.params.get("polarity_used") == "dark-on-light"
              else "gray", vmin=lo if result.params.get("polarity_used") != "dark-on-light"
              else lo, vmax=hi, interpolation="nearest")
    if result.params.get("polarity_used") == "dark-on-light":
        ax.images[0].set_cmap("gray_r")
    for ln in lanes:
        c = ln.centerline
        ax.plot(c[:, 1], c[:, 0], color="yellow" if not ln.is_ladder else "magenta", lw=0.6)
        ax.text(ln.x_at(max(ln.top, 0) + 2), max(ln.top, 0) + 2, str(ln.lane), color="yellow",
                fontsize=7, va="top", ha="center")
    for rec in result.bands.itertuples():
        col = "red" if rec.saturated else ("orange" if "not_detected" in str(rec.flags)
                                            else "cyan")
        ax.add_patch(Rectangle((rec.left - 0.5, rec.top - 0.5), rec.right - rec.left,
                               rec.bottom - rec.top + 1, fill=False, ec=col, lw=0.8))
    ax.set_title(title or f"{result.bands['image'].iloc[0] if len(result.bands) else ''}  "
                 f"lanes={len(lanes)} rows={','.join(map(str, result.rows))} "
                 f"background={result.params.get('background')} (red = saturated)",
                 fontsize=9)
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    for i, ln in enumerate(lanes):
        a = fig.add_subplot(gs[1 + i // ncols, i % ncols])
        pr = result.profiles.get(ln.lane)
        if pr is None or len(pr) == 0:
            a.set_axis_off()
            continue
        a.plot(pr["position"], pr["signal"], lw=0.6, color="k")
        a.plot(pr["position"], pr["background"], lw=0.9, color="tab:red")
        for rec in result.bands[result.bands["lane"] == ln.lane].itertuples():
            col = "red" if rec.saturated else "tab:blue"
            a.axvspan(rec.top, rec.bottom, color=col, alpha=0.15)
        a.set_title(f"lane {ln.lane}" + (" (ladder)" if ln.is_ladder else ""), fontsize=7)
        a.tick_params(labelsize=5)
        bl = result.bands[result.bands["lane"] == ln.lane]
        if len(bl):
            a.set_xlim(bl["top"].min() - 60, bl["bottom"].max() + 60)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path
