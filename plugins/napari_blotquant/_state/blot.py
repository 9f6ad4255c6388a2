"""Blot review state (no Qt): Shapes <-> core inputs, parameters, rows, lane labels.

:class:`BlotReview` keeps what the reviewer has drawn as lanes and band boxes
and turns it into :func:`blotquant.review.blot_corrections` -- the same
object is saved as the sidecar and fed to ``quantify_blot`` through
``blot_kwargs``, so the numbers in the dock are exactly what the sidecar
reproduces from the CLI or Python.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import layers as L


def _fresh_uids(uids, start: int, live) -> tuple[list[int], list[bool]]:
    """Replace missing, duplicated or stale uids with fresh ones.

    napari gives a new shape the features of the last (or last selected --
    possibly just deleted) shape, so a uid is kept only when it belonged to
    a shape at the previous sync (``live``) and is not repeated.
    """
    out, new, seen, nxt = [], [], set(), start
    for u in uids:
        try:
            u = int(u)
        except (TypeError, ValueError):
            u = -1
        if u < 1 or u in seen or u not in live:
            u, is_new = nxt, True
            nxt += 1
        else:
            is_new = False
        seen.add(u)
        out.append(u)
        new.append(is_new)
    return out, new


class BlotReview:
    """Lanes and band boxes under review (mirrors two napari Shapes layers)."""

    def __init__(self):
        self.lane_cache: dict[int, tuple[np.ndarray, object]] = {}  # uid -> (vertices, Lane)
        self.lane_numbers: dict[int, int] = {}  # uid -> lane number at last sync
        self.band_rects: dict[int, np.ndarray] = {}  # uid -> rectangle as last drawn
        self.band_box_edited: dict[int, bool] = {}
        self.next_uid = 1
        self.lanes: list = []
        self.band_boxes = pd.DataFrame(columns=["uid", "strip", "lane", "row", "top", "bottom",
                                                "left", "right"])
        self.rows: list[str] = []
        self.labels: list[str] = []  # sample name per lane number (lane k -> labels[k - 1])
        self._fingerprint = None

    # ------------------------------------------------------------ from a result
    def from_result(self, result, boxes: pd.DataFrame | None = None):
        """Reset from a BlotResult; returns (lane_data, lane_features, band_data, band_features).

        ``boxes``: the band boxes the result was measured with (a loaded sidecar);
        bands that had their own columns keep them on later edits.
        """
        labels = self.labels
        self.__init__()
        self.labels = labels
        geometry = [replace(ln, centerline=np.array(ln.centerline, dtype=float))
                    for ln in result.lane_geometry]  # never mutate the result's lanes
        lane_data, lane_feat = L.lanes_to_shapes(geometry)
        lane_feat["label"] = [self.label(int(n)) for n in lane_feat["lane"]]
        for v, uid, lane in zip(lane_data, lane_feat["uid"], geometry):
            self.lane_cache[int(uid)] = (v, lane)
            self.lane_numbers[int(uid)] = int(lane.lane)
        self.lanes = geometry
        start = len(lane_data) + 1
        bands = result.bands
        band_data, band_feat = L.bands_to_shapes(bands, start_uid=start)
        for v, uid in zip(band_data, band_feat["uid"]):
            self.band_rects[int(uid)] = v
            self.band_box_edited[int(uid)] = False
        self.next_uid = start + len(band_data)
        self.rows = list(result.rows) or list(dict.fromkeys(bands["row"].astype(str)))
        self.band_boxes = pd.DataFrame({
            "uid": band_feat["uid"].astype(int), "strip": bands["strip"].astype(int).to_numpy()
            if "strip" in bands else 1, "lane": bands["lane"].astype(int).to_numpy(),
            "row": bands["row"].astype(str).to_numpy(),
            "top": bands["top"].astype(int).to_numpy(),
            "bottom": bands["bottom"].astype(int).to_numpy(),
            "left": np.nan, "right": np.nan})
        if boxes is not None and len(boxes):
            own = boxes.dropna(subset=["left", "right"]) if "left" in boxes else boxes.iloc[:0]
            keyed = {(int(b.lane), str(b.row), int(round(b.top)), int(round(b.bottom))): b
                     for b in own.itertuples(index=False)}
            for i, rec in enumerate(self.band_boxes.itertuples(index=False)):
                b = keyed.get((rec.lane, rec.row, rec.top, rec.bottom))
                if b is not None:
                    self.band_boxes.loc[i, ["left", "right"]] = [float(b.left), float(b.right)]
                    self.band_box_edited[int(rec.uid)] = True
                    band_feat.loc[i, "box_edited"] = True
        return lane_data, lane_feat, band_data, band_feat

    # ------------------------------------------------------------ lanes
    def sync_lanes(self, data, features: pd.DataFrame):
        """Read the lanes layer; returns updated lane features (uids, numbers, edited)."""
        from blotquant.blot import Lane

        feats = features.copy().reset_index(drop=True)
        uids, new = _fresh_uids(feats["uid"] if "uid" in feats else [None] * len(data),
                                self.next_uid, self.lane_numbers)
        self.next_uid = max([self.next_uid - 1, *uids]) + 1
        lanes = []
        for i, (v, uid) in enumerate(zip(data, uids)):
            v = np.asarray(v, dtype=float)
            cached = self.lane_cache.get(uid)
            if cached is not None and not new[i] and cached[0].shape == v.shape \
                    and np.allclose(cached[0], v, rtol=0, atol=1e-3):  # napari keeps float32
                lane = cached[1]
            else:
                centre, width = L.ribbon_to_centerline(v)
                old = cached[1] if cached is not None and not new[i] else None
                strip = old.strip if old is not None else L.strip_of(
                    self.lanes, centre[:, 0].mean(), centre[:, 1].mean())
                ladder = bool(feats.at[i, "is_ladder"]) if (not new[i] and "is_ladder" in feats) \
                    else False
                lane = Lane(lane=self.lane_numbers.get(uid, 10_000 + i), centerline=centre,
                            width=width, is_ladder=ladder, strip=strip, edited=True)
                self.lane_cache[uid] = (v.copy(), lane)
            lanes.append(lane)
        # number left to right (strip by strip); bands follow their lane through the uid
        order = sorted(range(len(lanes)), key=lambda k: (
            lanes[k].strip, float(np.mean(lanes[k].centerline[:, 1]))))
        renumber = {}
        for new_no, k in enumerate(order, start=1):
            old_no = self.lane_numbers.get(uids[k]) if not new[k] else None
            if old_no is not None:
                renumber[old_no] = new_no
            lanes[k].lane = new_no
        for uid in list(self.lane_cache):
            if uid not in uids:
                del self.lane_cache[uid]
        self.lane_numbers = {u: ln.lane for u, ln in zip(uids, lanes)}
        self.lanes = sorted(lanes, key=lambda ln: ln.lane)
        out = pd.DataFrame({
            "uid": uids, "strip": [ln.strip for ln in lanes], "lane": [ln.lane for ln in lanes],
            "label": [self.label(ln.lane) for ln in lanes],
            "x": [float(np.mean(ln.centerline[:, 1])) for ln in lanes],
            "width": [ln.width for ln in lanes], "is_ladder": [ln.is_ladder for ln in lanes],
            "edited": [ln.edited for ln in lanes]}, columns=L.LANE_FEATURES)
        return out, renumber

    # ------------------------------------------------------------ bands
    def sync_bands(self, data, features: pd.DataFrame, renumber: dict | None = None):
        """Read the bands layer; returns (features, keep) -- ``keep`` False for orphans."""
        feats = features.copy().reset_index(drop=True)
        uids, new = _fresh_uids(feats["uid"] if "uid" in feats else [None] * len(data),
                                self.next_uid, self.band_rects)
        self.next_uid = max([self.next_uid - 1, *uids]) + 1
        for uid in [u for u in self.band_rects if u not in uids]:  # deleted shapes
            self.band_rects.pop(uid)
            self.band_box_edited.pop(uid, None)
        numbers = {ln.lane for ln in self.lanes}
        recs, keep = [], []
        for i, (v, uid) in enumerate(zip(data, uids)):
            top, bottom, left, right = L.rect_to_box(v)
            box = L.rect_box(v)  # shapes cover whole pixels
            drawn = self.band_rects.get(uid)
            moved = new[i] or drawn is None or drawn.shape != np.shape(v) \
                or not np.allclose(drawn, v, rtol=0, atol=1e-3)
            edited = self.band_box_edited.get(uid, False) or moved
            if moved:
                yc, xc = (top + bottom) / 2, (left + right) / 2
                lane = L.nearest_lane(self.lanes, yc, xc)
                if lane is None:
                    keep.append(False)
                    continue
                lane_no, strip = lane.lane, lane.strip
                row = str(feats.at[i, "row"]) if not new[i] and "row" in feats else \
                    L.nearest_row(self.band_boxes, strip, yc, self.rows[0] if self.rows else "row1")
            else:
                old = int(feats.at[i, "lane"])
                if renumber:
                    if old not in renumber:
                        keep.append(False)  # its lane was deleted
                        continue
                    lane_no = renumber[old]
                else:
                    lane_no = old
                if lane_no not in numbers:
                    keep.append(False)
                    continue
                strip = next(ln.strip for ln in self.lanes if ln.lane == lane_no)
                row = str(feats.at[i, "row"])
            keep.append(True)
            self.band_box_edited[uid] = edited
            self.band_rects[uid] = np.asarray(v, dtype=float).copy()
            recs.append({"uid": uid, "strip": strip, "lane": lane_no, "row": row,
                         "top": box["top"], "bottom": box["bottom"],
                         "left": box["left"] if edited else np.nan,
                         "right": box["right"] if edited else np.nan})
        self.band_boxes = pd.DataFrame(recs, columns=self.band_boxes.columns)
        for r in self.band_boxes["row"]:
            if r not in self.rows:
                self.rows.append(r)
        kept = feats[np.asarray(keep, bool)].copy() if len(feats) else feats
        kept["uid"] = [u for u, k in zip(uids, keep) if k]
        kept["lane"] = self.band_boxes["lane"].to_numpy()
        kept["strip"] = self.band_boxes["strip"].to_numpy()
        kept["row"] = self.band_boxes["row"].to_numpy()
        kept["box_edited"] = [self.band_box_edited[u] for u in kept["uid"]]
        return kept.reset_index(drop=True), keep

    def label(self, lane: int) -> str:
        """Sample name of lane number ``lane`` ("" when none was given)."""
        return self.labels[lane - 1] if 1 <= lane <= len(self.labels) else ""

    def rename_rows(self, new_names: list[str]) -> dict:
        """Rename rows positionally (old[i] -> new[i]); returns the mapping."""
        mapping = {o: n for o, n in zip(self.rows, new_names) if n and o != n}
        self.rows = [mapping.get(r, r) for r in self.rows]
        self.band_boxes["row"] = self.band_boxes["row"].map(lambda r: mapping.get(r, r))
        return mapping

    # ------------------------------------------------------------ to the core
    def corrections(self, image, *, params: dict, image_name: str | None = None,
                    path=None, author: str | None = None):
        """The reviewed state as :class:`blotquant.review.Corrections`."""
        from blotquant.review import blot_corrections, image_fingerprint

        key = (id(image), image_name, path)
        if self._fingerprint is None or self._fingerprint[0] != key:
            self._fingerprint = (key, image_fingerprint(image, image_name=image_name,
                                                        path=path))
        boxes = self.band_boxes.drop(columns=["uid"])
        rows = [r for r in self.rows if r in set(boxes["row"])] or list(self.rows)
        return blot_corrections(image, lanes=self.lanes, bands=boxes, rows=rows,
                                params=params, image_name=image_name, path=path,
                                author=author, fingerprint=self._fingerprint[1])

    def match_result(self, result) -> pd.DataFrame:
        """Result bands in the order of ``band_boxes`` (uid column added)."""
        key = ["lane", "row", "top", "bottom"]
        b = result.bands
        if not len(b) or not len(self.band_boxes):
            return pd.DataFrame(columns=[*b.columns, "uid"])
        types = {"lane": int, "row": str, "top": int, "bottom": int}
        left = self.band_boxes[["uid", *key]].astype(types)
        right = b.astype(types).drop_duplicates(subset=key, keep="first")
        out = left.merge(right, on=key, how="inner", sort=False)
        return out[[*b.columns, "uid"]].reset_index(drop=True)


def normalize_rows(bands: pd.DataFrame, *, target: str, control: str, reference_lane):
    """Target / control per lane: the dock's one call of the core's pairing policy.

    :func:`blotquant.blot.normalize.pair_blots` pairs per strip (rows on the
    same strip by lane, a strip with only the target row with the control row
    of another strip by lane position).  ``reference_lane`` is a lane number of
    the target's strip (as the dock shows it); the core counts it within the
    strip.

    Parameters
    ----------
    bands : DataFrame
        ``BlotResult.bands``.
    target, control : str
        Row names.
    reference_lane : int or None
        Lane whose ratio is 1 (None: the strip's first lane).

    Returns
    -------
    DataFrame
        The core's paired table (``blotquant.blot.normalize.PAIRED_COLUMNS``).
    """
    from blotquant.blot.normalize import pair_blots
    from blotquant.blot.params import BlotParams

    pos = 1
    if reference_lane is not None:
        pos = int(reference_lane)
        on = bands.loc[bands["row"] == target]
        if "strip" in bands and len(on):
            lanes = sorted(int(v) for v in bands.loc[bands["strip"] == on["strip"].iloc[0],
                                                     "lane"].unique())
            if pos in lanes:
                pos = lanes.index(pos) + 1
    params = BlotParams(target=target, control=control, reference_lane=pos)
    return pair_blots(bands, None, params).table


# ----------------------------------------------------------------------------- parameters
def quantify_params(values: dict):
    """The :class:`~blotquant.blot.params.BlotParams` of a quantification from dock values.

    Only the fields :func:`~blotquant.blot.quantify_blot` uses are taken
    (normalization choices are not part of a quantification, as in the CLI),
    so the same settings give the same ``params_hash`` as ``blotquant blot``.

    Parameters
    ----------
    values : dict
        Field name -> value (text or numbers, as the widgets give them).

    Returns
    -------
    BlotParams

    Raises
    ------
    ParameterError
        A value the model refuses (the message names the field).

    Examples
    --------
    >>> quantify_params({"background": "border", "target": "ASNS"}).background
    'border'
    """
    from blotquant.blot.params import BlotParams

    keys = set(BlotParams.QUANTIFY_KEYS)
    return BlotParams.from_mapping({k: v for k, v in values.items() if k in keys})


def recorded_params(model) -> dict:
    """What the sidecar records as ``blot.params``: the changed fields, minus ``rows``.

    ``rows`` has its own field in the sidecar; defaults are left out, so
    :func:`~blotquant.review.blot_kwargs` rebuilds the same model.

    Parameters
    ----------
    model : BlotParams

    Returns
    -------
    dict
        Plain JSON values.

    Examples
    --------
    >>> recorded_params(quantify_params({"radius": 30, "rows": "A,B"}))
    {'radius': 30.0}
    """
    d = model.changed()
    d.pop("rows", None)
    return d


def split_labels(text: str) -> list[str]:
    """Lane labels from the dock's text: one per lane, separated by ``;``, tabs or new lines.

    Commas stay inside a label (``"10 uM, 24 h"``).  Empty entries keep their
    place (``"a;;c"`` labels lanes 1 and 3).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
        Label of lane 1, 2, ...

    Examples
    --------
    >>> split_labels("ctrl; 10 uM, 24 h;;KO")
    ['ctrl', '10 uM, 24 h', '', 'KO']
    """
    if not text or not text.strip():
        return []
    parts = re.split(r"[;\t\n]", text)
    while parts and not parts[-1].strip():
        parts.pop()
    return [p.strip() for p in parts]


def with_lane_labels(df: pd.DataFrame | None, labels) -> pd.DataFrame | None:
    """``df`` with a ``lane_label`` column after ``lane`` (the batch tables' name).

    Parameters
    ----------
    df : DataFrame or None
        A table with a ``lane`` column (bands, lanes, normalized).
    labels : sequence of str
        Label of lane 1, 2, ...; lanes beyond get ``""``.

    Returns
    -------
    DataFrame or None
        A copy (an existing ``lane_label`` column is replaced).
    """
    if df is None or "lane" not in df.columns:
        return df
    out = df.drop(columns=["lane_label"], errors="ignore").copy()
    lab = {i + 1: str(v) for i, v in enumerate(labels or [])}
    pos = list(out.columns).index("lane") + 1
    out.insert(pos, "lane_label", [lab.get(int(x), "") if pd.notna(x) else ""
                                   for x in out["lane"]])
    return out


def labels_from_table(lanes: pd.DataFrame | None, image_name: str) -> list[str]:
    """Lane labels back from a saved ``lanes.csv`` (its ``lane_label`` column).

    The sidecar has no field for sample names; the tables saved next to it
    carry them, so resuming a review restores them from there.

    Parameters
    ----------
    lanes : DataFrame or None
        A saved lanes table (columns ``image``, ``lane``, ``lane_label``).
    image_name : str
        Only rows of this image are used.

    Returns
    -------
    list of str
        Label of lane 1, 2, ... (empty when the table has none).

    Examples
    --------
    >>> t = pd.DataFrame({"image": "b.tif", "lane": [2, 1], "lane_label": ["KO", "ctrl"]})
    >>> labels_from_table(t, "b.tif")
    ['ctrl', 'KO']
    """
    if lanes is None or not {"lane", "lane_label"} <= set(lanes.columns):
        return []
    rows = lanes[lanes["image"].astype(str) == str(image_name)] if "image" in lanes else lanes
    if not len(rows):
        return []
    by_lane = {int(n): ("" if pd.isna(v) else str(v))
               for n, v in zip(rows["lane"], rows["lane_label"])}
    out = [by_lane.get(k, "") for k in range(1, max(by_lane) + 1)]
    return out if any(out) else []


def safe_stem(name: str) -> str:
    """A file-name stem without spaces or odd characters (``"blot 1 (a).tif"`` -> ``blot_1_a``).

    Letters, digits, ``-``, ``_`` and ``.`` are kept; runs of anything else
    become one ``_``.

    Parameters
    ----------
    name : str
        File name or path of the image.

    Returns
    -------
    str

    Examples
    --------
    >>> safe_stem("blot 1 (a).tif"), safe_stem("slide.ome.tif")
    ('blot_1_a', 'slide')
    """
    stem = Path(str(name)).name
    for suffix in (".ome.tiff", ".ome.tif"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        stem = Path(stem).stem
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._")
    return stem or "image"


def sidecar_file(image_name: str, out_dir) -> Path:
    """``<out_dir>/<safe stem>.blotquant.json`` (see :func:`safe_stem`).

    Parameters
    ----------
    image_name : str
    out_dir : path-like

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> sidecar_file("my blot.tif", "out").as_posix()
    'out/my_blot.blotquant.json'
    """
    from blotquant.review import SIDECAR_SUFFIX

    return Path(out_dir) / (safe_stem(image_name) + SIDECAR_SUFFIX)


class RowsInput:
    """What the Rows field means: names the user asked for, or names the dock filled in.

    Before a quantification the user may type row names (the engine then keeps
    exactly that many rows).  Afterwards the dock writes the found names into
    the field so they can be renamed.  Those filled-in names are *not* user
    input: quantifying again (this image or the next) does not pass them to
    the engine, unless the user had typed rows in the first place.
    """

    def __init__(self):
        self.user_rows: tuple | None = None  # what the user typed for the last run
        self.shown: str | None = None  # what the dock wrote into the field

    @staticmethod
    def parse(text: str) -> tuple:
        """Names in the field, in order."""
        return tuple(r.strip() for r in str(text or "").split(",") if r.strip())

    def for_run(self, text: str, *, same_image: bool):
        """``rows`` for a new quantification (None: find the rows)."""
        if self.shown is not None and text.strip() == self.shown:
            rows = self.user_rows if same_image else None
            if rows is not None:
                rows = self.parse(text) if len(self.parse(text)) == len(rows) else rows
        else:
            rows = self.parse(text) or None
        self.user_rows = rows
        return list(rows) if rows else None

    def filled(self, names) -> str:
        """Record the names the dock shows after a result; returns the text."""
        self.shown = ", ".join(map(str, names))
        return self.shown

    def cleared(self, text: str) -> str:
        """Text of the field for another image: filled-in names go, typed ones stay."""
        if self.shown is not None and text.strip() == self.shown:
            self.shown = None
            self.user_rows = None
            return ""
        return text
