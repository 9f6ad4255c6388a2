"""Per-lane normalization: target / loading control, relative to a reference lane.

:func:`pair_blots` is the one pairing policy every edge (CLI, batch, napari)
uses: one image (target and control rows on one membrane, on the same strip
or across strips), two images (target + loading-control image, registered
strip by strip) or a total-protein stain image, with lanes paired per strip by
position and each strip normalized by its own control.  :func:`normalize` is
the older table-level helper for a single target/control row pair.

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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import AnalysisError, ParameterError

if TYPE_CHECKING:
    from .model import BlotResult
    from .params import BlotParams
    from .register import Registration

__all__ = ["normalize", "NORMALIZED_COLUMNS", "pair_blots", "Pairing", "register_strips",
           "PAIRED_COLUMNS", "LANE_PAIR_COLUMNS", "PAIRING_METHODS"]

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


# ============================================================================ pairing
#: Columns of :attr:`Pairing.table` (the normalized ratios), in order.
PAIRED_COLUMNS = ["image", "strip", "lane", "lane_in_strip", "target", "control",
                  "target_volume", "control_volume", "ratio", "relative_ratio",
                  "target_saturated", "control_saturated", "flags", "method", "control_image",
                  "control_strip", "control_lane", "registration_dy", "registration_dx",
                  "registration_deg", "reference_lane"]
#: Columns of :attr:`Pairing.lanes` (which control lane each target lane was paired with).
LANE_PAIR_COLUMNS = ["strip", "lane", "lane_in_strip", "control_strip", "control_lane",
                     "target_x", "control_x", "control_x_registered", "offset_px"]
#: Pairing methods.
PAIRING_METHODS = ("same-strip", "across-strips", "control-image", "total-protein")
#: A paired control lane further than this fraction of the lane pitch from its
#: target lane (after registration) is flagged ``lane_offset``.
_OFFSET_FRACTION = 0.35


@dataclass
class Pairing:
    """Target / loading-control ratios and how the lanes were paired.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per target band with a control (:data:`PAIRED_COLUMNS`):
        ``ratio = target_volume / control_volume`` and ``relative_ratio`` =
        ratio / ratio of the strip's reference lane.
    lanes : pandas.DataFrame
        The lane pairs (:data:`LANE_PAIR_COLUMNS`), per target strip.
    registrations : dict
        Target strip -> :class:`~blotquant.blot.register.Registration` of the
        control image's matching strip (two-image pairing; empty otherwise).
    mode : str
        ``"same-image"``, ``"control-image"`` or ``"total-protein"``.
    warnings : list of str
        Things a reviewer should look at (lane offsets, fallbacks).
    """

    table: pd.DataFrame
    lanes: pd.DataFrame
    registrations: dict = field(default_factory=dict)
    mode: str = "same-image"
    warnings: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """What a ``params.json`` records about the pairing.

        Returns
        -------
        dict
            ``mode``, ``registrations`` (target strip as text ->
            :meth:`Registration.to_dict <blotquant.blot.register.Registration.to_dict>`),
            ``lane_pairs`` (the number of lane pairs) and ``warnings``.
        """
        return {"mode": self.mode,
                "registrations": {str(k): v.to_dict() for k, v in self.registrations.items()},
                "lane_pairs": int(len(self.lanes)), "warnings": list(self.warnings)}


def _bands_of(res, what):
    bands = getattr(res, "bands", res)
    if not isinstance(bands, pd.DataFrame):
        raise ParameterError(f"{what} must be a BlotResult (or its bands table)")
    for col in ("lane", "row", "volume"):
        if col not in bands.columns:
            raise ParameterError(f"{what} bands table has no {col!r} column")
    b = bands.dropna(subset=["row"]).copy()
    if "strip" not in b.columns:
        b["strip"] = 1
    b["row"] = b["row"].astype(str)
    return b


def _lanes_of(res, bands):
    """Sample lanes per strip: DataFrame strip, lane, x (ladders dropped)."""
    lanes = getattr(res, "lanes", None)
    if isinstance(lanes, pd.DataFrame) and len(lanes) and {"lane", "x"} <= set(lanes.columns):
        ln = lanes.copy()
        if "strip" not in ln.columns:
            ln["strip"] = 1
        if "is_ladder" in ln.columns:
            ln = ln[~ln["is_ladder"].astype(bool)]
        ln = ln[ln["lane"].isin(set(bands["lane"]))]
        return ln[["strip", "lane", "x"]].sort_values(["strip", "x"]).reset_index(drop=True)
    # bands only: positions from the band boxes when known, else the lane numbers
    g = bands.groupby("lane")
    x = 0.5 * (g["left"].median() + g["right"].median()) if {"left", "right"} <= set(
        bands.columns) else g["lane"].first().astype(float)
    out = pd.DataFrame({"strip": g["strip"].first(), "lane": x.index, "x": x.to_numpy(float)})
    return out.sort_values(["strip", "x"]).reset_index(drop=True)


def _row_strip(bands):
    """row -> strip (a row lives on one strip)."""
    return bands.groupby("row")["strip"].agg(lambda s: int(s.mode().iloc[0])).to_dict()


def _row_order(bands, strip=None):
    b = bands if strip is None else bands[bands["strip"] == strip]
    if "y" in b.columns:
        return [str(r) for r in b.groupby("row")["y"].median().sort_values().index]
    return list(dict.fromkeys(b["row"]))


def _per_lane(bands, row, strip):
    """lane -> (volume, saturated, flags) of one row on one strip (doublets summed)."""
    sub = bands[(bands["row"] == row) & (bands["strip"] == strip)]
    if not len(sub):
        return {}
    sat = sub["saturated"].astype(bool) if "saturated" in sub.columns else False
    sub = sub.assign(_sat=sat)
    out = {}
    for lane, g in sub.groupby("lane"):
        out[int(lane)] = (float(g["volume"].sum()), bool(g["_sat"].any()))
    return out


def _total_protein(bands, strip):
    """lane -> (lane normalization factor, any saturated) on one strip of a stain image.

    The factor is the lane's total stain volume (every band of the lane)
    divided by the largest lane total of the strip (LI-COR's "lane
    normalization factor"), so ``ratio = target / factor`` stays in target
    units.
    """
    sub = bands[bands["strip"] == strip]
    sat = sub["saturated"].astype(bool) if "saturated" in sub.columns else False
    sub = sub.assign(_sat=sat)
    totals = {int(lane): (float(g["volume"].sum()), bool(g["_sat"].any()))
              for lane, g in sub.groupby("lane")}
    top = max((v for v, _ in totals.values()), default=0.0)
    if top <= 0:
        return totals
    return {lane: (v / top, s) for lane, (v, s) in totals.items()}


def _strongest_row(bands, strip):
    sub = bands[bands["strip"] == strip]
    if not len(sub):
        return None
    return str(sub.groupby("row")["volume"].median().idxmax())


def _match_lanes(t_lanes, c_lanes, reg, t_strip, c_strip):
    """Pair the sample lanes of one target strip with one control strip by position.

    Equal counts are required.  Returns (DataFrame of LANE_PAIR_COLUMNS, warning or None).
    """
    t = t_lanes[t_lanes["strip"] == t_strip].sort_values("x")
    c = c_lanes[c_lanes["strip"] == c_strip].sort_values("x")
    tx, cx = t["x"].to_numpy(float), c["x"].to_numpy(float)
    if reg is not None and len(cx):
        # the control lanes' centres, mapped into the target image at mid-strip height
        mid = reg.center[0]
        cxr = reg.apply(np.stack([np.full(len(cx), mid), cx], axis=1))[:, 1]
    else:
        cxr = cx
    off = cxr - tx
    pitch = float(np.median(np.diff(tx))) if len(tx) > 1 else np.inf
    df = pd.DataFrame({"strip": int(t_strip), "lane": t["lane"].to_numpy(int),
                       "lane_in_strip": np.arange(1, len(tx) + 1), "control_strip": int(c_strip),
                       "control_lane": c["lane"].to_numpy(int), "target_x": tx,
                       "control_x": cx, "control_x_registered": cxr, "offset_px": off},
                      columns=LANE_PAIR_COLUMNS)
    warn = None
    if reg is not None and np.isfinite(pitch):
        bad = np.abs(off) > _OFFSET_FRACTION * pitch
        if bad.any():
            warn = (f"strip {t_strip}: {int(bad.sum())} of {len(tx)} control lanes lie more "
                    f"than {_OFFSET_FRACTION:.0%} of a lane pitch ({pitch:.0f} px) from their "
                    f"target lane after registration (median offset {np.median(off):+.0f} px); "
                    "check the lane geometry of both images")
    return df, warn


def _ratio_rows(pairs, tvals, cvals, ref_pos, *, image, target, control, method,
                control_image, reg, offset_limit):
    rows = []
    for p in pairs.itertuples():
        if p.lane not in tvals or p.control_lane not in cvals:
            continue
        tv, ts = tvals[p.lane]
        cv, cs = cvals[p.control_lane]
        rows.append(dict(image=image, strip=p.strip, lane=p.lane, lane_in_strip=p.lane_in_strip,
                         target=target, control=control, target_volume=tv, control_volume=cv,
                         target_saturated=ts, control_saturated=cs, method=method,
                         control_image=control_image, control_strip=p.control_strip,
                         control_lane=p.control_lane,
                         lane_off=abs(p.offset_px) > offset_limit))
    if not rows:
        return None
    df = pd.DataFrame(rows)
    tv, cv = df["target_volume"].to_numpy(float), df["control_volume"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cv > 0, tv / np.where(cv > 0, cv, 1.0), np.nan)
    refm = df["lane_in_strip"].to_numpy(int) == ref_pos
    ref = float(ratio[refm][0]) if refm.any() else np.nan
    ref_sat = bool(refm.any() and (df.loc[refm, "target_saturated"].iloc[0]
                                   or df.loc[refm, "control_saturated"].iloc[0]))
    ok_ref = np.isfinite(ref) and ref > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = ratio / ref if ok_ref else np.full(len(df), np.nan)
    flags = []
    for i, r in enumerate(df.itertuples()):
        f = []
        if r.target_saturated:
            f.append("saturated_target")
        if r.control_saturated:
            f.append("saturated_control")
        if ref_sat:
            f.append("saturated_reference")
        if tv[i] <= 0:
            f.append("nonpositive_target")
        if cv[i] <= 0:
            f.append("nonpositive_control")
        if not ok_ref:
            f.append("invalid_reference" if refm.any() else "no_reference_lane")
        if r.lane_off:
            f.append("lane_offset")
        flags.append(";".join(f))
    df["ratio"], df["relative_ratio"], df["flags"] = ratio, rel, flags
    df["registration_dy"] = np.nan if reg is None else reg.dy
    df["registration_dx"] = np.nan if reg is None else reg.dx
    df["registration_deg"] = np.nan if reg is None else reg.angle_deg
    # the image lane whose ratio is 1 (empty when the strip has no valid reference)
    ref_lane = int(df.loc[refm, "lane"].iloc[0]) if refm.any() and ok_ref else None
    df["reference_lane"] = pd.array([ref_lane] * len(df), dtype="Int64")
    return df[PAIRED_COLUMNS]


def _strip_box(res, strip):
    """(top, bottom) image rows of one strip, from its lanes."""
    ln = res.lanes[res.lanes["strip"] == strip]
    H = res.signal.shape[0]
    return max(0, int(np.floor(ln["top"].min()))), min(H, int(np.ceil(ln["bottom"].max())) + 1)


def _strip_columns(res, strip):
    """(left, right) image columns of one strip: its membrane piece on a figure page
    (``params["pieces_found"]``), else the whole width."""
    W = res.signal.shape[1]
    for pc in (getattr(res, "params", None) or {}).get("pieces_found") or []:
        if strip in (pc.get("strips") or []):
            return max(0, int(pc["left"])), min(W, int(pc["right"]))
    return 0, W


def register_strips(target: BlotResult, control: BlotResult, strip_pairs: dict[int, int], *,
                    max_shift: float | None = None,
                    max_rotation_deg: float = 3.0) -> dict[int, Registration]:
    """Register each strip of the control image to its strip of the target image.

    Strips of one image are separate membrane pieces and may be re-placed
    independently between exposures, so each pair is registered on its own
    (a crop of each signal image over the strip's rows, and on a figure page over
    its membrane piece's columns): rigid 2-D phase
    correlation (:func:`~blotquant.blot.register.register_images`) when the
    crops share texture (response >= ``MIN_SCORE``), else the horizontal shift
    of their lane profiles (:func:`~blotquant.blot.register.register_columns`).

    Parameters
    ----------
    target, control : BlotResult
        Results with ``signal`` and ``lanes`` (strip, top, bottom).
    strip_pairs : dict
        Target strip -> control strip.
    max_shift, max_rotation_deg : float, optional
        See :func:`~blotquant.blot.register.register_images`.

    Returns
    -------
    dict
        Target strip -> Registration in full-image coordinates (a control-image
        point maps to the target image).

    Raises
    ------
    ParameterError
        If a result has no ``signal`` image.
    """
    from .register import MIN_SCORE, Registration, register_columns, register_images

    if getattr(target, "signal", None) is None or getattr(control, "signal", None) is None:
        raise ParameterError("registration needs the signal images: pass BlotResults from "
                             "quantify_blot, or register=False")
    out = {}
    for ts, cs in strip_pairs.items():
        t0, t1 = _strip_box(target, ts)
        c0, c1 = _strip_box(control, cs)
        a0, a1 = _strip_columns(target, ts)
        b0, b1 = _strip_columns(control, cs)
        ft = np.asarray(target.signal)[t0:t1, a0:a1]
        mc = np.asarray(control.signal)[c0:c1, b0:b1]
        try:
            r = register_images(ft, mc, max_shift=max_shift, max_rotation_deg=max_rotation_deg)
        except AnalysisError:
            r = None
        if r is None or not r.score >= MIN_SCORE:
            # no shared texture (different proteins, re-placed strips): the lanes
            # are what the two images share
            r = register_columns(ft, mc, max_shift=max_shift)
        # crop -> full image: p_t = R(p_c - C) + C + d + (t0 - c0, a0 - b0), C = crop
        # centre in the control image (on a figure page the crops are the pieces)
        cy, cx = r.center
        out[int(ts)] = Registration(dy=r.dy + t0 - c0, dx=r.dx + a0 - b0, angle_deg=r.angle_deg,
                                    center=(cy + c0, cx + b0), score=r.score, method=r.method)
    return out


def pair_blots(target_result: BlotResult | pd.DataFrame,
               control_result: BlotResult | None = None, params: BlotParams | None = None, *,
               total_protein: bool = False, registrations: dict | None = None,
               **overrides: Any) -> Pairing:
    """Normalize target bands by loading-control bands: the one pairing policy.

    Three cases go through this function:

    * **one image** (``control_result=None``): target rows and control row on one
      membrane.  On a strip with two or more rows the control is the strip's
      own bottom row (or ``params.control``) and lanes are paired by number;
      a strip with only a target row is paired with the control row of
      another strip (``params.control``, else the image's bottom row) by lane
      position within the strips.
    * **two images** (``control_result`` = the loading-control image's result):
      strips are paired top to bottom (same count required); each control
      strip is registered to its target strip (shift, small rotation;
      ``params.register``) and lanes are paired by position within the strip.
      Each strip's target is divided by the control of the *same* strip (its
      ``params.control`` row if that row is on the strip, else its strongest
      row).
    * **total protein** (``total_protein=True``): like two images, but the
      control of a lane is its lane normalization factor in the total-protein
      stain image ``control_result``: the sum of every band volume of the lane
      divided by the largest lane sum of the strip.

    Different lane counts on paired strips are an error naming both counts of
    every strip.  ``reference_lane`` is a position within each target strip
    (1 = its first sample lane); every strip has its own reference.

    Parameters
    ----------
    target_result : BlotResult
        The target image's result (``bands`` and ``lanes``; ``signal`` for
        registration).  A bands table alone is accepted without registration.
    control_result : BlotResult, optional
        The loading-control (or total-protein) image's result.
    params : BlotParams, optional
        Uses ``target`` (row names to normalize; default every target row),
        ``control``, ``reference_lane``, ``register``, ``max_shift`` and
        ``max_rotation_deg``.
    total_protein : bool
        ``control_result`` is a total-protein stain: lane sums are the control.
    registrations : dict, optional
        Target strip -> Registration to use as they are (e.g. reviewed by a
        person); skips registering.
    **overrides : Any
        Parameter values replacing those of ``params``.

    Returns
    -------
    Pairing
        ``table`` (:data:`PAIRED_COLUMNS`), ``lanes`` (lane pairs),
        ``registrations``, ``mode``, ``warnings``.

    Raises
    ------
    ParameterError
        Unknown rows, different strip or lane counts, no control row.

    Examples
    --------
    >>> import pandas as pd
    >>> bands = pd.DataFrame({"strip": 1, "lane": [1, 1, 2, 2], "row": ["T", "C"] * 2,
    ...                       "volume": [2.0, 1.0, 6.0, 2.0], "saturated": False})
    >>> p = pair_blots(bands)
    >>> p.table[["lane", "target", "control", "ratio", "relative_ratio"]].values.tolist()
    [[1, 'T', 'C', 2.0, 1.0], [2, 'T', 'C', 3.0, 1.5]]
    """
    from .params import BlotParams

    if params is None:
        P = BlotParams.from_mapping(overrides)
    elif isinstance(params, BlotParams):
        P = params.replace(**overrides)
    else:
        P = BlotParams.from_mapping(params, **overrides)
    target, control = target_result, control_result
    tb = _bands_of(target, "target")
    if not len(tb):
        raise ParameterError("the target image has no bands to normalize")
    t_lanes = _lanes_of(target, tb)
    t_image = str(tb["image"].iloc[0]) if "image" in tb.columns else "image"
    ref_pos = int(P.reference_lane)
    per_strip = t_lanes.groupby("strip")["lane"].nunique()
    if len(per_strip) and ref_pos > int(per_strip.min()):
        counts_txt = ",".join(str(int(n)) for n in per_strip.to_numpy())
        raise ParameterError(f"reference_lane: lane {ref_pos} does not exist, the image has "
                             f"{counts_txt} lane(s) per strip; give a lane from 1 to "
                             f"{int(per_strip.min())}")
    t_rows = _row_order(tb)
    if P.target is not None and P.target not in t_rows:
        raise ParameterError(f"target row {P.target!r} not found; rows are {t_rows}")
    warnings: list = []
    parts: list = []
    pair_frames: list = []
    regs: dict = {}

    if control is None:
        if total_protein:
            raise ParameterError("total_protein=True needs the total-protein stain image "
                                 "as control")
        mode = "same-image"
        strip_of = _row_strip(tb)
        strips = sorted(set(strip_of.values()))
        if P.control is not None:
            if P.control not in strip_of:
                raise ParameterError(f"control row {P.control!r} not found; rows are {t_rows}")
            controls = {s: P.control for s in strips}
        else:
            own = {s: _row_order(tb, s)[-1] for s in strips if len(_row_order(tb, s)) >= 2}
            fallback = t_rows[-1]
            if not own and len(t_rows) < 2:
                raise ParameterError(f"one row ({t_rows[0]!r}) and no control image: nothing "
                                     "to normalize; give a loading-control image or a "
                                     "second row")
            controls = {s: own.get(s, fallback) for s in strips}
        for s in strips:
            crow = controls[s]
            cs = strip_of[crow]
            targets = [r for r in _row_order(tb, s) if r != crow and r not in controls.values()]
            if P.target is not None:
                targets = [r for r in targets if r == P.target]
            if not targets:
                continue
            if cs == s:
                lanes_s = t_lanes[t_lanes["strip"] == s].sort_values("x")
                pairs = pd.DataFrame({"strip": s, "lane": lanes_s["lane"].to_numpy(int),
                                      "lane_in_strip": np.arange(1, len(lanes_s) + 1),
                                      "control_strip": s,
                                      "control_lane": lanes_s["lane"].to_numpy(int),
                                      "target_x": lanes_s["x"].to_numpy(float),
                                      "control_x": lanes_s["x"].to_numpy(float),
                                      "control_x_registered": lanes_s["x"].to_numpy(float),
                                      "offset_px": 0.0}, columns=LANE_PAIR_COLUMNS)
                method = "same-strip"
            else:
                _check_counts({s: cs}, t_lanes, t_lanes, "target row's strip",
                              "control row's strip")
                pairs, _ = _match_lanes(t_lanes, t_lanes, None, s, cs)
                method = "across-strips"
            pair_frames.append(pairs)
            cvals = _per_lane(tb, crow, cs)
            for r in targets:
                df = _ratio_rows(pairs, _per_lane(tb, r, s), cvals, ref_pos, image=t_image,
                                 target=r, control=crow, method=method,
                                 control_image=t_image, reg=None, offset_limit=np.inf)
                if df is not None:
                    parts.append(df)
    else:
        mode = "total-protein" if total_protein else "control-image"
        cb = _bands_of(control, "control")
        if not len(cb):
            raise ParameterError("the control image has no bands")
        c_lanes = _lanes_of(control, cb)
        c_image = str(cb["image"].iloc[0]) if "image" in cb.columns else "control"
        ts_list = sorted(t_lanes["strip"].unique())
        cs_list = sorted(c_lanes["strip"].unique())
        if len(ts_list) != len(cs_list):
            raise ParameterError(
                f"the target image {t_image!r} has {len(ts_list)} strip(s) "
                f"({_counts_text(t_lanes, ts_list)} lanes) but the control image {c_image!r} "
                f"has {len(cs_list)} ({_counts_text(c_lanes, cs_list)} lanes); strips are "
                "paired top to bottom, so which control strip belongs to which target strip "
                "is ambiguous: give the lane count per strip (lanes=...) or lane_geometry "
                "for one image so both find the same strips")
        strip_pairs = dict(zip(ts_list, cs_list))
        _check_counts(strip_pairs, t_lanes, c_lanes, f"target image {t_image!r}",
                      f"control image {c_image!r}")
        if registrations is not None:
            regs = dict(registrations)
        elif P.register and hasattr(target, "signal") and hasattr(control, "signal"):
            regs = register_strips(target, control, strip_pairs, max_shift=P.max_shift,
                                   max_rotation_deg=P.max_rotation_deg)
        elif P.register:
            warnings.append("not registered: the results carry no signal images")
        for ts, cs in strip_pairs.items():
            reg = regs.get(int(ts))
            pairs, warn = _match_lanes(t_lanes, c_lanes, reg, ts, cs)
            if warn:
                warnings.append(warn)
            pair_frames.append(pairs)
            tx = pairs["target_x"].to_numpy(float)
            pitch = float(np.median(np.diff(tx))) if len(tx) > 1 else np.inf
            limit = _OFFSET_FRACTION * pitch if reg is not None else np.inf
            if total_protein:
                crow, cvals = "total protein", _total_protein(cb, cs)
            else:
                c_strip_rows = _row_order(cb, cs)
                crow = P.control if P.control in c_strip_rows else _strongest_row(cb, cs)
                cvals = _per_lane(cb, crow, cs) if crow is not None else {}
            targets = _row_order(tb, ts)
            if P.target is not None:
                targets = [r for r in targets if r == P.target]
            for r in targets:
                df = _ratio_rows(pairs, _per_lane(tb, r, ts), cvals, ref_pos, image=t_image,
                                 target=r, control=crow, method=mode, control_image=c_image,
                                 reg=reg, offset_limit=limit)
                if df is not None:
                    parts.append(df)
    table = (pd.concat(parts, ignore_index=True) if parts
             else pd.DataFrame(columns=PAIRED_COLUMNS))
    lanes = (pd.concat(pair_frames, ignore_index=True) if pair_frames
             else pd.DataFrame(columns=LANE_PAIR_COLUMNS))
    if not len(table):
        warnings.append("no target lane has a control band to pair with")
    return Pairing(table=table, lanes=lanes, registrations=regs, mode=mode, warnings=warnings)


def _counts_text(lanes, strips):
    return " + ".join(str(int((lanes["strip"] == s).sum())) for s in strips)


def _check_counts(strip_pairs, t_lanes, c_lanes, t_name, c_name):
    bad = []
    for ts, cs in strip_pairs.items():
        nt = int((t_lanes["strip"] == ts).sum())
        nc = int((c_lanes["strip"] == cs).sum())
        if nt != nc:
            bad.append(f"strip {ts}: {t_name} has {nt} lanes, {c_name} has {nc}"
                       + ("" if cs == ts else f" (its strip {cs})"))
    if bad:
        raise ParameterError(
            "lane counts differ, so lanes cannot be paired by position: " + "; ".join(bad)
            + ". Give the lane count (lanes=...) or correct the lanes of one image")
