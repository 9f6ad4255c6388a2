"""Review sidecar -> the parameter model plus the geometry the core takes.

One path from a sidecar to the engines, used by the CLI, batch and the
plugin alike, so every edge re-quantifies a reviewed image to exactly the
reviewed numbers:

* blot: ``quantify_blot(image, **BlotReview.kwargs())`` -- the ``BlotParams``
  plus the reviewed ``lane_geometry`` and ``band_boxes``;
* IHC: ``IHCReview`` holds the ``IHCParams``, the regions in level-0 pixels
  and the pyramid ``level`` / ``downsample`` the review scored.
  :meth:`IHCReview.prepare` returns that level of an image (pixel size scaled)
  and the regions in its pixels -- what the plugin scored -- while a
  full-resolution slide scorer can take ``params``, ``regions`` and ``level``
  as they are.

Examples
--------
>>> import numpy as np
>>> from blotquant.review.build import ihc_corrections
>>> corr = ihc_corrections(np.zeros((8, 8, 3), np.uint8), params={"mode": "pixel"})
>>> rv = review_from(corr)
>>> rv.params.mode, rv.level, rv.downsample, rv.regions
('pixel', 0, 1.0, None)
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import CorrectionsError
from .build import level_for_downsample
from .files import load_corrections
from .schema import BAND_FIELDS, Corrections, params_model

if TYPE_CHECKING:
    from ..image import Image

__all__ = ["BlotReview", "IHCReview", "review_from", "apply_sidecar", "blot_kwargs",
           "ihc_kwargs"]


@dataclass
class BlotReview:
    """A blot review, ready for :func:`~blotquant.blot.quantify_blot`.

    Attributes
    ----------
    params : BlotParams
    lane_geometry : list of Lane or None
        Reviewed lanes (None: none reviewed, lanes are detected).
    band_boxes : DataFrame or None
        strip, lane, row, top, bottom, left, right (None: bands are detected).
    source : str or None
        The sidecar file.
    """

    params: Any
    lane_geometry: list | None = None
    band_boxes: Any = None
    source: str | None = None

    def kwargs(self) -> dict:
        """``params`` plus the reviewed geometry, as keyword arguments of ``quantify_blot``.

        Returns
        -------
        dict
            ``params`` and, when reviewed, ``lane_geometry`` and ``band_boxes``.
        """
        kw = {"params": self.params}
        if self.lane_geometry is not None:
            kw["lane_geometry"] = self.lane_geometry
        if self.band_boxes is not None:
            kw["band_boxes"] = self.band_boxes
        return kw


@dataclass
class IHCReview:
    """An IHC review: parameters, level-0 regions and the level that was scored.

    Attributes
    ----------
    params : IHCParams
    regions : list of Region or None
        Include/exclude regions in level-0 (full-resolution) pixels.
    downsample : float
        Level-0 size / scored size of the review (1 = full resolution).
    level : int or None
        The pyramid level scored (None: found from ``downsample`` by
        :meth:`level_of`).
    source : str or None
        The sidecar file.
    """

    params: Any
    regions: list | None = None
    downsample: float = 1.0
    level: int | None = 0
    source: str | None = None

    def regions_at(self, downsample: float | None = None) -> list | None:
        """The regions in the pixels of an image ``downsample`` times smaller than level 0.

        Parameters
        ----------
        downsample : float, optional
            Default: the review's own.

        Returns
        -------
        list of Region or None
        """
        if not self.regions:
            return None
        ds = self.downsample if downsample is None else float(downsample)
        if ds == 1.0:
            return list(self.regions)
        return [replace(r, polygon=np.asarray(r.polygon, dtype=float) / ds)
                for r in self.regions]

    def kwargs(self, downsample: float | None = 1.0) -> dict:
        """Keyword arguments of ``score_ihc`` for an image ``downsample`` x smaller than level 0.

        Parameters
        ----------
        downsample : float or None
            1 (default): regions in level-0 pixels; None: the review's downsample.

        Returns
        -------
        dict
            ``params`` and, when there are regions, ``regions``.
        """
        kw = {"params": self.params}
        regions = self.regions_at(downsample)
        if regions:
            kw["regions"] = regions
        return kw

    def level_of(self, image: Image | ArrayLike) -> int:
        """The level of ``image`` (an :class:`~blotquant.image.Image`) the review scored.

        When the review recorded no level, the level is found from its
        downsample.

        Parameters
        ----------
        image : Image or array_like
            The whole image as read; an array counts as a single level.

        Returns
        -------
        int
            The pyramid level (0 = full resolution).

        Raises
        ------
        CorrectionsError
            The image has no such level.
        """
        levels = list(getattr(image, "levels", ()) or (getattr(image, "data", image),))
        shapes = [tuple(np.shape(lv)) for lv in levels]
        if self.level is None:
            return level_for_downsample(shapes, self.downsample)
        if self.level >= len(shapes):
            raise CorrectionsError(f"the review scored pyramid level {self.level}, but this "
                                   f"image has {len(shapes)} level(s); use the reviewed file",
                                   path=self.source)
        if self.level != level_for_downsample(shapes, self.downsample):
            raise CorrectionsError(f"pyramid level {self.level} of this image is not "
                                   f"downsampled {self.downsample:g}x as in the review",
                                   path=self.source)
        return self.level

    def prepare(self, image: Image | ArrayLike) -> tuple[Any, dict]:
        """The image the review scored and the ``score_ihc`` keyword arguments for it.

        Parameters
        ----------
        image : Image or array
            The whole image as read (an :class:`~blotquant.image.Image` with
            its pyramid levels for a whole slide).

        Returns
        -------
        scored : Image or array
            ``image`` itself at level 0; else that level read into memory, its
            pixel size scaled by the downsample (as the plugin scores it).
        kwargs : dict
            ``params`` and the regions in the scored image's pixels.
        """
        from ..image import Image

        level = self.level_of(image)
        if level == 0:
            return image, self.kwargs(1.0)
        lv = image.levels[level]
        data = np.asarray(lv)
        md = image.metadata
        ds = float(image.levels[0].shape[0]) / float(lv.shape[0])
        changes = {"shape": tuple(data.shape)}
        if md.pixel_size_um is not None:
            changes["pixel_size_um"] = tuple(p * ds for p in md.pixel_size_um)
        return Image(data, md.replace(**changes)), self.kwargs(ds)


def _lanes(b: dict):
    from ..blot.model import Lane

    return [Lane(lane=int(x["lane"]), centerline=np.asarray(x["centerline"], dtype=float),
                 width=float(x["width"]), is_ladder=bool(x.get("is_ladder", False)),
                 strip=int(x.get("strip", 1)), edited=bool(x.get("edited", False)))
            for x in b["lanes"]]


def _boxes(b: dict):
    import pandas as pd

    df = pd.DataFrame(b["bands"], columns=list(BAND_FIELDS))
    df["strip"] = df["strip"].fillna(1).astype(int)
    df["lane"] = df["lane"].astype(int)
    for k in ("top", "bottom", "left", "right"):
        df[k] = df[k].astype(float)
    return df


def review_from(corr: Corrections, *,
                source: str | os.PathLike | None = None) -> BlotReview | IHCReview:
    """The :class:`BlotReview` or :class:`IHCReview` of loaded corrections.

    Parameters
    ----------
    corr : Corrections
        Validated corrections (see :func:`~blotquant.review.files.load_corrections`).
    source : path-like, optional
        The sidecar file (named in errors).

    Returns
    -------
    BlotReview or IHCReview
        The review of the corrections' kind.

    Raises
    ------
    CorrectionsError
        If the recorded parameters are unknown or out of range.
    """
    src = None if source is None else os.fspath(source)
    if corr.kind == "blot":
        b = corr.blot
        params = params_model("blot", b["params"], path=src)
        if b["rows"] and params.rows is None:
            params = params.replace(rows=tuple(b["rows"]))
        return BlotReview(params=params, lane_geometry=_lanes(b) if b["lanes"] else None,
                          band_boxes=_boxes(b) if b["bands"] else None, source=src)
    s = corr.ihc
    params = params_model("ihc", s["params"], path=src)
    regions = None
    if s["regions"]["features"]:
        from ..ihc.regions import read_geojson

        regions = read_geojson(copy.deepcopy(s["regions"]))
    return IHCReview(params=params, regions=regions, downsample=float(s.get("downsample", 1.0)),
                     level=s.get("level"), source=src)


def apply_sidecar(path: str | os.PathLike, *, image: Image | ArrayLike, kind: str,
                  image_path: str | os.PathLike | None = None) -> BlotReview | IHCReview:
    """Load the sidecar at ``path``, check it fits ``image``, return its review.

    Parameters
    ----------
    path : path-like
        The sidecar.
    image : Image or array
        Level 0 of the image (checked by shape and SHA-256).
    kind : {"blot", "ihc"}
        The kind of corrections expected.
    image_path : path-like, optional
        The image file (for file-hashed whole slides).

    Returns
    -------
    BlotReview or IHCReview
        The review of the sidecar.

    Raises
    ------
    CorrectionsError
        Invalid sidecar, other kind, or another image.
    """
    corr = load_corrections(path, image=image, image_path=image_path, kind=kind)
    return review_from(corr, source=path)


def _kind(corr: Corrections, kind: str) -> None:
    if corr.kind != kind:
        name = "IHC" if kind == "ihc" else kind
        raise CorrectionsError(f"these are {corr.kind} corrections, not {name} corrections")


def blot_kwargs(corr: Corrections) -> dict:
    """Keyword arguments of :func:`~blotquant.blot.quantify_blot` from blot corrections.

    Parameters
    ----------
    corr : Corrections
        Blot corrections.

    Returns
    -------
    dict
        ``params`` (``BlotParams``) and, when reviewed, ``lane_geometry``
        (list of Lane) and ``band_boxes`` (DataFrame).
    """
    _kind(corr, "blot")
    return review_from(corr).kwargs()


def ihc_kwargs(corr: Corrections, *, downsample: float | None = 1.0) -> dict:
    """Keyword arguments of :func:`~blotquant.ihc.score_ihc` from IHC corrections.

    Parameters
    ----------
    corr : Corrections
        IHC corrections.
    downsample : float or None
        Level-0 size / size of the image about to be scored (regions are
        stored in level-0 pixels); 1 (default): full resolution; None: the
        review's own downsample.

    Returns
    -------
    dict
        ``params`` (``IHCParams``) and, when there are regions, ``regions``.
    """
    _kind(corr, "ihc")
    return review_from(corr).kwargs(downsample)
