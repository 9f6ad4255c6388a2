"""Unusual but valid image files through the CLI (round 7).

``test_hostile.py`` holds broken files and user mistakes; this corpus holds
files that are valid but unusual: camera data in a bigger container, float
and big-endian TIFFs, several images in one TIFF, colour exports of gray
blots, export frames, inverted storage, sideways, tiny, huge and one-lane
blots; palette, gray-as-RGB, ICC/CMYK JPEG, high-bit-depth RGB, dark-field and
document-resolution IHC images; a batch folder with awkward names.  Each case
has a known right answer (the generator's truth, or the same image in its plain
form) or must be refused with one clear line naming the file.  Every file is
generated in ``tmp_path``.  Results: ``docs/benchmarks/hostile.md``, round 7.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
import tifffile

from blotquant.cli import main
from blotquant.synthetic import make_blot, make_ihc


# ----------------------------------------------------------------------------- helpers

def _run(capsys, argv):
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _fails(capsys, argv, *needles):
    rc, _, err = _run(capsys, argv)
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("blotquant: error: "), (rc, err)
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])
    return lines[0]


def _no_output(out):
    assert not out.exists()
    assert not list(out.parent.glob(f".{out.name}.partial-*"))


ROWS = ["--rows", "ASNS,ACTB"]


def _blot(capsys, path, out, *extra):
    """Run ``blot``; (bands, params) of a successful run."""
    rc, _, err = _run(capsys, ["blot", path, "--out", out, *ROWS, *extra])
    assert rc == 0 and "Traceback" not in err, err
    return pd.read_csv(out / "bands.csv"), json.loads((out / "params.json").read_text())


def _ratios(bands):
    b = bands.set_index(["row", "lane"])["volume"]
    return (b["ASNS"] / b["ACTB"]).sort_index()


def _ihc(capsys, path, out, *extra):
    rc, _, err = _run(capsys, ["ihc", path, "--out", out, "--mode", "pixel", *extra])
    assert rc == 0 and "Traceback" not in err, err
    return pd.read_csv(out / "summary.csv"), json.loads((out / "params.json").read_text())


@pytest.fixture(scope="module")
def clipped():
    """A 16-bit light-on-dark blot with clipped bands, and its plain TIFF's results."""
    return make_blot(3, shape=(300, 500), n_lanes=7, saturate=True,
                     background={"texture": 0.0})


@pytest.fixture(scope="module")
def plain_ref(clipped, tmp_path_factory):
    d = tmp_path_factory.mktemp("plain")
    p = d / "plain.tif"
    tifffile.imwrite(p, clipped.image)
    rc = main(["blot", str(p), "--out", str(d / "out"), *ROWS])
    assert rc == 0
    return (pd.read_csv(d / "out" / "bands.csv"),
            json.loads((d / "out" / "params.json").read_text()))


def _same_as_plain(bands, plain, rel=1e-6):
    ref_bands, _ = plain
    assert len(bands) == len(ref_bands)
    r, r0 = _ratios(bands), _ratios(ref_bands)
    np.testing.assert_allclose(r.to_numpy(), r0.reindex(r.index).to_numpy(), rtol=rel)
    s = bands.set_index(["row", "lane"])["saturated"].sort_index()
    s0 = ref_bands.set_index(["row", "lane"])["saturated"].sort_index()
    assert s.tolist() == s0.tolist()


# ----------------------------------------------------------------------------- blots

