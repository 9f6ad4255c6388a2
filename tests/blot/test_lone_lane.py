"""A strip with one lane: its width comes from its bands, not from a share of the image.

Before, a lone lane was 0.9 x a quarter of the image wide (27 px on a 120-px-wide
image whose band spans ~94 px), so both volumes came out at ~43 % of the truth while
their ratio stayed right: plausible wrong numbers for anyone comparing volumes.
"""

import numpy as np
import pytest

from blotquant.blot import quantify_blot
from blotquant.synthetic import make_blot


@pytest.mark.parametrize("seed", [0, 2, 4])
@pytest.mark.parametrize("shape", [(300, 120), (300, 90), (500, 160)])
def test_lone_lane_volumes_match_truth(seed, shape):
    b = make_blot(seed, shape=shape, n_lanes=1)
    r = quantify_blot(b.to_image(), rows=["ASNS", "ACTB"])
    assert len(r.lanes) == 1
    band = b.truth.bands.iloc[0]
    # the lane covers the band's whole extent, inside the image
    assert r.lanes["width"].iloc[0] >= 0.95 * (band["right"] - band["left"])
    assert r.lanes["width"].iloc[0] <= shape[1]
    got = r.bands.set_index("row")["volume"]
    want = b.truth.bands.set_index("row")["volume"]
    np.testing.assert_allclose(got[want.index].to_numpy(), want.to_numpy(), rtol=0.06)
