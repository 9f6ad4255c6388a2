"""Pieces of one intensity basin are one nucleus only when they are close together."""

import cv2
import numpy as np

from blotquant.ihc.nuclei import _rejoin_pieces, segment_nuclei


def _chain(n=3, spacing=30):
    """Dark DAB-positive discs (radius 7 px) joined by a pale DAB-carrying bridge."""
    shape = (60, 40 + spacing * (n - 1))
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    h = np.zeros(shape, np.float32)
    d = np.zeros(shape, np.float32)
    centres = [20 + spacing * i for i in range(n)]
    for cx in centres:
        disc = (yy - 30) ** 2 + (xx - cx) ** 2 <= 49
        h[disc], d[disc] = 0.9, 0.8
    bridge = (np.abs(yy - 30) <= 3) & (xx > centres[0]) & (xx < centres[-1]) & (h == 0)
    h[bridge], d[bridge] = 0.25, 0.3
    return cv2.GaussianBlur(h, (0, 0), 1.0), cv2.GaussianBlur(d, (0, 0), 1.0), centres


def test_positive_nuclei_chained_by_dab_stay_separate():
    # the DAB rule (split_dab_od) puts the three positive discs and the bridge into one
    # intensity basin; each disc's half-maximum outline is its own piece, 16 px from the
    # next: three nuclei, not one label of three disconnected pieces
    h, d, centres = _chain()
    lab = segment_nuclei(h + d, background_radius=0, sigma=3, threshold=0.05, min_area=20,
                         max_area=1600, split_tolerance=0.5, boundary_sigma=1,
                         opening_radius=2, relative_threshold=0.5, peak_radius=12, dab_od=d,
                         split_contrast=0.15, seed_sigma=2, rescue_radius=3, split_dab_od=0.15)
    ids = [int(lab[30, cx]) for cx in centres]
    assert all(ids) and len(set(ids)) == 3
    for i in ids:  # each label is one disc (area ~ 154 px, outlined near half maximum)
        area = int((lab == i).sum())
        assert 60 <= area <= 250, area
        assert cv2.connectedComponents((lab == i).astype(np.uint8))[0] == 2  # one piece


def test_rejoin_pieces_gap():
    # one intensity label; shape pieces: two 1 px apart (one nucleus fallen apart), one far
    labels = np.zeros((20, 60), np.int32)
    labels[5:15, 2:58] = 1
    shape = np.zeros_like(labels)
    shape[5:15, 2:10] = 1
    shape[5:15, 11:19] = 2
    shape[5:15, 45:55] = 3
    out = _rejoin_pieces(shape, labels, gap=2)
    assert out[10, 5] == out[10, 15] != out[10, 50]
    assert out[10, 50] > 0 and len(np.unique(out)) == 3  # background + 2 nuclei
    # without a gap (the old rule) the far piece joined too: one label
    assert len(np.unique(_rejoin_pieces(shape, labels))) == 2
