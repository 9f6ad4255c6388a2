"""Combine per-image result folders into the batch's tidy tables.

The combined tables are always rebuilt from the files in the per-image
result folders, in sample-sheet order, so a resumed run produces exactly the
same tables as an uninterrupted one.

Normalisation across images follows the sheet's ``group`` and ``role``
columns (see :mod:`blotquant.batch.sheet`) and each target image's
``BlotParams`` (``target``, ``control``, ``reference_lane``); lanes are paired
by the core (:func:`blotquant.blot.normalize.normalize`, called from
:func:`pair` only):

- one image holding both rows: ``target`` row / ``control`` row of that
  image (default target = top row, control = bottom row);
- a target image plus a ``loading_control`` image of the same group: the
  target row of the first / the (first) row of the second, matched by lane;
- a ``total_protein`` image in the group: lane normalisation factor
  ``LNF = lane total / max lane total`` (lane total = sum of the
  background-corrected volumes of all bands the engine measured in that lane
  of the stain image), ``ratio = target volume / LNF``.

Normalised rows carry the target image's ``params_hash``: ``BlotParams``
holds the normalisation parameters too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..blot.normalize import pair_blots
from ..blot.params import BlotParams
from ..errors import ParameterError
from .sheet import split_list

__all__ = ["combine", "CONTEXT_COLUMNS"]

#: Sample-sheet columns copied into every combined table (after ``image``).
CONTEXT_COLUMNS = ("sample", "condition", "replicate", "role", "group")


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _with_context(df: pd.DataFrame, t: dict, phash: str) -> pd.DataFrame:
    df = df.copy()
    ctx = t["context"]
    df["image"] = t["name"]
    for c in CONTEXT_COLUMNS:
        df[c] = ctx.get(c, "")
    if "params_hash" not in df.columns:
        df["params_hash"] = phash
    if "version" not in df.columns:
        df["version"] = __version__
    front = ["image", *CONTEXT_COLUMNS]
    tail = ["params_hash", "version"]
    cols = front + [c for c in df.columns if c not in front and c not in tail] + tail
    return df[cols]


def _lane_labels(df: pd.DataFrame, t: dict) -> pd.DataFrame:
    labels = split_list(t["context"].get("lane_labels", ""))
    if "lane" in df.columns:
        lab = {i + 1: v for i, v in enumerate(labels)}
        pos = list(df.columns).index("lane") + 1
        df.insert(pos, "lane_label", [lab.get(int(x), "") if pd.notna(x) else ""
                                      for x in df["lane"]])
    return df


def _row_order(bands: pd.DataFrame) -> list[str]:
    if bands is None or bands.empty or "row" not in bands:
        return []
    b = bands.dropna(subset=["row"])
    if "y" in b:
        return [str(r) for r in b.groupby("row")["y"].median().sort_values().index]
    return [str(r) for r in pd.unique(b["row"])]


def _normalize_group(items: list[tuple[dict, pd.DataFrame, str]],
                     warnings: list[str]) -> list[pd.DataFrame]:
    """Normalised ratios for one group of blot images."""
    def role(t):
        return t["context"].get("role", "target")

    targets = [x for x in items if role(x[0]) == "target"]
    controls = [x for x in items if role(x[0]) == "loading_control"]
    totals = [x for x in items if role(x[0]) == "total_protein"]
    out = []
    for t, bands, phash in targets:
        params = BlotParams.from_mapping(t["blot_params"])
        rows = _row_order(bands)
        if not rows:
            continue
        if totals:
            c_t, c_bands, _ = totals[0]
            total, method = True, "total-protein"
            if c_bands is None or c_bands.empty:
                warnings.append(f"normalisation: {t['name']}: total-protein image "
                                f"{c_t['name']} has no lane totals")
                continue
        elif controls:
            c_t, c_bands, _ = controls[0]
            total, method = False, "loading-control"
        else:
            c_t, c_bands, total, method = t, None, False, "loading-control"
            if len(rows) < 2:
                continue  # a single-row blot without a control: nothing to normalise
        try:
            # the one pairing policy of the core (per strip; tables: no registration)
            pairing = pair_blots(bands, c_bands, params, total_protein=total)
        except ParameterError as err:
            warnings.append(f"normalisation: {t['name']}: {err.problem}")
            continue
        warnings.extend(f"normalisation: {t['name']}: {w}" for w in pairing.warnings)
        df = pairing.table.copy()
        df["image"] = t["name"]
        df["control_image"] = c_t["name"]
        df["method"] = method
        df = _with_context(df, t, phash)
        out.append(_lane_labels(df, t))
    return out


def combine(done_tasks: list[dict], *,
            base_dir: str | os.PathLike | None = None) -> tuple[dict, list[str]]:
    """Combined tables from finished tasks (in the given order) + warnings.

    Warnings start with a category: ``saturated:``, ``ratio:`` (flagged or
    non-finite normalised ratios) or ``normalisation:``.

    Parameters
    ----------
    done_tasks : list of dict
        Tasks whose ``result_dir`` holds a finished result; their ``name``
        and ``context`` (sheet columns such as ``group``) label the rows.
    base_dir : path-like, optional
        Not used by the function.

    Returns
    -------
    tables : dict of str to DataFrame
        The combined tables present among ``bands``, ``lanes``,
        ``normalized`` (lane ratios of the blots, paired per group),
        ``ihc_regions`` and ``ihc_cells``.
    warnings : list of str
        One message per problem found.
    """
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in
                                            ("bands", "lanes", "ihc_regions", "ihc_cells")}
    warnings: list[str] = []
    groups: dict[str, list] = {}
    for t in done_tasks:
        d = Path(t["result_dir"])
        phash = _marker_hash(d)
        bands = _read(d / "bands.csv")
        if bands is not None:
            lanes = _read(d / "lanes.csv")
            parts["bands"].append(_lane_labels(_with_context(bands, t, phash), t))
            if lanes is not None:
                parts["lanes"].append(_lane_labels(_with_context(lanes, t, phash), t))
            groups.setdefault(t["context"].get("group") or t["name"], []).append(
                (t, bands, phash))
            if "saturated" in bands:
                sat = bands[bands["saturated"].astype(str).str.lower().isin(["true", "1"])]
                if len(sat):
                    where = ", ".join(f"lane {r.get('lane')} {r.get('row')}"
                                      for _, r in sat.head(12).iterrows())
                    more = f" (+{len(sat) - 12} more)" if len(sat) > 12 else ""
                    warnings.append(f"saturated: {t['name']}: {len(sat)} saturated "
                                    f"band(s): {where}{more} -- volumes are lower bounds")
        regions = _read(d / "ihc_regions.csv")
        if regions is not None:
            parts["ihc_regions"].append(_with_context(regions, t, phash))
            note, marker = _ihc_notes(d)
            if note:
                warnings.append(f"stain: {t['name']}: {note}")
            for region, m in marker.items():
                warnings.append(f"marker: {t['name']}: {region}: {m}")
            cells = _read(d / "ihc_cells.csv")
            if cells is not None and len(cells):
                parts["ihc_cells"].append(_with_context(cells, t, phash))
    normalized = []
    for _, items in groups.items():
        normalized.extend(_normalize_group(items, warnings))
    tables = {}
    for name in ("bands", "lanes"):
        if parts[name]:
            tables[name] = pd.concat(parts[name], ignore_index=True)
    if normalized:
        tables["normalized"] = pd.concat(normalized, ignore_index=True)
        nt = tables["normalized"]
        flags = nt["flags"].fillna("").astype(str) if "flags" in nt else \
            pd.Series("", index=nt.index)
        bad = flags.str.strip().ne("") | ~np.isfinite(pd.to_numeric(nt["ratio"],
                                                                     errors="coerce"))
        for img, g in nt[bad].groupby("image", sort=False):
            kinds = sorted({f for x in flags[g.index] for f in x.split(";") if f})
            lanes = ", ".join(str(x) for x in g["lane"])
            warnings.append(f"ratio: {img}: {len(g)} lane ratio(s) flagged (lanes {lanes}): "
                            f"{', '.join(kinds) or 'not finite'}")
    elif parts["bands"]:
        tables["normalized"] = pd.DataFrame()
    for name in ("ihc_regions", "ihc_cells"):
        if parts[name]:
            tables[name] = pd.concat(parts[name], ignore_index=True)
    if parts["ihc_regions"] and "ihc_cells" not in tables:
        tables["ihc_cells"] = pd.DataFrame()
    return tables, warnings


def _ihc_notes(d: Path) -> tuple[str, dict]:
    """The stain warning (``params["stain_note"]``) and the per-region marker notes an
    IHC result recorded in its ``info.json`` (``""`` and ``{}`` when none)."""
    try:
        info = json.loads((d / "info.json").read_text())
    except (OSError, ValueError):
        return "", {}
    params = info.get("params") if isinstance(info, dict) else None
    note = str(params.get("stain_note") or "") if isinstance(params, dict) else ""
    marker = info.get("marker_notes") if isinstance(info, dict) else None
    return note, marker if isinstance(marker, dict) else {}


def _marker_hash(d: Path) -> str:
    try:
        return json.loads((d / "done.json").read_text()).get("params_hash", "")
    except (OSError, ValueError):
        return ""
