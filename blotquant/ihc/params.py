"""``IHCParams`` (and its nested ``CellParams``): every IHC parameter, default and check, once.

``score_ihc``, ``score_slide``, the ``blotquant ihc`` options, the batch sheet
columns and the napari IHC dock all build an :class:`IHCParams`; ``to_dict()``
is what the outputs record, ``hash`` their ``params_hash``.

Examples
--------
>>> p = IHCParams(thresholds="0.15,0.3,0.5", mode="pixel")
>>> p.thresholds, p.mode, p.cell.cell_expansion_um
((0.15, 0.3, 0.5), 'pixel', 5.0)
>>> IHCParams(thresholds=(0.4, 0.2, 0.6))
Traceback (most recent call last):
...
blotquant.errors.ParameterError: thresholds: must be strictly increasing, got (0.4, 0.2, 0.6)
"""

from __future__ import annotations

import argparse
import re
import types
from dataclasses import dataclass
from typing import Any, Collection

import numpy as np

from .chroma import CHROMA_MODES
from .._shared.params import (Params, boolean, choice, fraction, names, nonneg_float, nonneg_int,
                              number_tuple, optional, param, positive_float)

__all__ = ["IHCParams", "CellParams", "MODES", "MARKERS", "COMPARTMENTS", "MEASURES",
           "DETECTION_IMAGES", "AUTO_THRESHOLD", "AUTO_SPLIT_CONTRAST",
           "AUTO_RESCUE_RADIUS_UM", "AUTO_SPLIT_DAB_OD", "AUTO_SEED_DETECTOR", "SEED_DETECTORS",
           "AUTO_DOWNSAMPLE_IN", "DOWNSAMPLE_SPACES",
           "DEFAULT_THRESHOLDS", "MAGNIFICATION_UM_PER_PX", "RECORDED_KEYS"]

MODES = ("cell", "pixel")
#: ``nuclear`` markers (Ki67, ER, PR, p53) or ``cytoplasmic`` ones (ASNS).
MARKERS = ("cytoplasmic", "nuclear")
COMPARTMENTS = ("nucleus", "cytoplasm", "cell")
#: Images nuclei can be detected on (``CellParams.detection_image``).
DETECTION_IMAGES = ("hematoxylin", "od_sum")
#: ``threshold=None``: QuPath's 0.1 on hematoxylin; 0.05 on the OD sum, whose nuclear
#: markers show pale negative nuclei (0.05-0.15 OD) beside dark positive ones.
AUTO_THRESHOLD = {"hematoxylin": 0.1, "od_sum": 0.05}
#: ``split_contrast=None``: intensity split on the OD sum (a dark positive nucleus touching
#: a pale negative one has no neck but a deep intensity step), shape split only on hematoxylin.
AUTO_SPLIT_CONTRAST = {"hematoxylin": 0.0, "od_sum": 0.15}
#: ``rescue_radius_um=None``: a second pass for pale nuclei left as the shoulder of a dark one
#: (OD sum); off on hematoxylin (JPEG-blocky gaps between stained cells would qualify).
AUTO_RESCUE_RADIUS_UM = {"hematoxylin": 0.0, "od_sum": 1.5}
#: ``split_dab_od=None``: on the OD sum, two touching pieces that both carry DAB (mean OD
#: >= 0.15, below QuPath's 1+ threshold) are one granular positive nucleus for the
#: intensity split (the shape split still separates two positive nuclei at a neck).
AUTO_SPLIT_DAB_OD = {"hematoxylin": 0.0, "od_sum": 0.15}
#: How touching nuclei get one seed each (``CellParams.seed_detector``).
SEED_DETECTORS = ("maxima", "blob")
#: ``seed_detector=None``: blob seeds on the OD sum (pale nuclei beside dark ones, unevenly
#: stained nuclei), intensity maxima + shape split on hematoxylin (as QuPath).
AUTO_SEED_DETECTOR = {"hematoxylin": "maxima", "od_sum": "blob"}
#: What a scan finer than the detection grid is averaged in (``CellParams.downsample_in``).
DOWNSAMPLE_SPACES = ("light", "od")
#: ``downsample_in=None``: the OD sum of a fine scan is downsampled in transmitted light
#: (what a coarser scan records), hematoxylin in optical density (as before).
AUTO_DOWNSAMPLE_IN = {"hematoxylin": "od", "od_sum": "light"}
MEASURES = ("mean", "max")
#: QuPath's default DAB OD thresholds for 1+, 2+, 3+.
DEFAULT_THRESHOLDS = (0.2, 0.4, 0.6)
#: Region classifications that exclude (QuPath names; ``*`` matches any suffix).
DEFAULT_EXCLUDE_CLASSES = ("Necrosis", "Fold", "Pigment", "Exclude", "Ignore*", "Artefact",
                           "Artifact")
