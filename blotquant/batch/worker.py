"""The per-image work of a batch run (runs on dask workers).

:func:`process_image` takes a plain-dict task, analyses one image and writes
its results into the task's result folder:

``bands.csv``, ``lanes.csv`` (blots) or
``ihc_regions.csv``, ``ihc_cells.csv`` (IHC), ``qc.png`` (the engine's QC
figure), ``thumb.png`` (small overlay for the HTML report), ``info.json``
and, written last, ``done.json`` -- the completion marker, which records the
result's own ``params_hash`` (the one its tables carry, as from the API or
the CLI).  Every file is written atomically (temp file + rename), so a folder
without ``done.json`` is simply redone by the next run.  It never raises: a failure is returned
(and written to ``error.json``) as a record with the error type and message.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..blot.params import BlotParams
from ..errors import AnalysisError
from ..blot.quantify import inputs_hash, quantify_blot
from ..ihc.params import IHCParams
from ..ihc.score import prepare_rgb, score_ihc
from ..io import read_image, to_gray
from ..review.apply import apply_sidecar
from ..tables import atomic_path, write_json, write_table

if TYPE_CHECKING:
    import PIL.Image

    from ..image import Image

__all__ = ["process_image", "is_done", "read_marker", "DONE", "decide_kind", "render_thumb"]

DONE = "done.json"
ERROR = "error.json"

# pyplot is not thread-safe: QC figures are drawn one at a time per process.
_MPL_LOCK = threading.Lock()

#: Mean chroma (max - min channel, 8-bit scale) below which an RGB image is a
#: (slightly tinted) grey blot scan rather than a stained IHC image.
CHROMA_IHC_MIN = 3.0


def read_marker(result_dir: str | os.PathLike) -> dict | None:
    """The completion marker of a result folder, or None if absent/unreadable.

    Parameters
    ----------
    result_dir : path-like
        The result folder of one image.

    Returns
    -------
    dict or None
        The content of its ``done.json``.
    """
    p = Path(result_dir) / DONE
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return None


def is_done(result_dir: str | os.PathLike, key: str) -> bool:
    """True when ``result_dir`` holds a finished result for ``key``.

    Parameters
    ----------
    result_dir : path-like
        The result folder of one image.
    key : str
        The task key (:func:`~blotquant.batch.run.task_key`).

    Returns
    -------
    bool
        Whether its marker has this key and status ``"ok"``.
    """
    m = read_marker(result_dir)
    return bool(m) and m.get("key") == key and m.get("status") == "ok"


def _mean_chroma(rgb) -> float:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[-1] < 3:
        return 0.0
    step = max(1, int(np.ceil(np.sqrt(a.shape[0] * a.shape[1] / 250_000))))
    a = a[::step, ::step, :3].astype(np.float64)
    scale = 255.0 / float(np.iinfo(np.asarray(rgb).dtype).max) \
        if np.issubdtype(np.asarray(rgb).dtype, np.integer) else 255.0
    return float((a.max(axis=-1) - a.min(axis=-1)).mean() * scale)


def decide_kind(image: Image) -> str:
    """``"ihc"`` for colour images whose channels differ, else ``"blot"``.

    Readers already turn RGB files with identical channels into grey images;
    a colour image whose mean chroma (max - min channel, 8-bit scale) is
    below :data:`CHROMA_IHC_MIN` is treated as a tinted grey blot scan.

    Parameters
    ----------
    image : Image
        The image as read (for a pyramid, its coarsest level is measured).

    Returns
    -------
    str
        ``"ihc"`` or ``"blot"``.

    Examples
    --------
    >>> from blotquant.image import Image
    >>> decide_kind(Image.from_array(np.zeros((4, 4), np.uint16)))
    'blot'
    >>> rgb = np.zeros((4, 4, 3), np.uint8); rgb[..., 0] = 200; rgb[..., 2] = 90
    >>> decide_kind(Image.from_array(rgb))
    'ihc'
    """
    md = image.metadata
    if md.axes != "YXC":
        return "blot"
    if md.channels_equal:
        return "blot"
    data = image.levels[-1] if getattr(image, "is_pyramid", False) else image.data
    return "ihc" if _mean_chroma(np.asarray(data)) >= CHROMA_IHC_MIN else "blot"


# ----------------------------------------------------------------- thumbnails
def _stretch(gray: np.ndarray) -> np.ndarray:
    g = np.asarray(gray, dtype=np.float64)
    finite = g[np.isfinite(g)]
    if finite.size == 0:
        return np.zeros(g.shape, np.uint8)
    lo, hi = np.percentile(finite, [0.5, 99.5])
    if hi <= lo:
        hi = lo + 1
    return (np.clip((g - lo) / (hi - lo), 0, 1) * 255).astype(np.uint8)


def _step(shape, max_px: int) -> int:
    return max(1, int(np.ceil(max(shape[0], shape[1]) / max_px)))


def render_thumb(kind: str, data: ArrayLike, *, bands: pd.DataFrame | None = None,
                 lanes: pd.DataFrame | None = None, class_map: ArrayLike | None = None,
                 max_px: int = 360) -> "PIL.Image.Image":  # noqa: F821
    """Small RGB overlay for the HTML report (PIL image).

    Blots: contrast-stretched image with lane outlines (blue) and band boxes
    (green; red when saturated).  IHC: the RGB image with the DAB class map
    blended in (blue negative, yellow 1+, orange 2+, red 3+).

    Parameters
    ----------
    kind : {"blot", "ihc"}
        How to draw the thumbnail (any value other than ``"ihc"`` draws a blot).
    data : array_like
        The image (gray, or RGB(A) for IHC).
    bands : DataFrame, optional
        Band boxes (``left``, ``top``, ``right``, ``bottom``, ``saturated``).
    lanes : DataFrame, optional
        Lanes (``x``, ``width`` and optionally ``top``, ``bottom``).
    class_map : array_like, optional
        IHC class per pixel (0 background, 1 negative ... 4 for 3+).
    max_px : int, optional
        The image is subsampled by a whole step so that its longer side is
        at most about this many pixels.

    Returns
    -------
    PIL.Image.Image
        The RGB thumbnail.
    """
    from PIL import Image as PILImage, ImageDraw

    a = np.asarray(data)
    s = _step(a.shape, max_px)
    if kind == "ihc":
        rgb = a[::s, ::s, :3]
        if rgb.dtype != np.uint8:
            rgb = _stretch(rgb)
        rgb = rgb.astype(np.float64)
        if class_map is not None:
            cm = np.asarray(class_map)
            cs = _step(cm.shape, max_px)
            cm = cm[::cs, ::cs][: rgb.shape[0], : rgb.shape[1]]
            rgb = rgb[: cm.shape[0], : cm.shape[1]]
            colours = np.array([[0, 0, 0], [60, 90, 255], [255, 230, 0], [255, 140, 0],
                                [230, 0, 0]], np.float64)
            over = colours[np.clip(cm, 0, 4)]
            alpha = np.where(cm > 0, 0.45, 0.0)[..., None]
            rgb = rgb * (1 - alpha) + over * alpha
        im = PILImage.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
        return im
    gray = a if a.ndim == 2 else (a[..., :3].mean(axis=-1) if a.shape[-1] in (3, 4)
                                  else a[0])
    g = _stretch(gray[::s, ::s])
    im = PILImage.fromarray(np.stack([g] * 3, axis=-1), "RGB")
    draw = ImageDraw.Draw(im)
    if lanes is not None and len(lanes):
        for _, r in lanes.iterrows():
            try:
                x0 = (float(r["x"]) - float(r["width"]) / 2) / s
                x1 = (float(r["x"]) + float(r["width"]) / 2) / s
                y0 = float(r.get("top", 0)) / s
                y1 = float(r.get("bottom", a.shape[0] - 1)) / s
            except (TypeError, ValueError, KeyError):
                continue
            if np.all(np.isfinite([x0, x1, y0, y1])):
                draw.rectangle([x0, y0, x1, y1], outline=(70, 130, 255))
    if bands is not None and len(bands):
        for _, r in bands.iterrows():
            try:
                box = [float(r["left"]) / s, float(r["top"]) / s,
                       float(r["right"]) / s, float(r["bottom"]) / s]
            except (TypeError, ValueError, KeyError):
                continue
            if not np.all(np.isfinite(box)):
                continue
            sat = str(r.get("saturated", False)).lower() in ("true", "1")
            draw.rectangle(box, outline=(230, 30, 30) if sat else (40, 200, 60), width=1)
    return im


def _save_png(im, path: Path) -> None:
    with atomic_path(path) as tmp:
        im.save(tmp, format="PNG", optimize=True)


def _engine_qc(kind: str, result, data, path: Path) -> None:
    """Write the engines' QC figure (blot: lanes/bands/profiles; IHC: overlay)."""
    if kind == "blot":
        from ..report.blot_qc import blot_qc_figure

        blot_qc_figure(result, path)
    else:
        from ..report.ihc_overlay import save_overlay_figure

        save_overlay_figure(np.asarray(data)[..., :3], result, path)


