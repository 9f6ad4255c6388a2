"""``quantify_blot``: lanes, band rows, backgrounds and volumes of one blot image.

Signal convention
-----------------
Volumes are in raw image units.  For light-on-dark images the signal is the
pixel value; for dark-on-light images it is ``white - pixel`` (inverted
relative to the file's or dtype's maximum), so a band's volume is how much
darker it is than its background, summed over its pixels.  A pixel is
*saturated* at the clip level (``blotquant.blot.saturation``): ``>= level``
for light-on-dark, ``<= level`` for dark-on-light, where the level comes from
the user (``clip_level``), a flat-topped plateau in the data, the file or the
dtype (recorded as ``params["saturation_level"]`` and ``["saturation_source"]``).

Background methods
------------------
``"lane-fit"`` (default)
    Per band, a quadratic fitted (least squares, each side weighted equally,
    dust-robust) to the lane profile in windows of up to twice the band extent
    just above and just below the band's limits (skipping other bands; one fit
    under a group of touching bands); a straight line on short windows where a
    side has too few free samples or the quadratic would extrapolate wildly
    (``background.flank_fit_baseline``; ``flank`` given: always that line).
    It follows gradients, curvature and the local background under each band
    and averages membrane texture, which is what makes volumes accurate (see
    ``docs/blot.md``); ``params["background_model"]`` records the rule.
``"lane-minima"``
    LI-COR style: straight lines between the profile's minima between bands
    (``background.lane_minima_baseline``).
``"rolling-ball"``
    ImageJ rolling ball of ``radius`` on the whole signal image
    (``background.rolling_ball``); the 2-D background is kept in the result.
``"border"``
    Median of a ``border_width``-px ring around each band box
    (``background.border_median``), times the box area.
``"none"``
    Nothing subtracted.

Examples
--------
>>> import numpy as np
>>> img = np.full((200, 240), 1000, np.uint16)
>>> yy, xx = np.mgrid[:200, :240]
>>> for k, x in enumerate((40, 100, 160, 220)):
...     img += (3000 * (k + 1) * np.exp(-0.5 * ((yy - 60) / 4) ** 2)
...             * (abs(xx - x) < 20)).astype(np.uint16)
>>> res = quantify_blot(img, background="lane-fit")
>>> res.lanes["lane"].tolist()
[1, 2, 3, 4]
>>> v = res.bands["volume"].to_numpy()
>>> np.round(v / v[0], 2).tolist()
[1.0, 2.0, 3.0, 4.0]
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._shared.color import GRAY_NOTE, composite_on_white, exact_gray, rgb_to_gray
from .._shared.frames import peel_edge_lines
from ..errors import AnalysisError, ParameterError
from ..image import Image, ImageMetadata, POLARITIES
from ..provenance import __version__, params_hash
from .background import flank_fit_baseline, lane_fit_model
from .bands import (Band, block_at, detect_bands, lane_block, match_rows, merge_unresolved_rows,
                    profile_noise)
from .groups import erase_lines
from .lanes import detect_lanes
from .params import RECORDED_KEYS, BlotParams
from .model import BAND_COLUMNS, LANE_COLUMNS, BlotResult, Lane, LaneProfiles, geometry_json

__all__ = ["quantify_blot", "prepare_signal", "PreparedSignal", "resolve_params", "inputs_hash"]


# ----------------------------------------------------------------------------- input
def _to_gray(image):
    if isinstance(image, Image):
        meta = image.metadata
        data = np.asarray(image.data)
    else:
        data = np.asarray(image)
        if data.dtype == bool or data.dtype.kind not in "uif":
            raise ParameterError(f"image must be numeric, got dtype {data.dtype}")
        meta = Image.from_array(data).metadata
    if data.ndim == 3 and data.shape[-1] in (3, 4):
        rgb = data[..., :3]
        if data.shape[-1] == 4:
            rgb = composite_on_white(rgb, data[..., 3])
        gray, conv = exact_gray(rgb) or _gray_with_drawings(rgb)
        if data.shape[-1] == 4:
            conv = "RGBA composited on white; " + conv
        meta = meta.replace(axes="YX", conversion=conv, shape=gray.shape)
        data = gray
    if data.ndim != 2:
        raise ParameterError(f"a blot must be a 2-D gray image (or RGB), got shape {data.shape}")
    if min(data.shape) < 16:
        raise ParameterError(f"image too small for a blot: {data.shape}")
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        raise ParameterError("image contains NaN or infinite values")
    return data, meta


def _gray_with_drawings(rgb):
    """Gray image and note of an RGB blot that is not exactly gray: flat-colour
    drawings (:func:`~blotquant.blot.annotations.flat_colour_annotations`) are
    filled with the membrane around them; the rest is channel 0 when it is gray
    (exact), else luma."""
    from .annotations import fill_annotations, flat_colour_annotations

    mask = flat_colour_annotations(rgb)
    if not mask.any():
        return rgb_to_gray(rgb), GRAY_NOTE(rgb.dtype)
    rest = ~mask
    if all(np.array_equal(rgb[..., 0][rest], rgb[..., c][rest]) for c in (1, 2)):
        gray, conv = np.ascontiguousarray(rgb[..., 0]), "RGB channels equal outside the drawing: kept channel 0 (exact)"
    else:
        gray, conv = rgb_to_gray(rgb), GRAY_NOTE(rgb.dtype)
    n = int(mask.sum())
    return fill_annotations(gray, mask), (
        f"{conv}; {n} px of flat-colour drawing (a box, arrow or label drawn on the image, "
        f"{n / mask.size:.1%}) set to the membrane level around it: nothing under it is measured")


class PreparedSignal(NamedTuple):
    """What :func:`prepare_signal` returns (a tuple: unpack it or use the names)."""

    signal: np.ndarray
    saturated: np.ndarray
    polarity: str
    saturation_level: float
    saturation_source: str


def prepare_signal(gray, metadata: ImageMetadata | None = None, polarity="auto",
                   clip_level: float | None = None) -> PreparedSignal:
    """Signal image (bands bright, raw units) and saturation mask.

    Parameters
    ----------
    gray : 2-D array
    metadata : ImageMetadata, optional
        Supplies the file's saturation level and a reader-detected polarity.
    polarity : {"auto", "dark-on-light", "light-on-dark"}
    clip_level : float, optional
        The pixel value at which bands clip, given by the user; default: from
        the file, the dtype and flat-topped plateaus in the data
        (:func:`blotquant.blot.saturation.saturation_level`).

    Returns
    -------
    PreparedSignal
        ``signal`` (float32: the pixel value for light-on-dark, ``white -
        pixel`` for dark-on-light, ``white`` being the file/dtype maximum),
        ``saturated`` (bool: ``pixel >= level`` light-on-dark, ``pixel <= level``
        dark-on-light, pixel-exact; clipped frames touching the border are not
        counted), ``polarity``, ``saturation_level`` (the level used) and
        ``saturation_source`` (``user``, ``plateau``, ``file``, ``dtype`` or ``data``).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([[250, 255, 250], [255, 0, 250], [250, 250, 250]], np.uint8)
    >>> s, m, pol, sat, src = prepare_signal(g, polarity="dark-on-light")
    >>> s[1].tolist(), m[1].tolist(), sat, src
    ([0.0, 255.0, 5.0], [False, True, False], 0.0, 'dtype')
    """
    from .saturation import border_frames, saturation_level, saturation_mask

    g = np.asarray(gray)
    if polarity == "auto":
        pol = None if metadata is None else metadata.polarity
        if pol not in POLARITIES:
            from .polarity import detect_polarity
            pol = detect_polarity(g)
    elif polarity in POLARITIES:
        pol = polarity
    else:
        raise ParameterError(f"polarity must be 'auto' or one of {POLARITIES}, got {polarity!r}")
    lv = saturation_level(g, pol, metadata, user=clip_level)
    satmask = saturation_mask(g, lv, drop_border_frames=False)
    if pol == "light-on-dark":
        signal = g.astype(np.float32)
        # a white frame from an export (padding, a border drawn around the figure) is
        # clipped on the band side: whole clipped rows / columns at the image's edges;
        # no band spans a whole image row or column (there is background between lanes
        # and between rows), so a band cut by the edge keeps its pixels
        frame = _edge_lines(satmask) if satmask.any() else None
    else:
        # white - pixel in float32, in one pass (the same numbers as through a float copy)
        signal = np.subtract(np.float32(lv.white), g, dtype=np.float32)
        # black scan frames (clipped regions touching the image border) are not bands
        frame = border_frames(satmask) if satmask.any() else None
    if frame is not None and frame.any():
        # give the frame the background level and do not count it saturated: the level
        # just inside the frame (the membrane beside it, 3-8 px in: a band column's
        # outer flank there meets the fill, not a step), also for the frame's blurred
        # inner edge (scan blur, JPEG ringing: 2 px darker than the membrane), which
        # would read as a band row
        from scipy import ndimage as ndi
        near = ndi.binary_dilation(frame, iterations=3)
        beside = ndi.binary_dilation(near, iterations=5) & ~near
        fill = float(np.median(signal[beside] if beside.any() else signal[::4, ::4]))
        edge = ndi.binary_dilation(frame, iterations=2) & ~frame & (signal > fill)
        signal[frame | edge] = fill
        satmask = satmask & ~frame
    return PreparedSignal(signal, satmask, pol, float(lv.level), lv.source)


def _edge_lines(mask: np.ndarray) -> np.ndarray:
    """The whole rows and columns of ``mask`` at the image's four edges, peeled inward.

    Examples
    --------
    >>> m = np.zeros((5, 6), bool); m[0] = True; m[:, -1] = True; m[3, 2] = True
    >>> _edge_lines(m).sum(axis=1).tolist()
    [6, 1, 1, 1, 1]
    """
    m = np.asarray(mask, bool)
    r0, r1, c0, c1 = peel_edge_lines(m, np.all)
    out = np.ones(m.shape, bool)
    out[r0:r1, c0:c1] = False
    return out


# ----------------------------------------------------------------------------- helpers
class _LaneData:
    __slots__ = ("lane", "r", "x0", "W", "prof", "satrows", "satblock", "area_rows", "noise",
                 "bgprof", "bands", "valid", "baseline_used", "unmeasured", "block",
                 "off_zone")

    def __init__(self, lane, signal, satmask, bg2d, any_saturated=None):
        self.lane = lane
        r, x0, block, valid = lane_block(signal, lane)
        self.r, self.x0, self.valid, self.block = r, x0, valid, block
        self.W = block.shape[1] if block.ndim == 2 else 0
        self.prof = block.sum(axis=1, dtype=np.float64)
        # the same place in the same-shaped images: the gather only (lane_block's
        # rows and columns are those of the signal)
        W = max(1, int(round(lane.width)))
        if satmask.any() if any_saturated is None else any_saturated:
            sb, _ = block_at(satmask, r, x0, W)
            self.satblock = sb & valid
            self.satrows = self.satblock.sum(axis=1)
        else:
            self.satblock = np.zeros(valid.shape, bool)
            self.satrows = np.zeros(valid.shape[0], np.int_)   # its row sums
        if len(r) and W <= signal.shape[1] and int(x0.min()) >= 0 \
                and int(x0.max()) + W <= signal.shape[1]:
            self.area_rows = np.full(len(r), W, np.int_)   # inside the image: all valid
        else:
            self.area_rows = valid.sum(axis=1)
        self.noise = profile_noise(self.prof)
        if bg2d is not None:
            bb, _ = block_at(bg2d, r, x0, W)
            self.bgprof = bb.sum(axis=1, dtype=np.float64)
        else:
            self.bgprof = None
        self.bands = []
        self.baseline_used = None
        self.unmeasured = []   # (top, bottom) profile limits of detected bands in no row
        self.off_zone = []     # bands outside the band zones (judged for a ladder only)


#: Lanes must run top to bottom.  An image whose vertical gradients carry less
#: than this fraction of the horizontal ones (the band edges run top to bottom)
#: and in which every strip has at least ROTATED_ROW_RATIO x as many "rows" as
#: lanes is a blot scanned sideways.  Upright, the 24 real blots of the test data
#: give 0.56-17 and never more rows than lanes (none refused); turned by 90 or
#: 270 deg, 30 of the 36 camera and figure images are refused (the other 6 find
#: 3-5 "lanes"), the 12 film scans (handwriting, labels, membrane edges: 0.56-1.8
#: either way) are not caught.
ROTATED_ANISOTROPY = 0.5
ROTATED_ROW_RATIO = 2.0


def gradient_anisotropy(signal: np.ndarray) -> float:
    """Energy of the vertical over the horizontal intensity gradients of an image.

    Band rows are horizontal streaks, so an upright blot has mostly vertical
    gradients (a ratio well above 1); one turned by 90 degrees well below 1.
    Computed on a copy of about 500 px on its long side, smoothed by 1.5 px.

    Parameters
    ----------
    signal : 2-D array

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((100, 120)); img[40:48, 10:110] = 1.0   # one horizontal band
    >>> gradient_anisotropy(img) > 2, gradient_anisotropy(img.T) < 0.5
    (True, True)
    """
    import cv2

    a = np.asarray(signal, dtype=np.float32)
    k = max(1, int(round(max(a.shape) / 500)))
    if k > 1:
        a = cv2.resize(a, (max(1, a.shape[1] // k), max(1, a.shape[0] // k)),
                       interpolation=cv2.INTER_AREA)
    a = cv2.GaussianBlur(a, (0, 0), 1.5)
    gy = cv2.Sobel(a, cv2.CV_32F, 0, 1)
    gx = cv2.Sobel(a, cv2.CV_32F, 1, 0)
    ex = float(np.sum(gx.astype(np.float64) ** 2))
    return float(np.sum(gy.astype(np.float64) ** 2)) / ex if ex > 0 else math.inf


def _check_orientation(signal, lane_list, boxes) -> None:
    """Refuse a blot scanned sideways (its lanes run left to right), see ROTATED_*."""
    lanes_of = {}
    for ln in lane_list:
        lanes_of.setdefault(ln.strip, set()).add(ln.lane)
    if not lanes_of:
        return
    rows_of = {s: {b["row"] for b in boxes if b["lane"] in lanes} for s, lanes in lanes_of.items()}
    if not all(len(rows_of[s]) >= ROTATED_ROW_RATIO * len(lanes_of[s]) for s in lanes_of):
        return
    g = gradient_anisotropy(signal)
    if g >= ROTATED_ANISOTROPY:
        return
    n_lanes = sum(len(v) for v in lanes_of.values())
    n_rows = max(len(v) for v in rows_of.values())
    raise AnalysisError(
        f"the lanes seem to run left to right: {n_lanes} lane(s) with up to {n_rows} band rows "
        f"each were found, and the image's edges run mostly top to bottom (vertical / "
        f"horizontal gradient energy {g:.2f}); lanes must run top to bottom: rotate the image "
        "by 90 degrees, or give the lanes (lanes=... / --lanes N, or lane_geometry)")


def _check_sideways_unnamed(signal, lane_list, ld, P, H, zones) -> None:
    """:func:`_check_orientation` on the rows found without names (raises if sideways)."""
    try:
        boxes, _ = _detect_and_match(ld, lane_list, dict(P, rows=None), H, zones,
                                     signal=signal)
        lanes2, _, boxes = _drop_empty_edge_lanes(lane_list, ld, boxes)
    except (ParameterError, AnalysisError):
        return
    _check_orientation(signal, lanes2, boxes)


def _is_ladder_lane(counts, idx):
    others = [c for j, c in enumerate(counts) if j != idx]
    med = float(np.median(others)) if others else 0.0
    return counts[idx] >= 5 and counts[idx] >= 2 * max(med, 1.0)


# ----------------------------------------------------------------------------- main
def resolve_params(params: BlotParams | None, overrides: dict) -> BlotParams:
    """A :class:`BlotParams` from a base model and keyword overrides.

    Parameters
    ----------
    params : BlotParams or None
        Base (default ``BlotParams()``).
    overrides : dict
        ``BlotParams`` fields; recorded outputs of an earlier run
        (``RECORDED_KEYS``, e.g. from a sidecar or ``params.json``) are ignored.

    Returns
    -------
    BlotParams
    """
    if params is not None and not isinstance(params, BlotParams):
        raise ParameterError(f"params must be a BlotParams, got {type(params).__name__}")
    kw = {k: v for k, v in overrides.items() if k not in RECORDED_KEYS}
    if params is None:
        return BlotParams.from_mapping(kw)
    return params.replace(**kw)


def inputs_hash(params: BlotParams, lane_geometry=None, band_boxes=None) -> str:
    """``params_hash`` of a blot analysis: its parameters plus any reviewed geometry.

    The same image analysed with the same parameters (and the same reviewed
    lanes and bands, when given) has the same hash from every edge.

    Parameters
    ----------
    params : BlotParams
    lane_geometry : list of Lane, optional
    band_boxes : DataFrame or list of dict, optional

    Returns
    -------
    str (12 hex digits)

    Examples
    --------
    >>> inputs_hash(BlotParams()) == BlotParams().quantify_hash
    True
    """
    if lane_geometry is None and band_boxes is None:
        return params.quantify_hash
    given = {"params": params.quantify_dict()}
    if lane_geometry is not None:
        given["lanes"] = [ln.to_dict() if hasattr(ln, "to_dict") else dict(ln)
                          for ln in lane_geometry]
    if band_boxes is not None:
        # the box geometry only, as floats: the same boxes give the same hash however
        # they were handed over (extra columns, ints or floats)
        bb = pd.DataFrame(band_boxes)
        cols = [c for c in ("lane", "row", "top", "bottom", "left", "right") if c in bb]
        given["bands"] = [{k: (str(v) if k == "row" else (None if pd.isna(v) else float(v)))
                           for k, v in rec.items()} for rec in bb[cols].to_dict("records")]
    return params_hash(given)


def quantify_blot(image, params: BlotParams | None = None, *, lane_geometry=None,
                  band_boxes=None, image_name: str | None = None, **overrides) -> BlotResult:
    """Find lanes and bands of a blot and measure background-corrected volumes.

    Parameters
    ----------
    image : Image or 2-D array (RGB with equal channels accepted)
    params : BlotParams, optional
        Every analysis parameter (:class:`~blotquant.blot.params.BlotParams`);
        default ``BlotParams()``.  The fields below may also be given as
        keywords (``quantify_blot(img, rows=["ASNS", "ACTB"])``), which update
        ``params``.
    lanes : int, optional
        Number of lanes per strip; None finds it.
    rows : sequence of str or "A,B" text, optional
        Names of the band rows, top to bottom, strip by strip.  Rows are those
        present in at least ``min_row_lanes`` of a strip's lanes and at least
        ``min_row_strength`` of the strip's strongest row.  Given names must
        match them: one name per row found, or one per row of every strip when
        all strips have the same number of rows; otherwise a ParameterError
        lists the rows found.  Without names rows are ``row1, row2, ...``.
    background : {"lane-fit", "lane-minima", "rolling-ball", "border", "none"}
        See the module docstring.  Default ``"lane-fit"``.
    radius : float
        Rolling-ball radius (px), used by ``"rolling-ball"``.
    sensitivity : float in (0, 1]
        Band (and lane) detection sensitivity; higher finds fainter bands.
    polarity : {"auto", "dark-on-light", "light-on-dark"}
    lane_geometry : list of Lane, optional
        Lanes to use as they are (no lane detection).
    band_boxes : DataFrame, optional
        Columns ``lane, row, top, bottom`` (image rows, inclusive) and optionally
        ``left, right`` (image columns, [left, right)); bands are measured there
        (no band detection).  Needs ``lane_geometry`` unless lanes can be found.
    image_name : str, optional
        Written in the ``image`` column (default: the file name or "image").
    **overrides
        Any other :class:`BlotParams` field (``max_tilt_deg``, ``lane_width``,
        ``tail``, ``flank``, ``min_row_lanes``, ``min_row_strength``,
        ``border_width``, ``ladder``, ...); unknown names raise
        :class:`~blotquant.errors.ParameterError`.

    Returns
    -------
    BlotResult

    Raises
    ------
    ParameterError
        Bad arguments (unknown method, wrong lane numbers in boxes, ...).
    AnalysisError
        No lanes or bands could be found.

    Examples
    --------
    >>> from blotquant.synthetic import make_blot
    >>> b = make_blot(1, shape=(300, 400), n_lanes=4)
    >>> res = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    >>> len(res.lanes), sorted(set(res.bands["row"]))
    (4, ['ACTB', 'ASNS'])
    """
    t0 = time.perf_counter()
    model = resolve_params(params, overrides)
    P = model.quantify_dict()
    P["rows"] = list(model.rows) if model.rows is not None else None
    P["lanes"] = model.lanes
    gray, meta = _to_gray(image)
    signal, satmask, pol, sat, sat_src = prepare_signal(gray, meta, P["polarity"],
                                                        P["clip_level"])
    if image_name is None:
        import os
        image_name = os.path.basename(meta.path) if meta.path else "image"
    H, W = signal.shape

    pieces = []
    if P["pieces"] == "auto":
        from .panels import find_pieces
        pieces = find_pieces(gray)
    reg = None
    if pieces:
        reg = _analyse_pieces(signal, satmask, P, pieces, lane_geometry, band_boxes)
    if reg is None:
        reg = _analyse(signal, satmask, P, lane_geometry, band_boxes)
    tilt, lane_list, ld, bg2d = reg.tilt, reg.lane_list, reg.ld, reg.bg2d
    band_rows, row_names, edited_lanes = reg.band_rows, reg.row_names, reg.edited_lanes
    P_rec = model.to_dict()
    P_rec.update(polarity_used=pol, saturation_level=sat, saturation_source=sat_src,
                 background_model=(lane_fit_model(P["flank"]) if P["background"] == "lane-fit"
                                   else None),
                 tilt_deg=round(tilt, 4),
                 lane_geometry_given=edited_lanes, band_boxes_given=band_boxes is not None,
                 n_lanes_found=P.get("n_lanes_found"), row_slope_deg=P.get("row_slope_deg"),
                 pieces_found=reg.pieces, strip_source=list(reg.strip_source),
                 group_lines=[list(g) for g in reg.group_lines])
    h = inputs_hash(model, lane_list if edited_lanes else None, band_boxes)
    bands = _band_table(band_rows, row_names, image_name, P["background"], h)
    # Given lanes that say which of them a person changed (the plugin sets Lane.edited)
    # keep that; given lanes that say nothing all count as edited.
    all_given = edited_lanes and not any(ln.edited for ln in lane_list)
    lanes_df = pd.DataFrame([{
        "image": image_name, "strip": ln.strip, "lane": ln.lane,
        "x": float(ln.x_at(0.5 * (max(ln.top, 0) + min(ln.bottom, H - 1)))),
        "width": ln.width, "top": ln.top, "bottom": ln.bottom, "geometry": geometry_json(ln),
        "is_ladder": ln.is_ladder, "edited": ln.edited or all_given} for ln in lane_list],
        columns=LANE_COLUMNS)
    profiles = LaneProfiles({lane_no: (d.r, d.prof, d.baseline_used) for lane_no, d in ld.items()})
    P_rec["elapsed_s"] = round(time.perf_counter() - t0, 4)
    return BlotResult(lanes=lanes_df, bands=bands, lane_geometry=lane_list, profiles=profiles,
                      background=bg2d, params=P_rec, metadata=meta, signal=signal,
                      saturated_mask=satmask, tilt_deg=tilt, rows=row_names)


class _Region:
    """What :func:`_analyse` found and measured in one image or one piece of it."""

    __slots__ = ("tilt", "lane_list", "ld", "boxes", "row_names", "bg2d", "band_rows",
                 "edited_lanes", "pieces", "n_lanes_found", "row_slope_deg", "strip_source",
                 "group_lines")

    def __init__(self, **kw):
        self.pieces = None
        self.strip_source = []
        self.group_lines = []
        for k, v in kw.items():
            setattr(self, k, v)


def _analyse(signal, satmask, P, lane_geometry=None, band_boxes=None, *,
             piece=False) -> _Region:
    """Lanes, band rows and volumes of one membrane image (the whole image or one piece).

    ``P`` is the run's parameter dict (updated with ``n_lanes_found`` and
    ``row_slope_deg``); lanes, boxes and band records are in ``signal``'s coordinates.
    ``piece``: a piece of a figure page, whose end lanes are also judged by their
    band pattern (:func:`_pattern_ladders`).
    """
    H, W = signal.shape
    # ---------------------------------------------------------------- lanes
    tilt = 0.0
    zones = None
    strip_source, group_lines = None, []
    edited_lanes = lane_geometry is not None
    if lane_geometry is not None:
        lane_list = _given_lanes(lane_geometry)
    else:
        det = detect_lanes(signal, P["lanes"], max_tilt_deg=P["max_tilt_deg"],
                           sensitivity=P["sensitivity"], lane_width=P["lane_width"],
                           return_details=True, one_membrane=bool(piece))
        tilt = det.tilt_deg
        lane_list = det.lanes
        zones = det.zones
        strip_source, group_lines = list(det.strip_source), list(det.group_lines)
        if group_lines:
            # printed group lines are no signal (no band row in them)
            signal = erase_lines(signal, group_lines)
        # number lanes uniquely across strips, left to right within a strip
        lane_list.sort(key=lambda ln: (ln.strip, ln.x_at(0.5 * (ln.top + ln.bottom))))
        for i, ln in enumerate(lane_list, start=1):
            ln.lane = i
    P["n_lanes_found"] = len(lane_list)

    # ---------------------------------------------------------------- background
    bg2d = None
    if P["background"] == "rolling-ball":
        from . import background as _bgmod
        bg2d = np.asarray(_bgmod.rolling_ball(signal, radius=P["radius"], light_background=False),
                          dtype=np.float32)
    any_sat = bool(satmask.any())
    ld = {ln.lane: _LaneData(ln, signal, satmask, bg2d, any_sat) for ln in lane_list}
    if piece and band_boxes is None and P["ladder"] == "auto":
        _pattern_ladders(lane_list, ld, P)

    # ---------------------------------------------------------------- bands
    boxes = []  # dicts: lane, row, top, bottom (image rows), left/right or None, flags, y
    if band_boxes is not None:
        bb = pd.DataFrame(band_boxes)
        need = {"lane", "row", "top", "bottom"}
        if not need <= set(bb.columns):
            raise ParameterError(f"band_boxes needs columns {sorted(need)}, got {list(bb.columns)}")
        for rec in bb.to_dict("records"):
            lane_no = int(rec["lane"])
            if lane_no not in ld:
                raise ParameterError(f"band box for lane {lane_no}, but lanes are {sorted(ld)}")
            top, bottom = int(round(rec["top"])), int(round(rec["bottom"]))
            if bottom < top:
                raise ParameterError(f"band box lane {lane_no} row {rec['row']!r}: bottom < top")
            left = rec.get("left")
            right = rec.get("right")
            rect = (left is not None and right is not None and np.isfinite(left)
                    and np.isfinite(right))
            boxes.append(dict(lane=lane_no, row=str(rec["row"]), top=top, bottom=bottom,
                              left=float(left) if rect else None,
                              right=float(right) if rect else None, y=None, flags=[],
                              edited=True))
        row_names = list(dict.fromkeys(b["row"] for b in boxes))
    else:
        try:
            boxes, row_names = _detect_and_match(ld, lane_list, P, H, zones, signal=signal)
        except ParameterError:
            # row names that do not match the rows found: on a blot scanned sideways
            # the "rows" are its lanes; that is the reason to give, not the names
            if P["rows"] is not None and P["lanes"] is None and lane_geometry is None:
                _check_sideways_unnamed(signal, lane_list, ld, P, H, zones)
            raise
        if P["lanes"] is None and lane_geometry is None:
            was = {id(ln): ln.strip for ln in lane_list}
            lane_list, ld, boxes = _drop_empty_edge_lanes(lane_list, ld, boxes)
            if strip_source is not None:
                # (a strip left without lanes is gone and the strips renumbered)
                now = {ln.strip: was[id(ln)] for ln in lane_list}
                strip_source = [strip_source[now[s] - 1] for s in sorted(now)]
            P["n_lanes_found"] = len(lane_list)
            _check_orientation(signal, lane_list, boxes)

    # ---------------------------------------------------------------- measure
    band_rows = _measure(boxes, ld, signal, satmask, bg2d, P, H, W)
    if strip_source is None:
        strip_source = ["given" if edited_lanes else "membrane"] * len({ln.strip for ln in lane_list})
    return _Region(tilt=tilt, lane_list=lane_list, ld=ld, boxes=boxes, row_names=row_names,
                   bg2d=bg2d, band_rows=band_rows, edited_lanes=edited_lanes,
                   n_lanes_found=P.get("n_lanes_found"), row_slope_deg=P.get("row_slope_deg"),
                   strip_source=strip_source, group_lines=group_lines)


#: Lanes of one strip whose profiles match at this correlation (best over small
#: shifts) show the same samples' band pattern ...
_SAME_PATTERN = 0.8
#: ... and an end lane outside that run with at least this many bands (and at least
#: 3/4 of the run's median) is a ladder.
_LADDER_MIN_BANDS = 5
#: ... counting the bands of at least this fraction of the run's typical strongest band.
_LADDER_BAND_SHARE = 0.1


def _pattern_corr(a, b, lag) -> float:
    """Best Pearson correlation of two profiles over shifts of up to ``lag`` samples."""
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    best = -1.0
    for k in range(-lag, lag + 1):
        x = a[max(0, k):n + min(0, k)]
        y = b[max(0, -k):n - max(0, k)]
        if len(x) > 2:
            sx, sy = x.std(), y.std()
            if sx > 0 and sy > 0:
                best = max(best, float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy)))
    return best


def _pattern_ladders(lane_list, ld, P) -> None:
    """Flag ladder lanes at the ends of a figure piece's strips by their band pattern.

    The sample lanes of a panel show the same band pattern: neighbouring lanes'
    profiles (smoothed, minus a running minimum) correlate at >= ``_SAME_PATTERN``
    (best over shifts of 3 % of the lane, for sloping rows).  The longest run of
    such lanes (at least 3 and half the strip) is the samples; an end lane beyond
    it with at least ``_LADDER_MIN_BANDS`` bands of at least ``_LADDER_BAND_SHARE``
    of the run's typical strongest band, and at least 3/4 of the run's median
    count, is a ladder (a marker's many bands at other heights; at most one per
    side, the outermost).  Beyond-run lanes with few bands stay (empty end lanes
    are judged later, as on any blot).
    """
    from scipy import ndimage as ndi

    for s in sorted({ln.strip for ln in lane_list}):
        sl = sorted((ln for ln in lane_list if ln.strip == s),
                    key=lambda ln: ln.x_at(0.5 * (ln.top + ln.bottom)))
        if len(sl) < 4:
            continue
        profs = []
        for ln in sl:
            p = ndi.gaussian_filter1d(np.asarray(ld[ln.lane].prof, float), 1.5)
            profs.append(p - ndi.minimum_filter1d(p, max(15, len(p) // 8)))
        lag = max(3, int(0.03 * min(len(p) for p in profs)))
        same = [_pattern_corr(profs[i], profs[i + 1], lag) >= _SAME_PATTERN
                for i in range(len(sl) - 1)]
        best, i = (0, 0), 0
        while i < len(same):
            if same[i]:
                j = i
                while j < len(same) and same[j]:
                    j += 1
                if j - i + 1 > best[1] - best[0]:
                    best = (i, j + 1)
                i = j
            i += 1
        a, b = best
        if b - a < max(3, len(sl) / 2):
            continue
        found = []
        for ln in sl:
            d = ld[ln.lane]
            found.append([b.height for b in detect_bands(
                d.prof, sensitivity=P["sensitivity"], noise=d.noise,
                max_band_height=max(15, len(d.prof) // 6), tail=P["tail"])])
        # bands count when >= 1/10 of the samples' typical strongest band (a marker's
        # bands are; bumps of an empty margin are not)
        floor = _LADDER_BAND_SHARE * float(np.median([max(h, default=0.0) for h in found[a:b]]))
        counts = [sum(1 for v in h if v >= floor) for h in found]
        need = max(_LADDER_MIN_BANDS, 0.75 * float(np.median(counts[a:b])))
        # at most one ladder per side: the outermost many-band lane beyond the run
        for side in (range(0, a), range(len(sl) - 1, b - 1, -1)):
            idx = next((j for j in side if counts[j] >= need), None)
            if idx is not None:
                sl[idx].is_ladder = True


def _fill_from_stacked(regions, pieces, signal, satmask, P) -> None:
    """Empty lanes of a piece that its stacked neighbour shows (same samples, one column).

    Pieces stacked in one column of a figure (horizontal overlap >= 80 % of
    the narrower) whose lanes line up show the same samples (a target and its
    loading control).  When every sample lane of a one-strip piece lies within
    a quarter pitch of a lane of its nearest stacked one-strip neighbour and
    the neighbour has more lanes, the piece gets the missing lanes (empty lanes
    such as a ``-`` control, which the automatic run drops at a strip's end),
    parallel to its nearest lane, and is analysed again with them.  ``regions``
    is updated in place.
    """
    info = {}
    for k, reg in regions:
        r0, r1, c0, c1 = pieces[k]
        if len({ln.strip for ln in reg.lane_list}) != 1:
            continue
        samp = sorted((ln for ln in reg.lane_list if not ln.is_ladder),
                      key=lambda ln: ln.x_at(0.5 * (ln.top + ln.bottom)))
        if len(samp) >= 2:
            info[k] = [float(ln.x_at(0.5 * (ln.top + ln.bottom))) + c0 for ln in samp]
    for pos, (k, reg) in enumerate(regions):
        if k not in info:
            continue
        r0, r1, c0, c1 = pieces[k]
        near = []
        for j in info:
            if j == k:
                continue
            q0, q1, d0, d1 = pieces[j]
            ov = min(c1, d1) - max(c0, d0)
            if ov >= 0.8 * min(c1 - c0, d1 - d0):
                near.append((max(q0 - r1, r0 - q1), j))
        if not near:
            continue
        j = min(near)[1]
        xa, xb = np.array(info[k]), np.array(info[j])
        if len(xb) <= len(xa):
            continue
        pitch = float(np.median(np.diff(xb)))
        hit = [int(np.argmin(np.abs(xb - x))) for x in xa]
        if len(set(hit)) != len(hit) or any(abs(xb[h] - x) > 0.25 * pitch
                                             for h, x in zip(hit, xa)):
            continue
        add = [float(xb[i]) for i in range(len(xb)) if i not in hit
               and c0 + 0.25 * pitch <= xb[i] <= c1 - 0.25 * pitch]
        if not add:
            continue
        lanes = [Lane(ln.lane, ln.centerline, ln.width, is_ladder=ln.is_ladder, strip=ln.strip)
                 for ln in reg.lane_list]
        samp = [ln for ln in lanes if not ln.is_ladder]
        width = float(np.median([ln.width for ln in samp]))
        for x in add:
            xl = x - c0
            ref = min(samp, key=lambda ln: abs(ln.x_at(0.5 * (ln.top + ln.bottom)) - xl))
            dx = xl - ref.x_at(0.5 * (ref.top + ref.bottom))
            lanes.append(Lane(0, ref.centerline + [0.0, dx], width, strip=ref.strip))
        lanes.sort(key=lambda ln: ln.x_at(0.5 * (ln.top + ln.bottom)))
        for i, ln in enumerate(lanes, start=1):
            ln.lane = i
        sub = np.ascontiguousarray(signal[r0:r1, c0:c1])
        subm = np.ascontiguousarray(satmask[r0:r1, c0:c1])
        try:
            new = _analyse(sub, subm, dict(P, rows=None), lanes, None, piece=True)
        except AnalysisError:
            continue
        new.tilt, new.edited_lanes = reg.tilt, False
        regions[pos] = (k, new)


def _given_lanes(lane_geometry) -> list:
    """``lane_geometry`` as a checked list of :class:`Lane` (dicts accepted)."""
    lane_list = []
    for ln in lane_geometry:
        if isinstance(ln, dict):
            ln = Lane.from_dict(ln)
        if not isinstance(ln, Lane):
            raise ParameterError("lane_geometry must be a list of Lane (or dicts)")
        lane_list.append(ln)
    if not lane_list:
        raise ParameterError("lane_geometry is empty")
    nums = [ln.lane for ln in lane_list]
    if len(set(nums)) != len(nums):
        raise ParameterError(f"lane numbers in lane_geometry must be unique, got {nums}")
    return lane_list


def _box_text(pieces) -> str:
    return ", ".join(f"{i}: rows {r0}-{r1 - 1}, columns {c0}-{c1 - 1}"
                     for i, (r0, r1, c0, c1) in enumerate(pieces, start=1))


def _piece_lane_counts(lanes, signal, pieces, P) -> list:
    """The ``lanes`` parameter of each piece: one count for all, one per piece, or one
    per strip (the strips of every piece found first, in reading order)."""
    if lanes is None or isinstance(lanes, int):
        return [lanes] * len(pieces)
    lanes = tuple(lanes)
    if len(lanes) == 1:
        return [lanes[0]] * len(pieces)
    if len(lanes) == len(pieces):
        return list(lanes)
    n_strips = []
    for r0, r1, c0, c1 in pieces:
        try:
            det = detect_lanes(np.ascontiguousarray(signal[r0:r1, c0:c1]), None,
                               max_tilt_deg=P["max_tilt_deg"], sensitivity=P["sensitivity"],
                               lane_width=P["lane_width"], return_details=True,
                               one_membrane=True)
            n_strips.append(len({ln.strip for ln in det.lanes}))
        except AnalysisError:
            n_strips.append(0)
    if sum(n_strips) != len(lanes):
        raise ParameterError(
            f"lanes gave {len(lanes)} counts ({','.join(map(str, lanes))}), but the image is a "
            f"figure page with {len(pieces)} membrane pieces ({_box_text(pieces)}) holding "
            f"{sum(n_strips)} strips ({'+'.join(map(str, n_strips))}); give one count for "
            f"all, one per piece ({len(pieces)}) or one per strip ({sum(n_strips)}), in "
            "reading order (column by column, top to bottom), or pieces='off'")
    out, i = [], 0
    for n in n_strips:
        out.append(tuple(lanes[i:i + n]) if n > 1 else (lanes[i] if n else None))
        i += n
    return out


def _analyse_pieces(signal, satmask, P, pieces, lane_geometry=None,
                    band_boxes=None) -> _Region | None:
    """:func:`_analyse` on every membrane piece of a figure page, merged into one region.

    Each piece (``(r0, r1, c0, c1)``, reading order) is analysed as an image of its
    own; its strips follow the previous pieces' strips, its lanes are numbered on
    (left to right within a strip), and everything is moved back to image
    coordinates.  Row names are given over all strips together (as on one
    membrane).  A piece in which no lanes or band rows are found (print: a
    chart, a legend box) is left out.  Given lanes go to the piece that holds
    their centre; None (analyse the whole image) when a given lane lies on no
    piece or no piece holds a blot.
    """
    if band_boxes is not None and lane_geometry is None:
        # the boxes name lanes of the automatic run: find them, then measure the boxes
        first = _analyse_pieces(signal, satmask, dict(P, rows=None), pieces)
        if first is None:
            return None
        reg = _analyse_pieces(signal, satmask, P, pieces, first.lane_list, band_boxes)
        if reg is not None:
            reg.edited_lanes = False
            reg.tilt = first.tilt
        return reg
    given = None
    owner: dict = {}
    if lane_geometry is not None:
        given = _given_lanes(lane_geometry)
        for ln in given:
            yc = 0.5 * (ln.top + ln.bottom)
            xc = float(ln.x_at(yc))
            k = next((i for i, (r0, r1, c0, c1) in enumerate(pieces)
                      if r0 <= yc < r1 and c0 <= xc < c1), None)
            if k is None:
                return None
            owner[ln.lane] = k
    bb = None
    if band_boxes is not None:
        bb = pd.DataFrame(band_boxes)
        if "lane" not in bb.columns:
            return None   # the whole-image path names the missing columns
        unknown = sorted(set(int(v) for v in bb["lane"]) - set(owner))
        if unknown:
            raise ParameterError(f"band box for lane {unknown[0]}, but lanes are {sorted(owner)}")
    counts = _piece_lane_counts(P["lanes"], signal, pieces, P) if given is None else \
        [P["lanes"]] * len(pieces)
    regions = []
    for k, (r0, r1, c0, c1) in enumerate(pieces):
        Pk = dict(P, lanes=counts[k], rows=None)
        lg = bk = None
        if given is not None:
            lg = [Lane(ln.lane, ln.centerline - [r0, c0], ln.width, is_ladder=ln.is_ladder,
                       strip=ln.strip, edited=ln.edited) for ln in given if owner[ln.lane] == k]
            if not lg:
                continue
            if bb is not None:
                bk = bb[bb["lane"].astype(int).isin([ln.lane for ln in lg])].copy()
                for col, off in (("top", r0), ("bottom", r0), ("left", c0), ("right", c0)):
                    if col in bk.columns:
                        bk[col] = pd.to_numeric(bk[col], errors="coerce") - off
        sub = np.ascontiguousarray(signal[r0:r1, c0:c1])
        subm = np.ascontiguousarray(satmask[r0:r1, c0:c1])
        try:
            reg = _analyse(sub, subm, Pk, lg, bk, piece=True)
        except AnalysisError:
            if given is not None:
                raise
            continue   # no blot in this piece (print)
        regions.append((k, reg))
    if not regions:
        return None
    if given is None and P["lanes"] is None:
        _fill_from_stacked(regions, pieces, signal, satmask, P)
    # ---- merge: strips and lanes numbered on, image coordinates
    lane_list, ld, band_rows, records = [], {}, [], []
    strip_next, lane_next = 1, 1
    bg2d = None
    if P["background"] == "rolling-ball":
        bg2d = np.zeros(signal.shape, np.float32)
    chosen, local_names = [], []
    sources = {}
    for k, reg in regions:
        r0, r1, c0, c1 = pieces[k]
        own = sorted({ln.strip for ln in reg.lane_list})
        src = list(reg.strip_source) if len(reg.strip_source) == len(own) else ["membrane"] * len(own)
        if given is None:
            smap = {s: strip_next + i for i, s in enumerate(own)}
            lmap = {ln.lane: lane_next + i for i, ln in enumerate(reg.lane_list)}
        else:
            smap = {ln.strip: ln.strip for ln in reg.lane_list}
            lmap = {ln.lane: ln.lane for ln in reg.lane_list}
        for s_old, what in zip(own, src):
            sources[smap[s_old]] = what
        for ln in reg.lane_list:
            d = reg.ld[ln.lane]
            ln.centerline = ln.centerline + [r0, c0]
            ln.lane, ln.strip = lmap[ln.lane], smap[ln.strip]
            d.r = d.r + r0
            lane_list.append(ln)
            ld[ln.lane] = d
        for rec in reg.band_rows:
            rec = dict(rec, strip=smap.get(rec["strip"], rec["strip"]), lane=lmap[rec["lane"]],
                       y=rec["y"] + r0, top=rec["top"] + r0, bottom=rec["bottom"] + r0,
                       left=rec["left"] + c0, right=rec["right"] + c0)
            band_rows.append(rec)
            records.append((k, rec))
        if bg2d is not None and reg.bg2d is not None:
            bg2d[r0:r1, c0:c1] = reg.bg2d
        for name in reg.row_names:
            mine = [rec for kk, rec in records if kk == k and rec["row"] == name]
            if not mine:
                continue
            found = {rec["lane"]: 0 for rec in mine if "not_detected" not in rec["flags"]}
            chosen.append((mine[0]["strip"], found, 0.0,
                           float(np.median([rec["y"] for rec in mine])), None))
            local_names.append((k, name))
        strip_next = max([strip_next - 1, *smap.values()]) + 1
        lane_next = max([lane_next - 1, *lmap.values()]) + 1
    if bb is not None:
        row_names = list(dict.fromkeys(rec["row"] for rec in band_rows))
    else:
        names = _name_rows(chosen, P["rows"], lane_list)
        new = dict(zip(local_names, names))
        for k, rec in records:
            rec["row"] = new[(k, rec["row"])]
        row_names = list(names)
    strips_of = {}
    for k, reg in regions:
        strips_of[k] = sorted({ln.strip for ln in reg.lane_list})
    found = [dict(piece=i + 1, top=int(r0), bottom=int(r1 - 1), left=int(c0), right=int(c1),
                  strips=strips_of.get(i, [])) for i, (r0, r1, c0, c1) in enumerate(pieces)]
    tilts = [reg.tilt for _, reg in regions]
    slopes = [reg.row_slope_deg for _, reg in regions if reg.row_slope_deg is not None]
    P["n_lanes_found"] = len(lane_list)
    P["row_slope_deg"] = round(float(np.median(slopes)), 3) if slopes else None
    out = _Region(tilt=float(np.median(tilts)), lane_list=lane_list, ld=ld,
                  boxes=[], row_names=row_names, bg2d=bg2d, band_rows=band_rows,
                  edited_lanes=given is not None, n_lanes_found=len(lane_list),
                  row_slope_deg=P["row_slope_deg"])
    out.pieces = found
    out.strip_source = [sources.get(s, "membrane") for s in sorted({ln.strip for ln in lane_list})]
    return out


def _band_table(band_rows: list, row_names: list, image_name, method: str,
                params_hash: str) -> pd.DataFrame:
    """The bands table from :func:`_measure`'s records, built in one go.

    Bands are numbered top to bottom within each lane (``band``), rows that
    hold a clipped band flag their other bands ``row_saturated``, and the
    table is ordered by lane, then by the order of ``row_names``.
    """
    if not band_rows:
        return pd.DataFrame(columns=BAND_COLUMNS)
    recs = sorted(band_rows, key=lambda r: (r["lane"], r["y"]))   # stable, as lexsort
    prev, band = None, 0
    for r in recs:
        r["band"] = 1 if r["lane"] != prev else band + 1
        band, prev = r["band"], r["lane"]
    clipped = {(r["strip"], r["row"]) for r in recs if r["saturated"]}
    for r in recs:
        if not r["saturated"] and (r["strip"], r["row"]) in clipped:
            r["flags"] = ";".join(f for f in (r["flags"], "row_saturated") if f)
    order = {n: i for i, n in enumerate(row_names)}
    recs.sort(key=lambda r: (r["lane"], order.get(r["row"], len(order))))
    const = {"image": image_name, "mw_kda": np.nan, "background_method": method,
             "params_hash": params_hash, "version": __version__}
    return pd.DataFrame([{**r, **const} for r in recs], columns=BAND_COLUMNS)


def _in_zones(y, zones):
    for z0, z1 in zones:
        m = max(10.0, 0.25 * (z1 - z0))
        if z0 - m <= y <= z1 + m:
            return True
    return False


def _merge_touching(bands, tail):
    """Bands of one lane split at a valley (a doublet) as one band.

    Two neighbouring bands form a doublet when their limits touch and at least
    one limit was cut short by the valley (closer to its peak than 90 % of
    ``tail`` half widths); bands whose full tails merely meet stay apart.  The
    merged band spans both; its peak position and height are the stronger
    band's, its half width covers both peaks.
    """
    out = []
    for b in bands:
        short = out and ((out[-1].bottom - out[-1].y) < 0.45 * tail * out[-1].fwhm
                         or (b.y - b.top) < 0.45 * tail * b.fwhm)
        if out and b.top <= out[-1].bottom + 1 and short:
            a = out[-1]
            strong = a if a.height >= b.height else b
            out[-1] = type(a)(y=strong.y, top=a.top, bottom=max(a.bottom, b.bottom),
                              height=strong.height,
                              fwhm=float(abs(b.y - a.y) + 0.5 * (a.fwhm + b.fwhm)),
                              prominence=max(a.prominence, b.prominence))
        else:
            out.append(b)
    return out


def _detect_and_match(ld, lane_list, P, H, zones=None, signal=None):
    """Band detection per lane, ladder detection, row matching and naming.

    ``zones``: row ranges where the text-free foreground has band structure;
    profile peaks elsewhere (printed labels, handwriting) are not bands.
    ``signal``: the signal image (bands bright); with it, the top and bottom
    arcs of ring-shaped dots are one row (:func:`_merge_ring_rows`)."""
    fwhms = []
    for lane_no, d in ld.items():
        n = len(d.prof)
        d.bands = detect_bands(d.prof, sensitivity=P["sensitivity"], noise=d.noise,
                               max_band_height=max(15, n // 6), tail=P["tail"])
        if zones:
            # a faint ladder's bands, one lane wide, need not make a zone of their
            # own: kept aside for the end-lane rule (_own_pattern), never a row
            r0 = int(d.r[0]) if len(d.r) else 0
            inz = [_in_zones(r0 + b.y, zones) for b in d.bands]
            d.off_zone = [b for b, ok in zip(d.bands, inz) if not ok]
            d.bands = [b for b, ok in zip(d.bands, inz) if ok]
        if P.get("merge_doublets"):
            d.bands = _merge_touching(d.bands, P["tail"])
        fwhms += [b.fwhm for b in d.bands]
    # a common absolute floor: bands far weaker than the image's strongest are noise
    heights = [b.height for d in ld.values() for b in d.bands]
    if heights:
        floor = (0.02 * (1.0 - P["sensitivity"]) + 0.002) * max(heights)
        for d in ld.values():
            d.bands = [b for b in d.bands if b.height >= floor]
            d.off_zone = [b for b in d.off_zone if b.height >= floor]
    fwhm = float(np.median(fwhms)) if fwhms else 5.0
    tol = max(4.0, 1.5 * fwhm)
    boxes = []
    row_names: list = []
    strips = sorted({ln.strip for ln in lane_list})
    all_rows = []  # (strip, dict lane->band idx, strength, y_med)
    for s in strips:
        sl = [ln for ln in lane_list if ln.strip == s]
        counts = [len(ld[ln.lane].bands) for ln in sl]
        if P["ladder"] == "auto" and len(sl) >= 3:
            for idx in (0, len(sl) - 1):
                if _is_ladder_lane(counts, idx):
                    sl[idx].is_ladder = True
        elif P["ladder"] is True and sl:
            sl[0].is_ladder = True
        samp = [ln for ln in sl if not ln.is_ladder]
        band_y = {ln.lane: [ld[ln.lane].r[0] + b.y for b in ld[ln.lane].bands] for ln in samp}
        lane_x = {ln.lane: ln.x_at(H / 2) for ln in samp}
        if not band_y:
            continue
        rows = match_rows(band_y, lane_x, tol=tol)
        if signal is not None and _merge_ring_rows(rows, ld, signal):
            band_y = {ln.lane: [ld[ln.lane].r[0] + b.y for b in ld[ln.lane].bands] for ln in samp}
            rows = match_rows(band_y, lane_x, tol=tol)
        need = max(1, int(math.ceil(P["min_row_lanes"] * len(samp)))) if len(samp) > 2 else 1
        # rows whose peaks are lumps of one smear in most of their lanes: one row
        # (its lumps lie anywhere along it: no reference for other rows' line, and
        # not judged against one)
        matched = rows
        rows = merge_unresolved_rows(rows, {ln: ld[ln].prof for ln in band_y},
                                     {ln: ld[ln].bands for ln in band_y}, band_y,
                                     min_lanes=need)
        smears = [g for g in rows if g not in matched]
        sparse = []
        rows = [g for g in rows if not _is_edge_row(g, ld)]
        plain = [g for g in rows if g not in smears] or rows
        ref = max(plain, key=lambda g: (len(g), float(np.median(
            [ld[ln].bands[i].height for ln, i in g.items()])))) if rows else None
        for g in rows:
            if g is not ref and g not in smears and _scattered_row(g, ref, band_y, ld):
                continue  # specks the row tolerance let in, not a band row
            strength = float(np.median([ld[ln].bands[i].height for ln, i in g.items()]))
            ymed = float(np.median([band_y[ln][i] for ln, i in g.items()]))
            if len(g) < need:
                sparse.append((s, g, strength, ymed, samp))
                continue
            all_rows.append((s, g, strength, ymed, samp))
        all_rows += _grid_rows([r for r in all_rows if r[0] == s], sparse, ld, lane_x, signal)
    if not all_rows:
        raise AnalysisError("no band rows found: no band is present in enough lanes; "
                            "raise sensitivity, give the lane count, or give band_boxes")
    names = P["rows"]
    # rows weaker than min_row_strength of their strip's strongest row are
    # noise, faint shadows or smears; they are never named or reported
    chosen = []
    for s in strips:
        rs = [r for r in all_rows if r[0] == s]
        if rs:
            top = max(r[2] for r in rs)
            chosen += [r for r in rs if r[2] >= P["min_row_strength"] * top]
    chosen.sort(key=lambda r: (r[0], r[3]))
    row_names = _name_rows(chosen, names, lane_list)
    P["row_slope_deg"] = _row_slope(chosen, ld, H)
    # bands of the chosen rows; a lane's band in no row that touches one of them at a
    # valley (a dip inside a band: a bubble, a dark spot, a doublet the other lanes
    # do not show) is part of it, not lost signal and not its background
    used = {(ln, i) for (_, g, _, _, _) in chosen for ln, i in g.items()}
    for name, (s, g, strength, ymed, samp) in zip(row_names, chosen):
        present = {}
        for lane_no, i in g.items():
            d = ld[lane_no]
            b = d.bands[i]
            present[lane_no] = b
        # lanes of the strip without a band in this row: measure at the expected place
        xs = np.array([ld[ln].lane.x_at(H / 2) for ln in present])
        ys = np.array([ld[ln].r[0] + present[ln].y for ln in present])
        ups = np.array([present[ln].y - present[ln].top for ln in present])
        downs = np.array([present[ln].bottom - present[ln].y for ln in present])
        # the typical extent of this row's bands, from its stronger half; faint
        # bands (noisy half-widths) whose limits stray far from it get it instead
        hts = np.array([present[ln].height for ln in present])
        strong = hts >= np.median(hts)
        up_t, down_t = float(np.median(ups[strong])), float(np.median(downs[strong]))
        for k_, ln_no in enumerate(present):
            b = present[ln_no]
            if b.height < 0.25 * hts.max() and not (
                    0.6 * up_t <= ups[k_] <= 1.6 * up_t and 0.6 * down_t <= downs[k_] <= 1.6 * down_t):
                n_ = len(ld[ln_no].prof)
                b.top = max(0, int(math.floor(b.y - up_t)))
                b.bottom = min(n_ - 1, int(math.ceil(b.y + down_t)))
        order = np.argsort(xs)
        lanes_present = list(present)
        for ln in samp:
            d = ld[ln.lane]
            x = ln.x_at(H / 2)
            if ln.lane in present:
                b = present[ln.lane]
                top_b, bot_b, merged = b.top, b.bottom, False
                # the box's height: its strongest part (a smear or doublet measured as
                # one band is as strong as its strongest peak)
                h_box = float(b.height)
                j = g[ln.lane] - 1
                while (j >= 0 and (ln.lane, j) not in used and d.bands[j].bottom + 1 >= top_b
                       and _part_of(d.bands[j], b)):
                    top_b, merged = min(top_b, d.bands[j].top), True
                    h_box = max(h_box, float(d.bands[j].height))
                    used.add((ln.lane, j))
                    j -= 1
                j = g[ln.lane] + 1
                while (j < len(d.bands) and (ln.lane, j) not in used
                       and d.bands[j].top <= bot_b + 1 and _part_of(d.bands[j], b)):
                    bot_b, merged = max(bot_b, d.bands[j].bottom), True
                    h_box = max(h_box, float(d.bands[j].height))
                    used.add((ln.lane, j))
                    j += 1
                # where the row lies in this lane by the other lanes (a merged doublet's
                # own peak may sit at the other row's place)
                k_ = lanes_present.index(ln.lane)
                others = [j for j in range(len(xs)) if j != k_]
                if others:
                    oo = sorted(others, key=lambda j: xs[j])
                    yrow = float(np.interp(x, xs[oo], ys[oo]))
                else:
                    yrow = float(d.r[0] + b.y)
                boxes.append(dict(lane=ln.lane, row=name, top=int(d.r[0] + top_b),
                                  bottom=int(d.r[0] + bot_b), left=None, right=None,
                                  y=float(d.r[0] + b.y),
                                  flags=["doublet_merged"] if merged else [], edited=False,
                                  height=h_box, yrow=yrow))
            else:
                yexp = float(np.interp(x, xs[order], ys[order]))
                boxes.append(dict(lane=ln.lane, row=name,
                                  top=int(round(yexp - np.median(ups))),
                                  bottom=int(round(yexp + np.median(downs))), left=None,
                                  right=None, y=yexp, flags=["not_detected"], edited=False,
                                  yrow=yexp))
    # detected bands in no row (a spot, a band of one lane) stay out of every band's
    # background windows; a hump much wider than the lane's bands is background
    ext_all = [d.bands[i].bottom - d.bands[i].top + 1 for ln, i in used
               for d in (ld[ln],)]
    ext_med = float(np.median(ext_all)) if ext_all else np.inf
    for lane_no, d in ld.items():
        d.unmeasured = [(b.top, b.bottom) for i, b in enumerate(d.bands)
                        if (lane_no, i) not in used
                        and b.bottom - b.top + 1 <= _WIDE_FACTOR * ext_med]
    _split_overlapping(boxes)
    return boxes, row_names


def _grid_rows(rows, sparse, ld, lane_x, signal, tol=0.15):
    """Rows of a dot grid that have too few dots for ``min_row_lanes`` (most of
    their dots empty) but complete the grid of the strip's rows.

    A dot blot is a regular grid of round spots: with the candidate row, the
    strip's rows (at least three found) are whole multiples of one row pitch
    apart (within ``tol`` pitches) with at least two single steps
    (:func:`lanes._grid_pitch`); the row pitch is 0.6-1.6 lane pitches (a
    square-ish grid); and the spots are round: across the lane a band's
    half-maximum width is at most twice its height (:func:`_band_aspect`, the
    median over the grid's bands).  Such a row, found in at least two lanes,
    with bands as tall as the grid's (0.5-2x), is a grid row.  A western's rows
    lie where its proteins run, on no regular grid, and its bands are far wider
    than tall: no row is added there.

    ``rows`` and ``sparse``: ``(strip, lane -> band index, strength, y, lanes)``
    tuples of one strip; ``signal``: the signal image (None: no grid rows).
    Returns the sparse rows to keep.
    """
    from .lanes import _grid_pitch
    if len(rows) < 3 or not sparse or signal is None:
        return []
    xs = np.sort(np.asarray(list(lane_x.values()), float))
    if len(xs) < 3:
        return []
    px = float(np.median(np.diff(xs)))

    def height(r):
        return float(np.median([ld[ln].bands[i].fwhm for ln, i in r[1].items()]))

    typical = float(np.median([height(r) for r in rows]))
    ys = [r[3] for r in rows]
    cand = []
    for r in sorted(sparse, key=lambda r: -len(r[1])):
        if len(r[1]) < 2 or not 0.5 * typical <= height(r) <= 2.0 * typical:
            continue
        py = _grid_pitch(ys + [r[3]], tol=tol)
        if py is None or not 0.6 * px <= py <= 1.6 * px:
            continue
        if min(abs(y - r[3]) for y in ys) < 0.5 * py:
            continue  # a grid position already taken
        if not min(ys) - 1.5 * py <= r[3] <= max(ys) + 1.5 * py:
            continue  # at most one grid position beyond the rows found
        cand.append(r)
    if not cand:
        return []
    # round spots, not bands: measured once, on the grid's own bands
    pts = [(ld[ln].lane.x_at(ld[ln].r[0] + ld[ln].bands[i].y), ld[ln].r[0] + ld[ln].bands[i].y,
            ld[ln].bands[i].fwhm) for r in rows for ln, i in r[1].items()]
    step = max(1, len(pts) // 24)
    asp = [_band_aspect(signal, x, y, h, px) for x, y, h in pts[::step]]
    asp = [a for a in asp if a is not None]
    if not asp or float(np.median(asp)) > 2.0:
        return []
    keep = []
    for r in cand:
        py = _grid_pitch(ys + [r[3]], tol=tol)
        if py is not None and min(abs(y - r[3]) for y in ys) >= 0.5 * py:
            keep.append(r)
            ys.append(r[3])
    return keep


def _band_aspect(signal, x, y, fwhm, pitch):
    """Half-maximum width across the lane over the height ``fwhm`` of the band at
    ``(x, y)``: the mean of the band's central rows over one lane pitch, less the
    lower of its two ends, measured where it stays above half its peak around the
    centre; None when it cannot be measured."""
    H, W = signal.shape
    h = max(1, int(round(0.25 * fwhm)))
    y0, y1 = max(0, int(round(y)) - h), min(H, int(round(y)) + h + 1)
    x0, x1 = max(0, int(round(x - pitch / 2))), min(W, int(round(x + pitch / 2)) + 1)
    if y1 <= y0 or x1 - x0 < 5 or fwhm <= 0:
        return None
    p = np.asarray(signal[y0:y1, x0:x1], np.float64).mean(axis=0)
    p = p - min(p[0], p[-1])
    c = int(np.clip(round(x) - x0, 0, len(p) - 1))
    top = float(p[max(0, c - 2):c + 3].max())
    if top <= 0:
        return None
    lo = c
    while lo > 0 and p[lo - 1] > 0.5 * top:
        lo -= 1
    hi = c
    while hi < len(p) - 1 and p[hi + 1] > 0.5 * top:
        hi += 1
    return (hi - lo + 1) / float(fwhm)


def _ring_votes(d, i, j, signal) -> bool | None:
    """Whether bands ``i`` (above) and ``j`` (below) of a lane are the top and bottom
    arcs of one ring-shaped dot; None when the lane cannot tell.

    Across the lane, midway between the two bands, a ring shows its two sides
    (both outer thirds of the lane stand above the membrane, each by at least
    half the arcs' rise at the lane centre) around a light centre (the centre
    third rises less than half as much as the sides); between the two bands
    of a doublet the lane is level across (or brightest at its centre).
    """
    ya, yb = d.bands[i].y, d.bands[j].y
    if yb - ya < 3:
        return None
    lane = d.lane
    r0 = int(d.r[0])

    def across(y):
        y = int(round(r0 + y))
        k = y - 1 - r0
        if 0 <= k and y + 2 - r0 <= len(d.r):
            # inside the lane: the rows of its block (the same pixels lane_block takes)
            blk = d.block[k:k + 3]
        else:
            _, _, blk, _ = lane_block(signal, lane, rows=(y - 1, y + 2))
        return blk.mean(axis=0) if blk.size else None

    mid, top, bot = across(0.5 * (ya + yb)), across(ya), across(yb)
    if mid is None or top is None or bot is None or len(mid) < 9:
        return None
    n = len(mid)
    t = n // 3
    base = float(min(mid.min(), top.min(), bot.min()))
    centre = float(mid[t:n - t].mean()) - base
    sides = min(float(mid[:t].max()), float(mid[n - t:].max())) - base
    arcs = min(float(top[t:n - t].max()), float(bot[t:n - t].max())) - base
    if arcs <= 0:
        return None
    return bool(sides >= 0.5 * arcs and centre < 0.5 * sides)


def _merge_ring_rows(rows, ld, signal, min_share=0.6) -> bool:
    """Merge the bands of consecutive rows that are the two arcs of ring-shaped dots.

    A dried drop leaves a "coffee ring": along a lane its top and bottom arcs
    are two peaks, so one row of dots reads as two rows.  Two consecutive rows
    are one row of rings when at least half of the lanes of the smaller row
    have adjacent bands in both, and :func:`_ring_votes` sees a ring in at
    least ``min_share`` of the lanes that can tell (at least 3).  In every
    lane with both bands they become one band (from the upper band's top to
    the lower's bottom).  Returns whether anything was merged (the caller
    matches rows again).
    """
    merged_any = False
    k = 0
    while k < len(rows) - 1:
        a, b = rows[k], rows[k + 1]
        both = [ln for ln in a if ln in b and b[ln] == a[ln] + 1]
        votes = [_ring_votes(ld[ln], a[ln], b[ln], signal) for ln in both]
        told = [v for v in votes if v is not None]
        if len(told) >= 3 and len(both) >= 0.5 * min(len(a), len(b)) \
                and sum(told) >= min_share * len(told):
            for ln in both:
                bands = ld[ln].bands
                u, w = bands[a[ln]], bands[b[ln]]
                bands[a[ln]] = Band(y=0.5 * (u.y + w.y), top=u.top, bottom=w.bottom,
                                    height=max(u.height, w.height),
                                    fwhm=float(w.bottom - u.top),
                                    prominence=max(u.prominence, w.prominence))
                del bands[b[ln]]
                # later rows of this lane index bands one lower now
                for g in rows[k + 1:]:
                    if ln in g and g[ln] > a[ln]:
                        g[ln] -= 1
            merged_any = True
            k += 2
        else:
            k += 1
    return merged_any

#: A band in no row is part of a touching row band when it is at least this fraction of
#: its height ...
_PART_HEIGHT = 0.2
#: ... and at most this many times its extent; bands in no row wider than this many
#: times the median band are background humps, not bands.
_WIDE_FACTOR = 2.0


def _part_of(piece, band) -> bool:
    """Whether a band in no row that touches ``band`` at a valley is a part of it
    (the other half of a band with a dip), not a weak hump of background at its foot."""
    ext_p = piece.bottom - piece.top + 1
    ext_b = band.bottom - band.top + 1
    return piece.height >= _PART_HEIGHT * band.height and ext_p <= _WIDE_FACTOR * ext_b


def _split_overlapping(boxes) -> None:
    """Boxes of one lane never overlap: a merged doublet is split between its rows.

    When a lane shows one band where its neighbours show two rows (a doublet too
    close, or too unequal, to leave a valley in this lane), the row without a
    peak gets a box at its expected place, which lies inside the detected band:
    measured as they are, the pair's signal would be counted twice.  Instead
    the two boxes are cut where the rows meet in this lane (halfway between
    the rows' positions by the other lanes), so every pixel row of the lane is
    counted once, and both bands are flagged ``doublet_split``.  Boxes in
    different lanes, and boxes that merely touch (a doublet split at its own
    valley), are left as they are.
    """
    by_lane: dict = {}
    for b in boxes:
        by_lane.setdefault(b["lane"], []).append(b)
    for bl in by_lane.values():
        bl.sort(key=lambda b: b["yrow"])
        for a, b in zip(bl[:-1], bl[1:]):
            if a["bottom"] <= b["top"]:
                continue  # apart, or sharing one valley sample
            if "not_detected" not in a["flags"] and "not_detected" not in b["flags"]:
                continue  # two peaks of their own: each kept to its valley by detect_bands
            cut = int(math.floor(0.5 * (a["yrow"] + b["yrow"])))
            cut = min(max(cut, a["top"]), b["bottom"] - 1)
            a["bottom"], b["top"] = cut, cut + 1
            for box in (a, b):
                if "doublet_split" not in box["flags"]:
                    box["flags"].append("doublet_split")
                if "not_detected" in box["flags"]:
                    box["y"] = box["yrow"]


def _scattered_row(g, ref, band_y, ld, share=0.5) -> bool:
    """True when a row's "bands" (``g``: lane -> band index) scatter about the line
    of the strip's main row ``ref`` (the row in most lanes).  Rows of one membrane
    run parallel (one tilt, one smile), so a row's offset from ``ref`` changes
    little from a lane to the next lane both rows hold (side-by-side membrane
    pieces in one strip shift it only where one piece ends); when the median change
    exceeds ``share`` of the bands' own FWHM (median over the lanes) the "bands" are
    specks or spots in random places that the row tolerance joined, not a row.
    Needs 2 lanes in common (otherwise False)."""
    common = sorted(ln for ln in g if ln in ref)   # (lanes are numbered left to right)
    if len(common) < 2:
        return False
    off = np.array([band_y[ln][g[ln]] - band_y[ln][ref[ln]] for ln in common], float)
    fw = float(np.median([ld[ln].bands[g[ln]].fwhm for ln in common]))
    return float(np.median(np.abs(np.diff(off)))) > share * fw


def _is_edge_row(g, ld) -> bool:
    """True when a row's "bands" are steps (membrane edges, background steps).

    For each band the profile's lowest value within one band extent above
    and below it gives two flank levels; a band rises well above both, a
    step only above the lower one (the other side is a plateau at about the
    peak level).  The row is a step row when, in the median over its bands,
    the rise above the higher flank is under 30 % of the rise above the lower.
    """
    ratios = []
    for ln, i in g.items():
        d = ld[ln]
        b = d.bands[i]
        prof = d.prof
        n = len(prof)
        ext = max(3, b.bottom - b.top + 1)
        up = prof[max(0, b.top - ext):max(0, b.top)]
        dn = prof[min(n, b.bottom + 1):min(n, b.bottom + 1 + ext)]
        if len(up) < 2 or len(dn) < 2:
            continue
        peak = float(prof[min(max(round(b.y), 0), n - 1)])
        u, v = float(up.min()), float(dn.min())
        hi, lo = max(u, v), min(u, v)
        if peak - lo <= 0:
            continue
        ratios.append((peak - hi) / (peak - lo))
    return bool(ratios) and float(np.median(ratios)) < 0.3


def _rows_found_text(chosen, lane_list) -> str:
    """'strip 1: y~120 in 9/9 lanes, y~340 in 9/9 lanes; strip 2: ...'"""
    parts = []
    for s in sorted({r[0] for r in chosen}):
        n = sum(1 for ln in lane_list if ln.strip == s and not ln.is_ladder)
        rs = [f"y~{r[3]:.0f} in {len(r[1])}/{n} lanes" for r in chosen if r[0] == s]
        parts.append(f"strip {s}: " + ", ".join(rs))
    return "; ".join(parts)


def _name_rows(chosen, names, lane_list) -> list:
    """Row names, one per chosen row (ordered by strip, then top to bottom).

    Without names the rows are ``row1, row2, ...``.  Given names must match
    the rows found: as many names as rows in all strips together, or as many
    as rows in every strip (the names are then used in each strip).  Anything
    else is an error that lists the rows found, so a name never lands on the
    wrong row.
    """
    if names is None:
        return [f"row{i + 1}" for i in range(len(chosen))]
    names = list(names)
    per_strip = {}
    for r in chosen:
        per_strip.setdefault(r[0], []).append(r)
    if len(names) == len(chosen):
        return names
    if len(per_strip) > 1 and all(len(v) == len(names) for v in per_strip.values()):
        return [names[i] for v in per_strip.values() for i in range(len(v))]
    n = len(chosen)
    sizes = "+".join(str(len(v)) for v in per_strip.values())
    how = f"give {n} names" + (f" (or {sizes.split('+')[0]} per strip when every strip has "
                               f"the same rows)" if len(set(len(v) for v in per_strip.values())) == 1
                               and len(per_strip) > 1 else "")
    raise ParameterError(
        f"{n} band row(s) found ({_rows_found_text(chosen, lane_list)}); rows gave "
        f"{len(names)} name(s) ({', '.join(names)}): {how}, top to bottom, strip by strip; "
        f"or leave rows out to name them row1..row{n}, or give band_boxes")


def _row_slope(chosen, ld, H) -> float:
    """Median slope (deg, positive = falling to the right) of the rows' bands.

    A row slopes when its bands sit lower in some lanes than in others; this
    is not a lane tilt (lanes stay where the lane evidence puts them) and is
    recorded separately as ``row_slope_deg``.
    """
    slopes = []
    for s, g, strength, ymed, samp in chosen:
        if len(g) < 3:
            continue
        xs = np.array([ld[ln].lane.x_at(H / 2) for ln in g])
        ys = np.array([ld[ln].r[0] + ld[ln].bands[i].y for ln, i in g.items()])
        if np.ptp(xs) <= 0:
            continue
        slopes.append(math.degrees(math.atan(np.polyfit(xs, ys, 1)[0])))
    return round(float(np.median(slopes)), 3) if slopes else 0.0


def _drop_empty_edge_lanes(lane_list, ld, boxes):
    """Without a lane count, an end lane of a strip with no band detected in any
    row (marker scribbles, membrane edges) is not a lane; interior empty lanes stay.
    A band counts for its lane only when it is shaped and placed like its row's
    bands (:func:`_like_row`).  An end lane whose bands follow a pattern of their
    own (:func:`_own_pattern`: an offset or unflagged marker ladder) is kept as a
    ladder (``is_ladder``, its boxes out of the rows) when it lies on the lane grid
    and inside the image.  A strip whose lanes all go is not reported (strips are
    renumbered)."""
    # a band counts when it is at least a quarter of its row's typical band (a
    # membrane edge or a marker dash beside the last lane is much weaker)
    by_row: dict = {}
    for b in boxes:
        if "not_detected" not in b["flags"]:
            by_row.setdefault(b["row"], []).append(b)
    detected = set()
    x_of = {ln.lane: ln.x_at(0.5 * (ln.top + ln.bottom)) for ln in lane_list}
    row_fwhm = []
    for bl in by_row.values():
        hts = np.array([b.get("height", 1.0) for b in bl], float)
        typical = float(np.median(hts))
        # a band is evidence for its lane when it is shaped and placed like the row's
        # bands: an offset ladder's marker band that the row matcher took in, or the
        # broad glow of a membrane edge, is not (_like_row)
        fw, like, line = _like_row(bl, ld, x_of)
        row_fwhm.append((fw, line))
        detected |= {b["lane"] for b, h, ok in zip(bl, hts, like) if h >= 0.25 * typical and ok}
        detected |= _dilution_tail(bl, hts, typical, x_of, lane_list)
    # a lane on the lane grid of lanes with row bands (reached from one of them in
    # steps of at most 1.25 lane pitches) whose own band, in no row (a smear split
    # into pieces that match no row, a row the matcher followed elsewhere), lies
    # within the strip's rows and is as strong as a quarter of the rows' typical
    # band is a lane with bands; a far column of handwriting beside the lanes is not,
    # nor a lane reaching out of the image (its "bands" are edge and strip-gap steps)
    strip_of = {ln.lane: ln.strip for ln in lane_list}
    marker = set()
    for s in sorted(set(strip_of.values())):
        # a lane whose strong bands mostly lie off the strip's rows has a pattern of
        # its own (a marker ladder, offset or not flagged), however strong: its band
        # in a row's place is no sample band
        lines_s = [(fw, line) for (fw, line), row in zip(row_fwhm, by_row.values())
                   if any(strip_of.get(b["lane"]) == s for b in row)]
        order = sorted((x_of[ln.lane], ln.lane) for ln in lane_list if ln.strip == s)
        for i, (x, lane_no) in enumerate(order):
            nbs = [ld[order[j][1]] for j in (i - 1, i + 1) if 0 <= j < len(order)]
            if _own_pattern(ld[lane_no], x, lines_s, nbs):
                detected.discard(lane_no)
                marker.add(lane_no)
        grid = _grid_run(sorted((x_of[ln.lane], ln.lane) for ln in lane_list
                                if ln.strip == s and not ln.is_ladder), detected)
        # (a marker lane is kept as a ladder only on the lane grid and fully inside
        # the image: a lane reaching out of it shows edge and strip-gap steps)
        marker -= {ln.lane for ln in lane_list if ln.strip == s and (
            ln.lane not in grid or ld[ln.lane].valid.size == 0
            or float(ld[ln.lane].valid.mean()) < 0.9)}
        bl = [b for row in by_row.values() for b in row if strip_of.get(b["lane"]) == s]
        if not bl:
            continue
        lo, hi = min(b["top"] for b in bl), max(b["bottom"] for b in bl)
        typical = min(float(np.median([b.get("height", 1.0) for b in row
                                       if strip_of.get(b["lane"]) == s]))
                      for row in by_row.values()
                      if any(strip_of.get(b["lane"]) == s for b in row))
        for ln in lane_list:
            # (a marker lane's band in a row's place is no sample band: not re-added)
            if ln.strip != s or ln.lane in detected or ln.lane not in grid or ln.lane in marker:
                continue
            d = ld[ln.lane]
            if d.valid.size == 0 or float(d.valid.mean()) < 0.9:
                continue
            r0 = int(d.r[0]) if len(d.r) else 0
            if any(lo <= r0 + bd.y <= hi and bd.height >= 0.25 * typical
                   and _on_a_row(r0 + bd.y, bd.fwhm, x_of[ln.lane], lines_s, bd.height)
                   for bd in d.bands):
                detected.add(ln.lane)
    drop, ladders = set(), set()
    for s in sorted({ln.strip for ln in lane_list}):
        sl = [ln for ln in lane_list if ln.strip == s and not ln.is_ladder]
        for end in (0, -1):
            while sl and sl[end].lane not in detected:
                ln = sl.pop(end)
                # an end lane with a band pattern of its own is a marker lane: kept
                # and flagged, its bands out of the rows (as for a ladder found by
                # its band count)
                (ladders if ln.lane in marker else drop).add(ln.lane)
    if len(drop | ladders) == len(lane_list):
        return lane_list, ld, boxes
    for ln in lane_list:
        if ln.lane in ladders:
            ln.is_ladder = True
    boxes = [b for b in boxes if b["lane"] not in ladders]
    if not drop:
        return lane_list, ld, boxes
    keep = [ln for ln in lane_list if ln.lane not in drop]
    mapping = {ln.lane: i for i, ln in enumerate(keep, start=1)}
    new_ld = {}
    for ln in keep:
        d = ld[ln.lane]
        ln.lane = mapping[ln.lane] if False else ln.lane
        new_ld[mapping[ln.lane]] = d
    for ln in keep:
        ln.lane = mapping[ln.lane]
    # a strip left without lanes (no band in any of its rows) is not reported:
    # the remaining strips are numbered 1, 2, ... again
    snum = {s: i for i, s in enumerate(sorted({ln.strip for ln in keep}), start=1)}
    for ln in keep:
        ln.strip = snum[ln.strip]
    new_boxes = []
    for b in boxes:
        if b["lane"] in mapping:
            b = dict(b, lane=mapping[b["lane"]])
            new_boxes.append(b)
    return keep, new_ld, new_boxes


#: A band more than this many times as wide (FWHM) as its row's bands is no band of
#: the row's kind (a membrane edge's glow, a smear) when an end lane is judged
_WIDE_BAND = 3.0


def _line_at(pts, x):
    """The row's band position at the column ``x`` of a lane, extended straight from
    the row's bands (``pts``: column and row of its bands of at least a quarter of
    its median height) in the two other lanes nearest to it, so a sloping or
    smiling row is followed; None without them."""
    near = sorted((abs(px - x), px, py) for px, py in pts if px != x)[:2]
    if len(near) == 2 and near[0][1] != near[1][1]:
        (_, xa, ya), (_, xb, yb) = near
        return ya + (yb - ya) * (x - xa) / (xb - xa)
    return near[0][2] if near else None


def _like_row(bl, ld, x_of, off=1.0):
    """One row's bands ``bl``: the typical FWHM of its bands, per band whether it is
    shaped and placed like them (FWHM at most ``_WIDE_BAND`` times the row's, and
    its peak within ``off`` FWHM of the row's line at its lane, :func:`_line_at`),
    and the row's line (its bands' columns and rows for :func:`_line_at`, and their
    median height)."""
    fws, ys, xs = [], [], []
    for b in bl:
        d = ld[b["lane"]]
        r0 = int(d.r[0]) if len(d.r) else 0
        bd = min(d.bands, key=lambda q: abs(r0 + q.y - b["y"])) if d.bands else None
        fws.append(bd.fwhm if bd is not None else np.nan)
        ys.append(float(b["y"]))
        xs.append(float(x_of[b["lane"]]))
    fws = np.array(fws, float)
    hts = np.array([b.get("height", 1.0) for b in bl], float)
    med = float(np.median(hts))
    line = ([(xs[i], ys[i]) for i in range(len(bl)) if hts[i] >= 0.25 * med], med)
    good = np.isfinite(fws)
    strong = good & (hts >= med)
    if not np.any(strong):
        return np.inf, [True] * len(bl), line
    fw = float(np.median(fws[strong]))
    like = []
    for i in range(len(bl)):
        yexp = _line_at(line[0], xs[i])
        like.append(bool(not good[i] or (fws[i] <= _WIDE_BAND * fw and (
            yexp is None or abs(ys[i] - yexp) <= max(2.0, off * fw)))))
    return fw, like, line


def _on_a_row(y, fwhm, x, row_lines, height=None, reach=1.0):
    """A band (peak row ``y``, ``fwhm``) of a lane at column ``x`` is a band of one
    of the strip's rows (``(fwhm, line)`` per row, :func:`_like_row`): within
    ``reach`` of the row's FWHM of its line there, at most ``_WIDE_BAND`` times as
    wide as its bands and, given its ``height``, at least a quarter of their median
    height (a ladder's marker band between the rows, a membrane edge's glow, a faint
    spot in a strong row's place are none)."""
    for fw, (pts, med) in row_lines:
        if (not np.isfinite(fw) or fwhm > _WIDE_BAND * fw
                or (height is not None and height < 0.25 * med)):
            continue
        yr = _line_at(pts, x)
        if yr is None or abs(y - yr) <= max(2.0, reach * fw):
            return True  # (a row in no other lane: nothing to judge the place by)
    return False


def _own_pattern(d, x, row_lines, neighbours=()) -> bool:
    """Lane data ``d`` at column ``x`` shows bands of a pattern of its own: at least
    two of its bands that are as narrow as the rows' bands and at least a quarter of
    the weakest row's median band lie on none of the strip's rows
    (:func:`_on_a_row`, by place) and in neither lane beside it (``neighbours``,
    lane data: no band of theirs at least a quarter as high within a row FWHM), and
    they outnumber those on a row.  Its bands outside the band zones count too (a
    faint ladder's markers, one lane wide, make no zone of their own).  Handwriting
    or a label across the lanes shows in the lanes beside alike; a ladder's markers
    are its own."""
    bands = list(d.bands) + list(d.off_zone)
    if not row_lines or len(bands) < 2:
        return False
    weakest = min(med for _, (_, med) in row_lines)
    fw_max = _WIDE_BAND * max(fw for fw, _ in row_lines)
    fws = [fw for fw, _ in row_lines if np.isfinite(fw)]
    tol = max([3.0] + fws)
    near = [(int(n.r[0]) + b.y, b.height) for n in neighbours if len(n.r)
            for b in list(n.bands) + list(n.off_zone)]
    r0 = int(d.r[0]) if len(d.r) else 0
    on = off = 0
    for bd in bands:
        if bd.height < 0.25 * weakest or bd.fwhm > fw_max:
            continue
        if _on_a_row(r0 + bd.y, bd.fwhm, x, row_lines):
            on += 1
        elif not any(abs(r0 + bd.y - y) <= tol and h >= 0.25 * bd.height for y, h in near):
            off += 1
    return off >= 2 and off > on


def _grid_run(xl, detected, reach=1.25) -> set:
    """Lanes of one strip (``(x, lane)`` sorted by x) joined to a lane of
    ``detected`` by gaps of at most ``reach`` lane pitches (the pitch of the
    closest neighbours)."""
    from .lanes import _one_pitch
    if len(xl) < 3:
        return set()
    xs = np.array([x for x, _ in xl], float)
    pitch = _one_pitch(xs) or float(np.median(np.diff(xs)))
    out = set()
    run = [xl[0][1]]
    for (xa, _), (xb, lb) in zip(xl[:-1], xl[1:]):
        if xb - xa <= reach * pitch:
            run.append(lb)
        else:
            if detected & set(run):
                out |= set(run)
            run = [lb]
    if detected & set(run):
        out |= set(run)
    return out


def _dilution_tail(bl, hts, typical, x_of, lane_list) -> set:
    """Lanes of a row that continue a dilution series towards a strip's end.

    Outward from the outermost band of at least a quarter of the row's typical
    band, a lane's band counts when it is at least a quarter of its inner
    neighbour's band in the same row and strip (at most a 4-fold step, as in
    a serial dilution), so the faint end of a dilution series is no "empty
    edge lane"; a marker dash or an edge glow beside a normal last lane is far
    weaker than that lane and still does not count.
    """
    strip_of = {ln.lane: ln.strip for ln in lane_list}
    out = set()
    by_strip: dict = {}
    for b, h in zip(bl, hts):
        by_strip.setdefault(strip_of.get(b["lane"]), []).append((x_of[b["lane"]], b["lane"], h))
    for items in by_strip.values():
        items.sort()
        strong = [i for i, (_, _, h) in enumerate(items) if h >= 0.25 * typical]
        if not strong:
            continue
        for rng in (range(strong[-1] + 1, len(items)), range(strong[0] - 1, -1, -1)):
            prev = items[strong[-1] if rng.step > 0 else strong[0]][2]
            for i in rng:
                h = items[i][2]
                if h < 0.25 * prev:
                    break
                out.add(items[i][1])
                prev = h
    return out

def _measure(boxes, ld, signal, satmask, bg2d, P, H, W):
    method = P["background"]
    by_lane: dict = {}
    for b in boxes:
        by_lane.setdefault(b["lane"], []).append(b)
    out = []
    for lane_no, bl in by_lane.items():
        d = ld[lane_no]
        lane = d.lane
        r0 = int(d.r[0]) if len(d.r) else 0
        n = len(d.prof)
        lims = [(b["top"] - r0, b["bottom"] - r0) for b in bl]
        baseline_lane = None
        if method == "lane-minima":
            from . import background as _bgmod
            lims_in = [(max(0, a), min(n - 1, b)) for a, b in lims if b >= 0 and a <= n - 1]
            baseline_lane = np.asarray(_bgmod.lane_minima_baseline(d.prof, bands=lims_in or None),
                                       dtype=np.float64)
        for j, b in enumerate(bl):
            t, bt = lims[j]
            flags = list(b["flags"])
            if t < 0 or bt > n - 1:
                flags.append("edge")
            t, bt = max(0, t), min(n - 1, bt)
            if bt < t:
                flags.append("outside_lane")
                t = bt = max(0, min(n - 1, t))
            rect = b["left"] is not None
            if rect:
                ext = bt - t + 1
                w0 = max(0, r0 + t - 2 * ext - 10)
                w1 = min(H, r0 + bt + 2 * ext + 11)
                _, _, fb, fv = lane_block(signal, lane, rows=(w0, w1), left=b["left"],
                                          right=b["right"])
                prof = fb.sum(axis=1, dtype=np.float64)
                _, _, sb, _ = lane_block(satmask, lane, rows=(w0, w1), left=b["left"],
                                         right=b["right"])
                satrows = (sb & fv).sum(axis=1)
                area_rows = fv.sum(axis=1)
                bgp = None
                if bg2d is not None:
                    _, _, gb, _ = lane_block(bg2d, lane, rows=(w0, w1), left=b["left"],
                                             right=b["right"])
                    bgp = gb.sum(axis=1, dtype=np.float64)
                ti, bi = t + r0 - w0, bt + r0 - w0
                other = [(lo + r0 - w0, hi + r0 - w0) for k, (lo, hi) in enumerate(lims)
                         if k != j] + [(lo + r0 - w0, hi + r0 - w0) for lo, hi in d.unmeasured]
                left_px, right_px = float(b["left"]), float(b["right"])
                width_px = max(1, int(round(right_px)) - int(round(left_px)))
                base_lane = None
            else:
                prof, satrows, area_rows, bgp = d.prof, d.satrows, d.area_rows, d.bgprof
                ti, bi = t, bt
                other = [lims[k] for k in range(len(lims)) if k != j] + list(d.unmeasured)
                yc = r0 + 0.5 * (t + bt)
                xc = lane.x_at(yc)
                left_px = float(np.floor(xc - d.W / 2.0 + 0.5))
                right_px = left_px + d.W
                width_px = d.W
                base_lane = baseline_lane
            if method == "lane-fit":
                base = flank_fit_baseline(prof, ti, bi, flank=P["flank"], exclude=other)
            elif method == "lane-minima":
                if base_lane is None:
                    from . import background as _bgmod
                    base_lane = np.asarray(_bgmod.lane_minima_baseline(
                        prof, bands=sorted(other + [(ti, bi)])), dtype=np.float64)
                base = base_lane
            elif method == "rolling-ball":
                base = bgp
            elif method == "border":
                from . import background as _bgmod
                box = (r0 + t, r0 + bt,
                       int(round(left_px)), int(round(right_px)) - 1)
                med = float(_bgmod.border_median(signal, box, width=P["border_width"]))
                base = np.full(len(prof), med * width_px)
            else:
                base = np.zeros(len(prof))
            seg = slice(ti, bi + 1)
            total = float(prof[seg].sum())
            bgv = float(np.asarray(base[seg]).sum())
            vol = total - bgv
            area = int(area_rows[seg].sum())
            nsat = int(satrows[seg].sum())
            if not rect:
                if d.baseline_used is None:
                    d.baseline_used = np.full(n, np.nan)
                d.baseline_used[seg] = np.asarray(base[seg])
            if nsat > 0:
                flags.append("saturated")
            if vol <= 0:
                flags.append("nonpositive_volume")
            if b["y"] is not None:
                y = float(b["y"])
            else:
                sub = np.asarray(prof[seg], float) - np.asarray(base[seg], float)
                ybase = r0 + t
                y = float(ybase + np.argmax(sub)) if len(sub) else float(ybase)
            top_img = int(r0 + t)
            bot_img = int(r0 + bt)
            out.append(dict(strip=lane.strip, lane=lane_no, row=b["row"], band=0, y=y,
                            top=top_img, bottom=bot_img, left=left_px, right=right_px,
                            volume=vol, background_volume=bgv, area=area,
                            saturated_fraction=nsat / max(area, 1), saturated=nsat > 0,
                            flags=";".join(dict.fromkeys(flags)), edited=bool(b["edited"])))
    return out


