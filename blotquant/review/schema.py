"""The review sidecar's versioned schema: the :class:`Corrections` model and validation.

A review in napari (or by hand) produces *corrections*: lane centre lines and
widths, band boxes, row names, IHC include/exclude regions, the pyramid level
a whole slide was scored at, and the analysis parameters the reviewer settled
on.  They are saved as ``<image stem>.blotquant.json`` beside the outputs; the
input image is never modified.

Schema (version 2, written by this blotquant)
---------------------------------------------
.. code-block:: text

    {
      "schema": "blotquant.corrections",
      "version": 2,
      "kind": "blot" | "ihc",
      "image": {"name": str, "sha256": str (64 hex), "sha256_of": "pixels" | "file",
                "shape": [int, ...]},
      "author": str, "created": str (ISO 8601 UTC), "blotquant_version": str,
      "note": str,                      # optional
      "blot": {                         # kind == "blot"
        "lanes": [{"lane": int >= 1, "strip": int >= 1, "centerline": [[row, col], ...],
                   "width": float > 0, "is_ladder": bool, "edited": bool}, ...],
        "bands": [{"strip": int, "lane": int, "row": str, "top": float, "bottom": float,
                   "left": float | null, "right": float | null}, ...],
        "rows": [str, ...],
        "params": {...}                 # BlotParams.to_dict(): every blot parameter
      },
      "ihc": {                          # kind == "ihc"
        "regions": {"type": "FeatureCollection", "features": [...]},  # level-0 pixels
        "downsample": float,            # level-0 size / scored size (1 = full resolution)
        "level": int | null,            # pyramid level scored (null: from downsample)
        "params": {...}                 # IHCParams.to_dict(): every IHC parameter
      }
    }

Version 1 sidecars (``params`` held only the keyword arguments the reviewer
changed, no ``level``) still load: :func:`upgrade` turns them into version 2
through the parameter models, so they re-quantify exactly as before.

``image.sha256`` is the SHA-256 of the C-ordered little-endian pixel bytes
(``sha256_of == "pixels"``) or, for whole-slide pyramids too large to hash
pixel by pixel, of the file's bytes (``"file"``); see
:mod:`blotquant.review.fingerprint`.

Examples
--------
>>> validate({"schema": "blotquant.corrections", "version": 99})
Traceback (most recent call last):
...
blotquant.errors.CorrectionsError: invalid corrections sidecar: unknown version 99 ...
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from .._version import __version__
from ..errors import CorrectionsError, ParameterError
from ..provenance import jsonable

if TYPE_CHECKING:
    from ..blot.params import BlotParams
    from ..ihc.params import IHCParams

__all__ = ["SCHEMA", "SCHEMA_VERSION", "READABLE_VERSIONS", "KINDS", "BAND_FIELDS",
           "Corrections", "validate", "upgrade"]

SCHEMA = "blotquant.corrections"
#: Version written by this blotquant.
SCHEMA_VERSION = 2
#: Versions this blotquant reads (older ones are upgraded on load).
READABLE_VERSIONS = (1, 2)
KINDS = ("blot", "ihc")
BAND_FIELDS = ("strip", "lane", "row", "top", "bottom", "left", "right")
_HASH_OF = ("pixels", "file")
_TOP_FIELDS = {"schema", "version", "kind", "image", "author", "created",
               "blotquant_version", "note", "blot", "ihc"}


@dataclass
class Corrections:
    """A reviewed set of corrections for one image (see the module docstring).

    Attributes
    ----------
    kind : {"blot", "ihc"}
    image : dict
        ``name``, ``sha256``, ``sha256_of`` and ``shape`` of the reviewed image.
    author, created : str
        Who made them and when (ISO 8601, UTC).
    blot, ihc : dict or None
        The section for ``kind`` (plain JSON types, current schema version).
    version : int
        Schema version of the document (always :data:`SCHEMA_VERSION` once loaded).
    note : str
        Free text.
    blotquant_version : str
        Version that wrote the review.
    upgraded_from : int or None
        The version of the file when it was older than :data:`SCHEMA_VERSION`.
    """

    kind: str
    image: dict
    author: str
    created: str
    blot: dict | None = None
    ihc: dict | None = None
    version: int = SCHEMA_VERSION
    note: str = ""
    blotquant_version: str = __version__
    upgraded_from: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """The JSON document (plain types, validated).

        Returns
        -------
        dict
        """
        d = {"schema": SCHEMA, "version": self.version, "kind": self.kind,
             "image": dict(self.image), "author": self.author, "created": self.created,
             "blotquant_version": self.blotquant_version}
        if self.note:
            d["note"] = self.note
        d[self.kind] = self.blot if self.kind == "blot" else self.ihc
        d = jsonable(d)
        validate(d)
        return d

    @classmethod
    def from_dict(cls, d: Mapping, *, path: str | os.PathLike | None = None) -> "Corrections":
        """Validate a document (any readable version) and build the current model.

        Parameters
        ----------
        d : mapping
            The parsed JSON document.
        path : path-like, optional
            The file it came from (named in errors).

        Returns
        -------
        Corrections

        Raises
        ------
        CorrectionsError
            The document does not follow the schema.
        """
        validate(d, path=path)
        old = d["version"]
        d = upgrade(copy.deepcopy(dict(d)), path=path)
        return cls(kind=d["kind"], image=d["image"], author=d["author"], created=d["created"],
                   blot=d.get("blot"), ihc=d.get("ihc"), version=d["version"],
                   note=d.get("note", ""), blotquant_version=d.get("blotquant_version", ""),
                   upgraded_from=old if old != SCHEMA_VERSION else None)


# --------------------------------------------------------------------------- params
def _models():
    from ..blot.params import RECORDED_KEYS as BLOT_RECORDED, BlotParams
    from ..ihc.params import RECORDED_KEYS as IHC_RECORDED, IHCParams

    return {"blot": (BlotParams, BLOT_RECORDED), "ihc": (IHCParams, IHC_RECORDED)}


def params_model(kind: str, params: Mapping, *,
                 path: str | os.PathLike | None = None) -> BlotParams | IHCParams:
    """The ``BlotParams`` / ``IHCParams`` of a sidecar's ``params`` section.

    Recorded outputs of a run (``RECORDED_KEYS``) are dropped; anything else
    unknown or out of range raises :class:`CorrectionsError` naming the file.

    Parameters
    ----------
    kind : {"blot", "ihc"}
        Which model to build.
    params : Mapping
        The ``params`` section, keyed by parameter name.
    path : path-like, optional
        The sidecar file, named in errors.

    Returns
    -------
    BlotParams or IHCParams
        The validated model.

    Raises
    ------
    CorrectionsError
        If a parameter is unknown or out of range.
    """
    cls, recorded = _models()[kind]
    try:
        return cls.from_mapping(dict(params), ignore=recorded)
    except ParameterError as err:
        _fail(f"'{kind}.params': {err.problem}", path)


def upgrade(d: dict, *, path: str | os.PathLike | None = None) -> dict:
    """A validated document of any readable version as the current version.

    Version 1 -> 2: ``params`` (only the changed keyword arguments) becomes the
    full model's ``to_dict()`` (blot ``rows`` included), and IHC gains
    ``level: null`` (the level is found from ``downsample`` when applied).

    Parameters
    ----------
    d : dict
        A document that passed :func:`validate`.
    path : path-like, optional
        Named in errors.

    Returns
    -------
    dict
        The same document at :data:`SCHEMA_VERSION` (``d`` is changed in place).
    """
    if d["version"] == 1:
        sec = d[d["kind"]]
        params = dict(sec["params"])
        if d["kind"] == "blot" and sec["rows"]:
            params["rows"] = list(sec["rows"])
        sec["params"] = params_model(d["kind"], params, path=path).to_dict()
        if d["kind"] == "ihc":
            sec["level"] = None
        d["version"] = 2
    return d


# --------------------------------------------------------------------------- validation
def _fail(msg: str, path) -> None:
    raise CorrectionsError(f"invalid corrections sidecar: {msg}", path=path)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _validate_lanes(lanes, path) -> None:
    if not isinstance(lanes, list):
        _fail("'blot.lanes' must be a list", path)
    seen = set()
    for i, lane in enumerate(lanes):
        w = f"blot.lanes[{i}]"
        if not isinstance(lane, Mapping):
            _fail(f"{w} must be an object", path)
        if not _int(lane.get("lane")) or lane["lane"] < 1:
            _fail(f"{w}.lane must be an integer >= 1 (got {lane.get('lane')!r})", path)
        strip = lane.get("strip", 1)
        if not _int(strip) or strip < 1:
            _fail(f"{w}.strip must be an integer >= 1 (got {strip!r})", path)
        if (strip, lane["lane"]) in seen:
            _fail(f"{w}: lane {lane['lane']} (strip {strip}) appears twice", path)
        seen.add((strip, lane["lane"]))
        cl = lane.get("centerline")
        if (not isinstance(cl, list) or len(cl) < 2
                or not all(isinstance(p, list) and len(p) == 2 and all(map(_num, p))
                           for p in cl)):
            _fail(f"{w}.centerline must be a list of >= 2 [row, col] number pairs", path)
        if not _num(lane.get("width")) or lane["width"] <= 0:
            _fail(f"{w}.width must be a positive number (got {lane.get('width')!r})", path)
        for k in ("is_ladder", "edited"):
            if not isinstance(lane.get(k, False), bool):
                _fail(f"{w}.{k} must be true or false", path)
        unknown = set(lane) - {"lane", "strip", "centerline", "width", "is_ladder", "edited"}
        if unknown:
            _fail(f"{w} has unknown fields {sorted(unknown)}", path)


def _validate_bands(bands, path) -> None:
    if not isinstance(bands, list):
        _fail("'blot.bands' must be a list", path)
    for i, band in enumerate(bands):
        w = f"blot.bands[{i}]"
        if not isinstance(band, Mapping):
            _fail(f"{w} must be an object", path)
        if not _int(band.get("lane")) or band["lane"] < 1:
            _fail(f"{w}.lane must be an integer >= 1 (got {band.get('lane')!r})", path)
        if not _int(band.get("strip", 1)) or band.get("strip", 1) < 1:
            _fail(f"{w}.strip must be an integer >= 1", path)
        if not isinstance(band.get("row"), str) or not band["row"]:
            _fail(f"{w}.row must be a non-empty string", path)
        for k in ("top", "bottom"):
            if not _num(band.get(k)):
                _fail(f"{w}.{k} must be a number (got {band.get(k)!r})", path)
        if band["bottom"] <= band["top"]:
            _fail(f"{w}: bottom ({band['bottom']}) must be below top ({band['top']})", path)
        for k in ("left", "right"):
            if band.get(k) is not None and not _num(band[k]):
                _fail(f"{w}.{k} must be a number or null", path)
        if band.get("left") is not None and band.get("right") is not None \
                and band["right"] <= band["left"]:
            _fail(f"{w}: right must be greater than left", path)
        unknown = set(band) - set(BAND_FIELDS)
        if unknown:
            _fail(f"{w} has unknown fields {sorted(unknown)}", path)


def _validate_blot(b, version: int, path) -> None:
    if not isinstance(b, Mapping):
        _fail("'blot' must be an object", path)
    for key in ("lanes", "bands", "rows", "params"):
        if key not in b:
            _fail(f"'blot' lacks the field {key!r}", path)
    _validate_lanes(b["lanes"], path)
    _validate_bands(b["bands"], path)
    if not isinstance(b["rows"], list) or not all(isinstance(r, str) and r for r in b["rows"]):
        _fail("'blot.rows' must be a list of non-empty strings", path)
    if len(set(b["rows"])) != len(b["rows"]):
        _fail("'blot.rows' has duplicate names", path)
    if not isinstance(b["params"], Mapping):
        _fail("'blot.params' must be an object", path)
    own = ("lane_geometry", "band_boxes", "image") + (("rows",) if version == 1 else ())
    for k in own:
        if k in b["params"]:
            _fail(f"'blot.params' must not contain {k!r} (it has its own field)", path)
    unknown = set(b) - {"lanes", "bands", "rows", "params"}
    if unknown:
        _fail(f"'blot' has unknown fields {sorted(unknown)}", path)
    params_model("blot", b["params"], path=path)


def _validate_geojson(fc, path) -> None:
    if not isinstance(fc, Mapping) or fc.get("type") != "FeatureCollection":
        _fail("'ihc.regions' must be a GeoJSON FeatureCollection", path)
    feats = fc.get("features")
    if not isinstance(feats, list):
        _fail("'ihc.regions.features' must be a list", path)
    for i, f in enumerate(feats):
        w = f"ihc.regions.features[{i}]"
        if not isinstance(f, Mapping) or f.get("type") != "Feature":
            _fail(f"{w} must be a GeoJSON Feature", path)
        g = f.get("geometry")
        if not isinstance(g, Mapping) or g.get("type") not in ("Polygon", "MultiPolygon"):
            _fail(f"{w}.geometry must be a Polygon or MultiPolygon", path)
        if not isinstance(g.get("coordinates"), list):
            _fail(f"{w}.geometry.coordinates must be a list", path)


def _validate_ihc(s, version: int, path) -> None:
    if not isinstance(s, Mapping):
        _fail("'ihc' must be an object", path)
    for key in ("regions", "params"):
        if key not in s:
            _fail(f"'ihc' lacks the field {key!r}", path)
    _validate_geojson(s["regions"], path)
    if not _num(s.get("downsample", 1.0)) or s.get("downsample", 1.0) < 1:
        _fail("'ihc.downsample' must be a number >= 1", path)
    level = s.get("level")
    if version >= 2 and level is not None and (not _int(level) or level < 0):
        _fail(f"'ihc.level' must be a whole number >= 0 or null (got {level!r})", path)
    allowed = {"regions", "downsample", "params"} | ({"level"} if version >= 2 else set())
    unknown = set(s) - allowed
    if unknown:
        _fail(f"'ihc' has unknown fields {sorted(unknown)}", path)
    p = s["params"]
    if not isinstance(p, Mapping):
        _fail("'ihc.params' must be an object", path)
    if "regions" in p or "rgb" in p:
        _fail("'ihc.params' must not contain 'regions' (it has its own field)", path)
    params_model("ihc", p, path=path)


def validate(d: Any, *, path: str | os.PathLike | None = None) -> None:
    """Check a sidecar document (any readable version); raise CorrectionsError if not.

    Parameters
    ----------
    d : object
        The parsed JSON document.
    path : path-like, optional
        Named in the error message.

    Raises
    ------
    CorrectionsError
        The first problem found, with the field that has it.
    """
    if not isinstance(d, Mapping):
        _fail("the document must be a JSON object", path)
    if d.get("schema") != SCHEMA:
        _fail(f"'schema' must be {SCHEMA!r} (got {d.get('schema')!r}); "
              "is this a blotquant corrections file?", path)
    v = d.get("version")
    if not _int(v):
        _fail(f"'version' must be an integer (got {v!r})", path)
    if v not in READABLE_VERSIONS:
        _fail(f"unknown version {v} (this blotquant {__version__} reads versions "
              f"{', '.join(map(str, READABLE_VERSIONS))}); upgrade blotquant to read it", path)
    for key in ("kind", "image", "author", "created"):
        if key not in d:
            _fail(f"missing field {key!r}", path)
    if d["kind"] not in KINDS:
        _fail(f"'kind' must be one of {KINDS} (got {d['kind']!r})", path)
    img = d["image"]
    if not isinstance(img, Mapping):
        _fail("'image' must be an object", path)
    for key in ("name", "sha256", "shape"):
        if key not in img:
            _fail(f"'image' lacks the field {key!r}", path)
    sha = img["sha256"]
    if not (isinstance(sha, str) and len(sha) == 64
            and all(c in "0123456789abcdef" for c in sha)):
        _fail("'image.sha256' must be 64 lowercase hex digits", path)
    if img.get("sha256_of", "pixels") not in _HASH_OF:
        _fail(f"'image.sha256_of' must be one of {_HASH_OF}", path)
    shape = img["shape"]
    if not (isinstance(shape, list) and 2 <= len(shape) <= 4
            and all(_int(s) and s > 0 for s in shape)):
        _fail(f"'image.shape' must be a list of 2-4 positive integers (got {shape!r})", path)
    if not isinstance(d["author"], str):
        _fail("'author' must be a string", path)
    try:
        datetime.fromisoformat(str(d["created"]))
    except ValueError:
        _fail(f"'created' must be an ISO 8601 time (got {d['created']!r})", path)
    unknown = set(d) - _TOP_FIELDS
    if unknown:
        _fail(f"unknown fields {sorted(unknown)}", path)
    kind = d["kind"]
    if kind not in d:
        _fail(f"kind is {kind!r} but the {kind!r} section is missing", path)
    if kind == "blot":
        _validate_blot(d["blot"], v, path)
    else:
        _validate_ihc(d["ihc"], v, path)
