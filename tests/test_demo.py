"""`blotquant demo` on the bundled samples, and without them (wheel install)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blotquant
from blotquant.batch_samples import ASNS_LEVEL, CELL_LINES, sample_dir, write_samples
from blotquant.cli import main

# keep module fixtures on one xdist worker (make test: -n 2 --dist loadgroup)
pytestmark = pytest.mark.xdist_group("demo")

SAMPLES = Path(blotquant.__file__).resolve().parents[1] / "sample_images"


def test_bundled_samples_small_and_listed():
    assert sample_dir() == SAMPLES
    sheet = pd.read_csv(SAMPLES / "samples.csv")
    for f in sheet["file"]:
        p = SAMPLES / f
        assert p.is_file(), f
        assert p.stat().st_size < 1_000_000, f
    kinds = set(sheet["kind"])
    assert kinds == {"blot", "ihc"}
    assert {"target", "loading_control"} <= set(sheet["role"])
    assert (SAMPLES / "make_samples.py").is_file()


def test_demo_on_bundled_samples(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = main(["demo", "--out", str(out), "--workers", "0", "--no-qc", "-q"])
    text = capsys.readouterr().out
    assert rc == 0, text
    for name in ("bands.csv", "normalized.csv", "ihc_regions.csv", "errors.csv",
                 "report.html", "stats/ic50.csv", "stats/correlation.csv",
                 "stats/fisher.csv"):
        assert (out / name).is_file(), name
    assert str(out / "report.html") in text and "sample images from" in text
    norm = pd.read_csv(out / "normalized.csv")
    # the blots measure the planted ASNS levels (relative to OVCAR8, lane 1)
    med = norm.groupby("lane_label")["relative_ratio"].median()
    truth = pd.Series(ASNS_LEVEL, index=CELL_LINES)
    assert med.index.isin(CELL_LINES).all() and len(med) == len(CELL_LINES)
    np.testing.assert_allclose(med[list(CELL_LINES)], truth, rtol=0.25)
    corr = pd.read_csv(out / "stats" / "correlation.csv")
    assert corr["spearman_rho"].iloc[0] > 0.8  # more ASNS -> higher IC50 (resistance)
    assert pd.read_csv(out / "errors.csv").empty


def test_demo_without_bundled_samples_generates_them(tmp_path, monkeypatch, capsys):
    """Wheel install: no sample_images/ -> samples generated into a temp folder
    (identical to the bundled ones, see the next test), used, then removed."""
    import blotquant.batch

    seen = {}

    def fake_run_batch(sheet, out, **kw):
        seen["folder"] = Path(sheet).parent
        assert Path(sheet).name == "samples.csv"
        listed = pd.read_csv(sheet)["file"]
        assert all((Path(sheet).parent / f).is_file() for f in listed)
        assert (Path(sheet).parent / "mtt_plate.csv").is_file()
        return blotquant.batch.BatchResult(out_dir=Path(out), paths={
            "errors": Path(out) / "errors.csv"})

    monkeypatch.setattr("blotquant.batch_samples.sample_dir", lambda: None)
    monkeypatch.setattr(blotquant.batch, "run_batch", fake_run_batch)
    rc = main(["demo", "--out", str(tmp_path / "demo"), "--no-report", "-q"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "generating the synthetic samples" in cap.err
    assert not seen["folder"].exists()  # the temporary samples are cleaned up


def test_regenerated_samples_match_the_bundled_ones(tmp_path):
    """sample_images/ is reproducible from make_samples.py (same pixels, same tables)."""
    import tifffile
    from PIL import Image as PILImage

    write_samples(tmp_path)
    hint = ("differs from a fresh generation: if the synthetic generators changed on "
            "purpose, run `python sample_images/make_samples.py` and commit sample_images/")
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix == ".csv":
            assert (tmp_path / p.name).read_text() == p.read_text(), f"{p.name} {hint}"
        elif p.suffix == ".tif":
            np.testing.assert_array_equal(tifffile.imread(tmp_path / p.name),
                                          tifffile.imread(p), err_msg=f"{p.name} {hint}")
        elif p.suffix == ".png":
            np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / p.name)),
                                          np.asarray(PILImage.open(p)),
                                          err_msg=f"{p.name} {hint}")


@pytest.mark.parametrize("argv", [["demo", "--help"], ["batch", "--help"],
                                  ["stats", "mtt", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage" in capsys.readouterr().out
