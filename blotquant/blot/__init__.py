"""Western-blot engine: lanes, bands, backgrounds, volumes and normalization.

Public API: :class:`BlotParams` (every parameter), :func:`quantify_blot` ->
:class:`BlotResult`, :func:`normalize`, :class:`Lane`, :func:`detect_lanes`;
``BACKGROUND_METHODS`` is the background registry.
"""

from .background import BACKGROUND_METHODS
from .lanes import detect_lanes
from .model import BlotResult, Lane
from .normalize import normalize
from .params import BlotParams
from .quantify import quantify_blot

__all__ = ["quantify_blot", "normalize", "BlotResult", "Lane", "detect_lanes", "BlotParams",
           "BACKGROUND_METHODS"]
