"""The rendering stages of a synthetic blot, each a function of the spec and its inputs.

``make_blot`` runs them in order, each stage on its own random stream:
:func:`render_layout` (loads, rows, lane centres), :func:`render_background`,
:func:`render_bands` (noise-free band and ladder signal with exact per-band
supports), :func:`render_dust` and :func:`render_detector` (noise, rounding,
clipping).  Each returns a small namespace that the next stages read.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from ..errors import ParameterError
from ._blot_spec import _ACROSS_CUT, _ACROSS_POWER, _ALONG_CUT, _FWHM, _LN2, ROW_MW_KDA, _as_float

if TYPE_CHECKING:
    from ._blot_spec import BlotSpec

__all__ = ["render_layout", "render_background", "render_bands", "render_dust",
           "render_detector"]


def _fields(obj, names: str) -> tuple:
    """``getattr(obj, n)`` for each whitespace-separated name."""
    return tuple(getattr(obj, n) for n in names.split())


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


def render_layout(spec: BlotSpec, rng_load: np.random.Generator,
                  rng_lane: np.random.Generator) -> SimpleNamespace:
    """Stage: Loads, row positions and lane centres (membrane coordinates).

    Parameters
    ----------
    spec : BlotSpec
        The resolved blot description (:func:`~blotquant.synthetic._blot_spec.blot_spec`).
    rng_load : numpy.random.Generator
        Draws the loads when ``spec.loads`` is None.
    rng_lane : numpy.random.Generator
        Draws the lane-gap and band-height jitter.

    Returns
    -------
    types.SimpleNamespace
        ``L`` (loads, lanes x rows; 0 for ladder and empty lanes),
        ``is_ladder``, ``is_empty``, ``rs`` (row scales), ``mw_to_y``,
        ``mws`` (row weights, kDa), ``strips``, ``g0``/``g1`` (strip gap),
        ``ys`` (membrane row of each band row), ``xk`` (lane centres) and
        ``h_jit`` (band-height factors).

    Raises
    ------
    ParameterError
        If ``loads``, ``row_scale``, ``row_mw`` or ``row_y`` do not fit the
        lanes and rows, or the rows do not fit in the image.
    """
    (H, band_height, band_height_jitter, empty, gap_px, half_ext, ladder, ladder_kda,
        lane_gap_jitter, loads, n_lanes, n_rows, pitch, row_mw, row_scale, row_y, rows, two_strips,
        x_lo) = _fields(
        spec,
        "H band_height band_height_jitter empty gap_px half_ext ladder "
        "ladder_kda lane_gap_jitter loads n_lanes n_rows pitch row_mw "
        "row_scale row_y rows two_strips x_lo")
    g0 = g1 = None
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
    xk = x_lo + (np.asarray(spec.lane_slots, float) + 0.5) * pitch
    if lane_gap_jitter > 0:
        lim = max(0.45 * (pitch - 2 * half_ext), 0.0)
        xk = xk + np.clip(rng_lane.normal(0.0, lane_gap_jitter * pitch, n_lanes), -lim, lim)
    h_jit = (1.0 + np.clip(rng_lane.normal(0.0, band_height_jitter, (n_lanes, n_rows)),
                           -0.3, 0.3)) if band_height_jitter > 0 else np.ones((n_lanes, n_rows))
    return SimpleNamespace(L=L, is_ladder=is_ladder, is_empty=is_empty, rs=rs, mw_to_y=mw_to_y,
                           mws=mws, strips=strips, g0=g0, g1=g1, ys=ys, xk=xk, h_jit=h_jit)


def render_background(spec: BlotSpec, lay: SimpleNamespace,
                      rng_bg: np.random.Generator) -> SimpleNamespace:
    """Stage: Noise-free background (gradient, undulation, texture, lane smear, strip gap).

    Parameters
    ----------
    spec : BlotSpec
        The resolved blot description.
    lay : types.SimpleNamespace
        The layout of :func:`render_layout`.
    rng_bg : numpy.random.Generator
        Draws the background texture and the lane smear.

    Returns
    -------
    types.SimpleNamespace
        ``back`` (the background, float image) and ``geo`` (the membrane to
        image geometry: tilt, smile, row slope).
    """
    (H, W, band_width, bg, lane_smear, polarity, row_slope_px, sat, smile_px, tilt_deg,
     two_strips) = _fields(
        spec,
        "H W band_width bg lane_smear polarity row_slope_px sat smile_px "
        "tilt_deg two_strips")
    (L, is_empty, is_ladder, xk, g0, g1) = _fields(
        lay,
        "L is_empty is_ladder xk g0 g1")
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
    return SimpleNamespace(back=back, geo=geo)


def render_bands(spec: BlotSpec, lay: SimpleNamespace, back: np.ndarray,
                 geo: Any) -> SimpleNamespace:
    """Stage: Band amplitudes and the noise-free signal of every band and ladder marker.

    Parameters
    ----------
    spec : BlotSpec
        The resolved blot description.
    lay : types.SimpleNamespace
        The layout of :func:`render_layout`.
    back : numpy.ndarray
        The background of :func:`render_background` (sets the headroom of
        deliberately saturated bands).
    geo : object
        The geometry of :func:`render_background`.

    Returns
    -------
    types.SimpleNamespace
        ``signal`` (float image), ``labels`` (int32 image, one label per band
        or marker), ``band_recs`` and ``ladder_recs`` (one dict per band or
        marker), ``owner`` (label -> name), ``peaks`` (lanes x rows) and
        ``amp_scale`` (factor applied to reach saturation).

    Raises
    ------
    ParameterError
        If a band lies outside the image or two bands overlap.
    """
    (H, W, band_height, band_skew, band_width, ladder, ladder_kda, ladder_scale, n_lanes, polarity,
        rows, sat, saturate, saturate_factor, two_strips) = _fields(
        spec,
        "H W band_height band_skew band_width ladder ladder_kda ladder_scale "
        "n_lanes polarity rows sat saturate saturate_factor two_strips")
    (L, h_jit, is_empty, is_ladder, mw_to_y, rs, strips, xk, ys) = _fields(
        lay,
        "L h_jit is_empty is_ladder mw_to_y rs strips xk ys")
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
    return SimpleNamespace(signal=signal, labels=labels, band_recs=band_recs,
                           ladder_recs=ladder_recs, owner=owner, peaks=peaks, amp_scale=amp_scale)


def render_dust(spec: BlotSpec, back: np.ndarray, bands: SimpleNamespace,
                rng_dust: np.random.Generator) -> SimpleNamespace:
    """Stage: Dust specks (off the bands unless ``dust_on_bands``), added to the image.

    Parameters
    ----------
    spec : BlotSpec
        The resolved blot description.
    back : numpy.ndarray
        The background of :func:`render_background`.
    bands : types.SimpleNamespace
        The bands of :func:`render_bands`.
    rng_dust : numpy.random.Generator
        Draws the specks.

    Returns
    -------
    types.SimpleNamespace
        ``artifacts`` (float image of the specks, to add to the image),
        ``dust_recs`` (one dict per speck) and ``sign`` (+1 light-on-dark,
        -1 dark-on-light).
    """
    (H, W, dust, dust_bright_fraction, dust_on_bands, polarity, sat) = _fields(
        spec,
        "H W dust dust_bright_fraction dust_on_bands polarity sat")
    (signal, labels, band_recs) = _fields(
        bands,
        "signal labels band_recs")
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
    return SimpleNamespace(artifacts=artifacts, dust_recs=dust_recs, sign=sign)


def render_detector(spec: BlotSpec, nf: np.ndarray,
                    rng_noise: np.random.Generator) -> SimpleNamespace:
    """Stage: Poisson-Gaussian noise, rounding and clipping at the saturation level.

    Parameters
    ----------
    spec : BlotSpec
        The resolved blot description (noise model, dtype, black and
        saturation levels).
    nf : numpy.ndarray
        The noise-free image.
    rng_noise : numpy.random.Generator
        Draws the noise (unused when the noise is off).

    Returns
    -------
    types.SimpleNamespace
        ``img``: the image, rounded, clipped to [black level, saturation
        level] and cast to the output dtype.
    """
    (H, W, dt, nz, sat, black) = _fields(
        spec,
        "H W dt nz sat black")
    if nz is not None:
        lam = np.maximum(nf, 0.0) / nz["gain"]
        img = rng_noise.poisson(lam).astype(float) * nz["gain"]
        img += rng_noise.normal(0.0, nz["read_sigma"], (H, W)) if nz["read_sigma"] > 0 else 0.0
    else:
        img = nf
    img = np.clip(np.rint(img), black, math.floor(sat)).astype(dt)
    return SimpleNamespace(img=img)
