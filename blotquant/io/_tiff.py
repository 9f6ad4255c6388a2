"""TIFF family reader: plain TIFF, ImageJ/OME-TIFF stacks, palette TIFF,
GE/Molecular Dynamics ``.gel`` and lazily opened whole-slide pyramids."""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import tifffile
from tifffile import COMPRESSION, PHOTOMETRIC

from ..errors import (BlotquantError, ImageReadError, InvalidImageError, ParameterError,
                      UnsupportedImageError)
from ..image import Image, ImageMetadata
from ._common import (Decoded, check_pixels, default_saturation, effective_bits, finish,
                      screen_pixel_size)
from ._polarity import POLARITY_MAX_LAZY_PIXELS

LOSSY_COMPRESSIONS = {
    COMPRESSION.OJPEG, COMPRESSION.JPEG, COMPRESSION.JPEG_99, COMPRESSION.JPEG_LOSSY,
    COMPRESSION.JPEG_2000_LOSSY, COMPRESSION.APERIO_JP2000_YCBC,
    COMPRESSION.APERIO_JP2000_RGB, COMPRESSION.JPEG2000, COMPRESSION.JPEGXR,
    COMPRESSION.JPEGXR_NDPI, COMPRESSION.WEBP, COMPRESSION.WEBP_DEPRECATED,
    COMPRESSION.JPEGXL, COMPRESSION.JPEGXL_DNG,
}

#: MD .gel private tags.
MD_TAGS = {33445: "MD_FileTag", 33446: "MD_ScalePixel", 33447: "MD_ColorTable",
           33448: "MD_LabName", 33449: "MD_SampleInfo", 33450: "MD_PrepDate",
           33451: "MD_PrepTime", 33452: "MD_FileUnits"}

_UNIT_UM = {"um": 1.0, "micron": 1.0, "microns": 1.0, "µm": 1.0, "\u00b5m": 1.0,
            "\\u00b5m": 1.0, "micrometer": 1.0, "micrometre": 1.0, "nm": 1e-3,
            "nanometer": 1e-3, "mm": 1e3, "millimeter": 1e3, "cm": 1e4,
            "centimeter": 1e4, "m": 1e6, "meter": 1e6, "inch": 25400.0, "in": 25400.0}

_BITDEPTH_RE = re.compile(
    r'(?:bit[ _-]?depth|bitsperpixel|significant[ _-]?bits)"?\s*[=:]\s*"?(\d{1,2})\b', re.I)
_APPMAG_RE = re.compile(r"\bAppMag\s*=\s*([0-9]*\.?[0-9]+)")
_MPP_RE = re.compile(r"\bMPP\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)")


def _tag(page, code, default=None):
    t = page.tags.get(code)
    return default if t is None else t.value


def _unit_um(unit) -> float | None:
    if unit is None:
        return None
    return _UNIT_UM.get(str(unit).strip().lower())


# ----------------------------------------------------------------------------------
# metadata helpers

