"""JPEG chroma subsampling: detection from pixels, restoration, pixel H-score on 4:2:0 JPEG."""

import cv2
import numpy as np
import pytest

from blotquant.errors import ParameterError
from blotquant.ihc import score_ihc
from blotquant.ihc.chroma import (_block_mean, _invert_triangle, detect_chroma_subsampling,
                                  restore_chroma)
from blotquant.synthetic import make_ihc

SUB = {"4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420, "4:2:2": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
       "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}


def jpeg(rgb, quality=85, sub=None):
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if sub is not None:
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SUB[sub]]
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), params)
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def png(rgb):
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


@pytest.fixture(scope="module")
def slide():
    return make_ihc(seed=4, shape=(384, 384)).image


def test_detects_opencv_default_jpeg_as_420(slide):
    for q in (50, 85, 95):
        info = detect_chroma_subsampling(jpeg(slide, q))       # OpenCV default = 4:2:0
        assert info["subsampling"] == "4:2:0", (q, info)
        assert info["phase"] == (0, 0)
        assert max(info["ratio"]) < 0.6


def test_full_colour_resolution_is_444(slide):
    assert detect_chroma_subsampling(slide)["subsampling"] == "4:4:4"
    assert detect_chroma_subsampling(png(slide))["subsampling"] == "4:4:4"
    for q in (50, 85, 95):
        info = detect_chroma_subsampling(jpeg(slide, q, "4:4:4"))
        assert info["subsampling"] == "4:4:4", (q, info)
    off = make_ihc(seed=4, shape=(384, 384), white_point=(240, 235, 245)).image
    assert detect_chroma_subsampling(off)["subsampling"] == "4:4:4"


def test_422_and_cropped_grid(slide):
    assert detect_chroma_subsampling(jpeg(slide, 85, "4:2:2"))["subsampling"] == "4:2:2"
    info = detect_chroma_subsampling(jpeg(slide, 85)[1:, 1:])  # grid now starts at odd coords
    assert info["subsampling"] == "4:2:0" and info["phase"] == (1, 1)


def test_detector_unknown_and_errors():
    flat = np.full((64, 64, 3), 200, np.uint8)
    assert detect_chroma_subsampling(flat)["subsampling"] == "unknown"
    with pytest.raises(ParameterError):
        detect_chroma_subsampling(np.zeros((8, 8), np.uint8))
    with pytest.raises(ParameterError):
        restore_chroma(np.zeros((8, 8, 3), np.float32))


def test_invert_triangle_known_answer():
    rng = np.random.default_rng(0)
    b = rng.uniform(-20, 20, (12, 10))

    def tri(x, axis):              # 2x2 mean of the triangular upsampling, replicated edges
        x = np.moveaxis(x, axis, -1)
        left = np.concatenate([x[..., :1], x[..., :-1]], -1)
        right = np.concatenate([x[..., 1:], x[..., -1:]], -1)
        return np.moveaxis((6 * x + left + right) / 8, -1, axis)

    m = tri(tri(b, 0), 1)
    np.testing.assert_allclose(_invert_triangle(m, iters=30), b, atol=1e-4)


def test_restore_brings_block_chroma_back(slide):
    """At colour edges the restored 2x2 chroma means match the original's (q100: the
    codec's quantisation is negligible, the decoder's triangular blur is what is undone)."""
    dec = jpeg(slide, 100)
    res = restore_chroma(dec)

    def blocks(rgb):
        ycc = cv2.cvtColor(rgb.astype(np.float32), cv2.COLOR_RGB2YCrCb)
        return np.stack([_block_mean(ycc[..., c]) for c in (1, 2)])

    ref = blocks(slide)
    edge = np.abs(ref - np.stack([cv2.blur(r, (3, 3)) for r in ref])) > 2
    assert edge.sum() > 1000
    err_dec = np.abs(blocks(dec) - ref)[edge].mean()      # ~2.2 levels
    err_res = np.abs(blocks(res) - ref)[edge].mean()      # ~0.6 levels
    assert err_res < 0.4 * err_dec
    # luma kept (up to RGB rounding; clipping at 0/255 on glass may move a few pixels more)
    y = lambda a: cv2.cvtColor(a, cv2.COLOR_RGB2YCrCb)[..., 0].astype(int)  # noqa: E731
    assert np.percentile(np.abs(y(res) - y(dec)), 99.9) <= 1
    flat = np.full((9, 7, 3), (200, 150, 120), np.uint8)
    assert np.array_equal(restore_chroma(flat), flat)


@pytest.mark.parametrize("white_point", [255, (240, 235, 245)])
def test_pixel_hscore_on_420_jpeg(white_point):
    s = make_ihc(seed=2, shape=(512, 512), jpeg_quality=85, white_point=white_point)
    res = score_ihc(s.image, mode="pixel")
    off = score_ihc(s.image, mode="pixel", chroma="off")
    assert res.params["chroma_subsampling"] == "4:2:0" and res.params["chroma_restored"]
    assert off.params["chroma_restored"] is False
    err = res.summary.h_score[0] - s.truth.h_score
    err_off = off.summary.h_score[0] - s.truth.h_score
    assert abs(err) <= 1.0, (err, err_off)
    assert abs(err) < abs(err_off) - 0.3
    # reproducible from params
    again = score_ihc(s.image, **res.params)
    assert again.summary.h_score[0] == res.summary.h_score[0]


def test_uncompressed_untouched():
    s = make_ihc(seed=2, shape=(256, 256))
    a = score_ihc(s.image, mode="pixel")
    b = score_ihc(s.image, mode="pixel", chroma="off")
    assert a.params["chroma_subsampling"] == "4:4:4" and not a.params["chroma_restored"]
    assert np.array_equal(a.dab_od, b.dab_od)
    assert a.summary.h_score[0] == b.summary.h_score[0]


def test_chroma_parameter():
    s = make_ihc(seed=2, shape=(128, 128), jpeg_quality=85)
    with pytest.raises(ParameterError, match="chroma"):
        score_ihc(s.image, mode="pixel", chroma="yes")
    forced = score_ihc(s.image, mode="cell", chroma="4:2:0")
    assert forced.params["chroma_restored"] and forced.params["chroma_subsampling"] == "given"
    auto_cell = score_ihc(s.image, mode="cell")
    assert auto_cell.params["chroma_subsampling"] == "4:2:0"
    assert not auto_cell.params["chroma_restored"]      # cell mode: detect only


def test_files_read_with_read_image(slide, tmp_path):
    """Through the normal reader: Pillow JPEG (default 4:2:0), cv2 JPEG, PNG."""
    from PIL import Image as PILImage

    import blotquant

    PILImage.fromarray(slide).save(tmp_path / "pil.jpg", quality=85)
    PILImage.fromarray(slide).save(tmp_path / "pil444.jpg", quality=85, subsampling=0)
    PILImage.fromarray(slide).save(tmp_path / "slide.png")
    cv2.imwrite(str(tmp_path / "cv.jpg"), slide[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    kinds = {name: detect_chroma_subsampling(
        np.asarray(blotquant.read_image(tmp_path / name, mode="rgb").data))["subsampling"]
        for name in ("pil.jpg", "pil444.jpg", "slide.png", "cv.jpg")}
    assert kinds == {"pil.jpg": "4:2:0", "pil444.jpg": "4:4:4", "slide.png": "4:4:4",
                     "cv.jpg": "4:2:0"}
