"""The benchmark's seam features between touching nuclei (``bench_cells.touching_pairs``,
``seam_features``, ``pair_class``): known answers on drawn pieces."""

from __future__ import annotations

import importlib

import numpy as np
import pytest


def _bench():
    return importlib.import_module("bench_cells")


def _two_pieces(gap=2):
    """A 20 x 41 px block cut into labels 1 (left) and 2 (right) by ``gap`` zero columns."""
    lab = np.zeros((40, 70), np.int32)
    lab[10:30, 10:30] = 1
    lab[10:30, 30 + gap:51] = 2
    return lab


def test_touching_pairs_finds_a_cut_pair_and_not_a_distant_nucleus():
    bench = _bench()
    lab = _two_pieces()
    lab[10:20, 60:68] = 3  # 9 px from label 2
    got = bench.touching_pairs(lab, reach=3, min_contact=6)
    assert got[:, :2].tolist() == [[1, 2]]
    assert got[0, 2] >= 20  # the whole 20 px cut, several offsets each
    lab2 = np.zeros((20, 20), np.int32)
    lab2[5, 5], lab2[5, 7] = 1, 2  # one pixel each: too little contact
    assert bench.touching_pairs(lab2, min_contact=6).shape == (0, 3)


def test_seam_depth_of_a_pale_seam_and_of_an_even_body():
    bench = _bench()
    lab = _two_pieces()
    even = np.zeros(lab.shape, np.float32)
    even[10:30, 10:51] = 1.0
    seam = even.copy()
    seam[10:30, 29:33] = 0.4  # the cut (columns 30-31) and a pixel either side
    dab = np.zeros_like(even)
    f = bench.seam_features(lab, 1, 2, seam, seam, dab, pixel_size_um=0.25)
    assert f["ods_depth_median"] == pytest.approx(0.6, abs=0.02)
    assert f["ods_dip_fraction"] == pytest.approx(1.0)
    assert f["h_cut_ratio"] == pytest.approx(0.4 / ((19 * 1.0 + 0.4) / 20), abs=0.01)
    g = bench.seam_features(lab, 1, 2, even, even, dab, pixel_size_um=0.25)
    assert abs(g["ods_depth_median"]) < 0.02 and g["ods_dip_fraction"] == 0.0
    assert g["h_cut_ratio"] == pytest.approx(1.0, abs=0.01)
    assert g["cut_px"] > 0 and g["area_a"] == 400 and g["area_b"] == 380


def test_dab_share_rises_on_a_brown_cut():
    bench = _bench()
    lab = _two_pieces()
    h = np.zeros(lab.shape, np.float32)
    h[10:30, 10:51] = 0.5
    dab = np.zeros_like(h)
    dab[10:30, 29:33] = 0.5  # brown cytoplasm between two blue nuclei
    f = bench.seam_features(lab, 1, 2, h + dab, h, dab, pixel_size_um=0.25)
    assert f["dab_fraction_rise"] > 0.3
    assert f["dab_a"] < 0.05 and f["dab_b"] < 0.05
    g = bench.seam_features(lab, 1, 2, h, h, np.zeros_like(h), pixel_size_um=0.25)
    assert g["dab_fraction_rise"] == pytest.approx(0.0, abs=1e-6)


def test_pair_class_from_the_truth_under_each_piece():
    bench = _bench()
    lab = _two_pieces()
    one = np.zeros_like(lab)
    one[8:32, 8:53] = 7
    assert bench.pair_class(lab, one, 1, 2) == "one nucleus"
    two = np.zeros_like(lab)
    two[10:30, 8:31] = 4
    two[10:30, 31:53] = 5
    assert bench.pair_class(lab, two, 1, 2) == "two nuclei"
    assert bench.pair_class(lab, np.zeros_like(lab), 1, 2) == "unknown"