# ----------------------------------------------------------------- the work
def _review(task, img, kind: str, info: dict):
    """The task's review sidecar (checked to fit ``img``), or None."""
    if not task.get("sidecar"):
        return None
    review = apply_sidecar(task["sidecar"], image=img, image_path=task["file"], kind=kind)
    info["sidecar"] = task["sidecar"]
    return review


def _run_blot(task, img, out: Path, info: dict):
    review = _review(task, img, "blot", info)
    if review is not None:  # the reviewed model and geometry, as the plugin ran them
        kw = review.kwargs()
    else:
        kw = {"params": BlotParams.from_mapping(task["blot_params"])}
    res = quantify_blot(img, image_name=task["name"], **kw)
    bands, lanes = res.bands, res.lanes
    write_table(bands, out / "bands.csv")
    write_table(lanes, out / "lanes.csv")
    info["params"] = res.params
    info["params_hash"] = (str(bands["params_hash"].iloc[0]) if len(bands) else
                           inputs_hash(kw["params"], kw.get("lane_geometry"),
                                       kw.get("band_boxes")))
    info["n_lanes"] = int(len(lanes))
    info["n_bands"] = int(len(bands))
    info["rows"] = [str(r) for r in pd.unique(bands["row"])] if "row" in bands else []
    data = img.data if img.metadata.axes != "CYX" else np.asarray(img.data)[0]
    return res, dict(bands=bands, lanes=lanes), data


