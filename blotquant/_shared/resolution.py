"""Resolution tags that say nothing about pixels: the one list, used by the readers and IHC.

Imaging and office software writes a default resolution when it knows no
physical pixel size: screen resolutions (72, 96, 144 dpi), print resolutions
(150, 300 dpi), the "1 dpi = no unit" of some writers, and a few other round
values.  A file declaring one of them (in dots per inch, per cm or per metre)
has an unknown pixel size.  Flatbed-scanner settings from 600 dpi up are real
resolutions and are kept.

Examples
--------
>>> is_software_default_resolution((352.7778, 352.7778))   # 72 dpi
True
>>> is_software_default_resolution((0.2527, 0.2527))       # a 40x scanner
False
"""

from __future__ import annotations

import numpy as np

__all__ = ["SOFTWARE_DEFAULT_DPI", "is_software_default_resolution"]

#: Default resolutions (dots per inch) written by software that knows no pixel size.
SOFTWARE_DEFAULT_DPI = (1, 72, 96, 100, 120, 144, 150, 180, 200, 240, 300, 360, 400)


def is_software_default_resolution(pixel_size_um, rel_tol: float = 5e-3) -> bool:
    """True when a (row, col) pixel size in um is one of :data:`SOFTWARE_DEFAULT_DPI`.

    Parameters
    ----------
    pixel_size_um : float or (row, col) or None
    rel_tol : float
        Relative tolerance of the match to ``25400 / dpi`` um (rounding of
        pixels per cm or per metre).

    Returns
    -------
    bool
    """
    if pixel_size_um is None:
        return False
    v = np.atleast_1d(np.asarray(pixel_size_um, float)).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
        return False
    dpi = 25400.0 / v
    ref = np.asarray(SOFTWARE_DEFAULT_DPI, float)
    return bool(np.all(np.min(np.abs(dpi[:, None] / ref[None] - 1), axis=1) <= rel_tol))