@pytest.mark.parametrize("bits", [12, 14])
def test_camera_bits_in_a_16bit_container(bits, tmp_path, capsys):
    """12/14-bit camera data (max 4095 / 16383): clipped bands flagged at the detector's
    level, ratios equal to those of the same counts scaled to the full 16-bit range."""
    full = 2 ** bits - 1
    b = make_blot(3, shape=(300, 500), n_lanes=7, saturate=True, saturation_level=full,
                  background={"texture": 0.0})
    assert int(b.image.max()) == full and b.truth.bands["clipped"].sum() >= 3
    p = tmp_path / "camera.tif"
    tifffile.imwrite(p, b.image)
    bands, params = _blot(capsys, p, tmp_path / "o")
    assert params["saturation_level"] == full and params["saturation_source"] == "plateau"
    truth = b.truth.bands.set_index(["row", "lane"])["clipped"].sort_index()
    got = bands.set_index(["row", "lane"])["saturated"].sort_index()
    assert got.tolist() == truth.reindex(got.index).tolist()
    # the file stating its maximum (MaxSampleValue) gives the same, from the file
    p2 = tmp_path / "tagged.tif"
    tifffile.imwrite(p2, b.image, extratags=[(281, 3, 1, full, False)])
    bands2, params2 = _blot(capsys, p2, tmp_path / "o2")
    assert params2["saturation_level"] == full and params2["saturation_source"] == "file"
    assert bands2["saturated"].tolist() == bands["saturated"].tolist()
    # the same counts scaled into the full 16-bit range: the same ratios
    scaled = (b.image.astype(np.uint32) * (65536 // (full + 1))).astype(np.uint16)
    p3 = tmp_path / "scaled.tif"
    tifffile.imwrite(p3, scaled)
    bands3, _ = _blot(capsys, p3, tmp_path / "o3")
    np.testing.assert_allclose(_ratios(bands).to_numpy(), _ratios(bands3).to_numpy(), rtol=2e-3)


@pytest.mark.parametrize("case", ["float 0-1", "float 0-65535", "float64", "int16",
                                  "int16 offset", "uint32", "16-bit PNG", "big-endian",
                                  "RGB equal", "RGBA opaque", "MinIsWhite"])
def test_other_storage_of_the_same_counts(case, clipped, plain_ref, tmp_path, capsys):
    a = clipped.image
    p = tmp_path / "blot.tif"
    if case == "float 0-1":
        tifffile.imwrite(p, (a / 65535.0).astype(np.float32))
    elif case == "float 0-65535":
        tifffile.imwrite(p, a.astype(np.float32))
    elif case == "float64":
        tifffile.imwrite(p, a.astype(np.float64))
    elif case == "int16":      # signed camera data (a clipped band at 32767)
        tifffile.imwrite(p, (a // 2).astype(np.int16))
    elif case == "int16 offset":
        tifffile.imwrite(p, (a.astype(np.int32) - 32768).astype(np.int16))
    elif case == "uint32":
        tifffile.imwrite(p, a.astype(np.uint32))
    elif case == "16-bit PNG":
        p = tmp_path / "blot.png"
        cv2.imwrite(str(p), a)
    elif case == "big-endian":
        tifffile.imwrite(p, a, byteorder=">")
    elif case == "RGB equal":
        tifffile.imwrite(p, np.dstack([a] * 3), photometric="rgb")
    elif case == "RGBA opaque":
        tifffile.imwrite(p, np.dstack([a] * 3 + [np.full_like(a, 65535)]), photometric="rgb",
                         extrasamples=["unassalpha"])
    else:   # stored as MinIsWhite: the numbers are the counts, only the display is inverted
        tifffile.imwrite(p, a, photometric="miniswhite")
    bands, params = _blot(capsys, p, tmp_path / "o")
    # halving the counts into int16 rounds them: ratios within 0.2 %, others exact
    _same_as_plain(bands, plain_ref, rel=2e-3 if case == "int16" else 1e-6)
    assert params["polarity_used"] == "light-on-dark"


def test_dark_on_light_stored_min_is_white(clipped, plain_ref, tmp_path, capsys):
    p = tmp_path / "film.tif"
    tifffile.imwrite(p, (65535 - clipped.image).astype(np.uint16), photometric="miniswhite")
    bands, params = _blot(capsys, p, tmp_path / "o")
    assert params["polarity_used"] == "dark-on-light"
    _same_as_plain(bands, plain_ref)


def test_two_images_in_one_tiff_are_refused(clipped, tmp_path, capsys):
    """A chemiluminescence image + its marker overlay: which one to measure is not ours
    to guess (before: the first page was measured without a word)."""
    marker = (65535 - clipped.image // 2).astype(np.uint16)
    p = tmp_path / "chemi_marker.tif"
    tifffile.imwrite(p, clipped.image)
    tifffile.imwrite(p, marker, append=True)
    for cmd in ("blot", "ihc"):
        out = tmp_path / f"o_{cmd}"
        _fails(capsys, [cmd, p, "--out", out], "chemi_marker.tif", "2 separate images",
               "single-page")
        _no_output(out)
    # the same pages as one plane stack
    p2 = tmp_path / "stack.tif"
    for plane in (clipped.image, marker):
        tifffile.imwrite(p2, plane, append=True, metadata=None)
    out = tmp_path / "o2"
    _fails(capsys, ["blot", p2, "--out", out], "stack.tif", "2 image planes", "own file")
    _no_output(out)
    # a smaller second image (a thumbnail) is not a choice: the first is read
    p3 = tmp_path / "thumb.tif"
    tifffile.imwrite(p3, clipped.image)
    tifffile.imwrite(p3, clipped.image[::8, ::8].copy(), append=True)
    bands, params = _blot(capsys, p3, tmp_path / "o3")
    assert "first of 2 image series" in params["metadata"]["conversion"]


def test_single_colour_lookup_table_export_is_read_exactly(clipped, tmp_path, capsys):
    """ImageJ's Green / Cyan LUT exports: the gray image is the coloured channel."""
    g8 = (clipped.image >> 8).astype(np.uint8)
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), g8)
    ref, _ = _blot(capsys, gray, tmp_path / "o_gray")
    for name, chans in (("green", (0, 1, 0)), ("cyan", (0, 1, 1))):
        rgb = np.dstack([g8 * c for c in chans]).astype(np.uint8)
        p = tmp_path / f"{name}.png"
        cv2.imwrite(str(p), rgb[..., ::-1])
        bands, params = _blot(capsys, p, tmp_path / f"o_{name}")
        assert "single-colour lookup table" in params["metadata"]["conversion"]
        np.testing.assert_array_equal(bands["volume"].to_numpy(), ref["volume"].to_numpy())


def test_false_colour_export_is_refused(clipped, tmp_path, capsys):
    g8 = (clipped.image >> 8).astype(np.uint8)
    p = tmp_path / "hot.png"
    cv2.imwrite(str(p), cv2.applyColorMap(g8, cv2.COLORMAP_HOT))
    out = tmp_path / "o"
    _fails(capsys, ["blot", p, "--out", out], "hot.png", "pseudo-coloured", "grayscale")
    _no_output(out)


@pytest.mark.parametrize("value", [65535, 0])
@pytest.mark.parametrize("width", [20, 150])
def test_export_frame(value, width, clipped, plain_ref, tmp_path, capsys):
    """A white or black frame around the blot (before, white: 20 px 'no band rows found';
    150 px, 64 % of the image, the polarity turned: '13 band row(s) found')."""
    p = tmp_path / "framed.tif"
    tifffile.imwrite(p, np.pad(clipped.image, width, constant_values=value))
    bands, params = _blot(capsys, p, tmp_path / "o")
    _same_as_plain(bands, plain_ref, rel=0.01)
    assert params["polarity_used"] == "light-on-dark"


def test_white_frame_does_not_hide_a_clipped_band_at_the_edge(tmp_path, capsys):
    """Only whole clipped edge lines are a frame: a band cut by the image edge stays."""
    b = make_blot(3, shape=(300, 500), n_lanes=7, saturate=True, background={"texture": 0.0})
    clipped_cols = np.flatnonzero((b.image == 65535).any(axis=0))
    cut = b.image[:, clipped_cols[0] + 4:]      # the first clipped band cut by the left edge
    assert (cut[:, 0] == 65535).sum() >= 3
    p = tmp_path / "cut.tif"
    tifffile.imwrite(p, cut)
    bands, _ = _blot(capsys, p, tmp_path / "o")
    first = bands[bands["lane"] == bands["lane"].min()]
    assert first["saturated"].any(), first
    assert bands["saturated"].sum() == b.truth.bands["clipped"].sum()


def test_sideways_blot_with_rows_given_says_rotate(clipped, tmp_path, capsys):
    p = tmp_path / "sideways.tif"
    tifffile.imwrite(p, np.rot90(clipped.image).copy())
    out = tmp_path / "o"
    _fails(capsys, ["blot", p, "--out", out, *ROWS], "sideways.tif", "left to right",
           "rotate the image by 90 degrees")
    _no_output(out)


# The one-lane blot's membrane texture alone moves its ratio by -3.75 % (its two boxes
# measured with the true smooth background: 0.9625 x the truth), so a 2 % tolerance
# against the truth held only by chance (the short-window line: +1.8 %); against the
# true smooth background on the same boxes, the noise floor, it is held to 2 %.
@pytest.mark.parametrize("shape,n_lanes,tol,floor_tol", [((120, 300), 4, 0.25, None),
                                                         ((300, 120), 1, 0.05, 0.02),
                                                         ((8000, 900), 5, 0.05, None)])
def test_tiny_huge_and_one_lane_blots(shape, n_lanes, tol, floor_tol, tmp_path, capsys):
    b = make_blot(5, shape=shape, n_lanes=n_lanes)
    p = tmp_path / "b.tif"
    tifffile.imwrite(p, b.image)
    bands, _ = _blot(capsys, p, tmp_path / "o")
    assert bands["lane"].nunique() == n_lanes
    truth = b.ratio_truth().set_index("lane")["ratio"]
    r = _ratios(bands)
    np.testing.assert_allclose(r.to_numpy(), truth.reindex(r.index).to_numpy(), rtol=tol)
    if floor_tol is not None:
        # the same blot without texture (same draws otherwise): its smooth background
        smooth = make_blot(5, shape=shape, n_lanes=n_lanes,
                           background={"texture": 0.0}).truth.background
        sig = b.image.astype(float) - smooth - b.truth.artifacts
        floor = bands.assign(volume=[
            sig[int(x.top):int(x.bottom) + 1, int(round(x.left)):int(round(x.right))].sum()
            for x in bands.itertuples()])
        np.testing.assert_allclose(r.to_numpy(), _ratios(floor).to_numpy(), rtol=floor_tol)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_phone_jpeg_with_exif_orientation_is_measured_as_displayed(orientation, clipped,
                                                                   tmp_path, capsys):
    """A photo of a film: the sensor's rows stored, an Exif Orientation tag says how to show
    them (before: 3 gave the lanes in reverse order, 6 / 8 were refused as sideways)."""
    from PIL import Image as PILImage

    upright = (clipped.image >> 8).astype(np.uint8)
    stored = {3: upright[::-1, ::-1], 6: np.rot90(upright, 1), 8: np.rot90(upright, -1)}
    plain = tmp_path / "upright.jpg"
    PILImage.fromarray(upright).save(plain, quality=100)
    ref, _ = _blot(capsys, plain, tmp_path / "o_plain")
    p = tmp_path / "photo.jpg"
    im = PILImage.fromarray(np.ascontiguousarray(stored[orientation]))
    exif = im.getexif()
    exif[274] = orientation
    im.save(p, quality=100, exif=exif)
    bands, params = _blot(capsys, p, tmp_path / "o")
    assert f"Exif orientation {orientation} applied" in params["metadata"]["conversion"]
    assert params["metadata"]["shape"] == list(upright.shape)
    r, r0 = _ratios(bands), _ratios(ref)
    assert r.index.tolist() == r0.index.tolist()
    np.testing.assert_allclose(r.to_numpy(), r0.to_numpy(), rtol=0.01)


@pytest.mark.parametrize("suffix", ["jpg", "png"])
def test_every_exif_orientation_reads_as_a_viewer_shows_it(suffix, tmp_path):
    """All 8 codes, against Pillow's ``ImageOps.exif_transpose`` of the same file."""
    from PIL import Image as PILImage, ImageOps

    from blotquant import read_image

    a = np.random.default_rng(0).integers(0, 255, (40, 64), dtype=np.uint8)
    for code in range(1, 9):
        p = tmp_path / f"o{code}.{suffix}"
        im = PILImage.fromarray(a)
        exif = im.getexif()
        exif[274] = code
        im.save(p, exif=exif, **({"quality": 100} if suffix == "jpg" else {}))
        ref = np.asarray(ImageOps.exif_transpose(PILImage.open(p)))
        got = read_image(p)
        assert got.shape == ref.shape and np.array_equal(got.data, ref), code
        assert (got.metadata.extra.get("exif_orientation") is None) == (code == 1)


def test_ihc_roi_on_a_turned_jpeg_is_refused(tmp_path, capsys):
    from PIL import Image as PILImage

    s = make_ihc(seed=8, shape=(200, 240))
    p = tmp_path / "turned.jpg"
    im = PILImage.fromarray(np.rot90(s.image, 1).copy())
    exif = im.getexif()
    exif[274] = 6
    im.save(p, quality=95, exif=exif)
    roi = tmp_path / "roi.geojson"
    roi.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[10, 10], [100, 10], [100, 100], [10, 10]]]}}))
    out = tmp_path / "o"
    _fails(capsys, ["ihc", p, "--out", out, "--roi", roi], "turned.jpg", "Exif orientation",
           "--roi")
    _no_output(out)
    summary, params = _ihc(capsys, p, tmp_path / "o2")      # without regions: scored
    assert params["image_metadata"]["shape"][:2] == [200, 240]