#: Nominal pixel size of common scanners at an objective magnification (um/px):
#: 40x ~0.25, 20x ~0.5, 10x ~1.0 (Aperio, Hamamatsu, Leica, 3DHistech).
MAGNIFICATION_UM_PER_PX = {10.0: 1.0, 20.0: 0.5, 40.0: 0.25, 60.0: 1 / 6}
#: Keys of a result's ``params`` that describe a run (derived), not inputs.
RECORDED_KEYS = ("stain_source", "white_point_source", "white_point_note", "region_names",
                 "regions_sha256", "chroma_subsampling", "chroma_restored", "input_conversion",
                 "od_convention", "stain_estimate", "cell_detection", "pixel_size_source",
                 "params_hash", "version", "compartment_used", "tissue_source", "stain_matrix",
                 "white_point_used", "pixel_size_used", "thresholds_used", "pixel_size_note",
                 "pixel_size_estimate", "detection_image", "marker_check", "stain_fit",
                 "stain_note")


def _magnification(value):
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[xX]?\s*", value)
        if not m:
            raise ValueError(f"must be like 20x or 40x, got {value!r}")
        value = float(m.group(1))
    v = positive_float(value)
    if not 1 <= v <= 150:
        raise ValueError(f"must be an objective magnification between 1x and 150x, got {value!r}")
    return v


def _pixel_size(value):
    items = value if isinstance(value, (list, tuple, np.ndarray)) else \
        (str(value).split(",") if isinstance(value, str) else (value,))
    t = tuple(positive_float(v) for v in items)
    if len(t) == 1:
        t = (t[0], t[0])
    if len(t) != 2:
        raise ValueError(f"must be one size or (row, col) in um/px, got {value!r}")
    if not all(0.01 <= v <= 100 for v in t):
        raise ValueError(f"{value!r} um/px is not a microscope pixel size (0.01-100 um/px)")
    return t


def _white_point(value):
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    items = value if isinstance(value, (list, tuple, np.ndarray)) else \
        (str(value).split(",") if isinstance(value, str) else (value,))
    try:
        t = tuple(positive_float(v) for v in items)
    except ValueError:
        t = ()
    if len(t) not in (1, 3):
        raise ValueError(f"the white point (glass RGB) must be auto, one value or r,g,b, "
                         f"e.g. 240,238,242; got {value!r}")
    return t[0] if len(t) == 1 else t


def _stains(value):
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("default", "qupath", "estimate"):
            return v
        raise ValueError(f"must be default, qupath, estimate or a 2x3/3x3 matrix, got {value!r}")
    if value is None:
        return "default"
    a = np.asarray(value, dtype=float)
    if a.shape not in ((2, 3), (3, 3)) or not np.all(np.isfinite(a)):
        raise ValueError(f"a stain matrix must be 2x3 or 3x3 finite numbers, got shape {a.shape}")
    return tuple(tuple(float(x) for x in row) for row in a)


def _mapping(value):
    if value is None:
        return types.MappingProxyType({})
    if not hasattr(value, "items"):
        raise ValueError(f"must be a mapping of keyword arguments, got {value!r}")
    return types.MappingProxyType({str(k): v for k, v in dict(value).items()})


def _thresholds(value):
    # a threshold at or below 0 calls every pixel positive: never a DAB OD cut-off
    return number_tuple((1, 3), increasing=True, positive=True)(value)


def _percent(value):
    v = nonneg_float(value)
    if v > 100:
        raise ValueError(f"must be a percentage between 0 and 100, got {value!r}")
    return v