def require_scored(res, path) -> None:
    """Refuse an IHC result that scored nothing (n = 0 in every region).

    Its Allred and IRS would read 0 ("negative") for an image without tissue or
    cells (glass, a fully transparent export, a wrong --tissue-threshold).

    Raises
    ------
    AnalysisError
        Naming ``path``.
    """
    summary = res.summary
    if len(summary) and (pd.to_numeric(summary["n"], errors="coerce").fillna(0) > 0).any():
        return
    mode = str(res.params.get("mode", "cell"))
    what = "cells" if mode == "cell" else "tissue pixels"
    hint = ""
    if mode == "cell" and res.params.get("pixel_size_source") in ("estimated", "unknown"):
        used = res.params.get("pixel_size_used") or [None]
        size = f" ({float(used[0]):.3g} um/px)" if used[0] else ""
        hint = (f"; the pixel size was not in the file and its estimate from the nuclei{size} "
                "may be wrong: give --pixel-size or --magnification")
    raise AnalysisError(f"nothing was scored: no {what} found in any region (n = 0), so "
                        "no H-score, Allred or IRS; check that this is an H-DAB image with "
                        "tissue, or lower --tissue-threshold, or use --no-tissue" + hint,
                        path=path)


def _run_ihc(task, img, out: Path, info: dict):
    review = _review(task, img, "ihc", info)
    if review is not None:  # the reviewed level of a slide, regions in its pixels
        scored, kw = review.prepare(img)
    else:
        scored, kw = img, {"params": IHCParams.from_mapping(task["ihc_params"])}
    # the engine takes the Image itself: pixel size, RGBA compositing, 16-bit scaling
    res = score_ihc(scored, image_name=task["name"], **kw)
    require_scored(res, task["file"])
    write_table(res.summary, out / "ihc_regions.csv")
    cells = res.cells if res.cells is not None else pd.DataFrame()
    write_table(cells, out / "ihc_cells.csv")
    info["params"] = res.params
    info["params_hash"] = str(res.summary["params_hash"].iloc[0])
    info["n_cells"] = int(len(cells))
    # the DAB is not where the marker is (a Ki67 folder scored as cytoplasmic, ...):
    # the batch warnings say so, per region
    from ..ihc.compare import compare_modes
    cmp = compare_modes(res.summary, res.cells, params=res.params)
    info["marker_notes"] = {str(r["region"]): r["marker_note"]
                            for r in cmp.to_dict("records") if r.get("marker_note")}
    return res, dict(class_map=res.class_map), _display_level(scored)


