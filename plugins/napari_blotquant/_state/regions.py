"""IHC regions between napari Shapes layers and blotquant Regions (no Qt).

Shapes are in full-resolution (level 0) pixel coordinates, like QuPath
GeoJSON; scoring a downsampled pyramid level divides by the downsample
(:func:`blotquant.review.ihc_kwargs` does it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blotquant.report import colors as C

#: Class map value -> RGBA (0 unscored: transparent), from :mod:`blotquant.report.colors`.
CLASS_COLORS = {0: (0.0, 0.0, 0.0, 0.0), **{k: C.rgba(v) for k, v in C.IHC_CLASS_CODES.items()}}
CLASS_LABELS = dict(enumerate(C.IHC_CLASS_NAMES, 1))
REGION_COLORS = {"include": C.INCLUDE_REGION, "exclude": C.EXCLUDE_REGION}


def ellipse_polygon(corners, n: int = 48) -> np.ndarray:
    """Polygon approximating a napari ellipse given by its 4 bounding-box corners."""
    c = np.asarray(corners, float)
    centre = c.mean(axis=0)
    half = (c.max(axis=0) - c.min(axis=0)) / 2.0
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([centre[0] + half[0] * np.sin(t), centre[1] + half[1] * np.cos(t)], axis=1)


def region_names(features: pd.DataFrame, n: int, kind: str) -> list[str]:
    """Unique names: keep given ones, name new/duplicated shapes ``"<kind> k"``."""
    given = list(features["name"]) if "name" in features and len(features) == n else [None] * n
    out, seen, k = [], set(), 1
    for name in given:
        name = None if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        if not name or name in seen:
            while f"{kind} {k}" in seen or f"{kind} {k}" in given:
                k += 1
            name = f"{kind} {k}"
        seen.add(name)
        out.append(name)
    return out


def shapes_to_regions(layer, kind: str) -> list:
    """Regions (level-0 row/col polygons) from an include or exclude Shapes layer."""
    from blotquant.ihc.regions import Region

    if layer is None or not len(layer.data):
        return []
    names = region_names(layer.features, len(layer.data), kind)
    out = []
    for verts, stype, name in zip(layer.data, layer.shape_type, names):
        v = np.asarray(verts, float)[:, -2:]
        if stype == "ellipse":
            v = ellipse_polygon(v)
        if len(v) < 3:
            continue
        # shapes live in the layer's data space; regions in image pixels
        v = v * np.asarray(layer.scale[-2:]) + np.asarray(layer.translate[-2:])
        out.append(Region(name=name, polygon=v, kind=kind,
                          classification="Exclude" if kind == "exclude" else None))
    return out


def regions_to_shapes(regions, kind: str):
    """(polygons, features) of the regions of one kind (holes are not drawn)."""
    sel = [r for r in regions if r.kind == kind]
    return ([np.asarray(r.polygon, float) for r in sel],
            pd.DataFrame({"name": [r.name for r in sel]}))
