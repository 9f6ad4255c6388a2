"""Synthetic hematoxylin-DAB cell images with known cells and classes.

:func:`make_cell_image` draws elliptical nuclei (hematoxylin with chromatin
texture; a chosen fraction as touching pairs to exercise the watershed split),
a cytoplasm around each nucleus (nearest-nucleus partition, width drawn per
cell) carrying DAB at a level drawn inside the cell's class band, and a faint
stroma in between, then renders RGB by Beer-Lambert with the Ruifrok-Johnston
stain vectors::

    I = I0 * 10 ** -(h_od * h_vec + dab_od * dab_vec)

Class bands are centred on 0.1 / 0.3 / 0.5 / 0.8 DAB OD (negative, 1+, 2+,
3+) with +-``level_jitter``, so each true class is unambiguous under the
QuPath thresholds 0.2 / 0.4 / 0.6. Everything is deterministic given ``seed``.

Examples
--------
>>> s = make_cell_image(seed=1, shape=(128, 128))
>>> s.image.shape, s.image.dtype.name, int(s.truth.nuclei.max()) == len(s.truth.table)
((128, 128, 3), 'uint8', True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import pandas as pd
from scipy import ndimage as ndi

from ..errors import ParameterError

__all__ = ["make_cell_image", "SyntheticCellImage", "CellTruth", "H_VECTOR", "DAB_VECTOR", "CLASS_LEVELS"]

_H = np.array([0.650, 0.704, 0.286])
_D = np.array([0.268, 0.570, 0.776])
#: Ruifrok-Johnston unit stain vectors (R, G, B).
H_VECTOR = _H / np.linalg.norm(_H)
DAB_VECTOR = _D / np.linalg.norm(_D)
#: Centre of the cytoplasm DAB OD band of each class (negative, 1+, 2+, 3+).
CLASS_LEVELS = (0.1, 0.3, 0.5, 0.8)


@dataclass
class CellTruth:
    """Ground truth of a synthetic cell image.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell: ``cell`` (id in the label images), ``y``, ``x``
        (nucleus centre, row/col px), ``nucleus_radius`` (px, sqrt of the
        semi-axes' product), ``nucleus_ry``, ``nucleus_rx``, ``angle`` (rad),
        ``nucleus_area`` (px), ``cytoplasm_width`` (px), ``class`` (0..3),
        ``dab_level`` (cytoplasm DAB OD level), ``pair`` (id of its touching
        pair, 0 if none).
    nuclei, cells : ndarray, int32
        Label images (ids = ``table.cell``); cells contain their nucleus.
    h_od, dab_od : ndarray, float32
        Noise-free stain OD maps that were rendered.
    """

    table: pd.DataFrame
    nuclei: np.ndarray
    cells: np.ndarray
    h_od: np.ndarray
    dab_od: np.ndarray


@dataclass
class SyntheticCellImage:
    """Result of :func:`make_cell_image`: ``image`` (RGB uint8), ``truth``, ``params``."""

    image: np.ndarray
    truth: CellTruth
    params: dict = field(default_factory=dict)


def _field(rng, shape, sigma):
    """Smooth Gaussian random field with unit standard deviation."""
    f = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
    return f / max(float(f.std()), 1e-6)


def _place(rng, n_cells, shape, px, touching_fraction, margin_um=1.0, gap_um=2.0,
           nucleus_um=(3.0, 4.5)):
    """Nucleus centres/axes (px): singles by rejection sampling, plus touching pairs."""
    n_pair_cells = 2 * int(round(n_cells * touching_fraction / 2))
    geo = np.zeros((n_cells + 1, 5))  # cy, cx, ry, rx, angle
    pair = np.zeros(n_cells + 1, int)
    k = 0
    pair_id = 0
    tries = 0
    while k < n_cells and tries < 200 * n_cells:
        tries += 1
        is_pair = k < n_pair_cells
        a = rng.uniform(*nucleus_um) / px
        b = a * (rng.uniform(0.85, 1.0) if is_pair else rng.uniform(0.65, 1.0))
        th = rng.uniform(0, np.pi)
        cy = rng.uniform(a + margin_um / px, shape[0] - a - margin_um / px)
        cx = rng.uniform(a + margin_um / px, shape[1] - a - margin_um / px)
        new = [(cy, cx, a, b, th)]
        if is_pair:
            a2 = rng.uniform(*nucleus_um) / px
            b2 = a2 * rng.uniform(0.85, 1.0)
            r1, r2 = np.sqrt(a * b), np.sqrt(a2 * b2)
            d = (r1 + r2) * rng.uniform(0.8, 0.9)
            phi = rng.uniform(0, 2 * np.pi)
            cy2, cx2 = cy + d * np.sin(phi), cx + d * np.cos(phi)
            lo = a2 + margin_um / px
            if not (lo <= cy2 <= shape[0] - lo and lo <= cx2 <= shape[1] - lo):
                continue
            new.append((cy2, cx2, a2, b2, rng.uniform(0, np.pi)))
        placed = geo[:k]
        if k and any(
            np.any(np.hypot(placed[:, 0] - c[0], placed[:, 1] - c[1]) < placed[:, 2] + c[2] + gap_um / px)
            for c in new
        ):
            continue
        if is_pair:
            pair_id += 1
        for c in new:
            geo[k] = c
            pair[k] = pair_id if is_pair else 0
            k += 1
    return tuple(geo[:k].T.copy()), pair[:k]


def make_cell_image(
    seed: int = 0,
    *,
    shape: tuple[int, int] = (512, 512),
    n_cells: int | None = None,
    pixel_size_um: float = 0.5,
    class_fractions=(0.25, 0.25, 0.25, 0.25),
    touching_fraction: float = 0.2,
    white_point=255,
    jpeg_quality: int | None = None,
    cytoplasm_um=(5.0, 7.0),
    level_jitter: float = 0.04,
    noise: float = 1.5,
    nucleus_um=(3.0, 4.5),
) -> SyntheticCellImage:
    """Render a synthetic H-DAB image of cells with known classes.

    Parameters
    ----------
    seed : int
        Random seed (the output is a pure function of all arguments).
    shape : (rows, cols)
        Image size in pixels.
    n_cells : int, optional
        Number of cells to place; default one per 400 um^2 (fewer are placed
        if the image is too crowded).
    pixel_size_um : float
        Pixel size; cell geometry is defined in um (nucleus semi-axes 3-4.5 um).
    class_fractions : 4 floats
        Probabilities of classes negative, 1+, 2+, 3+ (normalised).
    touching_fraction : float
        Fraction of cells placed as touching nucleus pairs (0..1).
    white_point : float or (r, g, b)
        Incident light I0 (background intensity).
    jpeg_quality : int, optional
        Round-trip the image through JPEG at this quality (1..100).
    cytoplasm_um : (min, max)
        Range of the per-cell cytoplasm width around the nucleus (um).
    level_jitter : float
        Half-width of each class's DAB OD band around ``CLASS_LEVELS``.
    noise : float
        Standard deviation of additive sensor noise (grey levels).
    nucleus_um : (min, max)
        Range of the nucleus' long semi-axis (um); the short one is 0.65-1 x
        that (0.85-1 x in touching pairs).  With ``cytoplasm_um`` this sets
        the cell size independently of the pixel size.

    Returns
    -------
    SyntheticCellImage

    Examples
    --------
    >>> s = make_cell_image(seed=0, shape=(256, 256), touching_fraction=0.5)
    >>> t = s.truth.table
    >>> bool((t["pair"] > 0).any()), sorted(t["class"].unique().tolist()) == [0, 1, 2, 3]
    (True, True)
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 2 or min(shape) < 16:
        raise ParameterError(f"shape must be (rows, cols) with both >= 16; got {shape}.")
    if not pixel_size_um > 0:
        raise ParameterError(f"pixel_size_um must be > 0; got {pixel_size_um!r}.")
    frac = np.asarray(class_fractions, float)
    if frac.shape != (4,) or np.any(frac < 0) or frac.sum() <= 0:
        raise ParameterError(f"class_fractions must be 4 non-negative numbers; got {class_fractions!r}.")
    if not 0 <= touching_fraction <= 1:
        raise ParameterError(f"touching_fraction must be in [0, 1]; got {touching_fraction!r}.")
    if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
        raise ParameterError(f"jpeg_quality must be in 1..100; got {jpeg_quality!r}.")
    wp = np.broadcast_to(np.asarray(white_point, float), (3,)).astype(np.float32)
    px = float(pixel_size_um)
    if n_cells is None:
        n_cells = max(1, int(shape[0] * shape[1] * px * px / 400))
    rng = np.random.default_rng(seed)

    nucleus_um = tuple(float(v) for v in nucleus_um)
    if len(nucleus_um) != 2 or not 0 < nucleus_um[0] <= nucleus_um[1]:
        raise ParameterError(f"nucleus_um must be (min, max) with 0 < min <= max; got {nucleus_um!r}.")
    (cy, cx, ry, rx, ang), pair = _place(rng, int(n_cells), shape, px, touching_fraction,
                                         nucleus_um=nucleus_um)
    n = cy.size
    cls = rng.choice(4, size=n, p=frac / frac.sum())
    level = np.asarray(CLASS_LEVELS)[cls] + rng.uniform(-level_jitter, level_jitter, n)
    h_level = rng.uniform(0.45, 0.75, n)
    width = rng.uniform(cytoplasm_um[0], cytoplasm_um[1], n) / px

    # nuclei: normalised elliptical radius per pixel, nearest ellipse wins
    rho = np.full(shape, np.inf, np.float32)
    nuclei = np.zeros(shape, np.int32)
    edge = np.zeros(shape, np.float32)
    for i in range(n):
        r = int(np.ceil(max(ry[i], rx[i]))) + 2
        y0, y1 = max(int(cy[i]) - r, 0), min(int(cy[i]) + r + 1, shape[0])
        x0, x1 = max(int(cx[i]) - r, 0), min(int(cx[i]) + r + 1, shape[1])
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dy, dx = yy - cy[i], xx - cx[i]
        u = dy * np.cos(ang[i]) - dx * np.sin(ang[i])
        v = dy * np.sin(ang[i]) + dx * np.cos(ang[i])
        q = np.sqrt((u / ry[i]) ** 2 + (v / rx[i]) ** 2).astype(np.float32)
        sub = rho[y0:y1, x0:x1]
        win = q < sub
        sub[win] = q[win]
        nuclei[y0:y1, x0:x1][win & (q <= 1)] = i + 1
        # 1-px anti-aliased rim
        e = np.clip((1 - q) * np.sqrt(ry[i] * rx[i]) + 0.5, 0, 1)
        edge[y0:y1, x0:x1] = np.maximum(edge[y0:y1, x0:x1], e)
    dist, (iy, ix) = ndi.distance_transform_edt(nuclei == 0, return_indices=True)
    owner = nuclei[iy, ix]
    wlut = np.r_[0.0, width]
    cells = np.where((owner > 0) & (dist <= wlut[owner]), owner, 0).astype(np.int32)

    # stain OD maps
    hlut = np.r_[0.0, h_level].astype(np.float32)
    dlut = np.r_[0.0, level].astype(np.float32)
    chromatin = 1 + 0.15 * _field(rng, shape, 1.0)
    granules = np.clip(1 + 0.25 * _field(rng, shape, 1.5), 0.2, None)
    fibres = np.clip(1 + 0.5 * _field(rng, shape, 3.0), 0, None)
    nuc_owner = np.where(edge > 0, owner, 0)
    h_od = np.where(cells > 0, 0.06, 0.04 * fibres).astype(np.float32)
    h_od = np.maximum(h_od, edge * hlut[nuc_owner] * chromatin)
    cyto = (cells > 0) & (nuclei == 0)
    dab_od = np.where(cyto, dlut[cells] * granules, 0.02 * fibres)
    dab_od = np.where(nuclei > 0, 0.15 * dlut[nuclei], dab_od).astype(np.float32)
    h_od, dab_od = np.clip(h_od, 0, None), np.clip(dab_od, 0, None)

    od = h_od[..., None] * H_VECTOR.astype(np.float32) + dab_od[..., None] * DAB_VECTOR.astype(np.float32)
    rgb = wp * np.power(10.0, -od, dtype=np.float32)
    if noise > 0:
        rgb = rgb + rng.normal(0, noise, rgb.shape).astype(np.float32)
    image = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        ok, buf = cv2.imencode(".jpg", image[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        image = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])

    ids = np.arange(1, n + 1)
    table = pd.DataFrame(
        {
            "cell": ids, "y": cy, "x": cx, "nucleus_radius": np.sqrt(ry * rx),
            "nucleus_ry": ry, "nucleus_rx": rx, "angle": ang,
            "nucleus_area": np.bincount(nuclei.ravel(), minlength=n + 1)[1:],
            "cytoplasm_width": width, "class": cls.astype(np.int64), "dab_level": level, "pair": pair,
        }
    )  # fmt: skip
    params = {
        "seed": seed, "shape": list(shape), "n_cells": int(n_cells), "n_placed": int(n),
        "pixel_size_um": px, "class_fractions": frac.tolist(), "touching_fraction": float(touching_fraction),
        "white_point": wp.tolist(), "jpeg_quality": jpeg_quality, "cytoplasm_um": list(cytoplasm_um),
        "level_jitter": float(level_jitter), "noise": float(noise), "nucleus_um": list(nucleus_um),
    }  # fmt: skip
    truth = CellTruth(table=table, nuclei=nuclei, cells=cells, h_od=h_od, dab_od=dab_od)
    return SyntheticCellImage(image=image, truth=truth, params=params)
