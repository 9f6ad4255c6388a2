"""Atomic table writing: formats, permissions, no partial files on failure."""

import os
import re
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blotquant.tables import present, table_kind, write_json, write_table


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


# ----------------------------------------------------------------- presentation
def _bands():
    return pd.DataFrame({"image": "b", "strip": 1, "lane": [1, 2], "row": "ASNS",
                         "band": 1, "y": [117.39503851487208, 118.123456],
                         "top": [106, 107], "bottom": [128, 129], "left": [16.0, 75.333333],
                         "right": [75.0, 134.987654], "volume": [9451134.123456789, 1 / 3],
                         "saturated": [False, True]})


def test_positions_are_rounded_and_of_one_kind(tmp_path):
    p = write_table(_bands(), tmp_path / "bands.csv")
    back = pd.read_csv(p)
    for c in ("top", "bottom", "left", "right", "y"):
        assert back[c].dtype.kind == "f", c
        assert np.allclose(back[c], np.round(back[c], 2), atol=1e-12)
    assert back["left"].tolist() == [16.0, 75.33]
    assert back["y"].tolist() == [117.4, 118.12]
    # the numbers people compute with keep full precision
    assert back["volume"].tolist() == pytest.approx([9451134.123456789, 1 / 3], rel=1e-15)
    # text: no position is written with more than 2 decimals
    text = p.read_text().splitlines()[1]
    assert "117.39503851487208" not in text and ",117.4,106.0,128.0,16.0,75.0," in text


def test_presentation_leaves_other_tables_alone(tmp_path):
    # a correlation's data has x/y columns too: they are values, not positions
    df = pd.DataFrame({"label": ["A"], "x": [0.123456789], "y": [9.87654321]})
    back = pd.read_csv(write_table(df, tmp_path / "pairs.csv"))
    assert back["x"].iloc[0] == pytest.approx(0.123456789, rel=1e-12)
    assert table_kind(df) is None
    raw = pd.read_csv(write_table(_bands(), tmp_path / "raw.csv", presentation=False))
    assert raw["y"].iloc[0] == pytest.approx(117.39503851487208, rel=1e-15)


def test_present_does_not_modify_its_input():
    b = _bands()
    out = present(b)
    assert b["y"].iloc[0] == 117.39503851487208 and out["y"].iloc[0] == 117.4
    assert b["top"].dtype.kind == "i"


# ----------------------------------------------------------------- data dictionary
DICTIONARY = Path(__file__).resolve().parents[1] / "docs" / "tables.md"


def _documented() -> dict[str, set[str]]:
    """docs/tables.md: table file name -> documented columns (from `| `col` |` rows)."""
    out: dict[str, set[str]] = {}
    current: list[str] = []
    for line in DICTIONARY.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            current = re.findall(r"`([^`]+\.csv)`", line)
            if "Context and provenance" in line:
                current = ["<context>"]
            for name in current:
                out.setdefault(name, set())
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m and current:
            for name in current:
                out[name].add(m.group(1))
    return out


