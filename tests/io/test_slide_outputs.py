"""Slide outputs: class-map OME-TIFF pyramid, overlay, Parquet cells, the CLI slide path,
the OpenSlide reader (optional extra)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.errors import UnsupportedImageError
from blotquant.io import read_image
from blotquant.io.slide_writers import (class_map_thumbnail, write_cells_parquet,
                                        write_class_map_ome_tiff, write_slide_overlay)
from blotquant.synthetic import make_ihc

WSI = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wsi"


class _BandOnly:
    """A class map that refuses to be read more than ``limit`` rows at a time."""

    def __init__(self, a, limit):
        self.a, self.limit = a, limit
        self.shape, self.dtype = a.shape, a.dtype

    def __getitem__(self, key):
        rows = key[0] if isinstance(key, tuple) else key
        if isinstance(rows, slice):
            n = len(range(*rows.indices(self.a.shape[0])))
            assert n <= self.limit, f"read {n} rows at once"
        return self.a[key]


def test_class_map_pyramid_written_band_by_band(tmp_path):
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 5, (1500, 1300), dtype=np.uint8)
    p = write_class_map_ome_tiff(_BandOnly(cm, 2 * 256), tmp_path / "c.ome.tif",
                                 pixel_size_um=(0.5, 0.5), tile=256, min_side=200)
    with tifffile.TiffFile(p) as t:
        assert t.is_ome and t.pages[0].is_tiled
        lv = t.series[0].levels
        assert [x.shape for x in lv] == [(1500, 1300), (750, 650), (375, 325)]
        np.testing.assert_array_equal(lv[0].asarray(), cm)
        np.testing.assert_array_equal(lv[1].asarray(), cm[::2, ::2])
        np.testing.assert_array_equal(lv[2].asarray(), cm[::4, ::4])
    img = read_image(p)                       # our own reader: lazy pyramid + pixel size
    assert img.is_pyramid and img.metadata.pixel_size_um == pytest.approx((0.5, 0.5))
    assert not list(tmp_path.glob(".*part"))


def test_overlay_and_parquet(tmp_path):
    rgb = np.full((100, 120, 3), 230, np.uint8)
    cm = np.zeros((400, 480), np.uint8)
    cm[:200] = 4
    th = class_map_thumbnail(cm, (100, 120))
    assert th.shape == (100, 120) and (th[:50] == 4).all() and (th[50:] == 0).all()
    p = write_slide_overlay(rgb, cm, tmp_path / "o.png")
    import cv2
    o = cv2.imread(str(p))[..., ::-1]
    assert o.shape == (100, 120, 3)
    assert not np.array_equal(o[10, 10], o[90, 10])      # classes coloured, glass not
    cells = pd.DataFrame({"cell": [1, 2], "y": [10.5, 2000.0], "x": [3.0, 4.0]})
    q = write_cells_parquet(cells, tmp_path / "cells.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(q), cells)


def _pyramid(path, a):
    with tifffile.TiffWriter(path) as w:
        w.write(a, tile=(256, 256), compression="jpeg", photometric="rgb", subifds=1,
                resolution=(1e4 / 0.5, 1e4 / 0.5), resolutionunit="CENTIMETER")
        w.write(np.ascontiguousarray(a[::2, ::2]), tile=(256, 256), compression="jpeg",
                photometric="rgb", subfiletype=1)
    return path


@pytest.fixture(scope="module")
def slide(tmp_path_factory):
    a = make_ihc(seed=5, shape=(1024, 1024), tissue_fraction=0.5).image
    return _pyramid(tmp_path_factory.mktemp("cli") / "slide.tif", a)


def test_cli_scores_a_pyramid_tile_by_tile(slide, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["ihc", str(slide), "--out", str(out), "--mode", "pixel", "--tile-size", "256",
                 "--workers", "2"]) == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["cells.parquet", "params.json", "slide_classes.ome.tif", "slide_overlay.png",
                     "summary.csv", "tiles.csv"]
    p = json.loads((out / "params.json").read_text())
    assert p["slide"]["tile_size"] == 256 and p["pixel_size_used"] == [0.5, 0.5]
    s = pd.read_csv(out / "summary.csv")
    with tifffile.TiffFile(out / "slide_classes.ome.tif") as t:
        cm = t.series[0].levels[0].asarray()
    assert int(s.n[0]) == int((cm > 0).sum())
    # the same numbers with another tile size
    out2 = tmp_path / "out2"
    assert main(["ihc", str(slide), "--out", str(out2), "--mode", "pixel", "--tile-size",
                 "512"]) == 0
    s2 = pd.read_csv(out2 / "summary.csv")
    assert s2.n[0] == s.n[0] and s2.h_score[0] == s.h_score[0]
    assert "H-score=" in capsys.readouterr().out
    # one worker: outputs written one after the other, the overlay from the written
    # class-map file; with two it is made from the spooled tiles meanwhile: same PNG
    out1 = tmp_path / "out1"
    assert main(["ihc", str(slide), "--out", str(out1), "--mode", "pixel", "--tile-size",
                 "256", "--workers", "1"]) == 0
    import cv2

    a = cv2.imread(str(out / "slide_overlay.png"))
    b = cv2.imread(str(out1 / "slide_overlay.png"))
    assert a is not None and a.shape == b.shape
    np.testing.assert_array_equal(a, b)
    assert (a[..., 0] != a[..., 1]).any()                   # class colours were drawn


def test_program_ends_without_interpreter_shutdown_with_complete_outputs(slide, tmp_path):
    """``python -m blotquant ihc SLIDE`` ends right after the command (os._exit): the exit
    status, the printed scores and every output file are complete, and the same as main()."""
    import os
    import subprocess
    import sys

    import cv2

    out = tmp_path / "prog"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "blotquant", "ihc", str(slide), "--out",
                           str(out), "--mode", "pixel", "--tile-size", "256", "--workers", "2"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "H-score=" in proc.stdout and proc.stdout.endswith("\n")
    ref = tmp_path / "ref"
    assert main(["ihc", str(slide), "--out", str(ref), "--mode", "pixel", "--tile-size", "256",
                 "--workers", "1"]) == 0
    a, b = pd.read_csv(out / "summary.csv"), pd.read_csv(ref / "summary.csv")
    assert a.n[0] == b.n[0] > 0 and a.params_hash[0] == b.params_hash[0]
    np.testing.assert_array_equal(cv2.imread(str(out / "slide_overlay.png")),
                                  cv2.imread(str(ref / "slide_overlay.png")))
    with tifffile.TiffFile(out / "slide_classes.ome.tif") as t, \
            tifffile.TiffFile(ref / "slide_classes.ome.tif") as u:
        for x, y in zip(t.series[0].levels, u.series[0].levels, strict=True):
            np.testing.assert_array_equal(x.asarray(), y.asarray())
    assert json.loads((out / "params.json").read_text())["slide"]["tiles_scored"] > 1
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    # a failing command: its status and one error line, as before
    bad = subprocess.run([sys.executable, "-m", "blotquant", "ihc", str(tmp_path / "none.tif"),
                          "--out", str(tmp_path / "x")], capture_output=True, text=True,
                         timeout=120, env=env)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1, bad.stderr


def test_cli_cell_mode_on_a_slide_prints_pixel_beside_cell(slide, tmp_path, capsys):
    out = tmp_path / "cell"
    assert main(["ihc", str(slide), "--out", str(out), "--mode", "cell", "--tile-size", "512",
                 "--workers", "1"]) == 0
    s = pd.read_csv(out / "summary.csv")
    # the pixel-mode scores are measured on the slide, not copied from the cell scores
    assert np.isfinite(s.pixel_h_score[0]) and s.pixel_h_score[0] != s.h_score[0]
    line = [ln for ln in capsys.readouterr().out.splitlines() if "vs pixel" in ln]
    assert len(line) == 1 and f"vs pixel {s.pixel_h_score[0]:.0f}" in line[0]


def test_cli_interrupt_leaves_no_partial_outputs(slide, tmp_path, monkeypatch):
    from blotquant.cli import _slide

    def boom(self, info):
        if info.done >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(_slide._Bar, "__call__", boom)
    out = tmp_path / "out"
    assert main(["ihc", str(slide), "--out", str(out), "--mode", "pixel",
                 "--tile-size", "256"]) == 130
    # no tables, no temporary folders: the output folder is not even created
    assert not out.exists() or list(out.iterdir()) == []
    assert not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir())


def test_cli_rejects_bad_execution_options(slide, tmp_path, capsys):
    assert main(["ihc", str(slide), "--out", str(tmp_path / "o"), "--tile-size", "8"]) == 1
    assert "--tile-size" in capsys.readouterr().err
    assert main(["ihc", str(slide), "--out", str(tmp_path / "o"), "--mode", "pixel",
                 "--scheduler", "tcp://127.0.0.1:9"]) == 1
    assert "dask scheduler" in capsys.readouterr().err


@pytest.mark.realdata
def test_cli_jpeg2000_svs(tmp_path):
    p = WSI / "tcga-cr-7395-01a-01-ts1.svs"
    if not p.is_file():
        pytest.skip("../shared/data/wsi is not present")
    out = tmp_path / "o"
    assert main(["ihc", str(p), "--out", str(out), "--mode", "pixel"]) == 0
    prm = json.loads((out / "params.json").read_text())
    assert prm["image_metadata"]["format"] == "svs"
    assert prm["pixel_size_source"] == "unknown"          # this file records no MPP
    assert prm["slide"]["tissue_level"] == 1


def test_openslide_missing_names_the_extra(monkeypatch, tmp_path):
    import builtins

    from blotquant.io import _openslide

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "openslide":
            raise ImportError("No module named 'openslide'")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    f = tmp_path / "slide.mrxs"
    f.write_text("[GENERAL]\n")
    with pytest.raises(UnsupportedImageError, match=r"blotquant\[slides\]"):
        read_image(f)
    assert not _openslide.openslide_available()


@pytest.mark.realdata
def test_openslide_reader_matches_tifffile():
    pytest.importorskip("openslide")
    from blotquant.ihc.slide import score_slide
    from blotquant.io._openslide import read_openslide

    p = WSI / "CMU-1-Small-Region.svs"
    if not p.is_file():
        pytest.skip("../shared/data/wsi is not present")
    a, b = read_openslide(p), read_image(p, mode="rgb")
    assert a.metadata.pixel_size_um == pytest.approx((0.499, 0.499))
    np.testing.assert_array_equal(np.asarray(a.levels[0][100:400, 200:500]),
                                  np.asarray(b.levels[0][100:400, 200:500]))
    ra, rb = score_slide(a, mode="pixel"), score_slide(b, mode="pixel")
    assert ra.summary.n[0] == rb.summary.n[0]
