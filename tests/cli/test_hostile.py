"""A corpus of user mistakes and hostile files through the CLI (issue 13).

Every case ends either in ONE clear line on stderr (``blotquant: error: ...``
naming the file or option, exit 1; argparse usage errors exit 2) or in right
numbers; never a traceback, a partial output folder or plausible wrong
numbers.  Every file is generated in ``tmp_path``.  The corpus and its
results are recorded in ``docs/benchmarks/hostile.md``.
"""

from __future__ import annotations

import json
import os
import struct
import zlib

import cv2
import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.synthetic import make_blot, make_ihc
from blotquant.stats import simulate_mtt_plate


# ----------------------------------------------------------------------------- helpers

def _run(capsys, argv):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:          # argparse usage errors
        rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _fails(capsys, argv, *needles, code=1):
    """Run ``argv``; it must fail with one error line containing every needle."""
    rc, _, err = _run(capsys, argv)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines()
             if ln.strip() and not ln.startswith(("note:", "warning:"))]
    if code == 2:                      # argparse: usage lines, then one error line
        assert rc == 2, (rc, err)
        msg = lines[-1]
        assert msg.startswith("blotquant") and ": error: " in msg, err
    else:
        assert rc == code, (rc, err)
        assert len(lines) == 1 and lines[0].startswith("blotquant: error: "), err
        msg = lines[0]
    for needle in needles:
        assert needle.lower() in msg.lower(), (needle, msg)
    return msg


def _no_output(out):
    assert not out.exists(), sorted(p.name for p in out.iterdir())
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


