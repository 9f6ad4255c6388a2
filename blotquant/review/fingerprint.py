"""Which image a review belongs to: pixel or file SHA-256, and the check on load.

Examples
--------
>>> import numpy as np
>>> fp = image_fingerprint(np.zeros((2, 3), np.uint8), image_name="a.png")
>>> fp["name"], fp["shape"], fp["sha256_of"]
('a.png', [2, 3], 'pixels')
>>> pixel_sha256(np.zeros((2, 2), np.uint8))[:12]
'df3f619804a9'
"""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..errors import CorrectionsError

if TYPE_CHECKING:
    from ..image import Image
    from .schema import Corrections

__all__ = ["pixel_sha256", "file_sha256", "image_fingerprint", "check_image"]


def _pixels(image) -> tuple[Any, str | None, tuple]:
    """(array-like level 0, path, shape) of an Image or array."""
    from ..image import Image

    if isinstance(image, Image):
        return image.data, image.metadata.path, tuple(image.shape)
    return image, None, tuple(np.shape(image))


def pixel_sha256(array: ArrayLike) -> str:
    """SHA-256 of the C-ordered little-endian pixel bytes of ``array``.

    Parameters
    ----------
    array : array_like
        The pixels (lazy arrays are read).

    Returns
    -------
    str
        64 hex digits.
    """
    a = np.asarray(array)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a).cast("B")).hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes (streamed).

    Parameters
    ----------
    path : path-like
    chunk : int
        Bytes read at a time.

    Returns
    -------
    str
        64 hex digits.

    Raises
    ------
    CorrectionsError
        The file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
    except OSError as err:
        raise CorrectionsError(f"cannot read the image to verify corrections: "
                               f"{err.strerror or err}", path=path) from None
    return h.hexdigest()


def image_fingerprint(image: Image | ArrayLike, *, image_name: str | None = None,
                      path: str | os.PathLike | None = None) -> dict:
    """The ``image`` block of a sidecar: name, sha256, sha256_of, shape.

    Parameters
    ----------
    image : Image or array-like
        In-memory pixels are hashed (``sha256_of="pixels"``); lazy
        whole-slide data with a known file is identified by the file's bytes
        (``"file"``).
    image_name : str, optional
        Default: the file name, else ``"image"``.
    path : path-like, optional
        The image file (default: ``image.metadata.path``).

    Returns
    -------
    dict
        ``name``, ``sha256``, ``sha256_of`` (``"pixels"`` or ``"file"``) and
        ``shape`` (level 0).
    """
    data, img_path, shape = _pixels(image)
    path = path if path is not None else img_path
    if not isinstance(data, np.ndarray) and path is not None and os.path.isfile(path):
        sha, of = file_sha256(path), "file"
    else:
        sha, of = pixel_sha256(data), "pixels"
    if image_name is None:
        image_name = os.path.basename(os.fspath(path)) if path else "image"
    return {"name": str(image_name), "sha256": sha, "sha256_of": of,
            "shape": [int(s) for s in shape]}


def check_image(corr: Corrections, image: Image | ArrayLike, *, path: str | os.PathLike | None = None) -> None:
    """Raise :class:`CorrectionsError` unless ``corr`` was made on ``image``.

    Parameters
    ----------
    corr : Corrections
        The corrections whose ``image`` block is checked.
    image : Image or array-like
        Level 0 of the image (the shape and hash are of level 0).
    path : path-like, optional
        The image file; needed for ``sha256_of == "file"`` when ``image`` is
        a bare array.

    Raises
    ------
    CorrectionsError
        Other shape, or other pixel/file content.
    """
    data, img_path, shape = _pixels(image)
    path = path if path is not None else img_path
    want = corr.image
    where = f"corrections for {want['name']!r}"
    if list(shape) != list(want["shape"]):
        raise CorrectionsError(
            f"{where} do not fit this image: the sidecar was made on an image of shape "
            f"{tuple(want['shape'])} but this image has shape {tuple(shape)}. "
            "Use the sidecar that belongs to this image, or re-review it.", path=path)
    if want.get("sha256_of", "pixels") == "file":
        if path is None or not os.path.isfile(path):
            raise CorrectionsError(
                f"{where} identify the image by its file hash; give the image file path "
                "to verify them.")
        got = file_sha256(path)
    else:
        got = pixel_sha256(data)
    if got != want["sha256"]:
        raise CorrectionsError(
            f"{where} do not fit this image: the pixel content differs (sha256 "
            f"{got[:12]}... != {want['sha256'][:12]}...). The image changed since the review "
            "or this is a different image with the same size; use the matching sidecar or "
            "re-review.", path=path)
