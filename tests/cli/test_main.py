"""The `blotquant` dispatcher: help for every subcommand, errors as messages."""

import pytest

from blotquant.cli import SUBCOMMANDS, main


def test_every_subcommand_is_registered_and_has_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert f"    {name} " in out


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help_renders(name, capsys):
    # argparse formats help lazily: a stray '%' in a help string only fails here.
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: blotquant " + name in capsys.readouterr().out


def test_missing_image_is_one_line_error(tmp_path, capsys):
    status = main(["blot", str(tmp_path / "nope.tif"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert status != 0
    assert "nope.tif" in err and "Traceback" not in err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: blotquant" in capsys.readouterr().out
