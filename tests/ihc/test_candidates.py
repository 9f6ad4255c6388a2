"""join_uncut_pieces: a nucleus cut across its full width is joined, two nuclei are not."""

import numpy as np
import pytest

from blotquant.ihc._candidates import join_uncut_pieces


def _disk(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def test_rod_cut_across_its_width_is_joined():
    lab = np.zeros((20, 40), np.int32)
    lab[6:14, 5:20], lab[6:14, 20:35] = 1, 2
    img = np.where(lab > 0, 0.4, 0.0).astype(np.float32)
    out = join_uncut_pieces(lab, img, ratio=0.85)
    assert set(np.unique(out)) == {0, 1}
    assert (out > 0).sum() == (lab > 0).sum()


def test_two_touching_round_nuclei_stay_apart():
    shape = (30, 50)
    a, b = _disk(shape, 15, 15, 8), _disk(shape, 15, 31, 8.5) & ~_disk(shape, 15, 15, 8)
    lab = np.zeros(shape, np.int32)
    lab[a], lab[b] = 1, 2
    img = np.where(lab > 0, 0.4, 0.0).astype(np.float32)
    assert set(np.unique(join_uncut_pieces(lab, img, ratio=0.85))) == {0, 1, 2}


def test_pale_beside_dark_and_a_seam_stay_apart():
    lab = np.zeros((20, 40), np.int32)
    lab[6:14, 5:20], lab[6:14, 20:35] = 1, 2
    pale = np.where(lab == 1, 0.4, np.where(lab == 2, 0.2, 0.0)).astype(np.float32)
    assert set(np.unique(join_uncut_pieces(lab, pale, ratio=0.85))) == {0, 1, 2}
    seam = np.where(lab > 0, 0.4, 0.0).astype(np.float32)
    seam[:, 19:21] = 0.2  # a paler line where the two meet
    assert set(np.unique(join_uncut_pieces(lab, seam, ratio=0.85))) == {0, 1, 2}


@pytest.mark.parametrize("ratio", [1.0, 1.5])
def test_ratio_one_is_off(ratio):
    lab = np.zeros((20, 40), np.int32)
    lab[6:14, 5:20], lab[6:14, 20:35] = 1, 2
    img = np.where(lab > 0, 0.4, 0.0).astype(np.float32)
    np.testing.assert_array_equal(join_uncut_pieces(lab, img, ratio=ratio), lab)


def test_max_area_limits_the_union():
    lab = np.zeros((20, 40), np.int32)
    lab[6:14, 5:20], lab[6:14, 20:35] = 1, 2
    img = np.where(lab > 0, 0.4, 0.0).astype(np.float32)
    assert set(np.unique(join_uncut_pieces(lab, img, ratio=0.85, max_area=200))) == {0, 1, 2}
