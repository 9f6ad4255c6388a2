"""`blotquant ihc` end to end."""

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from blotquant.cli import main
from blotquant.ihc.regions import rectangle, write_geojson
from blotquant.synthetic import make_ihc


@pytest.fixture(scope="module")
def ihc_png(tmp_path_factory):
    s = make_ihc(seed=8, shape=(200, 240), white_point=(242, 238, 246))
    p = tmp_path_factory.mktemp("img") / "slide.png"
    cv2.imwrite(str(p), s.image[..., ::-1])
    return p, s


def test_cli_pixel_mode_with_roi(ihc_png, tmp_path, capsys):
    p, s = ihc_png
    roi = write_geojson([rectangle("Tumor", 0, 0, 200, 120, classification="Tumor"),
                         rectangle("x", 0, 0, 20, 20, kind="exclude", classification="Fold")],
                        tmp_path / "roi.geojson")
    out = tmp_path / "out"
    rc = main(["ihc", str(p), "--out", str(out), "--mode", "pixel", "--roi", str(roi),
               "--thresholds", "0.2,0.4,0.6", "--white-point", "auto"])
    assert rc == 0
    summ = pd.read_csv(out / "summary.csv")
    assert list(summ.region) == ["Tumor"] and summ.image[0] == "slide.png"
    assert 0 <= summ.h_score[0] <= 300
    params = json.loads((out / "params.json").read_text())
    assert params["white_point_source"] == "estimated"
    assert params["thresholds"] == [0.2, 0.4, 0.6]
    assert params["white_point"] == "auto"              # the input ...
    np.testing.assert_allclose(params["white_point_used"], (242, 238, 246), atol=1)  # ... and what it gave
    assert (out / "slide_overlay.png").is_file() and (out / "slide_figure.png").is_file()
    assert (out / "cells.csv").is_file()
    assert "H-score" in capsys.readouterr().out


def test_cli_cell_mode_and_stain_file(ihc_png, tmp_path, capsys):
    p, _ = ihc_png
    stains = tmp_path / "stains.json"
    stains.write_text(json.dumps([[0.65, 0.704, 0.286], [0.268, 0.57, 0.776]]))
    out = tmp_path / "out"
    assert main(["ihc", str(p), "--out", str(out), "--stains", str(stains),
                 "--white-point", "242,238,246"]) == 0
    cells = pd.read_csv(out / "cells.csv")
    assert len(cells) > 0 and {"class", "class_name", "cytoplasm_dab_od_mean"} <= set(cells)
    summ = pd.read_csv(out / "summary.csv")
    assert summ["mode"][0] == "cell" and summ.n[0] == len(cells)
    # the pixel-mode score of the same field is printed beside the cell score
    line = [ln for ln in capsys.readouterr().out.splitlines() if "vs pixel" in ln]
    assert len(line) == 1 and line[0].startswith("slide.png\timage: cell H-score ")
    assert f"vs pixel {summ.pixel_h_score[0]:.0f}" in line[0]
    assert ("agree" in line[0]) == (abs(summ.pixel_h_score[0] - summ.h_score[0]) <= 30)


def test_cli_clear_errors(ihc_png, tmp_path, capsys):
    p, _ = ihc_png
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.tile(np.arange(0, 250, 5, dtype=np.uint8), (50, 1)))
    assert main(["ihc", str(gray), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "gray.png" in err and "RGB" in err
    assert main(["ihc", str(p), "--out", str(tmp_path / "o"), "--thresholds", "0.5,0.2"]) == 1
    assert "thresholds" in capsys.readouterr().err
    assert main(["ihc", str(p), "--out", str(tmp_path / "o"), "--stains", "nofile.json"]) == 1
    assert "nofile.json" in capsys.readouterr().err


def test_cli_warns_when_the_colours_are_not_h_dab(tmp_path, capsys):
    # an H&E image given to `blotquant ihc` by mistake: scored, but the warning is loud
    from blotquant.synthetic.ihc import HE_STAINS

    s = make_ihc(seed=3, shape=(200, 240), stains=HE_STAINS)
    p = tmp_path / "he.png"
    cv2.imwrite(str(p), s.image[..., ::-1])
    assert main(["ihc", str(p), "--out", str(tmp_path / "o"), "--mode", "pixel"]) == 0
    err = capsys.readouterr().err
    assert "warning: he.png:" in err and "H&E?" in err
    params = json.loads((tmp_path / "o" / "params.json").read_text())
    assert params["stain_fit"]["off_plane_fraction"] > 0.05 and params["stain_note"]
