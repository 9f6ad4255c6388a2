"""Which target row is divided by which loading control: the one pairing policy.

:func:`normalize_results` turns one or two :class:`~blotquant.blot.model.BlotResult`
(a target image and, optionally, a loading-control image of the same membrane)
into the normalized table, pairing per strip:

* one image, several rows: every row except the control is divided by the
  control row *of the same strip* (``control``; default the last row);
* two images: each target row is divided by the control row at the same
  position in the control image when the row counts match, else by the named
  control row, else by the strongest control row of the same strip;
* the reference lane is counted within each strip (lane 1 of the second
  strip is that strip's first lane).

Examples
--------
>>> from blotquant.synthetic import make_blot
>>> from blotquant.blot import quantify_blot
>>> res = quantify_blot(make_blot(1, shape=(300, 400), n_lanes=4).to_image(),
...                     rows=["ASNS", "ACTB"])
>>> n = normalize_results(res)
>>> n["target"].unique().tolist(), n["control"].unique().tolist(), float(n["relative_ratio"].iloc[0])
(['ASNS'], ['ACTB'], 1.0)
"""

from __future__ import annotations

import pandas as pd

from ..errors import ParameterError
from .normalize import NORMALIZED_COLUMNS, normalize

__all__ = ["normalize_results"]


def _ref_lane(bands: pd.DataFrame, row: str, reference_lane: int) -> int:
    """The reference lane counted within the strip of ``row``."""
    sub = bands[bands["row"] == row]
    if "strip" not in sub.columns or len(sub) == 0:
        return reference_lane
    first = int(bands.loc[bands["strip"] == sub["strip"].iloc[0], "lane"].min())
    return first + reference_lane - 1 if first > 1 else reference_lane


def _strongest_row_on_strip(bands: pd.DataFrame, row: str, control_bands: pd.DataFrame):
    """Control row on the same strip as ``row`` with the largest median volume."""
    sub = bands[bands["row"] == row]
    if len(sub) == 0 or len(control_bands) == 0:
        return None
    cb = control_bands[control_bands["strip"] == sub["strip"].iloc[0]]
    if len(cb) == 0:
        return None
    return str(cb.groupby("row")["volume"].median().idxmax())


def normalize_results(result, control_result=None, *, target: str | None = None,
                      control: str | None = None, reference_lane: int = 1,
                      control_rows=None) -> pd.DataFrame | None:
    """Normalized table of a blot (and its loading-control image), paired per strip.

    Parameters
    ----------
    result : BlotResult
        The target image's result.
    control_result : BlotResult, optional
        The loading-control image's result (same membrane, same lane order).
    target : str, optional
        Only this target row (default: every non-control row).
    control : str, optional
        Control row name (default: the last row of a one-image blot; the
        row at the same position, or the first row, of the control image).
    reference_lane : int
        Lane (within its strip) whose ratio is 1.0.
    control_rows : sequence of str, optional
        Names the control image's rows were given (for messages).

    Returns
    -------
    DataFrame with ``NORMALIZED_COLUMNS``, or None when there is nothing to
    pair (one row, no control image).

    Raises
    ------
    ParameterError
        A named row that is not among the rows found.
    """
    res, res2 = result, control_result
    rows = list(res.rows)
    if target is not None and target not in rows:
        raise ParameterError(f"--target {target!r} is not a row of the image; rows are {rows}")
    targets = [target] if target is not None else None
    parts = []
    if res2 is not None:
        crows = list(res2.rows)
        if control is not None and control not in crows:
            raise ParameterError(f"--control {control!r} is not a row of the control image; "
                                 f"its rows are {crows}")
        for i, t in enumerate(targets or rows):
            if control is not None:
                crow = control
            elif len(crows) == len(rows):
                crow = crows[rows.index(t)]
            else:
                crow = _strongest_row_on_strip(res.bands, t, res2.bands) or crows[0]
            parts.append(normalize(res.bands, target=t, control=crow, control_bands=res2.bands,
                                   reference_lane=_ref_lane(res.bands, t, reference_lane)))
    elif len(rows) >= 2:
        crow = control or rows[-1]
        if crow not in rows:
            raise ParameterError(f"--control {crow!r} is not a row; rows are {rows}")
        for t in targets or rows:
            if t == crow:
                continue
            parts.append(normalize(res.bands, target=t, control=crow,
                                   reference_lane=_ref_lane(res.bands, t, reference_lane)))
    elif control is not None:
        raise ParameterError(f"--control {control!r}: the image has one row ({rows}) and no "
                             "control image was given")
    if not parts:
        return None
    out = pd.concat(parts, ignore_index=True)
    return out[[c for c in NORMALIZED_COLUMNS if c in out.columns]
               + [c for c in out.columns if c not in NORMALIZED_COLUMNS]]
