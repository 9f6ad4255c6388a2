"""Synthetic H-DAB immunohistochemistry images with per-pixel ground truth.

The image is made by Beer-Lambert mixing of known hematoxylin and DAB amounts
(OD maps, QuPath units) with unit stain vectors:

    I_c = I0_c * 10 ** -(h * H_c + d * DAB_c)

on a tissue layout of glands (epithelial rings around empty lumens, with
cytoplasmic DAB of a per-gland level and granular texture, basal nuclei) set in
hematoxylin-stained stroma with sparse elongated nuclei, on glass.  Options add
an off-white background (white point), camera noise, dust on the glass,
perturbed stain vectors and JPEG compression.  Everything is deterministic
given ``seed``.

Examples
--------
>>> s = make_ihc(seed=0, shape=(128, 160))
>>> s.image.shape, s.image.dtype.name, s.truth.tissue_mask.dtype.name
((128, 160, 3), 'uint8', 'bool')
>>> bool(0 < s.truth.h_score < 300)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike
from scipy import ndimage as ndi

from ..errors import ParameterError
from ..ihc.params import DEFAULT_THRESHOLDS
from ..ihc.deconvolution import (RUIFROK_H, as_stain_matrix, as_white_point, normalize_vector,
                                 stain_matrix)

__all__ = ["make_ihc", "IHCTruth", "SyntheticIHC", "perturb_stains", "pixel_truth_scores",
           "EOSIN", "HE_STAINS"]

#: Ruifrok and Johnston's eosin OD vector (unit length).
EOSIN = tuple(float(v) for v in normalize_vector((0.072, 0.990, 0.105)))
#: Hematoxylin and eosin in place of DAB: ``make_ihc(stains=HE_STAINS)`` renders the
#: generator's tissue as an H&E section (what an H-DAB scorer must not take for DAB).
HE_STAINS = (RUIFROK_H, EOSIN)


@dataclass
class IHCTruth:
    """Ground truth of a synthetic IHC image.

    Attributes
    ----------
    dab_od, h_od : float32 (rows, cols)
        True stain amounts per pixel (QuPath OD units); 0 on glass.
    tissue_mask : bool (rows, cols)
        Tissue (stroma + epithelium; gland lumens and glass are False).
    white_point : float64 (3,)
        Background RGB (I0) used to render the image.
    stains : float64 (3, 3)
        True unit stain vectors [H, DAB, residual].
    classes : uint8 (rows, cols)
        True pixel classes (0 glass, 1 negative, 2 1+, 3 2+, 4 3+) at ``thresholds``.
    h_score, pct_positive : float
        Pixel H-score / percent positive over all tissue pixels.
    counts : dict
        n, n_negative, n_1plus, n_2plus, n_3plus (tissue pixels).
    thresholds : tuple
    epithelium_mask, nuclei_mask, dust_mask : bool (rows, cols)
    gland_levels : float64 array
        Mean cytoplasmic DAB OD of each gland.
    """

    dab_od: np.ndarray
    h_od: np.ndarray
    tissue_mask: np.ndarray
    white_point: np.ndarray
    stains: np.ndarray
    classes: np.ndarray
    h_score: float
    pct_positive: float
    counts: dict
    thresholds: tuple
    epithelium_mask: np.ndarray
    nuclei_mask: np.ndarray
    dust_mask: np.ndarray
    gland_levels: np.ndarray


@dataclass
class SyntheticIHC:
    """A synthetic IHC image (``image``: uint8 RGB), its ``truth`` and ``params``."""

    image: np.ndarray
    truth: IHCTruth
    params: dict = field(default_factory=dict)


def pixel_truth_scores(dab_od: ArrayLike, tissue_mask: ArrayLike,
                       thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                       ) -> tuple[np.ndarray, dict[str, int], float, float]:
    """Classes, counts, H-score and percent positive of a DAB map over a mask.

    Parameters
    ----------
    dab_od : array_like of float
        True DAB optical density per pixel.
    tissue_mask : array_like of bool
        Pixels that count (same shape as ``dab_od``).
    thresholds : sequence of float, optional
        Increasing DAB thresholds; a pixel at or above a threshold is in the
        class above it.

    Returns
    -------
    classes : numpy.ndarray of uint8
        0 outside the mask, else 1 (negative) .. 1 + len(thresholds).
    counts : dict
        ``n``, ``n_negative``, ``n_1plus``, ``n_2plus`` and ``n_3plus``.
    h_score : float
        H-score (0..300); NaN when the mask is empty.
    percent_positive : float
        Percentage of masked pixels in classes 1+ to 3+; NaN when the mask is
        empty.

    Examples
    --------
    >>> classes, counts, h, pct = pixel_truth_scores(
    ...     np.array([[0.1, 0.3, 0.5, 0.7]]), np.ones((1, 4), bool))
    >>> classes.tolist(), h, pct
    ([[1, 2, 3, 4]], 150.0, 75.0)
    """
    t = np.asarray(thresholds, float)
    d = np.asarray(dab_od)
    classes = np.zeros(d.shape, np.uint8)
    m = np.asarray(tissue_mask, bool)
    classes[m] = (1 + np.searchsorted(t, d[m], side="right")).astype(np.uint8)
    c = np.bincount(classes[m], minlength=5)
    n = int(c[1:].sum())
    counts = {"n": n, "n_negative": int(c[1]), "n_1plus": int(c[2]),
              "n_2plus": int(c[3]), "n_3plus": int(c[4])}
    if n == 0:
        return classes, counts, float("nan"), float("nan")
    h = float((c[2] + 2 * c[3] + 3 * c[4]) * 100.0 / n)
    pct = float((c[2] + c[3] + c[4]) * 100.0 / n)
    return classes, counts, h, pct


def perturb_stains(stains: Any = "default", degrees: float = 5.0,
                   seed: int | None = 0) -> np.ndarray:
    """Rotate H and DAB vectors by ``degrees`` in random directions (kept positive).

    Parameters
    ----------
    stains : str, array_like or dict, optional
        The stain vectors to perturb, as for
        :func:`~blotquant.ihc.deconvolution.as_stain_matrix`.
    degrees : float, optional
        Angle between each original and rotated vector.
    seed : int, optional
        Seed of the random directions.

    Returns
    -------
    numpy.ndarray of float64, shape (3, 3)
        The stain matrix of the rotated H and DAB vectors (residual from
        :func:`~blotquant.ihc.deconvolution.stain_matrix`).

    Examples
    --------
    >>> from blotquant.ihc.deconvolution import RUIFROK_HDAB, vector_angle_deg
    >>> m = perturb_stains(degrees=4, seed=1)
    >>> round(vector_angle_deg(m[0], RUIFROK_HDAB[0]), 6)
    4.0
    """
    base = as_stain_matrix(stains)
    rng = np.random.default_rng(seed)
    out = []
    for v in base[:2]:
        for _ in range(100):
            r = rng.standard_normal(3)
            r -= (r @ v) * v
            r = normalize_vector(r)
            a = np.radians(degrees)
            w = np.cos(a) * v + np.sin(a) * r
            if np.all(w > 0.02):
                break
        out.append(w)
    return stain_matrix(out[0], out[1])


def _smooth_field(rng, shape, scale, *, order=3):
    """Zero-mean, unit-std random field with correlation length ~``scale`` px."""
    h, w = shape
    gh = max(2, int(np.ceil(h / scale)) + 3)
    gw = max(2, int(np.ceil(w / scale)) + 3)
    g = rng.standard_normal((gh, gw)).astype(np.float32)
    g = ndi.gaussian_filter(g, 0.8)
    big = cv2.resize(g, (int(gw * scale), int(gh * scale)), interpolation=cv2.INTER_CUBIC)
    big = big[:h, :w]
    big = big - big.mean()
    s = big.std()
    return big / (s if s > 0 else 1.0)


def _ellipse_rho(rr, cc, cy, cx, a, b, theta):
    """Normalised elliptical radius (1 on the ellipse)."""
    y = rr - cy
    x = cc - cx
    ct, st = np.cos(theta), np.sin(theta)
    u = x * ct + y * st
    v = -x * st + y * ct
    return np.sqrt((u / a) ** 2 + (v / b) ** 2)


def make_ihc(seed: int = 0, *, shape: Sequence[int] = (512, 512),
             tissue_fraction: float = 0.7, gland_density: float = 1.5,
             gland_radius: tuple[float, float] = (40.0, 90.0),
             epithelium_width: tuple[float, float] = (20.0, 36.0),
             dab_range: tuple[float, float] = (0.0, 0.9), dab_texture: float = 0.3,
             nucleus_radius: tuple[float, float] = (4.0, 6.5),
             nucleus_h: tuple[float, float] = (0.45, 0.85),
             stroma_h: tuple[float, float] = (0.08, 0.25), stroma_dab: float = 0.04,
             cytoplasm_h: float = 0.05, stroma_nuclei_density: float = 1.0,
             white_point: float | ArrayLike = 255, stains: Any = None,
             noise: float = 2.0, dust: int = 0, jpeg_quality: int | None = None,
             jpeg_subsampling: str = "4:2:0",
             thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             pixel_size_um: float = 0.5) -> SyntheticIHC:
    """Make a synthetic H-DAB image with known per-pixel stain amounts.

    Parameters
    ----------
    seed : int
        Seed of the random generator.
    shape : (rows, cols)
        Image size in pixels.
    tissue_fraction : float
        Approximate fraction of the field covered by tissue (before lumens).
    gland_density : float
        Multiplier of the number of gland placement attempts (1 = one per 160^2 px of tissue).
    gland_radius, epithelium_width : (min, max) px
        Ranges of the gland radius and of the epithelium width (uniform).
    dab_range : (min, max)
        Per-gland mean cytoplasmic DAB OD is uniform in this range.
    dab_texture : float
        Relative amplitude of the granular DAB texture within cytoplasm.
    nucleus_radius, nucleus_h : (min, max)
        Ranges of the nucleus radius (px) and of its hematoxylin OD.
    stroma_h : (min, max)
        Hematoxylin OD of stroma (smooth random field inside this range).
    stroma_dab : float
        Maximum non-specific DAB OD in stroma.
    cytoplasm_h : float
        Hematoxylin counterstain OD of epithelial cytoplasm.
    stroma_nuclei_density : float
        Stromal nuclei per 2000 px of stroma.
    white_point : float or (r, g, b)
        Glass RGB (I0), e.g. ``(240, 235, 245)`` for an off-white slide.
    stains : None, "default", (2, 3) or (3, 3)
        True stain vectors (None = Ruifrok-Johnston H-DAB).
    noise : float
        Camera noise standard deviation at white, in 8-bit levels (shot-noise scaled).
    dust : int
        Number of dark dust specks on the glass.
    jpeg_quality : int or None
        Round-trip the image through JPEG at this quality (OpenCV).
    jpeg_subsampling : {"4:2:0", "4:2:2", "4:4:4"}
        JPEG chroma subsampling (4:2:0 is the common default of cameras and
        most scanners; 4:4:4 keeps full colour resolution).
    thresholds : (t1, t2, t3)
        DAB thresholds of the true pixel classes.
    pixel_size_um : float
        Recorded in ``params`` (not used for rendering).

    Returns
    -------
    SyntheticIHC
        ``image`` (uint8 RGB), ``truth`` (stain maps, tissue mask, true
        classes and scores) and ``params``.

    Examples
    --------
    >>> s = make_ihc(seed=2, shape=(96, 96), white_point=(240, 235, 245), jpeg_quality=85)
    >>> s.truth.white_point.tolist(), s.params["jpeg_quality"]
    ([240.0, 235.0, 245.0], 85)
    """
    params = dict(seed=seed, shape=tuple(int(x) for x in shape),
                  tissue_fraction=tissue_fraction, gland_density=gland_density,
                  gland_radius=tuple(gland_radius), epithelium_width=tuple(epithelium_width),
                  dab_range=tuple(dab_range), dab_texture=dab_texture,
                  nucleus_radius=tuple(nucleus_radius), nucleus_h=tuple(nucleus_h),
                  stroma_h=tuple(stroma_h), stroma_dab=stroma_dab, cytoplasm_h=cytoplasm_h,
                  stroma_nuclei_density=stroma_nuclei_density,
                  white_point=np.asarray(white_point, float).tolist(),
                  stains=None if stains is None else as_stain_matrix(stains).tolist(),
                  noise=noise, dust=dust, jpeg_quality=jpeg_quality,
                  jpeg_subsampling=jpeg_subsampling,
                  thresholds=tuple(thresholds), pixel_size_um=pixel_size_um)
    h, w = params["shape"]
    if h < 16 or w < 16:
        raise ParameterError(f"shape {shape} too small for a synthetic IHC image (min 16x16)")
    if not 0 < tissue_fraction <= 1:
        raise ParameterError("tissue_fraction must be in (0, 1]")
    rng = np.random.default_rng(seed)
    wp = as_white_point(white_point)
    m = as_stain_matrix(stains)
    rr, cc = np.mgrid[0:h, 0:w].astype(np.float32)

    # --- tissue layout ------------------------------------------------------
    field_ = _smooth_field(rng, (h, w), max(h, w) / 3.0)
    if tissue_fraction >= 1:
        tissue = np.ones((h, w), bool)
    else:
        tissue = field_ > np.quantile(field_, 1 - tissue_fraction)
    tissue = ndi.binary_opening(tissue, iterations=2)
    tissue = ndi.binary_fill_holes(tissue)

    epi = np.zeros((h, w), bool)
    lumen = np.zeros((h, w), bool)
    dab_level = np.zeros((h, w), np.float32)
    gland_id = np.zeros((h, w), np.int32)
    nuclei = np.zeros((h, w), bool)
    nuc_h = np.zeros((h, w), np.float32)
    n_glands = int(round(gland_density * tissue.sum() / 160.0 ** 2))
    levels = []
    placed = []
    tries = 0
    dist_in = ndi.distance_transform_edt(tissue)
    cand = np.argwhere(dist_in > gland_radius[0] * 0.8)
    while len(levels) < n_glands and tries < 50 * max(n_glands, 1) and len(cand):
        tries += 1
        cy, cx = cand[rng.integers(len(cand))]
        a = rng.uniform(*gland_radius)
        b = a * rng.uniform(0.6, 1.0)
        if any(np.hypot(cy - py, cx - px) < (a + pa) * 1.02 for py, px, pa in placed):
            continue
        placed.append((cy, cx, a))
        theta = rng.uniform(0, np.pi)
        width = rng.uniform(*epithelium_width)
        r0, r1 = int(max(cy - a - 2, 0)), int(min(cy + a + 3, h))
        c0, c1 = int(max(cx - a - 2, 0)), int(min(cx + a + 3, w))
        rho = _ellipse_rho(rr[r0:r1, c0:c1], cc[r0:r1, c0:c1], cy, cx, a, b, theta)
        inner = max(0.15, 1.0 - width / b)
        ring = (rho <= 1.0) & (rho > inner)
        lum = rho <= inner
        gid = len(levels) + 1
        level = rng.uniform(*dab_range)
        levels.append(level)
        epi[r0:r1, c0:c1] |= ring
        lumen[r0:r1, c0:c1] |= lum
        dab_level[r0:r1, c0:c1][ring] = level
        gland_id[r0:r1, c0:c1][ring] = gid
        # basal nuclei along the ring, at 80% of the ring thickness from the lumen
        rho_n = inner + 0.7 * (1 - inner)
        circ = 2 * np.pi * np.sqrt((a * a + b * b) / 2) * rho_n
        nr = rng.uniform(*nucleus_radius)
        k = max(3, int(circ / (2.6 * nr)))
        for t in np.linspace(0, 2 * np.pi, k, endpoint=False) + rng.uniform(0, 1):
            u, v = a * rho_n * np.cos(t), b * rho_n * np.sin(t)
            ny = cy + u * np.sin(theta) + v * np.cos(theta)
            nx = cx + u * np.cos(theta) - v * np.sin(theta)
            _stamp_nucleus(nuclei, nuc_h, ny, nx, rng.uniform(*nucleus_radius) * 1.1,
                           rng.uniform(*nucleus_radius) * 0.75, t + np.pi / 2 + theta,
                           rng.uniform(*nucleus_h), rr, cc)
    tissue = (tissue | epi) & ~lumen
    stroma = tissue & ~epi

    # stroma nuclei: sparse, elongated
    n_sn = int(stroma_nuclei_density * stroma.sum() / 2000.0)
    spts = np.argwhere(stroma)
    for _ in range(n_sn if len(spts) else 0):
        ny, nx = spts[rng.integers(len(spts))]
        r = rng.uniform(*nucleus_radius)
        _stamp_nucleus(nuclei, nuc_h, ny, nx, r * 1.6, r * 0.55, rng.uniform(0, np.pi),
                       rng.uniform(*nucleus_h), rr, cc)
    nuclei &= tissue

    # --- stain amounts ------------------------------------------------------
    tex = _smooth_field(rng, (h, w), 4.0)
    tex2 = _smooth_field(rng, (h, w), 40.0)
    sh = stroma_h[0] + (stroma_h[1] - stroma_h[0]) * (0.5 + 0.5 * np.tanh(0.8 * tex2))
    hmap = np.where(stroma, sh, 0).astype(np.float32)
    hmap[epi] = cytoplasm_h * (1 + 0.3 * tex[epi])
    dmap = np.zeros((h, w), np.float32)
    dmap[epi] = dab_level[epi] * np.clip(1 + dab_texture * tex[epi], 0.2, None)
    sd = stroma_dab * (0.5 + 0.5 * np.tanh(tex2 + 0.5 * tex))
    dmap[stroma] = sd[stroma]
    hmap[nuclei] = nuc_h[nuclei] * np.clip(1 + 0.15 * tex[nuclei], 0.5, None)
    dmap[nuclei] *= 0.15
    # anti-alias inside the tissue only (glass stays exactly 0)
    hmap = ndi.gaussian_filter(hmap, 0.6) * tissue
    dmap = ndi.gaussian_filter(dmap, 0.6) * tissue
    hmap = np.clip(hmap, 0, None).astype(np.float32)
    dmap = np.clip(dmap, 0, None).astype(np.float32)

    # --- dust on glass ------------------------------------------------------
    dust_mask = np.zeros((h, w), bool)
    grey_od = np.zeros((h, w), np.float32)
    glass_pts = np.argwhere(~tissue)
    for _ in range(int(dust) if len(glass_pts) else 0):
        dy, dx = glass_pts[rng.integers(len(glass_pts))]
        r = rng.uniform(0.8, 3.0)
        d2 = (rr - dy) ** 2 + (cc - dx) ** 2
        spot = (d2 <= r * r) & ~tissue
        dust_mask |= spot
        grey_od[spot] = rng.uniform(0.3, 1.2)

    # --- render -------------------------------------------------------------
    od = hmap[..., None] * m[0] + dmap[..., None] * m[1] + grey_od[..., None] / np.sqrt(3)
    inten = wp * np.power(10.0, -od)
    if noise > 0:
        sigma = noise * np.sqrt(np.maximum(inten, 1.0) / 255.0)
        inten = inten + rng.standard_normal(inten.shape) * sigma
    img = np.clip(np.rint(inten), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        sub = {"4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
               "4:2:2": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
               "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}.get(jpeg_subsampling)
        if sub is None:
            raise ParameterError("jpeg_subsampling must be '4:2:0', '4:2:2' or '4:4:4'")
        ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality),
                                                        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, sub])
        if not ok:  # pragma: no cover
            raise ParameterError("JPEG encoding failed")
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()

    classes, counts, hs, pct = pixel_truth_scores(dmap, tissue, thresholds)
    truth = IHCTruth(dab_od=dmap, h_od=hmap, tissue_mask=tissue, white_point=wp, stains=m,
                     classes=classes, h_score=hs, pct_positive=pct, counts=counts,
                     thresholds=tuple(thresholds), epithelium_mask=epi & tissue,
                     nuclei_mask=nuclei, dust_mask=dust_mask, gland_levels=np.array(levels))
    return SyntheticIHC(image=img, truth=truth, params=params)


def _stamp_nucleus(mask, hval, cy, cx, a, b, theta, value, rr, cc):
    h, w = mask.shape
    r = int(np.ceil(max(a, b))) + 1
    r0, r1 = max(int(cy) - r, 0), min(int(cy) + r + 2, h)
    c0, c1 = max(int(cx) - r, 0), min(int(cx) + r + 2, w)
    if r0 >= r1 or c0 >= c1:
        return
    rho = _ellipse_rho(rr[r0:r1, c0:c1], cc[r0:r1, c0:c1], cy, cx, a, b, theta)
    inside = rho <= 1.0
    mask[r0:r1, c0:c1] |= inside
    hval[r0:r1, c0:c1][inside] = value
