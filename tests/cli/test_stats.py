"""``blotquant stats``: end to end, output folders checked first, no partial output."""

from __future__ import annotations

import pandas as pd
import pytest

from blotquant.cli import main
from blotquant.stats import simulate_mtt_plate


def test_stats_cli_end_to_end(tmp_path, capsys):
    plate = simulate_mtt_plate({"A": 0.5, "B": 2.0, "C": 8.0, "D": 0.1}, seed=3)
    plate.to_csv(tmp_path / "plate.csv", index=False)
    assert main(["stats", "mtt", str(tmp_path / "plate.csv"), "--out",
                 str(tmp_path / "m")]) == 0
    ic = pd.read_csv(tmp_path / "m" / "ic50.csv")
    assert list(ic["cell_line"]) == ["A", "B", "C", "D"]
    assert (tmp_path / "m" / "dose_response.png").stat().st_size > 1000
    levels = pd.DataFrame({"lane_label": ["A", "B", "C", "D"],
                           "relative_ratio": [0.4, 1.1, 2.5, 0.2]})
    levels.to_csv(tmp_path / "levels.csv", index=False)
    assert main(["stats", "correlate", str(tmp_path / "levels.csv"),
                 str(tmp_path / "m" / "ic50.csv"), "--out", str(tmp_path / "c")]) == 0
    c = pd.read_csv(tmp_path / "c" / "correlation.csv")
    assert c["n"].iloc[0] == 4 and c["spearman_rho"].iloc[0] == pytest.approx(1.0)
    scores = pd.DataFrame({"sample": list("abcdef"), "h_score": [200, 150, 30, 90, 20, 10]})
    clinical = pd.DataFrame({"patient": list("abcdef"),
                             "kras_status": ["MUT", "MUT", "MUT", "WT", "WT", "WT"]})
    scores.to_csv(tmp_path / "s.csv", index=False)
    clinical.to_csv(tmp_path / "cl.csv", index=False)
    assert main(["stats", "fisher", str(tmp_path / "s.csv"), str(tmp_path / "cl.csv"),
                 "--cutoff", "100", "--positive", "MUT", "--out", str(tmp_path / "f")]) == 0
    fr = pd.read_csv(tmp_path / "f" / "fisher.csv")
    assert (fr["high_pos"].iloc[0], fr["low_neg"].iloc[0]) == (2, 3)
    out = capsys.readouterr().out
    assert "Fisher exact" in out and "Pearson r" in out
    capsys.readouterr()
    # a failing analysis: one line, and nothing written
    assert main(["stats", "fisher", str(tmp_path / "s.csv"), str(tmp_path / "cl.csv"),
                 "--cutoff", "100", "--positive", "KRAS", "--out", str(tmp_path / "f2")]) == 1
    err = capsys.readouterr().err
    assert "'KRAS' is not a value of 'kras_status'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "f2").exists()


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("blotquant: error: "), err
    assert "Traceback" not in err
    return err


@pytest.fixture
def plate(tmp_path):
    p = tmp_path / "plate.csv"
    simulate_mtt_plate({"A": 0.5, "B": 2.0}, seed=1).to_csv(p, index=False)
    return p


def test_existing_results_refused_unless_overwrite(tmp_path, plate, capsys):
    out = tmp_path / "m"
    assert main(["stats", "mtt", str(plate), "--out", str(out)]) == 0
    before = (out / "ic50.csv").read_bytes()
    err = _one_line_error(capsys, ["stats", "mtt", str(plate), "--out", str(out)])
    assert "already holds results" in err and "--overwrite" in err
    assert (out / "ic50.csv").read_bytes() == before
    assert main(["stats", "mtt", str(plate), "--out", str(out), "--overwrite"]) == 0


def test_out_that_cannot_be_created(tmp_path, plate, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    err = _one_line_error(capsys, ["stats", "mtt", str(plate), "--out", str(f / "sub")])
    assert "cannot create the output folder" in err
    err = _one_line_error(capsys, ["stats", "mtt", str(plate), "--out",
                                   "/proc/blotquant-test-stats"])
    assert "/proc/blotquant-test-stats" in err
    assert not list(tmp_path.glob(".*partial*"))


def test_arguments_checked_before_any_work(tmp_path, plate, capsys):
    levels = tmp_path / "levels.csv"
    pd.DataFrame({"lane_label": ["A", "B"], "relative_ratio": [1.0, 2.0]}).to_csv(levels,
                                                                                 index=False)
    err = _one_line_error(capsys, ["stats", "correlate", str(levels), str(tmp_path / "no.csv"),
                                   "--out", str(tmp_path / "c")])
    assert "table not found" in err and "no.csv" in err
    err = _one_line_error(capsys, ["stats", "correlate", str(levels), str(plate),
                                   "--level-col", "h_score", "--out", str(tmp_path / "c")])
    assert "no column 'h_score'" in err and "--level-col" in err
    err = _one_line_error(capsys, ["stats", "replicates", str(levels), "--value", "ratio",
                                   "--out", str(tmp_path / "r")])
    assert "no column 'ratio'" in err
    err = _one_line_error(capsys, ["stats", "mtt", str(plate), "--fix-top", "nan",
                                   "--out", str(tmp_path / "m")])
    assert "--fix-top must be a finite number" in err
    for name in ("c", "r", "m"):
        assert not (tmp_path / name).exists()


def test_stats_help_plain_text(capsys):
    with pytest.raises(SystemExit) as e:
        main(["stats", "--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "`" not in text and "correlate" in text and "replicates" in text
