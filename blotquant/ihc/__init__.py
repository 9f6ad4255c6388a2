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

from .._shared.lazy import lazy_exports

_EXPORTS = {
    "CELL_MEASURES": "cells",
    "CellDetection": "cells",
    "classify_cells": "cells",
    "detect_cells": "cells",
    "QUPATH_HDAB": "deconvolution",
    "RUIFROK_HDAB": "deconvolution",
    "as_stain_matrix": "deconvolution",
    "deconvolve": "deconvolution",
    "optical_density": "deconvolution",
    "stain_maps": "deconvolution",
    "stain_matrix": "deconvolution",
    "vector_angle_deg": "deconvolution",
    "weighted_od": "deconvolution",
    "CLASS_NAMES": "classify",
    "classify_pixels": "classify",
    "intensity_classes": "classify",
    "DEFAULT_THRESHOLDS": "params",
    "CellParams": "params",
    "IHCParams": "params",
    "class_counts": "pixels",
    "Region": "regions",
    "read_geojson": "regions",
    "rectangle": "regions",
    "region_masks": "regions",
    "regions_to_geojson": "regions",
    "write_geojson": "regions",
    "IHCResult": "result",
    "rescore": "score",
    "score_ihc": "score",
    "allred": "scores",
    "h_score": "scores",
    "irs": "scores",
    "percent_positive": "scores",
    "summarize": "scores",
    "estimate_stains": "stains",
    "estimate_white_point": "stains",
    "tissue_mask": "tissue",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