def _ome_info(tif):
    """(pixel_size_um, channel_names) from OME-XML, or (None, ())."""
    try:
        root = ET.fromstring(tif.ome_metadata)
    except Exception:
        return None, ()
    pixels = next((e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None:
        return None, ()
    size = None
    try:
        px, py = pixels.get("PhysicalSizeX"), pixels.get("PhysicalSizeY")
        if px and py:
            fx = _unit_um(pixels.get("PhysicalSizeXUnit", "µm"))
            fy = _unit_um(pixels.get("PhysicalSizeYUnit", "µm"))
            if fx and fy:
                size = (float(py) * fy, float(px) * fx)
    except ValueError:
        size = None
    names = tuple(c.get("Name", "") for c in pixels
                  if c.tag.rsplit("}", 1)[-1] == "Channel")
    if not any(names):
        names = ()
    return size, names


def _resolution_um(tif, page):
    """Pixel size (row, col) in um from ImageJ unit or X/YResolution + ResolutionUnit."""
    xres, yres = _tag(page, 282), _tag(page, 283)
    if not xres or not yres:
        return None, None
    try:
        rx = xres[0] / xres[1] if isinstance(xres, tuple) else float(xres)
        ry = yres[0] / yres[1] if isinstance(yres, tuple) else float(yres)
    except (ZeroDivisionError, TypeError, IndexError):
        return None, None
    if not (rx > 0 and ry > 0):
        return None, None
    unit = int(_tag(page, 296, 2))
    ij = tif.imagej_metadata if tif.is_imagej else None
    if ij and ij.get("unit"):
        f = _unit_um(ij.get("unit"))
        if f is None:
            return None, None
        return (f / ry, f / rx), f"imagej unit={str(ij.get('unit')).strip().lower()}"
    if unit == 2:
        return (25400.0 / ry, 25400.0 / rx), "tiff resolution (inch)"
    if unit == 3:
        return (10000.0 / ry, 10000.0 / rx), "tiff resolution (cm)"
    return None, None


def _pixel_size(tif, page):
    """(pixel_size_um, source) from SVS MPP (else AppMag), OME, ImageJ or TIFF resolution tags."""
    if tif.is_svs:
        m = _MPP_RE.search(page.description or "")
        if m and float(m.group(1)) > 0:
            v = float(m.group(1))
            return (v, v), "svs MPP"
        m = _APPMAG_RE.search(page.description or "")
        if m:
            # the objective without the calibration: the scanners' nominal pixel size at
            # it, as --magnification gives (the same table; imported only here: heavier)
            from ..ihc.params import MAGNIFICATION_UM_PER_PX
            mag = float(m.group(1))
            if mag in MAGNIFICATION_UM_PER_PX:
                v = MAGNIFICATION_UM_PER_PX[mag]
                return (v, v), f"svs AppMag {mag:g}x (nominal, no MPP in the file)"
    if tif.is_ome:
        size, _ = _ome_info(tif)
        if size:
            return size, "ome PhysicalSizeX/Y"
    return _resolution_um(tif, page)


def _channel_names(tif, series, n):
    if tif.is_ome:
        _, names = _ome_info(tif)
        if len(names) == n:
            return names
    if tif.is_imagej:
        labels = (tif.imagej_metadata or {}).get("Labels")
        if isinstance(labels, (list, tuple)) and len(labels) == n:
            return tuple(str(v) for v in labels)
    names = []
    for p in series.pages[:n] if len(series.pages) >= n else []:
        names.append(_tag(p, 285, None) if p is not None else None)
    if len(names) == n and all(isinstance(v, str) and v for v in names):
        return tuple(names)
    return ()


def _saturation(tif, page, dtype):
    """(saturation_level, bit_depth, source) for integer or float data."""
    dtype = np.dtype(dtype)
    bps = _tag(page, 258, dtype.itemsize * 8)
    bps = int(bps[0] if isinstance(bps, tuple) else bps)
    if np.issubdtype(dtype, np.floating):
        smax = _tag(page, 341)
        if smax is not None:
            v = float(np.max(smax))
            if math.isfinite(v):
                return v, bps, "SMaxSampleValue tag"
        return math.inf, bps, None
    full = default_saturation(dtype)
    for code, name in ((281, "MaxSampleValue tag"), (341, "SMaxSampleValue tag")):
        v = _tag(page, code)
        if v is not None:
            v = float(np.max(v))
            if 0 < v < full:
                return v, effective_bits(v) or bps, name
    if bps < dtype.itemsize * 8 and bps > 0:
        return float(2 ** bps - 1), bps, "BitsPerSample tag"
    m = _BITDEPTH_RE.search(page.description or "") if page.description else None
    if m:
        b = int(m.group(1))
        if 1 <= b < dtype.itemsize * 8:
            return float(2 ** b - 1), b, "image description bit depth"
    return full, bps, None


# ----------------------------------------------------------------------------------

def _open(path):
    try:
        return tifffile.TiffFile(path)
    except Exception as err:
        raise ImageReadError(f"cannot read this TIFF file, it is corrupt or truncated "
                             f"({type(err).__name__}: {err})", path=path) from err


def read_tiff(path: str | os.PathLike, mode: str, polarity: str,
              max_pixels: float | None, page: int | None = None) -> Image:
    """Read any TIFF-family file (plain, ImageJ, OME, SVS/pyramids, GE ``.gel``).

    Parameters
    ----------
    path : str or path-like
        The file.
    mode, polarity, max_pixels, page
        As for :func:`~blotquant.io.read_image` (already checked).  ``page``
        picks the image series of a multi-image TIFF, else the plane of a
        page / channel stack.

    Returns
    -------
    Image
        In memory, or lazy levels for pyramids and tiled files above the
        pixel limit (zarr arrays, or :class:`LazyLevel` views that open the
        zarr store on first use).

    Raises
    ------
    ImageReadError
        Corrupt, truncated or empty TIFF.
    UnsupportedImageError
        Unsupported dimensionality or pixel type.
    """
    tif = _open(path)
    keep_open = False
    try:
        try:
            is_mdgel = tif.is_mdgel
        except Exception as err:
            raise ImageReadError(f"cannot parse the TIFF structure ({type(err).__name__}: "
                                 f"{err})", path=path) from err
        if is_mdgel:
            if page not in (None, 1):
                raise ParameterError(f"page {page} asked for, but a GE .gel file holds one "
                                     "image", path=path)
            return _read_mdgel(tif, path, polarity, max_pixels, mode)
        try:
            n_series = len(tif.series)
            pick = page - 1 if page is not None and n_series > 1 else 0
            if page is not None and pick >= n_series > 1:
                raise ParameterError(f"page {page} asked for, but the TIFF holds {n_series} "
                                     "images; pages are numbered from 1", path=path)
            series = tif.series[pick] if tif.series else None
            if series is None or not series.pages:
                raise ImageReadError("the TIFF file contains no image", path=path)
            key = series.keyframe
            shape, axes = tuple(series.shape), series.axes
            n_levels = len(series.levels)
        except BlotquantError:
            raise
        except Exception as err:
            raise ImageReadError(f"cannot parse the TIFF structure ({type(err).__name__}: "
                                 f"{err})", path=path) from err
        yx = _yx(shape, axes)
        planes = _planes(shape, axes)
        lazy = n_levels > 1 or (key.is_tiled and max_pixels is not None
                                and yx[0] * yx[1] * planes > max_pixels)
        if lazy:
            if page not in (None, 1):
                raise ParameterError(
                    f"page {page} asked for, but this is a whole-slide pyramid; its levels "
                    "are chosen with --level / --magnification, not --page", path=path)
            img = _read_pyramid(tif, path, series, mode, polarity)
            keep_open = True
            return img
        _check_axes(path, shape, axes)
        check_pixels(path, yx, planes, max_pixels)
        by_series = page is not None and n_series > 1
        dec = _decode_plain(tif, path, series, key, chosen=pick if by_series else None)
        # a multi-image TIFF's page is its series (chosen above); a single series
        # that stacks planes (ImageJ hyperstack, multi-page stack) gives the plane
        return finish(path, dec, mode, polarity, page=None if by_series else page)
    finally:
        if not keep_open:
            tif.close()


def _check_axes(path, shape, axes):
    """Reject unsupported dimensionality from the header, before decoding."""
    if not shape or 0 in shape:
        raise InvalidImageError(f"the image is empty (shape {tuple(shape)})", path=path)
    others = [a for a in axes if a not in "YXS"]
    if "Y" not in axes or "X" not in axes or len(others) > 1 or (others and "S" in axes):
        raise UnsupportedImageError(
            f"unsupported image dimensionality: shape {shape} with axes {axes!r} "
            f"({len(shape)}-D); blotquant reads 2-D gray, colour, or one stack of "
            "single-channel planes (C, Y, X); export a single plane or channel stack",
            path=path)


def _yx(shape, axes):
    try:
        return shape[axes.index("Y")], shape[axes.index("X")]
    except ValueError:
        return (shape[-2], shape[-1]) if len(shape) >= 2 else (shape[0] if shape else 0, 1)


def _planes(shape, axes):
    n = 1
    for s, a in zip(shape, axes):
        if a not in "YXS":
            n *= int(s)
    return n


def _asarray(path, series):
    try:
        return series.asarray()
    except MemoryError as err:
        raise ImageReadError("not enough memory to decode this image", path=path) from err
    except Exception as err:
        raise ImageReadError(f"cannot decode the pixel data, the file is corrupt or "
                             f"truncated ({type(err).__name__}: {err})", path=path) from err


def _decode_plain(tif, path, series, page, chosen=None) -> Decoded:
    axes = series.axes
    photometric = page.photometric
    if photometric in (PHOTOMETRIC.SEPARATED, PHOTOMETRIC.CIELAB, PHOTOMETRIC.ICCLAB,
                       PHOTOMETRIC.ITULAB, PHOTOMETRIC.LOGL, PHOTOMETRIC.LOGLUV,
                       PHOTOMETRIC.CFA):
        raise UnsupportedImageError(
            f"{photometric.name} colour TIFF is not supported; save the image as gray or "
            "RGB TIFF", path=path)
    data = _asarray(path, series)
    notes, extra = [], {}
    # samples axis last
    if "S" in axes and axes.index("S") != len(axes) - 1:
        data = np.moveaxis(data, axes.index("S"), -1)
        axes = axes.replace("S", "") + "S"
    others = [a for a in axes if a not in "YXS"]
    if data.ndim != len(axes):
        raise UnsupportedImageError(f"unexpected array shape {data.shape} for axes {axes!r}",
                                    path=path)
    sat, bits, sat_src = _saturation(tif, page, data.dtype)
    if sat_src:
        extra["saturation_source"] = sat_src
    alpha = None
    if others:
        out_axes = "CYX"
        if axes.index(others[0]) != 0:
            data = np.moveaxis(data, axes.index(others[0]), 0)
        names = _channel_names(tif, series, data.shape[0])
        if others[0] != "C":
            notes.append(f"{data.shape[0]} pages/planes (axis {others[0]!r}) read as channels")
    elif "S" in axes:
        out_axes, names = "YXS", ()
        s = data.shape[-1]
        extras = tuple(int(v) for v in (page.extrasamples or ()))
        is_rgb = photometric in (PHOTOMETRIC.RGB, PHOTOMETRIC.YCBCR)
        if photometric == PHOTOMETRIC.PALETTE:
            pass
        elif is_rgb and s in (3, 4):
            if s == 4:
                alpha = "associated" if extras and extras[0] == 1 else "unassociated"
                if extras and extras[0] == 0:
                    data = data[..., :3]
                    notes.append("unspecified extra sample dropped")
        elif photometric == PHOTOMETRIC.MINISBLACK and s == 2 and extras and extras[0] in (1, 2):
            alpha = "associated" if extras[0] == 1 else "unassociated"
        else:
            data, out_axes = np.moveaxis(data, -1, 0), "CYX"
            names = _channel_names(tif, series, data.shape[0])
            notes.append(f"{data.shape[0]} samples per pixel read as channels")
    else:
        out_axes, names = "YX", ()
    if photometric == PHOTOMETRIC.PALETTE:
        data, out_axes, sat, bits, note = _apply_palette(path, page, data)
        notes.append(note)
    if photometric == PHOTOMETRIC.MINISWHITE:
        extra["photometric"] = "miniswhite"
        notes.append("photometric MinIsWhite: values kept as stored (0 = white)")
    fmt = "ome-tiff" if tif.is_ome else ("svs" if tif.is_svs else "tiff")
    size, size_src = _pixel_size(tif, page)
    if size_src:
        extra["pixel_size_source"] = size_src
    extra["compression"] = COMPRESSION(page.compression).name if page.compression in \
        COMPRESSION.__members__.values() else int(page.compression)
    if len(tif.series) > 1 and chosen is not None:
        extra["n_series"], extra["page"] = len(tif.series), chosen + 1
        notes.append(f"image series {chosen + 1} of {len(tif.series)} read (page "
                     f"{chosen + 1} asked for)")
    elif len(tif.series) > 1:
        _check_one_full_size_image(tif, path, series)
        extra["n_series"] = len(tif.series)
        notes.append(f"first of {len(tif.series)} image series read (the others are "
                     "smaller: thumbnails, labels or previews)")
    try:
        orientation = int(_tag(page, 274, 1))
    except (TypeError, ValueError):
        orientation = 1
    if orientation != 1:
        # TIFF viewers disagree on it (ImageJ, Image Lab and QuPath show the stored rows;
        # photo viewers turn them): kept as stored, like those tools, and said
        extra["orientation"] = orientation
        notes.append(f"TIFF Orientation tag {orientation} not applied: pixels as stored "
                     "(as ImageJ shows them)")
    return Decoded(data=data, axes=out_axes, fmt=fmt, bit_depth=bits, saturation_level=sat,
                   pixel_size_um=size, lossy=page.compression in LOSSY_COMPRESSIONS,
                   conversion=notes, channel_names=names, extra=extra, alpha=alpha)


def full_size_images(path: str | os.PathLike) -> int:
    """How many separate images of the first image's size a TIFF holds.

    The images :func:`~blotquant.io.read_image` refuses to choose between
    (and reads one of with ``page=N``); 1 for a one-image file or a pyramid
    with its thumbnail / label / macro images.

    Parameters
    ----------
    path : str or path-like
        A TIFF file.

    Returns
    -------
    int
        At least 1.
    """
    tif = _open(path)
    try:
        series = list(tif.series)
        if len(series) < 2:
            return 1
        return max(1, len(_same_size_series(series)))
    finally:
        tif.close()


def _same_size_series(series):
    first = series[0]
    yx = _yx(tuple(first.shape), first.axes)
    same = []
    for k, s in enumerate(series):
        try:
            if _yx(tuple(s.shape), s.axes) == yx:
                same.append(k)
        except Exception:   # an unreadable extra series: not a full-size image choice
            continue
    return same


def _check_one_full_size_image(tif, path, first):
    """Refuse a TIFF that holds more than one image of the first image's size.

    Gel imagers save a chemiluminescence image and its white-light marker
    overlay (or a channel pair, or exposures) as pages of one file; reading the
    first page without a word would measure whichever was written first.
    Smaller extra images (thumbnails, slide labels, previews) are not a choice.
    """
    yx = _yx(tuple(first.shape), first.axes)
    same = _same_size_series(list(tif.series))   # ``first`` is series 0
    if len(same) > 1:
        pages = ", ".join(str(k + 1) for k in same)
        raise UnsupportedImageError(
            f"this TIFF holds {len(same)} separate images of {yx[0]} x {yx[1]} pixels "
            f"(pages {pages}; e.g. a chemiluminescence image and its marker overlay, or "
            "several exposures or channels): blotquant cannot tell which one to measure; "
            f"choose one with --page (e.g. --page {same[0] + 1}; in a batch, the sample "
            "sheet's page column; read_image(..., page=N)) or "
            "save the image to analyse as its own single-page TIFF", path=path)


def _apply_palette(path, page, index):
    cmap = page.colormap
    if cmap is None:
        raise ImageReadError("palette TIFF without a ColorMap tag", path=path)
    cmap = np.asarray(cmap)
    if index.ndim != 2:
        raise UnsupportedImageError(f"palette image with shape {index.shape} not supported",
                                    path=path)
    if int(index.max(initial=0)) >= cmap.shape[1]:
        raise ImageReadError("palette index outside the ColorMap", path=path)
    if np.all(cmap % 257 == 0):
        cmap, dtype, sat, bits = cmap // 257, np.uint8, 255.0, 8
    else:
        dtype, sat, bits = np.uint16, 65535.0, 16
    cmap = cmap.astype(dtype)
    if np.array_equal(cmap[0], cmap[1]) and np.array_equal(cmap[0], cmap[2]):
        return cmap[0][index], "YX", sat, bits, f"gray palette applied ({np.dtype(dtype).name})"
    rgb = np.stack([cmap[0][index], cmap[1][index], cmap[2][index]], axis=-1)
    return rgb, "YXS", sat, bits, f"palette applied -> RGB ({np.dtype(dtype).name})"


# ----------------------------------------------------------------------------------
# GE / Molecular Dynamics .gel

def _read_mdgel(tif, path, polarity, max_pixels, mode) -> Image:
    page = None
    for p in tif.pages[:2]:
        if 33445 in p.tags:
            page = p
            break
    if page is None:
        raise ImageReadError("MD .gel file without an MD_FileTag", path=path)
    md = {name: _tag(page, code) for code, name in MD_TAGS.items() if code in page.tags}
    filetag = int(md.get("MD_FileTag", 128))
    scale = md.get("MD_ScalePixel", (1, 1))
    if not isinstance(scale, tuple):
        scale = (float(scale), 1)
    num, den = int(scale[0]), int(scale[1]) if int(scale[1]) else 1
    check_pixels(path, page.shape[:2], 1, max_pixels)
    try:
        stored = page.asarray()
    except Exception as err:
        raise ImageReadError(f"cannot decode the pixel data, the file is corrupt or "
                             f"truncated ({type(err).__name__}: {err})", path=path) from err
    if stored.ndim != 2 or not np.issubdtype(stored.dtype, np.unsignedinteger):
        raise UnsupportedImageError(f"MD .gel with {stored.dtype} data of shape "
                                    f"{stored.shape} is not supported", path=path)
    extra = {}
    for k, v in md.items():
        if k == "MD_ColorTable":
            extra[k] = f"{np.size(v)} entries"
        elif k == "MD_ScalePixel":
            extra[k] = f"{num}/{den}"
        else:
            extra[k] = v.strip() if isinstance(v, str) else v
    stored_max = float(np.iinfo(stored.dtype).max)
    notes = []
    if filetag == 2:
        sq = stored.astype(np.uint64) ** 2
        if den == 1:
            data = sq * np.uint64(num)
            top = int(stored_max) ** 2 * num
            data = data.astype(np.uint32) if top <= np.iinfo(np.uint32).max else data
            kind = f"exact integers ({data.dtype.name})"
        else:
            data = sq.astype(np.float64) * num / den  # exact product, one rounding
            top = stored_max ** 2 * num / den
            kind = "float64"
        sat = float(top)
        bits = int(math.ceil(math.log2(top + 1))) if top > 0 else 1
        notes.append(f"MD .gel square-root encoding decoded: counts = stored^2 x "
                     f"{num}/{den} ({kind})")
    else:
        data, sat, bits = stored, stored_max, stored.dtype.itemsize * 8
        if filetag != 128:
            notes.append(f"unknown MD_FileTag {filetag}: values kept as stored (linear)")
        if (num, den) != (1, 1):
            extra["note"] = "linear MD .gel: MD_ScalePixel not applied"
    size, size_src = _resolution_um(tif, page)
    if size_src:
        extra["pixel_size_source"] = size_src
    dec = Decoded(data=data, axes="YX", fmt="mdgel", bit_depth=bits, saturation_level=sat,
                  pixel_size_um=size, lossy=page.compression in LOSSY_COMPRESSIONS,
                  conversion=notes, extra=extra)
    return finish(path, dec, mode, polarity)


# ----------------------------------------------------------------------------------
# lazy pyramids

class LazyLevel:
    """One pyramid level: the zarr array of the file's tiles, opened on first use.

    ``shape``, ``dtype``, ``ndim`` and ``chunks`` come from the TIFF structure;
    anything else (indexing, ``np.asarray``, zarr attributes) opens the zarr
    store of the series (once, shared by its levels) and goes to that array.
    Whole-slide pixel and cell mode decode stored tiles themselves
    (:mod:`blotquant.io._slide_tiles`) and only need the shapes, so they never
    import zarr (0.3 s of start-up)."""

    def __init__(self, opener, index, shape, dtype, chunks):
        self._opener, self._index = opener, index
        self.shape, self.dtype, self.chunks = tuple(shape), np.dtype(dtype), tuple(chunks)
        self.ndim = len(self.shape)

    @property
    def array(self):
        """The zarr array (opened now if it was not)."""
        return self._opener(self._index)

    def __getitem__(self, key):
        return self.array[key]

    def __array__(self, dtype=None, copy=None):
        a = np.asarray(self.array[...])
        return a if dtype is None else a.astype(dtype, copy=False)

    def __len__(self):
        return self.shape[0]

    def __getattr__(self, name):
        if name.startswith("__") or name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.array, name)

    def __repr__(self):
        return f"LazyLevel(shape={self.shape}, dtype={self.dtype.name}, chunks={self.chunks})"


def as_zarr(a):
    """The zarr array behind a :class:`LazyLevel`; anything else as it is."""
    return a.array if isinstance(a, LazyLevel) else a


def _zarr_levels(series, path):
    """The series' levels as zarr arrays (opens the store)."""
    import zarr

    try:
        store = series.aszarr()
        group = zarr.open(store, mode="r")
        if isinstance(group, zarr.Array):
            return (group,)
        return tuple(group[str(i)] for i in range(len(series.levels)))
    except Exception as err:
        raise ImageReadError(f"cannot open the image pyramid ({type(err).__name__}: {err})",
                             path=path) from err


def _lazy_levels(series, path):
    """:class:`LazyLevel` views of the levels when each is one tiled 2-D page whose
    tile shape is the zarr chunk shape (RGB ``YXS`` and gray ``YX`` tiled
    pyramids: SVS, OME-TIFF, generic); None otherwise (the caller opens zarr)."""
    info = []
    for lv in series.levels:
        kf = lv.keyframe
        shape = tuple(int(v) for v in lv.shape)
        if (len(lv.pages) != 1 or not kf.is_tiled or kf.tiledepth != 1 or kf.imagedepth != 1
                or tuple(kf.chunks) != (kf.tilelength, kf.tilewidth) + shape[2:]
                or len(shape) not in (2, 3) or 0 in shape
                or (len(shape) == 3 and (kf.planarconfig != 1 or shape[2] == 1))):
            return None
        info.append((shape, lv.dtype, tuple(int(v) for v in kf.chunks)))
    opened: dict = {}
    import threading
    lock = threading.Lock()

    def opener(i):
        z = opened.get("levels")
        if z is None:
            with lock:
                z = opened.get("levels")
                if z is None:
                    z = opened["levels"] = _zarr_levels(series, path)
        return z[i]

    return tuple(LazyLevel(opener, i, *x) for i, x in enumerate(info))


def _read_pyramid(tif, path, series, mode, polarity) -> Image:
    from ._polarity import detect_polarity
    from ._color import to_gray

    page = series.keyframe
    axes = series.axes
    if axes not in ("YX", "YXS", "CYX"):
        raise UnsupportedImageError(
            f"whole-slide image with axes {axes!r} (shape {series.shape}) is not supported; "
            "supported: YX, YXS (RGB), CYX", path=path)
    levels = _lazy_levels(series, path) or _zarr_levels(series, path)
    if np.issubdtype(levels[0].dtype, np.complexfloating):
        raise UnsupportedImageError(f"complex pixel data ({levels[0].dtype})", path=path)
    shape = tuple(levels[0].shape)
    yx = (shape[axes.index("Y")], shape[axes.index("X")])
    if min(yx) < 2:
        raise InvalidImageError(f"the image is only {yx[0]} x {yx[1]} pixels", path=path)
    fmt = "svs" if tif.is_svs else ("ome-tiff" if tif.is_ome else "pyramidal-tiff")
    sat, bits, sat_src = _saturation(tif, page, levels[0].dtype)
    size, size_src = _pixel_size(tif, page)
    extra = {"level_shapes": str([tuple(lv.shape) for lv in levels]),
             "tile_shape": str(tuple(levels[0].chunks))}
    if sat_src:
        extra["saturation_source"] = sat_src
    if size_src:
        extra["pixel_size_source"] = size_src
    size = screen_pixel_size(size, size_src, extra)
    notes = ["opened lazily (tiles read on access)"]
    out_axes = {"YX": "YX", "YXS": "YXC", "CYX": "CYX"}[axes]
    names = _channel_names(tif, series, shape[0]) if axes == "CYX" else ()
    if axes == "YXS" and shape[-1] != 3:
        notes.append(f"{shape[-1]} samples per pixel kept as is (alpha not composited lazily)")
    md = ImageMetadata(
        path=str(path), format=fmt, axes=out_axes, dtype=np.dtype(levels[0].dtype).name,
        shape=shape, bit_depth=int(bits), saturation_level=float(sat), pixel_size_um=size,
        lossy=page.compression in LOSSY_COMPRESSIONS, conversion="; ".join(notes),
        channels_equal=None, polarity=None, polarity_source="auto", channel_names=names,
        n_levels=len(levels), extra=extra)
    img = Image(levels[0], md, levels)
    img._tiff = tif  # keep the file handle alive as long as the image
    if polarity != "auto":
        md = md.replace(polarity=polarity, polarity_source="user")
        img.metadata = md
    if out_axes == "YXC" and mode == "gray":
        img = to_gray(img)
        img._tiff = tif
    elif out_axes == "YX" and mode == "rgb":
        import dask.array as da
        lv = tuple(da.stack([da.from_zarr(as_zarr(x))] * 3, axis=-1) for x in levels)
        img = Image(lv[0], md.replace(axes="YXC", shape=tuple(lv[0].shape), channels_equal=True,
                                      conversion=md.conversion + "; gray replicated to 3 "
                                      "RGB channels (mode='rgb', lazy)"), lv)
        img._tiff = tif
    elif out_axes == "CYX" and mode != "auto":
        from ..errors import ParameterError
        raise ParameterError(f"mode={mode!r} cannot be applied to a channel stack; use "
                             "mode='auto'", path=path)
    if img.metadata.axes == "YX" and img.metadata.polarity is None:
        small = img.levels[-1]
        if int(np.prod(small.shape)) <= POLARITY_MAX_LAZY_PIXELS:
            img.metadata = img.metadata.replace(polarity=detect_polarity(np.asarray(small)))
    return img