def test_tiff_orientation_tag_is_kept_as_stored_and_said(clipped, plain_ref, tmp_path, capsys):
    p = tmp_path / "tagged.tif"
    tifffile.imwrite(p, clipped.image, extratags=[(274, 3, 1, 3, False)])
    bands, params = _blot(capsys, p, tmp_path / "o")
    assert "Orientation tag 3 not applied" in params["metadata"]["conversion"]
    _same_as_plain(bands, plain_ref)


# ----------------------------------------------------------------------------- IHC

@pytest.fixture(scope="module")
def field(tmp_path_factory):
    d = tmp_path_factory.mktemp("ihc")
    s = make_ihc(seed=8, shape=(256, 256))
    p = d / "plain.png"
    cv2.imwrite(str(p), s.image[..., ::-1])
    rc = main(["ihc", str(p), "--out", str(d / "o"), "--mode", "pixel"])
    assert rc == 0
    return s.image, pd.read_csv(d / "o" / "summary.csv")


def _same_score(summary, ref, h_tol=0.5):
    assert summary["h_score"].iloc[0] == pytest.approx(ref["h_score"].iloc[0], abs=h_tol)
    assert summary["pct_positive"].iloc[0] == pytest.approx(ref["pct_positive"].iloc[0],
                                                            abs=max(h_tol, 0.5))


