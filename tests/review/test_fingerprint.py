"""A review fits only the image it was made on: shape and SHA-256 of pixels or file."""

from __future__ import annotations

import numpy as np
import pytest

from blotquant.errors import CorrectionsError
from blotquant.image import Image
from blotquant.review import (blot_corrections, check_image, ihc_corrections, image_fingerprint,
                              load_corrections, save_corrections)


def _img():
    return np.random.default_rng(0).integers(0, 60000, size=(64, 80), dtype=np.uint16)


def test_image_object_and_array_give_same_fingerprint():
    img = _img()
    a = image_fingerprint(img, image_name="x")
    assert a == image_fingerprint(Image.from_array(img), image_name="x")
    # byte order does not change the pixel hash
    assert image_fingerprint(img.astype(">u2"), image_name="x")["sha256"] == a["sha256"]


def test_shape_mismatch_is_clear():
    corr = blot_corrections(_img(), image_name="blot.tif")
    with pytest.raises(CorrectionsError, match=r"shape \(64, 80\).*shape \(64, 81\)"):
        check_image(corr, np.zeros((64, 81), np.uint16))


def test_pixel_mismatch_is_clear(tmp_path):
    img = _img()
    p = save_corrections(blot_corrections(img, image_name="blot.tif"),
                         tmp_path / "blot.blotquant.json")
    other = img.copy()
    other[3, 3] += 1
    with pytest.raises(CorrectionsError, match="pixel content differs") as info:
        load_corrections(p, image=other)
    assert "blot.tif" in str(info.value)


class _LazyArray:
    def __init__(self, shape):
        self.shape = shape
        self.dtype = np.dtype(np.uint8)


def test_file_hash_for_lazy_data(tmp_path):
    f = tmp_path / "slide.bin"
    f.write_bytes(b"0123456789" * 100)
    lazy = Image(data=_LazyArray((10, 100)), metadata=Image.from_array(
        np.zeros((10, 100), np.uint8)).metadata.replace(path=str(f)))
    fp = image_fingerprint(lazy)
    assert fp["sha256_of"] == "file" and fp["name"] == "slide.bin"
    corr = ihc_corrections(lazy, params={"thresholds": [0.2, 0.4, 0.6]})
    check_image(corr, lazy)
    f.write_bytes(b"x" * 1000)
    with pytest.raises(CorrectionsError, match="differs"):
        check_image(corr, lazy)
