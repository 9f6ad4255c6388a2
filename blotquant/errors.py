"""One exception hierarchy for everything blotquant raises on purpose.

Every error that reaches a user names the file (when there is one) and the
problem in plain words, so callers can print ``str(err)`` and stop.

Examples
--------
>>> from blotquant.errors import ImageReadError
>>> str(ImageReadError("truncated TIFF strip", path="blot.tif"))
'blot.tif: truncated TIFF strip'
"""

from __future__ import annotations

import os

__all__ = [
    "BlotquantError",
    "ImageReadError",
    "UnsupportedImageError",
    "InvalidImageError",
    "ImageTooLargeError",
    "ParameterError",
    "AnalysisError",
    "StainEstimationError",
    "CorrectionsError",
    "OutputError",
]


class BlotquantError(Exception):
    """Base class of all blotquant errors.

    Parameters
    ----------
    message : str
        What went wrong, in words a bench scientist understands.
    path : str or os.PathLike, optional
        The file concerned; it is put in front of the message.

    Attributes
    ----------
    problem : str
        ``message``, without the path.
    path : str or None
        The file, as a string.
    """

    def __init__(self, message: str, *, path: str | os.PathLike | None = None):
        self.path = None if path is None else os.fspath(path)
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class ImageReadError(BlotquantError):
    """The file is missing, unreadable, truncated or corrupt."""


class UnsupportedImageError(BlotquantError):
    """The file is readable but its format or dimensionality is not supported."""


class InvalidImageError(BlotquantError):
    """The pixel data cannot be analysed (empty, 1 pixel, NaN/inf, ...)."""


class ImageTooLargeError(BlotquantError):
    """The image exceeds the configured pixel limit (decompression-bomb guard)."""


class ParameterError(BlotquantError, ValueError):
    """A parameter value is out of range or inconsistent with the image."""


class AnalysisError(BlotquantError):
    """An analysis step could not produce a result (e.g. no lanes found)."""


class StainEstimationError(AnalysisError):
    """Stain vectors could not be estimated (e.g. too few stained pixels)."""


class CorrectionsError(BlotquantError):
    """A review sidecar (corrections JSON) is invalid or does not fit the image."""


class OutputError(BlotquantError):
    """The output folder cannot be created or already holds results (use --overwrite)."""