@pytest.fixture(scope="module")
def written_tables(tmp_path_factory):
    """Every table the tools write, produced by the code that writes them."""
    import tifffile
    from PIL import Image as PILImage

    from blotquant import stats as S
    from blotquant.batch import run_batch
    from blotquant.blot import quantify_blot
    from blotquant.blot.normalize import normalize
    from blotquant.ihc import score_ihc
    from blotquant.synthetic import make_blot, make_ihc

    t: dict[str, pd.DataFrame] = {}
    r = quantify_blot(make_blot(0, shape=(200, 300), n_lanes=3).to_image(),
                      rows=["ASNS", "ACTB"])
    t["bands.csv"], t["lanes.csv"] = r.bands, r.lanes
    t["normalized.csv"] = normalize(r.bands, target="ASNS", control="ACTB")
    s = make_ihc(seed=0, shape=(96, 96))
    ri = score_ihc(s.image, mode="cell")
    t["summary.csv"], t["cells.csv"] = ri.summary, ri.cells

    d = tmp_path_factory.mktemp("batch")
    tifffile.imwrite(d / "b.tif", make_blot(1, shape=(120, 200), n_lanes=4).image)
    PILImage.fromarray(s.image).save(d / "t.png")
    (d / "x.tif").write_bytes(b"II*\x00" + b"\xff" * 20)
    (d / "sheet.csv").write_text("file,condition,replicate,lane_labels\n"
                                 "b.tif,c,1,a;b;c;d\nt.png,c,1,\nx.tif,c,2,\n")
    res = run_batch(d / "sheet.csv", d / "out", workers=0, progress=False, qc=False,
                    report=False)
    for name, df in res.tables.items():
        t[f"batch {name}.csv"] = df
    t["errors.csv"] = res.errors
    assert len(res.errors) == 1

    lv = pd.DataFrame({"cell_line": list("ABCDE"), "ratio": [0.2, 0.5, 1.0, 1.5, 3.0]})
    ic = pd.DataFrame({"cell_line": list("EDCBA"), "ic50": [9.0, 4.0, 2.0, 0.5, 0.1]})
    c = S.biomarker_vs_sensitivity(lv, ic, level_col="ratio")
    t["correlation.csv"] = pd.DataFrame([c.as_dict()])
    t["correlation_pairs.csv"] = c.data.rename(columns={"x": "<level column>",
                                                        "y": "<IC50 column>"})
    reg = pd.DataFrame({"image": list("abcd"), "sample": list("abcd"), "region": "image",
                        "h_score": [250.0, 220, 40, 30]})
    cl = pd.DataFrame({"patient": list("abcd"), "kras": ["mut", "mut", "wt", "wt"]})
    f = S.cohort_vs_clinical(reg, cl, cutoff=100, group_col="kras", positive="mut")
    t["contingency.csv"] = f.table.reset_index().rename(
        columns={"mut": "<positive group>", "wt": "<other group>"})
    t["fisher.csv"] = pd.DataFrame([f.as_dict()])
    t["fisher_patients.csv"] = f.data.rename(columns={"h_score": "<score column>",
                                                      "kras": "<group column>"})
    v, fits, _ = S.fit_plate(S.simulate_mtt_plate({"A": 1.0}, seed=1))
    t["viability.csv"], t["ic50.csv"] = v, fits
    t["replicates_<value>.csv"] = S.summarize_replicates(
        lv.assign(g=list("xxyyy")), "ratio", "g").rename(columns={"g": "<group columns>"})
    return t


_BATCH_NAMES = {"bands": "bands.csv", "lanes": "lanes.csv", "normalized": "normalized.csv",
                "ihc_regions": "ihc_regions.csv", "ihc_cells": "ihc_cells.csv"}


def test_dictionary_covers_every_written_column(written_tables):
    doc = _documented()
    missing = {}
    for name, df in written_tables.items():
        if name.startswith("batch "):
            key = _BATCH_NAMES[name[len("batch "):-len(".csv")]]
            known = doc.get(key, set()) | doc["<context>"]
        else:
            known = doc.get(name, set())
        assert known, f"docs/tables.md has no section for {name}"
        miss = [c for c in df.columns if c not in known]
        if miss:
            missing[name] = miss
    assert not missing, f"columns written but not in docs/tables.md: {missing}"


def test_dictionary_documents_no_column_that_does_not_exist(written_tables):
    # every column named in a table's section is one the code writes (placeholders aside)
    doc = _documented()
    written: dict[str, set[str]] = {}
    for name, df in written_tables.items():
        key = _BATCH_NAMES[name[6:-4]] if name.startswith("batch ") else name
        written.setdefault(key, set()).update(map(str, df.columns))
    for key in ("bands.csv", "lanes.csv", "summary.csv", "cells.csv", "errors.csv",
                "fisher.csv", "ic50.csv", "viability.csv"):
        extra = doc[key] - written[key]
        assert not extra, f"{key}: documented but never written: {extra}"
    # normalized: the batch adds control_image and method
    assert doc["normalized.csv"] - (written["normalized.csv"] | written.get(
        "normalized.csv", set())) <= {"control_image", "method"}
    assert "reference_lane" in written["normalized.csv"]
