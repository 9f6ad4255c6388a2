"""Per-lane normalization: target / loading control, relative to a reference lane.

``ratio = target_volume / control_volume`` per lane and
``relative_ratio = ratio / ratio[reference_lane]`` (so the reference lane is
exactly 1.0).  The control can be another row of the same image or a row of a
second image of the same membrane (same lane order): pass its bands as
``control_bands``.  Ratios are only meaningful for unsaturated bands inside the
linear range: a ratio involving a saturated band carries the flag
``saturated_target`` / ``saturated_control`` (and ``saturated_reference`` on
every lane when the reference lane's bands are saturated); non-positive
volumes are flagged, never hidden.

Examples
--------
>>> import pandas as pd
>>> bands = pd.DataFrame({"image": "b", "lane": [1, 1, 2, 2], "row": ["T", "C"] * 2,
...                       "volume": [10.0, 5.0, 30.0, 5.0],
...                       "saturated": [False, False, True, False]})
>>> n = normalize(bands, target="T", control="C")
>>> n[["lane", "ratio", "relative_ratio", "flags"]].to_dict("records")
[{'lane': 1, 'ratio': 2.0, 'relative_ratio': 1.0, 'flags': ''}, {'lane': 2, 'ratio': 6.0, 'relative_ratio': 3.0, 'flags': 'saturated_target'}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParameterError

__all__ = ["normalize", "NORMALIZED_COLUMNS"]

NORMALIZED_COLUMNS = ["image", "lane", "target", "control", "target_volume", "control_volume",
                      "ratio", "relative_ratio", "target_saturated", "control_saturated",
                      "flags", "reference_lane"]


def _pick(bands: pd.DataFrame, row: str, what: str) -> pd.DataFrame:
    if not isinstance(bands, pd.DataFrame):
        raise ParameterError(f"{what} bands must be a pandas DataFrame (BlotResult.bands)")
    for col in ("lane", "row", "volume"):
        if col not in bands.columns:
            raise ParameterError(f"{what} bands table has no {col!r} column")
    names = list(dict.fromkeys(bands["row"].astype(str)))
    if row not in names:
        raise ParameterError(f"{what} row {row!r} not found; rows are {names}")
    sub = bands[bands["row"].astype(str) == row]
    if sub["lane"].duplicated().any():
        # several bands of one row in a lane: sum them (e.g. a split doublet)
        agg = {"volume": "sum"}
        if "saturated" in sub.columns:
            agg["saturated"] = "any"
        if "image" in sub.columns:
            agg["image"] = "first"
        if "strip" in sub.columns:
            agg["strip"] = "first"
        sub = sub.groupby("lane", as_index=False).agg(agg)
    return sub.set_index("lane")


def normalize(bands: pd.DataFrame, *, target: str, control: str, reference_lane: int | None = 1,
              control_bands: pd.DataFrame | None = None) -> pd.DataFrame:
    """Target/control ratio per lane and its value relative to a reference lane.

    Parameters
    ----------
    bands : DataFrame
        ``BlotResult.bands`` (needs lane, row, volume; uses saturated, flags,
        image when present).
    target, control : str
        Row names.
    reference_lane : int or None
        Lane whose ratio becomes 1.0 (None: relative_ratio = ratio / mean ratio
        of all valid lanes).
    control_bands : DataFrame, optional
        Bands of a second image (loading control of the same membrane); lanes
        are matched by number.  When target and control rows lie on different
        strips (``strip`` column), lanes are matched by their order within the
        strip and reported with the target's lane numbers.

    Returns
    -------
    DataFrame
        One row per lane having both bands: image, lane, target, control,
        target_volume, control_volume, ratio, relative_ratio, target_saturated,
        control_saturated, flags, reference_lane (empty when relative to the mean).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"lane": [1, 2], "row": "ASNS", "volume": [4.0, 2.0]})
    >>> c = pd.DataFrame({"lane": [1, 2], "row": "ACTB", "volume": [2.0, 2.0]})
    >>> normalize(t, target="ASNS", control="ACTB", control_bands=c, reference_lane=2)[
    ...     "relative_ratio"].tolist()
    [2.0, 1.0]
    """
    tb = _pick(bands, str(target), "target")
    cb = _pick(bands if control_bands is None else control_bands, str(control), "control")
    # rows on different membrane strips (each with its own lanes, numbered on):
    # pair lanes by their position within the strip (same lane order)
    if "strip" in tb.columns and "strip" in cb.columns:
        ts_, cs_ = set(tb["strip"]), set(cb["strip"])
        if len(ts_) == 1 and len(cs_) == 1 and ts_ != cs_:
            t_off = int(min(tb.index)) - 1
            c_off = int(min(cb.index)) - 1
            cb = cb.copy()
            cb.index = cb.index - c_off + t_off
    lanes = sorted(set(tb.index) & set(cb.index))
    if not lanes:
        raise ParameterError(f"no lane has both a {target!r} and a {control!r} band")
    if reference_lane is not None and reference_lane not in lanes:
        raise ParameterError(f"reference lane {reference_lane} has no {target!r}/{control!r} "
                             f"pair; lanes are {lanes}")
    tv = tb.loc[lanes, "volume"].to_numpy(float)
    cv = cb.loc[lanes, "volume"].to_numpy(float)
    ts = (tb.loc[lanes, "saturated"].to_numpy(bool) if "saturated" in tb.columns
          else np.zeros(len(lanes), bool))
    cs = (cb.loc[lanes, "saturated"].to_numpy(bool) if "saturated" in cb.columns
          else np.zeros(len(lanes), bool))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cv > 0, tv / np.where(cv > 0, cv, 1.0), np.nan)
    if reference_lane is not None:
        k = lanes.index(reference_lane)
        ref = ratio[k]
        ref_sat = bool(ts[k] or cs[k])
    else:
        ok = np.isfinite(ratio) & (ratio > 0)
        ref = float(np.mean(ratio[ok])) if ok.any() else np.nan
        ref_sat = False
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = ratio / ref if (np.isfinite(ref) and ref > 0) else np.full(len(lanes), np.nan)
    flags = []
    for i in range(len(lanes)):
        f = []
        if ts[i]:
            f.append("saturated_target")
        if cs[i]:
            f.append("saturated_control")
        if ref_sat:
            f.append("saturated_reference")
        if tv[i] <= 0:
            f.append("nonpositive_target")
        if cv[i] <= 0:
            f.append("nonpositive_control")
        if not (np.isfinite(ref) and ref > 0):
            f.append("invalid_reference")
        flags.append(";".join(f))
    image = tb.loc[lanes, "image"].to_numpy() if "image" in tb.columns else ["image"] * len(lanes)
    return pd.DataFrame({"image": image, "lane": np.asarray(lanes, int), "target": str(target),
                         "control": str(control), "target_volume": tv, "control_volume": cv,
                         "ratio": ratio, "relative_ratio": rel, "target_saturated": ts,
                         "control_saturated": cs, "flags": flags,
                         # the lane whose ratio is 1 (empty: relative to the mean of lanes)
                         "reference_lane": pd.array([reference_lane] * len(lanes),
                                                    dtype="Int64")},
                        columns=NORMALIZED_COLUMNS)
