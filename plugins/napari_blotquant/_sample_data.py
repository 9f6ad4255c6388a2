"""File > Open Sample: synthetic blots (with ground truth) and the skimage IHC image."""

from __future__ import annotations

from ._reader import META_KEY, PATH_KEY


def _blot_layer(blot, name: str) -> list[tuple]:
    from blotquant.image import Image

    truth = blot.truth
    img = Image.from_array(blot.image, saturation_level=truth.saturation_level,
                           polarity=truth.polarity)
    md = img.metadata.replace(extra={"synthetic": True, "seed": blot.params.get("seed")})
    hi = float(min(truth.saturation_level, blot.image.max()))
    return [(blot.image, {"name": name, "colormap": "gray",
                          "contrast_limits": [float(blot.image.min()), hi],
                          "metadata": {META_KEY: md, PATH_KEY: None,
                                       "blotquant_truth": truth}}, "image")]


def synthetic_blot() -> list[tuple]:
    """An 8-lane synthetic blot (ASNS target, ACTB control) with exact ground truth."""
    from blotquant.synthetic import make_blot

    return _blot_layer(make_blot(seed=0, smile_px=4.0, tilt_deg=0.5),
                       "synthetic blot")


def synthetic_two_strip_blot() -> list[tuple]:
    """Membrane cut in two strips: target on the upper, loading control on the lower."""
    from blotquant.synthetic import make_blot

    return _blot_layer(make_blot(seed=1, two_strips=True, rows=("ASNS", "ACTB")),
                       "two-strip blot")


def ihc_colon() -> list[tuple]:
    """scikit-image's IHC colon image (DAB + hematoxylin), 512 x 512 RGB."""
    import skimage.data

    from blotquant.image import Image

    rgb = skimage.data.immunohistochemistry()
    md = Image.from_array(rgb).metadata.replace(extra={"source": "skimage.data"})
    return [(rgb, {"name": "IHC colon", "rgb": True,
                   "metadata": {META_KEY: md, PATH_KEY: None}}, "image")]