@dataclass(frozen=True)
class CellParams(Params):
    """Cell detection (:func:`~blotquant.ihc.cells.detect_cells`), QuPath-like; lengths in um."""

    domain = "cell detection"

    requested_pixel_size_um: float = param(0.5, "pixel size detection runs at",
                                           check=positive_float, unit="um", cli=False)
    assumed_pixel_size_um: float = param(0.5, "pixel size assumed when nothing else tells",
                                         check=positive_float, unit="um", cli=False)
    background_radius_um: float = param(8.0, "nucleus background radius",
                                        check=nonneg_float, unit="um", cli=False)
    sigma_um: float = param(1.5, "nucleus smoothing sigma", check=nonneg_float, unit="um",
                            cli=False)
    threshold: object = param(None, "nucleus OD threshold (none: 0.1 on hematoxylin, 0.05 on "
                              "the OD sum, where pale negative nuclei sit beside dark positive "
                              "ones)", check=optional(nonneg_float), cli=False)
    min_nucleus_area_um2: float = param(10.0, "smallest nucleus", check=nonneg_float,
                                        unit="um2", cli=False)
    max_nucleus_area_um2: float = param(400.0, "largest nucleus", check=positive_float,
                                        unit="um2", cli=False)
    split_by_shape: bool = param(True, "split touching nuclei by shape", check=boolean,
                                 cli=False)
    split_tolerance_um: float = param(0.25, "watershed split tolerance", check=nonneg_float,
                                      unit="um", cli=False)
    boundary_sigma_um: float = param(0.5, "outline smoothing", check=nonneg_float, unit="um",
                                     cli=False)
    opening_radius_um: float = param(1.0, "opening radius", check=nonneg_float, unit="um",
                                     cli=False)
    relative_threshold: float = param(0.5, "local outline threshold (fraction of the peak)",
                                      check=fraction, cli=False)
    peak_radius_um: float = param(6.0, "local-peak radius", check=nonneg_float, unit="um",
                                  cli=False)
    dab_hole_radius_um: float = param(4.0, "DAB-hole cue radius", check=nonneg_float, unit="um",
                                      cli=False)
    dab_hole_weight: float = param(0.5, "DAB-hole cue weight", check=nonneg_float, cli=False)
    dab_hole_floor: float = param(0.07, "DAB-hole cue floor", check=nonneg_float, cli=False)
    cell_expansion_um: float = param(5.0, "cytoplasm: nucleus expansion", check=nonneg_float,
                                     unit="um")
    detection_image: object = param(None, "image nuclei are detected on: hematoxylin, od_sum "
                                    "(QuPath's optical density sum; finds DAB-positive nuclei) "
                                    "or none (from the marker: od_sum for nuclear markers)",
                                    check=optional(choice(*DETECTION_IMAGES)), cli=False)
    split_contrast: object = param(None, "split touching nuclei whose intensity dips by this "
                                   "fraction of the paler one's peak (0 = shape split only; "
                                   "none: 0.15 on the OD sum, 0 on hematoxylin)",
                                   check=optional(fraction), cli=False)
    seed_sigma_um: float = param(1.0, "scale of the blob response that seeds one nucleus each "
                                 "for the intensity split (0 = maxima of the smoothed OD)",
                                 check=nonneg_float, unit="um", cli=False)
    estimate_pixel_size: bool = param(True, "estimate the pixel size from the nucleus size "
                                      "when the file has none (false: assumed_pixel_size_um)",
                                      check=boolean, cli=False)
    rescue_radius_um: object = param(None, "second pass: foreground no nucleus took that is at "
                                     "least twice this wide becomes a nucleus (0 = off; none: "
                                     "1.5 on the OD sum, 0 on hematoxylin)",
                                     check=optional(nonneg_float), unit="um", cli=False)
    split_dab_od: object = param(None, "intensity split: two pieces whose mean DAB OD both "
                                 "reach this stay one nucleus (0 = off; none: 0.15 on the OD "
                                 "sum, 0 on hematoxylin)", check=optional(nonneg_float),
                                 cli=False)
    nucleus_radius_um: float = param(3.3, "typical nucleus equivalent radius the pixel-size "
                                     "estimate assumes (nuclei 5-10 um across)",
                                     check=positive_float, unit="um", cli=False)
    seed_detector: object = param(None, "how touching nuclei get one seed each: maxima (local "
                                  "intensity maxima, merged by split_contrast) or blob (maxima "
                                  "of a scale-normalised blob response at nucleus radii from "
                                  "seed_radius_min to 1 x nucleus_radius_um); none: blob on the "
                                  "OD sum, maxima on hematoxylin",
                                  check=optional(choice(*SEED_DETECTORS)), cli=False)
    seed_radius_min: float = param(0.6, "blob seeds: smallest blob radius, as a fraction of "
                                   "nucleus_radius_um (radii up to 1 x, steps of at most 1.3x)",
                                   check=fraction, cli=False)
    seed_floor: float = param(0.3, "blob seeds: weakest blob response that seeds a nucleus, as "
                              "a fraction of the nucleus threshold", check=nonneg_float,
                              cli=False)
    downsample_in: object = param(None, "a scan finer than requested_pixel_size_um is "
                                  "downsampled for detection by averaging transmitted light "
                                  "(light: what a coarser scan records) or optical density "
                                  "(od); none: light for the OD sum, od for hematoxylin",
                                  check=optional(choice(*DOWNSAMPLE_SPACES)), cli=False)
    merge_peak_ratio: float = param(0.7, "blob seeds: two touching pieces with no neck between "
                                    "them are one nucleus when the paler peak is at least this "
                                    "fraction of the darker (1 = never merge)", check=fraction,
                                    cli=False)

    def _check_together(self):
        from ..errors import ParameterError
        if self.min_nucleus_area_um2 >= self.max_nucleus_area_um2:
            raise ParameterError("min_nucleus_area_um2 must be below max_nucleus_area_um2")


