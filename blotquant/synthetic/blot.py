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
from numpy.typing import ArrayLike
import pandas as pd

from ..errors import ParameterError
from ..image import Image
from ..provenance import __version__
from ._blot_render import (render_background, render_bands, render_detector, render_dust,
                           render_layout)
from ._blot_spec import PRECISION_PLUS_KDA, ROW_MW_KDA, _as_float, blot_spec

__all__ = [
    "make_dot_blot",
    "make_blot",
    "make_dilution_series",
    "move_membrane",
    "SyntheticBlot",
    "BlotTruth",
    "PRECISION_PLUS_KDA",
    "ROW_MW_KDA",
]



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

        Returns
        -------
        numpy.ndarray
            Float image, shape of the blot.

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

        Returns
        -------
        blotquant.image.Image
            The image with ``saturation_level`` and ``polarity`` in its metadata.

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
def make_blot(seed: int = 0, *,
              shape: Sequence[int] = (600, 900),
              n_lanes: int = 8,
              rows: Sequence[str] = ("ASNS", "ACTB"),
              loads: ArrayLike | None = None,
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
              gap_px: float | None = None,
              lane_groups: Sequence[int] | None = None,
              group_gap: float = 2.0) -> SyntheticBlot:
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
    lane_groups : sequence of int, optional
        Lanes per group, left to right (adding up to ``n_lanes``), for replicate
        groups side by side on one membrane or film, e.g. ``(4, 4, 4)``. Default:
        all lanes evenly spaced.
    group_gap : float
        With ``lane_groups``: distance from the last lane of a group to the first
        lane of the next, in lane pitches (default 2.0; 1.0 = groups touch).

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
    # the spec (every input checked), then the stages, each on its own random stream
    spec = blot_spec(**{k: v for k, v in locals().items()})
    ss = np.random.SeedSequence(spec.seed)
    rng_load, rng_lane, rng_bg, rng_dust, rng_noise = (
        np.random.Generator(np.random.PCG64(s)) for s in ss.spawn(5))
    lay = render_layout(spec, rng_load, rng_lane)
    bgs = render_background(spec, lay, rng_bg)
    bands = render_bands(spec, lay, bgs.back, bgs.geo)
    dust_ = render_dust(spec, bgs.back, bands, rng_dust)
    sign = dust_.sign
    nf = bgs.back + sign * bands.signal + dust_.artifacts
    img = render_detector(spec, nf, rng_noise).img

    # ---------------------------------------------------------------- truth
    (seed, H, W, n_lanes, rows, polarity, dt, sat, tilt_deg, smile_px, row_slope_px,
     lane_margin, lane_gap_jitter, band_skew, band_height_jitter, dust_bright_fraction,
     saturate_factor, ladder_scale, lane_smear, dust, dust_on_bands, ladder, two_strips,
     saturate, ladder_kda, empty, lane_width, band_width, band_height, gap_px, bg, nz) = (
        getattr(spec, n) for n in (
            "seed H W n_lanes rows polarity dt sat tilt_deg smile_px row_slope_px lane_margin "
            "lane_gap_jitter band_skew band_height_jitter dust_bright_fraction saturate_factor "
            "ladder_scale lane_smear dust dust_on_bands ladder two_strips saturate ladder_kda "
            "empty lane_width band_width band_height gap_px bg nz").split())
    L, is_ladder, is_empty, rs, mws, strips, ys, xk = (
        lay.L, lay.is_ladder, lay.is_empty, lay.rs, lay.mws, lay.strips, lay.ys, lay.xk)
    back, geo = bgs.back, bgs.geo
    signal, labels, band_recs, ladder_recs, owner, amp_scale = (
        bands.signal, bands.labels, bands.band_recs, bands.ladder_recs, bands.owner,
        bands.amp_scale)
    artifacts, dust_recs = dust_.artifacts, dust_.dust_recs
    clip_val = math.floor(sat) if polarity == "light-on-dark" else spec.black
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
        "black_level": spec.black,
        "ladder": ladder, "ladder_kda": list(ladder_kda), "ladder_scale": ladder_scale,
        "empty_lanes": empty, "two_strips": two_strips, "lane_smear": lane_smear, "gap_px": float(gap_px),
        "lane_groups": None if lane_groups is None else [int(v) for v in lane_groups],
        "group_gap": float(group_gap),
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


