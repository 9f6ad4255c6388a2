"""napari reader: any image :func:`blotquant.io.read_image` understands.

Blots (TIFF, GE ``.gel``, Bio-Rad ``.scn``, PNG, JPEG, BMP) open as one image
layer with the raw pixel values; colour images as RGB; multi-channel stacks as
one layer per channel; whole-slide pyramids as a multiscale layer (all levels,
lazy).  The reader's :class:`~blotquant.image.ImageMetadata` and the path are
kept in ``layer.metadata`` so the review widgets analyse exactly what the CLI
would read.  Paths the core cannot read (by content, not by extension) get
``None`` so napari tries other readers.
"""

from __future__ import annotations

import os
from pathlib import Path

#: ``layer.metadata`` keys set by this reader (and by the sample data).
META_KEY = "blotquant_image_metadata"
PATH_KEY = "blotquant_path"


def _sniffable(path: str) -> bool:
    from blotquant.io import sniff

    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return bool(head) and sniff(head) is not None


def get_reader(path):
    """Return :func:`read_blotquant` when ``path`` is one readable file, else None."""
    if isinstance(path, (list, tuple)):
        if len(path) != 1:
            return None
        path = path[0]
    path = os.fspath(path)
    if not os.path.isfile(path) or not _sniffable(path):
        return None
    return read_blotquant


def layer_data_from_image(image, name: str | None = None) -> list[tuple]:
    """napari LayerData tuples for a :class:`blotquant.image.Image`."""
    md = image.metadata
    name = name or (Path(md.path).stem if md.path else "image")
    meta = {META_KEY: md, PATH_KEY: md.path}
    kwargs: dict = {"name": name, "metadata": meta}
    if image.is_pyramid:
        data = list(image.levels)
        kwargs["multiscale"] = True
    else:
        data = image.data
    if md.axes == "YXC":
        kwargs["rgb"] = True
    elif md.axes == "CYX":
        # one 2-D layer per channel, each with its own (YX) metadata, so the docks
        # analyse a channel exactly as quantify_blot would
        names = list(md.channel_names) or [f"{name} [{i}]" for i in range(image.shape[0])]
        colormaps = ["green", "magenta", "cyan", "yellow", "red", "blue"]
        out = []
        for i, cname in enumerate(names):
            levels = [lv[i] for lv in image.levels]
            cmd = md.replace(axes="YX", shape=tuple(levels[0].shape), channel_names=(cname,))
            kw = {"name": cname, "blending": "additive", "colormap": colormaps[i % 6],
                  "metadata": {META_KEY: cmd, PATH_KEY: md.path}}
            if image.is_pyramid:
                out.append((levels, {**kw, "multiscale": True}, "image"))
            else:
                out.append((levels[0], kw, "image"))
        return out
    else:
        sat = md.saturation_level
        if sat and sat != float("inf") and not image.is_pyramid:
            kwargs["contrast_limits"] = _contrast(image.data, sat)
    return [(data, kwargs, "image")]


def _contrast(data, sat):
    import numpy as np

    lo, hi = np.percentile(data[:: max(1, data.shape[0] // 256), :: max(1, data.shape[1] // 256)],
                           (0.5, 99.8))
    hi = float(min(max(hi, lo + 1), sat))
    return [float(lo), hi]


def read_blotquant(path) -> list[tuple]:
    """Read ``path`` with :func:`blotquant.io.read_image` (errors name the file).

    A file of several full-size images (a gel imager's chemiluminescence image
    and its marker overlay) opens as one layer per page, named ``stem [page N]``;
    each layer's metadata records its page.
    """
    from blotquant.io import count_images, read_image

    if isinstance(path, (list, tuple)):
        path = path[0]
    n = count_images(path)
    if n == 1:
        return layer_data_from_image(read_image(path))
    stem = Path(os.fspath(path)).stem
    out = []
    for k in range(1, n + 1):
        out.extend(layer_data_from_image(read_image(path, page=k), name=f"{stem} [page {k}]"))
    return out
