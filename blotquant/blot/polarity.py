"""Band polarity: dark bands on a light background, or light bands on dark.

The implementation lives in :mod:`blotquant.io._polarity` so that the image
readers can use it without importing the whole blot engine (scipy, ...);
this module is its public home.

Examples
--------
>>> import numpy as np
>>> img = np.full((60, 80), 200, np.uint16)
>>> img[20:30, 10:70] = 5000
>>> detect_polarity(img), detect_polarity(65535 - img)
('light-on-dark', 'dark-on-light')
"""

from __future__ import annotations

from ..image import POLARITIES
from ..io._polarity import detect_polarity

__all__ = ["detect_polarity", "POLARITIES"]
