"""GeoJSON regions: QuPath conventions, include/exclude, round trip."""

import json

import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc.regions import (Region, read_geojson, rectangle, region_masks,
                                   regions_to_geojson, write_geojson)

QUPATH_EXPORT = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": "a1",
         "geometry": {"type": "Polygon",
                      "coordinates": [[[10, 5], [50, 5], [50, 25], [10, 25], [10, 5]]]},
         "properties": {"objectType": "annotation", "name": "Tumor core",
                        "classification": {"name": "Tumor", "color": [200, 0, 0]},
                        "isLocked": False}},
        {"type": "Feature",
         "geometry": {"type": "Polygon",
                      "coordinates": [[[20, 10], [30, 10], [30, 20], [20, 20], [20, 10]]]},
         "properties": {"objectType": "annotation",
                        "classification": {"name": "Necrosis", "colorRGB": -3670016}}},
        {"type": "Feature",
         "geometry": {"type": "Polygon",
                      "coordinates": [[[0, 40], [5, 40], [5, 45], [0, 45], [0, 40]]]},
         "properties": {"objectType": "detection", "classification": {"name": "Positive"}}},
        {"type": "Feature",
         "geometry": {"type": "MultiPolygon",
                      "coordinates": [[[[60, 30], [70, 30], [70, 40], [60, 40], [60, 30]]],
                                      [[[80, 30], [90, 30], [90, 40], [80, 40], [80, 30]]]]},
         "properties": {"objectType": "annotation", "name": "Stroma"}},
        {"type": "Feature",
         "geometry": {"type": "Polygon",
                      "coordinates": [[[85, 32], [88, 32], [88, 35], [85, 35], [85, 32]]]},
         "properties": {"objectType": "annotation", "name": "bubble", "exclude": True}},
    ],
}


def test_read_qupath_export():
    regs = read_geojson(QUPATH_EXPORT)
    assert [(r.name, r.kind, r.classification) for r in regs] == [
        ("Tumor core", "include", "Tumor"), ("Necrosis", "exclude", "Necrosis"),
        ("Stroma", "include", None), ("Stroma", "include", None), ("bubble", "exclude", None)]
    # x = col, y = row
    np.testing.assert_array_equal(regs[0].polygon[0], [5, 10])
    np.testing.assert_array_equal(regs[0].polygon[1], [5, 50])


def test_masks_include_minus_exclude():
    masks = region_masks(read_geojson(QUPATH_EXPORT), (60, 100))
    assert list(masks) == ["Tumor core", "Stroma"]
    # 40 x 20 rectangle minus 10 x 10 necrosis
    assert masks["Tumor core"].sum() == 40 * 20 - 10 * 10
    assert masks["Tumor core"][5, 10] and not masks["Tumor core"][4, 10]
    assert not masks["Tumor core"][15, 25]
    # two squares merged, minus a 3 x 3 bubble
    assert masks["Stroma"].sum() == 2 * 100 - 9
    # the detection (cell) was ignored: no region there
    assert not any(m[42, 2] for m in masks.values())


def test_exclude_only_scores_whole_image():
    masks = region_masks([rectangle("x", 0, 0, 2, 2, kind="exclude", classification="Fold")],
                         (10, 10))
    assert list(masks) == ["image"] and masks["image"].sum() == 96
    assert region_masks(None, (4, 5))["image"].all()


def test_exclude_by_classification_names_case_insensitive():
    gj = {"type": "Feature", "properties": {"classification": {"name": "ignore"}},
          "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [3, 3], [0, 0]]]}}
    assert read_geojson(gj)[0].kind == "exclude"   # QuPath "Ignore*"
    gj["properties"]["classification"]["name"] = "PIGMENT"
    assert read_geojson(gj)[0].kind == "exclude"
    assert read_geojson(gj, exclude_classes=("Fold",))[0].kind == "include"


def test_round_trip(tmp_path):
    regs = [Region("Tumor", np.array([[0, 0], [0, 10.5], [8, 10.5], [8, 0]]), "include", "Tumor",
                   holes=(np.array([[2, 2], [2, 4], [4, 4], [4, 2.0]]),)),
            rectangle("fold", 1, 1, 3, 3, kind="exclude", classification="Fold")]
    p = write_geojson(regs, tmp_path / "r.geojson")
    back = read_geojson(p)
    assert back == regs
    gj = json.loads(p.read_text())
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and ring[1] == [10.5, 0.0]       # closed, x = col
    assert gj["features"][1]["properties"]["classification"]["name"] == "Fold"
    assert read_geojson(json.dumps(regions_to_geojson(regs))) == regs
    m = back[0].mask((12, 12))
    assert not m[3, 3] and m[1, 1]


def test_errors(tmp_path):
    with pytest.raises(ParameterError, match="cannot read"):
        read_geojson(tmp_path / "missing.geojson")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="bad.geojson.*not valid JSON"):
        read_geojson(bad)
    with pytest.raises(ParameterError, match="FeatureCollection"):
        read_geojson({"type": "Topology"})
    with pytest.raises(ParameterError, match="polygon"):
        Region("x", np.zeros((2, 2)))
