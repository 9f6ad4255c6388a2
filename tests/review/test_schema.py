"""The corrections sidecar: schema validation, round trip, image mismatch errors."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from blotquant import corrections as C
from blotquant.errors import CorrectionsError
from blotquant.image import Image


def _blot_image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 60000, size=(64, 80), dtype=np.uint16)


def _blot_corr(img, **kw):
    lanes = [{"lane": 1, "centerline": [[0, 20], [63, 22]], "width": 12, "is_ladder": False},
             {"lane": 2, "centerline": [[0, 50], [30, 51], [63, 53]], "width": 12.5}]
    bands = pd.DataFrame({"lane": [1, 2, 1], "row": ["ASNS", "ASNS", "ACTB"],
                          "top": [10, 11, 40], "bottom": [18, 19.5, 47],
                          "left": [14, np.nan, 15], "right": [26, np.nan, 27]})
    return C.blot_corrections(img, image_name="blot.tif", lanes=lanes, bands=bands,
                              rows=["ASNS", "ACTB"],
                              params={"background": "rolling-ball", "radius": 30}, **kw)


def _need(module, name):
    mod = pytest.importorskip(module)
    if not hasattr(mod, name):
        pytest.skip(f"{module}.{name} not available yet")
    return getattr(mod, name)


def test_blot_round_trip(tmp_path):
    img = _blot_image()
    corr = _blot_corr(img, author="ana", note="lane 2 moved")
    p = C.save_corrections(corr, C.sidecar_path("/data/blot.tif", tmp_path))
    assert p.name == "blot.blotquant.json"
    doc = json.loads(p.read_text())
    assert doc["schema"] == "blotquant.corrections" and doc["version"] == 1
    assert doc["kind"] == "blot" and doc["author"] == "ana"
    assert doc["created"].endswith("Z")
    assert datetime.fromisoformat(doc["created"]).tzinfo is not None
    assert doc["image"]["shape"] == [64, 80] and doc["image"]["sha256_of"] == "pixels"
    assert doc["blot"]["bands"][1]["left"] is None  # NaN -> null
    back = C.load_corrections(p, image=img)
    assert back.to_dict() == corr.to_dict()
    assert back.blot["lanes"][1]["centerline"] == [[0.0, 50.0], [30.0, 51.0], [63.0, 53.0]]
    assert back.note == "lane 2 moved"
    # no temporary files left behind by the atomic write
    assert [x.name for x in tmp_path.iterdir()] == ["blot.blotquant.json"]


def test_author_defaults_to_login(monkeypatch):
    monkeypatch.setattr(C.getpass, "getuser", lambda: "labuser")
    corr = _blot_corr(_blot_image())
    assert corr.author == "labuser"


def test_image_object_and_array_give_same_fingerprint():
    img = _blot_image()
    a = C.image_fingerprint(img, image_name="x")
    b = C.image_fingerprint(Image.from_array(img), image_name="x")
    assert a == b
    # byte order does not change the pixel hash
    c = C.image_fingerprint(img.astype(">u2"), image_name="x")
    assert c["sha256"] == a["sha256"]


def test_shape_mismatch_is_clear():
    img = _blot_image()
    corr = _blot_corr(img)
    with pytest.raises(CorrectionsError, match=r"shape \(64, 80\).*shape \(64, 81\)"):
        C.check_image(corr, np.zeros((64, 81), np.uint16))


def test_pixel_mismatch_is_clear(tmp_path):
    img = _blot_image()
    corr = _blot_corr(img)
    p = C.save_corrections(corr, tmp_path / "blot.blotquant.json")
    other = img.copy()
    other[3, 3] += 1
    with pytest.raises(CorrectionsError, match="pixel content differs") as info:
        C.load_corrections(p, image=other)
    assert "blot.tif" in str(info.value)


def test_file_hash_for_lazy_data(tmp_path):
    f = tmp_path / "slide.bin"
    f.write_bytes(b"0123456789" * 100)
    lazy = Image(data=_LazyArray((10, 100)), metadata=Image.from_array(
        np.zeros((10, 100), np.uint8)).metadata.replace(path=str(f)))
    fp = C.image_fingerprint(lazy)
    assert fp["sha256_of"] == "file" and fp["name"] == "slide.bin"
    corr = C.ihc_corrections(lazy, params={"thresholds": [0.2, 0.4, 0.6]})
    C.check_image(corr, lazy)
    f.write_bytes(b"x" * 1000)
    with pytest.raises(CorrectionsError, match="differs"):
        C.check_image(corr, lazy)


class _LazyArray:
    def __init__(self, shape):
        self.shape = shape
        self.dtype = np.dtype(np.uint8)


def _valid_doc(tmp_path):
    return _blot_corr(_blot_image()).to_dict()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=2), "unknown version 2"),
    (lambda d: d.update(version="1"), "'version' must be an integer"),
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
])
def test_schema_validation(tmp_path, mutate, message):
    d = _valid_doc(tmp_path)
    mutate(d)
    p = tmp_path / "bad.blotquant.json"
    p.write_text(json.dumps(d))
    with pytest.raises(CorrectionsError, match=message) as info:
        C.load_corrections(p)
    assert str(p) in str(info.value)  # the file is named


def test_not_json_and_missing_file(tmp_path):
    p = tmp_path / "x.blotquant.json"
    p.write_text("{not json")
    with pytest.raises(CorrectionsError, match="not valid JSON"):
        C.load_corrections(p)
    with pytest.raises(CorrectionsError, match="cannot read"):
        C.load_corrections(tmp_path / "missing.json")


def test_ihc_validation(tmp_path):
    corr = C.ihc_corrections(np.zeros((8, 8, 3), np.uint8), params={"thresholds": [0.2, 0.4, 0.6]})
    d = corr.to_dict()
    d["ihc"]["params"]["thresholds"] = [0.5, 0.4, 0.6]
    with pytest.raises(CorrectionsError, match="must increase"):
        C.Corrections.from_dict(d)
    d = corr.to_dict()
    d["ihc"]["regions"] = {"type": "Feature"}
    with pytest.raises(CorrectionsError, match="FeatureCollection"):
        C.Corrections.from_dict(d)
    d = corr.to_dict()
    d["ihc"]["params"]["stains"] = [[1, 2, 3]]
    with pytest.raises(CorrectionsError, match="3x3"):
        C.Corrections.from_dict(d)


def test_kind_checks(tmp_path):
    corr = _blot_corr(_blot_image())
    p = C.save_corrections(corr, tmp_path / "b.blotquant.json")
    with pytest.raises(CorrectionsError, match="not ihc corrections"):
        C.load_corrections(p, kind="ihc")
    with pytest.raises(CorrectionsError, match="not IHC corrections"):
        C.ihc_kwargs(corr)


def test_never_writes_non_json(tmp_path):
    corr = _blot_corr(_blot_image())
    with pytest.raises(CorrectionsError, match="never modified"):
        C.save_corrections(corr, tmp_path / "blot.tif")


def test_find_sidecar(tmp_path):
    img_dir, out = tmp_path / "imgs", tmp_path / "out"
    img_dir.mkdir()
    out.mkdir()
    image = img_dir / "gel 3.tif"
    assert C.find_sidecar(image, out) is None
    beside = C.save_corrections(_blot_corr(_blot_image()), C.sidecar_path(image, img_dir))
    assert C.find_sidecar(image, out) == beside
    inside = C.save_corrections(_blot_corr(_blot_image()), C.sidecar_path(image, out))
    assert C.find_sidecar(image, out) == inside  # out_dir wins
    assert C.find_sidecar(image) == beside


def test_blot_kwargs():
    Lane = _need("blotquant.blot", "Lane")
    corr = _blot_corr(_blot_image())
    kw = C.blot_kwargs(corr)
    assert set(kw) == {"lane_geometry", "band_boxes", "rows", "background", "radius"}
    assert kw["rows"] == ["ASNS", "ACTB"] and kw["radius"] == 30
    lanes = kw["lane_geometry"]
    assert all(isinstance(x, Lane) for x in lanes)
    assert [x.lane for x in lanes] == [1, 2]
    np.testing.assert_array_equal(lanes[1].centerline, [[0, 50], [30, 51], [63, 53]])
    assert lanes[1].width == 12.5 and lanes[0].is_ladder is False
    boxes = kw["band_boxes"]
    assert list(boxes.columns) == ["strip", "lane", "row", "top", "bottom", "left", "right"]
    assert boxes["strip"].tolist() == [1, 1, 1]
    assert boxes["lane"].tolist() == [1, 2, 1]
    assert np.isnan(boxes.loc[1, "left"]) and boxes.loc[2, "right"] == 27.0


def test_blot_kwargs_without_bands():
    corr = C.blot_corrections(_blot_image(), lanes=[], params={"background": "none"})
    assert C.blot_kwargs(corr) == {"background": "none"}


def test_ihc_kwargs_round_trip(tmp_path):
    Region = _need("blotquant.ihc.regions", "Region")
    regions = [Region(name="tumour", polygon=np.array([[10, 10], [10, 50], [60, 50], [60, 10]],
                                                      float), kind="include",
                      classification="Tumor"),
               Region(name="fold", polygon=np.array([[20, 20], [20, 30], [30, 30]], float),
                      kind="exclude", classification=None)]
    rgb = np.full((100, 120, 3), 200, np.uint8)
    stains = np.eye(3) * 0.5 + 0.1
    corr = C.ihc_corrections(rgb, regions=regions, downsample=1,
                             params={"mode": "pixel", "thresholds": (0.15, 0.3, 0.7),
                                     "stains": stains})
    p = C.save_corrections(corr, tmp_path / "s.blotquant.json")
    kw = C.ihc_kwargs(C.load_corrections(p, image=rgb))
    assert kw["mode"] == "pixel" and kw["thresholds"] == (0.15, 0.3, 0.7)
    np.testing.assert_allclose(kw["stains"], stains)
    assert [r.kind for r in kw["regions"]] == ["include", "exclude"]
    assert [r.name for r in kw["regions"]] == ["tumour", "fold"]
    np.testing.assert_allclose(kw["regions"][0].polygon[:4], regions[0].polygon)
    # scoring a 4x downsampled level scales the level-0 regions
    kw4 = C.ihc_kwargs(C.load_corrections(p), downsample=4)
    np.testing.assert_allclose(kw4["regions"][0].polygon[:4], regions[0].polygon / 4)


def test_lane_objects_round_trip(tmp_path):
    Lane = _need("blotquant.blot", "Lane")
    img = _blot_image()
    lanes = [Lane(1, [[0, 20], [63, 21.5]], 11.25, strip=1),
             Lane(2, [[0, 50], [40, 52], [63, 53]], 12, is_ladder=True, strip=2, edited=True)]
    corr = C.blot_corrections(img, lanes=lanes, rows=[], params={})
    back = C.blot_kwargs(C.load_corrections(C.save_corrections(corr, tmp_path / "x.json")))
    assert back["lane_geometry"] == lanes
    assert [(x.strip, x.is_ladder, x.edited) for x in back["lane_geometry"]] == [
        (1, False, False), (2, True, True)]


def test_ihc_regions_default_to_full_resolution():
    Region = _need("blotquant.ihc.regions", "Region")
    poly = np.array([[0, 0], [0, 400], [400, 400], [400, 0]], float)
    corr = C.ihc_corrections(np.zeros((50, 60, 3), np.uint8), downsample=8,
                             regions=[Region("r", poly)], params={})
    assert corr.ihc["downsample"] == 8.0
    np.testing.assert_allclose(C.ihc_kwargs(corr)["regions"][0].polygon[:4], poly)
    np.testing.assert_allclose(C.ihc_kwargs(corr, downsample=8)["regions"][0].polygon[:4],
                               poly / 8)
