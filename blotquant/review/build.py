"""Build review corrections from what a reviewer (or a result) settled on.

The parameters are stored as the model's ``to_dict()`` (every field of
``BlotParams`` / ``IHCParams``), so a sidecar says exactly how the reviewed
numbers were made, whatever the defaults of a later blotquant.

Examples
--------
>>> import numpy as np, pandas as pd
>>> img = np.zeros((40, 60), np.uint16)
>>> corr = blot_corrections(
...     img, image_name="blot.tif", author="ana", rows=["ACTB"],
...     lanes=[{"lane": 1, "centerline": [[0, 10], [39, 10]], "width": 8}],
...     bands=pd.DataFrame({"lane": [1], "row": ["ACTB"], "top": [15], "bottom": [22]}),
...     params={"background": "none"})
>>> corr.kind, corr.image["shape"], corr.blot["params"]["background"], corr.blot["params"]["rows"]
('blot', [40, 60], 'none', ['ACTB'])
>>> c = ihc_corrections(np.zeros((8, 8, 3), np.uint8), image_name="s.png",
...                     params={"thresholds": (0.1, 0.3, 0.5)})
>>> c.ihc["params"]["thresholds"], c.ihc["regions"]["features"], c.ihc["level"]
([0.1, 0.3, 0.5], [], 0)
"""

from __future__ import annotations

import copy
import getpass
import math
import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import CorrectionsError
from ..provenance import jsonable
from .fingerprint import image_fingerprint
from .schema import Corrections, params_model

if TYPE_CHECKING:
    from ..image import Image

__all__ = ["blot_corrections", "ihc_corrections", "level_for_downsample"]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _author(author: str | None) -> str:
    if author:
        return str(author)
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "unknown"


def _params(kind: str, params) -> dict:
    """``to_dict()`` of a model, or of the model built from a mapping of fields."""
    from .._shared.params import Params

    if isinstance(params, Params):
        return params.to_dict()
    return params_model(kind, dict(params or {})).to_dict()


def _lane_record(lane) -> dict:
    get = lane.get if isinstance(lane, Mapping) else (lambda k, d=None: getattr(lane, k, d))
    cl = np.asarray(get("centerline"), dtype=float).reshape(-1, 2)
    return {"lane": int(get("lane")), "strip": int(get("strip", 1) or 1),
            "centerline": [[float(r), float(c)] for r, c in cl],
            "width": float(get("width")), "is_ladder": bool(get("is_ladder", False)),
            "edited": bool(get("edited", False))}


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _band_records(bands) -> list[dict]:
    if bands is None:
        return []
    rows = bands.to_dict("records") if hasattr(bands, "to_dict") else list(bands)
    out = []
    for r in rows:
        strip = r.get("strip", 1)
        rec = {"strip": 1 if _missing(strip) else int(strip), "lane": int(r["lane"]),
               "row": str(r["row"]), "top": float(r["top"]), "bottom": float(r["bottom"])}
        # a box nobody changed (``edited`` False: the engine's own) follows its lane, as
        # when it was measured; its left/right in the table are only the lane's rectangle
        # at the band, and stored they would re-measure a tilted lane as a rectangle
        follows_lane = "edited" in r and not _missing(r["edited"]) and not bool(r["edited"])
        for k in ("left", "right"):
            v = r.get(k)
            rec[k] = None if follows_lane or _missing(v) else float(v)
        out.append(rec)
    return out