@pytest.mark.parametrize("case", ["10-bit", "12-bit", "14-bit", "12-bit tagged",
                                  "float 0-65535", "float 0-1"])
def test_high_bit_depth_rgb_gives_the_8bit_score(case, field, tmp_path, capsys):
    """Before: 12-bit RGB in 16-bit refused as '100 % near black'; 14-bit scored as a dark
    stain; float 0-65535 clipped to 255 (white)."""
    rgb, ref = field
    p = tmp_path / "rgb.tif"
    if case.startswith("float"):
        top = 65535.0 if case == "float 0-65535" else 1.0
        tifffile.imwrite(p, (rgb * (top / 255.0)).astype(np.float32), photometric="rgb")
    else:
        bits = int(case[:2])
        data = np.rint(rgb.astype(np.float64) * (2 ** bits - 1) / 255).astype(np.uint16)
        tags = [(281, 3, 1, 2 ** bits - 1, False)] if "tagged" in case else None
        tifffile.imwrite(p, data, photometric="rgb", extratags=tags)
    summary, params = _ihc(capsys, p, tmp_path / "o")
    _same_score(summary, ref)


def test_palette_png_and_icc_jpeg(field, tmp_path, capsys):
    from PIL import Image as PILImage, ImageCms

    rgb, ref = field
    p = tmp_path / "palette.png"
    PILImage.fromarray(rgb).quantize(256).save(p)
    summary, _ = _ihc(capsys, p, tmp_path / "o_pal")
    _same_score(summary, ref, h_tol=3.0)       # 256 colours: the quantisation moves it a bit
    plain, icc = tmp_path / "plain.jpg", tmp_path / "icc.jpg"
    PILImage.fromarray(rgb).save(plain, quality=95)
    prof = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    PILImage.fromarray(rgb).save(icc, quality=95, icc_profile=prof)
    a, _ = _ihc(capsys, plain, tmp_path / "o_plain")
    b, _ = _ihc(capsys, icc, tmp_path / "o_icc")
    assert b["h_score"].iloc[0] == a["h_score"].iloc[0]
    _same_score(a, ref, h_tol=3.0)
    cmyk = tmp_path / "cmyk.jpg"
    PILImage.fromarray(rgb).convert("CMYK").save(cmyk, quality=95)
    _fails(capsys, ["ihc", cmyk, "--out", tmp_path / "o_cmyk"], "cmyk.jpg", "CMYK")


