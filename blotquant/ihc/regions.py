"""Scoring regions: include/exclude polygons, QuPath-compatible GeoJSON.

A :class:`Region` holds a polygon in (row, col) pixel coordinates.  GeoJSON
follows QuPath's export: a FeatureCollection of Features whose geometry is a
Polygon or MultiPolygon in **pixel coordinates with x = col, y = row**; the
pixel (row r, col c) covers ``[c, c + 1) x [r, r + 1)``, so it is inside a
polygon when its centre ``(c + 0.5, r + 0.5)`` is.  ``properties.name`` names
the region, ``properties.classification.name`` classifies it.

A feature is an *exclude* region when its classification is one of
``exclude_classes`` (default Necrosis, Fold, Pigment, Exclude, Ignore*,
Artefact, Artifact; case-insensitive), or when ``properties.blotquant_kind`` /
``properties.kind`` is ``"exclude"`` or ``properties.exclude`` is true.  Every
include region is scored minus all exclude regions; with no include region
the whole image (region ``"image"``) is scored minus the excludes.  Include
regions with the same name are merged (e.g. several "Tumor" annotations).
Detections/cells in a QuPath export (``objectType`` other than annotation)
are ignored.

Examples
--------
>>> r = rectangle("Tumor", 0, 0, 4, 6)
>>> int(region_masks([r], (10, 10))["Tumor"].sum())
24
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import ParameterError
from ..tables import atomic_path, read_json

__all__ = ["Region", "DEFAULT_EXCLUDE_CLASSES", "WHOLE_IMAGE", "rectangle", "read_geojson",
           "regions_to_geojson", "write_geojson", "region_masks", "as_regions"]

#: Classification names treated as "exclude" (case-insensitive).
from .params import DEFAULT_EXCLUDE_CLASSES  # noqa: E402 (the one definition)
#: Name of the implicit whole-image region.
WHOLE_IMAGE = "image"

#: What :func:`as_regions` accepts.
RegionsLike = Union[None, "Region", Iterable["Region"], dict, list, str, os.PathLike]

_COLORS = {"include": [255, 200, 0], "exclude": [60, 60, 60]}


@dataclass(frozen=True)
class Region:
    """A named include/exclude polygon.

    Attributes
    ----------
    name : str
        Region name (regions with the same name are merged when scored).
    polygon : ndarray of float64, shape (N, 2)
        (row, col) vertices in pixel coordinates, N >= 3.
    kind : {"include", "exclude"}
        Scored region or region removed from every scored region.
    classification : str or None
        QuPath classification name.
    holes : tuple of (M, 2) arrays
        Interior rings (row, col), removed from the region.
    properties : dict
        Other GeoJSON properties (kept on round trip).
    """

    name: str
    polygon: np.ndarray
    kind: str = "include"
    classification: str | None = None
    holes: tuple = ()
    properties: dict = field(default_factory=dict)

    def __post_init__(self):
        p = np.asarray(self.polygon, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 2 or len(p) < 3:
            raise ParameterError(
                f"region {self.name!r}: polygon must be (N >= 3, 2) (row, col) points, "
                f"got shape {p.shape}")
        if self.kind not in ("include", "exclude"):
            raise ParameterError(f"region {self.name!r}: kind must be 'include' or 'exclude'")
        object.__setattr__(self, "polygon", p)
        object.__setattr__(self, "holes", tuple(np.asarray(h, np.float64) for h in self.holes))

    def __eq__(self, other):
        if not isinstance(other, Region):
            return NotImplemented
        return (self.name == other.name and self.kind == other.kind
                and self.classification == other.classification
                and self.polygon.shape == other.polygon.shape
                and np.allclose(self.polygon, other.polygon)
                and len(self.holes) == len(other.holes)
                and all(a.shape == b.shape and np.allclose(a, b)
                        for a, b in zip(self.holes, other.holes)))

    __hash__ = None

    def mask(self, shape: Sequence[int]) -> np.ndarray:
        """Boolean mask of the pixels whose centres are inside (holes removed).

        Parameters
        ----------
        shape : sequence of int
            Image shape; the first two values (rows, cols) are used.

        Returns
        -------
        ndarray of bool, shape (rows, cols)
            True inside the polygon and outside its holes.

        Examples
        --------
        >>> int(rectangle("r", 1, 1, 3, 4).mask((5, 5)).sum())
        6
        """
        m = _fill(self.polygon, shape)
        for h in self.holes:
            m &= ~_fill(h, shape)
        return m


def rectangle(name: str, top: float, left: float, bottom: float, right: float, *,
              kind: str = "include", classification: str | None = None) -> Region:
    """Axis-aligned rectangular region covering rows [top, bottom), cols [left, right).

    Parameters
    ----------
    name : str
        Region name.
    top, left, bottom, right : float
        Pixel-edge coordinates (bottom and right exclusive).
    kind : {"include", "exclude"}
        Region kind.
    classification : str, optional
        QuPath classification name.

    Returns
    -------
    Region
        Four vertices, clockwise from the top-left corner.

    Examples
    --------
    >>> rectangle("r", 0, 0, 2, 3).polygon.tolist()
    [[0.0, 0.0], [0.0, 3.0], [2.0, 3.0], [2.0, 0.0]]
    """
    poly = [[top, left], [top, right], [bottom, right], [bottom, left]]
    return Region(name, np.asarray(poly, float), kind=kind, classification=classification)


def _fill(poly: np.ndarray, shape) -> np.ndarray:
    m = np.zeros(tuple(shape[:2]), bool)
    from skimage.draw import polygon as draw_polygon

    rr, cc = draw_polygon(poly[:, 0] - 0.5, poly[:, 1] - 0.5, shape=m.shape)
    m[rr, cc] = True
    return m


def _matches(name: str | None, patterns) -> bool:
    if not name:
        return False
    low = name.lower()
    for p in patterns:
        p = p.lower()
        if low == p or (p.endswith("*") and low == p[:-1]):
            return True
    return False


def _ring(coords) -> np.ndarray:
    a = np.asarray(coords, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] < 2:
        raise ParameterError("GeoJSON polygon ring must be a list of [x, y] positions")
    a = a[:, :2]
    if len(a) > 1 and np.array_equal(a[0], a[-1]):
        a = a[:-1]
    return a[:, ::-1].copy()  # (x, y) -> (row, col)


def _features(obj) -> list:
    if isinstance(obj, list):
        out = []
        for o in obj:
            out.extend(_features(o))
        return out
    if not isinstance(obj, dict):
        raise ParameterError("GeoJSON must be an object (FeatureCollection, Feature or geometry)")
    t = obj.get("type")
    if t == "FeatureCollection":
        return list(obj.get("features") or [])
    if t == "Feature":
        return [obj]
    if t in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "geometry": obj, "properties": {}}]
    if t == "GeometryCollection":
        return [{"type": "Feature", "geometry": g, "properties": {}}
                for g in obj.get("geometries", [])]
    raise ParameterError(f"unsupported GeoJSON type {t!r}; expected a FeatureCollection")


def read_geojson(source: str | os.PathLike | dict | list, *,
                 exclude_classes: Sequence[str] = DEFAULT_EXCLUDE_CLASSES) -> list[Region]:
    """Read regions from a QuPath GeoJSON file, JSON text or parsed dict/list.

    Parameters
    ----------
    source : path, str (JSON text or path), dict or list
        A string starting with ``{`` or ``[`` is JSON text, any other string
        a path.
    exclude_classes : sequence of str
        Classification names that make a region an exclude region
        (a trailing ``*`` also matches the name without it, as QuPath's "Ignore*").

    Returns
    -------
    list of Region
        One per polygon (a MultiPolygon gives several), in file order;
        non-annotation objects and geometries without area are skipped.

    Raises
    ------
    ParameterError
        Unreadable or invalid JSON, an unsupported GeoJSON type or a bad
        polygon (the message names the feature and the file).

    Examples
    --------
    >>> gj = {"type": "FeatureCollection", "features": [
    ...   {"type": "Feature", "properties": {"classification": {"name": "Tumor"}},
    ...    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [8, 0], [8, 4], [0, 0]]]}},
    ...   {"type": "Feature", "properties": {"classification": {"name": "Necrosis"}},
    ...    "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}}]}
    >>> [(r.name, r.kind, r.polygon[1].tolist()) for r in read_geojson(gj)]
    [('Tumor', 'include', [0.0, 8.0]), ('Necrosis', 'exclude', [1.0, 2.0])]
    """
    path = None
    obj = source
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(source, str) and text.lstrip().startswith(("{", "[")):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                raise ParameterError(f"regions text is not valid JSON ({err.msg} at line "
                                     f"{err.lineno})") from None
        else:
            path = text
            obj = read_json(path, what="regions file", error=ParameterError)
    try:
        feats = _features(obj)
    except ParameterError as err:
        raise ParameterError(err.problem, path=path) from None
    regions = []
    for i, f in enumerate(feats):
        props = dict(f.get("properties") or {})
        otype = props.get("objectType", props.get("object_type"))
        if otype not in (None, "annotation", "Annotation"):
            continue
        geom = f.get("geometry") or {}
        gtype = geom.get("type")
        if gtype == "Polygon":
            polys = [geom.get("coordinates") or []]
        elif gtype == "MultiPolygon":
            polys = geom.get("coordinates") or []
        else:
            continue  # points / lines carry no area
        cls = props.get("classification")
        if isinstance(cls, dict):
            cls_name = cls.get("name")
        else:
            cls_name = cls if isinstance(cls, str) else None
        kind = str(props.get("blotquant_kind", props.get("kind", ""))).lower()
        if kind not in ("include", "exclude"):
            excluded = props.get("exclude") is True or _matches(cls_name, exclude_classes)
            kind = "exclude" if excluded else "include"
        name = props.get("name") or cls_name or f"region_{i + 1}"
        extra = {k: v for k, v in props.items()
                 if k not in ("name", "classification", "blotquant_kind", "objectType")}
        for rings in polys:
            if not rings:
                continue
            try:
                outer = _ring(rings[0])
                holes = tuple(_ring(r) for r in rings[1:])
                regions.append(Region(str(name), outer, kind=kind, classification=cls_name,
                                      holes=holes, properties=extra))
            except ParameterError as err:
                raise ParameterError(f"feature {i + 1}: {err.problem}", path=path) from None
    return regions


def _close(ring_rc: np.ndarray) -> list:
    xy = ring_rc[:, ::-1].tolist()
    return xy + [xy[0]]


def regions_to_geojson(regions: RegionsLike) -> dict:
    """Regions -> QuPath-style GeoJSON FeatureCollection (dict).

    Parameters
    ----------
    regions : None, Region, list of Region, GeoJSON dict/list, JSON text or path
        Anything :func:`as_regions` accepts.

    Returns
    -------
    dict
        A FeatureCollection of annotation Polygons in pixel coordinates
        (x = col, y = row, rings closed); ``properties`` carry ``name``,
        ``blotquant_kind``, the classification and the region's other
        properties.

    Examples
    --------
    >>> gj = regions_to_geojson([rectangle("Tumor", 0, 0, 2, 3)])
    >>> gj["features"][0]["geometry"]["coordinates"][0][:2]
    [[0.0, 0.0], [3.0, 0.0]]
    """
    feats = []
    for r in as_regions(regions):
        props = dict(r.properties)
        props.update({"objectType": "annotation", "name": r.name, "blotquant_kind": r.kind})
        if r.classification is not None:
            props["classification"] = {"name": r.classification, "color": _COLORS[r.kind]}
        feats.append({
            "type": "Feature",
            "geometry": {"type": "Polygon",
                         "coordinates": [_close(r.polygon)] + [_close(h) for h in r.holes]},
            "properties": props,
        })
    return {"type": "FeatureCollection", "features": feats}


def write_geojson(regions: RegionsLike, path: str | os.PathLike) -> Path:
    """Write regions as QuPath-importable GeoJSON (atomic).

    Parameters
    ----------
    regions : None, Region, list of Region, GeoJSON dict/list, JSON text or path
        Anything :func:`as_regions` accepts.
    path : str or path-like
        Output file (``.geojson``).

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = write_geojson([rectangle("Tumor", 0, 0, 2, 3)],
    ...                   os.path.join(tempfile.mkdtemp(), "r.geojson"))
    >>> read_geojson(p)[0].name
    'Tumor'
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(regions_to_geojson(regions), indent=1) + "\n", encoding="utf-8")
    return path


def as_regions(regions: RegionsLike, *,
               exclude_classes: Sequence[str] = DEFAULT_EXCLUDE_CLASSES) -> list[Region]:
    """Accept None, a list of Region, a GeoJSON dict/text/path -> list of Region.

    Parameters
    ----------
    regions : None, Region, list of Region, GeoJSON dict/list, JSON text or path
        Regions, or GeoJSON read with :func:`read_geojson`.
    exclude_classes : sequence of str
        See :func:`read_geojson`.

    Returns
    -------
    list of Region
        Empty for None.

    Examples
    --------
    >>> as_regions(None)
    []
    """
    if regions is None:
        return []
    if isinstance(regions, Region):
        return [regions]
    if isinstance(regions, (str, os.PathLike, dict)):
        return read_geojson(regions, exclude_classes=exclude_classes)
    out = list(regions)
    if all(isinstance(r, Region) for r in out):
        return out
    return read_geojson(out, exclude_classes=exclude_classes)


def region_masks(regions: RegionsLike, shape: Sequence[int], *,
                 exclude_classes: Sequence[str] = DEFAULT_EXCLUDE_CLASSES
                 ) -> dict[str, np.ndarray]:
    """Boolean mask per include region name, minus all exclude regions.

    With no include region the whole image is one region named ``"image"``.

    Parameters
    ----------
    regions : None, Region, list of Region, GeoJSON dict/list, JSON text or path
        Anything :func:`as_regions` accepts.
    shape : sequence of int
        (rows, cols[, ...]); extra values are ignored.
    exclude_classes : sequence of str
        See :func:`read_geojson`.

    Returns
    -------
    dict of str to ndarray of bool
        One (rows, cols) mask per include region name, in order of first
        appearance.

    Examples
    --------
    >>> rs = [rectangle("A", 0, 0, 4, 4),
    ...       rectangle("dirt", 0, 0, 2, 2, kind="exclude")]
    >>> {k: int(v.sum()) for k, v in region_masks(rs, (8, 8)).items()}
    {'A': 12}
    >>> {k: int(v.sum()) for k, v in region_masks(rs[1:], (8, 8)).items()}
    {'image': 60}
    """
    shape = tuple(int(s) for s in shape[:2])
    rs = as_regions(regions, exclude_classes=exclude_classes)
    excl = np.zeros(shape, bool)
    for r in rs:
        if r.kind == "exclude":
            excl |= r.mask(shape)
    out: dict = {}
    for r in rs:
        if r.kind == "include":
            m = r.mask(shape)
            out[r.name] = (out[r.name] | m) if r.name in out else m
    if not out:
        out[WHOLE_IMAGE] = np.ones(shape, bool)
    for k in out:
        out[k] &= ~excl
    return out
