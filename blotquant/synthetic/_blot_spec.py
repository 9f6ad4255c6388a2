"""The spec of a synthetic blot: every input checked and every size derived, before any pixel.

:func:`blot_spec` turns the keyword arguments of
:func:`~blotquant.synthetic.make_blot` into a frozen :class:`BlotSpec`
(validated values, resolved defaults such as the lane pitch, band sizes,
background and noise settings).  The rendering stages
(:mod:`blotquant.synthetic._blot_render`) read only the spec and the random
streams, so the same spec and seed always give the same image.

Examples
--------
>>> from blotquant.synthetic.blot import make_blot
>>> s = blot_spec(**make_blot.__kwdefaults__, seed=0)
>>> s.H, s.W, s.n_lanes, s.rows, round(s.pitch, 2)
(600, 900, 8, ('ASNS', 'ACTB'), 105.75)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ParameterError
from ..image import POLARITIES

__all__ = ["BlotSpec", "blot_spec", "PRECISION_PLUS_KDA", "ROW_MW_KDA"]

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


@dataclass(frozen=True)
class BlotSpec:
    """Everything a synthetic blot is drawn from (see :func:`make_blot` for the meaning).

    Besides the checked inputs it holds the derived values: ``H, W`` (shape),
    ``n_rows``, ``dt`` (numpy dtype), ``sat`` (saturation level), ``black`` (black
    level), ``empty``
    (sorted empty lanes), ``x_lo, x_hi, pitch`` (lane span and pitch, px),
    ``half_ext`` (half the across-lane band support), ``bg`` and ``nz``
    (resolved background and noise settings; ``nz`` None = noise-free).
    """

    seed: Any
    H: Any
    W: Any
    n_lanes: Any
    rows: Any
    n_rows: Any
    polarity: Any
    dt: Any
    sat: Any
    black: Any
    tilt_deg: Any
    smile_px: Any
    row_slope_px: Any
    lane_margin: Any
    lane_gap_jitter: Any
    lane_slots: Any
    band_skew: Any
    band_height_jitter: Any
    dust_bright_fraction: Any
    saturate_factor: Any
    ladder_scale: Any
    lane_smear: Any
    dust: Any
    dust_on_bands: Any
    ladder: Any
    two_strips: Any
    saturate: Any
    ladder_kda: Any
    empty: Any
    x_lo: Any
    x_hi: Any
    pitch: Any
    lane_width: Any
    band_width: Any
    half_ext: Any
    band_height: Any
    gap_px: Any
    bg: Any
    nz: Any
    loads: Any
    row_scale: Any
    row_mw: Any
    row_y: Any


def blot_spec(*, seed: int, shape: Sequence[int], n_lanes: int, rows: Sequence[str],
              loads: ArrayLike | None, row_scale: Sequence[float] | None,
              row_mw: Sequence[float] | None, row_y: Sequence[float] | None,
              lane_width: float | None, lane_margin: float, lane_gap_jitter: float,
              band_width: float | None, band_height: float | None, band_skew: float,
              band_height_jitter: float, tilt_deg: float, smile_px: float,
              row_slope_px: float, background: Mapping[str, float] | float | None,
              noise: bool | Mapping[str, float], dust: int, dust_bright_fraction: float,
              dust_on_bands: int, saturate: bool, saturate_factor: float, polarity: str,
              dtype: str, saturation_level: float | None, black_level: float, ladder: bool,
              ladder_kda: Sequence[float], ladder_scale: float, empty_lanes: Sequence[int],
              two_strips: bool, lane_smear: float, gap_px: float | None,
              lane_groups: Sequence[int] | None = None, group_gap: float = 2.0) -> BlotSpec:
    """Check the inputs of :func:`~blotquant.synthetic.make_blot` and derive the sizes.

    Parameters
    ----------
    seed, shape, n_lanes, rows, ...
        Exactly the keyword arguments of :func:`~blotquant.synthetic.make_blot`
        (which holds their defaults and documents them).

    Returns
    -------
    BlotSpec
        The checked inputs and the sizes derived from them.

    Raises
    ------
    blotquant.errors.ParameterError
        Invalid or inconsistent parameters.
    """
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
    # lane slots (positions in pitches): lanes side by side, or groups of lanes
    # with group_gap pitches (centre to centre) between neighbouring groups
    if lane_groups is None:
        slots = np.arange(n_lanes, dtype=float)
    else:
        groups = [int(v) for v in lane_groups] if not isinstance(lane_groups, (int, str)) else None
        if not groups or any(v < 1 for v in groups) or sum(groups) != n_lanes:
            raise ParameterError(f"lane_groups must be lane counts (>= 1) adding up to "
                                 f"n_lanes={n_lanes}, got {lane_groups!r}")
        group_gap = _as_float("group_gap", group_gap, lo=1.0, hi=20.0)
        slots = np.concatenate([np.arange(v, dtype=float) + sum(groups[:i])
                                + i * (group_gap - 1.0) for i, v in enumerate(groups)])
    pitch = (x_hi - x_lo) / (float(slots[-1]) + 1.0)
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
    return BlotSpec(seed=seed, H=H, W=W, n_lanes=n_lanes, rows=rows, n_rows=n_rows,
                    polarity=polarity, dt=dt, sat=sat, black=black, tilt_deg=tilt_deg,
                    smile_px=smile_px,
                    row_slope_px=row_slope_px, lane_margin=lane_margin,
                    lane_gap_jitter=lane_gap_jitter, lane_slots=slots, band_skew=band_skew,
                    band_height_jitter=band_height_jitter,
                    dust_bright_fraction=dust_bright_fraction, saturate_factor=saturate_factor,
                    ladder_scale=ladder_scale, lane_smear=lane_smear, dust=dust,
                    dust_on_bands=dust_on_bands, ladder=ladder, two_strips=two_strips,
                    saturate=saturate, ladder_kda=ladder_kda, empty=empty, x_lo=x_lo, x_hi=x_hi,
                    pitch=pitch, lane_width=lane_width, band_width=band_width, half_ext=half_ext,
                    band_height=band_height, gap_px=gap_px, bg=bg, nz=nz, loads=loads,
                    row_scale=row_scale, row_mw=row_mw, row_y=row_y)
