"""IHC class overlays: what was scored, as colours on the image.

Colours follow QuPath's convention: negative blue, 1+ yellow, 2+ orange,
3+ red; unscored pixels (glass, excluded regions) keep the original image.

Examples
--------
>>> import numpy as np
>>> rgb = np.full((2, 2, 3), 255, np.uint8)
>>> classes = np.array([[0, 1], [2, 4]], np.uint8)
>>> class_overlay(rgb, classes, alpha=1.0)[1, 1].tolist()
[220, 30, 30]
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from ..tables import atomic_path
from . import colors as C

if TYPE_CHECKING:
    from ..ihc.result import IHCResult

__all__ = ["CLASS_COLORS", "class_overlay", "save_overlay", "save_overlay_figure"]

#: RGB colour of class codes 0..4 (0 is never painted), from :data:`colors.IHC_CLASSES`.
CLASS_COLORS = np.array([[0, 0, 0]] + [C.rgb255(C.IHC_CLASSES[k]) for k in C.IHC_CLASS_NAMES],
                        np.uint8)


def class_overlay(rgb: ArrayLike, class_map: ArrayLike, *, alpha: float = 0.55,
                  outline: ArrayLike | None = None,
                  regions: Mapping[str, ArrayLike] | None = None) -> np.ndarray:
    """Blend class colours over an RGB image (uint8 result).

    Parameters
    ----------
    rgb : array-like, shape (rows, cols, 3)
        The image, uint8 values.
    class_map : array-like, shape (rows, cols)
        Class codes: 0 unscored (left as is), 1 negative, 2 1+, 3 2+, 4 3+.
    alpha : float
        Opacity of the class colours.
    outline : bool array, optional
        Pixels drawn black (e.g. tissue or region borders).
    regions : dict of str to bool array, optional
        Borders (2 px) of these masks are drawn in white; a mask covering
        the whole image has no border.

    Returns
    -------
    ndarray of uint8, shape (rows, cols, 3)
        The blended image.

    Raises
    ------
    ParameterError
        If ``class_map`` does not match the image's shape.

    Examples
    --------
    >>> out = class_overlay(np.zeros((3, 3, 3), np.uint8), np.ones((3, 3), np.uint8), alpha=0.5)
    >>> out[0, 0].tolist()
    [35, 55, 115]
    """
    img = np.asarray(rgb)
    cm = np.asarray(class_map)
    if img.shape[:2] != cm.shape or img.ndim != 3:
        raise ParameterError(f"class map {cm.shape} does not match image {img.shape}")
    out = _blend(img, cm, alpha)
    if regions:
        from scipy import ndimage as ndi
        for m in regions.values():
            m = np.asarray(m, bool)
            if m.all():
                continue
            edge = m & ~ndi.binary_erosion(m, iterations=2)
            out[edge] = 255
    if outline is not None:
        out[np.asarray(outline, bool)] = 0
    return out


def _blend(img: np.ndarray, cm: np.ndarray, alpha: float) -> np.ndarray:
    """``rint((1 - alpha) * v + alpha * colour)`` (float32) where a class is painted.

    One 256-entry table per class and channel (the float32 formula evaluated
    for every uint8 value) and OpenCV's masked copy: no float copy of the
    image, so a slide-sized overlay costs milliseconds.  Other dtypes are
    rounded and clipped to uint8 first.
    """
    import cv2

    a = np.float32(alpha)
    src = img[..., :3]
    if src.dtype != np.uint8:       # values outside 0-255 or fractions: rounded, clipped first
        src = np.clip(np.rint(src), 0, 255).astype(np.uint8)
    src = np.ascontiguousarray(src)
    out = src.copy()
    v = np.arange(256, dtype=np.float32)
    cm8 = np.clip(cm, 0, 4).astype(np.uint8)
    for k in range(1, 5):
        mask = (cm8 == k).view(np.uint8)
        if not cv2.countNonZero(mask):
            continue
        lut = np.stack([np.rint((1 - a) * v + a * np.float32(c)) for c in CLASS_COLORS[k]], -1)
        lut = np.clip(lut, 0, 255).astype(np.uint8).reshape(256, 1, 3)
        cv2.copyTo(cv2.LUT(src, lut), mask, out)
    return out


def save_overlay(rgb: ArrayLike, class_map: ArrayLike, path: str | os.PathLike,
                 **kwargs: Any) -> Path:
    """Write :func:`class_overlay` as a PNG (atomic).

    Parameters
    ----------
    rgb, class_map : array-like
        See :func:`class_overlay`.
    path : str or path-like
        Output PNG.
    **kwargs
        ``alpha``, ``outline``, ``regions`` of :func:`class_overlay`.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = save_overlay(np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), np.uint8),
    ...                  os.path.join(tempfile.mkdtemp(), "o.png"))
    >>> p.suffix
    '.png'
    """
    import cv2
    path = Path(path)
    out = class_overlay(rgb, class_map, **kwargs)
    with atomic_path(path) as tmp:
        # fast deflate (level 1): a slide overlay is written in tens of ms, not hundreds
        ok, buf = cv2.imencode(".png", out[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:  # pragma: no cover
            raise ParameterError("PNG encoding failed", path=path)
        tmp.write_bytes(buf.tobytes())
    return path


def save_overlay_figure(rgb: ArrayLike, result: IHCResult, path: str | os.PathLike, *,
                        title: str | None = None, dpi: int = 110) -> Path:
    """Side-by-side figure: image | class overlay | DAB OD, with legend and scores.

    Parameters
    ----------
    rgb : array-like, shape (rows, cols, 3)
        The scored image, uint8.
    result : IHCResult
        Its scores (uses ``class_map``, ``region_masks``, ``dab_od``,
        ``thresholds``, ``mode`` and ``summary``; the first three summary
        rows go in the title).
    path : str or path-like
        Output PNG, written atomically.
    title : str, optional
        First line of the figure title.
    dpi : int
        Resolution of the PNG.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> from blotquant.ihc import score_ihc
    >>> import os, tempfile
    >>> s = make_ihc(seed=0, shape=(64, 64))
    >>> r = score_ihc(s.image, mode="pixel")
    >>> save_overlay_figure(s.image, r, os.path.join(tempfile.mkdtemp(), "f.png")).name
    'f.png'
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    path = Path(path)
    img = np.asarray(rgb)
    h, w = img.shape[:2]
    fig = Figure(figsize=(15, 5.6 * h / w + 0.9), dpi=dpi)
    axes = fig.subplots(1, 3)
    axes[0].imshow(img)
    axes[0].set_title("image")
    axes[1].imshow(class_overlay(img, result.class_map, regions=result.region_masks))
    axes[1].set_title(f"classes ({result.mode} mode, DAB thresholds "
                      + ", ".join(f"{t:g}" for t in result.thresholds) + ")")
    vmax = max(1.0, result.thresholds[-1] * 1.5)
    im = axes[2].imshow(result.dab_od, cmap="magma_r", vmin=0, vmax=vmax)
    axes[2].set_title("DAB optical density")
    cb = fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.02)
    cb.set_label("DAB OD (log10, QuPath units)")
    for t in result.thresholds:
        cb.ax.axhline(t, color="k", lw=0.8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Patch(color=C.IHC_CLASSES[n], label=n) for n in C.IHC_CLASS_NAMES]
    axes[1].legend(handles=handles, loc="lower right", fontsize=8, framealpha=0.85)
    lines = []
    for _, row in result.summary.iterrows():
        what = "cells" if result.mode == "cell" else "pixels"
        lines.append(f"{row['region']}: H-score {row['h_score']:.1f} (0-300), positive "
                     f"{row['pct_positive']:.1f}% (1+ {row['pct_1plus']:.1f}, 2+ "
                     f"{row['pct_2plus']:.1f}, 3+ {row['pct_3plus']:.1f}), Allred {row['allred']}, "
                     f"IRS {row['irs']}, {row['n']} {what} scored")
    fig.suptitle((title + "\n" if title else "") + "\n".join(lines[:3]), fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fig.savefig(fh, format="png")
    plt.close("all")
    return path
