"""Lane detection that does not depend on the field of view around the blot
(``blotquant.blot.lanes``: the working resolution follows the foreground's extent)."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot.lanes import detect_lanes, foreground

PITCH = 110
XS = 110 + PITCH * np.arange(9)        # 9 lanes over columns 55-1045 of a 1100 px image


def _blot(seed, shape=(736, 1100), rows=(230, 520)):
    """A camera-like blot filling the image: two rows of 9 bands on a noisy floor."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:shape[0], :shape[1]].astype(float)
    img = np.full(shape, 200.0)
    for y in rows:
        for x in XS:
            amp = rng.uniform(600, 1200)
            img += amp * np.exp(-0.5 * (((yy - y) / 9) ** 2 + ((xx - x) / 32) ** 4))
    img += rng.normal(0, 6, shape)
    return img.astype(np.float32)


def _framed(img, frac):
    p = int(round(frac * max(img.shape)))
    return np.pad(img, p, mode="constant", constant_values=float(np.median(img))), p


def _centres(img):
    det = detect_lanes(img, return_details=True)
    out = {}
    for ln in det.lanes:
        out.setdefault(ln.strip, []).append(ln.x_at(0.5 * (ln.top + ln.bottom)))
    return [sorted(v) for _, v in sorted(out.items())]


@pytest.mark.parametrize("frac", [0.1, 0.15])
def test_working_scale_ignores_an_empty_frame(frac):
    # a uniform frame of 10-15 % of the long side makes the image 1.2-1.3x larger (1100 -> 1320-1430 px);
    # the blot's working scale (block size) must not change (it went from 2 to 3)
    img = _blot(0)
    framed, _ = _framed(img, frac)
    assert foreground(img)[1] == 2
    assert foreground(framed)[1] == 2


def test_small_blot_in_a_wide_field_keeps_the_working_size_bounded():
    # a blot of 400 px in the middle of a 1400 px field: the extent alone would ask
    # for k = 1 (a 1400 px working image); the working long side stays <= 750 px
    small = _blot(1, shape=(300, 400), rows=(100, 200))[:, :400]
    big = np.full((900, 1400), float(np.median(small)), np.float32)
    big[300:600, 500:900] = small
    k = foreground(big)[1]
    assert 1400 / k <= 750


@pytest.mark.parametrize("seed", range(3))
def test_same_lanes_with_and_without_a_wide_frame(seed):
    img = _blot(seed)
    framed, p = _framed(img, 0.1)
    a = _centres(img)
    b = _centres(framed)
    assert [len(s) for s in a] == [len(s) for s in b]
    for sa, sb in zip(a, b):
        assert np.allclose(np.asarray(sb) - p, sa, atol=3.0)
