"""Small result models of the blot engine: :class:`Lane` and :class:`BlotResult`.

A lane is geometry only (a centre line, possibly curved, and a width), so a
reviewer can move or bend it and hand it back to
:func:`blotquant.blot.quantify_blot` through ``lane_geometry``.

Examples
--------
>>> lane = Lane(1, [[0, 10], [99, 12]], 20)
>>> round(lane.x_at(49.5), 2), lane.width
(11.0, 20.0)
>>> Lane.from_dict(lane.to_dict()) == lane
True
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["Lane", "BlotResult", "LaneProfiles", "LANE_COLUMNS", "BAND_COLUMNS"]

#: Columns of :attr:`BlotResult.lanes`.
LANE_COLUMNS = ["image", "strip", "lane", "x", "width", "top", "bottom", "geometry",
                "is_ladder", "edited"]
#: Columns of :attr:`BlotResult.bands`.
BAND_COLUMNS = ["image", "strip", "lane", "row", "band", "y", "top", "bottom", "left", "right",
                "volume", "background_volume", "area", "saturated_fraction", "saturated",
                "flags", "mw_kda", "background_method", "edited", "params_hash", "version"]


@dataclass
class Lane:
    """One lane: a centre line (row, col polyline, rows increasing) and a width.

    Parameters
    ----------
    lane : int
        1-based lane number. :func:`~blotquant.blot.quantify_blot` numbers the
        lanes it finds left to right within a strip and continues the count in
        the next strip down (strip 2 of a blot with 8 lanes per strip holds
        lanes 9-16), so a lane number is unique in a result.
    centerline : (N, 2) array-like of float
        Points (row, col) of the lane centre, N >= 2; rows must increase.
        The lane spans the rows of the first and last point.
    width : float
        Lane width in pixels (across the lane).
    is_ladder : bool
        Marker (molecular weight ladder) lane.
    strip : int
        1-based membrane strip (top to bottom) the lane belongs to; images with
        one set of lanes have a single strip.  On a figure page the strips of
        each membrane piece follow those of the pieces before it, in reading
        order (:mod:`blotquant.blot.panels`).

    Examples
    --------
    >>> Lane(2, [[0, 5], [10, 5]], 4).x_at([0, 5, 10]).tolist()
    [5.0, 5.0, 5.0]
    """

    lane: int
    centerline: Any
    width: float
    is_ladder: bool = False
    strip: int = 1
    edited: bool = False

    def __post_init__(self):
        c = np.asarray(self.centerline, dtype=float).reshape(-1, 2)
        if len(c) == 1:
            c = np.vstack([c, c + [1.0, 0.0]])
        order = np.argsort(c[:, 0], kind="stable")
        self.centerline = c[order]
        self.width = float(self.width)
        self.lane = int(self.lane)
        self.strip = int(self.strip)
        self.is_ladder = bool(self.is_ladder)
        self.edited = bool(self.edited)

    @property
    def top(self) -> float:
        """First row of the lane (row of the first centre-line point)."""
        return float(self.centerline[0, 0])

    @property
    def bottom(self) -> float:
        """Last row of the lane (row of the last centre-line point)."""
        return float(self.centerline[-1, 0])

    def x_at(self, rows: ArrayLike) -> np.ndarray | float:
        """Centre column at the given row(s) (linear interpolation, extrapolated).

        Parameters
        ----------
        rows : float or array-like of float
            Image rows; rows above the first or below the last point are
            extrapolated along the end segments.

        Returns
        -------
        float or ndarray of float
            A float for a scalar row, else an array shaped like ``rows``.
        """
        c = self.centerline
        if isinstance(rows, _SCALARS):
            return _x_at_scalar(c, float(rows))
        r = np.asarray(rows, dtype=float)
        if 0 < r.size <= 8 and r.ndim:
            # a few rows: each as one row (the same numbers, no array overhead)
            return np.array([_x_at_scalar(c, v) for v in r.ravel().tolist()]).reshape(r.shape)
        if len(c) < 2 or c[-1, 0] == c[0, 0]:
            return np.full(r.shape, c[0, 1]) if r.ndim else float(c[0, 1])
        out = np.interp(r, c[:, 0], c[:, 1])
        # linear extrapolation beyond the ends
        lo = r < c[0, 0]
        hi = r > c[-1, 0]
        if lo.any() or hi.any():
            s0 = (c[1, 1] - c[0, 1]) / max(c[1, 0] - c[0, 0], 1e-9)
            s1 = (c[-1, 1] - c[-2, 1]) / max(c[-1, 0] - c[-2, 0], 1e-9)
            out = np.where(lo, c[0, 1] + (r - c[0, 0]) * s0, out)
            out = np.where(hi, c[-1, 1] + (r - c[-1, 0]) * s1, out)
        return out if r.ndim else float(out)

    def to_dict(self) -> dict:
        """Plain-JSON form (used by the corrections sidecar).

        Returns
        -------
        dict
            ``lane``, ``strip``, ``centerline`` (list of [row, col], rounded
            to 3 decimals), ``width`` and ``is_ladder``; ``edited`` is not
            stored.
        """
        return {"lane": self.lane, "strip": self.strip,
                "centerline": np.round(self.centerline, 3).tolist(),
                "width": round(self.width, 3), "is_ladder": self.is_ladder}

    @classmethod
    def from_dict(cls, d: dict) -> "Lane":
        """Inverse of :meth:`to_dict` (unknown keys ignored).

        Parameters
        ----------
        d : dict
            Needs ``lane``, ``centerline`` and ``width``; ``is_ladder``,
            ``strip`` and ``edited`` are optional.

        Returns
        -------
        Lane
            The lane.
        """
        return cls(lane=d["lane"], centerline=d["centerline"], width=d["width"],
                   is_ladder=d.get("is_ladder", False), strip=d.get("strip", 1),
                   edited=d.get("edited", False))

    def __eq__(self, other):
        if not isinstance(other, Lane):
            return NotImplemented
        return (self.lane == other.lane and self.strip == other.strip
                and self.is_ladder == other.is_ladder
                and abs(self.width - other.width) < 1e-3
                and self.centerline.shape == other.centerline.shape
                and np.allclose(self.centerline, other.centerline, atol=1e-3))


#: Row types :meth:`Lane.x_at` answers in plain Python (the common one-row call).
_SCALARS = (float, int, np.floating, np.integer)


def _x_at_scalar(c: np.ndarray, x: float) -> float:
    """:meth:`Lane.x_at` of one row, in Python floats: the same number, ~30x faster.

    The same operations in the same order as ``numpy.interp`` (the segment
    ``c[j] <= x < c[j + 1]``, ``slope * (x - x_j) + y_j``; a row equal to a
    point's row gives the point's column) and the same end-segment
    extrapolation as the array path; IEEE double arithmetic either way.
    """
    pts = c.tolist()
    n = len(pts)
    x0, y0 = pts[0]
    xn, yn = pts[-1]
    if n < 2 or xn == x0:
        return float(y0)
    if x != x:
        return x   # NaN, as numpy.interp
    if x < x0:
        x1, y1 = pts[1]
        return y0 + (x - x0) * ((y1 - y0) / max(x1 - x0, 1e-9))
    if x > xn:
        xm, ym = pts[-2]
        return yn + (x - xn) * ((yn - ym) / max(xn - xm, 1e-9))
    # the last point with row <= x (numpy's binary_search_with_guess)
    j = bisect.bisect_right([p[0] for p in pts], x) - 1
    xj, yj = pts[j]
    if j == n - 1 or xj == x:
        return float(yj)
    xk, yk = pts[j + 1]
    slope = (yk - yj) / (xk - xj)
    out = slope * (x - xj) + yj
    if out != out:   # numpy.interp tries the other end, then a flat segment
        out = slope * (x - xk) + yk
        if out != out and yj == yk:
            out = yj
    return float(out)


class LaneProfiles(Mapping):
    """Lane number -> DataFrame(position, signal, background), made when first read.

    A read-only mapping (``profiles[lane]``, ``lane in profiles``,
    ``profiles.get(lane)``, iteration) over the lane profiles of a
    :class:`BlotResult`.  The arrays are kept as they are; each lane's
    DataFrame is built on first access and then reused, so a batch run that
    never looks at the profiles does not pay for 10-40 small DataFrames per
    image.

    Parameters
    ----------
    arrays : dict of int to (position, signal, background)
        Per lane: image rows, the profile (sum across the lane width) and the
        background under it (None: no background was subtracted; NaN then).

    Examples
    --------
    >>> import numpy as np
    >>> p = LaneProfiles({1: (np.arange(3), np.array([1.0, 5.0, 1.0]), None)})
    >>> p[1]["signal"].tolist(), bool(p[1]["background"].isna().all()), 2 in p
    ([1.0, 5.0, 1.0], True, False)
    """

    def __init__(self, arrays: dict):
        self._arrays = dict(arrays)
        self._frames: dict = {}

    def __getitem__(self, lane):
        f = self._frames.get(lane)
        if f is None:
            r, prof, base = self._arrays[lane]
            f = pd.DataFrame({"position": r, "signal": prof,
                              "background": base if base is not None
                              else np.full(len(r), np.nan)})
            self._frames[lane] = f
        return f

    def __iter__(self):
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __repr__(self) -> str:
        return f"LaneProfiles(lanes={list(self._arrays)})"


@dataclass
class BlotResult:
    """Everything :func:`~blotquant.blot.quantify_blot` measured.

    Attributes
    ----------
    lanes : pandas.DataFrame
        One row per lane (:data:`LANE_COLUMNS`); ``geometry`` is the centre
        line as JSON text ``[[row, col], ...]``.
    bands : pandas.DataFrame
        One row per band (:data:`BAND_COLUMNS`); volumes in raw image units
        (signal above background), ``flags`` a ``;``-separated text.
    lane_geometry : list of Lane
        The lanes used (detected or given); feed back as ``lane_geometry``.
    profiles : LaneProfiles (a mapping of int to DataFrame)
        Lane number (unique across strips, see :class:`Lane`) ->
        DataFrame(position, signal, background): the lane
        profile (sum across the lane width per image row, signal units)
        and the background subtracted under it (NaN where none was).
    background : numpy.ndarray or None
        2-D background image actually subtracted (rolling ball), else None.
    params : dict
        Every parameter used (recorded for provenance), and recorded outputs
        (:data:`~blotquant.blot.params.RECORDED_KEYS`) such as ``tilt_deg`` and
        ``pieces_found``: on a figure page the membrane pieces analysed, a list
        of ``{piece, top, bottom, left, right, strips}`` (rows ``top..bottom``,
        columns ``left..right-1``), else None; ``strip_source``: per strip, the
        evidence that made it (``"membrane"``: its own band rows, parted from
        the others by their lanes or a membrane seam; ``"group lines"``: a group
        of lanes side by side with others on one membrane, parted by printed
        brackets or group lines, :mod:`blotquant.blot.groups`; ``"lane gaps"``:
        a group given by its count (``lanes=(5, 5)``) that wide gaps between
        the lanes part; ``"given"``: lanes given, or a group given by its
        count and parted by the order of the lanes), and ``group_lines``: those lines, ``[row0, col0, row1,
        col1]`` each.
    metadata : ImageMetadata
        Metadata of the analysed image.
    signal : numpy.ndarray
        The analysed signal image (float32, bands bright, raw units).
    saturated_mask : numpy.ndarray
        Boolean image: pixels at the saturation level.
    tilt_deg : float
        Estimated lane tilt (degrees; positive = lanes lean to the right going down).
    rows : list of str
        Band row names, top to bottom.
    """

    lanes: pd.DataFrame
    bands: pd.DataFrame
    lane_geometry: list
    profiles: Mapping
    background: Any
    params: dict
    metadata: Any
    signal: Any = None
    saturated_mask: Any = None
    tilt_deg: float = 0.0
    rows: list = field(default_factory=list)

    def band_boxes(self) -> pd.DataFrame:
        """The band boxes (lane, row, top, bottom, left, right) for re-quantification.

        Returns
        -------
        DataFrame
            Columns ``strip, lane, row, top, bottom, left, right`` of
            :attr:`bands` (a copy), accepted as ``band_boxes`` by
            :func:`~blotquant.blot.quantify_blot`.
        """
        cols = ["strip", "lane", "row", "top", "bottom", "left", "right"]
        return self.bands[cols].copy()

    def input_params(self) -> dict:
        """The keyword parameters of this run, minus ``rows`` and recorded outputs.

        This is what a review sidecar stores as ``params`` to re-run it.

        Returns
        -------
        dict
            :attr:`params` without ``rows`` and the recorded outputs of the run
            (:data:`~blotquant.blot.params.RECORDED_KEYS`).
        """
        from .params import RECORDED_KEYS  # noqa: PLC0415 (params imports the engine modules)
        outputs = {"rows", *RECORDED_KEYS}
        return {k: v for k, v in self.params.items() if k not in outputs}

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (f"BlotResult({len(self.lanes)} lanes, {len(self.bands)} bands, "
                f"rows={self.rows}, background={self.params.get('background')!r})")


def geometry_json(lane: Lane) -> str:
    """Centre line as compact JSON text.

    Parameters
    ----------
    lane : Lane
        The lane.

    Returns
    -------
    str
        ``[[row,col],...]`` rounded to 2 decimals, no spaces.

    Examples
    --------
    >>> geometry_json(Lane(1, [[0, 10], [99, 12.345]], 20))
    '[[0.0,10.0],[99.0,12.35]]'
    """
    return json.dumps(np.round(lane.centerline, 2).tolist(), separators=(",", ":"))
