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

__all__ = ["LANE", "LADDER", "PIECE", "BAND", "SATURATED", "NOT_DETECTED", "REFERENCE",
           "IHC_CLASSES", "IHC_CLASS_NAMES", "IHC_CLASS_CODES", "COLOR_NAMES", "LEGEND_BLOT",
           "LEGEND_IHC", "LEGEND", "BACKGROUND_CURVE", "SIGNAL_CURVE", "ROW_COLORS",
           "INCLUDE_REGION", "EXCLUDE_REGION", "band_color", "lane_color", "rgb255", "rgb8",
           "rgb01", "rgba"]

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
#: Membrane pieces of a figure page (blue, drawn dotted): each analysed as a blot.
PIECE = "#0072B2"
#: The reference lane of a normalisation (reddish purple).
REFERENCE = "#CC79A7"

#: IHC DAB classes, QuPath's convention.
IHC_CLASSES = {"negative": "#466EE6", "1+": "#FADC28", "2+": "#F58C14", "3+": "#DC1E1E"}
IHC_CLASS_NAMES = tuple(IHC_CLASSES)
#: The same colours by class-map code (1 negative, 2 1+, 3 2+, 4 3+; 0 is unscored).
IHC_CLASS_CODES = {code: IHC_CLASSES[name] for code, name in enumerate(IHC_CLASS_NAMES, 1)}

#: Lane profile curves: the subtracted background and the signal.
BACKGROUND_CURVE = SATURATED
SIGNAL_CURVE = "#7F7F7F"
#: Band rows in profile plots, in row order (top to bottom).
ROW_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442")
#: IHC review regions: include and exclude polygons.
INCLUDE_REGION = "#F0E442"
EXCLUDE_REGION = "#CC79A7"

#: Plain-language names of the colours (for legends and captions).
COLOR_NAMES = {LANE: "sky blue", LADDER: "grey", BAND: "green", SATURATED: "red",
               NOT_DETECTED: "orange", REFERENCE: "purple", PIECE: "blue"}

LEGEND_BLOT = ("Blots: lanes sky blue (ladder lanes grey), band boxes green, "
               "saturated bands red (volume is a lower bound), bands not detected orange "
               "(dashed box: volume measured where the band should be), reference lane "
               "purple; on a figure page the membrane pieces blue (dotted).")
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


def rgb8(color: str) -> tuple[int, int, int]:
    """Same as :func:`rgb255`.

    Parameters
    ----------
    color : str

    Returns
    -------
    tuple of int
    """
    return rgb255(color)


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#RRGGBB"`` as (r, g, b, a) floats in 0-1 (napari layer colours).

    Parameters
    ----------
    color : str
    alpha : float

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> rgba("#FF0000", 0.5)
    (1.0, 0.0, 0.0, 0.5)
    """
    return (*rgb01(color), float(alpha))


def lane_color(is_ladder: bool) -> str:
    """Colour of a lane outline (ladder lanes grey).

    Parameters
    ----------
    is_ladder : bool

    Returns
    -------
    str
    """
    return LADDER if bool(is_ladder) else LANE


def band_color(saturated: bool, flags: str = "") -> str:
    """Colour of a band box: saturated (wins), not detected, or measured.

    Parameters
    ----------
    saturated : bool
    flags : str
        The band's ``flags`` (``not_detected`` ...).

    Returns
    -------
    str

    Examples
    --------
    >>> band_color(True, "not_detected") == SATURATED
    True
    >>> band_color(False, "not_detected") == NOT_DETECTED
    True
    """
    if bool(saturated):
        return SATURATED
    if "not_detected" in str(flags or ""):
        return NOT_DETECTED
    return BAND
