"""Synthetic western blots with exact ground truth.

:func:`make_blot` renders a realistic blot image (lanes, band rows, optional
ladder, tilt, smile, sloping rows, uneven background, membrane texture, dust,
Poisson-Gaussian noise, clipping) together with a :class:`BlotTruth` that says
exactly where every lane and band is and how much signal each band holds.
:func:`make_dilution_series` makes a blot whose lanes are a serial dilution
(for linearity tests).

Image model
-----------
All intensities are in raw image units (counts of the chosen dtype). With
``B`` the noise-free background, ``S`` the noise-free band signal (>= 0,
polarity independent: "amount" of signal) and ``A`` the dust artifacts::

    light-on-dark (fluorescence, raw chemiluminescence camera):
        noise_free = B + S + A
    dark-on-light (film, inverted camera image):
        noise_free = B - S + A          (B is bright here, bands darken it)

The final image is ``clip(rint(noisy(noise_free)), black_level, saturation_level)``
cast to the dtype, where ``noisy`` applies Poisson shot noise (``gain``
counts per electron) plus Gaussian read noise (``read_sigma`` counts).

Truth definitions
-----------------
volume
    Exact sum over pixels of the band's own noise-free signal ``S`` (float64,
    before noise, rounding and clipping). Every band is rendered on a finite
    support (its pixels in ``truth.band_labels``); supports never overlap and
    dust is kept off them (unless ``dust_on_bands`` > 0), so in the noise-free
    case ``volume == sum(|noise_free - B|)`` over the band's label region.
amount
    The analytic integral of the continuous band model (peak x across-lane
    integral x along-migration integral); equals ``volume`` to ~1e-3 (pixel
    sampling and the truncated tails are the difference; less when a band is
    cut by the image edge).
y, x
    Image (row, col) of the band's peak on the lane centre line: the maximum of
    the band profile along the lane lies exactly there.
clipped
    True when at least one pixel of the band's label region is at the
    detector limit in the *final* image: ``== saturation_level`` for
    light-on-dark, ``== black_level`` (default 0) for dark-on-light (bands clip to black).

Geometry
--------
The layout is drawn in membrane coordinates (y' along migration, x' across
lanes) and rotated by ``tilt_deg`` about the image centre (positive = rows
run down to the right). Each band row follows
``y'(x') = y_row + smile_px * (1 - s**2) + row_slope_px * s / 2`` with
``s = (x' - xc) / xc`` (-1 at the left image edge, +1 at the right edge,
``xc = (W - 1) / 2``): positive ``smile_px`` makes the central lanes run further
down (a "smile"), positive ``row_slope_px`` makes rows run down to the right.
Lanes are straight lines x' = const.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import ndimage

from ..errors import ParameterError
from ..image import POLARITIES, Image
from ..provenance import __version__

__all__ = [
    "make_blot",
    "make_dilution_series",
    "SyntheticBlot",
    "BlotTruth",
    "PRECISION_PLUS_KDA",
    "ROW_MW_KDA",
]

#: Bio-Rad Precision Plus Protein ladder (kDa, top -> bottom).
PRECISION_PLUS_KDA = (250.0, 150.0, 100.0, 75.0, 50.0, 37.0, 25.0, 20.0, 15.0, 10.0)

#: Apparent molecular weights (kDa) used to place known targets by default.
ROW_MW_KDA = {
    "ASNS": 64.0,
    "ACTB": 42.0,
    "ACTIN": 42.0,
    "BETA-ACTIN": 42.0,
    "GAPDH": 37.0,
    "TUBA": 52.0,
    "TUBA1A": 52.0,
    "ALPHA-TUBULIN": 52.0,
    "TUBULIN": 52.0,
    "VINCULIN": 124.0,
    "VCL": 124.0,
}

_LN2 = math.log(2.0)
_ACROSS_POWER = 6          # super-Gaussian exponent across the lane (flat top)
_ACROSS_CUT = 1.5          # support: |2 dx / band_width| <= 1.5 (value there 3.7e-4)
_ALONG_CUT = 4.0           # support: -4 sigma_top <= dy <= 4 sigma_bottom
_FWHM = 2.0 * math.sqrt(2.0 * _LN2)

_BACKGROUND_KEYS = ("level", "gradient", "gradient_angle_deg", "lowfreq", "texture",
                    "gap_level")
_NOISE_KEYS = ("gain", "read_sigma")


# --------------------------------------------------------------------------- results
@dataclass
class BlotTruth:
    """Ground truth of a synthetic blot (see the module docstring for definitions).

    Attributes
    ----------
    lanes : pandas.DataFrame
        One row per lane: ``lane`` (1-based), ``x`` (centre column at the image's
        middle row), ``width`` (px), ``geometry`` (list of (row, col) points of the
        straight centre line, top to bottom), ``is_ladder``, ``is_empty``.
    bands : pandas.DataFrame
        One row per sample band (ladder and empty lanes have none): ``lane``, ``row``
        (name), ``y``, ``x`` (peak position on the lane centre line),
        ``y_centroid`` (signal-weighted mean row of the band; differs from ``y``
        by the band's asymmetry, about -0.68 x band_height x band_skew), ``height``
        (FWHM along migration), ``width`` (FWHM across the lane), ``load``,
        ``peak`` (peak signal, raw units), ``volume`` (exact), ``amount``
        (analytic), ``clipped``, ``n_clipped`` (pixels at the detector limit),
        ``top``, ``bottom``, ``left``, ``right`` (inclusive pixel bounding box of
        the band's label region) and ``label`` (its value in ``band_labels``).
    ladder : pandas.DataFrame
        Ladder bands: ``lane``, ``kda``, ``y``, ``x``, ``height``, ``width``,
        ``peak``, ``volume``, ``clipped``, ``label`` (empty without a ladder).
    dust : pandas.DataFrame
        Dust specks: ``row``, ``col``, ``sigma`` (px), ``amplitude`` (raw units,
        signed, added to the noise-free image), ``kind`` ("bright" | "dark"),
        ``on_band`` (label of the band under the speck's centre, 0 = off the bands).
    strips : pandas.DataFrame
        Membrane strips: ``strip``, ``rows`` (names), ``top``, ``bottom`` (rows at
        the image's middle column).
    background, signal, artifacts : numpy.ndarray
        Noise-free background, band signal (>= 0) and dust images (float64).
    band_labels : numpy.ndarray
        int32 image; ``label`` of the band (or ladder band) owning each pixel, 0
        elsewhere. Supports are disjoint by construction.
    saturation_level : float
    polarity : str
    tilt_deg, smile_px, row_slope_px : float
    """

    lanes: pd.DataFrame
    bands: pd.DataFrame
    ladder: pd.DataFrame
    dust: pd.DataFrame
    strips: pd.DataFrame
    background: np.ndarray
    signal: np.ndarray
    artifacts: np.ndarray
    band_labels: np.ndarray
    saturation_level: float
    polarity: str
    tilt_deg: float = 0.0
    smile_px: float = 0.0
    row_slope_px: float = 0.0

    @property
    def sign(self) -> int:
        """+1 for light-on-dark, -1 for dark-on-light (how signal enters the image)."""
        return 1 if self.polarity == "light-on-dark" else -1

    def noise_free(self) -> np.ndarray:
        """Noise-free image before rounding/clipping: ``background + sign*signal + artifacts``.

        Examples
        --------
        >>> b = make_blot(3, shape=(120, 160), n_lanes=3, noise=False)
        >>> nf = b.truth.noise_free()
        >>> bool(np.all(np.abs(nf - b.image) <= 0.5))
        True
        """
        return self.background + self.sign * self.signal + self.artifacts


@dataclass
class SyntheticBlot:
    """A synthetic blot image with its truth and the parameters that made it.

    Attributes
    ----------
    image : numpy.ndarray
        2-D uint16 (default) or uint8 image.
    truth : BlotTruth
    params : dict
        Every parameter, resolved (random loads, default widths ...), JSON-able.

    Examples
    --------
    >>> b = make_blot(0, shape=(150, 200), n_lanes=4)
    >>> b.image.dtype.name, b.image.shape, len(b.truth.bands)
    ('uint16', (150, 200), 8)
    """

    image: np.ndarray
    truth: BlotTruth
    params: dict = field(default_factory=dict)

    def ratio_truth(self, target: str = "ASNS", control: str = "ACTB") -> pd.DataFrame:
        """True target/control volume ratio per lane.

        Parameters
        ----------
        target, control : str
            Row names.

        Returns
        -------
        pandas.DataFrame
            Columns ``lane``, ``ratio``, ``target_volume``, ``control_volume``; one
            row per lane that has both bands (ratio NaN when the control volume is 0).

        Examples
        --------
        >>> b = make_blot(0, shape=(150, 200), n_lanes=3, loads=[[1, 1], [0.5, 1], [1, 0.5]])
        >>> b.ratio_truth()["ratio"].round(2).tolist()  # ASNS peak 0.25, ACTB 0.45
        [0.56, 0.28, 1.11]
        """
        bands = self.truth.bands
        names = set(bands["row"])
        for name in (target, control):
            if name not in names:
                raise ParameterError(
                    f"row {name!r} is not in this blot; rows are {sorted(names)}")
        t = bands[bands["row"] == target].set_index("lane")["volume"]
        c = bands[bands["row"] == control].set_index("lane")["volume"]
        lanes = sorted(set(t.index) & set(c.index))
        tv = t.loc[lanes].to_numpy(float)
        cv = c.loc[lanes].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(cv > 0, tv / np.where(cv > 0, cv, 1.0), np.nan)
        return pd.DataFrame({"lane": np.asarray(lanes, int), "ratio": ratio,
                             "target_volume": tv, "control_volume": cv})

    def to_image(self) -> Image:
        """Wrap :attr:`image` as a :class:`blotquant.image.Image` with the true
        saturation level and polarity.

        Examples
        --------
        >>> b = make_blot(0, shape=(120, 160), n_lanes=3, dtype="uint8")
        >>> m = b.to_image().metadata
        >>> m.saturation_level, m.polarity
        (255.0, 'light-on-dark')
        """
        return Image.from_array(self.image, saturation_level=self.truth.saturation_level,
                                polarity=self.truth.polarity)


# --------------------------------------------------------------------------- helpers
class _Geometry:
    """Membrane <-> image coordinate mapping (rotation about the image centre)."""

    def __init__(self, shape, tilt_deg, smile_px, row_slope_px):
        self.H, self.W = shape
        self.rc = (self.H - 1) / 2.0
        self.cc = (self.W - 1) / 2.0
        t = math.radians(tilt_deg)
        self.cos, self.sin = math.cos(t), math.sin(t)
        self.smile = float(smile_px)
        self.slope = float(row_slope_px)

    def to_image(self, yp, xp):
        """Membrane (y', x') -> image (row, col)."""
        dy, dx = yp - self.rc, xp - self.cc
        return (self.rc + dy * self.cos + dx * self.sin,
                self.cc - dy * self.sin + dx * self.cos)

    def to_membrane(self, r, c):
        """Image (row, col) -> membrane (y', x')."""
        dr, dc = r - self.rc, c - self.cc
        return (self.rc + dr * self.cos - dc * self.sin,
                self.cc + dr * self.sin + dc * self.cos)

    def offset(self, xp):
        """Row offset (smile + slope) at membrane column x'."""
        s = (np.asarray(xp, float) - self.cc) / max(self.cc, 1e-9)
        return self.smile * (1.0 - s * s) + self.slope * s / 2.0

    def lane_line(self, xk, n=11):
        """(n, 2) polyline (row, col) of the lane x' = xk from image row 0 to H-1."""
        rows = np.linspace(0.0, self.H - 1.0, n)
        yp = self.rc + (rows - self.rc - (xk - self.cc) * self.sin) / self.cos
        _, cols = self.to_image(yp, np.full_like(yp, xk))
        return np.column_stack([rows, cols])


def _render_band(geo, xk, y_row, peak, sig_top, sig_bot, band_width):
    """Render one band on its own window.

    Returns (r0, c0, values, support) or None when the band is entirely outside.
    """
    half_x = _ACROSS_CUT * band_width / 2.0
    xs = np.linspace(xk - half_x, xk + half_x, 65)
    offs = y_row + geo.offset(xs)
    y_lo = offs.min() - _ALONG_CUT * sig_top - 1.0
    y_hi = offs.max() + _ALONG_CUT * sig_bot + 1.0
    cy = np.array([y_lo, y_lo, y_hi, y_hi])
    cx = np.array([xk - half_x - 1, xk + half_x + 1, xk - half_x - 1, xk + half_x + 1])
    rr, cc = geo.to_image(cy, cx)
    r0 = max(int(math.floor(rr.min())), 0)
    r1 = min(int(math.ceil(rr.max())) + 1, geo.H)
    c0 = max(int(math.floor(cc.min())), 0)
    c1 = min(int(math.ceil(cc.max())) + 1, geo.W)
    if r1 <= r0 or c1 <= c0:
        return None
    r = np.arange(r0, r1, dtype=float)[:, None]
    c = np.arange(c0, c1, dtype=float)[None, :]
    yp, xp = geo.to_membrane(r, c)
    u = np.abs(2.0 * (xp - xk) / band_width)
    dy = yp - (y_row + geo.offset(xp))
    support = (u <= _ACROSS_CUT) & (dy >= -_ALONG_CUT * sig_top) & (dy <= _ALONG_CUT * sig_bot)
    sig = np.where(dy < 0, sig_top, sig_bot)
    with np.errstate(over="ignore", under="ignore"):
        val = peak * np.exp(-_LN2 * u ** _ACROSS_POWER - 0.5 * (dy / sig) ** 2)
    val = np.where(support, val, 0.0)
    if not support.any():
        return None
    return r0, c0, val, support


def _analytic_amount(peak, sig_top, sig_bot, band_width):
    """Integral of the continuous band model (untruncated)."""
    p = _ACROSS_POWER
    across = band_width * math.gamma(1.0 + 1.0 / p) * _LN2 ** (-1.0 / p)
    along = math.sqrt(math.pi / 2.0) * (sig_top + sig_bot)
    return peak * across * along


def _as_float(name, value, *, lo=None, hi=None, lo_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {value!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ParameterError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {v}")
    if hi is not None and v > hi:
        raise ParameterError(f"{name} must be <= {hi}, got {v}")
    return v


def _resolve_dict(name, value, defaults, keys):
    if isinstance(value, Mapping):
        unknown = set(value) - set(keys)
        if unknown:
            raise ParameterError(
                f"{name} has unknown keys {sorted(unknown)}; allowed: {list(keys)}")
        out = dict(defaults)
        out.update({k: v for k, v in value.items() if v is not None})
    else:
        out = dict(defaults)
    for k in keys:
        out[k] = _as_float(f"{name}[{k!r}]", out[k],
                           lo=None if k == "gradient_angle_deg" else 0.0)
    return out


def _background(rng, shape, sat, bg, polarity):
    """Noise-free membrane background (before the two-strip gap), raw units."""
    H, W = shape
    r = np.arange(H, dtype=float)[:, None]
    c = np.arange(W, dtype=float)[None, :]
    out = np.full(shape, bg["level"] * sat)
    if bg["gradient"] > 0:
        a = math.radians(bg["gradient_angle_deg"])
        proj_r = (r / max(H - 1, 1) - 0.5) * math.sin(a)
        proj_c = (c / max(W - 1, 1) - 0.5) * math.cos(a)
        span = abs(math.sin(a)) + abs(math.cos(a))
        out += bg["gradient"] * sat * (proj_r + proj_c) / span
    # low-frequency undulation: a few random plane waves of < 1.5 cycles per image
    n = 3
    fr = rng.uniform(0.2, 1.2, n) * rng.choice([-1, 1], n)
    fc = rng.uniform(0.2, 1.5, n)
    ph = rng.uniform(0, 2 * np.pi, n)
    amp = rng.uniform(0.5, 1.0, n)
    if bg["lowfreq"] > 0:
        low = np.zeros(shape)
        for k in range(n):  # cos(a + b) as outer products (much cheaper than cos on 2-D)
            a_r = 2 * np.pi * fr[k] * r / H + ph[k]
            b_c = 2 * np.pi * fc[k] * c / W
            low += amp[k] * (np.cos(a_r) * np.cos(b_c) - np.sin(a_r) * np.sin(b_c))
        low *= bg["lowfreq"] * sat / max(np.abs(low).max(), 1e-12)
        out += low
    white = rng.standard_normal(shape)
    if bg["texture"] > 0:
        # fibrous membrane texture: anisotropic smoothed noise, unit std
        tex = ndimage.gaussian_filter(white, sigma=(0.8, 2.5), mode="reflect")
        tex /= max(tex.std(), 1e-12)
        out += bg["texture"] * sat * tex
    return out


def _add_lane_smear(back, geo, rng, xk, loads, active, amp, band_width):
    """Add a slowly varying haze along each active lane to ``back`` (in place)."""
    H, W = back.shape
    half_x = _ACROSS_CUT * band_width / 2.0
    rows = np.arange(H, dtype=float)[:, None]
    for k in np.nonzero(active)[0]:
        line = geo.lane_line(xk[k], n=2)
        c0 = max(int(math.floor(line[:, 1].min() - half_x)) - 2, 0)
        c1 = min(int(math.ceil(line[:, 1].max() + half_x)) + 3, W)
        if c1 <= c0:
            continue
        cols = np.arange(c0, c1, dtype=float)[None, :]
        yp, xp = geo.to_membrane(rows, cols)
        u = np.abs(2.0 * (xp - xk[k]) / band_width)
        f, ph = rng.uniform(0.5, 2.0), rng.uniform(0, 2 * np.pi)
        along = np.exp(-yp / H) * (1.0 + 0.3 * np.cos(2 * np.pi * f * yp / H + ph))
        across = np.exp(-_LN2 * np.minimum(u, 3.0) ** _ACROSS_POWER)
        back[:, c0:c1] += amp * float(loads[k].mean()) * along * across


# --------------------------------------------------------------------------- public API
def make_blot(seed: int = 0, *,
              shape: Sequence[int] = (600, 900),
              n_lanes: int = 8,
              rows: Sequence[str] = ("ASNS", "ACTB"),
              loads=None,
              row_scale: Sequence[float] | None = None,
              row_mw: Sequence[float] | None = None,
              row_y: Sequence[float] | None = None,
              lane_width: float | None = None,
              lane_margin: float = 0.03,
              lane_gap_jitter: float = 0.0,
              band_width: float | None = None,
              band_height: float | None = None,
              band_skew: float = 0.15,
              band_height_jitter: float = 0.05,
              tilt_deg: float = 0.0,
              smile_px: float = 0.0,
              row_slope_px: float = 0.0,
              background: Mapping[str, float] | float | None = None,
              noise: bool | Mapping[str, float] = True,
              dust: int = 0,
              dust_bright_fraction: float = 0.5,
              dust_on_bands: int = 0,
              saturate: bool = False,
              saturate_factor: float = 1.6,
              polarity: str = "light-on-dark",
              dtype: str = "uint16",
              saturation_level: float | None = None,
              black_level: float = 0.0,
              ladder: bool = False,
              ladder_kda: Sequence[float] = PRECISION_PLUS_KDA,
              ladder_scale: float = 0.2,
              empty_lanes: Sequence[int] = (),
              two_strips: bool = False,
              lane_smear: float = 0.0,
              gap_px: float | None = None) -> SyntheticBlot:
    """Render a synthetic western blot with exact ground truth.

    Parameters
    ----------
    seed : int
        Seed of the random generator (``numpy.random.SeedSequence(seed)`` split
        into independent PCG64 streams for loads, lanes, background, dust and
        noise; so e.g. ``noise=False`` keeps the same background and loads).
    shape : (int, int)
        Image (rows, cols), each >= 32.
    n_lanes : int
        Total lanes including the ladder lane; lanes are numbered 1.. left to right.
    rows : sequence of str
        Band rows (targets), top to bottom, e.g. ``("ASNS", "ACTB")``.
    loads : array-like, optional
        Relative amount per lane and row, shape ``(n_lanes, len(rows))`` or
        ``(n_lanes,)`` (same for every row); entries of the ladder and empty lanes
        are ignored (recorded as 0). Default: random from the seed, row 0 uniform in
        [0.2, 1], other rows in [0.75, 1].
    row_scale : sequence of float, optional
        Peak signal of a band of load 1 per row, as a fraction of the saturation
        level. Default 0.25 for the first row, 0.45 for the others.
    row_mw : sequence of float, optional
        Apparent MW (kDa) per row, places the rows (migration linear in log10 MW
        between the ladder's largest kDa at 8 % and smallest at 94 % of the
        height). Default: known names (``ROW_MW_KDA``), else spread 100..20 kDa.
    row_y : sequence of float, optional
        Explicit membrane row of each band row (overrides ``row_mw`` placement).
        Without it, rows closer than their bands' extent are pushed apart
        downwards (the resolved rows are recorded in ``params["row_y"]``).
    lane_width : float, optional
        Lane width in px (truth ``lanes.width``). Default 0.7 x lane pitch.
    lane_margin : float
        Fraction of the width left free at each side (default 0.03).
    lane_gap_jitter : float
        Std of random lane-centre shifts as a fraction of the pitch (unequal
        spacing); shifts are clipped so bands of neighbouring lanes never touch.
    band_width : float, optional
        Band FWHM across the lane (flat-top super-Gaussian). Default 0.8 x lane_width.
    band_height : float, optional
        Band FWHM along migration. Default max(3, 0.022 x rows).
    band_skew : float
        Asymmetry in [0, 0.9): sigma above the peak = sigma x (1 + skew), below =
        sigma x (1 - skew) (a tail towards the wells). Default 0.15.
    band_height_jitter : float
        Relative random variation of band height per band (default 0.05); the peak
        is divided by the same factor, so volumes stay proportional to loads.
    tilt_deg : float
        Rotation of the whole layout (|tilt| <= 15; positive = rows run down to the
        right).
    smile_px : float
        Extra migration of the central lanes relative to the image edges (px).
    row_slope_px : float
        Rows run this many px lower at the right image edge than at the left.
    background : dict or float, optional
        Keys ``level`` (fraction of the saturation level; default 0.05 light-on-dark,
        0.85 dark-on-light), ``gradient`` (total linear ramp, fraction; 0.02),
        ``gradient_angle_deg`` (0 = left to right; 30), ``lowfreq`` (max of a smooth
        random undulation, fraction; 0.01), ``texture`` (std of fibrous membrane
        texture, fraction; 0.004), ``gap_level`` (level between two strips; 0.4 x
        level light-on-dark, level + 0.6 x (1 - level) dark-on-light). A number is
        taken as ``level``.
    noise : bool or dict
        Poisson-Gaussian noise; dict keys ``gain`` (counts per electron, default
        saturation_level / 32768) and ``read_sigma`` (counts, default 0.001 x
        saturation_level). ``False``: noise-free image (only rounding).
    dust : int
        Number of dust specks (small sharp bright/dark spots) placed off the bands.
    dust_bright_fraction : float
        Fraction of specks that are bright (default 0.5).
    dust_on_bands : int
        Extra specks placed on sample bands (default 0), to test robustness; they
        are recorded in ``truth.dust`` with ``on_band`` = the band's label and do
        not change the band's ``volume`` (the truth is the signal, not the dust).
    saturate : bool
        Scale all band amplitudes so the strongest band's peak reaches
        ``saturate_factor`` x the headroom (saturation_level - background for
        light-on-dark, background for dark-on-light): strong bands clip.
    saturate_factor : float
        See ``saturate`` (default 1.6).
    polarity : {"light-on-dark", "dark-on-light"}
    dtype : {"uint16", "uint8"}
    saturation_level : float, optional
        Detector maximum (default the dtype maximum; e.g. 4095 for 12-bit data).
    black_level : float
        Lowest value the detector or scan records (default 0): the image is
        clipped to ``[black_level, saturation_level]``, so dark-on-light bands
        clip at it (a film scan whose black is grey 30, not 0).
    ladder : bool
        Make lane 1 a molecular-weight ladder (``ladder_kda``).
    ladder_kda : sequence of float
        Ladder bands (default Bio-Rad Precision Plus 250..10 kDa). Markers that
        fall into the gap between two strips, off the image, or too close to the
        previous marker for the image size are left out (``truth.ladder`` lists the
        rendered ones).
    ladder_scale : float
        Peak of ladder bands as a fraction of the saturation level (default 0.2).
    empty_lanes : sequence of int
        1-based lanes without bands.
    two_strips : bool
        Two membrane strips separated by an empty gap: ``rows[0]`` on the top strip,
        the other rows on the bottom strip.
    lane_smear : float
        Faint non-specific haze along each sample lane (peak, fraction of the
        saturation level, scaled by the lane's mean load; default 0 = off). It
        varies slowly along migration and is part of ``truth.background`` (not of
        any band's volume).
    gap_px : float, optional
        Height of the gap between the strips (default 0.08 x rows).

    Returns
    -------
    SyntheticBlot

    Raises
    ------
    blotquant.errors.ParameterError
        For invalid or inconsistent parameters (negative loads, too many lanes for
        the width, overlapping bands, ...).

    Examples
    --------
    >>> b = make_blot(0, shape=(200, 300), n_lanes=4, tilt_deg=1.0, dust=2)
    >>> b.image.shape, b.image.dtype.name
    ((200, 300), 'uint16')
    >>> b.truth.bands[["lane", "row"]].head(2).to_dict("records")
    [{'lane': 1, 'row': 'ASNS'}, {'lane': 1, 'row': 'ACTB'}]
    >>> lab = b.truth.band_labels
    >>> v = b.truth.bands["volume"].iloc[0]
    >>> bool(np.isclose(b.truth.signal[lab == 1].sum(), v, rtol=1e-12))
    True
    """
    # ---------------------------------------------------------------- validation
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    try:
        H, W = (int(s) for s in shape)
    except (TypeError, ValueError):
        raise ParameterError(f"shape must be (rows, cols), got {shape!r}") from None
    if H < 32 or W < 32:
        raise ParameterError(f"shape must be at least (32, 32), got {(H, W)}")
    if isinstance(n_lanes, bool) or not isinstance(n_lanes, (int, np.integer)) or n_lanes < 1:
        raise ParameterError(f"n_lanes must be a positive integer, got {n_lanes!r}")
    n_lanes = int(n_lanes)
    if isinstance(rows, str):
        rows = (rows,)
    rows = tuple(str(r) for r in rows)
    if not rows:
        raise ParameterError("rows must name at least one band row, e.g. ('ASNS', 'ACTB')")
    if len(set(rows)) != len(rows):
        raise ParameterError(f"row names must be unique, got {rows}")
    n_rows = len(rows)
    if polarity not in POLARITIES:
        raise ParameterError(f"polarity must be one of {POLARITIES}, got {polarity!r}")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ParameterError(f"dtype must be 'uint16' or 'uint8', got {dtype!r}") from None
    if dt not in (np.dtype(np.uint16), np.dtype(np.uint8)):
        raise ParameterError(f"dtype must be 'uint16' or 'uint8', got {dtype!r}")
    dmax = float(np.iinfo(dt).max)
    if saturation_level is None:
        sat = dmax
    else:
        sat = _as_float("saturation_level", saturation_level, lo=1.0)
        if sat > dmax:
            raise ParameterError(
                f"saturation_level={sat:g} exceeds the {dt.name} maximum {dmax:g}")
    black = float(math.ceil(_as_float("black_level", black_level, lo=0.0)))
    if black >= math.floor(sat):
        raise ParameterError(f"black_level={black_level:g} must be below the saturation "
                             f"level {math.floor(sat):g}")
    tilt_deg = _as_float("tilt_deg", tilt_deg)
    if abs(tilt_deg) > 15:
        raise ParameterError(f"tilt_deg must be within +-15 degrees, got {tilt_deg}")
    smile_px = _as_float("smile_px", smile_px)
    row_slope_px = _as_float("row_slope_px", row_slope_px)
    lane_margin = _as_float("lane_margin", lane_margin, lo=0.0, hi=0.4)
    lane_gap_jitter = _as_float("lane_gap_jitter", lane_gap_jitter, lo=0.0, hi=1.0)
    band_skew = _as_float("band_skew", band_skew, lo=0.0, hi=0.9)
    if band_skew >= 0.9:
        raise ParameterError(f"band_skew must be < 0.9, got {band_skew}")
    band_height_jitter = _as_float("band_height_jitter", band_height_jitter, lo=0.0, hi=0.5)
    dust_bright_fraction = _as_float("dust_bright_fraction", dust_bright_fraction, lo=0.0, hi=1.0)
    saturate_factor = _as_float("saturate_factor", saturate_factor, lo=0.0, lo_open=True)
    ladder_scale = _as_float("ladder_scale", ladder_scale, lo=0.0)
    lane_smear = _as_float("lane_smear", lane_smear, lo=0.0, hi=1.0)
    if isinstance(dust, bool) or not isinstance(dust, (int, np.integer)) or dust < 0:
        raise ParameterError(f"dust must be a non-negative integer count, got {dust!r}")
    dust = int(dust)
    if (isinstance(dust_on_bands, bool) or not isinstance(dust_on_bands, (int, np.integer))
            or dust_on_bands < 0):
        raise ParameterError(
            f"dust_on_bands must be a non-negative integer count, got {dust_on_bands!r}")
    dust_on_bands = int(dust_on_bands)
    ladder = bool(ladder)
    two_strips = bool(two_strips)
    saturate = bool(saturate)
    ladder_kda = tuple(_as_float("ladder_kda", k, lo=0.0, lo_open=True) for k in ladder_kda)
    if ladder and len(ladder_kda) < 2:
        raise ParameterError("ladder_kda needs at least two bands")
    try:
        empty = sorted({int(e) for e in empty_lanes})
    except (TypeError, ValueError):
        raise ParameterError(f"empty_lanes must be lane numbers, got {empty_lanes!r}") from None
    for e in empty:
        if not 1 <= e <= n_lanes:
            raise ParameterError(f"empty lane {e} is outside 1..{n_lanes}")
        if ladder and e == 1:
            raise ParameterError("lane 1 is the ladder lane; it cannot also be empty")
    if two_strips and n_rows < 2:
        raise ParameterError("two_strips needs at least two rows (target on top, control below)")

    # lanes
    x_lo, x_hi = lane_margin * W, (1.0 - lane_margin) * W
    pitch = (x_hi - x_lo) / n_lanes
    if pitch < 8:
        raise ParameterError(
            f"n_lanes={n_lanes} is too many for an image {W} px wide: each lane needs >= 8 px; "
            f"use at most {int((x_hi - x_lo) // 8)} lanes or a wider shape")
    lane_width = 0.7 * pitch if lane_width is None else _as_float(
        "lane_width", lane_width, lo=2.0)
    band_width = 0.8 * lane_width if band_width is None else _as_float(
        "band_width", band_width, lo=1.0)
    half_ext = _ACROSS_CUT * band_width / 2.0
    if 2 * half_ext > pitch:
        raise ParameterError(
            f"band_width={band_width:.1f} px (lane_width={lane_width:.1f}) is too wide for a "
            f"lane pitch of {pitch:.1f} px: bands of neighbouring lanes would overlap; use "
            f"band_width <= {pitch / _ACROSS_CUT:.1f} or fewer lanes")
    band_height = max(3.0, 0.022 * H) if band_height is None else _as_float(
        "band_height", band_height, lo=1.0)
    gap_px = 0.08 * H if gap_px is None else _as_float("gap_px", gap_px, lo=0.0, hi=0.5 * H)

    # background / noise dicts
    if polarity == "light-on-dark":
        bg_def = {"level": 0.05, "gradient": 0.02, "gradient_angle_deg": 30.0,
                  "lowfreq": 0.01, "texture": 0.004}
    else:
        bg_def = {"level": 0.85, "gradient": 0.03, "gradient_angle_deg": 30.0,
                  "lowfreq": 0.015, "texture": 0.006}
    if background is not None and not isinstance(background, Mapping):
        background = {"level": background}
    lvl = (background or {}).get("level", bg_def["level"])
    lvl = bg_def["level"] if lvl is None else lvl
    lvl = _as_float("background['level']", lvl, lo=0.0, hi=1.0)
    bg_def["gap_level"] = 0.4 * lvl if polarity == "light-on-dark" else lvl + 0.6 * (1 - lvl)
    bg = _resolve_dict("background", background, bg_def, _BACKGROUND_KEYS)
    if bg["level"] > 1 or bg["gap_level"] > 1:
        raise ParameterError("background level and gap_level are fractions of the "
                             "saturation level and must be <= 1")
    if noise is False or noise is None:
        nz = None
    else:
        nz_def = {"gain": sat / 32768.0, "read_sigma": 0.001 * sat}
        nz = _resolve_dict("noise", noise if isinstance(noise, Mapping) else None,
                           nz_def, _NOISE_KEYS)
        if nz["gain"] <= 0:
            raise ParameterError(f"noise gain must be > 0 counts/electron, got {nz['gain']}")

    # random streams
    ss = np.random.SeedSequence(seed)
    rng_load, rng_lane, rng_bg, rng_dust, rng_noise = (
        np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(5))

    # loads
    is_ladder = np.zeros(n_lanes, bool)
    if ladder:
        is_ladder[0] = True
    is_empty = np.zeros(n_lanes, bool)
    is_empty[[e - 1 for e in empty]] = True
    if loads is None:
        L = np.empty((n_lanes, n_rows))
        L[:, 0] = rng_load.uniform(0.2, 1.0, n_lanes)
        if n_rows > 1:
            L[:, 1:] = rng_load.uniform(0.75, 1.0, (n_lanes, n_rows - 1))
    else:
        try:
            L = np.array(loads, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError("loads must be numbers, shape (n_lanes, n_rows)") from None
        if L.ndim == 1 and L.shape[0] == n_lanes:
            L = np.repeat(L[:, None], n_rows, axis=1)
        if L.shape != (n_lanes, n_rows):
            raise ParameterError(
                f"loads must have shape (n_lanes, n_rows) = {(n_lanes, n_rows)} or "
                f"({n_lanes},), got {L.shape}")
        if not np.all(np.isfinite(L)):
            raise ParameterError("loads must be finite")
        if np.any(L < 0):
            bad = [(int(i) + 1, rows[j]) for i, j in zip(*np.nonzero(L < 0))]
            raise ParameterError(
                f"loads must be >= 0; negative load for (lane, row) {bad[:5]}")
    L[is_ladder | is_empty] = 0.0

    if row_scale is None:
        rs = np.array([0.25] + [0.45] * (n_rows - 1))
    else:
        rs = np.array([_as_float("row_scale", v, lo=0.0) for v in np.ravel(row_scale)])
        if rs.shape != (n_rows,):
            raise ParameterError(f"row_scale needs one value per row ({n_rows}), got {rs.size}")

    # row placement (membrane rows)
    mw_top, mw_bot = max(ladder_kda), min(ladder_kda)
    y_top, y_bot = 0.08 * H, 0.94 * H

    def mw_to_y(mw):
        span = math.log10(mw_top) - math.log10(mw_bot)
        return y_top + (math.log10(mw_top) - math.log10(mw)) / span * (y_bot - y_top)

    if row_mw is None:
        spread = np.geomspace(100.0, 20.0, n_rows) if n_rows > 1 else np.array([50.0])
        mws = [ROW_MW_KDA.get(r.upper(), float(spread[i])) for i, r in enumerate(rows)]
    else:
        mws = [_as_float("row_mw", v, lo=0.0, lo_open=True) for v in np.ravel(row_mw)]
        if len(mws) != n_rows:
            raise ParameterError(f"row_mw needs one value per row ({n_rows}), got {len(mws)}")
    strips = []
    if two_strips:
        g0, g1 = (H - gap_px) / 2.0, (H + gap_px) / 2.0
        strips = [(0.0, g0, rows[:1]), (g1, H - 1.0, rows[1:])]
    if row_y is not None:
        ys = [_as_float("row_y", v) for v in np.ravel(row_y)]
        if len(ys) != n_rows:
            raise ParameterError(f"row_y needs one value per row ({n_rows}), got {len(ys)}")
    elif two_strips:
        ys = [0.55 * g0]
        nb = n_rows - 1
        ys += [g1 + (i + 1) * (H - g1) / (nb + 1) for i in range(nb)]
    else:
        ys = [mw_to_y(m) for m in mws]
    if row_y is None:
        # push rows that are too close apart (top to bottom) so supports never touch
        jf = 1.0 + min(3.0 * band_height_jitter, 0.3)
        sg = band_height / _FWHM * jf
        need = _ALONG_CUT * sg * 2.0 + 2.0  # bottom (1 - skew) + top (1 + skew) extents
        order = np.argsort(ys, kind="stable")
        for a, b in zip(order[:-1], order[1:]):
            same_strip = not two_strips or (a != 0 and b != 0)
            if same_strip and ys[b] - ys[a] < need:
                ys[b] = ys[a] + need
    if min(ys) < 0 or max(ys) > H - 1:
        raise ParameterError(
            f"band rows at membrane rows {[round(y, 1) for y in ys]} do not fit in an image "
            f"{H} px high; use a smaller band_height, fewer rows or explicit row_y")

    # lane centres (membrane columns)
    xk = x_lo + (np.arange(n_lanes) + 0.5) * pitch
    if lane_gap_jitter > 0:
        lim = max(0.45 * (pitch - 2 * half_ext), 0.0)
        xk = xk + np.clip(rng_lane.normal(0.0, lane_gap_jitter * pitch, n_lanes), -lim, lim)
    h_jit = (1.0 + np.clip(rng_lane.normal(0.0, band_height_jitter, (n_lanes, n_rows)),
                           -0.3, 0.3)) if band_height_jitter > 0 else np.ones((n_lanes, n_rows))

    # ---------------------------------------------------------------- background
    geo = _Geometry((H, W), tilt_deg, smile_px, row_slope_px)
    back = _background(rng_bg, (H, W), sat, bg, polarity)
    if lane_smear > 0:
        _add_lane_smear(back, geo, rng_bg, xk, L, ~(is_ladder | is_empty),
                        lane_smear * sat, band_width)
    if two_strips:
        rr = np.arange(H, dtype=float)[:, None]
        cc_ = np.arange(W, dtype=float)[None, :]
        yp, _ = geo.to_membrane(rr, cc_)
        edge = 1.5
        m = (0.5 * (1 + np.tanh((g0 - yp) / edge))) + (0.5 * (1 + np.tanh((yp - g1) / edge)))
        back = m * back + (1.0 - m) * (bg["gap_level"] * sat)

    # ---------------------------------------------------------------- amplitudes
    mean_level = float(back.mean())
    headroom = (sat - mean_level) if polarity == "light-on-dark" else mean_level
    # height jitter conserves the amount: a taller band has a proportionally lower peak
    peaks = L * rs[None, :] * sat / h_jit
    amp_scale = 1.0
    if saturate and peaks.max() > 0:
        amp_scale = saturate_factor * headroom / peaks.max()
        peaks = peaks * amp_scale

    # ---------------------------------------------------------------- bands
    signal = np.zeros((H, W))
    labels = np.zeros((H, W), np.int32)
    sigma = band_height / _FWHM
    band_recs, ladder_recs = [], []
    owner = {}

    def paint(name, xc, y_row, peak, s_top, s_bot, bw):
        out = _render_band(geo, xc, y_row, peak, s_top, s_bot, bw)
        if out is None:
            raise ParameterError(f"{name} lies outside the image; check shape, row_y, "
                                 f"tilt_deg, smile_px and row_slope_px")
        r0, c0, val, sup = out
        lab = len(owner) + 1
        win = (slice(r0, r0 + val.shape[0]), slice(c0, c0 + val.shape[1]))
        clash = labels[win][sup]
        if np.any(clash):
            other = owner[int(clash[clash > 0][0])]
            raise ParameterError(
                f"{name} overlaps {other}: bands too close; reduce band_height, "
                f"smile_px/row_slope_px or band_width, or move the rows (row_y/row_mw)")
        labels[win][sup] = lab
        signal[win] += val
        owner[lab] = name
        rows_i, cols_i = np.nonzero(sup)
        box = (r0 + int(rows_i.min()), r0 + int(rows_i.max()),
               c0 + int(cols_i.min()), c0 + int(cols_i.max()))
        total = float(val.sum())
        yc = (r0 + float((val.sum(axis=1) * np.arange(val.shape[0])).sum()) / total
              if total > 0 else float("nan"))
        return lab, total, box, yc

    for k in range(n_lanes):
        if is_ladder[k] or is_empty[k]:
            continue
        for j, name in enumerate(rows):
            s = sigma * h_jit[k, j]
            s_top, s_bot = s * (1 + band_skew), s * (1 - band_skew)
            y_mem = ys[j] + float(geo.offset(xk[k]))
            ry, cx = geo.to_image(y_mem, xk[k])
            lab, vol, box, yc = paint(f"band (lane {k + 1}, row {name})", xk[k], ys[j],
                                      peaks[k, j], s_top, s_bot, band_width)
            band_recs.append({
                "lane": k + 1, "row": name, "y": float(ry), "x": float(cx), "y_centroid": yc,
                "height": float(_FWHM * (s_top + s_bot) / 2), "width": float(band_width),
                "load": float(L[k, j]), "peak": float(peaks[k, j]), "volume": vol,
                "amount": _analytic_amount(peaks[k, j], s_top, s_bot, band_width),
                "top": box[0], "bottom": box[1], "left": box[2], "right": box[3],
                "label": lab})

    if ladder:
        s = 0.6 * sigma
        s_top, s_bot = s * (1 + band_skew), s * (1 - band_skew)
        last_y = -math.inf
        for kda in sorted(ladder_kda, reverse=True):
            y0 = mw_to_y(kda)
            if y0 - last_y < _ALONG_CUT * (s_top + s_bot) + 1.0:
                continue  # too close to the previous marker at this image size: merged/dropped
            if two_strips and not any(a + _ALONG_CUT * s_top + 2 <= y0 <= b - _ALONG_CUT * s_bot - 2
                                      for a, b, _ in strips):
                continue
            y_mem = y0 + float(geo.offset(xk[0]))
            ry, cx = geo.to_image(y_mem, xk[0])
            if not (0 <= ry <= H - 1):
                continue
            lab, vol, box, _ = paint(f"ladder band {kda:g} kDa", xk[0], y0, ladder_scale * sat,
                                  s_top, s_bot, band_width)
            last_y = y0
            ladder_recs.append({"lane": 1, "kda": kda, "y": float(ry), "x": float(cx),
                                "height": float(_FWHM * s), "width": float(band_width),
                                "peak": float(ladder_scale * sat), "volume": vol,
                                "label": lab})

    # ---------------------------------------------------------------- dust
    artifacts = np.zeros((H, W))
    dust_recs = []
    sign = 1.0 if polarity == "light-on-dark" else -1.0

    def speck(r_, c_, sd, bright, u, on_band):
        rad = int(math.ceil(4 * sd))
        local = back[r_, c_] + sign * signal[r_, c_]
        ampl = u * (sat - local) if bright else -u * local
        rr = np.arange(max(r_ - rad, 0), min(r_ + rad + 1, H))
        cc2 = np.arange(max(c_ - rad, 0), min(c_ + rad + 1, W))
        d2 = (rr[:, None] - r_) ** 2 + (cc2[None, :] - c_) ** 2
        artifacts[np.ix_(rr, cc2)] += ampl * np.exp(-0.5 * d2 / sd ** 2)
        dust_recs.append({"row": r_, "col": c_, "sigma": sd, "amplitude": float(ampl),
                          "kind": "bright" if bright else "dark", "on_band": on_band})

    tries = 0
    while len(dust_recs) < dust and tries < 200 * dust:
        tries += 1
        sd = float(rng_dust.uniform(0.6, 1.8))
        rad = int(math.ceil(4 * sd))
        r_ = int(rng_dust.integers(rad, max(H - rad, rad + 1)))
        c_ = int(rng_dust.integers(rad, max(W - rad, rad + 1)))
        bright = bool(rng_dust.random() < dust_bright_fraction)
        u = float(rng_dust.uniform(0.2, 0.8))
        m_ = rad + 2
        if labels[max(r_ - m_, 0):r_ + m_ + 1, max(c_ - m_, 0):c_ + m_ + 1].any():
            continue
        speck(r_, c_, sd, bright, u, 0)
    if dust_on_bands and band_recs:
        sample_labels = [b["label"] for b in band_recs]
        for _ in range(dust_on_bands):
            lab = int(sample_labels[int(rng_dust.integers(len(sample_labels)))])
            rec = band_recs[sample_labels.index(lab)]
            win = labels[rec["top"]:rec["bottom"] + 1, rec["left"]:rec["right"] + 1]
            core = (win == lab) & (signal[rec["top"]:rec["bottom"] + 1,
                                          rec["left"]:rec["right"] + 1] >= 0.3 * rec["peak"])
            rows_i, cols_i = np.nonzero(core if core.any() else win == lab)
            i = int(rng_dust.integers(rows_i.size))
            sd = float(rng_dust.uniform(0.6, 1.8))
            bright = bool(rng_dust.random() < dust_bright_fraction)
            u = float(rng_dust.uniform(0.2, 0.8))
            speck(rec["top"] + int(rows_i[i]), rec["left"] + int(cols_i[i]), sd, bright, u, lab)

    # ---------------------------------------------------------------- image
    nf = back + sign * signal + artifacts
    if nz is not None:
        lam = np.maximum(nf, 0.0) / nz["gain"]
        img = rng_noise.poisson(lam).astype(float) * nz["gain"]
        img += rng_noise.normal(0.0, nz["read_sigma"], (H, W)) if nz["read_sigma"] > 0 else 0.0
    else:
        img = nf
    img = np.clip(np.rint(img), black, math.floor(sat)).astype(dt)
    clip_val = math.floor(sat) if polarity == "light-on-dark" else black
    at_limit = (img == clip_val) & (labels > 0)
    n_clip = np.bincount(labels[at_limit], minlength=len(owner) + 1)

    bands_cols = ["lane", "row", "y", "x", "y_centroid", "height", "width", "load", "peak", "volume",
                  "amount", "clipped", "n_clipped", "top", "bottom", "left", "right", "label"]
    bands_df = pd.DataFrame(band_recs, columns=[c for c in bands_cols
                                                if c not in ("clipped", "n_clipped")])
    bands_df["n_clipped"] = n_clip[bands_df["label"].to_numpy(int)].astype(int)
    bands_df["clipped"] = bands_df["n_clipped"] > 0
    bands_df = bands_df[bands_cols]
    ladder_df = pd.DataFrame(ladder_recs, columns=["lane", "kda", "y", "x", "height", "width",
                                                   "peak", "volume", "label"])
    ladder_df["clipped"] = n_clip[ladder_df["label"].to_numpy(int)] > 0
    lanes_df = pd.DataFrame({
        "lane": np.arange(1, n_lanes + 1),
        "x": [float(geo.cc + (x - geo.cc) / geo.cos) for x in xk],
        "width": float(lane_width),
        "geometry": [geo.lane_line(x).tolist() for x in xk],
        "is_ladder": is_ladder,
        "is_empty": is_empty,
    })
    dust_df = pd.DataFrame(dust_recs, columns=["row", "col", "sigma", "amplitude", "kind",
                                               "on_band"])
    strip_recs = []
    for i, (a, b, names) in enumerate(strips or [(0.0, H - 1.0, rows)]):
        top = geo.to_image(a, geo.cc)[0]
        bot = geo.to_image(b, geo.cc)[0]
        strip_recs.append({"strip": i + 1, "rows": list(names), "top": float(top),
                           "bottom": float(bot)})
    strips_df = pd.DataFrame(strip_recs, columns=["strip", "rows", "top", "bottom"])

    truth = BlotTruth(lanes=lanes_df, bands=bands_df, ladder=ladder_df, dust=dust_df,
                      strips=strips_df, background=back, signal=signal, artifacts=artifacts,
                      band_labels=labels, saturation_level=float(math.floor(sat)),
                      polarity=polarity, tilt_deg=tilt_deg, smile_px=smile_px,
                      row_slope_px=row_slope_px)
    params = {
        "generator": "blotquant.synthetic.make_blot", "version": __version__,
        "seed": seed, "shape": [H, W], "n_lanes": n_lanes, "rows": list(rows),
        "loads": L.tolist(), "row_scale": rs.tolist(), "amplitude_scale": amp_scale,
        "row_mw": [float(m) for m in mws], "row_y": [float(y) for y in ys],
        "lane_width": float(lane_width), "lane_margin": lane_margin,
        "lane_gap_jitter": lane_gap_jitter, "lane_x_membrane": xk.tolist(),
        "band_width": float(band_width), "band_height": float(band_height),
        "band_skew": band_skew, "band_height_jitter": band_height_jitter,
        "tilt_deg": tilt_deg, "smile_px": smile_px, "row_slope_px": row_slope_px,
        "background": bg, "noise": nz if nz is not None else False,
        "dust": dust, "dust_bright_fraction": dust_bright_fraction,
        "dust_on_bands": dust_on_bands,
        "saturate": saturate, "saturate_factor": saturate_factor,
        "polarity": polarity, "dtype": dt.name, "saturation_level": float(math.floor(sat)),
        "black_level": black,
        "ladder": ladder, "ladder_kda": list(ladder_kda), "ladder_scale": ladder_scale,
        "empty_lanes": empty, "two_strips": two_strips, "lane_smear": lane_smear, "gap_px": float(gap_px),
    }
    return SyntheticBlot(image=img, truth=truth, params=params)


def make_dilution_series(seed: int = 0, *, n_lanes: int = 8, fold: float = 2.0,
                         top_load: float = 1.0, rows: Sequence[str] = ("ASNS", "ACTB"),
                         ladder: bool = False, **params: Any) -> SyntheticBlot:
    """A blot whose sample lanes are a serial dilution of one lysate.

    Sample lane ``i`` (0-based among non-ladder lanes, left to right) gets
    ``load = top_load / fold**i`` for every row, so volumes are exactly
    proportional to load and every target/control ratio is the same.

    Parameters
    ----------
    seed : int
    n_lanes : int
        Total lanes (including the ladder lane when ``ladder=True``).
    fold : float
        Dilution factor between neighbouring lanes (> 1; default 2).
    top_load : float
        Load of the first (most concentrated) sample lane (default 1.0).
    rows : sequence of str
    ladder : bool
    **params
        Any other :func:`make_blot` parameter (not ``loads``).

    Returns
    -------
    SyntheticBlot
        ``params`` additionally holds ``series = {"fold", "top_load"}``.

    Examples
    --------
    >>> b = make_dilution_series(0, shape=(150, 300), n_lanes=4, noise=False)
    >>> b.truth.bands.query("row == 'ASNS'")["load"].tolist()
    [1.0, 0.5, 0.25, 0.125]
    >>> v = b.truth.bands.query("row == 'ASNS'")["volume"].to_numpy()
    >>> np.round(v / v[0], 3).tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    if "loads" in params:
        raise ParameterError("make_dilution_series sets loads itself; use top_load and fold")
    fold = _as_float("fold", fold, lo=1.0, lo_open=True)
    top_load = _as_float("top_load", top_load, lo=0.0, lo_open=True)
    if isinstance(n_lanes, bool) or not isinstance(n_lanes, (int, np.integer)) or n_lanes < 1:
        raise ParameterError(f"n_lanes must be a positive integer, got {n_lanes!r}")
    rows = (rows,) if isinstance(rows, str) else tuple(rows)
    first = 1 if ladder else 0
    loads = np.zeros((int(n_lanes), len(rows)))
    for i, k in enumerate(range(first, int(n_lanes))):
        loads[k, :] = top_load / fold ** i
    blot = make_blot(seed, n_lanes=n_lanes, rows=rows, loads=loads, ladder=ladder, **params)
    blot.params["series"] = {"fold": fold, "top_load": top_load}
    blot.params["generator"] = "blotquant.synthetic.make_dilution_series"
    return blot
