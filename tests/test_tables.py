"""Atomic table writing: formats, permissions, no partial files on failure."""

import os
import stat

import pandas as pd
import pytest

from blotquant.tables import write_json, write_table


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_round_trip_each_format(tmp_path, fmt):
    df = pd.DataFrame({"lane": [1, 2], "volume": [1.5, 2.25]})
    path = write_table(df, tmp_path / "bands.csv", fmt=fmt)
    assert path.suffix == "." + fmt
    back = {"csv": pd.read_csv, "parquet": pd.read_parquet,
            "xlsx": pd.read_excel}[fmt](path)
    pd.testing.assert_frame_equal(back, df)


def test_written_files_are_not_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_json({"a": 1}, tmp_path / "p.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044


def test_failed_write_leaves_nothing(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_table(Boom({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown table format 'txt'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.txt")
