"""``score_ihc``: RGB brightfield image -> IHC scores per region; ``rescore``.

Pipeline: white point (estimated from glass by default) -> optical density ->
tissue mask -> H-DAB colour deconvolution (Ruifrok-Johnston vectors, or
estimated, or given) -> pixel classes (pixel mode) or cell detection and
per-cell classes (cell mode) -> counts and scores per region.

Examples
--------
>>> from blotquant.synthetic import make_ihc
>>> s = make_ihc(seed=0, shape=(128, 128))
>>> res = score_ihc(s.image, mode="pixel")
>>> bool(abs(res.summary.h_score[0] - s.truth.h_score) < 2)
True
>>> res2 = rescore(res, (0.1, 0.3, 0.5))
>>> bool(res2.summary.h_score[0] > res.summary.h_score[0])
True
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._shared.color import composite_on_white
from ..errors import AnalysisError, ParameterError
from ..image import Image
from .chroma import detect_chroma_subsampling, restore_chroma
from .deconvolution import as_stain_matrix, as_white_point, stain_maps, weighted_od_maps
from .params import RECORDED_KEYS, CellParams, IHCParams
from .regions import as_regions, region_masks, regions_to_geojson
from .result import IHCResult, apply_thresholds, rescore
from .stains import (DARK_IMAGE_LIMIT, NEAR_BLACK, estimate_stains, near_black_share, stain_fit,
                     stain_fit_note, white_point_info)
from .scale import is_software_default
from .tissue import tissue_mask as detect_tissue
from .._shared.lazy import lazy_module

pd = lazy_module("pandas")  # imported on first use (the slide CLI starts tiles first)

__all__ = ["score_ihc", "rescore", "prepare_rgb", "resolve_params", "detection_image"]


def detection_image(marker: str) -> str:
    """The image nuclei are detected on for a marker (``CellParams.detection_image=None``).

    Nuclear markers (Ki67, ER, PR, p53) stain the nucleus brown and leave it
    little hematoxylin, so their nuclei are detected on the optical density
    sum (hematoxylin + DAB, QuPath's "Optical density sum"); cytoplasmic
    markers on hematoxylin (a brown cytoplasm must not become a "nucleus").

    Examples
    --------
    >>> detection_image("nuclear"), detection_image("cytoplasmic")
    ('od_sum', 'hematoxylin')
    """
    return "od_sum" if marker == "nuclear" else "hematoxylin"



def prepare_rgb(image) -> tuple[np.ndarray, dict]:
    """Validate an IHC image and return uint8 RGB (rows, cols, 3) plus facts.

    Accepts an :class:`~blotquant.image.Image` or array: uint8 RGB as is;
    RGBA composited on white; uint16 scaled by 255 / its full scale (the
    maximum the file states, else 2**k - 1 for the fewest of 8, 10, 12, 14,
    16 bits holding its largest value: 12-bit camera data in a 16-bit file);
    float in [0, 1] scaled by 255, in [0, 255] rounded, up to 65535 scaled
    like uint16, larger refused.  Grayscale and other shapes raise
    :class:`~blotquant.errors.ParameterError`.

    Examples
    --------
    >>> rgb, info = prepare_rgb(np.ones((4, 4, 3), float))
    >>> rgb.dtype.name, int(rgb.max()), info["conversion"]
    ('uint8', 255, 'float [0, 1] scaled to 8-bit')
    """
    info = {"name": None, "pixel_size_um": None, "conversion": None, "path": None}
    data = image
    if isinstance(image, Image):
        md = image.metadata
        info["pixel_size_um"] = md.pixel_size_um
        info["path"] = md.path
        if md.path:
            info["name"] = Path(md.path).name
        data = image.data
    a = np.asarray(data)
    where = f" ({info['path']})" if info["path"] else ""
    if a.ndim == 2 or (a.ndim == 3 and a.shape[-1] == 1):
        raise ParameterError(
            f"score_ihc needs an RGB brightfield image{where}, got a single-channel "
            f"(grayscale) image of shape {a.shape}: hematoxylin and DAB are separated by colour. "
            "Use the original colour scan (read_image(path, mode='rgb')).")
    if a.ndim != 3 or a.shape[-1] not in (3, 4):
        raise ParameterError(
            f"score_ihc needs an RGB image (rows, cols, 3){where}, got shape {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 2:
        raise ParameterError(f"image{where} is too small to score: shape {a.shape}")
    conv = []
    stated = None
    if isinstance(image, Image):
        sl = image.metadata.saturation_level
        stated = float(sl) if sl is not None and np.isfinite(sl) else None
    if a.dtype == np.uint8:
        rgb = a
    elif a.dtype == np.uint16:
        top, how = _white_of_16bit(a, stated)
        rgb = np.rint(np.clip(a.astype(np.float32) * np.float32(255.0 / top), 0, 255)
                      ).astype(np.uint8)
        conv.append(f"16-bit scaled to 8-bit ({how})")
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ParameterError(f"image{where} contains NaN or infinite values")
        amax = float(a.max())
        if amax <= 1.0:
            rgb = np.rint(np.clip(a, 0, 1) * 255).astype(np.uint8)
            conv.append("float [0, 1] scaled to 8-bit")
        elif amax <= 255.0:
            rgb = np.rint(np.clip(a, 0, 255)).astype(np.uint8)
            conv.append("float [0, 255] rounded to 8-bit")
        elif amax <= 65535.0:
            top = float(2 ** _container_bits(amax) - 1)
            rgb = np.rint(np.clip(a * (255.0 / top), 0, 255)).astype(np.uint8)
            conv.append(f"float [0, {top:g}] scaled to 8-bit")
        else:
            raise ParameterError(
                f"image{where} is float RGB with values up to {amax:g}: not a 0-1, 0-255 or "
                "0-65535 range, so its white is unknown; export it as 8- or 16-bit RGB")
    elif a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.number):
        raise ParameterError(f"image{where} has unsupported dtype {a.dtype}")
    else:
        rgb = np.clip(a, 0, 255).astype(np.uint8)
        conv.append(f"{a.dtype} clipped to 8-bit")
    if rgb.shape[-1] == 4:
        rgb = composite_on_white(rgb[..., :3], rgb[..., 3])
        conv.append("RGBA composited on white")
    # identical channels with real content = a grayscale image (blank glass tiles are fine)
    if (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
            and int(rgb[..., 0].max()) - int(rgb[..., 0].min()) > 10):
        raise ParameterError(
            f"score_ihc needs an RGB brightfield image{where}, but all three colour channels "
            "are identical (a grayscale image saved as RGB): hematoxylin and DAB cannot be "
            "separated. Use the original colour scan.")
    info["conversion"] = "; ".join(conv) or None
    return np.ascontiguousarray(rgb), info


#: Bit depths of camera data stored in a 16-bit container (or float) RGB image.
_CONTAINER_BITS = (8, 10, 12, 14, 16)


def _container_bits(max_value: float) -> int:
    """The fewest bits of :data:`_CONTAINER_BITS` that hold ``max_value``."""
    return next((b for b in _CONTAINER_BITS if max_value <= 2 ** b - 1), 16)


def _white_of_16bit(a: np.ndarray, stated: float | None) -> tuple[float, str]:
    """The full-scale value of uint16 RGB data and how it was known.

    A brightfield image's glass is near the top of the camera's range, so a
    16-bit image whose values stop at 4095 holds 12-bit camera data: scaled by
    65535 its glass would read as a dark stain.  The file's own statement
    (MaxSampleValue, BitsPerSample, sBIT, JPEG precision) wins.
    """
    if stated is not None and 0 < stated < 65535:
        return stated, f"the file states a maximum of {stated:g}"
    bits = _container_bits(float(a.max(initial=0)))
    if bits < 16:
        return float(2 ** bits - 1), (f"values stop at {int(a.max())}: {bits}-bit data in a "
                                      f"16-bit container, full scale {2 ** bits - 1}")
    return 65535.0, "full scale 65535"


def _parse_white_point(white_point):
    if isinstance(white_point, str):
        wp = white_point.strip().lower()
        if wp == "auto":
            return "auto"
        try:
            vals = [float(v) for v in wp.split(",")]
        except ValueError:
            raise ParameterError(
                f"white point {white_point!r}: use 'auto', a number (255) or r,g,b") from None
        return as_white_point(vals[0] if len(vals) == 1 else vals)
    return as_white_point(white_point)


def _pixel_area_um2(pixel_size_um):
    if pixel_size_um is None:
        return None
    ps = np.atleast_1d(np.asarray(pixel_size_um, float))
    if ps.size == 1:
        ps = np.repeat(ps, 2)
    if ps.size != 2 or np.any(~np.isfinite(ps)) or np.any(ps <= 0):
        raise ParameterError(f"pixel_size_um must be > 0 (um/px), got {pixel_size_um!r}")
    return float(ps[0] * ps[1]), (float(ps[0]), float(ps[1]))


def _regions_digest(regs) -> str | None:
    """Short digest of the region geometry (so params_hash changes with the polygons)."""
    if not regs:
        return None
    import hashlib
    import json
    text = json.dumps(regions_to_geojson(regs), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_params(params: IHCParams | None, overrides: dict) -> IHCParams:
    """An :class:`IHCParams` from a base model and keyword overrides (old keyword API too).

    Parameters
    ----------
    params : IHCParams or None
    overrides : dict
        IHCParams fields; ``cell_params`` (dict) updates the nested cell
        parameters; ``tissue`` may be a mask (taken as a given tissue mask);
        recorded outputs (``RECORDED_KEYS``) are ignored.

    Returns
    -------
    IHCParams
    """
    if params is not None and not isinstance(params, IHCParams):
        raise ParameterError(f"params must be an IHCParams, got {type(params).__name__}")
    kw = {k: v for k, v in overrides.items() if k not in RECORDED_KEYS}
    cell_kw = kw.pop("cell_params", None)
    if isinstance(kw.get("tissue"), np.ndarray):
        kw["tissue"] = True
    if isinstance(kw.get("tissue"), str):
        if kw["tissue"] not in ("detected", "auto", "all pixels", "none", "user"):
            raise ParameterError(f"tissue must be True, False or a mask, got {kw['tissue']!r}")
        kw["tissue"] = kw["tissue"] in ("detected", "auto", "user")
    base = params if params is not None else IHCParams()
    if cell_kw:
        cell = kw.get("cell", base.cell)
        cell = cell if isinstance(cell, CellParams) else CellParams.from_mapping(dict(cell))
        kw["cell"] = cell.replace(**{k: v for k, v in dict(cell_kw).items()
                                     if k not in ("pixel_size_um", "pixel_size_source")
                                     and not k.endswith("_px")})
    return base.replace(**kw) if params is not None else IHCParams.from_mapping(kw)


def score_ihc(rgb, params: IHCParams | None = None, *, regions=None, tissue_mask=None,
              image_name: str | None = None, **overrides) -> IHCResult:
    """Score an H-DAB image: per-region H-score, % positive, Allred, IRS.

    Parameters
    ----------
    rgb : uint8 RGB array (rows, cols, 3) or :class:`~blotquant.image.Image`
        Brightfield H-DAB image (RGBA is composited on white; 16-bit/float scaled).
    params : IHCParams, optional
        Every analysis parameter (:class:`~blotquant.ihc.params.IHCParams`:
        mode, marker, thresholds, stains, white point, pixel size, tissue
        detection, cell detection, ...).  Default: ``IHCParams()``.
    regions : list of Region, GeoJSON dict/text/path, or None
        Include/exclude polygons (QuPath GeoJSON); None = whole image.
    tissue_mask : bool array, optional
        A tissue mask to use instead of detecting tissue.
    image_name : str, optional
        ``image`` column (default: the file name, else "image").
    **overrides
        Fields of :class:`IHCParams` (``mode="pixel"``, ``thresholds=...``);
        ``cell_params`` (a dict) updates ``params.cell``; the derived entries
        of a previous ``IHCResult.params`` are ignored, so ``score_ihc(img,
        **result.params)`` reproduces a result.  Unknown names raise
        :class:`~blotquant.errors.ParameterError`.

    Returns
    -------
    IHCResult

    Raises
    ------
    ParameterError
        Grayscale input, bad thresholds/stains/white point/regions.
    StainEstimationError
        ``stains="estimate"`` on an image with too few stained pixels.

    Examples
    --------
    >>> from blotquant.synthetic import make_ihc
    >>> s = make_ihc(seed=4, shape=(96, 96), white_point=(240, 235, 245))
    >>> r = score_ihc(s.image, mode="pixel")
    >>> r.white_point.round().tolist(), list(r.summary.region)
    ([240.0, 235.0, 245.0], ['image'])
    """
    P = resolve_params(params, overrides)
    if isinstance(overrides.get("tissue"), np.ndarray):
        tissue_mask = overrides["tissue"]
    mode, t, chroma = P.mode, P.thresholds, P.chroma
    compartment = P.compartment_used()
    img, info = prepare_rgb(rgb)
    shape = img.shape[:2]
    chroma_kind, chroma_restored = None, False
    if chroma == "auto":
        cinfo = detect_chroma_subsampling(img)
        chroma_kind = cinfo["subsampling"]
        if chroma_kind == "4:2:0" and mode == "pixel":
            img = restore_chroma(img, phase=cinfo["phase"])
            chroma_restored = True
    elif chroma == "4:2:0":
        chroma_kind = "given"
        img = restore_chroma(img)
        chroma_restored = True
    pixel_size_um, pixel_size_source = P.pixel_size_um, "user"
    pixel_size_note = ""
    if pixel_size_um is None and P.magnification is not None:
        pixel_size_um, pixel_size_source = P.magnification_pixel_size(), "magnification"
    if pixel_size_um is None:
        pixel_size_um, pixel_size_source = info["pixel_size_um"], "file"
        if pixel_size_um is not None and is_software_default(pixel_size_um):
            v = float(np.atleast_1d(pixel_size_um)[0])
            pixel_size_note = (f"the file's pixel size ({v:.4g} um/px = {25400 / v:.0f} dpi) is a "
                               "software default, not a microscope calibration: ignored")
            pixel_size_um = None
    if pixel_size_um is None:
        pixel_size_source = "unknown"
    pa = _pixel_area_um2(pixel_size_um)
    px_area, pixel_size_um = (pa if pa is not None else (None, None))
    name = image_name or info["name"] or "image"

    # white point
    wp_req = _parse_white_point(P.white_point)
    if isinstance(wp_req, str):
        wpi = white_point_info(img)
        wp, wp_source, wp_note = wpi["white_point"], wpi["source"], wpi["reason"]
    else:
        wp, wp_source, wp_note = wp_req, "user", ""
        if np.any(np.asarray(wp, float) > 255):
            raise ParameterError(
                f"white point {P.white_point} is above 255, the brightest value of the 8-bit "
                "RGB image that is scored: give the glass colour in 0-255 (e.g. 242,238,246) "
                "or 'auto'")

    # regions
    regs = as_regions(regions, exclude_classes=P.exclude_classes)
    rmasks = region_masks(regs, shape)
    union = np.zeros(shape, bool)
    for m in rmasks.values():
        union |= m

    # what the user typed is checked first, then the image itself
    dark = near_black_share(img, mask=union if regs else None)
    if dark > DARK_IMAGE_LIMIT:
        raise AnalysisError(
            f"{dark:.0%} of the image is near black (every channel below {NEAR_BLACK}): a "
            "brightfield H-DAB image is light where there is no stain, so this looks like a "
            "fluorescence, dark-field or inverted image, which cannot be scored as H-DAB; use "
            "the brightfield scan (or invert it back); black borders or ink would be scored "
            "as stain: crop them off or leave them out with regions (--roi)")

    # with the stains known beforehand, the hematoxylin, DAB and tissue (OD sum) maps are
    # filled from one pass over the RGB (the same values as three separate passes)
    stains = P.stains
    stains_estimated = isinstance(stains, str) and stains == "estimate"
    maps = None
    if not stains_estimated and tissue_mask is None and P.tissue:
        inv = np.linalg.inv(as_stain_matrix(stains))
        maps = weighted_od_maps(img, (inv[:, 0], inv[:, 1], (1.0, 1.0, 1.0)), wp)
    tissue_in = img if maps is None else maps.pop()  # (an OD-sum map: tissue_mask's float input)

    cell_tissue = None   # where cells may be found, if not the tissue mask itself
    if tissue_mask is None:
        if P.tissue and mode != "pixel":
            tmask, cell_tissue = detect_tissue(tissue_in, white_point=wp, threshold=P.tissue_threshold,
                                               min_object_px=P.min_tissue_px,
                                               max_hole_px=P.max_hole_px, with_small=True)
        elif P.tissue:
            tmask = detect_tissue(tissue_in, white_point=wp, threshold=P.tissue_threshold,
                                  min_object_px=P.min_tissue_px, max_hole_px=P.max_hole_px)
        else:
            tmask = np.ones(shape, bool)
        tissue_source = "detected" if P.tissue else "all pixels"
    else:
        tmask = np.asarray(tissue_mask, bool)
        if tmask.shape != shape:
            raise ParameterError(f"tissue mask shape {tmask.shape} does not match image {shape}")
        tissue_source = "user"
    del tissue_in
    scored = tmask & union

    # stains
    est_info = None
    if stains_estimated:
        kw = dict(P.stain_estimation)
        est_info = estimate_stains(img, white_point=wp, mask=scored if scored.any() else None,
                                   return_info=True, **kw)
        m = est_info["matrix"]
        stain_source = "estimated"
    else:
        m = as_stain_matrix(stains)
        stain_source = "default" if (stains is None or isinstance(stains, str)) else "user"
    h_od, dab_od = stain_maps(img, m, wp) if maps is None else maps
    # colours no mix of the two stains makes (H&E scored as H-DAB, another chromogen)
    fit = stain_fit(img, m, wp, mask=scored if scored.any() else None,
                    reference=as_stain_matrix("default") if stain_source == "estimated" else None)

    # inputs (IHCParams) first, then what the run derived from them
    params = P.to_dict()
    params.update({
        "compartment_used": compartment,
        "stain_matrix": np.asarray(m, float).tolist(), "stain_source": stain_source,
        "white_point_used": np.asarray(wp, float).tolist(), "white_point_source": wp_source,
        "white_point_note": wp_note, "tissue_source": tissue_source,
        "region_names": [r.name + ":" + r.kind for r in regs],
        "regions_sha256": _regions_digest(regs),
        "pixel_size_used": None if pixel_size_um is None else list(pixel_size_um),
        "pixel_size_source": pixel_size_source, "pixel_size_note": pixel_size_note,
        "detection_image": None, "stain_fit": fit, "stain_note": stain_fit_note(fit),
        "chroma_subsampling": chroma_kind, "chroma_restored": chroma_restored,
        "input_conversion": info["conversion"], "od_convention": "QuPath log10, max(v,1), clip>=0",
    })
    if est_info is not None:
        params["stain_estimate"] = {k: v for k, v in est_info.items() if k != "matrix"}
        params["stain_estimate"].update(dict(P.stain_estimation))

    res = IHCResult(summary=pd.DataFrame(), cells=pd.DataFrame(),
                    class_map=np.zeros(shape, np.uint8),
                    dab_od=dab_od, hematoxylin_od=h_od, tissue_mask=tmask, nuclei_labels=None,
                    cell_labels=None, stains=m, white_point=np.asarray(wp, float), regions=regs,
                    params=params, region_masks=rmasks, image_name=name)
    res._cache["px_area"] = px_area
    if mode == "pixel":  # (the cell-mode rows take the mean over cells)
        res._cache["mean_dab"] = {k: float(dab_od[v & tmask].mean()) if (v & tmask).any()
                                  else math.nan for k, v in rmasks.items()}
    if mode != "pixel":
        from .cells import detect_cells  # noqa: PLC0415 (optional heavy import)
        cell_kw = P.cell.to_dict()
        if cell_kw.get("detection_image") is None:
            cell_kw["detection_image"] = detection_image(P.marker)
        # cells are looked for in the tissue with its small pieces: min_tissue_px counts
        # pixels, and at a coarse scan a lone nucleus in pale stroma is smaller than that
        # (the nucleus detector's own minimum area is in um2)
        cell_scope = scored if cell_tissue is None else cell_tissue & union
        det = detect_cells(h_od, dab_od, pixel_size_um=pixel_size_um, mask=cell_scope, **cell_kw)
        params["cell_detection"] = det.params
        params["detection_image"] = det.params["detection_image"]
        if det.params["pixel_size_source"] == "estimated":
            est = det.params["pixel_size_estimate"]
            pixel_size_um = tuple(det.params["pixel_size_um"])
            px_area = pixel_size_um[0] * pixel_size_um[1]
            res._cache["px_area"] = px_area
            params["pixel_size_used"] = list(pixel_size_um)
            params["pixel_size_source"] = "estimated"
            params["pixel_size_estimate"] = est
            note = (f"estimated from the nuclei ({est['n_nuclei']} nuclei, median equivalent "
                    f"radius {est['nucleus_radius_px']} px = {P.cell.nucleus_radius_um:g} um); "
                    "give pixel_size_um or magnification if known")
            params["pixel_size_note"] = "; ".join(x for x in (pixel_size_note, note, est["note"]) if x)
        elif det.params["pixel_size_source"] == "assumed":
            params["pixel_size_note"] = "; ".join(
                x for x in (pixel_size_note, f"assumed {P.cell.assumed_pixel_size_um:g} um/px "
                            "for cell detection") if x)
        if compartment == "nucleus":
            # the OD-sum detector follows any DAB: a cytoplasmic stain scored as nuclear
            # would pass unseen; look where the DAB lies around hematoxylin nuclei
            from .compare import nuclear_marker_check  # noqa: PLC0415
            params["marker_check"] = nuclear_marker_check(
                h_od, dab_od, cell_scope, pixel_size_um=det.params["pixel_size_um"],
                threshold=float(P.thresholds[0]), cell_params=cell_kw)
        res.nuclei_labels = det.nuclei
        res.cell_labels = det.cells
        tab = det.table
        ys = np.clip(np.rint(tab["y"].to_numpy(float)).astype(int), 0, shape[0] - 1)
        xs = np.clip(np.rint(tab["x"].to_numpy(float)).astype(int), 0, shape[1] - 1)
        parts = []
        for rname, rm in rmasks.items():
            sel = rm[ys, xs]
            part = tab.loc[sel].copy()
            part.insert(0, "region", rname)
            part.insert(0, "image", name)
            parts.append(part)
        cells = pd.concat(parts, ignore_index=True) if parts else tab.iloc[:0].copy()
        res._cache["cells_base"] = cells
    return apply_thresholds(res, t)
