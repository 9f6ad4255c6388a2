"""IHC (H-DAB) scoring: deconvolution, tissue, pixel and cell classes, scores.

Main entry points: :func:`score_ihc` and :func:`rescore`; building blocks in
:mod:`.deconvolution`, :mod:`.stains`, :mod:`.tissue`, :mod:`.pixels`,
:mod:`.scores`, :mod:`.regions` and :mod:`.cells`.

Examples
--------
>>> from blotquant.ihc import RUIFROK_HDAB
>>> RUIFROK_HDAB.shape
(3, 3)
"""

from .cells import CELL_MEASURES, CellDetection, classify_cells, detect_cells
from .deconvolution import (QUPATH_HDAB, RUIFROK_HDAB, as_stain_matrix, deconvolve,
                            optical_density, stain_maps, stain_matrix, vector_angle_deg,
                            weighted_od)
from .classify import CLASS_NAMES, classify_pixels, intensity_classes
from .params import DEFAULT_THRESHOLDS, CellParams, IHCParams
from .pixels import class_counts
from .regions import Region, read_geojson, rectangle, region_masks, regions_to_geojson, write_geojson
from .result import IHCResult
from .score import rescore, score_ihc
from .scores import allred, h_score, irs, percent_positive, summarize
from .stains import estimate_stains, estimate_white_point
from .tissue import tissue_mask

__all__ = [
    "score_ihc", "rescore", "IHCResult", "RUIFROK_HDAB", "QUPATH_HDAB", "weighted_od", "stain_matrix", "as_stain_matrix",
    "optical_density", "deconvolve", "stain_maps", "vector_angle_deg", "estimate_stains",
    "estimate_white_point", "tissue_mask", "classify_pixels", "class_counts", "CLASS_NAMES",
    "DEFAULT_THRESHOLDS", "h_score", "allred", "irs", "percent_positive", "summarize", "Region",
    "rectangle", "read_geojson", "write_geojson", "regions_to_geojson", "region_masks",
    "detect_cells", "classify_cells", "CellDetection", "CELL_MEASURES", "IHCParams",
    "CellParams", "intensity_classes",
]