def _rgb8(img):
    """uint8 RGB of an IHC image, converted exactly as the engine does."""
    return prepare_rgb(img)[0]


def _display_level(img):
    """The smallest pyramid level still >= 720 px on its long side (thumbnails)."""
    levels = list(getattr(img, "levels", ()) or (img.data,))
    for lv in reversed(levels):
        if max(lv.shape[:2]) >= 720:
            return np.asarray(lv)
    return np.asarray(levels[0])


def process_image(task: dict) -> dict:
    """Analyse one image and write its result folder; never raises.

    Parameters
    ----------
    task : dict
        ``file`` (path), ``name`` (image id used in tables), ``kind``
        (``auto``/``blot``/``ihc``), ``result_dir``, ``key`` (content +
        parameter hash), ``blot_params`` / ``ihc_params`` (``to_dict()`` of
        the row's ``BlotParams`` / ``IHCParams``, or None), ``sidecar`` (path
        or None), ``qc`` (bool, draw the QC figure), ``thumb_px``.

    Returns
    -------
    dict
        ``status`` (``"ok"`` or ``"error"``), ``file``, ``kind``, ``seconds``
        and, on error, ``error_type`` and ``message``.
    """
    t0 = time.perf_counter()
    delay = float(os.environ.get("BLOTQUANT_TEST_TASK_DELAY", "0") or 0)
    if delay > 0:  # testing hook: makes "kill the run half-way" deterministic
        time.sleep(delay)
    out = Path(task["result_dir"])
    rec = {"index": task.get("index"), "file": task["file"], "name": task["name"],
           "key": task["key"], "kind": task.get("kind", "auto"), "status": "ok"}
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / DONE).unlink(missing_ok=True)
        # the reader's own log lines would duplicate errors.csv on the console
        logging.getLogger("tifffile").setLevel(logging.ERROR)
        img = read_image(task["file"], page=task.get("page"))
        kind = task.get("kind", "auto")
        if kind == "auto":
            kind = decide_kind(img)
        elif kind == "blot" and img.metadata.axes == "YXC":
            img = to_gray(img)
        rec["kind"] = kind
        info = {"file": task["file"], "name": task["name"], "kind": kind,
                "key": task["key"], "metadata": img.metadata.as_dict()}
        if kind == "blot":
            res, parts, data = _run_blot(task, img, out, info)
        else:
            res, parts, data = _run_ihc(task, img, out, info)
        thumb = render_thumb(kind, data, max_px=int(task.get("thumb_px", 360)), **parts)
        _save_png(thumb, out / "thumb.png")
        if task.get("qc", True) and getattr(img, "is_pyramid", False):
            info["qc_skipped"] = "whole-slide pyramid: no full-resolution QC figure"
        elif task.get("qc", True):
            try:
                if "matplotlib.pyplot" not in sys.modules:
                    import matplotlib
                    matplotlib.use("Agg")
                with _MPL_LOCK:
                    _engine_qc(kind, res, data if kind == "blot" else _rgb8(img),
                               out / "qc.png")
            except Exception as err:  # a broken figure must not lose the numbers
                info["qc_error"] = f"{type(err).__name__}: {err}"
        info["seconds"] = round(time.perf_counter() - t0, 4)
        write_json(info, out / "info.json")
        (out / ERROR).unlink(missing_ok=True)
        # the completion marker is written last
        write_json({"key": task["key"], "status": "ok", "kind": kind,
                    "file": task["file"], "name": task["name"],
                    "params_hash": info["params_hash"]}, out / DONE)
    except Exception as err:  # noqa: BLE001 - one bad file never stops the batch
        rec.update(status="error", error_type=type(err).__name__,
                   message=_message(err, task["file"]))
        try:
            write_json({**rec, "traceback": traceback.format_exc()}, out / ERROR)
        except Exception:  # pragma: no cover - disk full etc.
            pass
    rec["seconds"] = round(time.perf_counter() - t0, 4)
    rec["worker_pid"] = os.getpid()
    return rec


def _message(err: BaseException, file: str) -> str:
    msg = str(err).strip() or repr(err)
    # BlotquantErrors already start with the path; keep the message short
    problem = getattr(err, "problem", None)
    if problem:
        msg = problem
    elif msg.startswith(file + ": "):
        msg = msg[len(file) + 2:]
    return " ".join(msg.split())
