"""Nuclei cut by the edge of the field: judged by what their visible part is consistent with."""

from __future__ import annotations

import numpy as np

from blotquant.ihc.cells import detect_cells
from blotquant.ihc.nuclei import ALL_EDGES, visible_fraction


def test_visible_fraction_known_answers():
    # a disk of radius 10 reaching 10 px into the image shows half; a whole object 1;
    # a 4 px deep cap about 15 %; a border that is not a field edge cuts nothing
    f = visible_fraction(np.array([0, 40, 0]), np.array([10, 60, 4]), np.array([50, 50, 40]),
                         np.array([70, 70, 52]), (100, 100), 10.0)
    assert np.allclose(f, [0.5, 1.0, 0.15], atol=0.03)
    g = visible_fraction(np.array([0]), np.array([10]), np.array([50]), np.array([70]), (100, 100),
                         10.0, edges=(False, True, True, True))
    assert g[0] == 1.0


def _field(cy):
    """0.5 um/px field, one nucleus of radius 3.3 um (6.6 px) centred ``cy`` px from the top."""
    h = np.zeros((60, 60), np.float32)
    yy, xx = np.mgrid[:60, :60]
    h[(yy - cy) ** 2 + (xx - 30) ** 2 <= 6.6 ** 2] = 0.6
    return h


def test_a_nucleus_cut_by_the_edge_is_found_when_the_edges_are_field_edges():
    # centre 3.5 px outside the image: a 3 px deep cap, below the 10 um2 minimum as a whole
    h = _field(-3.5)
    d = np.zeros_like(h)
    kw = dict(pixel_size_um=0.5, background_radius_um=0, peak_radius_um=0)
    assert len(detect_cells(h, d, **kw)) == 0  # judged as a whole small object
    det = detect_cells(h, d, field_edges=ALL_EDGES, **kw)
    assert len(det) == 1
    assert det.nuclei[0].any()
    # the same nucleus whole inside the field is one nucleus either way
    assert len(detect_cells(_field(20), d, field_edges=ALL_EDGES, **kw)) == 1


def test_a_speck_touching_the_edge_is_not_a_cut_nucleus():
    # a 2 x 2 um speck touching the top edge along 2 px only: not a cut nucleus
    h = np.zeros((60, 60), np.float32)
    h[0:6, 29:33] = 0.6
    d = np.zeros_like(h)
    kw = dict(pixel_size_um=0.5, background_radius_um=0, peak_radius_um=0, opening_radius_um=0,
              sigma_um=0.5, boundary_sigma_um=0.25)
    assert len(detect_cells(h, d, field_edges=ALL_EDGES, **kw)) == 0