def test_gray_saved_as_rgb_is_not_scored(field, tmp_path, capsys):
    rgb, _ = field
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    for name in ("gray.png", "gray.tif"):
        p = tmp_path / name
        if name.endswith(".png"):
            cv2.imwrite(str(p), np.dstack([g] * 3))
        else:
            tifffile.imwrite(p, np.dstack([g] * 3), photometric="rgb")
        out = tmp_path / f"o_{name}"
        _fails(capsys, ["ihc", p, "--out", out], name, "identical", "cannot be separated")
        _no_output(out)


def test_inverted_field_with_glass_is_refused(field, tmp_path, capsys):
    """Before: H-score 223 (ref 82) with only a stain note (42 % of the field near black)."""
    rgb, _ = field
    p = tmp_path / "inverted.png"
    cv2.imwrite(str(p), (255 - rgb)[..., ::-1])
    out = tmp_path / "o"
    _fails(capsys, ["ihc", p, "--out", out], "inverted.png", "near black", "inverted")
    _no_output(out)


def _pixel_facts(params):
    md = params["image_metadata"]
    return md["pixel_size_um"], md["extra"].get("pixel_size_source"), \
        md["extra"].get("declared_resolution")


@pytest.mark.parametrize("case,expected", [
    ("tiff cm", 0.25), ("tiff inch", 0.25), ("tiff 72 dpi", None), ("tiff 300 dpi in cm", None),
    ("png 96 dpi", None), ("imagej inch 72", None), ("imagej micron", 0.25),
    ("ome nm", 0.25), ("ome mm", 0.25), ("svs without MPP", 0.5)])
