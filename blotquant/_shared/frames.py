"""Whole edge lines of an image peeled inward (export frames, padding).

One loop serves the blot engine (clipped frame lines of a light-on-dark blot) and
the reader's polarity decision (a flat white or black export frame).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["peel_edge_lines"]


def peel_edge_lines(a: np.ndarray, is_frame: Callable[[np.ndarray], bool],
                    keep: int = 0) -> tuple[int, int, int, int]:
    """Bounds ``(r0, r1, c0, c1)`` of ``a`` inside its frame lines.

    Top, bottom, left and right lines of what is left are peeled in turn, as
    long as ``is_frame(line)`` holds for a whole line and more than ``keep``
    rows and columns remain; ``a[r0:r1, c0:c1]`` is what is inside.

    Examples
    --------
    >>> m = np.zeros((5, 6), bool); m[0] = True; m[:, -1] = True
    >>> peel_edge_lines(m, np.all)
    (1, 5, 0, 5)
    """
    r0, r1, c0, c1 = 0, a.shape[0], 0, a.shape[1]
    changed = True
    while changed and r1 - r0 > keep and c1 - c0 > keep:
        changed = False
        if r0 < r1 and is_frame(a[r0, c0:c1]):
            r0, changed = r0 + 1, True
        if r0 < r1 and is_frame(a[r1 - 1, c0:c1]):
            r1, changed = r1 - 1, True
        if r0 < r1 and is_frame(a[r0:r1, c0]):
            c0, changed = c0 + 1, True
        if r0 < r1 and c0 < c1 and is_frame(a[r0:r1, c1 - 1]):
            c1, changed = c1 - 1, True
    return r0, r1, c0, c1
