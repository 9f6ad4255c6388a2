"""Review corrections as data: the versioned JSON sidecar.

A review in napari (or by hand) produces *corrections*: lane centre lines and
widths, band boxes, row names, IHC include/exclude regions and the analysis
parameters the reviewer settled on.  They are saved as a small JSON file,
``<image stem>.blotquant.json``, next to the outputs -- the input image is
never modified.  The core accepts them as ordinary inputs:
``quantify_blot(image, **blot_kwargs(corr))`` and
``score_ihc(rgb, **ihc_kwargs(corr))`` reproduce the reviewed numbers, from
Python, the CLI or the plugin alike.

Schema (version 1)
------------------
.. code-block:: text

    {
      "schema": "blotquant.corrections",
      "version": 1,
      "kind": "blot" | "ihc",
      "image": {"name": str, "sha256": str (64 hex), "sha256_of": "pixels" | "file",
                "shape": [int, ...]},
      "author": str,                    # getpass user unless given
      "created": str,                   # ISO 8601 UTC, e.g. "2026-11-27T21:50:00Z"
      "blotquant_version": str,
      "note": str,                      # optional free text
      "blot": {                         # kind == "blot"
        "lanes": [{"lane": int >= 1, "strip": int >= 1 (default 1),
                   "centerline": [[row, col], ...] (>= 2 points), "width": float > 0,
                   "is_ladder": bool, "edited": bool (default false)}, ...],
        "bands": [{"strip": int (default 1), "lane": int, "row": str, "top": float,
                   "bottom": float, "left": float | null, "right": float | null}, ...],
        "rows": [str, ...],
        "params": {...}                 # keyword arguments of quantify_blot
      },
      "ihc": {                          # kind == "ihc"
        "regions": {"type": "FeatureCollection", "features": [...]},  # QuPath GeoJSON
        "downsample": float,            # 1 = regions and scoring at full resolution
        "params": {...}                 # keyword arguments of score_ihc
      }
    }

``image.sha256`` is, for ``sha256_of == "pixels"``, the SHA-256 of the
C-ordered little-endian pixel bytes of the image as read by
:func:`blotquant.io.read_image` (so re-saving a file losslessly keeps it
valid); for ``"file"`` (whole-slide pyramids, too large to hash pixel by
pixel) the SHA-256 of the file's bytes.  Region coordinates are always in
full-resolution (level 0) pixels, QuPath's convention.

Examples
--------
>>> import numpy as np, pandas as pd
>>> img = np.zeros((40, 60), np.uint16)
>>> corr = blot_corrections(
...     img, image_name="blot.tif", author="ana", rows=["ACTB"],
...     lanes=[{"lane": 1, "centerline": [[0, 10], [39, 10]], "width": 8}],
...     bands=pd.DataFrame({"lane": [1], "row": ["ACTB"], "top": [15], "bottom": [22]}),
...     params={"background": "none"})
>>> corr.kind, corr.image["shape"], corr.blot["bands"][0]["row"]
('blot', [40, 60], 'ACTB')
>>> check_image(corr, img)  # fits: returns None
>>> check_image(corr, np.zeros((41, 60), np.uint16))
Traceback (most recent call last):
...
blotquant.errors.CorrectionsError: corrections for 'blot.tif' do not fit this image: ...
"""

from __future__ import annotations

import copy
import getpass
import hashlib
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ._version import __version__
from .errors import CorrectionsError
from .provenance import jsonable

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "SIDECAR_SUFFIX",
    "Corrections",
    "blot_corrections",
    "ihc_corrections",
    "image_fingerprint",
    "pixel_sha256",
    "file_sha256",
    "check_image",
    "validate",
    "load_corrections",
    "save_corrections",
    "sidecar_path",
    "find_sidecar",
    "blot_kwargs",
    "ihc_kwargs",
]

SCHEMA = "blotquant.corrections"
SCHEMA_VERSION = 1
SIDECAR_SUFFIX = ".blotquant.json"
KINDS = ("blot", "ihc")
_HASH_OF = ("pixels", "file")
_BAND_FIELDS = ("strip", "lane", "row", "top", "bottom", "left", "right")


