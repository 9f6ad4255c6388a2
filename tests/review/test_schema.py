"""The sidecar schema: validation messages, version 1 files still load (upgraded)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blotquant.blot.params import BlotParams
from blotquant.errors import CorrectionsError
from blotquant.ihc.params import IHCParams
from blotquant.review import (SCHEMA_VERSION, Corrections, blot_corrections, blot_kwargs,
                              ihc_corrections, load_corrections)


def _img():
    return np.random.default_rng(0).integers(0, 60000, size=(64, 80), dtype=np.uint16)


def _doc():
    lanes = [{"lane": 1, "centerline": [[0, 20], [63, 22]], "width": 12},
             {"lane": 2, "centerline": [[0, 50], [63, 53]], "width": 12.5}]
    bands = pd.DataFrame({"lane": [1, 2], "row": ["ASNS", "ASNS"], "top": [10, 11],
                          "bottom": [18, 19.5]})
    return blot_corrections(_img(), image_name="blot.tif", lanes=lanes, bands=bands,
                            rows=["ASNS"], params={"background": "rolling-ball",
                                                   "radius": 30}).to_dict()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=3), "unknown version 3"),
    (lambda d: d.update(version="2"), "'version' must be an integer"),
    (lambda d: d.update(schema="other"), "'schema' must be"),
    (lambda d: d.pop("author"), "missing field 'author'"),
    (lambda d: d.update(kind="elisa"), "'kind' must be one of"),
    (lambda d: d.update(created="yesterday"), "'created' must be an ISO 8601"),
    (lambda d: d["image"].update(sha256="abc"), "64 lowercase hex"),
    (lambda d: d["image"].update(shape=[64]), "'image.shape'"),
    (lambda d: d.update(colour="red"), "unknown fields"),
    (lambda d: d.pop("blot"), "'blot' section is missing"),
    (lambda d: d["blot"]["lanes"][0].update(width=-1), r"blot.lanes\[0\].width"),
    (lambda d: d["blot"]["lanes"][0].update(lane=0), r"blot.lanes\[0\].lane"),
    (lambda d: d["blot"]["lanes"][1].update(lane=1), "appears twice"),
    (lambda d: d["blot"]["lanes"][0].update(strip=0), r"blot.lanes\[0\].strip"),
    (lambda d: d["blot"]["lanes"][0].update(centerline=[[1, 2]]), "centerline"),
    (lambda d: d["blot"]["bands"][0].update(bottom=5), "must be below top"),
    (lambda d: d["blot"]["bands"][0].update(row=""), r"blot.bands\[0\].row"),
    (lambda d: d["blot"]["bands"][0].update(volume=3.0), "unknown fields"),
    (lambda d: d["blot"].update(rows=["A", "A"]), "duplicate"),
    (lambda d: d["blot"]["params"].update(lane_geometry=[]), "own field"),
    # parameters go through BlotParams: the closest name, the model's own check
    (lambda d: d["blot"]["params"].update(radus=3), "did you mean 'radius'"),
    (lambda d: d["blot"]["params"].update(radius=-2), "radius: must be a positive number"),
    (lambda d: d["blot"]["params"].update(background="lanefit"), "background: must be one of"),
])
def test_validation_names_file_and_field(tmp_path, mutate, message):
    d = _doc()
    mutate(d)
    p = tmp_path / "bad.blotquant.json"
    p.write_text(json.dumps(d))
    with pytest.raises(CorrectionsError, match=message) as info:
        load_corrections(p)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_written_version_and_full_params():
    d = _doc()
    assert d["version"] == SCHEMA_VERSION == 2
    # every BlotParams field is stored, rows included
    assert set(d["blot"]["params"]) == set(BlotParams.names())
    assert d["blot"]["params"]["rows"] == ["ASNS"] and d["blot"]["params"]["radius"] == 30
    ihc = ihc_corrections(np.zeros((8, 8, 3), np.uint8), params={"mode": "pixel"}).to_dict()
    assert set(ihc["ihc"]["params"]) == set(IHCParams.names())
    assert ihc["ihc"]["params"]["cell"]["cell_expansion_um"] == 5.0


def test_ihc_params_checked_by_the_model():
    d = ihc_corrections(np.zeros((8, 8, 3), np.uint8)).to_dict()
    d["ihc"]["params"]["thresholds"] = [0.5, 0.4, 0.6]
    with pytest.raises(CorrectionsError, match="thresholds: must be strictly increasing"):
        Corrections.from_dict(d)
    d = ihc_corrections(np.zeros((8, 8, 3), np.uint8)).to_dict()
    d["ihc"]["regions"] = {"type": "Feature"}
    with pytest.raises(CorrectionsError, match="FeatureCollection"):
        Corrections.from_dict(d)
    d = ihc_corrections(np.zeros((8, 8, 3), np.uint8)).to_dict()
    d["ihc"]["params"]["stains"] = [[1, 2, 3]]
    with pytest.raises(CorrectionsError, match="3x3"):
        Corrections.from_dict(d)
    d = ihc_corrections(np.zeros((8, 8, 3), np.uint8)).to_dict()
    d["ihc"]["level"] = -1
    with pytest.raises(CorrectionsError, match="'ihc.level'"):
        Corrections.from_dict(d)


#: A sidecar as blotquant wrote it before schema version 2 (only the changed
#: keyword arguments in params, rows beside them, no IHC level).
V1_BLOT = {
    "schema": "blotquant.corrections", "version": 1, "kind": "blot",
    "image": {"name": "blot.tif", "sha256": "0" * 64, "sha256_of": "pixels", "shape": [64, 80]},
    "author": "ana", "created": "2026-11-27T21:50:00Z", "blotquant_version": "0.4.0",
    "blot": {"lanes": [{"lane": 1, "strip": 1, "centerline": [[0.0, 20.0], [63.0, 22.0]],
                        "width": 12.0, "is_ladder": False, "edited": True}],
             "bands": [{"strip": 1, "lane": 1, "row": "ASNS", "top": 10.0, "bottom": 18.0,
                        "left": None, "right": None}],
             "rows": ["ASNS"],
             "params": {"background": "rolling-ball", "radius": 30, "polarity_used":
                        "light-on-dark", "n_lanes_found": 1}},
}
V1_IHC = {
    "schema": "blotquant.corrections", "version": 1, "kind": "ihc",
    "image": {"name": "s.png", "sha256": "0" * 64, "sha256_of": "pixels", "shape": [40, 40, 3]},
    "author": "ana", "created": "2026-11-27T21:50:00Z",
    "ihc": {"regions": {"type": "FeatureCollection", "features": []}, "downsample": 4.0,
            "params": {"mode": "pixel", "thresholds": [0.1, 0.3, 0.5]}},
}


def test_version_1_files_load_and_upgrade(tmp_path):
    p = tmp_path / "old.blotquant.json"
    p.write_text(json.dumps(V1_BLOT))
    corr = load_corrections(p)
    assert corr.version == 2 and corr.upgraded_from == 1
    kw = blot_kwargs(corr)
    assert kw["params"] == BlotParams(background="rolling-ball", radius=30, rows=("ASNS",))
    assert [ln.lane for ln in kw["lane_geometry"]] == [1]
    # re-saving writes the current version, which loads to the same review
    again = Corrections.from_dict(corr.to_dict())
    assert again.to_dict() == corr.to_dict() and again.upgraded_from is None

    p.write_text(json.dumps(V1_IHC))
    corr = load_corrections(p)
    assert corr.ihc["level"] is None and corr.ihc["downsample"] == 4.0
    assert corr.ihc["params"] == IHCParams(mode="pixel", thresholds=(0.1, 0.3, 0.5)).to_dict()


def test_version_1_rules_still_apply_to_version_1_files(tmp_path):
    d = json.loads(json.dumps(V1_BLOT))
    d["blot"]["params"]["rows"] = ["X"]  # version 1 kept rows out of params
    with pytest.raises(CorrectionsError, match="own field"):
        Corrections.from_dict(d)
