"""``BlotParams``: every parameter of the blot engine, its default and its check, once.

The CLI options (``blotquant blot --radius``), the batch sample-sheet columns,
the napari Blot dock and the Python API (``quantify_blot(img, radius=30)``) all
build a :class:`BlotParams`; nothing else holds a default.  ``to_dict()`` is
what the outputs record and ``hash`` is their ``params_hash``.

Examples
--------
>>> p = BlotParams(rows="ASNS,ACTB", lanes="10,9")
>>> p.rows, p.lanes, p.background, p.radius
(('ASNS', 'ACTB'), (10, 9), 'lane-fit', 50.0)
>>> BlotParams(background="lanefit")
Traceback (most recent call last):
...
blotquant.errors.ParameterError: background: must be one of lane-fit, lane-minima, rolling-ball, border, none; got 'lanefit'
"""

from __future__ import annotations

from dataclasses import dataclass

from .._shared.params import (Params, boolean, choice, counts, names,
                              open_fraction,
                              optional, param, positive_float, positive_int, fraction)
from ..provenance import params_hash
from .background import BACKGROUND_METHODS

__all__ = ["BlotParams", "POLARITY_CHOICES", "RECORDED_KEYS"]

#: ``polarity`` values: detect, or say which way the bands are.
POLARITY_CHOICES = ("auto", "dark-on-light", "light-on-dark")

#: ``pieces`` values: find membrane pieces on a figure page, or never.
PIECES_CHOICES = ("auto", "off")

#: Keys a result's ``params`` records that are outputs of a run, not inputs; a
#: sidecar or ``params.json`` handed back drops them.
RECORDED_KEYS = ("polarity_used", "saturation_level", "saturation_source", "background_model",
                 "tilt_deg", "row_slope_deg", "pieces_found", "strip_source", "group_lines",
                 "lane_geometry_given", "band_boxes_given",
                 "n_lanes_found", "elapsed_s", "params_hash", "version")


def _finite(value):
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        v = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number (a pixel value), got {value!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"must be a finite number, got {value!r}")
    return v


def _pixel_level(value):
    """A clip level: a finite pixel value >= 0 (detectors and scanners write no negatives)."""
    v = _finite(value)
    if v < 0:
        raise ValueError(f"must be a pixel value >= 0, got {value!r}")
    return v


def _angle(limit):
    """Check: a finite angle in [0, limit] degrees."""
    def check(value):
        v = _finite(value)
        if not 0 <= v <= limit:
            raise ValueError(f"must be an angle in [0, {limit:g}] degrees, got {value!r}")
        return v
    return check


def _positive_angle(limit):
    """Check: a finite angle in (0, limit] degrees."""
    def check(value):
        v = _finite(value)
        if not 0 < v <= limit:
            raise ValueError(f"must be an angle in (0, {limit:g}] degrees, got {value!r}")
        return v
    return check


def _one_name(value):
    """Exactly one row name (``"A,B"`` is two names: an error, not the first of them)."""
    got = names(value)
    if len(got) != 1:
        raise ValueError(f"must be one row name, got {len(got)} ({', '.join(got)})")
    return got[0]


def _ladder(value):
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return boolean(value)
    except ValueError:
        raise ValueError(f"must be auto, true or false, got {value!r}") from None


