"""Cell mode on real Ki67 tiles against immunofluorescence truth (DeepLIIF; skips when absent).

Truth: ``train_*_gt_seg.png`` from multiplex immunofluorescence of the same section
(red = Ki67-positive nucleus, blue = negative). Matching: detected nucleus centroid within
the true nucleus' equivalent radius, one to one.
"""

from __future__ import annotations

import importlib

from pathlib import Path

import numpy as np
import pytest

TILES = ("Bladder1", "Lung1")




def _bench():
    """The benchmark module (on sys.path via tests/conftest.py): one truth reader and
    one matching rule for the test and the published numbers."""
    return importlib.import_module("bench_cells")


@pytest.fixture(scope="module")
def scored():
    # the shared_ihc fixture's folder (computed here: this fixture is module-scoped)
    folder = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ihc" / "deepliif"
    if not folder.is_dir():
        pytest.skip("../shared/data/ihc is not present")
    from skimage import io

    from blotquant.ihc import score_ihc

    bench = _bench()
    out = {}
    for name in TILES:
        rgb = io.imread(folder / f"train_{name}_ihc.png")[..., :3]
        truth = bench.deepliif_truth(folder, name)
        res = score_ihc(rgb, marker="nuclear")  # no pixel size: estimated from the nuclei
        c = res.cells
        matched, _ = bench.match_truth(truth, c)
        offset = bench.truth_offset(folder, name, rgb)
        out[name] = {"res": res, "recall": len(matched) / len(truth),
                     "precision": len(matched) / len(c),
                     "pct_error": float(res.summary.pct_positive[0]) - 100 * truth.positive.mean(),
                     **bench._registered(truth, c, offset, rgb.shape[:2])}
    return out


def test_shared_ihc_fixture_finds_the_tiles(shared_ihc):
    assert (shared_ihc / "deepliif" / "train_Bladder1_ihc.png").is_file()


def test_real_tiles_scale_and_outputs(scored):
    for name, m in scored.items():
        p = m["res"].params
        # 40x tiles (about 0.25 um/px, the source says 40x without a calibration)
        assert p["pixel_size_source"] == "estimated"
        assert 0.2 <= p["pixel_size_used"][0] <= 0.32, name
        assert p["detection_image"] == "od_sum"
        s = m["res"].summary
        assert s.primary_score[0] == "pct_positive"
        assert np.isfinite(s.pixel_pct_positive[0]) and np.isfinite(s.pixel_h_score[0])


def test_real_tiles_white_point_is_not_cytoplasm(scored):
    # neither tile shows glass: the brightest dense peak is pale cytoplasm / stroma
    # (Bladder1 197/210/199, Lung1 204/220/209) with >1 % of the pixels clearly brighter;
    # the white point comes from the brightest 0.5 % instead, and says so
    for name, m in scored.items():
        p = m["res"].params
        assert p["white_point_source"] == "brightest", name
        assert "tissue" in p["white_point_note"], name
        wp = np.asarray(p["white_point_used"])
        assert wp.mean() >= 220 and wp.min() >= 215, (name, wp)


def test_real_tiles_current_accuracy(scored):
    # what cell mode reaches today (2026-12-01 round 3: blob seeds at the nucleus scale, OD
    # sum downsampled in light; pixel size estimated): Bladder1 recall 0.83 / precision 0.90
    # / % positive +0.7; Lung1 0.90 / 0.76 / +0.0 (docs/benchmarks/cells.md; round 2 with
    # intensity-maxima seeds: 0.71 / 0.89 / +1.4 and 0.92 / 0.80 / -0.9). Cells are then
    # looked for in the tissue with its small pieces (a lone nucleus at a coarse scan is
    # below min_tissue_px): Lung1 0.92 / 0.73 / +1.4, Bladder1 unchanged. Round 6 (no
    # detector change; every join and seed variant tried traded one tile for the other):
    # floors at today's numbers less about one cell.
    floors = {"Bladder1": (0.825, 0.89, 1.5), "Lung1": (0.90, 0.72, 2.5)}
    for name, m in scored.items():
        recall, precision, err = floors[name]
        assert m["recall"] >= recall, name
        assert m["precision"] >= precision, name
        assert abs(m["pct_error"]) <= err, name


@pytest.mark.xfail(strict=True, reason="issue 11 detection targets on real tissue not reached "
                   "yet (Bladder1 recall 0.83: the truth sits 7 px beside the IHC, edge-cut and "
                   "pale nuclei on a darker neighbour's flank; Lung1 precision 0.73: large "
                   "granular positive nuclei in pieces, and pale nuclei the DAPI mask omits)")
def test_real_tiles_targets(scored):
    assert all(m["recall"] >= 0.85 and m["precision"] >= 0.9 for m in scored.values())


def test_real_tiles_with_the_truth_registered(scored):
    # reading aid (round 5): the immunofluorescence truth is 7 px (1.6 um) beside Bladder1's
    # IHC and 7 px above Lung1's; moved onto the IHC (translation from DeepLIIF's own
    # hematoxylin image, not from our detections) and restricted to the field both cover,
    # Bladder1 meets the detection targets (0.855 / 0.927) and Lung1's recall is 1.0; Lung1's
    # precision (0.77) is its nine pieces of large granular positive nuclei and nine pale
    # objects without truth, five of them nuclei that DAPI shows but the truth mask omits
    floors = {"Bladder1": (0.85, 0.9), "Lung1": (0.98, 0.75)}
    for name, m in scored.items():
        recall, precision = floors[name]
        assert m["recall_registered"] >= recall, (name, m["recall_registered"])
        assert m["precision_registered"] >= precision, (name, m["precision_registered"])
        # registration only helps: the offsets are real, not a reading the matching prefers
        assert m["recall_registered"] >= m["recall"] and m["precision_registered"] >= m["precision"]


def test_real_tiles_percent_positive_targets(scored):
    # the % positive targets are met: |error| median <= 3, worst <= 6 points
    errs = [abs(m["pct_error"]) for m in scored.values()]
    assert np.median(errs) <= 3 and max(errs) <= 6


def test_ki67_scored_as_cytoplasmic_says_the_dab_is_nuclear(shared_ihc):
    """The user's likely slip: a Ki67 tile scored with the default (cytoplasmic) marker.
    The cytoplasmic H-score is low and plausible; the comparison must say where the DAB is."""
    from skimage import io

    from blotquant.ihc import score_ihc
    from blotquant.ihc.compare import compare_modes

    for name in TILES:
        rgb = io.imread(shared_ihc / "deepliif" / f"train_{name}_ihc.png")[..., :3]
        for marker, says in (("cytoplasmic", "DAB is in the nuclei"), ("nuclear", "")):
            res = score_ihc(rgb, marker=marker)
            note = compare_modes(res.summary, res.cells, params=res.params).iloc[0]["marker_note"]
            assert (says in note) if says else note == "", (name, marker, note)
