"""Cell mode beside pixel mode: do the two scores of a region agree, and if not, why.

Cell mode classes each cell by one DAB measure of one compartment; pixel mode
classes every tissue pixel.  On the same field the two usually agree within a
few points.  When they do not, the reason is almost always one of a few facts
that the result already holds: the cells cover only part of the scored tissue
(stroma, mucin and tissue edges are scored by pixel mode only), the scored
compartment is not where the DAB is, or there are too few cells for stable
percentages.  :func:`compare_modes` writes these down per region so that the
CLI and the napari dock can show them beside the scores.

It also checks the marker against where the DAB is (``marker_note``): a
nuclear marker (Ki67, ER, PR, p53) scored with the default cytoplasmic
setting puts its DAB in the nuclei and leaves the cytoplasm pale, so the
cytoplasmic H-score is low and looks plausible; the note says so, whether the
two modes agree or not.  The reverse slip, a cytoplasmic stain scored as
nuclear, is checked by :func:`nuclear_marker_check` (nuclei detected on
hematoxylin alone in a few windows), whose record ``score_ihc`` keeps in
``params["marker_check"]``.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"region": ["tumour"], "mode": ["cell"], "n": [400],
...     "h_score": [180.0], "pct_positive": [90.0], "pixel_h_score": [95.0],
...     "pixel_pct_positive": [55.0], "area_px": [100000]})
>>> c = pd.DataFrame({"region": ["tumour"] * 400, "cell_area": [130] * 400,
...                   "nucleus_area": [30] * 400})
>>> row = compare_modes(s, c, params={"marker": "cytoplasmic",
...     "compartment_used": "cytoplasm", "measure": "mean"}).iloc[0]
>>> row["score"], float(row["difference"]), bool(row["agree"])
('h_score', -85.0, False)
>>> print(row["reasons"])
pixel mode is lower by 85 points; the cytoplasm of the cells covers 40% of the scored \
tissue: pixel mode also scores the rest (stroma, lumen, tissue edges); cell mode classes each cell by its cytoplasm \
mean DAB OD, pixel mode classes every tissue pixel
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["AGREEMENT_LIMITS", "COMPARISON_COLUMNS", "MARKER_RATIO", "MARKER_MIN_CELLS",
           "CHECK_WINDOWS", "CHECK_WINDOW_PX", "compare_modes", "comparison_text",
           "difference_text", "nuclear_marker_check"]

#: Largest cell-minus-pixel difference still called agreement, per score
#: (H-score 0-300: 10 % of the scale; % positive: 10 points).
AGREEMENT_LIMITS = {"h_score": 30.0, "pct_positive": 10.0}
#: Below this fraction of the scored tissue covered by cells, coverage is named as a reason.
LOW_COVERAGE = 0.6
#: Fewer cells than this in a region: its percentages move by >= 2 points per cell.
FEW_CELLS = 50
#: Columns of :func:`compare_modes`' table.
COMPARISON_COLUMNS = ("region", "score", "cell_value", "pixel_value", "difference", "agree",
                      "cell_coverage", "reasons", "marker_note")
#: Nucleus / cytoplasm DAB ratio (medians over the cells with DAB) from which a
#: cytoplasmic marker's DAB is said to lie in the nuclei, and its inverse for a
#: nuclear marker's DAB in the cytoplasm.
MARKER_RATIO = 2.0
#: Fewest cells with DAB for the marker check.
MARKER_MIN_CELLS = 8

#: The wrong-marker check of a nuclear-marker result looks at up to this many
#: windows of this side (px), those with the most DAB-positive tissue.
CHECK_WINDOWS = 2
CHECK_WINDOW_PX = 384

_PIXEL_COLUMN = {"h_score": "pixel_h_score", "pct_positive": "pixel_pct_positive"}
_UNIT = {"h_score": "points", "pct_positive": "points of % positive"}


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def compare_modes(summary: pd.DataFrame, cells: pd.DataFrame | None = None, *,
                  params: dict | None = None) -> pd.DataFrame:
    """Per region of a cell-mode result: cell score, pixel score, agreement and reasons.

    Parameters
    ----------
    summary : DataFrame
        :attr:`~blotquant.ihc.result.IHCResult.summary` (columns ``region``,
        ``mode``, ``h_score``, ``pct_positive``, ``pixel_h_score``,
        ``pixel_pct_positive``, ``n``, ``area_px``).
    cells : DataFrame, optional
        :attr:`~blotquant.ihc.result.IHCResult.cells` (``region``,
        ``cell_area``, ``nucleus_area``); without it ``cell_coverage`` (the
        fraction of the scored tissue that the scored compartment covers) is
        NaN.
    params : dict, optional
        The result's ``params`` (``marker``, ``compartment_used``, ``measure``).

    Returns
    -------
    DataFrame
        Columns :data:`COMPARISON_COLUMNS`, one row per region; empty for a
        pixel-mode result (its two scores are the same numbers).  ``score`` is
        the marker's headline score (``pct_positive`` for nuclear markers,
        ``h_score`` for cytoplasmic ones); ``difference`` is pixel minus cell;
        ``agree`` is ``abs(difference) <=`` :data:`AGREEMENT_LIMITS`;
        ``reasons`` says, in words, what explains a disagreement (empty when
        the two agree); ``marker_note`` is non-empty when the DAB of the cells
        lies in the other compartment than the marker's (a nuclear stain
        scored as cytoplasmic, or the reverse), from the per-cell
        ``nucleus_dab_od_mean`` / ``cytoplasm_dab_od_mean`` medians over the
        cells with DAB (at least :data:`MARKER_MIN_CELLS`, ratio
        :data:`MARKER_RATIO`), and for a nuclear marker also when
        ``params["marker_check"]`` (:func:`nuclear_marker_check`) found the
        DAB lower inside hematoxylin nuclei than around them.
    """
    params = dict(params or {})
    if summary is None or not len(summary) or "pixel_h_score" not in summary:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
    score = "pct_positive" if params.get("marker") == "nuclear" else "h_score"
    compartment = params.get("compartment_used") or (
        "nucleus" if params.get("marker") == "nuclear" else "cytoplasm")
    measure = params.get("measure", "mean")
    area = {}
    if cells is not None and len(cells) and {"region", "cell_area", "nucleus_area"} <= set(cells):
        c = cells[["region"]].copy()
        c["a"] = {"nucleus": cells["nucleus_area"], "cell": cells["cell_area"]}.get(
            compartment, cells["cell_area"] - cells["nucleus_area"])
        area = c.groupby("region")["a"].sum().to_dict()
    notes = _marker_notes(cells, params)
    rows = []
    for rec in summary.to_dict("records"):
        if rec.get("mode") != "cell":
            continue
        cell_v, pix_v = _num(rec.get(score)), _num(rec.get(_PIXEL_COLUMN[score]))
        diff = pix_v - cell_v
        tissue = _num(rec.get("area_px"))
        cover = (float(area.get(rec["region"], 0.0)) / tissue
                 if area and tissue > 0 else math.nan)
        agree = bool(np.isfinite(diff) and abs(diff) <= AGREEMENT_LIMITS[score])
        reasons = []
        if not np.isfinite(diff):
            reasons.append("no cells or no tissue in this region: nothing to compare")
        elif not agree:
            reasons.append(f"pixel mode is {difference_text(score, diff)}")
            if np.isfinite(cover) and cover < LOW_COVERAGE:
                what = {"nucleus": "nuclei cover", "cell": "cells cover"}.get(
                    compartment, "the cytoplasm of the cells covers")
                reasons.append(f"{what} {cover:.0%} of the scored tissue: pixel mode also "
                               "scores the rest (stroma, lumen, tissue edges)")
            reasons.append(f"cell mode classes each cell by its {compartment} {measure} DAB OD, "
                           "pixel mode classes every tissue pixel")
            n = _num(rec.get("n"))
            if np.isfinite(n) and n < FEW_CELLS:
                reasons.append(f"only {n:.0f} cells: each moves the cell percentages by "
                               f"{100.0 / max(n, 1.0):.0f} points")
        rows.append({"region": rec["region"], "score": score, "cell_value": cell_v,
                     "pixel_value": pix_v, "difference": diff, "agree": agree,
                     "cell_coverage": cover, "reasons": "; ".join(reasons),
                     "marker_note": notes.get(rec["region"], "")})
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def nuclear_marker_check(hematoxylin_od, dab_od, scope, *, pixel_size_um, threshold: float,
                         cell_params: dict | None = None) -> dict:
    """Where the DAB lies relative to hematoxylin-stained nuclei (a nuclear marker's check).

    A nuclear-marker result detects nuclei on the optical density sum, so a
    cytoplasmic stain scored as nuclear is tiled into DAB "nuclei" and its
    own cell table cannot show the slip.  This check looks the other way: it
    detects nuclei on hematoxylin alone (as for a cytoplasmic marker) in the
    :data:`CHECK_WINDOWS` windows of :data:`CHECK_WINDOW_PX` px with the most
    DAB-positive tissue, and measures the DAB of each nucleus and of the
    cytoplasm ring around it.  A nuclear marker's DAB is higher in the nuclei
    than around them (median ratio 2.4-5.3 on five real Ki67 fields); a
    cytoplasmic stain's is not (0.7 on scikit-image's colon section).

    Parameters
    ----------
    hematoxylin_od, dab_od : 2-D float arrays
        Stain optical densities of the scored image.
    scope : 2-D bool array
        Where cells may be found (tissue within the regions).
    pixel_size_um : float or (row, col)
        The pixel size the result's own detection used.
    threshold : float
        The first DAB OD threshold (a cell "has DAB" when its nucleus or
        ring mean reaches it).
    cell_params : dict, optional
        The result's :class:`~blotquant.ihc.params.CellParams` fields
        (``detection_image`` is set to ``hematoxylin`` here).

    Returns
    -------
    dict
        ``n_cells`` (hematoxylin nuclei with DAB in the windows),
        ``nucleus_dab`` and ``around_dab`` (their median mean DAB OD in the
        nucleus and in the ring; None without such cells) and ``windows``
        (``[row, col, side]`` of each window).
    """
    from .cells import detect_cells  # noqa: PLC0415 (heavy import only when used)

    h, d, sc = np.asarray(hematoxylin_od), np.asarray(dab_od), np.asarray(scope, bool)
    side = int(min(CHECK_WINDOW_PX, *h.shape))
    ny, nx = max(1, h.shape[0] // side), max(1, h.shape[1] // side)
    pos = sc & (d >= threshold)
    counts = []
    for i in range(ny):
        for j in range(nx):
            y0 = min(i * side, h.shape[0] - side)
            x0 = min(j * side, h.shape[1] - side)
            counts.append((int(pos[y0:y0 + side, x0:x0 + side].sum()), y0, x0))
    counts.sort(key=lambda c: -c[0])
    kw = dict(cell_params or {})
    kw["detection_image"] = "hematoxylin"
    kw["estimate_pixel_size"] = False
    nuc, cyt, wins = [], [], []
    for n_pos, y0, x0 in counts[:CHECK_WINDOWS]:
        if n_pos == 0:
            break
        win = (slice(y0, y0 + side), slice(x0, x0 + side))
        t = detect_cells(h[win], d[win], pixel_size_um=pixel_size_um, mask=sc[win], **kw).table
        a = t["nucleus_dab_od_mean"].to_numpy(float)
        b = t["cytoplasm_dab_od_mean"].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b) & (np.fmax(a, b) >= threshold)
        nuc.append(a[ok])
        cyt.append(b[ok])
        wins.append([int(y0), int(x0), side])
    a = np.concatenate(nuc) if nuc else np.zeros(0)
    b = np.concatenate(cyt) if cyt else np.zeros(0)
    return {"n_cells": int(a.size),
            "nucleus_dab": round(float(np.median(a)), 4) if a.size else None,
            "around_dab": round(float(np.median(b)), 4) if b.size else None,
            "windows": wins}


def _marker_notes(cells, params: dict) -> dict:
    """Region -> a note when the DAB of the cells lies in the other compartment."""
    need = {"region", "nucleus_dab_od_mean", "cytoplasm_dab_od_mean"}
    if cells is None or not len(cells) or not need <= set(cells):
        return {}
    t = params.get("thresholds") or (0.2,)
    t1 = float(np.asarray(t, float).ravel()[0])
    nuclear = params.get("marker") == "nuclear"
    out = {}
    for region, c in cells.groupby("region"):
        nuc = c["nucleus_dab_od_mean"].to_numpy(float)
        cyt = c["cytoplasm_dab_od_mean"].to_numpy(float)
        ok = np.isfinite(nuc) & np.isfinite(cyt) & (np.fmax(nuc, cyt) >= t1)
        if int(ok.sum()) < MARKER_MIN_CELLS:
            continue
        mn, mc = float(np.median(nuc[ok])), float(np.median(cyt[ok]))
        where = (f"in the {int(ok.sum())} cells with DAB, median DAB OD {mn:.2f} in the "
                 f"nucleus vs {mc:.2f} in the cytoplasm")
        if not nuclear and mn >= MARKER_RATIO * max(mc, 1e-6):
            out[region] = (f"the DAB is in the nuclei ({where}): a nuclear marker (Ki67, ER, "
                           "PR, p53) is scored with marker='nuclear' (--marker nuclear); this "
                           "cytoplasmic score reads a nuclear stain as weak")
        elif nuclear and mc >= MARKER_RATIO * max(mn, 1e-6):
            out[region] = (f"the DAB is in the cytoplasm ({where}): a cytoplasmic marker "
                           "(e.g. ASNS) is scored with marker='cytoplasmic'")
    chk = params.get("marker_check") if nuclear else None
    if isinstance(chk, dict) and int(chk.get("n_cells") or 0) >= MARKER_MIN_CELLS:
        a, b = _num(chk.get("nucleus_dab")), _num(chk.get("around_dab"))
        if np.isfinite(a) and np.isfinite(b) and a < b:
            note = (f"the DAB is around the nuclei, not in them (in {int(chk['n_cells'])} "
                    f"hematoxylin-stained nuclei with DAB, median DAB OD {a:.2f} in the nucleus "
                    f"vs {b:.2f} in the cytoplasm around it): the nuclear detector has followed "
                    "a cytoplasmic stain; a cytoplasmic marker (e.g. ASNS) is scored with "
                    "marker='cytoplasmic'")
            for region in cells["region"].unique() if cells is not None and len(cells) else []:
                out.setdefault(region, note)
    return out


def difference_text(score: str, difference: float) -> str:
    """``"lower by 69 points"``: pixel minus cell headline score, in words.

    Parameters
    ----------
    score : str
        ``"h_score"`` or ``"pct_positive"``.
    difference : float
        Pixel-mode minus cell-mode score.

    Returns
    -------
    str

    Examples
    --------
    >>> difference_text("pct_positive", 12.4)
    'higher by 12 points of % positive'
    """
    side = "higher" if difference > 0 else "lower"
    return f"{side} by {abs(difference):.0f} {_UNIT[score]}"


def comparison_text(row: dict, *, reasons: bool = True) -> str:
    """One line for a person: ``cell H-score 180 vs pixel 95: differ (...)``.

    Parameters
    ----------
    row : dict
        One row of :func:`compare_modes` (``region``, ``score``, ``cell_value``,
        ``pixel_value``, ``agree``, ``reasons``).
    reasons : bool
        Append the reasons of a disagreement (False: the short form, for a
        status line whose tooltip holds them).

    Returns
    -------
    str
        ``"<region>: cell <score> <value> vs pixel <value>: agree"``, or
        ``": differ (<reasons>)"`` at the end when the two modes disagree;
        then ``"; note: <marker_note>"`` when the DAB lies in the other
        compartment (short form: ``"; check the marker"``).

    Examples
    --------
    >>> comparison_text({"region": "image", "score": "h_score", "cell_value": 150.0,
    ...                  "pixel_value": 141.0, "difference": -9.0, "agree": True, "reasons": ""})
    'image: cell H-score 150 vs pixel 141: agree'
    """
    name = "H-score" if row["score"] == "h_score" else "% positive"
    fmt = "{:.0f}" if row["score"] == "h_score" else "{:.1f}%"
    head = (f"{row['region']}: cell {name} {fmt.format(row['cell_value'])} vs pixel "
            f"{fmt.format(row['pixel_value'])}")
    note = row.get("marker_note") or ""
    tail = f"; note: {note}" if note and reasons else ("; check the marker" if note else "")
    if row["agree"]:
        return head + ": agree" + tail
    return (f"{head}: differ ({row['reasons']})" if reasons else f"{head}: differ") + tail
