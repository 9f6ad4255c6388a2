"""Synthetic images with exact ground truth (for tests, benchmarks and demos).

Examples
--------
>>> from blotquant.synthetic import make_blot
>>> make_blot(0, shape=(100, 160), n_lanes=3).image.shape
(100, 160)
"""

from .blot import BlotTruth, SyntheticBlot, make_blot, make_dilution_series
from .cells import CellTruth, SyntheticCellImage, make_cell_image
from .figure import SyntheticFigure, make_figure
from .ihc import IHCTruth, SyntheticIHC, make_ihc, perturb_stains

__all__ = [
    "make_blot", "make_dilution_series", "SyntheticBlot", "BlotTruth",
    "make_figure", "SyntheticFigure",
    "make_ihc", "perturb_stains", "SyntheticIHC", "IHCTruth",
    "make_cell_image", "SyntheticCellImage", "CellTruth",
]