# --------------------------------------------------------------------------- model
@dataclass
class Corrections:
    """A reviewed set of corrections for one image (see the module docstring).

    Attributes
    ----------
    kind : {"blot", "ihc"}
    image : dict
        ``name``, ``sha256``, ``sha256_of`` and ``shape`` of the image the
        corrections were made on.
    author, created : str
        Who made them and when (ISO 8601, UTC).
    blot, ihc : dict or None
        The section for ``kind`` (plain JSON types).
    version : int
        Schema version.
    note : str
        Free text.
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
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON document (plain types, validated)."""
        d = {
            "schema": SCHEMA,
            "version": self.version,
            "kind": self.kind,
            "image": dict(self.image),
            "author": self.author,
            "created": self.created,
            "blotquant_version": self.blotquant_version,
        }
        if self.note:
            d["note"] = self.note
        if self.kind == "blot":
            d["blot"] = self.blot
        else:
            d["ihc"] = self.ihc
        d = jsonable(d)
        validate(d)
        return d

    @classmethod
    def from_dict(cls, d: Mapping, *, path: str | os.PathLike | None = None) -> "Corrections":
        """Validate a JSON document and build the model (raises CorrectionsError)."""
        validate(d, path=path)
        d = copy.deepcopy(dict(d))
        return cls(kind=d["kind"], image=d["image"], author=d["author"], created=d["created"],
                   blot=d.get("blot"), ihc=d.get("ihc"), version=d["version"],
                   note=d.get("note", ""),
                   blotquant_version=d.get("blotquant_version", ""))


# --------------------------------------------------------------------------- hashing
def _pixels(image) -> tuple[Any, str | None, tuple]:
    """(array-like level 0, path, shape) of an Image or array."""
    from .image import Image

    if isinstance(image, Image):
        return image.data, image.metadata.path, tuple(image.shape)
    return image, None, tuple(np.shape(image))


def pixel_sha256(array) -> str:
    """SHA-256 of the C-ordered little-endian pixel bytes of ``array``.

    Examples
    --------
    >>> pixel_sha256(np.zeros((2, 2), np.uint8))[:12]
    'df3f619804a9'
    """
    a = np.asarray(array)
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a).cast("B")).hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file's bytes (streamed)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
    except OSError as err:
        raise CorrectionsError(f"cannot read the image to verify corrections: {err}",
                               path=path) from err
    return h.hexdigest()


def _is_lazy(data) -> bool:
    return not isinstance(data, np.ndarray)


def image_fingerprint(image, *, image_name: str | None = None,
                      path: str | os.PathLike | None = None) -> dict:
    """The ``image`` block of a sidecar: name, sha256, sha256_of, shape.

    ``image`` is a :class:`~blotquant.image.Image` or an array.  In-memory
    pixels are hashed (``sha256_of="pixels"``); lazy whole-slide data with a
    known file is identified by the file's bytes (``"file"``).

    Examples
    --------
    >>> fp = image_fingerprint(np.zeros((2, 3), np.uint8), image_name="a.png")
    >>> fp["name"], fp["shape"], fp["sha256_of"]
    ('a.png', [2, 3], 'pixels')
    """
    data, img_path, shape = _pixels(image)
    path = path if path is not None else img_path
    if _is_lazy(data) and path is not None and os.path.isfile(path):
        sha, of = file_sha256(path), "file"
    else:
        sha, of = pixel_sha256(data), "pixels"
    if image_name is None:
        image_name = os.path.basename(os.fspath(path)) if path else "image"
    return {"name": str(image_name), "sha256": sha, "sha256_of": of,
            "shape": [int(s) for s in shape]}