def _png_header_only(path, width, height):
    """A PNG that declares width x height but holds a tiny IDAT (a decompression bomb)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return path


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    f = {}
    b9 = make_blot(3, shape=(140, 400), n_lanes=9, background={"texture": 0.0})
    f["blot9"] = d / "blot9.tif"
    tifffile.imwrite(f["blot9"], b9.image)
    b5 = make_blot(4, shape=(140, 300), n_lanes=5, background={"texture": 0.0})
    f["blot5"] = d / "blot5.tif"
    tifffile.imwrite(f["blot5"], b5.image)
    s = make_ihc(seed=8, shape=(160, 200))
    f["ihc_rgb"] = s.image
    f["ihc"] = d / "ihc.png"
    cv2.imwrite(str(f["ihc"]), s.image[..., ::-1])
    return d, f


def _write(d, name, maker):
    p = d / name
    maker(p)
    return p


def _truncate(src, dst, frac=0.5):
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * frac)])


def _bad_files(d, f):
    """``{case: path}`` of hostile image files, each must be refused by blot and ihc."""
    out = {}
    out["missing"] = d / "does_not_exist.tif"
    out["empty.tif"] = _write(d, "empty.tif", lambda p: p.write_bytes(b""))
    out["empty.png"] = _write(d, "empty.png", lambda p: p.write_bytes(b""))
    out["trunc.tif"] = _write(d, "trunc.tif", lambda p: _truncate(f["blot9"], p, 0.3))
    out["trunc.png"] = _write(d, "trunc.png", lambda p: _truncate(f["ihc"], p, 0.5))
    jpg = d / "full.jpg"
    cv2.imwrite(str(jpg), f["ihc_rgb"][..., ::-1])
    out["trunc.jpg"] = _write(d, "trunc.jpg", lambda p: _truncate(jpg, p, 0.4))
    out["text.tif"] = _write(d, "text.tif", lambda p: p.write_text("lane,volume\n1,2\n"))
    out["directory"] = d / "a_folder.tif"
    out["directory"].mkdir(exist_ok=True)
    out["zero-size"] = _write(d, "zero.tif",
                              lambda p: tifffile.imwrite(p, np.zeros((0, 0), np.uint16)))
    out["1-pixel"] = _write(d, "px.tif", lambda p: tifffile.imwrite(p, np.ones((1, 1), np.uint16)))
    out["1-row"] = _write(d, "row.tif",
                          lambda p: tifffile.imwrite(p, np.arange(300, dtype=np.uint16)[None]))
    out["4-D"] = _write(d, "4d.tif", lambda p: tifffile.imwrite(
        p, np.ones((2, 3, 40, 40), np.uint16), photometric="minisblack"))
    out["5-channel"] = _write(d, "5ch.tif", lambda p: tifffile.imwrite(
        p, np.ones((40, 40, 5), np.uint8), photometric="minisblack", planarconfig="contig"))
    nan = np.full((80, 120), 100.0, np.float32)
    nan[10:20, 10:20] = np.nan
    out["NaN"] = _write(d, "nan.tif", lambda p: tifffile.imwrite(p, nan))
    inf = np.full((80, 120), 100.0, np.float32)
    inf[5, 5] = np.inf
    out["inf"] = _write(d, "inf.tif", lambda p: tifffile.imwrite(p, inf))
    out["bomb.png"] = _png_header_only(d / "bomb.png", 60000, 60000)
    out["broken.scn"] = _write(d, "broken.scn",
                               lambda p: p.write_bytes(b"II*\x00" + b"\xff" * 40))
    return out


BAD = ["missing", "empty.tif", "empty.png", "trunc.tif", "trunc.png", "trunc.jpg",
       "text.tif", "directory", "zero-size", "1-pixel", "1-row", "4-D", "5-channel",
       "NaN", "inf", "bomb.png", "broken.scn"]


@pytest.fixture(scope="module")
def bad(files):
    d, f = files
    return _bad_files(d, f)


# ----------------------------------------------------------------------------- files

@pytest.mark.parametrize("command", ["blot", "ihc"])
@pytest.mark.parametrize("case", BAD)
def test_hostile_file_is_one_line_error(command, case, bad, tmp_path, capsys):
    path = bad[case]
    out = tmp_path / "out"
    msg = _fails(capsys, [command, path, "--out", out])
    assert path.name in msg
    _no_output(out)


def test_constant_image_has_no_bands(tmp_path, capsys):
    p = tmp_path / "flat.tif"
    tifffile.imwrite(p, np.full((120, 300), 1000, np.uint16))
    out = tmp_path / "out"
    msg = _fails(capsys, ["blot", p, "--out", out], "flat.tif")
    assert "lane" in msg or "band" in msg or "constant" in msg
    _no_output(out)


def test_gray_image_given_to_ihc(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["blot9"], "--out", out], "blot9.tif", "rgb")
    _no_output(out)


def test_hdab_colour_field_given_to_blot(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["blot", f["ihc"], "--out", out], "ihc.png", "ihc")
    _no_output(out)


def test_fluorescence_composite_given_to_ihc(tmp_path, capsys):
    # dark background, bright nuclei: read as brightfield every pixel would be "3+"
    rng = np.random.default_rng(1)
    img = rng.integers(0, 30, (240, 320, 3)).astype(np.uint8)
    yy, xx = np.mgrid[:240, :320]
    for cy, cx in rng.integers(10, 230, (60, 2)):
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < 50] = (30, 220, 250)
    p = tmp_path / "dapi_ki67.png"
    cv2.imwrite(str(p), img[..., ::-1])
    out = tmp_path / "out"
    _fails(capsys, ["ihc", p, "--out", out], "dapi_ki67.png", "near black", "fluorescence")
    _no_output(out)


def test_he_slide_region_given_to_ihc_is_scored_with_a_warning(tmp_path, capsys):
    from blotquant.synthetic import make_ihc
    from blotquant.synthetic.ihc import HE_STAINS

    he = make_ihc(seed=5, shape=(200, 240), stains=HE_STAINS)
    p = tmp_path / "he.png"
    cv2.imwrite(str(p), he.image[..., ::-1])
    rc, out, err = _run(capsys, ["ihc", p, "--out", tmp_path / "o", "--mode", "pixel"])
    assert rc == 0 and "Traceback" not in err
    warn = [ln for ln in err.splitlines() if ln.startswith("warning: he.png:")]
    assert len(warn) == 1 and "no mix of hematoxylin and DAB" in warn[0]


def test_cells_too_coarse_to_estimate_the_scale_name_the_pixel_size(tmp_path, capsys):
    # 3 um/px: the scale estimate finds no nuclei and cell mode nothing; the error says
    # that the pixel size was guessed and how to give it
    from blotquant.synthetic.cells import make_cell_image

    s = make_cell_image(0, shape=(100, 100), pixel_size_um=3.0)
    p = tmp_path / "coarse.png"
    cv2.imwrite(str(p), s.image[..., ::-1])
    out = tmp_path / "out"
    _fails(capsys, ["ihc", p, "--out", out], "coarse.png", "nothing was scored", "--pixel-size")
    _no_output(out)
    rc, _, _ = _run(capsys, ["ihc", p, "--out", out, "--pixel-size", "3"])
    assert rc == 0


def test_16bit_rgb_ihc_gives_the_8bit_numbers(files, tmp_path, capsys):
    d, f = files
    p16 = tmp_path / "ihc16.tif"
    tifffile.imwrite(p16, f["ihc_rgb"].astype(np.uint16) * 257, photometric="rgb")
    rc8, _, _ = _run(capsys, ["ihc", f["ihc"], "--out", tmp_path / "o8", "--mode", "pixel"])
    rc16, _, err = _run(capsys, ["ihc", p16, "--out", tmp_path / "o16", "--mode", "pixel"])
    assert rc8 == 0 and rc16 == 0, err
    s8 = pd.read_csv(tmp_path / "o8" / "summary.csv")
    s16 = pd.read_csv(tmp_path / "o16" / "summary.csv")
    for col in ("h_score", "pct_positive", "n"):
        assert s16[col].iloc[0] == pytest.approx(s8[col].iloc[0], rel=0.01, abs=0.5), col


def test_rgba_transparent_pixels_are_not_scored(files, tmp_path, capsys):
    _, f = files
    rgb = f["ihc_rgb"]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:, :100, :3] = 0          # black ...
    rgba[:, :100, 3] = 0           # ... and fully transparent: outside the scan
    p = tmp_path / "rgba.png"
    cv2.imwrite(str(p), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    ref = rgb.copy()
    ref[:, :100] = 255             # the same pixels as glass
    pr = tmp_path / "ref.png"
    cv2.imwrite(str(pr), ref[..., ::-1])
    args = ["--mode", "pixel", "--white-point", "255"]
    rc, _, err = _run(capsys, ["ihc", p, "--out", tmp_path / "oa", *args])
    assert rc == 0 and "Traceback" not in err, err
    assert _run(capsys, ["ihc", pr, "--out", tmp_path / "or", *args])[0] == 0
    a = pd.read_csv(tmp_path / "oa" / "summary.csv")
    r = pd.read_csv(tmp_path / "or" / "summary.csv")
    assert a["h_score"].iloc[0] == pytest.approx(r["h_score"].iloc[0], abs=1.0)
    assert a["n"].iloc[0] == pytest.approx(r["n"].iloc[0], rel=0.02)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage", b'{"type": "FeatureCollection", ',
                                     b"[1, 2, 3]", b'{"type": "Feature", "geometry": null}'])
def test_malformed_geojson_roi(content, files, tmp_path, capsys):
    _, f = files
    roi = tmp_path / "roi.geojson"
    roi.write_bytes(content)
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["ihc"], "--out", out, "--roi", roi], "roi.geojson")
    _no_output(out)


def test_missing_roi(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["ihc"], "--out", out, "--roi", tmp_path / "nope.geojson"],
           "nope.geojson")
    _no_output(out)


def _blot_sidecar(path, tmp_path):
    from blotquant import quantify_blot, read_image
    from blotquant.review import blot_corrections, save_corrections
    img = read_image(path)
    lanes = quantify_blot(img, rows=["ASNS", "ACTB"]).lane_geometry
    corr = blot_corrections(img, lanes=lanes, rows=["ASNS", "ACTB"], params={},
                            image_name=path.name)
    return save_corrections(corr, tmp_path / "review.blotquant.json")


def test_sidecars_for_another_image_kind_or_corrupt(files, tmp_path, capsys):
    _, f = files
    side = _blot_sidecar(f["blot5"], tmp_path)
    out = tmp_path / "out"
    # a sidecar of another image
    _fails(capsys, ["blot", f["blot9"], "--out", out, "--corrections", side],
           "blot9.tif", "blot5.tif", "sidecar")
    # a blot sidecar given to ihc
    _fails(capsys, ["ihc", f["ihc"], "--out", out, "--corrections", side],
           "review.blotquant.json")
    bad = tmp_path / "bad.blotquant.json"
    bad.write_text('{"version": 1, "kind": "blot", "lanes": [')
    _fails(capsys, ["blot", f["blot5"], "--out", out, "--corrections", bad], "bad.blotquant.json")
    bad.write_bytes(b"\xff\xfe\x00\x01")
    _fails(capsys, ["blot", f["blot5"], "--out", out, "--corrections", bad], "bad.blotquant.json")
    _fails(capsys, ["blot", f["blot5"], "--out", out, "--corrections", tmp_path / "no.json"],
           "no.json")
    _no_output(out)


# ----------------------------------------------------------------------------- options

BLOT_OPTIONS = [
    (["--radius", "-1"], "--radius"),
    (["--radius", "abc"], "--radius"),
    (["--sensitivity", "2"], "--sensitivity"),
    (["--sensitivity", "0"], "--sensitivity"),
    (["--lanes", "0"], "--lanes"),
    (["--lanes", "-3"], "--lanes"),
    (["--lanes", "2.5"], "--lanes"),
    (["--tail", "-1"], "--tail"),
    (["--tail", "nan"], "--tail"),
    (["--lane-width", "0"], "--lane-width"),
    (["--max-tilt-deg", "-5"], "--max-tilt-deg"),
    (["--max-tilt-deg", "inf"], "--max-tilt-deg"),
    (["--min-row-lanes", "1.5"], "--min-row-lanes"),
    (["--min-row-strength", "-0.1"], "--min-row-strength"),
    (["--border-width", "0"], "--border-width"),
    (["--flank", "-2"], "--flank"),
    (["--reference-lane", "0"], "--reference-lane"),
    (["--reference-lane", "x"], "--reference-lane"),
    (["--clip-level", "abc"], "--clip-level"),
    (["--ladder", "maybe"], "--ladder"),
    (["--register", "perhaps"], "--register"),
    (["--max-shift", "-1"], "--max-shift"),
    (["--max-rotation-deg", "-1"], "--max-rotation-deg"),
    (["--rows", "ASNS,ASNS"], "--rows"),
    (["--rows", ",,"], "--rows"),
]


@pytest.mark.parametrize("opts,option", BLOT_OPTIONS, ids=[" ".join(o) for o, _ in BLOT_OPTIONS])
def test_blot_bad_option_value(opts, option, files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["blot", f["blot9"], "--out", out, *opts], option)
    _no_output(out)


IHC_OPTIONS = [
    (["--white-point", "300"], "white point"),   # checked against the image's bit depth
    (["--white-point", "0"], "--white-point"),
    (["--white-point", "1,2"], "--white-point"),
    (["--thresholds", "0.6,0.4,0.2"], "--thresholds"),
    (["--thresholds", "abc"], "--thresholds"),
    (["--thresholds", "-0.1"], "--thresholds"),
    (["--thresholds", "0.1,0.2"], "--thresholds"),
    (["--pixel-size-um", "0"], "--pixel-size-um"),
    (["--pixel-size-um", "-1"], "--pixel-size-um"),
    (["--magnification", "7000x"], "--magnification"),
    (["--magnification", "abc"], "--magnification"),
    (["--tissue-threshold", "-1"], "--tissue-threshold"),
    (["--min-tissue-px", "-5"], "--min-tissue-px"),
    (["--max-hole-px", "-5"], "--max-hole-px"),
    (["--min-positive-pct", "150"], "--min-positive-pct"),
    (["--level", "-1"], "--level"),
    (["--level", "9"], "--level"),
    (["--cell-expansion-um", "-1"], "--cell-expansion-um"),
    (["--stains", "nosuch"], "--stains"),
    (["--tissue", "perhaps"], "--tissue"),
]


@pytest.mark.parametrize("opts,option", IHC_OPTIONS, ids=[" ".join(o) for o, _ in IHC_OPTIONS])
def test_ihc_bad_option_value(opts, option, files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["ihc"], "--out", out, *opts], option)
    _no_output(out)


@pytest.mark.parametrize("command", ["blot", "ihc", "batch", "stats"])
def test_unknown_option(command, files, tmp_path, capsys):
    _, f = files
    argv = {"blot": ["blot", f["blot9"]], "ihc": ["ihc", f["ihc"]],
            "batch": ["batch", f["blot9"].parent], "stats": ["stats", "mtt", f["blot9"]]}[command]
    out = tmp_path / "out"
    _fails(capsys, [*argv, "--out", out, "--radiuss", "5"], "--radiuss", code=2)
    _no_output(out)


def test_bad_stains_json(files, tmp_path, capsys):
    _, f = files
    st = tmp_path / "stains.json"
    st.write_text('{"hematoxylin": [0.65, 0.70], "dab": "x"}')
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["ihc"], "--out", out, "--stains", st], "stains.json")
    _no_output(out)


# Cases that need the image analysed (lanes/rows found) before they can be judged.

def test_lanes_beyond_the_image(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    # 12 lanes on a 9-lane image: fitting 12 lanes is allowed, but never outside the image
    rc, _, err = _run(capsys, ["blot", f["blot9"], "--out", out, "--lanes", "12",
                               "--rows", "ASNS,ACTB"])
    assert "Traceback" not in err
    if rc == 0:
        lanes = pd.read_csv(out / "lanes.csv")
        assert len(lanes) == 12
        w = tifffile.imread(f["blot9"]).shape[1]
        half = lanes["width"] / 2
        assert (lanes["x"] - half >= -0.5).all() and (lanes["x"] + half <= w + 0.5).all()
    else:
        assert rc == 1 and "12 lanes do not fit" in err and "blot9.tif" in err, err
        assert len(err.strip().splitlines()) == 1, err
        _no_output(out)


def test_lanes_per_strip_on_one_strip(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    # (read as two groups side by side in the one strip: 19 lanes do not fit)
    _fails(capsys, ["blot", f["blot9"], "--out", out, "--lanes", "10,9"], "blot9.tif",
           "lanes gave 2 groups side by side", "one strip found", "19 lanes", "9 lanes at x")
    _no_output(out)


def test_reference_lane_beyond_the_lanes(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["blot", f["blot9"], "--out", out, "--rows", "ASNS,ACTB",
                    "--reference-lane", "20"], "reference_lane", "lane 20", "1 to 9")
    _no_output(out)


@pytest.mark.parametrize("rows", ["ASNS", "A,B,C"])
def test_rows_do_not_match_the_rows_found(rows, files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    msg = _fails(capsys, ["blot", f["blot9"], "--out", out, "--rows", rows], "blot9.tif",
                 "2 band row(s) found", "give 2 names")
    assert "rows gave" in msg
    _no_output(out)


def test_control_not_among_rows(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["blot", f["blot9"], "--out", out, "--rows", "ASNS,ACTB",
                    "--control", "GAPDH"], "control row 'GAPDH' not found", "ACTB")
    _no_output(out)


def test_control_image_with_other_lane_count(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["blot", f["blot9"], f["blot5"], "--out", out, "--rows", "ASNS,ACTB",
                    "--control-rows", "ASNS,ACTB", "--control", "ACTB"], "lane")
    _no_output(out)


# ----------------------------------------------------------------------------- output

def test_out_under_a_file_or_proc(files, tmp_path, capsys):
    _, f = files
    txt = tmp_path / "notes.txt"
    txt.write_text("x")
    for cmd in (["blot", f["blot9"]], ["ihc", f["ihc"]]):
        _fails(capsys, [*cmd, "--out", txt / "sub"], "notes.txt is a file", "--out")
        _fails(capsys, [*cmd, "--out", txt], "notes.txt", "is a file")
        _fails(capsys, [*cmd, "--out", "/proc/blotquant-hostile"], "/proc/blotquant-hostile")
    assert txt.read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not apply to root")
def test_out_not_writable(files, tmp_path, capsys):
    _, f = files
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _fails(capsys, ["blot", f["blot9"], "--out", ro / "out"], "permission")
    finally:
        ro.chmod(0o700)


def test_out_is_the_image_folder(tmp_path, capsys):
    p = tmp_path / "blot.tif"
    tifffile.imwrite(p, make_blot(1, shape=(120, 240), n_lanes=4).image)
    before = p.read_bytes()
    for extra in ([], ["--overwrite"]):
        _fails(capsys, ["blot", p, "--out", tmp_path, *extra], "blot.tif", "input")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["blot.tif"]
    assert p.read_bytes() == before


def test_existing_results_refused_then_replaced_and_late_failure_keeps_them(files, tmp_path,
                                                                            capsys):
    _, f = files
    out = tmp_path / "out"
    two = ["blot", f["blot9"], f["blot9"], "--out", out, "--rows", "ASNS,ACTB",
           "--control-rows", "ASNS,ACTB", "--control", "ACTB"]
    assert _run(capsys, two)[0] == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "qc_control.png" in first and "normalized.csv" in first
    _fails(capsys, ["blot", f["blot5"], "--out", out], "already holds results", "--overwrite")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    # a run that fails late (the rows are only known after the analysis): untouched
    _fails(capsys, ["blot", f["blot5"], "--out", out, "--overwrite", "--rows", "A,B,C"],
           "blot5.tif", "rows gave 3 name(s)")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    assert not list(tmp_path.glob(".out.partial-*"))
    # --overwrite replaces the results: nothing of the previous run is left mixed in
    assert _run(capsys, ["blot", f["blot5"], "--out", out, "--overwrite",
                         "--rows", "ASNS,ACTB"])[0] == 0
    names = sorted(p.name for p in out.iterdir())
    assert "qc_control.png" not in names, names
    params = json.loads((out / "params.json").read_text())
    assert params["image2"] is None and params["image"].endswith("blot5.tif")
    n = pd.read_csv(out / "normalized.csv")
    assert len(n) == 5 and set(n["target"]) == {"ASNS"}


# ----------------------------------------------------------------------------- batch

def _batch(*args):
    return ["batch", *args, "-q", "--workers", "0", "--no-report", "--no-qc"]


def test_batch_sheet_problems(files, tmp_path, capsys):
    d, f = files
    sheet = tmp_path / "s.csv"
    out = tmp_path / "out"
    sheet.write_text(f"file,kind,backgroud\n{f['blot9']},blot,none\n")
    _fails(capsys, _batch(sheet, "--out", out), "s.csv", "backgroud")
    sheet.write_text(f"file,kind,radius\n{f['blot9']},blot,10\n{f['blot5']},blot,-4\n")
    _fails(capsys, _batch(sheet, "--out", out), "s.csv", "row 3", "radius")
    sheet.write_text(f"file,kind,thresholds\n{f['ihc']},ihc,0.2;0.4;0.6\n"
                     f"{f['blot5']},ihc,0.6;0.4;0.2\n")
    _fails(capsys, _batch(sheet, "--out", out), "s.csv", "row 3", "thresholds")
    sheet.write_text("file,kind\n")
    _fails(capsys, _batch(sheet, "--out", out), "s.csv")
    sheet.write_bytes(b"\xff\xfe\x00\x01file\n")
    _fails(capsys, _batch(sheet, "--out", out), "s.csv")
    _no_output(out)


def test_batch_missing_file_and_mixed_kinds(files, tmp_path, capsys):
    d, f = files
    sheet = tmp_path / "s.csv"
    sheet.write_text(f"file,kind,rows\n{f['blot5']},blot,ASNS;ACTB\n{f['ihc']},ihc,\n"
                     f"{tmp_path / 'gone.tif'},blot,\n")
    out = tmp_path / "out"
    rc, _, err = _run(capsys, _batch(sheet, "--out", out, "--mode", "pixel"))
    assert "Traceback" not in err
    if rc == 1:        # refused up front: one line naming the missing file
        assert "gone.tif" in err and len(err.strip().splitlines()) == 1, err
        _no_output(out)
    else:              # or: the other two analysed, the missing one in errors.csv
        assert rc == 3, err
        errors = pd.read_csv(out / "errors.csv")
        assert len(errors) == 1 and "gone.tif" in str(errors.iloc[0].to_dict())
        assert (out / "bands.csv").is_file() and (out / "ihc_regions.csv").is_file()


def test_batch_empty_folder_and_foreign_output(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "out"
    _fails(capsys, _batch(empty, "--out", out), "empty", "no image files")
    _no_output(out)
    foreign = tmp_path / "res"
    foreign.mkdir()
    (foreign / "bands.csv").write_text("lane,volume\n1,2\n")
    src = tmp_path / "src"
    src.mkdir()
    tifffile.imwrite(src / "b.tif", make_blot(2, shape=(100, 200), n_lanes=3).image)
    _fails(capsys, _batch(src, "--out", foreign), "already holds results", "--overwrite")
    assert sorted(p.name for p in foreign.iterdir()) == ["bands.csv"]
    # a batch.json that is not a batch's
    (foreign / "batch.json").write_text("not json")
    _fails(capsys, _batch(src, "--out", foreign), "batch.json")
    assert sorted(p.name for p in foreign.iterdir()) == ["bands.csv", "batch.json"]


def test_batch_bad_options(files, tmp_path, capsys):
    d, f = files
    out = tmp_path / "out"
    _fails(capsys, _batch(d, "--out", out, "--lanes", "0"), "--lanes")
    _fails(capsys, _batch(d, "--out", out, "--thresholds", "0.6,0.4,0.2"), "--thresholds")
    _fails(capsys, _batch(d, "--out", out, "--sheet", tmp_path / "none.csv"), "none.csv")
    _fails(capsys, _batch(tmp_path / "nowhere", "--out", out), "nowhere")
    _no_output(out)


# ----------------------------------------------------------------------------- stats

def test_stats_tables_without_the_columns(tmp_path, capsys):
    out = tmp_path / "out"
    t = tmp_path / "t.csv"
    t.write_text("a,b\n1,2\n")
    _fails(capsys, ["stats", "mtt", t, "--out", out], "t.csv")
    ic = tmp_path / "ic.csv"
    ic.write_text("cell_line,ic50\nA,1\nB,2\nC,3\n")
    _fails(capsys, ["stats", "correlate", t, ic, "--out", out], "t.csv")
    _fails(capsys, ["stats", "fisher", t, ic, "--cutoff", "1", "--out", out], "t.csv")
    _fails(capsys, ["stats", "replicates", t, "--out", out, "--value", "zz"], "t.csv", "zz")
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    _fails(capsys, ["stats", "mtt", empty, "--out", out], "e.csv")
    _fails(capsys, ["stats", "mtt", tmp_path / "none.csv", "--out", out], "none.csv")
    _no_output(out)


def test_stats_non_numeric_ic50_and_too_few_points(tmp_path, capsys):
    out = tmp_path / "out"
    lv = tmp_path / "lv.csv"
    lv.write_text("lane_label,relative_ratio\nA,0.5\nB,1.0\nC,2.0\nD,3.0\n")
    ic = tmp_path / "ic.csv"
    ic.write_text("cell_line,ic50\nA,1.2\nB,abc\nC,>10\nD,4\n")
    _fails(capsys, ["stats", "correlate", lv, ic, "--out", out], "ic.csv", "ic50")
    ic.write_text("cell_line,ic50\nA,1\nB,2\n")
    _fails(capsys, ["stats", "correlate", lv, ic, "--out", out], "only 2 sample(s)")
    plate = tmp_path / "plate.csv"
    p = simulate_mtt_plate({"A": 0.5}, seed=1)
    a = p[p["cell_line"] == "A"]
    two = sorted(a.loc[a["dose"] > 0, "dose"].unique())[:2]     # 2 doses: no 4PL curve
    small = pd.concat([p[p["cell_line"] != "A"], a[a["dose"].isin([0.0, *two])]])
    small.to_csv(plate, index=False)
    rc, _, err = _run(capsys, ["stats", "mtt", plate, "--out", out])
    assert "Traceback" not in err and rc != 0, err
    if rc == 3:   # fit failed: reported in the table, no IC50 made up
        ic50 = pd.read_csv(out / "ic50.csv")
        assert ic50["ic50"].isna().all() and "fit-failed" in ic50["flags"].iloc[0]
    else:
        assert rc == 1 and len(err.strip().splitlines()) == 1
        _no_output(out)


def test_ihc_overwrite_leaves_no_overlay_of_the_previous_image(files, tmp_path, capsys):
    _, f = files
    other = tmp_path / "other.png"
    other.write_bytes(f["ihc"].read_bytes())
    out = tmp_path / "out"
    assert _run(capsys, ["ihc", other, "--out", out, "--mode", "pixel"])[0] == 0
    assert (out / "other_overlay.png").is_file()
    assert _run(capsys, ["ihc", f["ihc"], "--out", out, "--mode", "pixel", "--overwrite"])[0] == 0
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["cells.csv", "ihc_figure.png", "ihc_overlay.png", "params.json",
                     "summary.csv"], names
    assert pd.read_csv(out / "summary.csv")["image"].tolist() == ["ihc.png"]


def test_level_on_an_image_without_pyramid(files, tmp_path, capsys):
    _, f = files
    out = tmp_path / "out"
    _fails(capsys, ["ihc", f["ihc"], "--out", out, "--level", "2"], "--level 2",
           "1 pyramid level", "ihc.png")
    _no_output(out)
    assert _run(capsys, ["ihc", f["ihc"], "--out", out, "--level", "0", "--mode", "pixel"])[0] == 0


def test_real_entry_point_prints_one_line(bad, tmp_path):
    """``python -m blotquant`` (not just main()): exit 1, one stderr line, no traceback."""
    import subprocess
    import sys
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "blotquant", "blot", str(bad["trunc.tif"]),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "trunc.tif" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    _no_output(out)


@pytest.mark.parametrize("mode", ["cell", "pixel"])
def test_ihc_glass_or_transparent_scores_nothing(mode, tmp_path, capsys):
    """No tissue: an error, never Allred 0 / IRS 0 ("negative") from n = 0."""
    glass = tmp_path / "glass.png"
    cv2.imwrite(str(glass), np.full((150, 150, 3), 248, np.uint8))
    clear = tmp_path / "clear.png"
    cv2.imwrite(str(clear), np.zeros((150, 150, 4), np.uint8))
    for p in (glass, clear):
        out = tmp_path / f"out_{p.stem}"
        _fails(capsys, ["ihc", p, "--out", out, "--mode", mode], p.name, "nothing was scored")
        _no_output(out)


def test_batch_into_its_own_image_folder_and_a_bad_file_among_good(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    tifffile.imwrite(src / "b.tif", make_blot(4, shape=(140, 300), n_lanes=5).image)
    (src / "bad.tif").write_bytes((src / "b.tif").read_bytes()[:3000])
    cv2.imwrite(str(src / "glass.png"), np.full((120, 120, 3), (250, 240, 245), np.uint8))
    for out in (src, tmp_path):
        _fails(capsys, _batch(src, "--out", out), "src", "own folder", "--out")
    assert sorted(p.name for p in src.iterdir()) == ["b.tif", "bad.tif", "glass.png"]
    out = tmp_path / "out"
    rc, _, err = _run(capsys, _batch(src, "--out", out, "--mode", "pixel"))
    assert rc == 3 and "Traceback" not in err, err
    errors = pd.read_csv(out / "errors.csv")
    assert sorted(errors["file"].map(lambda s: os.path.basename(str(s)))) == ["bad.tif",
                                                                             "glass.png"]
    text = " ".join(errors.astype(str).agg(" ".join, axis=1))
    assert "truncated" in text and "nothing was scored" in text
    assert len(pd.read_csv(out / "lanes.csv")) == 5
    assert not (out / "ihc_regions.csv").exists() or len(pd.read_csv(out / "ihc_regions.csv")) == 0
