"""Sidecar files: where they live, atomic write, validated read.

``<image stem>.blotquant.json`` is looked for in the output folder first,
then beside the image.

Examples
--------
>>> sidecar_path("/data/blot 1.tif", "/out").as_posix()
'/out/blot 1.blotquant.json'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CorrectionsError
from .fingerprint import check_image
from .schema import Corrections

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..image import Image

__all__ = ["SIDECAR_SUFFIX", "sidecar_path", "find_sidecar", "load_corrections",
           "save_corrections"]

SIDECAR_SUFFIX = ".blotquant.json"


def sidecar_path(image_name: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """``<out_dir>/<image stem>.blotquant.json``.

    Parameters
    ----------
    image_name : path-like
        The image file (or its name).
    out_dir : path-like

    Returns
    -------
    Path
    """
    return Path(out_dir) / (Path(image_name).stem + SIDECAR_SUFFIX)


def find_sidecar(image_path: str | os.PathLike,
                 out_dir: str | os.PathLike | None = None) -> Path | None:
    """The sidecar for ``image_path``: in ``out_dir`` first, then beside the image.

    Parameters
    ----------
    image_path : path-like
    out_dir : path-like, optional

    Returns
    -------
    Path or None
        None when there is none.
    """
    candidates = [] if out_dir is None else [sidecar_path(image_path, out_dir)]
    candidates.append(sidecar_path(image_path, Path(image_path).parent))
    for c in candidates:
        if c.is_file():
            return c
    return None


def load_corrections(path: str | os.PathLike, *, image: Image | ArrayLike | None = None,
                     image_path: str | os.PathLike | None = None,
                     kind: str | None = None) -> Corrections:
    """Read and validate a sidecar (any readable version); verify it fits ``image``.

    Parameters
    ----------
    path : path-like
        The sidecar.
    image : Image or array-like, optional
        Level 0 of the image it should belong to.
    image_path : path-like, optional
        The image file (for file-hashed whole slides).
    kind : {"blot", "ihc"}, optional
        Refuse corrections of the other kind.

    Returns
    -------
    Corrections
        At the current schema version.

    Raises
    ------
    CorrectionsError
        Unreadable/invalid JSON, unknown version, bad fields, wrong kind, or
        (with ``image``) a shape/hash mismatch.
    """
    from ..tables import read_json

    d = read_json(path, what="the corrections sidecar", error=CorrectionsError)
    corr = Corrections.from_dict(d, path=path)
    if kind is not None and corr.kind != kind:
        raise CorrectionsError(f"these are {corr.kind} corrections, not {kind} corrections",
                               path=path)
    if image is not None:
        check_image(corr, image, path=image_path)
    return corr


def save_corrections(corr: Corrections, path: str | os.PathLike) -> Path:
    """Validate and write the sidecar atomically (temp file + rename).

    Parameters
    ----------
    corr : Corrections
    path : path-like
        Must end in ``.json`` (the input image is never overwritten).

    Returns
    -------
    Path
    """
    from ..tables import write_json

    path = Path(path)
    if path.suffix.lower() != ".json":
        raise CorrectionsError("a corrections sidecar must be a .json file "
                               "(the input image is never modified)", path=path)
    return write_json(corr.to_dict(), path)
