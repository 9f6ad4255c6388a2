"""`blotquant demo` on the bundled samples, and without them (wheel install)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import blotquant
from blotquant.synthetic.study import ASNS_LEVEL, CELL_LINES, sample_dir, write_samples
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

    monkeypatch.setattr("blotquant.synthetic.study.sample_dir", lambda: None)
    monkeypatch.setattr("blotquant.batch.run.run_batch", fake_run_batch)
    rc = main(["demo", "--out", str(tmp_path / "demo"), "--no-report", "-q"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "generating the synthetic samples" in cap.err
    assert not seen["folder"].exists()  # the temporary samples are cleaned up


def _same_table(got: pd.DataFrame, want: pd.DataFrame, what: str) -> None:
    """Equal tables: the same columns and text, numbers equal within tolerances."""
    assert list(got.columns) == list(want.columns), what
    assert got.shape == want.shape, what
    for c in want.columns:
        if pd.api.types.is_numeric_dtype(want[c]) and pd.api.types.is_numeric_dtype(got[c]):
            # absorbances are rounded to 4 decimals: allow one step in the last digit
            np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float),
                                       rtol=1e-6, atol=2e-4, err_msg=f"{what}: {c}")
        else:
            assert got[c].fillna("").astype(str).tolist() == \
                want[c].fillna("").astype(str).tolist(), f"{what}: {c}"


def test_regenerated_samples_match_the_bundled_ones(tmp_path):
    """sample_images/ is reproducible from make_samples.py (same pixels, same tables)."""
    import tifffile
    from PIL import Image as PILImage

    write_samples(tmp_path)
    hint = ("differs from a fresh generation: if the synthetic generators changed on "
            "purpose, run python sample_images/make_samples.py and commit sample_images/")
    for p in sorted(SAMPLES.iterdir()):
        if p.suffix == ".csv":
            _same_table(pd.read_csv(tmp_path / p.name), pd.read_csv(p), f"{p.name} {hint}")
        elif p.suffix in (".tif", ".png"):
            read = tifffile.imread if p.suffix == ".tif" else (
                lambda f: np.asarray(PILImage.open(f)))
            got, want = read(tmp_path / p.name), read(p)
            assert got.shape == want.shape and got.dtype == want.dtype, f"{p.name} {hint}"
            # one count of rounding is not a change of the data set
            np.testing.assert_allclose(got.astype(float), want.astype(float), rtol=0,
                                       atol=1, err_msg=f"{p.name} {hint}")


def test_demo_output_checked_before_any_work(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["demo", "--out", str(f / "demo"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "cannot create the output folder" in err and len(err.splitlines()) == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["demo", "--out", str(other), "-q"]) == 1
    err = capsys.readouterr().err
    assert "already holds results (notes.txt)" in err and "Traceback" not in err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    assert main(["demo", "--out", str(tmp_path / "d"), "--samples", str(tmp_path)]) == 1
    assert "no samples.csv" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("argv", [["demo", "--help"], ["batch", "--help"],
                                  ["stats", "mtt", "--help"]])
def test_help(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage" in capsys.readouterr().out