def check_image(corr: Corrections, image, *, path: str | os.PathLike | None = None) -> None:
    """Raise :class:`CorrectionsError` unless ``corr`` was made on ``image``.

    The shape must match and the SHA-256 (of pixels or file, as recorded)
    must be equal.  ``path`` is needed only for ``sha256_of == "file"`` when
    ``image`` is a bare array.
    """
    data, img_path, shape = _pixels(image)
    path = path if path is not None else img_path
    want = corr.image
    where = f"corrections for {want['name']!r}"
    if list(shape) != list(want["shape"]):
        raise CorrectionsError(
            f"{where} do not fit this image: the sidecar was made on an image of shape "
            f"{tuple(want['shape'])} but this image has shape {tuple(shape)}. "
            "Use the sidecar that belongs to this image, or re-review it.", path=path)
    if want["sha256_of"] == "file":
        if path is None or not os.path.isfile(path):
            raise CorrectionsError(
                f"{where} identify the image by its file hash; give the image file path "
                "to verify them.")
        got = file_sha256(path)
    else:
        got = pixel_sha256(data)
    if got != want["sha256"]:
        raise CorrectionsError(
            f"{where} do not fit this image: the pixel content differs (sha256 "
            f"{got[:12]}... != {want['sha256'][:12]}...). The image changed since the review "
            "or this is a different image with the same size; use the matching sidecar or "
            "re-review.", path=path)


# --------------------------------------------------------------------------- validation
def _fail(msg: str, path) -> None:
    raise CorrectionsError(f"invalid corrections sidecar: {msg}", path=path)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _validate_blot(b, path) -> None:
    if not isinstance(b, Mapping):
        _fail("'blot' must be an object", path)
    for key in ("lanes", "bands", "rows", "params"):
        if key not in b:
            _fail(f"'blot' lacks the field {key!r}", path)
    if not isinstance(b["lanes"], list):
        _fail("'blot.lanes' must be a list", path)
    seen = set()
    for i, lane in enumerate(b["lanes"]):
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
    if not isinstance(b["bands"], list):
        _fail("'blot.bands' must be a list", path)
    for i, band in enumerate(b["bands"]):
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
        unknown = set(band) - set(_BAND_FIELDS)
        if unknown:
            _fail(f"{w} has unknown fields {sorted(unknown)}", path)
    if not isinstance(b["rows"], list) or not all(isinstance(r, str) and r for r in b["rows"]):
        _fail("'blot.rows' must be a list of non-empty strings", path)
    if len(set(b["rows"])) != len(b["rows"]):
        _fail("'blot.rows' has duplicate names", path)
    if not isinstance(b["params"], Mapping):
        _fail("'blot.params' must be an object", path)
    for k in ("lane_geometry", "band_boxes", "rows", "image"):
        if k in b["params"]:
            _fail(f"'blot.params' must not contain {k!r} (it has its own field)", path)


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


def _validate_ihc(s, path) -> None:
    if not isinstance(s, Mapping):
        _fail("'ihc' must be an object", path)
    for key in ("regions", "params"):
        if key not in s:
            _fail(f"'ihc' lacks the field {key!r}", path)
    _validate_geojson(s["regions"], path)
    if not _num(s.get("downsample", 1.0)) or s.get("downsample", 1.0) < 1:
        _fail("'ihc.downsample' must be a number >= 1", path)
    p = s["params"]
    if not isinstance(p, Mapping):
        _fail("'ihc.params' must be an object", path)
    if "regions" in p or "rgb" in p:
        _fail("'ihc.params' must not contain 'regions' (it has its own field)", path)
    th = p.get("thresholds")
    if th is not None:
        if not (isinstance(th, list) and len(th) == 3 and all(map(_num, th))):
            _fail("'ihc.params.thresholds' must be three numbers", path)
        if not th[0] < th[1] < th[2]:
            _fail(f"'ihc.params.thresholds' must increase (got {th})", path)
    st = p.get("stains")
    if st is not None and not isinstance(st, str):
        if not (isinstance(st, list) and len(st) == 3
                and all(isinstance(r, list) and len(r) == 3 and all(map(_num, r)) for r in st)):
            _fail("'ihc.params.stains' must be a name or a 3x3 matrix", path)