@dataclass(frozen=True)
class BlotParams(Params):
    """Parameters of :func:`~blotquant.blot.quantify_blot` and :func:`~blotquant.blot.normalize`.

    Attributes
    ----------
    lanes : int, tuple of int or None
        Lanes per strip: one count for every strip, one count per strip
        (``(10, 9)``), one count per group of lanes side by side in a single
        strip (``(4, 3, 4)``: replicate groups on one film, parted into one
        strip each), or None to find them.
    rows : tuple of str or None
        Names of the band rows, top to bottom; None names them ``row1, row2, ...``.
    background : str
        Background method (``blotquant.blot.background.BACKGROUND_METHODS``).
    radius : float
        Rolling-ball radius in px (``background="rolling-ball"``).
    sensitivity : float
        Band and lane detection sensitivity in (0, 1]; higher finds fainter bands.
    polarity : str
        ``auto``, ``dark-on-light`` or ``light-on-dark``.
    max_tilt_deg, lane_width, tail, flank, min_row_lanes, min_row_strength, border_width, ladder
        Detection details; see each field's help.
    pieces : str
        ``auto`` (default): an image that is a figure page (a flat, noise-free
        background of one level) holding two or more membrane pieces is
        analysed piece by piece (:mod:`blotquant.blot.panels`); ``off``: the
        image is always one membrane.
    merge_doublets : bool
        False (default): a close doublet is split at its valley into two bands
        (two rows).  True: bands of one lane that touch are one band.
    target, control, reference_lane
        Normalization: the target row, the loading-control row and the lane
        whose ratio is 1.0.
    clip_level : float or None
        Saturation level given by the user (None: automatic, see
        :mod:`blotquant.blot.saturation`).
    register, max_shift, max_rotation_deg
        Pairing of a control image with the target image
        (:func:`blotquant.blot.normalize.pair_blots`).
    """

    domain = "blot"

    lanes: object = param(None, "lanes per strip, one count, one per strip (10,9) or one per "
                          "side-by-side group of one strip (4,3,4)",
                          check=optional(counts), metavar="N[,N...]", group="lanes")
    rows: object = param(None, "band row names, top to bottom (e.g. ASNS,ACTB)",
                         check=optional(names, none_words=("none", "auto")), metavar="NAMES",
                         group="bands")
    background: str = param("lane-fit", "background method",
                            check=choice(*BACKGROUND_METHODS), group="background")
    radius: float = param(50.0, "rolling-ball radius", check=positive_float, unit="px",
                          group="background")
    sensitivity: float = param(0.5, "band and lane detection sensitivity in (0, 1]",
                               check=open_fraction, group="bands")
    polarity: str = param("auto", "band polarity", check=choice(*POLARITY_CHOICES))
    max_tilt_deg: float = param(5.0, "largest lane tilt searched", check=_positive_angle(45.0),
                                unit="deg", group="lanes")
    lane_width: object = param(None, "lane width; default: from the lane spacing",
                               check=optional(positive_float), unit="px", group="lanes")
    tail: float = param(3.0, "band limits, in half-widths at half maximum from the peak",
                        check=positive_float, group="bands")
    flank: object = param(None, "lane-fit: a straight line on this many samples per side; "
                          "default: a quadratic on up to 2 band extents per side",
                          check=optional(positive_int), unit="px", group="background")
    min_row_lanes: float = param(0.5, "a row must be found in this fraction of the lanes",
                                 check=fraction, group="bands")
    min_row_strength: float = param(0.1, "rows weaker than this fraction of their strip's "
                                    "strongest row are dropped", check=fraction,
                                    group="bands")
    border_width: int = param(3, "ring width of the 'border' background", check=positive_int,
                              unit="px", group="background")
    ladder: object = param("auto", "ladder lane detection: auto, true or false", check=_ladder,
                           group="lanes")
    merge_doublets: bool = param(False, "count bands of one lane that touch (a doublet split "
                                 "at its valley) as one band, for a merged row",
                                 check=boolean, group="bands")
    pieces: str = param("auto", "figure pages: find the membrane pieces (framed or unframed "
                        "blot panels on a flat white or grey page) and analyse each as a "
                        "blot (auto), or treat the image as one membrane (off)",
                        check=choice(*PIECES_CHOICES), group="lanes")
    # normalization (blotquant.blot.normalize)
    target: object = param(None, "target row for ratios (default: the first row)",
                           check=optional(_one_name), group="normalize")
    control: object = param(None, "loading-control row (default: the last row, or the "
                            "control image's first row)",
                            check=optional(_one_name), group="normalize")
    reference_lane: int = param(1, "lane whose ratio is 1.0", check=positive_int,
                                group="normalize")
    # saturation (blotquant.blot.saturation)
    clip_level: object = param(None, "pixel value at which bands clip (light bands: at or "
                               "above it, dark bands: at or below it); default: from the "
                               "file, the dtype and flat-topped plateaus in the data",
                               check=optional(_pixel_level), metavar="VALUE", group="saturation")
    # pairing of a target and a loading-control image (blotquant.blot.normalize)
    register: bool = param(True, "register the control image to the target image (shift and "
                           "small rotation) before pairing lanes", check=boolean,
                           group="normalize")
    max_shift: object = param(None, "largest registration shift searched; default: a quarter "
                              "of the image", check=optional(positive_float), unit="px",
                              group="normalize")
    max_rotation_deg: float = param(3.0, "largest registration rotation searched",
                                    check=_angle(45.0), unit="deg", group="normalize")

    #: parameters of band finding and measuring (what quantify_blot uses).
    QUANTIFY_KEYS = ("lanes", "rows", "background", "radius", "sensitivity", "polarity",
                     "max_tilt_deg", "lane_width", "tail", "flank", "min_row_lanes",
                     "min_row_strength", "border_width", "ladder", "clip_level", "merge_doublets",
                     "pieces")

    @property
    def quantify_hash(self) -> str:
        """``params_hash`` of the quantification: :meth:`quantify_dict` only.

        Bands and lanes do not depend on the normalization choices (``target``,
        ``control``, ``reference_lane``, registration), so their tables carry
        this hash whatever edge ran them and whatever was normalized after.
        """
        return params_hash(self.quantify_dict())

    def quantify_dict(self) -> dict:
        """The parameters that :func:`~blotquant.blot.quantify_blot` uses.

        Returns
        -------
        dict
            The entries of :meth:`to_dict` named in :attr:`QUANTIFY_KEYS`.
        """
        d = self.to_dict()
        return {k: d[k] for k in self.QUANTIFY_KEYS}
