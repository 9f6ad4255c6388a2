"""Sidecar files: atomic round trip, found in --out before beside the image, never non-JSON."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import blotquant.review.build as build
from blotquant.errors import CorrectionsError
from blotquant.review import (blot_corrections, find_sidecar, load_corrections,
                              save_corrections, sidecar_path)


def _img():
    return np.random.default_rng(0).integers(0, 60000, size=(64, 80), dtype=np.uint16)


def _corr(img, **kw):
    lanes = [{"lane": 1, "centerline": [[0, 20], [63, 22]], "width": 12, "is_ladder": False},
             {"lane": 2, "centerline": [[0, 50], [30, 51], [63, 53]], "width": 12.5}]
    bands = pd.DataFrame({"lane": [1, 2, 1], "row": ["ASNS", "ASNS", "ACTB"],
                          "top": [10, 11, 40], "bottom": [18, 19.5, 47],
                          "left": [14, np.nan, 15], "right": [26, np.nan, 27]})
    return blot_corrections(img, image_name="blot.tif", lanes=lanes, bands=bands,
                            rows=["ASNS", "ACTB"],
                            params={"background": "rolling-ball", "radius": 30}, **kw)


def test_round_trip(tmp_path):
    img = _img()
    corr = _corr(img, author="ana", note="lane 2 moved")
    p = save_corrections(corr, sidecar_path("/data/blot.tif", tmp_path))
    assert p.name == "blot.blotquant.json"
    doc = json.loads(p.read_text())
    assert doc["schema"] == "blotquant.corrections" and doc["version"] == 2
    assert doc["kind"] == "blot" and doc["author"] == "ana"
    assert datetime.fromisoformat(doc["created"]).tzinfo is not None
    assert doc["image"]["shape"] == [64, 80] and doc["image"]["sha256_of"] == "pixels"
    assert doc["blot"]["bands"][1]["left"] is None  # NaN -> null
    back = load_corrections(p, image=img)
    assert back.to_dict() == corr.to_dict() and back.note == "lane 2 moved"
    assert back.blot["lanes"][1]["centerline"] == [[0.0, 50.0], [30.0, 51.0], [63.0, 53.0]]
    # no temporary files left behind by the atomic write
    assert [x.name for x in tmp_path.iterdir()] == ["blot.blotquant.json"]


def test_author_defaults_to_login(monkeypatch):
    monkeypatch.setattr(build.getpass, "getuser", lambda: "labuser")
    assert _corr(_img()).author == "labuser"


def test_not_json_and_missing_file(tmp_path):
    p = tmp_path / "x.blotquant.json"
    p.write_text("{not json")
    with pytest.raises(CorrectionsError, match="not valid JSON"):
        load_corrections(p)
    with pytest.raises(CorrectionsError, match="cannot read"):
        load_corrections(tmp_path / "missing.json")


def test_kind_is_checked(tmp_path):
    p = save_corrections(_corr(_img()), tmp_path / "b.blotquant.json")
    with pytest.raises(CorrectionsError, match="not ihc corrections"):
        load_corrections(p, kind="ihc")


def test_never_writes_non_json(tmp_path):
    with pytest.raises(CorrectionsError, match="never modified"):
        save_corrections(_corr(_img()), tmp_path / "blot.tif")
    assert not (tmp_path / "blot.tif").exists()


def test_find_sidecar(tmp_path):
    img_dir, out = tmp_path / "imgs", tmp_path / "out"
    img_dir.mkdir()
    out.mkdir()
    image = img_dir / "gel 3.tif"
    assert find_sidecar(image, out) is None
    beside = save_corrections(_corr(_img()), sidecar_path(image, img_dir))
    assert find_sidecar(image, out) == beside
    inside = save_corrections(_corr(_img()), sidecar_path(image, out))
    assert find_sidecar(image, out) == inside  # out_dir wins
    assert find_sidecar(image) == beside
