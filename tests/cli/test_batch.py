"""``blotquant batch`` checks every argument, the sheet and --out before any work."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest
import tifffile

from blotquant.cli import build_parser, main
from blotquant.synthetic import make_blot


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    for i in range(2):
        tifffile.imwrite(d / f"b{i}.tif", make_blot(i, shape=(120, 200), n_lanes=3).image)
    return d


def _fails(capsys, argv, code=1):
    assert main(argv) == code
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("blotquant: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_out_under_a_file_or_not_creatable(src, tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    msg = _fails(capsys, ["batch", str(src), "--out", str(f / "out"), "-q", "--workers", "0"])
    assert "cannot create the output folder" in msg and str(f / "out") in msg
    msg = _fails(capsys, ["batch", str(src), "--out", str(f), "-q", "--workers", "0"])
    assert "is a file" in msg
    msg = _fails(capsys, ["batch", str(src), "--out", "/proc/blotquant-test-out", "-q"])
    assert "/proc/blotquant-test-out" in msg
    assert f.read_text() == "x"


def test_other_results_refused_own_output_resumed(src, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "bands.csv").write_text("lane,volume\n1,2\n")
    msg = _fails(capsys, ["batch", str(src), "--out", str(out), "-q", "--workers", "0"])
    assert "already holds results (bands.csv)" in msg and "--overwrite" in msg
    assert sorted(p.name for p in out.iterdir()) == ["bands.csv"]
    assert main(["batch", str(src), "--out", str(out), "-q", "--workers", "0", "--no-qc",
                 "--overwrite"]) == 0
    assert len(pd.read_csv(out / "bands.csv")) > 2
    capsys.readouterr()
    # its own output: a re-run resumes without --overwrite
    assert main(["batch", str(src), "--out", str(out), "-q", "--workers", "0",
                 "--no-qc"]) == 0
    assert "2 already done (resumed)" in capsys.readouterr().out


def test_bad_choice_fails_once_up_front(src, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["batch", str(src), "--out", str(tmp_path / "o"), "--background", "lanefit"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'lanefit'" in err and "lane-fit" in err
    assert not (tmp_path / "o").exists()


def test_bad_parameter_value_names_the_option(src, tmp_path, capsys):
    msg = _fails(capsys, ["batch", str(src), "--out", str(tmp_path / "o"), "--radius", "-3"])
    assert "--radius: must be a positive number, got '-3'" in msg
    msg = _fails(capsys, ["batch", str(src), "--out", str(tmp_path / "o"),
                          "--thresholds", "0.5,0.2,0.6"])
    assert "--thresholds: must be strictly increasing" in msg
    assert not (tmp_path / "o").exists()


def test_bad_sheet_rows_one_error_before_any_image(src, tmp_path, capsys):
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"file,kind,radius,lanes\n{src / 'b0.tif'},blot,-1,3\n"
                     f"{src / 'b1.tif'},blot,20,three\n")
    msg = _fails(capsys, ["batch", str(sheet), "--out", str(tmp_path / "o"), "-q"])
    assert "row 2, column 'radius'" in msg and "row 3, column 'lanes'" in msg
    assert str(sheet) in msg
    assert not (tmp_path / "o").exists()
    sheet.write_text(f"file,backgroud\n{src / 'b0.tif'},none\n")
    msg = _fails(capsys, ["batch", str(sheet), "--out", str(tmp_path / "o"), "-q"])
    assert "did you mean 'background'?" in msg


def test_missing_source_is_fatal_and_writes_nothing(tmp_path, capsys):
    msg = _fails(capsys, ["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert "no such file or folder" in msg
    assert not (tmp_path / "o").exists()


def test_a_run_that_fails_leaves_no_partial_output(src, tmp_path, monkeypatch):
    import blotquant.batch.run as run
    import blotquant.report.html as html

    def boom(*a, **k):
        raise RuntimeError("disk gone")

    # fails before any image finished: no folder at all
    monkeypatch.setattr(run, "_execute", boom)
    with pytest.raises(RuntimeError):
        run.run_batch(src, tmp_path / "o1", workers=0, progress=False)
    assert not (tmp_path / "o1").exists()
    monkeypatch.undo()
    # fails while writing the combined files: none of them appears (images stay, resumable)
    monkeypatch.setattr(html, "write_report", boom)
    with pytest.raises(RuntimeError):
        run.run_batch(src, tmp_path / "o2", workers=0, progress=False, qc=False)
    names = sorted(p.name for p in (tmp_path / "o2").iterdir())
    assert names == ["batch.json", "images"]
    assert not list(tmp_path.glob(".o2.partial-*"))
    monkeypatch.undo()
    res = run.run_batch(src, tmp_path / "o2", workers=0, progress=False, qc=False)
    assert res.n_skipped == 2 and (tmp_path / "o2" / "bands.csv").is_file()


def _subparsers(parser):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, p in a.choices.items():
                yield name, p
                yield from ((f"{name} {n}", q) for n, q in _subparsers(p))


@pytest.mark.parametrize("command", ["batch", "demo", "stats", "stats correlate",
                                     "stats fisher", "stats mtt", "stats replicates"])
def test_every_option_has_help_and_its_default(command):
    parsers = dict(_subparsers(build_parser()))
    p = parsers[command]
    text = p.format_help()
    assert "``" not in text and "`" not in text, command
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert a.help and a.help.strip(), (command, a.option_strings or a.dest)
        # a switch's default is "off"; every other option says its default
        switch = isinstance(a, (argparse._StoreTrueAction, argparse._StoreFalseAction))
        if a.option_strings and not a.required and not switch:
            assert "default" in a.help, (command, a.option_strings)


def test_shared_parameter_names_get_prefixed_options(monkeypatch):
    """A name both models use becomes --blot-NAME and --ihc-NAME, each to its model."""
    import blotquant.cli.batch as cb
    from blotquant.blot.params import BlotParams

    monkeypatch.setattr(cb, "shared_parameter_names", lambda: ("tail",))
    p = argparse.ArgumentParser()
    cb._add_prefixed(p, BlotParams, "blot", ("tail",))
    assert "--blot-tail" in p.format_help()
    blot, ihc = cb.models_from_args(p.parse_args(["--blot-tail", "2.5"]))
    assert blot.tail == 2.5 and ihc == cb.IHCParams()
    with pytest.raises(Exception, match="--blot-tail: must be a positive number"):
        cb.models_from_args(p.parse_args(["--blot-tail", "-1"]))
