"""IHC review state (no Qt): parameters, the human score table, status text.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"region": ["tumour", "stroma"], "n": [200, 0],
...     "n_negative": [50, 0], "n_1plus": [50, 0], "n_2plus": [60, 0], "n_3plus": [40, 0],
...     "pct_1plus": [25.0, float("nan")], "pct_2plus": [30.0, float("nan")],
...     "pct_3plus": [20.0, float("nan")], "pct_positive": [75.0, float("nan")],
...     "h_score": [145.0, float("nan")], "allred": [7, float("nan")],
...     "allred_proportion": [5, float("nan")], "allred_intensity": [2, float("nan")],
...     "irs": [8, float("nan")], "irs_proportion": [4, float("nan")],
...     "irs_intensity": [2, float("nan")]})
>>> t = score_table(s, mode="cell")
>>> t.columns.tolist()
['score', 'tumour', 'stroma']
>>> t.set_index("score").loc[["H-score", "% positive", "Allred", "cells"], "tumour"].tolist()
['145', '75.0%', '7 (PS 5 + IS 2)', '200']
>>> t.set_index("score").loc["H-score", "stroma"]
'no cells in this region'
>>> status_text(s, mode="cell")
'tumour: H-score 145, 75.0% positive; stroma: no cells in this region'
"""

from __future__ import annotations

import math

import pandas as pd

from .format import number_text

__all__ = ["STAINS_CHOICES", "ihc_params", "recorded_params", "score_table", "status_text",
           "comparison_reasons",
           "SCORE_ROWS"]

#: Stain-vector choices offered by the dock (each is accepted by ``IHCParams.stains``).
STAINS_CHOICES = ("default", "qupath", "estimate")

#: (label, column) of the score table, top to bottom.
SCORE_ROWS = (("H-score", "h_score"), ("% positive", "pct_positive"),
              ("% 1+", "pct_1plus"), ("% 2+", "pct_2plus"), ("% 3+", "pct_3plus"),
              ("Allred", "allred"), ("IRS", "irs"), ("cells", "n"))
#: Rows added in cell mode: the pixel-mode scores of the same region.
PIXEL_ROWS = (("pixel H-score", "pixel_h_score"), ("pixel % positive", "pixel_pct_positive"))


def ihc_params(values: dict):
    """An :class:`~blotquant.ihc.params.IHCParams` from the dock's values (validated)."""
    from blotquant.ihc.params import IHCParams

    return IHCParams.from_mapping(values)


def recorded_params(model) -> dict:
    """What the sidecar records as ``ihc.params``: the fields that differ from the defaults."""
    return model.changed()


def _records(df: pd.DataFrame) -> list[dict]:
    """Rows as dicts (faster than ``to_dict("records")`` for wide one-row tables)."""
    cols = list(df.columns)
    return [dict(zip(cols, row)) for row in df.to_numpy(dtype=object)]


def _missing(v) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def _cell(rec, col: str) -> str:
    v = rec.get(col)
    if _missing(v):
        return ""
    if col == "allred":
        return f"{int(v)} (PS {int(rec['allred_proportion'])} + IS {int(rec['allred_intensity'])})" \
            if not _missing(rec.get("allred_proportion")) else number_text(v)
    if col == "irs":
        return f"{int(v)} (PP {int(rec['irs_proportion'])} x SI {int(rec['irs_intensity'])})" \
            if not _missing(rec.get("irs_proportion")) else number_text(v)
    if col.startswith(("pct_", "pixel_pct_")):
        return number_text(v, percent=True)
    if col in ("h_score", "pixel_h_score"):
        return f"{float(v):.0f}"
    return number_text(v)


def _empty_text(mode: str) -> str:
    return "no cells in this region" if mode == "cell" else "no tissue in this region"


def score_table(summary: pd.DataFrame | None, *, mode: str,
                comparison: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Scores as rows (H-score, % positive, % 1+/2+/3+, Allred, IRS, cells), regions as columns.

    A region without cells (pixel mode: without tissue) says so instead of
    showing ``nan``.  In pixel mode the last row counts scored pixels.  In
    cell mode with a ``comparison``
    (:func:`blotquant.ihc.compare.compare_modes`), three rows follow: the
    pixel-mode H-score and % positive of the same region and whether the
    headline scores of the two modes agree.
    """
    if summary is None or not len(summary):
        return None
    rows = [("pixels" if (mode == "pixel" and col == "n") else label, col)
            for label, col in SCORE_ROWS]
    extra = mode == "cell" and comparison is not None and len(comparison) > 0
    verdict = {}
    if extra:
        rows += list(PIXEL_ROWS)
        verdict = {str(r["region"]): r for r in _records(comparison)}
    out = {"score": [label for label, _ in rows] + (["cell vs pixel"] if extra else [])}
    for rec in _records(summary):
        name = str(rec["region"])
        if not rec.get("n"):
            col = [_empty_text(mode)] + [""] * (len(SCORE_ROWS) - 2) + ["0"]
            col += [_cell(rec, c) for _, c in rows[len(SCORE_ROWS):]]
        else:
            col = [_cell(rec, c) for _, c in rows]
        if extra:
            col.append(_verdict(verdict.get(name)))
        out[name] = col
    return pd.DataFrame(out)


def _verdict(row) -> str:
    if row is None or _missing(row.get("difference")):
        return ""
    if row["agree"]:
        return "agree"
    from blotquant.ihc.compare import difference_text

    return f"differ: pixel {difference_text(row['score'], row['difference'])}"


def status_text(summary: pd.DataFrame | None, *, mode: str,
                comparison: pd.DataFrame | None = None, params: dict | None = None) -> str:
    """One line per result: ``region: H-score 145, 75.0% positive`` (or what is missing).

    With a ``comparison`` (cell mode), each region whose cell and pixel scores
    differ adds the short verdict (:func:`blotquant.ihc.compare.comparison_text`;
    :func:`comparison_reasons` gives the reasons, for a tooltip).  With the
    result's ``params``, a stain warning (``stain_note``: colours that
    hematoxylin + DAB cannot make) comes first.
    """
    if summary is None or not len(summary):
        return "nothing scored"
    parts = []
    note = str((params or {}).get("stain_note") or "")
    if note:
        parts.append("WARNING: " + note.split(":")[0] + " (see tooltip)")
    for rec in _records(summary):
        if not rec.get("n"):
            parts.append(f"{rec['region']}: {_empty_text(mode)}")
        else:
            parts.append(f"{rec['region']}: H-score {float(rec['h_score']):.0f}, "
                         f"{number_text(rec['pct_positive'], percent=True)} positive")
    if comparison is not None and len(comparison):
        from blotquant.ihc.compare import comparison_text

        parts += [comparison_text(r, reasons=False) for r in _records(comparison)
                  if _worth_saying(r)]
    return "; ".join(parts)


def comparison_reasons(comparison: pd.DataFrame | None, params: dict | None = None) -> str:
    """Why cell and pixel scores differ (or the marker looks wrong), one line per such region;
    the result's stain warning (``params["stain_note"]``) first."""
    lines = []
    note = str((params or {}).get("stain_note") or "")
    if note:
        lines.append("warning: " + note)
    if comparison is not None and len(comparison):
        from blotquant.ihc.compare import comparison_text

        lines += [comparison_text(r) for r in _records(comparison) if _worth_saying(r)]
    return "\n".join(lines)


def _worth_saying(r: dict) -> bool:
    """A region whose cell and pixel scores differ, or whose DAB is not where its marker is."""
    return bool(r.get("marker_note")) or (not r["agree"] and not _missing(r["difference"]))
