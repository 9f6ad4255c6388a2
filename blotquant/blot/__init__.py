"""Western-blot engine: lanes, bands, backgrounds, volumes and normalization.

Public API: :func:`quantify_blot` -> :class:`BlotResult`, :func:`normalize`,
:class:`Lane`, :func:`detect_lanes`.
"""

from .model import BlotResult, Lane
from .lanes import detect_lanes
from .quantify import BACKGROUNDS, quantify_blot
from .normalize import normalize

__all__ = ["quantify_blot", "normalize", "BlotResult", "Lane", "detect_lanes", "BACKGROUNDS"]
