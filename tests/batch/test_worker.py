"""The per-image work: kind by colour; the worker never raises."""

from __future__ import annotations

import numpy as np

from blotquant.batch.worker import decide_kind, process_image
from blotquant.image import Image


def test_kind_by_colour():
    gray = Image.from_array(np.full((8, 8), 100, np.uint16))
    assert decide_kind(gray) == "blot"
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[...] = (120, 80, 50)  # brown: IHC
    assert decide_kind(Image.from_array(rgb)) == "ihc"
    tinted = np.zeros((8, 8, 3), np.uint8)
    tinted[...] = (101, 100, 100)  # a barely tinted grey scan is a blot
    assert decide_kind(Image.from_array(tinted)) == "blot"


def test_a_bad_file_is_a_record_not_an_exception(tmp_path):
    f = tmp_path / "bad.tif"
    f.write_bytes(b"II*\x00" + bytes(200))
    rec = process_image({"file": str(f), "name": "bad.tif", "key": "k", "kind": "auto",
                         "result_dir": str(tmp_path / "r"), "blot_params": {},
                         "ihc_params": {}})
    assert rec["status"] == "error" and rec["error_type"] and rec["message"]
    assert (tmp_path / "r" / "error.json").is_file()
    assert not (tmp_path / "r" / "done.json").exists()