def _cell(value):
    if isinstance(value, CellParams):
        return value
    if value is None:
        return CellParams()
    if hasattr(value, "items"):
        return CellParams.from_mapping(dict(value))
    raise ValueError(f"must be CellParams or a dict, got {value!r}")


@dataclass(frozen=True)
class IHCParams(Params):
    """Parameters of :func:`~blotquant.ihc.score_ihc` (and slide scoring).

    Attributes
    ----------
    mode : str
        ``cell`` (detect cells, classify each) or ``pixel`` (classify tissue pixels).
    marker : str
        ``cytoplasmic`` (ASNS: cytoplasm DAB, H-score) or ``nuclear`` (Ki67, ER,
        PR, p53: nucleus DAB, % positive and Allred).
    thresholds : tuple of float
        DAB OD thresholds for 1+, 2+, 3+ (or one: positive/negative).
    compartment : str or None
        Cell compartment that is scored; None: from ``marker``.
    measure : str
        ``mean`` or ``max`` DAB OD of the compartment.
    stains, white_point, chroma
        Stain matrix (``default``, ``estimate`` or a matrix), glass RGB
        (``auto``, a value or r,g,b), JPEG chroma handling.
    pixel_size_um, magnification
        Override the file's pixel size; ``magnification`` (20x, 40x) sets it
        from the nominal scanner pixel size and, on a slide, chooses the level.
    tissue, tissue_threshold, min_tissue_px, max_hole_px
        Tissue detection.
    exclude_classes, min_positive_pct
        Region classes that exclude; Allred's smallest counted percentage.
    stain_estimation : mapping
        Keyword arguments of :func:`~blotquant.ihc.stains.estimate_stains`.
    level : int or None
        Slide pyramid level scored (None: from ``magnification``, else level 0).
    cell : CellParams
        Cell detection.
    """

    domain = "ihc"

    mode: str = param("cell", "scoring mode", check=choice(*MODES))
    marker: str = param("cytoplasmic", "marker compartment: cytoplasmic (ASNS) or nuclear "
                        "(Ki67, ER, PR, p53)", check=choice(*MARKERS))
    thresholds: tuple = param(DEFAULT_THRESHOLDS, "DAB OD thresholds for 1+,2+,3+ "
                              "(or one: positive)", check=_thresholds, metavar="T1,T2,T3")
    compartment: object = param(None, "scored cell compartment (default: cytoplasm for "
                                "cytoplasmic markers, nucleus for nuclear ones)",
                                check=optional(choice(*COMPARTMENTS)))
    measure: str = param("mean", "compartment DAB OD measure", check=choice(*MEASURES))
    stains: object = param("default", "stain vectors: default (Ruifrok-Johnston H-DAB), "
                           "qupath (QuPath's H-DAB defaults) or estimate (from this image)", check=_stains)
    white_point: object = param("auto", "glass RGB (I0): auto, a value or r,g,b",
                                check=_white_point, metavar="auto|V|R,G,B")
    chroma: str = param("auto", "JPEG chroma: auto (detect 4:2:0 and restore in pixel mode), "
                        "off, 4:2:0", check=choice(*CHROMA_MODES))
    pixel_size_um: object = param(None, "pixel size, overriding the file", check=optional(_pixel_size),
                                  unit="um/px", metavar="UM")
    magnification: object = param(None, "objective magnification of the scored pixels "
                                  "(20x = 0.5 um/px, 40x = 0.25 um/px); on a slide, the level",
                                  check=optional(_magnification), metavar="20x|40x")
    tissue: bool = param(True, "detect tissue (false: score every pixel)", check=boolean)
    tissue_threshold: float = param(0.06, "tissue OD threshold", check=nonneg_float)
    min_tissue_px: int = param(256, "smallest tissue piece", check=nonneg_int, unit="px")
    max_hole_px: int = param(64, "tissue holes up to this size are filled", check=nonneg_int,
                             unit="px")
    exclude_classes: tuple = param(DEFAULT_EXCLUDE_CLASSES, "region classes that exclude",
                                   check=names, metavar="NAMES")
    min_positive_pct: float = param(0.0, "Allred: % positive below this scores 0",
                                    check=_percent, unit="%")
    stain_estimation: object = param(None, "keyword arguments of estimate_stains",
                                     check=_mapping, cli=False)
    level: object = param(None, "slide pyramid level to score (default: from "
                          "--magnification, else level 0)", check=optional(nonneg_int))
    cell: object = param(None, "cell detection parameters", check=_cell, cli=False)

    def compartment_used(self) -> str:
        """The compartment cell mode scores (``compartment``, else from ``marker``).

        Returns
        -------
        str
            ``compartment`` when it is set, else ``"nucleus"`` for a nuclear
            marker and ``"cytoplasm"`` otherwise.
        """
        if self.compartment is not None:
            return self.compartment
        return "nucleus" if self.marker == "nuclear" else "cytoplasm"

    def magnification_pixel_size(self) -> tuple[float, float] | None:
        """Nominal (row, col) um/px of ``magnification``, or None.

        Returns
        -------
        tuple of float or None
            The tabulated pixel size of the objective (10 um/px divided by the
            magnification for one not in the table); None without
            ``magnification``.
        """
        if self.magnification is None:
            return None
        um = 10.0 / self.magnification if self.magnification not in MAGNIFICATION_UM_PER_PX \
            else MAGNIFICATION_UM_PER_PX[self.magnification]
        return (um, um)

    def to_dict(self) -> dict[str, Any]:
        """Every parameter as plain JSON types (see :meth:`Params.to_dict`).

        Returns
        -------
        dict
            Every parameter keyed by name; ``stain_estimation`` as a plain
            dict and ``cell`` as the dict of its :class:`CellParams`.
        """
        d = super().to_dict()
        d["stain_estimation"] = dict(self.stain_estimation)
        return d

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, *,
                      exclude: Collection[str] = ()) -> None:
        """Add one ``--option`` per CLI parameter, those of :class:`CellParams` included.

        Parameters
        ----------
        parser : argparse.ArgumentParser
            The parser (see :meth:`Params.add_arguments`).
        exclude : collection of str, optional
            Names of parameters not to add.
        """
        super().add_arguments(parser, exclude=exclude)
        CellParams.add_arguments(parser, exclude=exclude)

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace, base: IHCParams | None = None,
                       **overrides: Any) -> IHCParams:
        """A model from the options the user gave, cell options included.

        Parameters
        ----------
        ns : argparse.Namespace
            Parsed arguments of a parser set up by :meth:`add_arguments`.
        base : IHCParams, optional
            Model whose values (its ``cell`` included) apply to the options
            not given (default: the defaults).
        **overrides : Any
            Values that take precedence over the options (a ``cell`` given
            here replaces the one built from the options).

        Returns
        -------
        IHCParams
            The validated model.

        Raises
        ------
        ParameterError
            If a value fails its check.
        """
        cell_base = base.cell if base is not None else CellParams()
        cell = CellParams.from_namespace(ns, base=cell_base)
        overrides.setdefault("cell", cell)
        return super().from_namespace(ns, base=base, **overrides)
