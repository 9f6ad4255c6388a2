"""blotquant: western blot and IHC quantification you can check and review.

Public API (imported lazily so ``import blotquant`` stays fast):

- :func:`read_image` -- any supported blot/IHC/slide file -> :class:`Image`
- :func:`quantify_blot` -- blot image -> :class:`~blotquant.blot.BlotResult`
- :func:`normalize` -- bands -> per-lane target/control ratios
- :func:`score_ihc` -- RGB image -> :class:`~blotquant.ihc.IHCResult`
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import BlotquantError
from .image import Image, ImageMetadata

_LAZY = {
    "read_image": "blotquant.io",
    "quantify_blot": "blotquant.blot",
    "normalize": "blotquant.blot",
    "BlotResult": "blotquant.blot",
    "score_ihc": "blotquant.ihc",
    "IHCResult": "blotquant.ihc",
    "synthetic": "blotquant.synthetic",
}

__all__ = ["__version__", "BlotquantError", "Image", "ImageMetadata", *_LAZY]


_SUBPACKAGES = ("io", "blot", "ihc", "synthetic", "stats", "batch", "review", "report")


def __getattr__(name: str):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if name == "synthetic" else getattr(module, name)
    raise AttributeError(f"module 'blotquant' has no attribute {name!r}")