def validate(d: Any, *, path: str | os.PathLike | None = None) -> None:
    """Check a sidecar document against the schema; raise CorrectionsError if not.

    Examples
    --------
    >>> validate({"schema": "blotquant.corrections", "version": 99})
    Traceback (most recent call last):
    ...
    blotquant.errors.CorrectionsError: invalid corrections sidecar: unknown version 99 ...
    """
    if not isinstance(d, Mapping):
        _fail("the document must be a JSON object", path)
    if d.get("schema") != SCHEMA:
        _fail(f"'schema' must be {SCHEMA!r} (got {d.get('schema')!r}); "
              "is this a blotquant corrections file?", path)
    v = d.get("version")
    if not _int(v):
        _fail(f"'version' must be an integer (got {v!r})", path)
    if v != SCHEMA_VERSION:
        _fail(f"unknown version {v} (this blotquant {__version__} reads version "
              f"{SCHEMA_VERSION}); upgrade blotquant to read it", path)
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
    known = {"schema", "version", "kind", "image", "author", "created", "blotquant_version",
             "note", "blot", "ihc"}
    unknown = set(d) - known
    if unknown:
        _fail(f"unknown fields {sorted(unknown)}", path)
    if d["kind"] == "blot":
        if "blot" not in d:
            _fail("kind is 'blot' but the 'blot' section is missing", path)
        _validate_blot(d["blot"], path)
    else:
        if "ihc" not in d:
            _fail("kind is 'ihc' but the 'ihc' section is missing", path)
        _validate_ihc(d["ihc"], path)
        if img.get("shape") and len(img["shape"]) < 2:
            _fail("'image.shape' must have at least 2 dimensions", path)


# --------------------------------------------------------------------------- building
def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _author(author: str | None) -> str:
    if author:
        return str(author)
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "unknown"


def _lane_record(lane) -> dict:
    get = lane.get if isinstance(lane, Mapping) else (lambda k, d=None: getattr(lane, k, d))
    cl = np.asarray(get("centerline"), dtype=float).reshape(-1, 2)
    return {"lane": int(get("lane")), "strip": int(get("strip", 1) or 1),
            "centerline": [[float(r), float(c)] for r, c in cl],
            "width": float(get("width")), "is_ladder": bool(get("is_ladder", False)),
            "edited": bool(get("edited", False))}