def test_pixel_size_units(case, expected, field, tmp_path, capsys):
    from PIL import Image as PILImage

    rgb, ref = field
    p = tmp_path / "f.tif"
    if case == "tiff cm":
        tifffile.imwrite(p, rgb, photometric="rgb", resolution=(40000, 40000),
                         resolutionunit="CENTIMETER")
    elif case == "tiff inch":
        tifffile.imwrite(p, rgb, photometric="rgb", resolution=(101600, 101600),
                         resolutionunit="INCH")
    elif case == "tiff 72 dpi":
        tifffile.imwrite(p, rgb, photometric="rgb", resolution=(72, 72), resolutionunit="INCH")
    elif case == "tiff 300 dpi in cm":
        tifffile.imwrite(p, rgb, photometric="rgb", resolution=(118.11, 118.11),
                         resolutionunit="CENTIMETER")
    elif case == "png 96 dpi":
        p = tmp_path / "f.png"
        PILImage.fromarray(rgb).save(p, dpi=(96, 96))
    elif case.startswith("imagej"):
        unit, res = ("inch", 72.0) if "inch" in case else ("micron", 4.0)
        tifffile.imwrite(p, rgb, imagej=True, resolution=(res, res), metadata={"unit": unit})
    elif case.startswith("ome"):
        unit = case.split()[1]
        v = {"nm": 250.0, "mm": 0.00025}[unit]
        p = tmp_path / "f.ome.tif"
        tifffile.imwrite(p, rgb, photometric="rgb",
                         metadata={"axes": "YXS", "PhysicalSizeX": v, "PhysicalSizeY": v,
                                   "PhysicalSizeXUnit": unit, "PhysicalSizeYUnit": unit})
    else:
        tifffile.imwrite(p, rgb, photometric="rgb",
                         description="Aperio Image Library v10.0.50\n256x256 -> 256x256 "
                                     "JPEG/RGB Q=70|AppMag = 20")
    summary, params = _ihc(capsys, p, tmp_path / "o")
    size, source, declared = _pixel_facts(params)
    if expected is None:
        assert size is None and source is None, (size, source)
        assert params["pixel_size_source"] == "unknown"
        if "dpi" in case or "72" in case:
            assert "software default" in declared
    else:
        assert size == pytest.approx([expected, expected], rel=1e-3)
        assert source and params["pixel_size_source"] == "file"
        if case.startswith("svs"):   # AppMag 20, no MPP: the nominal 20x size, said so
            assert "AppMag 20x (nominal" in source
    _same_score(summary, ref)


