"""Order statistics from histograms and partitions: the same numbers as NumPy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant._shared import stats


def _same(u, v) -> bool:
    return type(u) is float and np.float64(u).tobytes() == np.float64(v).tobytes()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float64_median_is_numpys_to_the_bit():
    rng = np.random.default_rng(0)
    cases = [np.array([-0.0]), np.array([-0.0, -0.0]), np.array([0.0, -0.0, 1.0, -1.0]),
             np.array([np.inf, -np.inf]), np.array([1.0, np.nan, 2.0]), np.array([np.nan])]
    for k in range(2000):
        n = int(rng.integers(1, 40 if k % 2 else 1500))
        a = rng.normal(0, 1, n)
        if k % 5 == 0:
            a = rng.integers(-2, 3, n).astype(float) * rng.choice([-0.0, 1.0])
        if k % 7 == 0:
            a[rng.integers(0, n)] = np.nan
        if k % 11 == 0:
            a = rng.normal(0, 1, (n, 3))[:, ::2]      # not contiguous
        cases.append(a)
    for a in cases:
        assert _same(stats.median(a), np.median(a)), a


@pytest.mark.parametrize("scale", [1, 30, 200, 254, 255, 256, 300, 5000, 60000])
def test_median_of_small_is_numpys(scale):
    rng = np.random.default_rng(scale)
    for k in range(60):
        shape = (int(rng.integers(1, 50)), int(rng.integers(1, 70)))
        a = np.minimum(np.abs(rng.normal(0, scale, shape)), 65535).astype(np.uint16)
        if k % 3 == 0:
            a = a[:, ::2]
        if k % 4 == 0:
            a = a.ravel()
        assert _same(stats.median_of_small(a), np.median(a))
    # other dtypes go to stats.median
    b = rng.integers(0, 255, (9, 9)).astype(np.uint8)
    assert _same(stats.median_of_small(b), np.median(b))


def test_integer_median_and_percentiles_are_numpys():
    rng = np.random.default_rng(7)
    for dt in (np.uint8, np.uint16):
        a = rng.integers(0, np.iinfo(dt).max, (37, 53), endpoint=True).astype(dt)
        assert _same(stats.median(a), np.median(a))
        q = [0, 1, 12.5, 50, 99.9, 100]
        assert np.array_equal(stats.percentile(a, q), np.percentile(a, q))