def _band_records(bands) -> list[dict]:
    if bands is None:
        return []
    if hasattr(bands, "to_dict"):  # DataFrame
        rows = bands.to_dict("records")
    else:
        rows = list(bands)
    out = []
    for r in rows:
        strip = r.get("strip", 1)
        strip = 1 if strip is None or (isinstance(strip, float) and math.isnan(strip)) else strip
        rec = {"strip": int(strip), "lane": int(r["lane"]), "row": str(r["row"]),
               "top": float(r["top"]), "bottom": float(r["bottom"])}
        for k in ("left", "right"):
            v = r.get(k)
            rec[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        out.append(rec)
    return out


def blot_corrections(image, *, lanes: Iterable = (), bands=None, rows: Iterable[str] = (),
                     params: Mapping | None = None, image_name: str | None = None,
                     author: str | None = None, note: str = "",
                     path: str | os.PathLike | None = None,
                     fingerprint: Mapping | None = None) -> Corrections:
    """Build blot corrections for ``image`` (an Image or array).

    Parameters
    ----------
    image : Image or ndarray
        The image the review was made on (for its fingerprint).
    lanes : iterable of Lane or dict
        Lane geometry (``lane``, ``centerline`` (N, 2) row/col, ``width``,
        ``is_ladder``), e.g. ``BlotResult.lane_geometry``.
    bands : DataFrame or iterable of dict, optional
        Band boxes: lane, row, top, bottom[, left, right].
    rows : iterable of str
        Row (protein) names in order.
    params : dict, optional
        Keyword arguments for :func:`blotquant.quantify_blot` (background,
        radius, polarity, ...).
    image_name, author, note : str, optional
    path : path-like, optional
        The image file (used for the name and for hashing lazy data).
    fingerprint : dict, optional
        A precomputed :func:`image_fingerprint` of ``image`` (saves hashing the
        pixels again when corrections are rebuilt after every edit).
    """
    body = {"lanes": [_lane_record(x) for x in lanes], "bands": _band_records(bands),
            "rows": [str(r) for r in rows], "params": jsonable(dict(params or {}))}
    if fingerprint is None:
        fingerprint = image_fingerprint(image, image_name=image_name, path=path)
    corr = Corrections(kind="blot", image=dict(fingerprint),
                       author=_author(author), created=_now(), blot=body, note=note)
    corr.to_dict()  # validate now, not when saving
    return corr


def ihc_corrections(image, *, regions=None, params: Mapping | None = None,
                    downsample: float = 1.0, image_name: str | None = None,
                    author: str | None = None, note: str = "",
                    path: str | os.PathLike | None = None,
                    fingerprint: Mapping | None = None) -> Corrections:
    """Build IHC corrections for ``image`` (an Image or RGB array).

    Parameters
    ----------
    regions : list of Region, or a GeoJSON FeatureCollection dict, optional
        Include/exclude regions in full-resolution pixel coordinates.
    params : dict, optional
        Keyword arguments for :func:`blotquant.score_ihc` (mode, thresholds,
        stains, white_point, compartment, measure, ...).
    downsample : float
        Pyramid downsample the scoring was run at (1 = full resolution).
    fingerprint : dict, optional
        Precomputed :func:`image_fingerprint` of ``image``.

    Examples
    --------
    >>> c = ihc_corrections(np.zeros((8, 8, 3), np.uint8), image_name="s.png",
    ...                     params={"thresholds": (0.1, 0.3, 0.5)})
    >>> c.ihc["params"]["thresholds"], c.ihc["regions"]["features"]
    ([0.1, 0.3, 0.5], [])
    """
    if regions is None:
        fc = {"type": "FeatureCollection", "features": []}
    elif isinstance(regions, Mapping):
        fc = copy.deepcopy(dict(regions))
    else:
        from .ihc.regions import regions_to_geojson

        fc = regions_to_geojson(list(regions))
    body = {"regions": jsonable(fc), "downsample": float(downsample),
            "params": jsonable(dict(params or {}))}
    if fingerprint is None:
        fingerprint = image_fingerprint(image, image_name=image_name, path=path)
    corr = Corrections(kind="ihc", image=dict(fingerprint),
                       author=_author(author), created=_now(), ihc=body, note=note)
    corr.to_dict()
    return corr


# --------------------------------------------------------------------------- files
def sidecar_path(image_name: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """``<out_dir>/<image stem>.blotquant.json``.

    Examples
    --------
    >>> sidecar_path("/data/blot 1.tif", "/out").as_posix()
    '/out/blot 1.blotquant.json'
    """
    return Path(out_dir) / (Path(image_name).stem + SIDECAR_SUFFIX)


def find_sidecar(image_path: str | os.PathLike,
                 out_dir: str | os.PathLike | None = None) -> Path | None:
    """The sidecar for ``image_path``: in ``out_dir`` first, then next to the image.

    Returns None when there is none.
    """
    candidates = []
    if out_dir is not None:
        candidates.append(sidecar_path(image_path, out_dir))
    candidates.append(sidecar_path(image_path, Path(image_path).parent))
    for c in candidates:
        if c.is_file():
            return c
    return None


def load_corrections(path: str | os.PathLike, *, image=None,
                     image_path: str | os.PathLike | None = None,
                     kind: str | None = None) -> Corrections:
    """Read and validate a sidecar; verify it fits ``image`` when given.

    Raises
    ------
    CorrectionsError
        Unreadable/invalid JSON, unknown version, bad fields, wrong kind, or
        (with ``image``) a shape/hash mismatch.
    """
    from .tables import read_json

    d = read_json(path, what="the corrections sidecar", error=CorrectionsError)
    corr = Corrections.from_dict(d, path=path)
    if kind is not None and corr.kind != kind:
        raise CorrectionsError(f"these are {corr.kind} corrections, not {kind} corrections",
                               path=path)
    if image is not None:
        check_image(corr, image, path=image_path)
    return corr


def save_corrections(corr: Corrections, path: str | os.PathLike) -> Path:
    """Validate and write the sidecar atomically (``blotquant.tables.write_json``).

    Refuses to overwrite a file that is not a sidecar (e.g. the image itself).
    """
    from .tables import write_json

    path = Path(path)
    if path.suffix.lower() != ".json":
        raise CorrectionsError("a corrections sidecar must be a .json file "
                               "(the input image is never modified)", path=path)
    return write_json(corr.to_dict(), path)


# --------------------------------------------------------------------------- to the core
def engine_kwargs(path: str | os.PathLike, *, image, kind: str,
                  image_path: str | os.PathLike | None = None) -> dict:
    """Load the sidecar at ``path``, check it fits ``image``, return engine kwargs.

    ``kind`` is ``"blot"`` (kwargs for :func:`blotquant.quantify_blot`) or
    ``"ihc"`` (for :func:`blotquant.score_ihc`).  Raises
    :class:`~blotquant.errors.CorrectionsError` when it is of another kind or
    another image.
    """
    corr = load_corrections(path, image=image, image_path=image_path, kind=kind)
    return blot_kwargs(corr) if kind == "blot" else ihc_kwargs(corr)


def blot_kwargs(corr: Corrections) -> dict:
    """Keyword arguments for :func:`blotquant.quantify_blot` from blot corrections.

    Returns ``lane_geometry`` (list of :class:`blotquant.blot.Lane`),
    ``band_boxes`` (DataFrame strip, lane, row, top, bottom, left, right; omitted
    when no bands were reviewed), ``rows`` (names; omitted when empty) and
    the recorded parameters (background method, radius, ...).
    """
    import pandas as pd

    if corr.kind != "blot" or corr.blot is None:
        raise CorrectionsError(f"these are {corr.kind} corrections, not blot corrections")
    b = corr.blot
    kw = dict(b["params"])
    if b["lanes"]:
        from .blot import Lane  # lazy: the engine is optional for the sidecar itself

        kw["lane_geometry"] = [
            Lane(lane=int(x["lane"]), centerline=np.asarray(x["centerline"], dtype=float),
                 width=float(x["width"]), is_ladder=bool(x.get("is_ladder", False)),
                 strip=int(x.get("strip", 1)), edited=bool(x.get("edited", False)))
            for x in b["lanes"]]
    if b["bands"]:
        df = pd.DataFrame(b["bands"], columns=list(_BAND_FIELDS))
        df["strip"] = df["strip"].fillna(1).astype(int)
        df["lane"] = df["lane"].astype(int)
        for k in ("top", "bottom", "left", "right"):
            df[k] = df[k].astype(float)
        kw["band_boxes"] = df
    if b["rows"]:
        kw["rows"] = list(b["rows"])
    return kw


def ihc_kwargs(corr: Corrections, *, downsample: float | None = None) -> dict:
    """Keyword arguments for :func:`blotquant.score_ihc` from IHC corrections.

    Regions come back as :class:`blotquant.ihc.regions.Region` objects
    (omitted when there are none) in the pixel coordinates of the image you
    are about to score: sidecar regions are in full-resolution pixels, so pass
    ``downsample`` (level-0 size / scored size) when scoring a downsampled
    pyramid level -- e.g. ``corr.ihc["downsample"]`` with the level the
    review used, to reproduce its numbers.  Default 1: full resolution.
    ``thresholds`` becomes a tuple and a matrix ``stains`` an ndarray.
    """
    if corr.kind != "ihc" or corr.ihc is None:
        raise CorrectionsError(f"these are {corr.kind} corrections, not IHC corrections")
    s = corr.ihc
    kw = dict(s["params"])
    if "thresholds" in kw:
        kw["thresholds"] = tuple(float(t) for t in kw["thresholds"])
    if isinstance(kw.get("stains"), list):
        kw["stains"] = np.asarray(kw["stains"], dtype=float)
    if isinstance(kw.get("white_point"), list):
        kw["white_point"] = tuple(float(v) for v in kw["white_point"])
    if s["regions"]["features"]:
        from dataclasses import replace

        from .ihc.regions import read_geojson

        regions = read_geojson(copy.deepcopy(s["regions"]))
        ds = 1.0 if downsample is None else float(downsample)
        if ds != 1.0:
            regions = [replace(r, polygon=np.asarray(r.polygon, dtype=float) / ds)
                       for r in regions]
        kw["regions"] = regions
    return kw
