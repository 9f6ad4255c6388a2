"""Image changes shared by the invariance benchmarks (blots and IHC fields)."""

from __future__ import annotations

import cv2
import numpy as np


def resample(a: np.ndarray, f: float) -> np.ndarray:
    """``a`` scaled by ``f``: OpenCV area averaging down, bilinear up (as a camera or
    scanner of another sampling would see it)."""
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(a, None, fx=f, fy=f, interpolation=interp)