def blot_corrections(image: Image | ArrayLike, *, lanes: Iterable = (),
                     bands: Any = None, rows: Iterable[str] = (),
                     params: Any = None, image_name: str | None = None,
                     author: str | None = None, note: str = "",
                     path: str | os.PathLike | None = None,
                     fingerprint: Mapping | None = None) -> Corrections:
    """Build blot corrections for ``image``.

    Parameters
    ----------
    image : Image or ndarray
        The image the review was made on (for its fingerprint).
    lanes : iterable of Lane or dict
        Lane geometry (``lane``, ``centerline`` (N, 2) row/col, ``width``,
        ``is_ladder``, ``strip``, ``edited``), e.g. ``BlotResult.lane_geometry``.
    bands : DataFrame or iterable of dict, optional
        Band boxes: lane, row, top, bottom[, strip, left, right, edited].  A
        band whose ``edited`` is False (the engine's box, e.g. a result's
        ``bands`` table) is stored without left/right: it follows its lane when
        the review is applied, as it did when measured.
    rows : iterable of str
        Row (protein) names in order; they become ``params.rows``.
    params : BlotParams or mapping, optional
        The analysis parameters (a mapping holds ``BlotParams`` fields; the
        recorded outputs of a result's ``params`` are dropped).
    image_name, author, note : str, optional
    path : path-like, optional
        The image file (used for the name and for hashing lazy data).
    fingerprint : dict, optional
        A precomputed :func:`~blotquant.review.fingerprint.image_fingerprint`.

    Returns
    -------
    Corrections
        The validated blot corrections.

    Raises
    ------
    CorrectionsError
        Invalid lanes, bands or parameters.
    """
    rows = [str(r) for r in rows]
    p = _params("blot", params)
    if rows:
        p["rows"] = rows
        p = params_model("blot", p).to_dict()
    body = {"lanes": [_lane_record(x) for x in lanes], "bands": _band_records(bands),
            "rows": rows, "params": p}
    if fingerprint is None:
        fingerprint = image_fingerprint(image, image_name=image_name, path=path)
    corr = Corrections(kind="blot", image=dict(fingerprint), author=_author(author),
                       created=_now(), blot=jsonable(body), note=note)
    corr.to_dict()  # validate now, not when saving
    return corr


def level_for_downsample(shapes: Sequence[tuple[int, ...]], downsample: float) -> int:
    """The pyramid level whose downsample (level-0 rows / level rows) is ``downsample``.

    Parameters
    ----------
    shapes : sequence of tuple
        Shapes of the levels, finest first.
    downsample : float
        Level-0 rows / level rows wanted.

    Returns
    -------
    int
        Index of the level in ``shapes``.

    Raises
    ------
    CorrectionsError
        No level has that downsample.

    Examples
    --------
    >>> level_for_downsample([(400, 600, 3), (200, 300, 3), (100, 150, 3)], 2.0)
    1
    """
    rows0 = float(shapes[0][0])
    for i, s in enumerate(shapes):
        if math.isclose(rows0 / float(s[0]), float(downsample), rel_tol=1e-6):
            return i
    have = ", ".join(f"{rows0 / float(s[0]):g}" for s in shapes)
    raise CorrectionsError(f"the review scored a level downsampled {downsample:g}x, but this "
                           f"image has levels downsampled {have}x; use the reviewed file")


def ihc_corrections(image: Image | ArrayLike, *, regions: Any = None, params: Any = None,
                    downsample: float = 1.0,
                    level: int | None = None, image_name: str | None = None,
                    author: str | None = None, note: str = "",
                    path: str | os.PathLike | None = None,
                    fingerprint: Mapping | None = None) -> Corrections:
    """Build IHC corrections for ``image``.

    Parameters
    ----------
    image : Image or RGB array
        Level 0 of the reviewed image (an :class:`~blotquant.image.Image` with
        its pyramid ``levels`` lets the level be found from ``downsample``).
    regions : list of Region, or a GeoJSON FeatureCollection dict, optional
        Include/exclude regions in full-resolution (level-0) pixel coordinates.
    params : IHCParams or mapping, optional
        The analysis parameters (``IHCParams`` fields).
    downsample : float
        Level-0 size / scored size (1 = scored at full resolution).
    level : int, optional
        The pyramid level scored; default: found from ``downsample``
        (0 when it is 1), else left to be found when the review is applied.
    image_name, author, note, path, fingerprint
        As for :func:`blot_corrections`.

    Returns
    -------
    Corrections
    """
    if regions is None:
        fc = {"type": "FeatureCollection", "features": []}
    elif isinstance(regions, Mapping):
        fc = copy.deepcopy(dict(regions))
    else:
        from ..ihc.regions import regions_to_geojson

        fc = regions_to_geojson(list(regions))
    if level is None:
        levels = getattr(image, "levels", ())
        if float(downsample) == 1.0:
            level = 0
        elif len(levels) > 1:
            level = level_for_downsample([tuple(np.shape(lv)) for lv in levels], downsample)
    body = {"regions": jsonable(fc), "downsample": float(downsample),
            "level": None if level is None else int(level), "params": _params("ihc", params)}
    if fingerprint is None:
        fingerprint = image_fingerprint(image, image_name=image_name, path=path)
    corr = Corrections(kind="ihc", image=dict(fingerprint), author=_author(author),
                       created=_now(), ihc=jsonable(body), note=note)
    corr.to_dict()
    return corr
