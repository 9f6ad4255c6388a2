"""Rigid registration of two images of one membrane (known synthetic motions)."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.blot.register import Registration, register_columns, register_images
from blotquant.errors import AnalysisError, ParameterError
from blotquant.synthetic import make_blot
from blotquant.synthetic.blot import move_membrane


@pytest.fixture(scope="module")
def pair():
    """Target (ASNS, ACTB) and a control image of the same membrane (GAPDH, other rows)."""
    t = make_blot(2, shape=(400, 600), n_lanes=8)
    c = make_blot(2, shape=(400, 600), n_lanes=8, rows=("GAPDH",), row_y=(300.0,))
    return t.image.astype(np.float32), c.image.astype(np.float32)


@pytest.mark.parametrize("angle,dy,dx", [(0.0, 3.0, 4.0), (1.5, 7.0, -12.0),
                                         (-2.2, -15.0, 20.0), (0.7, 0.0, 0.0)])
def test_known_motion_is_recovered(pair, angle, dy, dx):
    fixed, control = pair
    moving = move_membrane(control, angle, dy, dx)
    reg = register_images(fixed, moving, max_rotation_deg=3)
    assert reg.method == "phase-correlation" and reg.score > 0.2
    assert reg.angle_deg == pytest.approx(angle, abs=0.3)
    assert reg.dy == pytest.approx(dy, abs=1.0) and reg.dx == pytest.approx(dx, abs=1.0)
    # lane centres of the moved image land on the target's lanes
    H, W = fixed.shape
    pts = np.array([[50.0, 60.0], [350.0, 540.0], [200.0, 300.0]])
    truth = Registration(dy=dy, dx=dx, angle_deg=angle, center=((H - 1) / 2, (W - 1) / 2))
    np.testing.assert_allclose(reg.apply(pts), truth.apply(pts), atol=2.0)


def test_apply_convention():
    r = Registration(dy=0, dx=0, angle_deg=90, center=(0.0, 0.0))
    # counter-clockwise as displayed (rows down): the point right of the centre goes up
    np.testing.assert_allclose(r.apply([0.0, 10.0]), [-10.0, 0.0], atol=1e-9)
    assert Registration(dy=1, dx=2).to_dict()["dx"] == 2.0


def test_lane_profile_shift(pair):
    fixed, control = pair
    moving = move_membrane(control, 0.0, 0.0, 9.0)
    reg = register_columns(fixed, moving)
    assert reg.method == "lane-profile" and reg.dx == pytest.approx(9.0, abs=0.5)


def test_limits_and_errors(pair):
    fixed, control = pair
    moving = move_membrane(control, 0.0, 30.0, 0.0)
    with pytest.raises(AnalysisError, match="max_shift"):
        register_images(fixed, moving, max_shift=10, max_rotation_deg=0)
    with pytest.raises(ParameterError, match="2-D"):
        register_images(fixed[None], moving)
    with pytest.raises(ParameterError, match="max_rotation_deg"):
        register_images(fixed, moving, max_rotation_deg=-1)


def test_different_sizes(pair):
    fixed, control = pair
    moving = move_membrane(control, 0.0, 5.0, -6.0)[:380, :590]
    reg = register_images(fixed, moving, max_rotation_deg=0)
    assert reg.dy == pytest.approx(5.0, abs=0.6) and reg.dx == pytest.approx(-6.0, abs=0.6)
