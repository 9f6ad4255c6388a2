"""Numbers a scientist reads at a glance (no Qt): thousands separators, sensible rounding.

The tables written to disk keep full precision; only the dock shows rounded
text.  Integers and large values get thousands separators (``12,901,234``,
never ``1.29e+07``); ratios and scores three significant digits; percentages
one decimal.

Examples
--------
>>> number_text(12901234.4)
'12,901,234'
>>> number_text(1234.5678)
'1,235'
>>> number_text(0.012345)
'0.0123'
>>> number_text(1.0)
'1'
>>> number_text(float("nan")), number_text(None)
('', '')
>>> number_text(37.25, percent=True)
'37.2%'
>>> number_text(True), number_text("ASNS")
('yes', 'ASNS')
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["number_text", "is_number"]


def is_number(v) -> bool:
    """True for ints and floats (numpy too), not for booleans."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


def number_text(v, *, digits: int = 3, percent: bool = False) -> str:
    """Display text of one table cell.

    Parameters
    ----------
    v : object
        A number, a boolean, a string or a missing value.
    digits : int
        Significant digits of values below 1000.
    percent : bool
        Show as a percentage with one decimal.

    Returns
    -------
    str
    """
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if not is_number(v):
        s = str(v)
        return "" if s in ("nan", "None", "<NA>") else s
    x = float(v)
    if not math.isfinite(x):
        return "" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if percent:
        return f"{x:.1f}%"
    if isinstance(v, (int, np.integer)) or x.is_integer():
        return f"{int(round(x)):,}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:.0f}"
