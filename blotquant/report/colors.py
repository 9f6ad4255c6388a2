"""The one colour code of blotquant's figures, report and napari layers.

Every picture that shows lanes, bands or IHC classes takes its colours from
here, so a colour means the same thing in the QC figure, the HTML report and
the napari viewer.  The blot colours are from the Okabe-Ito palette (told apart
with the common colour-vision deficiencies) and chosen to show on both a white
(dark-on-light) and a black (light-on-dark) blot; the IHC classes follow
QuPath's convention (negative blue, 1+ yellow, 2+ orange, 3+ red).

Examples
--------
>>> LANE, BAND, SATURATED
('#56B4E9', '#009E73', '#D55E00')
>>> rgb255(IHC_CLASSES["3+"])
(220, 30, 30)
>>> "saturated" in LEGEND_BLOT and "3+" in LEGEND_IHC
True
"""

from __future__ import annotations

__all__ = ["LANE", "LADDER", "BAND", "SATURATED", "NOT_DETECTED", "REFERENCE",
           "IHC_CLASSES", "IHC_CLASS_NAMES", "COLOR_NAMES", "LEGEND_BLOT", "LEGEND_IHC",
           "LEGEND", "rgb255", "rgb01"]

#: Lane centre lines / outlines (sky blue).
LANE = "#56B4E9"
#: Ladder (marker) lanes: not quantified, drawn grey.
LADDER = "#999999"
#: Band boxes of quantified, unsaturated bands (bluish green).
BAND = "#009E73"
#: Bands with clipped pixels (vermillion): their volume is a lower bound.
SATURATED = "#D55E00"
#: Band boxes placed where no band was found (orange, drawn dashed).
NOT_DETECTED = "#E69F00"
#: The reference lane of a normalisation (reddish purple).
REFERENCE = "#CC79A7"

#: IHC DAB classes, QuPath's convention.
IHC_CLASSES = {"negative": "#466EE6", "1+": "#FADC28", "2+": "#F58C14", "3+": "#DC1E1E"}
IHC_CLASS_NAMES = tuple(IHC_CLASSES)

#: Plain-language names of the colours (for legends and captions).
COLOR_NAMES = {LANE: "sky blue", LADDER: "grey", BAND: "green", SATURATED: "red",
               NOT_DETECTED: "orange", REFERENCE: "purple"}

LEGEND_BLOT = ("Blots: lanes sky blue (ladder lanes grey), band boxes green, "
               "saturated bands red (volume is a lower bound), bands not detected orange "
               "(dashed box: volume measured where the band should be), reference lane "
               "purple.")
LEGEND_IHC = "IHC: DAB classes negative blue, 1+ yellow, 2+ orange, 3+ red; unscored pixels " \
             "keep the image colour."
LEGEND = LEGEND_BLOT + " " + LEGEND_IHC


def rgb255(color: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` as an (r, g, b) tuple of 0-255 integers.

    Parameters
    ----------
    color : str
        Hex colour, with or without the leading ``#``.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> rgb255("#56B4E9")
    (86, 180, 233)
    """
    h = color.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"not a #RRGGBB colour: {color!r}")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def rgb01(color: str) -> tuple[float, float, float]:
    """``"#RRGGBB"`` as an (r, g, b) tuple of floats in 0-1 (matplotlib, napari).

    Parameters
    ----------
    color : str
        Hex colour.

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> rgb01("#FF0000")
    (1.0, 0.0, 0.0)
    """
    return tuple(v / 255.0 for v in rgb255(color))
