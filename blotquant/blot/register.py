"""Registration of two blot images of one membrane (shift and small rotation).

A loading-control image is often taken after the membrane was stripped,
re-probed and put back on the imager: it moved by a few pixels and turned by
a degree or so.  :func:`register_images` finds that rigid motion from the
images themselves, by phase correlation of preprocessed signal images over a
small range of rotations, so lanes can be matched by position.

Convention: a point ``p = (row, col)`` of the *moving* image lies at
``R(angle) (p - center) + center + (dy, dx)`` in the *fixed* image
(:meth:`Registration.apply`), where ``R`` turns by ``angle_deg``
counter-clockwise as displayed (rows down, columns right).

What is correlated
------------------
Target and control show different proteins, so their bands sit in different
rows; what they share is the membrane (edges, texture, marker smudges, dust)
and the lane layout.  Each image is reduced to that common content: its
median is subtracted, values are compressed (``log1p`` in units of the
image's noise) so bright bands do not dominate, it is median-filtered (3 x 3; hot
pixels and the camera's fixed pattern do not move between exposures and would
pull the match to zero shift), its smooth glow is removed (a 25 px Gaussian
blur subtracted), it is smoothed (Gaussian, 1.5 px at the working scale) and
tapered with a Hann window.  Large images
are registered at a reduced scale (longest side 512 px) and the shift is
refined at full scale.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> fixed = rng.normal(0, 1, (200, 300)).cumsum(0).cumsum(1)
>>> moving = np.roll(fixed, (5, -8), axis=(0, 1))
>>> reg = register_images(fixed, moving, max_rotation_deg=0)
>>> round(reg.dy), round(reg.dx), reg.angle_deg
(-5, 8, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..errors import AnalysisError, ParameterError

__all__ = ["Registration", "register_images", "register_columns", "IDENTITY", "MIN_SCORE"]

#: Longest side of the working images during the rotation search (px).
_WORK_SIDE = 512
#: Width (px at full scale) of the blur subtracted to remove the imager's glow.
_HIGHPASS = 25.0
#: Rotation search step at the working scale (degrees).
_COARSE_STEP = 0.5
_FINE_STEP = 0.1


@dataclass(frozen=True)
class Registration:
    """Rigid motion from a moving image into a fixed image.

    Attributes
    ----------
    dy, dx : float
        Shift (px, rows and columns) after the rotation.
    angle_deg : float
        Rotation about ``center`` (degrees; positive turns counter-clockwise
        as displayed).
    center : tuple of float
        (row, col) the rotation turns about (the moving image's centre).
    score : float
        Phase-correlation peak response in [0, 1] at the chosen angle
        (higher: more confident; below ~0.05 the images share little).
    method : str
        ``"phase-correlation"``, ``"identity"`` (not registered) or ``"given"``.
    """

    dy: float = 0.0
    dx: float = 0.0
    angle_deg: float = 0.0
    center: tuple = (0.0, 0.0)
    score: float = float("nan")
    method: str = "identity"

    def apply(self, points: ArrayLike) -> np.ndarray:
        """Map ``(row, col)`` points of the moving image into the fixed image.

        Parameters
        ----------
        points : array_like, shape (N, 2) or (2,)
            Points of the moving image.

        Returns
        -------
        numpy.ndarray
            Same shape as ``points``.

        Examples
        --------
        >>> Registration(dy=2, dx=-3).apply([[10, 10]]).tolist()
        [[12.0, 7.0]]
        """
        p = np.asarray(points, dtype=float)
        flat = p.reshape(-1, 2)
        cy, cx = self.center
        t = math.radians(self.angle_deg)
        c, s = math.cos(t), math.sin(t)
        r, q = flat[:, 0] - cy, flat[:, 1] - cx
        # counter-clockwise as displayed with rows pointing down
        rr = c * r - s * q
        qq = s * r + c * q
        out = np.stack([rr + cy + self.dy, qq + cx + self.dx], axis=1)
        return out.reshape(p.shape)

    def to_dict(self) -> dict:
        """Plain JSON values (for params/provenance).

        Returns
        -------
        dict
            The fields, finite floats rounded to 4 decimals and ``center`` as
            a list.
        """
        d = asdict(self)
        d["center"] = [float(v) for v in self.center]
        return {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v)
                for k, v in d.items()}


#: No motion.
IDENTITY = Registration()


def _prepare(img, scale):
    import cv2

    a = np.asarray(img, dtype=np.float32)
    if a.ndim != 2:
        raise ParameterError(f"registration needs 2-D signal images, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        a = np.where(np.isfinite(a), a, np.float32(np.nanmedian(a)))
    if scale != 1.0:
        a = cv2.resize(a, (max(8, int(round(a.shape[1] * scale))),
                           max(8, int(round(a.shape[0] * scale)))),
                       interpolation=cv2.INTER_AREA)
    # hot pixels and the camera's fixed pattern sit still between exposures and
    # would pull the match to zero shift: a median removes them; the smooth glow
    # of the imager is removed by subtracting a wide blur
    a = cv2.medianBlur(np.ascontiguousarray(a, dtype=np.float32), 3)
    a = a - cv2.GaussianBlur(a, (0, 0), _HIGHPASS * max(scale, 0.25))
    d = np.abs(np.diff(a, axis=1))
    noise = float(1.4826 * np.median(d) / math.sqrt(2.0)) if d.size else 0.0
    if not noise > 0:
        noise = float(np.std(a)) or 1.0
    b = np.sign(a) * np.log1p(np.abs(a) / noise)
    b = cv2.GaussianBlur(b.astype(np.float32), (0, 0), 1.5)
    return b


def _rotate(a, angle_deg, center=None):
    import cv2

    h, w = a.shape
    cy, cx = ((h - 1) / 2.0, (w - 1) / 2.0) if center is None else center
    # cv2's positive angle turns counter-clockwise as displayed
    m = cv2.getRotationMatrix2D((cx, cy), angle_deg, 1.0)
    return cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _phase(fixed, moving, window):
    """(dy, dx, response): shift that maps ``moving`` onto ``fixed``."""
    import cv2

    (sx, sy), resp = cv2.phaseCorrelate(moving.astype(np.float64), fixed.astype(np.float64),
                                        window)
    return float(sy), float(sx), float(resp)


def register_images(fixed: ArrayLike, moving: ArrayLike, *, max_shift: float | None = None,
                    max_rotation_deg: float = 3.0) -> Registration:
    """Rigid registration (shift, small rotation) of ``moving`` onto ``fixed``.

    Parameters
    ----------
    fixed, moving : 2-D arrays
        Signal images (bands bright) of the same membrane; they may differ in
        size (the moving image is padded or cropped to the fixed one's size).
    max_shift : float, optional
        Largest shift accepted (px); default a quarter of the smaller side.
    max_rotation_deg : float
        Rotations in ``[-max_rotation_deg, +max_rotation_deg]`` are searched
        (0: shift only).

    Returns
    -------
    Registration
        ``apply`` maps moving-image points into the fixed image.

    Raises
    ------
    AnalysisError
        The best shift is larger than ``max_shift`` (the images do not show
        the same membrane, or it moved further than allowed).
    ParameterError
        Images are not 2-D or the limits are negative.
    """
    f = np.asarray(fixed)
    m = np.asarray(moving)
    if f.ndim != 2 or m.ndim != 2:
        raise ParameterError(f"registration needs 2-D images, got {f.shape} and {m.shape}")
    if max_rotation_deg is None or max_rotation_deg < 0:
        raise ParameterError(f"max_rotation_deg must be >= 0, got {max_rotation_deg!r}")
    H, W = f.shape
    if m.shape != f.shape:  # same canvas: pad with the median, or crop
        canvas = np.full((H, W), float(np.median(m)), dtype=np.float32)
        h, w = min(H, m.shape[0]), min(W, m.shape[1])
        canvas[:h, :w] = m[:h, :w]
        m = canvas
    if max_shift is None:
        max_shift = 0.25 * min(H, W)
    if max_shift <= 0:
        raise ParameterError(f"max_shift must be positive, got {max_shift!r}")
    import cv2

    scale = min(1.0, _WORK_SIDE / max(H, W))
    fs, ms = _prepare(f, scale), _prepare(m, scale)
    win = cv2.createHanningWindow((fs.shape[1], fs.shape[0]), cv2.CV_64F)

    def score(angle):
        # the whitened (phase) correlation peak: it rewards the shared texture;
        # a plain correlation would reward lining up the (different) band rows
        dy, dx, r = _phase(fs, _rotate(ms, angle), win)
        return r, dy, dx

    best = (score(0.0), 0.0)
    if max_rotation_deg > 0:
        n = int(math.ceil(max_rotation_deg / _COARSE_STEP))
        for a in np.linspace(-max_rotation_deg, max_rotation_deg, 2 * n + 1):
            s = score(float(a))
            if s[0] > best[0][0]:
                best = (s, float(a))
        a0 = best[1]
        tried = {a0: best[0][0]}
        for a in np.arange(a0 - _COARSE_STEP, a0 + _COARSE_STEP + 1e-9, _FINE_STEP):
            a = float(round(a, 6))
            if abs(a) > max_rotation_deg + 1e-9 or a in tried:
                continue
            s = score(a)
            tried[a] = s[0]
            if s[0] > best[0][0]:
                best = (s, a)
        # parabola through the best angle and its neighbours
        a1 = best[1]
        lo, hi = tried.get(round(a1 - _FINE_STEP, 6)), tried.get(round(a1 + _FINE_STEP, 6))
        if lo is not None and hi is not None:
            den = lo - 2 * best[0][0] + hi
            if den < 0:
                a1 = a1 + 0.5 * _FINE_STEP * (lo - hi) / den
        best = (best[0], float(np.clip(a1, -max_rotation_deg, max_rotation_deg)))
    angle = round(best[1], 3)
    # refine the shift at full scale for the chosen angle
    if scale < 1.0:
        ff, mf = _prepare(f, 1.0), _prepare(m, 1.0)
        wf = cv2.createHanningWindow((W, H), cv2.CV_64F)
        dy, dx, resp = _phase(ff, _rotate(mf, angle), wf)
    else:
        resp, dy, dx = score(angle)
    if math.hypot(dy, dx) > max_shift:
        raise AnalysisError(
            f"registration found a shift of ({dy:.0f}, {dx:.0f}) px, more than max_shift="
            f"{max_shift:g} px: the two images may not show the same membrane; check the "
            "pairing, raise max_shift, or switch registration off (register=False)")
    # the rotation was applied about the image centre, then the shift
    return Registration(dy=float(dy), dx=float(dx), angle_deg=float(angle),
                        center=((H - 1) / 2.0, (W - 1) / 2.0), score=float(resp),
                        method="phase-correlation")


#: Below this phase-correlation response the 2-D match is not trusted (the images
#: share too little texture) and the lane-profile registration is used instead.
MIN_SCORE = 0.1


def register_columns(fixed: ArrayLike, moving: ArrayLike, *, max_shift: float | None = None) -> Registration:
    """Horizontal shift of ``moving`` onto ``fixed`` from their lane profiles.

    For two images of one membrane strip that share no texture (different
    proteins, re-placed strips), the lanes are what they share: each image is
    prepared as for :func:`register_images` and reduced to a column profile
    (the 99th percentile down each column: band peaks, not the background),
    and the shift with the highest correlation of the profiles is taken
    (sub-pixel by a parabola).  Only ``dx`` is estimated.

    Parameters
    ----------
    fixed, moving : 2-D arrays
        Signal images (any heights; the widths are compared column by column).
    max_shift : float, optional
        Largest shift searched (px); default a quarter of the width.

    Returns
    -------
    Registration
        ``method="lane-profile"``, ``score`` = the profile correlation.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(300)
    >>> lanes = (np.sin(x / 6.0) > 0.3) * (abs(x - 150) < 110)
    >>> fixed = np.tile(lanes * 1000.0, (40, 1)) + 100
    >>> moving = np.roll(fixed, -9, axis=1)
    >>> round(register_columns(fixed, moving).dx)
    9
    """
    f, m = np.asarray(fixed), np.asarray(moving)
    if f.ndim != 2 or m.ndim != 2:
        raise ParameterError(f"registration needs 2-D images, got {f.shape} and {m.shape}")
    W = min(f.shape[1], m.shape[1])
    if max_shift is None:
        max_shift = 0.25 * W
    pf = np.percentile(_prepare(f[:, :W], 1.0), 99, axis=0)
    pm = np.percentile(_prepare(m[:, :W], 1.0), 99, axis=0)
    lim = int(min(max_shift, W // 2))
    shifts = np.arange(-lim, lim + 1)
    pf, pm = pf - pf.mean(), pm - pm.mean()
    norm = float(np.sqrt((pf * pf).sum() * (pm * pm).sum()))
    if not norm > 0:
        raise AnalysisError("lane-profile registration failed: the images are flat")
    # correlation over the whole width (the part shifted out counts as zero), so a
    # shift by whole lane pitches, which keeps fewer lanes in common, scores lower
    cc = np.empty(len(shifts))
    for i, d in enumerate(shifts):
        a, b = (pf[d:], pm[:W - d]) if d >= 0 else (pf[:W + d], pm[-d:])
        cc[i] = float((a * b).sum()) / norm
    k0 = int(np.argmax(cc))
    # that picks the right lane period; near it, the plain correlation of the
    # overlapping parts (unbiased by the overlap length) places the peak
    near = np.abs(shifts - shifts[k0]) <= max(3, W // 20)
    cu = np.full(len(shifts), -np.inf)
    for i in np.flatnonzero(near):
        d = shifts[i]
        a, b = (pf[d:], pm[:W - d]) if d >= 0 else (pf[:W + d], pm[-d:])
        if len(a) >= 16 and a.std() > 0 and b.std() > 0:
            cu[i] = float(np.corrcoef(a, b)[0, 1])
    k = int(np.argmax(cu)) if np.isfinite(cu).any() else k0
    cc = cu if np.isfinite(cu).any() else cc
    dx = float(shifts[k])
    if 0 < k < len(cc) - 1 and np.isfinite(cc[k - 1]) and np.isfinite(cc[k + 1]):
        den = cc[k - 1] - 2 * cc[k] + cc[k + 1]
        if den < 0:
            dx += 0.5 * (cc[k - 1] - cc[k + 1]) / den
    H = f.shape[0]
    return Registration(dy=0.0, dx=dx, angle_deg=0.0, center=((H - 1) / 2.0, (W - 1) / 2.0),
                        score=float(cc[k]), method="lane-profile")