# ----------------------------------------------------------------------------- batch

def test_batch_folder_with_awkward_names(tmp_path, capsys):
    """Spaces, unicode, upper-case extensions, the same name in two sub-folders:
    every image analysed once, results kept apart, the right numbers for each."""
    src = tmp_path / "my images"
    (src / "day 1").mkdir(parents=True)
    (src / "day2").mkdir()
    blots = {"day 1/blot.TIF": make_blot(1, shape=(200, 400), n_lanes=5),
             "day2/blot.TIF": make_blot(2, shape=(200, 400), n_lanes=6),
             "Western blot α.Tiff": make_blot(3, shape=(200, 400), n_lanes=4),
             "Western blot β.Tiff": make_blot(4, shape=(200, 400), n_lanes=7)}
    for name, b in blots.items():
        tifffile.imwrite(src / name, b.image)
    s = make_ihc(seed=3, shape=(200, 200))
    cv2.imwrite(str(src / "IHC slide #1.PNG"), s.image[..., ::-1])
    cv2.imwrite(str(src / "day2" / "IHC slide #1.PNG"), s.image[::-1, :, ::-1])
    out = tmp_path / "out"
    rc, _, err = _run(capsys, ["batch", src, "--out", out, "--recursive", "-q", "--workers", "0",
                               "--mode", "pixel", "--no-report"])
    assert rc == 0 and "Traceback" not in err, err
    lanes = pd.read_csv(out / "lanes.csv")
    assert lanes.groupby("image").size().to_dict() == {
        name: b.params["n_lanes"] for name, b in blots.items()}
    regions = pd.read_csv(out / "ihc_regions.csv")
    assert sorted(regions["image"]) == ["IHC slide #1.PNG", "day2/IHC slide #1.PNG"]
    # the flipped copy is the same tissue: the same pixel score
    assert regions["h_score"].iloc[0] == pytest.approx(regions["h_score"].iloc[1], abs=1e-6)
    dirs = [p for p in (out / "images").iterdir() if p.is_dir()]
    assert len(dirs) == 6


def test_batch_lists_a_two_image_tiff_among_good_ones(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    b = make_blot(1, shape=(200, 400), n_lanes=5)
    tifffile.imwrite(src / "good.tif", b.image)
    pair = src / "chemi and marker.TIF"
    tifffile.imwrite(pair, b.image)
    tifffile.imwrite(pair, (65535 - b.image).astype(np.uint16), append=True)
    out = tmp_path / "out"
    rc, _, err = _run(capsys, ["batch", src, "--out", out, "-q", "--workers", "0",
                               "--no-report", "--no-qc"])
    assert rc == 3 and "Traceback" not in err, err
    errors = pd.read_csv(out / "errors.csv")
    assert len(errors) == 1 and "chemi and marker.TIF" in str(errors["file"].iloc[0])
    assert "2 separate images" in " ".join(errors.astype(str).iloc[0])
    assert pd.read_csv(out / "lanes.csv")["image"].unique().tolist() == ["good.tif"]
