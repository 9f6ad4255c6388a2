"""One colour code for lanes, bands and IHC classes: the docks, the QC figures, the report.

A reviewer who has learnt the colours in the napari dock reads the same
colours in ``qc.png`` and the HTML report.  Colours are hex strings
(``"#rrggbb"``) for matplotlib, Qt and napari; :func:`rgba` and
:func:`rgb8` convert them.  The IHC class colours follow the usual brown
scale reading (negative blue, 1+ yellow, 2+ orange, 3+ red).

Examples
--------
>>> BAND, SATURATED
('#39ff14', '#ff1a1a')
>>> band_color(saturated=True, flags="not_detected")  # saturation wins
'#ff1a1a'
>>> band_color(saturated=False, flags="not_detected")
'#ff9f1a'
>>> rgb8(IHC_CLASSES[1])
(70, 110, 230)
>>> rgba("#ff0000", 0.5)
(1.0, 0.0, 0.0, 0.5)
"""

from __future__ import annotations

__all__ = ["LANE", "LADDER", "BAND", "SATURATED", "NOT_DETECTED", "BACKGROUND_CURVE",
           "SIGNAL_CURVE", "IHC_CLASSES", "IHC_CLASS_NAMES", "INCLUDE_REGION",
           "EXCLUDE_REGION", "ROW_COLORS", "band_color", "lane_color", "rgba", "rgb8"]

#: Lane outlines and numbers.
LANE = "#00e5ff"
#: Ladder (molecular-weight marker) lanes.
LADDER = "#ff4dff"
#: A measured band.
BAND = "#39ff14"
#: A band with saturated pixels: its volume is a lower bound.
SATURATED = "#ff1a1a"
#: A band expected in its row but not found (measured where the row lies).
NOT_DETECTED = "#ff9f1a"
#: Lane profile curves: the subtracted background and the signal.
BACKGROUND_CURVE = "#d62728"
SIGNAL_CURVE = "#7f7f7f"
#: Band rows in profile plots, in row order (top to bottom).
ROW_COLORS = ("#4c9be8", "#ffb000", "#5ad15a", "#b48cf2", "#e8a87c", "#f27ec2")

#: IHC class code (class map value) -> colour: 1 negative, 2 1+, 3 2+, 4 3+.
IHC_CLASSES = {1: "#466ee6", 2: "#fadc28", 3: "#f58c14", 4: "#dc1e1e"}
IHC_CLASS_NAMES = {1: "negative", 2: "1+", 3: "2+", 4: "3+"}
#: IHC review regions.
INCLUDE_REGION = "#ffd400"
EXCLUDE_REGION = "#ff3df5"


def lane_color(is_ladder: bool) -> str:
    """Colour of a lane outline (ladder lanes stand out)."""
    return LADDER if is_ladder else LANE


def band_color(saturated: bool, flags: str = "") -> str:
    """Colour of a band box: saturated, not detected or measured."""
    if bool(saturated):
        return SATURATED
    if "not_detected" in str(flags or ""):
        return NOT_DETECTED
    return BAND


def rgb8(color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)`` in 0..255."""
    c = color.lstrip("#")
    return tuple(int(c[i:i + 2], 16) for i in (0, 2, 4))


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#rrggbb"`` -> ``(r, g, b, a)`` in 0..1."""
    r, g, b = rgb8(color)
    return (r / 255.0, g / 255.0, b / 255.0, float(alpha))
