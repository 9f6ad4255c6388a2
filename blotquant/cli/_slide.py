"""``blotquant ihc SLIDE`` on whole-slide pyramids: tiled scoring through ``score_slide``.

``cli/ihc.py`` calls :func:`add_slide_arguments` when it builds its parser
and :func:`run_slide` when the image read is a pyramid (:func:`is_slide`).

Writes into ``--out`` (each file under a temporary name, renamed at the end;
an interrupted run leaves none of them):

- ``summary.<fmt>``: one row per region, the columns of ``blotquant ihc``;
- ``cells.parquet``: one row per cell and region, ``y``/``x`` in level-0 pixels
  (cell mode; header only in pixel mode);
- ``tiles.csv``: the scored tiles (window on the scored level, seconds);
- ``params.json``: every parameter, the level, white point, stains, timing;
- ``<stem>_classes.ome.tif``: the class map, tiled pyramidal OME-TIFF;
- ``<stem>_overlay.png``: class colours over a low-resolution level.

With local threads, the pyramid and the overlay are written while the tiles
run (:class:`~blotquant.io.slide_writers.ClassMapTiles` with ``stream_to`` and
``overlay_to``), so that after the last tile only the small tables are left.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..errors import ParameterError

__all__ = ["add_slide_arguments", "is_slide", "run_slide", "slide_options"]


def add_slide_arguments(parser) -> None:
    """Add ``--tile-size``, ``--workers`` and ``--scheduler`` (execution settings only).

    They never change the numbers (and are not part of ``params_hash``).
    """
    g = parser.add_argument_group("whole slides (pyramids)")
    g.add_argument("--tile-size", type=int, default=None, metavar="PX",
                   help="tile edge on the scored level (default: "
                        "blotquant.ihc.slide.DEFAULT_TILE_SIZE, 2048; does not change the results)")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local worker threads (default: one per core)")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the tiles on a dask.distributed cluster (tcp://host:8786), "
                        "or 'processes' for local processes")


def slide_options(args) -> dict:
    """``tile_size``, ``workers``, ``scheduler`` of parsed arguments (checked).

    Examples
    --------
    >>> import argparse
    >>> slide_options(argparse.Namespace(tile_size=1024, workers=None, scheduler=None))
    {'tile_size': 1024, 'workers': None, 'scheduler': None}
    """
    ts = getattr(args, "tile_size", None)
    workers = getattr(args, "workers", None)
    if ts is not None and ts < 64:
        raise ParameterError(f"--tile-size must be at least 64 px, got {ts}")
    if workers is not None and workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {workers}")
    from ..ihc.slide import DEFAULT_TILE_SIZE

    return {"tile_size": int(ts or DEFAULT_TILE_SIZE), "workers": workers,
            "scheduler": getattr(args, "scheduler", None)}


def is_slide(image) -> bool:
    """True for images scored tile by tile: lazy pyramids and lazily opened big TIFFs."""
    return (bool(getattr(image, "is_pyramid", False)) or not isinstance(image.data, np.ndarray)
            or image.metadata.format == "svs")


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Bar:
    """tqdm progress bar on stderr (silent when stderr is not a terminal)."""

    def __init__(self, label):
        self.label = label
        self.bar = None
        self.off = False

    def __call__(self, info):
        if self.bar is None:
            if self.off or not _is_terminal(sys.stderr):
                self.off = True                  # tqdm would be silent: not even imported
                return
            from tqdm import tqdm

            self.bar = tqdm(total=info.total, unit="tile", desc=self.label, file=sys.stderr,
                            disable=None, mininterval=0.5, dynamic_ncols=True)
        self.bar.n = info.done
        self.bar.set_postfix_str(f"{info.rate_mpix_s:.0f} Mpx/s", refresh=False)
        self.bar.refresh() if info.done == info.total else self.bar.update(0)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class _Preload:
    """Import modules in a background thread, once (started while the tiles run, whose
    work is mostly outside the GIL, so that writing the outputs need not wait for it)."""

    def __init__(self, *names):
        self.names, self.thread = names, None

    def start(self):
        if self.thread is None:
            import importlib
            import threading

            def run():
                for name in self.names:
                    try:
                        importlib.import_module(name)
                    except ImportError:        # reported where the module is used
                        pass

            self.thread = threading.Thread(target=run, name="blotquant-preload", daemon=True)
            self.thread.start()


def run_slide(args, image, params, *, regions=None, sidecar=None, out_dir=None) -> int:
    """Score a slide with :func:`~blotquant.ihc.slide.score_slide` and write the outputs.

    Parameters
    ----------
    args : argparse.Namespace
        ``image``, ``out``, ``format``, ``roi`` and the options of
        :func:`add_slide_arguments`.
    image : Image
        The slide, from ``read_image(path, mode="rgb")``.
    params : IHCParams
    regions : regions, optional
        Level-0 include/exclude regions (``--roi`` or a review sidecar).
    sidecar : str, optional
        The review sidecar applied (recorded in params.json).
    out_dir : path, optional
        Output folder (default ``args.out``).

    Returns
    -------
    int
        Exit status 0.
    """
    from ..ihc.slide import score_slide
    from ..io.slide_writers import (ClassMapTiles, write_cells_parquet,
                                    write_class_map_ome_tiff, write_slide_overlay)
    from ..tables import write_json, write_table

    opts = slide_options(args)
    out = Path(out_dir if out_dir is not None else args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = Path(args.image).name
    stem = Path(args.image).stem
    work = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".zarr.part", dir=out))
    stage = Path(tempfile.mkdtemp(prefix=f".{stem}.", suffix=".out.part", dir=out))
    bar = _Bar(stem)
    store = None
    overlay_path = stage / f"{stem}_overlay.png"
    # the tables' libraries, imported while the tiles run (pandas for the tables,
    # pyarrow for cells.parquet), so that writing the outputs need not wait for them
    preload = _Preload("pandas", "pyarrow.parquet")

    def progress(info):
        preload.start()
        bar(info)

    try:
        if opts["scheduler"] != "processes":
            # the workers compress the class map's TIFF tiles and paint the overlay as
            # they go; threads write the pyramid file and the overlay PNG meanwhile
            store = ClassMapTiles(work, stream_to=stage / f"{stem}_classes.ome.tif",
                                  overlay_to=overlay_path)
        else:   # other processes write a zarr folder
            import zarr

            store = zarr.storage.LocalStore(str(work))
        try:
            res = score_slide(image, params, regions=regions, image_name=name,
                              class_map=store, progress=progress, **opts)
        except ParameterError as err:
            if err.path is None:
                raise ParameterError(err.problem, path=args.image) from None
            raise
        finally:
            bar.close()
        t_write = time.perf_counter()
        fmt = getattr(args, "format", "csv") or "csv"
        ps = res.params.get("pixel_size_used")
        written = [write_table(res.summary, stage / "summary.csv", fmt=fmt),
                   write_cells_parquet(res.cells, stage / "cells.parquet"),
                   write_table(res.tiles, stage / "tiles.csv", fmt="csv")]
        streamed = isinstance(res.class_map, ClassMapTiles)
        if streamed:                                   # written while scoring
            cm_path = res.class_map.finish_writing()
            ov_path = res.class_map.finish_overlay()
        else:
            cm_path = write_class_map_ome_tiff(res.class_map, stage / f"{stem}_classes.ome.tif",
                                               pixel_size_um=ps, workers=opts["workers"])
            ov_path = None
        written.append(cm_path)
        if ov_path is None:                # not streamed: from the low-resolution level
            from ..ihc.slide import lowres_rgb

            low = res.lowres if res.lowres is not None else lowres_rgb(image, res.tissue_level)
            ov_path = write_slide_overlay(
                low, res.class_map.level_at_least(low.shape[:2]) if streamed else cm_path,
                overlay_path)
        written.append(ov_path)
        p = dict(res.params)
        p.update({"image": str(args.image), "roi": getattr(args, "roi", None),
                  "corrections": sidecar, "image_metadata": image.metadata.as_dict(),
                  "execution": {k: (str(v) if v is not None else None) for k, v in opts.items()},
                  "timing": {**res.timing, "write_s": time.perf_counter() - t_write}})
        written.append(write_json(p, stage / "params.json"))
        for f in written:                  # all or nothing: move into place at the very end
            os.replace(f, out / Path(f).name)
    finally:
        if isinstance(store, ClassMapTiles):
            store.close()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(stage, ignore_errors=True)
    from .ihc import print_scores
    print_scores(res)
    return 0
