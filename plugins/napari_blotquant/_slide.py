"""Full-resolution slide review in napari, without Qt: scoring steps, overlays, review sidecar.

- :func:`score_slide_steps` -- a generator for ``napari.qt.threading.thread_worker``:
  it yields :class:`~blotquant.ihc.slide.SlideProgress` while the tiles run and
  returns the :class:`~blotquant.ihc.slide.SlideResult`.
- :func:`class_map_layer` -- the class map as a multiscale Labels layer
  (lazy dask levels over the result's zarr class map), scaled onto level 0.
- :func:`visible_cells` -- cell centroids inside the current view, only when
  the view is small enough (zoomed in); else none.
- :func:`slide_review` / :func:`review_score_kwargs` -- the saved review
  (``.blotquant.json``: level-0 regions, the scored level, every parameter)
  and the keyword arguments that re-apply it; ``blotquant ihc SLIDE`` reads the
  same sidecar and gets the same numbers.
"""

from __future__ import annotations

import queue
import threading

import numpy as np

__all__ = ["score_slide_steps", "class_map_layer", "visible_cells", "slide_review",
           "review_score_kwargs", "MAX_VISIBLE_CELLS"]

#: Cells are drawn as points only when the view holds at most this many.
MAX_VISIBLE_CELLS = 20000


def score_slide_steps(image, params=None, *, regions=None, tile_size=None, workers=None,
                      image_name=None, **overrides):
    """Generator: score a slide in the background, yielding progress.

    Parameters
    ----------
    image : Image
        The slide (lazy pyramid).
    params : IHCParams, optional
    regions : regions in level-0 pixels (a drawn region), optional
    tile_size, workers : execution settings of :func:`~blotquant.ihc.slide.score_slide`
    image_name : str, optional
    **overrides : IHCParams fields

    Yields
    ------
    SlideProgress

    Returns
    -------
    SlideResult
        (the generator's return value: ``thread_worker``'s ``returned`` signal).
    """
    from blotquant.ihc.slide import DEFAULT_TILE_SIZE, score_slide

    q: "queue.Queue" = queue.Queue()
    out: dict = {}

    def run():
        try:
            out["result"] = score_slide(image, params, regions=regions,
                                        tile_size=tile_size or DEFAULT_TILE_SIZE,
                                        workers=workers, image_name=image_name,
                                        progress=q.put, **overrides)
        except BaseException as err:  # handed to the caller's thread
            out["error"] = err
        finally:
            q.put(None)

    t = threading.Thread(target=run, name="blotquant-slide", daemon=True)
    t.start()
    while True:
        item = q.get()
        if item is None:
            break
        yield item
    t.join()
    if "error" in out:
        raise out["error"]
    return out["result"]


def class_map_layer(result, *, min_side: int = 512):
    """(data, kwargs) of a multiscale Labels layer of ``result.class_map`` over level 0.

    Levels are lazy (dask over the zarr class map, every second pixel), so
    napari reads only what it shows.

    Parameters
    ----------
    result : SlideResult
    min_side : int
        Coarser levels are added while the longer side exceeds this.

    Returns
    -------
    (list of dask arrays, dict of layer keyword arguments: scale, translate, name)
    """
    import dask.array as da

    base = da.from_zarr(result.class_map)
    levels = [base]
    while max(levels[-1].shape) > min_side:
        levels.append(levels[-1][::2, ::2])
    ds = result.downsample
    kw = {"scale": (float(ds[0]), float(ds[1])),
          "translate": ((ds[0] - 1) / 2.0, (ds[1] - 1) / 2.0),
          "name": f"{result.image_name} classes", "multiscale": True}
    return levels, kw


def visible_cells(result, top_left, bottom_right, *, max_cells: int = MAX_VISIBLE_CELLS):
    """Cells inside a view (level-0 (row, col) corners): (N, 2) points and classes.

    Returns empty arrays when more than ``max_cells`` fall in the view (zoom in).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> r = SimpleNamespace(cells=pd.DataFrame({"y": [5.0, 50.0], "x": [5.0, 50.0],
    ...                                         "class": [1, 3], "cell": [1, 2]}))
    >>> pts, cls = visible_cells(r, (0, 0), (10, 10))
    >>> pts.tolist(), cls.tolist()
    ([[5.0, 5.0]], [1])
    """
    c = result.cells
    if c is None or not len(c):
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    c = c.drop_duplicates("cell") if "cell" in c else c
    y, x = c["y"].to_numpy(float), c["x"].to_numpy(float)
    sel = (y >= top_left[0]) & (y < bottom_right[0]) & (x >= top_left[1]) & (x < bottom_right[1])
    if sel.sum() > max_cells:
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    return np.stack([y[sel], x[sel]], axis=1), c["class"].to_numpy(np.int64)[sel]


def slide_review(image, result, *, regions=None, author=None, path=None, image_name=None):
    """The review sidecar of a slide scored in napari (what Save writes).

    Records every input parameter of ``result`` (including the scored
    ``level``) and the regions in level-0 pixels, so that ``blotquant ihc
    SLIDE`` (which finds the sidecar beside the slide or in ``--out``)
    re-scores the same level and regions to the same numbers.

    Parameters
    ----------
    image : Image
    result : SlideResult
    regions : list of Region, optional
        Level-0 regions (default: ``result.regions``).
    author, path, image_name : optional

    Returns
    -------
    Corrections
    """
    from blotquant.review import ihc_corrections
    from blotquant.ihc.params import IHCParams

    p = IHCParams.from_mapping({k: result.params[k] for k in IHCParams.names()
                                if k in result.params})
    p = p.replace(level=int(result.level))
    params = p.to_dict()
    params = {k: v for k, v in params.items() if v != IHCParams.defaults().get(k)
              or k in ("mode", "thresholds", "level")}
    return ihc_corrections(image, regions=result.regions if regions is None else regions,
                           params=params, downsample=float(result.downsample[0]),
                           image_name=image_name or result.image_name, author=author,
                           path=path)


def review_score_kwargs(corr) -> dict:
    """Keyword arguments of :func:`~blotquant.ihc.slide.score_slide` from a slide review.

    Regions stay in level-0 pixels (``score_slide`` scales them onto the level).
    """
    from blotquant.review import ihc_kwargs

    return ihc_kwargs(corr)