#: Peak of a ring dot relative to a Gaussian dot of the same amount (1 / the radial
#: integral of the ring profile exp(-(r - 1.2)^2 / 0.5), r in dot sigmas): both dot
#: shapes then hold 2 pi sigma^2 of signal per unit amount.
_RING_SCALE = 1.0 / (
    float(np.sum(np.exp(-0.5 * (np.arange(0.0005, 8, 0.001) - 1.2) ** 2 / 0.25)
                 * np.arange(0.0005, 8, 0.001)) * 0.001))


def make_dot_blot(seed: int = 0, *, shape: Sequence[int] = (480, 720), n_cols: int = 7,
                  n_rows: int = 4, dot_sigma: float | None = None,
                  jpeg_quality: int | None = 75, background: float = 228.0,
                  noise_sd: float = 2.0, amounts: ArrayLike | None = None,
                  ring: bool = False, margin: float = 1.0,
                  dark_border: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """Render a dot (or slot) blot: a regular grid of round dots, dark on light, 8-bit.

    A dot blot is one membrane with ``n_cols`` sample columns (lanes) and
    ``n_rows`` rows of dots; a lane finder must report one strip of
    ``n_cols`` lanes and ``n_rows`` rows.

    Parameters
    ----------
    seed : int
        Random seed (dot amounts, jitter and noise).
    shape : (int, int)
        Image (rows, cols), each >= 64.
    n_cols, n_rows : int
        Grid size (>= 1 each).
    dot_sigma : float, optional
        Gaussian sigma of a dot in px; default 1/6 of the grid pitch.
    jpeg_quality : int or None
        Encode and decode the image as JPEG at this quality (1-100) to add
        compression artefacts; None keeps it lossless.
    background : float
        Membrane grey level (0-255).
    noise_sd : float
        Gaussian noise sigma (grey levels).
    amounts : array-like (n_rows, n_cols), optional
        Relative amount of every dot (>= 0; 0 is an empty dot), e.g. a
        dilution across each row.  Default: random in [0.2, 1] from the seed
        (the seed's jitter and noise are the same either way).
    ring : bool
        "Coffee-ring" dots: the sample dried at the rim, so each dot is a
        ring (radius 1.2 ``dot_sigma``) with a lighter centre, not a
        Gaussian.  A dot's volume stays proportional to its amount.
    margin : float
        Distance from the image edge to the outer dot centres, in grid
        pitches (> 0; default 1).
    dark_border : int
        Width in px of a dark surround along all four image edges (scanner
        lid, the table beside the membrane): grey level 40; 0 = none.

    Returns
    -------
    image : ndarray uint8 (rows, cols)
    truth : DataFrame
        One row per dot: ``lane``, ``row`` (1-based), ``x``, ``y`` (px),
        ``amount`` (relative; 0.2-1 unless ``amounts`` is given).

    Examples
    --------
    >>> img, truth = make_dot_blot(0, jpeg_quality=None)
    >>> img.shape, img.dtype.name, len(truth), int(truth["lane"].max()), int(truth["row"].max())
    ((480, 720), 'uint8', 28, 7, 4)
    >>> img, truth = make_dot_blot(0, amounts=np.tile(2.0 ** -np.arange(7), (4, 1)))
    >>> truth.query("row == 1")["amount"].round(3).tolist()
    [1.0, 0.5, 0.25, 0.125, 0.062, 0.031, 0.016]
    """
    H, W = (int(v) for v in shape)
    if min(H, W) < 64:
        raise ParameterError(f"shape must be at least 64x64 px, got {tuple(shape)}")
    if int(n_cols) < 1 or int(n_rows) < 1:
        raise ParameterError(f"n_cols and n_rows must be >= 1, got {n_cols}, {n_rows}")
    if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
        raise ParameterError(f"jpeg_quality must be 1-100 or None, got {jpeg_quality!r}")
    margin = float(margin)
    if not margin > 0 or not math.isfinite(margin):
        raise ParameterError(f"margin must be a number of grid pitches > 0, got {margin!r}")
    if isinstance(dark_border, bool) or int(dark_border) != dark_border or dark_border < 0:
        raise ParameterError(f"dark_border must be a whole number of px >= 0, got {dark_border!r}")
    if 2 * int(dark_border) >= min(H, W):
        raise ParameterError(f"dark_border {dark_border} px leaves no membrane in a {H}x{W} image")
    if amounts is not None:
        amounts = np.asarray(amounts, dtype=float)
        if amounts.shape != (int(n_rows), int(n_cols)):
            raise ParameterError(f"amounts must have shape (n_rows, n_cols) = "
                                 f"({n_rows}, {n_cols}), got {amounts.shape}")
        if not np.all(np.isfinite(amounts)) or amounts.min() < 0:
            raise ParameterError("amounts must be finite and >= 0 (0 is an empty dot)")
    rng = np.random.default_rng(seed)
    px, py = W / (n_cols - 1 + 2 * margin), H / (n_rows - 1 + 2 * margin)
    sig = float(dot_sigma) if dot_sigma is not None else min(px, py) / 6.0
    yy, xx = np.mgrid[:H, :W].astype(np.float32)
    dark = np.zeros((H, W), np.float32)
    recs = []
    for r in range(n_rows):
        for c in range(n_cols):
            x = px * (c + margin) + rng.normal(0, 0.03 * px)
            y = py * (r + margin) + rng.normal(0, 0.03 * py)
            amt = float(rng.uniform(0.2, 1.0))
            if amounts is not None:
                amt = float(amounts[r, c])
            d2 = ((xx - x) ** 2 + (yy - y) ** 2) / sig ** 2
            if ring:
                # rim at 1.2 sigma, 0.5 sigma thick, scaled to the Gaussian dot's integral
                # (2 pi sigma^2) so a dot's volume is its amount times the same constant
                prof = np.exp(-0.5 * (np.sqrt(d2) - 1.2) ** 2 / 0.25)
                dark += amt * _RING_SCALE * prof
            else:
                dark += amt * np.exp(-0.5 * d2)
            recs.append(dict(lane=c + 1, row=r + 1, x=float(x), y=float(y), amount=amt))
    img = background - 0.8 * background * dark + rng.normal(0, noise_sd, (H, W))
    if dark_border:
        b = int(dark_border)
        img[:b] = img[-b:] = 40.0
        img[:, :b] = img[:, -b:] = 40.0
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        import cv2
        ok, buf = cv2.imencode(".jpg", img, [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img, pd.DataFrame(recs, columns=["lane", "row", "x", "y", "amount"])


def move_membrane(image: ArrayLike, angle_deg: float, dy: float, dx: float) -> np.ndarray:
    """The image seen after the membrane turned by ``angle_deg`` and moved by ``(dy, dx)``.

    A point ``p`` (row, col) of the result lies at ``R(p - c) + c + (dy, dx)`` in
    ``image`` (``c`` the image centre, ``R`` the rotation by ``angle_deg``, OpenCV's
    sign): what a control exposure looks like when the membrane was re-placed
    between exposures.  Bilinear, edges reflected, float32.

    Parameters
    ----------
    image : 2-D array
    angle_deg : float
    dy, dx : float
        Shift in pixels.

    Returns
    -------
    ndarray of float32, the shape of ``image``

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[2, 2] = 1
    >>> float(move_membrane(img, 0.0, 0.0, 1.0)[2, 1])
    1.0
    """
    import cv2

    a = np.asarray(image)
    H, W = a.shape
    m = cv2.getRotationMatrix2D(((W - 1) / 2, (H - 1) / 2), float(angle_deg), 1.0)
    m[0, 2] += dx
    m[1, 2] += dy
    return cv2.warpAffine(a.astype(np.float32), m, (W, H),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)
